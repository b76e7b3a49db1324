//! `handprint reproduce`: re-run a sealed work's final generation on a generator's API.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::anyhow;
use registry::reproduce::{Api, ReproduceRequest, Reproduction, reproduce_work};

use crate::claim::resolve_work;
use crate::data::{Access, Global, open_registry};
use crate::output::print_json;
use crate::terminal::esc;

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
}

pub fn reproduce(g: &Global, args: ReproduceArgs) -> anyhow::Result<ExitCode> {
    let reg = open_registry(g, Access::Write)?;
    let (work, _) = resolve_work(&reg, &args.work)?;
    let recorded = match &args.recorded {
        Some(path) => Some((path, std::fs::read(path).map_err(|e| anyhow!("{}: {e}", path.display()))?)),
        None => None,
    };
    let request = ReproduceRequest {
        work,
        api: args.api.map(|a| match a {
            ApiArg::A1111 => Api::A1111,
            ApiArg::Comfyui => Api::ComfyUi,
        }),
        url: &args.url,
        timeout: Duration::from_secs(args.timeout),
        recorded: recorded.as_ref().map(|(path, bytes)| (path.as_path(), bytes.as_slice())),
    };
    let r = reproduce_work(&reg, &request)?;
    let out = args.out.clone().unwrap_or_else(|| PathBuf::from(format!("reproduced-{work}.png")));
    std::fs::write(&out, &r.image).map_err(|e| anyhow!("{}: {e}", out.display()))?;
    if g.json {
        print_json(&Reproduced { reproduction: &r, output: &out })?;
    } else {
        println!(
            "re-ran event {} (work {work}) on {} — image written to {}",
            r.generation_event,
            esc(&args.url),
            esc(out.display())
        );
        match (&r.compared_with, r.pdq_distance, r.same_image) {
            (Some(a), Some(d), Some(same)) => println!(
                "  PDQ distance to {}: {d} of 256 bits ({})",
                esc(a),
                if same { "the same image, as far as PDQ can tell" } else { "a different image" }
            ),
            _ => {
                println!("  nothing to compare with: edits came after this generation; give --recorded FILE")
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `reproduce --json`: the reproduction, and where its image was written.
#[derive(serde::Serialize)]
struct Reproduced<'a> {
    #[serde(flatten)]
    reproduction: &'a Reproduction,
    output: &'a Path,
}
