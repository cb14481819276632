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

pub mod attest;
pub mod bundle;
pub mod collect;
pub mod creds;
pub mod demo;
mod error;
pub mod exceptions;
pub mod feeds;
pub mod findings;
pub mod hours;
mod hours_nft;
pub mod init;
pub mod inquiries;
pub mod ledger;
pub mod matching;
pub mod password;
pub mod remediation;
pub mod sbom;
pub mod scans;
pub mod stocktake;
pub mod sync;
pub mod tokens;
pub mod users;
pub mod vendor;
pub mod vex;
pub mod vulns;

use std::path::{Path, PathBuf};

pub(crate) use error::{io, read_input};
pub use error::{AppError, MAX_INPUT_BYTES};
use mamori_core::access::{self, Permission};
use mamori_core::Role;
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
    /// What the acting user may do ([`mamori_core::access`]).
    roles: Vec<Role>,
    /// A named user with a one-time password may only change it.
    must_change_password: bool,
    /// Today, when set ([`App::set_today`]); else the local date.
    today: Option<chrono::NaiveDate>,
    /// The hospital's local time, when set ([`App::set_now`]); else the clock.
    now: Option<chrono::NaiveDateTime>,
    /// A 事業者 user's company: such a user acts only on that company's inquiries.
    vendor: Option<String>,
}

/// What a long writer announced ([`mamori_store::Store::current_writer`]), in `lang`:
/// "ledger import of 台帳.xlsx (os:sato)".
pub fn writer_label(note: &str, lang: mamori_core::Lang) -> String {
    let mut parts = note.split('\t');
    let (ja, en, actor) = (parts.next(), parts.next(), parts.next());
    match (ja, en, actor) {
        (Some(ja), Some(en), Some(actor)) => format!("{} ({actor})", lang.pick(ja, en)),
        _ => note.to_string(),
    }
}

/// The roles of the local session: the operating-system user who owns the data directory
/// (and so could read the database anyway) acts as its administrator, as one person does
/// in a small clinic. Named users (`App::login`) have the roles given to them.
pub const LOCAL_SESSION_ROLES: &[Role] = &[
    Role::Administrator,
    Role::Operator,
    Role::Planner,
    Role::SecurityManager,
];

impl App {
    /// Opens the store in `data_dir` (created by `mamori init`) as the local session of the
    /// operating-system user `actor` (`os:NAME`), with [`LOCAL_SESSION_ROLES`].
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
            roles: LOCAL_SESSION_ROLES.to_vec(),
            must_change_password: false,
            today: None,
            now: None,
            vendor: None,
        })
    }

    /// Today's date as the workflow sees it (review dates, planned dates, due dates):
    /// [`App::set_today`] when set, else the date of [`App::set_now`], else the local date.
    pub fn today(&self) -> chrono::NaiveDate {
        self.today
            .or(self.now.map(|n| n.date()))
            .unwrap_or_else(|| chrono::Local::now().date_naive())
    }

    /// Sets the date the workflow takes as today: an injectable clock, for tests and for
    /// replaying a day (review dates expire against it).
    pub fn set_today(&mut self, today: chrono::NaiveDate) {
        self.today = Some(today);
    }

    /// Sets how long a write waits for another writer and what it says meanwhile (the
    /// command line waits long and says so; the web answers 503 after a short wait).
    pub fn set_write_wait(&mut self, wait: mamori_store::WriteWait) {
        self.store.set_write_wait(wait);
    }

    /// A note telling writers that wait what this long write is ([`writer_label`] reads
    /// it back); post it once the transaction has begun.
    pub(crate) fn announce(&self, ja: &str, en: &str) -> mamori_store::WriterNote {
        self.store
            .announce_writer(&format!("{ja}\t{en}\t{}", self.actor))
    }

    /// The acting user's roles.
    pub fn roles(&self) -> &[Role] {
        &self.roles
    }

    /// Refuses unless the acting user's roles allow `permission`: every use case asks this
    /// first, so the command line and the web are checked alike.
    pub(crate) fn require(&self, permission: Permission) -> Result<()> {
        if self.must_change_password {
            return Err(AppError::MustChangePassword(self.actor.clone()));
        }
        allowed(&self.actor, &self.roles, permission)
    }

    /// Whether the acting user may do what `permission` names (the same check every use case
    /// makes first): for edges that serve something cached.
    pub fn check(&self, permission: Permission) -> Result<()> {
        self.require(permission)
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Who is acting, as written to the audit log.
    pub fn actor(&self) -> &str {
        &self.actor
    }

    /// A read-only view (a transaction that is never committed) for a user allowed to
    /// `need` (`View` for the ledger, vulnerabilities and findings; `ViewAudit` for the log).
    pub fn read(&mut self, need: Permission) -> Result<Box<dyn Tx + '_>> {
        self.require(need)?;
        Ok(self.store.begin_read()?)
    }

    /// Writes the whole audit log to `path` as JSON Lines (one entry a line, with its
    /// `prev_hash` and `hash`), for the inspector or an archive; returns the number of entries.
    pub fn export_audit_log(&mut self, path: &Path) -> Result<usize> {
        use std::io::Write;
        self.require(Permission::ViewAudit)?;
        let records = self.store.begin_read()?.audit_tail(i64::MAX)?;
        let file = std::fs::File::create(path).map_err(io(path))?;
        let mut w = std::io::BufWriter::new(file);
        for r in &records {
            let line = serde_json::json!({
                "seq": r.seq, "at": r.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
                "actor": r.entry.actor, "action": r.entry.action, "target": r.entry.target,
                "detail": r.entry.detail, "prev_hash": r.prev_hash, "hash": r.hash,
            });
            writeln!(w, "{line}").map_err(io(path))?;
        }
        w.flush().map_err(io(path))?;
        Ok(records.len())
    }

    /// Checks the audit log's hash chain; returns the first broken entry, if any.
    pub fn verify_audit_log(&mut self) -> Result<Option<mamori_store::AuditBreak>> {
        self.require(Permission::ViewAudit)?;
        Ok(self.store.begin_read()?.verify_audit_chain()?)
    }
}

