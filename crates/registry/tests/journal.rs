//! The journal on a real SQLite file: recording, lineage, verification, tampering, export.

use std::path::{Path, PathBuf};

use fixtures::samples;
use ledger::EventKind;
use registry::identity::{self, Identity};
use registry::{Outcome, Registry, RegistryError};

struct Setup {
    _dir: tempfile::TempDir,
    home: PathBuf,
    files: PathBuf,
    reg: Registry,
    id: Identity,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let files = dir.path().join("files");
    std::fs::create_dir_all(&files).unwrap();
    for s in samples::all() {
        std::fs::write(files.join(s.name), &s.bytes).unwrap();
    }
    identity::create(&home, "Li Wen", None).unwrap();
    let reg = Registry::open(&home).unwrap();
    let id = reg.signer(None).unwrap();
    reg.create_project("fox").unwrap();
    Setup { _dir: dir, home, files, reg, id }
}

impl Setup {
    fn file(&self, name: &str) -> PathBuf {
        self.files.join(name)
    }

    fn record(&mut self, names: &[&str]) -> Vec<Outcome> {
        let paths: Vec<PathBuf> = names.iter().map(|n| self.file(n)).collect();
        self.reg.record(&self.id, "fox", &paths).unwrap()
    }

    fn verify_messages(&self) -> Vec<String> {
        let v = self.reg.store.verify(&self.reg.public.verifying_key().unwrap()).unwrap();
        v.findings.into_iter().map(|f| f.message).collect()
    }

    fn sql(&self, statement: &str) {
        let conn = rusqlite::Connection::open(self.home.join("journal.sqlite3")).unwrap();
        conn.execute_batch(statement).unwrap();
    }
}

fn kinds(reg: &Registry) -> Vec<EventKind> {
    reg.store.events(None).unwrap().iter().map(|e| e.event.kind).collect()
}

