//! The works' local features, as alignment reads them: a query aligns with a dozen works at
//! most, so a large catalog keeps them on disk — one fixed-size record per work, read with
//! one positioned read — and only small catalogs keep them in memory.
//!
//! A record (little-endian, [`RECORD_SIZE`] bytes): a 32-byte header `work i64, width u32,
//! height u32, n u32, crc32 u32, 8 zero bytes` (the CRC-32/ISO-HDLC of the record's bytes
//! after the header, then of its first 20 bytes), then `n` descriptors of 32 bytes, zeros up
//! to 256, then `n` positions `x f32, y f32`, zeros up to 256. The work ID is checked on every
//! read, so a record can never lend its features to another work. Scale and angle are not
//! kept: alignment does not use them.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;

use crate::features::{Feature, Features, MAX_FEATURES};

const HEADER: usize = 32;
pub const RECORD_SIZE: usize = HEADER + MAX_FEATURES * 32 + MAX_FEATURES * 8;
const XY: usize = HEADER + 32 * MAX_FEATURES;

/// The record of work `work` with features `f` (its first 256).
pub fn encode(work: i64, f: &Features) -> Vec<u8> {
    let n = f.features.len().min(MAX_FEATURES);
    let mut out = vec![0u8; RECORD_SIZE];
    out[0..8].copy_from_slice(&work.to_le_bytes());
    out[8..12].copy_from_slice(&f.width.to_le_bytes());
    out[12..16].copy_from_slice(&f.height.to_le_bytes());
    out[16..20].copy_from_slice(&(n as u32).to_le_bytes());
    for (i, p) in f.features[..n].iter().enumerate() {
        for (w, v) in p.descriptor.iter().enumerate() {
            let at = HEADER + 32 * i + 8 * w;
            out[at..at + 8].copy_from_slice(&v.to_le_bytes());
        }
        let at = XY + 8 * i;
        out[at..at + 4].copy_from_slice(&p.x.to_le_bytes());
        out[at + 4..at + 8].copy_from_slice(&p.y.to_le_bytes());
    }
    let crc = checksum(&out);
    out[20..24].copy_from_slice(&crc.to_le_bytes());
    out
}

fn checksum(record: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&record[HEADER..]);
    h.update(&record[..20]);
    h.finalize()
}

/// The work and features of a record, or `None` if it is damaged.
pub fn decode(r: &[u8]) -> Option<(i64, Features)> {
    if r.len() != RECORD_SIZE {
        return None;
    }
    let u32_at = |i: usize| u32::from_le_bytes(r[i..i + 4].try_into().expect("4 bytes"));
    if u32_at(20) != checksum(r) || r[24..HEADER].iter().any(|&b| b != 0) {
        return None;
    }
    let n = u32_at(16) as usize;
    if n > MAX_FEATURES {
        return None;
    }
    let f32_at = |i: usize| f32::from_le_bytes(r[i..i + 4].try_into().expect("4 bytes"));
    let u64_at = |i: usize| u64::from_le_bytes(r[i..i + 8].try_into().expect("8 bytes"));
    let features = (0..n)
        .map(|i| Feature {
            x: f32_at(XY + 8 * i),
            y: f32_at(XY + 8 * i + 4),
            scale: 0.0,
            angle: 0.0,
            descriptor: std::array::from_fn(|w| u64_at(HEADER + 32 * i + 8 * w)),
        })
        .collect();
    let work = i64::from_le_bytes(r[0..8].try_into().expect("8 bytes"));
    Some((work, Features { width: u32_at(8), height: u32_at(12), features }))
}

/// Where a catalog's features are: in memory, or records in a file.
pub enum Records {
    Memory(Vec<Features>),
    File(RecordFile),
}

impl Records {
    /// The features of `slot`, which must be those of `work` (`None`: the record is
    /// missing, damaged or another work's).
    pub fn get(&self, slot: u32, work: i64) -> Option<Features> {
        match self {
            Records::Memory(v) => v.get(slot as usize).cloned(),
            Records::File(f) => match f.read(slot) {
                Ok(Some((w, features))) if w == work => Some(features),
                _ => None,
            },
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Records::Memory(v) => v.len(),
            Records::File(f) => f.len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A file of records, slot after slot.
pub struct RecordFile {
    file: File,
    len: usize,
}

impl RecordFile {
    /// Opens the records of the first `len` slots; a longer file keeps records written
    /// after its snapshot, which are written again.
    pub fn open(path: &Path, len: usize) -> io::Result<RecordFile> {
        let file = File::options().read(true).write(true).open(path)?;
        let have = file.metadata()?.len();
        if have < (len * RECORD_SIZE) as u64 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "{} holds {} records, the snapshot needs {len}",
                    path.display(),
                    have / RECORD_SIZE as u64
                ),
            ));
        }
        Ok(RecordFile { file, len })
    }

    pub fn create(path: &Path) -> io::Result<RecordFile> {
        Ok(RecordFile { file: File::create(path)?, len: 0 })
    }

    /// Only the first `len` records count: those after are written again.
    pub fn truncated(mut self, len: usize) -> RecordFile {
        self.len = self.len.min(len);
        self
    }

    pub fn read(&self, slot: u32) -> io::Result<Option<(i64, Features)>> {
        if slot as usize >= self.len {
            return Ok(None);
        }
        let mut buf = vec![0u8; RECORD_SIZE];
        self.file.read_exact_at(&mut buf, slot as u64 * RECORD_SIZE as u64)?;
        Ok(decode(&buf))
    }

    /// Writes the record of the next slot.
    pub fn push(&mut self, work: i64, f: &Features) -> io::Result<u32> {
        let slot = self.len as u32;
        self.file.write_all_at(&encode(work, f), self.len as u64 * RECORD_SIZE as u64)?;
        self.len += 1;
        Ok(slot)
    }

    pub fn sync(&self) -> io::Result<()> {
        self.file.sync_data()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn features(n: usize, seed: u64) -> Features {
        let mut r = fixtures::rng::XorShift::new(seed);
        Features {
            width: 512,
            height: 341,
            features: (0..n)
                .map(|i| Feature {
                    x: i as f32 * 1.75,
                    y: 300.0 - i as f32,
                    scale: 0.0,
                    angle: 0.0,
                    descriptor: [r.next_u64(), r.next_u64(), r.next_u64(), r.next_u64()],
                })
                .collect(),
        }
    }

    #[test]
    fn records_round_trip_and_damage_is_caught() {
        for n in [0, 1, 200, 256] {
            let f = features(n, n as u64 + 1);
            assert_eq!(decode(&encode(-7, &f)), Some((-7, f)));
        }
        for at in [0, 9, 16, 30, HEADER + 5, XY + 3, RECORD_SIZE - 1] {
            let mut r = encode(42, &features(256, 3));
            r[at] ^= 1;
            assert_eq!(decode(&r), None, "byte {at} changed");
        }
    }

    #[test]
    fn a_file_of_records_reads_what_was_pushed() {
        let dir = std::env::temp_dir().join(format!("handprint-records-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("features.rec");
        let mut file = RecordFile::create(&path).unwrap();
        for i in 0..5 {
            assert_eq!(file.push(100 + i as i64, &features(50 + i, i as u64 + 9)).unwrap(), i as u32);
        }
        let again = Records::File(RecordFile::open(&path, 4).unwrap());
        assert_eq!(again.get(3, 103), Some(features(53, 12)));
        assert_eq!(again.get(3, 104), None, "another work's record");
        assert_eq!(again.get(4, 104), None, "beyond the snapshot");
        assert!(RecordFile::open(&path, 6).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
