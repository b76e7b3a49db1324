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

use crate::index::{Code, masks};
use crate::mapped::Array;

/// Sketch bits that may differ for a vote, of 32.
pub const SKETCH_RADIUS: u32 = 5;
/// Key bits a probe may differ in.
const KEY_RADIUS: u32 = 1;
/// A bucket this many times fuller than the average holds descriptors too common to say
/// anything (a flat sky, foliage, a gradient): it is skipped, as a search engine skips stop
/// words. Real descriptors crowd a few keys, and scanning those was most of a search's time.
pub const STOP_FACTOR: usize = 16;
/// No bucket this small is skipped.
const STOP_MIN: usize = 256;

/// Which descriptor bits make the key and the sketch. Real descriptors are far from
/// uniform (a bit is set in 25% or 75% of them on average: measured by `handprint-corpus`),
/// and keys of skewed bits crowd a few buckets; so an index built from enough descriptors
/// takes the most balanced bits, the sketch after the key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    pub key_bits: u32,
    /// Bit positions: `order[..key_bits]` make the key (low bit first), `order[KEY_MAX..]`
    /// the sketch.
    pub order: [u8; LAYOUT_BITS],
}

/// The widest key.
pub const KEY_MAX: usize = 24;
pub const LAYOUT_BITS: usize = KEY_MAX + 32;

impl Layout {
    /// Bits 0–23 for the key, 128–159 for the sketch: for an index with too few descriptors
    /// to choose from.
    pub fn fixed(key_bits: u32) -> Layout {
        let mut order = [0u8; LAYOUT_BITS];
        for (i, o) in order.iter_mut().enumerate() {
            *o = if i < KEY_MAX { i as u8 } else { (128 + i - KEY_MAX) as u8 };
        }
        Layout { key_bits, order }
    }

    /// The most balanced bits of `sample` (at least [`Layout::SAMPLE`] descriptors, else
    /// the fixed layout).
    pub fn choose(sample: &[Code], key_bits: u32) -> Layout {
        if sample.len() < Layout::SAMPLE {
            return Layout::fixed(key_bits);
        }
        let mut ones = [0usize; 256];
        for d in sample {
            for (b, n) in ones.iter_mut().enumerate() {
                *n += (d[b / 64] >> (b % 64) & 1) as usize;
            }
        }
        let half = sample.len() as i64;
        let mut bits: Vec<usize> = (0..256).collect();
        bits.sort_by_key(|&b| ((2 * ones[b] as i64 - half).abs(), b));
        let mut order = [0u8; LAYOUT_BITS];
        for (o, b) in order.iter_mut().zip(bits) {
            *o = b as u8;
        }
        Layout { key_bits, order }
    }

    /// Descriptors that [`Layout::choose`] needs to choose.
    pub const SAMPLE: usize = 50_000;

    fn gather(d: &Code, positions: &[u8]) -> u32 {
        positions
            .iter()
            .enumerate()
            .fold(0, |acc, (i, &b)| acc | ((d[b as usize / 64] >> (b % 64)) as u32 & 1) << i)
    }

    /// The key of `d`, of [`KEY_MAX`] bits; the index's key is its low `key_bits`.
    pub fn key_max(&self, d: &Code) -> u32 {
        Layout::gather(d, &self.order[..KEY_MAX])
    }

    fn key(&self, d: &Code) -> u32 {
        Layout::gather(d, &self.order[..self.key_bits as usize])
    }

    fn sketch(&self, d: &Code) -> u32 {
        Layout::gather(d, &self.order[KEY_MAX..])
    }

    pub fn entry(&self, slot: u32, d: &Code) -> u64 {
        u64::from(slot) | u64::from(self.sketch(d)) << 32
    }

    fn valid(&self) -> bool {
        let mut seen = [false; 256];
        (1..=KEY_MAX as u32).contains(&self.key_bits)
            && self.order.iter().all(|&b| !std::mem::replace(&mut seen[b as usize], true))
    }
}

/// Key width for `n` entries: about 4 entries per key, 12 to 24 bits. Scanning entries is
/// most of a vote's time; a longer key loses a little recall (a true pair 15 bits apart
/// keeps its 24-bit key within one bit with probability 0.58, against 0.68 for 20 bits).
pub fn key_bits_for(n: usize) -> u32 {
    ((n.max(1) as f64 / 4.0).log2().round() as i64).clamp(12, KEY_MAX as i64) as u32
}

/// The keys a query descriptor probes, as masks of its own.
pub struct Probes {
    masks: Vec<u32>,
}

impl Probes {
    pub fn new(layout: &Layout) -> Probes {
        Probes { masks: masks(layout.key_bits, KEY_RADIUS) }
    }
}

/// The immutable part of the index, built at once or read from a snapshot.
#[derive(Clone, Debug)]
pub struct VoteIndex {
    pub(crate) layout: Layout,
    /// `entries[offsets[k] .. offsets[k + 1]]` are filed under key `k`.
    pub(crate) offsets: Array<u32>,
    pub(crate) entries: Array<u64>,
}

impl Default for VoteIndex {
    fn default() -> Self {
        VoteIndex::build(Vec::new(), Layout::fixed(key_bits_for(0)))
    }
}

