//! The remediation workflow's state changes made by people: one finding, several, or every
//! finding of one vulnerability at once (the same CVE on 200 PCs), each recorded in the
//! finding's history and in the audit log. The transitions are `mamori_core::remediation`'s
//! one table; the match makes the others (適用済 on seeing the fixed version).

use chrono::NaiveDate;
use mamori_core::remediation::{transition, Justification, Remediation};
use mamori_core::{Labelled, Lang};
use mamori_store::{FindingEvent, StoredFindingEvent};
use serde_json::json;

use crate::{allowed, audit, App, AppError, Result};

/// Which findings a change applies to.
#[derive(Debug, Clone)]
pub enum Findings {
    /// These findings (by number).
    Ids(Vec<i64>),
    /// Every finding of this vulnerability (CVE or other id) the data still says is present
    /// (matching status open), whatever device.
    Vuln(String),
    /// Every finding still present on this device (管理番号) — e.g. a risk acceptance for a
    /// device past its support end.
    Asset(String),
}

impl Findings {
    /// The finding ids this names (a vulnerability: its findings still present); an error
    /// when there are none.
    pub(crate) fn ids(&self, tx: &dyn mamori_store::Tx) -> Result<Vec<i64>> {
        let ids: Vec<i64> = match self {
            Findings::Ids(ids) => ids.clone(),
            Findings::Vuln(v) => tx
                .finding_heads(None, Some(std::slice::from_ref(v)))?
                .into_iter()
                .filter(|h| h.status == "open")
                .map(|h| h.id)
                .collect(),
            Findings::Asset(a) => {
                let pk = tx
                    .asset(a)?
                    .ok_or_else(|| AppError::AssetNotFound(a.clone()))?
                    .id;
                tx.finding_heads(Some(&[pk]), None)?
                    .into_iter()
                    .filter(|h| h.status == "open")
                    .map(|h| h.id)
                    .collect()
            }
        };
        if ids.is_empty() {
            let what = match self {
                Findings::Vuln(v) | Findings::Asset(v) => v.as_str(),
                Findings::Ids(_) => "",
            };
            return Err(AppError::bad_value(
                "findings",
                format!("{what} の未解消の検出はありません"),
                format!("{what} has no finding that is still present"),
            ));
        }
        Ok(ids)
    }
}

/// A change of 対応状況 and what it needs.
#[derive(Debug, Clone)]
pub struct StateChange {
    /// The new state.
    pub to: Remediation,
    /// Why (required for 該当なし and 誤検知).
    pub reason: Option<String>,
    /// 適用予定日 (required for 適用予定; not in the past).
    pub planned_date: Option<NaiveDate>,
    /// Why not affected (required for 該当なし).
    pub justification: Option<Justification>,
}

/// What a change did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StateReport {
    /// The findings changed.
    pub changed: Vec<i64>,
    /// Findings of the vulnerability already in that state (left alone).
    pub unchanged: Vec<i64>,
}

/// The error for a finding number that does not exist.
pub(crate) fn no_finding(id: i64) -> AppError {
    AppError::FindingNotFound(id)
}

fn required(field: &str, ja: &str, en: &str) -> AppError {
    AppError::bad_value(field, ja, en)
}

impl StateChange {
    /// Checks what the target state needs, before anything is read or written.
    fn check(&self, today: NaiveDate) -> Result<()> {
        let reason = self
            .reason
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty());
        match self.to {
            Remediation::FixPlanned => match self.planned_date {
                None => {
                    return Err(required(
                        "planned",
                        "適用予定には予定日が必要です (--planned YYYY-MM-DD)",
                        "a planned fix needs its date (--planned YYYY-MM-DD)",
                    ))
                }
                Some(d) if d < today => {
                    return Err(AppError::bad_value(
                        "planned",
                        format!(
                        "予定日 {d} は過去の日付です。今日 ({today}) 以降の日付を指定してください"
                    ),
                        format!(
                            "the planned date {d} is in the past; give today ({today}) or later"
                        ),
                    ))
                }
                Some(_) => {}
            },
            Remediation::NotAffected => {
                if self.justification.is_none() {
                    return Err(AppError::bad_value(
                        "justification",
                        format!(
                            "該当なしには根拠が必要です (--justification): {}",
                            Justification::choices(Lang::Ja)
                        ),
                        format!(
                            "not affected needs a justification (--justification): {}",
                            Justification::choices(Lang::En)
                        ),
                    ));
                }
                if reason.is_none() {
                    return Err(required(
                        "reason",
                        "該当なしには理由が必要です (--reason)",
                        "not affected needs a reason (--reason)",
                    ));
                }
            }
            Remediation::FalsePositive if reason.is_none() => {
                return Err(required(
                    "reason",
                    "誤検知には理由が必要です (--reason)",
                    "a false positive needs a reason (--reason)",
                ));
            }
            Remediation::Mitigated | Remediation::RiskAccepted => {
                return Err(required(
                    "to",
                    "代替策・リスク受容は、措置・残存リスク・見直し期限と共に `mamori findings exception propose` で申請し、承認者が承認します",
                    "alternative measures and risk acceptance are proposed with their measures, residual risk and review date (`mamori findings exception propose`) and take effect when an approver approves them",
                ));
            }
            _ => {}
        }
        Ok(())
    }
}

