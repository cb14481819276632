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
