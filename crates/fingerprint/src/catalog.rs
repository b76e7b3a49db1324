//! The registered works in memory, and the search for the ones an image copies.
//!
//! An exact Hamming index over the works' global codes (PDQ in its eight dihedral variants,
//! and PDQ without borders), searched at PDQ's usual radius; an approximate inverted file of
//! their local feature descriptors ([`votes`]), whose hits are votes that pick candidates for
//! alignment. A work is reported when a global code is within the radius, or when its
//! features align with the image's (see [`features::align`]); the features of the few works
//! aligned are read from their records ([`crate::records`]), on disk for a large catalog.
//!
//! A catalog is an immutable base (built at once, or read from a snapshot, [`crate::snapshot`])
//! and a small delta of the works added since, scanned; a [`Merge`] builds a new base off any
//! lock, and [`Catalog::install`] swaps it in.

use std::collections::HashMap;
use std::sync::Arc;

use crate::PdqHash;
use crate::features::{self, Alignment, Features, MAX_FEATURES};
use crate::index::{Code, HammingIndex, hamming};
use crate::mapped::Array;
use crate::prints::Fingerprint;
use crate::records::{RecordFile, Records};
use crate::votes::{self, Layout, Probes, VoteDelta, VoteIndex};

pub type WorkId = i64;

/// PDQ's usual match threshold, of 256 bits.
pub const PDQ_RADIUS: u32 = 31;
/// A query descriptor close to more works than this is common (sky, foliage, a gradient)
/// and says nothing about which work the image copies: it does not vote.
const VOTE_CAP: usize = 64;
/// Works aligned per query, by most votes.
const CANDIDATES: usize = 16;
/// Votes a work needs to be aligned.
const MIN_VOTES: usize = 2;
/// One in this many of a work's features is indexed for votes (all are used to align): the
/// index stays a quarter of the size, and a copy still gets votes at every scale, because
/// features are listed level by level.
const VOTE_STRIDE: usize = 4;

/// Which of a work's global codes: a dihedral variant of its PDQ hash, or PDQ without its
/// borders.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Variant {
    Original,
    Rotate90,
    Rotate180,
    Rotate270,
    FlipX,
    FlipY,
    FlipPlus1,
    FlipMinus1,
    Trimmed,
}

impl Variant {
    pub const ALL: [Variant; 9] = [
        Variant::Original,
        Variant::Rotate90,
        Variant::Rotate180,
        Variant::Rotate270,
        Variant::FlipX,
        Variant::FlipY,
        Variant::FlipPlus1,
        Variant::FlipMinus1,
        Variant::Trimmed,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Variant::Original => "original",
            Variant::Rotate90 => "rotate90",
            Variant::Rotate180 => "rotate180",
            Variant::Rotate270 => "rotate270",
            Variant::FlipX => "flip-x",
            Variant::FlipY => "flip-y",
            Variant::FlipPlus1 => "flip-plus1",
            Variant::FlipMinus1 => "flip-minus1",
            Variant::Trimmed => "trimmed",
        }
    }

    pub fn from_name(s: &str) -> Option<Variant> {
        Variant::ALL.into_iter().find(|v| v.name() == s)
    }
}

pub fn code(hash: &PdqHash) -> Code {
    std::array::from_fn(|w| (0..4).fold(0u64, |acc, k| acc | (hash.0[4 * w + k] as u64) << (16 * k)))
}

/// The PDQ hash a code holds: the inverse of [`code`].
pub fn hash(code: &Code) -> PdqHash {
    PdqHash(std::array::from_fn(|i| (code[i / 4] >> (16 * (i % 4))) as u16))
}

/// The dihedral hashes of a work's first eight codes, in [`Variant::ALL`] order: for making
/// an image's fingerprint from a work's codes, as tests and benchmarks do.
pub fn dihedral(codes: &[(Variant, Code)]) -> crate::pdq::Dihedral {
    let h = |v: usize| codes.get(v).map_or(PdqHash([0; 16]), |(_, c)| hash(c));
    crate::pdq::Dihedral {
        original: h(0),
        rotate90: h(1),
        rotate180: h(2),
        rotate270: h(3),
        flip_x: h(4),
        flip_y: h(5),
        flip_plus1: h(6),
        flip_minus1: h(7),
        quality: 100,
    }
}

