//! Generation metadata carried in EXIF (JPEG APP1, WebP `EXIF`, PNG `eXIf`):
//! - UserComment with A1111 text or Fooocus / SwarmUI / Easy Diffusion JSON (piexif's
//!   AUTOMATIC1111, Forge, reForge, SD.Next and the saver nodes writing A1111 text);
//! - ComfyUI graphs: `prompt:{…}` in Model and `workflow:{…}` in Make (ComfyUI's own WebP
//!   savers), `Prompt: {…}` in Make and `Workflow: {…}` in ImageDescription (saver nodes), or
//!   a UserComment `{"prompt": {…}, "workflow": {…}}` (saver nodes, no character code);
//! - Civitai's generator: a UserComment holding the API graph's nodes beside `extra` and
//!   `extraMetadata` (a JSON string with the settings it was given);
//! - NovelAI's WebP: a UserComment `{"Comment": "<settings JSON>", "Software", "Source", …}`
//!   with the prompt, NUL-prefixed, in ImageDescription;
//! - Stability Matrix's WebP: its settings JSON (`PositivePrompt`, …) in ImageDescription and
//!   its project in Software, beside the `prompt:{…}` ComfyUI's SaveAnimatedWEBP put in Model.

use serde_json::{Map, Value};

use super::{Found, comfyui, midjourney, novelai, parameters, stability_matrix};
use crate::container::Metadata;
use crate::{Generation, Generator, exif};

/// A ComfyUI graph found in EXIF: the API graph and the UI graph, with the tag each came from.
#[derive(Default)]
struct Graph {
    prompt: Option<(String, String)>,
    workflow: Option<(String, String)>,
}

/// Reads every EXIF block of the file into records, warnings and metadata keys.
pub(super) fn read(meta: &mut Metadata, found: &mut Found) {
    for (origin, tiff) in std::mem::take(&mut meta.exif) {
        let fields = match exif::read(&tiff) {
            Ok(f) => f,
            Err(e) => {
                found.warnings.push(format!("{origin}: unreadable EXIF: {e}"));
                continue;
            }
        };
        for w in &fields.warnings {
            found.warnings.push(format!("{origin}: EXIF: {w}"));
        }
        block(origin, &fields, meta, found);
    }
}

fn block(origin: &str, fields: &exif::ExifText, meta: &mut Metadata, found: &mut Found) {
    let mut graph = Graph::default();
    let mut described = false;
    for (tag, value) in
        [("Model", &fields.model), ("Make", &fields.make), ("ImageDescription", &fields.image_description)]
    {
        let Some((label, json)) = value.as_deref().and_then(labelled_json) else { continue };
        let source = format!("{origin}:{tag}");
        meta.keys.push(source.clone());
        described |= tag == "ImageDescription";
        let slot = if label == "prompt" { &mut graph.prompt } else { &mut graph.workflow };
        slot.get_or_insert((json.to_owned(), source));
    }

    if let Some(comment) = &fields.user_comment {
        let source = format!("{origin}:UserComment");
        meta.keys.push(source.clone());
        user_comment(comment, &source, fields, &mut graph, &mut described, found);
    }

    // Stability Matrix (AddMetadataToWebp): its record comes before the graph's.
    let mut project = false;
    if let Some(desc) = fields.image_description.as_deref().filter(|d| !described && stability_matrix_json(d))
    {
        let source = format!("{origin}:ImageDescription");
        meta.keys.push(source.clone());
        described = true;
        project = true;
        found.add(stability_matrix::parse(desc, &source), &source);
    }

    if (graph.prompt.is_some() || graph.workflow.is_some()) && !found.has(Generator::ComfyUi) {
        comfy(graph, None, found);
    }

    if let Some(desc) = &fields.image_description
        && !described
    {
        meta.keys.push(format!("{origin}:ImageDescription"));
        if let Some(g) = midjourney::parse(desc, None, &format!("{origin}:ImageDescription")) {
            found.records.push(g);
        }
    }
    if let Some(sw) = &fields.software {
        // Stability Matrix's Software is its whole project document: kept as a key only.
        meta.keys.push(if project {
            format!("{origin}:Software")
        } else {
            format!("{origin}:Software={sw}")
        });
    }
}

/// Stability Matrix's `GenerationParameters` as JSON: an object with `PositivePrompt`.
fn stability_matrix_json(text: &str) -> bool {
    text.trim_start().starts_with('{')
        && serde_json::from_str::<Map<String, Value>>(text).is_ok_and(|o| o.contains_key("PositivePrompt"))
}

/// `prompt:{…}`, `Prompt: {…}`, `workflow:{…}`, `Workflow: {…}`: the label (lower case)
/// and the JSON.
fn labelled_json(value: &str) -> Option<(&'static str, &str)> {
    let (label, rest) = value.trim_start().split_once(':')?;
    let label = match label.trim() {
        l if l.eq_ignore_ascii_case("prompt") => "prompt",
        l if l.eq_ignore_ascii_case("workflow") => "workflow",
        _ => return None,
    };
    let json = rest.trim_start();
    json.starts_with('{').then_some((label, json))
}

