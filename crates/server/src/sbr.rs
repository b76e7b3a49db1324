//! The C2PA Soft Binding Resolution API (C2PA 2.2, "Soft Binding API", OpenAPI 1.0.0) at
//! `/sbr/`: a C2PA client that reads handprint's watermark (or computes a PDQ hash) from a
//! copy stripped of its credentials gets the work's manifest store back.
//!
//! Query answers are always `{"matches": [...]}` (empty when nothing matches), error
//! bodies are handprint's `{"error", "message"}` (the API leaves them open).

use std::path::Path;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use fingerprint::catalog::PDQ_RADIUS;
use fingerprint::pdq::PdqHash;
use registry::lookup::{self, ClaimFound};
use registry::shards::Coverage;
use registry::verify_image::VerifyOptions;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api::{blocking, manifest_store, with_coverage};
use crate::error::ApiError;
use crate::limits::decode_permit;
use crate::state::AppState;

/// handprint's invisible watermark; the binding value is the 8-byte watermark ID, big-endian.
pub const WATERMARK_ALG: &str = credentials::WATERMARK_ALG;
/// Meta's PDQ hash; the binding value is its 32 bytes, in the order of its hexadecimal form.
pub const PDQ_ALG: &str = "org.handprint.pdq.1";
/// The most matches one query returns.
pub const MAX_RESULTS: usize = 100;

pub async fn supported_algorithms() -> Response {
    axum::Json(json!({
        "watermarks": [{ "alg": WATERMARK_ALG }],
        "fingerprints": [{ "alg": PDQ_ALG }],
    }))
    .into_response()
}

#[derive(Deserialize)]
pub struct BindingQuery {
    alg: Option<String>,
    value: Option<String>,
    #[serde(rename = "maxResults")]
    max_results: Option<i64>,
}

#[derive(Deserialize)]
pub struct Max {
    #[serde(rename = "maxResults")]
    max_results: Option<i64>,
    alg: Option<String>,
}

#[derive(Deserialize)]
struct BindingBody {
    alg: String,
    value: String,
}

fn max_results(m: Option<i64>) -> Result<usize, ApiError> {
    match m {
        None => Ok(10),
        Some(n) if n >= 1 => Ok((n as usize).min(MAX_RESULTS)),
        Some(n) => Err(ApiError::invalid(format!("maxResults {n}: at least 1"))),
    }
}

/// base64 as clients send it: standard or URL-safe, padded or not, `+` that a query string
/// turned into a space.
fn lenient_base64(text: &str) -> Result<Vec<u8>, ApiError> {
    let t = text.trim().replace(' ', "+");
    [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|e| e.decode(&t).ok())
        .ok_or_else(|| ApiError::invalid("value: not base64"))
}

pub async fn by_binding_get(
    State(state): State<Arc<AppState>>,
    Query(q): Query<BindingQuery>,
) -> Result<Response, ApiError> {
    let alg = q.alg.ok_or_else(|| ApiError::invalid("alg is required"))?;
    let value = q.value.ok_or_else(|| ApiError::invalid("value is required"))?;
    by_binding(state, alg, value, max_results(q.max_results)?).await
}

pub async fn by_binding_post(
    State(state): State<Arc<AppState>>,
    Query(m): Query<Max>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let b: BindingBody =
        serde_json::from_slice(&body).map_err(|e| ApiError::invalid(format!("the query: {e}")))?;
    by_binding(state, b.alg, b.value, max_results(m.max_results)?).await
}

async fn by_binding(
    state: Arc<AppState>,
    alg: String,
    value: String,
    max: usize,
) -> Result<Response, ApiError> {
    let bytes = lenient_base64(&value)?;
    let matches = if alg == WATERMARK_ALG {
        let id: [u8; 8] = bytes.try_into().map_err(|_| {
            ApiError::invalid(format!("{WATERMARK_ALG}: the value is 8 bytes (the watermark ID)"))
        })?;
        let id = u64::from_be_bytes(id);
        blocking(&state, move |_, store| {
            let Some(work) = store.work_by_watermark(id)? else { return Ok((vec![], None)) };
            let Some(p) = store.publication(work.id)? else { return Ok((vec![], None)) };
            let found = p.manifest_id.map(|m| json!({ "manifestId": m, "similarityScore": 100 }));
            Ok((found.into_iter().collect(), None))
        })
        .await?
    } else if alg == PDQ_ALG {
        let hash = pdq_from_bytes(&bytes).ok_or_else(|| {
            ApiError::invalid(format!("{PDQ_ALG}: the value is the 32 bytes of a PDQ hash"))
        })?;
        blocking(&state, move |s, store| {
            let (mut found, coverage) =
                s.with_finder(|finder| lookup::lookup_pdqs(store, finder, &[hash], PDQ_RADIUS))?;
            Ok((matches(&found.pop().expect("one answer per hash").claims), coverage))
        })
        .await?
    } else {
        return Err(ApiError::invalid(format!(
            "unsupported soft binding algorithm {alg:?}: see /sbr/services/supportedAlgorithms"
        )));
    };
    Ok(answer(matches, max))
}

