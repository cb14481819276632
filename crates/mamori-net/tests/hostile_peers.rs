//! Peers that misbehave never hang or crash a scan: endless output, silence, one byte at a
//! time (slow loris), non-UTF-8 garbage, a header that never ends. All on 127.0.0.1, on
//! ports the test itself opens; nothing else is probed.
//!
//! Also: the scope is asked before every probe — an address outside it gets no packet even
//! when the caller lists it as a target.

use std::io::{Read, Write};
use std::net::{IpAddr, TcpListener};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mamori_core::scan::Transport;
use mamori_net::{scanner, Counters, ScanPolicy, Scope, StopFlag};

/// Starts a listener on 127.0.0.1 that treats every connection with `serve`; returns the port
/// and a count of accepted connections.
fn serve(behaviour: fn(std::net::TcpStream)) -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            count.fetch_add(1, Ordering::SeqCst);
            std::thread::spawn(move || behaviour(stream));
        }
    });
    (port, accepted)
}

fn endless(mut s: std::net::TcpStream) {
    let chunk = vec![b'A'; 16 * 1024];
    while s.write_all(&chunk).is_ok() {}
}

fn silent(mut s: std::net::TcpStream) {
    let mut buf = [0u8; 1024];
    while matches!(s.read(&mut buf), Ok(n) if n > 0) {}
}

fn slow_loris(mut s: std::net::TcpStream) {
    for _ in 0..10_000 {
        if s.write_all(b"x").is_err() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn garbage(mut s: std::net::TcpStream) {
    let bytes: Vec<u8> = (0..=255u8).cycle().take(3000).collect();
    let _ = s.write_all(&bytes);
    let _ = s.write_all(b"\xff\xfe\x00\xc3\x28 SSH-2.0-\xe2\x82 broken\r\n");
    std::thread::sleep(Duration::from_millis(300));
}

fn endless_header(mut s: std::net::TcpStream) {
    let mut buf = [0u8; 1024];
    let _ = s.read(&mut buf);
    let _ = s.write_all(b"HTTP/1.1 200 OK\r\nServer: ");
    let long = vec![b'n'; 8 * 1024];
    while s.write_all(&long).is_ok() {}
}

fn policy(ports: &[u16], identify_ms: u64) -> ScanPolicy {
    let scope = Scope {
        include: Scope::parse_list("127.0.0.1").unwrap(),
        exclude: vec![],
    };
    let mut p = ScanPolicy::gentle(scope);
    p.ports = ports.iter().map(|p| (*p, Transport::Tcp)).collect();
    p.rate = 0.0;
    p.per_host = ports.len();
    p.timeout_ms = 500;
    p.identify_ms = identify_ms;
    p.snmp_communities.clear();
    p
}

fn now() -> Box<dyn Fn() -> chrono::NaiveDateTime + Send + Sync> {
    Box::new(|| chrono::Local::now().naive_local())
}

#[test]
fn misbehaving_peers_cost_at_most_the_identification_budget() {
    let peers = [endless, silent, slow_loris, garbage, endless_header];
    let ports: Vec<u16> = peers.iter().map(|b| serve(*b).0).collect();
    let started = Instant::now();
    let outcome = scanner::run(
        policy(&ports, 2000),
        vec!["127.0.0.1".parse().unwrap()],
        Arc::new(Counters::default()),
        StopFlag::default(),
        now(),
    )
    .unwrap();
    let took = started.elapsed();
    // Every port is probed at once; each identification stops at its 2 s budget.
    assert!(took < Duration::from_secs(20), "took {took:?}");
    assert!(outcome.stopped.is_none());
    let host = &outcome.hosts[0];
    assert_eq!(host.ports.len(), ports.len(), "{host:#?}");
    for p in &host.ports {
        if let Some(b) = &p.banner {
            assert!(b.chars().count() <= 201, "banner of {} too long", p.port);
            assert!(!b.chars().any(|c| c.is_control()), "{b:?}");
        }
        for v in p.facts.values() {
            assert!(v.chars().count() <= 201, "{v}");
        }
    }
}

#[test]
fn an_address_outside_the_scope_gets_no_packet() {
    let (port, accepted) = serve(silent);
    let mut p = policy(&[port], 500);
    // The caller asks for 127.0.0.1, but the scope excludes it.
    p.scope.exclude = Scope::parse_list("127.0.0.1").unwrap();
    let counters = Arc::new(Counters::default());
    let outcome = scanner::run(
        p,
        vec!["127.0.0.1".parse::<IpAddr>().unwrap()],
        counters.clone(),
        StopFlag::default(),
        now(),
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        0,
        "a refused address was probed"
    );
    assert_eq!(counters.probes.load(Ordering::SeqCst), 0);
    assert_eq!(counters.refused.load(Ordering::SeqCst), 1);
    assert!(outcome.hosts.iter().all(|h| !h.up));
}

#[test]
fn a_stop_keeps_finished_hosts_and_reports_the_interruption() {
    let (port, _) = serve(silent);
    let mut p = policy(&[port], 500);
    p.scope.include = Scope::parse_list("127.0.0.1-127.0.0.200").unwrap();
    // 5 probes a second: 200 hosts would take 40 s. One connection at a time, so hosts are
    // probed in address order and the listener's host is the first to finish.
    p.rate = 5.0;
    p.per_host = 1;
    p.concurrency = 1;
    let targets = p.scope.addresses(1000);
    let stop = StopFlag::default();
    let stopper = stop.clone();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(1500));
        stopper.stop();
    });
    let started = Instant::now();
    let outcome = scanner::run(p, targets, Arc::new(Counters::default()), stop, now()).unwrap();
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(outcome.stopped, Some(mamori_net::Stopped::Interrupted));
    assert!(
        !outcome.hosts.is_empty() && outcome.hosts.len() < 200,
        "{}",
        outcome.hosts.len()
    );
    // The first host (the listener's) finished and was kept with its open port.
    assert_eq!(outcome.hosts[0].addr.to_string(), "127.0.0.1");
    assert_eq!(outcome.hosts[0].ports.len(), 1);
}

#[test]
fn outside_its_window_a_scan_sends_nothing() {
    let (port, accepted) = serve(silent);
    let mut p = policy(&[port], 500);
    p.windows = vec![mamori_net::Window::parse("03:00-03:01").unwrap()];
    let outcome = scanner::run(
        p,
        vec!["127.0.0.1".parse().unwrap()],
        Arc::new(Counters::default()),
        StopFlag::default(),
        // The clock says noon.
        Box::new(|| {
            chrono::NaiveDate::from_ymd_opt(2026, 11, 26)
                .unwrap()
                .and_hms_opt(12, 0, 0)
                .unwrap()
        }),
    )
    .unwrap();
    assert_eq!(outcome.stopped, Some(mamori_net::Stopped::OutsideWindow));
    assert_eq!(accepted.load(Ordering::SeqCst), 0);
}
