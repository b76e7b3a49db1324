//! ComfyUI: the API graph (`prompt`) and the UI graph (`workflow`).
//!
//! Every sampler node gives one record. From a sampler the walker follows links backwards:
//! `positive`/`negative` through conditioning nodes to the text encoders, `model` through LoRA
//! loaders to the checkpoint, `latent_image` to the empty latent (size), an upscale (second
//! pass) or an encoded image (img2img, inpaint). Custom samplers split their settings over
//! `noise`, `guider`, `sampler` and `sigmas` nodes; those links are followed too. Traversals
//! keep a visited set, so a cycle or a dangling link cannot loop; both are reported.
//!
//! Every walk is iterative, with its own stack, and bounded: links are followed at most
//! [`MAX_DEPTH`] deep, a file's walks visit at most [`MAX_VISITS`] nodes and copy at most
//! [`MAX_COPIED`] bytes of text into its records, and at most [`MAX_GENERATIONS`] samplers
//! are recorded. What lies past a bound is left out, with a warning.

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io;

use serde_json::{Map, Value};

use super::as_f64;
use crate::{Adapter, AdapterKind, Generation, Generator, Hires, Img2Img, MAX_GENERATIONS, ModelRef};

/// How many links deep a walk from a sampler follows; real graphs are a few dozen deep.
const MAX_DEPTH: usize = 1_000;
/// How many node visits the walks of one graph may make, over all its samplers.
const MAX_VISITS: usize = 1_000_000;
/// How many bytes of text the walks of one graph may copy: texts joined for prompts and
/// the records themselves (as JSON). The graph's own text is kept once, outside this.
const MAX_COPIED: usize = 64 << 20;
/// Dangling links and cycles named one by one; past this, a count of the rest.
const MAX_LINK_WARNINGS: usize = 20;

struct Node {
    class: String,
    inputs: Map<String, Value>,
}

type Graph = BTreeMap<String, Node>;

/// A link input: `[source node id, output slot]`.
fn link(v: &Value) -> Option<String> {
    link_slot(v).map(|(id, _)| id)
}

