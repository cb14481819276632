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
//! the last run; priorities of the other open findings are refreshed when KEV or EPSS data
//! was imported since (they change daily). docs/matching.md ("How a run works") has the
//! steps and why each keeps the run fast.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::time::Instant;

use chrono::{DateTime, Utc};
use mamori_core::remediation::Remediation;
use mamori_core::{Asset, AssetStatus, Labelled};
use mamori_matching::applicability::{
    compile, evaluate, CompiledConfig, Criterion, Doubt, Target, Truth,
};
use mamori_matching::priority::{self, Inputs};
use mamori_matching::version::{self, Scheme};
use mamori_matching::{names, Wfn};
use mamori_store::{AssetFilter, Finding, FindingEvent, FindingHead, Tx};

pub use crate::findings::Resolution;
use serde::Serialize;
use serde_json::json;

use crate::{audit, App, Result};

const WATERMARK: &str = "match.watermark";

/// Who a match's state changes are recorded as.
pub const MATCH_ACTOR: &str = "match";

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
    /// Findings found again that were open: still open.
    pub confirmed: usize,
    /// Of those, findings whose content changed (evidence, score, version…) and was rewritten.
    pub updated: usize,
    /// Findings kept as 影響なし because the vendor says the product is not affected.
    pub not_affected: usize,
    /// Open findings now.
    pub open: usize,
    /// Seconds taken.
    pub seconds: f64,
    /// Where the time went: each step of the run and its seconds (docs/matching.md).
    pub steps: Vec<(&'static str, f64)>,
}

impl MatchReport {
    /// Records that the step just ended took the time since the last one.
    fn step(&mut self, name: &'static str, lap: &mut Instant) {
        self.steps.push((name, lap.elapsed().as_secs_f64()));
        *lap = Instant::now();
    }
}

#[derive(Debug, Clone)]
struct Candidate {
    truth: Truth,
    confidence: &'static str,
    sources: BTreeSet<String>,
    evidence: Vec<serde_json::Value>,
    doubt: Option<String>,
    /// An advisory of the vendor's saying the product is not affected (CSAF
    /// `known_not_affected`): the finding is then kept as 影響なし with that reason.
    not_affected: Option<String>,
}

/// The distinct components of the devices matched: 2,000 PCs with the same software share
/// one parsed component, and a criterion is tested once per distinct component.
#[derive(Default)]
struct Catalogue {
    /// By CPE, version, origin and version scheme.
    index: HashMap<(String, Option<String>, &'static str, Scheme), usize>,
    comps: Vec<Component>,
    /// The devices holding each component (indexes into the run's devices).
    holders: Vec<Vec<usize>>,
    /// Components per CPE (vendor, product).
    by_product: HashMap<(String, String), Vec<usize>>,
}

impl Catalogue {
    /// The id of a component, parsing its CPE the first time it is seen.
    fn intern(
        &mut self,
        cpe: &str,
        version: Option<&str>,
        source: &'static str,
        scheme: Scheme,
    ) -> std::result::Result<usize, mamori_matching::CpeError> {
        let key = (cpe.to_string(), version.map(str::to_string), source, scheme);
        if let Some(&id) = self.index.get(&key) {
            return Ok(id);
        }
        let c = component(Wfn::parse(cpe)?, cpe, version, source, scheme);
        let id = self.comps.len();
        let (_, v, p) = c.target.wfn.part_vendor_product();
        self.by_product.entry((v, p)).or_default().push(id);
        self.comps.push(c);
        self.holders.push(Vec::new());
        self.index.insert(key, id);
        Ok(id)
    }

    /// The component standing for a device named by maker and model (or device name), for
    /// advisories that name products without a CPE: `h:<maker words>:<model words>` with the
    /// バージョン column as its version.
    fn intern_named(&mut self, asset: &Asset) -> Option<usize> {
        let model_text = asset.model.as_deref().unwrap_or(&asset.name);
        self.intern_named_parts(
            asset.manufacturer.as_deref(),
            model_text,
            asset.os_version.as_deref(),
        )
    }

    /// [`Catalogue::intern_named`] from the maker, the model (or device name) and the
    /// バージョン column.
    fn intern_named_parts(
        &mut self,
        manufacturer: Option<&str>,
        model_text: &str,
        version: Option<&str>,
    ) -> Option<usize> {
        let (maker, model) = named_key(manufacturer, model_text)?;
        let version = version.map(str::trim).filter(|v| !v.is_empty());
        let w = Wfn::from_parts('h', &maker, &model, version);
        let cpe = w.to_fs();
        let key = (
            cpe.clone(),
            version.map(str::to_string),
            "name",
            Scheme::Generic,
        );
        if let Some(&id) = self.index.get(&key) {
            return Some(id);
        }
        let id = self.comps.len();
        self.by_product
            .entry((maker.clone(), model.clone()))
            .or_default()
            .push(id);
        self.comps.push(Component {
            key: format!("h:{maker}:{model}"),
            display: match version {
                Some(v) => format!("{model_text} {v}"),
                None => model_text.to_string(),
            },
            cpe,
            version: version.map(str::to_string),
            source: "name",
            target: Target::new(w, Scheme::Generic),
        });
        self.holders.push(Vec::new());
        self.index.insert(key, id);
        Some(id)
    }

    /// Records that device `d` holds these components.
    fn hold(&mut self, comps: &[usize], d: usize) {
        for &c in comps {
            let holders = &mut self.holders[c];
            if holders.last() != Some(&d) {
                holders.push(d);
            }
        }
    }

