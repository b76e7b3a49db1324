//! JPEG: walk the marker segments up to the first scan; image data is never read.

use std::io::{Read, Seek, SeekFrom};

use super::{MAX_PAYLOAD, Metadata, TextEntry, read_up_to, read_vec, utf8_lossy};
use crate::{CaptureError, ImageFormat};

const XMP_ID: &[u8] = b"http://ns.adobe.com/xap/1.0/\0";
const XMP_EXT_ID: &[u8] = b"http://ns.adobe.com/xmp/extension/\0";
const PHOTOSHOP_ID: &[u8] = b"Photoshop 3.0\0";

pub(super) fn read<R: Read + Seek>(r: &mut R, file_len: u64) -> Result<Metadata, CaptureError> {
    let mut meta = Metadata { format: Some(ImageFormat::Jpeg), ..Default::default() };
    let mut pos = 2u64;
    r.seek(SeekFrom::Start(pos))?;
    let mut jumbf: Vec<u8> = Vec::new();
    let mut xmp_ext: Vec<u8> = Vec::new();
    let mut budget = MAX_PAYLOAD;
    loop {
        let mut m = [0u8; 2];
        if read_up_to(r, &mut m)? < 2 {
            meta.warn(format!("file ends at byte {pos} before the image data (truncated)"));
            break;
        }
        if m[0] != 0xFF {
            meta.warn(format!("expected a marker at byte {pos}, found {:02x}; stopped", m[0]));
            break;
        }
        let mut marker = m[1];
        // Fill bytes: any number of 0xFF before the marker code.
        while marker == 0xFF {
            let mut b = [0u8; 1];
            if read_up_to(r, &mut b)? == 0 {
                break;
            }
            pos += 1;
            marker = b[0];
        }
        pos += 2;
        match marker {
            0xD8 | 0x01 | 0xD0..=0xD7 => continue,
            0xD9 => break,
            0xDA => {
                // The first scan: all metadata comes before it. The image data is not read,
                // but a file cut short shows in its last two bytes, which should be EOI.
                r.seek(SeekFrom::Start(file_len.saturating_sub(2)))?;
                let mut tail = [0u8; 2];
                if read_up_to(r, &mut tail)? < 2 || tail != [0xFF, 0xD9] {
                    meta.warn("the file does not end with an end-of-image marker (truncated?)");
                }
                break;
            }
            _ => {}
        }
        let mut l = [0u8; 2];
        if read_up_to(r, &mut l)? < 2 {
            meta.warn(format!("file ends inside a segment header at byte {pos} (truncated)"));
            break;
        }
        let seg_len = u16::from_be_bytes(l) as u64;
        if seg_len < 2 {
            meta.warn(format!("segment {marker:02X} at byte {pos} has an impossible length; stopped"));
            break;
        }
        let body_len = seg_len - 2;
        let end = pos + seg_len;
        if end > file_len {
            meta.warn(format!(
                "segment {marker:02X} at byte {pos} needs {seg_len} bytes but the file ends at {file_len} (truncated)"
            ));
            break;
        }
        let wanted = matches!(marker, 0xE1 | 0xEB | 0xED | 0xFE)
            || matches!(marker, 0xC0..=0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF);
        if wanted && body_len <= budget {
            budget -= body_len;
            let body = read_vec(r, body_len)?;
            segment(marker, body, &mut meta, &mut jumbf, &mut xmp_ext);
        } else {
            if wanted {
                meta.warn(format!(
                    "metadata over the {} MiB limit at byte {pos}; skipped",
                    MAX_PAYLOAD >> 20
                ));
            }
            r.seek(SeekFrom::Start(end))?;
        }
        pos = end;
    }
    if !jumbf.is_empty() {
        meta.key("jpeg:APP11:c2pa");
        meta.c2pa = Some(("jpeg:APP11", jumbf));
    }
    if !xmp_ext.is_empty() {
        let text = utf8_lossy(xmp_ext, "extended XMP", &mut meta);
        meta.xmp.push(("jpeg:APP1:xmp-extension", text));
    }
    if meta.width.is_none() {
        meta.warn("no frame header (SOF) before the image data: size unknown");
    }
    Ok(meta)
}

