//! Reading findings (filters and roll-ups) and helping users give devices a CPE name.

use std::collections::{BTreeMap, HashSet};

use mamori_core::value::normalize_token;
use mamori_core::Asset;
use mamori_core::Labelled;
pub use mamori_core::Level;
use mamori_matching::Wfn;
use mamori_store::Finding;
use serde::Serialize;

use crate::{App, AppError, Result};

/// Why a finding was resolved or reopened, kept as a code (JSON in the store) and shown in
/// the reader's language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Resolution {
    /// The component was updated to a version outside the affected ranges (更新により解消).
    Updated {
        /// The version the finding was raised for.
        from: Option<String>,
        /// The version now recorded.
        to: Option<String>,
    },
    /// The records no longer name this version (記録の更新により解消).
    RecordsChanged,
    /// The component is no longer recorded on the device (構成品の削除により解消).
    ComponentRemoved,
    /// The device was retired (廃棄).
    Retired,
    /// Found again by matching after being resolved (再検出).
    FoundAgain,
    /// The vendor states the product is not affected (CSAF `known_not_affected`, a VEX).
    VendorNotAffected {
        /// The advisory saying so.
        advisory: String,
    },
    /// A safe-use (8.3) finding no longer observed where a scan looked (スキャンで検出されず解消).
    NotSeen {
        /// The scan.
        scan: i64,
    },
    /// A device not seen for long was seen again by the watch (再び検出され解消).
    SeenAgain,
    /// An address in no ledger row is now a ledger device; its findings continue under it
    /// (台帳登録により解消).
    Registered {
        /// The device's 管理番号.
        asset_id: String,
    },
}

impl std::fmt::Display for Resolution {
    /// The stored form (JSON).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&serde_json::to_string(self).map_err(|_| std::fmt::Error)?)
    }
}

impl Resolution {
    /// Reads a stored reason; `None` for free text written before reasons were codes.
    pub fn parse(stored: &str) -> Option<Resolution> {
        serde_json::from_str(stored).ok()
    }

    /// The reason in words.
    pub fn text(&self, lang: mamori_core::Lang) -> String {
        let v = |o: &Option<String>| o.clone().unwrap_or_else(|| "?".into());
        let ja = lang == mamori_core::Lang::Ja;
        match self {
            Resolution::Updated { from, to } if ja => format!(
                "{} から {} への更新により解消(影響を受けるバージョンの範囲外)",
                v(from),
                v(to)
            ),
            Resolution::Updated { from, to } => format!(
                "resolved by update from {} to {}: outside the affected versions",
                v(from),
                v(to)
            ),
            Resolution::RecordsChanged => lang
                .pick(
                    "脆弱性情報の更新により解消(このバージョンは対象外になった)",
                    "resolved: the vulnerability records no longer name this version",
                )
                .into(),
            Resolution::ComponentRemoved => lang
                .pick(
                    "構成品が機器から削除されたため解消",
                    "resolved: the component is no longer recorded on the device",
                )
                .into(),
            Resolution::Retired => lang
                .pick("機器の廃棄により解消", "resolved: the device was retired")
                .into(),
            Resolution::FoundAgain => lang
                .pick("再検出(照合で再び該当)", "found again by matching")
                .into(),
            Resolution::VendorNotAffected { advisory } if ja => {
                format!("事業者が影響なしと表明({advisory})")
            }
            Resolution::VendorNotAffected { advisory } => {
                format!("the vendor states the product is not affected ({advisory})")
            }
            Resolution::NotSeen { scan } if ja => {
                format!("スキャン #{scan} で検出されず解消")
            }
            Resolution::NotSeen { scan } => format!("resolved: not seen in scan #{scan}"),
            Resolution::SeenAgain => lang
                .pick(
                    "監視で再び検出され解消",
                    "resolved: seen again by the watch",
                )
                .into(),
            Resolution::Registered { asset_id } if ja => {
                format!("台帳に {asset_id} として登録されたため解消(以後は機器の所見)")
            }
            Resolution::Registered { asset_id } => {
                format!("resolved: registered in the ledger as {asset_id} (its findings continue there)")
            }
        }
    }

