//! PDQ, as Meta's reference (`pdq/cpp/hashing/pdqhashing.cpp`) computes it:
//!
//! 1. luminance `Y = 0.299 R + 0.587 G + 0.114 B` in `f32`;
//! 2. two passes of a Jarosz filter: a box filter along rows then along columns, with windows
//!    `ceil(dimension / 128)` (`(dimension + 127) / 128`), the reference's edge handling;
//! 3. decimation to 64 × 64 by sampling pixel `floor((i + 0.5) · dimension / 64)`;
//! 4. the 16 × 16 block of DCT-II coefficients from frequency 1 to 16 of that 64 × 64 image;
//! 5. one bit per coefficient: greater than the median of the 256 coefficients.
//!
//! Bit `k` is coefficient `(k / 16, k % 16)`; it is bit `k % 16` of 16-bit word `k / 16`, and
//! the hex form prints words 15 down to 0, as the reference's `Hash256::format` does.
//! The quality is the reference's gradient metric on the 64 × 64 image (0 to 100).

// The loops index as the reference's C++ does, so the two can be compared line by line.
#![allow(clippy::needless_range_loop)]

use std::cell::RefCell;
use std::fmt;
use std::sync::OnceLock;

/// A 256-bit PDQ hash.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct PdqHash(pub [u16; 16]);

impl PdqHash {
    pub fn bit(&self, k: usize) -> bool {
        self.0[k >> 4] >> (k & 15) & 1 == 1
    }

    fn set(&mut self, k: usize) {
        self.0[k >> 4] |= 1 << (k & 15);
    }

    /// Hamming distance.
    pub fn distance(&self, other: &PdqHash) -> u32 {
        self.0.iter().zip(&other.0).map(|(a, b)| (a ^ b).count_ones()).sum()
    }

    /// 64 hex digits, as the reference prints it.
    pub fn to_hex(&self) -> String {
        self.0.iter().rev().map(|w| format!("{w:04x}")).collect()
    }

    pub fn from_hex(s: &str) -> Option<PdqHash> {
        // Hex digits only: `from_str_radix` would also take a sign.
        if s.len() != 64 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let mut words = [0u16; 16];
        for (i, chunk) in s.as_bytes().chunks(4).enumerate() {
            words[15 - i] = u16::from_str_radix(std::str::from_utf8(chunk).ok()?, 16).ok()?;
        }
        Some(PdqHash(words))
    }
}

impl fmt::Debug for PdqHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Display for PdqHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// A hash and its quality (0 to 100; the reference treats below 50 as unreliable).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pdq {
    pub hash: PdqHash,
    pub quality: u32,
}

/// The eight dihedral variants, in the reference's order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dihedral {
    pub original: PdqHash,
    pub rotate90: PdqHash,
    pub rotate180: PdqHash,
    pub rotate270: PdqHash,
    pub flip_x: PdqHash,
    pub flip_y: PdqHash,
    pub flip_plus1: PdqHash,
    pub flip_minus1: PdqHash,
    pub quality: u32,
}

impl Dihedral {
    pub fn all(&self) -> [PdqHash; 8] {
        [
            self.original,
            self.rotate90,
            self.rotate180,
            self.rotate270,
            self.flip_x,
            self.flip_y,
            self.flip_plus1,
            self.flip_minus1,
        ]
    }
}

/// `D[i][j] = sqrt(2/64) · cos(π/128 · (i + 1) · (2j + 1))`, i < 16, j < 64.
fn dct_matrix() -> &'static [[f32; 64]; 16] {
    static M: OnceLock<[[f32; 64]; 16]> = OnceLock::new();
    M.get_or_init(|| {
        let mut m = [[0f32; 64]; 16];
        let scale = (2.0f64 / 64.0).sqrt();
        for (i, row) in m.iter_mut().enumerate() {
            for (j, v) in row.iter_mut().enumerate() {
                *v = (scale
                    * (std::f64::consts::PI / 2.0 / 64.0 * (i as f64 + 1.0) * (2.0 * j as f64 + 1.0)).cos())
                    as f32;
            }
        }
        m
    })
}

