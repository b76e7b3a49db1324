//! The journal commands: init, project, record, watch, select, reject, edit, import, note,
//! log, export, timestamp.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use ledger::SignedEvent;
use registry::Outcome;

use crate::data::{Access, Global, open_registry, passphrase, signer};
use crate::output::{print_json, written};
use crate::terminal::esc;

/// Create your identity: an Ed25519 key pair, your name, and an X.509 certificate.
///
/// Writes identity.json, key.pem (mode 0600), certificate.pem and root.pem into the data
/// directory. An existing identity is never overwritten. With --passphrase the private key is
/// stored encrypted (PKCS#8, scrypt + AES-256-CBC); the passphrase is read from
/// HANDPRINT_PASSPHRASE or asked for on the terminal, and every signing command needs it.
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
pub struct InitArgs {
    /// Your name as it should appear on evidence.
    #[arg(long)]
    name: String,
    /// Encrypt the private key with a passphrase.
    #[arg(long)]
    passphrase: bool,
}

#[derive(clap::Subcommand)]
pub enum ProjectCommand {
    /// Create a project: a creative work in progress whose events form one chain.
    New { name: String },
    /// List projects with their event counts.
    List,
}

/// Record image files in a project's journal, as they are.
///
/// Each image with generator metadata becomes a `generated` event (file SHA-256, size,
/// dimensions, the normalized generation record of `handprint inspect`); one without becomes
/// `imported`. When the prompt differs from the project's previous generation, a
/// `prompt-edited` event comes first. Lineage is linked: prompt revisions, re-renders from the
/// same seed and prompt (upscales, hires passes, variations), img2img init images. Files
/// already in the project (same SHA-256) are skipped.
///
/// A file that reads with damage (truncated, a chunk skipped) is recorded as it is, and each
/// warning is printed on stderr as `handprint: FILE: warning: ...` (in --json also as the
/// line's `warnings`); generation events keep them in their data. With --json, one JSON
/// object per file.
///
/// Exit status: 0 when every file was recorded or already there, with warnings or without;
/// 1 when some could not be.
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
pub struct RecordArgs {
    /// The images to record (PNG, JPEG, WebP).
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// The project to record into (create it with `handprint project new`).
    #[arg(long, short)]
    project: String,
}

/// Watch a generator's output folder and record every new image once it is written.
///
/// Point it at AUTOMATIC1111's outputs/txt2img-images, ComfyUI's output, or any folder a
/// generator writes to; subfolders are included. On start, what is already there and not yet
/// in the project is recorded (by SHA-256, so nothing twice). A file is recorded once its size
/// has not changed for --settle-ms and it reads to its end. The folder may be moved away and
/// back: watching goes on. Stop with Ctrl-C; nothing is half-written. What reading a recorded
/// file found damaged is printed on stderr as `handprint: FILE: warning: ...`, as by `record`.
/// With --json, one JSON object per recorded file.
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
pub struct WatchArgs {
    /// The folder the generator writes to.
    dir: PathBuf,
    /// The project to record into.
    #[arg(long, short)]
    project: String,
    /// How often to look, in milliseconds.
    #[arg(long, default_value_t = 500)]
    interval_ms: u64,
    /// How long a file must stay unchanged before it counts as written, in milliseconds.
    #[arg(long, default_value_t = 1000)]
    settle_ms: u64,
}

/// The file must already be in the journal (by SHA-256); its project is used unless
/// --project narrows the search.
#[derive(clap::Args)]
pub struct ChooseArgs {
    /// The candidate image.
    file: PathBuf,
    /// Why, in your words.
    #[arg(long)]
    reason: Option<String>,
    #[arg(long, short)]
    project: Option<String>,
}

/// Record manual work: INPUT (already in the journal) made into OUTPUT with a tool.
#[derive(clap::Args)]
pub struct EditArgs {
    /// The image you started from (already in the journal).
    input: PathBuf,
    /// The image you made.
    output: PathBuf,
    /// The tool used: Photoshop, Krita, GIMP, inpainting, ...
    #[arg(long)]
    tool: String,
    /// What you did.
    #[arg(long)]
    note: Option<String>,
    #[arg(long, short)]
    project: Option<String>,
}

