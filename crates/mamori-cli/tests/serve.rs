//! `mamori serve` as a real process on a loopback port: it serves the login page with its
//! security headers over real HTTP, and a SIGTERM (what a service manager sends) stops it
//! cleanly with exit code 0. Without a store it refuses to start.

mod support;

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::Env;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
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
    let mut child = Command::new(env!("CARGO_BIN_EXE_mamori"))
        .args(["--lang", "en", "--data-dir"])
        .arg(env.data())
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env("USER", "tester")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "serve did not listen"
        );
        if let Ok(Some(status)) = child.try_wait() {
            panic!("serve exited early: {status}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let login = http_get(port, "/login");
    assert!(login.starts_with("HTTP/1.1 200"), "{login}");
    assert!(login
        .to_ascii_lowercase()
        .contains("content-security-policy: default-src 'self'; script-src 'none'"));
    assert!(login.contains("name=\"password\""));
    let home = http_get(port, "/");
    assert!(home.starts_with("HTTP/1.1 303"), "{home}");

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
            "serve did not stop on SIGTERM"
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
    assert!(out.contains(&format!("http://127.0.0.1:{port}/")), "{out}");
}

#[test]
fn serve_without_a_store_refuses_to_start() {
    let env = Env::empty();
    let r = env.run(&["--lang", "en", "serve", "--listen", "127.0.0.1:1"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("mamori init"), "{}", r.stderr);
}
