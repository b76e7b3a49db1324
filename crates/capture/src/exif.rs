//! The EXIF fields generators write to: UserComment above all, also ImageDescription,
//! Software, MakerNote, Make, Model and DocumentName.
//!
//! A tolerant TIFF walker, reading EXIF the way exiftool does: every IFD and tag that can be
//! read is read, and a damaged part (an offset past the end, an IFD visited twice, a value
//! of an unknown type) is a warning that leaves the rest readable. Only a block without a
//! TIFF header is refused. The walk is bounded: at most [`MAX_IFDS`] IFDs and
//! [`MAX_ENTRIES`] entries, each IFD read once.

use std::collections::{HashSet, VecDeque};

/// The most IFDs read from one EXIF block (IFD0, IFD1, Exif, GPS, Interop and any chain).
pub const MAX_IFDS: usize = 32;
/// The most IFD entries read from one EXIF block, all IFDs together.
pub const MAX_ENTRIES: usize = 8192;

/// The fields of one EXIF block that carry generation metadata, and what was wrong with it.
#[derive(Debug, Default)]
pub(crate) struct ExifText {
    pub user_comment: Option<String>,
    pub image_description: Option<String>,
    pub software: Option<String>,
    pub maker_note: Option<String>,
    pub make: Option<String>,
    pub model: Option<String>,
    pub document_name: Option<String>,
    /// How many tags were read, in every IFD.
    pub tags: usize,
    /// Damage that was stepped over; what could be read was read.
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Ifd {
    /// IFD0 and the IFDs chained after it (IFD1, the thumbnail, and so on).
    Chain(u32),
    Exif,
    Gps,
    Interop,
}

impl Ifd {
    fn name(self) -> String {
        match self {
            Ifd::Chain(n) => format!("IFD{n}"),
            Ifd::Exif => "the Exif IFD".into(),
            Ifd::Gps => "the GPS IFD".into(),
            Ifd::Interop => "the Interop IFD".into(),
        }
    }

    /// IFD0 and the Exif IFD describe the primary image, where generators write.
    fn primary(self) -> bool {
        matches!(self, Ifd::Chain(0) | Ifd::Exif)
    }
}

struct Tiff<'a> {
    data: &'a [u8],
    big_endian: bool,
}

impl Tiff<'_> {
    fn bytes(&self, at: u64, len: u64) -> Option<&[u8]> {
        let end = at.checked_add(len)?;
        if end > self.data.len() as u64 {
            return None;
        }
        Some(&self.data[at as usize..end as usize])
    }

    fn u16(&self, at: u64) -> Option<u16> {
        let b: [u8; 2] = self.bytes(at, 2)?.try_into().ok()?;
        Some(if self.big_endian { u16::from_be_bytes(b) } else { u16::from_le_bytes(b) })
    }

    fn u32(&self, at: u64) -> Option<u32> {
        let b: [u8; 4] = self.bytes(at, 4)?.try_into().ok()?;
        Some(if self.big_endian { u32::from_be_bytes(b) } else { u32::from_le_bytes(b) })
    }
}

/// The size in bytes of one value of a TIFF field type; `None` for an unknown type.
fn type_size(field_type: u16) -> Option<u64> {
    Some(match field_type {
        1 | 2 | 6 | 7 => 1,   // BYTE, ASCII, SBYTE, UNDEFINED
        3 | 8 => 2,           // SHORT, SSHORT
        4 | 9 | 11 | 13 => 4, // LONG, SLONG, FLOAT, IFD
        5 | 10 | 12 => 8,     // RATIONAL, SRATIONAL, DOUBLE
        16..=18 => 8,         // BigTIFF LONG8, SLONG8, IFD8
        _ => return None,
    })
}

fn tag_name(tag: u16) -> String {
    let name = match tag {
        0x9286 => "UserComment",
        0x010E => "ImageDescription",
        0x0131 => "Software",
        0x927C => "MakerNote",
        0x010F => "Make",
        0x0110 => "Model",
        0x010D => "DocumentName",
        0x8769 => "ExifOffset",
        0x8825 => "GPSInfo",
        0xA005 => "InteropOffset",
        _ => return format!("tag 0x{tag:04x}"),
    };
    format!("tag 0x{tag:04x} ({name})")
}

