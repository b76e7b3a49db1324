//! The two store backends side by side, in one run on one machine:
//! `scripts/with-postgres.sh cargo bench -p handprint-registry --bench store -- [--events N] [--works W]`
//! (defaults 1,000,000 events and 100,000 works). Without `HANDPRINT_TEST_POSTGRES` (which
//! `scripts/with-postgres.sh` sets to a throwaway cluster with fsync on) PostgreSQL is
//! skipped and SQLite is measured alone.
//!
//! SQLite (a WAL file with synchronous=FULL) is measured first, then PostgreSQL (a new
//! database on that server), from one thread of this process. Each backend gets one fresh
//! store for the journal and another for the works, each removed when its part is done, so
//! that the disk never holds two at once. For each backend:
//! - durable appends one by one: 300 `Store::append` calls of one event, each its own
//!   transaction and commit;
//! - durable appends batched: 20 appends of 1,000 events;
//! - filling the log to N events in appends of 10,000, then `Store::verify` over all of it
//!   (signatures, chains, every checkpoint, the stored Merkle nodes);
//! - inclusion and consistency proof latency at N events (2,000 random proofs each);
//! - writing W works in transactions of 1,000 (`Tx::insert_work`), then `Store::catalog`
//!   (reading every work's codes and features and building both indexes, as `search` and
//!   `scan` do at start) on a newly opened store;
//! - 200 full registrations, one per transaction (`Registry::register`: the lookup by
//!   SHA-256, pHash and thumbnail of the image, the work and its signed `registered` event
//!   written together, the work read back), into the store holding the W works.
//!
//! Before them, the floors under every durable write: one small row committed on each
//! backend (alternately, so that both see the disk in the same state), and a PostgreSQL
//! round trip with a prepared statement and with SQL text (which the client prepares, then
//! runs).
//!
//! The data: every event is a `generated` event carrying the AUTOMATIC1111 sample's capture
//! record (about 2.3 KB, as the journal bench uses). Every work has a random fingerprint as
//! the catalog bench builds it (the 8 dihedral PDQ codes plus one of the trimmed image, 256
//! local features with random descriptors, 12 KB stored), so codes and features are as
//! large and as incompressible as real ones. The bulk-written works carry a small thumbnail
//! (a Kodak photograph at 64 px) to keep a 100,000-work store within a small disk; the
//! timed registrations decode nothing but do the rest on a real 768×512 Kodak photograph,
//! so their thumbnails (384 px PNG) are full size.
//!
//! Prints markdown tables: the machine, then each measure for SQLite, PostgreSQL, and
//! PostgreSQL ÷ SQLite (for rates, below 1 means PostgreSQL is slower; for times, above 1).

use std::path::Path;
use std::time::Instant;

use fingerprint::decode::{Decoded, Format, Rgb};
use fingerprint::features::{Feature, Features};
use fingerprint::pdq::Dihedral;
use fingerprint::prints::{self, Fingerprint};
use fingerprint::{Pdq, PdqHash};
use fixtures::rng::XorShift;
use ledger::{Draft, EventKind, Hash};
use registry::store::Pending;
use registry::works::{NewWork, Registration, Scanned};
use registry::{Database, Registry};
use serde_json::{Value, json};

const ONE_BY_ONE: usize = 300;
const BATCH: usize = 1_000;
const BATCHES: usize = 20;
const FILL_BATCH: usize = 10_000;
const PROOFS: usize = 2_000;
const WORK_BATCH: usize = 1_000;
const REGISTRATIONS: usize = 200;

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    match args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)) {
        Some(v) => v.parse().unwrap_or_else(|_| panic!("{name} takes a number, not {v:?}")),
        None => default,
    }
}

fn progress(backend: &str, what: &str) {
    eprintln!("[{backend}] {what}");
}

// --- events, as the journal bench builds them ---

fn payload() -> Value {
    let sample = fixtures::samples::all().into_iter().find(|s| s.name == "a1111-txt2img.png").unwrap();
    let inspection = capture::inspect_bytes(&sample.bytes).unwrap();
    json!({"generations": inspection.generations})
}

