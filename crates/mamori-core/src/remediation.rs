//! 対応状況: where a finding's remediation stands, and the one table of allowed transitions.
//!
//! People move a finding between the open states (未対応 → 調査中 → 事業者確認中 → 適用予定) and
//! close it as 該当なし or 誤検知 with a reason; 代替策 and リスク受容 need the approving role.
//! 適用済 is never a click: only a later match (or scan) that finds the fixed version sets it,
//! and a match that finds the vulnerability again sets 未対応.

use crate::access::Permission;
use crate::labels::labelled;
use crate::{Labelled, Lang};

labelled! {
    /// 対応状況 of a finding.
    Remediation {
        /// 未対応: not looked at yet (or found again).
        New = "new", "未対応", "New", [];
        /// 調査中.
        Investigating = "investigating", "調査中", "Investigating", [];
        /// 事業者確認中: the vendor was asked whether the fix can be applied.
        AskedVendor = "asked_vendor", "事業者確認中", "Asked vendor", ["vendor_inquiry", "事業者確認"];
        /// 適用予定: a fix is planned (date, maintenance window).
        FixPlanned = "fix_planned", "適用予定", "Fix planned", ["planned"];
        /// 適用済: a later match found the fixed version (never set by hand).
        Fixed = "fixed", "適用済", "Fixed", [];
        /// 代替策: alternative measures in place, approved.
        Mitigated = "mitigated", "代替策", "Alternative measures", ["alternative_measures", "代替策実施"];
        /// リスク受容: risk accepted, approved, until a review date.
        RiskAccepted = "risk_accepted", "リスク受容", "Risk accepted", [];
        /// 該当なし: not affected, with a VEX justification.
        NotAffected = "not_affected", "該当なし", "Not affected", [];
        /// 誤検知: the match was wrong.
        FalsePositive = "false_positive", "誤検知", "False positive", ["誤検出"];
    }
}

impl Remediation {
    /// Still needs action (未対応, 調査中, 事業者確認中, 適用予定).
    pub fn is_open(self) -> bool {
        matches!(
            self,
            Remediation::New
                | Remediation::Investigating
                | Remediation::AskedVendor
                | Remediation::FixPlanned
        )
    }
}

labelled! {
    /// Why a product is not affected (該当なしの根拠): CycloneDX 1.5+ `analysis.justification`,
    /// which VEX exports map to CSAF's flags.
    Justification {
        /// 該当コンポーネントを含まない.
        ComponentNotPresent = "component_not_present", "該当コンポーネントを含まない", "Component not present", [];
        /// 脆弱なコードを含まない.
        CodeNotPresent = "code_not_present", "脆弱なコードを含まない", "Vulnerable code not present", [];
        /// 脆弱なコードに到達しない.
        CodeNotReachable = "code_not_reachable", "脆弱なコードに到達しない", "Vulnerable code not reachable", [];
        /// 特定の設定が必要（その設定ではない）.
        RequiresConfiguration = "requires_configuration", "特定の設定が必要（該当設定なし）", "Requires a configuration not in use", [];
        /// 特定の依存関係が必要.
        RequiresDependency = "requires_dependency", "特定の依存関係が必要（該当なし）", "Requires a dependency not present", [];
        /// 特定の環境が必要.
        RequiresEnvironment = "requires_environment", "特定の環境が必要（該当なし）", "Requires an environment not present", [];
        /// コンパイラによる保護.
        ProtectedByCompiler = "protected_by_compiler", "コンパイラによる保護", "Protected by the compiler", [];
        /// 実行時の保護.
        ProtectedAtRuntime = "protected_at_runtime", "実行時の保護", "Protected at runtime", [];
        /// 境界での保護.
        ProtectedAtPerimeter = "protected_at_perimeter", "境界での保護", "Protected at the perimeter", [];
        /// 緩和策による保護.
        ProtectedByMitigatingControl = "protected_by_mitigating_control", "緩和策による保護", "Protected by a mitigating control", [];
    }
}

