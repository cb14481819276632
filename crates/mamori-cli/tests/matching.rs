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

    // The maker's VEX (CycloneDX, written for this test) says one of them does not apply:
    // after the next match it is kept as 影響なし with the file as the reason.
    let cleared = list[0]["vuln"].as_str().unwrap().to_string();
    let vex = env.path("device-vex.json");
    std::fs::write(
        &vex,
        format!(
            r#"{{"bomFormat":"CycloneDX","specVersion":"1.5","version":1,
              "vulnerabilities":[{{"id":"{cleared}","analysis":{{"state":"not_affected",
              "justification":"code_not_reachable","detail":"test statement"}},
              "affects":[{{"ref":"device"}}]}}]}}"#
        ),
    )
    .unwrap();
    let r = env.run(&["--json", "sbom", "import", "MD-0001", vex.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["vex"], 1);
    assert_eq!(
        r.json()["components"],
        0,
        "a VEX-only document keeps the components"
    );
    let r = env.run(&["--json", "match"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let open = findings(&env, &["--asset", "MD-0001", "--min-priority", "low"]);
    assert_eq!(open.len(), list.len() - 1);
    let na = findings(&env, &["--asset", "MD-0001", "--status", "not_affected"]);
    assert_eq!(vulns_of(&na, "MD-0001"), [cleared]);
    assert_eq!(
        na[0]["reason_code"],
        serde_json::json!({"code": "vendor_not_affected", "advisory": "VEX device-vex.json"})
    );

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

/// A vendor's VEX statement (CSAF `csaf_vex`), written for this test: AnyDana-i 2.5 is not
/// affected by CVE-2020-27256. (Not a real vendor statement.)
const TEST_VEX: &str = r#"{
 "document": {"category": "csaf_vex", "csaf_version": "2.0",
  "title": "AnyDana-i 2.5 and CVE-2020-27256 (mamori test fixture)",
  "publisher": {"category": "vendor", "name": "mamori test fixture", "namespace": "https://example.invalid"},
  "tracking": {"id": "MAMORI-TEST-VEX-1", "status": "final", "version": "1",
   "initial_release_date": "2024-01-01T00:00:00Z", "current_release_date": "2024-01-01T00:00:00Z",
   "revision_history": [{"date": "2024-01-01T00:00:00Z", "number": "1", "summary": "Initial"}]}},
 "product_tree": {"branches": [{"category": "vendor", "name": "SOOIL Developments Co, Ltd.",
  "branches": [{"category": "product_name", "name": "AnyDana-i",
   "branches": [{"category": "product_version", "name": "2.5",
    "product": {"product_id": "P1", "name": "AnyDana-i 2.5"}}]}]}]},
 "vulnerabilities": [{"cve": "CVE-2020-27256",
  "product_status": {"known_not_affected": ["P1"]},
  "flags": [{"label": "vulnerable_code_not_present", "product_ids": ["P1"]}]}]
}"#;

#[test]
fn icsma_advisories_name_medical_devices_and_a_vendor_vex_clears_one() {
    let Some(data) = support::shared_data() else {
        return;
    };
    let env = Env::init();
    import(&env, &[data.join("csaf/cisagov-CSAF/csaf_files/OT/white")]);
    let csv = env.path("ledger.csv");
    std::fs::write(
        &csv,
        "管理番号,機器名,機器種別,メーカー,型番,バージョン\n\
         MD-0001,インスリンポンプ連携アプリ,医療機器,SOOIL,AnyDana-i,2.5\n\
         MD-0002,インスリンポンプ連携アプリ(更新済),医療機器,SOOIL,AnyDana-i,3.1\n\
         MD-0003,インスリンポンプ,医療機器,Medtronic,MiniMed Paradigm 511,\n\
         MD-0004,生体情報モニタ,医療機器,Philips,MX40,B.06.18\n",
    )
    .unwrap();
    let r = env.run(&["ledger", "import", csv.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = env.run(&["--json", "match"]);
    assert_eq!(r.code, 0, "{}", r.stderr);

    // ICSMA-21-012-01: AnyDana-i before 3.0, nine CVEs; matched by maker and model.
    let open = findings(&env, &[]);
    let mut md1 = vulns_of(&open, "MD-0001");
    md1.sort();
    assert_eq!(
        md1,
        [
            "CVE-2020-27256",
            "CVE-2020-27258",
            "CVE-2020-27264",
            "CVE-2020-27266",
            "CVE-2020-27268",
            "CVE-2020-27269",
            "CVE-2020-27270",
            "CVE-2020-27272",
            "CVE-2020-27276"
        ]
    );
    let f = open.iter().find(|f| f["asset_id"] == "MD-0001").unwrap();
    assert_eq!(f["sources"], serde_json::json!(["CSAF ICSMA-21-012-01"]));
    assert_eq!(f["confidence"], "medium");
    assert_eq!(f["evidence"]["matched"][0]["matched_by"], "name");
    assert_eq!(
        f["evidence"]["matched"][0]["versions"],
        serde_json::json!(["< 3.0"])
    );
    // `findings show` gives the title, here the advisory's (no NVD record was imported).
    let id = f["id"].as_i64().unwrap().to_string();
    let r = env.run(&["--json", "findings", "show", &id]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let title = r.json()["evidence"]["title"].as_str().unwrap().to_string();
    assert!(title.contains("Dana"), "{title}");
    // 3.1 is outside "< 3.0".
    assert!(vulns_of(&open, "MD-0002").is_empty());
    // ICSMA-19-178-01 names the 511 pump for all versions: affected without a version.
    assert_eq!(vulns_of(&open, "MD-0003"), ["CVE-2019-10964"]);
    // "MX40" is not "MX (MX400-550)": a short model must match whole words.
    assert!(
        open.iter()
            .filter(|f| f["asset_id"] == "MD-0004")
            .all(|f| f["evidence"]["matched"][0]["product"]
                .as_str()
                .is_none_or(|p| p.contains("MX40 "))),
        "{open:?}"
    );

    // The vendor's VEX says 2.5 is not affected by one of them: kept as 影響なし, with why.
    let vex = env.path("vex.json");
    std::fs::write(&vex, TEST_VEX).unwrap();
    import(&env, &[vex]);
    let r = env.run(&["--json", "match"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["not_affected"], 1, "{}", r.stdout);
    let open = findings(&env, &["--asset", "MD-0001"]);
    assert_eq!(open.len(), 8);
    let cleared = findings(&env, &["--status", "not_affected", "--lang", "en"]);
    assert_eq!(vulns_of(&cleared, "MD-0001"), ["CVE-2020-27256"]);
    assert_eq!(
        cleared[0]["reason_code"],
        serde_json::json!({"code": "vendor_not_affected", "advisory": "MAMORI-TEST-VEX-1"})
    );
    let sources = cleared[0]["sources"].as_array().unwrap();
    assert!(sources.contains(&serde_json::json!("CSAF MAMORI-TEST-VEX-1")));
    assert!(sources.contains(&serde_json::json!("CSAF ICSMA-21-012-01")));
}

#[test]
fn an_sbom_with_100_000_components_imports_and_a_cut_one_changes_nothing() {
    let env = Env::init();
    let r = env.run(&[
        "ledger",
        "add",
        "SV-0001",
        "--name",
        "電子カルテサーバ",
        "--kind",
        "サーバ",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut json =
        String::from(r#"{"bomFormat":"CycloneDX","specVersion":"1.6","version":1,"components":["#);
    for i in 0..100_000 {
        if i > 0 {
            json.push(',');
        }
        json.push_str(&format!(
            r#"{{"type":"library","name":"lib{i}","version":"1.{i}","cpe":"cpe:2.3:a:vendor{v}:lib{i}:1.{i}:*:*:*:*:*:*:*"}}"#,
            v = i % 100
        ));
    }
    json.push_str("]}");
    let big = env.path("big.cdx.json");
    std::fs::write(&big, &json).unwrap();
    let r = env.run(&["--json", "sbom", "import", "SV-0001", big.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["components"], 100_000);
    assert_eq!(r.json()["with_cpe"], 100_000);

    // Cut in the middle: refused with the position, and the device keeps its 100,000.
    let cut = env.path("cut.cdx.json");
    std::fs::write(&cut, &json[..json.len() / 2]).unwrap();
    let r = env.run(&["sbom", "import", "SV-0001", cut.to_str().unwrap()]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("line") || r.stderr.contains("行"),
        "{}",
        r.stderr
    );
    let r = env.run(&["--json", "match"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["components"], 100_000);
}

/// An NVD 2.0 document of records written for this test (ids in a range NVD does not use
/// yet; the products are invented): each record is (id, last modified, configurations).
fn nvd_doc(records: &[(&str, &str, serde_json::Value)]) -> String {
    let vulnerabilities: Vec<serde_json::Value> = records
        .iter()
        .map(|(id, modified, configurations)| {
            serde_json::json!({"cve": {
                "id": id, "sourceIdentifier": "test", "published": "2026-01-05T00:00:00.000",
                "lastModified": modified, "vulnStatus": "Analyzed",
                "descriptions": [{"lang": "en", "value": format!("{id}: a flaw written for mamori's tests.")}],
                "metrics": {"cvssMetricV31": [{"source": "nvd@nist.gov", "type": "Primary",
                    "cvssData": {"version": "3.1", "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                    "baseScore": 9.8, "baseSeverity": "CRITICAL"}}]},
                "configurations": configurations,
            }})
        })
        .collect();
    serde_json::json!({
        "resultsPerPage": records.len(), "startIndex": 0, "totalResults": records.len(),
        "format": "NVD_CVE", "version": "2.0", "timestamp": "2026-11-26T00:00:00.000",
        "vulnerabilities": vulnerabilities,
    })
    .to_string()
}

/// One OR node of vulnerable criteria: (criteria, bound name, bound).
fn or_node(criteria: &[(&str, &str, &str)]) -> serde_json::Value {
    let matches: Vec<serde_json::Value> = criteria
        .iter()
        .map(|(c, bound, v)| {
            let mut m = serde_json::json!({"vulnerable": true, "criteria": c,
                "matchCriteriaId": "00000000-0000-0000-0000-000000000000"});
            if !bound.is_empty() {
                m[*bound] = serde_json::json!(v);
            }
            m
        })
        .collect();
    serde_json::json!({"operator": "OR", "negate": false, "cpeMatch": matches})
}

/// Firmware below `below`, running on the given hardware (an AND of two nodes).
fn running_on(below: &str, hardware: &str) -> serde_json::Value {
    serde_json::json!([{"operator": "AND", "nodes": [
        or_node(&[("cpe:2.3:o:mamori_test:router_firmware:*:*:*:*:*:*:*:*", "versionEndExcluding", below)]),
        {"operator": "OR", "negate": false, "cpeMatch": [{"vulnerable": false,
            "criteria": hardware, "matchCriteriaId": "00000000-0000-0000-0000-000000000001"}]},
    ]}])
}

/// Findings of every status, by (device, vulnerability, product): status, component,
/// version, score and evidence — what a full match and an incremental one must agree on.
fn all_findings(env: &Env) -> std::collections::BTreeMap<[String; 3], serde_json::Value> {
    findings(env, &["--status", "all"])
        .into_iter()
        .map(|f| {
            let text = |k: &str| f[k].as_str().unwrap().to_string();
            let key = [text("asset_id"), text("vuln"), text("component_key")];
            let kept = serde_json::json!([
                f["id"],
                f["status"],
                f["component"],
                f["version"],
                f["score"],
                f["evidence"]
            ]);
            (key, kept)
        })
        .collect()
}

#[test]
fn changed_records_are_matched_incrementally_as_a_full_match_would() {
    let env = Env::init();
    let csv = env.path("ledger.csv");
    std::fs::write(
        &csv,
        "管理番号,機器名,機器種別,メーカー,型番,バージョン,状態,CPE\n\
         PC-0001,外来PC1,PC,,,1.0,使用中,cpe:2.3:a:mamori_test:viewer:*:*:*:*:*:*:*:*\n\
         PC-0002,外来PC2,PC,,,2.0,使用中,cpe:2.3:a:mamori_test:viewer:*:*:*:*:*:*:*:*\n\
         PC-0003,外来PC3,PC,,,3.0,使用中,cpe:2.3:a:mamori_test:viewer:*:*:*:*:*:*:*:*\n\
         PC-0004,旧PC,PC,,,1.0,廃棄,cpe:2.3:a:mamori_test:viewer:*:*:*:*:*:*:*:*\n\
         PC-0005,事務PC,PC,,,7.0,使用中,cpe:2.3:a:mamori_test:office:*:*:*:*:*:*:*:*\n\
         NW-0001,ルータ,ネットワーク機器,,,,使用中,\n\
         MD-0001,輸液ポンプ,医療機器,Mamori Test,Infusion Pump,1.0,使用中,\n",
    )
    .unwrap();
    let r = env.run(&["ledger", "import", csv.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // The router's firmware and hardware come from its maker's SBOM; the viewer on PC-0003
    // also comes as a Debian package.
    let sbom = env.path("router.cdx.json");
    std::fs::write(
        &sbom,
        r#"{"bomFormat":"CycloneDX","specVersion":"1.5","version":1,"components":[
            {"type":"firmware","name":"router_firmware","version":"5.1","cpe":"cpe:2.3:o:mamori_test:router_firmware:5.1:*:*:*:*:*:*:*"},
            {"type":"device","name":"router","cpe":"cpe:2.3:h:mamori_test:router:-:*:*:*:*:*:*:*"}]}"#,
    )
    .unwrap();
    let r = env.run(&["sbom", "import", "NW-0001", sbom.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let deb = env.path("pc3.cdx.json");
    std::fs::write(
        &deb,
        r#"{"bomFormat":"CycloneDX","specVersion":"1.5","version":1,"components":[
            {"type":"library","name":"viewer","version":"2.4-1","purl":"pkg:deb/debian/viewer@2.4-1","cpe":"cpe:2.3:a:mamori_test:viewer:*:*:*:*:*:*:*:*"}]}"#,
    )
    .unwrap();
    let r = env.run(&["sbom", "import", "PC-0003", deb.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let tool = env.path("pc5.cdx.json");
    std::fs::write(
        &tool,
        r#"{"bomFormat":"CycloneDX","specVersion":"1.5","version":1,"components":[
            {"type":"application","name":"dicom_tool","version":"1.0","cpe":"cpe:2.3:a:mamori_test:dicom_tool:1.0:*:*:*:*:*:*:*"}]}"#,
    )
    .unwrap();
    let r = env.run(&["sbom", "import", "PC-0005", tool.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);

    let viewer = "cpe:2.3:a:mamori_test:viewer:*:*:*:*:*:*:*:*";
    let router = "cpe:2.3:h:mamori_test:router:-:*:*:*:*:*:*:*";
    let office = "cpe:2.3:a:mamori_test:office:*:*:*:*:*:*:*:*";
    let dicom_tool = "cpe:2.3:a:mamori_test:dicom_tool:*:*:*:*:*:*:*:*";
    let before = env.path("nvd-before.json");
    std::fs::write(
        &before,
        nvd_doc(&[
            (
                "CVE-2026-90001",
                "2026-01-05T00:00:00.000",
                serde_json::json!([{"nodes": [or_node(&[(viewer, "versionEndExcluding", "2.5")])]}]),
            ),
            (
                "CVE-2026-90002",
                "2026-01-05T00:00:00.000",
                running_on("6.0", router),
            ),
            (
                "CVE-2026-90003",
                "2026-01-05T00:00:00.000",
                serde_json::json!([{"nodes": [or_node(&[(viewer, "versionStartIncluding", "3.0")])]}]),
            ),
            (
                "CVE-2026-90005",
                "2026-01-05T00:00:00.000",
                serde_json::json!([{"nodes": [or_node(&[(office, "versionEndIncluding", "8.0")])]}]),
            ),
        ]),
    )
    .unwrap();
    import(&env, &[before]);
    let r = env.run(&["--json", "match"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let open = |env: &Env| -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = findings(env, &[])
            .iter()
            .map(|f| {
                (
                    f["asset_id"].as_str().unwrap().to_string(),
                    f["vuln"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        v.sort();
        v
    };
    let pair = |a: &str, v: &str| (a.to_string(), v.to_string());
    assert_eq!(
        open(&env),
        [
            pair("NW-0001", "CVE-2026-90002"),
            pair("PC-0001", "CVE-2026-90001"),
            pair("PC-0002", "CVE-2026-90001"),
            pair("PC-0003", "CVE-2026-90001"),
            pair("PC-0003", "CVE-2026-90003"),
            pair("PC-0005", "CVE-2026-90005"),
        ],
        "the retired PC has none; PC-0003's Debian viewer 2.4-1 is below 2.5"
    );

    // NVD revises the records: a narrower range, a wider one, another platform, and a new
    // record; a description-only change to none of them.
    let after = env.path("nvd-after.json");
    std::fs::write(
        &after,
        nvd_doc(&[
            (
                "CVE-2026-90001",
                "2026-11-20T00:00:00.000",
                serde_json::json!([{"nodes": [or_node(&[(viewer, "versionEndExcluding", "1.5")])]}]),
            ),
            (
                "CVE-2026-90002",
                "2026-11-20T00:00:00.000",
                running_on("6.0", "cpe:2.3:h:mamori_test:router2:-:*:*:*:*:*:*:*"),
            ),
            (
                "CVE-2026-90003",
                "2026-11-20T00:00:00.000",
                serde_json::json!([{"nodes": [or_node(&[(viewer, "versionStartIncluding", "2.0")])]}]),
            ),
            (
                "CVE-2026-90004",
                "2026-11-20T00:00:00.000",
                serde_json::json!([{"nodes": [or_node(&[(viewer, "versionEndIncluding", "9.0")])]}]),
            ),
            // A hardware flaw of the pump, known to the ledger only by maker and model.
            (
                "CVE-2026-90006",
                "2026-11-20T00:00:00.000",
                serde_json::json!([{"nodes": [or_node(&[(
                    "cpe:2.3:h:mamori_test:infusion_pump:*:*:*:*:*:*:*:*",
                    "versionEndExcluding",
                    "2.0",
                )])]}]),
            ),
            // Now names another product of PC-0005's, not its office suite.
            (
                "CVE-2026-90005",
                "2026-11-20T00:00:00.000",
                serde_json::json!([{"nodes": [or_node(&[(dicom_tool, "versionEndIncluding", "2.0")])]}]),
            ),
        ]),
    )
    .unwrap();
    import(&env, &[after]);
    let r = env.run(&["--json", "match"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let report = r.json();
    assert_eq!(report["mode"], "incremental");
    // Only the devices holding a component a changed record's vulnerable criterion holds for
    // are matched: the three viewer PCs in use (the retired one is read only to be passed
    // over), the router (its firmware is still in range), PC-0005 (its DICOM tool) and the pump
    // (its maker and model).
    assert_eq!(report["assets"], 6, "{report}");
    assert_eq!(
        open(&env),
        [
            pair("MD-0001", "CVE-2026-90006"),
            pair("PC-0001", "CVE-2026-90001"),
            pair("PC-0001", "CVE-2026-90004"),
            pair("PC-0002", "CVE-2026-90003"),
            pair("PC-0002", "CVE-2026-90004"),
            pair("PC-0003", "CVE-2026-90003"),
            pair("PC-0003", "CVE-2026-90004"),
            pair("PC-0005", "CVE-2026-90005"),
        ],
        "{report}"
    );
    // PC-0002 and PC-0003 (both viewers: 2.0 and the 2.4-1 package) are outside the narrower
    // range, the router's platform is another model, PC-0005's office suite no longer named.
    let resolved = findings(&env, &["--status", "resolved"]);
    assert_eq!(resolved.len(), 4, "{resolved:?}");
    assert!(
        resolved
            .iter()
            .all(|f| f["reason_code"]["code"] == "records_changed"),
        "{resolved:?}"
    );
    let incremental = all_findings(&env);

    // A full match finds nothing to change: same findings, same ids, same evidence.
    let r = env.run(&["--json", "match", "--full"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let full = r.json();
    assert_eq!(full["mode"], "full");
    for k in ["opened", "reopened", "resolved", "updated"] {
        assert_eq!(full[k], 0, "{k}: {full}");
    }
    assert_eq!(all_findings(&env), incremental);
}
