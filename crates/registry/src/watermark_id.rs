//! The 64-bit ID a sealed work's watermark carries, derived from its author's key.
//!
//! `id = first 8 bytes (big-endian) of SHA-256("handprint.watermark-id/1" ‖ 0x00 ‖ key ‖ nonce)`,
//! with `key` the author's raw 32-byte Ed25519 public key and `nonce` 16 random bytes that
//! the `sealed` event records beside the ID. Works sealed offline on many machines then
//! get IDs that collide only by chance (about 1 in 3.7·10^5 for ten million works), and the
//! ID is bound to the key: anyone can recompute it from the signed event, and a registry
//! refuses a publication whose ID is not its signer's, so nobody takes another creator's ID
//! without a 2^64 search. A clash is refused, never resolved silently (docs/registry.md).

use ed25519_dalek::VerifyingKey;
use sha2::{Digest, Sha256};

const DOMAIN: &[u8] = b"handprint.watermark-id/1\0";

/// The watermark ID of `key` and `nonce`.
pub fn derive(key: &VerifyingKey, nonce: &[u8; 16]) -> u64 {
    let digest =
        Sha256::new().chain_update(DOMAIN).chain_update(key.as_bytes()).chain_update(nonce).finalize();
    u64::from_be_bytes(digest[..8].try_into().expect("8 bytes"))
}

/// A new random nonce.
pub fn new_nonce() -> [u8; 16] {
    let mut nonce = [0u8; 16];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut nonce);
    nonce
}

/// Whether `id` is the ID of `key` and the hex `nonce` (32 hex digits).
pub fn belongs_to(id: u64, key: &VerifyingKey, nonce_hex: &str) -> bool {
    let Some(nonce) = hex::decode(nonce_hex).ok().and_then(|n| <[u8; 16]>::try_from(n).ok()) else {
        return false;
    };
    derive(key, &nonce) == id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_id_depends_on_key_and_nonce_and_is_checkable() {
        let a = ed25519_dalek::SigningKey::from_bytes(&[1; 32]).verifying_key();
        let b = ed25519_dalek::SigningKey::from_bytes(&[2; 32]).verifying_key();
        let n = [7u8; 16];
        assert_ne!(derive(&a, &n), derive(&b, &n));
        assert_ne!(derive(&a, &n), derive(&a, &[8u8; 16]));
        assert!(belongs_to(derive(&a, &n), &a, &hex::encode(n)));
        assert!(!belongs_to(derive(&a, &n), &b, &hex::encode(n)));
        assert!(!belongs_to(derive(&a, &n), &a, "07"));
        // A fixed vector, so that other implementations can check theirs (docs/registry.md).
        assert_eq!(format!("{:016x}", derive(&a, &n)), VECTOR);
    }

    // Key of the seed 0x01 × 32 (8a88e3dd…6f5c), nonce 0x07 × 16; recomputed with openssl and
    // Python's hashlib as docs/registry.md shows.
    const VECTOR: &str = "049bafd03e0d95a0";
}
