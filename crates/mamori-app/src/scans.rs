//! The network audit (guideline §8.3): scans under a policy, nmap imports, reconciliation
//! with the ledger into 8.3 findings, identified services as components, scan history and
//! differences, and allowed services.
//!
//! A scan is recorded as `running` (with its process id) before the first probe, so a scan
//! killed outright is found and marked `incomplete` (`killed`) by the next scan or listing.
//! An interrupted scan keeps every host it finished; only those hosts count as looked at
//! when findings are resolved.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use mamori_core::access::Permission;
use mamori_core::remediation::Remediation;
use mamori_core::scan::{Check83, HostResult, PortState, Transport, Vantage};
use mamori_core::{AssetKind, Labelled, Lang};
use mamori_matching::reconcile::{self, Allowed, Device, Observation};
/// A running scan's counters and its stop request (for edges that show progress).
pub use mamori_net::{Counters, StopFlag};
use mamori_net::{ScanPolicy, Scope, Span, Window};
use mamori_store::{
    AllowedService, AssetFilter, Finding, FindingEvent, ScanHost, ScanRecord, StoredComponent, Tx,
};
use serde::Serialize;
use serde_json::json;

use crate::findings::Resolution;
use crate::{audit, App, AppError, Result};

/// Scopes larger than this many addresses need `--yes` (setting `scan.max_addresses`).
pub const MAX_ADDRESSES_KEY: &str = "scan.max_addresses";
/// The default of [`MAX_ADDRESSES_KEY`]: a /16.
pub const DEFAULT_MAX_ADDRESSES: u64 = 65_536;
/// No scan, even with `--yes`, enumerates more addresses than this.
pub const HARD_LIMIT: u64 = 1 << 20;
/// The settings of the scan policy a command may override.
pub const POLICY_KEYS: [&str; 6] = [
    "scan.rate",
    "scan.per_host",
    "scan.timeout_ms",
    "scan.ports",
    "scan.windows",
    "scan.snmp_communities",
];
/// Who a scan's state changes of findings are recorded as.
pub const SCAN_ACTOR: &str = "scan";

/// What a person asks of a scan. Empty fields take the settings, then the defaults.
#[derive(Debug, Clone, Default)]
pub struct ScanRequest {
    /// CIDRs, ranges and addresses.
    pub scope: Option<String>,
    /// Add every address in the ledger.
    pub ledger: bool,
    /// Addresses never probed.
    pub exclude: Option<String>,
    /// Ports (`22,80,8000-8100,U:161`, `default`).
    pub ports: Option<String>,
    /// Probes per second.
    pub rate: Option<f64>,
    /// Connections at once per host.
    pub per_host: Option<usize>,
    /// Connections at once overall.
    pub concurrency: Option<usize>,
    /// Connect timeout.
    pub timeout_ms: Option<u64>,
    /// Allowed windows (`mon-fri 19:00-07:00`).
    pub windows: Vec<String>,
    /// SNMP communities.
    pub snmp_communities: Option<Vec<String>>,
    /// Where the scan looks from.
    pub vantage: Vantage,
    /// Broad scopes confirmed.
    pub yes: bool,
    /// Public addresses confirmed.
    pub allow_public: bool,
    /// Identify services (default on).
    pub no_identify: bool,
    /// Try default credentials on the services found (needs an approval in force).
    pub creds: bool,
    /// The hospital's own catalogue files, added to the shipped one.
    pub catalogs: Vec<std::path::PathBuf>,
}

/// A checked scan, ready to run.
#[derive(Debug, Clone)]
pub struct PreparedScan {
    /// The policy it runs under.
    pub policy: ScanPolicy,
    /// Addresses, in order.
    pub targets: Vec<IpAddr>,
    /// 管理番号 of devices left out because the ledger flags them スキャン除外.
    pub excluded_devices: Vec<String>,
    /// The default-credential checks, when asked for and approved.
    pub creds: Option<crate::creds::CredPlan>,
}

/// What a scan or an import did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ScanSummary {
    /// The scan's id.
    pub id: i64,
    /// `complete` or `incomplete`.
    pub status: String,
    /// Why incomplete.
    pub stopped: Option<String>,
    /// Addresses finished.
    pub hosts: usize,
    /// Addresses that answered.
    pub up: usize,
    /// Open ports.
    pub open_ports: usize,
    /// Probes sent.
    pub probes: u64,
    /// Seconds.
    pub seconds: f64,
    /// 8.3 findings opened (new or found again).
    pub opened: Vec<i64>,
    /// 8.3 findings still observed.
    pub confirmed: usize,
    /// 8.3 findings resolved (not seen where the scan looked).
    pub resolved: Vec<i64>,
    /// Services written as components of ledger devices.
    pub components: usize,
    /// Addresses in no ledger row that run services.
    pub unregistered: usize,
    /// Warnings (nmap hosts skipped, …).
    pub warnings: Vec<String>,
    /// What the default-credential checks did, when they ran.
    pub creds: Option<crate::creds::CredSummary>,
}

/// What changed between two scans.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ScanDiff {
    /// The earlier scan.
    pub from: i64,
    /// The later scan.
    pub to: i64,
    /// Addresses with open ports now, none before.
    pub hosts_appeared: Vec<String>,
    /// Addresses with open ports before, none now.
    pub hosts_disappeared: Vec<String>,
    /// `ADDR PORT/T service product version` open now, not before.
    pub ports_appeared: Vec<String>,
    /// Open before, not now.
    pub ports_disappeared: Vec<String>,
    /// Same port, another product or version.
    pub changed: Vec<String>,
}