/// The global codes a work is registered under.
pub fn work_codes(f: &Fingerprint) -> Vec<(Variant, Code)> {
    let mut out: Vec<(Variant, Code)> =
        Variant::ALL[..8].iter().zip(f.pdq.all()).map(|(v, h)| (*v, code(&h))).collect();
    if let Some((_, t)) = &f.trimmed {
        out.push((Variant::Trimmed, code(&t.hash)));
    }
    out
}

/// The global codes an image is searched with: its PDQ hash, and without its borders.
fn query_codes(f: &Fingerprint) -> Vec<(Variant, Code)> {
    let mut out = vec![(Variant::Original, code(&f.pdq.original))];
    if let Some((_, t)) = &f.trimmed {
        out.push((Variant::Trimmed, code(&t.hash)));
    }
    out
}

/// How sure a match is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Confidence {
    /// Within PDQ's radius, or aligned by local features, not both.
    Medium,
    /// PDQ distance 16 or less; or both a PDQ match and an alignment; or an alignment of at
    /// least three times [`features::MIN_INLIERS`] matches.
    High,
}

impl Confidence {
    pub fn name(self) -> &'static str {
        match self {
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }
}

/// The closest global code of a work: the distance, the image's code and the work's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GlobalHit {
    pub distance: u32,
    pub query: Variant,
    pub work: Variant,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Match {
    pub work: WorkId,
    pub global: Option<GlobalHit>,
    pub alignment: Option<Alignment>,
    pub confidence: Confidence,
}

/// Works are merged from the delta into a new base once the delta holds this many, or an
/// eighth of the base if that is more.
const MERGE_AT: usize = 4096;

/// An immutable set of works: read from a snapshot, or built at once.
pub struct Segment {
    /// Slot → work, in the order works were added.
    pub(crate) works: Array<i64>,
    /// Slots by work ID: `works[by_id[i]]` ascend.
    pub(crate) by_id: Array<u32>,
    pub(crate) global: HammingIndex,
    /// Global code → `slot << 4 | variant`.
    pub(crate) owners: Array<u32>,
    pub(crate) votes: VoteIndex,
    pub(crate) records: Records,
}

impl Default for Segment {
    fn default() -> Self {
        Segment {
            works: Array::default(),
            by_id: Array::default(),
            global: HammingIndex::new(),
            owners: Array::default(),
            votes: VoteIndex::default(),
            records: Records::Memory(Vec::new()),
        }
    }
}

fn owner(slot: u32, v: Variant) -> u32 {
    slot << 4 | Variant::ALL.iter().position(|x| *x == v).expect("a variant") as u32
}

fn owner_parts(o: u32) -> (u32, Variant) {
    (o >> 4, Variant::ALL[(o & 15) as usize % Variant::ALL.len()])
}

impl Segment {
    pub(crate) fn from_parts(
        works: Array<i64>,
        by_id: Array<u32>,
        global: HammingIndex,
        owners: Array<u32>,
        votes: VoteIndex,
        records: Records,
    ) -> Segment {
        Segment { works, by_id, global, owners, votes, records }
    }

    pub fn len(&self) -> usize {
        self.works.len()
    }

    pub fn is_empty(&self) -> bool {
        self.works.is_empty()
    }

    fn slot_of(&self, work: WorkId) -> Option<u32> {
        let i = self.by_id.binary_search_by_key(&work, |&s| self.works[s as usize]).ok()?;
        Some(self.by_id[i])
    }

