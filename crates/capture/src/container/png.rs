//! PNG: walk the chunks, read text, EXIF, XMP and C2PA chunks, seek past everything else.

use std::io::{Read, Seek, SeekFrom};

use super::{MAX_PAYLOAD, Metadata, TextEntry, read_up_to, read_vec, utf8_lossy};
use crate::inflate::RESERVED_FOR_GENERATOR_KEYS;
use crate::{CaptureError, ImageFormat, parsers};

/// What the stealth-metadata check needs to know about the pixels.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PngLayout {
    pub color_type: u8,
    pub bit_depth: u8,
}

impl PngLayout {
    /// Colour types 4 (grey + alpha) and 6 (RGBA) carry an alpha channel.
    pub fn has_alpha(&self) -> bool {
        matches!(self.color_type, 4 | 6)
    }
}

pub(super) fn read<R: Read + Seek>(r: &mut R, file_len: u64) -> Result<Metadata, CaptureError> {
    let mut meta = Metadata { format: Some(ImageFormat::Png), ..Default::default() };
    let mut pos = 8u64;
    r.seek(SeekFrom::Start(pos))?;
    let mut seen_ihdr = false;
    loop {
        let mut header = [0u8; 8];
        let got = read_up_to(r, &mut header)?;
        if got == 0 {
            meta.warn(format!("file ends after {pos} bytes without an IEND chunk (truncated?)"));
            break;
        }
        if got < 8 {
            meta.warn(format!("file ends inside a chunk header at byte {pos} (truncated)"));
            break;
        }
        let len = u32::from_be_bytes(header[..4].try_into().unwrap()) as u64;
        let kind: [u8; 4] = header[4..].try_into().unwrap();
        let name = chunk_name(&kind);
        if !kind.iter().all(u8::is_ascii_alphabetic) {
            if !seen_ihdr {
                return Err(malformed(format!("bad chunk type {name:?} at byte {pos}")));
            }
            meta.warn(format!("bad chunk type {name:?} at byte {pos}; stopped reading chunks"));
            break;
        }
        if len > 0x7FFF_FFFF {
            meta.warn(format!(
                "chunk {name} at byte {pos} claims {len} bytes, more than PNG allows; stopped"
            ));
            break;
        }
        let data_start = pos + 8;
        let end = data_start + len + 4;
        if !seen_ihdr && &kind != b"IHDR" {
            return Err(malformed(format!("first chunk is {name}, not IHDR")));
        }
        if end > file_len {
            if !seen_ihdr {
                return Err(CaptureError::Truncated {
                    format: "PNG",
                    detail: "the file ends inside the IHDR chunk".into(),
                });
            }
            meta.warn(format!(
                "chunk {name} at byte {pos} needs {len} bytes but the file ends at {file_len} (truncated)"
            ));
            break;
        }
        match &kind {
            b"IHDR" | b"tEXt" | b"zTXt" | b"iTXt" | b"eXIf" | b"caBX" => {
                if len > MAX_PAYLOAD {
                    meta.warn(format!(
                        "chunk {name} at byte {pos} is {len} bytes, over the {} MiB limit; skipped",
                        MAX_PAYLOAD >> 20
                    ));
                    r.seek(SeekFrom::Start(end))?;
                } else {
                    let mut body = read_vec(r, len + 4)?;
                    let crc = u32::from_be_bytes(body[len as usize..].try_into().unwrap());
                    body.truncate(len as usize);
                    let mut hasher = crc32fast::Hasher::new();
                    hasher.update(&kind);
                    hasher.update(&body);
                    if hasher.finalize() != crc {
                        meta.warn(format!("chunk {name} at byte {pos} has a bad CRC; read anyway"));
                    }
                    if &kind == b"IHDR" {
                        ihdr(&body, &mut meta)?;
                        seen_ihdr = true;
                    } else {
                        payload(&kind, body, &mut meta);
                    }
                }
            }
            b"IEND" => break,
            _ => {
                r.seek(SeekFrom::Start(end))?;
            }
        }
        pos = end;
    }
    if let Some(w) = meta.inflate.warning() {
        meta.warn(w);
    }
    Ok(meta)
}

fn malformed(detail: String) -> CaptureError {
    CaptureError::Malformed { format: "PNG", detail }
}

fn chunk_name(kind: &[u8; 4]) -> String {
    kind.iter().map(|&b| if b.is_ascii_graphic() { b as char } else { '?' }).collect()
}

fn ihdr(body: &[u8], meta: &mut Metadata) -> Result<(), CaptureError> {
    if body.len() != 13 {
        return Err(malformed(format!("IHDR is {} bytes, not 13", body.len())));
    }
    meta.width = Some(u32::from_be_bytes(body[0..4].try_into().unwrap()));
    meta.height = Some(u32::from_be_bytes(body[4..8].try_into().unwrap()));
    meta.png = Some(PngLayout { bit_depth: body[8], color_type: body[9] });
    Ok(())
}

