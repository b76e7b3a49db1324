//! The registry server and its clients: serve, publish, unpublish, lookup.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use serde_json::Value;

use crate::data::{Access, Global, open_registry, signer};
use crate::output::print_json;
use crate::terminal::esc;

/// Run the public registry: publish, clearance look-ups, the C2PA soft-binding API, a web page.
///
/// Serves HTTP on ADDR (put it behind a TLS-terminating proxy on the internet). The data
/// directory holds the key that signs the log of publications and, unless --database names
/// a PostgreSQL server, the SQLite store; the server reads and writes nothing else. The
/// works are loaded once; works published later (through this server or another sharing
/// the database) are found within a second. docs/server.md documents the API and the log.
///
///   handprint serve --data /srv/handprint --listen 0.0.0.0:8080 --public-url https://registry.example
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
pub struct ServeArgs {
    /// Where to listen.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    listen: SocketAddr,
    /// The server's data directory. Default: `server` in the handprint data directory.
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// The URL the public reaches the server at, for links in answers.
    #[arg(long, value_name = "URL")]
    public_url: Option<String>,
    /// The largest image to look up, in MiB.
    #[arg(long, default_value_t = 32, value_name = "MIB")]
    max_upload_mib: usize,
    /// Requests per second allowed from one client address.
    #[arg(long, default_value_t = 200.0, value_name = "N")]
    rate: f64,
    /// Search through matcher processes (`handprint match`), one per part of the index,
    /// instead of holding the index here (repeat, or separate with commas). A look-up asks
    /// them all at once; when one does not answer, the answer says it is partial.
    #[arg(long, value_name = "URL", value_delimiter = ',')]
    matchers: Vec<String>,
}

/// The store a server or matcher is told to use for this run; `None`: the SQLite file in
/// its data directory.
fn run_database(g: &Global) -> anyhow::Result<Option<registry::Database>> {
    Ok(match std::env::var_os("HANDPRINT_DATABASE").filter(|d| !d.is_empty()) {
        // Only a database named for this run; the creator's own store is not the registry's.
        Some(_) => Some(g.database.as_ref().map_err(|e| anyhow::anyhow!("--database: {e}"))?.clone()),
        None => None,
    })
}

/// The runtime a server runs on.
fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    // glibc gives every thread that allocates its own arena, and the blocking pool's threads
    // each keep one: two arenas keep the resident size flat under long load.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; called before other threads exist.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(64)
        .build()
        .context("starting the server's runtime")
}

pub fn serve(g: &Global, args: ServeArgs) -> anyhow::Result<ExitCode> {
    let database = run_database(g)?;
    let limits = server::Limits {
        max_upload: args.max_upload_mib << 20,
        rate: args.rate,
        burst: args.rate * 2.0,
        ..Default::default()
    };
    let config = server::Config {
        listen: args.listen,
        data: args.data.unwrap_or_else(|| g.home.join("server")),
        database,
        public_url: args.public_url,
        limits,
        domains: Default::default(),
        matchers: args.matchers,
    };
    let runtime = runtime()?;
    let json = g.json;
    let data = config.data.clone();
    runtime.block_on(server::serve(config, |addr| {
        if json {
            println!("{}", serde_json::json!({ "listening": addr.to_string(), "data": data }));
        } else {
            println!("handprint registry listening on http://{addr} (data in {})", esc(data.display()));
        }
    }))?;
    Ok(ExitCode::SUCCESS)
}