    /// A stored reason in words: codes rendered, older free text as written.
    pub fn render(stored: &str, lang: mamori_core::Lang) -> String {
        Resolution::parse(stored)
            .map(|r| r.text(lang))
            .unwrap_or_else(|| stored.to_string())
    }
}

/// Which findings to list. Empty fields do not filter.
#[derive(Debug, Clone, Default)]
pub struct FindingQuery {
    /// 管理番号.
    pub asset: Option<String>,
    /// A CVE or JVNDB id (a finding matches when it is kept under it or a source names it).
    pub vuln: Option<String>,
    /// Only KEV findings.
    pub kev: bool,
    /// At least this level.
    pub min_level: Option<Level>,
    /// `open` (default), `resolved`, `not_affected` or `all`.
    pub status: Option<String>,
    /// 部署 (exact).
    pub department: Option<String>,
    /// Only findings in this 対応状況.
    pub state: Option<mamori_core::remediation::Remediation>,
    /// Only findings past their due date (対応期限) and still being handled.
    pub overdue: bool,
    /// `8.2` (vulnerabilities) or `8.3` (safe-use findings of scans).
    pub category: Option<String>,
}

/// A finding's due date (対応期限): first seen plus the days its priority allows.
pub fn due_date(f: &Finding, sla: &mamori_core::remediation::Sla) -> chrono::NaiveDate {
    let level = Level::parse(&f.level).unwrap_or(Level::Low);
    sla.due(f.first_seen.date_naive(), level, f.kev)
}

/// Whether a finding is past its due date and still needs action (present, and in an open
/// state of the workflow).
pub fn is_overdue(
    f: &Finding,
    sla: &mamori_core::remediation::Sla,
    today: chrono::NaiveDate,
) -> bool {
    f.status == "open"
        && mamori_core::remediation::Remediation::parse(&f.state).is_some_and(|s| s.is_open())
        && due_date(f, sla) < today
}

/// How to group findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    /// A device's component (product and version): the action "update X on device Y".
    Component,
    /// A vulnerability across devices.
    Vulnerability,
    /// A device.
    Asset,
}

/// A group of findings.
#[derive(Debug, Clone, Serialize)]
pub struct Group {
    /// What the group is: `NW-0018 fortios 6.0.4`, `CVE-2018-13379`, `NW-0018`.
    pub key: String,
    /// Findings in it.
    pub findings: usize,
    /// Of those in KEV.
    pub kev: usize,
    /// Of those to be confirmed (low confidence).
    pub to_confirm: usize,
    /// Worst level code.
    pub worst_level: String,
    /// Highest score.
    pub worst_score: f64,
    /// Devices concerned.
    pub assets: usize,
    /// Vulnerabilities concerned.
    pub vulns: usize,
}

