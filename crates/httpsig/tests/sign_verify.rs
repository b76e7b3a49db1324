//! `sign` then `verify`: the round trip, each way a request can fail, and garbage fields.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, Signer, SigningKey};
use http::{HeaderMap, HeaderValue, Method, Uri};
use httpsig::{
    COVERED, Incoming, LABEL, MAX_SKEW, PUBLISH_TAG, RequestParts, SignatureError, Signed, Verified,
    content_digest, extract, key_id, sign, verify, verify_request,
};

const NOW: u64 = 1_700_000_000;
const MAX_AGE: u64 = 300;
const NONCE: &str = "q3Zs7yM1y1f0a9CkQ2bN_w";

fn key(n: u8) -> SigningKey {
    SigningKey::from_bytes(&[n; 32])
}

/// An owned request, so tests can change any part of it after signing.
#[derive(Clone)]
struct Req {
    method: String,
    authority: String,
    path: String,
    query: Option<String>,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Req {
    fn incoming(&self) -> Incoming<'_> {
        Incoming {
            method: &self.method,
            authority: &self.authority,
            path: &self.path,
            query: self.query.as_deref(),
            headers: &self.headers,
            body: &self.body,
        }
    }

    fn check(&self) -> Result<Verified, SignatureError> {
        self.check_at(NOW + 5)
    }

    fn check_at(&self, now: u64) -> Result<Verified, SignatureError> {
        verify_request(&self.incoming(), PUBLISH_TAG, now, MAX_AGE)
    }

    fn set(&mut self, name: &'static str, value: &str) {
        self.headers.insert(name, HeaderValue::from_str(value).unwrap());
    }

    /// Replaces `Signature-Input` and signs whatever base it now describes with `key`:
    /// the request is then validly signed, so only the verifier's policy can refuse it.
    fn resign(&mut self, key: &SigningKey, signature_input: &str) {
        self.set("signature-input", signature_input);
        let base = extract(&self.incoming(), LABEL).unwrap().base;
        let signature = STANDARD.encode(key.sign(base.as_bytes()).to_bytes());
        self.set("signature", &format!("{LABEL}=:{signature}:"));
    }
}

/// A change made to a signed request.
type Change = fn(&mut Req);
/// What a refused request's error must look like.
type Expect = fn(&SignatureError) -> bool;

fn parts<'a>(body: &'a [u8]) -> RequestParts<'a> {
    RequestParts {
        method: "POST",
        authority: "registry.example:8443",
        path: "/v1/works",
        query: None,
        content_type: "application/json",
        body,
    }
}

fn request_signed_with(key: &SigningKey, tag: &str, created: u64, expires: u64) -> Req {
    let body = br#"{"work":"abc","licence":"CC-BY-4.0"}"#.to_vec();
    let p = parts(&body);
    let signed = sign(key, &p, tag, created, expires, NONCE).unwrap();
    let mut headers = HeaderMap::new();
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    for (name, value) in signed.headers() {
        headers.insert(name, HeaderValue::from_str(value).unwrap());
    }
    Req {
        method: p.method.into(),
        authority: p.authority.into(),
        path: p.path.into(),
        query: None,
        headers,
        body: body.clone(),
    }
}

fn request() -> Req {
    request_signed_with(&key(1), PUBLISH_TAG, NOW, NOW + MAX_AGE)
}

/// The parameters `sign` writes, with one of them changed or dropped.
fn params_with(key: &SigningKey, replace: &str, by: Option<&str>) -> String {
    let components: Vec<String> = COVERED.iter().map(|c| format!("\"{c}\"")).collect();
    let params = [
        ("created", NOW.to_string()),
        ("expires", (NOW + MAX_AGE).to_string()),
        ("nonce", format!("\"{NONCE}\"")),
        ("keyid", format!("\"{}\"", key_id(&key.verifying_key()))),
        ("alg", "\"ed25519\"".to_string()),
        ("tag", format!("\"{PUBLISH_TAG}\"")),
    ];
    let mut out = format!("{LABEL}=({})", components.join(" "));
    for (name, value) in params {
        match (name == replace, by) {
            (false, _) => out.push_str(&format!(";{name}={value}")),
            (true, Some(v)) => out.push_str(&format!(";{name}={v}")),
            (true, None) => {}
        }
    }
    out
}

