//! Votes: which works have a local descriptor close to one of an image's. Votes only pick
//! the works worth aligning ([`crate::features::align`] decides), so they may be approximate,
//! and must be small: an exact radius search over every work's descriptors costs tens of
//! milliseconds and 3 KB per work at a million works.
//!
//! An inverted file in the manner of Hamming embedding (Jégou, Douze and Schmid, 2008): each
//! indexed descriptor is filed under a key, its first `key_bits` bits, as one 8-byte entry —
//! the work's slot and a sketch, 32 other bits of the descriptor. A query descriptor probes
//! its key and every key one bit away, and a filed entry votes when its sketch is within
//! [`SKETCH_RADIUS`] of the query's. For a true pair of descriptors 15 bits apart (the exact
//! search's old radius), a 20-bit key survives with probability 0.68 and the sketch test with
//! 0.99; for two unrelated descriptors the sketch test passes once in 17,000.

use std::collections::HashMap;

use crate::index::{Code, bits, masks};
use crate::mapped::Array;

/// Sketch bits that may differ for a vote, of 32.
pub const SKETCH_RADIUS: u32 = 5;
/// Key bits a probe may differ in.
const KEY_RADIUS: u32 = 1;
/// A bucket this full holds a descriptor too common to say anything (a flat sky, a
/// gradient): it is skipped, as a search engine skips stop words.
pub const STOP_BUCKET: usize = 1 << 14;

/// The key of a descriptor, of `key_bits` bits.
fn key(d: &Code, key_bits: u32) -> u32 {
    bits(d, 0, key_bits)
}

/// Bits 128–159: far from the key, so the two are independent tests.
fn sketch(d: &Code) -> u32 {
    d[2] as u32
}

pub(crate) fn entry(slot: u32, d: &Code) -> u64 {
    u64::from(slot) | u64::from(sketch(d)) << 32
}

/// Key width for `n` entries: about 32 entries per key, 12 to 22 bits.
pub fn key_bits_for(n: usize) -> u32 {
    ((n.max(1) as f64 / 32.0).log2().round() as i64).clamp(12, 22) as u32
}

/// The votes of one query: each probe's passing entries, as slots.
pub struct Probes {
    masks: Vec<u32>,
    key_bits: u32,
}

impl Probes {
    pub fn new(key_bits: u32) -> Probes {
        Probes { masks: masks(key_bits, KEY_RADIUS), key_bits }
    }
}

/// The immutable part of the index, built at once or read from a snapshot.
#[derive(Clone, Debug)]
pub struct VoteIndex {
    pub(crate) key_bits: u32,
    /// `entries[offsets[k] .. offsets[k + 1]]` are filed under key `k`.
    pub(crate) offsets: Array<u32>,
    pub(crate) entries: Array<u64>,
}

impl Default for VoteIndex {
    fn default() -> Self {
        VoteIndex::build(Vec::new(), key_bits_for(0))
    }
}

impl VoteIndex {
    /// Files `(slot, descriptor)` pairs under keys of `key_bits` bits (counting sort).
    pub fn build(items: Vec<(u32, Code)>, key_bits: u32) -> VoteIndex {
        let mut offsets = vec![0u32; (1usize << key_bits) + 1];
        for (_, d) in &items {
            offsets[key(d, key_bits) as usize + 1] += 1;
        }
        for i in 1..offsets.len() {
            offsets[i] += offsets[i - 1];
        }
        let mut next = offsets.clone();
        let mut entries = vec![0u64; items.len()];
        for (slot, d) in &items {
            let k = key(d, key_bits) as usize;
            entries[next[k] as usize] = entry(*slot, d);
            next[k] += 1;
        }
        VoteIndex { key_bits, offsets: offsets.into(), entries: entries.into() }
    }

    /// Files entries given with (at least) their first `key_bits` key bits.
    pub fn from_keyed(mut items: Vec<(u32, u64)>, key_bits: u32) -> VoteIndex {
        let mask = (1u32 << key_bits) - 1;
        let mut offsets = vec![0u32; (1usize << key_bits) + 1];
        for (k, _) in &items {
            offsets[(k & mask) as usize + 1] += 1;
        }
        for i in 1..offsets.len() {
            offsets[i] += offsets[i - 1];
        }
        // Sorted in place by key, slots ascending within a key as `build` files them.
        items.sort_unstable_by_key(|&(k, e)| (k & mask, e as u32));
        let entries: Vec<u64> = items.into_iter().map(|(_, e)| e).collect();
        VoteIndex { key_bits, offsets: offsets.into(), entries: entries.into() }
    }

