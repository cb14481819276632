//! Service identification on an open port: every read is bounded in bytes and time, so a
//! silent, endless, huge or slow-loris peer costs at most the policy's identification
//! budget and never crashes a scan.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use mamori_core::scan::{PortResult, PortState, Transport};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::identify::{self, Product};
use crate::scanner::Ctx;

/// Most bytes read from one service.
pub(crate) const MAX_READ: usize = 64 * 1024;

/// Reads until `done` says the bytes so far are enough, `max` bytes arrived, the peer
/// closed, or `wait` passed without new data.
pub(crate) async fn read_until<S: AsyncRead + Unpin>(
    stream: &mut S,
    max: usize,
    wait: Duration,
    done: impl Fn(&[u8]) -> bool,
) -> Vec<u8> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while buf.len() < max && !done(&buf) {
        match tokio::time::timeout(wait, stream.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break,
            Ok(Ok(n)) => buf.extend_from_slice(&chunk[..n.min(max - buf.len())]),
        }
    }
    buf
}

fn has_line(b: &[u8]) -> bool {
    b.contains(&b'\n')
}

fn set_product(result: &mut PortResult, p: Product) {
    result.cpe = identify::cpe(&p);
    result.product = Some(p.name);
    result.version = p.version;
}

fn set_service(result: &mut PortResult, service: &str) {
    result.service = Some(service.to_string());
    result.by_port = false;
}

/// Identifies the service behind an open TCP port, on the connection the discovery opened.
pub(crate) async fn identify(ctx: &Arc<Ctx>, mut stream: TcpStream, result: &mut PortResult) {
    let port = result.port;
    let wait = Duration::from_millis(ctx.policy.timeout_ms.clamp(200, 3000));
    let host = match stream.peer_addr() {
        Ok(SocketAddr::V6(a)) => format!("[{}]", a.ip()),
        Ok(a) => a.ip().to_string(),
        Err(_) => return,
    };
    if crate::ports::is_hands_off(port) {
        // HL7/MLLP: a clinical interface. Nothing is sent; the port names the service.
        return;
    }
    if crate::ports::is_tls_port(port) {
        crate::tls::identify(stream, result, wait).await;
        return;
    }
    match port {
        104 | 4242 | 11112 => crate::dicom::identify(&mut stream, result, wait).await,
        3306 => mysql(&mut stream, result, wait).await,
        5432 => postgres(&mut stream, result, wait).await,
        6379 => redis(&mut stream, result, wait).await,
        5672 => amqp(&mut stream, result, wait).await,
        5900..=5909 => vnc(&mut stream, result, wait).await,
        3389 => rdp(&mut stream, result, wait).await,
        445 => smb(&mut stream, result, wait).await,
        80 | 81 | 3000 | 5000 | 7000 | 8000 | 8008 | 8042 | 8080 | 8081 | 8088 | 8888 | 9000
        | 10000 => http(&mut stream, &host, result, wait, "http").await,
        _ => banner(&mut stream, &host, result, wait).await,
    }
    let _ = stream.shutdown().await;
}

