//! `handprint reproduce`: re-run a sealed work's final generation on a generator's API.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{anyhow, bail};
use fingerprint::decode::{Limits, decode};
use ledger::Hash;
use registry::reproduce::{self, Api};
use serde_json::json;

use crate::claim::resolve_work;
use crate::journal::{open, print_json};
use crate::terminal::esc;
use registry::claim::sealed_project;

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum ApiArg {
    A1111,
    Comfyui,
}

/// Re-run the final generation of a sealed work and measure how close the result is.
///
/// Finds, in the journal, the generation the sealed image derives from and sends its
/// recorded settings to a generator: AUTOMATIC1111, Forge or SD.Next (`POST
/// /sdapi/v1/txt2img`: prompt, negative prompt, seed, steps, CFG, sampler, scheduler, size,
/// hires fix, variation seed, with the recorded model and VAE as override settings) or
/// ComfyUI (`POST /prompt` with the recorded API graph, then `/history` and `/view`; also
/// for Stability Matrix and Tensor.Art, which ran the ComfyUI graph recorded beside them). The
/// image it returns is written to --out, and its PDQ distance (0–256 bits; a re-encoded copy
/// of one image is within about 30) to the recorded generation (--recorded FILE, checked
/// against the journal's SHA-256) or, when nothing was edited after it, to the sealed work.
///
/// Exit status: 0 when the image came back (whatever its distance); 2 when it could not.
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
pub struct ReproduceArgs {
    #[arg(value_name = "WORK|FILE")]
    work: String,
    /// The generator's base URL, e.g. http://127.0.0.1:7860 (A1111) or :8188 (ComfyUI).
    #[arg(long)]
    url: String,
    /// Which API (default: the one of the generator that made the recorded image).
    #[arg(long, value_enum)]
    api: Option<ApiArg>,
    /// The recorded generation's file, to compare with (its SHA-256 must be the journal's).
    #[arg(long, value_name = "FILE")]
    recorded: Option<PathBuf>,
    /// Where to write the re-generated image (default reproduced-WORK.png).
    #[arg(long, short)]
    out: Option<PathBuf>,
    /// Seconds to wait for the generator.
    #[arg(long, default_value_t = 600)]
    timeout: u64,
    #[arg(long)]
    json: bool,
}

fn pdq_of(bytes: &[u8], what: &str) -> anyhow::Result<fingerprint::PdqHash> {
    let d =
        decode(bytes, &Limits { min_side: 16, ..Default::default() }).map_err(|e| anyhow!("{what}: {e}"))?;
    Ok(fingerprint::pdq::from_rgb(d.image.width as usize, d.image.height as usize, &d.image.pixels).hash)
}

pub fn reproduce(home: &Path, args: ReproduceArgs) -> anyhow::Result<ExitCode> {
    let reg = open(home)?;
    let (work, _) = resolve_work(&reg, &args.work)?;
    let (events, sealed) = sealed_project(&reg.store, work)?;
    if sealed.is_none() {
        bail!("work {work} was never sealed: the journal holds no generation for it");
    }
    let facts = evidence::facts(&events, sealed);
    let index = facts
        .reproduction
        .log_index
        .ok_or_else(|| anyhow!("work {work}: the journal holds no generation it derives from"))?;
    let event = events.iter().find(|e| e.event.log_index == index).expect("the event facts name");
    let generation = &event.event.data["generations"][0];
    let api = match args.api {
        Some(ApiArg::A1111) => Api::A1111,
        Some(ApiArg::Comfyui) => Api::ComfyUi,
        None => Api::for_generator(generation["generator"].as_str().unwrap_or_default()),
    };
    let generations = &event.event.data["generations"];
    let (png, request) = reproduce::run(api, &args.url, generations, Duration::from_secs(args.timeout))?;
    let out = args.out.clone().unwrap_or_else(|| PathBuf::from(format!("reproduced-{work}.png")));
    std::fs::write(&out, &png).map_err(|e| anyhow!("{}: {e}", out.display()))?;
    let reproduced = pdq_of(&png, "the generator's image")?;

    // What to compare with: the recorded file, or the sealed work if nothing came between.
    let recorded_sha = event.event.data["file"]["sha256"].as_str().unwrap_or_default();
    let (against, distance) = match &args.recorded {
        Some(path) => {
            let bytes = std::fs::read(path).map_err(|e| anyhow!("{}: {e}", path.display()))?;
            if Hash::of(&bytes).to_hex() != recorded_sha {
                bail!(
                    "{}: not the recorded generation (its SHA-256 differs from the journal's {recorded_sha})",
                    path.display()
                );
            }
            (
                Some(path.display().to_string()),
                Some(pdq_of(&bytes, "the recorded file")?.distance(&reproduced)),
            )
        }
        None if facts.lineage_counts.edits == 0 && facts.lineage_counts.imports == 0 => {
            let thumb = reg.store.thumbnail(work)?;
            let pdq =
                fingerprint::pdq::from_rgb(thumb.width as usize, thumb.height as usize, &thumb.pixels).hash;
            (Some(format!("the sealed work {work}")), Some(pdq.distance(&reproduced)))
        }
        None => (None, None),
    };
    if args.json {
        print_json(&json!({
            "work": work,
            "generation_event": index,
            "api": api,
            "request": request,
            "output": out,
            "compared_with": against,
            "pdq_distance": distance,
            "same_image": distance.map(|d| d <= fingerprint::catalog::PDQ_RADIUS),
        }));
    } else {
        println!(
            "re-ran event {index} (work {work}) on {} — image written to {}",
            esc(&args.url),
            esc(out.display())
        );
        match (against, distance) {
            (Some(a), Some(d)) => println!(
                "  PDQ distance to {}: {d} of 256 bits ({})",
                esc(a),
                if d <= fingerprint::catalog::PDQ_RADIUS {
                    "the same image, as far as PDQ can tell"
                } else {
                    "a different image"
                }
            ),
            _ => {
                println!("  nothing to compare with: edits came after this generation; give --recorded FILE")
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
