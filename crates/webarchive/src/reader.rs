//! Reading WARC files (WARC/1.0 and WARC/1.1), gzip-compressed one record per member or
//! uncompressed, within limits, and checking each record's digests.
//!
//! A record's `offset` and `length` are those of its gzip member in a `.warc.gz` (what a
//! CDXJ index points at), or of the record itself in an uncompressed WARC.

use crate::digest::digest_matches;
use crate::error::WebArchiveError;
use serde::Serialize;
use std::io::Read;

/// How much a WARC may hold before reading it is refused.
#[derive(Clone, Debug, Serialize)]
pub struct WarcLimits {
    pub max_records: usize,
    /// The largest record block (`Content-Length`).
    pub max_record_bytes: u64,
    /// All records together, decompressed.
    pub max_total_bytes: u64,
    /// The largest WARC header block.
    pub max_header_bytes: usize,
}

impl Default for WarcLimits {
    fn default() -> Self {
        WarcLimits {
            max_records: 100_000,
            max_record_bytes: 512 << 20,
            max_total_bytes: 1 << 30,
            max_header_bytes: 64 << 10,
        }
    }
}

/// One WARC record.
#[derive(Clone, Debug)]
pub struct Record {
    /// `WARC/1.1` or `WARC/1.0`.
    pub version: String,
    /// The header fields in order, names as written.
    pub headers: Vec<(String, String)>,
    /// The `Content-Length` bytes of the block.
    pub block: Vec<u8>,
    pub offset: u64,
    pub length: u64,
}

/// The HTTP message head at the start of an `application/http` block.
#[derive(Clone, Debug)]
pub struct HttpHead {
    /// The first line: `HTTP/1.1 200 OK` or `GET / HTTP/1.1`.
    pub start_line: String,
    pub headers: Vec<(String, String)>,
    /// Where the payload (the entity body) starts in the block.
    pub payload_start: usize,
}

impl HttpHead {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The status code of a response head (`200`), as the reference indexer reads it.
    pub fn status(&self) -> Option<&str> {
        let rest = self.start_line.split_once(' ')?.1;
        Some(rest.split(' ').next().unwrap_or(rest))
    }
}

impl Record {
    /// The first field named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn record_type(&self) -> &str {
        self.header("WARC-Type").unwrap_or("")
    }

    /// `WARC-Record-ID` without angle brackets.
    pub fn id(&self) -> &str {
        strip_brackets(self.header("WARC-Record-ID").unwrap_or(""))
    }

    pub fn target_uri(&self) -> Option<&str> {
        self.header("WARC-Target-URI").map(strip_brackets)
    }

    /// Whether the block is an HTTP message whose payload is its entity body: a request,
    /// response or revisit record for an `http` or `https` URL, as the reference tools decide.
    pub fn is_http(&self) -> bool {
        matches!(self.record_type(), "response" | "request" | "revisit")
            && self.target_uri().is_some_and(|u| {
                let u = u.to_ascii_lowercase();
                u.starts_with("http:") || u.starts_with("https:")
            })
    }

    /// The HTTP head of an HTTP block.
    pub fn http(&self) -> Option<HttpHead> {
        if !self.is_http() || self.block.is_empty() {
            return None;
        }
        parse_http_head(&self.block)
    }

    /// The payload: the entity body of an HTTP block, otherwise the whole block.
    pub fn payload(&self) -> &[u8] {
        if self.is_http() {
            let start = self.http().map_or(self.block.len(), |h| h.payload_start);
            &self.block[start..]
        } else {
            &self.block
        }
    }
}

fn strip_brackets(s: &str) -> &str {
    s.strip_prefix('<').and_then(|s| s.strip_suffix('>')).unwrap_or(s)
}

