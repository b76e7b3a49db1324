//! The evidence of a sealed work: which work an ID or a file names, the project's journal up
//! to the work's seal, the report made from them ([`evidence::Report`]), and the folder it is
//! written into (`report.html`, `report.pdf`, `report.json`, `bundle/`).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use base64::Engine;
use evidence::{Jurisdiction, Report, WorkInfo};
use fingerprint::catalog::WorkId;
use ledger::{EventKind, Hash, SignedEvent};
use serde::Serialize;

use crate::identity::Identity;
use crate::verify_image::{Registered, verify_image};
use crate::works::Work;
use crate::{Registry, RegistryError, Store};

/// Files larger than this are not read for thumbnails.
pub const MAX_THUMBNAIL_SOURCE: u64 = 64 << 20;
/// The longer side of the thumbnails drawn beside the events.
pub const EVENT_THUMBNAIL_SIDE: u32 = 96;

/// The work a file is: registered here (by its SHA-256), or carrying a handprint seal in its
/// Content Credentials. `name` is how errors name the file.
pub fn work_of_file(store: &Store, name: &Path, bytes: &[u8]) -> Result<WorkId, RegistryError> {
    if let Some(w) = store.work_by_sha256(&Hash::of(bytes))? {
        return Ok(w.id);
    }
    let by_manifest = || -> Option<WorkId> {
        let format = credentials::Format::sniff(bytes)?;
        let c = credentials::read(bytes, format, None).ok()?;
        c.active?.journal?["work"].as_i64()
    };
    by_manifest().ok_or_else(|| RegistryError::File {
        path: name.into(),
        message: "not a work registered here, and no handprint seal in it".into(),
    })
}

/// The `sealed` event of `work`; none when it was never sealed. Only sealed events are read,
/// project by project.
pub fn sealed_event(store: &Store, work: WorkId) -> Result<Option<SignedEvent>, RegistryError> {
    let view = store.view();
    for (project, _, _) in store.projects()? {
        let sealed = view.latest(&project, EventKind::Sealed, i64::MAX as usize)?;
        if let Some(e) = sealed.into_iter().find(|e| e.event.data["work"].as_i64() == Some(work)) {
            return Ok(Some(e));
        }
    }
    Ok(None)
}

/// The events of the project `work` was sealed in, and the sealed event's place among them;
/// none when it was never sealed.
pub fn sealed_project(
    store: &Store,
    work: WorkId,
) -> Result<(Vec<SignedEvent>, Option<usize>), RegistryError> {
    let Some(sealed) = sealed_event(store, work)? else {
        return Ok((Vec::new(), None));
    };
    let events = store.events(Some(&sealed.event.project))?;
    let at = events.iter().position(|e| e.hash() == sealed.hash());
    Ok((events, at))
}

/// A PNG as a `data:` URI.
fn png_data_uri(image: &fingerprint::decode::Rgb) -> String {
    let png = fingerprint::decode::encode_png(image);
    format!("data:image/png;base64,{}", base64::engine::general_purpose::STANDARD.encode(png))
}

/// Thumbnails of the files under `dirs` (three levels deep) whose SHA-256 (hex) is `wanted`,
/// as `data:` URIs by SHA-256. Files that cannot be read or decoded are passed over.
pub fn thumbnails(dirs: &[PathBuf], wanted: &HashSet<String>) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for dir in dirs {
        for entry in walkdir::WalkDir::new(dir).max_depth(3).into_iter().flatten() {
            if !entry.file_type().is_file()
                || entry.metadata().map_or(true, |m| m.len() > MAX_THUMBNAIL_SOURCE)
            {
                continue;
            }
            let Ok(bytes) = std::fs::read(entry.path()) else { continue };
            let sha = Hash::of(&bytes).to_hex();
            if !wanted.contains(&sha) || out.contains_key(&sha) {
                continue;
            }
            if let Ok(d) = fingerprint::decode::decode(
                &bytes,
                &fingerprint::decode::Limits { min_side: 8, ..Default::default() },
            ) {
                out.insert(
                    sha,
                    png_data_uri(&fingerprint::prints::thumbnail(&d.image, EVENT_THUMBNAIL_SIDE)),
                );
            }
        }
    }
    out
}

