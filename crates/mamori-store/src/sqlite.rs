//! The SQLite backend: one database file, WAL journal, foreign keys on.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use mamori_core::{
    Asset, AssetKind, AssetStatus, ComponentSource, Labelled, MacAddr, Role, Software,
    StocktakeResult,
};
use rusqlite::{params, Connection, OptionalExtension, Row, ToSql};
use sha2::{Digest, Sha256};

use crate::{
    AssetFilter, AuditEntry, AuditRecord, FeedImport, FeedStatus, ImportRecord, NewUser, Result,
    StatusChange, Stocktake, StoreError, StoredAsset, StoredEpss, StoredVulnerability, Tx, Upsert,
    User, VulnSummary,
};
use mamori_core::vuln::{Advisory, Alert, KevEntry, Vulnerability};

/// Migrations in order; the store records the highest applied version.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "ledger", include_str!("../migrations/0001_ledger.sql")),
    (
        2,
        "vulnerabilities",
        include_str!("../migrations/0002_vulnerabilities.sql"),
    ),
    (
        3,
        "findings",
        include_str!("../migrations/0003_findings.sql"),
    ),
    (
        4,
        "match index",
        include_str!("../migrations/0004_match_index.sql"),
    ),
    (
        5,
        "component variants",
        include_str!("../migrations/0005_component_variants.sql"),
    ),
    (
        6,
        "remediation",
        include_str!("../migrations/0006_remediation.sql"),
    ),
    (
        7,
        "exceptions",
        include_str!("../migrations/0007_exceptions.sql"),
    ),
    (
        8,
        "inquiries",
        include_str!("../migrations/0008_inquiries.sql"),
    ),
    (
        9,
        "attachments",
        include_str!("../migrations/0009_attachments.sql"),
    ),
    (
        10,
        "device exceptions",
        include_str!("../migrations/0010_device_exceptions.sql"),
    ),
    (11, "scans", include_str!("../migrations/0011_scans.sql")),
    (
        12,
        "operating hours",
        include_str!("../migrations/0012_hours.sql"),
    ),
    (
        13,
        "safe-use checks",
        include_str!("../migrations/0013_safe_use.sql"),
    ),
    (
        14,
        "API tokens",
        include_str!("../migrations/0014_api_tokens.sql"),
    ),
    (
        15,
        "finding pages",
        include_str!("../migrations/0015_finding_pages.sql"),
    ),
    (
        16,
        "dashboard counts",
        include_str!("../migrations/0016_dashboard_counts.sql"),
    ),
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = 16;

/// Fills the CPE vendor and product of components written before migration 4.
fn backfill_component_products(tx: &rusqlite::Transaction<'_>) -> Result<()> {
    let rows: Vec<(i64, String)> = {
        let mut stmt = tx.prepare("SELECT id, cpe FROM asset_components WHERE cpe IS NOT NULL")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let mut stmt =
        tx.prepare("UPDATE asset_components SET vendor = ?2, product = ?3 WHERE id = ?1")?;
    for (id, cpe) in rows {
        let (vendor, product) = crate::sqlite_vulns::vendor_product(&cpe);
        stmt.execute(params![id, vendor, product])?;
    }
    Ok(())
}

/// Names the variant of every component with a CPE written before migration 5.
fn backfill_component_variants(tx: &rusqlite::Transaction<'_>) -> Result<()> {
    /// Row id, CPE, version (the device's for a ledger CPE), source, package URL.
    type Row = (i64, String, Option<String>, String, Option<String>);
    let rows: Vec<Row> = {
        let mut stmt = tx.prepare(
            "SELECT c.id, c.cpe, CASE c.source WHEN 'ledger' THEN a.os_version ELSE c.version END,
                    c.source, c.purl
             FROM asset_components c JOIN assets a ON a.id = c.asset WHERE c.cpe IS NOT NULL",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let mut stmt = tx.prepare("UPDATE asset_components SET variant = ?2 WHERE id = ?1")?;
    for (id, cpe, version, source, purl) in rows {
        let variant = crate::sqlite_findings::variant_id(
            tx,
            &cpe,
            version.as_deref(),
            &source,
            purl.as_deref(),
        )?;
        stmt.execute(params![id, variant])?;
    }
    Ok(())
}

const USER_COLUMNS: &str =
    "id, username, display_name, roles, password_hash, must_change_password, disabled, vendor";

fn user_from_row(r: &Row<'_>) -> Result<User> {
    let roles: String = r.get(3)?;
    let roles = roles
        .split(',')
        .filter(|s| !s.is_empty())
        .map(from_code::<Role>)
        .collect::<Result<Vec<_>>>()?;
    Ok(User {
        id: r.get(0)?,
        username: r.get(1)?,
        display_name: r.get(2)?,
        roles,
        password_hash: r.get(4)?,
        must_change_password: r.get(5)?,
        disabled: r.get(6)?,
        vendor: r.get(7)?,
    })
}

/// An open SQLite database.
pub struct SqliteStore {
    conn: Connection,
}

fn configure(conn: &Connection) -> Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // 64 MiB of page cache (the default is 2 MiB): a match writing 200,000 findings or a
    // full feed import otherwise spills dirty pages to the WAL mid-transaction.
    conn.pragma_update(None, "cache_size", -65_536)?;
    Ok(())
}

impl SqliteStore {
    /// Creates the database file and applies every migration.
    pub fn create(path: &Path) -> Result<SqliteStore> {
        if path.exists() {
            return Err(StoreError::AlreadyExists(path.to_path_buf()));
        }
        let conn = Connection::open(path)?;
        configure(&conn)?;
        let mut store = SqliteStore { conn };
        store.migrate()?;
        Ok(store)
    }

    /// Opens an existing database file and applies pending migrations.
    pub fn open(path: &Path) -> Result<SqliteStore> {
        if !path.is_file() {
            return Err(StoreError::NotFound(path.to_path_buf()));
        }
        let conn = Connection::open_with_flags(
            path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        configure(&conn)?;
        let mut store = SqliteStore { conn };
        store.migrate()?;
        Ok(store)
    }

    /// The highest migration applied.
    pub fn schema_version(&self) -> Result<i64> {
        Ok(self.conn.query_row(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            [],
            |r| r.get(0),
        )?)
    }

    fn migrate(&mut self) -> Result<()> {
        // Up to date (every open of a served store): nothing to write, nothing to check — no
        // write lock, and no foreign-key scan of a million findings per request.
        let current: Option<i64> = self
            .conn
            .query_row("SELECT MAX(version) FROM schema_migrations", [], |r| {
                r.get(0)
            })
            .optional()
            .ok()
            .flatten()
            .flatten();
        if current == Some(SCHEMA_VERSION) {
            return Ok(());
        }
        // Rebuilding a table (migration 11 rebuilds `findings`) drops it: with foreign keys
        // on, that would cascade into the tables that reference it. They are off while
        // migrations run, and checked before the transaction commits.
        self.conn.pragma_update(None, "foreign_keys", "OFF")?;
        let result = self.migrate_inner();
        self.conn.pragma_update(None, "foreign_keys", "ON")?;
        result
    }

    fn migrate_inner(&mut self) -> Result<()> {
        let tx = self.conn.transaction()?;
        tx.execute_batch(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                 version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
        )?;
        let current: i64 = tx.query_row(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            [],
            |r| r.get(0),
        )?;
        if current > SCHEMA_VERSION {
            return Err(StoreError::NewerSchema {
                found: current,
                supported: SCHEMA_VERSION,
            });
        }
        for (version, name, sql) in MIGRATIONS.iter().filter(|(v, _, _)| *v > current) {
            tx.execute_batch(sql)?;
            if *version == 4 {
                backfill_component_products(&tx)?;
            }
            if *version == 5 {
                backfill_component_variants(&tx)?;
            }
            tx.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
                params![version, name, now_text()],
            )?;
        }
        let broken: Option<String> = tx
            .query_row("PRAGMA foreign_key_check", [], |r| r.get(0))
            .optional()?;
        if let Some(table) = broken {
            return Err(StoreError::Corrupt(format!(
                "a migration left rows in {table} that point at nothing"
            )));
        }
        tx.commit()?;
        Ok(())
    }

    /// Starts a write transaction (immediate, so concurrent writers wait for each other
    /// at the start instead of failing half-way).
    pub fn begin(&mut self) -> Result<SqliteTx<'_>> {
        self.begin_with(rusqlite::TransactionBehavior::Immediate)
    }

    /// Whether another connection holds the write lock now (a `BEGIN IMMEDIATE` that does
    /// not wait, rolled back at once).
    pub(crate) fn write_lock_taken(&mut self) -> Result<bool> {
        self.conn.busy_timeout(std::time::Duration::ZERO)?;
        match self.conn.execute_batch("BEGIN IMMEDIATE; ROLLBACK") {
            Ok(()) => Ok(false),
            Err(e) => {
                let e = StoreError::Db(e);
                if e.is_busy() {
                    Ok(true)
                } else {
                    Err(e)
                }
            }
        }
    }

    /// How long a statement waits for another connection's lock.
    pub(crate) fn set_busy_timeout(&mut self, wait: std::time::Duration) -> Result<()> {
        Ok(self.conn.busy_timeout(wait)?)
    }

    /// Starts a read transaction: a consistent snapshot that takes no write lock (WAL
    /// lets readers run beside a writer).
    pub fn begin_read(&mut self) -> Result<SqliteTx<'_>> {
        self.begin_with(rusqlite::TransactionBehavior::Deferred)
    }

    fn begin_with(&mut self, behavior: rusqlite::TransactionBehavior) -> Result<SqliteTx<'_>> {
        let tx = self.conn.transaction_with_behavior(behavior)?;
        Ok(SqliteTx {
            tx,
            last_hash: None,
        })
    }
}

