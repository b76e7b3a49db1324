//! claim end to end: a realistic project made with the real record/select/reject/edit/seal
//! commands, then the report's facts checked against the journal, and the bundle verified.

mod common;

use std::path::Path;
use std::process::Command;

use fixtures::project::{PROMPTS, write_inpainted, write_round};
use serde_json::Value;

use common::{json, run, s};

#[test]
fn a_project_of_dozens_of_generations_gives_a_report_whose_facts_match_the_journal() {
    let tmp = tempfile::tempdir().unwrap();
    let (home, dir) = (tmp.path().join("home"), tmp.path().join("images"));
    std::fs::create_dir_all(&dir).unwrap();
    json(&home, &["init", "--name", "李云 (Li Yun)", "--json"]);
    json(&home, &["project", "new", "fox", "--json"]);
    // 4 rounds of 8 generations (fixtures::project): the prompt revised each round, seeds,
    // steps, CFG and sampler varied within rounds.
    let mut files = Vec::new();
    for round in 0..PROMPTS.len() {
        files.extend(write_round(&dir, round, 8).unwrap());
        let batch: Vec<String> = files[round * 8..].iter().map(|p| s(p)).collect();
        let mut args = vec!["record", "-p", "fox", "--json"];
        args.extend(batch.iter().map(String::as_str));
        assert!(run(&home, &args).status.success());
        json(&home, &["select", &s(&files[round * 8 + 3]), "--reason", "composition", "--json"]);
        json(&home, &["reject", &s(&files[round * 8 + 5]), "--reason", "muddy", "--json"]);
    }
    let chosen = &files[3 * 8 + 3];
    let inpainted = dir.join("final.png");
    write_inpainted(&inpainted).unwrap();
    json(
        &home,
        &[
            "edit",
            &s(chosen),
            &s(&inpainted),
            "--tool",
            "inpainting",
            "--note",
            "repainted the tail",
            "--json",
        ],
    );
    json(&home, &["note", "-p", "fox", "the tail reads better curled", "--json"]);
    let sealed = json(&home, &["seal", &s(&inpainted), "-p", "fox", "--title", "雪狐 Snow fox", "--json"]);
    let work = sealed["work"]["id"].as_i64().unwrap();

    let out = tmp.path().join("claim");
    let sealed_file = sealed["output"].as_str().unwrap().to_owned();
    let c = json(&home, &["claim", &sealed_file, "--out", &s(&out), "--images", &s(&dir), "--json"]);
    assert_eq!((c["work"].as_i64(), c["journal_verified"].as_bool()), (Some(work), Some(true)));

    // The facts, against the journal itself.
    let report: Value = serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    let log: Vec<Value> = String::from_utf8(run(&home, &["log", "-p", "fox", "--json"]).stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let count = |kind: &str| log.iter().filter(|e| e["event"]["kind"] == kind).count();
    let f = &report["facts"];
    assert_eq!(f["counts"]["events"], log.len());
    assert_eq!(f["counts"]["generations"], 32);
    assert_eq!(f["counts"]["generations"], count("generated"));
    assert_eq!(f["counts"]["prompt_revisions"], 3);
    assert_eq!(f["counts"]["prompt_revisions"], count("prompt-edited"));
    assert_eq!(
        (f["selection"]["selected"].as_u64(), f["selection"]["rejected"].as_u64()),
        (Some(4), Some(4))
    );
    assert_eq!(f["counts"]["edits"], 1);
    assert_eq!(f["edits"][0]["tool"], "inpainting");
    assert_eq!(f["edits"][0]["in_lineage"], true);
    // Four revisions, the last adding "留白"; every word of the final prompt traced.
    let revisions = f["revisions"].as_array().unwrap();
    assert_eq!(revisions.len(), 4);
    assert_eq!(revisions[3]["prompt"], PROMPTS[3]);
    let added: Vec<&str> = revisions[3]["diff"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["op"] == "added")
        .map(|t| t["text"].as_str().unwrap())
        .collect();
    assert!(added.contains(&"留白"), "{added:?}");
    assert_eq!(f["final_words"].as_array().unwrap().len(), PROMPTS[3].split_whitespace().count());
    // Parameters: 32 seeds, 2 samplers, 3 step counts, 4 CFG values; the kept ones are the chosen generation's.
    let param =
        |name: &str| f["parameters"].as_array().unwrap().iter().find(|p| p["name"] == name).unwrap().clone();
    assert_eq!(param("seed")["values"].as_array().unwrap().len(), 32);
    assert_eq!(param("sampler")["values"].as_array().unwrap().len(), 2);
    assert_eq!(param("steps")["values"].as_array().unwrap().len(), 3);
    assert_eq!(param("CFG scale")["values"].as_array().unwrap().len(), 4);
    assert_eq!(param("seed")["kept"], "1027");
    assert_eq!(f["reproduction"]["complete"], true, "{}", f["reproduction"]);
    // The graph: every event a node; the path to the seal marked, other branches not.
    let nodes = f["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), log.len());
    let lineage: Vec<&Value> = nodes.iter().filter(|n| n["in_lineage"] == true).collect();
    assert!(lineage.iter().any(|n| n["label"] == "00027.png"), "the chosen generation is on the path");
    assert!(!lineage.iter().any(|n| n["label"] == "00029.png"), "a rejected one is not");
    // The path: the chosen sample, and through its round's prompt revision one generation of
    // each earlier round; its siblings are branches, not sources.
    assert!(!lineage.iter().any(|n| n["label"] == "00026.png"), "a sibling sample is not on the path");
    assert_eq!(f["lineage_counts"]["prompt_revisions"], 3, "{}", f["lineage_counts"]);
    assert_eq!(f["lineage_counts"]["generations"], 4, "{}", f["lineage_counts"]);
    assert_eq!(f["sealed"]["title"], "雪狐 Snow fox");
    // The assessment cites facts, with no verdict.
    let cn = report["assessment"].as_array().unwrap().iter().find(|a| a["jurisdiction"] == "cn").unwrap();
    assert!(cn.to_string().contains("32 generations"), "{cn}");
    assert!(cn.to_string().contains("no trusted (RFC 3161) timestamp"), "{cn}");

    // The HTML: self-contained, escaped, with the graph and the Chinese title.
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("雪狐 Snow fox") && html.contains("<svg") && html.contains("留白"));
    assert!(!html.contains("<script") && !html.contains("src=\"http"), "no script, nothing fetched");
    assert!(html.contains("data:image/png;base64,"), "the work's thumbnail inline");
    // Every generation found in --images has its thumbnail beside its event (and the select,
    // reject and edit events that name a file found there).
    let thumbs = html.matches("<image ").count();
    assert!(thumbs >= 32, "{thumbs} thumbnails in the graph");
    assert!(html.contains("registered by 李云 (Li Yun)"), "the registrant, unescaped Chinese");

    // The PDF: A4 pages, the font embedded; where poppler's pdftotext is installed (CI
    // installs it), its text holds the Chinese title and the diff's added word.
    let pdf = std::fs::read(out.join("report.pdf")).unwrap();
    assert!(pdf.starts_with(b"%PDF-") && pdf.windows(5).rev().take(64).any(|w| w == b"%%EOF"));
    let text = String::from_utf8_lossy(&pdf);
    let pages: usize = text
        .split("/Type/Pages/Count ")
        .nth(1)
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok())
        .expect("a page tree");
    assert!(pages >= 3, "{pages} pages");
    assert!(pdf.windows(9).any(|w| w == b"/FontFile"), "an embedded font");
    assert!(pdf.windows(14).filter(|w| w == b"/Subtype/Image").count() >= 32, "the thumbnails");
    if let Ok(t) = Command::new("pdftotext").arg(out.join("report.pdf")).arg("-").output()
        && t.status.success()
    {
        let text = String::from_utf8_lossy(&t.stdout);
        assert!(text.contains("雪狐 Snow fox") && text.contains("留白"), "{text}");
        assert!(text.contains("The facts against each standard"));
    }

    // The bundle verifies offline; the sealed image is in it.
    let v = run(&home, &["verify", "--export", &s(&out.join("bundle")), "--json"]);
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stdout));
    assert!(out.join("bundle").join("image").join(Path::new(&sealed_file).file_name().unwrap()).exists());

    // An existing report folder is never overwritten.
    let again = run(&home, &["claim", &work.to_string(), "--out", &s(&out)]);
    assert_eq!(again.status.code(), Some(2));
}

