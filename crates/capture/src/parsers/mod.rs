//! Recognising generators from the metadata a container walker found.

mod a1111;
mod comfyui;
mod drawthings;
mod easydiffusion;
mod exif_layouts;
mod fooocus;
mod hf_space;
mod invokeai;
mod midjourney;
mod novelai;
mod stability_matrix;
mod swarmui;
mod tensorart;

use serde_json::{Map, Value};

use crate::container::Metadata;
use crate::{Generation, Generator, MAX_GENERATIONS, xmp};

pub use a1111::parameter_pairs;

/// Every generation record the metadata holds. Records that fail to parse become warnings.
pub(crate) fn recognise(meta: &mut Metadata) -> Vec<Generation> {
    let mut found = Found::default();
    let texts = &meta.texts;
    let text = |key: &str| texts.iter().find(|t| t.key == key);
    let src = |key: &str| text(key).map(|t| format!("{}:{}", t.origin, t.key)).unwrap_or_default();

    // InvokeAI
    if let Some(t) = text("invokeai_metadata") {
        found.add(invokeai::metadata(&t.value, &src("invokeai_metadata")), &src("invokeai_metadata"));
    } else if let Some(t) = text("sd-metadata") {
        found.add(invokeai::sd_metadata(&t.value, &src("sd-metadata")), &src("sd-metadata"));
    } else if let Some(t) = text("Dream") {
        found.add(invokeai::dream(&t.value, &src("Dream")), &src("Dream"));
    }

    // ComfyUI: `prompt` holding a JSON object (Easy Diffusion's `prompt` is plain text).
    let comfy_prompt = text("prompt").filter(|t| t.value.trim_start().starts_with('{'));
    let workflow = text("workflow").filter(|t| t.value.trim_start().starts_with('{'));
    let graph_records = found.records.len();
    if comfy_prompt.is_some() || workflow.is_some() {
        let source = if comfy_prompt.is_some() { src("prompt") } else { src("workflow") };
        match comfyui::parse(
            comfy_prompt.map(|t| t.value.as_str()),
            workflow.map(|t| t.value.as_str()),
            &source,
            &mut found.warnings,
        ) {
            Ok(records) if records.is_empty() => {
                found.warnings.push(format!("{source}: ComfyUI graph without a sampler node"))
            }
            Ok(records) => {
                // The graph's text is on the first record; the others point to it.
                let first = found.records.len();
                found.records.extend(records);
                for r in &mut found.records[first + 1..] {
                    r.raw_in = Some(first);
                }
            }
            Err(e) => found.warnings.push(format!("{source}: {e}")),
        }
    }

    // Front ends that run a ComfyUI graph and write their own record beside it: theirs first.
    let front_end = match (text("generation_data"), text("parameters-json")) {
        (Some(t), _) => Some((
            tensorart::parse(&t.value, &src("generation_data"), &found.records[graph_records..]),
            src("generation_data"),
        )),
        (None, Some(t)) => {
            Some((stability_matrix::parse(&t.value, &src("parameters-json")), src("parameters-json")))
        }
        _ => None,
    };
    if let Some((r, source)) = front_end {
        found.add_at(graph_records, r, &source);
    }

    // NovelAI
    let software = text("Software").map(|t| t.value.as_str());
    if let Some(comment) = text("Comment").filter(|_| software.is_some_and(|s| s.starts_with("NovelAI"))) {
        let r = novelai::parse(
            &comment.value,
            text("Description").map(|t| t.value.as_str()),
            text("Source").map(|t| t.value.as_str()),
            &src("Comment"),
        );
        found.add(r, &src("Comment"));
    }

    // `parameters`: A1111 family text, or Fooocus / SwarmUI JSON.
    // (Stability Matrix's `parameters` repeats its `parameters-json` as A1111 text.)
    if let Some(t) = text("parameters").filter(|_| text("parameters-json").is_none()) {
        let scheme = text("fooocus_scheme").map(|t| t.value.as_str());
        found.add(parameters(&t.value, &src("parameters"), scheme), &src("parameters"));
    }

    // Easy Diffusion: one text chunk per setting.
    if comfy_prompt.is_none() && easydiffusion::looks_like(texts.iter().map(|t| t.key.as_str())) {
        let obj: Map<String, Value> =
            texts.iter().map(|t| (t.key.clone(), Value::String(t.value.clone()))).collect();
        let raw = texts.iter().map(|t| format!("{}: {}", t.key, t.value)).collect::<Vec<_>>().join("\n");
        found.records.push(easydiffusion::parse(obj, texts.first().map_or("png", |t| t.origin), raw));
    }

    // Midjourney PNG: Description + Author.
    if let Some(d) = text("Description").filter(|_| software.is_none())
        && let Some(g) =
            midjourney::parse(&d.value, text("Author").map(|t| t.value.as_str()), &src("Description"))
    {
        found.records.push(g);
    }

    // EXIF: UserComment (A1111 family, Fooocus, SwarmUI, Easy Diffusion JSON, Civitai,
    // NovelAI), ComfyUI graphs in Make / Model / ImageDescription, descriptions.
    exif_layouts::read(meta, &mut found);

    // XMP: Draw Things, Midjourney.
    for (origin, packet) in &meta.xmp {
        let props = match xmp::parse(packet) {
            Ok(p) => p,
            Err(e) => {
                found.warnings.push(format!("{origin}: {e}"));
                continue;
            }
        };
        let creator = xmp::first(&props, "xmp:CreatorTool");
        let comment = xmp::first(&props, "exif:UserComment");
        if let Some(json) = comment.filter(|c| {
            c.trim_start().starts_with('{') && creator.is_none_or(|c| c.starts_with("Draw Things"))
        }) {
            let source = format!("{origin}:exif:UserComment");
            found.add(drawthings::parse(json, &source), &source);
        } else if let Some(desc) =
            xmp::first(&props, "dc:description").filter(|_| !found.has(Generator::Midjourney))
            && let Some(g) =
                midjourney::parse(desc, xmp::first(&props, "dc:creator"), &format!("{origin}:dc:description"))
        {
            found.records.push(g);
        }
    }

    // IPTC caption (2:120) from JPEG APP13.
    if let Some((_, _, caption)) = meta.iptc.iter().find(|(r, d, _)| (*r, *d) == (2, 120)) {
        let caption = String::from_utf8_lossy(caption).into_owned();
        if let Some(g) = midjourney::parse(&caption, None, "jpeg:iptc:caption")
            && !found.has(Generator::Midjourney)
        {
            found.records.push(g);
        }
    }
    meta.warnings.extend(found.warnings);
    let mut records = found.records;
    if records.len() > MAX_GENERATIONS {
        meta.warn(format!(
            "{} generation records: the first {MAX_GENERATIONS} were kept, {} dropped",
            records.len(),
            records.len() - MAX_GENERATIONS
        ));
        // Records only ever point to earlier ones (`raw_in`), so the kept ones stay whole.
        records.truncate(MAX_GENERATIONS);
    }
    records
}

