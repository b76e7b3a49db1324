//! `capture URL`: the web page where a copy appears, kept as evidence (docs/capture.md).
//!
//! The page and every image it references are fetched exactly (`webcapture`: each request
//! and response, redirects hop by hop, the server's address and certificate chain, a
//! screenshot when Chromium is installed), archived in the standard formats (`webarchive`:
//! WARC 1.1 in a WACZ 1.1.1 package), and every image is looked up among the registered
//! works: fingerprints, watermark, Content Credentials. The package is signed with the
//! creator's key over the hash of its `datapackage.json`, and an RFC 3161 timestamp over
//! the same file fixes it in time. `verify_capture` checks all of it offline.

use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signature, Signer, VerifyingKey};
use fingerprint::catalog::WorkId;
use ledger::Hash;
use ledger::timestamp::Stamp;
use rand_core::RngCore;
use serde::Serialize;
use serde_json::{Value, json};

use crate::identity::Identity;
use crate::search::{MatchReport, SearchIndex, side_by_side};
use crate::verify_image::{VERIFY_LIMITS, VerifyOptions, verify_decoded};
use crate::works::Scanned;
use crate::{Registry, RegistryError};

/// The package's file of findings, and its environment record.
pub const FINDINGS_FILE: &str = "handprint/findings.json";
pub const ENVIRONMENT_FILE: &str = "handprint/environment.json";
/// The format of the `"handprint"` object in `datapackage-digest.json`.
pub const SIGNATURE_FORMAT: &str = "handprint.capture-signature/1";

/// How to capture.
#[derive(Clone, Debug, Default)]
pub struct CaptureOptions {
    pub fetch: webcapture::Options,
    /// An RFC 3161 time-stamping authority (`http://` URL).
    pub tsa: Option<String>,
}

/// One image of the page that ties to a registered work, or carries a watermark.
#[derive(Debug, Serialize)]
pub struct ImageFinding {
    pub url: String,
    pub sha256: Hash,
    pub format: String,
    pub width: u32,
    pub height: u32,
    /// The registered works it matches, best first; each with the side-by-side picture's
    /// path in the package.
    pub matches: Vec<MatchReport>,
    /// The watermark payload read from its pixels, and the work it names (if registered).
    pub watermark: Option<String>,
    pub watermark_work: Option<WorkId>,
    /// What a sealed original carries and this copy does not: `Content Credentials`,
    /// `AIGC label`, `generator metadata`.
    pub stripped: Vec<String>,
    /// C2PA status of the copy.
    pub credentials: String,
}

/// What `capture` did.
#[derive(Debug, Serialize)]
pub struct Captured {
    pub out: PathBuf,
    pub url: String,
    pub final_url: String,
    pub status: u16,
    pub started: String,
    pub finished: String,
    /// Something was left out (the reasons are in `left_out`).
    pub partial: bool,
    pub left_out: Vec<webcapture::LeftOut>,
    pub images_fetched: usize,
    pub findings: Vec<ImageFinding>,
    pub screenshot: bool,
    pub screenshot_note: String,
    /// `sha256:` of `datapackage.json`: what the signature and the timestamp cover.
    pub datapackage_hash: String,
    pub signed_by: String,
    pub timestamp: Option<Stamp>,
}

