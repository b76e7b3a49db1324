//! How generated works compare with real ones, in the numbers an index is sensitive to: how
//! balanced each bit is, how far apart unrelated codes lie, and how full the buckets of a
//! multi-index hash's substring tables get.

use std::path::PathBuf;

use fingerprint::index::{Code, hamming};
use serde::Serialize;

use crate::generator::Generator;
use crate::rng::Rng;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The pool file (from `handprint-corpus pool`).
    #[arg(long)]
    pub pool: PathBuf,
    /// Generator seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Catalog size the generated codes are drawn from (works 0..N; past the pool's size, works
    /// have flipped bits), and the size of the bucket tables.
    #[arg(long, default_value_t = 1_000_000)]
    pub works: u64,
    /// Unrelated pairs (different photos) sampled per distance histogram.
    #[arg(long, default_value_t = 200_000)]
    pub pairs: u64,
    /// Print the report as JSON instead of markdown tables.
    #[arg(long)]
    pub json: bool,
}

/// A population of 256-bit codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Population {
    PdqRealTiles,
    PdqRealCrops,
    PdqGenerated,
    PdqUniform,
    DescriptorsRealTiles,
    DescriptorsGenerated,
    DescriptorsUniform,
}

impl Population {
    pub const ALL: [Population; 7] = [
        Population::PdqRealTiles,
        Population::PdqRealCrops,
        Population::PdqGenerated,
        Population::PdqUniform,
        Population::DescriptorsRealTiles,
        Population::DescriptorsGenerated,
        Population::DescriptorsUniform,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Population::PdqRealTiles => "PDQ real tiles",
            Population::PdqRealCrops => "PDQ real crops",
            Population::PdqGenerated => "PDQ generated",
            Population::PdqUniform => "PDQ uniform",
            Population::DescriptorsRealTiles => "descr. real tiles",
            Population::DescriptorsGenerated => "descr. generated",
            Population::DescriptorsUniform => "descr. uniform",
        }
    }
}

