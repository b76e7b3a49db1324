//! Blind detection: residual, tile geometry, fold, synchronisation, decoding.

use rustfft::FftPlanner;
use rustfft::num_complex::Complex;

use crate::pattern::{CHIPS, SYNC_CHIPS, TILE, layout};
use crate::{Detection, box_mean, chip_size, code, soft_bits};

/// Images are analysed with the shorter side at most this long (integer-factor box
/// downscaling).
const WORK_SIDE: usize = 768;
/// Fold resolution: bins per chip along each axis.
const SUB: usize = 2;
const GRID: usize = TILE * SUB;
const _: () = assert!(GRID.is_power_of_two());
/// Candidates decoded, best synchronisation first.
const DECODE_TRIES: usize = 16;
/// Geometries refined, and the steps of the refinement (relative scale; radians).
const REFINE: usize = 2;
const SCALE_STEP: f32 = 0.004;
const ANGLE_STEP: f32 = 0.1 * std::f32::consts::PI / 180.0;

#[derive(Clone, Copy, Debug)]
struct Geometry {
    chip: f32,
    /// Radians, applied as a rotation of the sampling grid.
    angle: f32,
}

/// `Q(z)`, the upper tail of the standard normal distribution (erfc by Numerical Recipes'
/// Chebyshev fit, relative error below 1.2e-7).
fn normal_tail(z: f64) -> f64 {
    let x = z / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.5 * x.abs());
    let poly = -x * x - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let erfc = t * poly.exp();
    0.5 * if x >= 0.0 { erfc } else { 2.0 - erfc }
}

/// Radii of the local mean removed from the image, in chips: before folding, one chip (less of
/// the image's own texture stays); for the autocorrelation, a chip and a half (the tiling's
/// period shows better with more of its low frequencies).
const FOLD_RADIUS: f32 = 1.0;
const ACF_RADIUS: f32 = 1.5;

/// The image's fine detail (minus a local mean of `radius` pixels), weighted by the inverse of
/// its local power, at working resolution.
fn residual(w: usize, h: usize, y: &[f32], radius: f32) -> Vec<f32> {
    let mean = box_mean(w, h, y, (radius.round() as usize).max(2));
    let d: Vec<f32> = y.iter().zip(&mean).map(|(a, b)| a - b).collect();
    let sq: Vec<f32> = d.iter().map(|v| v * v).collect();
    let local = box_mean(w, h, &sq, 3);
    // Divided by the local strength squared, not once: a pixel's weight in the fold then goes
    // as the inverse of the image's local power, which is what matched filtering asks of
    // an image whose power varies from place to place.
    d.iter()
        .zip(&local)
        .map(|(v, e)| {
            let strength = e.max(0.0).sqrt() + 1.0;
            v / (strength * strength)
        })
        .collect()
}

/// How far above the autocorrelation's spread (in standard deviations) a peak must be.
const MIN_PEAK: f32 = 3.5;
/// How far above the spread the three lattice points of a weaker peak must add up to.
const MIN_LATTICE: f32 = 7.0;
/// Peaks tried, strongest first.
const PEAKS: usize = 4;