/// Whether a PNG text key is one a generator writes and `recognise` reads: such texts are
/// decompressed first when a file's budget runs short.
pub(crate) fn is_generator_key(key: &str) -> bool {
    matches!(
        key,
        "parameters"
            | "prompt"
            | "workflow"
            | "invokeai_metadata"
            | "sd-metadata"
            | "Dream"
            | "Comment"
            | "Description"
            | "Software"
            | "Source"
            | "Author"
            | "fooocus_scheme"
            | "generation_data"
            | "parameters-json"
            | "XML:com.adobe.xmp"
    ) || easydiffusion::is_key(key)
}

#[derive(Default)]
struct Found {
    records: Vec<Generation>,
    warnings: Vec<String>,
}

impl Found {
    fn has(&self, generator: Generator) -> bool {
        self.records.iter().any(|r| r.generator == generator)
    }

    /// A record put at `at`, before the records from there on (whose `raw_in` move with them).
    fn add_at(&mut self, at: usize, result: Result<Generation, String>, source: &str) {
        match result {
            Ok(g) => {
                for r in &mut self.records[at..] {
                    r.raw_in = r.raw_in.map(|i| if i >= at { i + 1 } else { i });
                }
                self.records.insert(at, g);
            }
            Err(e) => self.warnings.push(format!("{source}: {e}")),
        }
    }

