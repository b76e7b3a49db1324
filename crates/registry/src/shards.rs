//! The registry's search index held in parts by matcher processes (docs/server.md,
//! "Matchers"): the wire form of a query and of a part's answer, what a matcher answers
//! from its [`SearchIndex`], and the fan-out that asks every matcher at once and merges
//! their answers — saying which parts did not answer, never leaving them out silently.
//!
//! The store (PostgreSQL) is the only source of truth: a matcher is a cache of one part of
//! it that rebuilds from the store when it starts and follows new rows. A look-up's image is
//! decoded and fingerprinted once, by the server; matchers receive the fingerprint.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use fingerprint::catalog::{self, Confidence, GlobalHit, Match, Variant, WorkId, rank};
use fingerprint::features::{Alignment, MAX_FEATURES};
use fingerprint::pdq::{Dihedral, Pdq, PdqHash};
use fingerprint::prints::{self, Fingerprint};
use serde::{Deserialize, Serialize};

use crate::search::{MatchReport, Part, SearchIndex};
use crate::works::{Scanned, Work};
use crate::{RegistryError, Store};

/// The largest answer read from a matcher.
const MAX_ANSWER: u64 = 16 << 20;

// ---- the wire form ----

/// An image's fingerprint as computed by the server: the eight dihedral PDQ hashes (in
/// [`Variant::ALL`]'s order) with their quality, PDQ without borders, and the local features
/// as `prints::features_to_bytes` stores them, base64.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WireFingerprint {
    pub width: u32,
    pub height: u32,
    pub pdq: Vec<String>,
    pub quality: u32,
    #[serde(default)]
    pub trimmed: Option<WireTrimmed>,
    pub features: String,
}

/// PDQ of the image without its uniform borders, and the rectangle kept.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WireTrimmed {
    pub rect: [u32; 4],
    pub pdq: String,
    pub quality: u32,
}

/// `POST /v1/match`: the works of a part an image's fingerprint matches.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatchQuery {
    pub fingerprint: WireFingerprint,
    /// Answer only once the matcher has followed the store up to this work ID (a
    /// publication's disputes are checked against every work stored before it).
    #[serde(default)]
    pub seen: Option<WorkId>,
}

/// `POST /v1/match/pdq`: the works of a part near each of a list of PDQ hashes.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PdqQuery {
    pub hashes: Vec<String>,
    pub radius: u32,
}

/// Which part a matcher holds: works whose ID is `index` modulo `count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WirePart {
    pub index: u32,
    pub count: u32,
}

impl WirePart {
    /// Whether the part holds `work`: a matcher's answer naming a work of another part is
    /// not taken (it would be a false claim or a false dispute).
    fn holds(self, work: WorkId) -> bool {
        Part { index: self.index, count: self.count }.holds(work)
    }
}

impl From<Part> for WirePart {
    fn from(p: Part) -> WirePart {
        WirePart { index: p.index, count: p.count }
    }
}

/// A matcher's answer to [`MatchQuery`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MatchAnswer {
    pub part: WirePart,
    /// Works the part holds.
    pub works: usize,
    /// The highest work ID the matcher has seen in the store (of any part).
    pub last: WorkId,
    /// Best first, as [`catalog::Catalog::search`] ranks them.
    pub matches: Vec<WireMatch>,
}

/// One match as the catalog found it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WireMatch {
    pub work: WorkId,
    #[serde(default)]
    pub global: Option<WireGlobal>,
    #[serde(default)]
    pub alignment: Option<WireAlignment>,
    /// `high` or `medium`.
    pub confidence: String,
}

/// A global hit: the distance and the variants of the image and of the work that met.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WireGlobal {
    pub distance: u32,
    pub image_variant: String,
    pub work_variant: String,
}

/// Local features aligned: as [`Alignment`], unrounded.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WireAlignment {
    pub inliers: usize,
    pub matches: usize,
    pub scale: f32,
    pub rotation: f32,
    pub region: [f32; 4],
}

/// A matcher's answer to [`PdqQuery`]: per hash, in the order asked, the works within the
/// radius with their nearest distance.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PdqAnswer {
    pub part: WirePart,
    pub works: usize,
    pub last: WorkId,
    pub results: Vec<Vec<WireNear>>,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct WireNear {
    pub work: WorkId,
    pub distance: u32,
}

