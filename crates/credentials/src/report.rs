//! Reading and validating the manifest store of an image.

use std::io::Cursor;

use c2pa::validation_results::ValidationState;
use c2pa::{Context, Reader, Settings};
use serde::Serialize;
use serde_json::{Value, json};

use crate::manifest::JOURNAL_LABEL;
use crate::{CredentialsError, Format};

/// The verdict on an image's manifest store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// No manifest store.
    None,
    /// Intact, and signed by a certificate that chains to a trusted root.
    Trusted,
    /// Intact, but the signer's certificate chains to no root given as trusted.
    UntrustedSigner,
    /// The image or the manifest changed after signing (a hash or signature mismatch).
    Tampered,
    /// Present but not valid for another reason (malformed, expired, unsupported).
    Invalid,
}

/// The parts of a manifest a person reads first.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ManifestSummary {
    pub label: String,
    pub title: Option<String>,
    pub claim_generator: Option<String>,
    pub signer: Option<String>,
    /// The signing certificate's Ed25519 key, base64 as in journal events (`None` for other
    /// algorithms): what binds a journal assertion to this manifest's signer.
    pub signer_key: Option<String>,
    pub issuer: Option<String>,
    pub signed_at: Option<String>,
    /// Every action: `action`, `digitalSourceType`, `softwareAgent`, `when`, `description`.
    pub actions: Vec<Value>,
    /// Every ingredient: `title`, `relationship`, `instance_id`, `format`.
    pub ingredients: Vec<Value>,
    pub authors: Vec<String>,
    /// The soft bindings (watermarks) it names: `alg` and `value`.
    pub soft_bindings: Vec<Value>,
    /// The `org.handprint.journal` assertion, when present.
    pub journal: Option<Value>,
    /// Every assertion's label.
    pub assertions: Vec<String>,
}

/// What an image's manifest store says, and whether it holds.
#[derive(Clone, Debug, Serialize)]
pub struct Credentials {
    pub status: Status,
    /// The validator's codes (C2PA's `validation_status` codes), failures first.
    pub failures: Vec<String>,
    pub informational: Vec<String>,
    pub active: Option<ManifestSummary>,
    /// How many manifests the store holds (earlier ones come from ingredients).
    pub manifests: usize,
    /// Why the C2PA reader could not parse a file that holds no manifest store (a damaged
    /// container): not a finding on credentials, since there are none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unreadable: Option<String>,
}

impl Credentials {
    fn none() -> Credentials {
        Credentials {
            status: Status::None,
            failures: vec![],
            informational: vec![],
            active: None,
            manifests: 0,
            unreadable: None,
        }
    }
}

/// Whether `image` holds a C2PA manifest store: capture's walk of the container finds one, or
/// (in a container too damaged to walk) its JUMBF superbox and `c2pa` label are in the bytes.
fn store_present(image: &[u8]) -> bool {
    let has = |needle: &[u8]| image.windows(needle.len()).any(|w| w == needle);
    capture::inspect_bytes(image).is_ok_and(|i| i.c2pa.is_some()) || (has(b"jumb") && has(b"c2pa"))
}

