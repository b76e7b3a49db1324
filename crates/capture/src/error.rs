use std::io;

/// Why a file could not be read at all. Problems that leave something readable are
/// warnings on the [`crate::Inspection`] instead.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("cannot read: {0}")]
    Io(#[from] io::Error),
    #[error("not a regular file")]
    NotRegularFile,
    #[error("not a PNG, JPEG or WebP image (the file starts with {0})")]
    UnknownFormat(String),
    #[error("truncated {format} file: {detail}")]
    Truncated { format: &'static str, detail: String },
    #[error("malformed {format} file: {detail}")]
    Malformed { format: &'static str, detail: String },
    /// Compressed data that is not a valid stream.
    #[error("cannot decompress: {0}")]
    Inflate(String),
    /// One compressed stream that would decompress to more than its limit.
    #[error("decompresses to more than {}", size(*limit))]
    InflateLimit { limit: u64 },
    /// A compressed stream refused because the file's decompression budget is spent.
    #[error("the file's compressed texts decompress to more than {} in all", size(*total))]
    InflateBudget { total: u64 },
}

/// `64 MiB`, `1 KiB`, `100 bytes`.
fn size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} bytes"),
    }
}