impl WireFingerprint {
    pub fn new(f: &Fingerprint) -> WireFingerprint {
        WireFingerprint {
            width: f.width,
            height: f.height,
            pdq: f.pdq.all().iter().map(PdqHash::to_hex).collect(),
            quality: f.pdq.quality,
            trimmed: f.trimmed.as_ref().map(|(rect, p)| WireTrimmed {
                rect: *rect,
                pdq: p.hash.to_hex(),
                quality: p.quality,
            }),
            features: B64.encode(prints::features_to_bytes(&f.features)),
        }
    }

    /// The fingerprint again; a malformed one is refused, naming what is wrong.
    pub fn fingerprint(&self) -> Result<Fingerprint, RegistryError> {
        let hash = |h: &str| {
            PdqHash::from_hex(h).ok_or_else(|| RegistryError::Invalid(format!("{h:?} is not a PDQ hash")))
        };
        let hashes = self.pdq.iter().map(|h| hash(h)).collect::<Result<Vec<_>, _>>()?;
        let [original, rotate90, rotate180, rotate270, flip_x, flip_y, flip_plus1, flip_minus1]: [PdqHash;
            8] = hashes.try_into().map_err(|_| {
            RegistryError::Invalid("a fingerprint has eight PDQ hashes, one per dihedral variant".into())
        })?;
        let features = B64
            .decode(&self.features)
            .ok()
            .and_then(|b| prints::features_from_bytes(&b))
            .ok_or_else(|| RegistryError::Invalid("the fingerprint's features are damaged".into()))?;
        // A fingerprint holds at most 256 features; more would make every vote and alignment
        // a matcher does for this request that much longer.
        if features.features.len() > MAX_FEATURES {
            return Err(RegistryError::Invalid(format!(
                "a fingerprint has at most {MAX_FEATURES} features, not {}",
                features.features.len()
            )));
        }
        let trimmed = match &self.trimmed {
            Some(t) => Some((t.rect, Pdq { hash: hash(&t.pdq)?, quality: t.quality })),
            None => None,
        };
        Ok(Fingerprint {
            width: self.width,
            height: self.height,
            pdq: Dihedral {
                original,
                rotate90,
                rotate180,
                rotate270,
                flip_x,
                flip_y,
                flip_plus1,
                flip_minus1,
                quality: self.quality,
            },
            trimmed,
            features,
        })
    }
}

impl WireMatch {
    fn new(m: &Match) -> WireMatch {
        WireMatch {
            work: m.work,
            global: m.global.map(|g| WireGlobal {
                distance: g.distance,
                image_variant: g.query.name().into(),
                work_variant: g.work.name().into(),
            }),
            alignment: m.alignment.map(|a| WireAlignment {
                inliers: a.inliers,
                matches: a.matches,
                scale: a.scale,
                rotation: a.rotation,
                region: a.region,
            }),
            confidence: m.confidence.name().into(),
        }
    }

    fn found(&self) -> Result<Match, String> {
        let variant = |v: &str| Variant::from_name(v).ok_or_else(|| format!("unknown variant {v:?}"));
        let global = match &self.global {
            Some(g) => Some(GlobalHit {
                distance: g.distance,
                query: variant(&g.image_variant)?,
                work: variant(&g.work_variant)?,
            }),
            None => None,
        };
        let confidence = match self.confidence.as_str() {
            "high" => Confidence::High,
            "medium" => Confidence::Medium,
            other => return Err(format!("unknown confidence {other:?}")),
        };
        let alignment = self.alignment.as_ref().map(|a| Alignment {
            inliers: a.inliers,
            matches: a.matches,
            scale: a.scale,
            rotation: a.rotation,
            region: a.region,
        });
        Ok(Match { work: self.work, global, alignment, confidence })
    }
}

// ---- the matcher's side ----

/// What a matcher answers for `query`, from its part of the index.
pub fn answer_match(index: &SearchIndex, query: &MatchQuery) -> Result<MatchAnswer, RegistryError> {
    let image = query.fingerprint.fingerprint()?;
    let matches = index.catalog.search(&image).iter().map(WireMatch::new).collect();
    Ok(MatchAnswer { part: index.part().into(), works: index.works(), last: index.last(), matches })
}

