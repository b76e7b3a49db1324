//! The journal commands end to end, through their JSON output.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn run(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_handprint")).env("HANDPRINT_HOME", home).args(args).output().unwrap()
}

fn json(home: &Path, args: &[&str]) -> Vec<Value> {
    let out = run(home, args);
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn a_project_from_first_image_to_verified_export() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let files = tmp.path().join("files");
    std::fs::create_dir_all(&files).unwrap();
    for s in fixtures::samples::all() {
        std::fs::write(files.join(s.name), &s.bytes).unwrap();
    }
    let f = |name: &str| files.join(name).to_str().unwrap().to_owned();

    let init = json(&home, &["init", "--name", "Li Wen", "--json"]);
    assert_eq!(init[0]["identity"]["name"], "Li Wen");
    assert_eq!(json(&home, &["project", "new", "fox", "--json"])[0]["created"], true);
    assert_eq!(json(&home, &["project", "new", "fox", "--json"])[0]["created"], false);

    let sketch = f("camera.jpg");
    let imported = json(
        &home,
        &["import", &sketch, "-p", "fox", "--what", "sketch", "--note", "pencil on paper", "--json"],
    );
    assert_eq!(imported[0]["kind"], "imported");
    let recorded =
        json(&home, &["record", &f("comfyui-basic.png"), &f("comfyui-two-pass.png"), "-p", "fox", "--json"]);
    assert_eq!(recorded.len(), 2);
    assert!(recorded.iter().all(|r| r["status"] == "recorded"));
    assert_eq!(recorded[1]["also"][0]["kind"], "prompt-edited");

    let selected = json(&home, &["select", &f("comfyui-two-pass.png"), "--reason", "the light", "--json"]);
    assert_eq!(selected[0]["event"]["kind"], "selected");
    assert_eq!(selected[0]["event"]["data"]["reason"], "the light");
    let edited = json(
        &home,
        &["edit", &f("comfyui-two-pass.png"), &f("plain.png"), "--tool", "Krita", "--note", "gate", "--json"],
    );
    assert_eq!(edited[0]["event"]["data"]["tool"], "Krita");
    json(&home, &["note", "-p", "fox", "finished", "--json"]);

    let log = json(&home, &["log", "-p", "fox", "--json"]);
    let kinds: Vec<&str> = log.iter().map(|e| e["event"]["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["imported", "generated", "prompt-edited", "generated", "selected", "edited", "note"]);
    let projects = json(&home, &["project", "list", "--json"]);
    assert_eq!(projects[0]["events"], 7);

    let verify = json(&home, &["verify", "--json"]);
    assert_eq!(verify[0]["ok"], true);
    assert_eq!(verify[0]["events"], 7);
    let export = tmp.path().join("export");
    json(&home, &["export", "-p", "fox", export.to_str().unwrap(), "--json"]);
    let checked = json(&home, &["verify", "--export", export.to_str().unwrap(), "--json"]);
    assert_eq!(checked[0]["ok"], true);
    assert_eq!(checked[0]["events"], 7);
    assert_eq!(checked[0]["author"], "Li Wen");
}
