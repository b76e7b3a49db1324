//! Every sample layout reads back to the facts it was built with.

use std::path::Path;

use capture::{AdapterKind, Generation, Generator, Inspection, inspect_bytes};
use fixtures::samples;

fn inspect(name: &str) -> Inspection {
    let sample = samples::all().into_iter().find(|s| s.name == name).expect("sample exists");
    inspect_bytes(&sample.bytes).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn generator_name(g: Generator) -> String {
    serde_json::to_value(g).unwrap().as_str().unwrap().to_owned()
}

#[test]
fn every_sample_gives_its_expected_record() {
    for sample in samples::all() {
        let inspection = inspect_bytes(&sample.bytes).unwrap_or_else(|e| panic!("{}: {e}", sample.name));
        let e = &sample.expect;
        assert_eq!(inspection.generations.len(), e.records, "{}: record count", sample.name);
        assert!(
            inspection.warnings.is_empty(),
            "{}: unexpected warnings {:?}",
            sample.name,
            inspection.warnings
        );
        let Some(g) = inspection.generations.first() else { continue };
        let n = sample.name;
        assert_eq!(Some(generator_name(g.generator).as_str()), e.generator, "{n}: generator");
        assert_eq!(g.prompt, e.prompt, "{n}: prompt");
        assert_eq!(g.negative_prompt, e.negative_prompt, "{n}: negative prompt");
        assert_eq!(g.seed, e.seed, "{n}: seed");
        assert_eq!(g.steps, e.steps, "{n}: steps");
        assert_eq!(g.cfg_scale, e.cfg_scale, "{n}: cfg");
        assert_eq!(g.sampler.as_deref(), e.sampler, "{n}: sampler");
        assert!(g.raw.as_deref().is_some_and(|r| !r.is_empty()), "{n}: raw text kept");
        for (k, other) in inspection.generations.iter().enumerate() {
            let raw = other.raw_text(&inspection.generations);
            assert!(raw.is_some_and(|r| !r.is_empty()), "{n}: record {k} leads to its raw text");
        }
    }
}

#[test]
fn the_samples_folder_is_what_the_builder_writes() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "README.md")
        .collect();
    names.sort();
    let mut expected: Vec<String> = samples::all().iter().map(|s| s.name.to_owned()).collect();
    expected.sort();
    assert_eq!(names, expected, "samples/ holds exactly the built samples");
    for sample in samples::all() {
        let on_disk = std::fs::read(dir.join(sample.name)).unwrap();
        assert!(
            on_disk == sample.bytes,
            "samples/{} is stale: run `cargo run -p handprint-fixtures --bin make-samples samples`",
            sample.name
        );
    }
}

#[test]
fn a1111_hires_loras_vae_and_verbatim_extras() {
    let i = inspect("a1111-txt2img.png");
    let g = &i.generations[0];
    assert_eq!((g.width, g.height), (Some(512), Some(768)));
    assert_eq!(g.scheduler.as_deref(), Some("Karras"));
    assert_eq!(g.generator_version.as_deref(), Some("v1.10.1"));
    let model = g.model.as_ref().unwrap();
    assert_eq!(
        (model.name.as_deref(), model.hash.as_deref()),
        (Some("v1-5-pruned-emaonly"), Some("6ce0161689"))
    );
    assert_eq!(g.vae.as_ref().unwrap().hash.as_deref(), Some("735e4c3a44"));
    let hires = g.hires.as_ref().unwrap();
    assert_eq!(hires.scale, Some(2.0));
    assert_eq!(hires.steps, Some(12));
    assert_eq!(hires.upscaler.as_deref(), Some("4x-UltraSharp"));
    assert_eq!(hires.denoising_strength, Some(0.45));
    assert!(g.img2img.is_none(), "denoising with hires keys is the hires pass, not img2img");
    assert_eq!(g.adapters.len(), 1);
    assert_eq!(g.adapters[0].hash.as_deref(), Some("7c6bad76eb54"));
    assert_eq!(g.adapters[0].weight, Some(0.8));
    assert_eq!(g.extra["ADetailer prompt"], "detailed face, smile");
    assert_eq!(
        g.extra["Template"],
        "masterpiece, best quality, 1girl, ({red|blue} scarf:1.2), snowy street at dusk"
    );
    assert!(g.extra["ControlNet 0"].as_str().unwrap().starts_with("Module: canny, Model:"));
    assert_eq!(g.source, "png:tEXt:parameters");
}

