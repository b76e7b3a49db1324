//! Re-running a recorded generation on a generator's API, to show that the journal's
//! settings make the image again: AUTOMATIC1111's `POST /sdapi/v1/txt2img` (also Forge and
//! SD.Next) and ComfyUI's `POST /prompt` (the recorded API graph, resubmitted as it was; also
//! for the front ends that ran a ComfyUI graph and recorded it beside their own record:
//! Stability Matrix, Tensor.Art). [`reproduce_work`] does it for a sealed work: it finds the
//! generation the work derives from and measures how close the new image comes.

use std::path::Path;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use fingerprint::catalog::{PDQ_RADIUS, WorkId};
use fingerprint::decode::{Limits, decode};
use ledger::Hash;
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::{Registry, RegistryError};

/// Which API to call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Api {
    A1111,
    ComfyUi,
}

impl Api {
    /// The API that fits the generator that wrote the record (its JSON name). Stability
    /// Matrix and Tensor.Art ran a ComfyUI graph: it is re-run on ComfyUI.
    pub fn for_generator(generator: &str) -> Api {
        use capture::Generator::{ComfyUi, StabilityMatrix, TensorArt};
        match capture::Generator::from_json_name(generator) {
            Some(ComfyUi | StabilityMatrix | TensorArt) => Api::ComfyUi,
            _ => Api::A1111,
        }
    }
}

fn fail(message: String) -> RegistryError {
    RegistryError::Invalid(message)
}

/// The txt2img request for a recorded generation (the `generations[0]` of its event).
pub fn a1111_request(g: &Value) -> Result<Value, RegistryError> {
    let mut r = Map::new();
    let mut put = |key: &str, v: &Value| {
        if !v.is_null() {
            r.insert(key.to_owned(), v.clone());
        }
    };
    put("prompt", &g["prompt"]);
    put("negative_prompt", &g["negative_prompt"]);
    put("seed", &g["seed"]);
    put("steps", &g["steps"]);
    put("cfg_scale", &g["cfg_scale"]);
    put("sampler_name", &g["sampler"]);
    put("scheduler", &g["scheduler"]);
    put("width", &g["width"]);
    put("height", &g["height"]);
    put("subseed", &g["variation"]["seed"]);
    put("subseed_strength", &g["variation"]["strength"]);
    if g["hires"].is_object() {
        let h = &g["hires"];
        put("enable_hr", &json!(true));
        put("hr_scale", &h["scale"]);
        put("hr_upscaler", &h["upscaler"]);
        put("hr_second_pass_steps", &h["steps"]);
        put("denoising_strength", &h["denoising_strength"]);
    }
    for key in ["prompt", "seed", "width", "height"] {
        if !r.contains_key(key) {
            return Err(fail(format!("the recorded generation has no {key}: it cannot be re-run")));
        }
    }
    let mut overrides = Map::new();
    if let Some(m) = g["model"]["name"].as_str() {
        overrides.insert("sd_model_checkpoint".into(), json!(m));
    }
    if let Some(v) = g["vae"]["name"].as_str() {
        overrides.insert("sd_vae".into(), json!(v));
    }
    r.insert("override_settings".into(), Value::Object(overrides));
    r.insert("send_images".into(), json!(true));
    r.insert("save_images".into(), json!(false));
    Ok(Value::Object(r))
}

/// The ComfyUI API graph among a generated event's records (its `generations`): the text of
/// the first ComfyUI record, kept in its `raw` or in the record its `raw_in` names. A front
/// end's own record (Stability Matrix, Tensor.Art) comes first and the graph's after it.
pub fn comfyui_graph(generations: &Value) -> Result<Value, RegistryError> {
    let records = generations.as_array().map(Vec::as_slice).unwrap_or_default();
    let g = records
        .iter()
        .find(|g| {
            g["generator"].as_str().and_then(capture::Generator::from_json_name)
                == Some(capture::Generator::ComfyUi)
        })
        .ok_or_else(|| fail("the recorded generation keeps no ComfyUI graph".into()))?;
    let raw = g["raw"]
        .as_str()
        .or_else(|| records.get(usize::try_from(g["raw_in"].as_u64()?).ok()?)?["raw"].as_str())
        .ok_or_else(|| fail("the recorded ComfyUI generation keeps no graph text".into()))?;
    let graph: Value =
        serde_json::from_str(raw).map_err(|e| fail(format!("the recorded ComfyUI graph: {e}")))?;
    if graph.get("nodes").is_some() {
        return Err(fail(
            "the file recorded only ComfyUI's UI workflow, not the API prompt: open it in ComfyUI to re-run it".into(),
        ));
    }
    if !graph.as_object().is_some_and(|o| o.values().all(|n| n.get("class_type").is_some())) {
        return Err(fail("the recorded ComfyUI prompt is not an API graph".into()));
    }
    Ok(graph)
}

fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder().timeout_global(Some(timeout)).http_status_as_error(false).build().into()
}

fn read_json(mut response: ureq::http::Response<ureq::Body>, what: &str) -> Result<Value, RegistryError> {
    let status = response.status();
    let text = response.body_mut().read_to_string().map_err(|e| fail(format!("{what}: {e}")))?;
    if !status.is_success() {
        return Err(fail(format!("{what}: HTTP {status}: {}", text.chars().take(300).collect::<String>())));
    }
    serde_json::from_str(&text).map_err(|e| fail(format!("{what}: not JSON: {e}")))
}

/// Runs a generated event's records (its `generations`: the first for AUTOMATIC1111, the
/// ComfyUI graph among them for ComfyUI) on the API at `url` (e.g. `http://127.0.0.1:7860`)
/// and returns the first image it makes (PNG bytes) and the request sent.
pub fn run(
    api: Api,
    url: &str,
    generations: &Value,
    timeout: Duration,
) -> Result<(Vec<u8>, Value), RegistryError> {
    let url = url.trim_end_matches('/');
    let agent = agent(timeout);
    let unreachable = |e: ureq::Error| fail(format!("{url}: {e}"));
    match api {
        Api::A1111 => {
            let request = a1111_request(&generations[0])?;
            let response = agent
                .post(&format!("{url}/sdapi/v1/txt2img"))
                .header("Content-Type", "application/json")
                .send(request.to_string())
                .map_err(unreachable)?;
            let answer = read_json(response, "txt2img")?;
            let first =
                answer["images"][0].as_str().ok_or_else(|| fail("txt2img returned no image".into()))?;
            // Some versions prefix a data URI.
            let b64 = first.rsplit_once(',').map_or(first, |(_, b)| b);
            let png = B64.decode(b64).map_err(|e| fail(format!("txt2img image: {e}")))?;
            Ok((png, request))
        }
        Api::ComfyUi => {
            let graph = comfyui_graph(generations)?;
            let request = json!({"prompt": graph, "client_id": "handprint"});
            let response = agent
                .post(&format!("{url}/prompt"))
                .header("Content-Type", "application/json")
                .send(request.to_string())
                .map_err(unreachable)?;
            let queued = read_json(response, "prompt")?;
            let id = queued["prompt_id"]
                .as_str()
                .ok_or_else(|| fail(format!("prompt: no prompt_id in {queued}")))?;
            let start = Instant::now();
            let image = loop {
                let history = read_json(
                    agent.get(&format!("{url}/history/{id}")).call().map_err(unreachable)?,
                    "history",
                )?;
                let outputs = history[id]["outputs"].as_object();
                if let Some(img) =
                    outputs.and_then(|o| o.values().find_map(|n| n["images"].as_array()?.first().cloned()))
                {
                    break img;
                }
                if start.elapsed() > timeout {
                    return Err(fail(format!(
                        "ComfyUI did not finish prompt {id} within {} s",
                        timeout.as_secs()
                    )));
                }
                std::thread::sleep(Duration::from_millis(250));
            };
            let q = |k: &str| image[k].as_str().unwrap_or_default().to_owned();
            let mut response = agent
                .get(&format!("{url}/view"))
                .query("filename", q("filename"))
                .query("subfolder", q("subfolder"))
                .query("type", q("type"))
                .call()
                .map_err(unreachable)?;
            if !response.status().is_success() {
                return Err(fail(format!("view: HTTP {}", response.status())));
            }
            let png = response.body_mut().read_to_vec().map_err(|e| fail(format!("view: {e}")))?;
            Ok((png, request))
        }
    }
}

/// What to re-run, where, and what to compare the result with.
pub struct ReproduceRequest<'a> {
    pub work: WorkId,
    /// Which API; by default the one of the generator that made the recorded image.
    pub api: Option<Api>,
    /// The generator's base URL.
    pub url: &'a str,
    pub timeout: Duration,
    /// The recorded generation's file (its path, for messages, and its bytes): its SHA-256
    /// must be the journal's.
    pub recorded: Option<(&'a Path, &'a [u8])>,
}