fn user_comment(
    comment: &str,
    source: &str,
    fields: &exif::ExifText,
    graph: &mut Graph,
    described: &mut bool,
    found: &mut Found,
) {
    let obj = comment
        .trim_start()
        .starts_with('{')
        .then(|| serde_json::from_str::<Map<String, Value>>(comment).ok())
        .flatten();
    if let Some(obj) = obj {
        // `{"prompt": {…}, "workflow": {…}}`: SaveImagePlus, ExtendedImageFormats.
        let part = |key: &str| obj.get(key).filter(|v| v.is_object()).map(Value::to_string);
        if part("prompt").is_some() || part("workflow").is_some() {
            graph.prompt = part("prompt").map(|p| (p, source.to_owned())).or(graph.prompt.take());
            graph.workflow = part("workflow").map(|w| (w, source.to_owned())).or(graph.workflow.take());
            return;
        }
        // Civitai: the API graph's nodes beside `extra` and `extraMetadata`.
        if obj.contains_key("extraMetadata") || (obj.contains_key("extra") && has_nodes(&obj)) {
            civitai(obj, comment, source, found);
            return;
        }
        // NovelAI: the PNG text chunks as one object, `Comment` a JSON string.
        let novelai_software = |s: Option<&str>| s.is_some_and(|s| s.starts_with("NovelAI"));
        if let Some(Value::String(settings)) = obj.get("Comment")
            && (novelai_software(obj.get("Software").and_then(Value::as_str))
                || novelai_software(fields.software.as_deref()))
        {
            let description =
                obj.get("Description").and_then(Value::as_str).map(|d| d.trim_start_matches('\0'));
            let description = description.or(fields.image_description.as_deref());
            *described = true;
            let model = obj.get("Source").and_then(Value::as_str).or(fields.software.as_deref());
            let mut r = novelai::parse(settings, description, model, source);
            if let Ok(g) = &mut r {
                g.raw = Some(comment.to_owned());
            }
            found.add(r, source);
            return;
        }
    }
    let scheme = fields.maker_note.as_deref().filter(|m| *m == "fooocus" || *m == "a1111");
    match parameters(comment, source, scheme) {
        Ok(g) => found.records.push(g),
        // Not generation parameters: an ordinary comment, kept as a key only.
        Err(_) if !comment.contains("Steps:") => {}
        Err(e) => found.warnings.push(format!("{source}: {e}")),
    }
}

fn has_nodes(obj: &Map<String, Value>) -> bool {
    obj.values().any(|v| v.get("class_type").is_some_and(Value::is_string))
}

/// Hands a graph to the ComfyUI reader; the graph's text is on the first record, the
/// others point to it. Returns the index of the first record added.
fn comfy(graph: Graph, fallback: Option<&str>, found: &mut Found) -> Option<usize> {
    let source = graph.prompt.as_ref().or(graph.workflow.as_ref()).map(|(_, s)| s.clone())?;
    let result = comfyui(
        graph.prompt.as_ref().map(|(p, _)| p.as_str()),
        graph.workflow.as_ref().map(|(w, _)| w.as_str()),
        &source,
        &mut found.warnings,
    );
    match result {
        Ok(records) if records.is_empty() => {
            if fallback.is_none() {
                found.warnings.push(format!("{source}: ComfyUI graph without a sampler node"));
            }
            None
        }
        Ok(records) => {
            let first = found.records.len();
            found.records.extend(records);
            for r in &mut found.records[first + 1..] {
                r.raw_in = Some(first);
            }
            Some(first)
        }
        Err(e) => {
            found.warnings.push(format!("{source}: {e}"));
            None
        }
    }
}

/// Civitai's generator: the graph is read as ComfyUI's; `extraMetadata` (the settings the
/// generator was given: `prompt`, `negativePrompt`, `steps`, `cfgScale`, `sampler`, `seed`,
/// `width`, `height`) fills what the graph does not say, or makes the record on its own.
fn civitai(mut obj: Map<String, Value>, comment: &str, source: &str, found: &mut Found) {
    let extra_meta = match obj.shift_remove("extraMetadata") {
        Some(Value::String(s)) => serde_json::from_str::<Map<String, Value>>(&s).ok(),
        Some(Value::Object(o)) => Some(o),
        _ => None,
    };
    let extra = obj.shift_remove("extra");
    let graph = Graph { prompt: Some((Value::Object(obj).to_string(), source.to_owned())), workflow: None };
    let first = comfy(graph, extra_meta.as_ref().map(|_| source), found);
    let Some(settings) = extra_meta else { return };
    let index = match first {
        Some(i) => i,
        None => {
            found.records.push(Generation::new(Generator::ComfyUi, source, comment));
            found.records.len() - 1
        }
    };
    let g = &mut found.records[index];
    g.raw = Some(comment.to_owned());
    let s = |k: &str| settings.get(k).and_then(super::as_str);
    let n = |k: &str| settings.get(k).and_then(super::as_f64);
    if g.prompt.is_none() {
        g.prompt = s("prompt");
    }
    if g.negative_prompt.is_none() {
        g.negative_prompt = s("negativePrompt");
    }
    g.steps = g.steps.or(n("steps").map(|v| v as u32));
    g.cfg_scale = g.cfg_scale.or(n("cfgScale"));
    g.seed = g.seed.or(settings.get("seed").and_then(Value::as_u64));
    if g.sampler.is_none() {
        g.sampler = s("sampler");
    }
    g.width = g.width.or(n("width").map(|v| v as u32));
    g.height = g.height.or(n("height").map(|v| v as u32));
    for key in ["workflowId", "resources"] {
        if let Some(v) = settings.get(key) {
            g.extra.insert(format!("civitai {key}"), v.clone());
        }
    }
    if let Some(extra) = extra {
        g.extra.insert("civitai extra".into(), extra);
    }
}
