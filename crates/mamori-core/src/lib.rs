//! mamori's domain vocabulary: the device ledger's values and the rules for reading them.
//!
//! This crate owns the types every other crate speaks — [`Asset`] (one row of the 機器台帳),
//! its [`Software`] entries, the labelled enumerations such as [`AssetKind`] and
//! [`AssetStatus`] with their Japanese and English labels, and the value parsers in
//! [`value`] (IP and MAC addresses, CPE names, dates in Western and Japanese-era forms).
//! [`Lang`] selects the language of every user-facing label.
//!
//! [`vuln`] holds vulnerability information: [`vuln::Vulnerability`] with its CVSS metrics,
//! references and exact applicability logic ([`vuln::Configuration`] → [`vuln::Node`] →
//! [`vuln::CpeMatch`]), KEV entries and EPSS scores.
//!
//! [`scan`] holds what a network scan saw (hosts, ports, identified services) and the 8.3
//! checks ([`scan::Check83`]) that compare it with the ledger.
//!
//! [`remediation`] holds the 対応状況 of findings and the one table of their transitions.
//! [`access`] is the one table of who may do what ([`Role`] × [`access::Permission`]).
//!
//! It deliberately does no IO, knows no file formats, SQL or HTTP, and has no async code:
//! spreadsheet handling lives in `mamori-ledger`, persistence in `mamori-store`.
#![forbid(unsafe_code)]

pub mod access;
mod asset;
pub mod attest;
pub mod calendar;
mod labels;
mod lang;
pub mod remediation;
pub mod scan;
pub mod value;
pub mod vuln;

pub use asset::{Asset, ComponentSource, Software};
pub use labels::{
    AssetKind, AssetStatus, BootPassword, Confidence, Criticality, DefaultPassword, DocStatus,
    FindingStatus, Labelled, Level, Role, StocktakeResult,
};
pub use lang::Lang;
pub use value::{MacAddr, ValueError};
