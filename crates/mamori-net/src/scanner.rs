//! Asynchronous TCP connect discovery under a [`ScanPolicy`]: no raw sockets, no root.
//!
//! Every probe asks the policy's scope first, waits for the overall pace (probes per
//! second), and holds a connection permit overall and one of the host's. A host is up when
//! anything answers (an open or a refused port). Open ports are identified on the same
//! connection (see [`crate::probe`]).

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mamori_core::scan::{HostResult, PortResult, PortState, Transport};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;

use crate::policy::ScanPolicy;

/// Live counters of a running scan, for progress bars.
#[derive(Debug, Default)]
pub struct Counters {
    /// Hosts finished.
    pub hosts_done: AtomicUsize,
    /// Hosts to scan.
    pub hosts_total: AtomicUsize,
    /// Hosts that answered.
    pub hosts_up: AtomicUsize,
    /// Open ports found.
    pub open_ports: AtomicUsize,
    /// Probes sent (connection attempts and UDP requests).
    pub probes: AtomicU64,
    /// Probes the scope refused (an address outside the scope never gets a packet).
    pub refused: AtomicU64,
}

/// Ask a running scan to stop: probes not yet sent are not sent; what was found is kept.
#[derive(Debug, Default, Clone)]
pub struct StopFlag(Arc<AtomicBool>);

impl StopFlag {
    /// Asks the scan to stop.
    pub fn stop(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether a stop was asked for.
    pub fn is_set(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// Why a scan did not finish.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stopped {
    /// Interrupted (Ctrl-C, a signal, or the caller).
    Interrupted,
    /// The policy's time window closed.
    OutsideWindow,
}

/// The result of a scan.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Every host whose probes all finished, in address order (up or not).
    pub hosts: Vec<HostResult>,
    /// `None` when every probe was sent.
    pub stopped: Option<Stopped>,
    /// Probes sent.
    pub probes: u64,
    /// Wall time.
    pub elapsed: Duration,
}

/// Paces probes to at most `rate` per second overall: each caller gets the next free slot.
pub(crate) struct Pacer {
    interval: Option<Duration>,
    next: Mutex<Instant>,
}

impl Pacer {
    pub(crate) fn new(rate: f64) -> Pacer {
        let interval =
            (rate > 0.0 && rate.is_finite()).then(|| Duration::from_secs_f64(1.0 / rate));
        Pacer {
            interval,
            next: Mutex::new(Instant::now()),
        }
    }

