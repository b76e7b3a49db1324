//! `/metrics` in the Prometheus text format: requests by route and status, their latency,
//! the works indexed, decodes and requests in flight.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use crate::state::AppState;

/// Latency bucket bounds, seconds.
const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

#[derive(Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    requests: BTreeMap<(&'static str, u16), u64>,
    /// Per route: bucket counts, sum of seconds, count.
    latency: BTreeMap<&'static str, ([u64; BUCKETS.len()], f64, u64)>,
}

/// The route a path belongs to, as a fixed label (paths with IDs are not labels).
pub fn route_of(path: &str) -> &'static str {
    match path {
        "/" => "/",
        "/lookup" => "/lookup",
        "/log" => "/log",
        "/healthz" => "/healthz",
        "/metrics" => "/metrics",
        "/openapi.json" => "/openapi.json",
        "/v1/publications" => "/v1/publications",
        "/v1/lookup" => "/v1/lookup",
        "/v1/lookup/pdq" => "/v1/lookup/pdq",
        p if p.starts_with("/v1/log/") => "/v1/log",
        p if p.starts_with("/v1/works/") => "/v1/works/{id}",
        p if p.starts_with("/works/") => "/works/{id}",
        "/sbr/matches/byBinding" => "/sbr/matches/byBinding",
        "/sbr/matches/byContent" => "/sbr/matches/byContent",
        p if p.starts_with("/sbr/") => "/sbr",
        _ => "other",
    }
}

impl Metrics {
    pub fn observe(&self, route: &'static str, status: u16, took: Duration) {
        let mut m = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        *m.requests.entry((route, status)).or_default() += 1;
        let s = took.as_secs_f64();
        let (buckets, sum, count) = m.latency.entry(route).or_default();
        for (b, bound) in buckets.iter_mut().zip(BUCKETS) {
            if s <= bound {
                *b += 1;
            }
        }
        *sum += s;
        *count += 1;
    }
}

pub async fn render(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    let mut out = String::new();
    {
        let m = state.metrics.inner.lock().unwrap_or_else(|p| p.into_inner());
        out.push_str("# HELP handprint_requests_total Requests answered, by route and status.\n");
        out.push_str("# TYPE handprint_requests_total counter\n");
        for ((route, status), n) in &m.requests {
            let _ = writeln!(out, "handprint_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}");
        }
        out.push_str("# HELP handprint_request_seconds Time to answer, by route.\n");
        out.push_str("# TYPE handprint_request_seconds histogram\n");
        for (route, (buckets, sum, count)) in &m.latency {
            for (n, bound) in buckets.iter().zip(BUCKETS) {
                let _ =
                    writeln!(out, "handprint_request_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {n}");
            }
            let _ =
                writeln!(out, "handprint_request_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {count}");
            let _ = writeln!(out, "handprint_request_seconds_sum{{route=\"{route}\"}} {sum}");
            let _ = writeln!(out, "handprint_request_seconds_count{{route=\"{route}\"}} {count}");
        }
    }
    let gauges = [
        (
            "handprint_works_indexed",
            "Works in the search index.",
            state.works_indexed.load(Ordering::Relaxed),
        ),
        (
            "handprint_decodes_in_flight",
            "Images being decoded.",
            state.limits.decodes - state.decodes.available_permits().min(state.limits.decodes),
        ),
        (
            "handprint_requests_in_flight",
            "Requests being answered.",
            state.limits.in_flight - state.in_flight.available_permits().min(state.limits.in_flight),
        ),
    ];
    for (name, help, v) in gauges {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}");
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], out)
}
