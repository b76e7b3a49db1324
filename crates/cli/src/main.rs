//! The `handprint` command line: each command parses its arguments, calls one registry
//! operation and prints what it answers, for people or (`--json`) for programs.

#[macro_use]
mod output;
mod capturing;
mod claim;
mod data;
mod evidencing;
mod inspect;
mod journal;
mod marking;
mod reproducing;
mod sealing;
mod serving;
mod terminal;
mod verifying;
mod works;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "handprint",
    version,
    about = "Prove the human hand in AI-assisted images, and find where they were copied.",
    long_about = "Prove the human hand in AI-assisted images, and find where they were copied.\n\n\
        A creator records every generation, prompt revision, selection and manual edit as it \
        happens, in a signed, hash-chained journal that nobody (the creator included) can rewrite \
        without it showing.\n\n\
        Start with `handprint init --name \"Your Name\"`, then `handprint project new NAME` and \
        `handprint record FILE... --project NAME` (or `handprint watch DIR --project NAME`).\n\n\
        To seal a finished image (watermark, Content Credentials, AIGC label, journal proof): \
        `handprint seal FILE --project NAME --title T`; anyone checks it with `handprint verify FILE`. \
        The evidence of what you contributed, for a court, an office or a platform: \
        `handprint claim FILE --images DIR`.\n\n\
        To find copies: `handprint register IMAGE --title T` for each finished work, then \
        `handprint search IMAGE` or `handprint scan DIR`.\n\n\
        To publish a sealed work on a public registry: `handprint publish FILE --server URL`; anyone \
        asks it `handprint lookup IMAGE --server URL`; `handprint serve` runs one.\n\n\
        Exit status: 0 when the command did its work; 1 when it ran but found problems (files it \
        could not read, a journal or export that does not verify); 2 when it could not run (a \
        usage error, no identity, no such project, an unreachable TSA, ...). Every command has \
        --json for programs."
)]
struct Cli {
    /// Data directory (identity, keys, journal). Default: $HANDPRINT_HOME, else
    /// $XDG_DATA_HOME/handprint, else ~/.local/share/handprint.
    #[arg(long, global = true, value_name = "DIR")]
    home: Option<PathBuf>,
    /// Where the journal and the works are stored: a PostgreSQL URL
    /// (postgres://user:password@host:port/database) or an SQLite file. Default: the SQLite
    /// file in the data directory. The identity stays in the data directory either way.
    #[arg(long, global = true, value_name = "URL", env = "HANDPRINT_DATABASE", hide_env_values = true)]
    database: Option<String>,
    /// Print JSON for programs instead of text for people: one object per result, one per
    /// line, in the formats docs/ describes.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Inspect(inspect::Args),
    Init(journal::InitArgs),
    /// Create and list projects: the creative works in progress.
    #[command(subcommand)]
    Project(journal::ProjectCommand),
    Record(journal::RecordArgs),
    Watch(journal::WatchArgs),
    /// Record that you chose a candidate image (already in the journal), and why.
    Select(journal::ChooseArgs),
    /// Record that you set a candidate image aside (already in the journal), and why.
    Reject(journal::ChooseArgs),
    Edit(journal::EditArgs),
    Import(journal::ImportArgs),
    Note(journal::NoteArgs),
    Log(journal::LogArgs),
    Verify(verifying::VerifyArgs),
    Export(journal::ExportArgs),
    Timestamp(journal::TimestampArgs),
    Seal(sealing::SealArgs),
    Claim(claim::ClaimArgs),
    Reproduce(reproducing::ReproduceArgs),
    Register(works::RegisterArgs),
    /// List the registered works.
    Works,
    Search(works::SearchArgs),
    Scan(works::ScanArgs),
    /// Embed or detect the invisible watermark.
    #[command(subcommand)]
    Watermark(marking::WatermarkCommand),
    Serve(serving::ServeArgs),
    Match(serving::MatchArgs),
    Publish(serving::PublishArgs),
    Unpublish(serving::UnpublishArgs),
    Lookup(serving::LookupArgs),
    Capture(capturing::CaptureArgs),
    Evidence(evidencing::EvidenceArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let home = registry::home_dir(cli.home.as_deref());
    let database = match cli.database.as_deref().filter(|d| !d.is_empty()) {
        Some(d) => registry::Database::parse(d),
        None => Ok(registry::Database::in_home(&home)),
    };
    let g = data::Global { home, database, json: cli.json };
    let result = match cli.command {
        Command::Inspect(args) => inspect::run(&g, args),
        Command::Init(args) => journal::init(&g, args),
        Command::Project(cmd) => journal::project(&g, cmd),
        Command::Record(args) => journal::record(&g, args),
        Command::Watch(args) => journal::watch(&g, args),
        Command::Select(args) => journal::choose(&g, args, true),
        Command::Reject(args) => journal::choose(&g, args, false),
        Command::Edit(args) => journal::edit(&g, args),
        Command::Import(args) => journal::import(&g, args),
        Command::Note(args) => journal::note(&g, args),
        Command::Log(args) => journal::log(&g, args),
        Command::Verify(args) => verifying::verify(&g, args),
        Command::Export(args) => journal::export(&g, args),
        Command::Timestamp(args) => journal::timestamp(&g, args),
        Command::Seal(args) => sealing::seal(&g, args),
        Command::Claim(args) => claim::claim(&g, args),
        Command::Reproduce(args) => reproducing::reproduce(&g, args),
        Command::Register(args) => works::register(&g, args),
        Command::Works => works::works(&g),
        Command::Search(args) => works::search(&g, args),
        Command::Scan(args) => works::scan(&g, args),
        Command::Watermark(cmd) => marking::run(&g, cmd),
        Command::Serve(args) => serving::serve(&g, args),
        Command::Match(args) => serving::matcher(&g, args),
        Command::Publish(args) => serving::publish(&g, args),
        Command::Unpublish(args) => serving::unpublish(&g, args),
        Command::Lookup(args) => serving::lookup(&g, args),
        Command::Capture(args) => capturing::capture(&g, args),
        Command::Evidence(args) => evidencing::evidence(&g, args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            say!("{}", terminal::esc(causes(&e)));
            ExitCode::from(2)
        }
    }
}

/// The error and its causes, `: `-separated, each said once: a cause whose text the message
/// before it already holds (an error that prints its source too) is left out.
fn causes(e: &anyhow::Error) -> String {
    let mut out = e.to_string();
    let mut previous = out.clone();
    for cause in e.chain().skip(1) {
        let text = cause.to_string();
        if !previous.contains(&text) {
            out += ": ";
            out += &text;
        }
        previous = text;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::causes;

    /// An error that prints its source as well as giving it.
    #[derive(Debug)]
    struct Repeats(std::io::Error);

    impl std::fmt::Display for Repeats {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "x.png: {}", self.0)
        }
    }

    impl std::error::Error for Repeats {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn each_cause_is_said_once() {
        let os = || std::io::Error::from_raw_os_error(2);
        let e = anyhow::Error::new(Repeats(os()));
        assert_eq!(causes(&e), format!("x.png: {}", os()));
        let e = anyhow::Error::new(os()).context("x.png: cannot write");
        assert_eq!(causes(&e), format!("x.png: cannot write: {}", os()));
        let e = anyhow::anyhow!("out of memory").context("out of memory");
        assert_eq!(causes(&e), "out of memory");
    }
}
