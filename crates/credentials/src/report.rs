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
    /// No manifest store in the file, but its XMP names one kept elsewhere
    /// (`dcterms:provenance`), which was not fetched: nothing was checked.
    Remote,
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
    /// What the validator said of the RFC 3161 timestamp in the signature, when there is one:
    /// `trusted` (its authority chains to a trusted root), `validated` (it holds, authority
    /// not on the trust list), or a failure (`untrusted`, `mismatch`, `malformed`,
    /// `outsideValidity`). `signed_at` is the timestamp's time when it holds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    /// Every assertion's label.
    pub assertions: Vec<String>,
}

/// One manifest of the store, in the provenance chain.
#[derive(Clone, Debug, Serialize)]
pub struct ChainLink {
    pub label: String,
    pub title: Option<String>,
    pub claim_generator: Option<String>,
    pub signer: Option<String>,
    pub issuer: Option<String>,
    pub signed_at: Option<String>,
    /// Every action, as in [`ManifestSummary::actions`].
    pub actions: Vec<Value>,
    /// The manifest the file carries on top (the others come from its ingredients).
    pub active: bool,
}

/// A manifest of the store that says the content was made by AI.
#[derive(Clone, Debug, Serialize)]
pub struct AiClaim {
    /// The manifest that says so, and who signed it.
    pub manifest: String,
    pub signer: Option<String>,
    pub claim_generator: Option<String>,
    /// Why: the IPTC digital source type it states, or the AI generator that made it.
    pub reason: String,
    pub active: bool,
}

/// A manifest store kept outside the file, at the URL its XMP names (`dcterms:provenance`).
#[derive(Clone, Debug, Serialize)]
pub struct Remote {
    pub url: String,
    /// Fetched and validated against the image (`status` is then that validation's).
    pub fetched: bool,
    /// Why it could not be fetched or read, when it was asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
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
    /// Every manifest of the store, in the order the work went through them: the ingredients'
    /// manifests before the manifest that took them in, the active manifest last. Manifests
    /// no ingredient names come first.
    pub chain: Vec<ChainLink>,
    /// Every manifest of the chain that says the content was made by AI (the active one or
    /// an earlier one): a digital source type of trained algorithmic media, composite with
    /// it, or algorithmic media, or a claim generator known to be an AI image generator.
    pub ai: Vec<AiClaim>,
    /// The manifest store named by the file's XMP, when none is embedded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote: Option<Remote>,
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
            chain: vec![],
            ai: vec![],
            remote: None,
            unreadable: None,
        }
    }
}

/// Claim generators (and software agents of `c2pa.created`) known to be AI image generators,
/// lower case; a name containing one counts.
pub const AI_GENERATORS: &[&str] = &[
    "adobe firefly",
    "dall-e",
    "dall·e",
    "chatgpt",
    "openai",
    "sora",
    "microsoft designer",
    "bing image creator",
    "azure openai",
    "imagen",
    "gemini",
    "meta ai",
    "stability ai",
    "stable diffusion",
    "midjourney",
    "leonardo.ai",
    "ideogram",
    "runway",
];

/// IPTC digital source types that say the content was made by an algorithm.
const AI_SOURCE_TYPES: &[&str] =
    &["trainedAlgorithmicMedia", "compositeWithTrainedAlgorithmicMedia", "algorithmicMedia"];

fn known_ai_generator(name: &str) -> bool {
    let name = name.to_lowercase().replace('_', " ");
    AI_GENERATORS.iter().any(|g| name.contains(g))
}

