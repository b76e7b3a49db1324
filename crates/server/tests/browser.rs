//! The web page in a real browser, as a person uses it: a stranger's cropped, re-encoded copy
//! of a published work is chosen in the home page's form, and the answer names the work and
//! links to its page, on a phone, on a desktop screen and with JavaScript off.
//! `tests/browser/lookup.mjs` drives Debian's chromium with playwright-core; screenshots of
//! every page go to `browser-screenshots/` in the target directory.
//!
//! Without chromium or playwright-core (`scripts/browser.sh` installs both) the test is skipped
//! with a note, unless `HANDPRINT_TEST_REQUIRE_BROWSER` is set (`scripts/test.sh` sets it):
//! then it fails.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use fixtures::images::kodak;

/// The folder of the browser script and its node_modules.
fn script_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

/// Chromium: `HANDPRINT_CHROMIUM`, else `chromium` on PATH.
fn chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("HANDPRINT_CHROMIUM").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join("chromium")).find(|p| p.is_file())
}

/// Chromium's path, or `None` (with a note) when the browser test is to be skipped.
fn browser() -> Option<PathBuf> {
    let chromium = chromium();
    let playwright = script_dir().join("node_modules/playwright-core/package.json").is_file();
    let missing = match (&chromium, playwright) {
        (Some(_), true) => return chromium,
        (None, true) => "chromium",
        (Some(_), false) => "playwright-core",
        (None, false) => "chromium and playwright-core",
    };
    if std::env::var_os("HANDPRINT_TEST_REQUIRE_BROWSER").is_some() {
        panic!("{missing} not installed: run scripts/browser.sh");
    }
    eprintln!(
        "browser test skipped: {missing} not installed (scripts/browser.sh installs chromium and playwright-core)"
    );
    None
}

/// `browser-screenshots/` in CARGO_TARGET_DIR or the workspace's target directory.
fn screenshot_dir() -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .filter(|t| !t.is_empty())
        .map_or_else(|| workspace.join("target"), |t| workspace.join(t));
    target.join("browser-screenshots")
}

#[test]
fn a_person_finds_a_stranger_copy_of_a_published_work_in_a_browser() {
    let Some(chromium) = browser() else { return };
    let mut creator = common::Creator::new("Ada");
    let sealed = creator.seal(&kodak("kodim03"), "Harbour at dusk");
    let data = tempfile::tempdir().unwrap();
    let url = common::start(data.path(), common::limits());
    creator.publish(&url, &sealed).expect("the work is published");

    // What a person finds elsewhere: cropped, re-encoded, without credentials.
    let copy = tempfile::Builder::new().suffix(".jpg").tempfile().unwrap();
    std::fs::write(copy.path(), common::stranger_copy(&sealed, 0.7)).unwrap();
    let shots = screenshot_dir();
    // Last run's screenshots would pass for this one's.
    let _ = std::fs::remove_dir_all(&shots);

    let out = Command::new("node")
        .arg(script_dir().join("lookup.mjs"))
        .args([url.as_str(), &copy.path().to_string_lossy(), "Harbour at dusk", &shots.to_string_lossy()])
        .env("HANDPRINT_CHROMIUM", &chromium)
        .output()
        .expect("node runs (scripts/browser.sh installs it)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("{stdout}{stderr}");
    assert!(out.status.success(), "the browser walk failed ({}):\n{stdout}{stderr}", out.status);
    for device in ["phone", "desktop", "nojs"] {
        for page in ["home", "lookup", "work"] {
            let shot = shots.join(format!("{device}-{page}.png"));
            assert!(shot.is_file(), "no screenshot {}", shot.display());
        }
    }
}
