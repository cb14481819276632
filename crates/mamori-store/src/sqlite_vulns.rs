//! SQLite: vulnerability records, KEV, EPSS and feed state.

use chrono::{NaiveDate, SecondsFormat};
use mamori_core::vuln::{
    Affected, Configuration, CpeMatch, Cvss, CvssVersion, EpssScore, KevEntry, LangText, Node,
    Operator, Reference, Vulnerability,
};
use rusqlite::{params, OptionalExtension};

use crate::sqlite::{now_text, parse_time, SqliteTx};
use crate::{
    FeedImport, FeedStatus, Result, StoreError, StoredEpss, StoredVulnerability, Upsert,
    VulnSummary,
};

fn ts(t: Option<chrono::DateTime<chrono::Utc>>) -> Option<String> {
    t.map(|t| t.to_rfc3339_opts(SecondsFormat::Micros, true))
}

fn op_text(op: Operator) -> &'static str {
    match op {
        Operator::And => "AND",
        Operator::Or => "OR",
    }
}

fn op_parse(text: &str) -> Result<Operator> {
    match text {
        "AND" => Ok(Operator::And),
        "OR" => Ok(Operator::Or),
        other => Err(StoreError::Corrupt(format!("operator {other:?}"))),
    }
}

/// Vendor and product of a CPE 2.3 name or 2.2 URI, lower-cased, for candidate look-up.
pub(crate) fn vendor_product(cpe: &str) -> (String, String) {
    let rest = cpe
        .strip_prefix("cpe:2.3:")
        .or_else(|| cpe.strip_prefix("cpe:/"))
        .unwrap_or("");
    let mut parts = Vec::with_capacity(3);
    let mut current = String::new();
    let mut escaped = false;
    for c in rest.chars() {
        if parts.len() == 3 {
            break;
        }
        if escaped {
            current.push(c);
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == ':' {
            parts.push(std::mem::take(&mut current));
        } else {
            current.push(c);
        }
    }
    if parts.len() < 3 {
        parts.push(current);
    }
    let get = |i: usize| parts.get(i).map(|s| s.to_lowercase()).unwrap_or_default();
    (get(1), get(2))
}

fn date_opt(text: Option<String>) -> Result<Option<NaiveDate>> {
    text.map(|t| {
        NaiveDate::parse_from_str(&t, "%Y-%m-%d")
            .map_err(|_| StoreError::Corrupt(format!("date {t:?}")))
    })
    .transpose()
}

impl SqliteTx<'_> {
    pub(crate) fn upsert_vulnerability_impl(
        &mut self,
        v: &Vulnerability,
        source: &str,
        origin: &str,
    ) -> Result<Upsert> {
        let existing: Option<Option<String>> = self
            .tx
            .prepare_cached("SELECT modified FROM vulnerabilities WHERE id = ?1")?
            .query_row([&v.id], |r| r.get(0))
            .optional()?;
        let modified = ts(v.modified);
        let outcome = match &existing {
            None => Upsert::Added,
            Some(old) => {
                if modified.is_some() && (old.is_none() || modified > *old) {
                    Upsert::Updated
                } else {
                    return Ok(Upsert::Unchanged);
                }
            }
        };
        if outcome == Upsert::Updated {
            // The children go with the row (ON DELETE CASCADE).
            self.tx
                .prepare_cached("DELETE FROM vulnerabilities WHERE id = ?1")?
                .execute([&v.id])?;
        }
        self.tx
            .prepare_cached(
                "INSERT INTO vulnerabilities (id, source, assigner, published, modified, status, origin, imported_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![v.id, source, v.assigner, ts(v.published), modified, v.status, origin, now_text()])?;
        let mut alias = self
            .tx
            .prepare_cached("INSERT OR IGNORE INTO vuln_aliases (vuln, alias) VALUES (?1, ?2)")?;
        for a in &v.aliases {
            alias.execute(params![v.id, a])?;
        }
        let mut text = self
            .tx
            .prepare_cached("INSERT INTO vuln_texts (vuln, kind, position, lang, value) VALUES (?1, ?2, ?3, ?4, ?5)")?;
        for (kind, list) in [
            ("title", &v.titles),
            ("description", &v.descriptions),
            ("impact", &v.impacts),
            ("solution", &v.solutions),
        ] {
            for (i, t) in list.iter().enumerate() {
                text.execute(params![v.id, kind, i as i64, t.lang, t.value])?;
            }
        }
        let mut cvss = self.tx.prepare_cached(
            "INSERT INTO vuln_cvss (vuln, position, version, vector, base_score, severity, source, is_primary)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?;
        for (i, c) in v.cvss.iter().enumerate() {
            cvss.execute(params![
                v.id,
                i as i64,
                c.version.as_str(),
                c.vector,
                c.base_score,
                c.severity,
                c.source,
                c.primary
            ])?;
        }
        let mut cwe = self
            .tx
            .prepare_cached("INSERT OR IGNORE INTO vuln_cwes (vuln, cwe) VALUES (?1, ?2)")?;
        for c in &v.cwes {
            cwe.execute(params![v.id, c])?;
        }
        let mut reference = self
            .tx
            .prepare_cached("INSERT INTO vuln_references (vuln, position, url, source, tags) VALUES (?1, ?2, ?3, ?4, ?5)")?;
        for (i, r) in v.references.iter().enumerate() {
            let tags = serde_json::to_string(&r.tags).unwrap_or_else(|_| "[]".into());
            reference.execute(params![v.id, i as i64, r.url, r.source, tags])?;
        }
        let mut affected = self.tx.prepare_cached(
            "INSERT INTO vuln_affected (vuln, position, vendor, product, cpe, versions) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        for (i, a) in v.affected.iter().enumerate() {
            let versions = serde_json::to_string(&a.versions).unwrap_or_else(|_| "[]".into());
            affected.execute(params![
                v.id, i as i64, a.vendor, a.product, a.cpe, versions
            ])?;
        }
        let mut config = self
            .tx
            .prepare_cached("INSERT INTO vuln_configurations (vuln, config, operator, negate) VALUES (?1, ?2, ?3, ?4)")?;
        let mut node = self
            .tx
            .prepare_cached("INSERT INTO vuln_nodes (vuln, config, node, operator, negate) VALUES (?1, ?2, ?3, ?4, ?5)")?;
        let mut matches = self.tx.prepare_cached(
            "INSERT INTO vuln_cpe_matches (vuln, config, node, position, vulnerable, criteria, vendor, product,
                 version_start_including, version_start_excluding, version_end_including, version_end_excluding, match_criteria_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        )?;
        for (ci, c) in v.configurations.iter().enumerate() {
            config.execute(params![v.id, ci as i64, op_text(c.operator), c.negate])?;
            for (ni, n) in c.nodes.iter().enumerate() {
                node.execute(params![
                    v.id,
                    ci as i64,
                    ni as i64,
                    op_text(n.operator),
                    n.negate
                ])?;
                for (mi, m) in n.matches.iter().enumerate() {
                    let (vendor, product) = vendor_product(&m.criteria);
                    matches.execute(params![
                        v.id,
                        ci as i64,
                        ni as i64,
                        mi as i64,
                        m.vulnerable,
                        m.criteria,
                        vendor,
                        product,
                        m.version_start_including,
                        m.version_start_excluding,
                        m.version_end_including,
                        m.version_end_excluding,
                        m.match_criteria_id
                    ])?;
                }
            }
        }
        Ok(outcome)
    }

    pub(crate) fn vulnerabilities_by_alias_impl(&self, alias: &str) -> Result<Vec<String>> {
        let mut stmt = self
            .tx
            .prepare_cached("SELECT vuln FROM vuln_aliases WHERE alias = ?1 ORDER BY vuln")?;
        let rows = stmt.query_map([alias], |r| r.get(0))?;
        Ok(rows.collect::<Result<Vec<String>, _>>()?)
    }

    pub(crate) fn vulnerability_impl(&self, id: &str) -> Result<Option<StoredVulnerability>> {
        let row = self
            .tx
            .prepare_cached("SELECT id, source, assigner, published, modified, status, origin, imported_at FROM vulnerabilities WHERE id = ?1")?
            .query_row([id], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, Option<String>>(5)?,
                    r.get::<_, String>(6)?,
                    r.get::<_, String>(7)?,
                ))
            })
            .optional()?;
        let Some((id, source, assigner, published, modified, status, origin, imported_at)) = row
        else {
            return Ok(None);
        };
        let mut v = Vulnerability::new(id.clone());
        v.assigner = assigner;
        v.published = published.as_deref().map(parse_time).transpose()?;
        v.modified = modified.as_deref().map(parse_time).transpose()?;
        v.status = status;
        v.aliases = self.query_strings(
            "SELECT alias FROM vuln_aliases WHERE vuln = ?1 ORDER BY alias",
            &id,
        )?;
        v.cwes = self.query_strings(
            "SELECT cwe FROM vuln_cwes WHERE vuln = ?1 ORDER BY cwe",
            &id,
        )?;
        {
            let mut stmt = self.tx.prepare_cached(
                "SELECT kind, lang, value FROM vuln_texts WHERE vuln = ?1 ORDER BY kind, position",
            )?;
            let mut rows = stmt.query([&id])?;
            while let Some(r) = rows.next()? {
                let t = LangText {
                    lang: r.get(1)?,
                    value: r.get(2)?,
                };
                match r.get::<_, String>(0)?.as_str() {
                    "title" => v.titles.push(t),
                    "description" => v.descriptions.push(t),
                    "impact" => v.impacts.push(t),
                    "solution" => v.solutions.push(t),
                    other => return Err(StoreError::Corrupt(format!("text kind {other:?}"))),
                }
            }
        }
        {
            let mut stmt = self.tx.prepare_cached(
                "SELECT vendor, product, cpe, versions FROM vuln_affected WHERE vuln = ?1 ORDER BY position",
            )?;
            let mut rows = stmt.query([&id])?;
            while let Some(r) = rows.next()? {
                let versions: String = r.get(3)?;
                v.affected.push(Affected {
                    vendor: r.get(0)?,
                    product: r.get(1)?,
                    cpe: r.get(2)?,
                    versions: serde_json::from_str(&versions)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                });
            }
        }
        {
            let mut stmt = self.tx.prepare_cached(
                "SELECT version, vector, base_score, severity, source, is_primary FROM vuln_cvss WHERE vuln = ?1 ORDER BY position",
            )?;
            let mut rows = stmt.query([&id])?;
            while let Some(r) = rows.next()? {
                let version: String = r.get(0)?;
                v.cvss.push(Cvss {
                    version: CvssVersion::parse(&version)
                        .ok_or_else(|| StoreError::Corrupt(format!("CVSS version {version:?}")))?,
                    vector: r.get(1)?,
                    base_score: r.get(2)?,
                    severity: r.get(3)?,
                    source: r.get(4)?,
                    primary: r.get(5)?,
                });
            }
        }
        {
            let mut stmt = self.tx.prepare_cached(
                "SELECT url, source, tags FROM vuln_references WHERE vuln = ?1 ORDER BY position",
            )?;
            let mut rows = stmt.query([&id])?;
            while let Some(r) = rows.next()? {
                let tags: String = r.get(2)?;
                v.references.push(Reference {
                    url: r.get(0)?,
                    source: r.get(1)?,
                    tags: serde_json::from_str(&tags)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                });
            }
        }
        v.configurations = self.configurations_impl(&id)?;
        Ok(Some(StoredVulnerability {
            vuln: v,
            source,
            origin,
            imported_at: parse_time(&imported_at)?,
        }))
    }

    /// A record's configurations, nodes and criteria in their published order.
    pub(crate) fn configurations_impl(&self, id: &str) -> Result<Vec<Configuration>> {
        let mut configurations: Vec<Configuration> = Vec::new();
        let mut stmt = self.tx.prepare_cached(
            "SELECT operator, negate FROM vuln_configurations WHERE vuln = ?1 ORDER BY config",
        )?;
        let mut rows = stmt.query([id])?;
        while let Some(r) = rows.next()? {
            configurations.push(Configuration {
                operator: op_parse(&r.get::<_, String>(0)?)?,
                negate: r.get(1)?,
                nodes: Vec::new(),
            });
        }
        let mut stmt = self.tx.prepare_cached(
            "SELECT config, operator, negate FROM vuln_nodes WHERE vuln = ?1 ORDER BY config, node",
        )?;
        let mut rows = stmt.query([id])?;
        while let Some(r) = rows.next()? {
            let c: i64 = r.get(0)?;
            let node = Node {
                operator: op_parse(&r.get::<_, String>(1)?)?,
                negate: r.get(2)?,
                matches: Vec::new(),
            };
            configurations
                .get_mut(c as usize)
                .ok_or_else(|| {
                    StoreError::Corrupt(format!("{id}: node of missing configuration {c}"))
                })?
                .nodes
                .push(node);
        }
        let mut stmt = self.tx.prepare_cached(
                "SELECT config, node, vulnerable, criteria, version_start_including, version_start_excluding,
                        version_end_including, version_end_excluding, match_criteria_id
                 FROM vuln_cpe_matches WHERE vuln = ?1 ORDER BY config, node, position",
            )?;
        let mut rows = stmt.query([id])?;
        while let Some(r) = rows.next()? {
            let (c, n): (i64, i64) = (r.get(0)?, r.get(1)?);
            let m = CpeMatch {
                vulnerable: r.get(2)?,
                criteria: r.get(3)?,
                version_start_including: r.get(4)?,
                version_start_excluding: r.get(5)?,
                version_end_including: r.get(6)?,
                version_end_excluding: r.get(7)?,
                match_criteria_id: r.get(8)?,
            };
            configurations
                .get_mut(c as usize)
                .and_then(|c| c.nodes.get_mut(n as usize))
                .ok_or_else(|| StoreError::Corrupt(format!("{id}: match of missing node {c}/{n}")))?
                .matches
                .push(m);
        }
        Ok(configurations)
    }

    fn query_strings(&self, sql: &str, id: &str) -> Result<Vec<String>> {
        let mut stmt = self.tx.prepare_cached(sql)?;
        let rows = stmt.query_map([id], |r| r.get(0))?;
        Ok(rows.collect::<Result<Vec<String>, _>>()?)
    }

    pub(crate) fn search_vulnerabilities_impl(
        &self,
        text: &str,
        lang: &str,
        limit: i64,
    ) -> Result<Vec<VulnSummary>> {
        let needle = text.trim();
        let upper = needle.to_ascii_uppercase();
        let ids: Vec<String> = if upper.starts_with("CVE-") || upper.starts_with("JVNDB-") {
            let mut stmt = self.tx.prepare_cached(
                "SELECT id FROM vulnerabilities WHERE id = ?1 UNION SELECT vuln FROM vuln_aliases WHERE alias = ?1 LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![upper, limit], |r| r.get(0))?;
            rows.collect::<Result<_, _>>()?
        } else {
            let mut pattern = String::from("%");
            for c in needle.chars() {
                if matches!(c, '%' | '_' | '\\') {
                    pattern.push('\\');
                }
                pattern.push(c);
            }
            pattern.push('%');
            let mut stmt = self.tx.prepare_cached(
                "SELECT DISTINCT t.vuln FROM vuln_texts t JOIN vulnerabilities v ON v.id = t.vuln
                 WHERE t.value LIKE ?1 ESCAPE '\\' ORDER BY v.published DESC LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![pattern, limit], |r| r.get(0))?;
            rows.collect::<Result<_, _>>()?
        };
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let Some(s) = self.vulnerability_impl(&id)? else {
                continue;
            };
            let v = s.vuln;
            let max_cvss = v
                .cvss
                .iter()
                .max_by(|a, b| {
                    (a.version, a.base_score)
                        .partial_cmp(&(b.version, b.base_score))
                        .unwrap_or(std::cmp::Ordering::Equal)
                })
                .map(|c| (c.version.as_str().to_string(), c.base_score));
            let mut kev = self.kev_impl(&v.id)?.is_some();
            for a in &v.aliases {
                kev |= self.kev_impl(a)?.is_some();
            }
            let text = v
                .title(lang)
                .or_else(|| v.description(lang))
                .map(str::to_string);
            out.push(VulnSummary {
                id: v.id,
                source: s.source,
                published: v.published,
                max_cvss,
                text,
                kev,
            });
        }
        Ok(out)
    }

    pub(crate) fn count_vulnerabilities_impl(&self) -> Result<Vec<(String, i64)>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT source, COUNT(*) FROM vulnerabilities GROUP BY source ORDER BY source",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub(crate) fn vulnerability_ids_since_impl(
        &self,
        since: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<Vec<(String, String)>> {
        // Two statements, sorted here: `?1 IS NULL OR imported_at > ?1`, or an ORDER BY id,
        // would have SQLite walk every record instead of the index on imported_at.
        let (sql, param) = match since {
            None => ("SELECT id, source FROM vulnerabilities ORDER BY id", None),
            Some(_) => (
                "SELECT id, source FROM vulnerabilities WHERE imported_at > ?1",
                ts(since),
            ),
        };
        let mut stmt = self.tx.prepare_cached(sql)?;
        let row = |r: &rusqlite::Row<'_>| Ok((r.get(0)?, r.get(1)?));
        let mut rows: Vec<(String, String)> = match param {
            None => stmt.query_map([], row)?.collect::<Result<_, _>>()?,
            Some(p) => stmt.query_map([p], row)?.collect::<Result<_, _>>()?,
        };
        rows.sort_unstable();
        Ok(rows)
    }

    pub(crate) fn advisory_ids_since_impl(
        &self,
        since: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<Vec<String>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT id FROM advisories WHERE ?1 IS NULL OR imported_at > ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([ts(since)], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub(crate) fn all_kev_impl(&self) -> Result<Vec<(KevEntry, String)>> {
        let ids: Vec<(String, String)> = {
            let mut stmt = self
                .tx
                .prepare_cached("SELECT cve_id, catalog_version FROM kev ORDER BY cve_id")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect::<Result<_, _>>()?
        };
        let mut out = Vec::with_capacity(ids.len());
        for (id, version) in ids {
            if let Some(e) = self.kev_impl(&id)? {
                out.push((e, version));
            }
        }
        Ok(out)
    }

    pub(crate) fn all_epss_impl(&self) -> Result<Vec<(String, StoredEpss)>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT cve_id, epss, percentile, score_date, model_version FROM epss ORDER BY cve_id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                StoredEpss {
                    score: EpssScore {
                        epss: r.get(1)?,
                        percentile: r.get(2)?,
                    },
                    score_date: r.get(3)?,
                    model_version: r.get(4)?,
                },
            ))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub(crate) fn upsert_kev_impl(
        &mut self,
        e: &KevEntry,
        catalog_version: &str,
    ) -> Result<Upsert> {
        let cwes = serde_json::to_string(&e.cwes).unwrap_or_else(|_| "[]".into());
        let existing = self.kev_impl(&e.cve_id)?;
        let outcome = match existing {
            None => Upsert::Added,
            Some(old) if old == *e => return Ok(Upsert::Unchanged),
            Some(_) => Upsert::Updated,
        };
        self.tx
            .prepare_cached(
                "INSERT INTO kev (cve_id, vendor_project, product, vulnerability_name, date_added, short_description,
                     required_action, due_date, known_ransomware, notes, cwes, catalog_version)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
                 ON CONFLICT (cve_id) DO UPDATE SET vendor_project = excluded.vendor_project, product = excluded.product,
                     vulnerability_name = excluded.vulnerability_name, date_added = excluded.date_added,
                     short_description = excluded.short_description, required_action = excluded.required_action,
                     due_date = excluded.due_date, known_ransomware = excluded.known_ransomware, notes = excluded.notes,
                     cwes = excluded.cwes, catalog_version = excluded.catalog_version",
            )?
            .execute(params![
                e.cve_id, e.vendor_project, e.product, e.vulnerability_name, e.date_added.to_string(),
                e.short_description, e.required_action, e.due_date.map(|d| d.to_string()), e.known_ransomware,
                e.notes, cwes, catalog_version
            ])?;
        Ok(outcome)
    }

    pub(crate) fn kev_impl(&self, cve_id: &str) -> Result<Option<KevEntry>> {
        let row = self
            .tx
            .prepare_cached(
                "SELECT cve_id, vendor_project, product, vulnerability_name, date_added, short_description,
                        required_action, due_date, known_ransomware, notes, cwes FROM kev WHERE cve_id = ?1",
            )?
            .query_row([cve_id], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, String>(6)?,
                    r.get::<_, Option<String>>(7)?,
                    r.get::<_, bool>(8)?,
                    r.get::<_, String>(9)?,
                    r.get::<_, String>(10)?,
                ))
            })
            .optional()?;
        let Some((
            cve_id,
            vendor_project,
            product,
            vulnerability_name,
            added,
            short_description,
            required_action,
            due,
            known_ransomware,
            notes,
            cwes,
        )) = row
        else {
            return Ok(None);
        };
        Ok(Some(KevEntry {
            cve_id,
            vendor_project,
            product,
            vulnerability_name,
            date_added: date_opt(Some(added))?.unwrap_or_default(),
            short_description,
            required_action,
            due_date: date_opt(due)?,
            known_ransomware,
            notes,
            cwes: serde_json::from_str(&cwes).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        }))
    }

    pub(crate) fn upsert_epss_impl(&mut self, cve_id: &str, s: &StoredEpss) -> Result<Upsert> {
        let existing = self.epss_impl(cve_id)?;
        let outcome = match &existing {
            None => Upsert::Added,
            Some(old) if old == s => return Ok(Upsert::Unchanged),
            Some(old)
                if old.score_date.is_some()
                    && s.score_date.is_some()
                    && old.score_date > s.score_date =>
            {
                return Ok(Upsert::Unchanged)
            }
            Some(_) => Upsert::Updated,
        };
        self.tx
            .prepare_cached(
                "INSERT INTO epss (cve_id, epss, percentile, score_date, model_version) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (cve_id) DO UPDATE SET epss = excluded.epss, percentile = excluded.percentile,
                     score_date = excluded.score_date, model_version = excluded.model_version",
            )?
            .execute(params![cve_id, s.score.epss, s.score.percentile, s.score_date, s.model_version])?;
        Ok(outcome)
    }

    pub(crate) fn epss_impl(&self, cve_id: &str) -> Result<Option<StoredEpss>> {
        Ok(self
            .tx
            .prepare_cached(
                "SELECT epss, percentile, score_date, model_version FROM epss WHERE cve_id = ?1",
            )?
            .query_row([cve_id], |r| {
                Ok(StoredEpss {
                    score: EpssScore {
                        epss: r.get(0)?,
                        percentile: r.get(1)?,
                    },
                    score_date: r.get(2)?,
                    model_version: r.get(3)?,
                })
            })
            .optional()?)
    }

    pub(crate) fn insert_feed_import_impl(&mut self, rec: &FeedImport) -> Result<i64> {
        let warnings = serde_json::to_string(&rec.warnings).unwrap_or_else(|_| "[]".into());
        self.tx.execute(
            "INSERT INTO feed_imports (source, origin, sha256, at, records, added, updated, unchanged, skipped, warnings)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![rec.source, rec.origin, rec.sha256, now_text(), rec.records, rec.added, rec.updated, rec.unchanged, rec.skipped, warnings],
        )?;
        Ok(self.tx.last_insert_rowid())
    }

    pub(crate) fn set_feed_state_impl(&mut self, source: &str, error: Option<&str>) -> Result<()> {
        let now = now_text();
        match error {
            None => self.tx.execute(
                "INSERT INTO feed_state (source, last_success) VALUES (?1, ?2)
                 ON CONFLICT (source) DO UPDATE SET last_success = excluded.last_success",
                params![source, now],
            )?,
            Some(e) => self.tx.execute(
                "INSERT INTO feed_state (source, last_error, last_error_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (source) DO UPDATE SET last_error = excluded.last_error, last_error_at = excluded.last_error_at",
                params![source, e, now],
            )?,
        };
        Ok(())
    }

    pub(crate) fn feed_status_impl(&self) -> Result<Vec<FeedStatus>> {
        let mut out: Vec<FeedStatus> = Vec::new();
        let mut stmt = self.tx.prepare_cached(
            "SELECT s.source, s.last_success, s.last_error, s.last_error_at,
                    (SELECT COALESCE(SUM(skipped), 0) FROM feed_imports i WHERE i.source = s.source)
             FROM feed_state s ORDER BY s.source",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let last_success: Option<String> = r.get(1)?;
            let last_error: Option<String> = r.get(2)?;
            let last_error_at: Option<String> = r.get(3)?;
            out.push(FeedStatus {
                source: r.get(0)?,
                records: 0,
                last_success: last_success.as_deref().map(parse_time).transpose()?,
                last_error: match (last_error_at, last_error) {
                    (Some(at), Some(e)) => Some((parse_time(&at)?, e)),
                    _ => None,
                },
                skipped: r.get(4)?,
            });
        }
        drop(rows);
        for s in &mut out {
            s.records = match s.source.as_str() {
                "kev" => self
                    .tx
                    .query_row("SELECT COUNT(*) FROM kev", [], |r| r.get(0))?,
                "epss" => self
                    .tx
                    .query_row("SELECT COUNT(*) FROM epss", [], |r| r.get(0))?,
                "csaf" => self
                    .tx
                    .query_row("SELECT COUNT(*) FROM advisories", [], |r| r.get(0))?,
                "alerts" => self
                    .tx
                    .query_row("SELECT COUNT(*) FROM alerts", [], |r| r.get(0))?,
                other => self.tx.query_row(
                    "SELECT COUNT(*) FROM vulnerabilities WHERE source = ?1",
                    [other],
                    |r| r.get(0),
                )?,
            };
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Store;

    fn vuln(modified: &str, score: f64) -> Vulnerability {
        let mut v = Vulnerability::new("CVE-2018-13379");
        v.modified = chrono::DateTime::parse_from_rfc3339(modified)
            .ok()
            .map(|d| d.with_timezone(&chrono::Utc));
        v.descriptions = vec![LangText {
            lang: "en".into(),
            value: "FortiOS SSL VPN path traversal".into(),
        }];
        v.cvss = vec![Cvss {
            version: CvssVersion::V31,
            vector: "CVSS:3.1/AV:N".into(),
            base_score: score,
            severity: Some("CRITICAL".into()),
            source: None,
            primary: true,
        }];
        v.cwes = vec!["CWE-22".into()];
        v.titles = vec![LangText {
            lang: "ja".into(),
            value: "FortiOS の SSL VPN におけるパストラバーサル".into(),
        }];
        v.impacts = vec![LangText {
            lang: "ja".into(),
            value: "情報を取得される可能性があります。".into(),
        }];
        v.solutions = vec![LangText {
            lang: "ja".into(),
            value: "[アップデートする]".into(),
        }];
        v.aliases = vec!["JVNDB-2019-000001".into()];
        v.affected = vec![Affected {
            vendor: Some("フォーティネット".into()),
            product: Some("FortiOS".into()),
            cpe: Some("cpe:/o:fortinet:fortios".into()),
            versions: vec!["6.0.0 から 6.0.4".into()],
        }];
        v.references = vec![Reference {
            url: "https://fortiguard.com/advisory/FG-IR-18-384".into(),
            source: None,
            tags: vec!["Vendor Advisory".into()],
        }];
        v.configurations = vec![Configuration {
            operator: Operator::And,
            negate: false,
            nodes: vec![
                Node {
                    operator: Operator::Or,
                    negate: false,
                    matches: vec![CpeMatch {
                        vulnerable: true,
                        criteria: "cpe:2.3:o:fortinet:fortios:*:*:*:*:*:*:*:*".into(),
                        version_start_including: Some("6.0.0".into()),
                        version_start_excluding: None,
                        version_end_including: Some("6.0.4".into()),
                        version_end_excluding: None,
                        match_criteria_id: None,
                    }],
                },
                Node {
                    operator: Operator::Or,
                    negate: true,
                    matches: vec![],
                },
            ],
        }];
        v
    }

    #[test]
    fn upserts_are_idempotent_and_newer_wins() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::create_sqlite(&dir.path().join("m.db")).unwrap();
        let mut tx = s.begin().unwrap();
        let old = vuln("2020-01-01T00:00:00Z", 9.8);
        assert_eq!(
            tx.upsert_vulnerability(&old, "nvd", "a.json").unwrap(),
            Upsert::Added
        );
        assert_eq!(
            tx.upsert_vulnerability(&old, "nvd", "a.json").unwrap(),
            Upsert::Unchanged
        );
        assert_eq!(
            tx.vulnerability("CVE-2018-13379").unwrap().unwrap().vuln,
            old,
            "round trip"
        );
        let newer = vuln("2024-06-27T19:21:52.953Z", 9.1);
        assert_eq!(
            tx.upsert_vulnerability(&newer, "nvd", "b.json").unwrap(),
            Upsert::Updated
        );
        assert_eq!(
            tx.upsert_vulnerability(&old, "nvd", "a.json").unwrap(),
            Upsert::Unchanged,
            "an older record never replaces a newer one"
        );
        let stored = tx.vulnerability("CVE-2018-13379").unwrap().unwrap();
        assert_eq!(
            (stored.vuln.cvss[0].base_score, stored.origin.as_str()),
            (9.1, "b.json")
        );
        let hits = tx.search_vulnerabilities("ssl vpn", "ja", 10).unwrap();
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].max_cvss, Some(("3.1".into(), 9.1)));
    }

    #[test]
    fn vendor_and_product_of_cpe_names() {
        assert_eq!(
            vendor_product("cpe:2.3:o:fortinet:fortios:6.0.4:*:*:*:*:*:*:*"),
            ("fortinet".into(), "fortios".into())
        );
        assert_eq!(
            vendor_product("cpe:/a:dendai.ac.jp:myjvn_api"),
            ("dendai.ac.jp".into(), "myjvn_api".into())
        );
        assert_eq!(
            vendor_product("cpe:2.3:a:foo\\:bar:baz:1"),
            ("foo:bar".into(), "baz".into())
        );
        assert_eq!(
            vendor_product("cpe:/o:microsoft"),
            ("microsoft".into(), "".into())
        );
    }
}
