//! Limits on every request: a per-client rate, a bound on requests in flight and on decodes
//! at once (beyond which the server answers 503 with Retry-After instead of growing its
//! memory), and a deadline per request.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::state::AppState;

#[derive(Clone, Debug)]
pub struct Limits {
    /// The largest upload (an image to look up), in bytes.
    pub max_upload: usize,
    /// The largest publication request (image and evidence, base64 in JSON), in bytes.
    pub max_publish: usize,
    /// Images decoded at once.
    pub decodes: usize,
    /// Requests that may wait for a decoder, and for how long; beyond either, 503.
    pub decode_queue: usize,
    pub decode_wait: Duration,
    /// Requests in flight at once, beyond which the server sheds load with 503.
    pub in_flight: usize,
    /// Requests per second each client address may make, and the burst it may save up.
    pub rate: f64,
    pub burst: f64,
    /// How long a request may take, body included.
    pub timeout: Duration,
    /// How old a publication's signature may be.
    pub signature_max_age: u64,
    /// How long a look-up waits for the matchers (when they hold the index): one slower
    /// is left out, and the answer says it is partial.
    pub matcher_deadline: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Limits {
            max_upload: 32 << 20,
            max_publish: 96 << 20,
            decodes: cores,
            decode_queue: 4 * cores,
            decode_wait: Duration::from_secs(2),
            in_flight: 1024,
            rate: 200.0,
            burst: 400.0,
            timeout: Duration::from_secs(30),
            signature_max_age: 300,
            matcher_deadline: Duration::from_secs(2),
        }
    }
}

/// Token buckets per client address, forgetting idle clients.
pub struct RateLimiter {
    buckets: Mutex<HashMap<IpAddr, (f64, Instant)>>,
    rate: f64,
    burst: f64,
}

impl RateLimiter {
    pub fn new(rate: f64, burst: f64) -> RateLimiter {
        RateLimiter { buckets: Mutex::new(HashMap::new()), rate, burst }
    }

    /// Takes a token for `ip`; false when it has none left.
    pub fn allow(&self, ip: IpAddr) -> bool {
        let now = Instant::now();
        let mut b = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        // Bounded memory: a full table drops the clients whose buckets have refilled.
        if b.len() >= 100_000 {
            let (rate, burst) = (self.rate, self.burst);
            b.retain(|_, (tokens, at)| *tokens + now.duration_since(*at).as_secs_f64() * rate < burst);
        }
        let (tokens, at) = b.entry(ip).or_insert((self.burst, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * self.rate).min(self.burst);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// A permit to decode one image. A request waits for a decoder only while fewer than
/// [`Limits::decode_queue`] wait and for at most [`Limits::decode_wait`]; beyond that it is
/// shed with 503 and Retry-After (the queue, not the memory, is what grows).
pub async fn decode_permit(state: &AppState) -> Result<OwnedSemaphorePermit, ApiError> {
    let busy = || ApiError::busy("every image decoder is busy: try again in a moment", 1);
    if let Ok(p) = state.decodes.clone().try_acquire_owned() {
        return Ok(p);
    }
    let waiting = state.decode_waiting.fetch_add(1, Ordering::AcqRel);
    let permit = if waiting < state.limits.decode_queue {
        tokio::time::timeout(state.limits.decode_wait, state.decodes.clone().acquire_owned())
            .await
            .ok()
            .and_then(Result::ok)
    } else {
        None
    };
    state.decode_waiting.fetch_sub(1, Ordering::AcqRel);
    permit.ok_or_else(busy)
}

/// What [`guard`] needs of a server's state: the public registry's, or a matcher's.
pub trait Guarded: Send + Sync + 'static {
    fn limits(&self) -> &Limits;
    fn rate(&self) -> &RateLimiter;
    fn in_flight(&self) -> &Arc<Semaphore>;
    fn metrics(&self) -> &Metrics;
}

/// [`Guarded`] for a state with fields `limits`, `rate`, `in_flight` and `metrics`.
macro_rules! guarded_by_fields {
    ($state:ty) => {
        impl $crate::limits::Guarded for $state {
            fn limits(&self) -> &$crate::limits::Limits {
                &self.limits
            }
            fn rate(&self) -> &$crate::limits::RateLimiter {
                &self.rate
            }
            fn in_flight(&self) -> &std::sync::Arc<tokio::sync::Semaphore> {
                &self.in_flight
            }
            fn metrics(&self) -> &$crate::metrics::Metrics {
                &self.metrics
            }
        }
    };
}
pub(crate) use guarded_by_fields;

guarded_by_fields!(AppState);

/// Every request passes here: rate, load and time limits, and the metrics.
pub async fn guard<S: Guarded>(
    State(state): State<Arc<S>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let route = crate::metrics::route_of(request.uri().path());
    let limit = match request.uri().path() {
        "/v1/publications" => state.limits().max_publish,
        "/lookup" => state.limits().max_upload + 64 * 1024,
        _ => state.limits().max_upload,
    };
    let declared = request
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let response = if declared.is_some_and(|n| n > limit as u64) {
        // Refused from its declared length, before a byte of the body is read.
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("the body is larger than {limit} bytes"),
        )
        .into_response()
    } else if !state.rate().allow(peer.ip()) {
        let mut e = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many requests from your address",
        );
        e.retry_after = Some(1);
        e.into_response()
    } else {
        match state.in_flight().clone().try_acquire_owned() {
            Err(_) => ApiError::busy("the server is at capacity: try again in a moment", 1).into_response(),
            Ok(_permit) => match tokio::time::timeout(state.limits().timeout, next.run(request)).await {
                Ok(r) => r,
                Err(_) => ApiError::busy(
                    format!("the request took longer than {} s", state.limits().timeout.as_secs()),
                    5,
                )
                .into_response(),
            },
        }
    };
    let response = json_errors(response).await;
    state.metrics().observe(route, response.status().as_u16(), started.elapsed());
    let h = response.headers().clone();
    let mut response = response;
    let headers = response.headers_mut();
    for (name, value) in [
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
        (
            "content-security-policy",
            "default-src 'none'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
        ),
    ] {
        if !h.contains_key(name) {
            headers.insert(name, value.parse().expect("static header"));
        }
    }
    response
}

/// Errors answered by the framework itself (a query that does not parse, a body over its
/// limit, a method a route lacks) as handprint's JSON error body, like every other error.
async fn json_errors(response: Response) -> Response {
    let status = response.status();
    let typed =
        response.headers().get(axum::http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if status.as_u16() < 400 || typed.starts_with("application/json") || typed.starts_with("text/html") {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 64 * 1024).await.unwrap_or_default();
    let mut message = String::from_utf8_lossy(&text).trim().to_owned();
    if message.is_empty() {
        message = status.canonical_reason().unwrap_or("refused").to_lowercase();
    }
    let kind = match status.as_u16() {
        405 => "method_not_allowed",
        413 => "too_large",
        415 => "unsupported_media_type",
        s if s >= 500 => "internal",
        _ => "invalid",
    };
    let mut answer = ApiError::new(status, kind, message).into_response();
    for (name, value) in parts.headers.iter() {
        if name != axum::http::header::CONTENT_TYPE && name != axum::http::header::CONTENT_LENGTH {
            answer.headers_mut().insert(name, value.clone());
        }
    }
    answer
}
