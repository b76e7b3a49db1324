//! ComfyUI: the API graph (`prompt`) and the UI graph (`workflow`).
//!
//! Every sampler node gives one record. From a sampler the walker follows links backwards:
//! `positive`/`negative` through conditioning nodes to the text encoders, `model` through LoRA
//! loaders to the checkpoint, `latent_image` to the empty latent (size), an upscale (second
//! pass) or an encoded image (img2img, inpaint). Custom samplers split their settings over
//! `noise`, `guider`, `sampler` and `sigmas` nodes; those links are followed too. Traversals
//! keep a visited set, so a cycle or a dangling link cannot loop; both are reported.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use serde_json::{Map, Value};

use super::as_f64;
use crate::{Adapter, AdapterKind, Generation, Generator, Hires, Img2Img, ModelRef};

struct Node {
    class: String,
    inputs: Map<String, Value>,
}

type Graph = BTreeMap<String, Node>;

/// A link input: `[source node id, output slot]`.
fn link(v: &Value) -> Option<String> {
    match v.as_array()?.as_slice() {
        [id, slot] if slot.is_u64() => match id {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        },
        _ => None,
    }
}

/// Inputs that carry models, images or CLIP rather than conditioning; not followed for text.
const NOT_CONDITIONING: [&str; 14] = [
    "clip",
    "model",
    "vae",
    "image",
    "images",
    "pixels",
    "mask",
    "control_net",
    "samples",
    "latent_image",
    "style_model",
    "clip_vision_output",
    "upscale_model",
    "clip_vision",
];
const TEXT_KEYS: [&str; 7] = ["text", "text_g", "text_l", "clip_l", "t5xxl", "prompt", "string"];
const STRING_KEYS: [&str; 8] =
    ["text", "string", "value", "prompt", "populated_text", "wildcard_text", "text_a", "text_b"];

pub fn parse(
    prompt: Option<&str>,
    workflow: Option<&str>,
    source: &str,
    warnings: &mut Vec<String>,
) -> Result<Vec<Generation>, String> {
    let (graph, raw) = match (prompt, workflow) {
        (Some(p), _) => (api_graph(p)?, p),
        (None, Some(w)) => (ui_graph(w)?, w),
        (None, None) => return Ok(Vec::new()),
    };
    check_links(&graph, warnings);
    let walker = Walker { graph: &graph };
    let mut samplers: Vec<&String> = graph.iter().filter(|(_, n)| is_sampler(n)).map(|(id, _)| id).collect();
    // Node ids are numbers written as strings: order them as numbers, so passes come in order.
    samplers.sort_by_key(|id| (id.parse::<u64>().unwrap_or(u64::MAX), id.as_str()));
    Ok(samplers.into_iter().map(|id| walker.record(id, source, raw)).collect())
}

fn api_graph(text: &str) -> Result<Graph, String> {
    let v: Value = serde_json::from_str(text).map_err(|e| format!("ComfyUI prompt is not JSON: {e}"))?;
    let obj = v.as_object().ok_or("ComfyUI prompt is not a JSON object")?;
    let mut graph = Graph::new();
    for (id, node) in obj {
        let class = node.get("class_type").and_then(Value::as_str);
        let inputs = node.get("inputs").and_then(Value::as_object);
        if let (Some(class), Some(inputs)) = (class, inputs) {
            graph.insert(id.clone(), Node { class: class.to_owned(), inputs: inputs.clone() });
        }
    }
    if graph.is_empty() && !obj.is_empty() {
        return Err("ComfyUI prompt has no nodes with class_type and inputs".into());
    }
    Ok(graph)
}

