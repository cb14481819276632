//! 代替策 and リスク受容: a person proposes them for findings, with the measures, the residual
//! risk and a review date; a person with the approving role approves (or rejects) them — not
//! the one who proposed, unless the hospital allows it (`workflow.self_approval`, for the
//! one-person clinic). Approval moves the findings to 代替策 / リスク受容; when the review date
//! has passed the findings reopen as 未対応, flagged `exception_expired`, and the exception is
//! expired. Every step is in the findings' history and the audit log.

use chrono::NaiveDate;
use mamori_core::access::Permission;
use mamori_core::remediation::{transition, Measure, Remediation, ResidualRisk};
use mamori_core::{Labelled, Lang};
use mamori_store::{Exception, FindingEvent, Tx};
use serde_json::json;

use crate::remediation::{no_finding, Findings};
use crate::{allowed, audit, App, AppError, Result};

/// The setting that lets the proposer approve their own exception (`true`), for a clinic
/// where one person holds every role. Off by default.
pub const SELF_APPROVAL: &str = "workflow.self_approval";

/// The settings of the due dates (対応期限), in days: KEV, 緊急, 高, others.
pub const SLA_KEYS: [&str; 4] = [
    "sla.kev_days",
    "sla.urgent_days",
    "sla.high_days",
    "sla.other_days",
];

/// Who a review's state changes are recorded as.
pub const REVIEW_ACTOR: &str = "review";

/// A proposed exception.
#[derive(Debug, Clone)]
pub struct Proposal {
    /// 代替策 (`Mitigated`) or リスク受容 (`RiskAccepted`).
    pub kind: Remediation,
    /// The measures (at least one for 代替策).
    pub measures: Vec<Measure>,
    /// Free text: what exactly, where.
    pub note: Option<String>,
    /// 残存リスク.
    pub residual_risk: ResidualRisk,
    /// 見直し期限: after this day the findings reopen.
    pub review_date: NaiveDate,
}

fn bad(field: &str, ja: String, en: String) -> AppError {
    AppError::bad_value(field, ja, en)
}

fn not_found(id: i64) -> AppError {
    bad(
        "exception",
        format!("例外 #{id} はありません (`mamori findings exception list`)"),
        format!("there is no exception #{id} (see `mamori findings exception list`)"),
    )
}

/// The findings `which` names, with their states (all or nothing).
fn resolve(tx: &dyn Tx, which: &Findings) -> Result<Vec<(i64, Remediation)>> {
    let mut out = Vec::new();
    for id in which.ids(tx)? {
        let f = tx.finding(id)?.ok_or_else(|| no_finding(id))?;
        out.push((id, Remediation::parse(&f.state).unwrap_or(Remediation::New)));
    }
    Ok(out)
}

impl App {
    /// Proposes a 代替策 or リスク受容 for findings (all still open in the workflow).
    pub fn propose_exception(&mut self, which: &Findings, p: &Proposal) -> Result<i64> {
        self.require(Permission::Triage)?;
        let today = self.today();
        if !matches!(p.kind, Remediation::Mitigated | Remediation::RiskAccepted) {
            return Err(bad(
                "kind",
                "種類は 代替策 か リスク受容 です".into(),
                "the kind is alternative measures or risk accepted".into(),
            ));
        }
        if p.kind == Remediation::Mitigated && p.measures.is_empty() {
            return Err(bad(
                "measure",
                format!(
                    "代替策には措置が必要です (--measure): {}",
                    Measure::choices(Lang::Ja)
                ),
                format!(
                    "alternative measures need the measures (--measure): {}",
                    Measure::choices(Lang::En)
                ),
            ));
        }
        if p.measures.contains(&Measure::Other)
            && p.note.as_deref().is_none_or(|n| n.trim().is_empty())
        {
            return Err(bad(
                "note",
                "措置「その他」には内容の記載が必要です (--note)".into(),
                "the measure \"other\" needs a description (--note)".into(),
            ));
        }
        if p.review_date <= today {
            return Err(bad(
                "review",
                format!(
                    "見直し期限 {} は今日 ({today}) より後の日付にしてください",
                    p.review_date
                ),
                format!(
                    "the review date {} must be after today ({today})",
                    p.review_date
                ),
            ));
        }
        let now = self.now_utc()?;
        let mut tx = self.store.begin()?;
        // A device as a whole: it must exist; a リスク受容 may cover it without any finding
        // (kept past its support end with no known vulnerability).
        let device = match which {
            Findings::Asset(a) => {
                tx.asset(a)?
                    .ok_or_else(|| AppError::AssetNotFound(a.clone()))?;
                Some(a.clone())
            }
            _ => None,
        };
        let mut found = match (resolve(tx.as_ref(), which), &device) {
            (Ok(found), _) => found,
            (Err(_), Some(_)) if p.kind == Remediation::RiskAccepted => Vec::new(),
            (Err(e), _) => return Err(e),
        };
        // Chosen by vulnerability or device: those already closed are left out.
        if !matches!(which, Findings::Ids(_)) {
            found.retain(|(_, from)| from.is_open());
            if found.is_empty() && !(device.is_some() && p.kind == Remediation::RiskAccepted) {
                return Err(bad(
                    "findings",
                    "対応中の検出がありません".into(),
                    "no finding is still being handled".into(),
                ));
            }
        }
        for (id, from) in &found {
            if !from.is_open() {
                return Err(bad(
                    &format!("#{id}"),
                    format!("検出 {id} は「{}」です。対応中（未対応・調査中・事業者確認中・適用予定）の検出だけが対象です", from.label(Lang::Ja)),
                    format!("finding {id} is {}; only findings still being handled can be covered", from.label(Lang::En)),
                ));
            }
        }
        let e = Exception {
            id: 0,
            kind: p.kind.code().into(),
            measures: p.measures.iter().map(|m| m.code().to_string()).collect(),
            note: p.note.clone(),
            residual_risk: p.residual_risk.code().into(),
            review_date: p.review_date,
            status: "proposed".into(),
            requested_by: self.actor.clone(),
            requested_at: now,
            decided_by: None,
            decided_at: None,
            decision_reason: None,
            findings: found.iter().map(|(id, _)| *id).collect(),
            asset: device,
        };
        let id = tx.insert_exception(&e)?;
        audit(
            tx.as_mut(),
            &self.actor,
            "exception.propose",
            Some(&format!("exception:{id}")),
            json!({
                "kind": e.kind, "measures": e.measures, "note": e.note,
                "residual_risk": e.residual_risk, "review_date": e.review_date,
                "findings": e.findings, "asset": e.asset,
            }),
        )?;
        tx.commit()?;
        Ok(id)
    }

