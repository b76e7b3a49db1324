//! Trusted time in the signature, "is it AI-generated?" over the whole provenance chain, and
//! remote manifests: through the c2pa crate, on real encoded images.

use std::sync::{Arc, Mutex};

use credentials::{
    Format, Seal, Signer, SourceType, Status, Timestamper, read, read_remote, sign, sign_with,
};
use ed25519_dalek::SigningKey;
use fixtures::tsa::{KeyKind, Tsa};
use serde_json::{Value, json};

const IPTC: &str = "http://cv.iptc.org/newscodes/digitalsourcetype/";

fn signer(seed: u8, name: &str) -> (Signer, String) {
    let key = SigningKey::from_bytes(&[seed; 32]);
    let (root, ee) = credentials::certificates(&key, name).unwrap();
    (Signer { key, certificates_pem: format!("{ee}{root}") }, root)
}

fn seal(source_type: SourceType) -> Seal {
    Seal {
        title: "Spring breeze".into(),
        author: "Li Yun".into(),
        source_type,
        generator: None,
        edits: vec![],
        sources: vec![],
        original: None,
        visible_label: None,
        watermark: 7,
        journal: json!({"format": "test"}),
    }
}

fn picture() -> Vec<u8> {
    fixtures::images::kodak("kodim03").crop(0, 0, 256, 256).png()
}

/// Signs `image` as another program would (see `credentials::foreign`).
fn c2pa_sign(
    image: &[u8],
    definition: Value,
    actions: Value,
    parent: Option<&[u8]>,
    who: &Signer,
    remote: Option<&str>,
) -> (Vec<u8>, Vec<u8>) {
    credentials::foreign::sign_png(image, &definition, &actions, parent, who, remote).unwrap()
}

/// An image made by an AI generator, signed by it: `c2pa.created`, trainedAlgorithmicMedia.
fn generated(who: &Signer) -> Vec<u8> {
    c2pa_sign(
        &picture(),
        json!({"title": "dream.png", "claim_generator_info": [{"name": "Dream Machine", "version": "3.1"}]}),
        json!([{"action": "c2pa.created", "digitalSourceType": format!("{IPTC}trainedAlgorithmicMedia"),
                "softwareAgent": {"name": "Dream Machine"}}]),
        None,
        who,
        None,
    )
    .0
}

/// `parent` opened in an editor and edited by a person: no AI source type of its own.
fn edited(parent: &[u8], who: &Signer) -> Vec<u8> {
    c2pa_sign(
        parent,
        json!({"title": "dream-retouched.png", "claim_generator_info": [{"name": "Retouch Studio", "version": "9"}]}),
        json!([
            {"action": "c2pa.opened", "parameters": {"ingredientIds": ["parent"]}},
            {"action": "c2pa.edited", "softwareAgent": {"name": "Retouch Studio"}, "description": "cropped, colours"}
        ]),
        Some(parent),
        who,
        None,
    )
    .0
}