impl App {
    /// Moves findings to another 対応状況. All or nothing: if one of them may not move (or
    /// the acting user may not move it), nothing changes and the error names it.
    pub fn set_state(
        &mut self,
        which: &Findings,
        change: &StateChange,
        today: NaiveDate,
    ) -> Result<StateReport> {
        self.require(mamori_core::access::Permission::Triage)?;
        change.check(today)?;
        let (actor, roles) = (self.actor.clone(), self.roles.clone());
        let mut tx = self.store.begin()?;
        let mut found = Vec::new();
        for id in which.ids(tx.as_ref())? {
            found.push(tx.finding(id)?.ok_or_else(|| no_finding(id))?);
        }
        let mut report = StateReport {
            changed: Vec::new(),
            unchanged: Vec::new(),
        };
        for f in &found {
            let from = Remediation::parse(&f.state).unwrap_or(Remediation::New);
            if from == change.to && !matches!(which, Findings::Ids(_)) {
                report.unchanged.push(f.id);
                continue;
            }
            let need = transition(from, change.to).map_err(|e| AppError::BadValue {
                field: format!("#{}", f.id),
                message_ja: e.message(Lang::Ja),
                message_en: e.message(Lang::En),
            })?;
            allowed(&actor, &roles, need)?;
            let detail = json!({
                "planned_date": change.planned_date,
                "justification": change.justification,
            });
            tx.set_finding_state(&FindingEvent {
                finding: f.id,
                actor: actor.clone(),
                from: from.code().into(),
                to: change.to.code().into(),
                reason: change.reason.clone(),
                detail: detail.clone(),
                planned_date: change.planned_date,
            })?;
            audit(
                tx.as_mut(),
                &actor,
                "finding.state",
                Some(&format!("finding:{}", f.id)),
                json!({
                    "asset": f.asset_id, "vuln": f.vuln,
                    "before": from.code(), "after": change.to.code(),
                    "reason": change.reason, "detail": detail,
                }),
            )?;
            report.changed.push(f.id);
        }
        tx.commit()?;
        Ok(report)
    }

    /// A finding's history of 対応状況, oldest first.
    pub fn finding_history(&mut self, id: i64) -> Result<Vec<StoredFindingEvent>> {
        self.require(mamori_core::access::Permission::View)?;
        Ok(self.store.begin_read()?.finding_events(id)?)
    }
}

/// A state change's reason in words: the match's codes rendered, people's text as written.
pub fn event_reason(reason: Option<&str>, lang: Lang) -> String {
    match reason {
        Some("fixed_version_detected") => {
            lang.pick("修正版を検出", "fixed version detected").into()
        }
        Some("component_removed") => lang
            .pick(
                "該当コンポーネントの削除を検出",
                "component removal detected",
            )
            .into(),
        Some("vendor_answer") => lang
            .pick("事業者の回答を記録", "vendor's answer recorded")
            .into(),
        Some("exception_expired") => lang
            .pick("例外の見直し期限切れ", "exception past its review date")
            .into(),
        Some("found_again") => lang.pick("再び検出", "found again").into(),
        Some("not_seen_in_scan") => lang
            .pick("スキャンで検出されず", "not seen in a scan")
            .into(),
        Some("vendor_not_affected") => lang
            .pick(
                "製造業者が影響なしと表明",
                "the vendor states it is not affected",
            )
            .into(),
        Some(other) => match other.strip_prefix("inquiry #") {
            Some(n) => format!("{} #{n}", lang.pick("事業者への照会", "inquiry")),
            None => other.to_string(),
        },
        None => String::new(),
    }
}
