//! The default-credential checks end to end, through `mamori`, against the real servers of
//! the loopback test network (`testnet/mod.rs`), once with every default left as shipped and
//! once with the defaults changed:
//!
//! - the 企画管理者's approval gates the checks (none, a narrower scope, outside its window:
//!   refused before any packet);
//! - exactly the default accounts are found — OpenSSH (a user with a catalogue password),
//!   vsftpd anonymous, nginx Basic, lighttpd Digest, snmpd `public`, Orthanc orthanc/orthanc, Xvnc without
//!   authentication, and the machine's MariaDB (root, empty password), PostgreSQL (trust),
//!   Redis (no password) and RabbitMQ (guest) — and the same Basic password on two sites is
//!   同一パスワードの使い回し疑い;
//! - attempts never exceed the limit, counted on the server side (sshd, vsftpd and nginx logs);
//! - an excluded device gets no attempt at all (its nginx log stays empty);
//! - no password appears in the output, the errors, or any file of the data directory.

mod support;
mod testnet;

use std::collections::BTreeSet;

use support::Env;
use testnet::{
    Accounts, TestNet, BASIC1, BASIC2, BASIC_DEFAULT_PASSWORD, DB, DIGEST, DIGEST_DEFAULT_PASSWORD,
    FTP, PACS, SNMP, SSH, SSH_DEFAULT_PASSWORD, SSH_USER, SSH_USER_LOCKED, VNC,
};

/// The test's own catalogue (the `--catalog` format): the sshd users' candidates and the
/// nginx sites' Basic account. The shipped catalogue covers the rest.
fn catalogue() -> String {
    let mut out = String::new();
    let mut entry = |id: &str,
                     vendor: &str,
                     product: &str,
                     protocol: &str,
                     user: &str,
                     pass: &str| {
        out.push_str(&format!(
            "[[entry]]\nid = \"{id}\"\nvendor = \"{vendor}\"\nproduct = \"{product}\"\ncategory = \"server-management\"\nprotocol = \"{protocol}\"\nusername = \"{user}\"\npassword = \"{pass}\"\nsource = \"mamori test fixture (tests/creds.rs)\"\n\n"
        ));
    };
    entry(
        "test-adm-1",
        "(各社)",
        "test appliance",
        "ssh",
        SSH_USER,
        "wrong-first",
    );
    entry(
        "test-adm-2",
        "(各社)",
        "test appliance",
        "ssh",
        SSH_USER,
        SSH_DEFAULT_PASSWORD,
    );
    for i in 1..=5 {
        entry(
            &format!("test-svc-{i}"),
            "(各社)",
            "test appliance",
            "ssh",
            SSH_USER_LOCKED,
            &format!("svc-candidate-{i}"),
        );
    }
    entry(
        "test-digest-appliance",
        "MamoriTest",
        "Digest appliance",
        "http-digest",
        "admin",
        DIGEST_DEFAULT_PASSWORD,
    );
    entry(
        "test-appliance-web",
        "MamoriTest",
        "Appliance",
        "http-basic",
        "admin",
        BASIC_DEFAULT_PASSWORD,
    );
    out
}

/// (check, address, port) of the open credential findings.
fn open_credential_findings(env: &Env) -> BTreeSet<(String, String)> {
    let list = env
        .run(&["--json", "findings", "list", "--category", "8.3"])
        .json();
    list["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| {
            let v = f["vuln"].as_str().unwrap();
            v.ends_with("default_credential")
                || v.ends_with("no_auth")
                || v.ends_with("reused_credential")
        })
        .map(|f| {
            (
                f["vuln"]
                    .as_str()
                    .unwrap()
                    .trim_start_matches("8.3:")
                    .to_string(),
                f["component_key"]
                    .as_str()
                    .unwrap()
                    .trim_start_matches("svc:")
                    .to_string(),
            )
        })
        .collect()
}

fn set(items: &[(&str, &str, &str)]) -> BTreeSet<(String, String)> {
    items
        .iter()
        .map(|(c, a, p)| (c.to_string(), format!("{a}:{p}")))
        .collect()
}

fn count(log: &str, needle: &str) -> usize {
    log.lines().filter(|l| l.contains(needle)).count()
}

