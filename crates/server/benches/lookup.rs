//! Look-ups on the registry server under load: `cargo bench -p handprint-server --bench lookup
//! -- [--works 10000,100000] [--seconds 5] [--clients 1,8,64] [--images DIR] [--decodes N]
//! [--soak SECONDS]`.
//!
//! For each number of works N (each in a process of its own, so that one server's memory
//! does not count in the next), a server data directory is filled with N published works
//! without going through publication: the works of the query images (fingerprinted from the
//! images themselves) and random fingerprints as the registry's store bench builds them
//! (9 PDQ codes, 256 local features, a 64 px Kodak thumbnail), written in transactions of
//! 1,000 with a `publications` row each (look-ups answer only published works). The server
//! then runs in this process on loopback with a rate limit that never bites and one decoder
//! per core (`--decodes` to change), and for each number of concurrent clients (blocking
//! threads, one keep-alive HTTP agent each) for S seconds:
//! - `GET /v1/lookup?pdq=HEX`: half the hashes are published works' with 4 bits flipped
//!   (each finds its work), half random (finding nothing);
//! - `POST /v1/lookup` with a JPEG of about 0.4 MP (the images of `--images`, by default
//!   the 24 Kodak photographs when present, else the three in crates/fingerprint/tests/data).
//!
//! Requests per second count answers of 200 alone; p50 and p99 are their latencies as the
//! clients see them; every other answer (503 when every decoder is busy, ...) is counted as
//! an error by status. For hash look-ups the server's own mean time (from its metrics) is
//! shown too: what it spends inside, without the clients' share of the cores. The image
//! rate is compared with what `handprint scan` does on the same JPEGs with one thread per
//! core in one process (decode, fingerprint, catalog search), and with the server's own
//! look-up called in-process (which also reads Content Credentials and detects the
//! watermark); one thread then times each step of an image look-up and of a hash look-up.
//!
//! Publish-to-findable: a sealed image is published through the API, then its PDQ hash is
//! asked for until found, from the same server and from a second server process sharing
//! the SQLite file. The process's resident memory is printed after every cell;
//! `--soak SECONDS` instead runs mixed load (one image look-up in ten) with 8 clients on
//! the first N for that long, printing the memory every 30 s.
//!
//! Clients and server share the machine's cores: the rates are those of the whole.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use fingerprint::catalog::PDQ_RADIUS;
use fingerprint::decode::{Decoded, Format, Limits as DecodeLimits, Rgb};
use fingerprint::features::{Feature, Features};
use fingerprint::pdq::Dihedral;
use fingerprint::prints::{self, Fingerprint};
use fingerprint::{Pdq, PdqHash};
use fixtures::images::Picture;
use fixtures::rng::XorShift;
use ledger::Hash;
use registry::identity::{self, PublicIdentity};
use registry::seal::SealOptions;
use registry::search::SearchIndex;
use registry::store::PublicationRow;
use registry::verify_image::VerifyOptions;
use registry::works::{NewWork, Scanned};
use registry::{Registry, Store};

const WORK_BATCH: usize = 1_000;
/// Synthetic publications take log indexes from here up, clear of the indexes the server's
/// own log gives the works published during the run.
const LOG_OFFSET: u64 = 1 << 40;
const JPEG_QUALITY: u8 = 85;
const TARGET_PIXELS: f64 = 400_000.0;
const SOAK_CLIENTS: usize = 8;
/// The store a server keeps in its data directory when no database is named.
const STORE_FILE: &str = "registry.sqlite";

// --- options ---

struct Options {
    works: Vec<usize>,
    seconds: f64,
    clients: Vec<usize>,
    images: PathBuf,
    decodes: usize,
    soak: Option<u64>,
}

fn value<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).map(String::as_str)
}

