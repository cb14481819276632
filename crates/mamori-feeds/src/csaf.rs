//! CSAF 2.0 advisories: the product tree (vendor / product / version or range, CPE and
//! purl helpers, full product names, relationships, product groups) and the
//! vulnerabilities (CVE, CWE, scores, product status, remediations).

use std::collections::HashMap;

use mamori_core::vuln::{
    Advisory, AdvisoryProduct, AdvisoryVulnerability, Cvss, CvssVersion, ProductStatus, Remediation,
};
use serde::Deserialize;

use crate::time::parse_timestamp;
use crate::{FeedError, Warning};

/// An advisory and what was noted while reading it.
#[derive(Debug, Clone, PartialEq)]
pub struct CsafFile {
    /// The advisory.
    pub advisory: Advisory,
    /// Notes (unknown product ids, scores without a vector, …).
    pub warnings: Vec<Warning>,
}

#[derive(Deserialize)]
struct Raw {
    document: RawDocument,
    #[serde(default)]
    product_tree: RawProductTree,
    #[serde(default)]
    vulnerabilities: Vec<RawVulnerability>,
}

#[derive(Deserialize)]
struct RawDocument {
    csaf_version: Option<String>,
    title: Option<String>,
    lang: Option<String>,
    publisher: Option<RawPublisher>,
    tracking: Option<RawTracking>,
    #[serde(default)]
    references: Vec<RawReference>,
}

#[derive(Deserialize)]
struct RawPublisher {
    name: Option<String>,
}

#[derive(Deserialize)]
struct RawTracking {
    id: Option<String>,
    initial_release_date: Option<String>,
    current_release_date: Option<String>,
    version: Option<String>,
}

#[derive(Deserialize)]
struct RawReference {
    category: Option<String>,
    url: Option<String>,
    summary: Option<String>,
}

#[derive(Deserialize, Default)]
struct RawProductTree {
    #[serde(default)]
    branches: Vec<RawBranch>,
    #[serde(default)]
    full_product_names: Vec<RawProduct>,
    #[serde(default)]
    relationships: Vec<RawRelationship>,
    #[serde(default)]
    product_groups: Vec<RawGroup>,
}

#[derive(Deserialize)]
struct RawBranch {
    category: Option<String>,
    name: Option<String>,
    product: Option<RawProduct>,
    #[serde(default)]
    branches: Vec<RawBranch>,
}

#[derive(Deserialize)]
struct RawProduct {
    name: Option<String>,
    product_id: Option<String>,
    product_identification_helper: Option<RawHelper>,
}

#[derive(Deserialize)]
struct RawHelper {
    cpe: Option<String>,
    purl: Option<String>,
}

#[derive(Deserialize)]
struct RawRelationship {
    full_product_name: Option<RawProduct>,
}

#[derive(Deserialize)]
struct RawGroup {
    group_id: Option<String>,
    #[serde(default)]
    product_ids: Vec<String>,
}

#[derive(Deserialize)]
struct RawVulnerability {
    cve: Option<String>,
    title: Option<String>,
    cwe: Option<RawCwe>,
    #[serde(default)]
    notes: Vec<RawNote>,
    #[serde(default)]
    product_status: HashMap<String, Vec<String>>,
    #[serde(default)]
    remediations: Vec<RawRemediation>,
    #[serde(default)]
    scores: Vec<RawScore>,
}

#[derive(Deserialize)]
struct RawCwe {
    id: Option<String>,
}

#[derive(Deserialize)]
struct RawNote {
    category: Option<String>,
    text: Option<String>,
}

#[derive(Deserialize)]
struct RawRemediation {
    category: Option<String>,
    details: Option<String>,
    url: Option<String>,
    #[serde(default)]
    product_ids: Vec<String>,
    #[serde(default)]
    group_ids: Vec<String>,
}

