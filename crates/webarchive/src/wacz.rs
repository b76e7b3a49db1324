//! WACZ 1.1.1 packages: a zip holding the WARC, its CDXJ index, the page list and further
//! files, described and hashed by `datapackage.json`, whose own hash is in
//! `datapackage-digest.json` beside a signature made by the caller.
//!
//! ```text
//! archive/data.warc.gz        the WARC, stored (already compressed)
//! indexes/index.cdxj          the CDXJ index, plain
//! pages/pages.jsonl           {"format": "json-pages-1.0", "id": "pages", "title": "All Pages"}, then one page a line
//! <dir>/<file>                further files (e.g. handprint/matches.json)
//! datapackage.json            every file above: name, path, "sha256:<hex>" hash, bytes; wacz_version "1.1.1"
//! datapackage-digest.json     {"path": "datapackage.json", "hash": "sha256:<hex>", "handprint": <signature>}
//! ```
//!
//! `datapackage.json` and `datapackage-digest.json` are written as the reference `wacz` tool
//! writes them (Python's `json.dumps(..., indent=2)`). The signature is not put in
//! `signedData`, which the reference tools read as their own signing protocol; it goes
//! under `handprint`, which they ignore. Every entry is stored uncompressed: the WARC is
//! gzip already, and the rest is small.
//!
//! Reading ([`read_wacz`]) refuses what could exhaust memory or escape a directory: more
//! entries or bytes than the limits, entries that expand more than `max_ratio` times,
//! absolute or `..` paths, duplicate names, and zips whose structure does not add up (see
//! the zip check module).

use crate::cdxj::cdxj_lines;
use crate::digest::sha256_label;
use crate::error::WebArchiveError;
use crate::json;
use crate::reader::{WarcLimits, check_record, read_warc};
use chrono::{DateTime, Datelike, Timelike, Utc};
use serde::Serialize;
use serde_json::{Map, Value, json};
use std::io::{Cursor, Read, Write};
use zip::CompressionMethod;
use zip::write::SimpleFileOptions;

pub const WACZ_VERSION: &str = "1.1.1";
pub const WARC_PATH: &str = "archive/data.warc.gz";
pub const INDEX_PATH: &str = "indexes/index.cdxj";
pub const PAGES_PATH: &str = "pages/pages.jsonl";
pub const DATAPACKAGE: &str = "datapackage.json";
pub const DATAPACKAGE_DIGEST: &str = "datapackage-digest.json";
/// The key of `datapackage-digest.json` under which the caller's signature goes.
pub const SIGNATURE_KEY: &str = "handprint";

/// A page of the capture, for `pages/pages.jsonl`: the URL of a captured response and when.
#[derive(Clone, Debug)]
pub struct Page {
    pub url: String,
    pub ts: DateTime<Utc>,
    /// The URL when absent.
    pub title: Option<String>,
}

/// What goes into a WACZ.
#[derive(Clone, Debug)]
pub struct Package {
    /// A `.warc.gz` as [`crate::WarcWriter`] wrote it: one gzip member per record, every
    /// record with a block digest that holds.
    pub warc: Vec<u8>,
    pub pages: Vec<Page>,
    /// Further files as `(path, bytes)`; a path is `<dir>/<file>` (one directory level,
    /// letters, digits, `.`, `_` and `-`), outside `archive/`, `indexes/` and `pages/`.
    pub files: Vec<(String, Vec<u8>)>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub main_page_url: Option<String>,
    pub main_page_date: Option<DateTime<Utc>>,
    /// The software that made the package, e.g. `handprint 0.1.0`.
    pub software: String,
    pub created: DateTime<Utc>,
}

