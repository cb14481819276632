//! One login attempt per protocol against the real services this machine runs on loopback
//! (MariaDB, PostgreSQL, RabbitMQ, Redis), and a Telnet login against a scripted loopback
//! server — a stand-in, said so below, because Debian's telnet daemons need inetd or a PAM
//! login on the machine.

use std::net::SocketAddr;
use std::time::Duration;

use mamori_net::login::{self, Verdict};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const WAIT: Duration = Duration::from_secs(3);

fn up(port: u16) -> bool {
    std::net::TcpStream::connect_timeout(
        &SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_millis(500),
    )
    .is_ok()
}

/// Skips (or, under CI, fails) when a machine service is not running.
fn service(name: &str, port: u16) -> bool {
    if up(port) {
        return true;
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{name} on 127.0.0.1:{port} is required under CI");
    }
    eprintln!("skipped: {name} is not running on 127.0.0.1:{port}");
    false
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn mariadb_root_with_the_empty_password_is_accepted_and_a_wrong_one_refused() {
    if !service("MariaDB", 3306) {
        return;
    }
    let t = SocketAddr::from(([127, 0, 0, 1], 3306));
    let rt = rt();
    assert_eq!(
        rt.block_on(login::mysql(t, "root", "", WAIT)),
        Verdict::Accepted
    );
    assert_eq!(
        rt.block_on(login::mysql(t, "root", "not-the-password", WAIT)),
        Verdict::Rejected
    );
    assert_eq!(
        rt.block_on(login::mysql(t, "mamori-nobody", "x", WAIT)),
        Verdict::Rejected
    );
}

#[test]
fn postgresql_with_trust_lets_in_without_a_password() {
    if !service("PostgreSQL", 5432) {
        return;
    }
    let t = SocketAddr::from(([127, 0, 0, 1], 5432));
    let rt = rt();
    assert_eq!(
        rt.block_on(login::postgresql(t, "postgres", "postgres", WAIT)),
        Verdict::Open
    );
    // A role that does not exist is refused (28000).
    assert_eq!(
        rt.block_on(login::postgresql(t, "mamori-nobody", "x", WAIT)),
        Verdict::Rejected
    );
}

#[test]
fn rabbitmq_guest_is_accepted_on_loopback_and_a_wrong_password_refused() {
    if !service("RabbitMQ", 5672) {
        return;
    }
    let t = SocketAddr::from(([127, 0, 0, 1], 5672));
    let rt = rt();
    assert_eq!(
        rt.block_on(login::amqp(t, "guest", "guest", WAIT)),
        Verdict::Accepted
    );
    assert_eq!(
        rt.block_on(login::amqp(t, "guest", "not-guest", WAIT)),
        Verdict::Rejected
    );
}

#[test]
fn redis_without_a_password_refuses_auth() {
    if !service("Redis", 6379) {
        return;
    }
    let t = SocketAddr::from(([127, 0, 0, 1], 6379));
    // No password configured: AUTH is an error; that Redis asks for nothing is found from
    // the scan's redis.auth fact instead.
    assert_eq!(
        rt().block_on(login::redis(t, "", "foobared", WAIT)),
        Verdict::Rejected
    );
}

/// A scripted Telnet login (a stand-in: no standalone telnetd without inetd or PAM here). It
/// negotiates an option first, as real devices do, and accepts only admin / 1234.
async fn telnet_server(listener: tokio::net::TcpListener, logins: usize) {
    for _ in 0..logins {
        let (mut s, _) = listener.accept().await.unwrap();
        // IAC DO ECHO, IAC WILL SUPPRESS-GO-AHEAD, then the prompt.
        s.write_all(b"\xff\xfd\x01\xff\xfb\x03\r\nTest switch\r\nlogin: ")
            .await
            .unwrap();
        let mut buf = vec![0u8; 256];
        let mut got = Vec::new();
        let mut lines = Vec::new();
        while lines.len() < 2 {
            let n = s.read(&mut buf).await.unwrap();
            if n == 0 {
                break;
            }
            // Drop the client's option answers (IAC WONT/DONT x: three bytes each).
            let mut i = 0;
            while i < n {
                if buf[i] == 0xff {
                    i += 3;
                    continue;
                }
                if buf[i] != 0 {
                    got.push(buf[i]);
                }
                i += 1;
            }
            while let Some(i) = got.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = got.drain(..=i).collect();
                lines.push(String::from_utf8_lossy(&line).trim().to_string());
                if lines.len() == 1 {
                    s.write_all(b"Password: ").await.unwrap();
                }
            }
        }
        if lines == ["admin", "1234"] {
            s.write_all(b"\r\nswitch# ").await.unwrap();
        } else {
            s.write_all(b"\r\nLogin incorrect\r\nlogin: ")
                .await
                .unwrap();
        }
    }
}

#[test]
fn telnet_login_prompt_shell_and_refusal() {
    let rt = rt();
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let t = listener.local_addr().unwrap();
        let server = tokio::spawn(telnet_server(listener, 2));
        assert_eq!(
            login::telnet(t, "admin", "admin", WAIT).await,
            Verdict::Rejected
        );
        assert_eq!(
            login::telnet(t, "admin", "1234", WAIT).await,
            Verdict::Accepted
        );
        server.await.unwrap();
    });
}

/// A web device that answers every login with 429 Too Many Requests (a stand-in for a device
/// that rate-limits: no Debian server does this out of the box). The checks must stop at the
/// first such answer although several catalogue entries fit.
#[test]
fn a_rate_limit_answer_stops_the_checks_on_that_service() {
    use mamori_core::scan::{HostResult, PortResult, PortState, Transport};
    use mamori_net::catalogue::parse_toml;
    use mamori_net::creds::{check, CredPolicy};

    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = seen.clone();
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { break };
            let mut buf = [0u8; 4096];
            let n = s.read(&mut buf).unwrap_or(0);
            if String::from_utf8_lossy(&buf[..n]).contains("Authorization:") {
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
            let _ = s.write_all(
                b"HTTP/1.1 429 Too Many Requests\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
    });
    let entries = parse_toml(
        &(1..=4)
            .map(|i| format!("[[entry]]\nid = \"rl-{i}\"\nvendor = \"Limiter\"\nproduct = \"Box\"\ncategory = \"web\"\nprotocol = \"http-basic\"\nusername = \"user{i}\"\npassword = \"p{i}\"\nsource = \"test fixture\"\n"))
            .collect::<String>(),
    )
    .unwrap();
    let mut p = PortResult::new(port, Transport::Tcp, PortState::Open);
    p.service = Some("http".into());
    p.facts
        .insert("http.auth".into(), "Basic realm=\"Limiter Box\"".into());
    let host = HostResult {
        addr: "127.0.0.1".parse().unwrap(),
        up: true,
        mac: None,
        hostnames: Vec::new(),
        ports: vec![p],
    };
    let policy = CredPolicy {
        max_attempts: 3,
        delay_ms: 10,
        timeout_ms: 2000,
    };
    let run = check(&policy, &host, &entries).unwrap();
    assert_eq!(run.locked, vec![port]);
    assert!(run.hits.is_empty());
    assert_eq!(seen.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert_eq!(run.attempts.values().sum::<u32>(), 1);
}
