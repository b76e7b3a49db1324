//! Writing WARC 1.1 records, each in a gzip member of its own (a `.warc.gz` that replay tools
//! can seek into): a `warcinfo` record, HTTP exchanges as `response` and `request` pairs, a
//! `resource` record (a screenshot) and `metadata` records (a TLS certificate chain).
//!
//! An [`Exchange`] is written as the client received it, in HTTP/1.1 form whatever protocol
//! carried it: the status line is `HTTP/1.1 <status> <reason>`, HTTP/2 pseudo-headers are
//! left out, and the protocols used are named in `WARC-Protocol` fields (`h2`, `tls/1.3`).
//! The body is stored decoded: `Transfer-Encoding` (never stored: replay tools would hash the
//! chunk framing) and every header the client undid (`Content-Encoding` when it decompressed)
//! are renamed `x-orig-<name>`, and `Content-Length` is set to the stored length (the
//! original value kept as `x-orig-content-length` when it differs).

use crate::digest::sha256_label;
use crate::error::WebArchiveError;
use chrono::{DateTime, Utc};
use flate2::Compression;
use flate2::write::GzEncoder;
use serde::Serialize;
use std::io::Write;
use std::net::IpAddr;

/// One HTTP request and the response to it, as the capture client saw them.
#[derive(Clone, Debug)]
pub struct Exchange {
    /// The absolute `http` or `https` URL requested. A fragment is not sent, and is left out
    /// of `WARC-Target-URI`.
    pub url: String,
    pub method: String,
    /// The request header fields sent, in order. A `Host` field is added from the URL when
    /// there is none (HTTP/2 sends `:authority` instead).
    pub request_head: Vec<(String, String)>,
    pub status: u16,
    /// The reason phrase; empty for HTTP/2, which has none (a standard one is written).
    pub reason: String,
    /// The response header fields received, in order.
    pub response_head: Vec<(String, String)>,
    /// The response body as stored: after undoing the transfer coding and whatever
    /// `decoded` names.
    pub body: Vec<u8>,
    /// Header names whose coding the client undid on `body` (e.g. `content-encoding`).
    pub decoded: Vec<String>,
    /// The address of the server connected to.
    pub ip: Option<IpAddr>,
    /// The protocols used, outermost last: e.g. `["h2", "tls/1.3"]` or `["http/1.1"]`.
    pub protocol: Vec<String>,
    /// The TLS cipher suite (IANA name), for `WARC-Cipher-Suite`.
    pub cipher_suite: Option<String>,
    /// The server's certificate chain in PEM, written as a `metadata` record.
    pub certificates_pem: Option<String>,
    /// When the response was received; shared by the exchange's records.
    pub date: DateTime<Utc>,
}

/// Where a record went, for the index and for records that refer to it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Written {
    /// The record's `WARC-Record-ID` without the angle brackets: `urn:uuid:...`.
    pub id: String,
    /// Offset of the record's gzip member in the output.
    pub offset: u64,
    /// Length of the gzip member.
    pub length: u64,
}

/// The records [`WarcWriter::exchange`] wrote.
#[derive(Clone, Debug, Serialize)]
pub struct ExchangeRecords {
    pub response: Written,
    pub request: Written,
    /// The `metadata` record with the certificate chain, when the exchange had one.
    pub certificates: Option<Written>,
}

/// Writes WARC 1.1 records to `W`, one gzip member each.
pub struct WarcWriter<W: Write> {
    out: W,
    offset: u64,
    warcinfo: Option<String>,
}

