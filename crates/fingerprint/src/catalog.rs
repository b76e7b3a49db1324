//! The registered works in memory, and the search for the ones an image copies.
//!
//! Two exact Hamming indexes: one over the works' global codes (PDQ in its eight dihedral
//! variants, and PDQ without borders), searched at PDQ's usual radius; one over their local
//! feature descriptors, whose hits are votes that pick candidates for alignment. A work is
//! reported when a global code is within the radius, or when its features align with the
//! image's (see [`features::align`]).

use std::collections::HashMap;

use crate::PdqHash;
use crate::features::{self, Alignment, Features};
use crate::index::{Code, HammingIndex};
use crate::prints::Fingerprint;

pub type WorkId = i64;

/// PDQ's usual match threshold, of 256 bits.
pub const PDQ_RADIUS: u32 = 31;
/// Radius at which a query descriptor votes for the works that have one as close.
const VOTE_RADIUS: u32 = 15;
/// Works aligned per query, by most votes.
const CANDIDATES: usize = 16;
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

#[derive(Default)]
pub struct Catalog {
    global: HammingIndex,
    global_of: Vec<(WorkId, Variant)>,
    local: HammingIndex,
    local_of: Vec<WorkId>,
    features: HashMap<WorkId, Features>,
}

impl Catalog {
    pub fn new() -> Catalog {
        Catalog::default()
    }

    /// A catalog of many works at once, each table built once.
    pub fn build(works: impl IntoIterator<Item = (WorkId, Vec<(Variant, Code)>, Features)>) -> Catalog {
        let (mut global, mut global_of, mut local, mut local_of) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut all = HashMap::new();
        for (work, codes, features) in works {
            for (v, c) in codes {
                global.push(c);
                global_of.push((work, v));
            }
            for f in features.features.iter().step_by(VOTE_STRIDE) {
                local.push(f.descriptor);
                local_of.push(work);
            }
            all.insert(work, features);
        }
        Catalog {
            global: HammingIndex::from_codes(global),
            global_of,
            local: HammingIndex::from_codes(local),
            local_of,
            features: all,
        }
    }

    pub fn add(&mut self, work: WorkId, codes: &[(Variant, Code)], features: Features) {
        for (v, c) in codes {
            self.global.insert(*c);
            self.global_of.push((work, *v));
        }
        for f in features.features.iter().step_by(VOTE_STRIDE) {
            self.local.insert(f.descriptor);
            self.local_of.push(work);
        }
        self.features.insert(work, features);
    }

    pub fn works(&self) -> usize {
        self.features.len()
    }

    /// The works whose global codes (any variant) lie within `radius` of `code`, nearest
    /// first, each with its nearest distance: a look-up by a PDQ hash computed elsewhere.
    pub fn search_code(&self, code: &Code, radius: u32) -> Vec<(WorkId, u32)> {
        let mut best: HashMap<WorkId, u32> = HashMap::new();
        for (id, distance) in self.global.within(code, radius) {
            let work = self.global_of[id as usize].0;
            best.entry(work).and_modify(|d| *d = (*d).min(distance)).or_insert(distance);
        }
        let mut out: Vec<(WorkId, u32)> = best.into_iter().collect();
        out.sort_unstable_by_key(|&(w, d)| (d, w));
        out
    }

    /// Whether `work` is in the catalog.
    pub fn contains(&self, work: WorkId) -> bool {
        self.features.contains_key(&work)
    }

    /// The works `image` matches, most certain first.
    pub fn search(&self, image: &Fingerprint) -> Vec<Match> {
        let mut global: HashMap<WorkId, GlobalHit> = HashMap::new();
        for (qv, q) in query_codes(image) {
            for (id, distance) in self.global.within(&q, PDQ_RADIUS) {
                let (work, wv) = self.global_of[id as usize];
                let hit = GlobalHit { distance, query: qv, work: wv };
                global.entry(work).and_modify(|h| *h = (*h).min_by_distance(hit)).or_insert(hit);
            }
        }
        // Each image feature votes once for every work that has a close descriptor.
        let mut votes: HashMap<WorkId, usize> = HashMap::new();
        for f in &image.features.features {
            let mut works: Vec<WorkId> = self
                .local
                .within(&f.descriptor, VOTE_RADIUS)
                .iter()
                .map(|&(id, _)| self.local_of[id as usize])
                .collect();
            works.sort_unstable();
            works.dedup();
            for w in works {
                *votes.entry(w).or_default() += 1;
            }
        }
        let mut candidates: Vec<(usize, WorkId)> =
            votes.into_iter().filter(|&(_, n)| n >= 2).map(|(w, n)| (n, w)).collect();
        candidates.sort_unstable_by(|a, b| b.cmp(a));
        candidates.truncate(CANDIDATES);
        let mut works: Vec<WorkId> =
            candidates.into_iter().map(|(_, w)| w).chain(global.keys().copied()).collect();
        works.sort_unstable();
        works.dedup();
        let mut out: Vec<Match> = works
            .into_iter()
            .filter_map(|work| {
                let alignment = features::align(&image.features, &self.features[&work]);
                let global = global.get(&work).copied();
                let confidence = match (global, alignment) {
                    (None, None) => return None,
                    (Some(_), Some(_)) => Confidence::High,
                    (Some(g), None) if g.distance <= 16 => Confidence::High,
                    (None, Some(a)) if a.inliers >= 3 * features::MIN_INLIERS => Confidence::High,
                    _ => Confidence::Medium,
                };
                Some(Match { work, global, alignment, confidence })
            })
            .collect();
        out.sort_by(|a, b| {
            b.confidence
                .cmp(&a.confidence)
                .then(
                    a.global.map_or(u32::MAX, |g| g.distance).cmp(&b.global.map_or(u32::MAX, |g| g.distance)),
                )
                .then(b.alignment.map_or(0, |a| a.inliers).cmp(&a.alignment.map_or(0, |a| a.inliers)))
                .then(a.work.cmp(&b.work))
        });
        out
    }
}

impl GlobalHit {
    fn min_by_distance(self, other: GlobalHit) -> GlobalHit {
        if other.distance < self.distance { other } else { self }
    }
}
