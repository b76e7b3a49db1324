//! Domain proofs: a creator shows that a web domain vouches for their key by serving
//! `https://DOMAIN/.well-known/handprint.txt` that lists it (docs/server.md). A registry
//! server fetches the file when a publication names the domain, and shows the creator's
//! name as verified by that domain rather than as their own claim.
//!
//! The server fetches a URL a stranger chose: only `https`, port 443, no redirects, at most
//! [`MAX_FILE`] bytes within [`TIMEOUT`], and never an address that is not public (loopback,
//! private, link-local, …: the resolver refuses them), so that a publication cannot make
//! the server reach into the network it runs in.

use std::net::{IpAddr, SocketAddr};

use std::time::Duration;
use webcapture::is_public;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::VerifyingKey;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};

use crate::RegistryError;

/// Where the proof is, under the domain.
pub const WELL_KNOWN: &str = "/.well-known/handprint.txt";
pub const MAX_FILE: u64 = 64 * 1024;
pub const TIMEOUT: Duration = Duration::from_secs(5);

/// How proofs are fetched. The defaults are the only safe ones on the internet; tests
/// point them at a local HTTPS server with its own root.
#[derive(Clone, Debug, Default)]
pub struct Fetching {
    /// Roots to trust instead of the public web's (PEM).
    pub roots_pem: Option<String>,
    /// Allow loopback and private addresses, and a port in the domain (tests only).
    pub allow_private: bool,
}

/// Checks a domain as a publication names it: a DNS name of letters, digits, hyphens and
/// dots, not an IP address; lower-cased.
pub fn parse_domain(text: &str, fetching: &Fetching) -> Result<String, RegistryError> {
    let bad = |why: &str| RegistryError::Invalid(format!("domain {text:?}: {why}"));
    let d = text.trim().trim_end_matches('.').to_ascii_lowercase();
    let (host, port) = match d.rsplit_once(':') {
        Some((h, p)) if fetching.allow_private && p.parse::<u16>().is_ok() => (h, Some(p)),
        _ => (d.as_str(), None),
    };
    if host.is_empty() || host.len() > 253 {
        return Err(bad("not a domain name"));
    }
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    if !host.split('.').all(label_ok) {
        return Err(bad("use a DNS name (letters, digits, hyphens, dots)"));
    }
    if host.parse::<IpAddr>().is_ok()
        || host.rsplit('.').next().is_some_and(|l| l.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(bad("an IP address proves nothing: use a domain name"));
    }
    if !host.contains('.') && !fetching.allow_private {
        return Err(bad("a public domain has a dot"));
    }
    Ok(match port {
        Some(p) => format!("{host}:{p}"),
        None => host.to_owned(),
    })
}

/// Whether the proof file lists `key`: lines `ed25519 <base64 key>`; blank lines and lines
/// starting with `#` are ignored.
pub fn lists_key(text: &str, key: &VerifyingKey) -> bool {
    let wanted = B64.encode(key.as_bytes());
    text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).any(|l| {
        let mut parts = l.split_whitespace();
        parts.next() == Some("ed25519") && parts.next() == Some(wanted.as_str()) && parts.next().is_none()
    })
}

/// Fetches `https://DOMAIN/.well-known/handprint.txt` and checks that it lists `key`.
/// Every failure says why, for the creator to fix their file.
pub fn prove(domain: &str, key: &VerifyingKey, fetching: &Fetching) -> Result<(), RegistryError> {
    let url = format!("https://{domain}{WELL_KNOWN}");
    let fail = |why: String| RegistryError::Forbidden(format!("{url}: {why}"));
    let mut tls = ureq::tls::TlsConfig::builder();
    if let Some(pem) = &fetching.roots_pem {
        let certs: Vec<_> = ureq::tls::parse_pem(pem.as_bytes())
            .filter_map(|item| match item {
                Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
                _ => None,
            })
            .collect();
        tls = tls.root_certs(ureq::tls::RootCerts::new_with_certs(&certs));
    }
    let config = ureq::Agent::config_builder()
        .tls_config(tls.build())
        .timeout_global(Some(TIMEOUT))
        .max_redirects(0)
        .https_only(true)
        .http_status_as_error(false)
        .build();
    let resolver = PublicOnly { inner: DefaultResolver::default(), allow_private: fetching.allow_private };
    let agent = ureq::Agent::with_parts(config, DefaultConnector::new(), resolver);
    let mut r = agent.get(&url).call().map_err(|e| fail(format!("cannot fetch the proof: {e}")))?;
    if r.status() != 200 {
        return Err(fail(format!("HTTP {} (redirects are not followed)", r.status().as_u16())));
    }
    let text = r
        .body_mut()
        .with_config()
        .limit(MAX_FILE)
        .read_to_string()
        .map_err(|e| fail(format!("cannot read the proof (at most {MAX_FILE} bytes of text): {e}")))?;
    if !lists_key(&text, key) {
        return Err(fail(format!(
            "does not list the key that signed this request; add the line `ed25519 {}`",
            B64.encode(key.as_bytes())
        )));
    }
    Ok(())
}

/// The default resolver, refusing any answer that holds an address that is not public.
#[derive(Debug)]
struct PublicOnly {
    inner: DefaultResolver,
    allow_private: bool,
}

impl Resolver for PublicOnly {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let addrs = self.inner.resolve(uri, config, timeout)?;
        if !self.allow_private && addrs.iter().any(|a: &SocketAddr| !is_public(a.ip())) {
            return Err(ureq::Error::Other(Box::new(std::io::Error::other(
                "the domain resolves to an address that is not public",
            ))));
        }
        Ok(addrs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_are_names_not_addresses() {
        let f = Fetching::default();
        assert_eq!(parse_domain("Studio.Example.", &f).unwrap(), "studio.example");
        for bad in [
            "127.0.0.1",
            "10.0.0.1",
            "[::1]",
            "localhost",
            "a_b.example",
            "-a.example",
            "example.com:8443",
            "",
            "x.123",
        ] {
            assert!(parse_domain(bad, &f).is_err(), "{bad}");
        }
        let tests = Fetching { allow_private: true, ..Default::default() };
        assert_eq!(parse_domain("localhost:8443", &tests).unwrap(), "localhost:8443");
    }

    #[test]
    fn the_file_lists_the_key_on_its_own_line() {
        let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]).verifying_key();
        let line = format!("ed25519 {}", B64.encode(key.as_bytes()));
        assert!(lists_key(&format!("# studio keys\n\n{line}\n"), &key));
        assert!(!lists_key(&format!("# {line}\n"), &key), "a comment lists nothing");
        assert!(!lists_key(&format!("{line} extra\n"), &key));
        let other = ed25519_dalek::SigningKey::from_bytes(&[8; 32]).verifying_key();
        assert!(!lists_key(&line, &other));
    }

    #[test]
    fn only_public_addresses_are_fetched() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in ["93.184.216.34", "2606:2800:220:1::1"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }
}
