//! The works catalog at start and in use: `cargo bench -p handprint-registry --bench catalog
//! -- [--works N]` (default 20,000).
//!
//! Registers N works with random fingerprints (9 PDQ codes and 256 local features each, as a
//! real work has) one transaction each, then prints: registrations per second, the store's
//! size, the time `Store::catalog` takes to read the store and build both indexes (what
//! `search` and `scan` do at start), the memory it holds, and search latency (median, p99)
//! for near-copies of registered works and for unrelated images.

use std::time::Instant;

use fingerprint::decode::{Decoded, Format, Rgb};
use fingerprint::features::{Feature, Features};
use fingerprint::pdq::Dihedral;
use fingerprint::prints::Fingerprint;
use fingerprint::{Pdq, PdqHash};
use ledger::Hash;
use registry::Store;
use registry::identity::PublicIdentity;
use registry::works::Scanned;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|k| k.parse::<f64>().ok())
        .unwrap_or(f64::NAN)
        / 1024.0
}

fn random_print(rng: &mut Rng) -> Fingerprint {
    let mut hash = || PdqHash(std::array::from_fn(|_| rng.next() as u16));
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
            x: (rng.next() % 512) as f32,
            y: (rng.next() % 341) as f32,
            scale: 1.0,
            angle: 0.0,
            descriptor: [rng.next(), rng.next(), rng.next(), rng.next()],
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

/// `f` with `bits` of every code and descriptor flipped: a near-copy.
fn perturb(f: &Fingerprint, rng: &mut Rng, bits: u32) -> Fingerprint {
    let mut g = f.clone();
    let mut flip = |words: &mut [u64; 4]| {
        for _ in 0..bits {
            let b = rng.next() % 256;
            words[(b / 64) as usize] ^= 1 << (b % 64);
        }
    };
    let mut h = [0u64; 4];
    for (w, chunk) in h.iter_mut().zip(g.pdq.original.0.chunks(4)) {
        *w = chunk.iter().enumerate().fold(0, |acc, (k, v)| acc | (*v as u64) << (16 * k));
    }
    flip(&mut h);
    g.pdq.original = PdqHash(std::array::from_fn(|i| (h[i / 4] >> (16 * (i % 4))) as u16));
    g.trimmed = None;
    for feat in &mut g.features.features {
        flip(&mut feat.descriptor);
    }
    g
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args
        .iter()
        .position(|a| a == "--works")
        .and_then(|i| args.get(i + 1))
        .map(|v| v.parse().expect("--works N"))
        .unwrap_or(20_000);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.sqlite3");
    let store = Store::open(&path).unwrap();
    let by = PublicIdentity {
        format: "handprint.identity/1".into(),
        name: "Bench".into(),
        public_key: "AAAA".into(),
        created: "2026-01-01T00:00:00Z".into(),
    };
    let thumb = Rgb { width: 64, height: 43, pixels: vec![128; 64 * 43 * 3] };
    let mut rng = Rng(0x1234_5678_9ABC_DEF1);
    let mut prints = Vec::with_capacity(n);
    let t = Instant::now();
    for i in 0..n {
        let f = random_print(&mut rng);
        let scanned = Scanned {
            path: format!("{i:07}.png").into(),
            sha256: Hash::of(&(i as u64).to_le_bytes()),
            decoded: Decoded {
                image: thumb.clone(),
                format: Format::Png,
                declared: (768, 512),
                frames: None,
            },
            fingerprint: f.clone(),
        };
        let work = registry::works::NewWork::from_scanned(None, &scanned, &format!("work {i}"), None, &by);
        store.transaction(|tx| tx.insert_work(&work)).unwrap();
        prints.push(f);
    }
    let register = n as f64 / t.elapsed().as_secs_f64();
    drop(store);
    let size = std::fs::metadata(&path).unwrap().len() as f64 / 1e6;
    let before = rss_mb();
    let t = Instant::now();
    let store = Store::open(&path).unwrap();
    let catalog = store.catalog().unwrap();
    let load = t.elapsed().as_secs_f64();
    let held = rss_mb() - before;
    assert_eq!(catalog.works(), n);
    let mut near = Vec::new();
    let mut far = Vec::new();
    for i in 0..200 {
        let f = &prints[(rng.next() % n as u64) as usize];
        let q = perturb(f, &mut rng, 12);
        let t = Instant::now();
        let found = catalog.search(&q);
        near.push(t.elapsed().as_secs_f64() * 1e3);
        assert!(found.iter().any(|m| m.global.is_some()), "near-copy {i} not found");
        let q = random_print(&mut rng);
        let t = Instant::now();
        std::hint::black_box(catalog.search(&q));
        far.push(t.elapsed().as_secs_f64() * 1e3);
    }
    near.sort_by(f64::total_cmp);
    far.sort_by(f64::total_cmp);
    println!(
        "| works | register/s (durable) | store MB | catalog load s | catalog MB | search near-copy median / p99 ms | search unrelated median / p99 ms |"
    );
    println!("|---|---|---|---|---|---|---|");
    println!(
        "| {n} | {register:.0} | {size:.0} | {load:.2} | {held:.0} | {:.2} / {:.2} | {:.2} / {:.2} |",
        percentile(&near, 0.5),
        percentile(&near, 0.99),
        percentile(&far, 0.5),
        percentile(&far, 0.99)
    );
}
