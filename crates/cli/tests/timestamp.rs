//! `handprint timestamp` against a real TSA (`openssl ts`) over HTTP on loopback.

use std::path::Path;
use std::process::{Command, Output};

use fixtures::tsa::{KeyKind, Tsa};

fn handprint(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_handprint"))
        .env("HANDPRINT_HOME", home)
        .env_remove("HANDPRINT_TSA")
        .args(args)
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[test]
fn timestamps_are_fetched_verified_stored_checked_and_exported() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    assert!(handprint(&home, &["init", "--name", "T"]).status.success());
    assert!(handprint(&home, &["project", "new", "p"]).status.success());
    assert!(handprint(&home, &["note", "-p", "p", "the first idea"]).status.success());

    let tsa = Tsa::new(&tmp.path().join("tsa"), KeyKind::Rsa);
    let root = tsa.root_pem.clone();
    let url = tsa.serve();

    // Without its root, the TSA's token is not accepted.
    let untrusted = handprint(&home, &["timestamp", "--tsa", &url]);
    assert!(!untrusted.status.success());
    assert!(
        text(&untrusted).contains("add the TSA's root certificate with --tsa-root"),
        "{}",
        text(&untrusted)
    );

    let out = handprint(&home, &["timestamp", "--tsa", &url, "--tsa-root", root.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("checkpoint of 1 events timestamped at"), "{}", text(&out));
    assert!(handprint(&home, &["note", "-p", "p", "a second thought"]).status.success());
    assert!(handprint(&home, &["timestamp", "--tsa", &url]).status.success(), "the root is remembered");

    let verify = handprint(&home, &["verify"]);
    assert!(verify.status.success(), "{}", text(&verify));
    assert_eq!(text(&verify).matches("timestamp: checkpoint of").count(), 2, "{}", text(&verify));

    let export = tmp.path().join("export");
    assert!(handprint(&home, &["export", "-p", "p", export.to_str().unwrap()]).status.success());
    assert!(export.join("timestamps/1.tsr").exists() && export.join("timestamps/2.tsr").exists());
    let checked = handprint(&home, &["verify", "--export", export.to_str().unwrap()]);
    assert!(checked.status.success(), "{}", text(&checked));
    assert_eq!(text(&checked).matches("timestamp 20").count(), 2, "{}", text(&checked));

    // A token altered in the store is named by verify.
    let conn = rusqlite::Connection::open(home.join("journal.sqlite3")).unwrap();
    let token: Vec<u8> =
        conn.query_row("SELECT token FROM timestamps WHERE size = 2", [], |r| r.get(0)).unwrap();
    let mut bad = token.clone();
    let last = bad.len() - 3;
    bad[last] ^= 0x10;
    conn.execute("UPDATE timestamps SET token = ?1 WHERE size = 2", [bad]).unwrap();
    let verify = handprint(&home, &["verify"]);
    assert_eq!(verify.status.code(), Some(1));
    assert!(text(&verify).contains("timestamp of the checkpoint of 2 events"), "{}", text(&verify));
}
