//! An exact Hamming-distance index over 256-bit codes, by multi-index hashing (Norouzi,
//! Punjani and Fleet, "Fast Exact Search in Hamming Space with Multi-Index Hashing", 2014).
//!
//! Each code is cut into `m` substrings, and each substring position has a table from
//! substring value to the codes that have it. If two codes are within distance `r`, then by
//! the pigeonhole principle at least one of their `m` substring pairs is within `⌊r / m⌋`.
//! So a radius search probes, in every table, each value within `⌊r / m⌋` of the query's
//! substring, and checks the full distance of what it finds: every code within `r` is
//! returned, and nothing else. `m` follows the paper's advice, about `256 / log2(n)`, so
//! buckets hold about one code each; when probing would cost more than a scan, the index
//! scans. Tables are compact (offsets and ids, counting-sorted); codes inserted after the
//! last build wait in a short list that every search scans, until the next rebuild. Codes and
//! tables may be read in place from a snapshot file ([`crate::mapped`]).

use crate::mapped::Array;

/// A 256-bit code (a PDQ hash), as four 64-bit words.
pub type Code = [u64; 4];

pub fn hamming(a: &Code, b: &Code) -> u32 {
    #[cfg(target_arch = "x86_64")]
    if has_popcnt() {
        // SAFETY: the CPU has POPCNT.
        return unsafe { hamming_popcnt(a, b) };
    }
    hamming_portable(a, b)
}

fn hamming_portable(a: &Code, b: &Code) -> u32 {
    (a[0] ^ b[0]).count_ones()
        + (a[1] ^ b[1]).count_ones()
        + (a[2] ^ b[2]).count_ones()
        + (a[3] ^ b[3]).count_ones()
}

