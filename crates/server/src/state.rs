//! What every request shares: the store pool, the search index, the log's key, the limits.

use std::collections::HashMap;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use ed25519_dalek::SigningKey;
use registry::search::{NewWorks, SearchIndex};
use registry::{Database, RegistryError};
use tokio::sync::Semaphore;

use crate::Config;
use crate::error::ApiError;
use crate::limits::{Limits, RateLimiter};
use crate::metrics::Metrics;
use crate::pool::Pool;

pub struct AppState {
    pub pool: Pool,
    pub index: RwLock<SearchIndex>,
    /// The key that signs the log of publications.
    pub log_key: SigningKey,
    /// The log's name in its checkpoints.
    pub origin: String,
    /// The server's own URL, without a trailing slash ("" for links relative to the host).
    pub public_url: String,
    /// Publications one at a time: a publication's disputes are decided against every
    /// work published before it.
    pub publishing: Mutex<()>,
    pub decodes: Arc<Semaphore>,
    /// Requests waiting for a decoder.
    pub decode_waiting: AtomicUsize,
    pub in_flight: Arc<Semaphore>,
    pub rate: RateLimiter,
    /// Nonces of accepted signatures, with their creation times: a replay is refused.
    pub nonces: Mutex<HashMap<String, u64>>,
    pub metrics: Metrics,
    pub limits: Limits,
    pub works_indexed: AtomicUsize,
    pub domains: registry::domain::Fetching,
}

/// The data directory's layout.
pub const IDENTITY_DIR: &str = "identity";
pub const STORE_FILE: &str = "registry.sqlite";

impl AppState {
    /// Opens (creating on first start) the data directory, its identity and the store, and
    /// loads the index.
    pub fn open(config: &Config) -> Result<AppState, ApiError> {
        let data = &config.data;
        std::fs::create_dir_all(data).map_err(|e| {
            ApiError::internal(format!("{}: cannot create the data directory: {e}", data.display()))
        })?;
        let identity = data.join(IDENTITY_DIR);
        if !identity.join("identity.json").exists() {
            std::fs::create_dir_all(&identity)
                .map_err(|e| ApiError::internal(format!("{}: {e}", identity.display())))?;
            registry::identity::create(&identity, "handprint registry", None)?;
        }
        let key = registry::identity::load(&identity, None)?.key;
        let database = config.database.clone().unwrap_or_else(|| Database::Sqlite(data.join(STORE_FILE)));
        let pool = Pool::new(database);
        let index = pool.with(SearchIndex::load)?;
        let limits = config.limits.clone();
        Ok(AppState {
            works_indexed: AtomicUsize::new(index.works()),
            pool,
            index: RwLock::new(index),
            origin: ledger::checkpoint::origin_for(&key.verifying_key()),
            log_key: key,
            public_url: config.public_url.clone().unwrap_or_default().trim_end_matches('/').to_owned(),
            publishing: Mutex::new(()),
            decodes: Arc::new(Semaphore::new(limits.decodes.max(1))),
            decode_waiting: AtomicUsize::new(0),
            in_flight: Arc::new(Semaphore::new(limits.in_flight.max(1))),
            rate: RateLimiter::new(limits.rate, limits.burst),
            nonces: Mutex::new(HashMap::new()),
            metrics: Metrics::default(),
            limits,
            domains: config.domains.clone(),
        })
    }

    /// Adds works stored since the index last looked (by this server or another sharing
    /// the database): read without the index locked, added with it.
    pub fn catch_up(&self) -> Result<usize, RegistryError> {
        let mut added = 0;
        loop {
            let last = self.index.read().unwrap_or_else(|p| p.into_inner()).last();
            let new = self.pool.with(|s| NewWorks::fetch(s, last))?;
            if new.is_empty() {
                return Ok(added);
            }
            let mut index = self.index.write().unwrap_or_else(|p| p.into_inner());
            added += index.add(new);
            self.works_indexed.store(index.works(), std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// A link to `path` on this server.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.public_url)
    }
}

/// Follows the store every `every`, so a work published through another server sharing
/// the database is found within a second.
pub async fn follow(state: Arc<AppState>, every: Duration) {
    loop {
        tokio::time::sleep(every).await;
        let s = state.clone();
        match tokio::task::spawn_blocking(move || s.catch_up()).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => eprintln!("handprint serve: following the store: {e}"),
            Err(e) => eprintln!("handprint serve: following the store failed: {e}"),
        }
    }
}
