//! `handprint inspect`: print the generation records of image files.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use capture::{Generation, Inspection};
use serde::Serialize;

use crate::data::Global;
use crate::output::{collect, progress_bar, written};
use crate::terminal::esc;

/// Read what AI image generators wrote into image files.
///
/// For every PNG, JPEG and WebP file given (directories are walked recursively, taking
/// files named *.png, *.jpg, *.jpeg and *.webp), prints the normalized generation record:
/// generator and version, prompt and negative prompt, seed, steps, sampler, scheduler,
/// CFG scale, size, model, VAE, LoRAs and embeddings, hires-fix and img2img settings, every
/// other parameter verbatim, and the raw text it came from. Also says whether a C2PA
/// manifest store is embedded. With --json, one JSON object per file, one per line (format
/// `handprint.inspect/1`, see docs/inspect-json.md).
///
/// Understands AUTOMATIC1111, Forge, SD.Next, ComfyUI, InvokeAI, NovelAI (including its
/// alpha-channel metadata), Fooocus, SwarmUI, Easy Diffusion, Draw Things and Midjourney.
/// A file whose metadata is of a kind not understood is listed with the keys that were seen.
///
/// Exit status: 0 when every file could be read (even if it holds no generation metadata);
/// 1 when at least one file could not be read at all (it is named on stderr, and the rest of
/// the batch is still inspected); 2 on a usage error.
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// Image files or directories.
    #[arg(required = true, value_name = "FILE|DIR")]
    paths: Vec<PathBuf>,
    /// Leave out the raw metadata text in the table (JSON always has it).
    #[arg(long)]
    no_raw: bool,
}

const IMAGE_EXTENSIONS: [&str; 4] = ["png", "jpg", "jpeg", "webp"];

/// One line of `--json` output.
#[derive(Serialize)]
struct JsonLine<'a> {
    format: &'static str,
    path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    inspection: Option<&'a Inspection>,
}

pub fn run(g: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let (files, mut failed) = collect(&args.paths, &IMAGE_EXTENSIONS);
    let progress = progress_bar(files.len() as u64);
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    for path in &files {
        let shown = path.display().to_string();
        progress.set_message(esc(&shown).to_string());
        let result = capture::inspect_path(path);
        let write = match &result {
            Ok(inspection) => {
                for w in &inspection.warnings {
                    progress.suspend(|| say!("{}: warning: {}", esc(&shown), esc(w)));
                }
                if g.json {
                    json_line(&mut out, &shown, None, Some(inspection))
                } else {
                    table(&mut out, &shown, inspection, !args.no_raw)
                }
            }
            Err(e) => {
                failed += 1;
                progress.suspend(|| say!("{}: {}", esc(&shown), esc(e)));
                if g.json { json_line(&mut out, &shown, Some(e.to_string()), None) } else { Ok(()) }
            }
        };
        if !written(write)? {
            return Ok(ExitCode::SUCCESS);
        }
        progress.inc(1);
    }
    progress.finish_and_clear();
    written(out.flush())?;
    if failed > 0 {
        say!("{failed} file(s) could not be read");
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

fn json_line(
    out: &mut dyn Write,
    path: &str,
    error: Option<String>,
    inspection: Option<&Inspection>,
) -> io::Result<()> {
    let line = JsonLine { format: "handprint.inspect/1", path: path.to_owned(), error, inspection };
    crate::terminal::json(out, &line)
}

fn table(out: &mut dyn Write, path: &str, i: &Inspection, raw: bool) -> io::Result<()> {
    let size = match (i.width, i.height) {
        (Some(w), Some(h)) => format!(" {w}x{h}"),
        _ => String::new(),
    };
    writeln!(out, "{}  {:?}{size}", esc(path), i.format)?;
    if let Some(c) = &i.c2pa {
        let maker =
            c.claim_generator.as_deref().map(|g| format!(", claim generator {g}")).unwrap_or_default();
        row(out, "c2pa", &format!("manifest store present ({}, {} bytes{maker})", c.location, c.bytes))?;
    }
    if i.generations.is_empty() {
        row(out, "generation", "no generation metadata found")?;
        if !i.metadata_keys.is_empty() {
            row(out, "keys seen", &i.metadata_keys.join(", "))?;
        }
    }
    for (n, g) in i.generations.iter().enumerate() {
        if i.generations.len() > 1 {
            writeln!(out, "  -- record {} of {}", n + 1, i.generations.len())?;
        }
        generation(out, g, raw)?;
    }
    writeln!(out)
}

/// One field: a multi-line value (a prompt, the raw text) goes on indented lines of its own;
/// any other control character in the key or value is shown escaped.
fn row(out: &mut dyn Write, key: &str, value: &str) -> io::Result<()> {
    let mut lines = value.lines();
    writeln!(out, "  {:<17} {}", esc(key), esc(lines.next().unwrap_or("")))?;
    for line in lines {
        writeln!(out, "  {:<17} {}", "", esc(line))?;
    }
    Ok(())
}

fn generation(out: &mut dyn Write, g: &Generation, raw: bool) -> io::Result<()> {
    let version = g.generator_version.as_deref().map(|v| format!(" {v}")).unwrap_or_default();
    row(out, "generator", &format!("{}{version}  ({})", g.generator.display_name(), g.source))?;
    let opt = |out: &mut dyn Write, key: &str, v: Option<String>| match v {
        Some(v) => row(out, key, &v),
        None => Ok(()),
    };
    opt(out, "prompt", g.prompt.clone())?;
    opt(out, "negative prompt", g.negative_prompt.clone())?;
    opt(out, "seed", g.seed.map(|v| v.to_string()))?;
    opt(out, "steps", g.steps.map(|v| v.to_string()))?;
    opt(out, "sampler", g.sampler.clone())?;
    opt(out, "scheduler", g.scheduler.clone())?;
    opt(out, "cfg scale", g.cfg_scale.map(|v| v.to_string()))?;
    if let (Some(w), Some(h)) = (g.width, g.height) {
        row(out, "size", &format!("{w}x{h}"))?;
    }
    let model = |m: &capture::ModelRef| match (&m.name, &m.hash) {
        (Some(n), Some(h)) => format!("{n} [{h}]"),
        (Some(n), None) => n.clone(),
        (None, Some(h)) => format!("[{h}]"),
        (None, None) => String::new(),
    };
    opt(out, "model", g.model.as_ref().map(model))?;
    opt(out, "vae", g.vae.as_ref().map(model))?;
    for a in &g.adapters {
        let weight = a.weight.map(|w| format!(" weight {w}")).unwrap_or_default();
        let clip = a.clip_weight.map(|w| format!(" clip {w}")).unwrap_or_default();
        let hash = a.hash.as_deref().map(|h| format!(" [{h}]")).unwrap_or_default();
        row(out, &format!("{:?}", a.kind).to_lowercase(), &format!("{}{weight}{clip}{hash}", a.name))?;
    }
    if let Some(h) = &g.hires {
        row(out, "hires", &serde_json::to_string(h).unwrap_or_default())?;
    }
    if let Some(i) = &g.img2img {
        row(out, &i.mode, &serde_json::to_string(i).unwrap_or_default())?;
    }
    if let Some(v) = &g.variation {
        row(out, "variation", &serde_json::to_string(v).unwrap_or_default())?;
    }
    for (k, v) in &g.extra {
        let v = match v {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        row(out, k, &v)?;
    }
    match (&g.raw, g.raw_in) {
        (Some(text), _) if raw => row(out, "raw", text)?,
        (None, Some(first)) if raw => row(out, "raw", &format!("as record {}", first + 1))?,
        _ => {}
    }
    Ok(())
}
