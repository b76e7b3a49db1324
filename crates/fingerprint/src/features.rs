//! Local features, to find copies that a global hash misses: tight crops, rotations, logos
//! laid over part of the image.
//!
//! The method is ORB's (Rublee et al., "ORB: an efficient alternative to SIFT or SURF",
//! 2011) with a Harris detector: corners found on a pyramid of the image, each with the
//! orientation of its intensity centroid and a 256-bit steered BRIEF descriptor. A copy is
//! confirmed when enough descriptor matches agree on one similarity transform (scale,
//! rotation, shift), found by RANSAC: unrelated images almost never give a dozen matches
//! that agree, so a confirmed match is strong evidence even when few pixels survive.

use std::cell::RefCell;
use std::f32::consts::PI;
use std::sync::OnceLock;

use crate::index::Code;

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

/// Area-averaging resize of a grey image (each output pixel is the mean of the input it
/// covers, fractional edges weighted).
pub fn resize_area(width: usize, height: usize, src: &[f32], nw: usize, nh: usize) -> Vec<f32> {
    let (mut rows, mut out) = (Vec::new(), Vec::new());
    resize_area_into(width, height, src, nw, nh, &mut rows, &mut out);
    out
}

/// Per output index, the inputs it covers with their weights, laid flat: `spans[o]` is the
/// range of `taps` for output `o`.
struct AreaWeights {
    spans: Vec<std::ops::Range<usize>>,
    taps: Vec<(usize, f32)>,
}

impl AreaWeights {
    fn new(n: usize, m: usize) -> AreaWeights {
        let step = n as f64 / m as f64;
        let mut taps = Vec::with_capacity(m * (n.div_ceil(m) + 1));
        let spans = (0..m)
            .map(|o| {
                let (a, b) = (o as f64 * step, (o as f64 + 1.0) * step);
                let first = taps.len();
                let mut i = a.floor() as usize;
                while (i as f64) < b && i < n {
                    let cover = (b.min(i as f64 + 1.0) - a.max(i as f64)) / step;
                    if cover > 0.0 {
                        taps.push((i, cover as f32));
                    }
                    i += 1;
                }
                first..taps.len()
            })
            .collect();
        AreaWeights { spans, taps }
    }
}

/// [`resize_area`] into `out`, with `rows` as scratch: the same sums in the same order.
fn resize_area_into(
    width: usize,
    height: usize,
    src: &[f32],
    nw: usize,
    nh: usize,
    rows: &mut Vec<f32>,
    out: &mut Vec<f32>,
) {
    assert_eq!(src.len(), width * height, "pixels for {width} × {height}");
    if width == 0 || height == 0 || nw == 0 || nh == 0 {
        out.clear();
        out.resize(nw * nh, 0.0);
        return;
    }
    let (wx, wy) = (AreaWeights::new(width, nw), AreaWeights::new(height, nh));
    rows.resize(nw * height, 0.0);
    for (line, row) in src.chunks_exact(width).zip(rows.chunks_exact_mut(nw)) {
        for (o, span) in row.iter_mut().zip(&wx.spans) {
            *o = wx.taps[span.clone()].iter().map(|&(i, c)| line[i] * c).sum();
        }
    }
    out.resize(nw * nh, 0.0);
    for (row, span) in out.chunks_exact_mut(nw).zip(&wy.spans) {
        row.fill(0.0);
        for &(i, c) in &wy.taps[span.clone()] {
            for (o, v) in row.iter_mut().zip(&rows[i * nw..][..nw]) {
                *o += v * c;
            }
        }
    }
}

/// The binomial kernel [1 4 6 4 1] / 16 (a Gaussian of σ ≈ 1).
const K: [f32; 5] = [1.0 / 16.0, 4.0 / 16.0, 6.0 / 16.0, 4.0 / 16.0, 1.0 / 16.0];