impl App {
    /// Findings matching `q`, most urgent first.
    pub fn findings(&mut self, q: &FindingQuery) -> Result<Vec<Finding>> {
        self.require(mamori_core::access::Permission::View)?;
        let sla = self.sla()?;
        let today = self.today();
        let tx = self.store.begin_read()?;
        let asset = match &q.asset {
            Some(a) => Some(
                tx.asset(a)?
                    .ok_or_else(|| AppError::AssetNotFound(a.clone()))?
                    .id,
            ),
            None => None,
        };
        let status = q.status.clone().unwrap_or_else(|| "open".into());
        let all = tx.findings(asset)?;
        Ok(all
            .into_iter()
            .filter(|f| status == "all" || f.status == status)
            .filter(|f| !q.kev || f.kev)
            .filter(|f| q.state.is_none_or(|s| f.state == s.code()))
            .filter(|f| match q.category.as_deref() {
                Some("8.3") => f.vuln.starts_with("8.3:"),
                Some(_) => !f.vuln.starts_with("8.3:"),
                None => true,
            })
            .filter(|f| !q.overdue || is_overdue(f, &sla, today))
            .filter(|f| {
                q.min_level
                    .is_none_or(|m| Level::parse(&f.level).is_some_and(|l| l >= m))
            })
            .filter(|f| {
                q.department
                    .as_ref()
                    .is_none_or(|d| f.department.as_deref() == Some(d.as_str()))
            })
            .filter(|f| {
                q.vuln.as_ref().is_none_or(|v| {
                    f.vuln.eq_ignore_ascii_case(v)
                        || f.sources
                            .iter()
                            .any(|s| s.to_ascii_uppercase().ends_with(&v.to_ascii_uppercase()))
                })
            })
            .collect())
    }

    /// One finding, with the vulnerability's title in `evidence.title` (read from its records
    /// or advisories, not kept per finding).
    pub fn finding(&mut self, id: i64) -> Result<Finding> {
        self.require(mamori_core::access::Permission::View)?;
        let tx = self.store.begin_read()?;
        let mut f = tx.finding(id)?.ok_or(AppError::FindingNotFound(id))?;
        // The finding's own record, then each supporting one ("NVD CVE-…", "CSAF ICSMA-…").
        let mut title = tx.vuln_facts(&f.vuln)?.and_then(|x| x.title);
        for s in &f.sources {
            if title.is_some() {
                break;
            }
            let Some(id) = s.split_whitespace().last() else {
                continue;
            };
            title = match tx.vuln_facts(id)?.and_then(|x| x.title) {
                Some(t) => Some(t),
                None => tx.advisory(id)?.map(|(a, _)| a.title),
            };
        }
        if let Some(t) = title {
            f.evidence["title"] = serde_json::json!(t);
        }
        Ok(f)
    }
}

/// Groups findings, most urgent group first.
pub fn group(findings: &[Finding], by: GroupBy) -> Vec<Group> {
    let mut groups: BTreeMap<String, Vec<&Finding>> = BTreeMap::new();
    for f in findings {
        let key = match by {
            GroupBy::Component => format!("{} {}", f.asset_id, f.component),
            GroupBy::Vulnerability => f.vuln.clone(),
            GroupBy::Asset => format!("{} {}", f.asset_id, f.asset_name),
        };
        groups.entry(key).or_default().push(f);
    }
    let mut out: Vec<Group> = groups
        .into_iter()
        .map(|(key, fs)| {
            let worst = fs
                .iter()
                .max_by(|a, b| {
                    (Level::parse(&a.level), a.score)
                        .partial_cmp(&(Level::parse(&b.level), b.score))
                        .unwrap_or(std::cmp::Ordering::Equal)
                })
                .expect("groups are not empty");
            Group {
                key,
                findings: fs.len(),
                kev: fs.iter().filter(|f| f.kev).count(),
                to_confirm: fs.iter().filter(|f| f.confidence == "low").count(),
                worst_level: worst.level.clone(),
                worst_score: worst.score,
                assets: fs.iter().map(|f| f.asset).collect::<HashSet<_>>().len(),
                vulns: fs.iter().map(|f| &f.vuln).collect::<HashSet<_>>().len(),
            }
        })
        .collect();
    out.sort_by(|a, b| {
        (Level::parse(&b.worst_level), b.kev, b.worst_score)
            .partial_cmp(&(Level::parse(&a.worst_level), a.kev, a.worst_score))
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(b.findings.cmp(&a.findings))
    });
    out
}

/// One suggested CPE name for a device.
#[derive(Debug, Clone, Serialize)]
pub struct Suggestion {
    /// The CPE to set (without a version when it names the OS/firmware: the バージョン column
    /// then supplies it, so updating that column re-matches).
    pub cpe: String,
    /// What it is for: `os` or `software: <name>`.
    pub for_what: String,
    /// 0–1, higher is better.
    pub score: f64,
    /// Records in the store naming it.
    pub records: i64,
}

