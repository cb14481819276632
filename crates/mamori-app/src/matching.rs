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

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::rc::Rc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use mamori_core::{Asset, AssetStatus, Labelled};
use mamori_matching::applicability::{
    compile, evaluate, CompiledConfig, Criterion, Doubt, Target, Truth,
};
use mamori_matching::priority::{self, Inputs};
use mamori_matching::version::{self, Scheme};
use mamori_matching::Wfn;
use mamori_store::{AssetFilter, Finding, FindingHead, Tx};

pub use crate::findings::Resolution;
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

/// Components already built, by CPE, version, origin and scheme: 2,000 PCs with the same
/// software share one parsed component each.
type ComponentCache = HashMap<(String, Option<String>, &'static str, Scheme), Rc<Component>>;

/// The ledger's and SBOMs' components of one device.
fn components_of(
    asset: &Asset,
    sbom: &[&mamori_store::StoredComponent],
    cache: &mut ComponentCache,
    skipped: &mut Vec<Skipped>,
) -> Vec<Rc<Component>> {
    let mut out = Vec::new();
    let mut add = |cpe: &str,
                   version: Option<&str>,
                   source: &'static str,
                   scheme: Scheme,
                   place: &dyn Fn() -> String| {
        let key = (cpe.to_string(), version.map(str::to_string), source, scheme);
        if let Some(c) = cache.get(&key) {
            out.push(c.clone());
            return;
        }
        match Wfn::parse(cpe) {
            Ok(w) => {
                let c = Rc::new(component(w, cpe, version, source, scheme));
                cache.insert(key, c.clone());
                out.push(c);
            }
            Err(e) => skipped.push(Skipped {
                asset_id: asset.asset_id.clone(),
                place: place(),
                value: cpe.to_string(),
                reason: e.to_string(),
            }),
        }
    };
    for cpe in &asset.cpe {
        add(
            cpe,
            asset.os_version.as_deref(),
            "ledger",
            Scheme::Generic,
            &|| "CPE".into(),
        );
    }
    for c in sbom {
        let Some(cpe) = &c.cpe else { continue };
        let scheme = match c.purl.as_deref() {
            Some(p) if p.starts_with("pkg:deb/") => Scheme::Debian,
            Some(p) if p.starts_with("pkg:rpm/") => Scheme::Rpm,
            _ => Scheme::Generic,
        };
        add(cpe, c.version.as_deref(), "sbom", scheme, &|| {
            format!("SBOM component {}", c.name)
        });
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

/// One device as matched.
struct Device<'a> {
    pk: i64,
    asset: &'a Asset,
    comps: Vec<Rc<Component>>,
    /// Changed since the last run (always, in a full run).
    changed: bool,
    retired: bool,
}

/// The distinct targets of all devices: a product on 2,000 PCs is tested once per criterion.
#[derive(Default)]
struct Targets {
    index: HashMap<(String, Scheme), usize>,
    list: Vec<Target>,
    /// (device, component) holding each target.
    holders: Vec<Vec<(usize, usize)>>,
    /// Targets per (vendor, product).
    by_product: HashMap<(String, String), Vec<usize>>,
}

impl Targets {
    fn add(&mut self, device: usize, comp: usize, t: &Target) {
        let key = (t.wfn.to_fs(), t.scheme);
        if let Some(&id) = self.index.get(&key) {
            self.holders[id].push((device, comp));
            return;
        }
        let id = match self.index.get(&key) {
            Some(&id) => id,
            None => {
                let id = self.list.len();
                self.index.insert(key, id);
                self.list.push(t.clone());
                self.holders.push(Vec::new());
                let (_, v, p) = t.wfn.part_vendor_product();
                self.by_product.entry((v, p)).or_default().push(id);
                id
            }
        };
        self.holders[id].push((device, comp));
    }
}

/// Criteria already tested, by their text and bounds: replicated and repeated criteria
/// (the same range in many records) are tested once.
type Memo = HashMap<String, Vec<usize>>;

fn memo_key(m: &mamori_core::vuln::CpeMatch) -> String {
    let b = |o: &Option<String>| o.as_deref().unwrap_or("").to_string();
    format!(
        "{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}",
        m.criteria,
        b(&m.version_start_including),
        b(&m.version_start_excluding),
        b(&m.version_end_including),
        b(&m.version_end_excluding)
    )
}

/// The targets among `candidates` a vulnerable criterion holds (or may hold) for.
fn criterion_hits(
    memo: &mut Memo,
    m: &mamori_core::vuln::CpeMatch,
    candidates: &[usize],
    targets: &[Target],
) -> Vec<usize> {
    memo.entry(memo_key(m))
        .or_insert_with(|| {
            let c = Criterion::new(m.clone());
            candidates
                .iter()
                .copied()
                .filter(|&t| c.test(&targets[t]).0 > Truth::No)
                .collect()
        })
        .clone()
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

        // What changed: devices, and records (with the records sharing their CVE, since one
        // finding merges them).
        let mut facts_cache: HashMap<String, Option<mamori_store::VulnFacts>> = HashMap::new();
        let (changed_assets, changed_vulns): (Option<HashSet<i64>>, Option<HashSet<String>>) =
            match watermark {
                None => (None, None),
                Some(w) => {
                    let assets: HashSet<i64> = tx.assets_changed_since(w)?.into_iter().collect();
                    let mut vulns: HashSet<String> = HashSet::new();
                    for (id, _) in tx.vulnerability_ids_since(Some(w))? {
                        let f = facts(&mut *tx, &mut facts_cache, &id)?;
                        let (canonical, _) = canonical(&id, f.as_ref());
                        if canonical != id {
                            vulns.extend(tx.vulnerabilities_by_alias(&canonical)?);
                        }
                        vulns.extend(tx.vulnerabilities_by_alias(&id)?);
                        vulns.insert(canonical);
                        vulns.insert(id);
                    }
                    (Some(assets), Some(vulns))
                }
            };
        let is_changed_vuln = |v: &str| changed_vulns.as_ref().is_none_or(|c| c.contains(v));

        // Devices to load: all (full), or those changed and those holding a changed record's
        // products (incremental).
        let load: Option<Vec<i64>> = match (&changed_assets, &changed_vulns) {
            (Some(a), Some(v)) => {
                let mut list: Vec<String> = v.iter().cloned().collect();
                list.sort();
                let products = tx.products_of(&list)?;
                let mut ids: BTreeSet<i64> =
                    tx.assets_with_products(&products)?.into_iter().collect();
                ids.extend(a.iter().copied());
                Some(ids.into_iter().collect())
            }
            _ => None,
        };
        let stored = tx.assets(&AssetFilter {
            ids: load.clone(),
            ..AssetFilter::default()
        })?;
        let sbom = tx.components("sbom", load.as_deref())?;
        let mut sbom_by_asset: HashMap<i64, Vec<&mamori_store::StoredComponent>> = HashMap::new();
        for c in &sbom {
            sbom_by_asset.entry(c.asset).or_default().push(c);
        }
        let mut devices: Vec<Device<'_>> = Vec::with_capacity(stored.len());
        let mut targets = Targets::default();
        let mut cache = ComponentCache::new();
        // Each distinct component's target id.
        let mut target_of: HashMap<*const Component, usize> = HashMap::new();
        for s in &stored {
            let changed = changed_assets.as_ref().is_none_or(|c| c.contains(&s.id));
            if s.asset.status == AssetStatus::Retired {
                devices.push(Device {
                    pk: s.id,
                    asset: &s.asset,
                    comps: Vec::new(),
                    changed,
                    retired: true,
                });
                continue;
            }
            let sb = sbom_by_asset.get(&s.id).map(Vec::as_slice).unwrap_or(&[]);
            let comps = components_of(&s.asset, sb, &mut cache, &mut report.skipped);
            if comps.is_empty() && (s.asset.os.is_some() || !s.asset.software.is_empty()) {
                report.assets_without_cpe.push(s.asset.asset_id.clone());
            }
            report.components += comps.len();
            report.assets += 1;
            let d = devices.len();
            for (ci, c) in comps.iter().enumerate() {
                match target_of.get(&Rc::as_ptr(c)) {
                    Some(&t) => targets.holders[t].push((d, ci)),
                    None => {
                        targets.add(d, ci, &c.target);
                        let t = targets.index[&(c.target.wfn.to_fs(), c.target.scheme)];
                        target_of.insert(Rc::as_ptr(c), t);
                    }
                }
            }
            devices.push(Device {
                pk: s.id,
                asset: &s.asset,
                comps,
                changed,
                retired: false,
            });
        }
        let device_of: HashMap<i64, usize> =
            devices.iter().enumerate().map(|(i, d)| (d.pk, i)).collect();

        let mut done: HashSet<String> = HashSet::new();
        // Candidates: (record, devices) where a vulnerable criterion of the record holds, or
        // may hold, for a component of the device. Each distinct criterion is tested once
        // against the distinct components of its product.
        let mut memo = Memo::new();
        let mut pairs: HashMap<String, Vec<u32>> = HashMap::new();
        let mut products: Vec<(&(String, String), &Vec<usize>)> =
            targets.by_product.iter().collect();
        products.sort();
        for ((vendor, product), tids) in products {
            let any_changed = tids
                .iter()
                .any(|&t| targets.holders[t].iter().any(|&(d, _)| devices[d].changed));
            if !any_changed && changed_vulns.is_some() {
                // Only changed records can alter these devices' findings: read below.
                continue;
            }
            for (vuln, m) in tx.criteria_naming(vendor, product)? {
                let vuln_changed = is_changed_vuln(&vuln);
                for t in criterion_hits(&mut memo, &m, tids, &targets.list) {
                    for &(d, _) in &targets.holders[t] {
                        if vuln_changed || devices[d].changed {
                            pairs.entry(vuln.clone()).or_default().push(d as u32);
                        }
                    }
                }
            }
        }
        if let Some(changed) = &changed_vulns {
            let mut list: Vec<&String> = changed.iter().collect();
            list.sort();
            for vuln in list {
                for c in tx.vuln_configurations(vuln)? {
                    for n in c.nodes {
                        for m in n.matches.into_iter().filter(|m| m.vulnerable) {
                            let Ok(w) = Wfn::parse(&m.criteria) else {
                                continue;
                            };
                            let (_, v, p) = w.part_vendor_product();
                            let Some(tids) = targets.by_product.get(&(v, p)) else {
                                continue;
                            };
                            for t in criterion_hits(&mut memo, &m, tids, &targets.list) {
                                for &(d, _) in &targets.holders[t] {
                                    pairs.entry(vuln.clone()).or_default().push(d as u32);
                                }
                            }
                        }
                    }
                }
            }
        }
        for devices in pairs.values_mut() {
            devices.sort_unstable();
            devices.dedup();
        }
        // JVN (and other) affected-product entries naming the devices' products.
        let mut affected: HashMap<String, Vec<mamori_core::vuln::Affected>> = HashMap::new();
        for (vuln, a) in tx.affected_with_cpe()? {
            let Some(w) = a.cpe.as_deref().and_then(|c| Wfn::parse(c).ok()) else {
                continue;
            };
            let (_, v, p) = w.part_vendor_product();
            if targets.by_product.contains_key(&(v, p)) {
                affected.entry(vuln).or_default().push(a);
            }
        }
        // Records supporting the same vulnerability (a JVNDB entry and its CVE) make one
        // finding: evaluate and write one vulnerability at a time, so memory stays bounded by
        // the largest one, not by the number of findings.
        let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for vuln in pairs.keys().chain(affected.keys()) {
            let f = facts(&mut *tx, &mut facts_cache, vuln)?;
            let (canonical, _) = canonical(vuln, f.as_ref());
            let members = groups.entry(canonical).or_default();
            if !members.contains(vuln) {
                members.push(vuln.clone());
            }
        }
        report.records = pairs.len() + affected.len();

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
        let today = now.date_naive();
        let ctx = WriteCtx {
            devices: &devices,
            device_of: &device_of,
            kev: &kev,
            epss: &epss,
            today,
            now,
        };
        for (canonical_id, mut members) in groups {
            members.sort();
            let mut found: HashMap<(i64, String, String), (Candidate, usize)> = HashMap::new();
            for vuln in &members {
                let facts = facts(&mut *tx, &mut facts_cache, vuln)?;
                let (_, label) = canonical(vuln, facts.as_ref());
                if let Some(candidates) = pairs.get(vuln) {
                    let configs: Vec<CompiledConfig> = compile(&tx.vuln_configurations(vuln)?);
                    for &d in candidates {
                        evaluate_device(
                            &mut found,
                            &configs,
                            &devices[d as usize],
                            &canonical_id,
                            &label,
                        );
                    }
                }
                for a in affected.get(vuln).into_iter().flatten() {
                    affected_entry(
                        &mut found,
                        a,
                        &targets,
                        &devices,
                        is_changed_vuln(vuln),
                        &canonical_id,
                        &label,
                    );
                }
            }
            // Existing findings of this vulnerability that this run re-evaluated.
            let heads: Vec<FindingHead> = tx
                .finding_heads(None, Some(std::slice::from_ref(&canonical_id)))?
                .into_iter()
                .filter(|h| {
                    is_changed_vuln(&canonical_id)
                        || members.iter().any(|m| is_changed_vuln(m))
                        || changed_assets.as_ref().is_none_or(|c| c.contains(&h.asset))
                })
                .collect();
            write_group(&mut *tx, &ctx, heads, found, &mut facts_cache, &mut report)?;
            done.insert(canonical_id);
        }
        // Open findings in scope whose vulnerability no longer has any candidate.
        let leftover = match (&changed_assets, &changed_vulns) {
            (Some(a), Some(v)) => {
                let mut a: Vec<i64> = a.iter().copied().collect();
                a.sort_unstable();
                let mut v: Vec<String> = v.iter().cloned().collect();
                v.sort();
                tx.finding_heads(Some(&a), Some(&v))?
                    .into_iter()
                    .filter(|h| h.status == "open" && !done.contains(&h.vuln))
                    .collect()
            }
            _ => {
                let mut d: Vec<String> = done.iter().cloned().collect();
                d.sort();
                tx.open_findings_outside(&d)?
            }
        };
        write_group(
            &mut *tx,
            &ctx,
            leftover,
            HashMap::new(),
            &mut facts_cache,
            &mut report,
        )?;

        // Findings not re-evaluated: refresh priorities when KEV or EPSS changed.
        if let Some(w) = watermark {
            if tx.scores_changed_since(w)? {
                let all = tx.assets(&AssetFilter::default())?;
                let by_pk: HashMap<i64, &Asset> = all.iter().map(|s| (s.id, &s.asset)).collect();
                let mut after = 0;
                loop {
                    let page = tx.open_findings_after(after, 5_000)?;
                    let Some(last) = page.last() else { break };
                    after = last.id;
                    for mut f in page {
                        if done.contains(&f.vuln) {
                            continue;
                        }
                        let Some(asset) = by_pk.get(&f.asset) else {
                            continue;
                        };
                        let cvss = f.evidence.get("cvss").and_then(|v| v.as_f64());
                        let p = score(&f.vuln, cvss, asset, &kev, &epss, today);
                        if p.score != f.score || p.level.code() != f.level {
                            f.score = p.score;
                            f.level = p.level.code().into();
                            f.kev = kev.contains_key(&f.vuln);
                            f.evidence["priority"] = json!(p);
                            f.digest = Some(digest(&f));
                            tx.save_finding(&f)?;
                        }
                    }
                }
            }
        }
        report.open = tx.count_open_findings()? as usize;
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

/// A new finding's fixed fields (the rest is filled by [`apply`]).
fn new_finding(device: &Device<'_>, key: &(i64, String, String), now: DateTime<Utc>) -> Finding {
    Finding {
        id: 0,
        asset: key.0,
        asset_id: device.asset.asset_id.clone(),
        asset_name: device.asset.name.clone(),
        department: device.asset.department.clone(),
        component_key: key.1.clone(),
        component: String::new(),
        version: None,
        cpe: None,
        source: String::new(),
        vuln: key.2.clone(),
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
        digest: None,
    }
}

/// What writing findings reads.
struct WriteCtx<'a, 'b> {
    devices: &'a [Device<'b>],
    device_of: &'a HashMap<i64, usize>,
    kev: &'a HashMap<String, bool>,
    epss: &'a HashMap<String, f64>,
    today: chrono::NaiveDate,
    now: DateTime<Utc>,
}

/// One record's configurations against one device.
fn evaluate_device(
    found: &mut HashMap<(i64, String, String), (Candidate, usize)>,
    configs: &[CompiledConfig],
    device: &Device<'_>,
    canonical: &str,
    label: &str,
) {
    let targets: Vec<&Target> = device.comps.iter().map(|c| &c.target).collect();
    let Some(outcome) = evaluate(configs, &targets) else {
        return;
    };
    for (ti, truth, doubt) in outcome.affected() {
        let hits: Vec<serde_json::Value> = outcome
            .hits
            .iter()
            .filter(|h| h.target == ti || !h.vulnerable)
            .map(|h| {
                let m = &configs[h.config].nodes[h.node].criteria[h.criterion].published;
                json!({
                    "source": label,
                    "criteria": m.criteria,
                    "vulnerable": m.vulnerable,
                    "version_start_including": m.version_start_including,
                    "version_start_excluding": m.version_start_excluding,
                    "version_end_including": m.version_end_including,
                    "version_end_excluding": m.version_end_excluding,
                    "component": device.comps.get(h.target).map(|c| c.cpe.clone()),
                    "truth": truth_code(h.truth),
                    "doubt": h.doubt.map(Doubt::code),
                })
            })
            .collect();
        let c = &device.comps[ti];
        let confidence = if truth == Truth::Yes { "high" } else { "low" };
        merge(
            found,
            (device.pk, c.key.clone(), canonical.to_string()),
            ti,
            Candidate {
                truth,
                confidence,
                sources: [label.to_string()].into(),
                evidence: hits,
                doubt: doubt.map(Doubt::code),
            },
        );
    }
}

/// One JVN-style affected-product entry against the devices holding its product.
fn affected_entry(
    found: &mut HashMap<(i64, String, String), (Candidate, usize)>,
    affected: &mamori_core::vuln::Affected,
    targets: &Targets,
    devices: &[Device<'_>],
    vuln_changed: bool,
    canonical: &str,
    label: &str,
) {
    let Some(cpe) = &affected.cpe else { return };
    let Ok(w) = Wfn::parse(cpe) else { return };
    // The entry names a product; its versions are read from the text.
    let name_only = w.with_any_version();
    let (_, v, p) = w.part_vendor_product();
    let Some(tids) = targets.by_product.get(&(v, p)) else {
        return;
    };
    for &t in tids {
        if !name_only.matches(&targets.list[t].wfn) {
            continue;
        }
        for &(d, ti) in &targets.holders[t] {
            let device = &devices[d];
            if !vuln_changed && !device.changed {
                continue;
            }
            let c = &device.comps[ti];
            let (truth, confidence, doubt) = jvn_truth(&affected.versions, c);
            if truth == Truth::No {
                continue;
            }
            merge(
                found,
                (device.pk, c.key.clone(), canonical.to_string()),
                ti,
                Candidate {
                    truth,
                    confidence,
                    sources: [label.to_string()].into(),
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

/// Writes the difference between existing findings (`heads`, all in scope) and what this
/// run found: new ones opened, changed ones rewritten, resolved ones found again reopened,
/// open ones no longer found resolved with the reason.
fn write_group(
    tx: &mut dyn Tx,
    ctx: &WriteCtx<'_, '_>,
    heads: Vec<FindingHead>,
    mut found: HashMap<(i64, String, String), (Candidate, usize)>,
    cache: &mut HashMap<String, Option<mamori_store::VulnFacts>>,
    report: &mut MatchReport,
) -> Result<()> {
    for h in heads {
        let key = (h.asset, h.component_key.clone(), h.vuln.clone());
        let device = ctx.device_of.get(&h.asset).map(|&d| &ctx.devices[d]);
        if let Some((cand, ti)) = found.remove(&key) {
            let Some(device) = device else { continue };
            let mut f = new_finding(device, &key, ctx.now);
            f.id = h.id;
            apply(
                &mut f,
                &cand,
                &device.comps[ti],
                device.asset,
                ctx,
                tx,
                cache,
            )?;
            if h.status != "open" {
                f.reason = Some(Resolution::FoundAgain.to_string());
                tx.save_finding(&f)?;
                report.reopened += 1;
            } else {
                if f.digest != h.digest {
                    tx.save_finding(&f)?;
                }
                report.confirmed += 1;
            }
        } else if h.status == "open" {
            let reason = match device {
                Some(d) if d.retired => Resolution::Retired,
                Some(d) => match d.comps.iter().find(|c| c.key == h.component_key) {
                    Some(c) if c.version != h.version => Resolution::Updated {
                        from: h.version.clone(),
                        to: c.version.clone(),
                    },
                    Some(_) => Resolution::RecordsChanged,
                    None => Resolution::ComponentRemoved,
                },
                // Not loaded: the changed record no longer names the device's products.
                None => Resolution::RecordsChanged,
            };
            tx.set_finding_status(h.id, "resolved", Some(&reason.to_string()), Some(ctx.now))?;
            report.resolved += 1;
        }
    }
    let mut new: Vec<_> = found.into_iter().collect();
    new.sort_by(|a, b| a.0.cmp(&b.0));
    for (key, (cand, ti)) in new {
        let device = &ctx.devices[ctx.device_of[&key.0]];
        let mut f = new_finding(device, &key, ctx.now);
        apply(
            &mut f,
            &cand,
            &device.comps[ti],
            device.asset,
            ctx,
            tx,
            cache,
        )?;
        tx.save_finding(&f)?;
        report.opened += 1;
    }
    Ok(())
}

/// SHA-256 of what matching wrote: a finding is rewritten only when this changes.
fn digest(f: &Finding) -> String {
    use sha2::{Digest, Sha256};
    let content = json!([
        f.component,
        f.version,
        f.cpe,
        f.source,
        f.confidence,
        f.score,
        f.level,
        f.kev,
        f.sources,
        f.evidence
    ]);
    let hash = Sha256::digest(content.to_string().as_bytes());
    hash.iter().map(|b| format!("{b:02x}")).collect()
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

fn apply(
    f: &mut Finding,
    cand: &Candidate,
    c: &Component,
    asset: &Asset,
    ctx: &WriteCtx<'_, '_>,
    tx: &mut dyn Tx,
    cache: &mut HashMap<String, Option<mamori_store::VulnFacts>>,
) -> Result<()> {
    let (kev, epss, today) = (ctx.kev, ctx.epss, ctx.today);
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
    f.digest = Some(digest(f));
    Ok(())
}