#[test]
fn a_work_without_a_journal_and_a_journal_that_fails_say_so_first() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    json(&home, &["init", "--name", "Ana Ruiz", "--json"]);
    // Registered only: no journal behind it.
    let photo = fixtures::images::kodak_path("kodim01");
    json(&home, &["register", &s(&photo), "--title", "Door", "--json"]);
    let out = tmp.path().join("door");
    let c = json(&home, &["claim", "1", "--out", &s(&out), "--json"]);
    assert_eq!((c["sealed"].as_bool(), c["events"].as_u64()), (Some(false), Some(0)));
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("The journal holds no generation for this work"), "says what cannot be shown");
    assert!(html.contains("The work is not sealed"));
    assert!(html.contains("No prompt is recorded"));

    // A sealed project whose stored event is then altered: the report opens with it.
    json(&home, &["project", "new", "p", "--json"]);
    let dir = tmp.path().join("images");
    std::fs::create_dir_all(&dir).unwrap();
    let files = write_round(&dir, 0, 3).unwrap();
    let mut args = vec!["record", "-p", "p", "--json"];
    let names: Vec<String> = files.iter().map(|f| s(f)).collect();
    args.extend(names.iter().map(String::as_str));
    assert!(run(&home, &args).status.success());
    let sealed = json(&home, &["seal", &s(&files[2]), "-p", "p", "--title", "Fox", "--json"]);
    let conn = rusqlite::Connection::open(home.join("journal.sqlite3")).unwrap();
    // Event 0 is the registration of the door; 1, 2, 3 the generations.
    let bytes: Vec<u8> =
        conn.query_row("SELECT bytes FROM events WHERE log_index = 2", [], |r| r.get(0)).unwrap();
    let altered = String::from_utf8(bytes.clone()).unwrap().replacen("00001.png", "00009.png", 1);
    assert_ne!(altered.as_bytes(), bytes.as_slice(), "the event names the file");
    conn.execute("UPDATE events SET bytes = ?1 WHERE log_index = 2", [altered.as_bytes()]).unwrap();
    drop(conn);
    let out = tmp.path().join("fox");
    let work = sealed["work"]["id"].as_i64().unwrap().to_string();
    let r = run(&home, &["claim", &work, "--out", &s(&out)]);
    assert_eq!(r.status.code(), Some(1), "{}", String::from_utf8_lossy(&r.stderr));
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    let banner = html.find("The journal did not verify").expect("the banner");
    assert!(banner < html.find("1. The work").unwrap(), "before anything else");
    assert!(html.contains("event 2:"), "the finding names the event");
    let report: Value = serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["integrity"]["journal_verified"], false);
}
