//! Sealing a final work: watermark, China's implicit AIGC label, C2PA manifest, `sealed`
//! journal event and registration, committed together.
//!
//! Order (one store transaction, so that a failure at any step stores nothing):
//! 1. the work ID is reserved (the write lock is held);
//! 2. the `sealed` event is appended, with a new checkpoint (an `imported` event before it
//!    when the file was not in the journal and `import` says so);
//! 3. the watermark carrying the work's watermark ID (derived from the key) is embedded and the AIGC label written into XMP, its
//!    `ReservedCode1` the sealed event's hash;
//! 4. the C2PA manifest is signed: actions, author, source ingredients, soft binding, and the
//!    `org.handprint.journal` assertion with the event, the checkpoint and its inclusion proof;
//! 5. the final file is fingerprinted and registered under the reserved ID;
//! 6. the output is written to a temporary file, the transaction commits, the file is renamed.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use credentials::aigc::{self, AigcLabel};
use credentials::{Edit, Format, Seal, SourceImage, SourceType, Timestamper};
use fingerprint::decode::Limits;
use ledger::{Draft, DraftLink, EventKind, Hash, SignedEvent};
use serde::Serialize;
use serde_json::{Value, json};

use crate::identity::Identity;
use crate::marking::{mark, temporary_path};
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
    /// What the image is, as the creator says (an IPTC digital source type term): needed when
    /// the lineage holds no generation, refused when it contradicts the lineage.
    pub source_type: Option<&'a str>,
    /// An RFC 3161 time-stamping authority (`http://` URL) whose token goes into the C2PA
    /// signature; its token must verify against the data directory's `tsa-roots/`.
    pub tsa: Option<&'a str>,
    pub output: &'a Path,
}

/// The `seal` section of the data directory's `config.json` (docs/credentials.md).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SealConfig {
    /// The time-stamping authority used when `seal` is given none.
    pub tsa: Option<String>,
}

#[derive(Debug, Default, serde::Deserialize)]
struct Config {
    #[serde(default)]
    seal: SealConfig,
}

/// The name of the data directory's configuration file.
pub const CONFIG_FILE: &str = "config.json";

/// What `seal` did.
#[derive(Debug, Serialize)]
pub struct Sealed {
    pub work: Work,
    pub output: PathBuf,
    pub event_hash: Hash,
    pub log_index: u64,
    pub checkpoint_size: u64,
    pub source_type: &'static str,
    /// The time-stamping authority's time in the signature (RFC 3339), when one was asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
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

/// The digital source type of a sealed file: from the lineage when it holds a generation
/// (generations only: trained algorithmic media; with edits or imports: composite with it),
/// else as the creator states it. A stated term that contradicts the lineage is refused.
fn source_type(
    input: &Path,
    lineage: &[&SignedEvent],
    composite: bool,
    stated: Option<&str>,
) -> Result<SourceType, RegistryError> {
    let stated = stated
        .map(|t| {
            SourceType::parse(t.trim()).ok_or_else(|| {
                RegistryError::Invalid(format!(
                    "--source-type {t:?} is not a term of IPTC's digital source type vocabulary \
                     (http://cv.iptc.org/newscodes/digitalsourcetype/); one of: {}",
                    SourceType::terms().collect::<Vec<_>>().join(", ")
                ))
            })
        })
        .transpose()?;
    let generations = count(lineage, EventKind::Generated);
    if generations == 0 {
        return stated.ok_or_else(|| {
            fail(
                input,
                "no generation in its lineage in the journal, so handprint cannot tell how it was made: \
                 say what it is with --source-type TERM, an IPTC digital source type (digitalCapture for a \
                 photograph, digitalCreation for art made with digital tools, trainedAlgorithmicMedia for an \
                 AI image made elsewhere, compositeWithTrainedAlgorithmicMedia for one edited since, …)",
            )
        });
    }
    let lineage_type = if composite {
        SourceType::CompositeWithTrainedAlgorithmicMedia
    } else {
        SourceType::TrainedAlgorithmicMedia
    };
    match stated {
        Some(t) if t != lineage_type => Err(fail(
            input,
            format!(
                "--source-type {} contradicts the journal: its lineage holds {generations} generation(s){}, \
                 so it is {}; leave --source-type out",
                t.term(),
                if composite { " and edits or imports" } else { " and nothing else" },
                lineage_type.term()
            ),
        )),
        _ => Ok(lineage_type),
    }
}

impl Registry {
    /// The `seal` section of the data directory's `config.json` (empty when there is none).
    pub fn seal_config(&self) -> Result<SealConfig, RegistryError> {
        let path = self.home.join(CONFIG_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(SealConfig::default()),
            Err(e) => return Err(RegistryError::io(&path, e)),
        };
        let config: Config = serde_json::from_str(&text).map_err(|e| fail(&path, e.to_string()))?;
        Ok(config.seal)
    }

