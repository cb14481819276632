//! Scan scopes: which addresses a scan may touch.
//!
//! A scope is a list of CIDRs (`127.42.0.0/24`), ranges (`127.42.0.1-127.42.0.20` or
//! `127.42.0.1-20`) and single addresses, minus exclusions. [`Scope::permits`] is asked
//! before every single probe, not only when a scan starts.

use std::fmt;
use std::net::IpAddr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

/// One entry of a scope as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum Span {
    /// A network in CIDR notation.
    Net(IpNet),
    /// An inclusive range of addresses of one family.
    Range(IpAddr, IpAddr),
}

/// Why a scope entry does not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text:?}: {reason} / {reason_ja}")]
pub struct ScopeError {
    /// The entry as written.
    pub text: String,
    /// Why, in English.
    pub reason: &'static str,
    /// Why, in Japanese.
    pub reason_ja: &'static str,
}

fn bad(text: &str, reason: &'static str, reason_ja: &'static str) -> ScopeError {
    ScopeError {
        text: text.to_string(),
        reason,
        reason_ja,
    }
}

impl Span {
    /// Reads `a.b.c.d`, `a.b.c.d/n`, `a.b.c.d-e.f.g.h`, `a.b.c.d-h` or an IPv6 equivalent.
    /// Host names are refused: a scope never depends on DNS.
    pub fn parse(text: &str) -> Result<Span, ScopeError> {
        let t = text.trim();
        if t.is_empty() {
            return Err(bad(text, "empty scope entry", "範囲が空です"));
        }
        if t.contains('/') {
            let net: IpNet = t.parse().map_err(|_| {
                bad(
                    text,
                    "not a CIDR network (e.g. 192.168.10.0/24)",
                    "CIDR 表記 (例: 192.168.10.0/24) ではありません",
                )
            })?;
            return Ok(Span::Net(net.trunc()));
        }
        if let Some((a, b)) = t.split_once('-') {
            let start: IpAddr = a.trim().parse().map_err(|_| {
                bad(
                    text,
                    "the start of the range is not an IP address",
                    "範囲の開始が IP アドレスではありません",
                )
            })?;
            let end: IpAddr = match (start, b.trim().parse::<IpAddr>()) {
                (_, Ok(end)) => end,
                (IpAddr::V4(s), Err(_)) => {
                    let last: u8 = b.trim().parse().map_err(|_| {
                        bad(
                            text,
                            "the end of the range is neither an address nor a number 0-255",
                            "範囲の終わりがアドレスでも 0〜255 の数でもありません",
                        )
                    })?;
                    let o = s.octets();
                    IpAddr::from([o[0], o[1], o[2], last])
                }
                (IpAddr::V6(_), Err(_)) => {
                    return Err(bad(
                        text,
                        "the end of an IPv6 range must be a full address",
                        "IPv6 の範囲の終わりは完全なアドレスで書いてください",
                    ))
                }
            };
            if start.is_ipv4() != end.is_ipv4() {
                return Err(bad(
                    text,
                    "the range mixes IPv4 and IPv6",
                    "範囲に IPv4 と IPv6 が混在しています",
                ));
            }
            if ord(end) < ord(start) {
                return Err(bad(
                    text,
                    "the range ends before it starts",
                    "範囲の終わりが開始より前です",
                ));
            }
            return Ok(Span::Range(start, end));
        }
        let addr: IpAddr = t.parse().map_err(|_| {
            bad(
                text,
                "not an IP address, range or CIDR (host names are not accepted: a scope must not depend on DNS)",
                "IP アドレス・範囲・CIDR ではありません (ホスト名は使えません: スキャン範囲は DNS に依存させません)",
            )
        })?;
        Ok(Span::Range(addr, addr))
    }

    fn bounds(&self) -> (IpAddr, IpAddr) {
        match self {
            Span::Net(n) => (n.network(), n.broadcast()),
            Span::Range(a, b) => (*a, *b),
        }
    }

    /// Whether the address lies in this span.
    pub fn contains(&self, addr: IpAddr) -> bool {
        let (a, b) = self.bounds();
        a.is_ipv4() == addr.is_ipv4() && ord(a) <= ord(addr) && ord(addr) <= ord(b)
    }

    /// How many addresses (saturating).
    pub fn len(&self) -> u128 {
        let (a, b) = self.bounds();
        (ord(b) - ord(a)).saturating_add(1)
    }

    /// Never empty; for clippy's `len_without_is_empty`.
    pub fn is_empty(&self) -> bool {
        false
    }
}

fn ord(a: IpAddr) -> u128 {
    match a {
        IpAddr::V4(v) => u32::from(v) as u128,
        IpAddr::V6(v) => u128::from(v),
    }
}

fn from_ord(v4: bool, n: u128) -> IpAddr {
    if v4 {
        IpAddr::V4((n as u32).into())
    } else {
        IpAddr::V6(n.into())
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Span::Net(n) => write!(f, "{n}"),
            Span::Range(a, b) if a == b => write!(f, "{a}"),
            Span::Range(a, b) => write!(f, "{a}-{b}"),
        }
    }
}

impl From<Span> for String {
    fn from(s: Span) -> String {
        s.to_string()
    }
}

impl TryFrom<String> for Span {
    type Error = ScopeError;
    fn try_from(s: String) -> Result<Span, ScopeError> {
        Span::parse(&s)
    }
}

/// Addresses to scan, minus exclusions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scope {
    /// What may be scanned.
    pub include: Vec<Span>,
    /// What never may, whatever `include` says.
    #[serde(default)]
    pub exclude: Vec<Span>,
}

