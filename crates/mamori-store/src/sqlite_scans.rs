//! Scans, what each address answered, and allowed services (SQLite).

use rusqlite::{params, Row};

use crate::sqlite::{now_text, parse_time, SqliteTx};
use crate::{AllowedService, Result, ScanHost, ScanRecord, StoreError};

const SCAN_COLUMNS: &str = "id, source, started_at, finished_at, status, stopped, vantage, policy,
    actor, pid, file, hosts, up, open_ports, probes";

fn corrupt(e: serde_json::Error) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

fn scan_row(r: &Row<'_>) -> Result<ScanRecord> {
    let started: String = r.get(2)?;
    let finished: Option<String> = r.get(3)?;
    let policy: String = r.get(7)?;
    Ok(ScanRecord {
        id: r.get(0)?,
        source: r.get(1)?,
        started_at: parse_time(&started)?,
        finished_at: finished.as_deref().map(parse_time).transpose()?,
        status: r.get(4)?,
        stopped: r.get(5)?,
        vantage: r.get(6)?,
        policy: serde_json::from_str(&policy).map_err(corrupt)?,
        actor: r.get(8)?,
        pid: r.get(9)?,
        file: r.get(10)?,
        hosts: r.get(11)?,
        up: r.get(12)?,
        open_ports: r.get(13)?,
        probes: r.get(14)?,
    })
}

fn time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

impl SqliteTx<'_> {
    pub(crate) fn insert_scan_impl(&mut self, s: &ScanRecord) -> Result<i64> {
        let policy = serde_json::to_string(&s.policy).map_err(corrupt)?;
        self.tx
            .prepare_cached(
                "INSERT INTO scans (source, started_at, status, stopped, vantage, policy, actor, pid, file)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?
            .execute(params![
                s.source,
                time(s.started_at),
                s.status,
                s.stopped,
                s.vantage,
                policy,
                s.actor,
                s.pid,
                s.file
            ])?;
        Ok(self.tx.last_insert_rowid())
    }

    pub(crate) fn finish_scan_impl(&mut self, s: &ScanRecord, hosts: &[ScanHost]) -> Result<()> {
        let mut insert = self.tx.prepare_cached(
            "INSERT OR REPLACE INTO scan_hosts (scan, addr, up, asset, result) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        for h in hosts {
            let result = serde_json::to_string(&h.result).map_err(corrupt)?;
            insert.execute(params![s.id, h.addr, h.up, h.asset, result])?;
        }
        let finished = s.finished_at.map(time).unwrap_or_else(now_text);
        self.tx
            .prepare_cached(
                "UPDATE scans SET finished_at = ?2, status = ?3, stopped = ?4, pid = NULL,
                    hosts = ?5, up = ?6, open_ports = ?7, probes = ?8 WHERE id = ?1",
            )?
            .execute(params![
                s.id,
                finished,
                s.status,
                s.stopped,
                s.hosts,
                s.up,
                s.open_ports,
                s.probes
            ])?;
        Ok(())
    }

    pub(crate) fn scans_impl(&self, id: Option<i64>) -> Result<Vec<ScanRecord>> {
        let mut stmt = self.tx.prepare_cached(&format!(
            "SELECT {SCAN_COLUMNS} FROM scans WHERE ?1 IS NULL OR id = ?1 ORDER BY id DESC"
        ))?;
        let mut rows = stmt.query([id])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(scan_row(r)?);
        }
        Ok(out)
    }

    pub(crate) fn scan_hosts_impl(&self, id: i64) -> Result<Vec<ScanHost>> {
        let mut stmt = self
            .tx
            .prepare_cached("SELECT addr, up, asset, result FROM scan_hosts WHERE scan = ?1")?;
        let mut rows = stmt.query([id])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let result: String = r.get(3)?;
            out.push(ScanHost {
                addr: r.get(0)?,
                up: r.get(1)?,
                asset: r.get(2)?,
                result: serde_json::from_str(&result).map_err(corrupt)?,
            });
        }
        // Address order (text order would put 127.0.0.10 before 127.0.0.9).
        out.sort_by_key(|h| h.result.addr);
        Ok(out)
    }

    pub(crate) fn asset_scans_impl(
        &self,
        asset: i64,
        limit: i64,
    ) -> Result<Vec<(i64, chrono::DateTime<chrono::Utc>, ScanHost)>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT h.scan, s.started_at, h.addr, h.up, h.asset, h.result
             FROM scan_hosts h JOIN scans s ON s.id = h.scan
             WHERE h.asset = ?1 ORDER BY h.scan DESC LIMIT ?2",
        )?;
        let mut rows = stmt.query(rusqlite::params![asset, limit])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let started: String = r.get(1)?;
            let result: String = r.get(5)?;
            out.push((
                r.get(0)?,
                parse_time(&started)?,
                ScanHost {
                    addr: r.get(2)?,
                    up: r.get(3)?,
                    asset: r.get(4)?,
                    result: serde_json::from_str(&result).map_err(corrupt)?,
                },
            ));
        }
        Ok(out)
    }

    pub(crate) fn allowed_services_impl(&self) -> Result<Vec<AllowedService>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT scope, port, transport, note FROM allowed_services ORDER BY scope, transport, port",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(AllowedService {
                scope: r.get(0)?,
                port: r.get(1)?,
                transport: r.get(2)?,
                note: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    pub(crate) fn set_allowed_service_impl(
        &mut self,
        s: &AllowedService,
        allow: bool,
    ) -> Result<bool> {
        let changed = if allow {
            self.tx
                .prepare_cached(
                    "INSERT INTO allowed_services (scope, port, transport, note) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (scope, port, transport) DO UPDATE SET note = excluded.note",
                )?
                .execute(params![s.scope, s.port, s.transport, s.note])?
        } else {
            self.tx
                .prepare_cached(
                    "DELETE FROM allowed_services WHERE scope = ?1 AND port = ?2 AND transport = ?3",
                )?
                .execute(params![s.scope, s.port, s.transport])?
        };
        Ok(changed > 0)
    }
}
