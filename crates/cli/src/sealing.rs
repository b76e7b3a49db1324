//! `handprint seal`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use registry::answers::rounded;
use registry::seal::SealOptions;

use crate::data::{Access, Global, open_registry, signer};
use crate::output::print_json;
use crate::terminal::esc;

/// Seal a final work: register it, embed the watermark, label it, sign its Content Credentials.
///
/// In one step, all or nothing:
///   1. registers the image as a new work (a new work ID);
///   2. appends a `sealed` event to the project's journal, with a new signed checkpoint;
///   3. embeds the invisible watermark carrying the work's watermark ID, derived from your
///      key (docs/watermark.md, docs/registry.md);
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
}

fn default_output(input: &Path) -> PathBuf {
    let stem = input.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let ext = input.extension().map(|e| format!(".{}", e.to_string_lossy())).unwrap_or_default();
    input.with_file_name(format!("{stem}.sealed{ext}"))
}

pub fn seal(g: &Global, args: SealArgs) -> anyhow::Result<ExitCode> {
    let output = match (&args.out, args.in_place) {
        (_, true) => args.file.clone(),
        (Some(o), false) => o.clone(),
        (None, false) => default_output(&args.file),
    };
    let mut reg = open_registry(g, Access::Write)?;
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
    if g.json {
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
            sealed.work.watermark_id.unwrap_or_default(),
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
