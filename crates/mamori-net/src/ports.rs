//! The default hospital port list and the service each port usually carries.
//!
//! The list is documented in `docs/scan.md`; each entry says why it is there.

use mamori_core::scan::Transport;

/// A port of the default list: number, transport, the usual service, and why it is listed.
pub struct KnownPort {
    /// Port number.
    pub port: u16,
    /// TCP or UDP.
    pub transport: Transport,
    /// Service name recorded when nothing better is identified.
    pub service: &'static str,
    /// Why a hospital scan looks at it.
    pub why: &'static str,
}

macro_rules! ports {
    ($($port:literal $t:ident $svc:literal $why:literal;)+) => {
        &[$(KnownPort { port: $port, transport: Transport::$t, service: $svc, why: $why },)+]
    };
}

/// Hospital-relevant ports, TCP then UDP. Order is the scan order.
pub const DEFAULT_PORTS: &[KnownPort] = ports! {
    21 Tcp "ftp" "FTP: plain-text logins, modality and printer file drops";
    22 Tcp "ssh" "SSH: servers, network devices, appliances";
    23 Tcp "telnet" "Telnet: old network gear and medical devices (plain text)";
    25 Tcp "smtp" "SMTP: mail relays, MFP scan-to-mail";
    53 Tcp "domain" "DNS";
    80 Tcp "http" "HTTP: web consoles of almost everything";
    81 Tcp "http" "HTTP alternate (cameras, UPS cards)";
    88 Tcp "kerberos" "Kerberos: Active Directory";
    104 Tcp "dicom" "DICOM (well-known port): modalities, PACS";
    110 Tcp "pop3" "POP3";
    111 Tcp "rpcbind" "ONC RPC / NFS";
    135 Tcp "msrpc" "Microsoft RPC";
    139 Tcp "netbios-ssn" "NetBIOS session (SMB over NetBIOS)";
    143 Tcp "imap" "IMAP";
    389 Tcp "ldap" "LDAP: directory";
    443 Tcp "https" "HTTPS: web consoles, SSL-VPN portals";
    445 Tcp "microsoft-ds" "SMB: file shares, Windows";
    465 Tcp "smtps" "SMTP over TLS";
    502 Tcp "modbus" "Modbus: building and facility controllers";
    512 Tcp "exec" "rexec (legacy remote execution)";
    513 Tcp "login" "rlogin (legacy)";
    514 Tcp "shell" "rsh (legacy)";
    515 Tcp "printer" "LPD: printers";
    548 Tcp "afp" "AFP: old Mac file sharing";
    554 Tcp "rtsp" "RTSP: cameras";
    587 Tcp "submission" "SMTP submission";
    631 Tcp "ipp" "IPP: printers";
    636 Tcp "ldaps" "LDAP over TLS";
    873 Tcp "rsync" "rsync";
    993 Tcp "imaps" "IMAP over TLS";
    995 Tcp "pop3s" "POP3 over TLS";
    1080 Tcp "socks" "SOCKS proxy";
    1433 Tcp "ms-sql-s" "Microsoft SQL Server: EHR, PACS and RIS databases";
    1521 Tcp "oracle" "Oracle database: EHR and 医事会計 systems";
    1723 Tcp "pptp" "PPTP VPN (obsolete)";
    2049 Tcp "nfs" "NFS";
    2575 Tcp "hl7" "HL7 v2 over MLLP: never sent a message, identified by port only";
    3000 Tcp "http" "HTTP alternate (dashboards)";
    3306 Tcp "mysql" "MySQL / MariaDB";
    3389 Tcp "ms-wbt-server" "RDP: remote desktop (36% of ransomware entries, NPA 2024H1)";
    4242 Tcp "dicom" "DICOM (Orthanc's default port)";
    4443 Tcp "https" "HTTPS alternate (VPN admin)";
    5000 Tcp "http" "HTTP alternate (NAS consoles)";
    5060 Tcp "sip" "SIP: IP phones, nurse call";
    5432 Tcp "postgresql" "PostgreSQL";
    5631 Tcp "pcanywhere" "pcAnywhere remote control (legacy medical-vendor remote access)";
    5672 Tcp "amqp" "AMQP message broker";
    5900 Tcp "vnc" "VNC: remote control of modality and department PCs";
    5901 Tcp "vnc" "VNC display 1";
    5985 Tcp "wsman" "WinRM";
    6379 Tcp "redis" "Redis";
    6566 Tcp "sane-port" "network scanners";
    7000 Tcp "http" "HTTP alternate";
    8000 Tcp "http" "HTTP alternate";
    8008 Tcp "http" "HTTP alternate";
    8042 Tcp "http" "Orthanc web and REST (PACS)";
    8080 Tcp "http-proxy" "HTTP alternate, proxies, application servers";
    8081 Tcp "http" "HTTP alternate";
    8088 Tcp "http" "HTTP alternate";
    8443 Tcp "https" "HTTPS alternate (VPN and appliance admin)";
    8888 Tcp "http" "HTTP alternate";
    9000 Tcp "http" "HTTP alternate";
    9100 Tcp "jetdirect" "raw printing (JetDirect)";
    9443 Tcp "https" "HTTPS alternate";
    10000 Tcp "http" "Webmin and appliance consoles";
    10443 Tcp "https" "HTTPS alternate (FortiGate SSL-VPN)";
    11112 Tcp "dicom" "DICOM (registered port)";
    27017 Tcp "mongodb" "MongoDB";
    161 Udp "snmp" "SNMP: network gear, printers, UPS";
};

