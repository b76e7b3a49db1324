//! A registry whose search index is held by three `handprint match` processes, each a part
//! of the works, with `handprint serve --matchers` asking them all: every look-up finds its
//! work through the part that holds it; a matcher killed with SIGKILL makes the answers
//! partial, naming its part — never a silent miss — and a publication is refused rather than
//! published without its disputes checked; restarted, the matcher rebuilds its part from
//! the store and answers are whole again; a new publication is found within a second.
//!
//! Once on PostgreSQL (the store of record of a sharded registry), once on an SQLite file
//! the processes share.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::{json, s};
use fixtures::images::kodak;
use serde_json::Value;

const PARTS: u32 = 3;

/// Kills the process when dropped, so a failed test leaves nothing running.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `handprint ARGS` on the store `database` (PostgreSQL URL, or the SQLite file in the
/// data directory when `None`) and reads the JSON line it prints once it listens.
fn start(args: &[&str], database: Option<&str>) -> (Process, Value) {
    let mut c = Command::new(env!("CARGO_BIN_EXE_handprint"));
    c.arg("--json").args(args).stdout(Stdio::piped()).stderr(Stdio::inherit());
    match database {
        Some(url) => c.env("HANDPRINT_DATABASE", url),
        None => c.env_remove("HANDPRINT_DATABASE"),
    };
    let mut child = c.spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let v: Value = serde_json::from_str(&line).unwrap_or_else(|_| panic!("{args:?} printed {line:?}"));
    (Process(child), v)
}

/// A matcher for part `part` of [`PARTS`], on `listen`, keeping its snapshot in `data`: a
/// restarted matcher opens it and catches up from the store.
fn matcher(part: u32, listen: &str, data: &Path, database: Option<&str>) -> (Process, String) {
    let snapshot = data.join(format!("catalog-{part}-of-{PARTS}"));
    let (p, v) = start(
        &[
            "match",
            "--part",
            &format!("{part}/{PARTS}"),
            "--listen",
            listen,
            "--data",
            &s(data),
            "--snapshot",
            &s(&snapshot),
        ],
        database,
    );
    assert!(snapshot.join("catalog.snapshot").is_file(), "the part's snapshot is written");
    assert_eq!(v["part"], format!("{part}/{PARTS}"));
    (p, v["listening"].as_str().unwrap().to_owned())
}

