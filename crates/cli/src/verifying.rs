//! `handprint verify`: the journal, an exported project, or what images say of their origin.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use credentials::Status;
use registry::Registry;
use registry::answers::Unreadable;
use registry::verify_image::{ImageVerdict, Registered, VerifyOptions, verify_image_with};

use crate::data::{Access, Global, open, open_registry};
use crate::output::print_json;
use crate::terminal::esc;

/// Check images, or the journal: every signature, chain link, Merkle root and checkpoint.
///
/// With IMAGE arguments, checks what each image says of its origin (see IMAGE below), offline:
/// a person reads one verdict per image, a program --json. Without, checks the whole store. With --export DIR, checks an exported project
/// with nothing but the folder's contents. Any tampering (a flipped byte, a deleted,
/// reordered, inserted or re-signed event, a rolled-back log) is named: which event, and what
/// is wrong.
///
/// Exit status: 0 when everything verifies; 1 when anything does not (for images, see IMAGE).
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
pub struct VerifyArgs {
    /// Images to check instead: their Content Credentials (C2PA, validated by the c2pa
    /// crate), the journal proof a sealed image carries, the watermark and the registered
    /// work it names, a fingerprint match in your registry, the AIGC label, and the generator
    /// metadata still present. Exit status for images: 1 when a claim a file makes fails
    /// (Content Credentials tampered or invalid, a journal proof that fails); 2 when a file
    /// cannot be read at all (empty, not an image); 0 otherwise. Pixels that do not decode
    /// are reported on a "could not check" line and follow the same rule. Over several
    /// files, the highest status applies.
    #[arg(value_name = "IMAGE", conflicts_with = "export")]
    images: Vec<PathBuf>,
    /// PEM root certificates to trust as C2PA signers, besides your own root.
    #[arg(long, value_name = "PEM")]
    trust: Vec<PathBuf>,
    /// Fetch a remote manifest an image's XMP names (http:// only, at most 16 MiB, 10 s) and
    /// validate it against the image; without, it is reported as not fetched.
    #[arg(long, conflicts_with = "export")]
    fetch_remote: bool,
    /// Check an exported project folder instead of the store. What is verified is the key
    /// that signed it, shown by its SHA-256 fingerprint; the name it gives is shown as claimed.
    #[arg(long, value_name = "DIR")]
    export: Option<PathBuf>,
    /// Check a capture package (`handprint capture`) instead, offline: every WARC record's
    /// digests, every file's hash, the index and pages, the signature over its
    /// datapackage.json, and its RFC 3161 timestamp against the roots in `tsa-roots/`.
    #[arg(long, value_name = "FILE.wacz", conflicts_with_all = ["export", "images"])]
    capture: Option<PathBuf>,
}