impl VoteIndex {
    /// Files `(slot, descriptor)` pairs as `layout` says (counting sort).
    pub fn build(items: Vec<(u32, Code)>, layout: Layout) -> VoteIndex {
        let key_bits = layout.key_bits;
        let mut offsets = vec![0u32; (1usize << key_bits) + 1];
        for (_, d) in &items {
            offsets[layout.key(d) as usize + 1] += 1;
        }
        for i in 1..offsets.len() {
            offsets[i] += offsets[i - 1];
        }
        let mut next = offsets.clone();
        let mut entries = vec![0u64; items.len()];
        for (slot, d) in &items {
            let k = layout.key(d) as usize;
            entries[next[k] as usize] = layout.entry(*slot, d);
            next[k] += 1;
        }
        VoteIndex { layout, offsets: offsets.into(), entries: entries.into() }
    }

    /// Files entries given with their [`Layout::key_max`] keys.
    pub fn from_keyed(mut items: Vec<(u32, u64)>, layout: Layout) -> VoteIndex {
        let key_bits = layout.key_bits;
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
        VoteIndex { layout, offsets: offsets.into(), entries: entries.into() }
    }

    /// An index from its parts (read from a snapshot), or `None` if they do not describe one.
    pub(crate) fn from_parts(
        layout: Layout,
        offsets: Array<u32>,
        entries: Array<u64>,
        slots: usize,
    ) -> Option<Self> {
        let ok = layout.valid()
            && offsets.len() == (1usize << layout.key_bits) + 1
            && offsets.first() == Some(&0)
            && offsets.last().map(|&o| o as usize) == Some(entries.len())
            && offsets.windows(2).all(|w| w[0] <= w[1])
            && entries.iter().all(|&e| ((e as u32) as usize) < slots);
        ok.then_some(VoteIndex { layout, offsets, entries })
    }

    /// The size beyond which a bucket is skipped.
    fn stop(&self) -> usize {
        ((STOP_FACTOR * self.entries.len()) >> self.layout.key_bits).max(STOP_MIN)
    }

    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Pushes the slot of every entry that votes for `d`.
    pub fn vote(&self, probes: &Probes, d: &Code, out: &mut Vec<u32>) {
        let (k, s) = (self.layout.key(d), self.layout.sketch(d));
        let stop = self.stop();
        for &mask in &probes.masks {
            let v = (k ^ mask) as usize;
            let bucket = &self.entries[self.offsets[v] as usize..self.offsets[v + 1] as usize];
            if bucket.len() > stop {
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
    pub fn add(&mut self, slot: u32, d: &Code, layout: &Layout) {
        self.buckets.entry(layout.key(d)).or_default().push(layout.entry(slot, d));
    }

    pub fn vote(&self, layout: &Layout, probes: &Probes, d: &Code, out: &mut Vec<u32>) {
        let (k, s) = (layout.key(d), layout.sketch(d));
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
        let codes: Vec<Code> = (0..60_000).map(|_| [next(), next(), next(), next()]).collect();
        let items: Vec<(u32, Code)> = codes.iter().enumerate().map(|(i, c)| (i as u32 / 4, *c)).collect();
        let layout = Layout::choose(&codes, key_bits_for(items.len()));
        assert_ne!(layout, Layout::fixed(layout.key_bits), "chosen from enough descriptors");
        let index = VoteIndex::build(items.clone(), layout.clone());
        let probes = Probes::new(&layout);
        // Each code with 3 bits flipped outside the key: it must find its own work.
        let mut found = 0;
        let mut stray = 0;
        for (slot, c) in items.iter().step_by(97) {
            let mut q = *c;
            for b in [layout.order[40], layout.order[41], layout.order[KEY_MAX - 1]] {
                q[b as usize / 64] ^= 1 << (b % 64);
            }
            let mut out = Vec::new();
            index.vote(&probes, &q, &mut out);
            found += usize::from(out.contains(slot));
            stray += out.iter().filter(|s| *s != slot).count();
        }
        assert_eq!(found, items.len().div_ceil(97));
        // About 600 queries × 60 entries scanned × 5.7e-5 (a random sketch within 5 of 32): 2.
        assert!(stray <= 8, "{stray} unrelated votes");
        // The same through a delta.
        let mut delta = VoteDelta::default();
        for (slot, c) in &items {
            delta.add(*slot, c, &layout);
        }
        let mut a = Vec::new();
        let mut b = Vec::new();
        for (_, c) in items.iter().step_by(101) {
            index.vote(&probes, c, &mut a);
            delta.vote(&layout, &probes, c, &mut b);
        }
        a.sort_unstable();
        b.sort_unstable();
        assert_eq!(a, b);
    }

    #[test]
    fn parts_that_do_not_describe_an_index_are_refused() {
        let mut next = rng(5);
        let items: Vec<(u32, Code)> = (0..100).map(|i| (i, [next(), next(), next(), next()])).collect();
        let l = Layout::fixed(12);
        let index = VoteIndex::build(items, l.clone());
        let ok = VoteIndex::from_parts(l.clone(), index.offsets.clone(), index.entries.clone(), 100);
        assert!(ok.is_some());
        assert!(VoteIndex::from_parts(l.clone(), index.offsets.clone(), index.entries.clone(), 99).is_none());
        assert!(
            VoteIndex::from_parts(Layout::fixed(13), index.offsets.clone(), index.entries.clone(), 100)
                .is_none()
        );
        let mut twice = l.clone();
        twice.order[30] = twice.order[2];
        assert!(VoteIndex::from_parts(twice, index.offsets.clone(), index.entries.clone(), 100).is_none());
        let mut bad = index.offsets.to_vec();
        bad[7] = u32::MAX;
        assert!(VoteIndex::from_parts(l, bad.into(), index.entries, 100).is_none());
    }
}
