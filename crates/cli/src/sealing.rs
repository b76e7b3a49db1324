//! `handprint seal` and `handprint verify IMAGE...`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use credentials::Status;
use registry::seal::SealOptions;
use registry::verify_image::{ImageVerdict, Registered, VerifyOptions, verify_image_with};

use crate::journal::{open, print_json, signer};
use crate::terminal::esc;
use crate::works::existing_store;
use registry::answers::rounded;

/// Seal a final work: register it, embed the watermark, label it, sign its Content Credentials.
///
/// In one step, all or nothing:
///   1. registers the image as a new work (a new work ID);
///   2. appends a `sealed` event to the project's journal, with a new signed checkpoint;
///   3. embeds the invisible watermark carrying the work ID (docs/watermark.md);
///   4. writes China's implicit AIGC label (GB 45438-2025: XMP `TC260:AIGC`), and with
///      --visible-label its explicit label in the image's corner;
///   5. signs a C2PA manifest with your certificate (from `handprint init`): c2pa.created
///      with the IPTC digital source type, c2pa.edited for each recorded edit, you as
///      author, the source generations as ingredients, a soft binding naming the watermark,
///      and the journal proof (the sealed event, the checkpoint, the inclusion proof) —
///      docs/credentials.md. With --tsa (or the data directory's config.json), an RFC 3161
///      timestamp goes into the signature: the credential stays valid after your
///      certificate expires.
///
/// The digital source type follows the file's lineage in the journal: generations only,
/// trainedAlgorithmicMedia; generations with edits or imports,
/// compositeWithTrainedAlgorithmicMedia. With no generation in the lineage (a photo, a
/// drawing, a file from elsewhere) handprint cannot tell, and you say it with --source-type;
/// seal refuses without it. The AIGC label (step 4) is written only for AI-generated
/// source types.
///
/// The file must be in the project's journal (recorded, or an edit's output) unless --import
/// says it comes from elsewhere. JPEG, PNG and WebP; the same format is written. The input
/// is never overwritten unless --in-place. A file already sealed by handprint is refused: a
/// sealed file is final (seal the file it was made from). A file carrying another tool's
/// manifest is sealed with that manifest kept as its ingredient's (the C2PA chain goes on).
///
/// Check the result with `handprint verify FILE`, or with any C2PA validator (c2patool).
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
pub struct SealArgs {
    file: PathBuf,
    #[arg(long, short)]
    project: String,
    #[arg(long)]
    title: String,
    /// The licence reusers may take it under (free text or an SPDX id).
    #[arg(long)]
    license: Option<String>,
    /// Where to write (default: NAME.sealed.EXT beside the input).
    #[arg(long, short, conflicts_with = "in_place")]
    out: Option<PathBuf>,
    /// Replace the input file with the sealed one.
    #[arg(long)]
    in_place: bool,
    /// Seal a file that is not in the journal, recording it as imported first.
    #[arg(long)]
    import: bool,
    /// Also draw the explicit AI label GB 45438-2025 asks of images: white text on a dark box
    /// in the bottom-right corner, at least 5% of the shorter side high. TEXT defaults to
    /// "AI生成"; the embedded font has ASCII and 生成合人工智能内容由标识.
    #[arg(long, value_name = "TEXT", num_args = 0..=1, default_missing_value = credentials::label::DEFAULT_TEXT)]
    visible_label: Option<String>,
    /// What the image is, as an IPTC digital source type term (digitalCapture, digitalCreation,
    /// trainedAlgorithmicMedia, …): needed when the journal holds no generation in its
    /// lineage; refused when it contradicts the lineage.
    #[arg(long, value_name = "TERM")]
    source_type: Option<String>,
    /// An RFC 3161 time-stamping authority (http:// URL) to timestamp the C2PA signature
    /// (default: "seal": {"tsa": URL} in the data directory's config.json). Its token must
    /// verify against a root you trust (--tsa-root, or `handprint timestamp --tsa-root`).
    #[arg(long, value_name = "URL", conflicts_with = "no_tsa")]
    tsa: Option<String>,
    /// Trust this TSA root certificate (PEM) from now on, then seal.
    #[arg(long, value_name = "PEM")]
    tsa_root: Option<PathBuf>,
    /// No timestamp, whatever config.json says.
    #[arg(long)]
    no_tsa: bool,
    #[arg(long)]
    json: bool,
}

