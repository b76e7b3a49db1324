//! The copy-finding commands: register, works, search, scan.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;

use anyhow::{Context, bail};
use fingerprint::decode::Limits;
use rayon::prelude::*;
use registry::answers::Unreadable;
use registry::search::{MatchReport, ScanReport, SearchIndex, side_by_side};
use registry::works::{Scanned, scan_file};
use registry::{Registry, Store};

use crate::data::{Access, Global, open, open_registry, signer};
use crate::output::{collect, print_json, progress_bar};
use crate::terminal::esc;

const SCAN_EXTENSIONS: [&str; 5] = ["png", "jpg", "jpeg", "webp", "gif"];

/// Register a finished work, so that `search` and `scan` find its copies.
///
/// Stores the work's title, licence, your name and key, the file's SHA-256, a thumbnail and
/// its fingerprints: PDQ in its eight rotations and mirrors, PDQ without uniform borders,
/// pHash, and 256 local features that find crops, rotations and partial overlays. The image
/// file itself is not copied. A signed `registered` event in the project's journal records
/// it, like every other change. Registering the same file again reports the existing work.
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
pub struct RegisterArgs {
    /// The image (PNG, JPEG, WebP or GIF).
    image: PathBuf,
    /// The work's title.
    #[arg(long)]
    title: String,
    /// Its licence, as you want reusers to see it (an SPDX id such as CC-BY-4.0, or a URL).
    #[arg(long)]
    license: Option<String>,
    /// The project whose journal records the registration (default: `works`, created on
    /// first use).
    #[arg(long, short)]
    project: Option<String>,
}

/// Which registered works an image copies.
///
/// Decodes the image (metadata plays no part), fingerprints it and looks it up: a work
/// matches when one of its PDQ codes is within 31 bits of the image's (the image may be
/// re-encoded, resized, mirrored, rotated by quarter turns, recoloured or letterboxed), or when
/// at least 12 local features agree on one placement of the image in the work (crops down to
/// a small part of it, rotations, logos or text laid over it). Each match says which, with
/// the PDQ distance, the part of the work the image shows, and a confidence:
///   high    PDQ distance ≤ 16, or both kinds of evidence, or ≥ 36 agreeing features
///   medium  one kind of evidence only
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
pub struct SearchArgs {
    image: PathBuf,
    /// Write a side-by-side PNG of the work and the image for each match, into this folder.
    #[arg(long, value_name = "DIR")]
    side_by_side: Option<PathBuf>,
}

/// Look for copies of the registered works in many images, on all cores.
///
/// Every image under the given files and folders (PNG, JPEG, WebP, GIF; folders recursively)
/// is decoded within limits, fingerprinted and searched as `handprint search` does. For each
/// match a side-by-side PNG of the work and the copy is written into --out. A file that cannot
/// be read (not an image, truncated, larger than 64 megapixels, smaller than 32 × 32) gets a
/// message naming it, and the scan goes on. The first frame of an animated file is scanned.
/// With --json, one JSON object per file, one per line (docs/fingerprints.md).
///
/// Exit status: 0 when every file was scanned; 1 when some could not be.
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
pub struct ScanArgs {
    #[arg(required = true, value_name = "DIR|FILE")]
    paths: Vec<PathBuf>,
    /// Where side-by-side PNGs of the matches go.
    #[arg(long, value_name = "DIR", default_value = "handprint-matches")]
    out: PathBuf,
    /// Write no side-by-side PNGs.
    #[arg(long, conflicts_with = "out")]
    no_side_by_side: bool,
    /// Decode JPEGs at 1/2, 1/4 or 1/8 scale, keeping the short side at least this long
    /// (faster on large photos; 0 decodes at full size).
    #[arg(long, value_name = "PIXELS", default_value_t = 512)]
    jpeg_scale_to: u32,
    /// Worker threads (default: one per core).
    #[arg(long, short)]
    jobs: Option<usize>,
    /// For each file that matches a work, write an evidence package into DIR: the file in a
    /// WARC resource record inside a WACZ, its matches with side-by-side pictures, signed
    /// with your key (docs/capture.md); `verify --capture` checks it.
    #[arg(long, value_name = "DIR")]
    evidence: Option<PathBuf>,
    /// With --evidence: an RFC 3161 time-stamping authority (http:// URL) for each package.
    #[arg(long, value_name = "URL", requires = "evidence")]
    tsa: Option<String>,
}

/// The registry, for the commands that look works up: there must be one already.
fn open_works(g: &Global) -> anyhow::Result<Registry> {
    open(g, Access::IfStored)?.with_context(|| {
        format!(
            "no registry in {}: register works with `handprint register IMAGE --title T` first",
            g.home.display()
        )
    })
}

