//! The evidence report of a large project: `cargo bench -p handprint-cli --bench claim --
//! [--rounds N] [--keep DIR]` (default 25 rounds of 8 = 200 generations; `--keep` leaves the
//! project, its data directory and the reports in DIR, to look at them).
//!
//! Builds the project with the real commands (record each round, a selection and a rejection
//! per round, an inpainting edit of the last round's choice, seal), then times `handprint
//! claim` end to end — journal verification, facts, HTML, PDF, bundle — and prints the
//! report's size. Goal: ≤ 5 s for 200 generations.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use fixtures::project::{write_inpainted, write_round};

fn run(home: &Path, args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_handprint"))
        .env("HANDPRINT_HOME", home)
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let rounds: usize =
        args.iter().position(|a| a == "--rounds").and_then(|i| args.get(i + 1)?.parse().ok()).unwrap_or(25);
    let keep =
        args.iter().position(|a| a == "--keep").and_then(|i| args.get(i + 1)).map(std::path::PathBuf::from);
    let tmp = tempfile::tempdir().unwrap();
    let base = keep.clone().unwrap_or_else(|| tmp.path().to_path_buf());
    let (home, dir) = (base.join("home"), base.join("images"));
    std::fs::create_dir_all(&dir).unwrap();
    let s = |p: &Path| p.to_str().unwrap().to_owned();
    run(&home, &["init", "--name", "Bench Creator"]);
    run(&home, &["project", "new", "big"]);
    let mut last = Vec::new();
    for round in 0..rounds {
        let files = write_round(&dir, round, 8).unwrap();
        let names: Vec<String> = files.iter().map(|f| s(f)).collect();
        let mut a = vec!["record", "-p", "big"];
        a.extend(names.iter().map(String::as_str));
        run(&home, &a);
        run(&home, &["select", &names[3], "--reason", "composition"]);
        run(&home, &["reject", &names[5], "--reason", "muddy"]);
        last = names;
    }
    let final_png = dir.join("final.png");
    write_inpainted(&final_png).unwrap();
    run(&home, &["edit", &last[3], &s(&final_png), "--tool", "inpainting", "--note", "the tail"]);
    let sealed = dir.join("sealed.png");
    run(&home, &["seal", &s(&final_png), "-p", "big", "--title", "Big", "--out", &s(&sealed)]);

    let mut times: Vec<Duration> = Vec::new();
    for i in 0..3 {
        let out = base.join(format!("claim-{i}"));
        let t = Instant::now();
        run(&home, &["claim", &s(&sealed), "--out", &s(&out)]);
        times.push(t.elapsed());
    }
    times.sort();
    let out = base.join("claim-0");
    let size = |f: &str| std::fs::metadata(out.join(f)).map(|m| m.len() as f64 / 1e3).unwrap_or(0.0);
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    println!(
        "{} generations, {} events: handprint claim {:.2} s median of 3 (goal ≤ 5 s); report.html {:.0} KB, report.pdf {:.0} KB",
        report["facts"]["counts"]["generations"],
        report["facts"]["counts"]["events"],
        times[1].as_secs_f64(),
        size("report.html"),
        size("report.pdf")
    );
}
