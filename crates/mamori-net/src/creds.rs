//! Default-credential checkers (issue 7, first part): FTP (anonymous included), HTTP Basic,
//! Redis and SNMP communities. Only catalogue entries that fit the identified service are
//! tried; at most `max_attempts` per account and device in a run, with a pause between
//! attempts to the same device; a lockout or rate-limit answer stops the device.
//!
//! *Invariant*: a working password never leaves this module — a [`Hit`] names the catalogue
//! entry and the user name, not the password.

use std::collections::{BTreeMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use mamori_core::scan::{HostResult, PortResult, PortState, Transport};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::catalogue::{Entry, Secret};
use crate::probe::read_until;

/// How gently credentials are tried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredPolicy {
    /// Attempts per account (user name) and device in one run (default 3).
    pub max_attempts: u32,
    /// Pause between two attempts to the same device, milliseconds (default 1000).
    pub delay_ms: u64,
    /// Connect and read timeout, milliseconds.
    pub timeout_ms: u64,
}

impl Default for CredPolicy {
    fn default() -> CredPolicy {
        CredPolicy {
            max_attempts: 3,
            delay_ms: 1000,
            timeout_ms: 3000,
        }
    }
}

/// A default credential that worked, or a service without authentication.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Hit {
    /// The address.
    pub addr: IpAddr,
    /// The port.
    pub port: u16,
    /// The catalogue entry (never the password).
    pub entry: String,
    /// The user name tried (empty for a community or none).
    pub username: String,
    /// No authentication at all (認証なし) rather than a default password.
    pub no_auth: bool,
}

/// What a run did on one host.
#[derive(Debug, Clone, Default)]
pub struct CredRun {
    /// What worked.
    pub hits: Vec<Hit>,
    /// Attempts per (port, user name).
    pub attempts: BTreeMap<(u16, String), u32>,
    /// Ports where a lockout or rate-limit answer stopped the checks.
    pub locked: Vec<u16>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Accepted,
    Rejected,
    Locked,
    Unreachable,
}

fn password(secret: &Secret) -> String {
    match secret {
        Secret::Empty => String::new(),
        // Anonymous logins take any password; by convention an address.
        Secret::Any => "mamori-check@invalid".into(),
        Secret::Text(t) => t.clone(),
    }
}

fn words(text: &str) -> HashSet<String> {
    text.to_ascii_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| w.len() > 2)
        .map(str::to_string)
        .collect()
}

/// The entries worth trying on a port: the protocol fits the identified service, and an entry
/// for a named product is tried only where the service names that product or vendor.
pub fn candidates<'a>(entries: &'a [Entry], port: &PortResult) -> Vec<&'a Entry> {
    let service = port.service.as_deref().unwrap_or("");
    let basic = port
        .fact("http.auth")
        .is_some_and(|a| a.to_ascii_lowercase().starts_with("basic"));
    let said: HashSet<String> = [
        port.product.as_deref(),
        port.banner.as_deref(),
        port.fact("http.auth"),
        port.fact("http.server"),
        port.fact("http.title"),
        port.fact("snmp.sys_descr"),
    ]
    .into_iter()
    .flatten()
    .flat_map(words)
    .collect();
    entries
        .iter()
        .filter(|e| match e.protocol.as_str() {
            "ftp" => service == "ftp",
            "http-basic" => basic && matches!(service, "http" | "https"),
            "redis" => service == "redis",
            "snmp" => service == "snmp" && port.transport == Transport::Udp,
            _ => false,
        })
        .filter(|e| {
            e.vendor.starts_with('(')
                || words(&format!("{} {}", e.vendor, e.product))
                    .iter()
                    .any(|w| said.contains(w))
        })
        .collect()
}

async fn ftp(target: SocketAddr, user: &str, pass: &str, wait: Duration) -> Verdict {
    let Ok(Ok(mut s)) = tokio::time::timeout(wait, TcpStream::connect(target)).await else {
        return Verdict::Unreachable;
    };
    let line = |b: &[u8]| b.ends_with(b"\n");
    let greeting = read_until(&mut s, 4096, wait, line).await;
    if !greeting.starts_with(b"220") {
        return if greeting.starts_with(b"421") {
            Verdict::Locked
        } else {
            Verdict::Unreachable
        };
    }
    if s.write_all(format!("USER {user}\r\n").as_bytes())
        .await
        .is_err()
    {
        return Verdict::Unreachable;
    }
    let reply = read_until(&mut s, 4096, wait, line).await;
    let verdict = if reply.starts_with(b"230") {
        Verdict::Accepted
    } else if reply.starts_with(b"331") {
        if s.write_all(format!("PASS {pass}\r\n").as_bytes())
            .await
            .is_err()
        {
            return Verdict::Unreachable;
        }
        let reply = read_until(&mut s, 4096, wait, line).await;
        if reply.starts_with(b"230") {
            Verdict::Accepted
        } else if reply.starts_with(b"421") {
            Verdict::Locked
        } else {
            Verdict::Rejected
        }
    } else if reply.starts_with(b"421") {
        Verdict::Locked
    } else {
        Verdict::Rejected
    };
    let _ = s.write_all(b"QUIT\r\n").await;
    verdict
}

