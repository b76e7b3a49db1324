//! Synthetic registered works with the statistics of real photos, to benchmark the catalog at
//! 100,000 to 10,000,000 works.
//!
//! Uniform random bits flatter an index: real PDQ bits are slightly biased and real codes
//! cluster (crops of one photo), so the substring tables of a multi-index hash fill
//! unevenly; and real local descriptors are far from uniform (each bit is set with
//! probability far from ½, unrelated descriptors lie about 90 bits apart instead of 128, and
//! about 0.3 % of unrelated pairs are within the vote radius of 15, where uniform ones never
//! are). So the works here are made from real photos:
//!
//! - [`Pool`]: built once from folders of photos and cached in a file ([`file`]): tiles at
//!   three scales fingerprinted as registered works are, about 100,000 code sets of random
//!   crops, and real near-copies of the tiles ([`pool`]).
//! - [`Generator`]: work `i` of a seed, made on demand in microseconds and the same on every
//!   call, so a catalog of ten million works need not be stored. Work `i` takes a pool code
//!   set (the sets in a seeded rotation; each set once before any comes round again) and the
//!   features of a pool tile of the same photo.
//!
//! Why the numbers of flipped bits:
//!
//! - Codes. Past the pool's own sets, a set comes round with 40 bits of each code flipped,
//!   20 ones and 20 zeros (PDQ thresholds at the median, so every real code has 128 ones and
//!   the flips keep it so). Measured on the pool of 36 photos (`handprint-corpus stats`), a
//!   crop's nearest other crop of the same photo lies at a median of 56 bits, 14 for the
//!   closest tenth: at 40 a derived work sits where another crop of the same photo would,
//!   beyond PDQ's radius of 31 from its source (it is a distinct work, not a copy), and about
//!   70 from another work derived from the same set, while unrelated codes stay at 128.
//! - Descriptors. Every work's descriptors are its tile's with 6 random bits flipped, a fresh
//!   mask per descriptor drawn from the work's own stream: works made from one tile differ in
//!   every descriptor (about 12 bits) while the positions, scales, angles and the biased bits
//!   of the real descriptors are kept. Flipping lowers the share of unrelated pairs within 15
//!   bits (0.27 % between real tiles, 0.007 % generated): fewer flips keep more of it, more
//!   flips make works from one tile vote less for each other. [`Generator::with_flips`]
//!   changes both numbers.
//!
//! A family is a photo: every tile, crop, copy and work made from one photo is related, and a
//! match between them is never a false one. Works from different photos are.

pub mod file;
pub mod generator;
pub mod peers;
pub mod photos;
pub mod pool;
pub mod rng;
pub mod stats;

use std::path::PathBuf;

pub use generator::{Generator, SyntheticWork};
pub use pool::{CodeSet, PlantedCopy, Pool, PoolConfig, Tile};

#[derive(Debug, thiserror::Error)]
pub enum CorpusError {
    #[error("{path}: not a folder")]
    Folder { path: PathBuf },
    #[error("{path}: {message}")]
    Io { path: PathBuf, message: String },
    #[error("{path}: not a photo handprint can read: {message}")]
    Image { path: PathBuf, message: String },
    #[error("no photos: the folders hold no PNG, JPEG, WebP or GIF files")]
    NoPhotos,
    #[error("{path}: not a corpus pool file (it does not start with HPCORPUS)")]
    Foreign { path: PathBuf },
    #[error(
        "{path}: a pool file of version {found}; this build reads version {expected}: build the pool again"
    )]
    Version { path: PathBuf, found: u32, expected: u32 },
    #[error("{path}: damaged pool file: {message}")]
    Damaged { path: PathBuf, message: String },
    #[error("{what} needs {needed}; the pool has {found}")]
    TooSmall { what: &'static str, needed: String, found: String },
}
