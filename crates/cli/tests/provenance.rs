//! Honest provenance through the binary: the digital source type `seal` writes follows the
//! lineage (and is asked for when there is no generation), an RFC 3161 timestamp from a real
//! authority (`openssl ts` over HTTP on loopback) goes into the signature, `verify` names AI
//! generation from any manifest of the chain, and a remote manifest is its own verdict,
//! fetched only when asked, within limits.

mod common;

use std::path::Path;
use std::process::Output;

use credentials::Signer;
use ed25519_dalek::SigningKey;
use fixtures::containers::{self, pil_text};
use fixtures::images::{Picture, kodak};
use fixtures::samples::a1111_parameters;
use fixtures::tsa::{KeyKind, Tsa};
use serde_json::{Value, json};

use common::{json, run, s};

const IPTC: &str = "http://cv.iptc.org/newscodes/digitalsourcetype/";

fn a1111_png(p: &Picture) -> Vec<u8> {
    containers::png(p.width, p.height, 3, &p.rgb, &[pil_text("parameters", &a1111_parameters())])
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn works(home: &Path) -> usize {
    String::from_utf8_lossy(&run(home, &["works"]).stdout).lines().count()
}

fn events(home: &Path) -> usize {
    String::from_utf8_lossy(&run(home, &["log", "--json"]).stdout).lines().count()
}

fn setup(dir: &Path) -> std::path::PathBuf {
    let home = dir.join("home");
    json(&home, &["init", "--name", "Ana Ruiz", "--json"]);
    json(&home, &["project", "new", "p", "--json"]);
    home
}

#[test]
fn the_source_type_follows_the_lineage_and_is_asked_for_when_nothing_was_generated() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let home = setup(dir);
    let photo = dir.join("photo.png");
    std::fs::write(&photo, kodak("kodim04").crop(0, 0, 320, 256).png()).unwrap();
    json(&home, &["record", &s(&photo), "-p", "p", "--json"]);
    let before = events(&home);

    // A photograph recorded (an import, no generation): seal asks what it is, and says why.
    let out = run(&home, &["seal", &s(&photo), "-p", "p", "--title", "Street"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("no generation in its lineage"), "{}", text(&out));
    assert!(text(&out).contains("--source-type"), "{}", text(&out));
    let out = run(&home, &["seal", &s(&photo), "-p", "p", "--title", "Street", "--source-type", "photo"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("not a term of IPTC's digital source type vocabulary"), "{}", text(&out));
    assert!(text(&out).contains("digitalCapture"), "the terms are listed: {}", text(&out));
    // The explicit AI label on a photograph would be false.
    let out = run(
        &home,
        &[
            "seal",
            &s(&photo),
            "-p",
            "p",
            "--title",
            "Street",
            "--source-type",
            "digitalCapture",
            "--visible-label",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("not AI-generated"), "{}", text(&out));
    assert_eq!((works(&home), events(&home)), (0, before), "nothing refused is stored");

    let sealed = json(
        &home,
        &["seal", &s(&photo), "-p", "p", "--title", "Street", "--source-type", "digitalCapture", "--json"],
    );
    assert_eq!(sealed["source_type"], "digitalCapture");
    let v = json(&home, &["verify", sealed["output"].as_str().unwrap(), "--json"]);
    assert_eq!(v["c2pa"]["status"], "trusted", "{v}");
    assert_eq!(v["c2pa"]["active"]["actions"][0]["digitalSourceType"], format!("{IPTC}digitalCapture"));
    assert!(v["aigc"].is_null(), "no AIGC label on a photograph: {v}");
    assert_eq!(v["c2pa"]["ai"], json!([]), "{v}");
    assert!(!v["verdict"].as_str().unwrap().contains("AI-generated"), "{v}");

    // Generations only: trainedAlgorithmicMedia, and a term that contradicts it is refused.
    let generated = dir.join("00001.png");
    std::fs::write(&generated, a1111_png(&kodak("kodim03").crop(0, 0, 320, 256))).unwrap();
    json(&home, &["record", &s(&generated), "-p", "p", "--json"]);
    let out =
        run(&home, &["seal", &s(&generated), "-p", "p", "--title", "G", "--source-type", "digitalCapture"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("contradicts the journal"), "{}", text(&out));
    assert!(text(&out).contains("so it is trainedAlgorithmicMedia"), "{}", text(&out));
    let sealed = json(&home, &["seal", &s(&generated), "-p", "p", "--title", "G", "--json"]);
    assert_eq!(sealed["source_type"], "trainedAlgorithmicMedia");
    let v = json(&home, &["verify", sealed["output"].as_str().unwrap(), "--json"]);
    assert_eq!(v["aigc"]["Label"], "1");
    assert_eq!(v["c2pa"]["ai"][0]["active"], true, "{v}");

    // A generation with an edit: composite, whatever is stated for it.
    let edited = dir.join("00001-edited.png");
    std::fs::write(&edited, a1111_png(&kodak("kodim03").crop(0, 0, 320, 256).cover(0.02))).unwrap();
    json(&home, &["edit", &s(&generated), &s(&edited), "--tool", "GIMP", "--json"]);
    let out = run(
        &home,
        &["seal", &s(&edited), "-p", "p", "--title", "E", "--source-type", "trainedAlgorithmicMedia"],
    );
    assert!(text(&out).contains("so it is compositeWithTrainedAlgorithmicMedia"), "{}", text(&out));
    let sealed = json(&home, &["seal", &s(&edited), "-p", "p", "--title", "E", "--json"]);
    assert_eq!(sealed["source_type"], "compositeWithTrainedAlgorithmicMedia");
}

#[test]
fn a_seal_timestamped_by_an_authority_over_http_carries_its_time() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let home = setup(dir);
    let tsa = Tsa::new(&dir.join("tsa"), KeyKind::Rsa);
    let root = tsa.root_pem.clone();
    let url = tsa.serve();
    let file = |name: &str, crop: u32| {
        let path = dir.join(name);
        std::fs::write(&path, a1111_png(&kodak("kodim03").crop(crop, 0, 320, 256))).unwrap();
        json(&home, &["record", &s(&path), "-p", "p", "--json"]);
        path
    };

    // An authority whose root is not trusted: refused, nothing stored.
    let a = file("a.png", 0);
    let before = events(&home);
    let out = run(&home, &["seal", &s(&a), "-p", "p", "--title", "A", "--tsa", &url]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("add the authority's root certificate with --tsa-root"), "{}", text(&out));
    assert_eq!((works(&home), events(&home)), (0, before));

    let sealed = json(
        &home,
        &["seal", &s(&a), "-p", "p", "--title", "A", "--tsa", &url, "--tsa-root", &s(&root), "--json"],
    );
    let time = sealed["timestamp"].as_str().expect("the authority's time").to_owned();
    let v = json(&home, &["verify", sealed["output"].as_str().unwrap(), "--json"]);
    assert_eq!(v["c2pa"]["status"], "trusted", "{v}");
    assert_eq!(v["c2pa"]["active"]["timestamp"], "trusted", "{v}");
    let signed_at = v["c2pa"]["active"]["signed_at"].as_str().unwrap();
    // The time `seal` reports is the one its file carries (signing asks the authority more
    // than once).
    assert_eq!(signed_at, time, "the signing time read back is the authority's");
    let shown = run(&home, &["verify", sealed["output"].as_str().unwrap()]);
    assert!(
        text(&shown).contains(&format!("timestamped at {signed_at} (time-stamp trusted)")),
        "{}",
        text(&shown)
    );

    // A stranger who does not trust the authority: intact, the time-stamp untrusted.
    let stranger = dir.join("stranger");
    let out = run(&stranger, &["verify", sealed["output"].as_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["c2pa"]["status"], "untrusted-signer", "{v}");
    assert_eq!(v["c2pa"]["active"]["timestamp"], "untrusted", "{v}");

    // The data directory's config.json names a default authority; --no-tsa overrides it.
    std::fs::write(home.join("config.json"), json!({"seal": {"tsa": url}}).to_string()).unwrap();
    let b = file("b.png", 32);
    let sealed = json(&home, &["seal", &s(&b), "-p", "p", "--title", "B", "--json"]);
    assert!(sealed["timestamp"].is_string(), "{sealed}");
    let c = file("c.png", 64);
    let sealed = json(&home, &["seal", &s(&c), "-p", "p", "--title", "C", "--no-tsa", "--json"]);
    assert!(sealed.get("timestamp").is_none(), "{sealed}");
    let v = json(&home, &["verify", sealed["output"].as_str().unwrap(), "--json"]);
    assert!(v["c2pa"]["active"]["timestamp"].is_null(), "{v}");

    // A misspelt key is an error naming the file, not a silent default.
    std::fs::write(home.join("config.json"), r#"{"seal": {"tsa_url": "http://x"}}"#).unwrap();
    let d = file("d.png", 96);
    let out = run(&home, &["seal", &s(&d), "-p", "p", "--title", "D"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("config.json") && text(&out).contains("tsa_url"), "{}", text(&out));
}

fn signer(seed: u8, name: &str) -> Signer {
    let key = SigningKey::from_bytes(&[seed; 32]);
    let (root, ee) = credentials::certificates(&key, name).unwrap();
    Signer { key, certificates_pem: format!("{ee}{root}") }
}

/// `image` signed with the c2pa crate by `who`, made with `generator`: `actions`, a parent
/// ingredient (labelled `parent`) if given, and, with `remote`, nothing embedded and the URL in
/// XMP. Returns the image written and its manifest store.
fn c2pa_signed(
    image: &[u8],
    who: Signer,
    generator: &str,
    actions: Value,
    parent: Option<&[u8]>,
    remote: Option<&str>,
) -> (Vec<u8>, Vec<u8>) {
    let definition =
        json!({"title": "image.png", "claim_generator_info": [{"name": generator, "version": "3"}]});
    credentials::foreign::sign_png(image, &definition, &actions, parent, &who, remote).unwrap()
}

fn created_by_ai() -> Value {
    json!([{"action": "c2pa.created", "digitalSourceType": format!("{IPTC}trainedAlgorithmicMedia")}])
}

#[test]
fn verify_names_ai_generation_from_an_earlier_manifest_and_lists_the_chain() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let picture = kodak("kodim03").crop(0, 0, 256, 256).png();
    let (ai, _) =
        c2pa_signed(&picture, signer(5, "Dream Machine Inc"), "Dream Machine", created_by_ai(), None, None);
    let edit = json!([
        {"action": "c2pa.opened", "parameters": {"ingredientIds": ["parent"]}},
        {"action": "c2pa.edited", "softwareAgent": {"name": "Retouch Studio"}}
    ]);
    let (edited, _) = c2pa_signed(&ai, signer(6, "Retoucher"), "Retouch Studio", edit, Some(&ai), None);
    let path = dir.join("edited.png");
    std::fs::write(&path, &edited).unwrap();

    let stranger = dir.join("stranger");
    let v = json(&stranger, &["verify", &s(&path), "--json"]);
    assert_eq!(v["c2pa"]["status"], "untrusted-signer", "{v}");
    let chain: Vec<&str> =
        v["c2pa"]["chain"].as_array().unwrap().iter().map(|l| l["signer"].as_str().unwrap()).collect();
    assert_eq!(chain, ["Dream Machine Inc", "Retoucher"]);
    assert_eq!(v["c2pa"]["ai"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(v["c2pa"]["ai"][0]["signer"], "Dream Machine Inc");
    assert_eq!(v["c2pa"]["ai"][0]["active"], false);
    assert_eq!(v["c2pa"]["ai"][0]["manifest"], v["c2pa"]["chain"][0]["label"]);

    let out = run(&stranger, &["verify", &s(&path)]);
    let said = text(&out);
    assert!(said.contains("AI-generated per an earlier manifest"), "{said}");
    assert!(
        said.contains("signed by Dream Machine Inc (digital source type trainedAlgorithmicMedia"),
        "{said}"
    );
    assert!(said.contains("provenance chain, first to last:"), "{said}");
    let first = said.lines().position(|l| l.contains("1. ") && l.contains("Dream Machine Inc")).unwrap();
    let second = said.lines().position(|l| l.contains("2. ") && l.contains("Retoucher")).unwrap();
    assert!(first < second, "{said}");
    assert!(said.lines().nth(second).unwrap().contains("c2pa.edited by Retouch Studio"), "{said}");
}

/// An image signed with a remote manifest (nothing embedded, the URL in XMP), and its store.
fn remote_signed(image: &[u8], url: &str) -> (Vec<u8>, Vec<u8>) {
    c2pa_signed(image, signer(9, "Dream Machine Inc"), "Dream Machine", created_by_ai(), None, Some(url))
}

#[test]
fn a_remote_manifest_is_named_not_fetched_then_fetched_within_limits() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let picture = kodak("kodim03").crop(0, 0, 256, 256).png();
    // Where the stores will be served: the port is known once the server runs, so the images
    // are signed for a placeholder and the server answers whatever the image names.
    let store_cell: std::sync::Arc<std::sync::Mutex<Vec<u8>>> = Default::default();
    let served = store_cell.clone();
    let (base, requests) = fixtures::http::serve(move |r| match r.path.as_str() {
        "/dream.c2pa" => (200, "application/c2pa", served.lock().unwrap().clone()),
        "/huge.c2pa" => (200, "application/c2pa", vec![0u8; 17 << 20]),
        _ => (404, "text/plain", b"not found".to_vec()),
    });
    let (image, store) = remote_signed(&picture, &format!("{base}/dream.c2pa"));
    *store_cell.lock().unwrap() = store;
    let path = dir.join("dream.png");
    std::fs::write(&path, &image).unwrap();
    let home = dir.join("stranger");

    // Not fetched: a verdict of its own, not "invalid", and no request made.
    let out = run(&home, &["verify", &s(&path)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains(&format!("remote manifest at {base}/dream.c2pa, not fetched")),
        "{}",
        text(&out)
    );
    let v = json(&home, &["verify", &s(&path), "--json"]);
    assert_eq!(v["c2pa"]["status"], "remote", "{v}");
    assert_eq!(v["c2pa"]["remote"]["fetched"], false);
    assert!(requests.lock().unwrap().is_empty(), "nothing fetched unless asked");

    // Fetched: validated against the image.
    let v = json(&home, &["verify", &s(&path), "--fetch-remote", "--json"]);
    assert_eq!(v["c2pa"]["status"], "untrusted-signer", "{v}");
    assert_eq!(v["c2pa"]["remote"]["fetched"], true);
    assert_eq!(v["c2pa"]["ai"][0]["signer"], "Dream Machine Inc", "{v}");
    assert_eq!(requests.lock().unwrap().len(), 1);

    // The same store named by another image: its binding fails, exit 1.
    let (other, _) =
        remote_signed(&kodak("kodim04").crop(0, 0, 256, 256).png(), &format!("{base}/dream.c2pa"));
    let other_path = dir.join("other.png");
    std::fs::write(&other_path, other).unwrap();
    let out = run(&home, &["verify", &s(&other_path), "--fetch-remote", "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["c2pa"]["status"], "tampered", "{v}");

    // Over 16 MiB, or missing: not fetched, said why; still not "invalid".
    for (name, why) in [("huge", "larger than 16777216 bytes"), ("gone", "404")] {
        let (img, _) = remote_signed(&picture, &format!("{base}/{name}.c2pa"));
        let p = dir.join(format!("{name}.png"));
        std::fs::write(&p, img).unwrap();
        let out = run(&home, &["verify", &s(&p), "--fetch-remote", "--json"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["c2pa"]["status"], "remote", "{v}");
        assert!(v["c2pa"]["remote"]["error"].as_str().unwrap().contains(why), "{v}");
        assert!(v["verdict"].as_str().unwrap().contains("could not be fetched"), "{v}");
    }
}
