//! Container walkers: find the metadata in a PNG, JPEG or WebP without touching pixel data.
//!
//! Each walker reads only chunk and segment headers and the metadata payloads, seeking past
//! image data. Payloads larger than [`MAX_PAYLOAD`] are skipped with a warning, so memory
//! stays bounded whatever a file claims.

mod jpeg;
mod png;
mod webp;

use std::io::{self, Read, Seek, SeekFrom};

use crate::inflate::InflateBudget;
use crate::{CaptureError, ImageFormat};

pub(crate) use png::PngLayout;

/// The largest metadata payload read into memory (a chunk, a segment run, a decompressed
/// text). The decompressed texts of one file share a budget of the same size in all
/// ([`crate::inflate::MAX_INFLATED_PER_FILE`]).
pub const MAX_PAYLOAD: u64 = 64 << 20;

/// A text entry as stored: PNG text chunks, JPEG comments.
#[derive(Debug, Clone)]
pub(crate) struct TextEntry {
    /// `png:tEXt`, `png:zTXt`, `png:iTXt`, `jpeg:COM`.
    pub origin: &'static str,
    pub key: String,
    pub value: String,
}

/// The metadata of one file, as found, before any generator is recognised.
#[derive(Debug, Default)]
pub(crate) struct Metadata {
    pub format: Option<ImageFormat>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub texts: Vec<TextEntry>,
    /// Raw EXIF (TIFF header onwards) with where it came from.
    pub exif: Vec<(&'static str, Vec<u8>)>,
    pub xmp: Vec<(&'static str, String)>,
    /// A C2PA manifest store (JUMBF), with where it came from.
    pub c2pa: Option<(&'static str, Vec<u8>)>,
    /// IPTC-IIM records from a JPEG's Photoshop APP13 segment.
    pub iptc: Vec<(u8, u8, Vec<u8>)>,
    pub png: Option<PngLayout>,
    pub keys: Vec<String>,
    pub warnings: Vec<String>,
    /// What every decompression of this file draws from.
    pub inflate: InflateBudget,
}

impl Metadata {
    pub fn key(&mut self, key: impl Into<String>) {
        self.keys.push(key.into());
    }

    pub fn warn(&mut self, warning: impl Into<String>) {
        self.warnings.push(warning.into());
    }
}

/// Reads the metadata of whatever image `reader` holds, recognised by its signature.
pub(crate) fn read<R: Read + Seek>(reader: &mut R) -> Result<Metadata, CaptureError> {
    let len = reader.seek(SeekFrom::End(0))?;
    reader.seek(SeekFrom::Start(0))?;
    let mut head = [0u8; 12];
    let n = read_up_to(reader, &mut head)?;
    reader.seek(SeekFrom::Start(0))?;
    let head = &head[..n];
    if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        png::read(reader, len)
    } else if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        jpeg::read(reader, len)
    } else if head.len() == 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        webp::read(reader, len)
    } else if head.is_empty() {
        Err(CaptureError::UnknownFormat("nothing: the file is empty".into()))
    } else {
        Err(CaptureError::UnknownFormat(describe_bytes(head)))
    }
}

fn describe_bytes(bytes: &[u8]) -> String {
    let hex: Vec<String> = bytes.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("bytes {}", hex.join(" "))
}

/// Like `read_exact`, but returns how much was read at end of file instead of failing.
pub(crate) fn read_up_to<R: Read>(reader: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Reads exactly `len` bytes (already checked against the limit and the file's length).
pub(crate) fn read_vec<R: Read>(reader: &mut R, len: u64) -> io::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(len as usize);
    reader.take(len).read_to_end(&mut buf)?;
    if (buf.len() as u64) < len {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    Ok(buf)
}

/// Decodes text that should be UTF-8, replacing what is not and saying so.
pub(crate) fn utf8_lossy(bytes: Vec<u8>, what: &str, meta: &mut Metadata) -> String {
    match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => {
            meta.warn(format!("{what} is not valid UTF-8; invalid bytes were replaced"));
            String::from_utf8_lossy(e.as_bytes()).into_owned()
        }
    }
}
