//! VEX export: the hospital's statements about the vulnerabilities in one device or in one
//! vendor's devices, from the findings and their 対応状況, as CycloneDX 1.5 or CSAF 2.0
//! (`mamori_feeds::vex_out` writes them). States map to the standard vocabularies:
//! 未対応/調査中/事業者確認中 → under investigation; 適用予定 → affected, update planned;
//! 代替策 → affected, workaround; リスク受容 → affected, will not fix; 該当なし → not affected
//! with its justification; 誤検知 → false positive; 適用済 → fixed.

use std::collections::HashMap;
use std::path::Path;

use mamori_core::access::Permission;
use mamori_core::remediation::Remediation;
use mamori_core::Labelled;
use mamori_feeds::vex_out::{self, Document, Product, Response, Statement, Status};
use serde_json::Value;

use crate::{io, App, AppError, Result};

/// Which devices a VEX covers.
#[derive(Debug, Clone)]
pub enum VexScope {
    /// One device (管理番号).
    Asset(String),
    /// Every device this vendor (保守事業者) maintains.
    Vendor(String),
}

/// The format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VexFormat {
    /// CycloneDX 1.5 JSON.
    CycloneDx,
    /// CSAF 2.0 `csaf_vex`.
    Csaf,
}

impl App {
    /// Writes the VEX of `scope` to `path`; returns the number of statements.
    pub fn export_vex(
        &mut self,
        scope: &VexScope,
        format: VexFormat,
        path: &Path,
    ) -> Result<usize> {
        self.require(Permission::Report)?;
        let now = self.now_utc()?;
        let tx = self.store.begin_read()?;
        let mut vendor_of: HashMap<String, Option<String>> = HashMap::new();
        let mut products = Vec::new();
        let mut statements = Vec::new();
        for f in tx.findings(None)? {
            let keep = match scope {
                VexScope::Asset(a) => &f.asset_id == a,
                VexScope::Vendor(v) => {
                    if !vendor_of.contains_key(&f.asset_id) {
                        let vendor = tx.asset(&f.asset_id)?.and_then(|a| a.asset.vendor);
                        vendor_of.insert(f.asset_id.clone(), vendor);
                    }
                    vendor_of[&f.asset_id]
                        .as_deref()
                        .is_some_and(|x| crate::inquiries::same_vendor(x, v))
                }
            };
            if !keep {
                continue;
            }
            let state = Remediation::parse(&f.state).unwrap_or(Remediation::New);
            let last = tx.finding_events(f.id)?.pop().map(|e| e.event);
            let detail = last.as_ref().and_then(|e| e.reason.clone());
            let (status, justification) = match (f.status.as_str(), state) {
                (_, Remediation::Fixed) => (Status::Fixed, None),
                ("resolved", _) => continue,
                ("not_affected", _) => (Status::NotAffected, None),
                (_, Remediation::NotAffected) => (
                    Status::NotAffected,
                    last.as_ref()
                        .and_then(|e| e.detail.get("justification"))
                        .and_then(Value::as_str)
                        .map(str::to_string),
                ),
                (_, Remediation::FalsePositive) => (Status::FalsePositive, None),
                (_, Remediation::FixPlanned) => (Status::Affected(Response::Update), None),
                (_, Remediation::Mitigated) => (Status::Affected(Response::Workaround), None),
                (_, Remediation::RiskAccepted) => (Status::Affected(Response::WillNotFix), None),
                _ => (Status::UnderInvestigation, None),
            };
            let id = format!(
                "{}:{}:{}",
                f.asset_id,
                f.component_key,
                f.version.as_deref().unwrap_or("-")
            );
            if !products.iter().any(|p: &Product| p.id == id) {
                products.push(Product {
                    id: id.clone(),
                    name: format!("{} {} {}", f.asset_id, f.asset_name, f.component),
                    component: f.component.clone(),
                    version: f.version.clone(),
                    cpe: f.cpe.clone(),
                });
            }
            statements.push(Statement {
                vuln: f.vuln.clone(),
                products: vec![id],
                status,
                justification,
                detail,
                planned: f.planned_date,
            });
        }
        if statements.is_empty() {
            let what = match scope {
                VexScope::Asset(a) | VexScope::Vendor(a) => a.clone(),
            };
            return Err(AppError::bad_value(
                "scope",
                format!("{what} には出力できる検出がありません"),
                format!("{what} has no finding to state anything about"),
            ));
        }
        let (label, key) = match scope {
            VexScope::Asset(a) => (format!("device {a}"), a.clone()),
            VexScope::Vendor(v) => (format!("devices maintained by {v}"), v.clone()),
        };
        let doc = Document {
            title: format!("VEX for {label}"),
            publisher: "mamori".into(),
            id: format!("mamori-vex-{}-{}", key, now.format("%Y%m%dT%H%M%SZ")),
            now,
            tool_version: env!("CARGO_PKG_VERSION").into(),
        };
        let json = match format {
            VexFormat::CycloneDx => vex_out::cyclonedx(&doc, &products, &statements),
            VexFormat::Csaf => vex_out::csaf(&doc, &products, &statements),
        };
        let text =
            serde_json::to_string_pretty(&json).map_err(|e| AppError::Internal(e.to_string()))?;
        std::fs::write(path, text).map_err(io(path))?;
        Ok(statements.len())
    }
}
