//! The report's one document model, against its two renderings: every heading and paragraph
//! of the document is in the HTML (escaped) and in the PDF's text; user text with markup and
//! control characters stays inert; the JSON keeps the sections in order.

use std::collections::HashMap;

use evidence::facts::{
    Choice, Counts, Edge, EditFact, Facts, Node, Parameter, Reproduction, Revision, SealedFacts, Selection,
    diff,
};
use evidence::{Integrity, Jurisdiction, Report, WorkInfo};

/// A 1×1 PNG.
const PNG: &str = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

const HOSTILE: &str = "a fox <script>alert(1)</script> \u{1b}[2J in \u{202e}snow";

fn node(
    log_index: u64,
    kind: &'static str,
    label: &str,
    in_lineage: bool,
    verdict: Option<&'static str>,
) -> Node {
    Node {
        log_index,
        kind,
        time: format!("2026-11-27T03:{log_index:02}:00Z"),
        label: label.to_owned(),
        sha256: Some(format!("{log_index:064x}")),
        in_lineage,
        verdict,
        depth: 0,
    }
}

fn revision(log_index: u64, before: &str, prompt: &str, negative: &str) -> Revision {
    Revision {
        log_index,
        time: format!("2026-11-27T03:{log_index:02}:00Z"),
        author: "ed25519:9f1c".into(),
        prompt: prompt.into(),
        negative: negative.into(),
        diff: diff(before, prompt),
        negative_diff: diff("", negative),
    }
}

