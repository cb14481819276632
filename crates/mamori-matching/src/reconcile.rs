//! Reconciliation of a scan with the ledger (guideline §8.3): which answering address is
//! which device, and what the safe-use checks ([`Check83`]) observe.
//!
//! An address is recognised by IP address, then MAC address, then host name. An address
//! counts as a device in use when it has an open port: on some networks (and on loopback)
//! every address refuses connections, so a refusal alone proves a host is there but not
//! that anything runs on it.

use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;

use mamori_core::scan::{Check83, HostResult, PortResult, Transport, Vantage};
use mamori_core::{AssetKind, AssetStatus, Labelled, MacAddr};

/// What reconciliation needs of a ledger device.
#[derive(Debug, Clone)]
pub struct Device {
    /// Internal id.
    pub id: i64,
    /// 管理番号.
    pub asset_id: String,
    /// 機器種別.
    pub kind: AssetKind,
    /// 状態.
    pub status: AssetStatus,
    /// IP addresses.
    pub ips: Vec<IpAddr>,
    /// MAC addresses.
    pub macs: Vec<MacAddr>,
    /// Host names (lower case).
    pub hostnames: Vec<String>,
    /// 外部接続: the ledger says the device is meant to be reachable from outside.
    pub external_access: Option<bool>,
}

/// Allowed services: per kind and per device. A device with neither has no allow-list,
/// and no 想定外のサービス findings (there is nothing to compare with).
#[derive(Debug, Clone, Default)]
pub struct Allowed {
    /// By kind.
    pub by_kind: HashMap<AssetKind, BTreeSet<(u16, Transport)>>,
    /// By device id.
    pub by_device: HashMap<i64, BTreeSet<(u16, Transport)>>,
}

impl Allowed {
    /// The union of the device's and its kind's lists, or `None` when neither exists.
    pub fn for_device(&self, d: &Device) -> Option<BTreeSet<(u16, Transport)>> {
        let kind = self.by_kind.get(&d.kind);
        let own = self.by_device.get(&d.id);
        if kind.is_none() && own.is_none() {
            return None;
        }
        Some(
            kind.into_iter()
                .chain(own)
                .flat_map(|s| s.iter().copied())
                .collect(),
        )
    }
}

/// One thing a check observed.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    /// Which check.
    pub check: Check83,
    /// The device (internal id), or `None` for an address in no ledger row.
    pub asset: Option<i64>,
    /// What it is about, stable across scans: `host:ADDR` or `svc:ADDR:PORT/tcp`.
    pub subject: String,
    /// As shown: address, port, service, product and version.
    pub shown: String,
    /// The address.
    pub addr: IpAddr,
    /// The port, for service checks.
    pub port: Option<(u16, Transport)>,
    /// Priority level code (the check's, lowered when the ledger says it is intended).
    pub level: &'static str,
    /// Why, in words (English).
    pub why: String,
    /// Why, in words (Japanese).
    pub why_ja: String,
}

/// Which device an address is: by IP, then MAC, then host name. Retired devices match
/// too (that they answer is a finding).
pub fn recognise<'a>(host: &HostResult, devices: &'a [Device]) -> Option<&'a Device> {
    devices
        .iter()
        .find(|d| d.ips.contains(&host.addr))
        .or_else(|| {
            let mac = host.mac?;
            devices.iter().find(|d| d.macs.contains(&mac))
        })
        .or_else(|| {
            devices.iter().find(|d| {
                host.hostnames.iter().any(|n| {
                    let n = n.to_ascii_lowercase();
                    let short = n.split('.').next().unwrap_or(&n).to_string();
                    d.hostnames.iter().any(|h| *h == n || *h == short)
                })
            })
        })
}

fn describe(addr: IpAddr, p: &PortResult) -> String {
    let mut s = format!("{addr} {}", p.key());
    for part in [&p.service, &p.product, &p.version].into_iter().flatten() {
        s.push(' ');
        s.push_str(part);
    }
    s
}