/// A plain HTTP GET on loopback: the status and the JSON body.
fn get(addr: &str, path: &str) -> (u16, Value) {
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    let status = text[9..12].parse().unwrap();
    let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

/// The web page's answer to an uploaded image.
fn page(addr: &str, image: &[u8]) -> String {
    let b = "handprint-test-boundary";
    let mut body = format!(
        "--{b}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"copy.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(image);
    body.extend_from_slice(format!("\r\n--{b}--\r\n").as_bytes());
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "POST /lookup HTTP/1.1\r\nHost: {addr}\r\nContent-Type: multipart/form-data; boundary={b}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    stream.write_all(&body).unwrap();
    let mut text = Vec::new();
    stream.read_to_end(&mut text).unwrap();
    String::from_utf8_lossy(&text).into_owned()
}

/// Seven sealed works of one creator: quarters of three photographs, which share nothing.
fn sealed_works(dir: &Path, home: &Path) -> Vec<PathBuf> {
    json(home, &["--json", "init", "--name", "Alice Chen"]);
    json(home, &["--json", "project", "new", "works"]);
    let quarters =
        [("kodim01", 0), ("kodim03", 0), ("kodim04", 0), ("kodim01", 3), ("kodim03", 3), ("kodim04", 3)];
    let mut out = Vec::new();
    for (i, (name, q)) in quarters.into_iter().chain([("kodim01", 1)]).enumerate() {
        let photo = kodak(name);
        let (w, h) = (photo.width / 2, photo.height / 2);
        let picture = photo.crop(if q % 2 == 1 { w } else { 0 }, if q >= 2 { h } else { 0 }, w, h);
        let input = dir.join(format!("work{i}.png"));
        std::fs::write(&input, picture.png()).unwrap();
        let output = dir.join(format!("work{i}.sealed.png"));
        common::seal(home, &input, &format!("Work {i}"), &output);
        out.push(output);
    }
    out
}

/// The PDQ hash of an image file.
fn pdq(path: &Path) -> String {
    let d = fingerprint::decode::decode(&std::fs::read(path).unwrap(), &Default::default()).unwrap();
    fingerprint::prints::fingerprint(&d.image).pdq.original.to_hex()
}

/// A stranger's copy: 80% of the image, re-encoded as a JPEG without metadata.
fn copy_of(path: &Path, dir: &Path) -> PathBuf {
    let out = dir.join(format!("{}.copy.jpg", path.file_stem().unwrap().to_string_lossy()));
    std::fs::write(&out, common::picture(path).crop_area(0.8, 3).jpeg(85)).unwrap();
    out
}

fn found_by(answer: &Value, work: i64) -> Vec<String> {
    answer["claims"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["work"]["id"] == work)
        .flat_map(|c| c["found_by"].as_array().unwrap().iter().map(|b| b.as_str().unwrap().to_owned()))
        .collect()
}

/// Publishes `work` and waits until a look-up by its PDQ hash finds it through the
/// matchers: the work's ID, and how long that took.
fn publish_and_find(server: &registry::remote::Server, creator: &Path, work: &Path) -> (i64, Duration) {
    let answer = json(creator, &["--json", "publish", &s(work), "--server", server.base()]);
    let id = answer["work"]["id"].as_i64().unwrap();
    let hash = pdq(work);
    let published = Instant::now();
    loop {
        let a = server.lookup_pdq(&hash, 0).unwrap();
        if a["claims"].as_array().unwrap().iter().any(|c| c["work"]["id"] == id) {
            return (id, published.elapsed());
        }
        assert!(published.elapsed() < Duration::from_secs(5), "work {id} is not found: {a}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn sharded_registry(database: Option<&str>) {
    let dir = tempfile::tempdir().unwrap();
    let (data, creator) = (dir.path().join("data"), dir.path().join("creator"));
    std::fs::create_dir_all(&data).unwrap();
    let works = sealed_works(dir.path(), &creator);
    let (works, late) = (&works[..6], &works[6]);

    // The server first (it creates the store), then the matchers, then the server again
    // with their addresses.
    drop(start(&["serve", "--listen", "127.0.0.1:0", "--data", &s(&data)], database));
    let mut matchers: Vec<(Process, String)> =
        (0..PARTS).map(|part| matcher(part, "127.0.0.1:0", &data, database)).collect();
    let urls: Vec<String> = matchers.iter().map(|(_, a)| format!("http://{a}")).collect();
    let (_server, v) = start(
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--rate",
            "100000",
            "--data",
            &s(&data),
            "--matchers",
            &urls.join(","),
        ],
        database,
    );
    let server =
        registry::remote::Server::new(&format!("http://{}", v["listening"].as_str().unwrap())).unwrap();

    // Published through the server, each work is found through the matchers within a second.
    let mut ids = Vec::new();
    for w in works {
        let (id, took) = publish_and_find(&server, &creator, w);
        assert!(took < Duration::from_secs(1), "work {id} was found {took:?} after its publication");
        ids.push(id);
    }
    let hashes: Vec<String> = works.iter().map(|w| pdq(w)).collect();
    let copies: Vec<PathBuf> = works.iter().map(|w| copy_of(w, dir.path())).collect();

    // Each part holds its works and only those; a look-up finds every work, whole.
    for (part, (_, addr)) in matchers.iter().enumerate() {
        let (status, health) = get(addr, "/healthz");
        assert_eq!(status, 200);
        let held = ids.iter().filter(|id| *id % PARTS as i64 == part as i64).count();
        assert_eq!(health["works"], held, "part {part}: {health}");
        for (id, hash) in ids.iter().zip(&hashes) {
            let (status, a) = get(addr, &format!("/v1/match?pdq={hash}&radius=0"));
            assert_eq!(status, 200, "{a}");
            let here = a["results"][0].as_array().unwrap().iter().any(|n| n["work"] == *id);
            assert_eq!(here, *id % PARTS as i64 == part as i64, "part {part}, work {id}: {a}");
        }
    }
    for ((id, hash), copy) in ids.iter().zip(&hashes).zip(&copies) {
        let a = server.lookup(copy).unwrap();
        assert_eq!(
            (a["partial"].as_bool(), a["missing_parts"].as_array().map(Vec::len)),
            (Some(false), Some(0))
        );
        assert!(found_by(&a, *id).contains(&"fingerprint".to_owned()), "work {id}: {a}");
        assert_eq!(a["works_searched"], ids.len());
        let a = server.lookup_pdq(hash, 0).unwrap();
        assert_eq!(a["partial"], false);
        assert_eq!(found_by(&a, *id), ["pdq"]);
    }

    let server_addr = server.base().trim_start_matches("http://").to_owned();
    assert_eq!(get(&server_addr, "/healthz").1["works"], ids.len(), "the works all parts hold");
    assert!(!page(&server_addr, &std::fs::read(&copies[0]).unwrap()).contains("incomplete"));

    // Look-ups run on while a matcher is killed and restarted: every answer either finds its
    // work or says that the part holding it is missing.
    let running = Arc::new(AtomicBool::new(true));
    let watcher = {
        let (running, server, ids, hashes) =
            (running.clone(), server.base().to_owned(), ids.clone(), hashes.clone());
        std::thread::spawn(move || {
            let server = registry::remote::Server::new(&server).unwrap();
            let (mut complete, mut partial) = (0, 0);
            let mut k = 0;
            while running.load(Ordering::Relaxed) {
                let (id, hash) = (ids[k % ids.len()], &hashes[k % ids.len()]);
                let a = server.lookup_pdq(hash, 0).unwrap();
                let found = !found_by(&a, id).is_empty();
                let missing: Vec<i64> =
                    a["missing_parts"].as_array().unwrap().iter().map(|p| p.as_i64().unwrap()).collect();
                match a["partial"].as_bool().unwrap() {
                    false => {
                        assert!(found, "a complete answer without work {id}: {a}");
                        complete += 1;
                    }
                    true => {
                        assert!(!missing.is_empty(), "{a}");
                        assert!(
                            found || missing.contains(&(id % PARTS as i64)),
                            "a silent miss of work {id}: {a}"
                        );
                        partial += 1;
                    }
                }
                k += 1;
            }
            (complete, partial)
        })
    };
    std::thread::sleep(Duration::from_millis(300));
    let dead = 1u32;
    let (mut killed, addr) = matchers.remove(dead as usize);
    killed.0.kill().unwrap(); // SIGKILL
    killed.0.wait().unwrap();
    std::thread::sleep(Duration::from_millis(300));

    // Part 1 is missing from every answer; its works are not found by fingerprint, and the
    // answer says so; the others are found as before.
    for ((id, hash), copy) in ids.iter().zip(&hashes).zip(&copies) {
        let a = server.lookup(copy).unwrap();
        assert_eq!(a["partial"], true, "{a}");
        assert_eq!(a["missing_parts"], serde_json::json!([dead]), "{a}");
        let by = found_by(&a, *id);
        assert_eq!(
            by.contains(&"fingerprint".to_owned()),
            *id % PARTS as i64 != dead as i64,
            "work {id}: {a}"
        );
        let a = server.lookup_pdq(hash, 0).unwrap();
        assert_eq!(
            (a["partial"].as_bool(), a["missing_parts"].clone()),
            (Some(true), serde_json::json!([dead]))
        );
        assert_eq!(found_by(&a, *id).is_empty(), *id % PARTS as i64 == dead as i64, "work {id}: {a}");
    }
    // The web page says so.
    let html = page(&server_addr, &std::fs::read(&copies[0]).unwrap());
    assert!(html.contains("This answer is incomplete: part 1/3 of the registry"), "{html}");
    // A publication now cannot check its disputes against part 1: refused, nothing published.
    let log_size = get(&server_addr, "/healthz").1["log_size"].clone();
    let out = common::run(&creator, &["--json", "publish", &s(late), "--server", server.base()]);
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("HTTP 503") && said.contains("part 1/3 did not answer"), "{said}");
    assert!(said.contains("nothing was published"), "{said}");
    assert_eq!(get(&server_addr, "/healthz").1["log_size"], log_size);

    // Restarted on its address, the matcher rebuilds part 1 from the store.
    let (restarted, _) = matcher(dead, &addr, &data, database);
    matchers.insert(dead as usize, (restarted, addr));
    for ((id, hash), copy) in ids.iter().zip(&hashes).zip(&copies) {
        let a = server.lookup(copy).unwrap();
        assert_eq!(a["partial"], false, "{a}");
        assert!(found_by(&a, *id).contains(&"fingerprint".to_owned()), "work {id}: {a}");
        assert_eq!(found_by(&server.lookup_pdq(hash, 0).unwrap(), *id), ["pdq"]);
    }
    std::thread::sleep(Duration::from_millis(300));
    running.store(false, Ordering::Relaxed);
    let (complete, partial) = watcher.join().unwrap();
    eprintln!("look-ups while a matcher was killed and restarted: {complete} complete, {partial} partial");
    assert!(complete > 0 && partial > 0);

    // And the refused publication goes through now, found within a second.
    let (id, took) = publish_and_find(&server, &creator, late);
    assert!(took < Duration::from_secs(1), "work {id} was found {took:?} after its publication");
    assert_eq!(server.lookup_pdq(&pdq(late), 0).unwrap()["partial"], false);
}

#[test]
fn postgres_matchers_hold_the_index_in_parts_and_a_dead_one_makes_answers_partial() {
    let Some(db) = fixtures::postgres::database() else { return };
    sharded_registry(Some(&db.url));
}

#[test]
fn sqlite_matchers_share_the_servers_file() {
    sharded_registry(None);
}
