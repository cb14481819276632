//! The host collector's edge in the application: collector keys, signing a report for the
//! carry to a closed network, and importing a signed report onto a ledger device — its
//! packages become the device's `host` components, the report is kept, and what matters for
//! safe use (empty passwords, extra UID 0, sshd letting root in, no boot-loader password,
//! auto-login) is reported.
//!
//! *Invariants*: an imported file's signature is checked against a registered, unrevoked
//! collector key before anything is stored; an import is one transaction; reports never hold a
//! password hash (the collector does not keep one).

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use ed25519_dalek::{Signature, Signer, Verifier, VerifyingKey};
use mamori_core::access::Permission;
use mamori_host::report::Concern;
use mamori_host::HostReport;
use mamori_store::{CollectorKey, HostReport as StoredReport, StoredComponent};
use serde::Serialize;
use serde_json::{json, Value};

use crate::bundle::{hex, unhex};
use crate::{audit, io, App, AppError, Result};

/// The format name of a signed report file.
pub const SIGNED_SCHEMA: &str = "mamori-host-report-signed/1";

/// What an import did.
#[derive(Debug, Clone, Serialize)]
pub struct HostImport {
    /// The stored report's id.
    pub id: i64,
    /// 管理番号.
    pub asset_id: String,
    /// The host's name.
    pub hostname: String,
    /// The key that signed it (`None`: collected here directly).
    pub key: Option<String>,
    /// Packages written as components.
    pub packages: usize,
    /// Listening sockets.
    pub listening: usize,
    /// Safe-use concerns.
    pub concerns: Vec<Concern>,
    /// The collector's notes (what it could not read).
    pub notes: Vec<String>,
}

fn bad(ja: String, en: String) -> AppError {
    AppError::bad_value("file", ja, en)
}

/// The bytes a signature covers: the report as JSON with sorted keys.
fn signed_bytes(report: &Value) -> Vec<u8> {
    serde_json::to_vec(report).unwrap_or_default()
}

/// Signs a report with a collector key (`mamori collect keygen`): the signed file's JSON.
pub fn sign_report(report: &HostReport, key: &Path) -> Result<Value> {
    let signer = crate::bundle::signing_key(key)?;
    let value = serde_json::to_value(report).map_err(|e| AppError::Internal(e.to_string()))?;
    // Round-trip through `Value`: its maps are sorted, so the importer rebuilds these bytes.
    let signature = signer.sign(&signed_bytes(&value));
    Ok(json!({
        "schema": SIGNED_SCHEMA,
        "report": value,
        "signature": {
            "algorithm": "ed25519",
            "public_key": hex(signer.verifying_key().as_bytes()),
            "value": hex(&signature.to_bytes()),
        },
    }))
}

/// Writes a signed report file (mode 0600: it lists the host's accounts).
pub fn write_signed(path: &Path, signed: &Value) -> Result<()> {
    let text =
        serde_json::to_string_pretty(signed).map_err(|e| AppError::Internal(e.to_string()))?;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    use std::io::Write;
    let mut f = opts.open(path).map_err(io(path))?;
    f.write_all(text.as_bytes()).map_err(io(path))?;
    Ok(())
}

/// The purl of a package (`pkg:deb/debian/openssl@3.0.11-1~deb12u2?arch=amd64`).
fn purl(p: &mamori_host::report::Package, os: Option<&str>) -> String {
    let ty = if p.source == "rpm" { "rpm" } else { "deb" };
    let ns = os.unwrap_or(if ty == "deb" { "debian" } else { "redhat" });
    let enc = |s: &str| {
        s.chars()
            .map(|c| match c {
                'a'..='z' | 'A'..='Z' | '0'..='9' | '.' | '-' | '_' | '~' | '+' => c.to_string(),
                c => format!("%{:02X}", c as u32),
            })
            .collect::<String>()
    };
    let mut out = format!("pkg:{ty}/{ns}/{}@{}", enc(&p.name), enc(&p.version));
    if let Some(a) = &p.arch {
        out.push_str(&format!("?arch={}", enc(a)));
    }
    out
}

