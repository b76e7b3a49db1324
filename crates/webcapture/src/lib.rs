//! Fetching a web page and every image it references, exactly and within limits, keeping what
//! a web archive records of each HTTP exchange: the request and response heads as sent and
//! received, the body as stored (decoded, with the headers that were undone renamed
//! `x-orig-…`), the server's address, the protocols, the TLS certificate chain and the time.
//! Nothing is matched or archived here: [`capture`] returns a [`Capture`] that the archive
//! writer and the image scanner read.
//!
//! A capture is meant as evidence, so it never claims more than it got: every redirect hop is
//! an [`Exchange`] of its own; a page body cut at a limit or deadline says so
//! ([`Exchange::truncated`]); an image that could not be fetched within the limits is listed in
//! [`Capture::left_out`] with the reason; an "image" that is not one (an error page served in
//! its place) is kept as the server sent it and marked. Only a page that cannot be fetched at
//! all is an error.
//!
//! The HTTP/1.1 client is this crate's own (`http` over `net`), so that it sees the exact
//! bytes on the wire, the peer's address and certificate chain, and can bound every read by a
//! deadline; images are found with a streaming HTML tokenizer (`html`) and recognised by
//! their first bytes (`sniff`); a screenshot is taken by Chromium when it is installed
//! (`screenshot`).

mod capture;
mod error;
mod html;
mod http;
mod net;
mod screenshot;
mod sniff;

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Serialize, Serializer};

pub use capture::capture;
pub use error::CaptureError;
pub use net::is_public;
pub use screenshot::CHROMIUM_ENV;
pub use sniff::image_format;

/// handprint's version, as named in the user agent and the capture's environment.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Everything fetched for one page: the page (its redirect chain), its images, what was left
/// out and why, the name look-ups, and a screenshot when a browser was at hand.
#[derive(Clone, Debug, Serialize)]
pub struct Capture {
    /// The URL as asked for.
    pub requested_url: String,
    #[serde(serialize_with = "rfc3339_millis")]
    pub started: DateTime<Utc>,
    #[serde(serialize_with = "rfc3339_millis")]
    pub finished: DateTime<Utc>,
    /// The redirect chain, one exchange per hop; the last is the page.
    pub page: Vec<Exchange>,
    /// The images the page references, in document order, each fetched once.
    pub images: Vec<ImageFetch>,
    /// References that were not captured, with the reason (over a limit, past a deadline,
    /// unreachable, or not fetchable at all such as `data:` URLs, whose image the page itself
    /// holds).
    pub left_out: Vec<LeftOut>,
    /// Every name looked up and the addresses it resolved to, in the resolver's order.
    pub dns: Vec<(String, Vec<IpAddr>)>,
    /// The page as Chromium rendered it (PNG), when Chromium was found and finished in time.
    #[serde(rename = "screenshot_length", serialize_with = "optional_length")]
    pub screenshot: Option<Vec<u8>>,
    /// How the screenshot was taken, or why there is none.
    pub screenshot_note: String,
    /// Whether something the page references could not be captured (a cut page body, an image
    /// over a limit or past a deadline, an unreachable image). References nobody could fetch
    /// (`data:` URLs, other schemes, malformed URLs) are listed in `left_out` but do not make
    /// a capture partial.
    pub partial: bool,
    pub environment: Environment,
}

impl Capture {
    /// The page's final exchange (the one after all redirects).
    pub fn final_page(&self) -> &Exchange {
        // `capture` never returns a capture without a page exchange.
        &self.page[self.page.len() - 1]
    }
}

/// One HTTP request and its response, as this client sent and received them.
#[derive(Clone, Debug, Serialize)]
pub struct Exchange {
    /// The URL requested (without its fragment, which is never sent).
    pub url: String,
    pub method: String,
    /// The request header fields sent, in order.
    pub request_head: Vec<(String, String)>,
    pub status: u16,
    /// The reason phrase as received (may be empty).
    pub reason: String,
    /// The response header fields as stored, in order: as received, except that those named
    /// in `renamed` are kept as `x-orig-<name>` and, when the stored body's length differs
    /// from what the server framed, a `content-length` with the stored length is added.
    pub response_head: Vec<(String, String)>,
    /// The body as stored: without the transfer coding, and decompressed when the server
    /// used gzip or deflate although only `identity` was accepted.
    #[serde(rename = "body_length", serialize_with = "length")]
    pub body: Vec<u8>,
    /// Names (lower case) of the received header fields renamed `x-orig-<name>` because the
    /// stored body no longer matches them: `transfer-encoding`, `content-encoding`,
    /// `content-length`.
    pub renamed: Vec<String>,
    /// The address of the server connected to.
    pub ip: Option<IpAddr>,
    /// The protocols used, innermost first: `["http/1.1", "tls/1.3"]` or `["http/1.1"]`.
    pub protocol: Vec<String>,
    /// The TLS cipher suite negotiated (IANA name).
    pub cipher_suite: Option<String>,
    /// The certificate chain the server presented, leaf first, in PEM.
    pub certificates_pem: Option<String>,
    /// When the response head was received.
    #[serde(serialize_with = "rfc3339_millis")]
    pub date: DateTime<Utc>,
    /// Set when the body is incomplete (a web archive's `WARC-Truncated`); `problem` says
    /// where and why it was cut.
    pub truncated: Option<Truncated>,
    /// Anything wrong with this exchange that the status does not say.
    pub problem: Option<String>,
}

impl Exchange {
    /// The first response header field with this name (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.response_head.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The media type of the body (`Content-Type` before any parameter, lower case).
    pub fn media_type(&self) -> Option<String> {
        self.header("content-type").map(|v| v.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
    }
}

/// Why a body is incomplete, in the words of a web archive's `WARC-Truncated` field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Truncated {
    /// Over a size limit.
    Length,
    /// Past a deadline.
    Time,
    /// The connection closed or failed before the body's end.
    Disconnect,
    /// The body's framing was malformed.
    Unspecified,
}