#[derive(Deserialize)]
struct RawScore {
    cvss_v2: Option<RawCvss>,
    cvss_v3: Option<RawCvss>,
    cvss_v4: Option<RawCvss>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCvss {
    version: Option<String>,
    vector_string: Option<String>,
    base_score: Option<f64>,
    base_severity: Option<String>,
}

/// Where a branch walk is: the vendor, family and product name seen above.
#[derive(Clone, Default)]
struct Path {
    vendor: Option<String>,
    family: Option<String>,
    product: Option<String>,
    version: Option<String>,
    range: Option<String>,
}

fn walk(branches: &[RawBranch], path: &Path, out: &mut Vec<AdvisoryProduct>, depth: usize) {
    if depth > 32 {
        return; // a real tree is a few levels deep; stop pathological nesting
    }
    for b in branches {
        let mut p = path.clone();
        let name = b.name.clone();
        match b.category.as_deref() {
            Some("vendor") => p.vendor = name,
            Some("product_family") => p.family = name,
            Some("product_name") => p.product = name,
            Some("product_version") => p.version = name,
            Some("product_version_range") => p.range = name,
            _ => {}
        }
        if let Some(prod) = &b.product {
            out.push(product_of(prod, &p));
        }
        walk(&b.branches, &p, out, depth + 1);
    }
}

fn product_of(raw: &RawProduct, p: &Path) -> AdvisoryProduct {
    let product = match (&p.family, &p.product) {
        (Some(f), Some(n)) if f != n => Some(format!("{f} / {n}")),
        (Some(f), None) => Some(f.clone()),
        (_, n) => n.clone(),
    };
    AdvisoryProduct {
        product_id: raw.product_id.clone().unwrap_or_default(),
        name: raw.name.clone().unwrap_or_default(),
        vendor: p.vendor.clone(),
        product,
        version: p.version.clone(),
        version_range: p.range.clone(),
        cpe: raw
            .product_identification_helper
            .as_ref()
            .and_then(|h| h.cpe.clone()),
        purl: raw
            .product_identification_helper
            .as_ref()
            .and_then(|h| h.purl.clone()),
    }
}

fn cvss(raw: &RawCvss, hint: CvssVersion) -> Option<Cvss> {
    Some(Cvss {
        version: raw
            .version
            .as_deref()
            .and_then(CvssVersion::parse)
            .unwrap_or(hint),
        vector: raw.vector_string.clone()?,
        base_score: raw.base_score?,
        severity: raw.base_severity.clone(),
        source: None,
        primary: false,
    })
}

fn status_of(key: &str) -> Option<ProductStatus> {
    Some(match key {
        "known_affected" | "first_affected" | "last_affected" => ProductStatus::Affected,
        "known_not_affected" => ProductStatus::NotAffected,
        "fixed" | "first_fixed" => ProductStatus::Fixed,
        "under_investigation" => ProductStatus::UnderInvestigation,
        "recommended" => ProductStatus::Recommended,
        _ => return None,
    })
}

/// Parses one CSAF 2.0 document.
pub fn parse_csaf(bytes: &[u8]) -> Result<CsafFile, FeedError> {
    crate::limits::check_json_text(bytes)?;
    let raw: Raw =
        serde_json::from_slice(bytes).map_err(|e| FeedError::from_json(&e, None, None))?;
    let doc = raw.document;
    if !doc
        .csaf_version
        .as_deref()
        .is_some_and(|v| v.starts_with("2."))
    {
        return Err(FeedError::Format {
            expected: "a CSAF 2.x document",
            detail: format!("csaf_version is {:?}", doc.csaf_version),
        });
    }
    let tracking = doc.tracking.ok_or_else(|| FeedError::Format {
        expected: "a CSAF 2.x document",
        detail: "no document.tracking".into(),
    })?;
    let id = tracking
        .id
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| FeedError::Format {
            expected: "a CSAF 2.x document",
            detail: "no document.tracking.id".into(),
        })?;
    let mut warnings = Vec::new();
    let mut date = |what: &str, t: Option<String>| {
        t.and_then(|t| {
            let d = parse_timestamp(&t);
            if d.is_none() {
                warnings.push(Warning {
                    record: 0,
                    id: Some(id.clone()),
                    message: format!("{what} {t:?} is not a date"),
                    skipped: false,
                });
            }
            d
        })
    };
    let initial_release = date("initial_release_date", tracking.initial_release_date);
    let current_release = date("current_release_date", tracking.current_release_date);

    let mut products = Vec::new();
    walk(
        &raw.product_tree.branches,
        &Path::default(),
        &mut products,
        0,
    );
    for p in &raw.product_tree.full_product_names {
        products.push(product_of(p, &Path::default()));
    }
    for r in &raw.product_tree.relationships {
        if let Some(p) = &r.full_product_name {
            products.push(product_of(p, &Path::default()));
        }
    }
    products.retain(|p| !p.product_id.is_empty());
    let known: std::collections::HashSet<String> =
        products.iter().map(|p| p.product_id.clone()).collect();
    let groups: HashMap<String, Vec<String>> = raw
        .product_tree
        .product_groups
        .into_iter()
        .filter_map(|g| Some((g.group_id?, g.product_ids)))
        .collect();

