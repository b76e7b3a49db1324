//! The web page: server-rendered HTML that works without JavaScript and on a phone. Drop an
//! image, see every claim on it beside the published works; a page per work; the log.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use axum::extract::{Multipart, Path as UrlPath, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use minijinja::Environment;
use registry::lookup;
use registry::verify_image::VerifyOptions;
use serde_json::{Value, json};

use crate::api::{blocking, status, work_answer, work_id};
use crate::error::ApiError;
use crate::limits::decode_permit;
use crate::state::AppState;

fn templates() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        for (name, text) in [
            ("base.html", include_str!("../templates/base.html")),
            ("home.html", include_str!("../templates/home.html")),
            ("lookup.html", include_str!("../templates/lookup.html")),
            ("work.html", include_str!("../templates/work.html")),
            ("log.html", include_str!("../templates/log.html")),
        ] {
            env.add_template(name, text).expect("templates parse");
        }
        env
    })
}

fn render(name: &str, context: Value) -> Result<Response, ApiError> {
    let html = templates()
        .get_template(name)
        .and_then(|t| t.render(context))
        .map_err(|e| ApiError::internal(format!("page {name}: {e}")))?;
    Ok(Html(html).into_response())
}

/// An error as a page, for people (the JSON API keeps its JSON).
fn error_page(e: ApiError) -> Response {
    let status = e.status;
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" \
         content=\"width=device-width, initial-scale=1\"><title>Not looked up</title></head><body \
         style=\"font:16px system-ui,sans-serif;max-width:60rem;margin:1rem auto;padding:0 1rem\"><h1>Not looked \
         up</h1><p>{}</p><p><a href=\"/\">Try another image</a></p></body></html>",
        escape(&e.message)
    );
    let mut r = (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response();
    if let Some(s) = e.retry_after {
        r.headers_mut().insert(header::RETRY_AFTER, s.into());
    }
    r
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

pub async fn home(State(state): State<Arc<AppState>>) -> Result<Response, ApiError> {
    let max_mib = state.limits.max_upload >> 20;
    let context = blocking(&state, move |s, store| {
        let recent: Vec<Value> = store
            .recent_publications(20)?
            .into_iter()
            .filter_map(|p| {
                let w = store.work(p.work).ok().flatten()?;
                Some(json!({ "id": w.id, "title": w.title, "registrant": w.registrant, "status": status(p.withdrawn, &p.disputes) }))
            })
            .collect();
        let size = store.latest_checkpoint()?.map_or(0, |(n, _)| n);
        let works = s.works_indexed.load(std::sync::atomic::Ordering::Relaxed);
        Ok(json!({ "recent": recent, "log_size": size, "works": works, "max_mib": max_mib }))
    })
    .await?;
    render("home.html", context)
}

pub async fn lookup(State(state): State<Arc<AppState>>, multipart: Multipart) -> Response {
    lookup_page(state, multipart).await.unwrap_or_else(error_page)
}

async fn lookup_page(state: Arc<AppState>, mut multipart: Multipart) -> Result<Response, ApiError> {
    let mut image = None;
    while let Some(field) =
        multipart.next_field().await.map_err(|e| ApiError::invalid(format!("the upload: {e}")))?
    {
        if field.name() == Some("image") {
            image = Some(field.bytes().await.map_err(|e| ApiError::invalid(format!("the upload: {e}")))?);
        }
    }
    let image =
        image.filter(|b| !b.is_empty()).ok_or_else(|| ApiError::invalid("choose an image to look up"))?;
    let permit = decode_permit(&state).await?;
    let context = blocking(&state, move |s, store| {
        let found = s.with_finder(|finder| {
            lookup::lookup_image(store, finder, Path::new("upload"), &image, &VerifyOptions::default(), true)
        });
        drop(permit);
        let found = found?;
        let claims: Vec<Value> = found
            .claims
            .iter()
            .map(|c| {
                let f = c.fingerprint.as_ref();
                let region = f.and_then(|f| f.features.as_ref()).map(|a| {
                    let r = &a.region;
                    json!({
                        "left": r.left * 100.0, "top": r.top * 100.0,
                        "width": (r.right - r.left) * 100.0, "height": (r.bottom - r.top) * 100.0,
                    })
                });
                let matched = f.map(|f| {
                    let mut parts = vec![format!("{} confidence", f.confidence)];
                    if let Some(p) = &f.pdq {
                        parts.push(format!("PDQ distance {}", p.distance));
                    }
                    if let Some(a) = &f.features {
                        let turned = match a.rotation_degrees.round() {
                            0.0 => String::new(),
                            r => format!(", turned {r}°"),
                        };
                        parts.push(format!(
                            "{} local features agree; shows {:.0}% of the work{turned}",
                            a.agreeing,
                            a.area_shown * 100.0
                        ));
                    }
                    parts.join(", ")
                });
                json!({
                    "id": c.work.id,
                    "title": c.work.title,
                    "creator": c.work.registrant,
                    "domain": c.publication.domain,
                    "license": c.work.license,
                    "published": c.work.registered,
                    "log_index": c.publication.log_index,
                    "status": status(c.publication.withdrawn, &c.publication.disputes),
                    "found_by": c.found_by.join(" and "),
                    "match": matched,
                    "region": region,
                    "disputes": c.publication.disputes,
                })
            })
            .collect();
        let image = &found.image;
        let ai = image.c2pa.ai.first().map(|a| format!("yes, per {} ({})", a.manifest, a.reason));
        let partial = found.coverage.as_ref().filter(|c| c.partial);
        let missing: Vec<u32> = partial.map(|c| c.missing_parts.clone()).unwrap_or_default();
        Ok(json!({
            "partial": partial.is_some(),
            "missing_parts": missing,
            "parts": partial.map(|c| c.parts),
            "claims": claims,
            "verdict": image.verdict,
            "ai": ai,
            "watermark": image.watermark.as_ref().map(|w| w.payload.clone()),
            "aigc": image.aigc.as_ref().map(|a| serde_json::to_string(a).unwrap_or_default()),
            "generators": image.generator_metadata,
            "sha256": found.sha256,
            "preview": found.preview.as_deref().map(|p| B64.encode(p)),
        }))
    })
    .await?;
    render("lookup.html", context)
}

pub async fn work(State(state): State<Arc<AppState>>, UrlPath(id): UrlPath<String>) -> Response {
    let page = async {
        let id = work_id(&id)?;
        let answer = blocking(&state, move |s, store| work_answer(s, store, id)).await?;
        let proof: Vec<String> = answer["log"]["inclusion_proof"]["proof"]
            .as_array()
            .map(|a| a.iter().filter_map(|h| h.as_str().map(str::to_owned)).collect())
            .unwrap_or_default();
        let mut context = answer.clone();
        context["checkpoint"] = answer["log"]["checkpoint"].clone();
        context["size"] = answer["log"]["inclusion_proof"]["size"].clone();
        context["origin"] = answer["log"]["origin"].clone();
        context["proof"] = json!(if proof.is_empty() {
            "(the log holds this entry alone)".to_owned()
        } else {
            proof.join("\n")
        });
        context["withdrawn"] = json!(answer["publication"]["withdrawn"].is_u64());
        render("work.html", context)
    };
    page.await.unwrap_or_else(error_page)
}

pub async fn log(State(state): State<Arc<AppState>>) -> Result<Response, ApiError> {
    let note = blocking(&state, |_, store| store.latest_checkpoint()).await?;
    let key = ledger::checkpoint::verifier_key(&state.origin, &state.log_key.verifying_key());
    render("log.html", json!({ "checkpoint": note.map(|(_, n)| n), "key": key }))
}