/// Record a file from elsewhere: your sketch, a photo, a reference.
#[derive(clap::Args)]
pub struct ImportArgs {
    /// The file to bring in.
    file: PathBuf,
    /// The project to record into.
    #[arg(long, short)]
    project: String,
    /// What it is.
    #[arg(long, default_value = "other", value_parser = ["sketch", "photo", "reference", "other"])]
    what: String,
    #[arg(long)]
    note: Option<String>,
}

/// Add a note to a project's journal: an idea, an intention, a reason.
#[derive(clap::Args)]
pub struct NoteArgs {
    /// The note.
    text: String,
    /// The project it belongs to.
    #[arg(long, short)]
    project: String,
}

/// Show the journal's history.
///
/// With --json, the signed events themselves, one canonical JSON object per line.
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
pub struct LogArgs {
    /// Only this project's events (default: all).
    #[arg(long, short)]
    project: Option<String>,
}

/// Export a project as a self-contained folder that anyone can verify offline.
///
/// The folder holds the project's signed events, inclusion proofs, every checkpoint with
/// consistency proofs, the public identity, and a statement of all that signed with your key,
/// so that nothing can be cut from it unseen (docs/ledger.md); a key with a passphrase asks
/// for it. Prints the key's SHA-256 fingerprint: give it to whoever checks the folder with
/// `handprint verify --export DIR`.
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
pub struct ExportArgs {
    /// Where to write (must not exist, or be empty).
    dir: PathBuf,
    /// The project to export.
    #[arg(long, short)]
    project: String,
}

/// Fix the journal in time: an RFC 3161 timestamp over the latest checkpoint.
///
/// Asks a time-stamping authority (TSA) for a token over the latest checkpoint. The token is
/// verified (message imprint, signature, certificate chain to a trusted TSA root) before it
/// is stored; `verify` checks every stored token again, offline, and exports carry them.
/// Trust a TSA by giving its root certificate once with --tsa-root (kept in the data
/// directory's tsa-roots/). The TSA URL may also come from HANDPRINT_TSA.
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
pub struct TimestampArgs {
    /// The TSA's URL (RFC 3161 over HTTP), e.g. <http://timestamp.digicert.com>
    #[arg(long, env = "HANDPRINT_TSA")]
    tsa: String,
    /// A TSA root certificate (PEM) to trust from now on.
    #[arg(long, value_name = "FILE")]
    tsa_root: Option<PathBuf>,
}

pub fn init(g: &Global, args: InitArgs) -> anyhow::Result<ExitCode> {
    // The name is shown on evidence, in certificates and by every verifier: it must read as
    // it is, with nothing that moves a terminal's cursor or reverses the text after it. The
    // identity refuses such a name too; checked here first, before a passphrase is asked for.
    if let Some(c) = args.name.chars().find(|&c| crate::terminal::is_unsafe(c)) {
        bail!(
            "--name {:?}: U+{:04X} is a control or text-direction character; give the name as it should read",
            args.name,
            c as u32
        );
    }
    let pass = if args.passphrase {
        Some(passphrase(true)?.context("--passphrase needs HANDPRINT_PASSPHRASE or a terminal to ask on")?)
    } else {
        None
    };
    let init = registry::answers::init(&g.home, &args.name, pass.as_deref())?;
    if g.json {
        print_json(&init)?;
    } else {
        let public = &init.identity;
        println!("created identity {:?} in {}", public.name, esc(g.home.display()));
        println!("  public key   {}", public.public_key);
        println!(
            "  key file     {} ({})",
            esc(g.home.join("key.pem").display()),
            if pass.is_some() { "encrypted" } else { "not encrypted" }
        );
        println!("  certificate  {}", esc(g.home.join("certificate.pem").display()));
    }
    Ok(ExitCode::SUCCESS)
}

