//! What the commands say about bad input: damage found while recording is named, an OS error
//! is said once, a symbolic link loop is called one, a FIFO is refused rather than waited on.

mod common;

use std::process::{Command, Output, Stdio};

use fixtures::containers::{self, pil_text};
use fixtures::images::{kodak, kodak_path};
use fixtures::project::parameters;
use serde_json::Value;

use common::{json, run, s};

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A 256 × 256 AUTOMATIC1111 PNG.
fn a1111_png(crop: u32) -> Vec<u8> {
    let pic = kodak("kodim03").crop(crop, crop, 256, 256);
    let text = parameters("a lake at dawn", 11, 20, 7.0, "Euler a");
    containers::png(256, 256, 3, &pic.rgb, &[pil_text("parameters", &text)])
}

#[test]
fn record_names_the_damage_of_a_truncated_image() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    json(&home, &["init", "--name", "Ann", "--json"]);
    json(&home, &["project", "new", "p", "--json"]);
    // Cut in half: the metadata is whole, the pixel data is not.
    let whole = a1111_png(0);
    let half = tmp.path().join("half.png");
    std::fs::write(&half, &whole[..whole.len() / 2]).unwrap();
    let plain = kodak("kodim03").crop(30, 30, 256, 256);
    let plain = containers::png(256, 256, 3, &plain.rgb, &[]);
    let plain_half = tmp.path().join("plain-half.png");
    std::fs::write(&plain_half, &plain[..plain.len() / 2]).unwrap();

    let out = run(&home, &["record", &s(&half), &s(&plain_half), "-p", "p"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let said = stderr(&out);
    for f in [&half, &plain_half] {
        let line = said.lines().find(|l| l.starts_with(&format!("handprint: {}: warning: ", s(f))));
        assert!(line.is_some_and(|l| l.contains("truncated")), "{} not named:\n{said}", s(f));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("generated") && stdout.contains("imported"), "{stdout}");

    // --json carries the warnings too; the generation's event keeps them.
    let again = tmp.path().join("half-again.png");
    std::fs::write(&again, &a1111_png(20)[..whole.len() / 2]).unwrap();
    let out = run(&home, &["record", &s(&again), "-p", "p", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("warning: "), "{}", stderr(&out));
    let line: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(line["warnings"][0].as_str().unwrap().contains("truncated"), "{line}");
    let log = run(&home, &["log", "--json"]);
    let last: Value =
        serde_json::from_str(String::from_utf8_lossy(&log.stdout).lines().last().unwrap()).unwrap();
    assert_eq!(last["event"]["data"]["warnings"], line["warnings"]);

    // A whole file draws no warning.
    let good = tmp.path().join("good.png");
    std::fs::write(&good, a1111_png(40)).unwrap();
    let out = run(&home, &["record", &s(&good), "-p", "p"]);
    assert!(out.status.success() && !stderr(&out).contains("warning"), "{}", stderr(&out));
}

/// The OS's text for an error, as Rust shows it.
fn os_text(code: i32) -> String {
    std::io::Error::from_raw_os_error(code).to_string()
}

#[cfg(unix)]
#[test]
fn an_os_error_is_said_once() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    json(&home, &["init", "--name", "Ann", "--json"]);
    json(&home, &["project", "new", "p", "--json"]);
    let dangling = tmp.path().join("dangling.png");
    std::os::unix::fs::symlink(tmp.path().join("gone.png"), &dangling).unwrap();
    let folder = tmp.path().join("folder.png");
    std::fs::create_dir(&folder).unwrap();
    let image = tmp.path().join("image.png");
    std::fs::write(&image, a1111_png(0)).unwrap();

    let enoent = os_text(2); // ENOENT on every Unix
    let d = s(&dangling);
    for args in [
        &["register", &d, "--title", "T"][..],
        &["seal", &d, "-p", "p", "--title", "T", "--import"],
        &["search", &d],
    ] {
        let out = run(&home, args);
        let said = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {said}");
        assert_eq!(said.matches(&enoent).count(), 1, "{args:?}: {said}");
        assert_eq!(said.trim_end(), format!("handprint: {d}: {enoent}"), "{args:?}");
    }
    // A folder where a file belongs: refused once, in words.
    let out = run(&home, &["search", &s(&folder)]);
    assert_eq!(stderr(&out).trim_end(), format!("handprint: {}: not a regular file", s(&folder)));
    // A folder where a file is written: the OS's words, once.
    let out = run(&home, &["watermark", "embed", &s(&image), &s(&folder), "--payload", "0000000000000001"]);
    let said = stderr(&out);
    assert_eq!(said.matches(&os_text(21)).count(), 1, "{said}");
    assert!(said.contains(&s(&folder)), "{said}");
}

#[cfg(unix)]
#[test]
fn a_symlink_loop_is_called_one() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    json(&home, &["init", "--name", "Ann", "--json"]);
    let work = tmp.path().join("work.png");
    std::fs::copy(kodak_path("kodim03"), &work).unwrap();
    json(&home, &["register", &s(&work), "--title", "Lake", "--json"]);
    let looped = tmp.path().join("loop.png");
    std::os::unix::fs::symlink(&looped, &looped).unwrap();
    let reason = std::fs::metadata(&looped).unwrap_err().to_string();
    assert!(!reason.to_lowercase().contains("no such file"), "{reason}");

    let l = s(&looped);
    for args in [&["inspect", &l][..], &["scan", &l, "--no-side-by-side"]] {
        let out = run(&home, args);
        let said = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {said}");
        assert!(said.contains(&format!("{}: {reason}", s(&looped))), "{args:?}: {said}");
        assert!(!said.to_lowercase().contains("no such file"), "{args:?}: {said}");
    }
}

