//! Code files for peer indexes (faiss's binary indexes): a database of works' codes, queries
//! that are real near-copies of some of them and real codes of nothing in it, and the exact
//! answer from a full scan.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use fingerprint::catalog::PDQ_RADIUS;
use fingerprint::index::{Code, hamming};
use rayon::prelude::*;
use serde::Serialize;

use crate::CorpusError;
use crate::generator::Generator;
use crate::pool::Pool;
use crate::rng::Rng;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The pool file (from `handprint-corpus pool`).
    #[arg(long)]
    pub pool: PathBuf,
    /// Folder to write the files into (created).
    #[arg(long)]
    pub out: PathBuf,
    /// Works in the database (N).
    #[arg(long, default_value_t = 1_000_000)]
    pub works: u64,
    /// Generator seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Write all nine codes of each work (id = 9 × work + variant) instead of the original alone.
    #[arg(long)]
    pub all_variants: bool,
    /// At most this many planted copies as queries (drawn evenly from the pool's).
    #[arg(long, default_value_t = 1000)]
    pub planted: usize,
    /// Queries from held-out photos (codes of no work in the database).
    #[arg(long, default_value_t = 1000)]
    pub unrelated: usize,
    /// Photos held out of the database (the pool's last K), whose crops are the unrelated queries.
    #[arg(long, default_value_t = 2)]
    pub hold_out: u32,
    /// Radius of the ground truth (inclusive).
    #[arg(long, default_value_t = PDQ_RADIUS)]
    pub radius: u32,
}