#[test]
fn a_signed_request_verifies_and_names_its_key() {
    let req = request();
    let verified = req.check().unwrap();
    assert_eq!(verified.key, key(1).verifying_key());
    assert_eq!(verified.key_id, STANDARD.encode(key(1).verifying_key().as_bytes()));
    assert_eq!(verified.key_id.len(), 44);
    assert_eq!(verified.created, NOW);
    assert_eq!(verified.expires, NOW + MAX_AGE);
    assert_eq!(verified.nonce, NONCE);
}

#[test]
fn the_signed_fields_have_the_documented_shape() {
    let body = b"{}".to_vec();
    let signed: Signed = sign(&key(2), &parts(&body), PUBLISH_TAG, NOW, NOW + 60, NONCE).unwrap();
    let keyid = key_id(&key(2).verifying_key());
    let params = format!(
        "(\"@method\" \"@authority\" \"@path\" \"@query\" \"content-type\" \"content-digest\");created={NOW};expires={};nonce=\"{NONCE}\";keyid=\"{keyid}\";alg=\"ed25519\";tag=\"handprint-publish\"",
        NOW + 60
    );
    assert_eq!(signed.signature_input, format!("handprint={params}"));
    assert_eq!(signed.content_digest, content_digest(&body));

    // The base, written out by hand from the crate documentation, is what was signed.
    let base = format!(
        "\"@method\": POST\n\"@authority\": registry.example:8443\n\"@path\": /v1/works\n\"@query\": ?\n\"content-type\": application/json\n\"content-digest\": {}\n\"@signature-params\": {params}",
        content_digest(&body)
    );
    let b64 = signed.signature.strip_prefix("handprint=:").and_then(|s| s.strip_suffix(':')).unwrap();
    let bytes: [u8; 64] = STANDARD.decode(b64).unwrap().try_into().unwrap();
    key(2).verifying_key().verify_strict(base.as_bytes(), &Signature::from_bytes(&bytes)).unwrap();
}

#[test]
fn incoming_reads_authority_from_the_uri_or_the_host_field() {
    let req = request();
    let method = Method::POST;
    let origin_form: Uri = "/v1/works".parse().unwrap();
    let mut headers = req.headers.clone();
    headers.insert("host", HeaderValue::from_static("Registry.Example:8443"));
    let incoming = Incoming::new(&method, &origin_form, &headers, &req.body);
    assert_eq!(incoming.authority, "Registry.Example:8443");
    assert_eq!(incoming.query, None);
    // @authority is compared lower-cased.
    verify_request(&incoming, PUBLISH_TAG, NOW, MAX_AGE).unwrap();

    let absolute: Uri = "https://registry.example:8443/v1/works?".parse().unwrap();
    let incoming = Incoming::new(&method, &absolute, &req.headers, &req.body);
    assert_eq!(incoming.authority, "registry.example:8443");
    // An empty query and no query have the same @query, "?".
    verify_request(&incoming, PUBLISH_TAG, NOW, MAX_AGE).unwrap();

    let other: Uri = "https://registry.example/v1/works".parse().unwrap();
    let incoming = Incoming::new(&method, &other, &req.headers, &req.body);
    assert_eq!(
        verify_request(&incoming, PUBLISH_TAG, NOW, MAX_AGE).unwrap_err(),
        SignatureError::BadSignature
    );
}

#[test]
fn a_changed_body_fails_the_digest() {
    let mut req = request();
    req.body.push(b' ');
    assert_eq!(req.check().unwrap_err(), SignatureError::DigestMismatch);
    // Recomputing the digest for the new body breaks the signature instead.
    let digest = content_digest(&req.body);
    req.set("content-digest", &digest);
    assert_eq!(req.check().unwrap_err(), SignatureError::BadSignature);
}

