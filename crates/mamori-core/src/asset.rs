//! One device of the ledger (機器台帳) and its parts.

use std::collections::BTreeMap;
use std::net::IpAddr;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::labels::{
    AssetKind, AssetStatus, BootPassword, Criticality, DefaultPassword, DocStatus,
};
use crate::value::MacAddr;

/// One device in use, as the ledger knows it. Field names are the English column names;
/// the JSON shape of this type is documented in `docs/json.md` and kept stable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Asset {
    /// 管理番号: the hospital's own id, unique in the ledger.
    pub asset_id: String,
    /// 機器種別.
    pub kind: AssetKind,
    /// 機器名.
    pub name: String,
    /// 用途.
    pub purpose: Option<String>,
    /// 部署.
    pub department: Option<String>,
    /// 設置場所.
    pub location: Option<String>,
    /// 管理責任者.
    pub owner: Option<String>,
    /// メーカー.
    pub manufacturer: Option<String>,
    /// 型番.
    pub model: Option<String>,
    /// OS・ファームウェア.
    pub os: Option<String>,
    /// バージョン (of the OS or firmware).
    pub os_version: Option<String>,
    /// ソフトウェア: installed software named in the ledger.
    pub software: Vec<Software>,
    /// CPE names given in the ledger (2.3 or 2.2).
    pub cpe: Vec<String>,
    /// ホスト名.
    pub hostname: Vec<String>,
    /// IPアドレス.
    pub ip: Vec<IpAddr>,
    /// MACアドレス.
    pub mac: Vec<MacAddr>,
    /// 状態.
    pub status: AssetStatus,
    /// 保守事業者.
    pub vendor: Option<String>,
    /// 事業者連絡先.
    pub vendor_contact: Option<String>,
    /// リモートメンテナンス 有/無.
    pub remote_maintenance: Option<bool>,
    /// 外部接続 有/無.
    pub external_access: Option<bool>,
    /// サポート終了日 (EOS).
    pub eos_date: Option<NaiveDate>,
    /// 稼働時間帯: the name of a schedule such as 外来 or 24時間.
    pub schedule: Option<String>,
    /// 重要度.
    pub criticality: Option<Criticality>,
    /// 患者情報 有/無.
    pub patient_data: Option<bool>,
    /// スキャン除外: never probed by the network audit (fragile devices such as infusion
    /// pumps, or devices the vendor forbids scanning).
    pub scan_exclude: Option<bool>,
    /// 起動時パスワード.
    pub boot_password: Option<BootPassword>,
    /// 出荷時パスワード変更.
    pub default_password_changed: Option<DefaultPassword>,
    /// MDS/SDS received.
    pub mds_sds: Option<DocStatus>,
    /// SBOM received.
    pub sbom: Option<DocStatus>,
    /// 棚卸日: the last stock-take that found this device.
    pub last_stocktake: Option<NaiveDate>,
    /// 備考.
    pub notes: Option<String>,
    /// Columns the ledger had that mamori has no field for, kept by their header.
    pub custom: BTreeMap<String, String>,
}

impl Asset {
    /// A new in-use device with only the required fields set.
    pub fn new(asset_id: impl Into<String>, kind: AssetKind, name: impl Into<String>) -> Asset {
        Asset {
            asset_id: asset_id.into(),
            kind,
            name: name.into(),
            purpose: None,
            department: None,
            location: None,
            owner: None,
            manufacturer: None,
            model: None,
            os: None,
            os_version: None,
            software: Vec::new(),
            cpe: Vec::new(),
            hostname: Vec::new(),
            ip: Vec::new(),
            mac: Vec::new(),
            status: AssetStatus::InUse,
            vendor: None,
            vendor_contact: None,
            remote_maintenance: None,
            external_access: None,
            eos_date: None,
            schedule: None,
            criticality: None,
            patient_data: None,
            scan_exclude: None,
            boot_password: None,
            default_password_changed: None,
            mds_sds: None,
            sbom: None,
            last_stocktake: None,
            notes: None,
            custom: BTreeMap::new(),
        }
    }

    /// Whether the device is past its support end on `today`.
    pub fn is_past_eos(&self, today: NaiveDate) -> bool {
        self.eos_date.is_some_and(|d| d < today)
    }
}

/// One entry of the ソフトウェア column: a name and, when given, a version.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Software {
    /// Product name as written, e.g. `Google Chrome`.
    pub name: String,
    /// Version as written, e.g. `120.0.6099.110`.
    pub version: Option<String>,
}

impl Software {
    /// Reads `name version`: the last word is the version when it starts with a digit
    /// (or `v` and a digit), so `Microsoft Office 2019` is Office, version 2019.
    pub fn parse(entry: &str) -> Software {
        let entry = entry.trim();
        if let Some((name, last)) = entry.rsplit_once(char::is_whitespace) {
            let digits = last.strip_prefix(['v', 'V']).unwrap_or(last);
            if digits.starts_with(|c: char| c.is_ascii_digit()) && !name.trim().is_empty() {
                return Software {
                    name: name.trim().to_string(),
                    version: Some(last.to_string()),
                };
            }
        }
        Software {
            name: entry.to_string(),
            version: None,
        }
    }
}

impl std::fmt::Display for Software {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.version {
            Some(v) => write!(f, "{} {}", self.name, v),
            None => f.write_str(&self.name),
        }
    }
}

/// Where a component record came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ComponentSource {
    /// Typed in the ledger.
    Ledger,
    /// From an SBOM.
    Sbom,
    /// Identified by a network scan.
    Scan,
    /// Reported by the host collector.
    Collector,
}

impl ComponentSource {
    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            ComponentSource::Ledger => "ledger",
            ComponentSource::Sbom => "sbom",
            ComponentSource::Scan => "scan",
            ComponentSource::Collector => "collector",
        }
    }

    /// Reads the stable code.
    pub fn from_code(code: &str) -> Option<Self> {
        [Self::Ledger, Self::Sbom, Self::Scan, Self::Collector]
            .into_iter()
            .find(|s| s.code() == code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn software_entries_split_name_and_version() {
        let s = Software::parse("Microsoft Office 2019");
        assert_eq!(
            (s.name.as_str(), s.version.as_deref()),
            ("Microsoft Office", Some("2019"))
        );
        let s = Software::parse("Google Chrome");
        assert_eq!((s.name.as_str(), s.version), ("Google Chrome", None));
        let s = Software::parse("Apache Tomcat v9.0.31");
        assert_eq!(s.version.as_deref(), Some("v9.0.31"));
        assert_eq!(Software::parse("7zip").version, None);
        assert_eq!(
            Software::parse("Acrobat Reader DC 2015.006").to_string(),
            "Acrobat Reader DC 2015.006"
        );
    }
}
