//! Looking images up among the registered works, for `search` and `scan`: what each match
//! says, in the JSON `docs/fingerprints.md` specifies, and the side-by-side picture of a work
//! and the image that matched it. A file `scan` cannot read is an [`Unreadable`](crate::answers::Unreadable).

use std::path::{Path, PathBuf};

use fingerprint::catalog::{Catalog, Match, Variant, WorkId};
use fingerprint::decode::{self, Rgb};
use fingerprint::features::Features;
use fingerprint::index::Code;
use fingerprint::prints;
use fingerprint::snapshot::{self, Position};
use ledger::Hash;
use serde::Serialize;

use crate::answers::rounded;
use crate::works::{Scanned, THUMBNAIL_SIDE, Work};
use crate::{RegistryError, Store};

/// The registered works, loaded once for looking many images up: their fingerprints indexed,
/// and what matches name of them.
pub struct SearchIndex {
    pub catalog: Catalog,
    /// The works this index holds: all, or one part of them (a matcher process's shard).
    part: Part,
    /// The highest work ID indexed: works are numbered in the order they are stored.
    last: WorkId,
    /// Where the catalog's snapshot is kept, if anywhere.
    snapshot: Option<PathBuf>,
    /// Why the snapshot was not used, when it was not: for the front end to say.
    pub rebuilt: Option<String>,
}

/// The directory of a data directory that holds its catalog snapshot.
pub const CATALOG_DIR: &str = "catalog";

/// A merge of the works added since the snapshot into a new one: prepared under the index's
/// lock, run without it ([`PendingMerge::run`]), installed with it ([`SearchIndex::install`]).
pub struct PendingMerge {
    merge: fingerprint::catalog::Merge,
    dir: Option<PathBuf>,
    position: Position,
}

/// A merged catalog base, ready to install.
pub struct Merged(fingerprint::catalog::Segment);

impl PendingMerge {
    /// Builds the new base and writes it as the snapshot: slow, so without any lock.
    pub fn run(self) -> Result<Merged, RegistryError> {
        let segment =
            self.merge.run().map_err(|e| RegistryError::Store(format!("merging the catalog: {e}")))?;
        if let Some(dir) = &self.dir {
            let catalog = Catalog::from_segment(segment);
            snapshot::write(&catalog, dir, self.position).map_err(|e| RegistryError::Store(e.to_string()))?;
            let segment = std::sync::Arc::try_unwrap(catalog.into_base())
                .map_err(|_| RegistryError::Store("catalog base still shared".into()))?;
            return Ok(Merged(segment));
        }
        Ok(Merged(segment))
    }
}

/// What a snapshot must say of the store it was built from: the highest work ID it covers,
/// and a hash of that work's image and of the part held, so a snapshot of another store or
/// part is never used.
fn position_of(store: &Store, last: WorkId, part: Part) -> Result<Option<Position>, RegistryError> {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(b"handprint catalog snapshot\n");
    h.update(part.index.to_le_bytes());
    h.update(part.count.to_le_bytes());
    h.update(last.to_le_bytes());
    if last != 0 {
        match store.work(last)? {
            Some(w) => h.update(w.sha256.0),
            None => return Ok(None),
        }
    }
    Ok(Some(Position { last, check: h.finalize().into() }))
}

impl SearchIndex {
    pub fn load(store: &Store) -> Result<SearchIndex, RegistryError> {
        SearchIndex::load_part(store, Part::WHOLE)
    }

    /// An index of the works of one part only.
    pub fn load_part(store: &Store, part: Part) -> Result<SearchIndex, RegistryError> {
        let catalog = store.catalog_of(|id| part.holds(id))?;
        // Every work's, not only the part's: the position followed in the store.
        let last = store.works()?.iter().map(|w| w.id).max().unwrap_or(0);
        Ok(SearchIndex { catalog, part, last, snapshot: None, rebuilt: None })
    }