fn bad(field: &str, ja: String, en: String) -> AppError {
    AppError::bad_value(field, ja, en)
}

fn spans(field: &str, text: &str) -> Result<Vec<Span>> {
    Scope::parse_list(text).map_err(|e| {
        bad(
            field,
            format!("{}: {}", e.text, e.reason_ja),
            format!("{}: {}", e.text, e.reason),
        )
    })
}

/// Whether the process that started a running scan is still alive (Linux `/proc`; where
/// there is none, a running scan is taken to be running).
fn process_alive(pid: i64) -> bool {
    if pid == std::process::id() as i64 {
        return true;
    }
    let proc_dir = Path::new("/proc");
    !proc_dir.is_dir() || proc_dir.join(pid.to_string()).exists()
}

pub(crate) fn score_of(level: &str) -> f64 {
    match level {
        "urgent" => 9.0,
        "high" => 7.0,
        "medium" => 5.0,
        _ => 3.0,
    }
}

/// The address in a finding's subject (`host:ADDR`, `svc:ADDR:PORT/T`).
fn subject_addr(subject: &str) -> Option<(IpAddr, Option<(u16, Transport)>)> {
    if let Some(a) = subject.strip_prefix("host:") {
        return Some((a.parse().ok()?, None));
    }
    let rest = subject.strip_prefix("svc:")?;
    let (addr, port) = rest.rsplit_once(':')?;
    let (n, t) = port.split_once('/')?;
    Some((
        addr.parse().ok()?,
        Some((n.parse().ok()?, Transport::parse(t)?)),
    ))
}

/// Where a scan looked: the hosts it finished, and for each the ports it would have seen.
struct Coverage {
    vantage: Vantage,
    /// Ports probed on every host (mamori), or `None` (nmap: per host, below).
    ports: Option<BTreeSet<(u16, Transport)>>,
    /// Per host, the ports the file reports as not open (nmap).
    closed: HashMap<IpAddr, BTreeSet<(u16, Transport)>>,
    hosts: HashSet<IpAddr>,
    /// Addresses recognised as ledger devices, with their 管理番号 (filled when stored).
    registered: HashMap<IpAddr, String>,
    /// The services the default-credential checks looked at, when they ran: only those
    /// confirm or resolve credential findings.
    creds: Option<HashSet<(IpAddr, u16, Transport)>>,
}

impl Coverage {
    /// Whether the scan looked at this port of this address: a finished host, and a port it
    /// probed (nmap: a port the file reports closed).
    fn looked(&self, addr: IpAddr, port: (u16, Transport)) -> bool {
        self.hosts.contains(&addr)
            && match &self.ports {
                Some(ports) => ports.contains(&port),
                None => self.closed.get(&addr).is_some_and(|c| c.contains(&port)),
            }
    }

    /// Whether the scan looked where a finding was observed: for a service, its port; for a
    /// whole host, every port that was open when the finding was raised (`open_ports` in its
    /// evidence) — a scan of a few other ports says nothing about those.
    fn covers(&self, check: Check83, subject: &str, evidence: &serde_json::Value) -> bool {
        // The operating-hours checks are the watch's (crate::hours), not a scan's.
        if matches!(
            check,
            Check83::OutOfHours | Check83::LongUnseen | Check83::MaintenanceOutsideWindow
        ) {
            return false;
        }
        let Some((addr, port)) = subject_addr(subject) else {
            return false;
        };
        if !self.hosts.contains(&addr) {
            return false;
        }
        if check.is_credential() {
            return match (&self.creds, port) {
                (Some(checked), Some((n, t))) => checked.contains(&(addr, n, t)),
                _ => false,
            };
        }
        if check == Check83::ExternallyReachable && self.vantage != Vantage::External {
            return false;
        }
        match port {
            Some(p) => self.looked(addr, p),
            None => evidence["open_ports"].as_array().is_none_or(|ports| {
                ports.iter().all(|k| {
                    k.as_str()
                        .and_then(|k| subject_addr(&format!("svc:{addr}:{k}")))
                        .and_then(|(_, p)| p)
                        .is_some_and(|p| self.looked(addr, p))
                })
            }),
        }
    }
}

fn ledger_devices(tx: &dyn Tx) -> Result<Vec<Device>> {
    Ok(tx
        .assets(&AssetFilter::default())?
        .into_iter()
        .map(|s| Device {
            id: s.id,
            asset_id: s.asset.asset_id.clone(),
            kind: s.asset.kind,
            status: s.asset.status,
            ips: s.asset.ip.clone(),
            macs: s.asset.mac.clone(),
            hostnames: s
                .asset
                .hostname
                .iter()
                .map(|h| h.to_ascii_lowercase())
                .collect(),
            external_access: s.asset.external_access,
        })
        .collect())
}

fn allowed_of(tx: &dyn Tx) -> Result<Allowed> {
    let mut allowed = Allowed::default();
    for a in tx.allowed_services()? {
        let Some(t) = Transport::parse(&a.transport) else {
            continue;
        };
        if let Some(kind) = a.scope.strip_prefix("kind:").and_then(AssetKind::parse) {
            allowed.by_kind.entry(kind).or_default().insert((a.port, t));
        } else if let Some(id) = a.scope.strip_prefix("asset:").and_then(|i| i.parse().ok()) {
            allowed.by_device.entry(id).or_default().insert((a.port, t));
        }
    }
    Ok(allowed)
}

