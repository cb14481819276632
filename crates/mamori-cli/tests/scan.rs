//! The network audit end to end, through the `mamori` binary, against real servers from
//! Debian packages on loopback addresses (and one network namespace this test creates):
//! see `testnet/mod.rs`. Nothing is sent to any other address, port 2024 is never probed,
//! and only the ports listed here are.
//!
//! The ledger omits the FTP server, marks the SSH server retired, allows only HTTPS on the
//! web server and flags one address スキャン除外.

mod support;
mod testnet;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use support::Env;
use testnet::{TestNet, DB, FTP, PACS, SNMP, SSH, VNC, WEB};

/// The ports the tests probe: the servers' own, and 23 (closed everywhere).
const PORTS: &str = "21,22,23,80,443,445,3306,4242,5432,5900,6379,8042,11112,U:161";
/// An address with nothing on it, in scope, and one flagged スキャン除外.
const EMPTY: &str = "127.42.0.14";
const FRAGILE: &str = "127.42.0.15";

fn harness() -> Option<TestNet> {
    let missing = testnet::missing_programs();
    if !support::require(
        &format!(
            "the loopback test network ({})",
            missing.as_deref().unwrap_or("")
        ),
        missing.is_none(),
    ) {
        return None;
    }
    Some(TestNet::start())
}

