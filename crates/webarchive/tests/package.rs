//! Writing, reading and verifying a capture, and what verification must catch: any changed
//! byte, a record changed and re-hashed, truncation, garbage, zip bombs, absurd entry counts
//! and paths that escape.

mod common;

use common::*;
use std::io::{Read, Write};
use webarchive::{
    WaczLimits, WarcLimits, check_record, read_wacz, read_wacz_with, read_warc, sha256_label, verify_wacz,
    verify_wacz_with, write_wacz,
};

fn header_block(block: &[u8]) -> String {
    let end = block.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    String::from_utf8(block[..end + 2].to_vec()).unwrap()
}

#[test]
fn records_are_written_as_replay_tools_expect() {
    let c = capture();
    let records = read_warc(&c.warc, &WarcLimits::default()).unwrap();
    let types: Vec<&str> = records.iter().map(|r| r.record_type()).collect();
    assert_eq!(
        types,
        [
            "warcinfo", "response", "request", "response", "request", "metadata", "response", "request",
            "resource"
        ]
    );
    for r in &records {
        assert_eq!(r.version, "WARC/1.1");
        assert_eq!(check_record(r), Vec::<String>::new(), "record at {}", r.offset);
        let date = r.header("WARC-Date").unwrap();
        assert_eq!(date.len(), "2025-01-02T03:04:05.123456Z".len(), "{date}");
        assert!(r.header("WARC-Block-Digest").unwrap().starts_with("sha256:"));
        if r.record_type() != "warcinfo" {
            assert_eq!(r.header("WARC-Warcinfo-ID"), Some(format!("<{}>", c.warcinfo.id).as_str()));
        }
    }
    // Offsets and lengths are those of the gzip members, back to back.
    let mut at = 0;
    for r in &records {
        assert_eq!(r.offset, at);
        at += r.length;
    }
    assert_eq!(at, c.warc.len() as u64);
    assert_eq!(records[1].offset, c.records[0].response.offset);
    assert_eq!(records[1].length, c.records[0].response.length);

    let info = String::from_utf8(records[0].block.clone()).unwrap();
    assert!(info.contains("software: handprint-webarchive tests\r\n"), "{info}");
    assert!(info.contains("format: WARC file version 1.1\r\n"));
    assert_eq!(records[0].header("WARC-Filename"), Some("data.warc.gz"));
    assert_eq!(records[0].header("Content-Type"), Some("application/warc-fields"));
    assert_eq!(records[0].header("WARC-Target-URI"), None);

    // The redirect: its own pair, the Location kept, the length already right.
    let redirect = records[1].http().unwrap();
    assert_eq!(redirect.start_line, "HTTP/1.1 301 Moved Permanently");
    assert_eq!(redirect.header("location"), Some(PAGE_URL));
    assert_eq!(redirect.header("content-length").unwrap(), records[1].payload().len().to_string());
    assert_eq!(records[2].header("WARC-Concurrent-To"), Some(format!("<{}>", records[1].id()).as_str()));
    assert_eq!(records[2].http().unwrap().start_line, "GET / HTTP/1.1");
    assert!(header_block(&records[2].block).contains("host: example.com\r\n"));

    // The page over HTTP/2: an HTTP/1.1 status line with a standard reason, no pseudo-headers,
    // the decoded encoding renamed, the length that of the stored body.
    let page = &records[3];
    let head = header_block(&page.block);
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(!head.contains(":status"), "{head}");
    assert!(head.contains("x-orig-content-encoding: br\r\n"), "{head}");
    assert!(head.contains("x-orig-content-length: 97\r\n"), "{head}");
    assert!(head.contains(&format!("content-length: {}\r\n", html().len())), "{head}");
    assert_eq!(page.payload(), html().as_slice());
    assert_eq!(page.header("WARC-Payload-Digest").unwrap(), sha256_label(&html()));
    let protocols: Vec<&str> =
        page.headers.iter().filter(|(n, _)| n == "WARC-Protocol").map(|(_, v)| v.as_str()).collect();
    assert_eq!(protocols, ["h2", "tls/1.3"]);
    assert_eq!(page.header("WARC-IP-Address"), Some("2606:2800:21f:cb07:6820:80da:af6b:8b2c"));
    assert_eq!(page.header("WARC-Cipher-Suite"), Some("TLS_AES_128_GCM_SHA256"));
    let request = header_block(&records[4].block);
    assert!(request.starts_with("GET /page HTTP/1.1\r\nhost: example.com\r\n"), "{request}");
    assert!(!request.contains(":authority"), "{request}");

    // The certificate chain refers to the page's response.
    let certs = &records[5];
    assert_eq!(certs.target_uri(), Some(format!("urn:tls-certificates:{PAGE_URL}").as_str()));
    assert_eq!(certs.header("WARC-Refers-To"), Some(format!("<{}>", page.id()).as_str()));
    assert_eq!(certs.header("Content-Type"), Some("application/pem-certificate-chain"));
    assert_eq!(certs.header("WARC-Payload-Digest"), None);
    assert_eq!(certs.block, CERTIFICATES.as_bytes());

    // The image was sent chunked: stored de-chunked, the coding renamed.
    let image = header_block(&records[6].block);
    assert!(image.contains("x-orig-Transfer-Encoding: chunked\r\n"), "{image}");
    assert!(!image.to_ascii_lowercase().contains("\r\ntransfer-encoding"), "{image}");
    assert_eq!(records[7].http().unwrap().start_line, "GET /image.png?size=small HTTP/1.1");

    let shot = &records[8];
    assert_eq!(shot.target_uri(), Some(format!("urn:screenshot:{PAGE_URL}").as_str()));
    assert_eq!(shot.header("WARC-Concurrent-To"), Some(format!("<{}>", page.id()).as_str()));
    assert!(shot.block.starts_with(b"\x89PNG"));
    assert_eq!(shot.id(), c.screenshot.id);
}

