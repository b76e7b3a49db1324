//! The creative-process journal: events encoded canonically (RFC 8785), chained by SHA-256
//! per project, signed with Ed25519, and appended as leaves of one RFC 9162 Merkle log per
//! identity, with signed checkpoints in the C2SP signed-note format.
//!
//! The crate never stores anything: it computes what to store ([`append`],
//! [`merkle::nodes_for_append`]) and checks what was stored ([`verify::verify`]). The format
//! is specified in `docs/ledger.md`.

pub mod certificate;
pub mod checkpoint;
pub mod event;
mod hash;
pub mod lineage;
pub mod merkle;
pub mod statement;
pub mod text;
pub mod timestamp;
pub mod verify;

use std::collections::HashMap;

use ed25519_dalek::SigningKey;
use serde_json::Value;

pub use checkpoint::Checkpoint;
pub use event::{Event, EventKind, Link, SignedEvent};
pub use hash::Hash;

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("{0}")]
    Malformed(String),
    #[error("the signature does not match")]
    BadSignature,
}

/// An event to append, before it is numbered, linked and signed.
#[derive(Debug, Clone)]
pub struct Draft {
    pub project: String,
    pub kind: EventKind,
    pub data: Value,
    pub derived_from: Vec<DraftLink>,
}

/// A lineage link of a draft: to a stored event, or to an earlier draft of the same batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Event(Hash),
    Draft(usize),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DraftLink {
    pub target: Target,
    pub relation: String,
}

impl DraftLink {
    pub fn event(hash: Hash, relation: &str) -> Self {
        DraftLink { target: Target::Event(hash), relation: relation.into() }
    }

    pub fn draft(index: usize, relation: &str) -> Self {
        DraftLink { target: Target::Draft(index), relation: relation.into() }
    }
}

/// The last event of a project's chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    pub seq: u64,
    pub hash: Hash,
}

/// Numbers, links and signs `drafts` to follow a log of `log_size` events whose project
/// chains end at `heads` (updated as the drafts are appended).
///
/// # Panics
/// If a draft links to a draft that does not come before it in the batch.
pub fn append(
    key: &SigningKey,
    log_size: u64,
    heads: &mut HashMap<String, Head>,
    drafts: Vec<Draft>,
) -> Vec<SignedEvent> {
    let author = event::author_of(&key.verifying_key());
    let time = event::now();
    let mut out: Vec<SignedEvent> = Vec::with_capacity(drafts.len());
    for (i, d) in drafts.into_iter().enumerate() {
        let derived_from = d
            .derived_from
            .into_iter()
            .map(|l| Link {
                event: match l.target {
                    Target::Event(h) => h,
                    Target::Draft(j) => {
                        assert!(j < i, "draft {i} links to draft {j}, which does not come before it");
                        out[j].hash()
                    }
                },
                relation: l.relation,
            })
            .collect();
        let head = heads.get(&d.project).copied();
        let signed = Event {
            format: event::EVENT_FORMAT.into(),
            log_index: log_size + i as u64,
            project: d.project.clone(),
            project_seq: head.map_or(0, |h| h.seq + 1),
            prev: head.map(|h| h.hash),
            time: time.clone(),
            author: author.clone(),
            kind: d.kind,
            data: {
                let mut data = d.data;
                event::exact_numbers(&mut data);
                data
            },
            derived_from,
        }
        .sign(key);
        heads.insert(d.project, Head { seq: signed.event.project_seq, hash: signed.hash() });
        out.push(signed);
    }
    out
}
