//! The host collector (guideline §8.3): what a Linux server or terminal says of itself —
//! installed packages (dpkg, rpm) as components, the OS release, listening sockets and the
//! processes behind them, local accounts with an empty password or UID 0, the effective
//! sshd settings, a boot-loader password, auto-login.
//!
//! It reads a root directory (`/` on the host itself, or a mounted or debootstrapped tree),
//! or a tar of the same files with `ss` output taken over SSH. It owns the parsers
//! ([`parse`], pure) and the reading ([`collect`]); it deliberately does not sign, store or
//! judge: signing and importing are the application's, and no password hash ever leaves
//! [`parse::accounts`].
#![forbid(unsafe_code)]

pub mod parse;
pub mod report;

mod collect;

pub use collect::{collect_root, collect_ssh, collect_tar, remote_script, SshTarget, FILES};
pub use report::{HostReport, SCHEMA};