fn list(args: &[String], name: &str, default: &[usize]) -> Vec<usize> {
    match value(args, name) {
        None => default.to_vec(),
        Some(v) => v
            .split(',')
            .map(|n| {
                n.trim()
                    .parse()
                    .unwrap_or_else(|_| panic!("{name} takes numbers separated by commas, not {v:?}"))
            })
            .collect(),
    }
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

fn options(args: &[String]) -> Options {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let images = match value(args, "--images") {
        Some(dir) => PathBuf::from(dir),
        None => {
            let kodak = root.join("../shared/data/kodak");
            if kodak.is_dir() { kodak } else { root.join("crates/fingerprint/tests/data") }
        }
    };
    let number = |name: &str| {
        value(args, name)
            .map(|v| v.parse::<f64>().unwrap_or_else(|_| panic!("{name} takes a number, not {v:?}")))
    };
    Options {
        works: list(args, "--works", &[10_000, 100_000]),
        seconds: number("--seconds").unwrap_or(5.0),
        clients: list(args, "--clients", &[1, 8, 64]),
        images,
        decodes: number("--decodes").map_or(cores(), |d| d as usize),
        soak: number("--soak").map(|s| s as u64),
    }
}

// --- memory ---

fn rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|k| k.parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

// --- the query images ---

/// One query image: the picture (about 0.4 MP) and its JPEG.
struct Query {
    name: String,
    picture: Picture,
    jpeg: Vec<u8>,
}

/// The PNG and JPEG files of `dir`, each scaled down to about 0.4 MP and encoded as JPEG.
fn queries(dir: &Path) -> Vec<Query> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let ext = p.extension().map(|e| e.to_string_lossy().to_lowercase()).unwrap_or_default();
            matches!(ext.as_str(), "png" | "jpg" | "jpeg")
        })
        .collect();
    paths.sort();
    let out: Vec<Query> = paths
        .iter()
        .map(|path| {
            let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let decoded = fingerprint::decode::decode(&bytes, &DecodeLimits::DEFAULT)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let image = scaled(&decoded.image);
            let picture = Picture { width: image.width, height: image.height, rgb: image.pixels };
            let jpeg = picture.jpeg(JPEG_QUALITY);
            Query { name: path.file_name().unwrap().to_string_lossy().into_owned(), picture, jpeg }
        })
        .collect();
    assert!(!out.is_empty(), "{}: no PNG or JPEG images", dir.display());
    out
}

/// `image` scaled down to about [`TARGET_PIXELS`] when it is larger.
fn scaled(image: &Rgb) -> Rgb {
    let pixels = image.width as f64 * image.height as f64;
    if pixels <= TARGET_PIXELS * 1.1 {
        return image.clone();
    }
    let long = image.width.max(image.height) as f64;
    prints::thumbnail(image, (long * (TARGET_PIXELS / pixels).sqrt()) as u32)
}

// --- works, as the registry's store bench builds them ---

fn random_hash(rng: &mut XorShift) -> PdqHash {
    PdqHash(std::array::from_fn(|_| rng.next_u64() as u16))
}

