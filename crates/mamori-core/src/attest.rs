//! 企画管理者の確認 (attestations): what the planning administrator confirms of each device's
//! initial settings (guideline §8.3, 遵守事項 8⑤, checklist 2-⑦/⑧/⑫), and how the confirmed
//! values show in the ledger's columns.

use crate::labels::labelled;
use crate::{BootPassword, DefaultPassword, Labelled, Lang};

labelled! {
    /// What is confirmed.
    AttestItem {
        /// 起動時パスワード設定.
        BootPassword = "boot_password", "起動時パスワード設定", "Start-up password set", ["起動時パスワード", "boot"];
        /// 出荷時パスワード変更 (機器).
        DefaultPassword = "default_password", "出荷時パスワード変更 (機器)", "Factory-default password changed (device)", ["出荷時パスワード変更", "出荷時パスワード", "default"];
        /// 出荷時パスワード変更 (サーバソフトの管理者ID).
        ServerAdmin = "server_admin", "出荷時パスワード変更 (サーバソフトの管理者ID)", "Default admin IDs of server software changed", ["管理者ID", "admin_id"];
        /// 不要なサービス停止.
        ServicesStopped = "services_stopped", "不要なサービス停止", "Unneeded services stopped", ["不要なサービス", "services"];
        /// 初期設定の確認.
        InitialSettings = "initial_settings", "初期設定の確認", "Initial settings confirmed", ["初期設定", "initial"];
    }
}

labelled! {
    /// The answer, as on the inspection checklist.
    AttestValue {
        /// はい: done and confirmed.
        Yes = "yes", "はい", "Yes", ["済", "確認済", "設定済", "変更済", "true", "y", "有"];
        /// いいえ: not done (a target date belongs in the note).
        No = "no", "いいえ", "No", ["未", "未設定", "未変更", "false", "n", "無"];
        /// 対象外: the device has no such setting.
        NotApplicable = "not_applicable", "対象外", "Not applicable", ["n/a", "na", "該当なし"];
    }
}

/// The ledger's 起動時パスワード for the current attestation of [`AttestItem::BootPassword`].
pub fn boot_password(value: Option<AttestValue>) -> Option<BootPassword> {
    match value? {
        AttestValue::Yes => Some(BootPassword::Set),
        AttestValue::No => Some(BootPassword::NotSet),
        AttestValue::NotApplicable => None,
    }
}

/// The ledger's 出荷時パスワード変更 from the current attestations of the device's own
/// password and of its server software's admin IDs: 変更済 only when every one that applies
/// says はい, 未変更 when any says いいえ, otherwise 不明 (`None` when neither is attested).
pub fn default_password(
    device: Option<AttestValue>,
    server_admin: Option<AttestValue>,
) -> Option<DefaultPassword> {
    let values: Vec<AttestValue> = [device, server_admin].into_iter().flatten().collect();
    if values.is_empty() {
        return None;
    }
    if values.contains(&AttestValue::No) {
        Some(DefaultPassword::NotChanged)
    } else if values.contains(&AttestValue::Yes) {
        Some(DefaultPassword::Changed)
    } else {
        None
    }
}

impl AttestItem {
    /// The checklist item the attestation evidences.
    pub fn clause(self) -> &'static str {
        match self {
            AttestItem::BootPassword => "ガイドライン 8.3 (起動時パスワード) / 遵守事項 8⑤",
            AttestItem::DefaultPassword | AttestItem::ServerAdmin => {
                "ガイドライン 8.3 (出荷時パスワード・管理者IDの変更) / チェックリスト 2-⑦・2-⑧"
            }
            AttestItem::ServicesStopped => {
                "ガイドライン 8.3 (不要なサービスの停止) / チェックリスト 2-⑫"
            }
            AttestItem::InitialSettings => "ガイドライン 8.3 (初期設定の確認)",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ledger_columns_follow_the_attestations() {
        use AttestValue::*;
        assert_eq!(boot_password(Some(Yes)), Some(BootPassword::Set));
        assert_eq!(boot_password(Some(No)), Some(BootPassword::NotSet));
        assert_eq!(boot_password(None), None);
        assert_eq!(
            default_password(Some(Yes), Some(NotApplicable)),
            Some(DefaultPassword::Changed)
        );
        assert_eq!(
            default_password(Some(Yes), Some(No)),
            Some(DefaultPassword::NotChanged)
        );
        assert_eq!(default_password(None, None), None);
        assert_eq!(
            AttestItem::parse("起動時パスワード"),
            Some(AttestItem::BootPassword)
        );
        assert_eq!(AttestValue::parse("いいえ"), Some(AttestValue::No));
    }
}
