//! InvokeAI: `invokeai_metadata` (3.x and later), `sd-metadata` (2.x), `Dream` (1.x).

use serde_json::{Map, Value};

use super::{Fields, as_str};
use crate::{Adapter, AdapterKind, Generation, Generator, Img2Img, ModelRef};

/// 3.x and later: a flat JSON object.
pub fn metadata(text: &str, source: &str) -> Result<Generation, String> {
    let obj = super::json_object(text, "invokeai_metadata")?;
    let mut f = Fields::new(obj);
    let mut g = Generation::new(Generator::InvokeAi, source, text);
    g.generator_version = f.string("app_version");
    g.prompt = f.string("positive_prompt");
    g.negative_prompt = f.string("negative_prompt");
    g.seed = f.u64("seed");
    g.steps = f.u32("steps");
    g.cfg_scale = f.f64("cfg_scale");
    // InvokeAI's "scheduler" picks the sampling algorithm (`dpmpp_2m_k`): the sampler elsewhere.
    g.sampler = f.string("scheduler");
    g.width = f.u32("width");
    g.height = f.u32("height");
    g.model = f.take("model").map(|m| model_ref(&m));
    g.vae = f.take("vae").map(|m| model_ref(&m));
    for lora in f.take("loras").and_then(|v| v.as_array().cloned()).unwrap_or_default() {
        // 3.x: {"lora": {"model_name": ..}, "weight": w}; 4.x+: {"model": {"name", "hash"}, "weight": w}
        let m = lora.get("model").or_else(|| lora.get("lora")).map(model_ref).unwrap_or_default();
        g.adapters.push(Adapter {
            kind: AdapterKind::Lora,
            name: m.name.unwrap_or_default(),
            weight: lora.get("weight").and_then(Value::as_f64),
            clip_weight: None,
            hash: m.hash,
        });
    }
    let mode = f.string("generation_mode");
    let strength = f.f64("strength");
    let init = f.take("init_image").and_then(|v| match v {
        Value::String(s) => Some(s),
        Value::Object(o) => o.get("image_name").and_then(Value::as_str).map(str::to_owned),
        _ => None,
    });
    if let Some(mode) = &mode {
        f.extra.insert("generation_mode".into(), Value::String(mode.clone()));
    }
    let is_img2img = mode
        .as_deref()
        .is_some_and(|m| m.contains("img2img") || m.contains("inpaint") || m.contains("outpaint"));
    if is_img2img || init.is_some() {
        let inpaint = mode.as_deref().is_some_and(|m| m.contains("inpaint") || m.contains("outpaint"));
        g.img2img = Some(Img2Img {
            mode: if inpaint { "inpaint" } else { "img2img" }.into(),
            denoising_strength: strength,
            init_image: init,
            ..Default::default()
        });
    } else if let Some(s) = strength {
        f.extra.insert("strength".into(), s.into());
    }
    g.extra = f.extra;
    Ok(g)
}

fn model_ref(v: &Value) -> ModelRef {
    match v {
        Value::String(s) => ModelRef::named(s.clone()),
        _ => ModelRef {
            name: v.get("name").or_else(|| v.get("model_name")).and_then(as_str),
            hash: v.get("hash").and_then(as_str),
        },
    }
}

