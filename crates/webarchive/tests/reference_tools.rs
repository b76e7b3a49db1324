//! The capture checked by the reference tools (`scripts/check-webarchive.sh`): `warcio check`
//! passes every digest, `warcio index` reads every record, `wacz validate` accepts the
//! package, the CDXJ indexer writes the same index byte for byte, and the surt package gives
//! the same keys. A package with a forged record must fail them.
//!
//! The tools live in a virtual environment that `scripts/webarchive-tools.sh` installs (the
//! test command does). Without it these tests are skipped, unless
//! `HANDPRINT_TEST_REQUIRE_WEBARCHIVE_TOOLS` is set: then they fail.

mod common;

use common::*;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use webarchive::{WarcLimits, read_wacz, read_warc, sha256_label, surt};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs the check script; `None` when the tools are not installed (and not required).
fn check(wacz: &Path, keys: Option<&Path>) -> Option<(bool, String)> {
    let mut cmd = Command::new(root().join("scripts/check-webarchive.sh"));
    cmd.arg(wacz);
    if let Some(keys) = keys {
        cmd.arg(keys);
    }
    let out = cmd.output().expect("running scripts/check-webarchive.sh");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    if out.status.code() == Some(3) {
        assert!(
            std::env::var_os("HANDPRINT_TEST_REQUIRE_WEBARCHIVE_TOOLS").is_none(),
            "the reference tools are required but not installed:\n{text}"
        );
        eprintln!(
            "skipped: the reference web-archive tools are not installed (scripts/webarchive-tools.sh)\n{text}"
        );
        return None;
    }
    Some((out.status.success(), text))
}

/// URLs whose SURT keys are compared with the surt package's.
const URLS: &[&str] = &[
    PAGE_URL,
    IMAGE_URL,
    REDIRECT_URL,
    "urn:screenshot:https://example.com/page",
    "urn:tls-certificates:https://www.example.com/a/?B=1&a=2",
    "https://WWW.Example.COM:443/Path/To/?z=1&a=2&a=1#frag",
    "http://www12.example.org:80/",
    "https://example.com:8443/a/./b/../c//d/",
    "https://example.com/%7Euser/%2e%2e/file%20name.html?q=%41%26b",
    "https://example.com/caf\u{e9}?na\u{ef}ve=1",
    "https://user:secret@example.com/private",
    "http://192.168.0.1/admin",
    "http://3232235521/",
    "http://0300.0250.0.1/",
    "http://[2001:db8::1]:8080/x",
    "https://example.com/index.php?PHPSESSID=0123456789abcdefghijklemopqrstuv&page=2",
    "https://example.com/shop/(S(4hqa0555fwsecu455xqckv45))/cart.aspx?id=3",
    "https://example.com/?CFID=123&CFTOKEN=abc&x=1",
    "https://example.com/a?b?c",
    "https://example.com/?",
    "https://example.com?a",
    "https://example.com/a#b#c",
    "dns:example.com",
    "mailto:someone@example.com",
    "https://example.com/\"quoted\"/<tag>/{brace}|pipe^caret`tick",
    "https://example.com:99999/",
];

#[test]
fn the_reference_tools_accept_the_package() {
    let dir = tempfile::tempdir().unwrap();
    let (bytes, _) = wacz();
    let path = dir.path().join("capture.wacz");
    std::fs::write(&path, &bytes).unwrap();
    let keys = dir.path().join("keys.tsv");
    let mut f = std::fs::File::create(&keys).unwrap();
    for url in URLS {
        writeln!(f, "{url}\t{}", surt(url)).unwrap();
    }
    drop(f);
    let Some((ok, out)) = check(&path, Some(&keys)) else { return };
    println!("{out}");
    assert!(ok, "the reference tools refused the package:\n{out}");
    let records =
        read_warc(read_wacz(&bytes).unwrap().file("archive/data.warc.gz").unwrap(), &WarcLimits::default())
            .unwrap();
    assert_eq!(out.matches("    digest pass").count(), records.len(), "warcio checked every record:\n{out}");
    for r in &records {
        // warcio index prints one JSON line per record, with its offset and type.
        let line = format!(
            "{{\"offset\": \"{}\", \"length\": \"{}\", \"warc-type\": \"{}\"",
            r.offset,
            r.length,
            r.record_type()
        );
        assert!(out.contains(&line), "warcio index did not list {line}:\n{out}");
    }
    assert!(out.contains("Validation succeeded, the passed WACZ is valid"), "{out}");
    assert!(out.contains("indexes/index.cdxj is the reference indexer's output byte for byte"), "{out}");
    assert!(out.contains(&format!("{} of {} SURT keys agree", URLS.len(), URLS.len())), "{out}");
}

#[test]
fn the_reference_tools_refuse_a_forged_record() {
    let dir = tempfile::tempdir().unwrap();
    let (bytes, _) = wacz();
    let w = read_wacz(&bytes).unwrap();
    let warc = w.file("archive/data.warc.gz").unwrap();
    // The page's body changed in its gzip member, every package hash recomputed.
    let records = read_warc(warc, &WarcLimits::default()).unwrap();
    let r = &records[3];
    let (start, end) = (r.offset as usize, (r.offset + r.length) as usize);
    let mut raw = Vec::new();
    flate2::read::GzDecoder::new(&warc[start..end]).read_to_end(&mut raw).unwrap();
    let at = raw.windows(7).position(|s| s == b"Gallery").unwrap();
    raw[at] = b'g';
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&raw).unwrap();
    let mut forged = warc[..start].to_vec();
    forged.extend(gz.finish().unwrap());
    forged.extend_from_slice(&warc[end..]);

    let mut datapackage: serde_json::Value =
        serde_json::from_slice(w.file("datapackage.json").unwrap()).unwrap();
    datapackage["resources"][0]["hash"] = sha256_label(&forged).into();
    datapackage["resources"][0]["bytes"] = forged.len().into();
    let datapackage = serde_json::to_vec_pretty(&datapackage).unwrap();
    let digest = serde_json::to_vec(
        &serde_json::json!({"path": "datapackage.json", "hash": sha256_label(&datapackage)}),
    )
    .unwrap();
    let mut files: Vec<(&str, &[u8])> = Vec::new();
    for f in &w.files {
        files.push(match f.path.as_str() {
            "archive/data.warc.gz" => (f.path.as_str(), &forged),
            "datapackage.json" => (f.path.as_str(), &datapackage),
            "datapackage-digest.json" => (f.path.as_str(), &digest),
            _ => (f.path.as_str(), &f.bytes),
        });
    }
    let path = dir.path().join("forged.wacz");
    std::fs::write(&path, zip_of(&files)).unwrap();
    let Some((ok, out)) = check(&path, None) else { return };
    println!("{out}");
    assert!(!ok, "the reference tools accepted a forged record:\n{out}");
    assert!(out.contains("block digest failed: sha256:"), "{out}");
    assert!(out.contains("payload digest failed"), "{out}");
    assert!(out.contains("indexes/index.cdxj differs from the reference indexer's output"), "{out}");
}
