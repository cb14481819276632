//! Operating hours end to end on loopback: real TCP servers (listeners this test opens on
//! 127.43.0.x) stay up past their schedule; `mamori watch --once` runs as separate processes
//! with an injected clock (`MAMORI_NOW`), as a watch that restarts between rounds would.
//! Nothing but those addresses and port is probed.

mod support;

use std::collections::BTreeMap;
use std::net::TcpListener;

use serde_json::Value;
use support::Env;

const OPD_PC: &str = "127.43.0.10";
const OPD_PRN: &str = "127.43.0.11";
const OLD_PC: &str = "127.43.0.12";
const PORT: u16 = 8080;

fn listen(addr: &str) -> TcpListener {
    let l = TcpListener::bind((addr, PORT)).unwrap();
    l.set_nonblocking(true).unwrap();
    l
}

fn watch(env: &Env, at: &str) -> Value {
    let r = env.run_env(
        &["--json", "watch", "--once", "--interval", "1800"],
        &[("MAMORI_NOW", at)],
    );
    assert_eq!(r.code, 0, "{at}: {}", r.stderr);
    serde_json::from_str(r.stdout.trim()).unwrap()
}

/// (管理番号, check) → findings, of the watch's checks.
fn watch_findings(env: &Env) -> BTreeMap<(String, String), Vec<Value>> {
    let list = env
        .run(&[
            "--json",
            "findings",
            "list",
            "--category",
            "8.3",
            "--status",
            "all",
        ])
        .json();
    let mut out: BTreeMap<(String, String), Vec<Value>> = BTreeMap::new();
    for f in list["findings"].as_array().unwrap() {
        if f["component_source"] == "watch" {
            out.entry((
                f["asset_id"].as_str().unwrap().to_string(),
                f["vuln"].as_str().unwrap().to_string(),
            ))
            .or_default()
            .push(f.clone());
        }
    }
    out
}

