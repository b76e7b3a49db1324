//! The crate's one error type.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum WebArchiveError {
    /// Something handed to a writer cannot be written as asked (a header value with a line
    /// break, a URL that is not absolute, a file path a WACZ may not hold).
    #[error("{what}: {problem}")]
    Invalid { what: String, problem: String },
    /// A WARC that cannot be read; `offset` is where the record or gzip member starts.
    #[error("WARC, at offset {offset}: {problem}")]
    Warc { offset: u64, problem: String },
    /// A WACZ (zip) that cannot be read or is refused (limits, paths, structure).
    #[error("WACZ: {0}")]
    Wacz(String),
    /// The signing function given to [`crate::write_wacz`] failed.
    #[error("signing the package: {0}")]
    Sign(String),
    #[error("writing: {0}")]
    Io(#[from] std::io::Error),
}

impl WebArchiveError {
    pub(crate) fn invalid(what: impl Into<String>, problem: impl Into<String>) -> Self {
        WebArchiveError::Invalid { what: what.into(), problem: problem.into() }
    }

    pub(crate) fn warc(offset: u64, problem: impl Into<String>) -> Self {
        WebArchiveError::Warc { offset, problem: problem.into() }
    }

    pub(crate) fn wacz(problem: impl Into<String>) -> Self {
        WebArchiveError::Wacz(problem.into())
    }
}