/// The usual service of a port, from the default list.
pub fn service_of(port: u16, transport: Transport) -> Option<&'static str> {
    DEFAULT_PORTS
        .iter()
        .find(|k| k.port == port && k.transport == transport)
        .map(|k| k.service)
}

/// Ports where a TLS handshake comes first.
pub fn is_tls_port(port: u16) -> bool {
    matches!(
        port,
        443 | 465 | 636 | 993 | 995 | 4443 | 8443 | 9443 | 10443
    )
}

/// Ports where mamori never sends anything after connecting (clinical interfaces).
pub fn is_hands_off(port: u16) -> bool {
    port == 2575
}

/// The default TCP ports.
pub fn default_tcp() -> Vec<u16> {
    DEFAULT_PORTS
        .iter()
        .filter(|k| k.transport == Transport::Tcp)
        .map(|k| k.port)
        .collect()
}

/// Reads a port list: `22,80,443`, ranges `8000-8100`, `default`, and `U:161` for UDP.
/// Port 0 and reversed ranges are refused; a range is capped at 4,096 ports so that a
/// typo cannot sweep every port of a device.
pub fn parse_ports(text: &str) -> Result<Vec<(u16, Transport)>, String> {
    let mut out: Vec<(u16, Transport)> = Vec::new();
    for item in text.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        if item.eq_ignore_ascii_case("default") {
            out.extend(DEFAULT_PORTS.iter().map(|k| (k.port, k.transport)));
            continue;
        }
        let (transport, rest) = match item.split_once(':') {
            Some((t, r)) if t.eq_ignore_ascii_case("u") || t.eq_ignore_ascii_case("udp") => {
                (Transport::Udp, r)
            }
            Some((t, r)) if t.eq_ignore_ascii_case("t") || t.eq_ignore_ascii_case("tcp") => {
                (Transport::Tcp, r)
            }
            Some(_) => return Err(format!("{item:?}: prefix must be T: or U:")),
            None => (Transport::Tcp, item),
        };
        let num = |s: &str| -> Result<u16, String> {
            match s.trim().parse::<u16>() {
                Ok(0) | Err(_) => Err(format!("{item:?}: ports are numbers 1-65535")),
                Ok(n) => Ok(n),
            }
        };
        let (a, b) = match rest.split_once('-') {
            Some((a, b)) => (num(a)?, num(b)?),
            None => {
                let n = num(rest)?;
                (n, n)
            }
        };
        if b < a {
            return Err(format!("{item:?}: the range ends before it starts"));
        }
        if b - a >= 4096 {
            return Err(format!(
                "{item:?}: a range may hold at most 4,096 ports (mamori does not sweep every port)"
            ));
        }
        out.extend((a..=b).map(|p| (p, transport)));
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|p| seen.insert(*p));
    if out.is_empty() {
        return Err("no ports given".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_list_names_hospital_ports_once() {
        let tcp = default_tcp();
        for p in [
            21, 22, 23, 80, 104, 443, 445, 2575, 3389, 4242, 5900, 8042, 11112, 9100,
        ] {
            assert!(tcp.contains(&p), "{p}");
        }
        let mut seen = std::collections::HashSet::new();
        assert!(DEFAULT_PORTS
            .iter()
            .all(|k| seen.insert((k.port, k.transport))));
        assert_eq!(service_of(161, Transport::Udp), Some("snmp"));
    }

    #[test]
    fn docs_scan_md_documents_every_default_port() {
        let doc = include_str!("../../../docs/scan.md");
        for k in DEFAULT_PORTS {
            let row = format!("| {}/{} | {} |", k.port, k.transport.code(), k.service);
            assert!(doc.contains(&row), "docs/scan.md lacks {row}");
        }
        let tcp = default_tcp().len();
        assert!(
            doc.contains(&format!("{tcp} TCP ports and SNMP on UDP")),
            "{tcp}"
        );
    }

    #[test]
    fn port_lists_read_and_refuse() {
        assert_eq!(
            parse_ports("22, 80-82,U:161,22").unwrap(),
            vec![
                (22, Transport::Tcp),
                (80, Transport::Tcp),
                (81, Transport::Tcp),
                (82, Transport::Tcp),
                (161, Transport::Udp)
            ]
        );
        assert!(parse_ports("1-65535").is_err());
        assert!(parse_ports("0").is_err());
        assert!(parse_ports("90-80").is_err());
        assert!(parse_ports("x:80").is_err());
        assert!(parse_ports("").is_err());
    }
}
