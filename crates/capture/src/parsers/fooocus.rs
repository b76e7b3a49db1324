//! Fooocus's own JSON scheme (`fooocus_scheme` = `fooocus`); its A1111 scheme goes through
//! the A1111 parser.

use serde_json::Value;

use super::{Fields, as_f64, as_str};
use crate::{Adapter, AdapterKind, Generation, Generator, ModelRef};

pub fn parse(text: &str, source: &str) -> Result<Generation, String> {
    let obj = super::json_object(text, "Fooocus parameters")?;
    let mut f = Fields::new(obj);
    let mut g = Generation::new(Generator::Fooocus, source, text);
    g.generator_version = f.string("version");
    g.prompt = f.string("prompt");
    g.negative_prompt = f.string("negative_prompt");
    g.seed = f.u64("seed");
    g.steps = f.u32("steps");
    g.cfg_scale = f.f64("guidance_scale");
    g.sampler = f.string("sampler");
    g.scheduler = f.string("scheduler");
    if let Some(res) = f.string("resolution") {
        // "(1152, 896)": width, height.
        let nums: Vec<u32> = res
            .trim_matches(['(', ')'])
            .split(',')
            .filter_map(|n| n.trim().trim_matches('\'').parse().ok())
            .collect();
        if let [w, h] = nums[..] {
            (g.width, g.height) = (Some(w), Some(h));
        }
        f.extra.insert("resolution".into(), Value::String(res));
    }
    let name = f.string("base_model");
    let hash = f.string("base_model_hash");
    if name.is_some() || hash.is_some() {
        g.model = Some(ModelRef { name, hash });
    }
    g.vae = f.string("vae").filter(|v| v != "Default (model)" && v != "None").map(ModelRef::named);
    // [[name, weight, hash], ...]
    for lora in f.take("loras").and_then(|v| v.as_array().cloned()).unwrap_or_default() {
        let Some(items) = lora.as_array() else { continue };
        let Some(name) = items.first().and_then(as_str) else { continue };
        g.adapters.push(Adapter {
            kind: AdapterKind::Lora,
            name,
            weight: items.get(1).and_then(as_f64),
            clip_weight: None,
            hash: items.get(2).and_then(as_str),
        });
    }
    g.extra = f.extra;
    Ok(g)
}

/// Fooocus JSON carries these keys; used to tell it from other JSON `parameters`.
pub fn looks_like(obj: &serde_json::Map<String, Value>) -> bool {
    obj.contains_key("base_model") && obj.contains_key("guidance_scale")
        || obj.get("metadata_scheme").and_then(Value::as_str) == Some("fooocus")
}

/// Fooocus's A1111 scheme (modules/meta_parser.py `A1111MetadataParser.to_string`) writes the
/// prompt as expanded by styles on the prompt line (read as the prompt, as in A1111 text),
/// what was typed as `Raw prompt` / `Raw negative prompt` (kept verbatim), and the scheduler
/// under its own key `Scheduler`.
pub fn a1111_scheme(g: &mut Generation) {
    if g.scheduler.is_none()
        && let Some(Value::String(s)) = g.extra.remove("Scheduler")
    {
        g.scheduler = Some(s);
    }
}

/// RuinedFooocus's own JSON `parameters` (modules/async_worker.py: `json.dumps` of `Prompt`,
/// `Negative`, `steps`, `cfg`, `width`, `height`, `seed`, `sampler_name`, `scheduler`,
/// `base_model_name`, `base_model_hash`, `loras` (`[[hash, "weight - name"]]`),
/// `start_step`, `denoise`, `clip_skip`, `software`).
pub fn parse_ruined(text: &str, source: &str) -> Result<Generation, String> {
    let obj = super::json_object(text, "RuinedFooocus parameters")?;
    let mut f = Fields::new(obj);
    let mut g = Generation::new(Generator::RuinedFooocus, source, text);
    g.prompt = f.string("Prompt");
    g.negative_prompt = f.string("Negative");
    g.seed = f.u64("seed");
    g.steps = f.u32("steps");
    g.cfg_scale = f.f64("cfg");
    g.sampler = f.string("sampler_name");
    g.scheduler = f.string("scheduler");
    g.width = f.u32("width");
    g.height = f.u32("height");
    let name = f.string("base_model_name");
    let hash = f.string("base_model_hash");
    if name.is_some() || hash.is_some() {
        g.model = Some(ModelRef { name, hash });
    }
    // [[hash, "weight - name"], ...]
    for lora in f.take("loras").and_then(|v| v.as_array().cloned()).unwrap_or_default() {
        let Some([hash, label]) = lora.as_array().map(Vec::as_slice) else { continue };
        let Some(label) = label.as_str() else { continue };
        let (weight, name) = match label.split_once(" - ") {
            Some((w, n)) if w.trim().parse::<f64>().is_ok() => (w.trim().parse().ok(), n.to_owned()),
            _ => (None, label.to_owned()),
        };
        g.adapters.push(Adapter {
            kind: AdapterKind::Lora,
            name,
            weight,
            clip_weight: None,
            hash: as_str(hash),
        });
    }
    if let Some(d) = f.f64("denoise").filter(|&d| d < 1.0) {
        g.img2img = Some(crate::Img2Img {
            mode: "img2img".into(),
            denoising_strength: Some(d),
            ..Default::default()
        });
    }
    g.extra = f.extra;
    Ok(g)
}

/// RuinedFooocus JSON: `software` says so, or its own capitalised prompt keys.
pub fn looks_like_ruined(obj: &serde_json::Map<String, Value>) -> bool {
    obj.get("software").and_then(Value::as_str) == Some("RuinedFooocus")
        || obj.contains_key("Prompt") && obj.contains_key("base_model_name")
}
