//! `mamori feeds import|status` and `mamori vuln show|search` on the real data in
//! `../shared/data` (read in place; absent data is a skip locally, a failure in CI).

mod support;

use support::Env;

fn status(env: &Env) -> serde_json::Value {
    let r = env.run(&["--json", "feeds", "status"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    r.json()
}

#[test]
fn real_nvd_kev_and_epss_import_idempotently() {
    let Some(data) = support::shared_data() else {
        return;
    };
    let env = Env::init();
    let paths = [
        data.join("nvd/nvd-cve-api-2.0-merged.json.gz"),
        data.join("nvd/api-2.0-from-1.1/nvdcve-2.0-from-1.1-2014.json.gz"),
        data.join("kev"),
        data.join("fixtures-vuls-data-update/pkg/fetch/epss/testdata/fixtures"),
    ];
    let mut args = vec!["--json", "feeds", "import"];
    let owned: Vec<String> = paths
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    args.extend(owned.iter().map(String::as_str));
    let r = env.run(&args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let report = r.json();
    assert_eq!(report["failed"], 0);
    let files = report["files"].as_array().unwrap();
    let merged = files
        .iter()
        .find(|f| f["origin"].as_str().unwrap().ends_with("merged.json.gz"))
        .unwrap();
    assert_eq!(
        (
            merged["records"].as_i64(),
            merged["added"].as_i64(),
            merged["skipped"].as_i64()
        ),
        (Some(156), Some(156), Some(0))
    );
    let y2014 = files
        .iter()
        .find(|f| f["origin"].as_str().unwrap().ends_with("2014.json.gz"))
        .unwrap();
    assert_eq!(y2014["records"], 8_846);
    assert!(
        files.iter().any(|f| f["passed_over"].is_string()),
        "the KEV schema and CSV are passed over"
    );
    let nvd_files: Vec<&serde_json::Value> =
        files.iter().filter(|f| f["source"] == "nvd").collect();
    for f in &nvd_files {
        let sum = f["added"].as_i64().unwrap()
            + f["updated"].as_i64().unwrap()
            + f["unchanged"].as_i64().unwrap();
        assert_eq!(sum, f["records"].as_i64().unwrap(), "{f}");
    }
    let added: i64 = nvd_files.iter().map(|f| f["added"].as_i64().unwrap()).sum();
    assert_eq!(env.feed_records("nvd"), added);
    assert!(
        added >= 8_846 + 150,
        "the two files overlap in at most a few CVEs: {added}"
    );
    assert_eq!(env.feed_records("kev"), 1_404);
    assert!(env.feed_records("epss") >= 2);

    // The same files again change nothing.
    let r = env.run(&args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for f in r.json()["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["source"] == "nvd")
    {
        assert_eq!(f["added"], 0, "{f}");
        assert_eq!(f["updated"], 0, "{f}");
    }
    assert_eq!(env.feed_records("nvd"), added);

    // vuln show: the Exchange ProxyLogon record with its KEV entry and exact configurations.
    let r = env.run(&["--json", "vuln", "show", "cve-2021-26855"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = r.json();
    assert_eq!(v["vulnerability"]["id"], "CVE-2021-26855");
    assert_eq!(v["kev"]["cve_id"], "CVE-2021-26855");
    assert!(
        v["vulnerability"]["configurations"][0]["nodes"][0]["matches"]
            .as_array()
            .unwrap()
            .len()
            > 5
    );
    let r = env.run(&["--lang", "ja", "vuln", "show", "CVE-2021-26855"]);
    assert!(
        r.stdout.contains("CISA KEV") && r.stdout.contains("CVSS 3.1 9.8"),
        "{}",
        r.stdout
    );

    let r = env.run(&["--json", "vuln", "search", "Exchange Server"]);
    assert!(r.json()["results"]
        .as_array()
        .unwrap()
        .iter()
        .any(|h| h["id"] == "CVE-2021-26855" && h["kev"] == true));
    let r = env.run(&["--lang", "en", "vuln", "show", "CVE-1999-99999"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("not in the store"), "{}", r.stderr);
}

#[test]
fn a_broken_file_changes_nothing_and_names_record_and_position() {
    let Some(data) = support::shared_data() else {
        return;
    };
    let env = Env::init();
    let good = data.join("nvd/api-2.0/vunnel/full-page.json");
    assert_eq!(
        env.run(&["feeds", "import", good.to_str().unwrap()]).code,
        0
    );
    let before = env.feed_records("nvd");
    assert_eq!(before, 38);

    // The 2014 year, cut in the middle of a record.
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::GzDecoder::new(
            std::fs::File::open(data.join("nvd/api-2.0-from-1.1/nvdcve-2.0-from-1.1-2014.json.gz"))
                .unwrap(),
        ),
        &mut bytes,
    )
    .unwrap();
    let cut = env.path("nvd-2014-truncated.json");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let r = env.run(&["--lang", "en", "feeds", "import", cut.to_str().unwrap()]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("nvd-2014-truncated.json")
            && r.stderr.contains("JSON error at line")
            && r.stderr.contains("record "),
        "{}",
        r.stderr
    );
    assert_eq!(
        env.feed_records("nvd"),
        before,
        "nothing from the broken file is stored"
    );
    let s = status(&env);
    let nvd = s["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["source"] == "nvd")
        .unwrap();
    assert!(
        nvd["last_error"]["message"]
            .as_str()
            .unwrap()
            .contains("truncated"),
        "{nvd}"
    );

    // A record with an unusable CPE keeps the rest of the record, with a warning; a record
    // whose date does not read is skipped with a warning; the rest imports.
    let text = r#"{"vulnerabilities":[{"cve":{"id":"CVE-2099-0001","lastModified":"2099-01-01T00:00:00.000","configurations":[{"nodes":[{"operator":"OR","cpeMatch":[{"vulnerable":true,"criteria":"FortiOS 6.0.4"}]}]}]}},{"cve":{"id":"CVE-2099-0002"}},{"cve":{"id":"CVE-2099-0003","lastModified":"someday"}}]}"#;
    let f = env.path("one-bad.json");
    std::fs::write(&f, text).unwrap();
    let r = env.run(&["--json", "feeds", "import", f.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let file = &r.json()["files"][0];
    assert_eq!(
        (file["added"].as_i64(), file["skipped"].as_i64()),
        (Some(2), Some(1))
    );
    let warnings: Vec<&str> = file["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("CVE-2099-0001") && w.contains("configuration is left out")),
        "{warnings:?}"
    );
    assert!(
        warnings.iter().any(|w| w.contains("CVE-2099-0003")),
        "{warnings:?}"
    );
    let skipped = status(&env)["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["source"] == "nvd")
        .unwrap()["skipped"]
        .clone();
    assert_eq!(skipped, 1, "skipped records are counted in feeds status");
}

#[test]
fn jvn_records_show_japanese_text_and_link_cves() {
    let Some(data) = support::shared_data() else {
        return;
    };
    let env = Env::init();
    let hnd = data.join("jvn/myjvn-api-examples/examples/hnd");
    let fixtures = data.join("fixtures-vuls-data-update/pkg/fetch/jvn/feed");
    let nvd = data.join("nvd/nvd-cve-api-2.0-merged.json.gz");
    let r = env.run(&[
        "--json",
        "feeds",
        "import",
        hnd.to_str().unwrap(),
        fixtures.to_str().unwrap(),
        nvd.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let report = r.json();
    let jvn_records: i64 = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["source"] == "jvn")
        .map(|f| f["records"].as_i64().unwrap())
        .sum();
    assert_eq!(
        jvn_records,
        4 + 7 + 2 + 4 + 5 + 11,
        "every VULDEF and JVNRSS entry of the hnd examples and fixtures"
    );
    assert!(env.feed_records("jvn") >= 20);

    let r = env.run(&["--lang", "ja", "vuln", "show", "JVNDB-2021-002774"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("トレンドマイクロ製 ServerProtect における認証回避の脆弱性"),
        "title: {}",
        r.stdout
    );
    assert!(r.stdout.contains("概要:\nトレンドマイクロ株式会社から ServerProtect 向けのアップデートが公開されました。"), "overview: {}", r.stdout);
    assert!(
        r.stdout.contains("別名: CVE-2021-36745"),
        "aliases: {}",
        r.stdout
    );
    assert!(
        r.stdout.contains("想定される影響:\n遠隔の第三者によって"),
        "impact: {}",
        r.stdout
    );
    assert!(
        r.stdout.contains("for Windows 5.8 (Build 1575) 未満"),
        "version text: {}",
        r.stdout
    );

    // From the CVE side: a CVE the NVD data has shows its JVN entry, Japanese first.
    let shown = env
        .run(&["--json", "vuln", "show", "JVNDB-2025-002953"])
        .json();
    let cve = shown["vulnerability"]["aliases"][0]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(cve, "CVE-2025-31084");
    let r = env.run(&["--json", "vuln", "show", &cve]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let j = r.json();
    assert!(
        j["jvn"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i == "JVNDB-2025-002953")
            || j["vulnerability"]["id"] == "JVNDB-2025-002953",
        "{j}"
    );
    let r = env.run(&["--lang", "ja", "vuln", "search", "デシリアライゼーション"]);
    assert!(r.stdout.contains("JVNDB-2025-002953"), "{}", r.stdout);
}

#[test]
fn xml_with_entity_declarations_is_refused() {
    let env = Env::init();
    let lol = env.path("lol.xml");
    std::fs::write(&lol, r#"<?xml version="1.0"?><!DOCTYPE VULDEF-Document [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><VULDEF-Document><Vulinfo><VulinfoID>&b;</VulinfoID></Vulinfo></VULDEF-Document>"#).unwrap();
    let r = env.run(&["--lang", "en", "feeds", "import", lol.to_str().unwrap()]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("lol.xml") && r.stderr.contains("DOCTYPE"),
        "{}",
        r.stderr
    );
    assert_eq!(env.feed_records("jvn"), 0);
}

#[test]
fn all_124_icsma_advisories_import_with_products_and_cves() {
    let Some(data) = support::shared_data() else {
        return;
    };
    let env = Env::init();
    let csaf = data.join("csaf/cisagov-CSAF");
    let r = env.run(&["--json", "feeds", "import", csaf.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let report = r.json();
    assert_eq!(report["failed"], 0);
    let files = report["files"].as_array().unwrap();
    assert!(files
        .iter()
        .filter(|f| f["source"] == "csaf")
        .all(|f| f["warnings"].as_array().unwrap().is_empty()));
    let mut icsma: Vec<String> = files
        .iter()
        .filter_map(|f| f["origin"].as_str())
        .filter_map(|o| o.rsplit('/').next())
        .filter(|n| n.starts_with("icsma-") && n.ends_with(".json"))
        .map(|n| n.trim_end_matches(".json").to_ascii_uppercase())
        .collect();
    icsma.sort();
    assert_eq!(icsma.len(), 124);
    let (mut vulns, mut products) = (0, 0);
    for id in &icsma {
        let r = env.run(&["--json", "vuln", "show", id]);
        assert_eq!(r.code, 0, "{id}: {}", r.stderr);
        let a = &r.json()["advisory"];
        assert_eq!(a["id"].as_str().unwrap().to_ascii_uppercase(), *id);
        let p = a["products"].as_array().unwrap().len();
        let v = a["vulnerabilities"].as_array().unwrap();
        assert!(p > 0 && !v.is_empty(), "{id}");
        assert!(
            v.iter()
                .all(|v| v["cve"].as_str().is_some_and(|c| c.starts_with("CVE-"))),
            "{id}"
        );
        products += p;
        vulns += v.len();
    }
    assert_eq!((vulns, products), (382, 567));

    // From the CVE side, once NVD data is present too.
    let cve = env
        .run(&["--json", "vuln", "show", "ICSMA-17-082-01"])
        .json()["advisory"]["vulnerabilities"][0]["cve"]
        .as_str()
        .unwrap()
        .to_string();
    let nvd =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/nvd-cve-2017-6022.json");
    std::fs::write(env.path("n.json"), std::fs::read(&nvd).unwrap()).unwrap();
    assert_eq!(
        env.run(&["feeds", "import", env.path("n.json").to_str().unwrap()])
            .code,
        0
    );
    let j = env.run(&["--json", "vuln", "show", &cve]).json();
    assert!(
        j["advisories"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["id"] == "ICSMA-17-082-01"),
        "{j}"
    );
}

#[test]
fn alert_feeds_link_to_cves() {
    let Some(data) = support::shared_data() else {
        return;
    };
    let env = Env::init();
    let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let r = env.run(&[
        "--json",
        "feeds",
        "import",
        here.join("jpcert-alerts.rdf").to_str().unwrap(),
        here.join("nisc-alerts.xml").to_str().unwrap(),
        data.join("nvd/api-2.0/dependency-track/cve-2024-23113.json")
            .to_str()
            .unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(env.feed_records("alerts"), 3);
    let r = env.run(&["--lang", "ja", "vuln", "show", "CVE-2024-23113"]);
    assert!(
        r.stdout.contains(
            "注意喚起: 2024-10-10 JPCERT/CC 注意喚起 (テスト用) — Fortinet 製 FortiOS の脆弱性"
        ),
        "{}",
        r.stdout
    );
}

#[test]
fn zstandard_and_gzip_input_are_recognised_by_content() {
    let env = Env::init();
    let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    // Compressed with the reference `zstd` tool (zstd -19) from our own fixture.
    let zst = here.join("nvd-cve-2017-6022.json.zst");
    let misnamed = env.path("download.bin");
    std::fs::copy(&zst, &misnamed).unwrap();
    let r = env.run(&["--json", "feeds", "import", misnamed.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["files"][0]["source"], "nvd");
    assert_eq!(env.feed_records("nvd"), 1);
    let mut cut = std::fs::read(&zst).unwrap();
    cut.truncate(cut.len() / 2);
    let broken = env.path("broken.json.zst");
    std::fs::write(&broken, &cut).unwrap();
    let r = env.run(&["--lang", "en", "feeds", "import", broken.to_str().unwrap()]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(r.stderr.contains("broken.json.zst"), "{}", r.stderr);
}

#[test]
fn a_file_over_2_gib_is_refused_at_once() {
    let env = Env::init();
    let huge = env.path("nvdcve-huge.json");
    // A sparse file: 2.2 GB long, no disk used, nothing to read.
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(2_200_000_000)
        .unwrap();
    let r = env.run(&["--lang", "en", "feeds", "import", huge.to_str().unwrap()]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("nvdcve-huge.json") && r.stderr.contains("larger than"),
        "{}",
        r.stderr
    );
    assert_eq!(env.feed_records("nvd"), 0);
}
