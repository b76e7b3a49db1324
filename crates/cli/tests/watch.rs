//! `handprint watch` on a real folder: existing files, a slow writer, a burst of 1,000 files,
//! the folder moved away and back, and another writer at the same time.

#![cfg(unix)]

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use fixtures::containers::{pil_text, pixels, png};

fn handprint(home: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_handprint"));
    c.env("HANDPRINT_HOME", home);
    c
}

fn image(n: u32) -> Vec<u8> {
    let params =
        format!("a lighthouse, storm\nSteps: 20, Sampler: Euler, Seed: {n}, CFG scale: 7, Size: 24x24");
    png(24, 24, 3, &pixels(24, 24, 3, (n % 251) as u8), &[pil_text("parameters", &params)])
}

/// Recorded file names, from the watcher's JSON lines.
struct Watch {
    child: Child,
    lines: mpsc::Receiver<serde_json::Value>,
    seen: Vec<serde_json::Value>,
}

impl Watch {
    fn start(home: &Path, dir: &Path) -> Watch {
        let mut child = handprint(home)
            .args([
                "watch",
                dir.to_str().unwrap(),
                "-p",
                "w",
                "--interval-ms",
                "50",
                "--settle-ms",
                "300",
                "--json",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(serde_json::from_str(&line).unwrap());
            }
        });
        Watch { child, lines, seen: Vec::new() }
    }

    /// Waits until `n` files have been reported (recorded or already there).
    fn wait_for(&mut self, n: usize, what: &str) {
        let deadline = Instant::now() + Duration::from_secs(120);
        while self.seen.len() < n {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(v) => self.seen.push(v),
                Err(_) => panic!("{what}: only {} of {n} files reported", self.seen.len()),
            }
        }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn watch_records_every_new_image_once_it_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let dir = tmp.path().join("outputs");
    std::fs::create_dir_all(dir.join("2026-11-26")).unwrap();
    assert!(handprint(&home).args(["init", "--name", "W"]).output().unwrap().status.success());
    assert!(handprint(&home).args(["project", "new", "w"]).output().unwrap().status.success());

    // Files there before watching starts; one of them already recorded.
    std::fs::write(dir.join("0001.png"), image(1)).unwrap();
    std::fs::write(dir.join("2026-11-26/0002.png"), image(2)).unwrap();
    assert!(
        handprint(&home)
            .args(["record", "-p", "w", dir.join("0001.png").to_str().unwrap()])
            .output()
            .unwrap()
            .status
            .success()
    );
    std::fs::write(dir.join(".0003.png.tmp"), b"a temporary file").unwrap();

    let mut w = Watch::start(&home, &dir);
    w.wait_for(2, "existing files");
    let statuses: HashSet<String> = w.seen.iter().map(|v| v["status"].as_str().unwrap().to_owned()).collect();
    assert_eq!(statuses, ["already-recorded".to_owned(), "recorded".to_owned()].into());

    // A slow writer: half the file, a pause longer than the settle time, then the rest.
    let slow = image(3);
    let slow_path = dir.join("0003.png");
    std::fs::write(&slow_path, &slow[..slow.len() / 2]).unwrap();
    std::thread::sleep(Duration::from_millis(900));
    std::fs::write(&slow_path, &slow).unwrap();
    w.wait_for(3, "the slow file");
    assert_eq!(w.seen[2]["path"].as_str().unwrap(), slow_path.to_str().unwrap());

    // A burst of 1,000 files, while another process records a file of its own.
    for n in 10..1010 {
        std::fs::write(dir.join(format!("burst-{n:04}.png")), image(n)).unwrap();
    }
    let other = tmp.path().join("elsewhere.png");
    std::fs::write(&other, image(5000)).unwrap();
    assert!(
        handprint(&home)
            .args(["record", "-p", "w", other.to_str().unwrap()])
            .output()
            .unwrap()
            .status
            .success()
    );
    w.wait_for(1003, "the burst");

    // The folder moved away and back; a file written after it returns is still recorded.
    let moved: PathBuf = tmp.path().join("outputs-moved");
    std::fs::rename(&dir, &moved).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    std::fs::rename(&moved, &dir).unwrap();
    std::fs::write(dir.join("after-move.png"), image(4000)).unwrap();
    w.wait_for(1004, "the file after the move");
    drop(w);

    let log = handprint(&home).args(["log", "--json", "-p", "w"]).output().unwrap();
    let events: Vec<serde_json::Value> =
        String::from_utf8(log.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let generated: Vec<&serde_json::Value> =
        events.iter().filter(|e| e["event"]["kind"] == "generated").collect();
    assert_eq!(
        generated.len(),
        1 + 1 + 1 + 1000 + 1 + 1,
        "every image once: two existing, slow, burst, other, after move"
    );
    let hashes: HashSet<&str> =
        generated.iter().map(|e| e["event"]["data"]["file"]["sha256"].as_str().unwrap()).collect();
    assert_eq!(hashes.len(), generated.len(), "no file recorded twice");
    let slow_hash = ledger::Hash::of(&slow).to_hex();
    assert!(hashes.contains(slow_hash.as_str()), "the slow file was recorded complete");
    let verify = handprint(&home).args(["verify"]).output().unwrap();
    assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stdout));
}

