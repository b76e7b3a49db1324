//! Every kind of tampering with a journal is found and named.

use std::collections::HashMap;

use ed25519_dalek::SigningKey;
use ledger::checkpoint::{Checkpoint, origin_for};
use ledger::merkle::MemoryTree;
use ledger::verify::verify;
use ledger::{Draft, EventKind, Head, SignedEvent, append, merkle};
use serde_json::json;

struct Journal {
    key: SigningKey,
    leaves: Vec<Vec<u8>>,
    notes: Vec<String>,
}

/// 30 events over two projects, a checkpoint after every 10.
fn journal() -> Journal {
    let key = SigningKey::from_bytes(&[42; 32]);
    let mut heads: HashMap<String, Head> = HashMap::new();
    let mut leaves = Vec::new();
    let mut notes = Vec::new();
    let mut tree = MemoryTree::new();
    for batch in 0..3 {
        let drafts = (0..10)
            .map(|i| Draft {
                project: if i % 3 == 0 { "fox".into() } else { "lighthouse".into() },
                kind: if i % 4 == 0 { EventKind::Note } else { EventKind::Generated },
                data: json!({"n": batch * 10 + i, "prompt": format!("a fox, take {i}")}),
                derived_from: vec![],
            })
            .collect();
        for e in append(&key, leaves.len() as u64, &mut heads, drafts) {
            let bytes = e.to_bytes();
            tree.push(merkle::leaf_hash(&bytes));
            leaves.push(bytes);
        }
        let cp = Checkpoint {
            origin: origin_for(&key.verifying_key()),
            size: tree.size(),
            root: tree.root(),
            time: format!("2026-11-26T21:0{batch}:00.000Z"),
        };
        notes.push(cp.sign(&key));
    }
    Journal { key, leaves, notes }
}

fn findings(j: &Journal) -> Vec<String> {
    let v = verify(&j.key.verifying_key(), j.leaves.clone(), &j.notes);
    v.findings.into_iter().map(|f| f.message).collect()
}

fn assert_found(j: &Journal, needles: &[&str]) {
    let found = findings(j);
    for needle in needles {
        assert!(found.iter().any(|f| f.contains(needle)), "no finding with {needle:?} in {found:#?}");
    }
}

#[test]
fn an_untouched_journal_verifies() {
    let j = journal();
    let v = verify(&j.key.verifying_key(), j.leaves.clone(), &j.notes);
    assert!(v.ok(), "{:#?}", v.findings);
    assert_eq!((v.events, v.projects, v.checkpoints, v.uncovered_events), (30, 2, 3, 0));
}

#[test]
fn a_flipped_byte_is_found() {
    let mut j = journal();
    let at = j.leaves[12].windows(4).position(|w| w == b"take").unwrap();
    j.leaves[12][at] = b'm'; // "make": still canonical JSON, no longer what was signed
    assert_found(
        &j,
        &["event 12", "signature does not match", "does not match that event's hash", "root does not match"],
    );
}

#[test]
fn a_non_canonical_rewrite_is_found() {
    let mut j = journal();
    let text = String::from_utf8(j.leaves[5].clone()).unwrap().replacen("{", "{ ", 1);
    j.leaves[5] = text.into_bytes();
    assert_found(&j, &["event 5: not in canonical form"]);
}

#[test]
fn a_deleted_event_is_found() {
    let mut j = journal();
    j.leaves.remove(7);
    assert_found(&j, &["claims log position 8 but stands at 7", "chain broken", "only 29"]);
}

#[test]
fn reordered_events_are_found() {
    let mut j = journal();
    j.leaves.swap(3, 4);
    assert_found(&j, &["claims log position 4 but stands at 3", "root does not match"]);
}

#[test]
fn an_inserted_event_signed_by_another_key_is_found() {
    let mut j = journal();
    let intruder = SigningKey::from_bytes(&[9; 32]);
    let mut heads = HashMap::new();
    let forged = append(
        &intruder,
        10,
        &mut heads,
        vec![Draft {
            project: "fox".into(),
            kind: EventKind::Note,
            data: json!({"text": "I made this"}),
            derived_from: vec![],
        }],
    );
    j.leaves.insert(10, forged[0].to_bytes());
    assert_found(&j, &["event 10", "signed by another key", "claims log position 10 but stands at 11"]);
}

#[test]
fn an_event_altered_and_re_signed_by_its_own_author_is_found() {
    let mut j = journal();
    let mut e = SignedEvent::from_bytes(&j.leaves[15]).unwrap().event;
    e.data = json!({"n": 15, "prompt": "a different prompt, written later"});
    j.leaves[15] = e.sign(&j.key).to_bytes();
    // The signature is valid, but the next event of its project links to the original.
    assert_found(&j, &["does not match that event's hash", "checkpoint of 20 events", "history rewritten"]);
}

#[test]
fn a_rolled_back_log_is_found() {
    let mut j = journal();
    j.leaves.truncate(25);
    assert_found(&j, &["checkpoint of 30 events", "holds only 25", "rolled back"]);
}

#[test]
fn a_forged_checkpoint_is_found() {
    let mut j = journal();
    j.notes[1] = j.notes[1].replace("\n20\n", "\n19\n");
    assert_found(&j, &["no valid signature"]);
}
