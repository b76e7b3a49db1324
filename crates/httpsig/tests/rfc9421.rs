//! The published test vectors: RFC 9421 Appendix B.2.6 (Ed25519 over the test request)
//! and the RFC 9530 `Content-Digest` example.

use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey};
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use http::{HeaderMap, HeaderValue};
use httpsig::{Incoming, SignatureError, content_digest, extract, verify_request};

/// RFC 9421 Appendix B.1.4, "test-key-ed25519".
const PRIVATE_PEM: &str = "-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF
-----END PRIVATE KEY-----
";
const PUBLIC_PEM: &str = "-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs=
-----END PUBLIC KEY-----
";

/// Appendix B.2.6 as printed (the RFC 8792 line wrapping undone).
const SIGNATURE_INPUT: &str = "sig-b26=(\"date\" \"@method\" \"@path\" \"@authority\" \"content-type\" \"content-length\");created=1618884473;keyid=\"test-key-ed25519\"";
const SIGNATURE: &str =
    "sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:";
const BASE: &str = "\"date\": Tue, 20 Apr 2021 02:07:55 GMT
\"@method\": POST
\"@path\": /foo
\"@authority\": example.com
\"content-type\": application/json
\"content-length\": 18
\"@signature-params\": (\"date\" \"@method\" \"@path\" \"@authority\" \"content-type\" \"content-length\");created=1618884473;keyid=\"test-key-ed25519\"";

const BODY: &[u8] = b"{\"hello\": \"world\"}";

/// The test-request of RFC 9421 Appendix B.2 with the B.2.6 signature fields.
fn test_request_headers(signature_input: &str, signature: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    let mut set = |name: &'static str, value: &str| {
        headers.append(name, HeaderValue::from_str(value).unwrap());
    };
    set("host", "example.com");
    set("date", "Tue, 20 Apr 2021 02:07:55 GMT");
    set("content-type", "application/json");
    set(
        "content-digest",
        "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:",
    );
    set("content-length", "18");
    set("signature-input", signature_input);
    set("signature", signature);
    headers
}

fn incoming<'a>(headers: &'a HeaderMap, body: &'a [u8]) -> Incoming<'a> {
    Incoming {
        method: "POST",
        authority: "example.com",
        path: "/foo",
        query: Some("param=Value&Pet=dog"),
        headers,
        body,
    }
}

#[test]
fn b26_signature_base_is_rebuilt_byte_for_byte_and_the_signature_verifies() {
    let headers = test_request_headers(SIGNATURE_INPUT, SIGNATURE);
    let extracted = extract(&incoming(&headers, BODY), "sig-b26").unwrap();
    assert_eq!(extracted.base, BASE);
    assert_eq!(
        extracted.components,
        ["date", "@method", "@path", "@authority", "content-type", "content-length"]
    );
    assert_eq!(extracted.integer("created").unwrap(), Some(1618884473));
    assert_eq!(extracted.string("keyid").unwrap(), Some("test-key-ed25519"));

    let public = VerifyingKey::from_public_key_pem(PUBLIC_PEM).unwrap();
    public.verify_strict(extracted.base.as_bytes(), &extracted.signature).unwrap();
    // Ed25519 is deterministic: signing the rebuilt base gives the RFC's signature exactly.
    let private = SigningKey::from_pkcs8_pem(PRIVATE_PEM).unwrap();
    assert_eq!(private.verifying_key(), public);
    assert_eq!(private.sign(BASE.as_bytes()), extracted.signature);
}

#[test]
fn b26_fails_when_a_covered_value_changes() {
    let headers = test_request_headers(SIGNATURE_INPUT, SIGNATURE);
    let mut req = incoming(&headers, BODY);
    req.path = "/foo/";
    let extracted = extract(&req, "sig-b26").unwrap();
    let public = VerifyingKey::from_public_key_pem(PUBLIC_PEM).unwrap();
    assert!(public.verify_strict(extracted.base.as_bytes(), &extracted.signature).is_err());
}

#[test]
fn b26_is_not_a_handprint_signature() {
    // Another label, no keyid key, no nonce: the policy of `verify` refuses it outright.
    let headers = test_request_headers(SIGNATURE_INPUT, SIGNATURE);
    let err = verify_request(&incoming(&headers, BODY), "handprint-publish", 1618884473, 300).unwrap_err();
    assert!(matches!(err, SignatureError::MissingLabel { field: "Signature-Input", .. }), "{err:?}");
}

#[test]
fn rfc9530_content_digest_example() {
    // RFC 9530 §2, the sha-256 digest of the example content.
    assert_eq!(content_digest(BODY), "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:");
    assert_eq!(content_digest(b""), "sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:");
}
