//! The public registry as its users meet it: a creator publishes a sealed work, a stranger's
//! cropped, re-encoded, credential-stripped copy is traced to it through the JSON API and the
//! C2PA soft-binding API, the log proves the publication, another key's claim is disputed,
//! and signatures that do not hold are refused.

mod common;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use common::{Creator, http, json, limits, start, stranger_copy};
use fixtures::images::kodak;
use ledger::checkpoint::Checkpoint;
use ledger::{Hash, SignedEvent, merkle};

#[test]
fn a_strangers_copy_is_traced_to_the_published_work_and_the_log_proves_it() {
    story(None);
}

#[test]
fn the_same_on_postgresql() {
    let Some(pg) = fixtures::postgres::database() else { return };
    story(Some(registry::Database::parse(&pg.url).unwrap()));
}

/// A server whose store is `database` (SQLite in its data directory when `None`).
fn server_on(data: &std::path::Path, database: Option<registry::Database>) -> String {
    common::start_with(server::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data: data.to_path_buf(),
        database,
        public_url: None,
        limits: limits(),
        domains: Default::default(),
        matchers: Vec::new(),
    })
}

fn story(database: Option<registry::Database>) {
    let data = tempfile::tempdir().unwrap();
    let url = server_on(data.path(), database);
    let mut alice = Creator::new("Alice Chen");
    let sealed = alice.seal(&kodak("kodim03"), "Harbour at dusk");

    let published = alice.publish(&url, &sealed).unwrap();
    assert_eq!(published["new"], true);
    assert_eq!(published["status"], "published");
    let id = published["work"]["id"].as_i64().unwrap();
    let manifest_id = published["publication"]["manifest_id"].as_str().unwrap().to_owned();
    assert!(manifest_id.starts_with("urn:"), "{manifest_id}");
    // Publishing the same image again writes nothing new.
    let again = alice.publish(&url, &sealed).unwrap();
    assert_eq!((again["new"].as_bool(), again["work"]["id"].as_i64()), (Some(false), Some(id)));

    // A stranger's copy: 70% of the picture, re-encoded as JPEG, no metadata.
    let copy = stranger_copy(&sealed, 0.7);
    let agent = http();
    let (status, found) = json(agent.post(&format!("{url}/v1/lookup")).send(&copy[..]).unwrap());
    assert_eq!(status, 200, "{found}");
    let claims = found["claims"].as_array().unwrap();
    assert_eq!(claims.len(), 1, "{found}");
    let claim = &claims[0];
    assert_eq!(claim["work"]["id"].as_i64(), Some(id));
    assert_eq!(claim["work"]["title"], "Harbour at dusk");
    assert_eq!(claim["work"]["registrant"], "Alice Chen");
    assert_eq!(claim["work"]["license"], "CC-BY-4.0");
    assert!(claim["found_by"].as_array().unwrap().iter().any(|b| b == "fingerprint"), "{claim}");
    assert_eq!(found["image"]["c2pa"]["status"], "none", "the copy carries no credentials");
    assert!(claim["links"]["page"].as_str().unwrap().ends_with(&format!("/works/{id}")));

    // By PDQ hash alone, as a platform that hashes on its side.
    let scanned = registry::works::Scanned::from_bytes(
        std::path::Path::new("sealed.png"),
        &std::fs::read(&sealed).unwrap(),
        &Default::default(),
    )
    .unwrap();
    let hex = scanned.fingerprint.pdq.original.to_hex();
    let (status, by_hash) = json(agent.get(&format!("{url}/v1/lookup?pdq={hex}")).call().unwrap());
    assert_eq!(status, 200);
    assert_eq!(by_hash["claims"][0]["work"]["id"].as_i64(), Some(id), "{by_hash}");
    assert_eq!(by_hash["claims"][0]["pdq_distance"], 0);
    let (status, batch) = json(
        agent
            .post(&format!("{url}/v1/lookup/pdq"))
            .content_type("application/json")
            .send(serde_json::json!({ "hashes": [hex, "0".repeat(64)] }).to_string())
            .unwrap(),
    );
    assert_eq!(status, 200, "{batch}");
    assert_eq!(batch["results"][0]["claims"][0]["work"]["id"].as_i64(), Some(id));
    assert_eq!(batch["results"][1]["claims"].as_array().unwrap().len(), 0);

    // The C2PA Soft Binding Resolution API: the copy's content, then the watermark binding.
    let (status, algs) = json(agent.get(&format!("{url}/sbr/services/supportedAlgorithms")).call().unwrap());
    assert_eq!(status, 200);
    assert_eq!(algs["watermarks"][0]["alg"], credentials::WATERMARK_ALG);
    let (status, m) = json(
        agent
            .post(&format!("{url}/sbr/matches/byContent"))
            .content_type("image/jpeg")
            .send(&copy[..])
            .unwrap(),
    );
    assert_eq!(status, 200, "{m}");
    assert_eq!(m["matches"][0]["manifestId"], manifest_id.as_str());
    let watermark = published["work"]["watermark_id"].as_str().unwrap();
    let value = B64.encode(u64::from_str_radix(watermark, 16).unwrap().to_be_bytes());
    let (status, m) = json(
        agent
            .get(&format!("{url}/sbr/matches/byBinding"))
            .query("alg", credentials::WATERMARK_ALG)
            .query("value", &value)
            .call()
            .unwrap(),
    );
    assert_eq!(status, 200, "{m}");
    assert_eq!(m["matches"][0]["manifestId"], manifest_id.as_str());
    assert_eq!(m["matches"][0]["similarityScore"], 100);
    let mut r = agent.get(&format!("{url}/sbr/manifests/{manifest_id}")).call().unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/c2pa");
    let store = r.body_mut().read_to_vec().unwrap();
    assert_eq!(&store[4..8], b"jumb", "a JUMBF manifest store");
    // The manifest store served is the one in the sealed image: the image with it verifies.
    assert!(
        std::fs::read(&sealed)
            .unwrap()
            .windows(store.len().min(256))
            .any(|w| w == &store[..store.len().min(256)])
    );

    // The log: the work's entry is in the signed checkpoint, by the proof served.
    let mut r = agent.get(&format!("{url}/v1/log/key")).call().unwrap();
    let key_line = r.body_mut().read_to_string().unwrap();
    let key = log_key(&key_line);
    let (status, work) = json(agent.get(&format!("{url}/v1/works/{id}")).call().unwrap());
    assert_eq!(status, 200, "{work}");
    let checkpoint = Checkpoint::verify_note(work["log"]["checkpoint"].as_str().unwrap(), &key).unwrap();
    let event: SignedEvent = serde_json::from_value(work["published_event"].clone()).unwrap();
    assert_eq!(event.event.kind, ledger::EventKind::Published);
    assert_eq!(event.event.data["work"].as_i64(), Some(id));
    event.verify(&key).unwrap();
    let proof: Vec<Hash> = work["log"]["inclusion_proof"]["proof"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| Hash::from_hex(h.as_str().unwrap()).unwrap())
        .collect();
    let leaf = merkle::leaf_hash(&event.to_bytes());
    assert!(merkle::verify_inclusion(
        &leaf,
        event.event.log_index,
        checkpoint.size,
        &proof,
        &checkpoint.root
    ));

    // The web page names the work for the same copy, without JavaScript: a plain form post.
    let page = web_lookup(&url, &copy);
    assert!(page.contains("Harbour at dusk") && page.contains("class=\"card claim\""), "{page}");
    let mut r = agent.get(&format!("{url}/works/{id}")).call().unwrap();
    let work_page = r.body_mut().read_to_string().unwrap();
    assert!(work_page.contains("Harbour at dusk") && work_page.contains("In the log"));

    // What happened shows in the metrics.
    let mut r = agent.get(&format!("{url}/metrics")).call().unwrap();
    let metrics = r.body_mut().read_to_string().unwrap();
    for line in [
        "handprint_requests_total{route=\"/v1/lookup\",status=\"200\"} 2",
        "handprint_requests_total{route=\"/v1/publications\",status=\"201\"} 1",
        "handprint_requests_total{route=\"/v1/publications\",status=\"200\"} 1",
        "handprint_works_indexed 1",
    ] {
        assert!(metrics.lines().any(|l| l == line), "{line} in\n{metrics}");
    }
}