fn new_check_finding(o: &Observation, scan: i64, now: DateTime<Utc>) -> Finding {
    let mut f = Finding::new(o.asset.unwrap_or(0), &o.subject, &o.check.finding_id(), now);
    f.component = o.shown.clone();
    f.source = "scan".into();
    f.confidence = "high".into();
    f.score = score_of(o.level);
    f.level = o.level.into();
    f.sources = vec![format!("scan #{scan}")];
    f
}

fn evidence(o: &Observation, scan: i64, host: Option<&HostResult>) -> serde_json::Value {
    let port = o.port.and_then(|(n, t)| {
        host.and_then(|h| h.ports.iter().find(|p| p.port == n && p.transport == t))
    });
    json!({
        "check": o.check.code(),
        "clause": o.check.clause(),
        "why": o.why,
        "why_ja": o.why_ja,
        "scan": scan,
        "addr": o.addr.to_string(),
        "port": port,
        "open_ports": host.map(|h| h.open_ports().map(|p| p.key()).collect::<Vec<_>>()).unwrap_or_default(),
        "hostnames": host.map(|h| h.hostnames.clone()).unwrap_or_default(),
    })
}

fn system_event(
    id: i64,
    from: &str,
    to: Remediation,
    reason: &str,
    scan: i64,
) -> Option<FindingEvent> {
    (from != to.code()).then(|| FindingEvent {
        finding: id,
        actor: SCAN_ACTOR.into(),
        from: from.to_string(),
        to: to.code().into(),
        reason: Some(reason.into()),
        detail: json!({ "scan": scan }),
        planned_date: None,
    })
}

/// Writes what one scan observed as 8.3 findings, and resolves those it no longer sees
/// where it looked.
fn record_observations(
    tx: &mut dyn Tx,
    scan: i64,
    hosts: &[HostResult],
    coverage: &Coverage,
    observations: &[Observation],
    now: DateTime<Utc>,
    summary: &mut ScanSummary,
) -> Result<()> {
    let by_addr: HashMap<IpAddr, &HostResult> = hosts.iter().map(|h| (h.addr, h)).collect();
    let existing = tx.check_findings()?;
    let mut index: HashMap<(i64, String, String), Finding> = existing
        .into_iter()
        .map(|f| ((f.asset, f.component_key.clone(), f.vuln.clone()), f))
        .collect();
    let mut seen: HashSet<(i64, String, String)> = HashSet::new();
    for o in observations {
        let key = (
            o.asset.unwrap_or(0),
            o.subject.clone(),
            o.check.finding_id(),
        );
        if !seen.insert(key.clone()) {
            continue;
        }
        let ev = evidence(o, scan, by_addr.get(&o.addr).copied());
        match index.get_mut(&key) {
            Some(f) => {
                let reopened = f.status != "open";
                f.status = "open".into();
                f.reason = reopened.then(|| Resolution::FoundAgain.to_string());
                f.resolved_at = None;
                f.last_seen = now;
                f.component = o.shown.clone();
                f.level = o.level.into();
                f.score = score_of(o.level);
                f.sources = vec![format!("scan #{scan}")];
                f.evidence = ev;
                tx.save_finding(f)?;
                if reopened {
                    if let Some(e) =
                        system_event(f.id, &f.state, Remediation::New, "found_again", scan)
                    {
                        tx.set_finding_state(&e)?;
                    }
                    summary.opened.push(f.id);
                } else {
                    summary.confirmed += 1;
                }
            }
            None => {
                let mut f = new_check_finding(o, scan, now);
                f.evidence = ev;
                let id = tx.save_finding(&f)?;
                summary.opened.push(id);
            }
        }
    }
    for (key, f) in &index {
        if f.status != "open" || seen.contains(key) {
            continue;
        }
        let Some(check) = Check83::from_finding_id(&f.vuln) else {
            continue;
        };
        if !coverage.covers(check, &f.component_key, &f.evidence) {
            continue;
        }
        let now_registered = (f.asset == 0)
            .then(|| subject_addr(&f.component_key))
            .flatten()
            .and_then(|(addr, _)| coverage.registered.get(&addr));
        let reason = match now_registered {
            Some(asset_id) => Resolution::Registered {
                asset_id: asset_id.clone(),
            },
            None => Resolution::NotSeen { scan },
        };
        tx.set_finding_status(f.id, "resolved", Some(&reason.to_string()), Some(now))?;
        if let Some(e) = system_event(f.id, &f.state, Remediation::Fixed, "not_seen_in_scan", scan)
        {
            tx.set_finding_state(&e)?;
        }
        summary.resolved.push(f.id);
    }
    summary.unregistered = observations
        .iter()
        .filter(|o| o.check == Check83::Unregistered)
        .count();
    Ok(())
}

