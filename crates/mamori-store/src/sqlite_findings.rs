//! SQLite: what matching reads (candidates, configurations, facts, components) and findings.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use mamori_core::vuln::{Affected, CpeMatch};
use rusqlite::{params, OptionalExtension, Row};

use crate::sqlite::{now_text, parse_time, SqliteTx};
use crate::sqlite_vulns::vendor_product;
use crate::{
    ComponentVariant, Finding, FindingHead, Result, StoreError, StoredComponent, StoredVex,
    VulnFacts,
};

const FINDING_COLUMNS: &str = "f.id, COALESCE(f.asset, 0), COALESCE(a.asset_id, ''), COALESCE(a.name, ''), a.department, f.component_key,
    f.component, f.version, f.cpe, f.source, f.vuln, f.status, f.confidence, f.score, f.level,
    f.kev, f.sources, f.evidence, f.reason, f.first_seen, f.last_seen, f.resolved_at, f.digest,
    f.state, f.planned_date, f.flag";

fn finding_row(r: &Row<'_>) -> Result<Finding> {
    let corrupt = |e: serde_json::Error| StoreError::Corrupt(e.to_string());
    let sources: String = r.get(16)?;
    let evidence: String = r.get(17)?;
    Ok(Finding {
        id: r.get(0)?,
        asset: r.get(1)?,
        asset_id: r.get(2)?,
        asset_name: r.get(3)?,
        department: r.get(4)?,
        component_key: r.get(5)?,
        component: r.get(6)?,
        version: r.get(7)?,
        cpe: r.get(8)?,
        source: r.get(9)?,
        vuln: r.get(10)?,
        status: r.get(11)?,
        confidence: r.get(12)?,
        score: r.get(13)?,
        level: r.get(14)?,
        kev: r.get(15)?,
        sources: serde_json::from_str(&sources).map_err(corrupt)?,
        evidence: serde_json::from_str(&evidence).map_err(corrupt)?,
        reason: r.get(18)?,
        first_seen: parse_time(&r.get::<_, String>(19)?)?,
        last_seen: parse_time(&r.get::<_, String>(20)?)?,
        resolved_at: r
            .get::<_, Option<String>>(21)?
            .as_deref()
            .map(parse_time)
            .transpose()?,
        digest: r.get(22)?,
        state: r.get(23)?,
        planned_date: r
            .get::<_, Option<String>>(24)?
            .as_deref()
            .map(|d| {
                chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
                    .map_err(|_| StoreError::Corrupt(format!("planned date {d:?}")))
            })
            .transpose()?,
        flag: r.get(25)?,
    })
}

/// The type of a package URL (`pkg:deb/debian/openssl@…` → `deb`), lower case; '' when none.
pub(crate) fn purl_type(purl: Option<&str>) -> String {
    purl.and_then(|p| p.strip_prefix("pkg:"))
        .and_then(|rest| rest.split_once('/'))
        .map(|(t, _)| t.to_ascii_lowercase())
        .unwrap_or_default()
}

