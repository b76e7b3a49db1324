//! Registered works: `register` stores a work with its fingerprints; `search` and `scan`
//! load them into a [`Catalog`] and look images up in it.
//!
//! A work is one row of `works` (title, licence, who registered it, the file's SHA-256, the
//! pHash, the local features in the byte form of [`prints::features_to_bytes`], a PNG
//! thumbnail for side-by-side views) and a row of `work_codes` per global code.

use std::path::{Path, PathBuf};

use fingerprint::catalog::{self, Catalog, Variant, WorkId};
use fingerprint::decode::{self, Decoded, Limits};
use fingerprint::prints::{self, Fingerprint};
use ledger::Hash;
use serde::Serialize;

use ledger::{Draft, EventKind};
use serde_json::json;

use crate::identity::{Identity, PublicIdentity};
use crate::store::Pending;
use crate::{Registry, RegistryError, Store};

/// The largest image file `register`, `search` and `scan` read.
pub const MAX_IMAGE_FILE: u64 = 256 << 20;
/// The longer side of stored thumbnails.
pub const THUMBNAIL_SIDE: u32 = 384;

/// A registered work, as listed and as matches name it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Work {
    pub id: WorkId,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    pub registrant: String,
    pub public_key: String,
    pub file_name: String,
    pub sha256: Hash,
    pub width: u32,
    pub height: u32,
    pub registered: String,
    /// The ID its watermark carries (sealed works; see [`crate::watermark_id`]).
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "hex_id")]
    pub watermark_id: Option<u64>,
}

fn hex_id<S: serde::Serializer>(id: &Option<u64>, s: S) -> Result<S::Ok, S::Error> {
    match id {
        Some(id) => s.serialize_str(&format!("{id:016x}")),
        None => s.serialize_none(),
    }
}

/// An image file read, decoded within limits and fingerprinted.
pub struct Scanned {
    pub path: PathBuf,
    pub sha256: Hash,
    pub decoded: Decoded,
    pub fingerprint: Fingerprint,
}

/// Reads, decodes and fingerprints one image; every failure names the file.
pub fn scan_file(path: &Path, limits: &Limits) -> Result<Scanned, RegistryError> {
    let bytes = crate::read_limited(path, MAX_IMAGE_FILE)?;
    Scanned::from_bytes(path, &bytes, limits)
}

impl Scanned {
    /// Decodes and fingerprints `bytes`, the contents of `path`.
    pub fn from_bytes(path: &Path, bytes: &[u8], limits: &Limits) -> Result<Scanned, RegistryError> {
        let fail = |message: String| RegistryError::File { path: path.into(), message };
        let decoded = decode::decode(bytes, limits).map_err(|e| fail(e.to_string()))?;
        let fingerprint = prints::fingerprint(&decoded.image);
        Ok(Scanned { path: path.into(), sha256: Hash::of(bytes), decoded, fingerprint })
    }
}

/// What `register` did.
#[derive(Debug)]
pub enum Registration {
    New(Work),
    /// A work with the same file (by SHA-256) was registered before.
    Already(Work),
}

/// The project `register` records into when none is named; created on first use.
pub const DEFAULT_PROJECT: &str = "works";

impl Registry {
    /// Registers `scanned` as a work of `project` (default [`DEFAULT_PROJECT`]): the work
    /// with its codes, and a signed `registered` event naming it, in one transaction.
    /// Registering the same file again returns the existing work and writes nothing.
    pub fn register(
        &self,
        signer: &Identity,
        project: Option<&str>,
        scanned: &Scanned,
        title: &str,
        license: Option<&str>,
    ) -> Result<Registration, RegistryError> {
        if title.trim().is_empty() {
            return Err(RegistryError::Invalid("a work needs a title (--title)".into()));
        }
        if let Some(work) = self.store.work_by_sha256(&scanned.sha256)? {
            return Ok(Registration::Already(work));
        }
        let project = project.unwrap_or(DEFAULT_PROJECT);
        let mut new = NewWork::from_scanned(None, scanned, title, license, &self.public);
        // An ID for the watermark `watermark embed --work` puts in copies of it.
        let nonce = crate::watermark_id::new_nonce();
        let watermark_id = crate::watermark_id::derive(&signer.key.verifying_key(), &nonce);
        new.watermark_id = Some(watermark_id);
        let f = &scanned.fingerprint;
        let id = self.store.transaction(|tx| {
            // The default project is made on first use, in this same transaction.
            if !tx.view().project_exists(project)? {
                if project != DEFAULT_PROJECT {
                    return Err(RegistryError::NoProject(project.into()));
                }
                tx.create_project(project)?;
            }
            let id = tx.insert_work(&new)?;
            let mut data = json!({
                "work": id,
                "title": title,
                "file": {
                    "name": new.file_name,
                    "sha256": scanned.sha256,
                    "image_format": scanned.decoded.format.name(),
                    "width": f.width,
                    "height": f.height,
                },
                "pdq": f.pdq.original.to_hex(),
                "pdq_quality": f.pdq.quality,
                "watermark": {
                    "alg": credentials::WATERMARK_ALG,
                    "payload": format!("{watermark_id:016x}"),
                    "id_nonce": hex::encode(nonce),
                },
            });
            if let Some(l) = license {
                data["license"] = json!(l);
            }
            let draft =
                Draft { project: project.into(), kind: EventKind::Registered, data, derived_from: vec![] };
            tx.append(&signer.key, vec![Pending { draft, files: vec![(scanned.sha256, "input")] }])?;
            Ok(id)
        })?;
        let work = self.store.work(id)?.ok_or_else(|| RegistryError::Store(format!("work {id} vanished")))?;
        Ok(Registration::New(work))
    }
}

