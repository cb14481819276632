//! The remediation workflow through the command line: triage in bulk and one by one, the
//! checks each state needs, 適用済 only from a match that sees the fixed version, and the
//! history of every change. The vulnerability records are written for these tests
//! (`tests/data/nvd-remediation.json`: an invented viewer, ids NVD does not use).

mod support;

use support::Env;

fn data(name: &str) -> String {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

fn list(env: &Env, args: &[&str]) -> Vec<serde_json::Value> {
    let mut all = vec!["--json", "findings", "list"];
    all.extend(args);
    let r = env.run(&all);
    assert_eq!(r.code, 0, "{}", r.stderr);
    r.json()["findings"].as_array().unwrap().clone()
}

/// The id of the finding of `vuln` on `asset`.
fn id_of(env: &Env, asset: &str, vuln: &str) -> String {
    list(env, &["--status", "all", "--asset", asset, "--cve", vuln])[0]["id"]
        .as_i64()
        .unwrap()
        .to_string()
}

fn state_of(env: &Env, id: &str) -> serde_json::Value {
    let r = env.run(&["--json", "findings", "show", id]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    r.json()
}

/// A matched ledger: three PCs with viewer 1.0, each affected by both records.
pub fn matched() -> Env {
    let env = Env::init();
    let csv = env.path("ledger.csv");
    std::fs::write(
        &csv,
        "管理番号,機器名,機器種別,バージョン,CPE\n\
         PC-0001,外来PC1,PC,1.0,cpe:2.3:a:mamori_test:viewer:*:*:*:*:*:*:*:*\n\
         PC-0002,外来PC2,PC,1.0,cpe:2.3:a:mamori_test:viewer:*:*:*:*:*:*:*:*\n\
         PC-0003,外来PC3,PC,1.0,cpe:2.3:a:mamori_test:viewer:*:*:*:*:*:*:*:*\n",
    )
    .unwrap();
    assert_eq!(
        env.run(&["ledger", "import", csv.to_str().unwrap()]).code,
        0
    );
    let r = env.run(&["feeds", "import", &data("nvd-remediation.json")]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = env.run(&["--json", "match"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["opened"], 6);
    env
}

#[test]
fn triage_plan_and_a_match_that_sees_the_fixed_version() {
    let env = matched();
    assert!(list(&env, &[]).iter().all(|f| f["state"] == "new"));

    // One decision for the same CVE on every device, recorded per finding.
    let r = env.run(&[
        "--json",
        "findings",
        "state",
        "--cve",
        "CVE-2026-90001",
        "--to",
        "調査中",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["changed"].as_array().unwrap().len(), 3);
    let r = env.run(&[
        "--json",
        "findings",
        "state",
        "--cve",
        "CVE-2026-90001",
        "--to",
        "investigating",
    ]);
    assert_eq!(
        r.json()["unchanged"].as_array().unwrap().len(),
        3,
        "already there: left alone"
    );
    assert_eq!(list(&env, &["--state", "investigating"]).len(), 3);

    let pc1 = id_of(&env, "PC-0001", "CVE-2026-90001");
    let pc2 = id_of(&env, "PC-0002", "CVE-2026-90001");
    let pc3 = id_of(&env, "PC-0003", "CVE-2026-90002");
    let refused = |args: &[&str], words: &str| {
        let mut all = vec!["--lang", "en", "findings", "state"];
        all.extend(args);
        let r = env.run(&all);
        assert_eq!(r.code, 1, "{args:?} should be refused: {}", r.stdout);
        assert!(r.stderr.contains(words), "{args:?}: {}", r.stderr);
    };
    // 適用済 is never a click; each state asks for what it needs.
    refused(&[&pc1, "--to", "fixed"], "cannot be set by hand");
    refused(&[&pc1, "--to", "fix_planned"], "needs its date");
    refused(
        &[&pc1, "--to", "fix_planned", "--planned", "2020-01-01"],
        "in the past",
    );
    refused(
        &[&pc3, "--to", "not_affected", "--reason", "設定で無効"],
        "justification",
    );
    refused(&[&pc3, "--to", "false_positive"], "needs a reason");
    refused(&[&pc3, "--to", "risk_accepted"], "approver");
    refused(&["999999", "--to", "investigating"], "no finding 999999");
    // All or nothing: one bad id, nothing changes.
    refused(
        &[&pc3, "999999", "--to", "investigating"],
        "no finding 999999",
    );
    assert_eq!(state_of(&env, &pc3)["state"], "new");

    let r = env.run(&[
        "findings",
        "state",
        &pc1,
        &pc2,
        "--to",
        "適用予定",
        "--planned",
        "2099-03-31",
        "--reason",
        "定期保守で更新",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = env.run(&[
        "findings",
        "state",
        &pc3,
        "--to",
        "該当なし",
        "--justification",
        "requires_configuration",
        "--reason",
        "該当機能は無効",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let shown = state_of(&env, &pc1);
    assert_eq!(shown["state"], "fix_planned");
    assert_eq!(shown["planned_date"], "2099-03-31");

    // The vendor's update is installed on PC-0001: the next match sees the fixed version.
    let r = env.run(&["ledger", "edit", "PC-0001", "--set", "version=2.1"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(env.run(&["match"]).code, 0);
    let shown = state_of(&env, &pc1);
    assert_eq!(shown["status"], "resolved");
    assert_eq!(shown["state"], "fixed");
    let history = shown["history"].as_array().unwrap();
    let last = history.last().unwrap();
    assert_eq!(last["actor"], "match");
    assert_eq!(last["reason_code"], "fixed_version_detected");
    assert_eq!(last["from"], "fix_planned");
    assert_eq!(
        history
            .iter()
            .map(|e| e["to"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["investigating", "fix_planned", "fixed"]
    );
    let r = env.run(&["--lang", "ja", "findings", "show", &pc1]);
    assert!(
        r.stdout.contains("適用予定 → 適用済  修正版を検出"),
        "{}",
        r.stdout
    );
    // PC-0002 is still waiting for its maintenance.
    assert_eq!(state_of(&env, &pc2)["state"], "fix_planned");

    // The old version comes back (a restored image): found again, 未対応 again.
    assert_eq!(
        env.run(&["ledger", "edit", "PC-0001", "--set", "version=1.0"])
            .code,
        0
    );
    assert_eq!(env.run(&["match"]).code, 0);
    let shown = state_of(&env, &pc1);
    assert_eq!(shown["status"], "open");
    assert_eq!(shown["state"], "new");
    assert_eq!(
        shown["history"].as_array().unwrap().last().unwrap()["reason_code"],
        "found_again"
    );

    // PC-0003 is past its support end: one risk acceptance for what is still open on it (its
    // other finding was closed as not affected and is left out).
    assert_eq!(
        env.run(&["config", "set", "workflow.self_approval", "true"])
            .code,
        0
    );
    let r = env.run(&[
        "--json",
        "findings",
        "exception",
        "propose",
        "--asset",
        "PC-0003",
        "--kind",
        "リスク受容",
        "--residual-risk",
        "中",
        "--review",
        "2099-12-31",
        "--note",
        "サポート終了、更新予算まで",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let exc = r.json()["id"].as_i64().unwrap().to_string();
    assert_eq!(env.run(&["findings", "exception", "approve", &exc]).code, 0);
    let on_pc3 = list(&env, &["--asset", "PC-0003"]);
    let states: Vec<&str> = on_pc3
        .iter()
        .map(|f| f["state"].as_str().unwrap())
        .collect();
    assert_eq!(
        states.iter().filter(|s| **s == "risk_accepted").count(),
        1,
        "{states:?}"
    );
    assert!(states.contains(&"not_affected"), "{states:?}");

    // Every change is in the audit log, and the chain holds.
    let r = env.run(&["--json", "audit", "tail", "--limit", "100"]);
    let changes = r.json()["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "finding.state")
        .count();
    assert_eq!(changes, 3 + 2 + 1, "bulk 3, planned 2, not affected 1");
    assert_eq!(env.run(&["audit", "verify"]).code, 0);
}

/// The exported sheet's cells (as text), read as a vendor's spreadsheet program would.
fn read_sheet(path: &std::path::Path) -> Vec<Vec<String>> {
    use calamine::{Data, Reader};
    let mut wb = calamine::open_workbook_auto(path).unwrap();
    let name = wb.sheet_names()[0].clone();
    let range = wb.worksheet_range(&name).unwrap();
    range
        .rows()
        .map(|r| {
            r.iter()
                .map(|c| match c {
                    Data::Float(f) if f.fract() == 0.0 => format!("{}", *f as i64),
                    Data::Empty => String::new(),
                    other => other.to_string(),
                })
                .collect()
        })
        .collect()
}

#[test]
fn inquiry_to_the_vendor_answers_then_alternative_measures_and_a_fix_confirmed_by_a_match() {
    let env = Env::init();
    // Two devices of one vendor, one of another.
    let csv = env.path("ledger.csv");
    std::fs::write(
        &csv,
        "管理番号,機器名,機器種別,型番,設置場所,保守事業者,バージョン,CPE\n\
         MD-0001,超音波診断装置,医療機器,US-100,検査室,メディカル保守株式会社,1.0,cpe:2.3:a:mamori_test:viewer:*:*:*:*:*:*:*:*\n\
         MD-0002,内視鏡システム,医療機器,EN-20,内視鏡室,メディカル保守株式会社,1.0,cpe:2.3:a:mamori_test:viewer:*:*:*:*:*:*:*:*\n\
         PC-0009,事務PC,PC,,医事課,別会社,1.0,cpe:2.3:a:mamori_test:viewer:*:*:*:*:*:*:*:*\n",
    )
    .unwrap();
    assert_eq!(
        env.run(&["ledger", "import", csv.to_str().unwrap()]).code,
        0
    );
    assert_eq!(
        env.run(&["feeds", "import", &data("nvd-remediation.json")])
            .code,
        0
    );
    let r = env.run(&["--json", "match"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let vendor = "メディカル保守株式会社";
    let a1 = id_of(&env, "MD-0001", "CVE-2026-90001");
    let a2 = id_of(&env, "MD-0001", "CVE-2026-90002");
    let b1 = id_of(&env, "MD-0002", "CVE-2026-90001");
    let other = id_of(&env, "PC-0009", "CVE-2026-90001");

    // Another vendor's device cannot be in this vendor's inquiry.
    let r = env.run(&["--lang", "en", "inquiry", "open", vendor, &a1, &other]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("maintained by \"別会社\""),
        "{}",
        r.stderr
    );
    // 3 findings on 2 devices.
    let r = env.run(&["--json", "inquiry", "open", vendor, &a1, &a2, &b1]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let qid = r.json()["id"].as_i64().unwrap().to_string();
    for id in [&a1, &a2, &b1] {
        assert_eq!(state_of(&env, id)["state"], "asked_vendor");
    }

    // The 事業者確認依頼 sheet lists them.
    let sheet = env.path("依頼.xlsx");
    let r = env.run(&[
        "--json",
        "inquiry",
        "export",
        vendor,
        sheet.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["rows"], 3);
    let cells = read_sheet(&sheet);
    assert!(cells[0][0].starts_with("事業者確認依頼"));
    assert!(cells[1][0].contains(vendor));
    let header = cells.iter().position(|r| r[0] == "照会番号").unwrap();
    let headers: Vec<&str> = cells[header].iter().map(String::as_str).collect();
    let col = |h: &str| headers.iter().position(|x| *x == h).unwrap();
    let rows: Vec<Vec<String>> = cells[header + 1..].to_vec();
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().any(|r| r[col("管理番号")] == "MD-0002"
        && r[col("型番")] == "EN-20"
        && r[col("設置場所")] == "内視鏡室"));
    assert!(rows.iter().all(|r| r[col("照会番号")] == qid));

    // The vendor fills in the yellow columns (and its spreadsheet program saves the file anew).
    let answer = |finding: &str, verdict: &str, cond: &str| -> Vec<String> {
        let mut r = rows
            .iter()
            .find(|r| r[col("検出番号")] == finding)
            .unwrap()
            .clone();
        r.resize(headers.len(), String::new());
        r[col("回答区分")] = verdict.into();
        r[col("条件")] = cond.into();
        r[col("回答・備考")] = "次回定期保守で対応".into();
        r[col("回答日")] = "2026-11-20".into();
        r
    };
    let wrong = env.path("回答-誤り.xlsx");
    support::write_xlsx(
        &wrong,
        &headers,
        &[
            answer(&a1, "適用不可", ""),
            answer(&a2, "たぶん", ""),
            answer(&b1, "条件付き適用可", ""),
        ],
    );
    let r = env.run(&["--lang", "en", "inquiry", "import", wrong.to_str().unwrap()]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(r.stderr.contains("no answer was recorded"), "{}", r.stderr);
    assert!(
        r.stderr.contains("row 3:") && r.stderr.contains("row 4:"),
        "{}",
        r.stderr
    );
    let r = env.run(&["--json", "inquiry", "list"]);
    assert!(r.json()["inquiries"][0]["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["verdict"].is_null()));
    let unknown = env.path("回答-他.xlsx");
    let mut stray = answer(&a1, "適用可", "");
    stray[col("照会番号")] = "999".into();
    support::write_xlsx(&unknown, &headers, &[stray]);
    let r = env.run(&[
        "--lang",
        "en",
        "inquiry",
        "import",
        unknown.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("inquiry #999 is not an open inquiry"),
        "{}",
        r.stderr
    );

    // Vendor accounts answer only their own company's inquiries.
    let vpw = env.path("vpw");
    std::fs::write(&vpw, "vendor password of enough length\n").unwrap();
    for (name, company) in [("medical", vendor), ("other", "別会社")] {
        let r = env.run(&[
            "user",
            "add",
            name,
            "--role",
            "事業者",
            "--vendor",
            company,
            "--new-password-file",
            vpw.to_str().unwrap(),
        ]);
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
    let as_vendor = |name: &str, args: &[&str]| {
        let mut all = vec!["--lang", "en", "--user", name];
        all.extend(args);
        env.run_env(
            &all,
            &[("MAMORI_PASSWORD", "vendor password of enough length")],
        )
    };
    let good = env.path("回答.xlsx");
    support::write_xlsx(
        &good,
        &headers,
        &[
            answer(&a1, "適用不可", ""),
            answer(&a2, "適用可", ""),
            answer(&b1, "条件付き適用可", "装置停止中に当社が作業"),
        ],
    );
    let r = as_vendor("other", &["inquiry", "import", good.to_str().unwrap()]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("not to your company (別会社)"),
        "{}",
        r.stderr
    );
    // A vendor sees no ledger.
    assert_eq!(as_vendor("medical", &["ledger", "list"]).code, 1);
    let r = as_vendor(
        "medical",
        &["--json", "inquiry", "import", good.to_str().unwrap()],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["answered"], 3);
    assert_eq!(r.json()["completed"][0].to_string(), qid);
    // The vendor's letter is kept with its SHA-256; a changed copy is noticed.
    let letter = env.path("回答書.pdf");
    std::fs::write(&letter, b"%PDF-1.4 vendor letter written for this test").unwrap();
    let r = as_vendor(
        "medical",
        &[
            "--json",
            "inquiry",
            "attach",
            &qid,
            letter.to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let sha = {
        use sha2::{Digest, Sha256};
        Sha256::digest(std::fs::read(&letter).unwrap())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    assert_eq!(r.json()["sha256"], sha.as_str());
    assert_eq!(
        as_vendor(
            "other",
            &["inquiry", "attach", &qid, letter.to_str().unwrap()]
        )
        .code,
        1
    );
    let attachments = |env: &Env| {
        env.run(&["--json", "inquiry", "list"]).json()["inquiries"][0]["attachments"].clone()
    };
    assert_eq!(attachments(&env)[0]["intact"], true);
    assert_eq!(attachments(&env)[0]["name"], "回答書.pdf");
    std::fs::write(env.data().join("attachments").join(&sha), b"changed").unwrap();
    assert_eq!(attachments(&env)[0]["intact"], false);

    let shown = state_of(&env, &a1);
    let last = shown["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["reason_code"], "vendor_answer");
    assert_eq!(last["detail"]["verdict"], "not_applicable");

    // 適用不可 → 代替策, approved by another person.
    let pw = env.path("pw");
    std::fs::write(&pw, "planner password of enough length\n").unwrap();
    assert_eq!(
        env.run(&[
            "user",
            "add",
            "kikaku",
            "--role",
            "planner",
            "--new-password-file",
            pw.to_str().unwrap()
        ])
        .code,
        0
    );
    let r = env.run(&[
        "--json",
        "findings",
        "exception",
        "propose",
        &a1,
        "--kind",
        "代替策",
        "--measure",
        "ネットワーク分離",
        "--measure",
        "接続元制限",
        "--note",
        "検査室 VLAN、保守端末のみ許可",
        "--residual-risk",
        "低",
        "--review",
        "2099-03-31",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let exc = r.json()["id"].as_i64().unwrap().to_string();
    let r = env.run_env(
        &[
            "--user",
            "kikaku",
            "findings",
            "exception",
            "approve",
            &exc,
            "--reason",
            "隔離を確認",
        ],
        &[("MAMORI_PASSWORD", "planner password of enough length")],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(state_of(&env, &a1)["state"], "mitigated");

    // 適用可 → fix planned; the update is installed and recorded; the match confirms it.
    let r = env.run(&[
        "findings",
        "state",
        &a2,
        "--to",
        "適用予定",
        "--planned",
        "2099-01-15",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        env.run(&["ledger", "edit", "MD-0001", "--set", "version=1.6"])
            .code,
        0
    );
    assert_eq!(env.run(&["match"]).code, 0);
    let shown = state_of(&env, &a2);
    assert_eq!(shown["state"], "fixed");
    let last = shown["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["reason"], "fixed version detected");
    assert_eq!(last["actor"], "match");
    // 1.6 is still below 2.0: the 代替策 finding stays as approved.
    assert_eq!(state_of(&env, &a1)["state"], "mitigated");
    assert_eq!(env.run(&["audit", "verify"]).code, 0);
}
