//! What a network scan saw, independent of who scanned (mamori's own scanner, or an nmap
//! XML file): hosts, their ports and the services identified on them; and the 8.3 checks
//! that compare it with the ledger.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::labels::labelled;
use crate::{Labelled, Lang, MacAddr};

/// TCP or UDP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
}

impl Transport {
    /// `tcp` or `udp`.
    pub fn code(self) -> &'static str {
        match self {
            Transport::Tcp => "tcp",
            Transport::Udp => "udp",
        }
    }

    /// Reads `tcp` / `udp` (any case).
    pub fn parse(text: &str) -> Option<Transport> {
        match text.trim().to_ascii_lowercase().as_str() {
            "tcp" => Some(Transport::Tcp),
            "udp" => Some(Transport::Udp),
            _ => None,
        }
    }
}

/// What a probe of one port found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PortState {
    /// Accepted a connection (or answered on UDP).
    Open,
    /// Refused: the host is there, the port is not listening.
    Closed,
    /// No answer within the timeout.
    Filtered,
    /// UDP without an answer (nmap's `open|filtered`).
    OpenFiltered,
}

impl PortState {
    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            PortState::Open => "open",
            PortState::Closed => "closed",
            PortState::Filtered => "filtered",
            PortState::OpenFiltered => "open_filtered",
        }
    }
}

/// One port of one host.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PortResult {
    /// Port number.
    pub port: u16,
    /// TCP or UDP.
    pub transport: Transport,
    /// Open, closed, filtered.
    pub state: PortState,
    /// Service name (`ssh`, `http`, `https`, `dicom`, `snmp`, `mysql`, …): identified by a
    /// probe, or from the port number alone (`by_port`).
    pub service: Option<String>,
    /// `true` when the service name comes from the port number only.
    #[serde(default)]
    pub by_port: bool,
    /// Product, as the service said (`OpenSSH`, `nginx`, `MariaDB`, `Orthanc`).
    pub product: Option<String>,
    /// Version, as the service said.
    pub version: Option<String>,
    /// CPE 2.3 name of the product and version, when we know the product's CPE vendor.
    pub cpe: Option<String>,
    /// The first line the service sent (printable, shortened).
    pub banner: Option<String>,
    /// Further facts, by stable key: `http.status`, `http.server`, `http.title`,
    /// `tls.subject`, `tls.issuer`, `tls.not_after`, `dicom.any_ae`, `dicom.impl_uid`,
    /// `dicom.impl_version`, `snmp.sys_descr`, `smb.smb1`, `vnc.security_types`, …
    #[serde(default)]
    pub facts: BTreeMap<String, String>,
}

impl PortResult {
    /// A port with only its state.
    pub fn new(port: u16, transport: Transport, state: PortState) -> PortResult {
        PortResult {
            port,
            transport,
            state,
            service: None,
            by_port: false,
            product: None,
            version: None,
            cpe: None,
            banner: None,
            facts: BTreeMap::new(),
        }
    }

    /// `22/tcp`.
    pub fn key(&self) -> String {
        format!("{}/{}", self.port, self.transport.code())
    }

    /// A fact by key.
    pub fn fact(&self, key: &str) -> Option<&str> {
        self.facts.get(key).map(String::as_str)
    }
}

/// One address of a scan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostResult {
    /// The address probed.
    pub addr: IpAddr,
    /// Answered anything (an open or a refused port, or an nmap `up`).
    pub up: bool,
    /// MAC address, when the scanner saw it (nmap on the same segment).
    pub mac: Option<MacAddr>,
    /// Host names (reverse look-up, or what nmap recorded).
    #[serde(default)]
    pub hostnames: Vec<String>,
    /// Ports with an answer (open or closed); filtered ports are left out unless a source
    /// lists them.
    #[serde(default)]
    pub ports: Vec<PortResult>,
}

impl HostResult {
    /// The open ports.
    pub fn open_ports(&self) -> impl Iterator<Item = &PortResult> {
        self.ports.iter().filter(|p| p.state == PortState::Open)
    }
}

/// Where the scan looked from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Vantage {
    /// From inside the hospital network.
    #[default]
    Internal,
    /// From outside (the internet, or another organisation's network): whatever answers
    /// is reachable from outside.
    External,
}

impl Vantage {
    /// `internal` or `external`.
    pub fn code(self) -> &'static str {
        match self {
            Vantage::Internal => "internal",
            Vantage::External => "external",
        }
    }

    /// Reads `internal` / `external` (or 内部 / 外部).
    pub fn parse(text: &str) -> Option<Vantage> {
        match text.trim().to_ascii_lowercase().as_str() {
            "internal" | "内部" => Some(Vantage::Internal),
            "external" | "外部" => Some(Vantage::External),
            _ => None,
        }
    }
}

