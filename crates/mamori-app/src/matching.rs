//! Matching the ledger against the vulnerability store, and keeping findings.
//!
//! [`App::run_match`] reads every device's components (the ledger's CPE column — a CPE
//! without a version takes the バージョン column — and SBOM components), looks up the records
//! whose criteria name the same vendor and product, evaluates their NVD configurations
//! ([`mamori_matching::applicability`]) and JVN affected-product entries, merges what
//! supports the same vulnerability (a JVNDB entry and its CVE are one finding), scores each
//! ([`mamori_matching::priority`]) and writes the difference to the store:
//! new findings are opened, findings no longer supported are resolved with the reason
//! (an update to a fixed version says from which version to which), findings found again
//! are reopened. Incremental runs evaluate only devices changed and records imported since
//! the last run; scores are refreshed for all open findings every run (KEV and EPSS change
//! daily).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::Instant;

use chrono::{DateTime, Utc};
use mamori_core::{Asset, AssetStatus, Labelled};
use mamori_matching::applicability::{compile, evaluate, CompiledConfig, Doubt, Target, Truth};
use mamori_matching::priority::{self, Inputs};
use mamori_matching::version::{self, Scheme};
use mamori_matching::Wfn;
use mamori_store::{AssetFilter, Finding, Tx};
use serde::Serialize;
use serde_json::json;

use crate::{audit, App, Result};

const WATERMARK: &str = "match.watermark";

/// One component as matched.
#[derive(Debug, Clone)]
struct Component {
    key: String,
    display: String,
    cpe: String,
    version: Option<String>,
    source: &'static str,
    target: Target,
}

/// A component that could not be used, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Skipped {
    /// 管理番号.
    pub asset_id: String,
    /// Where: `CPE column`, `SBOM component …`.
    pub place: String,
    /// The text.
    pub value: String,
    /// Why.
    pub reason: String,
}

/// What a match run did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MatchReport {
    /// `full` or `incremental`.
    pub mode: String,
    /// Devices evaluated.
    pub assets: usize,
    /// Components evaluated.
    pub components: usize,
    /// Devices with software or an OS but no CPE: run `mamori ledger cpe suggest`.
    pub assets_without_cpe: Vec<String>,
    /// Components left out (bad CPE).
    pub skipped: Vec<Skipped>,
    /// Records evaluated.
    pub records: usize,
    /// Findings opened.
    pub opened: usize,
    /// Findings reopened.
    pub reopened: usize,
    /// Findings resolved.
    pub resolved: usize,
    /// Findings still open, updated.
    pub confirmed: usize,
    /// Open findings now.
    pub open: usize,
    /// Seconds taken.
    pub seconds: f64,
}

#[derive(Debug, Clone)]
struct Candidate {
    truth: Truth,
    confidence: &'static str,
    sources: BTreeSet<String>,
    evidence: Vec<serde_json::Value>,
    doubt: Option<String>,
}

/// The ledger's and SBOMs' components of one device.
fn components_of(
    asset: &Asset,
    sbom: &[&mamori_store::StoredComponent],
    skipped: &mut Vec<Skipped>,
) -> Vec<Component> {
    let mut out = Vec::new();
    for cpe in &asset.cpe {
        match Wfn::parse(cpe) {
            Ok(w) => out.push(component(
                w,
                cpe,
                asset.os_version.as_deref(),
                "ledger",
                Scheme::Generic,
            )),
            Err(e) => skipped.push(Skipped {
                asset_id: asset.asset_id.clone(),
                place: "CPE".into(),
                value: cpe.clone(),
                reason: e.to_string(),
            }),
        }
    }
    for c in sbom {
        let Some(cpe) = &c.cpe else { continue };
        let scheme = match c.purl.as_deref() {
            Some(p) if p.starts_with("pkg:deb/") => Scheme::Debian,
            Some(p) if p.starts_with("pkg:rpm/") => Scheme::Rpm,
            _ => Scheme::Generic,
        };
        match Wfn::parse(cpe) {
            Ok(w) => out.push(component(w, cpe, c.version.as_deref(), "sbom", scheme)),
            Err(e) => skipped.push(Skipped {
                asset_id: asset.asset_id.clone(),
                place: format!("SBOM component {}", c.name),
                value: cpe.clone(),
                reason: e.to_string(),
            }),
        }
    }
    out
}

