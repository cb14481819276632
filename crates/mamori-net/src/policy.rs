//! The scan policy: everything that bounds a scan, stored with each scan.

use chrono::{Datelike, NaiveDateTime, NaiveTime};
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

/// A weekly time window: days and a time range, which may pass midnight
/// (`mon-fri 19:00-07:00`: from 19:00 on Monday to Friday until 07:00 the next morning).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct Window {
    days: [bool; 7],
    start: NaiveTime,
    end: NaiveTime,
}

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const DAYS_JA: [&str; 7] = ["月", "火", "水", "木", "金", "土", "日"];

fn day(text: &str) -> Option<usize> {
    let t = text.trim().to_ascii_lowercase();
    DAYS.iter()
        .position(|d| t.starts_with(d))
        .or_else(|| DAYS_JA.iter().position(|d| t.starts_with(d)))
}

impl Window {
    /// Reads `[DAYS ]HH:MM-HH:MM`, DAYS being `mon-fri`, `sat,sun`, `月-金`, `daily`
    /// (default every day).
    pub fn parse(text: &str) -> Result<Window, String> {
        let err = |why: &str| format!("{text:?}: {why} (e.g. \"mon-fri 19:00-07:00\")");
        let t = text.trim();
        let (days_text, times) = match t.rsplit_once(' ') {
            Some((d, r)) => (d.trim(), r),
            None => ("daily", t),
        };
        let mut days = [false; 7];
        if days_text.eq_ignore_ascii_case("daily") || days_text == "毎日" {
            days = [true; 7];
        } else {
            for part in days_text.split(',') {
                match part.split_once('-') {
                    Some((a, b)) => {
                        let (a, b) = (
                            day(a).ok_or_else(|| err("unknown day"))?,
                            day(b).ok_or_else(|| err("unknown day"))?,
                        );
                        let mut d = a;
                        loop {
                            days[d] = true;
                            if d == b {
                                break;
                            }
                            d = (d + 1) % 7;
                        }
                    }
                    None => days[day(part).ok_or_else(|| err("unknown day"))?] = true,
                }
            }
        }
        let (a, b) = times
            .split_once('-')
            .ok_or_else(|| err("the time range needs a start and an end"))?;
        let time = |s: &str| {
            NaiveTime::parse_from_str(s.trim(), "%H:%M").map_err(|_| err("times are HH:MM"))
        };
        let (start, end) = (time(a)?, time(b)?);
        if start == end {
            return Err(err("the window is empty"));
        }
        Ok(Window { days, start, end })
    }

    /// Whether the window is open at this local time.
    pub fn contains(&self, now: NaiveDateTime) -> bool {
        let today = now.weekday().num_days_from_monday() as usize;
        let t = now.time();
        if self.start < self.end {
            self.days[today] && self.start <= t && t < self.end
        } else {
            // Passes midnight: the evening part belongs to today, the morning part to the
            // window that started yesterday.
            let yesterday = (today + 6) % 7;
            (self.days[today] && t >= self.start) || (self.days[yesterday] && t < self.end)
        }
    }
}

impl std::fmt::Display for Window {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.days == [true; 7] {
            f.write_str("daily")?;
        } else {
            let names: Vec<&str> = (0..7).filter(|d| self.days[*d]).map(|d| DAYS[d]).collect();
            f.write_str(&names.join(","))?;
        }
        write!(
            f,
            " {}-{}",
            self.start.format("%H:%M"),
            self.end.format("%H:%M")
        )
    }
}

impl From<Window> for String {
    fn from(w: Window) -> String {
        w.to_string()
    }
}

impl TryFrom<String> for Window {
    type Error = String;
    fn try_from(s: String) -> Result<Window, String> {
        Window::parse(&s)
    }
}

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
