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
