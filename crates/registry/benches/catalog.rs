//! The works catalog at scale: `cargo bench -p handprint-registry --bench catalog -- --works N`.
//!
//! Builds a catalog snapshot of N works on disk, then opens it as a process starting up would
//! and prints: the time to build and to open it (the first answer waits for the open), the
//! memory held (anonymous and file-backed pages apart: the snapshot is mapped), search
//! latency (median, p99) over planted copies and unrelated photos, recall of the planted
//! copies, false matches, and recall of the PDQ index against a full scan of every code.
//!
//! Works have the statistics of real photos: they come from `handprint-corpus`, a pool of
//! tiles and crops of real photos (`--photos DIR`, repeatable; default `target/photos`, which
//! `scripts/photos.sh` fills, and the Kodak suite at `../shared/data/kodak` when present).
//! `--uniform` draws every bit at random instead, as earlier versions of this bench did.
//! Planted copies: `--planted K` photos (whole, fingerprinted for real) are registered among
//! the N works and searched for after each transform; as many other photos are never
//! registered and searched for as unrelated images. Neither's photo lends anything to the
//! synthetic works, so any other match is false.
//!
//! `--parts P` also holds the same works in P catalogs by `work ID mod P`, as P matcher
//! processes do, and compares every query's merged answer with the one catalog's.
//!
//! `--store W` measures the registry's own path instead: W works registered in a SQLite
//! store, then `SearchIndex::open` twice — the first builds and writes the snapshot, the
//! second reads it — as `handprint scan` and `handprint serve` start.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use corpus::generator::Generator;
use corpus::photos::{self, Transform};
use corpus::pool::{Pool, PoolConfig};
use fingerprint::catalog::{Builder, Catalog, PDQ_RADIUS, Variant, work_codes};
use fingerprint::decode::Rgb;
use fingerprint::features::{Feature, Features};
use fingerprint::index::{Code, hamming};
use fingerprint::prints::{self, Fingerprint};
use fingerprint::snapshot::{self, Position};

struct Args {
    works: u64,
    photos: Vec<PathBuf>,
    pool: PathBuf,
    dir: PathBuf,
    uniform: bool,
    planted: usize,
    keep: bool,
    reuse: bool,
    store: Option<u64>,
    oracle: usize,
    parts: Option<u64>,
}

fn args() -> Args {
    let argv: Vec<String> = std::env::args().collect();
    let value = |name: &str| argv.iter().position(|a| a == name).and_then(|i| argv.get(i + 1)).cloned();
    let number = |name: &str, default: u64| value(name).map_or(default, |v| v.parse().expect(name));
    let mut photos: Vec<PathBuf> =
        argv.windows(2).filter(|w| w[0] == "--photos").map(|w| PathBuf::from(&w[1])).collect();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    if photos.is_empty() {
        photos = [root.join("target/photos"), root.join("../shared/data/kodak")]
            .into_iter()
            .filter(|p| p.is_dir())
            .collect();
    }
    Args {
        works: number("--works", 100_000),
        photos,
        pool: value("--pool").map_or(root.join("target/corpus/pool.bin"), PathBuf::from),
        dir: value("--dir").map_or(root.join("target/corpus/catalog"), PathBuf::from),
        uniform: argv.iter().any(|a| a == "--uniform"),
        planted: number("--planted", 6) as usize,
        keep: argv.iter().any(|a| a == "--keep") || argv.iter().any(|a| a == "--reuse"),
        reuse: argv.iter().any(|a| a == "--reuse"),
        store: value("--store").map(|v| v.parse().expect("--store W")),
        oracle: number("--oracle", 100) as usize,
        parts: value("--parts").map(|v| v.parse().expect("--parts P")),
    }
}

/// Resident memory of this process in MiB: all, anonymous, file-backed.
fn rss() -> (f64, f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb = |key: &str| {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|k| k.parse::<f64>().ok())
            .unwrap_or(f64::NAN)
            / 1024.0
    };
    (kb("VmRSS:"), kb("RssAnon:"), kb("RssFile:"))
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn code(&mut self) -> Code {
        [self.next(), self.next(), self.next(), self.next()]
    }
}

