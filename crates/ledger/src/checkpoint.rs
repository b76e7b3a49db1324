//! Checkpoints of the Merkle log as C2SP signed notes (the format of Go's transparency logs
//! and Sigstore): <https://c2sp.org/tlog-checkpoint>, <https://c2sp.org/signed-note>.
//!
//! ```text
//! handprint/journal/3f2a9c0d1e8b7a65
//! 1042
//! 5b3zmrFXeb8vNdkQmrRFkKeb3qdiPvZ5cPPAJzoUj3A=
//! time 2026-11-26T21:00:00.123Z
//!
//! — handprint/journal/3f2a9c0d1e8b7a65 Az3+Ks...base64(key id ‖ signature)...
//! ```

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};

use crate::{Hash, LedgerError};

/// An unsigned checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
    /// When it was made (an extension line `time <RFC 3339>`).
    pub time: String,
}

/// The log's origin line for a key: `handprint/journal/` and 16 hex digits of SHA-256(key).
pub fn origin_for(key: &VerifyingKey) -> String {
    format!("handprint/journal/{}", &Hash::of(key.as_bytes()).to_hex()[..16])
}

/// The signed-note key ID: the first 4 bytes of SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key),
/// 0x01 being the Ed25519 signature type.
pub fn key_id(name: &str, key: &VerifyingKey) -> [u8; 4] {
    let mut data = name.as_bytes().to_vec();
    data.extend_from_slice(&[0x0A, 0x01]);
    data.extend_from_slice(key.as_bytes());
    Hash::of(&data).0[..4].try_into().unwrap()
}

/// The signed-note verifier key string (`name+keyid+base64(0x01‖key)`), for tools that
/// verify notes.
pub fn verifier_key(name: &str, key: &VerifyingKey) -> String {
    let mut k = vec![0x01];
    k.extend_from_slice(key.as_bytes());
    format!("{name}+{}+{}", hex::encode(key_id(name, key)), B64.encode(k))
}

impl Checkpoint {
    /// The note text that is signed: origin, size, base64 root, extension lines; each ending
    /// in a newline.
    pub fn body(&self) -> String {
        format!("{}\n{}\n{}\ntime {}\n", self.origin, self.size, B64.encode(self.root.0), self.time)
    }

    /// The signed note: body, blank line, one signature line.
    pub fn sign(&self, key: &SigningKey) -> String {
        let body = self.body();
        let signature = key.sign(body.as_bytes());
        let mut blob = key_id(&self.origin, &key.verifying_key()).to_vec();
        blob.extend_from_slice(&signature.to_bytes());
        format!("{body}\n\u{2014} {} {}\n", self.origin, B64.encode(blob))
    }

    /// Parses a signed note and checks its signature by `key`.
    pub fn verify_note(note: &str, key: &VerifyingKey) -> Result<Checkpoint, LedgerError> {
        let bad = |what: &str| LedgerError::Malformed(format!("checkpoint: {what}"));
        let (body, sigs) =
            note.split_once("\n\n").ok_or_else(|| bad("no blank line before the signatures"))?;
        let body = format!("{body}\n");
        let mut lines = body.lines();
        let origin = lines.next().ok_or_else(|| bad("no origin line"))?.to_owned();
        let size = lines.next().and_then(|l| l.parse().ok()).ok_or_else(|| bad("no tree size line"))?;
        let root = lines
            .next()
            .and_then(|l| B64.decode(l).ok())
            .and_then(|b| Hash::from_slice(&b))
            .ok_or_else(|| bad("no root hash line"))?;
        let time = lines.find_map(|l| l.strip_prefix("time ")).ok_or_else(|| bad("no time line"))?.to_owned();
        let id = key_id(&origin, key);
        let verified = sigs.lines().any(|line| {
            let Some(rest) = line.strip_prefix("\u{2014} ") else { return false };
            let Some((name, blob)) = rest.split_once(' ') else { return false };
            let Ok(blob) = B64.decode(blob) else { return false };
            if name != origin || blob.len() != 68 || blob[..4] != id {
                return false;
            }
            let Ok(signature) = Signature::from_slice(&blob[4..]) else { return false };
            key.verify_strict(body.as_bytes(), &signature).is_ok()
        });
        if !verified {
            return Err(LedgerError::Malformed(format!(
                "checkpoint of size {size}: no valid signature by the journal's key"
            )));
        }
        Ok(Checkpoint { origin, size, root, time })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_checkpoint_verifies_and_any_change_breaks_it() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let cp = Checkpoint {
            origin: origin_for(&key.verifying_key()),
            size: 42,
            root: Hash::of(b"root"),
            time: "2026-11-26T21:00:00.000Z".into(),
        };
        let note = cp.sign(&key);
        assert!(note.contains("\n\n\u{2014} handprint/journal/"));
        assert_eq!(Checkpoint::verify_note(&note, &key.verifying_key()).unwrap(), cp);
        let tampered = note.replace("\n42\n", "\n43\n");
        assert!(Checkpoint::verify_note(&tampered, &key.verifying_key()).is_err());
        let other = SigningKey::from_bytes(&[8; 32]);
        assert!(Checkpoint::verify_note(&note, &other.verifying_key()).is_err());
    }
}