/// Reads the generation-bearing fields of a raw EXIF block (TIFF header onwards). An error
/// only when there is no TIFF header at all; any other damage is a warning in the result.
pub(crate) fn read(tiff: &[u8]) -> Result<ExifText, String> {
    let big_endian = match tiff.get(..2) {
        Some(b"MM") => true,
        Some(b"II") => false,
        _ => return Err("no TIFF header (the block starts with neither II nor MM)".into()),
    };
    let t = Tiff { data: tiff, big_endian };
    match t.u16(2) {
        Some(42) => {}
        Some(n) => return Err(format!("the TIFF header's magic number is {n}, not 42")),
        None => return Err("the TIFF header is cut short".into()),
    }
    let ifd0 = t.u32(4).ok_or("the TIFF header is cut short")?;
    let mut out = ExifText::default();
    let mut queue = VecDeque::from([(ifd0, Ifd::Chain(0))]);
    let mut seen = HashSet::new();
    let mut entries_left = MAX_ENTRIES;
    let mut ifds = 0;
    while let Some((offset, ifd)) = queue.pop_front() {
        if !seen.insert(offset) {
            out.warnings
                .push(format!("{} at offset {offset} was already read (a loop); not read again", ifd.name()));
            continue;
        }
        ifds += 1;
        if ifds > MAX_IFDS {
            out.warnings.push(format!("more than {MAX_IFDS} IFDs; the rest were not read"));
            break;
        }
        let Some(count) = t.u16(offset as u64) else {
            out.warnings.push(format!(
                "{} at offset {offset} lies past the end of the EXIF block ({} bytes)",
                ifd.name(),
                tiff.len()
            ));
            continue;
        };
        let first = offset as u64 + 2;
        let fit = ((tiff.len() as u64).saturating_sub(first) / 12).min(count as u64) as usize;
        if fit < count as usize {
            out.warnings.push(format!(
                "{} at offset {offset} declares {count} entries but only {fit} fit in the EXIF block",
                ifd.name()
            ));
        }
        let take = fit.min(entries_left);
        if take < fit {
            out.warnings.push(format!("more than {MAX_ENTRIES} EXIF entries; the rest were not read"));
        }
        entries_left -= take;
        for i in 0..take {
            let at = first + 12 * i as u64;
            entry(&t, at, ifd, &mut queue, &mut out);
        }
        if entries_left == 0 && take < fit {
            break;
        }
        // The next IFD in the chain (IFD0 -> IFD1 -> ...); sub-IFDs end with 0 by rule.
        if let Ifd::Chain(n) = ifd
            && fit == count as usize
        {
            match t.u32(first + 12 * count as u64) {
                Some(0) | None => {}
                Some(next) if next as u64 + 2 > tiff.len() as u64 => out.warnings.push(format!(
                    "{}'s next-IFD offset {next} lies past the end of the EXIF block ({} bytes); ignored",
                    ifd.name(),
                    tiff.len()
                )),
                Some(next) => queue.push_back((next, Ifd::Chain(n + 1))),
            }
        }
    }
    Ok(out)
}

