//! Vulnerability feed parsers: bytes (or a reader) in, [`mamori_core::vuln`] values and
//! [`Warning`]s out.
//!
//! - [`nvd`]: NVD CVE API 2.0 pages and yearly 2.0 feed files, bare 2.0 records, and the
//!   legacy NVD 1.1 feeds, all mapped onto [`mamori_core::vuln::Vulnerability`] with the
//!   configurations kept exactly. Streaming: one record in memory at a time.
//! - [`csaf`]: CSAF 2.0 advisories (CISA ICSA/ICSMA, vendors): products and remediations.
//! - [`rss`]: RSS 1.0/RDF and RSS 2.0 alert feeds (IPA, JPCERT/CC, NISC) with the CVE ids in
//!   their text.
//! - [`kev`]: CISA's Known Exploited Vulnerabilities catalogue.
//! - [`epss`]: FIRST EPSS CSV, with or without the `#model_version` line.
//! - [`sbom`]: CycloneDX (JSON/XML) and SPDX (JSON/tag-value) SBOMs, as component lists.
//! - [`vex_out`]: the one writer here — the hospital's VEX statements as CycloneDX 1.5 and
//!   CSAF 2.0 `csaf_vex` JSON, from a neutral model.
//! - [`jvn`]: JVN iPedia VULDEF 3.2 (detail) and JVNRSS (overview) in Japanese, through a
//!   strict XML layer that refuses DOCTYPE and undeclared entities.
//!
//! A structural problem (truncated JSON, not the expected format) fails the whole file with
//! a [`FeedError`] naming the record and position; a record that is well-formed JSON but
//! unusable (no id, a date or CPE that does not parse) is skipped with a [`Warning`]. This
//! crate does no file-system or network IO and knows nothing of the store; decompression
//! and provenance are the caller's.
#![forbid(unsafe_code)]

pub mod csaf;
pub mod epss;
mod error;
pub mod jvn;
pub mod kev;
pub mod limits;
pub mod nmap;
pub mod nvd;
pub mod rss;
pub mod sbom;
mod time;
pub mod vex_out;
mod xml;

pub use error::{FeedError, Warning};
