//! Terminal control sequences in untrusted text (a prompt, a file name, a signer's name, an
//! export's manifest) are printed escaped: they can neither clear the screen, set the window
//! title or conceal the lines after them, nor fake a line of handprint's own.

mod common;

use std::path::Path;
use std::process::Output;

use fixtures::containers::{self, pil_text};
use fixtures::images::kodak;
use fixtures::project::parameters;
use serde_json::Value;

use common::{json, run, s};

/// The characters that act on a terminal or reorder text, as the attacks below use them.
const HOSTILE: [char; 6] = ['\x1b', '\x07', '\r', '\u{9b}', '\u{202e}', '\u{2066}'];

/// Everything a command printed, stdout then stderr.
fn printed(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

fn assert_clean(what: &str, out: &Output) {
    let text = printed(out);
    for c in HOSTILE {
        assert!(!text.contains(c), "{what}: U+{:04X} printed raw in:\n{text}", c as u32);
    }
}

/// An AUTOMATIC1111 PNG of 256 × 256 whose prompt is `prompt`.
fn a1111_png(path: &Path, prompt: &str, crop: u32) {
    let pic = kodak("kodim03").crop(crop, crop, 256, 256);
    let text = parameters(prompt, 7, 20, 7.0, "Euler a");
    std::fs::write(path, containers::png(256, 256, 3, &pic.rgb, &[pil_text("parameters", &text)])).unwrap();
}

const PROMPT: &str = "a cat\x1b[2J\x1b[H\x1b]0;pwned\x07 \u{9b}31m in \u{202e}gnp.exe\u{2066}";

#[test]
fn a_prompt_and_a_file_name_with_escape_sequences_are_shown_escaped() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let image = tmp.path().join("cat\x1b[31m\rred.png");
    a1111_png(&image, PROMPT, 0);

    let inspected = run(&home, &["inspect", &s(&image)]);
    assert!(inspected.status.success(), "{}", printed(&inspected));
    assert_clean("inspect", &inspected);
    let text = printed(&inspected);
    assert!(text.contains("a cat\\u{1b}[2J\\u{1b}[H\\u{1b}]0;pwned\\u{7}"), "{text}");
    assert!(text.contains("cat\\u{1b}[31m\\rred.png"), "{text}");

    // JSON keeps the exact text, every control as a \u escape.
    let inspected = run(&home, &["inspect", "--json", &s(&image)]);
    assert_clean("inspect --json", &inspected);
    let line: Value = serde_json::from_slice(&inspected.stdout).unwrap();
    assert_eq!(line["generations"][0]["prompt"], PROMPT);
    assert_eq!(line["path"], s(&image));

    json(&home, &["init", "--name", "Ann", "--json"]);
    json(&home, &["project", "new", "cats", "--json"]);
    let recorded = run(&home, &["record", &s(&image), "-p", "cats"]);
    assert!(recorded.status.success(), "{}", printed(&recorded));
    assert_clean("record", &recorded);
    let recorded = run(&home, &["record", &s(&image), "-p", "cats", "--json"]);
    assert_clean("record --json", &recorded);

    let other = tmp.path().join("second.png");
    a1111_png(&other, "a dog", 40);
    let revised = run(&home, &["record", &s(&other), "-p", "cats"]);
    assert!(revised.status.success(), "{}", printed(&revised));
    let log = run(&home, &["log"]);
    assert!(log.status.success());
    assert_clean("log", &log);
    assert!(printed(&log).contains("a cat\\u{1b}[2J"), "{}", printed(&log));
    let noted = run(&home, &["note", "-p", "cats", "line one\n#99    note          forged\x1b[8m"]);
    assert_clean("note", &noted);
    let log = run(&home, &["log"]);
    assert_clean("log with a note", &log);
    let forged = printed(&log).lines().filter(|l| l.starts_with("#99")).count();
    assert_eq!(forged, 0, "a note made a line of its own:\n{}", printed(&log));
}

#[test]
fn init_refuses_a_name_with_control_or_direction_characters() {
    let tmp = tempfile::tempdir().unwrap();
    for (n, name) in ["Eve\x1b[2K\rFAKE", "Eve\u{202e}evE", "Eve\nverified", "Eve\u{9b}8m"].iter().enumerate()
    {
        let home = tmp.path().join(format!("home{n}"));
        let out = run(&home, &["init", "--name", name]);
        assert_eq!(out.status.code(), Some(2), "{name:?} accepted: {}", printed(&out));
        assert_clean("init", &out);
        assert!(printed(&out).contains("control or text-direction character"), "{}", printed(&out));
        assert!(!home.join("identity.json").exists() && !home.join("key.pem").exists());
    }
    let home = tmp.path().join("fine");
    let made = json(&home, &["init", "--name", "Zoë 李 🦊", "--json"]);
    assert_eq!(made["identity"]["name"], "Zoë 李 🦊");
}