    /// Waits for the next slot; returns early when `stop` is set (the caller then asks
    /// [`Ctx::may_probe`], which says no).
    pub(crate) async fn wait(&self, stop: &StopFlag) {
        let Some(interval) = self.interval else {
            return;
        };
        let slot = {
            let mut next = self.next.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            let slot = (*next).max(now);
            *next = slot + interval;
            slot
        };
        // A slow pace books slots far ahead: sleep in short steps so a stop is prompt.
        while Instant::now() < slot && !stop.is_set() {
            let step = (slot - Instant::now()).min(Duration::from_millis(100));
            tokio::time::sleep(step).await;
        }
    }
}

/// Shared by every probe of one scan.
pub(crate) struct Ctx {
    pub(crate) policy: ScanPolicy,
    pub(crate) pacer: Pacer,
    pub(crate) permits: Semaphore,
    pub(crate) counters: Arc<Counters>,
    pub(crate) stop: StopFlag,
    pub(crate) stopped: Mutex<Option<Stopped>>,
    pub(crate) now: Box<dyn Fn() -> chrono::NaiveDateTime + Send + Sync>,
}

impl Ctx {
    /// Asked before every probe: may this address get a packet now?
    pub(crate) fn may_probe(&self, addr: IpAddr) -> bool {
        if self.stop.is_set() {
            return false;
        }
        // The clock is read only when the policy has windows (reading the local time for
        // every probe would cost more than the probe).
        if !self.policy.windows.is_empty() && !self.policy.in_window((self.now)()) {
            self.halt(Stopped::OutsideWindow);
            return false;
        }
        if !self.policy.scope.permits(addr) {
            self.counters.refused.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        true
    }

    fn halt(&self, why: Stopped) {
        let mut s = self.stopped.lock().unwrap_or_else(|e| e.into_inner());
        s.get_or_insert(why);
        self.stop.stop();
    }

    pub(crate) fn timeout(&self) -> Duration {
        Duration::from_millis(self.policy.timeout_ms.max(1))
    }
}

/// Runs a scan of `targets` on a runtime of its own (the caller stays synchronous).
/// `now` gives the local time for the policy's windows.
pub fn run(
    policy: ScanPolicy,
    targets: Vec<IpAddr>,
    counters: Arc<Counters>,
    stop: StopFlag,
    now: Box<dyn Fn() -> chrono::NaiveDateTime + Send + Sync>,
) -> std::io::Result<Outcome> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        // Identification futures (TLS, DICOM) are deep in unoptimised builds.
        .thread_stack_size(8 << 20)
        .enable_all()
        .build()?;
    Ok(rt.block_on(scan(policy, targets, counters, stop, now)))
}

/// Scans `targets` under `policy`.
pub async fn scan(
    policy: ScanPolicy,
    targets: Vec<IpAddr>,
    counters: Arc<Counters>,
    stop: StopFlag,
    now: Box<dyn Fn() -> chrono::NaiveDateTime + Send + Sync>,
) -> Outcome {
    let started = Instant::now();
    counters.hosts_total.store(targets.len(), Ordering::Relaxed);
    let concurrency = policy.concurrency.max(1);
    let per_host = policy.per_host.max(1);
    let ctx = Arc::new(Ctx {
        pacer: Pacer::new(policy.rate),
        permits: Semaphore::new(concurrency),
        policy,
        counters: counters.clone(),
        stop,
        stopped: Mutex::new(None),
        now,
    });
    // Hosts in flight: enough to keep every permit busy, few enough that hosts finish one
    // after another (progress) rather than all at the end.
    let hosts_at_once = Arc::new(Semaphore::new((concurrency / per_host).max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for (i, addr) in targets.into_iter().enumerate() {
        let Ok(slot) = hosts_at_once.clone().acquire_owned().await else {
            break;
        };
        if ctx.stop.is_set() {
            break;
        }
        let ctx = ctx.clone();
        tasks.spawn(async move {
            let host = scan_host(&ctx, addr).await;
            drop(slot);
            (i, host)
        });
    }
    let mut hosts = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        if let Ok((i, Some(host))) = joined {
            hosts.push((i, host));
        }
    }
    hosts.sort_by_key(|(i, _)| *i);
    let stopped = ctx
        .stopped
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
        .or_else(|| ctx.stop.is_set().then_some(Stopped::Interrupted));
    Outcome {
        hosts: hosts.into_iter().map(|(_, h)| h).collect(),
        stopped,
        probes: counters.probes.load(Ordering::Relaxed),
        elapsed: started.elapsed(),
    }
}

/// Probes every port of one host; `None` when the scan stopped before the host was done.
async fn scan_host(ctx: &Arc<Ctx>, addr: IpAddr) -> Option<HostResult> {
    // `per_host` workers take the host's ports one after another: at most that many
    // connections to the host at once, and no task per probe.
    let next = Arc::new(AtomicUsize::new(0));
    let workers = ctx
        .policy
        .per_host
        .max(1)
        .min(ctx.policy.ports.len().max(1));
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..workers {
        let (ctx, next) = (ctx.clone(), next.clone());
        set.spawn(async move {
            // Only open ports are kept; a refusal only says the host is there.
            let (mut open, mut answered) = (Vec::new(), false);
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(&(port, transport)) = ctx.policy.ports.get(i) else {
                    break;
                };
                if ctx.stop.is_set() {
                    break;
                }
                let r = match transport {
                    Transport::Tcp => probe_tcp(&ctx, addr, port).await,
                    Transport::Udp => crate::probe::udp(&ctx, addr, port).await,
                };
                match r {
                    Some(Some(r)) => {
                        answered |= matches!(r.state, PortState::Open | PortState::Closed);
                        if r.state == PortState::Open {
                            open.push(r);
                        }
                    }
                    Some(None) => {}
                    None => return None,
                }
            }
            Some((answered, open))
        });
    }
    let (mut ports, mut up) = (Vec::new(), false);
    let mut complete = true;
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok(Some((answered, open))) => {
                up |= answered;
                ports.extend(open);
            }
            Ok(None) | Err(_) => complete = false,
        }
    }
    if ctx.stop.is_set() {
        complete = false;
    }
    ctx.counters.hosts_done.fetch_add(1, Ordering::Relaxed);
    if !complete {
        return None;
    }
    if up {
        ctx.counters.hosts_up.fetch_add(1, Ordering::Relaxed);
    }
    ports.sort_by_key(|p| (p.transport, p.port));
    Some(HostResult {
        addr,
        up,
        mac: None,
        hostnames: Vec::new(),
        ports,
    })
}

/// One TCP connect: `Some(None)` when the probe was not sent (scope, stop, window) —
/// the outer `Option` is `None` only when the permit could not be had.
async fn probe_tcp(ctx: &Arc<Ctx>, addr: IpAddr, port: u16) -> Option<Option<PortResult>> {
    let _permit = ctx.permits.acquire().await.ok()?;
    ctx.pacer.wait(&ctx.stop).await;
    if !ctx.may_probe(addr) {
        return Some(None);
    }
    ctx.counters.probes.fetch_add(1, Ordering::Relaxed);
    let target = SocketAddr::new(addr, port);
    let stream = match connect(target, ctx.timeout()).await {
        Ok(s) => s,
        Err(state) => return Some(Some(PortResult::new(port, Transport::Tcp, state))),
    };
    ctx.counters.open_ports.fetch_add(1, Ordering::Relaxed);
    let mut result = PortResult::new(port, Transport::Tcp, PortState::Open);
    if let Some(svc) = crate::ports::service_of(port, Transport::Tcp) {
        result.service = Some(svc.to_string());
        result.by_port = true;
    }
    if ctx.policy.identify {
        let budget = Duration::from_millis(ctx.policy.identify_ms.max(100));
        let work = Box::pin(crate::probe::identify(ctx, stream, &mut result));
        let _ = tokio::time::timeout(budget, work).await;
    }
    Some(Some(result))
}

