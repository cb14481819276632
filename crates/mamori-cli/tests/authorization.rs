//! Who may do what, through the command line as each role: every role × every action that
//! exists, against a table written here (the specification, docs/roles.md) — not read from
//! the code under test. Also logging in: wrong passwords, disabled users, one-time passwords.

mod support;

use support::Env;

const PASSWORD: &str = "correct horse battery staple";

/// A role's user name.
fn user(role: &str) -> String {
    format!("u_{role}")
}

const ROLES: [&str; 6] = [
    "administrator",
    "operator",
    "planner",
    "security_manager",
    "auditor",
    "vendor",
];

/// One action: its name, the command (`{role}` is replaced by the role, for values that must
/// be unique), and whether each role in [`ROLES`] order may do it.
struct Action {
    name: &'static str,
    args: &'static [&'static str],
    allowed: [bool; 6],
}

const Y: bool = true;
const N: bool = false;

#[rustfmt::skip]
fn actions() -> Vec<Action> {
    // allowed: [administrator, operator, planner, security_manager, auditor, vendor]
    vec![
        Action { name: "view the ledger", args: &["ledger", "list"], allowed: [Y, Y, Y, Y, Y, N] },
        Action { name: "show a device", args: &["ledger", "show", "PC-0001"], allowed: [Y, Y, Y, Y, Y, N] },
        Action { name: "export the ledger", args: &["ledger", "export", "{dir}/out-{role}.csv"], allowed: [Y, Y, Y, Y, Y, N] },
        Action { name: "import the ledger", args: &["ledger", "import", "{dir}/ledger.csv"], allowed: [N, Y, Y, N, N, N] },
        Action { name: "add a device", args: &["ledger", "add", "PC-{role}", "--name", "端末", "--kind", "PC"], allowed: [N, Y, Y, N, N, N] },
        Action { name: "edit a device", args: &["ledger", "edit", "PC-0001", "--set", "location=2F"], allowed: [N, Y, Y, N, N, N] },
        Action { name: "set a CPE", args: &["ledger", "cpe", "set", "PC-0001", "cpe:2.3:a:mamori_test:viewer:1.0:*:*:*:*:*:*:*"], allowed: [N, Y, Y, N, N, N] },
        Action { name: "import an SBOM", args: &["sbom", "import", "PC-0001", "{dir}/sbom.cdx.json"], allowed: [N, Y, Y, N, N, N] },
        Action { name: "import feeds", args: &["feeds", "import", "{dir}/nvd.json"], allowed: [Y, Y, N, N, N, N] },
        Action { name: "see feed status", args: &["feeds", "status"], allowed: [Y, Y, Y, Y, Y, N] },
        Action { name: "run matching", args: &["match"], allowed: [N, Y, N, N, N, N] },
        Action { name: "list findings", args: &["findings", "list"], allowed: [Y, Y, Y, Y, Y, N] },
        Action { name: "show a finding", args: &["findings", "show", "1"], allowed: [Y, Y, Y, Y, Y, N] },
        Action { name: "triage findings", args: &["findings", "state", "--cve", "CVE-2026-90001", "--to", "investigating"], allowed: [N, Y, Y, N, N, N] },
        Action { name: "propose an exception", args: &["findings", "exception", "propose", "--cve", "CVE-2026-90001", "--kind", "risk_accepted", "--residual-risk", "low", "--review", "2099-01-31"], allowed: [N, Y, Y, N, N, N] },
        Action { name: "list exceptions", args: &["findings", "exception", "list"], allowed: [Y, Y, Y, Y, Y, N] },
        Action { name: "change a setting", args: &["config", "set", "workflow.self_approval", "false"], allowed: [Y, N, N, N, N, N] },
        Action { name: "list inquiries", args: &["inquiry", "list"], allowed: [Y, Y, Y, Y, Y, N] },
        Action { name: "reject an exception", args: &["findings", "exception", "reject", "{ex}", "--reason", "不十分"], allowed: [N, N, Y, Y, N, N] },
        Action { name: "open an inquiry", args: &["inquiry", "open", "保守会社", "--asset", "PC-0001"], allowed: [N, Y, Y, N, N, N] },
        Action { name: "export the inquiry sheet", args: &["inquiry", "export", "保守会社", "{dir}/sheet-{role}.xlsx"], allowed: [N, Y, Y, N, N, N] },
        Action { name: "import vendor answers", args: &["inquiry", "import", "{dir}/answers-{role}.xlsx"], allowed: [N, Y, Y, N, N, Y] },
        Action { name: "attach a file to an inquiry", args: &["inquiry", "attach", "1", "{dir}/ledger.csv"], allowed: [N, Y, Y, N, N, Y] },
        Action { name: "export VEX", args: &["vex", "export", "{dir}/vex-{role}.json", "--asset", "PC-0001"], allowed: [N, Y, Y, Y, Y, N] },
        Action { name: "take stock", args: &["ledger", "stocktake", "--date", "2026-11-20", "--found", "PC-0001"], allowed: [N, Y, Y, N, N, N] },
        Action { name: "read the audit log", args: &["audit", "tail"], allowed: [Y, N, N, Y, Y, N] },
        Action { name: "verify the audit log", args: &["audit", "verify"], allowed: [Y, N, N, Y, Y, N] },
        Action { name: "export the audit log", args: &["audit", "export", "{dir}/audit-{role}.jsonl"], allowed: [Y, N, N, Y, Y, N] },
        Action { name: "list users", args: &["user", "list"], allowed: [Y, N, N, N, N, N] },
        Action { name: "add a user", args: &["user", "add", "new_{role}", "--role", "auditor"], allowed: [Y, N, N, N, N, N] },
        Action { name: "change roles", args: &["user", "role", "new_administrator", "--role", "auditor,planner"], allowed: [Y, N, N, N, N, N] },
        Action { name: "reset a password", args: &["user", "passwd", "new_administrator"], allowed: [Y, N, N, N, N, N] },
        Action { name: "disable a user", args: &["user", "disable", "new_administrator"], allowed: [Y, N, N, N, N, N] },
        Action { name: "enable a user", args: &["user", "enable", "new_administrator"], allowed: [Y, N, N, N, N, N] },
        Action { name: "retire a device", args: &["ledger", "retire", "PC-{role}"], allowed: [N, Y, Y, N, N, N] },
        // 127.42.3.1 runs nothing; port 23 is closed on it.
        Action { name: "run a scan", args: &["scan", "run", "--scope", "127.42.3.1", "--ports", "23", "--rate", "0"], allowed: [N, Y, Y, N, N, N] },
        Action { name: "import nmap results", args: &["scan", "import-nmap", "{dir}/nmap.xml"], allowed: [N, Y, Y, N, N, N] },
        Action { name: "list scans", args: &["scan", "list"], allowed: [Y, Y, Y, Y, Y, N] },
        Action { name: "allow a service", args: &["scan", "allow", "PC-0001", "443"], allowed: [N, Y, Y, N, N, N] },
        Action { name: "list allowed services", args: &["scan", "allowed"], allowed: [Y, Y, Y, Y, Y, N] },
        Action { name: "set a schedule", args: &["schedule", "set", "外来-{role}", "--weekly", "mon-fri 08:30-17:30"], allowed: [N, Y, Y, N, N, N] },
        Action { name: "list schedules", args: &["schedule", "list"], allowed: [Y, Y, Y, Y, Y, N] },
        Action { name: "list holidays", args: &["calendar", "holidays", "--year", "2026"], allowed: [Y, Y, Y, Y, Y, N] },
        Action { name: "run a watch round", args: &["watch", "--once"], allowed: [N, Y, Y, N, N, N] },
        Action { name: "report hours", args: &["hours", "report", "--from", "2026-11-26"], allowed: [Y, Y, Y, Y, Y, N] },
        Action { name: "approve default-credential checks", args: &["creds", "approve", "--scope", "127.42.3.0/24"], allowed: [N, N, Y, N, N, N] },
        Action { name: "list approvals", args: &["creds", "approvals"], allowed: [Y, Y, Y, Y, Y, N] },
        Action { name: "read the credential catalogue", args: &["creds", "catalog"], allowed: [Y, Y, Y, Y, Y, N] },
        Action { name: "exclude a device from credential checks", args: &["creds", "exclude", "PC-0001"], allowed: [N, Y, Y, N, N, N] },
        Action { name: "attest an initial setting", args: &["attest", "set", "PC-0001", "boot_password", "yes"], allowed: [N, N, Y, N, N, N] },
        Action { name: "list attestations", args: &["attest", "list"], allowed: [Y, Y, Y, Y, Y, N] },
        Action { name: "list what is due", args: &["attest", "due"], allowed: [Y, Y, Y, Y, Y, N] },
        Action { name: "make a collector key", args: &["collect", "keygen", "--name", "k-{role}", "--out", "{dir}/k-{role}"], allowed: [Y, N, N, N, N, N] },
        Action { name: "list a device's host reports", args: &["collect", "show", "PC-0001"], allowed: [Y, Y, Y, Y, Y, N] },
        Action { name: "make one's own API token", args: &["token", "create", "t-{role}"], allowed: [Y, Y, Y, Y, Y, Y] },
        Action { name: "list API tokens", args: &["token", "list"], allowed: [Y, Y, Y, Y, Y, Y] },
    ]
}