/// The id of the variant of a component with this CPE, version (for a ledger CPE, the
/// device's バージョン column), source and package URL, added the first time it is seen.
pub(crate) fn variant_id(
    conn: &rusqlite::Connection,
    cpe: &str,
    version: Option<&str>,
    source: &str,
    purl: Option<&str>,
) -> Result<i64> {
    let (vendor, product) = vendor_product(cpe);
    let version = version.unwrap_or("");
    let purl_type = purl_type(purl);
    let key = params![vendor, product, cpe, version, source, purl_type];
    let found: Option<i64> = conn
        .prepare_cached(
            "SELECT id FROM component_variants WHERE vendor = ?1 AND product = ?2 AND cpe = ?3
             AND version = ?4 AND source = ?5 AND purl_type = ?6",
        )?
        .query_row(key, |r| r.get(0))
        .optional()?;
    if let Some(id) = found {
        return Ok(id);
    }
    conn.prepare_cached(
        "INSERT INTO component_variants (vendor, product, cpe, version, source, purl_type)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(key)?;
    Ok(conn.last_insert_rowid())
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

impl SqliteTx<'_> {
    pub(crate) fn criteria_naming_impl(
        &self,
        vendor: &str,
        product: &str,
    ) -> Result<Vec<(String, CpeMatch)>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT vuln, criteria, version_start_including, version_start_excluding,
                    version_end_including, version_end_excluding, match_criteria_id
             FROM vuln_cpe_matches WHERE vendor = ?1 AND product = ?2 AND vulnerable = 1",
        )?;
        let rows = stmt.query_map([vendor, product], |r| {
            Ok((
                r.get(0)?,
                CpeMatch {
                    vulnerable: true,
                    criteria: r.get(1)?,
                    version_start_including: r.get(2)?,
                    version_start_excluding: r.get(3)?,
                    version_end_including: r.get(4)?,
                    version_end_excluding: r.get(5)?,
                    match_criteria_id: r.get(6)?,
                },
            ))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub(crate) fn assets_changed_since_impl(&self, since: DateTime<Utc>) -> Result<Vec<i64>> {
        let mut stmt = self
            .tx
            .prepare_cached("SELECT id FROM assets WHERE updated_at > ?1 ORDER BY id")?;
        let rows = stmt.query_map([time(since)], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub(crate) fn products_of_impl(&self, vulns: &[String]) -> Result<Vec<(String, String)>> {
        let mut out = BTreeSet::new();
        let mut criteria = self.tx.prepare_cached(
            "SELECT DISTINCT vendor, product FROM vuln_cpe_matches WHERE vuln = ?1",
        )?;
        let mut affected = self
            .tx
            .prepare_cached("SELECT cpe FROM vuln_affected WHERE vuln = ?1 AND cpe IS NOT NULL")?;
        for v in vulns {
            let mut rows = criteria.query([v])?;
            while let Some(r) = rows.next()? {
                out.insert((r.get(0)?, r.get(1)?));
            }
            let mut rows = affected.query([v])?;
            while let Some(r) = rows.next()? {
                out.insert(vendor_product(&r.get::<_, String>(0)?));
            }
        }
        Ok(out.into_iter().collect())
    }

    pub(crate) fn component_variants_impl(
        &self,
        products: &[(String, String)],
        vendors: &[String],
    ) -> Result<Vec<ComponentVariant>> {
        const COLUMNS: &str = "id, vendor, product, cpe, version, source, purl_type";
        fn variant(r: &Row<'_>) -> rusqlite::Result<ComponentVariant> {
            let some = |s: String| (!s.is_empty()).then_some(s);
            Ok(ComponentVariant {
                id: r.get(0)?,
                vendor: r.get(1)?,
                product: r.get(2)?,
                cpe: r.get(3)?,
                version: some(r.get(4)?),
                source: r.get(5)?,
                purl_type: some(r.get(6)?),
            })
        }
        let mut out: BTreeMap<i64, ComponentVariant> = BTreeMap::new();
        let mut stmt = self.tx.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM component_variants WHERE vendor = ?1 AND product = ?2"
        ))?;
        for (v, p) in products {
            for r in stmt.query_map([v, p], variant)? {
                let r = r?;
                out.insert(r.id, r);
            }
        }
        let mut stmt = self.tx.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM component_variants WHERE vendor = ?1"
        ))?;
        for v in vendors {
            for r in stmt.query_map([v], variant)? {
                let r = r?;
                out.insert(r.id, r);
            }
        }
        Ok(out.into_values().collect())
    }

    pub(crate) fn variant_holders_impl(&self, variants: &[i64]) -> Result<Vec<Vec<(i64, i64)>>> {
        let mut out = Vec::with_capacity(variants.len());
        // Answered from the index (variant, asset, position) alone.
        let mut stmt = self
            .tx
            .prepare_cached("SELECT asset, position FROM asset_components WHERE variant = ?1")?;
        for &v in variants {
            let mut holders = Vec::new();
            let mut rows = stmt.query([v])?;
            while let Some(r) = rows.next()? {
                holders.push((r.get(0)?, r.get(1)?));
            }
            out.push(holders);
        }
        Ok(out)
    }

    pub(crate) fn vulnerable_criteria_of_impl(
        &self,
        vulns: &[String],
    ) -> Result<Vec<(String, CpeMatch)>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT criteria, version_start_including, version_start_excluding,
                    version_end_including, version_end_excluding, match_criteria_id
             FROM vuln_cpe_matches m WHERE vuln = ?1 AND vulnerable = 1
             -- Only criteria naming a product some device has (every component with a CPE
             -- has a variant), or hardware (devices named by maker and model have no CPE).
             AND (criteria LIKE 'cpe:2.3:h:%' OR criteria LIKE 'cpe:/h:%'
                  OR EXISTS (SELECT 1 FROM component_variants v
                             WHERE v.vendor = m.vendor AND v.product = m.product))
             ORDER BY config, node, position",
        )?;
        let mut out = Vec::new();
        for v in vulns {
            let rows = stmt.query_map([v], |r| {
                Ok(CpeMatch {
                    vulnerable: true,
                    criteria: r.get(0)?,
                    version_start_including: r.get(1)?,
                    version_start_excluding: r.get(2)?,
                    version_end_including: r.get(3)?,
                    version_end_excluding: r.get(4)?,
                    match_criteria_id: r.get(5)?,
                })
            })?;
            for m in rows {
                out.push((v.clone(), m?));
            }
        }
        Ok(out)
    }

    pub(crate) fn scores_changed_since_impl(&self, since: DateTime<Utc>) -> Result<bool> {
        Ok(self
            .tx
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM feed_imports WHERE source IN ('kev', 'epss') AND at > ?1)",
            )?
            .query_row([time(since)], |r| r.get(0))?)
    }

    pub(crate) fn vuln_facts_impl(&self, id: &str) -> Result<Option<VulnFacts>> {
        let source: Option<String> = self
            .tx
            .prepare_cached("SELECT source FROM vulnerabilities WHERE id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?;
        let Some(source) = source else {
            return Ok(None);
        };
        let mut stmt = self
            .tx
            .prepare_cached("SELECT alias FROM vuln_aliases WHERE vuln = ?1 ORDER BY alias")?;
        let aliases = stmt
            .query_map([id], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?;
        let max_cvss: Option<f64> = self
            .tx
            .prepare_cached("SELECT MAX(base_score) FROM vuln_cvss WHERE vuln = ?1")?
            .query_row([id], |r| r.get(0))?;
        let title: Option<String> = self
            .tx
            .prepare_cached(
                "SELECT value FROM vuln_texts WHERE vuln = ?1 AND kind IN ('title', 'description')
                 ORDER BY CASE kind WHEN 'title' THEN 0 ELSE 1 END, position LIMIT 1",
            )?
            .query_row([id], |r| r.get(0))
            .optional()?;
        Ok(Some(VulnFacts {
            source,
            aliases,
            max_cvss,
            title,
        }))
    }

    pub(crate) fn affected_with_cpe_impl(&self) -> Result<Vec<(String, Affected)>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT vuln, vendor, product, cpe, versions FROM vuln_affected WHERE cpe IS NOT NULL
             ORDER BY vuln, position",
        )?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let versions: String = r.get(4)?;
            out.push((
                r.get(0)?,
                Affected {
                    vendor: r.get(1)?,
                    product: r.get(2)?,
                    cpe: r.get(3)?,
                    versions: serde_json::from_str(&versions)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                },
            ));
        }
        Ok(out)
    }

    pub(crate) fn known_products_impl(&self) -> Result<Vec<(String, String, String, i64)>> {
        let mut counts: HashMap<(String, String, String), i64> = HashMap::new();
        let mut stmt = self.tx.prepare_cached(
            "SELECT substr(criteria, 9, 1), vendor, product, COUNT(DISTINCT vuln) FROM vuln_cpe_matches
             WHERE criteria LIKE 'cpe:2.3:%' GROUP BY 1, 2, 3",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            *counts.entry((r.get(0)?, r.get(1)?, r.get(2)?)).or_default() += r.get::<_, i64>(3)?;
        }
        let mut stmt = self
            .tx
            .prepare_cached("SELECT cpe, COUNT(DISTINCT vuln) FROM vuln_affected WHERE cpe IS NOT NULL GROUP BY cpe")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let cpe: String = r.get(0)?;
            let part = cpe
                .strip_prefix("cpe:/")
                .or_else(|| cpe.strip_prefix("cpe:2.3:"))
                .and_then(|r| r.chars().next())
                .map(|c| c.to_string())
                .unwrap_or_default();
            let (v, p) = vendor_product(&cpe);
            if !v.is_empty() && !p.is_empty() {
                *counts.entry((part, v, p)).or_default() += r.get::<_, i64>(1)?;
            }
        }
        let mut out: Vec<(String, String, String, i64)> = counts
            .into_iter()
            .map(|((a, v, p), n)| (a, v, p, n))
            .collect();
        out.sort();
        Ok(out)
    }

    pub(crate) fn components_impl(
        &self,
        source: &str,
        assets: Option<&[i64]>,
    ) -> Result<Vec<StoredComponent>> {
        // Integers only, so they are written into the statement.
        let only = match assets {
            None => String::new(),
            Some(ids) => format!(
                " AND asset IN ({})",
                ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
            ),
        };
        let mut stmt = self.tx.prepare(&format!(
            "SELECT asset, position, name, version, cpe, purl, detail FROM asset_components
             WHERE source = ?1 AND cpe IS NOT NULL{only}"
        ))?;
        let rows = stmt.query_map([source], |r| {
            Ok((
                r.get::<_, i64>(1)?,
                StoredComponent {
                    asset: r.get(0)?,
                    name: r.get(2)?,
                    version: r.get(3)?,
                    cpe: r.get(4)?,
                    purl: r.get(5)?,
                    detail: r.get(6)?,
                },
            ))
        })?;
        let mut out = rows.collect::<rusqlite::Result<Vec<_>>>()?;
        // Sorted here: an ORDER BY costs SQLite a temporary B-tree over every row.
        out.sort_unstable_by_key(|(position, c)| (c.asset, *position));
        Ok(out.into_iter().map(|(_, c)| c).collect())
    }

    pub(crate) fn replace_components_impl(
        &mut self,
        asset: i64,
        source: &str,
        components: &[StoredComponent],
    ) -> Result<()> {
        let now = now_text();
        self.tx
            .prepare_cached("DELETE FROM asset_components WHERE asset = ?1 AND source = ?2")?
            .execute(params![asset, source])?;
        let mut stmt = self.tx.prepare_cached(
            "INSERT INTO asset_components (asset, position, name, version, cpe, purl, source, created_at, detail, vendor, product, variant)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        )?;
        for (i, c) in components.iter().enumerate() {
            let (vendor, product, variant) = match c.cpe.as_deref() {
                Some(cpe) => {
                    let (v, p) = vendor_product(cpe);
                    let variant = variant_id(
                        &self.tx,
                        cpe,
                        c.version.as_deref(),
                        source,
                        c.purl.as_deref(),
                    )?;
                    (Some(v), Some(p), Some(variant))
                }
                None => (None, None, None),
            };
            stmt.execute(params![
                asset, i as i64, c.name, c.version, c.cpe, c.purl, source, now, c.detail, vendor,
                product, variant
            ])?;
        }
        self.tx
            .prepare_cached("UPDATE assets SET updated_at = ?2 WHERE id = ?1")?
            .execute(params![asset, now])?;
        Ok(())
    }

    pub(crate) fn findings_impl(&self, asset: Option<i64>) -> Result<Vec<Finding>> {
        let sql = format!(
            "SELECT {FINDING_COLUMNS} FROM findings f LEFT JOIN assets a ON a.id = f.asset
             WHERE ?1 IS NULL OR f.asset = ?1 ORDER BY f.score DESC, a.asset_id, f.vuln"
        );
        let mut stmt = self.tx.prepare_cached(&sql)?;
        let mut rows = stmt.query([asset])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(finding_row(r)?);
        }
        Ok(out)
    }

    pub(crate) fn findings_page_impl(
        &self,
        q: &crate::FindingPageQuery,
    ) -> Result<(usize, Vec<Finding>)> {
        let mut clauses: Vec<String> = vec!["1 = 1".into()];
        let mut params: Vec<(String, String)> = Vec::new();
        let mut bind = |clauses: &mut Vec<String>, sql: &str, name: &str, value: String| {
            clauses.push(sql.to_string());
            params.push((name.to_string(), value));
        };
        if let Some(s) = &q.status {
            bind(&mut clauses, "f.status = :status", ":status", s.clone());
        }
        if let Some(c) = &q.category {
            bind(
                &mut clauses,
                "f.category = :category",
                ":category",
                c.clone(),
            );
        }
        if let Some(s) = &q.state {
            bind(&mut clauses, "f.state = :state", ":state", s.clone());
        }
        if let Some(d) = &q.department {
            bind(
                &mut clauses,
                "a.department = :department",
                ":department",
                d.clone(),
            );
        }
        if let Some(v) = &q.vuln {
            bind(
                &mut clauses,
                "(f.vuln = :vuln COLLATE NOCASE OR f.sources LIKE '%' || :vuln || '\"%')",
                ":vuln",
                v.clone(),
            );
        }
        if q.kev {
            clauses.push("f.kev = 1".into());
        }
        if let Some(asset) = q.asset {
            // An integer: written into the statement.
            clauses.push(format!("f.asset = {asset}"));
        }
        if let Some(levels) = &q.levels {
            let mut names = Vec::new();
            for (i, l) in levels.iter().enumerate() {
                let name = format!(":level{i}");
                names.push(name.clone());
                params.push((name, l.clone()));
            }
            clauses.push(if names.is_empty() {
                "0 = 1".into()
            } else {
                format!("f.level IN ({})", names.join(","))
            });
        }
        if let Some(o) = &q.overdue {
            let (sql, more) = overdue_sql(o);
            clauses.push(sql);
            params.extend(more);
        }
        let where_sql = clauses.join(" AND ");
        let bound: Vec<(&str, &dyn rusqlite::ToSql)> = params
            .iter()
            .map(|(k, v)| (k.as_str(), v as &dyn rusqlite::ToSql))
            .collect();
        // Counted only when asked (a cached total is passed back as `Some`), and without the
        // join to devices unless a device column filters: an index-only count.
        let total = match q.total {
            Some(t) => t as i64,
            None => {
                let join = if q.department.is_some() {
                    "LEFT JOIN assets a ON a.id = f.asset"
                } else {
                    ""
                };
                self.tx.query_row(
                    &format!("SELECT COUNT(*) FROM findings f {join} WHERE {where_sql}"),
                    bound.as_slice(),
                    |r| r.get(0),
                )?
            }
        };
        let sql = format!(
            "SELECT {FINDING_COLUMNS} FROM findings f LEFT JOIN assets a ON a.id = f.asset
             WHERE {where_sql} ORDER BY f.score DESC, f.id LIMIT {} OFFSET {}",
            q.limit.min(10_000),
            q.offset
        );
        let mut stmt = self.tx.prepare_cached(&sql)?;
        let mut rows = stmt.query(bound.as_slice())?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(finding_row(r)?);
        }
        Ok((total as usize, out))
    }

    pub(crate) fn finding_totals_impl(&self, o: &crate::Overdue) -> Result<crate::FindingTotals> {
        // Three index-only reads (migration 16), not one pass over every open row. The index
        // is named: SQLite's planner would otherwise take the score index and read each row.
        let mut t = crate::FindingTotals::default();
        let mut stmt = self.tx.prepare_cached(
            "SELECT f.kev, f.level, f.category, COUNT(*) FROM findings f
             INDEXED BY findings_open_counts WHERE f.status = 'open' GROUP BY 1, 2, 3",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let n = r.get::<_, i64>(3)? as usize;
            if r.get::<_, i64>(0)? != 0 {
                t.kev += n;
            }
            let (level, category): (String, String) = (r.get(1)?, r.get(2)?);
            match t
                .by_level_category
                .iter_mut()
                .find(|(l, c, _)| *l == level && *c == category)
            {
                Some(x) => x.2 += n,
                None => t.by_level_category.push((level, category, n)),
            }
        }
        drop(rows);
        let mut stmt = self.tx.prepare_cached(
            "SELECT f.vuln, COUNT(*) FROM findings f
             WHERE f.status = 'open' AND f.vuln >= '8.3:' AND f.vuln < '8.3;' GROUP BY 1",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as usize)))?;
        t.by_check = rows.collect::<rusqlite::Result<_>>()?;
        let (overdue, params) = overdue_sql(o);
        let bound: Vec<(&str, &dyn rusqlite::ToSql)> = params
            .iter()
            .map(|(k, v)| (k.as_str(), v as &dyn rusqlite::ToSql))
            .collect();
        let n: i64 = self.tx.query_row(
            &format!(
                "SELECT COUNT(*) FROM findings f INDEXED BY findings_open_counts WHERE {overdue}"
            ),
            bound.as_slice(),
            |r| r.get(0),
        )?;
        t.overdue = n as usize;
        Ok(t)
    }

    pub(crate) fn finding_trend_impl(
        &self,
        since: chrono::NaiveDate,
    ) -> Result<Vec<crate::TrendCount>> {
        let since = since.format("%Y-%m-%d").to_string();
        // Open at the start; then first found, and resolved, per day.
        // Times are RFC 3339 text: a day's prefix compares and groups like the date, and keeps
        // the index (findings_trend) usable.
        let sql = "SELECT f.category, NULL, COUNT(*), 0 FROM findings f INDEXED BY findings_trend
                   WHERE f.first_seen < ?1
                     AND (f.resolved_at IS NULL OR f.resolved_at >= ?1)
                     AND f.status != 'not_affected'
                   GROUP BY 1
                   UNION ALL
                   SELECT f.category, substr(f.first_seen, 1, 10), COUNT(*), 0
                   FROM findings f INDEXED BY findings_trend
                   WHERE f.first_seen >= ?1
                     AND f.status != 'not_affected' GROUP BY 1, 2
                   UNION ALL
                   SELECT f.category, substr(f.resolved_at, 1, 10), 0, COUNT(*)
                   FROM findings f INDEXED BY findings_trend
                   WHERE f.resolved_at >= ?1
                     AND f.status != 'not_affected' GROUP BY 1, 2";
        let mut stmt = self.tx.prepare_cached(sql)?;
        let rows = stmt.query_map([&since], |r| {
            let day: Option<String> = r.get(1)?;
            Ok(crate::TrendCount {
                category: r.get(0)?,
                day: day.and_then(|d| chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok()),
                opened: r.get(2)?,
                resolved: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub(crate) fn check_findings_impl(&self) -> Result<Vec<Finding>> {
        let sql = format!(
            "SELECT {FINDING_COLUMNS} FROM findings f LEFT JOIN assets a ON a.id = f.asset
             WHERE f.category = '8.3' ORDER BY f.id"
        );
        let mut stmt = self.tx.prepare_cached(&sql)?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(finding_row(r)?);
        }
        Ok(out)
    }

    pub(crate) fn finding_impl(&self, id: i64) -> Result<Option<Finding>> {
        let sql = format!(
            "SELECT {FINDING_COLUMNS} FROM findings f LEFT JOIN assets a ON a.id = f.asset WHERE f.id = ?1"
        );
        let mut stmt = self.tx.prepare_cached(&sql)?;
        let mut rows = stmt.query([id])?;
        match rows.next()? {
            Some(r) => Ok(Some(finding_row(r)?)),
            None => Ok(None),
        }
    }

    pub(crate) fn save_finding_impl(&mut self, f: &Finding) -> Result<i64> {
        let sources =
            serde_json::to_string(&f.sources).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let evidence =
            serde_json::to_string(&f.evidence).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        if f.id == 0 {
            self.tx
                .prepare_cached(
                    "INSERT INTO findings (asset, component_key, component, version, cpe, source, vuln,
                        status, confidence, score, level, kev, sources, evidence, reason, first_seen,
                        last_seen, resolved_at, digest, state, category)
                     VALUES (NULLIF(?1, 0), ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15,
                        ?16, ?17, ?18, ?19, ?20,
                        CASE WHEN ?7 LIKE '8.3:%' THEN '8.3' ELSE 'vuln' END)",
                )?
                .execute(params![
                    f.asset,
                    f.component_key,
                    f.component,
                    f.version,
                    f.cpe,
                    f.source,
                    f.vuln,
                    f.status,
                    f.confidence,
                    f.score,
                    f.level,
                    f.kev,
                    sources,
                    evidence,
                    f.reason,
                    time(f.first_seen),
                    time(f.last_seen),
                    f.resolved_at.map(time),
                    f.digest,
                    f.state,
                ])?;
            Ok(self.tx.last_insert_rowid())
        } else {
            // The status (an indexed column) is set by its own statement, only when it
            // changes: rewriting a finding's content then leaves the index alone.
            self.tx
                .prepare_cached("UPDATE findings SET status = ?2 WHERE id = ?1 AND status <> ?2")?
                .execute(params![f.id, f.status])?;
            self.tx
                .prepare_cached(
                    "UPDATE findings SET component = ?2, version = ?3, cpe = ?4, source = ?5,
                        confidence = ?6, score = ?7, level = ?8, kev = ?9, sources = ?10, evidence = ?11,
                        reason = ?12, last_seen = ?13, resolved_at = ?14, digest = ?15
                     WHERE id = ?1",
                )?
                .execute(params![
                    f.id,
                    f.component,
                    f.version,
                    f.cpe,
                    f.source,
                    f.confidence,
                    f.score,
                    f.level,
                    f.kev,
                    sources,
                    evidence,
                    f.reason,
                    time(f.last_seen),
                    f.resolved_at.map(time),
                    f.digest,
                ])?;
            Ok(f.id)
        }
    }

    pub(crate) fn set_finding_state_impl(&mut self, e: &crate::FindingEvent) -> Result<()> {
        let detail =
            serde_json::to_string(&e.detail).map_err(|err| StoreError::Corrupt(err.to_string()))?;
        self.tx
            .prepare_cached(
                "UPDATE findings SET state = ?2, planned_date = COALESCE(?3, planned_date), flag = NULL
                 WHERE id = ?1",
            )?
            .execute(params![
                e.finding,
                e.to,
                e.planned_date.map(|d| d.format("%Y-%m-%d").to_string())
            ])?;
        self.tx
            .prepare_cached(
                "INSERT INTO finding_events (finding, at, actor, from_state, to_state, reason, detail)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![e.finding, now_text(), e.actor, e.from, e.to, e.reason, detail])?;
        Ok(())
    }

    pub(crate) fn insert_exception_impl(&mut self, e: &crate::Exception) -> Result<i64> {
        let measures = serde_json::to_string(&e.measures)
            .map_err(|err| StoreError::Corrupt(err.to_string()))?;
        self.tx
            .prepare_cached(
                "INSERT INTO exceptions (kind, measures, note, residual_risk, review_date, status,
                    requested_by, requested_at, decided_by, decided_at, decision_reason, asset)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )?
            .execute(params![
                e.kind,
                measures,
                e.note,
                e.residual_risk,
                e.review_date.format("%Y-%m-%d").to_string(),
                e.status,
                e.requested_by,
                time(e.requested_at),
                e.decided_by,
                e.decided_at.map(time),
                e.decision_reason,
                e.asset
            ])?;
        let id = self.tx.last_insert_rowid();
        let mut stmt = self.tx.prepare_cached(
            "INSERT INTO exception_findings (exception, finding) VALUES (?1, ?2)",
        )?;
        for f in &e.findings {
            stmt.execute(params![id, f])?;
        }
        Ok(id)
    }

    pub(crate) fn update_exception_impl(&mut self, e: &crate::Exception) -> Result<()> {
        self.tx
            .prepare_cached(
                "UPDATE exceptions SET status = ?2, decided_by = ?3, decided_at = ?4,
                    decision_reason = ?5 WHERE id = ?1",
            )?
            .execute(params![
                e.id,
                e.status,
                e.decided_by,
                e.decided_at.map(time),
                e.decision_reason
            ])?;
        Ok(())
    }

    pub(crate) fn exceptions_impl(&self, id: Option<i64>) -> Result<Vec<crate::Exception>> {
        let corrupt = StoreError::Corrupt;
        let mut stmt = self.tx.prepare_cached(
            "SELECT id, kind, measures, note, residual_risk, review_date, status, requested_by,
                    requested_at, decided_by, decided_at, decision_reason, asset
             FROM exceptions WHERE ?1 IS NULL OR id = ?1 ORDER BY id DESC",
        )?;
        let mut rows = stmt.query([id])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let measures: String = r.get(2)?;
            let review: String = r.get(5)?;
            out.push(crate::Exception {
                id: r.get(0)?,
                kind: r.get(1)?,
                measures: serde_json::from_str(&measures).map_err(|e| corrupt(e.to_string()))?,
                note: r.get(3)?,
                residual_risk: r.get(4)?,
                review_date: chrono::NaiveDate::parse_from_str(&review, "%Y-%m-%d")
                    .map_err(|_| corrupt(format!("review date {review:?}")))?,
                status: r.get(6)?,
                requested_by: r.get(7)?,
                requested_at: parse_time(&r.get::<_, String>(8)?)?,
                decided_by: r.get(9)?,
                decided_at: r
                    .get::<_, Option<String>>(10)?
                    .as_deref()
                    .map(parse_time)
                    .transpose()?,
                decision_reason: r.get(11)?,
                findings: Vec::new(),
                asset: r.get(12)?,
            });
        }
        let mut stmt = self.tx.prepare_cached(
            "SELECT finding FROM exception_findings WHERE exception = ?1 ORDER BY finding",
        )?;
        for e in &mut out {
            let rows = stmt.query_map([e.id], |r| r.get::<_, i64>(0))?;
            e.findings = rows.collect::<rusqlite::Result<_>>()?;
        }
        Ok(out)
    }

    pub(crate) fn insert_inquiry_impl(&mut self, q: &crate::Inquiry) -> Result<i64> {
        self.tx
            .prepare_cached(
                "INSERT INTO inquiries (vendor, question, asked_on, asked_by, status, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                q.vendor,
                q.question,
                q.asked_on.format("%Y-%m-%d").to_string(),
                q.asked_by,
                q.status,
                now_text()
            ])?;
        let id = self.tx.last_insert_rowid();
        let mut stmt = self
            .tx
            .prepare_cached("INSERT INTO inquiry_items (inquiry, finding) VALUES (?1, ?2)")?;
        for item in &q.items {
            stmt.execute(params![id, item.finding])?;
        }
        Ok(id)
    }

    pub(crate) fn save_inquiry_answers_impl(&mut self, q: &crate::Inquiry) -> Result<()> {
        self.tx
            .prepare_cached("UPDATE inquiries SET status = ?2 WHERE id = ?1")?
            .execute(params![q.id, q.status])?;
        let mut stmt = self.tx.prepare_cached(
            "UPDATE inquiry_items SET verdict = ?3, conditions = ?4, answer = ?5, answered_on = ?6,
                recorded_by = ?7 WHERE inquiry = ?1 AND finding = ?2",
        )?;
        for i in &q.items {
            stmt.execute(params![
                q.id,
                i.finding,
                i.verdict,
                i.conditions,
                i.answer,
                i.answered_on.map(|d| d.format("%Y-%m-%d").to_string()),
                i.recorded_by
            ])?;
        }
        Ok(())
    }

    pub(crate) fn inquiries_impl(&self) -> Result<Vec<crate::Inquiry>> {
        let date = |t: String| {
            chrono::NaiveDate::parse_from_str(&t, "%Y-%m-%d")
                .map_err(|_| StoreError::Corrupt(format!("date {t:?}")))
        };
        let mut stmt = self.tx.prepare_cached(
            "SELECT id, vendor, question, asked_on, asked_by, status FROM inquiries ORDER BY id DESC",
        )?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(crate::Inquiry {
                id: r.get(0)?,
                vendor: r.get(1)?,
                question: r.get(2)?,
                asked_on: date(r.get(3)?)?,
                asked_by: r.get(4)?,
                status: r.get(5)?,
                items: Vec::new(),
            });
        }
        let mut stmt = self.tx.prepare_cached(
            "SELECT finding, verdict, conditions, answer, answered_on, recorded_by FROM inquiry_items
             WHERE inquiry = ?1 ORDER BY finding",
        )?;
        for q in &mut out {
            let mut rows = stmt.query([q.id])?;
            while let Some(r) = rows.next()? {
                q.items.push(crate::InquiryItem {
                    finding: r.get(0)?,
                    verdict: r.get(1)?,
                    conditions: r.get(2)?,
                    answer: r.get(3)?,
                    answered_on: r.get::<_, Option<String>>(4)?.map(date).transpose()?,
                    recorded_by: r.get(5)?,
                });
            }
        }
        Ok(out)
    }

    pub(crate) fn finding_events_impl(
        &self,
        finding: i64,
    ) -> Result<Vec<crate::StoredFindingEvent>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT at, actor, from_state, to_state, reason, detail FROM finding_events
             WHERE finding = ?1 ORDER BY id",
        )?;
        let mut rows = stmt.query([finding])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let detail: String = r.get(5)?;
            out.push(crate::StoredFindingEvent {
                at: parse_time(&r.get::<_, String>(0)?)?,
                event: crate::FindingEvent {
                    finding,
                    actor: r.get(1)?,
                    from: r.get(2)?,
                    to: r.get(3)?,
                    reason: r.get(4)?,
                    detail: serde_json::from_str(&detail)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                    planned_date: None,
                },
            });
        }
        Ok(out)
    }

    pub(crate) fn finding_heads_impl(
        &self,
        assets: Option<&[i64]>,
        vulns: Option<&[String]>,
    ) -> Result<Vec<FindingHead>> {
        const COLUMNS: &str = "id, asset, component_key, vuln, status, version, digest, state";
        let head = |r: &Row<'_>| {
            Ok(FindingHead {
                id: r.get(0)?,
                asset: r.get(1)?,
                component_key: r.get(2)?,
                vuln: r.get(3)?,
                status: r.get(4)?,
                version: r.get(5)?,
                digest: r.get(6)?,
                state: r.get(7)?,
            })
        };
        let mut out: BTreeMap<i64, FindingHead> = BTreeMap::new();
        let mut read = |sql: &str, key: Option<&dyn rusqlite::ToSql>| -> Result<()> {
            let mut stmt = self
                .tx
                .prepare_cached(&format!("SELECT {COLUMNS} FROM findings{sql}"))?;
            let rows = match key {
                Some(k) => stmt
                    .query_map([k], head)?
                    .collect::<rusqlite::Result<Vec<_>>>()?,
                None => stmt
                    .query_map([], head)?
                    .collect::<rusqlite::Result<Vec<_>>>()?,
            };
            out.extend(rows.into_iter().map(|h| (h.id, h)));
            Ok(())
        };
        // Matching owns vulnerability findings only; 8.3 findings are the scans'.
        if assets.is_none() && vulns.is_none() {
            read(" WHERE category = 'vuln'", None)?;
        }
        for id in assets.unwrap_or_default() {
            read(" WHERE asset = ?1 AND category = 'vuln'", Some(id))?;
        }
        for v in vulns.unwrap_or_default() {
            read(" WHERE vuln = ?1 AND category = 'vuln'", Some(v))?;
        }
        Ok(out.into_values().collect())
    }

    pub(crate) fn set_finding_status_impl(
        &mut self,
        id: i64,
        status: &str,
        reason: Option<&str>,
        at: Option<DateTime<Utc>>,
    ) -> Result<()> {
        self.tx
            .prepare_cached(
                "UPDATE findings SET status = ?2, reason = ?3, resolved_at = ?4 WHERE id = ?1",
            )?
            .execute(params![id, status, reason, at.map(time)])?;
        Ok(())
    }

    pub(crate) fn replace_vex_impl(&mut self, asset: i64, statements: &[StoredVex]) -> Result<()> {
        self.tx
            .prepare_cached("DELETE FROM asset_vex WHERE asset = ?1")?
            .execute([asset])?;
        let mut stmt = self.tx.prepare_cached(
            "INSERT INTO asset_vex (asset, position, vuln, state, justification, detail, refs, origin)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?;
        for (i, v) in statements.iter().enumerate() {
            let refs =
                serde_json::to_string(&v.refs).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            stmt.execute(params![
                asset,
                i as i64,
                v.vuln,
                v.state,
                v.justification,
                v.detail,
                refs,
                v.origin
            ])?;
        }
        self.tx
            .prepare_cached("UPDATE assets SET updated_at = ?2 WHERE id = ?1")?
            .execute(params![asset, now_text()])?;
        Ok(())
    }

    pub(crate) fn vex_impl(&self, assets: Option<&[i64]>) -> Result<Vec<StoredVex>> {
        // Integers only, so they are written into the statement.
        let only = match assets {
            None => String::new(),
            Some(ids) => format!(
                " WHERE asset IN ({})",
                ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
            ),
        };
        let mut stmt = self.tx.prepare(&format!(
            "SELECT asset, vuln, state, justification, detail, refs, origin FROM asset_vex{only}
             ORDER BY asset, position"
        ))?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let refs: String = r.get(5)?;
            out.push(StoredVex {
                asset: r.get(0)?,
                vuln: r.get(1)?,
                state: r.get(2)?,
                justification: r.get(3)?,
                detail: r.get(4)?,
                refs: serde_json::from_str(&refs)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                origin: r.get(6)?,
            });
        }
        Ok(out)
    }

    pub(crate) fn open_finding_vulns_impl(&self) -> Result<Vec<String>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT DISTINCT vuln FROM findings WHERE status = 'open' AND category = 'vuln' ORDER BY vuln",
        )?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub(crate) fn open_findings_after_impl(&self, after: i64, limit: i64) -> Result<Vec<Finding>> {
        let sql = format!(
            "SELECT {FINDING_COLUMNS} FROM findings f LEFT JOIN assets a ON a.id = f.asset
             WHERE f.status = 'open' AND f.id > ?1 ORDER BY f.id LIMIT ?2"
        );
        let mut stmt = self.tx.prepare_cached(&sql)?;
        let mut rows = stmt.query([after, limit])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(finding_row(r)?);
        }
        Ok(out)
    }
}

/// The SQL condition "open, in a state that needs action, and first seen before its
/// priority's cutoff day", with its named parameters.
fn overdue_sql(o: &crate::Overdue) -> (String, Vec<(String, String)>) {
    let mut params = vec![
        (":od_kev".to_string(), o.kev.clone()),
        (":od_urgent".to_string(), o.urgent.clone()),
        (":od_high".to_string(), o.high.clone()),
        (":od_other".to_string(), o.other.clone()),
    ];
    let mut states = Vec::new();
    for (i, st) in o.open_states.iter().enumerate() {
        let name = format!(":od_state{i}");
        states.push(name.clone());
        params.push((name, st.clone()));
    }
    let in_states = if states.is_empty() {
        "0 = 1".to_string()
    } else {
        format!("f.state IN ({})", states.join(","))
    };
    (
        format!(
            "f.status = 'open' AND {in_states} AND substr(f.first_seen, 1, 10) < CASE
                WHEN f.kev = 1 THEN :od_kev
                WHEN f.level = 'urgent' THEN :od_urgent
                WHEN f.level = 'high' THEN :od_high
                ELSE :od_other END"
        ),
        params,
    )
}