impl Truncated {
    /// The `WARC-Truncated` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Truncated::Length => "length",
            Truncated::Time => "time",
            Truncated::Disconnect => "disconnect",
            Truncated::Unspecified => "unspecified",
        }
    }
}

/// One image the page references, fetched whole.
#[derive(Clone, Debug, Serialize)]
pub struct ImageFetch {
    /// The absolute URL, resolved against the page (and its `<base href>`).
    pub url: String,
    /// Where the page references it: `img src`, `img srcset`, `picture source srcset`,
    /// `meta og:image`, `link icon`, ...
    pub referenced_by: Vec<String>,
    /// The redirect chain; the last exchange holds what the server sent for the image.
    pub exchanges: Vec<Exchange>,
    /// Whether the last body is an image by its first bytes.
    pub is_image: bool,
    /// The image format by its first bytes (`jpeg`, `png`, `webp`, `gif`, `avif`, ...).
    pub format: Option<String>,
    /// What is wrong: not an image (what it is instead), or an error status.
    pub problem: Option<String>,
}

impl ImageFetch {
    /// The final exchange (after redirects).
    pub fn last(&self) -> &Exchange {
        // Built only from a redirect chain that ended in a response.
        &self.exchanges[self.exchanges.len() - 1]
    }
}

/// A reference that is not in the capture, and why.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct LeftOut {
    pub url: String,
    pub reason: String,
}

/// What made the capture, for the archive's description of itself.
#[derive(Clone, Debug, Serialize)]
pub struct Environment {
    /// `handprint <version>`.
    pub software: String,
    /// Where the times come from.
    pub time_source: String,
    pub user_agent: String,
}

/// Which certificate authorities a TLS server's chain must lead to.
#[derive(Clone, Debug, Default)]
pub enum Roots {
    /// The public web's roots (Mozilla's list, as shipped in `webpki-roots`).
    #[default]
    Public,
    /// Only these roots (PEM certificates), e.g. a test's own.
    Pem(String),
}

/// Whether and how to take a screenshot.
#[derive(Clone, Debug, Default)]
pub enum Screenshot {
    /// Chromium named by `HANDPRINT_CHROMIUM`, else `chromium` (or `chromium-browser`) on
    /// the `PATH`; no screenshot, and a note saying so, when there is none.
    #[default]
    Auto,
    /// This browser executable.
    Chromium(PathBuf),
    /// No screenshot.
    Off,
}

/// The limits of a capture. Every one is enforced while reading, so no server can make a
/// capture hold more memory or take longer than they allow.
#[derive(Clone, Debug)]
pub struct Options {
    /// Largest page body kept; a longer one is cut here and marked truncated.
    pub page_limit: u64,
    /// Largest image body; a longer image is left out.
    pub image_limit: u64,
    /// Most bytes of bodies one capture keeps (page and images); images past it are left out.
    pub total_limit: u64,
    /// Most images fetched for one page; the rest are left out.
    pub max_images: usize,
    /// Most redirects followed for one resource.
    pub max_redirects: usize,
    /// Time allowed for one resource, its redirects included.
    pub resource_timeout: Duration,
    /// Time allowed for the whole capture (the screenshot included).
    pub capture_timeout: Duration,
    /// Time allowed to open one TCP connection.
    pub connect_timeout: Duration,
    /// Time allowed for the screenshot.
    pub screenshot_timeout: Duration,
    /// Images fetched at the same time.
    pub parallel: usize,
    /// Whether servers on private, loopback or link-local addresses may be fetched. A
    /// service that captures URLs given by others must turn this off; the browser taking the
    /// screenshot does not honour it, so it must then be off too.
    pub private_addresses: bool,
    pub roots: Roots,
    pub user_agent: String,
    pub screenshot: Screenshot,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            page_limit: 16 * MIB,
            image_limit: 64 * MIB,
            total_limit: 512 * MIB,
            max_images: 500,
            max_redirects: 10,
            resource_timeout: Duration::from_secs(30),
            capture_timeout: Duration::from_secs(180),
            connect_timeout: Duration::from_secs(10),
            screenshot_timeout: Duration::from_secs(60),
            parallel: 4,
            private_addresses: true,
            roots: Roots::Public,
            user_agent: user_agent(),
            screenshot: Screenshot::Auto,
        }
    }
}

const MIB: u64 = 1024 * 1024;

/// The default user agent: handprint, its version and where to read about it.
pub fn user_agent() -> String {
    format!("handprint/{VERSION} (evidence capture; +{})", env!("CARGO_PKG_REPOSITORY"))
}

/// A byte count for people: `16 MiB` when whole, else bytes.
pub(crate) fn size(bytes: u64) -> String {
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= 1024 && bytes.is_multiple_of(1024) {
        format!("{} KiB", bytes / 1024)
    } else {
        format!("{bytes} bytes")
    }
}

/// A duration for people: `30 s`, `1.5 s`, `250 ms`.
pub(crate) fn seconds(d: Duration) -> String {
    if d.subsec_millis() == 0 && d.as_secs() > 0 {
        format!("{} s", d.as_secs())
    } else if d.as_secs() == 0 {
        format!("{} ms", d.as_millis())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

/// RFC 3339 in UTC with milliseconds: `2025-01-02T03:04:05.123Z`.
pub fn rfc3339_millis<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
}

fn length<S: Serializer>(body: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(body.len() as u64)
}

fn optional_length<S: Serializer>(body: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
    match body {
        Some(b) => s.serialize_some(&(b.len() as u64)),
        None => s.serialize_none(),
    }
}
