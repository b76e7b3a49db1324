//! Crafted files that once crashed `inspect` or made it cost gigabytes: long ComfyUI node
//! chains (a stack overflow), graphs with a thousand samplers (the graph copied into every
//! record), thousands of compressed texts (no budget over the file), and a FIFO (a read
//! that never ends). Each is built here, and must be read within bounds, with a warning.

use capture::{Inspection, MAX_GENERATIONS, inspect_bytes};
use fixtures::containers::{Chunk, pil_text, pixels, png, zlib, ztxt};
use serde_json::{Map, Value, json};

const CHAIN: usize = 100_000;

fn small_png(chunks: &[Chunk]) -> Vec<u8> {
    png(32, 32, 3, &pixels(32, 32, 3, 1), chunks)
}

/// Inspects `bytes` on a thread with a 256 KiB stack: code that recurses once per node
/// overflows it long before the end of a chain, whatever the main thread's stack.
fn inspect_on_small_stack(bytes: Vec<u8>) -> Inspection {
    std::thread::Builder::new()
        .stack_size(256 << 10)
        .spawn(move || inspect_bytes(&bytes).expect("the file is readable"))
        .unwrap()
        .join()
        .expect("inspect returned")
}

/// An API graph: a checkpoint, two text encoders, an empty latent and a KSampler (node
/// "9"), with `extra` nodes added and the sampler's inputs changed by `sampler`.
fn graph(extra: Map<String, Value>, sampler: impl FnOnce(&mut Map<String, Value>)) -> String {
    let mut inputs = json!({
        "seed": 7, "steps": 20, "cfg": 6.5, "sampler_name": "euler", "scheduler": "normal", "denoise": 1.0,
        "model": ["1", 0], "positive": ["2", 0], "negative": ["3", 0], "latent_image": ["4", 0]
    });
    sampler(inputs.as_object_mut().unwrap());
    let mut g = json!({
        "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "model.safetensors"}},
        "2": {"class_type": "CLIPTextEncode", "inputs": {"text": "a cat", "clip": ["1", 1]}},
        "3": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry", "clip": ["1", 1]}},
        "4": {"class_type": "EmptyLatentImage", "inputs": {"width": 512, "height": 512, "batch_size": 1}},
        "9": {"class_type": "KSampler", "inputs": inputs}
    });
    g.as_object_mut().unwrap().extend(extra);
    g.to_string()
}

/// Node ids `100`, `101`, … for a chain of `n` nodes; `node(i, previous)` makes node `i`.
fn chain(n: usize, node: impl Fn(usize, Option<String>) -> Value) -> (Map<String, Value>, String) {
    let mut nodes = Map::new();
    let mut previous = None;
    for i in 0..n {
        let id = (100 + i).to_string();
        nodes.insert(id.clone(), node(i, previous.take()));
        previous = Some(id);
    }
    (nodes, previous.unwrap())
}

fn warned(i: &Inspection, words: &[&str]) -> bool {
    i.warnings.iter().any(|w| words.iter().all(|word| w.contains(word)))
}

/// 100,000 ConditioningCombine nodes, each combining the one before with the prompt.
fn conditioning_chain() -> String {
    let (nodes, last) = chain(CHAIN, |_, previous| {
        json!({"class_type": "ConditioningCombine",
               "inputs": {"conditioning_1": [previous.unwrap_or("2".into()), 0], "conditioning_2": ["2", 0]}})
    });
    graph(nodes, |s| {
        s.insert("positive".into(), json!([last, 0]));
    })
}

#[test]
fn a_conditioning_chain_of_100_000_nodes_is_read_on_a_small_stack_with_a_warning() {
    let text = conditioning_chain();
    for (name, chunk) in [("tEXt", pil_text("prompt", &text)), ("zTXt", ztxt("prompt", &text))] {
        let i = inspect_on_small_stack(small_png(&[chunk]));
        assert_eq!(i.generations.len(), 1, "{name}");
        let g = &i.generations[0];
        assert_eq!(g.prompt.as_deref(), Some("a cat"), "{name}: the prompt within reach is kept");
        assert_eq!(g.negative_prompt.as_deref(), Some("blurry"), "{name}");
        assert_eq!(g.seed, Some(7), "{name}");
        assert!(warned(&i, &["links more than 1000 nodes deep"]), "{name}: {:?}", i.warnings);
    }
}

