//! The signed statement of an export: what the journal's key holder says the exported folder
//! holds (the project, its number of events and the hash of its last one, the checkpoint the
//! proofs are against, how many checkpoints and timestamps come with it), so that nothing can
//! be cut from an export, and no name put on it, without the signature failing.
//!
//! The signature is Ed25519 by the journal's key over the RFC 8785 canonical JSON of the
//! statement object, as for events; the `format` field keeps the two apart.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::event::{author_of, canonical};
use crate::{Hash, LedgerError};

pub const STATEMENT_FORMAT: &str = "handprint.export-statement/1";

/// What an export holds, as its author states it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Statement {
    /// [`STATEMENT_FORMAT`].
    pub format: String,
    pub project: String,
    /// The identity's display name: the key holder's own claim, proven by nothing else.
    pub name: String,
    /// The journal's Ed25519 public key, base64 (as in events' `author`).
    pub public_key: String,
    /// The number of the project's events in the export.
    pub events: u64,
    /// The hash of the project's last exported event (its chain head); none without events.
    pub head: Option<Hash>,
    /// The checkpoint every inclusion proof is against.
    pub checkpoint: StatedCheckpoint,
    /// The number of checkpoint notes in the export.
    pub checkpoints: u64,
    /// The number of RFC 3161 tokens in the export.
    pub timestamps: u64,
    /// When the export was made (RFC 3339 UTC).
    pub exported: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatedCheckpoint {
    pub size: u64,
    pub root: Hash,
}

impl Statement {
    /// The signed message: the statement's canonical JSON.
    pub fn message(&self) -> Vec<u8> {
        canonical(self)
    }

    /// Signs the statement; the signature is base64, as events' are.
    pub fn sign(&self, key: &SigningKey) -> String {
        B64.encode(key.sign(&self.message()).to_bytes())
    }

    /// Checks the format, that the statement names `key`, and `signature` (base64) over it.
    pub fn verify(&self, signature: &str, key: &VerifyingKey) -> Result<(), LedgerError> {
        if self.format != STATEMENT_FORMAT {
            return Err(LedgerError::Malformed(format!(
                "the statement's format {:?} is not {STATEMENT_FORMAT}",
                self.format
            )));
        }
        if self.public_key != author_of(key) {
            return Err(LedgerError::Malformed("the statement names another key than the export's".into()));
        }
        let bytes = B64
            .decode(signature)
            .map_err(|_| LedgerError::Malformed("the statement's signature is not base64".into()))?;
        let signature = Signature::from_slice(&bytes)
            .map_err(|_| LedgerError::Malformed("the statement's signature is not 64 bytes".into()))?;
        key.verify_strict(&self.message(), &signature).map_err(|_| LedgerError::BadSignature)
    }
}

/// The fingerprint a key is known by: SHA-256 of its 32 raw bytes, in hex. Its first 16 hex
/// digits are the journal's checkpoint origin.
pub fn key_fingerprint(key: &VerifyingKey) -> String {
    Hash::of(key.as_bytes()).to_hex()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statement(key: &SigningKey) -> Statement {
        Statement {
            format: STATEMENT_FORMAT.into(),
            project: "fox".into(),
            name: "Li Wen".into(),
            public_key: author_of(&key.verifying_key()),
            events: 3,
            head: Some(Hash::of(b"last")),
            checkpoint: StatedCheckpoint { size: 7, root: Hash::of(b"root") },
            checkpoints: 4,
            timestamps: 0,
            exported: "2026-01-01T00:00:00.000Z".into(),
        }
    }

    #[test]
    fn a_statement_verifies_and_any_change_breaks_it() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let s = statement(&key);
        let sig = s.sign(&key);
        s.verify(&sig, &key.verifying_key()).unwrap();
        let mut fewer = s.clone();
        fewer.events = 2;
        assert!(matches!(fewer.verify(&sig, &key.verifying_key()), Err(LedgerError::BadSignature)));
        let mut renamed = s.clone();
        renamed.name = "Alice Famous".into();
        assert!(matches!(renamed.verify(&sig, &key.verifying_key()), Err(LedgerError::BadSignature)));
        let other = SigningKey::from_bytes(&[8; 32]);
        assert!(s.verify(&sig, &other.verifying_key()).is_err());
        assert!(s.verify("not base64!", &key.verifying_key()).is_err());
    }

    #[test]
    fn the_fingerprint_starts_with_the_checkpoint_origin() {
        let key = SigningKey::from_bytes(&[7; 32]).verifying_key();
        let origin = crate::checkpoint::origin_for(&key);
        assert!(origin.ends_with(&key_fingerprint(&key)[..16]));
        assert_eq!(key_fingerprint(&key).len(), 64);
    }
}
