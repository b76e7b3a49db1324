//! A capture as a client would hand it over: a redirect, an HTML page over HTTP/2 with its
//! certificate chain and a brotli body the client decoded, a PNG image sent chunked, and a
//! screenshot of the page; packaged as a WACZ with a further file and a stand-in signature.

#![allow(dead_code)]

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::json;
use std::io::Write;
use std::net::IpAddr;
use webarchive::{Exchange, ExchangeRecords, Package, Page, WarcWriter, Written, write_wacz};

/// A small RGB PNG.
pub fn png(width: u32, height: u32, seed: u8) -> Vec<u8> {
    let mut rows = Vec::new();
    for y in 0..height {
        rows.push(0);
        for x in 0..width {
            rows.extend([(x as u8).wrapping_mul(7) ^ seed, (y as u8).wrapping_mul(5), seed]);
        }
    }
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(&rows).unwrap();
    let idat = z.finish().unwrap();
    let chunk = |kind: &[u8], data: &[u8]| {
        let mut c = (data.len() as u32).to_be_bytes().to_vec();
        c.extend_from_slice(kind);
        c.extend_from_slice(data);
        let mut crc = crc32fast::Hasher::new();
        crc.update(kind);
        crc.update(data);
        c.extend(crc.finalize().to_be_bytes());
        c
    };
    let mut ihdr = width.to_be_bytes().to_vec();
    ihdr.extend(height.to_be_bytes());
    ihdr.extend([8, 2, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    out.extend(chunk(b"IHDR", &ihdr));
    out.extend(chunk(b"IDAT", &idat));
    out.extend(chunk(b"IEND", b""));
    out
}

pub const PAGE_URL: &str = "https://example.com/page";
pub const IMAGE_URL: &str = "https://example.com/image.png?size=small";
pub const REDIRECT_URL: &str = "http://example.com/";

pub const CERTIFICATES: &str = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUXo3h4ZRyQ3ZlbnQgY2VydGlmaWNhdGUgb25lMAoGCCqGSM49BAMC\n-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\nMIIBrjCCAVSgAwIBAgIUQ2hhaW4gY2VydGlmaWNhdGUgdHdvIGludGVybWVkaWF0ZTAK\n-----END CERTIFICATE-----\n";

pub fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 2, 3, 4, 5).unwrap() + Duration::microseconds(123_456)
}

pub fn html() -> Vec<u8> {
    "<!doctype html><html><head><meta charset=\"utf-8\"><title>Caf\u{e9} gallery</title></head>\
     <body><h1>Gallery</h1><img src=\"/image.png?size=small\" alt=\"a picture\"></body></html>\n"
        .as_bytes()
        .to_vec()
}