/// Vendor names as Japanese ledgers write them, mapped to the CPE vendor (company names;
/// each is the company's own Japanese name as used on its Japanese web site).
const VENDOR_ALIASES: &[(&str, &str)] = &[
    ("フォーティネット", "fortinet"),
    ("シスコ", "cisco"),
    ("シスコシステムズ", "cisco"),
    ("マイクロソフト", "microsoft"),
    ("日本マイクロソフト", "microsoft"),
    ("シトリックス", "citrix"),
    ("パロアルトネットワークス", "paloaltonetworks"),
    ("ジュニパー", "juniper"),
    ("ヴイエムウェア", "vmware"),
    ("オラクル", "oracle"),
    ("アップル", "apple"),
    ("トレンドマイクロ", "trendmicro"),
    ("シーメンス", "siemens"),
    ("フィリップス", "philips"),
    ("富士通", "fujitsu"),
    ("日立", "hitachi"),
    ("東芝", "toshiba"),
    ("キヤノン", "canon"),
    ("ヤマハ", "yamaha"),
    ("アライドテレシス", "alliedtelesis"),
    ("バッファロー", "buffalo"),
    ("エヌイーシー", "nec"),
    ("日本電気", "nec"),
    ("アイ・オー・データ", "iodata"),
    ("ヒューレット・パッカード", "hp"),
    ("デル", "dell"),
    ("レノボ", "lenovo"),
    ("アドビ", "adobe"),
    ("グーグル", "google"),
    ("オムロン", "omron"),
];

fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(normalize_token)
        .filter(|w| {
            !matches!(
                w.as_str(),
                "inc" | "corp" | "corporation" | "co" | "ltd" | "llc" | "株式会社" | "the"
            )
        })
        .collect()
}

fn vendor_candidates(manufacturer: Option<&str>) -> Vec<String> {
    let Some(m) = manufacturer else {
        return Vec::new();
    };
    let norm = normalize_token(m);
    let mut out: Vec<String> = VENDOR_ALIASES
        .iter()
        .filter(|(ja, _)| norm.contains(&normalize_token(ja)))
        .map(|(_, v)| v.to_string())
        .collect();
    let w = words(m);
    out.push(w.concat());
    out.extend(w);
    out.retain(|v| !v.is_empty());
    out
}

/// Ranks the store's known products for a product name and manufacturer.
/// A known product: part, vendor, product and the number of records naming it.
type Known = (String, String, String, i64);

fn rank<'k>(known: &'k [Known], manufacturer: Option<&str>, name: &str) -> Vec<(f64, &'k Known)> {
    let mut vendors = vendor_candidates(manufacturer);
    let mut name_words = words(name);
    // "Citrix ADC", "Cisco IOS": a vendor name inside the product name names the vendor.
    if name_words.len() > 1 {
        let named: Vec<String> = name_words
            .iter()
            .filter(|w| known.iter().any(|k| &k.1 == *w))
            .take(1)
            .cloned()
            .collect();
        if let Some(v) = named.first() {
            if !vendors.contains(v) {
                vendors.push(v.clone());
            }
            name_words.retain(|w| w != v);
        }
    }
    let joined = name_words.join("_");
    let mut out = Vec::new();
    for k in known {
        let (_, vendor, product, count) = k;
        let vendor_match = vendors.iter().any(|v| v == vendor);
        let product_words: Vec<&str> = product.split('_').collect();
        let mut common = product_words
            .iter()
            .filter(|w| name_words.iter().any(|n| n == *w))
            .count();
        // An abbreviation: "ADC" for application_delivery_controller(_firmware).
        let initials: String = product_words
            .iter()
            .filter_map(|w| w.chars().next())
            .collect();
        if vendor_match
            && name_words.iter().any(|n| {
                n.len() >= 2 && (initials == *n || initials.strip_suffix('f') == Some(n.as_str()))
            })
        {
            common = common.max(
                product_words.len()
                    - usize::from(initials.ends_with('f') && product.ends_with("_firmware")),
            );
        }
        if common == 0 && !(vendor_match && name_words.iter().any(|n| product.contains(n.as_str())))
        {
            continue;
        }
        let union = product_words.len() + name_words.len() - common;
        let mut s = (common as f64 / union.max(1) as f64).min(1.0);
        if *product == joined || *product == name_words.concat() {
            s = 1.0;
        }
        if vendor_match {
            s = 0.6 + 0.4 * s;
        } else if !vendors.is_empty() {
            s *= 0.5;
        }
        s += ((*count as f64).ln_1p() / 1000.0).min(0.01);
        out.push((s, k));
    }
    out.sort_by(|a, b| b.0.total_cmp(&a.0).then(b.1 .3.cmp(&a.1 .3)));
    out.truncate(5);
    out
}

