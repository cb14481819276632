//! Writing VEX: what the hospital states about vulnerabilities in its devices, as a
//! CycloneDX 1.5 BOM with `vulnerabilities[].analysis` and as a CSAF 2.0 `csaf_vex`
//! document. Pure: a neutral model in, JSON out; mapping the workflow's states to it is
//! the application's.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

/// A product (a device's component) the statements are about.
#[derive(Debug, Clone)]
pub struct Product {
    /// A stable id within the document (`NW-0018:o:fortinet:fortios:6.0.4`).
    pub id: String,
    /// Device and component, as shown.
    pub name: String,
    /// Component name.
    pub component: String,
    /// Version.
    pub version: Option<String>,
    /// CPE name.
    pub cpe: Option<String>,
}

/// The standard status of a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Still being looked at.
    UnderInvestigation,
    /// Affected; `Response` says what is done.
    Affected(Response),
    /// Not affected, with a justification code (CycloneDX vocabulary).
    NotAffected,
    /// The match was wrong.
    FalsePositive,
    /// Fixed.
    Fixed,
}

/// What is done about an affected product.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Response {
    /// Nothing decided yet.
    None,
    /// An update is planned.
    Update,
    /// Alternative measures are in place.
    Workaround,
    /// The risk is accepted; no fix will be applied.
    WillNotFix,
}

/// One statement: a vulnerability and the products it is about.
#[derive(Debug, Clone)]
pub struct Statement {
    /// CVE or other id.
    pub vuln: String,
    /// The products (ids in `products`).
    pub products: Vec<String>,
    /// Status.
    pub status: Status,
    /// CycloneDX justification code (for `NotAffected`).
    pub justification: Option<String>,
    /// Why, in words.
    pub detail: Option<String>,
    /// When the action is planned (for `Affected(Update)`).
    pub planned: Option<chrono::NaiveDate>,
}

/// The document's frame.
#[derive(Debug, Clone)]
pub struct Document {
    /// Title (CSAF `document.title`).
    pub title: String,
    /// Who states it (CSAF publisher name).
    pub publisher: String,
    /// A stable id (CSAF tracking id).
    pub id: String,
    /// When.
    pub now: DateTime<Utc>,
    /// The tool's version.
    pub tool_version: String,
}

/// A UUID-shaped serial number derived from the document id and time (stable per export).
fn serial(doc: &Document) -> String {
    let mut h: u128 = 0xcbf2_9ce4_8422_2325_cbf2_9ce4_8422_2325;
    for b in doc.id.bytes().chain(doc.now.to_rfc3339().bytes()) {
        h ^= u128::from(b);
        h = h.wrapping_mul(0x0000_0000_0100_0000_0000_0000_0000_013B);
    }
    let x = format!("{h:032x}");
    format!(
        "urn:uuid:{}-{}-4{}-8{}-{}",
        &x[0..8],
        &x[8..12],
        &x[13..16],
        &x[17..20],
        &x[20..32]
    )
}

/// CycloneDX 1.5 JSON.
pub fn cyclonedx(doc: &Document, products: &[Product], statements: &[Statement]) -> Value {
    let components: Vec<Value> = products
        .iter()
        .map(|p| {
            let mut c = json!({"type": "application", "bom-ref": p.id, "name": p.component});
            if let Some(v) = &p.version {
                c["version"] = json!(v);
            }
            if let Some(cpe) = &p.cpe {
                c["cpe"] = json!(cpe);
            }
            c["description"] = json!(p.name);
            c
        })
        .collect();
    let vulnerabilities: Vec<Value> = statements
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let (state, response): (&str, Option<&str>) = match s.status {
                Status::UnderInvestigation => ("in_triage", None),
                Status::Affected(Response::None) => ("exploitable", None),
                Status::Affected(Response::Update) => ("exploitable", Some("update")),
                Status::Affected(Response::Workaround) => ("exploitable", Some("workaround_available")),
                Status::Affected(Response::WillNotFix) => ("exploitable", Some("will_not_fix")),
                Status::NotAffected => ("not_affected", None),
                Status::FalsePositive => ("false_positive", None),
                Status::Fixed => ("resolved", None),
            };
            let mut analysis = json!({ "state": state });
            if let (Status::NotAffected, Some(j)) = (s.status, &s.justification) {
                analysis["justification"] = json!(j);
            }
            if let Some(r) = response {
                analysis["response"] = json!([r]);
            }
            if let Some(d) = &s.detail {
                analysis["detail"] = json!(d);
            }
            let mut v = json!({
                "bom-ref": format!("vuln-{}", i + 1),
                "id": s.vuln,
                "analysis": analysis,
                "affects": s.products.iter().map(|p| json!({"ref": p})).collect::<Vec<_>>(),
            });
            if s.vuln.starts_with("CVE-") {
                v["source"] = json!({"name": "NVD", "url": format!("https://nvd.nist.gov/vuln/detail/{}", s.vuln)});
            }
            v
        })
        .collect();
    json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "serialNumber": serial(doc),
        "version": 1,
        "metadata": {
            "timestamp": doc.now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "tools": { "components": [{ "type": "application", "name": "mamori", "version": doc.tool_version }] },
            "supplier": { "name": doc.publisher },
        },
        "components": components,
        "vulnerabilities": vulnerabilities,
    })
}