pub fn exchanges() -> Vec<Exchange> {
    let t = start();
    let redirect_body = b"<html><body><a href=\"https://example.com/page\">moved</a></body></html>".to_vec();
    vec![
        Exchange {
            url: REDIRECT_URL.into(),
            method: "GET".into(),
            request_head: vec![
                ("user-agent".into(), "handprint-capture/0.1".into()),
                ("accept".into(), "text/html,*/*".into()),
            ],
            status: 301,
            reason: "Moved Permanently".into(),
            response_head: vec![
                ("Location".into(), PAGE_URL.into()),
                ("Content-Type".into(), "text/html; charset=utf-8".into()),
                ("Content-Length".into(), redirect_body.len().to_string()),
            ],
            body: redirect_body,
            decoded: vec![],
            ip: Some("93.184.215.14".parse::<IpAddr>().unwrap()),
            protocol: vec!["http/1.1".into()],
            cipher_suite: None,
            certificates_pem: None,
            date: t,
        },
        Exchange {
            url: PAGE_URL.into(),
            method: "GET".into(),
            request_head: vec![
                (":method".into(), "GET".into()),
                (":authority".into(), "example.com".into()),
                ("user-agent".into(), "handprint-capture/0.1".into()),
                ("accept-encoding".into(), "br, gzip".into()),
            ],
            status: 200,
            reason: String::new(),
            response_head: vec![
                (":status".into(), "200".into()),
                ("content-type".into(), "text/html; charset=utf-8".into()),
                ("content-encoding".into(), "br".into()),
                ("content-length".into(), "97".into()),
                ("vary".into(), "accept-encoding".into()),
            ],
            body: html(),
            decoded: vec!["content-encoding".into()],
            ip: Some("2606:2800:21f:cb07:6820:80da:af6b:8b2c".parse::<IpAddr>().unwrap()),
            protocol: vec!["h2".into(), "tls/1.3".into()],
            cipher_suite: Some("TLS_AES_128_GCM_SHA256".into()),
            certificates_pem: Some(CERTIFICATES.into()),
            date: t + Duration::milliseconds(250),
        },
        Exchange {
            url: IMAGE_URL.into(),
            method: "GET".into(),
            request_head: vec![
                ("host".into(), "example.com".into()),
                ("user-agent".into(), "handprint-capture/0.1".into()),
            ],
            status: 200,
            reason: "OK".into(),
            response_head: vec![
                ("Content-Type".into(), "image/png".into()),
                ("Transfer-Encoding".into(), "chunked".into()),
            ],
            body: png(24, 16, 9),
            decoded: vec![],
            ip: Some("93.184.215.14".parse::<IpAddr>().unwrap()),
            protocol: vec!["http/1.1".into(), "tls/1.2".into()],
            cipher_suite: Some("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256".into()),
            certificates_pem: None,
            date: t + Duration::milliseconds(480),
        },
    ]
}

pub struct Capture {
    pub warc: Vec<u8>,
    pub warcinfo: Written,
    pub records: Vec<ExchangeRecords>,
    pub screenshot: Written,
}

pub fn capture() -> Capture {
    let mut w = WarcWriter::new(Vec::new());
    let warcinfo = w
        .warcinfo(
            "data.warc.gz",
            &start(),
            &[
                ("software", "handprint-webarchive tests"),
                ("http-header-user-agent", "handprint-capture/0.1"),
            ],
        )
        .unwrap();
    let records: Vec<ExchangeRecords> = exchanges().iter().map(|e| w.exchange(e).unwrap()).collect();
    let screenshot = w
        .resource(
            &format!("urn:screenshot:{PAGE_URL}"),
            "image/png",
            &png(32, 20, 200),
            &(start() + Duration::milliseconds(900)),
            Some(&records[1].response.id),
        )
        .unwrap();
    Capture { warc: w.into_inner(), warcinfo, records, screenshot }
}

pub fn package(warc: Vec<u8>) -> Package {
    Package {
        warc,
        pages: vec![Page { url: PAGE_URL.into(), ts: start() + Duration::milliseconds(250), title: None }],
        files: vec![(
            "handprint/matches.json".into(),
            serde_json::to_vec(&json!({"matches": [{"url": IMAGE_URL, "work": 7, "distance": 4}]})).unwrap(),
        )],
        title: Some(format!("Capture of {PAGE_URL}")),
        description: Some("Caf\u{e9} evidence".into()),
        main_page_url: Some(PAGE_URL.into()),
        main_page_date: Some(start()),
        software: "handprint-webarchive tests".into(),
        created: start() + Duration::seconds(2),
    }
}

/// The WACZ of the capture, and the hash its stand-in signature was asked to sign.
pub fn wacz() -> (Vec<u8>, String) {
    let mut signed = String::new();
    let bytes = write_wacz(&package(capture().warc), |hash| {
        signed = hash.to_owned();
        Ok(json!({"alg": "test", "signs": hash}))
    })
    .unwrap();
    (bytes, signed)
}

/// A stored zip of `files`, as a packer other than [`write_wacz`] would write it.
pub fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (path, bytes) in files {
        let options =
            zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
        zip.start_file(*path, options).unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap().into_inner()
}
