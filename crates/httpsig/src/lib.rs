//! HTTP Message Signatures (RFC 9421) with Ed25519, and the `Content-Digest` field
//! (RFC 9530, `sha-256`), for the requests `handprint publish` sends and the server checks.
//! [`sign`] runs on the client; [`verify`] runs on the server over `http` 1.x types.
//!
//! # What a signed request carries
//!
//! ```text
//! Content-Type: application/json
//! Content-Digest: sha-256=:<base64 of SHA-256(body)>:
//! Signature-Input: handprint=("@method" "@authority" "@path" "@query" "content-type" "content-digest");created=1700000000;expires=1700000300;nonce="<nonce>";keyid="<base64 public key>";alg="ed25519";tag="handprint-publish"
//! Signature: handprint=:<base64 of the 64-byte Ed25519 signature>:
//! ```
//!
//! - The signature label is [`LABEL`] (`handprint`); members of other labels are ignored.
//! - Covered components, in this order: `@method` (as sent, e.g. `POST`), `@authority`
//!   (host and port as in the URL, lower-cased, default port left out), `@path` (the raw
//!   path, `/` when empty), `@query` (`?` followed by the raw query; `?` alone when there is
//!   none), `content-type` and `content-digest` (field values with surrounding spaces
//!   removed; several field lines joined with `", "`). A verifier accepts further covered
//!   header fields (they must then be present) but no other derived components and no
//!   component parameters.
//! - Parameters, in this order: `created` and `expires` (integer UNIX seconds), `nonce` (a
//!   string of 1 to [`MAX_NONCE`] printable ASCII characters; the client should use at least
//!   128 random bits, e.g. 16 random bytes in unpadded base64url), `keyid`, `alg` (the
//!   string `ed25519`) and `tag` (the string naming the purpose, `handprint-publish` for
//!   publishing). Other parameters are signed like these and otherwise ignored.
//! - `keyid` is the signer's Ed25519 public key itself: its 32 bytes in standard base64
//!   with padding (44 characters). No key look-up is needed to check a signature; whether
//!   that key may act is the server's decision.
//! - The signature base is built as RFC 9421 §2.5 says: one line `"<component>": <value>`
//!   per covered component, each ending in a line feed, then
//!   `"@signature-params": <the inner list above, serialised as RFC 8941 §4.1.1.1 does>`
//!   with no final line feed. The signature is Ed25519 (RFC 8032) over those bytes, checked
//!   with strict verification (small-order keys and non-canonical signatures fail).
//! - `Content-Digest` is a dictionary (RFC 9530); its `sha-256` member must equal the
//!   SHA-256 of the body received. Members for other algorithms are ignored.
//!
//! # What [`verify`] checks
//!
//! The label is present in both `Signature-Input` and `Signature`; every component above
//! is covered; `alg` is `ed25519`; `tag` is the one expected; `created` is at most
//! `max_age` seconds old and at most [`MAX_SKEW`] seconds ahead of the server clock;
//! `expires` is present and not passed; a nonce is present; `Content-Digest` is present and
//! matches the body; the key in `keyid` decodes; and the signature holds over the rebuilt
//! signature base. Any failure is a [`SignatureError`]; a server answers all of them
//! with 401. Fields longer than [`MAX_FIELD`] bytes and signatures covering more than
//! [`MAX_COMPONENTS`] components are refused before any further work.
//!
//! # What it leaves to the server
//!
//! Replay: a valid request can be sent again until it goes stale. The server keeps the
//! `(key, nonce)` pairs it has accepted at least until `created + max_age` (or `expires`,
//! if earlier) has passed, and refuses a pair it has seen. The server also decides which
//! authority it expects: behind a proxy that rewrites `Host`, pass the public authority in
//! [`Incoming::authority`] rather than the one received.

mod message;
mod sf;
mod sign;
mod verify;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};

pub use message::{Extracted, extract};
pub use sign::{RequestParts, Signed, sign};
pub use verify::{Incoming, Verified, verify, verify_request};

/// The signature label in `Signature-Input` and `Signature`.
pub const LABEL: &str = "handprint";
/// The `tag` parameter of a request that publishes a work.
pub const PUBLISH_TAG: &str = "handprint-publish";
/// The `alg` parameter every signature carries.
pub const ALGORITHM: &str = "ed25519";
/// The derived components and fields a signature must cover, in the order [`sign`] uses.
pub const COVERED: [&str; 6] = ["@method", "@authority", "@path", "@query", "content-type", "content-digest"];
/// Longest accepted value of one field (all its lines together) or derived component.
pub const MAX_FIELD: usize = 8 * 1024;
/// Most components one signature may cover.
pub const MAX_COMPONENTS: usize = 16;
/// Longest accepted nonce, in characters; bounds what a server keeps per request.
pub const MAX_NONCE: usize = 128;
/// How far (seconds) `created` may be ahead of the verifier's clock.
pub const MAX_SKEW: u64 = 60;

/// Why a request's signature was not accepted (or could not be made).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the request has no {0} field")]
    Missing(&'static str),
    #[error("the {field} field has no member labelled {label:?}")]
    MissingLabel { field: &'static str, label: String },
    #[error("the {field} field is malformed: {reason}")]
    Malformed { field: &'static str, reason: String },
    #[error("{name} is longer than {MAX_FIELD} bytes")]
    TooLarge { name: String },
    #[error("{name} holds {reason}")]
    BadValue { name: String, reason: &'static str },
    #[error("the signature covers {0} components, more than {MAX_COMPONENTS}")]
    TooManyComponents(usize),
    #[error("the signature does not cover {0}")]
    NotCovered(&'static str),
    #[error("the signature covers {0}, which is not supported")]
    UnsupportedComponent(String),
    #[error("the signature covers the {0} field, which the request does not have")]
    AbsentComponent(String),
    #[error("the signature has no {0} parameter")]
    MissingParameter(&'static str),
    #[error("the signature algorithm is {found:?}, not \"ed25519\"")]
    WrongAlgorithm { found: Option<String> },
    #[error("the signature tag is {found:?}, not {expected:?}")]
    WrongTag { found: Option<String>, expected: String },
    #[error("the signature was created at {created}, more than {max_age} s before {now}")]
    Stale { created: u64, now: u64, max_age: u64 },
    #[error("the signature was created at {created}, more than {MAX_SKEW} s after {now}")]
    Future { created: u64, now: u64 },
    #[error("the signature expired at {expires}, before {now}")]
    Expired { expires: u64, now: u64 },
    #[error("the Content-Digest field does not match the body")]
    DigestMismatch,
    #[error("the keyid is not a base64 Ed25519 public key: {0}")]
    BadKey(String),
    #[error("the signature does not verify with the key in keyid")]
    BadSignature,
    #[error("cannot sign: {0}")]
    Unsignable(String),
}

/// The `Content-Digest` field value for a body: `sha-256=:<base64 of SHA-256(body)>:`.
pub fn content_digest(body: &[u8]) -> String {
    format!("sha-256=:{}:", STANDARD.encode(Sha256::digest(body)))
}

/// The base64 (standard, padded) form of a public key used as `keyid`.
pub fn key_id(key: &ed25519_dalek::VerifyingKey) -> String {
    STANDARD.encode(key.as_bytes())
}