fn random_print(rng: &mut XorShift) -> Fingerprint {
    let mut hash = || random_hash(rng);
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

/// Work `i`: a random fingerprint over `image`, under a unique SHA-256.
fn synthetic(i: usize, image: &Rgb, rng: &mut XorShift) -> Scanned {
    Scanned {
        path: format!("{i:07}.png").into(),
        sha256: Hash::of(&(i as u64).to_le_bytes()),
        decoded: Decoded { image: image.clone(), format: Format::Png, declared: (768, 512), frames: None },
        fingerprint: random_print(rng),
    }
}

fn publication(work: i64) -> PublicationRow {
    PublicationRow {
        work,
        log_index: LOG_OFFSET + work as u64,
        creator_key: "synthetic".into(),
        manifest_id: None,
        domain: None,
        disputes: vec![],
        evidence_public: false,
        withdrawn: None,
    }
}

/// What building a data directory gave: the PDQ hashes of the synthetic works, and times.
struct Built {
    hashes: Vec<PdqHash>,
    seconds: f64,
    store_mb: f64,
}

/// Fills `data`'s store with `n` published works: the query images' own, then random ones.
fn build(data: &Path, n: usize, queries: &[Query]) -> Built {
    let t = Instant::now();
    let path = data.join(STORE_FILE);
    let store = Store::open(&path).unwrap();
    let by = PublicIdentity {
        format: "handprint.identity/1".into(),
        name: "Bench".into(),
        public_key: "AAAA".into(),
        created: "2026-01-01T00:00:00Z".into(),
    };
    let real: Vec<NewWork> = queries
        .iter()
        .map(|q| {
            let scanned =
                Scanned::from_bytes(Path::new(&q.name), &q.picture.png(), &DecodeLimits::DEFAULT).unwrap();
            NewWork::from_scanned(None, &scanned, &q.name, None, &by)
        })
        .collect();
    let kodak = fixtures::images::kodak("kodim01");
    let small = prints::thumbnail(&Rgb { width: kodak.width, height: kodak.height, pixels: kodak.rgb }, 64);
    let mut rng = XorShift::new(0x1234_5678_9ABC_DEF1);
    let synthetic_total = n.saturating_sub(real.len());
    let mut hashes = Vec::with_capacity(synthetic_total);
    let (mut pending, mut made, mut written) = (real, 0, 0);
    loop {
        let mut batch = std::mem::take(&mut pending);
        let count = WORK_BATCH.saturating_sub(batch.len()).min(synthetic_total - made);
        for i in made..made + count {
            let s = synthetic(i, &small, &mut rng);
            hashes.push(s.fingerprint.pdq.original);
            batch.push(NewWork::from_scanned(None, &s, &format!("work {i}"), None, &by));
        }
        made += count;
        if batch.is_empty() {
            break;
        }
        store
            .transaction(|tx| {
                for w in &batch {
                    let id = tx.insert_work(w)?;
                    tx.insert_publication(&publication(id), &[])?;
                }
                Ok(())
            })
            .unwrap();
        written += batch.len();
        if written % 20_000 < WORK_BATCH {
            eprintln!("[{n}] {written} works, {:.0} s", t.elapsed().as_secs_f64());
        }
    }
    drop(store);
    let wal = path.with_file_name(format!("{}-wal", path.file_name().unwrap().to_string_lossy()));
    let store_mb = [path.as_path(), wal.as_path()]
        .iter()
        .map(|p| std::fs::metadata(p).map_or(0, |m| m.len()))
        .sum::<u64>() as f64
        / 1e6;
    Built { hashes, seconds: t.elapsed().as_secs_f64(), store_mb }
}

// --- the server ---

fn limits(decodes: usize) -> server::Limits {
    server::Limits { rate: 1e9, burst: 1e9, decodes, ..Default::default() }
}

/// A server over `data` on a free loopback port, on its own runtime thread; its base URL.
fn start(data: &Path, decodes: usize) -> String {
    let config = server::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data: data.to_path_buf(),
        database: None,
        public_url: None,
        limits: limits(decodes),
        domains: Default::default(),
        matchers: Vec::new(),
    };
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        if let Err(e) = runtime.block_on(server::serve(config, move |addr| tx.send(addr).unwrap())) {
            eprintln!("server stopped: {e}");
        }
    });
    let addr = rx.recv_timeout(Duration::from_secs(600)).expect("the server starts");
    format!("http://{addr}")
}

/// `--serve DATA`: the second server process. Prints its URL, serves until its standard
/// input closes (when the bench that started it ends).
fn serve_child(data: &Path, decodes: usize) -> ! {
    let url = start(data, decodes);
    println!("listening {url}");
    std::thread::spawn(|| {
        let _ = std::io::stdin().lines().count();
        std::process::exit(0);
    });
    loop {
        std::thread::park();
    }
}

/// A second server process over the same data directory (and so the same SQLite file).
struct Second {
    child: std::process::Child,
    url: String,
}

