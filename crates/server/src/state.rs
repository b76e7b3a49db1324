//! What every request shares: the store pool, the search (the server's own index, or the
//! matchers that hold it in parts), the log's key, the limits.

use std::collections::HashMap;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use ed25519_dalek::SigningKey;
use registry::search::{NewWorks, SearchIndex};
use registry::shards::{Finder, Matchers};
use registry::{Database, RegistryError};
use tokio::sync::Semaphore;

use crate::Config;
use crate::error::ApiError;
use crate::limits::{Limits, RateLimiter};
use crate::metrics::Metrics;
use crate::pool::Pool;

/// Where look-ups and publications search.
pub enum Search {
    /// The server's own index of every work, followed.
    Local(Box<RwLock<SearchIndex>>),
    /// Matcher processes, each holding one part of the index and following the store
    /// itself: the server holds no catalog.
    Matchers(Matchers),
}

pub struct AppState {
    pub pool: Pool,
    pub search: Search,
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
        let (search, works) = if config.matchers.is_empty() {
            let snapshot = data.join(registry::search::CATALOG_DIR);
            let index = pool.with(|s| SearchIndex::open(s, &snapshot, registry::search::Part::WHOLE))?;
            if let Some(why) = &index.rebuilt {
                eprintln!("handprint serve: the catalog was rebuilt from the store: {why}");
            }
            let works = index.works();
            (Search::Local(Box::new(RwLock::new(index))), works)
        } else {
            (Search::Matchers(Matchers::new(&config.matchers, config.limits.matcher_deadline)?), 0)
        };
        let limits = config.limits.clone();
        Ok(AppState {
            works_indexed: AtomicUsize::new(works),
            pool,
            search,
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
    /// the database). Matchers follow the store themselves: then only the count of works
    /// is taken from their last complete answer.
    pub fn catch_up(&self) -> Result<usize, RegistryError> {
        let index = match &self.search {
            Search::Local(index) => index,
            Search::Matchers(m) => {
                self.works_indexed.store(m.works(), std::sync::atomic::Ordering::Relaxed);
                return Ok(0);
            }
        };
        let added = catch_up(&self.pool, index)?;
        let works = index.read().unwrap_or_else(|p| p.into_inner()).works();
        self.works_indexed.store(works, std::sync::atomic::Ordering::Relaxed);
        Ok(added)
    }

    /// Runs `f` with where to search: the index (read-locked meanwhile) or the matchers.
    pub fn with_finder<T>(&self, f: impl FnOnce(Finder<'_>) -> T) -> T {
        match &self.search {
            Search::Local(index) => f(Finder::Index(&index.read().unwrap_or_else(|p| p.into_inner()))),
            Search::Matchers(m) => f(Finder::Matchers(m)),
        }
    }

    /// A link to `path` on this server.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.public_url)
    }
}

/// Adds works stored since `index` last looked: read without the index locked, added with
/// it. The server's index and a matcher's part follow the store alike.
pub fn catch_up(pool: &Pool, index: &RwLock<SearchIndex>) -> Result<usize, RegistryError> {
    let mut added = 0;
    loop {
        let last = index.read().unwrap_or_else(|p| p.into_inner()).last();
        let new = pool.with(|s| NewWorks::fetch(s, last))?;
        if new.is_empty() {
            return Ok(added);
        }
        added += index.write().unwrap_or_else(|p| p.into_inner()).add(new);
    }
}

/// Merges the works added since the catalog's base into a new base and snapshot, when due:
/// built with no lock held (searches and catch-ups go on), swapped in under the write lock.
pub fn merge_if_due(pool: &Pool, index: &RwLock<SearchIndex>) -> Result<bool, RegistryError> {
    let pending = {
        let index = index.read().unwrap_or_else(|p| p.into_inner());
        // Checked before a store connection is taken: most seconds no merge is due.
        if !index.catalog.should_merge() {
            return Ok(false);
        }
        pool.with(|s| index.merge_due(s))?
    };
    let Some(pending) = pending else { return Ok(false) };
    let merged = pending.run()?;
    index.write().unwrap_or_else(|p| p.into_inner()).install(merged);
    Ok(true)
}

/// Runs [`merge_if_due`] every `every`, apart from following, so a merge never delays a
/// new work being found.
pub async fn merge(state: Arc<AppState>, every: Duration) {
    loop {
        tokio::time::sleep(every).await;
        if !matches!(state.search, Search::Local(_)) {
            return;
        }
        let s = state.clone();
        let merged = tokio::task::spawn_blocking(move || match &s.search {
            Search::Local(index) => merge_if_due(&s.pool, index),
            Search::Matchers(_) => Ok(false),
        })
        .await;
        match merged {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => eprintln!("handprint serve: merging the catalog: {e}"),
            Err(e) => eprintln!("handprint serve: merging the catalog failed: {e}"),
        }
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
