//! `verify IMAGE`: everything an image says of its origin, and whether each claim holds.
//!
//! Works without a store (a reuser's machine): C2PA, the journal proof carried in the
//! manifest, the watermark, the AIGC label and generator metadata are all read from the file.
//! With a store, the watermark's work ID and the image's fingerprint are looked up in it.

use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use credentials::aigc::AigcLabel;
use credentials::{Credentials, Format, Status};
use ed25519_dalek::VerifyingKey;
use fingerprint::catalog::Catalog;
use fingerprint::decode::{self, Decoded, Limits};
use fingerprint::prints;
use ledger::checkpoint::Checkpoint;
use ledger::{Hash, SignedEvent, merkle};
use serde::Serialize;
use serde_json::Value;

use crate::seal::{SEAL_FORMAT, SEAL_FORMAT_1};
use crate::works::{MAX_IMAGE_FILE, Work};
use crate::{RegistryError, Store};

/// The journal proof a sealed image carries in its manifest, checked.
#[derive(Debug, Serialize)]
pub struct JournalProof {
    pub project: Option<String>,
    pub work: Option<i64>,
    pub event_hash: String,
    pub log_index: u64,
    pub checkpoint_size: u64,
    pub checkpoint_time: String,
    pub author: String,
    /// The journal's log name (`handprint/journal/` and the start of SHA-256 of the key): the
    /// identity that was actually verified, whatever name a certificate gives.
    pub journal: String,
    /// Every check passed: event signature and hash, checkpoint signature, inclusion proof.
    pub verified: bool,
    pub problems: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct WatermarkFound {
    pub payload: String,
    pub false_positive: f64,
    pub sync_z: f32,
}

#[derive(Debug, Serialize)]
pub struct FingerprintMatch {
    pub work: i64,
    pub confidence: String,
    /// Local features agreeing with the work (0 when matched by its global code alone).
    pub inliers: usize,
}

/// What one image says of its origin.
#[derive(Debug, Serialize)]
pub struct ImageVerdict {
    pub file: PathBuf,
    pub format: &'static str,
    pub c2pa: Credentials,
    pub journal: Option<JournalProof>,
    pub watermark: Option<WatermarkFound>,
    pub fingerprint: Option<FingerprintMatch>,
    /// The registered work the watermark or fingerprint names (from the store, if any).
    pub work: Option<Work>,
    pub aigc: Option<AigcLabel>,
    /// Generators whose metadata is still in the file (`AUTOMATIC1111`, `ComfyUI`, …).
    pub generator_metadata: Vec<String>,
    /// What could not be checked, and why (pixels that do not decode, …).
    pub problems: Vec<String>,
    pub verdict: String,
}

/// What the image around a journal assertion is, for [`journal_proof`] to check the
/// assertion against.
pub struct Carrier<'a> {
    /// The manifest store the assertion was read from.
    pub c2pa: &'a Credentials,
    /// The image data digest of the file ([`crate::binding::image_data_sha256`]).
    pub image_data: Option<Hash>,
    /// The watermark payload read from the pixels, 16 hex digits.
    pub watermark: Option<&'a str>,
}

/// Checks the `org.handprint.journal` assertion of a sealed image: the event, its checkpoint
/// and inclusion proof, and that all of it belongs to *this* image: signed into its Content
/// Credentials by the journal's own key, naming its image data and its watermark.
pub fn journal_proof(assertion: &Value, carrier: &Carrier) -> JournalProof {
    let mut problems = Vec::new();
    let mut p = JournalProof {
        project: assertion["project"].as_str().map(str::to_owned),
        work: assertion["work"].as_i64(),
        event_hash: assertion["event_hash"].as_str().unwrap_or_default().to_owned(),
        log_index: 0,
        checkpoint_size: 0,
        checkpoint_time: String::new(),
        author: String::new(),
        journal: String::new(),
        verified: false,
        problems: vec![],
    };
    if assertion["format"] == SEAL_FORMAT_1 {
        problems.push(
            "sealed in the first seal format, whose event does not name the image it seals: \
             nothing shows this proof was not copied from another image"
                .to_owned(),
        );
    } else if assertion["format"] != SEAL_FORMAT {
        problems.push(format!("unknown journal assertion format {}", assertion["format"]));
    }
    let event: Option<SignedEvent> = serde_json::from_value(assertion["event"].clone())
        .map_err(|e| problems.push(format!("the sealed event does not parse: {e}")))
        .ok();
    let key = event.as_ref().and_then(|e| {
        let bytes = B64.decode(&e.event.author).ok()?;
        VerifyingKey::from_bytes(&bytes.try_into().ok()?).ok()
    });
    if let (Some(e), Some(key)) = (&event, &key) {
        p.log_index = e.event.log_index;
        p.author = e.event.author.clone();
        p.journal = ledger::checkpoint::origin_for(key);
        if let Err(err) = e.verify(key) {
            problems.push(format!("the sealed event's signature does not verify: {err}"));
        }
        if e.hash().to_hex() != p.event_hash {
            problems.push("the sealed event's hash differs from the one named".into());
        }
        match Checkpoint::verify_note(assertion["checkpoint"].as_str().unwrap_or_default(), key) {
            Ok(c) => {
                p.checkpoint_size = c.size;
                p.checkpoint_time = c.time.clone();
                let proof: Option<Vec<Hash>> = assertion["inclusion_proof"]
                    .as_array()
                    .map(|a| a.iter().filter_map(|h| h.as_str().and_then(Hash::from_hex)).collect());
                let leaf = merkle::leaf_hash(&e.to_bytes());
                if !proof.is_some_and(|proof| {
                    merkle::verify_inclusion(&leaf, e.event.log_index, c.size, &proof, &c.root)
                }) {
                    problems.push("the inclusion proof does not lead to the checkpoint's root".into());
                }
            }
            Err(err) => problems.push(format!("the checkpoint does not verify: {err}")),
        }
        problems.extend(binding_problems(e, assertion, carrier));
    } else if event.is_some() {
        problems.push("the sealed event's author is not an Ed25519 key".into());
    }
    p.verified = problems.is_empty();
    p.problems = problems;
    p
}

