//! Store connections for the blocking pool: one per running call, kept for the next.

use std::sync::Mutex;

use registry::{Database, ErrorKind, RegistryError, Store};

pub struct Pool {
    database: Database,
    idle: Mutex<Vec<Store>>,
}

impl Pool {
    pub fn new(database: Database) -> Pool {
        Pool { database, idle: Mutex::new(Vec::new()) }
    }

    pub fn shown(&self) -> String {
        self.database.shown()
    }

    /// Runs `f` with a connection. One that failed as unavailable is dropped, not reused.
    pub fn with<T>(&self, f: impl FnOnce(&Store) -> Result<T, RegistryError>) -> Result<T, RegistryError> {
        let taken = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let store = match taken {
            Some(s) => s,
            None => Store::connect(&self.database)?,
        };
        let result = f(&store);
        if !matches!(&result, Err(e) if e.kind() == ErrorKind::Unavailable) {
            let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
            if idle.len() < 64 {
                idle.push(store);
            }
        }
        result
    }
}
