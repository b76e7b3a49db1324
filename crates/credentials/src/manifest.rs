//! Writing the manifest of a sealed work.

use std::io::Cursor;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use c2pa::crypto::raw_signature::SigningAlg;
use c2pa::{Builder, CallbackSigner, Context, Settings};
use ed25519_dalek::{Signer as _, SigningKey};
use serde_json::{Value, json};

use crate::{CredentialsError, Format};

/// The soft-binding algorithm name of handprint's watermark (docs/watermark.md), in the
/// reverse-domain form C2PA asks of algorithms outside its list.
pub const WATERMARK_ALG: &str = "org.handprint.watermark.1";
/// The label of the assertion that links the manifest to the creator's journal.
pub const JOURNAL_LABEL: &str = "org.handprint.journal";

const IPTC: &str = "http://cv.iptc.org/newscodes/digitalsourcetype/";

/// Who signs: the creator's Ed25519 key and its certificate chain (end-entity first, PEM).
#[derive(Clone)]
pub struct Signer {
    pub key: SigningKey,
    pub certificates_pem: String,
}

/// How the image came to be, in IPTC's digital source type vocabulary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceType {
    /// Made by a generative model from a prompt, chosen by a person.
    TrainedAlgorithmicMedia,
    /// Generated, then edited or composited by a person.
    CompositeWithTrainedAlgorithmicMedia,
}

impl SourceType {
    /// The term in IPTC's vocabulary.
    pub fn term(self) -> &'static str {
        match self {
            SourceType::TrainedAlgorithmicMedia => "trainedAlgorithmicMedia",
            SourceType::CompositeWithTrainedAlgorithmicMedia => "compositeWithTrainedAlgorithmicMedia",
        }
    }

    pub fn iri(self) -> String {
        format!("{IPTC}{}", self.term())
    }
}

/// A manual edit from the journal, as a `c2pa.edited` action.
#[derive(Clone, Debug)]
pub struct Edit {
    /// RFC 3339.
    pub when: String,
    pub tool: String,
    pub description: Option<String>,
}

/// A source image from the journal (a generation the work derives from), as an ingredient.
#[derive(Clone, Debug)]
pub struct SourceImage {
    pub title: String,
    pub format: Option<Format>,
    pub sha256: String,
    /// What the journal says of it: the generator, the event.
    pub description: String,
}

/// Everything the manifest of a sealed work states.
#[derive(Clone, Debug)]
pub struct Seal {
    pub title: String,
    pub author: String,
    pub source_type: SourceType,
    /// The generator that made the source generation, if known (software agent of `created`).
    pub generator: Option<String>,
    pub edits: Vec<Edit>,
    pub sources: Vec<SourceImage>,
    /// The input file, when it carries a C2PA manifest store of its own (from a generator or
    /// another tool): it becomes an ingredient whose manifest is kept in the new store.
    pub original: Option<Vec<u8>>,
    /// The explicit AI label drawn into the pixels, if any (a `c2pa.edited` action says so).
    pub visible_label: Option<String>,
    /// The watermark payload embedded in the pixels (the registry's work ID).
    pub watermark: u64,
    /// The `org.handprint.journal` assertion: event hash, checkpoint, inclusion proof, summary.
    pub journal: Value,
}

fn context(signer: &Signer) -> Result<Arc<Context>, CredentialsError> {
    let settings = Settings::new().with_json(
        &json!({
            "builder": {
                "thumbnail": {"enabled": false},
                "claim_generator_info": {"name": "handprint", "version": env!("CARGO_PKG_VERSION")},
                "actions": {"auto_created_action": {"enabled": false}, "auto_opened_action": {"enabled": false},
                            "auto_placed_action": {"enabled": false}}
            },
            "verify": {"verify_after_sign": false}
        })
        .to_string(),
    )?;
    let key = signer.key.clone();
    let callback = move |_: *const (), data: &[u8]| Ok(key.sign(data).to_bytes().to_vec());
    let c2pa_signer =
        CallbackSigner::new(callback, SigningAlg::Ed25519, signer.certificates_pem.as_bytes().to_vec());
    Ok(Context::new().with_settings(settings)?.with_signer(c2pa_signer).into_shared())
}