fn drafts(n: usize, start: usize, data: &Value) -> Vec<Pending> {
    (start..start + n)
        .map(|i| {
            let mut data = data.clone();
            data["file"] = json!({"name": format!("{i:07}.png"), "sha256": Hash::of(&i.to_le_bytes()).to_hex(), "size": 1_500_000});
            Pending {
                draft: Draft { project: "bench".into(), kind: EventKind::Generated, data, derived_from: vec![] },
                files: vec![],
            }
        })
        .collect()
}

// --- works, as the catalog bench builds them ---

fn random_print(rng: &mut XorShift) -> Fingerprint {
    let mut hash = || PdqHash(std::array::from_fn(|_| rng.next_u64() as u16));
    let pdq = Dihedral {
        original: hash(),
        rotate90: hash(),
        rotate180: hash(),
        rotate270: hash(),
        flip_x: hash(),
        flip_y: hash(),
        flip_plus1: hash(),
        flip_minus1: hash(),
        quality: 100,
    };
    let trimmed = Some(([0, 0, 512, 341], Pdq { hash: hash(), quality: 100 }));
    let features = (0..256)
        .map(|_| Feature {
            x: (rng.next_u64() % 512) as f32,
            y: (rng.next_u64() % 341) as f32,
            scale: 1.0,
            angle: 0.0,
            descriptor: [rng.next_u64(), rng.next_u64(), rng.next_u64(), rng.next_u64()],
        })
        .collect();
    Fingerprint {
        width: 768,
        height: 512,
        pdq,
        trimmed,
        features: Features { width: 512, height: 341, features },
    }
}

/// Work `i`: a random fingerprint over `image` (as decoded), under a unique SHA-256.
fn scanned(i: usize, image: &Rgb, rng: &mut XorShift) -> Scanned {
    Scanned {
        path: format!("{i:07}.png").into(),
        sha256: Hash::of(&(i as u64).to_le_bytes()),
        decoded: Decoded { image: image.clone(), format: Format::Png, declared: (768, 512), frames: None },
        fingerprint: random_print(rng),
    }
}

fn kodak() -> Rgb {
    let p = fixtures::images::kodak("kodim01");
    Rgb { width: p.width, height: p.height, pixels: p.rgb }
}

// --- measures ---

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Median and p99 of `samples`.
fn spread(mut samples: Vec<f64>) -> (f64, f64) {
    samples.sort_by(f64::total_cmp);
    (percentile(&samples, 0.5), percentile(&samples, 0.99))
}

/// What one backend measured (also shown on stderr as soon as it is known).
#[derive(Debug)]
struct Measured {
    /// Appends per second, one event each.
    one_by_one: f64,
    /// Events per second, in appends of [`BATCH`].
    batched: f64,
    events: usize,
    /// Events written and seconds taken to fill the log to `events`.
    fill: (usize, f64),
    verify_seconds: f64,
    /// Median and p99, µs.
    inclusion: (f64, f64),
    consistency: (f64, f64),
    /// Works written per second, in transactions of [`WORK_BATCH`].
    works_written: f64,
    catalog_seconds: f64,
    /// Registrations per second, one per transaction.
    registered: f64,
    register_ms: (f64, f64),
    journal_mb: f64,
    works_mb: f64,
}

/// A fresh store, removed (its folder, or its PostgreSQL database) when this is dropped.
struct Place {
    database: Database,
    size_mb: Box<dyn Fn() -> f64>,
    _held: Box<dyn std::any::Any>,
}