/// Whether the CPU counts bits in one instruction: the workspace builds for baseline x86-64,
/// where `count_ones` is a dozen instructions.
#[cfg(target_arch = "x86_64")]
#[inline]
fn has_popcnt() -> bool {
    use std::sync::atomic::{AtomicU8, Ordering};
    static KNOWN: AtomicU8 = AtomicU8::new(0);
    match KNOWN.load(Ordering::Relaxed) {
        1 => false,
        2 => true,
        _ => {
            let yes = std::arch::is_x86_feature_detected!("popcnt");
            KNOWN.store(1 + u8::from(yes), Ordering::Relaxed);
            yes
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "popcnt")]
fn hamming_popcnt(a: &Code, b: &Code) -> u32 {
    hamming_portable(a, b)
}

/// Bits `start .. start + width` of a code (width ≤ 32), low bit first.
pub fn bits(code: &Code, start: u32, width: u32) -> u32 {
    let (word, shift) = ((start / 64) as usize, start % 64);
    let mut v = code[word] >> shift;
    if shift + width > 64 && word + 1 < 4 {
        v |= code[word + 1] << (64 - shift);
    }
    (v & ((1u64 << width) - 1)) as u32
}

/// Every `width`-bit value within `radius` bits of 0 (XOR with a key gives those within
/// `radius` of the key).
pub(crate) fn masks(width: u32, radius: u32) -> Vec<u32> {
    fn extend(out: &mut Vec<u32>, value: u32, from: u32, width: u32, left: u32) {
        out.push(value);
        if left == 0 {
            return;
        }
        for bit in from..width {
            extend(out, value | 1 << bit, bit + 1, width, left - 1);
        }
    }
    let mut out = Vec::new();
    extend(&mut out, 0, 0, width, radius);
    out
}

fn binomial_sum(width: u32, radius: u32) -> u64 {
    (0..=radius.min(width))
        .map(|k| (0..k).fold(1u64, |acc, i| acc * (width - i) as u64 / (i + 1) as u64))
        .sum()
}

#[derive(Clone)]
pub(crate) struct Table {
    pub start: u32,
    pub width: u32,
    /// `ids[offsets[v] .. offsets[v + 1]]` have substring value `v`.
    pub offsets: Array<u32>,
    pub ids: Array<u32>,
}

#[derive(Clone)]
pub struct HammingIndex {
    codes: Array<Code>,
    tables: Vec<Table>,
    /// Codes added since the tables were built.
    pending: Vec<u32>,
}

impl Default for HammingIndex {
    fn default() -> Self {
        Self::new()
    }
}

impl HammingIndex {
    pub fn new() -> Self {
        Self::from_codes(Vec::new())
    }

    /// Builds an index of `codes` (their ids are their positions).
    pub fn from_codes(codes: Vec<Code>) -> Self {
        let mut index = HammingIndex { codes: codes.into(), tables: Vec::new(), pending: Vec::new() };
        index.rebuild();
        index
    }

    /// An index from its parts as [`HammingIndex::parts`] gave them (read from a snapshot),
    /// or `None` if they do not describe one.
    pub(crate) fn from_parts(codes: Array<Code>, tables: Vec<Table>) -> Option<HammingIndex> {
        let n = codes.len();
        let mut covered = 0;
        for t in &tables {
            let ok = t.start == covered
                && (1..=24).contains(&t.width)
                && t.offsets.len() == (1usize << t.width) + 1
                && t.ids.len() == n
                && t.offsets.first() == Some(&0)
                && t.offsets.last().map(|&o| o as usize) == Some(n)
                && t.offsets.windows(2).all(|w| w[0] <= w[1])
                && t.ids.iter().all(|&id| (id as usize) < n);
            if !ok {
                return None;
            }
            covered += t.width;
        }
        (covered == 256).then_some(HammingIndex { codes, tables, pending: Vec::new() })
    }

    /// Substring count for `n` codes: 16 (16-bit substrings, whose tables stay in cache) up
    /// to 2^21 codes; beyond, about 256 / log2(n), down to 11 (24-bit substrings), so that
    /// buckets hold about one code each. Measured at radius 31 (crates/fingerprint/benches/index.rs):
    /// at 10^6 codes 16 substrings beat 13, at 10^7 11 beat 16 by a factor of 25 at p99.
    fn substrings_for(n: usize) -> u32 {
        if n <= 1 << 21 {
            return 16;
        }
        ((256.0 / (n as f64).log2()).round() as u32).clamp(11, 16)
    }

    fn rebuild(&mut self) {
        let m = Self::substrings_for(self.codes.len());
        let (base, extra) = (256 / m, 256 % m);
        let mut start = 0;
        self.tables = (0..m)
            .map(|t| {
                let width = base + u32::from(t < extra);
                let table = self.table(start, width);
                start += width;
                table
            })
            .collect();
        self.pending.clear();
    }

    /// Counting sort of the codes by one substring.
    fn table(&self, start: u32, width: u32) -> Table {
        let mut offsets = vec![0u32; (1usize << width) + 1];
        for c in self.codes.iter() {
            offsets[bits(c, start, width) as usize + 1] += 1;
        }
        for i in 1..offsets.len() {
            offsets[i] += offsets[i - 1];
        }
        let mut next = offsets.clone();
        let mut ids = vec![0u32; self.codes.len()];
        for (id, c) in self.codes.iter().enumerate() {
            let v = bits(c, start, width) as usize;
            ids[next[v] as usize] = id as u32;
            next[v] += 1;
        }
        Table { start, width, offsets: offsets.into(), ids: ids.into() }
    }

    pub fn len(&self) -> usize {
        self.codes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }

    pub(crate) fn tables(&self) -> &[Table] {
        &self.tables
    }

    pub fn codes(&self) -> &[Code] {
        &self.codes
    }

    pub fn code(&self, id: u32) -> &Code {
        &self.codes[id as usize]
    }

    /// Adds a code; returns its id. The tables are rebuilt once the codes waiting outside
    /// them reach an eighth of the indexed ones (amortised O(1) per insert).
    pub fn insert(&mut self, code: Code) -> u32 {
        let id = u32::try_from(self.codes.len()).expect("at most 2^32 codes");
        self.codes.to_mut().push(code);
        self.pending.push(id);
        if self.pending.len() > 1024 && self.pending.len() * 8 > self.codes.len() {
            self.rebuild();
        }
        id
    }

    /// Every code within `radius` of `query`, as `(id, distance)`, nearest first (ties by id).
    pub fn within(&self, query: &Code, radius: u32) -> Vec<(u32, u32)> {
        let m = self.tables.len() as u32;
        let probe = radius / m;
        let probes: u64 = self.tables.iter().map(|t| binomial_sum(t.width, probe)).sum();
        let mut found: Vec<(u32, u32)> = Vec::new();
        let mut check = |id: u32| {
            let d = hamming(query, &self.codes[id as usize]);
            if d <= radius {
                found.push((id, d));
            }
        };
        if probes as usize >= self.codes.len() / 4 {
            (0..self.codes.len() as u32).for_each(&mut check);
        } else {
            let mut cache: Vec<(u32, Vec<u32>)> = Vec::new();
            for t in &self.tables {
                if !cache.iter().any(|(w, _)| *w == t.width) {
                    cache.push((t.width, masks(t.width, probe)));
                }
                let masks = &cache.iter().find(|(w, _)| *w == t.width).expect("just added").1;
                let key = bits(query, t.start, t.width);
                for &mask in masks {
                    let v = (key ^ mask) as usize;
                    for &id in &t.ids[t.offsets[v] as usize..t.offsets[v + 1] as usize] {
                        check(id);
                    }
                }
            }
            self.pending.iter().copied().for_each(&mut check);
            // A code close in several substrings is found once per table.
            found.sort_unstable();
            found.dedup();
        }
        found.sort_unstable_by_key(|&(id, d)| (d, id));
        found
    }

    /// The `k` nearest codes (exact), nearest first: radius searches of growing radius
    /// until `k` are found.
    pub fn nearest(&self, query: &Code, k: usize) -> Vec<(u32, u32)> {
        let k = k.min(self.codes.len());
        let m = self.tables.len() as u32;
        let mut radius = m - 1; // a substring radius of 0: one probe per table
        loop {
            let found = self.within(query, radius);
            if found.len() >= k || radius >= 256 {
                return found.into_iter().take(k).collect();
            }
            radius = (radius + m).min(256);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Rng(fixtures::rng::XorShift);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0.next_u64()
        }
        fn code(&mut self) -> Code {
            [self.next(), self.next(), self.next(), self.next()]
        }
        /// `code` with `flips` distinct bits flipped.
        fn near(&mut self, code: &Code, flips: u32) -> Code {
            let mut c = *code;
            let mut done = 0;
            while done < flips {
                let bit = (self.next() % 256) as usize;
                let before = hamming(&c, code);
                c[bit / 64] ^= 1 << (bit % 64);
                if hamming(&c, code) > before {
                    done += 1;
                } else {
                    c[bit / 64] ^= 1 << (bit % 64);
                }
            }
            c
        }
    }

    fn brute(codes: &[Code], q: &Code, radius: u32) -> Vec<(u32, u32)> {
        let mut v: Vec<(u32, u32)> = codes
            .iter()
            .enumerate()
            .map(|(i, c)| (i as u32, hamming(q, c)))
            .filter(|&(_, d)| d <= radius)
            .collect();
        v.sort_unstable_by_key(|&(id, d)| (d, id));
        v
    }

    #[test]
    fn radius_search_returns_exactly_what_a_scan_returns() {
        let mut rng = Rng(fixtures::rng::XorShift::new(0x1234_5678_9abc_def1));
        let mut codes: Vec<Code> = (0..3000).map(|_| rng.code()).collect();
        // Plant neighbours at every distance up to 80 around a few centres.
        let centres: Vec<Code> = codes[..20].to_vec();
        for (i, c) in centres.iter().enumerate() {
            for d in 0..=80 {
                if (d + i as u32).is_multiple_of(3) {
                    codes.push(rng.near(c, d));
                }
            }
        }
        let index = HammingIndex::from_codes(codes.clone());
        for q in centres.iter().chain(&[rng.code(), rng.code()]) {
            for radius in [0, 1, 8, 15, 16, 31, 32, 47, 48, 63, 64, 90] {
                assert_eq!(index.within(q, radius), brute(&codes, q, radius), "radius {radius}");
            }
        }
    }

    #[test]
    fn substrings_cover_every_bit_once() {
        for n in [0usize, 1 << 16, 1 << 20, 10_000_000] {
            let m = HammingIndex::substrings_for(n);
            let (base, extra) = (256 / m, 256 % m);
            let widths: u32 = (0..m).map(|t| base + u32::from(t < extra)).sum();
            assert_eq!(widths, 256);
        }
        let code: Code = [0x0123_4567_89ab_cdef, 0xfedc_ba98_7654_3210, 0, u64::MAX];
        assert_eq!(bits(&code, 60, 8), 0); // the top nibble of word 0, the bottom of word 1
        assert_eq!(bits(&code, 56, 16), 0x1001);
        assert_eq!(bits(&code, 250, 6), 0x3f);
        assert_eq!(masks(5, 2).len(), 1 + 5 + 10);
    }

    #[test]
    fn many_inserts_across_rebuilds_stay_exact() {
        let mut rng = Rng(fixtures::rng::XorShift::new(7));
        let mut index = HammingIndex::new();
        let mut codes = Vec::new();
        let centre = rng.code();
        for i in 0..5000u32 {
            let c = if i % 50 == 0 { rng.near(&centre, i % 40) } else { rng.code() };
            codes.push(c);
            index.insert(c);
        }
        for radius in [0, 15, 31, 39] {
            assert_eq!(index.within(&centre, radius), brute(&codes, &centre, radius), "radius {radius}");
        }
    }

    #[test]
    fn nearest_equals_a_scan_and_inserts_are_searchable() {
        let mut rng = Rng(fixtures::rng::XorShift::new(99));
        let codes: Vec<Code> = (0..2000).map(|_| rng.code()).collect();
        let mut index = HammingIndex::from_codes(codes.clone());
        let q = rng.code();
        let mut all = brute(&codes, &q, 256);
        all.truncate(5);
        assert_eq!(index.nearest(&q, 5), all);
        let near = rng.near(&q, 3);
        let id = index.insert(near);
        assert_eq!(index.within(&q, 3), vec![(id, 3)]);
        assert_eq!(index.nearest(&q, 1), vec![(id, 3)]);
    }
}