/// The reference's Jarosz window: `(dimension + 2·64 − 1) / (2·64)`, a ceiling division.
fn window(dimension: usize) -> usize {
    dimension.div_ceil(2 * 64)
}

/// The reference's `box1DFloat`: a running-sum box filter with shrinking windows at the ends.
/// [`box_columns`] is what runs; this one documents it and checks it in the tests.
#[cfg(test)]
fn box_1d(input: &[f32], output: &mut [f32], len: usize, stride: usize, full: usize) {
    let half = (full + 2) / 2;
    let phase1 = half - 1;
    let phase2 = full - half + 1;
    let phase3 = len - full;
    let phase4 = half - 1;
    let (mut li, mut ri, mut oi) = (0usize, 0usize, 0usize);
    let mut sum = 0f32;
    let mut size = 0f32;
    for _ in 0..phase1 {
        sum += input[ri];
        size += 1.0;
        ri += stride;
    }
    for _ in 0..phase2 {
        sum += input[ri];
        size += 1.0;
        output[oi] = sum / size;
        ri += stride;
        oi += stride;
    }
    for _ in 0..phase3 {
        sum += input[ri];
        sum -= input[li];
        output[oi] = sum / size;
        li += stride;
        ri += stride;
        oi += stride;
    }
    for _ in 0..phase4 {
        sum -= input[li];
        size -= 1.0;
        output[oi] = sum / size;
        li += stride;
        oi += stride;
    }
}

/// [`box_1d`] down every column of a row-major `rows × cols` image at once. Per column it
/// performs the same additions, subtractions and divisions in the same order as `box_1d`
/// with stride `cols`, so the results are bit-identical; going a row at a time lets the
/// compiler vectorise across columns and reads memory in order.
fn box_columns(input: &[f32], output: &mut [f32], rows: usize, cols: usize, full: usize) {
    let half = (full + 2) / 2;
    let (phase1, phase2, phase3, phase4) = (half - 1, full - half + 1, rows - full, half - 1);
    let row = |r: usize| &input[r * cols..(r + 1) * cols];
    let mut sum = vec![0f32; cols];
    let (mut li, mut ri, mut oi) = (0usize, 0usize, 0usize);
    let mut size = 0f32;
    let mut write = |oi: usize, sum: &[f32], size: f32| {
        for (o, s) in output[oi * cols..(oi + 1) * cols].iter_mut().zip(sum) {
            *o = s / size;
        }
    };
    for _ in 0..phase1 {
        sum.iter_mut().zip(row(ri)).for_each(|(s, x)| *s += x);
        size += 1.0;
        ri += 1;
    }
    for _ in 0..phase2 {
        sum.iter_mut().zip(row(ri)).for_each(|(s, x)| *s += x);
        size += 1.0;
        write(oi, &sum, size);
        ri += 1;
        oi += 1;
    }
    for _ in 0..phase3 {
        sum.iter_mut().zip(row(ri)).zip(row(li)).for_each(|((s, x), y)| {
            *s += x;
            *s -= y;
        });
        write(oi, &sum, size);
        li += 1;
        ri += 1;
        oi += 1;
    }
    for _ in 0..phase4 {
        sum.iter_mut().zip(row(li)).for_each(|(s, y)| *s -= y);
        size -= 1.0;
        write(oi, &sum, size);
        li += 1;
        oi += 1;
    }
}