impl App {
    /// Makes a collector key pair (`PATH`, `PATH.pub`) and registers its public half under
    /// `name`. Audited.
    pub fn collector_keygen(&mut self, name: &str, path: &Path) -> Result<(PathBuf, PathBuf)> {
        self.require(Permission::Configure)?;
        if name.trim().is_empty() {
            return Err(AppError::bad_value(
                "--name",
                "鍵の名前を指定してください (例: 本院サーバ室)",
                "give the key a name (e.g. main-server-room)",
            ));
        }
        if self
            .store
            .begin_read()?
            .collector_keys()?
            .iter()
            .any(|k| k.name == name)
        {
            return Err(AppError::bad_value(
                "--name",
                format!("鍵「{name}」は既に登録されています"),
                format!("a key named {name:?} is already registered"),
            ));
        }
        let (secret, public) = crate::bundle::keygen(path)?;
        let key = crate::bundle::trusted_key(&public)?;
        let mut tx = self.store.begin()?;
        let id = tx.insert_collector_key(&CollectorKey {
            id: 0,
            name: name.to_string(),
            public_key: hex(key.as_bytes()),
            created_by: self.actor.clone(),
            created_at: Utc::now(),
            revoked_at: None,
        })?;
        audit(
            tx.as_mut(),
            &self.actor,
            "collect.key",
            Some(&format!("collector_key:{id}")),
            json!({ "name": name, "public_key": hex(key.as_bytes()) }),
        )?;
        tx.commit()?;
        Ok((secret, public))
    }

    /// Imports a signed report file onto a ledger device.
    pub fn import_host_report(&mut self, file: &Path, asset_id: &str) -> Result<HostImport> {
        self.require(Permission::EditLedger)?;
        let meta = std::fs::metadata(file).map_err(io(file))?;
        if meta.len() > 64 << 20 {
            return Err(bad(
                format!("{} は 64 MB を超えています", file.display()),
                format!("{} is over 64 MB", file.display()),
            ));
        }
        let bytes = crate::read_input(file, crate::MAX_INPUT_BYTES)?;
        let not_ours = || {
            bad(
                format!(
                    "{} は mamori collect の署名付きレポートではありません",
                    file.display()
                ),
                format!(
                    "{} is not a signed report of mamori collect",
                    file.display()
                ),
            )
        };
        let signed: Value = serde_json::from_slice(&bytes).map_err(|_| not_ours())?;
        if signed["schema"] != SIGNED_SCHEMA {
            return Err(not_ours());
        }
        let public = signed["signature"]["public_key"].as_str().unwrap_or("");
        let keys = self.store.begin_read()?.collector_keys()?;
        let Some(key) = keys
            .iter()
            .find(|k| k.public_key == public && k.revoked_at.is_none())
        else {
            return Err(bad(
                format!("{}: 署名した鍵が登録されていません (mamori collect keygen で作った鍵で署名してください)", file.display()),
                format!("{}: signed by a key that is not registered (sign with a key made by mamori collect keygen)", file.display()),
            ));
        };
        let verifying = unhex::<32>(public)
            .and_then(|b| VerifyingKey::from_bytes(&b).ok())
            .ok_or_else(not_ours)?;
        let signature = signed["signature"]["value"]
            .as_str()
            .and_then(unhex::<64>)
            .map(|b| Signature::from_bytes(&b))
            .ok_or_else(not_ours)?;
        if verifying
            .verify(&signed_bytes(&signed["report"]), &signature)
            .is_err()
        {
            return Err(bad(
                format!(
                    "{}: 署名が一致しません。ファイルが運搬中に変更された可能性があります",
                    file.display()
                ),
                format!(
                    "{}: the signature does not match; the file was changed after it was signed",
                    file.display()
                ),
            ));
        }
        let report: HostReport = serde_json::from_value(signed["report"].clone()).map_err(|e| {
            bad(
                format!("{}: レポートが読めません ({e})", file.display()),
                format!("{}: the report does not read ({e})", file.display()),
            )
        })?;
        self.store_host_report(report, asset_id, Some(key.name.clone()), digest(&bytes))
    }

