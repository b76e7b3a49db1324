//! `register`: a finished work added to the works that `search` and `scan` find copies of.

use std::path::Path;

use fingerprint::catalog::WorkId;
use fingerprint::decode::Limits;
use serde::Serialize;

use crate::identity::Identity;
use crate::works::{Registration, Work, scan_file};
use crate::{Registry, RegistryError};

/// A PDQ quality below this (a flat or tiny image) leaves copies to be found by local
/// features only.
pub const LOW_PDQ_QUALITY: u32 = 50;

/// What `register` did: the work (new, or the one registered before with the same file) and
/// the fingerprints it is found by.
#[derive(Debug, Serialize)]
pub struct RegisteredWork {
    #[serde(flatten)]
    pub entry: Work,
    pub work: WorkId,
    /// Whether the work was registered now (not before, with the same file).
    pub new: bool,
    /// Local features of the image.
    pub features: usize,
    /// PDQ's quality of the image (0–100).
    pub pdq_quality: u32,
}

/// Reads, fingerprints and registers the image at `path` as a work titled `title`, recorded
/// in `project`'s journal (see [`Registry::register`]).
pub fn register(
    reg: &Registry,
    signer: &Identity,
    project: Option<&str>,
    path: &Path,
    title: &str,
    license: Option<&str>,
) -> Result<RegisteredWork, RegistryError> {
    let scanned = scan_file(path, &Limits::default())?;
    let (entry, new) = match reg.register(signer, project, &scanned, title, license)? {
        Registration::New(w) => (w, true),
        Registration::Already(w) => (w, false),
    };
    Ok(RegisteredWork {
        work: entry.id,
        entry,
        new,
        features: scanned.fingerprint.features.features.len(),
        pdq_quality: scanned.fingerprint.pdq.quality,
    })
}
