//! The creative-process journal: events encoded canonically (RFC 8785), chained by SHA-256
//! per project, signed with Ed25519, and appended as leaves of one RFC 9162 Merkle log per
//! identity, with signed checkpoints in the C2SP signed-note format.
//!
//! The crate never stores anything: it computes what to store ([`merkle::nodes_for_append`],
//! [`event::Event::sign`]) and checks what was stored ([`verify`]). The format is specified
//! in `docs/ledger.md`.

mod hash;
pub mod merkle;

pub use hash::Hash;
