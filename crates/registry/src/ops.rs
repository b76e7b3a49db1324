//! The recording operations: files become journal events, with their lineage.

use std::path::{Path, PathBuf};

use capture::{Generation, Inspection};
use ledger::{Draft, DraftLink, EventKind, Hash, SignedEvent, Target};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::identity::Identity;
use crate::store::{Pending, View};
use crate::{Registry, RegistryError};

/// The largest file handprint reads into memory to hash and inspect.
const MAX_FILE: u64 = 1 << 30;
/// How far back `record` looks for an earlier generation with the same seed.
const LINEAGE_WINDOW: usize = 500;

/// A file as events describe it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileInfo {
    pub name: String,
    pub sha256: Hash,
    pub size: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_format: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
}

/// A file read, hashed and inspected.
pub struct Read {
    pub path: PathBuf,
    pub info: FileInfo,
    pub inspection: Option<Inspection>,
}

/// Reads `path`: its SHA-256, size and, if it is an image, its capture record.
pub fn read_file(path: &Path) -> Result<Read, RegistryError> {
    let bytes = crate::read_limited(path, MAX_FILE)?;
    let inspection = capture::inspect_bytes(&bytes).ok();
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let info = FileInfo {
        name,
        sha256: Hash::of(&bytes),
        size: bytes.len() as u64,
        image_format: inspection.as_ref().map(|i| format!("{:?}", i.format).to_lowercase()),
        width: inspection.as_ref().and_then(|i| i.width),
        height: inspection.as_ref().and_then(|i| i.height),
    };
    Ok(Read { path: path.into(), info, inspection })
}

/// What happened to one file.
#[derive(Debug)]
pub enum Outcome {
    Recorded(Recorded),
    /// The project's journal already holds this file (by SHA-256).
    AlreadyRecorded {
        path: PathBuf,
        log_index: u64,
    },
    Failed {
        path: PathBuf,
        error: RegistryError,
    },
}

#[derive(Debug, Clone)]
pub struct Recorded {
    pub path: PathBuf,
    pub log_index: u64,
    pub kind: EventKind,
    pub hash: Hash,
    /// The events appended with it (a prompt revision before a generation).
    pub also: Vec<(u64, EventKind)>,
    /// What reading the image found damaged or skipped (a truncated file, an oversized chunk).
    pub warnings: Vec<String>,
}

/// Where a file read by `record` ended up.
enum Placement {
    /// Already in the project, at this log index.
    Existing(u64),
    /// The `index`-th appended draft, after the drafts `also` (a prompt revision).
    New { index: usize, also: Vec<usize> },
    /// The same file as the `index`-th draft, given twice in one call.
    SameAs(usize),
}

/// The prompt a generation event carries, for lineage.
fn prompts(g: &[Generation]) -> Option<(Option<String>, Option<String>)> {
    g.first().map(|g| (g.prompt.clone(), g.negative_prompt.clone()))
}

fn event_prompts(e: &SignedEvent) -> Option<(Option<String>, Option<String>)> {
    let g = e.event.data.get("generations")?.as_array()?.first()?;
    let s = |k: &str| g.get(k).and_then(Value::as_str).map(str::to_owned);
    Some((s("prompt"), s("negative_prompt")))
}

