//! `handprint evidence` end to end: a page served locally shows a cropped, re-encoded copy of
//! a sealed work; its capture package becomes a report that names the work, the page, the
//! match and the order in time; a local file with a stated source is marked as the user's
//! word; a package with a changed byte is refused.

mod common;

use std::path::Path;

use common::{json, picture, run, s};
use fixtures::images::kodak;
use fixtures::tsa::{KeyKind, Tsa};

/// Text as the report's HTML escapes it.
fn escaped(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('/', "&#x2f;")
}

#[test]
fn a_capture_becomes_a_report_a_stated_copy_is_marked_and_a_changed_package_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let (sealed_path, work) = common::sealed_kodak(&home, tmp.path(), "kodim03", "Harbour at dusk");

    let copy = picture(&sealed_path).crop_area(0.7, 1).jpeg(80);
    let copy_file = tmp.path().join("copy.jpg");
    std::fs::write(&copy_file, &copy).unwrap();
    let other = kodak("kodim01").jpeg(80);
    let (site, _) = fixtures::http::serve(move |r| match r.path.as_str() {
        "/post" => (
            200,
            "text/html; charset=utf-8",
            b"<html><head><title>A post</title></head><body><p>Look at this</p>\
              <img src=\"/img/copy.jpg\"><img src=\"img/other.jpg\"></body></html>"
                .to_vec(),
        ),
        "/img/copy.jpg" => (200, "image/jpeg", copy.clone()),
        "/img/other.jpg" => (200, "image/jpeg", other.clone()),
        _ => (404, "text/html", b"<html>not found</html>".to_vec()),
    });
    let tsa = Tsa::new(&tmp.path().join("tsa"), KeyKind::Rsa);
    let roots = home.join("tsa-roots");
    std::fs::create_dir_all(&roots).unwrap();
    std::fs::copy(&tsa.root_pem, roots.join("test-root.pem")).unwrap();
    let tsa_url = tsa.serve();

    let package = tmp.path().join("capture.wacz");
    let page = format!("{site}/post");
    let captured = json(
        &home,
        &["--json", "capture", &page, "--out", &s(&package), "--tsa", &tsa_url, "--no-screenshot"],
    );
    let m = &captured["findings"][0]["matches"][0];
    assert_eq!(m["work"].as_i64(), Some(work), "{captured}");

    // The report of the package.
    let out = tmp.path().join("report");
    let written = json(&home, &["--json", "evidence", &s(&package), "--out", &s(&out)]);
    assert_eq!(written["work"].as_i64(), Some(work), "{written}");
    assert_eq!(written["sealed_before"], true, "{written}");
    assert_eq!(written["stated_by_user"], false);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("Harbour at dusk"), "the work's title");
    assert!(html.contains(&escaped(&page)), "the page's URL");
    assert!(html.contains("The work was sealed before the copy was captured"), "the timeline");
    match m["pdq"]["distance"].as_u64() {
        Some(d) => assert!(html.contains(&format!("{d} of 256 bits differ")), "the PDQ distance {d}"),
        None => assert!(html.contains("no global match"), "no PDQ distance"),
    }
    let area = m["features"]["area_shown"].as_f64().expect("the area shown");
    assert!(area < 0.85);
    assert!(html.contains(&format!("{:.0}%", area * 100.0)), "the area shown, {area}");
    assert!(html.contains("Content Credentials"), "what was stripped");
    assert!(html.contains("handprint verify --capture capture.wacz"));
    assert!(html.contains("data:image/png;base64,"), "the thumbnail and the side-by-side picture");
    assert!(html.contains(&captured["datapackage_hash"].as_str().unwrap().to_owned()));
    assert!(std::fs::read(out.join("report.pdf")).unwrap().starts_with(b"%PDF-"));
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["copy"]["capture"]["verified"], true);
    assert_eq!(report["work"]["title"], "Harbour at dusk");
    // The folder is not written over.
    let again = run(&home, &["evidence", &s(&package), "--out", &s(&out)]);
    assert_eq!(again.status.code(), Some(2));

    // A local file, where and when found stated by the user.
    let out = tmp.path().join("stated");
    let written = json(
        &home,
        &[
            "--json",
            "evidence",
            &s(&copy_file),
            "--source",
            "https://shop.example/listing/77",
            "--found-at",
            "2099-01-01T09:00:00+01:00",
            "--out",
            &s(&out),
        ],
    );
    assert_eq!(written["work"].as_i64(), Some(work), "{written}");
    assert_eq!(written["stated_by_user"], true);
    assert_eq!(written["sealed_before"], true);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("stated by the user, not verified"));
    assert!(html.contains("2099-01-01T08:00:00.000Z"), "the stated time, in UTC");
    assert!(html.contains(&escaped("https://shop.example/listing/77")));
    assert!(!html.contains("handprint verify --capture"), "no package to check");
    let bad_time = run(
        &home,
        &[
            "evidence",
            &s(&copy_file),
            "--source",
            "a shop",
            "--found-at",
            "yesterday",
            "--out",
            &s(&tmp.path().join("never")),
        ],
    );
    assert_eq!(bad_time.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad_time.stderr).contains("not an RFC 3339 time"));

    // A changed byte: refused, and nothing written.
    let mut bytes = std::fs::read(&package).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x01;
    let bad = tmp.path().join("changed.wacz");
    std::fs::write(&bad, &bytes).unwrap();
    let refused_out = tmp.path().join("refused");
    let refused = run(&home, &["evidence", &s(&bad), "--out", &s(&refused_out)]);
    assert_eq!(refused.status.code(), Some(2));
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("changed.wacz") && said.contains("does not verify"), "{said}");
    assert!(!refused_out.exists());
}

/// `handprint serve` on a free loopback port; its process and URL.
fn serve(data: &Path) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_handprint"))
        .args(["--json", "serve", "--listen", "127.0.0.1:0", "--data", &s(data)])
        .env_remove("HANDPRINT_DATABASE")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let v: serde_json::Value = serde_json::from_str(&line).unwrap();
    (child, format!("http://{}", v["listening"].as_str().unwrap()))
}

#[test]
fn a_report_says_when_and_where_the_work_was_published() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let (sealed_path, _work) = common::sealed_kodak(&home, tmp.path(), "kodim01", "Door");
    let (mut server, url) = serve(&tmp.path().join("registry"));
    let published = json(&home, &["--json", "publish", &s(&sealed_path), "--server", &url]);
    let log_index = published["publication"]["log_index"].as_u64().unwrap();
    let copy = tmp.path().join("copy.jpg");
    std::fs::write(&copy, picture(&sealed_path).crop_area(0.8, 0).jpeg(80)).unwrap();
    let out = tmp.path().join("report");
    let written = json(
        &home,
        &[
            "--json",
            "evidence",
            &s(&copy),
            "--source",
            "https://shop.example/item/9",
            "--found-at",
            "2099-01-01T00:00:00Z",
            "--out",
            &s(&out),
            "--server",
            &url,
        ],
    );
    server.kill().unwrap();
    let _ = server.wait();
    assert_eq!(written["stated_by_user"], true, "{written}");
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains(&format!("entry {log_index} of the log of {}", escaped(&url))), "the publication");
    assert!(html.contains(">Published<"), "in the timeline");
    assert!(!html.contains("not known to this registry"));
}