/// Whether a sealed event belongs to the image that carries it.
fn binding_problems(e: &SignedEvent, assertion: &Value, carrier: &Carrier) -> Vec<String> {
    let mut problems = Vec::new();
    let data = &e.event.data;
    if e.event.kind != ledger::EventKind::Sealed {
        problems.push(format!("the event is a {:?} event, not a sealed one", e.event.kind.as_str()));
    }
    if data["work"] != assertion["work"] {
        problems
            .push(format!("the assertion names work {}, its event work {}", assertion["work"], data["work"]));
    }
    match carrier.c2pa.status {
        Status::Trusted | Status::UntrustedSigner => {}
        _ => problems.push("the Content Credentials that carry the proof do not validate".into()),
    }
    let signer = carrier.c2pa.active.as_ref().and_then(|m| m.signer_key.as_deref());
    if signer != Some(e.event.author.as_str()) {
        problems.push(
            "the Content Credentials are signed by another key than the journal's author: \
             the proof was copied from another image"
                .into(),
        );
    }
    let named = data["output"]["image_data_sha256"].as_str();
    match (named, carrier.image_data) {
        (Some(n), Some(d)) if n == d.to_hex() => {}
        (None, _) => problems.push("the sealed event names no image data".into()),
        (Some(_), None) => problems.push("this file's image data could not be read to compare".into()),
        (Some(_), Some(_)) => problems.push(
            "the sealed event names other image data than this file's: the proof belongs to another image"
                .into(),
        ),
    }
    let payload = data["watermark"]["payload"].as_str();
    match (payload, carrier.watermark) {
        (Some(a), Some(b)) if a == b => {}
        (Some(a), Some(b)) => problems.push(format!("the image's watermark is {b}, the sealed event's {a}")),
        (Some(a), None) => {
            problems.push(format!("the watermark the sealed event names ({a}) is not in the image"))
        }
        (None, _) => problems.push("the sealed event names no watermark".into()),
    }
    // Since watermark IDs are derived from the author's key, an ID the key does not give
    // was taken from another creator's work. (Older seals carry no nonce.)
    if let (Some(id), Some(nonce)) = (payload, data["watermark"]["id_nonce"].as_str()) {
        let key = B64
            .decode(&e.event.author)
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .and_then(|b| ed25519_dalek::VerifyingKey::from_bytes(&b).ok());
        let derived = u64::from_str_radix(id, 16).ok().zip(key);
        if !derived.is_some_and(|(id, key)| crate::watermark_id::belongs_to(id, &key, nonce)) {
            problems.push(format!("the watermark ID {id} is not derived from the author's key"));
        }
    }
    problems
}

/// A registry to look images up in: its store and its catalog, loaded once for many images.
pub struct Registered<'a> {
    pub store: &'a Store,
    pub catalog: &'a Catalog,
}

/// How [`verify_image_with`] checks an image.
#[derive(Clone, Copy, Debug, Default)]
pub struct VerifyOptions<'a> {
    /// PEM roots whose C2PA signers and time-stamping authorities count as trusted.
    pub trust_anchors: Option<&'a str>,
    /// Fetch a remote manifest store the file's XMP names (within [`MAX_REMOTE_MANIFEST`]
    /// bytes and [`REMOTE_TIMEOUT`]) and validate it against the image.
    pub fetch_remote: bool,
}

