//! The memory `inspect` takes for crafted files, measured by counting every allocation of
//! this test binary (one test, so nothing else allocates meanwhile).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use capture::inspect_bytes;
use fixtures::containers::{Chunk, pixels, png, zlib, ztxt};
use serde_json::{Map, json};

struct Counting;

static NOW: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(bytes: usize) {
    let now = NOW.fetch_add(bytes, Ordering::Relaxed) + bytes;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grew(layout.size());
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        NOW.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        grew(new_size);
        NOW.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The most memory held at once while `inspect` reads `bytes`, beyond what was held before.
fn peak_of_inspect(bytes: &[u8]) -> (usize, capture::Inspection) {
    let before = NOW.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let inspection = inspect_bytes(bytes).unwrap();
    (PEAK.load(Ordering::Relaxed) - before, inspection)
}

const MIB: usize = 1 << 20;

#[test]
fn crafted_files_are_read_within_bounded_memory() {
    // 2,000 zTXt chunks of 1 MiB each: 2 GiB of text from a 2 MB file.
    let mebibyte = zlib(&vec![b'a'; MIB]);
    let chunks: Vec<Chunk> = (0..2000)
        .map(|k| {
            let mut data = format!("junk{k:04}\0\0").into_bytes();
            data.extend_from_slice(&mebibyte);
            Chunk(*b"zTXt", data)
        })
        .collect();
    let file = png(32, 32, 3, &pixels(32, 32, 3, 1), &chunks);
    let (peak, i) = peak_of_inspect(&file);
    assert!(!i.warnings.is_empty());
    assert!(peak < 96 * MIB, "{} MiB held for {} compressed texts", peak / MIB, chunks.len());

    // 1,000 samplers in one 200 KB graph: every record once held the whole graph.
    let mut graph = Map::new();
    graph.insert("1".into(), json!({"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "m"}}));
    graph.insert("2".into(), json!({"class_type": "CLIPTextEncode", "inputs": {"text": "a cat"}}));
    graph.insert(
        "4".into(),
        json!({"class_type": "EmptyLatentImage", "inputs": {"width": 512, "height": 512}}),
    );
    for k in 0..1000 {
        graph.insert(
            (10 + k).to_string(),
            json!({"class_type": "KSampler", "inputs": {"seed": k, "steps": 20, "cfg": 7.0,
                "sampler_name": "euler", "scheduler": "normal", "model": ["1", 0], "positive": ["2", 0],
                "negative": ["2", 0], "latent_image": ["4", 0]}}),
        );
    }
    let text = serde_json::Value::Object(graph).to_string();
    let file = png(32, 32, 3, &pixels(32, 32, 3, 1), &[ztxt("prompt", &text)]);
    let (peak, i) = peak_of_inspect(&file);
    assert_eq!(i.generations.len(), capture::MAX_GENERATIONS);
    assert!(peak < 32 * MIB, "{} MiB held for a graph of {} bytes", peak / MIB, text.len());
}