/// One 12-byte IFD entry: tag, type, count, value or offset.
fn entry(t: &Tiff, at: u64, ifd: Ifd, queue: &mut VecDeque<(u32, Ifd)>, out: &mut ExifText) {
    let (Some(tag), Some(field_type), Some(count)) = (t.u16(at), t.u16(at + 2), t.u32(at + 4)) else {
        return;
    };
    let Some(size) = type_size(field_type) else {
        out.warnings.push(format!(
            "{} in {} has an unknown type {field_type}; skipped",
            tag_name(tag),
            ifd.name()
        ));
        return;
    };
    let len = size * count as u64;
    let value = if len <= 4 {
        t.bytes(at + 8, len)
    } else {
        let offset = t.u32(at + 8).unwrap_or(u32::MAX) as u64;
        t.bytes(offset, len).or_else(|| {
            out.warnings.push(format!(
                "{} in {}: its {len} bytes at offset {offset} lie past the end of the EXIF block ({} bytes); skipped",
                tag_name(tag),
                ifd.name(),
                t.data.len()
            ));
            None
        })
    };
    let Some(value) = value else { return };
    out.tags += 1;
    // Sub-IFD pointers: a LONG or IFD value holding an offset.
    let pointer = || match (field_type, value.len()) {
        (4 | 13, 4..) => t.u32(at + 8),
        _ => None,
    };
    match (ifd, tag) {
        (Ifd::Chain(0), 0x8769) => queue.extend(pointer().map(|o| (o, Ifd::Exif))),
        (Ifd::Chain(0), 0x8825) => queue.extend(pointer().map(|o| (o, Ifd::Gps))),
        (Ifd::Exif, 0xA005) => queue.extend(pointer().map(|o| (o, Ifd::Interop))),
        _ => {}
    }
    if !ifd.primary() {
        return;
    }
    let slot = match tag {
        0x9286 => &mut out.user_comment,
        0x010E => &mut out.image_description,
        0x0131 => &mut out.software,
        0x927C => &mut out.maker_note,
        0x010F => &mut out.make,
        0x0110 => &mut out.model,
        0x010D => &mut out.document_name,
        _ => return,
    };
    if slot.is_some() {
        return;
    }
    *slot = match (tag, field_type) {
        // UNDEFINED by the standard; Pillow writes bytes it has no type for as BYTE.
        (0x9286, 1 | 7) => decode_user_comment(value, t.big_endian),
        (0x927C, 7) => text(value),
        (_, 1 | 2 | 7) => text(value),
        _ => None,
    };
}