/// Services that speak first (SSH, FTP, SMTP, Telnet, POP3, IMAP); when nothing is said,
/// an HTTP request is tried.
async fn banner(stream: &mut TcpStream, host: &str, result: &mut PortResult, wait: Duration) {
    let bytes = read_until(stream, 4096, wait, has_line).await;
    if bytes.is_empty() {
        if !matches!(result.port, 139 | 135 | 9100 | 515 | 631 | 53 | 88 | 111) {
            http(stream, host, result, wait, "http").await;
        }
        return;
    }
    if bytes.first() == Some(&0xff) {
        set_service(result, "telnet");
        let text = identify::printable(&bytes, 200);
        if !text.is_empty() {
            result.banner = Some(text);
        }
        return;
    }
    let line = identify::printable(bytes.split(|b| *b == b'\n').next().unwrap_or(&[]), 200);
    result.banner = Some(line.clone());
    if line.starts_with("SSH-") {
        set_service(result, "ssh");
        if let Some(p) = identify::ssh(&line) {
            set_product(result, p);
        }
        result.facts.insert(
            "ssh.protocol".into(),
            line.get(4..7).unwrap_or("").to_string(),
        );
    } else if line.starts_with("220") {
        let lower = line.to_ascii_lowercase();
        let smtp = lower.contains("smtp") || matches!(result.port, 25 | 465 | 587);
        if smtp {
            set_service(result, "smtp");
            if let Some(p) = identify::smtp(&line) {
                set_product(result, p);
            }
        } else {
            set_service(result, "ftp");
            if let Some(p) = identify::ftp(&line) {
                set_product(result, p);
            }
        }
    } else if let Some(p) = identify::ftp(&line) {
        // An FTP server refusing service still names itself ("500 OOPS: vsftpd: …").
        set_service(result, "ftp");
        set_product(result, p);
    } else if line.starts_with("+OK") {
        set_service(result, "pop3");
    } else if line.starts_with("* OK") {
        set_service(result, "imap");
    } else if let Some(version) = line.strip_prefix("RFB ") {
        set_service(result, "vnc");
        result
            .facts
            .insert("vnc.version".into(), version.to_string());
    }
}

