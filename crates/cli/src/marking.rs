//! `handprint watermark embed|detect`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use registry::answers::Unreadable;

use crate::data::{Access, Global, open};
use crate::output::print_json;
use crate::terminal::esc;

#[derive(clap::Subcommand)]
pub enum WatermarkCommand {
    Embed(EmbedArgs),
    Detect(DetectArgs),
}

/// Embed an invisible watermark carrying a 64-bit payload (a registered work's ID).
///
/// The watermark is spread over the whole image's luminance, stronger in texture than in
/// flat areas, at about 40.4 dB PSNR; it is read back blind by `handprint watermark detect`,
/// also from re-encoded, resized, cropped or slightly rotated copies (docs/watermark.md).
/// PNG stays lossless in its colour type, JPEG is written at quality 95, WebP lossless; the
/// original's metadata (text chunks, EXIF, XMP, ICC, C2PA) is carried over, alpha is kept.
/// Refused: 16-bit PNG, CMYK JPEG, animated images, GIF, images under 256 × 256, and images
/// whose header declares over 64 megapixels (refused before anything is decoded).
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
pub struct EmbedArgs {
    input: PathBuf,
    /// Where to write the watermarked image (never the input itself).
    output: PathBuf,
    /// The payload as 16 hexadecimal digits.
    #[arg(long, conflicts_with = "work", required_unless_present = "work")]
    payload: Option<String>,
    /// A registered work's ID (see `handprint works`) as the payload.
    #[arg(long)]
    work: Option<i64>,
}

/// Look for handprint's watermark in images, and name the registered work it carries.
///
/// With --json, one JSON object per file, one per line.
///
/// Exit status: 0 when every file was read (found or not); 1 when some could not be.
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
pub struct DetectArgs {
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
}

pub fn run(g: &Global, cmd: WatermarkCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        WatermarkCommand::Embed(args) => embed(g, args),
        WatermarkCommand::Detect(args) => detect(g, args),
    }
}

fn embed(g: &Global, args: EmbedArgs) -> anyhow::Result<ExitCode> {
    let payload = match (&args.payload, args.work) {
        (Some(hex), _) => {
            if hex.len() != 16 {
                bail!("--payload {hex:?}: give exactly 16 hexadecimal digits");
            }
            u64::from_str_radix(hex, 16).with_context(|| format!("--payload {hex:?}: not hexadecimal"))?
        }
        (None, Some(id)) => {
            let reg = open(g, Access::IfStored)?
                .context("no registry here: register the work first (`handprint register`)")?;
            let work = reg
                .store
                .work(id)?
                .with_context(|| format!("no work {id} in the registry (see `handprint works`)"))?;
            // Works registered before watermark IDs were derived from keys carry their ID.
            work.watermark_id.unwrap_or(id as u64)
        }
        (None, None) => unreachable!("clap requires one"),
    };
    let e = registry::watermarks::embed(&args.input, &args.output, payload)?;
    if g.json {
        print_json(&e)?;
    } else {
        println!("wrote {} with payload {} (PSNR {:.2} dB)", esc(args.output.display()), e.payload, e.psnr);
    }
    Ok(ExitCode::SUCCESS)
}

fn detect(g: &Global, args: DetectArgs) -> anyhow::Result<ExitCode> {
    let reg = open(g, Access::IfStored)?;
    let mut failed = 0;
    for file in &args.files {
        match registry::watermarks::detect(reg.as_ref().map(|r| &r.store), file) {
            Err(e) => {
                failed += 1;
                say!("{}", esc(&e));
                if g.json {
                    print_json(&Unreadable::new(file, &e))?;
                }
            }
            Ok(r) if g.json => print_json(&r)?,
            Ok(r) => match &r.payload {
                Some(p) => {
                    let named = p
                        .work
                        .as_ref()
                        .map(|w| format!(": work {} {:?} by {}", w.id, w.title, esc(&w.registrant)))
                        .unwrap_or_default();
                    let d = &r.detection;
                    println!(
                        "{}: watermark {}{named} (probability an unmarked image reads so: < {:.0e}; {:.0}% of coded bits agree)",
                        esc(&r.file),
                        p.payload,
                        d.false_positive.max(1e-300),
                        d.bit_agreement * 100.0
                    );
                }
                None => println!("{}: no watermark found", esc(&r.file)),
            },
        }
    }
    Ok(if failed > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
}
