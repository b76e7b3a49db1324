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
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use crate::identity::PublicIdentity;
use crate::store::Tx;
use crate::{RegistryError, Store};

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

impl Store {
    /// Registers `scanned` as a work. The work and its codes are written in one transaction.
    pub fn register(
        &mut self,
        scanned: &Scanned,
        title: &str,
        license: Option<&str>,
        by: &PublicIdentity,
    ) -> Result<Registration, RegistryError> {
        if title.trim().is_empty() {
            return Err(RegistryError::Invalid("a work needs a title (--title)".into()));
        }
        if let Some(work) = self.work_by_sha256(&scanned.sha256)? {
            return Ok(Registration::Already(work));
        }
        let id = self.transaction(|tx| tx.insert_work(None, scanned, title, license, by))?;
        let work = self.work(id)?.ok_or_else(|| RegistryError::Store(format!("work {id} vanished")))?;
        Ok(Registration::New(work))
    }

    const WORK_COLUMNS: &str =
        "id, title, license, registrant, public_key, file_name, sha256, width, height, registered";

    fn work_from_row(row: &rusqlite::Row) -> rusqlite::Result<Work> {
        let sha: Vec<u8> = row.get(6)?;
        Ok(Work {
            id: row.get(0)?,
            title: row.get(1)?,
            license: row.get(2)?,
            registrant: row.get(3)?,
            public_key: row.get(4)?,
            file_name: row.get(5)?,
            sha256: Hash(sha.try_into().map_err(|_| {
                rusqlite::Error::InvalidColumnType(6, "sha256".into(), rusqlite::types::Type::Blob)
            })?),
            width: row.get(7)?,
            height: row.get(8)?,
            registered: row.get(9)?,
        })
    }

    pub fn work(&self, id: WorkId) -> Result<Option<Work>, RegistryError> {
        let sql = format!("SELECT {} FROM works WHERE id = ?1", Self::WORK_COLUMNS);
        self.conn().query_row(&sql, [id], Self::work_from_row).optional().map_err(self.db())
    }

    pub fn work_by_sha256(&self, sha256: &Hash) -> Result<Option<Work>, RegistryError> {
        let sql = format!("SELECT {} FROM works WHERE sha256 = ?1", Self::WORK_COLUMNS);
        self.conn().query_row(&sql, [sha256.0.as_slice()], Self::work_from_row).optional().map_err(self.db())
    }

    pub fn works(&self) -> Result<Vec<Work>, RegistryError> {
        let sql = format!("SELECT {} FROM works ORDER BY id", Self::WORK_COLUMNS);
        let mut stmt = self.conn().prepare(&sql).map_err(self.db())?;
        let rows = stmt.query_map([], Self::work_from_row).map_err(self.db())?;
        rows.collect::<Result<_, _>>().map_err(self.db())
    }

    /// The work's stored thumbnail, decoded.
    pub fn thumbnail(&self, id: WorkId) -> Result<decode::Rgb, RegistryError> {
        let png: Vec<u8> = self
            .conn()
            .query_row("SELECT thumbnail FROM works WHERE id = ?1", [id], |r| r.get(0))
            .map_err(self.db())?;
        let limits = Limits { min_side: 1, ..Limits::default() };
        decode::decode(&png, &limits)
            .map(|d| d.image)
            .map_err(|e| RegistryError::Store(format!("thumbnail of work {id}: {e}")))
    }

    /// Every registered work's codes and features, indexed for search.
    pub fn catalog(&self) -> Result<Catalog, RegistryError> {
        let db = self.db();
        let mut codes: std::collections::HashMap<WorkId, Vec<(Variant, fingerprint::index::Code)>> =
            Default::default();
        let mut stmt = self.conn().prepare("SELECT work, variant, code FROM work_codes").map_err(&db)?;
        let mut rows = stmt.query([]).map_err(&db)?;
        while let Some(row) = rows.next().map_err(&db)? {
            let (work, variant, code): (WorkId, String, Vec<u8>) =
                (row.get(0).map_err(&db)?, row.get(1).map_err(&db)?, row.get(2).map_err(&db)?);
            let variant = Variant::from_name(&variant).ok_or_else(|| {
                RegistryError::Store(format!("work {work}: unknown code variant {variant:?}"))
            })?;
            let code = code_from_bytes(&code)
                .ok_or_else(|| RegistryError::Store(format!("work {work}: a code is not 32 bytes")))?;
            codes.entry(work).or_default().push((variant, code));
        }
        let mut stmt = self.conn().prepare("SELECT id, features FROM works ORDER BY id").map_err(&db)?;
        let mut rows = stmt.query([]).map_err(&db)?;
        let mut works = Vec::new();
        while let Some(row) = rows.next().map_err(&db)? {
            let (id, bytes): (WorkId, Vec<u8>) = (row.get(0).map_err(&db)?, row.get(1).map_err(&db)?);
            let features = prints::features_from_bytes(&bytes)
                .ok_or_else(|| RegistryError::Store(format!("work {id}: damaged features")))?;
            works.push((id, codes.remove(&id).unwrap_or_default(), features));
        }
        Ok(Catalog::build(works))
    }
}

fn code_bytes(code: &fingerprint::index::Code) -> Vec<u8> {
    code.iter().flat_map(|w| w.to_le_bytes()).collect()
}

fn code_from_bytes(b: &[u8]) -> Option<fingerprint::index::Code> {
    (b.len() == 32).then(|| {
        std::array::from_fn(|w| u64::from_le_bytes(b[8 * w..8 * w + 8].try_into().expect("8 bytes")))
    })
}

impl Tx<'_> {
    /// The ID the next registered work gets (the write lock is held: nobody else takes it).
    pub fn next_work_id(&self) -> Result<WorkId, RegistryError> {
        self.conn()
            .query_row("SELECT COALESCE(MAX(id), 0) + 1 FROM works", [], |r| r.get(0))
            .map_err(self.db())
    }

    /// Stores `scanned` as a work with its codes (under `id` when given).
    pub fn insert_work(
        &self,
        id: Option<WorkId>,
        scanned: &Scanned,
        title: &str,
        license: Option<&str>,
        by: &PublicIdentity,
    ) -> Result<WorkId, RegistryError> {
        let f = &scanned.fingerprint;
        let thumbnail = decode::encode_png(&prints::thumbnail(&scanned.decoded.image, THUMBNAIL_SIDE));
        let file_name =
            scanned.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let db = self.db();
        self.conn()
            .execute(
                "INSERT INTO works (id, title, license, registrant, public_key, file_name, sha256, width, height,
                                    registered, pdq_quality, phash, features, thumbnail)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
                params![
                    id,
                    title,
                    license,
                    by.name,
                    by.public_key,
                    file_name,
                    scanned.sha256.0.as_slice(),
                    f.width,
                    f.height,
                    now,
                    f.pdq.quality,
                    fingerprint::phash::from_rgb(
                        scanned.decoded.image.width as usize,
                        scanned.decoded.image.height as usize,
                        &scanned.decoded.image.pixels
                    ) as i64,
                    prints::features_to_bytes(&f.features),
                    thumbnail,
                ],
            )
            .map_err(&db)?;
        let id = self.conn().last_insert_rowid();
        for (variant, code) in catalog::work_codes(f) {
            self.conn()
                .execute(
                    "INSERT INTO work_codes (work, variant, code) VALUES (?1, ?2, ?3)",
                    params![id, variant.name(), code_bytes(&code)],
                )
                .map_err(&db)?;
        }
        Ok(id)
    }
}