#[test]
fn an_ai_image_edited_later_is_still_reported_as_ai_naming_the_earlier_manifest() {
    let (machine, machine_root) = signer(11, "Dream Machine Inc");
    let (editor, editor_root) = signer(12, "Ana Ruiz");
    let ai = generated(&machine);
    let first = read(&ai, Format::Png, None).unwrap();
    assert_eq!(first.ai.len(), 1, "{:?}", first.ai);
    assert!(first.ai[0].active);

    let retouched = edited(&ai, &editor);
    let c = read(&retouched, Format::Png, Some(&format!("{machine_root}{editor_root}"))).unwrap();
    assert_eq!(c.status, Status::Trusted, "{:?}", c.failures);
    let active = c.active.as_ref().unwrap();
    let actions: Vec<&str> = active.actions.iter().filter_map(|a| a["action"].as_str()).collect();
    assert_eq!(actions, ["c2pa.opened", "c2pa.edited"]);
    assert!(active.actions.iter().all(|a| a["digitalSourceType"].is_null()), "the edit says nothing of AI");

    // The chain, first to last: the generator's manifest, then the editor's (active).
    assert_eq!(c.manifests, 2);
    let chain: Vec<(&str, bool)> =
        c.chain.iter().map(|l| (l.signer.as_deref().unwrap_or("?"), l.active)).collect();
    assert_eq!(chain, [("Dream Machine Inc", false), ("Ana Ruiz", true)]);
    assert_eq!(c.chain[0].claim_generator.as_deref(), Some("Dream Machine 3.1"));
    assert_eq!(c.chain[0].label, first.active.as_ref().unwrap().label, "the generator's own manifest");

    // AI generation is named from the earlier manifest, with its signer and why.
    assert_eq!(c.ai.len(), 1, "{:?}", c.ai);
    let claim = &c.ai[0];
    assert_eq!(claim.manifest, c.chain[0].label);
    assert_eq!(claim.signer.as_deref(), Some("Dream Machine Inc"));
    assert!(!claim.active);
    assert!(claim.reason.contains("trainedAlgorithmicMedia"), "{}", claim.reason);

    // Sealed on top by handprint (the file's store kept as an ingredient's): three links.
    let (creator, _) = signer(13, "Li Yun");
    let sealed_bytes = sign(
        &retouched,
        Format::Png,
        &Seal { original: Some(retouched.clone()), ..seal(SourceType::CompositeWithTrainedAlgorithmicMedia) },
        &creator,
    )
    .unwrap();
    let c = read(&sealed_bytes, Format::Png, None).unwrap();
    let signers: Vec<&str> = c.chain.iter().map(|l| l.signer.as_deref().unwrap_or("?")).collect();
    assert_eq!(signers, ["Dream Machine Inc", "Ana Ruiz", "Li Yun"]);
    let who: Vec<(&str, bool)> =
        c.ai.iter().map(|a| (a.signer.as_deref().unwrap_or("?"), a.active)).collect();
    assert_eq!(who, [("Dream Machine Inc", false), ("Li Yun", true)]);
}

#[test]
fn a_known_ai_generator_counts_without_a_source_type_and_a_plain_edit_chain_says_nothing() {
    let (firefly, _) = signer(21, "Adobe Inc");
    let (editor, _) = signer(22, "Ana Ruiz");
    let made = c2pa_sign(
        &picture(),
        json!({"title": "f.png", "claim_generator_info": [{"name": "Adobe_Firefly", "version": "0.1"}]}),
        json!([{"action": "c2pa.created", "digitalSourceType": format!("{IPTC}digitalCreation")}]),
        None,
        &firefly,
        None,
    )
    .0;
    let c = read(&edited(&made, &editor), Format::Png, None).unwrap();
    assert_eq!(c.ai.len(), 1, "{:?}", c.ai);
    assert!(c.ai[0].reason.contains("Adobe_Firefly"), "{}", c.ai[0].reason);

    // A photograph edited: a chain of two, and no AI claim anywhere.
    let photo = c2pa_sign(
        &picture(),
        json!({"title": "p.png", "claim_generator_info": [{"name": "Camera", "version": "1"}]}),
        json!([{"action": "c2pa.created", "digitalSourceType": format!("{IPTC}digitalCapture")}]),
        None,
        &editor,
        None,
    )
    .0;
    let c = read(&edited(&photo, &editor), Format::Png, None).unwrap();
    assert_eq!(c.chain.len(), 2);
    assert!(c.ai.is_empty(), "{:?}", c.ai);
}