/// Candidate tile periods and angles from the residual's autocorrelation: its strongest
/// peaks, and their halves when those are peaks too. `chip_hint`, a guess at the chip size,
/// sets the frequency band that counts.
fn from_autocorrelation(w: usize, h: usize, r: &[f32], chip_hint: f32) -> Vec<Geometry> {
    // The period is a quarter of the marked image's shorter side (more for small images):
    // a copy that keeps at least 40% of the area and was resized shows it between a 4.5th
    // and a half of its own shorter side.
    let short = w.min(h) as f32;
    let (pmin, pmax) = (((short / 4.5) as i64).max(24), (short / 2.0) as i64);
    // Zero-padded so that the autocorrelation is linear: a crop's size is no multiple of
    // the period, and a circular one would wrap the tiling out of phase.
    let (pw, ph) =
        ((w + pmax as usize + 2).next_multiple_of(32), (h + pmax as usize + 2).next_multiple_of(32));
    let mean = r.iter().sum::<f32>() / r.len() as f32;
    let mut data = vec![Complex::new(0.0f32, 0.0); pw * ph];
    for y in 0..h {
        for x in 0..w {
            data[y * pw + x] = Complex::new(r[y * w + x] - mean, 0.0);
        }
    }
    let mut planner = FftPlanner::<f32>::new();
    fft2(&mut planner, &mut data, pw, ph, false);
    // The power spectrum divided by its local average: the tiling's spectral lines stand out
    // of the image's own, smooth spectrum (a whitened autocorrelation).
    let power: Vec<f32> = data.iter().map(|c| c.norm_sqr()).collect();
    let envelope = box_mean(pw, ph, &power, 3);
    // Weighted by the watermark's own spectrum, that of chips interpolated bilinearly
    // (sinc² along each axis): above the chip rate there is only image.
    let weights = |n: usize| -> Vec<f32> {
        (0..n)
            .map(|i| {
                let f = if i <= n / 2 { i as f32 } else { i as f32 - n as f32 } / n as f32;
                let x = std::f32::consts::PI * f * chip_hint;
                if x.abs() < 1e-6 { 1.0 } else { (x.sin() / x).powi(2) }
            })
            .collect()
    };
    let (wx, wy) = (weights(pw), weights(ph));
    for (i, ((c, p), e)) in data.iter_mut().zip(&power).zip(&envelope).enumerate() {
        *c = Complex::new(wx[i % pw] * wy[i / pw] * p / (e + 1e-9), 0.0);
    }
    fft2(&mut planner, &mut data, pw, ph, true);
    // Unbiased: each lag divided by how many pixel pairs it has.
    let acf = |dx: i64, dy: i64| {
        let overlap = ((w as i64 - dx.abs()) * (h as i64 - dy.abs())).max(1) as f32;
        data[(dy.rem_euclid(ph as i64) as usize) * pw + dx.rem_euclid(pw as i64) as usize].re / overlap
    };
    // Of the local maxima, the strongest few (they are few when the tiling is there).
    let mut values = Vec::new();
    let mut peaks: Vec<(f32, i64, i64)> = Vec::new();
    for dy in 0..=pmax {
        for dx in -pmax..=pmax {
            let d2 = dx * dx + dy * dy;
            if d2 < pmin * pmin || d2 > pmax * pmax || (dy == 0 && dx < 0) {
                continue;
            }
            let v = acf(dx, dy);
            values.push(v);
            let local_max = (-1..=1).all(|a| (-1..=1).all(|b| (a, b) == (0, 0) || acf(dx + a, dy + b) <= v));
            if local_max {
                peaks.push((v, dx, dy));
            }
        }
    }
    // A square lattice has a peak a quarter turn away too, and at the diagonal: score each
    // local maximum by all three, so that a stray peak of the image's own does not win.
    for p in peaks.iter_mut() {
        let (dx, dy) = (p.1, p.2);
        let best_near = |x: i64, y: i64| {
            (-1..=1)
                .flat_map(|a| (-1..=1).map(move |b| (a, b)))
                .map(|(a, b)| acf(x + a, y + b))
                .fold(f32::MIN, f32::max)
        };
        p.0 = acf(dx, dy) + best_near(-dy, dx) + best_near(dx - dy, dy + dx);
    }
    peaks.sort_by(|a, b| b.0.total_cmp(&a.0));
    peaks.truncate(PEAKS);
    let n = values.len() as f32;
    let mean = values.iter().sum::<f32>() / n;
    let sd = (values.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / n).sqrt();
    if sd <= 0.0 {
        return Vec::new();
    }
    let strength = |v: f32| (v - mean) / sd;

    // Sub-pixel position by parabolas through the neighbours.
    let refine = |a: f32, b: f32, c: f32| {
        let den = a - 2.0 * b + c;
        if den.abs() > 1e-12 { (0.5 * (a - c) / den).clamp(-0.5, 0.5) } else { 0.0 }
    };
    let geometry = |dx: i64, dy: i64| {
        let peak = acf(dx, dy);
        let fx = dx as f32 + refine(acf(dx - 1, dy), peak, acf(dx + 1, dy));
        let fy = dy as f32 + refine(acf(dx, dy - 1), peak, acf(dx, dy + 1));
        // The lattice is square: keep the angle within a quarter turn, the fold tries the rest.
        let mut angle = fy.atan2(fx);
        while angle > std::f32::consts::FRAC_PI_4 {
            angle -= std::f32::consts::FRAC_PI_2;
        }
        Geometry { chip: (fx * fx + fy * fy).sqrt() / TILE as f32, angle }
    };
    let mut out = Vec::new();
    for &(score, dx, dy) in &peaks {
        if strength(acf(dx, dy)) < MIN_PEAK {
            // Too weak alone, but standing out with its quarter turn and their sum, as a lattice
            // does: it may be the tile's axis, or the tiling's diagonal, whose axis is half the
            // difference of the peak and its quarter turn. Both are tried.
            if (score - 3.0 * mean) / sd >= MIN_LATTICE {
                out.push(geometry(dx, dy));
                let (ax, ay) = ((dx + dy) / 2, (dy - dx) / 2);
                let (ax, ay) = if ay < 0 || (ay == 0 && ax < 0) { (-ax, -ay) } else { (ax, ay) };
                if ax * ax + ay * ay >= pmin * pmin {
                    out.push(geometry(ax, ay));
                }
            }
            continue;
        }
        out.push(geometry(dx, dy));
        // A peak may be a multiple of the period: its half, if it is a peak too.
        let (hx, hy) = ((dx as f32 / 2.0).round() as i64, (dy as f32 / 2.0).round() as i64);
        if hx * hx + hy * hy >= pmin * pmin && strength(acf(hx, hy)) >= MIN_PEAK {
            out.push(geometry(hx, hy));
        }
    }
    out
}

