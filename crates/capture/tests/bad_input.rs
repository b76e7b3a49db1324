//! Bad input: a clear error or warning, never a panic, memory bounded.

use capture::{CaptureError, inspect_bytes};
use fixtures::containers::{Chunk, gzip, itxt, pil_text, pixels, png, stealth_alpha, zlib};
use fixtures::samples;
use serde_json::json;

fn small_png(chunks: &[Chunk]) -> Vec<u8> {
    png(32, 32, 3, &pixels(32, 32, 3, 1), chunks)
}

const PARAMS: &str =
    "a cat\nNegative prompt: dog\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1, Size: 32x32";

#[test]
fn every_truncation_of_every_sample_is_an_error_or_a_warning() {
    for sample in samples::all() {
        let bytes = &sample.bytes;
        let cuts = (0..bytes.len().min(1500)).chain((1500..bytes.len()).step_by(61));
        for cut in cuts {
            match inspect_bytes(&bytes[..cut]) {
                Ok(i) => assert!(
                    !i.warnings.is_empty() || cut >= bytes.len() - 12,
                    "{} cut at {cut}: read without a warning",
                    sample.name
                ),
                Err(CaptureError::Io(e)) => panic!("{} cut at {cut}: raw I/O error {e}", sample.name),
                Err(_) => {}
            }
        }
    }
}

#[test]
fn not_an_image_and_empty_files_are_errors_that_say_so() {
    let err = inspect_bytes(b"hello, this is text").unwrap_err().to_string();
    assert!(err.contains("not a PNG, JPEG or WebP") && err.contains("68 65 6c 6c"), "{err}");
    let err = inspect_bytes(b"").unwrap_err().to_string();
    assert!(err.contains("empty"), "{err}");
}

#[test]
fn a_bad_crc_warns_and_the_chunk_is_still_read() {
    let mut bytes = small_png(&[pil_text("parameters", PARAMS)]);
    let at = bytes.windows(5).position(|w| w == b"a cat").unwrap();
    bytes[at + 2] = b'h'; // "a hat": the CRC no longer matches
    let i = inspect_bytes(&bytes).unwrap();
    assert!(i.warnings.iter().any(|w| w.contains("tEXt") && w.contains("bad CRC")), "{:?}", i.warnings);
    assert_eq!(i.generations[0].prompt.as_deref(), Some("a hat"));
}

fn raw_chunk(len: u32, kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut v = len.to_be_bytes().to_vec();
    v.extend_from_slice(kind);
    v.extend_from_slice(body);
    v
}

#[test]
fn a_chunk_claiming_gigabytes_is_refused_without_allocating() {
    let good = small_png(&[]);
    let ihdr_end = 8 + 25;
    for len in [0x7FFF_FFF0u32, 0xFFFF_FFF0] {
        let mut bytes = good[..ihdr_end].to_vec();
        bytes.extend(raw_chunk(len, b"tEXt", b"parameters\0x"));
        let i = inspect_bytes(&bytes).unwrap();
        assert!(
            i.warnings.iter().any(
                |w| w.contains("tEXt") && (w.contains("truncated") || w.contains("more than PNG allows"))
            ),
            "{:?}",
            i.warnings
        );
    }
}

#[test]
fn a_compressed_text_bomb_is_cut_at_the_limit() {
    let bomb = zlib(&vec![b'a'; (capture::MAX_PAYLOAD + 1024) as usize]);
    let mut chunk = b"parameters\0\0".to_vec();
    chunk.extend(bomb);
    let i = inspect_bytes(&small_png(&[Chunk(*b"zTXt", chunk)])).unwrap();
    assert!(i.warnings.iter().any(|w| w.contains("more than 64 MiB")), "{:?}", i.warnings);
    assert!(i.generations.is_empty());
}

#[test]
fn invalid_utf8_is_replaced_and_named() {
    let mut chunk = itxt("parameters", PARAMS, false);
    let at = chunk.1.windows(3).position(|w| w == b"cat").unwrap();
    chunk.1[at] = 0xFF;
    let i = inspect_bytes(&small_png(&[chunk])).unwrap();
    assert!(i.warnings.iter().any(|w| w.contains("not valid UTF-8")), "{:?}", i.warnings);
    assert_eq!(i.generations[0].prompt.as_deref(), Some("a \u{FFFD}at"));
}