#[test]
fn the_jpeg_and_png_of_one_generation_agree() {
    let (png, jpg) = (inspect("a1111-txt2img.png"), inspect("a1111-txt2img.jpg"));
    let strip = |g: &Generation| Generation { source: String::new(), ..g.clone() };
    assert_eq!(strip(&png.generations[0]), strip(&jpg.generations[0]));
    assert_eq!(jpg.generations[0].source, "jpeg:APP1:exif:UserComment");
}

#[test]
fn inpaint_from_a_compressed_itxt() {
    let g = &inspect("a1111-inpaint-itxt.png").generations[0];
    let img = g.img2img.as_ref().unwrap();
    assert_eq!(img.mode, "inpaint");
    assert_eq!(img.denoising_strength, Some(0.6));
    assert_eq!(img.mask_blur, Some(4.0));
    assert_eq!(g.source, "png:iTXt:parameters");
}

#[test]
fn forge_sdnext_and_fooocus_a1111_scheme_are_named_for_their_tool() {
    assert_eq!(inspect("forge-utf16le.webp").generations[0].generator, Generator::Forge);
    assert_eq!(inspect("sdnext-ztxt.png").generations[0].generator, Generator::SdNext);
    let f = inspect("fooocus-a1111.jpg");
    assert_eq!(f.generations[0].generator, Generator::Fooocus);
    assert_eq!(f.generations[0].generator_version.as_deref(), Some("Fooocus v2.5.5"));
}

#[test]
fn comfyui_two_passes_give_two_records_with_loras_and_sizes() {
    let i = inspect("comfyui-two-pass.png");
    let (first, second) = (&i.generations[0], &i.generations[1]);
    assert_eq!((first.width, first.height), (Some(1024), Some(1024)));
    assert_eq!(first.extra["batch_size"], 4);
    let loras: Vec<(&str, Option<f64>, Option<f64>)> =
        first.adapters.iter().map(|a| (a.name.as_str(), a.weight, a.clip_weight)).collect();
    assert_eq!(
        loras,
        [
            ("pixel-art-xl.safetensors", Some(0.9), Some(0.8)),
            ("add-detail-xl.safetensors", Some(0.5), Some(0.5))
        ]
    );
    assert_eq!(first.vae.as_ref().unwrap().name.as_deref(), Some("sdxl_vae.safetensors"));
    assert_eq!(second.seed, Some(43));
    let hires = second.hires.as_ref().unwrap();
    assert_eq!(hires.scale, Some(1.5));
    assert_eq!(hires.denoising_strength, Some(0.5));
    assert_eq!((second.width, second.height), (Some(1536), Some(1536)));
    assert_eq!(second.extra["upstream_sampler"], "3");
}

#[test]
fn comfyui_custom_sampler_settings_come_from_its_helper_nodes() {
    let g = &inspect("comfyui-flux-custom-sampler.png").generations[0];
    assert_eq!(g.scheduler.as_deref(), Some("simple"));
    assert_eq!(g.model.as_ref().unwrap().name.as_deref(), Some("flux1-dev.safetensors"));
    assert_eq!((g.width, g.height), (Some(1024), Some(768)));
}

#[test]
fn comfyui_workflow_only_matches_the_api_graph() {
    let (api, ui) = (inspect("comfyui-basic.png"), inspect("comfyui-workflow-only.png"));
    let (a, u) = (&api.generations[0], &ui.generations[0]);
    assert_eq!(
        (&a.prompt, &a.negative_prompt, a.seed, a.steps),
        (&u.prompt, &u.negative_prompt, u.seed, u.steps)
    );
    assert_eq!(a.model, u.model);
    assert_eq!((a.width, a.height), (u.width, u.height));
}