    /// A segment of `works` (slot order), their features stored by `records`.
    fn build(works: Vec<WorkId>, codes: Vec<(Code, u32)>, records: Records) -> Segment {
        let mut by_id: Vec<u32> = (0..works.len() as u32).collect();
        by_id.sort_unstable_by_key(|&s| works[s as usize]);
        let (codes, owners): (Vec<Code>, Vec<u32>) = codes.into_iter().unzip();
        // The layout from the first works' descriptors, then every work's entries keyed by
        // it: 16 bytes a descriptor while sorting, not the 36 of the descriptor itself.
        let indexed = |slot: u32| {
            let f = records.get(slot, works[slot as usize]).unwrap_or_default();
            f.features.into_iter().step_by(VOTE_STRIDE).map(|p| p.descriptor).collect::<Vec<Code>>()
        };
        let mut sample = Vec::new();
        for slot in 0..works.len() as u32 {
            if sample.len() >= Layout::SAMPLE * 4 {
                break;
            }
            sample.extend(indexed(slot));
        }
        let mut layout = Layout::choose(&sample, votes::KEY_MAX as u32);
        drop(sample);
        let mut items = Vec::with_capacity(works.len() * MAX_FEATURES / VOTE_STRIDE);
        for slot in 0..works.len() as u32 {
            items.extend(indexed(slot).iter().map(|d| (layout.key_max(d), layout.entry(slot, d))));
        }
        layout.key_bits = votes::key_bits_for(items.len());
        let votes = VoteIndex::from_keyed(items, layout);
        Segment {
            works: works.into(),
            by_id: by_id.into(),
            global: HammingIndex::from_codes(codes),
            owners: owners.into(),
            votes,
            records,
        }
    }
}

/// Builds a catalog of more works than fit in memory with their features: each work's
/// record goes to disk as it comes, and only its codes and vote entries are kept (about
/// 1.1 KB a work) until [`Builder::finish`] sorts them into tables.
pub struct Builder {
    works: Vec<WorkId>,
    codes: Vec<Code>,
    owners: Vec<u32>,
    /// Vote entries with their widest key, filed at the end.
    items: Vec<(u32, u64)>,
    /// The first descriptors, kept until there are enough to choose the vote layout from.
    sample: Vec<(u32, Code)>,
    layout: Option<Layout>,
    records: RecordFile,
}

impl Builder {
    /// A builder whose records go to `records` (created).
    pub fn new(records: &std::path::Path) -> std::io::Result<Builder> {
        Ok(Builder {
            works: Vec::new(),
            codes: Vec::new(),
            owners: Vec::new(),
            items: Vec::new(),
            sample: Vec::new(),
            layout: None,
            records: RecordFile::create(records)?,
        })
    }

    pub fn push(
        &mut self,
        work: WorkId,
        codes: &[(Variant, Code)],
        features: &Features,
    ) -> std::io::Result<()> {
        let slot = self.records.push(work, features)?;
        self.works.push(work);
        for (v, c) in codes {
            self.codes.push(*c);
            self.owners.push(owner(slot, *v));
        }
        let indexed = features.features.iter().step_by(VOTE_STRIDE).map(|p| (slot, p.descriptor));
        match &self.layout {
            Some(l) => self.items.extend(indexed.map(|(s, d)| (l.key_max(&d), l.entry(s, &d)))),
            None => {
                self.sample.extend(indexed);
                if self.sample.len() >= Layout::SAMPLE * 4 {
                    self.file_sample();
                }
            }
        }
        Ok(())
    }

    /// Chooses the layout from the sample and files it.
    fn file_sample(&mut self) {
        let codes: Vec<Code> = self.sample.iter().map(|(_, d)| *d).collect();
        let l = Layout::choose(&codes, votes::KEY_MAX as u32);
        self.items.extend(self.sample.drain(..).map(|(s, d)| (l.key_max(&d), l.entry(s, &d))));
        self.layout = Some(l);
    }

    pub fn finish(mut self) -> std::io::Result<Catalog> {
        self.records.sync()?;
        if self.layout.is_none() {
            self.file_sample();
        }
        let mut layout = self.layout.take().expect("filed");
        layout.key_bits = votes::key_bits_for(self.items.len());
        let votes = VoteIndex::from_keyed(self.items, layout);
        let mut by_id: Vec<u32> = (0..self.works.len() as u32).collect();
        by_id.sort_unstable_by_key(|&s| self.works[s as usize]);
        let segment = Segment {
            works: self.works.into(),
            by_id: by_id.into(),
            global: HammingIndex::from_codes(self.codes),
            owners: self.owners.into(),
            votes,
            records: Records::File(self.records),
        };
        Ok(Catalog::from_segment(segment))
    }
}