/// The sealed file itself, when the claim was asked for by it.
#[derive(Clone, Copy)]
pub struct SealedFile<'a> {
    pub path: &'a Path,
    pub bytes: &'a [u8],
}

/// What to make the evidence of.
pub struct ClaimRequest<'a> {
    pub work: WorkId,
    /// Checked against the work's SHA-256, verified, and copied into the bundle.
    pub sealed_file: Option<SealedFile<'a>>,
    /// Folders holding the project's images: those the journal names get thumbnails.
    pub images: &'a [PathBuf],
    /// Whose standards to set the facts against.
    pub jurisdictions: &'a [Jurisdiction],
}

/// The evidence of a work: its report, and what its bundle is made of.
#[derive(Serialize)]
pub struct Claim<'a> {
    pub work: Work,
    pub report: Report,
    /// The project the work was sealed in: its export goes into the bundle.
    pub project: Option<String>,
    #[serde(skip)]
    sealed_file: Option<SealedFile<'a>>,
}

/// Makes the evidence report of a work (see [`ClaimRequest`]). Nothing is written.
pub fn claim<'a>(reg: &Registry, request: &ClaimRequest<'a>) -> Result<Claim<'a>, RegistryError> {
    let id = request.work;
    let work = reg
        .store
        .work(id)?
        .ok_or_else(|| RegistryError::Invalid(format!("no work {id} (see `handprint works`)")))?;
    let (events, sealed_at) = sealed_project(&reg.store, id)?;
    if let Some(f) = &request.sealed_file {
        let sha256 = Hash::of(f.bytes);
        if sha256 != work.sha256 {
            return Err(RegistryError::Invalid(format!(
                "{}: not the file sealed as work {id} (its SHA-256 is {}, the work's {}): give the \
                 sealed file itself, or the work's ID",
                f.path.display(),
                sha256.to_hex(),
                work.sha256.to_hex()
            )));
        }
    }
    let facts = evidence::facts(&events, sealed_at);
    let mut info = WorkInfo {
        id: work.id,
        title: work.title.clone(),
        license: work.license.clone(),
        registrant: work.registrant.clone(),
        sha256: work.sha256.to_hex(),
        width: work.width,
        height: work.height,
        thumbnail: reg.store.thumbnail(work.id).ok().map(|t| png_data_uri(&t)),
        ..Default::default()
    };
    if let Some(f) = &request.sealed_file {
        let anchors = crate::identity::root_certificate(&reg.home);
        let catalog = reg.store.catalog()?;
        let registered = Registered { store: &reg.store, catalog: &catalog };
        let v = verify_image(f.path, Some(&registered), anchors.as_deref())?;
        info.c2pa = Some(format!("{:?}: {}", v.c2pa.status, v.verdict));
        info.watermark = v
            .watermark
            .map(|w| format!("payload {} (false-positive bound {:.1e})", w.payload, w.false_positive));
    }
    let integrity = crate::journal_check::journal_check(reg)?.integrity();
    let wanted = facts.nodes.iter().filter_map(|n| n.sha256.clone()).collect();
    let mut report = Report::new(facts, Some(info), integrity, request.jurisdictions, ledger::event::now());
    report.thumbnails = thumbnails(request.images, &wanted);
    let project = sealed_at.map(|i| events[i].event.project.clone());
    Ok(Claim { work, report, project, sealed_file: request.sealed_file })
}

/// What [`Claim::write`] wrote.
#[derive(Debug, Serialize)]
pub struct ClaimWritten {
    pub work: WorkId,
    pub out: PathBuf,
    pub report: PathBuf,
    pub journal_verified: bool,
    pub events: usize,
    pub sealed: bool,
    /// Characters the PDF's font lacks, drawn there as boxes (`report.html` shows them).
    #[serde(skip)]
    pub missing_glyphs: Vec<char>,
}