/// In-place 2-D FFT of a `w × h` row-major buffer (unnormalised both ways).
fn fft2(planner: &mut FftPlanner<f32>, data: &mut [Complex<f32>], w: usize, h: usize, inverse: bool) {
    let (rows, cols) = if inverse {
        (planner.plan_fft_inverse(w), planner.plan_fft_inverse(h))
    } else {
        (planner.plan_fft_forward(w), planner.plan_fft_forward(h))
    };
    for row in data.chunks_exact_mut(w) {
        rows.process(row);
    }
    let mut col = vec![Complex::new(0.0, 0.0); h];
    for x in 0..w {
        (0..h).for_each(|y| col[y] = data[y * w + x]);
        cols.process(&mut col);
        (0..h).for_each(|y| data[y * w + x] = col[y]);
    }
}

/// The fold grid column (or row) of a position in bins: its floor modulo the grid. (An exact
/// floor without `f32::floor`, a library call on baseline x86-64 that took detection from
/// 62 to 102 ms at 1024 × 1024.)
fn bin(u: f32) -> usize {
    let t = u as i64;
    let floor = t - (u < t as f32) as i64;
    (floor & (GRID as i64 - 1)) as usize
}

/// Every residual value added into the fold grid cell its position falls in.
fn fold(w: usize, h: usize, r: &[f32], g: &Geometry) -> Vec<f32> {
    let (s, c) = g.angle.sin_cos();
    let mut sum = vec![0f32; GRID * GRID];
    let mut count = vec![0u32; GRID * GRID];
    let scale = SUB as f32 / g.chip;
    for y in 0..h {
        for x in 0..w {
            let (px, py) = (x as f32 + 0.5, y as f32 + 0.5);
            let u = (c * px + s * py) * scale;
            let v = (-s * px + c * py) * scale;
            let (j, i) = (bin(u), bin(v));
            sum[i * GRID + j] += r[y * w + x];
            count[i * GRID + j] += 1;
        }
    }
    sum.iter().zip(&count).map(|(s, &n)| if n > 0 { s / n as f32 } else { 0.0 }).collect()
}

/// The fold grid under one of the eight symmetries of the square.
fn dihedral(grid: &[f32], d: usize) -> Vec<f32> {
    let n = GRID;
    let mut out = vec![0f32; n * n];
    for i in 0..n {
        for j in 0..n {
            let (a, b) = match d {
                0 => (i, j),
                1 => (j, n - 1 - i),
                2 => (n - 1 - i, n - 1 - j),
                3 => (n - 1 - j, i),
                4 => (i, n - 1 - j),
                5 => (n - 1 - i, j),
                6 => (j, i),
                _ => (n - 1 - j, n - 1 - i),
            };
            out[i * n + j] = grid[a * n + b];
        }
    }
    out
}

