//! Content Credentials for sealed works, through the official `c2pa` crate, and the
//! AI-disclosure labels that travel with them: the IPTC digital source type in the C2PA
//! actions, and China's implicit label (GB 45438-2025) in XMP.
//!
//! [`sign`] adds a C2PA manifest to an image; [`read`] reads and validates one. Nothing here
//! parses C2PA itself. See docs/credentials.md for every assertion written.

pub mod aigc;
mod certificates;
#[doc(hidden)]
pub mod foreign;
pub mod label;
mod manifest;
mod report;

pub use certificates::{certificates, ed25519_key_of};
pub use manifest::{
    Edit, Seal, Signer, SourceImage, SourceType, Timestamper, WATERMARK_ALG, sign, sign_with,
};
pub use report::{
    AI_GENERATORS, AiClaim, ChainLink, Credentials, ManifestSummary, Remote, Status, read, read_remote,
};

/// Image formats a manifest is written into and read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Jpeg,
    Png,
    WebP,
}

impl Format {
    pub fn mime(self) -> &'static str {
        match self {
            Format::Jpeg => "image/jpeg",
            Format::Png => "image/png",
            Format::WebP => "image/webp",
        }
    }

    /// By the file's first bytes.
    pub fn sniff(bytes: &[u8]) -> Option<Format> {
        if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(Format::Jpeg)
        } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(Format::Png)
        } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            Some(Format::WebP)
        } else {
            None
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    #[error("not a JPEG, PNG or WebP image")]
    Unsupported,
    #[error("the signing identity: {0}")]
    Signer(String),
    #[error("C2PA: {0}")]
    C2pa(#[from] c2pa::Error),
    #[error("visible label: {0}")]
    Label(String),
    #[error("XMP: {0}")]
    Xmp(String),
}

/// The C2PA manifest store (JUMBF, `application/c2pa`) embedded in an image, as its bytes:
/// what the Soft Binding Resolution API serves for a work.
pub fn manifest_store(image: &[u8], format: Format) -> Option<Vec<u8>> {
    c2pa::jumbf_io::load_jumbf_from_memory(format.mime(), image).ok()
}
