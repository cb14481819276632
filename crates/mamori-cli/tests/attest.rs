//! 企画管理者の確認 (attestations) through `mamori attest`: recording with evidence and an
//! attached file, the ledger columns following, what is due (never attested, いいえ, expired),
//! coverage per department and kind, and bad input refused with the field named.

mod support;

use support::Env;

fn states(env: &Env, now: &str, args: &[&str]) -> Vec<serde_json::Value> {
    let mut all = vec!["--json", "attest"];
    all.extend_from_slice(args);
    let r = env.run_env(&all, &[("MAMORI_NOW", now)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    r.json().as_array().unwrap().clone()
}

#[test]
fn attestations_keep_evidence_drive_the_ledger_and_fall_due() {
    let env = Env::init();
    let csv = env.path("ledger.csv");
    std::fs::write(
        &csv,
        "管理番号,機器名,機器種別,部署,起動時パスワード,出荷時パスワード変更\n\
         PC-1,受付PC,端末PC,医事課,未設定,\n\
         PC-2,外来PC,端末PC,医事課,,\n\
         SV-1,電子カルテサーバ,サーバ,情報システム室,,\n",
    )
    .unwrap();
    assert_eq!(
        env.run(&["ledger", "import", csv.to_str().unwrap()]).code,
        0
    );
    let now = "2026-11-26 10:00";

    // Nothing attested: every item of every device is due.
    let due = states(&env, now, &["due"]);
    assert_eq!(due.len(), 3 * 5);
    assert!(due.iter().all(|s| s["state"] == "missing"));

    // A start-up password confirmed with a photo: the ledger says 設定済 now.
    let photo = env.path("bios.jpg");
    std::fs::write(&photo, b"\xff\xd8\xff\xe0 a photo of the BIOS screen").unwrap();
    let r = env.run_env(
        &[
            "--lang",
            "ja",
            "attest",
            "set",
            "PC-1",
            "起動時パスワード",
            "はい",
            "--evidence",
            "BIOS画面で確認",
            "--attach",
            photo.to_str().unwrap(),
        ],
        &[("MAMORI_NOW", now)],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("起動時パスワード設定"), "{}", r.stdout);
    let pc1 = env.run(&["--json", "ledger", "show", "PC-1"]).json();
    assert_eq!(pc1["asset"]["boot_password"], "set");
    // The file is kept under its SHA-256.
    let kept = std::fs::read_dir(env.data().join("attachments"))
        .unwrap()
        .count();
    assert_eq!(kept, 1);

    // The device's password changed but the server software's admin ID not: 未変更.
    for (item, value) in [("default_password", "yes"), ("server_admin", "no")] {
        let r = env.run_env(
            &[
                "attest",
                "set",
                "SV-1",
                item,
                value,
                "--interval-days",
                "30",
            ],
            &[("MAMORI_NOW", now)],
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
    let sv1 = env.run(&["--json", "ledger", "show", "SV-1"]).json();
    assert_eq!(sv1["asset"]["default_password_changed"], "not_changed");
    // Changed later: 変更済.
    assert_eq!(
        env.run_env(
            &["attest", "set", "SV-1", "server_admin", "yes"],
            &[("MAMORI_NOW", "2026-11-26 11:00")]
        )
        .code,
        0
    );
    let sv1 = env.run(&["--json", "ledger", "show", "SV-1"]).json();
    assert_eq!(sv1["asset"]["default_password_changed"], "changed");

    // Current states: SV-1's admin ID item is ok now, its history keeps the いいえ.
    let sv1_states = states(&env, now, &["list", "SV-1"]);
    let admin = sv1_states
        .iter()
        .find(|s| s["item"] == "server_admin")
        .unwrap();
    assert_eq!(admin["state"], "ok");
    let history = env
        .run(&["--json", "attest", "list", "SV-1", "--history"])
        .json();
    assert_eq!(history.as_array().unwrap().len(), 3);

    // 40 days on, the 30-day attestation of SV-1's device password has expired.
    let later = "2027-01-05 10:00";
    let due = states(&env, later, &["due", "--within-days", "0"]);
    let expired: Vec<_> = due.iter().filter(|s| s["state"] == "expired").collect();
    assert_eq!(expired.len(), 1, "{due:?}");
    assert_eq!(expired[0]["asset_id"], "SV-1");
    assert_eq!(expired[0]["item"], "default_password");

    // Coverage: 医事課 has 2 devices, 1 with the start-up password confirmed.
    let cov = states(&env, now, &["coverage", "--by", "department"]);
    let clerk = cov.iter().find(|r| r["group"] == "医事課").unwrap();
    assert_eq!(clerk["devices"], 2);
    assert_eq!(clerk["confirmed"]["boot_password"], 1);
    let by_kind = states(&env, now, &["coverage", "--by", "kind"]);
    assert_eq!(by_kind.len(), 2);

    // Bad input: the item, the answer, the device, the interval — exit 1, nothing recorded.
    for (args, needle) in [
        (
            vec!["attest", "set", "PC-2", "firewall", "yes"],
            "boot_password",
        ),
        (
            vec!["attest", "set", "PC-2", "boot_password", "maybe"],
            "not_applicable",
        ),
        (
            vec!["attest", "set", "PC-404", "boot_password", "yes"],
            "PC-404",
        ),
        (
            vec![
                "attest",
                "set",
                "PC-2",
                "boot_password",
                "yes",
                "--interval-days",
                "0",
            ],
            "interval",
        ),
        (
            vec![
                "attest",
                "set",
                "PC-2",
                "boot_password",
                "yes",
                "--attach",
                "/nonexistent/x.jpg",
            ],
            "x.jpg",
        ),
    ] {
        let mut all = vec!["--lang", "en"];
        all.extend(args);
        let r = env.run(&all);
        assert_eq!(r.code, 1, "{all:?}: {}", r.stderr);
        assert!(r.stderr.contains(needle), "{all:?}: {}", r.stderr);
    }
    let all = env.run(&["--json", "attest", "list", "--history"]).json();
    assert_eq!(all.as_array().unwrap().len(), 4);

    // Every attestation and the ledger change it made are in the audit log.
    let export = env.path("audit.jsonl");
    assert_eq!(
        env.run(&["audit", "export", export.to_str().unwrap()]).code,
        0
    );
    let audit = std::fs::read_to_string(&export).unwrap();
    assert_eq!(audit.matches("\"attest.set\"").count(), 4);
    assert!(audit.contains("\"attestation\""));
}