labelled! {
    /// 代替策: a measure that stands in for the fix.
    Measure {
        /// ネットワーク分離.
        NetworkIsolation = "network_isolation", "ネットワーク分離", "Network isolation", ["分離"];
        /// 接続元制限 (ACL).
        Acl = "acl", "接続元制限（ACL）", "Source restriction (ACL)", ["接続元制限", "ACL"];
        /// サービス・ポートの停止.
        DisableService = "disable_service", "サービス・ポートの停止", "Service or port disabled", ["ポート停止", "サービス停止"];
        /// インターネット経路の遮断.
        RemoveInternetPath = "remove_internet_path", "インターネット経路の遮断", "Internet path removed", ["インターネット遮断"];
        /// 監視強化.
        Monitoring = "monitoring", "監視強化", "Monitoring", ["監視"];
        /// 物理的な制限.
        PhysicalRestriction = "physical_restriction", "物理的な制限", "Physical restriction", ["物理制限"];
        /// その他 (see the note).
        Other = "other", "その他", "Other", [];
    }
}

labelled! {
    /// 残存リスク: the risk left after the measures.
    ResidualRisk {
        /// 低.
        Low = "low", "低", "Low", [];
        /// 中.
        Medium = "medium", "中", "Medium", [];
        /// 高.
        High = "high", "高", "High", [];
    }
}

/// How many days a finding may stay in the open states from the day it was first seen, by
/// its priority: the due date (対応期限). Defaults: KEV 14, 緊急 30, 高 60, others 120 —
/// CISA's two weeks for known-exploited flaws, then halving-style steps a hospital can keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Sla {
    /// In CISA's KEV catalogue.
    pub kev_days: u32,
    /// 緊急.
    pub urgent_days: u32,
    /// 高.
    pub high_days: u32,
    /// 中 and 低.
    pub other_days: u32,
}

impl Default for Sla {
    fn default() -> Sla {
        Sla {
            kev_days: 14,
            urgent_days: 30,
            high_days: 60,
            other_days: 120,
        }
    }
}

impl Sla {
    /// Days allowed for a finding of this level (KEV first).
    pub fn days(&self, level: crate::Level, kev: bool) -> u32 {
        match (kev, level) {
            (true, _) => self.kev_days,
            (false, crate::Level::Urgent) => self.urgent_days,
            (false, crate::Level::High) => self.high_days,
            (false, _) => self.other_days,
        }
    }

    /// The due date of a finding first seen on `first_seen`.
    pub fn due(
        &self,
        first_seen: chrono::NaiveDate,
        level: crate::Level,
        kev: bool,
    ) -> chrono::NaiveDate {
        first_seen + chrono::Days::new(u64::from(self.days(level, kev)))
    }
}

labelled! {
    /// 回答区分: the vendor's answer to "can the fix be applied?".
    Verdict {
        /// 適用可.
        Applicable = "applicable", "適用可", "Can be applied", ["可"];
        /// 条件付き適用可.
        Conditional = "conditional", "条件付き適用可", "Can be applied with conditions", ["条件付き"];
        /// 適用不可.
        NotApplicable = "not_applicable", "適用不可", "Cannot be applied", ["不可"];
        /// 該当なし: the product is not affected.
        NotAffected = "not_affected", "該当なし", "Not affected", ["対象外"];
    }
}

/// Why a person may not move a finding from one state to another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransitionError {
    /// Already in that state.
    Same(Remediation),
    /// 適用済 is set only by a match that finds the fixed version.
    FixedOnlyByMatch,
    /// A finding a match found fixed is reopened only by a match that finds it again.
    FixedIsFinal,
}

