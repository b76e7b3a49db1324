//! `handprint scan` throughput: `cargo bench -p handprint-cli --bench scan -- [--images DIR]
//! [--copies N] [--jobs J]` (default: the three Kodak images in the fingerprint crate's
//! tests/data, 40 copies each, all cores).
//!
//! Registers every image of DIR as a work, writes a folder of JPEGs (quality 85) made from
//! them: for each image, N copies cycling through re-encoding, a crop to 60% of the area, a
//! 5° rotation, a mirror and a resize to 50%, and as many unrelated noise-free gradients. Then
//! times `handprint scan --json --no-side-by-side` over the folder, for JPEG DCT scaling off
//! and on, and prints images per second with the share of copies found.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use fingerprint::decode::{Limits, decode};
use fixtures::images::Picture;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1));
    let dir = arg("--images")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../fingerprint/tests/data"));
    let copies: usize = arg("--copies").map(|c| c.parse().expect("--copies N")).unwrap_or(40);
    let jobs = arg("--jobs").cloned();
    let exe = env!("CARGO_BIN_EXE_handprint");
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let folder = tmp.path().join("jpegs");
    std::fs::create_dir_all(&folder).unwrap();
    let run = |args: &[&str]| {
        let out = Command::new(exe).env("HANDPRINT_HOME", &home).args(args).output().unwrap();
        assert!(
            out.status.code().is_some_and(|c| c <= 1),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    };
    run(&["init", "--name", "Bench"]);
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "png" || x == "jpg"))
        .collect();
    paths.sort();
    let mut expected = 0;
    for (i, path) in paths.iter().enumerate() {
        run(&["register", path.to_str().unwrap(), "--title", &format!("work {i}")]);
        let image = decode(&std::fs::read(path).unwrap(), &Limits::default()).unwrap().image;
        let p = Picture { width: image.width, height: image.height, rgb: image.pixels };
        for k in 0..copies {
            let copy = match k % 5 {
                0 => p.clone(),
                1 => p.crop_area(0.6, (k % 4) as u8),
                2 => p.rotate(5.0),
                3 => p.mirror(),
                _ => p.crop(0, 0, p.width / 2 * 2, p.height / 2 * 2).half(),
            };
            std::fs::write(folder.join(format!("{i:03}-{k:03}.jpg")), copy.jpeg(85)).unwrap();
            expected += 1;
            // An unrelated picture of the same size.
            let (w, h) = (p.width, p.height);
            let rgb = (0..h)
                .flat_map(|y| {
                    (0..w).flat_map(move |x| {
                        [(x * 255 / w) as u8, (y * 255 / h) as u8, ((x + y + k as u32 * 7) % 256) as u8]
                    })
                })
                .collect();
            std::fs::write(
                folder.join(format!("{i:03}-{k:03}-other.jpg")),
                Picture { width: w, height: h, rgb }.jpeg(85),
            )
            .unwrap();
        }
    }
    let total = 2 * expected;
    println!(
        "| {total} JPEGs ({expected} copies of {} works), jobs {} | s | images/s | copies found | false matches |",
        paths.len(),
        jobs.as_deref().unwrap_or("all cores")
    );
    println!("|---|---|---|---|---|");
    for scale in ["0", "512", "256"] {
        let mut argv =
            vec!["scan", folder.to_str().unwrap(), "--json", "--no-side-by-side", "--jpeg-scale-to", scale];
        if let Some(j) = &jobs {
            argv.extend(["--jobs", j]);
        }
        let t = Instant::now();
        let out = run(&argv);
        let secs = t.elapsed().as_secs_f64();
        let (mut found, mut wrong) = (0, 0);
        for line in String::from_utf8(out.stdout).unwrap().lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let file = v["file"].as_str().unwrap();
            let name = Path::new(file).file_stem().unwrap().to_str().unwrap();
            let own: i64 = name[..3].parse::<i64>().unwrap() + 1;
            for m in v["matches"].as_array().into_iter().flatten() {
                if !name.ends_with("-other") && m["work"] == own {
                    found += 1;
                } else {
                    wrong += 1;
                }
            }
        }
        let label = if scale == "0" {
            "full-size decoding".to_string()
        } else {
            format!("JPEG DCT scaling, short side ≥ {scale}")
        };
        println!("| {label} | {secs:.2} | {:.1} | {found}/{expected} | {wrong} |", total as f64 / secs);
    }
}
