//! The bytes of a zip that a zip reader does not look at. Readers go by the central
//! directory; a local header, a gap between entries or bytes before the first entry could
//! change and nothing would notice. Here every byte must belong to something: entries start
//! at offset 0 and follow each other without gaps, each local header agrees with its central
//! directory entry (version needed, flags, method, time, CRC, sizes, name), the central
//! directory follows the last entry and the end record follows the directory, and the
//! archive comment runs exactly to the end of the file. The counts are read here first, so
//! an absurd entry count is refused before any reader allocates for it.
//!
//! What is left unchecked: central-directory-only fields (version made by, file attributes,
//! comments) and extra fields, which carry no content.

/// One entry, as the central directory describes it (ZIP64 values resolved).
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    /// Its place in the central directory.
    pub index: usize,
    pub name: Vec<u8>,
    pub flags: u16,
    pub method: u16,
    pub crc: u32,
    pub compressed: u64,
    pub size: u64,
    pub data_start: u64,
}

const EOCD: u32 = 0x0605_4b50;
const ZIP64_LOCATOR: u32 = 0x0706_4b50;
const ZIP64_EOCD: u32 = 0x0606_4b50;
const CENTRAL: u32 = 0x0201_4b50;
const LOCAL: u32 = 0x0403_4b50;
const DESCRIPTOR: u32 = 0x0807_4b50;