/// The largest remote manifest store fetched.
pub const MAX_REMOTE_MANIFEST: u64 = 16 << 20;
/// How long fetching a remote manifest store may take, in all.
pub const REMOTE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// GETs a remote manifest store: plain `http://` only (the HTTP client is built without
/// TLS), at most [`MAX_REMOTE_MANIFEST`] bytes within [`REMOTE_TIMEOUT`].
pub fn fetch_remote_manifest(url: &str) -> Result<Vec<u8>, String> {
    if url.starts_with("https://") {
        return Err("https is not supported: this build's HTTP client has no TLS".into());
    }
    if !url.starts_with("http://") {
        return Err("not an http:// URL".into());
    }
    let agent = ureq::Agent::config_builder()
        .timeout_global(Some(REMOTE_TIMEOUT))
        .max_redirects(3)
        .build()
        .new_agent();
    let mut response = agent.get(url).call().map_err(|e| e.to_string())?;
    response.body_mut().with_config().limit(MAX_REMOTE_MANIFEST).read_to_vec().map_err(|e| match e {
        ureq::Error::BodyExceedsLimit(_) => format!("larger than {MAX_REMOTE_MANIFEST} bytes"),
        e => e.to_string(),
    })
}

/// Checks one image. `trust_anchors`: PEM roots whose C2PA signers count as trusted.
pub fn verify_image(
    path: &Path,
    registered: Option<&Registered>,
    trust_anchors: Option<&str>,
) -> Result<ImageVerdict, RegistryError> {
    verify_image_with(path, registered, &VerifyOptions { trust_anchors, fetch_remote: false })
}

/// Checks one image file, as [`VerifyOptions`] say.
pub fn verify_image_with(
    path: &Path,
    registered: Option<&Registered>,
    options: &VerifyOptions,
) -> Result<ImageVerdict, RegistryError> {
    let bytes = crate::read_limited(path, MAX_IMAGE_FILE)?;
    verify_image_bytes(path, &bytes, registered, options)
}

/// Checks one image given as bytes (an upload, a fetched copy); `name` is how messages and
/// the verdict name it.
pub fn verify_image_bytes(
    name: &Path,
    bytes: &[u8],
    registered: Option<&Registered>,
    options: &VerifyOptions,
) -> Result<ImageVerdict, RegistryError> {
    if bytes.len() as u64 > MAX_IMAGE_FILE {
        return verify_decoded(name, bytes, Err(String::new()), registered, options);
    }
    let decoded = decode::decode(bytes, &VERIFY_LIMITS).map_err(|e| e.to_string());
    verify_decoded(name, bytes, decoded.as_ref().map_err(String::clone), registered, options)
}

/// The decoding limits of [`verify_image_bytes`].
pub const VERIFY_LIMITS: Limits = Limits { min_side: 64, ..Limits::DEFAULT };

