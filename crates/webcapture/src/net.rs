//! Reaching a server: names resolved here (every answer kept for the record and reused for
//! the rest of the capture, so that all of it speaks of the same addresses), addresses tried
//! in the resolver's order with a connect timeout, TLS through rustls (the negotiated version,
//! cipher suite and the server's certificate chain kept), and a socket whose every read and
//! write must finish by a deadline.

use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use url::Host;

use crate::Roots;

/// A TCP stream whose reads and writes must finish by `deadline`. The socket timeout is set
/// from the time left before every system call, so a server that drips one byte at a time
/// cannot stretch a read (or a TLS record assembled from many reads) past the deadline.
pub(crate) struct Socket {
    pub tcp: TcpStream,
    pub deadline: Instant,
}

impl Socket {
    fn left(&self) -> io::Result<Duration> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() { Err(deadline_passed()) } else { Ok(left) }
    }
}

fn deadline_passed() -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, "the deadline passed")
}

/// A socket timeout reads as `WouldBlock` on Unix: both mean the deadline passed.
fn timed_out(e: io::Error) -> io::Error {
    if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) {
        deadline_passed()
    } else {
        e
    }
}

impl Read for Socket {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.left()?;
        self.tcp.set_read_timeout(Some(left))?;
        self.tcp.read(buf).map_err(timed_out)
    }
}

impl Write for Socket {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let left = self.left()?;
        self.tcp.set_write_timeout(Some(left))?;
        self.tcp.write(buf).map_err(timed_out)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.tcp.flush()
    }
}

/// A connection, plain or TLS.
pub(crate) enum Conn {
    Plain(Socket),
    Tls(Box<StreamOwned<ClientConnection, Socket>>),
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(s) => s.read(buf),
            Conn::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(s) => s.write(buf),
            Conn::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Conn::Plain(s) => s.flush(),
            Conn::Tls(s) => s.flush(),
        }
    }
}

/// Resolves names once per capture and remembers the answers.
#[derive(Default)]
pub(crate) struct Resolver {
    answers: Mutex<Vec<(String, Vec<IpAddr>)>>,
}

impl Resolver {
    /// The addresses to try for `host`, in order. Address literals are not looked up.
    pub fn addresses(&self, host: &Host<&str>, port: u16, deadline: Instant) -> Result<Vec<IpAddr>, String> {
        match host {
            Host::Ipv4(ip) => Ok(vec![IpAddr::V4(*ip)]),
            Host::Ipv6(ip) => Ok(vec![IpAddr::V6(*ip)]),
            Host::Domain(name) => self.resolve(name, port, deadline),
        }
    }

    fn resolve(&self, name: &str, port: u16, deadline: Instant) -> Result<Vec<IpAddr>, String> {
        if let Some(known) = self.known(name) {
            return Ok(known);
        }
        // The system resolver has no timeout of its own: ask on a thread and stop waiting at
        // the deadline (the thread ends when the resolver answers).
        let (tx, rx) = mpsc::channel();
        let query = (name.to_owned(), port);
        std::thread::Builder::new()
            .name("handprint-resolve".into())
            .spawn(move || {
                let answer = query.to_socket_addrs().map(|a| a.map(|s| s.ip()).collect::<Vec<_>>());
                let _ = tx.send(answer);
            })
            .map_err(|e| format!("resolving {name}: could not start the look-up ({e})"))?;
        let left = deadline.saturating_duration_since(Instant::now());
        let ips = match rx.recv_timeout(left) {
            Ok(Ok(ips)) => ips,
            Ok(Err(e)) => return Err(format!("the name {name} does not resolve ({e})")),
            Err(_) => return Err(format!("resolving {name} did not finish before the deadline")),
        };
        let mut unique: Vec<IpAddr> = Vec::new();
        for ip in ips {
            if !unique.contains(&ip) {
                unique.push(ip);
            }
        }
        if unique.is_empty() {
            return Err(format!("the name {name} resolves to no address"));
        }
        let mut answers = self.answers.lock().unwrap_or_else(|p| p.into_inner());
        // Another thread may have asked at the same time: the first answer stands.
        if let Some((_, known)) = answers.iter().find(|(h, _)| h == name) {
            return Ok(known.clone());
        }
        answers.push((name.to_owned(), unique.clone()));
        Ok(unique)
    }

    fn known(&self, name: &str) -> Option<Vec<IpAddr>> {
        let answers = self.answers.lock().unwrap_or_else(|p| p.into_inner());
        answers.iter().find(|(h, _)| h == name).map(|(_, ips)| ips.clone())
    }