async fn http_basic(target: SocketAddr, user: &str, pass: &str, wait: Duration) -> Verdict {
    use base64::Engine;
    let Ok(Ok(mut s)) = tokio::time::timeout(wait, TcpStream::connect(target)).await else {
        return Verdict::Unreachable;
    };
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
    let req = format!(
        "GET / HTTP/1.0\r\nHost: {}\r\nUser-Agent: mamori-check\r\nAuthorization: Basic {token}\r\nConnection: close\r\n\r\n",
        target.ip()
    );
    if s.write_all(req.as_bytes()).await.is_err() {
        return Verdict::Unreachable;
    }
    let head = read_until(&mut s, 8192, wait, |b| {
        b.windows(4).any(|w| w == b"\r\n\r\n")
    })
    .await;
    let status = String::from_utf8_lossy(&head)
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse::<u16>().ok());
    match status {
        Some(200..=399) => Verdict::Accepted,
        Some(423 | 429) => Verdict::Locked,
        Some(_) => Verdict::Rejected,
        None => Verdict::Unreachable,
    }
}

async fn redis_auth(target: SocketAddr, pass: &str, wait: Duration) -> Verdict {
    let Ok(Ok(mut s)) = tokio::time::timeout(wait, TcpStream::connect(target)).await else {
        return Verdict::Unreachable;
    };
    let cmd = format!("*2\r\n$4\r\nAUTH\r\n${}\r\n{pass}\r\n", pass.len());
    if s.write_all(cmd.as_bytes()).await.is_err() {
        return Verdict::Unreachable;
    }
    let reply = read_until(&mut s, 512, wait, |b| b.ends_with(b"\n")).await;
    if reply.starts_with(b"+OK") {
        Verdict::Accepted
    } else {
        Verdict::Rejected
    }
}

/// Tries the fitting catalogue entries on every open port of `host`.
pub fn check(
    policy: &CredPolicy,
    host: &HostResult,
    entries: &[Entry],
) -> std::io::Result<CredRun> {
    // On a thread of its own with a roomy stack: the SNMP session keeps its 64 KiB receive
    // buffer inline, and unoptimised builds copy it on the stack more than once.
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .stack_size(16 << 20)
            .spawn_scoped(s, || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?;
                Ok(rt.block_on(Box::pin(check_host(policy, host, entries))))
            })?
            .join()
            .unwrap_or_else(|_| Err(std::io::Error::other("the credential check panicked")))
    })
}

async fn check_host(policy: &CredPolicy, host: &HostResult, entries: &[Entry]) -> CredRun {
    let wait = Duration::from_millis(policy.timeout_ms.max(100));
    let mut run = CredRun::default();
    let mut first = true;
    for port in host.ports.iter().filter(|p| p.state == PortState::Open) {
        // A service that asks for nothing is a finding without any attempt.
        if port.service.as_deref() == Some("redis") && port.fact("redis.auth") == Some("none") {
            if let Some(e) = entries
                .iter()
                .find(|e| e.protocol == "redis" && e.password == Secret::Any)
            {
                run.hits.push(Hit {
                    addr: host.addr,
                    port: port.port,
                    entry: e.id.clone(),
                    username: String::new(),
                    no_auth: true,
                });
            }
            continue;
        }
        let mut tried: HashSet<(String, String)> = HashSet::new();
        for e in candidates(entries, port) {
            let user = e.username.clone();
            let pass = password(&e.password);
            // The same user and password under two entries is one attempt.
            if !tried.insert((user.clone(), pass.clone())) {
                continue;
            }
            let count = run.attempts.entry((port.port, user.clone())).or_insert(0);
            if *count >= policy.max_attempts {
                continue;
            }
            *count += 1;
            if !first {
                tokio::time::sleep(Duration::from_millis(policy.delay_ms)).await;
            }
            first = false;
            let target = SocketAddr::new(host.addr, port.port);
            let verdict = match e.protocol.as_str() {
                "ftp" => ftp(target, &user, &pass, wait).await,
                "http-basic" => http_basic(target, &user, &pass, wait).await,
                "redis" => redis_auth(target, &pass, wait).await,
                "snmp" => match crate::snmp::get_system(target, &pass, wait).await {
                    Some(_) => Verdict::Accepted,
                    None => Verdict::Rejected,
                },
                _ => Verdict::Unreachable,
            };
            match verdict {
                Verdict::Accepted => run.hits.push(Hit {
                    addr: host.addr,
                    port: port.port,
                    entry: e.id.clone(),
                    username: user,
                    no_auth: e.password == Secret::Any && e.protocol != "ftp",
                }),
                Verdict::Locked => {
                    run.locked.push(port.port);
                    break;
                }
                Verdict::Rejected | Verdict::Unreachable => {}
            }
        }
    }
    run
}