/// One row blurred along x, edges clamped. Eight outputs at a time in the middle, each the
/// same five products summed left to right, so that the compiler can use vector registers
/// without changing a bit of the result.
#[inline(always)]
fn blur_row(src: &[f32], dst: &mut [f32]) {
    let w = src.len();
    let at = |x: isize| src[x.clamp(0, w as isize - 1) as usize];
    let tap =
        |x: isize| K[0] * at(x - 2) + K[1] * at(x - 1) + K[2] * at(x) + K[3] * at(x + 1) + K[4] * at(x + 2);
    if w <= 4 {
        for (x, o) in dst.iter_mut().enumerate().take(w) {
            *o = tap(x as isize);
        }
        return;
    }
    for x in [0, 1, w - 2, w - 1] {
        dst[x] = tap(x as isize);
    }
    let out = &mut dst[2..w - 2];
    let mut chunks = out.chunks_exact_mut(8);
    let mut x = 0;
    for o in &mut chunks {
        let s: &[f32; 12] = src[x..x + 12].try_into().expect("12 inputs");
        for (k, o) in o.iter_mut().enumerate() {
            *o = K[0] * s[k] + K[1] * s[k + 1] + K[2] * s[k + 2] + K[3] * s[k + 3] + K[4] * s[k + 4];
        }
        x += 8;
    }
    for (k, o) in chunks.into_remainder().iter_mut().enumerate() {
        let s = &src[x + k..][..5];
        *o = K[0] * s[0] + K[1] * s[1] + K[2] * s[2] + K[3] * s[3] + K[4] * s[4];
    }
}

/// Every column blurred along y, edges clamped; each output accumulates from zero in the
/// kernel's order.
#[inline(always)]
fn blur_columns(src: &[f32], dst: &mut [f32], w: usize, h: usize) {
    let row = |y: isize| &src[y.clamp(0, h as isize - 1) as usize * w..][..w];
    for (y, out) in dst.chunks_exact_mut(w).take(h).enumerate() {
        let y = y as isize;
        let (a, b, c, d, e) = (row(y - 2), row(y - 1), row(y), row(y + 1), row(y + 2));
        for x in 0..w {
            out[x] = 0.0 + K[0] * a[x] + K[1] * b[x] + K[2] * c[x] + K[3] * d[x] + K[4] * e[x];
        }
    }
}

/// The blur applied twice (along x, along y, along x, along y), from `src` into `dst`.
#[inline(always)]
fn blur_twice(src: &[f32], dst: &mut [f32], tmp: &mut [f32], w: usize, h: usize) {
    for (s, t) in src.chunks_exact(w).zip(tmp.chunks_exact_mut(w)) {
        blur_row(s, t);
    }
    blur_columns(tmp, dst, w, h);
    for (s, t) in dst.chunks_exact(w).zip(tmp.chunks_exact_mut(w)) {
        blur_row(s, t);
    }
    blur_columns(tmp, dst, w, h);
}

