//! Checking a journal: every signature, every chain link, canonical encoding, the Merkle root
//! of every checkpoint, consistency between successive checkpoints. Each finding names the
//! event or checkpoint and what is wrong.

use std::collections::HashMap;

use ed25519_dalek::VerifyingKey;
use serde::Serialize;

use crate::checkpoint::Checkpoint;
use crate::event::{EVENT_FORMAT, SignedEvent, author_of};
use crate::merkle::{self, MemoryTree};
use crate::{Hash, LedgerError};

/// One problem found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// The event's position in the log, where the problem is an event's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_index: Option<u64>,
    pub message: String,
}

/// The outcome of checking a whole journal.
#[derive(Debug, Serialize)]
pub struct Verification {
    pub events: u64,
    pub projects: usize,
    pub checkpoints: usize,
    /// The largest checkpoint whose signature and root checked out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latest_checkpoint: Option<CheckpointSummary>,
    /// Events appended after the latest checkpoint (not yet fixed by one).
    pub uncovered_events: u64,
    pub findings: Vec<Finding>,
    #[serde(skip)]
    pub tree: MemoryTree,
    #[serde(skip)]
    pub hashes: Vec<Hash>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CheckpointSummary {
    pub size: u64,
    pub root: Hash,
    pub time: String,
}

impl Verification {
    pub fn ok(&self) -> bool {
        self.findings.is_empty()
    }
}

struct ChainHead {
    seq: u64,
    hash: Hash,
    log_index: u64,
}

/// What the parallel stage learns of one stored event.
struct Checked {
    leaf: Hash,
    hash: Hash,
    event: Result<crate::Event, String>,
    /// `Some(false)`: the signature does not verify; `None`: it could not be read.
    signature_ok: Option<bool>,
}

/// Parses, hashes and checks the signatures of a run of events (one worker's share).
fn check_run(key: &VerifyingKey, leaves: &[Vec<u8>]) -> Vec<Checked> {
    let mut out: Vec<Checked> = Vec::with_capacity(leaves.len());
    let mut messages: Vec<&[u8]> = Vec::new();
    let mut signatures = Vec::new();
    let mut signed_at = Vec::new();
    for (n, bytes) in leaves.iter().enumerate() {
        let (event, signature) = match SignedEvent::from_bytes(bytes) {
            Ok(s) => {
                let signature = s.signature().ok();
                (Ok(s.event), signature)
            }
            Err(e) => (Err(e.to_string()), None),
        };
        if let (Some(sig), Some(message)) = (signature, SignedEvent::message_in(bytes)) {
            messages.push(message);
            signatures.push(sig);
            signed_at.push(n);
        }
        out.push(Checked {
            leaf: merkle::leaf_hash(bytes),
            hash: Hash::of(bytes),
            event,
            signature_ok: None,
        });
    }
    let keys = vec![*key; messages.len()];
    let all_ok = ed25519_dalek::verify_batch(&messages, &signatures, &keys).is_ok();
    for (k, &n) in signed_at.iter().enumerate() {
        // A failing batch is rechecked one by one, to name the events.
        out[n].signature_ok = Some(all_ok || key.verify_strict(messages[k], &signatures[k]).is_ok());
    }
    out
}

/// Checks `leaves` (the stored bytes of each event, in log order) and `notes` (signed
/// checkpoints, any order) against the journal's public key.
///
/// Parsing, hashing and signatures run on all cores in chunks; chains and the tree are
/// checked in order. Memory holds one chunk of events, the tree and the event hashes.
pub fn verify(
    key: &VerifyingKey,
    leaves: impl IntoIterator<Item = Vec<u8>>,
    notes: &[String],
) -> Verification {
    const CHUNK: usize = 4096;
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).min(8);
    let author = author_of(key);
    let mut findings = Vec::new();
    let mut heads: HashMap<String, ChainHead> = HashMap::new();
    let mut tree = MemoryTree::new();
    let mut hashes = Vec::new();
    let mut finding = |i: Option<u64>, message: String| findings.push(Finding { log_index: i, message });