    /// Asks `url` for an RFC 3161 token over the signature, checks it answers the request and
    /// verifies against the trusted TSA roots, and keeps its time in `stamped`.
    fn timestamper(
        &self,
        url: &str,
        stamped: Arc<Mutex<Option<String>>>,
    ) -> Result<Timestamper, RegistryError> {
        if !url.starts_with("http://") {
            return Err(RegistryError::Invalid(format!(
                "--tsa {url:?}: an http:// URL is needed (RFC 3161 over HTTP; this build has no TLS)"
            )));
        }
        let roots = crate::timestamps::read_roots(&self.tsa_roots_dir())?;
        let target = url.to_owned();
        let send = move |message: &[u8]| {
            let nonce = rand_core::RngCore::next_u64(&mut rand_core::OsRng) >> 1;
            let response =
                crate::timestamps::post_request(&target, &ledger::timestamp::request(message, nonce))?;
            let token =
                ledger::timestamp::token_from_response(&response, nonce).map_err(|e| e.to_string())?;
            let stamp = ledger::timestamp::verify(&token, message, &roots).map_err(|e| {
                format!(
                    "the token does not verify ({e}); add the authority's root certificate with --tsa-root"
                )
            })?;
            *stamped.lock().unwrap_or_else(|p| p.into_inner()) = Some(stamp.time);
            Ok(response)
        };
        Ok(Timestamper { url: url.to_owned(), send: Arc::new(send) })
    }

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
        let source_type = source_type(input, &lineage, composite, o.source_type)?;
        if let Some(text) = o.visible_label.filter(|_| !source_type.is_generative_ai()) {
            return Err(fail(
                input,
                format!(
                    "--visible-label {text:?} is the explicit AI label, and the image is {}, not AI-generated",
                    source_type.term()
                ),
            ));
        }
        let stamped = Arc::new(Mutex::new(None));
        let timestamper = o.tsa.map(|url| self.timestamper(url, stamped.clone())).transpose()?;
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
            let nonce = crate::watermark_id::new_nonce();
            let watermark_id = crate::watermark_id::derive(&signer.key.verifying_key(), &nonce);
            let mut marking = mark(input, &bytes, watermark_id, o.visible_label)?;
            let plain = marking.encode(input, None)?;
            let image_data = crate::binding::image_data_sha256(&plain).map_err(|e| fail(input, e))?;
            let mut data = json!({
                "work": work_id,
                "output": {"image_data_sha256": image_data, "image_format": format_name(format)},
                "title": o.title,
                "file": read.info,
                "source_type": source_type.iri(),
                "watermark": {
                    "alg": credentials::WATERMARK_ALG,
                    "payload": format!("{watermark_id:016x}"),
                    "id_nonce": hex::encode(nonce),
                },
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
            // China's implicit label says "generated with AI": written only when it is true.
            let edit_xmp: Option<crate::marking::XmpEdit> = source_type.is_generative_ai().then_some(&edit_xmp);
            let marked = marking.encode(input, edit_xmp)?;
            let embedded = &marking.embedded;
            // The label lives in metadata: the image data must be what the event names.
            if crate::binding::image_data_sha256(&marked).ok() != Some(image_data) {
                return Err(RegistryError::Store(format!(
                    "{}: writing the label changed the image data; nothing was sealed",
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
                watermark: watermark_id,
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
            let signed = credentials::sign_with(&marked, format, &seal, &chain, timestamper.as_ref())
                .map_err(|e| fail(input, e.to_string()))?;
            let scanned = Scanned::from_bytes(&output, &signed, &Limits::default())?;
            let mut work = crate::works::NewWork::from_scanned(Some(work_id), &scanned, o.title, o.license, &identity);
            work.watermark_id = Some(watermark_id);
            tx.insert_work(&work)?;
            std::fs::write(&tmp_out, &signed).map_err(|e| RegistryError::io(&tmp_out, e))?;
            // The time of the token the file carries: signing may ask the authority more
            // than once, and the last answer need not be the one kept.
            let signed_at = timestamper.as_ref().and_then(|_| {
                credentials::read(&signed, format, None).ok()?.active?.signed_at
            });
            Ok((work_id, event, size, embedded.psnr, imported, signed_at))
        });
        let (work_id, event, size, psnr, imported, signed_at) = match sealed {
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
            timestamp: signed_at.or_else(|| stamped.lock().unwrap_or_else(|p| p.into_inner()).take()),
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
                source_type: prior.event.data["source_type"]
                    .as_str()
                    .and_then(SourceType::parse)
                    .map_or("unknown", SourceType::term),
                timestamp: None,
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
