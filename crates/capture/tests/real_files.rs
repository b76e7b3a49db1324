//! Files written the way the real programs write them (tests/real/make.py: the programs' own
//! saving calls through Pillow and piexif) read back to the settings the programs were given.

use std::path::Path;

use capture::inspect_bytes;
use serde_json::Value;

/// The fields compared, as `inspect --json` names them.
const FIELDS: [&str; 10] = [
    "prompt",
    "negative_prompt",
    "seed",
    "steps",
    "cfg_scale",
    "sampler",
    "scheduler",
    "width",
    "height",
    "model",
];

fn same(expected: &Value, got: &Value) -> bool {
    match (expected, got) {
        (Value::Number(a), Value::Number(b)) => (a.as_f64().unwrap() - b.as_f64().unwrap()).abs() < 1e-9,
        (a, b) => a == b,
    }
}

#[test]
fn every_real_layout_is_read_in_full() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/real");
    let expected: serde_json::Map<String, Value> =
        serde_json::from_slice(&std::fs::read(dir.join("expected.json")).unwrap()).unwrap();
    let (mut read, mut total, mut wrong) = (0, 0, Vec::new());
    for (file, e) in &expected {
        let bytes = std::fs::read(dir.join("files").join(file)).unwrap();
        let inspection = match inspect_bytes(&bytes) {
            Ok(i) => i,
            Err(err) => {
                wrong.push(format!("{file}: {err}"));
                continue;
            }
        };
        let json = serde_json::to_value(&inspection).unwrap();
        let index = e["record"].as_u64().unwrap_or(0) as usize;
        let Some(g) = json["generations"].get(index) else {
            wrong.push(format!("{file}: no record {index} (warnings {})", json["warnings"]));
            total += e["fields"].as_object().map_or(0, |f| f.len());
            continue;
        };
        if let Some(generator) = e["generator"].as_str()
            && g["generator"] != generator
        {
            wrong.push(format!("{file}: generator {} (expected {generator})", g["generator"]));
        }
        for (field, want) in e["fields"].as_object().unwrap() {
            assert!(FIELDS.contains(&field.as_str()), "{file}: unknown field {field} in expected.json");
            total += 1;
            let got = if field == "model" { &g["model"]["name"] } else { &g[field.as_str()] };
            if same(want, got) {
                read += 1;
            } else {
                wrong.push(format!("{file}: {field} is {got}, expected {want}"));
            }
        }
        if let Some(records) = e["records"].as_u64() {
            let n = json["generations"].as_array().map_or(0, Vec::len) as u64;
            if n != records {
                wrong.push(format!("{file}: {n} records, expected {records}"));
            }
        }
    }
    eprintln!("{read} of {total} fields read in {} files", expected.len());
    assert!(wrong.is_empty(), "{} problems:\n{}", wrong.len(), wrong.join("\n"));
}
