//! pHash (64-bit) as the Python `imagehash.phash` computes it, for interoperability:
//!
//! 1. Pillow's `convert("L")`: `L = (19595 R + 38470 G + 7471 B + 0x8000) >> 16`;
//! 2. Pillow's LANCZOS resize to 32 × 32 (`Resample.c`): per axis, Lanczos-3 weights scaled by
//!    the reduction factor, normalised, rounded to 22-bit fixed point; horizontal pass first,
//!    each pass rounding back to 8 bits;
//! 3. SciPy's `fftpack.dct` (type II, unnormalised: `2 Σ x[n] cos(π k (2n + 1) / 2N)`) along
//!    the columns, then the rows;
//! 4. the top-left 8 × 8 coefficients against their median (the mean of the two middle
//!    values), row by row, first coefficient in the most significant bit.

use std::f64::consts::PI;
use std::sync::OnceLock;

const PRECISION_BITS: u32 = 32 - 8 - 2;
const SIZE: usize = 32;

fn lanczos(x: f64) -> f64 {
    fn sinc(x: f64) -> f64 {
        if x == 0.0 { 1.0 } else { (x * PI).sin() / (x * PI) }
    }
    if (-3.0..3.0).contains(&x) { sinc(x) * sinc(x / 3.0) } else { 0.0 }
}

/// Pillow's `precompute_coeffs` and `normalize_coeffs_8bpc`: per output pixel, the first
/// input pixel and the fixed-point weights.
fn coefficients(in_size: usize, out_size: usize) -> Vec<(usize, Vec<i32>)> {
    let scale = in_size as f64 / out_size as f64;
    let filterscale = scale.max(1.0);
    let support = 3.0 * filterscale;
    (0..out_size)
        .map(|xx| {
            let center = (xx as f64 + 0.5) * scale;
            let ss = 1.0 / filterscale;
            let xmin = ((center - support + 0.5) as i64).max(0) as usize;
            let xmax = ((center + support + 0.5) as i64).min(in_size as i64) as usize;
            let weights: Vec<f64> = (xmin..xmax).map(|x| lanczos((x as f64 - center + 0.5) * ss)).collect();
            let total: f64 = weights.iter().sum();
            let fixed = weights
                .iter()
                .map(|w| {
                    let w = if total != 0.0 { w / total } else { *w };
                    let f = w * (1u32 << PRECISION_BITS) as f64;
                    if w < 0.0 { (-0.5 + f) as i32 } else { (0.5 + f) as i32 }
                })
                .collect();
            (xmin, fixed)
        })
        .collect()
}

fn clip8(v: i32) -> u8 {
    (v >> PRECISION_BITS).clamp(0, 255) as u8
}

/// Pillow's two-pass 8-bit resize of a grey image. Sums are `i32`, as in Pillow: with
/// weights normalised to 2^22, 255 × their absolute sum stays below 2^31.
fn resize(width: usize, height: usize, grey: &[u8]) -> Vec<u8> {
    let horizontal = coefficients(width, SIZE);
    let mut tmp = vec![0u8; SIZE * height];
    for y in 0..height {
        for (x, (start, k)) in horizontal.iter().enumerate() {
            let row = &grey[y * width + start..y * width + start + k.len()];
            let ss = row.iter().zip(k).fold(1i32 << (PRECISION_BITS - 1), |ss, (&p, &w)| ss + p as i32 * w);
            tmp[y * SIZE + x] = clip8(ss);
        }
    }
    let vertical = coefficients(height, SIZE);
    let mut out = vec![0u8; SIZE * SIZE];
    for (y, (start, k)) in vertical.iter().enumerate() {
        for x in 0..SIZE {
            let mut ss: i32 = 1 << (PRECISION_BITS - 1);
            for (i, w) in k.iter().enumerate() {
                ss += tmp[(start + i) * SIZE + x] as i32 * w;
            }
            out[y * SIZE + x] = clip8(ss);
        }
    }
    out
}

/// `cos(π k (2n + 1) / 2N)` for the DCT, computed once.
fn cosines() -> &'static [[f64; SIZE]; SIZE] {
    static C: OnceLock<[[f64; SIZE]; SIZE]> = OnceLock::new();
    C.get_or_init(|| {
        std::array::from_fn(|k| {
            std::array::from_fn(|n| (PI * k as f64 * (2 * n + 1) as f64 / (2 * SIZE) as f64).cos())
        })
    })
}

/// SciPy's unnormalised DCT-II of 32 values.
fn dct(input: &[f64; SIZE]) -> [f64; SIZE] {
    let c = cosines();
    std::array::from_fn(|k| 2.0 * input.iter().zip(&c[k]).map(|(x, c)| x * c).sum::<f64>())
}

/// The 64-bit pHash of 8-bit RGB pixels; as a number, its hex form is `imagehash`'s.
pub fn from_rgb(width: usize, height: usize, rgb: &[u8]) -> u64 {
    assert_eq!(rgb.len(), width * height * 3, "RGB buffer size");
    let grey: Vec<u8> = rgb
        .chunks_exact(3)
        .map(|p| ((p[0] as u32 * 19595 + p[1] as u32 * 38470 + p[2] as u32 * 7471 + 0x8000) >> 16) as u8)
        .collect();
    let small = resize(width, height, &grey);
    // Along axis 0 (down each column), then axis 1 (along each row).
    let mut m = [[0f64; SIZE]; SIZE];
    for x in 0..SIZE {
        let column: [f64; SIZE] = std::array::from_fn(|y| small[y * SIZE + x] as f64);
        for (y, v) in dct(&column).into_iter().enumerate() {
            m[y][x] = v;
        }
    }
    for row in m.iter_mut() {
        *row = dct(row);
    }
    let low: Vec<f64> = (0..8).flat_map(|y| (0..8).map(move |x| (y, x))).map(|(y, x)| m[y][x]).collect();
    let mut sorted = low.clone();
    sorted.sort_by(f64::total_cmp);
    let median = (sorted[31] + sorted[32]) / 2.0;
    low.iter().fold(0u64, |acc, &v| acc << 1 | u64::from(v > median))
}

/// `imagehash`'s hex form: 16 digits.
pub fn to_hex(hash: u64) -> String {
    format!("{hash:016x}")
}
