//! What the end-to-end tests of seal, claim and reproduce share: running `handprint` in a
//! data directory and reading its `--json` answer.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

pub fn run(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_handprint"))
        .env("HANDPRINT_HOME", home)
        .env_remove("HANDPRINT_DATABASE")
        .args(args)
        .output()
        .unwrap()
}

/// Runs a command that must succeed and returns the JSON object it printed last.
pub fn json(home: &Path, args: &[&str]) -> Value {
    let out = run(home, args);
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(String::from_utf8_lossy(&out.stdout).lines().last().unwrap().as_bytes()).unwrap()
}

/// A path as an argument.
pub fn s(p: &Path) -> String {
    p.to_str().unwrap().to_owned()
}

/// The pixels of an image file.
#[allow(dead_code)]
pub fn picture(path: &Path) -> fixtures::images::Picture {
    let d = fingerprint::decode::decode(&std::fs::read(path).unwrap(), &Default::default()).unwrap();
    fixtures::images::Picture { width: d.image.width, height: d.image.height, rgb: d.image.pixels }
}

/// A new creator "Alice Chen" in `home` who seals the Kodak photograph `kodak` as `title`
/// (project `works`, a digital capture, imported) into `dir`: the sealed file and its work.
#[allow(dead_code)]
pub fn sealed_kodak(home: &Path, dir: &Path, kodak: &str, title: &str) -> (std::path::PathBuf, i64) {
    json(home, &["--json", "init", "--name", "Alice Chen"]);
    json(home, &["--json", "project", "new", "works"]);
    let original = dir.join(format!("{kodak}.png"));
    std::fs::write(&original, fixtures::images::kodak(kodak).png()).unwrap();
    let sealed_path = dir.join(format!("{kodak}.sealed.png"));
    let sealed = seal(home, &original, title, &sealed_path);
    let work = sealed["work"].as_i64().or_else(|| sealed["work"]["id"].as_i64()).expect("the sealed work");
    (sealed_path, work)
}

/// `handprint seal` of `input` into project `works` (imported, a digital capture) as
/// `title`, written to `output`: its JSON answer.
#[allow(dead_code)]
pub fn seal(home: &Path, input: &Path, title: &str, output: &Path) -> Value {
    json(
        home,
        &[
            "--json",
            "seal",
            &s(input),
            "--project",
            "works",
            "--title",
            title,
            "--import",
            "--source-type",
            "digitalCapture",
            "--out",
            &s(output),
        ],
    )
}
