//! Test servers on loopback: plain HTTP, and HTTPS for `localhost` with a certificate from a
//! fresh test root. Each connection gets a thread and a handler that writes the raw response
//! bytes itself, so a test can send anything a real server might: wrong framing, endless
//! bodies, one byte a second.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use webcapture::{Options, Roots, Screenshot};

/// A request as the server received it.
#[derive(Clone, Debug)]
pub struct Request {
    /// The request target (`/path?query`), as sent.
    pub target: String,
    /// The whole head, as text.
    pub head: String,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<String> {
        self.head.lines().skip(1).find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
        })
    }
}

pub type Handler = Arc<dyn Fn(&Request, &mut dyn Write) + Send + Sync>;

pub struct Server {
    pub port: u16,
    /// `http://127.0.0.1:PORT` or `https://localhost:PORT`.
    pub base: String,
    pub requests: Arc<Mutex<Vec<Request>>>,
}

impl Server {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }
}

/// A test PKI: a root and a `localhost` certificate it issued.
pub struct Pki {
    pub root_pem: String,
    pub leaf_der: Vec<u8>,
    config: Arc<rustls::ServerConfig>,
}

impl Pki {
    pub fn new(name: &str) -> Pki {
        let root_key = rcgen::KeyPair::generate().unwrap();
        let mut root = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        root.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        root.distinguished_name.push(rcgen::DnType::CommonName, name);
        let root_cert = root.self_signed(&root_key).unwrap();
        let issuer = rcgen::Issuer::new(root, root_key);
        let leaf_key = rcgen::KeyPair::generate().unwrap();
        let leaf = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
            .unwrap()
            .signed_by(&leaf_key, &issuer)
            .unwrap();
        let chain = vec![leaf.der().clone()];
        let key = rustls::pki_types::PrivateKeyDer::try_from(leaf_key.serialize_der()).unwrap();
        let config = Arc::new(
            rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_no_client_auth()
                .with_single_cert(chain, key)
                .unwrap(),
        );
        Pki { root_pem: root_cert.pem(), leaf_der: leaf.der().to_vec(), config }
    }
}

/// A plain HTTP server on 127.0.0.1.
pub fn http_server(handler: impl Fn(&Request, &mut dyn Write) + Send + Sync + 'static) -> Server {
    serve(None, Arc::new(handler))
}

/// An HTTPS server on 127.0.0.1, named `localhost`, with `pki`'s certificate.
pub fn https_server(pki: &Pki, handler: impl Fn(&Request, &mut dyn Write) + Send + Sync + 'static) -> Server {
    serve(Some(pki.config.clone()), Arc::new(handler))
}

fn serve(tls: Option<Arc<rustls::ServerConfig>>, handler: Handler) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let requests = Arc::new(Mutex::new(Vec::new()));
    let log = requests.clone();
    let secure = tls.is_some();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let (tls, handler, log) = (tls.clone(), handler.clone(), log.clone());
            std::thread::spawn(move || connection(stream, tls, handler, log));
        }
    });
    let base = if secure { format!("https://localhost:{port}") } else { format!("http://127.0.0.1:{port}") };
    Server { port, base, requests }
}

fn connection(
    stream: TcpStream,
    tls: Option<Arc<rustls::ServerConfig>>,
    handler: Handler,
    log: Arc<Mutex<Vec<Request>>>,
) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    match tls {
        None => {
            let mut stream = stream;
            if let Some(request) = read_request(&mut stream) {
                log.lock().unwrap().push(request.clone());
                handler(&request, &mut stream);
                let _ = stream.flush();
            }
        }
        Some(config) => {
            let conn = rustls::ServerConnection::new(config).unwrap();
            let mut tls = rustls::StreamOwned::new(conn, stream);
            if let Some(request) = read_request(&mut tls) {
                log.lock().unwrap().push(request.clone());
                handler(&request, &mut tls);
                tls.conn.send_close_notify();
                let _ = tls.flush();
            }
        }
    }
}

fn read_request(stream: &mut impl Read) -> Option<Request> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).ok()? != 1 {
            return None;
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let target = head.split(' ').nth(1)?.to_owned();
    Some(Request { target, head })
}

/// Writes a whole response with a `Content-Length`.
pub fn respond(w: &mut dyn Write, status: &str, headers: &[(&str, &str)], body: &[u8]) {
    let mut out = format!("HTTP/1.1 {status}\r\n");
    for (n, v) in headers {
        out.push_str(&format!("{n}: {v}\r\n"));
    }
    out.push_str(&format!("Content-Length: {}\r\nConnection: close\r\n\r\n", body.len()));
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    let _ = w.write_all(&bytes);
}

pub fn redirect(w: &mut dyn Write, status: &str, location: &str) {
    respond(w, status, &[("Location", location)], b"");
}

pub fn html(w: &mut dyn Write, body: &str) {
    respond(w, "200 OK", &[("Content-Type", "text/html; charset=utf-8")], body.as_bytes());
}

pub fn not_found(w: &mut dyn Write) {
    respond(w, "404 Not Found", &[("Content-Type", "text/html")], b"<!DOCTYPE html><title>Not Found</title>");
}

/// A real PNG of `w`×`h` pixels, grey level `shade`.
pub fn png(w: u32, h: u32, shade: u8) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, w, h);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().unwrap();
        writer.write_image_data(&vec![shade; (w * h) as usize]).unwrap();
    }
    out
}

/// Options for tests: no screenshot, and the given roots (or the public ones).
pub fn options(roots: Option<&Pki>) -> Options {
    Options {
        screenshot: Screenshot::Off,
        roots: roots.map(|p| Roots::Pem(p.root_pem.clone())).unwrap_or_default(),
        ..Options::default()
    }
}
