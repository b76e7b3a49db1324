//! The JSON API (`/v1/…`), the files of published works, `/healthz` and `/openapi.json`.

use std::path::Path;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::VerifyingKey;
use fingerprint::catalog::{PDQ_RADIUS, WorkId};
use registry::lookup::{self, ClaimFound};
use registry::publication::{self, MANIFEST_FILE, Submission};
use registry::shards::Coverage;
use registry::verify_image::VerifyOptions;
use registry::{RegistryError, Store};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::limits::decode_permit;
use crate::state::AppState;

/// Runs registry work on the blocking pool with a store connection. A panic there is a 500
/// for this request only.
pub async fn blocking<T: Send + 'static>(
    state: &Arc<AppState>,
    f: impl FnOnce(&AppState, &Store) -> Result<T, RegistryError> + Send + 'static,
) -> Result<T, ApiError> {
    let s = state.clone();
    tokio::task::spawn_blocking(move || s.pool.with(|store| f(&s, store)))
        .await
        .map_err(|e| {
            eprintln!("handprint serve: a registry call failed: {e}");
            ApiError::internal("the server failed on this request")
        })?
        .map_err(ApiError::from)
}

/// How pages and answers link to a work.
pub fn work_links(state: &AppState, id: WorkId, evidence_public: bool) -> Value {
    let mut links = json!({
        "page": state.url(&format!("/works/{id}")),
        "api": state.url(&format!("/v1/works/{id}")),
        "image": state.url(&format!("/works/{id}/image")),
        "thumbnail": state.url(&format!("/works/{id}/thumbnail.png")),
    });
    if evidence_public {
        links["evidence"] = json!(state.url(&format!("/works/{id}/evidence/")));
    }
    links
}

/// Claims as answered: each with its links.
pub fn claims_json(state: &AppState, claims: &[ClaimFound]) -> Value {
    Value::Array(
        claims
            .iter()
            .map(|c| {
                let mut v = serde_json::to_value(c).expect("claims serialize");
                v["status"] = json!(status(c.publication.withdrawn, &c.publication.disputes));
                v["links"] = work_links(state, c.work.id, c.publication.evidence_public);
                v
            })
            .collect(),
    )
}

/// `published`, `disputed` (it matches an earlier work under another key) or `withdrawn`.
pub fn status(withdrawn: Option<u64>, disputes: &[WorkId]) -> &'static str {
    match (withdrawn, disputes.is_empty()) {
        (Some(_), _) => "withdrawn",
        (None, false) => "disputed",
        (None, true) => "published",
    }
}