/// 2.x: `{"model_weights", "model_hash", "app_version", "image": {...}}`; the negative prompt
/// is the bracketed part of the prompt.
pub fn sd_metadata(text: &str, source: &str) -> Result<Generation, String> {
    let mut obj = super::json_object(text, "sd-metadata")?;
    let image = match obj.remove("image") {
        Some(Value::Object(o)) => o,
        _ => return Err("sd-metadata has no \"image\" object".into()),
    };
    let mut top = Fields::new(obj);
    let mut f = Fields::new(image);
    let mut g = Generation::new(Generator::InvokeAi, source, text);
    g.generator_version = top.string("app_version");
    let name = top.string("model_weights");
    let hash = top.string("model_hash");
    if name.is_some() || hash.is_some() {
        g.model = Some(ModelRef { name, hash });
    }
    let prompt = match f.take("prompt") {
        Some(Value::Array(items)) => {
            items.iter().filter_map(|p| p.get("prompt").and_then(as_str)).collect::<Vec<_>>().join(" ")
        }
        Some(Value::String(s)) => s,
        _ => String::new(),
    };
    let (positive, negative) = split_brackets(&prompt);
    g.prompt = Some(positive);
    g.negative_prompt = negative;
    g.seed = f.u64("seed");
    g.steps = f.u32("steps");
    g.cfg_scale = f.f64("cfg_scale");
    g.sampler = f.string("sampler");
    g.width = f.u32("width");
    g.height = f.u32("height");
    if f.extra.get("type").and_then(Value::as_str) == Some("img2img") {
        g.img2img = Some(Img2Img {
            mode: "img2img".into(),
            denoising_strength: f.f64("strength"),
            init_image: f.string("init_image_path"),
            ..Default::default()
        });
    }
    let mut extra = top.extra;
    extra.extend(f.extra);
    g.extra = extra;
    Ok(g)
}

/// 1.x: `"prompt [negative]" -s 50 -S 42 -W 512 -H 512 -C 7.5 -A k_lms`.
pub fn dream(text: &str, source: &str) -> Result<Generation, String> {
    let rest = text.trim().strip_prefix('"').ok_or("Dream text does not start with a quoted prompt")?;
    let end = rest.rfind('"').ok_or("Dream prompt has no closing quote")?;
    let (prompt, args) = (&rest[..end], &rest[end + 1..]);
    let mut g = Generation::new(Generator::InvokeAi, source, text);
    let (positive, negative) = split_brackets(prompt);
    g.prompt = Some(positive);
    g.negative_prompt = negative;
    let mut words = args.split_whitespace().peekable();
    while let Some(flag) = words.next() {
        let Some(key) = flag.strip_prefix('-') else { continue };
        let value = match words.peek() {
            Some(v) if !v.starts_with('-') || v.parse::<f64>().is_ok() => words.next().unwrap_or_default(),
            _ => "",
        };
        match key {
            "s" => g.steps = value.parse().ok(),
            "S" => g.seed = value.parse().ok(),
            "W" => g.width = value.parse().ok(),
            "H" => g.height = value.parse().ok(),
            "C" => g.cfg_scale = value.parse().ok(),
            "A" => g.sampler = Some(value.to_owned()),
            "f" => {
                g.img2img
                    .get_or_insert_with(|| Img2Img { mode: "img2img".into(), ..Default::default() })
                    .denoising_strength = value.parse().ok()
            }
            "I" => {
                g.img2img
                    .get_or_insert_with(|| Img2Img { mode: "img2img".into(), ..Default::default() })
                    .init_image = Some(value.to_owned())
            }
            _ => {
                g.extra.insert(key.to_owned(), Value::String(value.to_owned()));
            }
        }
    }
    Ok(g)
}

/// InvokeAI 1.x/2.x write the negative prompt in square brackets inside the prompt.
fn split_brackets(prompt: &str) -> (String, Option<String>) {
    let (mut positive, mut negative) = (String::new(), Vec::new());
    let mut rest = prompt;
    while let Some(open) = rest.find('[') {
        let Some(close) = rest[open..].find(']') else { break };
        positive.push_str(&rest[..open]);
        negative.push(rest[open + 1..open + close].trim().to_owned());
        rest = &rest[open + close + 1..];
    }
    positive.push_str(rest);
    let negative = (!negative.is_empty()).then(|| negative.join(", "));
    (positive.trim().to_owned(), negative)
}

/// Shape check used by dispatch: an `invokeai_metadata`-like object.
pub fn looks_like_metadata(obj: &Map<String, Value>) -> bool {
    obj.contains_key("positive_prompt") || obj.contains_key("generation_mode")
}
