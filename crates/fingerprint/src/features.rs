//! Local features, to find copies that a global hash misses: tight crops, rotations, logos
//! laid over part of the image.
//!
//! The method is ORB's (Rublee et al., "ORB: an efficient alternative to SIFT or SURF",
//! 2011) with a Harris detector: corners found on a pyramid of the image, each with the
//! orientation of its intensity centroid and a 256-bit steered BRIEF descriptor. A copy is
//! confirmed when enough descriptor matches agree on one similarity transform (scale,
//! rotation, shift), found by RANSAC: unrelated images almost never give a dozen matches
//! that agree, so a confirmed match is strong evidence even when few pixels survive.

use std::f32::consts::PI;
use std::sync::OnceLock;

use crate::index::{Code, hamming};

/// The longer side of the image features are taken from.
pub const BASE_SIDE: usize = 512;
/// Features kept per image.
pub const MAX_FEATURES: usize = 256;
const LEVELS: usize = 5;
const LEVEL_SCALE: f32 = 1.25;
/// Patch radius of the descriptor and the centroid.
const PATCH: i32 = 15;
/// Corners closer than this to a border have no whole patch at every rotation.
const MARGIN: usize = 23;

/// A corner: position in the base image (longer side [`BASE_SIDE`]), scale (pyramid
/// factor), orientation in radians and descriptor.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Feature {
    pub x: f32,
    pub y: f32,
    pub scale: f32,
    pub angle: f32,
    pub descriptor: Code,
}

/// The features of an image, with the size of the base image they were taken from.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Features {
    pub width: u32,
    pub height: u32,
    pub features: Vec<Feature>,
}

/// A grey image as `f32` values.
struct Grey {
    width: usize,
    height: usize,
    data: Vec<f32>,
}

impl Grey {
    fn at(&self, x: usize, y: usize) -> f32 {
        self.data[y * self.width + x]
    }
}

/// Area-averaging resize of a grey image (each output pixel is the mean of the input it
/// covers, fractional edges weighted).
pub fn resize_area(width: usize, height: usize, src: &[f32], nw: usize, nh: usize) -> Vec<f32> {
    fn weights(n: usize, m: usize) -> Vec<Vec<(usize, f32)>> {
        let step = n as f64 / m as f64;
        (0..m)
            .map(|o| {
                let (a, b) = (o as f64 * step, (o as f64 + 1.0) * step);
                let mut w = Vec::new();
                let mut i = a.floor() as usize;
                while (i as f64) < b && i < n {
                    let cover = (b.min(i as f64 + 1.0) - a.max(i as f64)) / step;
                    if cover > 0.0 {
                        w.push((i, cover as f32));
                    }
                    i += 1;
                }
                w
            })
            .collect()
    }
    let (wx, wy) = (weights(width, nw), weights(height, nh));
    let mut rows = vec![0f32; nw * height];
    for y in 0..height {
        let line = &src[y * width..][..width];
        for (x, w) in wx.iter().enumerate() {
            rows[y * nw + x] = w.iter().map(|&(i, c)| line[i] * c).sum();
        }
    }
    let mut out = vec![0f32; nw * nh];
    for (y, w) in wy.iter().enumerate() {
        for &(i, c) in w {
            let line = &rows[i * nw..][..nw];
            for (o, v) in out[y * nw..][..nw].iter_mut().zip(line) {
                *o += v * c;
            }
        }
    }
    out
}

/// Separable blur with the binomial kernel [1 4 6 4 1] / 16 (a Gaussian of σ ≈ 1), edges
/// clamped.
fn blur(g: &Grey) -> Grey {
    const K: [f32; 5] = [1.0 / 16.0, 4.0 / 16.0, 6.0 / 16.0, 4.0 / 16.0, 1.0 / 16.0];
    let (w, h) = (g.width, g.height);
    let mut tmp = vec![0f32; w * h];
    for (src, dst) in g.data.chunks_exact(w).zip(tmp.chunks_exact_mut(w)) {
        let at = |x: isize| src[x.clamp(0, w as isize - 1) as usize];
        for x in (0..2.min(w)).chain(w.saturating_sub(2).max(2)..w) {
            let x = x as isize;
            dst[x as usize] =
                K[0] * at(x - 2) + K[1] * at(x - 1) + K[2] * at(x) + K[3] * at(x + 1) + K[4] * at(x + 2);
        }
        if w > 4 {
            for (o, win) in dst[2..w - 2].iter_mut().zip(src.windows(5)) {
                *o = K[0] * win[0] + K[1] * win[1] + K[2] * win[2] + K[3] * win[3] + K[4] * win[4];
            }
        }
    }
    // Vertically, whole rows at a time (the inner loop runs along memory).
    let mut data = vec![0f32; w * h];
    for y in 0..h {
        let out = &mut data[y * w..][..w];
        for (k, c) in K.iter().enumerate() {
            let row = (y as isize + k as isize - 2).clamp(0, h as isize - 1) as usize;
            for (o, v) in out.iter_mut().zip(&tmp[row * w..][..w]) {
                *o += c * v;
            }
        }
    }
    Grey { width: w, height: h, data }
}

