//! SplitMix64: the only randomness in the corpus, so that a seed fixes every pool and work on
//! every machine.

/// SplitMix64 (Steele, Lea and Flood, 2014): a 64-bit state, one add and a mix per draw.
#[derive(Clone, Debug)]
pub struct Rng(u64);

/// The SplitMix64 finaliser: a bijection of 64-bit values that spreads every input bit.
pub fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(mix(seed ^ 0x5851_F42D_4C95_7F2D))
    }

    /// A generator for item `i` of stream `seed`: independent of every other item's.
    pub fn for_item(seed: u64, i: u64) -> Rng {
        Rng(mix(seed).wrapping_add(mix(i ^ 0x2545_F491_4F6C_DD1D)))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }

    /// Uniform in `0..n` (Lemire's multiply-shift; the bias is below 2⁻³² for the sizes here).
    pub fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    /// Uniform in `[lo, hi)`.
    pub fn range_f32(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * ((self.next_u64() >> 40) as f32 / (1u64 << 24) as f32)
    }
}
