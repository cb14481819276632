//! nmap XML (`-oX`) → what the scan saw ([`mamori_core::scan::HostResult`]).
//!
//! Read with quick-xml's pull reader: the `<!DOCTYPE nmaprun>` nmap writes is skipped and no
//! entity beyond the predefined ones is expanded (no external entities, no billion laughs).
//! Hosts with an address that does not read are skipped with a warning; a file that is not
//! nmap XML, or breaks off, is an error naming the line.

use std::collections::BTreeMap;
use std::net::IpAddr;

use mamori_core::scan::{HostResult, PortResult, PortState, Transport};
use mamori_core::MacAddr;
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use crate::{FeedError, Warning};

/// An nmap run.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NmapRun {
    /// The command line nmap recorded (`args`).
    pub args: Option<String>,
    /// nmap's version.
    pub version: Option<String>,
    /// Start time (Unix seconds).
    pub start: Option<i64>,
    /// End time (Unix seconds, `runstats/finished/@time`).
    pub end: Option<i64>,
    /// Every host, in file order.
    pub hosts: Vec<HostResult>,
}

fn attrs(e: &BytesStart<'_>) -> BTreeMap<String, String> {
    e.attributes()
        .with_checks(false)
        .flatten()
        .map(|a| {
            let key = String::from_utf8_lossy(a.key.local_name().as_ref()).into_owned();
            let value = a
                .unescape_value()
                .map(|v| v.into_owned())
                .unwrap_or_else(|_| String::from_utf8_lossy(&a.value).into_owned());
            (key, value)
        })
        .collect()
}

/// CPE 2.2 URI as nmap writes it (`cpe:/a:openbsd:openssh:5.3p1`) → CPE 2.3, when it binds
/// plainly; otherwise kept as written.
fn cpe23(uri: &str) -> String {
    let Some(rest) = uri.strip_prefix("cpe:/") else {
        return uri.to_string();
    };
    let parts: Vec<&str> = rest.split(':').collect();
    let plain = |p: &&str| {
        p.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
    };
    if parts.is_empty() || parts.len() > 7 || !parts.iter().all(plain) {
        return uri.to_string();
    }
    let mut fields: Vec<String> = parts
        .iter()
        .map(|p| {
            if p.is_empty() {
                "*".into()
            } else {
                p.to_ascii_lowercase()
            }
        })
        .collect();
    fields.resize(11, "*".into());
    format!("cpe:2.3:{}", fields.join(":"))
}

