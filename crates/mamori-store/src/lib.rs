//! mamori's persistence — the only crate that contains SQL.
//!
//! [`Store`] opens or creates a store; [`Store::begin`] gives a [`Tx`], the transaction
//! API through which every read and write goes: devices ([`StoredAsset`]) with their
//! components, addresses and status history, users, the hash-chained audit log
//! ([`AuditEntry`]), stock-takes and import records. Nothing is visible to others until
//! [`Tx::commit`]; dropping a `Tx` rolls it back, so an interrupted import changes nothing.
//!
//! SQLite ([`sqlite`]) is the embedded default. [`Tx`] is object-safe and speaks only
//! domain types, so a PostgreSQL backend can implement it without callers changing.
//! This crate does not check permissions, decide what to log, or format anything for
//! people: that is the application layer's job.
#![forbid(unsafe_code)]

pub mod sqlite;
pub use sqlite::ChangeWatch;
mod sqlite_advisories;
mod sqlite_findings;
mod sqlite_hours;
mod sqlite_safety;
mod sqlite_scans;
mod sqlite_vulns;

use std::path::PathBuf;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use mamori_core::vuln::{Advisory, Alert, EpssScore, KevEntry, Vulnerability};
use mamori_core::{Asset, AssetKind, AssetStatus, Role, StocktakeResult};

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No store at the path (run `mamori init`).
    #[error("no mamori store at {0}")]
    NotFound(PathBuf),
    /// A store already exists where one was to be created.
    #[error("a mamori store already exists at {0}")]
    AlreadyExists(PathBuf),
    /// The store was written by a newer mamori.
    #[error("store schema version {found} is newer than this mamori supports ({supported})")]
    NewerSchema {
        /// Version found in the store.
        found: i64,
        /// Highest version this build knows.
        supported: i64,
    },
    /// A unique key already exists (e.g. the same 管理番号).
    #[error("already exists: {0}")]
    Duplicate(String),
    /// A value in the store that this build cannot read.
    #[error("unreadable value in the store: {0}")]
    Corrupt(String),
    /// The database engine reported an error.
    #[error("database error: {0}")]
    Db(#[from] rusqlite::Error),
    /// A file-system error.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// Another writer held the store for longer than this one would wait.
    #[error("another writer held the store for {waited_secs} s{}", writer_suffix(.writer))]
    Busy {
        /// How long this writer waited.
        waited_secs: u64,
        /// What the other writer announced it was doing ([`Store::announce_writer`]).
        writer: Option<String>,
    },
}

/// A writer note's announcement, if the process that wrote it is still running.
fn read_writer_note(path: &std::path::Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let (pid, what) = text.split_once('\n')?;
    let alive = std::path::Path::new("/proc").join(pid.trim()).exists()
        || !std::path::Path::new("/proc/self").exists();
    alive.then(|| what.trim().to_string())
}

fn writer_suffix(writer: &Option<String>) -> String {
    writer
        .as_ref()
        .map(|w| format!(" ({w})"))
        .unwrap_or_default()
}

impl StoreError {
    /// Whether the database engine said another connection holds the lock.
    pub fn is_busy(&self) -> bool {
        match self {
            StoreError::Busy { .. } => true,
            StoreError::Db(rusqlite::Error::SqliteFailure(e, _)) => matches!(
                e.code,
                rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
            ),
            _ => false,
        }
    }
}

/// Told, once, that a writer waits, with what the other writer announced.
pub type WaitNotice = Box<dyn Fn(Option<&str>) + Send>;

/// How long a writer waits for another to finish, and what it is told while it waits.
pub struct WriteWait {
    /// The longest wait before [`StoreError::Busy`].
    pub max: std::time::Duration,
    /// Called once when a writer starts waiting, with what the other writer announced.
    pub notice: Option<WaitNotice>,
}

impl Default for WriteWait {
    /// Ten seconds, silently (SQLite's own wait before this existed).
    fn default() -> Self {
        WriteWait {
            max: std::time::Duration::from_secs(10),
            notice: None,
        }
    }
}

/// Tells waiting writers what holds the store: a note beside the database, written by
/// [`WriterNote::post`] once the write lock is held, and removed on drop.
pub struct WriterNote {
    path: std::path::PathBuf,
    text: String,
    posted: bool,
}

impl WriterNote {
    /// Writes the note (call it once the transaction has begun, so that a writer that waits
    /// never replaces the note of the one it waits for).
    pub fn post(&mut self) {
        self.posted = std::fs::write(&self.path, &self.text).is_ok();
    }
}

impl Drop for WriterNote {
    fn drop(&mut self) {
        if self.posted {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Shorthand for store results.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A device as stored: the ledger values plus the store's bookkeeping.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredAsset {
    /// The store's internal key.
    pub id: i64,
    /// The ledger values.
    pub asset: Asset,
    /// When the device was first added.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// Which devices to list. Empty fields do not filter.
#[derive(Debug, Clone, Default)]
pub struct AssetFilter {
    /// Only this kind.
    pub kind: Option<AssetKind>,
    /// Only this status.
    pub status: Option<AssetStatus>,
    /// Only this department (exact).
    pub department: Option<String>,
    /// Substring of 管理番号, name, model, maker, place, department, OS, owner, vendor,
    /// or of an IP address, MAC address or host name.
    pub search: Option<String>,
    /// Only these devices (internal keys).
    pub ids: Option<Vec<i64>>,
}

/// The order of a page of devices: a column, ascending or descending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AssetSort {
    /// The column.
    pub by: AssetSortBy,
    /// Descending.
    pub desc: bool,
}

/// The columns a device list sorts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AssetSortBy {
    /// 管理番号.
    #[default]
    AssetId,
    /// 機器名.
    Name,
    /// 機器種別.
    Kind,
    /// 部署.
    Department,
    /// 状態.
    Status,
    /// OS.
    Os,
}

impl AssetSortBy {
    /// From a list's query string (`asset_id`, `name`, `kind`, `department`, `status`, `os`).
    pub fn parse(code: &str) -> Option<AssetSortBy> {
        Some(match code {
            "asset_id" => AssetSortBy::AssetId,
            "name" => AssetSortBy::Name,
            "kind" => AssetSortBy::Kind,
            "department" => AssetSortBy::Department,
            "status" => AssetSortBy::Status,
            "os" => AssetSortBy::Os,
            _ => return None,
        })
    }

    /// Its code in a query string.
    pub fn code(self) -> &'static str {
        match self {
            AssetSortBy::AssetId => "asset_id",
            AssetSortBy::Name => "name",
            AssetSortBy::Kind => "kind",
            AssetSortBy::Department => "department",
            AssetSortBy::Status => "status",
            AssetSortBy::Os => "os",
        }
    }
}