    /// A device's components, as `evaluate` reads them.
    fn targets(&self, device: &Device<'_>) -> Vec<&Target> {
        device
            .comps
            .iter()
            .map(|&c| &self.comps[c].target)
            .collect()
    }
}

/// The ledger's, SBOMs' and scans' components of one device (ids in `catalogue`).
fn components_of(
    asset: &Asset,
    sbom: &[(&'static str, &mamori_store::StoredComponent)],
    catalogue: &mut Catalogue,
    skipped: &mut Vec<Skipped>,
) -> Vec<usize> {
    let mut out = Vec::new();
    let mut add = |cpe: &str,
                   version: Option<&str>,
                   source: &'static str,
                   scheme: Scheme,
                   place: &dyn Fn() -> String| {
        match catalogue.intern(cpe, version, source, scheme) {
            Ok(id) => out.push(id),
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
    for &(source, c) in sbom {
        let Some(cpe) = &c.cpe else { continue };
        let purl_type = c
            .purl
            .as_deref()
            .and_then(|p| p.strip_prefix("pkg:"))
            .and_then(|rest| rest.split_once('/'))
            .map(|(t, _)| t);
        let scheme = scheme_of(purl_type);
        add(
            cpe,
            c.version.as_deref(),
            source,
            scheme,
            &|| match source {
                "scan" => format!("service {} identified by a scan", c.name),
                _ => format!("SBOM component {}", c.name),
            },
        );
    }
    out
}

/// How a component's versions compare, from its package URL's type (`deb`, `rpm`; any
/// case): the one rule for whole devices and for variants alike.
fn scheme_of(purl_type: Option<&str>) -> Scheme {
    match purl_type.map(str::to_ascii_lowercase).as_deref() {
        Some("deb") => Scheme::Debian,
        Some("rpm") => Scheme::Rpm,
        _ => Scheme::Generic,
    }
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

/// The devices an incremental run's changed records can affect, found without reading every
/// device. The records' vulnerable criteria are tested against the variants (the distinct
/// components, a few hundred) of the products they name, and against the components standing
/// for devices' maker and model; the devices holding a component that is hit are the
/// candidates. Each is read with its components of the products and platform vendors the hit
/// records name: all that evaluating those records against it looks at (a criterion holds
/// only for a component of its product, and a platform asks only whether the device records
/// anything of its vendor).
struct Focus {
    /// The variants the candidates' evaluation reads.
    variants: Vec<FocusVariant>,
    /// Candidate device → its components among `variants`: (source rank and position, index
    /// into `variants`), in the order a whole device lists them.
    devices: HashMap<i64, Vec<Held>>,
}

/// A component a device holds: (source rank and position, index into [`Focus::variants`]).
type Held = ((u8, i64), usize);

/// A variant as a whole device's components would give it.
struct FocusVariant {
    id: i64,
    /// The CPE's vendor and product as the store keeps them.
    vendor: String,
    product: String,
    cpe: String,
    version: Option<String>,
    source: &'static str,
    /// Ledger before SBOM, as a whole device lists them.
    rank: u8,
    scheme: Scheme,
}

impl FocusVariant {
    /// The variants the matching reads (ledger and SBOM components).
    fn of(v: mamori_store::ComponentVariant) -> Option<FocusVariant> {
        let (rank, source) = match v.source.as_str() {
            "ledger" => (0, "ledger"),
            "sbom" => (1, "sbom"),
            "scan" => (2, "scan"),
            _ => return None,
        };
        let scheme = scheme_of(v.purl_type.as_deref());
        Some(FocusVariant {
            id: v.id,
            vendor: v.vendor,
            product: v.product,
            cpe: v.cpe,
            version: v.version,
            source,
            rank,
            scheme,
        })
    }
}

impl Focus {
    /// `None` when a hit record has a platform naming no vendor in particular (every device
    /// would have to be read).
    fn find(
        tx: &mut dyn Tx,
        criteria: &[(String, mamori_core::vuln::CpeMatch, (String, String))],
        affected: &[(String, mamori_core::vuln::Affected)],
        changed: &[String],
    ) -> Result<Option<Focus>> {
        // A catalogue of its own: the run's is filled once the devices are known.
        let mut catalogue = Catalogue::default();
        let mut memo = Memo::new();
        let changed_set: HashSet<&String> = changed.iter().collect();
        let affected: Vec<(&String, (String, String))> = affected
            .iter()
            .filter(|(vuln, _)| changed_set.contains(vuln))
            .filter_map(|(vuln, a)| {
                let w = Wfn::parse(a.cpe.as_deref()?).ok()?;
                let (_, v, p) = w.part_vendor_product();
                Some((vuln, (v, p)))
            })
            .collect();
        let named_products: BTreeSet<(String, String)> = criteria
            .iter()
            .map(|(_, _, p)| p.clone())
            .chain(affected.iter().map(|(_, p)| p.clone()))
            .collect();
        let named_products: Vec<(String, String)> = named_products.into_iter().collect();
        let mut variants: Vec<FocusVariant> = Vec::new();
        let mut comp_of: Vec<usize> = Vec::new();
        let add = |list: Vec<mamori_store::ComponentVariant>,
                   catalogue: &mut Catalogue,
                   variants: &mut Vec<FocusVariant>,
                   comp_of: &mut Vec<usize>| {
            for v in list.into_iter().filter_map(FocusVariant::of) {
                // A CPE that does not parse is reported by a full run, with its device.
                if let Ok(c) = catalogue.intern(&v.cpe, v.version.as_deref(), v.source, v.scheme) {
                    variants.push(v);
                    comp_of.push(c);
                }
            }
        };
        add(
            tx.component_variants(&named_products, &[])?,
            &mut catalogue,
            &mut variants,
            &mut comp_of,
        );
        // The components standing for devices' maker and model (hardware CPE names).
        let names = tx.asset_names()?;
        let named_of = |catalogue: &mut Catalogue, keep: &dyn Fn(&str, &str) -> bool| {
            let mut out: Vec<(i64, usize)> = Vec::new();
            for n in &names {
                if n.status == AssetStatus::Retired {
                    continue;
                }
                let model_text = n.model.as_deref().unwrap_or(&n.name);
                let Some((maker, model)) = named_key(n.manufacturer.as_deref(), model_text) else {
                    continue;
                };
                if keep(&maker, &model) {
                    if let Some(c) = catalogue.intern_named_parts(
                        n.manufacturer.as_deref(),
                        model_text,
                        n.os_version.as_deref(),
                    ) {
                        out.push((n.id, c));
                    }
                }
            }
            out
        };
        let product_set: HashSet<&(String, String)> = named_products.iter().collect();
        let mut named = named_of(&mut catalogue, &|v, p| {
            product_set.contains(&(v.to_string(), p.to_string()))
        });

        // The records with a hit, and the components hit.
        let mut hit: HashSet<usize> = HashSet::new();
        let mut hit_records: BTreeSet<String> = BTreeSet::new();
        for (vuln, m, product) in criteria {
            if let Some(ids) = catalogue.by_product.get(product) {
                let hits = criterion_hits(&mut memo, m, ids, &catalogue);
                if !hits.is_empty() {
                    hit.extend(hits.iter().copied());
                    hit_records.insert(vuln.clone());
                }
            }
        }
        // Affected-product entries (JVN): every component of their product.
        for (vuln, product) in &affected {
            if let Some(ids) = catalogue.by_product.get(product) {
                hit.extend(ids.iter().copied());
                hit_records.insert(vuln.to_string());
            }
        }

        // What evaluating the hit records reads: every product they name and the vendors of
        // their platforms.
        let hit_records: Vec<String> = hit_records.into_iter().collect();
        let vendors = tx.platform_vendors_of(&hit_records)?;
        if vendors
            .iter()
            .any(|v| v.is_empty() || v == "-" || v.contains(['*', '?']))
        {
            return Ok(None);
        }
        let products = tx.products_of(&hit_records)?;
        let already = variants.len();
        add(
            tx.component_variants(&products, &vendors)?,
            &mut catalogue,
            &mut variants,
            &mut comp_of,
        );
        let products: HashSet<(String, String)> = products.into_iter().collect();
        let vendor_set: HashSet<&String> = vendors.iter().collect();
        named.extend(named_of(&mut catalogue, &|v, p| {
            products.contains(&(v.to_string(), p.to_string()))
                || vendor_set.contains(&v.to_string())
        }));
        // Variants of products only non-hit records name are not read.
        let relevant: Vec<usize> = (0..variants.len())
            .filter(|&i| {
                let v = &variants[i];
                i >= already
                    || products.contains(&(v.vendor.clone(), v.product.clone()))
                    || vendor_set.contains(&v.vendor)
            })
            .collect();
        let ids: Vec<i64> = relevant.iter().map(|&i| variants[i].id).collect();
        let holders = tx.variant_holders(&ids)?;
        let mut candidates: HashSet<i64> = holders
            .iter()
            .zip(&relevant)
            .filter(|(_, &i)| hit.contains(&comp_of[i]))
            .flat_map(|(h, _)| h.iter().map(|&(a, _)| a))
            .collect();
        candidates.extend(
            named
                .iter()
                .filter(|(_, c)| hit.contains(c))
                .map(|&(a, _)| a),
        );
        let mut devices: HashMap<i64, Vec<Held>> =
            candidates.iter().map(|&a| (a, Vec::new())).collect();
        for (h, &i) in holders.iter().zip(&relevant) {
            for &(a, position) in h {
                if let Some(comps) = devices.get_mut(&a) {
                    comps.push(((variants[i].rank, position), i));
                }
            }
        }
        for comps in devices.values_mut() {
            comps.sort_unstable();
            comps.dedup();
        }
        Ok(Some(Focus { variants, devices }))
    }
}

/// The catalogue key (`h:<maker words>:<model words>`) of a device named by maker and model
/// (or device name).
fn named_key(manufacturer: Option<&str>, model_or_name: &str) -> Option<(String, String)> {
    let maker = names::words(manufacturer?).join("_");
    let model = names::words(model_or_name).join("_");
    (!maker.is_empty() && !model.is_empty()).then_some((maker, model))
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
    /// Its components (ids in the run's [`Catalogue`]), in order.
    comps: Vec<usize>,
    /// The component standing for the device's maker and model, when both are recorded.
    named: Option<usize>,
    /// Changed since the last run (always, in a full run).
    changed: bool,
    retired: bool,
    /// Read with only its components of the changed records' products ([`Focus`]).
    partial: bool,
}

impl<'a> Device<'a> {
    /// Adds a device with these components and the one standing for its maker and model; a
    /// retired device is added without components (nothing matches it; its open findings are
    /// resolved).
    fn add(
        devices: &mut Vec<Device<'a>>,
        catalogue: &mut Catalogue,
        report: &mut MatchReport,
        s: &'a mamori_store::StoredAsset,
        mut comps: Vec<usize>,
        changed: bool,
        partial: bool,
    ) {
        let retired = s.asset.status == AssetStatus::Retired;
        let mut named = None;
        if retired {
            comps.clear();
        } else {
            report.components += comps.len();
            report.assets += 1;
            named = catalogue.intern_named(&s.asset);
            comps.extend(named);
            catalogue.hold(&comps, devices.len());
        }
        devices.push(Device {
            pk: s.id,
            asset: &s.asset,
            comps,
            named,
            changed,
            retired,
            partial,
        });
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

/// The components among `candidates` a vulnerable criterion holds (or may hold) for.
fn criterion_hits<'m>(
    memo: &'m mut Memo,
    m: &mamori_core::vuln::CpeMatch,
    candidates: &[usize],
    catalogue: &Catalogue,
) -> &'m [usize] {
    memo.entry(memo_key(m)).or_insert_with(|| {
        let c = Criterion::new(m.clone());
        candidates
            .iter()
            .copied()
            .filter(|&t| c.test(&catalogue.comps[t].target).0 > Truth::No)
            .collect()
    })
}

impl App {
    /// Matches the ledger against the store and updates findings (see the module docs).
    pub fn run_match(&mut self, mode: MatchMode) -> Result<MatchReport> {
        self.require(mamori_core::access::Permission::RunMatch)?;
        // Exceptions past their review date reopen their findings before anything is matched.
        self.review_exceptions()?;
        let started = Instant::now();
        // Findings are dated by the workflow's clock; the watermark, compared with the
        // store's own import and change times, by the real one.
        let now = self.now_utc()?;
        let watermark_at = Utc::now();
        let today = self.today();
        let actor = self.actor.clone();
        let mut note = self.announce("照合 (mamori match)", "matching (mamori match)");
        let mut tx = self.store.begin()?;
        note.post();
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
        let mut lap = Instant::now();

        // What changed: devices, and records (with the records sharing their CVE, since one
        // finding merges them).
        let mut facts_cache: HashMap<String, Option<mamori_store::VulnFacts>> = HashMap::new();
        let mut changed_advisories: HashSet<String> = HashSet::new();
        let (changed_assets, changed_vulns): (Option<HashSet<i64>>, Option<HashSet<String>>) =
            match watermark {
                None => (None, None),
                Some(w) => {
                    let assets: HashSet<i64> = tx.assets_changed_since(w)?.into_iter().collect();
                    let mut vulns: HashSet<String> = HashSet::new();
                    for (id, _) in tx.vulnerability_ids_since(Some(w))? {
                        // A CVE record is its own canonical id; others may alias one.
                        if !id.starts_with("CVE-") {
                            let f = facts(&mut *tx, &mut facts_cache, &id)?;
                            let (canonical, _) = canonical(&id, f.as_ref());
                            if canonical != id {
                                vulns.extend(tx.vulnerabilities_by_alias(&canonical)?);
                                vulns.insert(canonical);
                            }
                        }
                        vulns.extend(tx.vulnerabilities_by_alias(&id)?);
                        vulns.insert(id);
                    }
                    for id in tx.advisory_ids_since(Some(w))? {
                        if let Some((adv, _)) = tx.advisory(&id)? {
                            for (i, v) in adv.vulnerabilities.iter().enumerate() {
                                let id = advisory_vuln_id(&adv.id, i, v);
                                vulns.extend(tx.vulnerabilities_by_alias(&id)?);
                                vulns.insert(id);
                            }
                        }
                        changed_advisories.insert(id);
                    }
                    (Some(assets), Some(vulns))
                }
            };
        report.step("changes", &mut lap);
        let is_changed_vuln = |v: &str| changed_vulns.as_ref().is_none_or(|c| c.contains(v));

        // The changed records' vulnerable criteria, each with the product it names (only those
        // naming a product some device has).
        let mut changed_list: Vec<String> = changed_vulns.iter().flatten().cloned().collect();
        changed_list.sort();
        let changed_criteria: Vec<(String, mamori_core::vuln::CpeMatch, (String, String))> = tx
            .vulnerable_criteria_of(&changed_list)?
            .into_iter()
            .filter_map(|(vuln, m)| {
                let (_, v, p) = Wfn::parse(&m.criteria).ok()?.part_vendor_product();
                Some((vuln, m, (v, p)))
            })
            .collect();
        let all_affected = tx.affected_with_cpe()?;
        report.step("changed records", &mut lap);

        // Devices read whole: all (full), or those changed (incremental). The other devices a
        // changed record can affect are found through component variants ([`Focus`]) and read
        // with only the components the changed records look at — unless a CSAF advisory names
        // a changed record (advisories name products by maker and model, which takes every
        // device), or a changed record's platform names no vendor in particular: then every
        // holder of the changed records' products is read whole.
        let eligible = changed_assets.is_some()
            && changed_advisories.is_empty()
            && tx.advisories_naming(&changed_list)?.is_empty();
        let focus = match eligible {
            true => Focus::find(&mut *tx, &changed_criteria, &all_affected, &changed_list)?,
            false => None,
        };
        let whole: Option<Vec<i64>> = match (&changed_assets, &focus) {
            (Some(a), Some(_)) => {
                let mut ids: Vec<i64> = a.iter().copied().collect();
                ids.sort_unstable();
                Some(ids)
            }
            (Some(a), None) if changed_advisories.is_empty() => {
                let products = tx.products_of(&changed_list)?;
                let variants: Vec<i64> = tx
                    .component_variants(&products, &[])?
                    .iter()
                    .map(|v| v.id)
                    .collect();
                let mut ids: BTreeSet<i64> = tx
                    .variant_holders(&variants)?
                    .into_iter()
                    .flatten()
                    .map(|(a, _)| a)
                    .collect();
                ids.extend(a.iter().copied());
                Some(ids.into_iter().collect())
            }
            _ => None,
        };
        report.step("scope", &mut lap);
        let stored = tx.assets(&AssetFilter {
            ids: whole.clone(),
            ..AssetFilter::default()
        })?;
        report.step("devices", &mut lap);
        let sbom = tx.components("sbom", whole.as_deref())?;
        // Services a network scan identified (product and version, with a CPE).
        let scanned = tx.components("scan", whole.as_deref())?;
        report.step("components", &mut lap);
        let mut sbom_by_asset: HashMap<i64, Vec<(&'static str, &mamori_store::StoredComponent)>> =
            HashMap::new();
        for c in &sbom {
            sbom_by_asset.entry(c.asset).or_default().push(("sbom", c));
        }
        for c in &scanned {
            sbom_by_asset.entry(c.asset).or_default().push(("scan", c));
        }
        // Declared before `devices`, which borrow from it.
        let focus_stored: Vec<mamori_store::StoredAsset>;
        let mut devices: Vec<Device<'_>> = Vec::with_capacity(stored.len());
        let mut catalogue = Catalogue::default();
        for s in &stored {
            let changed = changed_assets.as_ref().is_none_or(|c| c.contains(&s.id));
            let mut comps = Vec::new();
            if s.asset.status != AssetStatus::Retired {
                let sb = sbom_by_asset.get(&s.id).map(Vec::as_slice).unwrap_or(&[]);
                comps = components_of(&s.asset, sb, &mut catalogue, &mut report.skipped);
                if comps.is_empty() && (s.asset.os.is_some() || !s.asset.software.is_empty()) {
                    report.assets_without_cpe.push(s.asset.asset_id.clone());
                }
            }
            Device::add(
                &mut devices,
                &mut catalogue,
                &mut report,
                s,
                comps,
                changed,
                false,
            );
        }
        report.step("catalogue", &mut lap);
        if let Some(focus) = &focus {
            let ids: Vec<i64> = focus
                .devices
                .keys()
                .copied()
                .filter(|id| !changed_assets.as_ref().is_some_and(|c| c.contains(id)))
                .collect::<BTreeSet<i64>>()
                .into_iter()
                .collect();
            focus_stored = tx.asset_records(&ids)?;
            // The variants' components in this run's catalogue.
            let comp_of: Vec<Option<usize>> = focus
                .variants
                .iter()
                .map(|v| {
                    catalogue
                        .intern(&v.cpe, v.version.as_deref(), v.source, v.scheme)
                        .ok()
                })
                .collect();
            for s in &focus_stored {
                let comps: Vec<usize> = focus.devices[&s.id]
                    .iter()
                    .filter_map(|&(_, v)| comp_of[v])
                    .collect();
                Device::add(
                    &mut devices,
                    &mut catalogue,
                    &mut report,
                    s,
                    comps,
                    false,
                    true,
                );
            }
            report.step("devices a change can affect", &mut lap);
        }

        // Every component is in the catalogue now: the components each changed record's
        // criteria hold (or may hold) for.
        let mut memo = Memo::new();
        let mut changed_hits: Vec<(&str, Vec<usize>)> = Vec::new();
        for (vuln, m, product) in &changed_criteria {
            if let Some(ids) = catalogue.by_product.get(product) {
                let hits = criterion_hits(&mut memo, m, ids, &catalogue);
                if !hits.is_empty() {
                    changed_hits.push((vuln, hits.to_vec()));
                }
            }
        }
        let loaded: Vec<i64> = devices.iter().map(|d| d.pk).collect();
        // The makers' VEX statements (from SBOM imports), by device and vulnerability.
        let mut vex: HashMap<(i64, String), Vec<mamori_store::StoredVex>> = HashMap::new();
        for v in tx.vex(whole.as_ref().map(|_| loaded.as_slice()))? {
            vex.entry((v.asset, v.vuln.clone())).or_default().push(v);
        }
        let device_of: HashMap<i64, usize> =
            devices.iter().enumerate().map(|(i, d)| (d.pk, i)).collect();

        let mut done: HashSet<String> = HashSet::new();
        // Candidates: (record, devices) where a vulnerable criterion of the record holds, or
        // may hold, for a component of the device. Each distinct criterion is tested once
        // against the distinct components of its product.
        let mut pairs: HashMap<String, Vec<u32>> = HashMap::new();
        let mut products: Vec<(&(String, String), &Vec<usize>)> =
            catalogue.by_product.iter().collect();
        products.sort();
        for ((vendor, product), ids) in products {
            let any_changed = ids
                .iter()
                .any(|&c| catalogue.holders[c].iter().any(|&d| devices[d].changed));
            if !any_changed && changed_vulns.is_some() {
                // Only changed records can alter these devices' findings: read below.
                continue;
            }
            for (vuln, m) in tx.criteria_naming(vendor, product)? {
                let vuln_changed = is_changed_vuln(&vuln);
                for &c in criterion_hits(&mut memo, &m, ids, &catalogue) {
                    for &d in &catalogue.holders[c] {
                        if vuln_changed || devices[d].changed {
                            pairs.entry(vuln.clone()).or_default().push(d as u32);
                        }
                    }
                }
            }
        }
        for (vuln, hits) in &changed_hits {
            for &c in hits.iter() {
                for &d in &catalogue.holders[c] {
                    pairs.entry(vuln.to_string()).or_default().push(d as u32);
                }
            }
        }
        for devices in pairs.values_mut() {
            devices.sort_unstable();
            devices.dedup();
        }
        report.step("candidates", &mut lap);
        // JVN (and other) affected-product entries naming the devices' products.
        let mut affected: HashMap<String, Vec<mamori_core::vuln::Affected>> = HashMap::new();
        for (vuln, a) in all_affected {
            let Some(w) = a.cpe.as_deref().and_then(|c| Wfn::parse(c).ok()) else {
                continue;
            };
            let (_, v, p) = w.part_vendor_product();
            if catalogue.by_product.contains_key(&(v, p)) {
                affected.entry(vuln).or_default().push(a);
            }
        }
        // CSAF advisories (CISA's ICSMA, vendors' own, VEX). All are read when anything changed:
        // an advisory supports the same finding as the NVD record of its CVE, so a change to
        // either re-evaluates both.
        let nothing_changed = changed_assets.as_ref().is_some_and(HashSet::is_empty)
            && changed_vulns.as_ref().is_some_and(HashSet::is_empty);
        let advisory_ids = if nothing_changed {
            Vec::new()
        } else {
            tx.advisory_ids_since(None)?
        };
        let mut by_advisory = AdvisoryFound::default();
        let mut makers = Makers::new(&devices);
        for id in &advisory_ids {
            if let Some((adv, _)) = tx.advisory(id)? {
                let in_scope = |vuln: &str, d: usize| {
                    changed_advisories.contains(id) || devices[d].changed || is_changed_vuln(vuln)
                };
                advisory_candidates(
                    &adv,
                    &in_scope,
                    &catalogue,
                    &devices,
                    &mut makers,
                    &mut by_advisory,
                );
            }
        }

        report.step("jvn and csaf", &mut lap);
        // Records supporting the same vulnerability (a JVNDB entry and its CVE) make one
        // finding: evaluate and write one vulnerability at a time, so memory stays bounded by
        // the largest one, not by the number of findings.
        let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for id in by_advisory.found.keys() {
            groups.entry(id.clone()).or_default();
        }
        for vuln in pairs.keys().chain(affected.keys()) {
            let f = facts(&mut *tx, &mut facts_cache, vuln)?;
            let (canonical, _) = canonical(vuln, f.as_ref());
            let members = groups.entry(canonical).or_default();
            if !members.contains(vuln) {
                members.push(vuln.clone());
            }
        }
        report.records = pairs.len() + affected.len() + by_advisory.records;

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
        let ctx = WriteCtx {
            catalogue: &catalogue,
            devices: &devices,
            device_of: &device_of,
            kev: &kev,
            epss: &epss,
            today,
            now,
        };
        // The store's thread reads each vulnerability's records and findings and writes the
        // plan; a second thread evaluates and plans (a hospital server has the cores).
        let eval = EvalCtx {
            write: &ctx,
            pairs: &pairs,
            affected: &affected,
            vex: &vex,
            changed_vulns: &changed_vulns,
        };
        // Evaluators: one per core beside the store's thread (at least one, at most four).
        let evaluators = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, 4);
        let (to_eval, inputs) = std::sync::mpsc::sync_channel::<(usize, GroupInput)>(8);
        let inputs = std::sync::Mutex::new(inputs);
        std::thread::scope(|scope| -> Result<()> {
            let (to_write, plans) = std::sync::mpsc::channel::<(usize, Plan)>();
            let eval = &eval;
            for _ in 0..evaluators {
                let (inputs, to_write) = (&inputs, to_write.clone());
                scope.spawn(move || loop {
                    // The lock is held only to take the next input.
                    let next = inputs.lock().map(|r| r.recv());
                    let Ok(Ok((seq, input))) = next else { break };
                    if to_write.send((seq, evaluate_group(eval, input))).is_err() {
                        break;
                    }
                });
            }
            drop(to_write);
            // Written plans are freed on another thread: freeing thousands of findings'
            // evidence trees is a good part of the store thread's time otherwise.
            let (to_free, written) = std::sync::mpsc::channel::<Plan>();
            scope.spawn(move || written.into_iter().for_each(drop));
            // Plans are written in the order of the vulnerabilities, whichever evaluator
            // finished first: a run writes the same rows in the same order every time.
            let mut pending: BTreeMap<usize, Plan> = BTreeMap::new();
            let mut next_write = 0usize;
            let mut write_ready = |pending: &mut BTreeMap<usize, Plan>,
                                   tx: &mut dyn Tx,
                                   report: &mut MatchReport|
             -> Result<()> {
                while let Some(plan) = pending.remove(&next_write) {
                    write_plan(tx, &plan, now, report)?;
                    let _ = to_free.send(plan);
                    next_write += 1;
                }
                Ok(())
            };
            for (seq, (canonical_id, mut members)) in groups.into_iter().enumerate() {
                members.sort();
                let mut read = Vec::with_capacity(members.len());
                for vuln in &members {
                    let facts = facts(&mut *tx, &mut facts_cache, vuln)?;
                    let (_, label) = canonical(vuln, facts.as_ref());
                    let configs = match pairs.contains_key(vuln) {
                        true => Some(tx.vuln_configurations(vuln)?),
                        false => None,
                    };
                    read.push((vuln.clone(), label, configs));
                }
                // Existing findings of this vulnerability that this run re-evaluates.
                let heads: Vec<FindingHead> = tx
                    .finding_heads(None, Some(std::slice::from_ref(&canonical_id)))?
                    .into_iter()
                    .filter(|h| {
                        is_changed_vuln(&canonical_id)
                            || members.iter().any(|m| is_changed_vuln(m))
                            || changed_assets.as_ref().is_none_or(|c| c.contains(&h.asset))
                    })
                    .collect();
                let mut facts = group_facts(&mut *tx, &mut facts_cache, &canonical_id, &members)?;
                if let Some(cvss) = by_advisory.cvss.remove(&canonical_id) {
                    facts.cvss = facts.cvss.or(cvss);
                }
                let input = GroupInput {
                    advisory: by_advisory.found.remove(&canonical_id).unwrap_or_default(),
                    canonical: canonical_id.clone(),
                    members: read,
                    heads,
                    facts,
                };
                done.insert(canonical_id);
                // The evaluators stopped only if one panicked: the scope then reports that.
                let _ = to_eval.send((seq, input));
                while let Ok((seq, plan)) = plans.try_recv() {
                    pending.insert(seq, plan);
                }
                write_ready(&mut pending, &mut *tx, &mut report)?;
            }
            drop(to_eval);
            for (seq, plan) in plans {
                pending.insert(seq, plan);
                write_ready(&mut pending, &mut *tx, &mut report)?;
            }
            Ok(())
        })?;
        report.step("evaluate and write", &mut lap);
        // Open findings in scope whose vulnerability no longer has any candidate.
        let leftover = match (&changed_assets, &changed_vulns) {
            (Some(a), Some(v)) => {
                let mut a: Vec<i64> = a.iter().copied().collect();
                a.sort_unstable();
                // Vulnerabilities evaluated above had their findings compared there.
                let mut v: Vec<String> = v.iter().filter(|v| !done.contains(*v)).cloned().collect();
                v.sort();
                tx.finding_heads(Some(&a), Some(&v))?
                    .into_iter()
                    .filter(|h| h.status == "open" && !done.contains(&h.vuln))
                    .collect()
            }
            _ => {
                let gone: Vec<String> = tx
                    .open_finding_vulns()?
                    .into_iter()
                    .filter(|v| !done.contains(v))
                    .collect();
                tx.finding_heads(None, Some(&gone))?
                    .into_iter()
                    .filter(|h| h.status == "open")
                    .collect()
            }
        };
        let plan = plan_group(&ctx, leftover, Found::new(), &GroupFacts::default());
        write_plan(&mut *tx, &plan, now, &mut report)?;

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
        report.step("leftovers and scores", &mut lap);
        report.open = tx.count_open_findings()? as usize;
        tx.set_setting(WATERMARK, &watermark_at.to_rfc3339())?;
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
        report.step("commit", &mut lap);
        Ok(report)
    }
}

/// A new finding's fixed fields (the rest is filled by [`apply`]).
fn new_finding(key: &(i64, String, String), now: DateTime<Utc>) -> Finding {
    Finding::new(key.0, &key.1, &key.2, now)
}

/// What writing findings reads.
struct WriteCtx<'a, 'b> {
    catalogue: &'a Catalogue,
    devices: &'a [Device<'b>],
    device_of: &'a HashMap<i64, usize>,
    kev: &'a HashMap<String, bool>,
    epss: &'a HashMap<String, f64>,
    today: chrono::NaiveDate,
    now: DateTime<Utc>,
}

/// One record's configurations against one device.
fn evaluate_device(
    found: &mut Found,
    configs: &[CompiledConfig],
    catalogue: &Catalogue,
    device: &Device<'_>,
    canonical: &str,
    label: &str,
) {
    let Some(outcome) = evaluate(configs, &catalogue.targets(device)) else {
        return;
    };
    let cpe_at = |i: usize| device.comps.get(i).map(|&c| catalogue.comps[c].cpe.clone());
    for (ti, truth, doubt) in outcome.affected() {
        let hits: Vec<serde_json::Value> = outcome
            .hits
            .iter()
            .filter(|h| h.target == ti || !h.vulnerable)
            .map(|h| {
                let m = &configs[h.config].nodes[h.node].criteria[h.criterion].published;
                // Bounds and doubt only when present: this is written for every finding.
                let mut hit = json!({
                    "source": label,
                    "criteria": m.criteria,
                    "vulnerable": m.vulnerable,
                    "component": cpe_at(h.target),
                    "truth": truth_code(h.truth),
                });
                for (k, v) in [
                    ("version_start_including", &m.version_start_including),
                    ("version_start_excluding", &m.version_start_excluding),
                    ("version_end_including", &m.version_end_including),
                    ("version_end_excluding", &m.version_end_excluding),
                ] {
                    if let Some(v) = v {
                        hit[k] = json!(v);
                    }
                }
                if let Some(d) = h.doubt {
                    hit["doubt"] = json!(d.code());
                }
                hit
            })
            .collect();
        let confidence = if truth == Truth::Yes { "high" } else { "low" };
        merge(
            found,
            catalogue,
            device,
            device.comps[ti],
            canonical,
            Candidate {
                truth,
                confidence,
                sources: [label.to_string()].into(),
                evidence: hits,
                doubt: doubt.map(Doubt::code),
                not_affected: None,
            },
        );
    }
}

/// One JVN-style affected-product entry against the devices holding its product.
fn affected_entry(
    found: &mut Found,
    affected: &mamori_core::vuln::Affected,
    catalogue: &Catalogue,
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
    let Some(ids) = catalogue.by_product.get(&(v, p)) else {
        return;
    };
    for &id in ids {
        let c = &catalogue.comps[id];
        if !name_only.matches(&c.target.wfn) {
            continue;
        }
        let (truth, confidence, doubt) = affected_truth(&affected.versions, c);
        if truth == Truth::No {
            continue;
        }
        for &d in &catalogue.holders[id] {
            let device = &devices[d];
            if !vuln_changed && !device.changed {
                continue;
            }
            merge(
                found,
                catalogue,
                device,
                id,
                canonical,
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
                    not_affected: None,
                },
            );
        }
    }
}

/// What to write for one vulnerability, decided without the store (so that it can be
/// computed on another thread while the store writes the previous one).
#[derive(Default)]
struct Plan {
    /// Findings to insert (id 0) or rewrite.
    save: Vec<Finding>,
    /// Open findings to resolve: id and reason.
    resolve: Vec<(i64, Resolution)>,
    /// 対応状況 that the match decides: 適用済 when it sees the fixed version, 未対応 when
    /// it finds a finding again, 該当なし on the vendor's word.
    events: Vec<FindingEvent>,
    opened: usize,
    reopened: usize,
    confirmed: usize,
    updated: usize,
    not_affected: usize,
}

/// The difference between existing findings (`heads`, all in scope) and what this run found:
/// new ones opened, changed ones rewritten, resolved ones found again reopened, open ones no
/// longer found resolved with the reason.
fn plan_group(
    ctx: &WriteCtx<'_, '_>,
    heads: Vec<FindingHead>,
    mut found: Found,
    facts: &GroupFacts,
) -> Plan {
    let mut plan = Plan::default();
    for h in heads {
        let key = (h.asset, h.component_key.clone(), h.vuln.clone());
        let device = ctx.device_of.get(&h.asset).map(|&d| &ctx.devices[d]);
        if let Some((cand, c)) = found.remove(&key) {
            let Some(device) = device else { continue };
            let mut f = new_finding(&key, ctx.now);
            f.id = h.id;
            apply(
                &mut f,
                cand,
                &ctx.catalogue.comps[c],
                device.asset,
                ctx,
                facts,
            );
            if f.status != h.status {
                if f.status == "open" {
                    f.reason = Some(Resolution::FoundAgain.to_string());
                    plan.reopened += 1;
                    plan.events.extend(system_event(
                        h.id,
                        &h.state,
                        Remediation::New,
                        "found_again",
                    ));
                } else {
                    plan.not_affected += 1;
                    plan.events.extend(system_event(
                        h.id,
                        &h.state,
                        Remediation::NotAffected,
                        "vendor_not_affected",
                    ));
                }
                plan.save.push(f);
            } else {
                if f.digest != h.digest {
                    plan.save.push(f);
                    plan.updated += 1;
                }
                plan.confirmed += 1;
            }
        } else if h.status == "open" {
            // The device's components of the same product now: one still at the version the
            // finding was on means the records changed (a device may hold a product twice,
            // e.g. from its ledger row and from a package).
            let now_recorded: Option<Vec<&Component>> = device.map(|d| {
                d.comps
                    .iter()
                    .map(|&c| &ctx.catalogue.comps[c])
                    .filter(|c| c.key == h.component_key)
                    .collect()
            });
            let reason = match (device, now_recorded) {
                (Some(d), _) if d.retired => Resolution::Retired,
                // Not changed, so only its records can have.
                (Some(d), _) if d.partial => Resolution::RecordsChanged,
                (Some(_), Some(same)) if same.is_empty() => Resolution::ComponentRemoved,
                (Some(_), Some(same)) if same.iter().all(|c| c.version != h.version) => {
                    Resolution::Updated {
                        from: h.version.clone(),
                        to: same[0].version.clone(),
                    }
                }
                // Same version (or the device not loaded): the records changed.
                _ => Resolution::RecordsChanged,
            };
            // Seeing the fixed version (or the component gone) is what 適用済 means.
            let code = match &reason {
                Resolution::Updated { .. } => Some("fixed_version_detected"),
                Resolution::ComponentRemoved => Some("component_removed"),
                _ => None,
            };
            if let Some(code) = code {
                plan.events
                    .extend(system_event(h.id, &h.state, Remediation::Fixed, code));
            }
            plan.resolve.push((h.id, reason));
        }
    }
    let mut new: Vec<_> = found.into_iter().collect();
    new.sort_by(|a, b| a.0.cmp(&b.0));
    for (key, (cand, c)) in new {
        let device = &ctx.devices[ctx.device_of[&key.0]];
        let mut f = new_finding(&key, ctx.now);
        apply(
            &mut f,
            cand,
            &ctx.catalogue.comps[c],
            device.asset,
            ctx,
            facts,
        );
        if f.status == "open" {
            plan.opened += 1;
        } else {
            plan.not_affected += 1;
        }
        plan.save.push(f);
    }
    plan
}

/// The event of a state change a match decides (`None` when the finding is already there).
fn system_event(id: i64, from: &str, to: Remediation, reason: &str) -> Option<FindingEvent> {
    (from != to.code()).then(|| FindingEvent {
        finding: id,
        actor: MATCH_ACTOR.into(),
        from: from.to_string(),
        to: to.code().into(),
        reason: Some(reason.into()),
        detail: json!({}),
        planned_date: None,
    })
}

/// Writes a plan and counts it.
fn write_plan(
    tx: &mut dyn Tx,
    plan: &Plan,
    now: DateTime<Utc>,
    report: &mut MatchReport,
) -> Result<()> {
    for f in &plan.save {
        tx.save_finding(f)?;
    }
    for (id, reason) in &plan.resolve {
        tx.set_finding_status(*id, "resolved", Some(&reason.to_string()), Some(now))?;
    }
    for e in &plan.events {
        tx.set_finding_state(e)?;
    }
    report.opened += plan.opened;
    report.reopened += plan.reopened;
    report.confirmed += plan.confirmed;
    report.updated += plan.updated;
    report.not_affected += plan.not_affected;
    report.resolved += plan.resolve.len();
    Ok(())
}

/// What one vulnerability's evaluation needs from the store, read on the store's thread.
struct GroupInput {
    canonical: String,
    /// Each supporting record: id, source label and (when it has candidates) configurations.
    members: Vec<(
        String,
        String,
        Option<Vec<mamori_core::vuln::Configuration>>,
    )>,
    advisory: Vec<(usize, usize, Candidate)>,
    heads: Vec<FindingHead>,
    facts: GroupFacts,
}

/// What the evaluating thread reads (shared, read-only).
struct EvalCtx<'a, 'b> {
    write: &'a WriteCtx<'a, 'b>,
    pairs: &'a HashMap<String, Vec<u32>>,
    affected: &'a HashMap<String, Vec<mamori_core::vuln::Affected>>,
    vex: &'a HashMap<(i64, String), Vec<mamori_store::StoredVex>>,
    changed_vulns: &'a Option<HashSet<String>>,
}

/// Evaluates one vulnerability's records against their candidate devices and plans the
/// writes.
fn evaluate_group(e: &EvalCtx<'_, '_>, input: GroupInput) -> Plan {
    let ctx = e.write;
    let mut found = Found::new();
    for (vuln, label, configs) in &input.members {
        if let (Some(candidates), Some(configs)) = (e.pairs.get(vuln), configs) {
            let configs: Vec<CompiledConfig> = compile(configs);
            for &d in candidates {
                evaluate_device(
                    &mut found,
                    &configs,
                    ctx.catalogue,
                    &ctx.devices[d as usize],
                    &input.canonical,
                    label,
                );
            }
        }
        let vuln_changed = e.changed_vulns.as_ref().is_none_or(|c| c.contains(vuln));
        for a in e.affected.get(vuln).into_iter().flatten() {
            affected_entry(
                &mut found,
                a,
                ctx.catalogue,
                ctx.devices,
                vuln_changed,
                &input.canonical,
                label,
            );
        }
    }
    for (d, c, cand) in input.advisory {
        merge(
            &mut found,
            ctx.catalogue,
            &ctx.devices[d],
            c,
            &input.canonical,
            cand,
        );
    }
    apply_vex(&mut found, e.vex);
    plan_group(ctx, input.heads, found, &input.facts)
}

/// What a vulnerability's findings take from its records: the CVSS of the canonical record,
/// else of the first supporting record that has one. Read once per vulnerability. (The title
/// is not copied into each finding: `App::finding` reads it.)
#[derive(Debug, Default)]
struct GroupFacts {
    cvss: Option<f64>,
}

fn group_facts(
    tx: &mut dyn Tx,
    cache: &mut HashMap<String, Option<mamori_store::VulnFacts>>,
    canonical: &str,
    members: &[String],
) -> Result<GroupFacts> {
    let mut out = GroupFacts::default();
    for id in std::iter::once(canonical).chain(members.iter().map(String::as_str)) {
        if let Some(x) = facts(tx, cache, id)? {
            out.cvss = out.cvss.or(x.max_cvss);
        }
    }
    Ok(out)
}

/// SHA-256 of what matching wrote: a finding is rewritten only when this changes.
fn digest(f: &Finding) -> String {
    use sha2::{Digest, Sha256};
    // A tuple of references serializes as the JSON array of its fields, without copying the
    // evidence into a new value first.
    let content = (
        &f.component,
        &f.version,
        &f.cpe,
        &f.source,
        &f.confidence,
        f.score,
        &f.level,
        f.kev,
        &f.sources,
        &f.evidence,
    );
    // Serialized into one buffer, then hashed: many small writes into the hash cost more.
    let mut text = Vec::with_capacity(1024);
    let _ = serde_json::to_writer(&mut text, &content);
    let hash = Sha256::digest(&text);
    let mut hex = String::with_capacity(64);
    for b in hash {
        use std::fmt::Write;
        let _ = write!(hex, "{b:02x}");
    }
    hex
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

/// An affected-product entry's version texts (JVN, CSAF) against a component: inside a
/// range read from the texts, or "every version", is affected.
fn affected_truth(
    versions: &[String],
    c: &Component,
) -> (Truth, &'static str, Option<&'static str>) {
    let parsed: Vec<version::Bounds> = versions
        .iter()
        .filter_map(|t| version::parse_affected(t))
        .collect();
    if parsed.iter().any(version::Bounds::is_all) {
        return (Truth::Yes, "medium", None);
    }
    let Some(v) = &c.version else {
        return (Truth::Unknown, "low", Some("version_missing"));
    };
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

/// The device maker's VEX statements (imported with its SBOM) on what was found: the
/// statement is the device's, so it covers every finding of that vulnerability on it.
/// `not_affected` and `false_positive` keep the finding as 影響なし with the file as the
/// reason; any statement is added to the evidence and the sources.
fn apply_vex(found: &mut Found, vex: &HashMap<(i64, String), Vec<mamori_store::StoredVex>>) {
    if vex.is_empty() {
        return;
    }
    for ((asset, _, vuln), (cand, _)) in found.iter_mut() {
        for v in vex.get(&(*asset, vuln.clone())).into_iter().flatten() {
            let label = format!("VEX {}", v.origin);
            cand.sources.insert(label.clone());
            cand.evidence.push(json!({
                "source": label,
                "state": v.state,
                "justification": v.justification,
                "detail": v.detail,
                "refs": v.refs,
            }));
            if matches!(v.state.as_str(), "not_affected" | "false_positive") {
                cand.not_affected = Some(label);
            }
        }
    }
}

/// The id a finding of an advisory's vulnerability is kept under: its CVE, else the
/// advisory id and the vulnerability's position (`ICSMA-20-049-02#1`).
fn advisory_vuln_id(
    advisory: &str,
    position: usize,
    v: &mamori_core::vuln::AdvisoryVulnerability,
) -> String {
    v.cve
        .clone()
        .unwrap_or_else(|| format!("{advisory}#{}", position + 1))
}

/// What advisories support, per vulnerability id.
#[derive(Default)]
struct AdvisoryFound {
    /// (device, component, candidate) per vulnerability id.
    found: HashMap<String, Vec<(usize, usize, Candidate)>>,
    /// The advisory's highest CVSS per vulnerability id, for findings whose CVE has no
    /// record in the store.
    cvss: HashMap<String, Option<f64>>,
    /// Advisories that gave a candidate.
    records: usize,
}

/// The devices by their maker's name, with vendor comparisons remembered (an advisory
/// vendor is compared with each distinct maker once).
struct Makers {
    devices: HashMap<String, Vec<usize>>,
    same: HashMap<(String, String), bool>,
}

impl Makers {
    fn new(devices: &[Device<'_>]) -> Makers {
        let mut by: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, d) in devices.iter().enumerate() {
            if let (Some(m), Some(_)) = (&d.asset.manufacturer, d.named) {
                by.entry(m.clone()).or_default().push(i);
            }
        }
        Makers {
            devices: by,
            same: HashMap::new(),
        }
    }

    /// The devices whose maker is `vendor`.
    fn of(&mut self, vendor: &str) -> Vec<usize> {
        let mut out = Vec::new();
        for (maker, ds) in &self.devices {
            let same = *self
                .same
                .entry((maker.clone(), vendor.to_string()))
                .or_insert_with(|| names::same_vendor(maker, vendor));
            if same {
                out.extend(ds);
            }
        }
        out.sort_unstable();
        out
    }
}

/// One advisory's product statuses against the devices: products with a CPE helper by CPE,
/// the others by vendor and product name (matched with the device's maker and model or
/// name). `known_affected` makes a finding; `known_not_affected` (a VEX statement) keeps the
/// finding as 影響なし with the advisory as the reason.
fn advisory_candidates(
    adv: &mamori_core::vuln::Advisory,
    in_scope: &dyn Fn(&str, usize) -> bool,
    catalogue: &Catalogue,
    devices: &[Device<'_>],
    makers: &mut Makers,
    out: &mut AdvisoryFound,
) {
    use mamori_core::vuln::ProductStatus;
    let label = format!("CSAF {}", adv.id);
    let mut any = false;
    for (vi, v) in adv.vulnerabilities.iter().enumerate() {
        let vuln = advisory_vuln_id(&adv.id, vi, v);
        for (status, pid) in &v.product_status {
            if !matches!(status, ProductStatus::Affected | ProductStatus::NotAffected) {
                continue;
            }
            let Some(p) = adv.products.iter().find(|p| &p.product_id == pid) else {
                continue;
            };
            let versions: Vec<String> = [&p.version, &p.version_range]
                .into_iter()
                .flatten()
                .cloned()
                .collect();
            // (device, component) pairs naming this product.
            let mut hits: Vec<(usize, usize, &'static str)> = Vec::new();
            if let Some(w) = p.cpe.as_deref().and_then(|c| Wfn::parse(c).ok()) {
                let name_only = w.with_any_version();
                let (_, vendor, product) = w.part_vendor_product();
                for &c in catalogue
                    .by_product
                    .get(&(vendor, product))
                    .into_iter()
                    .flatten()
                {
                    if name_only.matches(&catalogue.comps[c].target.wfn) {
                        hits.extend(catalogue.holders[c].iter().map(|&d| (d, c, "cpe")));
                    }
                }
            } else if let Some(vendor) = &p.vendor {
                let product = p.product.as_deref().unwrap_or(&p.name);
                for d in makers.of(vendor) {
                    let device = &devices[d];
                    let named = device.asset.model.iter().chain([&device.asset.name]);
                    if let (Some(c), true) = (
                        device.named,
                        named.into_iter().any(|n| names::same_product(n, product)),
                    ) {
                        hits.push((d, c, "name"));
                    }
                }
            }
            for (d, c, by) in hits {
                if !in_scope(&vuln, d) {
                    continue;
                }
                let comp = &catalogue.comps[c];
                let (truth, confidence, doubt) = affected_truth(&versions, comp);
                // Affected unless outside the versions; not affected only when the device's
                // version is among those the vendor clears (else the statement is not about it).
                let not_affected = *status == ProductStatus::NotAffected;
                if truth == Truth::No || (not_affected && truth != Truth::Yes) {
                    continue;
                }
                any = true;
                out.found.entry(vuln.clone()).or_default().push((
                    d,
                    c,
                    Candidate {
                        truth,
                        confidence,
                        sources: [label.clone()].into(),
                        evidence: vec![json!({
                            "source": label,
                            "advisory": adv.id,
                            "status": status.code(),
                            "vendor": p.vendor,
                            "product": p.product,
                            "product_name": p.name,
                            "versions": versions,
                            "matched_by": by,
                            "component": comp.display,
                            "truth": truth_code(truth),
                            "doubt": doubt,
                        })],
                        doubt: doubt.map(str::to_string),
                        not_affected: not_affected.then(|| adv.id.clone()),
                    },
                ));
            }
        }
        let cvss = v.cvss.iter().map(|c| c.base_score).reduce(f64::max);
        out.cvss.entry(vuln).or_insert(cvss);
    }
    if any {
        out.records += 1;
    }
}

fn rank(confidence: &str) -> u8 {
    match confidence {
        "high" => 2,
        "medium" => 1,
        _ => 0,
    }
}

/// What a run found, by (device, component key, vulnerability): the best-supported
/// candidate and the component it was found on.
type Found = HashMap<(i64, String, String), (Candidate, usize)>;

/// Adds a candidate, merging with what another record (or component) already supports.
fn merge(
    found: &mut Found,
    catalogue: &Catalogue,
    device: &Device<'_>,
    component: usize,
    canonical: &str,
    cand: Candidate,
) {
    let key = (
        device.pk,
        catalogue.comps[component].key.clone(),
        canonical.to_string(),
    );
    match found.get_mut(&key) {
        None => {
            found.insert(key, (cand, component));
        }
        Some((e, c)) => {
            e.sources.extend(cand.sources);
            e.evidence.extend(cand.evidence);
            e.not_affected = e.not_affected.take().or(cand.not_affected);
            if (cand.truth, rank(cand.confidence)) > (e.truth, rank(e.confidence)) {
                e.truth = cand.truth;
                e.confidence = cand.confidence;
                e.doubt = cand.doubt;
                *c = component;
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
    cand: Candidate,
    c: &Component,
    asset: &Asset,
    ctx: &WriteCtx<'_, '_>,
    facts: &GroupFacts,
) {
    let (kev, epss, today) = (ctx.kev, ctx.epss, ctx.today);
    let cvss = facts.cvss;
    let p = score(&f.vuln, cvss, asset, kev, epss, today);
    f.component = c.display.clone();
    f.version = c.version.clone();
    f.cpe = Some(c.cpe.clone());
    f.source = c.source.into();
    f.confidence = cand.confidence.into();
    f.score = p.score;
    f.level = p.level.code().into();
    f.kev = kev.contains_key(&f.vuln);
    f.sources = cand.sources.into_iter().collect();
    f.evidence = json!({
        "truth": truth_code(cand.truth),
        "doubt": cand.doubt,
        "cvss": cvss,
        "priority": p,
    });
    // Moved in, not copied through `json!`.
    f.evidence["matched"] = serde_json::Value::Array(cand.evidence);
    if let Some(advisory) = cand.not_affected {
        f.status = "not_affected".into();
        // Written only when the finding is new; a known one changes through an event.
        f.state = Remediation::NotAffected.code().into();
        f.reason = Some(Resolution::VendorNotAffected { advisory }.to_string());
    }
    f.digest = Some(digest(f));
}
