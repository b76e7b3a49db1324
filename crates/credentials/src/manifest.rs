//! Writing the manifest of a sealed work.

use std::io::Cursor;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use c2pa::crypto::raw_signature::SigningAlg;
use c2pa::{Builder, Context, Settings};
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

/// How the image came to be: a term of IPTC's digital source type vocabulary
/// (<http://cv.iptc.org/newscodes/digitalsourcetype/>, the scheme released 2024-10-23).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceType {
    DigitalCapture,
    ComputationalCapture,
    NegativeFilm,
    PositiveFilm,
    Print,
    MinorHumanEdits,
    HumanEdits,
    AlgorithmicallyEnhanced,
    SoftwareImage,
    DigitalArt,
    DigitalCreation,
    DataDrivenMedia,
    /// Made by a generative model from a prompt, chosen by a person.
    TrainedAlgorithmicMedia,
    AlgorithmicMedia,
    ScreenCapture,
    VirtualRecording,
    Composite,
    CompositeCapture,
    CompositeSynthetic,
    /// Generated, then edited, composited or combined with imported material by a person.
    CompositeWithTrainedAlgorithmicMedia,
}

/// Every term of the vocabulary, in the scheme's order.
const TERMS: [(SourceType, &str); 20] = [
    (SourceType::DigitalCapture, "digitalCapture"),
    (SourceType::ComputationalCapture, "computationalCapture"),
    (SourceType::NegativeFilm, "negativeFilm"),
    (SourceType::PositiveFilm, "positiveFilm"),
    (SourceType::Print, "print"),
    (SourceType::MinorHumanEdits, "minorHumanEdits"),
    (SourceType::HumanEdits, "humanEdits"),
    (SourceType::AlgorithmicallyEnhanced, "algorithmicallyEnhanced"),
    (SourceType::SoftwareImage, "softwareImage"),
    (SourceType::DigitalArt, "digitalArt"),
    (SourceType::DigitalCreation, "digitalCreation"),
    (SourceType::DataDrivenMedia, "dataDrivenMedia"),
    (SourceType::TrainedAlgorithmicMedia, "trainedAlgorithmicMedia"),
    (SourceType::AlgorithmicMedia, "algorithmicMedia"),
    (SourceType::ScreenCapture, "screenCapture"),
    (SourceType::VirtualRecording, "virtualRecording"),
    (SourceType::Composite, "composite"),
    (SourceType::CompositeCapture, "compositeCapture"),
    (SourceType::CompositeSynthetic, "compositeSynthetic"),
    (SourceType::CompositeWithTrainedAlgorithmicMedia, "compositeWithTrainedAlgorithmicMedia"),
];

impl SourceType {
    /// The term in IPTC's vocabulary.
    pub fn term(self) -> &'static str {
        TERMS.iter().find(|(t, _)| *t == self).map_or("", |(_, name)| name)
    }

    pub fn iri(self) -> String {
        format!("{IPTC}{}", self.term())
    }

    /// A term (`digitalCapture`) or its IRI; `None` for anything outside the vocabulary.
    pub fn parse(text: &str) -> Option<SourceType> {
        let term = text.strip_prefix(IPTC).unwrap_or(text);
        TERMS.iter().find(|(_, name)| *name == term).map(|(t, _)| *t)
    }

    /// Every term, in the scheme's order.
    pub fn terms() -> impl Iterator<Item = &'static str> {
        TERMS.iter().map(|(_, name)| *name)
    }

    /// Made with a generative model trained on sampled content, in whole or in part: the
    /// content China's AIGC label and AI disclosure rules are about.
    pub fn is_generative_ai(self) -> bool {
        matches!(self, SourceType::TrainedAlgorithmicMedia | SourceType::CompositeWithTrainedAlgorithmicMedia)
    }
}

