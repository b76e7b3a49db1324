//! Everything handprint searches an image by: the PDQ hash with its dihedral variants, PDQ of
//! the image without its uniform borders, and local features. (pHash, kept with registered
//! works for interoperability, is not searched: see `phash`.)

use crate::decode::Rgb;
use crate::features::{self, Feature, Features};
use crate::pdq::{self, Dihedral, Pdq};

#[derive(Clone, Debug, PartialEq)]
pub struct Fingerprint {
    pub width: u32,
    pub height: u32,
    pub pdq: Dihedral,
    /// PDQ of the image with uniform borders removed (letterboxing, frames, padding), when
    /// it has any: `[left, top, right, bottom]` kept, and the hash.
    pub trimmed: Option<([u32; 4], Pdq)>,
    pub features: Features,
}

pub fn fingerprint(image: &Rgb) -> Fingerprint {
    let (w, h) = (image.width as usize, image.height as usize);
    let luma = pdq::luma_from_rgb(&image.pixels);
    let trimmed = trim(image).map(|r @ [l, t, rr, b]| {
        let (cw, ch) = ((rr - l) as usize, (b - t) as usize);
        let mut crop = Vec::with_capacity(cw * ch);
        for y in t as usize..b as usize {
            crop.extend_from_slice(&luma[y * w + l as usize..][..cw]);
        }
        (r, pdq::from_luma(cw, ch, &crop))
    });
    Fingerprint {
        width: image.width,
        height: image.height,
        pdq: pdq::dihedral_from_luma(w, h, &luma),
        trimmed,
        features: features::detect(w, h, &luma),
    }
}

/// The rectangle left after removing uniform borders (rows or columns whose every pixel is
/// within a small tolerance of one colour, the same on all of them), if at least 2% of a
/// side goes. Never more than a third of a side from each edge.
pub fn trim(image: &Rgb) -> Option<[u32; 4]> {
    let (w, h) = (image.width as usize, image.height as usize);
    let px = |x: usize, y: usize| &image.pixels[(y * w + x) * 3..][..3];
    let near = |a: &[u8], b: &[u8]| a.iter().zip(b).all(|(a, b)| a.abs_diff(*b) <= 16);
    let uniform_row = |y: usize, colour: &[u8]| (0..w).all(|x| near(px(x, y), colour));
    let uniform_col = |x: usize, colour: &[u8]| (0..h).all(|y| near(px(x, y), colour));
    let mut top = 0;
    let colour = px(0, 0).to_vec();
    while top < h / 3 && uniform_row(top, &colour) {
        top += 1;
    }
    let colour = px(0, h - 1).to_vec();
    let mut bottom = h;
    while h - bottom < h / 3 && uniform_row(bottom - 1, &colour) {
        bottom -= 1;
    }
    let colour = px(0, h / 2).to_vec();
    let mut left = 0;
    while left < w / 3 && uniform_col(left, &colour) {
        left += 1;
    }
    let colour = px(w - 1, h / 2).to_vec();
    let mut right = w;
    while w - right < w / 3 && uniform_col(right - 1, &colour) {
        right -= 1;
    }
    let significant = (top + h - bottom) * 50 >= h || (left + w - right) * 50 >= w;
    (significant && right > left + 16 && bottom > top + 16).then_some([
        left as u32,
        top as u32,
        right as u32,
        bottom as u32,
    ])
}

