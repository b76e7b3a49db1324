//! Bounded decompression: a small compressed input can claim gigabytes.
//!
//! Every decompression of one file draws from one [`InflateBudget`] (zTXt, compressed iTXt,
//! the gzip payload hidden in the alpha channel), so that a file of thousands of compressed
//! chunks costs at most the budget in all, not the limit once per chunk. Outside a file,
//! [`zlib_bounded`] inflates one zlib stream under a limit of its own.

use std::io::Read;

use crate::{CaptureError, MAX_PAYLOAD};

/// How many bytes the compressed texts of one file may decompress to, all together.
pub const MAX_INFLATED_PER_FILE: u64 = 64 << 20;

/// Part of a file's budget kept for the keys generators write (`parameters`, `prompt`,
/// `workflow`, ...): other compressed texts are inflated only while more than this is left.
pub const RESERVED_FOR_GENERATOR_KEYS: u64 = 16 << 20;

/// Inflates one zlib stream, refusing to produce more than `limit` bytes.
///
/// ```
/// let packed = {
///     use std::io::Write;
///     let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
///     e.write_all(&[b'a'; 4096]).unwrap();
///     e.finish().unwrap()
/// };
/// assert_eq!(capture::inflate::zlib_bounded(&packed, 4096).unwrap().len(), 4096);
/// assert!(capture::inflate::zlib_bounded(&packed, 4095).is_err());
/// ```
pub fn zlib_bounded(data: &[u8], limit: u64) -> Result<Vec<u8>, CaptureError> {
    read_bounded(flate2::read::ZlibDecoder::new(data), limit)
}

/// Reads a decompressing reader to its end, refusing more than `limit` bytes.
fn read_bounded(decoder: impl Read, limit: u64) -> Result<Vec<u8>, CaptureError> {
    let mut out = Vec::new();
    decoder
        .take(limit.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|e| CaptureError::Inflate(e.to_string()))?;
    if out.len() as u64 > limit {
        return Err(CaptureError::InflateLimit { limit });
    }
    out.shrink_to_fit(); // the reads grew it by doubling: up to twice what it holds
    Ok(out)
}

/// The bytes one file's decompressions may still produce, and what was refused.
#[derive(Debug)]
pub struct InflateBudget {
    total: u64,
    used: u64,
    /// Streams refused because the budget was spent, by name, in the order met.
    refused: Vec<String>,
}

impl Default for InflateBudget {
    fn default() -> Self {
        InflateBudget::new(MAX_INFLATED_PER_FILE)
    }
}

impl InflateBudget {
    /// A budget of `total` decompressed bytes.
    pub fn new(total: u64) -> Self {
        InflateBudget { total, used: 0, refused: Vec::new() }
    }

    /// Bytes produced so far.
    pub fn used(&self) -> u64 {
        self.used
    }

    /// Bytes that may still be produced.
    pub fn remaining(&self) -> u64 {
        self.total - self.used
    }

    /// Streams refused for want of budget (their names as given to [`Self::zlib`]).
    pub fn refused(&self) -> &[String] {
        &self.refused
    }

    /// Inflates a zlib stream named `what`. `reserve` bytes of the budget are left untouched
    /// (0 for the texts generators write). At most [`MAX_PAYLOAD`] bytes per stream.
    pub fn zlib(&mut self, what: &str, data: &[u8], reserve: u64) -> Result<Vec<u8>, CaptureError> {
        self.take(what, flate2::read::ZlibDecoder::new(data), reserve)
    }

    /// Inflates a gzip stream named `what`, like [`Self::zlib`].
    pub fn gzip(&mut self, what: &str, data: &[u8], reserve: u64) -> Result<Vec<u8>, CaptureError> {
        self.take(what, flate2::read::GzDecoder::new(data), reserve)
    }

    fn take(&mut self, what: &str, decoder: impl Read, reserve: u64) -> Result<Vec<u8>, CaptureError> {
        let available = self.remaining().saturating_sub(reserve);
        let limit = available.min(MAX_PAYLOAD);
        match read_bounded(decoder, limit) {
            Ok(out) => {
                self.used += out.len() as u64;
                Ok(out)
            }
            Err(CaptureError::InflateLimit { .. }) if limit < MAX_PAYLOAD => {
                self.refused.push(what.to_owned());
                Err(CaptureError::InflateBudget { total: self.total })
            }
            Err(e) => Err(e),
        }
    }

    /// One warning for every stream refused for want of budget, or `None`.
    pub fn warning(&self) -> Option<String> {
        let n = self.refused.len();
        let first = self.refused.first()?;
        let more = match n {
            1 => String::new(),
            2 => format!(" and {}", self.refused[1]),
            _ => format!(" and {} more", n - 1),
        };
        Some(format!("{first}{more} skipped: {}", CaptureError::InflateBudget { total: self.total }))
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn zlib(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn streams_draw_from_one_budget_until_it_is_spent() {
        let packed = zlib(&[b'x'; 1000]);
        let mut budget = InflateBudget::new(2500);
        assert_eq!(budget.zlib("a", &packed, 0).unwrap().len(), 1000);
        assert_eq!(budget.zlib("b", &packed, 0).unwrap().len(), 1000);
        let err = budget.zlib("c", &packed, 0).unwrap_err();
        assert!(matches!(err, CaptureError::InflateBudget { total: 2500 }), "{err}");
        assert!(budget.zlib("d", &packed, 0).is_err());
        assert_eq!(budget.used(), 2000);
        assert_eq!(budget.refused(), ["c", "d"]);
        assert_eq!(
            budget.warning().unwrap(),
            "c and d skipped: the file's compressed texts decompress to more than 2500 bytes in all"
        );
    }

    #[test]
    fn the_reserve_is_kept_from_streams_that_ask_for_it() {
        let packed = zlib(&[b'x'; 1000]);
        let mut budget = InflateBudget::new(1500);
        assert!(budget.zlib("other", &packed, 1000).is_err());
        assert_eq!(budget.zlib("parameters", &packed, 0).unwrap().len(), 1000);
        assert_eq!(budget.used(), 1000);
    }

    #[test]
    fn a_stream_over_the_single_limit_is_an_error_of_its_own() {
        let err = zlib_bounded(&zlib(&[0; 100]), 99).unwrap_err();
        assert!(matches!(err, CaptureError::InflateLimit { limit: 99 }), "{err}");
        let err = zlib_bounded(b"not zlib", 99).unwrap_err();
        assert!(matches!(err, CaptureError::Inflate(_)), "{err}");
    }
}