/// One query and where it came from.
#[derive(Clone, Debug, Serialize)]
pub struct Query {
    pub code: Code,
    /// `planted` or `unrelated`.
    pub kind: &'static str,
    /// The transform of a planted copy; the photo of an unrelated query.
    pub source: String,
    /// The database id of the work a planted copy was made from, and its distance to that
    /// work's code.
    pub work: Option<u64>,
    pub planted_distance: Option<u32>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Meta {
    pub database: u64,
    pub works: u64,
    pub codes_per_work: u32,
    pub queries: usize,
    pub planted: usize,
    pub unrelated: usize,
    pub radius: u32,
    pub seed: u64,
    pub held_out_photos: Vec<String>,
    /// Planted queries whose own work is within the radius.
    pub planted_within_radius: usize,
    /// Pairs (query, database id) within the radius, by query kind.
    pub truth_pairs_planted: usize,
    pub truth_pairs_unrelated: usize,
    pub scan_seconds: f64,
    pub layout: &'static str,
}

const LAYOUT: &str = "db.u8: database codes, 32 bytes each, row i is id i (4 little-endian u64 words, word 0 first; \
    faiss's uint8 rows). queries.u8: the same for the queries. queries.tsv: query, kind, source, work id, planted \
    distance. truth.tsv: query, id, distance for every pair within the radius (a full scan).";

/// Database codes: work i's original (id i), or all nine (id 9 i + variant).
pub fn database(g: &Generator, works: u64, all_variants: bool) -> Vec<Code> {
    if all_variants {
        (0..works).into_par_iter().flat_map_iter(|i| g.codes(i).1).collect()
    } else {
        (0..works).into_par_iter().map(|i| g.original(i).1).collect()
    }
}

/// Planted copies of tiles whose work is in the database, then crops of held-out photos.
pub fn queries(g: &Generator, args: &Args, held_out: &[u32]) -> Vec<Query> {
    let pool = g.pool();
    let usable: Vec<(u64, &crate::pool::PlantedCopy)> = pool
        .copies
        .iter()
        .filter_map(|c| g.work_of_set(c.tile).filter(|&w| w < args.works).map(|w| (w, c)))
        .collect();
    // A seeded sample without replacement (a partial shuffle): every transform in its share.
    let mut order: Vec<usize> = (0..usable.len()).collect();
    let mut rng = Rng::for_item(args.seed ^ 0x91A7, 0);
    let take = args.planted.min(order.len());
    for k in 0..take {
        let j = k + rng.below((order.len() - k) as u64) as usize;
        order.swap(k, j);
    }
    let mut out: Vec<Query> = order[..take]
        .iter()
        .map(|&k| {
            let (w, c) = usable[k];
            let (_, codes) = g.codes(w);
            let (id, d) = if args.all_variants {
                (0..9)
                    .map(|v| (9 * w + v as u64, hamming(&c.code, &codes[v])))
                    .min_by_key(|&(_, d)| d)
                    .expect("nine")
            } else {
                (w, hamming(&c.code, &codes[0]))
            };
            Query {
                code: c.code,
                kind: "planted",
                source: c.transform.name().to_string(),
                work: Some(id),
                planted_distance: Some(d),
            }
        })
        .collect();
    let unrelated: Vec<&crate::pool::CodeSet> =
        pool.sets[pool.tiles.len()..].iter().filter(|s| held_out.contains(&s.family)).collect();
    for _ in 0..args.unrelated.min(unrelated.len()) {
        let s = unrelated[rng.below(unrelated.len() as u64) as usize];
        out.push(Query {
            code: s.codes[0],
            kind: "unrelated",
            source: pool.families[s.family as usize].clone(),
            work: None,
            planted_distance: None,
        });
    }
    out
}

/// Every (query, id, distance) within `radius`, by a full scan.
pub fn truth(db: &[Code], queries: &[Query], radius: u32) -> Vec<Vec<(u64, u32)>> {
    queries
        .par_iter()
        .map(|q| {
            db.iter()
                .enumerate()
                .filter_map(|(i, c)| {
                    let d = hamming(&q.code, c);
                    (d <= radius).then_some((i as u64, d))
                })
                .collect()
        })
        .collect()
}

fn write(
    path: &Path,
    f: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> std::io::Result<()>,
) -> Result<(), CorpusError> {
    let io = |e: std::io::Error| CorpusError::Io { path: path.into(), message: e.to_string() };
    let mut w = std::io::BufWriter::new(std::fs::File::create(path).map_err(io)?);
    f(&mut w).and_then(|_| w.flush()).map_err(io)
}

fn write_codes(path: &Path, codes: impl Iterator<Item = Code>) -> Result<(), CorpusError> {
    write(path, |w| {
        for c in codes {
            for word in c {
                w.write_all(&word.to_le_bytes())?;
            }
        }
        Ok(())
    })
}

pub fn run(pool: Arc<Pool>, args: &Args) -> Result<(), CorpusError> {
    let families = pool.families.len() as u32;
    if args.hold_out >= families {
        return Err(CorpusError::TooSmall {
            what: "peers",
            needed: format!("more photos than the {} held out for unrelated queries", args.hold_out),
            found: format!("{families} photos"),
        });
    }
    let held_out: Vec<u32> = (families.saturating_sub(args.hold_out)..families).collect();
    let g = Generator::new(pool.clone(), args.seed).excluding(&held_out);
    std::fs::create_dir_all(&args.out)
        .map_err(|e| CorpusError::Io { path: args.out.clone(), message: e.to_string() })?;
    let t = Instant::now();
    let db = database(&g, args.works, args.all_variants);
    eprintln!("database: {} codes ({:.1} s)", db.len(), t.elapsed().as_secs_f64());
    let queries = queries(&g, args, &held_out);
    let t = Instant::now();
    let truth = truth(&db, &queries, args.radius);
    let scan_seconds = t.elapsed().as_secs_f64();
    eprintln!("ground truth: {} queries by full scan ({scan_seconds:.1} s)", queries.len());
    write_codes(&args.out.join("db.u8"), db.iter().copied())?;
    write_codes(&args.out.join("queries.u8"), queries.iter().map(|q| q.code))?;
    write(&args.out.join("queries.tsv"), |w| {
        writeln!(w, "query\tkind\tsource\twork\tplanted_distance")?;
        for (i, q) in queries.iter().enumerate() {
            let opt = |v: Option<u64>| v.map_or(String::new(), |v| v.to_string());
            writeln!(
                w,
                "{i}\t{}\t{}\t{}\t{}",
                q.kind,
                q.source,
                opt(q.work),
                opt(q.planted_distance.map(u64::from))
            )?;
        }
        Ok(())
    })?;
    write(&args.out.join("truth.tsv"), |w| {
        writeln!(w, "query\tid\tdistance")?;
        for (i, hits) in truth.iter().enumerate() {
            for (id, d) in hits {
                writeln!(w, "{i}\t{id}\t{d}")?;
            }
        }
        Ok(())
    })?;
    let pairs =
        |kind: &str| queries.iter().zip(&truth).filter(|(q, _)| q.kind == kind).map(|(_, t)| t.len()).sum();
    let planted = queries.iter().filter(|q| q.kind == "planted").count();
    let meta = Meta {
        database: db.len() as u64,
        works: args.works,
        codes_per_work: if args.all_variants { 9 } else { 1 },
        queries: queries.len(),
        planted,
        unrelated: queries.len() - planted,
        radius: args.radius,
        seed: args.seed,
        held_out_photos: held_out.iter().map(|&f| pool.families[f as usize].clone()).collect(),
        planted_within_radius: queries
            .iter()
            .filter(|q| q.planted_distance.is_some_and(|d| d <= args.radius))
            .count(),
        truth_pairs_planted: pairs("planted"),
        truth_pairs_unrelated: pairs("unrelated"),
        scan_seconds,
        layout: LAYOUT,
    };
    let json = serde_json::to_string_pretty(&meta).expect("meta serialises");
    write(&args.out.join("meta.json"), |w| w.write_all(json.as_bytes()))?;
    println!("{json}");
    Ok(())
}
