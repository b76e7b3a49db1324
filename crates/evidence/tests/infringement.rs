//! The infringement report against its two renderings: every heading, paragraph, notice and
//! list item is in the HTML (escaped) and in the PDF's text; a hostile page URL and title stay
//! inert; the timeline's sentence follows the times, and a source the user states is marked.

use base64::Engine;
use evidence::infringement::{Capture, CopySide, Infringement, MatchSide, Sealed, WorkSide};

/// A 1×1 PNG.
const PNG: &str =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

const HOSTILE: &str = "<script>alert(1)</script> \u{1b}[2J \u{202e}gpj.xof";

fn png() -> Vec<u8> {
    base64::engine::general_purpose::STANDARD.decode(PNG).unwrap()
}

fn work(sealed_at: &str) -> WorkSide {
    WorkSide {
        id: 3,
        title: format!("雪狐 Snow fox {HOSTILE}"),
        license: Some("CC BY-NC 4.0".into()),
        creator: "李云 (Li Yun)".into(),
        creator_key: "q83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq80=".into(),
        sha256: "ef".repeat(32),
        width: 1024,
        height: 768,
        sealed: Some(Sealed {
            time: sealed_at.into(),
            log_index: 41,
            origin: "handprint/journal/0123456789abcdef".into(),
            hash: "ab".repeat(32),
        }),
        published: Some("2026-11-20T10:00:00.000Z".into()),
        thumbnail_png: Some(png()),
    }
}

fn matched() -> MatchSide {
    MatchSide {
        confidence: "high".into(),
        matched_by: "pdq".into(),
        pdq_distance: Some(17),
        area_shown: Some(0.49),
        region: Some([0.15, 0.15, 0.85, 0.85]),
        rotation_degrees: Some(0.0),
        watermark: Some("00000000000000a3".into()),
        watermark_work: Some("3 — \"Snow fox\"".into()),
        stripped: vec!["Content Credentials".into(), "AIGC label".into()],
        credentials: "none".into(),
        side_by_side_png: Some(png()),
    }
}

fn captured(verified: bool) -> Infringement {
    let copy = CopySide {
        source: format!("https://example.com/post?q={HOSTILE}"),
        stated_by_user: false,
        image_url: Some("https://example.com/img/copy.jpg".into()),
        found_at: "2026-11-30T14:00:00.250Z".into(),
        sha256: "cd".repeat(32),
        format: "JPEG".into(),
        width: 717,
        height: 538,
        capture: Some(Capture {
            file_name: "capture.wacz".into(),
            software: "handprint 0.1.0".into(),
            time_source: "system clock (NTP-synchronised)".into(),
            started: "2026-11-30T14:00:00.250Z".into(),
            finished: "2026-11-30T14:00:03.000Z".into(),
            ip: vec!["93.184.216.34".into()],
            protocol: vec!["http/1.1".into(), "tls/1.3".into()],
            dns: vec!["example.com: 93.184.216.34".into()],
            left_out: vec![format!("https://example.com/{HOSTILE} (too large)")],
            screenshot: "Chromium is not installed".into(),
            datapackage_hash: format!("sha256:{}", "12".repeat(32)),
            signed_by: verified.then(|| "q83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq80=".into()),
            signer_name: Some("李云".into()),
            timestamp: Some(("2026-11-30T14:00:04Z".into(), "CN=Test TSA".into())),
            verified,
            problems: if verified { Vec::new() } else { vec!["archive/data.warc.gz: hash mismatch".into()] },
        }),
    };
    Infringement::new(work("2026-11-27T03:09:00.000Z"), copy, Some(matched()), "2026-12-01T09:00:00Z".into())
}

fn stated() -> Infringement {
    let copy = CopySide {
        source: "https://shop.example/listing/77".into(),
        stated_by_user: true,
        image_url: None,
        found_at: "2026-11-01T08:00:00.000Z".into(),
        sha256: "cd".repeat(32),
        format: "PNG".into(),
        width: 512,
        height: 384,
        capture: None,
    };
    Infringement::new(work("2026-11-27T03:09:00.000Z"), copy, Some(matched()), "2026-12-01T09:00:00Z".into())
}

fn escaped(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            '/' => out.push_str("&#x2f;"),
            c => out.push(c),
        }
    }
    out
}

