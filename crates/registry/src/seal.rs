//! Sealing a final work: watermark, China's implicit AIGC label, C2PA manifest, `sealed`
//! journal event and registration, committed together.
//!
//! Order (one store transaction, so that a failure at any step stores nothing):
//! 1. the work ID is reserved (the write lock is held);
//! 2. the `sealed` event is appended, with a new checkpoint (an `imported` event before it
//!    when the file was not in the journal and `import` says so);
//! 3. the watermark carrying the work ID is embedded and the AIGC label written into XMP, its
//!    `ReservedCode1` the sealed event's hash;
//! 4. the C2PA manifest is signed: actions, author, source ingredients, soft binding, and the
//!    `org.handprint.journal` assertion with the event, the checkpoint and its inclusion proof;
//! 5. the final file is fingerprinted and registered under the reserved ID;
//! 6. the output is written to a temporary file, the transaction commits, the file is renamed.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use credentials::aigc::{self, AigcLabel};
use credentials::{Edit, Format, Seal, SourceImage, SourceType};
use fingerprint::decode::Limits;
use ledger::{Draft, DraftLink, EventKind, Hash, SignedEvent};
use serde::Serialize;
use serde_json::{Value, json};

use crate::identity::Identity;
use crate::marking::{embed_bytes, temporary_path};
use crate::ops::read_file;
use crate::store::Pending;
use crate::works::{MAX_IMAGE_FILE, Scanned, Work};
use crate::{Registry, RegistryError};

/// The `format` of the `org.handprint.journal` assertion.
pub const SEAL_FORMAT: &str = "handprint.seal/2";
/// The first format, whose sealed event did not name the image data it sealed.
pub const SEAL_FORMAT_1: &str = "handprint.seal/1";
/// At most this many source images become ingredients (the nearest ancestors first).
const MAX_INGREDIENTS: usize = 64;

pub struct SealOptions<'a> {
    pub project: &'a str,
    pub title: &'a str,
    pub license: Option<&'a str>,
    /// Seal a file that is not in the project's journal, recording it as imported.
    pub import: bool,
    /// Draw this explicit AI label (GB 45438-2025) in the image's corner.
    pub visible_label: Option<&'a str>,
    pub output: &'a Path,
}

/// What `seal` did.
#[derive(Debug, Serialize)]
pub struct Sealed {
    pub work: Work,
    pub output: PathBuf,
    pub event_hash: Hash,
    pub log_index: u64,
    pub checkpoint_size: u64,
    pub source_type: &'static str,
    /// The watermark's PSNR; `None` when the seal was found already made (`recovered`).
    pub psnr: Option<f64>,
    pub imported: bool,
    /// The input's own C2PA manifest store, kept as its ingredient's.
    pub kept_manifest: bool,
    /// This input was sealed before: its output was put in place (finishing a seal that was
    /// cut off) or found there already; nothing new was signed.
    pub recovered: bool,
    pub summary: Value,
}

fn fail(path: &Path, message: impl Into<String>) -> RegistryError {
    RegistryError::File { path: path.into(), message: message.into() }
}

fn format_name(format: Format) -> &'static str {
    match format {
        Format::Png => "png",
        Format::Jpeg => "jpeg",
        Format::WebP => "webp",
    }
}

fn count(events: &[&SignedEvent], kind: EventKind) -> usize {
    events.iter().filter(|e| e.event.kind == kind).count()
}

/// The process in numbers: the whole project, and the lineage of the sealed file.
fn summary(all: &[SignedEvent], lineage: &[&SignedEvent]) -> Value {
    let all: Vec<&SignedEvent> = all.iter().collect();
    let in_lineage: HashSet<Hash> = lineage.iter().map(|e| e.hash()).collect();
    let chosen_in_lineage = all
        .iter()
        .filter(|e| e.event.kind == EventKind::Selected)
        .filter(|e| e.event.derived_from.iter().any(|l| in_lineage.contains(&l.event)))
        .count();
    let numbers = |events: &[&SignedEvent]| {
        json!({
            "generations": count(events, EventKind::Generated),
            "prompt_revisions": count(events, EventKind::PromptEdited),
            "selections": count(events, EventKind::Selected),
            "rejections": count(events, EventKind::Rejected),
            "edits": count(events, EventKind::Edited),
            "imports": count(events, EventKind::Imported),
        })
    };
    let mut lineage_numbers = numbers(lineage);
    lineage_numbers["selections"] = json!(chosen_in_lineage);
    json!({"project": numbers(&all), "lineage": lineage_numbers})
}

