//! Checking a WACZ offline: the zip's structure and every entry's CRC, every file against
//! its hash and size in `datapackage.json`, `datapackage.json` against the hash in
//! `datapackage-digest.json`, every record of every WARC against its digests, the index
//! against the records it points at, and the pages against the records. The signature under
//! `"handprint"` is handed back with the hash it should sign, for the caller to check.

use crate::cdxj::{indexed, timestamp14};
use crate::digest::sha256_label;
use crate::reader::{Record, check_record, read_warc};
use crate::wacz::{
    DATAPACKAGE, DATAPACKAGE_DIGEST, INDEX_PATH, PAGES_PATH, SIGNATURE_KEY, WACZ_VERSION, Wacz, WaczLimits,
    read_wacz_with,
};
use serde::Serialize;
use serde_json::Value;

/// What [`verify_wacz`] found. `ok` when `problems` is empty; the signature is not checked
/// here: `handprint` is to be verified over `datapackage_hash`.
#[derive(Clone, Debug, Serialize)]
pub struct Verification {
    pub ok: bool,
    pub problems: Vec<String>,
    /// The files `datapackage.json` lists, each checked.
    pub resources: Vec<ResourceCheck>,
    /// Every record of every WARC.
    pub records: Vec<RecordCheck>,
    pub index_lines: usize,
    pub pages: usize,
    /// `sha256:<hex>` of `datapackage.json` as found (whatever `datapackage-digest.json` says).
    pub datapackage_hash: Option<String>,
    /// `created` of `datapackage.json`.
    pub created: Option<String>,
    /// The `"handprint"` value of `datapackage-digest.json`.
    pub handprint: Option<Value>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ResourceCheck {
    pub path: String,
    /// The hash listed.
    pub hash: String,
    pub bytes: u64,
    pub ok: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct RecordCheck {
    /// The WARC's path in the WACZ.
    pub file: String,
    pub offset: u64,
    pub length: u64,
    pub record_type: String,
    pub id: String,
    pub target_uri: Option<String>,
    pub problems: Vec<String>,
}

/// [`verify_wacz_with`] and the default limits.
pub fn verify_wacz(bytes: &[u8]) -> Verification {
    verify_wacz_with(bytes, &WaczLimits::default())
}

/// Checks the WACZ in `bytes`; never fails: what cannot be read is a problem.
pub fn verify_wacz_with(bytes: &[u8], limits: &WaczLimits) -> Verification {
    let mut v = Verification {
        ok: false,
        problems: Vec::new(),
        resources: Vec::new(),
        records: Vec::new(),
        index_lines: 0,
        pages: 0,
        datapackage_hash: None,
        created: None,
        handprint: None,
    };
    match read_wacz_with(bytes, limits) {
        Ok(wacz) => check(&wacz, limits, &mut v),
        Err(e) => v.problems.push(e.to_string()),
    }
    v.ok = v.problems.is_empty();
    v
}

fn check(wacz: &Wacz, limits: &WaczLimits, v: &mut Verification) {
    check_datapackage(wacz, v);
    let warcs = check_warcs(wacz, limits, v);
    check_index(wacz, &warcs, v);
    check_pages(wacz, &warcs, v);
}

fn is_sha256_label(s: &str) -> bool {
    s.strip_prefix("sha256:")
        .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
}

fn check_datapackage(wacz: &Wacz, v: &mut Verification) {
    let Some(raw) = wacz.file(DATAPACKAGE) else {
        v.problems.push(format!("no {DATAPACKAGE}"));
        return;
    };
    let hash = sha256_label(raw);
    v.datapackage_hash = Some(hash.clone());
    let datapackage = match serde_json::from_slice::<Value>(raw) {
        Ok(Value::Object(map)) => map,
        Ok(_) => return v.problems.push(format!("{DATAPACKAGE} is not a JSON object")),
        Err(e) => return v.problems.push(format!("{DATAPACKAGE}: {e}")),
    };
    if datapackage.get("wacz_version").and_then(Value::as_str) != Some(WACZ_VERSION) {
        v.problems.push(format!("{DATAPACKAGE}: wacz_version is not {WACZ_VERSION:?}"));
    }
    if datapackage.get("profile").and_then(Value::as_str) != Some("data-package") {
        v.problems.push(format!("{DATAPACKAGE}: profile is not \"data-package\""));
    }
    v.created = datapackage.get("created").and_then(Value::as_str).map(str::to_owned);
    let resources = match datapackage.get("resources").and_then(Value::as_array) {
        Some(r) if !r.is_empty() => r,
        _ => return v.problems.push(format!("{DATAPACKAGE} lists no resources")),
    };
    let mut names: Vec<&str> = Vec::new();
    let mut paths: Vec<&str> = Vec::new();
    for (i, resource) in resources.iter().enumerate() {
        let field = |k: &str| resource.get(k).and_then(Value::as_str);
        let (Some(name), Some(path), Some(listed), Some(size)) =
            (field("name"), field("path"), field("hash"), resource.get("bytes").and_then(Value::as_u64))
        else {
            v.problems.push(format!("{DATAPACKAGE}: resource {i} lacks name, path, hash or bytes"));
            continue;
        };
        if name.is_empty()
            || !name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-._/".contains(&b))
        {
            v.problems.push(format!("{DATAPACKAGE}: resource name {name:?} is not [-a-z0-9._/]+"));
        }
        if names.contains(&name) {
            v.problems.push(format!("{DATAPACKAGE}: two resources are named {name:?}"));
        }
        if paths.contains(&path) {
            v.problems.push(format!("{DATAPACKAGE}: {path} is listed twice"));
        }
        names.push(name);
        paths.push(path);
        let mut ok = true;
        match wacz.file(path) {
            None => {
                v.problems.push(format!("{path}: listed in {DATAPACKAGE} but not in the package"));
                ok = false;
            }
            Some(bytes) => {
                if !is_sha256_label(listed) {
                    v.problems
                        .push(format!("{path}: hash {listed:?} is not sha256:<64 lower-case hex digits>"));
                    ok = false;
                } else if sha256_label(bytes) != listed {
                    v.problems.push(format!("{path}: its SHA-256 is not the one {DATAPACKAGE} lists"));
                    ok = false;
                }
                if bytes.len() as u64 != size {
                    v.problems.push(format!("{path}: {} bytes, {DATAPACKAGE} says {size}", bytes.len()));
                    ok = false;
                }
            }
        }
        v.resources.push(ResourceCheck { path: path.to_owned(), hash: listed.to_owned(), bytes: size, ok });
    }
    for file in &wacz.files {
        if file.path != DATAPACKAGE && file.path != DATAPACKAGE_DIGEST && !paths.contains(&file.path.as_str())
        {
            v.problems.push(format!("{}: not listed in {DATAPACKAGE} (nothing vouches for it)", file.path));
        }
    }

    let Some(raw_digest) = wacz.file(DATAPACKAGE_DIGEST) else {
        v.problems.push(format!("no {DATAPACKAGE_DIGEST}: nothing vouches for {DATAPACKAGE}"));
        return;
    };
    let digest = match serde_json::from_slice::<Value>(raw_digest) {
        Ok(Value::Object(map)) => map,
        Ok(_) => return v.problems.push(format!("{DATAPACKAGE_DIGEST} is not a JSON object")),
        Err(e) => return v.problems.push(format!("{DATAPACKAGE_DIGEST}: {e}")),
    };
    if digest.get("path").and_then(Value::as_str) != Some(DATAPACKAGE) {
        v.problems.push(format!("{DATAPACKAGE_DIGEST}: path is not {DATAPACKAGE:?}"));
    }
    if digest.get("hash").and_then(Value::as_str) != Some(hash.as_str()) {
        v.problems.push(format!("{DATAPACKAGE} does not match the hash in {DATAPACKAGE_DIGEST}"));
    }
    if let Some(signed) = digest.get("signedData")
        && signed.get("created").and_then(Value::as_str) != v.created.as_deref()
    {
        v.problems.push(format!("{DATAPACKAGE_DIGEST}: signedData.created is not the package's created"));
    }
    v.handprint = digest.get(SIGNATURE_KEY).cloned();
}

/// The WARCs read, with their bytes and records.
struct Warc<'a> {
    path: &'a str,
    raw: &'a [u8],
    records: Vec<Record>,
}

fn check_warcs<'a>(wacz: &'a Wacz, limits: &WaczLimits, v: &mut Verification) -> Vec<Warc<'a>> {
    let mut warcs = Vec::new();
    for file in &wacz.files {
        let path = file.path.as_str();
        if !(path.starts_with("archive/") && (path.ends_with(".warc") || path.ends_with(".warc.gz"))) {
            continue;
        }
        let records = match read_warc(&file.bytes, &limits.warc) {
            Ok(r) => r,
            Err(e) => {
                v.problems.push(format!("{path}: {e}"));
                continue;
            }
        };
        for record in &records {
            let problems = check_record(record);
            for p in &problems {
                v.problems.push(format!(
                    "{path}, {} record at offset {} ({}): {p}",
                    record.record_type(),
                    record.offset,
                    record.target_uri().unwrap_or("no target"),
                ));
            }
            v.records.push(RecordCheck {
                file: path.to_owned(),
                offset: record.offset,
                length: record.length,
                record_type: record.record_type().to_owned(),
                id: record.id().to_owned(),
                target_uri: record.target_uri().map(str::to_owned),
                problems,
            });
        }
        warcs.push(Warc { path, raw: &file.bytes, records });
    }
    if warcs.is_empty() && !v.problems.iter().any(|p| p.starts_with("archive/")) {
        v.problems.push("no WARC in archive/".to_owned());
    }
    warcs
}

