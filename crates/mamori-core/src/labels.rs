//! Enumerations that appear in the ledger with a Japanese and an English label.
//!
//! Each value has a stable code (used in JSON and in the store), a Japanese label (the
//! vocabulary of the guideline), an English label, and synonyms accepted on import.

use crate::lang::Lang;
use crate::value::normalize_token;

/// A closed set of values with a stable code and labels in both languages.
pub trait Labelled: Sized + Copy + 'static {
    /// Every value, in display order.
    const ALL: &'static [Self];
    /// The stable machine code (JSON, store).
    fn code(self) -> &'static str;
    /// The user-facing label.
    fn label(self, lang: Lang) -> &'static str;
    /// Extra spellings accepted on import.
    fn synonyms(self) -> &'static [&'static str];

    /// Reads a value from its code, either label or a synonym; case, width and spacing
    /// do not matter (`ｻｰﾊﾞ`, `Server`, `server` all read as the same kind).
    fn parse(text: &str) -> Option<Self> {
        let wanted = normalize_token(text);
        if wanted.is_empty() {
            return None;
        }
        Self::ALL.iter().copied().find(|v| {
            normalize_token(v.code()) == wanted
                || normalize_token(v.label(Lang::Ja)) == wanted
                || normalize_token(v.label(Lang::En)) == wanted
                || v.synonyms().iter().any(|s| normalize_token(s) == wanted)
        })
    }

    /// The labels users may type, for error messages: `サーバ, 端末PC, …`.
    fn choices(lang: Lang) -> String {
        Self::ALL
            .iter()
            .map(|v| v.label(lang))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

macro_rules! labelled {
    ($(#[$meta:meta])* $name:ident {
        $($(#[$vmeta:meta])* $var:ident = $code:literal, $ja:literal, $en:literal, [$($syn:literal),*];)+
    }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $code)] $var,)+
        }

        impl Labelled for $name {
            const ALL: &'static [Self] = &[$($name::$var),+];
            fn code(self) -> &'static str {
                match self { $($name::$var => $code,)+ }
            }
            fn label(self, lang: Lang) -> &'static str {
                match self { $($name::$var => lang.pick($ja, $en),)+ }
            }
            fn synonyms(self) -> &'static [&'static str] {
                match self { $($name::$var => &[$($syn),*],)+ }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.code())
            }
        }
    };
}
pub(crate) use labelled;

labelled! {
    /// 機器種別: what kind of device a ledger row describes.
    AssetKind {
        /// サーバ.
        Server = "server", "サーバ", "Server", ["サーバー", "srv", "server machine"];
        /// 端末PC.
        Terminal = "terminal", "端末PC", "Terminal PC", ["端末", "pc", "パソコン", "クライアント", "client", "terminal pc", "クライアントpc", "端末pc(クライアント)"];
        /// ネットワーク機器.
        Network = "network", "ネットワーク機器", "Network device", ["ネットワーク", "nw機器", "network device", "network equipment"];
        /// 医療機器.
        MedicalDevice = "medical_device", "医療機器", "Medical device", ["medical device", "医療用機器"];
        /// IoT機器.
        Iot = "iot", "IoT機器", "IoT device", ["iot device", "iot"];
        /// 検査機器付属: a system attached to examination equipment.
        ExamEquipment = "exam_equipment", "検査機器付属", "Exam equipment system", ["検査装置付属", "検査機器付属システム", "検査装置等に付属するシステム", "exam equipment"];
        /// 可搬媒体: USB memory, external disks.
        PortableMedia = "portable_media", "可搬媒体", "Portable media", ["外部記録媒体", "usbメモリ", "portable media", "可搬型媒体"];
        /// その他.
        Other = "other", "その他", "Other", ["そのほか"];
    }
}

labelled! {
    /// 状態: where a device is in its life.
    AssetStatus {
        /// 稼働中.
        InUse = "in_use", "稼働中", "In use", ["使用中", "運用中", "稼動中", "active", "in use"];
        /// 予備.
        Spare = "spare", "予備", "Spare", ["予備機"];
        /// 停止中.
        Stopped = "stopped", "停止中", "Stopped", ["停止", "未使用"];
        /// 廃棄予定.
        Retiring = "retiring", "廃棄予定", "Retiring", ["廃棄予定機"];
        /// 廃棄済.
        Retired = "retired", "廃棄済", "Retired", ["廃棄済み", "廃棄"];
    }
}

labelled! {
    /// 重要度 of a device for the hospital's work.
    Criticality {
        /// 高.
        High = "high", "高", "High", ["h", "大"];
        /// 中.
        Medium = "medium", "中", "Medium", ["m", "mid"];
        /// 低.
        Low = "low", "低", "Low", ["l", "小"];
    }
}

labelled! {
    /// 起動時パスワード: whether a start-up password is set.
    BootPassword {
        /// 設定済.
        Set = "set", "設定済", "Set", ["設定済み", "設定あり", "あり", "有"];
        /// 未設定.
        NotSet = "not_set", "未設定", "Not set", ["設定なし", "なし", "無"];
        /// 不明.
        Unknown = "unknown", "不明", "Unknown", ["?", "未確認"];
    }
}

labelled! {
    /// 出荷時パスワード変更: whether factory-default passwords were changed.
    DefaultPassword {
        /// 変更済.
        Changed = "changed", "変更済", "Changed", ["変更済み", "変更あり"];
        /// 未変更.
        NotChanged = "not_changed", "未変更", "Not changed", ["変更なし", "出荷時のまま"];
        /// 不明.
        Unknown = "unknown", "不明", "Unknown", ["?", "未確認"];
    }
}

