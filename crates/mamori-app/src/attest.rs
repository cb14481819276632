//! 企画管理者の確認 (attestations): per device, the planning administrator confirms the start-up
//! password, changed factory-default passwords (the device's and its server software's admin
//! IDs), stopped unneeded services and the initial settings — with who, when, evidence and a
//! re-confirmation interval. What is due, and the coverage per department and kind.
//!
//! *Invariants*: attestations are never edited or deleted (a new one supersedes); the ledger's
//! 起動時パスワード and 出荷時パスワード変更 columns follow the current attestations (one audited
//! change, in the same transaction); retired devices are not due.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use chrono::{Duration, NaiveDate};
use mamori_core::access::Permission;
use mamori_core::attest::{self, AttestItem, AttestValue};
use mamori_core::scan::Check83;
use mamori_core::{AssetStatus, Labelled, Lang};
use mamori_store::{AssetFilter, StoredAttestation};
use serde::Serialize;
use serde_json::json;

use crate::{audit, App, AppError, Result};

/// The setting with the default re-confirmation interval in days.
pub const INTERVAL_KEY: &str = "attest.interval_days";
/// Its default: once a year, as the inspection checklist is answered.
pub const DEFAULT_INTERVAL_DAYS: i64 = 365;

/// One attestation to record.
#[derive(Debug, Clone)]
pub struct AttestRequest {
    /// 管理番号.
    pub asset_id: String,
    /// What is confirmed.
    pub item: AttestItem,
    /// The answer.
    pub value: AttestValue,
    /// Where the evidence is.
    pub evidence: Option<String>,
    /// A file kept as evidence (a photo of the BIOS screen, the vendor's letter).
    pub attachment: Option<PathBuf>,
    /// Re-confirm after this many days (default: the setting, else 365).
    pub interval_days: Option<i64>,
}

/// The current state of one item of one device.
#[derive(Debug, Clone, Serialize)]
pub struct AttestState {
    /// 管理番号.
    pub asset_id: String,
    /// 機器名.
    pub name: String,
    /// 部署.
    pub department: Option<String>,
    /// 機器種別 code.
    pub kind: String,
    /// Item code.
    pub item: String,
    /// Current value code, if attested.
    pub value: Option<String>,
    /// Who.
    pub actor: Option<String>,
    /// When (local date).
    pub date: Option<NaiveDate>,
    /// Re-confirm by.
    pub due: Option<NaiveDate>,
    /// `ok`, `no` (いいえ), `expired`, `missing`, or `contradicted`: confirmed changed, but a
    /// default-credential check found a default password on the device (the findings below).
    pub state: String,
    /// Open 出荷時パスワード未変更 / 認証なし findings that contradict a はい.
    pub contradicted_by: Vec<i64>,
    /// Evidence note.
    pub evidence: Option<String>,
    /// Attached file's name.
    pub attachment: Option<String>,
}

/// Coverage of one group (department or kind).
#[derive(Debug, Clone, Serialize)]
pub struct CoverageRow {
    /// The department or kind.
    pub group: String,
    /// Devices in use.
    pub devices: usize,
    /// Per item code: devices with a current はい or 対象外.
    pub confirmed: BTreeMap<String, usize>,
}

/// How coverage is grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CoverageBy {
    /// 部署.
    Department,
    /// 機器種別.
    Kind,
}

fn bad(field: &str, ja: String, en: String) -> AppError {
    AppError::bad_value(field, ja, en)
}