/// [`blur_twice`] in place.
#[inline(always)]
fn blur_twice_in_place(buf: &mut [f32], tmp: &mut [f32], w: usize, h: usize) {
    for _ in 0..2 {
        for (s, t) in buf.chunks_exact(w).zip(tmp.chunks_exact_mut(w)) {
            blur_row(s, t);
        }
        blur_columns(tmp, buf, w, h);
    }
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

/// Harris responses (k = 0.04) over a 5 × 5 window of Sobel gradients, into `xx` (`yy`,
/// `xy` and `tmp` are scratch). The gradient products of one pixel are found in one pass,
/// eight pixels at a time; the border pixels have none.
#[inline(always)]
fn harris(g: &[f32], w: usize, h: usize, [xx, yy, xy, tmp]: [&mut [f32]; 4]) {
    for b in [&mut *xx, &mut *yy, &mut *xy] {
        b[..w].fill(0.0);
        b[(h - 1) * w..h * w].fill(0.0);
    }
    for y in 1..h - 1 {
        let (up, row, down) = (&g[(y - 1) * w..][..w], &g[y * w..][..w], &g[(y + 1) * w..][..w]);
        let (ox, oy, oxy) = (&mut xx[y * w..][..w], &mut yy[y * w..][..w], &mut xy[y * w..][..w]);
        for o in [&mut *ox, &mut *oy, &mut *oxy] {
            (o[0], o[w - 1]) = (0.0, 0.0);
        }
        // Pixel x + 1 + k from the inputs at x + k, x + 1 + k, x + 2 + k.
        let gradients = |x: usize| {
            let gx = (up[x + 2] + 2.0 * row[x + 2] + down[x + 2]) - (up[x] + 2.0 * row[x] + down[x]);
            let gy = (down[x] + 2.0 * down[x + 1] + down[x + 2]) - (up[x] + 2.0 * up[x + 1] + up[x + 2]);
            (gx, gy)
        };
        let mut x = 0;
        while x + 10 <= w {
            let (u, r, d): (&[f32; 10], &[f32; 10], &[f32; 10]) = (
                up[x..x + 10].try_into().expect("10"),
                row[x..x + 10].try_into().expect("10"),
                down[x..x + 10].try_into().expect("10"),
            );
            let (ax, ay, axy): (&mut [f32; 8], &mut [f32; 8], &mut [f32; 8]) = (
                (&mut ox[x + 1..x + 9]).try_into().expect("8"),
                (&mut oy[x + 1..x + 9]).try_into().expect("8"),
                (&mut oxy[x + 1..x + 9]).try_into().expect("8"),
            );
            for k in 0..8 {
                let gx = (u[k + 2] + 2.0 * r[k + 2] + d[k + 2]) - (u[k] + 2.0 * r[k] + d[k]);
                let gy = (d[k] + 2.0 * d[k + 1] + d[k + 2]) - (u[k] + 2.0 * u[k + 1] + u[k + 2]);
                (ax[k], ay[k], axy[k]) = (gx * gx, gy * gy, gx * gy);
            }
            x += 8;
        }
        while x + 2 < w {
            let (gx, gy) = gradients(x);
            (ox[x + 1], oy[x + 1], oxy[x + 1]) = (gx * gx, gy * gy, gx * gy);
            x += 1;
        }
    }
    for b in [&mut *xx, &mut *yy, &mut *xy] {
        blur_twice_in_place(b, tmp, w, h);
    }
    for ((a, b), c) in xx.iter_mut().zip(&*yy).zip(&*xy) {
        *a = *a * b - c * c - 0.04 * (*a + b).powi(2);
    }
}

/// The corners of a response image: strict 5 × 5 maxima above 1e-3 (ties go to the first in
/// scan order), at least `margin` from the border, as `(response, x + offset, y + offset)`.
/// A maximum over each row's five neighbours (in `rowmax`), then over five rows, rules out
/// most pixels before the exact test.
#[inline(always)]
fn maxima(
    (margin, offset): (usize, usize),
    r: &[f32],
    w: usize,
    h: usize,
    rowmax: &mut [f32],
    colmax: &mut [f32],
    out: &mut Vec<(f32, usize, usize)>,
) {
    out.clear();
    let (x0, x1) = (margin, w - margin);
    for y in margin - 2..h - margin + 2 {
        let line = &r[y * w..][..w];
        let m = &mut rowmax[y * w..][..w];
        for x in x0..x1 {
            m[x] = line[x - 2].max(line[x - 1]).max(line[x]).max(line[x + 1]).max(line[x + 2]);
        }
    }
    let colmax = &mut colmax[..w];
    for y in margin..h - margin {
        let rows: [&[f32]; 5] = std::array::from_fn(|k| &rowmax[(y + k - 2) * w..][..w]);
        for x in x0..x1 {
            colmax[x] = rows[0][x].max(rows[1][x]).max(rows[2][x]).max(rows[3][x]).max(rows[4][x]);
        }
        let line = &r[y * w..][..w];
        for x in x0..x1 {
            let v = line[x];
            if v <= 1e-3 || v < colmax[x] {
                continue;
            }
            // No neighbour is larger; one before it in scan order may be equal.
            let tie = (0..2)
                .any(|dy| (-2isize..=2).any(|dx| r[(y - 2 + dy) * w + x.wrapping_add_signed(dx)] == v))
                || (1..=2).any(|dx| line[x - dx] == v);
            if !tie {
                out.push((v, x + offset, y + offset));
            }
        }
    }
}

/// Orientation of the intensity centroid in a disc of radius [`PATCH`] around `(x, y)` of a
/// `w`-wide image.
#[inline(always)]
fn orientation(g: &[f32], w: usize, x: usize, y: usize) -> f32 {
    let (mut m10, mut m01) = (0f32, 0f32);
    for dy in -PATCH..=PATCH {
        let span = ((PATCH * PATCH - dy * dy) as f32).sqrt() as i32;
        let row = &g[(y as i32 + dy) as usize * w + x - span as usize..][..2 * span as usize + 1];
        for (dx, &v) in (-span..=span).zip(row) {
            m10 += dx as f32 * v;
            m01 += dy as f32 * v;
        }
    }
    m01.atan2(m10)
}

/// `v.round() as i32` for the small values of a patch offset, without the library call
/// `round` is on baseline x86-64: the fraction left by truncation decides, halves away
/// from zero.
#[inline(always)]
fn round_small(v: f32) -> i32 {
    let t = v as i32;
    let f = v - t as f32;
    t + i32::from(f >= 0.5) - i32::from(f <= -0.5)
}

/// The descriptor's points as two lists, x and y: pair `k` compares points `2k` and
/// `2k + 1`.
fn points() -> &'static ([f32; 512], [f32; 512]) {
    static P: OnceLock<([f32; 512], [f32; 512])> = OnceLock::new();
    P.get_or_init(|| {
        let flat: Vec<(f32, f32)> = pairs().iter().flatten().copied().collect();
        (std::array::from_fn(|i| flat[i].0), std::array::from_fn(|i| flat[i].1))
    })
}