fn as_u64(v: Option<&Value>) -> Option<u64> {
    match v? {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.as_u64(),
        _ => None,
    }
}

fn check_index(wacz: &Wacz, warcs: &[Warc], v: &mut Verification) {
    let Some(index) = wacz.file(INDEX_PATH) else {
        if !wacz.files.iter().any(|f| f.path.starts_with("indexes/")) {
            v.problems.push("no index in indexes/".to_owned());
        }
        return;
    };
    let Ok(text) = std::str::from_utf8(index) else {
        return v.problems.push(format!("{INDEX_PATH} is not UTF-8"));
    };
    let mut covered: Vec<(&str, u64)> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let n = n + 1;
        let mut parts = line.splitn(3, ' ');
        let (Some(_key), Some(ts), Some(json)) = (parts.next(), parts.next(), parts.next()) else {
            v.problems.push(format!("{INDEX_PATH} line {n}: not <key> <timestamp> <json>"));
            continue;
        };
        let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(json) else {
            v.problems.push(format!("{INDEX_PATH} line {n}: not JSON"));
            continue;
        };
        v.index_lines += 1;
        let (Some(filename), Some(offset), Some(length)) = (
            fields.get("filename").and_then(Value::as_str),
            as_u64(fields.get("offset")),
            as_u64(fields.get("length")),
        ) else {
            v.problems.push(format!("{INDEX_PATH} line {n}: no filename, offset or length"));
            continue;
        };
        let Some(warc) = warcs.iter().find(|w| w.path.strip_prefix("archive/") == Some(filename)) else {
            v.problems.push(format!("{INDEX_PATH} line {n}: archive/{filename} was not read"));
            continue;
        };
        let Some(record) = warc.records.iter().find(|r| r.offset == offset) else {
            v.problems
                .push(format!("{INDEX_PATH} line {n}: no record starts at offset {offset} of {}", warc.path));
            continue;
        };
        covered.push((warc.path, offset));
        let mut wrong = Vec::new();
        if record.length != length {
            wrong.push("length");
        }
        if fields.get("url").and_then(Value::as_str) != record.target_uri() {
            wrong.push("url");
        }
        if Some(ts.to_owned()) != record.header("WARC-Date").and_then(timestamp14) {
            wrong.push("timestamp");
        }
        if let (Some(listed), Some(actual)) =
            (fields.get("digest").and_then(Value::as_str), record.header("WARC-Payload-Digest"))
            && listed != actual
        {
            wrong.push("digest");
        }
        if let Some(listed) = fields.get("recordDigest").and_then(Value::as_str) {
            let raw = usize::try_from(offset)
                .ok()
                .zip(offset.checked_add(length).and_then(|end| usize::try_from(end).ok()))
                .and_then(|(a, b)| warc.raw.get(a..b));
            if raw.map(sha256_label).as_deref() != Some(listed) {
                wrong.push("recordDigest");
            }
        }
        if !wrong.is_empty() {
            v.problems.push(format!(
                "{INDEX_PATH} line {n}: {} not those of the record at offset {offset}",
                wrong.join(", ")
            ));
        }
    }
    for warc in warcs {
        for record in warc.records.iter().filter(|r| indexed(r)) {
            if !covered.contains(&(warc.path, record.offset)) {
                v.problems.push(format!(
                    "{}, {} record at offset {}: not in {INDEX_PATH}",
                    warc.path,
                    record.record_type(),
                    record.offset
                ));
            }
        }
    }
}