fn second_precision(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn check_extra_path(path: &str) -> Result<(), WebArchiveError> {
    let bad = |why: &str| Err(WebArchiveError::invalid(format!("WACZ file {path:?}"), why));
    let parts: Vec<&str> = path.split('/').collect();
    let [dir, file] = parts[..] else {
        return bad(
            "must be <directory>/<file>, one level deep (the WACZ validator checks the last two parts of every path)",
        );
    };
    let component_ok = |c: &str| {
        !c.is_empty()
            && c != "."
            && c != ".."
            && c.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
    };
    if !component_ok(dir) || !component_ok(file) {
        return bad("may hold letters, digits, '.', '_' and '-' only");
    }
    if ["archive", "indexes", "pages"].contains(&dir.to_ascii_lowercase().as_str()) {
        return bad("archive/, indexes/ and pages/ hold the WARC, its index and the page lists only");
    }
    Ok(())
}

/// The WACZ of `package`: its WARC checked and indexed, the pages listed, every file hashed
/// in `datapackage.json`. `sign` is given the hash of `datapackage.json` (`sha256:<hex>`)
/// and returns what goes under `"handprint"` in `datapackage-digest.json` (`Value::Null`
/// leaves it out); an error from it fails the whole package.
pub fn write_wacz(
    package: &Package,
    sign: impl FnOnce(&str) -> Result<Value, String>,
) -> Result<Vec<u8>, WebArchiveError> {
    if !package.warc.starts_with(&[0x1f, 0x8b]) {
        return Err(WebArchiveError::invalid(WARC_PATH, "not gzip: the WARC must be a .warc.gz"));
    }
    let records = read_warc(&package.warc, &WarcLimits::default())
        .map_err(|e| WebArchiveError::invalid(WARC_PATH, e.to_string()))?;
    for record in &records {
        let problems = check_record(record);
        if !problems.is_empty() {
            return Err(WebArchiveError::invalid(
                format!("{WARC_PATH}, record at offset {}", record.offset),
                problems.join("; "),
            ));
        }
    }
    let index = cdxj_lines(&records, &package.warc, "data.warc.gz").concat();

    let mut pages = json::compact(&json!({"format": "json-pages-1.0", "id": "pages", "title": "All Pages"}));
    pages.push('\n');
    for (i, page) in package.pages.iter().enumerate() {
        let ts = second_precision(&page.ts);
        let id = &sha256_label(format!("{i}\n{}\n{ts}", page.url).as_bytes())[7..39];
        let title = page.title.clone().unwrap_or_else(|| page.url.clone());
        pages.push_str(&json::compact(&json!({"id": id, "url": page.url, "ts": ts, "title": title})));
        pages.push('\n');
    }

    let mut files: Vec<(&str, &[u8])> =
        vec![(WARC_PATH, &package.warc), (INDEX_PATH, index.as_bytes()), (PAGES_PATH, pages.as_bytes())];
    for (path, bytes) in &package.files {
        check_extra_path(path)?;
        files.push((path, bytes));
    }
    let mut resources = Vec::new();
    let mut names: Vec<String> = Vec::new();
    for (path, bytes) in &files {
        let name = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
        if names.contains(&name) {
            return Err(WebArchiveError::invalid(
                format!("WACZ file {path:?}"),
                format!("another file is named {name:?} (resource names are unique)"),
            ));
        }
        names.push(name.clone());
        resources
            .push(json!({"name": name, "path": path, "hash": sha256_label(bytes), "bytes": bytes.len()}));
    }
    let mut datapackage = Map::new();
    datapackage.insert("profile".into(), "data-package".into());
    datapackage.insert("resources".into(), resources.into());
    if let Some(title) = &package.title {
        datapackage.insert("title".into(), title.clone().into());
    }
    if let Some(description) = &package.description {
        datapackage.insert("description".into(), description.clone().into());
    }
    if let Some(url) = &package.main_page_url {
        datapackage.insert("mainPageURL".into(), url.clone().into());
    }
    if let Some(date) = &package.main_page_date {
        datapackage.insert("mainPageDate".into(), second_precision(date).into());
    }
    datapackage.insert("created".into(), second_precision(&package.created).into());
    datapackage.insert("wacz_version".into(), WACZ_VERSION.into());
    datapackage.insert("software".into(), package.software.clone().into());
    let datapackage = json::pretty(&Value::Object(datapackage)).into_bytes();
    let hash = sha256_label(&datapackage);
    let signature = sign(&hash).map_err(WebArchiveError::Sign)?;
    let mut digest = Map::new();
    digest.insert("path".into(), DATAPACKAGE.into());
    digest.insert("hash".into(), hash.into());
    if !signature.is_null() {
        digest.insert(SIGNATURE_KEY.into(), signature);
    }
    let digest = json::pretty(&Value::Object(digest)).into_bytes();

    let time = zip_time(&package.created);
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let zip_error = |e: zip::result::ZipError| WebArchiveError::wacz(format!("writing the zip: {e}"));
    for (path, bytes) in
        files.iter().copied().chain([(DATAPACKAGE, &datapackage[..]), (DATAPACKAGE_DIGEST, &digest)])
    {
        let options = SimpleFileOptions::default()
            .compression_method(CompressionMethod::Stored)
            .last_modified_time(time)
            .unix_permissions(0o644)
            .large_file(bytes.len() as u64 >= u32::MAX as u64);
        zip.start_file(path, options).map_err(zip_error)?;
        zip.write_all(bytes)?;
    }
    Ok(zip.finish().map_err(zip_error)?.into_inner())
}

fn zip_time(t: &DateTime<Utc>) -> zip::DateTime {
    let fields = (
        u16::try_from(t.year()).ok(),
        t.month() as u8,
        t.day() as u8,
        t.hour() as u8,
        t.minute() as u8,
        t.second().min(59) as u8,
    );
    match fields {
        (Some(y), mo, d, h, mi, s) => {
            zip::DateTime::from_date_and_time(y, mo, d, h, mi, s).unwrap_or_default()
        }
        _ => zip::DateTime::default(),
    }
}

/// How much a WACZ may hold before reading it is refused.
#[derive(Clone, Debug, Serialize)]
pub struct WaczLimits {
    pub max_entries: usize,
    /// The largest entry, uncompressed.
    pub max_entry_bytes: u64,
    /// All entries together, uncompressed.
    pub max_total_bytes: u64,
    /// The most a compressed entry of over 1 MiB may expand (uncompressed / compressed).
    pub max_ratio: u64,
    /// For the WARCs inside.
    pub warc: WarcLimits,
}

impl Default for WaczLimits {
    fn default() -> Self {
        WaczLimits {
            max_entries: 10_000,
            max_entry_bytes: 1 << 30,
            max_total_bytes: 1 << 30,
            max_ratio: 100,
            warc: WarcLimits::default(),
        }
    }
}

/// A file of a WACZ.
#[derive(Clone, Debug)]
pub struct WaczFile {
    pub path: String,
    pub bytes: Vec<u8>,
    /// Stored uncompressed in the zip (rather than deflated).
    pub stored: bool,
}

/// The files of a WACZ, in the order of the zip's central directory.
#[derive(Clone, Debug)]
pub struct Wacz {
    pub files: Vec<WaczFile>,
}

impl Wacz {
    pub fn file(&self, path: &str) -> Option<&[u8]> {
        self.files.iter().find(|f| f.path == path).map(|f| f.bytes.as_slice())
    }
}

/// [`read_wacz_with`] and the default limits.
pub fn read_wacz(bytes: &[u8]) -> Result<Wacz, WebArchiveError> {
    read_wacz_with(bytes, &WaczLimits::default())
}

/// A path inside a WACZ: relative, `/`-separated, no empty, `.` or `..` parts, no
/// backslashes or control characters.
fn check_entry_path(path: &str) -> Result<(), String> {
    if path.is_empty() || path.len() > 1024 {
        return Err(format!("entry name {path:?} is empty or too long"));
    }
    if path.starts_with('/') || path.contains('\\') || path.chars().any(char::is_control) {
        return Err(format!("entry name {path:?} is absolute or holds a backslash or control character"));
    }
    let trimmed = path.strip_suffix('/').unwrap_or(path);
    if trimmed.split('/').any(|c| c.is_empty() || c == "." || c == "..") {
        return Err(format!("entry name {path:?} has an empty, '.' or '..' part"));
    }
    if trimmed.split('/').next().is_some_and(|c| c.len() == 2 && c.ends_with(':')) {
        return Err(format!("entry name {path:?} starts with a drive letter"));
    }
    Ok(())
}

/// The files of the WACZ in `bytes`, within `limits`. Every entry's CRC is checked;
/// directory entries are left out.
pub fn read_wacz_with(bytes: &[u8], limits: &WaczLimits) -> Result<Wacz, WebArchiveError> {
    let layout = crate::zipcheck::layout(bytes, limits.max_entries).map_err(WebArchiveError::wacz)?;
    let mut declared: u64 = 0;
    let mut seen = std::collections::HashSet::new();
    for entry in &layout {
        let name = String::from_utf8_lossy(&entry.name);
        if !seen.insert(entry.name.as_slice()) {
            return Err(WebArchiveError::wacz(format!("{name}: two entries with this name")));
        }
        if entry.size > limits.max_entry_bytes {
            return Err(WebArchiveError::wacz(format!(
                "{name}: {} bytes uncompressed (at most {} read)",
                entry.size, limits.max_entry_bytes
            )));
        }
        declared = declared.saturating_add(entry.size);
        if declared > limits.max_total_bytes {
            return Err(WebArchiveError::wacz(format!(
                "more than {} bytes uncompressed in all (at most {} read)",
                declared, limits.max_total_bytes
            )));
        }
        if entry.size > 1 << 20 && entry.size / entry.compressed.max(1) > limits.max_ratio {
            return Err(WebArchiveError::wacz(format!(
                "{name}: {} bytes would expand to {} (more than {} times: refused as a zip bomb)",
                entry.compressed, entry.size, limits.max_ratio
            )));
        }
    }

    let mut archive = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| WebArchiveError::wacz(format!("not a zip: {e}")))?;
    if archive.len() != layout.len() {
        return Err(WebArchiveError::wacz("the zip reader and the structure check count different entries"));
    }
    let mut files: Vec<WaczFile> = Vec::with_capacity(archive.len());
    for i in 0..archive.len() {
        let mut raw =
            archive.by_index_raw(i).map_err(|e| WebArchiveError::wacz(format!("entry {i}: {e}")))?;
        let path = raw.name().to_owned();
        let shape = layout.iter().find(|e| e.index == i).ok_or_else(|| {
            WebArchiveError::wacz(format!("{path}: not where the structure check found the entries"))
        })?;
        if raw.name_raw() != shape.name.as_slice()
            || raw.data_start() != Some(shape.data_start)
            || raw.compressed_size() != shape.compressed
            || raw.size() != shape.size
        {
            return Err(WebArchiveError::wacz(format!(
                "{path}: the zip reader and the structure check disagree"
            )));
        }
        check_entry_path(&path).map_err(WebArchiveError::wacz)?;
        if files.iter().any(|f| f.path == path) {
            return Err(WebArchiveError::wacz(format!("{path}: two entries with this name")));
        }
        let mut compressed = Vec::with_capacity(shape.compressed.min(bytes.len() as u64) as usize);
        raw.read_to_end(&mut compressed).map_err(|e| WebArchiveError::wacz(format!("{path}: {e}")))?;
        drop(raw);
        let data = match shape.method {
            0 => {
                if shape.compressed != shape.size {
                    return Err(WebArchiveError::wacz(format!("{path}: stored, but its two sizes differ")));
                }
                compressed
            }
            8 => {
                let mut data = Vec::with_capacity(shape.size.min(limits.max_entry_bytes) as usize);
                flate2::read::DeflateDecoder::new(&compressed[..])
                    .take(shape.size.saturating_add(1))
                    .read_to_end(&mut data)
                    .map_err(|e| WebArchiveError::wacz(format!("{path}: deflate: {e}")))?;
                if data.len() as u64 != shape.size {
                    return Err(WebArchiveError::wacz(format!(
                        "{path}: expands to {}{} bytes, {} declared",
                        data.len().min(shape.size as usize + 1),
                        if data.len() as u64 > shape.size { " or more" } else { "" },
                        shape.size
                    )));
                }
                data
            }
            other => {
                return Err(WebArchiveError::wacz(format!(
                    "{path}: compression method {other} (only stored and deflate are read)"
                )));
            }
        };
        if crc32fast::hash(&data) != shape.crc {
            return Err(WebArchiveError::wacz(format!("{path}: CRC-32 mismatch (the entry is damaged)")));
        }
        if path.ends_with('/') {
            if !data.is_empty() {
                return Err(WebArchiveError::wacz(format!("{path}: a directory entry with data")));
            }
            continue;
        }
        files.push(WaczFile { path, bytes: data, stored: shape.method == 0 });
    }
    Ok(Wacz { files })
}