impl TransitionError {
    /// The message, in the reader's language.
    pub fn message(self, lang: Lang) -> String {
        match (self, lang) {
            (TransitionError::Same(s), Lang::Ja) => format!("既に「{}」です", s.label(Lang::Ja)),
            (TransitionError::Same(s), Lang::En) => format!("it is already {}", s.label(Lang::En)),
            (TransitionError::FixedOnlyByMatch, Lang::Ja) => "「適用済」は手で設定できません。修正版を台帳（バージョン）か SBOM に記録して `mamori match` を実行すると、修正版を確認した検出が適用済になります".into(),
            (TransitionError::FixedOnlyByMatch, Lang::En) => "\"Fixed\" cannot be set by hand: record the fixed version in the ledger (version) or an SBOM and run `mamori match`; findings whose fixed version it sees become Fixed".into(),
            (TransitionError::FixedIsFinal, Lang::Ja) => "適用済の検出は変更できません。脆弱なバージョンに戻った場合は次の突合で未対応に戻ります".into(),
            (TransitionError::FixedIsFinal, Lang::En) => "a Fixed finding cannot be changed by hand; if the vulnerable version returns, the next match reopens it".into(),
        }
    }
}

/// What a person needs to move a finding from `from` to `to`: the permission, or why it
/// cannot be done. The one table of transitions.
pub fn transition(from: Remediation, to: Remediation) -> Result<Permission, TransitionError> {
    use Remediation as R;
    if from == to {
        return Err(TransitionError::Same(to));
    }
    match (from, to) {
        (_, R::Fixed) => Err(TransitionError::FixedOnlyByMatch),
        (R::Fixed, _) => Err(TransitionError::FixedIsFinal),
        // Exceptions need the approving role.
        (_, R::Mitigated | R::RiskAccepted) => Ok(Permission::Approve),
        // Everything else — moving between the open states, closing as not affected or a
        // false positive, reopening a closed one — is triage.
        _ => Ok(Permission::Triage),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_is_only_the_matchs_and_exceptions_need_approval() {
        for &from in Remediation::ALL {
            for &to in Remediation::ALL {
                let t = transition(from, to);
                if from == to {
                    assert_eq!(t, Err(TransitionError::Same(to)));
                } else if to == Remediation::Fixed {
                    assert_eq!(t, Err(TransitionError::FixedOnlyByMatch));
                } else if from == Remediation::Fixed {
                    assert_eq!(t, Err(TransitionError::FixedIsFinal));
                } else if matches!(to, Remediation::Mitigated | Remediation::RiskAccepted) {
                    assert_eq!(t, Ok(Permission::Approve), "{from} → {to}");
                } else {
                    assert_eq!(t, Ok(Permission::Triage), "{from} → {to}");
                }
            }
        }
        for e in [
            TransitionError::FixedOnlyByMatch,
            TransitionError::FixedIsFinal,
        ] {
            assert!(!e.message(Lang::Ja).is_empty() && !e.message(Lang::En).is_empty());
        }
    }

    #[test]
    fn due_dates_follow_the_priority_kev_first() {
        let sla = Sla::default();
        let d = chrono::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
        assert_eq!(
            sla.due(d, crate::Level::Low, true).to_string(),
            "2026-11-15"
        );
        assert_eq!(
            sla.due(d, crate::Level::Urgent, false).to_string(),
            "2026-12-01"
        );
        assert_eq!(
            sla.due(d, crate::Level::High, false).to_string(),
            "2026-12-31"
        );
        assert_eq!(
            sla.due(d, crate::Level::Medium, false).to_string(),
            "2027-03-01"
        );
    }

    #[test]
    fn labels_are_the_guidelines_words() {
        let ja: Vec<&str> = Remediation::ALL.iter().map(|r| r.label(Lang::Ja)).collect();
        assert_eq!(
            ja,
            [
                "未対応",
                "調査中",
                "事業者確認中",
                "適用予定",
                "適用済",
                "代替策",
                "リスク受容",
                "該当なし",
                "誤検知"
            ]
        );
        assert_eq!(
            Remediation::parse("事業者確認中"),
            Some(Remediation::AskedVendor)
        );
        assert!(Remediation::New.is_open() && !Remediation::Fixed.is_open());
    }
}