/// Widget names of common nodes, in the order the UI stores `widgets_values`.
fn widget_names(class: &str) -> &'static [&'static str] {
    match class {
        "KSampler" => {
            &["seed", "control_after_generate", "steps", "cfg", "sampler_name", "scheduler", "denoise"]
        }
        "KSamplerAdvanced" => &[
            "add_noise",
            "noise_seed",
            "control_after_generate",
            "steps",
            "cfg",
            "sampler_name",
            "scheduler",
            "start_at_step",
            "end_at_step",
            "return_with_leftover_noise",
        ],
        "SamplerCustom" => &["add_noise", "noise_seed", "control_after_generate", "cfg"],
        "CheckpointLoaderSimple" => &["ckpt_name"],
        "CLIPTextEncode" => &["text"],
        "EmptyLatentImage" | "EmptySD3LatentImage" => &["width", "height", "batch_size"],
        "LoraLoader" => &["lora_name", "strength_model", "strength_clip"],
        "LoraLoaderModelOnly" => &["lora_name", "strength_model"],
        "VAELoader" => &["vae_name"],
        "UNETLoader" => &["unet_name", "weight_dtype"],
        "KSamplerSelect" => &["sampler_name"],
        "BasicScheduler" => &["scheduler", "steps", "denoise"],
        "RandomNoise" => &["noise_seed", "control_after_generate"],
        "CFGGuider" => &["cfg"],
        "LatentUpscale" => &["upscale_method", "width", "height", "crop"],
        "LatentUpscaleBy" => &["upscale_method", "scale_by"],
        "LoadImage" => &["image", "upload"],
        "FluxGuidance" => &["guidance"],
        "CLIPSetLastLayer" => &["stop_at_clip_layer"],
        _ => &[],
    }
}

/// Converts the UI graph to the API graph's shape, for files that carry only `workflow`.
fn ui_graph(text: &str) -> Result<Graph, String> {
    let v: Value = serde_json::from_str(text).map_err(|e| format!("ComfyUI workflow is not JSON: {e}"))?;
    let nodes = v.get("nodes").and_then(Value::as_array).ok_or("ComfyUI workflow has no nodes")?;
    // links: [id, from_node, from_slot, to_node, to_slot, type]
    let mut sources: BTreeMap<u64, (String, u64)> = BTreeMap::new();
    for l in v.get("links").and_then(Value::as_array).into_iter().flatten() {
        if let Some([id, from, slot, ..]) = l.as_array().map(Vec::as_slice)
            && let (Some(id), Some(slot)) = (id.as_u64(), slot.as_u64())
        {
            sources.insert(id, (from.to_string().trim_matches('"').to_owned(), slot));
        }
    }
    let mut graph = Graph::new();
    for node in nodes {
        let (Some(id), Some(class)) = (node.get("id"), node.get("type").and_then(Value::as_str)) else {
            continue;
        };
        let mut inputs = Map::new();
        if let Some(values) = node.get("widgets_values").and_then(Value::as_array) {
            for (name, value) in widget_names(class).iter().zip(values) {
                inputs.insert((*name).to_owned(), value.clone());
            }
        }
        for input in node.get("inputs").and_then(Value::as_array).into_iter().flatten() {
            let name = input.get("name").and_then(Value::as_str);
            let link_id = input.get("link").and_then(Value::as_u64);
            if let (Some(name), Some(link_id)) = (name, link_id)
                && let Some((from, slot)) = sources.get(&link_id)
            {
                inputs
                    .insert(name.to_owned(), Value::Array(vec![Value::String(from.clone()), (*slot).into()]));
            }
        }
        let id = id.to_string().trim_matches('"').to_owned();
        graph.insert(id, Node { class: class.to_owned(), inputs });
    }
    Ok(graph)
}

fn is_sampler(n: &Node) -> bool {
    n.inputs.contains_key("latent_image")
        && (n.inputs.contains_key("positive") || n.inputs.contains_key("guider"))
}