/// A work of uniformly random bits, as the bench drew them before: flattering, for contrast.
fn uniform_work(i: u64) -> (Vec<(Variant, Code)>, Features) {
    let mut r = Rng(i.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let codes = Variant::ALL.iter().map(|v| (*v, r.code())).collect();
    let features = (0..256)
        .map(|_| Feature {
            x: (r.next() % 512) as f32,
            y: (r.next() % 341) as f32,
            scale: 1.0,
            angle: 0.0,
            descriptor: r.code(),
        })
        .collect();
    (codes, Features { width: 512, height: 341, features })
}

/// What a copier does to a photo before posting it.
type Transforms = Vec<(&'static str, Box<dyn Fn(&Rgb) -> Rgb>)>;

fn transforms() -> Transforms {
    let mut out: Transforms = vec![("as is", Box::new(|i: &Rgb| i.clone()))];
    for t in Transform::ALL {
        out.push((t.name(), Box::new(move |i: &Rgb| t.apply(i))));
    }
    out.push((
        "crop 60% of area",
        Box::new(|i: &Rgb| {
            let (w, h) = (i.width * 77 / 100, i.height * 77 / 100);
            photos::crop(i, [i.width / 10, i.height / 20, w, h])
        }),
    ));
    out.push((
        "mirror",
        Box::new(|i: &Rgb| {
            let (w, h) = (i.width as usize, i.height as usize);
            let mut pixels = vec![0u8; w * h * 3];
            for y in 0..h {
                for x in 0..w {
                    let (s, d) = (3 * (y * w + x), 3 * (y * w + w - 1 - x));
                    pixels[d..d + 3].copy_from_slice(&i.pixels[s..s + 3]);
                }
            }
            Rgb { width: i.width, height: i.height, pixels }
        }),
    ));
    out
}

fn main() {
    let a = args();
    if let Some(w) = a.store {
        return store_path(w);
    }
    std::fs::create_dir_all(&a.dir).expect("the catalog directory");

    // The photos planted and the unrelated ones, out of the pool's families.
    let pool = if a.uniform {
        None
    } else {
        assert!(
            !a.photos.is_empty(),
            "no photo folder: run scripts/photos.sh target/photos, or pass --photos DIR"
        );
        let t = Instant::now();
        let (pool, built) =
            Pool::load_or_build(&a.pool, &a.photos, &PoolConfig::default()).expect("the pool of real photos");
        eprintln!(
            "pool: {} photos, {} tiles, {} code sets ({} in {:.1} s)",
            pool.families.len(),
            pool.tiles.len(),
            pool.sets.len(),
            if built { "built" } else { "read" },
            t.elapsed().as_secs_f64()
        );
        Some(Arc::new(pool))
    };
    let listed = photos::list_folders(&a.photos).unwrap_or_default();
    let chosen: Vec<(String, PathBuf)> = listed.iter().rev().take(2 * a.planted).cloned().collect();
    let (planted, unrelated) = chosen.split_at(chosen.len() / 2);
    let generator = pool.as_ref().map(|p| {
        let out: Vec<u32> = chosen
            .iter()
            .filter_map(|(name, _)| p.families.iter().position(|f| f == name).map(|i| i as u32))
            .collect();
        Generator::new(p.clone(), 17).excluding(&out)
    });
    let read = |path: &PathBuf| photos::read_photo(path).expect("a photo");
    let planted: Vec<(i64, Rgb)> =
        planted.iter().enumerate().map(|(k, (_, p))| (a.works as i64 + 1 + k as i64, read(p))).collect();
    let unrelated: Vec<Rgb> = unrelated.iter().map(|(_, p)| read(p)).collect();

    // Build (or, with --reuse, take the snapshot a run with --keep left).
    let t = Instant::now();
    let reuse = a.reuse
        && snapshot::open(&a.dir)
            .ok()
            .flatten()
            .is_some_and(|(c, _)| c.works() as u64 == a.works + planted.len() as u64);
    if !reuse {
        let mut builder = Builder::new(&a.dir.join(snapshot::RECORDS_FILE)).expect("the records file");
        for i in 0..a.works {
            let (codes, features) = match &generator {
                Some(g) => {
                    let w = g.work(i);
                    (w.codes, w.features)
                }
                None => uniform_work(i),
            };
            builder.push(i as i64 + 1, &codes, &features).expect("a record");
            if i % 1_000_000 == 999_999 {
                eprintln!("built {} works in {:.0} s", i + 1, t.elapsed().as_secs_f64());
            }
        }
        for (id, image) in &planted {
            let f = prints::fingerprint(image);
            builder.push(*id, &work_codes(&f), &f.features).expect("a record");
        }
        let catalog = builder.finish().expect("the catalog");
        snapshot::write(&catalog, &a.dir, Position::default()).expect("the snapshot");
    }
    let build = t.elapsed().as_secs_f64();
    let size = |f: &str| std::fs::metadata(a.dir.join(f)).map_or(0.0, |m| m.len() as f64 / 1e9);
    let (index_gb, records_gb) = (size(snapshot::INDEX_FILE), size(snapshot::RECORDS_FILE));

    // Queries, fingerprinted before the catalog is opened.
    let kinds = transforms();
    let mut queries: Vec<(Option<i64>, &str, Fingerprint)> = Vec::new();
    for (id, image) in &planted {
        for (name, f) in &kinds {
            queries.push((Some(*id), name, prints::fingerprint(&f(image))));
        }
    }
    for image in &unrelated {
        for (name, f) in kinds.iter().take(3) {
            queries.push((None, name, prints::fingerprint(&f(image))));
        }
    }

    // Start: open the snapshot, as a process would.
    let before = rss();
    let t = Instant::now();
    let (catalog, _) = snapshot::open(&a.dir).expect("the snapshot").expect("written");
    let open = t.elapsed().as_secs_f64();
    let first = {
        let t = Instant::now();
        std::hint::black_box(catalog.search(&queries[0].2));
        t.elapsed().as_secs_f64() * 1e3
    };
    let opened = rss();

    let mut times = Vec::new();
    let (mut found, mut missed, mut false_matches) = (0, Vec::new(), 0);
    for _ in 0..3 {
        for (want, name, q) in &queries {
            let t = Instant::now();
            let matches = catalog.search(q);
            times.push(t.elapsed().as_secs_f64() * 1e3);
            if times.len() > queries.len() {
                continue;
            }
            match want {
                Some(id) if matches.iter().any(|m| m.work == *id) => found += 1,
                Some(id) => missed.push(format!("{name} of work {id}")),
                None => {}
            }
            false_matches += matches.iter().filter(|m| Some(m.work) != *want).count();
        }
    }
    times.sort_by(f64::total_cmp);
    let after = rss();
    // Where a search's time goes.
    let (mut global, mut votes) = (0.0, 0.0);
    for (_, _, q) in &queries {
        let t = Instant::now();
        std::hint::black_box(catalog.search_code(&fingerprint::catalog::code(&q.pdq.original), PDQ_RADIUS));
        if let Some((_, tr)) = &q.trimmed {
            std::hint::black_box(catalog.search_code(&fingerprint::catalog::code(&tr.hash), PDQ_RADIUS));
        }
        global += t.elapsed().as_secs_f64() * 1e3;
        let t = Instant::now();
        std::hint::black_box(catalog.candidates(q));
        votes += t.elapsed().as_secs_f64() * 1e3;
    }
    let mean = times.iter().sum::<f64>() / times.len() as f64;
    let (global, votes) = (global / queries.len() as f64, votes / queries.len() as f64);
    eprintln!(
        "mean search {mean:.2} ms: global codes {global:.2}, votes {votes:.2}, alignment and the rest {:.2}",
        mean - global - votes
    );

    // The PDQ index against a full scan of every code, for codes near planted copies and
    // for the works' own codes with bits flipped.
    let (recall, oracle_ms) = oracle(&catalog, &queries, a.oracle);

    println!(
        "| works | data | build s | snapshot GB (index + records) | open s | first search ms | RSS after open MiB (anon + file) | RSS after searches MiB (anon + file) | search median / p99 ms | planted found | false matches | PDQ recall vs full scan |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    let mib = |(_, anon, file): (f64, f64, f64), (_, a0, f0): (f64, f64, f64)| {
        format!("{:.0} ({:.0} + {:.0})", anon - a0 + file - f0, anon - a0, file - f0)
    };
    println!(
        "| {} | {} | {build:.0} | {:.2} + {:.2} | {open:.3} | {first:.1} | {} | {} | {:.2} / {:.2} | {found}/{} | {false_matches} | {recall} ({oracle_ms:.1} ms per scan) |",
        catalog.works(),
        if a.uniform { "uniform bits" } else { "real-photo corpus" },
        index_gb,
        records_gb,
        mib(opened, before),
        mib(after, before),
        percentile(&times, 0.5),
        percentile(&times, 0.99),
        planted.len() * kinds.len(),
    );
    for m in &missed {
        eprintln!("missed: {m}");
    }
    if let Some(p) = a.parts {
        compare_parts(p, a.works, generator.as_ref(), &planted, &catalog, &queries);
    }
    if !a.keep {
        let _ = std::fs::remove_file(a.dir.join(snapshot::RECORDS_FILE));
        let _ = std::fs::remove_file(a.dir.join(snapshot::INDEX_FILE));
    }
}

/// A work as a part's catalog is built from: ID, codes, features.
type PartWork = (i64, Vec<(Variant, Code)>, Features);

/// The works held in `p` catalogs by `ID mod p` (in memory), each query's answers merged
/// and ranked as `handprint serve --matchers` does, against the one catalog's answers.
fn compare_parts(
    p: u64,
    works: u64,
    generator: Option<&Generator>,
    planted: &[(i64, Rgb)],
    whole: &Catalog,
    queries: &[(Option<i64>, &str, Fingerprint)],
) {
    let t = Instant::now();
    let mut parts: Vec<Vec<PartWork>> = (0..p).map(|_| Vec::new()).collect();
    for i in 0..works {
        let (codes, features) = match generator {
            Some(g) => {
                let w = g.work(i);
                (w.codes, w.features)
            }
            None => uniform_work(i),
        };
        let id = i as i64 + 1;
        parts[(id as u64 % p) as usize].push((id, codes, features));
    }
    for (id, image) in planted {
        let f = prints::fingerprint(image);
        parts[(*id as u64 % p) as usize].push((*id, work_codes(&f), f.features));
    }
    let parts: Vec<Catalog> = parts.into_iter().map(Catalog::build).collect();
    let built = t.elapsed().as_secs_f64();
    let (mut same_answer, mut same_first, mut whole_in_parts, mut whole_found, mut parts_found) =
        (0, 0, 0, 0, 0);
    let (mut only_whole, mut only_parts, mut planted_whole, mut planted_parts) = (0, 0, 0, 0);
    for (want, name, q) in queries {
        let one: Vec<i64> = whole.search(q).into_iter().map(|m| m.work).collect();
        let mut merged: Vec<fingerprint::catalog::Match> = parts.iter().flat_map(|c| c.search(q)).collect();
        merged.sort_by(fingerprint::catalog::rank);
        let many: Vec<i64> = merged.into_iter().map(|m| m.work).collect();
        if one != many {
            eprintln!("{name} of work {want:?}: one catalog {one:?}, {p} parts {many:?}");
        }
        same_answer += (one == many) as usize;
        same_first += (one.first() == many.first()) as usize;
        whole_in_parts += one.iter().all(|w| many.contains(w)) as usize;
        whole_found += one.len();
        parts_found += many.len();
        only_whole += one.iter().filter(|w| !many.contains(w)).count();
        only_parts += many.iter().filter(|w| !one.contains(w)).count();
        if let Some(id) = want {
            planted_whole += one.contains(id) as usize;
            planted_parts += many.contains(id) as usize;
        }
    }
    println!();
    println!(
        "| parts | built in memory s | queries | same answer | same first work | every work of the one catalog's answer in the parts' | works found (one / parts) | found only by one / only by parts | planted found (one / parts) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    let n = queries.len();
    println!(
        "| {p} | {built:.0} | {n} | {same_answer}/{n} | {same_first}/{n} | {whole_in_parts}/{n} | {whole_found} / {parts_found} | {only_whole} / {only_parts} | {planted_whole} / {planted_parts} |"
    );
}

/// Radius-31 look-ups of `n` codes through the index and by scanning every code: the same
/// works must come back. Returns "found/expected" and the scan's time per code.
fn oracle(catalog: &Catalog, queries: &[(Option<i64>, &str, Fingerprint)], n: usize) -> (String, f64) {
    let codes = catalog.global_codes();
    let mut rng = Rng(99);
    let mut probes: Vec<Code> =
        queries.iter().map(|(_, _, f)| fingerprint::catalog::code(&f.pdq.original)).collect();
    while probes.len() < n {
        let mut c = codes[(rng.next() % codes.len().max(1) as u64) as usize].0;
        for _ in 0..(rng.next() % 32) {
            let b = rng.next() % 256;
            c[(b / 64) as usize] ^= 1 << (b % 64);
        }
        probes.push(c);
    }
    let (mut expected, mut got, mut scan) = (0, 0, 0.0);
    for q in &probes {
        let t = Instant::now();
        let mut want: Vec<i64> =
            codes.iter().filter(|(c, _)| hamming(q, c) <= PDQ_RADIUS).map(|(_, w)| *w).collect();
        scan += t.elapsed().as_secs_f64() * 1e3;
        want.sort_unstable();
        want.dedup();
        let have: Vec<i64> = catalog.search_code(q, PDQ_RADIUS).into_iter().map(|(w, _)| w).collect();
        expected += want.len();
        got += want.iter().filter(|w| have.contains(w)).count();
    }
    (format!("{got}/{expected}"), scan / probes.len() as f64)
}

/// The registry's own start: `SearchIndex::open` on a store of `w` works, twice.
fn store_path(w: u64) {
    use fingerprint::decode::{Decoded, Format};
    use registry::Store;
    use registry::identity::PublicIdentity;
    use registry::search::{Part, SearchIndex};
    use registry::works::Scanned;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("registry.sqlite");
    let store = Store::open(&path).unwrap();
    let by = PublicIdentity {
        format: "handprint.identity/1".into(),
        name: "Bench".into(),
        public_key: "AAAA".into(),
        created: "2026-01-01T00:00:00Z".into(),
    };
    let thumb = Rgb { width: 64, height: 43, pixels: vec![128; 64 * 43 * 3] };
    let t = Instant::now();
    for i in 0..w {
        let (codes, features) = uniform_work(i);
        let pdq = fingerprint::catalog::dihedral(&codes);
        let scanned = Scanned {
            path: format!("{i:07}.png").into(),
            sha256: ledger::Hash::of(&i.to_le_bytes()),
            decoded: Decoded {
                image: thumb.clone(),
                format: Format::Png,
                declared: (768, 512),
                frames: None,
            },
            fingerprint: Fingerprint { width: 768, height: 512, pdq, trimmed: None, features },
        };
        let work = registry::works::NewWork::from_scanned(None, &scanned, &format!("work {i}"), None, &by);
        store.transaction(|tx| tx.insert_work(&work)).unwrap();
    }
    let register = w as f64 / t.elapsed().as_secs_f64();
    let snap = dir.path().join("catalog");
    println!(
        "| works | register/s (durable) | first open (builds the snapshot) s | next open (reads it) s | RSS MiB (anon + file) |"
    );
    println!("|---|---|---|---|---|");
    let t = Instant::now();
    drop(SearchIndex::open(&store, &snap, Part::WHOLE).unwrap());
    let first = t.elapsed().as_secs_f64();
    let before = rss();
    let t = Instant::now();
    let index = SearchIndex::open(&store, &snap, Part::WHOLE).unwrap();
    let next = t.elapsed().as_secs_f64();
    let after = rss();
    assert_eq!(index.works() as u64, w);
    println!(
        "| {w} | {register:.0} | {first:.2} | {next:.3} | {:.0} ({:.0} + {:.0}) |",
        after.1 - before.1 + after.2 - before.2,
        after.1 - before.1,
        after.2 - before.2
    );
}