/// Measures a backend with the identity of `home` (a store's log is one key's: every append
/// signs with it): the journal in one fresh store, the works in another, so that the disk
/// never holds both.
fn measure(backend: &str, home: &Path, place: &dyn Fn() -> Place) -> Measured {
    let total = arg("--events", 1_000_000).max(ONE_BY_ONE + BATCH * BATCHES);
    let works = arg("--works", 100_000);
    let journal = place();
    let reg = Registry::open_with(home, &journal.database).unwrap();
    let signer = reg.signer(None).unwrap();
    let key = &signer.key;
    let store = &reg.store;
    store.create_project("bench").unwrap();
    let data = payload();

    progress(backend, &format!("{ONE_BY_ONE} appends one by one"));
    let t = Instant::now();
    for i in 0..ONE_BY_ONE {
        store.append(key, |_| Ok(drafts(1, i, &data))).unwrap();
    }
    let one_by_one = ONE_BY_ONE as f64 / t.elapsed().as_secs_f64();

    progress(backend, &format!("{BATCHES} appends of {BATCH}"));
    let mut appended = ONE_BY_ONE;
    let t = Instant::now();
    for _ in 0..BATCHES {
        store.append(key, |_| Ok(drafts(BATCH, appended, &data))).unwrap();
        appended += BATCH;
    }
    let batched = (BATCHES * BATCH) as f64 / t.elapsed().as_secs_f64();

    progress(backend, &format!("filling the log to {total} events"));
    let filled = total - appended;
    let t = Instant::now();
    while appended < total {
        let n = FILL_BATCH.min(total - appended);
        store.append(key, |_| Ok(drafts(n, appended, &data))).unwrap();
        appended += n;
        if appended.is_multiple_of(100_000) {
            progress(backend, &format!("{appended} events, {:.0} s", t.elapsed().as_secs_f64()));
        }
    }
    let fill = (filled, t.elapsed().as_secs_f64());

    progress(backend, "verify");
    let t = Instant::now();
    let v = store.verify(&key.verifying_key()).unwrap();
    let verify_seconds = t.elapsed().as_secs_f64();
    assert!(v.ok(), "{:?}", &v.findings[..v.findings.len().min(3)]);
    assert_eq!(v.events as usize, total);

    progress(backend, "proofs");
    let size = total as u64;
    let mut rng = XorShift::new(0x2545_F491_4F6C_DD1D);
    let (mut inclusion, mut consistency) = (Vec::new(), Vec::new());
    for _ in 0..PROOFS {
        let index = rng.next_u64() % size;
        let t = Instant::now();
        let proof = store.inclusion_proof(index, size).unwrap();
        inclusion.push(t.elapsed().as_secs_f64() * 1e6);
        assert!(!proof.is_empty());
        let old = 1 + rng.next_u64() % (size - 1);
        let t = Instant::now();
        std::hint::black_box(store.consistency_proof(old, size).unwrap());
        consistency.push(t.elapsed().as_secs_f64() * 1e6);
    }
    drop(reg);
    let journal_mb = (journal.size_mb)();
    drop(journal);

    progress(backend, &format!("writing {works} works"));
    let place = place();
    let reg = Registry::open_with(home, &place.database).unwrap();
    let store = &reg.store;
    let by = &reg.public;
    let photo = kodak();
    let small = prints::thumbnail(&photo, 64);
    let mut rng = XorShift::new(0x1234_5678_9ABC_DEF1);
    let mut writing = 0.0;
    let mut written = 0;
    while written < works {
        let n = WORK_BATCH.min(works - written);
        // Built outside the timed part: fingerprints, pHash and thumbnail are the caller's work.
        let batch: Vec<NewWork> = (written..written + n)
            .map(|i| {
                NewWork::from_scanned(None, &scanned(i, &small, &mut rng), &format!("work {i}"), None, by)
            })
            .collect();
        let t = Instant::now();
        store
            .transaction(|tx| {
                for w in &batch {
                    tx.insert_work(w)?;
                }
                Ok(())
            })
            .unwrap();
        writing += t.elapsed().as_secs_f64();
        written += n;
        if written.is_multiple_of(20_000) {
            progress(backend, &format!("{written} works, {writing:.0} s"));
        }
    }
    let works_written = works as f64 / writing;
    drop(reg);

    progress(backend, "catalog");
    let reg = Registry::open_with(home, &place.database).unwrap();
    let t = Instant::now();
    let catalog = reg.store.catalog().unwrap();
    let catalog_seconds = t.elapsed().as_secs_f64();
    assert_eq!(catalog.works(), works);
    drop(catalog);

    progress(backend, &format!("{REGISTRATIONS} registrations"));
    let mut register_ms = Vec::new();
    let t = Instant::now();
    for i in works..works + REGISTRATIONS {
        let scanned = scanned(i, &photo, &mut rng);
        let started = Instant::now();
        let done = reg.register(&signer, None, &scanned, &format!("work {i}"), Some("CC-BY-4.0")).unwrap();
        register_ms.push(started.elapsed().as_secs_f64() * 1e3);
        assert!(matches!(done, Registration::New(_)));
    }
    let registered = REGISTRATIONS as f64 / t.elapsed().as_secs_f64();
    drop(reg);
    let works_mb = (place.size_mb)();

    let measured = Measured {
        one_by_one,
        batched,
        events: total,
        fill,
        verify_seconds,
        inclusion: spread(inclusion),
        consistency: spread(consistency),
        works_written,
        catalog_seconds,
        registered,
        register_ms: spread(register_ms),
        journal_mb,
        works_mb,
    };
    progress(backend, &format!("{measured:?}"));
    measured
}

