//! `handprint claim`: the evidence report of a sealed work, and its bundle.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, anyhow, bail};
use base64::Engine;
use evidence::{Integrity, Jurisdiction, Report, WorkInfo};
use ledger::{EventKind, Hash};
use registry::Registry;
use registry::timestamps::StampResult;
use serde_json::json;

use crate::journal::{open, print_json};
use crate::terminal::esc;

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum JurisdictionArg {
    Cn,
    Us,
    Eu,
    All,
}

/// Make the evidence report of a sealed work: what the human contributed, from the journal.
///
/// WORK is a registered work's ID (see `handprint works`) or the sealed image itself. Writes
/// into DIR (default claim-WORK; it must not exist or be empty):
///   report.html   one self-contained page: the work, the derivation graph, the prompt's
///                 evolution as word diffs, parameter exploration, selection, manual edits,
///                 reproduction, the facts against each jurisdiction's standards (no
///                 verdict), and how to verify everything
///   report.pdf    the same content on A4 pages, fonts embedded (Chinese included)
///   report.json   the same facts as data (format handprint.report/1)
///   bundle/       the project's export (`handprint verify --export DIR/bundle` checks it
///                 offline), and in bundle/image/ the sealed image when it was given
///
/// If the journal does not verify, the report says so on its first page.
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
pub struct ClaimArgs {
    #[arg(value_name = "WORK|FILE")]
    work: String,
    #[arg(long, short, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Folders holding the project's images (generations, edits): those the journal names,
    /// found by SHA-256, are drawn as thumbnails beside their events. Repeatable.
    #[arg(long, value_name = "DIR")]
    images: Vec<PathBuf>,
    /// Whose standards to set the facts against.
    #[arg(long, value_enum, default_value = "all")]
    jurisdiction: JurisdictionArg,
    #[arg(long)]
    json: bool,
}

fn png_data_uri(image: &fingerprint::decode::Rgb) -> String {
    let png = fingerprint::decode::encode_png(image);
    format!("data:image/png;base64,{}", base64::engine::general_purpose::STANDARD.encode(png))
}

/// Thumbnails of the files under `dirs` that the journal names (by SHA-256), as data URIs.
fn thumbnails(dirs: &[PathBuf], wanted: &std::collections::HashSet<String>) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for dir in dirs {
        for entry in walkdir::WalkDir::new(dir).max_depth(3).into_iter().flatten() {
            if !entry.file_type().is_file() || entry.metadata().map_or(true, |m| m.len() > 64 << 20) {
                continue;
            }
            let Ok(bytes) = std::fs::read(entry.path()) else { continue };
            let sha = Hash::of(&bytes).to_hex();
            if !wanted.contains(&sha) || out.contains_key(&sha) {
                continue;
            }
            if let Ok(d) = fingerprint::decode::decode(
                &bytes,
                &fingerprint::decode::Limits { min_side: 8, ..Default::default() },
            ) {
                out.insert(sha, png_data_uri(&fingerprint::prints::thumbnail(&d.image, 96)));
            }
        }
    }
    out
}

fn integrity(reg: &Registry) -> anyhow::Result<Integrity> {
    let v = reg.store.verify(&reg.public.verifying_key()?)?;
    let mut findings: Vec<String> = v
        .findings
        .iter()
        .map(|f| match f.log_index {
            Some(i) => format!("event {i}: {}", f.message),
            None => f.message.clone(),
        })
        .collect();
    let mut timestamp = None;
    for c in reg.check_timestamps()? {
        match c.result {
            StampResult::Valid(s) => timestamp = Some((c.checkpoint, s.time, s.tsa)),
            StampResult::Invalid { error } => {
                findings.push(format!("timestamp of {} events: {error}", c.checkpoint))
            }
        }
    }
    Ok(Integrity {
        journal_verified: findings.is_empty(),
        findings,
        checkpoint: v.latest_checkpoint.map(|c| (c.size, c.root.to_hex(), c.time)),
        timestamp,
    })
}