impl Registry {
    /// Captures `url` into the WACZ file `out` (written whole or not at all), signed by
    /// `signer`.
    pub fn capture_page(
        &self,
        signer: &Identity,
        url: &str,
        out: &Path,
        options: &CaptureOptions,
    ) -> Result<Captured, RegistryError> {
        if out.exists() {
            return Err(RegistryError::File {
                path: out.into(),
                message: "already exists; choose another name".into(),
            });
        }
        let roots = crate::timestamps::read_roots(&self.tsa_roots_dir())?;
        let capture =
            webcapture::capture(url, &options.fetch).map_err(|e| RegistryError::Invalid(e.to_string()))?;
        let index = SearchIndex::of_registry(self)?;
        let page = capture.final_page();

        // The archive: every exchange, the screenshot, in the order they happened.
        let mut warc = webarchive::WarcWriter::new(Vec::new());
        let software = format!("handprint {}", env!("CARGO_PKG_VERSION"));
        let warc_error =
            |e: webarchive::WebArchiveError| RegistryError::Invalid(format!("writing the archive: {e}"));
        let mut info = vec![
            ("software", software.clone()),
            ("operator", format!("{} (key {})", signer.public.name, signer.public.public_key)),
            ("http-header-user-agent", capture.environment.user_agent.clone()),
            ("description", format!("capture of {url} by handprint for evidence")),
        ];
        for (host, addresses) in &capture.dns {
            let list: Vec<String> = addresses.iter().map(|a| a.to_string()).collect();
            info.push(("handprint-dns", format!("{host} {}", list.join(" "))));
        }
        let fields: Vec<(&str, &str)> = info.iter().map(|(k, v)| (*k, v.as_str())).collect();
        warc.warcinfo("data.warc.gz", &capture.started, &fields).map_err(warc_error)?;
        let mut page_record = None;
        for ex in &capture.page {
            page_record = Some(warc.exchange(&archived(ex)).map_err(warc_error)?.response.id);
        }
        for image in &capture.images {
            for ex in &image.exchanges {
                warc.exchange(&archived(ex)).map_err(warc_error)?;
            }
        }
        if let Some(png) = &capture.screenshot {
            let uri = format!("urn:screenshot:{}", page.url);
            warc.resource(&uri, "image/png", png, &capture.finished, page_record.as_deref())
                .map_err(warc_error)?;
        }

        // Every image that is one, looked up.
        let mut findings = Vec::new();
        let mut files = Vec::new();
        for image in capture.images.iter().filter(|i| i.is_image) {
            look_up(&self.store, &index, &image.url, &image.last().body, &mut findings, &mut files)?;
        }
        let environment = json!({
            "software": software,
            "time_source": capture.environment.time_source,
            "user_agent": capture.environment.user_agent,
            "requested_url": url,
            "started": capture.started,
            "finished": capture.finished,
            "dns": capture.dns,
            "partial": capture.partial,
            "left_out": capture.left_out,
            "screenshot": capture.screenshot_note,
            "images": capture.images.iter().map(|i| json!({
                "url": i.url, "is_image": i.is_image, "format": i.format, "problem": i.problem,
                "referenced_by": i.referenced_by,
            })).collect::<Vec<_>>(),
            "page": capture.page.iter().map(|e| json!({
                "url": e.url, "status": e.status, "ip": e.ip, "protocol": e.protocol,
                "truncated": e.truncated.map(|t| t.as_str()), "problem": e.problem,
            })).collect::<Vec<_>>(),
        });
        files.push((ENVIRONMENT_FILE.to_owned(), serde_json::to_vec_pretty(&environment).expect("JSON")));
        files.push((FINDINGS_FILE.to_owned(), serde_json::to_vec_pretty(&findings).expect("JSON")));

        let package = webarchive::Package {
            warc: warc.into_inner(),
            pages: vec![webarchive::Page { url: page.url.clone(), ts: page.date, title: None }],
            files,
            title: Some(format!("Capture of {url}")),
            description: Some("A web page captured by handprint as evidence of where a copy appears".into()),
            main_page_url: Some(page.url.clone()),
            main_page_date: Some(page.date),
            software,
            created: capture.finished,
        };
        let (wacz, hash_signed, stamp) = sign_package(&package, signer, options.tsa.as_deref(), &roots)?;
        crate::marking::write_atomically(out, &wacz)?;
        Ok(Captured {
            out: out.to_path_buf(),
            url: url.to_owned(),
            final_url: page.url.clone(),
            status: page.status,
            started: capture.started.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            finished: capture.finished.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            partial: capture.partial,
            left_out: capture.left_out.clone(),
            images_fetched: capture.images.len(),
            findings,
            screenshot: capture.screenshot.is_some(),
            screenshot_note: capture.screenshot_note.clone(),
            datapackage_hash: hash_signed,
            signed_by: signer.public.public_key.clone(),
            timestamp: stamp,
        })
    }
}