impl App {
    /// Records an attestation, keeps its attachment, and brings the ledger's columns in line.
    /// Audited; returns its id.
    pub fn attest(&mut self, req: &AttestRequest) -> Result<i64> {
        self.require(Permission::Attest)?;
        let interval = match req.interval_days {
            Some(d) => d,
            None => self
                .store
                .begin_read()?
                .setting(INTERVAL_KEY)?
                .and_then(|v| v.parse().ok())
                .unwrap_or(DEFAULT_INTERVAL_DAYS),
        };
        if !(1..=3650).contains(&interval) {
            return Err(bad(
                "--interval-days",
                "再確認の間隔は 1〜3650 日です".into(),
                "the re-confirmation interval is 1 to 3650 days".into(),
            ));
        }
        let kept = match &req.attachment {
            Some(file) => Some(self.keep_file(file)?),
            None => None,
        };
        let actor = self.actor.clone();
        let now = self.now_utc()?;
        let mut tx = self.store.begin()?;
        let stored = tx
            .asset(&req.asset_id)?
            .ok_or_else(|| AppError::AssetNotFound(req.asset_id.clone()))?;
        let a = StoredAttestation {
            id: 0,
            asset: stored.id,
            item: req.item.code().into(),
            value: req.value.code().into(),
            actor: actor.clone(),
            at: now,
            evidence: req.evidence.clone().filter(|e| !e.trim().is_empty()),
            attachment: kept.as_ref().map(|k| k.0.clone()),
            attachment_sha256: kept.as_ref().map(|k| k.1.clone()),
            interval_days: interval,
        };
        let id = tx.insert_attestation(&a)?;
        audit(
            tx.as_mut(),
            &actor,
            "attest.set",
            Some(&req.asset_id),
            json!({
                "item": a.item, "after": a.value, "evidence": a.evidence,
                "attachment": a.attachment, "sha256": a.attachment_sha256, "interval_days": interval,
            }),
        )?;
        // The ledger's columns follow the current attestations.
        let current = current_values(&tx.attestations(Some(stored.id))?);
        let mut asset = stored.asset.clone();
        if let Some(v) = attest::boot_password(current.get(&AttestItem::BootPassword).copied()) {
            asset.boot_password = Some(v);
        }
        if let Some(v) = attest::default_password(
            current.get(&AttestItem::DefaultPassword).copied(),
            current.get(&AttestItem::ServerAdmin).copied(),
        ) {
            asset.default_password_changed = Some(v);
        }
        if asset != stored.asset {
            crate::ledger::save_update(
                tx.as_mut(),
                &actor,
                &stored,
                &asset,
                Some("attestation"),
                json!({ "source": "attestation", "attestation": id }),
            )?;
        }
        tx.commit()?;
        Ok(id)
    }

    /// Every attestation, oldest first, with its device's 管理番号 (of one device, or all).
    pub fn attestation_history(
        &mut self,
        asset_id: Option<&str>,
    ) -> Result<Vec<(String, StoredAttestation)>> {
        self.require(Permission::View)?;
        let tx = self.store.begin_read()?;
        let names: HashMap<i64, String> = tx
            .assets(&AssetFilter::default())?
            .into_iter()
            .map(|a| (a.id, a.asset.asset_id))
            .collect();
        let asset = match asset_id {
            Some(id) => Some(
                tx.asset(id)?
                    .ok_or_else(|| AppError::AssetNotFound(id.to_string()))?
                    .id,
            ),
            None => None,
        };
        Ok(tx
            .attestations(asset)?
            .into_iter()
            .map(|a| (names.get(&a.asset).cloned().unwrap_or_default(), a))
            .collect())
    }

