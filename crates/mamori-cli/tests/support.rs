//! Helpers for black-box tests of the `mamori` binary.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A temporary data directory and the binary.
pub struct Env {
    pub dir: tempfile::TempDir,
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.stdout))
    }
}

impl Env {
    /// A fresh directory with an initialised store.
    pub fn init() -> Env {
        let env = Env::empty();
        let r = env.run(&["init"]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        env
    }

    /// A fresh directory without a store.
    pub fn empty() -> Env {
        Env {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.run_env(args, &[])
    }

    pub fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        self.run_with(&self.data(), args, env)
    }

    /// Runs against another data directory.
    pub fn run_in(&self, data_dir: &Path, args: &[&str]) -> Run {
        self.run_with(data_dir, args, &[])
    }

    fn run_with(&self, data_dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_mamori"));
        cmd.arg("--data-dir").arg(data_dir).args(args);
        cmd.env_remove("LANG")
            .env_remove("LC_ALL")
            .env_remove("LC_MESSAGES")
            .env_remove("MAMORI_DATA")
            .env_remove("MAMORI_USER")
            .env_remove("MAMORI_PASSWORD")
            .env_remove("MAMORI_NEW_PASSWORD");
        cmd.env("USER", "tester");
        // Nothing a test starts may leave this machine: no proxies, loopback only.
        for v in [
            "HTTP_PROXY",
            "HTTPS_PROXY",
            "ALL_PROXY",
            "http_proxy",
            "https_proxy",
            "all_proxy",
        ] {
            cmd.env_remove(v);
        }
        cmd.env("NO_PROXY", "127.0.0.1,localhost")
            .env_remove("MAMORI_NVD_API_KEY");
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.stdin(std::process::Stdio::null());
        to_run(cmd.output().expect("mamori runs"))
    }

    /// Number of devices, via the public JSON output.
    pub fn count(&self) -> usize {
        let r = self.run(&["ledger", "list", "--json"]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        r.json()["count"].as_u64().unwrap() as usize
    }

    /// The ledger as JSON without the store's timestamps, for comparisons.
    pub fn ledger(&self) -> Vec<serde_json::Value> {
        let r = self.run(&["ledger", "list", "--json"]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let mut assets = r.json()["assets"].as_array().unwrap().clone();
        for a in &mut assets {
            let m = a.as_object_mut().unwrap();
            m.remove("created_at");
            m.remove("updated_at");
        }
        assets
    }
}

/// A store holding one device, SEED-1: a refused import must leave it exactly so.
pub fn seeded() -> Env {
    let env = Env::init();
    let f = env.path("seed.csv");
    std::fs::write(&f, "管理番号,機器名\nSEED-1,既存\n").unwrap();
    assert_eq!(env.run(&["ledger", "import", f.to_str().unwrap()]).code, 0);
    env
}

fn to_run(o: Output) -> Run {
    Run {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

/// Whether a required external tool is present. Missing is a skip locally, a failure in CI.
pub fn require(what: &str, present: bool) -> bool {
    if present {
        return true;
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{what} is required in CI (.ci/run installs it)");
    }
    eprintln!("SKIP: {what} is not available here (.ci/run installs it)");
    false
}

/// Runs the Python fixture writer into `dir`; false (skip) if Python or its packages are missing.
pub fn python_fixtures(dir: &Path) -> bool {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/make_fixtures.py");
    let ok = Command::new("python3")
        .arg(script)
        .arg(dir)
        .output()
        .map(|o| {
            if !o.status.success() {
                eprintln!("{}", String::from_utf8_lossy(&o.stderr));
            }
            o.status.success()
        })
        .unwrap_or(false);
    require("python3 with openpyxl and msoffcrypto-tool", ok)
}

/// Writes an .xlsx ledger with Japanese headers using rust_xlsxwriter.
pub fn write_xlsx(path: &Path, headers: &[&str], rows: &[Vec<String>]) {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (c, h) in headers.iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            if !v.is_empty() {
                ws.write_string(r as u32 + 1, c as u16, v).unwrap();
            }
        }
    }
    wb.save(path).unwrap();
}

/// `../shared/data` beside the repository, or `None` (skip) locally when absent; in CI it must exist.
pub fn shared_data() -> Option<PathBuf> {
    // Cargo sets CARGO_MANIFEST_DIR at run time too, which survives a moved checkout.
    let crate_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    let dir = crate_dir.join("../../../shared/data");
    require(
        &format!("shared test data at {}", dir.display()),
        dir.is_dir(),
    )
    .then_some(dir)
}

impl Env {
    /// Records a feed source holds, from `feeds status --json` (0 when unknown).
    pub fn feed_records(&self, source: &str) -> i64 {
        let r = self.run(&["--json", "feeds", "status"]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        r.json()["sources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["source"] == source)
            .map(|s| s["records"].as_i64().unwrap())
            .unwrap_or(0)
    }
}

/// A loopback port nothing listens on now.
#[allow(dead_code)]
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits until `child` listens on 127.0.0.1:`port` (or fails the test after `secs`).
#[allow(dead_code)]
pub fn wait_listening(child: &mut std::process::Child, port: u16, secs: u64) {
    let start = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(secs),
            "nothing listened on 127.0.0.1:{port}"
        );
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the server exited early: {status}");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}
