//! `watermark embed` and `watermark detect` as front ends print them: the payload, how
//! clearly it was read, and the registered work it names.

use std::path::Path;

use serde::Serialize;

use crate::answers::rounded;
use crate::marking::{detect_file, embed_file};
use crate::works::Work;
use crate::{RegistryError, Store};

/// A watermark embedded.
#[derive(Debug, Serialize)]
pub struct EmbedReport {
    pub input: String,
    pub output: String,
    /// The payload, as 16 hexadecimal digits.
    pub payload: String,
    pub psnr_db: f64,
    pub chip_pixels: f32,
    /// The PSNR, unrounded.
    #[serde(skip)]
    pub psnr: f64,
}

/// Embeds `payload` into the image at `input`, written to `output` (never over the input).
pub fn embed(input: &Path, output: &Path, payload: u64) -> Result<EmbedReport, RegistryError> {
    if input.canonicalize().ok() == output.canonicalize().ok() && output.exists() {
        return Err(RegistryError::Invalid(format!(
            "{}: the output would overwrite the input; give another path",
            output.display()
        )));
    }
    let e = embed_file(input, output, payload)?;
    Ok(EmbedReport {
        input: input.display().to_string(),
        output: output.display().to_string(),
        payload: format!("{payload:016x}"),
        psnr_db: rounded(e.psnr, 2),
        chip_pixels: e.chip,
        psnr: e.psnr,
    })
}

/// What detection found in one image.
#[derive(Debug, Serialize)]
pub struct DetectReport {
    pub file: String,
    pub found: bool,
    /// The synchronisation score: a z-score, about N(0, 1) on unmarked images.
    pub sync_z: f64,
    /// The rest only when a payload was read.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub payload: Option<PayloadFound>,
    /// What was found, unrounded.
    #[serde(skip)]
    pub detection: watermark::Detection,
}

/// A payload read, and the registered work it names (`null` when none here).
#[derive(Debug, Serialize)]
pub struct PayloadFound {
    /// The payload, as 16 hexadecimal digits.
    pub payload: String,
    /// An upper bound on the probability that an unmarked image reads so.
    pub false_positive: f64,
    pub bit_agreement: f64,
    pub rotation_degrees: f64,
    pub chip_pixels: f64,
    pub mirrored: bool,
    pub work: Option<Work>,
}

/// Looks for the watermark in the image at `path`, and the work its payload names in `store`.
pub fn detect(store: Option<&Store>, path: &Path) -> Result<DetectReport, RegistryError> {
    let d = detect_file(path)?;
    let payload = match d.payload {
        None => None,
        Some(p) => {
            let work = match store {
                Some(s) => s.work_by_watermark(p)?,
                None => None,
            };
            Some(PayloadFound {
                payload: format!("{p:016x}"),
                false_positive: d.false_positive,
                bit_agreement: rounded(d.bit_agreement as f64, 2),
                // No -0 for a tile that is not turned.
                rotation_degrees: rounded(d.rotation as f64, 2) + 0.0,
                chip_pixels: rounded(d.chip as f64, 2),
                mirrored: d.mirrored,
                work,
            })
        }
    };
    Ok(DetectReport {
        file: path.display().to_string(),
        found: d.payload.is_some(),
        sync_z: rounded(d.sync_z as f64, 2),
        payload,
        detection: d,
    })
}