/// A component from a parsed CPE; a CPE without a version takes `version` (the バージョン
/// column for the ledger, the component's version for an SBOM).
fn component(
    mut w: Wfn,
    cpe: &str,
    version: Option<&str>,
    source: &'static str,
    scheme: Scheme,
) -> Component {
    let mut shown = None;
    if matches!(w.values[3], mamori_matching::Value::Any) {
        if let Some(v) = version.map(str::trim).filter(|v| !v.is_empty()) {
            w = w.with_version(v);
            shown = Some(v.to_string());
        }
    }
    let target = Target::new(w, scheme);
    let (part, vendor, product) = target.wfn.part_vendor_product();
    Component {
        key: format!("{part}:{vendor}:{product}"),
        display: match shown.as_ref().or(target.version.as_ref()) {
            Some(v) => format!("{product} {v}"),
            None => product.clone(),
        },
        cpe: cpe.to_string(),
        version: target.version.clone(),
        source,
        target,
    }
}

/// Whether the match evaluates everything or only what changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchMode {
    /// Every device against every record.
    Full,
    /// Devices changed and records imported since the last run (full when there was none).
    Incremental,
}

impl App {
    /// Matches the ledger against the store and updates findings (see the module docs).
    pub fn run_match(&mut self, mode: MatchMode) -> Result<MatchReport> {
        let started = Instant::now();
        let now = Utc::now();
        let actor = self.actor.clone();
        let mut tx = self.store.begin()?;
        let watermark: Option<DateTime<Utc>> = match mode {
            MatchMode::Full => None,
            MatchMode::Incremental => tx
                .setting(WATERMARK)?
                .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
                .map(|t| t.with_timezone(&Utc)),
        };
        let mut report = MatchReport {
            mode: if watermark.is_some() {
                "incremental"
            } else {
                "full"
            }
            .into(),
            ..MatchReport::default()
        };

        // Devices and their components.
        let stored = tx.assets(&AssetFilter::default())?;
        let sbom = tx.components("sbom")?;
        let mut sbom_by_asset: HashMap<i64, Vec<&mamori_store::StoredComponent>> = HashMap::new();
        for c in &sbom {
            sbom_by_asset.entry(c.asset).or_default().push(c);
        }
        let mut devices: HashMap<i64, (&Asset, Vec<Component>)> = HashMap::new();
        let mut changed_assets: HashSet<i64> = HashSet::new();
        for s in &stored {
            if s.asset.status == AssetStatus::Retired {
                continue;
            }
            let sb = sbom_by_asset.get(&s.id).map(Vec::as_slice).unwrap_or(&[]);
            let comps = components_of(&s.asset, sb, &mut report.skipped);
            if comps.is_empty() && (s.asset.os.is_some() || !s.asset.software.is_empty()) {
                report.assets_without_cpe.push(s.asset.asset_id.clone());
            }
            if watermark.is_none_or(|w| s.updated_at > w) {
                changed_assets.insert(s.id);
            }
            report.components += comps.len();
            devices.insert(s.id, (&s.asset, comps));
        }
        report.assets = devices.len();
        // Each device's targets, built once and evaluated against every candidate record.
        let targets: HashMap<i64, Vec<Target>> = devices
            .iter()
            .map(|(id, (_, comps))| (*id, comps.iter().map(|c| c.target.clone()).collect()))
            .collect();

        // Records to evaluate per device: those naming one of its products.
        let changed_vulns: Option<HashSet<String>> = match watermark {
            None => None,
            Some(w) => Some(
                tx.vulnerability_ids_since(Some(w))?
                    .into_iter()
                    .map(|(id, _)| id)
                    .collect(),
            ),
        };
        let mut by_product: HashMap<(String, String), Vec<i64>> = HashMap::new();
        for (id, (_, comps)) in &devices {
            for c in comps {
                let (_, v, p) = c.target.wfn.part_vendor_product();
                let list = by_product.entry((v, p)).or_default();
                if list.last() != Some(id) {
                    list.push(*id);
                }
            }
        }
        let mut work: HashMap<String, BTreeSet<i64>> = HashMap::new();
        for ((vendor, product), ids) in &by_product {
            for vuln in tx.vulns_naming(vendor, product)? {
                let vuln_changed = changed_vulns.as_ref().is_none_or(|c| c.contains(&vuln));
                let entry = work.entry(vuln).or_default();
                for id in ids {
                    if vuln_changed || changed_assets.contains(id) {
                        entry.insert(*id);
                    }
                }
            }
        }
        work.retain(|_, ids| !ids.is_empty());
        report.records = work.len();

        // Evaluate.
        let mut facts_cache: HashMap<String, Option<mamori_store::VulnFacts>> = HashMap::new();
        let mut found: HashMap<(i64, String, String), (Candidate, usize)> = HashMap::new();
        let mut vulns: Vec<&String> = work.keys().collect();
        vulns.sort();
        for vuln in vulns {
            let configs: Vec<CompiledConfig> = compile(&tx.vuln_configurations(vuln)?);
            let facts = facts(&mut *tx, &mut facts_cache, vuln)?;
            let (canonical, label) = canonical(vuln, facts.as_ref());
            for id in &work[vuln] {
                let (_, comps) = &devices[id];
                let Some(outcome) = evaluate(&configs, &targets[id]) else {
                    continue;
                };
                for (ti, truth, doubt) in outcome.affected() {
                    let hits: Vec<serde_json::Value> = outcome
                        .hits
                        .iter()
                        .filter(|h| h.target == ti || !h.vulnerable)
                        .map(|h| {
                            let m =
                                &configs[h.config].nodes[h.node].criteria[h.criterion].published;
                            json!({
                                "source": label,
                                "criteria": m.criteria,
                                "vulnerable": m.vulnerable,
                                "version_start_including": m.version_start_including,
                                "version_start_excluding": m.version_start_excluding,
                                "version_end_including": m.version_end_including,
                                "version_end_excluding": m.version_end_excluding,
                                "component": comps.get(h.target).map(|c| c.cpe.clone()),
                                "truth": truth_code(h.truth),
                                "doubt": h.doubt.map(Doubt::code),
                            })
                        })
                        .collect();
                    let c = &comps[ti];
                    let confidence = if truth == Truth::Yes { "high" } else { "low" };
                    merge(
                        &mut found,
                        (*id, c.key.clone(), canonical.clone()),
                        ti,
                        Candidate {
                            truth,
                            confidence,
                            sources: [label.clone()].into(),
                            evidence: hits,
                            doubt: doubt.map(Doubt::code),
                        },
                    );
                }
            }
        }

        // JVN (and other) affected-product entries, by CPE vendor and product.
        for (vuln, affected) in tx.affected_with_cpe()? {
            let Some(cpe) = &affected.cpe else { continue };
            let Ok(w) = Wfn::parse(cpe) else { continue };
            // The entry names a product; its versions are read from the text below.
            let name_only = w.with_any_version();
            let (_, v, p) = w.part_vendor_product();
            let Some(ids) = by_product.get(&(v, p)) else {
                continue;
            };
            let vuln_changed = changed_vulns.as_ref().is_none_or(|c| c.contains(&vuln));
            let facts = facts(&mut *tx, &mut facts_cache, &vuln)?;
            let (canonical, label) = canonical(&vuln, facts.as_ref());
            for id in ids {
                if !vuln_changed && !changed_assets.contains(id) {
                    continue;
                }
                let (_, comps) = &devices[id];
                for (ti, c) in comps.iter().enumerate() {
                    if !name_only.matches(&c.target.wfn) {
                        continue;
                    }
                    let (truth, confidence, doubt) = jvn_truth(&affected.versions, c);
                    if truth == Truth::No {
                        continue;
                    }
                    merge(
                        &mut found,
                        (*id, c.key.clone(), canonical.clone()),
                        ti,
                        Candidate {
                            truth,
                            confidence,
                            sources: [label.clone()].into(),
                            evidence: vec![json!({
                                "source": label,
                                "cpe": cpe,
                                "product": affected.product,
                                "versions": affected.versions,
                                "component": c.cpe,
                                "truth": truth_code(truth),
                                "doubt": doubt,
                            })],
                            doubt: doubt.map(str::to_string),
                        },
                    );
                }
            }
        }

        // Write the difference.
        let kev: HashMap<String, bool> = tx
            .all_kev()?
            .into_iter()
            .map(|(k, _)| (k.cve_id, k.known_ransomware))
            .collect();
        let epss: HashMap<String, f64> = tx
            .all_epss()?
            .into_iter()
            .map(|(id, s)| (id, s.score.epss))
            .collect();
        let existing = tx.findings(None)?;
        let today = now.date_naive();
        for mut f in existing {
            let key = (f.asset, f.component_key.clone(), f.vuln.clone());
            let in_scope = devices.contains_key(&f.asset)
                && (changed_assets.contains(&f.asset)
                    || changed_vulns.as_ref().is_none_or(|c| {
                        c.contains(&f.vuln)
                            || f.sources.iter().any(|s| {
                                // A source is "NVD CVE-…" / "JVN JVNDB-…": its last word is the id.
                                s.split_whitespace().last().is_some_and(|id| c.contains(id))
                            })
                    }));
            let retired = !devices.contains_key(&f.asset);
            if let Some((cand, ti)) = found.remove(&key) {
                let (asset, comps) = &devices[&f.asset];
                let c = &comps[ti];
                let was_open = f.status == "open";
                apply(
                    &mut f,
                    &cand,
                    c,
                    asset,
                    &kev,
                    &epss,
                    &mut *tx,
                    &mut facts_cache,
                    today,
                )?;
                f.last_seen = now;
                if !was_open {
                    f.status = "open".into();
                    f.resolved_at = None;
                    f.reason = Some("found again by matching".into());
                    report.reopened += 1;
                } else {
                    report.confirmed += 1;
                }
                tx.save_finding(&f)?;
            } else if f.status == "open" && (in_scope || retired) {
                f.status = "resolved".into();
                f.resolved_at = Some(now);
                f.reason = Some(resolution_reason(
                    &f,
                    devices.get(&f.asset).map(|d| &d.1),
                    retired,
                ));
                report.resolved += 1;
                tx.save_finding(&f)?;
            } else if f.status == "open" {
                // Not re-evaluated: refresh its score (KEV/EPSS may have changed).
                if let Some((asset, _)) = devices.get(&f.asset) {
                    let cvss = f.evidence.get("cvss").and_then(|v| v.as_f64());
                    let p = score(&f.vuln, cvss, asset, &kev, &epss, today);
                    if p.score != f.score || p.level.code() != f.level {
                        f.score = p.score;
                        f.level = p.level.code().into();
                        f.kev = kev.contains_key(&f.vuln);
                        f.evidence["priority"] = json!(p);
                        tx.save_finding(&f)?;
                    }
                }
            }
            if f.status == "open" {
                report.open += 1;
            }
        }
        let mut new: Vec<_> = found.into_iter().collect();
        new.sort_by(|a, b| a.0.cmp(&b.0));
        for ((asset_pk, key, vuln), (cand, ti)) in new {
            let (asset, comps) = &devices[&asset_pk];
            let c = &comps[ti];
            let mut f = Finding {
                id: 0,
                asset: asset_pk,
                asset_id: asset.asset_id.clone(),
                asset_name: asset.name.clone(),
                department: asset.department.clone(),
                component_key: key,
                component: String::new(),
                version: None,
                cpe: None,
                source: String::new(),
                vuln,
                status: "open".into(),
                confidence: String::new(),
                score: 0.0,
                level: String::new(),
                kev: false,
                sources: Vec::new(),
                evidence: json!({}),
                reason: None,
                first_seen: now,
                last_seen: now,
                resolved_at: None,
            };
            apply(
                &mut f,
                &cand,
                c,
                asset,
                &kev,
                &epss,
                &mut *tx,
                &mut facts_cache,
                today,
            )?;
            tx.save_finding(&f)?;
            report.opened += 1;
        }
        report.open += report.opened;
        tx.set_setting(WATERMARK, &now.to_rfc3339())?;
        report.seconds = started.elapsed().as_secs_f64();
        audit(
            &mut *tx,
            &actor,
            "match",
            None,
            json!({
                "mode": report.mode,
                "assets": report.assets,
                "records": report.records,
                "opened": report.opened,
                "reopened": report.reopened,
                "resolved": report.resolved,
                "open": report.open,
            }),
        )?;
        tx.commit()?;
        Ok(report)
    }
}

