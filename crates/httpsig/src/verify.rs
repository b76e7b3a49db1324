//! Verifying a signed request on the server: handprint's policy (components, parameters,
//! times, digest) over a signature [`crate::extract`] has read, then the Ed25519 check.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::VerifyingKey;
use http::{HeaderMap, Method, Uri, header};
use sha2::{Digest, Sha256};

use crate::message::{extract, field_value};
use crate::sf::{self, Bare, Item, Member};
use crate::{ALGORITHM, COVERED, LABEL, MAX_NONCE, MAX_SKEW, SignatureError};

/// A received request as the verifier sees it.
#[derive(Debug, Clone, Copy)]
pub struct Incoming<'a> {
    pub method: &'a str,
    /// The authority the client addressed; behind a proxy, the public one.
    pub authority: &'a str,
    pub path: &'a str,
    pub query: Option<&'a str>,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

impl<'a> Incoming<'a> {
    /// From a request's parts. The authority is the URI's (HTTP/2) or else the `Host`
    /// field's (HTTP/1.1); empty if neither is readable, which then fails to verify. In an
    /// axum router nested under a prefix, pass the original URI, not the stripped one.
    pub fn new(method: &'a Method, uri: &'a Uri, headers: &'a HeaderMap, body: &'a [u8]) -> Self {
        let authority = match uri.authority() {
            Some(a) => a.as_str(),
            None => headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or(""),
        };
        Incoming { method: method.as_str(), authority, path: uri.path(), query: uri.query(), headers, body }
    }
}

/// Who signed an accepted request, and the values the server needs against replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub key: VerifyingKey,
    /// The `keyid` as sent: the key in standard base64.
    pub key_id: String,
    pub created: u64,
    pub expires: u64,
    pub nonce: String,
}

/// Verifies the [`LABEL`] signature of a request as the crate documentation describes,
/// at time `now` (UNIX seconds), accepting signatures created up to `max_age` seconds ago
/// and carrying `tag`. Does not remember nonces: replay is the caller's to refuse.
/// The same as [`verify_request`] with the request given part by part, as a handler's
/// extractors hand them over.
#[allow(clippy::too_many_arguments)]
pub fn verify(
    method: &str,
    authority: &str,
    path: &str,
    query: Option<&str>,
    headers: &HeaderMap,
    body: &[u8],
    tag: &str,
    now: u64,
    max_age: u64,
) -> Result<Verified, SignatureError> {
    verify_request(&Incoming { method, authority, path, query, headers, body }, tag, now, max_age)
}

/// [`verify`] over an [`Incoming`] request.
pub fn verify_request(
    req: &Incoming<'_>,
    tag: &str,
    now: u64,
    max_age: u64,
) -> Result<Verified, SignatureError> {
    let signed = extract(req, LABEL)?;
    if let Some(missing) = COVERED.iter().find(|c| !signed.components.iter().any(|s| s == *c)) {
        return Err(SignatureError::NotCovered(missing));
    }
    let alg = signed.string("alg")?;
    if alg != Some(ALGORITHM) {
        return Err(SignatureError::WrongAlgorithm { found: alg.map(str::to_string) });
    }
    let found = signed.string("tag")?;
    if found != Some(tag) {
        return Err(SignatureError::WrongTag { found: found.map(str::to_string), expected: tag.to_string() });
    }

    let time = |name: &'static str| -> Result<u64, SignatureError> {
        let t = signed.integer(name)?.ok_or(SignatureError::MissingParameter(name))?;
        u64::try_from(t).map_err(|_| SignatureError::Malformed {
            field: "Signature-Input",
            reason: format!("parameter {name} is negative"),
        })
    };
    let (created, expires) = (time("created")?, time("expires")?);
    if created > now.saturating_add(MAX_SKEW) {
        return Err(SignatureError::Future { created, now });
    }
    if now.saturating_sub(created) > max_age {
        return Err(SignatureError::Stale { created, now, max_age });
    }
    if now > expires {
        return Err(SignatureError::Expired { expires, now });
    }

    let nonce = signed.string("nonce")?.ok_or(SignatureError::MissingParameter("nonce"))?;
    if nonce.is_empty() || nonce.len() > MAX_NONCE {
        return Err(SignatureError::Malformed {
            field: "Signature-Input",
            reason: format!("the nonce must have 1 to {MAX_NONCE} characters"),
        });
    }
    let key_id = signed.string("keyid")?.ok_or(SignatureError::MissingParameter("keyid"))?;
    let key = decode_key(key_id)?;

    check_digest(req.headers, req.body)?;
    key.verify_strict(signed.base.as_bytes(), &signed.signature).map_err(|_| SignatureError::BadSignature)?;
    Ok(Verified { key, key_id: key_id.to_string(), created, expires, nonce: nonce.to_string() })
}

fn decode_key(key_id: &str) -> Result<VerifyingKey, SignatureError> {
    let bytes = STANDARD.decode(key_id).map_err(|e| SignatureError::BadKey(e.to_string()))?;
    let bytes: [u8; 32] = bytes
        .try_into()
        .map_err(|b: Vec<u8>| SignatureError::BadKey(format!("{} bytes, not 32", b.len())))?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| SignatureError::BadKey("not a point on Ed25519".into()))
}

/// The `sha-256` member of `Content-Digest` must be the SHA-256 of the body.
fn check_digest(headers: &HeaderMap, body: &[u8]) -> Result<(), SignatureError> {
    let value = field_value(headers, "content-digest")?.ok_or(SignatureError::Missing("Content-Digest"))?;
    let malformed = |reason: String| SignatureError::Malformed { field: "Content-Digest", reason };
    let dict = sf::parse_dictionary(&value).map_err(malformed)?;
    match dict.into_iter().find(|(k, _)| k == "sha-256") {
        Some((_, Member::Item(Item { bare: Bare::Bytes(digest), .. }))) => {
            if digest.as_slice() == Sha256::digest(body).as_slice() {
                Ok(())
            } else {
                Err(SignatureError::DigestMismatch)
            }
        }
        Some(_) => Err(malformed("sha-256 is not a byte sequence".into())),
        None => Err(malformed("no sha-256 member".into())),
    }
}