impl Second {
    fn start(data: &Path, decodes: usize) -> Second {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .arg("--serve")
            .arg(data)
            .arg("--decodes")
            .arg(decodes.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let url = line.trim().strip_prefix("listening ").expect("the second server starts").to_owned();
        Second { child, url }
    }
}

impl Drop for Second {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

// --- clients ---

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .new_agent()
}

#[derive(Clone, Copy)]
enum Request<'a> {
    Hash(PdqHash),
    Image(&'a [u8]),
}

/// Sends `request`; its status (0 when the connection failed) and body.
fn send(agent: &ureq::Agent, url: &str, request: Request) -> (u16, Vec<u8>) {
    let answer = match request {
        Request::Hash(h) => agent.get(format!("{url}/v1/lookup?pdq={}", h.to_hex())).call(),
        Request::Image(jpeg) => agent.post(format!("{url}/v1/lookup")).content_type("image/jpeg").send(jpeg),
    };
    match answer {
        Ok(mut r) => {
            let status = r.status().as_u16();
            (status, r.body_mut().with_config().limit(64 << 20).read_to_vec().unwrap_or_default())
        }
        Err(_) => (0, Vec::new()),
    }
}

/// A published work's hash with 4 bits flipped, or a random hash, in turn.
fn hash_query(i: usize, hashes: &[PdqHash], rng: &mut XorShift) -> PdqHash {
    if i.is_multiple_of(2) {
        let mut h = hashes[(rng.next_u64() % hashes.len() as u64) as usize];
        for _ in 0..4 {
            let b = (rng.next_u64() % 256) as usize;
            h.0[b / 16] ^= 1 << (b % 16);
        }
        h
    } else {
        random_hash(rng)
    }
}

/// What the clients of one cell saw.
#[derive(Default)]
struct Load {
    seconds: f64,
    /// Latencies of the answers of 200, ms.
    ok: Vec<f64>,
    /// Other answers by status (0: no answer).
    errors: BTreeMap<u16, usize>,
}

impl Load {
    fn rate(&self) -> f64 {
        self.ok.len() as f64 / self.seconds
    }

    fn percentiles(&self) -> (f64, f64) {
        let mut s = self.ok.clone();
        s.sort_by(f64::total_cmp);
        if s.is_empty() {
            return (f64::NAN, f64::NAN);
        }
        let at = |p: f64| s[((s.len() - 1) as f64 * p).round() as usize];
        (at(0.5), at(0.99))
    }

    fn errors(&self) -> String {
        if self.errors.is_empty() {
            return "0".into();
        }
        self.errors.iter().map(|(status, n)| format!("{n} ({status})")).collect::<Vec<_>>().join(", ")
    }
}

/// `clients` threads, each sending the requests `pick` chooses (by client and count) for
/// `seconds`.
fn load<'a>(
    url: &str,
    clients: usize,
    seconds: f64,
    pick: &(dyn Fn(usize, usize, &mut XorShift) -> Request<'a> + Sync),
) -> Load {
    let barrier = Arc::new(Barrier::new(clients));
    let mut started = Instant::now();
    let results: Vec<Load> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..clients)
            .map(|c| {
                let barrier = barrier.clone();
                scope.spawn(move || {
                    let agent = agent();
                    let mut rng = XorShift::new(0x9E37_79B9_7F4A_7C15 ^ (c as u64 + 1));
                    let mut out = Load::default();
                    barrier.wait();
                    let end = Instant::now() + Duration::from_secs_f64(seconds);
                    let mut i = 0;
                    while Instant::now() < end {
                        let request = pick(c, i, &mut rng);
                        let t = Instant::now();
                        let (status, _) = send(&agent, url, request);
                        let ms = t.elapsed().as_secs_f64() * 1e3;
                        if status == 200 {
                            out.ok.push(ms);
                        } else {
                            *out.errors.entry(status).or_default() += 1;
                        }
                        i += 1;
                    }
                    out
                })
            })
            .collect();
        started = Instant::now();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut total = Load { seconds: started.elapsed().as_secs_f64().max(seconds), ..Load::default() };
    for r in results {
        total.ok.extend(r.ok);
        for (status, n) in r.errors {
            *total.errors.entry(status).or_default() += n;
        }
    }
    total
}

/// The server's own count of `/v1/lookup` answers and the seconds they took in all, from
/// its metrics.
fn server_time(url: &str) -> (f64, f64) {
    let (_, body) = send_get(&agent(), &format!("{url}/metrics"));
    let text = String::from_utf8_lossy(&body);
    let metric = |name: &str| {
        let prefix = format!("handprint_request_seconds_{name}{{route=\"/v1/lookup\"}} ");
        text.lines()
            .find_map(|l| l.strip_prefix(prefix.as_str()))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0.0)
    };
    (metric("count"), metric("sum"))
}

fn send_get(agent: &ureq::Agent, url: &str) -> (u16, Vec<u8>) {
    match agent.get(url).call() {
        Ok(mut r) => (r.status().as_u16(), r.body_mut().read_to_vec().unwrap_or_default()),
        Err(_) => (0, Vec::new()),
    }
}