    /// Approves (or rejects) a proposed exception. Approval moves its findings that are still
    /// being handled to 代替策 / リスク受容.
    pub fn decide_exception(
        &mut self,
        id: i64,
        approve: bool,
        reason: Option<&str>,
    ) -> Result<Exception> {
        self.require(Permission::Approve)?;
        let (actor, roles) = (self.actor.clone(), self.roles.clone());
        let today = self.today();
        let now = self.now_utc()?;
        let mut tx = self.store.begin()?;
        let mut e = tx.exception(id)?.ok_or_else(|| not_found(id))?;
        if e.status != "proposed" {
            return Err(bad(
                "exception",
                format!("例外 #{id} は既に {} です", e.status),
                format!("exception #{id} is already {}", e.status),
            ));
        }
        let self_approval = tx.setting(SELF_APPROVAL)?.as_deref() == Some("true");
        if approve && e.requested_by == actor && !self_approval {
            return Err(bad(
                "approver",
                format!("{actor} は例外 #{id} を申請した本人なので承認できません（職務の分離）。一人で運用する場合は管理者が `mamori config set {SELF_APPROVAL} true` を設定します"),
                format!("{actor} proposed exception #{id} and cannot approve it (separation of duties); a one-person clinic's administrator may set `mamori config set {SELF_APPROVAL} true`"),
            ));
        }
        if approve && e.review_date <= today {
            return Err(bad(
                "review",
                format!(
                    "例外 #{id} の見直し期限 {} は過ぎています。新しい期限で申請し直してください",
                    e.review_date
                ),
                format!(
                    "exception #{id}'s review date {} has passed; propose it again with a new date",
                    e.review_date
                ),
            ));
        }
        let kind = Remediation::parse(&e.kind).unwrap_or(Remediation::RiskAccepted);
        e.status = if approve { "approved" } else { "rejected" }.into();
        e.decided_by = Some(actor.clone());
        e.decided_at = Some(now);
        e.decision_reason = reason.map(str::to_string);
        tx.update_exception(&e)?;
        let mut moved = Vec::new();
        if approve {
            for &fid in &e.findings {
                let Some(f) = tx.finding(fid)? else { continue };
                let from = Remediation::parse(&f.state).unwrap_or(Remediation::New);
                // Fixed or closed meanwhile: nothing to accept any more.
                if !from.is_open() {
                    continue;
                }
                let need = transition(from, kind).map_err(|err| AppError::BadValue {
                    field: format!("#{fid}"),
                    message_ja: err.message(Lang::Ja),
                    message_en: err.message(Lang::En),
                })?;
                allowed(&actor, &roles, need)?;
                tx.set_finding_state(&FindingEvent {
                    finding: fid,
                    actor: actor.clone(),
                    from: from.code().into(),
                    to: kind.code().into(),
                    reason: Some(format!("exception #{id}")),
                    detail: json!({ "exception": id, "review_date": e.review_date }),
                    planned_date: None,
                })?;
                moved.push(fid);
            }
        }
        audit(
            tx.as_mut(),
            &actor,
            if approve {
                "exception.approve"
            } else {
                "exception.reject"
            },
            Some(&format!("exception:{id}")),
            json!({ "before": "proposed", "after": e.status, "reason": reason, "findings": moved }),
        )?;
        tx.commit()?;
        Ok(e)
    }

