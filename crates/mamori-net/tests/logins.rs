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