/// Works added since the base was built: searched by scanning, until merged.
#[derive(Clone, Default)]
struct Delta {
    works: Vec<WorkId>,
    slots: HashMap<WorkId, u32>,
    codes: Vec<(Code, u32)>,
    votes: VoteDelta,
    features: Vec<Features>,
}

/// The registered works: an immutable base (from a snapshot, or built) and the works added
/// since, which a merge moves into a new base without stopping searches.
#[derive(Default)]
pub struct Catalog {
    base: Arc<Segment>,
    delta: Delta,
}

/// A merge of a catalog's delta into a new base, prepared under a lock and run outside it.
pub struct Merge {
    base: Arc<Segment>,
    delta: Delta,
    /// Where the new base's records go, if on disk.
    records: Option<std::path::PathBuf>,
}

impl Catalog {
    pub fn new() -> Catalog {
        Catalog::default()
    }

    /// A catalog of many works at once, each table built once.
    pub fn build(works: impl IntoIterator<Item = (WorkId, Vec<(Variant, Code)>, Features)>) -> Catalog {
        let (mut ids, mut codes, mut features) = (Vec::new(), Vec::new(), Vec::new());
        let mut seen = std::collections::HashSet::new();
        for (work, cs, f) in works {
            if !seen.insert(work) {
                continue;
            }
            let slot = ids.len() as u32;
            ids.push(work);
            codes.extend(cs.into_iter().map(|(v, c)| (c, owner(slot, v))));
            features.push(f);
        }
        Catalog {
            base: Arc::new(Segment::build(ids, codes, Records::Memory(features))),
            delta: Delta::default(),
        }
    }

    /// A catalog whose base is `segment` (read from a snapshot).
    pub fn from_segment(segment: Segment) -> Catalog {
        Catalog { base: Arc::new(segment), delta: Delta::default() }
    }

    /// The base, for writing a snapshot.
    pub fn base(&self) -> &Arc<Segment> {
        &self.base
    }

    pub fn into_base(self) -> Arc<Segment> {
        self.base
    }

    /// Adds a work (one already present is left as it is).
    pub fn add(&mut self, work: WorkId, codes: &[(Variant, Code)], features: Features) {
        if self.contains(work) {
            return;
        }
        let slot = (self.base.len() + self.delta.works.len()) as u32;
        let d = &mut self.delta;
        d.works.push(work);
        d.slots.insert(work, slot);
        d.codes.extend(codes.iter().map(|(v, c)| (*c, owner(slot, *v))));
        for p in features.features.iter().step_by(VOTE_STRIDE) {
            d.votes.add(slot, &p.descriptor, self.base.votes.layout());
        }
        d.features.push(features);
    }

    pub fn works(&self) -> usize {
        self.base.len() + self.delta.works.len()
    }

    /// Works added since the base was built.
    pub fn pending(&self) -> usize {
        self.delta.works.len()
    }

    /// Whether the delta is large enough to merge.
    pub fn should_merge(&self) -> bool {
        self.delta.works.len() >= MERGE_AT.max(self.base.len() / 8)
    }

    /// What a merge needs, taken under the catalog's lock: cheap (the delta is small).
    /// `records`: the file the base's records are in, if on disk.
    pub fn prepare_merge(&self, records: Option<&std::path::Path>) -> Merge {
        Merge {
            base: self.base.clone(),
            delta: self.delta.clone(),
            records: records.map(|p| p.to_path_buf()),
        }
    }

    /// Puts a merged base in place, keeping what was added while it ran.
    pub fn install(&mut self, merged: Segment) {
        let old_n = self.base.len();
        let done = merged.len().saturating_sub(old_n);
        let old = std::mem::take(&mut self.delta);
        self.base = Arc::new(merged);
        let new_n = self.base.len() as u32;
        let layout = self.base.votes.layout().clone();
        let d = &mut self.delta;
        for (i, (work, features)) in old.works.into_iter().zip(old.features).enumerate().skip(done) {
            let slot = (old_n + i) as u32;
            d.works.push(work);
            d.slots.insert(work, slot);
            for p in features.features.iter().step_by(VOTE_STRIDE) {
                d.votes.add(slot, &p.descriptor, &layout);
            }
            d.features.push(features);
        }
        d.codes = old.codes.into_iter().filter(|(_, o)| owner_parts(*o).0 >= new_n).collect();
    }

