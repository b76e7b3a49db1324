//! Perceptual fingerprints: bytes in, hashes out. PDQ (Meta's 256-bit perceptual hash),
//! bit-compatible with the reference implementation, with its quality metric and the eight
//! dihedral variants.

pub mod index;
pub mod pdq;

pub use pdq::{Pdq, PdqHash};
