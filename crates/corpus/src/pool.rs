//! The pool: everything real the generator draws from, built once from folders of photos and
//! kept in a file.
//!
//! - Tiles: each photo cut by [`photos::GRIDS`], each tile resized to a web image's size and
//!   fingerprinted with [`fingerprint::prints::fingerprint`], as a registered work is.
//! - Code sets: the nine global codes of a work, in [`Variant::ALL`] order. The tiles' sets
//!   come first; then sets of random crops of the photos (a side 30–100 % of the photo's,
//!   any position, mild brightness, contrast and gamma), which are cheap (PDQ alone, on the
//!   photo reduced to 1024 pixels) and so give 100,000 real sets in a minute. The ninth code
//!   stands for PDQ without borders: the reference's `trim` finds none in a photo, so it is
//!   PDQ of the same picture without a 2–10 % margin, which is what a framed work's trimmed
//!   code is to its original.
//! - Planted copies: each tile through each [`Transform`], and the PDQ of the result: real
//!   near-copies with their real distances.
//!
//! Every item is drawn from its own seeded generator, so a pool is the same for the same
//! photos and seed on every machine, whatever the number of threads.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use fingerprint::catalog::{Variant, code, work_codes};
use fingerprint::features::Features;
use fingerprint::index::Code;
use fingerprint::pdq;
use fingerprint::prints;
use rayon::prelude::*;

use crate::CorpusError;
use crate::photos::{self, Photo, Transform};
use crate::rng::Rng;

/// What a pool is built with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct PoolConfig {
    pub seed: u64,
    /// Crop code sets wanted in all, shared evenly among the photos.
    pub crop_sets: u64,
}

impl Default for PoolConfig {
    fn default() -> Self {
        PoolConfig { seed: 1, crop_sets: 120_000 }
    }
}

/// A tile of a photo, fingerprinted. Its code set is `Pool::sets[index of the tile]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Tile {
    pub family: u32,
    /// `[x, y, w, h]` in the photo as read (reduced to [`photos::MAX_PHOTO_SIDE`]).
    pub rect: [u32; 4],
    pub features: Features,
}

/// The nine global codes of a work, in [`Variant::ALL`] order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CodeSet {
    pub family: u32,
    pub codes: [Code; 9],
}

impl CodeSet {
    pub fn original(&self) -> &Code {
        &self.codes[0]
    }

    pub fn with_variants(&self) -> Vec<(Variant, Code)> {
        Variant::ALL.iter().copied().zip(self.codes).collect()
    }
}

/// A tile after a transform: the PDQ (original variant) of what a copier would post.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlantedCopy {
    pub tile: u32,
    pub transform: Transform,
    pub code: Code,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Pool {
    pub config: PoolConfig,
    /// The photos, by name: a family is an index here.
    pub families: Vec<String>,
    pub tiles: Vec<Tile>,
    /// The tiles' sets (one per tile, same order), then the crops'.
    pub sets: Vec<CodeSet>,
    pub copies: Vec<PlantedCopy>,
}

/// The photo's longer side when crops are hashed.
const CROP_SOURCE_SIDE: u32 = 1024;

impl Pool {
    /// Builds a pool from photos, on all cores.
    pub fn build(photos: &[Photo], config: &PoolConfig) -> Result<Pool, CorpusError> {
        if photos.is_empty() {
            return Err(CorpusError::NoPhotos);
        }
        let rects: Vec<(u32, [u32; 4])> = photos
            .iter()
            .enumerate()
            .flat_map(|(f, p)| {
                photos::tile_rects(p.image.width, p.image.height).into_iter().map(move |r| (f as u32, r))
            })
            .collect();
        let tiled: Vec<(Tile, CodeSet, Vec<PlantedCopy>)> = rects
            .par_iter()
            .enumerate()
            .map(|(t, &(family, rect))| {
                let image = photos::to_tile_size(&photos::crop(&photos[family as usize].image, rect));
                let mut rng = Rng::for_item(config.seed ^ 0x7115, t as u64);
                let print = prints::fingerprint(&image);
                let mut codes = [[0u64; 4]; 9];
                for (slot, (_, c)) in codes.iter_mut().zip(work_codes(&print)) {
                    *slot = c;
                }
                let luma = pdq::luma_from_rgb(&image.pixels);
                codes[8] = match &print.trimmed {
                    Some((_, t)) => code(&t.hash),
                    None => inner_code(image.width as usize, image.height as usize, &luma, &mut rng),
                };
                let copies = Transform::ALL
                    .iter()
                    .map(|&transform| {
                        let copy = transform.apply(&image);
                        let d = pdq::from_rgb(copy.width as usize, copy.height as usize, &copy.pixels);
                        PlantedCopy { tile: t as u32, transform, code: code(&d.hash) }
                    })
                    .collect();
                (Tile { family, rect, features: print.features }, CodeSet { family, codes }, copies)
            })
            .collect();
        let per_photo = config.crop_sets.div_ceil(photos.len() as u64);
        let sources: Vec<(usize, usize, Vec<f32>)> = photos
            .par_iter()
            .map(|p| {
                let small = prints::thumbnail(&p.image, CROP_SOURCE_SIDE);
                (small.width as usize, small.height as usize, pdq::luma_from_rgb(&small.pixels))
            })
            .collect();
        let crops: Vec<CodeSet> = (0..photos.len() as u64 * per_photo)
            .into_par_iter()
            .map(|k| {
                let family = (k / per_photo) as usize;
                let (w, h, luma) = &sources[family];
                crop_set(family as u32, *w, *h, luma, &mut Rng::for_item(config.seed, k))
            })
            .collect();
        let mut tiles = Vec::with_capacity(tiled.len());
        let mut sets = Vec::with_capacity(tiled.len() + crops.len());
        let mut copies = Vec::new();
        for (tile, set, c) in tiled {
            tiles.push(tile);
            sets.push(set);
            copies.extend(c);
        }
        // The same crop twice would be two works with one picture: keep the first.
        let mut seen: HashSet<Code> = sets.iter().map(|s| s.codes[0]).collect();
        sets.extend(crops.into_iter().filter(|s| seen.insert(s.codes[0])));
        Ok(Pool {
            config: *config,
            families: photos.iter().map(|p| p.name.clone()).collect(),
            tiles,
            sets,
            copies,
        })
    }

