//! Vulnerability information as mamori keeps it, whatever the source (NVD, JVN, CSAF):
//! identifiers, texts per language, CVSS metrics, weaknesses, references, and the exact
//! applicability logic (NVD configurations) that matching evaluates later.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// One vulnerability record (a CVE, a JVNDB entry, …).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Vulnerability {
    /// The record's own id: `CVE-2021-44228`, `JVNDB-2021-005763`.
    pub id: String,
    /// Other ids for the same vulnerability (a JVNDB entry's CVE ids, and back).
    pub aliases: Vec<String>,
    /// Who assigned or published it (NVD `sourceIdentifier`).
    pub assigner: Option<String>,
    /// First published.
    pub published: Option<DateTime<Utc>>,
    /// Last modified by the source; a newer one replaces an older record.
    pub modified: Option<DateTime<Utc>>,
    /// The source's analysis status (NVD `vulnStatus`, e.g. `Analyzed`, `Rejected`).
    pub status: Option<String>,
    /// Titles per language (JVN has them; NVD does not).
    pub titles: Vec<LangText>,
    /// Descriptions (JVN: 概要) per language.
    pub descriptions: Vec<LangText>,
    /// What an attacker could do (JVN: 想定される影響), per language.
    pub impacts: Vec<LangText>,
    /// What to do (JVN: 対策), per language.
    pub solutions: Vec<LangText>,
    /// CVSS metrics, every version and source given.
    pub cvss: Vec<Cvss>,
    /// CWE ids (`CWE-79`; also `NVD-CWE-Other`, `NVD-CWE-noinfo` as given).
    pub cwes: Vec<String>,
    /// References.
    pub references: Vec<Reference>,
    /// Applicability: the record is relevant to a system when any configuration holds.
    pub configurations: Vec<Configuration>,
    /// Affected products as the source names them, without exact version logic (JVN's
    /// CPE 2.2 names with version text, CSAF product names): matched with lower confidence.
    pub affected: Vec<Affected>,
}

/// A product a source says is affected, as written there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Affected {
    /// Vendor as named (JVN: 「トレンドマイクロ」).
    pub vendor: Option<String>,
    /// Product as named.
    pub product: Option<String>,
    /// CPE name (JVN: CPE 2.2 URI without version).
    pub cpe: Option<String>,
    /// Affected versions as text (「5.8 (Build 1577) 未満」, `<= 3.2`).
    pub versions: Vec<String>,
}

impl Vulnerability {
    /// A record with only its id.
    pub fn new(id: impl Into<String>) -> Vulnerability {
        Vulnerability {
            id: id.into(),
            aliases: Vec::new(),
            assigner: None,
            published: None,
            modified: None,
            status: None,
            titles: Vec::new(),
            descriptions: Vec::new(),
            impacts: Vec::new(),
            solutions: Vec::new(),
            cvss: Vec::new(),
            cwes: Vec::new(),
            references: Vec::new(),
            configurations: Vec::new(),
            affected: Vec::new(),
        }
    }

    /// The description in `lang` (`ja`, `en`), else the first one.
    pub fn description(&self, lang: &str) -> Option<&str> {
        pick(&self.descriptions, lang)
    }

    /// The title in `lang`, else the first one.
    pub fn title(&self, lang: &str) -> Option<&str> {
        pick(&self.titles, lang)
    }

    /// Every CPE match criterion in the configurations.
    pub fn cpe_matches(&self) -> impl Iterator<Item = &CpeMatch> {
        self.configurations
            .iter()
            .flat_map(|c| c.nodes.iter())
            .flat_map(|n| n.matches.iter())
    }
}

fn pick<'a>(texts: &'a [LangText], lang: &str) -> Option<&'a str> {
    texts
        .iter()
        .find(|t| t.lang == lang)
        .or_else(|| texts.first())
        .map(|t| t.value.as_str())
}

/// A text and its language (`en`, `ja`, `es`, …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LangText {
    /// ISO 639-1 language code as given by the source.
    pub lang: String,
    /// The text.
    pub value: String,
}

/// CVSS versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum CvssVersion {
    /// CVSS v2.
    #[serde(rename = "2.0")]
    V2,
    /// CVSS v3.0.
    #[serde(rename = "3.0")]
    V30,
    /// CVSS v3.1.
    #[serde(rename = "3.1")]
    V31,
    /// CVSS v4.0.
    #[serde(rename = "4.0")]
    V40,
}

