//! WebP: walk the RIFF chunks, read EXIF, XMP and C2PA, seek past the bitstream.

use std::io::{Read, Seek, SeekFrom};

use super::{MAX_PAYLOAD, Metadata, read_up_to, read_vec, utf8_lossy};
use crate::{CaptureError, ImageFormat};

pub(super) fn read<R: Read + Seek>(r: &mut R, file_len: u64) -> Result<Metadata, CaptureError> {
    let mut meta = Metadata { format: Some(ImageFormat::Webp), ..Default::default() };
    let mut riff = [0u8; 12];
    read_up_to(r, &mut riff)?;
    let riff_end = u32::from_le_bytes(riff[4..8].try_into().unwrap()) as u64 + 8;
    if riff_end > file_len {
        meta.warn(format!("the RIFF header says {riff_end} bytes but the file has {file_len} (truncated)"));
    }
    let riff_end = riff_end.min(file_len);
    let mut pos = 12u64;
    while pos + 8 <= riff_end {
        let mut header = [0u8; 8];
        if read_up_to(r, &mut header)? < 8 {
            break;
        }
        let fourcc: [u8; 4] = header[..4].try_into().unwrap();
        let name = String::from_utf8_lossy(&fourcc).into_owned();
        let len = u32::from_le_bytes(header[4..].try_into().unwrap()) as u64;
        let data_start = pos + 8;
        let end = data_start + len + (len & 1);
        if data_start + len > file_len {
            meta.warn(format!(
                "chunk {name:?} at byte {pos} needs {len} bytes but the file ends at {file_len} (truncated)"
            ));
            break;
        }
        let wanted = matches!(&fourcc, b"VP8X" | b"VP8 " | b"VP8L" | b"EXIF" | b"XMP " | b"C2PA");
        if wanted && len <= MAX_PAYLOAD {
            // Only the bitstream's first bytes are needed for the size.
            let read_len = if fourcc.starts_with(b"VP8") && &fourcc != b"VP8X" { len.min(30) } else { len };
            let body = read_vec(r, read_len)?;
            chunk(&fourcc, body, &mut meta);
        } else if wanted {
            meta.warn(format!(
                "chunk {name:?} at byte {pos} is {len} bytes, over the {} MiB limit; skipped",
                MAX_PAYLOAD >> 20
            ));
        }
        r.seek(SeekFrom::Start(end))?;
        pos = end;
    }
    if meta.width.is_none() {
        meta.warn("no VP8X, VP8 or VP8L chunk: size unknown");
    }
    Ok(meta)
}

fn chunk(fourcc: &[u8; 4], body: Vec<u8>, meta: &mut Metadata) {
    match fourcc {
        b"VP8X" if body.len() >= 10 => {
            meta.width = Some(u24(&body[4..7]) + 1);
            meta.height = Some(u24(&body[7..10]) + 1);
        }
        // Lossy: frame tag (3), start code 9d 01 2a, then 14-bit width and height.
        b"VP8 " if body.len() >= 10 && meta.width.is_none() && body[3..6] == [0x9d, 0x01, 0x2a] => {
            meta.width = Some((u16::from_le_bytes([body[6], body[7]]) & 0x3FFF) as u32);
            meta.height = Some((u16::from_le_bytes([body[8], body[9]]) & 0x3FFF) as u32);
        }
        // Lossless: signature 0x2f, then 14-bit width-1 and height-1.
        b"VP8L" if body.len() >= 5 && meta.width.is_none() && body[0] == 0x2f => {
            let bits = u32::from_le_bytes(body[1..5].try_into().unwrap());
            meta.width = Some((bits & 0x3FFF) + 1);
            meta.height = Some(((bits >> 14) & 0x3FFF) + 1);
        }
        b"EXIF" => {
            meta.key("webp:EXIF");
            // The standard says raw TIFF; some writers keep JPEG's "Exif\0\0" prefix.
            let tiff = body.strip_prefix(b"Exif\0\0").map(<[u8]>::to_vec).unwrap_or(body);
            meta.exif.push(("webp:EXIF", tiff));
        }
        b"XMP " => {
            meta.key("webp:XMP");
            let text = utf8_lossy(body, "XMP", meta);
            meta.xmp.push(("webp:XMP", text));
        }
        b"C2PA" => {
            meta.key("webp:C2PA");
            meta.c2pa = Some(("webp:C2PA", body));
        }
        _ => {}
    }
}

fn u24(b: &[u8]) -> u32 {
    b[0] as u32 | (b[1] as u32) << 8 | (b[2] as u32) << 16
}
