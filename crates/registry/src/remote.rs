//! A registry server, from the creator's or the reuser's side: publish a sealed work with a
//! signed request (RFC 9421, docs/server.md), withdraw it, look an image up.

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::SigningKey;
use rand_core::{OsRng, RngCore};
use serde_json::{Value, json};

use crate::RegistryError;
use crate::publication::{MAX_EVIDENCE_BYTES, MAX_EVIDENCE_FILES};
use crate::works::MAX_IMAGE_FILE;

/// How long a signed request stays valid.
const SIGNATURE_LIFETIME: u64 = 300;
/// The largest answer read from a server.
const MAX_ANSWER: u64 = 64 << 20;

/// A registry server at a base URL (`https://registry.example`).
pub struct Server {
    base: String,
    agent: ureq::Agent,
}

/// What publishing sends besides the image.
pub struct Publish<'a> {
    pub creator: &'a str,
    pub title: Option<&'a str>,
    pub license: Option<&'a str>,
    /// An evidence bundle folder (what `claim` writes), and whether it is public.
    pub evidence: Option<(&'a Path, bool)>,
    /// A web domain whose `/.well-known/handprint.txt` lists the key (docs/server.md).
    pub domain: Option<&'a str>,
}

impl Server {
    pub fn new(base: &str) -> Result<Server, RegistryError> {
        let base = base.trim_end_matches('/').to_owned();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(RegistryError::Invalid(format!("{base}: the server is an http:// or https:// URL")));
        }
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(120)))
            .http_status_as_error(false)
            .max_redirects(0)
            .build()
            .new_agent();
        Ok(Server { base, agent })
    }

    /// Publishes the sealed image at `path`, signed by `key`.
    pub fn publish(&self, key: &SigningKey, path: &Path, p: &Publish) -> Result<Value, RegistryError> {
        let image = crate::read_limited(path, MAX_IMAGE_FILE)?;
        let mut body = json!({
            "image": B64.encode(&image),
            "file_name": path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
            "creator": p.creator,
        });
        if let Some(t) = p.title {
            body["title"] = json!(t);
        }
        if let Some(l) = p.license {
            body["license"] = json!(l);
        }
        if let Some(d) = p.domain {
            body["domain"] = json!(d);
        }
        if let Some((dir, public)) = p.evidence {
            let files = evidence_files(dir)?;
            body["evidence"] = json!({
                "public": public,
                "files": files.iter().map(|(p, b)| json!({"path": p, "content": B64.encode(b)})).collect::<Vec<_>>(),
            });
        }
        let body = serde_json::to_vec(&body).expect("JSON serializes");
        self.signed("POST", "/v1/publications", key, &body)
    }

    /// Withdraws work `id`, which `key` published.
    pub fn withdraw(&self, key: &SigningKey, id: i64) -> Result<Value, RegistryError> {
        self.signed("DELETE", &format!("/v1/works/{id}"), key, b"")
    }

    /// Looks the image at `path` up.
    pub fn lookup(&self, path: &Path) -> Result<Value, RegistryError> {
        let image = crate::read_limited(path, MAX_IMAGE_FILE)?;
        let url = format!("{}/v1/lookup", self.base);
        let r = self
            .agent
            .post(&url)
            .header("Content-Type", "application/octet-stream")
            .send(&image[..])
            .map_err(|e| self.unreachable(e))?;
        self.answer(r)
    }

    /// Looks a PDQ hash (64 hex digits) up, within `radius`.
    pub fn lookup_pdq(&self, hex: &str, radius: u32) -> Result<Value, RegistryError> {
        let url = format!("{}/v1/lookup?pdq={hex}&radius={radius}", self.base);
        let r = self.agent.get(&url).call().map_err(|e| self.unreachable(e))?;
        self.answer(r)
    }

    /// This registry's claim on the work whose file has SHA-256 `sha256` (hex) and whose PDQ
    /// hash is `pdq`, if it published it.
    pub fn publication_of(&self, pdq: &str, sha256: &str) -> Result<Option<Value>, RegistryError> {
        let answer = self.lookup_pdq(pdq, 0)?;
        Ok(answer["claims"].as_array().into_iter().flatten().find(|c| c["work"]["sha256"] == sha256).cloned())
    }

    /// The registry's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    fn signed(
        &self,
        method: &str,
        path: &str,
        key: &SigningKey,
        body: &[u8],
    ) -> Result<Value, RegistryError> {
        let url = format!("{}{path}", self.base);
        let authority =
            self.base.split("://").nth(1).unwrap_or_default().split('/').next().unwrap_or_default();
        let created = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let mut nonce = [0u8; 16];
        OsRng.fill_bytes(&mut nonce);
        let content_type = "application/json";
        let parts = httpsig::RequestParts { method, authority, path, query: None, content_type, body };
        let signed = httpsig::sign(
            key,
            &parts,
            httpsig::PUBLISH_TAG,
            created,
            created + SIGNATURE_LIFETIME,
            &hex::encode(nonce),
        )
        .map_err(|e| RegistryError::Invalid(format!("signing the request: {e}")))?;
        let request = match method {
            "DELETE" => self.agent.delete(&url).force_send_body(),
            _ => self.agent.post(&url),
        };
        let mut request = request.header("Content-Type", content_type);
        for (name, value) in signed.headers() {
            request = request.header(name, value);
        }
        let r = request.send(body).map_err(|e| self.unreachable(e))?;
        self.answer(r)
    }

    fn unreachable(&self, e: ureq::Error) -> RegistryError {
        RegistryError::Unavailable {
            at: self.base.clone(),
            message: format!("cannot reach the registry: {e}"),
        }
    }

    /// The JSON answer, or the server's message as the error it is.
    fn answer(&self, mut r: ureq::http::Response<ureq::Body>) -> Result<Value, RegistryError> {
        let status = r.status().as_u16();
        let bytes = r.body_mut().with_config().limit(MAX_ANSWER).read_to_vec().map_err(|e| {
            RegistryError::Unavailable { at: self.base.clone(), message: format!("reading the answer: {e}") }
        })?;
        let value: Value = serde_json::from_slice(&bytes).map_err(|_| RegistryError::Unavailable {
            at: self.base.clone(),
            message: format!("HTTP {status}, and the answer is not JSON: is this a handprint registry?"),
        })?;
        if (200..300).contains(&status) {
            return Ok(value);
        }
        let message = format!("{}: {}", self.base, value["message"].as_str().unwrap_or("no message"));
        Err(match status {
            401 | 403 => RegistryError::Forbidden(message),
            404 => RegistryError::NotFound(message),
            409 => RegistryError::Conflict(message),
            400 | 413 | 415 | 422 => RegistryError::Invalid(message),
            _ => RegistryError::Unavailable {
                at: self.base.clone(),
                message: format!("HTTP {status}: {message}"),
            },
        })
    }
}

/// The regular files of an evidence folder, with paths relative to it; within the limits
/// the server takes.
fn evidence_files(dir: &Path) -> Result<Vec<(String, Vec<u8>)>, RegistryError> {
    let mut files = Vec::new();
    let mut total = 0;
    for entry in walkdir::WalkDir::new(dir).max_depth(4).sort_by_file_name() {
        let entry = entry.map_err(|e| RegistryError::File { path: dir.into(), message: e.to_string() })?;
        if !entry.file_type().is_file() {
            continue;
        }
        let rel = entry.path().strip_prefix(dir).unwrap_or(entry.path());
        let name = rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
        let bytes = crate::read_limited(entry.path(), MAX_EVIDENCE_BYTES as u64)?;
        total += bytes.len();
        files.push((name, bytes));
        if files.len() > MAX_EVIDENCE_FILES || total > MAX_EVIDENCE_BYTES {
            return Err(RegistryError::File {
                path: dir.into(),
                message: format!(
                    "more than {MAX_EVIDENCE_FILES} files or {} MiB: a registry keeps less",
                    MAX_EVIDENCE_BYTES >> 20
                ),
            });
        }
    }
    Ok(files)
}