/// `WARC-Date`: UTC with microseconds, `2025-01-02T03:04:05.123456Z`.
pub fn warc_date(date: &DateTime<Utc>) -> String {
    date.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

const CONFORMS_TO: &str = "http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/";

impl<W: Write> WarcWriter<W> {
    pub fn new(out: W) -> Self {
        WarcWriter { out, offset: 0, warcinfo: None }
    }

    /// Bytes written so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    pub fn into_inner(self) -> W {
        self.out
    }

    /// The `warcinfo` record: `fields` (`software`, `operator`, `hostname`,
    /// `http-header-user-agent`, ...) as `name: value` lines, followed by `format` and
    /// `conformsTo` unless given. Records written after it name it in `WARC-Warcinfo-ID`.
    pub fn warcinfo(
        &mut self,
        filename: &str,
        date: &DateTime<Utc>,
        fields: &[(&str, &str)],
    ) -> Result<Written, WebArchiveError> {
        let mut block = String::new();
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        for (name, value) in [("format", "WARC file version 1.1"), ("conformsTo", CONFORMS_TO)] {
            if !all.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)) {
                all.push((name, value));
            }
        }
        for (name, value) in all {
            check_field("warcinfo field", name, value)?;
            block.push_str(&format!("{name}: {value}\r\n"));
        }
        check_value("WARC-Filename", filename)?;
        let id = new_id();
        let headers = vec![
            ("WARC-Type", "warcinfo".to_owned()),
            ("WARC-Record-ID", format!("<{id}>")),
            ("WARC-Date", warc_date(date)),
            ("WARC-Filename", filename.to_owned()),
            ("Content-Type", "application/warc-fields".to_owned()),
            ("WARC-Block-Digest", sha256_label(block.as_bytes())),
        ];
        let written = self.record(id, headers, block.as_bytes())?;
        self.warcinfo = Some(written.id.clone());
        Ok(written)
    }

    /// The `response` record, then the `request` record (`WARC-Concurrent-To` the response),
    /// then, when the exchange carries a certificate chain, a `metadata` record referring to
    /// the response.
    pub fn exchange(&mut self, ex: &Exchange) -> Result<ExchangeRecords, WebArchiveError> {
        let target = http_target(&ex.url)?;
        let url = ex.url.split('#').next().unwrap_or_default().to_owned();
        check_token("method", &ex.method)?;
        let mut extra = Vec::new();
        if let Some(ip) = ex.ip {
            extra.push(("WARC-IP-Address", ip.to_string()));
        }
        for p in &ex.protocol {
            check_value("WARC-Protocol", p)?;
            extra.push(("WARC-Protocol", p.clone()));
        }
        if let Some(suite) = &ex.cipher_suite {
            check_value("WARC-Cipher-Suite", suite)?;
            extra.push(("WARC-Cipher-Suite", suite.clone()));
        }

        // Both heads are built (and checked) before anything is written: an exchange is
        // written whole or not at all.
        let request_block = request_head(ex, &target)?;
        let mut block = response_head(ex)?;
        let head_len = block.len();
        block.extend_from_slice(&ex.body);
        let date = warc_date(&ex.date);
        let response_id = new_id();
        let mut headers = vec![
            ("WARC-Type", "response".to_owned()),
            ("WARC-Record-ID", format!("<{response_id}>")),
            ("WARC-Date", date.clone()),
            ("WARC-Target-URI", url.clone()),
        ];
        headers.extend(extra.iter().cloned());
        headers.extend([
            ("Content-Type", "application/http;msgtype=response".to_owned()),
            ("WARC-Payload-Digest", sha256_label(&block[head_len..])),
            ("WARC-Block-Digest", sha256_label(&block)),
        ]);
        let response = self.record(response_id, headers, &block)?;

        let block = request_block;
        let request_id = new_id();
        let mut headers = vec![
            ("WARC-Type", "request".to_owned()),
            ("WARC-Record-ID", format!("<{request_id}>")),
            ("WARC-Date", date),
            ("WARC-Target-URI", url.clone()),
            ("WARC-Concurrent-To", format!("<{}>", response.id)),
        ];
        headers.extend(extra);
        headers.extend([
            ("Content-Type", "application/http;msgtype=request".to_owned()),
            ("WARC-Payload-Digest", sha256_label(b"")),
            ("WARC-Block-Digest", sha256_label(&block)),
        ]);
        let request = self.record(request_id, headers, &block)?;

        let certificates = match &ex.certificates_pem {
            Some(pem) => Some(self.metadata(
                &format!("urn:tls-certificates:{url}"),
                "application/pem-certificate-chain",
                pem.as_bytes(),
                &ex.date,
                Some(&response.id),
            )?),
            None => None,
        };
        Ok(ExchangeRecords { response, request, certificates })
    }

    /// A `resource` record: `bytes` as they are (a screenshot: `urn:screenshot:<page url>`,
    /// `image/png`), `WARC-Concurrent-To` the record captured at the same moment (the page's
    /// response), if given.
    pub fn resource(
        &mut self,
        uri: &str,
        content_type: &str,
        bytes: &[u8],
        date: &DateTime<Utc>,
        concurrent_to: Option<&str>,
    ) -> Result<Written, WebArchiveError> {
        check_uri(uri)?;
        check_value("Content-Type", content_type)?;
        let id = new_id();
        let mut headers = vec![
            ("WARC-Type", "resource".to_owned()),
            ("WARC-Record-ID", format!("<{id}>")),
            ("WARC-Date", warc_date(date)),
            ("WARC-Target-URI", uri.to_owned()),
        ];
        if let Some(other) = concurrent_to {
            check_value("WARC-Concurrent-To", other)?;
            headers.push(("WARC-Concurrent-To", format!("<{other}>")));
        }
        headers.extend([
            ("Content-Type", content_type.to_owned()),
            ("WARC-Payload-Digest", sha256_label(bytes)),
            ("WARC-Block-Digest", sha256_label(bytes)),
        ]);
        self.record(id, headers, bytes)
    }

    /// A `metadata` record about another record (`WARC-Refers-To`), e.g. the TLS certificate
    /// chain of a response (`urn:tls-certificates:<url>`, `application/pem-certificate-chain`).
    /// A metadata block has no payload: only `WARC-Block-Digest` is written.
    pub fn metadata(
        &mut self,
        uri: &str,
        content_type: &str,
        bytes: &[u8],
        date: &DateTime<Utc>,
        refers_to: Option<&str>,
    ) -> Result<Written, WebArchiveError> {
        check_uri(uri)?;
        check_value("Content-Type", content_type)?;
        let id = new_id();
        let mut headers = vec![
            ("WARC-Type", "metadata".to_owned()),
            ("WARC-Record-ID", format!("<{id}>")),
            ("WARC-Date", warc_date(date)),
            ("WARC-Target-URI", uri.to_owned()),
        ];
        if let Some(other) = refers_to {
            check_value("WARC-Refers-To", other)?;
            headers.push(("WARC-Refers-To", format!("<{other}>")));
        }
        headers
            .extend([("Content-Type", content_type.to_owned()), ("WARC-Block-Digest", sha256_label(bytes))]);
        self.record(id, headers, bytes)
    }

    fn record(
        &mut self,
        id: String,
        mut headers: Vec<(&str, String)>,
        block: &[u8],
    ) -> Result<Written, WebArchiveError> {
        if let Some(info) = &self.warcinfo {
            let at = headers.iter().position(|(n, _)| *n == "Content-Type").unwrap_or(headers.len());
            headers.insert(at, ("WARC-Warcinfo-ID", format!("<{info}>")));
        }
        let mut raw = Vec::with_capacity(block.len() + 1024);
        raw.extend_from_slice(b"WARC/1.1\r\n");
        for (name, value) in &headers {
            raw.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
        }
        raw.extend_from_slice(format!("Content-Length: {}\r\n\r\n", block.len()).as_bytes());
        raw.extend_from_slice(block);
        raw.extend_from_slice(b"\r\n\r\n");
        let mut gz = GzEncoder::new(Vec::with_capacity(raw.len() / 2 + 64), Compression::default());
        gz.write_all(&raw)?;
        let member = gz.finish()?;
        self.out.write_all(&member)?;
        let offset = self.offset;
        self.offset += member.len() as u64;
        Ok(Written { id, offset, length: member.len() as u64 })
    }
}

