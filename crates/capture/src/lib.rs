//! Reads what AI image generators wrote into image files, into one normalized record.
//!
//! ```no_run
//! let inspection = capture::inspect_path("image.png".as_ref()).unwrap();
//! for g in &inspection.generations {
//!     println!("{} {:?}", g.generator.display_name(), g.prompt);
//! }
//! ```
//!
//! Only the bytes that hold metadata are read: image data is skipped by seeking, except the
//! alpha channel of PNGs that have one and carry no other generation record, where NovelAI
//! hides its metadata. The formats are described in `docs/formats.md`.

mod c2pa;
mod container;
mod error;
mod exif;
pub mod inflate;
mod parsers;
mod record;
mod stealth;
mod xmp;

use std::fs::File;
use std::io::{BufReader, Read, Seek};
use std::path::Path;

pub use container::MAX_PAYLOAD;
pub use error::CaptureError;
pub use exif::decode_user_comment;
pub use parsers::parameter_pairs;
pub use record::*;

/// The most generation records one file yields; past this, a warning says how many were
/// dropped (a ComfyUI graph can hold thousands of samplers).
pub const MAX_GENERATIONS: usize = 64;

/// An XMP packet's properties as `(name, value)` pairs, names with their prefix as written
/// (`dc:description`, `TC260:AIGC`), from elements and `rdf:Description` attributes alike.
pub fn xmp_properties(packet: &str) -> Result<Vec<(String, String)>, String> {
    xmp::parse(packet)
}

/// Inspects the image at `path`. Anything but a regular file (a directory, a FIFO, a
/// device, also behind a symbolic link) is refused before it is opened, so that a FIFO
/// cannot block the caller, and checked again once open.
pub fn inspect_path(path: &Path) -> Result<Inspection, CaptureError> {
    if !std::fs::metadata(path)?.is_file() {
        return Err(CaptureError::NotRegularFile);
    }
    // Non-blocking, so that a FIFO swapped in after the check cannot block the open either.
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NONBLOCK);
    let file: File = options.open(path)?;
    if !file.metadata()?.is_file() {
        return Err(CaptureError::NotRegularFile);
    }
    inspect(&mut BufReader::with_capacity(16 * 1024, file))
}

/// Inspects an in-memory image.
pub fn inspect_bytes(bytes: &[u8]) -> Result<Inspection, CaptureError> {
    inspect(&mut std::io::Cursor::new(bytes))
}

/// Inspects an image from any seekable reader.
pub fn inspect<R: Read + Seek>(reader: &mut R) -> Result<Inspection, CaptureError> {
    let mut meta = container::read(reader)?;
    let mut generations = parsers::recognise(&mut meta);
    let stealth_candidate = meta.png.is_some_and(|p| p.has_alpha() && p.bit_depth == 8);
    if generations.is_empty() && stealth_candidate {
        match stealth::read(reader, &mut meta.inflate) {
            Ok(Some(found)) => {
                let source = format!("png:alpha:{}", found.magic);
                meta.keys.push(source.clone());
                match stealth_record(&found.text, &source) {
                    Ok(g) => generations.push(g),
                    Err(e) => meta.warn(format!("{source}: {e}")),
                }
            }
            Ok(None) => {}
            Err(e) => meta.warn(format!("png:alpha: {e}")),
        }
    }
    let c2pa = meta.c2pa.as_ref().map(|(location, store)| c2pa::presence(location, store));
    Ok(Inspection {
        format: meta.format.expect("every walker sets the format"),
        width: meta.width,
        height: meta.height,
        generations,
        c2pa,
        metadata_keys: meta.keys,
        warnings: meta.warnings,
    })
}

/// The stealth payload is NovelAI's JSON (with `Comment` as a JSON string) or A1111 text.
fn stealth_record(text: &str, source: &str) -> Result<Generation, String> {
    if !text.trim_start().starts_with('{') {
        return parsers::parameters(text, source, None);
    }
    let obj: serde_json::Value = serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
    let field = |k: &str| obj.get(k).and_then(|v| v.as_str());
    let comment = match obj.get("Comment") {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other @ serde_json::Value::Object(_)) => other.to_string(),
        _ => return Err("stealth JSON has no Comment".into()),
    };
    parsers::novelai_record(&comment, field("Description"), field("Source"), source)
}

/// Entry points of each parser on its own, for the fuzz targets in `fuzz/`.
#[doc(hidden)]
pub mod fuzzing {
    /// A `parameters` text or UserComment: A1111 text, or Fooocus / SwarmUI / Easy Diffusion JSON.
    pub fn parameters(text: &str) {
        let _ = crate::parsers::parameters(text, "fuzz", None);
    }

    /// A ComfyUI graph, as the API `prompt` and as the UI `workflow`.
    pub fn comfyui(text: &str) {
        let mut warnings = Vec::new();
        let _ = crate::parsers::comfyui(Some(text), None, "fuzz", &mut warnings);
        let _ = crate::parsers::comfyui(None, Some(text), "fuzz", &mut warnings);
    }

    /// An XMP packet.
    pub fn xmp(packet: &str) {
        let _ = crate::xmp::parse(packet);
    }

    /// A raw EXIF (TIFF) block.
    pub fn exif(tiff: &[u8]) {
        let _ = crate::exif::read(tiff);
        let _ = crate::exif::decode_user_comment(tiff, false);
    }

    /// A C2PA manifest store (JUMBF).
    pub fn c2pa(store: &[u8]) {
        let _ = crate::c2pa::presence("fuzz", store);
    }

    /// A NovelAI Comment, or a stealth payload's text.
    pub fn novelai(text: &str) {
        let _ = crate::stealth_record(text, "fuzz");
    }
}
