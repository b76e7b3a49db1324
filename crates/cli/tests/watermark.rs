//! `handprint watermark embed|detect` end to end: payloads read back, metadata and alpha
//! kept, bad input refused with a message naming the file.

use std::path::Path;
use std::process::{Command, Output};

use fixtures::containers::{Chunk, pil_text, png};
use fixtures::images::kodak;
use serde_json::Value;

fn run(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_handprint")).env("HANDPRINT_HOME", home).args(args).output().unwrap()
}

fn json(out: &Output) -> Vec<Value> {
    String::from_utf8(out.stdout.clone()).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn embed_then_detect_keeps_metadata_and_alpha_and_names_the_work() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let s = |p: &Path| p.to_str().unwrap().to_owned();
    assert!(run(&home, &["init", "--name", "Mei Lin"]).status.success());
    let photo = fixtures::images::kodak_path("kodim03");
    let reg = run(&home, &["register", &s(&photo), "--title", "Hats", "--json"]);
    assert_eq!(json(&reg)[0]["work"], 1);
    let watermark_id = json(&reg)[0]["watermark_id"].as_str().expect("a watermark ID").to_owned();

    // An RGBA PNG with generation parameters.
    let p = kodak("kodim03").crop(100, 50, 400, 320);
    let rgba: Vec<u8> = p
        .rgb
        .chunks_exact(3)
        .enumerate()
        .flat_map(|(i, c)| [c[0], c[1], c[2], 128 + (i % 100) as u8])
        .collect();
    let params = "a red hat\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 42, Size: 400x320, Model: sd15";
    let chunks: Vec<Chunk> = vec![pil_text("parameters", params)];
    let input = tmp.path().join("hats.png");
    std::fs::write(&input, png(400, 320, 4, &rgba, &chunks)).unwrap();
    let output = tmp.path().join("hats-marked.png");
    let out = run(&home, &["watermark", "embed", &s(&input), &s(&output), "--work", "1", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(json(&out)[0]["psnr_db"].as_f64().unwrap() >= 40.0);

    let before = capture::inspect_bytes(&std::fs::read(&input).unwrap()).unwrap();
    let after = capture::inspect_bytes(&std::fs::read(&output).unwrap()).unwrap();
    assert_eq!(after.generations, before.generations, "the parameters chunk was carried over");
    let decoded = {
        let mut r =
            ::png::Decoder::new(std::io::Cursor::new(std::fs::read(&output).unwrap())).read_info().unwrap();
        let mut buf = vec![0; r.output_buffer_size().unwrap()];
        r.next_frame(&mut buf).unwrap();
        buf
    };
    let alpha = |b: &[u8]| b.chunks_exact(4).map(|c| c[3]).collect::<Vec<_>>();
    assert_eq!(alpha(&decoded), alpha(&rgba), "alpha untouched");

    // Re-encoded as JPEG by someone else: still read, and the work named.
    let jpeg = tmp.path().join("hats-copy.jpg");
    let marked = fixtures::images::Picture {
        width: 400,
        height: 320,
        rgb: decoded.chunks_exact(4).flat_map(|c| [c[0], c[1], c[2]]).collect(),
    };
    std::fs::write(&jpeg, marked.jpeg(75)).unwrap();
    // Letterboxed: black bars change the size the detector expects; it retries without them.
    let mut boxed = vec![0u8; 400 * 400 * 3];
    boxed[400 * 40 * 3..][..marked.rgb.len()].copy_from_slice(&marked.rgb);
    let letterboxed = tmp.path().join("hats-letterboxed.png");
    std::fs::write(&letterboxed, fixtures::images::Picture { width: 400, height: 400, rgb: boxed }.png())
        .unwrap();
    let out =
        run(&home, &["watermark", "detect", &s(&output), &s(&jpeg), &s(&letterboxed), &s(&photo), "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let found = json(&out);
    for r in &found[..3] {
        assert_eq!(
            (r["found"].as_bool(), r["payload"].as_str()),
            (Some(true), Some(watermark_id.as_str())),
            "{r}"
        );
        assert_eq!(r["work"]["title"], "Hats");
        assert!(r["false_positive"].as_f64().unwrap() < 1e-9);
    }
    assert_eq!(found[3]["found"], false, "the unmarked original");
}

#[test]
fn what_cannot_carry_a_watermark_is_refused_by_name() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let p = kodak("kodim04").crop(0, 0, 300, 300);
    let mut sixteen = Vec::new();
    {
        let mut enc = ::png::Encoder::new(&mut sixteen, 300, 300);
        enc.set_color(::png::ColorType::Rgb);
        enc.set_depth(::png::BitDepth::Sixteen);
        let data: Vec<u8> = p.rgb.iter().flat_map(|&v| [v, 0]).collect();
        enc.write_header().unwrap().write_image_data(&data).unwrap();
    }
    let mut cmyk = Vec::new();
    let cmyk_pixels: Vec<u8> =
        p.rgb.chunks_exact(3).flat_map(|c| [255 - c[0], 255 - c[1], 255 - c[2], 0]).collect();
    jpeg_encoder::Encoder::new(&mut cmyk, 90)
        .encode(&cmyk_pixels, 300, 300, jpeg_encoder::ColorType::Cmyk)
        .unwrap();
    let cases: [(&str, Vec<u8>, &str); 5] = [
        ("deep.png", sixteen, "16-bit PNG"),
        ("print.jpg", cmyk, "CMYK JPEG"),
        ("moving.gif", p.animated_gif(2), "GIF"),
        ("tiny.png", kodak("kodim04").crop(0, 0, 200, 200).png(), "too small"),
        ("notes.png", b"plain text".to_vec(), "not an image"),
    ];
    for (name, bytes, says) in cases {
        let input = tmp.path().join(name);
        std::fs::write(&input, bytes).unwrap();
        let output = tmp.path().join(format!("out-{name}"));
        let out = run(
            &home,
            &[
                "watermark",
                "embed",
                input.to_str().unwrap(),
                output.to_str().unwrap(),
                "--payload",
                "00000000000000aa",
            ],
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {err}");
        assert!(err.contains(name) && err.contains(says), "{name}: {err}");
        assert!(!output.exists(), "{name}: nothing written");
    }
}