labelled! {
    /// Whether a document (MDS/SDS, SBOM) was received from the vendor.
    DocStatus {
        /// 受領済.
        Received = "received", "受領済", "Received", ["受領済み", "受領", "提出済", "あり", "有"];
        /// 未受領.
        NotReceived = "not_received", "未受領", "Not received", ["未提出", "なし", "無"];
        /// 対象外.
        NotApplicable = "not_applicable", "対象外", "Not applicable", ["n/a", "na", "該当なし"];
    }
}

labelled! {
    /// 緊急度: how urgent a finding is (see `mamori_matching::priority`). Ordered low → urgent.
    Level {
        /// 低.
        Low = "low", "低", "Low", [];
        /// 中.
        Medium = "medium", "中", "Medium", [];
        /// 高.
        High = "high", "高", "High", [];
        /// 緊急.
        Urgent = "urgent", "緊急", "Urgent", ["critical"];
    }
}

labelled! {
    /// 確度: how sure a finding is. Ordered low → high.
    Confidence {
        /// 要確認: something could not be decided.
        Low = "low", "要確認", "To confirm", [];
        /// 可能性高: a range from a source without exact criteria (JVN).
        Medium = "medium", "可能性高", "Likely", [];
        /// 確実: an exact criterion holds.
        High = "high", "確実", "Certain", [];
    }
}

labelled! {
    /// 検出状態: whether the data still says the device is affected (matching sets it; the
    /// people's 対応状況 is `remediation::Remediation`).
    FindingStatus {
        /// 検出中: the data says the device is affected.
        Open = "open", "検出中", "Present", ["未対応"];
        /// 解消.
        Resolved = "resolved", "解消", "Resolved", [];
        /// 影響なし.
        NotAffected = "not_affected", "影響なし", "Not affected", [];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_accepts_codes_labels_synonyms_and_width_variants() {
        assert_eq!(AssetKind::parse("サーバ"), Some(AssetKind::Server));
        assert_eq!(AssetKind::parse("ｻｰﾊﾞ"), Some(AssetKind::Server));
        assert_eq!(AssetKind::parse(" Server "), Some(AssetKind::Server));
        assert_eq!(
            AssetKind::parse("medical_device"),
            Some(AssetKind::MedicalDevice)
        );
        assert_eq!(AssetKind::parse("端末ＰＣ"), Some(AssetKind::Terminal));
        assert_eq!(AssetStatus::parse("廃棄済み"), Some(AssetStatus::Retired));
        assert_eq!(AssetStatus::parse("in use"), Some(AssetStatus::InUse));
        assert_eq!(AssetKind::parse("toaster"), None);
        assert_eq!(AssetKind::parse(""), None);
    }

    #[test]
    fn labels_and_codes_are_unique_per_enum() {
        fn check<T: Labelled + PartialEq + std::fmt::Debug>() {
            for v in T::ALL {
                assert_eq!(T::parse(v.code()), Some(*v));
                assert_eq!(T::parse(v.label(Lang::Ja)), Some(*v));
                assert_eq!(T::parse(v.label(Lang::En)), Some(*v));
                for s in v.synonyms() {
                    assert_eq!(T::parse(s), Some(*v), "synonym {s}");
                }
            }
        }
        check::<AssetKind>();
        check::<AssetStatus>();
        check::<Criticality>();
        check::<BootPassword>();
        check::<DefaultPassword>();
        check::<DocStatus>();
    }

    #[test]
    fn choices_lists_labels() {
        assert!(AssetStatus::choices(Lang::Ja).starts_with("稼働中, 予備"));
        assert!(AssetStatus::choices(Lang::En).contains("Retired"));
    }
}

labelled! {
    /// The result of one device in a stock-take (棚卸し).
    StocktakeResult {
        /// 確認済: found where the ledger says.
        Found = "found", "確認済", "Found", ["あり", "有", "ok", "確認"];
        /// 所在不明: not found.
        Missing = "missing", "所在不明", "Missing", ["なし", "無", "不明", "紛失"];
        /// 記載相違: found, but the ledger's details (place, owner…) are wrong.
        Mismatch = "mismatch", "記載相違", "Details differ", ["相違", "移動"];
    }
}

labelled! {
    /// What a user may do in mamori (the roles of the guideline, plus the administrator
    /// who manages mamori's own users).
    Role {
        /// システム管理者: manages mamori's users and settings.
        Administrator = "administrator", "システム管理者", "Administrator", ["admin"];
        /// システム運用担当者: keeps the ledger, runs feeds and scans, triages findings.
        Operator = "operator", "システム運用担当者", "System operator", ["運用担当者"];
        /// 企画管理者: approves alternative measures, risk acceptance, scan scopes.
        Planner = "planner", "企画管理者", "Planning administrator", [];
        /// 医療情報システム安全管理責任者: oversees and signs reports.
        SecurityManager = "security_manager", "医療情報システム安全管理責任者", "Security manager", ["安全管理責任者"];
        /// 監査: read-only, including the audit log.
        Auditor = "auditor", "監査", "Auditor", ["監査担当者"];
        /// 事業者: sees only the devices it maintains.
        Vendor = "vendor", "事業者", "Vendor", ["保守事業者"];
    }
}