    /// Stores a report collected here directly (`mamori collect --import`).
    pub fn import_host_report_direct(
        &mut self,
        report: HostReport,
        asset_id: &str,
    ) -> Result<HostImport> {
        self.require(Permission::EditLedger)?;
        let bytes = serde_json::to_vec(&report).unwrap_or_default();
        self.store_host_report(report, asset_id, None, digest(&bytes))
    }

    fn store_host_report(
        &mut self,
        report: HostReport,
        asset_id: &str,
        key: Option<String>,
        digest: String,
    ) -> Result<HostImport> {
        if report.schema != mamori_host::SCHEMA {
            return Err(bad(
                format!("レポートの形式 {} には対応していません", report.schema),
                format!("report format {} is not supported", report.schema),
            ));
        }
        let collected_at = DateTime::parse_from_rfc3339(&report.collected_at)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|_| Utc::now());
        let actor = self.actor.clone();
        let mut tx = self.store.begin()?;
        let stored = tx
            .asset(asset_id)?
            .ok_or_else(|| AppError::AssetNotFound(asset_id.to_string()))?;
        let os = report.os.id.clone();
        let comps: Vec<StoredComponent> = report
            .packages
            .iter()
            .map(|p| StoredComponent {
                asset: stored.id,
                name: p.name.clone(),
                version: Some(p.version.clone()),
                cpe: None,
                purl: Some(purl(p, os.as_deref())),
                detail: Some(
                    json!({ "source": p.source, "arch": p.arch, "host": report.hostname })
                        .to_string(),
                ),
            })
            .collect();
        tx.replace_components(
            stored.id,
            mamori_core::ComponentSource::Collector.code(),
            &comps,
        )?;
        let id = tx.insert_host_report(&StoredReport {
            id: 0,
            asset: stored.id,
            collected_at,
            hostname: report.hostname.clone(),
            key_name: key.clone(),
            digest: digest.clone(),
            report: serde_json::to_value(&report).map_err(|e| AppError::Internal(e.to_string()))?,
            imported_by: actor.clone(),
            imported_at: Utc::now(),
        })?;
        let concerns = report.concerns();
        audit(
            tx.as_mut(),
            &actor,
            "host.import",
            Some(asset_id),
            json!({
                "report": id, "hostname": report.hostname, "via": report.via, "key": key,
                "sha256": digest, "packages": report.packages.len(),
                "listening": report.listening.len(),
                "concerns": concerns.iter().map(|c| c.code).collect::<Vec<_>>(),
            }),
        )?;
        // The ledger's OS columns, when empty, from the report.
        let mut asset = stored.asset.clone();
        if asset.os.is_none() {
            asset.os = report.os.pretty_name.clone().or(report.os.id.clone());
        }
        if asset.os_version.is_none() {
            asset.os_version = report.os.version_id.clone();
        }
        if asset != stored.asset {
            crate::ledger::save_update(
                tx.as_mut(),
                &actor,
                &stored,
                &asset,
                Some("host report"),
                json!({ "source": "host_report", "report": id }),
            )?;
        }
        tx.commit()?;
        Ok(HostImport {
            id,
            asset_id: asset_id.to_string(),
            hostname: report.hostname,
            key,
            packages: report.packages.len(),
            listening: report.listening.len(),
            concerns,
            notes: report.notes,
        })
    }

    /// A device's host reports, newest first.
    pub fn host_reports(&mut self, asset_id: &str) -> Result<Vec<StoredReport>> {
        self.require(Permission::View)?;
        let tx = self.store.begin_read()?;
        let stored = tx
            .asset(asset_id)?
            .ok_or_else(|| AppError::AssetNotFound(asset_id.to_string()))?;
        Ok(tx.host_reports(Some(stored.id))?)
    }
}

fn digest(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex(&Sha256::digest(bytes))
}
