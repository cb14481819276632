//! Importing a device's SBOM: its components (with CPE and purl) become matchable, and the
//! VEX statements it carries (CycloneDX) are kept for the device.

use std::path::Path;

use mamori_feeds::sbom::parse_sbom;
use mamori_store::{StoredComponent, StoredVex};
use serde::Serialize;
use serde_json::json;

use crate::{audit, App, AppError, Result};

/// What an SBOM import did.
#[derive(Debug, Clone, Serialize)]
pub struct SbomReport {
    /// The device.
    pub asset_id: String,
    /// `CycloneDX` or `SPDX`.
    pub format: String,
    /// Its spec version.
    pub spec_version: String,
    /// Components stored.
    pub components: usize,
    /// Of which with a usable CPE.
    pub with_cpe: usize,
    /// Of which with a purl.
    pub with_purl: usize,
    /// VEX statements stored (a CycloneDX document's `vulnerabilities` with an analysis).
    pub vex: usize,
    /// Components left out or CPEs not used, and why.
    pub problems: Vec<String>,
}

impl App {
    /// Replaces `asset_id`'s SBOM components with those of `file`, in one transaction.
    pub fn import_sbom(&mut self, asset_id: &str, file: &Path) -> Result<SbomReport> {
        self.require(mamori_core::access::Permission::EditLedger)?;
        let bytes = crate::read_input(file, crate::MAX_INPUT_BYTES)?;
        let sbom = parse_sbom(&bytes).map_err(|e| {
            AppError::bad_value(
                file.display().to_string(),
                format!("SBOM として読めません: {e}。CycloneDX (JSON/XML) または SPDX (JSON/tag-value) のファイルを指定してください。何も変更していません"),
                format!("cannot read it as an SBOM: {e}; give a CycloneDX (JSON/XML) or SPDX (JSON/tag-value) file. Nothing was changed"),
            )
        })?;
        let actor = self.actor.clone();
        let mut tx = self.store.begin()?;
        let stored = tx
            .asset(asset_id)?
            .ok_or_else(|| AppError::AssetNotFound(asset_id.to_string()))?;
        let mut problems = sbom.problems.clone();
        let mut rows = Vec::with_capacity(sbom.components.len());
        for c in &sbom.components {
            // An unparseable CPE is reported and not used: the component is kept for the
            // inventory, never matched on a name we cannot read.
            let cpe = match &c.cpe {
                Some(cpe) => match mamori_matching::Wfn::parse(cpe) {
                    Ok(_) => Some(cpe.clone()),
                    Err(e) => {
                        problems.push(format!("{}: CPE \"{cpe}\" not used: {e}", c.name));
                        None
                    }
                },
                None => None,
            };
            rows.push(StoredComponent {
                asset: stored.id,
                name: c.name.clone(),
                version: c.version.clone(),
                cpe,
                purl: c.purl.clone(),
                detail: Some(
                    json!({
                        "file": file.file_name().map(|n| n.to_string_lossy().into_owned()),
                        "ref": c.reference,
                        "supplier": c.supplier,
                    })
                    .to_string(),
                ),
            });
        }
        // A VEX-only document (statements, no components) leaves the components as they are;
        // one with statements replaces the device's statements.
        let vex_only = rows.is_empty() && !sbom.vex.is_empty();
        if !vex_only {
            tx.replace_components(stored.id, "sbom", &rows)?;
        }
        let origin = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if !sbom.vex.is_empty() {
            let vex: Vec<StoredVex> = sbom
                .vex
                .iter()
                .map(|v| StoredVex {
                    asset: stored.id,
                    vuln: v.vuln.clone(),
                    state: v.state.clone(),
                    justification: v.justification.clone(),
                    detail: v.detail.clone(),
                    refs: v.refs.clone(),
                    origin: origin.clone(),
                })
                .collect();
            tx.replace_vex(stored.id, &vex)?;
        }
        let report = SbomReport {
            asset_id: asset_id.to_string(),
            format: sbom.format.to_string(),
            spec_version: sbom.spec_version.clone(),
            components: rows.len(),
            with_cpe: rows.iter().filter(|r| r.cpe.is_some()).count(),
            with_purl: rows.iter().filter(|r| r.purl.is_some()).count(),
            vex: sbom.vex.len(),
            problems,
        };
        audit(
            &mut *tx,
            &actor,
            "sbom.import",
            Some(asset_id),
            json!({
                "file": file.display().to_string(),
                "format": report.format,
                "spec_version": report.spec_version,
                "components": report.components,
                "with_cpe": report.with_cpe,
                "vex": report.vex,
            }),
        )?;
        tx.commit()?;
        Ok(report)
    }
}
