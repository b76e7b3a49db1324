//! `handprint serve`: the public registry over HTTP — a thin skin over the registry layer.
//!
//! Creators publish sealed works with signed requests (RFC 9421); anyone looks an image up
//! (`/v1/lookup`, the web page, the C2PA Soft Binding Resolution API at `/sbr/`); the
//! server's log of publications is served with its checkpoints and proofs. docs/server.md
//! specifies the API and the log.
//!
//! Every registry call runs on the blocking pool with a store connection of its own; the
//! search index is loaded once and followed (new works are added as they are stored, by
//! this process or another sharing the database) — or, with matchers, held in parts by
//! matcher processes (`matcher`) that the server asks at once.

mod api;
mod error;
mod limits;
mod matcher;
mod metrics;
mod pool;
mod sbr;
mod state;
mod web;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use registry::Database;

pub use error::ApiError;
pub use limits::Limits;
pub use matcher::{MatcherConfig, serve_matcher};
pub use state::AppState;

/// How the server is set up.
#[derive(Clone, Debug)]
pub struct Config {
    /// Where it listens.
    pub listen: SocketAddr,
    /// Its data directory: the log's signing identity, and the SQLite store unless
    /// `database` names another. The server reads and writes nothing outside it.
    pub data: PathBuf,
    /// The store; `DATA/registry.sqlite` when none is given.
    pub database: Option<Database>,
    /// The URL the public reaches the server at (links in pages and answers).
    pub public_url: Option<String>,
    pub limits: Limits,
    /// How domain proofs are fetched (the defaults: public HTTPS only).
    pub domains: registry::domain::Fetching,
    /// Matcher processes holding the search index in parts (`handprint match`), one per
    /// part; none: the server holds the whole index itself.
    pub matchers: Vec<String>,
}

/// The routes with every limit around them, over `state`.
pub fn router(state: Arc<AppState>) -> Router {
    let routes = routes(&state.limits);
    with_limits(routes, state)
}

/// The routes alone.
pub fn routes(limits: &Limits) -> Router<Arc<AppState>> {
    Router::new()
        .route("/", get(web::home))
        .route("/lookup", post(web::lookup).layer(DefaultBodyLimit::max(limits.max_upload + 64 * 1024)))
        .route("/works/{id}", get(web::work))
        .route("/works/{id}/thumbnail.png", get(api::thumbnail))
        .route("/works/{id}/image", get(api::image))
        .route("/works/{id}/evidence/{*path}", get(api::evidence))
        .route("/log", get(web::log))
        .route("/healthz", get(api::healthz))
        .route("/metrics", get(metrics::render))
        .route("/openapi.json", get(api::openapi))
        .route("/v1/publications", post(api::publish).layer(DefaultBodyLimit::max(limits.max_publish)))
        .route("/v1/works/{id}", get(api::work).delete(api::withdraw))
        .route("/v1/lookup", post(api::lookup_image).get(api::lookup_pdq))
        .route("/v1/lookup/pdq", post(api::lookup_pdq_batch))
        .route("/v1/log/checkpoint", get(api::checkpoint))
        .route("/v1/log/key", get(api::log_key))
        .route("/v1/log/entries", get(api::entries))
        .route("/v1/log/proof/inclusion", get(api::inclusion))
        .route("/v1/log/proof/consistency", get(api::consistency))
        .route("/sbr/services/supportedAlgorithms", get(sbr::supported_algorithms))
        .route("/sbr/matches/byBinding", get(sbr::by_binding_get).post(sbr::by_binding_post))
        .route("/sbr/matches/byContent", post(sbr::by_content))
        .route("/sbr/manifests/{id}", get(sbr::manifest))
        .fallback(api::not_found)
}

/// `routes` inside the limits every request passes: body size, rate, load, time, panics.
pub fn with_limits(routes: Router<Arc<AppState>>, state: Arc<AppState>) -> Router {
    let limits = state.limits.clone();
    routes
        .layer(DefaultBodyLimit::max(limits.max_upload))
        .layer(axum::middleware::from_fn_with_state(state.clone(), limits::guard))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(error::panicked))
        .with_state(state)
}

/// Opens the data directory and the store, loads the index, and serves until Ctrl-C or
/// SIGTERM. `ready` is told the address once it listens.
pub async fn serve(mut config: Config, ready: impl FnOnce(SocketAddr)) -> Result<(), ApiError> {
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| ApiError::internal(format!("cannot listen on {}: {e}", config.listen)))?;
    let addr = listener.local_addr().map_err(|e| ApiError::internal(e.to_string()))?;
    // Links in answers are absolute: to the address listened on unless a public URL is given.
    config.public_url.get_or_insert_with(|| format!("http://{addr}"));
    let state = tokio::task::spawn_blocking({
        let config = config.clone();
        move || AppState::open(&config)
    })
    .await
    .map_err(|e| ApiError::internal(format!("starting: {e}")))??;
    let state = Arc::new(state);
    tokio::spawn(state::follow(state.clone(), Duration::from_millis(250)));
    tokio::spawn(state::merge(state.clone(), Duration::from_secs(1)));
    ready(addr);
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown())
        .await
        .map_err(|e| ApiError::internal(format!("serving: {e}")))
}

pub(crate) async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
