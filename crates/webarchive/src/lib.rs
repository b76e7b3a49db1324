//! The standard web-archive formats for evidence captures: WARC 1.1 (ISO 28500:2017) written
//! and read, packaged as WACZ 1.1.1, and a package verified offline. No networking and no
//! matching here: a capture client hands over what it fetched as [`Exchange`]s, and the
//! archive it gets back opens in any replay tool (ReplayWeb.page, pywb) and passes the
//! reference checkers (`warcio check`, `wacz validate`).
//!
//! ```no_run
//! use webarchive::{Exchange, Package, Page, WarcWriter, write_wacz, verify_wacz};
//! # fn exchange() -> Exchange { unimplemented!() }
//! let now = chrono::Utc::now();
//! let mut warc = WarcWriter::new(Vec::new());
//! warc.warcinfo("data.warc.gz", &now, &[("software", "handprint 0.1.0")])?;
//! let page = exchange();
//! let records = warc.exchange(&page)?;
//! warc.resource(&format!("urn:screenshot:{}", page.url), "image/png", b"...", &now, Some(&records.response.id))?;
//! let package = Package {
//!     warc: warc.into_inner(),
//!     pages: vec![Page { url: page.url.clone(), ts: page.date, title: None }],
//!     files: vec![("handprint/matches.json".into(), b"{}".to_vec())],
//!     title: Some("Capture".into()),
//!     description: None,
//!     main_page_url: Some(page.url.clone()),
//!     main_page_date: Some(page.date),
//!     software: "handprint 0.1.0".into(),
//!     created: now,
//! };
//! let wacz = write_wacz(&package, |hash| Ok(serde_json::json!({"signs": hash})))?;
//! let check = verify_wacz(&wacz);
//! assert!(check.ok, "{:?}", check.problems);
//! # Ok::<(), webarchive::WebArchiveError>(())
//! ```
//!
//! What is written, and why each choice, is in the module docs: [`writer`] (records, HTTP
//! normalisation, digests), [`reader`] (reading and record checks), [`cdxj`] (the index),
//! [`mod@surt`] (its keys), [`wacz`] (the package) and [`verify`] (the offline check).

pub mod cdxj;
mod digest;
mod error;
mod json;
pub mod reader;
pub mod surt;
pub mod verify;
pub mod wacz;
pub mod writer;
mod zipcheck;

pub use cdxj::cdxj_lines;
pub use digest::{digest_matches, sha256_label};
pub use error::WebArchiveError;
pub use reader::{HttpHead, Record, WarcLimits, check_record, read_warc};
pub use surt::surt;
pub use verify::{RecordCheck, ResourceCheck, Verification, verify_wacz, verify_wacz_with};
pub use wacz::{Package, Page, Wacz, WaczFile, WaczLimits, read_wacz, read_wacz_with, write_wacz};
pub use writer::{Exchange, ExchangeRecords, WarcWriter, Written, warc_date};
