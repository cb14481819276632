//! The demo hospital: 「みどり総合病院」, about 200 devices of every kind, written by us.
//!
//! Names, departments and places are typical of a Japanese 200-bed hospital; products and
//! versions are real, and some are deliberately old or past their support end (FortiOS
//! 6.0.4 on the maintenance VPN, Windows Server 2012 R2, a Windows 7 PC attached to a
//! laboratory analyser), so that later features have something to find. Every address is
//! in 127.0.0.0/8, so that nothing done with the demo can ever send traffic off this
//! machine.

use std::collections::HashMap;
use std::path::Path;

use chrono::NaiveDate;
use mamori_core::{
    Asset, AssetKind, AssetStatus, BootPassword, Criticality, DefaultPassword, DocStatus, Software,
};
use mamori_ledger::Record;
use mamori_store::AssetFilter;
use serde_json::json;

use crate::init::{init, InitOutcome};
use crate::ledger::{apply_records, Progress};
use crate::{audit, io, App, AppError, Result, DB_FILE};

/// The setting that marks a data directory as the demo's (so `demo` may recreate it).
pub const DEMO_MARKER: &str = "demo.hospital";

/// The demo hospital's name.
pub const HOSPITAL: &str = "みどり総合病院";

/// What `demo` created.
#[derive(Debug)]
pub struct DemoOutcome {
    /// The data directory.
    pub data_dir: std::path::PathBuf,
    /// Whether an earlier demo directory was replaced.
    pub replaced: bool,
    /// The store and its administrator.
    pub init: InitOutcome,
    /// Devices per kind.
    pub counts: Vec<(AssetKind, usize)>,
    /// Devices whose support has ended.
    pub past_eos: Vec<String>,
    /// The match of the demo ledger against the demo vulnerability set.
    pub matched: crate::matching::MatchReport,
}

fn d(y: i32, m: u32, day: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, day)
}

struct Os {
    os: &'static str,
    version: &'static str,
    eos: Option<NaiveDate>,
    cpe: Option<&'static str>,
}

fn windows_10() -> Os {
    Os {
        os: "Windows 10 Pro",
        version: "22H2 (10.0.19045.3570)",
        eos: d(2025, 10, 14),
        cpe: Some("cpe:2.3:o:microsoft:windows_10_22h2:10.0.19045.3570:*:*:*:*:*:x64:*"),
    }
}
fn windows_11() -> Os {
    Os {
        os: "Windows 11 Pro",
        version: "23H2 (10.0.22631.4460)",
        eos: d(2025, 11, 11),
        cpe: Some("cpe:2.3:o:microsoft:windows_11_23h2:10.0.22631.4460:*:*:*:*:*:x64:*"),
    }
}
fn windows_11_24h2() -> Os {
    Os {
        os: "Windows 11 Pro",
        version: "24H2 (10.0.26100.4349)",
        eos: d(2026, 10, 13),
        cpe: None,
    }
}

/// A tiny deterministic generator, so the demo is the same every time.
struct Seq(u64);
impl Seq {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next() % items.len() as u64) as usize]
    }
}

struct Builder {
    assets: Vec<Asset>,
    counters: HashMap<&'static str, usize>,
    seq: Seq,
}

const OWNERS: &[&str] = &[
    "佐藤 健一",
    "鈴木 美穂",
    "高橋 誠",
    "田中 裕子",
    "伊藤 大輔",
    "渡辺 真理",
    "山本 浩二",
    "中村 恵",
    "小林 直樹",
    "加藤 由美",
];

impl Builder {
    fn id(&mut self, prefix: &'static str) -> String {
        let n = self.counters.entry(prefix).or_insert(0);
        *n += 1;
        format!("{prefix}-{:03}", *n)
    }

    fn ip(&self, subnet: u8) -> std::net::IpAddr {
        let host = (self.assets.len() % 250 + 2) as u8;
        std::net::IpAddr::V4(std::net::Ipv4Addr::new(127, 10, subnet, host))
    }

    fn mac(&mut self) -> mamori_core::MacAddr {
        let v = self.seq.next();
        mamori_core::MacAddr([
            0x02,
            0x4d,
            (v >> 24) as u8,
            (v >> 16) as u8,
            (v >> 8) as u8,
            v as u8,
        ])
    }

    #[allow(clippy::too_many_arguments)]
    fn add(
        &mut self,
        prefix: &'static str,
        kind: AssetKind,
        name: &str,
        department: &str,
        location: &str,
        subnet: u8,
        f: impl FnOnce(&mut Asset),
    ) {
        let id = self.id(prefix);
        let mut a = Asset::new(id, kind, name);
        a.department = Some(department.into());
        a.location = Some(location.into());
        a.owner = Some(self.seq.pick(OWNERS).to_string());
        if kind != AssetKind::PortableMedia {
            a.ip = vec![self.ip(subnet)];
            a.mac = vec![self.mac()];
        }
        a.boot_password = Some(BootPassword::Set);
        a.default_password_changed = Some(DefaultPassword::Changed);
        a.patient_data = Some(false);
        a.criticality = Some(Criticality::Medium);
        a.last_stocktake = d(2026, 4, 10);
        f(&mut a);
        self.assets.push(a);
    }
}

