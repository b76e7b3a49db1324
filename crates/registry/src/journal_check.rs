//! Whether the journal is intact: every signature, chain link, Merkle root and checkpoint
//! ([`Store::verify`](crate::Store::verify)), and every stored RFC 3161 timestamp against the
//! trusted TSA roots, as one list of findings. `verify` prints it; `claim` reports it.

use evidence::Integrity;
use ledger::verify::{Finding, Verification};
use serde::Serialize;

use crate::timestamps::{CheckedStamp, StampResult};
use crate::{Registry, RegistryError};

/// The journal checked, with its timestamps.
#[derive(Debug, Serialize)]
pub struct JournalCheck {
    /// The journal's check; its findings include the timestamps that fail.
    #[serde(flatten)]
    pub verification: Verification,
    pub timestamps: Vec<CheckedStamp>,
    /// Whether nothing was found wrong.
    pub ok: bool,
}

/// Checks the whole journal and its timestamps.
pub fn journal_check(reg: &Registry) -> Result<JournalCheck, RegistryError> {
    let mut verification = reg.store.verify(&reg.public.verifying_key()?)?;
    let timestamps = reg.check_timestamps()?;
    for c in &timestamps {
        if let StampResult::Invalid { error } = &c.result {
            verification.findings.push(Finding {
                log_index: None,
                message: format!(
                    "timestamp of the checkpoint of {} events from {}: {error}",
                    c.checkpoint, c.tsa_url
                ),
            });
        }
    }
    let ok = verification.findings.is_empty();
    Ok(JournalCheck { verification, timestamps, ok })
}

impl JournalCheck {
    /// The check as a report states it: findings naming their event, the latest checkpoint,
    /// and the latest timestamp that verifies.
    pub fn integrity(&self) -> Integrity {
        let v = &self.verification;
        let findings = v
            .findings
            .iter()
            .map(|f| match f.log_index {
                Some(i) => format!("event {i}: {}", f.message),
                None => f.message.clone(),
            })
            .collect();
        let timestamp = self.timestamps.iter().rev().find_map(|c| match &c.result {
            StampResult::Valid(s) => Some((c.checkpoint, s.time.clone(), s.tsa.clone())),
            StampResult::Invalid { .. } => None,
        });
        Integrity {
            journal_verified: self.ok,
            findings,
            checkpoint: v.latest_checkpoint.as_ref().map(|c| (c.size, c.root.to_hex(), c.time.clone())),
            timestamp,
        }
    }
}
