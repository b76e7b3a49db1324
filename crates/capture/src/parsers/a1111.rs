//! AUTOMATIC1111 / Forge / SD.Next "parameters" text, also written by Fooocus's A1111 scheme,
//! Civitai and the stealth-pnginfo extension.
//!
//! Layout (see docs/formats.md): prompt lines, an optional `Negative prompt:` line followed by
//! more negative lines, and a final line of `Key: value` pairs joined by `, `. A value holding
//! a comma, colon or newline is written as a JSON string (`Lora hashes: "a: 1f2e, b: 9c0d"`).
//! The last line counts as parameters only if it has at least three pairs, as in A1111's own
//! reader.

use serde_json::Value;

use super::{num, parse_size};
use crate::{Adapter, AdapterKind, Generation, Generator, Hires, Img2Img, ModelRef, Variation};

/// Splits a parameter line into `(key, value)` pairs, unquoting JSON-quoted values.
pub fn parameter_pairs(line: &str) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        while i < bytes.len() && (bytes[i] == b' ' || bytes[i] == b',') {
            i += 1;
        }
        let key_start = i;
        while i < bytes.len() && bytes[i] != b':' && bytes[i] != b',' {
            i += 1;
        }
        if i >= bytes.len() || bytes[i] == b',' {
            continue; // a bare word: not a pair (A1111 writes flags like "Tiling" this way)
        }
        let key = line[key_start..i].trim();
        i += 1;
        while i < bytes.len() && bytes[i] == b' ' {
            i += 1;
        }
        let value_start = i;
        let value = match bytes.get(i) {
            Some(b'"') => {
                i = skip_json_string(bytes, i);
                let raw = &line[value_start..i];
                serde_json::from_str::<String>(raw)
                    .map(Value::String)
                    .unwrap_or_else(|_| Value::String(raw.trim_matches('"').to_owned()))
            }
            // Civitai's `Hashes: {…}` and `Civitai resources: [{…}, …]`.
            Some(b'{' | b'[') => {
                i = skip_json_object(bytes, i);
                let raw = &line[value_start..i];
                serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_owned()))
            }
            _ => {
                while i < bytes.len() && bytes[i] != b',' {
                    i += 1;
                }
                Value::String(line[value_start..i].trim().to_owned())
            }
        };
        if valid_key(key) {
            out.push((key.to_owned(), value));
        }
    }
    out
}

/// A1111's key pattern: a word character, then words, spaces, `-` or `/`.
fn valid_key(key: &str) -> bool {
    let mut chars = key.chars();
    matches!(chars.next(), Some(c) if c.is_alphanumeric() || c == '_')
        && key.chars().all(|c| c.is_alphanumeric() || matches!(c, '_' | ' ' | '-' | '/' | '.'))
}

fn skip_json_string(b: &[u8], mut i: usize) -> usize {
    i += 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    b.len()
}

