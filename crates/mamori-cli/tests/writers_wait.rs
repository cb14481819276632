//! Writers wait their turn. While another connection holds SQLite's write lock (here the
//! test itself, through rusqlite, as a long import would), every command that writes waits,
//! says what it waits for, and succeeds once the lock is free; one that cannot wait long
//! enough fails with a message saying so — never "database is locked", never exit code 2.
//! A real long import announces itself, and a writer waiting behind it names it.

mod support;

use std::time::{Duration, Instant};

use support::Env;

/// Holds the store's write lock for `hold`, from another connection.
fn hold_lock(env: &Env, hold: Duration) -> std::thread::JoinHandle<()> {
    let db = env.data().join("mamori.db");
    let (locked, is_locked) = std::sync::mpsc::channel();
    let t = std::thread::spawn(move || {
        let conn = rusqlite::Connection::open(db).unwrap();
        conn.execute_batch("BEGIN IMMEDIATE").unwrap();
        locked.send(()).unwrap();
        std::thread::sleep(hold);
        conn.execute_batch("ROLLBACK").unwrap();
    });
    is_locked.recv().unwrap();
    t
}

#[test]
fn writers_wait_for_the_lock_and_say_so() {
    let env = Env::init();
    let started = Instant::now();
    let holder = hold_lock(&env, Duration::from_secs(3));
    let writers: Vec<_> = (0..10)
        .map(|i| {
            let data = env.data();
            std::thread::spawn(move || {
                std::process::Command::new(env!("CARGO_BIN_EXE_mamori"))
                    .args(["--lang", "en", "--data-dir"])
                    .arg(&data)
                    .args(["ledger", "add", &format!("PC-{i}"), "--name", "受付端末"])
                    .env("USER", "tester")
                    .output()
                    .unwrap()
            })
        })
        .collect();
    let outs: Vec<_> = writers.into_iter().map(|w| w.join().unwrap()).collect();
    holder.join().unwrap();
    for o in &outs {
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(0), "{err}");
        assert!(!err.contains("locked"), "{err}");
    }
    let waited = outs
        .iter()
        .filter(|o| {
            String::from_utf8_lossy(&o.stderr).contains("waiting: another mamori is writing")
        })
        .count();
    assert!(
        waited >= 1,
        "at least the writers that met the lock said they waited"
    );
    assert!(started.elapsed() >= Duration::from_secs(3));
    assert_eq!(env.count(), 10, "every write landed");
}

#[test]
fn a_writer_that_cannot_wait_long_enough_says_why() {
    let env = Env::init();
    let holder = hold_lock(&env, Duration::from_secs(4));
    let r = env.run_env(
        &[
            "--lang",
            "en",
            "ledger",
            "add",
            "PC-1",
            "--name",
            "受付端末",
        ],
        &[("MAMORI_WRITE_WAIT", "1")],
    );
    holder.join().unwrap();
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("another task is writing to the store")
            && r.stderr.contains("run this again"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("database error"), "{}", r.stderr);
    assert_eq!(env.count(), 0);
}

#[test]
fn a_long_import_is_named_to_the_writers_behind_it() {
    let env = Env::init();
    // A ledger large enough that its import holds the lock for a moment.
    let f = env.path("大きな台帳.csv");
    let mut csv = String::from("管理番号,機器名,機器種別,部署\n");
    for i in 0..20_000 {
        csv.push_str(&format!("PC-{i:05},受付端末,端末PC,医事課\n"));
    }
    std::fs::write(&f, csv).unwrap();
    let data = env.data();
    let file = f.clone();
    let import = std::thread::spawn(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_mamori"))
            .args(["--lang", "en", "--data-dir"])
            .arg(&data)
            .args(["ledger", "import"])
            .arg(&file)
            .env("USER", "tester")
            .output()
            .unwrap()
    });
    // Wait until the import holds the lock and has posted its note, then write behind it.
    let note = env.data().join("mamori.db.writer");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !note.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    let r = env.run(&["--lang", "en", "ledger", "add", "SV-1", "--name", "サーバ"]);
    let imported = import.join().unwrap();
    assert_eq!(
        imported.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&imported.stderr)
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    if note_was_seen(&r.stderr) {
        assert!(
            r.stderr.contains("waiting: ledger import of ")
                && r.stderr.contains("大きな台帳.csv (os:tester) is writing"),
            "{}",
            r.stderr
        );
    }
    assert!(!note.exists(), "the note is gone with the import");
    assert_eq!(env.count(), 20_001);
}

/// Whether the writer met the import's lock (it may, on a fast machine, have come after).
fn note_was_seen(stderr: &str) -> bool {
    stderr.contains("waiting:")
}