    /// An index from its parts (read from a snapshot), or `None` if they do not describe one.
    pub(crate) fn from_parts(
        key_bits: u32,
        offsets: Array<u32>,
        entries: Array<u64>,
        slots: usize,
    ) -> Option<Self> {
        let ok = (1..=24).contains(&key_bits)
            && offsets.len() == (1usize << key_bits) + 1
            && offsets.first() == Some(&0)
            && offsets.last().map(|&o| o as usize) == Some(entries.len())
            && offsets.windows(2).all(|w| w[0] <= w[1])
            && entries.iter().all(|&e| ((e as u32) as usize) < slots);
        ok.then_some(VoteIndex { key_bits, offsets, entries })
    }

    pub fn key_bits(&self) -> u32 {
        self.key_bits
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Pushes the slot of every entry that votes for `d`.
    pub fn vote(&self, probes: &Probes, d: &Code, out: &mut Vec<u32>) {
        debug_assert_eq!(probes.key_bits, self.key_bits);
        let (k, s) = (key(d, self.key_bits), sketch(d));
        for &mask in &probes.masks {
            let v = (k ^ mask) as usize;
            let bucket = &self.entries[self.offsets[v] as usize..self.offsets[v + 1] as usize];
            if bucket.len() > STOP_BUCKET {
                continue;
            }
            out.extend(
                bucket
                    .iter()
                    .filter(|&&e| ((e >> 32) as u32 ^ s).count_ones() <= SKETCH_RADIUS)
                    .map(|&e| e as u32),
            );
        }
    }
}

/// Entries filed since the last build, under the same keys: added one work at a time.
#[derive(Clone, Debug, Default)]
pub struct VoteDelta {
    buckets: HashMap<u32, Vec<u64>>,
}

impl VoteDelta {
    pub fn add(&mut self, slot: u32, d: &Code, key_bits: u32) {
        self.buckets.entry(key(d, key_bits)).or_default().push(entry(slot, d));
    }

    pub fn vote(&self, probes: &Probes, d: &Code, out: &mut Vec<u32>) {
        let (k, s) = (key(d, probes.key_bits), sketch(d));
        for &mask in &probes.masks {
            if let Some(bucket) = self.buckets.get(&(k ^ mask)) {
                out.extend(
                    bucket
                        .iter()
                        .filter(|&&e| ((e >> 32) as u32 ^ s).count_ones() <= SKETCH_RADIUS)
                        .map(|&e| e as u32),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rng(seed: u64) -> impl FnMut() -> u64 {
        let mut x = fixtures::rng::XorShift::new(seed);
        move || x.next_u64()
    }

    #[test]
    fn a_near_descriptor_votes_and_unrelated_ones_almost_never_do() {
        let mut next = rng(11);
        let codes: Vec<Code> = (0..20_000).map(|_| [next(), next(), next(), next()]).collect();
        let items: Vec<(u32, Code)> = codes.iter().enumerate().map(|(i, c)| (i as u32 / 4, *c)).collect();
        let bits = key_bits_for(items.len());
        let index = VoteIndex::build(items.clone(), bits);
        let probes = Probes::new(bits);
        // Each code with 3 bits flipped outside the key: it must find its own work.
        let mut found = 0;
        let mut stray = 0;
        for (slot, c) in items.iter().step_by(97) {
            let mut q = *c;
            for b in [70, 130, 200] {
                q[b / 64] ^= 1 << (b % 64);
            }
            let mut out = Vec::new();
            index.vote(&probes, &q, &mut out);
            found += usize::from(out.contains(slot));
            stray += out.iter().filter(|s| *s != slot).count();
        }
        assert_eq!(found, items.len().div_ceil(97));
        assert!(stray <= 2, "{stray} unrelated votes");
        // The same through a delta.
        let mut delta = VoteDelta::default();
        for (slot, c) in &items {
            delta.add(*slot, c, bits);
        }
        let mut a = Vec::new();
        let mut b = Vec::new();
        for (_, c) in items.iter().step_by(101) {
            index.vote(&probes, c, &mut a);
            delta.vote(&probes, c, &mut b);
        }
        a.sort_unstable();
        b.sort_unstable();
        assert_eq!(a, b);
    }

    #[test]
    fn parts_that_do_not_describe_an_index_are_refused() {
        let mut next = rng(5);
        let items: Vec<(u32, Code)> = (0..100).map(|i| (i, [next(), next(), next(), next()])).collect();
        let index = VoteIndex::build(items, 12);
        let ok = VoteIndex::from_parts(12, index.offsets.clone(), index.entries.clone(), 100);
        assert!(ok.is_some());
        assert!(VoteIndex::from_parts(12, index.offsets.clone(), index.entries.clone(), 99).is_none());
        assert!(VoteIndex::from_parts(13, index.offsets.clone(), index.entries.clone(), 100).is_none());
        let mut bad = index.offsets.to_vec();
        bad[7] = u32::MAX;
        assert!(VoteIndex::from_parts(12, bad.into(), index.entries, 100).is_none());
    }
}
