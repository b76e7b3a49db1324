//! The crate's one error type: a page that cannot be captured at all. Everything short of
//! that (an image over a limit, a slow server, a page cut at its limit) is a partial
//! [`crate::Capture`] that says what was left out and why.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum CaptureError {
    /// Not an absolute `http` or `https` URL.
    #[error("{url}: not a URL handprint can capture: {problem}")]
    BadUrl { url: String, problem: String },
    /// The name did not resolve, no address accepted a connection, or the addresses are
    /// not public when only public ones are allowed.
    #[error("{url} could not be reached: {problem}")]
    Unreachable { url: String, problem: String },
    /// The TLS handshake failed (an untrusted or mismatched certificate, no common protocol).
    #[error("{url}: the TLS connection was refused: {problem}")]
    Tls { url: String, problem: String },
    /// The server was reached but sent no usable response head in time.
    #[error("{url}: no HTTP response: {problem}")]
    NoResponse { url: String, problem: String },
    /// The redirects come back to a URL already visited.
    #[error("{url} redirects in a loop: {chain}")]
    RedirectLoop { url: String, chain: String },
    /// More redirects than allowed, or a redirect to something that cannot be fetched.
    #[error("{url}: {problem}")]
    Redirect { url: String, problem: String },
    /// The trusted roots given in the options are unusable.
    #[error("the trusted TLS roots: {0}")]
    Roots(String),
}