/// Suggestions for a device's OS/firmware and each software entry, best first.
pub fn suggest(known: &[(String, String, String, i64)], asset: &Asset) -> Vec<Suggestion> {
    let mut out = Vec::new();
    if let Some(os) = &asset.os {
        for (s, (part, vendor, product, n)) in rank(known, asset.manufacturer.as_deref(), os) {
            out.push(Suggestion {
                cpe: Wfn::parse(&format!(
                    "cpe:2.3:{part}:{vendor}:{product}:*:*:*:*:*:*:*:*"
                ))
                .map(|w| w.to_fs())
                .unwrap_or_default(),
                for_what: "os".into(),
                score: (s * 100.0).round() / 100.0,
                records: *n,
            });
        }
    }
    for sw in &asset.software {
        for (s, (part, vendor, product, n)) in rank(known, None, &sw.name) {
            let version = sw.version.as_deref().unwrap_or("*");
            let cpe = Wfn::parse(&format!(
                "cpe:2.3:{part}:{vendor}:{product}:*:*:*:*:*:*:*:*"
            ))
            .map(|w| {
                if version == "*" {
                    w.to_fs()
                } else {
                    w.with_version(version).to_fs()
                }
            })
            .unwrap_or_default();
            out.push(Suggestion {
                cpe,
                for_what: format!("software: {}", sw.name),
                score: (s * 100.0).round() / 100.0,
                records: *n,
            });
        }
    }
    out.retain(|s| !s.cpe.is_empty());
    out
}

impl App {
    /// CPE suggestions for a device, from the vendor and product names the store knows.
    pub fn suggest_cpe(&mut self, asset_id: &str) -> Result<(Asset, Vec<Suggestion>)> {
        self.require(mamori_core::access::Permission::View)?;
        let tx = self.store.begin_read()?;
        let stored = tx
            .asset(asset_id)?
            .ok_or_else(|| AppError::AssetNotFound(asset_id.to_string()))?;
        let known = tx.known_products()?;
        let s = suggest(&known, &stored.asset);
        Ok((stored.asset, s))
    }

    /// Sets a device's CPE names (replacing the CPE column), after checking each binds.
    pub fn set_cpe(&mut self, asset_id: &str, cpes: &[String], reason: Option<&str>) -> Result<()> {
        self.require(mamori_core::access::Permission::EditLedger)?;
        for c in cpes {
            if let Err(e) = Wfn::parse(c) {
                return Err(AppError::bad_value(
                    "CPE",
                    format!("「{c}」は CPE 名ではありません ({e})。`mamori ledger cpe suggest {asset_id}` で候補を表示できます"),
                    format!("\"{c}\" is not a CPE name ({e}); `mamori ledger cpe suggest {asset_id}` lists candidates"),
                ));
            }
        }
        let value = cpes.join("\n");
        self.edit_asset(asset_id, &[("cpe".to_string(), value)], reason)?;
        Ok(())
    }
}