/// What a matcher answers for `query`, from its part of the index.
pub fn answer_pdq(index: &SearchIndex, query: &PdqQuery) -> Result<PdqAnswer, RegistryError> {
    let radius = query.radius.min(catalog::PDQ_RADIUS);
    let results = query
        .hashes
        .iter()
        .map(|h| {
            let hash = crate::lookup::parse_pdq(h)?;
            Ok(index
                .catalog
                .search_code(&catalog::code(&hash), radius)
                .into_iter()
                .map(|(work, distance)| WireNear { work, distance })
                .collect())
        })
        .collect::<Result<Vec<_>, RegistryError>>()?;
    Ok(PdqAnswer { part: index.part().into(), works: index.works(), last: index.last(), results })
}

// ---- the server's side ----

/// The matcher processes a server asks, one per part: with `n` matchers the parts are
/// `0/n` to `n-1/n`, in any order.
pub struct Matchers {
    urls: Vec<String>,
    agent: ureq::Agent,
    /// Which matchers failed when last asked: a failure is logged when it starts, not at
    /// every look-up.
    down: Vec<AtomicBool>,
    /// Works held by all parts, at the last complete answer.
    works: AtomicUsize,
}

/// How much of the index answered a fan-out.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Coverage {
    /// True when a part did not answer: a work of that part would not be found.
    pub partial: bool,
    /// How many parts the index is in.
    pub parts: u32,
    /// The parts that did not answer (failed, too slow, or holding another division).
    pub missing_parts: Vec<u32>,
    /// Works held by the parts that answered.
    #[serde(skip)]
    pub works: usize,
}

/// A fan-out's merged answer.
pub struct Fanned<T> {
    pub found: T,
    pub coverage: Coverage,
}

