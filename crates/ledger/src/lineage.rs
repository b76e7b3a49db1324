//! What an event derives from: the derivation graph walked back from it.

use std::collections::{HashMap, VecDeque};

use crate::{Hash, SignedEvent};

/// The relation of a generation to the previous sample of the same prompt: a sibling, not a
/// source.
pub const SIBLING: &str = "same-prompt";

/// The indexes (into `events`) of the events `events[start]` derives from, `start` first and
/// then nearest first. Sibling links are followed, so that a sample's prompt history is
/// reached through the first sample of its round, but the siblings themselves are not
/// sources and are left out.
pub fn ancestors(events: &[SignedEvent], start: usize) -> Vec<usize> {
    let by_hash: HashMap<Hash, usize> = events.iter().enumerate().map(|(i, e)| (e.hash(), i)).collect();
    // 0: not reached, 1: reached as a sibling only, 2: reached as a source.
    let mut state = vec![0u8; events.len()];
    let mut out = Vec::new();
    let mut queue = VecDeque::from([(start, true)]);
    while let Some((i, source)) = queue.pop_front() {
        let wanted = if source { 2 } else { 1 };
        if state[i] >= wanted {
            continue;
        }
        let first_visit = state[i] == 0;
        state[i] = wanted;
        if source {
            out.push(i);
        }
        if !first_visit {
            continue;
        }
        for l in &events[i].event.derived_from {
            if let Some(&j) = by_hash.get(&l.event) {
                queue.push_back((j, l.relation != SIBLING));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use ed25519_dalek::SigningKey;
    use serde_json::json;

    use super::*;
    use crate::{Draft, DraftLink, EventKind};

    #[test]
    fn siblings_lead_to_the_prompt_history_but_are_not_sources() {
        let key = SigningKey::from_bytes(&[1; 32]);
        let d = |kind, links: Vec<DraftLink>| Draft {
            project: "p".into(),
            kind,
            data: json!({}),
            derived_from: links,
        };
        // 0 gen; 1 prompt edit of 0; 2 gen (prompt-edit 1); 3 gen (sibling of 2); 4 edit of 3.
        let drafts = vec![
            d(EventKind::Generated, vec![]),
            d(EventKind::PromptEdited, vec![DraftLink::draft(0, "prompt-revision")]),
            d(EventKind::Generated, vec![DraftLink::draft(1, "prompt-edit")]),
            d(EventKind::Generated, vec![DraftLink::draft(2, SIBLING)]),
            d(EventKind::Edited, vec![DraftLink::draft(3, "edit-input")]),
        ];
        let events = crate::append(&key, 0, &mut HashMap::new(), drafts);
        assert_eq!(ancestors(&events, 4), vec![4, 3, 1, 0]);
        assert_eq!(ancestors(&events, 0), vec![0]);
    }
}