/// [`box_1d`] along every row, eight rows in lockstep: the same operations per row in the
/// same order (bit-identical), but eight independent running sums for the processor to
/// overlap instead of one long dependency chain.
fn box_rows(input: &[f32], output: &mut [f32], rows: usize, cols: usize, full: usize) {
    const LANES: usize = 8;
    let half = (full + 2) / 2;
    let (phase1, phase2, phase3, phase4) = (half - 1, full - half + 1, cols - full, half - 1);
    let mut r0 = 0;
    while r0 < rows {
        let lanes = LANES.min(rows - r0);
        let base: [usize; LANES] = std::array::from_fn(|k| (r0 + k.min(lanes - 1)) * cols);
        let mut sum = [0f32; LANES];
        let (mut li, mut ri, mut oi) = (0usize, 0usize, 0usize);
        let mut size = 0f32;
        for _ in 0..phase1 {
            for k in 0..LANES {
                sum[k] += input[base[k] + ri];
            }
            size += 1.0;
            ri += 1;
        }
        for _ in 0..phase2 {
            size += 1.0;
            for k in 0..LANES {
                sum[k] += input[base[k] + ri];
                output[base[k] + oi] = sum[k] / size;
            }
            ri += 1;
            oi += 1;
        }
        for _ in 0..phase3 {
            for k in 0..LANES {
                sum[k] += input[base[k] + ri];
                sum[k] -= input[base[k] + li];
                output[base[k] + oi] = sum[k] / size;
            }
            li += 1;
            ri += 1;
            oi += 1;
        }
        for _ in 0..phase4 {
            size -= 1.0;
            for k in 0..LANES {
                sum[k] -= input[base[k] + li];
                output[base[k] + oi] = sum[k] / size;
            }
            li += 1;
            oi += 1;
        }
        r0 += lanes;
    }
}

thread_local! {
    /// Per-thread filter buffers, reused: allocating fresh megabytes for every image costs
    /// more in page faults than the filtering itself.
    static SCRATCH: RefCell<(Vec<f32>, Vec<f32>)> = const { RefCell::new((Vec::new(), Vec::new())) };
}

/// Buffers larger than this are released after use rather than kept for the next image.
const KEEP_SCRATCH_BYTES: usize = 64 << 20;

/// Runs `f` with the thread's luma and filter buffers, sized for `len` pixels; `fill`
/// writes the luma.
fn with_scratch<T>(
    len: usize,
    fill: impl FnOnce(&mut [f32]),
    f: impl FnOnce(&mut [f32], &mut [f32]) -> T,
) -> T {
    SCRATCH.with(|cell| {
        let mut guard = cell.borrow_mut();
        let (luma, tmp) = &mut *guard;
        luma.resize(len, 0.0);
        tmp.resize(len, 0.0);
        fill(luma);
        let out = f(luma, tmp);
        if len * 4 > KEEP_SCRATCH_BYTES {
            *luma = Vec::new();
            *tmp = Vec::new();
        }
        out
    })
}

/// The 64 × 64 image PDQ hashes: luminance, filtered (along rows, then along columns,
/// twice, as the reference does) and decimated.
fn buffer64(width: usize, height: usize, luma: &mut [f32], tmp: &mut [f32]) -> Box<[[f32; 64]; 64]> {
    let (wr, wc) = (window(width), window(height));
    for _ in 0..2 {
        box_rows(luma, tmp, height, width, wr);
        box_columns(tmp, luma, height, width, wc);
    }
    let mut out = Box::new([[0f32; 64]; 64]);
    for (i, row) in out.iter_mut().enumerate() {
        let ini = ((i as f64 + 0.5) * height as f64 / 64.0) as usize;
        for (j, v) in row.iter_mut().enumerate() {
            let inj = ((j as f64 + 0.5) * width as f64 / 64.0) as usize;
            *v = luma[ini * width + inj];
        }
    }
    out
}

fn quality(b: &[[f32; 64]; 64]) -> u32 {
    let mut sum: i64 = 0;
    for i in 0..63 {
        for j in 0..64 {
            sum += (((b[i][j] - b[i + 1][j]) * 100.0 / 255.0) as i64).abs();
        }
    }
    for row in b.iter() {
        for j in 0..63 {
            sum += (((row[j] - row[j + 1]) * 100.0 / 255.0) as i64).abs();
        }
    }
    (sum / 90).min(100) as u32
}