/// A sealed project: three generations, a prompt revision (with markup and control
/// characters in it), a selection, a rejection, an edit and a note; the journal failing.
fn sealed_report() -> Report {
    let counts = Counts {
        events: 9,
        generations: 3,
        prompt_revisions: 1,
        selected: 1,
        rejected: 1,
        edits: 1,
        imports: 0,
        notes: 1,
    };
    let facts = Facts {
        project: "snow-fox".into(),
        author_key: "ed25519:9f1c".into(),
        first_event: "2026-11-27T03:01:00Z".into(),
        last_event: "2026-11-27T03:09:00Z".into(),
        counts: counts.clone(),
        lineage_counts: Counts { events: 5, ..counts },
        sealed: Some(SealedFacts {
            log_index: 9,
            hash: "ab".repeat(32),
            time: "2026-11-27T03:09:00Z".into(),
            work: Some(3),
            title: "雪狐 Snow fox".into(),
            license: Some("CC BY 4.0".into()),
            source_type: Some("compositeWithTrainedAlgorithmicMedia".into()),
            file: "final.png".into(),
            file_sha256: Some("cd".repeat(32)),
            visible_label: Some("AI生成".into()),
        }),
        nodes: vec![
            node(1, "generated", "00000.png", true, None),
            node(2, "generated", "00001.png", false, Some("rejected")),
            node(3, "prompt-edited", HOSTILE, true, None),
            node(4, "generated", "00002.png", true, Some("selected")),
            node(5, "selected", "00002.png", false, None),
            node(6, "rejected", "00001.png", false, None),
            node(7, "edited", "final.png", true, None),
            node(8, "note", "the tail reads better curled", false, None),
            node(9, "sealed", "final.png", true, None),
        ],
        edges: [
            (1, 2, "same-prompt"),
            (1, 3, "revises"),
            (3, 4, "prompt"),
            (4, 5, "selects"),
            (2, 6, "rejects"),
            (4, 7, "edits"),
            (7, 9, "seals"),
        ]
        .into_iter()
        .map(|(from, to, relation)| Edge { from, to, relation: relation.into() })
        .collect(),
        revisions: vec![
            revision(1, "", "a red fox, forest", "blurry"),
            revision(3, "a red fox, forest", HOSTILE, "blurry, <b>text</b>"),
        ],
        final_words: HOSTILE.split_whitespace().enumerate().map(|(i, w)| (w.to_owned(), i % 2)).collect(),
        parameters: vec![
            Parameter {
                name: "seed",
                values: (0..14).map(|i| (format!("{}", 1000 + i), 1)).collect(),
                kept: Some("1013".into()),
            },
            Parameter {
                name: "sampler",
                values: vec![("Euler a".into(), 2), ("DPM++ 2M".into(), 1)],
                kept: None,
            },
        ],
        selection: Selection {
            candidates: 4,
            selected: 1,
            rejected: 1,
            choices: vec![
                Choice {
                    log_index: 5,
                    time: "2026-11-27T03:05:00Z".into(),
                    verdict: "selected",
                    file: "00002.png".into(),
                    reason: Some("composition".into()),
                },
                Choice {
                    log_index: 6,
                    time: "2026-11-27T03:06:00Z".into(),
                    verdict: "rejected",
                    file: "00001.png".into(),
                    reason: None,
                },
            ],
        },
        edits: vec![EditFact {
            log_index: 7,
            time: "2026-11-27T03:07:00Z".into(),
            tool: "inpainting".into(),
            description: Some("repainted the tail & ears".into()),
            input: "00002.png".into(),
            input_sha256: Some("04".repeat(32)),
            output: "final.png".into(),
            output_sha256: Some("07".repeat(32)),
            in_lineage: true,
        }],
        notes: vec![(8, "2026-11-27T03:08:00Z".into(), "the tail reads better curled".into())],
        reproduction: Reproduction {
            log_index: Some(4),
            generator: Some("AUTOMATIC1111".into()),
            settings: vec![("seed".into(), "1013".into()), ("sampler".into(), "Euler a".into())],
            missing: vec!["negative prompt".into()],
            complete: false,
        },
        models: vec![("v1-5-pruned-emaonly".into(), Some("6ce0161689".into())), ("fox-lora".into(), None)],
        generators: vec!["AUTOMATIC1111".into()],
    };
    let work = WorkInfo {
        id: 3,
        title: "雪狐 Snow fox".into(),
        license: Some("CC BY 4.0".into()),
        registrant: "李云 (Li Yun)".into(),
        sha256: "ef".repeat(32),
        width: 256,
        height: 192,
        c2pa: Some("Valid: sealed by this identity".into()),
        watermark: Some("payload 3 (false-positive bound 1.0e-9)".into()),
        thumbnail: Some(PNG.into()),
    };
    let integrity = Integrity {
        journal_verified: false,
        findings: vec!["event 1: the signature does not verify".into()],
        checkpoint: Some((9, "12".repeat(32), "2026-11-27T03:09:01Z".into())),
        timestamp: None,
    };
    let mut report =
        Report::new(facts, Some(work), integrity, &Jurisdiction::ALL, "2026-11-27T04:00:00Z".into());
    report.thumbnails =
        HashMap::from([(format!("{:064x}", 1), PNG.to_owned()), (format!("{:064x}", 4), PNG.to_owned())]);
    report
}

/// A registered work with no journal behind it; the store verifying.
fn bare_report() -> Report {
    let facts = evidence::facts(&[], None);
    let integrity = Integrity {
        journal_verified: true,
        findings: Vec::new(),
        checkpoint: None,
        timestamp: Some((4, "2026-11-27T03:09:02Z".into(), "CN=Test TSA".into())),
    };
    Report::new(facts, None, integrity, &[Jurisdiction::Us], "2026-11-27T04:00:00Z".into())
}

/// Text as minijinja's HTML escaping writes it.
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

