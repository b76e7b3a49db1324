//! A stranger's export is hostile input: each test builds an attack on a genuine export (a
//! name put on it, its last events or checkpoints cut off, links out of the folder, special
//! files, files too large, floods of bad lines, thousands of checkpoints) and checks that
//! `verify_export` names it and never calls it verified.

use std::fs;
use std::path::{Path, PathBuf};

use registry::Registry;
use registry::export::{ExportVerification, MAX_FINDINGS, verify_export};
use registry::identity::{self, Identity};

struct Setup {
    dir: tempfile::TempDir,
    reg: Registry,
    id: Identity,
}

/// Li Wen's journal: project "fox" with `notes` notes (one append, one checkpoint each),
/// and a note in another project.
fn journal(notes: usize) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    identity::create(&home, "Li Wen", None).unwrap();
    let mut reg = Registry::open(&home).unwrap();
    let id = reg.signer(None).unwrap();
    reg.create_project("fox").unwrap();
    reg.create_project("other").unwrap();
    reg.note(&id, "other", "not exported").unwrap();
    for i in 0..notes {
        reg.note(&id, "fox", &format!("step {i}")).unwrap();
    }
    Setup { dir, reg, id }
}

impl Setup {
    /// A genuine export of "fox" in a new folder.
    fn export(&self, name: &str) -> PathBuf {
        let out = self.dir.path().join(name);
        self.reg.export(&self.id, "fox", &out).unwrap();
        out
    }

    /// Another identity's home, with its certificate and root.
    fn stranger(&self) -> PathBuf {
        let home = self.dir.path().join("stranger");
        identity::create(&home, "Greg", None).unwrap();
        home
    }
}

fn check(dir: &Path) -> ExportVerification {
    verify_export(dir).unwrap()
}

/// Asserts the export does not verify and a finding contains `needle`.
fn refused(dir: &Path, needle: &str) -> ExportVerification {
    let v = check(dir);
    assert!(!v.ok(), "verified: {v:?}");
    assert!(v.findings.iter().any(|f| f.message.contains(needle)), "no {needle:?} in {:#?}", v.findings);
    v
}

fn edit(path: &Path, f: impl FnOnce(String) -> String) {
    let text = fs::read_to_string(path).unwrap();
    fs::write(path, f(text)).unwrap();
}

fn head_lines(path: &Path, n: usize) {
    edit(path, |t| t.lines().take(n).map(|l| format!("{l}\n")).collect());
}

fn manifest(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&fs::read(dir.join("manifest.json")).unwrap()).unwrap()
}

fn set_manifest(dir: &Path, m: &serde_json::Value) {
    fs::write(dir.join("manifest.json"), serde_json::to_vec_pretty(m).unwrap()).unwrap();
}

#[test]
fn a_genuine_export_verifies_and_names_its_key_not_a_proven_name() {
    let s = journal(10);
    let out = s.export("genuine");
    let v = check(&out);
    assert!(v.ok(), "{:?}", v.findings);
    assert_eq!((v.events, v.checkpoints), (10, 11));
    assert!(v.signed && v.certificate);
    assert_eq!(v.author, "Li Wen");
    let key = s.reg.public.verifying_key().unwrap();
    assert_eq!(v.key_fingerprint, ledger::Hash::of(key.as_bytes()).to_hex());
    let m = manifest(&out);
    assert_eq!(m["format"], "handprint.export/2");
    assert_eq!(m["statement"]["format"], "handprint.export-statement/1");
    assert_eq!(m["statement"]["events"], 10);
    assert_eq!(m["statement"]["checkpoints"], 11);
}

#[test]
fn exporting_needs_the_journals_own_key() {
    let s = journal(1);
    let stranger = identity::load(&s.stranger(), None).unwrap();
    let err = s.reg.export(&stranger, "fox", &s.dir.path().join("x")).unwrap_err();
    assert!(err.to_string().contains("not the journal's"), "{err}");
}

