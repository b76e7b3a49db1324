//! A registry server's publications: a creator's sealed work checked, fingerprinted and
//! recorded in the server's own log (docs/server.md).
//!
//! The server decides nothing about authorship. It checks that the key that asks is the key
//! that signed the image's Content Credentials and the journal proof inside them, and records
//! what it was shown. An image that matches a work published earlier under another key is
//! still published, as a disputed claim naming the earlier works: look-ups show every claim,
//! oldest first, and a court weighs them.

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{SigningKey, VerifyingKey};
use fingerprint::catalog::WorkId;
use ledger::{Draft, EventKind, Hash};
use serde::Serialize;
use serde_json::json;

use crate::identity::PublicIdentity;
use crate::shards::Finder;
use crate::store::{Pending, PublicationRow};
use crate::verify_image::{ImageVerdict, VERIFY_LIMITS, VerifyOptions, verify_decoded};
use crate::works::{NewWork, Scanned, Work};
use crate::{RegistryError, Store};

/// The project of the server's log that publications are recorded in.
pub const PUBLICATIONS: &str = "publications";
/// The publication file holding the image's C2PA manifest store (JUMBF).
pub const MANIFEST_FILE: &str = "manifest.c2pa";
/// The longest creator name, title or licence accepted, in characters.
pub const MAX_TEXT: usize = 300;
/// At most this many evidence files, of at most [`MAX_EVIDENCE_BYTES`] together.
pub const MAX_EVIDENCE_FILES: usize = 64;
pub const MAX_EVIDENCE_BYTES: usize = 32 << 20;

/// What a creator sends to publish a work.
#[derive(Debug, Default)]
pub struct Submission {
    /// The sealed image, as it will be published.
    pub image: Vec<u8>,
    pub file_name: String,
    /// The name the creator gives (shown as their claim unless a domain vouches for the key).
    pub creator: String,
    /// The title and licence; the sealed event's when absent.
    pub title: Option<String>,
    pub license: Option<String>,
    /// A web domain already checked to name the creator's key (see docs/server.md).
    pub domain: Option<String>,
    /// The evidence bundle: relative paths and bytes.
    pub evidence: Vec<(String, Vec<u8>)>,
    pub evidence_public: bool,
}

/// A work as published: its record, its publication and where the log holds it.
#[derive(Debug, Serialize)]
pub struct Published {
    pub work: Work,
    pub publication: PublicationRow,
    /// False when this very image was published before (nothing new was written).
    pub new: bool,
    /// The log's checkpoint (signed note) that first covers the `published` event.
    pub checkpoint: Option<String>,
    /// Earlier works under other keys this image matches: the publication is disputed.
    pub disputes: Vec<Work>,
}

