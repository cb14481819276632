//! Network audit (guideline §8.3): scan policies and scopes, rate-limited TCP connect
//! discovery, and service identification.
//!
//! This crate owns: [`scope`] (which addresses a scan may touch; asked before every
//! probe), [`policy`] (rates, concurrency, timeouts, time windows), [`ports`] (the default
//! hospital port list), [`scanner`] (asynchronous connect discovery on tokio — no raw
//! sockets, no root), the identification probes (SSH/FTP/SMTP/Telnet banners, HTTP and
//! TLS certificates, DICOM association and C-ECHO, SNMP system group, MySQL/MariaDB,
//! PostgreSQL, Redis, VNC, RDP, SMB dialect) and [`identify`], the pure step from what a
//! service said to a product, version and CPE.
//!
//! It deliberately does not: know the ledger or the store (reconciliation with the ledger
//! is `mamori-matching::reconcile`, persistence `mamori-store`), read nmap files
//! (`mamori-feeds::nmap`), try credentials (a later issue), or send anything to an HL7/MLLP
//! port. It has no default targets: every scan needs a [`policy::ScanPolicy`] with a scope.
#![forbid(unsafe_code)]

pub mod catalogue;
pub mod creds;
mod dicom;
pub mod identify;
pub mod login;
pub mod policy;
pub mod ports;
mod probe;
pub mod scanner;
pub mod scope;
mod snmp;
pub mod tls;
pub mod wire;

pub use policy::{ScanPolicy, Window};
pub use scanner::{Counters, Outcome, StopFlag, Stopped};
pub use scope::{Scope, ScopeError, Span};