#[test]
fn a_work_published_through_one_server_is_found_by_another_sharing_its_store() {
    let data = tempfile::tempdir().unwrap();
    let first = start(data.path(), limits());
    let second = start(data.path(), limits());
    let mut alice = Creator::new("Alice Chen");
    let sealed = alice.seal(&kodak("kodim01"), "Door");
    let hex = registry::works::Scanned::from_bytes(
        std::path::Path::new("door.png"),
        &std::fs::read(&sealed).unwrap(),
        &Default::default(),
    )
    .unwrap()
    .fingerprint
    .pdq
    .original
    .to_hex();
    let (_, before) = json(http().get(&format!("{second}/v1/lookup?pdq={hex}")).call().unwrap());
    assert_eq!(before["claims"].as_array().unwrap().len(), 0);
    let id = alice.publish(&first, &sealed).unwrap()["work"]["id"].as_i64();
    // The second server follows the store (every 250 ms): found without a restart.
    let started = std::time::Instant::now();
    loop {
        let (_, found) = json(http().get(&format!("{second}/v1/lookup?pdq={hex}")).call().unwrap());
        if found["claims"][0]["work"]["id"].as_i64() == id {
            break;
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(5), "not found by the second server");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn public_evidence_is_served_and_private_evidence_is_not() {
    let data = tempfile::tempdir().unwrap();
    let url = start(data.path(), limits());
    let mut alice = Creator::new("Alice Chen");
    let evidence = alice.dir.path().join("claim");
    std::fs::create_dir_all(evidence.join("bundle")).unwrap();
    std::fs::write(evidence.join("report.html"), "<h1>Evidence</h1>").unwrap();
    std::fs::write(evidence.join("bundle/manifest.json"), "{}").unwrap();
    let server = registry::remote::Server::new(&url).unwrap();
    for (title, public) in [("Open", true), ("Closed", false)] {
        let picture = if public { kodak("kodim01") } else { kodak("kodim04") };
        let sealed = alice.seal(&picture, title);
        let p = registry::remote::Publish {
            creator: "Alice Chen",
            title: None,
            license: None,
            evidence: Some((&evidence, public)),
            domain: None,
        };
        let published = server.publish(&alice.id.key, &sealed, &p).unwrap();
        let id = published["work"]["id"].as_i64().unwrap();
        // No licence given: the one it was sealed with. Links are absolute.
        assert_eq!(published["work"]["license"], "CC-BY-4.0", "{published}");
        assert_eq!(published["links"]["page"].as_str(), Some(format!("{url}/works/{id}").as_str()));
        assert_eq!(published["publication"]["evidence_public"], public);
        let (_, work) = json(http().get(&format!("{url}/v1/works/{id}")).call().unwrap());
        let digest = &work["published_event"]["event"]["data"]["evidence"];
        assert_eq!(digest["files"], 2, "{digest}");
        let r = http().get(&format!("{url}/works/{id}/evidence/report.html")).call().unwrap();
        let nested = http().get(&format!("{url}/works/{id}/evidence/bundle/manifest.json")).call().unwrap();
        if public {
            assert_eq!((r.status().as_u16(), nested.status().as_u16()), (200, 200));
            assert_eq!(
                r.headers()["content-disposition"],
                "attachment",
                "never rendered as a page of the registry"
            );
            assert_eq!(work["evidence"], serde_json::json!(["bundle/manifest.json", "report.html"]));
        } else {
            assert_eq!((r.status().as_u16(), nested.status().as_u16()), (404, 404));
            assert_eq!(work["evidence"], serde_json::json!([]));
        }
    }
}

/// The key a `/v1/log/key` line (C2SP vkey: name+id+base64(0x01 ‖ key)) names.
fn log_key(line: &str) -> ed25519_dalek::VerifyingKey {
    let b64 = line.trim().splitn(3, '+').nth(2).unwrap();
    let bytes = B64.decode(b64).unwrap();
    assert_eq!(bytes[0], 1, "an Ed25519 verifier key");
    ed25519_dalek::VerifyingKey::from_bytes(&bytes[1..33].try_into().unwrap()).unwrap()
}

/// The answer page for `image` uploaded through the form.
fn web_lookup(url: &str, image: &[u8]) -> String {
    let boundary = "handprint-test-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"copy.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(image);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let mut r = http()
        .post(&format!("{url}/lookup"))
        .content_type(format!("multipart/form-data; boundary={boundary}"))
        .send(&body[..])
        .unwrap();
    assert_eq!(r.status(), 200);
    r.body_mut().with_config().limit(16 << 20).read_to_string().unwrap()
}

#[test]
fn another_keys_claim_on_a_published_image_is_refused_or_disputed_never_silent() {
    let data = tempfile::tempdir().unwrap();
    let url = start(data.path(), limits());
    let mut alice = Creator::new("Alice Chen");
    let sealed = alice.seal(&kodak("kodim03"), "Harbour at dusk");
    let first = alice.publish(&url, &sealed).unwrap();
    let alice_work = first["work"]["id"].as_i64().unwrap();

    // Mallory publishes Alice's sealed file under her own key: its credentials are Alice's.
    let mut mallory = Creator::new("Mallory");
    let err = mallory.publish(&url, &sealed).unwrap_err();
    assert_eq!(err.kind(), registry::ErrorKind::Forbidden, "{err}");
    assert!(err.to_string().contains("signed by another key"), "{err}");

    // Mallory seals a copy of it as her own work: published, but as a disputed claim that
    // names Alice's earlier work; look-ups show both, Alice's first.
    let copy = common::picture(&sealed).crop_area(0.8, 3);
    let hers = mallory.seal(&copy, "My harbour");
    let second = mallory.publish(&url, &hers).unwrap();
    assert_eq!(second["status"], "disputed", "{second}");
    assert_eq!(second["publication"]["disputes"], serde_json::json!([alice_work]));
    assert_eq!(second["disputes"][0]["registrant"], "Alice Chen");
    let stranger = stranger_copy(&hers, 0.9);
    let (status, found) = json(http().post(&format!("{url}/v1/lookup")).send(&stranger[..]).unwrap());
    assert_eq!(status, 200);
    let names: Vec<&str> = found["claims"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["work"]["registrant"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Alice Chen", "Mallory"], "every claim, oldest first: {found}");

    // Only its creator may withdraw a work; withdrawing keeps the log entry.
    let server = registry::remote::Server::new(&url).unwrap();
    let err = server.withdraw(&mallory.id.key, alice_work).unwrap_err();
    assert_eq!(err.kind(), registry::ErrorKind::Forbidden, "{err}");
    let (_, before) = json(http().get(&format!("{url}/v1/works/{alice_work}")).call().unwrap());
    let withdrawn = server.withdraw(&alice.id.key, alice_work).unwrap();
    assert_eq!(withdrawn["new"], true);
    let (_, after) = json(http().get(&format!("{url}/v1/works/{alice_work}")).call().unwrap());
    assert_eq!(after["status"], "withdrawn");
    assert_eq!(after["published_event"], before["published_event"], "the publication stays in the log");
    assert_eq!(after["withdrawn_event"]["event"]["kind"], "withdrawn");
}

/// A raw publication request signed with `key` at `created`, with `nonce`.
fn signed_request(
    url: &str,
    key: &ed25519_dalek::SigningKey,
    body: &[u8],
    created: u64,
    nonce: &str,
) -> (u16, serde_json::Value) {
    let authority = url.trim_start_matches("http://");
    let parts = httpsig::RequestParts {
        method: "POST",
        authority,
        path: "/v1/publications",
        query: None,
        content_type: "application/json",
        body,
    };
    let signed = httpsig::sign(key, &parts, httpsig::PUBLISH_TAG, created, created + 300, nonce).unwrap();
    let mut req = http().post(&format!("{url}/v1/publications")).header("Content-Type", "application/json");
    for (name, value) in signed.headers() {
        req = req.header(name, value);
    }
    json(req.send(body).unwrap())
}

#[test]
fn publication_signatures_that_do_not_hold_are_refused() {
    let data = tempfile::tempdir().unwrap();
    let url = start(data.path(), limits());
    let mut alice = Creator::new("Alice Chen");
    let sealed = alice.seal(&kodak("kodim01"), "Door");
    let body = serde_json::json!({
        "image": B64.encode(std::fs::read(&sealed).unwrap()),
        "file_name": "door.png",
        "creator": "Alice Chen",
    })
    .to_string();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();

    // No signature.
    let (status, e) = json(
        http().post(&format!("{url}/v1/publications")).content_type("application/json").send(&body).unwrap(),
    );
    assert_eq!(status, 401, "{e}");
    // Stale: signed twenty minutes ago.
    let (status, e) = signed_request(&url, &alice.id.key, body.as_bytes(), now - 1200, "n-stale");
    assert_eq!(status, 401, "{e}");
    // Signed by another key than the one that signed the image's credentials.
    let mallory = Creator::new("Mallory");
    let (status, e) = signed_request(&url, &mallory.id.key, body.as_bytes(), now, "n-mallory");
    assert_eq!(status, 403, "{e}");
    // A body changed after signing: the digest no longer matches.
    let authority = url.trim_start_matches("http://");
    let parts = httpsig::RequestParts {
        method: "POST",
        authority,
        path: "/v1/publications",
        query: None,
        content_type: "application/json",
        body: body.as_bytes(),
    };
    let signed =
        httpsig::sign(&alice.id.key, &parts, httpsig::PUBLISH_TAG, now, now + 300, "n-changed").unwrap();
    let mut req = http().post(&format!("{url}/v1/publications")).header("Content-Type", "application/json");
    for (name, value) in signed.headers() {
        req = req.header(name, value);
    }
    let changed = body.replace("Alice Chen", "Alice Chan");
    let (status, e) = json(req.send(changed.as_bytes()).unwrap());
    assert_eq!(status, 401, "{e}");
    // The genuine request is accepted once; the same request replayed is refused.
    let (status, e) = signed_request(&url, &alice.id.key, body.as_bytes(), now, "n-once");
    assert_eq!(status, 201, "{e}");
    let (status, e) = signed_request(&url, &alice.id.key, body.as_bytes(), now, "n-once");
    assert_eq!(status, 401, "{e}");
    assert!(e["message"].as_str().unwrap().contains("replayed"), "{e}");
}

#[test]
fn bad_uploads_get_a_4xx_with_a_message() {
    let data = tempfile::tempdir().unwrap();
    let url = start(data.path(), server::Limits { max_upload: 4 << 20, ..limits() });
    let agent = http();
    let jpeg = kodak("kodim04").jpeg(85);
    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        ("not an image", b"<html>404 not found</html>".to_vec(), 422),
        ("truncated", jpeg[..jpeg.len() / 3].to_vec(), 422),
        ("decompression bomb", fixtures::images::png_bomb(30_000, 30_000), 422),
        ("empty", Vec::new(), 400),
    ];
    for (what, body, want) in cases {
        let mut r = agent.post(&format!("{url}/v1/lookup")).send(&body[..]).unwrap();
        let status = r.status().as_u16();
        let text = r.body_mut().read_to_string().unwrap_or_default();
        assert_eq!(status, want, "{what}: {text}");
        assert!(text.len() > 10, "{what}: a message: {text:?}");
    }
    // Larger than the limit: refused from its Content-Length, before the body is read.
    {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(url.trim_start_matches("http://")).unwrap();
        s.write_all(
            format!("POST /v1/lookup HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n", 5 << 20).as_bytes(),
        )
        .unwrap();
        let mut answer = vec![0u8; 4096];
        let n = s.read(&mut answer).unwrap();
        let text = String::from_utf8_lossy(&answer[..n]);
        assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    }
    let (status, e) = json(agent.get(&format!("{url}/v1/lookup?pdq=xyz")).call().unwrap());
    assert_eq!(status, 400, "{e}");
    let (status, e) =
        json(agent.get(&format!("{url}/works/1/evidence/..%2F..%2Fetc%2Fpasswd")).call().unwrap());
    assert!(status == 400 || status == 404, "{status} {e}");
    let (status, _) = json(agent.get(&format!("{url}/v1/works/abc")).call().unwrap());
    assert_eq!(status, 400);
    let (status, _) = json(agent.get(&format!("{url}/v1/works/99")).call().unwrap());
    assert_eq!(status, 404);
    // The server is still well after all of it.
    let (status, h) = json(agent.get(&format!("{url}/healthz")).call().unwrap());
    assert_eq!((status, h["status"].as_str()), (200, Some("ok")));
}

#[test]
fn a_client_over_its_rate_gets_429_with_retry_after() {
    let data = tempfile::tempdir().unwrap();
    let url = start(data.path(), server::Limits { rate: 1.0, burst: 3.0, ..limits() });
    let agent = http();
    let statuses: Vec<u16> =
        (0..6).map(|_| agent.get(&format!("{url}/healthz")).call().unwrap().status().as_u16()).collect();
    assert_eq!(&statuses[..3], [200, 200, 200]);
    assert!(statuses[3..].contains(&429), "{statuses:?}");
    let r = agent.get(&format!("{url}/healthz")).call().unwrap();
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
}

#[test]
fn decodes_beyond_the_limit_and_its_queue_are_shed_with_503() {
    let data = tempfile::tempdir().unwrap();
    let url = start(data.path(), server::Limits { decodes: 1, decode_queue: 1, ..limits() });
    // A large PNG takes long enough to decode that eight at once overlap.
    let big = kodak("kodim01");
    let mut tiles = Vec::new();
    for _ in 0..4 {
        tiles.extend_from_slice(&big.rgb);
    }
    let picture = fixtures::images::Picture { width: big.width, height: big.height * 4, rgb: tiles };
    let png = std::sync::Arc::new(picture.png());
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let (url, png) = (url.clone(), png.clone());
            std::thread::spawn(move || {
                let r = http().post(&format!("{url}/v1/lookup")).send(&png[..]).unwrap();
                (r.status().as_u16(), r.headers().contains_key("retry-after"))
            })
        })
        .collect();
    let answers: Vec<(u16, bool)> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert!(answers.iter().any(|a| a.0 == 200), "{answers:?}");
    assert!(answers.contains(&(503, true)), "{answers:?}");
    assert!(answers.iter().all(|a| a.0 == 200 || a.0 == 503), "{answers:?}");
}

async fn boom() -> &'static str {
    panic!("a bug in a handler")
}

