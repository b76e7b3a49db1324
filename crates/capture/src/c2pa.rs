//! C2PA presence: is a manifest store embedded, and what made its active manifest?
//!
//! This reads only the JUMBF box structure (ISO/IEC 19566-5) down to the active manifest's
//! claim; validating signatures and bindings is the `credentials` crate's job, through the
//! official `c2pa` SDK.

use ciborium::Value;

use crate::C2paPresence;

/// One JUMBF box: type and payload.
fn boxes(mut data: &[u8]) -> impl Iterator<Item = ([u8; 4], &[u8])> {
    std::iter::from_fn(move || {
        if data.len() < 8 {
            return None;
        }
        let lbox = u32::from_be_bytes(data[0..4].try_into().unwrap()) as u64;
        let tbox: [u8; 4] = data[4..8].try_into().unwrap();
        let (header, total) = match lbox {
            0 => (8, data.len() as u64),
            1 if data.len() >= 16 => (16, u64::from_be_bytes(data[8..16].try_into().unwrap())),
            n if n >= 8 => (8, n),
            _ => return None,
        };
        if total < header || total > data.len() as u64 {
            return None;
        }
        let payload = &data[header as usize..total as usize];
        data = &data[total as usize..];
        Some((tbox, payload))
    })
}

/// A superbox (`jumb`) payload: its description box's label, and the boxes after it.
fn superbox(payload: &[u8]) -> Option<(String, &[u8])> {
    let (tbox, desc) = boxes(payload).next()?;
    if &tbox != b"jumd" || desc.len() < 17 {
        return None;
    }
    let toggles = desc[16];
    let label = if toggles & 0x02 != 0 {
        let rest = &desc[17..];
        let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
        String::from_utf8_lossy(&rest[..end]).into_owned()
    } else {
        String::new()
    };
    let desc_total = 8 + desc.len();
    Some((label, &payload[desc_total..]))
}

pub(crate) fn presence(location: &str, store: &[u8]) -> C2paPresence {
    let mut found =
        C2paPresence { location: location.to_owned(), bytes: store.len() as u64, ..Default::default() };
    let Some((tbox, payload)) = boxes(store).next() else { return found };
    let Some((label, manifests)) = (&tbox == b"jumb").then(|| superbox(payload)).flatten() else {
        return found;
    };
    if label != "c2pa" {
        return found;
    }
    // The active manifest is the last one in the store.
    let Some((label, manifest)) =
        boxes(manifests).filter(|(t, _)| t == b"jumb").filter_map(|(_, p)| superbox(p)).last()
    else {
        return found;
    };
    found.active_manifest = Some(label);
    let claim = boxes(manifest)
        .filter(|(t, _)| t == b"jumb")
        .filter_map(|(_, p)| superbox(p))
        .find(|(l, _)| l == "c2pa.claim" || l == "c2pa.claim.v2");
    if let Some((_, content)) = claim
        && let Some((_, cbor)) = boxes(content).find(|(t, _)| t == b"cbor")
    {
        found.claim_generator = claim_generator(cbor);
    }
    found
}

/// `claim_generator` (claim v1) or `claim_generator_info` name and version (claim v2).
fn claim_generator(cbor: &[u8]) -> Option<String> {
    let value: Value = ciborium::from_reader(cbor).ok()?;
    let map = value.as_map()?;
    let get = |m: &[(Value, Value)], key: &str| -> Option<Value> {
        m.iter().find(|(k, _)| k.as_text() == Some(key)).map(|(_, v)| v.clone())
    };
    if let Some(Value::Text(g)) = get(map, "claim_generator") {
        return Some(g);
    }
    let info = get(map, "claim_generator_info")?;
    let info = match info {
        Value::Array(items) => items.into_iter().next()?,
        other => other,
    };
    let info = info.as_map()?;
    let name = get(info, "name")?.as_text()?.to_owned();
    Some(match get(info, "version").and_then(|v| v.as_text().map(str::to_owned)) {
        Some(version) => format!("{name} {version}"),
        None => name,
    })
}