#[test]
fn changed_method_path_query_authority_or_content_type_fail() {
    let changes: [(&str, Change); 6] = [
        ("method", |r| r.method = "PUT".into()),
        ("path", |r| r.path = "/v1/works/other".into()),
        ("query", |r| r.query = Some("dry-run=1".into())),
        ("authority", |r| r.authority = "evil.example:8443".into()),
        ("content type", |r| r.set("content-type", "text/plain")),
        ("nonce", |r| {
            let input = params_with(&key(1), "nonce", Some("\"another\""));
            r.set("signature-input", &input);
        }),
    ];
    for (what, change) in changes {
        let mut req = request();
        change(&mut req);
        assert_eq!(req.check().unwrap_err(), SignatureError::BadSignature, "changed {what}");
    }
}

#[test]
fn another_key_fails() {
    // The keyid names key 2 but key 1 signed.
    let mut req = request();
    let signature = req.headers["signature"].clone();
    req.set("signature-input", &params_with(&key(2), "", None));
    req.headers.insert("signature", signature);
    assert_eq!(req.check().unwrap_err(), SignatureError::BadSignature);

    // Key 2's own signature moved onto key 1's request.
    let mut req = request();
    let other = request_signed_with(&key(2), PUBLISH_TAG, NOW, NOW + MAX_AGE);
    req.headers.insert("signature", other.headers["signature"].clone());
    assert_eq!(req.check().unwrap_err(), SignatureError::BadSignature);

    // A keyid that is no key.
    let mut req = request();
    req.resign(&key(1), &params_with(&key(1), "keyid", Some("\"bm90IGEga2V5\"")));
    assert!(matches!(req.check().unwrap_err(), SignatureError::BadKey(_)));
    req.resign(&key(1), &params_with(&key(1), "keyid", Some("\"%%%\"")));
    assert!(matches!(req.check().unwrap_err(), SignatureError::BadKey(_)));
}

#[test]
fn times_outside_the_window_fail() {
    let req = request();
    assert!(req.check_at(NOW + MAX_AGE).is_ok());
    let short = request_signed_with(&key(1), PUBLISH_TAG, NOW, NOW + 60);
    assert!(short.check_at(NOW + 60).is_ok());
    assert_eq!(
        short.check_at(NOW + 61).unwrap_err(),
        SignatureError::Expired { expires: NOW + 60, now: NOW + 61 }
    );

    let long_lived = request_signed_with(&key(1), PUBLISH_TAG, NOW, NOW + 10 * MAX_AGE);
    assert_eq!(
        long_lived.check_at(NOW + MAX_AGE + 1).unwrap_err(),
        SignatureError::Stale { created: NOW, now: NOW + MAX_AGE + 1, max_age: MAX_AGE }
    );

    let ahead = request_signed_with(&key(1), PUBLISH_TAG, NOW + MAX_SKEW + 1, NOW + MAX_AGE);
    assert_eq!(
        ahead.check_at(NOW).unwrap_err(),
        SignatureError::Future { created: NOW + MAX_SKEW + 1, now: NOW }
    );
    let slightly_ahead = request_signed_with(&key(1), PUBLISH_TAG, NOW + MAX_SKEW, NOW + MAX_AGE);
    assert!(slightly_ahead.check_at(NOW).is_ok());
}

#[test]
fn missing_or_wrong_parameters_fail_even_when_validly_signed() {
    let k = key(1);
    let cases: [(&str, Option<&str>, SignatureError); 9] = [
        ("nonce", None, SignatureError::MissingParameter("nonce")),
        ("created", None, SignatureError::MissingParameter("created")),
        ("expires", None, SignatureError::MissingParameter("expires")),
        ("keyid", None, SignatureError::MissingParameter("keyid")),
        ("alg", None, SignatureError::WrongAlgorithm { found: None }),
        (
            "alg",
            Some("\"rsa-pss-sha512\""),
            SignatureError::WrongAlgorithm { found: Some("rsa-pss-sha512".into()) },
        ),
        (
            "tag",
            Some("\"handprint-login\""),
            SignatureError::WrongTag { found: Some("handprint-login".into()), expected: PUBLISH_TAG.into() },
        ),
        ("tag", None, SignatureError::WrongTag { found: None, expected: PUBLISH_TAG.into() }),
        (
            "created",
            Some("\"1700000000\""),
            SignatureError::Malformed {
                field: "Signature-Input",
                reason: "parameter created is not an integer".into(),
            },
        ),
    ];
    for (param, value, expected) in cases {
        let mut req = request();
        req.resign(&k, &params_with(&k, param, value));
        assert_eq!(req.check().unwrap_err(), expected, "{param} = {value:?}");
    }
    // The same resigning with nothing changed is accepted, so the cases above fail on policy.
    let mut req = request();
    req.resign(&k, &params_with(&k, "", None));
    req.check().unwrap();

    for nonce in ["\"\"", &format!("\"{}\"", "n".repeat(129))] {
        let mut req = request();
        req.resign(&k, &params_with(&k, "nonce", Some(nonce)));
        assert!(matches!(req.check().unwrap_err(), SignatureError::Malformed { .. }), "nonce {nonce}");
    }
    let mut req = request();
    req.resign(&k, &params_with(&k, "created", Some("-5")));
    assert!(matches!(req.check().unwrap_err(), SignatureError::Malformed { .. }));
}