    let mut vulnerabilities = Vec::with_capacity(raw.vulnerabilities.len());
    for (i, v) in raw.vulnerabilities.into_iter().enumerate() {
        let mut unknown = Vec::new();
        let mut check = |pid: &String| {
            if !known.contains(pid) {
                unknown.push(pid.clone());
            }
        };
        let mut product_status = Vec::new();
        let mut keys: Vec<&String> = v.product_status.keys().collect();
        keys.sort();
        for key in keys {
            if let Some(status) = status_of(key) {
                for pid in &v.product_status[key] {
                    check(pid);
                    product_status.push((status, pid.clone()));
                }
            }
        }
        let remediations = v
            .remediations
            .into_iter()
            .map(|r| {
                let mut ids = r.product_ids;
                for g in &r.group_ids {
                    ids.extend(groups.get(g).cloned().unwrap_or_default());
                }
                ids.iter().for_each(&mut check);
                Remediation {
                    category: r.category.unwrap_or_default(),
                    details: r.details.unwrap_or_default(),
                    url: r.url,
                    product_ids: ids,
                }
            })
            .collect();
        let mut scores = Vec::new();
        for s in &v.scores {
            for (raw, hint) in [
                (&s.cvss_v4, CvssVersion::V40),
                (&s.cvss_v3, CvssVersion::V31),
                (&s.cvss_v2, CvssVersion::V2),
            ] {
                if let Some(c) = raw.as_ref().and_then(|r| cvss(r, hint)) {
                    if !scores.contains(&c) {
                        scores.push(c);
                    }
                }
            }
        }
        if !unknown.is_empty() {
            unknown.sort();
            unknown.dedup();
            warnings.push(Warning {
                record: i,
                id: v.cve.clone(),
                message: format!(
                    "refers to product ids not in the product tree: {}",
                    unknown.join(", ")
                ),
                skipped: false,
            });
        }
        let summary = v
            .notes
            .iter()
            .find(|n| n.category.as_deref() == Some("summary"))
            .or_else(|| {
                v.notes
                    .iter()
                    .find(|n| n.category.as_deref() == Some("description"))
            })
            .and_then(|n| n.text.clone());
        vulnerabilities.push(AdvisoryVulnerability {
            cve: v.cve.map(|c| c.trim().to_string()),
            title: v.title,
            cwe: v.cwe.and_then(|c| c.id),
            summary,
            cvss: scores,
            product_status,
            remediations,
        });
    }
    let url = doc
        .references
        .iter()
        .find(|r| {
            r.category.as_deref() == Some("self")
                && !r.url.as_deref().unwrap_or("").ends_with(".json")
        })
        .or_else(|| {
            doc.references
                .iter()
                .find(|r| r.category.as_deref() == Some("self"))
        })
        .and_then(|r| r.url.clone().or_else(|| r.summary.clone()));
    Ok(CsafFile {
        advisory: Advisory {
            id: id.trim().to_string(),
            title: doc.title.unwrap_or_default(),
            publisher: doc.publisher.and_then(|p| p.name),
            lang: doc.lang,
            initial_release,
            current_release,
            version: tracking.version,
            url,
            products,
            vulnerabilities,
        },
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_tree_groups_and_relationships() {
        let doc = br#"{"document":{"csaf_version":"2.0","title":"T","tracking":{"id":"X-1","current_release_date":"2024-01-02T00:00:00Z","initial_release_date":"2024-01-01T00:00:00Z","version":"2"}},
          "product_tree":{"branches":[{"category":"vendor","name":"Acme","branches":[{"category":"product_family","name":"Pumps","branches":[{"category":"product_name","name":"P1","branches":[
             {"category":"product_version_range","name":"vers:generic/<2.0","product":{"name":"Acme P1 < 2.0","product_id":"A","product_identification_helper":{"cpe":"cpe:2.3:h:acme:p1:*:*:*:*:*:*:*:*"}}},
             {"category":"product_version","name":"2.0","product":{"name":"Acme P1 2.0","product_id":"B"}}]}]}]}],
            "relationships":[{"category":"installed_on","product_reference":"A","relates_to_product_reference":"B","full_product_name":{"name":"A on B","product_id":"C"}}],
            "product_groups":[{"group_id":"G","product_ids":["A","C"]}]},
          "vulnerabilities":[{"cve":"CVE-2024-0001","product_status":{"known_affected":["A","C"],"fixed":["B"]},
             "remediations":[{"category":"vendor_fix","details":"update to 2.0","group_ids":["G"]}],
             "scores":[{"cvss_v3":{"version":"3.1","vectorString":"CVSS:3.1/AV:N","baseScore":9.8,"baseSeverity":"CRITICAL"},"products":["A"]}]}]}"#;
        let f = parse_csaf(doc).unwrap();
        let a = f.advisory;
        assert_eq!(a.products.len(), 3);
        assert_eq!(a.products[0].product.as_deref(), Some("Pumps / P1"));
        assert_eq!(
            a.products[0].version_range.as_deref(),
            Some("vers:generic/<2.0")
        );
        assert_eq!(a.products[1].version.as_deref(), Some("2.0"));
        assert!(a.products[0].cpe.is_some());
        let v = &a.vulnerabilities[0];
        assert_eq!(v.product_status.len(), 3);
        assert_eq!(v.remediations[0].product_ids, vec!["A", "C"]);
        assert!(f.warnings.is_empty(), "{:?}", f.warnings);
        assert!(parse_csaf(br#"{"document":{"csaf_version":"1.0"}}"#).is_err());
        assert!(parse_csaf(br#"{"document":{"csaf_version":"2.0","tracking":{}}}"#).is_err());
        assert!(matches!(
            parse_csaf(b"{\"document\":"),
            Err(FeedError::Json { .. })
        ));
    }
}