#[test]
fn a1_a_name_put_on_an_export_does_not_verify() {
    let s = journal(10);
    // A1: every "name": "Li Wen" in manifest.json (the statement's too) and identity.json.
    let out = s.export("a1");
    for f in ["manifest.json", "identity/identity.json"] {
        edit(&out.join(f), |t| t.replace("\"name\": \"Li Wen\"", "\"name\": \"Alice Famous\""));
    }
    let v = refused(&out, "the statement's signature does not verify");
    assert!(!v.signed);

    // A1b: only the manifest's identity, the statement left alone.
    let out = s.export("a1b");
    let mut m = manifest(&out);
    m["identity"]["name"] = "Alice Famous".into();
    set_manifest(&out, &m);
    let v = refused(&out, "its identity's name is not the signed statement's");
    assert_eq!(v.author, "Li Wen", "the name shown is the signed one");

    // identity.json alone.
    let out = s.export("a1c");
    edit(&out.join("identity/identity.json"), |t| t.replace("Li Wen", "Alice Famous"));
    refused(&out, "identity/identity.json gives another name");
}

#[test]
fn a2_another_identitys_certificate_does_not_verify() {
    let s = journal(3);
    let stranger = s.stranger();
    // A2: certificate.pem and root.pem from another identity.
    let out = s.export("a2");
    for f in ["certificate.pem", "root.pem"] {
        fs::copy(stranger.join(f), out.join("identity").join(f)).unwrap();
    }
    let v = refused(&out, "the certificate is not for the journal's key");
    assert!(!v.certificate);

    // The genuine certificate under another root.
    let out = s.export("a2-root");
    fs::copy(stranger.join("root.pem"), out.join("identity/root.pem")).unwrap();
    refused(&out, "does not chain to the root");

    // A2b: garbage for the certificate, no root.
    let out = s.export("a2b");
    fs::write(out.join("identity/certificate.pem"), "garbage\n").unwrap();
    fs::remove_file(out.join("identity/root.pem")).unwrap();
    refused(&out, "identity/certificate.pem: ");
    refused(&out, "identity/root.pem:");

    // A certificate that is not X.509.
    let out = s.export("a2c");
    fs::write(
        out.join("identity/certificate.pem"),
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    refused(&out, "the certificate cannot be read");
}

#[test]
fn a3_events_cut_from_the_end_do_not_verify() {
    let s = journal(10);
    // A3: the last two events and their proofs cut, the manifest's count edited.
    let out = s.export("a3");
    head_lines(&out.join("events.jsonl"), 8);
    head_lines(&out.join("proofs.jsonl"), 8);
    edit(&out.join("manifest.json"), |t| t.replacen("\"events\": 10", "\"events\": 8", 1));
    refused(&out, "the signed statement counts 10 events, events.jsonl holds 8");
    refused(&out, "the last event in events.jsonl is not the one the signed statement names");
    refused(&out, "its event count is not the signed statement's");

    // The statement's count edited as well: its signature fails.
    edit(&out.join("manifest.json"), |t| t.replace("\"events\": 10", "\"events\": 8"));
    refused(&out, "the statement's signature does not verify");

    // A3c: only the first event kept.
    let out = s.export("a3c");
    head_lines(&out.join("events.jsonl"), 1);
    head_lines(&out.join("proofs.jsonl"), 1);
    edit(&out.join("manifest.json"), |t| t.replacen("\"events\": 10", "\"events\": 1", 1));
    let v = refused(&out, "the signed statement counts 10 events, events.jsonl holds 1");
    assert_eq!(v.events, 1);

    // A3b: the cut without editing the count.
    let out = s.export("a3b");
    head_lines(&out.join("events.jsonl"), 8);
    head_lines(&out.join("proofs.jsonl"), 8);
    refused(&out, "the signed statement counts 10 events, events.jsonl holds 8");
}

#[test]
fn a4_checkpoints_removed_do_not_verify() {
    let s = journal(10);
    // A4: every note but the head's deleted, consistency.jsonl emptied.
    let out = s.export("a4");
    let head = manifest(&out)["checkpoint"]["size"].as_u64().unwrap();
    for e in fs::read_dir(out.join("checkpoints")).unwrap() {
        let p = e.unwrap().path();
        if p.file_name().unwrap() != format!("{head}.note").as_str() {
            fs::remove_file(p).unwrap();
        }
    }
    fs::write(out.join("consistency.jsonl"), "").unwrap();
    refused(&out, "the signed statement counts 11 checkpoints, checkpoints/ holds 1");

    // A4b: all of them deleted; the manifest's note is still in manifest.json.
    let out = s.export("a4b");
    for e in fs::read_dir(out.join("checkpoints")).unwrap() {
        fs::remove_file(e.unwrap().path()).unwrap();
    }
    refused(&out, "manifest.json's checkpoint of 11 events is not among checkpoints/");
    refused(&out, "consistency proof 1 -> 2 names a checkpoint that is not in checkpoints/");

    // One consistency proof removed.
    let out = s.export("a4c");
    head_lines(&out.join("consistency.jsonl"), 5);
    refused(&out, "no consistency proof between the checkpoints of 6 and 7 events");
}

#[test]
fn the_older_unsigned_format_is_not_verified() {
    let s = journal(3);
    let out = s.export("v1");
    let mut m = manifest(&out);
    m["format"] = "handprint.export/1".into();
    let o = m.as_object_mut().unwrap();
    o.remove("statement");
    o.remove("signature");
    set_manifest(&out, &m);
    let v = refused(&out, "handprint.export/1 is the older export format, signed by nobody");
    assert!(!v.signed);
    assert_eq!(v.findings.len(), 1, "the rest of it checks out: {:?}", v.findings);

    // The current format without its statement.
    let mut m = manifest(&out);
    m["format"] = "handprint.export/2".into();
    set_manifest(&out, &m);
    refused(&out, "no signed statement");
}

#[cfg(unix)]
#[test]
fn links_out_of_the_folder_are_not_followed() {
    use std::os::unix::fs::symlink;
    let s = journal(3);
    // events.jsonl linked to a copy of itself outside the folder.
    let out = s.export("link-file");
    let outside = s.dir.path().join("outside-events.jsonl");
    fs::rename(out.join("events.jsonl"), &outside).unwrap();
    symlink(&outside, out.join("events.jsonl")).unwrap();
    refused(&out, "events.jsonl: a symbolic link");

    // The whole folder a link to a genuine export.
    let genuine = s.export("genuine");
    let link = s.dir.path().join("link-dir");
    symlink(&genuine, &link).unwrap();
    let err = verify_export(&link).unwrap_err().to_string();
    assert!(err.contains("symbolic link"), "{err}");

    // A note linked to /dev/zero, another to /etc/passwd, and identity/ as a link.
    let out = s.export("dev-zero");
    symlink("/dev/zero", out.join("checkpoints/zz.note")).unwrap();
    symlink("/etc/passwd", out.join("checkpoints/zy.note")).unwrap();
    refused(&out, "checkpoints/zz.note: a symbolic link");
    refused(&out, "checkpoints/zy.note: a symbolic link");
    let out = s.export("manifest-zero");
    fs::remove_file(out.join("manifest.json")).unwrap();
    symlink("/dev/urandom", out.join("manifest.json")).unwrap();
    refused(&out, "manifest.json: a symbolic link");
    let out = s.export("identity-link");
    fs::rename(out.join("identity"), s.dir.path().join("identity-elsewhere")).unwrap();
    symlink(s.dir.path().join("identity-elsewhere"), out.join("identity")).unwrap();
    refused(&out, "identity/: a symbolic link");
}

#[cfg(unix)]
#[test]
fn special_files_and_folders_are_findings_not_hangs_or_aborts() {
    let s = journal(3);
    // A FIFO: opening it for reading would block until a writer came.
    let out = s.export("fifo");
    let fifo = out.join("checkpoints/zz.note");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    refused(&out, "checkpoints/zz.note: not a regular file");
    let fifo = out.join("timestamps");
    fs::create_dir_all(&fifo).unwrap();
    assert!(std::process::Command::new("mkfifo").arg(fifo.join("4.tsr")).status().unwrap().success());
    refused(&out, "timestamps/4.tsr: not a regular file");

    // A folder inside checkpoints/.
    let out = s.export("folder");
    fs::create_dir(out.join("checkpoints/sub")).unwrap();
    refused(&out, "checkpoints/sub: a folder, not a checkpoint note");

    // A misnamed note.
    let out = s.export("misnamed");
    fs::rename(out.join("checkpoints/2.note"), out.join("checkpoints/9.note")).unwrap();
    refused(&out, "checkpoints/9.note: holds the checkpoint of 2 events, so is misnamed");
}

#[test]
fn files_over_their_limit_are_refused_unread() {
    let s = journal(3);
    // 600 MiB of events.jsonl, sparse: no disk and, read, 600 MiB of memory.
    let out = s.export("huge");
    let f = fs::OpenOptions::new().write(true).open(out.join("events.jsonl")).unwrap();
    f.set_len(600 << 20).unwrap();
    drop(f);
    refused(&out, "events.jsonl: 629145600 bytes: larger than the 512 MiB handprint reads");

    // A large manifest and a large note.
    let out = s.export("big-notes");
    let f = fs::OpenOptions::new().write(true).open(out.join("checkpoints/1.note")).unwrap();
    f.set_len(1 << 20).unwrap();
    drop(f);
    refused(&out, "checkpoints/1.note: 1048576 bytes: larger than the 64 KiB handprint reads");
    let f = fs::OpenOptions::new().write(true).open(out.join("manifest.json")).unwrap();
    f.set_len(2 << 20).unwrap();
    drop(f);
    refused(&out, "manifest.json: 2097152 bytes: larger than the 1 MiB handprint reads");
}

#[test]
fn blank_and_bad_lines_are_findings_and_findings_are_capped() {
    let s = journal(3);
    // A blank line (B2 appended a gigabyte of them).
    let out = s.export("blank");
    edit(&out.join("events.jsonl"), |t| t + "\n");
    refused(&out, "events.jsonl line 4: blank");

    // Thousands of bad lines: a bounded list, and checking stops there.
    let out = s.export("flood");
    edit(&out.join("events.jsonl"), |t| t + &"{}\n".repeat(5_000));
    let v = refused(&out, "events.jsonl line 4: not a signed event");
    assert_eq!(v.findings.len(), MAX_FINDINGS + 1);
    let last = &v.findings.last().unwrap().message;
    assert_eq!(last, &format!("… and more: checking stopped after the first {MAX_FINDINGS} findings"));
}

#[test]
fn thousands_of_checkpoints_verify() {
    // One consistency proof per pair of successive checkpoints, looked up (the old check
    // re-read consistency.jsonl for every pair).
    let s = journal(3_000);
    let out = s.export("many");
    let v = check(&out);
    assert!(v.ok(), "{:?}", v.findings);
    assert_eq!((v.events, v.checkpoints), (3_000, 3_001));
    // A pair's proof replaced by another pair's is found.
    edit(&out.join("consistency.jsonl"), |t| {
        let mut lines: Vec<serde_json::Value> = t.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        lines[1000]["proof"] = lines[2000]["proof"].clone();
        lines.iter().map(|l| format!("{l}\n")).collect()
    });
    refused(&out, "checkpoints of 1001 and 1002 events are not consistent");
}
