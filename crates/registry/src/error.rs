//! The registry's one error type, and the kind a front end maps it to (an exit message, an
//! HTTP status).

use std::path::{Path, PathBuf};

use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    // The cause is part of the message and not also a `source()`: a printer that walks the
    // chain of causes would show it twice.
    #[error("{path}: {error}")]
    Io { path: PathBuf, error: std::io::Error },
    /// A query failed. `at` names the store: a file, or a database URL without its password.
    #[error("{at}: database error: {error}")]
    Db { at: String, error: Box<dyn std::error::Error + Send + Sync> },
    /// The database server cannot be reached, or the connection was lost.
    #[error("{at}: {message}")]
    Unavailable { at: String, message: String },
    #[error("{0}: cannot write ({1}): the disk may be full; nothing of this change was stored")]
    Full(PathBuf, String),
    #[error("no identity in {0}: run `handprint init --name \"Your Name\"` first")]
    NoIdentity(PathBuf),
    #[error("identity: {0}")]
    Identity(String),
    #[error("{0}")]
    Passphrase(String),
    #[error("no project named {0:?}: create it with `handprint project new {0}`")]
    NoProject(String),
    #[error("{0}: not in the journal (record or import it first)")]
    NotRecorded(PathBuf),
    #[error("{path}: {message}")]
    File { path: PathBuf, message: String },
    /// The stored data is damaged or not what this handprint reads.
    #[error("store: {0}")]
    Store(String),
    /// Something that already exists stands in the way (a watermark ID taken, ...).
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Invalid(String),
    /// The request is understood but its signer may not do it (credentials another key
    /// signed, a work published under another key).
    #[error("{0}")]
    Forbidden(String),
    /// What was asked for does not exist (a work, a publication).
    #[error("{0}")]
    NotFound(String),
}

/// What kind of failure an error is, for a front end to choose its answer without parsing
/// messages (HTTP: 404, 409, 422, 403, 503, 500).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    NotFound,
    Conflict,
    Invalid,
    Forbidden,
    Damaged,
    Unavailable,
    Internal,
}

impl RegistryError {
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        RegistryError::Io { path: path.to_path_buf(), error: source }
    }

    pub fn kind(&self) -> ErrorKind {
        match self {
            RegistryError::NoProject(_)
            | RegistryError::NotRecorded(_)
            | RegistryError::NoIdentity(_)
            | RegistryError::NotFound(_) => ErrorKind::NotFound,
            RegistryError::Conflict(_) => ErrorKind::Conflict,
            RegistryError::Forbidden(_) => ErrorKind::Forbidden,
            RegistryError::Invalid(_) | RegistryError::File { .. } | RegistryError::Passphrase(_) => {
                ErrorKind::Invalid
            }
            RegistryError::Store(_) | RegistryError::Identity(_) => ErrorKind::Damaged,
            RegistryError::Unavailable { .. } | RegistryError::Full(..) => ErrorKind::Unavailable,
            RegistryError::Io { .. } | RegistryError::Db { .. } => ErrorKind::Internal,
        }
    }
}