/// Chip estimates for one sub-chip phase, normalised to zero mean and unit variance.
fn chips(grid: &[f32], py: usize, px: usize) -> [f32; CHIPS] {
    let mut t = [0f32; CHIPS];
    for i in 0..TILE {
        for j in 0..TILE {
            let mut s = 0.0;
            for a in 0..SUB {
                for b in 0..SUB {
                    s += grid[((SUB * i + py + a) % GRID) * GRID + (SUB * j + px + b) % GRID];
                }
            }
            t[i * TILE + j] = s;
        }
    }
    let mean = t.iter().sum::<f32>() / CHIPS as f32;
    let sd = (t.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / CHIPS as f32).sqrt().max(1e-12);
    t.iter_mut().for_each(|v| *v = (*v - mean) / sd);
    t
}

struct Candidate {
    z: f32,
    tile: [f32; CHIPS],
    geometry: Geometry,
    symmetry: usize,
}

/// Folds the residual with `g` and searches, for each symmetry in `symmetries` and each
/// sub-chip phase, the tile origin that best matches the sync chips.
struct Searcher {
    planner: FftPlanner<f32>,
    sync_spectrum: Vec<Complex<f32>>,
    hypotheses: u64,
}

impl Searcher {
    fn new() -> Searcher {
        let mut planner = FftPlanner::<f32>::new();
        let mut sync_spectrum = vec![Complex::new(0.0f32, 0.0); CHIPS];
        for &(c, sign) in &layout().sync {
            sync_spectrum[c] = Complex::new(sign, 0.0);
        }
        fft2(&mut planner, &mut sync_spectrum, TILE, TILE, false);
        Searcher { planner, sync_spectrum, hypotheses: 0 }
    }

    fn search(&mut self, w: usize, h: usize, r: &[f32], g: Geometry, symmetries: &[usize]) -> Vec<Candidate> {
        let folded = fold(w, h, r, &g);
        let mut out = Vec::new();
        for &d in symmetries {
            let grid = dihedral(&folded, d);
            for py in 0..SUB {
                for px in 0..SUB {
                    let t = chips(&grid, py, px);
                    // Every cyclic shift of the tile against the sync chips at once, as a
                    // circular cross-correlation by FFT.
                    let mut spectrum: Vec<Complex<f32>> = t.iter().map(|&v| Complex::new(v, 0.0)).collect();
                    fft2(&mut self.planner, &mut spectrum, TILE, TILE, false);
                    for (a, b) in spectrum.iter_mut().zip(self.sync_spectrum.iter()) {
                        *a *= b.conj();
                    }
                    fft2(&mut self.planner, &mut spectrum, TILE, TILE, true);
                    let (mut best, mut at) = (f32::MIN, (0, 0));
                    for (shift, v) in spectrum.iter().enumerate() {
                        let s = v.re / CHIPS as f32;
                        if s > best {
                            (best, at) = (s, (shift / TILE, shift % TILE));
                        }
                    }
                    self.hypotheses += CHIPS as u64;
                    let mut tile = [0f32; CHIPS];
                    for (c, v) in tile.iter_mut().enumerate() {
                        let (i, j) = ((c / TILE + at.0) % TILE, (c % TILE + at.1) % TILE);
                        *v = t[i * TILE + j];
                    }
                    out.push(Candidate {
                        z: best / (SYNC_CHIPS as f32).sqrt(),
                        tile,
                        geometry: g,
                        symmetry: d,
                    });
                }
            }
        }
        out
    }
}

