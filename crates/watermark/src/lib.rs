//! An invisible, blind watermark carrying a 64-bit payload (a registry work ID).
//!
//! A 32 × 32 tile of ±1 chips (see [`pattern`]) is repeated over the image's luminance,
//! each chip a square of about a 128th of the shorter side, interpolated smoothly, and
//! weighted by the local texture so that flat areas change least. Detection needs no
//! original: it takes the image's fine-detail residual, finds the tile's period and angle
//! from the residual's autocorrelation (the repetition survives crops, resizes and small
//! rotations), folds every tile onto one, finds the tile's origin and orientation by the
//! synchronisation chips, and decodes the payload with a Viterbi decoder and a CRC-32.
//! See docs/watermark.md.

pub mod code;
pub mod pattern;
mod sync;

use pattern::{CHIPS, TILE, layout};

/// The smallest width and height a watermark is embedded in.
pub const MIN_SIDE: usize = 256;
/// The PSNR embedding aims at, in dB (measured on the RGB result).
pub const TARGET_PSNR: f64 = 40.4;
/// The luminance SSIM the texture weighting keeps at least, as predicted from the local
/// variances (the SSIM measured comes out higher: the change is smooth within SSIM's window).
const TARGET_SSIM: f32 = 0.985;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WatermarkError {
    #[error("{width} × {height} is too small to watermark (at least {MIN_SIDE} × {MIN_SIDE})")]
    TooSmall { width: usize, height: usize },
    #[error("pixel buffer of {len} bytes does not hold {width} × {height} × {channels}")]
    BadBuffer { width: usize, height: usize, channels: usize, len: usize },
}

/// What embedding did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Embedded {
    /// Chip size in pixels.
    pub chip: f32,
    /// PSNR of the result against the input (RGB channels), in dB.
    pub psnr: f64,
}

/// Where the tile was found and what it said.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Detection {
    /// The payload, when the CRC checks out.
    pub payload: Option<u64>,
    /// The synchronisation score: a z-score, about N(0, 1) on unmarked images.
    pub sync_z: f32,
    /// Share of coded bits whose received sign agrees with the decoded payload's.
    pub bit_agreement: f32,
    /// An upper bound on the probability that an unmarked image gives a payload this way.
    pub false_positive: f64,
    /// The tile as found: chip size in pixels of the image, rotation in degrees
    /// (counter-clockwise), and whether it is mirrored.
    pub chip: f32,
    pub rotation: f32,
    pub mirrored: bool,
}

fn check(width: usize, height: usize, channels: usize, len: usize) -> Result<(), WatermarkError> {
    if !(1..=4).contains(&channels) || len != width * height * channels {
        return Err(WatermarkError::BadBuffer { width, height, channels, len });
    }
    Ok(())
}

/// Luminance (BT.601) of 8-bit pixels with 1 to 4 channels (grey, grey + alpha, RGB, RGBA).
fn luma(data: &[u8], channels: usize) -> Vec<f32> {
    data.chunks_exact(channels)
        .map(|p| {
            if channels < 3 {
                p[0] as f32
            } else {
                0.299 * p[0] as f32 + 0.587 * p[1] as f32 + 0.114 * p[2] as f32
            }
        })
        .collect()
}

/// Chip size for an image: a 128th of the shorter side, at least 3 pixels.
pub fn chip_size(width: usize, height: usize) -> f32 {
    (width.min(height) as f32 / 128.0).max(3.0)
}

