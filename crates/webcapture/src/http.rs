//! One HTTP/1.1 exchange, with the bytes seen exactly, and redirect chains made of them.
//!
//! The request is a plain `GET` with `Accept-Encoding: identity` and `Connection: close`, so
//! that a response body normally arrives as the server stores it. The response head may be
//! 64 KiB; the body is framed by chunked coding, `Content-Length` or the connection's end
//! (RFC 9112 §6.3) and read into memory no further than the limit it is given. A body is
//! stored decoded: the transfer coding undone, and gzip or deflate undone when a server sends
//! them anyway; the header fields that no longer describe the stored body are renamed
//! `x-orig-<name>`, as web archives expect.

use std::borrow::Cow;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::time::Instant;

use chrono::Utc;
use flate2::read::{DeflateDecoder, MultiGzDecoder, ZlibDecoder};
use rustls::ClientConfig;
use std::sync::Arc;
use url::{Position, Url};

use crate::net::{self, Conn, Resolver, Socket};
use crate::{Exchange, Truncated, size};

/// Largest response head read.
const HEAD_LIMIT: usize = 64 * 1024;
/// Informational (1xx) responses skipped before giving up on a final one.
const MAX_INTERIM: usize = 16;

/// What every exchange of one capture shares.
pub(crate) struct Client {
    pub tls: Arc<ClientConfig>,
    pub resolver: Resolver,
    pub user_agent: String,
    pub connect_timeout: std::time::Duration,
    pub private_addresses: bool,
}

/// What one request asks for and within which bounds.
#[derive(Clone)]
pub(crate) struct Ask {
    pub accept: &'static str,
    pub referer: Option<String>,
    /// Most body bytes kept.
    pub limit: u64,
    /// The limit in words, for messages: "the 16 MiB limit for a page".
    pub limit_why: String,
    /// Whether to keep the start of a body over the limit (a page), or stop at once when its
    /// declared length is over it (an image, which is then left out).
    pub keep_partial: bool,
    pub deadline: Instant,
    /// The deadline in words: "the 30 s deadline for one resource".
    pub deadline_why: String,
}

