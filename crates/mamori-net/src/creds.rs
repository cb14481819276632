//! Default-credential checks (guideline §8.3, 遵守事項 8⑤): SSH, Telnet, FTP (anonymous
//! included), HTTP Basic and Digest, SNMP v1/v2c communities (a read; never a SET), MySQL /
//! MariaDB, PostgreSQL, Redis and AMQP logins, and the services that ask for nothing (Redis
//! and PostgreSQL without authentication, VNC security type "None"). Only catalogue entries
//! that fit the identified service are tried; at most `max_attempts` per account and device
//! in a run, with a pause between attempts to the same device; a lockout or rate-limit answer
//! stops the device. The protocols themselves are in [`crate::login`].
//!
//! *Invariant*: a working password never leaves this module — a [`Hit`] names the catalogue
//! entry and the user name, not the password.

use std::collections::{BTreeMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use crate::catalogue::{Entry, Secret};
use crate::login::{self, Verdict};
use mamori_core::scan::{HostResult, PortResult, PortState, Transport};

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
    /// The checker protocol (`ssh`, `http-basic`, …).
    pub protocol: String,
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

/// Words too common in names to say which product a service is.
const COMMON_WORDS: &[&str] = &[
    "web",
    "the",
    "and",
    "server",
    "http",
    "https",
    "ssh",
    "service",
    "admin",
    "console",
    "management",
    "interface",
    "device",
    "devices",
    "appliance",
    "appliances",
    "system",
    "systems",
    "series",
    "default",
    "account",
    "login",
    "network",
    "software",
    "各社",
    "card",
    "realm",
    "basic",
    "digest",
    "gigabit",
    "module",
    "manager",
    "version",
    "firmware",
    "model",
    "ups",
    "printer",
    "camera",
    "storage",
    "controller",
    "unit",
    "access",
    "required",
    "authorization",
    "unauthorized",
    "restricted",
    "area",
    "please",
    "enter",
    "password",
];

/// The checker protocol for an identified service, if mamori has one.
pub fn protocol_of(port: &PortResult) -> Option<&'static str> {
    let service = port.service.as_deref().unwrap_or("");
    let auth = port
        .fact("http.auth")
        .map(|a| a.to_ascii_lowercase())
        .unwrap_or_default();
    Some(match service {
        "ssh" => "ssh",
        "telnet" => "telnet",
        "ftp" => "ftp",
        "http" | "https" if auth.starts_with("basic") => "http-basic",
        "http" | "https" if auth.starts_with("digest") => "http-digest",
        "mysql" => "mysql",
        "postgresql" => "postgresql",
        "redis" => "redis",
        "amqp" => "amqp",
        "vnc" => "vnc",
        "snmp" if port.transport == Transport::Udp => "snmp",
        _ => return None,
    })
}

/// The entries worth trying on a port: the protocol fits the identified service (entries of
/// protocol `any`, from imported lists, fit every service), and an entry for a named product
/// is tried only where the service names that product or vendor. Entries naming the product
/// come first, then the generic ones (vendor `(各社)`).
pub fn candidates<'a>(entries: &'a [Entry], port: &PortResult) -> Vec<&'a Entry> {
    let Some(protocol) = protocol_of(port) else {
        return Vec::new();
    };
    let said: HashSet<String> = [
        port.product.as_deref(),
        port.banner.as_deref(),
        port.fact("http.auth"),
        port.fact("http.server"),
        port.fact("http.title"),
        port.fact("snmp.sys_descr"),
        port.fact("snmp.sys_name"),
    ]
    .into_iter()
    .flatten()
    .flat_map(words)
    .filter(|w| !COMMON_WORDS.contains(&w.as_str()))
    .collect();
    // Entries of protocol `any` (imported lists) and web-form entries fit where the service
    // logs in the same way: a web device's form account is usually its Basic account too; a
    // community or a bare password only fits services that take no user name.
    let fits = |e: &&Entry| {
        e.protocol == protocol
            || (e.protocol == "http-form" && protocol.starts_with("http-"))
            || (e.protocol == "any"
                && (e.username.is_empty() || !matches!(protocol, "snmp" | "redis" | "vnc")))
    };
    let named = |e: &&Entry| {
        words(&format!("{} {}", e.vendor, e.product))
            .iter()
            .any(|w| said.contains(w))
    };
    let generic = |e: &&Entry| e.vendor.starts_with('(') && e.protocol == protocol;
    let mut out: Vec<&Entry> = entries
        .iter()
        .filter(fits)
        .filter(|e| !generic(e) && named(e))
        .collect();
    out.extend(entries.iter().filter(fits).filter(generic));
    out
}

/// Tries the fitting catalogue entries on every open port of `host`.
pub fn check(
    policy: &CredPolicy,
    host: &HostResult,
    entries: &[Entry],
) -> std::io::Result<CredRun> {
    let mut runs = check_all(policy, std::slice::from_ref(host), entries, 1)?;
    Ok(runs.pop().unwrap_or_default())
}

/// Tries the fitting catalogue entries on every open port of every host, `parallel` hosts at
/// a time (one host's attempts are always one after another, `delay_ms` apart). The runs come
/// back in the order of `hosts`.
pub fn check_all(
    policy: &CredPolicy,
    hosts: &[HostResult],
    entries: &[Entry],
    parallel: usize,
) -> std::io::Result<Vec<CredRun>> {
    // On a thread of its own with a roomy stack: the SNMP session keeps its 64 KiB receive
    // buffer inline, and unoptimised builds copy it on the stack more than once.
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .stack_size(16 << 20)
            .spawn_scoped(s, || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?;
                Ok(rt.block_on(Box::pin(run_hosts(policy, hosts, entries, parallel))))
            })?
            .join()
            .unwrap_or_else(|_| Err(std::io::Error::other("the credential check panicked")))
    })
}

