//! CISA Known Exploited Vulnerabilities (KEV) catalogue JSON.

use chrono::NaiveDate;
use mamori_core::vuln::KevEntry;
use serde::Deserialize;

use crate::{FeedError, Warning};

/// A KEV catalogue.
#[derive(Debug, Clone, PartialEq)]
pub struct KevCatalog {
    /// e.g. `2025.08.25`.
    pub catalog_version: String,
    /// When CISA released this version.
    pub date_released: Option<String>,
    /// The entries, in file order.
    pub entries: Vec<KevEntry>,
    /// Entries skipped or noted.
    pub warnings: Vec<Warning>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCatalog {
    catalog_version: Option<String>,
    date_released: Option<String>,
    count: Option<usize>,
    vulnerabilities: Option<Vec<RawEntry>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEntry {
    #[serde(rename = "cveID")]
    cve_id: Option<String>,
    #[serde(default)]
    vendor_project: String,
    #[serde(default)]
    product: String,
    #[serde(default)]
    vulnerability_name: String,
    date_added: Option<String>,
    #[serde(default)]
    short_description: String,
    #[serde(default)]
    required_action: String,
    due_date: Option<String>,
    #[serde(default)]
    known_ransomware_campaign_use: String,
    #[serde(default)]
    notes: String,
    #[serde(default, deserialize_with = "cwe_list")]
    cwes: Vec<String>,
}

/// `cwes` is a list in the JSON and one comma-separated cell (`"CWE-59, CWE-436"`) in the CSV.
fn cwe_list<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Cwes {
        List(Vec<String>),
        Cell(String),
    }
    Ok(match Cwes::deserialize(d)? {
        Cwes::List(l) => l,
        Cwes::Cell(c) => c
            .split(',')
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_string)
            .collect(),
    })
}

fn date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok()
}

/// Validates raw entries: ids, dates, duplicates; compares with the stated count.
fn entries_from(list: Vec<RawEntry>, count: Option<usize>) -> (Vec<KevEntry>, Vec<Warning>) {
    let mut entries = Vec::with_capacity(list.len());
    let mut warnings = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, e) in list.into_iter().enumerate() {
        let id = e
            .cve_id
            .clone()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty());
        let skip = |message: String| Warning {
            record: i,
            id: id.clone(),
            message,
            skipped: true,
        };
        let Some(cve_id) = id.clone() else {
            warnings.push(skip("no cveID".into()));
            continue;
        };
        let Some(date_added) = e.date_added.as_deref().and_then(date) else {
            warnings.push(skip(format!("dateAdded {:?} is not a date", e.date_added)));
            continue;
        };
        let due_date = match e.due_date.as_deref().filter(|d| !d.trim().is_empty()) {
            Some(d) => match date(d) {
                Some(d) => Some(d),
                None => {
                    warnings.push(skip(format!("dueDate {d:?} is not a date")));
                    continue;
                }
            },
            None => None,
        };
        if !seen.insert(cve_id.clone()) {
            warnings.push(Warning {
                record: i,
                id: Some(cve_id.clone()),
                message: "duplicate cveID".into(),
                skipped: true,
            });
            continue;
        }
        entries.push(KevEntry {
            cve_id,
            vendor_project: e.vendor_project,
            product: e.product,
            vulnerability_name: e.vulnerability_name,
            date_added,
            short_description: e.short_description,
            required_action: e.required_action,
            due_date,
            known_ransomware: e
                .known_ransomware_campaign_use
                .trim()
                .eq_ignore_ascii_case("known"),
            notes: e.notes,
            cwes: e.cwes,
        });
    }
    if let Some(count) = count {
        if count != entries.len() + warnings.iter().filter(|w| w.skipped).count() {
            warnings.push(Warning {
                record: 0,
                id: None,
                message: format!(
                    "the catalogue says count {count} but lists {} entries",
                    entries.len()
                ),
                skipped: false,
            });
        }
    }
    (entries, warnings)
}

/// Parses the KEV catalogue in CISA's CSV form (the same columns as the JSON; `cwes` is a
/// comma-separated list in one cell). The CSV carries no catalogue version: `csv` is used.
pub fn parse_kev_csv(bytes: &[u8]) -> Result<KevCatalog, FeedError> {
    let mut reader = csv::ReaderBuilder::new()
        .from_reader(bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes));
    let headers = reader
        .headers()
        .map_err(|e| FeedError::Csv {
            line: 1,
            message: e.to_string(),
        })?
        .clone();
    if !headers.iter().any(|h| h == "cveID") {
        return Err(FeedError::Format {
            expected: "a CISA KEV CSV",
            detail: "no cveID column".into(),
        });
    }
    let mut list = Vec::new();
    for row in reader.deserialize::<RawEntry>() {
        list.push(row.map_err(|e| FeedError::Csv {
            line: e.position().map(|p| p.line() as usize).unwrap_or(0),
            message: e.to_string(),
        })?);
    }
    let (entries, warnings) = entries_from(list, None);
    Ok(KevCatalog {
        catalog_version: "csv".into(),
        date_released: None,
        entries,
        warnings,
    })
}

/// Parses a KEV catalogue.
pub fn parse_kev(bytes: &[u8]) -> Result<KevCatalog, FeedError> {
    crate::limits::check_json_text(bytes)?;
    let raw: RawCatalog =
        serde_json::from_slice(bytes).map_err(|e| FeedError::from_json(&e, None, None))?;
    let list = raw.vulnerabilities.ok_or_else(|| FeedError::Format {
        expected: "a CISA KEV catalogue",
        detail: "no \"vulnerabilities\" list".into(),
    })?;
    let (entries, warnings) = entries_from(list, raw.count);
    Ok(KevCatalog {
        catalog_version: raw.catalog_version.unwrap_or_default(),
        date_released: raw.date_released,
        entries,
        warnings,
    })
}