/// A work named by its ID, or by a file registered (by SHA-256) or carrying a handprint seal;
/// the file too when one was given.
pub(crate) fn resolve_work(reg: &Registry, arg: &str) -> anyhow::Result<(i64, Option<PathBuf>)> {
    let file = Path::new(arg);
    if let Ok(id) = arg.parse::<i64>()
        && !file.exists()
    {
        return Ok((id, None));
    }
    let bytes = std::fs::read(file).with_context(|| format!("{}: cannot read", file.display()))?;
    let by_hash = reg.store.work_by_sha256(&Hash::of(&bytes))?.map(|w| w.id);
    let by_manifest = || -> Option<i64> {
        let format = credentials::Format::sniff(&bytes)?;
        let c = credentials::read(&bytes, format, None).ok()?;
        c.active?.journal?["work"].as_i64()
    };
    let id = by_hash.or_else(by_manifest).ok_or_else(|| {
        anyhow!("{}: not a work registered here, and no handprint seal in it", file.display())
    })?;
    Ok((id, Some(file.to_path_buf())))
}

/// The sealed event of `work` (an index) and its project's events; none when never sealed.
pub(crate) fn sealed_project(
    reg: &Registry,
    work: i64,
) -> anyhow::Result<(Vec<ledger::SignedEvent>, Option<usize>)> {
    let all = reg.store.events(None)?;
    let Some(sealed) =
        all.iter().find(|e| e.event.kind == EventKind::Sealed && e.event.data["work"].as_i64() == Some(work))
    else {
        return Ok((Vec::new(), None));
    };
    let events = reg.store.events(Some(&sealed.event.project))?;
    let at = events.iter().position(|e| e.hash() == sealed.hash());
    Ok((events, at))
}