/// One TCP connect to each target's known-open port, for the operating-hours watch: paced
/// at the policy's rate, at most `concurrency` at once, each asking the scope first. `Some(true)`
/// when the port accepted, `Some(false)` when it refused or nothing answered, `None` when the
/// scope refused the probe. (A refusal is not counted as up: on loopback, and behind some
/// firewalls, every address refuses.)
pub fn liveness(
    policy: &ScanPolicy,
    targets: &[(IpAddr, u16)],
) -> std::io::Result<Vec<Option<bool>>> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    Ok(rt.block_on(async {
        let pacer = Arc::new(Pacer::new(policy.rate));
        let permits = Arc::new(Semaphore::new(policy.concurrency.max(1)));
        let scope = Arc::new(policy.scope.clone());
        let stop = StopFlag::default();
        let timeout = Duration::from_millis(policy.timeout_ms.max(1));
        let mut set = tokio::task::JoinSet::new();
        for (i, &(addr, port)) in targets.iter().enumerate() {
            let (pacer, permits, scope, stop) =
                (pacer.clone(), permits.clone(), scope.clone(), stop.clone());
            set.spawn(async move {
                let _permit = permits.acquire().await.ok();
                pacer.wait(&stop).await;
                if !scope.permits(addr) {
                    return (i, None);
                }
                let up = connect(SocketAddr::new(addr, port), timeout).await.is_ok();
                (i, Some(up))
            });
        }
        let mut out = vec![None; targets.len()];
        while let Some(Ok((i, r))) = set.join_next().await {
            out[i] = r;
        }
        out
    }))
}

/// A TCP connect with a timeout: `Ok` when the port accepts, `Err(Closed)` when it refuses,
/// `Err(Filtered)` when nothing answers in time (or another error).
///
/// The socket is non-blocking from the start and its outcome is checked right after the
/// `connect` call: a near peer (a LAN switch port, loopback) often answers before the call
/// returns, and then the socket never needs registering with the event loop — which is most
/// of a refused probe's cost.
pub(crate) async fn connect(target: SocketAddr, timeout: Duration) -> Result<TcpStream, PortState> {
    use socket2::{Domain, Socket, Type};
    let refused = |e: &std::io::Error| e.kind() == std::io::ErrorKind::ConnectionRefused;
    let socket = Socket::new(Domain::for_address(target), Type::STREAM, None)
        .map_err(|_| PortState::Filtered)?;
    socket
        .set_nonblocking(true)
        .map_err(|_| PortState::Filtered)?;
    match socket.connect(&target.into()) {
        Ok(()) => {}
        Err(e) if refused(&e) => return Err(PortState::Closed),
        Err(e)
            if e.raw_os_error() == Some(EINPROGRESS)
                || e.kind() == std::io::ErrorKind::WouldBlock => {}
        Err(_) => return Err(PortState::Filtered),
    }
    match socket.take_error() {
        Ok(Some(e)) if refused(&e) => return Err(PortState::Closed),
        Ok(Some(_)) | Err(_) => return Err(PortState::Filtered),
        Ok(None) => {}
    }
    let std: std::net::TcpStream = socket.into();
    let connected = std.peer_addr().is_ok();
    let stream = TcpStream::from_std(std).map_err(|_| PortState::Filtered)?;
    if connected {
        return Ok(stream);
    }
    match tokio::time::timeout(timeout, stream.writable()).await {
        Ok(Ok(())) => {}
        Ok(Err(_)) => return Err(PortState::Filtered),
        Err(_) => return Err(PortState::Filtered),
    }
    match stream.take_error() {
        Ok(None) if stream.peer_addr().is_ok() => Ok(stream),
        Ok(Some(e)) if refused(&e) => Err(PortState::Closed),
        _ => Err(PortState::Filtered),
    }
}

/// `EINPROGRESS` (Linux; 36 on the BSDs and macOS): a non-blocking connect under way.
/// (`io::ErrorKind::InProgress` is not stable yet.)
const EINPROGRESS: i32 = if cfg!(any(target_os = "linux", target_os = "android")) {
    115
} else {
    36
};

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_pacer_spaces_probes() {
        let p = Pacer::new(200.0);
        let stop = StopFlag::default();
        let t = Instant::now();
        for _ in 0..41 {
            p.wait(&stop).await;
        }
        let e = t.elapsed().as_secs_f64();
        // At least the 40 intervals; the upper bound only catches a pacer gone wrong (timers
        // overrun under load).
        assert!((0.19..2.0).contains(&e), "41 slots at 200/s took {e}s");
        let unlimited = Pacer::new(0.0);
        let t = Instant::now();
        for _ in 0..1000 {
            unlimited.wait(&stop).await;
        }
        assert!(t.elapsed() < Duration::from_millis(50));
    }
}