    /// The slot of a work, and whether it is in the delta.
    fn slot_of(&self, work: WorkId) -> Option<u32> {
        self.base.slot_of(work).or_else(|| self.delta.slots.get(&work).copied())
    }

    fn work_at(&self, slot: u32) -> WorkId {
        let n = self.base.len();
        if (slot as usize) < n { self.base.works[slot as usize] } else { self.delta.works[slot as usize - n] }
    }

    fn features_at(&self, slot: u32) -> Option<Features> {
        let n = self.base.len();
        if (slot as usize) < n {
            self.base.records.get(slot, self.base.works[slot as usize])
        } else {
            self.delta.features.get(slot as usize - n).cloned()
        }
    }

    /// Every global code within `radius` of `q`, as `(slot, variant, distance)`.
    fn global_within(&self, q: &Code, radius: u32) -> Vec<(u32, Variant, u32)> {
        let mut out: Vec<(u32, Variant, u32)> = self
            .base
            .global
            .within(q, radius)
            .into_iter()
            .map(|(id, d)| {
                let (slot, v) = owner_parts(self.base.owners[id as usize]);
                (slot, v, d)
            })
            .collect();
        for (c, o) in &self.delta.codes {
            let d = hamming(q, c);
            if d <= radius {
                let (slot, v) = owner_parts(*o);
                out.push((slot, v, d));
            }
        }
        out
    }

    /// The works whose global codes (any variant) lie within `radius` of `code`, nearest
    /// first, each with its nearest distance: a look-up by a PDQ hash computed elsewhere.
    pub fn search_code(&self, code: &Code, radius: u32) -> Vec<(WorkId, u32)> {
        let mut best: HashMap<WorkId, u32> = HashMap::new();
        for (slot, _, distance) in self.global_within(code, radius) {
            let work = self.work_at(slot);
            best.entry(work).and_modify(|d| *d = (*d).min(distance)).or_insert(distance);
        }
        let mut out: Vec<(WorkId, u32)> = best.into_iter().collect();
        out.sort_unstable_by_key(|&(w, d)| (d, w));
        out
    }

    /// Every global code with its work: for checking the index against a full scan.
    pub fn global_codes(&self) -> Vec<(Code, WorkId)> {
        let base = self.base.global.codes().iter().zip(self.base.owners.iter());
        base.chain(self.delta.codes.iter().map(|(c, o)| (c, o)))
            .map(|(c, o)| (*c, self.work_at(owner_parts(*o).0)))
            .collect()
    }

    /// Whether `work` is in the catalog.
    pub fn contains(&self, work: WorkId) -> bool {
        self.slot_of(work).is_some()
    }

    /// The works `image`'s features vote for, most votes first: the candidates for alignment.
    pub fn candidates(&self, image: &Fingerprint) -> Vec<(WorkId, usize)> {
        self.vote(image).into_iter().map(|(s, n)| (self.work_at(s), n)).collect()
    }