    /// The current state of every item of every device not retired (of one device, or all).
    pub fn attestation_states(&mut self, asset_id: Option<&str>) -> Result<Vec<AttestState>> {
        self.require(Permission::View)?;
        let today = self.now_local()?.date();
        let tx = self.store.begin_read()?;
        // One device: only its row and its attestations (the device page), not the ledger's.
        let devices = match asset_id {
            Some(id) => vec![tx
                .asset(id)?
                .ok_or_else(|| AppError::AssetNotFound(id.to_string()))?],
            None => tx.assets(&AssetFilter::default())?,
        };
        let mut by_asset: HashMap<i64, Vec<StoredAttestation>> = HashMap::new();
        for a in tx.attestations(asset_id.map(|_| devices[0].id))? {
            by_asset.entry(a.asset).or_default().push(a);
        }
        // What the default-credential checks found open, per device.
        let mut found: HashMap<i64, Vec<i64>> = HashMap::new();
        for f in tx.check_findings()? {
            let credential = f.vuln == Check83::DefaultCredential.finding_id()
                || f.vuln == Check83::NoAuthentication.finding_id();
            if credential && f.status == "open" && f.asset != 0 {
                found.entry(f.asset).or_default().push(f.id);
            }
        }
        let mut out = Vec::new();
        for s in devices {
            if s.asset.status == AssetStatus::Retired {
                continue;
            }
            let history = by_asset.remove(&s.id).unwrap_or_default();
            for &item in AttestItem::ALL {
                let last = history.iter().rev().find(|a| a.item == item.code());
                let date = last.map(|a| a.at.with_timezone(&chrono::Local).date_naive());
                let due = last.and_then(|a| Some(date? + Duration::days(a.interval_days)));
                let password_item =
                    matches!(item, AttestItem::DefaultPassword | AttestItem::ServerAdmin);
                let contradicted_by: Vec<i64> = match last {
                    Some(a) if password_item && a.value == AttestValue::Yes.code() => {
                        found.get(&s.id).cloned().unwrap_or_default()
                    }
                    _ => Vec::new(),
                };
                let state = match last {
                    None => "missing",
                    Some(a) if a.value == AttestValue::No.code() => "no",
                    Some(_) if !contradicted_by.is_empty() => "contradicted",
                    Some(_) if due.is_some_and(|d| d < today) => "expired",
                    Some(_) => "ok",
                };
                out.push(AttestState {
                    asset_id: s.asset.asset_id.clone(),
                    name: s.asset.name.clone(),
                    department: s.asset.department.clone(),
                    kind: s.asset.kind.code().into(),
                    item: item.code().into(),
                    value: last.map(|a| a.value.clone()),
                    actor: last.map(|a| a.actor.clone()),
                    date,
                    due,
                    state: state.into(),
                    contradicted_by,
                    evidence: last.and_then(|a| a.evidence.clone()),
                    attachment: last.and_then(|a| a.attachment.clone()),
                });
            }
        }
        if let Some(id) = asset_id {
            if out.is_empty() {
                return Err(AppError::AssetNotFound(id.to_string()));
            }
        }
        Ok(out)
    }

    /// What needs confirming: never attested, answered いいえ, expired, or due within
    /// `within_days`.
    pub fn attestations_due(&mut self, within_days: i64) -> Result<Vec<AttestState>> {
        let today = self.now_local()?.date();
        let horizon = today + Duration::days(within_days.max(0));
        Ok(self
            .attestation_states(None)?
            .into_iter()
            .filter(|s| s.state != "ok" || s.due.is_some_and(|d| d <= horizon))
            .collect())
    }

    /// Devices in use per department or kind, and how many have each item confirmed (a
    /// current はい or 対象外, not expired).
    pub fn attestation_coverage(&mut self, by: CoverageBy, lang: Lang) -> Result<Vec<CoverageRow>> {
        let states = self.attestation_states(None)?;
        let mut rows: BTreeMap<
            String,
            (std::collections::BTreeSet<String>, BTreeMap<String, usize>),
        > = BTreeMap::new();
        for s in &states {
            let group = match by {
                CoverageBy::Department => s
                    .department
                    .clone()
                    .unwrap_or_else(|| lang.pick("(部署なし)", "(no department)").into()),
                CoverageBy::Kind => mamori_core::AssetKind::parse(&s.kind)
                    .map(|k| k.label(lang).to_string())
                    .unwrap_or_else(|| s.kind.clone()),
            };
            let row = rows.entry(group).or_default();
            row.0.insert(s.asset_id.clone());
            let n = row.1.entry(s.item.clone()).or_insert(0);
            if s.state == "ok" {
                *n += 1;
            }
        }
        Ok(rows
            .into_iter()
            .map(|(group, (devices, confirmed))| CoverageRow {
                group,
                devices: devices.len(),
                confirmed,
            })
            .collect())
    }
}

/// The newest value of each item.
fn current_values(history: &[StoredAttestation]) -> HashMap<AttestItem, AttestValue> {
    let mut out = HashMap::new();
    for a in history {
        if let (Some(item), Some(value)) =
            (AttestItem::parse(&a.item), AttestValue::parse(&a.value))
        {
            out.insert(item, value);
        }
    }
    out
}
