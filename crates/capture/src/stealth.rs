//! Metadata hidden in the least significant bits of a PNG's alpha channel, as NovelAI and
//! the A1111 "stealth pnginfo" extension write it.
//!
//! Bits run column by column (x outer, y inner), most significant bit first: the magic
//! `stealth_pngcomp` (gzip payload) or `stealth_pnginfo` (plain UTF-8), a 32-bit big-endian
//! payload length in bits, then the payload. Rows are decoded one at a time and decoding
//! stops as soon as the magic cannot match, so a plain RGBA image costs a few rows.

use std::io::{BufReader, Read, Seek, SeekFrom};

use crate::container::MAX_PAYLOAD;
use crate::inflate::InflateBudget;

const MAGIC_LEN: usize = 15;
const COMPRESSED: &[u8; MAGIC_LEN] = b"stealth_pngcomp";
const PLAIN: &[u8; MAGIC_LEN] = b"stealth_pnginfo";
/// Images larger than this are not searched (the bit plane is width x height bits).
const MAX_PIXELS: u64 = 100_000_000;

/// A payload found in the alpha channel.
#[derive(Debug, PartialEq)]
pub(crate) struct Stealth {
    /// `stealth_pngcomp` or `stealth_pnginfo`.
    pub magic: &'static str,
    pub text: String,
}

/// Alpha LSBs in stream order (column-major: bit `x * height + y`), filled row by row.
struct BitPlane {
    bits: Vec<u8>,
    height: u64,
}

impl BitPlane {
    fn set(&mut self, x: u64, y: u64) {
        let i = x * self.height + y;
        self.bits[(i / 8) as usize] |= 0x80 >> (i % 8);
    }

    fn byte(&self, index: u64) -> u8 {
        self.bits[index as usize]
    }

    fn bytes(&self, from: u64, len: u64) -> &[u8] {
        &self.bits[from as usize..(from + len) as usize]
    }
}

/// Looks for stealth metadata. `Ok(None)` when there is none; `Err` names what is wrong
/// with a payload whose magic matched.
/// A gzip payload is inflated from the file's `budget`.
pub(crate) fn read<R: Read + Seek>(
    reader: &mut R,
    budget: &mut InflateBudget,
) -> Result<Option<Stealth>, String> {
    reader.seek(SeekFrom::Start(0)).map_err(|e| e.to_string())?;
    let mut decoder = png::Decoder::new(BufReader::new(reader));
    decoder.set_transformations(png::Transformations::IDENTITY);
    // Only the pixels' low bits are read: an ICC profile or text would only be inflated.
    decoder.set_ignore_text_chunk(true);
    decoder.set_ignore_iccp_chunk(true);
    let mut png = decoder.read_info().map_err(|e| format!("cannot decode pixels: {e}"))?;
    let info = png.info();
    let (width, height) = (info.width as u64, info.height as u64);
    let channels = match (info.color_type, info.bit_depth) {
        (png::ColorType::Rgba, png::BitDepth::Eight) => 4,
        (png::ColorType::GrayscaleAlpha, png::BitDepth::Eight) => 2,
        _ => return Ok(None),
    };
    if info.interlaced || width * height > MAX_PIXELS || width * height < (MAGIC_LEN * 8 + 32) as u64 {
        return Ok(None);
    }
    let mut plane = BitPlane { bits: vec![0; (width * height).div_ceil(8) as usize], height };
    // The magic is the first 120 bits: in column 0 when the image is at least 120 rows high.
    let magic_bits = (MAGIC_LEN * 8) as u64;
    let check_after = height.min(magic_bits);
    let mut magic = None;
    for y in 0..height {
        let row = match png.next_row() {
            Ok(Some(row)) => row,
            Ok(None) => return Ok(None),
            Err(e) => return Err(format!("cannot decode pixels at row {y}: {e}")),
        };
        let data = row.data();
        for x in 0..width {
            if data[(x as usize) * channels + channels - 1] & 1 == 1 {
                plane.set(x, y);
            }
        }
        if y + 1 == check_after {
            // The plane is in stream order, and the magic's bits are all filled by now.
            magic = match plane.bytes(0, MAGIC_LEN as u64) {
                h if h == COMPRESSED => Some(COMPRESSED),
                h if h == PLAIN => Some(PLAIN),
                _ => return Ok(None),
            };
        }
    }
    let Some(magic) = magic else { return Ok(None) };
    let len_bits =
        u32::from_be_bytes([plane.byte(15), plane.byte(16), plane.byte(17), plane.byte(18)]) as u64;
    let available = width * height / 8 - (MAGIC_LEN as u64 + 4);
    let len = len_bits / 8;
    if len > available || len > MAX_PAYLOAD {
        return Err(format!("stealth metadata claims {len} bytes but the image holds at most {available}"));
    }
    let payload = plane.bytes(MAGIC_LEN as u64 + 4, len);
    let raw = if magic == COMPRESSED {
        budget.gzip("stealth metadata", payload, 0).map_err(|e| format!("stealth metadata: {e}"))?
    } else {
        payload.to_vec()
    };
    let text = String::from_utf8(raw).map_err(|_| "stealth metadata is not valid UTF-8".to_string())?;
    let magic = if magic == COMPRESSED { "stealth_pngcomp" } else { "stealth_pnginfo" };
    Ok(Some(Stealth { magic, text }))
}