pub(crate) fn detect(width: usize, height: usize, luma: &[f32]) -> Detection {
    // Working resolution by an integer box factor.
    let k = width.min(height).div_ceil(WORK_SIDE).max(1);
    let (w, h) = (width / k, height / k);
    let y: Vec<f32> = if k == 1 {
        luma.to_vec()
    } else {
        (0..w * h)
            .map(|i| {
                let (x0, y0) = ((i % w) * k, (i / w) * k);
                let mut s = 0.0;
                for yy in y0..y0 + k {
                    s += luma[yy * width + x0..][..k].iter().sum::<f32>();
                }
                s / (k * k) as f32
            })
            .collect()
    };
    // The size rule gives the chip size of an image that was only resized; the
    // autocorrelation finds it after crops and rotations too.
    let rule = chip_size(width, height) / k as f32;
    let r = residual(w, h, &y, FOLD_RADIUS * rule);
    let mut geometries = vec![Geometry { chip: rule, angle: 0.0 }];
    // A marked image with a short side under 384 has 3-pixel chips; halved, 1.5.
    let unclamped = width.min(height) as f32 / 128.0 / k as f32;
    if (unclamped - rule).abs() > 0.05 {
        geometries.push(Geometry { chip: unclamped, angle: 0.0 });
    }
    for g in from_autocorrelation(w, h, &residual(w, h, &y, ACF_RADIUS * rule), rule) {
        if g.angle.abs() > 1e-3 {
            geometries.push(Geometry { chip: g.chip, angle: -g.angle });
        }
        geometries.push(g);
    }
    let mut searcher = Searcher::new();
    let mut candidates: Vec<Candidate> = Vec::new();
    for g in &geometries {
        candidates.extend(searcher.search(w, h, &r, *g, &[0, 1, 2, 3, 4, 5, 6, 7]));
    }
    // The fold needs the tile's scale and angle to a fraction of a percent and degree: refine
    // the two best distinct geometries, scale first, then angle.
    candidates.sort_by(|a, b| b.z.total_cmp(&a.z));
    let mut refined: Vec<(Geometry, usize)> = Vec::new();
    for c in &candidates {
        if refined.len() == REFINE {
            break;
        }
        if !refined.iter().any(|(g, _)| {
            (g.chip - c.geometry.chip).abs() < 1e-4 && (g.angle - c.geometry.angle).abs() < 1e-5
        }) {
            refined.push((c.geometry, c.symmetry));
        }
    }
    for (g, d) in refined {
        let mut best = (f32::MIN, g);
        for i in -5..=5 {
            let trial = Geometry { chip: g.chip * (1.0 + SCALE_STEP * i as f32), angle: g.angle };
            let found = searcher.search(w, h, &r, trial, &[d]);
            let z = found.iter().map(|c| c.z).fold(f32::MIN, f32::max);
            if z > best.0 {
                best = (z, trial);
            }
            candidates.extend(found);
        }
        for i in [-2, -1, 1, 2] {
            let trial = Geometry { chip: best.1.chip, angle: best.1.angle + ANGLE_STEP * i as f32 };
            candidates.extend(searcher.search(w, h, &r, trial, &[d]));
        }
    }
    let hypotheses = searcher.hypotheses;
    candidates.sort_by(|a, b| b.z.total_cmp(&a.z));

    let best_z = candidates.first().map_or(0.0, |c| c.z);
    let tries = DECODE_TRIES.min(candidates.len());
    for c in &candidates[..tries] {
        let soft = soft_bits(&c.tile);
        if let Some(payload) = code::decode(&soft) {
            let coded = code::encode(payload);
            let agree = soft.iter().zip(&coded).filter(|(s, b)| (**s > 0.0) == (**b == 1)).count();
            let sync = (hypotheses as f64 * normal_tail(c.z as f64)).min(1.0);
            let g = &c.geometry;
            return Detection {
                payload: Some(payload),
                sync_z: c.z,
                bit_agreement: agree as f32 / coded.len() as f32,
                false_positive: sync * tries as f64 * 2f64.powi(-32),
                chip: g.chip * k as f32,
                rotation: g.angle.to_degrees(),
                mirrored: c.symmetry >= 4,
            };
        }
    }
    Detection {
        payload: None,
        sync_z: best_z,
        bit_agreement: 0.0,
        false_positive: 1.0,
        chip: 0.0,
        rotation: 0.0,
        mirrored: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_tail_matches_known_values() {
        for (z, q) in [(0.0, 0.5), (1.0, 0.158_655_25), (3.0, 0.001_349_898), (6.0, 9.865_876e-10)] {
            assert!((normal_tail(z) / q - 1.0).abs() < 1e-5, "Q({z}) = {}", normal_tail(z));
        }
    }
}