fn new_id() -> String {
    format!("urn:uuid:{}", uuid::Uuid::new_v4())
}

/// RFC 9110 `token`.
fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

fn check_token(what: &str, s: &str) -> Result<(), WebArchiveError> {
    if is_token(s) {
        Ok(())
    } else {
        Err(WebArchiveError::invalid(what, format!("{s:?} is not an HTTP token")))
    }
}

/// A header value must stay on its line.
fn check_value(what: &str, value: &str) -> Result<(), WebArchiveError> {
    if value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
        return Err(WebArchiveError::invalid(what, format!("{value:?} holds a line break or NUL")));
    }
    Ok(())
}

fn check_field(what: &str, name: &str, value: &str) -> Result<(), WebArchiveError> {
    if name.is_empty() || name.bytes().any(|b| b <= b' ' || b == b':' || b >= 0x7f) {
        return Err(WebArchiveError::invalid(what, format!("{name:?} is not a field name")));
    }
    check_value(&format!("{what} {name}"), value)
}

/// `WARC-Target-URI`: an absolute URI, no spaces or control characters.
fn check_uri(uri: &str) -> Result<(), WebArchiveError> {
    let scheme_ok = uri.split_once(':').is_some_and(|(s, _)| {
        s.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
    });
    if !scheme_ok || uri.bytes().any(|b| b <= b' ' || b == 0x7f) {
        return Err(WebArchiveError::invalid("WARC-Target-URI", format!("{uri:?} is not an absolute URI")));
    }
    Ok(())
}

