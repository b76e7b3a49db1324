//! `handprint capture` end to end: a page served locally shows a cropped, re-encoded,
//! credential-stripped copy of a sealed work; the capture matches it to the work, is signed
//! and timestamped, passes `verify --capture`, `warcio`, `wacz validate` and `openssl ts
//! -verify`, and a changed byte fails it.

mod common;

use std::path::Path;
use std::process::Command;

use common::{json, picture, run, s};
use fixtures::images::kodak;
use fixtures::tsa::{KeyKind, Tsa};

#[test]
fn a_page_with_a_stripped_copy_is_captured_matched_signed_and_verified() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let (sealed_path, work) = common::sealed_kodak(&home, tmp.path(), "kodim03", "Harbour at dusk");

    // The infringing page: the copy cropped to 70% and re-encoded, an unrelated photo, and an
    // "image" that is an HTML error page.
    let copy = picture(&sealed_path).crop_area(0.7, 1).jpeg(80);
    let other = kodak("kodim01").jpeg(80);
    let (site, _) = fixtures::http::serve(move |r| {
        match r.path.as_str() {
        "/post" => (
            200,
            "text/html; charset=utf-8",
            b"<html><head><title>A post</title></head><body><p>Look at this</p>\
              <img src=\"/img/copy.jpg\"><img src=\"img/other.jpg\"><img src=\"/img/gone.png\"></body></html>"
                .to_vec(),
        ),
        "/img/copy.jpg" => (200, "image/jpeg", copy.clone()),
        "/img/other.jpg" => (200, "image/jpeg", other.clone()),
        _ => (404, "text/html", b"<html>not found</html>".to_vec()),
    }
    });
    let tsa = Tsa::new(&tmp.path().join("tsa"), KeyKind::Rsa);
    let roots = home.join("tsa-roots");
    std::fs::create_dir_all(&roots).unwrap();
    std::fs::copy(&tsa.root_pem, roots.join("test-root.pem")).unwrap();
    let tsa_root = tsa.root_pem.clone();
    let tsa_url = tsa.serve();

    let package = tmp.path().join("capture.wacz");
    let captured = json(
        &home,
        &[
            "--json",
            "capture",
            &format!("{site}/post"),
            "--out",
            &s(&package),
            "--tsa",
            &tsa_url,
            "--no-screenshot",
        ],
    );
    assert_eq!(captured["status"], 200);
    assert_eq!(captured["images_fetched"], 3, "{captured}");
    let findings = captured["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "only the copy matches: {captured}");
    let f = &findings[0];
    assert!(f["url"].as_str().unwrap().ends_with("/img/copy.jpg"));
    assert_eq!(f["matches"][0]["work"].as_i64(), Some(work));
    assert!(f["matches"][0]["features"]["area_shown"].as_f64().unwrap() < 0.85, "{f}");
    assert!(f["stripped"].as_array().unwrap().iter().any(|x| x == "Content Credentials"));
    // The crop kept the top right of the work: its left and bottom edges were cut off.
    let cut: Vec<&str> = f["stripped"].as_array().unwrap().iter().filter_map(|x| x.as_str()).collect();
    for edge in ["left", "bottom"] {
        assert!(
            cut.iter().any(|x| x.starts_with(&format!("the work's {edge} ")) && x.ends_with("(cropped off)")),
            "{cut:?}"
        );
    }
    for edge in ["right", "top"] {
        assert!(!cut.iter().any(|x| x.starts_with(&format!("the work's {edge} "))), "{cut:?}");
    }
    assert!(f["matches"][0]["side_by_side"].as_str().unwrap().starts_with("handprint/side-by-side-"));
    assert!(captured["timestamp"]["time"].is_string(), "{captured}");

    // handprint's own offline check.
    let check = json(&home, &["--json", "verify", "--capture", &s(&package)]);
    assert_eq!(check["verified"], true, "{check}");
    assert_eq!(check["name"], "Alice Chen");
    assert!(check["timestamp"]["time"].is_string());
    assert_eq!(check["findings"][0]["matches"][0]["work"].as_i64(), Some(work));

    // Other people's tools: openssl on the timestamp, warcio and wacz on the package.
    let wacz = webarchive::read_wacz(&std::fs::read(&package).unwrap()).unwrap();
    let dir = tmp.path().join("unpacked");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("datapackage.json"), wacz.file("datapackage.json").unwrap()).unwrap();
    let digest: serde_json::Value =
        serde_json::from_slice(wacz.file("datapackage-digest.json").unwrap()).unwrap();
    let token = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        digest["handprint"]["timestamp"]["token"].as_str().unwrap(),
    )
    .unwrap();
    std::fs::write(dir.join("token.der"), token).unwrap();
    let out = Command::new("openssl")
        .current_dir(&dir)
        .args(["ts", "-verify", "-data", "datapackage.json", "-in", "token.der", "-token_in", "-CAfile"])
        .arg(&tsa_root)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && said.contains("Verification: OK"),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/check-webarchive.sh");
    let tools = Command::new(&script).arg(&package).output().unwrap();
    match tools.status.code() {
        Some(0) => eprintln!("{}", String::from_utf8_lossy(&tools.stdout)),
        Some(3) if std::env::var_os("HANDPRINT_TEST_REQUIRE_WEBARCHIVE_TOOLS").is_none() => {
            eprintln!(
                "note: warcio and wacz are not installed (scripts/webarchive-tools.sh); their checks were skipped"
            )
        }
        _ => panic!("{}{}", String::from_utf8_lossy(&tools.stdout), String::from_utf8_lossy(&tools.stderr)),
    }

    // Any changed byte fails the check.
    let bytes = std::fs::read(&package).unwrap();
    for at in [bytes.len() / 5, bytes.len() / 2, bytes.len() * 4 / 5, bytes.len() - 30] {
        let mut changed = bytes.clone();
        changed[at] ^= 0x01;
        let bad = tmp.path().join(format!("changed-{at}.wacz"));
        std::fs::write(&bad, &changed).unwrap();
        let out = run(&home, &["verify", "--capture", &s(&bad)]);
        assert_eq!(out.status.code(), Some(1), "byte {at}: {}", String::from_utf8_lossy(&out.stdout));
    }
}

