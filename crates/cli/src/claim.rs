//! `handprint claim`: the evidence report of a sealed work, and its bundle.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use evidence::Jurisdiction;
use registry::Registry;
use registry::claim::{ClaimRequest, SealedFile};

use crate::data::{Access, Global, open_registry, signer};
use crate::output::{print_json, warn_missing_glyphs};
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
}

/// A file given on the command line: its path and contents.
pub(crate) type GivenFile = (PathBuf, Vec<u8>);

/// The work WORK|FILE names, and the file when it is one.
pub(crate) fn resolve_work(reg: &Registry, arg: &str) -> anyhow::Result<(i64, Option<GivenFile>)> {
    let file = Path::new(arg);
    if let Ok(id) = arg.parse::<i64>()
        && !file.exists()
    {
        return Ok((id, None));
    }
    let bytes = registry::read_image_file(file)?;
    let id = registry::claim::work_of_file(&reg.store, file, &bytes)?;
    Ok((id, Some((file.to_path_buf(), bytes))))
}

pub fn claim(g: &Global, args: ClaimArgs) -> anyhow::Result<ExitCode> {
    let reg = open_registry(g, Access::Write)?;
    let (work, sealed_file) = resolve_work(&reg, &args.work)?;
    let out = args.out.clone().unwrap_or_else(|| PathBuf::from(format!("claim-{work}")));
    let jurisdictions: Vec<Jurisdiction> = match args.jurisdiction {
        JurisdictionArg::Cn => vec![Jurisdiction::Cn],
        JurisdictionArg::Us => vec![Jurisdiction::Us],
        JurisdictionArg::Eu => vec![Jurisdiction::Eu],
        JurisdictionArg::All => Jurisdiction::ALL.to_vec(),
    };
    let request = ClaimRequest {
        work,
        sealed_file: sealed_file.as_ref().map(|(path, bytes)| SealedFile { path, bytes }),
        images: &args.images,
        jurisdictions: &jurisdictions,
    };
    let claim = registry::claim::claim(&reg, &request)?;
    // Refused before a passphrase is asked for, not after.
    registry::claim::check_out_dir(&out)?;
    // The bundle's export carries a statement signed with the journal's key.
    let signer = if claim.needs_signer() { Some(signer(&reg)?) } else { None };
    let written = claim.write(&reg, signer.as_ref(), &out)?;
    warn_missing_glyphs(&written.missing_glyphs);
    if g.json {
        print_json(&written)?;
    } else {
        let (report, counts) = (&claim.report, &claim.report.facts.counts);
        println!("evidence for work {work} {:?} in {}", claim.work.title, esc(out.display()));
        println!(
            "  {} events: {} generations, {} prompt revisions, {} selections, {} edits",
            counts.events, counts.generations, counts.prompt_revisions, counts.selected, counts.edits
        );
        for l in &report.limits {
            println!("  NOTE: {}", esc(l));
        }
    }
    Ok(if written.journal_verified { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