/// One change of a device's status.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusChange {
    /// The status before (none when the device was added).
    pub from: Option<AssetStatus>,
    /// The status after.
    pub to: AssetStatus,
    /// When.
    pub at: DateTime<Utc>,
    /// Who.
    pub actor: String,
    /// Why, when given.
    pub reason: Option<String>,
}

/// A user of mamori.
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    /// Internal key.
    pub id: i64,
    /// Login name.
    pub username: String,
    /// Name shown in the UI.
    pub display_name: Option<String>,
    /// What the user may do.
    pub roles: Vec<Role>,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// Whether the password must be changed at next login.
    pub must_change_password: bool,
    /// A disabled user cannot log in (users are never deleted: the audit log names them).
    pub disabled: bool,
    /// For a 事業者 user: the company (the ledger's 保守事業者) whose inquiries it answers.
    pub vendor: Option<String>,
}

/// A user to create.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Login name.
    pub username: String,
    /// Name shown in the UI.
    pub display_name: Option<String>,
    /// What the user may do.
    pub roles: Vec<Role>,
    /// Argon2id PHC string (never a password).
    pub password_hash: String,
    /// Whether the password must be changed at next login.
    pub must_change_password: bool,
    /// For a 事業者 user: its company.
    pub vendor: Option<String>,
}

/// One audit-log entry to append.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    /// Who did it (a user name, or `os:NAME` for the local command line).
    pub actor: String,
    /// What was done, as a stable code such as `asset.create`.
    pub action: String,
    /// What it was done to, such as a 管理番号.
    pub target: Option<String>,
    /// Details as JSON.
    pub detail: serde_json::Value,
}

/// An audit-log entry as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRecord {
    /// Position in the log, from 1.
    pub seq: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// The entry.
    pub entry: AuditEntry,
    /// Hex SHA-256 of the previous entry (64 zeros for the first).
    pub prev_hash: String,
    /// Hex SHA-256 over this entry and `prev_hash`.
    pub hash: String,
}

/// Where the audit log's hash chain breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditBreak {
    /// The first entry that is not as written (or the first one missing).
    pub seq: i64,
    /// The entry is missing (deleted): the numbering jumps over it.
    pub missing: bool,
}

/// A stock-take as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Stocktake {
    /// Internal key.
    pub id: i64,
    /// The day it was done.
    pub taken_on: NaiveDate,
    /// Who did it.
    pub taken_by: String,
    /// A note.
    pub note: Option<String>,
    /// How many devices had each result.
    pub counts: Vec<(StocktakeResult, i64)>,
}

/// The record of one ledger import.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ImportRecord {
    /// Who imported.
    pub actor: String,
    /// The file's name.
    pub file_name: String,
    /// Hex SHA-256 of the file's bytes.
    pub sha256: String,
    /// What it was read as.
    pub format: String,
    /// Devices added.
    pub added: i64,
    /// Devices changed.
    pub updated: i64,
    /// Devices the same as before.
    pub unchanged: i64,
    /// Devices retired because the file no longer lists them (`--sync`).
    pub retired: i64,
    /// Invalid rows skipped (`--skip-invalid`).
    pub skipped: i64,
}

/// What an upsert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upsert {
    /// The record was new.
    Added,
    /// A newer version replaced the stored one.
    Updated,
    /// The store already had this version (or a newer one).
    Unchanged,
}

/// A vulnerability as stored, with its provenance.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredVulnerability {
    /// The record.
    pub vuln: Vulnerability,
    /// `nvd`, `jvn`, `csaf`.
    pub source: String,
    /// The file or URL it was last read from.
    pub origin: String,
    /// When it was stored.
    pub imported_at: DateTime<Utc>,
}

/// One search hit.
#[derive(Debug, Clone, PartialEq)]
pub struct VulnSummary {
    /// Id.
    pub id: String,
    /// Source.
    pub source: String,
    /// Published.
    pub published: Option<DateTime<Utc>>,
    /// The highest CVSS base score, with its version.
    pub max_cvss: Option<(String, f64)>,
    /// Title or description in the preferred language.
    pub text: Option<String>,
    /// Whether the id (or an alias) is in CISA KEV.
    pub kev: bool,
}

/// One count of [`Tx::finding_trend`].
#[derive(Debug, Clone, PartialEq)]
pub struct TrendCount {
    /// `vuln` (8.2) or `8.3`.
    pub category: String,
    /// The day (`None`: open before `since`).
    pub day: Option<NaiveDate>,
    /// First found that day (or open at the start).
    pub opened: i64,
    /// Resolved that day.
    pub resolved: i64,
}

/// An EPSS score with its date.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEpss {
    /// The score.
    pub score: EpssScore,
    /// The score date, when the file said.
    pub score_date: Option<String>,
    /// The model version, when the file said.
    pub model_version: Option<String>,
}

/// The record of one feed file or download read into the store.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FeedImport {
    /// `nvd`, `jvn`, `kev`, `epss`, `csaf`, `alerts`.
    pub source: String,
    /// The file or URL.
    pub origin: String,
    /// Hex SHA-256 of the bytes read.
    pub sha256: String,
    /// Records in the file.
    pub records: i64,
    /// Records added.
    pub added: i64,
    /// Records replaced by a newer version.
    pub updated: i64,
    /// Records the store already had.
    pub unchanged: i64,
    /// Records skipped as unusable.
    pub skipped: i64,
    /// The first warnings, for `feeds status`.
    pub warnings: Vec<String>,
}

/// Per-source state for `feeds status`.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedStatus {
    /// The source.
    pub source: String,
    /// Records the store holds from it.
    pub records: i64,
    /// Last successful import or sync.
    pub last_success: Option<DateTime<Utc>>,
    /// Last error and when.
    pub last_error: Option<(DateTime<Utc>, String)>,
    /// Records skipped with a warning, over all imports.
    pub skipped: i64,
}

/// The transaction API: every read and write of the store. Dropping without
/// [`Tx::commit`] rolls back.
pub trait Tx {
    /// Makes every change of this transaction permanent.
    fn commit(self: Box<Self>) -> Result<()>;

