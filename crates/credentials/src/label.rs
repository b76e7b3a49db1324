//! The explicit label GB 45438-2025 asks of AI-generated images: a prompt people can see,
//! in a corner, its text at least 5% of the image's shorter side high.
//!
//! White text on a dark, slightly transparent box in the bottom-right corner, drawn with a
//! subset of Noto Sans CJK SC Bold embedded in the binary (assets/README.md).

use ab_glyph::{Font, FontRef, PxScale, ScaleFont, point};

use crate::CredentialsError;

/// The label written when none is given: "AI-generated".
pub const DEFAULT_TEXT: &str = "AI生成";
/// The text's height (ink of the tallest glyph) as a share of the shorter side.
pub const MIN_HEIGHT: f32 = 0.05;

static FONT: &[u8] = include_bytes!("../assets/label-font.otf");

/// Where a label was drawn, in pixels: `[left, top, right, bottom]` of its box, and the
/// height of its text's ink.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Drawn {
    pub bounds: [u32; 4],
    pub text_height: u32,
}

/// Draws `text` into 8-bit pixels with `channels` of 1 to 4 (alpha is made opaque under the
/// box). Refuses characters the embedded font does not have, and images too small to hold it.
pub fn draw(
    width: u32,
    height: u32,
    channels: usize,
    pixels: &mut [u8],
    text: &str,
) -> Result<Drawn, CredentialsError> {
    let font = FontRef::try_from_slice(FONT).expect("the embedded font parses");
    if text.trim().is_empty() {
        return Err(CredentialsError::Label("the label text is empty".into()));
    }
    if let Some(c) = text.chars().find(|&c| c != ' ' && font.glyph_id(c).0 == 0) {
        return Err(CredentialsError::Label(format!(
            "{c:?} is not in the label font (it has ASCII and 生成合人工智能内容由标识)"
        )));
    }
    let short = width.min(height) as f32;
    // Scale so that the tallest glyph's ink is the wanted height.
    let target = (short * MIN_HEIGHT).ceil().max(10.0) + 1.0;
    let probe = font.as_scaled(PxScale::from(100.0));
    let (mut top, mut bottom) = (f32::MAX, f32::MIN);
    for c in text.chars().filter(|&c| c != ' ') {
        if let Some(o) = probe.outline_glyph(probe.scaled_glyph(c)) {
            top = top.min(o.px_bounds().min.y);
            bottom = bottom.max(o.px_bounds().max.y);
        }
    }
    let scale = PxScale::from(100.0 * target / (bottom - top).max(1.0) * 1.02);
    let f = font.as_scaled(scale);
    let advance: f32 = text.chars().map(|c| f.h_advance(f.glyph_id(c))).sum();
    let pad = (target * 0.35).ceil();
    let margin = (short * 0.02).ceil();
    let (box_w, box_h) = ((advance + 2.0 * pad).ceil(), (target + 2.0 * pad).ceil());
    if box_w + 2.0 * margin > width as f32 || box_h + 2.0 * margin > height as f32 {
        return Err(CredentialsError::Label(format!(
            "{width} × {height} is too small for the label {text:?}"
        )));
    }
    let left = width as f32 - margin - box_w;
    let top_px = height as f32 - margin - box_h;
    let bounds = [left as u32, top_px as u32, (left + box_w) as u32, (top_px + box_h) as u32];
    let colour = if channels >= 3 { 3 } else { 1 };
    let blend = |pixels: &mut [u8], x: u32, y: u32, value: f32, alpha: f32| {
        let i = (y as usize * width as usize + x as usize) * channels;
        for c in &mut pixels[i..i + colour] {
            *c = (*c as f32 * (1.0 - alpha) + value * alpha).round() as u8;
        }
        if channels == 2 || channels == 4 {
            pixels[i + channels - 1] = 255;
        }
    };
    for y in bounds[1]..bounds[3] {
        for x in bounds[0]..bounds[2] {
            blend(pixels, x, y, 0.0, 0.6);
        }
    }
    // The baseline sits so that the ink's top is `pad` below the box's top.
    let baseline = top_px + pad - top * scale.y / 100.0;
    let mut pen = left + pad;
    let (mut ink_top, mut ink_bottom) = (u32::MAX, 0u32);
    for c in text.chars() {
        let glyph = f.scaled_glyph(c).with_position_of(point(pen, baseline));
        pen += f.h_advance(f.glyph_id(c));
        if let Some(o) = font.outline_glyph(glyph) {
            let b = o.px_bounds();
            o.draw(|gx, gy, coverage| {
                let (x, y) = (b.min.x as i64 + gx as i64, b.min.y as i64 + gy as i64);
                if coverage > 0.0 && x >= 0 && y >= 0 && (x as u32) < width && (y as u32) < height {
                    blend(pixels, x as u32, y as u32, 255.0, coverage.min(1.0));
                    if coverage > 0.5 {
                        ink_top = ink_top.min(y as u32);
                        ink_bottom = ink_bottom.max(y as u32 + 1);
                    }
                }
            });
        }
    }
    Ok(Drawn { bounds, text_height: ink_bottom.saturating_sub(ink_top) })
}

trait WithPosition {
    fn with_position_of(self, p: ab_glyph::Point) -> Self;
}

impl WithPosition for ab_glyph::Glyph {
    fn with_position_of(mut self, p: ab_glyph::Point) -> Self {
        self.position = p;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grey(w: u32, h: u32) -> Vec<u8> {
        vec![128; (w * h * 3) as usize]
    }

    #[test]
    fn the_default_label_is_in_the_corner_and_tall_enough() {
        for (w, h) in [(512, 384), (1024, 1024), (300, 900)] {
            let mut px = grey(w, h);
            let d = draw(w, h, 3, &mut px, DEFAULT_TEXT).unwrap();
            let short = w.min(h) as f32;
            assert!(d.text_height as f32 >= MIN_HEIGHT * short, "{w}×{h}: {d:?}");
            assert!(d.text_height as f32 <= MIN_HEIGHT * short * 1.3, "{w}×{h}: {d:?}");
            assert!(
                d.bounds[2] <= w && d.bounds[3] <= h && d.bounds[0] > w / 2 && d.bounds[1] > h / 2,
                "{d:?}"
            );
            // White ink inside the box, untouched pixels outside it.
            let at = |x: u32, y: u32| px[((y * w + x) * 3) as usize];
            let inside = (d.bounds[1]..d.bounds[3])
                .flat_map(|y| (d.bounds[0]..d.bounds[2]).map(move |x| (x, y)))
                .filter(|&(x, y)| at(x, y) > 200)
                .count();
            assert!(inside > 50, "{inside} white pixels");
            assert_eq!(at(0, 0), 128);
            assert_eq!(at(d.bounds[0] - 1, d.bounds[3] - 1), 128);
        }
    }

    #[test]
    fn unknown_characters_and_tiny_images_are_refused() {
        let mut px = grey(512, 384);
        let err = draw(512, 384, 3, &mut px, "AI創作").unwrap_err().to_string();
        assert!(err.contains("'創'"), "{err}");
        let mut small = grey(40, 40);
        assert!(draw(40, 40, 3, &mut small, "人工智能合成内容").is_err());
        let mut rgba = vec![0u8; 400 * 300 * 4];
        draw(400, 300, 4, &mut rgba, "AI-generated").unwrap();
        assert!(rgba.chunks(4).any(|p| p[3] == 255 && p[0] > 200));
    }
}