fn skip_json_object(b: &[u8], mut i: usize) -> usize {
    let mut depth = 0usize;
    while i < b.len() {
        match b[i] {
            b'"' => {
                i = skip_json_string(b, i);
                continue;
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    b.len()
}

/// Parses A1111-style parameters. `None` when the text has no parameter line.
pub fn parse(text: &str, source: &str) -> Option<Generation> {
    let trimmed = text.trim();
    let mut lines: Vec<&str> = trimmed.split('\n').collect();
    let last = lines.pop()?;
    let pairs = parameter_pairs(last);
    let pairs = if pairs.len() >= 3 {
        pairs
    } else {
        return None;
    };
    let (mut prompt, mut negative) = (Vec::new(), Vec::new());
    let mut in_negative = false;
    for line in lines {
        let mut line = line.trim();
        if let Some(rest) = line.strip_prefix("Negative prompt:") {
            in_negative = true;
            line = rest.trim();
        }
        if in_negative { negative.push(line) } else { prompt.push(line) }
    }
    let mut g = Generation::new(Generator::Automatic1111, source, text);
    // Blank lines around the prompts (Civitai leaves one before the parameter line) are not
    // part of them.
    g.prompt = Some(prompt.join("\n").trim_matches('\n').to_owned());
    if in_negative {
        g.negative_prompt = Some(negative.join("\n").trim_matches('\n').to_owned());
    }
    apply_pairs(&mut g, pairs);
    prompt_adapters(&mut g);
    Some(g)
}

fn apply_pairs(g: &mut Generation, pairs: Vec<(String, Value)>) {
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let mut denoise = None;
    let mut inpaint = false;
    let mut hires = Hires::default();
    let mut has_hires = false;
    let mut variation = Variation::default();
    let mut img = Img2Img::default();
    let mut has_init = false;
    let mut app = None;
    for (key, value) in pairs {
        let s = text(&value);
        match key.as_str() {
            "Steps" if num::<u32>(&s).is_some() => g.steps = num(&s),
            "Sampler" => g.sampler = Some(s),
            "Schedule type" => g.scheduler = Some(s),
            // comfy-image-saver writes `CFG Scale`.
            "CFG scale" | "CFG Scale" if num::<f64>(&s).is_some() => g.cfg_scale = num(&s),
            "Seed" if num::<u64>(&s).is_some() => g.seed = num(&s),
            "Size" if parse_size(&s).is_some() => {
                let (w, h) = parse_size(&s).unwrap();
                (g.width, g.height) = (Some(w), Some(h));
            }
            "Model" => g.model.get_or_insert_with(ModelRef::default).name = Some(s),
            "Model hash" => g.model.get_or_insert_with(ModelRef::default).hash = Some(s),
            "VAE" => g.vae.get_or_insert_with(ModelRef::default).name = Some(s),
            "VAE hash" => g.vae.get_or_insert_with(ModelRef::default).hash = Some(s),
            "Denoising strength" => denoise = num::<f64>(&s),
            "Hires upscale" => (hires.scale, has_hires) = (num(&s), true),
            "Hires upscaler" => (hires.upscaler, has_hires) = (Some(s), true),
            "Hires steps" => (hires.steps, has_hires) = (num(&s), true),
            "Hires resize" => {
                if let Some((w, h)) = parse_size(&s) {
                    (hires.width, hires.height) = (Some(w), Some(h));
                }
                has_hires = true;
            }
            "Variation seed" => variation.seed = num(&s),
            "Variation seed strength" => variation.strength = num(&s),
            "Mask blur" => (img.mask_blur, inpaint) = (num(&s), true),
            "Init image hash" => (img.init_image_hash, has_init) = (Some(s), true),
            "Version" => g.generator_version = Some(s),
            "App" => app = Some(s),
            "Lora hashes" => hashed_adapters(g, &s, AdapterKind::Lora),
            "TI hashes" => hashed_adapters(g, &s, AdapterKind::Embedding),
            _ => {
                g.extra.insert(key, value);
                continue;
            }
        }
    }
    if has_hires {
        hires.denoising_strength = denoise;
        g.hires = Some(hires);
    } else if denoise.is_some() || inpaint || has_init {
        img.mode = if inpaint { "inpaint" } else { "img2img" }.into();
        img.denoising_strength = denoise;
        g.img2img = Some(img);
    }
    split_comfy_scheduler(g);
    civitai_checkpoint(g);
    if variation != Variation::default() {
        g.variation = Some(variation);
    }
    let version = g.generator_version.as_deref().unwrap_or("");
    g.generator = if app.as_deref() == Some("SD.Next") {
        Generator::SdNext
    } else if version.starts_with('f') && version[1..].starts_with(|c: char| c.is_ascii_digit())
        || version == "classic"
        || version == "neo"
    {
        // Forge (and reForge) `f<digit>…`; Forge Classic and Forge Neo write their branch name.
        Generator::Forge
    } else if version.starts_with("Fooocus") {
        Generator::Fooocus
    } else if version == "ComfyUI" {
        // comfy-image-saver's A1111 text from a ComfyUI graph.
        Generator::ComfyUi
    } else {
        Generator::Automatic1111
    };
    if let Some(app) = app.filter(|a| a != "SD.Next") {
        g.extra.insert("App".into(), Value::String(app));
    }
}

/// Civitai's generator names its checkpoint only in `Civitai resources: [{"type":
/// "checkpoint", "modelName": …}]`; that name is the model when no `Model` was given. The
/// list stays verbatim.
fn civitai_checkpoint(g: &mut Generation) {
    if g.model.as_ref().is_some_and(|m| m.name.is_some()) {
        return;
    }
    let Some(Value::Array(resources)) = g.extra.get("Civitai resources") else { return };
    let name = resources
        .iter()
        .find(|r| r.get("type").and_then(Value::as_str) == Some("checkpoint"))
        .and_then(|r| r.get("modelName").and_then(Value::as_str));
    if let Some(name) = name {
        g.model.get_or_insert_with(ModelRef::default).name = Some(name.to_owned());
    }
}

/// ComfyUI saver nodes (SaveImageWithMetaData, comfy-image-saver) write the sampler and a
/// scheduler other than `normal` as one value, `dpmpp_2m_karras`. ComfyUI's names are
/// lower case with underscores, which AUTOMATIC1111's (`DPM++ 2M`) never are, so the
/// split applies only to those and only when no `Schedule type` was given.
fn split_comfy_scheduler(g: &mut Generation) {
    const SCHEDULERS: [&str; 8] = [
        "karras",
        "exponential",
        "sgm_uniform",
        "simple",
        "ddim_uniform",
        "beta",
        "linear_quadratic",
        "kl_optimal",
    ];
    let Some(sampler) = g.sampler.as_deref().filter(|_| g.scheduler.is_none()) else { return };
    if !sampler.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') {
        return;
    }
    for scheduler in SCHEDULERS {
        if let Some(name) = sampler.strip_suffix(scheduler).and_then(|s| s.strip_suffix('_'))
            && !name.is_empty()
        {
            (g.sampler, g.scheduler) = (Some(name.to_owned()), Some(scheduler.to_owned()));
            return;
        }
    }
}

/// `Lora hashes: "name: hash, name: hash"`.
fn hashed_adapters(g: &mut Generation, list: &str, kind: AdapterKind) {
    for item in list.split(',') {
        let Some((name, hash)) = item.split_once(':') else { continue };
        adapter(g, kind, name.trim()).hash = Some(hash.trim().to_owned());
    }
}

fn adapter<'a>(g: &'a mut Generation, kind: AdapterKind, name: &str) -> &'a mut Adapter {
    let pos = g.adapters.iter().position(|a| a.name == name && a.kind == kind);
    let pos = pos.unwrap_or_else(|| {
        g.adapters.push(Adapter { kind, name: name.to_owned(), weight: None, clip_weight: None, hash: None });
        g.adapters.len() - 1
    });
    &mut g.adapters[pos]
}

