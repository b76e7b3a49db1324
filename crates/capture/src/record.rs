//! The normalized generation record: one shape for what every generator writes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The tools whose metadata `capture` understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Generator {
    Automatic1111,
    Forge,
    SdNext,
    ComfyUi,
    InvokeAi,
    NovelAi,
    Fooocus,
    SwarmUi,
    EasyDiffusion,
    DrawThings,
    Midjourney,
    RuinedFooocus,
    StabilityMatrix,
    TensorArt,
    HfSpace,
}

impl Generator {
    pub const ALL: [Generator; 15] = [
        Generator::Automatic1111,
        Generator::Forge,
        Generator::SdNext,
        Generator::ComfyUi,
        Generator::InvokeAi,
        Generator::NovelAi,
        Generator::Fooocus,
        Generator::SwarmUi,
        Generator::EasyDiffusion,
        Generator::DrawThings,
        Generator::Midjourney,
        Generator::RuinedFooocus,
        Generator::StabilityMatrix,
        Generator::TensorArt,
        Generator::HfSpace,
    ];

    /// The generator whose JSON name (`automatic1111`, `comfy-ui`, …) this is.
    pub fn from_json_name(name: &str) -> Option<Generator> {
        use serde::de::{IntoDeserializer, value::Error};
        Generator::deserialize(IntoDeserializer::<Error>::into_deserializer(name)).ok()
    }

    /// The display name of a generator given by its JSON name; unknown names unchanged.
    pub fn display_name_of(name: &str) -> &str {
        Generator::from_json_name(name).map_or(name, |g| g.display_name())
    }

    /// The tool's own name, as a person would write it.
    pub fn display_name(self) -> &'static str {
        match self {
            Generator::Automatic1111 => "AUTOMATIC1111",
            Generator::Forge => "Forge",
            Generator::SdNext => "SD.Next",
            Generator::ComfyUi => "ComfyUI",
            Generator::InvokeAi => "InvokeAI",
            Generator::NovelAi => "NovelAI",
            Generator::Fooocus => "Fooocus",
            Generator::SwarmUi => "SwarmUI",
            Generator::EasyDiffusion => "Easy Diffusion",
            Generator::DrawThings => "Draw Things",
            Generator::Midjourney => "Midjourney",
            Generator::RuinedFooocus => "RuinedFooocus",
            Generator::StabilityMatrix => "Stability Matrix",
            Generator::TensorArt => "Tensor.Art",
            Generator::HfSpace => "Hugging Face Space",
        }
    }
}

/// A model file named by a generator: checkpoint, VAE, upscaler.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ModelRef {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The hash as the generator wrote it (A1111 short hash, SHA-256, BLAKE3, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
}

impl ModelRef {
    pub fn named(name: impl Into<String>) -> Self {
        ModelRef { name: Some(name.into()), hash: None }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AdapterKind {
    Lora,
    Lycoris,
    Hypernetwork,
    Embedding,
}

/// A LoRA, LyCORIS, hypernetwork or textual-inversion embedding applied to a generation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Adapter {
    pub kind: AdapterKind,
    pub name: String,
    /// Weight on the model (UNet); `None` where the generator did not write one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight: Option<f64>,
    /// Weight on the text encoder where it differs from `weight` (ComfyUI `strength_clip`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clip_weight: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
}

/// A second pass at a higher resolution (A1111 hires fix, ComfyUI latent upscale + sampler).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Hires {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upscaler: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scale: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub steps: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub denoising_strength: Option<f64>,
}

/// Generation from an existing image: img2img, inpainting, a sketch.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Img2Img {
    /// `img2img` or `inpaint`.
    pub mode: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub denoising_strength: Option<f64>,
    /// The init image's hash, where the generator wrote one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub init_image_hash: Option<String>,
    /// The init image's file name or reference, where written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub init_image: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mask_blur: Option<f64>,
}

/// A1111-style variation seeds.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Variation {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strength: Option<f64>,
}