/// Reports links to missing nodes and cycles; the walker copes with both either way.
fn check_links(graph: &Graph, warnings: &mut Vec<String>) {
    for (id, node) in graph {
        for (name, v) in &node.inputs {
            if let Some(to) = link(v)
                && !graph.contains_key(&to)
            {
                warnings.push(format!(
                    "ComfyUI node {id} ({}) input {name:?} links to node {to}, which does not exist",
                    node.class
                ));
            }
        }
    }
    // Iterative depth-first search with colours: grey nodes are on the current path.
    let mut colour: BTreeMap<&str, u8> = BTreeMap::new();
    for start in graph.keys() {
        if colour.contains_key(start.as_str()) {
            continue;
        }
        let mut stack: Vec<(&str, Vec<String>)> = vec![(start, deps(graph, start))];
        colour.insert(start, 1);
        while let Some((node, pending)) = stack.last_mut() {
            let node = *node;
            match pending.pop() {
                Some(next) => {
                    let Some((key, _)) = graph.get_key_value(&next) else { continue };
                    match colour.get(key.as_str()) {
                        Some(1) => {
                            warnings.push(format!(
                                "ComfyUI graph has a cycle: node {node} links back to node {key}"
                            ));
                        }
                        Some(_) => {}
                        None => {
                            colour.insert(key, 1);
                            stack.push((key, deps(graph, key)));
                        }
                    }
                }
                None => {
                    colour.insert(node, 2);
                    stack.pop();
                }
            }
        }
    }
}

fn deps(graph: &Graph, id: &str) -> Vec<String> {
    graph.get(id).map(|n| n.inputs.values().filter_map(link).collect()).unwrap_or_default()
}

struct Walker<'g> {
    graph: &'g Graph,
}