/// A transaction on a [`SqliteStore`].
pub struct SqliteTx<'a> {
    pub(crate) tx: rusqlite::Transaction<'a>,
    last_hash: Option<String>,
}

pub(crate) fn now_text() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true)
}

pub(crate) fn parse_time(text: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|_| StoreError::Corrupt(format!("timestamp {text:?}")))
}

fn parse_date(text: Option<String>) -> Result<Option<NaiveDate>> {
    text.map(|t| {
        NaiveDate::parse_from_str(&t, "%Y-%m-%d")
            .map_err(|_| StoreError::Corrupt(format!("date {t:?}")))
    })
    .transpose()
}

fn date_text(d: Option<NaiveDate>) -> Option<String> {
    d.map(|d| d.format("%Y-%m-%d").to_string())
}

fn from_code<T: Labelled>(code: &str) -> Result<T> {
    T::ALL
        .iter()
        .copied()
        .find(|v| v.code() == code)
        .ok_or_else(|| StoreError::Corrupt(format!("code {code:?}")))
}

fn opt_code<T: Labelled>(code: Option<String>) -> Result<Option<T>> {
    code.map(|c| from_code(&c)).transpose()
}

const ASSET_COLUMNS: &str =
    "a.id, a.asset_id, a.kind, a.name, a.purpose, a.department, a.location, a.owner,
    a.manufacturer, a.model, a.os, a.os_version, a.status, a.vendor, a.vendor_contact,
    a.remote_maintenance, a.external_access, a.eos_date, a.schedule, a.criticality, a.patient_data,
    a.boot_password, a.default_password_changed, a.mds_sds, a.sbom, a.last_stocktake, a.notes,
    a.custom, a.created_at, a.updated_at, a.scan_exclude";

fn asset_from_row(r: &Row<'_>) -> Result<StoredAsset> {
    let custom: String = r.get(27)?;
    let custom: BTreeMap<String, String> = serde_json::from_str(&custom)
        .map_err(|e| StoreError::Corrupt(format!("custom attributes: {e}")))?;
    let asset = Asset {
        asset_id: r.get(1)?,
        kind: from_code::<AssetKind>(&r.get::<_, String>(2)?)?,
        name: r.get(3)?,
        purpose: r.get(4)?,
        department: r.get(5)?,
        location: r.get(6)?,
        owner: r.get(7)?,
        manufacturer: r.get(8)?,
        model: r.get(9)?,
        os: r.get(10)?,
        os_version: r.get(11)?,
        software: Vec::new(),
        cpe: Vec::new(),
        hostname: Vec::new(),
        ip: Vec::new(),
        mac: Vec::new(),
        status: from_code::<AssetStatus>(&r.get::<_, String>(12)?)?,
        vendor: r.get(13)?,
        vendor_contact: r.get(14)?,
        remote_maintenance: r.get(15)?,
        external_access: r.get(16)?,
        eos_date: parse_date(r.get(17)?)?,
        schedule: r.get(18)?,
        criticality: opt_code(r.get(19)?)?,
        patient_data: r.get(20)?,
        scan_exclude: r.get(30)?,
        boot_password: opt_code(r.get(21)?)?,
        default_password_changed: opt_code(r.get(22)?)?,
        mds_sds: opt_code(r.get(23)?)?,
        sbom: opt_code(r.get(24)?)?,
        last_stocktake: parse_date(r.get(25)?)?,
        notes: r.get(26)?,
        custom,
    };
    Ok(StoredAsset {
        id: r.get(0)?,
        asset,
        created_at: parse_time(&r.get::<_, String>(28)?)?,
        updated_at: parse_time(&r.get::<_, String>(29)?)?,
    })
}

/// A unique-key violation becomes [`StoreError::Duplicate`] naming the key.
fn unique_violation(e: rusqlite::Error, key: &str) -> StoreError {
    match e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            StoreError::Duplicate(key.to_string())
        }
        other => other.into(),
    }
}