/// One generation as a generator recorded it, normalized.
///
/// Fields the generator did not write are `None` (omitted from JSON); nothing is guessed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Generation {
    pub generator: Generator,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generator_version: Option<String>,
    /// Where in the file the record came from, e.g. `png:tEXt:parameters`.
    pub source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub negative_prompt: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub steps: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sampler: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheduler: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cfg_scale: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<ModelRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vae: Option<ModelRef>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub adapters: Vec<Adapter>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hires: Option<Hires>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub img2img: Option<Img2Img>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variation: Option<Variation>,
    /// Every other parameter, verbatim, under the generator's own key.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, Value>,
    /// The text the record was parsed from, exactly as stored in the file. A file's text is
    /// kept once: of several records parsed from one text (the samplers of one ComfyUI
    /// graph), the first has it here and the others name that record in `raw_in`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raw: Option<String>,
    /// For a record without `raw`: the index in [`Inspection::generations`] of the record
    /// whose `raw` it was parsed from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raw_in: Option<usize>,
}

impl Generation {
    pub fn new(generator: Generator, source: impl Into<String>, raw: impl Into<String>) -> Self {
        Generation {
            generator,
            generator_version: None,
            source: source.into(),
            prompt: None,
            negative_prompt: None,
            seed: None,
            steps: None,
            sampler: None,
            scheduler: None,
            cfg_scale: None,
            width: None,
            height: None,
            model: None,
            vae: None,
            adapters: Vec::new(),
            hires: None,
            img2img: None,
            variation: None,
            extra: BTreeMap::new(),
            raw: Some(raw.into()),
            raw_in: None,
        }
    }

    /// The text this record was parsed from: its own `raw`, or that of the record it names
    /// in `raw_in` among `generations` (the list it belongs to).
    pub fn raw_text<'a>(&'a self, generations: &'a [Generation]) -> Option<&'a str> {
        match (&self.raw, self.raw_in) {
            (Some(raw), _) => Some(raw),
            (None, Some(i)) => generations.get(i).and_then(|g| g.raw.as_deref()),
            (None, None) => None,
        }
    }
}

/// The container format, from the file's signature (never its extension).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageFormat {
    Png,
    Jpeg,
    Webp,
}

/// Whether a C2PA manifest store is embedded, and what it says of its maker.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct C2paPresence {
    /// Where the store sits: `jpeg:APP11`, `png:caBX`, `webp:C2PA`.
    pub location: String,
    /// Size of the store in bytes.
    pub bytes: u64,
    /// The active manifest's label (`urn:c2pa:...`), where readable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active_manifest: Option<String>,
    /// The claim generator of the active manifest, where readable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claim_generator: Option<String>,
}

/// Everything `inspect` found in one file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Inspection {
    /// Serialized as `image_format`: in documents that embed an inspection, `format` names
    /// the document's own format.
    #[serde(rename = "image_format")]
    pub format: ImageFormat,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    /// One record per generation found; several for a ComfyUI graph with several samplers.
    /// At most [`crate::MAX_GENERATIONS`]; a warning says how many more were dropped.
    pub generations: Vec<Generation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub c2pa: Option<C2paPresence>,
    /// Every metadata key seen, as `container:kind:key` (kept even when nothing was understood).
    pub metadata_keys: Vec<String>,
    /// Problems that did not stop the file from being read: a bad CRC, a skipped chunk.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

#[cfg(test)]
mod generator_names {
    use super::Generator;

    #[test]
    fn json_names_lead_back_to_generators_and_their_display_names() {
        for g in Generator::ALL {
            let json = serde_json::to_value(g).unwrap();
            assert_eq!(Generator::from_json_name(json.as_str().unwrap()), Some(g));
        }
        assert_eq!(Generator::display_name_of("comfy-ui"), "ComfyUI");
        assert_eq!(Generator::display_name_of("automatic1111"), "AUTOMATIC1111");
        assert_eq!(Generator::display_name_of("a new tool"), "a new tool");
    }
}
