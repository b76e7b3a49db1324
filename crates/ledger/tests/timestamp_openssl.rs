//! RFC 3161 tokens from a real TSA (`openssl ts`), verified offline.

use fixtures::tsa::{KeyKind, Tsa};
use ledger::timestamp::{self, TimestampError};

const NOTE: &[u8] = b"handprint/journal/0011223344556677\n42\nq83vEjRWeJASNFZ4kBI0VniQEjRWeJASNFZ4kBI0Vng=\ntime 2026-11-26T21:00:00.000Z\n";

fn token(kind: KeyKind) -> (tempfile::TempDir, Tsa, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let tsa = Tsa::new(dir.path(), kind);
    let response = tsa.reply(&timestamp::request(NOTE, 77));
    let token = timestamp::token_from_response(&response, 77).unwrap();
    (dir, tsa, token)
}

#[test]
fn rsa_and_ecdsa_tokens_verify_against_their_root() {
    for kind in [KeyKind::Rsa, KeyKind::EcdsaP256] {
        let (_dir, tsa, token) = token(kind);
        let stamp =
            timestamp::verify(&token, NOTE, &[tsa.root_der()]).unwrap_or_else(|e| panic!("{kind:?}: {e}"));
        assert!(stamp.tsa.contains("handprint test TSA"), "{stamp:?}");
        assert_eq!(stamp.policy, "1.3.6.1.4.1.99999.1");
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        assert_eq!(&stamp.time[..13], &now[..13], "the TSA's clock, to the hour");
    }
}

#[test]
fn a_token_for_another_checkpoint_is_refused() {
    let (_dir, tsa, token) = token(KeyKind::EcdsaP256);
    let err = timestamp::verify(&token, b"another note", &[tsa.root_der()]).unwrap_err();
    assert!(err.to_string().contains("message imprint differs"), "{err}");
}

#[test]
fn a_token_is_refused_without_its_root() {
    let (_dir, _tsa, token) = token(KeyKind::Rsa);
    let other = tempfile::tempdir().unwrap();
    let stranger = Tsa::new(other.path(), KeyKind::Rsa);
    let err = timestamp::verify(&token, NOTE, &[stranger.root_der()]).unwrap_err();
    assert!(err.to_string().contains("is not among the trusted roots"), "{err}");
    let err = timestamp::verify(&token, NOTE, &[]).unwrap_err();
    assert!(err.to_string().contains("is not among the trusted roots"), "{err}");
}

/// Where `needle` sits in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> usize {
    haystack.windows(needle.len()).position(|w| w == needle).expect("present")
}

#[test]
fn any_change_to_what_the_tsa_signed_is_refused() {
    let (_dir, tsa, token) = token(KeyKind::EcdsaP256);
    let roots = [tsa.root_der()];
    // The genTime (GeneralizedTime, tag 0x18, "YYYYMMDDhhmmssZ"): every digit.
    let year = chrono::Utc::now().format("%Y").to_string();
    let at = find(&token, year.as_bytes());
    for i in at..at + 14 {
        let mut bad = token.clone();
        bad[i] = if bad[i] == b'1' { b'2' } else { b'1' };
        let err = timestamp::verify(&bad, NOTE, &roots).unwrap_err();
        assert!(
            err.to_string().contains("altered") || err.to_string().contains("well-formed"),
            "byte {i}: {err}"
        );
    }
    // The imprint: the checkpoint's hash inside the token.
    let imprint: [u8; 32] =
        sha2::Digest::finalize(<sha2::Sha256 as sha2::Digest>::new_with_prefix(NOTE)).into();
    let at = find(&token, &imprint);
    let mut bad = token.clone();
    bad[at] ^= 1;
    assert!(timestamp::verify(&bad, NOTE, &roots).is_err());
    // The signature: the token's last bytes (no unsigned attributes follow it).
    for back in 1..8 {
        let mut bad = token.clone();
        let i = bad.len() - back;
        bad[i] ^= 0x40;
        assert!(
            timestamp::verify(&bad, NOTE, &roots).is_err(),
            "signature byte -{back} flipped and still accepted"
        );
    }
}

#[test]
fn a_reply_to_another_request_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let tsa = Tsa::new(dir.path(), KeyKind::EcdsaP256);
    let response = tsa.reply(&timestamp::request(NOTE, 1));
    assert!(matches!(timestamp::token_from_response(&response, 2), Err(TimestampError::Invalid(_))));
    assert!(timestamp::token_from_response(b"not DER", 1).is_err());
}