    let mut leaves = leaves.into_iter().peekable();
    let mut index = 0u64;
    while leaves.peek().is_some() {
        let chunk: Vec<Vec<u8>> = leaves.by_ref().take(CHUNK).collect();
        let share = chunk.len().div_ceil(workers);
        let checked: Vec<Checked> = std::thread::scope(|scope| {
            let handles: Vec<_> =
                chunk.chunks(share).map(|run| scope.spawn(|| check_run(key, run))).collect();
            handles.into_iter().flat_map(|h| h.join().expect("verification worker")).collect()
        });
        for c in checked {
            let i = index;
            index += 1;
            tree.push(c.leaf);
            hashes.push(c.hash);
            let e = match c.event {
                Ok(e) => e,
                Err(err) => {
                    finding(Some(i), format!("event {i}: {err}"));
                    continue;
                }
            };
            let name = format!("event {i} ({} #{}, {})", e.project, e.project_seq, e.kind.as_str());
            if e.format != EVENT_FORMAT {
                finding(Some(i), format!("{name}: unknown format {:?}", e.format));
            }
            if e.log_index != i {
                finding(
                    Some(i),
                    format!(
                        "{name}: claims log position {} but stands at {i} (events reordered, inserted or deleted)",
                        e.log_index
                    ),
                );
            }
            if e.author != author {
                finding(Some(i), format!("{name}: signed by another key than the journal's"));
            }
            match c.signature_ok {
                Some(true) => {}
                Some(false) => finding(
                    Some(i),
                    format!(
                        "event {i}: the signature does not match the event (altered after signing, or re-signed by another key)"
                    ),
                ),
                None => finding(Some(i), format!("{name}: the signature cannot be read")),
            }
            match heads.get(&e.project) {
                None if e.project_seq != 0 || e.prev.is_some() => finding(
                    Some(i),
                    format!(
                        "{name}: the project's first event in the log, but it claims #{} with a predecessor (earlier events deleted?)",
                        e.project_seq
                    ),
                ),
                Some(head) if e.project_seq != head.seq + 1 => finding(
                    Some(i),
                    format!(
                        "{name}: follows #{} (event {}) in its project: chain broken (an event deleted, inserted or reordered)",
                        head.seq, head.log_index
                    ),
                ),
                Some(head) if e.prev != Some(head.hash) => finding(
                    Some(i),
                    format!(
                        "{name}: its link to #{} (event {}) does not match that event's hash (the event it follows was altered or replaced)",
                        head.seq, head.log_index
                    ),
                ),
                _ => {}
            }
            heads.insert(e.project, ChainHead { seq: e.project_seq, hash: c.hash, log_index: i });
        }
    }

    let size = tree.size();
    let mut checkpoints: Vec<Checkpoint> = Vec::new();
    for note in notes {
        match Checkpoint::verify_note(note, key) {
            Ok(cp) => checkpoints.push(cp),
            Err(e) => finding(None, e.to_string()),
        }
    }
    checkpoints.sort_by_key(|c| c.size);
    let mut latest: Option<&Checkpoint> = None;
    for cp in &checkpoints {
        if cp.size > size {
            finding(
                None,
                format!(
                    "checkpoint of {} events ({}) but the log holds only {size}: events were removed (the log was rolled back)",
                    cp.size, cp.time
                ),
            );
            continue;
        }
        let root = merkle::root(&tree, cp.size).expect("memory tree");
        if root != cp.root {
            finding(
                None,
                format!(
                    "checkpoint of {} events ({}): its root does not match the events (history rewritten)",
                    cp.size, cp.time
                ),
            );
            continue;
        }
        if let Some(prev) = latest
            && prev.size > 0
        {
            let proof = merkle::consistency_proof(&tree, prev.size, cp.size).expect("memory tree");
            if !merkle::verify_consistency(prev.size, cp.size, &prev.root, &cp.root, &proof) {
                finding(
                    None,
                    format!("checkpoints of {} and {} events are not consistent", prev.size, cp.size),
                );
            }
        }
        latest = Some(cp);
    }
    Verification {
        events: size,
        projects: heads.len(),
        checkpoints: checkpoints.len(),
        uncovered_events: size - latest.map_or(0, |c| c.size),
        latest_checkpoint: latest.map(|c| CheckpointSummary {
            size: c.size,
            root: c.root,
            time: c.time.clone(),
        }),
        findings,
        tree,
        hashes,
    }
}

impl From<LedgerError> for Finding {
    fn from(e: LedgerError) -> Self {
        Finding { log_index: None, message: e.to_string() }
    }
}
