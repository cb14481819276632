//! mamori's use cases — the one place that opens transactions, decides what is audited
//! and turns lower-level failures into [`AppError`]s that say what to do.
//!
//! [`App`] is an open data directory plus the acting user. Its methods are the things a
//! person does: [`App::import_ledger`], [`App::export_ledger`], [`App::add_asset`],
//! [`App::edit_asset`], [`App::retire_asset`], [`App::stocktake`]; [`init::init`] creates
//! a data directory and its first administrator, [`demo::create_demo`] a demo hospital.
//! Every state change writes an audit-log entry in the same transaction as the change.
//!
//! This crate knows nothing of terminals, HTTP, exit codes or progress bars: the CLI and
//! the web server are thin edges over it. It holds no SQL (that is `mamori-store`) and
//! parses no file formats (that is `mamori-ledger`).
#![forbid(unsafe_code)]

pub mod bundle;
pub mod demo;
mod error;
pub mod feeds;
pub mod findings;
pub mod init;
pub mod ledger;
pub mod matching;
pub mod password;
pub mod sbom;
pub mod stocktake;
pub mod sync;

use std::path::{Path, PathBuf};

pub(crate) use error::io;
pub use error::AppError;
use mamori_store::{AuditEntry, Store, Tx};

/// The database file inside a data directory.
pub const DB_FILE: &str = "mamori.db";

/// Shorthand for application results.
pub type Result<T, E = AppError> = std::result::Result<T, E>;

/// An open data directory and who is acting.
pub struct App {
    store: Store,
    data_dir: PathBuf,
    actor: String,
}

impl App {
    /// Opens the store in `data_dir` (created by `mamori init`).
    pub fn open(data_dir: &Path, actor: impl Into<String>) -> Result<App> {
        let db = data_dir.join(DB_FILE);
        if !db.is_file() {
            return Err(AppError::NoStore(data_dir.to_path_buf()));
        }
        let store = Store::open_sqlite(&db)?;
        Ok(App {
            store,
            data_dir: data_dir.to_path_buf(),
            actor: actor.into(),
        })
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Who is acting, as written to the audit log.
    pub fn actor(&self) -> &str {
        &self.actor
    }

    /// A read-only view: a transaction that is never committed.
    pub fn read(&mut self) -> Result<Box<dyn Tx + '_>> {
        Ok(self.store.begin_read()?)
    }

    /// Checks the audit log's hash chain; returns the first broken entry, if any.
    pub fn verify_audit_log(&mut self) -> Result<Option<i64>> {
        Ok(self.store.begin_read()?.verify_audit_chain()?)
    }
}

/// Appends an audit entry in `tx`.
pub(crate) fn audit(
    tx: &mut dyn Tx,
    actor: &str,
    action: &str,
    target: Option<&str>,
    detail: serde_json::Value,
) -> Result<()> {
    tx.append_audit(&AuditEntry {
        actor: actor.to_string(),
        action: action.to_string(),
        target: target.map(str::to_string),
        detail,
    })?;
    Ok(())
}