/// Bytes free on the file system holding `dir`, from `df` (`None` if it cannot say).
fn free_bytes(dir: &Path) -> Option<u64> {
    let out = std::process::Command::new("df").arg("-Pk").arg(dir).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let kib: u64 = text.lines().nth(1)?.split_whitespace().nth(3)?.parse().ok()?;
    Some(kib * 1024)
}

/// Refuses to start when the temporary folder cannot hold the larger of the two stores a
/// backend keeps at once (as measured: about 4.4 KB an event in SQLite, 25 KB a work),
/// rather than filling the disk an hour in.
fn check_disk(events: usize, works: usize) {
    let dir = std::env::temp_dir();
    let needed = (events as u64 * 4_400).max(works as u64 * 25_000) + (512 << 20);
    if let Some(free) = free_bytes(&dir)
        && free < needed
    {
        eprintln!(
            "{}: {:.1} GB free, the stores of {events} events and {works} works need about {:.1} GB: \
             free some space or pass smaller --events / --works",
            dir.display(),
            free as f64 / 1e9,
            needed as f64 / 1e9
        );
        std::process::exit(2);
    }
}

fn sqlite_size_mb(path: &Path) -> f64 {
    let wal = path.with_file_name(format!("{}-wal", path.file_name().unwrap().to_string_lossy()));
    [path, wal.as_path()].iter().map(|p| std::fs::metadata(p).map_or(0, |m| m.len())).sum::<u64>() as f64
        / 1e6
}

/// Median µs of `n` runs of `f`.
fn median_us(n: usize, mut f: impl FnMut()) -> f64 {
    let samples = (0..n)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    spread(samples).0
}

/// The floors under every durable write, µs (median): one small row committed, in SQLite
/// (WAL, synchronous=FULL, as the store opens it) and in PostgreSQL (one round trip),
/// alternately so that both see the disk in the same state. For PostgreSQL also a round
/// trip with a statement prepared once, and a query sent as SQL text as the backend sends
/// each of its queries (the client prepares it, then runs it).
struct Floors {
    sqlite_commit: f64,
    /// Commit, prepared round trip, SQL-text query.
    postgres: Option<(f64, f64, f64)>,
}

fn floors(dir: &Path, url: Option<&str>) -> Floors {
    let conn = rusqlite::Connection::open(dir.join("probe.sqlite3")).unwrap();
    conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    conn.pragma_update(None, "synchronous", "FULL").unwrap();
    conn.execute_batch("CREATE TABLE probe (x INTEGER)").unwrap();
    let mut client = url.map(|url| {
        let mut client = postgres::Client::connect(url, postgres::NoTls).unwrap();
        client.batch_execute("CREATE TABLE probe (x INTEGER)").unwrap();
        client
    });
    let (mut sqlite, mut pg) = (Vec::new(), Vec::new());
    for _ in 0..200 {
        let t = Instant::now();
        conn.execute_batch("BEGIN IMMEDIATE; INSERT INTO probe VALUES (1); COMMIT").unwrap();
        sqlite.push(t.elapsed().as_secs_f64() * 1e6);
        if let Some(client) = client.as_mut() {
            let t = Instant::now();
            client.batch_execute("BEGIN; INSERT INTO probe VALUES (1); COMMIT").unwrap();
            pg.push(t.elapsed().as_secs_f64() * 1e6);
        }
    }
    let postgres = client.map(|mut client| {
        let prepared = client.prepare("SELECT 1").unwrap();
        let round_trip = median_us(1000, || drop(client.query(&prepared, &[]).unwrap()));
        let text = median_us(1000, || drop(client.query("SELECT 1", &[]).unwrap()));
        (spread(pg).0, round_trip, text)
    });
    Floors { sqlite_commit: spread(sqlite).0, postgres }
}