/// Looks the image `bytes` (from `url`) up: fingerprints among the registered works, its
/// watermark, its credentials. A finding (with side-by-side pictures added to `files`)
/// when it ties to a work.
fn look_up(
    store: &crate::Store,
    index: &SearchIndex,
    url: &str,
    bytes: &[u8],
    findings: &mut Vec<ImageFinding>,
    files: &mut Vec<(String, Vec<u8>)>,
) -> Result<(), RegistryError> {
    let Ok(scanned) = Scanned::from_bytes(Path::new(url), bytes, &VERIFY_LIMITS) else { return Ok(()) };
    let verdict =
        verify_decoded(Path::new(url), bytes, Ok(&scanned.decoded), None, &VerifyOptions::default())?;
    let mut matches = index.reports(store, &scanned)?;
    let watermark = verdict.watermark.as_ref().map(|w| w.payload.clone());
    let watermark_work = match watermark.as_deref().and_then(|p| u64::from_str_radix(p, 16).ok()) {
        Some(id) => store.work_by_watermark(id)?.map(|w| w.id),
        None => None,
    };
    if matches.is_empty() && watermark_work.is_none() {
        return Ok(());
    }
    for m in &mut matches {
        let name = format!("handprint/side-by-side-{}-work-{}.png", findings.len() + 1, m.work);
        files.push((name.clone(), side_by_side(store, &scanned, &m.found)?));
        m.side_by_side = Some(name);
    }
    let stripped = stripped(&verdict, &matches);
    findings.push(ImageFinding {
        url: url.to_owned(),
        sha256: scanned.sha256,
        format: scanned.decoded.format.name().to_owned(),
        width: scanned.fingerprint.width,
        height: scanned.fingerprint.height,
        matches,
        watermark,
        watermark_work,
        stripped,
        credentials: serde_json::to_value(verdict.c2pa.status)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
    });
    Ok(())
}

/// What a sealed original carries and the copy `verdict` describes does not: Content
/// Credentials, the AIGC label, generator metadata; and the edges of the work the copy's
/// best placed match leaves out (more than 3% of its width or height), where a visible
/// signature or label would have been cut off. Stated as what is missing, not as what was
/// there.
pub fn stripped(verdict: &crate::verify_image::ImageVerdict, matches: &[MatchReport]) -> Vec<String> {
    let mut out = Vec::new();
    if verdict.c2pa.status == credentials::Status::None {
        out.push("Content Credentials".to_owned());
    }
    if verdict.aigc.is_none() {
        out.push("AIGC label".to_owned());
    }
    if verdict.generator_metadata.is_empty() {
        out.push("generator metadata".to_owned());
    }
    if let Some(r) = matches.iter().find_map(|m| m.features.as_ref()).map(|f| &f.region) {
        for (edge, cut) in
            [("left", r.left), ("top", r.top), ("right", 1.0 - r.right), ("bottom", 1.0 - r.bottom)]
        {
            if cut > 0.03 {
                out.push(format!("the work's {edge} {:.0}% (cropped off)", cut * 100.0));
            }
        }
    }
    out
}

/// Writes the package, signed by `signer` over its `datapackage.json` and, with `tsa`,
/// timestamped: the bytes, the hash signed, the timestamp.
fn sign_package(
    package: &webarchive::Package,
    signer: &Identity,
    tsa: Option<&str>,
    roots: &[Vec<u8>],
) -> Result<(Vec<u8>, String, Option<Stamp>), RegistryError> {
    let mut stamp = None;
    let mut hash_signed = String::new();
    let wacz = webarchive::write_wacz(package, |hash| {
        hash_signed = hash.to_owned();
        let signature: Signature = signer.key.sign(hash.as_bytes());
        let mut handprint = json!({
            "format": SIGNATURE_FORMAT,
            "signs": hash,
            "name": signer.public.name,
            "key": signer.public.public_key,
            "signature": B64.encode(signature.to_bytes()),
        });
        if let Some(tsa) = tsa {
            let (token, s) = timestamp(tsa, hash, roots).map_err(|e| e.to_string())?;
            handprint["timestamp"] = json!({ "tsa": tsa, "token": B64.encode(token) });
            stamp = Some(s);
        }
        Ok(handprint)
    })
    .map_err(|e| RegistryError::Invalid(format!("writing the package: {e}")))?;
    Ok((wacz, hash_signed, stamp))
}

/// What `scan --evidence` wrote for one local file.
#[derive(Debug, Serialize)]
pub struct FilePackaged {
    pub file: PathBuf,
    pub out: PathBuf,
    pub findings: Vec<ImageFinding>,
    pub datapackage_hash: String,
    pub timestamp: Option<Stamp>,
}