/// Writes the services identified on ledger devices as their `scan` components. A device's
/// earlier scan components stay unless this scan looked at their address and port: a scan of
/// a few ports does not drop the services it did not look at.
fn record_components(
    tx: &mut dyn Tx,
    scan: i64,
    hosts: &[(HostResult, Option<i64>)],
    coverage: &Coverage,
) -> Result<usize> {
    let mut by_asset: BTreeMap<i64, Vec<StoredComponent>> = BTreeMap::new();
    for (h, asset) in hosts {
        let Some(asset) = asset else { continue };
        let list = by_asset.entry(*asset).or_default();
        for p in h.open_ports() {
            let Some(product) = &p.product else { continue };
            // The CPE the scan gave, then the older names NVD records use for the product.
            let named = mamori_net::identify::Product {
                name: product.clone(),
                version: p.version.clone(),
            };
            let mut cpes: Vec<Option<String>> = vec![p.cpe.clone()];
            for c in mamori_net::identify::cpes(&named) {
                if !cpes.contains(&Some(c.clone())) {
                    cpes.push(Some(c));
                }
            }
            let detail = json!({ "scan": scan, "addr": h.addr.to_string(), "port": p.key(), "service": p.service })
                .to_string();
            for cpe in cpes {
                let c = StoredComponent {
                    asset: *asset,
                    name: product.clone(),
                    version: p.version.clone(),
                    cpe,
                    purl: None,
                    detail: Some(detail.clone()),
                };
                if !list
                    .iter()
                    .any(|x| x.name == c.name && x.version == c.version && x.cpe == c.cpe)
                {
                    list.push(c);
                }
            }
        }
    }
    let by_addr: HashMap<IpAddr, &HostResult> = hosts.iter().map(|(h, _)| (h.addr, h)).collect();
    // A component's port was looked at when the scan probed it, or (nmap) lists it at all.
    let looked = |addr: IpAddr, port: (u16, Transport)| -> bool {
        coverage.looked(addr, port)
            || by_addr
                .get(&addr)
                .is_some_and(|h| h.ports.iter().any(|p| (p.port, p.transport) == port))
    };
    let mut n = 0;
    for (asset, comps) in &mut by_asset {
        n += comps.len();
        for old in tx.components("scan", Some(&[*asset]))? {
            let place = old
                .detail
                .as_deref()
                .and_then(|d| serde_json::from_str::<serde_json::Value>(d).ok())
                .and_then(|d| {
                    let addr: IpAddr = d["addr"].as_str()?.parse().ok()?;
                    let (_, port) = subject_addr(&format!("svc:{addr}:{}", d["port"].as_str()?))?;
                    Some((addr, port?))
                });
            let keep = match place {
                Some((addr, port)) => !looked(addr, port),
                None => false,
            };
            if keep
                && !comps
                    .iter()
                    .any(|x| x.name == old.name && x.version == old.version && x.cpe == old.cpe)
            {
                comps.push(old);
            }
        }
        tx.replace_components(*asset, "scan", comps)?;
    }
    Ok(n)
}

fn host_rows(hosts: &[HostResult], devices: &[Device]) -> Vec<(HostResult, Option<i64>)> {
    hosts
        .iter()
        .map(|h| (h.clone(), reconcile::recognise(h, devices).map(|d| d.id)))
        .collect()
}