impl Scope {
    /// Reads entries separated by commas, spaces or new lines.
    pub fn parse_list(text: &str) -> Result<Vec<Span>, ScopeError> {
        text.split(|c: char| c == ',' || c.is_whitespace())
            .filter(|t| !t.is_empty())
            .map(Span::parse)
            .collect()
    }

    /// The one question asked before every probe.
    pub fn permits(&self, addr: IpAddr) -> bool {
        self.include.iter().any(|s| s.contains(addr))
            && !self.exclude.iter().any(|s| s.contains(addr))
    }

    /// Addresses the include list names (before exclusions; saturating).
    pub fn size(&self) -> u128 {
        self.include
            .iter()
            .fold(0u128, |n, s| n.saturating_add(s.len()))
    }

    /// Every permitted address, in order, each once. Stops after `limit` addresses so a
    /// mistaken IPv6 /64 cannot exhaust memory: the caller checks [`Scope::size`] first.
    pub fn addresses(&self, limit: usize) -> Vec<IpAddr> {
        let mut out = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for span in &self.include {
            let (a, b) = span.bounds();
            let v4 = a.is_ipv4();
            let mut n = ord(a);
            while n <= ord(b) && out.len() < limit {
                let addr = from_ord(v4, n);
                if self.permits(addr) && seen.insert(addr) {
                    out.push(addr);
                }
                if n == u128::MAX {
                    break;
                }
                n += 1;
            }
        }
        out
    }

    /// Entries of the include list that reach addresses outside private, loopback,
    /// link-local and shared (CGNAT) space: scanning them needs `--allow-public`.
    pub fn public_spans(&self) -> Vec<&Span> {
        self.include
            .iter()
            .filter(|s| {
                let (a, b) = s.bounds();
                !(is_private(a) && is_private(b) && same_private_block(a, b))
            })
            .collect()
    }
}

/// Loopback, RFC 1918, link-local, CGNAT (100.64/10), IPv6 ULA (fc00::/7) and link-local.
pub fn is_private(addr: IpAddr) -> bool {
    match addr {
        IpAddr::V4(v) => {
            let o = v.octets();
            v.is_loopback()
                || v.is_private()
                || v.is_link_local()
                || (o[0] == 100 && (64..128).contains(&o[1]))
        }
        IpAddr::V6(v) => {
            v.is_loopback()
                || (v.segments()[0] & 0xfe00) == 0xfc00
                || (v.segments()[0] & 0xffc0) == 0xfe80
        }
    }
}

/// Both ends private is not enough (10.0.0.0-11.0.0.0 spans public space): the range must
/// stay inside one private block.
fn same_private_block(a: IpAddr, b: IpAddr) -> bool {
    const V4_BLOCKS: &[(u32, u8)] = &[
        (0x7f00_0000, 8),
        (0x0a00_0000, 8),
        (0xac10_0000, 12),
        (0xc0a8_0000, 16),
        (0xa9fe_0000, 16),
        (0x6440_0000, 10),
    ];
    match (a, b) {
        (IpAddr::V4(a), IpAddr::V4(b)) => V4_BLOCKS.iter().any(|(net, len)| {
            let mask = u32::MAX << (32 - len);
            u32::from(a) & mask == *net && u32::from(b) & mask == *net
        }),
        (IpAddr::V6(a), IpAddr::V6(b)) => {
            let top = |v: std::net::Ipv6Addr| v.segments()[0];
            (a.is_loopback() && b.is_loopback())
                || ((top(a) & 0xfe00) == 0xfc00 && (top(b) & 0xfe00) == 0xfc00)
                || ((top(a) & 0xffc0) == 0xfe80 && (top(b) & 0xffc0) == 0xfe80)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn spans_read_cidrs_ranges_and_addresses() {
        assert_eq!(Span::parse("127.42.0.0/30").unwrap().len(), 4);
        assert_eq!(
            Span::parse("127.42.0.5/24").unwrap().to_string(),
            "127.42.0.0/24"
        );
        assert_eq!(Span::parse("127.42.0.1-20").unwrap().len(), 20);
        assert_eq!(Span::parse("127.42.0.250-127.42.1.4").unwrap().len(), 11);
        assert_eq!(Span::parse(" 127.0.0.1 ").unwrap().len(), 1);
        assert_eq!(Span::parse("::1").unwrap().len(), 1);
        for bad in [
            "",
            "example.org",
            "127.0.0.1/33",
            "127.0.0.9-3",
            "127.0.0.1-::2",
            "1.2.3",
        ] {
            assert!(Span::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn exclusions_win_and_addresses_are_listed_once() {
        let scope = Scope {
            include: Scope::parse_list("127.42.0.0/29, 127.42.0.2-4").unwrap(),
            exclude: Scope::parse_list("127.42.0.3").unwrap(),
        };
        assert!(scope.permits(ip("127.42.0.2")));
        assert!(!scope.permits(ip("127.42.0.3")));
        assert!(!scope.permits(ip("127.42.0.8")));
        assert!(!scope.permits(ip("::1")));
        assert_eq!(scope.addresses(100).len(), 7);
        assert_eq!(scope.addresses(3).len(), 3);
        assert_eq!(scope.size(), 11);
    }

    #[test]
    fn public_space_is_noticed() {
        let private = Scope {
            include: Scope::parse_list("10.0.0.0/8 192.168.1.1-254 127.0.0.1 fd00::1").unwrap(),
            exclude: vec![],
        };
        assert!(private.public_spans().is_empty());
        let public = Scope {
            include: Scope::parse_list("8.8.8.0/24 10.255.255.0-11.0.0.5 172.15.0.0/16").unwrap(),
            exclude: vec![],
        };
        assert_eq!(public.public_spans().len(), 3);
    }
}