/// [`verify_image_bytes`] of an image already decoded (or whose decoding failed, with the
/// reason): for a caller that also fingerprints the pixels.
pub fn verify_decoded(
    name: &Path,
    bytes: &[u8],
    decoded: Result<&Decoded, String>,
    registered: Option<&Registered>,
    options: &VerifyOptions,
) -> Result<ImageVerdict, RegistryError> {
    let path = name;
    let trust_anchors = options.trust_anchors;
    let fail = |m: String| RegistryError::File { path: path.into(), message: m };
    if bytes.len() as u64 > MAX_IMAGE_FILE {
        return Err(fail(format!(
            "{} bytes: larger than the {} MiB handprint reads",
            bytes.len(),
            MAX_IMAGE_FILE >> 20
        )));
    }
    let format = Format::sniff(bytes).ok_or_else(|| fail("not a JPEG, PNG or WebP image".into()))?;
    let mut c2pa = credentials::read(bytes, format, trust_anchors).map_err(|e| fail(e.to_string()))?;
    if options.fetch_remote
        && let Some(remote) = c2pa.remote.clone().filter(|r| !r.fetched)
    {
        match fetch_remote_manifest(&remote.url) {
            Ok(store) => {
                c2pa = credentials::read_remote(bytes, format, &remote.url, &store, trust_anchors)
                    .map_err(|e| fail(e.to_string()))?
            }
            Err(e) => {
                c2pa.remote = Some(credentials::Remote { error: Some(e), ..remote });
            }
        }
    }
    // Pixels that do not decode (a damaged or tampered file) still leave the rest to report.
    let mut problems = Vec::new();
    if let Some(note) = &c2pa.unreadable {
        problems.push(format!("Content Credentials: {}", fail(note.clone())));
    }
    let decoded = decoded.map_err(|e| problems.push(format!("pixels: {}", fail(e)))).ok();
    let detection = decoded
        .as_ref()
        .and_then(|d| crate::marking::detect_image(path, &d.image).ok())
        .filter(|d| d.payload.is_some());
    let watermark = detection.as_ref().and_then(|d| {
        Some(WatermarkFound {
            payload: format!("{:016x}", d.payload?),
            false_positive: d.false_positive,
            sync_z: d.sync_z,
        })
    });
    let carrier = Carrier {
        c2pa: &c2pa,
        image_data: crate::binding::image_data_sha256(bytes).ok(),
        watermark: watermark.as_ref().map(|w| w.payload.as_str()),
    };
    let journal = c2pa.active.as_ref().and_then(|m| m.journal.as_ref()).map(|a| journal_proof(a, &carrier));
    let aigc = credentials::aigc::find(bytes).unwrap_or(None);
    let generator_metadata = capture::inspect_bytes(bytes)
        .map(|i| i.generations.iter().map(|g| format!("{:?}", g.generator)).collect())
        .unwrap_or_default();
    let (mut work, mut fingerprint) = (None, None);
    if let Some(Registered { store, catalog }) = registered {
        if let Some(p) = detection.as_ref().and_then(|d| d.payload) {
            work = store.work_by_watermark(p)?;
        }
        // Fingerprinted only when there is a catalog to look it up in.
        let found = decoded.and_then(|d| catalog.search(&prints::fingerprint(&d.image)).into_iter().next());
        if let Some(m) = found {
            fingerprint = Some(FingerprintMatch {
                work: m.work,
                confidence: format!("{:?}", m.confidence).to_lowercase(),
                inliers: m.alignment.as_ref().map_or(0, |a| a.inliers),
            });
            if work.is_none() {
                work = store.work(m.work)?;
            }
        }
    }
    let looked_up = registered.is_some();
    let verdict =
        verdict(&c2pa, journal.as_ref(), watermark.as_ref(), work.as_ref(), fingerprint.as_ref(), looked_up);
    Ok(ImageVerdict {
        file: path.into(),
        format: format.mime(),
        c2pa,
        journal,
        watermark,
        fingerprint,
        work,
        aigc,
        generator_metadata,
        problems,
        verdict,
    })
}

fn verdict(
    c2pa: &Credentials,
    journal: Option<&JournalProof>,
    watermark: Option<&WatermarkFound>,
    work: Option<&Work>,
    fingerprint: Option<&FingerprintMatch>,
    looked_up: bool,
) -> String {
    let credentials = match c2pa.status {
        Status::Trusted => "Content Credentials valid, signer trusted",
        Status::UntrustedSigner => "Content Credentials intact, signer not on the trust list",
        Status::Tampered => "Content Credentials TAMPERED",
        Status::Invalid => "Content Credentials invalid",
        Status::None => "no Content Credentials",
        Status::Remote => "",
    };
    let mut parts = vec![match &c2pa.remote {
        Some(r) if !r.fetched => match &r.error {
            None => format!("remote manifest at {}, not fetched", r.url),
            Some(e) => format!("remote manifest at {}, could not be fetched ({e})", r.url),
        },
        Some(r) => format!("{credentials} (remote manifest fetched from {})", r.url),
        None => credentials.to_owned(),
    }];
    // "Is it AI-generated?" from every manifest of the chain, the first to say so named.
    if let Some(ai) = c2pa.ai.first() {
        let whose = if ai.active { "the active manifest" } else { "an earlier manifest" };
        let more = match c2pa.ai.len() {
            1 => String::new(),
            n => format!(" and {} more", n - 1),
        };
        parts.push(format!(
            "AI-generated per {whose} {} signed by {} ({}){more}",
            ai.manifest,
            ai.signer.as_deref().unwrap_or("an unnamed signer"),
            ai.reason
        ));
    }
    if let Some(j) = journal {
        parts.push(if j.verified {
            format!(
                "journal proof verified (event {} in a log of {}, journal {})",
                j.log_index, j.checkpoint_size, j.journal
            )
        } else {
            "journal proof FAILS".to_owned()
        });
    }
    match (watermark, work) {
        (Some(_), Some(work)) => parts.push(format!("watermark names work {} {:?}", work.id, work.title)),
        (Some(w), None) if looked_up => {
            parts.push(format!("watermark {} (no such work in this registry)", w.payload))
        }
        (Some(w), None) => parts.push(format!("watermark {}", w.payload)),
        (None, _) => parts.push("no watermark".into()),
    }
    if let Some(f) = fingerprint {
        parts.push(format!("looks like work {} ({} confidence)", f.work, f.confidence));
    }
    parts.join("; ")
}