labelled! {
    /// The safe-use (8.3) checks that compare a scan with the ledger. Each is a finding in the
    /// same workflow as vulnerabilities (its `vuln` is `8.3:` + the code).
    Check83 {
        /// 未登録機器: an address that answered is not in the ledger.
        Unregistered = "unregistered", "未登録機器", "Unregistered device", [];
        /// 廃棄済・予備機器の稼働: a device marked retired, spare or stopped answers.
        UnusedActive = "unused_active", "廃棄済・予備機器の稼働", "Retired or spare device active", [];
        /// 想定外のサービス: a service outside the device's (or its kind's) allowed services.
        UnexpectedService = "unexpected_service", "想定外のサービス", "Unexpected service", [];
        /// 外部から到達可能: seen from a scan whose vantage point is outside.
        ExternallyReachable = "external", "外部から到達可能", "Reachable from outside", [];
        /// DICOM AE タイトル無制限: a DICOM node that accepts any calling and called AE title.
        DicomAnyAe = "dicom_any_ae", "DICOM AEタイトル制限なし", "DICOM node accepts any AE title", [];
        /// レガシーサービス: Telnet, FTP, SMBv1, rsh/rlogin, TFTP — plain-text or obsolete.
        LegacyService = "legacy_service", "レガシーサービスの稼働", "Legacy service running", [];
        /// 稼働時間外の稼働: seen up outside its schedule for longer than the grace period (one
        /// finding per device and day).
        OutOfHours = "out_of_hours", "稼働時間外の稼働", "Running outside its hours", [];
        /// 長期間未検出: a device in use not seen for many days (the ledger may be stale).
        LongUnseen = "long_unseen", "長期間未検出", "Not seen for a long time", [];
        /// 保守窓外のリモート保守経路: a remote-maintenance device reachable outside its
        /// approved windows.
        MaintenanceOutsideWindow = "maintenance_outside_window", "保守窓外のリモート保守経路", "Remote-maintenance path open outside its window", [];
        /// 出荷時パスワード未変更: a default credential from the catalogue was accepted.
        DefaultCredential = "default_credential", "出荷時パスワード未変更", "Factory-default password accepted", [];
        /// 認証なし: the service lets anyone in without a password.
        NoAuthentication = "no_auth", "認証なし", "No authentication required", [];
        /// 同一パスワードの使い回し疑い: the same catalogue credential was accepted on several
        /// devices.
        ReusedCredential = "reused_credential", "同一パスワードの使い回し疑い", "Same password suspected on several devices", [];
    }
}

impl Check83 {
    /// The `vuln` of a finding of this check.
    pub fn finding_id(self) -> String {
        format!("8.3:{}", self.code())
    }

    /// Reads a finding's `vuln` back (`8.3:unregistered`).
    pub fn from_finding_id(id: &str) -> Option<Check83> {
        let code = id.strip_prefix("8.3:")?;
        Self::ALL.iter().copied().find(|c| c.code() == code)
    }

    /// What part of the guideline and the inspection checklist the finding evidences.
    pub fn clause(self) -> &'static str {
        match self {
            Check83::Unregistered => "ガイドライン 8.3・8.4 / チェックリスト 2-①",
            Check83::UnusedActive => "ガイドライン 8.3 (不要な機器の不使用) / チェックリスト 2-①",
            Check83::UnexpectedService | Check83::LegacyService => {
                "ガイドライン 8.1・8.3 (不要なサービスの停止) / チェックリスト 2-⑫"
            }
            Check83::ExternallyReachable => {
                "ガイドライン 8.3 (外部から到達可能な機器) / チェックリスト 2-⑬"
            }
            Check83::DicomAnyAe => "ガイドライン 8.3 / チェックリスト 2-④・2-⑬",
            Check83::OutOfHours => "ガイドライン 8.3 (必要な時間帯以外の稼働)",
            Check83::LongUnseen => "ガイドライン 8.3・8.4 (台帳と実態の一致) / チェックリスト 2-①",
            Check83::MaintenanceOutsideWindow => {
                "ガイドライン 8.3・10.1 (リモートメンテナンスの事前承認)"
            }
            Check83::DefaultCredential => {
                "ガイドライン 8.3 (出荷時パスワード・管理者IDの変更) / 遵守事項 8⑤ / チェックリスト 2-⑦"
            }
            Check83::NoAuthentication => {
                "ガイドライン 8.3・6.2 (利用者の識別・認証) / 遵守事項 8⑤ / チェックリスト 2-⑦"
            }
            Check83::ReusedCredential => {
                "ガイドライン 8.3 (推測されやすい・使い回しのパスワードの禁止) / チェックリスト 2-⑧"
            }
        }
    }

    /// Whether the finding comes from the default-credential checks (only a run of those
    /// checks confirms or resolves it).
    pub fn is_credential(self) -> bool {
        matches!(
            self,
            Check83::DefaultCredential | Check83::NoAuthentication | Check83::ReusedCredential
        )
    }

    /// The priority level code a finding of this check gets (`urgent`, `high`, `medium`).
    pub fn level(self) -> &'static str {
        match self {
            Check83::ExternallyReachable | Check83::MaintenanceOutsideWindow => "urgent",
            Check83::Unregistered
            | Check83::UnusedActive
            | Check83::DicomAnyAe
            | Check83::DefaultCredential
            | Check83::NoAuthentication
            | Check83::ReusedCredential => "high",
            Check83::UnexpectedService | Check83::LegacyService | Check83::OutOfHours => "medium",
            Check83::LongUnseen => "low",
        }
    }
}