fn sources(lineage: &[&SignedEvent]) -> Vec<SourceImage> {
    lineage
        .iter()
        .filter(|e| matches!(e.event.kind, EventKind::Generated | EventKind::Edited | EventKind::Imported))
        .filter_map(|e| {
            let file = e.file()?;
            let format = match file.get("image_format").and_then(Value::as_str) {
                Some("png") => Some(Format::Png),
                Some("jpeg") => Some(Format::Jpeg),
                Some("webp") => Some(Format::WebP),
                _ => None,
            };
            let generator =
                e.event.data["generations"][0]["generator"].as_str().map(capture::Generator::display_name_of);
            let what = match (e.event.kind, generator) {
                (EventKind::Generated, Some(g)) => format!("generated with {g}"),
                (kind, _) => kind.as_str().to_owned(),
            };
            Some(SourceImage {
                title: file.get("name").and_then(Value::as_str).unwrap_or("unnamed").to_owned(),
                format,
                sha256: file.get("sha256").and_then(Value::as_str)?.to_owned(),
                description: format!("{what}; journal event {} ({})", e.event.log_index, e.hash()),
            })
        })
        .take(MAX_INGREDIENTS)
        .collect()
}

impl Registry {
    /// Seals the image at `input` as a new work (see the module documentation).
    pub fn seal(
        &mut self,
        signer: &Identity,
        input: &Path,
        o: &SealOptions,
    ) -> Result<Sealed, RegistryError> {
        if o.title.trim().is_empty() {
            return Err(RegistryError::Invalid("a sealed work needs a title (--title)".into()));
        }
        let bytes = crate::read_limited(input, MAX_IMAGE_FILE)?;
        let format = Format::sniff(&bytes).ok_or_else(|| {
            fail(input, "not a JPEG, PNG or WebP image: handprint seals those three formats")
        })?;
        let existing = credentials::read(&bytes, format, None).map_err(|e| fail(input, e.to_string()))?;
        if let Some(m) = existing.active.as_ref().filter(|m| m.journal.is_some()) {
            let work = m.journal.as_ref().map(|j| j["work"].to_string()).unwrap_or_default();
            return Err(fail(
                input,
                format!(
                    "already sealed by handprint (work {work}, manifest {}): a sealed file is final; \
                     seal the file it was made from, or record an edit first",
                    m.label
                ),
            ));
        }
        let kept_manifest = existing.active.is_some();
        let read = read_file(input)?;
        let identity = self.public.clone();
        let chain = crate::identity::c2pa_signer(&self.home, signer)?;
        if !self.store.project_exists(o.project)? {
            return Err(RegistryError::NoProject(o.project.into()));
        }
        let all = self.store.events(Some(o.project))?;
        let sha256 = read.info.sha256.to_hex();
        let output = o.output.to_path_buf();
        let tmp_out = temporary_path(&output)?;
        if let Some(done) = self.sealed_before(&all, &sha256, &output, &tmp_out)? {
            return done.map_err(|m| fail(input, m));
        }
        if output != input && std::fs::symlink_metadata(&output).is_ok() {
            return Err(fail(
                &output,
                "exists; choose another --out (handprint never overwrites a file it did not make)",
            ));
        }
        let recorded_at = all
            .iter()
            .rposition(|e| e.file().and_then(|f| f.get("sha256")).and_then(Value::as_str) == Some(&sha256));
        let recorded = recorded_at.map(|i| &all[i]);
        if recorded.is_none() && !o.import {
            return Err(fail(
                input,
                format!(
                    "not in project {:?}'s journal: seal the file you recorded, or add --import to seal it \
                     as a file from elsewhere (recorded as imported)",
                    o.project
                ),
            ));
        }
        let lineage: Vec<&SignedEvent> = recorded_at
            .map(|i| ledger::lineage::ancestors(&all, i).into_iter().map(|j| &all[j]).collect())
            .unwrap_or_default();
        // In the order they were made.
        let mut edited: Vec<&&SignedEvent> =
            lineage.iter().filter(|e| e.event.kind == EventKind::Edited).collect();
        edited.sort_by_key(|e| e.event.log_index);
        let edits: Vec<Edit> = edited
            .into_iter()
            .map(|e| Edit {
                when: e.event.time.clone(),
                tool: e.event.data["tool"].as_str().unwrap_or("unknown tool").to_owned(),
                description: e.event.data["description"].as_str().map(str::to_owned),
            })
            .collect();
        let composite =
            !edits.is_empty() || lineage.iter().any(|e| e.event.kind == EventKind::Imported) || o.import;
        let source_type = if composite {
            SourceType::CompositeWithTrainedAlgorithmicMedia
        } else {
            SourceType::TrainedAlgorithmicMedia
        };
        let generator = lineage
            .iter()
            .find_map(|e| e.event.data["generations"][0]["generator"].as_str())
            .map(capture::Generator::display_name_of)
            .map(str::to_owned);
        let mut summary = summary(&all, &lineage);
        let mut sources = sources(&lineage);

        let home_name = &identity.name;
        let sealed = self.store.transaction(|tx| {
            let work_id = tx.next_work_id()?;
            let mut pending = Vec::new();
            let imported = recorded.is_none();
            if imported {
                pending.push(Pending {
                    draft: Draft {
                        project: o.project.into(),
                        kind: EventKind::Imported,
                        data: json!({"file": read.info, "what": "sealed work", "description": "imported to be sealed"}),
                        derived_from: vec![],
                    },
                    files: vec![(read.info.sha256, "output")],
                });
            }
            // The event names the image data it seals (watermark in, before any label or
            // manifest is written), so that its proof cannot be moved into another image.
            let (plain, _) = embed_bytes(input, &bytes, work_id as u64, None, o.visible_label)?;
            let image_data = crate::binding::image_data_sha256(&plain).map_err(|e| fail(input, e))?;
            let mut data = json!({
                "work": work_id,
                "output": {"image_data_sha256": image_data, "image_format": format_name(format)},
                "title": o.title,
                "file": read.info,
                "source_type": source_type.iri(),
                "watermark": {"alg": credentials::WATERMARK_ALG, "payload": format!("{work_id:016x}")},
                "summary": summary,
            });
            if let Some(l) = o.license {
                data["license"] = json!(l);
            }
            if let Some(t) = o.visible_label {
                data["visible_label"] = json!(t);
            }
            let derived_from = match recorded {
                Some(e) => vec![DraftLink::event(e.hash(), "sealed-from")],
                None => vec![DraftLink::draft(0, "sealed-from")],
            };
            pending.push(Pending {
                draft: Draft { project: o.project.into(), kind: EventKind::Sealed, data, derived_from },
                files: vec![(read.info.sha256, "input")],
            });
            let appended = tx.append(&signer.key, pending)?;
            let event = appended.last().expect("the sealed event").clone();
            if imported {
                let first = &appended[0];
                sources.insert(
                    0,
                    SourceImage {
                        title: read.info.name.clone(),
                        format: Some(format),
                        sha256: read.info.sha256.to_hex(),
                        description: format!("imported; journal event {} ({})", first.event.log_index, first.hash()),
                    },
                );
                summary["lineage"]["imports"] = json!(1);
            }
            let (size, note) = tx
                .latest_checkpoint()?
                .ok_or_else(|| RegistryError::Store("no checkpoint after an append".into()))?;
            let proof = tx.inclusion_proof(event.event.log_index, size)?;

            let label = AigcLabel {
                label: "1".into(),
                content_producer: home_name.to_owned(),
                produce_id: format!("handprint:work:{work_id}"),
                reserved_code1: event.hash().to_hex(),
                ..Default::default()
            };
            let edit_xmp = |old: Option<&str>| aigc::with_label(old, &label).map_err(|e| fail(input, e.to_string()));
            let (marked, embedded) = embed_bytes(input, &bytes, work_id as u64, Some(&edit_xmp), o.visible_label)?;
            if crate::binding::image_data_sha256(&marked).ok() != Some(image_data) {
                return Err(RegistryError::Store(format!(
                    "{}: the watermarked image came out differently twice; nothing was sealed",
                    input.display()
                )));
            }
            let seal = Seal {
                title: o.title.into(),
                author: home_name.to_owned(),
                source_type,
                generator: generator.clone(),
                edits: edits.clone(),
                sources: sources.clone(),
                original: kept_manifest.then(|| bytes.clone()),
                visible_label: o.visible_label.map(str::to_owned),
                watermark: work_id as u64,
                journal: json!({
                    "format": SEAL_FORMAT,
                    "project": o.project,
                    "work": work_id,
                    "event_hash": event.hash().to_hex(),
                    "event": event,
                    "checkpoint": note,
                    "inclusion_proof": proof.iter().map(Hash::to_hex).collect::<Vec<_>>(),
                    "summary": summary,
                }),
            };
            let signed = credentials::sign(&marked, format, &seal, &chain).map_err(|e| fail(input, e.to_string()))?;
            let scanned = Scanned::from_bytes(&output, &signed, &Limits::default())?;
            tx.insert_work(Some(work_id), &scanned, o.title, o.license, &identity)?;
            std::fs::write(&tmp_out, &signed).map_err(|e| RegistryError::io(&tmp_out, e))?;
            Ok((work_id, event, size, embedded.psnr, imported))
        });
        let (work_id, event, size, psnr, imported) = match sealed {
            Ok(v) => v,
            Err(e) => {
                let _ = std::fs::remove_file(&tmp_out);
                return Err(e);
            }
        };
        std::fs::rename(&tmp_out, &output).map_err(|e| RegistryError::io(&output, e))?;
        let work = self
            .store
            .work(work_id)?
            .ok_or_else(|| RegistryError::Store(format!("work {work_id} vanished")))?;
        Ok(Sealed {
            work,
            output,
            event_hash: event.hash(),
            log_index: event.event.log_index,
            checkpoint_size: size,
            source_type: source_type.term(),
            psnr: Some(psnr),
            imported,
            kept_manifest,
            recovered: false,
            summary,
        })
    }