pub fn verify(g: &Global, args: VerifyArgs) -> anyhow::Result<ExitCode> {
    if let Some(file) = &args.capture {
        return verify_capture(g, file);
    }
    if !args.images.is_empty() {
        return verify_images(g, &args.images, &args.trust, args.fetch_remote);
    }
    let ok = match &args.export {
        Some(dir) => {
            let check = registry::answers::check_export(dir)?;
            if g.json {
                print_json(&check)?;
            } else {
                print_checked(
                    &export_summary(dir, &check.verification),
                    &check.verification.findings,
                    check.ok,
                );
            }
            check.ok
        }
        None => {
            let reg = open_registry(g, Access::ReadOnly)?;
            let check = registry::journal_check::journal_check(&reg)?;
            if g.json {
                print_json(&check)?;
            } else {
                print_checked(&store_summary(&reg, &check), &check.verification.findings, check.ok);
            }
            check.ok
        }
    };
    Ok(if ok { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn print_checked(summary: &str, findings: &[ledger::verify::Finding], ok: bool) {
    println!("{summary}");
    for f in findings {
        println!("  FAIL  {}", esc(&f.message));
    }
    println!(
        "{}",
        if ok {
            "verified: every signature, chain link, Merkle root and checkpoint checks out"
        } else {
            "NOT VERIFIED"
        }
    );
}

fn export_summary(dir: &Path, v: &registry::export::ExportVerification) -> String {
    if v.key_fingerprint.is_empty() {
        // No manifest or no key in it: nothing was checked.
        return format!("export {}", esc(dir.display()));
    }
    let mut summary =
        format!("export of project {:?}: {} events, {} checkpoints", v.project, v.events, v.checkpoints);
    if let Some(c) = &v.checkpoint {
        summary += &format!(", proved against the log of {} events signed at {}", c.size, esc(&c.time));
    }
    // What is verified is the key; the name is its holder's claim, and so is the certificate,
    // issued by a root the same holder made.
    summary += &format!(
        "\n  key SHA-256 {}, claimed by {}\n  (the key is what was verified; compare its fingerprint with one the \
         author gave you: the name and certificate come with the key and prove no identity)",
        v.key_fingerprint,
        esc(&v.author)
    );
    for s in &v.timestamps {
        summary += &format!(
            "\n  timestamp {} by {} (TSA roots shipped in the export: {})",
            esc(&s.time),
            esc(&s.tsa),
            esc(v.tsa_roots.join(", "))
        );
    }
    summary
}

fn store_summary(reg: &Registry, check: &registry::journal_check::JournalCheck) -> String {
    use registry::timestamps::StampResult;
    let v = &check.verification;
    let mut summary = format!(
        "journal of {}: {} events in {} projects, {} checkpoints",
        esc(&reg.public.name),
        v.events,
        v.projects,
        v.checkpoints
    );
    if let Some(c) = &v.latest_checkpoint {
        summary += &format!(", latest {} events at {}", c.size, esc(&c.time));
    }
    if v.uncovered_events > 0 {
        summary += &format!(", {} events after it", v.uncovered_events);
    }
    for c in &check.timestamps {
        if let StampResult::Valid(s) = &c.result {
            summary += &format!(
                "\n  timestamp: checkpoint of {} events existed by {} ({}, {})",
                c.checkpoint,
                esc(&s.time),
                esc(&s.tsa),
                esc(&c.tsa_url)
            )
        }
    }
    summary
}

/// One action of a manifest, on one line.
fn action_line(a: &serde_json::Value) -> String {
    let mut line = a["action"].as_str().unwrap_or("?").to_owned();
    if let Some(t) = a["digitalSourceType"].as_str() {
        line += &format!(" ({})", t.rsplit('/').next().unwrap_or(t));
    }
    if let Some(agent) = a["softwareAgent"]["name"].as_str().or_else(|| a["softwareAgent"].as_str()) {
        line += &format!(" by {agent}");
    }
    line
}

fn print_verdict(v: &ImageVerdict) {
    println!("{}: {}", esc(v.file.display()), esc(&v.verdict));
    let c = &v.c2pa;
    if let Some(r) = c.remote.as_ref().filter(|r| !r.fetched) {
        match &r.error {
            None => println!("  remote manifest at {}, not fetched (--fetch-remote fetches it)", esc(&r.url)),
            Some(e) => println!("  remote manifest at {}: could not fetch it: {}", esc(&r.url), esc(e)),
        }
    }
    if let Some(m) = &c.active {
        let time = match (m.signed_at.as_deref(), m.timestamp.as_deref()) {
            (Some(t), Some(stamp)) => format!("timestamped at {t} (time-stamp {stamp})"),
            (None, Some(stamp)) => format!("time-stamp {stamp}, no trusted signing time"),
            (Some(t), None) => format!("at {t}"),
            (None, None) => "no trusted signing time".to_owned(),
        };
        println!(
            "  C2PA {:?}: {} signed by {} ({}), {}",
            c.status,
            esc(m.claim_generator.as_deref().unwrap_or("?")),
            esc(m.signer.as_deref().unwrap_or("?")),
            esc(m.issuer.as_deref().unwrap_or("?")),
            esc(time)
        );
        for a in &m.actions {
            let mut line = format!("    {}", a["action"].as_str().unwrap_or("?"));
            if let Some(t) = a["digitalSourceType"].as_str() {
                line += &format!(" ({})", t.rsplit('/').next().unwrap_or(t));
            }
            if let Some(d) = a["description"].as_str() {
                line += &format!(": {d}");
            }
            println!("{}", esc(line));
        }
        println!("    {} ingredient(s), {} manifest(s) in the store", m.ingredients.len(), c.manifests);
    }
    if c.chain.len() > 1 {
        println!("  provenance chain, first to last:");
        for (i, link) in c.chain.iter().enumerate() {
            let actions: Vec<String> = link.actions.iter().map(action_line).collect();
            println!(
                "    {}. {}{}: {} signed by {}{}; {}",
                i + 1,
                esc(&link.label),
                if link.active { " (active)" } else { "" },
                esc(link.claim_generator.as_deref().unwrap_or("?")),
                esc(link.signer.as_deref().unwrap_or("?")),
                esc(link.signed_at.as_deref().map(|t| format!(" at {t}")).unwrap_or_default()),
                esc(if actions.is_empty() { "no actions".to_owned() } else { actions.join(", ") })
            );
        }
    }
    for ai in &c.ai {
        println!(
            "  AI-generated, says {} {} signed by {}: {}",
            if ai.active { "the active manifest" } else { "earlier manifest" },
            esc(&ai.manifest),
            esc(ai.signer.as_deref().unwrap_or("?")),
            esc(&ai.reason)
        );
    }
    for f in &c.failures {
        println!("    FAIL {}", esc(f));
    }
    if let Some(j) = &v.journal {
        for p in &j.problems {
            println!("  journal: FAIL {}", esc(p));
        }
    }
    for p in &v.problems {
        println!("  could not check: {}", esc(p));
    }
    if let Some(a) = &v.aigc {
        println!(
            "  AIGC label: Label {} by {:?}, ProduceID {}",
            esc(&a.label),
            a.content_producer,
            esc(&a.produce_id)
        );
    }
    if !v.generator_metadata.is_empty() {
        println!("  generator metadata: {}", esc(v.generator_metadata.join(", ")));
    }
}

fn verify_images(
    g: &Global,
    files: &[PathBuf],
    trust: &[PathBuf],
    fetch_remote: bool,
) -> anyhow::Result<ExitCode> {
    let reg = open(g, Access::IfStored)?;
    let catalog = reg.as_ref().map(|r| r.store.catalog()).transpose()?;
    let registered =
        reg.as_ref().zip(catalog.as_ref()).map(|(r, catalog)| Registered { store: &r.store, catalog });
    let extra = trust
        .iter()
        .map(|t| std::fs::read_to_string(t).map_err(|e| anyhow::anyhow!("{}: {e}", t.display())))
        .collect::<anyhow::Result<Vec<String>>>()?;
    let anchors = registry::trust::anchors(&g.home, &extra);
    let options = VerifyOptions { trust_anchors: anchors.as_deref(), fetch_remote };
    // 1 when a claim a file makes fails, 2 when a file cannot be read at all; the highest wins.
    let mut code = 0u8;
    for f in files {
        match verify_image_with(f, registered.as_ref(), &options) {
            Ok(v) => {
                let bad = matches!(v.c2pa.status, Status::Tampered | Status::Invalid)
                    || v.journal.as_ref().is_some_and(|j| !j.verified);
                if bad {
                    code = code.max(1);
                }
                if g.json {
                    print_json(&v)?;
                } else {
                    print_verdict(&v);
                }
            }
            Err(e) => {
                code = 2;
                if g.json {
                    print_json(&Unreadable::new(f, &e))?;
                } else {
                    say!("{}", esc(e));
                }
            }
        }
    }
    Ok(ExitCode::from(code))
}

/// The largest capture package read.
const MAX_CAPTURE: u64 = 4 << 30;

fn verify_capture(g: &Global, file: &Path) -> anyhow::Result<ExitCode> {
    let bytes = registry::read_limited_file(file, MAX_CAPTURE)?;
    let roots = registry::timestamps::read_roots(&g.home.join("tsa-roots"))?;
    let check = registry::web_evidence::verify_capture(&bytes, &roots);
    if g.json {
        print_json(&check)?;
    } else if check.verified {
        let a = &check.archive;
        println!(
            "{}: VERIFIED — {} WARC records and {} files intact; signed by key {} (claimed by {}){}",
            esc(file.display()),
            a.records.len(),
            a.resources.len(),
            esc(check.signed_by.as_deref().unwrap_or_default()),
            esc(check.name.as_deref().unwrap_or("no name")),
            match &check.timestamp {
                Some(t) => format!("; timestamped {} by {}", t.time, esc(&t.tsa)),
                None => "; no timestamp".to_owned(),
            }
        );
    } else {
        println!("{}: FAILS", esc(file.display()));
        for p in &check.problems {
            println!("  {}", esc(p));
        }
    }
    Ok(if check.verified { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