fn segment(marker: u8, body: Vec<u8>, meta: &mut Metadata, jumbf: &mut Vec<u8>, xmp_ext: &mut Vec<u8>) {
    match marker {
        0xE1 if body.starts_with(b"Exif\0\0") => {
            meta.key("jpeg:APP1:exif");
            meta.exif.push(("jpeg:APP1:exif", body[6..].to_vec()));
        }
        0xE1 if body.starts_with(XMP_ID) => {
            meta.key("jpeg:APP1:xmp");
            let text = utf8_lossy(body[XMP_ID.len()..].to_vec(), "XMP", meta);
            meta.xmp.push(("jpeg:APP1:xmp", text));
        }
        // Extended XMP: GUID (32), full length (4), offset (4), then this part of the packet.
        0xE1 if body.starts_with(XMP_EXT_ID) => {
            let rest = &body[XMP_EXT_ID.len()..];
            if rest.len() > 40 {
                xmp_ext.extend_from_slice(&rest[40..]);
            }
        }
        // C2PA in JPEG: APP11 segments with common identifier "JP", box instance (2),
        // sequence number (4); segments after the first repeat the superbox's LBox and TBox.
        0xEB if body.len() >= 8 && body.starts_with(b"JP") => {
            let payload = &body[8..];
            if jumbf.is_empty() {
                jumbf.extend_from_slice(payload);
            } else if payload.len() >= 8 {
                jumbf.extend_from_slice(&payload[8..]);
            }
        }
        0xED if body.starts_with(PHOTOSHOP_ID) => {
            meta.key("jpeg:APP13:photoshop");
            photoshop_iptc(&body[PHOTOSHOP_ID.len()..], meta);
        }
        0xFE => {
            meta.key("jpeg:COM");
            let value = utf8_lossy(body, "JPEG comment", meta);
            meta.texts.push(TextEntry { origin: "jpeg:COM", key: "comment".into(), value });
        }
        0xC0..=0xCF if body.len() >= 5 && meta.width.is_none() => {
            meta.height = Some(u16::from_be_bytes([body[1], body[2]]) as u32);
            meta.width = Some(u16::from_be_bytes([body[3], body[4]]) as u32);
        }
        _ => {}
    }
}

/// Photoshop image resources: `8BIM`, id (2), Pascal name padded to even, size (4), data
/// padded to even. Resource 0x0404 holds IPTC-IIM datasets.
fn photoshop_iptc(mut data: &[u8], meta: &mut Metadata) {
    while data.len() >= 12 && data.starts_with(b"8BIM") {
        let id = u16::from_be_bytes([data[4], data[5]]);
        let name_len = data[6] as usize;
        let name_field = (1 + name_len + 1) & !1;
        let at = 6 + name_field;
        let Some(size_bytes) = data.get(at..at + 4) else { return };
        let size = u32::from_be_bytes(size_bytes.try_into().unwrap()) as usize;
        let start = at + 4;
        let Some(res) = data.get(start..start.saturating_add(size)) else { return };
        if id == 0x0404 {
            iptc_iim(res, meta);
        }
        let next = start + size + (size & 1);
        data = data.get(next..).unwrap_or(&[]);
    }
}

/// IPTC-IIM datasets: 0x1C, record, dataset, size (2), data.
fn iptc_iim(mut data: &[u8], meta: &mut Metadata) {
    while data.len() >= 5 && data[0] == 0x1C {
        let (record, dataset) = (data[1], data[2]);
        let size = u16::from_be_bytes([data[3], data[4]]) as usize;
        if size & 0x8000 != 0 {
            return; // extended datasets are not used for text
        }
        let Some(value) = data.get(5..5 + size) else { return };
        meta.key(format!("jpeg:iptc:{record}:{dataset}"));
        meta.iptc.push((record, dataset, value.to_vec()));
        data = &data[5 + size..];
    }
}