impl Matchers {
    /// Matchers at `urls` (`http://host:port`), each asked for at most `deadline`.
    pub fn new(urls: &[String], deadline: Duration) -> Result<Matchers, RegistryError> {
        if urls.is_empty() {
            return Err(RegistryError::Invalid("give at least one matcher".into()));
        }
        let mut out = Vec::new();
        for u in urls {
            let u = u.trim().trim_end_matches('/');
            if !(u.starts_with("http://") || u.starts_with("https://")) {
                return Err(RegistryError::Invalid(format!(
                    "{u:?}: a matcher is an http:// or https:// URL"
                )));
            }
            out.push(u.to_owned());
        }
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(deadline))
            .http_status_as_error(false)
            .max_redirects(0)
            .build()
            .new_agent();
        let down = out.iter().map(|_| AtomicBool::new(false)).collect();
        Ok(Matchers { urls: out, agent, down, works: AtomicUsize::new(0) })
    }

    /// How many parts the index is in.
    pub fn parts(&self) -> u32 {
        self.urls.len() as u32
    }

    /// The works all parts held at the last complete answer.
    pub fn works(&self) -> usize {
        self.works.load(Ordering::Relaxed)
    }

    /// Asks every matcher at once; each answer that arrived, or why not (logged).
    fn ask<A: for<'de> Deserialize<'de> + Send>(&self, path: &str, body: &[u8]) -> Vec<Result<A, String>> {
        std::thread::scope(|scope| {
            let asked: Vec<_> = self
                .urls
                .iter()
                .map(|url| {
                    scope.spawn(move || {
                        let url = format!("{url}{path}");
                        let mut r = self
                            .agent
                            .post(&url)
                            .header("content-type", "application/json")
                            .send(body)
                            .map_err(|e| format!("{url}: {e}"))?;
                        let status = r.status().as_u16();
                        let bytes = r
                            .body_mut()
                            .with_config()
                            .limit(MAX_ANSWER)
                            .read_to_vec()
                            .map_err(|e| format!("{url}: reading the answer: {e}"))?;
                        if status != 200 {
                            let text: String = String::from_utf8_lossy(&bytes).chars().take(300).collect();
                            return Err(format!("{url}: HTTP {status}: {text}"));
                        }
                        serde_json::from_slice(&bytes).map_err(|e| format!("{url}: the answer: {e}"))
                    })
                })
                .collect();
            let answers: Vec<Result<A, String>> = asked
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|_| Err("the request panicked".into())))
                .collect();
            for ((a, down), url) in answers.iter().zip(&self.down).zip(&self.urls) {
                match (a, down.swap(a.is_err(), Ordering::Relaxed)) {
                    (Err(e), false) => {
                        eprintln!(
                            "handprint serve: a matcher did not answer, answers are partial until it does: {e}"
                        )
                    }
                    (Ok(_), true) => eprintln!("handprint serve: the matcher at {url} answers again"),
                    _ => {}
                }
            }
            answers
        })
    }

    /// Which parts answered, from the parts and `last` of the answers that arrived: an
    /// answer for another division of the index, or one that has not seen `seen`, counts as
    /// missing.
    fn coverage(
        &self,
        answered: &[(WirePart, usize, WorkId)],
        seen: Option<WorkId>,
    ) -> (Coverage, Vec<bool>) {
        let n = self.parts();
        let good: Vec<bool> = answered
            .iter()
            .map(|(p, _, last)| p.count == n && p.index < n && seen.is_none_or(|s| *last >= s))
            .collect();
        let mut held = vec![false; n as usize];
        let mut works: usize = 0;
        for ((p, w, _), ok) in answered.iter().zip(&good) {
            if *ok && !held[p.index as usize] {
                held[p.index as usize] = true;
                works = works.saturating_add(*w);
            }
        }
        let missing_parts: Vec<u32> = (0..n).filter(|i| !held[*i as usize]).collect();
        if missing_parts.is_empty() {
            self.works.store(works, Ordering::Relaxed);
        }
        (Coverage { partial: !missing_parts.is_empty(), parts: n, missing_parts, works }, good)
    }

    /// The works `image` matches in every part that answered, ranked as
    /// [`catalog::Catalog::search`] ranks them.
    pub fn search(&self, image: &Fingerprint, seen: Option<WorkId>) -> Fanned<Vec<Match>> {
        let query = MatchQuery { fingerprint: WireFingerprint::new(image), seen };
        let body = serde_json::to_vec(&query).expect("queries serialize");
        let answers: Vec<MatchAnswer> =
            self.ask::<MatchAnswer>("/v1/match", &body).into_iter().filter_map(Result::ok).collect();
        let (coverage, good) =
            self.coverage(&answers.iter().map(|a| (a.part, a.works, a.last)).collect::<Vec<_>>(), seen);
        let mut found: HashMap<WorkId, Match> = HashMap::new();
        for (a, ok) in answers.iter().zip(good) {
            for m in a.matches.iter().filter(|_| ok) {
                match m.found() {
                    Ok(m) if a.part.holds(m.work) => {
                        found.insert(m.work, m);
                    }
                    Ok(m) => eprintln!(
                        "handprint serve: part {} named work {}, not of its part",
                        a.part.index, m.work
                    ),
                    Err(e) => eprintln!("handprint serve: a matcher's answer: {e}"),
                }
            }
        }
        let mut found: Vec<Match> = found.into_values().collect();
        found.sort_by(rank);
        Fanned { found, coverage }
    }

    /// The works near each hash (within `radius`) in every part that answered, nearest
    /// first.
    pub fn near(&self, hashes: &[PdqHash], radius: u32) -> Fanned<Vec<Vec<(WorkId, u32)>>> {
        let query = PdqQuery { hashes: hashes.iter().map(PdqHash::to_hex).collect(), radius };
        let body = serde_json::to_vec(&query).expect("queries serialize");
        let answers: Vec<PdqAnswer> = self
            .ask::<PdqAnswer>("/v1/match/pdq", &body)
            .into_iter()
            .filter_map(Result::ok)
            .filter(|a| a.results.len() == hashes.len())
            .collect();
        let (coverage, good) =
            self.coverage(&answers.iter().map(|a| (a.part, a.works, a.last)).collect::<Vec<_>>(), None);
        let found = (0..hashes.len())
            .map(|i| {
                let mut best: HashMap<WorkId, u32> = HashMap::new();
                for (a, ok) in answers.iter().zip(&good) {
                    let honest = |n: &&WireNear| a.part.holds(n.work) && n.distance <= radius;
                    for n in a.results[i].iter().filter(|_| *ok).filter(honest) {
                        best.entry(n.work).and_modify(|d| *d = (*d).min(n.distance)).or_insert(n.distance);
                    }
                }
                let mut near: Vec<(WorkId, u32)> = best.into_iter().collect();
                near.sort_unstable_by_key(|&(w, d)| (d, w));
                near
            })
            .collect();
        Fanned { found, coverage }
    }
}

