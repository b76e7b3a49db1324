//! A catalog's base on disk, so a process starts searching without rebuilding: the indexes
//! in one file read in place (mapped), and the works' features in a file of records
//! ([`crate::records`]). `docs/scale.md` specifies the format.
//!
//! A snapshot is written to a temporary name, synced and renamed, so a reader sees an old
//! snapshot or a whole new one; it is never changed in place (it is mapped). Every section
//! carries a CRC-32, checked when the snapshot is opened, and every table is checked for
//! being one before it is used: a damaged snapshot is refused, and rebuilt from the store.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use memmap2::Mmap;

use crate::catalog::{Catalog, Segment};
use crate::index::{Code, HammingIndex, Table};
use crate::mapped::{Array, Plain};
use crate::records::{RecordFile, Records};
use crate::votes::VoteIndex;

pub const MAGIC: &[u8; 8] = b"HPCATLG\n";
pub const VERSION: u32 = 1;
pub const INDEX_FILE: &str = "catalog.snapshot";
pub const RECORDS_FILE: &str = "features.records";
const HEADER: usize = 96;
const SECTION: usize = 32;
const ALIGN: usize = 64;

/// What the snapshot's owner records of where it stands: for a registry, the highest work ID
/// it covers and a check that the store is the one it was built from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Position {
    pub last: i64,
    pub check: [u8; 32],
}

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("{0}: {1}")]
    Io(PathBuf, io::Error),
    #[error("{0}: not a handprint catalog snapshot")]
    NotASnapshot(PathBuf),
    #[error("{0}: snapshot version {1}, this handprint reads version {VERSION}")]
    Version(PathBuf, u32),
    #[error("{0}: damaged: {1}")]
    Damaged(PathBuf, String),
}

/// A temporary file beside `name` that no other writer uses, removed when dropped unless
/// it was renamed into place: a failed write (a full disk) leaves nothing behind.
fn temporary(dir: &Path, name: &str) -> Temporary {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    Temporary(dir.join(format!("{name}.{}.{}.tmp", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed))))
}

struct Temporary(PathBuf);

