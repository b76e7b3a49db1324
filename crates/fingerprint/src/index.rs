//! An exact Hamming-distance index over 256-bit codes, by multi-index hashing (Norouzi,
//! Punjani and Fleet, "Fast Exact Search in Hamming Space with Multi-Index Hashing", 2014).
//!
//! Each code is cut into 16 substrings of 16 bits, and each substring position has a table
//! from substring value to the codes that have it. If two codes are within distance `r`,
//! then by the pigeonhole principle at least one of their 16 substring pairs is within
//! `⌊r / 16⌋`. So a radius search probes, in every table, each value within `⌊r / 16⌋` of the
//! query's substring, and checks the full distance of what it finds: every code within `r`
//! is returned, and nothing else. Beyond a substring radius of 3 (r ≥ 64) probing costs more
//! than a scan, so the index scans.

/// A 256-bit code (a PDQ hash), as four 64-bit words.
pub type Code = [u64; 4];

pub fn hamming(a: &Code, b: &Code) -> u32 {
    (a[0] ^ b[0]).count_ones()
        + (a[1] ^ b[1]).count_ones()
        + (a[2] ^ b[2]).count_ones()
        + (a[3] ^ b[3]).count_ones()
}

const TABLES: usize = 16;
/// Largest substring radius searched by probing; larger ones scan.
const MAX_PROBE_RADIUS: u32 = 3;

fn substring(code: &Code, table: usize) -> u16 {
    (code[table / 4] >> ((table % 4) * 16)) as u16
}

/// Every 16-bit value within `radius` bits of 0, by increasing weight (XOR with a key gives
/// the values within `radius` of the key).
fn masks(radius: u32) -> Vec<u16> {
    let mut m: Vec<u16> = (0..=u16::MAX).filter(|v| v.count_ones() <= radius).collect();
    m.sort_by_key(|v| v.count_ones());
    m
}

pub struct HammingIndex {
    codes: Vec<Code>,
    /// `tables[t][v]`: the ids of the codes whose substring `t` is `v`.
    tables: Vec<Vec<Vec<u32>>>,
    masks: Vec<Vec<u16>>,
}

impl Default for HammingIndex {
    fn default() -> Self {
        Self::new()
    }
}

impl HammingIndex {
    pub fn new() -> Self {
        HammingIndex {
            codes: Vec::new(),
            tables: (0..TABLES).map(|_| vec![Vec::new(); 1 << 16]).collect(),
            masks: (0..=MAX_PROBE_RADIUS).map(masks).collect(),
        }
    }

    /// Builds an index of `codes` (their ids are their positions).
    pub fn from_codes(codes: Vec<Code>) -> Self {
        let mut index = HammingIndex::new();
        for t in 0..TABLES {
            let mut counts = vec![0u32; 1 << 16];
            for c in &codes {
                counts[substring(c, t) as usize] += 1;
            }
            for (bucket, &n) in index.tables[t].iter_mut().zip(&counts) {
                bucket.reserve_exact(n as usize);
            }
        }
        for c in codes {
            index.insert(c);
        }
        index
    }

    pub fn len(&self) -> usize {
        self.codes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }

    pub fn code(&self, id: u32) -> &Code {
        &self.codes[id as usize]
    }

    /// Adds a code; returns its id.
    pub fn insert(&mut self, code: Code) -> u32 {
        let id = u32::try_from(self.codes.len()).expect("at most 2^32 codes");
        for (t, table) in self.tables.iter_mut().enumerate() {
            table[substring(&code, t) as usize].push(id);
        }
        self.codes.push(code);
        id
    }

    /// Every code within `radius` of `query`, as `(id, distance)`, nearest first (ties by id).
    pub fn within(&self, query: &Code, radius: u32) -> Vec<(u32, u32)> {
        let probe = radius / TABLES as u32;
        let mut found: Vec<(u32, u32)> = Vec::new();
        if probe > MAX_PROBE_RADIUS {
            for (id, c) in self.codes.iter().enumerate() {
                let d = hamming(query, c);
                if d <= radius {
                    found.push((id as u32, d));
                }
            }
        } else {
            for (t, table) in self.tables.iter().enumerate() {
                let key = substring(query, t);
                for &mask in &self.masks[probe as usize] {
                    for &id in &table[(key ^ mask) as usize] {
                        let d = hamming(query, &self.codes[id as usize]);
                        if d <= radius {
                            found.push((id, d));
                        }
                    }
                }
            }
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
        let mut radius = 15; // a substring radius of 0: one probe per table
        loop {
            let found = self.within(query, radius);
            if found.len() >= k || radius >= 256 {
                return found.into_iter().take(k).collect();
            }
            radius = (radius + 16).min(256);
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