/// A ComfyUI graph of 100,000 chained nodes and one of 1,000 samplers dropped into the
/// folder: each is recorded within its limits, and the watcher goes on to the next file.
#[test]
fn hostile_graphs_in_the_folder_do_not_stop_the_watcher() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let dir = tmp.path().join("outputs");
    std::fs::create_dir_all(&dir).unwrap();
    assert!(handprint(&home).args(["init", "--name", "W"]).output().unwrap().status.success());
    assert!(handprint(&home).args(["project", "new", "w"]).output().unwrap().status.success());
    let mut w = Watch::start(&home, &dir);

    let mut chain = serde_json::Map::new();
    chain
        .insert("1".into(), serde_json::json!({"class_type": "CLIPTextEncode", "inputs": {"text": "a fox"}}));
    for i in 0..100_000u32 {
        let previous = if i == 0 { "1".to_owned() } else { (i + 1).to_string() };
        chain.insert(
            (i + 2).to_string(),
            serde_json::json!({"class_type": "ConditioningCombine",
                               "inputs": {"conditioning_1": [previous, 0], "conditioning_2": ["1", 0]}}),
        );
    }
    chain.insert(
        "0".into(),
        serde_json::json!({"class_type": "KSampler",
                           "inputs": {"seed": 7, "steps": 20, "cfg": 7.0, "positive": ["100001", 0]}}),
    );
    let mut samplers = serde_json::Map::new();
    for i in 0..1000u32 {
        samplers.insert(
            i.to_string(),
            serde_json::json!({"class_type": "KSampler", "inputs": {"seed": i, "steps": 20, "cfg": 7.0}}),
        );
    }
    let (chain, samplers) =
        (serde_json::Value::Object(chain).to_string(), serde_json::Value::Object(samplers).to_string());
    let graph_png =
        |text: &str, shade: u8| png(24, 24, 3, &pixels(24, 24, 3, shade), &[pil_text("prompt", text)]);
    std::fs::write(dir.join("chain.png"), graph_png(&chain, 1)).unwrap();
    std::fs::write(dir.join("samplers.png"), graph_png(&samplers, 2)).unwrap();
    w.wait_for(2, "the hostile graphs");
    std::fs::write(dir.join("after.png"), image(1)).unwrap();
    w.wait_for(3, "the file after them");
    assert!(w.seen.iter().all(|v| v["status"] == "recorded"), "{:?}", w.seen);
    drop(w);

    let size = |name: &str| std::fs::metadata(home.join(name)).map_or(0, |m| m.len());
    let journal = size("journal.sqlite3") + size("journal.sqlite3-wal");
    // Each graph's text once (a copy per sampler was 1,000 × the samplers' graph).
    let texts = (chain.len() + samplers.len()) as u64;
    assert!(journal < texts + (4 << 20), "{journal} bytes for {texts} bytes of graph text");
    let verify = handprint(&home).args(["verify"]).output().unwrap();
    assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stdout));
}