#[test]
fn an_uncompressed_warc_reads_the_same() {
    let c = capture();
    let mut plain = Vec::new();
    flate2::read::MultiGzDecoder::new(&c.warc[..]).read_to_end(&mut plain).unwrap();
    let gz = read_warc(&c.warc, &WarcLimits::default()).unwrap();
    let records = read_warc(&plain, &WarcLimits::default()).unwrap();
    assert_eq!(records.len(), gz.len());
    let mut at = 0;
    for (a, b) in records.iter().zip(&gz) {
        assert_eq!((a.offset, &a.headers, &a.block), (at, &b.headers, &b.block));
        at += a.length;
    }
    assert_eq!(at, plain.len() as u64);
}

#[test]
fn the_package_verifies_and_hands_back_the_signature() {
    let (bytes, signed) = wacz();
    let v = verify_wacz(&bytes);
    assert!(v.ok, "{:#?}", v.problems);
    assert_eq!(v.datapackage_hash.as_deref(), Some(signed.as_str()));
    assert_eq!(v.handprint, Some(serde_json::json!({"alg": "test", "signs": signed})));
    assert_eq!(v.created.as_deref(), Some("2025-01-02T03:04:07Z"));
    assert_eq!(v.records.len(), 9);
    assert!(v.records.iter().all(|r| r.problems.is_empty()));
    assert_eq!(v.index_lines, 5, "3 responses, the certificates and the screenshot");
    assert_eq!(v.pages, 1);
    let paths: Vec<&str> = v.resources.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(
        paths,
        ["archive/data.warc.gz", "indexes/index.cdxj", "pages/pages.jsonl", "handprint/matches.json"]
    );

    let w = read_wacz(&bytes).unwrap();
    let names: Vec<&str> = w.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        names,
        [
            "archive/data.warc.gz",
            "indexes/index.cdxj",
            "pages/pages.jsonl",
            "handprint/matches.json",
            "datapackage.json",
            "datapackage-digest.json"
        ]
    );
    assert!(w.files.iter().all(|f| f.stored));
    let records = read_warc(w.file("archive/data.warc.gz").unwrap(), &WarcLimits::default()).unwrap();
    assert_eq!(records.len(), 9);
    let datapackage = std::str::from_utf8(w.file("datapackage.json").unwrap()).unwrap();
    assert!(
        datapackage.starts_with("{\n  \"profile\": \"data-package\",\n  \"resources\": [\n    {\n"),
        "{datapackage}"
    );
    assert!(datapackage.contains("\"description\": \"Caf\\u00e9 evidence\""), "{datapackage}");
    assert!(datapackage.contains("\"wacz_version\": \"1.1.1\""));
    assert_eq!(sha256_label(datapackage.as_bytes()), signed);
    let pages = std::str::from_utf8(w.file("pages/pages.jsonl").unwrap()).unwrap();
    let first = pages.lines().next().unwrap();
    assert_eq!(first, r#"{"format": "json-pages-1.0", "id": "pages", "title": "All Pages"}"#);
    assert!(
        pages
            .lines()
            .nth(1)
            .unwrap()
            .contains(r#""url": "https://example.com/page", "ts": "2025-01-02T03:04:05Z""#)
    );
    let digest: serde_json::Value =
        serde_json::from_slice(w.file("datapackage-digest.json").unwrap()).unwrap();
    assert_eq!(digest["path"], "datapackage.json");
    assert_eq!(digest["hash"], signed.as_str());
    assert!(digest.get("signedData").is_none());

    let index = std::str::from_utf8(w.file("indexes/index.cdxj").unwrap()).unwrap();
    let keys: Vec<&str> = index.lines().map(|l| l.split(' ').next().unwrap()).collect();
    assert_eq!(
        keys,
        [
            "com,example)/",
            "com,example)/image.png?size=small",
            "com,example)/page",
            "urn:screenshot:https://example.com/page",
            "urn:tls-certificates:https://example.com/page"
        ]
    );
    assert!(index.contains(r#""mime": "text/html", "status": "200", "digest": "sha256:"#), "{index}");
}

/// The byte ranges of `zip` no reader and no check looks at: central-directory-only fields
/// (version made by, internal and external attributes), comments and extra fields.
fn unchecked_ranges(zip: &[u8]) -> Vec<std::ops::Range<usize>> {
    let u16_at = |at: usize| u16::from_le_bytes([zip[at], zip[at + 1]]) as usize;
    let u32_at = |at: usize| u32::from_le_bytes(zip[at..at + 4].try_into().unwrap()) as usize;
    let eocd = zip.len() - 22;
    assert_eq!(u32_at(eocd), 0x0605_4b50, "a zip without a comment");
    let (count, mut at) = (u16_at(eocd + 10), u32_at(eocd + 16));
    let mut ranges = Vec::new();
    for _ in 0..count {
        let (n, e, c, local) = (u16_at(at + 28), u16_at(at + 30), u16_at(at + 32), u32_at(at + 42));
        ranges.push(at + 4..at + 6);
        ranges.push(at + 36..at + 42);
        ranges.push(at + 46 + n..at + 46 + n + e + c);
        let (ln, le) = (u16_at(local + 26), u16_at(local + 28));
        ranges.push(local + 30 + ln..local + 30 + ln + le);
        at += 46 + n + e + c;
    }
    ranges.retain(|r| !r.is_empty());
    ranges
}

#[test]
fn every_changed_byte_is_caught() {
    let (bytes, _) = wacz();
    let unchecked = unchecked_ranges(&bytes);
    let unchecked_count: usize = unchecked.iter().map(|r| r.len()).sum();
    // Six entries, eight bytes each, and no extra fields or comments.
    assert_eq!(unchecked_count, 6 * 8, "{unchecked:?}");
    let mut missed = Vec::new();
    for at in 0..bytes.len() {
        if unchecked.iter().any(|r| r.contains(&at)) {
            continue;
        }
        for flip in [0x01u8, 0x80] {
            let mut changed = bytes.clone();
            changed[at] ^= flip;
            let v = verify_wacz(&changed);
            if v.ok {
                missed.push((at, flip));
            }
        }
    }
    assert!(missed.is_empty(), "{} of {} changes went unnoticed: {missed:?}", missed.len(), 2 * bytes.len());
}

/// Where `needle` is in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> usize {
    haystack.windows(needle.len()).position(|w| w == needle).unwrap()
}

#[test]
fn changes_in_each_part_are_named() {
    let (bytes, _) = wacz();
    let w = read_wacz(&bytes).unwrap();
    let warc = w.file("archive/data.warc.gz").unwrap();
    let warc_at = find(&bytes, warc);
    let records = read_warc(warc, &WarcLimits::default()).unwrap();
    let page = &records[3];
    let member = warc_at + page.offset as usize;
    let cases = [
        ("a WARC record's gzip member, its middle", member + page.length as usize / 2),
        ("a WARC record's gzip header", member + 4),
        ("the datapackage.json", find(&bytes, b"\"wacz_version\"") + 3),
        ("the index", find(&bytes, b"com,example)/page")),
        ("the page list", find(&bytes, b"json-pages-1.0")),
        ("the digest's hash", find(&bytes, b"\"hash\": \"sha256:") + 20),
        ("the signature", find(&bytes, b"\"signs\"") + 2),
        ("a local header", find(&bytes, b"PK\x03\x04") + 10),
        ("the central directory", find(&bytes, b"PK\x01\x02") + 16),
        ("the end record", bytes.len() - 10),
    ];
    for (what, at) in cases {
        let mut changed = bytes.clone();
        changed[at] ^= 0xff;
        let v = verify_wacz(&changed);
        assert!(!v.ok, "a change in {what} (byte {at}) went unnoticed");
        assert!(!v.problems.is_empty());
    }
}

/// Replaces a file of a package and recomputes every hash that covers it, as someone without
/// the signing key could: only the checks inside the files and the signature can tell.
fn repacked(bytes: &[u8], path: &str, content: &[u8]) -> Vec<u8> {
    let w = read_wacz(bytes).unwrap();
    let mut files: Vec<(String, Vec<u8>)> =
        w.files.iter().map(|f| (f.path.clone(), f.bytes.clone())).collect();
    let mut datapackage: serde_json::Value =
        serde_json::from_slice(w.file("datapackage.json").unwrap()).unwrap();
    for r in datapackage["resources"].as_array_mut().unwrap() {
        if r["path"] == path {
            r["hash"] = sha256_label(content).into();
            r["bytes"] = content.len().into();
        }
    }
    let datapackage = serde_json::to_vec_pretty(&datapackage).unwrap();
    let mut digest: serde_json::Value =
        serde_json::from_slice(w.file("datapackage-digest.json").unwrap()).unwrap();
    digest["hash"] = sha256_label(&datapackage).into();
    for (p, c) in &mut files {
        match p.as_str() {
            "datapackage.json" => *c = datapackage.clone(),
            "datapackage-digest.json" => *c = serde_json::to_vec_pretty(&digest).unwrap(),
            p if p == path => *c = content.to_vec(),
            _ => {}
        }
    }
    let refs: Vec<(&str, &[u8])> = files.iter().map(|(p, b)| (p.as_str(), b.as_slice())).collect();
    zip_of(&refs)
}

fn rehashed(bytes: &[u8], warc: &[u8]) -> Vec<u8> {
    repacked(bytes, "archive/data.warc.gz", warc)
}

#[test]
fn an_index_or_page_list_that_does_not_fit_the_warc_is_caught() {
    let (bytes, _) = wacz();
    let w = read_wacz(&bytes).unwrap();
    let index = std::str::from_utf8(w.file("indexes/index.cdxj").unwrap()).unwrap().to_owned();
    let problems =
        |path: &str, content: &str| verify_wacz(&repacked(&bytes, path, content.as_bytes())).problems;

    let first_offset = index.split("\"offset\": \"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let absurd = index.replacen(
        &format!("\"offset\": \"{first_offset}\""),
        &format!("\"offset\": \"{}\"", u64::MAX),
        1,
    );
    let p = problems("indexes/index.cdxj", &absurd);
    assert!(p.iter().any(|p| p.contains(&format!("no record starts at offset {}", u64::MAX))), "{p:?}");
    assert!(p.iter().any(|p| p.contains("not in indexes/index.cdxj")), "{p:?}");

    let shorter: String = index.lines().skip(1).map(|l| format!("{l}\n")).collect();
    let p = problems("indexes/index.cdxj", &shorter);
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(
        p[0].contains("response record at offset") && p[0].contains("not in indexes/index.cdxj"),
        "{p:?}"
    );

    let p = problems(
        "indexes/index.cdxj",
        &index.replace("\"status\": \"301\"", "\"status\": \"200\"").replace("data.warc.gz", "other.warc.gz"),
    );
    assert!(p.iter().any(|p| p.contains("archive/other.warc.gz was not read")), "{p:?}");

    let pages = std::str::from_utf8(w.file("pages/pages.jsonl").unwrap()).unwrap();
    let p = problems("pages/pages.jsonl", &pages.replace(PAGE_URL, "https://example.com/elsewhere"));
    assert_eq!(p, ["pages/pages.jsonl line 2: no record captured https://example.com/elsewhere"]);
    let p = problems("pages/pages.jsonl", &pages.replace(PAGE_URL, &format!("{PAGE_URL}#part")));
    assert_eq!(p, Vec::<String>::new(), "a fragment names a part of a captured page");

    // A file the datapackage does not list is not vouched for.
    let mut files: Vec<(&str, &[u8])> =
        w.files.iter().map(|f| (f.path.as_str(), f.bytes.as_slice())).collect();
    files.insert(3, ("handprint/extra.json", b"{}"));
    let v = verify_wacz(&zip_of(&files));
    assert_eq!(v.problems, ["handprint/extra.json: not listed in datapackage.json (nothing vouches for it)"]);
}

/// The WARC with the gzip member at `record` replaced by one holding `edit` of its record.
fn edit_record(warc: &[u8], record: usize, edit: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let records = read_warc(warc, &WarcLimits::default()).unwrap();
    let r = &records[record];
    let (start, end) = (r.offset as usize, (r.offset + r.length) as usize);
    let mut raw = Vec::new();
    flate2::read::GzDecoder::new(&warc[start..end]).read_to_end(&mut raw).unwrap();
    edit(&mut raw);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&raw).unwrap();
    let mut out = warc[..start].to_vec();
    out.extend(gz.finish().unwrap());
    out.extend_from_slice(&warc[end..]);
    out
}

#[test]
fn a_record_changed_and_rehashed_is_caught_by_its_digests() {
    let (bytes, signed) = wacz();
    let warc = read_wacz(&bytes).unwrap().file("archive/data.warc.gz").unwrap().to_vec();
    // One word of the page's body.
    let forged = edit_record(&warc, 3, |raw| {
        let at = find(raw, b"Gallery</h1>");
        raw[at] = b'g';
    });
    let v = verify_wacz(&rehashed(&bytes, &forged));
    assert!(!v.ok);
    assert_ne!(v.datapackage_hash.as_deref(), Some(signed.as_str()), "the signature no longer fits");
    let page =
        v.records.iter().find(|r| r.record_type == "response" && r.target_uri.as_deref() == Some(PAGE_URL));
    let problems = &page.unwrap().problems;
    assert!(problems.iter().any(|p| p.starts_with("block digest failed")), "{problems:?}");
    assert!(problems.iter().any(|p| p.starts_with("payload digest failed")), "{problems:?}");
    assert!(v.problems.iter().any(|p| p.contains("recordDigest")), "{:?}", v.problems);
    let refused = write_wacz(&package(forged), |_| Ok(serde_json::Value::Null)).unwrap_err().to_string();
    assert!(refused.contains("block digest failed"), "{refused}");

    // A header changed (the date) is caught by the block digest alone.
    let forged = edit_record(&warc, 6, |raw| {
        let at = find(raw, b"WARC-Date: 2025") + 14;
        raw[at] = b'6';
    });
    let v = verify_wacz(&rehashed(&bytes, &forged));
    let image =
        v.records.iter().find(|r| r.record_type == "response" && r.target_uri.as_deref() == Some(IMAGE_URL));
    assert_eq!(image.unwrap().problems, Vec::<String>::new(), "the WARC header is outside the block");
    assert!(v.problems.iter().any(|p| p.contains("timestamp")), "the index no longer fits: {:?}", v.problems);

    // The rehashed package with the WARC unchanged verifies: the check is not just "rewritten".
    let v = verify_wacz(&rehashed(&bytes, &warc));
    assert!(v.ok, "{:?}", v.problems);
}

#[test]
fn truncated_and_garbage_input_is_refused() {
    let (bytes, _) = wacz();
    for len in (0..bytes.len()).step_by(7).chain([bytes.len() - 1]) {
        assert!(!verify_wacz(&bytes[..len]).ok, "truncated to {len}");
        assert!(read_wacz(&bytes[..len]).is_err(), "truncated to {len}");
    }
    // A WARC cut between two records is a shorter WARC (the package's hashes catch that);
    // cut anywhere else, it is refused.
    let c = capture();
    let ends: Vec<usize> = read_warc(&c.warc, &WarcLimits::default())
        .unwrap()
        .iter()
        .map(|r| (r.offset + r.length) as usize)
        .collect();
    for len in (1..c.warc.len()).step_by(5).filter(|l| !ends.contains(l)) {
        assert!(read_warc(&c.warc[..len], &WarcLimits::default()).is_err(), "WARC truncated to {len}");
    }
    assert_eq!(read_warc(&c.warc[..ends[3]], &WarcLimits::default()).unwrap().len(), 4);
    let mut plain = Vec::new();
    flate2::read::MultiGzDecoder::new(&c.warc[..]).read_to_end(&mut plain).unwrap();
    let ends: Vec<usize> = read_warc(&plain, &WarcLimits::default())
        .unwrap()
        .iter()
        .map(|r| (r.offset + r.length) as usize)
        .collect();
    for len in (1..plain.len()).step_by(3).filter(|l| !ends.contains(l)) {
        assert!(read_warc(&plain[..len], &WarcLimits::default()).is_err(), "plain WARC truncated to {len}");
    }
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for n in [0usize, 1, 21, 22, 100, 4096] {
        let garbage: Vec<u8> = (0..n)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect();
        assert!(read_wacz(&garbage).is_err());
        assert!(!verify_wacz(&garbage).ok);
        assert!(read_warc(&garbage, &WarcLimits::default()).is_err());
        let mut gz = vec![0x1f, 0x8b];
        gz.extend(&garbage);
        assert!(read_warc(&gz, &WarcLimits::default()).is_err());
    }
    // A WARC whose Content-Length runs past the data, or is absurd.
    let r = b"WARC/1.1\r\nWARC-Type: resource\r\nContent-Length: 99999999999999\r\n\r\nabc\r\n\r\n";
    assert!(read_warc(r, &WarcLimits::default()).is_err());
    let r = b"WARC/1.1\r\nWARC-Type: resource\r\nContent-Length: 10\r\n\r\nabc\r\n\r\n";
    assert!(read_warc(r, &WarcLimits::default()).is_err());
    let r = b"WARC/1.1\r\nWARC-Type: resource\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc\r\n\r\n";
    assert!(read_warc(r, &WarcLimits::default()).is_err());
}

#[test]
fn reading_a_warc_stays_within_its_limits() {
    let c = capture();
    let few = WarcLimits { max_records: 4, ..WarcLimits::default() };
    assert!(read_warc(&c.warc, &few).unwrap_err().to_string().contains("more than 4 records"));
    let small = WarcLimits { max_record_bytes: 100, ..WarcLimits::default() };
    assert!(read_warc(&c.warc, &small).is_err());
    let total = WarcLimits { max_total_bytes: 2000, ..WarcLimits::default() };
    assert!(read_warc(&c.warc, &total).is_err());
    // A gzip member that expands far beyond its limits stops at the limit.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(b"WARC/1.1\r\nContent-Length: 67108864\r\n\r\n").unwrap();
    gz.write_all(&vec![0u8; 64 << 20]).unwrap();
    let bomb = gz.finish().unwrap();
    assert!(bomb.len() < 200_000);
    let e = read_warc(&bomb, &WarcLimits { max_record_bytes: 1 << 20, ..WarcLimits::default() }).unwrap_err();
    assert!(e.to_string().contains("more than"), "{e}");
}

/// A zip written by hand: `(name, method, data as stored, uncompressed size, CRC)`.
fn raw_zip(entries: &[(&str, u16, &[u8], u32, u32)]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, method, data, size, crc) in entries {
        let offset = out.len() as u32;
        let header = |sig: u32, central: bool| {
            let mut h = sig.to_le_bytes().to_vec();
            if central {
                h.extend(20u16.to_le_bytes());
            }
            h.extend(20u16.to_le_bytes());
            h.extend(0u16.to_le_bytes());
            h.extend(method.to_le_bytes());
            h.extend([0, 0, 0x21, 0]);
            h.extend(crc.to_le_bytes());
            h.extend((data.len() as u32).to_le_bytes());
            h.extend(size.to_le_bytes());
            h.extend((name.len() as u16).to_le_bytes());
            h.extend(0u16.to_le_bytes());
            if central {
                h.extend([0u8; 8]);
                h.extend(0u16.to_le_bytes());
                h.extend(offset.to_le_bytes());
            }
            h.extend(name.as_bytes());
            h
        };
        out.extend(header(0x0403_4b50, false));
        out.extend_from_slice(data);
        central.extend(header(0x0201_4b50, true));
    }
    let cd_offset = out.len() as u32;
    out.extend(&central);
    out.extend(0x0605_4b50u32.to_le_bytes());
    out.extend([0u8; 4]);
    out.extend((entries.len() as u16).to_le_bytes());
    out.extend((entries.len() as u16).to_le_bytes());
    out.extend((central.len() as u32).to_le_bytes());
    out.extend(cd_offset.to_le_bytes());
    out.extend([0u8; 2]);
    out
}