    /// Every name resolved and its addresses, in the order first asked.
    pub fn answers(&self) -> Vec<(String, Vec<IpAddr>)> {
        self.answers.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// Opens a TCP connection to the first of `ips` that accepts one.
pub(crate) fn connect(
    ips: &[IpAddr],
    port: u16,
    connect_timeout: Duration,
    deadline: Instant,
) -> Result<TcpStream, String> {
    let mut failures = Vec::new();
    for ip in ips {
        let addr = SocketAddr::new(*ip, port);
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            failures.push(format!("{addr}: not tried, the deadline passed"));
            break;
        }
        match TcpStream::connect_timeout(&addr, left.min(connect_timeout)) {
            Ok(tcp) => {
                let _ = tcp.set_nodelay(true);
                return Ok(tcp);
            }
            Err(e) if matches!(e.kind(), io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock) => failures
                .push(format!("{addr}: no answer within {}", crate::seconds(left.min(connect_timeout)))),
            Err(e) => failures.push(format!("{addr}: {e}")),
        }
    }
    Err(format!("no connection could be opened ({})", failures.join("; ")))
}

/// Whether an address is on the public internet (not loopback, private, link-local, shared,
/// documentation, multicast or reserved).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_unspecified()
                || v4.is_multicast()
                || o[0] == 0
                || (o[0] == 100 && (64..128).contains(&o[1])) // shared address space
                || (o[0] == 192 && o[1] == 0 && o[2] == 0)
                || (o[0] == 198 && (18..20).contains(&o[1]))
                || o[0] >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let s = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local
                || (s[0] & 0xffc0) == 0xfe80 // link local
                || (s[0] == 0x2001 && s[1] == 0xdb8)) // documentation
        }
    }
}

/// The TLS client configuration: rustls with ring, TLS 1.2 and 1.3, HTTP/1.1 offered by ALPN
/// (the only protocol this client speaks).
pub(crate) fn tls_config(roots: &Roots) -> Result<Arc<ClientConfig>, String> {
    let mut store = RootCertStore::empty();
    match roots {
        Roots::Public => store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        Roots::Pem(pem) => {
            for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
                let cert = cert.map_err(|e| format!("not a PEM certificate ({e})"))?;
                store.add(cert).map_err(|e| format!("a certificate cannot be a root ({e})"))?;
            }
            if store.is_empty() {
                return Err("no PEM certificate given".into());
            }
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup: {e}"))?
        .with_root_certificates(store)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// What a TLS handshake established.
pub(crate) struct TlsFacts {
    /// `tls/1.3` or `tls/1.2`.
    pub version: String,
    pub cipher_suite: Option<String>,
    pub chain_pem: Option<String>,
}

/// Runs the TLS handshake for `host` over `sock`; an untrusted or mismatched certificate
/// fails here, before any request is sent.
pub(crate) fn handshake(
    config: &Arc<ClientConfig>,
    host: &Host<&str>,
    mut sock: Socket,
) -> Result<(Conn, TlsFacts), String> {
    let name = match host {
        Host::Domain(d) => ServerName::try_from(d.to_string())
            .map_err(|e| format!("{d} cannot be a TLS server name ({e})"))?,
        Host::Ipv4(ip) => ServerName::IpAddress(IpAddr::V4(*ip).into()),
        Host::Ipv6(ip) => ServerName::IpAddress(IpAddr::V6(*ip).into()),
    };
    let mut conn = ClientConnection::new(config.clone(), name).map_err(|e| format!("TLS setup: {e}"))?;
    while conn.is_handshaking() {
        match conn.complete_io(&mut sock) {
            // Nothing moved: the server closed the connection.
            Ok((0, 0)) => return Err("the server closed the connection during the TLS handshake".into()),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::TimedOut => {
                return Err("the TLS handshake did not finish before the deadline".into());
            }
            Err(e) => return Err(format!("the TLS handshake failed: {e}")),
        }
    }
    let version = match conn.protocol_version() {
        Some(rustls::ProtocolVersion::TLSv1_3) => "tls/1.3".to_owned(),
        Some(rustls::ProtocolVersion::TLSv1_2) => "tls/1.2".to_owned(),
        Some(v) => format!("tls/{v:?}"),
        None => "tls".to_owned(),
    };
    let cipher_suite = conn.negotiated_cipher_suite().and_then(|s| s.suite().as_str()).map(iana_suite_name);
    let chain_pem = conn.peer_certificates().filter(|c| !c.is_empty()).map(pem_chain);
    Ok((Conn::Tls(Box::new(StreamOwned::new(conn, sock))), TlsFacts { version, cipher_suite, chain_pem }))
}

/// rustls names TLS 1.3 suites `TLS13_…`; IANA names them `TLS_…`.
fn iana_suite_name(name: &str) -> String {
    match name.strip_prefix("TLS13_") {
        Some(rest) => format!("TLS_{rest}"),
        None => name.to_owned(),
    }
}

/// Certificates as PEM, in the order given (leaf first).
pub(crate) fn pem_chain(chain: &[CertificateDer<'_>]) -> String {
    let mut out = String::new();
    for cert in chain {
        out.push_str("-----BEGIN CERTIFICATE-----\n");
        let b64 = B64.encode(cert.as_ref());
        for line in b64.as_bytes().chunks(64) {
            // Base64 is ASCII.
            out.push_str(&String::from_utf8_lossy(line));
            out.push('\n');
        }
        out.push_str("-----END CERTIFICATE-----\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_public_addresses() {
        for private in
            ["127.0.0.1", "10.1.2.3", "192.168.0.1", "169.254.169.254", "::1", "fd00::1", "fe80::1"]
        {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in ["93.184.215.14", "1.1.1.1", "2606:4700::1111"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn suite_names_are_iana_names() {
        assert_eq!(iana_suite_name("TLS13_AES_128_GCM_SHA256"), "TLS_AES_128_GCM_SHA256");
        assert_eq!(
            iana_suite_name("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
        );
    }

    #[test]
    fn unusable_roots_are_refused() {
        assert!(tls_config(&Roots::Pem("not a certificate".into())).unwrap_err().contains("no PEM"));
        assert!(tls_config(&Roots::Public).is_ok());
    }
}