/// Steered BRIEF: the 256 comparisons with the pattern turned by `angle`. Where each point
/// lands is found for all of them at once (eight lanes at a time), then the pixels compared.
#[inline(always)]
fn descriptor(g: &[f32], w: usize, x: usize, y: usize, angle: f32) -> Code {
    let (s, c) = angle.sin_cos();
    let (px, py) = points();
    let mut at = [0i32; 512];
    for ((a, &px), &py) in at.iter_mut().zip(px).zip(py) {
        let rx = round_small(c * px - s * py);
        let ry = round_small(s * px + c * py);
        *a = ry * w as i32 + rx;
    }
    let centre = (y * w + x) as isize;
    let sample = |k: usize| g[(centre + at[k] as isize) as usize];
    let mut code = [0u64; 4];
    for k in 0..256 {
        if sample(2 * k) < sample(2 * k + 1) {
            code[k / 64] |= 1 << (k % 64);
        }
    }
    code
}

/// Buffers [`detect`] reuses from one image to the next (a few megabytes at most: each
/// holds at most the base image, whose longer side is [`BASE_SIDE`]).
#[derive(Default)]
struct Scratch {
    base: Vec<f32>,
    level: Vec<f32>,
    smooth: Vec<f32>,
    tmp: Vec<f32>,
    xx: Vec<f32>,
    yy: Vec<f32>,
    xy: Vec<f32>,
    crop: Vec<f32>,
    corners: Vec<(f32, usize, usize)>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Whether the CPU has AVX2: the workspace builds for baseline x86-64 (SSE2), and the
/// filters run twice as wide with it. Detected once.
#[cfg(target_arch = "x86_64")]
fn has_avx2() -> bool {
    static KNOWN: OnceLock<bool> = OnceLock::new();
    *KNOWN.get_or_init(|| std::arch::is_x86_feature_detected!("avx2"))
}

/// The features of a grey image given as `f32` luminance.
pub fn detect(width: usize, height: usize, luma: &[f32]) -> Features {
    detect_timed(width, height, luma, &mut |_, _| {})
}

/// [`detect`], calling `lap(level, step)` as each step ends (`level` is `None` before the
/// pyramid), so that a benchmark can say where the time goes.
pub fn detect_timed(
    width: usize,
    height: usize,
    luma: &[f32],
    lap: &mut dyn FnMut(Option<usize>, &'static str),
) -> Features {
    assert_eq!(luma.len(), width * height, "luma buffer size");
    SCRATCH.with(|cell| {
        let scratch = &mut *cell.borrow_mut();
        #[cfg(target_arch = "x86_64")]
        if has_avx2() {
            // SAFETY: the CPU has AVX2.
            return unsafe { detect_avx2(width, height, luma, lap, scratch) };
        }
        detect_with(width, height, luma, lap, scratch)
    })
}

/// [`detect_with`] compiled for AVX2. The arithmetic is the same, operation for operation
/// (Rust never fuses a multiply and an add on its own), so the features are identical.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn detect_avx2(
    width: usize,
    height: usize,
    luma: &[f32],
    lap: &mut dyn FnMut(Option<usize>, &'static str),
    scratch: &mut Scratch,
) -> Features {
    detect_with(width, height, luma, lap, scratch)
}

#[inline(always)]
fn detect_with(
    width: usize,
    height: usize,
    luma: &[f32],
    lap: &mut dyn FnMut(Option<usize>, &'static str),
    s: &mut Scratch,
) -> Features {
    // Small images are enlarged too, so that a copy at a quarter of the size still has
    // corners at the scales of the original's.
    let shrink = width.max(height) as f32 / BASE_SIDE as f32;
    let (bw, bh) = (
        ((width as f32 / shrink).round() as usize).max(1),
        ((height as f32 / shrink).round() as usize).max(1),
    );
    let Scratch { base, level: level_buf, smooth, tmp, xx, yy, xy, crop, corners } = s;
    if (bw, bh) == (width, height) {
        base.clear();
        base.extend_from_slice(luma);
    } else {
        resize_area_into(width, height, luma, bw, bh, tmp, base);
        // Its scratch holds every row of the original, narrowed: not worth keeping.
        if tmp.capacity() > 2 * bw * bh {
            *tmp = Vec::new();
        }
    }
    lap(None, "resize to base");
    let mut out =
        Features { width: bw as u32, height: bh as u32, features: Vec::with_capacity(MAX_FEATURES + LEVELS) };
    // Quotas per level in proportion to its area, as ORB does.
    let areas: Vec<f32> = (0..LEVELS).map(|l| LEVEL_SCALE.powi(-2 * l as i32)).collect();
    let total: f32 = areas.iter().sum();
    for (level, area) in areas.iter().enumerate() {
        let scale = LEVEL_SCALE.powi(level as i32);
        let (lw, lh) = ((bw as f32 / scale).round() as usize, (bh as f32 / scale).round() as usize);
        if lw <= 2 * MARGIN + 2 || lh <= 2 * MARGIN + 2 {
            break;
        }
        let n = lw * lh;
        let grey: &[f32] = if level == 0 {
            base
        } else {
            resize_area_into(bw, bh, base, lw, lh, tmp, level_buf);
            level_buf
        };
        for b in [&mut *smooth, &mut *tmp, &mut *xx, &mut *yy, &mut *xy] {
            b.resize(n, 0.0);
        }
        lap(Some(level), "resize");
        // Responses are needed from `MARGIN` − 2 in (the corners' 5 × 5 neighbourhoods) and
        // depend on pixels up to 5 away (Sobel 1, two blurs of 2): on a crop leaving `CUT` on
        // each side they come out the same as on the whole level, without the clamped edges'
        // work.
        const CUT: usize = MARGIN - 7;
        let (cw, ch) = (lw - 2 * CUT, lh - 2 * CUT);
        let cn = cw * ch;
        crop.clear();
        for row in grey.chunks_exact(lw).skip(CUT).take(ch) {
            crop.extend_from_slice(&row[CUT..lw - CUT]);
        }
        harris(crop, cw, ch, [&mut xx[..cn], &mut yy[..cn], &mut xy[..cn], &mut tmp[..cn]]);
        lap(Some(level), "harris");
        blur_twice(grey, &mut smooth[..n], &mut tmp[..n], lw, lh);
        lap(Some(level), "blur");
        maxima((MARGIN - CUT, CUT), &xx[..cn], cw, ch, &mut tmp[..cn], &mut yy[..cw], corners);
        let quota = ((MAX_FEATURES as f32 * area / total).ceil() as usize).max(1);
        // The strongest first; among equals, the first in scan order.
        let order = |a: &(f32, usize, usize), b: &(f32, usize, usize)| {
            b.0.total_cmp(&a.0).then((a.2, a.1).cmp(&(b.2, b.1)))
        };
        if corners.len() > quota {
            corners.select_nth_unstable_by(quota, order);
            corners.truncate(quota);
        }
        corners.sort_unstable_by(order);
        lap(Some(level), "NMS + select");
        let angles: Vec<f32> = corners.iter().map(|&(_, x, y)| orientation(smooth, lw, x, y)).collect();
        lap(Some(level), "orientation");
        for (&(_, x, y), &angle) in corners.iter().zip(&angles) {
            out.features.push(Feature {
                x: x as f32 * bw as f32 / lw as f32,
                y: y as f32 * bh as f32 / lh as f32,
                scale,
                angle,
                descriptor: descriptor(smooth, lw, x, y, angle),
            });
        }
        lap(Some(level), "descriptor");
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
    let pairs = clear_matches(query, work);
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

/// Each query feature's nearest work feature by descriptor, `(query index, work index)`,
/// when it is near (80 bits or fewer) and clearly nearer than the second nearest.
fn clear_matches(query: &Features, work: &Features) -> Vec<(usize, usize)> {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("popcnt") {
        // SAFETY: the CPU has POPCNT.
        return unsafe { clear_matches_popcnt(query, work) };
    }
    clear_matches_with(query, work)
}

/// [`clear_matches_with`] with `count_ones` as one instruction rather than a dozen (the
/// workspace builds for baseline x86-64).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "popcnt")]
fn clear_matches_popcnt(query: &Features, work: &Features) -> Vec<(usize, usize)> {
    clear_matches_with(query, work)
}

#[inline(always)]
fn clear_matches_with(query: &Features, work: &Features) -> Vec<(usize, usize)> {
    let mut pairs = Vec::new();
    for (qi, q) in query.features.iter().enumerate() {
        let q = &q.descriptor;
        let (mut best, mut second, mut at) = (u32::MAX, u32::MAX, 0);
        for (wi, w) in work.features.iter().enumerate() {
            let w = &w.descriptor;
            let d = (q[0] ^ w[0]).count_ones()
                + (q[1] ^ w[1]).count_ones()
                + (q[2] ^ w[2]).count_ones()
                + (q[3] ^ w[3]).count_ones();
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
    pairs
}