/// Checks and publishes `sub` for the creator whose key is `creator`, appending a
/// `published` event to the log signed by `server`. `finder` is the server's search index
/// (only read: the caller adds the new work once this returns) or its matchers, which must
/// all answer, having followed the store up to the latest publication: disputes are never
/// decided on part of the works. Publications must not run concurrently with each other:
/// the caller serialises them, so two near-identical images cannot both miss each other's
/// dispute.
pub fn publish<'a>(
    store: &Store,
    server: &SigningKey,
    finder: impl Into<Finder<'a>>,
    creator: &VerifyingKey,
    sub: Submission,
    options: &VerifyOptions,
) -> Result<(Published, Scanned), RegistryError> {
    check_text("creator", &sub.creator, true)?;
    for (what, text) in [("title", &sub.title), ("license", &sub.license)] {
        if let Some(t) = text {
            check_text(what, t, true)?;
        }
    }
    let evidence = check_evidence(sub.evidence)?;
    let name = Path::new(&sub.file_name);
    let scanned = Scanned::from_bytes(name, &sub.image, &VERIFY_LIMITS)?;
    let verdict = verify_decoded(name, &sub.image, Ok(&scanned.decoded), None, options)?;
    let sealed = sealed_event(&verdict, creator)?;
    if let Some(work) = store.work_by_sha256(&scanned.sha256)?
        && let Some(publication) = store.publication(work.id)?
    {
        let disputes = works(store, &publication.disputes)?;
        return Ok((Published { work, publication, new: false, checkpoint: None, disputes }, scanned));
    }
    let creator_b64 = B64.encode(creator.as_bytes());
    // Earlier works under other keys that this image matches, by fingerprint, among every
    // work published so far.
    let latest = store.recent_publications(1)?.first().map(|p| p.work);
    let found = finder.into().matches(store, &scanned, latest)?;
    if let Some(c) = found.coverage.filter(|c| c.partial) {
        let parts: Vec<String> = c.missing_parts.iter().map(|i| format!("{i}/{}", c.parts)).collect();
        return Err(RegistryError::Unavailable {
            at: "the search index".into(),
            message: format!(
                "part {} did not answer, so the publication's disputes cannot be checked against every \
                 work: nothing was published; try again in a moment",
                parts.join(", ")
            ),
        });
    }
    let mut disputes: Vec<WorkId> =
        found.found.into_iter().filter(|(m, _)| m.public_key != creator_b64).map(|(m, _)| m.work).collect();
    disputes.sort_unstable();
    disputes.dedup();
    let title = sub.title.clone().or(sealed.title).unwrap_or_else(|| sub.file_name.clone());
    // The licence it was sealed with, unless the publication gives another.
    let license = sub.license.clone().or(sealed.license);
    if let Some(l) = &license {
        check_text("license", l, false)?;
    }
    check_text("title", &title, false)?;
    let by = PublicIdentity {
        format: String::new(),
        name: sub.creator.clone(),
        public_key: creator_b64.clone(),
        created: String::new(),
    };
    let mut new = NewWork::from_scanned(None, &scanned, &title, license.as_deref(), &by);
    new.watermark_id = Some(sealed.watermark_id);
    let journal = verdict.journal.as_ref().expect("checked by sealed_event");
    let manifest_id = verdict.c2pa.active.as_ref().map(|m| m.label.clone());
    let manifest_store =
        credentials::Format::sniff(&sub.image).and_then(|f| credentials::manifest_store(&sub.image, f));
    let (work_id, log_index, checkpoint) = store.transaction(|tx| {
        tx.create_project(PUBLICATIONS)?;
        let id = tx.insert_work(&new)?;
        let data = json!({
            "work": id,
            "title": title,
            "license": license,
            "creator": { "name": sub.creator, "key": creator_b64, "domain": sub.domain },
            "image": {
                "sha256": scanned.sha256,
                "image_data_sha256": sealed.image_data,
                "format": scanned.decoded.format.name(),
                "width": scanned.fingerprint.width,
                "height": scanned.fingerprint.height,
            },
            "pdq": scanned.fingerprint.pdq.original.to_hex(),
            "watermark_id": format!("{:016x}", sealed.watermark_id),
            "journal": {
                "log": journal.journal,
                "event_hash": journal.event_hash,
                "log_index": journal.log_index,
                "checkpoint_size": journal.checkpoint_size,
                "work": journal.work,
            },
            "disputes": disputes,
            "evidence": {
                "files": evidence.len(),
                "sha256": evidence_digest(&evidence),
                "public": sub.evidence_public,
            },
        });
        let draft =
            Draft { project: PUBLICATIONS.into(), kind: EventKind::Published, data, derived_from: vec![] };
        let signed = tx.append(server, vec![Pending { draft, files: vec![(scanned.sha256, "output")] }])?;
        let log_index = signed[0].event.log_index;
        let row = PublicationRow {
            work: id,
            log_index,
            creator_key: creator_b64.clone(),
            manifest_id: manifest_id.clone(),
            domain: sub.domain.clone(),
            disputes: disputes.clone(),
            evidence_public: sub.evidence_public,
            withdrawn: None,
        };
        let mut files = vec![("image".to_owned(), sub.image.clone())];
        if let Some(store) = &manifest_store {
            files.push((MANIFEST_FILE.to_owned(), store.clone()));
        }
        files.extend(evidence.iter().map(|(p, b)| (format!("evidence/{p}"), b.clone())));
        tx.insert_publication(&row, &files)?;
        Ok((id, log_index, tx.latest_checkpoint()?.map(|(_, note)| note)))
    })?;
    let work =
        store.work(work_id)?.ok_or_else(|| RegistryError::Store(format!("work {work_id} vanished")))?;
    let publication = store
        .publication(work_id)?
        .ok_or_else(|| RegistryError::Store(format!("publication {log_index} vanished")))?;
    let disputes = works(store, &disputes)?;
    Ok((Published { work, publication, new: true, checkpoint, disputes }, scanned))
}

/// What a withdrawal did.
#[derive(Debug, Serialize)]
pub struct Withdrawn {
    pub work: WorkId,
    /// The `withdrawn` event's index in the log.
    pub log_index: u64,
    /// False when the work was already withdrawn.
    pub new: bool,
}

/// Marks `work` withdrawn at the request of `creator`, who must be the key it was published
/// under. The `published` event stays in the log: a withdrawal is a second event.
pub fn withdraw(
    store: &Store,
    server: &SigningKey,
    creator: &VerifyingKey,
    work: WorkId,
) -> Result<Withdrawn, RegistryError> {
    let creator_b64 = B64.encode(creator.as_bytes());
    store.transaction(|tx| {
        let p = tx
            .publication(work)?
            .ok_or_else(|| RegistryError::NotFound(format!("no published work {work}")))?;
        if p.creator_key != creator_b64 {
            return Err(RegistryError::Forbidden(format!(
                "work {work} was published under another key: only its creator may withdraw it"
            )));
        }
        if let Some(log_index) = p.withdrawn {
            return Ok(Withdrawn { work, log_index, new: false });
        }
        let data = json!({ "work": work, "published": p.log_index });
        let draft =
            Draft { project: PUBLICATIONS.into(), kind: EventKind::Withdrawn, data, derived_from: vec![] };
        let signed = tx.append(server, vec![Pending { draft, files: vec![] }])?;
        let log_index = signed[0].event.log_index;
        tx.mark_withdrawn(work, log_index)?;
        Ok(Withdrawn { work, log_index, new: true })
    })
}

