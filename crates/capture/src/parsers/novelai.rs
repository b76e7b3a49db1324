//! NovelAI: PNG text `Software` = `NovelAI`, `Description` (prompt), `Source` (model and
//! hash), `Comment` (JSON settings); the same object, gzip-compressed, in the alpha LSBs.

use serde_json::Value;

use super::Fields;
use crate::{Generation, Generator, Img2Img, ModelRef};

/// `comment` is the `Comment` JSON; `description` and `model_source` the text chunks.
pub fn parse(
    comment: &str,
    description: Option<&str>,
    model_source: Option<&str>,
    source: &str,
) -> Result<Generation, String> {
    let obj = super::json_object(comment, "NovelAI Comment")?;
    let mut f = Fields::new(obj);
    let mut g = Generation::new(Generator::NovelAi, source, comment);
    let prompt = f.string("prompt");
    g.prompt = prompt.or_else(|| description.map(str::to_owned));
    g.negative_prompt = f.string("uc");
    g.seed = f.u64("seed");
    g.steps = f.u32("steps");
    g.cfg_scale = f.f64("scale");
    g.sampler = f.string("sampler");
    g.scheduler = f.string("noise_schedule");
    g.width = f.u32("width");
    g.height = f.u32("height");
    if let Some(s) = model_source {
        // "Stable Diffusion XL C1E1DE52", "NovelAI Diffusion V4.5 4BDE2A90": name, then hash.
        g.model = Some(match s.rsplit_once(' ') {
            Some((name, hash)) if hash.len() == 8 && hash.chars().all(|c| c.is_ascii_hexdigit()) => {
                ModelRef { name: Some(name.to_owned()), hash: Some(hash.to_owned()) }
            }
            _ => ModelRef::named(s),
        });
    }
    let strength = f.f64("strength");
    if f.extra.get("request_type").and_then(Value::as_str) == Some("Img2ImgRequest") {
        g.img2img =
            Some(Img2Img { mode: "img2img".into(), denoising_strength: strength, ..Default::default() });
    } else if let Some(s) = strength {
        f.extra.insert("strength".into(), s.into());
    }
    g.extra = f.extra;
    Ok(g)
}
