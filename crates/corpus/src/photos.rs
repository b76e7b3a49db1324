//! Real photos in: folders of images read in a fixed order, cut into tiles, and the transforms
//! a copy of a tile goes through on its way to a query.

use std::path::{Path, PathBuf};

use fingerprint::decode::{self, Limits, Rgb};
use fingerprint::prints;

use crate::CorpusError;

/// Photos are reduced to this longer side when read: tiles are at most 768 pixels, and the
/// finest grid cuts a side in three.
pub const MAX_PHOTO_SIDE: u32 = 2560;
/// The most a photo's longer side may be of its shorter.
pub const MAX_ASPECT: u32 = 16;
/// Tiles are resized so that their longer side lies in this range, as a registered web image.
pub const TILE_SIDE: (u32, u32) = (512, 768);
/// The grids a photo is cut by: the whole photo, 2 × 2 and 3 × 3 tiles.
pub const GRIDS: [u32; 3] = [1, 2, 3];

/// A photo: the family its tiles and crops belong to.
#[derive(Clone, Debug)]
pub struct Photo {
    /// The folder's own name and the file's path inside it, `/`-separated.
    pub name: String,
    pub image: Rgb,
}

const EXTENSIONS: [&str; 5] = ["png", "jpg", "jpeg", "webp", "gif"];

/// Every image file under `folders` (PNG, JPEG, WebP, GIF by extension), as (name, path),
/// sorted by name; other files are passed over. Names are the folder's own name and the
/// file's path inside it.
pub fn list_folders(folders: &[PathBuf]) -> Result<Vec<(String, PathBuf)>, CorpusError> {
    let mut files = Vec::new();
    for folder in folders {
        if !folder.is_dir() {
            return Err(CorpusError::Folder { path: folder.clone() });
        }
        let label = folder.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        for entry in walkdir::WalkDir::new(folder).follow_links(true).sort_by_file_name() {
            let entry = entry.map_err(|e| CorpusError::Io {
                path: e.path().map(Path::to_path_buf).unwrap_or_else(|| folder.clone()),
                message: e.to_string(),
            })?;
            let path = entry.path();
            let image = path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()));
            if entry.file_type().is_file() && image {
                let inside = path.strip_prefix(folder).unwrap_or(path).to_string_lossy().replace('\\', "/");
                files.push((format!("{label}/{inside}"), path.to_path_buf()));
            }
        }
    }
    files.sort();
    files.dedup_by(|a, b| a.0 == b.0);
    Ok(files)
}

/// Every image under `folders` ([`list_folders`]), decoded and reduced to
/// [`MAX_PHOTO_SIDE`]. A file with an image extension that does not decode is an error naming
/// it.
pub fn read_folders(folders: &[PathBuf]) -> Result<Vec<Photo>, CorpusError> {
    list_folders(folders)?
        .into_iter()
        .map(|(name, path)| Ok(Photo { name, image: read_photo(&path)? }))
        .collect()
}

/// One photo, reduced to [`MAX_PHOTO_SIDE`].
pub fn read_photo(path: &Path) -> Result<Rgb, CorpusError> {
    let bytes =
        std::fs::read(path).map_err(|e| CorpusError::Io { path: path.into(), message: e.to_string() })?;
    let decoded = decode::decode(&bytes, &Limits::DEFAULT)
        .map_err(|e| CorpusError::Image { path: path.into(), message: e.to_string() })?;
    let (w, h) = (decoded.image.width, decoded.image.height);
    // Crops are hashed with the longer side at 1,024 and are at least 32 pixels a side.
    if w.max(h) > MAX_ASPECT * w.min(h) {
        return Err(CorpusError::Image {
            path: path.into(),
            message: format!(
                "{w} × {h} is a strip, not a photo: the longer side is over {MAX_ASPECT} times the shorter"
            ),
        });
    }
    Ok(prints::thumbnail(&decoded.image, MAX_PHOTO_SIDE))
}

/// The rectangle `[x, y, w, h]` of an image.
pub fn crop(image: &Rgb, [x, y, w, h]: [u32; 4]) -> Rgb {
    let mut pixels = Vec::with_capacity(w as usize * h as usize * 3);
    for row in y..y + h {
        let start = (row as usize * image.width as usize + x as usize) * 3;
        pixels.extend_from_slice(&image.pixels[start..start + w as usize * 3]);
    }
    Rgb { width: w, height: h, pixels }
}

/// Bilinear resize to `nw × nh` (sample centres aligned): for enlarging; shrinking goes
/// through [`prints::thumbnail`], which averages.
pub fn enlarge(image: &Rgb, nw: u32, nh: u32) -> Rgb {
    let (w, h) = (image.width as usize, image.height as usize);
    let src = |x: usize, y: usize, c: usize| image.pixels[(y * w + x) * 3 + c] as f32;
    let mut pixels = Vec::with_capacity(nw as usize * nh as usize * 3);
    for oy in 0..nh as usize {
        let fy = ((oy as f32 + 0.5) * h as f32 / nh as f32 - 0.5).clamp(0.0, (h - 1) as f32);
        let (y0, ty) = (fy.floor() as usize, fy.fract());
        let y1 = (y0 + 1).min(h - 1);
        for ox in 0..nw as usize {
            let fx = ((ox as f32 + 0.5) * w as f32 / nw as f32 - 0.5).clamp(0.0, (w - 1) as f32);
            let (x0, tx) = (fx.floor() as usize, fx.fract());
            let x1 = (x0 + 1).min(w - 1);
            for c in 0..3 {
                let top = src(x0, y0, c) * (1.0 - tx) + src(x1, y0, c) * tx;
                let bottom = src(x0, y1, c) * (1.0 - tx) + src(x1, y1, c) * tx;
                pixels.push((top * (1.0 - ty) + bottom * ty).round().clamp(0.0, 255.0) as u8);
            }
        }
    }
    Rgb { width: nw, height: nh, pixels }
}

