//! What the journal's operations answer, as front ends print them (`--json`) or send them:
//! the identity made, projects, what happened to each file recorded, an export written or
//! checked, a timestamp fetched; and a file that could not be read at all.

use std::path::{Path, PathBuf};

use ledger::timestamp::Stamp;
use ledger::{EventKind, Hash, SignedEvent};
use serde::Serialize;
use serde::ser::{SerializeStruct, Serializer};
use serde_json::Value;

use crate::export::{ExportVerification, Manifest};
use crate::identity::{Identity, PublicIdentity};
use crate::{Outcome, Registry, RegistryError, Store};

/// `x` rounded to `places` decimals, for JSON that people read.
pub fn rounded(x: f64, places: i32) -> f64 {
    let scale = 10f64.powi(places);
    (x * scale).round() / scale
}

/// A file that could not be read at all: it is named, and the error says why.
#[derive(Debug, Serialize)]
pub struct Unreadable {
    pub file: String,
    pub error: String,
}

impl Unreadable {
    pub fn new(file: &Path, error: &RegistryError) -> Unreadable {
        Unreadable { file: file.display().to_string(), error: error.to_string() }
    }
}

/// The identity `init` made, and where.
#[derive(Debug, Serialize)]
pub struct Initialized {
    pub home: PathBuf,
    pub identity: PublicIdentity,
}

/// Creates the identity in `home` (see [`crate::identity::create`]).
pub fn init(home: &Path, name: &str, passphrase: Option<&str>) -> Result<Initialized, RegistryError> {
    let identity = crate::identity::create(home, name, passphrase)?;
    Ok(Initialized { home: home.to_path_buf(), identity })
}

/// A project asked for: made now, or there already.
#[derive(Debug, Serialize)]
pub struct ProjectCreated {
    pub project: String,
    pub created: bool,
}

/// Creates a project unless it exists.
pub fn create_project(reg: &Registry, name: &str) -> Result<ProjectCreated, RegistryError> {
    Ok(ProjectCreated { project: name.to_owned(), created: reg.create_project(name)? })
}

/// A project, when it was made, and how many events its journal holds.
#[derive(Debug, Serialize)]
pub struct ProjectSummary {
    pub project: String,
    pub created: String,
    pub events: u64,
}

/// Every project, by name.
pub fn projects(store: &Store) -> Result<Vec<ProjectSummary>, RegistryError> {
    Ok(store
        .projects()?
        .into_iter()
        .map(|(project, created, events)| ProjectSummary { project, created, events })
        .collect())
}

/// An event appended with a recorded file (a prompt revision before its generation).
#[derive(Debug, Serialize)]
struct Also {
    log_index: u64,
    kind: EventKind,
}

/// What happened to one file given to `record`, `watch` or `import`:
/// `{"path", "status": "recorded", "log_index", "kind", "hash", "also": [...], "warnings"?}`,
/// `{"path", "status": "already-recorded", "log_index"}` or `{"path", "status": "failed", "error"}`.
impl Serialize for Outcome {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Outcome::Recorded(r) => {
                let warned = !r.warnings.is_empty();
                let mut st = s.serialize_struct("Outcome", 6 + usize::from(warned))?;
                st.serialize_field("path", &r.path)?;
                st.serialize_field("status", "recorded")?;
                st.serialize_field("log_index", &r.log_index)?;
                st.serialize_field("kind", &r.kind)?;
                st.serialize_field("hash", &r.hash)?;
                let also: Vec<Also> =
                    r.also.iter().map(|&(log_index, kind)| Also { log_index, kind }).collect();
                st.serialize_field("also", &also)?;
                if warned {
                    st.serialize_field("warnings", &r.warnings)?;
                }
                st.end()
            }
            Outcome::AlreadyRecorded { path, log_index } => {
                let mut st = s.serialize_struct("Outcome", 3)?;
                st.serialize_field("path", path)?;
                st.serialize_field("status", "already-recorded")?;
                st.serialize_field("log_index", log_index)?;
                st.end()
            }
            Outcome::Failed { path, error } => {
                let mut st = s.serialize_struct("Outcome", 3)?;
                st.serialize_field("path", path)?;
                st.serialize_field("status", "failed")?;
                st.serialize_field("error", &error.to_string())?;
                st.end()
            }
        }
    }
}