fn check_pages(wacz: &Wacz, warcs: &[Warc], v: &mut Verification) {
    let Some(pages) = wacz.file(PAGES_PATH) else {
        return v.problems.push(format!("no {PAGES_PATH}"));
    };
    let Ok(text) = std::str::from_utf8(pages) else {
        return v.problems.push(format!("{PAGES_PATH} is not UTF-8"));
    };
    let captured: Vec<&str> = warcs
        .iter()
        .flat_map(|w| &w.records)
        .filter(|r| matches!(r.record_type(), "response" | "resource" | "revisit"))
        .filter_map(|r| r.target_uri())
        .collect();
    for (n, line) in text.lines().enumerate() {
        let value: Value = match serde_json::from_str(line) {
            Ok(value) => value,
            Err(e) => {
                v.problems.push(format!("{PAGES_PATH} line {}: {e}", n + 1));
                continue;
            }
        };
        if n == 0 {
            if value.get("format").and_then(Value::as_str).is_none() {
                v.problems.push(format!("{PAGES_PATH}: the first line is not a header with a format"));
            }
            continue;
        }
        v.pages += 1;
        let (Some(url), Some(_ts)) =
            (value.get("url").and_then(Value::as_str), value.get("ts").and_then(Value::as_str))
        else {
            v.problems.push(format!("{PAGES_PATH} line {}: no url or ts", n + 1));
            continue;
        };
        let bare = url.split('#').next().unwrap_or(url);
        if !captured.contains(&bare) {
            v.problems.push(format!("{PAGES_PATH} line {}: no record captured {url}", n + 1));
        }
    }
}
