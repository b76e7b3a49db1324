//! Evidence a stranger cannot forge, and a data directory that cannot be turned against its
//! owner: each test builds an attack and checks that handprint refuses or reports it.

#![cfg(unix)]

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use credentials::{Format, Seal, SourceType};
use fixtures::containers::{self, pil_text};
use fixtures::images::kodak;
use fixtures::samples::a1111_parameters;
use serde_json::Value;

use common::{json, run, s};

/// An identity with a project and one recorded A1111 PNG, sealed as a work. Returns the
/// sealed file and the work ID.
fn sealed_work(home: &Path, dir: &Path, name: &str, crop_x: u32) -> (PathBuf, i64) {
    json(home, &["init", "--name", name, "--json"]);
    json(home, &["project", "new", "p", "--json"]);
    let picture = kodak("kodim03").crop(crop_x, 0, 384, 320);
    let generated = dir.join(format!("{name}-gen.png"));
    let bytes = containers::png(
        picture.width,
        picture.height,
        3,
        &picture.rgb,
        &[pil_text("parameters", &a1111_parameters())],
    );
    std::fs::write(&generated, bytes).unwrap();
    json(home, &["record", &s(&generated), "-p", "p", "--json"]);
    let output = dir.join(format!("{name}-sealed.png"));
    let sealed =
        json(home, &["seal", &s(&generated), "-p", "p", "--title", "T", "-o", &s(&output), "--json"]);
    (output, sealed["work"]["id"].as_i64().unwrap())
}

/// Signs a new manifest over `image` carrying `assertion` (another file's journal proof),
/// with the identity of `signer_home`: what an attacker does with the official c2pa SDK.
fn transplant(assertion: &Value, image: &[u8], signer_home: &Path) -> Vec<u8> {
    let identity = registry::identity::load(signer_home, None).unwrap();
    let signer = registry::identity::c2pa_signer(signer_home, &identity).unwrap();
    let seal = Seal {
        title: "T".into(),
        author: "someone".into(),
        source_type: SourceType::TrainedAlgorithmicMedia,
        generator: None,
        edits: vec![],
        sources: vec![],
        original: None,
        visible_label: None,
        watermark: u64::from_str_radix(
            assertion["event"]["event"]["data"]["watermark"]["payload"].as_str().unwrap(),
            16,
        )
        .unwrap(),
        journal: assertion.clone(),
    };
    credentials::sign(image, Format::Png, &seal, &signer).unwrap()
}

fn journal_assertion(file: &Path) -> Value {
    let bytes = std::fs::read(file).unwrap();
    let c = credentials::read(&bytes, Format::Png, None).unwrap();
    c.active.unwrap().journal.unwrap()
}

#[test]
fn a_journal_proof_copied_into_another_image_does_not_verify_and_cannot_be_claimed() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (bob, greg) = (dir.join("bob"), dir.join("greg"));
    let (sealed, _) = sealed_work(&bob, dir, "Bob", 0);
    sealed_work(&greg, dir, "Greg", 64);

    // The genuine file verifies, on Bob's machine and on a stranger's.
    let v = json(&bob, &["verify", &s(&sealed), "--json"]);
    assert_eq!(v["journal"]["verified"], true, "{v}");
    let v = json(&dir.join("nobody"), &["verify", &s(&sealed), "--json"]);
    assert_eq!(v["journal"]["verified"], true, "{v}");

    // Another image, watermarked with Bob's payload, under a manifest carrying Bob's proof.
    let plain = dir.join("plain.png");
    std::fs::write(&plain, kodak("kodim01").crop(0, 0, 384, 320).png()).unwrap();
    let marked = dir.join("plain-wm.png");
    let assertion = journal_assertion(&sealed);
    // The watermark ID Bob's sealed event names, so that only the binding checks can fail.
    let payload = assertion["event"]["event"]["data"]["watermark"]["payload"].as_str().unwrap().to_owned();
    json(&greg, &["watermark", "embed", &s(&plain), &s(&marked), "--payload", &payload, "--json"]);
    let marked_bytes = std::fs::read(&marked).unwrap();

    for (signer, what) in [(&greg, "signed by Greg"), (&bob, "signed with Bob's own key")] {
        let forged = dir.join(format!("forged-{}.png", signer.file_name().unwrap().to_str().unwrap()));
        std::fs::write(&forged, transplant(&assertion, &marked_bytes, signer)).unwrap();
        for home in [&bob, &greg, &dir.join("nobody")] {
            let out = run(home, &["verify", &s(&forged), "--json"]);
            let v: Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(v["watermark"]["payload"], payload, "{what}: the watermark is there: {v}");
            assert_eq!(v["journal"]["verified"], false, "{what}: {v}");
            assert_eq!(out.status.code(), Some(1), "{what}: a failed proof is a failed claim");
            let text = String::from_utf8_lossy(&run(home, &["verify", &s(&forged)]).stdout).into_owned();
            assert!(text.contains("journal proof FAILS"), "{what}: {text}");
        }
        // claim packs only the file that was sealed.
        let out = run(&bob, &["claim", &s(&forged), "--out", &s(&dir.join("claim-forged"))]);
        assert!(!out.status.success(), "{what}: claim of a forged file must fail");
        assert!(String::from_utf8_lossy(&out.stderr).contains("not the file sealed as work"), "{what}");
        assert!(!dir.join("claim-forged").exists());
    }
    let problems = {
        let forged = dir.join("forged-greg.png");
        let out = run(&bob, &["verify", &s(&forged), "--json"]);
        serde_json::from_slice::<Value>(&out.stdout).unwrap()["journal"]["problems"].to_string()
    };
    assert!(problems.contains("another key than the journal's author"), "{problems}");
    let problems = {
        let out = run(&bob, &["verify", &s(&dir.join("forged-bob.png")), "--json"]);
        serde_json::from_slice::<Value>(&out.stdout).unwrap()["journal"]["problems"].to_string()
    };
    assert!(problems.contains("other image data"), "{problems}");
}

