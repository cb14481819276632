//! Schedules, imported holidays, default schedules, the watch's state and presence (SQLite).

use chrono::{NaiveDate, NaiveDateTime};
use rusqlite::{params, OptionalExtension};

use crate::sqlite::{now_text, SqliteTx};
use crate::{Result, StoreError, WatchState};

const LOCAL: &str = "%Y-%m-%dT%H:%M:%S";

fn local(t: NaiveDateTime) -> String {
    t.format(LOCAL).to_string()
}

fn parse_local(s: &str) -> Result<NaiveDateTime> {
    NaiveDateTime::parse_from_str(s, LOCAL).map_err(|e| StoreError::Corrupt(format!("{s}: {e}")))
}

fn opt_local(s: Option<String>) -> Result<Option<NaiveDateTime>> {
    s.as_deref().map(parse_local).transpose()
}

impl SqliteTx<'_> {
    pub(crate) fn schedules_impl(&self) -> Result<Vec<(String, serde_json::Value)>> {
        let mut stmt = self
            .tx
            .prepare_cached("SELECT name, definition FROM schedules ORDER BY name")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (name, def) = row?;
            let v = serde_json::from_str(&def).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            out.push((name, v));
        }
        Ok(out)
    }

    pub(crate) fn set_schedule_impl(
        &mut self,
        name: &str,
        def: &serde_json::Value,
    ) -> Result<bool> {
        let existed: bool = self
            .tx
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM schedules WHERE name = ?1)")?
            .query_row([name], |r| r.get(0))?;
        self.tx
            .prepare_cached(
                "INSERT INTO schedules (name, definition, updated_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (name) DO UPDATE SET definition = excluded.definition, updated_at = excluded.updated_at",
            )?
            .execute(params![name, def.to_string(), now_text()])?;
        Ok(existed)
    }

    pub(crate) fn delete_schedule_impl(&mut self, name: &str) -> Result<bool> {
        Ok(self
            .tx
            .prepare_cached("DELETE FROM schedules WHERE name = ?1")?
            .execute([name])?
            > 0)
    }

    pub(crate) fn imported_holidays_impl(&self) -> Result<Vec<(NaiveDate, String)>> {
        let mut stmt = self
            .tx
            .prepare_cached("SELECT date, name FROM holidays ORDER BY date")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (d, n) = row?;
            let d = NaiveDate::parse_from_str(&d, "%Y-%m-%d")
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            out.push((d, n));
        }
        Ok(out)
    }

    pub(crate) fn import_holidays_impl(
        &mut self,
        holidays: &[(NaiveDate, String)],
        source: &str,
    ) -> Result<()> {
        let mut stmt = self.tx.prepare_cached(
            "INSERT INTO holidays (date, name, source) VALUES (?1, ?2, ?3)
             ON CONFLICT (date) DO UPDATE SET name = excluded.name, source = excluded.source",
        )?;
        for (d, n) in holidays {
            stmt.execute(params![d.format("%Y-%m-%d").to_string(), n, source])?;
        }
        Ok(())
    }

    pub(crate) fn schedule_defaults_impl(&self) -> Result<Vec<(String, String)>> {
        let mut stmt = self
            .tx
            .prepare_cached("SELECT scope, schedule FROM schedule_defaults ORDER BY scope")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    pub(crate) fn set_schedule_default_impl(
        &mut self,
        scope: &str,
        schedule: Option<&str>,
    ) -> Result<()> {
        match schedule {
            Some(s) => self
                .tx
                .prepare_cached(
                    "INSERT INTO schedule_defaults (scope, schedule) VALUES (?1, ?2)
                     ON CONFLICT (scope) DO UPDATE SET schedule = excluded.schedule",
                )?
                .execute(params![scope, s])?,
            None => self
                .tx
                .prepare_cached("DELETE FROM schedule_defaults WHERE scope = ?1")?
                .execute([scope])?,
        };
        Ok(())
    }

    pub(crate) fn watch_states_impl(&self) -> Result<Vec<WatchState>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT asset, first_probe, last_probe, last_up, off_since FROM watch_state",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, Option<String>>(4)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (asset, first, last, up, off) = row?;
            out.push(WatchState {
                asset,
                first_probe: parse_local(&first)?,
                last_probe: parse_local(&last)?,
                last_up: opt_local(up)?,
                off_since: opt_local(off)?,
            });
        }
        Ok(out)
    }

    pub(crate) fn save_watch_state_impl(&mut self, s: &WatchState) -> Result<()> {
        self.tx
            .prepare_cached(
                "INSERT INTO watch_state (asset, first_probe, last_probe, last_up, off_since)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (asset) DO UPDATE SET last_probe = excluded.last_probe,
                    last_up = excluded.last_up, off_since = excluded.off_since",
            )?
            .execute(params![
                s.asset,
                local(s.first_probe),
                local(s.last_probe),
                s.last_up.map(local),
                s.off_since.map(local)
            ])?;
        Ok(())
    }

    pub(crate) fn open_presence_impl(
        &self,
        asset: i64,
    ) -> Result<Option<(i64, NaiveDateTime, NaiveDateTime)>> {
        let row = self
            .tx
            .prepare_cached(
                "SELECT id, up_from, last_seen FROM presence WHERE asset = ?1 AND closed = 0
                 ORDER BY id DESC LIMIT 1",
            )?
            .query_row([asset], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })
            .optional()?;
        match row {
            Some((id, a, b)) => Ok(Some((id, parse_local(&a)?, parse_local(&b)?))),
            None => Ok(None),
        }
    }

    pub(crate) fn start_presence_impl(&mut self, asset: i64, at: NaiveDateTime) -> Result<()> {
        self.tx
            .prepare_cached("INSERT INTO presence (asset, up_from, last_seen) VALUES (?1, ?2, ?2)")?
            .execute(params![asset, local(at)])?;
        Ok(())
    }

    pub(crate) fn update_presence_impl(
        &mut self,
        id: i64,
        last_seen: NaiveDateTime,
        close: bool,
    ) -> Result<()> {
        self.tx
            .prepare_cached("UPDATE presence SET last_seen = ?2, closed = ?3 WHERE id = ?1")?
            .execute(params![id, local(last_seen), close])?;
        Ok(())
    }

    pub(crate) fn presence_between_impl(
        &self,
        from: NaiveDateTime,
        to: NaiveDateTime,
    ) -> Result<Vec<(i64, NaiveDateTime, NaiveDateTime)>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT asset, up_from, last_seen FROM presence WHERE up_from < ?2 AND last_seen >= ?1
             ORDER BY asset, up_from",
        )?;
        let rows = stmt.query_map(params![local(from), local(to)], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (a, f, l) = row?;
            out.push((a, parse_local(&f)?, parse_local(&l)?));
        }
        Ok(out)
    }
}