fn truth_code(t: Truth) -> &'static str {
    match t {
        Truth::Yes => "yes",
        Truth::Unknown => "unknown",
        Truth::No => "no",
    }
}

fn facts(
    tx: &mut dyn Tx,
    cache: &mut HashMap<String, Option<mamori_store::VulnFacts>>,
    id: &str,
) -> Result<Option<mamori_store::VulnFacts>> {
    if let Some(f) = cache.get(id) {
        return Ok(f.clone());
    }
    let f = tx.vuln_facts(id)?;
    cache.insert(id.to_string(), f.clone());
    Ok(f)
}

/// The id a finding is kept under (a CVE when the record has one) and the source label.
fn canonical(id: &str, facts: Option<&mamori_store::VulnFacts>) -> (String, String) {
    let source = facts
        .map(|f| f.source.to_ascii_uppercase())
        .unwrap_or_default();
    let label = format!("{source} {id}").trim().to_string();
    if id.starts_with("CVE-") {
        return (id.to_string(), label);
    }
    let cve = facts.and_then(|f| f.aliases.iter().find(|a| a.starts_with("CVE-")).cloned());
    (cve.unwrap_or_else(|| id.to_string()), label)
}

/// A JVN-style affected entry's versions against a component.
fn jvn_truth(versions: &[String], c: &Component) -> (Truth, &'static str, Option<&'static str>) {
    let Some(v) = &c.version else {
        return (Truth::Unknown, "low", Some("version_missing"));
    };
    let parsed: Vec<version::Bounds> = versions
        .iter()
        .filter_map(|t| version::parse_affected(t))
        .collect();
    if parsed.is_empty() {
        return (Truth::Unknown, "low", Some("no_version_data"));
    }
    let mut best = Truth::No;
    for b in parsed {
        match b.contains(v, c.target.scheme) {
            Some(true) => return (Truth::Yes, "medium", None),
            None => best = Truth::Unknown,
            Some(false) => {}
        }
    }
    if best == Truth::Unknown {
        (Truth::Unknown, "low", Some("version_incomparable"))
    } else {
        (Truth::No, "low", None)
    }
}