/// Open findings counted for a dashboard.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FindingSummary {
    /// Open findings by level code.
    pub by_level: std::collections::BTreeMap<String, usize>,
    /// Open vulnerabilities (8.2).
    pub vulnerabilities: usize,
    /// Open safe-use findings (8.3).
    pub safe_use: usize,
    /// Open 8.3 findings by check (`8.3:unregistered` …).
    pub by_check: std::collections::BTreeMap<String, usize>,
    /// Open findings in KEV.
    pub kev: usize,
    /// Past their due date and still needing action.
    pub overdue: usize,
    /// Devices not retired.
    pub devices: usize,
    /// Of those, past their end of support.
    pub past_eos: usize,
    /// Open findings at the end of each of the last [`TREND_DAYS`] days, oldest first:
    /// (day, vulnerabilities, safe-use findings). Worked out from when each finding was first
    /// found and resolved (a finding resolved and found again counts from its reopening).
    pub trend: Vec<(chrono::NaiveDate, usize, usize)>,
}

/// Days the dashboard's trend covers.
pub const TREND_DAYS: u64 = 90;

/// Open findings per day from the store's counts (see [`FindingSummary::trend`]).
pub fn trend(
    counts: &[mamori_store::TrendCount],
    since: chrono::NaiveDate,
    today: chrono::NaiveDate,
) -> Vec<(chrono::NaiveDate, usize, usize)> {
    let mut open = [0i64; 2];
    let slot = |c: &str| usize::from(c == "8.3");
    for c in counts.iter().filter(|c| c.day.is_none()) {
        open[slot(&c.category)] += c.opened;
    }
    let mut out = Vec::new();
    let mut day = since;
    while day <= today {
        for c in counts.iter().filter(|c| c.day == Some(day)) {
            open[slot(&c.category)] += c.opened - c.resolved;
        }
        out.push((day, open[0].max(0) as usize, open[1].max(0) as usize));
        day = day.succ_opt().unwrap_or(day);
        if out.len() > 400 {
            break;
        }
    }
    out
}

impl App {
    /// When an open finding is overdue today, as the store asks it.
    fn overdue_cutoffs(&mut self) -> Result<mamori_store::Overdue> {
        let sla = self.sla()?;
        let today = self.today();
        let cut = |days: u32| {
            (today - chrono::Days::new(u64::from(days)))
                .format("%Y-%m-%d")
                .to_string()
        };
        Ok(mamori_store::Overdue {
            kev: cut(sla.kev_days),
            urgent: cut(sla.urgent_days),
            high: cut(sla.high_days),
            other: cut(sla.other_days),
            open_states: mamori_core::remediation::Remediation::ALL
                .iter()
                .filter(|r| r.is_open())
                .map(|r| r.code().to_string())
                .collect(),
        })
    }

    /// One page of the findings matching `q`, most urgent first, and how many match in all —
    /// counted and paged by the store, for lists of any size.
    pub fn findings_page(
        &mut self,
        q: &FindingQuery,
        offset: usize,
        limit: usize,
    ) -> Result<(usize, Vec<Finding>)> {
        self.findings_page_known(q, offset, limit, None)
    }