#[test]
fn malformed_json_is_a_warning_naming_the_chunk() {
    let i = inspect_bytes(&small_png(&[pil_text("prompt", "{\"3\": {\"class_type\": ")])).unwrap();
    assert!(i.generations.is_empty());
    assert!(
        i.warnings.iter().any(|w| w.starts_with("png:tEXt:prompt") && w.contains("not JSON")),
        "{:?}",
        i.warnings
    );
    let i = inspect_bytes(&small_png(&[pil_text("invokeai_metadata", "[1, 2")])).unwrap();
    assert!(i.warnings.iter().any(|w| w.contains("invokeai_metadata is not valid JSON")), "{:?}", i.warnings);
}

fn comfy(graph: serde_json::Value) -> capture::Inspection {
    inspect_bytes(&small_png(&[pil_text("prompt", &graph.to_string())])).unwrap()
}

#[test]
fn a_comfyui_cycle_ends_and_is_reported() {
    let i = comfy(json!({
        "3": {"class_type": "KSampler", "inputs": {"seed": 1, "steps": 2, "cfg": 3.0, "sampler_name": "euler", "positive": ["6", 0], "negative": ["7", 0], "model": ["10", 0], "latent_image": ["3", 0]}},
        "6": {"class_type": "ConditioningCombine", "inputs": {"conditioning_1": ["7", 0], "conditioning_2": ["6", 0]}},
        "7": {"class_type": "ConditioningCombine", "inputs": {"conditioning_1": ["6", 0]}},
        "10": {"class_type": "LoraLoader", "inputs": {"lora_name": "x", "model": ["10", 0]}}
    }));
    assert_eq!(i.generations.len(), 1);
    assert_eq!(i.generations[0].seed, Some(1));
    assert!(i.warnings.iter().any(|w| w.contains("cycle")), "{:?}", i.warnings);
}

#[test]
fn a_dangling_comfyui_link_is_named() {
    let i = comfy(json!({
        "3": {"class_type": "KSampler", "inputs": {"seed": 1, "steps": 2, "cfg": 3.0, "sampler_name": "euler", "positive": ["99", 0], "negative": ["7", 0], "latent_image": ["5", 0]}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "bad"}}
    }));
    assert_eq!(i.generations[0].negative_prompt.as_deref(), Some("bad"));
    assert_eq!(i.generations[0].prompt, None);
    assert!(
        i.warnings
            .iter()
            .any(|w| w.contains("node 3") && w.contains("node 99") && w.contains("does not exist")),
        "{:?}",
        i.warnings
    );
}

#[test]
fn stealth_data_claiming_more_than_the_image_holds_is_refused() {
    let (w, h) = (64u32, 64u32);
    let mut rgba = pixels(w, h, 4, 2);
    stealth_alpha(&mut rgba, w, h, "stealth_pngcomp", &gzip(b"{}"));
    // Overwrite the 32-bit length (bits 120..152, column 1 onwards) with all ones.
    for i in 120..152u32 {
        let (x, y) = (i / h, i % h);
        rgba[((y * w + x) * 4 + 3) as usize] = 0xFF;
    }
    let i = inspect_bytes(&png(w, h, 4, &rgba, &[])).unwrap();
    assert!(i.warnings.iter().any(|w| w.contains("stealth metadata claims")), "{:?}", i.warnings);
}

#[test]
fn a_plain_rgba_image_has_no_stealth_record_and_no_warning() {
    let i = inspect_bytes(&png(200, 200, 4, &pixels(200, 200, 4, 4), &[])).unwrap();
    assert!(i.generations.is_empty() && i.warnings.is_empty());
}

#[test]
fn jpeg_and_webp_with_broken_structure_are_warnings() {
    let jpg = samples::all().into_iter().find(|s| s.name == "a1111-txt2img.jpg").unwrap().bytes;
    let mut broken = jpg[..4].to_vec();
    broken.extend_from_slice(&[0x00, 0x01]); // a segment length of 1
    let i = inspect_bytes(&broken).unwrap();
    assert!(i.warnings.iter().any(|w| w.contains("impossible length")), "{:?}", i.warnings);
    let mut webp = b"RIFF\xff\xff\xff\x7fWEBPVP8X".to_vec();
    webp.extend_from_slice(&u32::MAX.to_le_bytes());
    let i = inspect_bytes(&webp).unwrap();
    assert!(i.warnings.iter().any(|w| w.contains("truncated")), "{:?}", i.warnings);
}
