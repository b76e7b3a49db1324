//! Captures against real servers on loopback: a page and its images over HTTPS with every
//! exchange recorded, redirects hop by hop, and the bad cases (unreachable, TLS refused, a
//! redirect loop, huge and endless images, a slow drip, error pages served as images, a page
//! with ten thousand images, pages not in UTF-8), each ending quickly with a clear message
//! or a partial capture that says what was left out and why.

mod common;

use std::io::Write;
use std::time::{Duration, Instant};

use common::{Pki, html, http_server, https_server, not_found, options, png, redirect, respond};
use flate2::Compression;
use flate2::write::GzEncoder;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use webcapture::{CaptureError, Truncated, capture};

const ARTICLE: &str = r#"<!DOCTYPE html>
<html><head>
<base href="/media/">
<meta property="og:image" content="/social/card.png">
<link rel="icon" href="/favicon.ico">
<title>A post</title>
</head><body>
<img src="photo.png" alt="the copy">
<img srcset="small.png 1x, large.png 2x" src="photo.png">
<picture><source srcset="pic.webp"><img src="pic.png"></picture>
<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
</body></html>"#;

#[test]
fn a_page_over_https_is_captured_with_its_images_and_every_exchange() {
    let pki = Pki::new("handprint test root");
    let server = https_server(&pki, |req, w| {
        match req.target.as_str() {
            "/article" => {
                // Compressed and chunked although only identity was accepted: both undone.
                let mut gz = GzEncoder::new(Vec::new(), Compression::default());
                gz.write_all(ARTICLE.as_bytes()).unwrap();
                let gz = gz.finish().unwrap();
                let mut out = b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n".to_vec();
                for chunk in gz.chunks(100) {
                    out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                    out.extend_from_slice(chunk);
                    out.extend_from_slice(b"\r\n");
                }
                out.extend_from_slice(b"0\r\n\r\n");
                let _ = w.write_all(&out);
            }
            "/media/photo.png" | "/media/small.png" | "/media/large.png" | "/media/pic.webp"
            | "/media/pic.png" | "/social/card.png" | "/favicon.ico" => {
                let shade = req.target.len() as u8;
                respond(w, "200 OK", &[("Content-Type", "image/png")], &png(4, 3, shade))
            }
            _ => not_found(w),
        }
    });
    let before = chrono::Utc::now();
    let cap = capture(&server.url("/article"), &options(Some(&pki))).unwrap();

    assert_eq!(cap.requested_url, server.url("/article"));
    assert_eq!(cap.page.len(), 1);
    let page = cap.final_page();
    assert_eq!((page.status, page.reason.as_str(), page.method.as_str()), (200, "OK", "GET"));
    assert_eq!(page.body, ARTICLE.as_bytes(), "stored decoded");
    assert_eq!(page.renamed, ["transfer-encoding", "content-encoding"]);
    assert_eq!(page.header("x-orig-content-encoding"), Some("gzip"));
    assert_eq!(page.header("x-orig-transfer-encoding"), Some("chunked"));
    assert_eq!(page.header("content-encoding"), None);
    assert_eq!(page.header("content-length"), Some(ARTICLE.len().to_string().as_str()));
    assert_eq!(page.truncated, None);
    // What was sent is what the server received.
    let sent = &server.requests()[0];
    assert_eq!(sent.target, "/article");
    for (name, value) in &page.request_head {
        assert_eq!(sent.header(name).as_deref(), Some(value.as_str()), "{name}");
    }
    assert_eq!(sent.header("accept-encoding").as_deref(), Some("identity"));
    assert_eq!(sent.header("connection").as_deref(), Some("close"));
    assert!(sent.header("user-agent").unwrap().starts_with(&format!("handprint/{}", webcapture::VERSION)));
    assert_eq!(sent.header("host"), Some(format!("localhost:{}", server.port)));
    // Address, protocols, certificate chain and time.
    assert_eq!(page.ip, Some("127.0.0.1".parse().unwrap()));
    assert_eq!(page.protocol, ["http/1.1", "tls/1.3"]);
    assert!(page.cipher_suite.as_deref().unwrap().starts_with("TLS_"), "{:?}", page.cipher_suite);
    let chain: Vec<CertificateDer> =
        CertificateDer::pem_slice_iter(page.certificates_pem.as_ref().unwrap().as_bytes())
            .collect::<Result<_, _>>()
            .unwrap();
    assert_eq!(chain.len(), 1);
    assert_eq!(chain[0].as_ref(), pki.leaf_der.as_slice(), "the leaf certificate as presented");
    assert!(before <= cap.started && cap.started <= page.date && page.date <= cap.finished);
    let (host, ips) = cap.dns.iter().find(|(h, _)| h == "localhost").expect("the look-up recorded");
    assert!(ips.contains(&"127.0.0.1".parse().unwrap()), "{host}: {ips:?}");

    // Every image, resolved against <base href>, once each, in document order.
    let urls: Vec<&str> = cap.images.iter().map(|i| i.url.as_str()).collect();
    let expected: Vec<String> = [
        "/social/card.png",
        "/favicon.ico",
        "/media/photo.png",
        "/media/small.png",
        "/media/large.png",
        "/media/pic.webp",
        "/media/pic.png",
    ]
    .iter()
    .map(|p| server.url(p))
    .collect();
    assert_eq!(urls, expected);
    for image in &cap.images {
        assert!(image.is_image, "{}: {:?}", image.url, image.problem);
        assert_eq!(image.format.as_deref(), Some("png"));
        assert_eq!(image.problem, None);
        let last = image.last();
        assert_eq!(last.status, 200);
        let path = image.url.strip_prefix(&server.base).unwrap();
        assert_eq!(last.body, png(4, 3, path.len() as u8), "{path}");
        assert_eq!(last.protocol, ["http/1.1", "tls/1.3"]);
        assert!(last.certificates_pem.is_some());
        let referer = last.request_head.iter().find(|(n, _)| n == "Referer").map(|(_, v)| v.as_str());
        assert_eq!(referer, Some(server.url("/article").as_str()), "same origin: the page's URL");
    }
    let by = |path: &str| &cap.images.iter().find(|i| i.url == server.url(path)).unwrap().referenced_by;
    assert_eq!(by("/social/card.png"), &["meta og:image"]);
    assert_eq!(by("/favicon.ico"), &["link icon"]);
    assert_eq!(by("/media/photo.png"), &["img src"]);
    assert_eq!(by("/media/large.png"), &["img srcset"]);
    assert_eq!(by("/media/pic.webp"), &["picture source srcset"]);
    // The data: URL is noted, not fetched, and does not make the capture partial.
    assert_eq!(cap.left_out.len(), 1, "{:?}", cap.left_out);
    assert!(cap.left_out[0].url.starts_with("data:image/gif"));
    assert!(cap.left_out[0].reason.contains("inside the page itself"));
    assert!(!cap.partial);
    assert_eq!(server.requests().len(), 8, "the page and seven images, each once");

    // The record serialises without bodies, with their lengths.
    let json = serde_json::to_value(&cap).unwrap();
    assert_eq!(json["page"][0]["body_length"], ARTICLE.len());
    assert!(json["page"][0].get("body").is_none());
    assert_eq!(json["images"][0]["exchanges"][0]["ip"], "127.0.0.1");
    assert_eq!(json["environment"]["software"], format!("handprint {}", webcapture::VERSION));
    assert_eq!(json["environment"]["time_source"], "system clock (UTC)");
    let started = json["started"].as_str().unwrap();
    assert!(started.ends_with('Z') && started.len() == "2025-01-02T03:04:05.123Z".len(), "{started}");
    assert_eq!(json["screenshot_length"], serde_json::Value::Null);
    assert_eq!(json["screenshot_note"], "no screenshot was asked for");
}