/// Why a service is legacy (English, Japanese), or `None`.
pub fn legacy(p: &PortResult) -> Option<(&'static str, &'static str)> {
    let svc = p.service.as_deref().unwrap_or("");
    match (p.port, p.transport, svc) {
        (_, Transport::Tcp, "telnet") | (23, Transport::Tcp, _) => Some((
            "Telnet sends passwords in plain text",
            "Telnet はパスワードを暗号化せずに送ります",
        )),
        (_, Transport::Tcp, "ftp") | (21, Transport::Tcp, _) => Some((
            "FTP sends passwords in plain text",
            "FTP はパスワードを暗号化せずに送ります",
        )),
        (512..=514, Transport::Tcp, _) => Some((
            "rexec/rlogin/rsh: plain-text remote access",
            "rexec/rlogin/rsh: 暗号化されない遠隔操作",
        )),
        (69, Transport::Udp, _) => {
            Some(("TFTP has no authentication", "TFTP には認証がありません"))
        }
        _ if p.fact("smb.smb1") == Some("true") => Some((
            "SMBv1 (WannaCry, EternalBlue)",
            "SMBv1 (WannaCry・EternalBlue で悪用)",
        )),
        _ => None,
    }
}

/// What the checks observe in one scan. `hosts` are the addresses the scan finished.
pub fn reconcile(
    hosts: &[HostResult],
    devices: &[Device],
    allowed: &Allowed,
    vantage: Vantage,
) -> Vec<Observation> {
    let mut out = Vec::new();
    for host in hosts {
        let open: Vec<&PortResult> = host.open_ports().collect();
        if open.is_empty() {
            continue;
        }
        let device = recognise(host, devices);
        let asset = device.map(|d| d.id);
        let host_subject = format!("host:{}", host.addr);
        let ports_text = open.iter().map(|p| p.key()).collect::<Vec<_>>().join(", ");
        match device {
            None => out.push(Observation {
                check: Check83::Unregistered,
                asset: None,
                subject: host_subject.clone(),
                shown: format!("{} ({ports_text})", host.addr),
                addr: host.addr,
                port: None,
                level: Check83::Unregistered.level(),
                why: format!(
                    "{} answers ({ports_text}) and is in no ledger row by address, MAC or host name",
                    host.addr
                ),
                why_ja: format!(
                    "{} が応答しました ({ports_text})。IPアドレス・MACアドレス・ホスト名のどれでも台帳にありません",
                    host.addr
                ),
            }),
            Some(d)
                if matches!(
                    d.status,
                    AssetStatus::Retired | AssetStatus::Spare | AssetStatus::Stopped
                ) =>
            {
                out.push(Observation {
                    check: Check83::UnusedActive,
                    asset,
                    subject: host_subject.clone(),
                    shown: format!("{} ({ports_text})", host.addr),
                    addr: host.addr,
                    port: None,
                    level: Check83::UnusedActive.level(),
                    why: format!(
                        "{} is {} in the ledger but answers ({ports_text})",
                        d.asset_id,
                        d.status.code()
                    ),
                    why_ja: format!(
                        "{} は台帳で「{}」ですが応答しました ({ports_text})",
                        d.asset_id,
                        d.status.label(mamori_core::Lang::Ja)
                    ),
                })
            }
            Some(_) => {}
        }
        let allow = device.and_then(|d| allowed.for_device(d));
        for p in &open {
            let subject = format!("svc:{}:{}", host.addr, p.key());
            let shown = describe(host.addr, p);
            let mut push =
                |check: Check83, level: &'static str, (why, why_ja): (String, String)| {
                    out.push(Observation {
                        check,
                        asset,
                        subject: subject.clone(),
                        shown: shown.clone(),
                        addr: host.addr,
                        port: Some((p.port, p.transport)),
                        level,
                        why,
                        why_ja,
                    })
                };
            if let Some(allow) = &allow {
                if !allow.contains(&(p.port, p.transport)) {
                    push(
                        Check83::UnexpectedService,
                        Check83::UnexpectedService.level(),
                        (
                            format!("{} is not among the device's allowed services", p.key()),
                            format!("{} はこの機器に許可されたサービスではありません", p.key()),
                        ),
                    );
                }
            }
            if vantage == Vantage::External {
                let intended = device.and_then(|d| d.external_access) == Some(true);
                push(
                    Check83::ExternallyReachable,
                    if intended {
                        "medium"
                    } else {
                        Check83::ExternallyReachable.level()
                    },
                    if intended {
                        (
                            format!(
                                "{} answers from outside (the ledger says 外部接続 有)",
                                p.key()
                            ),
                            format!("{} が外部から応答しました (台帳は外部接続 有)", p.key()),
                        )
                    } else {
                        (
                            format!("{} answers from outside", p.key()),
                            format!("{} が外部から応答しました", p.key()),
                        )
                    },
                );
            }
            if p.fact("dicom.any_ae") == Some("true") {
                push(
                    Check83::DicomAnyAe,
                    Check83::DicomAnyAe.level(),
                    (
                        "the DICOM node accepted an association from an unknown calling AE title to an unknown called AE title".into(),
                        "DICOM ノードが、未知の呼出し側 AE タイトルから未知の着信側 AE タイトルへの接続 (アソシエーション) を受け入れました".into(),
                    ),
                );
            }
            if let Some((en, ja)) = legacy(p) {
                push(
                    Check83::LegacyService,
                    Check83::LegacyService.level(),
                    (en.into(), ja.into()),
                );
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use mamori_core::scan::PortState;

    fn host(addr: &str, ports: &[(u16, &str)]) -> HostResult {
        HostResult {
            addr: addr.parse().unwrap(),
            up: true,
            mac: None,
            hostnames: vec![],
            ports: ports
                .iter()
                .map(|(p, s)| {
                    let mut r = PortResult::new(*p, Transport::Tcp, PortState::Open);
                    r.service = Some(s.to_string());
                    r
                })
                .collect(),
        }
    }

    fn device(id: i64, addr: &str, status: AssetStatus) -> Device {
        Device {
            id,
            asset_id: format!("A-{id}"),
            kind: AssetKind::Server,
            status,
            ips: vec![addr.parse().unwrap()],
            macs: vec![],
            hostnames: vec!["pacs".into()],
            external_access: None,
        }
    }

    #[test]
    fn each_check_observes_what_it_should() {
        let devices = vec![
            device(1, "10.0.0.1", AssetStatus::InUse),
            device(2, "10.0.0.2", AssetStatus::Retired),
        ];
        let mut allowed = Allowed::default();
        allowed
            .by_device
            .insert(1, [(443, Transport::Tcp)].into_iter().collect());
        let mut dicom = host("10.0.0.1", &[(443, "https"), (104, "dicom")]);
        dicom.ports[1]
            .facts
            .insert("dicom.any_ae".into(), "true".into());
        let hosts = vec![
            dicom,
            host("10.0.0.2", &[(22, "ssh")]),
            host("10.0.0.3", &[(21, "ftp")]),
            host("10.0.0.4", &[]),
        ];
        let obs = reconcile(&hosts, &devices, &allowed, Vantage::Internal);
        let got: Vec<(Check83, Option<i64>, &str)> = obs
            .iter()
            .map(|o| (o.check, o.asset, o.subject.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                (Check83::UnexpectedService, Some(1), "svc:10.0.0.1:104/tcp"),
                (Check83::DicomAnyAe, Some(1), "svc:10.0.0.1:104/tcp"),
                (Check83::UnusedActive, Some(2), "host:10.0.0.2"),
                (Check83::Unregistered, None, "host:10.0.0.3"),
                (Check83::LegacyService, None, "svc:10.0.0.3:21/tcp"),
            ]
        );
        let ext = reconcile(
            &hosts[..1],
            &devices,
            &Allowed::default(),
            Vantage::External,
        );
        assert_eq!(
            ext.iter()
                .filter(|o| o.check == Check83::ExternallyReachable)
                .count(),
            2
        );
    }

    #[test]
    fn addresses_are_recognised_by_mac_and_host_name() {
        let devices = vec![device(1, "10.0.0.1", AssetStatus::InUse)];
        let mut h = host("10.9.9.9", &[(80, "http")]);
        assert!(recognise(&h, &devices).is_none());
        h.hostnames = vec!["PACS.hospital.local".into()];
        assert_eq!(recognise(&h, &devices).map(|d| d.id), Some(1));
    }
}
