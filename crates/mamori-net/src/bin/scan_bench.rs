//! Benchmark and diagnosis tool for the scanner (not the user's command — that is
//! `mamori scan run`). Scans a scope and prints the open ports, the probe rate achieved
//! and the wall time; `--json` prints every host as mamori stores it.
//!
//! `scan_bench SCOPE PORTS [--rate R] [--concurrency C] [--per-host P] [--timeout-ms T]
//!  [--no-identify] [--json] [--snmp COMMUNITY]`
//!
//! Only loopback and private scopes are accepted: this is a benchmark, not a scanner.

use std::sync::Arc;
use std::time::Instant;

use mamori_net::{scanner, Counters, ScanPolicy, Scope, StopFlag};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 {
        eprintln!("usage: scan_bench SCOPE PORTS [--rate R] [--concurrency C] [--per-host P] [--timeout-ms T] [--no-identify] [--json] [--snmp C]");
        std::process::exit(2);
    }
    let include = Scope::parse_list(&args[0]).unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(2)
    });
    let scope = Scope {
        include,
        exclude: vec![],
    };
    if !scope.public_spans().is_empty() {
        eprintln!("scan_bench scans private and loopback addresses only");
        std::process::exit(2);
    }
    let mut policy = ScanPolicy::gentle(scope.clone());
    policy.ports = mamori_net::ports::parse_ports(&args[1]).unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(2)
    });
    policy.snmp_communities.clear();
    let mut json = false;
    let mut i = 2;
    let num = |i: usize| -> f64 {
        args.get(i).and_then(|v| v.parse().ok()).unwrap_or_else(|| {
            eprintln!("{} needs a number", args[i - 1]);
            std::process::exit(2)
        })
    };
    while i < args.len() {
        match args[i].as_str() {
            "--rate" => {
                policy.rate = num(i + 1);
                i += 1;
            }
            "--concurrency" => {
                policy.concurrency = num(i + 1) as usize;
                i += 1;
            }
            "--per-host" => {
                policy.per_host = num(i + 1) as usize;
                i += 1;
            }
            "--timeout-ms" => {
                policy.timeout_ms = num(i + 1) as u64;
                i += 1;
            }
            "--snmp" => {
                policy.snmp_communities.push(args[i + 1].clone());
                i += 1;
            }
            "--no-identify" => policy.identify = false,
            "--json" => json = true,
            other => {
                eprintln!("unknown option {other}");
                std::process::exit(2);
            }
        }
        i += 1;
    }
    let targets = scope.addresses(1 << 20);
    let counters = Arc::new(Counters::default());
    let started = Instant::now();
    let outcome = scanner::run(
        policy,
        targets,
        counters.clone(),
        StopFlag::default(),
        Box::new(|| chrono::Local::now().naive_local()),
    )
    .expect("runtime");
    let secs = started.elapsed().as_secs_f64();
    if json {
        println!("{}", serde_json::to_string_pretty(&outcome.hosts).unwrap());
    } else {
        for h in outcome.hosts.iter().filter(|h| h.up) {
            for p in &h.ports {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    h.addr,
                    p.key(),
                    p.service.as_deref().unwrap_or("-"),
                    p.product.as_deref().unwrap_or("-"),
                    p.version.as_deref().unwrap_or("-")
                );
            }
        }
    }
    let open: usize = outcome.hosts.iter().map(|h| h.ports.len()).sum();
    eprintln!(
        "hosts {} up {} open {} probes {} in {:.3} s = {:.1} probes/s",
        outcome.hosts.len(),
        outcome.hosts.iter().filter(|h| h.up).count(),
        open,
        outcome.probes,
        secs,
        outcome.probes as f64 / secs
    );
}
