//! A data directory opened only when it already holds a store: the commands that look works
//! up (`works`, `search`, `scan`, `verify IMAGE`, `watermark`) make nothing where there is
//! nothing.

use std::path::Path;

use crate::{Database, Registry, RegistryError};

/// The store's file in a data directory.
pub const STORE_FILE: &str = "journal.sqlite3";

/// Whether `database` exists: an SQLite file that is there, or any PostgreSQL database (its
/// tables are made on first use, with nothing in them).
pub fn has_store(database: &Database) -> bool {
    match database {
        Database::Sqlite(path) => path.exists(),
        Database::Postgres(_) => true,
    }
}

/// The registry in `home` with the store `database` names (see [`Registry::open_with`]) when
/// that store exists; none when not.
pub fn open_if_stored(home: &Path, database: &Database) -> Result<Option<Registry>, RegistryError> {
    if !has_store(database) {
        return Ok(None);
    }
    Registry::open_with(home, database).map(Some)
}
