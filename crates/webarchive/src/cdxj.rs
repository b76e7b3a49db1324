//! The CDXJ index of a WARC (`indexes/index.cdxj` in a WACZ), line for line what the
//! reference indexer (`cdxj-indexer --digest-records --sort`) writes:
//!
//! ```text
//! <SURT key> <14-digit timestamp> {"url": ..., "mime": ..., "status": ..., "digest": ..., "length": ..., "offset": ..., "filename": ..., "recordDigest": ...}
//! ```
//!
//! One line per `response`, `revisit`, `resource` and `metadata` record (not those whose
//! Content-Type is `application/warc-fields`), sorted. `offset` and `length` are those of
//! the record's gzip member; `mime` is the HTTP Content-Type for HTTP records (the WARC one
//! otherwise) up to `;` or a space; `status` is the HTTP status of responses and revisits;
//! `digest` is the `WARC-Payload-Digest` as written (the indexer's own `sha1:` base32
//! digest of the payload when the record has none); `recordDigest` is the SHA-256 of the
//! member's bytes. Request-only fields of the reference (`referrer`, the method of a POST)
//! are not written.

use crate::digest::{sha1_base32_label, sha256_label};
use crate::json;
use crate::reader::Record;
use crate::surt::surt;
use serde_json::{Map, Value};

/// `YYYYMMDDhhmmss` of a `WARC-Date` (`YYYY-MM-DDThh:mm:ss[.f{1,9}]Z`), if it is one.
pub(crate) fn timestamp14(date: &str) -> Option<String> {
    let b = date.as_bytes();
    let digits = |r: std::ops::Range<usize>| b.get(r.clone()).filter(|s| s.iter().all(u8::is_ascii_digit));
    let shape = b.len() >= 20
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && *b.last()? == b'Z'
        && [0..4, 5..7, 8..10, 11..13, 14..16, 17..19].into_iter().all(|r| digits(r).is_some());
    if !shape {
        return None;
    }
    let fraction = &b[19..b.len() - 1];
    let fraction_ok = fraction.is_empty()
        || (fraction[0] == b'.'
            && (2..=10).contains(&fraction.len())
            && fraction[1..].iter().all(u8::is_ascii_digit));
    if !fraction_ok {
        return None;
    }
    let n = |r: std::ops::Range<usize>| date[r].parse::<u32>().ok();
    chrono::NaiveDate::from_ymd_opt(n(0..4)? as i32, n(5..7)?, n(8..10)?)?;
    chrono::NaiveTime::from_hms_opt(n(11..13)?, n(14..16)?, n(17..19)?)?;
    Some(format!(
        "{}{}{}{}{}{}",
        &date[0..4],
        &date[5..7],
        &date[8..10],
        &date[11..13],
        &date[14..16],
        &date[17..19]
    ))
}

/// Whether the reference indexer writes a line for this record.
pub(crate) fn indexed(record: &Record) -> bool {
    match record.record_type() {
        "response" | "revisit" => true,
        "resource" | "metadata" => record.header("Content-Type") != Some("application/warc-fields"),
        _ => false,
    }
}

/// The index entry of one record (the JSON part), or `None` for records not indexed.
pub(crate) fn entry(
    record: &Record,
    raw: &[u8],
    filename: &str,
) -> Option<(String, String, Map<String, Value>)> {
    if !indexed(record) {
        return None;
    }
    let url = record.target_uri()?.to_owned();
    let ts = timestamp14(record.header("WARC-Date")?)?;
    let http = record.http();
    let mut fields = Map::new();
    fields.insert("url".into(), url.clone().into());
    let mime = match record.record_type() {
        "revisit" => Some("warc/revisit".to_owned()),
        "response" => http.as_ref().and_then(|h| h.header("Content-Type")).map(str::to_owned),
        _ => record.header("Content-Type").map(str::to_owned),
    };
    if let Some(mime) = mime {
        let first = mime.split([';', ' ', '\t', '\r', '\n', '\x0b', '\x0c']).next().unwrap_or("");
        fields.insert("mime".into(), first.trim().into());
    }
    if matches!(record.record_type(), "response" | "revisit")
        && let Some(status) = http.as_ref().and_then(|h| h.status())
    {
        fields.insert("status".into(), status.into());
    }
    let digest = match record.header("WARC-Payload-Digest") {
        Some(d) => Some(d.to_owned()),
        None if record.record_type() == "revisit" => None,
        None => Some(sha1_base32_label(record.payload())),
    };
    if let Some(digest) = digest {
        fields.insert("digest".into(), digest.into());
    }
    fields.insert("length".into(), record.length.to_string().into());
    fields.insert("offset".into(), record.offset.to_string().into());
    fields.insert("filename".into(), filename.into());
    let start = usize::try_from(record.offset).ok()?;
    let end = start.checked_add(usize::try_from(record.length).ok()?)?;
    fields.insert("recordDigest".into(), sha256_label(raw.get(start..end)?).into());
    Some((surt(&url), ts, fields))
}

/// The sorted CDXJ lines (each ending in `\n`) for the records read from `raw`, a WARC
/// stored in the WACZ as `archive/<filename>`.
pub fn cdxj_lines(records: &[Record], raw: &[u8], filename: &str) -> Vec<String> {
    let mut lines: Vec<String> = records
        .iter()
        .filter_map(|r| entry(r, raw, filename))
        .map(|(key, ts, fields)| format!("{key} {ts} {}\n", json::compact(&Value::Object(fields))))
        .collect();
    lines.sort();
    lines.dedup();
    lines
}

#[cfg(test)]
mod tests {
    use super::timestamp14;

    #[test]
    fn warc_dates() {
        assert_eq!(timestamp14("2025-01-02T03:04:05Z").as_deref(), Some("20250102030405"));
        assert_eq!(timestamp14("2025-01-02T03:04:05.123456Z").as_deref(), Some("20250102030405"));
        assert_eq!(timestamp14("2025-01-02T03:04:05.123456789Z").as_deref(), Some("20250102030405"));
        for bad in [
            "2025-01-02 03:04:05Z",
            "2025-01-02T03:04:05",
            "2025-01-02T03:04:05+00:00",
            "2025-02-30T03:04:05Z",
            "2025-01-02T24:04:05Z",
            "2025-01-02T03:04:05.Z",
            "2025-01-02T03:04:05.1234567890Z",
            "",
        ] {
            assert_eq!(timestamp14(bad), None, "{bad:?}");
        }
    }
}