fn pdq_from_bytes(b: &[u8]) -> Option<PdqHash> {
    (b.len() == 32).then(|| lookup::parse_pdq(&hex::encode(b)).ok()).flatten()
}

/// Claims as soft-binding matches, strongest first: a watermark names its work exactly; a
/// fingerprint scores by its distance.
fn matches(claims: &[ClaimFound]) -> Vec<Value> {
    let mut scored: Vec<(u32, &ClaimFound)> = claims
        .iter()
        .filter(|c| c.publication.withdrawn.is_none())
        .map(|c| {
            let score = if c.found_by.contains(&"watermark") {
                100
            } else if let Some(d) =
                c.pdq_distance.or(c.fingerprint.as_ref().and_then(|f| f.pdq.as_ref().map(|p| p.distance)))
            {
                100 - d * 100 / 256
            } else {
                match c.fingerprint.as_ref().map(|f| f.confidence) {
                    Some("high") => 90,
                    _ => 70,
                }
            };
            (score, c)
        })
        .collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.publication.log_index.cmp(&b.1.publication.log_index)));
    scored
        .into_iter()
        .filter_map(|(score, c)| {
            c.publication.manifest_id.as_ref().map(|m| json!({ "manifestId": m, "similarityScore": score }))
        })
        .collect()
}

/// The matches, at most `max`; with matchers, whether every part of the index answered.
fn answer((mut matches, coverage): (Vec<Value>, Option<Coverage>), max: usize) -> Response {
    matches.truncate(max);
    axum::Json(with_coverage(json!({ "matches": matches }), coverage.as_ref())).into_response()
}

pub async fn by_content(
    State(state): State<Arc<AppState>>,
    Query(m): Query<Max>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let max = max_results(m.max_results)?;
    if let Some(alg) = m.alg.as_deref().filter(|a| *a != WATERMARK_ALG && *a != PDQ_ALG) {
        return Err(ApiError::invalid(format!("unsupported soft binding algorithm {alg:?}")));
    }
    let declared = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if credentials::Format::sniff(&body).is_none()
        || !(declared.is_empty()
            || declared.starts_with("image/")
            || declared.starts_with("application/octet-stream"))
    {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send a JPEG, PNG or WebP image as the request body",
        ));
    }
    let only = m.alg;
    let permit = decode_permit(&state).await?;
    let found = blocking(&state, move |s, store| {
        let found = s.with_finder(|finder| {
            lookup::lookup_image(store, finder, Path::new("upload"), &body, &VerifyOptions::default(), false)
        });
        drop(permit);
        let found = found?;
        let mut claims = found.claims;
        if let Some(alg) = only {
            let by = if alg == WATERMARK_ALG { "watermark" } else { "fingerprint" };
            claims.retain(|c| c.found_by.contains(&by));
        }
        Ok((matches(&claims), found.coverage))
    })
    .await?;
    Ok(answer(found, max))
}

pub async fn manifest(
    State(state): State<Arc<AppState>>,
    UrlPath(id): UrlPath<String>,
) -> Result<Response, ApiError> {
    if id.is_empty() || id.len() > 256 {
        return Err(ApiError::invalid("not a manifest identifier"));
    }
    let bytes = blocking(&state, move |_, store| {
        let p = store
            .publication_by_manifest(&id)?
            .ok_or_else(|| registry::RegistryError::NotFound(format!("no manifest {id}")))?;
        manifest_store(store, p.work)?
            .ok_or_else(|| registry::RegistryError::NotFound(format!("no manifest store kept for {id}")))
    })
    .await?;
    Ok(([(header::CONTENT_TYPE, "application/c2pa")], bytes).into_response())
}