// ---- one search, local or fanned out ----

/// Where look-ups and publications search: the server's own index, or matchers.
#[derive(Clone, Copy)]
pub enum Finder<'a> {
    Index(&'a SearchIndex),
    Matchers(&'a Matchers),
}

impl<'a> From<&'a SearchIndex> for Finder<'a> {
    fn from(index: &'a SearchIndex) -> Finder<'a> {
        Finder::Index(index)
    }
}

impl<'a> From<&'a Matchers> for Finder<'a> {
    fn from(m: &'a Matchers) -> Finder<'a> {
        Finder::Matchers(m)
    }
}

/// The works near one hash, nearest first, with their distances.
pub type Near = Vec<(Work, u32)>;

/// What a search found, with how much of the index answered (`None`: the whole index is
/// local).
pub struct Found<T> {
    pub found: T,
    pub coverage: Option<Coverage>,
    /// Works searched.
    pub works: usize,
}

impl Finder<'_> {
    /// The works `scanned` matches, best first, each with its record (read once). Matchers
    /// are asked to have followed the store up to `seen` first.
    pub fn matches(
        &self,
        store: &Store,
        scanned: &Scanned,
        seen: Option<WorkId>,
    ) -> Result<Found<Vec<(MatchReport, Work)>>, RegistryError> {
        match self {
            Finder::Index(index) => {
                Ok(Found { found: index.matches(store, scanned)?, coverage: None, works: index.works() })
            }
            Finder::Matchers(m) => {
                let fanned = m.search(&scanned.fingerprint, seen);
                let mut found = Vec::new();
                for hit in fanned.found {
                    // A work a matcher holds is in the store: the matcher read it there.
                    let work = store.work(hit.work)?.ok_or_else(|| {
                        RegistryError::Store(format!(
                            "a matcher found work {}, which the store lacks",
                            hit.work
                        ))
                    })?;
                    found.push((MatchReport::new(hit, &work), work));
                }
                let works = fanned.coverage.works;
                Ok(Found { found, coverage: Some(fanned.coverage), works })
            }
        }
    }

    /// The works near each hash, within `radius`, nearest first.
    pub fn near(
        &self,
        store: &Store,
        hashes: &[PdqHash],
        radius: u32,
    ) -> Result<Found<Vec<Near>>, RegistryError> {
        let (near, coverage, works) = match self {
            Finder::Index(index) => {
                let near =
                    hashes.iter().map(|h| index.catalog.search_code(&catalog::code(h), radius)).collect();
                (near, None, index.works())
            }
            Finder::Matchers(m) => {
                let fanned = m.near(hashes, radius);
                let works = fanned.coverage.works;
                (fanned.found, Some(fanned.coverage), works)
            }
        };
        // A batch may ask for one hash many times: each work's record is read once.
        let mut records: HashMap<WorkId, Option<Work>> = HashMap::new();
        let found = near
            .into_iter()
            .map(|list: Vec<(WorkId, u32)>| {
                let mut out = Vec::new();
                for (id, d) in list {
                    let record = match records.get(&id) {
                        Some(r) => r.clone(),
                        None => records.entry(id).or_insert(store.work(id)?).clone(),
                    };
                    if let Some(w) = record {
                        out.push((w, d));
                    }
                }
                Ok(out)
            })
            .collect::<Result<Vec<_>, RegistryError>>()?;
        Ok(Found { found, coverage, works })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fingerprint_crosses_the_wire_unchanged() {
        let picture = fixtures::images::kodak("kodim03");
        let rgb =
            fingerprint::decode::Rgb { width: picture.width, height: picture.height, pixels: picture.rgb };
        let f = prints::fingerprint(&rgb);
        let wire: WireFingerprint =
            serde_json::from_slice(&serde_json::to_vec(&WireFingerprint::new(&f)).unwrap()).unwrap();
        assert_eq!(wire.fingerprint().unwrap(), f);
        let mut bad = wire.clone();
        bad.pdq.pop();
        assert!(bad.fingerprint().unwrap_err().to_string().contains("eight"));
        bad = wire;
        bad.features = "AAAA".into();
        assert!(bad.fingerprint().unwrap_err().to_string().contains("features"));
    }

    #[test]
    fn a_fingerprint_with_more_features_than_one_holds_is_refused() {
        let picture = fixtures::images::kodak("kodim03");
        let rgb =
            fingerprint::decode::Rgb { width: picture.width, height: picture.height, pixels: picture.rgb };
        let mut f = prints::fingerprint(&rgb);
        let one = f.features.features[0];
        f.features.features = vec![one; 200_000];
        let e = WireFingerprint::new(&f).fingerprint().unwrap_err().to_string();
        assert!(e.contains("at most 256 features, not 200000"), "{e}");
    }

    #[test]
    fn a_match_crosses_the_wire_unchanged_and_ranks_as_the_catalog_does() {
        let a = Match {
            work: 4,
            global: Some(GlobalHit { distance: 20, query: Variant::Trimmed, work: Variant::FlipX }),
            alignment: Some(Alignment {
                inliers: 40,
                matches: 61,
                scale: 0.731_234_5,
                rotation: -9.87,
                region: [0.1, 0.2, 0.7, 0.9],
            }),
            confidence: Confidence::High,
        };
        let json = serde_json::to_vec(&WireMatch::new(&a)).unwrap();
        let back: WireMatch = serde_json::from_slice(&json).unwrap();
        assert_eq!(back.found().unwrap(), a);
        let b = Match { work: 2, global: None, confidence: Confidence::Medium, ..a.clone() };
        let c = Match { work: 9, global: Some(GlobalHit { distance: 3, ..a.global.unwrap() }), ..a.clone() };
        let mut all = [b.clone(), a.clone(), c.clone()];
        all.sort_by(rank);
        assert_eq!(all.iter().map(|m| m.work).collect::<Vec<_>>(), vec![9, 4, 2]);
    }

    #[test]
    fn parts_that_do_not_answer_or_answer_for_another_division_are_missing() {
        let m =
            Matchers::new(&["http://a".into(), "http://b".into(), "http://c".into()], Duration::from_secs(1))
                .unwrap();
        let p = |index, count| WirePart { index, count };
        let (c, good) = m.coverage(&[(p(0, 3), 5, 10), (p(2, 3), 4, 10)], None);
        assert_eq!((c.partial, c.parts, c.missing_parts.clone(), c.works), (true, 3, vec![1], 9));
        assert_eq!(good, vec![true, true]);
        let (c, good) = m.coverage(&[(p(0, 3), 5, 10), (p(1, 2), 4, 10), (p(2, 3), 4, 9)], Some(10));
        assert_eq!((c.missing_parts, good), (vec![1, 2], vec![true, false, false]));
        let (c, _) = m.coverage(&[(p(1, 3), 1, 1), (p(0, 3), 1, 1), (p(2, 3), 1, 1)], Some(1));
        assert!(!c.partial && c.missing_parts.is_empty() && c.works == 3);
    }

    /// A matcher on loopback that answers every request with `body`.
    fn lying_matcher(body: String) -> String {
        fixtures::http::serve(move |_| (200, "application/json", body.clone().into_bytes())).0
    }

    #[test]
    fn a_matcher_naming_works_of_another_part_or_beyond_the_radius_is_not_believed() {
        // Part 0 of 1 holds every work: the lie is about a part of 2.
        let answer = serde_json::json!({
            "part": {"index": 1, "count": 2}, "works": usize::MAX, "last": 9,
            "results": [[{"work": 3, "distance": 4}, {"work": 4, "distance": 2}, {"work": 5, "distance": 200}]],
        });
        let honest = serde_json::json!({
            "part": {"index": 0, "count": 2}, "works": 7, "last": 9, "results": [[]],
        });
        let m = Matchers::new(
            &[lying_matcher(honest.to_string()), lying_matcher(answer.to_string())],
            Duration::from_secs(5),
        )
        .unwrap();
        let hash = PdqHash([0; 16]);
        let fanned = m.near(&[hash], 31);
        assert!(!fanned.coverage.partial, "both parts answered");
        // Work 4 is of part 0, work 5 is 200 bits away: only work 3 is taken.
        assert_eq!(fanned.found, vec![vec![(3, 4)]]);
        // A count of works no index holds does not overflow.
        assert_eq!(fanned.coverage.works, usize::MAX);
    }
}
