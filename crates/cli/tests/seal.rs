//! seal and verify end to end: a project recorded with the real commands, a sealed PNG and
//! JPEG, their Content Credentials, journal proof, watermark and AIGC label read back, and a
//! stripped, re-encoded copy still named.

mod common;

use fixtures::containers::{self, pil_text};
use fixtures::images::{Picture, kodak};
use fixtures::samples::a1111_parameters;
use serde_json::Value;

use common::{json, run, s};

/// A PNG as AUTOMATIC1111 writes it: the pixels and a `parameters` text chunk.
fn a1111_png(p: &Picture) -> Vec<u8> {
    containers::png(p.width, p.height, 3, &p.rgb, &[pil_text("parameters", &a1111_parameters())])
}

#[test]
fn a_sealed_work_verifies_and_its_stripped_copy_is_still_named() {
    let tmp = tempfile::tempdir().unwrap();
    let (home, dir) = (tmp.path().join("home"), tmp.path());
    json(&home, &["init", "--name", "Li Yun", "--json"]);
    json(&home, &["project", "new", "spring", "--json"]);

    let base = kodak("kodim03").crop(0, 0, 512, 384);
    let (gen1, gen2, edited) = (dir.join("00001.png"), dir.join("00002.png"), dir.join("final.png"));
    std::fs::write(&gen1, a1111_png(&base.crop(0, 0, 480, 360))).unwrap();
    std::fs::write(&gen2, a1111_png(&base)).unwrap();
    std::fs::write(&edited, a1111_png(&base.cover(0.02))).unwrap();
    for f in [&gen1, &gen2] {
        json(&home, &["record", &s(f), "-p", "spring", "--json"]);
    }
    json(&home, &["select", &s(&gen2), "--reason", "the light", "--json"]);
    json(
        &home,
        &["edit", &s(&gen2), &s(&edited), "--tool", "GIMP", "--note", "painted out a branch", "--json"],
    );
    let original = std::fs::read(&edited).unwrap();

    let sealed_path = dir.join("final.sealed.png");
    let sealed = json(
        &home,
        &[
            "seal",
            &s(&edited),
            "-p",
            "spring",
            "--title",
            "Spring breeze",
            "--license",
            "CC-BY-4.0",
            "--json",
        ],
    );
    assert_eq!(sealed["output"], s(&sealed_path));
    assert_eq!(sealed["source_type"], "compositeWithTrainedAlgorithmicMedia");
    assert_eq!(sealed["summary"]["lineage"]["edits"], 1);
    assert_eq!(sealed["summary"]["project"]["generations"], 2);
    assert_eq!(sealed["summary"]["lineage"]["selections"], 1);
    let work = sealed["work"]["id"].as_i64().unwrap();
    assert_eq!(std::fs::read(&edited).unwrap(), original, "the input is never touched");

    let v = json(&home, &["verify", &s(&sealed_path), "--json"]);
    assert_eq!(v["c2pa"]["status"], "trusted", "{v}");
    let m = &v["c2pa"]["active"];
    let actions: Vec<&str> =
        m["actions"].as_array().unwrap().iter().map(|a| a["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["c2pa.created", "c2pa.edited", "c2pa.watermarked"]);
    assert_eq!(m["actions"][1]["description"], "painted out a branch");
    assert_eq!(m["authors"][0], "Li Yun");
    // gen2 (edited) is the nearest source; gen1 is not in the lineage.
    assert!(m["ingredients"].as_array().unwrap().iter().any(|i| i["title"] == "00002.png"), "{m}");
    assert_eq!(v["journal"]["verified"], true, "{v}");
    assert_eq!(v["journal"]["work"], work);
    assert_eq!(v["watermark"]["payload"], sealed["work"]["watermark_id"], "the ID derived from the key");
    // The manifest's soft binding names the same ID as the pixels carry.
    let id = u64::from_str_radix(sealed["work"]["watermark_id"].as_str().unwrap(), 16).unwrap();
    use base64::Engine;
    let bound = base64::engine::general_purpose::STANDARD.encode(id.to_be_bytes());
    assert_eq!(m["soft_bindings"][0]["value"], bound, "{m}");
    assert_eq!(v["work"]["title"], "Spring breeze");
    assert_eq!(v["aigc"]["Label"], "1");
    assert_eq!(v["aigc"]["ProduceID"], format!("handprint:work:{work}"));
    assert_eq!(v["aigc"]["ReservedCode1"], v["journal"]["event_hash"]);
    assert!(v["generator_metadata"].to_string().contains("Automatic1111"), "{v}");
    // The journal holds the sealed event and still verifies.
    let log = run(&home, &["verify", "--json"]);
    assert!(log.status.success(), "{}", String::from_utf8_lossy(&log.stdout));

    // Stripped of all metadata, cropped and re-encoded: no credentials, still named.
    let decoded =
        fingerprint::decode::decode(&std::fs::read(&sealed_path).unwrap(), &Default::default()).unwrap();
    let copy =
        Picture { width: decoded.image.width, height: decoded.image.height, rgb: decoded.image.pixels }
            .crop_area(0.8, 1);
    let copy_path = dir.join("copy.jpg");
    std::fs::write(&copy_path, copy.jpeg(80)).unwrap();
    let c = json(&home, &["verify", &s(&copy_path), "--json"]);
    assert_eq!(c["c2pa"]["status"], "none");
    assert_eq!(c["work"]["id"], work, "{c}");
    assert_eq!(c["fingerprint"]["work"], work, "{c}");

    // One changed byte in the pixels: tampered, exit 1.
    let mut bytes = std::fs::read(&sealed_path).unwrap();
    let idat = bytes.windows(4).rposition(|w| w == b"IDAT").unwrap();
    bytes[idat + 100] ^= 0x20;
    let tampered = dir.join("tampered.png");
    std::fs::write(&tampered, bytes).unwrap();
    let out = run(&home, &["verify", &s(&tampered), "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let t: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(t["c2pa"]["status"], "tampered", "{t}");

    // Sealing a sealed file again is refused, and so is overwriting.
    let out = run(&home, &["seal", &s(&sealed_path), "-p", "spring", "--title", "Again", "--import"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("already sealed"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let again = json(&home, &["seal", &s(&edited), "-p", "spring", "--title", "Twice", "--json"]);
    assert_eq!((again["work"]["id"].as_i64(), again["recovered"].as_bool()), (Some(work), Some(true)));
    let out = run(&home, &["seal", &s(&gen2), "-p", "spring", "--title", "Other", "-o", &s(&sealed_path)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("exists"));

    // --in-place replaces the input itself (here a recorded generation), and only then.
    let sealed_gen1 =
        json(&home, &["seal", &s(&gen1), "-p", "spring", "--title", "First", "--in-place", "--json"]);
    assert_eq!(sealed_gen1["output"], s(&gen1));
    let v = json(&home, &["verify", &s(&gen1), "--json"]);
    assert_eq!(v["c2pa"]["status"], "trusted");
    assert_eq!(v["work"]["title"], "First");
}

#[test]
fn a_file_from_elsewhere_needs_import_and_a_jpeg_seals_as_jpeg() {
    let tmp = tempfile::tempdir().unwrap();
    let (home, dir) = (tmp.path().join("home"), tmp.path());
    let photo = dir.join("photo.jpg");
    std::fs::write(&photo, kodak("kodim04").crop(0, 0, 512, 384).jpeg(92)).unwrap();

    // No identity yet: a clear message.
    let out = run(&home, &["seal", &s(&photo), "-p", "x", "--title", "T"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("handprint init"));

    json(&home, &["init", "--name", "Ana Ruiz", "--json"]);
    json(&home, &["project", "new", "doors", "--json"]);
    let out = run(&home, &["seal", &s(&photo), "-p", "doors", "--title", "Door"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not in project") && err.contains("--import"), "{err}");
    assert!(!dir.join("photo.sealed.jpg").exists());

    let out_path = dir.join("door.jpg");
    let sealed = json(
        &home,
        &[
            "seal",
            &s(&photo),
            "-p",
            "doors",
            "--title",
            "Door",
            "--import",
            "--source-type",
            "trainedAlgorithmicMedia",
            "--visible-label",
            "-o",
            &s(&out_path),
            "--json",
        ],
    );
    assert_eq!(sealed["imported"], true);
    assert_eq!(&std::fs::read(&out_path).unwrap()[..3], &[0xFF, 0xD8, 0xFF]);
    let v = json(&home, &["verify", &s(&out_path), "--json"]);
    assert_eq!(v["c2pa"]["status"], "trusted", "{v}");
    assert_eq!(v["format"], "image/jpeg");
    assert_eq!(v["journal"]["verified"], true);
    assert_eq!(v["watermark"]["payload"], sealed["work"]["watermark_id"]);
    // The explicit label: a dark box in the bottom-right corner, said in the manifest.
    let labelled =
        fingerprint::decode::decode(&std::fs::read(&out_path).unwrap(), &Default::default()).unwrap().image;
    let original = kodak("kodim04").crop(0, 0, 512, 384);
    // Mean of a 4 × 4 block in the box's padding (margin 2% = 8 px): about 40% of before.
    let block = |rgb: &[u8]| {
        let (x0, y0) = (512 - 8 - 6, 384 - 8 - 6);
        let sum: u32 = (y0..y0 + 4)
            .flat_map(|y| (x0..x0 + 4).map(move |x| rgb[((y * 512 + x) * 3) as usize] as u32))
            .sum();
        sum as f64 / 16.0
    };
    let (before, after) = (block(&original.rgb), block(&labelled.pixels));
    assert!(after < 0.7 * before + 2.0, "no dark box at the corner: {before} → {after}");
    let actions = v["c2pa"]["active"]["actions"].to_string();
    assert!(actions.contains("visible AI label") && actions.contains("AI生成"), "{actions}");
    let log = run(&home, &["log", "-p", "doors", "--json"]);
    let first: Value =
        serde_json::from_str(String::from_utf8_lossy(&log.stdout).lines().next().unwrap()).unwrap();
    assert_eq!(first["event"]["kind"], "imported", "the first event is the import: {first}");

    // Another person's machine, with no registry: the credentials and proof still verify
    // (the signer is not on that machine's trust list).
    let stranger = dir.join("stranger");
    let v = json(&stranger, &["verify", &s(&out_path), "--json"]);
    assert_eq!(v["c2pa"]["status"], "untrusted-signer", "{v}");
    assert_eq!(v["journal"]["verified"], true);
    assert!(v["work"].is_null());
}

#[test]
fn a_webp_seals_as_webp_and_a_damaged_manifest_is_reported_not_fatal() {
    let tmp = tempfile::tempdir().unwrap();
    let (home, dir) = (tmp.path().join("home"), tmp.path());
    json(&home, &["init", "--name", "Ana Ruiz", "--json"]);
    json(&home, &["project", "new", "hats", "--json"]);
    let picture = kodak("kodim03").crop(128, 64, 512, 384);
    let mut webp = Vec::new();
    image_webp::WebPEncoder::new(&mut webp)
        .encode(&picture.rgb, picture.width, picture.height, image_webp::ColorType::Rgb8)
        .unwrap();
    let input = dir.join("hats.webp");
    std::fs::write(&input, webp).unwrap();
    let sealed = json(
        &home,
        &[
            "seal",
            &s(&input),
            "-p",
            "hats",
            "--title",
            "Hats",
            "--import",
            "--source-type",
            "trainedAlgorithmicMedia",
            "--json",
        ],
    );
    let out = dir.join("hats.sealed.webp");
    let bytes = std::fs::read(&out).unwrap();
    assert_eq!((&bytes[..4], &bytes[8..12]), (&b"RIFF"[..], &b"WEBP"[..]));
    let v = json(&home, &["verify", &s(&out), "--json"]);
    assert_eq!(v["c2pa"]["status"], "trusted", "{v}");
    assert_eq!(v["format"], "image/webp");
    assert_eq!(v["journal"]["verified"], true, "the proof is bound to a WebP's image data too: {v}");
    assert_eq!(v["watermark"]["payload"], sealed["work"]["watermark_id"]);
    assert_eq!(v["aigc"]["Label"], "1");

    // Bytes in the middle of the manifest store overwritten: reported, exit 1, the rest read.
    let store = bytes.windows(4).position(|w| w == b"jumb").expect("a JUMBF box");
    let mut damaged = bytes.clone();
    for b in &mut damaged[store + 200..store + 260] {
        *b = 0xA5;
    }
    let damaged_path = dir.join("damaged.webp");
    std::fs::write(&damaged_path, damaged).unwrap();
    let out = run(&home, &["verify", &s(&damaged_path), "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let d: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(matches!(d["c2pa"]["status"].as_str(), Some("invalid" | "tampered")), "{d}");
    assert!(!d["c2pa"]["failures"].as_array().unwrap().is_empty(), "{d}");
    assert_eq!(d["watermark"]["payload"], v["watermark"]["payload"], "the pixels still speak: {d}");
}