/// Refuses a folder that exists and holds anything: a claim is written into a new or empty one.
pub fn check_out_dir(out: &Path) -> Result<(), RegistryError> {
    if out.exists() && std::fs::read_dir(out).map_err(|e| RegistryError::io(out, e))?.next().is_some() {
        return Err(RegistryError::Invalid(format!(
            "{}: exists and is not empty; choose another --out",
            out.display()
        )));
    }
    Ok(())
}

impl Claim<'_> {
    /// Whether the bundle holds the project's export, signed with the journal's key: then
    /// [`Claim::write`] needs the signer.
    pub fn needs_signer(&self) -> bool {
        self.project.is_some()
    }

    /// Writes the report (HTML, PDF, JSON) and the bundle (the project's export, signed by
    /// `signer`, and the sealed image in `bundle/image/`) into `out`, which must not exist or
    /// be empty. They are written beside it and renamed into place: an interrupted claim
    /// leaves no half report.
    pub fn write(
        &self,
        reg: &Registry,
        signer: Option<&Identity>,
        out: &Path,
    ) -> Result<ClaimWritten, RegistryError> {
        check_out_dir(out)?;
        let partial = partial_dir(out)?;
        let missing_glyphs = match self.write_into(reg, signer, &partial) {
            Ok(m) => m,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&partial);
                return Err(e);
            }
        };
        if out.exists() {
            std::fs::remove_dir(out).map_err(|e| RegistryError::File {
                path: out.into(),
                message: format!("cannot replace: {e}"),
            })?;
        }
        std::fs::rename(&partial, out).map_err(|e| RegistryError::File {
            path: out.into(),
            message: format!("cannot move the report into place: {e}"),
        })?;
        Ok(ClaimWritten {
            work: self.work.id,
            out: out.to_path_buf(),
            report: out.join("report.html"),
            journal_verified: self.report.integrity.journal_verified,
            events: self.report.facts.counts.events,
            sealed: self.report.facts.sealed.is_some(),
            missing_glyphs,
        })
    }

    /// Writes everything into `out` (a new folder); returns the characters the PDF lacks.
    fn write_into(
        &self,
        reg: &Registry,
        signer: Option<&Identity>,
        out: &Path,
    ) -> Result<Vec<char>, RegistryError> {
        let write = |name: &str, bytes: &[u8]| {
            let path = out.join(name);
            std::fs::write(&path, bytes).map_err(|e| RegistryError::io(&path, e))
        };
        let mkdir = |dir: &Path| std::fs::create_dir_all(dir).map_err(|e| RegistryError::io(dir, e));
        let report_error = |e: evidence::EvidenceError| RegistryError::Invalid(e.to_string());
        mkdir(out)?;
        write("report.html", self.report.html().map_err(report_error)?.as_bytes())?;
        let json = serde_json::to_vec_pretty(&self.report)
            .map_err(|e| RegistryError::Invalid(format!("report.json: {e}")))?;
        write("report.json", &json)?;
        let (pdf, missing) = self.report.pdf().map_err(report_error)?;
        write("report.pdf", &pdf)?;
        // The bundle: the project's export, with the sealed image beside it in image/.
        let bundle = out.join("bundle");
        match (&self.project, signer) {
            (Some(project), Some(signer)) => drop(reg.export(signer, project, &bundle)?),
            _ => mkdir(&bundle)?,
        }
        if let Some(f) = &self.sealed_file {
            let name = f.path.file_name().ok_or_else(|| RegistryError::File {
                path: f.path.into(),
                message: "not a file name".into(),
            })?;
            let dir = bundle.join("image");
            mkdir(&dir)?;
            let path = dir.join(name);
            std::fs::write(&path, f.bytes).map_err(|e| RegistryError::io(&path, e))?;
        }
        Ok(missing)
    }
}

/// A hidden, new folder beside `out`, to be renamed to it.
fn partial_dir(out: &Path) -> Result<PathBuf, RegistryError> {
    let name = out
        .file_name()
        .ok_or_else(|| RegistryError::File { path: out.into(), message: "not a folder name".into() })?;
    let partial = out.with_file_name(format!(".{}.partial-{}", name.to_string_lossy(), std::process::id()));
    let _ = std::fs::remove_dir_all(&partial);
    Ok(partial)
}