fn rank(confidence: &str) -> u8 {
    match confidence {
        "high" => 2,
        "medium" => 1,
        _ => 0,
    }
}

fn merge(
    found: &mut HashMap<(i64, String, String), (Candidate, usize)>,
    key: (i64, String, String),
    target: usize,
    cand: Candidate,
) {
    match found.get_mut(&key) {
        None => {
            found.insert(key, (cand, target));
        }
        Some((e, t)) => {
            e.sources.extend(cand.sources);
            e.evidence.extend(cand.evidence);
            if (cand.truth, rank(cand.confidence)) > (e.truth, rank(e.confidence)) {
                e.truth = cand.truth;
                e.confidence = cand.confidence;
                e.doubt = cand.doubt;
                *t = target;
            }
        }
    }
}

fn score(
    vuln: &str,
    cvss: Option<f64>,
    asset: &Asset,
    kev: &HashMap<String, bool>,
    epss: &HashMap<String, f64>,
    today: chrono::NaiveDate,
) -> priority::Priority {
    priority::score(&Inputs {
        cvss,
        kev: kev.contains_key(vuln),
        ransomware: kev.get(vuln).copied().unwrap_or(false),
        epss: epss.get(vuln).copied(),
        exposed: asset.external_access == Some(true) || asset.remote_maintenance == Some(true),
        criticality: asset.criticality.map(|c| c.code().to_string()),
        patient_data: asset.patient_data == Some(true),
        past_eos: asset.is_past_eos(today),
    })
}