#[test]
fn novelai_from_text_chunks_and_from_alpha_alone() {
    let text = inspect("novelai.png");
    let alpha = inspect("novelai-stealth-only.png");
    let (t, a) = (&text.generations[0], &alpha.generations[0]);
    assert_eq!(t.source, "png:tEXt:Comment");
    assert_eq!(a.source, "png:alpha:stealth_pngcomp");
    let model = t.model.as_ref().unwrap();
    assert_eq!(
        (model.name.as_deref(), model.hash.as_deref()),
        (Some("Stable Diffusion XL"), Some("C1E1DE52"))
    );
    assert_eq!(a.model, t.model);
    assert_eq!((t.width, t.height), (Some(832), Some(1216)));
    assert_eq!(t.scheduler.as_deref(), Some("karras"));
}

#[test]
fn invokeai_versions() {
    let v4 = &inspect("invokeai-4.png").generations[0];
    assert_eq!(v4.generator_version.as_deref(), Some("4.2.9"));
    assert_eq!(v4.adapters[0].name, "Ink Style");
    assert_eq!(v4.adapters[0].weight, Some(0.65));
    assert!(v4.model.as_ref().unwrap().hash.as_deref().unwrap().starts_with("blake3:"));
    let v2 = inspect("invokeai-2.png");
    assert_eq!(v2.generations.len(), 1, "sd-metadata wins over the legacy Dream text");
    assert_eq!(v2.generations[0].source, "png:tEXt:sd-metadata");
}

#[test]
fn swarmui_fooocus_easydiffusion_drawthings_details() {
    let s = &inspect("swarmui.png").generations[0];
    assert_eq!(s.adapters[0].weight, Some(0.7));
    assert!(s.model.as_ref().unwrap().hash.as_deref().unwrap().starts_with("0x31e35c80"));
    let f = &inspect("fooocus.png").generations[0];
    assert_eq!((f.width, f.height), (Some(1152), Some(896)));
    assert_eq!(f.adapters[0].weight, Some(0.1));
    let e = &inspect("easydiffusion.png").generations[0];
    assert_eq!(e.model.as_ref().unwrap().name.as_deref(), Some("sd-v1-5"));
    assert!(e.adapters.is_empty(), "an empty LoRA field is no LoRA");
    let d = &inspect("drawthings.png").generations[0];
    assert_eq!(d.adapters[0].kind, AdapterKind::Lora);
    assert_eq!(d.adapters[0].weight, Some(0.6));
    assert!(d.img2img.is_none(), "strength 1 is text-to-image");
}

#[test]
fn midjourney_job_id_author_and_parameters() {
    let g = &inspect("midjourney.png").generations[0];
    assert_eq!(g.extra["job_id"], "7b9d3a4e-2f1c-4e5d-8a6b-0c9d8e7f6a5b");
    assert_eq!(g.extra["author"], "lumen_atelier");
    assert_eq!(g.extra["ar"], "3:2");
    assert_eq!(g.generator_version.as_deref(), Some("6.1"));
}

#[test]
fn c2pa_presence_and_claim_generator_in_jpeg_and_png() {
    for (name, location) in [("c2pa.jpg", "jpeg:APP11"), ("c2pa.png", "png:caBX")] {
        let c = inspect(name).c2pa.unwrap_or_else(|| panic!("{name}: no C2PA found"));
        assert_eq!(c.location, location);
        assert_eq!(c.claim_generator.as_deref(), Some("ExamplePhotoEditor 3.1.0"));
        assert_eq!(c.active_manifest.as_deref(), Some("urn:uuid:5f3c1a2b-8d4e-4f6a-9b0c-1d2e3f4a5b6c"));
    }
    assert!(inspect("plain.png").c2pa.is_none());
}

#[test]
fn no_metadata_is_not_an_error_and_lists_what_was_seen() {
    let plain = inspect("plain.png");
    assert!(plain.generations.is_empty() && plain.metadata_keys.is_empty());
    let camera = inspect("camera.jpg");
    assert!(camera.generations.is_empty());
    assert!(camera.metadata_keys.iter().any(|k| k.contains("Software=Firmware 1.2")));
}
