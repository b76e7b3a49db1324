//! handprint's registry layer, the one every front end calls: the identity and keys on disk,
//! the store (embedded SQLite or PostgreSQL) holding the journal and the registered works,
//! and the operations on them: `record`, `choose`, `edit`, `import`, `note`, `seal`,
//! `register`, search, `verify`, `verify_image`, `export`, timestamps, `reproduce`.

pub mod answers;
pub mod binding;
pub mod claim;
pub mod domain;
mod error;
pub mod export;
pub mod identity;
pub mod infringement;
pub mod journal_check;
pub mod lookup;
pub mod marking;
mod ops;
pub mod publication;
pub mod register;
pub mod remote;
pub mod reproduce;
pub mod seal;
pub mod search;
pub mod shards;
pub mod store;
pub mod stored;
pub mod timestamps;
pub mod trust;
pub mod verify_image;
pub mod watch;
pub mod watermark_id;
pub mod watermarks;
pub mod web_evidence;
pub mod works;

use std::path::{Path, PathBuf};

pub use error::{ErrorKind, RegistryError};
pub use ops::{FileInfo, Outcome, Recorded};
pub use store::{Database, Store};

use identity::{Identity, PublicIdentity};

/// Reads an image file of at most [`works::MAX_IMAGE_FILE`] bytes, as every operation does;
/// anything else is refused with a message naming the file.
pub fn read_image_file(path: &Path) -> Result<Vec<u8>, RegistryError> {
    read_limited(path, works::MAX_IMAGE_FILE)
}

/// Reads a regular file of at most `limit` bytes into memory; anything else is refused with
/// a message naming the file.
/// Reads a file of at most `limit` bytes; every failure names it.
pub fn read_limited_file(path: &Path, limit: u64) -> Result<Vec<u8>, RegistryError> {
    read_limited(path, limit)
}

pub(crate) fn read_limited(path: &Path, limit: u64) -> Result<Vec<u8>, RegistryError> {
    let not_regular = || RegistryError::File { path: path.into(), message: "not a regular file".into() };
    if !std::fs::metadata(path).map_err(|e| RegistryError::io(path, e))?.is_file() {
        return Err(not_regular());
    }
    // Non-blocking, and checked again on the handle: a FIFO swapped in after the check above
    // can neither block the open nor be read.
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NONBLOCK);
    let file = options.open(path).map_err(|e| RegistryError::io(path, e))?;
    let meta = file.metadata().map_err(|e| RegistryError::io(path, e))?;
    if !meta.is_file() {
        return Err(not_regular());
    }
    if meta.len() > limit {
        let shown =
            if limit >= 1 << 30 { format!("{} GiB", limit >> 30) } else { format!("{} MiB", limit >> 20) };
        return Err(RegistryError::File {
            path: path.into(),
            message: format!("{} bytes: larger than the {shown} handprint reads", meta.len()),
        });
    }
    let mut data = Vec::with_capacity(meta.len() as usize);
    std::io::Read::read_to_end(&mut std::io::Read::take(file, limit + 1), &mut data)
        .map_err(|e| RegistryError::io(path, e))?;
    if data.len() as u64 > limit {
        return Err(RegistryError::File {
            path: path.into(),
            message: "grew past the size handprint reads".into(),
        });
    }
    Ok(data)
}

/// Where handprint keeps its data: `--home`, else `HANDPRINT_HOME`, else
/// `$XDG_DATA_HOME/handprint`, else `~/.local/share/handprint`.
pub fn home_dir(explicit: Option<&Path>) -> PathBuf {
    if let Some(p) = explicit {
        return p.to_path_buf();
    }
    if let Some(p) = std::env::var_os("HANDPRINT_HOME").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    if let Some(p) = std::env::var_os("XDG_DATA_HOME").filter(|p| !p.is_empty()) {
        return PathBuf::from(p).join("handprint");
    }
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("."));
    home.join(".local/share/handprint")
}

/// An opened data directory: the public identity and the store.
pub struct Registry {
    pub home: PathBuf,
    pub public: PublicIdentity,
    pub store: Store,
}

impl Registry {
    /// Opens the data directory with its embedded store; the identity must exist.
    pub fn open(home: &Path) -> Result<Registry, RegistryError> {
        Registry::open_with(home, &Database::in_home(home))
    }

    /// Opens the data directory with the store `database` names; the identity must exist.
    pub fn open_with(home: &Path, database: &Database) -> Result<Registry, RegistryError> {
        let public = identity::load_public(home)?;
        let store = Store::connect(database)?;
        Ok(Registry { home: home.to_path_buf(), public, store })
    }

    /// Opens the data directory without writing anything to it (`verify`, `log`, `export`).
    pub fn open_read_only(home: &Path) -> Result<Registry, RegistryError> {
        Registry::open_read_only_with(home, &Database::in_home(home))
    }

    pub fn open_read_only_with(home: &Path, database: &Database) -> Result<Registry, RegistryError> {
        let public = identity::load_public(home)?;
        let store = Store::connect_read_only(database)?;
        Ok(Registry { home: home.to_path_buf(), public, store })
    }

    /// The signing identity (asks for the passphrase if the key is encrypted).
    pub fn signer(&self, passphrase: Option<&str>) -> Result<Identity, RegistryError> {
        identity::load(&self.home, passphrase)
    }
}