/// Claims in a look-up's answer.
fn claims(body: &[u8]) -> usize {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v["claims"].as_array().map(Vec::len))
        .unwrap_or(0)
}

// --- in-process baselines ---

/// Images per second over `seconds`, one thread per core, each running `f` on the images in
/// turn.
fn per_second(seconds: f64, jpegs: &[&[u8]], f: &(dyn Fn(&[u8]) + Sync)) -> f64 {
    let threads = cores();
    let counts: Vec<usize> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                scope.spawn(move || {
                    let end = Instant::now() + Duration::from_secs_f64(seconds);
                    let mut i = t;
                    let mut done = 0;
                    while Instant::now() < end {
                        f(jpegs[i % jpegs.len()]);
                        i += 1;
                        done += 1;
                    }
                    done
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    counts.iter().sum::<usize>() as f64 / seconds
}

/// Milliseconds `f` takes.
fn ms(f: impl FnOnce()) -> f64 {
    let t = Instant::now();
    f();
    t.elapsed().as_secs_f64() * 1e3
}

/// Where one image look-up's time goes, on one thread: the steps the server takes, and the
/// whole `lookup::lookup_image`, each mean over every image twice. The steps of one image
/// are timed one after the other, so that other work on the machine weighs on all alike.
fn image_steps(jpegs: &[&[u8]], index: &SearchIndex, store: &Store) -> Vec<(&'static str, f64)> {
    let limits = registry::verify_image::VERIFY_LIMITS;
    let name = Path::new("query.jpg");
    let mut t = [0.0; 5];
    for _ in 0..2 {
        for j in jpegs {
            let scanned = Scanned::from_bytes(name, j, &limits).unwrap();
            t[0] += ms(|| drop(std::hint::black_box(fingerprint::decode::decode(j, &limits).unwrap())));
            t[1] += ms(|| drop(std::hint::black_box(prints::fingerprint(&scanned.decoded.image))));
            t[2] += ms(|| drop(std::hint::black_box(index.matches(store, &scanned).unwrap())));
            t[3] += ms(|| {
                drop(std::hint::black_box(registry::marking::detect_image(name, &scanned.decoded.image)))
            });
            t[4] += ms(|| {
                let found =
                    registry::lookup::lookup_image(store, index, name, j, &VerifyOptions::default(), false);
                drop(std::hint::black_box(found.unwrap()));
            });
        }
    }
    let [decode, print, search, watermark, whole] = t.map(|x| x / (2 * jpegs.len()) as f64);
    vec![
        ("decode (JPEG)", decode),
        ("fingerprint (PDQ and local features)", print),
        ("catalog search (`SearchIndex::matches`)", search),
        ("watermark detection (`marking::detect_image`)", watermark),
        ("the rest (Content Credentials, metadata, claims)", whole - decode - print - search - watermark),
        ("the whole `lookup::lookup_image`", whole),
    ]
}

/// One PDQ hash look-up on one thread, in microseconds (mean over 20,000 queries, half
/// finding a work): the catalog's search, and the whole `lookup::lookup_pdq` (which also
/// reads each work's publication from the store).
fn hash_steps(hashes: &[PdqHash], index: &SearchIndex, store: &Store) -> (f64, f64) {
    let mut rng = XorShift::new(11);
    let queries: Vec<PdqHash> = (0..20_000).map(|i| hash_query(i, hashes, &mut rng)).collect();
    let search = ms(|| {
        for q in &queries {
            std::hint::black_box(index.catalog.search_code(&fingerprint::catalog::code(q), PDQ_RADIUS));
        }
    });
    let whole = ms(|| {
        for q in &queries {
            std::hint::black_box(registry::lookup::lookup_pdq(store, index, q, PDQ_RADIUS).unwrap());
        }
    });
    (search * 1e3 / queries.len() as f64, whole * 1e3 / queries.len() as f64)
}

// --- publish-to-findable ---

/// A creator with an identity and a project, sealing works in their own directory.
struct Creator {
    dir: tempfile::TempDir,
    reg: Registry,
    id: registry::identity::Identity,
}

impl Creator {
    fn new() -> Creator {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        identity::create(&home, "Creator", None).unwrap();
        let reg = Registry::open(&home).unwrap();
        let id = reg.signer(None).unwrap();
        reg.create_project("works").unwrap();
        Creator { dir, reg, id }
    }

    /// Seals `picture`; the sealed PNG's path and its PDQ hash.
    fn seal(&mut self, picture: &Picture, title: &str) -> (PathBuf, PdqHash) {
        let input = self.dir.path().join(format!("{title}.png"));
        std::fs::write(&input, picture.png()).unwrap();
        let output = self.dir.path().join(format!("{title}.sealed.png"));
        let options = SealOptions {
            project: "works",
            title,
            license: Some("CC-BY-4.0"),
            import: true,
            visible_label: None,
            source_type: Some("digitalCapture"),
            tsa: None,
            output: &output,
        };
        self.reg.seal(&self.id, &input, &options).unwrap();
        let decoded =
            fingerprint::decode::decode(&std::fs::read(&output).unwrap(), &DecodeLimits::DEFAULT).unwrap();
        (output, prints::fingerprint(&decoded.image).pdq.original)
    }

    /// Publishes `path` to `url`; the seconds the request took.
    fn publish(&self, url: &str, path: &Path) -> f64 {
        let server = registry::remote::Server::new(url).unwrap();
        let p = registry::remote::Publish {
            creator: &self.id.public.name,
            title: None,
            license: Some("CC-BY-4.0"),
            evidence: None,
            domain: None,
        };
        let t = Instant::now();
        let answer = server.publish(&self.id.key, path, &p).unwrap();
        assert!(answer.get("work").is_some(), "publication refused: {answer}");
        t.elapsed().as_secs_f64()
    }
}

/// Milliseconds until `url` finds `hash`, asking every millisecond (up to 30 s).
fn until_found(url: &str, hash: &PdqHash) -> f64 {
    let agent = agent();
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(30) {
        let (status, body) = send(&agent, url, Request::Hash(*hash));
        if status == 200 && claims(&body) > 0 {
            return t.elapsed().as_secs_f64() * 1e3;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    f64::INFINITY
}

// --- one number of works ---

fn run(n: usize, o: &Options) {
    let queries = queries(&o.images);
    let jpegs: Vec<&[u8]> = queries.iter().map(|q| q.jpeg.as_slice()).collect();
    let mean_kb = jpegs.iter().map(|j| j.len()).sum::<usize>() as f64 / jpegs.len() as f64 / 1e3;
    let data = tempfile::tempdir().unwrap();
    eprintln!("[{n}] building the data directory");
    let built = build(data.path(), n, &queries);
    let rss_before = rss_mb();
    let t = Instant::now();
    let url = start(data.path(), o.decodes);
    let start_seconds = t.elapsed().as_secs_f64();
    let rss_started = rss_mb();

    // The answers are what they should be before anything is timed.
    let agent = agent();
    let mut rng = XorShift::new(7);
    let (status, body) = send(&agent, &url, Request::Hash(hash_query(0, &built.hashes, &mut rng)));
    assert!(status == 200 && claims(&body) == 1, "a published hash is not found: {status}");
    for q in &queries {
        let (status, body) = send(&agent, &url, Request::Image(&q.jpeg));
        assert!(status == 200 && claims(&body) >= 1, "{}: the image is not found: {status}", q.name);
    }

    if let Some(soak) = o.soak {
        return soak_run(n, &url, &built, &jpegs, soak);
    }

    println!("## {n} published works\n");
    println!(
        "built in {:.1} s ({:.0} works/s, store {:.0} MB); server start (index load) {:.2} s; \
         RSS {:.0} MB before the server, {:.0} MB once it listens\n",
        built.seconds,
        n as f64 / built.seconds,
        built.store_mb,
        start_seconds,
        rss_before,
        rss_started
    );
    println!(
        "| look-up | clients | requests/s (200) | p50 ms | p99 ms | server's mean ms | errors (status) | RSS after, MB |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let mut best_image: f64 = 0.0;
    let mut hash_cells = Vec::new();
    for &clients in &o.clients {
        eprintln!("[{n}] PDQ hash look-ups, {clients} clients");
        let hashes = &built.hashes;
        let before = server_time(&url);
        let cell = load(&url, clients, o.seconds, &|_, i, rng| Request::Hash(hash_query(i, hashes, rng)));
        let after = server_time(&url);
        let server_ms = (after.1 - before.1) / (after.0 - before.0) * 1e3;
        let (p50, p99) = cell.percentiles();
        println!(
            "| PDQ hash | {clients} | {:.0} | {p50:.2} | {p99:.2} | {server_ms:.2} | {} | {:.0} |",
            cell.rate(),
            cell.errors(),
            rss_mb()
        );
        hash_cells.push((clients, cell.rate(), p99));
    }
    for &clients in &o.clients {
        eprintln!("[{n}] image look-ups, {clients} clients");
        let cell = load(&url, clients, o.seconds, &|c, i, _| Request::Image(jpegs[(c + i) % jpegs.len()]));
        let (p50, p99) = cell.percentiles();
        println!(
            "| image ({} JPEGs, {mean_kb:.0} KB mean) | {clients} | {:.1} | {p50:.1} | {p99:.1} | | {} | {:.0} |",
            jpegs.len(),
            cell.rate(),
            cell.errors(),
            rss_mb()
        );
        best_image = best_image.max(cell.rate());
    }
    println!();

    eprintln!("[{n}] in-process baselines");
    let path = data.path().join(STORE_FILE);
    let index = SearchIndex::load(&Store::open(&path).unwrap()).unwrap();
    let scan_limits = DecodeLimits { jpeg_scale_to: Some(512), ..DecodeLimits::DEFAULT };
    // As `handprint scan` does: one store, locked only to read the record of a work found.
    let records = std::sync::Mutex::new(Store::open(&path).unwrap());
    let scan = per_second(o.seconds, &jpegs, &|jpeg| {
        let scanned = Scanned::from_bytes(Path::new("query.jpg"), jpeg, &scan_limits).unwrap();
        let record = |id| records.lock().unwrap().work(id);
        std::hint::black_box(index.scan(&scanned, record).unwrap());
    });
    let stores: Vec<std::sync::Mutex<Store>> =
        (0..cores()).map(|_| std::sync::Mutex::new(Store::open(&path).unwrap())).collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let in_process = per_second(o.seconds, &jpegs, &|jpeg| {
        let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % stores.len();
        let store = stores[k].lock().unwrap();
        let found = registry::lookup::lookup_image(
            &store,
            &index,
            Path::new("upload"),
            jpeg,
            &VerifyOptions::default(),
            false,
        );
        assert!(!found.unwrap().claims.is_empty());
    });
    drop(stores);
    let store = Store::open(&path).unwrap();
    let steps = image_steps(&jpegs, &index, &store);
    let (search_us, lookup_us) = hash_steps(&built.hashes, &index, &store);
    drop(store);
    println!("| image look-ups in one process, {} threads | images/s |", cores());
    println!("|---|---|");
    println!("| `handprint scan` equivalent (decode, fingerprint, catalog search) | {scan:.1} |");
    println!(
        "| the server's look-up called in-process (also Content Credentials, watermark) | {in_process:.1} |"
    );
    println!("| best server image look-ups/s over HTTP | {best_image:.1} |");
    println!("| ratio server ÷ scan (goal ≥ 0.80) | {:.2} |", best_image / scan);
    println!();
    println!("| one image look-up by step, one thread | ms (mean) |");
    println!("|---|---|");
    for (step, ms) in &steps {
        println!("| {step} | {ms:.1} |");
    }
    println!();
    println!("| one PDQ hash look-up in-process, one thread | µs (mean) |");
    println!("|---|---|");
    println!("| catalog search (`Catalog::search_code`, radius {PDQ_RADIUS}) | {search_us:.1} |");
    println!("| the whole `lookup::lookup_pdq` (with the publication rows) | {lookup_us:.1} |");
    println!();
    drop(index);

    eprintln!("[{n}] publish-to-findable");
    let mut creator = Creator::new();
    let (sealed, hash) = creator.seal(&fixtures::images::kodak("kodim01").crop(0, 0, 640, 448), "first");
    let publish_same = creator.publish(&url, &sealed);
    let found_same = until_found(&url, &hash);
    let second = Second::start(data.path(), o.decodes);
    let (sealed, hash) = creator.seal(&fixtures::images::kodak("kodim04").crop(0, 0, 448, 640), "second");
    let t = Instant::now();
    let publish_other = creator.publish(&url, &sealed);
    let found_other = until_found(&second.url, &hash);
    let since_publish_start = t.elapsed().as_secs_f64() * 1e3;
    drop(second);
    println!("| publish-to-findable (goal ≤ 1 s) | ms |");
    println!("|---|---|");
    println!("| publish request (same server) | {:.0} |", publish_same * 1e3);
    println!("| found by the same server, after the publish answered | {found_same:.1} |");
    println!("| publish request (second case) | {:.0} |", publish_other * 1e3);
    println!(
        "| found by a second server process sharing the SQLite file, after the publish answered | {found_other:.1} |"
    );
    println!("| the same, from the start of the publish request | {since_publish_start:.0} |");
    println!();

    for (clients, rate, p99) in hash_cells {
        let met = rate >= 5_000.0 && p99 <= 20.0;
        println!(
            "goal hash look-ups ≥ 5,000/s with p99 ≤ 20 ms, {clients} clients: {rate:.0}/s, p99 {p99:.2} ms: {}",
            if met { "met" } else { "not met" }
        );
    }
    let ratio = best_image / scan;
    println!(
        "goal image look-ups ≥ 80% of scan: {:.0}%: {}",
        ratio * 100.0,
        if ratio >= 0.8 { "met" } else { "not met" }
    );
    let worst = found_same.max(found_other);
    println!(
        "goal publish-to-findable ≤ 1 s: {worst:.0} ms: {}\n",
        if worst <= 1_000.0 { "met" } else { "not met" }
    );
}

/// Mixed load for `seconds`: [`SOAK_CLIENTS`] clients, one image look-up in ten, the rest
/// hashes; the memory every 30 s.
fn soak_run(n: usize, url: &str, built: &Built, jpegs: &[&[u8]], seconds: u64) {
    println!("## Soak: {n} published works, {SOAK_CLIENTS} clients, one image look-up in ten\n");
    println!("| minute | RSS MB | requests/s (200) | p99 ms | errors (status) |");
    println!("|---|---|---|---|---|");
    println!("| 0.0 | {:.0} | | | |", rss_mb());
    let mut elapsed = 0;
    while elapsed < seconds {
        let step = 30.min(seconds - elapsed);
        let cell = load(url, SOAK_CLIENTS, step as f64, &|c, i, rng| {
            if (c + i).is_multiple_of(10) {
                Request::Image(jpegs[(c + i) % jpegs.len()])
            } else {
                Request::Hash(hash_query(i, &built.hashes, rng))
            }
        });
        elapsed += step;
        println!(
            "| {:.1} | {:.0} | {:.0} | {:.2} | {} |",
            elapsed as f64 / 60.0,
            rss_mb(),
            cell.rate(),
            cell.percentiles().1,
            cell.errors()
        );
    }
    println!();
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let o = options(&args);
    if let Some(data) = value(&args, "--serve") {
        serve_child(Path::new(data), o.decodes);
    }
    if !args.iter().any(|a| a == "--child") {
        println!("## Registry server look-ups\n");
        println!("| machine | |");
        println!("|---|---|");
        println!("| cores | {} (clients and server share them) |", cores());
        let images = o.images.canonicalize().unwrap_or_else(|_| o.images.clone());
        println!("| images | {} |", images.display());
        println!(
            "| per cell | {} s; rate limit off, {} decoders, clients {:?} |\n",
            o.seconds, o.decodes, o.clients
        );
    }
    if o.works.len() == 1 || o.soak.is_some() {
        return run(o.works[0], &o);
    }
    // Each number of works in a process of its own: a server runs until its process ends.
    for &n in &o.works {
        let mut child_args: Vec<String> = Vec::new();
        let mut rest = args.iter().skip(1);
        while let Some(a) = rest.next() {
            if a == "--works" {
                rest.next();
            } else {
                child_args.push(a.clone());
            }
        }
        let status = Command::new(std::env::current_exe().unwrap())
            .args(&child_args)
            .args(["--child", "--works", &n.to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "the run at {n} works failed");
    }
}