fn squeezed(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

fn html_text(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

/// The PDF's text by poppler's pdftotext, without the page footers; None where pdftotext is
/// not installed.
fn pdf_text(pdf: &[u8], footer: &str) -> Option<String> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new("pdftotext")
        .args(["-raw", "-enc", "UTF-8", "-", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .ok()?;
    child.stdin.take()?.write_all(pdf).ok()?;
    let out = child.wait_with_output().ok()?;
    assert!(out.status.success(), "pdftotext failed");
    let text = String::from_utf8(out.stdout).expect("UTF-8 from pdftotext");
    Some(text.lines().filter(|l| !l.starts_with(footer)).collect::<Vec<_>>().join("\n"))
}

#[test]
fn every_sentence_of_every_section_is_in_the_html_and_the_pdf() {
    for report in [captured(true), captured(false), stated()] {
        let doc = report.document();
        let ids: Vec<&str> = doc.sections.iter().map(|s| s.id).collect();
        assert_eq!(ids, ["work", "copy", "match", "timeline", "verify"]);
        let texts = doc.texts();
        assert!(texts.len() > 12, "{texts:?}");
        let html = squeezed(&html_text(&report.html().unwrap()));
        for t in &texts {
            assert!(html.contains(&squeezed(&escaped(t))), "not in the HTML: {t}");
        }
        let (pdf, missing) = report.pdf().unwrap();
        assert!(missing.is_empty(), "the built-in font lacks {missing:?}");
        let footer = doc.page_footer(1, 1);
        let footer = footer.split(" — ").next().unwrap();
        let Some(text) = pdf_text(&pdf, footer) else {
            println!("pdftotext is not installed: the PDF's text is not checked");
            continue;
        };
        let text = squeezed(&text);
        for t in &texts {
            assert!(text.contains(&squeezed(t)), "not in the PDF: {t}\n\n{text}");
        }
        // The match's figures, in both.
        for figure in ["17 of 256 bits differ", "49%", "15% to 85%"] {
            assert!(html.contains(&squeezed(figure)), "not in the HTML: {figure}");
            assert!(text.contains(&squeezed(figure)), "not in the PDF: {figure}");
        }
    }
}

#[test]
fn a_hostile_url_and_title_stay_inert() {
    let html = captured(true).html().unwrap();
    assert!(!html.contains("<script") && !html.contains("</script"), "{html}");
    // The title (page title and heading), the page URL and the left-out resource.
    assert!(html.matches("&lt;script&gt;alert(1)").count() >= 4, "{html}");
    let raw: Vec<char> = html
        .chars()
        .filter(|&c| {
            (c.is_control() && c != '\n') || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        })
        .collect();
    assert!(raw.is_empty(), "{raw:?}");
    assert!(html.contains(r"\u{1b}[2J") && html.contains(r"\u{202e}gpj.xof"));
    // The JSON twin keeps the text as given: it is data, not shown text.
    let json = serde_json::to_value(captured(true)).unwrap();
    assert_eq!(json["format"], evidence::infringement::INFRINGEMENT_FORMAT);
    assert!(json["copy"]["source"].as_str().unwrap().contains('\u{202e}'));
}

#[test]
fn the_timeline_says_whether_the_work_was_sealed_before_the_copy() {
    let sentence = |r: &Infringement| {
        let doc = r.document();
        let timeline = doc.sections.iter().find(|s| s.id == "timeline").unwrap();
        let json = serde_json::to_value(&timeline.blocks).unwrap();
        json[1]["runs"][0]["text"].as_str().unwrap().to_owned()
    };
    let before = sentence(&captured(true));
    assert!(before.starts_with("The work was sealed before the copy was captured"), "{before}");
    // Found before the seal (as the user states it): said, and marked as the user's word.
    let after = sentence(&stated());
    assert!(
        after.starts_with("The work was not sealed before the time the user states the copy was found"),
        "{after}"
    );
    // The rows in time order: found (Nov 1), published (Nov 20), sealed (Nov 27).
    let doc = stated().document();
    let json = serde_json::to_value(&doc.sections[3].blocks[0]).unwrap();
    let events: Vec<&str> = json["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r[1]["lines"][0]["runs"][0]["text"].as_str().unwrap())
        .collect();
    assert_eq!(events, ["Found (stated by the user, not verified)", "Published", "Sealed"]);
    let html = stated().html().unwrap();
    assert!(html.contains("stated by the user, not verified"));
    // A package that does not verify is said first, before any section.
    let json = serde_json::to_value(captured(false).document()).unwrap();
    assert_eq!(json["opening"][1]["level"], "warning");
    assert_eq!(json["opening"][1]["title"], "The capture package does not verify.");
    let json = serde_json::to_value(captured(true).document()).unwrap();
    assert_eq!(json["opening"].as_array().unwrap().len(), 1);
}