    /// A seal of the same input already in the journal: `seal` is not repeated (a second work
    /// for the same pixels), but finished when it was cut off between its commit and its
    /// rename, and a no-op when its output is in place. `Some(Err)` when the sealed file is
    /// nowhere to be found.
    fn sealed_before(
        &self,
        all: &[SignedEvent],
        input_sha256: &str,
        output: &Path,
        tmp_out: &Path,
    ) -> Result<Option<Result<Sealed, String>>, RegistryError> {
        let is_input = |e: &&SignedEvent| {
            e.event.kind == EventKind::Sealed
                && e.file().and_then(|f| f.get("sha256")).and_then(Value::as_str) == Some(input_sha256)
        };
        let Some(prior) = all.iter().rev().find(is_input) else { return Ok(None) };
        let Some(work) =
            prior.event.data["work"].as_i64().map(|id| self.store.work(id)).transpose()?.flatten()
        else {
            return Ok(None);
        };
        for candidate in [output, tmp_out] {
            let Ok(bytes) = crate::read_limited(candidate, MAX_IMAGE_FILE) else { continue };
            if Hash::of(&bytes) != work.sha256 {
                continue;
            }
            if candidate == tmp_out {
                std::fs::rename(tmp_out, output).map_err(|e| RegistryError::io(output, e))?;
            }
            return Ok(Some(Ok(Sealed {
                output: output.to_path_buf(),
                event_hash: prior.hash(),
                log_index: prior.event.log_index,
                checkpoint_size: self.store.latest_checkpoint()?.map_or(0, |c| c.0),
                source_type: if prior.event.data["source_type"]
                    == SourceType::CompositeWithTrainedAlgorithmicMedia.iri().as_str()
                {
                    SourceType::CompositeWithTrainedAlgorithmicMedia.term()
                } else {
                    SourceType::TrainedAlgorithmicMedia.term()
                },
                psnr: None,
                imported: false,
                kept_manifest: false,
                recovered: true,
                summary: prior.event.data["summary"].clone(),
                work,
            })));
        }
        Ok(Some(Err(format!(
            "already sealed as work {} {:?} (journal event {}), and the sealed file is not at {}: a file is \
             sealed once; `handprint works` lists the work, or record an edit and seal that",
            work.id,
            work.title,
            prior.event.log_index,
            output.display()
        ))))
    }
}