pub fn claim(home: &Path, args: ClaimArgs) -> anyhow::Result<ExitCode> {
    let reg = open(home)?;
    let (work_id, sealed_file) = resolve_work(&reg, &args.work)?;
    let work =
        reg.store.work(work_id)?.ok_or_else(|| anyhow!("no work {work_id} (see `handprint works`)"))?;
    let (events, sealed_at) = sealed_project(&reg, work_id)?;
    if let Some(f) = &sealed_file {
        let sha256 = Hash::of(&std::fs::read(f).with_context(|| format!("{}: cannot read", f.display()))?);
        if sha256 != work.sha256 {
            bail!(
                "{}: not the file sealed as work {work_id} (its SHA-256 is {}, the work's {}): give the \
                 sealed file itself, or the work's ID",
                f.display(),
                sha256.to_hex(),
                work.sha256.to_hex()
            );
        }
    }
    let out = args.out.clone().unwrap_or_else(|| PathBuf::from(format!("claim-{work_id}")));
    if out.exists() && std::fs::read_dir(&out)?.next().is_some() {
        bail!("{}: exists and is not empty; choose another --out", out.display());
    }
    // Written beside `out` and renamed into place: an interrupted claim leaves no half report.
    // The bundle's export carries a statement signed with the journal's key.
    let signer = match sealed_at {
        Some(_) => Some(crate::journal::signer(&reg)?),
        None => None,
    };
    let partial = partial_dir(&out)?;
    let written = write_claim(
        &reg,
        signer.as_ref(),
        &args,
        &partial,
        &work,
        sealed_file.as_deref(),
        &events,
        sealed_at,
    );
    let report = match written {
        Ok(r) => r,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&partial);
            return Err(e);
        }
    };
    if out.exists() {
        std::fs::remove_dir(&out).with_context(|| format!("{}: cannot replace", out.display()))?;
    }
    std::fs::rename(&partial, &out)
        .with_context(|| format!("{}: cannot move the report into place", out.display()))?;
    let verified = report.integrity.journal_verified;

    if args.json {
        print_json(&json!({
            "work": work_id,
            "out": out,
            "report": out.join("report.html"),
            "journal_verified": verified,
            "events": report.facts.counts.events,
            "sealed": report.facts.sealed.is_some(),
        }));
    } else {
        println!("evidence for work {work_id} {:?} in {}", work.title, esc(out.display()));
        println!(
            "  {} events: {} generations, {} prompt revisions, {} selections, {} edits",
            report.facts.counts.events,
            report.facts.counts.generations,
            report.facts.counts.prompt_revisions,
            report.facts.counts.selected,
            report.facts.counts.edits
        );
        for l in &report.limits {
            println!("  NOTE: {}", esc(l));
        }
    }
    Ok(if verified { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// A hidden, new folder beside `out`, to be renamed to it.
fn partial_dir(out: &Path) -> anyhow::Result<PathBuf> {
    let name = out.file_name().ok_or_else(|| anyhow!("{}: not a folder name", out.display()))?;
    let partial = out.with_file_name(format!(".{}.partial-{}", name.to_string_lossy(), std::process::id()));
    let _ = std::fs::remove_dir_all(&partial);
    Ok(partial)
}

/// Writes the report, its JSON and PDF, and the bundle into `out` (a new folder).
#[allow(clippy::too_many_arguments)]
fn write_claim(
    reg: &Registry,
    signer: Option<&registry::identity::Identity>,
    args: &ClaimArgs,
    out: &Path,
    work: &registry::works::Work,
    sealed_file: Option<&Path>,
    events: &[ledger::SignedEvent],
    sealed_at: Option<usize>,
) -> anyhow::Result<Report> {
    let home = &reg.home;
    let sealed = sealed_at.map(|i| &events[i]);
    let facts = evidence::facts(events, sealed_at);
    std::fs::create_dir_all(out)?;
    let mut info = WorkInfo {
        id: work.id,
        title: work.title.clone(),
        license: work.license.clone(),
        registrant: work.registrant.clone(),
        sha256: work.sha256.to_hex(),
        width: work.width,
        height: work.height,
        thumbnail: reg.store.thumbnail(work.id).ok().map(|t| png_data_uri(&t)),
        ..Default::default()
    };
    if let Some(f) = sealed_file {
        let anchors = registry::identity::root_certificate(home);
        let catalog = reg.store.catalog()?;
        let registered = registry::verify_image::Registered { store: &reg.store, catalog: &catalog };
        let v = registry::verify_image::verify_image(f, Some(&registered), anchors.as_deref())?;
        info.c2pa = Some(format!("{:?}: {}", v.c2pa.status, v.verdict));
        info.watermark = v
            .watermark
            .map(|w| format!("payload {} (false-positive bound {:.1e})", w.payload, w.false_positive));
    }
    let integrity = integrity(reg)?;
    let jurisdictions: Vec<Jurisdiction> = match args.jurisdiction {
        JurisdictionArg::Cn => vec![Jurisdiction::Cn],
        JurisdictionArg::Us => vec![Jurisdiction::Us],
        JurisdictionArg::Eu => vec![Jurisdiction::Eu],
        JurisdictionArg::All => Jurisdiction::ALL.to_vec(),
    };
    let wanted = facts.nodes.iter().filter_map(|n| n.sha256.clone()).collect();
    let mut report = Report::new(facts, Some(info), integrity, &jurisdictions, ledger::event::now());
    report.thumbnails = thumbnails(&args.images, &wanted);
    std::fs::write(out.join("report.html"), report.html()?)?;
    std::fs::write(out.join("report.json"), serde_json::to_vec_pretty(&report)?)?;
    let (pdf, missing) = report.pdf()?;
    std::fs::write(out.join("report.pdf"), pdf)?;
    if !missing.is_empty() {
        eprintln!(
            "handprint: the PDF font lacks {} character(s) ({}), drawn there as boxes; report.html shows them. \
             Set HANDPRINT_PDF_FONT=PATH[#INDEX] to a font that has them.",
            missing.len(),
            esc(missing.iter().take(20).collect::<String>())
        );
    }
    // The bundle: the project's export, with the sealed image beside it in image/.
    let bundle = out.join("bundle");
    match (sealed, signer) {
        (Some(s), Some(signer)) => drop(reg.export(signer, &s.event.project, &bundle)?),
        _ => std::fs::create_dir_all(&bundle)?,
    }
    if let Some(f) = sealed_file {
        let name = f.file_name().ok_or_else(|| anyhow!("{}: not a file name", f.display()))?;
        std::fs::create_dir_all(bundle.join("image"))?;
        std::fs::copy(f, bundle.join("image").join(name))?;
    }
    Ok(report)
}