/// The CSAF flag label standing for a CycloneDX justification.
fn csaf_flag(justification: Option<&str>) -> &'static str {
    match justification {
        Some("component_not_present") => "component_not_present",
        Some("code_not_present") => "vulnerable_code_not_present",
        Some("code_not_reachable") => "vulnerable_code_not_in_execute_path",
        Some(
            "protected_by_compiler"
            | "protected_at_runtime"
            | "protected_at_perimeter"
            | "protected_by_mitigating_control",
        ) => "inline_mitigations_already_exist",
        _ => "vulnerable_code_cannot_be_controlled_by_adversary",
    }
}

/// CSAF 2.0 `csaf_vex` JSON.
pub fn csaf(doc: &Document, products: &[Product], statements: &[Statement]) -> Value {
    let date = doc.now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let pid = |id: &str| {
        let i = products.iter().position(|p| p.id == id).unwrap_or(0);
        format!("CSAFPID-{:04}", i + 1)
    };
    let full_product_names: Vec<Value> = products
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let mut v = json!({ "name": p.name, "product_id": format!("CSAFPID-{:04}", i + 1) });
            if let Some(cpe) = p.cpe.as_deref().filter(|c| c.starts_with("cpe:")) {
                v["product_identification_helper"] = json!({ "cpe": cpe });
            }
            v
        })
        .collect();
    // One entry per vulnerability: its products' statuses, flags, threats and remediations.
    let mut order: Vec<&str> = Vec::new();
    for s in statements {
        if !order.contains(&s.vuln.as_str()) {
            order.push(&s.vuln);
        }
    }
    let vulnerabilities: Vec<Value> = order
        .iter()
        .map(|vuln| {
            let mut status = serde_json::Map::new();
            let (mut flags, mut threats, mut remediations) = (Vec::new(), Vec::new(), Vec::new());
            for s in statements.iter().filter(|s| s.vuln == *vuln) {
                let ids: Vec<String> = s.products.iter().map(|p| pid(p)).collect();
                let key = match s.status {
                    Status::UnderInvestigation => "under_investigation",
                    Status::Affected(_) => "known_affected",
                    Status::NotAffected | Status::FalsePositive => "known_not_affected",
                    Status::Fixed => "fixed",
                };
                let list = status.entry(key).or_insert_with(|| json!([]));
                for id in &ids {
                    if let Some(a) = list.as_array_mut() {
                        if !a.contains(&json!(id)) {
                            a.push(json!(id));
                        }
                    }
                }
                let detail = s.detail.clone().unwrap_or_default();
                match s.status {
                    Status::NotAffected => flags.push(json!({ "label": csaf_flag(s.justification.as_deref()), "product_ids": ids })),
                    Status::FalsePositive => threats.push(json!({ "category": "impact", "details": format!("False positive. {detail}").trim().to_string(), "product_ids": ids })),
                    Status::Affected(r) => {
                        let (category, text) = match r {
                            Response::Update => ("vendor_fix", format!("Update planned{}. {detail}", s.planned.map(|d| format!(" for {d}")).unwrap_or_default())),
                            Response::Workaround => ("mitigation", format!("Alternative measures in place. {detail}")),
                            Response::WillNotFix => ("no_fix_planned", format!("Risk accepted. {detail}")),
                            Response::None => ("none_available", format!("Under remediation. {detail}")),
                        };
                        let mut rem = json!({ "category": category, "details": text.trim(), "product_ids": ids });
                        if let (Response::Update, Some(d)) = (r, s.planned) {
                            rem["date"] = json!(format!("{d}T00:00:00Z"));
                        }
                        remediations.push(rem);
                    }
                    _ => {}
                }
            }
            let mut v = json!({ "product_status": status });
            if vuln.starts_with("CVE-") {
                v["cve"] = json!(vuln);
            } else {
                v["ids"] = json!([{ "system_name": "mamori", "text": vuln }]);
            }
            for (k, list) in [("flags", flags), ("threats", threats), ("remediations", remediations)] {
                if !list.is_empty() {
                    v[k] = json!(list);
                }
            }
            v
        })
        .collect();
    json!({
        "document": {
            "category": "csaf_vex",
            "csaf_version": "2.0",
            "title": doc.title,
            "publisher": { "category": "user", "name": doc.publisher, "namespace": "urn:mamori:hospital" },
            "tracking": {
                "id": doc.id,
                "status": "final",
                "version": "1",
                "initial_release_date": date,
                "current_release_date": date,
                "revision_history": [{ "date": date, "number": "1", "summary": "Exported by mamori" }],
                "generator": { "engine": { "name": "mamori", "version": doc.tool_version } },
            },
        },
        "product_tree": { "full_product_names": full_product_names },
        "vulnerabilities": vulnerabilities,
    })
}
