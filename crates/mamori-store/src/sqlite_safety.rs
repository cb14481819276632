//! Safe-use checks (SQLite): approvals of default-credential checks, devices never tried,
//! attestations, collector keys and host reports.

use chrono::{DateTime, Utc};
use rusqlite::params;

use crate::sqlite::{now_text, parse_time, SqliteTx};
use crate::{
    ApiToken, CollectorKey, CredApproval, HostReport, Result, StoreError, StoredAttestation,
};

fn text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

fn opt_time(t: Option<String>) -> Result<Option<DateTime<Utc>>> {
    t.as_deref().map(parse_time).transpose()
}

fn json<T: serde::de::DeserializeOwned>(t: &str) -> Result<T> {
    serde_json::from_str(t).map_err(|e| StoreError::Corrupt(e.to_string()))
}

type ApprovalRow = (
    i64,
    String,
    Option<String>,
    String,
    i64,
    i64,
    Option<String>,
    String,
    String,
    Option<String>,
    Option<String>,
);

fn token_row(
    r: &rusqlite::Row<'_>,
) -> rusqlite::Result<(ApiToken, String, Option<String>, Option<String>)> {
    Ok((
        ApiToken {
            id: r.get(0)?,
            username: r.get(1)?,
            name: r.get(2)?,
            token_hash: r.get(3)?,
            created_at: Utc::now(),
            last_used_at: None,
            revoked_at: None,
        },
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
    ))
}

fn token_of(row: (ApiToken, String, Option<String>, Option<String>)) -> Result<ApiToken> {
    let (mut t, created, used, revoked) = row;
    t.created_at = parse_time(&created)?;
    t.last_used_at = opt_time(used)?;
    t.revoked_at = opt_time(revoked)?;
    Ok(t)
}

const TOKEN_COLUMNS: &str = "id, username, name, token_hash, created_at, last_used_at, revoked_at";