/// The sealed work's pixels carrying another payload (the image it was sealed from, marked
/// with it, under the copied proof): the proof names a watermark the pixels do not carry.
/// Marked from the unsealed image: a second mark over the first reads as neither, whatever
/// the two payloads are.
#[test]
fn a_proof_with_another_watermark_fails() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let bob = dir.join("bob");
    let (sealed, _) = sealed_work(&bob, dir, "Bob", 0);
    let assertion = journal_assertion(&sealed);
    let rewatermarked = dir.join("rewatermarked.png");
    json(
        &bob,
        &[
            "watermark",
            "embed",
            &s(&dir.join("Bob-gen.png")),
            &s(&rewatermarked),
            "--payload",
            "00000000000000ff",
            "--json",
        ],
    );
    let forged = dir.join("forged.png");
    std::fs::write(&forged, transplant(&assertion, &std::fs::read(&rewatermarked).unwrap(), &bob)).unwrap();
    let out = run(&bob, &["verify", &s(&forged), "--json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["journal"]["verified"], false, "{v}");
    assert!(v["journal"]["problems"].to_string().contains("00000000000000ff"), "{v}");
}

#[test]
fn seal_refuses_a_certificate_that_is_not_the_keys_and_stores_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (k4, other) = (dir.join("k4"), dir.join("other"));
    json(&other, &["init", "--name", "Greg", "--json"]);
    json(&k4, &["init", "--name", "K4", "--json"]);
    json(&k4, &["project", "new", "k", "--json"]);
    let image = dir.join("a.png");
    std::fs::write(&image, kodak("kodim03").crop(0, 0, 384, 320).png()).unwrap();
    json(&k4, &["record", &s(&image), "-p", "k", "--json"]);
    for f in ["certificate.pem", "root.pem"] {
        std::fs::copy(other.join(f), k4.join(f)).unwrap();
    }
    let out = run(&k4, &["seal", &s(&image), "-p", "k", "--title", "x", "-o", &s(&dir.join("out.png"))]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("certificate.pem") && err.contains("not for the journal's key"), "{err}");
    assert!(!dir.join("out.png").exists());
    assert_eq!(works(&k4), 0, "no work was committed");
    let log = String::from_utf8_lossy(&run(&k4, &["log", "-p", "k"]).stdout).into_owned();
    assert!(!log.contains("sealed"), "{log}");
}

#[test]
fn another_identity_copied_into_a_data_directory_cannot_append() {
    let tmp = tempfile::tempdir().unwrap();
    let (home, other) = (tmp.path().join("home"), tmp.path().join("other"));
    json(&home, &["init", "--name", "Bob", "--json"]);
    json(&home, &["project", "new", "p", "--json"]);
    json(&home, &["note", "-p", "p", "first", "--json"]);
    json(&other, &["init", "--name", "Greg", "--json"]);
    for f in ["key.pem", "identity.json", "certificate.pem", "root.pem"] {
        std::fs::copy(other.join(f), home.join(f)).unwrap();
    }
    let out = run(&home, &["note", "-p", "p", "second"]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stdout));
    assert!(String::from_utf8_lossy(&out.stderr).contains("signed by another key"));
    // Nothing was appended with Greg's key.
    let log: Vec<String> = String::from_utf8_lossy(&run(&home, &["log", "-p", "p"]).stdout)
        .lines()
        .filter(|l| l.contains("note"))
        .map(str::to_owned)
        .collect();
    assert_eq!(log.len(), 1, "{log:?}");
}