/// Mean over a `(2r+1)²` window (edges clamped), by running sums: along each row, then
/// down the columns a whole row at a time.
fn box_mean(w: usize, h: usize, src: &[f32], r: usize) -> Vec<f32> {
    let ri = r as isize;
    let clamp = |v: isize, n: usize| v.clamp(0, n as isize - 1) as usize;
    let mut rows = vec![0f32; w * h];
    for (row, out) in src.chunks_exact(w).zip(rows.chunks_exact_mut(w)) {
        let mut sum: f32 = (-ri..=ri).map(|x| row[clamp(x, w)]).sum();
        for (x, o) in out.iter_mut().enumerate() {
            *o = sum;
            let x = x as isize;
            sum += row[clamp(x + ri + 1, w)] - row[clamp(x - ri, w)];
        }
    }
    let norm = 1.0 / ((2 * r + 1) * (2 * r + 1)) as f32;
    let mut acc = vec![0f32; w];
    for k in -ri..=ri {
        acc.iter_mut().zip(&rows[clamp(k, h) * w..][..w]).for_each(|(a, v)| *a += v);
    }
    let mut out = vec![0f32; w * h];
    for y in 0..h {
        out[y * w..][..w].iter_mut().zip(&acc).for_each(|(o, a)| *o = a * norm);
        let (add, sub) = (clamp(y as isize + ri + 1, h), clamp(y as isize - ri, h));
        for x in 0..w {
            acc[x] += rows[add * w + x] - rows[sub * w + x];
        }
    }
    out
}

/// SSIM's second constant, `(0.03 · 255)²`.
const SSIM_C2: f32 = 58.5225;

/// The texture weight: a power `p` of the local standard deviation over 7 × 7 (plus 2),
/// relative to its mean over the image, clamped to [0.35, 2.5]. `p` is the smallest of
/// 0, 0.1, … 1 for which the predicted SSIM stays at [`TARGET_SSIM`]: a smooth photo keeps
/// its flat areas nearly untouched (`p` near 1), a textured one takes more of the change
/// in its flatter parts, where detection gains most from it.
fn mask(w: usize, h: usize, y: &[f32]) -> Vec<f32> {
    let mean = box_mean(w, h, y, 3);
    let sq: Vec<f32> = y.iter().map(|v| v * v).collect();
    let mean_sq = box_mean(w, h, &sq, 3);
    let sd: Vec<f32> = mean.iter().zip(&mean_sq).map(|(m, q)| (q - m * m).max(0.0).sqrt()).collect();
    let weights = |p: f32, sd: &mut dyn Iterator<Item = f32>| -> Vec<f32> {
        // (sd + 2)^p from a table at quarter steps: the deviation of 8-bit values is at most
        // 127.5.
        let table: Vec<f32> = (0..=512).map(|i| (i as f32 / 4.0 + 2.0).powf(p)).collect();
        let raw: Vec<f32> = sd
            .map(|s| {
                let x = (s * 4.0).min(511.0);
                let i = x as usize;
                table[i] + (x - i as f32) * (table[i + 1] - table[i])
            })
            .collect();
        let avg = raw.iter().map(|&v| v as f64).sum::<f64>() as f32 / raw.len() as f32;
        raw.into_iter().map(|s| (s / avg).clamp(0.35, 2.5)).collect()
    };
    // The SSIM of a window of variance v that receives an uncorrelated change of power e is
    // (2v + C2) / (2v + e + C2): averaged over a sample of the pixels.
    const SAMPLE: usize = 29;
    let target = (255.0 * 10f64.powf(-TARGET_PSNR / 20.0)) as f32;
    let ssim = |p: f32| -> f32 {
        let m = weights(p, &mut sd.iter().step_by(SAMPLE).copied());
        let power = m.iter().map(|v| v * v).sum::<f32>() / m.len() as f32;
        let sum: f32 = m
            .iter()
            .zip(sd.iter().step_by(SAMPLE))
            .map(|(m, s)| {
                let (v, e) = (s * s, target * target * m * m / power);
                (2.0 * v + SSIM_C2) / (2.0 * v + e + SSIM_C2)
            })
            .sum();
        sum / m.len() as f32
    };
    // The SSIM rises with p: bisect over tenths for the smallest p that keeps the target.
    let (mut lo, mut hi) = (0, 10);
    while lo < hi {
        let mid = (lo + hi) / 2;
        if ssim(mid as f32 / 10.0) >= TARGET_SSIM { hi = mid } else { lo = mid + 1 }
    }
    weights(lo as f32 / 10.0, &mut sd.iter().copied())
}