impl Drop for Temporary {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

impl AsRef<Path> for Temporary {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl std::ops::Deref for Temporary {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

fn pad(n: usize) -> usize {
    n.div_ceil(ALIGN) * ALIGN
}

fn bytes<T: Plain>(a: &[T]) -> &[u8] {
    // SAFETY: plain data without padding.
    unsafe { std::slice::from_raw_parts(a.as_ptr().cast::<u8>(), size_of_val(a)) }
}

/// Writes `catalog`'s base into `dir` (its records too, if they are in memory), as of
/// `position`. The delta is not written: it is caught up from the store after opening.
pub fn write(catalog: &Catalog, dir: &Path, position: Position) -> Result<(), SnapshotError> {
    let seg = catalog.base();
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |e| SnapshotError::Io(p.clone(), e)
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let records = dir.join(RECORDS_FILE);
    if let Records::Memory(features) = &seg.records {
        let tmp = temporary(dir, RECORDS_FILE);
        let mut file = RecordFile::create(&tmp).map_err(io(&tmp))?;
        for (w, f) in seg.works.iter().zip(features) {
            file.push(*w, f).map_err(io(&tmp))?;
        }
        file.sync().map_err(io(&tmp))?;
        std::fs::rename(&*tmp, &records).map_err(io(&records))?;
    }
    let (codes, tables) = (seg.global.codes(), seg.global.tables());
    let mut sections: Vec<(&[u8; 8], &[u8])> = vec![
        (b"works\0\0\0", bytes(&seg.works)),
        (b"byid\0\0\0\0", bytes(&seg.by_id)),
        (b"owners\0\0", bytes(&seg.owners)),
        (b"gcodes\0\0", bytes(codes)),
        (b"voffsets", bytes(&seg.votes.offsets)),
        (b"ventries", bytes(&seg.votes.entries)),
        (b"vlayout\0", &seg.votes.layout().order[..]),
    ];
    let layout: Vec<u32> = tables.iter().flat_map(|t| [t.start, t.width]).collect();
    sections.push((b"gtables\0", bytes(&layout)));
    for t in tables {
        sections.push((b"goffsets", bytes(&t.offsets)));
        sections.push((b"gids\0\0\0\0", bytes(&t.ids)));
    }
    let mut offset = pad(HEADER + SECTION * sections.len());
    let mut table = Vec::with_capacity(SECTION * sections.len());
    for (name, data) in &sections {
        table.extend_from_slice(*name);
        table.extend_from_slice(&(offset as u64).to_le_bytes());
        table.extend_from_slice(&(data.len() as u64).to_le_bytes());
        table.extend_from_slice(&crc32fast::hash(data).to_le_bytes());
        table.extend_from_slice(&[0; 4]);
        offset = pad(offset + data.len());
    }
    let mut header = Vec::with_capacity(HEADER);
    header.extend_from_slice(MAGIC);
    header.extend_from_slice(&VERSION.to_le_bytes());
    header.extend_from_slice(&(sections.len() as u32).to_le_bytes());
    header.extend_from_slice(&(seg.works.len() as u64).to_le_bytes());
    header.extend_from_slice(&position.last.to_le_bytes());
    header.extend_from_slice(&position.check);
    header.extend_from_slice(&seg.votes.layout().key_bits.to_le_bytes());
    header.resize(HEADER - 4, 0);
    let mut h = crc32fast::Hasher::new();
    h.update(&header);
    h.update(&table);
    header.extend_from_slice(&h.finalize().to_le_bytes());

    let path = dir.join(INDEX_FILE);
    let tmp = temporary(dir, INDEX_FILE);
    let file = File::create(&tmp).map_err(io(&tmp))?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let mut at = 0;
    let put = |out: &mut BufWriter<File>, b: &[u8], at: &mut usize| -> io::Result<()> {
        out.write_all(b)?;
        *at += b.len();
        let to = pad(*at);
        out.write_all(&vec![0; to - *at])?;
        *at = to;
        Ok(())
    };
    let mut first = header;
    first.extend_from_slice(&table);
    put(&mut out, &first, &mut at).map_err(io(&tmp))?;
    for (_, data) in &sections {
        put(&mut out, data, &mut at).map_err(io(&tmp))?;
    }
    let file = out.into_inner().map_err(|e| SnapshotError::Io(tmp.to_path_buf(), e.into_error()))?;
    file.sync_all().map_err(io(&tmp))?;
    std::fs::rename(&*tmp, &path).map_err(io(&path))?;
    File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))?;
    Ok(())
}

/// Opens the snapshot in `dir`: the catalog (its base mapped, its records on disk) and where
/// it stands. `Ok(None)` if there is none.
pub fn open(dir: &Path) -> Result<Option<(Catalog, Position)>, SnapshotError> {
    let path = dir.join(INDEX_FILE);
    let file = match File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(SnapshotError::Io(path, e)),
    };
    // SAFETY: snapshots are replaced by rename, never written in place, so the mapped
    // bytes do not change under the map.
    let map = Arc::new(unsafe { Mmap::map(&file) }.map_err(|e| SnapshotError::Io(path.clone(), e))?);
    let damaged = |what: &str| SnapshotError::Damaged(path.clone(), what.to_owned());
    if map.len() < HEADER || &map[..8] != MAGIC {
        return Err(SnapshotError::NotASnapshot(path));
    }
    let u32_at = |i: usize| u32::from_le_bytes(map[i..i + 4].try_into().expect("4 bytes"));
    let u64_at = |i: usize| u64::from_le_bytes(map[i..i + 8].try_into().expect("8 bytes"));
    let version = u32_at(8);
    if version != VERSION {
        return Err(SnapshotError::Version(path, version));
    }
    let count = u32_at(12) as usize;
    let table_end = HEADER.checked_add(count.checked_mul(SECTION).ok_or_else(|| damaged("section count"))?);
    let table_end = table_end.filter(|&e| e <= map.len()).ok_or_else(|| damaged("section table"))?;
    let mut h = crc32fast::Hasher::new();
    h.update(&map[..HEADER - 4]);
    h.update(&map[HEADER..table_end]);
    if h.finalize() != u32_at(HEADER - 4) {
        return Err(damaged("header checksum"));
    }
    let works = u64_at(16) as usize;
    let position = Position { last: u64_at(24) as i64, check: map[32..64].try_into().expect("32 bytes") };
    let key_bits = u32_at(64);