/// Escapes `%`, `_` and `\` for a LIKE pattern.
fn like_pattern(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// The WHERE clause and parameters of a filter over `assets a`.
fn filter_sql(filter: &AssetFilter) -> (String, Vec<(&'static str, String)>) {
    let mut clauses = vec!["1 = 1".to_string()];
    let mut params = Vec::new();
    if let Some(k) = filter.kind {
        clauses.push("a.kind = :kind".into());
        params.push((":kind", k.code().to_string()));
    }
    if let Some(s) = filter.status {
        clauses.push("a.status = :status".into());
        params.push((":status", s.code().to_string()));
    }
    if let Some(d) = &filter.department {
        clauses.push("a.department = :department".into());
        params.push((":department", d.clone()));
    }
    if let Some(ids) = &filter.ids {
        // Integers only, so they are written into the statement.
        let list: Vec<String> = ids.iter().map(i64::to_string).collect();
        clauses.push(format!("a.id IN ({})", list.join(",")));
    }
    if let Some(s) = filter.search.as_deref().filter(|s| !s.trim().is_empty()) {
        let cols = [
            "asset_id",
            "name",
            "model",
            "manufacturer",
            "location",
            "department",
            "os",
            "owner",
            "vendor",
            "purpose",
        ];
        let mut any: Vec<String> = cols
            .iter()
            .map(|c| format!("a.{c} LIKE :search ESCAPE '\\'"))
            .collect();
        any.push(
            "EXISTS (SELECT 1 FROM asset_addresses x WHERE x.asset = a.id AND x.value LIKE :search ESCAPE '\\')"
                .into(),
        );
        clauses.push(format!("({})", any.join(" OR ")));
        params.push((":search", like_pattern(s.trim())));
    }
    (clauses.join(" AND "), params)
}

/// Name and version for a component recorded from a CPE.
fn cpe_name_version(cpe: &str) -> (String, Option<String>) {
    let parts: Vec<&str> = if let Some(rest) = cpe.strip_prefix("cpe:2.3:") {
        rest.split(':').collect()
    } else if let Some(rest) = cpe.strip_prefix("cpe:/") {
        rest.split(':').collect()
    } else {
        Vec::new()
    };
    let name = parts
        .get(2)
        .filter(|p| !p.is_empty())
        .map(|p| p.to_string());
    let version = parts
        .get(3)
        .filter(|v| !matches!(**v, "" | "*" | "-"))
        .map(|v| v.to_string());
    (name.unwrap_or_else(|| cpe.to_string()), version)
}

impl SqliteTx<'_> {
    fn load_children(
        &self,
        where_sql: &str,
        params: &[(&str, &dyn ToSql)],
        by_id: &mut HashMap<i64, &mut Asset>,
    ) -> Result<()> {
        let sql = format!(
            "SELECT c.asset, c.name, c.version, c.cpe FROM asset_components c JOIN assets a ON a.id = c.asset
             WHERE c.source = 'ledger' AND {where_sql} ORDER BY c.asset, c.position"
        );
        let mut stmt = self.tx.prepare_cached(&sql)?;
        let mut rows = stmt.query(params)?;
        while let Some(r) = rows.next()? {
            let Some(asset) = by_id.get_mut(&r.get::<_, i64>(0)?) else {
                continue;
            };
            match r.get::<_, Option<String>>(3)? {
                Some(cpe) => asset.cpe.push(cpe),
                None => asset.software.push(Software {
                    name: r.get(1)?,
                    version: r.get(2)?,
                }),
            }
        }
        let sql = format!(
            "SELECT x.asset, x.kind, x.value FROM asset_addresses x JOIN assets a ON a.id = x.asset
             WHERE {where_sql} ORDER BY x.asset, x.kind, x.position"
        );
        let mut stmt = self.tx.prepare_cached(&sql)?;
        let mut rows = stmt.query(params)?;
        while let Some(r) = rows.next()? {
            let Some(asset) = by_id.get_mut(&r.get::<_, i64>(0)?) else {
                continue;
            };
            let kind: String = r.get(1)?;
            let value: String = r.get(2)?;
            let bad = || StoreError::Corrupt(format!("{kind} {value:?}"));
            match kind.as_str() {
                "ip" => asset.ip.push(value.parse().map_err(|_| bad())?),
                "mac" => asset.mac.push(value.parse::<MacAddr>().map_err(|_| bad())?),
                "hostname" => asset.hostname.push(value),
                _ => return Err(bad()),
            }
        }
        Ok(())
    }

    fn write_children(&mut self, id: i64, asset: &Asset) -> Result<()> {
        let now = now_text();
        self.tx
            .prepare_cached("DELETE FROM asset_components WHERE asset = ?1 AND source = 'ledger'")?
            .execute([id])?;
        self.tx
            .prepare_cached("DELETE FROM asset_addresses WHERE asset = ?1")?
            .execute([id])?;
        let mut comp = self.tx.prepare_cached(
            "INSERT INTO asset_components (asset, position, name, version, cpe, purl, source, created_at, vendor, product, variant)
             VALUES (?1, ?2, ?3, ?4, ?5, NULL, ?6, ?7, ?8, ?9, ?10)",
        )?;
        let source = ComponentSource::Ledger.code();
        let mut position = 0i64;
        for s in &asset.software {
            comp.execute(params![
                id,
                position,
                s.name,
                s.version,
                None::<String>,
                source,
                now,
                None::<String>,
                None::<String>,
                None::<i64>
            ])?;
            position += 1;
        }
        for cpe in &asset.cpe {
            let (name, version) = cpe_name_version(cpe);
            let (vendor, product) = crate::sqlite_vulns::vendor_product(cpe);
            // A ledger CPE without a version takes the device's バージョン column.
            let variant = crate::sqlite_findings::variant_id(
                &self.tx,
                cpe,
                asset.os_version.as_deref(),
                source,
                None,
            )?;
            comp.execute(params![
                id, position, name, version, cpe, source, now, vendor, product, variant
            ])?;
            position += 1;
        }
        let mut addr = self.tx.prepare_cached(
            "INSERT INTO asset_addresses (asset, kind, position, value) VALUES (?1, ?2, ?3, ?4)",
        )?;
        for (i, ip) in asset.ip.iter().enumerate() {
            addr.execute(params![id, "ip", i as i64, ip.to_string()])?;
        }
        for (i, mac) in asset.mac.iter().enumerate() {
            addr.execute(params![id, "mac", i as i64, mac.to_string()])?;
        }
        for (i, h) in asset.hostname.iter().enumerate() {
            addr.execute(params![id, "hostname", i as i64, h])?;
        }
        Ok(())
    }

    fn last_hash(&mut self) -> Result<String> {
        if let Some(h) = &self.last_hash {
            return Ok(h.clone());
        }
        let h: Option<String> = self
            .tx
            .query_row(
                "SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()?;
        Ok(h.unwrap_or_else(|| "0".repeat(64)))
    }
}

/// The hash of an audit entry: SHA-256 over the previous hash and every field.
pub fn audit_hash(prev_hash: &str, seq: i64, at: &str, entry: &AuditEntry) -> String {
    let mut h = Sha256::new();
    for part in [
        prev_hash,
        &seq.to_string(),
        at,
        &entry.actor,
        &entry.action,
        entry.target.as_deref().unwrap_or(""),
        &entry.detail.to_string(),
    ] {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part.as_bytes());
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn asset_params(asset: &Asset) -> Result<Vec<Box<dyn ToSql>>> {
    let custom =
        serde_json::to_string(&asset.custom).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let code = |v: Option<&'static str>| v.map(str::to_string);
    Ok(vec![
        Box::new(asset.asset_id.clone()),
        Box::new(asset.kind.code()),
        Box::new(asset.name.clone()),
        Box::new(asset.purpose.clone()),
        Box::new(asset.department.clone()),
        Box::new(asset.location.clone()),
        Box::new(asset.owner.clone()),
        Box::new(asset.manufacturer.clone()),
        Box::new(asset.model.clone()),
        Box::new(asset.os.clone()),
        Box::new(asset.os_version.clone()),
        Box::new(asset.status.code()),
        Box::new(asset.vendor.clone()),
        Box::new(asset.vendor_contact.clone()),
        Box::new(asset.remote_maintenance),
        Box::new(asset.external_access),
        Box::new(date_text(asset.eos_date)),
        Box::new(asset.schedule.clone()),
        Box::new(code(asset.criticality.map(Labelled::code))),
        Box::new(asset.patient_data),
        Box::new(code(asset.boot_password.map(Labelled::code))),
        Box::new(code(asset.default_password_changed.map(Labelled::code))),
        Box::new(code(asset.mds_sds.map(Labelled::code))),
        Box::new(code(asset.sbom.map(Labelled::code))),
        Box::new(date_text(asset.last_stocktake)),
        Box::new(asset.notes.clone()),
        Box::new(custom),
        Box::new(asset.scan_exclude),
    ])
}

const ASSET_FIELDS: &str =
    "asset_id, kind, name, purpose, department, location, owner, manufacturer, model,
    os, os_version, status, vendor, vendor_contact, remote_maintenance, external_access, eos_date,
    schedule, criticality, patient_data, boot_password, default_password_changed, mds_sds, sbom,
    last_stocktake, notes, custom, scan_exclude";

impl Tx for SqliteTx<'_> {
    fn commit(self: Box<Self>) -> Result<()> {
        self.tx.commit()?;
        Ok(())
    }

    fn assets(&self, filter: &AssetFilter) -> Result<Vec<StoredAsset>> {
        let (where_sql, named) = filter_sql(filter);
        let params: Vec<(&str, &dyn ToSql)> =
            named.iter().map(|(k, v)| (*k, v as &dyn ToSql)).collect();
        let sql =
            format!("SELECT {ASSET_COLUMNS} FROM assets a WHERE {where_sql} ORDER BY a.asset_id");
        let mut stmt = self.tx.prepare_cached(&sql)?;
        let mut rows = stmt.query(params.as_slice())?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(asset_from_row(r)?);
        }
        let mut by_id: HashMap<i64, &mut Asset> =
            out.iter_mut().map(|s| (s.id, &mut s.asset)).collect();
        self.load_children(&where_sql, &params, &mut by_id)?;
        Ok(out)
    }

    fn asset(&self, asset_id: &str) -> Result<Option<StoredAsset>> {
        let sql = format!("SELECT {ASSET_COLUMNS} FROM assets a WHERE a.asset_id = :id");
        let mut stmt = self.tx.prepare_cached(&sql)?;
        let mut rows = stmt.query(&[(":id", &asset_id as &dyn ToSql)])?;
        let Some(row) = rows.next()? else {
            return Ok(None);
        };
        let mut stored = asset_from_row(row)?;
        drop(rows);
        let id = stored.id;
        let mut by_id = HashMap::from([(id, &mut stored.asset)]);
        self.load_children("a.id = :aid", &[(":aid", &id as &dyn ToSql)], &mut by_id)?;
        Ok(Some(stored))
    }

    fn count_assets(&self) -> Result<i64> {
        Ok(self
            .tx
            .query_row("SELECT COUNT(*) FROM assets", [], |r| r.get(0))?)
    }

    fn insert_asset(&mut self, asset: &Asset) -> Result<i64> {
        let now = now_text();
        let mut values = asset_params(asset)?;
        values.push(Box::new(now.clone()));
        values.push(Box::new(now));
        let placeholders: Vec<String> = (1..=values.len()).map(|i| format!("?{i}")).collect();
        let sql = format!(
            "INSERT INTO assets ({ASSET_FIELDS}, created_at, updated_at) VALUES ({})",
            placeholders.join(", ")
        );
        let refs: Vec<&dyn ToSql> = values.iter().map(|b| b.as_ref()).collect();
        self.tx
            .prepare_cached(&sql)?
            .execute(refs.as_slice())
            .map_err(|e| unique_violation(e, &asset.asset_id))?;
        let id = self.tx.last_insert_rowid();
        self.write_children(id, asset)?;
        Ok(id)
    }

    fn update_asset(&mut self, id: i64, asset: &Asset) -> Result<()> {
        let mut values = asset_params(asset)?;
        let sets: Vec<String> = ASSET_FIELDS
            .split(',')
            .map(str::trim)
            .enumerate()
            .map(|(i, f)| format!("{f} = ?{}", i + 1))
            .collect();
        let n = values.len();
        values.push(Box::new(now_text()));
        values.push(Box::new(id));
        let sql = format!(
            "UPDATE assets SET {}, updated_at = ?{} WHERE id = ?{}",
            sets.join(", "),
            n + 1,
            n + 2
        );
        let refs: Vec<&dyn ToSql> = values.iter().map(|b| b.as_ref()).collect();
        self.tx
            .prepare_cached(&sql)?
            .execute(refs.as_slice())
            .map_err(|e| unique_violation(e, &asset.asset_id))?;
        self.write_children(id, asset)
    }

    fn record_status_change(&mut self, id: i64, change: &StatusChange) -> Result<()> {
        self.tx
            .prepare_cached(
                "INSERT INTO asset_status_history (asset, from_status, to_status, changed_at, actor, reason)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                id,
                change.from.map(|s| s.code()),
                change.to.code(),
                change.at.to_rfc3339_opts(SecondsFormat::Micros, true),
                change.actor,
                change.reason
            ])?;
        Ok(())
    }

    fn status_history(&self, id: i64) -> Result<Vec<StatusChange>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT from_status, to_status, changed_at, actor, reason FROM asset_status_history
             WHERE asset = ?1 ORDER BY id",
        )?;
        let mut rows = stmt.query([id])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(StatusChange {
                from: opt_code(r.get(0)?)?,
                to: from_code(&r.get::<_, String>(1)?)?,
                at: parse_time(&r.get::<_, String>(2)?)?,
                actor: r.get(3)?,
                reason: r.get(4)?,
            });
        }
        Ok(out)
    }

    fn insert_user(&mut self, user: &NewUser) -> Result<i64> {
        let roles: Vec<&str> = user.roles.iter().map(|r| r.code()).collect();
        let now = now_text();
        let res = self.tx.execute(
            "INSERT INTO users (username, display_name, roles, password_hash, must_change_password, created_at, updated_at, vendor)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7)",
            params![user.username, user.display_name, roles.join(","), user.password_hash, user.must_change_password, now, user.vendor],
        );
        res.map_err(|e| unique_violation(e, &user.username))?;
        Ok(self.tx.last_insert_rowid())
    }

    fn count_users(&self) -> Result<i64> {
        Ok(self
            .tx
            .query_row("SELECT COUNT(*) FROM users", [], |r| r.get(0))?)
    }

    fn user(&self, username: &str) -> Result<Option<User>> {
        let mut stmt = self.tx.prepare_cached(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE username = ?1"
        ))?;
        let mut rows = stmt.query([username])?;
        rows.next()?.map(user_from_row).transpose()
    }

    fn users(&self) -> Result<Vec<User>> {
        let mut stmt = self.tx.prepare_cached(&format!(
            "SELECT {USER_COLUMNS} FROM users ORDER BY username"
        ))?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(user_from_row(r)?);
        }
        Ok(out)
    }

    fn update_user(&mut self, user: &User) -> Result<()> {
        let roles: Vec<&str> = user.roles.iter().map(|r| r.code()).collect();
        self.tx
            .prepare_cached(
                "UPDATE users SET display_name = ?2, roles = ?3, password_hash = ?4,
                    must_change_password = ?5, disabled = ?6, updated_at = ?7, vendor = ?8 WHERE id = ?1",
            )?
            .execute(params![
                user.id,
                user.display_name,
                roles.join(","),
                user.password_hash,
                user.must_change_password,
                user.disabled,
                now_text(),
                user.vendor
            ])?;
        Ok(())
    }

    fn append_audit(&mut self, entry: &AuditEntry) -> Result<AuditRecord> {
        let prev_hash = self.last_hash()?;
        let seq: i64 =
            self.tx
                .query_row("SELECT COALESCE(MAX(seq), 0) + 1 FROM audit_log", [], |r| {
                    r.get(0)
                })?;
        let now = Utc::now();
        let at = now.to_rfc3339_opts(SecondsFormat::Micros, true);
        let hash = audit_hash(&prev_hash, seq, &at, entry);
        self.tx
            .prepare_cached(
                "INSERT INTO audit_log (seq, at, actor, action, target, detail, prev_hash, hash)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![
                seq,
                at,
                entry.actor,
                entry.action,
                entry.target,
                entry.detail.to_string(),
                prev_hash,
                hash
            ])?;
        self.last_hash = Some(hash.clone());
        Ok(AuditRecord {
            seq,
            at: parse_time(&at)?,
            entry: entry.clone(),
            prev_hash,
            hash,
        })
    }

    fn audit_tail(&self, limit: i64) -> Result<Vec<AuditRecord>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT seq, at, actor, action, target, detail, prev_hash, hash FROM
               (SELECT * FROM audit_log ORDER BY seq DESC LIMIT ?1) ORDER BY seq",
        )?;
        let mut rows = stmt.query([limit])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let detail: String = r.get(5)?;
            out.push(AuditRecord {
                seq: r.get(0)?,
                at: parse_time(&r.get::<_, String>(1)?)?,
                entry: AuditEntry {
                    actor: r.get(2)?,
                    action: r.get(3)?,
                    target: r.get(4)?,
                    detail: serde_json::from_str(&detail)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                },
                prev_hash: r.get(6)?,
                hash: r.get(7)?,
            });
        }
        Ok(out)
    }

    fn verify_audit_chain(&self) -> Result<Option<crate::AuditBreak>> {
        let changed = |seq| {
            Some(crate::AuditBreak {
                seq,
                missing: false,
            })
        };
        let mut stmt = self.tx.prepare_cached(
            "SELECT seq, at, actor, action, target, detail, prev_hash, hash FROM audit_log ORDER BY seq",
        )?;
        let mut rows = stmt.query([])?;
        let mut prev = "0".repeat(64);
        let mut expected = 1;
        while let Some(r) = rows.next()? {
            let seq: i64 = r.get(0)?;
            if seq != expected {
                return Ok(Some(crate::AuditBreak {
                    seq: expected,
                    missing: true,
                }));
            }
            expected += 1;
            let at: String = r.get(1)?;
            let detail: String = r.get(5)?;
            let Ok(detail) = serde_json::from_str(&detail) else {
                return Ok(changed(seq));
            };
            let entry = AuditEntry {
                actor: r.get(2)?,
                action: r.get(3)?,
                target: r.get(4)?,
                detail,
            };
            let stored_prev: String = r.get(6)?;
            let stored_hash: String = r.get(7)?;
            if stored_prev != prev || audit_hash(&prev, seq, &at, &entry) != stored_hash {
                return Ok(changed(seq));
            }
            prev = stored_hash;
        }
        Ok(None)
    }

    fn insert_stocktake(
        &mut self,
        taken_on: NaiveDate,
        taken_by: &str,
        note: Option<&str>,
        results: &[(i64, StocktakeResult, Option<String>)],
    ) -> Result<i64> {
        self.tx.execute(
            "INSERT INTO stocktakes (taken_on, taken_by, note, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![
                taken_on.format("%Y-%m-%d").to_string(),
                taken_by,
                note,
                now_text()
            ],
        )?;
        let id = self.tx.last_insert_rowid();
        let mut stmt = self
            .tx
            .prepare_cached("INSERT INTO stocktake_results (stocktake, asset, result, note) VALUES (?1, ?2, ?3, ?4)")?;
        for (asset, result, note) in results {
            stmt.execute(params![id, asset, result.code(), note])?;
        }
        Ok(id)
    }

    fn stocktakes(&self) -> Result<Vec<Stocktake>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT id, taken_on, taken_by, note FROM stocktakes ORDER BY taken_on DESC, id DESC",
        )?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(Stocktake {
                id: r.get(0)?,
                taken_on: parse_date(Some(r.get(1)?))?.unwrap_or_default(),
                taken_by: r.get(2)?,
                note: r.get(3)?,
                counts: Vec::new(),
            });
        }
        drop(rows);
        let mut counts = self.tx.prepare_cached(
            "SELECT result, COUNT(*) FROM stocktake_results WHERE stocktake = ?1 GROUP BY result",
        )?;
        for s in &mut out {
            let mut rows = counts.query([s.id])?;
            while let Some(r) = rows.next()? {
                s.counts
                    .push((from_code(&r.get::<_, String>(0)?)?, r.get(1)?));
            }
            s.counts.sort();
        }
        Ok(out)
    }

    fn insert_import(&mut self, rec: &ImportRecord) -> Result<i64> {
        self.tx.execute(
            "INSERT INTO imports (at, actor, file_name, sha256, format, added, updated, unchanged, retired, skipped)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![now_text(), rec.actor, rec.file_name, rec.sha256, rec.format, rec.added, rec.updated, rec.unchanged, rec.retired, rec.skipped],
        )?;
        Ok(self.tx.last_insert_rowid())
    }

    fn upsert_vulnerability(
        &mut self,
        vuln: &Vulnerability,
        source: &str,
        origin: &str,
    ) -> Result<Upsert> {
        self.upsert_vulnerability_impl(vuln, source, origin)
    }

    fn vulnerability(&self, id: &str) -> Result<Option<StoredVulnerability>> {
        self.vulnerability_impl(id)
    }

    fn vulnerabilities_by_alias(&self, alias: &str) -> Result<Vec<String>> {
        self.vulnerabilities_by_alias_impl(alias)
    }

    fn search_vulnerabilities(
        &self,
        text: &str,
        lang: &str,
        limit: i64,
    ) -> Result<Vec<VulnSummary>> {
        self.search_vulnerabilities_impl(text, lang, limit)
    }

    fn count_vulnerabilities(&self) -> Result<Vec<(String, i64)>> {
        self.count_vulnerabilities_impl()
    }

    fn upsert_advisory(
        &mut self,
        advisory: &Advisory,
        source: &str,
        origin: &str,
    ) -> Result<Upsert> {
        self.upsert_advisory_impl(advisory, source, origin)
    }

    fn advisory(&self, id: &str) -> Result<Option<(Advisory, String)>> {
        self.advisory_impl(id)
    }

    fn advisories_for_cve(&self, cve_id: &str) -> Result<Vec<(String, String)>> {
        self.advisories_for_cve_impl(cve_id)
    }

    fn vulnerability_ids_since(
        &self,
        since: Option<DateTime<Utc>>,
    ) -> Result<Vec<(String, String)>> {
        self.vulnerability_ids_since_impl(since)
    }

    fn advisory_ids_since(&self, since: Option<DateTime<Utc>>) -> Result<Vec<String>> {
        self.advisory_ids_since_impl(since)
    }

    fn all_kev(&self) -> Result<Vec<(KevEntry, String)>> {
        self.all_kev_impl()
    }

    fn all_epss(&self) -> Result<Vec<(String, StoredEpss)>> {
        self.all_epss_impl()
    }

    fn upsert_alert(&mut self, alert: &Alert, origin: &str) -> Result<Upsert> {
        self.upsert_alert_impl(alert, origin)
    }

    fn alerts_for_cve(&self, cve_id: &str) -> Result<Vec<Alert>> {
        self.alerts_for_cve_impl(cve_id)
    }

    fn upsert_kev(&mut self, entry: &KevEntry, catalog_version: &str) -> Result<Upsert> {
        self.upsert_kev_impl(entry, catalog_version)
    }

    fn kev(&self, cve_id: &str) -> Result<Option<KevEntry>> {
        self.kev_impl(cve_id)
    }

    fn upsert_epss(&mut self, cve_id: &str, score: &StoredEpss) -> Result<Upsert> {
        self.upsert_epss_impl(cve_id, score)
    }

    fn epss(&self, cve_id: &str) -> Result<Option<StoredEpss>> {
        self.epss_impl(cve_id)
    }

    fn insert_feed_import(&mut self, record: &FeedImport) -> Result<i64> {
        self.insert_feed_import_impl(record)
    }

    fn set_feed_state(&mut self, source: &str, error: Option<&str>) -> Result<()> {
        self.set_feed_state_impl(source, error)
    }

    fn feed_status(&self) -> Result<Vec<FeedStatus>> {
        self.feed_status_impl()
    }

    fn feed_cursor(&self, source: &str) -> Result<Option<String>> {
        Ok(self
            .tx
            .query_row(
                "SELECT cursor FROM feed_state WHERE source = ?1",
                [source],
                |r| r.get::<_, Option<String>>(0),
            )
            .optional()?
            .flatten())
    }

    fn set_feed_cursor(&mut self, source: &str, cursor: &str) -> Result<()> {
        self.tx.execute(
            "INSERT INTO feed_state (source, cursor) VALUES (?1, ?2) ON CONFLICT (source) DO UPDATE SET cursor = excluded.cursor",
            params![source, cursor],
        )?;
        Ok(())
    }

    fn setting(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .tx
            .query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()?)
    }

    fn criteria_naming(
        &self,
        vendor: &str,
        product: &str,
    ) -> Result<Vec<(String, mamori_core::vuln::CpeMatch)>> {
        self.criteria_naming_impl(vendor, product)
    }

    fn assets_changed_since(&self, since: chrono::DateTime<chrono::Utc>) -> Result<Vec<i64>> {
        self.assets_changed_since_impl(since)
    }

    fn products_of(&self, vulns: &[String]) -> Result<Vec<(String, String)>> {
        self.products_of_impl(vulns)
    }

    fn component_variants(
        &self,
        products: &[(String, String)],
        vendors: &[String],
    ) -> Result<Vec<crate::ComponentVariant>> {
        self.component_variants_impl(products, vendors)
    }

    fn platform_vendors_of(&self, vulns: &[String]) -> Result<Vec<String>> {
        let mut out = std::collections::BTreeSet::new();
        let mut stmt = self.tx.prepare_cached(
            "SELECT DISTINCT vendor FROM vuln_cpe_matches WHERE vuln = ?1 AND vulnerable = 0",
        )?;
        for v in vulns {
            let rows = stmt.query_map([v], |r| r.get::<_, String>(0))?;
            for r in rows {
                out.insert(r?);
            }
        }
        Ok(out.into_iter().collect())
    }

    fn variant_holders(&self, variants: &[i64]) -> Result<Vec<Vec<(i64, i64)>>> {
        self.variant_holders_impl(variants)
    }

    fn vulnerable_criteria_of(
        &self,
        vulns: &[String],
    ) -> Result<Vec<(String, mamori_core::vuln::CpeMatch)>> {
        self.vulnerable_criteria_of_impl(vulns)
    }

    fn asset_records(&self, ids: &[i64]) -> Result<Vec<StoredAsset>> {
        let mut out = Vec::with_capacity(ids.len());
        // Integers only, so they are written into the statement, 500 at a time.
        for chunk in ids.chunks(500) {
            let list: Vec<String> = chunk.iter().map(i64::to_string).collect();
            let sql = format!(
                "SELECT {ASSET_COLUMNS} FROM assets a WHERE a.id IN ({})",
                list.join(",")
            );
            let mut stmt = self.tx.prepare(&sql)?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                out.push(asset_from_row(r)?);
            }
        }
        out.sort_unstable_by_key(|s| s.id);
        Ok(out)
    }

    fn asset_names(&self) -> Result<Vec<crate::AssetNaming>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT id, status, manufacturer, model, name, os_version FROM assets ORDER BY id",
        )?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(crate::AssetNaming {
                id: r.get(0)?,
                status: from_code::<AssetStatus>(&r.get::<_, String>(1)?)?,
                manufacturer: r.get(2)?,
                model: r.get(3)?,
                name: r.get(4)?,
                os_version: r.get(5)?,
            });
        }
        Ok(out)
    }

    fn advisories_naming(&self, vulns: &[String]) -> Result<Vec<String>> {
        let mut out = std::collections::BTreeSet::new();
        let mut stmt = self
            .tx
            .prepare_cached("SELECT DISTINCT advisory FROM advisory_vulns WHERE cve = ?1")?;
        for v in vulns {
            let rows = stmt.query_map([v], |r| r.get::<_, String>(0))?;
            for r in rows {
                out.insert(r?);
            }
        }
        Ok(out.into_iter().collect())
    }

    fn scores_changed_since(&self, since: chrono::DateTime<chrono::Utc>) -> Result<bool> {
        self.scores_changed_since_impl(since)
    }

    fn vuln_configurations(&self, id: &str) -> Result<Vec<mamori_core::vuln::Configuration>> {
        self.configurations_impl(id)
    }

    fn vuln_facts(&self, id: &str) -> Result<Option<crate::VulnFacts>> {
        self.vuln_facts_impl(id)
    }

    fn affected_with_cpe(&self) -> Result<Vec<(String, mamori_core::vuln::Affected)>> {
        self.affected_with_cpe_impl()
    }

    fn known_products(&self) -> Result<Vec<(String, String, String, i64)>> {
        self.known_products_impl()
    }

    fn components(
        &self,
        source: &str,
        assets: Option<&[i64]>,
    ) -> Result<Vec<crate::StoredComponent>> {
        self.components_impl(source, assets)
    }

    fn replace_components(
        &mut self,
        asset: i64,
        source: &str,
        components: &[crate::StoredComponent],
    ) -> Result<()> {
        self.replace_components_impl(asset, source, components)
    }

    fn set_finding_state(&mut self, event: &crate::FindingEvent) -> Result<()> {
        self.set_finding_state_impl(event)
    }

    fn finding_events(&self, finding: i64) -> Result<Vec<crate::StoredFindingEvent>> {
        self.finding_events_impl(finding)
    }

    fn flag_finding(&mut self, finding: i64, flag: Option<&str>) -> Result<()> {
        self.tx
            .prepare_cached("UPDATE findings SET flag = ?2 WHERE id = ?1")?
            .execute(params![finding, flag])?;
        Ok(())
    }

    fn insert_exception(&mut self, e: &crate::Exception) -> Result<i64> {
        self.insert_exception_impl(e)
    }

    fn exception(&self, id: i64) -> Result<Option<crate::Exception>> {
        Ok(self.exceptions_impl(Some(id))?.pop())
    }

    fn exceptions(&self) -> Result<Vec<crate::Exception>> {
        self.exceptions_impl(None)
    }

    fn update_exception(&mut self, e: &crate::Exception) -> Result<()> {
        self.update_exception_impl(e)
    }

    fn insert_inquiry(&mut self, q: &crate::Inquiry) -> Result<i64> {
        self.insert_inquiry_impl(q)
    }

    fn inquiries(&self) -> Result<Vec<crate::Inquiry>> {
        self.inquiries_impl()
    }

    fn save_inquiry_answers(&mut self, q: &crate::Inquiry) -> Result<()> {
        self.save_inquiry_answers_impl(q)
    }

    fn insert_attachment(&mut self, a: &crate::Attachment) -> Result<i64> {
        self.tx
            .prepare_cached(
                "INSERT INTO inquiry_attachments (inquiry, name, sha256, size, added_by, added_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                a.inquiry,
                a.name,
                a.sha256,
                a.size,
                a.added_by,
                now_text()
            ])?;
        Ok(self.tx.last_insert_rowid())
    }

    fn attachments(&self, inquiry: i64) -> Result<Vec<crate::Attachment>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT inquiry, name, sha256, size, added_by FROM inquiry_attachments
             WHERE inquiry = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([inquiry], |r| {
            Ok(crate::Attachment {
                inquiry: r.get(0)?,
                name: r.get(1)?,
                sha256: r.get(2)?,
                size: r.get(3)?,
                added_by: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn findings(&self, asset: Option<i64>) -> Result<Vec<crate::Finding>> {
        self.findings_impl(asset)
    }

    fn finding(&self, id: i64) -> Result<Option<crate::Finding>> {
        self.finding_impl(id)
    }

    fn replace_vex(&mut self, asset: i64, statements: &[crate::StoredVex]) -> Result<()> {
        self.replace_vex_impl(asset, statements)
    }

    fn vex(&self, assets: Option<&[i64]>) -> Result<Vec<crate::StoredVex>> {
        self.vex_impl(assets)
    }

    fn open_finding_vulns(&self) -> Result<Vec<String>> {
        self.open_finding_vulns_impl()
    }

    fn open_findings_after(&self, after: i64, limit: i64) -> Result<Vec<crate::Finding>> {
        self.open_findings_after_impl(after, limit)
    }

    fn count_open_findings(&self) -> Result<i64> {
        Ok(self
            .tx
            .prepare_cached("SELECT COUNT(*) FROM findings WHERE status = 'open'")?
            .query_row([], |r| r.get(0))?)
    }

    fn save_finding(&mut self, finding: &crate::Finding) -> Result<i64> {
        self.save_finding_impl(finding)
    }

    fn check_findings(&self) -> Result<Vec<crate::Finding>> {
        self.check_findings_impl()
    }

    fn insert_scan(&mut self, scan: &crate::ScanRecord) -> Result<i64> {
        self.insert_scan_impl(scan)
    }

    fn finish_scan(&mut self, scan: &crate::ScanRecord, hosts: &[crate::ScanHost]) -> Result<()> {
        self.finish_scan_impl(scan, hosts)
    }

    fn scans(&self) -> Result<Vec<crate::ScanRecord>> {
        self.scans_impl(None)
    }

    fn scan(&self, id: i64) -> Result<Option<crate::ScanRecord>> {
        Ok(self.scans_impl(Some(id))?.into_iter().next())
    }

    fn asset_scans(
        &self,
        asset: i64,
        limit: i64,
    ) -> Result<Vec<(i64, DateTime<Utc>, crate::ScanHost)>> {
        self.asset_scans_impl(asset, limit)
    }

    fn scan_hosts(&self, id: i64) -> Result<Vec<crate::ScanHost>> {
        self.scan_hosts_impl(id)
    }

    fn allowed_services(&self) -> Result<Vec<crate::AllowedService>> {
        self.allowed_services_impl()
    }

    fn set_allowed_service(
        &mut self,
        service: &crate::AllowedService,
        allow: bool,
    ) -> Result<bool> {
        self.set_allowed_service_impl(service, allow)
    }

    fn schedules(&self) -> Result<Vec<(String, serde_json::Value)>> {
        self.schedules_impl()
    }

    fn set_schedule(&mut self, name: &str, definition: &serde_json::Value) -> Result<bool> {
        self.set_schedule_impl(name, definition)
    }

    fn delete_schedule(&mut self, name: &str) -> Result<bool> {
        self.delete_schedule_impl(name)
    }

    fn imported_holidays(&self) -> Result<Vec<(NaiveDate, String)>> {
        self.imported_holidays_impl()
    }

    fn import_holidays(&mut self, holidays: &[(NaiveDate, String)], source: &str) -> Result<()> {
        self.import_holidays_impl(holidays, source)
    }

    fn schedule_defaults(&self) -> Result<Vec<(String, String)>> {
        self.schedule_defaults_impl()
    }

    fn set_schedule_default(&mut self, scope: &str, schedule: Option<&str>) -> Result<()> {
        self.set_schedule_default_impl(scope, schedule)
    }

    fn device_components(&self, asset: i64) -> Result<Vec<(String, crate::StoredComponent)>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT source, asset, name, version, cpe, purl, detail FROM asset_components
             WHERE asset = ?1 ORDER BY source, position",
        )?;
        let rows = stmt.query_map([asset], |r| {
            Ok((
                r.get::<_, String>(0)?,
                crate::StoredComponent {
                    asset: r.get(1)?,
                    name: r.get(2)?,
                    version: r.get(3)?,
                    cpe: r.get(4)?,
                    purl: r.get(5)?,
                    detail: r.get(6)?,
                },
            ))
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    fn assets_page(
        &self,
        filter: &AssetFilter,
        sort: crate::AssetSort,
        offset: usize,
        limit: usize,
    ) -> Result<(usize, Vec<StoredAsset>)> {
        let (where_sql, named) = filter_sql(filter);
        let params: Vec<(&str, &dyn ToSql)> =
            named.iter().map(|(k, v)| (*k, v as &dyn ToSql)).collect();
        // Column names from the enum only: nothing a user typed reaches the statement.
        let column = match sort.by {
            crate::AssetSortBy::AssetId => "a.asset_id",
            crate::AssetSortBy::Name => "a.name",
            crate::AssetSortBy::Kind => "a.kind",
            crate::AssetSortBy::Department => "a.department",
            crate::AssetSortBy::Status => "a.status",
            crate::AssetSortBy::Os => "a.os",
        };
        let dir = if sort.desc { "DESC" } else { "ASC" };
        // 管理番号 alone keeps to its index; other columns sort empty values last.
        let order = match sort.by {
            crate::AssetSortBy::AssetId => format!("a.asset_id {dir}"),
            _ => format!("{column} {dir} NULLS LAST, a.asset_id {dir}"),
        };
        let total: i64 = self.tx.query_row(
            &format!("SELECT COUNT(*) FROM assets a WHERE {where_sql}"),
            params.as_slice(),
            |r| r.get(0),
        )?;
        let ids: Vec<i64> = {
            let mut stmt = self.tx.prepare_cached(&format!(
                "SELECT a.id FROM assets a WHERE {where_sql} ORDER BY {order} LIMIT {} OFFSET {}",
                limit.min(10_000),
                offset
            ))?;
            let rows = stmt.query_map(params.as_slice(), |r| r.get(0))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        if ids.is_empty() {
            return Ok((total as usize, Vec::new()));
        }
        let mut page = self.assets(&AssetFilter {
            ids: Some(ids.clone()),
            ..AssetFilter::default()
        })?;
        // In the page's order (the devices are read back in 管理番号 order).
        let at: HashMap<i64, usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
        page.sort_by_key(|a| at.get(&a.id).copied().unwrap_or(usize::MAX));
        Ok((total as usize, page))
    }

    fn asset_counts(&self, today: NaiveDate) -> Result<(usize, usize)> {
        let (all, eos): (i64, i64) = self.tx.query_row(
            "SELECT COUNT(*), COALESCE(SUM(eos_date IS NOT NULL AND eos_date < ?1), 0)
             FROM assets WHERE status != 'retired'",
            [today.format("%Y-%m-%d").to_string()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok((all as usize, eos as usize))
    }

    fn findings_page(&self, q: &crate::FindingPageQuery) -> Result<(usize, Vec<crate::Finding>)> {
        self.findings_page_impl(q)
    }

    fn finding_totals(&self, overdue: &crate::Overdue) -> Result<crate::FindingTotals> {
        self.finding_totals_impl(overdue)
    }

    fn finding_trend(&self, since: chrono::NaiveDate) -> Result<Vec<crate::TrendCount>> {
        self.finding_trend_impl(since)
    }

    fn api_tokens(&self, username: Option<&str>) -> Result<Vec<crate::ApiToken>> {
        self.api_tokens_impl(username)
    }

    fn api_token_by_hash(&self, hash: &str) -> Result<Option<crate::ApiToken>> {
        self.api_token_by_hash_impl(hash)
    }

    fn insert_api_token(&mut self, token: &crate::ApiToken) -> Result<i64> {
        self.insert_api_token_impl(token)
    }

    fn revoke_api_token(&mut self, id: i64) -> Result<bool> {
        self.revoke_api_token_impl(id)
    }

    fn touch_api_token(&mut self, id: i64) -> Result<()> {
        self.touch_api_token_impl(id)
    }

    fn cred_approvals(&self) -> Result<Vec<crate::CredApproval>> {
        self.cred_approvals_impl()
    }

    fn insert_cred_approval(&mut self, approval: &crate::CredApproval) -> Result<i64> {
        self.insert_cred_approval_impl(approval)
    }

    fn revoke_cred_approval(&mut self, id: i64, by: &str) -> Result<bool> {
        self.revoke_cred_approval_impl(id, by)
    }

    fn cred_exclusions(&self) -> Result<Vec<(i64, Option<String>)>> {
        self.cred_exclusions_impl()
    }

    fn set_cred_exclusion(&mut self, asset: i64, note: Option<&str>, by: &str) -> Result<bool> {
        self.set_cred_exclusion_impl(asset, note, by)
    }

    fn attestations(&self, asset: Option<i64>) -> Result<Vec<crate::StoredAttestation>> {
        self.attestations_impl(asset)
    }

    fn insert_attestation(&mut self, attestation: &crate::StoredAttestation) -> Result<i64> {
        self.insert_attestation_impl(attestation)
    }

    fn collector_keys(&self) -> Result<Vec<crate::CollectorKey>> {
        self.collector_keys_impl()
    }

    fn insert_collector_key(&mut self, key: &crate::CollectorKey) -> Result<i64> {
        self.insert_collector_key_impl(key)
    }

    fn host_reports(&self, asset: Option<i64>) -> Result<Vec<crate::HostReport>> {
        self.host_reports_impl(asset)
    }

    fn insert_host_report(&mut self, report: &crate::HostReport) -> Result<i64> {
        self.insert_host_report_impl(report)
    }

    fn watch_states(&self) -> Result<Vec<crate::WatchState>> {
        self.watch_states_impl()
    }

    fn save_watch_state(&mut self, state: &crate::WatchState) -> Result<()> {
        self.save_watch_state_impl(state)
    }

    fn open_presence(
        &self,
        asset: i64,
    ) -> Result<Option<(i64, chrono::NaiveDateTime, chrono::NaiveDateTime)>> {
        self.open_presence_impl(asset)
    }

    fn start_presence(&mut self, asset: i64, at: chrono::NaiveDateTime) -> Result<()> {
        self.start_presence_impl(asset, at)
    }

    fn update_presence(
        &mut self,
        id: i64,
        last_seen: chrono::NaiveDateTime,
        close: bool,
    ) -> Result<()> {
        self.update_presence_impl(id, last_seen, close)
    }

    fn presence_between(
        &self,
        from: chrono::NaiveDateTime,
        to: chrono::NaiveDateTime,
    ) -> Result<Vec<(i64, chrono::NaiveDateTime, chrono::NaiveDateTime)>> {
        self.presence_between_impl(from, to)
    }

    fn finding_heads(
        &self,
        assets: Option<&[i64]>,
        vulns: Option<&[String]>,
    ) -> Result<Vec<crate::FindingHead>> {
        self.finding_heads_impl(assets, vulns)
    }

    fn set_finding_status(
        &mut self,
        id: i64,
        status: &str,
        reason: Option<&str>,
        at: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<()> {
        self.set_finding_status_impl(id, status, reason, at)
    }

    fn set_setting(&mut self, key: &str, value: &str) -> Result<()> {
        self.tx.execute(
            "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }
}

/// Tells whether anything was committed to the store since the last look, from a connection
/// of its own (SQLite's `PRAGMA data_version`): for caches of expensive summaries.
pub struct ChangeWatch(Connection);

impl ChangeWatch {
    /// Watches the store file at `path`.
    pub fn open(path: &Path) -> Result<ChangeWatch> {
        let c = Connection::open_with_flags(
            path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        Ok(ChangeWatch(c))
    }

    /// A number that changes whenever another connection commits.
    pub fn version(&self) -> Result<i64> {
        Ok(self.0.query_row("PRAGMA data_version", [], |r| r.get(0))?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Store;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::create_sqlite(&dir.path().join("m.db")).unwrap();
        (dir, s)
    }

    fn sample(id: &str) -> Asset {
        let mut a = Asset::new(id, AssetKind::Server, "サーバ");
        a.software = vec![
            Software::parse("Apache httpd 2.4.41"),
            Software::parse("Chrome"),
        ];
        a.cpe = vec!["cpe:2.3:a:apache:http_server:2.4.41:*:*:*:*:*:*:*".into()];
        a.ip = vec!["127.0.0.5".parse().unwrap()];
        a.mac = vec!["00:11:22:33:44:55".parse().unwrap()];
        a.hostname = vec!["WEB01".into()];
        a.eos_date = NaiveDate::from_ymd_opt(2020, 1, 14);
        a.criticality = Some(mamori_core::Criticality::High);
        a.custom.insert("資産区分".into(), "リース".into());
        a
    }

    #[test]
    fn assets_round_trip_and_filter() {
        let (_d, mut s) = store();
        let mut tx = s.begin().unwrap();
        tx.insert_asset(&sample("B-2")).unwrap();
        let mut other = sample("A-1");
        other.kind = AssetKind::Terminal;
        other.ip = vec!["127.0.0.6".parse().unwrap()];
        tx.insert_asset(&other).unwrap();
        tx.commit().unwrap();
        let tx = s.begin().unwrap();
        let all = tx.assets(&AssetFilter::default()).unwrap();
        assert_eq!(
            all.iter()
                .map(|a| a.asset.asset_id.as_str())
                .collect::<Vec<_>>(),
            ["A-1", "B-2"]
        );
        assert_eq!(all[1].asset, sample("B-2"));
        let f = AssetFilter {
            search: Some("127.0.0.6".into()),
            ..Default::default()
        };
        assert_eq!(tx.assets(&f).unwrap().len(), 1);
        let f = AssetFilter {
            kind: Some(AssetKind::Server),
            ..Default::default()
        };
        assert_eq!(tx.assets(&f).unwrap()[0].asset.asset_id, "B-2");
        let f = AssetFilter {
            search: Some("%".into()),
            ..Default::default()
        };
        assert!(
            tx.assets(&f).unwrap().is_empty(),
            "LIKE wildcards are escaped"
        );
        assert_eq!(tx.asset("B-2").unwrap().unwrap().asset, sample("B-2"));
    }

    #[test]
    fn duplicate_ids_and_rollback() {
        let (_d, mut s) = store();
        let mut tx = s.begin().unwrap();
        tx.insert_asset(&sample("A")).unwrap();
        assert!(matches!(
            tx.insert_asset(&sample("A")),
            Err(StoreError::Duplicate(_))
        ));
        drop(tx);
        assert_eq!(
            s.begin().unwrap().count_assets().unwrap(),
            0,
            "dropped transaction rolled back"
        );
    }

    #[test]
    fn audit_chain_detects_tampering() {
        let (dir, mut s) = store();
        let mut tx = s.begin().unwrap();
        for i in 0..3 {
            tx.append_audit(&AuditEntry {
                actor: "os:test".into(),
                action: "asset.create".into(),
                target: Some(format!("A-{i}")),
                detail: serde_json::json!({"i": i}),
            })
            .unwrap();
        }
        tx.commit().unwrap();
        assert_eq!(s.begin().unwrap().verify_audit_chain().unwrap(), None);
        drop(s);
        let conn = Connection::open(dir.path().join("m.db")).unwrap();
        conn.execute("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2", [])
            .unwrap();
        drop(conn);
        let mut s = Store::open_sqlite(&dir.path().join("m.db")).unwrap();
        assert_eq!(
            s.begin().unwrap().verify_audit_chain().unwrap(),
            Some(crate::AuditBreak {
                seq: 2,
                missing: false
            })
        );
    }

    #[test]
    fn create_refuses_existing_and_open_requires_existing() {
        let (dir, s) = store();
        assert_eq!(s.schema_version().unwrap(), SCHEMA_VERSION);
        assert!(matches!(
            Store::create_sqlite(&dir.path().join("m.db")),
            Err(StoreError::AlreadyExists(_))
        ));
        assert!(matches!(
            Store::open_sqlite(&dir.path().join("nope.db")),
            Err(StoreError::NotFound(_))
        ));
    }

    #[test]
    fn upgrading_fills_the_components_cpe_vendor_product_and_variant() {
        // A store at schema 3 with a device whose ledger CPE and SBOM component predate the
        // match index.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.db");
        {
            let conn = rusqlite::Connection::open(&path).unwrap();
            conn.execute_batch(
                "CREATE TABLE schema_migrations (
                     version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
            )
            .unwrap();
            for (version, name, sql) in MIGRATIONS.iter().filter(|(v, _, _)| *v <= 3) {
                conn.execute_batch(sql).unwrap();
                conn.execute(
                    "INSERT INTO schema_migrations VALUES (?1, ?2, '2026-01-01T00:00:00Z')",
                    params![version, name],
                )
                .unwrap();
            }
            conn.execute_batch(
                "INSERT INTO assets (id, asset_id, kind, name, status, created_at, updated_at)
                 VALUES (1, 'NW-1', 'network', 'VPN', 'in_use', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z'),
                        (2, 'PC-1', 'pc', 'PC', 'in_use', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');
                 UPDATE assets SET os_version = '6.0.4' WHERE id = 1;
                 INSERT INTO asset_components (asset, position, name, version, cpe, purl, source, created_at)
                 VALUES (1, 0, 'fortios', '6.0.4', 'cpe:2.3:o:fortinet:fortios:6.0.4:*:*:*:*:*:*:*', NULL, 'ledger', '2026-01-01T00:00:00Z'),
                        (1, 1, 'openssl', '1.0.2', 'cpe:/a:OpenSSL:OpenSSL:1.0.2', NULL, 'sbom', '2026-01-01T00:00:00Z'),
                        (1, 2, 'Chrome', NULL, NULL, NULL, 'ledger', '2026-01-01T00:00:00Z'),
                        (2, 0, 'openssl', '1.0.2', 'cpe:/a:OpenSSL:OpenSSL:1.0.2', NULL, 'sbom', '2026-01-01T00:00:00Z'),
                        (2, 1, 'openssl', '1.0.2', 'cpe:/a:OpenSSL:OpenSSL:1.0.2', 'pkg:deb/debian/openssl@1.0.2', 'sbom', '2026-01-01T00:00:00Z');",
            )
            .unwrap();
        }
        let mut s = Store::open_sqlite(&path).unwrap();
        assert_eq!(s.schema_version().unwrap(), SCHEMA_VERSION);
        let tx = s.begin().unwrap();
        let fortios = tx
            .component_variants(&[("fortinet".into(), "fortios".into())], &[])
            .unwrap();
        assert_eq!(fortios.len(), 1);
        assert_eq!(
            fortios[0].version.as_deref(),
            Some("6.0.4"),
            "a ledger CPE's variant takes the device's バージョン column"
        );
        assert_eq!(tx.variant_holders(&[fortios[0].id]).unwrap(), [[(1, 0)]]);
        let openssl = tx.component_variants(&[], &["openssl".into()]).unwrap();
        assert_eq!(
            openssl
                .iter()
                .map(|v| v.purl_type.as_deref())
                .collect::<Vec<_>>(),
            [None, Some("deb")],
            "a CPE 2.2 URI is read too, lower-cased; the same component from a Debian package is another variant"
        );
        assert_eq!(
            tx.variant_holders(&[openssl[0].id]).unwrap(),
            [[(1, 1), (2, 0)]],
            "two devices with the same component share its variant"
        );
    }
}
