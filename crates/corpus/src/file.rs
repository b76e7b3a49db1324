//! The pool file. Little-endian throughout:
//!
//! ```text
//! "HPCORPUS"  version: u32 (1)  seed: u64  crop_sets: u64
//! families: u32, then each: length u32, UTF-8 name
//! tiles: u32, then each: family u32, rect [u32; 4], features length u32, features
//!        (fingerprint::prints::features_to_bytes)
//! sets: u32, then each: family u32, 9 codes × 4 words u64
//! copies: u32, then each: tile u32, transform u8, code 4 words u64
//! CRC-32 of everything before it: u32
//! ```

use fingerprint::prints;

use crate::CorpusError;
use crate::photos::Transform;
use crate::pool::{CodeSet, PlantedCopy, Pool, PoolConfig, Tile};

pub const MAGIC: &[u8; 8] = b"HPCORPUS";
pub const VERSION: u32 = 1;

/// What is wrong with a pool file, before the path is known.
#[derive(Debug)]
pub enum Problem {
    Foreign,
    Version(u32),
    Damaged(String),
}

impl Problem {
    pub fn at(self, path: &std::path::Path) -> CorpusError {
        let path = path.to_path_buf();
        match self {
            Problem::Foreign => CorpusError::Foreign { path },
            Problem::Version(found) => CorpusError::Version { path, found, expected: VERSION },
            Problem::Damaged(message) => CorpusError::Damaged { path, message },
        }
    }
}

pub fn to_bytes(pool: &Pool) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(MAGIC);
    let u32s = |out: &mut Vec<u8>, v: u32| out.extend_from_slice(&v.to_le_bytes());
    let code =
        |out: &mut Vec<u8>, c: &[u64; 4]| c.iter().for_each(|w| out.extend_from_slice(&w.to_le_bytes()));
    u32s(&mut out, VERSION);
    out.extend_from_slice(&pool.config.seed.to_le_bytes());
    out.extend_from_slice(&pool.config.crop_sets.to_le_bytes());
    u32s(&mut out, pool.families.len() as u32);
    for name in &pool.families {
        u32s(&mut out, name.len() as u32);
        out.extend_from_slice(name.as_bytes());
    }
    u32s(&mut out, pool.tiles.len() as u32);
    for t in &pool.tiles {
        u32s(&mut out, t.family);
        t.rect.iter().for_each(|&v| u32s(&mut out, v));
        let f = prints::features_to_bytes(&t.features);
        u32s(&mut out, f.len() as u32);
        out.extend_from_slice(&f);
    }
    u32s(&mut out, pool.sets.len() as u32);
    for s in &pool.sets {
        u32s(&mut out, s.family);
        s.codes.iter().for_each(|c| code(&mut out, c));
    }
    u32s(&mut out, pool.copies.len() as u32);
    for c in &pool.copies {
        u32s(&mut out, c.tile);
        out.push(c.transform.code());
        code(&mut out, &c.code);
    }
    let crc = crc32fast::hash(&out);
    u32s(&mut out, crc);
    out
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], Problem> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len());
        let end = end.ok_or_else(|| Problem::Damaged(format!("ends early, at byte {}", self.bytes.len())))?;
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }
    fn u8(&mut self) -> Result<u8, Problem> {
        Ok(self.take(1)?[0])
    }
    fn u32(&mut self) -> Result<u32, Problem> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().expect("4 bytes")))
    }
    fn u64(&mut self) -> Result<u64, Problem> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().expect("8 bytes")))
    }
    fn code(&mut self) -> Result<[u64; 4], Problem> {
        Ok([self.u64()?, self.u64()?, self.u64()?, self.u64()?])
    }
    /// A count of items of at least `size` bytes each, checked against what is left.
    fn count(&mut self, size: usize, what: &str) -> Result<usize, Problem> {
        let n = self.u32()? as usize;
        if n.saturating_mul(size) > self.bytes.len() - self.at {
            return Err(Problem::Damaged(format!("{n} {what} cannot fit in what is left of the file")));
        }
        Ok(n)
    }
}

pub fn from_bytes(bytes: &[u8]) -> Result<Pool, Problem> {
    if !bytes.starts_with(MAGIC) {
        return Err(Problem::Foreign);
    }
    let mut r = Reader { bytes, at: MAGIC.len() };
    let version = r.u32()?;
    if version != VERSION {
        return Err(Problem::Version(version));
    }
    if bytes.len() < r.at + 4 {
        return Err(Problem::Damaged("ends early".into()));
    }
    let (body, crc) = bytes.split_at(bytes.len() - 4);
    if crc32fast::hash(body) != u32::from_le_bytes(crc.try_into().expect("4 bytes")) {
        return Err(Problem::Damaged("checksum does not match (changed or cut short)".into()));
    }
    let mut r = Reader { bytes: body, at: r.at };
    let config = PoolConfig { seed: r.u64()?, crop_sets: r.u64()? };
    let n = r.count(4, "photo names")?;
    let mut families = Vec::with_capacity(n);
    for _ in 0..n {
        let len = r.u32()? as usize;
        let name = std::str::from_utf8(r.take(len)?)
            .map_err(|_| Problem::Damaged("a photo name is not UTF-8".into()))?;
        families.push(name.to_string());
    }
    let family = |f: u32| {
        if (f as usize) < families.len() {
            Ok(f)
        } else {
            Err(Problem::Damaged(format!("family {f} of {}", families.len())))
        }
    };
    let n = r.count(28, "tiles")?;
    let mut tiles = Vec::with_capacity(n);
    for _ in 0..n {
        let f = family(r.u32()?)?;
        let rect = [r.u32()?, r.u32()?, r.u32()?, r.u32()?];
        let len = r.u32()? as usize;
        let features = prints::features_from_bytes(r.take(len)?)
            .ok_or_else(|| Problem::Damaged("a tile's features do not parse".into()))?;
        tiles.push(Tile { family: f, rect, features });
    }
    let n = r.count(4 + 9 * 32, "code sets")?;
    let mut sets = Vec::with_capacity(n);
    for _ in 0..n {
        let f = family(r.u32()?)?;
        let mut codes = [[0u64; 4]; 9];
        for c in &mut codes {
            *c = r.code()?;
        }
        sets.push(CodeSet { family: f, codes });
    }
    if sets.len() < tiles.len() {
        return Err(Problem::Damaged(format!("{} code sets for {} tiles", sets.len(), tiles.len())));
    }
    let n = r.count(37, "planted copies")?;
    let mut copies = Vec::with_capacity(n);
    for _ in 0..n {
        let tile = r.u32()?;
        if tile as usize >= tiles.len() {
            return Err(Problem::Damaged(format!("a copy of tile {tile} of {}", tiles.len())));
        }
        let t = r.u8()?;
        let transform = Transform::from_code(t).ok_or_else(|| Problem::Damaged(format!("transform {t}")))?;
        copies.push(PlantedCopy { tile, transform, code: r.code()? });
    }
    if r.at != body.len() {
        return Err(Problem::Damaged(format!("{} bytes after the last copy", body.len() - r.at)));
    }
    Ok(Pool { config, families, tiles, sets, copies })
}