/// Resized so the longer side lies in [`TILE_SIDE`].
pub fn to_tile_size(image: &Rgb) -> Rgb {
    let long = image.width.max(image.height);
    if long > TILE_SIDE.1 {
        prints::thumbnail(image, TILE_SIDE.1)
    } else if long < TILE_SIDE.0 {
        let scale = TILE_SIDE.0 as f64 / long as f64;
        let side = |d: u32| ((d as f64 * scale).round() as u32).max(1);
        enlarge(image, side(image.width), side(image.height))
    } else {
        image.clone()
    }
}

/// The tiles of a photo in the photo's pixels, `[x, y, w, h]`: for each grid of [`GRIDS`],
/// its cells row by row (the cells of one grid do not overlap).
pub fn tile_rects(width: u32, height: u32) -> Vec<[u32; 4]> {
    let mut out = Vec::new();
    for n in GRIDS {
        let (w, h) = (width / n, height / n);
        if w < 64 || h < 64 {
            continue;
        }
        for r in 0..n {
            for c in 0..n {
                out.push([c * w, r * h, w, h]);
            }
        }
    }
    out
}

/// What a copy of a tile went through before it was searched for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Transform {
    /// Half the size.
    Half,
    /// The central 90 % (of each side).
    Crop90,
    /// Brighter (+12), more contrast (×1.1), gamma 0.9.
    Tone,
    /// Re-encoded as JPEG at quality 50.
    Jpeg50,
    /// A 3 × 3 box blur.
    Blur,
    /// The top-left 80 % of each side, at half the size.
    Crop80Half,
}

impl Transform {
    pub const ALL: [Transform; 6] = [
        Transform::Half,
        Transform::Crop90,
        Transform::Tone,
        Transform::Jpeg50,
        Transform::Blur,
        Transform::Crop80Half,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Transform::Half => "half",
            Transform::Crop90 => "crop90",
            Transform::Tone => "tone",
            Transform::Jpeg50 => "jpeg50",
            Transform::Blur => "blur",
            Transform::Crop80Half => "crop80-half",
        }
    }

    pub fn code(self) -> u8 {
        Transform::ALL.iter().position(|&t| t == self).expect("listed") as u8
    }

    pub fn from_code(code: u8) -> Option<Transform> {
        Transform::ALL.get(code as usize).copied()
    }

    pub fn apply(self, image: &Rgb) -> Rgb {
        let (w, h) = (image.width, image.height);
        let half = |i: &Rgb| prints::thumbnail(i, i.width.max(i.height) / 2);
        match self {
            Transform::Half => half(image),
            Transform::Crop90 => crop(image, [w / 20, h / 20, w - w / 10, h - h / 10]),
            Transform::Tone => {
                let pixels = image
                    .pixels
                    .iter()
                    .map(|&v| {
                        let g = 255.0 * (v as f32 / 255.0).powf(0.9);
                        ((g - 128.0) * 1.1 + 128.0 + 12.0).round().clamp(0.0, 255.0) as u8
                    })
                    .collect();
                Rgb { width: w, height: h, pixels }
            }
            Transform::Jpeg50 => jpeg(image, 50),
            Transform::Blur => blur(image),
            Transform::Crop80Half => half(&crop(image, [0, 0, w * 4 / 5, h * 4 / 5])),
        }
    }
}

/// JPEG at `quality` and back. Anything that goes wrong leaves the image as it was (tiles are
/// small and RGB: the encoder has no reason to fail).
fn jpeg(image: &Rgb, quality: u8) -> Rgb {
    let mut bytes = Vec::new();
    let encoder = jpeg_encoder::Encoder::new(&mut bytes, quality);
    let encoded =
        encoder.encode(&image.pixels, image.width as u16, image.height as u16, jpeg_encoder::ColorType::Rgb);
    match encoded.ok().and_then(|_| decode::decode(&bytes, &Limits::DEFAULT).ok()) {
        Some(d) => d.image,
        None => image.clone(),
    }
}

fn blur(image: &Rgb) -> Rgb {
    let (w, h) = (image.width as i64, image.height as i64);
    let at = |x: i64, y: i64, c: usize| {
        image.pixels[((y.clamp(0, h - 1) * w + x.clamp(0, w - 1)) * 3) as usize + c] as u32
    };
    let mut pixels = Vec::with_capacity(image.pixels.len());
    for y in 0..h {
        for x in 0..w {
            for c in 0..3 {
                let s: u32 = (-1..=1)
                    .flat_map(|dy| (-1..=1).map(move |dx| (dx, dy)))
                    .map(|(dx, dy)| at(x + dx, y + dy, c))
                    .sum();
                pixels.push(((s + 4) / 9) as u8);
            }
        }
    }
    Rgb { width: image.width, height: image.height, pixels }
}