/// A link input's source node id and output slot.
fn link_slot(v: &Value) -> Option<(String, u64)> {
    match v.as_array()?.as_slice() {
        [id, slot] => {
            let slot = slot.as_u64()?;
            match id {
                Value::String(s) => Some((s.clone(), slot)),
                Value::Number(n) => Some((n.to_string(), slot)),
                _ => None,
            }
        }
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

/// The records of a ComfyUI graph, one per sampler node. The first record carries the
/// graph's text as `raw`; the others carry none (the caller points them at the first).
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
    let walker = Walker::new(&graph);
    let mut samplers: Vec<&String> = graph.iter().filter(|(_, n)| is_sampler(n)).map(|(id, _)| id).collect();
    // Node ids are numbers written as strings, or `group:node` inside group nodes and
    // subgraphs (`"4:4"`): order them as numbers, then names (front ends' own ids).
    samplers.sort_by_cached_key(|id| id_order(id));
    let total = samplers.len();
    if total > MAX_GENERATIONS {
        warnings.push(format!(
            "{source}: ComfyUI graph has {total} sampler nodes: the first {MAX_GENERATIONS} were recorded, {} dropped",
            total - MAX_GENERATIONS
        ));
        samplers.truncate(MAX_GENERATIONS);
    }
    let vae = graph.values().find_map(|n| n.inputs.get("vae_name").and_then(Value::as_str));
    let mut records = Vec::with_capacity(samplers.len());
    for (n, id) in samplers.iter().enumerate() {
        let g = walker.record(id, source, vae);
        if !walker.charge(json_size(&g)) {
            warnings.push(format!(
                "{source}: ComfyUI records stop at node {id}: together they would copy more than {} MiB of text; {} sampler(s) dropped",
                MAX_COPIED >> 20,
                samplers.len() - n
            ));
            break;
        }
        records.push((id.as_str(), g));
    }
    // A first pass before the passes that refine its output, whatever the ids say.
    let upstream: BTreeMap<&str, &str> = records
        .iter()
        .filter_map(|(id, g)| Some((*id, g.extra.get("upstream_sampler")?.as_str()?)))
        .collect();
    let pass = |id: &str| {
        let (mut at, mut n) = (id, 0usize);
        while let Some(up) = upstream.get(at).filter(|_| n < upstream.len()) {
            (at, n) = (up, n + 1);
        }
        n
    };
    let passes: Vec<usize> = records.iter().map(|(id, _)| pass(id)).collect();
    let mut order: Vec<usize> = (0..records.len()).collect();
    order.sort_by_key(|&i| passes[i]);
    let mut slots: Vec<Option<Generation>> = records.into_iter().map(|(_, g)| Some(g)).collect();
    let mut records: Vec<Generation> = order.into_iter().filter_map(|i| slots[i].take()).collect();
    if let Some(first) = records.first_mut() {
        first.raw = Some(raw.to_owned());
    }
    walker.report(source, warnings);
    Ok(records)
}

/// Sort key of a node id: numbers (`"12"`) and group or subgraph ids (`"4:12"`) part by part
/// as numbers, before other names.
fn id_order(id: &str) -> (bool, Vec<u64>, String) {
    match id.split(':').map(|p| p.parse::<u64>()).collect::<Result<Vec<_>, _>>() {
        Ok(parts) => (false, parts, String::new()),
        Err(_) => (true, Vec::new(), id.to_owned()),
    }
}

/// The length of a record's JSON, counted without writing it anywhere.
fn json_size(g: &Generation) -> usize {
    struct Count(usize);
    impl io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    serde_json::to_writer(&mut count, g).map_or(usize::MAX, |()| count.0)
}

fn api_graph(text: &str) -> Result<Graph, String> {
    let v: Value = serde_json::from_str(text).map_err(|e| format!("ComfyUI prompt is not JSON: {e}"))?;
    let Value::Object(obj) = v else { return Err("ComfyUI prompt is not a JSON object".into()) };
    let nodes = obj.len();
    let mut graph = Graph::new();
    // Taken apart, not copied: a graph can be tens of megabytes.
    for (id, node) in obj {
        let Value::Object(mut node) = node else { continue };
        if let (Some(Value::String(class)), Some(Value::Object(inputs))) =
            (node.remove("class_type"), node.remove("inputs"))
        {
            graph.insert(id, Node { class, inputs });
        }
    }
    if graph.is_empty() && nodes > 0 {
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
    let mut dangling = 0usize;
    for (id, node) in graph {
        for (name, v) in &node.inputs {
            if let Some(to) = link(v)
                && !graph.contains_key(&to)
            {
                dangling += 1;
                if dangling <= MAX_LINK_WARNINGS {
                    warnings.push(format!(
                        "ComfyUI node {id} ({}) input {name:?} links to node {to}, which does not exist",
                        node.class
                    ));
                }
            }
        }
    }
    if dangling > MAX_LINK_WARNINGS {
        warnings.push(format!(
            "ComfyUI graph: {} more links to nodes that do not exist",
            dangling - MAX_LINK_WARNINGS
        ));
    }
    // Iterative depth-first search with colours: grey nodes are on the current path.
    let mut cycles = 0usize;
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
                            cycles += 1;
                            if cycles <= MAX_LINK_WARNINGS {
                                warnings.push(format!(
                                    "ComfyUI graph has a cycle: node {node} links back to node {key}"
                                ));
                            }
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
    if cycles > MAX_LINK_WARNINGS {
        warnings.push(format!("ComfyUI graph: {} more cycles", cycles - MAX_LINK_WARNINGS));
    }
}

fn deps(graph: &Graph, id: &str) -> Vec<String> {
    graph.get(id).map(|n| n.inputs.values().filter_map(link).collect()).unwrap_or_default()
}

/// The schedule a sigmas node of ComfyUI's own makes (comfy_extras/nodes_custom_sampler.py).
fn scheduler_of(class: &str) -> Option<&'static str> {
    Some(match class {
        "KarrasScheduler" => "karras",
        "ExponentialScheduler" => "exponential",
        "PolyexponentialScheduler" => "polyexponential",
        "LaplaceScheduler" => "laplace",
        "VPScheduler" => "vp",
        "BetaSamplingScheduler" => "beta",
        "SDTurboScheduler" => "sd_turbo",
        "AlignYourStepsScheduler" => "align_your_steps",
        "GITSScheduler" => "gits",
        _ => return None,
    })
}

/// What [`Walker::pixels`] found behind an image input.
enum Pixels {
    /// A file loaded into the graph (LoadImage's `image`).
    Loaded(Option<String>),
    /// A sampler's output, decoded, with the resizing on the way.
    Decoded {
        sampler: String,
        resize: Hires,
    },
    Unknown,
}

/// Walks a graph from its samplers, within the bounds of one file.
struct Walker<'g> {
    graph: &'g Graph,
    visits_left: Cell<usize>,
    copy_left: Cell<usize>,
    too_deep: Cell<bool>,
    out_of_visits: Cell<bool>,
    out_of_copy: Cell<bool>,
}