impl Store {
    /// The work's stored thumbnail, decoded.
    pub fn thumbnail(&self, id: WorkId) -> Result<decode::Rgb, RegistryError> {
        let png = self.thumbnail_png(id)?;
        let limits = Limits { min_side: 1, ..Limits::default() };
        decode::decode(&png, &limits)
            .map(|d| d.image)
            .map_err(|e| RegistryError::Store(format!("thumbnail of work {id}: {e}")))
    }

    /// Every registered work's codes and features, indexed for search.
    pub fn catalog(&self) -> Result<Catalog, RegistryError> {
        self.catalog_of(|_| true)
    }

    /// A catalog of the works `keep` says to hold.
    pub fn catalog_of(&self, keep: impl Fn(WorkId) -> bool) -> Result<Catalog, RegistryError> {
        let mut codes: std::collections::HashMap<WorkId, Vec<(Variant, fingerprint::index::Code)>> =
            Default::default();
        self.backend().each_work_code(&mut |work, variant, code| {
            if !keep(work) {
                return Ok(());
            }
            let variant = Variant::from_name(&variant).ok_or_else(|| {
                RegistryError::Store(format!("work {work}: unknown code variant {variant:?}"))
            })?;
            let code = code_from_bytes(&code)
                .ok_or_else(|| RegistryError::Store(format!("work {work}: a code is not 32 bytes")))?;
            codes.entry(work).or_default().push((variant, code));
            Ok(())
        })?;
        let mut works = Vec::new();
        self.backend().each_work_features(&mut |id, bytes| {
            if !keep(id) {
                return Ok(());
            }
            let features = prints::features_from_bytes(&bytes)
                .ok_or_else(|| RegistryError::Store(format!("work {id}: damaged features")))?;
            works.push((id, codes.remove(&id).unwrap_or_default(), features));
            Ok(())
        })?;
        Ok(Catalog::build(works))
    }
}

/// A work as stored: its record, fingerprints and thumbnail, computed before the write.
pub struct NewWork {
    /// The ID to store it under (a seal names its work before storing it); next free if none.
    pub id: Option<WorkId>,
    /// The ID its watermark carries, unique in the store (sealed works).
    pub watermark_id: Option<u64>,
    pub title: String,
    pub license: Option<String>,
    pub registrant: String,
    pub public_key: String,
    pub file_name: String,
    pub sha256: Hash,
    pub width: u32,
    pub height: u32,
    pub registered: String,
    pub pdq_quality: u32,
    pub phash: i64,
    /// Local features in the byte form of [`prints::features_to_bytes`].
    pub features: Vec<u8>,
    /// PNG, longer side [`THUMBNAIL_SIDE`].
    pub thumbnail: Vec<u8>,
    /// (variant name, 32-byte code), as [`catalog::work_codes`] gives them.
    pub codes: Vec<(String, Vec<u8>)>,
}

impl NewWork {
    pub fn from_scanned(
        id: Option<WorkId>,
        scanned: &Scanned,
        title: &str,
        license: Option<&str>,
        by: &PublicIdentity,
    ) -> NewWork {
        let f = &scanned.fingerprint;
        let image = &scanned.decoded.image;
        NewWork {
            id,
            watermark_id: None,
            title: title.to_owned(),
            license: license.map(str::to_owned),
            registrant: by.name.clone(),
            public_key: by.public_key.clone(),
            file_name: scanned.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
            sha256: scanned.sha256,
            width: f.width,
            height: f.height,
            registered: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            pdq_quality: f.pdq.quality,
            phash: fingerprint::phash::from_rgb(image.width as usize, image.height as usize, &image.pixels)
                as i64,
            features: prints::features_to_bytes(&f.features),
            thumbnail: decode::encode_png(&prints::thumbnail(image, THUMBNAIL_SIDE)),
            codes: catalog::work_codes(f)
                .into_iter()
                .map(|(v, c)| (v.name().to_owned(), code_bytes(&c)))
                .collect(),
        }
    }
}

fn code_bytes(code: &fingerprint::index::Code) -> Vec<u8> {
    code.iter().flat_map(|w| w.to_le_bytes()).collect()
}

pub(crate) fn code_from_bytes(b: &[u8]) -> Option<fingerprint::index::Code> {
    (b.len() == 32).then(|| {
        std::array::from_fn(|w| u64::from_le_bytes(b[8 * w..8 * w + 8].try_into().expect("8 bytes")))
    })
}
