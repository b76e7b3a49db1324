//! Signing a request on the client: the `Content-Digest`, `Signature-Input` and
//! `Signature` field values for a request, covering [`crate::COVERED`].

use ed25519_dalek::{Signer, SigningKey};

use crate::message::{Target, signature_base};
use crate::sf::{self, Bare, Item, MAX_INTEGER, Params};
use crate::{ALGORITHM, COVERED, LABEL, MAX_NONCE, SignatureError, content_digest, key_id};

/// What a signature covers of an outgoing request. `authority` is the URL's host (and
/// port, when not the scheme's default); `content_type` must be sent unchanged as the
/// `Content-Type` field, `body` byte for byte as the content.
#[derive(Debug, Clone, Copy)]
pub struct RequestParts<'a> {
    pub method: &'a str,
    pub authority: &'a str,
    pub path: &'a str,
    pub query: Option<&'a str>,
    pub content_type: &'a str,
    pub body: &'a [u8],
}

/// The field values to add to a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    /// `Signature-Input` value: `handprint=(...);created=...`.
    pub signature_input: String,
    /// `Signature` value: `handprint=:...:`.
    pub signature: String,
    /// `Content-Digest` value: `sha-256=:...:`.
    pub content_digest: String,
}

impl Signed {
    /// The three fields as (name, value) pairs, ready to set on a request.
    pub fn headers(&self) -> [(&'static str, &str); 3] {
        [
            ("Content-Digest", &self.content_digest),
            ("Signature-Input", &self.signature_input),
            ("Signature", &self.signature),
        ]
    }
}

/// Signs a request with `key`: covers [`COVERED`] with `created`, `expires` (UNIX
/// seconds), `nonce`, `keyid` (the public key), `alg="ed25519"` and `tag`. Fails only on
/// values the fields cannot carry (non-ASCII text, an empty or over-long nonce, times out
/// of range or `expires` before `created`).
pub fn sign(
    key: &SigningKey,
    req: &RequestParts<'_>,
    tag: &str,
    created: u64,
    expires: u64,
    nonce: &str,
) -> Result<Signed, SignatureError> {
    let unsignable = SignatureError::Unsignable;
    if nonce.is_empty() || nonce.len() > MAX_NONCE {
        return Err(unsignable(format!("the nonce must have 1 to {MAX_NONCE} characters")));
    }
    let time = |name: &str, t: u64| match i64::try_from(t) {
        Ok(t) if t <= MAX_INTEGER => Ok(t),
        _ => Err(unsignable(format!("{name} {t} is too large"))),
    };
    let (created_i, expires_i) = (time("created", created)?, time("expires", expires)?);
    if expires < created {
        return Err(unsignable(format!("expires {expires} is before created {created}")));
    }

    let digest = content_digest(req.body);
    let content_type = req.content_type.trim_matches([' ', '\t']);
    if content_type.is_empty() || !content_type.bytes().all(|c| c == b'\t' || (0x20..=0x7e).contains(&c)) {
        return Err(unsignable(format!("content type {content_type:?} cannot be sent as a field")));
    }
    let target = Target { method: req.method, authority: req.authority, path: req.path, query: req.query };
    let components: Vec<String> = COVERED.iter().map(|c| c.to_string()).collect();
    let lines = target
        .lines(&components, |name| {
            Ok(match name {
                "content-type" => Some(content_type.to_string()),
                "content-digest" => Some(digest.clone()),
                _ => None,
            })
        })
        .map_err(|e| unsignable(e.to_string()))?;

    let items: Vec<Item> =
        components.iter().map(|c| Item { bare: Bare::String(c.clone()), params: Vec::new() }).collect();
    let params: Params = vec![
        ("created".into(), Bare::Integer(created_i)),
        ("expires".into(), Bare::Integer(expires_i)),
        ("nonce".into(), Bare::String(nonce.into())),
        ("keyid".into(), Bare::String(key_id(&key.verifying_key()))),
        ("alg".into(), Bare::String(ALGORITHM.into())),
        ("tag".into(), Bare::String(tag.into())),
    ];
    let signature_params = sf::serialize_inner_list(&items, &params).map_err(unsignable)?;
    let signature = key.sign(signature_base(&lines, &signature_params).as_bytes());

    let mut signature_value = format!("{LABEL}=");
    sf::serialize_bare(&Bare::Bytes(signature.to_bytes().to_vec()), &mut signature_value)
        .map_err(unsignable)?;
    Ok(Signed {
        signature_input: format!("{LABEL}={signature_params}"),
        signature: signature_value,
        content_digest: digest,
    })
}
