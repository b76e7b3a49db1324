//! Stability Matrix's Inference tab: it runs a ComfyUI graph (the `prompt` text of the PNG
//! ComfyUI's PreviewImage wrote) and, before the first `IDAT`, adds three text chunks of its
//! own (StabilityMatrix.Avalonia/Helpers/PngDataHelper.cs `AddMetadata`): `parameters` (A1111
//! text), `parameters-json` (its `GenerationParameters` record serialised by System.Text.Json:
//! `PositivePrompt`, `NegativePrompt`, `Steps`, `Sampler`, `CfgScale`, `Seed`, `Height`,
//! `Width` (the saved image's own size, from IHDR), `ModelHash`, `ModelName`, and video
//! settings) and `smproj` (the whole project). The record comes from `parameters-json`.

use super::Fields;
use crate::{Generation, Generator, ModelRef};

pub fn parse(text: &str, source: &str) -> Result<Generation, String> {
    let obj = super::json_object(text, "Stability Matrix parameters-json")?;
    let mut f = Fields::new(obj);
    let mut g = Generation::new(Generator::StabilityMatrix, source, text);
    g.prompt = f.string("PositivePrompt");
    g.negative_prompt = f.string("NegativePrompt");
    g.seed = f.u64("Seed");
    g.steps = f.u32("Steps");
    g.cfg_scale = f.f64("CfgScale");
    // An A1111 name that carries the scheduler too (`DPM++ 2M Karras`), as written.
    g.sampler = f.string("Sampler");
    g.width = f.u32("Width");
    g.height = f.u32("Height");
    let name = f.string("ModelName");
    let hash = f.string("ModelHash");
    if name.is_some() || hash.is_some() {
        g.model = Some(ModelRef { name, hash });
    }
    // Zeros and nulls of the video settings a still image does not use say nothing.
    f.extra.retain(|_, v| !(v.is_null() || v.as_f64() == Some(0.0) || v == &serde_json::Value::Bool(false)));
    g.extra = f.extra;
    Ok(g)
}