    // Each section: its name, and where its bytes are, checked.
    let mut sections = Vec::with_capacity(count);
    for i in 0..count {
        let at = HEADER + SECTION * i;
        let name: [u8; 8] = map[at..at + 8].try_into().expect("8 bytes");
        let (offset, len) = (u64_at(at + 8) as usize, u64_at(at + 16) as usize);
        let end =
            offset.checked_add(len).filter(|&e| e <= map.len()).ok_or_else(|| damaged("section bounds"))?;
        if crc32fast::hash(&map[offset..end]) != u32_at(at + 24) {
            return Err(damaged(&format!(
                "section {} checksum",
                String::from_utf8_lossy(&name).trim_end_matches('\0')
            )));
        }
        sections.push((name, offset, len));
    }
    let mut next = sections.into_iter();
    let mut take = |name: &[u8; 8]| {
        next.next().filter(|(n, _, _)| n == name).map(|(_, o, l)| (o, l)).ok_or_else(|| {
            damaged(&format!("missing section {}", String::from_utf8_lossy(name).trim_end_matches('\0')))
        })
    };
    fn array<T: Plain>(map: &Arc<Mmap>, (offset, len): (usize, usize)) -> Option<Array<T>> {
        if !len.is_multiple_of(size_of::<T>()) {
            return None;
        }
        Array::mapped(map, offset, len / size_of::<T>())
    }
    let bad = |what: &str| damaged(what);
    let works_a: Array<i64> = array(&map, take(b"works\0\0\0")?).ok_or_else(|| bad("works"))?;
    let by_id: Array<u32> = array(&map, take(b"byid\0\0\0\0")?).ok_or_else(|| bad("byid"))?;
    let owners: Array<u32> = array(&map, take(b"owners\0\0")?).ok_or_else(|| bad("owners"))?;
    let codes: Array<Code> = array(&map, take(b"gcodes\0\0")?).ok_or_else(|| bad("gcodes"))?;
    let voffsets: Array<u32> = array(&map, take(b"voffsets")?).ok_or_else(|| bad("voffsets"))?;
    let ventries: Array<u64> = array(&map, take(b"ventries")?).ok_or_else(|| bad("ventries"))?;
    let (at, len) = take(b"vlayout\0")?;
    let order = map[at..at + len].try_into().map_err(|_| bad("vlayout"))?;
    let vlayout = crate::votes::Layout { key_bits, order };
    let layout: Array<u32> = array(&map, take(b"gtables\0")?).ok_or_else(|| bad("gtables"))?;
    let mut tables = Vec::new();
    for pair in layout.chunks(2) {
        let [start, width] = pair else { return Err(bad("gtables")) };
        let offsets = array(&map, take(b"goffsets")?).ok_or_else(|| bad("goffsets"))?;
        let ids = array(&map, take(b"gids\0\0\0\0")?).ok_or_else(|| bad("gids"))?;
        tables.push(Table { start: *start, width: *width, offsets, ids });
    }
    // What the tables say must hold, so a search never indexes out of bounds.
    let sorted = by_id.len() == works
        && by_id.iter().all(|&s| (s as usize) < works)
        && by_id.windows(2).all(|w| works_a[w[0] as usize] < works_a[w[1] as usize]);
    if works_a.len() != works || !sorted {
        return Err(bad("works"));
    }
    if owners.len() != codes.len() || owners.iter().any(|&o| (o >> 4) as usize >= works || (o & 15) > 8) {
        return Err(bad("owners"));
    }
    let global = HammingIndex::from_parts(codes, tables).ok_or_else(|| bad("global tables"))?;
    let votes =
        VoteIndex::from_parts(vlayout, voffsets, ventries, works).ok_or_else(|| bad("vote tables"))?;
    let records_path = dir.join(RECORDS_FILE);
    let records = RecordFile::open(&records_path, works).map_err(|e| SnapshotError::Io(records_path, e))?;
    let segment = Segment::from_parts(works_a, by_id, global, owners, votes, Records::File(records));
    Ok(Some((Catalog::from_segment(segment), position)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Variant;
    use crate::features::{Feature, Features};
    use crate::prints::Fingerprint;

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("handprint-snapshot-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    fn work(seed: u64) -> (Vec<(Variant, Code)>, Features) {
        let mut r = fixtures::rng::XorShift::new(seed);
        let codes = Variant::ALL
            .iter()
            .map(|v| (*v, [r.next_u64(), r.next_u64(), r.next_u64(), r.next_u64()]))
            .collect();
        let features = (0..256)
            .map(|i| Feature {
                x: (r.next_u64() % 500) as f32,
                y: (r.next_u64() % 330) as f32 + i as f32 / 1000.0,
                scale: 0.0,
                angle: 0.0,
                descriptor: [r.next_u64(), r.next_u64(), r.next_u64(), r.next_u64()],
            })
            .collect();
        (codes, Features { width: 512, height: 341, features })
    }

    fn query(codes: &[(Variant, Code)], features: &Features) -> Fingerprint {
        let pdq = crate::catalog::dihedral(codes);
        Fingerprint { width: 768, height: 512, pdq, trimmed: None, features: features.clone() }
    }

    #[test]
    fn a_snapshot_answers_as_the_catalog_it_was_written_from() {
        type Work = (i64, Vec<(Variant, Code)>, Features);
        let works: Vec<Work> =
            (0..300).map(|i| (1000 - 3 * i as i64, work(i + 1).0, work(i + 1).1)).collect();
        let built = Catalog::build(works.clone());
        let d = dir("same");
        let position = Position { last: 1000, check: [7; 32] };
        write(&built, &d, position).unwrap();
        let (opened, at) = open(&d).unwrap().expect("a snapshot");
        assert_eq!(at, position);
        assert_eq!(opened.works(), 300);
        for (id, codes, features) in works.iter().step_by(37) {
            let q = query(codes, features);
            let (a, b) = (built.search(&q), opened.search(&q));
            assert_eq!(a, b);
            assert_eq!(a[0].work, *id);
            assert!(a[0].alignment.is_some(), "aligned from the records");
            assert_eq!(opened.search_code(&codes[3].1, 31), built.search_code(&codes[3].1, 31));
            assert!(opened.contains(*id) && !opened.contains(id + 1));
        }
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn a_catalog_built_work_by_work_on_disk_answers_as_one_built_in_memory() {
        let works: Vec<_> = (0..120).map(|i| (5 * i as i64 + 1, work(i + 40).0, work(i + 40).1)).collect();
        let d = dir("builder");
        std::fs::create_dir_all(&d).unwrap();
        let mut b = crate::catalog::Builder::new(&d.join(RECORDS_FILE)).unwrap();
        for (id, codes, f) in &works {
            b.push(*id, codes, f).unwrap();
        }
        let built = b.finish().unwrap();
        write(&built, &d, Position::default()).unwrap();
        let (opened, _) = open(&d).unwrap().unwrap();
        let memory = Catalog::build(works.clone());
        for (id, codes, f) in works.iter().step_by(11) {
            let q = query(codes, f);
            assert_eq!(opened.search(&q), memory.search(&q));
            assert_eq!(built.search(&q)[0].work, *id);
        }
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn a_damaged_or_foreign_snapshot_is_refused_with_what_is_wrong() {
        let works: Vec<_> = (0..20).map(|i| (i as i64, work(i).0, work(i).1)).collect();
        let d = dir("damaged");
        write(&Catalog::build(works), &d, Position::default()).unwrap();
        let path = d.join(INDEX_FILE);
        let good = std::fs::read(&path).unwrap();
        for (at, what) in [
            (0, "not a handprint catalog"),
            (8, "version"),
            (40, "header checksum"),
            (good.len() - 100, "checksum"),
        ] {
            let mut b = good.clone();
            b[at] ^= 0x10;
            std::fs::write(&path, &b).unwrap();
            let e = open(&d).err().expect("refused").to_string();
            assert!(e.contains(what) && e.contains(INDEX_FILE), "{at}: {e}");
        }
        std::fs::write(&path, &good).unwrap();
        assert!(open(&d).unwrap().is_some());
        std::fs::remove_file(d.join(RECORDS_FILE)).unwrap();
        assert!(open(&d).err().expect("no records").to_string().contains(RECORDS_FILE));
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn works_added_after_a_snapshot_are_found_and_merged_into_the_next() {
        let works: Vec<_> = (0..50).map(|i| (i as i64, work(i).0, work(i).1)).collect();
        let d = dir("merge");
        write(&Catalog::build(works), &d, Position::default()).unwrap();
        let (mut cat, _) = open(&d).unwrap().unwrap();
        let extra: Vec<_> = (50..80).map(|i| (i as i64, work(i).0, work(i).1)).collect();
        for (id, codes, f) in &extra[..20] {
            cat.add(*id, codes, f.clone());
        }
        let merge = cat.prepare_merge(Some(&d.join(RECORDS_FILE)));
        // Added while the merge runs: kept in the delta.
        for (id, codes, f) in &extra[20..] {
            cat.add(*id, codes, f.clone());
        }
        let merged = merge.run().unwrap();
        cat.install(merged);
        assert_eq!((cat.works(), cat.pending()), (80, 10));
        for (id, codes, f) in extra.iter().chain(&[(3, work(3).0, work(3).1)]) {
            let found = cat.search(&query(codes, f));
            assert_eq!(found[0].work, *id);
            assert!(found[0].alignment.is_some());
        }
        write(&cat, &d, Position { last: 70, check: [0; 32] }).unwrap();
        let (again, at) = open(&d).unwrap().unwrap();
        assert_eq!((again.works(), at.last), (70, 70));
        let q = query(&extra[15].1, &extra[15].2);
        assert_eq!(again.search(&q)[0].work, 65);
        let _ = std::fs::remove_dir_all(&d);
    }
}