impl App {
    /// Checks a request against the ledger and the settings: the scope (required), the
    /// exclusions (with devices flagged スキャン除外), the ports, the size and public-space
    /// confirmations, the rate and windows.
    pub fn prepare_scan(&mut self, req: &ScanRequest) -> Result<PreparedScan> {
        self.require(Permission::Scan)?;
        let tx = self.store.begin_read()?;
        let assets = tx.assets(&AssetFilter::default())?;
        let setting = |key: &str| -> Result<Option<String>> { Ok(tx.setting(key)?) };
        let mut include = match &req.scope {
            Some(text) => spans("--scope", text)?,
            None => Vec::new(),
        };
        if req.ledger {
            let mut ips: Vec<IpAddr> = assets
                .iter()
                .flat_map(|a| a.asset.ip.iter().copied())
                .collect();
            ips.sort();
            include.extend(ips.into_iter().map(|ip| Span::Range(ip, ip)));
        }
        if include.is_empty() {
            return Err(bad(
                "--scope",
                "スキャン範囲がありません。--scope (例: 192.168.10.0/24) か --ledger (台帳のアドレス) を指定してください。範囲なしでは実行しません".into(),
                "no scope: give --scope (e.g. 192.168.10.0/24) or --ledger (the addresses in the ledger); mamori never scans without one".into(),
            ));
        }
        let mut exclude = match &req.exclude {
            Some(text) => spans("--exclude", text)?,
            None => Vec::new(),
        };
        let mut excluded_devices = Vec::new();
        for a in assets.iter().filter(|a| a.asset.scan_exclude == Some(true)) {
            if !a.asset.ip.is_empty() {
                excluded_devices.push(a.asset.asset_id.clone());
            }
            exclude.extend(a.asset.ip.iter().map(|ip| Span::Range(*ip, *ip)));
        }
        let scope = Scope { include, exclude };
        let public: Vec<String> = scope.public_spans().iter().map(|s| s.to_string()).collect();
        if !public.is_empty() && !req.allow_public {
            return Err(bad(
                "--scope",
                format!("グローバル (公開) アドレスが含まれます: {}。自院の管理するアドレスであることを確認のうえ --allow-public を付けてください", public.join(", ")),
                format!("the scope reaches public addresses: {}. Confirm they are your own and add --allow-public", public.join(", ")),
            ));
        }
        let limit: u64 = setting(MAX_ADDRESSES_KEY)?
            .and_then(|v| v.parse().ok())
            .unwrap_or(DEFAULT_MAX_ADDRESSES);
        let size = scope.size();
        if size > HARD_LIMIT as u128 {
            return Err(bad(
                "--scope",
                format!("範囲が広すぎます ({size} アドレス、上限 {HARD_LIMIT})。分割してください"),
                format!("the scope holds {size} addresses, more than mamori ever scans at once ({HARD_LIMIT}); split it"),
            ));
        }
        if size > limit as u128 && !req.yes {
            return Err(bad(
                "--scope",
                format!("範囲が {size} アドレスあり、設定 {MAX_ADDRESSES_KEY} ({limit}) を超えます。意図どおりなら --yes を付けてください"),
                format!("the scope holds {size} addresses, more than {MAX_ADDRESSES_KEY} ({limit}); add --yes if that is intended"),
            ));
        }
        let mut policy = ScanPolicy::gentle(scope.clone());
        let ports_text = match &req.ports {
            Some(p) => Some(p.clone()),
            None => setting("scan.ports")?,
        };
        if let Some(text) = ports_text {
            policy.ports = mamori_net::ports::parse_ports(&text)
                .map_err(|e| bad("--ports", format!("ポートの指定が読めません: {e}"), e))?;
        }
        let num =
            |key: &str| -> Result<Option<f64>> { Ok(setting(key)?.and_then(|v| v.parse().ok())) };
        policy.rate = req.rate.or(num("scan.rate")?).unwrap_or(policy.rate);
        if !(policy.rate.is_finite() && policy.rate >= 0.0 && policy.rate <= 100_000.0) {
            return Err(bad(
                "--rate",
                "--rate は 0 (制限なし) から 100000 までの毎秒プローブ数です".into(),
                "--rate is probes per second, 0 (no limit) to 100000".into(),
            ));
        }
        policy.per_host = req
            .per_host
            .or(num("scan.per_host")?.map(|v| v as usize))
            .unwrap_or(policy.per_host)
            .clamp(1, 64);
        policy.concurrency = req.concurrency.unwrap_or(policy.concurrency).clamp(1, 4096);
        policy.timeout_ms = req
            .timeout_ms
            .or(num("scan.timeout_ms")?.map(|v| v as u64))
            .unwrap_or(policy.timeout_ms)
            .clamp(50, 60_000);
        let windows = if req.windows.is_empty() {
            setting("scan.windows")?
                .map(|w| w.split(';').map(str::to_string).collect())
                .unwrap_or_default()
        } else {
            req.windows.clone()
        };
        policy.windows = windows
            .iter()
            .filter(|w| !w.trim().is_empty())
            .map(|w| {
                Window::parse(w).map_err(|e| bad("--window", format!("時間帯が読めません: {e}"), e))
            })
            .collect::<Result<_>>()?;
        policy.snmp_communities = match &req.snmp_communities {
            Some(c) => c.clone(),
            None => setting("scan.snmp_communities")?
                .map(|c| {
                    c.split(',')
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty())
                        .collect()
                })
                .unwrap_or_else(|| vec!["public".into()]),
        };
        policy.vantage = req.vantage;
        policy.identify = !req.no_identify;
        let targets = scope.addresses(HARD_LIMIT as usize);
        drop(tx);
        let creds = if req.creds {
            let now = self.now_local()?;
            Some(self.plan_cred_checks(&targets, &req.catalogs, now)?)
        } else {
            None
        };
        Ok(PreparedScan {
            policy,
            targets,
            excluded_devices,
            creds,
        })
    }

    /// Marks scans whose process is gone as `incomplete` (`killed`); returns their ids.
    pub fn mark_killed_scans(&mut self) -> Result<Vec<i64>> {
        let running: Vec<ScanRecord> = self
            .store
            .begin_read()?
            .scans()?
            .into_iter()
            .filter(|s| s.status == "running" && !s.pid.is_some_and(process_alive))
            .collect();
        if running.is_empty() {
            return Ok(Vec::new());
        }
        let mut tx = self.store.begin()?;
        let mut ids = Vec::new();
        for mut s in running {
            s.status = "incomplete".into();
            s.stopped = Some("killed".into());
            tx.finish_scan(&s, &[])?;
            audit(
                tx.as_mut(),
                SCAN_ACTOR,
                "scan.killed",
                Some(&format!("scan:{}", s.id)),
                json!({ "before": "running", "after": "incomplete", "pid": s.pid }),
            )?;
            ids.push(s.id);
        }
        tx.commit()?;
        Ok(ids)
    }

    /// Runs a prepared scan: records it, probes (watch `counters`; `stop` ends it early),
    /// then stores what it saw, reconciles it with the ledger and writes 8.3 findings and
    /// the identified services — in one transaction.
    pub fn run_scan(
        &mut self,
        prepared: PreparedScan,
        counters: Arc<Counters>,
        stop: StopFlag,
    ) -> Result<ScanSummary> {
        self.require(Permission::Scan)?;
        self.mark_killed_scans()?;
        let policy_json = serde_json::to_value(&prepared.policy)
            .map_err(|e| AppError::Internal(e.to_string()))?;
        let started_at = self.now_utc()?;
        let mut record = ScanRecord {
            id: 0,
            source: "mamori".into(),
            started_at,
            finished_at: None,
            status: "running".into(),
            stopped: None,
            vantage: prepared.policy.vantage.code().into(),
            policy: policy_json.clone(),
            actor: self.actor.clone(),
            pid: Some(std::process::id() as i64),
            file: None,
            hosts: 0,
            up: 0,
            open_ports: 0,
            probes: 0,
        };
        {
            let mut tx = self.store.begin()?;
            record.id = tx.insert_scan(&record)?;
            audit(
                tx.as_mut(),
                &self.actor,
                "scan.start",
                Some(&format!("scan:{}", record.id)),
                json!({ "policy": policy_json, "targets": prepared.targets.len(), "excluded_devices": prepared.excluded_devices }),
            )?;
            tx.commit()?;
        }
        let ports: BTreeSet<(u16, Transport)> = prepared.policy.ports.iter().copied().collect();
        let vantage = prepared.policy.vantage;
        let plan = prepared.creds.clone();
        let outcome = mamori_net::scanner::run(
            prepared.policy,
            prepared.targets,
            counters,
            stop,
            self.window_clock()?,
        )
        .map_err(|e| AppError::Internal(format!("scanner runtime: {e}")))?;
        let mut summary = ScanSummary {
            id: record.id,
            status: if outcome.stopped.is_none() {
                "complete"
            } else {
                "incomplete"
            }
            .into(),
            stopped: outcome.stopped.as_ref().map(|s| {
                serde_json::to_value(s)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default()
            }),
            hosts: outcome.hosts.len(),
            up: outcome.hosts.iter().filter(|h| h.up).count(),
            open_ports: outcome.hosts.iter().map(|h| h.open_ports().count()).sum(),
            probes: outcome.probes,
            seconds: outcome.elapsed.as_secs_f64(),
            ..ScanSummary::default()
        };
        let mut coverage = Coverage {
            vantage,
            ports: Some(ports),
            closed: HashMap::new(),
            hosts: outcome.hosts.iter().map(|h| h.addr).collect(),
            registered: HashMap::new(),
            creds: None,
        };
        // The default-credential checks: after a scan that was not stopped, and only while
        // the approvals' windows still allow it.
        let mut cred_runs = None;
        if let Some(plan) = &plan {
            let now = self.now_local()?;
            if outcome.stopped.is_some() {
                summary
                    .warnings
                    .push("default-credential checks skipped: the scan was stopped".into());
            } else if !plan.windows.is_empty() && !plan.windows.iter().any(|w| w.contains(now)) {
                summary
                    .warnings
                    .push("default-credential checks skipped: outside the approved windows".into());
            } else {
                let (runs, mut checked, cs) = crate::creds::run_checks(plan, &outcome.hosts)?;
                // A service the scan looked for and found gone is checked too: its
                // credential findings are resolved.
                for h in &outcome.hosts {
                    for &(n, t) in coverage.ports.iter().flatten() {
                        let open = h.open_ports().any(|p| p.port == n && p.transport == t);
                        if !open {
                            checked.insert((h.addr, n, t));
                        }
                    }
                }
                coverage.creds = Some(checked);
                summary.creds = Some(cs);
                cred_runs = Some(runs);
            }
        }
        record.status = summary.status.clone();
        record.stopped = summary.stopped.clone();
        record.finished_at = Some(self.now_utc()?);
        let creds = plan.as_ref().zip(cred_runs.as_deref());
        self.store_scan(
            record,
            &outcome.hosts,
            coverage,
            vantage,
            creds,
            &mut summary,
        )?;
        Ok(summary)
    }

    /// Stores a finished scan with its hosts, findings and components (one transaction).
    fn store_scan(
        &mut self,
        mut record: ScanRecord,
        hosts: &[HostResult],
        mut coverage: Coverage,
        vantage: Vantage,
        creds: Option<(&crate::creds::CredPlan, &[mamori_net::creds::CredRun])>,
        summary: &mut ScanSummary,
    ) -> Result<()> {
        let now = self.now_utc()?;
        let mut tx = self.store.begin()?;
        if record.id == 0 {
            record.id = tx.insert_scan(&record)?;
            summary.id = record.id;
        }
        let devices = ledger_devices(tx.as_ref())?;
        let allowed = allowed_of(tx.as_ref())?;
        let rows = host_rows(hosts, &devices);
        record.hosts = hosts.len() as i64;
        record.up = summary.up as i64;
        record.open_ports = summary.open_ports as i64;
        record.probes = summary.probes as i64;
        let stored: Vec<ScanHost> = rows
            .iter()
            .map(|(h, asset)| ScanHost {
                addr: h.addr.to_string(),
                up: h.up,
                asset: *asset,
                result: h.clone(),
            })
            .collect();
        tx.finish_scan(&record, &stored)?;
        let mut observations = reconcile::reconcile(hosts, &devices, &allowed, vantage);
        if let Some((plan, runs)) = creds {
            observations.extend(crate::creds::observations(plan, hosts, runs, &devices));
            // Which entries worked where — never a password.
            let hits: Vec<serde_json::Value> = runs
                .iter()
                .flat_map(|r| &r.hits)
                .map(|h| json!({ "addr": h.addr.to_string(), "port": h.port, "protocol": h.protocol, "entry": h.entry, "username": h.username, "no_auth": h.no_auth }))
                .collect();
            audit(
                tx.as_mut(),
                &self.actor,
                "creds.run",
                Some(&format!("scan:{}", record.id)),
                json!({ "approvals": plan.approvals, "max_attempts": plan.policy.max_attempts, "delay_ms": plan.policy.delay_ms, "summary": summary.creds, "hits": hits }),
            )?;
        }
        let names: HashMap<i64, &str> = devices
            .iter()
            .map(|d| (d.id, d.asset_id.as_str()))
            .collect();
        coverage.registered = rows
            .iter()
            .filter_map(|(h, a)| Some((h.addr, names.get(&(*a)?)?.to_string())))
            .collect();
        record_observations(
            tx.as_mut(),
            record.id,
            hosts,
            &coverage,
            &observations,
            now,
            summary,
        )?;
        summary.components = record_components(tx.as_mut(), record.id, &rows, &coverage)?;
        audit(
            tx.as_mut(),
            &self.actor,
            "scan.finish",
            Some(&format!("scan:{}", record.id)),
            json!({
                "status": record.status, "stopped": record.stopped, "source": record.source,
                "hosts": record.hosts, "up": record.up, "open_ports": record.open_ports,
                "probes": record.probes, "opened": summary.opened, "resolved": summary.resolved,
                "components": summary.components,
            }),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Imports an nmap XML file (`-oX`) as a scan: all of it or nothing.
    pub fn import_nmap(&mut self, path: &Path, vantage: Vantage) -> Result<ScanSummary> {
        self.require(Permission::Scan)?;
        let bytes = crate::read_input(path, crate::MAX_INPUT_BYTES)?;
        let (mut run, warnings) = mamori_feeds::nmap::parse_nmap_xml(&bytes).map_err(|e| {
            bad(
                &path.display().to_string(),
                format!(
                    "nmap XML として読めません: {e}。nmap -oX の出力ファイルを指定してください"
                ),
                format!("not readable as nmap XML: {e}. Give a file written by nmap -oX"),
            )
        })?;
        // Older nmap writes no <cpe>: name the products mamori knows from what nmap says.
        for p in run.hosts.iter_mut().flat_map(|h| h.ports.iter_mut()) {
            if p.cpe.is_none() {
                if let Some(name) = &p.product {
                    p.cpe = mamori_net::identify::cpe(&mamori_net::identify::Product {
                        name: name.clone(),
                        version: p.version.clone(),
                    });
                }
            }
        }
        let started = run
            .start
            .and_then(|s| DateTime::<Utc>::from_timestamp(s, 0))
            .unwrap_or_else(Utc::now);
        let finished = run.end.and_then(|s| DateTime::<Utc>::from_timestamp(s, 0));
        let record = ScanRecord {
            id: 0,
            source: "nmap".into(),
            started_at: started,
            finished_at: finished.or(Some(Utc::now())),
            status: "complete".into(),
            stopped: None,
            vantage: vantage.code().into(),
            policy: json!({ "nmap_args": run.args, "nmap_version": run.version }),
            actor: self.actor.clone(),
            pid: None,
            file: path.file_name().map(|f| f.to_string_lossy().into_owned()),
            hosts: 0,
            up: 0,
            open_ports: 0,
            probes: 0,
        };
        let mut summary = ScanSummary {
            status: "complete".into(),
            hosts: run.hosts.len(),
            up: run.hosts.iter().filter(|h| h.up).count(),
            open_ports: run.hosts.iter().map(|h| h.open_ports().count()).sum(),
            warnings: warnings.iter().map(|w| w.to_string()).collect(),
            ..ScanSummary::default()
        };
        let coverage = Coverage {
            vantage,
            ports: None,
            closed: run
                .hosts
                .iter()
                .map(|h| {
                    (
                        h.addr,
                        h.ports
                            .iter()
                            .filter(|p| p.state == PortState::Closed)
                            .map(|p| (p.port, p.transport))
                            .collect(),
                    )
                })
                .collect(),
            hosts: run.hosts.iter().filter(|h| h.up).map(|h| h.addr).collect(),
            registered: HashMap::new(),
            creds: None,
        };
        self.store_scan(record, &run.hosts, coverage, vantage, None, &mut summary)?;
        Ok(summary)
    }

    /// Scans, newest first (scans whose process died are marked first).
    /// The latest 20 scans that saw a device (管理番号), newest first.
    pub fn asset_scans(
        &mut self,
        asset_id: &str,
    ) -> Result<Vec<(i64, chrono::DateTime<Utc>, mamori_store::ScanHost)>> {
        self.require(Permission::View)?;
        let tx = self.store.begin_read()?;
        let asset = tx
            .asset(asset_id)?
            .ok_or_else(|| AppError::AssetNotFound(asset_id.to_string()))?;
        Ok(tx.asset_scans(asset.id, 20)?)
    }

    pub fn scans(&mut self) -> Result<Vec<ScanRecord>> {
        self.require(Permission::View)?;
        if self.require(Permission::Scan).is_ok() {
            self.mark_killed_scans()?;
        }
        Ok(self.store.begin_read()?.scans()?)
    }

    /// One scan and what each address answered.
    pub fn scan_detail(&mut self, id: i64) -> Result<(ScanRecord, Vec<ScanHost>)> {
        self.require(Permission::View)?;
        let tx = self.store.begin_read()?;
        let scan = tx.scan(id)?.ok_or_else(|| no_scan(id))?;
        let hosts = tx.scan_hosts(id)?;
        Ok((scan, hosts))
    }

    /// What appeared and disappeared between two scans.
    pub fn scan_diff(&mut self, from: i64, to: i64) -> Result<ScanDiff> {
        self.require(Permission::View)?;
        let tx = self.store.begin_read()?;
        for id in [from, to] {
            tx.scan(id)?.ok_or_else(|| no_scan(id))?;
        }
        let open = |id: i64| -> Result<BTreeMap<(IpAddr, u16, Transport), String>> {
            let mut out = BTreeMap::new();
            for h in tx.scan_hosts(id)? {
                for p in h.result.open_ports() {
                    let what = [&p.service, &p.product, &p.version]
                        .into_iter()
                        .flatten()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(" ");
                    out.insert((h.result.addr, p.port, p.transport), what);
                }
            }
            Ok(out)
        };
        let (a, b) = (open(from)?, open(to)?);
        let hosts = |m: &BTreeMap<(IpAddr, u16, Transport), String>| -> BTreeSet<IpAddr> {
            m.keys().map(|k| k.0).collect()
        };
        let (ha, hb) = (hosts(&a), hosts(&b));
        let show = |k: &(IpAddr, u16, Transport), what: &str| {
            format!("{} {}/{} {what}", k.0, k.1, k.2.code())
                .trim_end()
                .to_string()
        };
        Ok(ScanDiff {
            from,
            to,
            hosts_appeared: hb.difference(&ha).map(|h| h.to_string()).collect(),
            hosts_disappeared: ha.difference(&hb).map(|h| h.to_string()).collect(),
            ports_appeared: b
                .iter()
                .filter(|(k, _)| !a.contains_key(k))
                .map(|(k, w)| show(k, w))
                .collect(),
            ports_disappeared: a
                .iter()
                .filter(|(k, _)| !b.contains_key(k))
                .map(|(k, w)| show(k, w))
                .collect(),
            changed: b
                .iter()
                .filter_map(|(k, w)| {
                    let before = a.get(k)?;
                    (before != w).then(|| format!("{}: {before} → {w}", show(k, "")))
                })
                .collect(),
        })
    }

    /// Allows (or stops allowing) services on every device of a kind (`kind:server`) or on
    /// one device (its 管理番号).
    pub fn set_allowed_services(
        &mut self,
        target: &str,
        ports: &[(u16, Transport)],
        note: Option<&str>,
        allow: bool,
    ) -> Result<usize> {
        self.require(Permission::Scan)?;
        let mut tx = self.store.begin()?;
        let scope = match target.strip_prefix("kind:") {
            Some(kind) => {
                let kind = AssetKind::parse(kind).ok_or_else(|| {
                    bad(
                        "--kind",
                        format!(
                            "機器種別「{kind}」はありません ({})",
                            AssetKind::choices(Lang::Ja)
                        ),
                        format!("no device kind {kind:?} ({})", AssetKind::choices(Lang::En)),
                    )
                })?;
                format!("kind:{}", kind.code())
            }
            None => {
                let asset = tx
                    .asset(target)?
                    .ok_or_else(|| AppError::AssetNotFound(target.to_string()))?;
                format!("asset:{}", asset.id)
            }
        };
        let mut changed = 0;
        for (port, t) in ports {
            let s = AllowedService {
                scope: scope.clone(),
                port: *port,
                transport: t.code().into(),
                note: note.map(str::to_string),
            };
            if tx.set_allowed_service(&s, allow)? {
                changed += 1;
            }
        }
        audit(
            tx.as_mut(),
            &self.actor,
            if allow { "scan.allow" } else { "scan.disallow" },
            Some(target),
            json!({ "ports": ports.iter().map(|(p, t)| format!("{p}/{}", t.code())).collect::<Vec<_>>(), "note": note, "changed": changed }),
        )?;
        tx.commit()?;
        Ok(changed)
    }

    /// 管理番号 by internal id, for showing scan hosts.
    pub fn asset_names_by_id(&mut self) -> Result<HashMap<i64, String>> {
        self.require(Permission::View)?;
        Ok(self
            .store
            .begin_read()?
            .assets(&AssetFilter::default())?
            .into_iter()
            .map(|a| (a.id, a.asset.asset_id))
            .collect())
    }

    /// Allowed services, with the kind or 管理番号 they belong to.
    pub fn allowed_services(&mut self) -> Result<Vec<(String, AllowedService)>> {
        self.require(Permission::View)?;
        let tx = self.store.begin_read()?;
        let names: HashMap<i64, String> = tx
            .assets(&AssetFilter::default())?
            .into_iter()
            .map(|a| (a.id, a.asset.asset_id))
            .collect();
        Ok(tx
            .allowed_services()?
            .into_iter()
            .map(|s| {
                let who = match s
                    .scope
                    .strip_prefix("asset:")
                    .and_then(|i| i.parse::<i64>().ok())
                {
                    Some(id) => names.get(&id).cloned().unwrap_or_else(|| s.scope.clone()),
                    None => s.scope.clone(),
                };
                (who, s)
            })
            .collect())
    }
}

/// Whether a scan setting's value reads.
pub(crate) fn setting_ok(key: &str, value: &str) -> bool {
    match key {
        MAX_ADDRESSES_KEY => value
            .parse::<u64>()
            .is_ok_and(|n| (1..=HARD_LIMIT).contains(&n)),
        "scan.rate" => value
            .parse::<f64>()
            .is_ok_and(|r| (0.0..=100_000.0).contains(&r)),
        "scan.per_host" => value.parse::<usize>().is_ok_and(|n| (1..=64).contains(&n)),
        "scan.timeout_ms" => value
            .parse::<u64>()
            .is_ok_and(|n| (50..=60_000).contains(&n)),
        "scan.ports" => mamori_net::ports::parse_ports(value).is_ok(),
        "scan.windows" => value
            .split(';')
            .filter(|w| !w.trim().is_empty())
            .all(|w| Window::parse(w).is_ok()),
        "scan.snmp_communities" => !value.trim().is_empty() && value.len() <= 200,
        _ => false,
    }
}

fn no_scan(id: i64) -> AppError {
    bad(
        "scan",
        format!("スキャン #{id} はありません (`mamori scan list`)"),
        format!("there is no scan #{id} (see `mamori scan list`)"),
    )
}