impl SqliteTx<'_> {
    pub(crate) fn api_tokens_impl(&self, username: Option<&str>) -> Result<Vec<ApiToken>> {
        let mut stmt = self.tx.prepare_cached(&format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE ?1 IS NULL OR username = ?1 ORDER BY id"
        ))?;
        let rows = stmt.query_map([username], token_row)?;
        rows.map(|r| token_of(r?)).collect()
    }

    pub(crate) fn api_token_by_hash_impl(&self, hash: &str) -> Result<Option<ApiToken>> {
        let mut stmt = self.tx.prepare_cached(&format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE token_hash = ?1"
        ))?;
        let mut rows = stmt.query_map([hash], token_row)?;
        match rows.next() {
            Some(r) => Ok(Some(token_of(r?)?)),
            None => Ok(None),
        }
    }

    pub(crate) fn insert_api_token_impl(&mut self, t: &ApiToken) -> Result<i64> {
        self.tx
            .prepare_cached(
                "INSERT INTO api_tokens (username, name, token_hash, created_at) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![t.username, t.name, t.token_hash, text(t.created_at)])?;
        Ok(self.tx.last_insert_rowid())
    }

    pub(crate) fn revoke_api_token_impl(&mut self, id: i64) -> Result<bool> {
        Ok(self
            .tx
            .prepare_cached(
                "UPDATE api_tokens SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
            )?
            .execute(params![id, now_text()])?
            > 0)
    }

    pub(crate) fn touch_api_token_impl(&mut self, id: i64) -> Result<()> {
        self.tx
            .prepare_cached("UPDATE api_tokens SET last_used_at = ?2 WHERE id = ?1")?
            .execute(params![id, now_text()])?;
        Ok(())
    }

    pub(crate) fn cred_approvals_impl(&self) -> Result<Vec<CredApproval>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT id, scope, exclude, windows, max_attempts, delay_ms, note, approved_by,
                    approved_at, revoked_by, revoked_at
             FROM cred_approvals ORDER BY id DESC",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok::<ApprovalRow, _>((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
                r.get(8)?,
                r.get(9)?,
                r.get(10)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, scope, exclude, windows, max, delay, note, by, at, rby, rat) = row?;
            out.push(CredApproval {
                id,
                scope,
                exclude,
                windows: json(&windows)?,
                max_attempts: max.clamp(0, u32::MAX as i64) as u32,
                delay_ms: delay.max(0) as u64,
                note,
                approved_by: by,
                approved_at: parse_time(&at)?,
                revoked_by: rby,
                revoked_at: opt_time(rat)?,
            });
        }
        Ok(out)
    }

    pub(crate) fn insert_cred_approval_impl(&mut self, a: &CredApproval) -> Result<i64> {
        self.tx
            .prepare_cached(
                "INSERT INTO cred_approvals (scope, exclude, windows, max_attempts, delay_ms, note,
                     approved_by, approved_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![
                a.scope,
                a.exclude,
                serde_json::to_string(&a.windows).unwrap_or_else(|_| "[]".into()),
                a.max_attempts,
                a.delay_ms as i64,
                a.note,
                a.approved_by,
                text(a.approved_at),
            ])?;
        Ok(self.tx.last_insert_rowid())
    }

    pub(crate) fn revoke_cred_approval_impl(&mut self, id: i64, by: &str) -> Result<bool> {
        Ok(self
            .tx
            .prepare_cached(
                "UPDATE cred_approvals SET revoked_by = ?2, revoked_at = ?3
                 WHERE id = ?1 AND revoked_at IS NULL",
            )?
            .execute(params![id, by, now_text()])?
            > 0)
    }

    pub(crate) fn cred_exclusions_impl(&self) -> Result<Vec<(i64, Option<String>)>> {
        let mut stmt = self
            .tx
            .prepare_cached("SELECT asset, note FROM cred_exclusions ORDER BY asset")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    pub(crate) fn set_cred_exclusion_impl(
        &mut self,
        asset: i64,
        note: Option<&str>,
        by: &str,
    ) -> Result<bool> {
        let n = match note {
            Some(note) => self
                .tx
                .prepare_cached(
                    "INSERT INTO cred_exclusions (asset, note, created_by, created_at)
                     VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (asset) DO UPDATE SET note = excluded.note",
                )?
                .execute(params![
                    asset,
                    (!note.is_empty()).then_some(note),
                    by,
                    now_text()
                ])?,
            None => self
                .tx
                .prepare_cached("DELETE FROM cred_exclusions WHERE asset = ?1")?
                .execute([asset])?,
        };
        Ok(n > 0)
    }

    pub(crate) fn attestations_impl(&self, asset: Option<i64>) -> Result<Vec<StoredAttestation>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT id, asset, item, value, actor, at, evidence, attachment, attachment_sha256,
                    interval_days
             FROM attestations WHERE ?1 IS NULL OR asset = ?1 ORDER BY at, id",
        )?;
        let rows = stmt.query_map([asset], |r| {
            Ok((
                StoredAttestation {
                    id: r.get(0)?,
                    asset: r.get(1)?,
                    item: r.get(2)?,
                    value: r.get(3)?,
                    actor: r.get(4)?,
                    at: Utc::now(),
                    evidence: r.get(6)?,
                    attachment: r.get(7)?,
                    attachment_sha256: r.get(8)?,
                    interval_days: r.get(9)?,
                },
                r.get::<_, String>(5)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (mut a, at) = row?;
            a.at = parse_time(&at)?;
            out.push(a);
        }
        Ok(out)
    }

    pub(crate) fn insert_attestation_impl(&mut self, a: &StoredAttestation) -> Result<i64> {
        self.tx
            .prepare_cached(
                "INSERT INTO attestations (asset, item, value, actor, at, evidence, attachment,
                     attachment_sha256, interval_days)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?
            .execute(params![
                a.asset,
                a.item,
                a.value,
                a.actor,
                text(a.at),
                a.evidence,
                a.attachment,
                a.attachment_sha256,
                a.interval_days,
            ])?;
        Ok(self.tx.last_insert_rowid())
    }

    pub(crate) fn collector_keys_impl(&self) -> Result<Vec<CollectorKey>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT id, name, public_key, created_by, created_at, revoked_at
             FROM collector_keys ORDER BY id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, Option<String>>(5)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, name, public_key, created_by, at, revoked) = row?;
            out.push(CollectorKey {
                id,
                name,
                public_key,
                created_by,
                created_at: parse_time(&at)?,
                revoked_at: opt_time(revoked)?,
            });
        }
        Ok(out)
    }

    pub(crate) fn insert_collector_key_impl(&mut self, k: &CollectorKey) -> Result<i64> {
        self.tx
            .prepare_cached(
                "INSERT INTO collector_keys (name, public_key, created_by, created_at)
                 VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![
                k.name,
                k.public_key,
                k.created_by,
                text(k.created_at)
            ])?;
        Ok(self.tx.last_insert_rowid())
    }

    pub(crate) fn host_reports_impl(&self, asset: Option<i64>) -> Result<Vec<HostReport>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT id, asset, collected_at, hostname, key_name, digest, report, imported_by,
                    imported_at
             FROM host_reports WHERE ?1 IS NULL OR asset = ?1 ORDER BY collected_at DESC, id DESC",
        )?;
        let rows = stmt.query_map([asset], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, String>(6)?,
                r.get::<_, String>(7)?,
                r.get::<_, String>(8)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, asset, collected, hostname, key_name, digest, report, by, at) = row?;
            out.push(HostReport {
                id,
                asset,
                collected_at: parse_time(&collected)?,
                hostname,
                key_name,
                digest,
                report: json(&report)?,
                imported_by: by,
                imported_at: parse_time(&at)?,
            });
        }
        Ok(out)
    }

    pub(crate) fn insert_host_report_impl(&mut self, h: &HostReport) -> Result<i64> {
        self.tx
            .prepare_cached(
                "INSERT INTO host_reports (asset, collected_at, hostname, key_name, digest, report,
                     imported_by, imported_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![
                h.asset,
                text(h.collected_at),
                h.hostname,
                h.key_name,
                h.digest,
                h.report.to_string(),
                h.imported_by,
                text(h.imported_at),
            ])?;
        Ok(self.tx.last_insert_rowid())
    }
}