impl Walker<'_> {
    fn node(&self, id: &str) -> Option<&Node> {
        self.graph.get(id)
    }

    /// A literal setting of node `id` under one of `keys`, looked for in the node itself,
    /// then through links named in `via` (custom samplers' noise, guider, sampler, sigmas)
    /// and through links on the key itself (primitive nodes).
    fn setting(&self, id: &str, keys: &[&str], via: &[&str]) -> Option<Value> {
        let mut seen = HashSet::new();
        self.setting_inner(id, keys, via, &mut seen)
    }

    fn setting_inner(
        &self,
        id: &str,
        keys: &[&str],
        via: &[&str],
        seen: &mut HashSet<String>,
    ) -> Option<Value> {
        if !seen.insert(id.to_owned()) {
            return None;
        }
        let node = self.node(id)?;
        for key in keys {
            match node.inputs.get(*key) {
                Some(v) if link(v).is_none() => return Some(v.clone()),
                Some(v) => {
                    let src = link(v)?;
                    let found = self.setting_inner(
                        &src,
                        &[key, "value", "int", "float", "seed", "number"],
                        &[],
                        seen,
                    );
                    if found.is_some() {
                        return found;
                    }
                }
                None => {}
            }
        }
        via.iter()
            .filter_map(|name| node.inputs.get(*name).and_then(link))
            .find_map(|src| self.setting_inner(&src, keys, via, seen))
    }

    /// The texts that feed a conditioning input, in graph order.
    fn texts(&self, id: &str, out: &mut Vec<String>, seen: &mut HashSet<String>) {
        if !seen.insert(id.to_owned()) {
            return;
        }
        let Some(node) = self.node(id) else { return };
        let mut found = false;
        for key in TEXT_KEYS {
            let Some(v) = node.inputs.get(key) else { continue };
            if let Some(text) = self.string(v, &mut HashSet::new()) {
                found = true;
                if !out.contains(&text) {
                    out.push(text);
                }
            }
        }
        if found {
            return;
        }
        for (name, v) in &node.inputs {
            if NOT_CONDITIONING.contains(&name.as_str()) {
                continue;
            }
            if let Some(src) = link(v) {
                self.texts(&src, out, seen);
            }
        }
    }

    /// A string input: literal, or through links to text and string-concatenation nodes.
    fn string(&self, v: &Value, seen: &mut HashSet<String>) -> Option<String> {
        if let Value::String(s) = v {
            return Some(s.clone());
        }
        let src = link(v)?;
        if !seen.insert(src.clone()) {
            return None;
        }
        let node = self.node(&src)?;
        let parts: Vec<String> = STRING_KEYS
            .iter()
            .filter_map(|k| node.inputs.get(*k))
            .filter_map(|v| self.string(v, seen))
            .collect();
        if parts.is_empty() {
            return None;
        }
        let sep = node.inputs.get("delimiter").and_then(Value::as_str).unwrap_or("");
        Some(parts.join(sep))
    }

    fn prompt(&self, sampler: &str, input: &str) -> Option<String> {
        let src = self.setting_link(sampler, input)?;
        let mut texts = Vec::new();
        self.texts(&src, &mut texts, &mut HashSet::new());
        (!texts.is_empty()).then(|| texts.join("\n"))
    }

    /// Where `input` of the sampler (or of its guider) links to.
    fn setting_link(&self, sampler: &str, input: &str) -> Option<String> {
        let node = self.node(sampler)?;
        if let Some(src) = node.inputs.get(input).and_then(link) {
            return Some(src);
        }
        let guider = node.inputs.get("guider").and_then(link)?;
        let g = self.node(&guider)?;
        let alias = if input == "positive" { "conditioning" } else { input };
        g.inputs.get(input).or_else(|| g.inputs.get(alias)).and_then(link)
    }

    /// Follows `model` links to the checkpoint, collecting LoRAs on the way.
    fn model(&self, sampler: &str, g: &mut Generation) {
        let mut next = self.setting_link(sampler, "model");
        let mut seen = HashSet::new();
        while let Some(id) = next.take() {
            if !seen.insert(id.clone()) {
                break;
            }
            let Some(node) = self.node(&id) else { break };
            let s = |k: &str| node.inputs.get(k).and_then(Value::as_str).map(str::to_owned);
            if let Some(name) = s("ckpt_name").or_else(|| s("unet_name")).or_else(|| s("model_name")) {
                g.model = Some(ModelRef::named(name));
                break;
            }
            if let Some(name) = s("lora_name") {
                g.adapters.push(Adapter {
                    kind: AdapterKind::Lora,
                    name,
                    weight: node.inputs.get("strength_model").and_then(as_f64),
                    clip_weight: node.inputs.get("strength_clip").and_then(as_f64),
                    hash: None,
                });
            }
            next = node.inputs.get("model").and_then(link);
        }
        g.adapters.reverse(); // in the order they are applied, from the checkpoint on
    }

    /// Follows `latent_image` to its origin: size, a second pass, or an encoded image.
    fn latent(&self, sampler: &str, g: &mut Generation, denoise: Option<f64>, depth: usize) {
        let mut next = self.node(sampler).and_then(|n| n.inputs.get("latent_image")).and_then(link);
        let mut seen = HashSet::new();
        let mut hires: Option<Hires> = None;
        while let Some(id) = next.take() {
            if !seen.insert(id.clone()) {
                break;
            }
            let Some(node) = self.node(&id) else { break };
            let num = |k: &str| node.inputs.get(k).and_then(Value::as_u64).map(|v| v as u32);
            match node.class.as_str() {
                c if c.starts_with("LatentUpscale") => {
                    let h = hires.get_or_insert_with(Hires::default);
                    h.upscaler = node.inputs.get("upscale_method").and_then(Value::as_str).map(str::to_owned);
                    h.scale = node.inputs.get("scale_by").and_then(as_f64);
                    (h.width, h.height) = (num("width").filter(|&w| w > 0), num("height").filter(|&h| h > 0));
                    h.denoising_strength = denoise;
                    next = node.inputs.get("samples").and_then(link);
                    continue;
                }
                c if c.starts_with("VAEEncode") || c == "SetLatentNoiseMask" => {
                    let inpaint = c.contains("Inpaint")
                        || c == "SetLatentNoiseMask"
                        || node.inputs.contains_key("mask");
                    let pixels = node.inputs.get("pixels").and_then(link);
                    let init = pixels
                        .as_deref()
                        .and_then(|p| self.node(p))
                        .and_then(|n| n.inputs.get("image").and_then(Value::as_str).map(str::to_owned));
                    if c == "SetLatentNoiseMask" {
                        next = node.inputs.get("samples").and_then(link);
                    }
                    let img = g.img2img.get_or_insert_with(Img2Img::default);
                    img.mode = if inpaint {
                        "inpaint".into()
                    } else if img.mode.is_empty() {
                        "img2img".into()
                    } else {
                        img.mode.clone()
                    };
                    img.denoising_strength = denoise;
                    if init.is_some() {
                        img.init_image = init;
                    }
                    continue;
                }
                _ if is_sampler(node) => {
                    // Latent from an earlier sampler: this is a second pass over its output.
                    g.extra.insert("upstream_sampler".into(), Value::String(id.clone()));
                    let h = hires.get_or_insert_with(Hires::default);
                    h.denoising_strength = denoise;
                    if depth < 8 {
                        let mut upstream = Generation::new(Generator::ComfyUi, "", "");
                        self.latent(&id, &mut upstream, None, depth + 1);
                        if let (Some(w), Some(ht), Some(scale)) = (upstream.width, upstream.height, h.scale) {
                            g.width = Some((w as f64 * scale).round() as u32);
                            g.height = Some((ht as f64 * scale).round() as u32);
                        } else if h.width.is_none() {
                            (g.width, g.height) = (upstream.width, upstream.height);
                        }
                    }
                }
                _ => {
                    if let (Some(w), Some(h)) = (num("width"), num("height")) {
                        (g.width, g.height) = (Some(w), Some(h));
                    }
                    if let Some(b) = node.inputs.get("batch_size").filter(|v| link(v).is_none()) {
                        g.extra.insert("batch_size".into(), b.clone());
                    }
                    next = node.inputs.get("samples").and_then(link);
                }
            }
        }
        if let Some(h) = &hires
            && g.width.is_none()
        {
            (g.width, g.height) = (h.width, h.height);
        }
        g.hires = hires;
    }

    fn record(&self, id: &str, source: &str, raw: &str) -> Generation {
        let node = self.node(id).expect("sampler ids come from the graph");
        let mut g = Generation::new(Generator::ComfyUi, format!("{source} node {id} ({})", node.class), raw);
        let via = ["noise", "guider", "sampler", "sigmas"];
        g.seed = self.setting(id, &["seed", "noise_seed"], &via).and_then(|v| v.as_u64());
        g.steps = self.setting(id, &["steps"], &via).and_then(|v| v.as_u64()).map(|v| v as u32);
        g.cfg_scale = self.setting(id, &["cfg"], &via).as_ref().and_then(as_f64);
        g.sampler = self.setting(id, &["sampler_name"], &via).and_then(|v| v.as_str().map(str::to_owned));
        g.scheduler = self.setting(id, &["scheduler"], &via).and_then(|v| v.as_str().map(str::to_owned));
        let denoise = self.setting(id, &["denoise"], &via).as_ref().and_then(as_f64);
        g.prompt = self.prompt(id, "positive");
        g.negative_prompt = self.prompt(id, "negative");
        self.model(id, &mut g);
        self.latent(id, &mut g, denoise.filter(|&d| d < 1.0), 0);
        if let Some(vae) = self.graph.values().find_map(|n| n.inputs.get("vae_name").and_then(Value::as_str))
        {
            g.vae = Some(ModelRef::named(vae));
        }
        let mapped: BTreeSet<&str> =
            ["seed", "noise_seed", "steps", "cfg", "sampler_name", "scheduler", "denoise"].into();
        for (k, v) in &node.inputs {
            if link(v).is_none() && !mapped.contains(k.as_str()) {
                g.extra.insert(k.clone(), v.clone());
            }
        }
        if let Some(d) = denoise.filter(|_| g.img2img.is_none() && g.hires.is_none()) {
            g.extra.insert("denoise".into(), d.into());
        }
        g.extra.insert("node_class".into(), Value::String(node.class.clone()));
        g
    }
}