/// The manifest definition and assertions of `seal`, before signing.
fn definition(seal: &Seal, format: Format) -> Value {
    let ingredients: Vec<Value> = seal
        .sources
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mut v = json!({
                "title": s.title,
                "instance_id": format!("sha256:{}", s.sha256),
                "relationship": "componentOf",
                "description": s.description,
                "label": format!("source-{i}"),
            });
            if let Some(f) = s.format {
                v["format"] = json!(f.mime());
            }
            v
        })
        .collect();
    json!({
        "title": seal.title,
        "format": format.mime(),
        "ingredients": ingredients,
    })
}

fn actions(seal: &Seal) -> Vec<Value> {
    let agent = |name: &str| json!({"name": name});
    let mut ingredient_ids: Vec<String> = (0..seal.sources.len()).map(|i| format!("source-{i}")).collect();
    if seal.original.is_some() {
        ingredient_ids.push("original".into());
    }
    let mut created = json!({
        "action": "c2pa.created",
        "digitalSourceType": seal.source_type.iri(),
        "parameters": {"ingredientIds": ingredient_ids},
    });
    if let Some(g) = &seal.generator {
        created["softwareAgent"] = agent(g);
    }
    let mut out = vec![created];
    for e in &seal.edits {
        let mut a = json!({"action": "c2pa.edited", "when": e.when, "softwareAgent": agent(&e.tool)});
        if let Some(d) = &e.description {
            a["description"] = json!(d);
        }
        out.push(a);
    }
    if let Some(text) = &seal.visible_label {
        out.push(json!({
            "action": "c2pa.edited",
            "softwareAgent": agent("handprint"),
            "description": format!("added the visible AI label {text:?} (GB 45438-2025) in the bottom-right corner"),
        }));
    }
    out.push(json!({
        "action": "c2pa.watermarked",
        "softwareAgent": agent("handprint"),
        "description": format!("invisible watermark {WATERMARK_ALG} carrying work {}", seal.watermark),
    }));
    out
}

/// `image` (in `format`) with a C2PA manifest for `seal`, signed by `signer`.
pub fn sign(image: &[u8], format: Format, seal: &Seal, signer: &Signer) -> Result<Vec<u8>, CredentialsError> {
    let context = context(signer)?;
    let mut builder =
        Builder::from_shared_context(&context).with_definition(definition(seal, format).to_string())?;
    if let Some(original) = &seal.original {
        let format = Format::sniff(original).ok_or(CredentialsError::Unsupported)?;
        builder.add_ingredient_from_stream(
            json!({"title": "the file sealed, as it came", "relationship": "componentOf", "label": "original"})
                .to_string(),
            format.mime(),
            &mut Cursor::new(original),
        )?;
    }
    for a in actions(seal) {
        builder.add_action(a)?;
    }
    builder.add_assertion_json(
        "stds.schema-org.CreativeWork",
        &json!({
            "@context": "https://schema.org",
            "@type": "CreativeWork",
            "name": seal.title,
            "author": [{"@type": "Person", "name": seal.author}],
        }),
    )?;
    builder.add_assertion(
        "c2pa.soft-binding",
        &json!({
            "alg": WATERMARK_ALG,
            "blocks": [{"scope": {}, "value": B64.encode(seal.watermark.to_be_bytes())}],
            "name": "handprint invisible watermark: the registry work ID, 64 bits",
        }),
    )?;
    builder.add_assertion_json(JOURNAL_LABEL, &seal.journal)?;
    let mut out = Cursor::new(Vec::new());
    builder.save_to_stream(format.mime(), &mut Cursor::new(image), &mut out)?;
    Ok(out.into_inner())
}
