//! Domain proofs against a real HTTPS server with its own root: a domain that lists the
//! creator's key makes their name verified; one that does not is refused, saying why.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use common::{Creator, http, limits, start_with};
use fixtures::images::kodak;

/// An HTTPS server on loopback for `localhost`, its certificate issued by a fresh root,
/// answering every request with `body`; its port and the root (PEM).
fn https_server(body: String) -> (u16, String) {
    let root_key = rcgen::KeyPair::generate().unwrap();
    let mut root = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    root.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    root.distinguished_name.push(rcgen::DnType::CommonName, "handprint test root");
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
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let conn = rustls::ServerConnection::new(config.clone()).unwrap();
            let mut tls = rustls::StreamOwned::new(conn, stream);
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && tls.read(&mut byte).map(|n| n == 1).unwrap_or(false) {
                head.push(byte[0]);
            }
            let answer = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = tls.write_all(answer.as_bytes());
            tls.conn.send_close_notify();
            let _ = tls.flush();
        }
    });
    (port, root_cert.pem())
}

fn server(data: &std::path::Path, roots: String) -> String {
    start_with(server::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data: data.to_path_buf(),
        database: None,
        public_url: None,
        limits: limits(),
        domains: registry::domain::Fetching { roots_pem: Some(roots), allow_private: true },
        matchers: Vec::new(),
    })
}

#[test]
fn a_domain_that_lists_the_key_verifies_the_name_and_one_that_does_not_is_refused() {
    let mut alice = Creator::new("Alice Chen");
    let sealed = alice.seal(&kodak("kodim04"), "Portrait");
    let line =
        format!("# Alice Chen's studio\ned25519 {}\n", B64.encode(alice.id.key.verifying_key().as_bytes()));

    // The studio's domain lists Alice's key.
    let (port, root) = https_server(line);
    let data = tempfile::tempdir().unwrap();
    let url = server(data.path(), root.clone());
    let domain = format!("localhost:{port}");
    let published = alice.publish_with_domain(&url, &sealed, Some(&domain)).unwrap();
    assert_eq!(published["publication"]["domain"], domain.as_str(), "{published}");
    let id = published["work"]["id"].as_i64().unwrap();
    let mut r = http().get(&format!("{url}/works/{id}")).call().unwrap();
    let page = r.body_mut().read_to_string().unwrap();
    assert!(page.contains(&format!("verified: {domain}")), "{page}");
    let (_, work) = common::json(http().get(&format!("{url}/v1/works/{id}")).call().unwrap());
    assert_eq!(work["published_event"]["event"]["data"]["creator"]["domain"], domain.as_str());

    // Mallory names the same domain: it does not list her key.
    let mut mallory = Creator::new("Mallory");
    let hers = mallory.seal(&kodak("kodim01"), "Door");
    let err = mallory.publish_with_domain(&url, &hers, Some(&domain)).unwrap_err();
    assert_eq!(err.kind(), registry::ErrorKind::Forbidden, "{err}");
    assert!(err.to_string().contains("does not list the key"), "{err}");

    // A server with the default fetching refuses loopback names outright.
    let data2 = tempfile::tempdir().unwrap();
    let url2 = common::start(data2.path(), limits());
    let err = alice.publish_with_domain(&url2, &sealed, Some(&domain)).unwrap_err();
    assert_eq!(err.kind(), registry::ErrorKind::Invalid, "{err}");
    let err = alice.publish_with_domain(&url2, &sealed, Some("127.0.0.1")).unwrap_err();
    assert!(err.to_string().contains("IP address"), "{err}");
}