/// A sealed work's generation, re-run.
#[derive(Debug, Serialize)]
pub struct Reproduction {
    pub work: WorkId,
    /// The log index of the generated event that was re-run.
    pub generation_event: u64,
    pub api: Api,
    /// What was sent.
    pub request: Value,
    /// What the new image was compared with: the recorded file, or the sealed work when
    /// nothing was edited or imported after the generation; none otherwise.
    pub compared_with: Option<String>,
    /// PDQ distance (0–256 bits) between the new image and what it was compared with.
    pub pdq_distance: Option<u32>,
    /// Whether that distance is within [`PDQ_RADIUS`]: the same image, as far as PDQ can tell.
    pub same_image: Option<bool>,
    /// The image the generator made, as it sent it.
    #[serde(skip)]
    pub image: Vec<u8>,
}

fn pdq_of(bytes: &[u8], what: &str) -> Result<fingerprint::PdqHash, RegistryError> {
    let d = decode(bytes, &Limits { min_side: 16, ..Default::default() })
        .map_err(|e| fail(format!("{what}: {e}")))?;
    Ok(fingerprint::pdq::from_rgb(d.image.width as usize, d.image.height as usize, &d.image.pixels).hash)
}

/// Re-runs the generation a sealed work derives from (as the journal records it) and
/// compares the new image with the recorded file, or else with the sealed work when nothing
/// came between them. A recorded file that is not the journal's is refused before the
/// generator is called.
pub fn reproduce_work(reg: &Registry, r: &ReproduceRequest) -> Result<Reproduction, RegistryError> {
    let work = r.work;
    let (events, sealed) = crate::claim::sealed_project(&reg.store, work)?;
    if sealed.is_none() {
        return Err(fail(format!("work {work} was never sealed: the journal holds no generation for it")));
    }
    let facts = evidence::facts(&events, sealed);
    let index = facts
        .reproduction
        .log_index
        .ok_or_else(|| fail(format!("work {work}: the journal holds no generation it derives from")))?;
    let event = events
        .iter()
        .find(|e| e.event.log_index == index)
        .ok_or_else(|| RegistryError::Store(format!("event {index} is not in its project's journal")))?;
    let generations = &event.event.data["generations"];
    let api =
        r.api.unwrap_or_else(|| Api::for_generator(generations[0]["generator"].as_str().unwrap_or_default()));

    // What to compare with: the recorded file, or the sealed work if nothing came between.
    let recorded_sha = event.event.data["file"]["sha256"].as_str().unwrap_or_default();
    let against = match r.recorded {
        Some((path, bytes)) => {
            if Hash::of(bytes).to_hex() != recorded_sha {
                return Err(RegistryError::File {
                    path: path.into(),
                    message: format!(
                        "not the recorded generation (its SHA-256 differs from the journal's {recorded_sha})"
                    ),
                });
            }
            Some((path.display().to_string(), pdq_of(bytes, "the recorded file")?))
        }
        None if facts.lineage_counts.edits == 0 && facts.lineage_counts.imports == 0 => {
            let thumb = reg.store.thumbnail(work)?;
            let pdq =
                fingerprint::pdq::from_rgb(thumb.width as usize, thumb.height as usize, &thumb.pixels).hash;
            Some((format!("the sealed work {work}"), pdq))
        }
        None => None,
    };
    let (image, request) = run(api, r.url, generations, r.timeout)?;
    let reproduced = pdq_of(&image, "the generator's image")?;
    let distance = against.as_ref().map(|(_, pdq)| pdq.distance(&reproduced));
    Ok(Reproduction {
        work,
        generation_event: index,
        api,
        request,
        compared_with: against.map(|(name, _)| name),
        pdq_distance: distance,
        same_image: distance.map(|d| d <= PDQ_RADIUS),
        image,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn front_ends_that_ran_a_graph_are_re_run_with_it() {
        assert_eq!(Api::for_generator("tensor-art"), Api::ComfyUi);
        assert_eq!(Api::for_generator("stability-matrix"), Api::ComfyUi);
        assert_eq!(Api::for_generator("forge"), Api::A1111);
        let graph = json!({"3": {"class_type": "KSampler", "inputs": {}}});
        // The front end's record first; the graph's text on a later record, named by raw_in.
        let gens = json!([
            {"generator": "tensor-art", "raw": "{\"prompt\": \"a fox\"}"},
            {"generator": "automatic1111", "raw": "not a graph"},
            {"generator": "comfy-ui", "raw_in": 3},
            {"generator": "comfy-ui", "raw": graph.to_string()},
        ]);
        assert_eq!(comfyui_graph(&gens).unwrap(), graph);
        let none = json!([{"generator": "tensor-art", "raw": "{}"}]);
        assert!(comfyui_graph(&none).unwrap_err().to_string().contains("no ComfyUI graph"));
        let dangling = json!([{"generator": "comfy-ui", "raw_in": 7}]);
        assert!(comfyui_graph(&dangling).unwrap_err().to_string().contains("no graph text"));
    }
}