/// Lines up to the first empty one (`\r\n` or `\n` endings, as the reference tools accept).
/// Without an empty line the whole block is head and the payload is empty.
fn parse_http_head(block: &[u8]) -> Option<HttpHead> {
    let mut lines = Vec::new();
    let mut at = 0;
    let mut payload_start = block.len();
    while at < block.len() {
        let end = block[at..].iter().position(|&b| b == b'\n').map_or(block.len(), |p| at + p + 1);
        let line = &block[at..end];
        let text = line.strip_suffix(b"\n").unwrap_or(line);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        at = end;
        if text.is_empty() && !lines.is_empty() {
            payload_start = at;
            break;
        }
        lines.push(String::from_utf8_lossy(text).into_owned());
    }
    let mut lines = lines.into_iter();
    let start_line = lines.next()?;
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in lines {
        if line.starts_with([' ', '\t']) {
            if let Some(last) = headers.last_mut() {
                last.1.push(' ');
                last.1.push_str(line.trim());
            }
            continue;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_owned(), value.trim().to_owned()));
        }
    }
    Some(HttpHead { start_line, headers, payload_start })
}

/// Reads every record of a WARC: gzip members (one record each) when `bytes` start with the
/// gzip magic, otherwise uncompressed records one after another. Refused, never truncated:
/// anything that is not a complete record, and anything over `limits`.
pub fn read_warc(bytes: &[u8], limits: &WarcLimits) -> Result<Vec<Record>, WebArchiveError> {
    let mut records = Vec::new();
    let mut total: u64 = 0;
    let mut at = 0usize;
    let gzip = bytes.starts_with(&[0x1f, 0x8b]);
    if bytes.is_empty() {
        return Err(WebArchiveError::warc(0, "the WARC is empty"));
    }
    while at < bytes.len() {
        if records.len() >= limits.max_records {
            return Err(WebArchiveError::warc(
                at as u64,
                format!("more than {} records", limits.max_records),
            ));
        }
        let offset = at as u64;
        if gzip {
            let budget = limits.max_total_bytes.saturating_sub(total);
            let (data, used) = gunzip_member(
                &bytes[at..],
                budget.min(limits.max_record_bytes + limits.max_header_bytes as u64 + 8),
            )
            .map_err(|e| WebArchiveError::warc(offset, e))?;
            let (mut record, consumed) =
                parse_record(&data, limits).map_err(|e| WebArchiveError::warc(offset, e))?;
            if consumed != data.len() {
                return Err(WebArchiveError::warc(
                    offset,
                    "the gzip member holds more than one record (one record per member expected)",
                ));
            }
            total += data.len() as u64;
            record.offset = offset;
            record.length = used as u64;
            records.push(record);
            at += used;
        } else {
            let (mut record, consumed) =
                parse_record(&bytes[at..], limits).map_err(|e| WebArchiveError::warc(offset, e))?;
            total += consumed as u64;
            if total > limits.max_total_bytes {
                return Err(WebArchiveError::warc(
                    offset,
                    format!("more than {} bytes", limits.max_total_bytes),
                ));
            }
            record.offset = offset;
            record.length = consumed as u64;
            records.push(record);
            at += consumed;
        }
    }
    Ok(records)
}

/// Decompresses the gzip member at the start of `bytes`, at most `limit` bytes of it.
/// Returns the data and the length of the member.
fn gunzip_member(bytes: &[u8], limit: u64) -> Result<(Vec<u8>, usize), String> {
    let mut decoder = flate2::bufread::GzDecoder::new(bytes);
    let mut data = Vec::new();
    (&mut decoder)
        .take(limit.saturating_add(1))
        .read_to_end(&mut data)
        .map_err(|e| format!("gzip member: {e}"))?;
    if data.len() as u64 > limit {
        return Err(format!("the gzip member decompresses to more than {limit} bytes"));
    }
    // The decoder has read the member's trailer (and checked its CRC and size) when it
    // reports the end of the data; what is left of the input follows the member.
    let rest = decoder.into_inner();
    let used = bytes.len() - rest.len();
    if used == 0 || data.is_empty() {
        return Err("an empty gzip member".to_owned());
    }
    Ok((data, used))
}

