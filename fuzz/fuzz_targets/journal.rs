#![no_main]
//! The `org.handprint.journal` assertion of a sealed image, as `verify IMAGE` checks it: any
//! JSON, against a carrier whose manifest signer and watermark the input also chooses.
use credentials::{Credentials, ManifestSummary, Status};
use registry::verify_image::{Carrier, journal_proof};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(assertion) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    let author = assertion["event"]["event"]["author"].as_str().map(str::to_owned);
    let c2pa = Credentials {
        status: if data.len() % 2 == 0 { Status::UntrustedSigner } else { Status::Tampered },
        failures: vec![],
        informational: vec![],
        active: Some(ManifestSummary { signer_key: author, ..Default::default() }),
        manifests: 1,
        unreadable: None,
    };
    let payload = assertion["event"]["event"]["data"]["watermark"]["payload"].as_str().map(str::to_owned);
    let carrier = Carrier {
        c2pa: &c2pa,
        image_data: registry::binding::image_data_sha256(data).ok(),
        watermark: payload.as_deref(),
    };
    let proof = journal_proof(&assertion, &carrier);
    // Without a valid signature by the key it names, nothing verifies.
    assert!(!proof.verified || proof.problems.is_empty());
});