    /// Devices matching `filter`, ordered by 管理番号.
    fn assets(&self, filter: &AssetFilter) -> Result<Vec<StoredAsset>>;
    /// One device by 管理番号.
    fn asset(&self, asset_id: &str) -> Result<Option<StoredAsset>>;
    /// How many devices the ledger holds.
    fn count_assets(&self) -> Result<i64>;
    /// Adds a device; fails with [`StoreError::Duplicate`] if the 管理番号 exists.
    fn insert_asset(&mut self, asset: &Asset) -> Result<i64>;
    /// Replaces a device's ledger values (components from other sources are kept).
    fn update_asset(&mut self, id: i64, asset: &Asset) -> Result<()>;
    /// Records a status change in the device's history.
    fn record_status_change(&mut self, id: i64, change: &StatusChange) -> Result<()>;
    /// The device's status history, oldest first.
    fn status_history(&self, id: i64) -> Result<Vec<StatusChange>>;

    /// Creates a user.
    fn insert_user(&mut self, user: &NewUser) -> Result<i64>;
    /// How many users exist.
    fn count_users(&self) -> Result<i64>;
    /// Every user, by login name.
    fn users(&self) -> Result<Vec<User>>;
    /// Writes a user's display name, roles, password hash and flags (by internal key).
    fn update_user(&mut self, user: &User) -> Result<()>;
    /// One user by login name.
    fn user(&self, username: &str) -> Result<Option<User>>;

    /// Appends to the audit log and returns the stored record.
    fn append_audit(&mut self, entry: &AuditEntry) -> Result<AuditRecord>;
    /// The newest `limit` entries, oldest first.
    fn audit_tail(&self, limit: i64) -> Result<Vec<AuditRecord>>;
    /// Checks the hash chain; returns the first break, if any.
    fn verify_audit_chain(&self) -> Result<Option<AuditBreak>>;

    /// Records a stock-take and each device's result.
    fn insert_stocktake(
        &mut self,
        taken_on: NaiveDate,
        taken_by: &str,
        note: Option<&str>,
        results: &[(i64, StocktakeResult, Option<String>)],
    ) -> Result<i64>;
    /// Past stock-takes, newest first.
    fn stocktakes(&self) -> Result<Vec<Stocktake>>;

    /// Records an import.
    fn insert_import(&mut self, record: &ImportRecord) -> Result<i64>;

    /// Stores a vulnerability unless the store has it with the same or a newer
    /// `modified`; a newer one replaces it whole (texts, metrics, configurations).
    fn upsert_vulnerability(
        &mut self,
        vuln: &Vulnerability,
        source: &str,
        origin: &str,
    ) -> Result<Upsert>;
    /// One vulnerability by id, or else by alias (a CVE id finds its JVNDB record).
    fn vulnerability(&self, id: &str) -> Result<Option<StoredVulnerability>>;
    /// Records whose aliases include `alias`.
    fn vulnerabilities_by_alias(&self, alias: &str) -> Result<Vec<String>>;
    /// Searches ids, aliases and texts; `lang` picks the text shown.
    fn search_vulnerabilities(
        &self,
        text: &str,
        lang: &str,
        limit: i64,
    ) -> Result<Vec<VulnSummary>>;
    /// How many vulnerability records are stored, per source.
    fn count_vulnerabilities(&self) -> Result<Vec<(String, i64)>>;
    /// Stores an advisory unless the store has the same or a newer release of it.
    fn upsert_advisory(
        &mut self,
        advisory: &Advisory,
        source: &str,
        origin: &str,
    ) -> Result<Upsert>;
    /// One advisory by its tracking id, with the file it came from.
    fn advisory(&self, id: &str) -> Result<Option<(Advisory, String)>>;
    /// Advisories naming a CVE: (id, title).
    fn advisories_for_cve(&self, cve_id: &str) -> Result<Vec<(String, String)>>;
    /// Ids and sources of vulnerability records stored after `since` (all when `None`).
    fn vulnerability_ids_since(
        &self,
        since: Option<DateTime<Utc>>,
    ) -> Result<Vec<(String, String)>>;
    /// Ids of advisories stored after `since` (all when `None`).
    fn advisory_ids_since(&self, since: Option<DateTime<Utc>>) -> Result<Vec<String>>;
    /// Every KEV entry with its catalogue version.
    fn all_kev(&self) -> Result<Vec<(KevEntry, String)>>;
    /// Every EPSS score.
    fn all_epss(&self) -> Result<Vec<(String, StoredEpss)>>;
    /// Stores an alert (replaced when its text changes).
    fn upsert_alert(&mut self, alert: &Alert, origin: &str) -> Result<Upsert>;
    /// Alerts naming a CVE, newest first.
    fn alerts_for_cve(&self, cve_id: &str) -> Result<Vec<Alert>>;
    /// Stores a KEV entry (replaced when the catalogue changes it).
    fn upsert_kev(&mut self, entry: &KevEntry, catalog_version: &str) -> Result<Upsert>;
    /// The KEV entry of a CVE.
    fn kev(&self, cve_id: &str) -> Result<Option<KevEntry>>;
    /// Stores an EPSS score (replaced by a newer score date).
    fn upsert_epss(&mut self, cve_id: &str, score: &StoredEpss) -> Result<Upsert>;
    /// The EPSS score of a CVE.
    fn epss(&self, cve_id: &str) -> Result<Option<StoredEpss>>;
    /// Records a feed import.
    fn insert_feed_import(&mut self, record: &FeedImport) -> Result<i64>;
    /// Records the outcome of an import or sync for a source.
    fn set_feed_state(&mut self, source: &str, error: Option<&str>) -> Result<()>;
    /// Per-source status.
    fn feed_status(&self) -> Result<Vec<FeedStatus>>;
    /// The sync position of a source (its meaning is the fetcher's), if any.
    fn feed_cursor(&self, source: &str) -> Result<Option<String>>;
    /// Stores the sync position of a source.
    fn set_feed_cursor(&mut self, source: &str, cursor: &str) -> Result<()>;

    /// Reads a setting.
    fn setting(&self, key: &str) -> Result<Option<String>>;
    /// Writes a setting.
    fn set_setting(&mut self, key: &str, value: &str) -> Result<()>;

