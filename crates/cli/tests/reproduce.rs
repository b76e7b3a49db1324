//! reproduce against servers that behave like the AUTOMATIC1111 and ComfyUI APIs.

mod common;

use fixtures::images::kodak;
use fixtures::project::{write_inpainted, write_round};
use serde_json::Value;

use common::{json, run, s};

#[test]
fn an_a1111_generation_is_re_run_with_its_recorded_settings() {
    let tmp = tempfile::tempdir().unwrap();
    let (home, dir) = (tmp.path().join("home"), tmp.path().join("images"));
    std::fs::create_dir_all(&dir).unwrap();
    json(&home, &["init", "--name", "Ana Ruiz", "--json"]);
    json(&home, &["project", "new", "fox", "--json"]);
    let files = write_round(&dir, 1, 4).unwrap();
    let mut args = vec!["record", "-p", "fox", "--json"];
    let names: Vec<String> = files.iter().map(|f| s(f)).collect();
    args.extend(names.iter().map(String::as_str));
    assert!(run(&home, &args).status.success());
    let sealed = json(&home, &["seal", &names[2], "-p", "fox", "--title", "Fox", "--json"]);
    let work = sealed["work"]["id"].as_i64().unwrap().to_string();

    // A generator that makes the same image again.
    let (url, requests) = fixtures::http::a1111(std::fs::read(&files[2]).unwrap());
    let out = tmp.path().join("again.png");
    let r = json(&home, &["reproduce", &work, "--url", &url, "-o", &s(&out), "--json"]);
    assert_eq!(r["api"], "a1111");
    assert_eq!(r["same_image"], true, "{r}");
    assert!(r["pdq_distance"].as_u64().unwrap() <= 31, "{r}");
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&files[2]).unwrap());
    let sent: Value = serde_json::from_slice(&requests.lock().unwrap()[0].body).unwrap();
    assert_eq!(sent["prompt"], fixtures::project::PROMPTS[1]);
    assert_eq!(sent["negative_prompt"], "blurry, lowres");
    // Generation 6 of the run (round 1, place 2): seed 1006, steps 30, CFG 8, Euler a.
    assert_eq!(
        (sent["seed"].as_u64(), sent["steps"].as_u64(), sent["cfg_scale"].as_f64()),
        (Some(1006), Some(30), Some(8.0))
    );
    assert_eq!(sent["sampler_name"], "Euler a");
    assert_eq!((sent["width"].as_u64(), sent["height"].as_u64()), (Some(256), Some(256)));
    assert_eq!(sent["override_settings"]["sd_model_checkpoint"], "v1-5-pruned-emaonly");

    // The recorded file itself: distance 0. Another file: refused by hash.
    let r =
        json(&home, &["reproduce", &work, "--url", &url, "-o", &s(&out), "--recorded", &names[2], "--json"]);
    assert_eq!(r["pdq_distance"], 0);
    let wrong = run(&home, &["reproduce", &work, "--url", &url, "-o", &s(&out), "--recorded", &names[1]]);
    assert_eq!(wrong.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("not the recorded generation"));

    // A generator that makes something else: reported as a different image, not an error.
    let (other, _) = fixtures::http::a1111(kodak("kodim01").png());
    let r = json(&home, &["reproduce", &work, "--url", &other, "-o", &s(&out), "--json"]);
    assert_eq!(r["same_image"], false, "{r}");
    // No generator there: a clear error.
    let gone = run(&home, &["reproduce", &work, "--url", "http://127.0.0.1:9", "--timeout", "5"]);
    assert_eq!(gone.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&gone.stderr).contains("127.0.0.1:9"));
}

