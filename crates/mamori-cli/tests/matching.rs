//! `mamori match`, `findings`, `sbom import` and `ledger cpe` on the real data in
//! `../shared/data` (read in place; absent data is a skip locally, a failure in CI).

mod support;

use support::Env;

fn import(env: &Env, paths: &[std::path::PathBuf]) {
    let owned: Vec<String> = paths
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let mut args = vec!["--json", "feeds", "import"];
    args.extend(owned.iter().map(String::as_str));
    let r = env.run(&args);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

fn findings(env: &Env, args: &[&str]) -> Vec<serde_json::Value> {
    let mut all = vec!["--json", "findings", "list"];
    all.extend(args);
    let r = env.run(&all);
    assert_eq!(r.code, 0, "{}", r.stderr);
    r.json()["findings"].as_array().unwrap().clone()
}

fn vulns_of(list: &[serde_json::Value], asset: &str) -> Vec<String> {
    list.iter()
        .filter(|f| f["asset_id"] == asset)
        .map(|f| f["vuln"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn kev_findings_for_old_firmware_and_none_outside_the_ranges() {
    let Some(data) = support::shared_data() else {
        return;
    };
    let env = Env::init();
    import(
        &env,
        &[
            data.join("nvd/api-2.0-from-1.1/nvdcve-2.0-from-1.1-2018.json.gz"),
            data.join("nvd/api-2.0-from-1.1/nvdcve-2.0-from-1.1-2014.json.gz"),
            data.join("nvd/nvd-cve-api-2.0-merged.json.gz"),
            data.join("kev/known_exploited_vulnerabilities.json"),
        ],
    );
    let csv = env.path("ledger.csv");
    std::fs::write(
        &csv,
        "管理番号,機器名,機器種別,メーカー,OS・ファームウェア,バージョン,外部接続,重要度,CPE\n\
         NW-0018,リモート保守VPN,ネットワーク機器,フォーティネット,FortiOS,6.0.4,有,高,\n\
         NW-0019,新VPN,ネットワーク機器,Fortinet,FortiOS,6.4.12,有,高,cpe:2.3:o:fortinet:fortios:*:*:*:*:*:*:*:*\n\
         SV-0001,ファイルサーバ,サーバ,マイクロソフト,Windows Server 2012 R2,,無,中,cpe:2.3:o:microsoft:windows_server_2012:r2:*:*:*:*:*:*:*\n\
         NW-0020,リモートアクセス,ネットワーク機器,シトリックス,Citrix ADC,13.0,有,高,\n\
         NW-0021,コアスイッチ,ネットワーク機器,シスコ,Cisco IOS,15.2(4)M,無,高,\n",
    )
    .unwrap();
    let r = env.run(&["ledger", "import", csv.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);

    // A newcomer gets the CPE from the names the store knows.
    for (asset, expected) in [
        ("NW-0018", "cpe:2.3:o:fortinet:fortios:"),
        (
            "NW-0020",
            "cpe:2.3:o:citrix:application_delivery_controller_firmware:",
        ),
        ("NW-0021", "cpe:2.3:o:cisco:ios:"),
    ] {
        let r = env.run(&["--json", "ledger", "cpe", "suggest", asset]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let best = r.json()["suggestions"][0]["cpe"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(best.starts_with(expected), "{asset}: {best}");
        let r = env.run(&["ledger", "cpe", "set", asset, &best]);
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
    let bad = env.run(&["ledger", "cpe", "set", "NW-0021", "cisco ios"]);
    assert_eq!(bad.code, 1);
    assert!(bad.stderr.contains("CPE"), "{}", bad.stderr);

    let r = env.run(&["--json", "match"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let report = r.json();
    assert_eq!(report["mode"], "full");
    assert!(report["opened"].as_u64().unwrap() > 10, "{report}");

    let kev = findings(&env, &["--kev"]);
    let fortios = vulns_of(&kev, "NW-0018");
    for cve in ["CVE-2018-13379", "CVE-2018-13382", "CVE-2018-13383"] {
        assert!(fortios.contains(&cve.to_string()), "{fortios:?}");
    }
    // 6.4.12 is outside every 2018 FortiOS range.
    assert!(vulns_of(&findings(&env, &[]), "NW-0019")
        .iter()
        .all(|v| v != "CVE-2018-13379"));
    let server = vulns_of(&kev, "SV-0001");
    assert!(server.contains(&"CVE-2014-4114".to_string()), "{server:?}");
    // The urgent VPN comes first, with its reasons.
    let first = &kev[0];
    assert_eq!(first["asset_id"], "NW-0018");
    assert_eq!(first["level"], "urgent");
    assert_eq!(first["confidence"], "high");
    let factors: Vec<&str> = first["evidence"]["priority"]["factors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(
        factors.contains(&"kev") && factors.contains(&"exposed"),
        "{factors:?}"
    );

    // Roll-up per component: the FortiOS upgrade is one action with its KEV count.
    let r = env.run(&["--json", "findings", "list", "--group-by", "component"]);
    let groups = r.json()["groups"].as_array().unwrap().clone();
    let vpn = groups
        .iter()
        .find(|g| g["key"] == "NW-0018 fortios 6.0.4")
        .expect("FortiOS group");
    assert!(vpn["kev"].as_u64().unwrap() >= 3, "{vpn}");

    // Evidence names the criterion and the bounds.
    let id = first["id"].as_i64().unwrap().to_string();
    let r = env.run(&["--lang", "en", "findings", "show", &id]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("cpe:2.3:o:fortinet:fortios"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("<= 6.0.4"), "{}", r.stdout);

    // Updating the firmware resolves the findings on the next (incremental) match.
    let r = env.run(&["ledger", "edit", "NW-0018", "--set", "version=6.4.12"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = env.run(&["--json", "match"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["mode"], "incremental");
    assert!(vulns_of(&findings(&env, &["--kev"]), "NW-0018").is_empty());
    let resolved = findings(&env, &["--status", "resolved", "--asset", "NW-0018"]);
    assert!(resolved.iter().any(|f| f["vuln"] == "CVE-2018-13379"));
    // The reason is kept as a code and shown in the reader's language.
    assert!(
        resolved.iter().all(|f| f["reason_code"]
            == serde_json::json!({"code": "updated", "from": "6.0.4", "to": "6.4.12"})),
        "{resolved:?}"
    );
    let r = env.run(&[
        "--json", "--lang", "ja", "findings", "list", "--status", "resolved",
    ]);
    assert!(r.json()["findings"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("6.0.4 から 6.4.12 への更新により解消"));
    let r = env.run(&[
        "--json", "--lang", "en", "findings", "list", "--status", "resolved",
    ]);
    assert!(r.json()["findings"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("resolved by update from 6.0.4 to 6.4.12"));

    // CSV output for Excel.
    let r = env.run(&["findings", "list", "--csv", "--lang", "ja"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.starts_with("番号,緊急度"), "{}", &r.stdout[..40]);
    // Bad options are user errors.
    assert_eq!(
        env.run(&["findings", "list", "--min-priority", "extreme"])
            .code,
        1
    );
}

#[test]
fn real_sboms_import_and_the_medical_device_sbom_matches() {
    let Some(data) = support::shared_data() else {
        return;
    };
    let env = Env::init();
    import(
        &env,
        &[
            data.join("nvd/api-2.0-from-1.1/nvdcve-2.0-from-1.1-2021.json.gz"),
            data.join("nvd/nvd-cve-api-2.0-merged.json.gz"),
        ],
    );
    let r = env.run(&[
        "ledger",
        "add",
        "MD-0001",
        "--name",
        "輸液ポンプ",
        "--kind",
        "医療機器",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let sbom =
        data.join("sbom/medical-device-sbom-completeness/sboms/case-study/extended.sbom.json");
    let r = env.run(&[
        "--json",
        "sbom",
        "import",
        "MD-0001",
        sbom.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rep = r.json();
    assert_eq!(rep["format"], "CycloneDX");
    assert_eq!(rep["spec_version"], "1.4");
    assert!(rep["components"].as_u64().unwrap() >= 65, "{rep}");
    assert!(rep["with_cpe"].as_u64().unwrap() >= 60, "{rep}");
    let r = env.run(&["--json", "match"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let list = findings(&env, &["--asset", "MD-0001", "--min-priority", "low"]);
    eprintln!(
        "medical-device SBOM findings: {} ({:?})",
        list.len(),
        list.iter()
            .map(|f| format!("{} {}", f["component"], f["vuln"]))
            .collect::<Vec<_>>()
    );
    assert!(!list.is_empty());
    assert!(list.iter().all(|f| f["component_source"] == "sbom"));

    // Every CycloneDX and SPDX example beside it imports (or is refused with a reason).
    let mut imported = 0;
    for dir in ["sbom/cyclonedx-bom-examples", "sbom/spdx-examples"] {
        let mut stack = vec![data.join(dir)];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap().flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                    continue;
                }
                let name = p.to_string_lossy().to_string();
                let sbom_like =
                    (name.ends_with(".json") || name.ends_with(".xml") || name.ends_with(".spdx"))
                        && !name.contains("spdx3");
                if !sbom_like {
                    continue;
                }
                let r = env.run(&["--json", "sbom", "import", "MD-0001", &name]);
                assert!(r.code == 0 || r.code == 1, "{name}: {}", r.stderr);
                if r.code == 0 {
                    imported += 1;
                } else {
                    assert!(r.stderr.contains("SBOM"), "{name}: {}", r.stderr);
                }
            }
        }
    }
    eprintln!("example SBOMs imported: {imported}");
    assert!(imported >= 30, "{imported}");
}
