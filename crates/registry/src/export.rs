//! A project's journal as a self-contained folder that anyone can check offline with
//! `handprint verify --export DIR`, or with standard tools (see `docs/ledger.md`).
//!
//! ```text
//! DIR/manifest.json        format handprint.export/1: project, identity, the checkpoint proved against
//! DIR/events.jsonl         the project's signed events, canonical JSON, one per line, in order
//! DIR/proofs.jsonl         per event: log index, leaf hash, RFC 9162 inclusion proof
//! DIR/checkpoints/N.note   every signed checkpoint of the log up to the exported one
//! DIR/consistency.jsonl    RFC 9162 consistency proofs between successive checkpoints
//! DIR/identity/            identity.json, public-key.pem, certificate.pem, root.pem
//! DIR/timestamps/N.tsr     RFC 3161 tokens over checkpoint N (DER); roots/ the TSA roots
//! DIR/README.txt           how to verify
//! ```

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use ed25519_dalek::pkcs8::EncodePublicKey;
use ledger::checkpoint::Checkpoint;
use ledger::merkle;
use ledger::verify::{CheckpointSummary, Finding};
use ledger::{Hash, SignedEvent};
use serde::{Deserialize, Serialize};

use crate::identity::PublicIdentity;
use crate::{Registry, RegistryError};

pub const EXPORT_FORMAT: &str = "handprint.export/1";

