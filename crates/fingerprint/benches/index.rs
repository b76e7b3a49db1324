//! Hamming index latency: `cargo bench -p handprint-fingerprint --bench index -- [--codes N]...`
//!
//! For each N (default 1,000,000 and 10,000,000): N random 256-bit codes, 1,000 of them with
//! a planted near-duplicate at distance 1 to 31; queries are the planted copies. Prints build
//! time, memory, radius-31 latency (median, p99) on one thread, and recall of the planted
//! originals (exact search: it must be 1.0).

use std::time::Instant;

use fingerprint::index::{Code, HammingIndex, hamming};

fn rss_mb() -> f64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or(0.0)
        / 1024.0
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let sizes: Vec<usize> =
        args.windows(2).filter(|w| w[0] == "--codes").map(|w| w[1].parse().unwrap()).collect();
    let sizes = if sizes.is_empty() { vec![1_000_000, 10_000_000] } else { sizes };
    println!("| codes | build s | RSS MB | radius-31 median µs | p99 µs | recall |");
    println!("|---|---|---|---|---|---|");
    for n in sizes {
        let mut rng = fixtures::rng::XorShift::new(0x9E37_79B9_7F4A_7C15 ^ n as u64);
        let before = rss_mb();
        let mut codes: Vec<Code> =
            (0..n).map(|_| [rng.next_u64(), rng.next_u64(), rng.next_u64(), rng.next_u64()]).collect();
        let mut queries = Vec::new();
        for i in 0..1000 {
            let original = (rng.next_u64() % n as u64) as usize;
            let mut q = codes[original];
            let flips = 1 + (i % 31);
            while hamming(&q, &codes[original]) < flips as u32 {
                let bit = (rng.next_u64() % 256) as usize;
                q[bit / 64] ^= 1 << (bit % 64);
            }
            queries.push((q, original as u32));
        }
        let t = Instant::now();
        let index = HammingIndex::from_codes(std::mem::take(&mut codes));
        let build = t.elapsed().as_secs_f64();
        let memory = rss_mb() - before;
        let mut times = Vec::new();
        let mut hits = 0;
        for (q, original) in &queries {
            let t = Instant::now();
            let found = index.within(q, 31);
            times.push(t.elapsed().as_secs_f64() * 1e6);
            hits += found.iter().any(|(id, _)| id == original) as usize;
        }
        times.sort_by(f64::total_cmp);
        let p = |q: f64| times[((times.len() - 1) as f64 * q) as usize];
        println!(
            "| {n} | {build:.1} | {memory:.0} | {:.1} | {:.1} | {:.3} |",
            p(0.5),
            p(0.99),
            hits as f64 / queries.len() as f64
        );
    }
}
