//! `handprint seal` and `handprint verify IMAGE...`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use credentials::Status;
use registry::seal::SealOptions;
use registry::verify_image::{ImageVerdict, Registered, verify_image};

use crate::journal::{open, print_json, signer};
use crate::terminal::esc;
use crate::works::{existing_store, rounded};

/// Seal a final work: register it, embed the watermark, label it, sign its Content Credentials.
///
/// In one step, all or nothing:
///   1. registers the image as a new work (a new work ID);
///   2. appends a `sealed` event to the project's journal, with a new signed checkpoint;
///   3. embeds the invisible watermark carrying the work ID (docs/watermark.md);
///   4. writes China's implicit AIGC label (GB 45438-2025: XMP `TC260:AIGC`), and with
///      --visible-label its explicit label in the image's corner;
///   5. signs a C2PA manifest with your certificate (from `handprint init`): c2pa.created
///      with the IPTC digital source type (trainedAlgorithmicMedia, or
///      compositeWithTrainedAlgorithmicMedia when the journal holds edits or imports),
///      c2pa.edited for each recorded edit, you as author, the source generations as
///      ingredients, a soft binding naming the watermark, and the journal proof (the sealed
///      event, the checkpoint, the inclusion proof) — docs/credentials.md.
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
    let id = signer(&reg)?;
    let options = SealOptions {
        project: &args.project,
        title: &args.title,
        license: args.license.as_deref(),
        import: args.import,
        visible_label: args.visible_label.as_deref(),
        output: &output,
    };
    let sealed = reg.seal(&id, &args.file, &options)?;
    if args.json {
        print_json(&serde_json::to_value(&sealed)?);
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
        if sealed.imported {
            println!("  the file was not in the journal: recorded as imported first");
        }
        if sealed.kept_manifest {
            println!("  the file's own Content Credentials are kept as its ingredient's");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_verdict(v: &ImageVerdict) {
    println!("{}: {}", esc(v.file.display()), esc(&v.verdict));
    let c = &v.c2pa;
    if let Some(m) = &c.active {
        println!(
            "  C2PA {:?}: {} signed by {} ({}), {}",
            c.status,
            esc(m.claim_generator.as_deref().unwrap_or("?")),
            esc(m.signer.as_deref().unwrap_or("?")),
            esc(m.issuer.as_deref().unwrap_or("?")),
            esc(m.signed_at.as_deref().map_or("no trusted signing time".to_owned(), |t| format!("at {t}")))
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
    let anchors = (!anchors.is_empty()).then_some(anchors);
    // 1 when a claim a file makes fails, 2 when a file cannot be read at all; the highest wins.
    let mut code = 0u8;
    for f in files {
        match verify_image(f, registered.as_ref(), anchors.as_deref()) {
            Ok(v) => {
                let bad = matches!(v.c2pa.status, Status::Tampered | Status::Invalid)
                    || v.journal.as_ref().is_some_and(|j| !j.verified);
                if bad {
                    code = code.max(1);
                }
                if json {
                    print_json(&serde_json::to_value(&v)?);
                } else {
                    print_verdict(&v);
                }
            }
            Err(e) => {
                code = 2;
                if json {
                    print_json(&serde_json::json!({"file": f, "error": e.to_string()}));
                } else {
                    eprintln!("handprint: {}", esc(e));
                }
            }
        }
    }
    Ok(ExitCode::from(code))
}
