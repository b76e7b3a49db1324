//! The infringement report of a copy: a capture package (`handprint capture`) checked offline
//! and read, or a local file with the place and time the user states; the registered work it
//! copies (`--work`, else the best match) and its sealed event; the report
//! ([`evidence::Infringement`]) and the folder it is written into (`report.html`,
//! `report.pdf`, `report.json`).
//!
//! A package that does not verify is refused: a report would lend its contents a weight
//! they no longer have.

use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::VerifyingKey;
use evidence::infringement::{Capture, CopySide, Infringement, MatchSide, Sealed, WorkSide};
use fingerprint::catalog::WorkId;
use serde::Serialize;
use serde_json::Value;

use crate::claim::{check_out_dir, sealed_event};
use crate::search::{MatchReport, SearchIndex, side_by_side};
use crate::verify_image::{VERIFY_LIMITS, VerifyOptions, verify_decoded};
use crate::web_evidence::{ENVIRONMENT_FILE, verify_capture};
use crate::works::Scanned;
use crate::{Registry, RegistryError};

/// The largest capture package read.
pub const MAX_PACKAGE: u64 = 4 << 30;
/// The largest copy read.
pub const MAX_COPY: u64 = 256 << 20;

/// What the copy is.
pub enum CopyInput<'a> {
    /// A capture package.
    Package(&'a Path),
    /// A local file, with where and when the user says it was found (RFC 3339).
    File { path: &'a Path, source: &'a str, found_at: &'a str },
}

/// What [`write`] wrote.
#[derive(Debug, Serialize)]
pub struct InfringementWritten {
    pub out: PathBuf,
    pub report: PathBuf,
    pub work: WorkId,
    pub source: String,
    pub stated_by_user: bool,
    /// Whether the work was sealed before the copy was captured (or stated found); none
    /// when it is not sealed.
    pub sealed_before: Option<bool>,
    #[serde(skip)]
    pub missing_glyphs: Vec<char>,
}

/// RFC 3339 as UTC with milliseconds, as the journal writes times; none if it is not one.
fn utc(time: &str) -> Option<String> {
    chrono::DateTime::parse_from_rfc3339(time)
        .ok()
        .map(|t| t.with_timezone(&chrono::Utc).to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
}

/// A candidate: the work, and the match that names it (none when only the watermark does).
struct Pick {
    work: WorkId,
    matched: Option<Value>,
}

/// How good a match is, higher better: confidence, then a small PDQ distance, then the area.
fn rank(m: &Value) -> (bool, i64, i64) {
    let distance = m["pdq"]["distance"].as_i64().unwrap_or(1000);
    let area = (m["features"]["area_shown"].as_f64().unwrap_or(0.0) * 1000.0) as i64;
    (m["confidence"] == "high", -distance, area)
}

/// The finding and match for `work`, or the best one; the findings are JSON as
/// `findings.json` holds them.
fn pick(findings: &[Value], work: Option<WorkId>) -> Option<(usize, Pick)> {
    let mut candidates = Vec::new();
    for (i, f) in findings.iter().enumerate() {
        for m in f["matches"].as_array().into_iter().flatten() {
            if let Some(w) = m["work"].as_i64() {
                candidates.push((i, Pick { work: w, matched: Some(m.clone()) }));
            }
        }
        if let Some(w) = f["watermark_work"].as_i64()
            && !candidates.iter().any(|(j, p)| *j == i && p.work == w)
        {
            candidates.push((i, Pick { work: w, matched: None }));
        }
    }
    match work {
        Some(w) => candidates.into_iter().find(|(_, p)| p.work == w),
        None => candidates.into_iter().max_by_key(|(_, p)| p.matched.as_ref().map(rank)),
    }
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array().into_iter().flatten().filter_map(|x| x.as_str().map(str::to_owned)).collect()
}

/// The report's match from a match's JSON and the copy's finding.
fn match_side(m: &Value, finding: &Value, watermark_work: Option<String>, png: Option<Vec<u8>>) -> MatchSide {
    let r = &m["features"]["region"];
    let region = match (r["left"].as_f64(), r["top"].as_f64(), r["right"].as_f64(), r["bottom"].as_f64()) {
        (Some(l), Some(t), Some(rt), Some(b)) => Some([l, t, rt, b]),
        _ => None,
    };
    MatchSide {
        confidence: m["confidence"].as_str().unwrap_or("unknown").to_owned(),
        matched_by: m["matched_by"].as_str().unwrap_or("unknown").to_owned(),
        pdq_distance: m["pdq"]["distance"].as_u64().and_then(|d| u32::try_from(d).ok()),
        area_shown: m["features"]["area_shown"].as_f64(),
        region,
        rotation_degrees: m["features"]["rotation_degrees"].as_f64(),
        watermark: finding["watermark"].as_str().map(str::to_owned),
        watermark_work,
        stripped: strings(&finding["stripped"]),
        credentials: finding["credentials"].as_str().unwrap_or_default().to_owned(),
        side_by_side_png: png,
    }
}

/// Fills in when `server` published the report's work, if it did: found by the work's PDQ
/// hash and its file's SHA-256 among the registry's claims. Returns whether it was found.
pub fn add_publication(
    reg: &Registry,
    report: &mut Infringement,
    server: &crate::remote::Server,
) -> Result<bool, RegistryError> {
    let Some((_, codes, _)) =
        reg.store.works_after(report.work.id - 1, 1)?.into_iter().find(|w| w.0 == report.work.id)
    else {
        return Ok(false);
    };
    let Some(code) =
        codes.iter().find(|(v, _)| v == fingerprint::catalog::Variant::Original.name()).map(|(_, c)| c)
    else {
        return Ok(false);
    };
    // The stored code's bytes are PDQ's sixteen 16-bit words, low word first.
    let words: Vec<u16> = code.chunks(2).map(|b| u16::from_le_bytes([b[0], b[1]])).collect();
    let hex: String = words.iter().rev().map(|w| format!("{w:04x}")).collect();
    let Some(claim) = server.publication_of(&hex, &report.work.sha256)? else { return Ok(false) };
    let when = claim["work"]["registered"].as_str().unwrap_or_default();
    report.work.published = Some(format!(
        "{} (entry {} of the log of {}, {})",
        utc(when).unwrap_or_else(|| when.to_owned()),
        claim["publication"]["log_index"],
        server.base(),
        claim["links"]["page"].as_str().unwrap_or_default()
    ));
    Ok(true)
}

/// The work's side of the report, from the store.
fn work_side(reg: &Registry, id: WorkId) -> Result<WorkSide, RegistryError> {
    let work = reg.store.work(id)?.ok_or_else(|| {
        RegistryError::Invalid(format!("no work {id} registered here (see `handprint works`)"))
    })?;
    let sealed = sealed_event(&reg.store, id)?.map(|e| {
        let origin = B64
            .decode(&e.event.author)
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .and_then(|b| VerifyingKey::from_bytes(&b).ok())
            .map(|k| ledger::checkpoint::origin_for(&k))
            .unwrap_or_default();
        Sealed {
            time: utc(&e.event.time).unwrap_or_else(|| e.event.time.clone()),
            log_index: e.event.log_index,
            origin,
            hash: e.hash().to_hex(),
        }
    });
    Ok(WorkSide {
        id: work.id,
        title: work.title,
        license: work.license,
        creator: work.registrant,
        creator_key: work.public_key,
        sha256: work.sha256.to_hex(),
        width: work.width,
        height: work.height,
        sealed,
        published: None,
        thumbnail_png: reg.store.thumbnail_png(id).ok(),
    })
}

/// `3 — "Title"` for the work a watermark names.
fn work_named(reg: &Registry, id: Option<WorkId>) -> Result<Option<String>, RegistryError> {
    Ok(match id {
        Some(id) => reg.store.work(id)?.map(|w| format!("{} — \"{}\"", w.id, w.title)),
        None => None,
    })
}

/// Makes the infringement report of `copy` against `work` (else the best match). Nothing
/// is written.
pub fn infringement(
    reg: &Registry,
    copy: &CopyInput,
    work: Option<WorkId>,
) -> Result<Infringement, RegistryError> {
    match copy {
        CopyInput::Package(path) => from_package(reg, path, work),
        CopyInput::File { path, source, found_at } => from_file(reg, path, source, found_at, work),
    }
}

fn from_package(reg: &Registry, path: &Path, work: Option<WorkId>) -> Result<Infringement, RegistryError> {
    let fail = |message: String| RegistryError::File { path: path.into(), message };
    let bytes = crate::read_limited(path, MAX_PACKAGE)?;
    let roots = crate::timestamps::read_roots(&reg.tsa_roots_dir())?;
    let check = verify_capture(&bytes, &roots);
    if !check.verified {
        return Err(fail(format!(
            "the capture package does not verify ({}); no report is made from it (see `handprint verify \
             --capture`)",
            check.problems.join("; ")
        )));
    }
    let wacz = webarchive::read_wacz(&bytes).map_err(|e| fail(e.to_string()))?;
    let env: Value = wacz
        .file(ENVIRONMENT_FILE)
        .and_then(|b| serde_json::from_slice(b).ok())
        .ok_or_else(|| fail(format!("no readable {ENVIRONMENT_FILE}")))?;
    let findings = check.findings.as_array().cloned().unwrap_or_default();
    let (i, chosen) = pick(&findings, work).ok_or_else(|| {
        fail(match work {
            Some(w) => format!("work {w} is not among the package's findings"),
            None => "no image of the captured page matches a registered work".into(),
        })
    })?;
    let finding = &findings[i];
    let watermark_work = work_named(reg, finding["watermark_work"].as_i64())?;
    let matched = chosen.matched.as_ref().map(|m| {
        let png = m["side_by_side"].as_str().and_then(|p| wacz.file(p)).map(<[u8]>::to_vec);
        match_side(m, finding, watermark_work.clone(), png)
    });
    let page = env["page"].as_array().and_then(|p| p.last()).cloned().unwrap_or(Value::Null);
    let source = page["url"].as_str().or(env["requested_url"].as_str()).unwrap_or_default().to_owned();
    let started = env["started"].as_str().unwrap_or_default();
    let time = |k: &str| env[k].as_str().map(|t| utc(t).unwrap_or_else(|| t.to_owned())).unwrap_or_default();
    let dns = env["dns"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|d| format!("{}: {}", d[0].as_str().unwrap_or_default(), strings(&d[1]).join(" ")))
        .collect();
    let left_out = env["left_out"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|l| {
            format!(
                "{} ({})",
                l["url"].as_str().unwrap_or_default(),
                l["reason"].as_str().unwrap_or_default()
            )
        })
        .collect();
    let ips =
        env["page"].as_array().into_iter().flatten().filter_map(|p| p["ip"].as_str().map(str::to_owned));
    let mut ip: Vec<String> = Vec::new();
    for a in ips {
        if !ip.contains(&a) {
            ip.push(a);
        }
    }
    let capture = Capture {
        file_name: path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        software: env["software"].as_str().unwrap_or_default().to_owned(),
        time_source: env["time_source"].as_str().unwrap_or_default().to_owned(),
        started: time("started"),
        finished: time("finished"),
        ip,
        protocol: strings(&page["protocol"]),
        dns,
        left_out,
        screenshot: env["screenshot"].as_str().unwrap_or_default().to_owned(),
        datapackage_hash: check.archive.datapackage_hash.clone().unwrap_or_default(),
        signed_by: check.signed_by.clone(),
        signer_name: check.name.clone(),
        timestamp: check.timestamp.as_ref().map(|t| (t.time.clone(), t.tsa.clone())),
        verified: check.verified,
        problems: check.problems.clone(),
    };
    let copy = CopySide {
        source,
        stated_by_user: false,
        image_url: finding["url"].as_str().map(str::to_owned),
        found_at: utc(started).unwrap_or_else(|| started.to_owned()),
        sha256: finding["sha256"].as_str().unwrap_or_default().to_owned(),
        format: finding["format"].as_str().unwrap_or_default().to_owned(),
        width: finding["width"].as_u64().unwrap_or_default() as u32,
        height: finding["height"].as_u64().unwrap_or_default() as u32,
        capture: Some(capture),
    };
    Ok(Infringement::new(work_side(reg, chosen.work)?, copy, matched, ledger::event::now()))
}

fn from_file(
    reg: &Registry,
    path: &Path,
    source: &str,
    found_at: &str,
    work: Option<WorkId>,
) -> Result<Infringement, RegistryError> {
    let found_at = utc(found_at).ok_or_else(|| {
        RegistryError::Invalid(format!(
            "--found-at {found_at:?}: not an RFC 3339 time (like 2026-11-30T14:00:00Z)"
        ))
    })?;
    let bytes = crate::read_limited(path, MAX_COPY)?;
    let scanned = Scanned::from_bytes(path, &bytes, &VERIFY_LIMITS)?;
    let index = SearchIndex::of_registry(reg)?;
    let matches = index.reports(&reg.store, &scanned)?;
    let verdict = verify_decoded(path, &bytes, Ok(&scanned.decoded), None, &VerifyOptions::default())?;
    let watermark = verdict.watermark.as_ref().map(|w| w.payload.clone());
    let watermark_id = match watermark.as_deref().and_then(|p| u64::from_str_radix(p, 16).ok()) {
        Some(id) => reg.store.work_by_watermark(id)?.map(|w| w.id),
        None => None,
    };
    let stripped = crate::web_evidence::stripped(&verdict, &matches);
    // The finding as a capture's findings.json holds it, so one choice serves both.
    let finding = serde_json::json!({
        "matches": matches,
        "watermark": watermark,
        "watermark_work": watermark_id,
        "stripped": stripped,
        "credentials": serde_json::to_value(verdict.c2pa.status).unwrap_or_default(),
    });
    let (_, chosen) = pick(std::slice::from_ref(&finding), work).ok_or_else(|| RegistryError::File {
        path: path.into(),
        message: match work {
            Some(w) => format!("does not match work {w}"),
            None => "matches no registered work".into(),
        },
    })?;
    let watermark_work = work_named(reg, watermark_id)?;
    let matched = match &chosen.matched {
        Some(m) => {
            let report: Option<&MatchReport> = matches.iter().find(|r| Some(r.work) == m["work"].as_i64());
            let png = match report {
                Some(r) => Some(side_by_side(&reg.store, &scanned, &r.found)?),
                None => None,
            };
            Some(match_side(m, &finding, watermark_work, png))
        }
        None => None,
    };
    let copy = CopySide {
        source: source.to_owned(),
        stated_by_user: true,
        image_url: None,
        found_at,
        sha256: scanned.sha256.to_hex(),
        format: scanned.decoded.format.name().to_owned(),
        width: scanned.fingerprint.width,
        height: scanned.fingerprint.height,
        capture: None,
    };
    Ok(Infringement::new(work_side(reg, chosen.work)?, copy, matched, ledger::event::now()))
}

/// Writes the report (HTML, PDF, JSON) into `out`, which must not exist or be empty: beside
/// it first, then renamed into place, so an interrupted run leaves no half report.
pub fn write(report: &Infringement, out: &Path) -> Result<InfringementWritten, RegistryError> {
    check_out_dir(out)?;
    let name = out
        .file_name()
        .ok_or_else(|| RegistryError::File { path: out.into(), message: "not a folder name".into() })?;
    let partial = out.with_file_name(format!(".{}.partial-{}", name.to_string_lossy(), std::process::id()));
    let _ = std::fs::remove_dir_all(&partial);
    let missing_glyphs = match write_into(report, &partial) {
        Ok(m) => m,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&partial);
            return Err(e);
        }
    };
    if out.exists() {
        std::fs::remove_dir(out)
            .map_err(|e| RegistryError::File { path: out.into(), message: format!("cannot replace: {e}") })?;
    }
    std::fs::rename(&partial, out).map_err(|e| RegistryError::File {
        path: out.into(),
        message: format!("cannot move the report into place: {e}"),
    })?;
    let sealed_before = report.work.sealed.as_ref().and_then(|s| {
        let a = chrono::DateTime::parse_from_rfc3339(&s.time).ok()?;
        let b = chrono::DateTime::parse_from_rfc3339(&report.copy.found_at).ok()?;
        Some(a < b)
    });
    Ok(InfringementWritten {
        out: out.to_path_buf(),
        report: out.join("report.html"),
        work: report.work.id,
        source: report.copy.source.clone(),
        stated_by_user: report.copy.stated_by_user,
        sealed_before,
        missing_glyphs,
    })
}

fn write_into(report: &Infringement, out: &Path) -> Result<Vec<char>, RegistryError> {
    std::fs::create_dir_all(out).map_err(|e| RegistryError::io(out, e))?;
    let write = |name: &str, bytes: &[u8]| {
        let path = out.join(name);
        std::fs::write(&path, bytes).map_err(|e| RegistryError::io(&path, e))
    };
    let report_error = |e: evidence::EvidenceError| RegistryError::Invalid(e.to_string());
    write("report.html", report.html().map_err(report_error)?.as_bytes())?;
    let json =
        serde_json::to_vec_pretty(report).map_err(|e| RegistryError::Invalid(format!("report.json: {e}")))?;
    write("report.json", &json)?;
    let (pdf, missing) = report.pdf().map_err(report_error)?;
    write("report.pdf", &pdf)?;
    Ok(missing)
}
