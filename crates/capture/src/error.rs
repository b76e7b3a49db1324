use std::io;

/// Why a file could not be read at all. Problems that leave something readable are
/// warnings on the [`crate::Inspection`] instead.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("cannot read: {0}")]
    Io(#[from] io::Error),
    #[error("not a PNG, JPEG or WebP image (the file starts with {0})")]
    UnknownFormat(String),
    #[error("truncated {format} file: {detail}")]
    Truncated { format: &'static str, detail: String },
    #[error("malformed {format} file: {detail}")]
    Malformed { format: &'static str, detail: String },
}
