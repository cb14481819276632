//! SQLite: CSAF advisories and alerts.

use chrono::SecondsFormat;
use mamori_core::vuln::{
    Advisory, AdvisoryProduct, AdvisoryVulnerability, Alert, ProductStatus, Remediation,
};
use rusqlite::{params, OptionalExtension};

use crate::sqlite::{now_text, parse_time, SqliteTx};
use crate::{Result, StoreError, Upsert};

fn ts(t: Option<chrono::DateTime<chrono::Utc>>) -> Option<String> {
    t.map(|t| t.to_rfc3339_opts(SecondsFormat::Micros, true))
}

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(e.to_string()))
}

impl SqliteTx<'_> {
    pub(crate) fn upsert_advisory_impl(
        &mut self,
        a: &Advisory,
        source: &str,
        origin: &str,
    ) -> Result<Upsert> {
        let existing: Option<(Option<String>, Option<String>)> = self
            .tx
            .prepare_cached("SELECT current_release, version FROM advisories WHERE id = ?1")?
            .query_row([&a.id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let release = ts(a.current_release);
        let outcome = match existing {
            None => Upsert::Added,
            Some((old_release, old_version)) => {
                if release > old_release
                    || (release == old_release && a.version > old_version && a.version.is_some())
                {
                    self.tx
                        .prepare_cached("DELETE FROM advisories WHERE id = ?1")?
                        .execute([&a.id])?;
                    Upsert::Updated
                } else {
                    return Ok(Upsert::Unchanged);
                }
            }
        };
        self.tx
            .prepare_cached(
                "INSERT INTO advisories (id, source, title, publisher, lang, initial_release, current_release, version, url, origin, imported_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )?
            .execute(params![a.id, source, a.title, a.publisher, a.lang, ts(a.initial_release), release, a.version, a.url, origin, now_text()])?;
        let mut product = self.tx.prepare_cached(
            "INSERT OR IGNORE INTO advisory_products (advisory, product_id, name, vendor, product, version, version_range, cpe, purl)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?;
        for p in &a.products {
            product.execute(params![
                a.id,
                p.product_id,
                p.name,
                p.vendor,
                p.product,
                p.version,
                p.version_range,
                p.cpe,
                p.purl
            ])?;
        }
        let mut vuln = self.tx.prepare_cached(
            "INSERT INTO advisory_vulns (advisory, position, cve, title, cwe, summary, cvss) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?;
        let mut status = self.tx.prepare_cached(
            "INSERT OR IGNORE INTO advisory_product_status (advisory, vuln, product_id, status) VALUES (?1, ?2, ?3, ?4)",
        )?;
        let mut remediation = self.tx.prepare_cached(
            "INSERT INTO advisory_remediations (advisory, vuln, position, category, details, url, product_ids)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?;
        for (i, v) in a.vulnerabilities.iter().enumerate() {
            vuln.execute(params![
                a.id,
                i as i64,
                v.cve,
                v.title,
                v.cwe,
                v.summary,
                json(&v.cvss)
            ])?;
            for (s, pid) in &v.product_status {
                status.execute(params![a.id, i as i64, pid, s.code()])?;
            }
            for (j, r) in v.remediations.iter().enumerate() {
                remediation.execute(params![
                    a.id,
                    i as i64,
                    j as i64,
                    r.category,
                    r.details,
                    r.url,
                    json(&r.product_ids)
                ])?;
            }
        }
        Ok(outcome)
    }

    pub(crate) fn advisory_impl(&self, id: &str) -> Result<Option<(Advisory, String)>> {
        let row = self
            .tx
            .prepare_cached(
                "SELECT id, title, publisher, lang, initial_release, current_release, version, url, origin FROM advisories WHERE id = ?1",
            )?
            .query_row([id], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, Option<String>>(5)?,
                    r.get::<_, Option<String>>(6)?,
                    r.get::<_, Option<String>>(7)?,
                    r.get::<_, String>(8)?,
                ))
            })
            .optional()?;
        let Some((id, title, publisher, lang, initial, current, version, url, origin)) = row else {
            return Ok(None);
        };
        let mut a = Advisory {
            id: id.clone(),
            title,
            publisher,
            lang,
            initial_release: initial.as_deref().map(parse_time).transpose()?,
            current_release: current.as_deref().map(parse_time).transpose()?,
            version,
            url,
            products: Vec::new(),
            vulnerabilities: Vec::new(),
        };
        {
            let mut stmt = self.tx.prepare_cached(
                "SELECT product_id, name, vendor, product, version, version_range, cpe, purl FROM advisory_products
                 WHERE advisory = ?1 ORDER BY rowid",
            )?;
            let mut rows = stmt.query([&id])?;
            while let Some(r) = rows.next()? {
                a.products.push(AdvisoryProduct {
                    product_id: r.get(0)?,
                    name: r.get(1)?,
                    vendor: r.get(2)?,
                    product: r.get(3)?,
                    version: r.get(4)?,
                    version_range: r.get(5)?,
                    cpe: r.get(6)?,
                    purl: r.get(7)?,
                });
            }
        }
        {
            let mut stmt = self
                .tx
                .prepare_cached("SELECT cve, title, cwe, summary, cvss FROM advisory_vulns WHERE advisory = ?1 ORDER BY position")?;
            let mut rows = stmt.query([&id])?;
            while let Some(r) = rows.next()? {
                let cvss: String = r.get(4)?;
                a.vulnerabilities.push(AdvisoryVulnerability {
                    cve: r.get(0)?,
                    title: r.get(1)?,
                    cwe: r.get(2)?,
                    summary: r.get(3)?,
                    cvss: from_json(&cvss)?,
                    product_status: Vec::new(),
                    remediations: Vec::new(),
                });
            }
        }
        {
            let mut stmt = self.tx.prepare_cached(
                "SELECT vuln, product_id, status FROM advisory_product_status WHERE advisory = ?1 ORDER BY vuln, status, rowid",
            )?;
            let mut rows = stmt.query([&id])?;
            while let Some(r) = rows.next()? {
                let i: i64 = r.get(0)?;
                let code: String = r.get(2)?;
                let s = ProductStatus::from_code(&code)
                    .ok_or_else(|| StoreError::Corrupt(format!("status {code:?}")))?;
                if let Some(v) = a.vulnerabilities.get_mut(i as usize) {
                    v.product_status.push((s, r.get(1)?));
                }
            }
        }
        {
            let mut stmt = self.tx.prepare_cached(
                "SELECT vuln, category, details, url, product_ids FROM advisory_remediations WHERE advisory = ?1 ORDER BY vuln, position",
            )?;
            let mut rows = stmt.query([&id])?;
            while let Some(r) = rows.next()? {
                let i: i64 = r.get(0)?;
                let ids: String = r.get(4)?;
                if let Some(v) = a.vulnerabilities.get_mut(i as usize) {
                    v.remediations.push(Remediation {
                        category: r.get(1)?,
                        details: r.get(2)?,
                        url: r.get(3)?,
                        product_ids: from_json(&ids)?,
                    });
                }
            }
        }
        Ok(Some((a, origin)))
    }

    pub(crate) fn advisories_for_cve_impl(&self, cve: &str) -> Result<Vec<(String, String)>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT DISTINCT a.id, a.title FROM advisory_vulns v JOIN advisories a ON a.id = v.advisory WHERE v.cve = ?1 ORDER BY a.id",
        )?;
        let rows = stmt.query_map([cve], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub(crate) fn upsert_alert_impl(&mut self, a: &Alert, origin: &str) -> Result<Upsert> {
        let stored = self.alert_by_link(&a.link)?;
        let outcome = match stored {
            None => Upsert::Added,
            Some(old) if old == *a => return Ok(Upsert::Unchanged),
            Some(_) => {
                self.tx
                    .prepare_cached("DELETE FROM alerts WHERE link = ?1")?
                    .execute([&a.link])?;
                Upsert::Updated
            }
        };
        self.tx
            .prepare_cached(
                "INSERT INTO alerts (link, feed, title, summary, published, origin, imported_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![a.link, a.feed, a.title, a.summary, ts(a.published), origin, now_text()])?;
        let mut cve = self
            .tx
            .prepare_cached("INSERT OR IGNORE INTO alert_cves (alert, cve) VALUES (?1, ?2)")?;
        for c in &a.cves {
            cve.execute(params![a.link, c])?;
        }
        Ok(outcome)
    }

    fn alert_by_link(&self, link: &str) -> Result<Option<Alert>> {
        let row = self
            .tx
            .prepare_cached(
                "SELECT link, feed, title, summary, published FROM alerts WHERE link = ?1",
            )?
            .query_row([link], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, Option<String>>(4)?,
                ))
            })
            .optional()?;
        let Some((link, feed, title, summary, published)) = row else {
            return Ok(None);
        };
        let mut stmt = self
            .tx
            .prepare_cached("SELECT cve FROM alert_cves WHERE alert = ?1 ORDER BY rowid")?;
        let cves = stmt
            .query_map([&link], |r| r.get(0))?
            .collect::<Result<Vec<String>, _>>()?;
        Ok(Some(Alert {
            link,
            feed,
            title,
            summary,
            published: published.as_deref().map(parse_time).transpose()?,
            cves,
        }))
    }

    pub(crate) fn alerts_for_cve_impl(&self, cve: &str) -> Result<Vec<Alert>> {
        let links: Vec<String> = {
            let mut stmt = self.tx.prepare_cached(
                "SELECT a.link FROM alert_cves c JOIN alerts a ON a.link = c.alert WHERE c.cve = ?1 ORDER BY a.published DESC",
            )?;
            let rows = stmt.query_map([cve], |r| r.get(0))?;
            rows.collect::<Result<_, _>>()?
        };
        let mut out = Vec::new();
        for l in links {
            if let Some(a) = self.alert_by_link(&l)? {
                out.push(a);
            }
        }
        Ok(out)
    }
}
