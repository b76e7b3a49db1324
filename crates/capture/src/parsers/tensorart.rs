//! Tensor.Art: the service runs a ComfyUI graph and saves the PNG with two text chunks, no
//! source being public: `generation_data`, its own JSON (raw UTF-8 in `tEXt`, ended by a NUL:
//! `prompt`, `negativePrompt`, `width`, `height`, `steps`, `cfgScale`, `seed` (a string,
//! `"-1"` when the seed was left random), `clipSkip`, `baseModel` (`{"modelFileName", "hash",
//! "label", "modelId", ...}`), `ksamplerName`, `schedule`, `sdVae`, ...), and `prompt`, the
//! ComfyUI API graph it ran (with its own `ECHOCheckpointLoaderSimple` naming the checkpoint
//! by an `EMS-…-EMS.safetensors` id). The record comes from `generation_data`; what it leaves
//! open (a random seed, the sampler) comes from the graph's first pass.

use serde_json::Value;

use super::{Fields, as_str};
use crate::{Generation, Generator, ModelRef};

pub fn parse(text: &str, source: &str, graph: &[Generation]) -> Result<Generation, String> {
    let json = text.trim_end_matches(['\0', ' ', '\n', '\r']);
    let obj = super::json_object(json, "Tensor.Art generation_data")?;
    let mut f = Fields::new(obj);
    let mut g = Generation::new(Generator::TensorArt, source, text);
    let first = graph.first();
    g.prompt = f.string("prompt").or_else(|| first.and_then(|r| r.prompt.clone()));
    g.negative_prompt = f.string("negativePrompt").or_else(|| first.and_then(|r| r.negative_prompt.clone()));
    // "-1": random; the seed used is the graph's.
    let seed = f.string("seed");
    g.seed =
        seed.as_deref().and_then(|s| s.trim().parse::<u64>().ok()).or_else(|| first.and_then(|r| r.seed));
    if let Some(s) = seed.filter(|s| s.trim().parse::<u64>().is_err()) {
        f.extra.insert("seed".into(), Value::String(s));
    }
    g.steps = f.u32("steps").or_else(|| first.and_then(|r| r.steps));
    g.cfg_scale = f.f64("cfgScale").or_else(|| first.and_then(|r| r.cfg_scale));
    g.sampler = f.string("ksamplerName").or_else(|| first.and_then(|r| r.sampler.clone()));
    g.scheduler = f.string("schedule").or_else(|| first.and_then(|r| r.scheduler.clone()));
    g.width = f.u32("width").or_else(|| first.and_then(|r| r.width));
    g.height = f.u32("height").or_else(|| first.and_then(|r| r.height));
    if let Some(Value::Object(base)) = f.take("baseModel") {
        let name = base.get("modelFileName").and_then(as_str);
        let hash = base.get("hash").and_then(as_str);
        if name.is_some() || hash.is_some() {
            g.model = Some(ModelRef { name, hash });
        }
        f.extra.insert("baseModel".into(), Value::Object(base));
    } else {
        g.model = first.and_then(|r| r.model.clone());
    }
    if let Some(r) = first {
        g.hires = r.hires.clone();
        g.adapters = r.adapters.clone();
    }
    g.extra = f.extra;
    Ok(g)
}
