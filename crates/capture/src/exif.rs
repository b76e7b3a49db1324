//! The EXIF fields generators write to: UserComment above all, also ImageDescription,
//! Software and MakerNote.

use exif::{In, Value};

/// The fields of one EXIF block that carry generation metadata.
#[derive(Debug, Default)]
pub(crate) struct ExifText {
    pub user_comment: Option<String>,
    pub image_description: Option<String>,
    pub software: Option<String>,
    pub maker_note: Option<String>,
}

pub(crate) fn read(tiff: &[u8]) -> Result<ExifText, String> {
    let big_endian = tiff.starts_with(b"MM");
    let exif = exif::Reader::new().read_raw(tiff.to_vec()).map_err(|e| e.to_string())?;
    // By tag number in the primary image's IFD0 or Exif IFD: PIL's top-level `Exif` (used by
    // Fooocus) writes UserComment and MakerNote into IFD0, piexif into the Exif IFD.
    let field = |number: u16| {
        exif.fields().find(|f| f.ifd_num == In::PRIMARY && f.tag.number() == number).map(|f| &f.value)
    };
    Ok(ExifText {
        user_comment: field(0x9286).and_then(|v| match v {
            Value::Undefined(bytes, _) => decode_user_comment(bytes, big_endian),
            other => ascii(other),
        }),
        image_description: field(0x010E).and_then(ascii),
        software: field(0x0131).and_then(ascii),
        maker_note: field(0x927C).and_then(|v| match v {
            Value::Undefined(bytes, _) => {
                Some(String::from_utf8_lossy(bytes).trim_end_matches('\0').to_owned())
            }
            other => ascii(other),
        }),
    })
}

/// ASCII-typed fields; many writers put UTF-8 there.
fn ascii(value: &Value) -> Option<String> {
    match value {
        Value::Ascii(parts) => {
            let joined: Vec<u8> = parts.join(&b'\n');
            let s = String::from_utf8_lossy(&joined).trim_end_matches('\0').to_owned();
            (!s.is_empty()).then_some(s)
        }
        Value::Undefined(bytes, _) | Value::Byte(bytes) => {
            let s = String::from_utf8_lossy(bytes).trim_end_matches('\0').to_owned();
            (!s.is_empty()).then_some(s)
        }
        _ => None,
    }
}

/// Decodes an EXIF UserComment: an 8-byte character-code header, then the text.
///
/// `UNICODE` is UTF-16 whose byte order the standard leaves open: piexif (AUTOMATIC1111)
/// writes big-endian whatever the TIFF order, other writers follow the TIFF order. A byte
/// order mark decides; otherwise the order whose ASCII characters have a zero high byte;
/// otherwise the TIFF byte order.
pub fn decode_user_comment(bytes: &[u8], tiff_big_endian: bool) -> Option<String> {
    let (header, body) = if bytes.len() >= 8 { bytes.split_at(8) } else { (bytes, &[][..]) };
    let text = match header {
        b"UNICODE\0" => decode_utf16(body, tiff_big_endian),
        b"ASCII\0\0\0" | b"\0\0\0\0\0\0\0\0" | b"JIS\0\0\0\0\0" => utf8_or_latin1(body),
        // No header at all: some writers put the text in directly.
        _ => utf8_or_latin1(bytes),
    };
    let text = text.trim_end_matches(['\0', ' ']).to_owned();
    (!text.is_empty()).then_some(text)
}

fn utf8_or_latin1(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => bytes.iter().map(|&b| b as char).collect(),
    }
}

fn decode_utf16(body: &[u8], tiff_big_endian: bool) -> String {
    let (mut big, body) = match body {
        [0xFE, 0xFF, rest @ ..] => (Some(true), rest),
        [0xFF, 0xFE, rest @ ..] => (Some(false), rest),
        _ => (None, body),
    };
    if big.is_none() {
        let pairs = body.chunks_exact(2).take(512);
        let (mut be_ascii, mut le_ascii) = (0usize, 0usize);
        for p in pairs {
            if p[0] == 0 && p[1] != 0 {
                be_ascii += 1;
            } else if p[1] == 0 && p[0] != 0 {
                le_ascii += 1;
            }
        }
        big = Some(if be_ascii == le_ascii { tiff_big_endian } else { be_ascii > le_ascii });
    }
    let units = body.chunks_exact(2).map(|p| {
        if big == Some(true) { u16::from_be_bytes([p[0], p[1]]) } else { u16::from_le_bytes([p[0], p[1]]) }
    });
    char::decode_utf16(units).map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER)).collect()
}

#[cfg(test)]
mod tests {
    use super::decode_user_comment;

    fn utf16(s: &str, big: bool) -> Vec<u8> {
        let mut out = b"UNICODE\0".to_vec();
        for u in s.encode_utf16() {
            out.extend(if big { u.to_be_bytes() } else { u.to_le_bytes() });
        }
        out
    }

    #[test]
    fn utf16_in_either_byte_order_whatever_the_tiff_order() {
        let text = "a cat, 猫, Steps: 20";
        for big in [true, false] {
            for tiff_big in [true, false] {
                assert_eq!(decode_user_comment(&utf16(text, big), tiff_big).as_deref(), Some(text));
            }
        }
    }

    #[test]
    fn cjk_only_text_follows_the_tiff_byte_order() {
        let text = "猫と犬";
        assert_eq!(decode_user_comment(&utf16(text, false), false).as_deref(), Some(text));
        assert_eq!(decode_user_comment(&utf16(text, true), true).as_deref(), Some(text));
    }

    #[test]
    fn ascii_header_and_headerless() {
        assert_eq!(decode_user_comment(b"ASCII\0\0\0hello\0", false).as_deref(), Some("hello"));
        assert_eq!(decode_user_comment(b"{\"a\":1}", false).as_deref(), Some("{\"a\":1}"));
        assert_eq!(decode_user_comment(b"UNICODE\0", false), None);
    }
}