#[allow(clippy::too_many_arguments)]
fn apply(
    f: &mut Finding,
    cand: &Candidate,
    c: &Component,
    asset: &Asset,
    kev: &HashMap<String, bool>,
    epss: &HashMap<String, f64>,
    tx: &mut dyn Tx,
    cache: &mut HashMap<String, Option<mamori_store::VulnFacts>>,
    today: chrono::NaiveDate,
) -> Result<()> {
    // CVSS of the canonical record, else of any supporting record.
    let own = facts(tx, cache, &f.vuln)?;
    let mut cvss = own.as_ref().and_then(|x| x.max_cvss);
    let mut title = own.and_then(|x| x.title);
    for s in &cand.sources {
        if let Some(id) = s.split_whitespace().last() {
            if let Some(x) = facts(tx, cache, id)? {
                cvss = cvss.or(x.max_cvss);
                title = title.or(x.title);
            }
        }
    }
    let p = score(&f.vuln, cvss, asset, kev, epss, today);
    f.component = c.display.clone();
    f.version = c.version.clone();
    f.cpe = Some(c.cpe.clone());
    f.source = c.source.into();
    f.confidence = cand.confidence.into();
    f.score = p.score;
    f.level = p.level.code().into();
    f.kev = kev.contains_key(&f.vuln);
    f.sources = cand.sources.iter().cloned().collect();
    f.evidence = json!({
        "truth": truth_code(cand.truth),
        "doubt": cand.doubt,
        "cvss": cvss,
        "title": title,
        "matched": cand.evidence,
        "priority": p,
    });
    Ok(())
}

fn resolution_reason(f: &Finding, comps: Option<&Vec<Component>>, retired: bool) -> String {
    if retired {
        return "device retired (廃棄済)".into();
    }
    match comps.and_then(|cs| cs.iter().find(|c| c.key == f.component_key)) {
        Some(c) if c.version != f.version => format!(
            "updated from {} to {}: outside the affected versions (更新により解消)",
            f.version.as_deref().unwrap_or("?"),
            c.version.as_deref().unwrap_or("?")
        ),
        Some(_) => "the records no longer name this version (記録の更新により解消)".into(),
        None => "component no longer recorded on the device".into(),
    }
}