async fn run_hosts(
    policy: &CredPolicy,
    hosts: &[HostResult],
    entries: &[Entry],
    parallel: usize,
) -> Vec<CredRun> {
    let gate = tokio::sync::Semaphore::new(parallel.max(1));
    let runs = hosts.iter().map(|h| {
        let gate = &gate;
        async move {
            let _permit = gate.acquire().await.ok();
            Box::pin(check_host(policy, h, entries)).await
        }
    });
    // Polled together on this task (they borrow the entries; nothing is spawned).
    futures::future::join_all(runs).await
}

fn no_auth_entry<'a>(entries: &'a [Entry], protocol: &str) -> Option<&'a Entry> {
    entries
        .iter()
        .find(|e| e.protocol == protocol && e.password == Secret::Any)
}

async fn check_host(policy: &CredPolicy, host: &HostResult, entries: &[Entry]) -> CredRun {
    let wait = Duration::from_millis(policy.timeout_ms.max(100));
    let mut run = CredRun::default();
    let mut first = true;
    'ports: for port in host.ports.iter().filter(|p| p.state == PortState::Open) {
        let Some(protocol) = protocol_of(port) else {
            continue;
        };
        // A service that asks for nothing is a finding without any attempt.
        let asks_nothing = match protocol {
            "redis" => port.fact("redis.auth") == Some("none"),
            "vnc" => port
                .fact("vnc.security_types")
                .is_some_and(|t| t.split(',').any(|x| x.trim() == "1")),
            _ => false,
        };
        if asks_nothing {
            if let Some(e) = no_auth_entry(entries, protocol) {
                run.hits.push(Hit {
                    addr: host.addr,
                    port: port.port,
                    protocol: protocol.into(),
                    entry: e.id.clone(),
                    username: String::new(),
                    no_auth: true,
                });
            }
            continue;
        }
        if protocol == "vnc" {
            continue;
        }
        let tls = port.service.as_deref() == Some("https");
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
            let verdict = match protocol {
                "ftp" => login::ftp(target, &user, &pass, wait).await,
                "http-basic" => login::http_basic(target, tls, &user, &pass, wait).await,
                "http-digest" => login::http_digest(target, tls, &user, &pass, wait).await,
                "redis" => login::redis(target, &user, &pass, wait).await,
                "ssh" => login::ssh(target, &user, &pass, wait).await,
                "telnet" => login::telnet(target, &user, &pass, wait).await,
                "mysql" => login::mysql(target, &user, &pass, wait).await,
                "postgresql" => login::postgresql(target, &user, &pass, wait).await,
                "amqp" => login::amqp(target, &user, &pass, wait).await,
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
                    protocol: protocol.into(),
                    entry: e.id.clone(),
                    username: user,
                    no_auth: e.password == Secret::Any && protocol != "ftp",
                }),
                Verdict::Open => {
                    // In without a password: 認証なし, whatever the entry said; no more
                    // attempts on this port are needed.
                    run.hits.push(Hit {
                        addr: host.addr,
                        port: port.port,
                        protocol: protocol.into(),
                        entry: e.id.clone(),
                        username: user,
                        no_auth: true,
                    });
                    continue 'ports;
                }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::{parse_toml, SHIPPED};

    fn port(service: &str, facts: &[(&str, &str)], product: Option<&str>) -> PortResult {
        let mut p = PortResult::new(80, Transport::Tcp, PortState::Open);
        p.service = Some(service.into());
        p.product = product.map(str::to_string);
        p.facts = facts
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        p
    }

    #[test]
    fn only_the_entries_of_the_identified_product_and_protocol_are_candidates() {
        let entries = parse_toml(SHIPPED).unwrap();
        // An APC network card asking for Basic authentication: APC's entries, no one else's.
        let apc = port(
            "http",
            &[("http.auth", "Basic realm=\"APC Management Card\"")],
            None,
        );
        let c = candidates(&entries, &apc);
        assert!(!c.is_empty());
        assert!(c.iter().all(|e| e.vendor.contains("APC")), "{c:?}");
        // OpenSSH on a server: only the generic SSH entries (no vendor's).
        let ssh = port("ssh", &[], Some("OpenSSH"));
        let c = candidates(&entries, &ssh);
        assert!(!c.is_empty());
        assert!(c
            .iter()
            .all(|e| e.vendor.starts_with('(') && e.protocol == "ssh"));
        // A web page without authentication, or a service without a checker: nothing.
        assert!(candidates(&entries, &port("http", &[], Some("nginx"))).is_empty());
        assert!(candidates(&entries, &port("smtp", &[], Some("Postfix"))).is_empty());
        // A GE PACS workstation's FTP: the documented GE FTP accounts come before the
        // generic anonymous ones.
        let mut ftp = port("ftp", &[], None);
        ftp.banner = Some("220 GE HealthCare Discovery VH FTP".into());
        let c = candidates(&entries, &ftp);
        assert!(
            c.first().is_some_and(|e| e.vendor == "GE HealthCare"),
            "{c:?}"
        );
        assert!(c.iter().any(|e| e.id == "anonymous-ftp"));
    }
}