/// One draw: (family, code). Uniform codes have a family of their own each.
fn draw(g: &Generator, p: Population, works: u64, rng: &mut Rng) -> (u64, Code) {
    let pool = g.pool();
    let tiles = pool.tiles.len() as u64;
    let uniform =
        |rng: &mut Rng| (rng.next_u64(), [rng.next_u64(), rng.next_u64(), rng.next_u64(), rng.next_u64()]);
    match p {
        Population::PdqRealTiles => {
            let s = &pool.sets[rng.below(tiles) as usize];
            (s.family as u64, s.codes[0])
        }
        Population::PdqRealCrops => {
            let s = &pool.sets[(tiles + rng.below(pool.sets.len() as u64 - tiles)) as usize];
            (s.family as u64, s.codes[0])
        }
        Population::PdqGenerated => {
            let (f, c) = g.original(rng.below(works));
            (f as u64, c)
        }
        Population::DescriptorsRealTiles => loop {
            let t = &pool.tiles[rng.below(tiles) as usize];
            if !t.features.features.is_empty() {
                let f = &t.features.features[rng.below(t.features.features.len() as u64) as usize];
                break (t.family as u64, f.descriptor);
            }
        },
        Population::DescriptorsGenerated => loop {
            let w = g.work(rng.below(works));
            if !w.features.features.is_empty() {
                let f = &w.features.features[rng.below(w.features.features.len() as u64) as usize];
                break (w.family as u64, f.descriptor);
            }
        },
        Population::PdqUniform | Population::DescriptorsUniform => uniform(rng),
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Balance {
    pub population: Population,
    pub codes: u64,
    /// Mean over the 256 bits of |P(bit set) − ½|.
    pub mean_bias: f64,
    pub max_bias: f64,
}

/// Distances between codes of different photos.
#[derive(Clone, Debug, Serialize)]
pub struct Distances {
    pub population: Population,
    pub pairs: u64,
    /// Pairs per distance 0..=256.
    pub histogram: Vec<u64>,
    pub p0_1: u32,
    pub p1: u32,
    pub median: u32,
    /// Share of pairs within 31 (PDQ's radius) and within 15 (the descriptors' vote radius).
    pub within_31: f64,
    pub within_15: f64,
}

/// Bucket sizes of substring tables of a given width over a set of codes: what each table of
/// a multi-index hash holds.
#[derive(Clone, Debug, Serialize)]
pub struct Buckets {
    pub population: Population,
    pub codes: u64,
    pub width: u32,
    pub tables: u32,
    /// Mean over tables of the size of the bucket a code of the set falls in (Σ size² / N):
    /// what a query like the indexed codes probes first.
    pub query_bucket: f64,
    pub query_bucket_worst_table: f64,
    /// The same for uniform codes: 1 + (N − 1) / 2^width.
    pub uniform_expectation: f64,
    pub largest_bucket: u64,
}

/// Distances from a pool crop set to the nearest other set of its photo, and from a work past
/// the pool to its source: what the number of flipped bits is chosen against.
#[derive(Clone, Debug, Serialize)]
pub struct Flips {
    pub code_flips: u32,
    pub sampled: u64,
    pub nearest_same_photo_p1: u32,
    pub nearest_same_photo_p10: u32,
    pub nearest_same_photo_median: u32,
    pub nearest_same_photo_within_31: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub seed: u64,
    pub works: u64,
    pub pool_sets: u64,
    pub pool_tiles: u64,
    pub photos: u64,
    pub balance: Vec<Balance>,
    pub distances: Vec<Distances>,
    pub buckets: Vec<Buckets>,
    pub flips: Flips,
    /// Time to make one work (codes and features), and one original code, in microseconds.
    pub work_micros: f64,
    pub original_micros: f64,
}

fn balance(g: &Generator, p: Population, n: u64, works: u64) -> Balance {
    let mut rng = Rng::for_item(g.seed() ^ 0xBA1, p as u64);
    let mut ones = [0u64; 256];
    for _ in 0..n {
        let (_, c) = draw(g, p, works, &mut rng);
        for (b, o) in ones.iter_mut().enumerate() {
            *o += c[b / 64] >> (b % 64) & 1;
        }
    }
    let bias: Vec<f64> = ones.iter().map(|&o| (o as f64 / n as f64 - 0.5).abs()).collect();
    Balance {
        population: p,
        codes: n,
        mean_bias: bias.iter().sum::<f64>() / 256.0,
        max_bias: bias.iter().copied().fold(0.0, f64::max),
    }
}

fn quantile(histogram: &[u64], total: u64, q: f64) -> u32 {
    let want = (total as f64 * q).ceil().max(1.0) as u64;
    let mut seen = 0;
    for (d, &n) in histogram.iter().enumerate() {
        seen += n;
        if seen >= want {
            return d as u32;
        }
    }
    256
}

fn distances(g: &Generator, p: Population, pairs: u64, works: u64) -> Distances {
    let mut rng = Rng::for_item(g.seed() ^ 0xD15, p as u64);
    let mut histogram = vec![0u64; 257];
    let mut n = 0;
    while n < pairs {
        let (fa, a) = draw(g, p, works, &mut rng);
        let (fb, b) = draw(g, p, works, &mut rng);
        if fa != fb {
            histogram[hamming(&a, &b) as usize] += 1;
            n += 1;
        }
    }
    let share = |r: usize| histogram[..=r].iter().sum::<u64>() as f64 / n as f64;
    Distances {
        population: p,
        pairs: n,
        p0_1: quantile(&histogram, n, 0.001),
        p1: quantile(&histogram, n, 0.01),
        median: quantile(&histogram, n, 0.5),
        within_31: share(31),
        within_15: share(15),
        histogram,
    }
}

fn substring(code: &Code, start: u32, width: u32) -> usize {
    fingerprint::index::bits(code, start, width) as usize
}

fn buckets(p: Population, codes: &[Code], width: u32) -> Buckets {
    let n = codes.len() as u64;
    let mut counts = vec![0u32; 1 << width];
    let (mut sum, mut worst, mut largest, mut tables) = (0.0, 0.0f64, 0u64, 0);
    let mut start = 0;
    while start + width <= 256 {
        counts.iter_mut().for_each(|c| *c = 0);
        for c in codes {
            counts[substring(c, start, width)] += 1;
        }
        let q = counts.iter().map(|&c| c as f64 * c as f64).sum::<f64>() / n as f64;
        sum += q;
        worst = worst.max(q);
        largest = largest.max(counts.iter().copied().max().unwrap_or(0) as u64);
        tables += 1;
        start += width;
    }
    Buckets {
        population: p,
        codes: n,
        width,
        tables,
        query_bucket: sum / tables as f64,
        query_bucket_worst_table: worst,
        uniform_expectation: 1.0 + (n as f64 - 1.0) / (1u64 << width) as f64,
        largest_bucket: largest,
    }
}

fn flips(g: &Generator, sampled: u64) -> Flips {
    let pool = g.pool();
    let tiles = pool.tiles.len();
    let crops = &pool.sets[tiles..];
    let mut rng = Rng::for_item(g.seed() ^ 0xF11, 0);
    let mut nearest = vec![0u64; 257];
    let mut n = 0;
    for _ in 0..sampled.min(crops.len() as u64) {
        let i = rng.below(crops.len() as u64) as usize;
        let me = &crops[i];
        let d = crops
            .iter()
            .enumerate()
            .filter(|&(j, s)| j != i && s.family == me.family)
            .map(|(_, s)| hamming(&s.codes[0], &me.codes[0]))
            .min();
        if let Some(d) = d {
            nearest[d as usize] += 1;
            n += 1;
        }
    }
    Flips {
        code_flips: crate::generator::CODE_FLIPS,
        sampled: n,
        nearest_same_photo_p1: quantile(&nearest, n, 0.01),
        nearest_same_photo_p10: quantile(&nearest, n, 0.1),
        nearest_same_photo_median: quantile(&nearest, n, 0.5),
        nearest_same_photo_within_31: nearest[..=31].iter().sum::<u64>() as f64 / n.max(1) as f64,
    }
}

/// Mean time of `f` over 20,000 calls, in microseconds.
fn micros(f: impl Fn(u64) -> u64) -> f64 {
    let t = std::time::Instant::now();
    let sink = (0..20_000).fold(0u64, |acc, i| acc ^ f(i));
    std::hint::black_box(sink);
    t.elapsed().as_secs_f64() * 1e6 / 20_000.0
}

pub fn report(g: &Generator, works: u64, pairs: u64) -> Report {
    let pool = g.pool();
    let works = works.max(1);
    let balance = Population::ALL.iter().map(|&p| balance(g, p, pairs, works)).collect();
    let distances = Population::ALL.iter().map(|&p| distances(g, p, pairs, works)).collect();
    let generated: Vec<Code> = (0..works).map(|i| g.original(i).1).collect();
    let real: Vec<Code> = pool.sets.iter().map(|s| s.codes[0]).collect();
    let mut rng = Rng::for_item(g.seed() ^ 0xB0C, 0);
    let uniform: Vec<Code> =
        (0..works).map(|_| [rng.next_u64(), rng.next_u64(), rng.next_u64(), rng.next_u64()]).collect();
    let mut buckets_out = Vec::new();
    for width in [16, 24] {
        buckets_out.push(buckets(Population::PdqRealCrops, &real, width));
        buckets_out.push(buckets(Population::PdqGenerated, &generated, width));
        buckets_out.push(buckets(Population::PdqUniform, &uniform, width));
    }
    Report {
        seed: g.seed(),
        works,
        pool_sets: pool.sets.len() as u64,
        pool_tiles: pool.tiles.len() as u64,
        photos: pool.families.len() as u64,
        balance,
        distances,
        buckets: buckets_out,
        flips: flips(g, 2000),
        work_micros: micros(|i| g.work(i * 7919 % works).features.features.len() as u64),
        original_micros: micros(|i| g.original(i * 7919 % works).1[0]),
    }
}

pub fn markdown(r: &Report) -> String {
    let mut out = String::new();
    out += &format!(
        "Pool: {} photos, {} tiles, {} code sets. Generated: works 0..{} of seed {} (past {} they have flipped bits).\n\n",
        r.photos, r.pool_tiles, r.pool_sets, r.works, r.seed, r.pool_sets
    );
    out += "### Bit balance\n\n| codes | sampled | mean \\|p − ½\\| | max \\|p − ½\\| |\n|---|---|---|---|\n";
    for b in &r.balance {
        out +=
            &format!("| {} | {} | {:.4} | {:.4} |\n", b.population.label(), b.codes, b.mean_bias, b.max_bias);
    }
    out += "\n### Hamming distance between unrelated codes (different photos)\n\n| distance |";
    for d in &r.distances {
        out += &format!(" {} |", d.population.label());
    }
    out += "\n|---|";
    out += &"---|".repeat(r.distances.len());
    out += "\n";
    for lo in (0..256).step_by(16) {
        out += &format!("| {lo}–{} |", lo + 15);
        for d in &r.distances {
            let n: u64 = d.histogram[lo..lo + 16].iter().sum();
            out += &format!(" {:.4} |", n as f64 / d.pairs as f64);
        }
        out += "\n";
    }
    let row = |out: &mut String, name: &str, f: &dyn Fn(&Distances) -> String| {
        *out += &format!("| {name} |");
        for d in &r.distances {
            *out += &format!(" {} |", f(d));
        }
        *out += "\n";
    };
    row(&mut out, "0.1 % quantile", &|d| d.p0_1.to_string());
    row(&mut out, "1 % quantile", &|d| d.p1.to_string());
    row(&mut out, "median", &|d| d.median.to_string());
    row(&mut out, "share ≤ 31", &|d| format!("{:.2e}", d.within_31));
    row(&mut out, "share ≤ 15", &|d| format!("{:.2e}", d.within_15));
    out += "\n### Substring tables of a multi-index hash (original PDQ codes)\n\n";
    out += "| codes | N | bits | tables | mean query bucket | worst table | uniform expectation | largest bucket |\n";
    out += "|---|---|---|---|---|---|---|---|\n";
    for b in &r.buckets {
        out += &format!(
            "| {} | {} | {} | {} | {:.2} | {:.2} | {:.2} | {} |\n",
            b.population.label(),
            b.codes,
            b.width,
            b.tables,
            b.query_bucket,
            b.query_bucket_worst_table,
            b.uniform_expectation,
            b.largest_bucket
        );
    }
    let f = &r.flips;
    out += &format!(
        "\nNearest other crop of the same photo (original codes, {} sampled): 1 % at {}, 10 % at {}, median {}; {:.3} within 31. \
         Works past the pool are {} bits from their source.\n\nOne work (codes and features) takes {:.2} µs to make, one original code {:.3} µs.\n",
        f.sampled,
        f.nearest_same_photo_p1,
        f.nearest_same_photo_p10,
        f.nearest_same_photo_median,
        f.nearest_same_photo_within_31,
        f.code_flips,
        r.work_micros,
        r.original_micros
    );
    out
}

pub fn run(g: &Generator, args: &Args) -> Result<(), crate::CorpusError> {
    // Distances are drawn between photos, from tiles with features and from crops.
    let pool = g.pool();
    if pool.families.len() < 2 || pool.sets.len() <= pool.tiles.len() || g.distinct() == 0 {
        return Err(crate::CorpusError::TooSmall {
            what: "stats",
            needed: "two photos or more, and crop sets".into(),
            found: format!(
                "{} photos, {} crop sets",
                pool.families.len(),
                pool.sets.len() - pool.tiles.len()
            ),
        });
    }
    if !pool.tiles.iter().any(|t| !t.features.features.is_empty()) {
        return Err(crate::CorpusError::TooSmall {
            what: "stats",
            needed: "a tile with local features".into(),
            found: "none".into(),
        });
    }
    let r = report(g, args.works, args.pairs);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&r).expect("a report serialises"));
    } else {
        print!("{}", markdown(&r));
    }
    Ok(())
}