#[test]
fn redirects_are_recorded_hop_by_hop() {
    let server = http_server(|req, w| match req.target.as_str() {
        "/old" => redirect(w, "301 Moved Permanently", "older?x=1"),
        "/older?x=1" => redirect(w, "302 Found", &format!("http://127.0.0.1:{}/newer#frag", port_of(req))),
        "/newer" => redirect(w, "307 Temporary Redirect", "/final"),
        "/final" => html(w, r#"<img src="/img/moved.png">"#),
        "/img/moved.png" => redirect(w, "308 Permanent Redirect", "/img/here.png"),
        "/img/here.png" => respond(w, "200 OK", &[("Content-Type", "image/png")], &png(2, 2, 9)),
        _ => not_found(w),
    });
    let cap = capture(&server.url("/old"), &options(None)).unwrap();
    let hops: Vec<(&str, u16)> = cap.page.iter().map(|e| (e.url.as_str(), e.status)).collect();
    let (old, older, newer, last) =
        (server.url("/old"), server.url("/older?x=1"), server.url("/newer"), server.url("/final"));
    assert_eq!(
        hops,
        [(old.as_str(), 301), (older.as_str(), 302), (newer.as_str(), 307), (last.as_str(), 200)]
    );
    assert_eq!(cap.page[0].header("location"), Some("older?x=1"), "kept as sent");
    assert!(
        cap.page.iter().all(|e| e.ip == Some("127.0.0.1".parse().unwrap()) && e.protocol == ["http/1.1"])
    );
    assert!(cap.page.iter().all(|e| e.certificates_pem.is_none()));
    let targets: Vec<String> = server.requests().iter().map(|r| r.target.clone()).collect();
    assert_eq!(&targets[..4], ["/old", "/older?x=1", "/newer", "/final"], "fragments are not sent");
    // The image's redirect is recorded the same way, and the image is resolved against the
    // page's final URL.
    assert_eq!(cap.images.len(), 1);
    let image = &cap.images[0];
    assert_eq!(image.url, server.url("/img/moved.png"));
    let hops: Vec<u16> = image.exchanges.iter().map(|e| e.status).collect();
    assert_eq!(hops, [308, 200]);
    assert_eq!(image.last().url, server.url("/img/here.png"));
    assert!(image.is_image && !cap.partial);
}

fn port_of(req: &common::Request) -> u16 {
    req.header("host").unwrap().rsplit(':').next().unwrap().parse().unwrap()
}

#[test]
fn an_unreachable_host_is_an_error_naming_the_url_and_the_cause() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}/page");
    let started = Instant::now();
    let err = capture(&url, &options(None)).unwrap_err();
    assert!(matches!(err, CaptureError::Unreachable { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.starts_with(&url), "{message}");
    assert!(message.to_lowercase().contains("refused"), "{message}");
    assert!(started.elapsed() < Duration::from_secs(5));

    // A name that does not resolve.
    // (A resolver that cannot answer is cut at the deadline, which names the host too.)
    let quick = webcapture::Options { resource_timeout: Duration::from_secs(5), ..options(None) };
    let err = capture("http://no-such-host.invalid/", &quick).unwrap_err();
    assert!(matches!(err, CaptureError::Unreachable { .. }), "{err:?}");
    assert!(err.to_string().contains("no-such-host.invalid"), "{err}");

    // With private addresses refused, loopback is refused before connecting.
    let server = http_server(|_, w| html(w, "hello"));
    let no_private = webcapture::Options { private_addresses: false, ..options(None) };
    let err = capture(&server.url("/"), &no_private).unwrap_err();
    assert!(err.to_string().contains("not public (127.0.0.1)"), "{err}");
    assert!(server.requests().is_empty());
}

#[test]
fn a_certificate_not_from_a_trusted_root_is_refused() {
    let trusted = Pki::new("the root trusted");
    let other = Pki::new("another root");
    let server = https_server(&other, |_, w| html(w, "hello"));
    let err = capture(&server.url("/"), &options(Some(&trusted))).unwrap_err();
    assert!(matches!(err, CaptureError::Tls { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.starts_with(&server.url("/")), "{message}");
    assert!(message.contains("certificate") && message.contains("UnknownIssuer"), "{message}");
    assert!(server.requests().is_empty(), "nothing was sent over the refused connection");
    // Public roots do not trust a test root either.
    let err = capture(&server.url("/"), &options(None)).unwrap_err();
    assert!(matches!(err, CaptureError::Tls { .. }), "{err:?}");
}

#[test]
fn a_redirect_loop_is_an_error_and_an_image_in_one_is_left_out() {
    let server = http_server(|req, w| match req.target.as_str() {
        "/a" => redirect(w, "302 Found", "/b"),
        "/b" => redirect(w, "301 Moved Permanently", "/a"),
        "/page" => html(w, r#"<img src="/a"><img src="/far">"#),
        "/far" => redirect(w, "302 Found", "/far/1"),
        t if t.starts_with("/far/") => {
            let n: u32 = t[5..].parse().unwrap();
            redirect(w, "302 Found", &format!("/far/{}", n + 1))
        }
        _ => not_found(w),
    });
    let err = capture(&server.url("/a"), &options(None)).unwrap_err();
    assert!(matches!(err, CaptureError::RedirectLoop { .. }), "{err:?}");
    let (a, b) = (server.url("/a"), server.url("/b"));
    assert!(err.to_string().contains(&format!("{a} → {b} → {a}")), "{err}");

    let cap = capture(&server.url("/page"), &options(None)).unwrap();
    assert!(cap.partial && cap.images.is_empty());
    assert_eq!(cap.left_out.len(), 2, "{:?}", cap.left_out);
    assert_eq!(cap.left_out[0].url, a);
    assert!(cap.left_out[0].reason.contains("redirects in a loop"), "{}", cap.left_out[0].reason);
    assert!(cap.left_out[1].reason.contains("more than 10 redirects"), "{}", cap.left_out[1].reason);
}

#[test]
fn a_2_gib_image_and_an_endless_one_are_stopped_at_the_limit() {
    let server = http_server(|req, w| match req.target.as_str() {
        "/page" => html(w, r#"<img src="/huge.jpg"><img src="/endless.jpg"><img src="/ok.png">"#),
        "/huge.jpg" => {
            let head = "HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nContent-Length: 2147483648\r\n\r\n";
            if w.write_all(head.as_bytes()).is_ok() {
                stream_zeros(w, false);
            }
        }
        "/endless.jpg" => {
            let head = "HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nTransfer-Encoding: chunked\r\n\r\n";
            if w.write_all(head.as_bytes()).is_ok() {
                stream_zeros(w, true);
            }
        }
        "/ok.png" => respond(w, "200 OK", &[("Content-Type", "image/png")], &png(8, 8, 1)),
        _ => not_found(w),
    });
    let started = Instant::now();
    let cap = capture(&server.url("/page"), &options(None)).unwrap();
    assert!(started.elapsed() < Duration::from_secs(20), "{:?}", started.elapsed());
    assert!(cap.partial);
    assert_eq!(cap.images.len(), 1);
    assert_eq!(cap.images[0].url, server.url("/ok.png"));
    let reason = |path: &str| cap.left_out.iter().find(|l| l.url == server.url(path)).unwrap().reason.clone();
    let huge = reason("/huge.jpg");
    assert!(huge.contains("2147483648 bytes") && huge.contains("64 MiB limit for an image"), "{huge}");
    assert!(huge.contains("not downloaded"), "{huge}");
    let endless = reason("/endless.jpg");
    assert!(
        endless.contains("64 MiB limit for an image") && endless.contains("stopped after 67108864 bytes"),
        "{endless}"
    );
}

#[test]
fn the_capture_keeps_within_its_byte_budget() {
    let page = r#"<img src="/1.png"><img src="/2.png"><img src="/3.png"><img src="/4.png">"#;
    let mut image = png(1, 1, 0);
    image.resize(40_000, 0);
    let server = http_server(move |req, w| match req.target.as_str() {
        "/page" => html(w, page),
        _ => respond(w, "200 OK", &[("Content-Type", "image/png")], &image),
    });
    let budget = page.len() as u64 + 100_000;
    let opts = webcapture::Options { total_limit: budget, ..options(None) };
    let cap = capture(&server.url("/page"), &opts).unwrap();
    assert!(cap.partial);
    assert_eq!(cap.images.len(), 2, "{:?}", cap.left_out);
    assert_eq!(cap.left_out.len(), 2);
    for left in &cap.left_out {
        assert!(left.reason.contains("declares a body of 40000 bytes"), "{}", left.reason);
        assert!(
            left.reason
                .contains(&format!("over the 20000 bytes left of the capture's budget of {budget} bytes")),
            "{}",
            left.reason
        );
    }
    let held: usize =
        cap.page.iter().chain(cap.images.iter().flat_map(|i| &i.exchanges)).map(|e| e.body.len()).sum();
    assert!(held as u64 <= budget);
}

/// Writes zeros until the client goes away (or 3 GiB).
fn stream_zeros(w: &mut dyn Write, chunked: bool) {
    let block = vec![0u8; 64 * 1024];
    for _ in 0..(3 * 16 * 1024) {
        let ok = if chunked {
            w.write_all(format!("{:x}\r\n", block.len()).as_bytes())
                .and_then(|()| w.write_all(&block))
                .and_then(|()| w.write_all(b"\r\n"))
        } else {
            w.write_all(&block)
        };
        if ok.is_err() {
            return;
        }
    }
}

/// Writes `bytes` one a second.
fn drip(w: &mut dyn Write, bytes: &[u8]) {
    for b in bytes {
        if w.write_all(&[*b]).and_then(|()| w.flush()).is_err() {
            return;
        }
        std::thread::sleep(Duration::from_secs(1));
    }
}

#[test]
fn a_slow_drip_is_cut_at_the_deadline() {
    let server = http_server(|req, w| match req.target.as_str() {
        "/page" => html(w, r#"<img src="/drip.png"><img src="/ok.png">"#),
        "/drip.png" => {
            let head = "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: 100\r\n\r\n";
            if w.write_all(head.as_bytes()).is_ok() {
                drip(w, &[0x89; 100]);
            }
        }
        "/ok.png" => respond(w, "200 OK", &[("Content-Type", "image/png")], &png(8, 8, 1)),
        "/drip-page" => {
            let head =
                "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100\r\n\r\n<img src=/ok.png>";
            if w.write_all(head.as_bytes()).is_ok() {
                drip(w, &[b' '; 100]);
            }
        }
        "/drip-head" => drip(w, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
        _ => not_found(w),
    });
    let opts = webcapture::Options { resource_timeout: Duration::from_millis(1500), ..options(None) };

    // An image: left out, the rest of the page captured.
    let started = Instant::now();
    let cap = capture(&server.url("/page"), &opts).unwrap();
    assert!(started.elapsed() < Duration::from_secs(4), "{:?}", started.elapsed());
    assert!(cap.partial);
    assert_eq!(cap.images.len(), 1);
    assert_eq!(cap.left_out.len(), 1);
    let reason = &cap.left_out[0].reason;
    assert_eq!(cap.left_out[0].url, server.url("/drip.png"));
    assert!(
        reason.contains("1.5 s deadline for one resource passed after") && reason.contains("of 100 bytes"),
        "{reason}"
    );

    // The page itself: kept up to the deadline, marked truncated, its images still fetched.
    let started = Instant::now();
    let cap = capture(&server.url("/drip-page"), &opts).unwrap();
    assert!(started.elapsed() < Duration::from_secs(4), "{:?}", started.elapsed());
    let page = cap.final_page();
    assert_eq!(page.truncated, Some(Truncated::Time));
    assert!(page.body.starts_with(b"<img src=/ok.png>") && page.body.len() < 100, "{}", page.body.len());
    assert!(cap.partial);
    assert!(
        cap.left_out[0].reason.starts_with("the page is incomplete: the 1.5 s deadline"),
        "{:?}",
        cap.left_out
    );
    assert_eq!(cap.images.len(), 1, "the images found in what arrived are fetched");

    // A response head that never completes: no page at all.
    let started = Instant::now();
    let err = capture(&server.url("/drip-head"), &opts).unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(4), "{:?}", started.elapsed());
    assert!(matches!(err, CaptureError::NoResponse { .. }), "{err:?}");
    assert!(err.to_string().contains("1.5 s deadline for one resource passed"), "{err}");

    // The whole capture's deadline bounds everything, the images after it left out.
    let tight = webcapture::Options {
        resource_timeout: Duration::from_secs(30),
        capture_timeout: Duration::from_millis(1500),
        parallel: 1,
        ..options(None)
    };
    let started = Instant::now();
    let cap = capture(&server.url("/page"), &tight).unwrap();
    assert!(started.elapsed() < Duration::from_secs(4), "{:?}", started.elapsed());
    let reasons: Vec<&str> = cap.left_out.iter().map(|l| l.reason.as_str()).collect();
    assert!(reasons[0].contains("1.5 s deadline for the whole capture passed after"), "{reasons:?}");
    assert!(
        reasons[1].contains("deadline for the whole capture passed before it was fetched"),
        "{reasons:?}"
    );
}

#[test]
fn an_html_error_page_served_as_an_image_is_kept_and_marked() {
    let server = http_server(|req, w| match req.target.as_str() {
        "/page" => html(w, r#"<img src="/missing.jpg"><img src="/soft404.png"><img src="/gone.png">"#),
        "/soft404.png" => html(w, "<html><body>Sorry, this image was removed</body></html>"),
        "/gone.png" => respond(w, "410 Gone", &[("Content-Type", "image/png")], &png(1, 1, 0)),
        _ => not_found(w),
    });
    let cap = capture(&server.url("/page"), &options(None)).unwrap();
    assert_eq!(cap.images.len(), 3);
    let missing = &cap.images[0];
    assert!(!missing.is_image && missing.format.is_none());
    assert_eq!(missing.last().status, 404);
    assert_eq!(missing.last().body, b"<!DOCTYPE html><title>Not Found</title>", "kept as the server sent it");
    let problem = missing.problem.as_deref().unwrap();
    assert!(
        problem.starts_with("not an image: HTTP 404 Not Found, text/html, 39 bytes starting"),
        "{problem}"
    );
    let soft = &cap.images[1];
    assert!(!soft.is_image);
    assert!(soft.problem.as_deref().unwrap().starts_with("not an image: text/html, "), "{:?}", soft.problem);
    let gone = &cap.images[2];
    assert!(gone.is_image, "an image, whatever the status");
    assert_eq!(gone.problem.as_deref(), Some("the server answered HTTP 410 Gone"));
    assert!(!cap.partial, "everything the server sent is in the capture");
}

#[test]
fn a_page_with_10000_images_keeps_the_first_500_and_lists_the_rest() {
    let page: String = (0..10_000).map(|i| format!("<img src=\"/i/{i}.png\">\n")).collect();
    let tiny = png(1, 1, 7);
    let server = http_server(move |req, w| {
        if req.target == "/page" {
            html(w, &page)
        } else if req.target.starts_with("/i/") {
            respond(w, "200 OK", &[("Content-Type", "image/png")], &tiny)
        } else {
            not_found(w)
        }
    });
    let started = Instant::now();
    let cap = capture(&server.url("/page"), &options(None)).unwrap();
    assert!(started.elapsed() < Duration::from_secs(30), "{:?}", started.elapsed());
    assert!(cap.partial);
    assert_eq!(cap.images.len(), 500);
    assert!(cap.images.iter().all(|i| i.is_image));
    let fetched: Vec<String> = cap.images.iter().map(|i| i.url.clone()).collect();
    let first: Vec<String> = (0..500).map(|i| server.url(&format!("/i/{i}.png"))).collect();
    assert_eq!(fetched, first, "the first 500, in document order");
    assert_eq!(cap.left_out.len(), 9_500);
    assert_eq!(cap.left_out[0].url, server.url("/i/500.png"));
    assert!(
        cap.left_out
            .iter()
            .all(|l| l.reason == "over the limit of 500 images for one page (10000 referenced): not fetched")
    );
    assert_eq!(server.requests().len(), 501, "nothing past the limit was requested");
}

#[test]
fn pages_not_in_utf8_are_read_in_their_own_encoding() {
    // Shift_JIS declared only in the page, GBK only in the header; both name images whose
    // paths (UTF-8 in URLs) and queries (the page's encoding) are not ASCII.
    let (sjis, _, _) = encoding_rs::SHIFT_JIS
        .encode("<html><head><meta charset=\"Shift_JIS\"><title>猫の写真</title></head><body><img src=\"画像/猫.png?名=値\"></body></html>");
    let (gbk, _, _) =
        encoding_rs::GBK.encode("<html><body><p>图片</p><img src=\"图片/猫.png\"></body></html>");
    let (sjis, gbk) = (sjis.into_owned(), gbk.into_owned());
    let server = http_server(move |req, w| match req.target.as_str() {
        "/sjis" => respond(w, "200 OK", &[("Content-Type", "text/html")], &sjis),
        "/gbk" => respond(w, "200 OK", &[("Content-Type", "text/html; charset=GBK")], &gbk),
        "/%E7%94%BB%E5%83%8F/%E7%8C%AB.png?%96%BC=%92l" | "/%E5%9B%BE%E7%89%87/%E7%8C%AB.png" => {
            respond(w, "200 OK", &[("Content-Type", "image/png")], &png(3, 3, 3))
        }
        _ => not_found(w),
    });
    let cap = capture(&server.url("/sjis"), &options(None)).unwrap();
    assert_eq!(cap.images.len(), 1);
    assert_eq!(cap.images[0].url, server.url("/%E7%94%BB%E5%83%8F/%E7%8C%AB.png?%96%BC=%92l"));
    assert!(cap.images[0].is_image, "{:?}", cap.images[0].problem);
    let cap = capture(&server.url("/gbk"), &options(None)).unwrap();
    assert_eq!(cap.images.len(), 1);
    assert_eq!(cap.images[0].url, server.url("/%E5%9B%BE%E7%89%87/%E7%8C%AB.png"));
    assert!(cap.images[0].is_image, "{:?}", cap.images[0].problem);
}

#[test]
fn a_screenshot_when_chromium_is_installed_and_a_note_when_not() {
    let server = http_server(|req, w| match req.target.as_str() {
        "/" => html(w, "<html><body style=\"background:#fff\"><h1>handprint</h1></body></html>"),
        _ => not_found(w),
    });
    let opts = webcapture::Options {
        screenshot: webcapture::Screenshot::Auto,
        screenshot_timeout: Duration::from_secs(60),
        ..options(None)
    };
    let cap = capture(&server.url("/"), &opts).unwrap();
    let installed = std::env::var_os("HANDPRINT_CHROMIUM").is_some()
        || std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
            .any(|d| d.join("chromium").is_file() || d.join("chromium-browser").is_file());
    if installed {
        let shot = cap.screenshot.as_ref().unwrap_or_else(|| panic!("{}", cap.screenshot_note));
        let decoder = png::Decoder::new(std::io::Cursor::new(shot.as_slice()));
        let reader = decoder.read_info().unwrap();
        assert_eq!((reader.info().width, reader.info().height), (1280, 2400));
        assert!(cap.screenshot_note.starts_with("taken by "), "{}", cap.screenshot_note);
    } else {
        assert!(cap.screenshot.is_none());
        assert!(cap.screenshot_note.starts_with("chromium not installed: "), "{}", cap.screenshot_note);
    }
}