impl CvssVersion {
    /// The version as written, e.g. `3.1`.
    pub fn as_str(self) -> &'static str {
        match self {
            CvssVersion::V2 => "2.0",
            CvssVersion::V30 => "3.0",
            CvssVersion::V31 => "3.1",
            CvssVersion::V40 => "4.0",
        }
    }

    /// Reads `2`, `2.0`, `3.0`, `3.1`, `4.0`.
    pub fn parse(text: &str) -> Option<CvssVersion> {
        match text.trim() {
            "2" | "2.0" => Some(CvssVersion::V2),
            "3.0" => Some(CvssVersion::V30),
            "3.1" => Some(CvssVersion::V31),
            "4.0" | "4" => Some(CvssVersion::V40),
            _ => None,
        }
    }
}

/// One CVSS metric as published.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cvss {
    /// The CVSS version.
    pub version: CvssVersion,
    /// The vector string, e.g. `CVSS:3.1/AV:N/AC:L/…`.
    pub vector: String,
    /// The base score, 0.0–10.0.
    pub base_score: f64,
    /// The source's severity word (`CRITICAL`, `HIGH`, …), when given.
    pub severity: Option<String>,
    /// Who scored it (`nvd@nist.gov`, a CNA, `jvndb@ipa.go.jp`).
    pub source: Option<String>,
    /// Whether the source marks it primary.
    pub primary: bool,
}

/// A reference link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reference {
    /// The URL.
    pub url: String,
    /// Who supplied it.
    pub source: Option<String>,
    /// Tags such as `Patch`, `Vendor Advisory`.
    pub tags: Vec<String>,
}

/// AND / OR.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Operator {
    /// All must hold.
    #[serde(rename = "AND")]
    And,
    /// Any must hold.
    #[serde(rename = "OR")]
    Or,
}

/// One applicability configuration (NVD `configurations[]`): its nodes combined with
/// `operator` (a single node when there is one), the result negated when `negate`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Configuration {
    /// How the nodes combine.
    pub operator: Operator,
    /// Whether the combined result is negated.
    pub negate: bool,
    /// The nodes.
    pub nodes: Vec<Node>,
}

/// A node: its CPE matches combined with `operator`, negated when `negate`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Node {
    /// How the matches combine.
    pub operator: Operator,
    /// Whether the result is negated.
    pub negate: bool,
    /// The CPE match criteria.
    pub matches: Vec<CpeMatch>,
}

/// One CPE match criterion with its version bounds, kept exactly as published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CpeMatch {
    /// Whether a match means vulnerable (`false`: a platform the product runs on/with).
    pub vulnerable: bool,
    /// The CPE 2.3 name (or 2.2 URI for JVN), possibly with wildcards.
    pub criteria: String,
    /// Versions from this one, inclusive.
    pub version_start_including: Option<String>,
    /// Versions after this one.
    pub version_start_excluding: Option<String>,
    /// Versions up to this one, inclusive.
    pub version_end_including: Option<String>,
    /// Versions before this one.
    pub version_end_excluding: Option<String>,
    /// NVD's id of the criterion, when given.
    pub match_criteria_id: Option<String>,
}

/// One entry of CISA's Known Exploited Vulnerabilities catalogue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KevEntry {
    /// The CVE id.
    pub cve_id: String,
    /// Vendor or project.
    pub vendor_project: String,
    /// Product.
    pub product: String,
    /// CISA's name for it.
    pub vulnerability_name: String,
    /// When CISA added it.
    pub date_added: NaiveDate,
    /// Short description.
    pub short_description: String,
    /// What to do.
    pub required_action: String,
    /// The due date for US federal agencies.
    pub due_date: Option<NaiveDate>,
    /// Whether it is known to be used in ransomware campaigns.
    pub known_ransomware: bool,
    /// Notes (links).
    pub notes: String,
    /// CWE ids.
    pub cwes: Vec<String>,
}

/// One EPSS score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EpssScore {
    /// Probability of exploitation in the next 30 days, 0–1.
    pub epss: f64,
    /// Percentile among all scored CVEs, 0–1, when given (files before 2022 lack it).
    pub percentile: Option<f64>,
}

/// A vendor or coordinator advisory (CSAF 2.0), e.g. CISA ICSMA-17-082-01.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Advisory {
    /// The tracking id, e.g. `ICSMA-17-082-01`.
    pub id: String,
    /// Title.
    pub title: String,
    /// Publisher name, e.g. `CISA`.
    pub publisher: Option<String>,
    /// Document language (`en-US`, `ja`).
    pub lang: Option<String>,
    /// First released.
    pub initial_release: Option<DateTime<Utc>>,
    /// This revision released; a newer one replaces an older one.
    pub current_release: Option<DateTime<Utc>>,
    /// The tracking version string.
    pub version: Option<String>,
    /// The human-readable version's URL, when given.
    pub url: Option<String>,
    /// Products the advisory names, by product id.
    pub products: Vec<AdvisoryProduct>,
    /// Its vulnerabilities.
    pub vulnerabilities: Vec<AdvisoryVulnerability>,
}