/// Whether `roles` allow `permission`, as [`App::require`] says it (for use inside a
/// transaction, where `self` is borrowed).
pub(crate) fn allowed(actor: &str, roles: &[Role], permission: Permission) -> Result<()> {
    if access::any_allows(roles, permission) {
        Ok(())
    } else {
        Err(AppError::Forbidden {
            actor: actor.to_string(),
            permission,
        })
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

/// What an audit-log action means, in the reader's language (`None` for an action this
/// build does not name; the code is shown then).
pub fn audit_action_label(action: &str, lang: mamori_core::Lang) -> Option<&'static str> {
    let (ja, en) = match action {
        "asset.create" => ("機器の追加", "device added"),
        "asset.update" => ("機器の変更", "device changed"),
        "asset.retire" => ("機器の廃棄", "device retired"),
        "ledger.import" => ("台帳の取込", "ledger imported"),
        "ledger.stocktake" => ("棚卸", "stock-take"),
        "sbom.import" => ("SBOM の取込", "SBOM imported"),
        "host.import" => ("ホスト情報の取込", "host report imported"),
        "collect.key" => ("収集鍵の登録", "collector key registered"),
        "feeds.import" => ("脆弱性情報の取込", "feeds imported"),
        "feeds.import_bundle" => ("一括ファイルの取込", "bundle imported"),
        "feeds.sync" => ("脆弱性情報の同期", "feeds synced"),
        "finding.state" => ("対応状況の変更", "remediation state changed"),
        "inquiry.open" => ("事業者への照会", "vendor asked"),
        "inquiry.answer" => ("事業者回答の記録", "vendor answer recorded"),
        "inquiry.attach" => ("照会への添付", "file attached to an inquiry"),
        "inquiry.export" => ("照会票の書き出し", "inquiry sheet exported"),
        "exception.propose" => ("代替策・リスク受容の申請", "exception proposed"),
        "exception.approve" => ("代替策・リスク受容の承認", "exception approved"),
        "exception.reject" => ("代替策・リスク受容の却下", "exception rejected"),
        "exception.expire" => ("見直し期限切れ", "exception expired"),
        "scan.start" => ("スキャン開始", "scan started"),
        "scan.finish" => ("スキャン終了", "scan finished"),
        "scan.killed" => ("スキャン中断", "scan killed"),
        "scan.allow" => ("許可サービスの追加", "service allowed"),
        "scan.disallow" => ("許可サービスの削除", "service disallowed"),
        "creds.approve" => ("既定パスワード検査の承認", "credential checks approved"),
        "creds.revoke" => (
            "既定パスワード検査の承認取消",
            "credential-check approval withdrawn",
        ),
        "creds.exclude" => (
            "既定パスワード検査の除外",
            "device excluded from credential checks",
        ),
        "creds.include" => (
            "既定パスワード検査の除外解除",
            "device included in credential checks",
        ),
        "creds.run" => ("既定パスワード検査の実行", "credential checks run"),
        "attest.set" => ("初期設定の確認", "settings attested"),
        "schedule.set" => ("稼働時間帯の設定", "schedule set"),
        "schedule.default" => ("既定の稼働時間帯", "default schedule set"),
        "calendar.import_holidays" => ("祝日の取込", "holidays imported"),
        "watch.round" => ("稼働監視", "watch round"),
        "config.set" => ("設定の変更", "setting changed"),
        "user.add" | "user.create" => ("利用者の追加", "user added"),
        "user.disable" => ("利用者の無効化", "user disabled"),
        "user.enable" => ("利用者の有効化", "user enabled"),
        "user.roles" => ("役割の変更", "roles changed"),
        "user.password" => ("パスワードの変更", "password changed"),
        "user.login" => ("ログイン", "login"),
        "user.login_failed" => ("ログイン失敗", "failed login"),
        "token.create" => ("API トークンの発行", "API token created"),
        "token.revoke" => ("API トークンの失効", "API token revoked"),
        "store.init" => ("データの初期化", "store created"),
        "demo.create" => ("デモ病院の作成", "demo hospital created"),
        _ => return None,
    };
    Some(lang.pick(ja, en))
}

#[cfg(test)]
mod audit_label_tests {
    /// Every action the application writes to the audit log has a label: the actions are
    /// the string literals passed to `audit(…)` in this crate's sources.
    #[test]
    fn every_audited_action_is_named() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut missing = Vec::new();
        let mut found = 0;
        for e in std::fs::read_dir(&dir).unwrap() {
            let text = std::fs::read_to_string(e.unwrap().path()).unwrap();
            let mut rest = text.as_str();
            while let Some(at) = rest.find("audit(") {
                rest = &rest[at + 6..];
                let call = &rest[..rest.len().min(200)];
                if let Some(q) = call.find('"') {
                    let s = &call[q + 1..];
                    if let Some(end) = s.find('"') {
                        let action = &s[..end];
                        let looks = action.contains('.')
                            && action
                                .chars()
                                .all(|c| c.is_ascii_lowercase() || c == '.' || c == '_');
                        found += usize::from(looks);
                        if looks
                            && super::audit_action_label(action, mamori_core::Lang::Ja).is_none()
                        {
                            missing.push(action.to_string());
                        }
                    }
                }
            }
        }
        assert!(found >= 20, "the scan found the audit calls ({found})");
        assert!(
            missing.is_empty(),
            "audit actions without a label: {missing:?}"
        );
    }
}