    /// The vulnerable CPE criteria naming this vendor and product (lower-case), with their
    /// records' ids: what matching tests a product's components against first.
    fn criteria_naming(
        &self,
        vendor: &str,
        product: &str,
    ) -> Result<Vec<(String, mamori_core::vuln::CpeMatch)>>;
    /// Devices (internal keys, any status) added or changed after `since`.
    fn assets_changed_since(&self, since: DateTime<Utc>) -> Result<Vec<i64>>;
    /// The vendor and product pairs these records' criteria and affected entries name.
    fn products_of(&self, vulns: &[String]) -> Result<Vec<(String, String)>>;
    /// The distinct components (variants) naming one of these vendor and product pairs, or
    /// made by one of these vendors, including variants no device holds any more.
    fn component_variants(
        &self,
        products: &[(String, String)],
        vendors: &[String],
    ) -> Result<Vec<ComponentVariant>>;
    /// The vendors (lower case, as written) these records' platform criteria ("running
    /// on/with", not vulnerable) name.
    fn platform_vendors_of(&self, vulns: &[String]) -> Result<Vec<String>>;
    /// For each of these variants, in order, the devices (internal keys, any status) holding
    /// it: (device, position of the component among the device's components of its source).
    fn variant_holders(&self, variants: &[i64]) -> Result<Vec<Vec<(i64, i64)>>>;
    /// The vulnerable CPE criteria of these records, with their records' ids: those naming a
    /// product some device's component has, and every hardware criterion.
    fn vulnerable_criteria_of(
        &self,
        vulns: &[String],
    ) -> Result<Vec<(String, mamori_core::vuln::CpeMatch)>>;
    /// These devices' own columns only — no CPEs, software or addresses — by internal key:
    /// what scoring a finding reads, for matches that take components from variants.
    fn asset_records(&self, ids: &[i64]) -> Result<Vec<StoredAsset>>;
    /// Every device's maker, model, name, version and status (in the order of their internal
    /// keys): what names a device for matching when it has no CPE.
    fn asset_names(&self) -> Result<Vec<AssetNaming>>;
    /// The CSAF advisories that name one of these vulnerabilities.
    fn advisories_naming(&self, vulns: &[String]) -> Result<Vec<String>>;
    /// Whether KEV or EPSS data was imported after `since` (priorities then change).
    fn scores_changed_since(&self, since: DateTime<Utc>) -> Result<bool>;
    /// A record's applicability configurations, exactly as stored.
    fn vuln_configurations(&self, id: &str) -> Result<Vec<mamori_core::vuln::Configuration>>;
    /// What scoring and merging need of a record.
    fn vuln_facts(&self, id: &str) -> Result<Option<VulnFacts>>;
    /// Affected-product entries (JVN, CSAF-derived) that give a CPE name.
    fn affected_with_cpe(&self) -> Result<Vec<(String, mamori_core::vuln::Affected)>>;
    /// Part, vendor and product the store's criteria and affected entries name, with the
    /// number of records naming each (for CPE suggestions).
    fn known_products(&self) -> Result<Vec<(String, String, String, i64)>>;
    /// The components with a CPE name of one source (`sbom`, `scan`, …) of these devices, or
    /// of every device: what matching reads.
    fn components(&self, source: &str, assets: Option<&[i64]>) -> Result<Vec<StoredComponent>>;
    /// Replaces a device's components of one source (an SBOM import) and marks the device
    /// changed.
    fn replace_components(
        &mut self,
        asset: i64,
        source: &str,
        components: &[StoredComponent],
    ) -> Result<()>;
    /// Replaces a device's VEX statements (an SBOM import that carries them) and marks the
    /// device changed.
    fn replace_vex(&mut self, asset: i64, statements: &[StoredVex]) -> Result<()>;
    /// The VEX statements of these devices, or of every device.
    fn vex(&self, assets: Option<&[i64]>) -> Result<Vec<StoredVex>>;
    /// Findings, of one device or all, with the device's id, name and department.
    fn findings(&self, asset: Option<i64>) -> Result<Vec<Finding>>;
    /// One finding.
    fn finding(&self, id: i64) -> Result<Option<Finding>>;
    /// How many findings are open.
    fn count_open_findings(&self) -> Result<i64>;
    /// The vulnerabilities that have open findings.
    fn open_finding_vulns(&self) -> Result<Vec<String>>;
    /// Up to `limit` open findings with an id above `after`, by id (to page through all).
    fn open_findings_after(&self, after: i64, limit: i64) -> Result<Vec<Finding>>;
    /// What a match run compares of existing findings: of these devices, of these
    /// vulnerabilities, or (both `None`) all.
    fn finding_heads(
        &self,
        assets: Option<&[i64]>,
        vulns: Option<&[String]>,
    ) -> Result<Vec<FindingHead>>;
    /// Changes a finding's 対応状況 (and 適用予定日) and records the change in its history.
    fn set_finding_state(&mut self, event: &FindingEvent) -> Result<()>;
    /// A finding's history of 対応状況, oldest first.
    fn finding_events(&self, finding: i64) -> Result<Vec<StoredFindingEvent>>;
    /// Sets (or clears) why a finding needs a look (`exception_expired`).
    fn flag_finding(&mut self, finding: i64, flag: Option<&str>) -> Result<()>;
    /// Records a proposed 代替策 / リスク受容 and its findings; returns its id.
    fn insert_exception(&mut self, e: &Exception) -> Result<i64>;
    /// One exception with its findings.
    fn exception(&self, id: i64) -> Result<Option<Exception>>;
    /// Every exception, newest first.
    fn exceptions(&self) -> Result<Vec<Exception>>;
    /// Writes an exception's status and decision (by id; its findings do not change).
    fn update_exception(&mut self, e: &Exception) -> Result<()>;
    /// Records an inquiry to a vendor and its findings; returns its id.
    fn insert_inquiry(&mut self, q: &Inquiry) -> Result<i64>;
    /// Every inquiry with its items, newest first.
    fn inquiries(&self) -> Result<Vec<Inquiry>>;
    /// Writes an inquiry's status and its items' answers (by id and finding).
    fn save_inquiry_answers(&mut self, q: &Inquiry) -> Result<()>;
    /// Records a file attached to an inquiry (the file itself is the caller's to keep).
    fn insert_attachment(&mut self, a: &Attachment) -> Result<i64>;
    /// An inquiry's attachments, in the order added.
    fn attachments(&self, inquiry: i64) -> Result<Vec<Attachment>>;
    /// Marks a finding resolved (or reopened: `status` open, no time) with the reason.
    fn set_finding_status(
        &mut self,
        id: i64,
        status: &str,
        reason: Option<&str>,
        at: Option<DateTime<Utc>>,
    ) -> Result<()>;
    /// Inserts (id 0) or updates a finding; returns its id. A finding whose `vuln` starts
    /// with `8.3:` is a safe-use finding; `asset` 0 means an address in no ledger row.
    fn save_finding(&mut self, finding: &Finding) -> Result<i64>;
    /// Every safe-use (8.3) finding, oldest first.
    fn check_findings(&self) -> Result<Vec<Finding>>;