/// The server's version, its durability settings, and where it is.
fn postgres_context(url: &str) -> (String, String, String) {
    let mut client = postgres::Client::connect(url, postgres::NoTls).unwrap();
    let version: String = client.query_one("SELECT version()", &[]).unwrap().get(0);
    let settings: Vec<String> = ["fsync", "synchronous_commit", "wal_sync_method", "shared_buffers"]
        .iter()
        .map(|name| {
            let value: String = client.query_one(&format!("SHOW {name}"), &[]).unwrap().get(0);
            format!("{name}={value}")
        })
        .collect();
    let config: postgres::Config = url.parse().unwrap();
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .map(|h| match h {
            postgres::config::Host::Tcp(name) => format!("TCP to {name}"),
            postgres::config::Host::Unix(path) => format!("Unix socket in {}", path.display()),
        })
        .collect();
    (version, settings.join(", "), hosts.join(", "))
}

fn postgres_size_mb(url: &str) -> f64 {
    let mut client = postgres::Client::connect(url, postgres::NoTls).unwrap();
    let bytes: i64 = client.query_one("SELECT pg_database_size(current_database())", &[]).unwrap().get(0);
    bytes as f64 / 1e6
}

/// One table row: the SQLite value, the PostgreSQL value and their ratio.
fn row(label: &str, sqlite: f64, postgres: Option<f64>, digits: usize) {
    match postgres {
        Some(pg) => println!("| {label} | {sqlite:.digits$} | {pg:.digits$} | {:.2} |", pg / sqlite),
        None => println!("| {label} | {sqlite:.digits$} | skipped | |"),
    }
}

