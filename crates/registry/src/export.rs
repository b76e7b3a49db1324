//! A project's journal as a self-contained folder that anyone can check offline with
//! `handprint verify --export DIR`, or with standard tools (see `docs/ledger.md`).
//!
//! ```text
//! DIR/manifest.json        format handprint.export/2: project, identity, the checkpoint proved
//!                          against, and the statement of all that signed by the journal's key
//! DIR/events.jsonl         the project's signed events, canonical JSON, one per line, in order
//! DIR/proofs.jsonl         per event: log index, leaf hash, RFC 9162 inclusion proof
//! DIR/checkpoints/N.note   every signed checkpoint of the log up to the exported one
//! DIR/consistency.jsonl    RFC 9162 consistency proofs between successive checkpoints
//! DIR/identity/            identity.json, public-key.pem, certificate.pem, root.pem
//! DIR/timestamps/N.tsr     RFC 3161 tokens over checkpoint N (DER); roots/ the TSA roots
//! DIR/README.txt           how to verify
//! ```
//!
//! An export comes from someone else, so [`verify_export`] reads it defensively: regular
//! files only, never through a symbolic link, each under a size limit, the long files a line
//! at a time, and at most [`MAX_FINDINGS`] findings kept.

use std::collections::{HashMap, HashSet};
use std::fs::{self, File};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use ed25519_dalek::VerifyingKey;
use ed25519_dalek::pkcs8::EncodePublicKey;
use ledger::checkpoint::Checkpoint;
use ledger::merkle;
use ledger::statement::{STATEMENT_FORMAT, StatedCheckpoint, Statement, key_fingerprint};
use ledger::verify::{CheckpointSummary, Finding};
use ledger::{Hash, SignedEvent};
use serde::{Deserialize, Serialize};

use crate::identity::{Identity, PublicIdentity};
use crate::{Registry, RegistryError};

pub const EXPORT_FORMAT: &str = "handprint.export/2";
/// The first format, whose manifest nobody signed: its event count and name could be edited
/// and its last events cut off unseen. It is no longer accepted as verified.
pub const UNSIGNED_EXPORT_FORMAT: &str = "handprint.export/1";

/// The largest files [`verify_export`] reads.
pub const MANIFEST_LIMIT: u64 = 1 << 20;
pub const EVENTS_LIMIT: u64 = 512 << 20;
pub const PROOFS_LIMIT: u64 = 512 << 20;
pub const CONSISTENCY_LIMIT: u64 = 512 << 20;
pub const NOTE_LIMIT: u64 = 64 << 10;
pub const IDENTITY_LIMIT: u64 = 64 << 10;
pub const TOKEN_LIMIT: u64 = 1 << 20;
/// Findings kept; past them only a count is.
pub const MAX_FINDINGS: usize = 200;

#[derive(Debug, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub project: String,
    pub exported: String,
    pub identity: PublicIdentity,
    pub events: u64,
    /// The checkpoint every inclusion proof is against.
    pub checkpoint: ExportedCheckpoint,
    /// What the export holds, signed by the journal's key (absent in `handprint.export/1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statement: Option<Statement>,
    /// Ed25519 over the statement's RFC 8785 canonical JSON, base64.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
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
by their author's key, with proofs that they are part of that key's append-only log.

Check it with:  handprint verify --export THIS_FOLDER

What is verified is the key (its SHA-256 fingerprint is printed); the name is what the key's
holder claims. The certificate in identity/ is issued by a root its holder made, so it
proves no name either: compare the fingerprint with one the author gave you.

Or by hand (docs/ledger.md in handprint's sources describes each step):
- manifest.json: \"statement\" (project, name, key, number of events, hash of the last one,
  the checkpoint, the number of checkpoints and timestamps) is signed with Ed25519
  (identity/public-key.pem) over its RFC 8785 canonical JSON; \"signature\" is base64.