/// What the verified journal proof of a sealed image says.
struct Sealed {
    title: Option<String>,
    license: Option<String>,
    watermark_id: u64,
    image_data: Option<String>,
}

/// The image's verified journal proof, signed by `creator`; anything else is refused.
fn sealed_event(verdict: &ImageVerdict, creator: &VerifyingKey) -> Result<Sealed, RegistryError> {
    let Some(journal) = &verdict.journal else {
        return Err(RegistryError::Invalid(
            "the image carries no journal proof: publish an image sealed with `handprint seal`".into(),
        ));
    };
    if journal.author != B64.encode(creator.as_bytes()) {
        return Err(RegistryError::Forbidden(format!(
            "the image's Content Credentials and journal were signed by another key ({}) than the one that \
             signed this request",
            journal.journal
        )));
    }
    if !journal.verified {
        return Err(RegistryError::Forbidden(format!(
            "the image's journal proof does not verify: {}",
            journal.problems.join("; ")
        )));
    }
    let assertion = verdict.c2pa.active.as_ref().and_then(|m| m.journal.as_ref());
    let data = assertion.map(|a| &a["event"]["event"]["data"]);
    let watermark_id = verdict
        .watermark
        .as_ref()
        .and_then(|w| u64::from_str_radix(&w.payload, 16).ok())
        .ok_or_else(|| RegistryError::Invalid("the image's watermark cannot be read".into()))?;
    Ok(Sealed {
        title: data.and_then(|d| d["title"].as_str()).map(str::to_owned),
        license: data.and_then(|d| d["license"].as_str()).map(str::to_owned),
        watermark_id,
        image_data: data.and_then(|d| d["output"]["image_data_sha256"].as_str()).map(str::to_owned),
    })
}

fn works(store: &Store, ids: &[WorkId]) -> Result<Vec<Work>, RegistryError> {
    ids.iter().filter_map(|&id| store.work(id).transpose()).collect()
}

/// Refuses text too long, empty (when `required`), or with control or direction characters.
fn check_text(what: &str, text: &str, required: bool) -> Result<(), RegistryError> {
    if required && text.trim().is_empty() {
        return Err(RegistryError::Invalid(format!("the {what} is empty")));
    }
    if text.chars().count() > MAX_TEXT {
        return Err(RegistryError::Invalid(format!("the {what} is longer than {MAX_TEXT} characters")));
    }
    if text.chars().any(ledger::text::is_deceptive) {
        return Err(RegistryError::Invalid(format!("the {what} holds control or text-direction characters")));
    }
    Ok(())
}

/// Evidence paths are relative, made of plain names; within the count and size limits.
fn check_evidence(files: Vec<(String, Vec<u8>)>) -> Result<Vec<(String, Vec<u8>)>, RegistryError> {
    if files.len() > MAX_EVIDENCE_FILES {
        return Err(RegistryError::Invalid(format!("more than {MAX_EVIDENCE_FILES} evidence files")));
    }
    if files.iter().map(|(_, b)| b.len()).sum::<usize>() > MAX_EVIDENCE_BYTES {
        return Err(RegistryError::Invalid(format!("evidence larger than {} MiB", MAX_EVIDENCE_BYTES >> 20)));
    }
    for (path, _) in &files {
        let plain = |c: &str| {
            !c.is_empty()
                && !c.starts_with('.')
                && c.len() <= 100
                && c.chars().all(|ch| ch.is_ascii_alphanumeric() || "._-".contains(ch))
        };
        if path.split('/').count() > 4 || !path.split('/').all(plain) {
            return Err(RegistryError::Invalid(format!(
                "evidence file name {path:?}: use up to four plain names (letters, digits, '.', '_', '-') joined by '/'"
            )));
        }
    }
    let mut files = files;
    files.sort_by(|a, b| a.0.cmp(&b.0));
    if files.windows(2).any(|w| w[0].0 == w[1].0) {
        return Err(RegistryError::Invalid("an evidence file is named twice".into()));
    }
    Ok(files)
}

/// SHA-256 over the evidence files: each path, a zero byte, the SHA-256 of its bytes, in
/// path order. Recorded in the log so the files kept can be checked against it.
pub fn evidence_digest(files: &[(String, Vec<u8>)]) -> Hash {
    let mut all = Vec::new();
    for (path, bytes) in files {
        all.extend_from_slice(path.as_bytes());
        all.push(0);
        all.extend_from_slice(&Hash::of(bytes).0);
    }
    Hash::of(&all)
}