/// xorshift64 (shifts 13, 7, 17): the descriptor's point pairs and RANSAC's draws are fixed
/// by their seeds, so features and matches are the same on every run and machine.
fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// The 256 point pairs of the descriptor, drawn once from an isotropic Gaussian of σ = 31/5
/// (BRIEF's "G II" sampling), clipped to the patch.
fn pairs() -> &'static [[(f32, f32); 2]; 256] {
    static P: OnceLock<[[(f32, f32); 2]; 256]> = OnceLock::new();
    P.get_or_init(|| {
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut uniform = move || ((xorshift(&mut state) >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
        let mut gauss = move || {
            // Box–Muller.
            let (u, v) = (uniform(), uniform());
            let r = (-2.0 * u.ln()).sqrt() * 31.0 / 5.0;
            let p = (r * (2.0 * std::f64::consts::PI * v).cos()).clamp(-(PATCH as f64), PATCH as f64);
            p as f32
        };
        std::array::from_fn(|_| [(gauss(), gauss()), (gauss(), gauss())])
    })
}

/// Harris responses (k = 0.04) over a 5 × 5 window of Sobel gradients.
fn harris(g: &Grey) -> Vec<f32> {
    let (w, h) = (g.width, g.height);
    let mut xx = vec![0f32; w * h];
    let mut yy = vec![0f32; w * h];
    let mut xy = vec![0f32; w * h];
    let d = &g.data;
    for y in 1..h - 1 {
        let (up, row, down) = (&d[(y - 1) * w..][..w], &d[y * w..][..w], &d[(y + 1) * w..][..w]);
        for x in 1..w - 1 {
            let gx =
                (up[x + 1] + 2.0 * row[x + 1] + down[x + 1]) - (up[x - 1] + 2.0 * row[x - 1] + down[x - 1]);
            let gy = (down[x - 1] + 2.0 * down[x] + down[x + 1]) - (up[x - 1] + 2.0 * up[x] + up[x + 1]);
            let i = y * w + x;
            (xx[i], yy[i], xy[i]) = (gx * gx, gy * gy, gx * gy);
        }
    }
    let sum = |a: Vec<f32>| blur(&blur(&Grey { width: w, height: h, data: a })).data;
    let (xx, yy, xy) = (sum(xx), sum(yy), sum(xy));
    (0..w * h).map(|i| xx[i] * yy[i] - xy[i] * xy[i] - 0.04 * (xx[i] + yy[i]).powi(2)).collect()
}

/// Orientation of the intensity centroid in a disc of radius [`PATCH`].
fn orientation(g: &Grey, x: usize, y: usize) -> f32 {
    let (mut m10, mut m01) = (0f32, 0f32);
    for dy in -PATCH..=PATCH {
        let span = ((PATCH * PATCH - dy * dy) as f32).sqrt() as i32;
        for dx in -span..=span {
            let v = g.at((x as i32 + dx) as usize, (y as i32 + dy) as usize);
            m10 += dx as f32 * v;
            m01 += dy as f32 * v;
        }
    }
    m01.atan2(m10)
}

fn descriptor(g: &Grey, x: usize, y: usize, angle: f32) -> Code {
    let (s, c) = angle.sin_cos();
    let sample = |(px, py): (f32, f32)| {
        let rx = (c * px - s * py).round() as i32;
        let ry = (s * px + c * py).round() as i32;
        g.at((x as i32 + rx) as usize, (y as i32 + ry) as usize)
    };
    let mut code = [0u64; 4];
    for (k, [a, b]) in pairs().iter().enumerate() {
        if sample(*a) < sample(*b) {
            code[k / 64] |= 1 << (k % 64);
        }
    }
    code
}

/// The features of a grey image given as `f32` luminance.
pub fn detect(width: usize, height: usize, luma: &[f32]) -> Features {
    assert_eq!(luma.len(), width * height, "luma buffer size");
    // Small images are enlarged too, so that a copy at a quarter of the size still has
    // corners at the scales of the original's.
    let shrink = width.max(height) as f32 / BASE_SIDE as f32;
    let (bw, bh) = (
        ((width as f32 / shrink).round() as usize).max(1),
        ((height as f32 / shrink).round() as usize).max(1),
    );
    let base =
        if (bw, bh) == (width, height) { luma.to_vec() } else { resize_area(width, height, luma, bw, bh) };
    let mut out = Features { width: bw as u32, height: bh as u32, features: Vec::new() };
    // Quotas per level in proportion to its area, as ORB does.
    let areas: Vec<f32> = (0..LEVELS).map(|l| LEVEL_SCALE.powi(-2 * l as i32)).collect();
    let total: f32 = areas.iter().sum();
    for (level, area) in areas.iter().enumerate() {
        let scale = LEVEL_SCALE.powi(level as i32);
        let (lw, lh) = ((bw as f32 / scale).round() as usize, (bh as f32 / scale).round() as usize);
        if lw <= 2 * MARGIN + 2 || lh <= 2 * MARGIN + 2 {
            break;
        }
        let data = if level == 0 { base.clone() } else { resize_area(bw, bh, &base, lw, lh) };
        let grey = Grey { width: lw, height: lh, data };
        let response = harris(&grey);
        let smooth = blur(&blur(&grey));
        let quota = ((MAX_FEATURES as f32 * area / total).ceil() as usize).max(1);
        let mut corners = Vec::new();
        for y in MARGIN..lh - MARGIN {
            for x in MARGIN..lw - MARGIN {
                let r = response[y * lw + x];
                if r <= 1e-3 {
                    continue;
                }
                // A strict 5 × 5 maximum (ties go to the first in scan order).
                let mut top = true;
                'nms: for dy in -2i32..=2 {
                    for dx in -2i32..=2 {
                        if (dx, dy) == (0, 0) {
                            continue;
                        }
                        let o = response[(y as i32 + dy) as usize * lw + (x as i32 + dx) as usize];
                        if o > r || (o == r && (dy < 0 || (dy == 0 && dx < 0))) {
                            top = false;
                            break 'nms;
                        }
                    }
                }
                if top {
                    corners.push((r, x, y));
                }
            }
        }
        corners.sort_by(|a, b| b.0.total_cmp(&a.0).then((a.2, a.1).cmp(&(b.2, b.1))));
        for &(_, x, y) in corners.iter().take(quota) {
            let angle = orientation(&smooth, x, y);
            out.features.push(Feature {
                x: x as f32 * bw as f32 / lw as f32,
                y: y as f32 * bh as f32 / lh as f32,
                scale,
                angle,
                descriptor: descriptor(&smooth, x, y, angle),
            });
        }
    }
    out.features.truncate(MAX_FEATURES);
    out
}