/// An ASCII, BYTE or UNDEFINED value as text: UTF-8 when valid (many writers put UTF-8
/// into ASCII fields), otherwise Latin-1. NUL padding at either end is removed (NovelAI
/// starts ImageDescription with four NULs) and NULs inside separate strings, read as
/// newlines.
fn text(bytes: &[u8]) -> Option<String> {
    let start = bytes.iter().position(|&b| b != 0)?;
    let end = bytes.iter().rposition(|&b| b != 0)? + 1;
    let mut s = utf8_or_latin1(&bytes[start..end]);
    if s.contains('\0') {
        s = s.split('\0').filter(|p| !p.is_empty()).collect::<Vec<_>>().join("\n");
    }
    let s = s.trim_end().to_owned();
    (!s.is_empty()).then_some(s)
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
    use super::{MAX_IFDS, decode_user_comment, read};

    /// A big-endian TIFF: IFD0 at 8 with `entries` (tag, type, count, value-or-offset), then
    /// `next` as IFD0's next-IFD offset, then `tail` (data and further IFDs) at offset
    /// 8 + 2 + 12 * entries + 4.
    fn tiff(entries: &[(u16, u16, u32, u32)], next: u32, tail: &[u8]) -> Vec<u8> {
        let mut t = b"MM\0\x2a\0\0\0\x08".to_vec();
        t.extend((entries.len() as u16).to_be_bytes());
        for &(tag, typ, count, value) in entries {
            t.extend(tag.to_be_bytes());
            t.extend(typ.to_be_bytes());
            t.extend(count.to_be_bytes());
            t.extend(value.to_be_bytes());
        }
        t.extend(next.to_be_bytes());
        t.extend(tail);
        t
    }

    fn tail_at(entries: usize) -> u32 {
        8 + 2 + 12 * entries as u32 + 4
    }

    fn utf16_be(s: &str) -> Vec<u8> {
        let mut out = b"UNICODE\0".to_vec();
        out.extend(s.encode_utf16().flat_map(u16::to_be_bytes));
        out
    }

    #[test]
    fn piexif_sub_ifd_without_a_next_pointer_is_read_without_warnings() {
        // piexif.dump({"Exif": {UserComment: ...}}): the Exif IFD's one entry is followed
        // directly by the comment's bytes, where a next-IFD offset would be.
        let comment = utf16_be("a cat\nSteps: 20, Sampler: Euler, Seed: 1");
        let exif_at = tail_at(1);
        let mut tail = 1u16.to_be_bytes().to_vec();
        tail.extend(0x9286u16.to_be_bytes());
        tail.extend(7u16.to_be_bytes());
        tail.extend((comment.len() as u32).to_be_bytes());
        tail.extend((exif_at + 2 + 12).to_be_bytes());
        tail.extend(&comment);
        let block = tiff(&[(0x8769, 4, 1, exif_at)], 0, &tail);
        let read = read(&block).unwrap();
        assert_eq!(read.user_comment.as_deref(), Some("a cat\nSteps: 20, Sampler: Euler, Seed: 1"));
        assert!(read.warnings.is_empty(), "{:?}", read.warnings);
        assert_eq!(read.tags, 2);
    }

    #[test]
    fn a_next_ifd_past_the_end_is_a_warning_and_ifd0_is_still_read() {
        let at = tail_at(1);
        let block = tiff(&[(0x0131, 2, 8, at)], 0xFFFF_0000, b"NovelAI\0");
        let read = read(&block).unwrap();
        assert_eq!(read.software.as_deref(), Some("NovelAI"));
        assert_eq!(read.warnings.len(), 1, "{:?}", read.warnings);
        assert!(read.warnings[0].contains("next-IFD offset 4294901760"), "{:?}", read.warnings);
    }

    #[test]
    fn a_tag_pointing_past_the_end_is_skipped_and_the_others_are_read() {
        let at = tail_at(2);
        let block =
            tiff(&[(0x010E, 2, 4000, 1 << 20), (0x0131, 2, 3, u32::from_be_bytes(*b"ab\0\0"))], 0, b"");
        let read = read(&block).unwrap();
        assert_eq!(read.image_description, None);
        assert_eq!(read.software.as_deref(), Some("ab"));
        assert!(read.warnings[0].contains("tag 0x010e (ImageDescription)"), "{:?}", read.warnings);
        assert!(at > 0);
    }

    #[test]
    fn loops_between_ifds_end_with_a_warning() {
        // IFD0's Exif pointer and its next IFD both lead back to IFD0.
        let block = tiff(&[(0x8769, 4, 1, 8), (0x0131, 2, 2, u32::from_be_bytes(*b"x\0\0\0"))], 8, b"");
        let read = read(&block).unwrap();
        assert_eq!(read.software.as_deref(), Some("x"));
        assert_eq!(read.warnings.len(), 2, "{:?}", read.warnings);
        assert!(read.warnings.iter().all(|w| w.contains("a loop")), "{:?}", read.warnings);
    }

    #[test]
    fn a_long_chain_of_ifds_stops_at_the_limit() {
        // IFD0 and 99 more empty IFDs, each pointing to the next.
        let mut block = tiff(&[], 14, b"");
        for i in 0..99u32 {
            block.extend(0u16.to_be_bytes());
            block.extend(if i == 98 { 0 } else { 14 + 6 * (i + 1) }.to_be_bytes());
        }
        let read = read(&block).unwrap();
        assert!(
            read.warnings.iter().any(|w| w.contains(&format!("more than {MAX_IFDS} IFDs"))),
            "{:?}",
            read.warnings
        );
    }

    #[test]
    fn more_entries_declared_than_fit_reads_those_that_fit() {
        let mut block = tiff(&[(0x0131, 2, 2, u32::from_be_bytes(*b"y\0\0\0"))], 0, b"");
        block[8..10].copy_from_slice(&500u16.to_be_bytes());
        block.truncate(8 + 2 + 12);
        let read = read(&block).unwrap();
        assert_eq!(read.software.as_deref(), Some("y"));
        assert!(read.warnings[0].contains("declares 500 entries but only 1 fit"), "{:?}", read.warnings);
    }

    #[test]
    fn unknown_types_are_skipped_and_nul_padding_is_removed() {
        let at = tail_at(2);
        let block = tiff(&[(0x0110, 99, 1, 0), (0x010E, 2, 9, at)], 0, b"\0\0\0\0a cat\0");
        let read = read(&block).unwrap();
        assert_eq!(read.model, None);
        assert_eq!(read.image_description.as_deref(), Some("a cat"));
        assert!(read.warnings[0].contains("unknown type 99"), "{:?}", read.warnings);
    }

    #[test]
    fn only_a_missing_tiff_header_is_an_error() {
        assert!(read(b"").is_err());
        assert!(read(b"Exif\0\0MM").is_err());
        assert!(read(b"MM\0\x2b\0\0\0\x08").is_err());
        let empty = read(b"MM\0\x2a\0\0\0\x08").unwrap();
        assert!(empty.warnings[0].contains("past the end"), "{:?}", empty.warnings);
    }

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
