//! A disk that fills up mid-append: a clear message, and nothing half-written.
//!
//! The append runs under a file-size limit (`ulimit -f`) with SIGXFSZ ignored, so the kernel
//! refuses writes past the limit (EFBIG), as a full disk refuses them (ENOSPC).

#![cfg(unix)]

use std::path::Path;
use std::process::Command;

fn handprint(home: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_handprint"));
    c.env("HANDPRINT_HOME", home);
    c
}

#[test]
fn a_full_disk_stores_nothing_and_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    assert!(handprint(&home).args(["init", "--name", "F"]).status().unwrap().success());
    assert!(handprint(&home).args(["project", "new", "p"]).status().unwrap().success());
    assert!(handprint(&home).args(["note", "-p", "p", "before the disk filled"]).status().unwrap().success());
    let db = home.join("journal.sqlite3");
    let wal = home.join("journal.sqlite3-wal");
    let used =
        std::fs::metadata(&db).unwrap().len().max(std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0));

    // 300 images of ~100 KB each: far more than the limit leaves room for.
    let files = tmp.path().join("files");
    std::fs::create_dir_all(&files).unwrap();
    let mut args = vec!["record".to_owned(), "-p".into(), "p".into()];
    for n in 0..300u32 {
        let text = format!("{}\nSteps: 20, Sampler: Euler, Seed: {n}, CFG scale: 7", "x".repeat(100_000));
        let bytes = fixtures::containers::png(
            8,
            8,
            3,
            &fixtures::containers::pixels(8, 8, 3, n as u8),
            &[fixtures::containers::pil_text("parameters", &text)],
        );
        let path = files.join(format!("{n}.png"));
        std::fs::write(&path, bytes).unwrap();
        args.push(path.to_str().unwrap().to_owned());
    }
    let limit_blocks = (used + 4 * 1024 * 1024) / 1024; // a few MB above what exists
    let script = format!("trap '' XFSZ; ulimit -f {limit_blocks}; exec \"$0\" \"$@\"");
    let out = Command::new("bash")
        .arg("-c")
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_handprint"))
        .args(&args)
        .env("HANDPRINT_HOME", &home)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "the append should have failed: {stderr}");
    assert!(
        stderr.contains("journal.sqlite3: cannot write")
            && stderr.contains("nothing of this change was stored"),
        "{stderr}"
    );

    // Without the limit: the journal verifies and holds exactly what it held before.
    let verify = handprint(&home).arg("verify").output().unwrap();
    assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stdout));
    let log = String::from_utf8(handprint(&home).args(["log", "--json"]).output().unwrap().stdout).unwrap();
    assert_eq!(log.lines().count(), 1, "only the note from before");
    // And the journal works again once there is room.
    assert!(handprint(&home).args(["note", "-p", "p", "after"]).status().unwrap().success());
}