    /// Records a scan that starts (status `running`); returns its id.
    fn insert_scan(&mut self, scan: &ScanRecord) -> Result<i64>;
    /// Stores what a scan saw and its end (status, counts).
    fn finish_scan(&mut self, scan: &ScanRecord, hosts: &[ScanHost]) -> Result<()>;
    /// Scans, newest first.
    fn scans(&self) -> Result<Vec<ScanRecord>>;
    /// One scan.
    fn scan(&self, id: i64) -> Result<Option<ScanRecord>>;
    /// What one scan saw, address by address.
    fn scan_hosts(&self, id: i64) -> Result<Vec<ScanHost>>;
    /// The latest `limit` scans that saw a device (its internal key), newest first: (scan id,
    /// when the scan started, what it saw at the device's address).
    fn asset_scans(&self, asset: i64, limit: i64) -> Result<Vec<(i64, DateTime<Utc>, ScanHost)>>;
    /// Allowed services: (`kind:<code>` or `asset:<id>`, port, transport, note).
    fn allowed_services(&self) -> Result<Vec<AllowedService>>;
    /// Adds (`allow`) or removes an allowed service.
    fn set_allowed_service(&mut self, service: &AllowedService, allow: bool) -> Result<bool>;

    /// Schedules by name (JSON definitions).
    fn schedules(&self) -> Result<Vec<(String, serde_json::Value)>>;
    /// Adds or replaces a schedule; returns whether it existed.
    fn set_schedule(&mut self, name: &str, definition: &serde_json::Value) -> Result<bool>;
    /// Removes a schedule; returns whether it existed.
    fn delete_schedule(&mut self, name: &str) -> Result<bool>;
    /// Holidays imported from files, by date.
    fn imported_holidays(&self) -> Result<Vec<(NaiveDate, String)>>;
    /// Stores imported holidays (replacing those of the same dates).
    fn import_holidays(&mut self, holidays: &[(NaiveDate, String)], source: &str) -> Result<()>;
    /// Default schedules: (`kind:<code>` or `dept:<部署>`, schedule).
    fn schedule_defaults(&self) -> Result<Vec<(String, String)>>;
    /// Sets (or with `None` removes) a default schedule.
    fn set_schedule_default(&mut self, scope: &str, schedule: Option<&str>) -> Result<()>;
    /// What the watch remembers of each device.
    fn watch_states(&self) -> Result<Vec<WatchState>>;
    /// Saves what the watch remembers of a device.
    fn save_watch_state(&mut self, state: &WatchState) -> Result<()>;
    /// The device's open presence interval: (id, up from, last seen).
    fn open_presence(&self, asset: i64) -> Result<Option<(i64, NaiveDateTime, NaiveDateTime)>>;
    /// Opens a presence interval at `at`.
    fn start_presence(&mut self, asset: i64, at: NaiveDateTime) -> Result<()>;
    /// Moves an open interval's last sighting, or (`close`) closes it.
    fn update_presence(&mut self, id: i64, last_seen: NaiveDateTime, close: bool) -> Result<()>;
    /// Presence intervals overlapping [from, to): (asset, up from, last seen).
    fn presence_between(
        &self,
        from: NaiveDateTime,
        to: NaiveDateTime,
    ) -> Result<Vec<(i64, NaiveDateTime, NaiveDateTime)>>;

    /// Every component of one device, with or without a CPE, as (source, component), in
    /// source and list order (for showing; matching reads [`Tx::components`]).
    fn device_components(&self, asset: i64) -> Result<Vec<(String, StoredComponent)>>;

    /// One page of devices matching `filter`, in `sort` order (then 管理番号), and how many
    /// match in all.
    fn assets_page(
        &self,
        filter: &AssetFilter,
        sort: AssetSort,
        offset: usize,
        limit: usize,
    ) -> Result<(usize, Vec<StoredAsset>)>;
    /// Devices not retired, and those of them past their end of support on `today`.
    fn asset_counts(&self, today: NaiveDate) -> Result<(usize, usize)>;
    /// One page of findings, most urgent first, and how many match in all.
    fn findings_page(&self, q: &FindingPageQuery) -> Result<(usize, Vec<Finding>)>;
    /// Open findings counted by level and category, in KEV, by 8.3 check, and overdue (see
    /// [`FindingTotals`]).
    fn finding_totals(&self, overdue: &Overdue) -> Result<FindingTotals>;
    /// The findings' history from `since` (UTC days): per category (`vuln`, `8.3`), how many
    /// were open at the start, and how many were first found and resolved on each day since.
    /// Findings kept as 影響なし (not affected) are left out.
    fn finding_trend(&self, since: NaiveDate) -> Result<Vec<TrendCount>>;

    /// API tokens (of one user, or all), oldest first (revoked ones too).
    fn api_tokens(&self, username: Option<&str>) -> Result<Vec<ApiToken>>;
    /// The token with this hash, if any.
    fn api_token_by_hash(&self, hash: &str) -> Result<Option<ApiToken>>;
    /// Stores a token; returns its id.
    fn insert_api_token(&mut self, token: &ApiToken) -> Result<i64>;
    /// Revokes a token; returns whether it was in force.
    fn revoke_api_token(&mut self, id: i64) -> Result<bool>;
    /// Records a token's use (now).
    fn touch_api_token(&mut self, id: i64) -> Result<()>;

    /// Approvals of default-credential checks, newest first (withdrawn ones too).
    fn cred_approvals(&self) -> Result<Vec<CredApproval>>;
    /// Stores an approval; returns its id.
    fn insert_cred_approval(&mut self, approval: &CredApproval) -> Result<i64>;
    /// Withdraws an approval; returns whether it was in force.
    fn revoke_cred_approval(&mut self, id: i64, by: &str) -> Result<bool>;
    /// Devices never tried: (asset, note).
    fn cred_exclusions(&self) -> Result<Vec<(i64, Option<String>)>>;
    /// Excludes (`Some(note)`) or includes again (`None`) a device; returns whether it changed.
    fn set_cred_exclusion(&mut self, asset: i64, note: Option<&str>, by: &str) -> Result<bool>;
    /// Attestations, oldest first (of one device, or all).
    fn attestations(&self, asset: Option<i64>) -> Result<Vec<StoredAttestation>>;
    /// Stores an attestation; returns its id.
    fn insert_attestation(&mut self, attestation: &StoredAttestation) -> Result<i64>;
    /// Collector keys.
    fn collector_keys(&self) -> Result<Vec<CollectorKey>>;
    /// Stores a collector key; returns its id.
    fn insert_collector_key(&mut self, key: &CollectorKey) -> Result<i64>;
    /// Host reports, newest first (of one device, or all).
    fn host_reports(&self, asset: Option<i64>) -> Result<Vec<HostReport>>;
    /// Stores a host report; returns its id.
    fn insert_host_report(&mut self, report: &HostReport) -> Result<i64>;
}

