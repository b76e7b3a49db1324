//! A data directory opened only when it already holds a store: the commands that look works
//! up (`works`, `search`, `scan`, `verify IMAGE`, `watermark`) make nothing where there is
//! nothing.

use std::path::Path;

use crate::{Registry, RegistryError};

/// The store's file in a data directory.
pub const STORE_FILE: &str = "journal.sqlite3";

/// Whether `home` holds a store.
pub fn has_store(home: &Path) -> bool {
    home.join(STORE_FILE).exists()
}

/// The registry in `home` (see [`Registry::open`]) when it holds a store; none when not.
pub fn open_if_stored(home: &Path) -> Result<Option<Registry>, RegistryError> {
    if !has_store(home) {
        return Ok(None);
    }
    Registry::open(home).map(Some)
}
