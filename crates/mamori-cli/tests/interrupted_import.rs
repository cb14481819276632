//! "One transaction per import: a failure or kill leaves the store as it was."
//! The import is killed (SIGKILL) part-way; the store must hold either the old ledger or
//! the whole new one — never a part of it.

mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::Env;

#[test]
fn a_killed_import_leaves_no_partial_ledger() {
    let env = Env::init();
    let seed = env.path("seed.csv");
    std::fs::write(&seed, "管理番号,機器名\nK-00000,既存\n").unwrap();
    assert_eq!(
        env.run(&["ledger", "import", seed.to_str().unwrap()]).code,
        0
    );
    let before = env.ledger();

    const ROWS: usize = 20_000;
    let mut text = String::from("管理番号,機器名,部署,IPアドレス,ソフトウェア,備考\n");
    for i in 1..=ROWS {
        text.push_str(&format!(
            "K-{i:05},端末 {i},内科,127.40.{}.{},Google Chrome 120.0.6099.110; Microsoft Office 2019,備考\n",
            i / 256,
            i % 256
        ));
    }
    let big = env.path("big.csv");
    std::fs::write(&big, text).unwrap();

    let mut outcomes = Vec::new();
    for delay_ms in [150u64, 400, 900] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_mamori"))
            .arg("--data-dir")
            .arg(env.data())
            .args(["ledger", "import", big.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let started = Instant::now();
        while started.elapsed() < Duration::from_millis(delay_ms) {
            if child.try_wait().unwrap().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let finished = child.try_wait().unwrap().is_some();
        let _ = child.kill();
        let _ = child.wait();
        let now = env.ledger();
        assert!(
            now == before || now.len() == ROWS + 1,
            "after a kill at {delay_ms} ms the store holds {} devices: a partial import",
            now.len()
        );
        outcomes.push((delay_ms, finished, now.len()));
        if now.len() == ROWS + 1 {
            break;
        }
    }
    eprintln!("kill outcomes (delay ms, finished before kill, devices): {outcomes:?}");
    assert!(
        outcomes
            .iter()
            .any(|(_, finished, n)| !finished && *n == before.len()),
        "at least one import was killed mid-way and rolled back: {outcomes:?}"
    );
    // The store still works after the kills.
    let r = env.run(&["audit", "verify"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[cfg(unix)]
#[test]
fn the_data_directory_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::init();
    let mode = std::fs::metadata(env.data()).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700);
}