/// `s` without whitespace: line breaks and spacing differ between renderings, the words not.
fn squeezed(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// The HTML's text: everything outside tags, still escaped.
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

/// The PDF's text by poppler's pdftotext, in drawing order, without the page footers; None
/// where pdftotext is not installed.
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
fn every_heading_and_paragraph_of_the_document_is_in_the_html_and_the_pdf() {
    for report in [sealed_report(), bare_report()] {
        let doc = report.document();
        let texts = doc.texts();
        assert!(texts.len() > 20, "{texts:?}");
        let html = squeezed(&html_text(&report.html().unwrap()));
        let mut at = 0;
        for t in &texts {
            let want = squeezed(&escaped(t));
            let found = html[at..].find(&want).map(|i| at + i);
            assert!(found.is_some() || html.contains(&want), "not in the HTML: {want}");
            // In the document's order, but a text may repeat an earlier one (an assessment's
            // criteria recur across jurisdictions).
            at = found.unwrap_or(at);
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
    }
}

#[test]
fn markup_and_control_characters_in_a_prompt_stay_inert_in_the_html() {
    let html = sealed_report().html().unwrap();
    assert!(!html.contains("<script") && !html.contains("</script") && !html.contains("<b>text"), "{html}");
    // In the diff, the final words and the graph's label.
    assert!(html.matches("&lt;script&gt;alert(1)").count() >= 3, "{html}");
    // Controls and bidirectional overrides are shown as escapes, not written.
    let raw: Vec<char> = html
        .chars()
        .filter(|&c| {
            (c.is_control() && c != '\n') || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        })
        .collect();
    assert!(raw.is_empty(), "{raw:?}");
    assert!(html.contains(r"\u{1b}[2J") && html.contains(r"\u{202e}snow"));
    // The title, in the page's title and heading, with its quotes escaped.
    assert!(html.contains("<title>Evidence of the creative process: &quot;雪狐 Snow fox&quot;</title>"));
}

#[test]
fn the_documents_json_has_its_sections_in_order() {
    let report = sealed_report();
    let json = serde_json::to_value(report.document()).unwrap();
    let sections = json["sections"].as_array().unwrap();
    let ids: Vec<&str> = sections.iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [
            "work",
            "graph",
            "prompts",
            "parameters",
            "selection",
            "edits",
            "reproduction",
            "assessment",
            "integrity"
        ]
    );
    for (n, s) in sections.iter().enumerate() {
        assert!(s["heading"].as_str().unwrap().starts_with(&format!("{}. ", n + 1)), "{}", s["heading"]);
    }
    // The HTML's sections in the same order.
    let html = report.html().unwrap();
    let at: Vec<usize> = ids.iter().map(|id| html.find(&format!("<h2 id=\"{id}\">")).unwrap()).collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "{at:?}");

    // Blocks are tagged by kind; the failing journal is the first thing after the byline.
    let types = |s: &serde_json::Value| -> Vec<String> {
        s["blocks"].as_array().unwrap().iter().map(|b| b["type"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(json["opening"][1]["type"], "notice");
    assert_eq!(json["opening"][1]["level"], "warning");
    assert_eq!(json["opening"][1]["items"][0]["runs"][0]["text"], "event 1: the signature does not verify");
    assert_eq!(types(&sections[0]), ["image", "fields", "paragraph"]);
    assert_eq!(sections[0]["blocks"][0]["data_uri"].as_str().unwrap()[..22], *"data:image/png;base64,");
    let graph = &sections[1]["blocks"][0];
    assert_eq!(graph["type"], "graph");
    assert_eq!(graph["nodes"].as_array().unwrap().len(), report.facts.nodes.len());
    assert_eq!(graph["edges"].as_array().unwrap().len(), report.facts.edges.len());
    assert_eq!(graph["nodes"][1]["colour"], "#9e9e9e", "a rejected generation");
    assert!(types(&sections[2]).contains(&"diff".to_owned()));
    let diff = sections[2]["blocks"].as_array().unwrap().iter().find(|b| b["type"] == "diff").unwrap();
    assert_eq!(diff["words"][0], serde_json::json!({"op": "added", "text": "a"}));
    assert_eq!(sections[7]["blocks"][0]["level"], "note", "not legal advice, before the standards");

    // A verified journal opens with no warning; what cannot be shown is said as limits.
    let json = serde_json::to_value(bare_report().document()).unwrap();
    let levels: Vec<&str> =
        json["opening"].as_array().unwrap()[1..].iter().map(|b| b["level"].as_str().unwrap()).collect();
    assert_eq!(levels, ["limit", "limit"]);
    assert_eq!(json["sections"][2]["blocks"][0]["tone"], "bad", "no prompt is recorded");
}