/// Reads an nmap XML file.
pub fn parse_nmap_xml(bytes: &[u8]) -> Result<(NmapRun, Vec<Warning>), FeedError> {
    let mut reader = Reader::from_reader(bytes);
    reader.config_mut().check_end_names = true;
    let mut run = NmapRun::default();
    let mut warnings = Vec::new();
    let mut seen_root = false;
    let mut host: Option<HostResult> = None;
    let mut host_ok = true;
    let mut port: Option<PortResult> = None;
    let mut in_cpe = false;
    let mut buf = Vec::new();
    let line_of = |pos: u64| {
        bytes[..(pos as usize).min(bytes.len())]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1
    };
    loop {
        let event = match reader.read_event_into(&mut buf) {
            Ok(e) => e,
            Err(e) => {
                return Err(FeedError::Format {
                    expected: "an nmap XML file",
                    detail: format!(
                        "broken XML at line {}: {e}",
                        line_of(reader.buffer_position())
                    ),
                })
            }
        };
        let (e, empty) = match &event {
            Event::Start(e) => (Some(e.clone()), false),
            Event::Empty(e) => (Some(e.clone()), true),
            _ => (None, false),
        };
        if let Some(e) = e {
            let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
            let a = attrs(&e);
            if !seen_root {
                if name != "nmaprun" {
                    return Err(FeedError::Format {
                        expected: "an nmap XML file",
                        detail: format!("the document starts with <{name}>, not <nmaprun>"),
                    });
                }
                seen_root = true;
                run.args = a.get("args").cloned();
                run.version = a.get("version").cloned();
                run.start = a.get("start").and_then(|s| s.parse().ok());
            }
            match name.as_str() {
                "host" if !empty => {
                    host = Some(HostResult {
                        addr: IpAddr::from([0, 0, 0, 0]),
                        up: false,
                        mac: None,
                        hostnames: Vec::new(),
                        ports: Vec::new(),
                    });
                    host_ok = false;
                }
                "status" => {
                    if let Some(h) = host.as_mut() {
                        h.up = a.get("state").map(String::as_str) == Some("up");
                    }
                }
                "address" => {
                    if let Some(h) = host.as_mut() {
                        let addr = a.get("addr").map(String::as_str).unwrap_or("");
                        match a.get("addrtype").map(String::as_str) {
                            Some("mac") => h.mac = addr.parse::<MacAddr>().ok(),
                            _ => match addr.parse::<IpAddr>() {
                                Ok(ip) => {
                                    h.addr = ip;
                                    host_ok = true;
                                }
                                Err(_) => warnings.push(Warning {
                                    record: run.hosts.len(),
                                    skipped: false,
                                    id: Some(addr.to_string()),
                                    message: format!(
                                        "line {}: address {addr:?} is not an IP address",
                                        line_of(reader.buffer_position())
                                    ),
                                }),
                            },
                        }
                    }
                }
                "hostname" => {
                    if let (Some(h), Some(n)) = (host.as_mut(), a.get("name")) {
                        if !h.hostnames.contains(n) {
                            h.hostnames.push(n.clone());
                        }
                    }
                }
                "port" => {
                    let transport = a
                        .get("protocol")
                        .and_then(|p| Transport::parse(p))
                        .unwrap_or(Transport::Tcp);
                    let number = a.get("portid").and_then(|p| p.parse::<u16>().ok());
                    port = number.map(|n| PortResult::new(n, transport, PortState::Filtered));
                    if empty {
                        port = None;
                    }
                }
                "state" => {
                    if let Some(p) = port.as_mut() {
                        p.state = match a.get("state").map(String::as_str) {
                            Some("open") => PortState::Open,
                            Some("closed") => PortState::Closed,
                            Some("open|filtered") => PortState::OpenFiltered,
                            _ => PortState::Filtered,
                        };
                    }
                }
                "service" => {
                    if let Some(p) = port.as_mut() {
                        p.service = a.get("name").cloned();
                        p.by_port = a.get("method").map(String::as_str) == Some("table");
                        p.product = a.get("product").cloned();
                        p.version = a.get("version").cloned();
                        if let Some(x) = a.get("extrainfo") {
                            p.facts.insert("nmap.extrainfo".into(), x.clone());
                        }
                        if let Some(t) = a.get("tunnel") {
                            p.facts.insert("nmap.tunnel".into(), t.clone());
                        }
                    }
                }
                "cpe" if !empty => in_cpe = port.is_some(),
                "finished" => run.end = a.get("time").and_then(|s| s.parse().ok()),
                _ => {}
            }
        }
        match event {
            Event::Text(t) if in_cpe => {
                if let (Some(p), Ok(text)) = (port.as_mut(), t.decode()) {
                    let text = text.trim();
                    // The first application CPE names the product; keep it.
                    if p.cpe.is_none() && text.starts_with("cpe:/a") {
                        p.cpe = Some(cpe23(text));
                    }
                }
            }
            Event::End(e) => match e.local_name().as_ref() {
                b"cpe" => in_cpe = false,
                b"port" => {
                    if let (Some(h), Some(p)) = (host.as_mut(), port.take()) {
                        h.ports.push(p);
                    }
                }
                b"host" => {
                    if let Some(h) = host.take() {
                        if host_ok {
                            run.hosts.push(h);
                        } else {
                            warnings.push(Warning {
                                record: run.hosts.len(),
                                skipped: true,
                                id: None,
                                message: format!(
                                    "line {}: a host without an IP address",
                                    line_of(reader.buffer_position())
                                ),
                            });
                        }
                    }
                }
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if !seen_root {
        return Err(FeedError::Format {
            expected: "an nmap XML file",
            detail: "no <nmaprun> element".into(),
        });
    }
    if host.is_some() {
        return Err(FeedError::Format {
            expected: "an nmap XML file",
            detail: "the file ends inside a <host> (nmap still running, or truncated)".into(),
        });
    }
    Ok((run, warnings))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"<?xml version="1.0"?>
<!DOCTYPE nmaprun>
<nmaprun scanner="nmap" args="nmap -sV -oX - 127.0.0.1" start="1700000000" version="7.93">
<host><status state="up" reason="conn-refused"/>
<address addr="127.0.0.1" addrtype="ipv4"/><address addr="00:11:22:33:44:55" addrtype="mac"/>
<hostnames><hostname name="localhost" type="PTR"/></hostnames>
<ports><port protocol="tcp" portid="22"><state state="open" reason="syn-ack"/>
<service name="ssh" product="OpenSSH" version="9.2p1" method="probed"><cpe>cpe:/a:openbsd:openssh:9.2p1</cpe><cpe>cpe:/o:linux:linux_kernel</cpe></service></port>
<port protocol="udp" portid="161"><state state="open|filtered" reason="no-response"/></port>
</ports></host>
<host><status state="down"/><address addr="not-an-ip" addrtype="ipv4"/></host>
<runstats><finished time="1700000100"/></runstats>
</nmaprun>"#;

    #[test]
    fn hosts_ports_services_and_cpes_read() {
        let (run, warnings) = parse_nmap_xml(SAMPLE.as_bytes()).unwrap();
        assert_eq!(run.version.as_deref(), Some("7.93"));
        assert_eq!(run.end, Some(1_700_000_100));
        assert_eq!(run.hosts.len(), 1);
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        let h = &run.hosts[0];
        assert!(h.up);
        assert_eq!(h.mac.unwrap().to_string(), "00:11:22:33:44:55");
        assert_eq!(h.hostnames, vec!["localhost"]);
        assert_eq!(h.ports[0].product.as_deref(), Some("OpenSSH"));
        assert_eq!(
            h.ports[0].cpe.as_deref(),
            Some("cpe:2.3:a:openbsd:openssh:9.2p1:*:*:*:*:*:*:*")
        );
        assert_eq!(h.ports[1].state, PortState::OpenFiltered);
    }

    #[test]
    fn other_documents_and_truncation_are_errors_and_nothing_panics() {
        assert!(parse_nmap_xml(b"<html></html>").is_err());
        assert!(parse_nmap_xml(b"").is_err());
        let cut = &SAMPLE.as_bytes()[..SAMPLE.len() / 2];
        assert!(parse_nmap_xml(cut).is_err());
        for n in 0..SAMPLE.len() {
            let _ = parse_nmap_xml(&SAMPLE.as_bytes()[..n]);
        }
        let mut b = SAMPLE.as_bytes().to_vec();
        for i in (0..b.len()).step_by(7) {
            b[i] = b[i].wrapping_add(13);
            let _ = parse_nmap_xml(&b);
        }
    }
}