#[test]
fn devices_up_past_their_schedule_give_one_finding_per_day() {
    let env = Env::init();
    let _servers: Vec<TcpListener> = [OPD_PC, OPD_PRN, OLD_PC]
        .iter()
        .map(|a| listen(a))
        .collect();
    let csv = env.path("ledger.csv");
    std::fs::write(
        &csv,
        format!(
            "管理番号,機器名,機器種別,部署,IPアドレス,稼働時間帯\n\
             OPD-PC,外来受付PC,端末PC,医事課,{OPD_PC},外来\n\
             OPD-PRN,外来プリンタ,IoT機器,医事課,{OPD_PRN},\n\
             OLD-PC,旧受付PC,端末PC,医事課,{OLD_PC},外来\n"
        ),
    )
    .unwrap();
    assert_eq!(
        env.run(&["ledger", "import", csv.to_str().unwrap()]).code,
        0
    );
    let r = env.run(&[
        "schedule",
        "set",
        "外来",
        "--weekly",
        "mon-fri 08:30-17:30",
        "--weekly",
        "sat 08:30-12:30",
        "--closed-nth",
        "2sat",
        "--closed-nth",
        "4sat",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // The printer follows its department's default.
    let r = env.run(&["schedule", "default", "--department", "医事課", "外来"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // A scan tells the watch which port answers on each device.
    let r = env.run(&[
        "scan",
        "run",
        "--scope",
        &format!("{OPD_PC}-12"),
        "--ports",
        &PORT.to_string(),
        "--no-identify",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // The old PC is retired after the scan; it still answers.
    assert_eq!(env.run(&["ledger", "retire", "OLD-PC"]).code, 0);

    // Thursday 2026-11-26: open until 17:30; up from 17:40 on, past the 30-minute grace at
    // 18:20; Friday morning before opening, again past the grace at 07:40.
    let first = watch(&env, "2026-11-26 17:00");
    assert_eq!(first["probed"], 3);
    assert_eq!(first["up"], 3);
    for at in [
        "2026-11-26 17:40",
        "2026-11-26 18:00",
        "2026-11-26 18:20",
        "2026-11-26 18:50",
        "2026-11-27 07:00",
        "2026-11-27 07:40",
        "2026-11-27 08:30",
        "2026-11-27 09:00",
    ] {
        watch(&env, at);
    }
    let found = watch_findings(&env);
    for device in ["OPD-PC", "OPD-PRN"] {
        let days = &found[&(device.to_string(), "8.3:out_of_hours".to_string())];
        let mut keys: Vec<&str> = days
            .iter()
            .map(|f| f["component_key"].as_str().unwrap())
            .collect();
        keys.sort();
        assert_eq!(keys, vec!["day:2026-11-26", "day:2026-11-27"], "{device}");
        assert!(days.iter().all(|f| f["level"] == "medium"));
    }
    // The retired device that answers: 未使用機器の稼働 (and no hours finding: it is not in use).
    let unused = &found[&("OLD-PC".to_string(), "8.3:unused_active".to_string())];
    assert_eq!(unused.len(), 1);
    assert!(!found.contains_key(&("OLD-PC".to_string(), "8.3:out_of_hours".to_string())));
    // Re-running a round at the same time adds nothing.
    let again = watch(&env, "2026-11-27 09:00");
    assert_eq!(again["opened"].as_array().unwrap().len(), 0);

    // The hours report: Thursday, scheduled 9 h; seen up 17:00–18:50 (1 h 50 min), of which
    // 17:30–18:50 (1 h 20 min) outside the schedule.
    let report = env
        .run(&[
            "--json",
            "hours",
            "report",
            "--from",
            "2026-11-26",
            "--to",
            "2026-11-27",
        ])
        .json();
    let row = report
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["asset_id"] == "OPD-PC" && r["date"] == "2026-11-26")
        .unwrap();
    assert_eq!(row["scheduled_minutes"], 540);
    assert_eq!(row["up_minutes"], 110);
    assert_eq!(row["outside_minutes"], 80);
    // Rolled up by department: the three 医事課 devices on Thursday.
    let depts = env
        .run(&[
            "--json",
            "hours",
            "report",
            "--from",
            "2026-11-26",
            "--by-department",
        ])
        .json();
    let thursday = &depts.as_array().unwrap()[0];
    assert_eq!(thursday["department"], "医事課");
    assert_eq!(thursday["devices"], 3);
    assert_eq!(thursday["scheduled_minutes"], 3 * 540);
    let csv = env.run(&[
        "--lang",
        "ja",
        "hours",
        "report",
        "--from",
        "2026-11-26",
        "--csv",
    ]);
    assert!(csv.stdout.starts_with("管理番号,機器名"), "{}", csv.stdout);

    // The nftables helper: weekly rules and the closed days in a cron file; never applied.
    let out = env.path("外来.nft");
    let r = env.run_env(
        &[
            "hours",
            "nftables",
            "外来",
            "--out",
            out.to_str().unwrap(),
            "--days",
            "40",
        ],
        &[("MAMORI_NOW", "2026-11-26 10:00")],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let nft = std::fs::read_to_string(&out).unwrap();
    assert!(
        nft.contains(&format!("elements = {{ {OPD_PC}, {OPD_PRN}, {OLD_PC} }}")),
        "{nft}"
    );
    assert!(nft.contains(
        "meta day { \"Monday\", \"Tuesday\", \"Wednesday\", \"Thursday\", \"Friday\" } meta hour \"08:30\"-\"17:30\" accept"
    ));
    // nftables itself accepts the rules (check mode: nothing is loaded).
    if support::require(
        "nft (Debian nftables)",
        std::path::Path::new("/usr/sbin/nft").exists(),
    ) {
        let check = std::process::Command::new("/usr/sbin/nft")
            .args(["-c", "-f", out.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(
            check.status.success(),
            "{}",
            String::from_utf8_lossy(&check.stderr)
        );
    }
    let cron = std::fs::read_to_string(out.with_extension("cron")).unwrap();
    // 12/12 is the 2nd Saturday, 12/29–1/3 the year end; 11/28 the 4th Saturday.
    for day in [
        "2026-11-28 第4土曜",
        "2026-12-12 第2土曜",
        "2026-12-29 年末年始",
        "2027-01-01 元日",
    ] {
        assert!(cron.contains(day), "{day}: {cron}");
    }
    // The watch's rounds are audited when they change findings.
    let audit = env.run(&["--json", "audit", "tail", "--limit", "100"]);
    assert!(audit.stdout.contains("watch.round"));
}

#[test]
fn holiday_files_import_or_are_refused_with_the_line() {
    let env = Env::init();
    let good = env.path("syukujitsu.csv");
    let text =
        "国民の祝日・休日月日,国民の祝日・休日名称\r\n2028/1/1,元日\r\n2028/1/10,成人の日\r\n";
    std::fs::write(&good, encoding_rs::SHIFT_JIS.encode(text).0).unwrap();
    let r = env.run(&[
        "--json",
        "calendar",
        "import-holidays",
        good.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let list = env
        .run(&["--json", "calendar", "holidays", "--year", "2028"])
        .json();
    assert_eq!(list.as_array().unwrap().len(), 2);
    let bad = env.path("bad.csv");
    std::fs::write(&bad, "h,h\n2028/1/1,元日\n2028/02/30,x\n").unwrap();
    let r = env.run(&["calendar", "import-holidays", bad.to_str().unwrap()]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("line 3") || r.stderr.contains("3 行目"),
        "{}",
        r.stderr
    );
    // Contradictory schedules are refused with the rules named.
    let r = env.run(&[
        "schedule",
        "set",
        "病棟",
        "--always",
        "--weekly",
        "mon-fri 08:30-17:30",
    ]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("always"), "{}", r.stderr);
    let r = env.run(&[
        "schedule",
        "set",
        "外来",
        "--weekly",
        "mon-fri 08:30-17:30",
        "--weekly",
        "fri 17:00-19:00",
    ]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("overlap"), "{}", r.stderr);
}

#[test]
fn a_maintenance_path_outside_its_window_and_a_device_long_unseen() {
    let env = Env::init();
    const VPN: &str = "127.43.1.10";
    const EHR: &str = "127.43.1.11";
    let vpn = listen(VPN);
    let ehr = listen(EHR);
    let csv = env.path("ledger.csv");
    std::fs::write(
        &csv,
        format!(
            "管理番号,機器名,機器種別,IPアドレス,リモートメンテナンス,稼働時間帯\n\
             VPN-01,保守用VPN装置,ネットワーク機器,{VPN},有,保守VPN\n\
             EHR-01,電子カルテサーバ,サーバ,{EHR},無,病棟24時間\n"
        ),
    )
    .unwrap();
    assert_eq!(
        env.run(&["ledger", "import", csv.to_str().unwrap()]).code,
        0
    );
    for args in [
        &[
            "schedule",
            "set",
            "保守VPN",
            "--window",
            "2026-12-05 20:00-22:00",
        ][..],
        &["schedule", "set", "病棟24時間", "--always"][..],
    ] {
        let r = env.run(args);
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
    let r = env.run(&[
        "scan",
        "run",
        "--scope",
        &format!("{VPN}-11"),
        "--ports",
        &PORT.to_string(),
        "--no-identify",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // Inside the approved window the VPN may be up; after it, it may not.
    for at in [
        "2026-12-05 20:30",
        "2026-12-05 21:30",
        "2026-12-05 22:10",
        "2026-12-05 22:50",
    ] {
        watch(&env, at);
    }
    let found = watch_findings(&env);
    let vpn_findings = &found[&(
        "VPN-01".to_string(),
        "8.3:maintenance_outside_window".to_string(),
    )];
    assert_eq!(vpn_findings.len(), 1);
    assert_eq!(vpn_findings[0]["level"], "urgent");
    assert!(
        !found.keys().any(|(a, _)| a == "EHR-01"),
        "a 24/365 server is never out of hours"
    );
    // The server goes away; 31 days later it is 長期間未検出; back, the finding resolves.
    drop(ehr);
    drop(vpn);
    watch(&env, "2026-12-06 09:00");
    watch(&env, "2027-01-06 09:00");
    let found = watch_findings(&env);
    let unseen = &found[&("EHR-01".to_string(), "8.3:long_unseen".to_string())];
    assert_eq!(unseen.len(), 1);
    assert_eq!(unseen[0]["status"], "open");
    let _back = listen(EHR);
    let r = watch(&env, "2027-01-06 09:10");
    assert_eq!(r["resolved"].as_array().unwrap().len(), 1);
    let found = watch_findings(&env);
    let unseen = &found[&("EHR-01".to_string(), "8.3:long_unseen".to_string())];
    assert_eq!(unseen[0]["status"], "resolved");
    assert_eq!(unseen[0]["reason_code"]["code"], "seen_again");
}