pub fn project(g: &Global, cmd: ProjectCommand) -> anyhow::Result<ExitCode> {
    let reg = open_registry(g, Access::Write)?;
    match cmd {
        ProjectCommand::New { name } => {
            let p = registry::answers::create_project(&reg, &name)?;
            if g.json {
                print_json(&p)?;
            } else if p.created {
                println!("created project {}", esc(&name));
            } else {
                println!("project {} exists already", esc(&name));
            }
        }
        ProjectCommand::List => {
            for p in registry::answers::projects(&reg.store)? {
                if g.json {
                    print_json(&p)?;
                } else {
                    println!("{:<30} {:>7} events  since {}", esc(&p.project), p.events, esc(&p.created));
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn record(g: &Global, args: RecordArgs) -> anyhow::Result<ExitCode> {
    let mut reg = open_registry(g, Access::Write)?;
    let id = signer(&reg)?;
    let outcomes = reg.record(&id, &args.project, &args.files)?;
    let failed = report_outcomes(&outcomes, g.json)?;
    Ok(if failed > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

pub fn watch(g: &Global, args: WatchArgs) -> anyhow::Result<ExitCode> {
    let mut reg = open_registry(g, Access::Write)?;
    let id = signer(&reg)?;
    if !reg.store.project_exists(&args.project)? {
        return Err(registry::RegistryError::NoProject(args.project).into());
    }
    if !args.dir.is_dir() {
        bail!("{}: not a folder", args.dir.display());
    }
    let mut watcher = registry::watch::Watcher::new(
        &args.dir,
        &args.project,
        std::time::Duration::from_millis(args.settle_ms),
    );
    eprintln!("watching {} for project {} (Ctrl-C to stop)", esc(args.dir.display()), esc(&args.project));
    let mut was_missing = false;
    loop {
        let poll = watcher.poll(&mut reg, &id)?;
        if poll.missing && !was_missing {
            say!("{} is gone (moved or deleted); waiting for it to come back", esc(args.dir.display()));
        }
        if poll.returned {
            say!("{} is back; watching again", esc(args.dir.display()));
        }
        was_missing = poll.missing;
        report_outcomes(&poll.outcomes, g.json)?;
        std::io::stdout().flush()?;
        std::thread::sleep(std::time::Duration::from_millis(args.interval_ms));
    }
}

/// Names on stderr what reading a recorded file found damaged or left out (a truncated file,
/// a chunk too large to read): the file is recorded as it is, and its creator hears of it now.
fn print_warnings(r: &registry::Recorded) {
    for w in &r.warnings {
        say!("{}: warning: {}", esc(r.path.display()), esc(w));
    }
}

/// Prints what happened to each file; returns how many failed.
fn report_outcomes(outcomes: &[Outcome], json: bool) -> anyhow::Result<usize> {
    let mut failed = 0;
    for o in outcomes {
        match o {
            Outcome::Recorded(r) => {
                print_warnings(r);
                if json {
                    print_json(o)?;
                } else {
                    for (i, k) in &r.also {
                        println!("#{i:<6} {:<13} (before {})", k.as_str(), esc(r.path.display()));
                    }
                    println!("#{:<6} {:<13} {}", r.log_index, r.kind.as_str(), esc(r.path.display()));
                }
            }
            Outcome::AlreadyRecorded { path, log_index } => {
                if json {
                    print_json(o)?;
                } else {
                    println!("#{log_index:<6} {:<13} {} (already recorded)", "-", esc(path.display()));
                }
            }
            Outcome::Failed { error, .. } => {
                failed += 1;
                say!("{}", esc(error));
                if json {
                    print_json(o)?;
                }
            }
        }
    }
    Ok(failed)
}

fn report_event(e: &SignedEvent, json: bool) {
    if json {
        println!("{}", String::from_utf8_lossy(&e.to_bytes()));
    } else {
        println!(
            "#{:<6} {:<13} {} #{}",
            e.event.log_index,
            e.event.kind.as_str(),
            esc(&e.event.project),
            e.event.project_seq
        );
    }
}

pub fn choose(g: &Global, args: ChooseArgs, selected: bool) -> anyhow::Result<ExitCode> {
    let mut reg = open_registry(g, Access::Write)?;
    let id = signer(&reg)?;
    let e = reg.choose(&id, &args.file, selected, args.reason.as_deref(), args.project.as_deref())?;
    report_event(&e, g.json);
    Ok(ExitCode::SUCCESS)
}

pub fn edit(g: &Global, args: EditArgs) -> anyhow::Result<ExitCode> {
    let mut reg = open_registry(g, Access::Write)?;
    let id = signer(&reg)?;
    let e =
        reg.edit(&id, &args.input, &args.output, &args.tool, args.note.as_deref(), args.project.as_deref())?;
    report_event(&e, g.json);
    Ok(ExitCode::SUCCESS)
}

pub fn import(g: &Global, args: ImportArgs) -> anyhow::Result<ExitCode> {
    let mut reg = open_registry(g, Access::Write)?;
    let id = signer(&reg)?;
    let outcome = reg.import(&id, &args.project, &args.file, &args.what, args.note.as_deref())?;
    if let Outcome::Recorded(r) = &outcome {
        print_warnings(r);
    }
    match outcome {
        Outcome::Failed { error, .. } => return Err(error.into()),
        o if g.json => print_json(&o)?,
        Outcome::Recorded(r) => println!("#{:<6} {:<13} {}", r.log_index, "imported", esc(r.path.display())),
        Outcome::AlreadyRecorded { path, log_index } => {
            println!("#{log_index:<6} {:<13} {} (already recorded)", "-", esc(path.display()))
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn note(g: &Global, args: NoteArgs) -> anyhow::Result<ExitCode> {
    let mut reg = open_registry(g, Access::Write)?;
    let id = signer(&reg)?;
    let e = reg.note(&id, &args.project, &args.text)?;
    report_event(&e, g.json);
    Ok(ExitCode::SUCCESS)
}

/// One line saying what an event is about.
pub fn log(g: &Global, args: LogArgs) -> anyhow::Result<ExitCode> {
    let reg = open_registry(g, Access::Write)?;
    if let Some(p) = &args.project
        && !reg.store.project_exists(p)?
    {
        return Err(registry::RegistryError::NoProject(p.clone()).into());
    }
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for e in reg.store.events(args.project.as_deref())? {
        let r = if g.json {
            writeln!(out, "{}", String::from_utf8_lossy(&e.to_bytes()))
        } else {
            let links: Vec<String> = e
                .event
                .derived_from
                .iter()
                .map(|l| format!("{} {}", l.relation, &l.event.to_hex()[..8]))
                .collect();
            let links = if links.is_empty() { String::new() } else { format!("  <- {}", links.join(", ")) };
            writeln!(
                out,
                "#{:<6} {} {:<14} {:<13} {}{links}",
                e.event.log_index,
                esc(e.event.time.get(..19).unwrap_or(&e.event.time)),
                esc(format!("{} #{}", e.event.project, e.event.project_seq)),
                e.event.kind.as_str(),
                esc(registry::answers::one_line(&e))
            )
        };
        if !written(r)? {
            return Ok(ExitCode::SUCCESS);
        }
    }
    written(out.flush())?;
    Ok(ExitCode::SUCCESS)
}

pub fn timestamp(g: &Global, args: TimestampArgs) -> anyhow::Result<ExitCode> {
    let reg = open_registry(g, Access::Write)?;
    if let Some(root) = &args.tsa_root {
        let kept = reg.trust_tsa_root(root)?;
        if !g.json {
            println!("trusting TSA root {} (kept as {})", esc(root.display()), esc(kept.display()));
        }
    }
    let t = registry::answers::timestamp(&reg, &args.tsa)?;
    if g.json {
        print_json(&t)?;
    } else {
        println!(
            "checkpoint of {} events timestamped at {} by {} (serial {})",
            t.checkpoint,
            esc(&t.stamp.time),
            esc(&t.stamp.tsa),
            esc(&t.stamp.serial)
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub fn export(g: &Global, args: ExportArgs) -> anyhow::Result<ExitCode> {
    let reg = open_registry(g, Access::Write)?;
    let id = signer(&reg)?;
    let m = registry::answers::export(&reg, &id, &args.project, &args.dir)?;
    if g.json {
        print_json(&m)?;
    } else {
        println!(
            "exported {} events of project {} to {}",
            m.events,
            esc(&m.project),
            esc(args.dir.display())
        );
        println!("signed with the key whose SHA-256 fingerprint is {}", m.key_fingerprint);
        println!("check it with: handprint verify --export {}", esc(args.dir.display()));
    }
    Ok(ExitCode::SUCCESS)
}