fn deflate(data: &[u8]) -> Vec<u8> {
    let mut d = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    d.write_all(data).unwrap();
    d.finish().unwrap()
}

#[test]
fn zip_bombs_are_refused() {
    // The hand-made zip is read when it is sound.
    let text = b"hello hello hello hello";
    let ok = raw_zip(&[("a/b.txt", 8, &deflate(text), text.len() as u32, crc32fast::hash(text))]);
    assert_eq!(read_wacz(&ok).unwrap().file("a/b.txt"), Some(&text[..]));

    // 64 MiB of zeros in 64 KiB: refused before it is expanded.
    let zeros = vec![0u8; 64 << 20];
    let bomb = raw_zip(&[("a/zeros.bin", 8, &deflate(&zeros), zeros.len() as u32, crc32fast::hash(&zeros))]);
    assert!(bomb.len() < 200_000);
    let e = read_wacz(&bomb).unwrap_err().to_string();
    assert!(e.contains("zip bomb"), "{e}");
    assert!(!verify_wacz(&bomb).ok);

    // Sizes over the limits, as declared.
    let limits = WaczLimits { max_entry_bytes: 1 << 20, ..WaczLimits::default() };
    let e = read_wacz_with(&bomb, &limits).unwrap_err().to_string();
    assert!(e.contains("uncompressed"), "{e}");
    let two = raw_zip(&[
        ("a/1", 0, &[7; 3000], 3000, crc32fast::hash(&[7; 3000])),
        ("a/2", 0, &[7; 3000], 3000, crc32fast::hash(&[7; 3000])),
    ]);
    let limits = WaczLimits { max_total_bytes: 5000, ..WaczLimits::default() };
    assert!(read_wacz_with(&two, &limits).unwrap_err().to_string().contains("in all"));

    // A size that lies: 100 bytes declared, 16 MiB inside; reading stops at 101.
    let big = vec![0u8; 16 << 20];
    let liar = raw_zip(&[("a/liar.bin", 8, &deflate(&big), 100, crc32fast::hash(&big[..100]))]);
    let e = read_wacz(&liar).unwrap_err().to_string();
    assert!(e.contains("or more bytes, 100 declared"), "{e}");
}

