//! Hugging Face Spaces built on diffusers and Gradio in the Animagine XL Space's pattern
//! (`app.py` fills a `metadata` dict, `utils.save_image` writes
//! `PngInfo().add_text("parameters", json.dumps(metadata))`): `prompt`, `negative_prompt`,
//! `resolution` (`"832 x 1216"`), `guidance_scale`, `num_inference_steps`, `seed`, `sampler`
//! (an A1111 name, `Euler a`), `Model` and `Model hash` (top-level strings, or in 3.1 a
//! `Model` object holding both), `use_upscaler` (`null`, or `{"upscale_method",
//! "upscaler_strength", "upscale_by", "new_resolution"}`: a second img2img pass over the
//! upscaled latents), and style or quality-tag settings kept verbatim.

use serde_json::{Map, Value};

use super::{Fields, as_f64, as_str, parse_size};
use crate::{Generation, Generator, Hires, ModelRef};

pub fn parse(obj: Map<String, Value>, text: &str, source: &str) -> Generation {
    let mut f = Fields::new(obj);
    let mut g = Generation::new(Generator::HfSpace, source, text);
    g.prompt = f.string("prompt");
    g.negative_prompt = f.string("negative_prompt");
    g.seed = f.u64("seed");
    g.steps = f.u32("num_inference_steps");
    g.cfg_scale = f.f64("guidance_scale");
    g.sampler = f.string("sampler");
    if let Some((w, h)) = f.extra.get("resolution").and_then(Value::as_str).and_then(parse_size) {
        (g.width, g.height) = (Some(w), Some(h));
        f.extra.remove("resolution");
    }
    let (name, hash) = match f.take("Model") {
        Some(Value::Object(m)) => (m.get("Model").and_then(as_str), m.get("Model hash").and_then(as_str)),
        Some(v) => (as_str(&v), None),
        None => (None, None),
    };
    let hash = hash.or_else(|| f.string("Model hash"));
    if name.is_some() || hash.is_some() {
        g.model = Some(ModelRef { name, hash });
    }
    if let Some(Value::Object(up)) = f.take("use_upscaler") {
        let size = up.get("new_resolution").and_then(Value::as_str).and_then(parse_size);
        g.hires = Some(Hires {
            upscaler: up.get("upscale_method").and_then(as_str),
            scale: up.get("upscale_by").and_then(as_f64),
            width: size.map(|s| s.0),
            height: size.map(|s| s.1),
            steps: up.get("upscale_steps").and_then(as_f64).map(|s| s as u32),
            denoising_strength: up.get("upscaler_strength").and_then(as_f64),
        });
    }
    g.extra = f.extra;
    g
}

/// The Space pattern's keys: diffusers' argument names with a `"W x H"` resolution.
pub fn looks_like(obj: &Map<String, Value>) -> bool {
    obj.contains_key("num_inference_steps")
        && obj.contains_key("guidance_scale")
        && obj.get("resolution").is_some_and(Value::is_string)
}