/// A plain HTTP/1.0 GET of `/`: status, `Server`, `WWW-Authenticate` realm, title.
pub(crate) async fn http<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    host: &str,
    result: &mut PortResult,
    wait: Duration,
    service: &str,
) {
    let req = format!(
        "GET / HTTP/1.0\r\nHost: {host}\r\nUser-Agent: mamori-scan\r\nAccept: */*\r\nConnection: close\r\n\r\n"
    );
    if stream.write_all(req.as_bytes()).await.is_err() {
        return;
    }
    let bytes = read_until(stream, MAX_READ, wait, |b| {
        let text = String::from_utf8_lossy(b).to_ascii_lowercase();
        text.contains("</title>") || text.contains("</head>")
    })
    .await;
    let Some(head_end) = find(&bytes, b"\r\n\r\n").or_else(|| find(&bytes, b"\n\n")) else {
        if bytes.starts_with(b"HTTP/") {
            set_service(result, service);
        }
        return;
    };
    let head = String::from_utf8_lossy(&bytes[..head_end]);
    let mut lines = head.lines();
    let status_line = lines.next().unwrap_or("");
    if !status_line.starts_with("HTTP/") {
        return;
    }
    set_service(result, service);
    if let Some(code) = status_line.split_whitespace().nth(1) {
        result.facts.insert("http.status".into(), code.to_string());
    }
    result.banner = Some(identify::printable(status_line.as_bytes(), 120));
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = identify::printable(value.trim().as_bytes(), 200);
        match name.trim().to_ascii_lowercase().as_str() {
            "server" => {
                if let Some(p) = identify::http_server(&value) {
                    set_product(result, p);
                }
                result.facts.insert("http.server".into(), value);
            }
            "www-authenticate" => {
                if value.to_ascii_lowercase().contains("orthanc") && result.product.is_none() {
                    set_product(
                        result,
                        Product {
                            name: "Orthanc".into(),
                            version: None,
                        },
                    );
                }
                result.facts.insert("http.auth".into(), value);
            }
            _ => {}
        }
    }
    if let Some(title) = identify::html_title(&bytes[head_end..]) {
        result.facts.insert("http.title".into(), title);
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The MySQL/MariaDB initial handshake: protocol 10, then the server version (NUL-ended).
async fn mysql(stream: &mut TcpStream, result: &mut PortResult, wait: Duration) {
    let bytes = read_until(stream, 4096, wait, |b| {
        b.len() >= 4 && b.len() >= 4 + (u32::from_le_bytes([b[0], b[1], b[2], 0]) as usize)
    })
    .await;
    if bytes.len() < 6 {
        return;
    }
    match bytes[4] {
        10 => {
            let end = bytes[5..].iter().position(|b| *b == 0).map(|e| e + 5);
            let Some(end) = end else { return };
            let version = identify::printable(&bytes[5..end], 80);
            set_service(result, "mysql");
            result.banner = Some(version.clone());
            set_product(result, identify::mysql(&version));
        }
        0xff => {
            // An error packet: e.g. "Host '…' is not allowed to connect".
            set_service(result, "mysql");
            result.banner = Some(identify::printable(&bytes[7.min(bytes.len())..], 160));
        }
        _ => {}
    }
}

/// AMQP 0-9-1: the protocol header; the broker answers with `Connection.Start`, whose
/// server properties name the product and version. Nothing else is sent.
async fn amqp(stream: &mut TcpStream, result: &mut PortResult, wait: Duration) {
    if stream.write_all(b"AMQP\x00\x00\x09\x01").await.is_err() {
        return;
    }
    let bytes = read_until(stream, 8192, wait, |b| {
        b.len() >= 7 && b.len() >= 8 + u32::from_be_bytes([b[3], b[4], b[5], b[6]]) as usize
    })
    .await;
    if let Some(facts) = crate::wire::amqp_start(&bytes) {
        set_service(result, "amqp");
        if let Some(name) = facts.get("amqp.product") {
            set_product(
                result,
                Product {
                    name: identify::printable(name.as_bytes(), 60),
                    version: facts
                        .get("amqp.version")
                        .map(|v| identify::printable(v.as_bytes(), 40)),
                },
            );
        }
        result.facts.extend(facts);
    }
}

/// PostgreSQL answers an SSLRequest with `S` or `N`: the product, without logging in
/// (the version is only told after authentication, which is not tried).
async fn postgres(stream: &mut TcpStream, result: &mut PortResult, wait: Duration) {
    let ssl_request = [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f];
    if stream.write_all(&ssl_request).await.is_err() {
        return;
    }
    let bytes = read_until(stream, 1, wait, |b| !b.is_empty()).await;
    if let Some(&b) = bytes.first() {
        if b == b'S' || b == b'N' {
            set_service(result, "postgresql");
            result.product = Some("PostgreSQL".into());
            result
                .facts
                .insert("postgresql.ssl".into(), (b == b'S').to_string());
        }
    }
}

/// Redis: `PING`; without authentication also `INFO server` for the version.
async fn redis(stream: &mut TcpStream, result: &mut PortResult, wait: Duration) {
    if stream.write_all(b"PING\r\n").await.is_err() {
        return;
    }
    let reply = read_until(stream, 512, wait, has_line).await;
    let text = String::from_utf8_lossy(&reply);
    if text.starts_with("+PONG") {
        set_service(result, "redis");
        result.facts.insert("redis.auth".into(), "none".into());
        if stream.write_all(b"INFO server\r\n").await.is_ok() {
            let info = read_until(stream, 16 * 1024, wait, |b| {
                String::from_utf8_lossy(b).contains("redis_version:")
                    && b.ends_with(b"\r\n")
                    && b.len() > 200
            })
            .await;
            let version = identify::redis_info(&String::from_utf8_lossy(&info));
            set_product(
                result,
                Product {
                    name: "Redis".into(),
                    version,
                },
            );
        }
    } else if text.starts_with("-NOAUTH") || text.contains("Authentication required") {
        set_service(result, "redis");
        result.product = Some("Redis".into());
        result.facts.insert("redis.auth".into(), "required".into());
    }
}

/// VNC: the RFB version, and the security types offered (1 = None: no password).
async fn vnc(stream: &mut TcpStream, result: &mut PortResult, wait: Duration) {
    let hello = read_until(stream, 12, wait, |b| b.len() >= 12).await;
    if !hello.starts_with(b"RFB ") || hello.len() < 12 {
        return;
    }
    set_service(result, "vnc");
    let version = identify::printable(&hello[4..11], 20);
    result.facts.insert("vnc.version".into(), version.clone());
    result.banner = Some(identify::printable(&hello, 20));
    let minor: u32 = version.get(4..).and_then(|m| m.parse().ok()).unwrap_or(3);
    if minor >= 7 {
        if stream.write_all(&hello[..12]).await.is_err() {
            return;
        }
        let types = read_until(stream, 256, wait, |b| {
            !b.is_empty() && b.len() > b[0] as usize
        })
        .await;
        if let Some((&n, rest)) = types.split_first() {
            let list: Vec<String> = rest
                .iter()
                .take(n as usize)
                .map(|t| t.to_string())
                .collect();
            result
                .facts
                .insert("vnc.security_types".into(), list.join(","));
        }
    } else {
        if stream.write_all(b"RFB 003.003\n").await.is_err() {
            return;
        }
        let t = read_until(stream, 4, wait, |b| b.len() >= 4).await;
        if t.len() == 4 {
            let ty = u32::from_be_bytes([t[0], t[1], t[2], t[3]]);
            result
                .facts
                .insert("vnc.security_types".into(), ty.to_string());
        }
    }
}

/// RDP: an X.224 Connection Request with an RDP negotiation request (TLS, CredSSP); the
/// reply tells which security protocol the server selects, or that it refuses.
async fn rdp(stream: &mut TcpStream, result: &mut PortResult, wait: Duration) {
    // TPKT (version 3, length 19) + X.224 CR (length 14) + RDP_NEG_REQ (TLS|CredSSP).
    let request = [3, 0, 0, 19, 14, 0xe0, 0, 0, 0, 0, 0, 1, 0, 8, 0, 3, 0, 0, 0];
    if stream.write_all(&request).await.is_err() {
        return;
    }
    let reply = read_until(stream, 64, wait, |b| {
        b.len() >= 4 && b.len() >= u16::from_be_bytes([b[2], b[3]]) as usize
    })
    .await;
    if let Some(facts) = crate::wire::rdp_reply(&reply) {
        set_service(result, "rdp");
        result.facts.extend(facts);
    }
}

/// SMB: an SMB1 negotiate offering only `NT LM 0.12`. A server that answers in SMB1 still
/// speaks SMBv1; one that answers in SMB2 or drops the connection does not.
async fn smb(stream: &mut TcpStream, result: &mut PortResult, wait: Duration) {
    if stream
        .write_all(&crate::wire::smb1_negotiate())
        .await
        .is_err()
    {
        return;
    }
    let reply = read_until(stream, 1024, wait, |b| b.len() >= 8).await;
    if let Some(facts) = crate::wire::smb_reply(&reply) {
        set_service(result, "smb");
        result.facts.extend(facts);
    } else if reply.is_empty() {
        // Dropped: SMB1 not spoken (a modern Windows or Samba with SMB1 off).
        set_service(result, "smb");
        result.facts.insert("smb.smb1".into(), "false".into());
    }
}

/// UDP probes: SNMP GET of sysDescr, sysObjectID and sysName with each configured community.
pub(crate) async fn udp(ctx: &Arc<Ctx>, addr: IpAddr, port: u16) -> Option<Option<PortResult>> {
    if port != 161 || ctx.policy.snmp_communities.is_empty() {
        return Some(None);
    }
    let _permit = ctx.permits.acquire().await.ok()?;
    for community in &ctx.policy.snmp_communities {
        ctx.pacer.wait(&ctx.stop).await;
        if !ctx.may_probe(addr) {
            return Some(None);
        }
        ctx.counters.probes.fetch_add(1, Ordering::Relaxed);
        let target = SocketAddr::new(addr, port);
        if let Some(facts) = crate::snmp::get_system(target, community, ctx.timeout()).await {
            let mut r = PortResult::new(port, Transport::Udp, PortState::Open);
            set_service(&mut r, "snmp");
            r.facts.extend(facts);
            // The community is a credential: which one worked is the safe-use check's to
            // record (issue 7); the scan keeps only that a configured one did.
            r.facts
                .insert("snmp.community_accepted".into(), "true".into());
            if let Some(descr) = r.facts.get("snmp.sys_descr") {
                r.banner = Some(identify::printable(descr.as_bytes(), 200));
            }
            ctx.counters.open_ports.fetch_add(1, Ordering::Relaxed);
            return Some(Some(r));
        }
    }
    Some(Some(PortResult::new(
        port,
        Transport::Udp,
        PortState::OpenFiltered,
    )))
}