/// Reads and validates the manifest store embedded in `image`. `trust_anchors` are PEM root
/// certificates whose signers count as trusted (the creator's own root, a platform's list).
pub fn read(
    image: &[u8],
    format: Format,
    trust_anchors: Option<&str>,
) -> Result<Credentials, CredentialsError> {
    let mut settings = json!({"verify": {"verify_after_reading": true, "ocsp_fetch": false, "remote_manifest_fetch": false}});
    if let Some(pem) = trust_anchors {
        settings["trust"] = json!({"user_anchors": pem});
    }
    let context =
        Context::new().with_settings(Settings::new().with_json(&settings.to_string())?)?.into_shared();
    let reader = match Reader::from_shared_context(&context).with_stream(format.mime(), Cursor::new(image)) {
        Ok(r) => r,
        Err(c2pa::Error::JumbfNotFound | c2pa::Error::ProvenanceMissing) => return Ok(Credentials::none()),
        // A damaged container with no manifest store in it makes no claim that could fail.
        Err(e) if !store_present(image) => {
            return Ok(Credentials {
                unreadable: Some(format!("the container is damaged ({e}); it holds no manifest store")),
                ..Credentials::none()
            });
        }
        Err(e) => {
            // A store too damaged to load is still a finding, not an error of the reader.
            return Ok(Credentials {
                status: Status::Invalid,
                failures: vec![format!("manifest store unreadable: {e}")],
                ..Credentials::none()
            });
        }
    };
    let (mut failures, mut informational) = (Vec::new(), Vec::new());
    if let Some(results) = reader.validation_results()
        && let Some(active) = results.active_manifest()
    {
        failures.extend(active.failure().iter().map(|s| s.code().to_owned()));
        informational.extend(active.informational().iter().map(|s| s.code().to_owned()));
    }
    let status = match reader.validation_state() {
        ValidationState::Trusted => Status::Trusted,
        _ if failures.iter().any(|c| c.contains("mismatch") || c.contains("missing")) => Status::Tampered,
        ValidationState::Valid => Status::UntrustedSigner,
        _ if failures.iter().all(|c| c.starts_with("signingCredential.untrusted")) => Status::UntrustedSigner,
        _ => Status::Invalid,
    };
    let store: Value = serde_json::from_str(&reader.json()).unwrap_or(Value::Null);
    let signer_key = reader
        .active_manifest()
        .and_then(|m| m.signature_info())
        .and_then(|s| crate::certificates::ed25519_key_of(s.cert_chain()))
        .map(|k| base64::Engine::encode(&base64::engine::general_purpose::STANDARD, k.as_bytes()));
    let active = reader
        .active_label()
        .map(|label| ManifestSummary { signer_key, ..summary(label, &store["manifests"][label]) });
    Ok(Credentials {
        status,
        failures,
        informational,
        active,
        manifests: reader.manifests().len(),
        unreadable: None,
    })
}

fn strings(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn summary(label: &str, m: &Value) -> ManifestSummary {
    let mut s = ManifestSummary {
        label: label.to_owned(),
        title: strings(m, "title"),
        claim_generator: m["claim_generator_info"]
            .as_array()
            .and_then(|a| a.first())
            .map(|g| {
                let name = g["name"].as_str().unwrap_or("?");
                match g["version"].as_str() {
                    Some(v) => format!("{name} {v}"),
                    None => name.to_owned(),
                }
            })
            .or_else(|| strings(m, "claim_generator")),
        signer: strings(&m["signature_info"], "common_name"),
        issuer: strings(&m["signature_info"], "issuer"),
        signed_at: strings(&m["signature_info"], "time"),
        ..Default::default()
    };
    for i in m["ingredients"].as_array().into_iter().flatten() {
        let keep = ["title", "relationship", "instance_id", "format", "description"];
        let picked: serde_json::Map<String, Value> =
            keep.iter().filter_map(|k| i.get(*k).map(|v| ((*k).to_owned(), v.clone()))).collect();
        s.ingredients.push(Value::Object(picked));
    }
    for a in m["assertions"].as_array().into_iter().flatten() {
        let label = a["label"].as_str().unwrap_or_default();
        s.assertions.push(label.to_owned());
        let data = &a["data"];
        match label.split("__").next().unwrap_or(label) {
            "c2pa.actions" | "c2pa.actions.v2" => {
                s.actions.extend(data["actions"].as_array().into_iter().flatten().cloned())
            }
            "stds.schema-org.CreativeWork" => {
                for author in data["author"].as_array().into_iter().flatten() {
                    if let Some(n) = author["name"].as_str() {
                        s.authors.push(n.to_owned());
                    }
                }
            }
            "c2pa.soft-binding" => s.soft_bindings.push(json!({
                "alg": data["alg"],
                "value": data["blocks"].as_array().and_then(|b| b.first()).map(|b| b["value"].clone()),
            })),
            JOURNAL_LABEL => s.journal = Some(data.clone()),
            _ => {}
        }
    }
    s
}
