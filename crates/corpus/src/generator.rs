//! Registered works made on demand from the pool: work `i` of seed `s` is the same on every
//! call and machine, and costs microseconds, so a catalog of ten million works is never
//! stored: a benchmark asks for work `i` when it needs it.

use std::sync::Arc;

use fingerprint::catalog::Variant;
use fingerprint::features::Features;
use fingerprint::index::Code;

use crate::pool::Pool;
use crate::rng::{Rng, mix};

/// Bits flipped in each code of a work past the pool's own sets (see the crate's doc).
pub const CODE_FLIPS: u32 = 40;
/// Bits flipped in each local descriptor of a work (see the crate's doc).
pub const DESCRIPTOR_FLIPS: u32 = 6;

/// A registered work as a benchmark sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct SyntheticWork {
    /// The photo it comes from: works of one family are related and never false matches of
    /// each other.
    pub family: u32,
    /// The pool code set its codes come from, and how many times the pool had been used up
    /// before it (0: the set as it is; more: the set with bits flipped).
    pub set: u32,
    pub round: u64,
    /// The pool tile its features come from (of the same family).
    pub tile: u32,
    /// Nine codes, in [`Variant::ALL`] order.
    pub codes: Vec<(Variant, Code)>,
    pub features: Features,
}

#[derive(Clone, Debug)]
pub struct Generator {
    pool: Arc<Pool>,
    seed: u64,
    code_flips: u32,
    descriptor_flips: u32,
    /// The pool sets works are made from (all but those of held-out families).
    sets: Vec<u32>,
    offset: u64,
    family_tiles: Vec<Vec<u32>>,
}

impl Generator {
    pub fn new(pool: Arc<Pool>, seed: u64) -> Generator {
        let mut family_tiles = vec![Vec::new(); pool.families.len()];
        for (t, tile) in pool.tiles.iter().enumerate() {
            family_tiles[tile.family as usize].push(t as u32);
        }
        let sets: Vec<u32> = (0..pool.sets.len() as u32).collect();
        let offset = mix(seed) % sets.len().max(1) as u64;
        Generator {
            pool,
            seed,
            code_flips: CODE_FLIPS,
            descriptor_flips: DESCRIPTOR_FLIPS,
            sets,
            offset,
            family_tiles,
        }
    }

    /// Other numbers of flipped bits per code and per descriptor.
    pub fn with_flips(mut self, code_flips: u32, descriptor_flips: u32) -> Generator {
        self.code_flips = code_flips.min(256);
        self.descriptor_flips = descriptor_flips.min(256);
        self
    }

    /// Works from every family but these: their photos stay out of the catalog, so their
    /// codes are real queries for nothing in it.
    pub fn excluding(mut self, families: &[u32]) -> Generator {
        self.sets.retain(|&s| !families.contains(&self.pool.sets[s as usize].family));
        self.offset = mix(self.seed) % self.sets.len().max(1) as u64;
        self
    }

    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Works made from the pool's sets as they are; past this, sets come round again with
    /// bits flipped.
    pub fn distinct(&self) -> u64 {
        self.sets.len() as u64
    }

    /// The work made from pool set `set` as it is, if that set is used.
    pub fn work_of_set(&self, set: u32) -> Option<u64> {
        let at = self.sets.binary_search(&set).ok()? as u64;
        let n = self.distinct();
        Some((at + n - self.offset) % n)
    }

    fn place(&self, i: u64) -> (u32, u64) {
        let n = self.distinct();
        assert!(n > 0, "a generator over an empty pool");
        (self.sets[((i % n + self.offset) % n) as usize], i / n)
    }

    /// Work `i`'s family and nine codes, without its features (what a code index needs).
    pub fn codes(&self, i: u64) -> (u32, [Code; 9]) {
        let (set, round) = self.place(i);
        let source = &self.pool.sets[set as usize];
        let mut codes = source.codes;
        if round > 0 {
            for (v, c) in codes.iter_mut().enumerate() {
                flip_balanced(c, self.code_flips, &mut self.code_rng(i, v));
            }
        }
        (source.family, codes)
    }

    /// Each code its own stream, so one can be made without the others.
    fn code_rng(&self, i: u64, variant: usize) -> Rng {
        Rng::for_item(mix(self.seed) ^ variant as u64, i)
    }

    /// Work `i`'s family and original PDQ code alone (the same as `codes(i)` gives).
    pub fn original(&self, i: u64) -> (u32, Code) {
        let (set, round) = self.place(i);
        let source = &self.pool.sets[set as usize];
        let mut code = source.codes[0];
        if round > 0 {
            flip_balanced(&mut code, self.code_flips, &mut self.code_rng(i, 0));
        }
        (source.family, code)
    }

    pub fn work(&self, i: u64) -> SyntheticWork {
        let (set, round) = self.place(i);
        let (family, codes) = self.codes(i);
        let mut rng = Rng::for_item(self.seed ^ 0xFEA7, i);
        let tile = if (set as usize) < self.pool.tiles.len() {
            set
        } else {
            let of = &self.family_tiles[family as usize];
            if of.is_empty() { u32::MAX } else { of[rng.below(of.len() as u64) as usize] }
        };
        let mut features = self.pool.tiles.get(tile as usize).map(|t| t.features.clone()).unwrap_or_default();
        for f in &mut features.features {
            flip_any(&mut f.descriptor, self.descriptor_flips, &mut rng);
        }
        SyntheticWork {
            family,
            set,
            round,
            tile,
            codes: Variant::ALL.iter().copied().zip(codes).collect(),
            features,
        }
    }
}

fn bit(c: &Code, b: usize) -> bool {
    c[b / 64] >> (b % 64) & 1 == 1
}

/// Flips `n` distinct bits, half of them ones and half zeros, so that a code keeps its
/// weight (PDQ thresholds at the median: its codes have 128 ones).
fn flip_balanced(c: &mut Code, n: u32, rng: &mut Rng) {
    let (mut ones, mut zeros) = (n / 2, n - n / 2);
    let weight = c.iter().map(|w| w.count_ones()).sum::<u32>();
    ones = ones.min(weight);
    zeros = zeros.min(256 - weight);
    let mut done = [0u64; 4];
    while ones + zeros > 0 {
        let b = rng.below(256) as usize;
        if bit(&done, b) {
            continue;
        }
        let left = if bit(c, b) { &mut ones } else { &mut zeros };
        if *left > 0 {
            *left -= 1;
            done[b / 64] |= 1 << (b % 64);
            c[b / 64] ^= 1 << (b % 64);
        }
    }
}

/// Flips `n` distinct random bits.
fn flip_any(c: &mut Code, n: u32, rng: &mut Rng) {
    let mut done = [0u64; 4];
    let mut left = n;
    while left > 0 {
        let b = rng.below(256) as usize;
        if !bit(&done, b) {
            done[b / 64] |= 1 << (b % 64);
            c[b / 64] ^= 1 << (b % 64);
            left -= 1;
        }
    }
}