fn main() {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let events = arg("--events", 1_000_000).max(ONE_BY_ONE + BATCH * BATCHES);
    let works = arg("--works", 100_000);
    let data = payload();
    let event_bytes = serde_json::to_vec(&data).unwrap().len();

    check_disk(events, works);
    let home = tempfile::tempdir().unwrap();
    registry::identity::create(home.path(), "Bench", None).unwrap();
    let server = fixtures::postgres::server().map(|url| postgres_context(&url));
    let probe = server.as_ref().map(|_| fixtures::postgres::database().unwrap());
    let floors = floors(tempfile::tempdir().unwrap().path(), probe.as_ref().map(|db| db.url.as_str()));
    drop(probe);
    let sqlite = measure("SQLite", home.path(), &|| {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.sqlite3");
        Place {
            database: Database::Sqlite(path.clone()),
            size_mb: Box::new(move || sqlite_size_mb(&path)),
            _held: Box::new(dir),
        }
    });

    let postgres = server.as_ref().map(|_| {
        measure("PostgreSQL", home.path(), &|| {
            let db = fixtures::postgres::database().unwrap();
            let url = db.url.clone();
            Place {
                database: Database::parse(&db.url).unwrap(),
                size_mb: Box::new(move || postgres_size_mb(&url)),
                _held: Box::new(db),
            }
        })
    });

    println!("## Store backends: SQLite and PostgreSQL\n");
    println!("| machine | |");
    println!("|---|---|");
    println!("| cores | {cores} |");
    println!("| SQLite | {} (WAL, synchronous=FULL: fsync at every commit) |", rusqlite::version());
    match &server {
        Some((version, settings, hosts)) => {
            println!("| PostgreSQL | {version} ({settings}) |");
            println!("| client | one thread of this process; PostgreSQL over {hosts} |");
        }
        None => println!("| PostgreSQL | skipped: HANDPRINT_TEST_POSTGRES is not set |"),
    }
    println!(
        "| data | {events} events of a {event_bytes}-byte payload; {works} works of random fingerprints |"
    );
    println!();
    println!("goal: PostgreSQL within 2x of SQLite on appends and verify\n");

    println!("| one operation, µs (median) | SQLite | PostgreSQL | ratio PG/SQLite |");
    println!("|---|---|---|---|");
    row("durable commit of one small row", floors.sqlite_commit, floors.postgres.map(|f| f.0), 0);
    if let Some((_, round_trip, text)) = floors.postgres {
        println!("| query round trip, statement prepared once | | {round_trip:.0} | |");
        println!("| query sent as SQL text (prepared, then run: two round trips) | | {text:.0} | |");
    }
    println!();

    let pg = postgres.as_ref();
    println!("| journal | SQLite | PostgreSQL | ratio PG/SQLite |");
    println!("|---|---|---|---|");
    row("durable appends/s, one event per transaction", sqlite.one_by_one, pg.map(|m| m.one_by_one), 0);
    row(&format!("durable events/s, appends of {BATCH}"), sqlite.batched, pg.map(|m| m.batched), 0);
    if sqlite.fill.0 > 0 {
        row(
            &format!("fill: events/s, appends of {FILL_BATCH} ({} events)", sqlite.fill.0),
            sqlite.fill.0 as f64 / sqlite.fill.1,
            pg.map(|m| m.fill.0 as f64 / m.fill.1),
            0,
        );
        row("fill: seconds", sqlite.fill.1, pg.map(|m| m.fill.1), 1);
    }
    row(
        &format!("verify events/s at {} events", sqlite.events),
        sqlite.events as f64 / sqlite.verify_seconds,
        pg.map(|m| m.events as f64 / m.verify_seconds),
        0,
    );
    row("verify seconds", sqlite.verify_seconds, pg.map(|m| m.verify_seconds), 1);
    row("journal store size, MB", sqlite.journal_mb, pg.map(|m| m.journal_mb), 0);
    println!();

    println!("| proofs at {events} events, µs | SQLite | PostgreSQL | ratio PG/SQLite |");
    println!("|---|---|---|---|");
    row("inclusion, median", sqlite.inclusion.0, pg.map(|m| m.inclusion.0), 1);
    row("inclusion, p99", sqlite.inclusion.1, pg.map(|m| m.inclusion.1), 1);
    row("consistency, median", sqlite.consistency.0, pg.map(|m| m.consistency.0), 1);
    row("consistency, p99", sqlite.consistency.1, pg.map(|m| m.consistency.1), 1);
    println!();

    println!("| works ({works}) | SQLite | PostgreSQL | ratio PG/SQLite |");
    println!("|---|---|---|---|");
    row(
        &format!("works written/s, transactions of {WORK_BATCH}"),
        sqlite.works_written,
        pg.map(|m| m.works_written),
        0,
    );
    row("catalog load, seconds", sqlite.catalog_seconds, pg.map(|m| m.catalog_seconds), 2);
    row(
        &format!("register/s, one per transaction ({REGISTRATIONS} registrations)"),
        sqlite.registered,
        pg.map(|m| m.registered),
        1,
    );
    row("register, median ms", sqlite.register_ms.0, pg.map(|m| m.register_ms.0), 1);
    row("register, p99 ms", sqlite.register_ms.1, pg.map(|m| m.register_ms.1), 1);
    row("works store size, MB", sqlite.works_mb, pg.map(|m| m.works_mb), 0);
    println!();

    if let Some(pg) = pg {
        // Rates: PostgreSQL must reach half of SQLite's.
        let goals = [
            ("appends one by one", pg.one_by_one / sqlite.one_by_one),
            ("appends batched", pg.batched / sqlite.batched),
            ("verify", sqlite.verify_seconds / pg.verify_seconds),
        ];
        for (name, ratio) in goals {
            let verdict = if ratio >= 0.5 { "met" } else { "not met" };
            println!("goal {name}: PostgreSQL at {ratio:.2}x of SQLite's rate: {verdict}");
        }
    }
}
