//! Clearance look-ups on a registry server: what an image says of its origin, and every
//! published claim on it — by the watermark it carries, by its fingerprint, or by a PDQ
//! hash a platform computed on its side — oldest first (docs/server.md). The works are
//! searched in the server's own index or through matchers ([`Finder`]); an answer from
//! matchers says whether a part of the index did not answer.

use std::path::Path;

use fingerprint::catalog::PDQ_RADIUS;
use fingerprint::pdq::PdqHash;
use ledger::Hash;
use serde::Serialize;

use crate::search::MatchReport;
use crate::shards::{Coverage, Finder};
use crate::store::PublicationRow;
use crate::verify_image::{ImageVerdict, VERIFY_LIMITS, VerifyOptions, verify_decoded};
use crate::works::{Scanned, Work};
use crate::{RegistryError, Store};

/// One published work an image or hash was tied to.
#[derive(Debug, Serialize)]
pub struct ClaimFound {
    pub work: Work,
    pub publication: PublicationRow,
    /// How it was tied: `watermark` (the ID the pixels carry names the work), `fingerprint`
    /// (the image matched its fingerprints), `pdq` (the hash given lies within the radius).
    pub found_by: Vec<&'static str>,
    /// The fingerprint match: distance, the part of the work shown, confidence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<MatchReport>,
    /// The PDQ distance of a hash look-up.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pdq_distance: Option<u32>,
}

/// A look-up of one image.
#[derive(Debug, Serialize)]
pub struct Lookup {
    pub sha256: Hash,
    pub works_searched: usize,
    /// What the file says: C2PA (with AI disclosure), the journal proof, the watermark, the
    /// AIGC label, generator metadata.
    pub image: ImageVerdict,
    /// Every published claim, oldest publication first.
    pub claims: Vec<ClaimFound>,
    /// Whether every part of the index answered, when matchers hold it.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub coverage: Option<Coverage>,
    /// A PNG thumbnail of the image, when asked for (a page shows it beside the works).
    #[serde(skip)]
    pub preview: Option<Vec<u8>>,
}

/// Looks `bytes` (named `name` in messages) up: decoded once, checked, fingerprinted.
pub fn lookup_image<'a>(
    store: &Store,
    finder: impl Into<Finder<'a>>,
    name: &Path,
    bytes: &[u8],
    options: &VerifyOptions,
    preview: bool,
) -> Result<Lookup, RegistryError> {
    let scanned = Scanned::from_bytes(name, bytes, &VERIFY_LIMITS)?;
    let image = verify_decoded(name, bytes, Ok(&scanned.decoded), None, options)?;
    let mut claims: Vec<ClaimFound> = Vec::new();
    let watermarked = image.watermark.as_ref().and_then(|w| u64::from_str_radix(&w.payload, 16).ok());
    if let Some(work) = watermarked.map(|id| store.work_by_watermark(id)).transpose()?.flatten() {
        push(store, &mut claims, work, "watermark")?;
    }
    let finder = finder.into();
    let found = finder.matches(store, &scanned, None)?;
    for (m, work) in found.found {
        if let Some(c) = push(store, &mut claims, work, "fingerprint")? {
            c.fingerprint = Some(m);
        }
    }
    claims.sort_by_key(|c| c.publication.log_index);
    let preview = preview.then(|| {
        let thumbnail = fingerprint::prints::thumbnail(&scanned.decoded.image, crate::works::THUMBNAIL_SIDE);
        fingerprint::decode::encode_png(&thumbnail)
    });
    Ok(Lookup {
        sha256: scanned.sha256,
        works_searched: found.works,
        image,
        claims,
        coverage: found.coverage,
        preview,
    })
}

/// The answer for one PDQ hash.
#[derive(Debug, Serialize)]
pub struct HashLookup {
    pub pdq: String,
    pub claims: Vec<ClaimFound>,
}

/// Parses a PDQ hash: 64 hexadecimal digits.
pub fn parse_pdq(hex: &str) -> Result<PdqHash, RegistryError> {
    PdqHash::from_hex(hex.trim())
        .ok_or_else(|| RegistryError::Invalid(format!("{hex:?} is not a PDQ hash (64 hexadecimal digits)")))
}

/// Looks a PDQ hash up among the published works' codes (every dihedral variant), within
/// `radius` (at most [`PDQ_RADIUS`]).
pub fn lookup_pdq<'a>(
    store: &Store,
    finder: impl Into<Finder<'a>>,
    hash: &PdqHash,
    radius: u32,
) -> Result<HashLookup, RegistryError> {
    let (mut all, _) = lookup_pdqs(store, finder, std::slice::from_ref(hash), radius)?;
    Ok(all.pop().expect("one answer per hash"))
}

/// Looks hashes up as [`lookup_pdq`] does, in one search: an answer per hash, in order, and
/// whether every part of the index answered (when matchers hold it).
pub fn lookup_pdqs<'a>(
    store: &Store,
    finder: impl Into<Finder<'a>>,
    hashes: &[PdqHash],
    radius: u32,
) -> Result<(Vec<HashLookup>, Option<Coverage>), RegistryError> {
    let near = finder.into().near(store, hashes, radius.min(PDQ_RADIUS))?;
    let mut out = Vec::new();
    for (hash, works) in hashes.iter().zip(near.found) {
        let mut claims = Vec::new();
        for (w, distance) in works {
            if let Some(c) = push(store, &mut claims, w, "pdq")? {
                c.pdq_distance = Some(distance);
            }
        }
        claims.sort_by_key(|c| c.publication.log_index);
        out.push(HashLookup { pdq: hash.to_hex(), claims });
    }
    Ok((out, near.coverage))
}

/// Adds `work` as found `by`, or adds `by` to it if already there; works that are not
/// publications (none on a server's store) are left out.
fn push<'a>(
    store: &Store,
    claims: &'a mut Vec<ClaimFound>,
    work: Work,
    by: &'static str,
) -> Result<Option<&'a mut ClaimFound>, RegistryError> {
    if let Some(i) = claims.iter().position(|c| c.work.id == work.id) {
        claims[i].found_by.push(by);
        return Ok(Some(&mut claims[i]));
    }
    let Some(publication) = store.publication(work.id)? else { return Ok(None) };
    claims.push(ClaimFound { work, publication, found_by: vec![by], fingerprint: None, pdq_distance: None });
    Ok(claims.last_mut())
}