#[test]
fn a_seal_cut_off_before_its_rename_is_finished_by_the_next_run_not_sealed_twice() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let home = dir.join("home");
    let (sealed, work) = sealed_work(&home, dir, "Bob", 0);
    let (generated, output) = (s(&dir.join("Bob-gen.png")), s(&sealed));
    let args = ["seal", &generated, "-p", "p", "--title", "T", "-o", &output, "--json"];
    // Killed between the commit and the rename: the complete file is left as `.NAME.tmp`.
    let tmp_out = dir.join(format!(".{}.tmp", sealed.file_name().unwrap().to_str().unwrap()));
    std::fs::rename(&sealed, &tmp_out).unwrap();
    let again = json(&home, &args);
    assert_eq!(again["work"]["id"], work, "the same work, not a second one: {again}");
    assert_eq!(again["recovered"], true);
    assert!(sealed.exists() && !tmp_out.exists());
    assert_eq!(json(&home, &["verify", &s(&sealed), "--json"])["journal"]["verified"], true);
    // Run once more: nothing to do, still one work.
    assert_eq!(json(&home, &args)["work"]["id"], work);
    assert_eq!(works(&home), 1);
    // The sealed file lost: refused, not sealed as a second work.
    std::fs::remove_file(&sealed).unwrap();
    let out = run(&home, &args);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains(&format!("already sealed as work {work}")));
    assert_eq!(works(&home), 1);
}

/// How many works `works --json` lists (one JSON line each).
fn works(home: &Path) -> usize {
    let out = run(home, &["works", "--json"]);
    String::from_utf8_lossy(&out.stdout).lines().filter(|l| l.starts_with('{')).count()
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn the_data_directory_is_private_whatever_the_umask() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let sh = |script: &str| {
        Command::new("sh")
            .arg("-c")
            .arg(format!("umask 000; {script}"))
            .env("HANDPRINT_HOME", &home)
            .env("H", env!("CARGO_BIN_EXE_handprint"))
            .output()
            .unwrap()
    };
    assert!(sh("\"$H\" init --name Bob && \"$H\" project new p && \"$H\" note -p p hello").status.success());
    assert_eq!(mode(&home), 0o700);
    assert_eq!(mode(&home.join("journal.sqlite3")), 0o600);
    for f in ["key.pem", "identity.json"] {
        assert_eq!(mode(&home.join(f)), 0o600, "{f}");
    }
    // A data directory made by an older handprint is tightened when opened.
    std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(home.join("journal.sqlite3"), std::fs::Permissions::from_mode(0o644)).unwrap();
    json(&home, &["note", "-p", "p", "again", "--json"]);
    assert_eq!(mode(&home), 0o700);
    assert_eq!(mode(&home.join("journal.sqlite3")), 0o600);
    // A key others can read is named.
    std::fs::set_permissions(home.join("key.pem"), std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = run(&home, &["note", "-p", "p", "third"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("key.pem: mode 644"));
}

#[test]
fn an_empty_passphrase_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let out = Command::new(env!("CARGO_BIN_EXE_handprint"))
        .env("HANDPRINT_HOME", &home)
        .env("HANDPRINT_PASSPHRASE", "")
        .args(["init", "--name", "K1", "--passphrase"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("empty passphrase"));
    assert!(!home.join("key.pem").exists());
}

/// `verify` changes nothing, so it works where nothing can be written: a read-only copy, a
/// full disk (no `-wal` or `-shm` file can be made).
#[test]
fn verify_reads_a_journal_it_cannot_write_to() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    json(&home, &["init", "--name", "R", "--json"]);
    json(&home, &["project", "new", "p", "--json"]);
    json(&home, &["note", "-p", "p", "one", "--json"]);
    let root = unsafe_is_root();
    let mut verify = Command::new(if root { "setpriv" } else { env!("CARGO_BIN_EXE_handprint") });
    if root {
        // Root writes anywhere: verify as an unprivileged owner of a read-only folder.
        for p in [tmp.path(), &home] {
            std::os::unix::fs::chown(p, Some(65534), Some(65534)).unwrap();
        }
        for f in std::fs::read_dir(&home).unwrap() {
            std::os::unix::fs::chown(f.unwrap().path(), Some(65534), Some(65534)).unwrap();
        }
        verify.args(["--reuid=65534", "--regid=65534", "--clear-groups", env!("CARGO_BIN_EXE_handprint")]);
    }
    std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o500)).unwrap();
    let out = verify.env("HANDPRINT_HOME", &home).arg("verify").output().unwrap();
    std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o700)).unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("verified: every signature"), "{text}");
}

fn unsafe_is_root() -> bool {
    String::from_utf8_lossy(&Command::new("id").arg("-u").output().unwrap().stdout).trim() == "0"
}

/// `claim` killed at any moment leaves either no report folder or a complete one.
#[test]
fn an_interrupted_claim_leaves_no_half_report() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let home = dir.join("home");
    let (_, work) = sealed_work(&home, dir, "Bob", 0);
    for (i, delay) in [5u64, 40, 120, 300, 600].into_iter().enumerate() {
        let out = dir.join(format!("claim-{i}"));
        let mut child = Command::new(env!("CARGO_BIN_EXE_handprint"))
            .env("HANDPRINT_HOME", &home)
            .args(["claim", &work.to_string(), "--out", &s(&out)])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay));
        let _ = child.kill();
        child.wait().unwrap();
        if out.exists() {
            for f in ["report.html", "report.json", "report.pdf", "bundle/manifest.json"] {
                assert!(out.join(f).exists(), "killed after {delay} ms: {f} missing from a report folder");
            }
        }
        // A rerun always succeeds.
        json(&home, &["claim", &work.to_string(), "--out", &s(&out.with_extension("again")), "--json"]);
    }
}