fn set_os(a: &mut Asset, os: &Os) {
    a.os = Some(os.os.into());
    a.os_version = Some(os.version.into());
    a.eos_date = os.eos;
    a.cpe = os.cpe.map(|c| vec![c.to_string()]).unwrap_or_default();
}

fn sw(list: &[&str]) -> Vec<Software> {
    list.iter().map(|s| Software::parse(s)).collect()
}

/// name, OS, OS version, model, EOS, CPE, software, purpose.
type ServerRow = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    Option<NaiveDate>,
    Option<&'static str>,
    &'static [&'static str],
    &'static str,
);

/// The demo hospital's devices.
pub fn demo_assets() -> Vec<Asset> {
    let mut b = Builder {
        assets: Vec::new(),
        counters: HashMap::new(),
        seq: Seq(2021),
    };
    let it = "医療情報部";
    let server_room = "本館B1 サーバ室";

    // Servers.
    let servers: &[ServerRow] = &[
        (
            "電子カルテサーバ (AP)",
            "Windows Server 2019 Standard",
            "1809 (10.0.17763.5576)",
            "PRIMERGY RX2540 M5",
            d(2029, 1, 9),
            Some("cpe:2.3:o:microsoft:windows_server_2019:-:*:*:*:*:*:*:*"),
            &[
                "電子カルテ HOPE LifeMark-HX 2.3",
                "Microsoft .NET Framework 4.8",
            ],
            "電子カルテ",
        ),
        (
            "電子カルテサーバ (DB)",
            "Windows Server 2019 Standard",
            "1809 (10.0.17763.5576)",
            "PRIMERGY RX2540 M5",
            d(2029, 1, 9),
            Some("cpe:2.3:o:microsoft:windows_server_2019:-:*:*:*:*:*:*:*"),
            &["Microsoft SQL Server 2017 14.0.3456.2"],
            "電子カルテ",
        ),
        (
            "PACSサーバ",
            "Windows Server 2016 Standard",
            "1607 (10.0.14393.6796)",
            "ProLiant DL380 Gen10",
            d(2027, 1, 12),
            Some("cpe:2.3:o:microsoft:windows_server_2016:-:*:*:*:*:*:*:*"),
            &["PACS サーバソフト 6.1"],
            "PACS",
        ),
        (
            "RISサーバ",
            "Windows Server 2016 Standard",
            "1607 (10.0.14393.6796)",
            "ProLiant DL360 Gen10",
            d(2027, 1, 12),
            None,
            &["Microsoft SQL Server 2016 13.0.6435.1"],
            "RIS",
        ),
        (
            "臨床検査システムサーバ",
            "Windows Server 2012 R2 Standard",
            "6.3.9600",
            "PRIMERGY RX2530 M4",
            d(2023, 10, 10),
            Some("cpe:2.3:o:microsoft:windows_server_2012:r2:*:*:*:*:*:*:*"),
            &[
                "検査システム CLINILAN 5.0",
                "Microsoft SQL Server 2012 11.0.7001.0",
            ],
            "検査システム",
        ),
        (
            "ファイルサーバ",
            "Windows Server 2012 R2 Standard",
            "6.3.9600",
            "PRIMERGY TX1330 M3",
            d(2023, 10, 10),
            Some("cpe:2.3:o:microsoft:windows_server_2012:r2:*:*:*:*:*:*:*"),
            &[],
            "ファイル共有",
        ),
        (
            "医事会計サーバ",
            "Windows Server 2022 Standard",
            "21H2 (10.0.20348.2340)",
            "PRIMERGY RX2540 M7",
            d(2031, 10, 14),
            None,
            &["医事会計システム 8.2"],
            "医事会計",
        ),
        (
            "ADサーバ1",
            "Windows Server 2022 Standard",
            "21H2 (10.0.20348.2340)",
            "PRIMERGY RX1330 M5",
            d(2031, 10, 14),
            None,
            &[],
            "認証",
        ),
        (
            "ADサーバ2",
            "Windows Server 2022 Standard",
            "21H2 (10.0.20348.2340)",
            "PRIMERGY RX1330 M5",
            d(2031, 10, 14),
            None,
            &[],
            "認証",
        ),
        (
            "部門システム連携サーバ",
            "Red Hat Enterprise Linux",
            "7.9",
            "PRIMERGY RX2530 M5",
            d(2024, 6, 30),
            Some("cpe:2.3:o:redhat:enterprise_linux:7.9:*:*:*:*:*:*:*"),
            &["OpenSSH 7.4p1", "Apache Tomcat 8.5.57", "OpenJDK 1.8.0_262"],
            "HL7連携",
        ),
        (
            "院内Webサーバ",
            "Ubuntu",
            "20.04.6 LTS",
            "ProLiant DL20 Gen10",
            d(2025, 5, 31),
            Some("cpe:2.3:a:nginx:nginx:1.18.0:*:*:*:*:*:*:*"),
            &["nginx 1.18.0", "OpenSSH 8.2p1", "PHP 7.4.3"],
            "院内ポータル",
        ),
        (
            "DICOMビューアサーバ",
            "Debian GNU/Linux",
            "12.5",
            "PowerEdge R250",
            d(2028, 6, 30),
            None,
            &["Orthanc 1.12.1", "OpenSSH 9.2p1"],
            "画像参照",
        ),
        (
            "バックアップサーバ",
            "Windows Server 2019 Standard",
            "1809 (10.0.17763.5576)",
            "PRIMERGY RX2540 M5",
            d(2029, 1, 9),
            None,
            &["Arcserve Backup 19.0"],
            "バックアップ",
        ),
        (
            "ウイルス対策管理サーバ",
            "Windows Server 2019 Standard",
            "1809 (10.0.17763.5576)",
            "PRIMERGY TX1320 M4",
            d(2029, 1, 9),
            None,
            &["Trend Micro Apex One 14.0"],
            "ウイルス対策",
        ),
        (
            "給食管理サーバ (委託業者)",
            "Windows Server 2012 R2 Standard",
            "6.3.9600",
            "Express5800/T110j",
            d(2023, 10, 10),
            Some("cpe:2.3:o:microsoft:windows_server_2012:r2:*:*:*:*:*:*:*"),
            &["給食管理システム 3.1"],
            "給食管理",
        ),
    ];
    for (name, os, ver, model, eos, cpe, software, purpose) in servers {
        let maker = if model.starts_with("PRIMERGY") {
            "富士通"
        } else if model.starts_with("ProLiant") {
            "HPE"
        } else if model.starts_with("Express") {
            "NEC"
        } else {
            "Dell"
        };
        let department = if name.contains("給食") {
            "栄養管理科"
        } else {
            it
        };
        b.add(
            "SV",
            AssetKind::Server,
            name,
            department,
            server_room,
            1,
            |a| {
                a.purpose = Some(purpose.to_string());
                a.manufacturer = Some(maker.into());
                a.model = Some(model.to_string());
                a.os = Some(os.to_string());
                a.os_version = Some(ver.to_string());
                a.eos_date = *eos;
                a.cpe = cpe.map(|c| vec![c.to_string()]).unwrap_or_default();
                a.software = sw(software);
                a.schedule = Some("24時間".into());
                a.criticality = Some(Criticality::High);
                a.patient_data = Some(!matches!(
                    *purpose,
                    "認証" | "ウイルス対策" | "院内ポータル"
                ));
                a.vendor = Some(
                    if name.contains("給食") {
                        "株式会社ミール給食サービス"
                    } else {
                        "みどりメディカルシステムズ株式会社"
                    }
                    .into(),
                );
                a.vendor_contact = Some("保守窓口 0120-000-000".into());
                a.hostname = vec![format!(
                    "MDR-SV{:02}",
                    a.asset_id[3..].parse::<u32>().unwrap_or(0)
                )];
                a.mds_sds = Some(DocStatus::Received);
                a.sbom = Some(if name.contains("電子カルテ") {
                    DocStatus::Received
                } else {
                    DocStatus::NotReceived
                });
                if name.contains("給食") {
                    a.remote_maintenance = Some(true);
                    a.external_access = Some(true);
                    a.default_password_changed = Some(DefaultPassword::Unknown);
                }
            },
        );
    }

    // Network devices, including the vendors' VPN boxes.
    b.add(
        "NW",
        AssetKind::Network,
        "リモート保守用VPN装置",
        it,
        server_room,
        0,
        |a| {
            a.purpose = Some("電子カルテ事業者のリモートメンテナンス".into());
            a.manufacturer = Some("Fortinet".into());
            a.model = Some("FortiGate 60E".into());
            a.os = Some("FortiOS".into());
            a.os_version = Some("6.0.4".into());
            a.eos_date = d(2022, 9, 29);
            a.cpe = vec!["cpe:2.3:o:fortinet:fortios:6.0.4:*:*:*:*:*:*:*".into()];
            a.remote_maintenance = Some(true);
            a.external_access = Some(true);
            a.schedule = Some("保守VPN".into());
            a.criticality = Some(Criticality::High);
            a.vendor = Some("みどりメディカルシステムズ株式会社".into());
            a.default_password_changed = Some(DefaultPassword::Unknown);
            a.boot_password = Some(BootPassword::NotSet);
            a.notes = Some("事業者管理。ファームウェア更新の可否を事業者に確認中".into());
        },
    );
    b.add(
        "NW",
        AssetKind::Network,
        "給食委託業者VPN装置",
        "栄養管理科",
        "本館1F 栄養管理室",
        0,
        |a| {
            a.purpose = Some("給食委託業者の拠点間VPN".into());
            a.manufacturer = Some("SonicWall".into());
            a.model = Some("TZ370".into());
            a.os = Some("SonicOS".into());
            a.os_version = Some("7.0.1-5035".into());
            a.remote_maintenance = Some(true);
            a.external_access = Some(true);
            a.vendor = Some("株式会社ミール給食サービス".into());
            a.criticality = Some(Criticality::High);
            a.default_password_changed = Some(DefaultPassword::NotChanged);
            a.schedule = Some("24時間".into());
        },
    );
    b.add(
        "NW",
        AssetKind::Network,
        "PACS保守用SSL-VPN",
        "放射線科",
        server_room,
        0,
        |a| {
            a.manufacturer = Some("Ivanti".into());
            a.model = Some("Pulse Connect Secure PSA300".into());
            a.os = Some("Pulse Connect Secure".into());
            a.os_version = Some("9.1R8".into());
            a.cpe = vec!["cpe:2.3:a:pulsesecure:pulse_connect_secure:9.1:r8:*:*:*:*:*:*".into()];
            a.remote_maintenance = Some(true);
            a.external_access = Some(true);
            a.vendor = Some("画像診断システムズ株式会社".into());
            a.criticality = Some(Criticality::High);
            a.schedule = Some("保守VPN".into());
        },
    );
    b.add(
        "NW",
        AssetKind::Network,
        "インターネット境界UTM",
        it,
        server_room,
        0,
        |a| {
            a.manufacturer = Some("Fortinet".into());
            a.model = Some("FortiGate 100F".into());
            a.os = Some("FortiOS".into());
            a.os_version = Some("7.2.5".into());
            a.cpe = vec!["cpe:2.3:o:fortinet:fortios:7.2.5:*:*:*:*:*:*:*".into()];
            a.external_access = Some(true);
            a.criticality = Some(Criticality::High);
            a.schedule = Some("24時間".into());
        },
    );
    b.add(
        "NW",
        AssetKind::Network,
        "コアスイッチ",
        it,
        server_room,
        0,
        |a| {
            a.manufacturer = Some("Cisco".into());
            a.model = Some("Catalyst 9300-48P".into());
            a.os = Some("IOS XE".into());
            a.os_version = Some("17.3.4".into());
            a.cpe = vec!["cpe:2.3:o:cisco:ios_xe:17.3.4:*:*:*:*:*:*:*".into()];
            a.criticality = Some(Criticality::High);
            a.schedule = Some("24時間".into());
        },
    );
    for floor in ["1F", "2F", "3F東", "3F西", "4F東", "4F西", "5F", "別館1F"] {
        b.add(
            "NW",
            AssetKind::Network,
            &format!("フロアスイッチ {floor}"),
            it,
            &format!("本館{floor} EPS"),
            0,
            |a| {
                a.manufacturer = Some("Cisco".into());
                a.model = Some("Catalyst 2960-X".into());
                a.os = Some("IOS".into());
                a.os_version = Some("15.2(7)E4".into());
                a.eos_date = d(2027, 10, 31);
                a.schedule = Some("24時間".into());
            },
        );
    }
    b.add(
        "NW",
        AssetKind::Network,
        "ルータ (地域医療連携)",
        "地域連携室",
        server_room,
        0,
        |a| {
            a.manufacturer = Some("ヤマハ".into());
            a.model = Some("RTX1210".into());
            a.os = Some("RTX1210 ファームウェア".into());
            a.os_version = Some("Rev.14.01.38".into());
            a.external_access = Some(true);
            a.schedule = Some("24時間".into());
        },
    );
    for ward in [
        "3F東病棟",
        "3F西病棟",
        "4F東病棟",
        "4F西病棟",
        "外来",
        "救急外来",
    ] {
        b.add(
            "NW",
            AssetKind::Network,
            &format!("無線LANアクセスポイント {ward}"),
            it,
            ward,
            0,
            |a| {
                a.manufacturer = Some("HPE Aruba".into());
                a.model = Some("AP-515".into());
                a.os = Some("ArubaOS".into());
                a.os_version = Some("8.10.0.6".into());
                a.schedule = Some("24時間".into());
            },
        );
    }

    // Terminals: EHR terminals per department, reception, clerical.
    let departments: &[(&str, &str, usize, &str)] = &[
        ("内科", "外来棟1F 内科診察室", 8, "外来"),
        ("外科", "外来棟1F 外科診察室", 6, "外来"),
        ("整形外科", "外来棟2F 整形外科", 5, "外来"),
        ("小児科", "外来棟2F 小児科", 4, "外来"),
        ("看護部", "3F東病棟 ナースステーション", 8, "24時間"),
        ("看護部", "3F西病棟 ナースステーション", 8, "24時間"),
        ("看護部", "4F東病棟 ナースステーション", 7, "24時間"),
        ("看護部", "4F西病棟 ナースステーション", 7, "24時間"),
        ("救急科", "救急外来", 6, "24時間"),
        ("放射線科", "本館1F 読影室", 4, "外来"),
        ("臨床検査科", "本館2F 検査室", 4, "外来"),
        ("薬剤部", "本館1F 薬剤部", 4, "外来"),
        ("リハビリテーション科", "別館1F リハビリ室", 3, "外来"),
    ];
    for (i, (dept, place, n, schedule)) in departments.iter().enumerate() {
        for k in 0..*n {
            let os = if (i + k) % 3 == 0 {
                windows_10()
            } else if (i + k) % 3 == 1 {
                windows_11()
            } else {
                windows_11_24h2()
            };
            b.add(
                "PC",
                AssetKind::Terminal,
                &format!("電子カルテ端末 {dept}"),
                dept,
                place,
                2 + i as u8,
                |a| {
                    a.purpose = Some("電子カルテ参照・入力".into());
                    a.manufacturer = Some("富士通".into());
                    a.model = Some("ESPRIMO D7012/LX".into());
                    set_os(a, &os);
                    a.software = sw(&[
                        "Google Chrome 120.0.6099.110",
                        "Microsoft Edge 120.0.2210.77",
                        "Trend Micro Apex One 14.0",
                    ]);
                    a.schedule = Some(schedule.to_string());
                    a.patient_data = Some(true);
                    a.hostname = vec![format!("KARTE-{}", a.asset_id.replace('-', ""))];
                },
            );
        }
    }
    for k in 0..6 {
        b.add(
            "PC",
            AssetKind::Terminal,
            "受付端末",
            "医事課",
            "外来棟1F 総合受付",
            20,
            |a| {
                a.purpose = Some("外来受付・再来受付".into());
                a.manufacturer = Some("NEC".into());
                a.model = Some("Mate MKM34B-6".into());
                set_os(a, &if k < 4 { windows_10() } else { windows_11() });
                a.software = sw(&["医事会計クライアント 8.2", "Microsoft Office 2019"]);
                a.schedule = Some("外来".into());
                a.patient_data = Some(true);
            },
        );
    }
    for k in 0..10 {
        b.add(
            "PC",
            AssetKind::Terminal,
            "事務用PC",
            if k < 5 { "総務課" } else { "医事課" },
            "管理棟2F 事務室",
            21,
            |a| {
                a.manufacturer = Some("Dell".into());
                a.model = Some("OptiPlex 7010".into());
                set_os(a, &windows_11());
                a.software = sw(&[
                    "Microsoft 365 Apps 2311",
                    "Adobe Acrobat Reader DC 23.008.20470",
                    "7-Zip 19.00",
                ]);
                a.schedule = Some("外来".into());
            },
        );
    }
    for k in 0..12 {
        let ward = ["3F東病棟", "3F西病棟", "4F東病棟", "4F西病棟"][k % 4];
        b.add(
            "PC",
            AssetKind::Terminal,
            "看護カート用ノートPC",
            "看護部",
            ward,
            23,
            |a| {
                a.purpose = Some("ベッドサイドでの看護記録・バーコード認証".into());
                a.manufacturer = Some("パナソニック".into());
                a.model = Some("Let's note FV4".into());
                set_os(a, &windows_11_24h2());
                a.software = sw(&["電子カルテ クライアント 2.3", "Trend Micro Apex One 14.0"]);
                a.schedule = Some("24時間".into());
                a.patient_data = Some(true);
            },
        );
    }
    for _ in 0..8 {
        b.add(
            "PC",
            AssetKind::Terminal,
            "医事会計端末",
            "医事課",
            "外来棟1F 会計窓口",
            20,
            |a| {
                a.manufacturer = Some("NEC".into());
                a.model = Some("Mate MKM44B-8".into());
                set_os(a, &windows_11());
                a.software = sw(&["医事会計クライアント 8.2", "Microsoft Office 2021"]);
                a.schedule = Some("外来".into());
                a.patient_data = Some(true);
            },
        );
    }
    b.add(
        "PC",
        AssetKind::Terminal,
        "委託業者用PC (給食)",
        "栄養管理科",
        "本館1F 栄養管理室",
        21,
        |a| {
            a.manufacturer = Some("Lenovo".into());
            a.model = Some("ThinkCentre M70q".into());
            set_os(a, &windows_10());
            a.vendor = Some("株式会社ミール給食サービス".into());
            a.default_password_changed = Some(DefaultPassword::NotChanged);
            a.notes = Some("委託業者が管理。院内LANと給食管理サーバに接続".into());
        },
    );

    // Medical devices.
    let medical: &[(&str, &str, &str, &str, &str, &str, &str)] = &[
        (
            "CT装置",
            "キヤノンメディカルシステムズ",
            "Aquilion Prime SP",
            "放射線科",
            "本館1F CT室",
            "V10.8",
            "画像診断システムズ株式会社",
        ),
        (
            "MRI装置",
            "シーメンスヘルスケア",
            "MAGNETOM Altea",
            "放射線科",
            "本館1F MRI室",
            "syngo MR XA50",
            "画像診断システムズ株式会社",
        ),
        (
            "一般撮影装置 (FPD)",
            "富士フイルムメディカル",
            "CALNEO Smart",
            "放射線科",
            "本館1F 一般撮影室",
            "V4.0",
            "画像診断システムズ株式会社",
        ),
        (
            "超音波診断装置",
            "GEヘルスケア・ジャパン",
            "LOGIQ E10",
            "臨床検査科",
            "本館2F 生理検査室",
            "R3.1",
            "GEヘルスケア・ジャパン株式会社",
        ),
        (
            "上部消化管内視鏡システム",
            "オリンパス",
            "EVIS X1 CV-1500",
            "消化器内科",
            "本館2F 内視鏡室",
            "1.04",
            "オリンパスマーケティング株式会社",
        ),
        (
            "心電計",
            "フクダ電子",
            "FCP-8800",
            "臨床検査科",
            "本館2F 生理検査室",
            "01-07",
            "フクダ電子株式会社",
        ),
        (
            "透析用監視装置",
            "日機装",
            "DCS-200Si",
            "透析センター",
            "別館2F 透析室",
            "2.10",
            "日機装株式会社",
        ),
        (
            "セントラルモニタ 3F東",
            "日本光電",
            "CNS-6201",
            "看護部",
            "3F東病棟 ナースステーション",
            "03-12",
            "日本光電工業株式会社",
        ),
        (
            "セントラルモニタ 3F西",
            "日本光電",
            "CNS-6201",
            "看護部",
            "3F西病棟 ナースステーション",
            "03-12",
            "日本光電工業株式会社",
        ),
        (
            "セントラルモニタ ICU",
            "日本光電",
            "CNS-6801",
            "集中治療部",
            "本館3F ICU",
            "05-02",
            "日本光電工業株式会社",
        ),
    ];
    for (name, maker, model, dept, place, fw, vendor) in medical {
        b.add("ME", AssetKind::MedicalDevice, name, dept, place, 30, |a| {
            a.manufacturer = Some(maker.to_string());
            a.model = Some(model.to_string());
            a.os = Some("組込みファームウェア".into());
            a.os_version = Some(fw.to_string());
            a.vendor = Some(vendor.to_string());
            a.criticality = Some(Criticality::High);
            a.patient_data = Some(true);
            a.remote_maintenance = Some(name.contains("CT") || name.contains("MRI"));
            a.schedule = Some(
                if dept.contains("看護") || dept.contains("集中") {
                    "24時間"
                } else {
                    "外来"
                }
                .into(),
            );
            a.mds_sds = Some(if name.contains("セントラル") {
                DocStatus::Received
            } else {
                DocStatus::NotReceived
            });
            a.sbom = Some(DocStatus::NotReceived);
            a.boot_password = Some(BootPassword::Unknown);
            a.default_password_changed = Some(DefaultPassword::Unknown);
        });
    }
    for k in 0..12 {
        let ward = ["3F東病棟", "3F西病棟", "4F東病棟", "4F西病棟"][k % 4];
        b.add(
            "ME",
            AssetKind::MedicalDevice,
            "ベッドサイドモニタ",
            "看護部",
            ward,
            31,
            |a| {
                a.manufacturer = Some("日本光電".into());
                a.model = Some("BSM-3562".into());
                a.os = Some("組込みファームウェア".into());
                a.os_version = Some("04-21".into());
                a.vendor = Some("日本光電工業株式会社".into());
                a.criticality = Some(Criticality::High);
                a.patient_data = Some(true);
                a.schedule = Some("24時間".into());
                a.boot_password = Some(BootPassword::NotSet);
            },
        );
    }

    // Systems attached to examination equipment.
    b.add(
        "EX",
        AssetKind::ExamEquipment,
        "生化学自動分析装置 付属PC",
        "臨床検査科",
        "本館2F 検体検査室",
        40,
        |a| {
            a.purpose = Some("自動分析装置の操作・検査結果送信".into());
            a.manufacturer = Some("日立ハイテク".into());
            a.model = Some("LABOSPECT 006 操作部".into());
            a.os = Some("Windows 7 Professional".into());
            a.os_version = Some("SP1 (6.1.7601)".into());
            a.eos_date = d(2020, 1, 14);
            a.cpe = vec!["cpe:2.3:o:microsoft:windows_7:-:sp1:*:*:*:*:*:*".into()];
            a.vendor = Some("日立ハイテク株式会社".into());
            a.criticality = Some(Criticality::High);
            a.patient_data = Some(true);
            a.schedule = Some("外来".into());
            a.boot_password = Some(BootPassword::NotSet);
            a.default_password_changed = Some(DefaultPassword::NotChanged);
            a.notes = Some("メーカーがOS更新不可と回答 (2024年)。ネットワーク分離を検討".into());
        },
    );
    let exam: &[(&str, &str, &str, &str, &str, &str)] = &[
        (
            "CT操作コンソール",
            "キヤノンメディカルシステムズ",
            "Aquilion Console",
            "放射線科",
            "本館1F CT操作室",
            "Windows 10 IoT Enterprise LTSC 2019",
        ),
        (
            "超音波画像ワークステーション",
            "GEヘルスケア・ジャパン",
            "ViewPoint 6",
            "臨床検査科",
            "本館2F 生理検査室",
            "Windows 10 IoT Enterprise LTSC 2021",
        ),
        (
            "内視鏡画像ファイリングPC",
            "オリンパス",
            "EndoBase Ⅲ",
            "消化器内科",
            "本館2F 内視鏡室",
            "Windows 10 Enterprise LTSC 2019",
        ),
        (
            "心電図管理システムPC",
            "フクダ電子",
            "EFS-8800",
            "臨床検査科",
            "本館2F 生理検査室",
            "Windows 10 Pro 21H2",
        ),
        (
            "血液ガス分析装置 付属PC",
            "ラジオメーター",
            "ABL90 FLEX PLUS",
            "臨床検査科",
            "救急外来",
            "Windows 10 IoT Enterprise LTSC 2016",
        ),
        (
            "眼科検査装置 付属PC",
            "トプコン",
            "IMAGEnet 6",
            "眼科",
            "外来棟2F 眼科",
            "Windows 10 Pro 22H2",
        ),
    ];
    for (name, maker, model, dept, place, os) in exam {
        b.add("EX", AssetKind::ExamEquipment, name, dept, place, 40, |a| {
            a.manufacturer = Some(maker.to_string());
            a.model = Some(model.to_string());
            a.os = Some(os.to_string());
            a.vendor = Some(format!("{maker}株式会社"));
            a.patient_data = Some(true);
            a.schedule = Some("外来".into());
            a.mds_sds = Some(DocStatus::NotReceived);
        });
    }

    // IoT and building equipment.
    for (k, place) in [
        "外来棟1F 総合受付",
        "医事課",
        "3F東病棟",
        "4F西病棟",
        "管理棟2F 事務室",
        "放射線科",
    ]
    .iter()
    .enumerate()
    {
        b.add(
            "IO",
            AssetKind::Iot,
            "複合機",
            if k == 4 { "総務課" } else { "医事課" },
            place,
            50,
            |a| {
                a.manufacturer = Some("リコー".into());
                a.model = Some("IM C3000".into());
                a.os = Some("RICOH ファームウェア".into());
                a.os_version = Some("1.08".into());
                a.schedule = Some("外来".into());
                a.default_password_changed = Some(if k == 2 {
                    DefaultPassword::NotChanged
                } else {
                    DefaultPassword::Changed
                });
            },
        );
    }
    for k in 0..4 {
        b.add(
            "IO",
            AssetKind::Iot,
            "ネットワークカメラ",
            "総務課",
            ["正面玄関", "救急入口", "薬剤部", "駐車場"][k],
            51,
            |a| {
                a.manufacturer = Some("i-PRO".into());
                a.model = Some("WV-S1136".into());
                a.os_version = Some("2.60".into());
                a.schedule = Some("24時間".into());
            },
        );
    }
    for place in ["薬剤部", "臨床検査科", "3F東病棟", "4F西病棟"] {
        b.add(
            "IO",
            AssetKind::Iot,
            "ラベルプリンタ",
            place,
            place,
            50,
            |a| {
                a.manufacturer = Some("サトー".into());
                a.model = Some("CL4NX Plus".into());
                a.os_version = Some("F-7.2.1".into());
                a.schedule = Some("24時間".into());
            },
        );
    }
    b.add(
        "IO",
        AssetKind::Iot,
        "UPS ネットワーク管理カード",
        it,
        server_room,
        51,
        |a| {
            a.manufacturer = Some("APC (Schneider Electric)".into());
            a.model = Some("AP9630 (NMC2)".into());
            a.os = Some("AOS".into());
            a.os_version = Some("6.9.6".into());
            a.schedule = Some("24時間".into());
            a.default_password_changed = Some(DefaultPassword::NotChanged);
        },
    );
    b.add(
        "IO",
        AssetKind::Iot,
        "空調中央監視装置",
        "施設課",
        "管理棟B1 中央監視室",
        51,
        |a| {
            a.manufacturer = Some("アズビル".into());
            a.model = Some("savic-net G5".into());
            a.os = Some("Windows 10 IoT Enterprise LTSC 2019".into());
            a.vendor = Some("アズビル株式会社".into());
            a.remote_maintenance = Some(true);
            a.schedule = Some("24時間".into());
        },
    );
    b.add(
        "IO",
        AssetKind::Iot,
        "入退室管理コントローラ",
        "総務課",
        server_room,
        51,
        |a| {
            a.manufacturer = Some("パナソニック".into());
            a.model = Some("eX-SG".into());
            a.schedule = Some("24時間".into());
        },
    );

    // Portable media and others.
    for k in 0..5 {
        b.add(
            "MD",
            AssetKind::PortableMedia,
            "USBメモリ (貸出用・暗号化)",
            it,
            "医療情報部 保管庫",
            0,
            |a| {
                a.manufacturer = Some("I-O DATA".into());
                a.model = Some("ED-E4/32GR".into());
                a.status = if k == 4 {
                    AssetStatus::Spare
                } else {
                    AssetStatus::InUse
                };
                a.boot_password = None;
                a.default_password_changed = None;
                a.patient_data = Some(true);
            },
        );
    }
    b.add(
        "OT",
        AssetKind::Other,
        "NAS (画像バックアップ)",
        "放射線科",
        server_room,
        1,
        |a| {
            a.manufacturer = Some("Synology".into());
            a.model = Some("DS920+".into());
            a.os = Some("DSM".into());
            a.os_version = Some("7.1.1-42962".into());
            a.patient_data = Some(true);
            a.schedule = Some("24時間".into());
        },
    );
    // Devices in other states, for the stock-take and unused-device checks.
    b.add(
        "PC",
        AssetKind::Terminal,
        "旧電子カルテ端末 (予備)",
        it,
        "医療情報部 保管庫",
        22,
        |a| {
            a.status = AssetStatus::Spare;
            set_os(a, &windows_10());
        },
    );
    b.add(
        "PC",
        AssetKind::Terminal,
        "旧受付端末",
        "医事課",
        "医療情報部 保管庫",
        22,
        |a| {
            a.status = AssetStatus::Retiring;
            a.os = Some("Windows 8.1 Pro".into());
            a.os_version = Some("6.3.9600".into());
            a.eos_date = d(2023, 1, 10);
        },
    );
    b.add(
        "SV",
        AssetKind::Server,
        "旧オーダリングサーバ",
        it,
        server_room,
        1,
        |a| {
            a.status = AssetStatus::Stopped;
            a.os = Some("Windows Server 2008 R2".into());
            a.os_version = Some("6.1.7601".into());
            a.eos_date = d(2020, 1, 14);
            a.notes = Some("停止済だがネットワークに接続されたまま。撤去予定".into());
        },
    );
    b.assets
}