fn ledger(env: &Env) {
    let csv = env.path("ledger.csv");
    std::fs::write(
        &csv,
        format!(
            "管理番号,機器名,機器種別,IPアドレス,状態,外部接続,スキャン除外\n\
             WEB-01,電子カルテWeb,サーバ,{WEB},稼働中,無,\n\
             SSH-OLD,旧保守サーバ,サーバ,{SSH},廃棄済,無,\n\
             UPS-3F,UPS 3F,IoT機器,{SNMP},稼働中,無,\n\
             DB-01,DBサーバ,サーバ,{DB},稼働中,無,\n\
             PACS-01,PACS,サーバ,{PACS},稼働中,無,\n\
             CT-PC,CT操作端末,検査機器付属,{VNC},稼働中,無,\n\
             PUMP-01,輸液ポンプ,医療機器,{FRAGILE},稼働中,無,有\n"
        ),
    )
    .unwrap();
    let r = env.run(&["ledger", "import", csv.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

fn scope() -> String {
    format!("{WEB}-17,{DB},{PACS}")
}

/// `scan run` of the test network, as JSON.
fn scan_run(env: &Env) -> support::Run {
    let scope = scope();
    env.run(&[
        "--json",
        "scan",
        "run",
        "--scope",
        &scope,
        "--ports",
        PORTS,
        "--rate",
        "400",
        "--per-host",
        "4",
        "--timeout-ms",
        "1500",
    ])
}

type Seen = BTreeMap<(String, String), Value>;

/// Every open port of a `scan show --json`, by (address, port/transport).
fn open_ports(show: &Value) -> Seen {
    let mut out = BTreeMap::new();
    for h in show["hosts"].as_array().unwrap() {
        for p in h["result"]["ports"].as_array().unwrap() {
            if p["state"] == "open" {
                let key = format!("{}/{}", p["port"], p["transport"].as_str().unwrap());
                out.insert((h["addr"].as_str().unwrap().to_string(), key), p.clone());
            }
        }
    }
    out
}

fn product(seen: &Seen, addr: &str, port: &str) -> (String, String, String) {
    let p = seen
        .get(&(addr.to_string(), port.to_string()))
        .unwrap_or_else(|| panic!("{addr} {port} not found open: {:?}", seen.keys()));
    let s = |v: &Value| v.as_str().unwrap_or("").to_string();
    (s(&p["service"]), s(&p["product"]), s(&p["version"]))
}

fn fact(seen: &Seen, addr: &str, port: &str, key: &str) -> String {
    seen[&(addr.to_string(), port.to_string())]["facts"][key]
        .as_str()
        .unwrap_or("")
        .to_string()
}

#[test]
fn the_loopback_hospital_is_found_identified_and_reconciled() {
    let Some(_net) = harness() else { return };
    let env = Env::init();
    ledger(&env);
    let r = env.run(&["scan", "allow", "WEB-01", "443", "--note", "HTTPS only"]);
    assert_eq!(r.code, 0, "{}", r.stderr);

    let r = scan_run(&env);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let summary = r.json();
    assert_eq!(summary["status"], "complete");
    let id = summary["id"].as_i64().unwrap().to_string();
    // 127.42.0.10–17 less the fragile one, 127.0.0.1 and the PACS.
    assert_eq!(summary["hosts"], 9, "{summary}");

    let show = env.run(&["--json", "scan", "show", &id]).json();
    assert!(
        !show["hosts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["addr"] == FRAGILE),
        "the スキャン除外 device was probed"
    );
    let seen = open_ports(&show);
    let expected: BTreeSet<(String, String)> = [
        (WEB, "80/tcp"),
        (WEB, "443/tcp"),
        (SSH, "22/tcp"),
        (FTP, "21/tcp"),
        (SNMP, "161/udp"),
        (DB, "3306/tcp"),
        (DB, "5432/tcp"),
        (DB, "6379/tcp"),
        (PACS, "4242/tcp"),
        (PACS, "8042/tcp"),
        (PACS, "11112/tcp"),
        (PACS, "445/tcp"),
        (VNC, "5900/tcp"),
    ]
    .iter()
    .map(|(a, p)| (a.to_string(), p.to_string()))
    .collect();
    assert_eq!(
        seen.keys().cloned().collect::<BTreeSet<_>>(),
        expected,
        "open ports found"
    );

    // Products and versions, as each server states them.
    let (svc, prod, ver) = product(&seen, WEB, "80/tcp");
    assert_eq!((svc.as_str(), prod.as_str()), ("http", "nginx"));
    assert!(ver.starts_with("1."), "{ver}");
    assert_eq!(
        fact(&seen, WEB, "80/tcp", "http.title"),
        "電子カルテ ポータル"
    );
    let (svc, prod, _) = product(&seen, WEB, "443/tcp");
    assert_eq!((svc.as_str(), prod.as_str()), ("https", "nginx"));
    assert!(fact(&seen, WEB, "443/tcp", "tls.subject").contains("CN=vpn.mamori.test"));
    assert_eq!(fact(&seen, WEB, "443/tcp", "tls.self_signed"), "true");
    assert!(fact(&seen, WEB, "443/tcp", "tls.not_after").starts_with("20"));
    let (svc, prod, ver) = product(&seen, SSH, "22/tcp");
    assert_eq!((svc.as_str(), prod.as_str()), ("ssh", "OpenSSH"));
    assert!(ver.starts_with('9') || ver.starts_with('8'), "{ver}");
    assert!(seen[&(SSH.to_string(), "22/tcp".to_string())]["cpe"]
        .as_str()
        .unwrap()
        .starts_with("cpe:2.3:a:openbsd:openssh:"));
    assert_eq!(
        product(&seen, FTP, "21/tcp"),
        ("ftp".into(), "vsftpd".into(), "3.0.3".into())
    );
    assert_eq!(product(&seen, SNMP, "161/udp").0, "snmp");
    assert_eq!(
        fact(&seen, SNMP, "161/udp", "snmp.sys_descr"),
        "Mamori test UPS network card"
    );
    assert_eq!(fact(&seen, SNMP, "161/udp", "snmp.sys_name"), "ups-3f");
    let (svc, prod, ver) = product(&seen, DB, "3306/tcp");
    assert_eq!((svc.as_str(), prod.as_str()), ("mysql", "MariaDB"));
    assert!(ver.starts_with("10.") || ver.starts_with("11."), "{ver}");
    assert_eq!(product(&seen, DB, "5432/tcp").1, "PostgreSQL");
    let (svc, prod, ver) = product(&seen, DB, "6379/tcp");
    assert_eq!((svc.as_str(), prod.as_str()), ("redis", "Redis"));
    assert!(
        ver.chars().next().is_some_and(|c| c.is_ascii_digit()),
        "{ver}"
    );
    // Orthanc checks the called AE title; storescp accepts any.
    assert_eq!(product(&seen, PACS, "4242/tcp").0, "dicom");
    assert_eq!(fact(&seen, PACS, "4242/tcp", "dicom.any_ae"), "false");
    assert_eq!(
        fact(&seen, PACS, "4242/tcp", "dicom.reject_reason"),
        "called_ae_not_recognized"
    );
    assert_eq!(product(&seen, PACS, "8042/tcp").1, "Orthanc");
    assert_eq!(fact(&seen, PACS, "8042/tcp", "http.status"), "401");
    assert_eq!(
        product(&seen, PACS, "11112/tcp"),
        ("dicom".into(), "DCMTK".into(), "3.6.7".into())
    );
    assert_eq!(fact(&seen, PACS, "11112/tcp", "dicom.any_ae"), "true");
    assert_eq!(fact(&seen, PACS, "11112/tcp", "dicom.echo"), "0x0000");
    assert!(fact(&seen, PACS, "11112/tcp", "dicom.impl_uid").starts_with("1.2.276.0.7230010"));
    assert_eq!(
        fact(&seen, PACS, "11112/tcp", "dicom.impl_version"),
        "OFFIS_DCMTK_367"
    );
    // Samba still speaking SMBv1; Xvnc offering security type 1 (none).
    assert_eq!(product(&seen, PACS, "445/tcp").0, "smb");
    assert_eq!(fact(&seen, PACS, "445/tcp", "smb.smb1"), "true");
    assert_eq!(product(&seen, VNC, "5900/tcp").0, "vnc");
    assert_eq!(fact(&seen, VNC, "5900/tcp", "vnc.version"), "003.008");
    assert_eq!(fact(&seen, VNC, "5900/tcp", "vnc.security_types"), "1");

    // Reconciliation: exactly these 8.3 findings.
    let list = env
        .run(&["--json", "findings", "list", "--category", "8.3"])
        .json();
    let got: BTreeSet<(String, String, String)> = list["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["vuln"].as_str().unwrap().to_string(),
                f["asset_id"].as_str().unwrap_or("").to_string(),
                f["component_key"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want: BTreeSet<(String, String, String)> = [
        ("8.3:unregistered", "", format!("host:{FTP}")),
        ("8.3:legacy_service", "", format!("svc:{FTP}:21/tcp")),
        ("8.3:unused_active", "SSH-OLD", format!("host:{SSH}")),
        (
            "8.3:unexpected_service",
            "WEB-01",
            format!("svc:{WEB}:80/tcp"),
        ),
        (
            "8.3:dicom_any_ae",
            "PACS-01",
            format!("svc:{PACS}:11112/tcp"),
        ),
        (
            "8.3:legacy_service",
            "PACS-01",
            format!("svc:{PACS}:445/tcp"),
        ),
    ]
    .iter()
    .map(|(v, a, k)| (v.to_string(), a.to_string(), k.clone()))
    .collect();
    assert_eq!(got, want, "{list:#}");
    // The evidence names the guideline clause; the list shows the check in Japanese.
    let text = env.run(&["--lang", "ja", "findings", "list", "--category", "8.3"]);
    assert!(text.stdout.contains("未登録機器"), "{}", text.stdout);
    assert!(
        text.stdout.contains("廃棄済・予備機器の稼働"),
        "{}",
        text.stdout
    );

    // Identified services became components of the ledger devices (they feed matching).
    let dev = env.run(&["--json", "ledger", "show", "SSH-OLD"]).json();
    assert!(
        dev.to_string().contains("cpe:2.3:a:openbsd:openssh:"),
        "{dev:#}"
    );

    // A second scan after the web server's port 80 is allowed and the FTP server registered:
    // those findings resolve (the FTP server's as registered, its legacy-service finding
    // continuing under the new device), the others stay.
    let r = env.run(&["scan", "allow", "WEB-01", "80"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = env.run(&[
        "ledger",
        "add",
        "FTP-01",
        "--kind",
        "サーバ",
        "--name",
        "スキャン保存用FTP",
        "--set",
        &format!("IPアドレス={FTP}"),
    ]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let r = scan_run(&env);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let second = r.json();
    assert_eq!(
        second["resolved"].as_array().unwrap().len(),
        3,
        "{second:#}"
    );
    assert_eq!(second["opened"].as_array().unwrap().len(), 1, "{second:#}");
    let resolved = env
        .run(&[
            "--json",
            "findings",
            "list",
            "--category",
            "8.3",
            "--status",
            "resolved",
        ])
        .json();
    let reasons: BTreeSet<String> = resolved["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["reason_code"]["code"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        reasons,
        ["not_seen", "registered"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    );
    let open = env
        .run(&["--json", "findings", "list", "--category", "8.3"])
        .json();
    let still: BTreeSet<String> = open["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["vuln"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        still,
        [
            "8.3:legacy_service",
            "8.3:unused_active",
            "8.3:dicom_any_ae"
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    );
    // The diff between the scans shows no port change (the network did not change).
    let diff = env
        .run(&["--json", "scan", "diff", &id, &second["id"].to_string()])
        .json();
    assert_eq!(
        diff["ports_appeared"].as_array().unwrap().len(),
        0,
        "{diff}"
    );
    assert_eq!(
        diff["ports_disappeared"].as_array().unwrap().len(),
        0,
        "{diff}"
    );
    // Every step is in the audit log.
    let audit = env.run(&["--json", "audit", "tail", "--limit", "200"]);
    for action in ["scan.start", "scan.finish", "scan.allow"] {
        assert!(audit.stdout.contains(action), "{action} not audited");
    }
    // A scan of one closed port of the SSH host keeps the OpenSSH it found before: a partial
    // scan does not drop the services it did not look at.
    let r = env.run(&["scan", "run", "--scope", SSH, "--ports", "23"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let dev = env.run(&["--json", "ledger", "show", "SSH-OLD"]).json();
    assert!(
        dev.to_string().contains("cpe:2.3:a:openbsd:openssh:"),
        "{dev:#}"
    );
    // Nor does it resolve the retired host's finding: it did not look at port 22 again.
    let open = env
        .run(&[
            "--json",
            "findings",
            "list",
            "--category",
            "8.3",
            "--asset",
            "SSH-OLD",
        ])
        .json();
    assert_eq!(open["count"], 1, "{open:#}");

    // Seen from outside (a scan marked external), the web server's two services are
    // reachable from outside: urgent findings, which an internal scan never resolves.
    let r = env.run(&[
        "--json",
        "scan",
        "run",
        "--scope",
        WEB,
        "--ports",
        "80,443",
        "--vantage",
        "external",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let external = env
        .run(&["--json", "findings", "list", "--category", "8.3"])
        .json();
    let reachable: Vec<&Value> = external["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["vuln"] == "8.3:external")
        .collect();
    assert_eq!(reachable.len(), 2, "{external:#}");
    assert!(reachable
        .iter()
        .all(|f| f["level"] == "urgent" && f["asset_id"] == "WEB-01"));
    let r = scan_run(&env);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let after = env
        .run(&["--json", "findings", "list", "--category", "8.3"])
        .json();
    assert_eq!(
        after["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["vuln"] == "8.3:external")
            .count(),
        2
    );
    // Nothing but the scope was probed: 127.42.0.14 answered (loopback refuses) with no port.
    assert!(show["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .any(|h| h["addr"] == EMPTY && h["result"]["ports"].as_array().unwrap().is_empty()));
}

/// Starts `mamori scan run` slowly over closed loopback ports, signals it after a moment,
/// and returns the scans the store then lists.
fn interrupted(env: &Env, signal: &str) -> (i32, Value) {
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_mamori"))
        .args([
            "--data-dir",
            env.data().to_str().unwrap(),
            "--json",
            "scan",
            "run",
        ])
        .env("USER", "tester")
        // 127.42.2.0/24 runs nothing; port 23 is closed on every address.
        .args(["--scope", "127.42.2.0/24", "--ports", "23", "--rate", "20"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let status = std::process::Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let list = env.run(&["--json", "scan", "list"]);
    assert_eq!(list.code, 0, "{}", list.stderr);
    (out.status.code().unwrap_or(-1), list.json())
}

#[test]
fn an_interrupted_scan_is_recorded_as_incomplete_with_what_it_found() {
    let env = Env::init();
    let (code, list) = interrupted(&env, "-INT");
    assert_eq!(code, 1, "an interrupted scan exits 1");
    let scan = &list[0];
    assert_eq!(scan["status"], "incomplete", "{list:#}");
    assert_eq!(scan["stopped"], "interrupted");
    let hosts = scan["hosts"].as_i64().unwrap();
    assert!(hosts > 0 && hosts < 256, "{hosts} hosts kept");
}

#[test]
fn a_killed_scan_is_found_and_marked_incomplete() {
    let env = Env::init();
    let (_, list) = interrupted(&env, "-KILL");
    let scan = &list[0];
    assert_eq!(scan["status"], "incomplete", "{list:#}");
    assert_eq!(scan["stopped"], "killed");
    // Nothing else was lost: the store opens and the ledger is intact.
    assert_eq!(env.run(&["ledger", "list"]).code, 0);
}

#[test]
fn the_real_nmap_files_import_and_bad_files_change_nothing() {
    let Some(data) = support::shared_data() else {
        return;
    };
    let env = Env::init();
    let dir = data.join("nmap-xml/python-libnmap");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "xml"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 24);
    let mut hosts = 0;
    for f in &files {
        let r = env.run(&["--json", "scan", "import-nmap", f.to_str().unwrap()]);
        assert_eq!(r.code, 0, "{}: {}", f.display(), r.stderr);
        hosts += r.json()["hosts"].as_i64().unwrap();
    }
    let list = env.run(&["--json", "scan", "list"]).json();
    assert_eq!(list.as_array().unwrap().len(), 24);
    assert!(list
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["source"] == "nmap" && s["status"] == "complete"));
    assert!(hosts > 1000, "{hosts}");
    // A service nmap identified is shown with its product and version.
    let version = list
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["file"] == "1_hosts_banner.xml")
        .unwrap();
    let show = env
        .run(&["--json", "scan", "show", &version["id"].to_string()])
        .json();
    let text = show.to_string();
    assert!(text.contains("\"product\":\"OpenSSH\""), "{show}");
    assert!(
        text.contains("\"cpe\":\"cpe:2.3:a:openbsd:openssh:"),
        "{show}"
    );
    // Addresses in no ledger row running services are 未登録機器.
    let unregistered = env
        .run(&["--json", "findings", "list", "--category", "8.3"])
        .json();
    assert!(unregistered["count"].as_i64().unwrap() > 0);

    // Not nmap XML, and a truncated file: refused, named, nothing stored.
    let before = env.run(&["--json", "scan", "list"]).stdout;
    let html = env.path("page.xml");
    std::fs::write(&html, "<html><body>not a scan</body></html>").unwrap();
    let r = env.run(&["scan", "import-nmap", html.to_str().unwrap()]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("page.xml") && r.stderr.contains("nmap"),
        "{}",
        r.stderr
    );
    let cut = env.path("cut.xml");
    let whole = std::fs::read(&files[0]).unwrap();
    std::fs::write(&cut, &whole[..whole.len() / 2]).unwrap();
    let r = env.run(&["scan", "import-nmap", cut.to_str().unwrap()]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(env.run(&["--json", "scan", "list"]).stdout, before);
}

/// Services a scan identifies become components that matching checks: nmap's record of
/// OpenSSH 5.3 and MySQL 5.1.61 on a ledger device, against the real NVD 2018 records.
#[test]
fn identified_services_are_matched_against_vulnerability_records() {
    let Some(data) = support::shared_data() else {
        return;
    };
    let env = Env::init();
    let csv = env.path("ledger.csv");
    std::fs::write(
        &csv,
        "管理番号,機器名,機器種別,IPアドレス\nSRV-01,検査システムサーバ,サーバ,127.0.0.1\n",
    )
    .unwrap();
    assert_eq!(
        env.run(&["ledger", "import", csv.to_str().unwrap()]).code,
        0
    );
    let nvd = data.join("nvd/api-2.0-from-1.1/nvdcve-2.0-from-1.1-2018.json.gz");
    let r = env.run(&["feeds", "import", nvd.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let nmap = data.join("nmap-xml/python-libnmap/1_hosts_banner.xml");
    let r = env.run(&["--json", "scan", "import-nmap", nmap.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.json()["components"].as_i64().unwrap() >= 2);
    let dev = env.run(&["--json", "ledger", "show", "SRV-01"]).json();
    let comps = dev["components"].as_array().unwrap();
    assert!(comps.iter().any(
        |c| c["source"] == "scan" && c["cpe"] == "cpe:2.3:a:openbsd:openssh:5.3:*:*:*:*:*:*:*"
    ));
    // A recognised device gets no 未登録機器 finding.
    let checks = env
        .run(&["--json", "findings", "list", "--category", "8.3"])
        .json();
    assert!(
        !checks.to_string().contains("8.3:unregistered"),
        "{checks:#}"
    );
    let r = env.run(&["match"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let list = env
        .run(&[
            "--json",
            "findings",
            "list",
            "--asset",
            "SRV-01",
            "--category",
            "8.2",
        ])
        .json();
    let found: Vec<&Value> = list["findings"].as_array().unwrap().iter().collect();
    // CVE-2018-15473 (OpenSSH user enumeration, up to 7.7) on the scanned OpenSSH 5.3.
    let enumeration = found
        .iter()
        .find(|f| f["vuln"] == "CVE-2018-15473")
        .unwrap_or_else(|| panic!("{list:#}"));
    assert_eq!(enumeration["component_source"], "scan");
    assert!(enumeration["component"].as_str().unwrap().contains("5.3"));
}