    /// [`App::findings_page`] with the total already known (a cache's): not counted again.
    pub fn findings_page_known(
        &mut self,
        q: &FindingQuery,
        offset: usize,
        limit: usize,
        total: Option<usize>,
    ) -> Result<(usize, Vec<Finding>)> {
        self.require(mamori_core::access::Permission::View)?;
        let overdue = if q.overdue {
            Some(self.overdue_cutoffs()?)
        } else {
            None
        };
        let tx = self.store.begin_read()?;
        let asset = match &q.asset {
            Some(a) => Some(
                tx.asset(a)?
                    .ok_or_else(|| AppError::AssetNotFound(a.clone()))?
                    .id,
            ),
            None => None,
        };
        let status = q.status.clone().unwrap_or_else(|| "open".into());
        let page = mamori_store::FindingPageQuery {
            status: (status != "all").then_some(status),
            category: q
                .category
                .as_deref()
                .map(|c| if c == "8.3" { "8.3" } else { "vuln" }.to_string()),
            levels: q.min_level.map(|m| {
                Level::ALL
                    .iter()
                    .filter(|l| **l >= m)
                    .map(|l| l.code().to_string())
                    .collect()
            }),
            kev: q.kev,
            asset,
            state: q.state.map(|s| s.code().to_string()),
            department: q.department.clone(),
            vuln: q.vuln.clone(),
            overdue,
            offset,
            limit,
            total,
        };
        Ok(tx.findings_page(&page)?)
    }

    /// The dashboard's counts, from the store's aggregates (not from every finding).
    pub fn finding_summary(&mut self) -> Result<FindingSummary> {
        self.require(mamori_core::access::Permission::View)?;
        let overdue = self.overdue_cutoffs()?;
        let today = self.today();
        let tx = self.store.begin_read()?;
        let mut s = FindingSummary::default();
        let t = tx.finding_totals(&overdue)?;
        for (level, category, n) in &t.by_level_category {
            *s.by_level.entry(level.clone()).or_insert(0) += n;
            if category == "8.3" {
                s.safe_use += n;
            } else {
                s.vulnerabilities += n;
            }
        }
        s.by_check = t.by_check.into_iter().collect();
        s.kev = t.kev;
        s.overdue = t.overdue;
        (s.devices, s.past_eos) = tx.asset_counts(today)?;
        let since = today - chrono::Days::new(TREND_DAYS - 1);
        s.trend = trend(&tx.finding_trend(since)?, since, today);
        Ok(s)
    }

    /// One page of the devices matching `filter`, in `sort` order, and how many match.
    pub fn assets_page(
        &mut self,
        filter: &mamori_store::AssetFilter,
        sort: mamori_store::AssetSort,
        offset: usize,
        limit: usize,
    ) -> Result<(usize, Vec<mamori_store::StoredAsset>)> {
        self.require(mamori_core::access::Permission::View)?;
        Ok(self
            .store
            .begin_read()?
            .assets_page(filter, sort, offset, limit)?)
    }

    /// A watch on the store's changes (see [`mamori_store::ChangeWatch`]).
    pub fn change_watch(data_dir: &std::path::Path) -> Result<mamori_store::ChangeWatch> {
        Ok(mamori_store::ChangeWatch::open(
            &data_dir.join(crate::DB_FILE),
        )?)
    }
}

#[cfg(test)]
mod trend_tests {
    use super::trend;
    use chrono::NaiveDate;
    use mamori_store::TrendCount;

    fn d(day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, day).unwrap()
    }

    #[test]
    fn open_findings_are_carried_day_by_day() {
        let c = |category: &str, day: Option<u32>, opened: i64, resolved: i64| TrendCount {
            category: category.into(),
            day: day.map(d),
            opened,
            resolved,
        };
        let counts = [
            c("vuln", None, 10, 0),
            c("8.3", None, 1, 0),
            c("vuln", Some(2), 5, 0),
            c("vuln", Some(3), 0, 12),
            c("8.3", Some(3), 2, 1),
        ];
        let t = trend(&counts, d(1), d(4));
        assert_eq!(
            t,
            vec![(d(1), 10, 1), (d(2), 15, 1), (d(3), 3, 2), (d(4), 3, 2)]
        );
        // More resolved than known opened never shows as a negative count.
        let t = trend(&[c("vuln", Some(1), 0, 3)], d(1), d(1));
        assert_eq!(t, vec![(d(1), 0, 0)]);
    }
}