    fn vote(&self, image: &Fingerprint) -> Vec<(u32, usize)> {
        // Each image feature votes once for every work that has a close descriptor.
        let layout = self.base.votes.layout();
        let probes = Probes::new(layout);
        // Every vote as its slot, counted by sorting: cheaper than a hash map of counts.
        let mut all: Vec<u32> = Vec::new();
        let mut slots = Vec::new();
        for f in &image.features.features {
            slots.clear();
            self.base.votes.vote(&probes, &f.descriptor, &mut slots);
            self.delta.votes.vote(layout, &probes, &f.descriptor, &mut slots);
            slots.sort_unstable();
            slots.dedup();
            if slots.len() > VOTE_CAP {
                continue;
            }
            all.extend_from_slice(&slots);
        }
        all.sort_unstable();
        let mut candidates: Vec<(u32, usize)> = all
            .chunk_by(|a, b| a == b)
            .map(|run| (run[0], run.len()))
            .filter(|&(_, n)| n >= MIN_VOTES)
            .collect();
        candidates.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(b.0.cmp(&a.0)));
        candidates.truncate(CANDIDATES);
        candidates
    }

    /// The works `image` matches, most certain first.
    pub fn search(&self, image: &Fingerprint) -> Vec<Match> {
        let mut global: HashMap<u32, GlobalHit> = HashMap::new();
        for (qv, q) in query_codes(image) {
            for (slot, wv, distance) in self.global_within(&q, PDQ_RADIUS) {
                let hit = GlobalHit { distance, query: qv, work: wv };
                global.entry(slot).and_modify(|h| *h = (*h).min_by_distance(hit)).or_insert(hit);
            }
        }
        let candidates = self.vote(image);
        let mut slots: Vec<u32> =
            candidates.into_iter().map(|(s, _)| s).chain(global.keys().copied()).collect();
        slots.sort_unstable();
        slots.dedup();
        let mut out: Vec<Match> = slots
            .into_iter()
            .filter_map(|slot| {
                let alignment = self.features_at(slot).and_then(|f| features::align(&image.features, &f));
                let global = global.get(&slot).copied();
                let confidence = match (global, alignment) {
                    (None, None) => return None,
                    (Some(_), Some(_)) => Confidence::High,
                    (Some(g), None) if g.distance <= 16 => Confidence::High,
                    (None, Some(a)) if a.inliers >= 3 * features::MIN_INLIERS => Confidence::High,
                    _ => Confidence::Medium,
                };
                Some(Match { work: self.work_at(slot), global, alignment, confidence })
            })
            .collect();
        out.sort_by(rank);
        out
    }
}

/// The order of [`Catalog::search`]'s matches (and of answers merged from several parts):
/// confidence, then PDQ distance, then inliers, then work.
pub fn rank(a: &Match, b: &Match) -> std::cmp::Ordering {
    b.confidence
        .cmp(&a.confidence)
        .then(a.global.map_or(u32::MAX, |g| g.distance).cmp(&b.global.map_or(u32::MAX, |g| g.distance)))
        .then(b.alignment.map_or(0, |a| a.inliers).cmp(&a.alignment.map_or(0, |a| a.inliers)))
        .then(a.work.cmp(&b.work))
}

impl Merge {
    /// The highest work ID the new base will hold.
    pub fn last_work(&self) -> Option<WorkId> {
        self.base.works.iter().chain(&self.delta.works).copied().max()
    }

    /// Builds the new base: the old one's works and the delta's. Slow (every table is
    /// rebuilt), so it runs without the catalog's lock; searches go on meanwhile.
    pub fn run(self) -> std::io::Result<Segment> {
        let base = &self.base;
        let n = base.len();
        let mut works: Vec<WorkId> = base.works.to_vec();
        works.extend(&self.delta.works);
        let mut codes: Vec<(Code, u32)> =
            base.global.codes().iter().copied().zip(base.owners.iter().copied()).collect();
        codes.extend(self.delta.codes.iter().copied());
        let records = match (&base.records, &self.records) {
            (Records::File(_), Some(path)) => {
                let mut file = RecordFile::open(path, n)?.truncated(n);
                for (w, f) in self.delta.works.iter().zip(&self.delta.features) {
                    file.push(*w, f)?;
                }
                file.sync()?;
                Records::File(file)
            }
            _ => {
                let mut all: Vec<Features> =
                    (0..n as u32).filter_map(|s| base.records.get(s, base.works[s as usize])).collect();
                if all.len() != n {
                    return Err(std::io::Error::other("a record of the catalog is damaged"));
                }
                all.extend(self.delta.features.iter().cloned());
                Records::Memory(all)
            }
        };
        Ok(Segment::build(works, codes, records))
    }
}

impl GlobalHit {
    fn min_by_distance(self, other: GlobalHit) -> GlobalHit {
        if other.distance < self.distance { other } else { self }
    }
}