#[test]
fn absurd_entry_counts_are_refused() {
    // An end record claiming 65535 entries in an empty directory.
    let mut eocd = 0x0605_4b50u32.to_le_bytes().to_vec();
    eocd.extend([0u8; 4]);
    eocd.extend([0xff, 0xff, 0xff, 0xff]);
    eocd.extend([0u8; 10]);
    let e = read_wacz(&eocd).unwrap_err().to_string();
    assert!(e.contains("entries"), "{e}");

    // A ZIP64 end record claiming 2^60 entries.
    let mut z = 0x0606_4b50u32.to_le_bytes().to_vec();
    z.extend(44u64.to_le_bytes());
    z.extend([45, 0, 45, 0]);
    z.extend([0u8; 8]);
    z.extend((1u64 << 60).to_le_bytes());
    z.extend((1u64 << 60).to_le_bytes());
    z.extend(0u64.to_le_bytes());
    z.extend(0u64.to_le_bytes());
    z.extend(0x0706_4b50u32.to_le_bytes());
    z.extend(0u32.to_le_bytes());
    z.extend(0u64.to_le_bytes());
    z.extend(1u32.to_le_bytes());
    z.extend(0x0605_4b50u32.to_le_bytes());
    z.extend([0u8; 4]);
    z.extend([0xff; 4]);
    z.extend([0xff; 8]);
    z.extend([0u8; 2]);
    let e = read_wacz(&z).unwrap_err().to_string();
    assert!(e.contains("1152921504606846976 entries"), "{e}");

    // A real zip with one entry more than the limit.
    let names: Vec<String> = (0..101).map(|i| format!("d/{i}.txt")).collect();
    let files: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b"x"[..])).collect();
    let many = zip_of(&files);
    let limits = WaczLimits { max_entries: 100, ..WaczLimits::default() };
    let e = read_wacz_with(&many, &limits).unwrap_err().to_string();
    assert!(e.contains("101 entries (at most 100 read)"), "{e}");
    assert_eq!(read_wacz(&many).unwrap().files.len(), 101);
}

