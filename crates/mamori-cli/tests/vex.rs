//! VEX export: the workflow's states in the standard vocabularies, and the documents valid
//! against the official CycloneDX 1.5 and CSAF 2.0 schemas (fetched by
//! `scripts/fetch-vex-schemas.sh` into `MAMORI_VEX_SCHEMAS`, as `.ci/run` does; checked with
//! Python's jsonschema by `scripts/validate-vex.py` — a skip here when absent, a failure in CI).

mod support;

use std::path::{Path, PathBuf};

use support::Env;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn schemas() -> Option<PathBuf> {
    let dir = std::env::var_os("MAMORI_VEX_SCHEMAS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target/vex-schemas"));
    let python = std::process::Command::new("python3")
        .args(["-c", "import jsonschema, referencing"])
        .output()
        .is_ok_and(|o| o.status.success());
    let present = dir.join("bom-1.5.SNAPSHOT.schema.json").is_file()
        && dir.join("csaf_2_0.json").is_file()
        && python;
    support::require(
        "the CycloneDX and CSAF schemas and Python's jsonschema",
        present,
    )
    .then_some(dir)
}

fn validate(kind: &str, file: &Path) {
    let Some(dir) = schemas() else { return };
    let out = std::process::Command::new("python3")
        .arg(repo().join("scripts/validate-vex.py"))
        .arg(&dir)
        .arg(kind)
        .arg(file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{kind} VEX is not valid: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn scenario() -> Env {
    let env = Env::init();
    let csv = env.path("ledger.csv");
    std::fs::write(
        &csv,
        "管理番号,機器名,機器種別,保守事業者,バージョン,CPE\n\
         MD-0001,超音波診断装置,医療機器,保守社,1.0,cpe:2.3:a:mamori_test:viewer:*:*:*:*:*:*:*:*\n\
         MD-0002,内視鏡システム,医療機器,保守社,1.0,cpe:2.3:a:mamori_test:viewer:*:*:*:*:*:*:*:*\n\
         PC-0001,事務PC,PC,別会社,1.0,cpe:2.3:a:mamori_test:viewer:*:*:*:*:*:*:*:*\n",
    )
    .unwrap();
    assert_eq!(
        env.run(&["ledger", "import", csv.to_str().unwrap()]).code,
        0
    );
    let feed = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/nvd-remediation.json");
    assert_eq!(
        env.run(&["feeds", "import", feed.to_str().unwrap()]).code,
        0
    );
    assert_eq!(env.run(&["match"]).code, 0);
    let id = |asset: &str, vuln: &str| -> String {
        let r = env.run(&[
            "--json", "findings", "list", "--asset", asset, "--cve", vuln,
        ]);
        r.json()["findings"][0]["id"].as_i64().unwrap().to_string()
    };
    let steps: [(String, Vec<&str>); 3] = [
        (
            id("MD-0001", "CVE-2026-90001"),
            vec![
                "--to",
                "該当なし",
                "--justification",
                "code_not_reachable",
                "--reason",
                "該当機能は無効",
            ],
        ),
        (
            id("MD-0002", "CVE-2026-90001"),
            vec!["--to", "適用予定", "--planned", "2099-02-01"],
        ),
        (
            id("MD-0001", "CVE-2026-90002"),
            vec!["--to", "誤検知", "--reason", "別製品の CPE"],
        ),
    ];
    for (id, args) in steps {
        let mut all = vec!["findings", "state", id.as_str()];
        all.extend(args);
        let r = env.run(&all);
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
    env
}

#[test]
fn cyclonedx_vex_for_a_vendor_maps_the_states_and_validates() {
    let env = scenario();
    let out = env.path("vex.cdx.json");
    let r = env.run(&[
        "--json",
        "vex",
        "export",
        out.to_str().unwrap(),
        "--vendor",
        "保守社",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.json()["statements"],
        4,
        "two devices × two CVEs; not the other vendor's PC"
    );
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(doc["bomFormat"], "CycloneDX");
    let vulns = doc["vulnerabilities"].as_array().unwrap();
    let analysis = |device: &str, cve: &str| -> serde_json::Value {
        vulns
            .iter()
            .find(|v| {
                v["id"] == cve && v["affects"][0]["ref"].as_str().unwrap().starts_with(device)
            })
            .unwrap()["analysis"]
            .clone()
    };
    let a = analysis("MD-0001", "CVE-2026-90001");
    assert_eq!(
        (a["state"].as_str(), a["justification"].as_str()),
        (Some("not_affected"), Some("code_not_reachable"))
    );
    assert_eq!(a["detail"], "該当機能は無効");
    let b = analysis("MD-0002", "CVE-2026-90001");
    assert_eq!(
        (b["state"].as_str(), b["response"][0].as_str()),
        (Some("exploitable"), Some("update"))
    );
    assert_eq!(
        analysis("MD-0001", "CVE-2026-90002")["state"],
        "false_positive"
    );
    assert_eq!(analysis("MD-0002", "CVE-2026-90002")["state"], "in_triage");
    validate("cyclonedx", &out);
}

#[test]
fn csaf_vex_for_a_device_maps_the_states_and_validates() {
    let env = scenario();
    let out = env.path("vex.csaf.json");
    let r = env.run(&[
        "vex",
        "export",
        out.to_str().unwrap(),
        "--asset",
        "MD-0001",
        "--format",
        "csaf",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(doc["document"]["category"], "csaf_vex");
    assert_eq!(doc["document"]["csaf_version"], "2.0");
    let v = |cve: &str| {
        doc["vulnerabilities"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["cve"] == cve)
            .unwrap()
            .clone()
    };
    let first = v("CVE-2026-90001");
    assert!(first["product_status"]["known_not_affected"].is_array());
    assert_eq!(
        first["flags"][0]["label"],
        "vulnerable_code_not_in_execute_path"
    );
    let second = v("CVE-2026-90002");
    assert!(second["product_status"]["known_not_affected"].is_array());
    assert_eq!(second["threats"][0]["category"], "impact");
    validate("csaf", &out);
    // Nothing to state: a clear error.
    let r = env.run(&[
        "--lang",
        "en",
        "vex",
        "export",
        out.to_str().unwrap(),
        "--asset",
        "NOPE",
    ]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("no finding"), "{}", r.stderr);
}
