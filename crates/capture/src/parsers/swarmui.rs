//! SwarmUI: JSON with `sui_image_params` (settings), `sui_extra_data` and `sui_models`.

use serde_json::Value;

use super::{Fields, as_f64, as_str};
use crate::{Adapter, AdapterKind, Generation, Generator, Img2Img, ModelRef};

pub fn parse(text: &str, source: &str) -> Result<Generation, String> {
    let mut obj = super::json_object(text, "SwarmUI parameters")?;
    let params = match obj.remove("sui_image_params") {
        Some(Value::Object(p)) => p,
        _ => return Err("SwarmUI parameters have no sui_image_params object".into()),
    };
    let mut f = Fields::new(params);
    let mut g = Generation::new(Generator::SwarmUi, source, text);
    g.generator_version = f.string("swarm_version");
    g.prompt = f.string("prompt");
    g.negative_prompt = f.string("negativeprompt");
    g.seed = f.u64("seed");
    g.steps = f.u32("steps");
    g.cfg_scale = f.f64("cfgscale");
    g.sampler = f.string("sampler");
    g.scheduler = f.string("scheduler");
    g.width = f.u32("width");
    g.height = f.u32("height");
    let models = obj.get("sui_models").and_then(Value::as_array).cloned().unwrap_or_default();
    let hash_of = |param: &str, name: &str| {
        models
            .iter()
            .find(|m| {
                m.get("param").and_then(Value::as_str) == Some(param)
                    || m.get("name").and_then(Value::as_str).is_some_and(|n| n.starts_with(name))
            })
            .and_then(|m| m.get("hash").and_then(as_str))
    };
    if let Some(name) = f.string("model") {
        let hash = hash_of("model", &name);
        g.model = Some(ModelRef { name: Some(name), hash });
    }
    g.vae = f.string("vae").map(ModelRef::named);
    let names = f.take("loras").and_then(|v| v.as_array().cloned()).unwrap_or_default();
    let weights = f.take("loraweights").and_then(|v| v.as_array().cloned()).unwrap_or_default();
    for (i, name) in names.iter().filter_map(as_str).enumerate() {
        let hash = hash_of("loras", &name);
        let weight = weights.get(i).and_then(as_f64);
        g.adapters.push(Adapter { kind: AdapterKind::Lora, name, weight, clip_weight: None, hash });
    }
    if let Some(creativity) = f.f64("initimagecreativity") {
        g.img2img = Some(Img2Img {
            mode: "img2img".into(),
            denoising_strength: Some(creativity),
            ..Default::default()
        });
    }
    g.extra = f.extra;
    for (k, v) in obj {
        g.extra.insert(k, v);
    }
    Ok(g)
}
