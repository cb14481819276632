//! Looking vulnerabilities up for people: one record with everything known about it (its
//! JVN iPedia text, KEV, EPSS, advisories, alerts) and the devices it is found on, and the
//! search over ids, aliases and texts. The command line and the web show the same answer.

use mamori_core::access::Permission;
use mamori_core::vuln::{Advisory, Alert, KevEntry, Vulnerability};
use mamori_store::{Finding, StoredEpss, StoredVulnerability, VulnSummary};

use crate::{App, Result};

/// Everything known about one vulnerability record.
#[derive(Debug, Clone)]
pub struct VulnDetail {
    /// The record.
    pub stored: StoredVulnerability,
    /// JVN iPedia records naming it (when it is not one itself).
    pub jvn_ids: Vec<String>,
    /// The first of those: its Japanese text comes first for Japanese readers.
    pub jvn: Option<Vulnerability>,
    /// Vendor advisories naming it: (id, title).
    pub advisories: Vec<(String, String)>,
    /// IPA / JPCERT/CC alerts naming it or an alias.
    pub alerts: Vec<Alert>,
    /// Its CISA KEV entry.
    pub kev: Option<KevEntry>,
    /// Its EPSS score.
    pub epss: Option<StoredEpss>,
    /// Its open findings, i.e. the devices it is found on.
    pub findings: Vec<Finding>,
}

impl VulnDetail {
    /// The title to show: in Japanese, JVN's when the record has no Japanese one.
    pub fn title(&self, lang: mamori_core::Lang) -> Option<String> {
        let v = &self.stored.vuln;
        let jvn = self.jvn.as_ref().and_then(|j| j.title("ja"));
        ja_first(v, lang, v.title(lang.code()), jvn)
    }

    /// The description to show, by the same rule.
    pub fn description(&self, lang: mamori_core::Lang) -> Option<String> {
        let v = &self.stored.vuln;
        let jvn = self.jvn.as_ref().and_then(|j| j.description("ja"));
        ja_first(v, lang, v.description(lang.code()), jvn)
    }

    /// Whether the description shown in Japanese came from JVN iPedia (so the English
    /// original is worth showing too).
    pub fn translated(&self, lang: mamori_core::Lang) -> bool {
        lang == mamori_core::Lang::Ja
            && self
                .jvn
                .as_ref()
                .and_then(|j| j.description("ja"))
                .is_some()
            && self.stored.vuln.descriptions.iter().all(|d| d.lang != "ja")
    }
}

fn ja_first(
    v: &Vulnerability,
    lang: mamori_core::Lang,
    own: Option<&str>,
    from_jvn: Option<&str>,
) -> Option<String> {
    match (lang, own, from_jvn) {
        (mamori_core::Lang::Ja, _, Some(j)) if v.descriptions.iter().all(|d| d.lang != "ja") => {
            Some(j.to_string())
        }
        (_, Some(o), _) => Some(o.to_string()),
        (_, None, j) => j.map(str::to_string),
    }
}

/// What an id names.
#[derive(Debug, Clone)]
pub enum Lookup {
    /// A vulnerability record (by id or alias).
    Vuln(Box<VulnDetail>),
    /// A vendor advisory (by tracking id), with the file it came from.
    Advisory(Box<Advisory>, String),
    /// Nothing stored.
    Missing,
}

impl App {
    /// Looks `id` up: a CVE, JVNDB or other record id, an alias, or an advisory's id.
    pub fn lookup_vulnerability(&mut self, id: &str) -> Result<Lookup> {
        self.require(Permission::View)?;
        let wanted = id.trim().to_ascii_uppercase();
        let tx = self.store.begin_read()?;
        let stored = match tx.vulnerability(&wanted)? {
            Some(s) => s,
            None => {
                let by_alias = tx.vulnerabilities_by_alias(&wanted)?;
                match by_alias.first() {
                    Some(a) => match tx.vulnerability(a)? {
                        Some(s) => s,
                        None => return Ok(Lookup::Missing),
                    },
                    None => {
                        return Ok(match tx.advisory(&wanted)? {
                            Some((a, origin)) => Lookup::Advisory(Box::new(a), origin),
                            None => Lookup::Missing,
                        })
                    }
                }
            }
        };
        let v = &stored.vuln;
        let jvn_ids = if stored.source == "jvn" {
            Vec::new()
        } else {
            tx.vulnerabilities_by_alias(&v.id)?
        };
        let jvn = match jvn_ids.first() {
            Some(id) => tx.vulnerability(id)?.map(|s| s.vuln),
            None => None,
        };
        let advisories = tx.advisories_for_cve(&v.id)?;
        let mut alerts = tx.alerts_for_cve(&v.id)?;
        for alias in &v.aliases {
            alerts.extend(tx.alerts_for_cve(alias)?);
        }
        let ids: Vec<&String> = std::iter::once(&v.id).chain(&v.aliases).collect();
        let mut kev = None;
        let mut epss = None;
        for i in &ids {
            if kev.is_none() {
                kev = tx.kev(i)?;
            }
            if epss.is_none() {
                epss = tx.epss(i)?;
            }
        }
        let heads = tx.finding_heads(
            None,
            Some(&ids.iter().map(|s| s.to_string()).collect::<Vec<_>>()),
        )?;
        let mut findings = Vec::new();
        for h in heads.iter().filter(|h| h.status == "open").take(500) {
            if let Some(f) = tx.finding(h.id)? {
                findings.push(f);
            }
        }
        Ok(Lookup::Vuln(Box::new(VulnDetail {
            stored,
            jvn_ids,
            jvn,
            advisories,
            alerts,
            kev,
            epss,
            findings,
        })))
    }

    /// Searches ids, aliases and texts (`lang` picks the text returned).
    pub fn search_vulnerabilities(
        &mut self,
        text: &str,
        lang: mamori_core::Lang,
        limit: i64,
    ) -> Result<Vec<VulnSummary>> {
        self.require(Permission::View)?;
        Ok(self
            .store
            .begin_read()?
            .search_vulnerabilities(text, lang.code(), limit)?)
    }
}

impl App {
    /// Each feed source's record count, last success and last error.
    pub fn feed_status(&mut self) -> Result<Vec<mamori_store::FeedStatus>> {
        self.require(Permission::View)?;
        Ok(self.store.begin_read()?.feed_status()?)
    }
}