    /// An index of `part` kept in the snapshot directory `dir`: opened from the snapshot and
    /// caught up from the store when the snapshot is of this store and part; else built from
    /// the store and written as the new snapshot. The snapshot is a cache: one that cannot be
    /// read is rebuilt (and [`SearchIndex::rebuilt`] says why), one that cannot be written is
    /// left out.
    pub fn open(store: &Store, dir: &Path, part: Part) -> Result<SearchIndex, RegistryError> {
        let mut why = None;
        match snapshot::open(dir) {
            Ok(Some((catalog, at))) => {
                if position_of(store, at.last, part)? == Some(at) {
                    // Nothing else is read at start: a work's record is read from the store
                    // when a search finds it.
                    let mut index = SearchIndex {
                        catalog,
                        part,
                        last: at.last,
                        snapshot: Some(dir.into()),
                        rebuilt: None,
                    };
                    index.catch_up(store)?;
                    if index.catalog.should_merge() {
                        let merged = index.prepare_merge(store)?.run()?;
                        index.install(merged);
                    }
                    return Ok(index);
                }
                why = Some(format!("{}: a snapshot of another store or part", dir.display()));
            }
            Ok(None) => {}
            Err(e) => why = Some(e.to_string()),
        }
        let mut index = SearchIndex::load_part(store, part)?;
        index.snapshot = Some(dir.into());
        index.rebuilt = why;
        if let Some(at) = position_of(store, index.last, part)? {
            if let Err(e) = snapshot::write(&index.catalog, dir, at) {
                index.rebuilt = Some(format!("the snapshot could not be written: {e}"));
                index.snapshot = None;
            } else if let Ok(Some((catalog, _))) = snapshot::open(dir) {
                // Searched from the snapshot, like the next start: the features stay on disk.
                index.catalog = catalog;
            }
        }
        Ok(index)
    }

    /// The index of a data directory's registry, its snapshot in `catalog/` there.
    pub fn of_registry(reg: &crate::Registry) -> Result<SearchIndex, RegistryError> {
        SearchIndex::open(&reg.store, &reg.home.join(CATALOG_DIR), Part::WHOLE)
    }

    /// A merge of the works added since the base, if one is due.
    pub fn merge_due(&self, store: &Store) -> Result<Option<PendingMerge>, RegistryError> {
        if !self.catalog.should_merge() {
            return Ok(None);
        }
        self.prepare_merge(store).map(Some)
    }

    fn prepare_merge(&self, store: &Store) -> Result<PendingMerge, RegistryError> {
        let records = self.snapshot.as_ref().map(|d| d.join(snapshot::RECORDS_FILE));
        let merge = self.catalog.prepare_merge(records.as_deref());
        let position =
            position_of(store, merge.last_work().unwrap_or(self.last), self.part)?.unwrap_or_default();
        Ok(PendingMerge { merge, dir: self.snapshot.clone(), position })
    }

    /// Puts a merged base in place: what was added while it was built stays searchable.
    pub fn install(&mut self, merged: Merged) {
        self.catalog.install(merged.0);
    }

    /// Which works this index holds.
    pub fn part(&self) -> Part {
        self.part
    }

    /// Adds the works stored since the index was loaded or last caught up (by another
    /// process, too): a running server finds a new work without reloading everything.
    /// Returns how many were added.
    pub fn catch_up(&mut self, store: &Store) -> Result<usize, RegistryError> {
        let mut added = 0;
        loop {
            let new = NewWorks::fetch(store, self.last)?;
            if new.0.is_empty() {
                return Ok(added);
            }
            added += self.add(new);
        }
    }

    /// The highest work ID indexed.
    pub fn last(&self) -> WorkId {
        self.last
    }

    /// Adds works fetched by [`NewWorks::fetch`] (those already indexed are skipped).
    pub fn add(&mut self, new: NewWorks) -> usize {
        let mut added = 0;
        for (id, codes, features) in new.0 {
            self.last = self.last.max(id);
            if self.part.holds(id) && !self.catalog.contains(id) {
                self.catalog.add(id, &codes, features);
                added += 1;
            }
        }
        added
    }

    /// How many works are registered.
    pub fn works(&self) -> usize {
        self.catalog.works()
    }

    /// The works `scanned` matches, best first, each with its record read from `store` (the
    /// store the index follows).
    pub fn matches(
        &self,
        store: &Store,
        scanned: &Scanned,
    ) -> Result<Vec<(MatchReport, Work)>, RegistryError> {
        self.matches_with(scanned, |id| store.work(id))
    }