/// When an open finding is overdue: first seen before these days (`YYYY-MM-DD`) for its
/// priority, and still in one of `open_states`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overdue {
    /// For KEV findings.
    pub kev: String,
    /// 緊急.
    pub urgent: String,
    /// 高.
    pub high: String,
    /// Others.
    pub other: String,
    /// The 対応状況 codes that still need action.
    pub open_states: Vec<String>,
}

/// What a page of findings asks for. Empty fields do not filter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FindingPageQuery {
    /// `open`, `resolved`, `not_affected` (`None`: any).
    pub status: Option<String>,
    /// `vuln` (8.2) or `8.3`.
    pub category: Option<String>,
    /// Only these level codes.
    pub levels: Option<Vec<String>>,
    /// Only KEV.
    pub kev: bool,
    /// One device (internal key).
    pub asset: Option<i64>,
    /// One 対応状況 code.
    pub state: Option<String>,
    /// 部署 (exact).
    pub department: Option<String>,
    /// A vulnerability id (kept under it, or named by a source).
    pub vuln: Option<String>,
    /// Only overdue findings.
    pub overdue: Option<Overdue>,
    /// Skip this many.
    pub offset: usize,
    /// At most this many.
    pub limit: usize,
    /// The total, when the caller knows it (not counted again).
    pub total: Option<usize>,
}

/// The open findings' totals the dashboard shows ([`Tx::finding_totals`]).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FindingTotals {
    /// (level code, category `vuln` or `8.3`, count).
    pub by_level_category: Vec<(String, String, usize)>,
    /// In KEV.
    pub kev: usize,
    /// 8.3 findings by check (`8.3:unregistered` …).
    pub by_check: Vec<(String, usize)>,
    /// Past their due date and still needing action.
    pub overdue: usize,
}

/// A REST API token (only its hash is kept).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ApiToken {
    /// Id (0 before it is stored).
    pub id: i64,
    /// Whose.
    pub username: String,
    /// What it is for.
    pub name: String,
    /// SHA-256 of the token, hex.
    #[serde(skip)]
    pub token_hash: String,
    /// When made.
    pub created_at: DateTime<Utc>,
    /// Last used.
    pub last_used_at: Option<DateTime<Utc>>,
    /// When revoked.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Where and how the 企画管理者 allowed default credentials to be tried.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CredApproval {
    /// Id (0 before it is stored).
    pub id: i64,
    /// CIDRs, ranges and addresses.
    pub scope: String,
    /// Never tried.
    pub exclude: Option<String>,
    /// Weekly ranges the checks may run in (none: any time the scan may).
    pub windows: Vec<String>,
    /// Attempts per account and device in one run.
    pub max_attempts: u32,
    /// Pause between attempts to one device, milliseconds.
    pub delay_ms: u64,
    /// Why, conditions.
    pub note: Option<String>,
    /// Who approved.
    pub approved_by: String,
    /// When.
    pub approved_at: DateTime<Utc>,
    /// Who withdrew it.
    pub revoked_by: Option<String>,
    /// When it was withdrawn.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// One attestation of a device's initial setting (the newest per device and item counts).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StoredAttestation {
    /// Id (0 before it is stored).
    pub id: i64,
    /// The device's internal key.
    pub asset: i64,
    /// `mamori_core::attest::AttestItem` code.
    pub item: String,
    /// `AttestValue` code.
    pub value: String,
    /// Who confirmed.
    pub actor: String,
    /// When.
    pub at: DateTime<Utc>,
    /// Where the evidence is (a note).
    pub evidence: Option<String>,
    /// An attached file's name.
    pub attachment: Option<String>,
    /// Its SHA-256 (the kept copy's name in the data directory).
    pub attachment_sha256: Option<String>,
    /// Re-confirm after this many days.
    pub interval_days: i64,
}

/// A collector signing key's public half.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CollectorKey {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Ed25519 public key, hex.
    pub public_key: String,
    /// Who made it.
    pub created_by: String,
    /// When.
    pub created_at: DateTime<Utc>,
    /// When withdrawn.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A host collector's report attached to a device.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct HostReport {
    /// Id (0 before it is stored).
    pub id: i64,
    /// The device's internal key.
    pub asset: i64,
    /// When it was collected (the collector's clock).
    pub collected_at: DateTime<Utc>,
    /// The host's name, as it said.
    pub hostname: String,
    /// The key that signed it.
    pub key_name: Option<String>,
    /// SHA-256 of the signed body.
    pub digest: String,
    /// The report.
    pub report: serde_json::Value,
    /// Who imported it.
    pub imported_by: String,
    /// When.
    pub imported_at: DateTime<Utc>,
}

/// What the watch remembers of a device between rounds (local times).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchState {
    /// The device.
    pub asset: i64,
    /// When the watch first probed it.
    pub first_probe: NaiveDateTime,
    /// The last probe.
    pub last_probe: NaiveDateTime,
    /// The last probe that found it up.
    pub last_up: Option<NaiveDateTime>,
    /// Up outside its schedule since.
    pub off_since: Option<NaiveDateTime>,
}

/// One scan: mamori's own or an imported nmap file.
#[derive(Debug, Clone, PartialEq)]
pub struct ScanRecord {
    /// Internal id (0 for a new one).
    pub id: i64,
    /// `mamori` or `nmap`.
    pub source: String,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it ended.
    pub finished_at: Option<DateTime<Utc>>,
    /// `running`, `complete`, `incomplete`.
    pub status: String,
    /// Why incomplete: `interrupted`, `outside_window`, `killed`.
    pub stopped: Option<String>,
    /// `internal` or `external`.
    pub vantage: String,
    /// The policy it ran under (JSON).
    pub policy: serde_json::Value,
    /// Who ran it.
    pub actor: String,
    /// The process running it, while it runs.
    pub pid: Option<i64>,
    /// An imported file's name.
    pub file: Option<String>,
    /// Addresses scanned.
    pub hosts: i64,
    /// Addresses that answered.
    pub up: i64,
    /// Open ports.
    pub open_ports: i64,
    /// Probes sent.
    pub probes: i64,
}

/// What one address answered in one scan.
#[derive(Debug, Clone, PartialEq)]
pub struct ScanHost {
    /// The address.
    pub addr: String,
    /// Answered.
    pub up: bool,
    /// The ledger device it was recognised as (internal id).
    pub asset: Option<i64>,
    /// Everything seen.
    pub result: mamori_core::scan::HostResult,
}

