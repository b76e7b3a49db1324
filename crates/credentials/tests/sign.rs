//! Signing and reading manifests through the c2pa crate, on real encoded images.

use credentials::{Edit, Format, Seal, Signer, SourceImage, SourceType, Status, read, sign};
use ed25519_dalek::SigningKey;
use fixtures::images::Picture;
use serde_json::json;

fn signer() -> (Signer, String) {
    let key = SigningKey::from_bytes(&[7u8; 32]);
    let (root, ee) = credentials::certificates(&key, "Li Yun").unwrap();
    (Signer { key, certificates_pem: format!("{ee}{root}") }, root)
}

fn seal() -> Seal {
    Seal {
        title: "Spring breeze".into(),
        author: "Li Yun".into(),
        source_type: SourceType::CompositeWithTrainedAlgorithmicMedia,
        generator: Some("AUTOMATIC1111".into()),
        edits: vec![Edit {
            when: "2026-11-20T10:00:00Z".into(),
            tool: "GIMP".into(),
            description: Some("inpainted the left hand".into()),
        }],
        sources: vec![SourceImage {
            title: "00042-1234.png".into(),
            format: Some(Format::Png),
            sha256: "ab".repeat(32),
            description: "generation, journal event 3".into(),
        }],
        original: None,
        visible_label: None,
        watermark: 0x2a,
        journal: json!({"format": "handprint.seal/1", "event": "cd".repeat(32)}),
    }
}

fn picture() -> Picture {
    fixtures::images::kodak("kodim03").crop(0, 0, 320, 256)
}

#[test]
fn a_signed_jpeg_and_png_validate_against_the_creators_root() {
    let (signer, root) = signer();
    for (format, bytes) in [(Format::Jpeg, picture().jpeg(90)), (Format::Png, picture().png())] {
        let signed = sign(&bytes, format, &seal(), &signer).unwrap();
        let trusted = read(&signed, format, Some(&root)).unwrap();
        assert_eq!(trusted.status, Status::Trusted, "{format:?}: {:?}", trusted.failures);
        let m = trusted.active.unwrap();
        assert_eq!(m.title.as_deref(), Some("Spring breeze"));
        assert_eq!(m.signer.as_deref(), Some("Li Yun"));
        assert_eq!(m.authors, ["Li Yun"]);
        let names: Vec<&str> = m.actions.iter().filter_map(|a| a["action"].as_str()).collect();
        assert_eq!(names, ["c2pa.created", "c2pa.edited", "c2pa.watermarked"]);
        assert_eq!(
            m.actions[0]["digitalSourceType"],
            "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia"
        );
        assert_eq!(m.ingredients.len(), 1);
        assert_eq!(m.ingredients[0]["instance_id"], format!("sha256:{}", "ab".repeat(32)));
        assert_eq!(m.soft_bindings[0]["alg"], credentials::WATERMARK_ALG);
        assert_eq!(m.journal.unwrap()["event"], "cd".repeat(32));

        // Without the root, the signature holds but the signer is unknown.
        let unknown = read(&signed, format, None).unwrap();
        assert_eq!(unknown.status, Status::UntrustedSigner, "{:?}", unknown.failures);
    }
}

#[test]
fn a_changed_pixel_is_tampering_and_a_plain_image_has_none() {
    let (signer, root) = signer();
    let signed = sign(&picture().png(), Format::Png, &seal(), &signer).unwrap();
    // The last IDAT byte before the CRC and IEND: the pixels change, the manifest does not.
    let mut changed = signed.clone();
    let idat = changed.windows(4).rposition(|w| w == b"IDAT").unwrap();
    let len = u32::from_be_bytes(changed[idat - 4..idat].try_into().unwrap()) as usize;
    changed[idat + 4 + len / 2] ^= 0x55;
    let v = read(&changed, Format::Png, Some(&root)).unwrap();
    assert_eq!(v.status, Status::Tampered, "{:?}", v.failures);
    assert!(v.failures.iter().any(|c| c.contains("dataHash.mismatch")), "{:?}", v.failures);

    assert_eq!(read(&picture().png(), Format::Png, Some(&root)).unwrap().status, Status::None);
}

#[test]
fn a_manifest_signed_by_someone_else_is_not_trusted_by_my_root() {
    let (mine, my_root) = signer();
    let other_key = SigningKey::from_bytes(&[9u8; 32]);
    let (other_root, other_ee) = credentials::certificates(&other_key, "Someone Else").unwrap();
    let other = Signer { key: other_key, certificates_pem: format!("{other_ee}{other_root}") };
    let signed = sign(&picture().jpeg(90), Format::Jpeg, &seal(), &other).unwrap();
    let v = read(&signed, Format::Jpeg, Some(&my_root)).unwrap();
    assert_eq!(v.status, Status::UntrustedSigner, "{:?}", v.failures);
    assert_eq!(v.active.unwrap().signer.as_deref(), Some("Someone Else"));
    drop(mine);
}

#[test]
fn a_damaged_container_is_invalid_only_when_it_holds_credentials() {
    let (signer, root) = signer();
    // A PNG without its last 4 bytes (the IEND CRC), and a WebP whose RIFF size is a lie:
    // the C2PA reader cannot parse either, but neither holds a manifest store.
    let png = picture().png();
    let cut = &png[..png.len() - 4];
    let mut webp = fixtures::containers::webp(320, 256, &[]);
    webp[4..8].copy_from_slice(&0xFFFF_FF00u32.to_le_bytes());
    for (format, bytes) in [(Format::Png, cut), (Format::WebP, &webp[..])] {
        let v = read(bytes, format, Some(&root)).unwrap();
        assert_eq!(v.status, Status::None, "{format:?}: {:?}", v.failures);
        assert!(v.failures.is_empty(), "{format:?}: {:?}", v.failures);
        let note = v.unreadable.unwrap_or_else(|| panic!("{format:?}: the damage is named"));
        assert!(note.contains("holds no manifest store"), "{note}");
    }
    // The same damage to a file that does hold credentials is a finding on them.
    let signed = sign(&png, Format::Png, &seal(), &signer).unwrap();
    let v = read(&signed[..signed.len() - 4], Format::Png, Some(&root)).unwrap();
    assert_eq!(v.status, Status::Invalid, "{:?}", v.failures);
    assert!(v.failures.iter().any(|f| f.starts_with("manifest store unreadable")), "{:?}", v.failures);
    assert_eq!(v.unreadable, None);
}
