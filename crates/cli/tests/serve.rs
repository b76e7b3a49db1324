//! `handprint serve` as a process: killed with SIGKILL in the middle of publications, it
//! restarts with nothing half-published and a log that verifies; and it writes nothing
//! outside its data directory.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use common::{json, s};
use fixtures::images::kodak;

/// `handprint serve` on a free loopback port, with `cwd` and `HOME` set so that anything it
/// wrote outside `data` would show; its URL.
fn serve(data: &Path, cwd: &Path, home: &Path) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_handprint"))
        .args(["--json", "serve", "--listen", "127.0.0.1:0", "--rate", "100000", "--data", &s(data)])
        .current_dir(cwd)
        .env("HOME", home)
        .env("HANDPRINT_HOME", home.join("handprint"))
        .env_remove("HANDPRINT_DATABASE")
        .env_remove("XDG_DATA_HOME")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let v: serde_json::Value = serde_json::from_str(&line).unwrap_or_else(|_| panic!("{line:?}"));
    (child, format!("http://{}", v["listening"].as_str().unwrap()))
}

/// Eight sealed works of one creator (crops of three photographs), as files.
fn sealed_works(dir: &Path, home: &Path) -> Vec<PathBuf> {
    json(home, &["--json", "init", "--name", "Alice Chen"]);
    json(home, &["--json", "project", "new", "works"]);
    let mut out = Vec::new();
    for (i, (name, corner)) in [
        ("kodim01", 0),
        ("kodim03", 0),
        ("kodim04", 0),
        ("kodim01", 3),
        ("kodim03", 3),
        ("kodim04", 3),
        ("kodim01", 1),
        ("kodim03", 2),
    ]
    .into_iter()
    .enumerate()
    {
        let input = dir.join(format!("work{i}.png"));
        std::fs::write(&input, kodak(name).crop_area(0.45, corner).png()).unwrap();
        let output = dir.join(format!("work{i}.sealed.png"));
        common::seal(home, &input, &format!("Work {i}"), &output);
        out.push(output);
    }
    out
}

#[test]
fn killed_during_publications_the_server_restarts_whole_and_its_log_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let (data, cwd, home, creator) = (
        dir.path().join("data"),
        dir.path().join("cwd"),
        dir.path().join("home"),
        dir.path().join("creator"),
    );
    for d in [&cwd, &home] {
        std::fs::create_dir_all(d).unwrap();
    }
    let works = sealed_works(dir.path(), &creator);

    // Four clients publish at once; the server is killed while they do.
    let (mut child, url) = serve(&data, &cwd, &home);
    let handles: Vec<_> = works
        .chunks(2)
        .map(|chunk| {
            let (url, chunk, creator) = (url.clone(), chunk.to_vec(), creator.clone());
            std::thread::spawn(move || {
                chunk
                    .iter()
                    .map(|w| {
                        common::run(&creator, &["--json", "publish", &s(w), "--server", &url])
                            .status
                            .success()
                    })
                    .collect::<Vec<bool>>()
            })
        })
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let before: Vec<bool> = handles.into_iter().flat_map(|h| h.join().unwrap()).collect();
    eprintln!("published before the kill: {before:?}");

    // Restarted, it takes every publication; those done before are found as they were.
    let (mut child, url) = serve(&data, &cwd, &home);
    let mut ids = Vec::new();
    for (w, done_before) in works.iter().zip(&before) {
        let answer = json(&creator, &["--json", "publish", &s(w), "--server", &url]);
        assert_eq!(answer["new"].as_bool(), Some(!done_before), "{}: {answer}", w.display());
        ids.push(answer["work"]["id"].as_i64().unwrap());
    }
    child.kill().unwrap();
    child.wait().unwrap();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), works.len());

    // The store: every work has its publication and its `published` event; the log verifies.
    let store = registry::Store::open(&data.join("registry.sqlite")).unwrap();
    let key = registry::identity::load_public(&data.join("identity")).unwrap().verifying_key().unwrap();
    let verification = store.verify(&key).unwrap();
    assert!(verification.findings.is_empty(), "{:?}", verification.findings);
    assert_eq!(verification.uncovered_events, 0);
    let stored = store.works().unwrap();
    assert_eq!(stored.len(), works.len(), "no work without its publication, none twice");
    for w in &stored {
        let p = store.publication(w.id).unwrap().expect("its publication");
        let event = store.event_range(p.log_index, p.log_index + 1).unwrap().pop().expect("its event");
        assert_eq!(event.event.kind, ledger::EventKind::Published);
        assert_eq!(event.event.data["work"].as_i64(), Some(w.id));
    }
    assert_eq!(verification.events, works.len() as u64, "one event per publication, nothing half-written");

    // Nothing was written outside the data directory.
    for d in [&cwd, &home] {
        assert_eq!(std::fs::read_dir(d).unwrap().count(), 0, "{} was written to", d.display());
    }
}