/// A service a device (or every device of a kind) may run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedService {
    /// `kind:<AssetKind code>` or `asset:<internal id>`.
    pub scope: String,
    /// Port.
    pub port: u16,
    /// `tcp` or `udp`.
    pub transport: String,
    /// Why.
    pub note: Option<String>,
}

/// A VEX statement kept for a device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredVex {
    /// The device's internal key.
    pub asset: i64,
    /// The vulnerability.
    pub vuln: String,
    /// CycloneDX `analysis.state`.
    pub state: String,
    /// Why not affected.
    pub justification: Option<String>,
    /// The producer's words.
    pub detail: Option<String>,
    /// The `bom-ref`s it is about.
    pub refs: Vec<String>,
    /// The file it came from.
    pub origin: String,
}

/// The part of a finding a match run compares.
#[derive(Debug, Clone, PartialEq)]
pub struct FindingHead {
    /// Internal id.
    pub id: i64,
    /// The device's internal key.
    pub asset: i64,
    /// `part:vendor:product`.
    pub component_key: String,
    /// The vulnerability.
    pub vuln: String,
    /// `open`, `resolved`, `not_affected`.
    pub status: String,
    /// Version last evaluated.
    pub version: Option<String>,
    /// Digest of the content last written.
    pub digest: Option<String>,
    /// 対応状況 (a `mamori_core::remediation::Remediation` code).
    pub state: String,
}

/// A change of a finding's 対応状況, to record.
#[derive(Debug, Clone, PartialEq)]
pub struct FindingEvent {
    /// The finding.
    pub finding: i64,
    /// Who: a user name, `os:NAME`, or `match`.
    pub actor: String,
    /// State before (a remediation code).
    pub from: String,
    /// State after.
    pub to: String,
    /// Why.
    pub reason: Option<String>,
    /// Details (planned date, VEX justification…), as JSON.
    pub detail: serde_json::Value,
    /// 適用予定日, set on the finding with the change (kept when `None`).
    pub planned_date: Option<chrono::NaiveDate>,
}

/// A 代替策 or リスク受容: proposed, then approved or rejected, valid until its review date.
#[derive(Debug, Clone, PartialEq)]
pub struct Exception {
    /// Internal id (0 before it is stored).
    pub id: i64,
    /// `mitigated` or `risk_accepted`.
    pub kind: String,
    /// Measure codes (`mamori_core::remediation::Measure`).
    pub measures: Vec<String>,
    /// Free text.
    pub note: Option<String>,
    /// `low`, `medium`, `high`.
    pub residual_risk: String,
    /// 見直し期限: after this day the findings reopen.
    pub review_date: chrono::NaiveDate,
    /// `proposed`, `approved`, `rejected`, `expired`.
    pub status: String,
    /// Who proposed it.
    pub requested_by: String,
    /// When.
    pub requested_at: DateTime<Utc>,
    /// Who approved or rejected it.
    pub decided_by: Option<String>,
    /// When.
    pub decided_at: Option<DateTime<Utc>>,
    /// Why (approval comment, rejection reason).
    pub decision_reason: Option<String>,
    /// The findings it covers.
    pub findings: Vec<i64>,
    /// The device (管理番号) when it is for a device as a whole (EOS).
    pub asset: Option<String>,
}

/// 事業者確認: a question to a vendor about findings on its devices.
#[derive(Debug, Clone, PartialEq)]
pub struct Inquiry {
    /// Internal id (0 before it is stored).
    pub id: i64,
    /// The devices' 保守事業者.
    pub vendor: String,
    /// What is asked.
    pub question: String,
    /// When it was asked.
    pub asked_on: chrono::NaiveDate,
    /// Who asked.
    pub asked_by: String,
    /// `open` or `answered` (every item answered).
    pub status: String,
    /// One per finding.
    pub items: Vec<InquiryItem>,
}

/// A file attached to an inquiry, kept under its SHA-256.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Attachment {
    /// The inquiry.
    pub inquiry: i64,
    /// The file's name as given.
    pub name: String,
    /// Hex SHA-256 of its bytes (also its name in the data directory).
    pub sha256: String,
    /// Bytes.
    pub size: i64,
    /// Who attached it.
    pub added_by: String,
}

/// One finding of an inquiry, with the vendor's answer once recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct InquiryItem {
    /// The finding.
    pub finding: i64,
    /// `applicable`, `conditional`, `not_applicable`, `not_affected`.
    pub verdict: Option<String>,
    /// Conditions (for `conditional`).
    pub conditions: Option<String>,
    /// The answer's text.
    pub answer: Option<String>,
    /// When the vendor answered.
    pub answered_on: Option<chrono::NaiveDate>,
    /// Who recorded the answer.
    pub recorded_by: Option<String>,
}

/// A recorded change of a finding's 対応状況.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredFindingEvent {
    /// When.
    pub at: DateTime<Utc>,
    /// The change.
    pub event: FindingEvent,
}

/// What matching needs of a vulnerability record besides its configurations.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct VulnFacts {
    /// `nvd`, `jvn`, `csaf`.
    pub source: String,
    /// Other ids (a JVNDB record's CVE ids).
    pub aliases: Vec<String>,
    /// Highest CVSS base score of any version.
    pub max_cvss: Option<f64>,
    /// The first title (JVN) or description, for display.
    pub title: Option<String>,
}

/// A component of a device as stored (`asset_components`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StoredComponent {
    /// The device's internal key.
    pub asset: i64,
    /// Name as given.
    pub name: String,
    /// Version as given.
    pub version: Option<String>,
    /// CPE name, when given.
    pub cpe: Option<String>,
    /// Package URL, when given.
    pub purl: Option<String>,
    /// Extra facts (e.g. the SBOM file and the component's bom-ref), as JSON.
    pub detail: Option<String>,
}

/// What names a device (see [`Tx::asset_names`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetNaming {
    /// Internal key.
    pub id: i64,
    /// 状態.
    pub status: mamori_core::AssetStatus,
    /// メーカー.
    pub manufacturer: Option<String>,
    /// 型番.
    pub model: Option<String>,
    /// 機器名.
    pub name: String,
    /// バージョン.
    pub os_version: Option<String>,
}

/// A distinct component: every device component with the same CPE, version, source and
/// package-URL type is one variant (`component_variants`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentVariant {
    /// Internal id.
    pub id: i64,
    /// The CPE's vendor and product, lower case.
    pub vendor: String,
    /// See `vendor`.
    pub product: String,
    /// The CPE name as given.
    pub cpe: String,
    /// The version matching gives a CPE without one: the component's version, or for a
    /// ledger CPE the device's バージョン column.
    pub version: Option<String>,
    /// `ledger`, `sbom`, `scan`, `collector`.
    pub source: String,
    /// The package URL's type (`deb`, `rpm`, …), if it has one.
    pub purl_type: Option<String>,
}

