//! The evidence of human authorship: facts derived from a project's journal, their bearing
//! on the standards courts and offices have applied (no verdict), and the report a person
//! reads: one document (document.rs) rendered as a self-contained HTML file and its PDF twin.
//!
//! This crate reads events and writes documents; it never touches the store.

pub mod assessment;
pub mod document;
pub mod facts;
mod graph;
mod html;
pub mod infringement;
mod pdf;

use serde::Serialize;

pub use assessment::{Assessment, Jurisdiction, assess};
pub use document::Document;
pub use facts::{Facts, facts};
pub use infringement::Infringement;

/// The `format` of the report's JSON twin.
pub const REPORT_FORMAT: &str = "handprint.report/1";

/// Whether the journal holds, as checked when the report is made.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Integrity {
    pub journal_verified: bool,
    /// What failed, event by event.
    pub findings: Vec<String>,
    /// The checkpoint the report's proofs refer to: size, root (hex), time.
    pub checkpoint: Option<(u64, String, String)>,
    /// The latest RFC 3161 timestamp: log size covered, time, authority.
    pub timestamp: Option<(u64, String, String)>,
}

/// What is known of the sealed work outside the journal: the registry and the file.
#[derive(Clone, Debug, Default, Serialize)]
pub struct WorkInfo {
    pub id: i64,
    pub title: String,
    pub license: Option<String>,
    pub registrant: String,
    pub sha256: String,
    pub width: u32,
    pub height: u32,
    /// C2PA status and watermark payload of the sealed file, when it was given.
    pub c2pa: Option<String>,
    pub watermark: Option<String>,
    /// A PNG thumbnail, as a `data:` URI.
    pub thumbnail: Option<String>,
}

/// Everything a report shows.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub format: &'static str,
    pub generated_at: String,
    pub generator: String,
    pub work: Option<WorkInfo>,
    pub facts: Facts,
    pub assessment: Vec<Assessment>,
    pub integrity: Integrity,
    /// What the report cannot show, said on its first page.
    pub limits: Vec<String>,
    /// Small PNG thumbnails (`data:` URIs) of the project's files, by SHA-256 (hex), where the
    /// files were found: drawn beside their events in the graph and the edits.
    #[serde(skip)]
    pub thumbnails: std::collections::HashMap<String, String>,
}

impl Report {
    pub fn new(
        facts: Facts,
        work: Option<WorkInfo>,
        integrity: Integrity,
        jurisdictions: &[Jurisdiction],
        generated_at: String,
    ) -> Report {
        let limits = document::limits(&facts, &integrity);
        let assessment = assess(&facts, &integrity, jurisdictions);
        Report {
            format: REPORT_FORMAT,
            generated_at,
            generator: format!("handprint {}", env!("CARGO_PKG_VERSION")),
            work,
            facts,
            assessment,
            integrity,
            limits,
            thumbnails: Default::default(),
        }
    }

    /// The report's content, ready to be laid out (the HTML and the PDF render it).
    pub fn document(&self) -> Document {
        document::document(self)
    }

    /// The report as one self-contained HTML document (no network, no scripts).
    pub fn html(&self) -> Result<String, EvidenceError> {
        html::render(&self.document())
    }

    /// The report as PDF (A4, its font's used glyphs embedded), with the characters the
    /// font lacks (drawn as boxes there; the HTML shows them).
    pub fn pdf(&self) -> Result<(Vec<u8>, Vec<char>), EvidenceError> {
        pdf::render(&self.document())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EvidenceError {
    #[error("rendering the report: {0}")]
    Render(String),
}