/// An RFC 3161 time-stamping authority for the manifest's signature.
#[derive(Clone)]
pub struct Timestamper {
    /// Where the authority is (what the manifest's signer reports as its time authority).
    pub url: String,
    /// Sends a DER `TimeStampReq` over the SHA-256 of `message` to the authority and returns its
    /// DER `TimeStampResp`, checked to answer the request; an error says why not. The caller
    /// owns the transport (HTTP, limits, trust), this crate none.
    #[allow(clippy::type_complexity)]
    pub send: Arc<dyn Fn(&[u8]) -> Result<Vec<u8>, String> + Send + Sync>,
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
    /// The watermark payload embedded in the pixels (the work's watermark ID).
    pub watermark: u64,
    /// The `org.handprint.journal` assertion: event hash, checkpoint, inclusion proof, summary.
    pub journal: Value,
}

/// The signer handed to the c2pa crate: the creator's Ed25519 key and chain, and the
/// time-stamping authority, if any, whose token goes into the signature (`sigTst2`).
struct C2paSigner {
    key: SigningKey,
    certificates: Vec<Vec<u8>>,
    timestamper: Option<Timestamper>,
}

impl c2pa::Signer for C2paSigner {
    fn sign(&self, data: &[u8]) -> c2pa::Result<Vec<u8>> {
        Ok(self.key.sign(data).to_bytes().to_vec())
    }

    fn alg(&self) -> SigningAlg {
        SigningAlg::Ed25519
    }

    fn certs(&self) -> c2pa::Result<Vec<Vec<u8>>> {
        Ok(self.certificates.clone())
    }

    fn reserve_size(&self) -> usize {
        let chain: usize = self.certificates.iter().map(Vec::len).sum();
        // A TSA's token carries its own certificates: room for a chain of several.
        10_000 + chain + if self.timestamper.is_some() { 32_768 } else { 0 }
    }

    fn time_authority_url(&self) -> Option<String> {
        self.timestamper.as_ref().map(|t| t.url.clone())
    }

    fn send_timestamp_request(&self, message: &[u8]) -> Option<c2pa::Result<Vec<u8>>> {
        let t = self.timestamper.as_ref()?;
        Some((t.send)(message).map_err(|e| {
            c2pa::Error::OtherError(format!("the time-stamping authority {}: {e}", t.url).into())
        }))
    }
}

fn context(signer: &Signer, timestamper: Option<&Timestamper>) -> Result<Arc<Context>, CredentialsError> {
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
    let certificates = crate::certificates::pem_certificates(&signer.certificates_pem);
    if certificates.is_empty() {
        return Err(CredentialsError::Signer("no PEM certificate in the signer's chain".into()));
    }
    let c2pa_signer = C2paSigner { key: signer.key.clone(), certificates, timestamper: timestamper.cloned() };
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
        "description": format!("invisible watermark {WATERMARK_ALG} carrying ID {:016x}", seal.watermark),
    }));
    out
}

/// `image` (in `format`) with a C2PA manifest for `seal`, signed by `signer`.
pub fn sign(image: &[u8], format: Format, seal: &Seal, signer: &Signer) -> Result<Vec<u8>, CredentialsError> {
    sign_with(image, format, seal, signer, None)
}

/// [`sign`], with an RFC 3161 timestamp from `timestamper` over the signature when given: the
/// trusted time at which the manifest was signed, which keeps it valid once the signing
/// certificate has expired.
pub fn sign_with(
    image: &[u8],
    format: Format,
    seal: &Seal,
    signer: &Signer,
    timestamper: Option<&Timestamper>,
) -> Result<Vec<u8>, CredentialsError> {
    let context = context(signer, timestamper)?;
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
            "name": "handprint invisible watermark: the work's 64-bit watermark ID",
        }),
    )?;
    builder.add_assertion_json(JOURNAL_LABEL, &seal.journal)?;
    let mut out = Cursor::new(Vec::new());
    builder.save_to_stream(format.mime(), &mut Cursor::new(image), &mut out)?;
    Ok(out.into_inner())
}