fn payload(kind: &[u8; 4], body: Vec<u8>, meta: &mut Metadata) {
    match kind {
        b"tEXt" => text(body, meta),
        b"zTXt" => ztxt(body, meta),
        b"iTXt" => itxt(body, meta),
        b"eXIf" => {
            meta.key("png:eXIf");
            meta.exif.push(("png:eXIf", body));
        }
        b"caBX" => {
            meta.key("png:caBX");
            meta.c2pa = Some(("png:caBX", body));
        }
        _ => unreachable!("only metadata chunks are read"),
    }
}

/// Splits `keyword\0rest`; the keyword is Latin-1, 1 to 79 bytes.
fn keyword(body: &[u8], chunk: &str, meta: &mut Metadata) -> Option<(String, usize)> {
    let Some(nul) = body.iter().position(|&b| b == 0) else {
        meta.warn(format!("{chunk} chunk without a keyword terminator; skipped"));
        return None;
    };
    Some((latin1(&body[..nul]), nul + 1))
}

fn latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| b as char).collect()
}

/// tEXt is Latin-1 by the standard, but several generators write UTF-8 into it: bytes that
/// form valid UTF-8 with non-ASCII characters are read as UTF-8, as their writer meant.
fn text(body: Vec<u8>, meta: &mut Metadata) {
    let Some((key, at)) = keyword(&body, "tEXt", meta) else { return };
    let raw = &body[at..];
    let value = match std::str::from_utf8(raw) {
        Ok(s) => s.to_owned(),
        Err(_) => latin1(raw),
    };
    push_text("png:tEXt", key, value, meta);
}

fn ztxt(body: Vec<u8>, meta: &mut Metadata) {
    let Some((key, at)) = keyword(&body, "zTXt", meta) else { return };
    if body.get(at) != Some(&0) {
        meta.warn(format!("zTXt {key:?}: unknown compression method; skipped"));
        return;
    }
    let Some(raw) = inflate(&format!("zTXt {key:?}"), &key, &body[at + 1..], meta) else { return };
    let value = match String::from_utf8(raw) {
        Ok(s) => s,
        Err(e) => latin1(e.as_bytes()),
    };
    push_text("png:zTXt", key, value, meta)
}

/// Inflates a compressed text from the file's budget. Keys no generator writes may not use
/// the part of it kept for those that do. A text refused for want of budget is named in one
/// warning for the whole file, at the end; other failures are warned about here.
fn inflate(what: &str, key: &str, data: &[u8], meta: &mut Metadata) -> Option<Vec<u8>> {
    let reserve = if parsers::is_generator_key(key) { 0 } else { RESERVED_FOR_GENERATOR_KEYS };
    match meta.inflate.zlib(what, data, reserve) {
        Ok(raw) => Some(raw),
        Err(CaptureError::InflateBudget { .. }) => None,
        Err(e) => {
            meta.warn(format!("{what}: {e}; skipped"));
            None
        }
    }
}

fn itxt(body: Vec<u8>, meta: &mut Metadata) {
    let Some((key, at)) = keyword(&body, "iTXt", meta) else { return };
    let rest = &body[at..];
    if rest.len() < 2 {
        meta.warn(format!("iTXt {key:?} is cut short; skipped"));
        return;
    }
    let (compressed, method) = (rest[0], rest[1]);
    // Language tag and translated keyword, each NUL-terminated.
    let mut fields = rest[2..].splitn(3, |&b| b == 0);
    let (Some(_lang), Some(_translated), Some(text)) = (fields.next(), fields.next(), fields.next()) else {
        meta.warn(format!("iTXt {key:?} lacks its language or translated-keyword field; skipped"));
        return;
    };
    let raw = match (compressed, method) {
        (0, _) => text.to_vec(),
        (1, 0) => match inflate(&format!("iTXt {key:?}"), &key, text, meta) {
            Some(raw) => raw,
            None => return,
        },
        _ => {
            meta.warn(format!("iTXt {key:?}: unknown compression; skipped"));
            return;
        }
    };
    let value = utf8_lossy(raw, &format!("iTXt {key:?}"), meta);
    push_text("png:iTXt", key, value, meta);
}

fn push_text(origin: &'static str, key: String, value: String, meta: &mut Metadata) {
    meta.key(format!("{origin}:{key}"));
    if key == "XML:com.adobe.xmp" {
        let origin =
            if origin == "png:iTXt" { "png:iTXt:XML:com.adobe.xmp" } else { "png:tEXt:XML:com.adobe.xmp" };
        meta.xmp.push((origin, value));
    } else {
        meta.texts.push(TextEntry { origin, key, value });
    }
}