/// A smaller copy (area-averaged), the longer side at most `max_side`.
pub fn thumbnail(image: &Rgb, max_side: u32) -> Rgb {
    let long = image.width.max(image.height);
    if long <= max_side {
        return image.clone();
    }
    let nw = ((image.width as u64 * max_side as u64).div_ceil(long as u64) as u32).max(1);
    let nh = ((image.height as u64 * max_side as u64).div_ceil(long as u64) as u32).max(1);
    let (w, h) = (image.width as usize, image.height as usize);
    let channels: Vec<Vec<f32>> = (0..3)
        .map(|c| {
            let plane: Vec<f32> = image.pixels.iter().skip(c).step_by(3).map(|&v| v as f32).collect();
            features::resize_area(w, h, &plane, nw as usize, nh as usize)
        })
        .collect();
    let pixels = (0..nw as usize * nh as usize)
        .flat_map(|i| channels.iter().map(move |p| p[i].round().clamp(0.0, 255.0) as u8).collect::<Vec<_>>())
        .collect();
    Rgb { width: nw, height: nh, pixels }
}

/// Features as stored: `width` and `height` (u32 little-endian), then per feature `x`, `y`,
/// `scale`, `angle` (f32 little-endian) and the descriptor (32 bytes, word 0 first, each
/// word little-endian). 8 + 48·n bytes.
pub fn features_to_bytes(f: &Features) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + 48 * f.features.len());
    out.extend_from_slice(&f.width.to_le_bytes());
    out.extend_from_slice(&f.height.to_le_bytes());
    for p in &f.features {
        for v in [p.x, p.y, p.scale, p.angle] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        for w in p.descriptor {
            out.extend_from_slice(&w.to_le_bytes());
        }
    }
    out
}

pub fn features_from_bytes(b: &[u8]) -> Option<Features> {
    if b.len() < 8 || !(b.len() - 8).is_multiple_of(48) {
        return None;
    }
    let u32_at = |i: usize| u32::from_le_bytes(b[i..i + 4].try_into().expect("4 bytes"));
    let f32_at = |i: usize| f32::from_le_bytes(b[i..i + 4].try_into().expect("4 bytes"));
    let u64_at = |i: usize| u64::from_le_bytes(b[i..i + 8].try_into().expect("8 bytes"));
    let features = (8..b.len())
        .step_by(48)
        .map(|o| Feature {
            x: f32_at(o),
            y: f32_at(o + 4),
            scale: f32_at(o + 8),
            angle: f32_at(o + 12),
            descriptor: std::array::from_fn(|w| u64_at(o + 16 + 8 * w)),
        })
        .collect();
    Some(Features { width: u32_at(0), height: u32_at(4), features })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gradient(w: u32, h: u32) -> Rgb {
        // Blocks of pseudo-random colours: corners everywhere, no uniform edge.
        let v = |x: u32, y: u32, k: u32| ((x / 8 * 13 + y / 8 * 29 + k * 7) * 37 % 251) as u8;
        let pixels =
            (0..h).flat_map(|y| (0..w).flat_map(move |x| [v(x, y, 0), v(x, y, 1), v(x, y, 2)])).collect();
        Rgb { width: w, height: h, pixels }
    }

    #[test]
    fn trim_finds_a_letterbox_and_nothing_in_a_plain_picture() {
        let inner = gradient(100, 60);
        assert_eq!(trim(&inner), None);
        let mut boxed = Rgb { width: 100, height: 80, pixels: vec![0; 100 * 80 * 3] };
        boxed.pixels[100 * 10 * 3..100 * 70 * 3].copy_from_slice(&inner.pixels);
        assert_eq!(trim(&boxed), Some([0, 10, 100, 70]));
    }

    #[test]
    fn features_survive_their_byte_form() {
        let f = features::detect(200, 150, &pdq::luma_from_rgb(&gradient(200, 150).pixels));
        assert!(f.features.len() > 20, "{} features", f.features.len());
        let back = features_from_bytes(&features_to_bytes(&f)).expect("parses");
        assert_eq!(back, f);
        assert_eq!(features_from_bytes(&[1, 2, 3]), None);
    }

    #[test]
    fn thumbnail_keeps_the_aspect_ratio() {
        let t = thumbnail(&gradient(400, 100), 64);
        assert_eq!((t.width, t.height), (64, 16));
        assert_eq!(t.pixels.len(), 64 * 16 * 3);
    }
}