#[test]
fn a_request_signed_for_another_purpose_fails() {
    let req = request_signed_with(&key(1), "handprint-delete", NOW, NOW + MAX_AGE);
    assert!(matches!(req.check().unwrap_err(), SignatureError::WrongTag { .. }));
    verify_request(&req.incoming(), "handprint-delete", NOW, MAX_AGE).unwrap();
    // The part-by-part form is the same check.
    let r = &req;
    let flat = |tag| {
        verify(&r.method, &r.authority, &r.path, r.query.as_deref(), &r.headers, &r.body, tag, NOW, MAX_AGE)
    };
    assert!(matches!(flat(PUBLISH_TAG).unwrap_err(), SignatureError::WrongTag { .. }));
    assert_eq!(flat("handprint-delete").unwrap().key, key(1).verifying_key());
}

#[test]
fn every_component_must_be_covered() {
    let k = key(1);
    let full = params_with(&k, "", None);
    for component in COVERED {
        let mut req = request();
        req.resign(&k, &full.replace(&format!("\"{component}\""), "").replace("( ", "(").replace("  ", " "));
        assert_eq!(req.check().unwrap_err(), SignatureError::NotCovered(component));
    }
}

#[test]
fn a_missing_content_digest_or_signature_field_fails() {
    let mut req = request();
    req.headers.remove("content-digest");
    assert_eq!(req.check().unwrap_err(), SignatureError::AbsentComponent("content-digest".into()));

    let mut req = request();
    req.headers.remove("signature");
    assert_eq!(req.check().unwrap_err(), SignatureError::Missing("Signature"));
    let mut req = request();
    req.headers.remove("signature-input");
    assert_eq!(req.check().unwrap_err(), SignatureError::Missing("Signature-Input"));

    // A digest under another algorithm only does not count.
    let mut req = request();
    let sha512 = format!("sha-512=:{}:", STANDARD.encode([0u8; 64]));
    req.set("content-digest", &sha512);
    assert!(matches!(req.check().unwrap_err(), SignatureError::Malformed { field: "Content-Digest", .. }));
}

#[test]
fn extra_fields_other_labels_and_split_field_lines_are_accepted() {
    let k = key(1);
    let mut req = request();
    req.set("x-work-count", "  3 ");
    let covered =
        params_with(&k, "", None).replace("\"content-digest\")", "\"content-digest\" \"x-work-count\")");
    req.resign(&k, &covered);
    let base = extract(&req.incoming(), LABEL).unwrap().base;
    assert!(base.contains("\n\"x-work-count\": 3\n"), "{base}");
    req.check().unwrap();
    req.headers.remove("x-work-count");
    assert_eq!(req.check().unwrap_err(), SignatureError::AbsentComponent("x-work-count".into()));

    // Another party's signature beside ours, in separate field lines.
    let mut req = request();
    let ours_input = req.headers["signature-input"].clone();
    let ours = req.headers["signature"].clone();
    req.headers.insert("signature-input", HeaderValue::from_static("proxy=(\"@method\");created=1"));
    req.headers.append("signature-input", ours_input);
    req.headers.insert("signature", ours);
    req.headers.append("signature", HeaderValue::from_static("proxy=:AAAA:"));
    req.check().unwrap();

    // Content-Digest with a second algorithm is fine once signed.
    let mut req = request();
    let both = format!("sha-512=:{}:, {}", STANDARD.encode([7u8; 64]), content_digest(&req.body));
    req.set("content-digest", &both);
    req.resign(&k, &params_with(&k, "", None));
    req.check().unwrap();
}

