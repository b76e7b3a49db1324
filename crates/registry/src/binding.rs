//! What a sealed event binds itself to: the image data of the sealed file, the bytes that
//! make its pixels, apart from every metadata block (XMP, EXIF, text, ICC, C2PA) that sealing
//! writes or that a manifest store is embedded in. The sealed event is signed before the
//! manifest that carries it, so it cannot name the final file's hash; it names this digest
//! instead, which the manifest and the label leave unchanged (docs/credentials.md).

use ledger::Hash;
use sha2::{Digest, Sha256};

/// SHA-256 of the image data of a PNG, JPEG or WebP file:
/// - PNG: for each `IHDR`, `PLTE`, `tRNS` and `IDAT` chunk in file order, its type and data;
/// - JPEG: each marker segment after SOI other than APP0–APP15 and COM (marker, length,
///   payload), then every byte from the first SOS to the end of the file;
/// - WebP: for each `VP8 `, `VP8L` and `ALPH` chunk in file order, its FourCC and data.
pub fn image_data_sha256(bytes: &[u8]) -> Result<Hash, String> {
    let mut h = Sha256::new();
    if let Some(rest) = bytes.strip_prefix(b"\x89PNG\r\n\x1a\n") {
        png(rest, &mut h)?;
    } else if bytes.starts_with(&[0xFF, 0xD8]) {
        jpeg(&bytes[2..], &mut h)?;
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        webp(&bytes[12..], &mut h)?;
    } else {
        return Err("not a PNG, JPEG or WebP file".into());
    }
    Ok(Hash(h.finalize().into()))
}

fn png(mut rest: &[u8], h: &mut Sha256) -> Result<(), String> {
    let mut data = false;
    while rest.len() >= 12 {
        let len = u32::from_be_bytes(rest[..4].try_into().expect("4 bytes")) as usize;
        let kind = &rest[4..8];
        let body = rest.get(8..8 + len).ok_or("a PNG chunk runs past the end of the file")?;
        if matches!(kind, b"IHDR" | b"PLTE" | b"tRNS" | b"IDAT") {
            h.update(kind);
            h.update(body);
            data |= kind == b"IDAT";
        }
        if kind == b"IEND" {
            break;
        }
        rest = &rest[(12 + len).min(rest.len())..];
    }
    if data { Ok(()) } else { Err("a PNG without image data".into()) }
}

fn jpeg(mut rest: &[u8], h: &mut Sha256) -> Result<(), String> {
    loop {
        let [0xFF, marker, ..] = *rest else { return Err("a JPEG without a scan".into()) };
        if marker == 0xDA {
            h.update(rest);
            return Ok(());
        }
        let len =
            rest.get(2..4).map(|l| u16::from_be_bytes([l[0], l[1]]) as usize).ok_or("a JPEG cut short")?;
        let segment = rest.get(..2 + len).ok_or("a JPEG segment runs past the end of the file")?;
        if !(0xE0..=0xEF).contains(&marker) && marker != 0xFE {
            h.update(segment);
        }
        rest = &rest[2 + len..];
    }
}

fn webp(mut rest: &[u8], h: &mut Sha256) -> Result<(), String> {
    let mut data = false;
    while rest.len() >= 8 {
        let kind = &rest[..4];
        let len = u32::from_le_bytes(rest[4..8].try_into().expect("4 bytes")) as usize;
        let body = rest.get(8..8 + len).ok_or("a WebP chunk runs past the end of the file")?;
        if matches!(kind, b"VP8 " | b"VP8L" | b"ALPH") {
            h.update(kind);
            h.update(body);
            data |= kind != b"ALPH";
        }
        rest = &rest[(8 + len + (len & 1)).min(rest.len())..];
    }
    if data { Ok(()) } else { Err("a WebP without image data".into()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png_file(chunks: &[(&[u8; 4], &[u8])]) -> Vec<u8> {
        let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
        for (kind, data) in chunks {
            out.extend_from_slice(&(data.len() as u32).to_be_bytes());
            out.extend_from_slice(*kind);
            out.extend_from_slice(data);
            out.extend_from_slice(&[0; 4]);
        }
        out
    }

    #[test]
    fn metadata_does_not_count_pixels_do() {
        let plain = png_file(&[(b"IHDR", b"hdr"), (b"IDAT", b"pixels"), (b"IEND", b"")]);
        let labelled = png_file(&[
            (b"IHDR", b"hdr"),
            (b"caBX", b"manifest"),
            (b"iTXt", b"xmp"),
            (b"IDAT", b"pixels"),
            (b"IEND", b""),
        ]);
        let other = png_file(&[(b"IHDR", b"hdr"), (b"IDAT", b"pixelz"), (b"IEND", b"")]);
        assert_eq!(image_data_sha256(&plain), image_data_sha256(&labelled));
        assert_ne!(image_data_sha256(&plain), image_data_sha256(&other));
        let jpeg = |app: &[u8], scan: &[u8]| {
            let mut j = vec![0xFF, 0xD8, 0xFF, 0xE1, 0, (app.len() + 2) as u8];
            j.extend_from_slice(app);
            j.extend_from_slice(&[0xFF, 0xDB, 0, 4, 1, 2, 0xFF, 0xDA]);
            j.extend_from_slice(scan);
            j
        };
        assert_eq!(
            image_data_sha256(&jpeg(b"xmp", b"scan")),
            image_data_sha256(&jpeg(b"other xmp", b"scan"))
        );
        assert_ne!(image_data_sha256(&jpeg(b"xmp", b"scan")), image_data_sha256(&jpeg(b"xmp", b"scam")));
        assert!(image_data_sha256(b"\xFF\xD8\xFF\xE1\x00").is_err());
        assert!(image_data_sha256(&png_file(&[(b"IHDR", b"hdr")])).is_err());
    }
}