/// A finding as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// Internal id (0 for a new one).
    pub id: i64,
    /// The device's internal key.
    pub asset: i64,
    /// 管理番号 (filled on read).
    pub asset_id: String,
    /// 機器名 (filled on read).
    pub asset_name: String,
    /// 部署 (filled on read).
    pub department: Option<String>,
    /// `part:vendor:product` of the component.
    pub component_key: String,
    /// Product and version as shown.
    pub component: String,
    /// Version last evaluated.
    pub version: Option<String>,
    /// The component's CPE.
    pub cpe: Option<String>,
    /// `ledger` or `sbom`.
    pub source: String,
    /// The vulnerability (CVE id when known).
    pub vuln: String,
    /// `open`, `resolved`, `not_affected`.
    pub status: String,
    /// `high`, `medium`, `low`.
    pub confidence: String,
    /// Priority score.
    pub score: f64,
    /// Priority level code.
    pub level: String,
    /// In KEV.
    pub kev: bool,
    /// Supporting records, e.g. `NVD CVE-2018-13379`, `JVN JVNDB-2019-…`.
    pub sources: Vec<String>,
    /// Criteria, bounds, doubts and priority factors.
    pub evidence: serde_json::Value,
    /// Why resolved or not affected.
    pub reason: Option<String>,
    /// First found.
    pub first_seen: DateTime<Utc>,
    /// Last confirmed by matching.
    pub last_seen: DateTime<Utc>,
    /// When resolved.
    pub resolved_at: Option<DateTime<Utc>>,
    /// Digest of the matched content (see [`FindingHead::digest`]).
    pub digest: Option<String>,
    /// 対応状況 (a `mamori_core::remediation::Remediation` code); written when a finding is
    /// created, then only through [`Tx::set_finding_state`].
    pub state: String,
    /// 適用予定日.
    pub planned_date: Option<chrono::NaiveDate>,
    /// Why it needs a look although nobody moved it (`exception_expired`).
    pub flag: Option<String>,
}

impl Finding {
    /// A new open finding (id 0, 未対応) of `vuln` on a device's component (`asset` 0: an
    /// address in no ledger row), first and last seen `now`; the caller fills the rest.
    pub fn new(asset: i64, component_key: &str, vuln: &str, now: DateTime<Utc>) -> Finding {
        Finding {
            id: 0,
            asset,
            // Filled when read; the store does not write them.
            asset_id: String::new(),
            asset_name: String::new(),
            department: None,
            component_key: component_key.to_string(),
            component: String::new(),
            version: None,
            cpe: None,
            source: String::new(),
            vuln: vuln.to_string(),
            status: "open".into(),
            confidence: String::new(),
            score: 0.0,
            level: String::new(),
            kev: false,
            sources: Vec::new(),
            evidence: serde_json::json!({}),
            reason: None,
            first_seen: now,
            last_seen: now,
            resolved_at: None,
            digest: None,
            state: "new".into(),
            planned_date: None,
            flag: None,
        }
    }
}

/// An open store.
pub struct Store {
    backend: Backend,
    /// The database file (its writer note sits beside it).
    path: std::path::PathBuf,
    wait: WriteWait,
}

enum Backend {
    Sqlite(sqlite::SqliteStore),
}

impl Store {
    /// Creates a new SQLite store at `path` (refuses if a database exists there).
    pub fn create_sqlite(path: &std::path::Path) -> Result<Store> {
        Ok(Store {
            backend: Backend::Sqlite(sqlite::SqliteStore::create(path)?),
            path: path.to_path_buf(),
            wait: WriteWait::default(),
        })
    }

    /// Opens the SQLite store at `path`, applying pending migrations.
    pub fn open_sqlite(path: &std::path::Path) -> Result<Store> {
        Ok(Store {
            backend: Backend::Sqlite(sqlite::SqliteStore::open(path)?),
            path: path.to_path_buf(),
            wait: WriteWait::default(),
        })
    }

    /// Sets how long [`Store::begin`] waits for another writer, and what it says meanwhile.
    pub fn set_write_wait(&mut self, wait: WriteWait) {
        self.wait = wait;
    }

    /// A note announcing a long write (`what`, e.g. "ledger import of 台帳.xlsx by
    /// os:sato") to the writers that will wait for it; see [`WriterNote::post`].
    pub fn announce_writer(&self, what: &str) -> WriterNote {
        WriterNote {
            path: self.writer_note_path(),
            text: format!("{}\n{what}", std::process::id()),
            posted: false,
        }
    }

    /// What the current long writer announced, if its process is still running.
    pub fn current_writer(&self) -> Option<String> {
        read_writer_note(&self.writer_note_path())
    }

    fn writer_note_path(&self) -> std::path::PathBuf {
        let mut name = self.path.file_name().unwrap_or_default().to_os_string();
        name.push(".writer");
        self.path.with_file_name(name)
    }

    /// Starts a write transaction. While another writer holds the store this waits —
    /// telling [`WriteWait::notice`] once what it waits for — up to [`WriteWait::max`],
    /// then fails with [`StoreError::Busy`] (never with the engine's lock error).
    pub fn begin(&mut self) -> Result<Box<dyn Tx + '_>> {
        let note = self.writer_note_path();
        let max = self.wait.max;
        let started = std::time::Instant::now();
        let Backend::Sqlite(s) = &mut self.backend;
        if s.write_lock_taken()? {
            if let Some(notice) = &self.wait.notice {
                notice(read_writer_note(&note).as_deref());
            }
        }
        s.set_busy_timeout(max)?;
        match s.begin() {
            Ok(tx) => Ok(Box::new(tx)),
            Err(e) if e.is_busy() => Err(StoreError::Busy {
                waited_secs: started.elapsed().as_secs(),
                writer: read_writer_note(&note),
            }),
            Err(e) => Err(e),
        }
    }

    /// Starts a read-only snapshot (writes through it are not intended and are never
    /// committed by callers).
    pub fn begin_read(&mut self) -> Result<Box<dyn Tx + '_>> {
        match &mut self.backend {
            Backend::Sqlite(s) => Ok(Box::new(s.begin_read()?)),
        }
    }

    /// The schema version of the store.
    pub fn schema_version(&self) -> Result<i64> {
        match &self.backend {
            Backend::Sqlite(s) => s.schema_version(),
        }
    }
}