#[test]
fn paths_that_escape_are_refused() {
    for name in ["../evil.txt", "/etc/passwd", "a\\b.txt", "a/../../b.txt", "C:/x.txt", "a//b.txt", "./a.txt"]
    {
        let zip = raw_zip(&[(name, 0, b"x", 1, crc32fast::hash(b"x"))]);
        let e = read_wacz(&zip).unwrap_err().to_string();
        assert!(e.contains("entry name"), "{name}: {e}");
    }
    let dup = raw_zip(&[
        ("a/b.txt", 0, b"x", 1, crc32fast::hash(b"x")),
        ("a/b.txt", 0, b"y", 1, crc32fast::hash(b"y")),
    ]);
    let e = read_wacz(&dup).unwrap_err().to_string();
    assert!(e.contains("two entries with this name"), "{e}");
    // Bytes before the first entry, and a damaged CRC.
    let ok = raw_zip(&[("a/b.txt", 0, b"x", 1, crc32fast::hash(b"x"))]);
    let mut prefixed = b"MZ".to_vec();
    prefixed.extend(&ok);
    assert!(read_wacz(&prefixed).is_err());
    let bad_crc = raw_zip(&[("a/b.txt", 0, b"x", 1, crc32fast::hash(b"y"))]);
    assert!(read_wacz(&bad_crc).unwrap_err().to_string().contains("CRC"));
}

