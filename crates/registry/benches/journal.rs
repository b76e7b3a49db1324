//! Journal throughput: `cargo bench -p handprint-registry --bench journal -- [--events N]`
//!
//! Prints durable appends per second one by one (a transaction and fsync each) and batched,
//! `verify` events per second, and inclusion and consistency proof latency from the SQLite
//! store, for a log of N events (default 1,000,000). Each event carries a realistic
//! `generated` payload: the AUTOMATIC1111 sample's capture record (about 2.5 KB).

use std::time::Instant;

use ledger::{Draft, EventKind};
use registry::store::{Pending, Store};
use serde_json::{Value, json};

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned())
}

fn payload() -> Value {
    let sample = fixtures::samples::all().into_iter().find(|s| s.name == "a1111-txt2img.png").unwrap();
    let inspection = capture::inspect_bytes(&sample.bytes).unwrap();
    json!({"generations": inspection.generations})
}

fn drafts(n: usize, start: usize, data: &Value) -> Vec<Pending> {
    (start..start + n)
        .map(|i| {
            let mut data = data.clone();
            data["file"] = json!({"name": format!("{i:07}.png"), "sha256": ledger::Hash::of(&i.to_le_bytes()).to_hex(), "size": 1_500_000});
            Pending {
                draft: Draft { project: "bench".into(), kind: EventKind::Generated, data, derived_from: vec![] },
                files: vec![],
            }
        })
        .collect()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let total: usize = arg("--events").map(|v| v.parse().unwrap()).unwrap_or(1_000_000);
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("journal.sqlite3")).unwrap();
    store.create_project("bench").unwrap();
    let key = ed25519_dalek::SigningKey::from_bytes(&[1; 32]);
    let data = payload();
    let event_bytes = serde_json::to_vec(&data).unwrap().len();
    println!("event payload {event_bytes} bytes; SQLite WAL, synchronous=FULL; one thread\n");
    println!("| operation | events | seconds | events/s |");
    println!("|---|---|---|---|");

    let one_by_one = 300;
    let t = Instant::now();
    for i in 0..one_by_one {
        store.append(&key, |_| Ok(drafts(1, i, &data))).unwrap();
    }
    let s = t.elapsed().as_secs_f64();
    println!(
        "| durable append, one per transaction | {one_by_one} | {s:.2} | {:.0} |",
        one_by_one as f64 / s
    );

    let mut appended = one_by_one;
    let batch = 1000;
    let t = Instant::now();
    for _ in 0..20 {
        store.append(&key, |_| Ok(drafts(batch, appended, &data))).unwrap();
        appended += batch;
    }
    let s = t.elapsed().as_secs_f64();
    println!(
        "| durable append, batches of {batch} | {} | {s:.2} | {:.0} |",
        20 * batch,
        20.0 * batch as f64 / s
    );

    let fill_batch = 10_000;
    let t = Instant::now();
    while appended < total {
        let n = fill_batch.min(total - appended);
        store.append(&key, |_| Ok(drafts(n, appended, &data))).unwrap();
        appended += n;
    }
    let s = t.elapsed().as_secs_f64();
    println!(
        "| fill to {total}, batches of {fill_batch} | {} | {s:.2} | {:.0} |",
        total.saturating_sub(20 * batch + one_by_one),
        (total - 20 * batch - one_by_one) as f64 / s
    );

    let t = Instant::now();
    let v = store.verify(&key.verifying_key()).unwrap();
    let s = t.elapsed().as_secs_f64();
    assert!(v.ok(), "{:?}", &v.findings[..v.findings.len().min(3)]);
    println!(
        "| verify (signatures, chains, all checkpoints, stored nodes) | {} | {s:.2} | {:.0} |",
        v.events,
        v.events as f64 / s
    );
    let checkpoints = v.checkpoints;

    let size = total as u64;
    let mut rng = fixtures::rng::XorShift::new(0x2545_F491_4F6C_DD1D);
    let mut next = || rng.next_u64();
    let mut measure = |store: &Store| {
        let mut inclusion = Vec::new();
        let mut consistency = Vec::new();
        for _ in 0..2000 {
            let index = next() % size;
            let t = Instant::now();
            let proof = store.inclusion_proof(index, size).unwrap();
            inclusion.push(t.elapsed().as_secs_f64() * 1e6);
            assert!(!proof.is_empty() || size == 1);
            let old = 1 + next() % (size - 1);
            let t = Instant::now();
            let _ = store.consistency_proof(old, size).unwrap();
            consistency.push(t.elapsed().as_secs_f64() * 1e6);
        }
        inclusion.sort_by(f64::total_cmp);
        consistency.sort_by(f64::total_cmp);
        (inclusion, consistency)
    };
    // First: proofs as a process that just opened the store finds it (node pages read as
    // needed; the OS may already cache them). Then: after one scan of the node table, as a
    // long-running process has it.
    let cold = measure(&store);
    let t = Instant::now();
    let nodes = store.nodes().unwrap().len();
    let scan = t.elapsed().as_secs_f64();
    let warm = measure(&store);
    println!("\n| proof from the store, log of {size} events | median µs | p99 µs | max µs |");
    println!("|---|---|---|---|");
    for (label, (inclusion, consistency)) in [("first", &cold), ("after a node scan", &warm)] {
        println!(
            "| inclusion, random leaf, {label} | {:.1} | {:.1} | {:.1} |",
            percentile(inclusion, 0.5),
            percentile(inclusion, 0.99),
            inclusion.last().unwrap()
        );
        println!(
            "| consistency, random old size, {label} | {:.1} | {:.1} | {:.1} |",
            percentile(consistency, 0.5),
            percentile(consistency, 0.99),
            consistency.last().unwrap()
        );
    }
    println!("\nwarming: one scan of {nodes} stored nodes took {scan:.2} s");
    let db = std::fs::metadata(dir.path().join("journal.sqlite3")).map(|m| m.len()).unwrap_or(0);
    println!("\n{checkpoints} checkpoints; database {:.0} MB", db as f64 / 1e6);
}