fn default_output(input: &Path) -> PathBuf {
    let stem = input.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let ext = input.extension().map(|e| format!(".{}", e.to_string_lossy())).unwrap_or_default();
    input.with_file_name(format!("{stem}.sealed{ext}"))
}

pub fn seal(home: &Path, args: SealArgs) -> anyhow::Result<ExitCode> {
    let output = match (&args.out, args.in_place) {
        (_, true) => args.file.clone(),
        (Some(o), false) => o.clone(),
        (None, false) => default_output(&args.file),
    };
    let mut reg = open(home)?;
    if let Some(pem) = &args.tsa_root {
        reg.trust_tsa_root(pem)?;
    }
    let tsa = match (&args.tsa, args.no_tsa) {
        (_, true) => None,
        (Some(url), false) => Some(url.clone()),
        (None, false) => reg.seal_config()?.tsa,
    };
    let id = signer(&reg)?;
    let options = SealOptions {
        project: &args.project,
        title: &args.title,
        license: args.license.as_deref(),
        import: args.import,
        visible_label: args.visible_label.as_deref(),
        source_type: args.source_type.as_deref(),
        tsa: tsa.as_deref(),
        output: &output,
    };
    let sealed = reg.seal(&id, &args.file, &options)?;
    if args.json {
        print_json(&sealed)?;
    } else {
        if sealed.recovered {
            println!(
                "already sealed: {} is work {} {:?}; nothing new was signed",
                esc(sealed.output.display()),
                sealed.work.id,
                sealed.work.title
            );
            return Ok(ExitCode::SUCCESS);
        }
        println!(
            "sealed {} as work {} {:?}",
            esc(sealed.output.display()),
            sealed.work.id,
            sealed.work.title
        );
        println!(
            "  journal: event #{} ({}), checkpoint of {} events",
            sealed.log_index, sealed.event_hash, sealed.checkpoint_size
        );
        println!(
            "  watermark: payload {:016x}, PSNR {} dB",
            sealed.work.id,
            rounded(sealed.psnr.unwrap_or(f64::NAN), 2)
        );
        println!(
            "  C2PA: signed by {}, digital source type {}",
            esc(&sealed.work.registrant),
            esc(&sealed.source_type)
        );
        if let Some(time) = &sealed.timestamp {
            println!("  timestamped at {} by {}", esc(time), esc(tsa.as_deref().unwrap_or("?")));
        }
        if sealed.imported {
            println!("  the file was not in the journal: recorded as imported first");
        }
        if sealed.kept_manifest {
            println!("  the file's own Content Credentials are kept as its ingredient's");
        }
    }
    Ok(ExitCode::SUCCESS)
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

pub fn verify_images(
    home: &Path,
    files: &[PathBuf],
    trust: &[PathBuf],
    fetch_remote: bool,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let store = existing_store(home)?;
    let catalog = store.as_ref().map(|s| s.catalog()).transpose()?;
    let registered =
        store.as_ref().zip(catalog.as_ref()).map(|(store, catalog)| Registered { store, catalog });
    let mut anchors = registry::identity::root_certificate(home).unwrap_or_default();
    for t in trust {
        anchors += &std::fs::read_to_string(t).map_err(|e| anyhow::anyhow!("{}: {e}", t.display()))?;
    }
    // The time-stamping authorities trusted for the journal are trusted for signatures' times.
    for der in registry::timestamps::read_roots(&home.join("tsa-roots")).unwrap_or_default() {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD.encode(der);
        let lines: Vec<&str> =
            b64.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap_or_default()).collect();
        anchors += &format!("-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n", lines.join("\n"));
    }
    let anchors = (!anchors.is_empty()).then_some(anchors);
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
                if json {
                    print_json(&v)?;
                } else {
                    print_verdict(&v);
                }
            }
            Err(e) => {
                code = 2;
                if json {
                    print_json(&registry::answers::Unreadable::new(f, &e))?;
                } else {
                    eprintln!("handprint: {}", esc(e));
                }
            }
        }
    }
    Ok(ExitCode::from(code))
}
