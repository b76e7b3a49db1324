//! `handprint match`: a matcher process, holding one part of the search index (the works
//! whose ID is I modulo N) and answering the registry server's fingerprints over a small
//! internal HTTP API (docs/server.md, "Matchers"). It loads its part from the store when it
//! starts and follows new rows every 250 ms; it keeps nothing of its own, so a matcher that
//! died is replaced by starting another.

use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use fingerprint::catalog::{PDQ_RADIUS, WorkId};
use registry::search::{Part, SearchIndex};
use registry::shards::{self, MatchQuery, PdqQuery, WirePart};
use registry::{Database, RegistryError};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::Semaphore;

use crate::error::ApiError;
use crate::limits::{Limits, RateLimiter};
use crate::metrics::Metrics;
use crate::pool::Pool;
use crate::state::catch_up;

/// How a matcher is set up.
#[derive(Clone, Debug)]
pub struct MatcherConfig {
    pub listen: SocketAddr,
    pub part: Part,
    /// The store it follows (the registry server's).
    pub database: Database,
    pub limits: Limits,
    /// Where the part's catalog snapshot is kept: a restart opens it and catches up from the
    /// store instead of rebuilding the part. None: rebuilt at every start.
    pub snapshot: Option<std::path::PathBuf>,
}

pub struct MatcherState {
    pool: Pool,
    index: RwLock<SearchIndex>,
    limits: Limits,
    rate: RateLimiter,
    in_flight: Arc<Semaphore>,
    metrics: Metrics,
}

crate::limits::guarded_by_fields!(MatcherState);

/// The most hashes one PDQ query may ask for (the server's batch limit).
const MAX_HASHES: usize = crate::api::MAX_BATCH;

impl MatcherState {
    /// Loads the part from the store.
    pub fn open(config: &MatcherConfig) -> Result<MatcherState, ApiError> {
        let pool = Pool::new(config.database.clone());
        let part = config.part;
        let index = match &config.snapshot {
            Some(dir) => pool.with(|store| SearchIndex::open(store, dir, part))?,
            None => pool.with(|store| SearchIndex::load_part(store, part))?,
        };
        if let Some(why) = &index.rebuilt {
            eprintln!("handprint match: the part's catalog was rebuilt from the store: {why}");
        }
        let limits = config.limits.clone();
        Ok(MatcherState {
            pool,
            index: RwLock::new(index),
            rate: RateLimiter::new(limits.rate, limits.burst),
            in_flight: Arc::new(Semaphore::new(limits.in_flight.max(1))),
            metrics: Metrics::default(),
            limits,
        })
    }

    /// Follows the store up to now.
    pub fn catch_up(&self) -> Result<usize, RegistryError> {
        catch_up(&self.pool, &self.index)
    }

    /// The part, the works it holds and the highest work ID seen.
    fn status(&self) -> (WirePart, usize, WorkId) {
        let index = self.index.read().unwrap_or_else(|p| p.into_inner());
        (index.part().into(), index.works(), index.last())
    }
}

/// The matcher's routes, inside the limits every request passes.
pub fn router(state: Arc<MatcherState>) -> Router {
    let limits = state.limits.clone();
    Router::new()
        .route("/v1/match", post(match_fingerprint).get(match_pdq_get))
        .route("/v1/match/pdq", post(match_pdq))
        .route("/healthz", get(healthz))
        .fallback(crate::api::not_found)
        .layer(DefaultBodyLimit::max(limits.max_upload))
        .layer(axum::middleware::from_fn_with_state(state.clone(), crate::limits::guard::<MatcherState>))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(crate::error::panicked))
        .with_state(state)
}

/// Runs registry work on the blocking pool.
async fn blocking<T: Send + 'static>(
    state: &Arc<MatcherState>,
    f: impl FnOnce(&MatcherState) -> Result<T, RegistryError> + Send + 'static,
) -> Result<T, ApiError> {
    let s = state.clone();
    tokio::task::spawn_blocking(move || f(&s))
        .await
        .map_err(|_| ApiError::internal("the matcher failed on this request"))?
        .map_err(ApiError::from)
}