    /// Every exception, newest first (expiring those past their review date first).
    pub fn exceptions(&mut self) -> Result<Vec<Exception>> {
        self.require(Permission::View)?;
        self.review_exceptions()?;
        Ok(self.store.begin_read()?.exceptions()?)
    }

    /// Expires the approved exceptions whose review date has passed (against
    /// [`App::today`]) and reopens their findings as 未対応, flagged `exception_expired`.
    /// Run by every match and every exception listing; returns the exceptions expired.
    pub fn review_exceptions(&mut self) -> Result<Vec<i64>> {
        let today = self.today();
        let mut tx = self.store.begin()?;
        let due: Vec<Exception> = tx
            .exceptions()?
            .into_iter()
            .filter(|e| e.status == "approved" && e.review_date < today)
            .collect();
        let mut expired = Vec::new();
        for mut e in due {
            let kind = e.kind.clone();
            let mut reopened = Vec::new();
            for &fid in &e.findings {
                let Some(f) = tx.finding(fid)? else { continue };
                // Only findings still resting on this exception reopen.
                if f.state != kind {
                    continue;
                }
                tx.set_finding_state(&FindingEvent {
                    finding: fid,
                    actor: REVIEW_ACTOR.into(),
                    from: kind.clone(),
                    to: Remediation::New.code().into(),
                    reason: Some("exception_expired".into()),
                    detail: json!({ "exception": e.id, "review_date": e.review_date }),
                    planned_date: None,
                })?;
                tx.flag_finding(fid, Some("exception_expired"))?;
                reopened.push(fid);
            }
            e.status = "expired".into();
            tx.update_exception(&e)?;
            audit(
                tx.as_mut(),
                REVIEW_ACTOR,
                "exception.expire",
                Some(&format!("exception:{}", e.id)),
                json!({ "before": "approved", "after": "expired", "review_date": e.review_date, "today": today, "reopened": reopened }),
            )?;
            expired.push(e.id);
        }
        tx.commit()?;
        Ok(expired)
    }

    /// The due-date rule in force (`sla.*` settings over the defaults).
    pub fn sla(&mut self) -> Result<mamori_core::remediation::Sla> {
        let tx = self.store.begin_read()?;
        let mut sla = mamori_core::remediation::Sla::default();
        for (key, slot) in SLA_KEYS.iter().zip([
            &mut sla.kev_days,
            &mut sla.urgent_days,
            &mut sla.high_days,
            &mut sla.other_days,
        ]) {
            if let Some(d) = tx.setting(key)?.and_then(|v| v.parse().ok()) {
                *slot = d;
            }
        }
        Ok(sla)
    }

    /// Sets a setting the hospital may change (`workflow.self_approval`: `true`/`false`).
    pub fn set_config(&mut self, key: &str, value: &str) -> Result<()> {
        self.require(Permission::Configure)?;
        let ok = match key {
            SELF_APPROVAL => matches!(value, "true" | "false"),
            k if SLA_KEYS.contains(&k) => value.parse::<u32>().is_ok_and(|d| (1..=3650).contains(&d)),
            k if k == crate::scans::MAX_ADDRESSES_KEY || crate::scans::POLICY_KEYS.contains(&k) => {
                crate::scans::setting_ok(k, value)
            }
            k if crate::hours::KEYS.contains(&k) => crate::hours::setting_ok(k, value),
            _ => {
                return Err(bad(
                    "key",
                    format!("設定「{key}」はありません。変更できるのは {SELF_APPROVAL} (true|false)、{} (日数)、{}、{} と {} です", SLA_KEYS.join(", "), crate::scans::MAX_ADDRESSES_KEY, crate::scans::POLICY_KEYS.join(", "), crate::hours::KEYS.join(", ")),
                    format!("no setting {key:?}: those that may be changed are {SELF_APPROVAL} (true|false), {} (days), {}, {} and {}", SLA_KEYS.join(", "), crate::scans::MAX_ADDRESSES_KEY, crate::scans::POLICY_KEYS.join(", "), crate::hours::KEYS.join(", ")),
                ))
            }
        };
        if !ok {
            return Err(bad(
                key,
                format!(
                    "{key} の値「{value}」は使えません（docs/remediation.md・docs/scan.md を参照）"
                ),
                format!("{key} cannot be {value:?} (see docs/remediation.md, docs/scan.md)"),
            ));
        }
        let mut tx = self.store.begin()?;
        let before = tx.setting(key)?;
        tx.set_setting(key, value)?;
        audit(
            tx.as_mut(),
            &self.actor,
            "config.set",
            Some(key),
            json!({ "before": before, "after": value }),
        )?;
        tx.commit()?;
        Ok(())
    }
}
