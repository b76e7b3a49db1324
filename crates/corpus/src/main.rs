//! `handprint-corpus`: builds the pool of real photos, reports how generated works compare
//! with real ones, and writes code files for peer indexes. `--help` on each subcommand.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use clap::{Parser, Subcommand};
use corpus::{Generator, Pool, PoolConfig, peers, stats};

#[derive(Parser)]
#[command(
    name = "handprint-corpus",
    about = "Synthetic registered works with the statistics of real photos, for benchmarks",
    long_about = "Synthetic registered works with the statistics of real photos, for benchmarks.\n\n\
        A pool is built once from folders of photos: each photo cut into tiles at three scales and \
        fingerprinted as a registered work is, plus the PDQ codes of many random crops, plus real \
        near-copies of the tiles. A generator then makes work i of a seed on demand, in \
        microseconds, from the pool: a catalog of ten million works is never stored.\n\n\
        Typical use:\n  \
        scripts/photos.sh target/corpus/photos\n  \
        handprint-corpus pool --out target/corpus/pool.bin target/corpus/photos/mate-backgrounds/usr/share/backgrounds/mate/nature MORE_FOLDERS...\n  \
        handprint-corpus stats --pool target/corpus/pool.bin\n  \
        handprint-corpus peers --pool target/corpus/pool.bin --works 1000000 --out target/corpus/peers-1m\n  \
        python3 scripts/peers-index.py target/corpus/peers-1m"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build the pool from folders of photos (every PNG, JPEG, WebP, GIF under them) and write it.
    ///
    /// A photo is a family: its tiles, crops and the works made from them are related. Reuses
    /// the file when it was built from the same photo names, seed and number of crop sets.
    Pool {
        /// The pool file to write (keep it under target/: it is tens of megabytes).
        #[arg(long)]
        out: PathBuf,
        /// Seed of the crops and margins.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Crop code sets wanted, shared evenly among the photos.
        #[arg(long, default_value_t = 120_000)]
        crop_sets: u64,
        /// Build again even if the file matches.
        #[arg(long)]
        force: bool,
        #[arg(required = true)]
        folders: Vec<PathBuf>,
    },
    /// Compare generated works with real ones: bit balance, distances between unrelated codes and
    /// descriptors, and the bucket sizes a multi-index hash sees.
    ///
    /// "Real" codes are the pool's (tiles and crops of the photos); real descriptors are the tiles'.
    /// Generated ones are works of the generator, half of them past the pool (bits flipped).
    /// Uniform random codes, what the old benchmark used, are shown beside them.
    Stats(stats::Args),
    /// Write codes for a peer index (faiss): database, queries and the exact ground truth.
    ///
    /// Database: the original PDQ code of works 0..N (or all nine codes with --all-variants). Queries:
    /// the pool's planted copies (real transforms of real tiles) of tiles whose work is in the
    /// database, then real codes of held-out photos, in no work of the database. Ground truth: a full
    /// scan within the radius. Files: db.u8 (N × 32 bytes), queries.u8 (Q × 32), queries.tsv,
    /// truth.tsv, meta.json.
    Peers(peers::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Pool { out, seed, crop_sets, force, folders } => {
            let config = PoolConfig { seed, crop_sets };
            let t = Instant::now();
            let built = if force {
                Pool::from_folders(&folders, &config).and_then(|p| p.save(&out).map(|_| (p, true)))
            } else {
                Pool::load_or_build(&out, &folders, &config)
            };
            built.map(|(pool, built)| {
                println!(
                    "{} {}: {} photos, {} tiles, {} code sets, {} planted copies ({:.1} s)",
                    if built { "built" } else { "reused" },
                    out.display(),
                    pool.families.len(),
                    pool.tiles.len(),
                    pool.sets.len(),
                    pool.copies.len(),
                    t.elapsed().as_secs_f64()
                );
            })
        }
        Command::Stats(args) => {
            Pool::load(&args.pool).and_then(|p| stats::run(&Generator::new(Arc::new(p), args.seed), &args))
        }
        Command::Peers(args) => Pool::load(&args.pool).and_then(|p| peers::run(Arc::new(p), &args)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("handprint-corpus: {e}");
            ExitCode::FAILURE
        }
    }
}
