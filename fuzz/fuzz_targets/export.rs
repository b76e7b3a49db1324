#![no_main]
//! `verify --export` on a folder built from the input: the input is cut at each line
//! `====` into manifest.json, events.jsonl, proofs.jsonl, consistency.jsonl, two checkpoint
//! notes, the identity files and a timestamp token, in that order (missing parts are
//! missing files). Whatever the folder holds, the check returns; nothing verifies without
//! a signed statement and a certificate pair that check out.
use std::path::PathBuf;
use std::sync::OnceLock;

const FILES: [&str; 11] = [
    "manifest.json",
    "events.jsonl",
    "proofs.jsonl",
    "consistency.jsonl",
    "checkpoints/1.note",
    "checkpoints/2.note",
    "identity/identity.json",
    "identity/public-key.pem",
    "identity/certificate.pem",
    "identity/root.pem",
    "timestamps/1.tsr",
];

fn folder() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| std::env::temp_dir().join(format!("handprint-fuzz-export-{}", std::process::id())))
}

fn parts(data: &[u8]) -> Vec<&[u8]> {
    const CUT: &[u8] = b"\n====\n";
    let mut out = Vec::new();
    let mut rest = data;
    while let Some(at) = rest.windows(CUT.len()).position(|w| w == CUT) {
        out.push(&rest[..at]);
        rest = &rest[at + CUT.len()..];
    }
    out.push(rest);
    out
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let dir = folder();
    let _ = std::fs::remove_dir_all(dir);
    for sub in ["checkpoints", "identity", "timestamps"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    for (name, bytes) in FILES.iter().zip(parts(data)) {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
    // Only a manifest of an unknown format is refused outright.
    let Ok(v) = registry::export::verify_export(dir) else { return };
    assert!(!v.ok() || (v.signed && v.certificate), "verified without a signature: {v:?}");
    assert!(v.findings.len() <= registry::export::MAX_FINDINGS + 1);
});
