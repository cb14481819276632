//! Who may do what: the one table of [`Role`] × [`Permission`].
//!
//! The application layer asks [`allows`] before every use case, for the command line and the
//! web alike; nothing else decides access. The roles are the guideline's (domain guide §2):
//! the 事業者 (vendor) role sees and answers only its own inquiries, a scope the application
//! applies on top of this table.

use crate::labels::labelled;
use crate::{Labelled, Lang, Role};

labelled! {
    /// Something a person does in mamori that not every role may do.
    Permission {
        /// 台帳・所見の閲覧: read the ledger, vulnerabilities and findings.
        View = "view", "台帳・所見の閲覧", "View the ledger and findings", [];
        /// 台帳の編集: import, add, edit, retire devices; stock-takes; CPEs and SBOMs.
        EditLedger = "edit_ledger", "台帳の編集", "Edit the ledger", [];
        /// 脆弱性情報の取込: import or sync feeds and bundles.
        ImportFeeds = "import_feeds", "脆弱性情報の取込", "Import vulnerability information", [];
        /// 突合の実行.
        RunMatch = "run_match", "突合の実行", "Run matching", [];
        /// 対応状況の更新: triage findings (調査中, 事業者確認中, 適用予定, 該当なし, 誤検知).
        Triage = "triage", "対応状況の更新", "Update remediation status", [];
        /// 事業者確認への回答の記録.
        RecordVendorAnswer = "record_vendor_answer", "事業者回答の記録", "Record vendor answers", [];
        /// 代替策・リスク受容の承認.
        Approve = "approve", "代替策・リスク受容の承認", "Approve alternative measures and risk acceptance", [];
        /// ネットワーク監査: run scans, import nmap results, edit allowed services.
        Scan = "scan", "ネットワーク監査の実行", "Run network audits", [];
        /// 既定パスワード検査の承認: approve where and when default credentials may be tried.
        ApproveCredChecks = "approve_cred_checks", "既定パスワード検査の承認", "Approve default-credential checks", [];
        /// 企画管理者の確認: attest a device's initial settings.
        Attest = "attest", "初期設定の確認 (企画管理者)", "Attest initial settings", [];
        /// 報告書の出力.
        Report = "report", "報告書の出力", "Export reports", [];
        /// 監査ログの閲覧と検査.
        ViewAudit = "view_audit", "監査ログの閲覧", "View the audit log", [];
        /// 利用者の管理.
        ManageUsers = "manage_users", "利用者の管理", "Manage users", [];
        /// 設定の変更.
        Configure = "configure", "設定の変更", "Change settings", [];
    }
}

/// Whether `role` may do what `permission` names. The one table (docs/roles.md shows it).
pub fn allows(role: Role, permission: Permission) -> bool {
    use Permission as P;
    use Role as R;
    match role {
        // Manages mamori itself: users and settings, and reads the audit log.
        R::Administrator => matches!(
            permission,
            P::View | P::ViewAudit | P::ManageUsers | P::Configure | P::ImportFeeds
        ),
        // Keeps the ledger, runs feeds, matching and scans, triages, records vendor answers.
        R::Operator => matches!(
            permission,
            P::View
                | P::Scan
                | P::EditLedger
                | P::ImportFeeds
                | P::RunMatch
                | P::Triage
                | P::RecordVendorAnswer
                | P::Report
        ),
        // Approves alternative measures and risk acceptance; attests initial settings (a
        // ledger edit); triages; owns scan scopes and allowed services.
        R::Planner => matches!(
            permission,
            P::View
                | P::EditLedger
                | P::Triage
                | P::RecordVendorAnswer
                | P::Approve
                | P::Report
                | P::Scan
                | P::ApproveCredChecks
                | P::Attest
        ),
        // Oversees, approves high-risk exceptions, signs reports, reads the audit log.
        R::SecurityManager => matches!(permission, P::View | P::Approve | P::Report | P::ViewAudit),
        // Reads everything, changes nothing.
        R::Auditor => matches!(permission, P::View | P::Report | P::ViewAudit),
        // Answers its own inquiries (scoped by the application).
        R::Vendor => matches!(permission, P::RecordVendorAnswer),
    }
}

/// Whether any of `roles` allows `permission`.
pub fn any_allows(roles: &[Role], permission: Permission) -> bool {
    roles.iter().any(|&r| allows(r, permission))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auditors_change_nothing_and_vendors_only_answer() {
        for &p in Permission::ALL {
            let read_only = matches!(
                p,
                Permission::View | Permission::Report | Permission::ViewAudit
            );
            assert_eq!(allows(Role::Auditor, p), read_only, "{p}");
            assert_eq!(
                allows(Role::Vendor, p),
                p == Permission::RecordVendorAnswer,
                "{p}"
            );
        }
    }

    #[test]
    fn every_permission_has_a_role_and_labels() {
        for &p in Permission::ALL {
            assert!(Role::ALL.iter().any(|&r| allows(r, p)), "{p}");
            assert!(!p.label(Lang::Ja).is_empty());
        }
    }
}