/// Why a manifest says its content was made by AI, if it does.
fn ai_reason(link: &ChainLink) -> Option<String> {
    for a in &link.actions {
        let Some(t) = a["digitalSourceType"].as_str() else { continue };
        let term = t.rsplit('/').next().unwrap_or(t);
        if AI_SOURCE_TYPES.contains(&term) {
            return Some(format!(
                "digital source type {term} ({})",
                a["action"].as_str().unwrap_or("an action")
            ));
        }
    }
    if let Some(g) = link.claim_generator.as_deref().filter(|g| known_ai_generator(g)) {
        return Some(format!("made by {g:?}, an AI image generator"));
    }
    link.actions
        .iter()
        .filter(|a| a["action"] == "c2pa.created")
        .filter_map(|a| a["softwareAgent"]["name"].as_str().or_else(|| a["softwareAgent"].as_str()))
        .find(|g| known_ai_generator(g))
        .map(|g| format!("created by {g:?}, an AI image generator"))
}

/// The store's manifests in the order the work went through them (see [`Credentials::chain`]).
fn chain(store: &Value, active: Option<&str>) -> Vec<ChainLink> {
    let manifests = store["manifests"].as_object();
    let mut order: Vec<String> = Vec::new();
    // Depth first from the active manifest, ingredients before the manifest that took them
    // in; each manifest once, however many ingredients name it (no recursion: a store can
    // be deep).
    if let Some(active) = active.filter(|a| manifests.is_some_and(|m| m.contains_key(*a))) {
        let mut seen = std::collections::HashSet::from([active.to_owned()]);
        let mut stack: Vec<(String, bool)> = vec![(active.to_owned(), false)];
        while let Some((label, expanded)) = stack.pop() {
            if expanded {
                order.push(label);
                continue;
            }
            stack.push((label.clone(), true));
            let parents = store["manifests"][&label]["ingredients"].as_array().cloned().unwrap_or_default();
            for i in parents.iter().rev() {
                if let Some(p) = i["active_manifest"].as_str()
                    && manifests.is_some_and(|m| m.contains_key(p))
                    && seen.insert(p.to_owned())
                {
                    stack.push((p.to_owned(), false));
                }
            }
        }
    }
    let mut unnamed: Vec<String> =
        manifests.into_iter().flatten().map(|(k, _)| k.clone()).filter(|k| !order.contains(k)).collect();
    unnamed.sort();
    unnamed
        .into_iter()
        .chain(order)
        .map(|label| {
            let s = summary(&label, &store["manifests"][&label]);
            ChainLink {
                active: active == Some(label.as_str()),
                label,
                title: s.title,
                claim_generator: s.claim_generator,
                signer: s.signer,
                issuer: s.issuer,
                signed_at: s.signed_at,
                actions: s.actions,
            }
        })
        .collect()
}

/// Whether `image` holds a C2PA manifest store: capture's walk of the container finds one, or
/// (in a container too damaged to walk) its JUMBF superbox and `c2pa` label are in the bytes.
fn store_present(image: &[u8]) -> bool {
    let has = |needle: &[u8]| image.windows(needle.len()).any(|w| w == needle);
    capture::inspect_bytes(image).is_ok_and(|i| i.c2pa.is_some()) || (has(b"jumb") && has(b"c2pa"))
}

/// Reads and validates the manifest store embedded in `image`. `trust_anchors` are PEM root
/// certificates whose signers (and time-stamping authorities) count as trusted (the creator's
/// own root, a platform's list). A file whose XMP names a remote manifest store instead is
/// [`Status::Remote`], its URL in [`Credentials::remote`]: nothing is fetched here.
pub fn read(
    image: &[u8],
    format: Format,
    trust_anchors: Option<&str>,
) -> Result<Credentials, CredentialsError> {
    read_store(image, format, trust_anchors, None)
}

/// Validates `store` (a C2PA manifest store, JUMBF, as served at `url`) against `image`: what a
/// remote manifest says of the file, once fetched by the caller.
pub fn read_remote(
    image: &[u8],
    format: Format,
    url: &str,
    store: &[u8],
    trust_anchors: Option<&str>,
) -> Result<Credentials, CredentialsError> {
    let mut c = read_store(image, format, trust_anchors, Some(store))?;
    c.remote = Some(Remote { url: url.to_owned(), fetched: true, error: None });
    Ok(c)
}