/// One record at the start of `data`: its version line, header, block and the `\r\n\r\n`
/// after it. Returns the record and the bytes it took.
fn parse_record(data: &[u8], limits: &WarcLimits) -> Result<(Record, usize), String> {
    let head_end = find(data, b"\r\n\r\n", limits.max_header_bytes + 4).ok_or_else(|| {
        if data.len() > limits.max_header_bytes {
            format!("no end of the WARC header within {} bytes", limits.max_header_bytes)
        } else {
            "truncated WARC header".to_owned()
        }
    })?;
    let head =
        std::str::from_utf8(&data[..head_end]).map_err(|_| "the WARC header is not UTF-8".to_owned())?;
    let mut lines = head.split("\r\n");
    let version = lines.next().unwrap_or("");
    if version != "WARC/1.1" && version != "WARC/1.0" {
        let shown: String = version.chars().take(40).collect();
        return Err(format!("not a WARC record (first line {shown:?})"));
    }
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in lines {
        if line.starts_with([' ', '\t']) {
            let last = headers.last_mut().ok_or("a WARC header starts with a continuation line")?;
            last.1.push(' ');
            last.1.push_str(line.trim());
            continue;
        }
        let (name, value) =
            line.split_once(':').ok_or_else(|| format!("WARC header line {line:?} has no colon"))?;
        let name = name.trim();
        if name.is_empty() || name.bytes().any(|b| b <= b' ' || b >= 0x7f) {
            return Err(format!("WARC header field name {name:?} is not a token"));
        }
        headers.push((name.to_owned(), value.trim().to_owned()));
    }
    let lengths: Vec<&str> = headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("Content-Length"))
        .map(|(_, v)| v.as_str())
        .collect();
    let [length] = lengths[..] else {
        return Err(format!("{} Content-Length fields (one expected)", lengths.len()));
    };
    if length.is_empty() || length.len() > 19 || !length.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("Content-Length {length:?} is not a number"));
    }
    let length: u64 = length.parse().map_err(|_| format!("Content-Length {length:?} is not a number"))?;
    if length > limits.max_record_bytes {
        return Err(format!("a record block of {length} bytes (at most {} read)", limits.max_record_bytes));
    }
    let start = head_end + 4;
    let end = start.checked_add(length as usize).filter(|&e| e <= data.len()).ok_or_else(|| {
        format!("truncated record: {length} bytes of block announced, {} present", data.len() - start)
    })?;
    if data.get(end..end + 4) != Some(b"\r\n\r\n") {
        return Err("the record block is not followed by CRLF CRLF".to_owned());
    }
    let record = Record {
        version: version.to_owned(),
        headers,
        block: data[start..end].to_vec(),
        offset: 0,
        length: 0,
    };
    Ok((record, end + 4))
}

fn find(haystack: &[u8], needle: &[u8], within: usize) -> Option<usize> {
    let window = &haystack[..haystack.len().min(within)];
    window.windows(needle.len()).position(|w| w == needle)
}

/// What is wrong with a record, as sentences; empty when nothing is. Checks the mandatory
/// fields and `WARC-Date`, and the digests: a record without `WARC-Block-Digest` cannot be
/// checked and is a problem; `WARC-Payload-Digest`, where present (except on revisit records,
/// whose payload is elsewhere), must match the payload.
pub fn check_record(record: &Record) -> Vec<String> {
    let mut problems = Vec::new();
    for name in ["WARC-Record-ID", "WARC-Date", "WARC-Type"] {
        if record.header(name).is_none_or(str::is_empty) {
            problems.push(format!("no {name}"));
        }
    }
    if let Some(date) = record.header("WARC-Date")
        && crate::cdxj::timestamp14(date).is_none()
    {
        problems.push(format!("WARC-Date {date:?} is not YYYY-MM-DDThh:mm:ss[.f]Z"));
    }
    if matches!(record.record_type(), "response" | "request" | "resource" | "revisit")
        && record.target_uri().is_none()
    {
        problems.push(format!("a {} record without WARC-Target-URI", record.record_type()));
    }
    match record.header("WARC-Block-Digest") {
        None => problems.push("no WARC-Block-Digest".to_owned()),
        Some(label) => match digest_matches(label, &record.block) {
            Ok(true) => {}
            Ok(false) => problems.push(format!("block digest failed: {label}")),
            Err(e) => problems.push(format!("block digest: {e}")),
        },
    }
    if record.record_type() != "revisit"
        && let Some(label) = record.header("WARC-Payload-Digest")
    {
        match digest_matches(label, record.payload()) {
            Ok(true) => {}
            Ok(false) => problems.push(format!("payload digest failed: {label}")),
            Err(e) => problems.push(format!("payload digest: {e}")),
        }
    }
    problems
}