#[test]
fn writing_refuses_what_cannot_be_archived() {
    let mut ex = exchanges().remove(1);
    ex.response_head.push(("x-evil".into(), "a\r\nWARC-Type: resource".into()));
    let mut w = webarchive::WarcWriter::new(Vec::new());
    assert!(w.exchange(&ex).unwrap_err().to_string().contains("line break"));
    let mut ex = exchanges().remove(1);
    ex.url = "ftp://example.com/".into();
    assert!(w.exchange(&ex).is_err());
    let mut ex = exchanges().remove(1);
    ex.method = "GET /x".into();
    assert!(w.exchange(&ex).is_err());
    let mut ex = exchanges().remove(1);
    ex.request_head.push(("bad name".into(), "x".into()));
    assert!(w.exchange(&ex).unwrap_err().to_string().contains("not an HTTP token"));
    assert!(w.resource("not a uri", "image/png", b"", &start(), None).is_err());
    assert_eq!(w.offset(), 0, "nothing was written");

    let c = capture();
    for path in
        ["matches.json", "a/b/c.json", "archive/x.json", "pages/p.jsonl", "handprint/../x.json", "h/a b.json"]
    {
        let mut p = package(c.warc.clone());
        p.files.push((path.into(), b"{}".to_vec()));
        assert!(write_wacz(&p, |_| Ok(serde_json::Value::Null)).is_err(), "{path}");
    }
    let mut p = package(c.warc.clone());
    p.files.push(("other/matches.json".into(), b"{}".to_vec()));
    assert!(write_wacz(&p, |_| Ok(serde_json::Value::Null)).unwrap_err().to_string().contains("unique"));
    let p = package(c.warc.clone());
    assert!(write_wacz(&p, |_| Err("no key".into())).unwrap_err().to_string().contains("no key"));
    let mut plain = Vec::new();
    flate2::read::MultiGzDecoder::new(&c.warc[..]).read_to_end(&mut plain).unwrap();
    assert!(write_wacz(&package(plain), |_| Ok(serde_json::Value::Null)).is_err());
    // Unsigned: no "handprint" key, and the package still verifies.
    let unsigned = write_wacz(&package(c.warc), |_| Ok(serde_json::Value::Null)).unwrap();
    let v = verify_wacz_with(&unsigned, &WaczLimits::default());
    assert!(v.ok && v.handprint.is_none(), "{:?}", v.problems);
}

#[test]
fn a_fragment_is_not_requested_nor_recorded() {
    let mut ex = exchanges().remove(1);
    ex.url = format!("{PAGE_URL}?a=1#section-2");
    let mut w = webarchive::WarcWriter::new(Vec::new());
    w.exchange(&ex).unwrap();
    let records = read_warc(&w.into_inner(), &WarcLimits::default()).unwrap();
    let targets: Vec<&str> = records.iter().map(|r| r.target_uri().unwrap()).collect();
    let certificates = format!("urn:tls-certificates:{PAGE_URL}?a=1");
    assert_eq!(targets, [&format!("{PAGE_URL}?a=1"), &format!("{PAGE_URL}?a=1"), &certificates]);
    assert_eq!(records[1].http().unwrap().start_line, "GET /page?a=1 HTTP/1.1");
}