/// Packages a local image file that matches registered works as evidence, like a capture:
/// the file as a WARC `resource` record (`file:` URL), its findings, the environment (the
/// file's path, size and modification time as the file system gives them), signed and
/// optionally timestamped. `None` when it ties to no work.
pub fn package_file(
    store: &crate::Store,
    index: &SearchIndex,
    signer: &Identity,
    path: &Path,
    out: &Path,
    tsa: Option<&str>,
    tsa_roots: &[Vec<u8>],
) -> Result<Option<FilePackaged>, RegistryError> {
    let bytes = crate::read_limited(path, crate::works::MAX_IMAGE_FILE)?;
    let absolute = std::fs::canonicalize(path).map_err(|e| RegistryError::io(path, e))?;
    let url = url::Url::from_file_path(&absolute)
        .map_err(|_| RegistryError::File {
            path: path.into(),
            message: "cannot be named by a file: URL".into(),
        })?
        .to_string();
    let (mut findings, mut files) = (Vec::new(), Vec::new());
    look_up(store, index, &url, &bytes, &mut findings, &mut files)?;
    if findings.is_empty() {
        return Ok(None);
    }
    let now = chrono::Utc::now();
    let software = format!("handprint {}", env!("CARGO_PKG_VERSION"));
    let warc_error =
        |e: webarchive::WebArchiveError| RegistryError::Invalid(format!("writing the archive: {e}"));
    let mut warc = webarchive::WarcWriter::new(Vec::new());
    let operator = format!("{} (key {})", signer.public.name, signer.public.public_key);
    warc.warcinfo("data.warc.gz", &now, &[("software", &software), ("operator", &operator)])
        .map_err(warc_error)?;
    let kind = credentials::Format::sniff(&bytes).map_or("application/octet-stream", |f| f.mime());
    warc.resource(&url, kind, &bytes, &now, None).map_err(warc_error)?;
    let meta = std::fs::metadata(path).map_err(|e| RegistryError::io(path, e))?;
    let modified = meta.modified().ok().map(|t| chrono::DateTime::<chrono::Utc>::from(t).to_rfc3339());
    let environment = json!({
        "software": software,
        "time_source": "system clock (UTC)",
        "source": "a local file, as the file system gives it: where it came from is not recorded here",
        "path": absolute,
        "bytes": meta.len(),
        "modified": modified,
        "packaged": now,
    });
    files.push((ENVIRONMENT_FILE.to_owned(), serde_json::to_vec_pretty(&environment).expect("JSON")));
    files.push((FINDINGS_FILE.to_owned(), serde_json::to_vec_pretty(&findings).expect("JSON")));
    let package = webarchive::Package {
        warc: warc.into_inner(),
        pages: vec![webarchive::Page { url: url.clone(), ts: now, title: None }],
        files,
        title: Some(format!("Evidence: {}", absolute.display())),
        description: Some("A local file matching registered works, packaged by handprint as evidence".into()),
        main_page_url: Some(url),
        main_page_date: Some(now),
        software,
        created: now,
    };
    let (wacz, hash, stamp) = sign_package(&package, signer, tsa, tsa_roots)?;
    crate::marking::write_atomically(out, &wacz)?;
    Ok(Some(FilePackaged {
        file: path.into(),
        out: out.into(),
        findings,
        datapackage_hash: hash,
        timestamp: stamp,
    }))
}

/// The capture client's exchange as the archive writes it (the client already renamed the
/// header fields whose coding it undid).
fn archived(ex: &webcapture::Exchange) -> webarchive::Exchange {
    webarchive::Exchange {
        url: ex.url.clone(),
        method: ex.method.clone(),
        request_head: ex.request_head.clone(),
        status: ex.status,
        reason: ex.reason.clone(),
        response_head: ex.response_head.clone(),
        body: ex.body.clone(),
        decoded: Vec::new(),
        ip: ex.ip,
        protocol: ex.protocol.clone(),
        cipher_suite: ex.cipher_suite.clone(),
        certificates_pem: ex.certificates_pem.clone(),
        date: ex.date,
    }
}

/// The SHA-256 a `sha256:<hex>` label names.
fn sha256_of_label(label: &str) -> Option<[u8; 32]> {
    let hex = label.strip_prefix("sha256:")?;
    hex::decode(hex).ok()?.try_into().ok()
}