    /// Builds a pool from every photo under `folders` ([`photos::read_folders`]).
    pub fn from_folders(folders: &[PathBuf], config: &PoolConfig) -> Result<Pool, CorpusError> {
        Pool::build(&photos::read_folders(folders)?, config)
    }

    /// The pool in `path` if it was built from the same photo names and config, else built
    /// from `folders` and written there. Says which on the returned flag (`true`: built).
    pub fn load_or_build(
        path: &Path,
        folders: &[PathBuf],
        config: &PoolConfig,
    ) -> Result<(Pool, bool), CorpusError> {
        let names: Vec<String> = photos::list_folders(folders)?.into_iter().map(|(n, _)| n).collect();
        if path.exists()
            && let Ok(pool) = Pool::load(path)
            && pool.families == names
            && pool.config == *config
        {
            return Ok((pool, false));
        }
        let pool = Pool::from_folders(folders, config)?;
        pool.save(path)?;
        Ok((pool, true))
    }

    /// The code set of tile `t`.
    pub fn tile_set(&self, t: u32) -> &CodeSet {
        &self.sets[t as usize]
    }

    /// Writes the pool to `path` (see [`crate::file`]).
    pub fn save(&self, path: &Path) -> Result<(), CorpusError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| CorpusError::Io { path: dir.into(), message: e.to_string() })?;
        }
        // Written aside and renamed, so a stopped build never leaves half a pool.
        let tmp = path.with_extension("partial");
        std::fs::write(&tmp, crate::file::to_bytes(self))
            .and_then(|_| std::fs::rename(&tmp, path))
            .map_err(|e| CorpusError::Io { path: path.into(), message: e.to_string() })
    }

    pub fn load(path: &Path) -> Result<Pool, CorpusError> {
        let bytes =
            std::fs::read(path).map_err(|e| CorpusError::Io { path: path.into(), message: e.to_string() })?;
        crate::file::from_bytes(&bytes).map_err(|problem| problem.at(path))
    }
}

/// A random crop's code set: a side 30–100 % of the photo's (aspect within ±15 % of it), a
/// random position, a mild tone change (a pure brightness or contrast change moves no PDQ
/// bit: PDQ drops the mean and thresholds at the median; gamma and clipping do move some).
fn crop_set(family: u32, w: usize, h: usize, luma: &[f32], rng: &mut Rng) -> CodeSet {
    let s = rng.range_f32(0.3, 1.0);
    let aspect = rng.range_f32(0.85, 1.15);
    let cw = ((w as f32 * s * aspect).round() as usize).clamp(32, w);
    let ch = ((h as f32 * s / aspect).round() as usize).clamp(32, h);
    let (x, y) = (rng.below((w - cw + 1) as u64) as usize, rng.below((h - ch + 1) as u64) as usize);
    let (gamma, contrast, brightness) =
        (rng.range_f32(0.8, 1.25), rng.range_f32(0.85, 1.15), rng.range_f32(-15.0, 15.0));
    let mut crop = Vec::with_capacity(cw * ch);
    for row in y..y + ch {
        crop.extend(luma[row * w + x..][..cw].iter().map(|&l| {
            let g = 255.0 * (l / 255.0).powf(gamma);
            ((g - 128.0) * contrast + 128.0 + brightness).clamp(0.0, 255.0)
        }));
    }
    let d = pdq::dihedral_from_luma(cw, ch, &crop);
    let mut codes = [[0u64; 4]; 9];
    for (slot, hash) in codes.iter_mut().zip(d.all()) {
        *slot = code(&hash);
    }
    codes[8] = inner_code(cw, ch, &crop, rng);
    CodeSet { family, codes }
}

/// PDQ of the picture without a random 2–10 % margin on each side.
fn inner_code(w: usize, h: usize, luma: &[f32], rng: &mut Rng) -> Code {
    let mut margin = |d: usize| (d as f32 * rng.range_f32(0.02, 0.10)) as usize;
    let (l, r, t, b) = (margin(w), margin(w), margin(h), margin(h));
    let (iw, ih) = (w - l - r, h - t - b);
    let mut inner = Vec::with_capacity(iw * ih);
    for row in t..t + ih {
        inner.extend_from_slice(&luma[row * w + l..][..iw]);
    }
    code(&pdq::from_luma(iw, ih, &inner).hash)
}