/// `D · A · Dᵀ`: the 16 × 16 DCT block.
fn dct16(a: &[[f32; 64]; 64]) -> [[f32; 16]; 16] {
    let d = dct_matrix();
    let mut t = [[0f32; 64]; 16];
    for i in 0..16 {
        for j in 0..64 {
            let mut s = 0f32;
            for k in 0..64 {
                s += d[i][k] * a[k][j];
            }
            t[i][j] = s;
        }
    }
    let mut b = [[0f32; 16]; 16];
    for i in 0..16 {
        for j in 0..16 {
            let mut s = 0f32;
            for k in 0..64 {
                s += t[i][k] * d[j][k];
            }
            b[i][j] = s;
        }
    }
    b
}

/// The reference's median: the lower middle of the sorted 256 values ("Torben").
fn median(b: &[[f32; 16]; 16]) -> f32 {
    let mut v: Vec<f32> = b.iter().flatten().copied().collect();
    v.sort_by(f32::total_cmp);
    v[127]
}

fn bits(b: &[[f32; 16]; 16]) -> PdqHash {
    let m = median(b);
    let mut h = PdqHash::default();
    for i in 0..16 {
        for j in 0..16 {
            if b[i][j] > m {
                h.set(i * 16 + j);
            }
        }
    }
    h
}

fn fill_luma(rgb: &[u8], luma: &mut [f32]) {
    for (l, p) in luma.iter_mut().zip(rgb.chunks_exact(3)) {
        *l = 0.299 * p[0] as f32 + 0.587 * p[1] as f32 + 0.114 * p[2] as f32;
    }
}

/// Luminance as the reference computes it from 8-bit RGB.
pub fn luma_from_rgb(rgb: &[u8]) -> Vec<f32> {
    let mut luma = vec![0f32; rgb.len() / 3];
    fill_luma(rgb, &mut luma);
    luma
}

fn from_buffer(a: &[[f32; 64]; 64]) -> Pdq {
    Pdq { hash: bits(&dct16(a)), quality: quality(a) }
}

/// The filtered 64 × 64 image of a luminance image.
fn image64_from_luma(width: usize, height: usize, luma: &[f32]) -> Box<[[f32; 64]; 64]> {
    assert_eq!(luma.len(), width * height, "luma buffer size");
    assert!(width > 0 && height > 0, "empty image");
    with_scratch(luma.len(), |l| l.copy_from_slice(luma), |l, t| buffer64(width, height, l, t))
}

/// The filtered 64 × 64 image of 8-bit RGB pixels.
fn image64_from_rgb(width: usize, height: usize, rgb: &[u8]) -> Box<[[f32; 64]; 64]> {
    assert_eq!(rgb.len(), width * height * 3, "RGB buffer size");
    assert!(width > 0 && height > 0, "empty image");
    with_scratch(width * height, |l| fill_luma(rgb, l), |l, t| buffer64(width, height, l, t))
}

/// PDQ of a luminance image (`width × height` values). Images smaller than 64 in either
/// dimension are hashed as the reference does, but their hashes carry little.
pub fn from_luma(width: usize, height: usize, luma: &[f32]) -> Pdq {
    from_buffer(&image64_from_luma(width, height, luma))
}

/// PDQ of 8-bit RGB pixels.
pub fn from_rgb(width: usize, height: usize, rgb: &[u8]) -> Pdq {
    from_buffer(&image64_from_rgb(width, height, rgb))
}

/// The eight dihedral variants from one transform, as the reference derives them from the
/// DCT block by sign changes and transposition.
pub fn dihedral_from_luma(width: usize, height: usize, luma: &[f32]) -> Dihedral {
    dihedral(&image64_from_luma(width, height, luma))
}

/// The eight dihedral variants of 8-bit RGB pixels.
pub fn dihedral_from_rgb(width: usize, height: usize, rgb: &[u8]) -> Dihedral {
    dihedral(&image64_from_rgb(width, height, rgb))
}