async fn match_fingerprint(
    State(state): State<Arc<MatcherState>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let query: MatchQuery =
        serde_json::from_slice(&body).map_err(|e| ApiError::invalid(format!("the query: {e}")))?;
    let answer = blocking(&state, move |s| {
        if let Some(seen) = query.seen
            && s.status().2 < seen
        {
            // Asked for works stored after the last look: look now.
            s.catch_up()?;
            if s.status().2 < seen {
                return Err(RegistryError::Unavailable {
                    at: "this matcher".into(),
                    message: format!("work {seen} is not in the store yet"),
                });
            }
        }
        let index = s.index.read().unwrap_or_else(|p| p.into_inner());
        shards::answer_match(&index, &query)
    })
    .await?;
    Ok(axum::Json(answer).into_response())
}

async fn match_pdq(State(state): State<Arc<MatcherState>>, body: Bytes) -> Result<Response, ApiError> {
    let query: PdqQuery =
        serde_json::from_slice(&body).map_err(|e| ApiError::invalid(format!("the query: {e}")))?;
    pdq_answer(state, query).await
}

#[derive(Deserialize)]
struct PdqGet {
    pdq: Option<String>,
    radius: Option<u32>,
}

async fn match_pdq_get(
    State(state): State<Arc<MatcherState>>,
    Query(q): Query<PdqGet>,
) -> Result<Response, ApiError> {
    let pdq = q.pdq.ok_or_else(|| ApiError::invalid("give ?pdq=HEX (64 hexadecimal digits)"))?;
    pdq_answer(state, PdqQuery { hashes: vec![pdq], radius: q.radius.unwrap_or(PDQ_RADIUS) }).await
}

async fn pdq_answer(state: Arc<MatcherState>, query: PdqQuery) -> Result<Response, ApiError> {
    if query.hashes.len() > MAX_HASHES {
        return Err(ApiError::invalid(format!("{} hashes: at most {MAX_HASHES}", query.hashes.len())));
    }
    let answer = blocking(&state, move |s| {
        let index = s.index.read().unwrap_or_else(|p| p.into_inner());
        shards::answer_pdq(&index, &query)
    })
    .await?;
    Ok(axum::Json(answer).into_response())
}

async fn healthz(State(state): State<Arc<MatcherState>>) -> Response {
    let (part, works, last) = state.status();
    axum::Json(json!({ "status": "ok", "part": part, "works": works, "last": last })).into_response()
}

/// Loads the part, follows the store every 250 ms, and serves until Ctrl-C or SIGTERM.
/// `ready` is told the address and how many works the part holds once it listens.
pub async fn serve_matcher(
    config: MatcherConfig,
    ready: impl FnOnce(SocketAddr, usize),
) -> Result<(), ApiError> {
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| ApiError::internal(format!("cannot listen on {}: {e}", config.listen)))?;
    let addr = listener.local_addr().map_err(|e| ApiError::internal(e.to_string()))?;
    let state = tokio::task::spawn_blocking(move || MatcherState::open(&config))
        .await
        .map_err(|e| ApiError::internal(format!("starting: {e}")))??;
    let state = Arc::new(state);
    tokio::spawn(follow(state.clone(), Duration::from_millis(250)));
    tokio::spawn(merge(state.clone(), Duration::from_secs(1)));
    ready(addr, state.status().1);
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(crate::shutdown())
        .await
        .map_err(|e| ApiError::internal(format!("serving: {e}")))
}

/// Merges new works into the part's next base when due, apart from following.
async fn merge(state: Arc<MatcherState>, every: Duration) {
    loop {
        tokio::time::sleep(every).await;
        let s = state.clone();
        match tokio::task::spawn_blocking(move || crate::state::merge_if_due(&s.pool, &s.index)).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => eprintln!("handprint match: merging the catalog: {e}"),
            Err(e) => eprintln!("handprint match: merging the catalog failed: {e}"),
        }
    }
}

async fn follow(state: Arc<MatcherState>, every: Duration) {
    loop {
        tokio::time::sleep(every).await;
        let s = state.clone();
        match tokio::task::spawn_blocking(move || s.catch_up()).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => eprintln!("handprint match: following the store: {e}"),
            Err(e) => eprintln!("handprint match: following the store failed: {e}"),
        }
    }
}