/// Hold one part of a registry server's search index, for `handprint serve --matchers`.
///
/// Loads the works of part I of N (those whose number is I modulo N) from the registry's
/// store (HANDPRINT_DATABASE, as for `serve`; else the SQLite file in DIR), follows the works
/// stored later, and answers the server's look-ups on ADDR (an internal API: listen on an
/// address only the server reaches). It keeps nothing but, with --snapshot, a cache of its
/// part: a matcher that stopped is replaced by starting another, which opens the snapshot
/// and catches up from the store (or rebuilds the part without one). docs/server.md
/// describes the matchers, docs/scale.md the snapshot.
///
///   handprint match --part 0/3 --listen 127.0.0.1:8090
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
pub struct MatchArgs {
    /// Which part: I/N, part I (0 to N-1) of N.
    #[arg(long, value_name = "I/N")]
    part: registry::search::Part,
    /// Where to listen.
    #[arg(long, default_value = "127.0.0.1:8090", value_name = "ADDR")]
    listen: SocketAddr,
    /// The registry server's data directory, for its SQLite store. Default: `server` in the
    /// handprint data directory.
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// Keep the part's catalog snapshot in DIR (created), so that a restart opens it and
    /// catches up from the store instead of rebuilding the part (docs/scale.md).
    #[arg(long, value_name = "DIR")]
    snapshot: Option<PathBuf>,
}

pub fn matcher(g: &Global, args: MatchArgs) -> anyhow::Result<ExitCode> {
    let data = args.data.unwrap_or_else(|| g.home.join("server"));
    let database = match run_database(g)? {
        Some(d) => d,
        None => registry::Database::Sqlite(data.join("registry.sqlite")),
    };
    let config = server::MatcherConfig {
        listen: args.listen,
        part: args.part,
        database,
        limits: server::Limits { rate: 1e9, burst: 1e9, ..Default::default() },
        snapshot: args.snapshot,
    };
    let runtime = runtime()?;
    let (json, part) = (g.json, args.part);
    runtime.block_on(server::serve_matcher(config, |addr, works| {
        if json {
            println!(
                "{}",
                serde_json::json!({ "listening": addr.to_string(), "part": format!("{}/{}", part.index, part.count), "works": works })
            );
        } else {
            println!("handprint matcher for part {}/{} listening on http://{addr} ({works} works)", part.index, part.count);
        }
    }))?;
    Ok(ExitCode::SUCCESS)
}

/// Publish a sealed work on a registry server, so that its copies are traced back to you.
///
/// Sends the sealed image (and, with --evidence, the evidence folder `claim` wrote) in a
/// request signed with your key (HTTP Message Signatures, RFC 9421). The server checks that
/// the same key signed the image's Content Credentials and the journal proof inside them,
/// registers its fingerprints and watermark ID, and appends the publication to its log. If
/// the image matches a work published earlier under another key, it is published as a
/// disputed claim that names the earlier one.
///
///   handprint publish final.png --server https://registry.example --license CC-BY-4.0
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
pub struct PublishArgs {
    /// The sealed image.
    image: PathBuf,
    /// The registry's URL.
    #[arg(long, env = "HANDPRINT_SERVER", value_name = "URL")]
    server: String,
    /// The title shown (default: the title it was sealed with).
    #[arg(long)]
    title: Option<String>,
    /// Its licence, as reusers should see it (an SPDX id such as CC-BY-4.0, or a URL).
    #[arg(long)]
    license: Option<String>,
    /// An evidence folder to keep with it (what `handprint claim` writes).
    #[arg(long, value_name = "DIR")]
    evidence: Option<PathBuf>,
    /// Let anyone read the evidence (kept private by default: shown to nobody, but its
    /// digest is in the log).
    #[arg(long, requires = "evidence")]
    public_evidence: bool,
    /// A web domain that vouches for your key: it serves
    /// https://DOMAIN/.well-known/handprint.txt with the line `ed25519 <your public key>`
    /// (`handprint init` printed it; identity.json holds it). Pages then show your name as
    /// verified by DOMAIN instead of as your own claim.
    #[arg(long, value_name = "DOMAIN")]
    domain: Option<String>,
}