/// For each pixel coordinate along one axis: the two chips it lies between (wrapping around
/// the tile) and the weight of the second, for bilinear interpolation between chip centres.
fn axis(n: usize, chip: f32) -> Vec<(usize, usize, f32)> {
    (0..n)
        .map(|x| {
            let u = (x as f32 + 0.5) / chip - 0.5;
            let u0 = u.floor();
            let wrap = |i: f32| (i as i64).rem_euclid(TILE as i64) as usize;
            (wrap(u0), wrap(u0 + 1.0), u - u0)
        })
        .collect()
}

/// Embeds `payload` into 8-bit pixels (`channels` of 1 to 4; alpha untouched), in place, at
/// [`TARGET_PSNR`].
pub fn embed(
    width: usize,
    height: usize,
    channels: usize,
    data: &mut [u8],
    payload: u64,
) -> Result<Embedded, WatermarkError> {
    embed_at(width, height, channels, data, payload, TARGET_PSNR)
}

/// Embeds `payload` as [`embed`] does, aiming at `psnr` dB instead: a lower PSNR is a
/// stronger watermark.
pub fn embed_at(
    width: usize,
    height: usize,
    channels: usize,
    data: &mut [u8],
    payload: u64,
    psnr: f64,
) -> Result<Embedded, WatermarkError> {
    check(width, height, channels, data.len())?;
    if width < MIN_SIDE || height < MIN_SIDE {
        return Err(WatermarkError::TooSmall { width, height });
    }
    let tile = pattern::tile(&code::encode(payload));
    let chip = chip_size(width, height);
    let y = luma(data, channels);
    let m = mask(width, height, &y);
    let (columns, rows) = (axis(width, chip), axis(height, chip));
    let mut delta = vec![0f32; width * height];
    for (y, &(i0, i1, fv)) in rows.iter().enumerate() {
        let (a, b) = (&tile[i0 * TILE..][..TILE], &tile[i1 * TILE..][..TILE]);
        for (x, &(j0, j1, fu)) in columns.iter().enumerate() {
            let top = a[j0] + fu * (a[j1] - a[j0]);
            let bottom = b[j0] + fu * (b[j1] - b[j0]);
            delta[y * width + x] = m[y * width + x] * (top + fv * (bottom - top));
        }
    }
    let rms = (delta.iter().map(|d| (*d as f64).powi(2)).sum::<f64>() / delta.len() as f64).sqrt();
    let target = 255.0 * 10f64.powf(-psnr / 20.0);
    let gain = (target / rms.max(1e-9)) as f32;
    delta.iter_mut().for_each(|d| *d *= gain);
    // Grey (with or without alpha) has one colour channel, RGB(A) three.
    let colour = if channels < 3 { 1 } else { 3 };
    let mut err = 0f64;
    for (p, d) in data.chunks_exact_mut(channels).zip(&delta) {
        for c in &mut p[..colour] {
            // Rounded half up by truncation once clamped (`f32::round` is a library call).
            let v = ((*c as f32 + d).clamp(0.0, 255.0) + 0.5) as u8;
            err += (v as f64 - *c as f64).powi(2);
            *c = v;
        }
    }
    let mse = err / (width * height * colour) as f64;
    let psnr = if mse == 0.0 { f64::INFINITY } else { 10.0 * (255.0f64 * 255.0 / mse).log10() };
    Ok(Embedded { chip, psnr })
}

/// Looks for a watermark in 8-bit pixels (`channels` of 1 to 4).
pub fn detect(
    width: usize,
    height: usize,
    channels: usize,
    data: &[u8],
) -> Result<Detection, WatermarkError> {
    check(width, height, channels, data.len())?;
    if width < 64 || height < 64 {
        return Err(WatermarkError::TooSmall { width, height });
    }
    Ok(sync::detect(width, height, &luma(data, channels)))
}

/// Coded-bit soft values from a tile of chip estimates in the embedder's orientation and
/// origin.
fn soft_bits(tile: &[f32; CHIPS]) -> Vec<f32> {
    let mut soft = vec![0f32; code::CODED_BITS];
    for &(c, k, s) in &layout().data {
        soft[k] += s * tile[c];
    }
    soft
}