#[test]
fn an_unreachable_page_is_named_and_nothing_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    json(&home, &["--json", "init", "--name", "Alice Chen"]);
    let package = tmp.path().join("capture.wacz");
    let out = run(&home, &["capture", "http://127.0.0.1:1/post", "--out", &s(&package), "--no-screenshot"]);
    assert_eq!(out.status.code(), Some(2));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("127.0.0.1:1") && said.contains("could not be reached"), "{said}");
    assert!(!package.exists());
}

#[test]
fn a_screenshot_goes_in_when_chromium_is_installed_and_the_package_says_when_not() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    json(&home, &["--json", "init", "--name", "Alice Chen"]);
    let (site, _) =
        fixtures::http::serve(|_| (200, "text/html", b"<html><body><h1>A page</h1></body></html>".to_vec()));
    let chromium = std::env::var_os("HANDPRINT_CHROMIUM").map(std::path::PathBuf::from).or_else(|| {
        std::env::var_os("PATH")
            .and_then(|p| std::env::split_paths(&p).map(|d| d.join("chromium")).find(|c| c.is_file()))
    });
    let package = tmp.path().join("page.wacz");
    let captured = json(&home, &["--json", "capture", &format!("{site}/"), "--out", &s(&package)]);
    let warc = webarchive::read_wacz(&std::fs::read(&package).unwrap()).unwrap();
    let records =
        webarchive::read_warc(warc.file("archive/data.warc.gz").unwrap(), &Default::default()).unwrap();
    let screenshot =
        records.iter().find(|r| r.target_uri().is_some_and(|u| u.starts_with("urn:screenshot:")));
    match chromium {
        Some(_) => {
            assert_eq!(captured["screenshot"], true, "{captured}");
            let shot = screenshot.expect("a screenshot record");
            assert_eq!(shot.record_type(), "resource");
            assert!(shot.block.starts_with(b"\x89PNG"), "a PNG");
        }
        None if std::env::var_os("HANDPRINT_TEST_REQUIRE_BROWSER").is_some() => {
            panic!("chromium is not installed")
        }
        None => {
            assert_eq!(captured["screenshot"], false);
            assert!(captured["screenshot_note"].as_str().unwrap().contains("chromium"), "{captured}");
            assert!(screenshot.is_none());
        }
    }
    let env: serde_json::Value =
        serde_json::from_slice(warc.file("handprint/environment.json").unwrap()).unwrap();
    assert_eq!(env["screenshot"], captured["screenshot_note"]);
    assert!(env["time_source"].as_str().unwrap().contains("UTC"), "{env}");
}

#[test]
fn scan_writes_an_evidence_package_for_each_matching_file() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let (sealed_path, _work) = common::sealed_kodak(&home, tmp.path(), "kodim03", "Harbour at dusk");
    let found = tmp.path().join("found");
    std::fs::create_dir_all(&found).unwrap();
    std::fs::write(found.join("copy.jpg"), picture(&sealed_path).crop_area(0.6, 2).jpeg(75)).unwrap();
    std::fs::write(found.join("other.jpg"), kodak("kodim01").jpeg(75)).unwrap();
    let evidence = tmp.path().join("evidence");
    let out = run(&home, &["scan", &s(&found), "--no-side-by-side", "--evidence", &s(&evidence)]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let packages: Vec<_> = std::fs::read_dir(&evidence).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(packages, [std::ffi::OsString::from("copy.wacz")], "one package, for the copy only");
    let check = json(&home, &["--json", "verify", "--capture", &s(&evidence.join("copy.wacz"))]);
    assert_eq!(check["verified"], true, "{check}");
    let finding = &check["findings"][0];
    assert!(finding["url"].as_str().unwrap().starts_with("file:///"), "{finding}");
    assert_eq!(finding["matches"][0]["title"], "Harbour at dusk");
}