/// An RFC 3161 token over the file whose hash `label` gives, checked against `roots`.
fn timestamp(tsa: &str, label: &str, roots: &[Vec<u8>]) -> Result<(Vec<u8>, Stamp), RegistryError> {
    let digest =
        sha256_of_label(label).ok_or_else(|| RegistryError::Invalid(format!("{label}: not a SHA-256")))?;
    let nonce = rand_core::OsRng.next_u64() >> 1;
    let response = crate::timestamps::post(tsa, &ledger::timestamp::request_sha256(&digest, nonce))?;
    let token = ledger::timestamp::token_from_response(&response, nonce)
        .map_err(|e| RegistryError::Invalid(format!("{tsa}: {e}")))?;
    let stamp = ledger::timestamp::verify_sha256(&token, &digest, roots).map_err(|e| {
        RegistryError::Invalid(format!(
            "{tsa}: the token does not verify ({e}); add the TSA's root with `timestamp --tsa-root`"
        ))
    })?;
    Ok((token, stamp))
}

/// What `verify --capture` finds.
#[derive(Debug, Serialize)]
pub struct CaptureCheck {
    /// Everything holds: the archive, the signature, the timestamp (when there is one).
    pub verified: bool,
    pub problems: Vec<String>,
    /// The archive's own checks: every resource's hash, every WARC record's digests, the
    /// index, the pages, the hash of `datapackage.json`.
    pub archive: webarchive::Verification,
    /// The signing key (base64) and the name it gives, when the signature verifies.
    pub signed_by: Option<String>,
    pub name: Option<String>,
    pub timestamp: Option<Stamp>,
    pub findings: Value,
}

/// Checks a capture package offline: the archive, the signature over its
/// `datapackage.json`, and the timestamp against `tsa_roots` (DER).
pub fn verify_capture(bytes: &[u8], tsa_roots: &[Vec<u8>]) -> CaptureCheck {
    let archive = webarchive::verify_wacz(bytes);
    let mut problems = archive.problems.clone();
    let (mut signed_by, mut name, mut stamp) = (None, None, None);
    let hash = archive.datapackage_hash.clone().unwrap_or_default();
    match &archive.handprint {
        None => problems.push(
            "the package is not signed by handprint (no \"handprint\" in datapackage-digest.json)".into(),
        ),
        Some(h) => {
            let key = h["key"]
                .as_str()
                .and_then(|k| B64.decode(k).ok())
                .and_then(|b| <[u8; 32]>::try_from(b).ok())
                .and_then(|b| VerifyingKey::from_bytes(&b).ok());
            let signature = h["signature"]
                .as_str()
                .and_then(|s| B64.decode(s).ok())
                .and_then(|b| <[u8; 64]>::try_from(b).ok())
                .map(|b| Signature::from_bytes(&b));
            if h["format"] != SIGNATURE_FORMAT {
                problems.push(format!("unknown signature format {}", h["format"]));
            }
            if h["signs"].as_str() != Some(hash.as_str()) {
                problems.push("the signature is over another datapackage.json than this one".into());
            }
            match (key, signature) {
                (Some(k), Some(s)) if k.verify_strict(hash.as_bytes(), &s).is_ok() => {
                    signed_by = h["key"].as_str().map(str::to_owned);
                    name = h["name"].as_str().map(str::to_owned);
                }
                (Some(_), Some(_)) => {
                    problems.push("the signature over datapackage.json does not verify".into())
                }
                _ => problems.push("the signature or its key is malformed".into()),
            }
            if let Some(t) = h.get("timestamp") {
                let token = t["token"].as_str().and_then(|s| B64.decode(s).ok());
                match (token, sha256_of_label(&hash)) {
                    (Some(token), Some(digest)) => {
                        match ledger::timestamp::verify_sha256(&token, &digest, tsa_roots) {
                            Ok(s) => stamp = Some(s),
                            Err(e) => problems.push(format!("the timestamp does not verify: {e}")),
                        }
                    }
                    _ => problems.push("the timestamp token is malformed".into()),
                }
            }
        }
    }
    let findings = webarchive::read_wacz(bytes)
        .ok()
        .and_then(|w| w.file(FINDINGS_FILE).and_then(|b| serde_json::from_slice(b).ok()))
        .unwrap_or(Value::Null);
    CaptureCheck {
        verified: problems.is_empty() && archive.ok,
        problems,
        archive,
        signed_by,
        name,
        timestamp: stamp,
        findings,
    }
}