#[test]
fn a_timestamp_from_the_authority_goes_into_the_signature_and_is_read_back() {
    let tmp = tempfile::tempdir().unwrap();
    let tsa = Arc::new(Tsa::new(&tmp.path().join("tsa"), KeyKind::Rsa));
    let asked = Arc::new(Mutex::new(0));
    let (t, n) = (tsa.clone(), asked.clone());
    let stamper = Timestamper {
        url: "http://tsa.test/".into(),
        send: Arc::new(move |m: &[u8]| {
            *n.lock().unwrap() += 1;
            Ok(t.reply(&c2pa::crypto::time_stamp::default_rfc3161_message(m).unwrap()))
        }),
    };
    let (creator, root) = signer(31, "Li Yun");
    let before = chrono::Utc::now() - chrono::Duration::seconds(2);
    let stamped =
        sign_with(&picture(), Format::Png, &seal(SourceType::DigitalCapture), &creator, Some(&stamper))
            .unwrap();
    assert_eq!(*asked.lock().unwrap(), 1, "one request to the authority");
    let tsa_root = std::fs::read_to_string(&tsa.root_pem).unwrap();

    let c = read(&stamped, Format::Png, Some(&format!("{root}{tsa_root}"))).unwrap();
    assert_eq!(c.status, Status::Trusted, "{:?}", c.failures);
    let m = c.active.unwrap();
    assert_eq!(m.timestamp.as_deref(), Some("trusted"), "{:?}", c.informational);
    let time = chrono::DateTime::parse_from_rfc3339(m.signed_at.as_deref().unwrap()).unwrap();
    assert!(time >= before && time <= chrono::Utc::now() + chrono::Duration::seconds(2), "{time}");

    // The authority not on the verifier's list: still intact, the timestamp said untrusted.
    let c = read(&stamped, Format::Png, Some(&root)).unwrap();
    assert_eq!(c.status, Status::Trusted, "{:?}", c.failures);
    assert_eq!(c.active.unwrap().timestamp.as_deref(), Some("untrusted"));

    // Without an authority there is no timestamp.
    let plain = sign(&picture(), Format::Png, &seal(SourceType::DigitalCapture), &creator).unwrap();
    let c = read(&plain, Format::Png, Some(&root)).unwrap();
    assert_eq!(c.active.unwrap().timestamp, None);

    // An authority that fails makes signing fail, saying which and why.
    let down =
        Timestamper { url: "http://down.test/".into(), send: Arc::new(|_: &[u8]| Err("refused".into())) };
    let err = sign_with(&picture(), Format::Png, &seal(SourceType::DigitalCapture), &creator, Some(&down))
        .unwrap_err()
        .to_string();
    assert!(err.contains("http://down.test/") && err.contains("refused"), "{err}");
}

#[test]
fn a_remote_manifest_is_its_own_verdict_until_fetched_then_validated_against_the_image() {
    let (machine, root) = signer(41, "Dream Machine Inc");
    let url = "http://example.test/manifests/dream.c2pa";
    let (image, store) = c2pa_sign(
        &picture(),
        json!({"title": "dream.png", "claim_generator_info": [{"name": "Dream Machine", "version": "3.1"}]}),
        json!([{"action": "c2pa.created", "digitalSourceType": format!("{IPTC}trainedAlgorithmicMedia")}]),
        None,
        &machine,
        Some(url),
    );
    assert!(!image.windows(4).any(|w| w == b"jumb"), "nothing embedded");
    let c = read(&image, Format::Png, Some(&root)).unwrap();
    assert_eq!(c.status, Status::Remote);
    let remote = c.remote.unwrap();
    assert_eq!((remote.url.as_str(), remote.fetched), (url, false));
    assert!(c.active.is_none() && c.failures.is_empty());

    let c = read_remote(&image, Format::Png, url, &store, Some(&root)).unwrap();
    assert_eq!(c.status, Status::Trusted, "{:?}", c.failures);
    assert!(c.remote.as_ref().is_some_and(|r| r.fetched));
    assert_eq!(c.ai.len(), 1);

    // The store served for another image: its hard binding fails.
    let other = fixtures::images::kodak("kodim04").crop(0, 0, 256, 256).png();
    let c = read_remote(&other, Format::Png, url, &store, Some(&root)).unwrap();
    assert_eq!(c.status, Status::Tampered, "{:?}", c.failures);
    // Bytes that are not a manifest store: invalid, not an error.
    let c = read_remote(&image, Format::Png, url, b"<html>not found</html>", Some(&root)).unwrap();
    assert_eq!(c.status, Status::Invalid, "{:?}", c.failures);
}

#[test]
fn every_iptc_term_is_known_and_nothing_else() {
    assert_eq!(SourceType::terms().count(), 20);
    for term in SourceType::terms() {
        let t = SourceType::parse(term).unwrap();
        assert_eq!(t.term(), term);
        assert_eq!(SourceType::parse(&t.iri()), Some(t));
    }
    assert_eq!(SourceType::parse("photo"), None);
    assert_eq!(SourceType::parse("DigitalCapture"), None, "terms are case-sensitive");
    let ai: Vec<&str> =
        SourceType::terms().filter(|t| SourceType::parse(t).unwrap().is_generative_ai()).collect();
    assert_eq!(ai, ["trainedAlgorithmicMedia", "compositeWithTrainedAlgorithmicMedia"]);
}