/// Why an exchange produced no response.
#[derive(Debug)]
pub(crate) struct Failure {
    pub stage: Stage,
    pub message: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stage {
    /// Before a connection: a bad URL, a name that does not resolve, no address accepts one.
    Reach,
    /// The TLS handshake.
    Tls,
    /// Sending the request or reading the response head.
    Response,
}

fn fail(stage: Stage, message: impl Into<String>) -> Failure {
    Failure { stage, message: message.into() }
}

/// Sends one `GET` for `url` and reads the response within `ask`'s bounds.
pub(crate) fn exchange(client: &Client, url: &Url, ask: &Ask) -> Result<Exchange, Failure> {
    let secure = match url.scheme() {
        "https" => true,
        "http" => false,
        other => return Err(fail(Stage::Reach, format!("a {other}: URL cannot be fetched over HTTP"))),
    };
    let host = url.host().ok_or_else(|| fail(Stage::Reach, "the URL names no host"))?;
    let port = url.port_or_known_default().ok_or_else(|| fail(Stage::Reach, "the URL names no port"))?;
    let mut ips = client.resolver.addresses(&host, port, ask.deadline).map_err(|m| fail(Stage::Reach, m))?;
    if !client.private_addresses {
        let all = ips.clone();
        ips.retain(|ip| net::is_public(*ip));
        if ips.is_empty() {
            let list: Vec<String> = all.iter().map(|ip| ip.to_string()).collect();
            return Err(fail(
                Stage::Reach,
                format!("{host} resolves only to addresses that are not public ({})", list.join(", ")),
            ));
        }
    }
    let tcp =
        net::connect(&ips, port, client.connect_timeout, ask.deadline).map_err(|m| fail(Stage::Reach, m))?;
    let ip = tcp.peer_addr().ok().map(|a| a.ip());
    let sock = Socket { tcp, deadline: ask.deadline };
    let (mut conn, tls) = if secure {
        let (conn, facts) = net::handshake(&client.tls, &host, sock).map_err(|m| fail(Stage::Tls, m))?;
        (conn, Some(facts))
    } else {
        (Conn::Plain(sock), None)
    };

    let request_head = request_head(client, url, ask);
    let target = match &url[Position::BeforePath..Position::AfterQuery] {
        "" => "/",
        t => t,
    };
    let mut raw = format!("GET {target} HTTP/1.1\r\n");
    for (name, value) in &request_head {
        raw.push_str(&format!("{name}: {value}\r\n"));
    }
    raw.push_str("\r\n");
    conn.write_all(raw.as_bytes())
        .and_then(|()| conn.flush())
        .map_err(|e| fail(Stage::Response, format!("sending the request failed: {}", io_message(&e, ask))))?;

    let mut reader = BufReader::with_capacity(16 * 1024, conn);
    let mut head = read_head(&mut reader, ask)?;
    let mut interim = 0;
    // 1xx responses (100 Continue, 103 Early Hints) precede the real one.
    while (100..200).contains(&head.status) && head.status != 101 {
        interim += 1;
        if interim > MAX_INTERIM {
            return Err(fail(Stage::Response, format!("more than {MAX_INTERIM} informational responses")));
        }
        head = read_head(&mut reader, ask)?;
    }
    if head.status == 101 {
        return Err(fail(Stage::Response, "the server switched protocols, which was not asked for"));
    }
    let date = Utc::now();

    let mut problems: Vec<String> = head.problems.clone();
    let framing = framing(&head, &mut problems);
    let declared = match framing {
        Framing::Length(n) => Some(n),
        _ => None,
    };
    let mut body = Vec::new();
    let mut truncated = None;
    if let (Some(n), false) = (declared, ask.keep_partial)
        && n > ask.limit
    {
        truncated = Some(Truncated::Length);
        problems.push(format!("it declares a body of {n} bytes, over {}: not downloaded", ask.limit_why));
    } else if let Err(stop) = read_body(&mut reader, framing, ask.limit, &mut body) {
        let (kind, message) = stop.describe(body.len(), declared, ask);
        if matches!(stop, Stop::TlsEof) && framing == Framing::Close {
            // Many servers close without close_notify, which ends a body framed by the close
            // just the same; say so, since such an end cannot be told from a cut.
            problems.push(format!("{message}; the body was framed by the connection's end"));
        } else {
            truncated = Some(kind);
            problems.push(message);
        }
    }

    let mut renamed: Vec<String> = Vec::new();
    let codings = content_codings(&head.fields);
    if !codings.is_empty() {
        if truncated.is_some() {
            problems
                .push(format!("the body is {} but incomplete, so it is kept as sent", codings.join(", ")));
        } else {
            match decode(&body, &codings, ask.limit) {
                Decoded::Whole(plain) => {
                    body = plain;
                    renamed.push("content-encoding".into());
                }
                Decoded::OverLimit(plain) => {
                    body = plain;
                    renamed.push("content-encoding".into());
                    truncated = Some(Truncated::Length);
                    problems.push(format!(
                        "decompressed, the body is over {}: stopped after {} bytes",
                        ask.limit_why,
                        body.len()
                    ));
                }
                Decoded::Kept(why) => problems.push(why),
            }
        }
    }
    if head.fields.iter().any(|(n, _)| n.eq_ignore_ascii_case("transfer-encoding")) {
        renamed.insert(0, "transfer-encoding".into());
    }
    let response_head = stored_head(&head.fields, &mut renamed, body.len() as u64);

    let mut protocol = vec![head.version.to_ascii_lowercase()];
    let (mut cipher_suite, mut certificates_pem) = (None, None);
    if let Some(facts) = tls {
        protocol.push(facts.version);
        cipher_suite = facts.cipher_suite;
        certificates_pem = facts.chain_pem;
    }
    Ok(Exchange {
        url: url.to_string(),
        method: "GET".into(),
        request_head,
        status: head.status,
        reason: head.reason,
        response_head,
        body,
        renamed,
        ip,
        protocol,
        cipher_suite,
        certificates_pem,
        date,
        truncated,
        problem: if problems.is_empty() { None } else { Some(problems.join("; ")) },
    })
}

fn request_head(client: &Client, url: &Url, ask: &Ask) -> Vec<(String, String)> {
    let host = match (url.host_str(), url.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_owned(),
        (None, _) => String::new(),
    };
    let mut head = vec![
        ("Host".to_owned(), host),
        ("User-Agent".to_owned(), client.user_agent.clone()),
        ("Accept".to_owned(), ask.accept.to_owned()),
        ("Accept-Encoding".to_owned(), "identity".to_owned()),
    ];
    if let Some(referer) = &ask.referer {
        head.push(("Referer".to_owned(), referer.clone()));
    }
    head.push(("Connection".to_owned(), "close".to_owned()));
    head
}

/// A response head as received.
#[derive(Debug)]
struct Head {
    version: String,
    status: u16,
    reason: String,
    fields: Vec<(String, String)>,
    problems: Vec<String>,
}

/// Reads one response head (status line and fields, up to the empty line), at most 64 KiB.
fn read_head(r: &mut impl BufRead, ask: &Ask) -> Result<Head, Failure> {
    let mut lines: Vec<Vec<u8>> = Vec::new();
    let mut used = 0usize;
    loop {
        let mut line = Vec::new();
        let room = (HEAD_LIMIT - used) as u64;
        let n = r.by_ref().take(room).read_until(b'\n', &mut line).map_err(|e| {
            fail(Stage::Response, format!("reading the response head failed: {}", io_message(&e, ask)))
        })?;
        used += n;
        if n == 0 {
            return Err(fail(
                Stage::Response,
                if lines.is_empty() {
                    "the server closed the connection without answering".to_owned()
                } else {
                    "the connection closed in the middle of the response head".to_owned()
                },
            ));
        }
        if !line.ends_with(b"\n") {
            return Err(fail(
                Stage::Response,
                format!("the response head is over {}", size(HEAD_LIMIT as u64)),
            ));
        }
        let text = trim_eol(&line);
        if text.is_empty() {
            // Empty lines before the status line are tolerated (RFC 9112 §2.2).
            if lines.is_empty() {
                continue;
            }
            break;
        }
        lines.push(text.to_vec());
    }
    let status_line = text(&lines[0]);
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or("");
    if !version.starts_with("HTTP/1.") {
        let start: String = status_line.chars().take(40).collect();
        return Err(fail(Stage::Response, format!("not an HTTP/1.x response (it starts {start:?})")));
    }
    let status = parts
        .next()
        .and_then(|s| if s.len() == 3 { s.parse::<u16>().ok() } else { None })
        .filter(|s| (100..600).contains(s))
        .ok_or_else(|| fail(Stage::Response, format!("a malformed status line: {status_line:?}")))?;
    let reason = parts.next().unwrap_or("").trim().to_owned();
    let mut fields: Vec<(String, String)> = Vec::new();
    let mut problems = Vec::new();
    for raw in &lines[1..] {
        let line = text(raw);
        if line.starts_with([' ', '\t']) {
            // An obsolete line folding continues the field before it.
            match fields.last_mut() {
                Some((_, value)) => {
                    value.push(' ');
                    value.push_str(line.trim());
                }
                None => problems.push(format!("a folded line with no field before it was ignored: {line:?}")),
            }
            continue;
        }
        match line.split_once(':') {
            Some((name, value)) if !name.is_empty() && !name.contains([' ', '\t']) => {
                fields.push((name.to_owned(), value.trim_matches([' ', '\t']).to_owned()))
            }
            _ => problems.push(format!("a malformed header line was ignored: {line:?}")),
        }
    }
    Ok(Head { version: version.to_owned(), status, reason, fields, problems })
}

fn trim_eol(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Header bytes as text: UTF-8 when they are, else Latin-1 (one character per byte), so
/// that nothing is lost.
fn text(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => bytes.iter().map(|&b| b as char).collect(),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Framing {
    Empty,
    Chunked,
    Length(u64),
    Close,
}

/// How the body is delimited (RFC 9112 §6.3).
fn framing(head: &Head, problems: &mut Vec<String>) -> Framing {
    if (100..200).contains(&head.status) || head.status == 204 || head.status == 304 {
        return Framing::Empty;
    }
    let values = |name: &str| -> Vec<String> {
        head.fields
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .flat_map(|(_, v)| v.split(',').map(|s| s.trim().to_ascii_lowercase()).collect::<Vec<_>>())
            .filter(|s| !s.is_empty())
            .collect()
    };
    let transfer = values("transfer-encoding");
    if !transfer.is_empty() {
        return if transfer.last().map(String::as_str) == Some("chunked") {
            Framing::Chunked
        } else {
            Framing::Close
        };
    }
    let lengths = values("content-length");
    if lengths.is_empty() {
        return Framing::Close;
    }
    let parsed: Vec<Option<u64>> = lengths.iter().map(|l| l.parse::<u64>().ok()).collect();
    match parsed[0] {
        Some(n) if parsed.iter().all(|p| *p == Some(n)) => Framing::Length(n),
        _ => {
            problems.push(format!(
                "an invalid Content-Length ({}): read to the connection's end",
                lengths.join(", ")
            ));
            Framing::Close
        }
    }
}

/// Why reading a body stopped early.
enum Stop {
    Limit,
    Time,
    Closed(Option<String>),
    /// The TLS connection ended without close_notify.
    TlsEof,
    Malformed(String),
}

impl Stop {
    fn from_io(e: io::Error) -> Stop {
        match e.kind() {
            io::ErrorKind::TimedOut => Stop::Time,
            io::ErrorKind::UnexpectedEof => Stop::TlsEof,
            _ => Stop::Closed(Some(e.to_string())),
        }
    }

    fn describe(&self, got: usize, declared: Option<u64>, ask: &Ask) -> (Truncated, String) {
        let of = match declared {
            Some(n) => format!("{got} of {n} bytes"),
            None => format!("{got} bytes"),
        };
        match self {
            Stop::Limit => {
                (Truncated::Length, format!("the body is over {}: stopped after {of}", ask.limit_why))
            }
            Stop::Time => (Truncated::Time, format!("{} passed after {of} of the body", ask.deadline_why)),
            Stop::Closed(None) => {
                (Truncated::Disconnect, format!("the connection closed after {of} of the body"))
            }
            Stop::Closed(Some(why)) => {
                (Truncated::Disconnect, format!("the connection failed after {of} of the body ({why})"))
            }
            Stop::TlsEof => {
                (Truncated::Disconnect, format!("the TLS connection ended without close_notify after {of}"))
            }
            Stop::Malformed(why) => {
                (Truncated::Unspecified, format!("the chunked body is malformed after {of} ({why})"))
            }
        }
    }
}

fn read_body(r: &mut impl BufRead, framing: Framing, limit: u64, body: &mut Vec<u8>) -> Result<(), Stop> {
    match framing {
        Framing::Empty => Ok(()),
        Framing::Length(n) => pull(r, Some(n), limit, body),
        Framing::Close => pull(r, None, limit, body),
        Framing::Chunked => chunked(r, limit, body),
    }
}

/// Appends `want` bytes (all up to the connection's end when `None`) to `body`, never
/// holding more than `limit`.
fn pull(r: &mut impl BufRead, want: Option<u64>, limit: u64, body: &mut Vec<u8>) -> Result<(), Stop> {
    let mut left = want;
    loop {
        if left == Some(0) {
            return Ok(());
        }
        let buf = match r.fill_buf() {
            Ok(buf) => buf,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Stop::from_io(e)),
        };
        if buf.is_empty() {
            return if left.is_none() { Ok(()) } else { Err(Stop::Closed(None)) };
        }
        let room = limit.saturating_sub(body.len() as u64);
        if room == 0 {
            return Err(Stop::Limit);
        }
        let mut n = buf.len() as u64;
        if let Some(l) = left {
            n = n.min(l);
        }
        let n = n.min(room) as usize;
        body.extend_from_slice(&buf[..n]);
        r.consume(n);
        left = left.map(|l| l - n as u64);
    }
}

/// Reads one line of chunk framing, at most `max` bytes.
fn framing_line(r: &mut impl BufRead, max: u64) -> Result<Vec<u8>, Stop> {
    let mut line = Vec::new();
    let n = r.by_ref().take(max).read_until(b'\n', &mut line).map_err(Stop::from_io)?;
    if n == 0 {
        return Err(Stop::Closed(None));
    }
    if !line.ends_with(b"\n") {
        return Err(Stop::Malformed(format!("a framing line over {max} bytes")));
    }
    Ok(trim_eol(&line).to_vec())
}

fn chunked(r: &mut impl BufRead, limit: u64, body: &mut Vec<u8>) -> Result<(), Stop> {
    loop {
        let line = framing_line(r, 4096)?;
        let line = String::from_utf8_lossy(&line);
        // Chunk extensions (after ';') carry nothing for us.
        let hex = line.split(';').next().unwrap_or("").trim();
        let chunk =
            u64::from_str_radix(hex, 16).map_err(|_| Stop::Malformed(format!("a chunk size of {hex:?}")))?;
        if chunk == 0 {
            // Trailer fields up to the empty line; a server that closes instead is done too.
            let mut trailer = 0u64;
            loop {
                match framing_line(r, 8192) {
                    Ok(t) if t.is_empty() => return Ok(()),
                    Ok(t) => {
                        trailer += t.len() as u64;
                        if trailer > HEAD_LIMIT as u64 {
                            return Err(Stop::Malformed("trailer fields over 64 KiB".into()));
                        }
                    }
                    Err(Stop::Closed(_) | Stop::TlsEof) => return Ok(()),
                    Err(other) => return Err(other),
                }
            }
        }
        pull(r, Some(chunk), limit, body)?;
        if !framing_line(r, 16)?.is_empty() {
            return Err(Stop::Malformed("no line end after a chunk".into()));
        }
    }
}

/// The content codings applied to the body, in the order applied (`identity` left out).
fn content_codings(fields: &[(String, String)]) -> Vec<String> {
    fields
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("content-encoding"))
        .flat_map(|(_, v)| v.split(',').map(|s| s.trim().to_ascii_lowercase()).collect::<Vec<_>>())
        .filter(|s| !s.is_empty() && s != "identity")
        .collect()
}

enum Decoded {
    Whole(Vec<u8>),
    OverLimit(Vec<u8>),
    /// Not decoded, and why: the body is kept as sent.
    Kept(String),
}

/// Undoes gzip and deflate codings (last applied first), never producing more than `limit`.
fn decode(body: &[u8], codings: &[String], limit: u64) -> Decoded {
    if let Some(other) = codings.iter().find(|c| !matches!(c.as_str(), "gzip" | "x-gzip" | "deflate")) {
        return Decoded::Kept(format!(
            "the body is {other}-coded, which is not decoded here: it is kept as sent"
        ));
    }
    let mut data: Cow<[u8]> = Cow::Borrowed(body);
    for coding in codings.iter().rev() {
        let mut out = Vec::new();
        let result = match coding.as_str() {
            "deflate" => {
                // "deflate" is meant as zlib, but some servers send raw deflate.
                let zlib = ZlibDecoder::new(&data[..]).take(limit + 1).read_to_end(&mut out);
                if zlib.is_err() {
                    out.clear();
                    DeflateDecoder::new(&data[..]).take(limit + 1).read_to_end(&mut out)
                } else {
                    zlib
                }
            }
            _ => MultiGzDecoder::new(&data[..]).take(limit + 1).read_to_end(&mut out),
        };
        if let Err(e) = result {
            return Decoded::Kept(format!(
                "the body is marked {coding} but does not decode ({e}): it is kept as sent"
            ));
        }
        if out.len() as u64 > limit {
            out.truncate(limit as usize);
            return Decoded::OverLimit(out);
        }
        data = Cow::Owned(out);
    }
    Decoded::Whole(data.into_owned())
}

/// The head as stored: the fields in `renamed` kept as `x-orig-<name>`, and, when a
/// `Content-Length` received differs from the stored length or another field was renamed,
/// the received one renamed too and the stored length given.
fn stored_head(fields: &[(String, String)], renamed: &mut Vec<String>, stored: u64) -> Vec<(String, String)> {
    let lengths: Vec<&str> = fields
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .map(|(_, v)| v.as_str())
        .collect();
    let length_differs = lengths.iter().any(|v| v.trim() != stored.to_string());
    if length_differs {
        renamed.push("content-length".into());
    }
    let mut out = Vec::with_capacity(fields.len() + 1);
    let mut placed = false;
    for (name, value) in fields {
        let lower = name.to_ascii_lowercase();
        if renamed.contains(&lower) {
            out.push((format!("x-orig-{lower}"), value.clone()));
            if lower == "content-length" && !placed {
                out.push(("content-length".to_owned(), stored.to_string()));
                placed = true;
            }
        } else {
            out.push((name.clone(), value.clone()));
        }
    }
    if !placed && lengths.is_empty() && !renamed.is_empty() {
        out.push(("content-length".to_owned(), stored.to_string()));
    }
    out
}

fn io_message(e: &io::Error, ask: &Ask) -> String {
    if e.kind() == io::ErrorKind::TimedOut { format!("{} passed", ask.deadline_why) } else { e.to_string() }
}

/// How a redirect chain ended.
pub(crate) enum End {
    /// With a response that is not a redirect (the last exchange).
    Done,
    /// A hop produced no response.
    Failed(Failure),
    /// A redirect to a URL already visited; the chain of URLs, the repeated one last.
    Loop(Vec<String>),
    /// More redirects than allowed, or one to something that cannot be fetched.
    Redirect(String),
}

pub(crate) struct Chain {
    pub exchanges: Vec<Exchange>,
    pub end: End,
}

/// Fetches `start`, following redirects (301, 302, 303, 307, 308), each hop recorded. The
/// bodies of all hops together stay within `ask.limit`.
pub(crate) fn follow(client: &Client, start: &Url, ask: &Ask, max_redirects: usize) -> Chain {
    let mut url = without_fragment(start);
    let mut seen = vec![url.to_string()];
    let mut exchanges: Vec<Exchange> = Vec::new();
    let mut held = 0u64;
    loop {
        let hop = Ask { limit: ask.limit.saturating_sub(held), ..ask.clone() };
        let ex = match exchange(client, &url, &hop) {
            Ok(ex) => ex,
            Err(failure) => return Chain { exchanges, end: End::Failed(failure) },
        };
        let location = match ex.status {
            301 | 302 | 303 | 307 | 308 if ex.truncated.is_none() => ex.header("location").map(str::to_owned),
            _ => None,
        };
        held += ex.body.len() as u64;
        exchanges.push(ex);
        let Some(location) = location else {
            return Chain { exchanges, end: End::Done };
        };
        let next = match url.join(location.trim()) {
            Ok(next) => without_fragment(&next),
            Err(e) => {
                let why = format!("{url} redirects to {location:?}, which is not a URL ({e})");
                return Chain { exchanges, end: End::Redirect(why) };
            }
        };
        if !matches!(next.scheme(), "http" | "https") {
            let why = format!("{url} redirects to {next}, which cannot be fetched over HTTP");
            return Chain { exchanges, end: End::Redirect(why) };
        }
        if seen.contains(&next.to_string()) {
            seen.push(next.to_string());
            return Chain { exchanges, end: End::Loop(seen) };
        }
        if exchanges.len() > max_redirects {
            let why = format!("more than {max_redirects} redirects ({} → {next})", seen.join(" → "));
            return Chain { exchanges, end: End::Redirect(why) };
        }
        seen.push(next.to_string());
        url = next;
    }
}

pub(crate) fn without_fragment(url: &Url) -> Url {
    let mut url = url.clone();
    url.set_fragment(None);
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(fields: &[(&str, &str)]) -> Vec<(String, String)> {
        fields.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect()
    }

    #[test]
    fn chunked_bodies_are_decoded_and_bounded() {
        let wire = b"4;ext=1\r\nWiki\r\n5\r\npedia\r\n0\r\nExpires: never\r\n\r\n";
        let mut body = Vec::new();
        assert!(chunked(&mut &wire[..], 100, &mut body).is_ok());
        assert_eq!(body, b"Wikipedia");
        let mut body = Vec::new();
        assert!(matches!(chunked(&mut &wire[..], 6, &mut body), Err(Stop::Limit)));
        assert_eq!(body, b"Wikipe");
        let mut body = Vec::new();
        assert!(matches!(chunked(&mut &b"zz\r\n"[..], 100, &mut body), Err(Stop::Malformed(_))));
        let mut body = Vec::new();
        assert!(matches!(chunked(&mut &b"10\r\nshort"[..], 100, &mut body), Err(Stop::Closed(None))));
    }

    #[test]
    fn stored_heads_rename_what_no_longer_describes_the_body() {
        let mut renamed = vec!["transfer-encoding".to_owned(), "content-encoding".to_owned()];
        let fields = head(&[
            ("Content-Type", "text/html"),
            ("Transfer-Encoding", "chunked"),
            ("Content-Encoding", "gzip"),
        ]);
        let stored = stored_head(&fields, &mut renamed, 42);
        assert_eq!(
            stored,
            head(&[
                ("Content-Type", "text/html"),
                ("x-orig-transfer-encoding", "chunked"),
                ("x-orig-content-encoding", "gzip"),
                ("content-length", "42"),
            ])
        );
        let mut renamed = vec!["content-encoding".to_owned()];
        let fields = head(&[("Content-Encoding", "gzip"), ("Content-Length", "20"), ("Server", "x")]);
        let stored = stored_head(&fields, &mut renamed, 42);
        assert_eq!(renamed, ["content-encoding", "content-length"]);
        assert_eq!(
            stored,
            head(&[
                ("x-orig-content-encoding", "gzip"),
                ("x-orig-content-length", "20"),
                ("content-length", "42"),
                ("Server", "x"),
            ])
        );
        // Nothing undone, length right: the head stays as received.
        let mut renamed = Vec::new();
        let fields = head(&[("Content-Length", "42")]);
        assert_eq!(stored_head(&fields, &mut renamed, 42), fields);
        assert!(renamed.is_empty());
    }

    #[test]
    fn gzip_and_deflate_are_undone_within_the_limit() {
        use flate2::Compression;
        use std::io::Write as _;
        let plain = b"<html>hello</html>".repeat(100);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), Compression::default());
        gz.write_all(&plain).unwrap();
        let gz = gz.finish().unwrap();
        assert!(matches!(decode(&gz, &["gzip".into()], 1 << 20), Decoded::Whole(b) if b == plain));
        assert!(matches!(decode(&gz, &["gzip".into()], 100), Decoded::OverLimit(b) if b.len() == 100));
        let mut raw = flate2::write::DeflateEncoder::new(Vec::new(), Compression::default());
        raw.write_all(&plain).unwrap();
        let raw = raw.finish().unwrap();
        assert!(matches!(decode(&raw, &["deflate".into()], 1 << 20), Decoded::Whole(b) if b == plain));
        assert!(matches!(decode(b"not gzip", &["gzip".into()], 100), Decoded::Kept(_)));
        assert!(matches!(decode(b"x", &["br".into()], 100), Decoded::Kept(w) if w.contains("br")));
    }

    #[test]
    fn heads_are_parsed_leniently_but_bounded() {
        let ask = Ask {
            accept: "*/*",
            referer: None,
            limit: 10,
            limit_why: "the limit".into(),
            keep_partial: true,
            deadline: Instant::now(),
            deadline_why: "the deadline".into(),
        };
        let wire = b"\r\nHTTP/1.1 404 Not Found\r\nA: 1\r\n  folded\r\nbad line\r\nB:2\r\n\r\nbody";
        let head = read_head(&mut &wire[..], &ask).unwrap();
        assert_eq!(
            (head.status, head.reason.as_str(), head.version.as_str()),
            (404, "Not Found", "HTTP/1.1")
        );
        assert_eq!(head.fields, [("A".to_owned(), "1 folded".to_owned()), ("B".to_owned(), "2".to_owned())]);
        assert_eq!(head.problems.len(), 1);
        let long = format!("HTTP/1.1 200 OK\r\nX: {}\r\n\r\n", "a".repeat(70_000));
        assert!(read_head(&mut long.as_bytes(), &ask).unwrap_err().message.contains("64 KiB"));
        assert!(
            read_head(&mut &b"SSH-2.0-OpenSSH\r\n\r\n"[..], &ask)
                .unwrap_err()
                .message
                .contains("not an HTTP")
        );
    }
}