    /// [`SearchIndex::matches`], each record read by `record`: called only for the works
    /// found, so that a store shared between threads is locked only then.
    pub fn matches_with(
        &self,
        scanned: &Scanned,
        mut record: impl FnMut(WorkId) -> Result<Option<Work>, RegistryError>,
    ) -> Result<Vec<(MatchReport, Work)>, RegistryError> {
        self.catalog
            .search(&scanned.fingerprint)
            .into_iter()
            .map(|m| {
                let work = record(m.work)?.ok_or_else(|| {
                    RegistryError::Store(format!("work {} is in the index but not the store", m.work))
                })?;
                Ok((MatchReport::new(m, &work), work))
            })
            .collect()
    }

    /// [`SearchIndex::matches`] without the records.
    pub fn reports(&self, store: &Store, scanned: &Scanned) -> Result<Vec<MatchReport>, RegistryError> {
        Ok(self.matches(store, scanned)?.into_iter().map(|(m, _)| m).collect())
    }

    /// `search`'s answer for one image.
    pub fn search(&self, store: &Store, scanned: &Scanned) -> Result<SearchReport, RegistryError> {
        Ok(SearchReport {
            file: scanned.path.display().to_string(),
            sha256: scanned.sha256,
            works_searched: self.works(),
            matches: self.reports(store, scanned)?,
        })
    }

    /// `scan`'s answer for one image, the records of the works found read by `record`.
    pub fn scan(
        &self,
        scanned: &Scanned,
        record: impl FnMut(WorkId) -> Result<Option<Work>, RegistryError>,
    ) -> Result<ScanReport, RegistryError> {
        let d = &scanned.decoded;
        Ok(ScanReport {
            file: scanned.path.display().to_string(),
            sha256: scanned.sha256,
            format: d.format.name(),
            width: d.declared.0,
            height: d.declared.1,
            matches: self.matches_with(scanned, record)?.into_iter().map(|(m, _)| m).collect(),
            frames: d.frames,
        })
    }
}

/// One of `count` parts of the registry's works, by work ID (`id mod count = index`): each
/// matcher process of a sharded registry holds one part.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Part {
    pub index: u32,
    pub count: u32,
}

impl Part {
    /// All works.
    pub const WHOLE: Part = Part { index: 0, count: 1 };

    pub fn holds(self, work: WorkId) -> bool {
        work.rem_euclid(i64::from(self.count.max(1))) == i64::from(self.index)
    }
}

impl std::str::FromStr for Part {
    type Err = String;

    /// `I/N`: part I (from 0) of N.
    fn from_str(s: &str) -> Result<Part, String> {
        let bad = || format!("{s:?} is not a part: write I/N, part I (0 to N-1) of N, such as 0/3");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count): (u32, u32) =
            (i.trim().parse().map_err(|_| bad())?, n.trim().parse().map_err(|_| bad())?);
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Part { index, count })
    }
}

/// Works read from the store for [`SearchIndex::add`]: fetched without holding the index,
/// added while holding it.
pub struct NewWorks(Vec<IndexedWork>);

/// A work with its codes and features, ready for the catalog.
type IndexedWork = (WorkId, Vec<(Variant, Code)>, Features);