#[test]
fn exactly_the_default_credentials_are_found_within_the_limits() {
    let missing = testnet::missing_programs();
    if !support::require(
        &format!(
            "the loopback test network ({})",
            missing.as_deref().unwrap_or("")
        ),
        missing.is_none(),
    ) {
        return;
    }
    for (name, port) in [
        ("MariaDB", 3306),
        ("PostgreSQL", 5432),
        ("Redis", 6379),
        ("RabbitMQ", 5672),
    ] {
        let up = std::net::TcpStream::connect(("127.0.0.1", port)).is_ok();
        if !support::require(&format!("{name} on 127.0.0.1:{port}"), up) {
            return;
        }
    }
    let env = Env::init();
    let mut outputs: Vec<String> = Vec::new();
    let mut run = |args: &[&str], now: &str| {
        let r = env.run_env(args, &[("MAMORI_NOW", now)]);
        outputs.push(r.stdout.clone());
        outputs.push(r.stderr.clone());
        r
    };
    let now = "2026-11-26 21:00";
    let ledger = env.path("ledger.csv");
    std::fs::write(
        &ledger,
        format!(
            "管理番号,機器名,機器種別,IPアドレス\n\
             APP-01,検査装置管理画面,IoT機器,{BASIC1}\n\
             APP-02,透析装置管理画面,IoT機器,{BASIC2}\n\
             SSH-01,部門サーバ,サーバ,{SSH}\n"
        ),
    )
    .unwrap();
    assert_eq!(
        run(&["ledger", "import", ledger.to_str().unwrap()], now).code,
        0
    );
    let cat = env.path("test-catalogue.toml");
    std::fs::write(&cat, catalogue()).unwrap();
    let scope = format!("{BASIC1}-{DIGEST},{SSH}-{SNMP},{VNC},{DB},{PACS}");
    let scan = [
        "--json",
        "scan",
        "run",
        "--scope",
        &scope,
        "--ports",
        "21,22,80,3306,5432,5672,5900,6379,8042,U:161",
        "--rate",
        "400",
        "--per-host",
        "4",
        "--creds",
        "--catalog",
        cat.to_str().unwrap(),
    ];

    // The catalogue reads, with the test file added to the shipped one.
    let summary = run(
        &[
            "--json",
            "creds",
            "catalog",
            "--catalog",
            cat.to_str().unwrap(),
        ],
        now,
    );
    assert_eq!(summary.code, 0, "{}", summary.stderr);
    assert_eq!(summary.json()["without_source"], 0);

    let net = TestNet::with_accounts(Accounts::Defaults);

    // No approval: refused, and nothing was scanned.
    let r = run(&scan, now);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("creds approve"), "{}", r.stderr);
    // An approval of a narrower scope: refused, naming what lies outside.
    let narrow = run(
        &["--json", "creds", "approve", "--scope", "127.42.0.0/24"],
        now,
    );
    assert_eq!(narrow.code, 0, "{}", narrow.stderr);
    let r = run(&scan, now);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("127.0.0.1"), "{}", r.stderr);
    let id = narrow.json()["id"].to_string();
    assert_eq!(run(&["creds", "revoke", &id], now).code, 0);
    // An approval whose window is not now (weekday mornings; now is Thursday 21:00).
    let windowed = run(
        &[
            "--json",
            "creds",
            "approve",
            "--scope",
            &scope,
            "--window",
            "mon-fri 06:00-08:00",
        ],
        now,
    );
    assert_eq!(windowed.code, 0);
    let r = run(&scan, now);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("window"), "{}", r.stderr);
    assert_eq!(
        run(&["--json", "scan", "list"], now)
            .json()
            .as_array()
            .unwrap()
            .len(),
        0,
        "a refused run scans nothing"
    );
    let id = windowed.json()["id"].to_string();
    assert_eq!(run(&["creds", "revoke", &id], now).code, 0);
    // The approval in force: 3 attempts per account, 100 ms apart, tonight's window.
    let approved = run(
        &[
            "creds",
            "approve",
            "--scope",
            &scope,
            "--window",
            "mon-fri 19:00-23:00",
            "--max-attempts",
            "3",
            "--delay-ms",
            "100",
            "--note",
            "年1回の定期確認",
        ],
        now,
    );
    assert_eq!(approved.code, 0, "{}", approved.stderr);
    // APP-02 is never tried.
    assert_eq!(
        run(
            &["creds", "exclude", "APP-02", "--note", "透析中は触らない"],
            now
        )
        .code,
        0
    );

    let r = run(&scan, now);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let creds = &r.json()["creds"];
    assert!(creds["max_per_account"].as_u64().unwrap() <= 3, "{creds}");
    assert_eq!(creds["excluded"], 1, "{creds}");
    let found = open_credential_findings(&env);
    let defaults = [
        ("default_credential", FTP, "21/tcp"),
        ("default_credential", SSH, "22/tcp"),
        ("default_credential", BASIC1, "80/tcp"),
        ("default_credential", DIGEST, "80/tcp"),
        ("default_credential", PACS, "8042/tcp"),
        ("default_credential", SNMP, "161/udp"),
        ("default_credential", DB, "3306/tcp"),
        ("default_credential", DB, "5672/tcp"),
        ("no_auth", DB, "5432/tcp"),
        ("no_auth", DB, "6379/tcp"),
        ("no_auth", VNC, "5900/tcp"),
    ];
    assert_eq!(found, set(&defaults), "first run");

    // Counted on the servers: sshd saw 3 tries for the user with no right candidate (the
    // limit), 1 wrong and 1 right one for the other; nobody knocked on the excluded site.
    let sshd = net.log("sshd.log");
    assert_eq!(
        count(&sshd, &format!("Failed password for {SSH_USER_LOCKED} ")),
        3,
        "{sshd}"
    );
    assert_eq!(
        count(&sshd, &format!("Failed password for {SSH_USER} ")),
        1,
        "{sshd}"
    );
    assert_eq!(
        count(&sshd, &format!("Accepted password for {SSH_USER} ")),
        1,
        "{sshd}"
    );
    for user in ["root", "admin"] {
        assert!(
            count(&sshd, &format!("invalid user {user} ")) <= 3,
            "{sshd}"
        );
    }
    let ftp = net.log("vsftpd-protocol.log");
    for user in ["anonymous", "ftp"] {
        let n = count(&ftp, &format!("\"USER {user}\""));
        assert!((1..=3).contains(&n), "{user}: {n}\n{ftp}");
    }
    // lighttpd writes its access log about once a second: wait for it.
    let start = std::time::Instant::now();
    let digest = loop {
        let log = net.log("digest-access.log");
        if log.contains(" admin ") || start.elapsed() > std::time::Duration::from_secs(10) {
            break log;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    assert!((1..=3).contains(&count(&digest, " admin ")), "{digest}");
    let basic1 = net.log("basic1-access.log");
    assert!((1..=3).contains(&count(&basic1, " admin ")), "{basic1}");
    // The excluded site saw the scan's one request without credentials, nothing else.
    let basic2 = net.log("basic2-access.log");
    assert!(
        !basic2.is_empty() && basic2.lines().all(|l| l.contains(" - ")),
        "the excluded site was tried: {basic2}"
    );

    // The 企画管理者 had attested SSH-01's password changed; the check says otherwise.
    assert_eq!(
        run(&["attest", "set", "SSH-01", "default_password", "yes"], now).code,
        0
    );
    let states = run(&["--json", "attest", "list", "SSH-01"], now).json();
    let item = states
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["item"] == "default_password")
        .unwrap();
    assert_eq!(item["state"], "contradicted", "{item}");
    assert_eq!(item["contradicted_by"].as_array().unwrap().len(), 1);

    // APP-02 back in: the same Basic password on both sites is 使い回し疑い on each.
    assert_eq!(run(&["creds", "include", "APP-02"], now).code, 0);
    let r = run(&scan, now);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut second: Vec<(&str, &str, &str)> = defaults.to_vec();
    second.push(("default_credential", BASIC2, "80/tcp"));
    second.push(("reused_credential", BASIC1, "80/tcp"));
    second.push(("reused_credential", BASIC2, "80/tcp"));
    assert_eq!(open_credential_findings(&env), set(&second), "second run");
    let text = run(
        &["--lang", "ja", "findings", "list", "--category", "8.3"],
        now,
    );
    for label in ["出荷時パスワード未変更", "認証なし", "同一パスワード"] {
        assert!(text.stdout.contains(label), "{label}: {}", text.stdout);
    }
    drop(net);

    // The defaults changed (and VNC stopped): only the machine's own databases remain.
    let net = TestNet::with_accounts(Accounts::Changed);
    let r = run(&scan, now);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let machine = [
        ("default_credential", DB, "3306/tcp"),
        ("default_credential", DB, "5672/tcp"),
        ("no_auth", DB, "5432/tcp"),
        ("no_auth", DB, "6379/tcp"),
    ];
    assert_eq!(open_credential_findings(&env), set(&machine), "changed");
    let sshd = net.log("sshd.log");
    assert_eq!(
        count(&sshd, &format!("Accepted password for {SSH_USER} ")),
        0
    );
    assert!(count(&sshd, &format!("Failed password for {SSH_USER} ")) <= 3);
    drop(net);

    // Every run is in the audit log, with the entries that worked and no password.
    let export = env.path("audit.jsonl");
    assert_eq!(
        run(&["audit", "export", export.to_str().unwrap()], now).code,
        0
    );
    let audit = std::fs::read_to_string(&export).unwrap();
    for action in [
        "creds.approve",
        "creds.revoke",
        "creds.exclude",
        "creds.include",
        "creds.run",
    ] {
        assert!(audit.contains(action), "{action}");
    }
    assert!(audit.contains("test-appliance-web"));
    outputs.push(audit);

    // No password anywhere: what was printed, and every byte the data directory holds.
    let secrets = [
        SSH_DEFAULT_PASSWORD,
        BASIC_DEFAULT_PASSWORD,
        DIGEST_DEFAULT_PASSWORD,
    ];
    for out in &outputs {
        for s in secrets {
            assert!(!out.contains(s), "a password was printed: {out}");
        }
    }
    let mut files = vec![env.data()];
    let mut seen = 0;
    while let Some(p) = files.pop() {
        if p.is_dir() {
            files.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        let bytes = std::fs::read(&p).unwrap();
        seen += 1;
        for s in secrets {
            assert!(
                !bytes.windows(s.len()).any(|w| w == s.as_bytes()),
                "{s} is stored in {}",
                p.display()
            );
        }
    }
    assert!(seen > 0);
}