#[test]
fn a_chain_of_100_000_primitive_nodes_feeding_the_seed_is_read_with_a_warning() {
    let (nodes, last) = chain(CHAIN, |_, previous| {
        let value = previous.map_or(json!(42), |p| json!([p, 0]));
        json!({"class_type": "PrimitiveNode", "inputs": {"value": value}})
    });
    let i = inspect_on_small_stack(small_png(&[pil_text(
        "prompt",
        &graph(nodes, |s| {
            s.insert("seed".into(), json!([last, 0]));
        }),
    )]));
    let g = &i.generations[0];
    assert_eq!(g.seed, None, "the seed lies 100,000 links away: past the bound");
    assert_eq!((g.steps, g.prompt.as_deref()), (Some(20), Some("a cat")), "the rest is read");
    assert!(warned(&i, &["links more than 1000 nodes deep"]), "{:?}", i.warnings);
}

#[test]
fn a_chain_of_100_000_string_concatenations_is_read_with_a_warning() {
    let (mut nodes, last) = chain(CHAIN, |_, previous| {
        let first = previous.map_or(json!("start"), |p| json!([p, 0]));
        json!({"class_type": "StringConcatenate", "inputs": {"text_a": first, "text_b": "w", "delimiter": " "}})
    });
    nodes.insert("2".into(), json!({"class_type": "CLIPTextEncode", "inputs": {"text": [last, 0]}}));
    let i = inspect_on_small_stack(small_png(&[pil_text("prompt", &graph(nodes, |_| {}))]));
    let prompt = i.generations[0].prompt.as_deref().expect("the texts within reach are joined");
    assert!(prompt.starts_with("w w w") && !prompt.contains("start"), "{}", &prompt[..40]);
    assert!(warned(&i, &["links more than 1000 nodes deep"]), "{:?}", i.warnings);
}

/// `n` KSamplers sharing the checkpoint, the prompts and the latent.
fn samplers(n: usize) -> String {
    let mut nodes = Map::new();
    for k in 0..n {
        nodes.insert(
            (1000 + k).to_string(),
            json!({"class_type": "KSampler", "inputs": {
                "seed": k, "steps": 20, "cfg": 7.0, "sampler_name": "euler", "scheduler": "normal", "denoise": 1.0,
                "model": ["1", 0], "positive": ["2", 0], "negative": ["3", 0], "latent_image": ["4", 0]}}),
        );
    }
    graph(nodes, |_| {})
}

#[test]
fn a_thousand_samplers_give_64_records_and_the_graph_text_once() {
    let text = samplers(1000);
    let i = inspect_bytes(&small_png(&[ztxt("prompt", &text)])).unwrap();
    assert_eq!(i.generations.len(), MAX_GENERATIONS);
    assert!(warned(&i, &["1001 sampler nodes", "first 64 were recorded, 937 dropped"]), "{:?}", i.warnings);
    let (first, rest) = i.generations.split_first().unwrap();
    assert_eq!(first.raw.as_deref(), Some(text.as_str()));
    for g in rest {
        assert_eq!((g.raw.as_deref(), g.raw_in), (None, Some(0)), "{}", g.source);
        assert_eq!(g.raw_text(&i.generations), Some(text.as_str()));
        assert_eq!(g.prompt.as_deref(), Some("a cat"));
    }
    // The graph once, plus 64 small records; each record copying the graph made 1,000 times
    // the graph's size.
    let json = serde_json::to_vec(&i).unwrap();
    assert!(
        json.len() < text.len() + 64 * 1024,
        "{} bytes of JSON for a {}-byte graph",
        json.len(),
        text.len()
    );
}

#[test]
fn raw_in_counts_the_records_of_other_generators_before_the_graph() {
    let invoke = json!({"positive_prompt": "a dog", "seed": 1, "steps": 10}).to_string();
    let text = samplers(2);
    let i = inspect_bytes(&small_png(&[pil_text("invokeai_metadata", &invoke), pil_text("prompt", &text)]))
        .unwrap();
    let raw: Vec<_> = i.generations.iter().map(|g| (g.raw.is_some(), g.raw_in)).collect();
    assert_eq!(raw, [(true, None), (true, None), (false, Some(1)), (false, Some(1))]);
    assert_eq!(i.generations[3].raw_text(&i.generations), Some(text.as_str()));
}