impl NewWorks {
    /// Up to 512 works stored with an ID above `after`.
    pub fn fetch(store: &Store, after: WorkId) -> Result<NewWorks, RegistryError> {
        let mut out = Vec::new();
        for (id, codes, features) in store.works_after(after, 512)? {
            let codes = codes
                .into_iter()
                .map(|(v, c)| {
                    let v = Variant::from_name(&v).ok_or_else(|| {
                        RegistryError::Store(format!("work {id}: unknown code variant {v:?}"))
                    })?;
                    let c = crate::works::code_from_bytes(&c)
                        .ok_or_else(|| RegistryError::Store(format!("work {id}: a code is not 32 bytes")))?;
                    Ok((v, c))
                })
                .collect::<Result<Vec<_>, RegistryError>>()?;
            let features = prints::features_from_bytes(&features)
                .ok_or_else(|| RegistryError::Store(format!("work {id}: damaged features")))?;
            out.push((id, codes, features));
        }
        Ok(NewWorks(out))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A registered work an image matches, how, and how surely.
#[derive(Clone, Debug, Serialize)]
pub struct MatchReport {
    pub work: WorkId,
    pub title: String,
    pub license: Option<String>,
    pub registrant: String,
    pub public_key: String,
    pub registered: String,
    /// `high` or `medium`.
    pub confidence: &'static str,
    /// `pdq` when there is a global hit, else `features`.
    pub matched_by: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pdq: Option<PdqMatch>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub features: Option<FeatureMatch>,
    /// Where a front end wrote the side-by-side picture ([`side_by_side`]), if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub side_by_side: Option<String>,
    /// The match as the catalog found it, unrounded.
    #[serde(skip)]
    pub found: Match,
}

/// A global (PDQ) hit: the distance, and which variants of the work and the image met.
#[derive(Clone, Debug, Serialize)]
pub struct PdqMatch {
    pub distance: u32,
    pub work_variant: &'static str,
    pub image_variant: &'static str,
}

/// Local features that agree on one placement of the image in the work.
#[derive(Clone, Debug, Serialize)]
pub struct FeatureMatch {
    pub agreeing: usize,
    pub candidates: usize,
    /// Work pixels per image pixel, both at 512 pixels on the longer side.
    pub scale: f64,
    /// How far the image is turned from the work, counter-clockwise.
    pub rotation_degrees: f64,
    pub region: Region,
    /// The fraction of the work the image shows.
    pub area_shown: f64,
}

/// The part of the work the image shows, as fractions of its width and height.
#[derive(Clone, Debug, Serialize)]
pub struct Region {
    pub left: f64,
    pub top: f64,
    pub right: f64,
    pub bottom: f64,
}

impl MatchReport {
    pub fn new(m: Match, work: &Work) -> MatchReport {
        let r3 = |x: f32| rounded(x as f64, 3);
        MatchReport {
            work: m.work,
            title: work.title.clone(),
            license: work.license.clone(),
            registrant: work.registrant.clone(),
            public_key: work.public_key.clone(),
            registered: work.registered.clone(),
            confidence: m.confidence.name(),
            matched_by: if m.global.is_some() { "pdq" } else { "features" },
            pdq: m.global.map(|g| PdqMatch {
                distance: g.distance,
                work_variant: g.work.name(),
                image_variant: g.query.name(),
            }),
            features: m.alignment.map(|a| {
                let [l, t, r, b] = a.region;
                FeatureMatch {
                    agreeing: a.inliers,
                    candidates: a.matches,
                    scale: r3(a.scale),
                    // No -0 for an image that is not turned.
                    rotation_degrees: r3(a.rotation) + 0.0,
                    region: Region { left: r3(l), top: r3(t), right: r3(r), bottom: r3(b) },
                    area_shown: r3((r - l) * (b - t)),
                }
            }),
            side_by_side: None,
            found: m,
        }
    }
}

/// What `search` answers for one image.
#[derive(Debug, Serialize)]
pub struct SearchReport {
    pub file: String,
    pub sha256: Hash,
    pub works_searched: usize,
    pub matches: Vec<MatchReport>,
}

/// What `scan` answers for one image it could read.
#[derive(Debug, Serialize)]
pub struct ScanReport {
    pub file: String,
    pub sha256: Hash,
    pub format: &'static str,
    /// The size the file declares.
    pub width: u32,
    pub height: u32,
    pub matches: Vec<MatchReport>,
    /// Frames of an animated file (the first was scanned).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frames: Option<u32>,
}

/// The work's thumbnail on the left, with the region the image shows outlined in red when
/// the match aligned, and the image on the right (longer side [`THUMBNAIL_SIDE`]), on grey:
/// a PNG.
pub fn side_by_side(store: &Store, scanned: &Scanned, m: &Match) -> Result<Vec<u8>, RegistryError> {
    let left = store.thumbnail(m.work)?;
    let right = prints::thumbnail(&scanned.decoded.image, THUMBNAIL_SIDE);
    let gap = 12;
    let (w, h) = (left.width + gap + right.width, left.height.max(right.height));
    let mut canvas = Rgb { width: w, height: h, pixels: [48u8, 48, 48].repeat((w * h) as usize) };
    paste(&mut canvas, &left, 0, (h - left.height) / 2);
    paste(&mut canvas, &right, left.width + gap, (h - right.height) / 2);
    if let Some(a) = m.alignment {
        let [l, t, r, b] = a.region;
        let oy = (h - left.height) / 2;
        let to = |f: f32, n: u32| ((f * n as f32).round() as u32).min(n.saturating_sub(1));
        outline(
            &mut canvas,
            [to(l, left.width), oy + to(t, left.height), to(r, left.width), oy + to(b, left.height)],
        );
    }
    Ok(decode::encode_png(&canvas))
}

fn paste(canvas: &mut Rgb, image: &Rgb, x0: u32, y0: u32) {
    let row = image.width as usize * 3;
    for y in 0..image.height as usize {
        let at = ((y0 as usize + y) * canvas.width as usize + x0 as usize) * 3;
        canvas.pixels[at..at + row].copy_from_slice(&image.pixels[y * row..][..row]);
    }
}

/// A 2-pixel red rectangle.
fn outline(canvas: &mut Rgb, [l, t, r, b]: [u32; 4]) {
    let w = canvas.width as usize;
    let mut set = |x: u32, y: u32| {
        if x < canvas.width && y < canvas.height {
            canvas.pixels[(y as usize * w + x as usize) * 3..][..3].copy_from_slice(&[230, 30, 30]);
        }
    };
    for k in 0..2 {
        for x in l..=r {
            set(x, t + k);
            set(x, b.saturating_sub(k));
        }
        for y in t..=b {
            set(l + k, y);
            set(r.saturating_sub(k), y);
        }
    }
}

#[cfg(test)]
mod tests {
    use fingerprint::catalog::{Confidence, GlobalHit, Variant};
    use fingerprint::features::Alignment;

    use super::*;

    fn work(license: Option<&str>) -> Work {
        Work {
            id: 7,
            title: "Door".into(),
            license: license.map(str::to_owned),
            registrant: "Ana Ruiz".into(),
            public_key: "KEY".into(),
            file_name: "door.png".into(),
            sha256: Hash::of(b"door"),
            width: 768,
            height: 512,
            registered: "2026-11-27T00:59:31Z".into(),
            watermark_id: None,
        }
    }

    /// The JSON of docs/fingerprints.md, key for key and in its order.
    #[test]
    fn a_match_reads_as_the_documented_json() {
        let m = Match {
            work: 7,
            global: Some(GlobalHit { distance: 12, query: Variant::Trimmed, work: Variant::FlipX }),
            alignment: Some(Alignment {
                inliers: 148,
                matches: 201,
                scale: 0.99987,
                rotation: -0.0001,
                region: [0.0, 0.25, 1.0, 0.7504],
            }),
            confidence: Confidence::High,
        };
        let mut report = MatchReport::new(m.clone(), &work(Some("CC-BY-4.0")));
        report.side_by_side = Some("handprint-matches/door--work7.png".into());
        assert_eq!(
            serde_json::to_string(&report).unwrap(),
            r#"{"work":7,"title":"Door","license":"CC-BY-4.0","registrant":"Ana Ruiz","public_key":"KEY","#
                .to_owned()
                + r#""registered":"2026-11-27T00:59:31Z","confidence":"high","matched_by":"pdq","#
                + r#""pdq":{"distance":12,"work_variant":"flip-x","image_variant":"trimmed"},"#
                + r#""features":{"agreeing":148,"candidates":201,"scale":1.0,"rotation_degrees":0.0,"#
                + r#""region":{"left":0.0,"top":0.25,"right":1.0,"bottom":0.75},"area_shown":0.5},"#
                + r#""side_by_side":"handprint-matches/door--work7.png"}"#
        );
        // Features only: no `pdq`, matched by features; no licence is null; no picture, no key.
        let only = Match { global: None, confidence: Confidence::Medium, ..m };
        let v = serde_json::to_value(MatchReport::new(only, &work(None))).unwrap();
        assert_eq!((v["matched_by"].as_str(), v["confidence"].as_str()), (Some("features"), Some("medium")));
        assert!(v["license"].is_null() && v.get("pdq").is_none() && v.get("side_by_side").is_none());
    }
}