/// The parts of an `http(s)` URL the request line and `Host` need.
struct Target {
    authority: String,
    path_and_query: String,
}

fn http_target(url: &str) -> Result<Target, WebArchiveError> {
    check_uri(url)?;
    let lower = url.to_ascii_lowercase();
    let rest = if lower.starts_with("http://") {
        &url[7..]
    } else if lower.starts_with("https://") {
        &url[8..]
    } else {
        return Err(WebArchiveError::invalid("exchange URL", format!("{url:?} is not an http or https URL")));
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    let authority = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    if authority.is_empty() {
        return Err(WebArchiveError::invalid("exchange URL", format!("{url:?} has no host")));
    }
    let tail = &rest[end..];
    let tail = tail.split_once('#').map_or(tail, |(before, _)| before);
    let path_and_query = if tail.starts_with('/') { tail.to_owned() } else { format!("/{tail}") };
    Ok(Target { authority: authority.to_owned(), path_and_query })
}

fn reason_phrase(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        101 => "Switching Protocols",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        203 => "Non-Authoritative Information",
        204 => "No Content",
        206 => "Partial Content",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        429 => "Too Many Requests",
        451 => "Unavailable For Legal Reasons",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "",
    }
}

fn response_head(ex: &Exchange) -> Result<Vec<u8>, WebArchiveError> {
    if !(100..=999).contains(&ex.status) {
        return Err(WebArchiveError::invalid("status", format!("{} is not an HTTP status", ex.status)));
    }
    check_value("reason", &ex.reason)?;
    let reason = if ex.reason.is_empty() { reason_phrase(ex.status) } else { ex.reason.as_str() };
    let mut head = format!("HTTP/1.1 {} {reason}\r\n", ex.status);
    // A response to HEAD, and 1xx, 204 and 304 responses, have no body: their length fields
    // describe another message and are kept as they are.
    let bodiless =
        ex.method.eq_ignore_ascii_case("HEAD") || ex.status < 200 || ex.status == 204 || ex.status == 304;
    let actual = ex.body.len().to_string();
    let mut length_written = false;
    for (name, value) in &ex.response_head {
        if name.starts_with(':') {
            continue;
        }
        check_token("response header name", name)?;
        check_value(&format!("response header {name}"), value)?;
        let lower = name.to_ascii_lowercase();
        if lower == "content-length" && !bodiless {
            if value.trim() != actual {
                head.push_str(&format!("x-orig-{name}: {value}\r\n"));
            }
            if !length_written {
                head.push_str(&format!("{name}: {actual}\r\n"));
                length_written = true;
            }
        } else if lower == "transfer-encoding" || ex.decoded.iter().any(|d| d.eq_ignore_ascii_case(name)) {
            head.push_str(&format!("x-orig-{name}: {value}\r\n"));
        } else {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
    }
    if !length_written && !bodiless {
        head.push_str(&format!("content-length: {actual}\r\n"));
    }
    head.push_str("\r\n");
    Ok(head.into_bytes())
}

fn request_head(ex: &Exchange, target: &Target) -> Result<Vec<u8>, WebArchiveError> {
    let mut head = format!("{} {} HTTP/1.1\r\n", ex.method, target.path_and_query);
    let fields: Vec<&(String, String)> =
        ex.request_head.iter().filter(|(n, _)| !n.starts_with(':')).collect();
    if !fields.iter().any(|(n, _)| n.eq_ignore_ascii_case("host")) {
        head.push_str(&format!("host: {}\r\n", target.authority));
    }
    for (name, value) in fields {
        check_token("request header name", name)?;
        check_value(&format!("request header {name}"), value)?;
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    Ok(head.into_bytes())
}