#[test]
fn unsupported_or_excessive_components_fail() {
    let k = key(1);
    let full = params_with(&k, "", None);
    let cases: [(String, Expect); 6] = [
        (
            full.replace("\"@query\"", "\"@query\" \"@target-uri\""),
            |e| matches!(e, SignatureError::UnsupportedComponent(c) if c.contains("@target-uri")),
        ),
        (
            full.replace("\"content-type\"", "\"content-type\";sf"),
            |e| matches!(e, SignatureError::UnsupportedComponent(c) if c == "\"content-type\";sf"),
        ),
        (full.replace("\"@query\"", "\"@query\" \"Date\""), |e| {
            matches!(e, SignatureError::UnsupportedComponent(_))
        }),
        (full.replace("\"@query\"", "\"@query\" \"@signature-params\""), |e| {
            matches!(e, SignatureError::UnsupportedComponent(_))
        }),
        (
            full.replace("\"@query\"", "\"@query\" \"@path\""),
            |e| matches!(e, SignatureError::Malformed { reason, .. } if reason.contains("twice")),
        ),
        (
            full.replace("\"@query\"", "\"@query\" 42"),
            |e| matches!(e, SignatureError::UnsupportedComponent(c) if c == "42"),
        ),
    ];
    for (input, expected) in cases {
        let mut req = request();
        req.set("signature-input", &input);
        let err = req.check().unwrap_err();
        assert!(expected(&err), "{input}: {err:?}");
    }

    let many: Vec<String> = (0..11).map(|i| format!("\"x-f{i}\"")).collect();
    let mut req = request();
    req.set("signature-input", &full.replace("\"@query\"", &format!("\"@query\" {}", many.join(" "))));
    assert_eq!(req.check().unwrap_err(), SignatureError::TooManyComponents(17));
}

#[test]
fn oversized_fields_are_refused() {
    let mut req = request();
    let padded =
        format!("{}, pad=\"{}\"", req.headers["signature-input"].to_str().unwrap(), "p".repeat(8200));
    req.set("signature-input", &padded);
    assert_eq!(req.check().unwrap_err(), SignatureError::TooLarge { name: "signature-input".into() });

    // Many small lines add up.
    let mut req = request();
    for _ in 0..2000 {
        req.headers.append("content-type", HeaderValue::from_static("text/x"));
    }
    assert_eq!(req.check().unwrap_err(), SignatureError::TooLarge { name: "content-type".into() });

    let mut req = request();
    req.path = format!("/{}", "a".repeat(9000));
    assert_eq!(req.check().unwrap_err(), SignatureError::TooLarge { name: "@path".into() });
}

#[test]
fn a_signature_of_the_wrong_shape_is_malformed() {
    for value in ["handprint=:AAAA:", "handprint=\"text\"", "handprint=(1 2)", "handprint", "handprint=:AA"] {
        let mut req = request();
        req.set("signature", value);
        assert!(
            matches!(req.check().unwrap_err(), SignatureError::Malformed { field: "Signature", .. }),
            "{value}"
        );
    }
    let mut req = request();
    req.set("signature-input", "handprint=:AAAA:");
    assert!(matches!(req.check().unwrap_err(), SignatureError::Malformed { field: "Signature-Input", .. }));
}