/// A confirmed match of a query image to a work: the similarity that maps the query's base
/// image into the work's, and how many feature matches agree with it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Alignment {
    pub inliers: usize,
    /// Candidate matches that passed the ratio test.
    pub matches: usize,
    /// Query-to-work scale (work pixels per query pixel, both in base images).
    pub scale: f32,
    /// How far the query is turned from the work, in degrees, counter-clockwise on screen.
    pub rotation: f32,
    /// The part of the work the query shows, as fractions of its width and height:
    /// `[left, top, right, bottom]`, clipped to the work.
    pub region: [f32; 4],
}

/// Matches that RANSAC must find in agreement before a copy is confirmed. Over every pair of
/// different Kodak images and their transforms none reaches it; copies give 48 or more.
pub const MIN_INLIERS: usize = 12;

/// Confirms (or not) that `query` shows part of `work`.
pub fn align(query: &Features, work: &Features) -> Option<Alignment> {
    if query.features.len() < 2 || work.features.len() < 2 {
        return None;
    }
    // Nearest and second-nearest work descriptor of each query descriptor; keep the clear ones.
    let mut pairs: Vec<(usize, usize)> = Vec::new();
    for (qi, q) in query.features.iter().enumerate() {
        let (mut best, mut second, mut at) = (u32::MAX, u32::MAX, 0);
        for (wi, w) in work.features.iter().enumerate() {
            let d = hamming(&q.descriptor, &w.descriptor);
            if d < best {
                (second, best, at) = (best, d, wi);
            } else if d < second {
                second = d;
            }
        }
        if best <= 80 && (best as f32) < 0.8 * second as f32 {
            pairs.push((qi, at));
        }
    }
    if pairs.len() < MIN_INLIERS {
        return None;
    }
    type C = (f32, f32);
    let point = |f: &Feature| -> C { (f.x, f.y) };
    let sub = |a: C, b: C| (a.0 - b.0, a.1 - b.1);
    let mul = |a: C, b: C| (a.0 * b.0 - a.1 * b.1, a.0 * b.1 + a.1 * b.0);
    let div = |a: C, b: C| {
        let n = b.0 * b.0 + b.1 * b.1;
        ((a.0 * b.0 + a.1 * b.1) / n, (a.1 * b.0 - a.0 * b.1) / n)
    };
    let qp: Vec<C> = pairs.iter().map(|&(q, _)| point(&query.features[q])).collect();
    let wp: Vec<C> = pairs.iter().map(|&(_, w)| point(&work.features[w])).collect();
    // Inlier tolerance: 1.5% of the work's base diagonal (about 9 pixels at 512 × 341).
    let tol = 0.015 * ((work.width as f32).powi(2) + (work.height as f32).powi(2)).sqrt();
    let inliers_of = |a: C, b: C| -> Vec<usize> {
        (0..qp.len())
            .filter(|&i| {
                let m = mul(a, qp[i]);
                let e = sub((m.0 + b.0, m.1 + b.1), wp[i]);
                e.0 * e.0 + e.1 * e.1 <= tol * tol
            })
            .collect()
    };
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut next = |n: usize| (xorshift(&mut state) % n as u64) as usize;
    let plausible = |a: C| (0.2..=8.0).contains(&(a.0 * a.0 + a.1 * a.1).sqrt());
    // Inliers must be distinct work features, or a model that squeezes the query onto one
    // point would count every match aimed there.
    let distinct = |found: &[usize]| {
        let mut seen: Vec<usize> = found.iter().map(|&i| pairs[i].1).collect();
        seen.sort_unstable();
        seen.dedup();
        seen.len()
    };
    let mut best: (usize, C, C) = (0, (0.0, 0.0), (0.0, 0.0));
    for _ in 0..400 {
        let (i, j) = (next(qp.len()), next(qp.len()));
        let dq = sub(qp[i], qp[j]);
        if i == j || dq.0.abs() + dq.1.abs() < 4.0 {
            continue;
        }
        let a = div(sub(wp[i], wp[j]), dq);
        if !plausible(a) {
            continue;
        }
        let b = sub(wp[i], mul(a, qp[i]));
        let n = distinct(&inliers_of(a, b));
        if n > best.0 {
            best = (n, a, b);
        }
    }
    if best.0 < MIN_INLIERS {
        return None;
    }
    // Least squares on the inliers: w = a·q + b over complex numbers; kept if it is better.
    let found = inliers_of(best.1, best.2);
    let n = found.len() as f32;
    let mq = found.iter().fold((0.0, 0.0), |s, &i| (s.0 + qp[i].0 / n, s.1 + qp[i].1 / n));
    let mw = found.iter().fold((0.0, 0.0), |s, &i| (s.0 + wp[i].0 / n, s.1 + wp[i].1 / n));
    let (mut num, mut den) = ((0f32, 0f32), 0f32);
    for &i in &found {
        let (q, w) = (sub(qp[i], mq), sub(wp[i], mw));
        // conj(q) · w
        num = (num.0 + q.0 * w.0 + q.1 * w.1, num.1 + q.0 * w.1 - q.1 * w.0);
        den += q.0 * q.0 + q.1 * q.1;
    }
    if den > 0.0 {
        let a = (num.0 / den, num.1 / den);
        let b = sub(mw, mul(a, mq));
        let n = distinct(&inliers_of(a, b));
        if plausible(a) && n >= best.0 {
            best = (n, a, b);
        }
    }
    let (inliers, a, b) = best;
    let corners = [
        (0.0, 0.0),
        (query.width as f32, 0.0),
        (0.0, query.height as f32),
        (query.width as f32, query.height as f32),
    ]
    .map(|p| {
        let m = mul(a, p);
        (m.0 + b.0, m.1 + b.1)
    });
    let (ww, wh) = (work.width as f32, work.height as f32);
    let fold = |f: fn(f32, f32) -> f32, init: f32, pick: fn(&(f32, f32)) -> f32| {
        corners.iter().map(pick).fold(init, f)
    };
    let region = [
        (fold(f32::min, f32::MAX, |p| p.0) / ww).clamp(0.0, 1.0),
        (fold(f32::min, f32::MAX, |p| p.1) / wh).clamp(0.0, 1.0),
        (fold(f32::max, f32::MIN, |p| p.0) / ww).clamp(0.0, 1.0),
        (fold(f32::max, f32::MIN, |p| p.1) / wh).clamp(0.0, 1.0),
    ];
    // `a` turns the copy back onto the work; with y growing downwards its argument is the
    // copy's counter-clockwise rotation on screen.
    let rotation = a.1.atan2(a.0) * 180.0 / PI;
    Some(Alignment { inliers, matches: pairs.len(), scale: (a.0 * a.0 + a.1 * a.1).sqrt(), rotation, region })
}