/// `<lora:name:weight>`, `<lyco:name:weight>`, `<hypernet:name:weight>` in the prompt.
fn prompt_adapters(g: &mut Generation) {
    let Some(prompt) = g.prompt.clone() else { return };
    let mut rest = prompt.as_str();
    while let Some(start) = rest.find('<') {
        let Some(len) = rest[start..].find('>') else { break };
        let tag = &rest[start + 1..start + len];
        rest = &rest[start + len + 1..];
        let mut parts = tag.split(':');
        let kind = match parts.next() {
            Some("lora") => AdapterKind::Lora,
            Some("lyco") => AdapterKind::Lycoris,
            Some("hypernet") => AdapterKind::Hypernetwork,
            _ => continue,
        };
        let Some(name) = parts.next().filter(|n| !n.is_empty()) else { continue };
        let weight = parts.next().and_then(|w| w.trim().parse::<f64>().ok()).unwrap_or(1.0);
        adapter(g, kind, name).weight = Some(weight);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_values_with_commas_and_colons() {
        let pairs = parameter_pairs(
            r#"Steps: 20, Lora hashes: "a: 1f2e, b: 9c0d", Template: "x, {y|z}: w", Hashes: {"model": "ab, c"}, Tiling, CFG scale: 7"#,
        );
        let keys: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["Steps", "Lora hashes", "Template", "Hashes", "CFG scale"]);
        assert_eq!(pairs[1].1, Value::String("a: 1f2e, b: 9c0d".into()));
        assert_eq!(pairs[2].1, Value::String("x, {y|z}: w".into()));
        assert_eq!(pairs[3].1["model"], "ab, c");
    }

    #[test]
    fn forge_and_sdnext_are_told_apart_from_a1111() {
        let base = "a cat\nSteps: 20, Sampler: Euler a, Seed: 1";
        assert_eq!(
            parse(&format!("{base}, Version: v1.10.1"), "t").unwrap().generator,
            Generator::Automatic1111
        );
        assert_eq!(
            parse(&format!("{base}, Version: f2.0.1v1.10.1-previous-313"), "t").unwrap().generator,
            Generator::Forge
        );
        assert_eq!(
            parse(&format!("{base}, App: SD.Next, Version: 6ec7d2f"), "t").unwrap().generator,
            Generator::SdNext
        );
        for branch in ["classic", "neo"] {
            assert_eq!(
                parse(&format!("{base}, Version: {branch}"), "t").unwrap().generator,
                Generator::Forge
            );
        }
        assert_eq!(parse(&format!("{base}, Version: ComfyUI"), "t").unwrap().generator, Generator::ComfyUi);
    }

    #[test]
    fn comfyui_sampler_and_scheduler_written_as_one_are_split() {
        let g = parse("a cat\nSteps: 20, Sampler: dpmpp_2m_sde_karras, CFG Scale: 7, Seed: 1", "t").unwrap();
        assert_eq!((g.sampler.as_deref(), g.scheduler.as_deref()), (Some("dpmpp_2m_sde"), Some("karras")));
        assert_eq!(g.cfg_scale, Some(7.0));
        // A1111's own names and an explicit schedule type stay as written.
        let g = parse("a cat\nSteps: 20, Sampler: DPM++ 2M Karras, Seed: 1", "t").unwrap();
        assert_eq!((g.sampler.as_deref(), g.scheduler), (Some("DPM++ 2M Karras"), None));
        let g = parse("a cat\nSteps: 20, Sampler: euler_simple, Schedule type: beta, Seed: 1", "t").unwrap();
        assert_eq!((g.sampler.as_deref(), g.scheduler.as_deref()), (Some("euler_simple"), Some("beta")));
    }

    #[test]
    fn a_short_last_line_is_prompt_not_parameters() {
        assert!(parse("just a prompt\nwith: one colon", "t").is_none());
    }

    #[test]
    fn prompt_lora_tags_merge_with_hashes() {
        let g = parse(
            "a <lora:add_detail:0.8> cat <lyco:x:0.3>\nSteps: 20, Seed: 5, Sampler: Euler, Lora hashes: \"add_detail: 7c6bad76eb54\"",
            "t",
        )
        .unwrap();
        assert_eq!(g.adapters.len(), 2);
        assert_eq!(g.adapters[0].name, "add_detail");
        assert_eq!(g.adapters[0].weight, Some(0.8));
        assert_eq!(g.adapters[0].hash.as_deref(), Some("7c6bad76eb54"));
        assert_eq!(g.adapters[1].kind, AdapterKind::Lycoris);
    }
}