#[test]
fn init_never_overwrites_a_key() {
    let s = setup();
    let before = std::fs::read(s.home.join("key.pem")).unwrap();
    let err = identity::create(&s.home, "Someone Else", None).unwrap_err();
    assert!(err.to_string().contains("never overwritten"), "{err}");
    assert_eq!(std::fs::read(s.home.join("key.pem")).unwrap(), before);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(s.home.join("key.pem")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[test]
fn an_encrypted_key_needs_its_passphrase() {
    let dir = tempfile::tempdir().unwrap();
    identity::create(dir.path(), "A", Some("correct horse")).unwrap();
    assert!(matches!(identity::load(dir.path(), None), Err(RegistryError::Passphrase(_))));
    let wrong = identity::load(dir.path(), Some("wrong")).err().unwrap().to_string();
    assert!(wrong.contains("wrong passphrase"), "{wrong}");
    assert!(identity::load(dir.path(), Some("correct horse")).is_ok());
}

#[test]
fn recording_builds_the_lineage() {
    let mut s = setup();
    let out = s.record(&["a1111-txt2img.png", "a1111-txt2img.jpg", "comfyui-basic.png", "plain.png"]);
    assert_eq!(out.len(), 4);
    assert_eq!(
        kinds(&s.reg),
        [
            EventKind::Generated,
            EventKind::Generated,
            EventKind::PromptEdited,
            EventKind::Generated,
            EventKind::Imported
        ]
    );
    let events = s.reg.store.events(None).unwrap();
    // The JPEG is the same generation as the PNG: same seed and prompt.
    assert_eq!(events[1].event.derived_from.len(), 1);
    assert_eq!(events[1].event.derived_from[0].relation, "same-seed");
    assert_eq!(events[1].event.derived_from[0].event, events[0].hash());
    // The prompt changed: a prompt-edited event links the old round to the new one.
    assert_eq!(events[2].event.derived_from[0].event, events[1].hash());
    assert_eq!(
        events[2].event.data["after"],
        "beautiful scenery nature glass bottle landscape, purple galaxy bottle"
    );
    assert_eq!(events[3].event.derived_from[0].relation, "prompt-edit");
    assert_eq!(events[3].event.derived_from[0].event, events[2].hash());
    // Chains link every event to its predecessor.
    for pair in events.windows(2) {
        assert_eq!(pair[1].event.prev, Some(pair[0].hash()));
    }
    assert_eq!(
        events[0].event.data["file"]["sha256"],
        ledger::Hash::of(&std::fs::read(s.file("a1111-txt2img.png")).unwrap()).to_hex()
    );
    assert_eq!(events[0].event.data["generations"][0]["seed"], 3141592653u64);
}

#[test]
fn a_64_bit_seed_is_kept_exactly_and_still_links_lineage() {
    let mut s = setup();
    s.record(&["fooocus.png"]);
    // The same generation re-encoded: same prompt and seed, another file.
    let mut copy = std::fs::read(s.file("fooocus.png")).unwrap();
    copy.extend_from_slice(b"trailing bytes make another file");
    std::fs::write(s.file("fooocus-copy.png"), copy).unwrap();
    s.record(&["fooocus-copy.png"]);
    let events = s.reg.store.events(None).unwrap();
    assert_eq!(events[0].event.data["generations"][0]["seed"], "8263725916278349174");
    assert_eq!(events[1].event.derived_from[0].relation, "same-seed");
}

#[test]
fn recording_is_idempotent_by_hash() {
    let mut s = setup();
    s.record(&["a1111-txt2img.png", "comfyui-basic.png"]);
    let again = s.record(&["comfyui-basic.png", "a1111-txt2img.png", "a1111-txt2img.png"]);
    assert!(again.iter().all(|o| matches!(o, Outcome::AlreadyRecorded { .. })), "{again:?}");
    assert_eq!(kinds(&s.reg).len(), 3, "two generations and one prompt edit, nothing more");
    let twice = s.record(&["swarmui.png", "swarmui.png"]);
    assert!(matches!(twice[0], Outcome::Recorded(_)) && matches!(twice[1], Outcome::AlreadyRecorded { .. }));
}

#[test]
fn a_bad_file_fails_alone() {
    let mut s = setup();
    std::fs::write(s.file("notes.png"), "not an image").unwrap();
    let out = s.record(&["notes.png", "missing.png", "a1111-txt2img.png"]);
    assert!(
        matches!(&out[0], Outcome::Failed { error, .. } if error.to_string().contains("not a PNG, JPEG or WebP"))
    );
    assert!(matches!(&out[1], Outcome::Failed { error, .. } if error.to_string().contains("missing.png")));
    assert!(matches!(&out[2], Outcome::Recorded(_)));
}

#[test]
fn select_edit_and_refusals() {
    let mut s = setup();
    s.record(&["comfyui-two-pass.png"]);
    let sel = s.reg.choose(&s.id, &s.file("comfyui-two-pass.png"), true, Some("the light"), None).unwrap();
    assert_eq!(sel.event.kind, EventKind::Selected);
    assert_eq!(sel.event.derived_from[0].relation, "candidate");
    let err = s.reg.choose(&s.id, &s.file("swarmui.png"), true, None, None).unwrap_err();
    assert!(matches!(err, RegistryError::NotRecorded(_)), "{err}");
    let edit = s
        .reg
        .edit(
            &s.id,
            &s.file("comfyui-two-pass.png"),
            &s.file("plain.png"),
            "Krita",
            Some("painted the gate"),
            None,
        )
        .unwrap();
    assert_eq!(edit.event.kind, EventKind::Edited);
    assert_eq!(edit.event.data["tool"], "Krita");
    // The edit's output can now be selected in turn.
    assert!(s.reg.choose(&s.id, &s.file("plain.png"), true, None, None).is_ok());
    let same = s.reg.edit(&s.id, &s.file("plain.png"), &s.file("plain.png"), "x", None, None).unwrap_err();
    assert!(same.to_string().contains("same file"));
    assert!(matches!(s.reg.note(&s.id, "nope", "x"), Err(RegistryError::NoProject(_))));
}

#[test]
fn an_untouched_store_verifies() {
    let mut s = setup();
    s.record(&["a1111-txt2img.png", "comfyui-basic.png"]);
    s.reg.note(&s.id, "fox", "first idea: a fox in snow").unwrap();
    assert!(s.verify_messages().is_empty(), "{:?}", s.verify_messages());
}

#[test]
fn tampering_with_the_database_is_found() {
    let mut s = setup();
    s.record(&["a1111-txt2img.png", "comfyui-basic.png", "swarmui.png"]);
    s.reg.note(&s.id, "fox", "done").unwrap();
    // Change a prompt inside a stored event.
    s.sql("UPDATE events SET bytes = CAST(replace(CAST(bytes AS TEXT), 'glass bottle', 'glass jar') AS BLOB) WHERE log_index = 2");
    let found = s.verify_messages();
    assert!(
        found.iter().any(|f| f.contains("event 2") && f.contains("signature does not match")),
        "{found:?}"
    );
    assert!(found.iter().any(|f| f.contains("history rewritten")), "{found:?}");
}

#[test]
fn a_rolled_back_store_is_found() {
    let mut s = setup();
    s.record(&["a1111-txt2img.png", "comfyui-basic.png"]);
    s.reg.note(&s.id, "fox", "done").unwrap();
    s.sql("DELETE FROM files WHERE log_index = 3; DELETE FROM events WHERE log_index = 3; DELETE FROM merkle_nodes WHERE idx = 3 AND level = 0; DELETE FROM merkle_nodes WHERE level = 1 AND idx = 1; DELETE FROM merkle_nodes WHERE level = 2;");
    let found = s.verify_messages();
    assert!(found.iter().any(|f| f.contains("rolled back")), "{found:?}");
}

#[test]
fn a_tampered_merkle_node_is_found() {
    let mut s = setup();
    s.record(&["a1111-txt2img.png", "comfyui-basic.png"]);
    s.sql("UPDATE merkle_nodes SET hash = zeroblob(32) WHERE level = 1 AND idx = 0");
    let found = s.verify_messages();
    assert!(
        found.iter().any(|f| f.contains("stored Merkle nodes do not match") && f.contains("(1, 0)")),
        "{found:?}"
    );
}

#[test]
fn an_export_verifies_with_nothing_but_itself() {
    let mut s = setup();
    s.reg.create_project("other").unwrap();
    s.record(&["a1111-txt2img.png", "comfyui-basic.png"]);
    s.reg.note(&s.id, "other", "another work, not exported").unwrap();
    s.reg.choose(&s.id, &s.file("comfyui-basic.png"), true, None, None).unwrap();
    let out = s.home.parent().unwrap().join("export");
    let m = s.reg.export(&s.id, "fox", &out).unwrap();
    assert_eq!(m.events, 4);
    let v = registry::export::verify_export(&out).unwrap();
    assert!(v.ok(), "{:?}", v.findings);
    assert_eq!((v.events, v.checkpoints), (4, 3), "one checkpoint per append: record, note, select");
    assert!(s.reg.export(&s.id, "fox", &out).unwrap_err().to_string().contains("not empty"));
    let events = std::fs::read_to_string(out.join("events.jsonl")).unwrap();
    assert!(!events.contains("another work"), "other projects stay out");
}

fn exported(s: &mut Setup) -> PathBuf {
    s.record(&["a1111-txt2img.png", "comfyui-basic.png", "swarmui.png"]);
    let out = s.home.parent().unwrap().join("export");
    s.reg.export(&s.id, "fox", &out).unwrap();
    out
}

fn export_findings(dir: &Path) -> Vec<String> {
    registry::export::verify_export(dir).unwrap().findings.into_iter().map(|f| f.message).collect()
}

#[test]
fn a_tampered_export_is_found() {
    let mut s = setup();
    let out = exported(&mut s);
    let path = out.join("events.jsonl");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replacen("purple galaxy", "purple nebula", 1)).unwrap();
    let found = export_findings(&out);
    assert!(found.iter().any(|f| f.contains("signature does not match")), "{found:?}");
    assert!(found.iter().any(|f| f.contains("not the event the log holds at position 1")), "{found:?}");
    assert!(
        found.iter().any(|f| f.contains("event 2") && f.contains("link to the previous event")),
        "{found:?}"
    );
}

#[test]
fn an_event_removed_from_an_export_is_found() {
    let mut s = setup();
    let out = exported(&mut s);
    let path = out.join("events.jsonl");
    let lines: Vec<String> = std::fs::read_to_string(&path).unwrap().lines().map(str::to_owned).collect();
    let kept: Vec<&str> =
        lines.iter().enumerate().filter(|(i, _)| *i != 1).map(|(_, l)| l.as_str()).collect();
    std::fs::write(&path, kept.join("\n") + "\n").unwrap();
    let found = export_findings(&out);
    assert!(found.iter().any(|f| f.contains("missing or out of order")), "{found:?}");
}

#[test]
fn two_writers_never_fork_the_chain() {
    let s = setup();
    let home = s.home.clone();
    let writers: Vec<_> = (0..2)
        .map(|w| {
            let home = home.clone();
            std::thread::spawn(move || {
                let mut reg = Registry::open(&home).unwrap();
                let id = reg.signer(None).unwrap();
                for i in 0..60 {
                    reg.note(&id, "fox", &format!("writer {w} note {i}")).unwrap();
                }
            })
        })
        .collect();
    writers.into_iter().for_each(|w| w.join().unwrap());
    let events = s.reg.store.events(Some("fox")).unwrap();
    assert_eq!(events.len(), 120);
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e.event.project_seq, i as u64);
    }
    assert!(s.verify_messages().is_empty(), "{:?}", s.verify_messages());
}
