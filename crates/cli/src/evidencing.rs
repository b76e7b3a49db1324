//! `handprint evidence`: the infringement report of a copy, from a capture package or a
//! local file.

use std::path::PathBuf;
use std::process::ExitCode;

use registry::infringement::CopyInput;

use crate::data::{Access, Global, open_registry};
use crate::output::{print_json, warn_missing_glyphs};
use crate::terminal::esc;

/// Make the infringement report of a copy of your work: where it was found, how it was kept,
/// how it matches the work, and when each happened.
///
/// From a capture package (`handprint capture`), checked offline first: a package that does
/// not verify is refused. Or from a local file, with --source and --found-at: the report then
/// says the source is stated by you, not verified. Writes report.html, report.pdf and
/// report.json into a new folder.
///
///   handprint evidence capture-example.com-20261130T140000Z.wacz
///   handprint evidence copy.jpg --source https://example.com/post/123 --found-at 2026-11-30T14:00:00Z
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
pub struct EvidenceArgs {
    /// A capture package (.wacz), or with --source, the copy's file.
    copy: PathBuf,
    /// The registered work the copy is of (default: the best match).
    #[arg(long, value_name = "ID")]
    work: Option<i64>,
    /// Where you found the file (a URL or a description); marks the report's source as stated by you.
    #[arg(long, value_name = "URL", requires = "found_at")]
    source: Option<String>,
    /// When you found it, RFC 3339 (2026-11-30T14:00:00Z).
    #[arg(long, value_name = "TIME", requires = "source")]
    found_at: Option<String>,
    /// The folder to write (default: evidence-WORK), new or empty.
    #[arg(long, short, value_name = "DIR")]
    out: Option<PathBuf>,
    /// A registry server where the work was published: the report says when, and at which
    /// entry of its log.
    #[arg(long, env = "HANDPRINT_SERVER", value_name = "URL")]
    server: Option<String>,
}

pub fn evidence(g: &Global, args: EvidenceArgs) -> anyhow::Result<ExitCode> {
    let reg = open_registry(g, Access::ReadOnly)?;
    let copy = match (&args.source, &args.found_at) {
        (Some(source), Some(found_at)) => CopyInput::File { path: &args.copy, source, found_at },
        _ => CopyInput::Package(&args.copy),
    };
    let mut report = registry::infringement::infringement(&reg, &copy, args.work)?;
    if let Some(url) = &args.server {
        let server = registry::remote::Server::new(url)?;
        if !registry::infringement::add_publication(&reg, &mut report, &server)? {
            say!("{}: work {} is not published there", esc(url), report.work.id);
        }
    }
    let out = args.out.unwrap_or_else(|| PathBuf::from(format!("evidence-{}", report.work.id)));
    let written = registry::infringement::write(&report, &out)?;
    warn_missing_glyphs(&written.missing_glyphs);
    if g.json {
        print_json(&written)?;
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "infringement report for work {} {:?} in {}",
        written.work,
        report.work.title,
        esc(out.display())
    );
    println!(
        "  copy at {}{}",
        esc(&written.source),
        if written.stated_by_user { " (stated by you, not verified)" } else { "" }
    );
    match written.sealed_before {
        Some(true) => println!("  the work was sealed before the copy was found"),
        Some(false) => println!("  the work was NOT sealed before the copy was found"),
        None => println!("  the work is not sealed"),
    }
    Ok(ExitCode::SUCCESS)
}
