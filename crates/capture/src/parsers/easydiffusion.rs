//! Easy Diffusion: one PNG text chunk per setting (snake_case keys since 2.5, Title Case
//! before), or the same keys as JSON in EXIF UserComment for JPEG and WebP.

use serde_json::{Map, Value};

use super::Fields;
use crate::{Adapter, AdapterKind, Generation, Generator, Img2Img, ModelRef};

/// (current key, older key)
const ALIASES: [(&str, &str); 13] = [
    ("prompt", "Prompt"),
    ("negative_prompt", "Negative Prompt"),
    ("seed", "Seed"),
    ("use_stable_diffusion_model", "Stable Diffusion model"),
    ("use_vae_model", "VAE model"),
    ("sampler_name", "Sampler"),
    ("width", "Width"),
    ("height", "Height"),
    ("num_inference_steps", "Steps"),
    ("guidance_scale", "Guidance Scale"),
    ("prompt_strength", "Prompt Strength"),
    ("use_lora_model", "LoRA model"),
    ("lora_alpha", "LoRA alpha"),
];

/// True when `keys` include settings only Easy Diffusion writes.
pub fn looks_like<'a>(mut keys: impl Iterator<Item = &'a str>) -> bool {
    keys.any(|k| matches!(k, "use_stable_diffusion_model" | "num_inference_steps" | "Stable Diffusion model"))
}

/// Whether `key` is one of the settings Easy Diffusion writes, in either spelling.
pub fn is_key(key: &str) -> bool {
    ALIASES.iter().any(|&(new, old)| key == new || key == old)
}

pub fn parse(mut obj: Map<String, Value>, source: &str, raw: String) -> Generation {
    for (new, old) in ALIASES {
        if !obj.contains_key(new)
            && let Some(v) = obj.remove(old)
        {
            obj.insert(new.to_owned(), v);
        }
    }
    let mut f = Fields::new(obj);
    let mut g = Generation::new(Generator::EasyDiffusion, source, raw);
    g.prompt = f.string("prompt");
    g.negative_prompt = f.string("negative_prompt");
    g.seed = f.u64("seed");
    g.steps = f.u32("num_inference_steps");
    g.cfg_scale = f.f64("guidance_scale");
    g.sampler = f.string("sampler_name");
    g.width = f.u32("width");
    g.height = f.u32("height");
    g.model = f.string("use_stable_diffusion_model").map(ModelRef::named);
    g.vae = f.string("use_vae_model").filter(|v| !v.is_empty()).map(ModelRef::named);
    g.generator_version = f.string("app_version");
    let loras = f.take("use_lora_model");
    let alphas = f.take("lora_alpha");
    // One LoRA as a string, several as arrays (or comma-joined in PNG text).
    let list = |v: Option<Value>| -> Vec<String> {
        match v {
            Some(Value::Array(a)) => {
                a.iter().map(|x| x.as_str().map(str::to_owned).unwrap_or_else(|| x.to_string())).collect()
            }
            Some(Value::String(s)) if !s.is_empty() && s != "None" => {
                s.split(',').map(|p| p.trim().to_owned()).collect()
            }
            Some(Value::Number(n)) => vec![n.to_string()],
            _ => Vec::new(),
        }
    };
    let alphas = list(alphas);
    for (i, name) in list(loras).into_iter().enumerate() {
        let weight = alphas.get(i).and_then(|a| a.parse().ok());
        g.adapters.push(Adapter { kind: AdapterKind::Lora, name, weight, clip_weight: None, hash: None });
    }
    if let Some(strength) = f.f64("prompt_strength") {
        if f.extra.contains_key("init_image") || strength < 1.0 {
            g.img2img = Some(Img2Img {
                mode: "img2img".into(),
                denoising_strength: Some(strength),
                ..Default::default()
            });
        } else {
            f.extra.insert("prompt_strength".into(), strength.into());
        }
    }
    g.extra = f.extra;
    g
}
