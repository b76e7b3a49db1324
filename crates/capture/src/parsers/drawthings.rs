//! Draw Things: XMP whose `exif:UserComment` holds a JSON object (`c` prompt, `uc` negative,
//! `seed`, `steps`, `scale`, `sampler`, `model`, `size`, `strength`, `lora`), beside
//! `xmp:CreatorTool` = `Draw Things` and an A1111-like `dc:description`.

use serde_json::Value;

use super::{Fields, as_f64, as_str, parse_size};
use crate::{Adapter, AdapterKind, Generation, Generator, Img2Img, ModelRef};

pub fn parse(json: &str, source: &str) -> Result<Generation, String> {
    let obj = super::json_object(json, "Draw Things UserComment")?;
    let mut f = Fields::new(obj);
    let mut g = Generation::new(Generator::DrawThings, source, json);
    g.prompt = f.string("c");
    g.negative_prompt = f.string("uc");
    g.seed = f.u64("seed");
    g.steps = f.u32("steps");
    g.cfg_scale = f.f64("scale");
    g.sampler = f.string("sampler");
    g.model = f.string("model").map(ModelRef::named);
    if let Some(size) = f.string("size")
        && let Some((w, h)) = parse_size(&size)
    {
        (g.width, g.height) = (Some(w), Some(h));
    }
    for lora in f.take("lora").and_then(|v| v.as_array().cloned()).unwrap_or_default() {
        let Some(name) = lora.get("file").and_then(as_str) else { continue };
        let weight = lora.get("weight").and_then(as_f64);
        g.adapters.push(Adapter { kind: AdapterKind::Lora, name, weight, clip_weight: None, hash: None });
    }
    // Strength 1.0 is text-to-image; below it, the canvas was the init image.
    if let Some(strength) = f.f64("strength") {
        if strength < 1.0 {
            g.img2img = Some(Img2Img {
                mode: "img2img".into(),
                denoising_strength: Some(strength),
                ..Default::default()
            });
        } else {
            f.extra.insert("strength".into(), Value::from(strength));
        }
    }
    g.extra = f.extra;
    Ok(g)
}