#[derive(Debug, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub project: String,
    pub exported: String,
    pub identity: PublicIdentity,
    pub events: u64,
    /// The checkpoint every inclusion proof is against.
    pub checkpoint: ExportedCheckpoint,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExportedCheckpoint {
    pub size: u64,
    pub root: Hash,
    pub note: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Proof {
    pub log_index: u64,
    pub leaf_hash: Hash,
    pub tree_size: u64,
    pub inclusion: Vec<Hash>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Consistency {
    pub from: u64,
    pub to: u64,
    pub proof: Vec<Hash>,
}

const README: &str = "This folder is a handprint journal export: a creative project's events, signed
by their author, with proofs that they are part of the author's append-only log.

Check it with:  handprint verify --export THIS_FOLDER

Or by hand (docs/ledger.md in handprint's sources describes each step):
- events.jsonl: each line is the RFC 8785 canonical JSON of {\"event\": ..., \"signature\": ...};
  the signature is Ed25519 (identity/public-key.pem) over the canonical JSON of \"event\".
- Each event's \"prev\" is the SHA-256 of the previous line's bytes.
- proofs.jsonl: RFC 9162 inclusion proofs of SHA-256(0x00 || line) against the root in
  manifest.json's checkpoint, a C2SP signed note signed by the same key.
- consistency.jsonl: RFC 9162 consistency proofs between successive checkpoints/*.note.
";

impl Registry {
    /// Writes `project`'s export to `dir`, which must not exist or be empty. The folder is
    /// written beside `dir` and renamed into place, so it is never seen half-written.
    pub fn export(&self, project: &str, dir: &Path) -> Result<Manifest, RegistryError> {
        if dir.exists() && fs::read_dir(dir).map_err(|e| RegistryError::io(dir, e))?.next().is_some() {
            return Err(RegistryError::Invalid(format!("{} exists and is not empty", dir.display())));
        }
        if !self.store.project_exists(project)? {
            return Err(RegistryError::NoProject(project.into()));
        }
        let key = self.public.verifying_key()?;
        let notes = self.store.checkpoints()?;
        let checkpoints: Vec<(Checkpoint, String)> = notes
            .iter()
            .map(|n| Checkpoint::verify_note(n, &key).map(|c| (c, n.clone())))
            .collect::<Result<_, _>>()
            .map_err(|e| RegistryError::Store(format!("a stored checkpoint does not verify: {e}")))?;
        let Some((latest, latest_note)) = checkpoints.last().cloned() else {
            return Err(RegistryError::Invalid(format!("project {project:?} has no events yet")));
        };
        let events = self.store.events(Some(project))?;
        let events: Vec<SignedEvent> =
            events.into_iter().filter(|e| e.event.log_index < latest.size).collect();
        let tmp = dir.with_file_name(format!(
            ".{}.partial-{}",
            dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
            std::process::id()
        ));
        let _ = fs::remove_dir_all(&tmp);
        let write = |rel: &str, data: &[u8]| -> Result<(), RegistryError> {
            let path = tmp.join(rel);
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent).map_err(|e| RegistryError::io(parent, e))?;
            }
            fs::write(&path, data).map_err(|e| RegistryError::io(&path, e))
        };
        let mut lines = Vec::new();
        let mut proofs = Vec::new();
        for e in &events {
            let bytes = e.to_bytes();
            proofs.push(
                serde_json::to_string(&Proof {
                    log_index: e.event.log_index,
                    leaf_hash: merkle::leaf_hash(&bytes),
                    tree_size: latest.size,
                    inclusion: self.store.inclusion_proof(e.event.log_index, latest.size)?,
                })
                .expect("plain struct"),
            );
            lines.push(String::from_utf8(bytes).expect("canonical JSON is UTF-8"));
        }
        write("events.jsonl", (lines.join("\n") + "\n").as_bytes())?;
        write("proofs.jsonl", (proofs.join("\n") + "\n").as_bytes())?;
        let mut consistency = Vec::new();
        for pair in checkpoints.windows(2) {
            let (a, b) = (&pair[0].0, &pair[1].0);
            consistency.push(
                serde_json::to_string(&Consistency {
                    from: a.size,
                    to: b.size,
                    proof: self.store.consistency_proof(a.size, b.size)?,
                })
                .expect("plain struct"),
            );
        }
        write("consistency.jsonl", (consistency.join("\n") + "\n").as_bytes())?;
        for (c, note) in &checkpoints {
            write(&format!("checkpoints/{}.note", c.size), note.as_bytes())?;
        }
        for name in ["identity.json", "certificate.pem", "root.pem"] {
            let src = self.home.join(name);
            let data = fs::read(&src).map_err(|e| RegistryError::io(&src, e))?;
            write(&format!("identity/{name}"), &data)?;
        }
        let spki = key
            .to_public_key_pem(pkcs8::LineEnding::LF)
            .map_err(|e| RegistryError::Identity(e.to_string()))?;
        write("identity/public-key.pem", spki.as_bytes())?;
        for t in self.store.timestamps()? {
            if t.size <= latest.size {
                write(&format!("timestamps/{}.tsr", t.size), &t.token)?;
            }
        }
        if let Ok(entries) = fs::read_dir(self.tsa_roots_dir()) {
            for e in entries.flatten() {
                let data = fs::read(e.path()).map_err(|err| RegistryError::io(&e.path(), err))?;
                write(&format!("timestamps/roots/{}", e.file_name().to_string_lossy()), &data)?;
            }
        }
        write("README.txt", README.as_bytes())?;
        let manifest = Manifest {
            format: EXPORT_FORMAT.into(),
            project: project.into(),
            exported: ledger::event::now(),
            identity: self.public.clone(),
            events: events.len() as u64,
            checkpoint: ExportedCheckpoint { size: latest.size, root: latest.root, note: latest_note },
        };
        write("manifest.json", &serde_json::to_vec_pretty(&manifest).expect("plain struct"))?;
        if dir.exists() {
            fs::remove_dir(dir).map_err(|e| RegistryError::io(dir, e))?;
        }
        fs::rename(&tmp, dir).map_err(|e| RegistryError::io(dir, e))?;
        Ok(manifest)
    }
}

/// The outcome of checking an export folder.
#[derive(Debug, Serialize)]
pub struct ExportVerification {
    pub project: String,
    pub author: String,
    pub events: u64,
    pub checkpoint: Option<CheckpointSummary>,
    pub checkpoints: usize,
    /// RFC 3161 timestamps, verified against the TSA roots shipped in the export: whoever
    /// relies on them must also accept those roots (their fingerprints are listed).
    pub timestamps: Vec<ledger::timestamp::Stamp>,
    pub tsa_roots: Vec<String>,
    pub findings: Vec<Finding>,
}

impl ExportVerification {
    pub fn ok(&self) -> bool {
        self.findings.is_empty()
    }
}

fn read(dir: &Path, rel: &str) -> Result<Vec<u8>, RegistryError> {
    let path = dir.join(rel);
    fs::read(&path).map_err(|e| RegistryError::io(&path, e))
}

fn jsonl<T: for<'de> Deserialize<'de>>(dir: &Path, rel: &str) -> Result<Vec<T>, RegistryError> {
    let text = String::from_utf8(read(dir, rel)?)
        .map_err(|_| RegistryError::File { path: dir.join(rel), message: "not UTF-8".into() })?;
    text.lines()
        .filter(|l| !l.is_empty())
        .enumerate()
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|e| RegistryError::File {
                path: dir.join(rel),
                message: format!("line {}: {e}", i + 1),
            })
        })
        .collect()
}

/// Checks an export folder with nothing but its contents.
pub fn verify_export(dir: &Path) -> Result<ExportVerification, RegistryError> {
    let manifest: Manifest = serde_json::from_slice(&read(dir, "manifest.json")?)
        .map_err(|e| RegistryError::File { path: dir.join("manifest.json"), message: e.to_string() })?;
    if manifest.format != EXPORT_FORMAT {
        return Err(RegistryError::Invalid(format!(
            "{}: format {:?} is not {EXPORT_FORMAT}",
            dir.display(),
            manifest.format
        )));
    }
    let key = manifest.identity.verifying_key()?;
    let mut findings = Vec::new();
    let mut finding = |i: Option<u64>, m: String| findings.push(Finding { log_index: i, message: m });
    let identity: PublicIdentity =
        serde_json::from_slice(&read(dir, "identity/identity.json")?).map_err(|e| RegistryError::File {
            path: dir.join("identity/identity.json"),
            message: e.to_string(),
        })?;
    if identity.public_key != manifest.identity.public_key {
        finding(None, "identity/identity.json names another key than manifest.json".into());
    }
    let spki = String::from_utf8_lossy(&read(dir, "identity/public-key.pem")?).into_owned();
    let expected_spki = key.to_public_key_pem(pkcs8::LineEnding::LF).unwrap_or_default();
    if spki.trim() != expected_spki.trim() {
        finding(None, "identity/public-key.pem is not the manifest's key".into());
    }

    // Checkpoints: every note must verify; the manifest's must be among them.
    let mut checkpoints: Vec<Checkpoint> = Vec::new();
    let cp_dir = dir.join("checkpoints");
    let mut entries: Vec<PathBuf> = fs::read_dir(&cp_dir)
        .map_err(|e| RegistryError::io(&cp_dir, e))?
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for path in entries {
        let note = fs::read_to_string(&path).map_err(|e| RegistryError::io(&path, e))?;
        match Checkpoint::verify_note(&note, &key) {
            Ok(c) => checkpoints.push(c),
            Err(e) => finding(None, format!("{}: {e}", path.display())),
        }
    }
    checkpoints.sort_by_key(|c| c.size);
    let head = match Checkpoint::verify_note(&manifest.checkpoint.note, &key) {
        Ok(c) if c.size == manifest.checkpoint.size && c.root == manifest.checkpoint.root => Some(c),
        Ok(_) => {
            finding(None, "manifest.json's checkpoint size or root differs from its signed note".into());
            None
        }
        Err(e) => {
            finding(None, format!("manifest.json: {e}"));
            None
        }
    };
    let by_size: HashMap<u64, &Checkpoint> = checkpoints.iter().map(|c| (c.size, c)).collect();
    for c in jsonl::<Consistency>(dir, "consistency.jsonl")? {
        match (by_size.get(&c.from), by_size.get(&c.to)) {
            (Some(a), Some(b)) if merkle::verify_consistency(a.size, b.size, &a.root, &b.root, &c.proof) => {}
            (Some(_), Some(_)) => finding(
                None,
                format!(
                    "checkpoints of {} and {} events are not consistent (the log was rewritten between them)",
                    c.from, c.to
                ),
            ),
            _ => finding(
                None,
                format!(
                    "consistency proof {} -> {} names a checkpoint that is not in checkpoints/",
                    c.from, c.to
                ),
            ),
        }
    }
    for pair in checkpoints.windows(2) {
        let (a, b) = (pair[0].size, pair[1].size);
        if !jsonl::<Consistency>(dir, "consistency.jsonl")?.iter().any(|c| c.from == a && c.to == b) {
            finding(None, format!("no consistency proof between the checkpoints of {a} and {b} events"));
        }
    }

    // Events: canonical, signed, chained from the project's first event; each proved in the head.
    let text = String::from_utf8(read(dir, "events.jsonl")?)
        .map_err(|_| RegistryError::File { path: dir.join("events.jsonl"), message: "not UTF-8".into() })?;
    let proofs = jsonl::<Proof>(dir, "proofs.jsonl")?;
    let mut prev: Option<(u64, Hash)> = None;
    let mut count = 0u64;
    let lines: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
    if lines.len() != proofs.len() {
        finding(None, format!("{} events but {} proofs", lines.len(), proofs.len()));
    }
    for (n, line) in lines.iter().enumerate() {
        count += 1;
        let bytes = line.as_bytes();
        let e = match SignedEvent::from_bytes(bytes) {
            Ok(e) => e,
            Err(err) => {
                finding(None, format!("events.jsonl line {}: {err}", n + 1));
                continue;
            }
        };
        let i = e.event.log_index;
        let name =
            format!("event {i} ({} #{}, {})", e.event.project, e.event.project_seq, e.event.kind.as_str());
        if e.event.project != manifest.project {
            finding(Some(i), format!("{name}: belongs to another project than {:?}", manifest.project));
        }
        if let Err(err) = e.verify(&key) {
            finding(Some(i), format!("{name}: {err}"));
        }
        let expected_seq = prev.map_or(0, |(s, _)| s + 1);
        if e.event.project_seq != expected_seq {
            finding(
                Some(i),
                format!(
                    "{name}: expected #{expected_seq}: an event of the project is missing or out of order"
                ),
            );
        } else if e.event.prev != prev.map(|(_, h)| h) {
            finding(
                Some(i),
                format!("{name}: its link to the previous event does not match that event's hash"),
            );
        }
        prev = Some((e.event.project_seq, Hash::of(bytes)));
        let leaf = merkle::leaf_hash(bytes);
        match (proofs.get(n), &head) {
            (Some(p), Some(h)) => {
                if p.log_index != i || p.tree_size != h.size {
                    finding(Some(i), format!("{name}: its proof is for another position or tree"));
                } else if p.leaf_hash != leaf {
                    finding(
                        Some(i),
                        format!(
                            "{name}: not the event the log holds at position {i} (its bytes were altered)"
                        ),
                    );
                } else if !merkle::verify_inclusion(&leaf, i, h.size, &p.inclusion, &h.root) {
                    finding(
                        Some(i),
                        format!("{name}: not included in the log of {} events signed at {}", h.size, h.time),
                    );
                }
            }
            (None, _) => finding(Some(i), format!("{name}: no inclusion proof")),
            (_, None) => {}
        }
    }
    // Timestamps: each token over the note of the checkpoint it names.
    let roots = crate::timestamps::read_roots(&dir.join("timestamps/roots"))?;
    let tsa_roots: Vec<String> = roots.iter().map(|r| format!("SHA-256 {}", Hash::of(r))).collect();
    let mut timestamps = Vec::new();
    let mut tokens: Vec<PathBuf> = fs::read_dir(dir.join("timestamps"))
        .map(|d| {
            d.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "tsr")).collect()
        })
        .unwrap_or_default();
    tokens.sort();
    for path in tokens {
        let size: Option<u64> = path.file_stem().and_then(|s| s.to_str()).and_then(|s| s.parse().ok());
        let note = size.and_then(|n| fs::read_to_string(dir.join(format!("checkpoints/{n}.note"))).ok());
        let Some(note) = note else {
            finding(None, format!("{}: no checkpoint it could be for", path.display()));
            continue;
        };
        let token = fs::read(&path).map_err(|e| RegistryError::io(&path, e))?;
        match ledger::timestamp::verify(&token, note.as_bytes(), &roots) {
            Ok(stamp) => timestamps.push(stamp),
            Err(e) => finding(None, format!("timestamp {}: {e}", path.display())),
        }
    }
    if count != manifest.events {
        finding(None, format!("manifest.json says {} events, events.jsonl holds {count}", manifest.events));
    }
    Ok(ExportVerification {
        project: manifest.project,
        author: manifest.identity.name,
        events: count,
        checkpoint: head.map(|c| CheckpointSummary { size: c.size, root: c.root, time: c.time }),
        checkpoints: checkpoints.len(),
        timestamps,
        tsa_roots,
        findings,
    })
}
