//! The audit log's hash chain through the command line: an untouched log verifies; a row
//! changed, deleted or swapped directly in the SQLite file is caught and named; the export
//! carries every entry with its hashes.

mod support;

use support::Env;

/// A store with a few audited changes.
fn audited() -> Env {
    let env = Env::init();
    for (id, name) in [("PC-1", "外来PC"), ("PC-2", "受付PC"), ("PC-3", "会計PC")] {
        let r = env.run(&["ledger", "add", id, "--name", name, "--kind", "PC"]);
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
    let r = env.run(&["ledger", "edit", "PC-2", "--set", "location=2F"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = env.run(&["--lang", "en", "audit", "verify"]);
    assert_eq!(r.code, 0, "an untouched log verifies: {}", r.stderr);
    assert!(r.stdout.contains("intact"));
    env
}

/// Runs SQL on the store's file directly, as someone with the file would.
fn tamper(env: &Env, sql: &str) {
    let db = env.data().join("mamori.db");
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.execute_batch(sql).unwrap();
}

fn verify(env: &Env) -> String {
    let r = env.run(&["--lang", "en", "audit", "verify"]);
    assert_eq!(r.code, 1, "tampering must be caught: {}", r.stdout);
    r.stderr
}

#[test]
fn a_changed_row_is_named() {
    let env = audited();
    tamper(
        &env,
        "UPDATE audit_log SET actor = 'someone-else' WHERE seq = 4",
    );
    assert!(verify(&env).contains("entry 4 of the audit log has been changed"));
}

#[test]
fn a_changed_detail_is_named() {
    let env = audited();
    tamper(
        &env,
        "UPDATE audit_log SET detail = replace(detail, '2F', '3F') WHERE action = 'asset.update'",
    );
    let seq: i64 = {
        let conn = rusqlite::Connection::open(env.data().join("mamori.db")).unwrap();
        conn.query_row(
            "SELECT seq FROM audit_log WHERE action = 'asset.update'",
            [],
            |r| r.get(0),
        )
        .unwrap()
    };
    assert!(verify(&env).contains(&format!("entry {seq} of")));
}

#[test]
fn a_deleted_row_is_named() {
    let env = audited();
    tamper(&env, "DELETE FROM audit_log WHERE seq = 3");
    assert!(verify(&env).contains("entry 3 of the audit log has been deleted"));
}

#[test]
fn swapped_rows_are_caught() {
    let env = audited();
    // Exchange the contents of entries 3 and 4 (keeping their numbers).
    tamper(
        &env,
        "UPDATE audit_log SET seq = -3 WHERE seq = 3;
         UPDATE audit_log SET seq = 3 WHERE seq = 4;
         UPDATE audit_log SET seq = 4 WHERE seq = -3;",
    );
    assert!(verify(&env).contains("entry 3 of"));
}

#[test]
fn the_export_has_every_entry_with_its_hashes() {
    let env = audited();
    let out = env.path("audit.jsonl");
    let r = env.run(&["--json", "audit", "export", out.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let text = std::fs::read_to_string(&out).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(r.json()["entries"], lines.len());
    assert!(lines.len() >= 6, "init, admin, three adds, an edit");
    for (i, l) in lines.iter().enumerate() {
        assert_eq!(l["seq"], i as i64 + 1);
        if i > 0 {
            assert_eq!(l["prev_hash"], lines[i - 1]["hash"], "the chain links");
        }
        assert_eq!(l["hash"].as_str().unwrap().len(), 64);
    }
}