pub fn publish(g: &Global, args: PublishArgs) -> anyhow::Result<ExitCode> {
    let reg = open_registry(g, Access::ReadOnly)?;
    let id = signer(&reg)?;
    let server = registry::remote::Server::new(&args.server)?;
    let p = registry::remote::Publish {
        creator: &id.public.name,
        title: args.title.as_deref(),
        license: args.license.as_deref(),
        evidence: args.evidence.as_deref().map(|d| (d, args.public_evidence)),
        domain: args.domain.as_deref(),
    };
    let answer = server.publish(&id.key, &args.image, &p)?;
    if g.json {
        print_json(&answer)?;
        return Ok(ExitCode::SUCCESS);
    }
    let work = &answer["work"];
    let verb = if answer["new"] == true { "published" } else { "already published" };
    println!(
        "{verb} {} as work {} ({}), entry {} of the registry's log: {}",
        esc(args.image.display()),
        work["id"],
        esc(work["title"].as_str().unwrap_or_default()),
        answer["publication"]["log_index"],
        esc(answer["links"]["page"].as_str().unwrap_or_default())
    );
    for d in answer["disputes"].as_array().into_iter().flatten() {
        say!(
            "disputed: the image matches work {} ({}), published earlier by {} under another key",
            d["id"],
            esc(d["title"].as_str().unwrap_or_default()),
            esc(d["registrant"].as_str().unwrap_or_default())
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Withdraw a work you published: look-ups show it withdrawn; the log keeps its entry.
#[derive(clap::Args)]
pub struct UnpublishArgs {
    /// The work's number on the server.
    work: i64,
    #[arg(long, env = "HANDPRINT_SERVER", value_name = "URL")]
    server: String,
}

pub fn unpublish(g: &Global, args: UnpublishArgs) -> anyhow::Result<ExitCode> {
    let reg = open_registry(g, Access::ReadOnly)?;
    let id = signer(&reg)?;
    let answer = registry::remote::Server::new(&args.server)?.withdraw(&id.key, args.work)?;
    if g.json {
        print_json(&answer)?;
    } else {
        println!("work {} withdrawn (entry {} of the registry's log)", args.work, answer["log_index"]);
    }
    Ok(ExitCode::SUCCESS)
}

/// Ask a registry whether anyone claims an image, by whom, under what licence, and whether
/// it is AI-made.
///
/// Sends the image's bytes to the server, which reads its Content Credentials, watermark and
/// labels and looks its fingerprints up among the published works: a copy stripped of its
/// metadata, re-encoded, resized or cropped is still found. Every claim is listed, oldest
/// first. Exit status 0 whether or not anything matched.
///
///   handprint lookup found.jpg --server https://registry.example
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
pub struct LookupArgs {
    image: PathBuf,
    #[arg(long, env = "HANDPRINT_SERVER", value_name = "URL")]
    server: String,
}

pub fn lookup(g: &Global, args: LookupArgs) -> anyhow::Result<ExitCode> {
    let answer = registry::remote::Server::new(&args.server)?.lookup(&args.image)?;
    if g.json {
        print_json(&answer)?;
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{}: {}",
        esc(args.image.display()),
        esc(answer["image"]["verdict"].as_str().unwrap_or_default())
    );
    let claims = answer["claims"].as_array().cloned().unwrap_or_default();
    if claims.is_empty() {
        println!("  no published work matches");
    }
    for c in &claims {
        println!("  {}", esc(claim_line(c)));
    }
    Ok(ExitCode::SUCCESS)
}

fn claim_line(c: &Value) -> String {
    let w = &c["work"];
    let s = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    let creator = match c["publication"]["domain"].as_str() {
        Some(d) => format!("{} (verified: {d})", s(&w["registrant"])),
        None => format!("{} (their own claim)", s(&w["registrant"])),
    };
    let by: Vec<String> = c["found_by"].as_array().into_iter().flatten().map(s).collect();
    format!(
        "work {} {:?} by {creator}, licence {}, published {} (log entry {}), {}; found by {}: {}",
        w["id"],
        s(&w["title"]),
        w["license"].as_str().unwrap_or("none given"),
        s(&w["registered"]),
        c["publication"]["log_index"],
        s(&c["status"]),
        by.join(" and "),
        s(&c["links"]["page"])
    )
}