/// Creates the demo hospital in `dir`. A directory made by an earlier `demo` is
/// replaced; any other non-empty directory is refused.
pub fn create_demo(dir: &Path, actor: &str) -> Result<DemoOutcome> {
    let mut replaced = false;
    if dir.exists() {
        let is_empty = std::fs::read_dir(dir).map_err(io(dir))?.next().is_none();
        if !is_empty {
            if !is_demo_dir(dir, actor) {
                return Err(AppError::NotDemoDir(dir.to_path_buf()));
            }
            std::fs::remove_dir_all(dir).map_err(io(dir))?;
            replaced = true;
        }
    }
    let init = init(dir, None, actor)?;
    let mut app = App::open(dir, actor)?;
    let assets = demo_assets();
    let records: Vec<Record> = assets
        .iter()
        .enumerate()
        .map(|(i, a)| Record {
            row: i + 2,
            asset: a.clone(),
        })
        .collect();
    {
        let mut tx = app.store.begin()?;
        tx.set_setting(DEMO_MARKER, HOSPITAL)?;
        apply_records(
            tx.as_mut(),
            actor,
            "demo",
            &records,
            None,
            &HashMap::new(),
            &|_: Progress| {},
        )?;
        audit(
            tx.as_mut(),
            actor,
            "demo.create",
            None,
            json!({ "hospital": HOSPITAL, "devices": assets.len() }),
        )?;
        tx.commit()?;
    }
    // The demo vulnerability set (demo/README.md), imported like any feed, then matched.
    let feeds = dir.join("demo-feeds");
    std::fs::create_dir_all(&feeds).map_err(crate::io(&feeds))?;
    let mut paths = Vec::new();
    for (name, text) in [
        ("demo-nvd.json", include_str!("../demo/demo-nvd.json")),
        ("demo-kev.json", include_str!("../demo/demo-kev.json")),
    ] {
        let p = feeds.join(name);
        std::fs::write(&p, text).map_err(crate::io(&p))?;
        paths.push(p);
    }
    app.import_feeds(&paths, &|_| {})?;
    let matched = app.run_match(crate::matching::MatchMode::Full)?;
    let today = chrono::Local::now().date_naive();
    let mut counts: Vec<(AssetKind, usize)> = Vec::new();
    for a in &assets {
        match counts.iter_mut().find(|(k, _)| *k == a.kind) {
            Some((_, n)) => *n += 1,
            None => counts.push((a.kind, 1)),
        }
    }
    counts.sort();
    let past_eos = app
        .read(mamori_core::access::Permission::View)?
        .assets(&AssetFilter::default())?
        .into_iter()
        .filter(|s| s.asset.status != AssetStatus::Retired && s.asset.is_past_eos(today))
        .map(|s| s.asset.asset_id)
        .collect();
    Ok(DemoOutcome {
        data_dir: dir.to_path_buf(),
        replaced,
        init,
        counts,
        past_eos,
        matched,
    })
}