#[cfg(unix)]
#[test]
fn inspect_refuses_a_fifo_instead_of_waiting_on_it() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("pipe.png");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let mut child = Command::new(env!("CARGO_BIN_EXE_handprint"))
        .env("HANDPRINT_HOME", tmp.path().join("home"))
        .args(["inspect", &s(&fifo)])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A watchdog only: the old behaviour blocked in open() for ever.
    let mut waited = 0;
    while child.try_wait().unwrap().is_none() {
        if waited == 600 {
            child.kill().unwrap();
            panic!("inspect blocked on a FIFO");
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        waited += 1;
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains(&format!("{}: not a regular file", s(&fifo))), "{}", stderr(&out));
}

/// A database handprint cannot use, or cannot reach, is named without its password, and
/// nothing is written in the data directory's place.
#[test]
fn a_bad_or_unreachable_database_is_named_without_its_password() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    json(&home, &["init", "--name", "Ann", "--json"]);
    let unknown = run(&home, &["--database", "mysql://ann:hunter2@db.example/reg", "project", "list"]);
    assert_eq!(unknown.status.code(), Some(2));
    let text = stderr(&unknown);
    assert!(text.contains("mysql://ann:***@db.example/reg") && !text.contains("hunter2"), "{text}");
    // Port 1 on loopback: nothing listens there.
    let unreachable = Command::new(env!("CARGO_BIN_EXE_handprint"))
        .env("HANDPRINT_HOME", &home)
        .env("HANDPRINT_DATABASE", "postgres://ann:hunter2@127.0.0.1:1/registry")
        .args(["project", "new", "fox"])
        .output()
        .unwrap();
    assert_eq!(unreachable.status.code(), Some(2));
    let text = stderr(&unreachable);
    assert!(text.contains("postgres://ann:***@127.0.0.1:1/registry: cannot connect to PostgreSQL"), "{text}");
    assert!(!text.contains("hunter2"), "{text}");
    assert!(!home.join("journal.sqlite3").exists(), "no SQLite store was made instead");
}
