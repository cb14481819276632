//! The scan policy: everything that bounds a scan, stored with each scan.

use chrono::NaiveDateTime;
use mamori_core::scan::{Transport, Vantage};
use serde::{Deserialize, Serialize};

use crate::scope::Scope;

/// What a scan may touch and how gently. Stored (as JSON) with the scan it ran.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanPolicy {
    /// Addresses, minus exclusions (ledger devices flagged スキャン除外 are added to the
    /// exclusions by the application).
    pub scope: Scope,
    /// Ports to probe.
    pub ports: Vec<(u16, Transport)>,
    /// Probes (connection attempts and UDP requests) per second, overall. 0: no limit.
    pub rate: f64,
    /// Connections open at once to one host.
    pub per_host: usize,
    /// Connections open at once, overall.
    pub concurrency: usize,
    /// Connect timeout, milliseconds.
    pub timeout_ms: u64,
    /// How long identification of one open port may take in all, milliseconds.
    pub identify_ms: u64,
    /// Identify services on open ports (banners, HTTP, TLS, DICOM, …).
    pub identify: bool,
    /// SNMP communities tried (read-only GET of sysDescr, sysObjectID, sysName) when U:161
    /// is among the ports.
    #[serde(default)]
    pub snmp_communities: Vec<String>,
    /// When probes may be sent; empty: any time.
    #[serde(default)]
    pub windows: Vec<Window>,
    /// Where the scan looks from.
    #[serde(default)]
    pub vantage: Vantage,
}

impl ScanPolicy {
    /// A gentle policy for a scope: the default ports, 100 probes/s, 2 connections per
    /// host, 256 overall, 1.5 s connect timeout.
    pub fn gentle(scope: Scope) -> ScanPolicy {
        ScanPolicy {
            scope,
            ports: crate::ports::DEFAULT_PORTS
                .iter()
                .map(|k| (k.port, k.transport))
                .collect(),
            rate: 100.0,
            per_host: 2,
            concurrency: 256,
            timeout_ms: 1500,
            identify_ms: 5000,
            identify: true,
            snmp_communities: vec!["public".into()],
            windows: Vec::new(),
            vantage: Vantage::Internal,
        }
    }

    /// Whether probes may be sent at this local time.
    pub fn in_window(&self, now: NaiveDateTime) -> bool {
        self.windows.is_empty() || self.windows.iter().any(|w| w.contains(now))
    }
}

/// A weekly time window (`mon-fri 19:00-07:00`): the calendar's weekly range.
pub use mamori_core::calendar::WeeklyRange as Window;

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    #[test]
    fn windows_read_and_pass_midnight() {
        // 2026-11-27 is a Friday.
        let w = Window::parse("mon-fri 19:00-07:00").unwrap();
        assert!(w.contains(at("2026-11-27 20:00")));
        assert!(
            w.contains(at("2026-11-28 06:59")),
            "Saturday morning ends Friday's window"
        );
        assert!(
            !w.contains(at("2026-11-28 20:00")),
            "not on Saturday evening"
        );
        assert!(!w.contains(at("2026-11-27 12:00")));
        let d = Window::parse("12:00-13:00").unwrap();
        assert!(d.contains(at("2026-11-29 12:30")));
        assert_eq!(d.to_string(), "daily 12:00-13:00");
        let ja = Window::parse("土,日 09:00-17:00").unwrap();
        assert!(ja.contains(at("2026-11-29 10:00")));
        assert!(!ja.contains(at("2026-11-27 10:00")));
        for bad in [
            "",
            "mon-fri",
            "xyz 10:00-11:00",
            "10:00-10:00",
            "25:00-26:00",
        ] {
            assert!(Window::parse(bad).is_err(), "{bad}");
        }
        let p = ScanPolicy {
            windows: vec![w],
            ..ScanPolicy::gentle(Scope::default())
        };
        assert!(!p.in_window(at("2026-11-27 12:00")));
        assert!(ScanPolicy::gentle(Scope::default()).in_window(at("2026-11-27 12:00")));
    }
}