/// The checkpoint an export is proved against.
#[derive(Debug, Serialize)]
pub struct CheckpointRef {
    pub size: u64,
    pub root: Hash,
}

/// A project exported: where, and what the folder holds.
#[derive(Debug, Serialize)]
pub struct Exported {
    pub dir: PathBuf,
    pub project: String,
    pub events: u64,
    pub checkpoint: CheckpointRef,
    /// SHA-256 of the journal's public key, hex: what whoever checks the folder verifies.
    #[serde(skip)]
    pub key_fingerprint: String,
}

/// Exports `project` into `dir` (see [`Registry::export`]).
pub fn export(
    reg: &Registry,
    signer: &Identity,
    project: &str,
    dir: &Path,
) -> Result<Exported, RegistryError> {
    let m: Manifest = reg.export(signer, project, dir)?;
    Ok(Exported {
        dir: dir.to_path_buf(),
        project: m.project,
        events: m.events,
        checkpoint: CheckpointRef { size: m.checkpoint.size, root: m.checkpoint.root },
        key_fingerprint: ledger::statement::key_fingerprint(&reg.public.verifying_key()?),
    })
}

/// An export folder checked (see [`crate::export::verify_export`]).
#[derive(Debug, Serialize)]
pub struct ExportCheck {
    #[serde(flatten)]
    pub verification: ExportVerification,
    /// Whether nothing was found wrong.
    pub ok: bool,
}

/// Checks an export folder with nothing but its contents.
pub fn check_export(dir: &Path) -> Result<ExportCheck, RegistryError> {
    let verification = crate::export::verify_export(dir)?;
    let ok = verification.ok();
    Ok(ExportCheck { verification, ok })
}

/// A timestamp fetched over the latest checkpoint, verified and stored.
#[derive(Debug, Serialize)]
pub struct Timestamped {
    /// The size of the log the checkpoint covers.
    pub checkpoint: u64,
    pub tsa_url: String,
    pub stamp: Stamp,
}

/// Asks the TSA at `url` for a timestamp over the latest checkpoint (see [`Registry::timestamp`]).
pub fn timestamp(reg: &Registry, url: &str) -> Result<Timestamped, RegistryError> {
    let (checkpoint, stamp) = reg.timestamp(url)?;
    Ok(Timestamped { checkpoint, tsa_url: url.to_owned(), stamp })
}

/// One line a person reads for an event in `log`: the file, generator, seed and prompt of a
/// generation, the new prompt, a choice and why, an edit, a note, a work's title.
pub fn one_line(e: &SignedEvent) -> String {
    let d = &e.event.data;
    let s = |v: &Value| v.as_str().map(str::to_owned).unwrap_or_default();
    let clip = |t: String| {
        if t.chars().count() > 70 { format!("{}…", t.chars().take(70).collect::<String>()) } else { t }
    };
    match e.event.kind {
        EventKind::Generated => {
            let g = &d["generations"][0];
            // Seeds beyond 2^53 are stored as strings (see docs/ledger.md).
            let seed = match &g["seed"] {
                Value::Number(n) => format!(" seed {n}"),
                Value::String(s) => format!(" seed {s}"),
                _ => String::new(),
            };
            format!(
                "{} [{}{seed}] {}",
                s(&d["file"]["name"]),
                s(&g["generator"]),
                clip(s(&g["prompt"]).replace('\n', " "))
            )
        }
        EventKind::PromptEdited => format!("prompt now: {}", clip(s(&d["after"]).replace('\n', " "))),
        EventKind::Selected | EventKind::Rejected => {
            let why = d["reason"].as_str().map(|r| format!(": {r}")).unwrap_or_default();
            format!("{}{why}", s(&d["file"]["name"]))
        }
        EventKind::Edited => {
            format!("{} -> {} with {}", s(&d["input"]["name"]), s(&d["output"]["name"]), s(&d["tool"]))
        }
        EventKind::Imported => format!("{} ({})", s(&d["file"]["name"]), s(&d["what"])),
        EventKind::Note => clip(s(&d["text"])),
        EventKind::Sealed | EventKind::Registered | EventKind::Published => s(&d["title"]),
        EventKind::Withdrawn => format!("work {} withdrawn", d["work"]),
    }
}