#[test]
fn thousands_of_dangling_links_are_counted_not_listed() {
    let (nodes, _) = chain(5000, |_, _| json!({"class_type": "Note", "inputs": {"x": ["nowhere", 0]}}));
    let i = inspect_bytes(&small_png(&[pil_text("prompt", &graph(nodes, |_| {}))])).unwrap();
    assert!(i.warnings.len() < 30, "{} warnings", i.warnings.len());
    assert!(warned(&i, &["4980 more links to nodes that do not exist"]), "{:?}", i.warnings);
}

#[test]
fn walks_over_a_wide_graph_stop_at_the_visit_budget() {
    // 64 samplers whose prompts lead to one node with 20,000 inputs and no text: every walk
    // would visit all of them, 2.5 million visits in all.
    let mut nodes = Map::new();
    let mut hub = Map::new();
    for k in 0..20_000 {
        nodes.insert(format!("{}", 100_000 + k), json!({"class_type": "Reroute", "inputs": {}}));
        hub.insert(format!("in{k}"), json!([format!("{}", 100_000 + k), 0]));
    }
    nodes.insert("50".into(), json!({"class_type": "ConditioningCombine", "inputs": hub}));
    for k in 0..63 {
        nodes.insert(
            (1000 + k).to_string(),
            json!({"class_type": "KSampler", "inputs": {"seed": k, "positive": ["50", 0], "negative": ["50", 0], "latent_image": ["4", 0]}}),
        );
    }
    let text = graph(nodes, |s| {
        s.insert("positive".into(), json!(["50", 0]));
        s.insert("negative".into(), json!(["50", 0]));
    });
    let i = inspect_bytes(&small_png(&[ztxt("prompt", &text)])).unwrap();
    assert_eq!(i.generations.len(), 64);
    assert!(warned(&i, &["stopped after 1000000 node visits"]), "{:?}", i.warnings);
    assert_eq!(i.generations[63].seed, Some(62), "settings on the sampler itself are still read");
}

const PARAMS: &str =
    "a cat\nNegative prompt: dog\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1, Size: 32x32";

/// 2,000 zTXt chunks of 1 MiB each (2 GiB in all, from a 2.5 MB file), then `parameters`.
fn many_compressed_texts() -> Vec<u8> {
    let mebibyte = zlib(&vec![b'a'; 1 << 20]);
    let mut chunks: Vec<Chunk> = (0..2000)
        .map(|k| {
            let mut data = format!("junk{k:04}\0\0").into_bytes();
            data.extend_from_slice(&mebibyte);
            Chunk(*b"zTXt", data)
        })
        .collect();
    chunks.push(ztxt("parameters", PARAMS));
    small_png(&chunks)
}

#[test]
fn two_thousand_compressed_texts_of_a_mebibyte_stop_at_the_file_budget() {
    let i = inspect_bytes(&many_compressed_texts()).unwrap();
    let inflated = i.metadata_keys.iter().filter(|k| k.starts_with("png:zTXt:junk")).count();
    assert_eq!(inflated, 48, "64 MiB less the 16 MiB kept for generator keys, in 1 MiB texts");
    assert_eq!(i.warnings.len(), 1, "{:?}", i.warnings);
    assert!(
        warned(&i, &["zTXt \"junk0048\" and 1951 more skipped", "more than 64 MiB in all"]),
        "{:?}",
        i.warnings
    );
    assert_eq!(i.generations.len(), 1, "the generator's own text still fits");
    assert_eq!(i.generations[0].prompt.as_deref(), Some("a cat"));
}

#[cfg(unix)]
#[test]
fn a_fifo_a_directory_and_a_device_are_refused_without_being_read() {
    use std::sync::mpsc;
    use std::time::Duration;

    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("image.png");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().expect("mkfifo runs");
    assert!(made.success());
    let link = dir.path().join("link.png");
    std::os::unix::fs::symlink(&fifo, &link).unwrap();
    for path in [fifo, link, dir.path().to_path_buf(), "/dev/null".into()] {
        let (tx, rx) = mpsc::channel();
        let shown = path.display().to_string();
        std::thread::spawn(move || {
            tx.send(capture::inspect_path(&path).map(|_| ()).map_err(|e| e.to_string()))
        });
        // Not a measure of speed: only so that a read which never ends fails the test.
        let result =
            rx.recv_timeout(Duration::from_secs(60)).unwrap_or_else(|_| panic!("{shown}: still reading"));
        assert_eq!(result, Err("not a regular file".into()), "{shown}");
    }
}