// ---- publishing ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublishRequest {
    /// The sealed image, base64.
    image: String,
    file_name: String,
    creator: String,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    license: Option<String>,
    #[serde(default)]
    evidence: Option<EvidenceIn>,
    /// A web domain whose `/.well-known/handprint.txt` lists the key.
    #[serde(default)]
    domain: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EvidenceIn {
    public: bool,
    files: Vec<EvidenceFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EvidenceFile {
    path: String,
    /// base64
    content: String,
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Checks the request's signature (RFC 9421, docs/server.md) and that its nonce is new.
fn signed_by(
    state: &AppState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<VerifyingKey, ApiError> {
    let authority = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| uri.authority().map(|a| a.as_str()))
        .ok_or_else(|| ApiError::invalid("no Host header"))?;
    let now = now();
    let max_age = state.limits.signature_max_age;
    let verified = httpsig::verify(
        method.as_str(),
        authority,
        uri.path(),
        uri.query(),
        headers,
        body,
        httpsig::PUBLISH_TAG,
        now,
        max_age,
    )
    .map_err(|e| ApiError::unauthorized(format!("request signature: {e}")))?;
    let mut nonces = state.nonces.lock().unwrap_or_else(|p| p.into_inner());
    // Signatures older than max_age are refused anyway: their nonces need not be kept.
    nonces.retain(|_, created| *created + max_age + httpsig::MAX_SKEW >= now);
    if nonces.len() >= 1_000_000 {
        return Err(ApiError::busy("too many signed requests at once", 5));
    }
    if nonces.insert(verified.nonce.clone(), verified.created).is_some() {
        return Err(ApiError::unauthorized(
            "request signature: this nonce was used before (a replayed request)",
        ));
    }
    Ok(verified.key)
}

fn b64(what: &str, text: &str) -> Result<Vec<u8>, ApiError> {
    B64.decode(text).map_err(|e| ApiError::invalid(format!("{what}: not base64: {e}")))
}

pub async fn publish(
    State(state): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let creator = signed_by(&state, &method, &uri, &headers, &body)?;
    let request: PublishRequest = serde_json::from_slice(&body)
        .map_err(|e| ApiError::invalid(format!("the publication request: {e}")))?;
    let mut sub = Submission {
        image: b64("image", &request.image)?,
        file_name: request.file_name,
        creator: request.creator,
        title: request.title,
        license: request.license,
        domain: None,
        evidence: Vec::new(),
        evidence_public: false,
    };
    if let Some(e) = request.evidence {
        sub.evidence_public = e.public;
        for f in e.files {
            let content = b64(&format!("evidence file {}", f.path), &f.content)?;
            sub.evidence.push((f.path, content));
        }
    }
    drop(body);
    if let Some(d) = request.domain {
        let d = registry::domain::parse_domain(&d, &state.domains)?;
        // Fetched before the image is decoded and outside the publication lock.
        let fetching = state.domains.clone();
        let proven = d.clone();
        tokio::task::spawn_blocking(move || registry::domain::prove(&proven, &creator, &fetching))
            .await
            .map_err(|_| ApiError::internal("the domain proof failed"))??;
        sub.domain = Some(d);
    }
    let permit = decode_permit(&state).await?;
    let (published, checkpoint_size) = blocking(&state, move |s, store| {
        let _one = s.publishing.lock().unwrap_or_else(|p| p.into_inner());
        let (published, _) = s.with_finder(|finder| {
            publication::publish(store, &s.log_key, finder, &creator, sub, &VerifyOptions::default())
        })?;
        drop(permit);
        // Findable at once by this server; others sharing the store follow it.
        s.catch_up()?;
        let size = store.latest_checkpoint()?.map_or(0, |(size, _)| size);
        Ok((published, size))
    })
    .await?;
    let id = published.work.id;
    let mut answer = serde_json::to_value(&published).expect("publications serialize");
    answer["status"] = json!(status(published.publication.withdrawn, &published.publication.disputes));
    answer["links"] = work_links(&state, id, published.publication.evidence_public);
    answer["links"]["inclusion_proof"] = json!(state.url(&format!(
        "/v1/log/proof/inclusion?index={}&size={checkpoint_size}",
        published.publication.log_index
    )));
    let code = if published.new { StatusCode::CREATED } else { StatusCode::OK };
    Ok((code, [(header::LOCATION, format!("/v1/works/{id}"))], axum::Json(answer)).into_response())
}

pub async fn withdraw(
    State(state): State<Arc<AppState>>,
    UrlPath(id): UrlPath<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let id = work_id(&id)?;
    let creator = signed_by(&state, &method, &uri, &headers, &body)?;
    let done =
        blocking(&state, move |s, store| publication::withdraw(store, &s.log_key, &creator, id)).await?;
    Ok(axum::Json(done).into_response())
}

// ---- works ----

pub fn work_id(text: &str) -> Result<WorkId, ApiError> {
    text.parse::<WorkId>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| ApiError::invalid(format!("{text:?} is not a work number")))
}

/// Everything public about a published work, with its place in the log.
pub fn work_answer(state: &AppState, store: &Store, id: WorkId) -> Result<Value, RegistryError> {
    let work = store.work(id)?.ok_or_else(|| RegistryError::NotFound(format!("no work {id}")))?;
    let p =
        store.publication(id)?.ok_or_else(|| RegistryError::NotFound(format!("no published work {id}")))?;
    let (size, note) = store
        .latest_checkpoint()?
        .ok_or_else(|| RegistryError::Store("a publication but no checkpoint".into()))?;
    let event = store.event_range(p.log_index, p.log_index + 1)?.pop();
    let withdrawal = match p.withdrawn {
        Some(i) => store.event_range(i, i + 1)?.pop(),
        None => None,
    };
    let disputes: Vec<_> =
        p.disputes.iter().filter_map(|d| store.work(*d).transpose()).collect::<Result<_, _>>()?;
    let evidence: Vec<String> = if p.evidence_public {
        store
            .publication_files(id)?
            .into_iter()
            .filter_map(|n| n.strip_prefix("evidence/").map(str::to_owned))
            .collect()
    } else {
        Vec::new()
    };
    let proof = store.inclusion_proof(p.log_index, size)?;
    Ok(json!({
        "work": work,
        "status": status(p.withdrawn, &p.disputes),
        "publication": p,
        "published_event": event,
        "withdrawn_event": withdrawal,
        "disputes": disputes,
        "evidence": evidence,
        "log": {
            "origin": state.origin,
            "checkpoint": note,
            "inclusion_proof": { "index": p.log_index, "size": size, "proof": proof },
        },
        "links": work_links(state, id, p.evidence_public),
    }))
}

pub async fn work(
    State(state): State<Arc<AppState>>,
    UrlPath(id): UrlPath<String>,
) -> Result<Response, ApiError> {
    let id = work_id(&id)?;
    Ok(axum::Json(blocking(&state, move |s, store| work_answer(s, store, id)).await?).into_response())
}

pub async fn thumbnail(
    State(state): State<Arc<AppState>>,
    UrlPath(id): UrlPath<String>,
) -> Result<Response, ApiError> {
    let id = work_id(&id)?;
    let png = blocking(&state, move |_, store| {
        store.publication(id)?.ok_or_else(|| RegistryError::NotFound(format!("no published work {id}")))?;
        store.thumbnail_png(id)
    })
    .await?;
    Ok(([(header::CONTENT_TYPE, "image/png"), (header::CACHE_CONTROL, "public, max-age=86400")], png)
        .into_response())
}

/// A publication file, with the content type its bytes show.
async fn file(
    state: &Arc<AppState>,
    id: WorkId,
    name: String,
    public_only: bool,
) -> Result<Response, ApiError> {
    let bytes = blocking(state, move |_, store| {
        let p = store
            .publication(id)?
            .ok_or_else(|| RegistryError::NotFound(format!("no published work {id}")))?;
        if public_only && !p.evidence_public {
            return Err(RegistryError::NotFound(format!("work {id} has no public evidence")));
        }
        store
            .publication_file(id, &name)?
            .ok_or_else(|| RegistryError::NotFound(format!("work {id} has no {name}")))
    })
    .await?;
    let kind = match credentials::Format::sniff(&bytes) {
        Some(f) => f.mime(),
        None if bytes.starts_with(b"%PDF") => "application/pdf",
        None => "application/octet-stream",
    };
    // Served as a download, never rendered as a page of this origin.
    Ok(([(header::CONTENT_TYPE, kind), (header::CONTENT_DISPOSITION, "attachment")], bytes).into_response())
}

pub async fn image(
    State(state): State<Arc<AppState>>,
    UrlPath(id): UrlPath<String>,
) -> Result<Response, ApiError> {
    let id = work_id(&id)?;
    let mut r = file(&state, id, "image".into(), false).await?;
    r.headers_mut().insert(header::CONTENT_DISPOSITION, "inline".parse().expect("static"));
    Ok(r)
}

pub async fn evidence(
    State(state): State<Arc<AppState>>,
    UrlPath((id, path)): UrlPath<(String, String)>,
) -> Result<Response, ApiError> {
    let id = work_id(&id)?;
    if path.len() > 400 || path.split('/').any(|c| c.is_empty() || c.starts_with('.')) {
        return Err(ApiError::invalid("not an evidence file name"));
    }
    file(&state, id, format!("evidence/{path}"), true).await
}

// ---- look-ups ----

pub async fn lookup_image(State(state): State<Arc<AppState>>, body: Bytes) -> Result<Response, ApiError> {
    if body.is_empty() {
        return Err(ApiError::invalid("send the image's bytes as the request body"));
    }
    let permit = decode_permit(&state).await?;
    let answer = blocking(&state, move |s, store| {
        let found = s.with_finder(|finder| {
            lookup::lookup_image(store, finder, Path::new("upload"), &body, &VerifyOptions::default(), false)
        });
        drop(permit);
        let found = found?;
        let mut v = serde_json::to_value(&found).expect("look-ups serialize");
        v["claims"] = claims_json(s, &found.claims);
        Ok(v)
    })
    .await?;
    Ok(axum::Json(answer).into_response())
}

#[derive(Deserialize)]
pub struct PdqQuery {
    pdq: Option<String>,
    radius: Option<u32>,
}

pub async fn lookup_pdq(
    State(state): State<Arc<AppState>>,
    Query(q): Query<PdqQuery>,
) -> Result<Response, ApiError> {
    let hash = lookup::parse_pdq(
        q.pdq.as_deref().ok_or_else(|| ApiError::invalid("give ?pdq=HEX (64 hexadecimal digits)"))?,
    )
    .map_err(|e| ApiError::invalid(e.to_string()))?;
    let radius = radius(q.radius)?;
    let answer = blocking(&state, move |s, store| {
        let (mut found, coverage) =
            s.with_finder(|finder| lookup::lookup_pdqs(store, finder, &[hash], radius))?;
        let found = found.pop().expect("one answer per hash");
        let answer = json!({ "pdq": found.pdq, "radius": radius, "claims": claims_json(s, &found.claims) });
        Ok(with_coverage(answer, coverage.as_ref()))
    })
    .await?;
    Ok(axum::Json(answer).into_response())
}

/// `answer` with `partial`, `parts` and `missing_parts` when matchers were asked.
pub fn with_coverage(mut answer: Value, coverage: Option<&Coverage>) -> Value {
    if let Some(c) = coverage {
        answer["partial"] = json!(c.partial);
        answer["parts"] = json!(c.parts);
        answer["missing_parts"] = json!(c.missing_parts);
    }
    answer
}

fn radius(r: Option<u32>) -> Result<u32, ApiError> {
    match r {
        None => Ok(PDQ_RADIUS),
        Some(r) if r <= PDQ_RADIUS => Ok(r),
        Some(r) => Err(ApiError::invalid(format!("radius {r}: at most {PDQ_RADIUS}"))),
    }
}

/// The most hashes one batch may ask for.
pub const MAX_BATCH: usize = 1000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PdqBatch {
    hashes: Vec<String>,
    #[serde(default)]
    radius: Option<u32>,
}

pub async fn lookup_pdq_batch(State(state): State<Arc<AppState>>, body: Bytes) -> Result<Response, ApiError> {
    let batch: PdqBatch =
        serde_json::from_slice(&body).map_err(|e| ApiError::invalid(format!("the batch: {e}")))?;
    if batch.hashes.len() > MAX_BATCH {
        return Err(ApiError::invalid(format!(
            "{} hashes: at most {MAX_BATCH} per batch",
            batch.hashes.len()
        )));
    }
    let hashes = batch
        .hashes
        .iter()
        .map(|h| lookup::parse_pdq(h).map_err(|e| ApiError::invalid(e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    let radius = radius(batch.radius)?;
    let answer = blocking(&state, move |s, store| {
        let (found, coverage) =
            s.with_finder(|finder| lookup::lookup_pdqs(store, finder, &hashes, radius))?;
        let results: Vec<Value> = found
            .iter()
            .map(|found| json!({ "pdq": found.pdq, "claims": claims_json(s, &found.claims) }))
            .collect();
        Ok(with_coverage(json!({ "radius": radius, "results": results }), coverage.as_ref()))
    })
    .await?;
    Ok(axum::Json(answer).into_response())
}

// ---- the log ----

pub async fn checkpoint(State(state): State<Arc<AppState>>) -> Result<Response, ApiError> {
    let note = blocking(&state, |_, store| store.latest_checkpoint()).await?;
    let (_, note) =
        note.ok_or_else(|| ApiError::not_found("the log is empty: nothing has been published"))?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8"), (header::CACHE_CONTROL, "no-cache")], note)
        .into_response())
}

pub async fn log_key(State(state): State<Arc<AppState>>) -> Response {
    let key = ledger::checkpoint::verifier_key(&state.origin, &state.log_key.verifying_key());
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], format!("{key}\n")).into_response()
}

#[derive(Deserialize)]
pub struct Range {
    start: Option<u64>,
    end: Option<u64>,
}

/// The most entries one request returns.
pub const MAX_ENTRIES: u64 = 256;

pub async fn entries(
    State(state): State<Arc<AppState>>,
    Query(r): Query<Range>,
) -> Result<Response, ApiError> {
    let start = r.start.unwrap_or(0);
    let end = r.end.unwrap_or(start.saturating_add(MAX_ENTRIES));
    if end <= start || end - start > MAX_ENTRIES {
        return Err(ApiError::invalid(format!("give start < end, at most {MAX_ENTRIES} apart")));
    }
    let events = blocking(&state, move |_, store| store.event_range(start, end)).await?;
    let entries: Vec<Value> = events
        .iter()
        .map(|e| json!({ "index": e.event.log_index, "leaf_hash": ledger::merkle::leaf_hash(&e.to_bytes()), "event": e }))
        .collect();
    Ok(axum::Json(json!({ "entries": entries })).into_response())
}

#[derive(Deserialize)]
pub struct InclusionQuery {
    index: u64,
    size: Option<u64>,
}

pub async fn inclusion(
    State(state): State<Arc<AppState>>,
    Query(q): Query<InclusionQuery>,
) -> Result<Response, ApiError> {
    let answer = blocking(&state, move |_, store| {
        let latest = store.latest_checkpoint()?.map_or(0, |(s, _)| s);
        let size = q.size.unwrap_or(latest);
        if q.index >= size || size > latest {
            return Err(RegistryError::Invalid(format!(
                "index {} in a log of {size}: the index must be below the size, and the size at most {latest}",
                q.index
            )));
        }
        Ok(json!({ "index": q.index, "size": size, "proof": store.inclusion_proof(q.index, size)? }))
    })
    .await?;
    Ok(axum::Json(answer).into_response())
}

#[derive(Deserialize)]
pub struct ConsistencyQuery {
    old: u64,
    new: Option<u64>,
}

pub async fn consistency(
    State(state): State<Arc<AppState>>,
    Query(q): Query<ConsistencyQuery>,
) -> Result<Response, ApiError> {
    let answer = blocking(&state, move |_, store| {
        let latest = store.latest_checkpoint()?.map_or(0, |(s, _)| s);
        let new = q.new.unwrap_or(latest);
        if q.old == 0 || q.old > new || new > latest {
            return Err(RegistryError::Invalid(format!(
                "old {} and new {new}: give 0 < old <= new <= {latest}",
                q.old
            )));
        }
        Ok(json!({ "old": q.old, "new": new, "proof": store.consistency_proof(q.old, new)? }))
    })
    .await?;
    Ok(axum::Json(answer).into_response())
}

// ---- the rest ----

pub async fn healthz(State(state): State<Arc<AppState>>) -> Result<Response, ApiError> {
    let size = blocking(&state, |_, store| Ok(store.latest_checkpoint()?.map_or(0, |(s, _)| s))).await?;
    let works = state.works_indexed.load(std::sync::atomic::Ordering::Relaxed);
    Ok(axum::Json(json!({ "status": "ok", "log_size": size, "works": works })).into_response())
}

pub async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], include_str!("openapi.json")).into_response()
}

pub async fn not_found(uri: Uri) -> ApiError {
    ApiError::not_found(format!("nothing at {}", uri.path()))
}

/// A manifest store kept with a publication (for the soft-binding API).
pub fn manifest_store(store: &Store, id: WorkId) -> Result<Option<Vec<u8>>, RegistryError> {
    store.publication_file(id, MANIFEST_FILE)
}