fn read_store(
    image: &[u8],
    format: Format,
    trust_anchors: Option<&str>,
    remote_store: Option<&[u8]>,
) -> Result<Credentials, CredentialsError> {
    let mut settings = json!({"verify": {"verify_after_reading": true, "ocsp_fetch": false, "remote_manifest_fetch": false}});
    if let Some(pem) = trust_anchors {
        settings["trust"] = json!({"user_anchors": pem});
    }
    let context =
        Context::new().with_settings(Settings::new().with_json(&settings.to_string())?)?.into_shared();
    let reader = Reader::from_shared_context(&context);
    let reader = match remote_store {
        Some(store) => reader.with_manifest_data_and_stream(store, format.mime(), Cursor::new(image)),
        None => reader.with_stream(format.mime(), Cursor::new(image)),
    };
    let reader = match reader {
        Ok(r) => r,
        Err(c2pa::Error::RemoteManifestUrl(url)) if remote_store.is_none() => {
            return Ok(Credentials {
                status: Status::Remote,
                remote: Some(Remote { url, fetched: false, error: None }),
                ..Credentials::none()
            });
        }
        Err(c2pa::Error::JumbfNotFound | c2pa::Error::ProvenanceMissing) if remote_store.is_none() => {
            return Ok(Credentials::none());
        }
        // A damaged container with no manifest store in it makes no claim that could fail.
        Err(e) if remote_store.is_none() && !store_present(image) => {
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
    let (mut failures, mut informational, mut success) = (Vec::new(), Vec::new(), Vec::new());
    if let Some(results) = reader.validation_results()
        && let Some(active) = results.active_manifest()
    {
        failures.extend(active.failure().iter().map(|s| s.code().to_owned()));
        informational.extend(active.informational().iter().map(|s| s.code().to_owned()));
        success.extend(active.success().iter().map(|s| s.code().to_owned()));
    }
    let status = match reader.validation_state() {
        ValidationState::Trusted => Status::Trusted,
        _ if failures.iter().any(|c| c.contains("mismatch") || c.contains("missing")) => Status::Tampered,
        ValidationState::Valid => Status::UntrustedSigner,
        _ if failures.iter().all(|c| c.starts_with("signingCredential.untrusted")) => Status::UntrustedSigner,
        _ => Status::Invalid,
    };
    // The first time-stamp failure or warning; else `trusted` over `validated`.
    let stamp = |c: &String| c.strip_prefix("timeStamp.").map(str::to_owned);
    let timestamp = failures.iter().chain(&informational).find_map(stamp).or_else(|| {
        let ok: Vec<String> = success.iter().filter_map(stamp).collect();
        ["trusted", "validated"].into_iter().find(|t| ok.iter().any(|o| o == t)).map(str::to_owned)
    });
    let store: Value = serde_json::from_str(&reader.json()).unwrap_or(Value::Null);
    let signer_key = reader
        .active_manifest()
        .and_then(|m| m.signature_info())
        .and_then(|s| crate::certificates::ed25519_key_of(s.cert_chain()))
        .map(|k| base64::Engine::encode(&base64::engine::general_purpose::STANDARD, k.as_bytes()));
    let active = reader.active_label().map(|label| ManifestSummary {
        signer_key,
        timestamp,
        ..summary(label, &store["manifests"][label])
    });
    let chain = chain(&store, reader.active_label());
    let ai = chain
        .iter()
        .filter_map(|link| {
            Some(AiClaim {
                reason: ai_reason(link)?,
                manifest: link.label.clone(),
                signer: link.signer.clone(),
                claim_generator: link.claim_generator.clone(),
                active: link.active,
            })
        })
        .collect();
    Ok(Credentials {
        status,
        failures,
        informational,
        active,
        manifests: reader.manifests().len(),
        chain,
        ai,
        remote: None,
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
