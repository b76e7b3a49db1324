//! `export` and `verify --export` through the binary: what is verified is the journal's key,
//! shown by its fingerprint; the name is shown as claimed; a relabelled or cut export fails.

use std::path::Path;
use std::process::{Command, Output};

fn run(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_handprint")).env("HANDPRINT_HOME", home).args(args).output().unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn ok(home: &Path, args: &[&str]) -> String {
    let out = run(home, args);
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    stdout(&out)
}

#[test]
fn verify_export_shows_the_key_it_verified_and_the_name_as_claimed() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    ok(&home, &["init", "--name", "Li Wen"]);
    ok(&home, &["project", "new", "p"]);
    for n in ["sketch", "colour", "final"] {
        ok(&home, &["note", "-p", "p", n]);
    }
    let dir = tmp.path().join("export");
    let exported = ok(&home, &["export", "-p", "p", dir.to_str().unwrap()]);
    let fingerprint = exported
        .lines()
        .find_map(|l| l.strip_prefix("signed with the key whose SHA-256 fingerprint is "))
        .unwrap_or_else(|| panic!("no fingerprint in {exported}"))
        .to_owned();
    assert_eq!(fingerprint.len(), 64);

    let text = ok(&home, &["verify", "--export", dir.to_str().unwrap()]);
    assert!(text.contains(&format!("key SHA-256 {fingerprint}, claimed by Li Wen")), "{text}");
    assert!(!text.contains(" by Li Wen:"), "the name is never shown as proven: {text}");
    let json: serde_json::Value =
        serde_json::from_str(&ok(&home, &["verify", "--export", dir.to_str().unwrap(), "--json"])).unwrap();
    assert_eq!(json["key_fingerprint"], fingerprint.as_str());
    assert_eq!((json["signed"].as_bool(), json["certificate"].as_bool()), (Some(true), Some(true)));

    // Relabelled: another name in manifest.json.
    let manifest = dir.join("manifest.json");
    let genuine = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, genuine.replace("\"name\": \"Li Wen\"", "\"name\": \"Alice Famous\"")).unwrap();
    let out = run(&home, &["verify", "--export", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stdout(&out).lines().any(|l| l == "NOT VERIFIED"), "{}", stdout(&out));

    // Cut: the last event and its proof gone, the count edited.
    std::fs::write(&manifest, genuine.replacen("\"events\": 3", "\"events\": 2", 1)).unwrap();
    for f in ["events.jsonl", "proofs.jsonl"] {
        let path = dir.join(f);
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, text.lines().take(2).map(|l| format!("{l}\n")).collect::<String>()).unwrap();
    }
    let out = run(&home, &["verify", "--export", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("the signed statement counts 3 events, events.jsonl holds 2"),
        "{}",
        stdout(&out)
    );
}
