//! `handprint inspect` end to end: the real binary on real files.

use std::path::Path;
use std::process::{Command, Output};

use fixtures::samples;
use serde_json::Value;

fn handprint(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_handprint")).args(args).output().expect("the binary runs")
}

fn json_lines(out: &Output) -> Vec<Value> {
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {e}: {l}")))
        .collect()
}

#[test]
fn json_lines_for_a_folder_one_object_per_file() {
    let dir = tempfile::tempdir().unwrap();
    let all = samples::all();
    for s in &all {
        std::fs::write(dir.path().join(s.name), &s.bytes).unwrap();
    }
    std::fs::write(dir.path().join("notes.txt"), "not an image, and not named like one").unwrap();
    let out = handprint(&["inspect", "--json", dir.path().to_str().unwrap()]);
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    let lines = json_lines(&out);
    assert_eq!(lines.len(), all.len(), "one line per image; notes.txt skipped");
    for line in &lines {
        assert_eq!(line["format"], "handprint.inspect/1");
        let path = line["path"].as_str().unwrap();
        let name = Path::new(path).file_name().unwrap().to_str().unwrap();
        let sample = all.iter().find(|s| s.name == name).unwrap();
        let records = line["generations"].as_array().unwrap();
        assert_eq!(records.len(), sample.expect.records, "{name}");
        if let Some(first) = records.first() {
            assert_eq!(first["generator"], sample.expect.generator.unwrap(), "{name}");
            assert_eq!(first["prompt"].as_str(), sample.expect.prompt.as_deref(), "{name}");
            assert_eq!(first["seed"].as_u64(), sample.expect.seed, "{name}");
            assert!(first["raw"].is_string());
        }
    }
}

#[test]
fn the_table_shows_the_record() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.png");
    let sample = samples::all().into_iter().find(|s| s.name == "a1111-chinese.png").unwrap();
    std::fs::write(&path, sample.bytes).unwrap();
    let out = handprint(&["inspect", path.to_str().unwrap()]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("AUTOMATIC1111 v1.9.4"), "{text}");
    assert!(text.contains(samples::CJK_PROMPT), "{text}");
    assert!(text.contains("seed              20231127"), "{text}");
    assert!(text.contains("raw"), "{text}");
}

#[test]
fn a_batch_with_unreadable_files_goes_on_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let all = samples::all();
    let jpeg = &all.iter().find(|s| s.name == "a1111-txt2img.jpg").unwrap().bytes;
    let good = dir.path().join("good.png");
    let misnamed = dir.path().join("really-a-jpeg.png");
    let text = dir.path().join("text.png");
    let missing = dir.path().join("missing.webp");
    std::fs::write(&good, &all[0].bytes).unwrap();
    std::fs::write(&misnamed, jpeg).unwrap();
    std::fs::write(&text, "hello").unwrap();
    let args: Vec<&str> = [&text, &good, &missing, &misnamed].iter().map(|p| p.to_str().unwrap()).collect();
    let out = handprint(&[&["inspect", "--json"], &args[..]].concat());
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr.clone()).unwrap();
    assert!(stderr.contains("text.png: not a PNG, JPEG or WebP image"), "{stderr}");
    let enoent = std::io::Error::from_raw_os_error(2).to_string(); // the OS's words, once
    assert_eq!(stderr.matches(&format!("missing.webp: {enoent}")).count(), 1, "{stderr}");
    assert!(stderr.contains("2 file(s) could not be read"), "{stderr}");
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 3, "text.png as an error line, good.png and the misnamed JPEG as records");
    assert!(lines[0]["error"].as_str().unwrap().contains("not a PNG"));
    assert_eq!(lines[2]["format"], "handprint.inspect/1");
    assert_eq!(lines[2]["format"], lines[1]["format"]);
    assert_eq!(lines[2]["generations"][0]["source"], "jpeg:APP1:exif:UserComment");
}

#[test]
fn warnings_name_the_file_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cut.jpg");
    let jpeg = samples::all().into_iter().find(|s| s.name == "a1111-txt2img.jpg").unwrap().bytes;
    std::fs::write(&path, &jpeg[..jpeg.len() - 100]).unwrap();
    let out = handprint(&["inspect", path.to_str().unwrap()]);
    assert!(out.status.success(), "a readable file with a warning is not a failure");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("cut.jpg: warning: the file does not end with an end-of-image marker"),
        "{stderr}"
    );
}

#[test]
fn help_teaches_formats_and_exit_status() {
    let out = handprint(&["inspect", "--help"]);
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for needle in ["ComfyUI", "NovelAI", "Exit status", "--json", "C2PA"] {
        assert!(help.contains(needle), "--help lacks {needle}");
    }
    assert_eq!(handprint(&["inspect"]).status.code(), Some(2), "a missing argument is a usage error");
}
