//! `handprint capture`: a web page where a copy appears, kept as evidence.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::data::{Access, Global, open_registry, signer};
use crate::output::print_json;
use crate::terminal::esc;

/// Capture a web page where a copy of your work appears, as evidence a court can check.
///
/// Fetches the page and every image it references (redirects followed and recorded; limits
/// on size, count and time), and writes a WACZ package: the WARC 1.1 archive of every
/// request and response (with the server's address and TLS certificate chain), a
/// screenshot when Chromium is installed, the environment of the capture, and each image
/// that matches one of your registered works (fingerprints, watermark, Content
/// Credentials) with a side-by-side picture. The package is signed with your key and, with
/// --tsa, fixed in time by an RFC 3161 timestamp. `handprint verify --capture FILE` checks
/// it offline; `warcio check` and `wacz validate` read it.
///
///   handprint capture https://example.com/post/123 --tsa http://timestamp.example
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
pub struct CaptureArgs {
    /// The page's http:// or https:// URL.
    url: String,
    /// The package to write (default: capture-HOST-TIME.wacz here).
    #[arg(long, short, value_name = "FILE.wacz")]
    out: Option<PathBuf>,
    /// An RFC 3161 time-stamping authority (http:// URL) whose token fixes the package in time.
    #[arg(long, value_name = "URL")]
    tsa: Option<String>,
    /// Take no screenshot even when Chromium is installed.
    #[arg(long)]
    no_screenshot: bool,
}

pub fn capture(g: &Global, args: CaptureArgs) -> anyhow::Result<ExitCode> {
    let reg = open_registry(g, Access::Write)?;
    let id = signer(&reg)?;
    let out = args.out.unwrap_or_else(|| {
        let host: String = args
            .url
            .split("://")
            .nth(1)
            .unwrap_or("page")
            .split(['/', ':', '?', '#'])
            .next()
            .unwrap_or("page")
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '-')
            .collect();
        PathBuf::from(format!("capture-{host}-{}.wacz", chrono::Utc::now().format("%Y%m%dT%H%M%SZ")))
    });
    let mut options = registry::web_evidence::CaptureOptions { tsa: args.tsa, ..Default::default() };
    if args.no_screenshot {
        options.fetch.screenshot = webcapture::Screenshot::Off;
    }
    let captured = reg.capture_page(&id, &args.url, &out, &options)?;
    if g.json {
        print_json(&captured)?;
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "captured {} (HTTP {}, {} images) into {}{}",
        esc(&captured.final_url),
        captured.status,
        captured.images_fetched,
        esc(out.display()),
        if captured.partial { " — PARTIAL, see below" } else { "" }
    );
    for l in &captured.left_out {
        say!("left out {}: {}", esc(&l.url), esc(&l.reason));
    }
    if !captured.screenshot {
        say!("no screenshot: {}", esc(&captured.screenshot_note));
    }
    for f in &captured.findings {
        for m in &f.matches {
            println!(
                "  {} matches work {} {:?} ({} confidence){}",
                esc(&f.url),
                m.work,
                m.title,
                m.confidence,
                if f.stripped.is_empty() {
                    String::new()
                } else {
                    format!("; stripped: {}", f.stripped.join(", "))
                }
            );
        }
        if f.matches.is_empty()
            && let Some(w) = f.watermark_work
        {
            println!("  {} carries the watermark of work {w}", esc(&f.url));
        }
    }
    if captured.findings.is_empty() {
        println!("  no image of the page matches a registered work");
    }
    match &captured.timestamp {
        Some(t) => println!("signed by your key and timestamped {} by {}", t.time, esc(&t.tsa)),
        None => println!("signed by your key; not timestamped (use --tsa URL)"),
    }
    Ok(ExitCode::SUCCESS)
}
