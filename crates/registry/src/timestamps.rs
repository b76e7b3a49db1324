//! Trusted time for the journal: RFC 3161 tokens over checkpoints, fetched over HTTP and
//! checked offline against the TSA root certificates kept in `tsa-roots/` of the data
//! directory.

use std::path::{Path, PathBuf};

use ledger::timestamp::{self, Stamp};
use rand_core::RngCore;

use crate::{Registry, RegistryError};

/// A timestamp checked against the roots.
#[derive(Debug, serde::Serialize)]
pub struct CheckedStamp {
    pub checkpoint: u64,
    pub tsa_url: String,
    #[serde(flatten)]
    pub result: StampResult,
}

#[derive(Debug, serde::Serialize)]
#[serde(untagged)]
pub enum StampResult {
    Valid(Stamp),
    Invalid { error: String },
}

/// PEM or DER certificates in a folder, as DER.
pub fn read_roots(dir: &Path) -> Result<Vec<Vec<u8>>, RegistryError> {
    let mut roots = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return Ok(roots) };
    let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    paths.sort();
    for path in paths {
        let bytes = std::fs::read(&path).map_err(|e| RegistryError::io(&path, e))?;
        roots.extend(
            certificates_in(&bytes).map_err(|m| RegistryError::File { path: path.clone(), message: m })?,
        );
    }
    Ok(roots)
}

/// The certificates in a PEM file (or one DER certificate).
pub fn certificates_in(bytes: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    use base64::Engine;
    let Ok(text) = std::str::from_utf8(bytes) else { return Ok(vec![bytes.to_vec()]) };
    let mut out = Vec::new();
    let mut body: Option<String> = None;
    for line in text.lines() {
        let line = line.trim();
        if line == "-----BEGIN CERTIFICATE-----" {
            body = Some(String::new());
        } else if line == "-----END CERTIFICATE-----" {
            let b64 = body.take().unwrap_or_default();
            out.push(
                base64::engine::general_purpose::STANDARD.decode(b64).map_err(|e| format!("bad PEM: {e}"))?,
            );
        } else if let Some(b) = body.as_mut() {
            b.push_str(line);
        }
    }
    if out.is_empty() {
        return Err("no PEM certificate in it".into());
    }
    Ok(out)
}

impl Registry {
    pub fn tsa_roots_dir(&self) -> PathBuf {
        self.home.join("tsa-roots")
    }

    /// Adds a TSA root certificate (PEM) to the trusted roots.
    pub fn trust_tsa_root(&self, pem: &Path) -> Result<PathBuf, RegistryError> {
        let bytes = std::fs::read(pem).map_err(|e| RegistryError::io(pem, e))?;
        let certs =
            certificates_in(&bytes).map_err(|m| RegistryError::File { path: pem.into(), message: m })?;
        let dir = self.tsa_roots_dir();
        std::fs::create_dir_all(&dir).map_err(|e| RegistryError::io(&dir, e))?;
        let name = format!("{}.pem", &ledger::Hash::of(&certs[0]).to_hex()[..16]);
        let dest = dir.join(name);
        std::fs::write(&dest, &bytes).map_err(|e| RegistryError::io(&dest, e))?;
        Ok(dest)
    }

    /// Asks the TSA at `url` for a token over the latest checkpoint, verifies it against the
    /// trusted roots and stores it.
    pub fn timestamp(&self, url: &str) -> Result<(u64, Stamp), RegistryError> {
        let (size, note) = self
            .store
            .latest_checkpoint()?
            .ok_or_else(|| RegistryError::Invalid("the journal is empty: nothing to timestamp".into()))?;
        let nonce = rand_core::OsRng.next_u64() >> 1;
        let request = timestamp::request(note.as_bytes(), nonce);
        let response = post(url, &request)?;
        let token = timestamp::token_from_response(&response, nonce)
            .map_err(|e| RegistryError::Invalid(format!("{url}: {e}")))?;
        let roots = read_roots(&self.tsa_roots_dir())?;
        let stamp = timestamp::verify(&token, note.as_bytes(), &roots).map_err(|e| {
            RegistryError::Invalid(format!(
                "{url}: the token does not verify ({e}); add the TSA's root certificate with --tsa-root"
            ))
        })?;
        self.store.add_timestamp(size, url, &token, &stamp.time)?;
        Ok((size, stamp))
    }

    /// Every stored timestamp, checked against the trusted roots.
    pub fn check_timestamps(&self) -> Result<Vec<CheckedStamp>, RegistryError> {
        let roots = read_roots(&self.tsa_roots_dir())?;
        Ok(self
            .store
            .timestamps()?
            .into_iter()
            .map(|t| CheckedStamp {
                checkpoint: t.size,
                result: match timestamp::verify(&t.token, t.note.as_bytes(), &roots) {
                    Ok(s) => StampResult::Valid(s),
                    Err(e) => StampResult::Invalid { error: e.to_string() },
                },
                tsa_url: t.tsa_url,
            })
            .collect())
    }
}

/// How long a time-stamping authority may take to answer.
pub(crate) const TSA_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);

/// POSTs a TimeStampReq (RFC 3161 §3.4: HTTP, application/timestamp-query) and returns the
/// reply, at most 1 MiB, within [`TSA_TIMEOUT`].
pub(crate) fn post_request(url: &str, request: &[u8]) -> Result<Vec<u8>, String> {
    let agent = ureq::Agent::config_builder().timeout_global(Some(TSA_TIMEOUT)).build().new_agent();
    let mut response = agent
        .post(url)
        .header("Content-Type", "application/timestamp-query")
        .send(request)
        .map_err(|e| e.to_string())?;
    response.body_mut().with_config().limit(1 << 20).read_to_vec().map_err(|e| e.to_string())
}

pub(crate) fn post(url: &str, request: &[u8]) -> Result<Vec<u8>, RegistryError> {
    post_request(url, request).map_err(|m| RegistryError::Invalid(format!("{url}: {m}")))
}