pub fn register(g: &Global, args: RegisterArgs) -> anyhow::Result<ExitCode> {
    let reg = open_registry(g, Access::Write)?;
    let id = signer(&reg)?;
    let r = registry::register::register(
        &reg,
        &id,
        args.project.as_deref(),
        &args.image,
        &args.title,
        args.license.as_deref(),
    )?;
    if g.json {
        print_json(&r)?;
    } else if r.new {
        println!(
            "registered {} as work {}: {:?} ({} local features, PDQ quality {})",
            esc(args.image.display()),
            r.work,
            r.entry.title,
            r.features,
            r.pdq_quality
        );
        if r.pdq_quality < registry::register::LOW_PDQ_QUALITY {
            say!(
                "{}: warning: PDQ quality {} is low (a flat or tiny image): copies are found by local features only",
                esc(args.image.display()),
                r.pdq_quality
            );
        }
    } else {
        println!(
            "{} is already registered as work {}: {:?}",
            esc(args.image.display()),
            r.work,
            r.entry.title
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub fn works(g: &Global) -> anyhow::Result<ExitCode> {
    for w in open_works(g)?.store.works()? {
        if g.json {
            print_json(&w)?;
        } else {
            let license = w.license.as_deref().map(|l| format!(" ({l})")).unwrap_or_default();
            println!(
                "{:>6}  {}  {:?} by {}{}  {}",
                w.id,
                esc(&w.registered),
                w.title,
                esc(&w.registrant),
                esc(license),
                esc(&w.file_name)
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A match, for people.
fn describe(report: &MatchReport) -> String {
    let m = &report.found;
    let license = report.license.as_deref().map(|l| format!(", {l}")).unwrap_or_default();
    let mut s = format!(
        "work {} {:?} by {}{} — {} confidence",
        m.work,
        report.title,
        esc(&report.registrant),
        esc(license),
        report.confidence
    );
    if let Some(g) = m.global {
        let how = match (g.query.name(), g.work.name()) {
            ("original", "original") => String::new(),
            ("trimmed", "original") => " (the image without its borders)".into(),
            (_, "trimmed") => " (the work without its borders)".into(),
            (_, v) => format!(" (the work's {v} variant)"),
        };
        s += &format!("\n    PDQ distance {} of 256{how}", g.distance);
    }
    if let Some(a) = m.alignment {
        let [l, t, r, b] = a.region;
        s += &format!(
            "\n    {} local features agree: the image shows {:.0}% of the work (x {:.0}–{:.0}%, y {:.0}–{:.0}%), rotated {:.1}°, scale {:.2}",
            a.inliers,
            (r - l) * (b - t) * 100.0,
            l * 100.0,
            r * 100.0,
            t * 100.0,
            b * 100.0,
            a.rotation + 0.0,
            a.scale
        );
    }
    s
}

pub fn search(g: &Global, args: SearchArgs) -> anyhow::Result<ExitCode> {
    let reg = open_works(g)?;
    let index = SearchIndex::of_registry(&reg)?;
    let scanned = scan_file(&args.image, &Limits::default())?;
    let mut report = index.search(&reg.store, &scanned)?;
    if let Some(dir) = &args.side_by_side {
        for m in &mut report.matches {
            let picture = write_side_by_side(&reg.store, dir, &scanned, m)?;
            m.side_by_side = Some(picture.display().to_string());
        }
    }
    if g.json {
        print_json(&report)?;
    } else if report.matches.is_empty() {
        println!("{}: no match among {} registered works", esc(args.image.display()), report.works_searched);
    } else {
        println!(
            "{}: {} match(es) among {} registered works",
            esc(args.image.display()),
            report.matches.len(),
            report.works_searched
        );
        for m in &report.matches {
            println!("  {}", describe(m));
            if let Some(p) = &m.side_by_side {
                println!("    side by side: {}", esc(p));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn scan(g: &Global, args: ScanArgs) -> anyhow::Result<ExitCode> {
    let reg = open_works(g)?;
    let index = SearchIndex::of_registry(&reg)?;
    if index.works() == 0 {
        bail!("no works registered in {}: nothing to scan for", g.home.display());
    }
    // Asked for before the scan, not in the middle of it.
    let evidence = match &args.evidence {
        Some(dir) => {
            Some((dir.clone(), signer(&reg)?, registry::timestamps::read_roots(&reg.tsa_roots_dir())?))
        }
        None => None,
    };
    let matched_files = Mutex::new(Vec::new());
    let (files, mut failed) = collect(&args.paths, &SCAN_EXTENSIONS);
    let limits =
        Limits { jpeg_scale_to: (args.jpeg_scale_to > 0).then_some(args.jpeg_scale_to), ..Limits::default() };
    let side_by_side = (!args.no_side_by_side).then_some(args.out.as_path());
    let pool = rayon::ThreadPoolBuilder::new().num_threads(args.jobs.unwrap_or(0)).build()?;
    let progress = progress_bar(files.len() as u64);
    // The store is one SQLite connection: thumbnails are read under a lock, rarely.
    let store = Mutex::new(reg.store);
    let (unreadable, matched, found) = (Mutex::new(0usize), Mutex::new(0usize), Mutex::new(0usize));
    let printing = Mutex::new(None);
    pool.install(|| {
        files.par_iter().for_each(|path| {
            let shown = path.display().to_string();
            let record = |id| store.lock().expect("store").work(id);
            let line = match scan_file(path, &limits)
                .and_then(|scanned| Ok((index.scan(&scanned, record)?, scanned)))
            {
                Err(e) => {
                    *unreadable.lock().expect("counter") += 1;
                    progress.suspend(|| say!("{}", esc(&e)));
                    Line::Unreadable(Unreadable::new(path, &e))
                }
                Ok((mut report, scanned)) => {
                    if let Some(n) = report.frames {
                        progress
                            .suspend(|| say!("{}: animated, {n} frames: the first was scanned", esc(&shown)));
                    }
                    for m in &mut report.matches {
                        let picture = side_by_side.and_then(|dir| {
                            let store = store.lock().expect("store");
                            write_side_by_side(&store, dir, &scanned, m)
                                .map_err(|e| {
                                    progress.suspend(|| say!("{}: side by side: {:#}", esc(&shown), esc(&e)))
                                })
                                .ok()
                        });
                        m.side_by_side = picture.map(|p| p.display().to_string());
                        if !g.json {
                            progress.suspend(|| {
                                println!("{}: {}", esc(&shown), describe(m));
                                if let Some(p) = &m.side_by_side {
                                    println!("    side by side: {}", esc(p));
                                }
                            });
                        }
                    }
                    if !report.matches.is_empty() {
                        matched_files.lock().expect("files").push(path.clone());
                        *matched.lock().expect("counter") += 1;
                        *found.lock().expect("counter") += report.matches.len();
                    }
                    Line::Read(report)
                }
            };
            if g.json
                && let Err(e) = print_json(&line)
            {
                printing.lock().expect("error").get_or_insert(e);
            }
            progress.inc(1);
        });
    });
    progress.finish_and_clear();
    if let Some(e) = printing.into_inner().expect("error") {
        return Err(e);
    }
    failed += *unreadable.lock().expect("counter");
    if let Some((dir, id, roots)) = &evidence {
        let store = store.into_inner().expect("store");
        let mut files = matched_files.into_inner().expect("files");
        files.sort();
        std::fs::create_dir_all(dir).with_context(|| format!("{}: cannot create", dir.display()))?;
        for file in files {
            let stem =
                file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "image".into());
            let mut out = dir.join(format!("{stem}.wacz"));
            for n in 2.. {
                if !out.exists() {
                    break;
                }
                out = dir.join(format!("{stem}-{n}.wacz"));
            }
            match registry::web_evidence::package_file(
                &store,
                &index,
                id,
                &file,
                &out,
                args.tsa.as_deref(),
                roots,
            ) {
                Ok(Some(p)) if g.json => print_json(&serde_json::json!({ "evidence": p }))?,
                Ok(Some(p)) => say!("{}: evidence package {}", esc(file.display()), esc(p.out.display())),
                Ok(None) => {}
                Err(e) => {
                    failed += 1;
                    say!("{}: evidence package: {}", esc(file.display()), esc(&e));
                }
            }
        }
    }
    let (matched, found) = (*matched.lock().expect("counter"), *found.lock().expect("counter"));
    if !g.json {
        say!(
            "scanned {} file(s) against {} work(s): {matched} with matches ({found} in all), {failed} unreadable",
            files.len(),
            index.works()
        );
    }
    Ok(if failed > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// One line of `scan --json`.
#[derive(serde::Serialize)]
#[serde(untagged)]
enum Line {
    Read(ScanReport),
    Unreadable(Unreadable),
}

/// Writes `<image stem>--work<id>.png` into `dir`: the side-by-side picture of the match.
fn write_side_by_side(
    store: &Store,
    dir: &Path,
    scanned: &Scanned,
    m: &MatchReport,
) -> anyhow::Result<PathBuf> {
    let png = side_by_side(store, scanned, &m.found)?;
    std::fs::create_dir_all(dir).with_context(|| format!("{}: cannot create", dir.display()))?;
    let stem =
        scanned.path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "image".into());
    let path = dir.join(format!("{stem}--work{}.png", m.work));
    let tmp = dir.join(format!(".{stem}--work{}.png.tmp", m.work));
    std::fs::write(&tmp, png).with_context(|| format!("{}: cannot write", tmp.display()))?;
    std::fs::rename(&tmp, &path).with_context(|| format!("{}: cannot write", path.display()))?;
    Ok(path)
}
