//! Journal events: canonical JSON (RFC 8785), signed with Ed25519, chained per project.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{Hash, LedgerError};

/// The `format` of every event.
pub const EVENT_FORMAT: &str = "handprint.event/1";

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EventKind {
    /// A generator produced an image (file hash, size, capture record).
    Generated,
    /// The creator changed the prompt between generations.
    PromptEdited,
    /// The creator chose a candidate.
    Selected,
    /// The creator set a candidate aside.
    Rejected,
    /// Manual work: an input file made into an output file with a tool.
    Edited,
    /// A file from elsewhere: a sketch, a photo, a reference.
    Imported,
    /// Free text from the creator.
    Note,
    /// A final work was sealed.
    Sealed,
    /// A finished image was registered as a work (fingerprinted, not watermarked).
    Registered,
    /// A registry server published a creator's sealed work (the server's own log).
    Published,
    /// A registry server marked a published work withdrawn by its creator.
    Withdrawn,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Generated => "generated",
            EventKind::PromptEdited => "prompt-edited",
            EventKind::Selected => "selected",
            EventKind::Rejected => "rejected",
            EventKind::Edited => "edited",
            EventKind::Imported => "imported",
            EventKind::Note => "note",
            EventKind::Sealed => "sealed",
            EventKind::Registered => "registered",
            EventKind::Published => "published",
            EventKind::Withdrawn => "withdrawn",
        }
    }
}

/// One journal event, as signed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Event {
    pub format: String,
    /// Position in the identity's Merkle log (0-based).
    pub log_index: u64,
    pub project: String,
    /// Position in the project's chain (0-based).
    pub project_seq: u64,
    /// Hash of the project's previous event; `None` for its first.
    pub prev: Option<Hash>,
    /// RFC 3339, UTC, milliseconds: `2026-11-26T21:00:00.123Z`.
    pub time: String,
    /// The author's Ed25519 public key, base64.
    pub author: String,
    pub kind: EventKind,
    pub data: Value,
    /// Events this one derives from, and how (the prompt it edits, the image it upscales,
    /// the file it edits): the edges of the work's derivation graph.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub derived_from: Vec<Link>,
}

/// An edge of the derivation graph.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Link {
    pub event: Hash,
    /// How this event derives from that one, e.g. `prompt-edit`, `same-seed`, `init-image`,
    /// `edit-input`, `candidate`.
    pub relation: String,
}

/// An event with its signature: what is stored, exported and hashed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedEvent {
    pub event: Event,
    /// Ed25519 signature over the RFC 8785 canonical JSON of `event`, base64.
    pub signature: String,
}

/// The largest integer every JSON number (an IEEE 754 double in RFC 8785) holds exactly.
const MAX_EXACT: u64 = 1 << 53;

/// Rewrites integers beyond ±2^53 as decimal strings, as RFC 8785 (§6, "Interoperability")
/// advises: canonical JSON writes numbers as doubles, which would silently round them.
/// Seeds are the common case (Fooocus and ComfyUI use 64-bit seeds).
pub fn exact_numbers(value: &mut Value) {
    match value {
        Value::Number(n) => {
            let big = n.as_u64().is_some_and(|v| v > MAX_EXACT)
                || n.as_i64().is_some_and(|v| v.unsigned_abs() > MAX_EXACT);
            if big {
                *value = Value::String(n.to_string());
            }
        }
        Value::Array(items) => items.iter_mut().for_each(exact_numbers),
        Value::Object(map) => map.values_mut().for_each(exact_numbers),
        _ => {}
    }
}

/// RFC 8785 canonical JSON.
pub fn canonical<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json_canonicalizer::to_vec(value).expect("journal values are plain JSON")
}

pub fn author_of(key: &VerifyingKey) -> String {
    B64.encode(key.as_bytes())
}

impl Event {
    pub fn sign(self, key: &SigningKey) -> SignedEvent {
        let signature = key.sign(&canonical(&self));
        SignedEvent { event: self, signature: B64.encode(signature.to_bytes()) }
    }
}

impl SignedEvent {
    /// The bytes stored as the Merkle leaf: the canonical JSON of the signed event.
    pub fn to_bytes(&self) -> Vec<u8> {
        canonical(self)
    }

    /// Parses stored bytes, refusing anything that is not exactly canonical.
    pub fn from_bytes(bytes: &[u8]) -> Result<SignedEvent, LedgerError> {
        let parsed: SignedEvent = serde_json::from_slice(bytes)
            .map_err(|e| LedgerError::Malformed(format!("not a signed event: {e}")))?;
        if parsed.to_bytes() != bytes {
            return Err(LedgerError::Malformed("not in canonical form (the bytes were altered)".into()));
        }
        Ok(parsed)
    }

    /// The event's hash: SHA-256 of [`SignedEvent::to_bytes`]. Chains and lineage use it.
    pub fn hash(&self) -> Hash {
        Hash::of(&self.to_bytes())
    }

    /// The file the event produced or brought in, as docs/ledger.md describes it: `data.file`
    /// (generated, imported, and the candidate of selected and rejected) or `data.output`
    /// (edited).
    pub fn file(&self) -> Option<&Value> {
        self.event.data.get("file").or_else(|| self.event.data.get("output"))
    }

    /// The signed message inside stored (canonical) bytes: `{"event":` E `,"signature":"…"}`
    /// is canonical only if E is the canonical encoding of the event, so E is the message.
    /// Saves re-encoding the event when verifying many.
    pub fn message_in(bytes: &[u8]) -> Option<&[u8]> {
        let rest = bytes.strip_prefix(b"{\"event\":")?;
        let end = rest.windows(13).rposition(|w| w == b",\"signature\":")?;
        Some(&rest[..end])
    }

    pub fn signature(&self) -> Result<Signature, LedgerError> {
        let bytes = B64
            .decode(&self.signature)
            .map_err(|_| LedgerError::Malformed("signature is not base64".into()))?;
        Signature::from_slice(&bytes).map_err(|_| LedgerError::Malformed("signature is not 64 bytes".into()))
    }

    pub fn verify(&self, key: &VerifyingKey) -> Result<(), LedgerError> {
        if self.event.author != author_of(key) {
            return Err(LedgerError::Malformed("signed by another key than the journal's".into()));
        }
        key.verify_strict(&canonical(&self.event), &self.signature()?).map_err(|_| LedgerError::BadSignature)
    }
}

/// UTC now, as events write it.
pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_beyond_2_pow_53_survive_canonical_encoding_as_strings() {
        let mut v = serde_json::json!({"seed": 8263725916278349174u64, "small": 42, "neg": -9007199254740993i64, "list": [18446744073709551615u64]});
        exact_numbers(&mut v);
        let text = String::from_utf8(canonical(&v)).unwrap();
        assert_eq!(
            text,
            r#"{"list":["18446744073709551615"],"neg":"-9007199254740993","seed":"8263725916278349174","small":42}"#
        );
    }
}