/// Which keys a [`Walker::setting`] frame looks for: those asked for, or those of a
/// primitive node that feeds the key it was linked from.
#[derive(Clone, Copy)]
enum Keys {
    Asked,
    Primitive(&'static str),
}

/// A node on [`Walker::setting`]'s stack: the next key or link to look at.
struct SettingFrame<'g> {
    node: &'g Node,
    keys: Keys,
    step: usize,
    depth: usize,
}

/// A node on [`Walker::string`]'s stack: the next string key, and the parts found so far.
struct StringFrame<'g> {
    node: &'g Node,
    next: usize,
    parts: Vec<String>,
}

impl<'g> Walker<'g> {
    fn new(graph: &'g Graph) -> Self {
        Walker {
            graph,
            visits_left: Cell::new(MAX_VISITS),
            copy_left: Cell::new(MAX_COPIED),
            too_deep: Cell::new(false),
            out_of_visits: Cell::new(false),
            out_of_copy: Cell::new(false),
        }
    }

    fn node(&self, id: &str) -> Option<&'g Node> {
        self.graph.get(id)
    }

    /// Node `id`, counted against the visit budget; `None` when it does not exist or the
    /// budget is spent.
    fn visit(&self, id: &str) -> Option<&'g Node> {
        match self.visits_left.get() {
            0 => {
                self.out_of_visits.set(true);
                None
            }
            left => {
                self.visits_left.set(left - 1);
                self.node(id)
            }
        }
    }

    /// True (and noted) when a link at `depth` is past the depth bound.
    fn too_deep(&self, depth: usize) -> bool {
        let over = depth > MAX_DEPTH;
        if over {
            self.too_deep.set(true);
        }
        over
    }

    /// Counts `bytes` of copied text against the copy budget; false once it is spent.
    fn charge(&self, bytes: usize) -> bool {
        match self.copy_left.get().checked_sub(bytes) {
            Some(left) => {
                self.copy_left.set(left);
                true
            }
            None => {
                self.copy_left.set(0);
                self.out_of_copy.set(true);
                false
            }
        }
    }

    /// A copy of `text`, counted against the copy budget.
    fn copy(&self, text: &str) -> Option<String> {
        self.charge(text.len()).then(|| text.to_owned())
    }

    /// One warning per bound that was reached.
    fn report(&self, source: &str, warnings: &mut Vec<String>) {
        if self.too_deep.get() {
            warnings.push(format!(
                "{source}: ComfyUI graph links more than {MAX_DEPTH} nodes deep; what lies further was not read"
            ));
        }
        if self.out_of_visits.get() {
            warnings.push(format!(
                "{source}: ComfyUI graph walks stopped after {MAX_VISITS} node visits; later records may lack settings or prompts"
            ));
        }
        if self.out_of_copy.get() {
            warnings.push(format!(
                "{source}: ComfyUI texts stopped at {} MiB copied; prompts past that were left out",
                MAX_COPIED >> 20
            ));
        }
    }

    /// A literal setting of node `id` under one of `keys`, looked for in the node itself,
    /// then through links named in `via` (custom samplers' noise, guider, sampler, sigmas)
    /// and through links on the key itself (primitive nodes). Depth first, in that order.
    fn setting(&self, id: &str, keys: &[&'static str], via: &[&str]) -> Option<Value> {
        let mut seen = HashSet::from([id.to_owned()]);
        let mut stack = vec![SettingFrame { node: self.node(id)?, keys: Keys::Asked, step: 0, depth: 0 }];
        while let Some(frame) = stack.last_mut() {
            let primitive: [&'static str; 6];
            let (list, links): (&[&'static str], &[&str]) = match frame.keys {
                Keys::Asked => (keys, via),
                Keys::Primitive(key) => {
                    primitive = [key, "value", "int", "float", "seed", "number"];
                    (&primitive, &[])
                }
            };
            let (node, step, depth) = (frame.node, frame.step, frame.depth);
            frame.step += 1;
            let (src, next_keys) = if let Some(&key) = list.get(step) {
                match node.inputs.get(key) {
                    None => continue,
                    Some(v) => match link(v) {
                        None => return Some(v.clone()),
                        Some(src) => (src, Keys::Primitive(key)),
                    },
                }
            } else if let Some(name) = links.get(step - list.len()) {
                match node.inputs.get(*name).and_then(link) {
                    None => continue,
                    Some(src) => (src, Keys::Asked),
                }
            } else {
                stack.pop();
                continue;
            };
            if self.too_deep(depth + 1) || !seen.insert(src.clone()) {
                continue;
            }
            if let Some(node) = self.visit(&src) {
                stack.push(SettingFrame { node, keys: next_keys, step: 0, depth: depth + 1 });
            }
        }
        None
    }

    /// The texts that feed a conditioning input, in graph order (depth first): first those
    /// that apply to the whole image, then those set to an area or a mask (area composition).
    ///
    /// A node that takes both a `positive` and a `negative` input and gives them out again
    /// (ControlNetApplyAdvanced, InstructPixToPixConditioning, …) is followed only on the
    /// side its output slot stands for: 0 positive, 1 negative.
    fn texts(&self, (start, slot): (String, u64)) -> Vec<String> {
        let (mut out, mut areas) = (Vec::new(), Vec::new());
        let mut have = HashSet::new();
        let mut seen = HashSet::new();
        let mut empty = false;
        let mut stack = vec![(start, slot, 0usize, false)];
        while let Some((id, slot, depth, in_area)) = stack.pop() {
            if !seen.insert((id.clone(), slot)) {
                continue;
            }
            let Some(node) = self.visit(&id) else { continue };
            let mut found = false;
            for key in TEXT_KEYS {
                let Some(v) = node.inputs.get(key) else { continue };
                if let Some(text) = self.string(v) {
                    found = true;
                    if text.is_empty() {
                        empty = true;
                    } else if have.insert(text.clone()) {
                        if in_area { &mut areas } else { &mut out }.push(text);
                    }
                }
            }
            if found || self.too_deep(depth + 1) {
                continue;
            }
            let in_area = in_area
                || node.class.starts_with("ConditioningSetArea")
                || node.class == "ConditioningSetMask";
            let paired = node.inputs.contains_key("positive") && node.inputs.contains_key("negative");
            let side = match slot {
                0 => "negative",
                1 => "positive",
                _ => "",
            };
            let before = stack.len();
            for (name, v) in &node.inputs {
                if NOT_CONDITIONING.contains(&name.as_str()) || paired && name == side {
                    continue;
                }
                if let Some(src) = link_slot(v).filter(|src| !seen.contains(src)) {
                    stack.push((src.0, src.1, depth + 1, in_area));
                }
            }
            stack[before..].reverse(); // the first input is walked first
        }
        out.extend(areas);
        if out.is_empty() && empty {
            out.push(String::new());
        }
        out
    }

    /// A string input: literal, or through links to text and string-concatenation nodes
    /// (each part found in order, joined by the node's `delimiter`).
    fn string(&self, v: &Value) -> Option<String> {
        if let Value::String(s) = v {
            return self.copy(s);
        }
        let src = link(v)?;
        let mut seen = HashSet::from([src.clone()]);
        let mut stack = vec![StringFrame { node: self.visit(&src)?, next: 0, parts: Vec::new() }];
        loop {
            let frame = stack.last_mut()?;
            if let Some(key) = STRING_KEYS.get(frame.next) {
                frame.next += 1;
                match frame.node.inputs.get(*key) {
                    Some(Value::String(s)) => {
                        let part = self.copy(s)?;
                        frame.parts.push(part);
                    }
                    Some(v) => {
                        let depth = stack.len();
                        if let Some(src) = link(v)
                            && !self.too_deep(depth)
                            && seen.insert(src.clone())
                            && let Some(node) = self.visit(&src)
                        {
                            stack.push(StringFrame { node, next: 0, parts: Vec::new() });
                        }
                    }
                    None => {}
                }
                continue;
            }
            let done = stack.pop()?;
            let joined = if done.parts.is_empty() {
                None
            } else {
                let sep = done.node.inputs.get("delimiter").and_then(Value::as_str).unwrap_or("");
                let joined = done.parts.join(sep);
                if !self.charge(joined.len()) {
                    return None;
                }
                Some(joined)
            };
            match stack.last_mut() {
                Some(parent) => parent.parts.extend(joined),
                None => return joined,
            }
        }
    }

    fn prompt(&self, sampler: &str, input: &str) -> Option<String> {
        let src = self.setting_link(sampler, input)?;
        let texts = self.texts(src);
        if texts.is_empty() {
            return None;
        }
        let joined = texts.join("\n");
        self.charge(joined.len()).then_some(joined)
    }

    /// Where `input` of the sampler (or of its guider) links to.
    /// (BasicGuider names its conditioning `conditioning`, DualCFGGuider `cond1`.)
    fn setting_link(&self, sampler: &str, input: &str) -> Option<(String, u64)> {
        let node = self.node(sampler)?;
        if let Some(src) = node.inputs.get(input).and_then(link_slot) {
            return Some(src);
        }
        let guider = node.inputs.get("guider").and_then(link)?;
        let g = self.visit(&guider)?;
        let aliases: &[&str] =
            if input == "positive" { &["positive", "conditioning", "cond1"] } else { &[input] };
        aliases.iter().find_map(|a| g.inputs.get(*a).and_then(link_slot))
    }

    /// Follows `model` links to the checkpoint, collecting LoRAs on the way.
    fn model(&self, sampler: &str, g: &mut Generation) {
        let mut next = self.setting_link(sampler, "model").map(|(id, _)| id);
        let mut seen = HashSet::new();
        while let Some(id) = next.take() {
            if self.too_deep(seen.len() + 1) || !seen.insert(id.clone()) {
                break;
            }
            let Some(node) = self.visit(&id) else { break };
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
            if self.too_deep(seen.len() + 1) || !seen.insert(id.clone()) {
                break;
            }
            let Some(node) = self.visit(&id) else { break };
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
                    let pixels = self.pixels(node.inputs.get("pixels").and_then(link));
                    if let (false, Pixels::Decoded { sampler, resize }) = (inpaint, &pixels) {
                        // An earlier sampler's image, decoded, resized and encoded again: a
                        // second pass in pixel space (hires fix with an upscale model).
                        let h = hires.get_or_insert_with(Hires::default);
                        *h = Hires { denoising_strength: denoise, ..resize.clone() };
                        next = Some(sampler.clone());
                        continue;
                    }
                    let init = match pixels {
                        Pixels::Loaded(name) => name,
                        _ => None,
                    };
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

    /// Where the image on an image input comes from: walks back through resizing and
    /// upscale-model nodes to a loaded file or a decoded sampler output.
    fn pixels(&self, start: Option<String>) -> Pixels {
        let mut next = start;
        let mut seen = HashSet::new();
        let mut resize = Hires::default();
        while let Some(id) = next.take() {
            if self.too_deep(seen.len() + 1) || !seen.insert(id.clone()) {
                break;
            }
            let Some(node) = self.visit(&id) else { break };
            let class = node.class.as_str();
            if class.starts_with("LoadImage") {
                return Pixels::Loaded(node.inputs.get("image").and_then(Value::as_str).map(str::to_owned));
            }
            if class.starts_with("VAEDecode") {
                // The decoded latent, through latent-only nodes, to its sampler.
                let mut latent = node.inputs.get("samples").and_then(link);
                while let Some(l) = latent.take() {
                    if self.too_deep(seen.len() + 1) || !seen.insert(l.clone()) {
                        break;
                    }
                    let Some(n) = self.visit(&l) else { break };
                    if is_sampler(n) {
                        return Pixels::Decoded { sampler: l, resize };
                    }
                    latent = n.inputs.get("samples").and_then(link);
                }
                return Pixels::Unknown;
            }
            let literal = |k: &str| node.inputs.get(k).filter(|v| link(v).is_none());
            if let Some(model) = node.inputs.get("upscale_model").and_then(link) {
                // The upscale model names the upscaler better than the resize after it.
                if let Some(name) = self.visit(&model).and_then(|m| m.inputs.get("model_name")?.as_str()) {
                    resize.upscaler = Some(name.to_owned());
                }
            }
            if resize.upscaler.is_none() {
                resize.upscaler = literal("upscale_method").and_then(Value::as_str).map(str::to_owned);
            }
            let size = |k: &str| literal(k).and_then(Value::as_u64).and_then(|v| u32::try_from(v).ok());
            if resize.width.is_none() && resize.scale.is_none() {
                (resize.width, resize.height) =
                    (size("width").filter(|&w| w > 0), size("height").filter(|&h| h > 0));
                resize.scale = literal("scale_by").and_then(as_f64);
            }
            next = ["image", "images", "pixels"].iter().find_map(|k| node.inputs.get(*k).and_then(link));
        }
        Pixels::Unknown
    }

    /// The record of sampler `id`, without `raw` (the caller puts the graph's text on the
    /// file's first record only).
    fn record(&self, id: &str, source: &str, vae: Option<&str>) -> Generation {
        let node = self.node(id).expect("sampler ids come from the graph");
        let mut g = Generation::new(Generator::ComfyUi, format!("{source} node {id} ({})", node.class), "");
        g.raw = None;
        let via = ["noise", "guider", "sampler", "sigmas"];
        g.seed = self.setting(id, &["seed", "noise_seed"], &via).and_then(|v| v.as_u64());
        g.steps = self.setting(id, &["steps"], &via).and_then(|v| v.as_u64()).map(|v| v as u32);
        g.cfg_scale = self.setting(id, &["cfg", "cfg_conds"], &via).as_ref().and_then(as_f64);
        g.sampler = self.setting(id, &["sampler_name"], &via).and_then(|v| v.as_str().map(str::to_owned));
        g.scheduler = self.setting(id, &["scheduler"], &via).and_then(|v| v.as_str().map(str::to_owned));
        if g.scheduler.is_none() {
            // Custom samplers' sigmas from a scheduler node of their own kind.
            let sigmas = node.inputs.get("sigmas").and_then(link);
            g.scheduler =
                sigmas.and_then(|s| self.node(&s)).and_then(|s| scheduler_of(&s.class)).map(str::to_owned);
        }
        let denoise = self.setting(id, &["denoise"], &via).as_ref().and_then(as_f64);
        // Flux's distilled guidance (FluxGuidance on the conditioning), not a CFG scale.
        let guidance = self.setting(id, &["guidance"], &["guider", "conditioning", "positive"]);
        g.prompt = self.prompt(id, "positive");
        g.negative_prompt = self.prompt(id, "negative");
        self.model(id, &mut g);
        self.latent(id, &mut g, denoise.filter(|&d| d < 1.0), 0);
        g.vae = vae.map(ModelRef::named);
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
        if let Some(v) = guidance.filter(|v| v.is_number()) {
            g.extra.entry("guidance".into()).or_insert(v);
        }
        g.extra.insert("node_class".into(), Value::String(node.class.clone()));
        g
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn records(graph: Value) -> Vec<Generation> {
        let mut warnings = Vec::new();
        let records = parse(Some(&graph.to_string()), None, "png:tEXt:prompt", &mut warnings).unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        records
    }

    fn text(t: &str) -> Value {
        json!({"class_type": "CLIPTextEncode", "inputs": {"text": t}})
    }

    #[test]
    fn a_pixel_space_second_pass_comes_after_its_first_pass_whatever_the_ids() {
        // Named ids, as Stability Matrix writes them: "HiresFix_Sampler" sorts before "Sampler".
        let r = records(json!({
            "ckpt": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "base.safetensors"}},
            "pos": text("a castle"),
            "neg": text("blurry"),
            "empty": {"class_type": "EmptyLatentImage", "inputs": {"width": 1024, "height": 768, "batch_size": 1}},
            "Sampler": {"class_type": "KSampler", "inputs": {"seed": 1, "steps": 20, "cfg": 5.0, "sampler_name": "euler",
                "scheduler": "karras", "denoise": 1.0, "model": ["ckpt", 0], "positive": ["pos", 0],
                "negative": ["neg", 0], "latent_image": ["empty", 0]}},
            "decode": {"class_type": "VAEDecode", "inputs": {"samples": ["Sampler", 0], "vae": ["ckpt", 2]}},
            "loader": {"class_type": "UpscaleModelLoader", "inputs": {"model_name": "4x-UltraSharp.pth"}},
            "up": {"class_type": "ImageUpscaleWithModel", "inputs": {"upscale_model": ["loader", 0], "image": ["decode", 0]}},
            "scale": {"class_type": "ImageScale", "inputs": {"image": ["up", 0], "upscale_method": "bilinear",
                "width": 1536, "height": 1152, "crop": "disabled"}},
            "encode": {"class_type": "VAEEncode", "inputs": {"pixels": ["scale", 0], "vae": ["ckpt", 2]}},
            "HiresFix_Sampler": {"class_type": "KSampler", "inputs": {"seed": 2, "steps": 10, "cfg": 5.0,
                "sampler_name": "euler", "scheduler": "karras", "denoise": 0.4, "model": ["ckpt", 0],
                "positive": ["pos", 0], "negative": ["neg", 0], "latent_image": ["encode", 0]}},
        }));
        assert_eq!(r.len(), 2);
        assert_eq!(
            (r[0].seed, r[0].width, r[0].height, r[0].hires.as_ref()),
            (Some(1), Some(1024), Some(768), None)
        );
        assert!(r[0].raw.is_some() && r[1].raw.is_none());
        let h = r[1].hires.as_ref().expect("the second pass is hires");
        assert_eq!(h.upscaler.as_deref(), Some("4x-UltraSharp.pth"));
        assert_eq!((h.width, h.height, h.denoising_strength), (Some(1536), Some(1152), Some(0.4)));
        assert_eq!(r[1].img2img, None);
        assert_eq!(r[1].extra["upstream_sampler"], "Sampler");
    }

    #[test]
    fn group_node_ids_sort_part_by_part() {
        let sampler = |seed: u64, latent: &str| {
            json!({"class_type": "KSampler", "inputs": {"seed": seed, "steps": 20, "cfg": 7.0,
                "sampler_name": "euler", "scheduler": "normal", "positive": ["10:1", 0],
                "negative": ["10:1", 0], "latent_image": [latent, 0]}})
        };
        let r = records(json!({
            "10:1": text("a fox"),
            "9:2": {"class_type": "EmptyLatentImage", "inputs": {"width": 512, "height": 512, "batch_size": 1}},
            "10:4": sampler(104, "9:2"),
            "9:30": sampler(930, "9:2"),
            "9:4": sampler(94, "9:2"),
        }));
        let seeds: Vec<_> = r.iter().map(|g| g.seed.unwrap()).collect();
        assert_eq!(seeds, [94, 930, 104]);
    }

    #[test]
    fn paired_conditioning_is_followed_on_its_own_side_and_whole_image_texts_lead() {
        let r = records(json!({
            "global": text("a valley at dawn"),
            "sky": text("red sky"),
            "neg": text("blurry"),
            "area": {"class_type": "ConditioningSetArea", "inputs": {"conditioning": ["sky", 0],
                "width": 512, "height": 256, "x": 0, "y": 0, "strength": 1.0}},
            "combine": {"class_type": "ConditioningCombine", "inputs": {"conditioning_1": ["area", 0],
                "conditioning_2": ["global", 0]}},
            "cn": {"class_type": "ControlNetApplyAdvanced", "inputs": {"positive": ["combine", 0],
                "negative": ["neg", 0], "control_net": ["cnl", 0], "image": ["img", 0], "strength": 0.8}},
            "empty": {"class_type": "EmptyLatentImage", "inputs": {"width": 512, "height": 512, "batch_size": 1}},
            "3": {"class_type": "KSampler", "inputs": {"seed": 5, "steps": 20, "cfg": 7.0, "sampler_name": "euler",
                "scheduler": "normal", "positive": ["cn", 0], "negative": ["cn", 1], "latent_image": ["empty", 0]}},
            "cnl": {"class_type": "ControlNetLoader", "inputs": {"control_net_name": "canny.safetensors"}},
            "img": {"class_type": "LoadImage", "inputs": {"image": "edges.png"}},
        }));
        assert_eq!(r[0].prompt.as_deref(), Some("a valley at dawn\nred sky"));
        assert_eq!(r[0].negative_prompt.as_deref(), Some("blurry"));
    }

    #[test]
    fn custom_sampler_helpers_give_the_settings() {
        let r = records(json!({
            "unet": {"class_type": "UNETLoader", "inputs": {"unet_name": "flux1-dev.safetensors", "weight_dtype": "default"}},
            "t": text("a lamp"),
            "n": text(""),
            "noise": {"class_type": "RandomNoise", "inputs": {"noise_seed": 77}},
            "guider": {"class_type": "CFGGuider", "inputs": {"model": ["unet", 0], "positive": ["t", 0],
                "negative": ["n", 0], "cfg": 3.5}},
            "select": {"class_type": "KSamplerSelect", "inputs": {"sampler_name": "dpmpp_2m"}},
            "sigmas": {"class_type": "KarrasScheduler", "inputs": {"steps": 24, "sigma_max": 14.6, "sigma_min": 0.03, "rho": 7.0}},
            "empty": {"class_type": "EmptySD3LatentImage", "inputs": {"width": 1024, "height": 1024, "batch_size": 1}},
            "13": {"class_type": "SamplerCustomAdvanced", "inputs": {"noise": ["noise", 0], "guider": ["guider", 0],
                "sampler": ["select", 0], "sigmas": ["sigmas", 0], "latent_image": ["empty", 0]}},
        }));
        let g = &r[0];
        assert_eq!((g.seed, g.steps, g.cfg_scale), (Some(77), Some(24), Some(3.5)));
        assert_eq!((g.sampler.as_deref(), g.scheduler.as_deref()), (Some("dpmpp_2m"), Some("karras")));
        assert_eq!((g.prompt.as_deref(), g.negative_prompt.as_deref()), (Some("a lamp"), Some("")));
        assert_eq!(g.model.as_ref().and_then(|m| m.name.as_deref()), Some("flux1-dev.safetensors"));
    }
}
