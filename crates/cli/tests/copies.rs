//! register, works, search and scan end to end: real files, a real store, JSON out.

use std::path::Path;
use std::process::{Command, Output};

use fixtures::images::{kodak, kodak_path, png_bomb};
use serde_json::Value;

fn run(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_handprint")).env("HANDPRINT_HOME", home).args(args).output().unwrap()
}

fn lines(out: &Output) -> Vec<Value> {
    String::from_utf8(out.stdout.clone()).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn json(home: &Path, args: &[&str]) -> Vec<Value> {
    let out = run(home, args);
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    lines(&out)
}

#[test]
fn register_then_search_and_scan_a_folder_with_copies_and_bad_files() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let s = |p: &Path| p.to_str().unwrap().to_owned();

    // Nothing registered yet: search says so and fails as a usage problem.
    let out = run(&home, &["search", &s(&kodak_path("kodim01"))]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("handprint register"));

    json(&home, &["init", "--name", "Ana Ruiz", "--json"]);
    let door = &json(
        &home,
        &["register", &s(&kodak_path("kodim01")), "--title", "Door", "--license", "CC-BY-4.0", "--json"],
    )[0];
    assert_eq!((door["work"].as_i64(), door["new"].as_bool()), (Some(1), Some(true)));
    let hats = &json(&home, &["register", &s(&kodak_path("kodim03")), "--title", "Hats", "--json"])[0];
    assert_eq!(hats["work"], 2);
    let again = &json(&home, &["register", &s(&kodak_path("kodim01")), "--title", "Other", "--json"])[0];
    assert_eq!(
        (again["work"].as_i64(), again["new"].as_bool(), again["title"].as_str()),
        (Some(1), Some(false), Some("Door"))
    );
    let works = json(&home, &["works", "--json"]);
    assert_eq!(works.len(), 2);
    assert_eq!(works[0]["registrant"], "Ana Ruiz");
    assert_eq!(works[0]["license"], "CC-BY-4.0");

    let files = tmp.path().join("found online");
    std::fs::create_dir_all(files.join("sub")).unwrap();
    let door_pixels = kodak("kodim01");
    std::fs::write(files.join("door-crop.jpg"), door_pixels.crop_area(0.6, 1).jpeg(80)).unwrap();
    std::fs::write(files.join("sub/door-tilted.png"), door_pixels.rotate(7.0).png()).unwrap();
    std::fs::write(files.join("parrots.png"), kodak("kodim04").png()).unwrap();
    std::fs::write(files.join("notes.png"), b"this is text, whatever the name says").unwrap();
    let hats_png = kodak("kodim03").png();
    std::fs::write(files.join("truncated.png"), &hats_png[..hats_png.len() / 2]).unwrap();
    std::fs::write(files.join("bomb.png"), png_bomb(100_000, 100_000)).unwrap();
    std::fs::write(files.join("dot.png"), fixtures::containers::png(1, 1, 3, &[1, 2, 3], &[])).unwrap();
    std::fs::write(files.join("hats.gif"), kodak("kodim03").animated_gif(2)).unwrap();

    // search: one copy, with a side-by-side picture.
    let pictures = tmp.path().join("pictures");
    let found = &json(
        &home,
        &["search", &s(&files.join("door-crop.jpg")), "--side-by-side", &s(&pictures), "--json"],
    )[0];
    let m = &found["matches"][0];
    assert_eq!(
        (m["work"].as_i64(), m["title"].as_str(), m["matched_by"].as_str()),
        (Some(1), Some("Door"), Some("features"))
    );
    let shown = m["features"]["area_shown"].as_f64().unwrap();
    assert!((shown - 0.6).abs() < 0.03, "area shown {shown}");
    assert!(Path::new(m["side_by_side"].as_str().unwrap()).is_file());

    // scan: every file accounted for, the bad ones named, the scan not stopped by them.
    let out_dir = tmp.path().join("matches");
    let out = run(&home, &["scan", &s(&files), "--out", &s(&out_dir), "--json", "--jobs", "2"]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let mut results = lines(&out);
    results.sort_by_key(|r| r["file"].as_str().unwrap().to_owned());
    let by_name = |name: &str| results.iter().find(|r| r["file"].as_str().unwrap().ends_with(name)).unwrap();
    assert_eq!(results.len(), 8);
    let work_of = |r: &Value| {
        r["matches"].as_array().unwrap().iter().map(|m| m["work"].as_i64().unwrap()).collect::<Vec<_>>()
    };
    assert_eq!(work_of(by_name("door-crop.jpg")), [1]);
    assert_eq!(work_of(by_name("door-tilted.png")), [1]);
    assert_eq!(work_of(by_name("parrots.png")), Vec::<i64>::new());
    let gif = by_name("hats.gif");
    assert_eq!((gif["frames"].as_i64(), work_of(gif)), (Some(2), vec![2]));
    for (name, says) in [
        ("notes.png", "not an image"),
        ("truncated.png", "damaged PNG"),
        ("bomb.png", "100000 × 100000"),
        ("dot.png", "too small"),
    ] {
        let error = by_name(name)["error"].as_str().unwrap_or_default();
        assert!(error.contains(name) && error.contains(says), "{name}: {error:?}");
    }
    let tilted = &by_name("door-tilted.png")["matches"][0];
    let rotation = tilted["features"]["rotation_degrees"].as_f64().unwrap();
    assert!((rotation - 7.0).abs() < 1.0, "rotation {rotation}");
    let picture = tilted["side_by_side"].as_str().unwrap();
    let bytes = std::fs::read(picture).unwrap();
    assert!(bytes.starts_with(b"\x89PNG"), "{picture}");
    assert_eq!(std::fs::read_dir(&out_dir).unwrap().count(), 3, "one picture per match, no temporary files");
}