fn dihedral(a: &[[f32; 64]; 64]) -> Dihedral {
    let b = dct16(a);
    let variant = |f: &dyn Fn(usize, usize, f32) -> (usize, usize, f32)| {
        let mut out = [[0f32; 16]; 16];
        for i in 0..16 {
            for j in 0..16 {
                let (r, c, v) = f(i, j, b[i][j]);
                out[r][c] = v;
            }
        }
        bits(&out)
    };
    let odd = |n: usize| n & 1 == 1;
    Dihedral {
        original: bits(&b),
        rotate90: variant(&|i, j, v| (j, i, if odd(j) { v } else { -v })),
        rotate180: variant(&|i, j, v| (i, j, if odd(i + j) { -v } else { v })),
        rotate270: variant(&|i, j, v| (j, i, if odd(i) { v } else { -v })),
        flip_x: variant(&|i, j, v| (i, j, if odd(i) { v } else { -v })),
        flip_y: variant(&|i, j, v| (i, j, if odd(j) { v } else { -v })),
        flip_plus1: variant(&|i, j, v| (j, i, v)),
        flip_minus1: variant(&|i, j, v| (j, i, if odd(i + j) { -v } else { v })),
        quality: quality(a),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips_and_distance_counts_bits() {
        let mut h = PdqHash::default();
        h.set(0);
        h.set(255);
        assert_eq!(h.to_hex(), format!("8000{}0001", "0".repeat(56)));
        assert_eq!(PdqHash::from_hex(&h.to_hex()), Some(h));
        assert_eq!(h.distance(&PdqHash::default()), 2);
    }

    #[test]
    fn the_row_filter_equals_the_reference_filter_bit_for_bit() {
        for (rows, cols) in [(1, 5), (7, 3), (9, 129), (17, 300), (512, 768)] {
            let input: Vec<f32> = (0..rows * cols).map(|i| ((i * 7919) % 251) as f32 * 1.37).collect();
            for full in [1, 2, 3, window(cols), (cols / 2).max(1)].into_iter().filter(|&f| f <= cols) {
                let mut ours = vec![0f32; input.len()];
                box_rows(&input, &mut ours, rows, cols, full);
                let mut reference = vec![0f32; input.len()];
                for r in 0..rows {
                    let span = r * cols..(r + 1) * cols;
                    box_1d(&input[span.clone()], &mut reference[span], cols, 1, full);
                }
                assert!(
                    ours.iter().zip(&reference).all(|(a, b)| a.to_bits() == b.to_bits()),
                    "{rows}x{cols} window {full}"
                );
            }
        }
    }

    #[test]
    fn the_column_filter_equals_the_reference_filter_bit_for_bit() {
        for (rows, cols) in [(1, 5), (7, 3), (129, 17), (300, 9), (512, 768)] {
            let input: Vec<f32> = (0..rows * cols).map(|i| ((i * 7919) % 251) as f32 * 1.37).collect();
            for full in [1, 2, 3, window(rows), (rows / 2).max(1)].into_iter().filter(|&f| f <= rows) {
                let mut ours = vec![0f32; input.len()];
                box_columns(&input, &mut ours, rows, cols, full);
                let mut reference = vec![0f32; input.len()];
                for c in 0..cols {
                    box_1d(&input[c..], &mut reference[c..], rows, cols, full);
                }
                assert!(
                    ours.iter().zip(&reference).all(|(a, b)| a.to_bits() == b.to_bits()),
                    "{rows}x{cols} window {full}"
                );
            }
        }
    }

    #[test]
    fn half_the_bits_are_set() {
        let (w, h) = (200, 120);
        let luma: Vec<f32> =
            (0..w * h).map(|i| ((i % w) as f32 * 1.3 + (i / w) as f32 * 0.7).sin() * 100.0 + 128.0).collect();
        let p = from_luma(w, h, &luma);
        let ones: u32 = p.hash.0.iter().map(|w| w.count_ones()).sum();
        assert!((120..=128).contains(&ones), "{ones} bits set");
    }
}