#[test]
fn sign_refuses_values_the_fields_cannot_carry() {
    let body = b"{}".to_vec();
    let p = parts(&body);
    let k = key(1);
    assert!(matches!(sign(&k, &p, PUBLISH_TAG, NOW, NOW + 1, ""), Err(SignatureError::Unsignable(_))));
    assert!(matches!(
        sign(&k, &p, PUBLISH_TAG, NOW, NOW + 1, &"n".repeat(129)),
        Err(SignatureError::Unsignable(_))
    ));
    assert!(matches!(sign(&k, &p, "tag\u{e9}", NOW, NOW + 1, NONCE), Err(SignatureError::Unsignable(_))));
    assert!(matches!(sign(&k, &p, PUBLISH_TAG, NOW, NOW - 1, NONCE), Err(SignatureError::Unsignable(_))));
    assert!(matches!(sign(&k, &p, PUBLISH_TAG, NOW, u64::MAX, NONCE), Err(SignatureError::Unsignable(_))));
    let bad_type = RequestParts { content_type: "text/plain\r\nx: y", ..p };
    assert!(matches!(
        sign(&k, &bad_type, PUBLISH_TAG, NOW, NOW + 1, NONCE),
        Err(SignatureError::Unsignable(_))
    ));
    let bad_path = RequestParts { path: "/caf\u{e9}", ..p };
    let err = sign(&k, &bad_path, PUBLISH_TAG, NOW, NOW + 1, NONCE).unwrap_err();
    assert_eq!(err.to_string(), "cannot sign: @path holds a character outside printable ASCII");
    assert!(matches!(
        sign(&k, &bad_path, PUBLISH_TAG, NOW, NOW + 1, NONCE),
        Err(SignatureError::Unsignable(_))
    ));
    // Quotes and backslashes are escaped, and the result still verifies.
    let signed = sign(&k, &p, "a\"b\\c", NOW, NOW + 1, NONCE).unwrap();
    assert!(signed.signature_input.contains("tag=\"a\\\"b\\\\c\""), "{}", signed.signature_input);
}

/// xorshift64: reproducible noise without another dependency.
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn random_field_values_fail_without_panicking() {
    let mut noise = Noise(0x9e37_79b9_7f4a_7c15);
    let alphabet: Vec<u8> = (0x20..0x7f).chain([b'\t']).chain(0x80..=0xff).collect();
    let pieces: [&[u8]; 12] =
        [b"handprint=", b"(", b")", b"\"", b":", b";", b",", b"=", b"\\", b"?1", b"-9", b"sha-256=:"];
    for round in 0..3000 {
        let mut req = request();
        let mut replaced = false;
        for name in ["signature-input", "signature", "content-digest"] {
            if noise.below(3) == 0 {
                continue;
            }
            let len = noise.below(if round % 10 == 0 { 9000 } else { 120 });
            let mut bytes = Vec::with_capacity(len);
            while bytes.len() < len {
                if noise.below(4) == 0 {
                    bytes.extend_from_slice(pieces[noise.below(pieces.len())]);
                } else {
                    bytes.push(alphabet[noise.below(alphabet.len())]);
                }
            }
            if let Ok(value) = HeaderValue::from_bytes(&bytes) {
                req.headers.insert(name, value);
                replaced = true;
            }
        }
        let _ = extract(&req.incoming(), LABEL);
        assert_eq!(req.check().is_ok(), !replaced, "round {round}");
    }
}

#[test]
fn every_one_byte_change_to_a_signed_field_fails() {
    let mut noise = Noise(0x2545_f491_4f6c_dd1d);
    let original = request();
    for name in ["signature-input", "signature", "content-digest"] {
        let value = original.headers[name].as_bytes().to_vec();
        for at in 0..value.len() {
            for _ in 0..3 {
                let mut changed = value.clone();
                let mut byte = 0x20 + noise.below(0x5f) as u8;
                if byte == changed[at] {
                    byte = if byte == b'~' { b' ' } else { byte + 1 };
                }
                changed[at] = byte;
                let mut req = original.clone();
                req.headers.insert(name, HeaderValue::from_bytes(&changed).unwrap());
                assert!(req.check().is_err(), "{name} {:?} verified", String::from_utf8_lossy(&changed));
            }
        }
    }
}

#[test]
fn a_covered_field_outside_ascii_is_refused() {
    let mut req = request();
    req.headers.insert("content-type", HeaderValue::from_bytes(b"application/json; x=caf\xe9").unwrap());
    assert_eq!(
        req.check().unwrap_err(),
        SignatureError::BadValue { name: "content-type".into(), reason: "a character outside ASCII" }
    );
}