fn u16_at(b: &[u8], at: u64) -> Option<u16> {
    let at = usize::try_from(at).ok()?;
    Some(u16::from_le_bytes(b.get(at..at.checked_add(2)?)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: u64) -> Option<u32> {
    let at = usize::try_from(at).ok()?;
    Some(u32::from_le_bytes(b.get(at..at.checked_add(4)?)?.try_into().ok()?))
}

fn u64_at(b: &[u8], at: u64) -> Option<u64> {
    let at = usize::try_from(at).ok()?;
    Some(u64::from_le_bytes(b.get(at..at.checked_add(8)?)?.try_into().ok()?))
}

fn slice(b: &[u8], at: u64, len: u64) -> Option<&[u8]> {
    let at = usize::try_from(at).ok()?;
    b.get(at..at.checked_add(usize::try_from(len).ok()?)?)
}

/// The values a ZIP64 extra field (id 1) carries for the fields saturated in the header:
/// uncompressed size, compressed size, local header offset, in that order.
fn zip64_values(extra: &[u8], want: [bool; 3]) -> Result<[Option<u64>; 3], String> {
    let mut out = [None; 3];
    if !want.iter().any(|&w| w) {
        return Ok(out);
    }
    let mut at = 0;
    while at + 4 <= extra.len() {
        let id = u16::from_le_bytes([extra[at], extra[at + 1]]);
        let len = u16::from_le_bytes([extra[at + 2], extra[at + 3]]) as usize;
        let data = extra.get(at + 4..at + 4 + len).ok_or("an extra field runs past its header")?;
        if id == 1 {
            let mut pos = 0;
            for (i, &w) in want.iter().enumerate() {
                if w {
                    let v = data.get(pos..pos + 8).ok_or("a ZIP64 extra field is too short")?;
                    out[i] = Some(u64::from_le_bytes(v.try_into().map_err(|_| "ZIP64 field")?));
                    pos += 8;
                }
            }
            return Ok(out);
        }
        at += 4 + len;
    }
    Err("a size of 0xFFFFFFFF without a ZIP64 extra field".to_owned())
}

/// Reads and cross-checks the structure of the zip in `bytes`; returns its entries in the
/// order of their data. `max_entries` is checked before anything is allocated per entry.
pub(crate) fn layout(bytes: &[u8], max_entries: usize) -> Result<Vec<Entry>, String> {
    let len = bytes.len() as u64;
    if len < 22 {
        return Err("too short to be a zip".to_owned());
    }
    // The end record: the last signature whose comment runs exactly to the end.
    let lowest = len.saturating_sub(22 + 0xffff);
    let eocd = (lowest..=len - 22)
        .rev()
        .find(|&p| {
            u32_at(bytes, p) == Some(EOCD) && u16_at(bytes, p + 20).map(|c| p + 22 + c as u64) == Some(len)
        })
        .ok_or("no zip end record (or bytes after it)")?;
    let field16 = |o: u64| u16_at(bytes, eocd + o).unwrap_or(0);
    let field32 = |o: u64| u32_at(bytes, eocd + o).unwrap_or(0);
    let (disk, cd_disk, here, total) = (field16(4), field16(6), field16(8), field16(10));
    let (mut cd_size, mut cd_offset) = (field32(12) as u64, field32(16) as u64);
    let (mut here, mut total) = (here as u64, total as u64);
    let mut cd_end = eocd;
    let zip64 = eocd >= 20 && u32_at(bytes, eocd - 20) == Some(ZIP64_LOCATOR);
    if zip64 {
        let locator = eocd - 20;
        let record = u64_at(bytes, locator + 8).ok_or("ZIP64 locator")?;
        if u32_at(bytes, locator + 4) != Some(0) || u32_at(bytes, locator + 16) != Some(1) {
            return Err("a zip spanning several disks".to_owned());
        }
        if u32_at(bytes, record) != Some(ZIP64_EOCD) {
            return Err("the ZIP64 locator points at no ZIP64 end record".to_owned());
        }
        let size = u64_at(bytes, record + 4).ok_or("ZIP64 end record")?;
        if record.checked_add(12).and_then(|r| r.checked_add(size)) != Some(locator) || size < 44 {
            return Err("the ZIP64 end record does not end where its locator starts".to_owned());
        }
        if u32_at(bytes, record + 16) != Some(0) || u32_at(bytes, record + 20) != Some(0) {
            return Err("a zip spanning several disks".to_owned());
        }
        here = u64_at(bytes, record + 24).ok_or("ZIP64 end record")?;
        total = u64_at(bytes, record + 32).ok_or("ZIP64 end record")?;
        cd_size = u64_at(bytes, record + 40).ok_or("ZIP64 end record")?;
        cd_offset = u64_at(bytes, record + 48).ok_or("ZIP64 end record")?;
        cd_end = record;
    } else if disk != 0 || cd_disk != 0 {
        return Err("a zip spanning several disks".to_owned());
    }
    if here != total {
        return Err(format!("the end record counts {here} entries on this disk and {total} in all"));
    }
    if total > max_entries as u64 {
        return Err(format!("{total} entries (at most {max_entries} read)"));
    }
    if cd_offset.checked_add(cd_size) != Some(cd_end) {
        return Err("the central directory does not end where the end record starts".to_owned());
    }
    if total.saturating_mul(46) > cd_size {
        return Err(format!("{total} entries cannot fit in a central directory of {cd_size} bytes"));
    }

    let mut entries: Vec<(u64, Entry, [u16; 3])> = Vec::with_capacity(total as usize);
    let mut at = cd_offset;
    for n in 0..total {
        let bad = || format!("central directory entry {n} is cut short");
        if u32_at(bytes, at) != Some(CENTRAL) {
            return Err(format!("central directory entry {n} has no signature"));
        }
        let h = slice(bytes, at, 46).ok_or_else(bad)?;
        let r16 = |o: usize| u16::from_le_bytes([h[o], h[o + 1]]);
        let r32 = |o: usize| u32::from_le_bytes([h[o], h[o + 1], h[o + 2], h[o + 3]]);
        let (name_len, extra_len, comment_len) = (r16(28) as u64, r16(30) as u64, r16(32) as u64);
        let name = slice(bytes, at + 46, name_len).ok_or_else(bad)?.to_vec();
        let extra = slice(bytes, at + 46 + name_len, extra_len).ok_or_else(bad)?;
        let (mut size, mut compressed, mut local) = (r32(24) as u64, r32(20) as u64, r32(42) as u64);
        let z = zip64_values(extra, [size == 0xffff_ffff, compressed == 0xffff_ffff, local == 0xffff_ffff])
            .map_err(|e| format!("central directory entry {n}: {e}"))?;
        size = z[0].unwrap_or(size);
        compressed = z[1].unwrap_or(compressed);
        local = z[2].unwrap_or(local);
        if r16(34) != 0 && r16(34) != 0xffff {
            return Err(format!("central directory entry {n} is on another disk"));
        }
        let entry = Entry {
            index: n as usize,
            name,
            flags: r16(8),
            method: r16(10),
            crc: r32(16),
            compressed,
            size,
            data_start: 0,
        };
        entries.push((local, entry, [r16(6), r16(12), r16(14)]));
        at += 46 + name_len + extra_len + comment_len;
    }
    if at != cd_end {
        return Err(format!(
            "{} bytes in the central directory belong to no entry",
            cd_end.saturating_sub(at)
        ));
    }

    entries.sort_by_key(|(local, _, _)| *local);
    let mut expected = 0u64;
    let mut out = Vec::with_capacity(entries.len());
    for (local, mut entry, [version, time, date]) in entries {
        let shown = String::from_utf8_lossy(&entry.name).into_owned();
        if entry.flags & (1 | 1 << 6 | 1 << 13) != 0 {
            return Err(format!("{shown}: encrypted"));
        }
        if local != expected {
            return Err(if local > expected {
                format!("bytes {expected}..{local} belong to no entry")
            } else {
                format!("{shown} overlaps the entry before it")
            });
        }
        let bad = || format!("{shown}: the local header is cut short");
        if u32_at(bytes, local) != Some(LOCAL) {
            return Err(format!("{shown}: no local header at offset {local}"));
        }
        let h = slice(bytes, local, 30).ok_or_else(bad)?;
        let r16 = |o: usize| u16::from_le_bytes([h[o], h[o + 1]]);
        let r32 = |o: usize| u32::from_le_bytes([h[o], h[o + 1], h[o + 2], h[o + 3]]);
        let (name_len, extra_len) = (r16(26) as u64, r16(28) as u64);
        let name = slice(bytes, local + 30, name_len).ok_or_else(bad)?;
        let extra = slice(bytes, local + 30 + name_len, extra_len).ok_or_else(bad)?;
        if name != entry.name.as_slice() {
            return Err(format!("{shown}: the local header names another file"));
        }
        if [r16(4), r16(6), r16(8), r16(10), r16(12)] != [version, entry.flags, entry.method, time, date] {
            return Err(format!("{shown}: the local header disagrees with the central directory"));
        }
        let (mut lsize, mut lcompressed) = (r32(22) as u64, r32(18) as u64);
        if lsize == 0xffff_ffff || lcompressed == 0xffff_ffff {
            // The local ZIP64 field holds both sizes.
            let z = zip64_values(extra, [true, true, false]).map_err(|e| format!("{shown}: {e}"))?;
            lsize = z[0].unwrap_or(lsize);
            lcompressed = z[1].unwrap_or(lcompressed);
        }
        let descriptor = entry.flags & (1 << 3) != 0;
        let lcrc = r32(14);
        let agrees = (lcrc, lcompressed, lsize) == (entry.crc, entry.compressed, entry.size);
        // With a data descriptor the local values may be left zero.
        let deferred = descriptor && (lcrc, lcompressed, lsize) == (0, 0, 0);
        if !agrees && !deferred {
            return Err(format!(
                "{shown}: the local header's CRC or sizes disagree with the central directory"
            ));
        }
        entry.data_start = local + 30 + name_len + extra_len;
        let data_end =
            entry.data_start.checked_add(entry.compressed).filter(|&e| e <= cd_offset).ok_or_else(|| {
                format!("{shown}: {} bytes of data run past the central directory", entry.compressed)
            })?;
        expected = data_end;
        if descriptor {
            expected = descriptor_end(bytes, data_end, &entry).ok_or_else(|| {
                format!("{shown}: no data descriptor matching the central directory after the data")
            })?;
        }
        out.push(entry);
    }
    if expected != cd_offset {
        return Err(format!("bytes {expected}..{cd_offset} belong to no entry"));
    }
    Ok(out)
}

/// The end of the data descriptor at `at`, in whichever of its four forms (with or without
/// signature, 32- or 64-bit sizes) carries the central directory's values.
fn descriptor_end(bytes: &[u8], at: u64, e: &Entry) -> Option<u64> {
    let signed = u32_at(bytes, at) == Some(DESCRIPTOR);
    let base = if signed { at + 4 } else { at };
    if u32_at(bytes, base)? != e.crc {
        return None;
    }
    if u32_at(bytes, base + 4).map(u64::from) == Some(e.compressed)
        && u32_at(bytes, base + 8).map(u64::from) == Some(e.size)
    {
        return Some(base + 12);
    }
    if u64_at(bytes, base + 4) == Some(e.compressed) && u64_at(bytes, base + 12) == Some(e.size) {
        return Some(base + 20);
    }
    None
}