fn setup() -> Env {
    let env = Env::init();
    let pw = env.path("pw");
    std::fs::write(&pw, format!("{PASSWORD}\n")).unwrap();
    for role in ROLES {
        let name = user(role);
        let mut args = vec![
            "user",
            "add",
            &name,
            "--role",
            role,
            "--new-password-file",
            pw.to_str().unwrap(),
        ];
        // A vendor user belongs to a company.
        if role == "vendor" {
            args.extend(["--vendor", "保守会社"]);
        }
        let r = env.run(&args);
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
    std::fs::write(
        env.path("ledger.csv"),
        "管理番号,機器名,機器種別,保守事業者,バージョン\nPC-0001,外来PC1,PC,保守会社,1.0\n",
    )
    .unwrap();
    let r = env.run(&["ledger", "import", env.path("ledger.csv").to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    std::fs::write(
        env.path("nmap.xml"),
        r#"<?xml version="1.0"?><nmaprun scanner="nmap" args="nmap -sT 127.0.0.1" start="1700000000" version="7.93">
<host><status state="up"/><address addr="127.0.0.1" addrtype="ipv4"/><ports>
<port protocol="tcp" portid="22"><state state="open"/><service name="ssh"/></port></ports></host>
<runstats><finished time="1700000001"/></runstats></nmaprun>"#,
    )
    .unwrap();
    std::fs::write(
        env.path("sbom.cdx.json"),
        r#"{"bomFormat":"CycloneDX","specVersion":"1.5","version":1,"components":[
            {"type":"library","name":"viewer","version":"1.0","cpe":"cpe:2.3:a:mamori_test:viewer:1.0:*:*:*:*:*:*:*"}]}"#,
    )
    .unwrap();
    // The answers each role imports: the operator answers inquiry #1's first finding, the
    // vendor its second, the planner inquiry #2's first (the inquiries the operator and the
    // planner open, each for PC-0001's two findings). The refused roles never get to read one.
    let headers = [
        "照会番号",
        "検出番号",
        "回答区分",
        "条件",
        "回答・備考",
        "回答日",
    ];
    for (role, inquiry, finding) in [
        ("operator", "1", "1"),
        ("vendor", "1", "2"),
        ("planner", "2", "1"),
        ("administrator", "1", "1"),
        ("security_manager", "1", "1"),
        ("auditor", "1", "1"),
    ] {
        support::write_xlsx(
            &env.path(&format!("answers-{role}.xlsx")),
            &headers,
            &[vec![
                inquiry.into(),
                finding.into(),
                "適用可".into(),
                String::new(),
                "次回保守で".into(),
                "2026-11-20".into(),
            ]],
        );
    }
    std::fs::copy(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/nvd-remediation.json"),
        env.path("nvd.json"),
    )
    .unwrap();
    env
}

#[test]
fn every_role_may_do_what_the_table_says_and_nothing_else() {
    let env = setup();
    let dir = env.dir.path().to_str().unwrap().to_string();
    let mut checked = 0;
    for action in actions() {
        for (i, role) in ROLES.iter().enumerate() {
            let args: Vec<String> = action
                .args
                .iter()
                .map(|a| {
                    // The exception each approving role rejects: the one the operator proposed
                    // (#1) for the planner, the planner's (#2) for the security manager.
                    let ex = if *role == "security_manager" {
                        "2"
                    } else {
                        "1"
                    };
                    a.replace("{role}", role)
                        .replace("{dir}", &dir)
                        .replace("{ex}", ex)
                })
                .collect();
            let mut all = vec![
                "--lang".to_string(),
                "en".into(),
                "--user".into(),
                user(role),
            ];
            all.extend(args);
            let all: Vec<&str> = all.iter().map(String::as_str).collect();
            let r = env.run_env(&all, &[("MAMORI_PASSWORD", PASSWORD)]);
            if action.allowed[i] {
                assert_eq!(
                    r.code, 0,
                    "{role} should be able to {}: {}",
                    action.name, r.stderr
                );
            } else {
                assert_eq!(
                    r.code, 1,
                    "{role} should not be able to {}: {}",
                    action.name, r.stdout
                );
                assert!(
                    r.stderr.contains(&format!("u_{role} may not")),
                    "{role} / {}: {}",
                    action.name,
                    r.stderr
                );
            }
            checked += 1;
        }
    }
    assert_eq!(checked, actions().len() * ROLES.len());
    // A refusal changes nothing: the devices the refused roles tried to add are absent.
    let r = env.run(&["--json", "ledger", "list"]);
    let ids: Vec<String> = r.json()["assets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["asset_id"].as_str().unwrap().to_string())
        .collect();
    assert!(ids.contains(&"PC-operator".to_string()) && ids.contains(&"PC-planner".to_string()));
    for role in ["administrator", "security_manager", "auditor", "vendor"] {
        assert!(!ids.contains(&format!("PC-{role}")), "{ids:?}");
    }
}

#[test]
fn logins_fail_alike_are_audited_and_one_time_passwords_must_be_changed() {
    let env = setup();
    let as_user = |user: &str, password: &str, args: &[&str]| {
        let mut all = vec!["--lang", "en", "--user", user];
        all.extend(args);
        env.run_env(&all, &[("MAMORI_PASSWORD", password)])
    };
    // Wrong password, unknown user, disabled user: the same message.
    let wrong = as_user("u_operator", "not the password at all", &["ledger", "list"]);
    let unknown = as_user("nobody", PASSWORD, &["ledger", "list"]);
    assert_eq!(env.run(&["user", "disable", "u_planner"]).code, 0);
    let disabled = as_user("u_planner", PASSWORD, &["ledger", "list"]);
    for r in [&wrong, &unknown, &disabled] {
        assert_eq!(r.code, 1);
        assert!(r.stderr.contains("login failed"), "{}", r.stderr);
    }
    // No password given: told how to give one.
    let r = env.run(&["--lang", "en", "--user", "u_operator", "ledger", "list"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("MAMORI_PASSWORD"), "{}", r.stderr);

    // A one-time password allows only changing it.
    let r = env.run(&["--json", "user", "add", "nurse", "--role", "operator"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let one_time = r.json()["one_time_password"].as_str().unwrap().to_string();
    let r = as_user("nurse", &one_time, &["ledger", "list"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("one-time password"), "{}", r.stderr);
    let short = env.path("short");
    std::fs::write(&short, "short\n").unwrap();
    let r = as_user(
        "nurse",
        &one_time,
        &[
            "user",
            "passwd",
            "nurse",
            "--new-password-file",
            short.to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 1, "a short password is refused");
    let new = env.path("new");
    std::fs::write(&new, "a much longer new passphrase\n").unwrap();
    let r = as_user(
        "nurse",
        &one_time,
        &[
            "user",
            "passwd",
            "nurse",
            "--new-password-file",
            new.to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        as_user("nurse", "a much longer new passphrase", &["ledger", "list"]).code,
        0
    );
    assert_eq!(as_user("nurse", &one_time, &["ledger", "list"]).code, 1);

    // The last administrator stays one.
    let r = env.run(&[
        "--lang", "en", "user", "role", "admin", "--role", "operator",
    ]);
    assert_eq!(
        r.code, 0,
        "u_administrator is another administrator: {}",
        r.stderr
    );
    let r = env.run(&["--lang", "en", "user", "disable", "u_administrator"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("last enabled administrator"),
        "{}",
        r.stderr
    );

    // The log names every attempt and change; no password appears in it.
    let r = env.run(&["--json", "audit", "tail", "--limit", "200"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let log = r.stdout.clone();
    let entries = r.json()["entries"].as_array().unwrap().clone();
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for a in [
        "user.add",
        "user.login",
        "user.login_failed",
        "user.disable",
        "user.password",
        "user.roles",
    ] {
        assert!(actions.contains(&a), "{a}: {actions:?}");
    }
    for secret in [
        PASSWORD,
        one_time.as_str(),
        "a much longer new passphrase",
        "not the password at all",
    ] {
        assert!(!log.contains(secret), "a password is in the audit log");
    }
    assert_eq!(env.run(&["audit", "verify"]).code, 0);
}

#[test]
fn only_approvers_approve_and_never_their_own_proposal() {
    let env = setup();
    assert_eq!(
        env.run(&[
            "ledger",
            "cpe",
            "set",
            "PC-0001",
            "cpe:2.3:a:mamori_test:viewer:1.0:*:*:*:*:*:*:*"
        ])
        .code,
        0
    );
    assert_eq!(
        env.run(&["feeds", "import", env.path("nvd.json").to_str().unwrap()])
            .code,
        0
    );
    assert_eq!(env.run(&["match"]).code, 0);
    let propose = |as_user: Option<&str>| -> String {
        let mut all = vec!["--json", "--lang", "en"];
        if let Some(u) = as_user {
            all.extend(["--user", u]);
        }
        all.extend([
            "findings",
            "exception",
            "propose",
            "--cve",
            "CVE-2026-90001",
            "--kind",
            "代替策",
            "--measure",
            "接続元制限",
            "--measure",
            "monitoring",
            "--residual-risk",
            "低",
            "--review",
            "2099-01-31",
        ]);
        let r = env.run_env(&all, &[("MAMORI_PASSWORD", PASSWORD)]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        r.json()["id"].as_i64().unwrap().to_string()
    };
    // Proposed by the local session; each role tries to approve a fresh one.
    let allowed = [false, false, true, true, false, false];
    for (role, may) in ROLES.iter().zip(allowed) {
        let id = propose(None);
        let r = env.run_env(
            &[
                "--lang",
                "en",
                "--user",
                &user(role),
                "findings",
                "exception",
                "approve",
                &id,
            ],
            &[("MAMORI_PASSWORD", PASSWORD)],
        );
        if may {
            assert_eq!(r.code, 0, "{role}: {}", r.stderr);
            // Reopened, so that the next role has something to decide.
            let r = env.run(&[
                "findings",
                "state",
                "--cve",
                "CVE-2026-90001",
                "--to",
                "investigating",
            ]);
            assert_eq!(r.code, 0, "{}", r.stderr);
        } else {
            assert_eq!(r.code, 1, "{role}");
            assert!(r.stderr.contains("may not"), "{role}: {}", r.stderr);
        }
    }
    // A planner's own proposal: not by the planner, yes by the security manager.
    let id = propose(Some("u_planner"));
    let r = env.run_env(
        &[
            "--lang",
            "en",
            "--user",
            "u_planner",
            "findings",
            "exception",
            "approve",
            &id,
        ],
        &[("MAMORI_PASSWORD", PASSWORD)],
    );
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("separation of duties"), "{}", r.stderr);
    let r = env.run_env(
        &[
            "--json",
            "--user",
            "u_security_manager",
            "findings",
            "exception",
            "approve",
            &id,
            "--reason",
            "承認",
        ],
        &[("MAMORI_PASSWORD", PASSWORD)],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["decided_by"], "u_security_manager");
    let r = env.run(&["--json", "findings", "list", "--state", "代替策"]);
    assert_eq!(r.json()["count"], 1, "{}", r.stdout);
    // The local session (one person) needs the clinic's setting to approve its own.
    let r = env.run(&[
        "findings",
        "state",
        "--cve",
        "CVE-2026-90001",
        "--to",
        "investigating",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let id = propose(None);
    let r = env.run(&["--lang", "en", "findings", "exception", "approve", &id]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("workflow.self_approval"), "{}", r.stderr);
    assert_eq!(
        env.run(&["config", "set", "workflow.self_approval", "true"])
            .code,
        0
    );
    let r = env.run(&["findings", "exception", "approve", &id]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}
