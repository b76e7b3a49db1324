//! Perceptual fingerprints: pixels in, hashes out. PDQ (Meta's 256-bit perceptual hash),
//! bit-compatible with the reference implementation, with its quality metric and the eight
//! dihedral variants; pHash as the Python `imagehash` computes it; an exact Hamming index.

pub mod catalog;
pub mod decode;
pub mod features;
pub mod index;
pub mod mapped;
pub mod pdq;
pub mod phash;
pub mod prints;
pub mod records;
pub mod snapshot;
pub mod votes;

pub use pdq::{Pdq, PdqHash};