#[test]
fn a_slow_request_times_out_and_a_panic_is_a_500_the_server_survives() {
    use std::io::{Read, Write};
    let data = tempfile::tempdir().unwrap();
    let limits = server::Limits { timeout: std::time::Duration::from_secs(1), ..limits() };
    let config = server::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data: data.path().to_path_buf(),
        database: None,
        public_url: None,
        limits: limits.clone(),
        domains: Default::default(),
        matchers: Vec::new(),
    };
    let state = std::sync::Arc::new(server::AppState::open(&config).unwrap());
    let routes = server::routes(&limits).route("/test/panic", axum::routing::get(boom));
    let app = server::with_limits(routes, state);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let addr = listener.local_addr().unwrap();
    runtime.spawn(async move {
        axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>())
            .await
            .unwrap();
    });
    let url = format!("http://{addr}");

    let (status, e) = json(http().get(&format!("{url}/test/panic")).call().unwrap());
    assert_eq!(status, 500, "{e}");
    assert_eq!(e["error"], "internal");

    // A body that drips: the request is cut at its deadline, not held open.
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.write_all(b"POST /v1/lookup HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\nabc").unwrap();
    let started = std::time::Instant::now();
    s.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
    let mut answer = [0u8; 256];
    let n = s.read(&mut answer).unwrap();
    let head = String::from_utf8_lossy(&answer[..n]);
    assert!(head.starts_with("HTTP/1.1 503"), "{head}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));

    let (status, _) = json(http().get(&format!("{url}/healthz")).call().unwrap());
    assert_eq!(status, 200, "still serving");
}
