//! The tile: 32 × 32 chips of ±1, repeated over the image. A quarter of the chips are a
//! fixed synchronisation pattern that locates the tile; the rest carry the coded payload,
//! each coded bit spread over 2 or 3 chips per tile with pseudo-random signs.

use std::sync::OnceLock;

use crate::code::CODED_BITS;

/// Chips per side of the tile.
pub const TILE: usize = 32;
pub const CHIPS: usize = TILE * TILE;
pub const SYNC_CHIPS: usize = CHIPS / 4;

pub struct Layout {
    /// (chip index, sign) of the synchronisation chips.
    pub sync: Vec<(usize, f32)>,
    /// (chip index, coded bit, sign) of the data chips.
    pub data: Vec<(usize, usize, f32)>,
}

/// xorshift64 (13, 7, 17), the generator every seed in the watermark's spec uses.
pub struct XorShift(pub u64);

impl XorShift {
    pub fn draw(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn sign(&mut self) -> f32 {
        if self.draw() >> 63 == 1 { 1.0 } else { -1.0 }
    }
}

/// The fixed layout: a Fisher–Yates shuffle of the chip indexes (seed `0x68616E647072696E`,
/// "handprin"); the first quarter are sync chips, the rest carry coded bit `k mod 306` in
/// shuffled order; each sign is the top bit of the next draw.
pub fn layout() -> &'static Layout {
    static L: OnceLock<Layout> = OnceLock::new();
    L.get_or_init(|| {
        let mut rng = XorShift(0x6861_6E64_7072_696E);
        let mut order: Vec<usize> = (0..CHIPS).collect();
        for i in (1..CHIPS).rev() {
            let j = (rng.draw() % (i as u64 + 1)) as usize;
            order.swap(i, j);
        }
        let sync = order[..SYNC_CHIPS].iter().map(|&c| (c, rng.sign())).collect();
        let data =
            order[SYNC_CHIPS..].iter().enumerate().map(|(k, &c)| (c, k % CODED_BITS, rng.sign())).collect();
        Layout { sync, data }
    })
}

/// The tile's chip values for a payload's coded bits.
pub fn tile(coded: &[u8]) -> [f32; CHIPS] {
    let l = layout();
    let mut t = [0f32; CHIPS];
    for &(c, s) in &l.sync {
        t[c] = s;
    }
    for &(c, k, s) in &l.data {
        t[c] = if coded[k] == 1 { s } else { -s };
    }
    t
}