    /// A record, or the reason a recognised record could not be read.
    fn add(&mut self, result: Result<Generation, String>, source: &str) {
        match result {
            Ok(g) => self.records.push(g),
            Err(e) => self.warnings.push(format!("{source}: {e}")),
        }
    }
}

/// A `parameters` value or an EXIF UserComment: JSON for Fooocus, SwarmUI and Easy
/// Diffusion, otherwise A1111-style text.
pub(crate) fn parameters(
    text: &str,
    source: &str,
    fooocus_scheme: Option<&str>,
) -> Result<Generation, String> {
    if text.trim_start().starts_with('{') {
        let obj = json_object(text, "parameters")?;
        if obj.contains_key("sui_image_params") {
            return swarmui::parse(text, source);
        }
        if fooocus::looks_like_ruined(&obj) {
            return fooocus::parse_ruined(text, source);
        }
        if hf_space::looks_like(&obj) {
            return Ok(hf_space::parse(obj, text, source));
        }
        if fooocus_scheme == Some("fooocus") || fooocus::looks_like(&obj) {
            return fooocus::parse(text, source);
        }
        if easydiffusion::looks_like(obj.keys().map(String::as_str)) {
            return Ok(easydiffusion::parse(obj, source, text.to_owned()));
        }
        if invokeai::looks_like_metadata(&obj) {
            return invokeai::metadata(text, source);
        }
        return Err("JSON parameters of a kind not recognised".into());
    }
    let mut g = a1111::parse(text, source).ok_or("no parameter line (Steps, Sampler, Seed, ...) found")?;
    if fooocus_scheme == Some("a1111") {
        g.generator = Generator::Fooocus;
    }
    if g.generator == Generator::Fooocus {
        fooocus::a1111_scheme(&mut g);
    }
    Ok(g)
}

// ---- helpers shared by the parsers ----

pub(crate) fn json_object(text: &str, what: &str) -> Result<Map<String, Value>, String> {
    match serde_json::from_str(text) {
        Ok(Value::Object(o)) => Ok(o),
        Ok(_) => Err(format!("{what} is JSON but not an object")),
        Err(e) => Err(format!("{what} is not valid JSON: {e}")),
    }
}

/// A number written as a JSON number or as a string.
pub(crate) fn num<T: std::str::FromStr>(s: &str) -> Option<T> {
    s.trim().parse().ok()
}

pub(crate) fn as_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => num(s),
        _ => None,
    }
}

pub(crate) fn as_str(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `512x768` (also with spaces or `×`).
pub(crate) fn parse_size(s: &str) -> Option<(u32, u32)> {
    let (w, h) = s.split_once(['x', 'X', '×'])?;
    Some((num(w)?, num(h)?))
}

/// A JSON object whose mapped keys are taken out; what remains is kept verbatim as `extra`.
pub(crate) struct Fields {
    pub extra: std::collections::BTreeMap<String, Value>,
}

impl Fields {
    pub fn new(obj: Map<String, Value>) -> Self {
        Fields { extra: obj.into_iter().collect() }
    }

    pub fn take(&mut self, key: &str) -> Option<Value> {
        self.extra.remove(key).filter(|v| !v.is_null())
    }

    /// Takes the key only if it converts; otherwise it stays in `extra`, verbatim.
    fn take_as<T>(&mut self, key: &str, convert: impl Fn(&Value) -> Option<T>) -> Option<T> {
        let converted = self.extra.get(key).and_then(&convert)?;
        self.extra.remove(key);
        Some(converted)
    }

    pub fn string(&mut self, key: &str) -> Option<String> {
        self.take_as(key, as_str)
    }

    pub fn f64(&mut self, key: &str) -> Option<f64> {
        self.take_as(key, as_f64)
    }

    pub fn u64(&mut self, key: &str) -> Option<u64> {
        self.take_as(key, |v| match v {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => num(s),
            _ => None,
        })
    }

    pub fn u32(&mut self, key: &str) -> Option<u32> {
        self.take_as(key, |v| match v {
            Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
            Value::String(s) => num(s),
            _ => None,
        })
    }
}

pub(crate) fn novelai_record(
    comment: &str,
    description: Option<&str>,
    model_source: Option<&str>,
    source: &str,
) -> Result<Generation, String> {
    novelai::parse(comment, description, model_source, source)
}

pub(crate) use comfyui::parse as comfyui;
