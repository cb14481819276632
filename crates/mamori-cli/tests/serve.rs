//! `mamori serve` as a real process on a loopback port: it serves the login page with its
//! security headers over real HTTP, and a SIGTERM (what a service manager sends) stops it
//! cleanly with exit code 0. Without a store it refuses to start.

mod support;

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::{free_port, wait_listening, Env};

/// Starts `mamori ARGS` (English messages, stdout piped) and waits until it listens on
/// `port`.
fn start(args: &[&str], port: u16, secs: u64) -> std::process::Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mamori"))
        .args(["--lang", "en"])
        .args(args)
        .env("USER", "tester")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_listening(&mut child, port, secs);
    child
}

/// Sends SIGTERM and waits (10 s at most): the process must exit 0; returns what it printed.
fn stop(mut child: std::process::Child) -> String {
    assert!(Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap()
        .success());
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "it did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    out
}

fn http_get(port: u16, path: &str) -> String {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[test]
fn serve_answers_on_loopback_and_stops_on_sigterm() {
    let env = Env::init();
    let port = free_port();
    let data = env.data();
    let listen = format!("127.0.0.1:{port}");
    let child = start(
        &[
            "--data-dir",
            data.to_str().unwrap(),
            "serve",
            "--listen",
            &listen,
        ],
        port,
        20,
    );
    let login = http_get(port, "/login");
    assert!(login.starts_with("HTTP/1.1 200"), "{login}");
    assert!(login
        .to_ascii_lowercase()
        .contains("content-security-policy: default-src 'self'; script-src 'none'"));
    assert!(login.contains("name=\"password\""));
    let home = http_get(port, "/");
    assert!(home.starts_with("HTTP/1.1 303"), "{home}");
    let out = stop(child);
    assert!(out.contains(&format!("http://127.0.0.1:{port}/")), "{out}");
}

#[test]
fn serve_without_a_store_refuses_to_start() {
    let env = Env::empty();
    let r = env.run(&["--lang", "en", "serve", "--listen", "127.0.0.1:1"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("mamori init"), "{}", r.stderr);
}

/// `mamori demo` ends by serving the demo hospital: it prints the URL and the
/// administrator's one-time password, and that password logs in (and must be changed).
#[test]
fn the_demo_ends_by_serving_the_demo_hospital() {
    let env = Env::empty();
    let port = free_port();
    let dir = env.path("demo");
    let listen = format!("127.0.0.1:{port}");
    let child = start(
        &["demo", "--dir", dir.to_str().unwrap(), "--listen", &listen],
        port,
        120,
    );
    let login = http_get(port, "/login");
    assert!(login.starts_with("HTTP/1.1 200"), "{login}");
    let out = stop(child);
    assert!(out.contains(&format!("http://127.0.0.1:{port}/")), "{out}");
    let line = out
        .lines()
        .find(|l| l.starts_with("administrator:"))
        .unwrap_or_else(|| panic!("{out}"));
    let password = line.rsplit(" / ").next().unwrap().trim();
    assert!(password.len() >= 13, "{line}");
    // The one-time password is the real one: it opens the store (and asks for a change).
    let app = mamori_app::App::login(&dir, "admin", password).unwrap();
    assert!(app.must_change_password());
}

/// `serve --tls`: a self-signed certificate is made once and kept in the data directory; the
/// fingerprint printed is the one the server presents (read by openssl); cookies are `Secure`.
#[test]
fn serve_tls_presents_the_printed_certificate_and_secure_cookies() {
    let have = std::path::Path::new("/usr/bin/openssl").exists()
        && std::path::Path::new("/usr/bin/curl").exists();
    if !support::require("openssl and curl (.ci/run installs them)", have) {
        return;
    }
    let env = Env::init();
    let port = free_port();
    let data = env.data();
    let listen = format!("127.0.0.1:{port}");
    let child = start(
        &[
            "--data-dir",
            data.to_str().unwrap(),
            "serve",
            "--tls",
            "--listen",
            &listen,
        ],
        port,
        20,
    );
    let head = Command::new("curl")
        .args(["-sk", "-D", "-", "-o", "/dev/null", "--noproxy", "*"])
        .arg(format!("https://127.0.0.1:{port}/login"))
        .output()
        .unwrap();
    let head = String::from_utf8_lossy(&head.stdout).to_string();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let cookie = head
        .lines()
        .find(|l| {
            l.to_ascii_lowercase()
                .starts_with("set-cookie: mamori_pre=")
        })
        .unwrap();
    assert!(
        cookie.contains("; Secure") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
    // The certificate as openssl sees it.
    let pem = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "echo | openssl s_client -connect 127.0.0.1:{port} 2>/dev/null | openssl x509 -noout -fingerprint -sha256"
        ))
        .output()
        .unwrap();
    let seen = String::from_utf8_lossy(&pem.stdout)
        .trim()
        .rsplit('=')
        .next()
        .unwrap()
        .to_string();
    assert!(seen.len() == 95, "{seen}");
    let out = stop(child);
    assert!(out.contains(&format!("https://127.0.0.1:{port}/")), "{out}");
    assert!(out.contains(&seen), "printed {out}, served {seen}");
    // Kept for the next start: the same certificate.
    assert!(env.data().join("tls/cert.pem").is_file());
    let mode = std::fs::metadata(env.data().join("tls/key.pem")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(mode.permissions().mode() & 0o777, 0o600);
}
