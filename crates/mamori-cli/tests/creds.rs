//! The default-credential checkers (issue 7, first part) against the real servers of the
//! loopback test network (`testnet/mod.rs`): vsftpd with anonymous login on, Orthanc with
//! its shipped orthanc/orthanc account, snmpd with community `public`, Redis without
//! authentication, and nginx and OpenSSH, which must give nothing. The checks run through the
//! library on what a real `mamori scan` found; no password appears in what they return.

mod support;
mod testnet;

use std::collections::BTreeSet;

use mamori_core::scan::HostResult;
use mamori_net::catalogue::{parse_toml, SHIPPED};
use mamori_net::creds::{check, CredPolicy};
use support::Env;
use testnet::{TestNet, DB, FTP, PACS, SNMP, SSH, WEB};

#[test]
fn exactly_the_default_credentials_are_found() {
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
    let _net = TestNet::start();
    let env = Env::init();
    let scope = format!("{WEB}-13,{DB},{PACS}");
    let r = env.run(&[
        "--json",
        "scan",
        "run",
        "--scope",
        &scope,
        "--ports",
        "21,22,80,443,6379,8042,U:161",
        "--rate",
        "400",
        "--per-host",
        "4",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let id = r.json()["id"].to_string();
    let show = env.run(&["--json", "scan", "show", &id]).json();
    let hosts: Vec<HostResult> = show["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| serde_json::from_value(h["result"].clone()).unwrap())
        .collect();
    let catalogue = parse_toml(SHIPPED).unwrap();
    let policy = CredPolicy {
        max_attempts: 3,
        delay_ms: 50,
        timeout_ms: 2000,
    };
    let mut found = BTreeSet::new();
    for h in &hosts {
        let run = check(&policy, h, &catalogue).unwrap();
        for ((port, user), n) in &run.attempts {
            assert!(*n <= 3, "{} {port} {user}: {n} attempts", h.addr);
        }
        assert!(run.locked.is_empty());
        for hit in &run.hits {
            found.insert((
                hit.addr.to_string(),
                hit.port,
                hit.entry.clone(),
                hit.no_auth,
            ));
        }
        // Nothing a run returns holds a password: a hit names the entry and the user only.
        for hit in &run.hits {
            let v = serde_json::to_value(hit).unwrap();
            let keys: BTreeSet<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
            assert_eq!(
                keys,
                ["addr", "entry", "no_auth", "port", "username"]
                    .into_iter()
                    .collect()
            );
        }
        assert!(!format!("{:?}", run.hits).contains("mamori-check@invalid"));
    }
    // FTP: anonymous login (vsftpd takes "ftp" as its alias too); Orthanc's shipped
    // account; a community "public"; Redis without authentication. nginx (no Basic auth) and
    // OpenSSH (no checker yet) give nothing.
    let by_user: BTreeSet<(String, u16, String, bool)> = found
        .iter()
        .map(|(a, p, e, n)| {
            let entry = catalogue.iter().find(|c| c.id == *e).unwrap();
            (a.clone(), *p, entry.username.clone(), *n)
        })
        .collect();
    let want: BTreeSet<(String, u16, String, bool)> = [
        (FTP, 21, "anonymous", false),
        (FTP, 21, "ftp", false),
        (PACS, 8042, "orthanc", false),
        (SNMP, 161, "", false),
        (DB, 6379, "", true),
    ]
    .iter()
    .map(|(a, p, u, n)| (a.to_string(), *p, u.to_string(), *n))
    .collect();
    assert_eq!(by_user, want, "{found:?}");
    // The community that worked is a catalogue "public" (one attempt for every entry with it).
    let snmp = found.iter().find(|(_, p, _, _)| *p == 161).unwrap();
    let entry = catalogue.iter().find(|c| c.id == snmp.2).unwrap();
    assert_eq!(
        entry.password,
        mamori_net::catalogue::Secret::Text("public".into())
    );
    let _ = SSH;
}