/// Seeds beyond 2^53 are stored as decimal strings (see `ledger::event::exact_numbers`).
fn event_seed(e: &SignedEvent) -> Option<u64> {
    match e.event.data.get("generations")?.as_array()?.first()?.get("seed")? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// A generation earlier in the project or in this batch, for lineage.
#[derive(Clone)]
struct Earlier {
    target: Target,
    prompts: Option<(Option<String>, Option<String>)>,
    seed: Option<u64>,
    name: String,
    sha256: Option<Hash>,
}

impl Registry {
    /// Creates a project; `false` if it exists.
    pub fn create_project(&self, name: &str) -> Result<bool, RegistryError> {
        validate_project_name(name)?;
        self.store.create_project(name)
    }

    /// Records image files in `project`: one `generated` event per file with generation
    /// metadata (`imported` for one without), preceded by a `prompt-edited` event when the
    /// prompt changed since the project's previous generation. Files already in the project
    /// are skipped. Lineage links: `prompt-edit`, `same-seed` (an upscale, hires pass or
    /// variation re-rendered from an earlier generation's seed and prompt), `init-image`.
    pub fn record(
        &mut self,
        signer: &Identity,
        project: &str,
        paths: &[PathBuf],
    ) -> Result<Vec<Outcome>, RegistryError> {
        let mut outcomes: Vec<Option<Outcome>> = Vec::new();
        let mut reads = Vec::new();
        for p in paths {
            match read_file(p) {
                Ok(r) if r.inspection.is_none() => outcomes.push(Some(Outcome::Failed {
                    path: p.clone(),
                    error: RegistryError::File {
                        path: p.clone(),
                        message: "not a PNG, JPEG or WebP image".into(),
                    },
                })),
                Ok(r) => {
                    outcomes.push(None);
                    reads.push(r);
                }
                Err(error) => outcomes.push(Some(Outcome::Failed { path: p.clone(), error })),
            }
        }
        let mut placed: Vec<(PathBuf, Placement)> = Vec::new();
        let signed = self.store.append(&signer.key, |view| {
            if !view.project_exists(project)? {
                return Err(RegistryError::NoProject(project.into()));
            }
            let mut earlier: Vec<Earlier> = view
                .latest(project, EventKind::Generated, LINEAGE_WINDOW)?
                .iter()
                .rev()
                .map(|e| Earlier {
                    target: Target::Event(e.hash()),
                    prompts: event_prompts(e),
                    seed: event_seed(e),
                    name: e.event.data["file"]["name"].as_str().unwrap_or_default().to_owned(),
                    sha256: e.event.data["file"]["sha256"].as_str().and_then(Hash::from_hex),
                })
                .collect();
            let mut pending: Vec<Pending> = Vec::new();
            let mut seen_in_batch: Vec<(Hash, usize)> = Vec::new();
            for r in &reads {
                let existing = view.events_with_file(&r.info.sha256, "output", Some(project))?;
                if let Some(e) = existing.first() {
                    placed.push((r.path.clone(), Placement::Existing(e.event.log_index)));
                    continue;
                }
                if let Some(&(_, first)) = seen_in_batch.iter().find(|(h, _)| *h == r.info.sha256) {
                    placed.push((r.path.clone(), Placement::SameAs(first)));
                    continue;
                }
                let inspection = r.inspection.as_ref().expect("only images are read");
                let gens = &inspection.generations;
                let mut links = Vec::new();
                let mut also = Vec::new();
                if gens.is_empty() {
                    let data = json!({"file": r.info, "what": "image without generator metadata", "metadata_keys": inspection.metadata_keys});
                    pending.push(Pending {
                        draft: Draft { project: project.into(), kind: EventKind::Imported, data, derived_from: vec![] },
                        files: vec![(r.info.sha256, "output")],
                    });
                    seen_in_batch.push((r.info.sha256, pending.len() - 1));
                    placed.push((r.path.clone(), Placement::New { index: pending.len() - 1, also }));
                    continue;
                }
                let now = prompts(gens);
                let seed = gens[0].seed;
                // The most specific relation first: a re-render from the same seed and prompt
                // (an upscale, hires pass, variation or re-encode), then the previous round.
                let same_seed =
                    earlier.iter().rev().find(|e| seed.is_some() && e.seed == seed && e.prompts == now).cloned();
                if let Some(same) = &same_seed {
                    links.push(DraftLink { target: same.target.clone(), relation: "same-seed".into() });
                }
                if let Some(last) = earlier.last() {
                    if last.prompts != now {
                        let (before, neg_before) = last.prompts.clone().unwrap_or_default();
                        let (after, neg_after) = now.clone().unwrap_or_default();
                        pending.push(Pending {
                            draft: Draft {
                                project: project.into(),
                                kind: EventKind::PromptEdited,
                                data: json!({"before": before, "after": after, "negative_before": neg_before, "negative_after": neg_after}),
                                derived_from: vec![DraftLink { target: last.target.clone(), relation: "prompt-revision".into() }],
                            },
                            files: vec![],
                        });
                        also.push(pending.len() - 1);
                        links.push(DraftLink::draft(pending.len() - 1, "prompt-edit"));
                    } else if same_seed.as_ref().is_none_or(|s| s.target != last.target) {
                        links.push(DraftLink { target: last.target.clone(), relation: "same-prompt".into() });
                    }
                }
                for g in gens {
                    let Some(img) = &g.img2img else { continue };
                    let by_hash = img.init_image_hash.as_deref().and_then(|h| {
                        earlier.iter().find(|e| e.sha256.is_some_and(|s| s.to_hex().starts_with(&h.to_lowercase())))
                    });
                    let by_name = img.init_image.as_deref().and_then(|n| earlier.iter().rev().find(|e| e.name == n));
                    if let Some(src) = by_hash.or(by_name) {
                        links.push(DraftLink { target: src.target.clone(), relation: "init-image".into() });
                    }
                }
                let mut data = json!({"file": r.info, "generations": gens});
                if let Some(c2pa) = &inspection.c2pa {
                    data["c2pa"] = json!(c2pa);
                }
                if !inspection.warnings.is_empty() {
                    data["warnings"] = json!(inspection.warnings);
                }
                pending.push(Pending {
                    draft: Draft { project: project.into(), kind: EventKind::Generated, data, derived_from: links },
                    files: vec![(r.info.sha256, "output")],
                });
                let index = pending.len() - 1;
                earlier.push(Earlier {
                    target: Target::Draft(index),
                    prompts: now,
                    seed,
                    name: r.info.name.clone(),
                    sha256: Some(r.info.sha256),
                });
                seen_in_batch.push((r.info.sha256, index));
                placed.push((r.path.clone(), Placement::New { index, also }));
            }
            Ok(pending)
        })?;
        // One placement per file read, in order.
        let mut placed = placed.into_iter().zip(&reads);
        for slot in outcomes.iter_mut().filter(|o| o.is_none()) {
            let Some(((path, place), read)) = placed.next() else { break };
            *slot = Some(match place {
                Placement::Existing(log_index) => Outcome::AlreadyRecorded { path, log_index },
                Placement::SameAs(i) => {
                    Outcome::AlreadyRecorded { path, log_index: signed[i].event.log_index }
                }
                Placement::New { index: i, also } => Outcome::Recorded(Recorded {
                    path,
                    log_index: signed[i].event.log_index,
                    kind: signed[i].event.kind,
                    hash: signed[i].hash(),
                    also: also.iter().map(|&j| (signed[j].event.log_index, signed[j].event.kind)).collect(),
                    warnings: read.inspection.as_ref().map(|i| i.warnings.clone()).unwrap_or_default(),
                }),
            });
        }
        Ok(outcomes.into_iter().flatten().collect())
    }

    /// The creator chose (or set aside) a candidate.
    pub fn choose(
        &mut self,
        signer: &Identity,
        path: &Path,
        selected: bool,
        reason: Option<&str>,
        project: Option<&str>,
    ) -> Result<SignedEvent, RegistryError> {
        let read = read_file(path)?;
        let signed = self.store.append(&signer.key, |view| {
            let source = Self::lookup(view, path, &read.info.sha256, project)?;
            let mut data = json!({"file": read.info});
            if let Some(r) = reason {
                data["reason"] = json!(r);
            }
            Ok(vec![Pending {
                draft: Draft {
                    project: source.event.project.clone(),
                    kind: if selected { EventKind::Selected } else { EventKind::Rejected },
                    data,
                    derived_from: vec![DraftLink::event(source.hash(), "candidate")],
                },
                files: vec![(read.info.sha256, "input")],
            }])
        })?;
        Ok(signed.into_iter().next().expect("one event appended"))
    }

    /// The newest event that brought this file (by hash) into the journal.
    fn lookup(
        view: &View,
        path: &Path,
        sha: &Hash,
        project: Option<&str>,
    ) -> Result<SignedEvent, RegistryError> {
        view.events_with_file(sha, "output", project)?
            .into_iter()
            .next()
            .ok_or_else(|| RegistryError::NotRecorded(path.into()))
    }

    /// Manual work: `input` (already in the journal) made into `output` with `tool`.
    pub fn edit(
        &mut self,
        signer: &Identity,
        input: &Path,
        output: &Path,
        tool: &str,
        description: Option<&str>,
        project: Option<&str>,
    ) -> Result<SignedEvent, RegistryError> {
        let (i, o) = (read_file(input)?, read_file(output)?);
        if i.info.sha256 == o.info.sha256 {
            return Err(RegistryError::Invalid(format!(
                "{} and {} are the same file: an edit must change it",
                input.display(),
                output.display()
            )));
        }
        let signed = self.store.append(&signer.key, |view| {
            let source = Self::lookup(view, input, &i.info.sha256, project)?;
            let mut data = json!({"input": i.info, "output": o.info, "tool": tool});
            if let Some(d) = description {
                data["description"] = json!(d);
            }
            if let Some(gens) = o.inspection.as_ref().map(|x| &x.generations).filter(|g| !g.is_empty()) {
                data["output_generations"] = json!(gens);
            }
            Ok(vec![Pending {
                draft: Draft {
                    project: source.event.project.clone(),
                    kind: EventKind::Edited,
                    data,
                    derived_from: vec![DraftLink::event(source.hash(), "edit-input")],
                },
                files: vec![(i.info.sha256, "input"), (o.info.sha256, "output")],
            }])
        })?;
        Ok(signed.into_iter().next().expect("one event appended"))
    }

    /// A file from elsewhere: a sketch, a photo, a reference.
    pub fn import(
        &mut self,
        signer: &Identity,
        project: &str,
        path: &Path,
        what: &str,
        description: Option<&str>,
    ) -> Result<Outcome, RegistryError> {
        let r = read_file(path)?;
        let mut existing = None;
        let signed = self.store.append(&signer.key, |view| {
            if let Some(e) = view.events_with_file(&r.info.sha256, "output", Some(project))?.first() {
                existing = Some(e.event.log_index);
                return Ok(vec![]);
            }
            let mut data = json!({"file": r.info, "what": what});
            if let Some(d) = description {
                data["description"] = json!(d);
            }
            Ok(vec![Pending {
                draft: Draft {
                    project: project.into(),
                    kind: EventKind::Imported,
                    data,
                    derived_from: vec![],
                },
                files: vec![(r.info.sha256, "output")],
            }])
        })?;
        Ok(match (existing, signed.first()) {
            (Some(log_index), _) => Outcome::AlreadyRecorded { path: path.into(), log_index },
            (None, Some(e)) => Outcome::Recorded(Recorded {
                path: path.into(),
                log_index: e.event.log_index,
                kind: e.event.kind,
                hash: e.hash(),
                also: vec![],
                warnings: r.inspection.as_ref().map(|i| i.warnings.clone()).unwrap_or_default(),
            }),
            (None, None) => unreachable!("import appends one event or finds one"),
        })
    }

    /// Free text from the creator.
    pub fn note(
        &mut self,
        signer: &Identity,
        project: &str,
        text: &str,
    ) -> Result<SignedEvent, RegistryError> {
        if text.trim().is_empty() {
            return Err(RegistryError::Invalid("the note is empty".into()));
        }
        let signed = self.store.append(&signer.key, |_| {
            Ok(vec![Pending {
                draft: Draft {
                    project: project.into(),
                    kind: EventKind::Note,
                    data: json!({"text": text}),
                    derived_from: vec![],
                },
                files: vec![],
            }])
        })?;
        Ok(signed.into_iter().next().expect("one event appended"))
    }
}

/// Project names travel in file names and URLs: letters, digits, `-`, `_`, `.`, no leading dot.
pub fn validate_project_name(name: &str) -> Result<(), RegistryError> {
    let ok = !name.is_empty()
        && name.len() <= 100
        && !name.starts_with('.')
        && name.chars().all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(RegistryError::Invalid(format!(
            "{name:?} is not a project name: use letters, digits, '-', '_' and '.' (at most 100)"
        )))
    }
}