#[test]
fn a_comfyui_graph_is_resubmitted_and_its_output_fetched() {
    let tmp = tempfile::tempdir().unwrap();
    let (home, dir) = (tmp.path().join("home"), tmp.path().join("images"));
    std::fs::create_dir_all(&dir).unwrap();
    json(&home, &["init", "--name", "Ana Ruiz", "--json"]);
    json(&home, &["project", "new", "castle", "--json"]);
    let sample = fixtures::samples::all().into_iter().find(|x| x.name == "comfyui-basic.png").unwrap();
    let generated = dir.join("comfyui-basic.png");
    std::fs::write(&generated, &sample.bytes).unwrap();
    json(&home, &["record", &s(&generated), "-p", "castle", "--json"]);
    // The creator's edit, sealed: the comparison needs the recorded file.
    let edited = dir.join("final.png");
    write_inpainted(&edited).unwrap();
    json(&home, &["edit", &s(&generated), &s(&edited), "--tool", "Krita", "--json"]);
    let sealed = json(&home, &["seal", &s(&edited), "-p", "castle", "--title", "Castle", "--json"]);
    let work = sealed["work"]["id"].as_i64().unwrap().to_string();

    let (url, requests) = fixtures::http::comfyui(sample.bytes.clone(), 2);
    let out = tmp.path().join("again.png");
    let r = json(
        &home,
        &["reproduce", &work, "--url", &url, "-o", &s(&out), "--recorded", &s(&generated), "--json"],
    );
    assert_eq!(r["api"], "comfyui");
    assert_eq!(r["pdq_distance"], 0, "{r}");
    let log = requests.lock().unwrap();
    let posted: Value = serde_json::from_slice(&log[0].body).unwrap();
    // The graph posted is the one recorded, node for node.
    let log_out = String::from_utf8(run(&home, &["log", "-p", "castle", "--json"]).stdout).unwrap();
    let generated: Value = log_out
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|e| e["event"]["kind"] == "generated")
        .unwrap();
    let recorded: Value =
        serde_json::from_str(generated["event"]["data"]["generations"][0]["raw"].as_str().unwrap()).unwrap();
    assert_eq!(posted["prompt"], recorded);
    assert!(posted["prompt"].as_object().unwrap().values().all(|n| n["class_type"].is_string()));
    let polls = log.iter().filter(|q| q.path.starts_with("/history/")).count();
    assert_eq!(polls, 3, "polled until done");
    assert!(log.iter().any(|q| q.path.starts_with("/view?") && q.path.contains("type=output")));
    drop(log);

    // Without the recorded file there is nothing to compare with after an edit: said so.
    let r = json(&home, &["reproduce", &work, "--url", &url, "-o", &s(&out), "--json"]);
    assert!(r["pdq_distance"].is_null(), "{r}");
}

/// The text of a PNG's `tEXt` chunk `key`, read here without handprint.
fn png_text(png: &[u8], key: &str) -> Option<String> {
    let mut pos = 8;
    while pos + 12 <= png.len() {
        let len = u32::from_be_bytes(png[pos..pos + 4].try_into().unwrap()) as usize;
        let data = png.get(pos + 8..pos + 8 + len)?;
        if &png[pos + 4..pos + 8] == b"tEXt"
            && let Some(rest) = data.strip_prefix(key.as_bytes()).and_then(|r| r.strip_prefix(b"\0"))
        {
            return Some(String::from_utf8(rest.to_vec()).unwrap());
        }
        pos += 12 + len;
    }
    None
}

#[test]
fn a_stability_matrix_generation_is_re_run_with_the_comfyui_graph_it_ran() {
    let tmp = tempfile::tempdir().unwrap();
    let (home, dir) = (tmp.path().join("home"), tmp.path().join("images"));
    std::fs::create_dir_all(&dir).unwrap();
    json(&home, &["init", "--name", "Ana Ruiz", "--json"]);
    json(&home, &["project", "new", "tower", "--json"]);
    // Written as Stability Matrix writes it: ComfyUI's PNG with `prompt`, then its own
    // `parameters`, `parameters-json` and `smproj` (crates/capture/tests/real/make.py).
    let bytes = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../capture/tests/real/files/stabilitymatrix-hires.png"),
    )
    .unwrap();
    let generated = dir.join("stabilitymatrix-hires.png");
    std::fs::write(&generated, &bytes).unwrap();
    json(&home, &["record", &s(&generated), "-p", "tower", "--json"]);
    let sealed = json(&home, &["seal", &s(&generated), "-p", "tower", "--title", "Tower", "--json"]);
    let work = sealed["work"]["id"].as_i64().unwrap().to_string();

    // The journal holds Stability Matrix's own record first, then the graph's.
    let log_out = String::from_utf8(run(&home, &["log", "-p", "tower", "--json"]).stdout).unwrap();
    let event: Value = log_out
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|e| e["event"]["kind"] == "generated")
        .unwrap();
    let generations = &event["event"]["data"]["generations"];
    assert_eq!(generations[0]["generator"], "stability-matrix", "{generations}");
    assert_eq!(generations[1]["generator"], "comfy-ui", "{generations}");

    // Without --api: ComfyUI, with the graph the file carries, node for node.
    let (url, requests) = fixtures::http::comfyui(bytes.clone(), 1);
    let out = tmp.path().join("again.png");
    let r = json(
        &home,
        &["reproduce", &work, "--url", &url, "-o", &s(&out), "--recorded", &s(&generated), "--json"],
    );
    assert_eq!(r["api"], "comfyui", "{r}");
    assert_eq!(r["pdq_distance"], 0, "{r}");
    assert_eq!(std::fs::read(&out).unwrap(), bytes);
    let log = requests.lock().unwrap();
    assert_eq!((log[0].method.as_str(), log[0].path.as_str()), ("POST", "/prompt"));
    let posted: Value = serde_json::from_slice(&log[0].body).unwrap();
    let in_file: Value = serde_json::from_str(&png_text(&bytes, "prompt").unwrap()).unwrap();
    assert_eq!(posted["prompt"], in_file);
    // Stability Matrix's own node names are in it: the graph it ran, not one rebuilt.
    assert_eq!(posted["prompt"]["Sampler"]["class_type"], "KSampler", "{}", posted["prompt"]);
    assert!(log.iter().all(|q| !q.path.starts_with("/sdapi")));
}