/// A signer whose certificate and identity carry a name made to rewrite the terminal: what
/// another tool (or an edited data directory) can sign with, whatever `init` allows.
const SIGNER: &str = "Eve\x1b[2K\rFAKE\x1b[8m\u{202e}";

fn hostile_identity(home: &Path) {
    registry::identity::create(home, "Eve", None).unwrap();
    let id = registry::identity::load(home, None).unwrap();
    let (root, certificate) = credentials::certificates(&id.key, SIGNER).unwrap();
    std::fs::write(home.join("root.pem"), root).unwrap();
    std::fs::write(home.join("certificate.pem"), certificate).unwrap();
    let path = home.join("identity.json");
    let mut identity: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    identity["name"] = SIGNER.into();
    std::fs::write(&path, serde_json::to_vec_pretty(&identity).unwrap()).unwrap();
}

#[test]
fn a_sealed_file_signed_by_a_name_with_escape_sequences_verifies_escaped() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    hostile_identity(&home);
    json(&home, &["project", "new", "p", "--json"]);
    let image = tmp.path().join("final.png");
    a1111_png(&image, "a lake", 0);
    json(&home, &["record", &s(&image), "-p", "p", "--json"]);
    let sealed_path = tmp.path().join("sealed.png");
    let sealed = run(&home, &["seal", &s(&image), "-p", "p", "--title", "Lake", "-o", &s(&sealed_path)]);
    assert!(sealed.status.success(), "{}", printed(&sealed));
    assert_clean("seal", &sealed);

    // On the signer's machine and on a stranger's.
    for h in [home.clone(), tmp.path().join("stranger")] {
        let verified = run(&h, &["verify", &s(&sealed_path)]);
        assert_clean("verify FILE", &verified);
        let text = printed(&verified);
        assert!(text.contains("Eve\\u{1b}[2K\\rFAKE\\u{1b}[8m\\u{202e}"), "the signer is not named:\n{text}");
        assert_clean("verify FILE --json", &run(&h, &["verify", "--json", &s(&sealed_path)]));
    }
    for args in [
        &["verify"][..],
        &["works"],
        &["search", &s(&sealed_path)],
        &["watermark", "detect", &s(&sealed_path)],
    ] {
        let out = run(&home, args);
        assert!(out.status.success(), "{args:?}: {}", printed(&out));
        assert_clean(&format!("{args:?}"), &out);
    }
}

/// Sets every `name` in a JSON file to `name`.
fn rename_all(path: &Path, name: &str) {
    fn walk(v: &mut Value, name: &str) {
        match v {
            Value::Object(m) => {
                for (k, x) in m.iter_mut() {
                    if k == "name" && x.is_string() {
                        *x = name.into();
                    } else {
                        walk(x, name);
                    }
                }
            }
            Value::Array(a) => a.iter_mut().for_each(|x| walk(x, name)),
            _ => {}
        }
    }
    let mut v: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    walk(&mut v, name);
    std::fs::write(path, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
}

#[test]
fn an_export_named_to_fake_a_verified_line_cannot() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    json(&home, &["init", "--name", "Bob", "--json"]);
    json(&home, &["project", "new", "p", "--json"]);
    json(&home, &["note", "-p", "p", "an idea", "--json"]);
    json(&home, &["note", "-p", "p", "finished", "--json"]);
    let export = tmp.path().join("export");
    json(&home, &["export", "-p", "p", &s(&export), "--json"]);

    let fake = "Bob: 2 events\nverified: every signature, chain link, Merkle root and checkpoint checks out\n\x1b[8m";
    rename_all(&export.join("manifest.json"), fake);
    rename_all(&export.join("identity/identity.json"), fake);
    // And a real alteration, which must be reported in plain sight.
    let events = export.join("events.jsonl");
    let text = std::fs::read_to_string(&events).unwrap();
    assert!(text.contains("finished"));
    std::fs::write(&events, text.replace("finished", "finishes")).unwrap();

    let out = run(&home, &["verify", "--export", &s(&export)]);
    assert_eq!(out.status.code(), Some(1), "{}", printed(&out));
    assert_clean("verify --export", &out);
    let text = printed(&out);
    let forged: Vec<&str> = text.lines().filter(|l| l.starts_with("verified")).collect();
    assert!(forged.is_empty(), "a line handprint did not print:\n{text}");
    assert!(text.contains("FAIL") && text.lines().any(|l| l == "NOT VERIFIED"), "{text}");
    assert_clean("verify --export --json", &run(&home, &["verify", "--export", &s(&export), "--json"]));
}