/// A product named in an advisory's product tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdvisoryProduct {
    /// The advisory-local id, e.g. `CSAFPID-0001`.
    pub product_id: String,
    /// The full name, e.g. `PerformA: Version 2.0.14.0 and prior versions`.
    pub name: String,
    /// Vendor branch.
    pub vendor: Option<String>,
    /// Product name branch (and family, joined with ` / ` when both are given).
    pub product: Option<String>,
    /// An exact version (`product_version`).
    pub version: Option<String>,
    /// A version range (`product_version_range`, e.g. `<= 2.0.14.0` or `vers:…`).
    pub version_range: Option<String>,
    /// CPE helper, when given.
    pub cpe: Option<String>,
    /// purl helper, when given.
    pub purl: Option<String>,
}

/// How an advisory says a product is affected by one of its vulnerabilities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProductStatus {
    /// known_affected / first_affected / last_affected.
    Affected,
    /// known_not_affected.
    NotAffected,
    /// fixed / first_fixed.
    Fixed,
    /// under_investigation.
    UnderInvestigation,
    /// recommended (a version the vendor recommends).
    Recommended,
}

impl ProductStatus {
    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            ProductStatus::Affected => "affected",
            ProductStatus::NotAffected => "not_affected",
            ProductStatus::Fixed => "fixed",
            ProductStatus::UnderInvestigation => "under_investigation",
            ProductStatus::Recommended => "recommended",
        }
    }

    /// Reads the stable code.
    pub fn from_code(code: &str) -> Option<ProductStatus> {
        [
            Self::Affected,
            Self::NotAffected,
            Self::Fixed,
            Self::UnderInvestigation,
            Self::Recommended,
        ]
        .into_iter()
        .find(|s| s.code() == code)
    }
}

/// One vulnerability of an advisory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdvisoryVulnerability {
    /// CVE id, when assigned.
    pub cve: Option<String>,
    /// Title.
    pub title: Option<String>,
    /// CWE id.
    pub cwe: Option<String>,
    /// Summary text.
    pub summary: Option<String>,
    /// CVSS scores (each for some products; see the advisory).
    pub cvss: Vec<Cvss>,
    /// Product ids by status.
    pub product_status: Vec<(ProductStatus, String)>,
    /// Remediations: vendor fixes, mitigations, workarounds.
    pub remediations: Vec<Remediation>,
}

/// A remediation an advisory gives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Remediation {
    /// `vendor_fix`, `mitigation`, `workaround`, `none_available`, `no_fix_planned`.
    pub category: String,
    /// What to do.
    pub details: String,
    /// Where to get it.
    pub url: Option<String>,
    /// The products it applies to.
    pub product_ids: Vec<String>,
}

/// A security alert from a news-style feed (IPA 重要なセキュリティ情報, JPCERT/CC 注意喚起,
/// NISC): text for people, with the CVE ids found in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    /// The item's link (its identity).
    pub link: String,
    /// The feed's title, e.g. `JPCERT/CC 注意喚起`.
    pub feed: String,
    /// The item's title.
    pub title: String,
    /// The item's summary, when given.
    pub summary: Option<String>,
    /// When published.
    pub published: Option<DateTime<Utc>>,
    /// CVE ids named in the title or summary.
    pub cves: Vec<String>,
}

/// Every `CVE-YYYY-NNNN…` in a text, in order, without repeats.
pub fn find_cve_ids(text: &str) -> Vec<String> {
    let bytes = text.as_bytes();
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while let Some(pos) = text[i..].find("CVE-") {
        let start = i + pos;
        let mut j = start + 4;
        let year = bytes[j..].iter().take_while(|b| b.is_ascii_digit()).count();
        j += year;
        if year == 4 && bytes.get(j) == Some(&b'-') {
            let digits = bytes[j + 1..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count();
            if digits >= 4 {
                let id = &text[start..j + 1 + digits];
                if !out.iter().any(|o| o == id) {
                    out.push(id.to_string());
                }
                i = j + 1 + digits;
                continue;
            }
        }
        i = start + 4;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cve_ids_in_text() {
        assert_eq!(
            find_cve_ids("FortiOS (CVE-2018-13379) と CVE-2024-23113、再掲 CVE-2018-13379。CVE-99-1 CVE-2024-12"),
            vec!["CVE-2018-13379", "CVE-2024-23113"]
        );
        assert!(find_cve_ids("no ids").is_empty());
        assert_eq!(find_cve_ids("CVE-2024-123456x"), vec!["CVE-2024-123456"]);
    }
}