- events.jsonl: each line is the RFC 8785 canonical JSON of {\"event\": ..., \"signature\": ...};
  the signature is Ed25519 (identity/public-key.pem) over the canonical JSON of \"event\".
- Each event's \"prev\" is the SHA-256 of the previous line's bytes; the last line's is the
  statement's \"head\".
- proofs.jsonl: RFC 9162 inclusion proofs of SHA-256(0x00 || line) against the root in
  manifest.json's checkpoint, a C2SP signed note signed by the same key.
- consistency.jsonl: RFC 9162 consistency proofs between successive checkpoints/*.note.
";

impl Registry {
    /// Writes `project`'s export to `dir`, which must not exist or be empty, and signs its
    /// statement with `signer`, the journal's identity. The folder is written beside `dir`
    /// and renamed into place, so it is never seen half-written.
    pub fn export(&self, signer: &Identity, project: &str, dir: &Path) -> Result<Manifest, RegistryError> {
        if dir.exists() && fs::read_dir(dir).map_err(|e| RegistryError::io(dir, e))?.next().is_some() {
            return Err(RegistryError::Invalid(format!("{} exists and is not empty", dir.display())));
        }
        if !self.store.project_exists(project)? {
            return Err(RegistryError::NoProject(project.into()));
        }
        let key = self.public.verifying_key()?;
        if signer.key.verifying_key() != key {
            return Err(RegistryError::Identity(
                "the signing key is not the journal's (identity.json names another)".into(),
            ));
        }
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
        write("events.jsonl", jsonl(&lines).as_bytes())?;
        write("proofs.jsonl", jsonl(&proofs).as_bytes())?;
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
        write("consistency.jsonl", jsonl(&consistency).as_bytes())?;
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
        let mut timestamps = 0;
        for t in self.store.timestamps()? {
            if t.size <= latest.size {
                write(&format!("timestamps/{}.tsr", t.size), &t.token)?;
                timestamps += 1;
            }
        }
        if let Ok(entries) = fs::read_dir(self.tsa_roots_dir()) {
            for e in entries.flatten() {
                let data = fs::read(e.path()).map_err(|err| RegistryError::io(&e.path(), err))?;
                write(&format!("timestamps/roots/{}", e.file_name().to_string_lossy()), &data)?;
            }
        }
        write("README.txt", README.as_bytes())?;
        let exported = ledger::event::now();
        let statement = Statement {
            format: STATEMENT_FORMAT.into(),
            project: project.into(),
            name: self.public.name.clone(),
            public_key: self.public.public_key.clone(),
            events: events.len() as u64,
            head: events.last().map(SignedEvent::hash),
            checkpoint: StatedCheckpoint { size: latest.size, root: latest.root },
            checkpoints: checkpoints.len() as u64,
            timestamps,
            exported: exported.clone(),
        };
        let signature = statement.sign(&signer.key);
        let manifest = Manifest {
            format: EXPORT_FORMAT.into(),
            project: project.into(),
            exported,
            identity: self.public.clone(),
            events: events.len() as u64,
            checkpoint: ExportedCheckpoint { size: latest.size, root: latest.root, note: latest_note },
            statement: Some(statement),
            signature: Some(signature),
        };
        write("manifest.json", &serde_json::to_vec_pretty(&manifest).expect("plain struct"))?;
        if dir.exists() {
            fs::remove_dir(dir).map_err(|e| RegistryError::io(dir, e))?;
        }
        fs::rename(&tmp, dir).map_err(|e| RegistryError::io(dir, e))?;
        Ok(manifest)
    }
}

/// Lines, each ending in a newline (none at all for no lines).
fn jsonl(lines: &[String]) -> String {
    lines.iter().flat_map(|l| [l.as_str(), "\n"]).collect()
}

/// The outcome of checking an export folder.
#[derive(Debug, Serialize)]
pub struct ExportVerification {
    pub project: String,
    /// The name the export gives its author. It is signed by the key (in the statement) but
    /// proven by nothing: whoever holds a key can claim any name. Print it as claimed.
    pub author: String,
    /// The journal's Ed25519 public key, base64: what every signature was checked against.
    pub public_key: String,
    /// SHA-256 of the key's 32 raw bytes, hex: what was verified, to compare with a
    /// fingerprint the author gave by other means.
    pub key_fingerprint: String,
    /// Whether the manifest's statement is signed by the key (never for the older format).
    pub signed: bool,
    /// Whether identity/certificate.pem holds the key and identity/root.pem issued it.
    pub certificate: bool,
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

/// Findings, at most [`MAX_FINDINGS`] of them; once there are that many, checking stops
/// (the export has failed already, and a flood of bad lines should cost no more time).
#[derive(Default)]
struct Findings {
    kept: Vec<Finding>,
    more: bool,
}

impl Findings {
    fn add(&mut self, log_index: Option<u64>, message: String) {
        if self.kept.len() < MAX_FINDINGS {
            self.kept.push(Finding { log_index, message });
        } else {
            self.more = true;
        }
    }

    /// Whether no more findings are kept: the caller stops checking.
    fn full(&mut self) -> bool {
        let full = self.kept.len() >= MAX_FINDINGS;
        self.more |= full;
        full
    }

    fn note(&mut self, message: String) {
        self.add(None, message);
    }

    fn done(mut self) -> Vec<Finding> {
        if self.more {
            self.kept.push(Finding {
                log_index: None,
                message: format!("… and more: checking stopped after the first {MAX_FINDINGS} findings"),
            });
        }
        self.kept
    }
}

fn shown(limit: u64) -> String {
    if limit >= 1 << 20 { format!("{} MiB", limit >> 20) } else { format!("{} KiB", limit >> 10) }
}

/// Opens `dir/rel` if it is a regular file of at most `limit` bytes, reached without a
/// symbolic link in the export (its last component is never followed, nor its folder's:
/// the folders are checked by [`real_dir`]). The handle is checked to be the file that was
/// looked at, so a swap between the two is refused. The reader stops past `limit`, should
/// the file grow.
fn open_regular(dir: &Path, rel: &str, limit: u64) -> Result<std::io::Take<File>, String> {
    let path = dir.join(rel);
    let meta = fs::symlink_metadata(&path).map_err(|e| e.to_string())?;
    if meta.file_type().is_symlink() {
        return Err("a symbolic link: an export is read only from its own regular files".into());
    }
    if !meta.is_file() {
        return Err(if meta.is_dir() { "a folder, not a file".into() } else { "not a regular file".into() });
    }
    if meta.len() > limit {
        return Err(format!("{} bytes: larger than the {} handprint reads", meta.len(), shown(limit)));
    }
    // Never through a link, and never waiting on a FIFO swapped in after the check above.
    let mut options = fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NOFOLLOW | libc::O_NONBLOCK);
    let file = options.open(&path).map_err(|e| e.to_string())?;
    let opened = file.metadata().map_err(|e| e.to_string())?;
    #[cfg(unix)]
    let same = {
        use std::os::unix::fs::MetadataExt;
        opened.dev() == meta.dev() && opened.ino() == meta.ino()
    };
    #[cfg(not(unix))]
    let same = true;
    if !same || !opened.is_file() {
        return Err("replaced while it was being opened".into());
    }
    Ok(file.take(limit + 1))
}

/// The whole of a small file (see [`open_regular`]).
fn read_small(dir: &Path, rel: &str, limit: u64) -> Result<Vec<u8>, String> {
    let mut data = Vec::new();
    open_regular(dir, rel, limit)?.read_to_end(&mut data).map_err(|e| e.to_string())?;
    if data.len() as u64 > limit {
        return Err(format!("larger than the {} handprint reads", shown(limit)));
    }
    Ok(data)
}

/// Whether `dir/rel` is a real folder (not a symbolic link to one); `Ok(false)` if absent.
fn real_dir(dir: &Path, rel: &str) -> Result<bool, String> {
    match fs::symlink_metadata(dir.join(rel)) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e.to_string()),
        Ok(m) if m.file_type().is_symlink() => {
            Err("a symbolic link: an export is read only from its own folders".into())
        }
        Ok(m) if m.is_dir() => Ok(true),
        Ok(_) => Err("not a folder".into()),
    }
}

/// The names in the real folder `dir/rel`, sorted, each with whether it is a folder.
fn list(dir: &Path, rel: &str) -> Result<Vec<(String, bool)>, String> {
    let mut names = Vec::new();
    for entry in fs::read_dir(dir.join(rel)).map_err(|e| e.to_string())? {
        let entry = entry.map_err(|e| e.to_string())?;
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        names.push((entry.file_name().to_string_lossy().into_owned(), is_dir));
    }
    names.sort();
    Ok(names)
}

/// A file read a line at a time: each line without its `\n` (nor a `\r` before it).
struct Lines {
    rel: &'static str,
    limit: u64,
    reader: Option<BufReader<std::io::Take<File>>>,
    line: Vec<u8>,
    number: u64,
    /// Bytes read so far, to notice a file that grew past its limit.
    read: u64,
}

impl Lines {
    fn open(dir: &Path, rel: &'static str, limit: u64, findings: &mut Findings) -> Lines {
        let reader = match open_regular(dir, rel, limit) {
            Ok(f) => Some(BufReader::new(f)),
            Err(e) => {
                findings.note(format!("{rel}: {e}"));
                None
            }
        };
        Lines { rel, limit, reader, line: Vec::new(), number: 0, read: 0 }
    }

    /// The next line and its number, or `None` at the end (or after a read error, which is
    /// a finding).
    fn next(&mut self, findings: &mut Findings) -> Option<(u64, &[u8])> {
        let reader = self.reader.as_mut()?;
        self.line.clear();
        match reader.read_until(b'\n', &mut self.line) {
            Ok(0) => {
                self.reader = None;
                None
            }
            Ok(n) => {
                self.read += n as u64;
                if self.read > self.limit {
                    findings.note(format!(
                        "{}: larger than the {} handprint reads",
                        self.rel,
                        shown(self.limit)
                    ));
                    self.reader = None;
                    return None;
                }
                self.number += 1;
                let mut line = &self.line[..];
                line = line.strip_suffix(b"\n").unwrap_or(line);
                line = line.strip_suffix(b"\r").unwrap_or(line);
                Some((self.number, line))
            }
            Err(e) => {
                findings.note(format!("{}: line {}: {e}", self.rel, self.number + 1));
                self.reader = None;
                None
            }
        }
    }
}

/// Checks an export folder with nothing but its contents.
///
/// The folder itself must be a real folder; anything wrong inside it, down to a missing or
/// unreadable `manifest.json`, is a finding.
pub fn verify_export(dir: &Path) -> Result<ExportVerification, RegistryError> {
    let meta = fs::symlink_metadata(dir).map_err(|e| RegistryError::io(dir, e))?;
    if meta.file_type().is_symlink() {
        return Err(RegistryError::File {
            path: dir.into(),
            message: "a symbolic link: give the export's folder itself".into(),
        });
    }
    if !meta.is_dir() {
        return Err(RegistryError::File { path: dir.into(), message: "not a folder".into() });
    }
    let mut f = Findings::default();
    let mut out = ExportVerification {
        project: String::new(),
        author: String::new(),
        public_key: String::new(),
        key_fingerprint: String::new(),
        signed: false,
        certificate: false,
        events: 0,
        checkpoint: None,
        checkpoints: 0,
        timestamps: Vec::new(),
        tsa_roots: Vec::new(),
        findings: Vec::new(),
    };
    let manifest = read_small(dir, "manifest.json", MANIFEST_LIMIT)
        .and_then(|b| serde_json::from_slice::<Manifest>(&b).map_err(|e| e.to_string()));
    let manifest = match manifest {
        Ok(m) => m,
        Err(e) => {
            f.note(format!("manifest.json: {e}"));
            out.findings = f.done();
            return Ok(out);
        }
    };
    if manifest.format != EXPORT_FORMAT && manifest.format != UNSIGNED_EXPORT_FORMAT {
        return Err(RegistryError::Invalid(format!(
            "{}: format {:?} is not {EXPORT_FORMAT}",
            dir.display(),
            manifest.format
        )));
    }
    out.project = manifest.project.clone();
    out.author = manifest.identity.name.clone();
    out.public_key = manifest.identity.public_key.clone();
    let key = match manifest.identity.verifying_key() {
        Ok(k) => k,
        Err(_) => {
            f.note("manifest.json: its identity's public_key is not an Ed25519 key".into());
            out.findings = f.done();
            return Ok(out);
        }
    };
    out.key_fingerprint = key_fingerprint(&key);

    // The statement: signed by the key, and what the rest of the manifest says.
    let stated = statement(&manifest, &key, &mut f);
    out.signed = stated.is_some();
    if let Some(s) = stated {
        out.project = s.project.clone();
        out.author = s.name.clone();
    }
    check_identity(dir, &manifest, &key, &out.author, &mut f, &mut out.certificate);

    // Checkpoints: every note verifies; the manifest's is among them, the last; each
    // successive pair is proved consistent.
    let checkpoints = read_checkpoints(dir, &key, &mut f);
    out.checkpoints = checkpoints.len();
    let head = match Checkpoint::verify_note(&manifest.checkpoint.note, &key) {
        Ok(c) if c.size == manifest.checkpoint.size && c.root == manifest.checkpoint.root => Some(c),
        Ok(_) => {
            f.note("manifest.json's checkpoint size or root differs from its signed note".into());
            None
        }
        Err(e) => {
            f.note(format!("manifest.json: {e}"));
            None
        }
    };
    let head_size = manifest.checkpoint.size;
    match checkpoints.iter().find(|c| c.size == head_size) {
        Some(c) if c.root == manifest.checkpoint.root => {}
        Some(_) => f.note(format!("checkpoints/{head_size}.note differs from manifest.json's checkpoint")),
        None => f.note(format!(
            "manifest.json's checkpoint of {head_size} events is not among checkpoints/ (they were removed)"
        )),
    }
    if let Some(last) = checkpoints.last().filter(|c| c.size > head_size) {
        f.note(format!(
            "checkpoints/ holds a checkpoint of {} events, later than manifest.json's of {head_size}",
            last.size
        ));
    }
    if let Some(s) = stated
        && s.checkpoints != checkpoints.len() as u64
    {
        f.note(format!(
            "the signed statement counts {} checkpoints, checkpoints/ holds {} (some were removed or added)",
            s.checkpoints,
            checkpoints.len()
        ));
    }
    check_consistency(dir, &checkpoints, &mut f);

    // Events: canonical, signed, chained from the project's first event; each proved in the
    // head; the last one the statement's.
    let (count, last) = check_events(dir, &key, &out.project, head.as_ref(), &mut f);
    out.events = count;
    match stated {
        Some(s) => {
            if s.events != count {
                f.note(format!(
                    "the signed statement counts {} events, events.jsonl holds {count} (events were cut or added)",
                    s.events
                ));
            }
            if s.head != last {
                f.note(
                    "the last event in events.jsonl is not the one the signed statement names (the project's \
                     last events were cut off or replaced)"
                        .into(),
                );
            }
        }
        None if count != manifest.events => {
            f.note(format!("manifest.json says {} events, events.jsonl holds {count}", manifest.events))
        }
        None => {}
    }

    // Timestamps: each token over the note of the checkpoint it names.
    let (stamps, roots, tokens) = check_timestamps(dir, &mut f);
    out.timestamps = stamps;
    out.tsa_roots = roots;
    if let Some(s) = stated
        && s.timestamps != tokens
    {
        f.note(format!(
            "the signed statement counts {} timestamps, timestamps/ holds {tokens} (some were removed or added)",
            s.timestamps
        ));
    }
    out.checkpoint = head.map(|c| CheckpointSummary { size: c.size, root: c.root, time: c.time });
    out.findings = f.done();
    Ok(out)
}

/// The manifest's statement if its signature by `key` verifies and the rest of the manifest
/// agrees with it; findings otherwise.
fn statement<'a>(manifest: &'a Manifest, key: &VerifyingKey, f: &mut Findings) -> Option<&'a Statement> {
    if manifest.format == UNSIGNED_EXPORT_FORMAT {
        f.note(format!(
            "manifest.json: {UNSIGNED_EXPORT_FORMAT} is the older export format, signed by nobody: its name, \
             event count and checkpoints could be edited and its last events cut off unseen; export the \
             project again"
        ));
        return None;
    }
    let (Some(s), Some(signature)) = (&manifest.statement, &manifest.signature) else {
        f.note("manifest.json: no signed statement".into());
        return None;
    };
    if let Err(e) = s.verify(signature, key) {
        f.note(format!(
            "manifest.json: the statement's signature does not verify with the export's key ({e}): it was \
             altered"
        ));
        return None;
    }
    let c = &manifest.checkpoint;
    for (what, same) in [
        ("project", s.project == manifest.project),
        ("identity's name", s.name == manifest.identity.name),
        ("event count", s.events == manifest.events),
        ("checkpoint", s.checkpoint.size == c.size && s.checkpoint.root == c.root),
        ("export time", s.exported == manifest.exported),
    ] {
        if !same {
            f.note(format!("manifest.json: its {what} is not the signed statement's"));
        }
    }
    Some(s)
}

/// identity/: identity.json and public-key.pem name the key (and the name); certificate.pem
/// holds the key and root.pem issued it.
fn check_identity(
    dir: &Path,
    manifest: &Manifest,
    key: &VerifyingKey,
    name: &str,
    f: &mut Findings,
    certified: &mut bool,
) {
    if let Err(e) = real_dir(dir, "identity").and_then(|d| if d { Ok(()) } else { Err("missing".into()) }) {
        f.note(format!("identity/: {e}"));
        return;
    }
    match read_small(dir, "identity/identity.json", IDENTITY_LIMIT)
        .and_then(|b| serde_json::from_slice::<PublicIdentity>(&b).map_err(|e| e.to_string()))
    {
        Ok(identity) if identity.public_key != manifest.identity.public_key => {
            f.note("identity/identity.json names another key than manifest.json".into())
        }
        Ok(identity) if identity.name != name => {
            f.note("identity/identity.json gives another name than the signed statement".into())
        }
        Ok(_) => {}
        Err(e) => f.note(format!("identity/identity.json: {e}")),
    }
    let expected_spki = key.to_public_key_pem(pkcs8::LineEnding::LF).unwrap_or_default();
    match read_small(dir, "identity/public-key.pem", IDENTITY_LIMIT) {
        Ok(spki) if String::from_utf8_lossy(&spki).trim() == expected_spki.trim() => {}
        Ok(_) => f.note("identity/public-key.pem is not the manifest's key".into()),
        Err(e) => f.note(format!("identity/public-key.pem: {e}")),
    }
    let first_certificate = |rel: &str| -> Result<Vec<u8>, String> {
        let bytes = read_small(dir, rel, IDENTITY_LIMIT)?;
        crate::timestamps::certificates_in(&bytes)?.into_iter().next().ok_or_else(|| "no certificate".into())
    };
    match (first_certificate("identity/certificate.pem"), first_certificate("identity/root.pem")) {
        (Ok(cert), Ok(root)) => match ledger::certificate::check_pair(&cert, &root, key) {
            Ok(()) => *certified = true,
            Err(e) => f.note(format!("identity/certificate.pem and root.pem: {e}")),
        },
        (cert, root) => {
            for (rel, r) in [("identity/certificate.pem", cert), ("identity/root.pem", root)] {
                if let Err(e) = r {
                    f.note(format!("{rel}: {e}"));
                }
            }
        }
    }
}

/// The checkpoints in checkpoints/ whose signature verifies, by size; each file must be
/// `<size>.note`.
fn read_checkpoints(dir: &Path, key: &VerifyingKey, f: &mut Findings) -> Vec<Checkpoint> {
    let mut checkpoints = Vec::new();
    let names = match real_dir(dir, "checkpoints") {
        Ok(true) => list(dir, "checkpoints"),
        Ok(false) => Err("missing".into()),
        Err(e) => Err(e),
    };
    let names = match names {
        Ok(n) => n,
        Err(e) => {
            f.note(format!("checkpoints/: {e}"));
            return checkpoints;
        }
    };
    for (name, is_dir) in names {
        if f.full() {
            break;
        }
        let rel = format!("checkpoints/{name}");
        if is_dir {
            f.note(format!("{rel}: a folder, not a checkpoint note"));
            continue;
        }
        let note = match read_small(dir, &rel, NOTE_LIMIT)
            .and_then(|b| String::from_utf8(b).map_err(|_| "not UTF-8".to_string()))
        {
            Ok(n) => n,
            Err(e) => {
                f.note(format!("{rel}: {e}"));
                continue;
            }
        };
        match Checkpoint::verify_note(&note, key) {
            Ok(c) if name == format!("{}.note", c.size) => checkpoints.push(c),
            Ok(c) => f.note(format!("{rel}: holds the checkpoint of {} events, so is misnamed", c.size)),
            Err(e) => f.note(format!("{rel}: {e}")),
        }
    }
    checkpoints.sort_by_key(|c| c.size);
    checkpoints
}

/// consistency.jsonl, read once: each proof verified between the checkpoints it names, then
/// every successive pair of checkpoints looked up among those proved.
fn check_consistency(dir: &Path, checkpoints: &[Checkpoint], f: &mut Findings) {
    let by_size: HashMap<u64, &Checkpoint> = checkpoints.iter().map(|c| (c.size, c)).collect();
    let mut seen: HashSet<(u64, u64)> = HashSet::new();
    let mut lines = Lines::open(dir, "consistency.jsonl", CONSISTENCY_LIMIT, f);
    while let Some((n, line)) = lines.next(f) {
        if f.full() {
            return;
        }
        if line.is_empty() {
            f.note(format!("consistency.jsonl line {n}: blank"));
            continue;
        }
        let c: Consistency = match serde_json::from_slice(line) {
            Ok(c) => c,
            Err(e) => {
                f.note(format!("consistency.jsonl line {n}: {e}"));
                continue;
            }
        };
        match (by_size.get(&c.from), by_size.get(&c.to)) {
            (Some(a), Some(b)) if merkle::verify_consistency(a.size, b.size, &a.root, &b.root, &c.proof) => {
                seen.insert((c.from, c.to));
            }
            (Some(_), Some(_)) => {
                seen.insert((c.from, c.to));
                f.note(format!(
                    "checkpoints of {} and {} events are not consistent (the log was rewritten between them)",
                    c.from, c.to
                ))
            }
            _ => f.note(format!(
                "consistency proof {} -> {} names a checkpoint that is not in checkpoints/",
                c.from, c.to
            )),
        }
    }
    for pair in checkpoints.windows(2) {
        let (a, b) = (pair[0].size, pair[1].size);
        if !seen.contains(&(a, b)) {
            f.note(format!("no consistency proof between the checkpoints of {a} and {b} events"));
        }
    }
}

/// events.jsonl and proofs.jsonl, a line of each at a time. Returns the number of events
/// and the hash of the last one.
fn check_events(
    dir: &Path,
    key: &VerifyingKey,
    project: &str,
    head: Option<&Checkpoint>,
    f: &mut Findings,
) -> (u64, Option<Hash>) {
    let mut events = Lines::open(dir, "events.jsonl", EVENTS_LIMIT, f);
    let mut proofs = Lines::open(dir, "proofs.jsonl", PROOFS_LIMIT, f);
    let mut prev: Option<(u64, Hash)> = None;
    let (mut count, mut last, mut proof_count) = (0u64, None, 0u64);
    let readable = events.reader.is_some();
    while let Some((n, bytes)) = events.next(f) {
        if f.full() {
            return (count, last);
        }
        let proof: Option<Result<Proof, String>> = proofs.next(f).map(|(_, p)| {
            if p.is_empty() {
                Err("blank".into())
            } else {
                serde_json::from_slice(p).map_err(|e| e.to_string())
            }
        });
        if proof.is_some() {
            proof_count += 1;
        }
        if bytes.is_empty() {
            f.note(format!("events.jsonl line {n}: blank"));
            continue;
        }
        count += 1;
        last = Some(Hash::of(bytes));
        let e = match SignedEvent::from_bytes(bytes) {
            Ok(e) => e,
            Err(err) => {
                f.note(format!("events.jsonl line {n}: {err}"));
                continue;
            }
        };
        let i = e.event.log_index;
        let name =
            format!("event {i} ({} #{}, {})", e.event.project, e.event.project_seq, e.event.kind.as_str());
        if e.event.project != project {
            f.add(Some(i), format!("{name}: belongs to another project than {project:?}"));
        }
        if let Err(err) = e.verify(key) {
            f.add(Some(i), format!("{name}: {err}"));
        }
        let expected_seq = prev.map_or(0, |(s, _)| s + 1);
        if e.event.project_seq != expected_seq {
            f.add(
                Some(i),
                format!(
                    "{name}: expected #{expected_seq}: an event of the project is missing or out of order"
                ),
            );
        } else if e.event.prev != prev.map(|(_, h)| h) {
            f.add(
                Some(i),
                format!("{name}: its link to the previous event does not match that event's hash"),
            );
        }
        prev = Some((e.event.project_seq, Hash::of(bytes)));
        let leaf = merkle::leaf_hash(bytes);
        match (proof, head) {
            (Some(Ok(p)), Some(h)) => {
                if p.log_index != i || p.tree_size != h.size {
                    f.add(Some(i), format!("{name}: its proof is for another position or tree"));
                } else if p.leaf_hash != leaf {
                    f.add(
                        Some(i),
                        format!(
                            "{name}: not the event the log holds at position {i} (its bytes were altered)"
                        ),
                    );
                } else if !merkle::verify_inclusion(&leaf, i, h.size, &p.inclusion, &h.root) {
                    f.add(
                        Some(i),
                        format!("{name}: not included in the log of {} events signed at {}", h.size, h.time),
                    );
                }
            }
            (Some(Err(err)), _) => f.add(Some(i), format!("proofs.jsonl line {n}: {err}")),
            (None, _) => f.add(Some(i), format!("{name}: no inclusion proof")),
            (Some(Ok(_)), None) => {}
        }
    }
    while proofs.next(f).is_some() {
        proof_count += 1;
    }
    if readable && proof_count != events.number {
        f.note(format!("events.jsonl has {} lines but proofs.jsonl {proof_count}", events.number));
    }
    (count, last)
}

/// timestamps/: each `N.tsr` token verified over `checkpoints/N.note` against the roots in
/// timestamps/roots/. Returns the stamps, the roots' fingerprints and the number of tokens.
fn check_timestamps(dir: &Path, f: &mut Findings) -> (Vec<ledger::timestamp::Stamp>, Vec<String>, u64) {
    let mut roots = Vec::new();
    let folder = match real_dir(dir, "timestamps") {
        Ok(d) => d,
        Err(e) => {
            f.note(format!("timestamps/: {e}"));
            false
        }
    };
    if !folder {
        return (Vec::new(), Vec::new(), 0);
    }
    match real_dir(dir, "timestamps/roots")
        .and_then(|d| if d { list(dir, "timestamps/roots") } else { Ok(vec![]) })
    {
        Ok(names) => {
            for (name, _) in names {
                let rel = format!("timestamps/roots/{name}");
                match read_small(dir, &rel, IDENTITY_LIMIT)
                    .and_then(|b| crate::timestamps::certificates_in(&b))
                {
                    Ok(certs) => roots.extend(certs),
                    Err(e) => f.note(format!("{rel}: {e}")),
                }
            }
        }
        Err(e) => f.note(format!("timestamps/roots/: {e}")),
    }
    let tsa_roots: Vec<String> = roots.iter().map(|r| format!("SHA-256 {}", Hash::of(r))).collect();
    let mut stamps = Vec::new();
    let mut tokens = 0;
    let names = match list(dir, "timestamps") {
        Ok(names) => names,
        Err(e) => {
            f.note(format!("timestamps/: {e}"));
            Vec::new()
        }
    };
    for (name, _) in names.into_iter().filter(|(n, _)| n.ends_with(".tsr")) {
        let rel = format!("timestamps/{name}");
        tokens += 1;
        let size: Option<u64> = name.strip_suffix(".tsr").and_then(|s| s.parse().ok());
        let note = size.and_then(|n| read_small(dir, &format!("checkpoints/{n}.note"), NOTE_LIMIT).ok());
        let Some(note) = note else {
            f.note(format!("{rel}: no checkpoint it could be for"));
            continue;
        };
        match read_small(dir, &rel, TOKEN_LIMIT) {
            Ok(token) => match ledger::timestamp::verify(&token, &note, &roots) {
                Ok(stamp) => stamps.push(stamp),
                Err(e) => f.note(format!("timestamp {rel}: {e}")),
            },
            Err(e) => f.note(format!("{rel}: {e}")),
        }
    }
    (stamps, tsa_roots, tokens)
}
