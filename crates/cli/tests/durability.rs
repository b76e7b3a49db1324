//! An acknowledged event survives the process being killed at any moment, on SQLite and on
//! PostgreSQL.
//!
//! Hundreds of `handprint` processes append (single notes and batches of recorded files) and
//! are sent SIGKILL after a random delay. A process that exited on its own with success has
//! acknowledged its events; afterwards `handprint verify` must pass and every acknowledged
//! event must be in the journal.

#![cfg(unix)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// `handprint` on the data directory `home`, with its store in `database` when given.
fn command(home: &Path, database: Option<&str>) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_handprint"));
    c.env("HANDPRINT_HOME", home).env_remove("HANDPRINT_PASSPHRASE");
    match database {
        Some(url) => c.env("HANDPRINT_DATABASE", url),
        None => c.env_remove("HANDPRINT_DATABASE"),
    };
    c
}

#[test]
fn killed_appends_lose_nothing_acknowledged_sqlite() {
    killed_appends_lose_nothing_acknowledged(None);
}

#[test]
fn killed_appends_lose_nothing_acknowledged_postgres() {
    if let Some(db) = fixtures::postgres::database() {
        killed_appends_lose_nothing_acknowledged(Some(&db.url));
        // The journal is in PostgreSQL, not in a file beside the identity.
        let mut client = postgres::Client::connect(&db.url, postgres::NoTls).unwrap();
        let events: i64 = client.query_one("SELECT COUNT(*) FROM events", &[]).unwrap().get(0);
        assert!(events > 80, "{events} events in PostgreSQL");
    }
}

fn killed_appends_lose_nothing_acknowledged(database: Option<&str>) {
    let handprint = |home: &Path| command(home, database);
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    assert!(handprint(&home).args(["init", "--name", "Durable"]).output().unwrap().status.success());
    assert!(handprint(&home).args(["project", "new", "p"]).output().unwrap().status.success());
    // Distinct images for batch records: the same sample with a different text chunk each.
    let files = dir.path().join("files");
    std::fs::create_dir_all(&files).unwrap();
    let mut batches = Vec::new();
    for b in 0..40 {
        let mut batch = Vec::new();
        for i in 0..8 {
            let params = format!(
                "a fox, batch {b} image {i}\nSteps: 20, Sampler: Euler, Seed: {}, CFG scale: 7",
                b * 100 + i
            );
            let bytes = fixtures::containers::png(
                16,
                16,
                3,
                &fixtures::containers::pixels(16, 16, 3, (b * 8 + i) as u8),
                &[fixtures::containers::pil_text("parameters", &params)],
            );
            let path = files.join(format!("{b}-{i}.png"));
            std::fs::write(&path, bytes).unwrap();
            batch.push(path);
        }
        batches.push(batch);
    }
    // Kill delays scaled to how long an append takes here and now (a loaded machine is
    // slower), so that about half the processes are killed and half complete.
    let mut took: Vec<Duration> = (0..3)
        .map(|i| {
            let start = Instant::now();
            assert!(
                handprint(&home)
                    .args(["note", "-p", "p", &format!("warm-up {i}")])
                    .status()
                    .unwrap()
                    .success()
            );
            start.elapsed()
        })
        .collect();
    took.sort();
    let span = (took[1].as_micros() as u64 * 2).max(2_000);
    let mut rng = fixtures::rng::XorShift::new(0x9E37_79B9_7F4A_7C15);
    let mut acknowledged_notes = Vec::new();
    let mut acknowledged_files = Vec::new();
    let (mut killed, mut completed) = (0, 0);
    let rounds = 400;
    for round in 0..rounds {
        let batch = (round % 5 == 0).then(|| &batches[(round / 5) % batches.len()]);
        let note = format!("note {round}");
        let mut cmd = handprint(&home);
        match batch {
            Some(files) => cmd.args(["record", "-p", "p"]).args(files),
            None => cmd.args(["note", "-p", "p", &note]),
        };
        let mut child = cmd.stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
        let deadline = Instant::now() + Duration::from_micros(rng.next_u64() % span);
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break Some(status);
            }
            if Instant::now() >= deadline {
                child.kill().unwrap(); // SIGKILL
                child.wait().unwrap();
                break None;
            }
            std::thread::sleep(Duration::from_micros(200));
        };
        match status {
            Some(s) if s.success() => {
                completed += 1;
                match batch {
                    Some(files) => acknowledged_files.extend(files.iter().cloned()),
                    None => acknowledged_notes.push(note),
                }
            }
            Some(s) => panic!("round {round}: handprint failed on its own: {s}"),
            None => killed += 1,
        }
    }
    assert!(
        killed >= 80 && completed >= 80,
        "the delays should both kill and spare: killed {killed}, completed {completed}"
    );

    let verify = handprint(&home).args(["verify"]).output().unwrap();
    assert!(
        verify.status.success(),
        "verify after {killed} kills:\n{}",
        String::from_utf8_lossy(&verify.stdout)
    );
    let log = handprint(&home).args(["log", "--json"]).output().unwrap();
    let log = String::from_utf8(log.stdout).unwrap();
    for note in &acknowledged_notes {
        assert!(log.contains(&format!("\"text\":\"{note}\"")), "acknowledged {note:?} is missing");
    }
    for f in &acknowledged_files {
        let name = f.file_name().unwrap().to_str().unwrap();
        assert!(log.contains(&format!("\"name\":\"{name}\"")), "acknowledged {name} is missing");
    }
    eprintln!("{rounds} appends: {killed} killed, {completed} completed; all acknowledged events present");
}