fn is_demo_dir(dir: &Path, actor: &str) -> bool {
    if !dir.join(DB_FILE).is_file() {
        return false;
    }
    App::open(dir, actor)
        .and_then(|mut app| {
            Ok(app
                .read(mamori_core::access::Permission::View)?
                .setting(DEMO_MARKER)?)
        })
        .map(|v| v.is_some())
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_has_about_200_unique_devices_of_every_kind_on_loopback_only() {
        let assets = demo_assets();
        assert!((180..=230).contains(&assets.len()), "{}", assets.len());
        let ids: std::collections::HashSet<_> = assets.iter().map(|a| &a.asset_id).collect();
        assert_eq!(ids.len(), assets.len(), "asset ids are unique");
        for kind in [
            AssetKind::Server,
            AssetKind::Terminal,
            AssetKind::Network,
            AssetKind::MedicalDevice,
            AssetKind::Iot,
            AssetKind::ExamEquipment,
            AssetKind::PortableMedia,
            AssetKind::Other,
        ] {
            assert!(assets.iter().any(|a| a.kind == kind), "{kind:?}");
        }
        assert!(assets.iter().flat_map(|a| &a.ip).all(|ip| ip.is_loopback()));
        let vpn = assets
            .iter()
            .find(|a| a.os_version.as_deref() == Some("6.0.4"))
            .expect("FortiOS 6.0.4 VPN");
        assert_eq!(vpn.remote_maintenance, Some(true));
        assert!(assets
            .iter()
            .any(|a| a.os.as_deref() == Some("Windows 7 Professional")));
        assert!(assets
            .iter()
            .any(|a| a.os.as_deref() == Some("Windows Server 2012 R2 Standard")));
    }
}
