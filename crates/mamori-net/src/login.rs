//! One login attempt per call, per protocol: what the default-credential checks
//! ([`crate::creds`]) send. Each returns a [`Verdict`] and nothing else; the password is
//! never kept, logged or put in an error.
//!
//! Every attempt opens its own connection and closes it as soon as the answer is known: no
//! session, shell, query or command is ever run after a login succeeds.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::probe::read_until;

/// What one attempt found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The account and password were accepted.
    Accepted,
    /// The service let us in without asking for any password (認証なし).
    Open,
    /// Refused.
    Rejected,
    /// A lockout or rate-limit answer: stop trying this device.
    Locked,
    /// No answer that says either way (closed, timed out, a protocol we cannot finish).
    Unreachable,
}

async fn connect(target: SocketAddr, wait: Duration) -> Option<TcpStream> {
    tokio::time::timeout(wait, TcpStream::connect(target))
        .await
        .ok()?
        .ok()
}

// ---------------------------------------------------------------------------------------
// FTP

/// FTP `USER`/`PASS`.
pub async fn ftp(target: SocketAddr, user: &str, pass: &str, wait: Duration) -> Verdict {
    let Some(mut s) = connect(target, wait).await else {
        return Verdict::Unreachable;
    };
    let line = |b: &[u8]| b.ends_with(b"\n");
    let greeting = read_until(&mut s, 4096, wait, line).await;
    if !greeting.starts_with(b"220") {
        return if greeting.starts_with(b"421") {
            Verdict::Locked
        } else {
            Verdict::Unreachable
        };
    }
    if s.write_all(format!("USER {user}\r\n").as_bytes())
        .await
        .is_err()
    {
        return Verdict::Unreachable;
    }
    let reply = read_until(&mut s, 4096, wait, line).await;
    let verdict = if reply.starts_with(b"230") {
        Verdict::Accepted
    } else if reply.starts_with(b"331") {
        if s.write_all(format!("PASS {pass}\r\n").as_bytes())
            .await
            .is_err()
        {
            return Verdict::Unreachable;
        }
        let reply = read_until(&mut s, 4096, wait, line).await;
        if reply.starts_with(b"230") {
            Verdict::Accepted
        } else if reply.starts_with(b"421") {
            Verdict::Locked
        } else if reply.starts_with(b"530") {
            Verdict::Rejected
        } else {
            Verdict::Unreachable
        }
    } else if reply.starts_with(b"421") {
        Verdict::Locked
    } else {
        Verdict::Rejected
    };
    let _ = s.write_all(b"QUIT\r\n").await;
    verdict
}

// ---------------------------------------------------------------------------------------
// HTTP Basic and Digest

/// Sends one request and reads the status code and the header block.
async fn http_exchange<S: AsyncRead + AsyncWrite + Unpin>(
    s: &mut S,
    host: &str,
    authorization: Option<&str>,
    wait: Duration,
) -> Option<(u16, String)> {
    let auth = authorization
        .map(|a| format!("Authorization: {a}\r\n"))
        .unwrap_or_default();
    let req = format!(
        "GET / HTTP/1.1\r\nHost: {host}\r\nUser-Agent: mamori-check\r\n{auth}Connection: close\r\n\r\n"
    );
    s.write_all(req.as_bytes()).await.ok()?;
    let head = read_until(s, 16384, wait, |b| b.windows(4).any(|w| w == b"\r\n\r\n")).await;
    let text = String::from_utf8_lossy(&head).into_owned();
    let status = text.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, text))
}

async fn http_once(
    target: SocketAddr,
    tls: bool,
    authorization: Option<&str>,
    wait: Duration,
) -> Option<(u16, String)> {
    let s = connect(target, wait).await?;
    let host = match target {
        SocketAddr::V6(a) => format!("[{}]", a.ip()),
        a => a.ip().to_string(),
    };
    if tls {
        let mut t = crate::tls::connect(s, wait).await?;
        http_exchange(&mut t, &host, authorization, wait).await
    } else {
        let mut s = s;
        http_exchange(&mut s, &host, authorization, wait).await
    }
}

fn http_verdict(status: Option<u16>) -> Verdict {
    match status {
        Some(200..=399) => Verdict::Accepted,
        Some(423 | 429 | 503) => Verdict::Locked,
        Some(401 | 403) => Verdict::Rejected,
        Some(_) | None => Verdict::Unreachable,
    }
}

/// HTTP Basic authentication on `/`.
pub async fn http_basic(
    target: SocketAddr,
    tls: bool,
    user: &str,
    pass: &str,
    wait: Duration,
) -> Verdict {
    use base64::Engine;
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
    let auth = format!("Basic {token}");
    http_verdict(
        http_once(target, tls, Some(&auth), wait)
            .await
            .map(|(s, _)| s),
    )
}

/// The parameters of a `WWW-Authenticate: Digest` challenge.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DigestChallenge {
    /// realm
    pub realm: String,
    /// nonce
    pub nonce: String,
    /// opaque, if sent
    pub opaque: Option<String>,
    /// `auth` when the server offers it
    pub qop: Option<String>,
    /// `MD5` (default) or `SHA-256`
    pub algorithm: String,
}

/// Reads the Digest challenge out of a response head.
pub fn digest_challenge(head: &str) -> Option<DigestChallenge> {
    let line = head.lines().find_map(|l| {
        let (name, value) = l.split_once(':')?;
        (name.trim().eq_ignore_ascii_case("www-authenticate")
            && value
                .trim_start()
                .to_ascii_lowercase()
                .starts_with("digest"))
        .then(|| value.trim_start()[6..].to_string())
    })?;
    let mut c = DigestChallenge {
        algorithm: "MD5".into(),
        ..DigestChallenge::default()
    };
    let mut rest = line.as_str();
    loop {
        rest = rest.trim_start_matches([' ', ',', '\t']);
        let Some((key, after)) = rest.split_once('=') else {
            break;
        };
        let key = key.trim().to_ascii_lowercase();
        let (value, next) = if let Some(q) = after.strip_prefix('"') {
            let end = q.find('"')?;
            (&q[..end], &q[end + 1..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (after[..end].trim(), &after[end..])
        };
        match key.as_str() {
            "realm" => c.realm = value.to_string(),
            "nonce" => c.nonce = value.to_string(),
            "opaque" => c.opaque = Some(value.to_string()),
            "qop" if value.split(',').any(|q| q.trim() == "auth") => {
                c.qop = Some("auth".into());
            }
            "algorithm" => c.algorithm = value.to_string(),
            _ => {}
        }
        rest = next;
    }
    (!c.nonce.is_empty()).then_some(c)
}

fn hex_digest(algorithm: &str, text: &str) -> Option<String> {
    use md5::Digest as _;
    let bytes: Vec<u8> = match algorithm.to_ascii_uppercase().as_str() {
        "MD5" => md5::Md5::digest(text.as_bytes()).to_vec(),
        "SHA-256" => sha2::Sha256::digest(text.as_bytes()).to_vec(),
        _ => return None,
    };
    Some(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// The `Authorization: Digest …` value for `GET uri` (RFC 7616; MD5 or SHA-256, `qop=auth`
/// or the RFC 2069 form without it).
pub fn digest_authorization(
    c: &DigestChallenge,
    user: &str,
    pass: &str,
    uri: &str,
    cnonce: &str,
) -> Option<String> {
    let ha1 = hex_digest(&c.algorithm, &format!("{user}:{}:{pass}", c.realm))?;
    let ha2 = hex_digest(&c.algorithm, &format!("GET:{uri}"))?;
    let nc = "00000001";
    let response = match &c.qop {
        Some(qop) => hex_digest(
            &c.algorithm,
            &format!("{ha1}:{}:{nc}:{cnonce}:{qop}:{ha2}", c.nonce),
        )?,
        None => hex_digest(&c.algorithm, &format!("{ha1}:{}:{ha2}", c.nonce))?,
    };
    let mut out = format!(
        "Digest username=\"{user}\", realm=\"{}\", nonce=\"{}\", uri=\"{uri}\", algorithm={}, response=\"{response}\"",
        c.realm, c.nonce, c.algorithm
    );
    if let Some(qop) = &c.qop {
        out.push_str(&format!(", qop={qop}, nc={nc}, cnonce=\"{cnonce}\""));
    }
    if let Some(o) = &c.opaque {
        out.push_str(&format!(", opaque=\"{o}\""));
    }
    Some(out)
}

/// HTTP Digest authentication on `/`: one request for the challenge, one with the answer.
pub async fn http_digest(
    target: SocketAddr,
    tls: bool,
    user: &str,
    pass: &str,
    wait: Duration,
) -> Verdict {
    let Some((status, head)) = http_once(target, tls, None, wait).await else {
        return Verdict::Unreachable;
    };
    if status != 401 {
        return http_verdict(Some(status));
    }
    let Some(challenge) = digest_challenge(&head) else {
        return Verdict::Unreachable;
    };
    let cnonce = format!("{:016x}", rand_u64());
    let Some(auth) = digest_authorization(&challenge, user, pass, "/", &cnonce) else {
        return Verdict::Unreachable;
    };
    http_verdict(
        http_once(target, tls, Some(&auth), wait)
            .await
            .map(|(s, _)| s),
    )
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.finish()
}

// ---------------------------------------------------------------------------------------
// Redis

/// Redis `AUTH [user] password`.
pub async fn redis(target: SocketAddr, user: &str, pass: &str, wait: Duration) -> Verdict {
    let Some(mut s) = connect(target, wait).await else {
        return Verdict::Unreachable;
    };
    let cmd = if user.is_empty() {
        format!("*2\r\n$4\r\nAUTH\r\n${}\r\n{pass}\r\n", pass.len())
    } else {
        format!(
            "*3\r\n$4\r\nAUTH\r\n${}\r\n{user}\r\n${}\r\n{pass}\r\n",
            user.len(),
            pass.len()
        )
    };
    if s.write_all(cmd.as_bytes()).await.is_err() {
        return Verdict::Unreachable;
    }
    let reply = read_until(&mut s, 512, wait, |b| b.ends_with(b"\n")).await;
    if reply.starts_with(b"+OK") {
        Verdict::Accepted
    } else if reply.starts_with(b"-") {
        Verdict::Rejected
    } else {
        Verdict::Unreachable
    }
}

// ---------------------------------------------------------------------------------------
// SSH (russh)

struct AnyHostKey;

impl russh::client::Handler for AnyHostKey {
    type Error = russh::Error;

    // The checks test accounts, not host keys; nothing secret of the hospital's is sent.
    async fn check_server_key(
        &mut self,
        _key: &russh::keys::PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        Ok(true)
    }
}

/// SSH password authentication (no session is opened).
pub async fn ssh(target: SocketAddr, user: &str, pass: &str, wait: Duration) -> Verdict {
    let config = Arc::new(russh::client::Config {
        inactivity_timeout: Some(wait * 2),
        ..russh::client::Config::default()
    });
    let attempt = async {
        let mut handle = russh::client::connect(config, target, AnyHostKey)
            .await
            .ok()?;
        let result = handle.authenticate_password(user, pass).await;
        let _ = handle
            .disconnect(russh::Disconnect::ByApplication, "", "en")
            .await;
        Some(match result {
            Ok(r) if r.success() => Verdict::Accepted,
            Ok(russh::client::AuthResult::Failure {
                remaining_methods, ..
            }) => {
                if remaining_methods.is_empty() {
                    // The server hung up its methods: too many failures.
                    Verdict::Locked
                } else {
                    Verdict::Rejected
                }
            }
            Ok(_) => Verdict::Rejected,
            Err(_) => Verdict::Unreachable,
        })
    };
    tokio::time::timeout(wait * 3, attempt)
        .await
        .ok()
        .flatten()
        .unwrap_or(Verdict::Unreachable)
}

// ---------------------------------------------------------------------------------------
// Telnet

const IAC: u8 = 255;

/// Reads until one of `wanted` appears (case-insensitive) at the end of what is shown,
/// answering every option negotiation with a refusal. Returns the text shown.
async fn telnet_read<S: AsyncRead + AsyncWrite + Unpin>(
    s: &mut S,
    wanted: &[&str],
    wait: Duration,
) -> String {
    let mut shown = Vec::new();
    let deadline = tokio::time::Instant::now() + wait;
    let mut buf = [0u8; 1024];
    loop {
        let n = match tokio::time::timeout_at(deadline, s.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => n,
            _ => break,
        };
        let mut i = 0;
        while i < n {
            if buf[i] == IAC && i + 1 < n {
                let cmd = buf[i + 1];
                if (251..=254).contains(&cmd) && i + 2 < n {
                    // WILL/WONT/DO/DONT option: refuse (DO → WONT, WILL → DONT).
                    let answer = if cmd == 253 || cmd == 254 { 252 } else { 254 };
                    let _ = s.write_all(&[IAC, answer, buf[i + 2]]).await;
                    i += 3;
                    continue;
                }
                i += 2;
                continue;
            }
            shown.push(buf[i]);
            i += 1;
        }
        let text = String::from_utf8_lossy(&shown).to_ascii_lowercase();
        let tail = text.trim_end();
        if wanted.iter().any(|w| tail.ends_with(w)) || shown.len() > 16384 {
            break;
        }
    }
    String::from_utf8_lossy(&shown).into_owned()
}

/// Telnet login: waits for the login prompt, sends the user and password, and reads what
/// follows. A shell prompt is acceptance; "incorrect", "failed", "denied" or a new login
/// prompt is refusal.
pub async fn telnet(target: SocketAddr, user: &str, pass: &str, wait: Duration) -> Verdict {
    let Some(mut s) = connect(target, wait).await else {
        return Verdict::Unreachable;
    };
    let prompts = ["login:", "username:", "user name:", "user:", "password:"];
    let first = telnet_read(&mut s, &prompts, wait)
        .await
        .to_ascii_lowercase();
    let first_tail = first.trim_end();
    let asked_password_only = first_tail.ends_with("password:");
    if !prompts.iter().any(|p| first_tail.ends_with(p)) {
        return if first.contains("too many") || first.contains("locked") {
            Verdict::Locked
        } else {
            Verdict::Unreachable
        };
    }
    if !asked_password_only {
        if s.write_all(format!("{user}\r\n").as_bytes()).await.is_err() {
            return Verdict::Unreachable;
        }
        let next = telnet_read(&mut s, &["password:"], wait)
            .await
            .to_ascii_lowercase();
        if !next.trim_end().ends_with("password:") {
            // Some devices let a user in without a password.
            return shell_or_refusal(&next);
        }
    }
    if s.write_all(format!("{pass}\r\n").as_bytes()).await.is_err() {
        return Verdict::Unreachable;
    }
    let after = telnet_read(
        &mut s,
        &["$", "#", ">", "login:", "username:", "password:"],
        wait,
    )
    .await
    .to_ascii_lowercase();
    shell_or_refusal(&after)
}

fn shell_or_refusal(text: &str) -> Verdict {
    let tail = text.trim_end();
    if text.contains("too many") || text.contains("locked") {
        Verdict::Locked
    } else if text.contains("incorrect")
        || text.contains("fail")
        || text.contains("denied")
        || text.contains("invalid")
        || tail.ends_with("login:")
        || tail.ends_with("username:")
        || tail.ends_with("password:")
    {
        Verdict::Rejected
    } else if tail.ends_with('$') || tail.ends_with('#') || tail.ends_with('>') {
        Verdict::Accepted
    } else {
        Verdict::Unreachable
    }
}

// ---------------------------------------------------------------------------------------
// MySQL / MariaDB

/// Fills `buf` from `s` within `wait`, or `None`.
async fn read_exact_within<S: AsyncRead + Unpin>(
    s: &mut S,
    buf: &mut [u8],
    wait: Duration,
) -> Option<()> {
    tokio::time::timeout(wait, s.read_exact(buf))
        .await
        .ok()?
        .ok()
        .map(|_| ())
}

async fn mysql_packet<S: AsyncRead + Unpin>(s: &mut S, wait: Duration) -> Option<(u8, Vec<u8>)> {
    let mut head = [0u8; 4];
    read_exact_within(s, &mut head, wait).await?;
    let len = u32::from_le_bytes([head[0], head[1], head[2], 0]) as usize;
    if len > 1 << 16 {
        return None;
    }
    let mut body = vec![0u8; len];
    read_exact_within(s, &mut body, wait).await?;
    Some((head[3], body))
}

fn mysql_frame(seq: u8, body: &[u8]) -> Vec<u8> {
    let len = (body.len() as u32).to_le_bytes();
    let mut out = vec![len[0], len[1], len[2], seq];
    out.extend_from_slice(body);
    out
}

/// `mysql_native_password`: SHA1(pw) XOR SHA1(scramble + SHA1(SHA1(pw))); empty for none.
pub fn mysql_native(scramble: &[u8], pass: &str) -> Vec<u8> {
    use sha1::{Digest, Sha1};
    if pass.is_empty() {
        return Vec::new();
    }
    let h1 = Sha1::digest(pass.as_bytes());
    let h2 = Sha1::digest(h1);
    let mut h = Sha1::new();
    h.update(scramble);
    h.update(h2);
    let h3 = h.finalize();
    h1.iter().zip(h3.iter()).map(|(a, b)| a ^ b).collect()
}

/// The 20-byte scramble and the plugin of a v10 handshake.
fn mysql_handshake(body: &[u8]) -> Option<(Vec<u8>, String)> {
    if body.first() != Some(&10) {
        return None;
    }
    let mut i = 1 + body.get(1..)?.iter().position(|&b| b == 0)? + 1;
    i += 4; // connection id
    let mut scramble = body.get(i..i + 8)?.to_vec();
    i += 8 + 1; // part 1, filler
    i += 2 + 1 + 2 + 2; // capabilities (low), charset, status, capabilities (high)
    let data_len = *body.get(i)? as usize;
    i += 1 + 10;
    let part2 = data_len.saturating_sub(8).max(13);
    let rest = body.get(i..(i + part2).min(body.len()))?;
    scramble.extend(rest.iter().take_while(|&&b| b != 0).take(12));
    i += part2;
    let plugin = body
        .get(i..)
        .map(|p| String::from_utf8_lossy(p.split(|&b| b == 0).next().unwrap_or(&[])).into_owned())
        .unwrap_or_default();
    Some((scramble, plugin))
}

fn mysql_error(body: &[u8]) -> Verdict {
    let code = u16::from_le_bytes([
        body.get(1).copied().unwrap_or(0),
        body.get(2).copied().unwrap_or(0),
    ]);
    match code {
        // Access denied (user, database).
        1045 | 1044 | 1698 => Verdict::Rejected,
        // Host blocked, too many connections, user over its connection limit.
        1129 | 1040 | 1203 | 1226 | 4150 => Verdict::Locked,
        _ => Verdict::Unreachable,
    }
}

/// MySQL / MariaDB login with `mysql_native_password` (no database, no query).
pub async fn mysql(target: SocketAddr, user: &str, pass: &str, wait: Duration) -> Verdict {
    let Some(mut s) = connect(target, wait).await else {
        return Verdict::Unreachable;
    };
    let Some((_, hello)) = mysql_packet(&mut s, wait).await else {
        return Verdict::Unreachable;
    };
    if hello.first() == Some(&0xff) {
        return mysql_error(&hello);
    }
    let Some((scramble, _plugin)) = mysql_handshake(&hello) else {
        return Verdict::Unreachable;
    };
    // LONG_PASSWORD | PROTOCOL_41 | SECURE_CONNECTION | PLUGIN_AUTH
    let caps: u32 = 0x1 | 0x200 | 0x8000 | 0x80000;
    let mut body = Vec::new();
    body.extend_from_slice(&caps.to_le_bytes());
    body.extend_from_slice(&(1u32 << 24).to_le_bytes());
    body.push(45); // utf8mb4
    body.extend_from_slice(&[0u8; 23]);
    body.extend_from_slice(user.as_bytes());
    body.push(0);
    let answer = mysql_native(&scramble, pass);
    body.push(answer.len() as u8);
    body.extend_from_slice(&answer);
    body.extend_from_slice(b"mysql_native_password\0");
    if s.write_all(&mysql_frame(1, &body)).await.is_err() {
        return Verdict::Unreachable;
    }
    for _ in 0..3 {
        let Some((got_seq, reply)) = mysql_packet(&mut s, wait).await else {
            return Verdict::Unreachable;
        };
        match reply.first() {
            Some(0x00) => return Verdict::Accepted,
            Some(0xff) => return mysql_error(&reply),
            // Auth switch: answer only for mysql_native_password.
            Some(0xfe) => {
                let rest = &reply[1..];
                let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
                if &rest[..end] != b"mysql_native_password" {
                    return Verdict::Unreachable;
                }
                let data: Vec<u8> = rest
                    .get(end + 1..)
                    .unwrap_or(&[])
                    .iter()
                    .copied()
                    .take(20)
                    .collect();
                let seq = got_seq.wrapping_add(1);
                if s.write_all(&mysql_frame(seq, &mysql_native(&data, pass)))
                    .await
                    .is_err()
                {
                    return Verdict::Unreachable;
                }
            }
            _ => return Verdict::Unreachable,
        }
    }
    Verdict::Unreachable
}

// ---------------------------------------------------------------------------------------
// PostgreSQL

async fn pg_message<S: AsyncRead + Unpin>(s: &mut S, wait: Duration) -> Option<(u8, Vec<u8>)> {
    let mut head = [0u8; 5];
    read_exact_within(s, &mut head, wait).await?;
    let len = u32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize;
    if !(4..=1 << 16).contains(&len) {
        return None;
    }
    let mut body = vec![0u8; len - 4];
    read_exact_within(s, &mut body, wait).await?;
    Some((head[0], body))
}

fn pg_frame(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    out.extend_from_slice(&((body.len() + 4) as u32).to_be_bytes());
    out.extend_from_slice(body);
    out
}

fn pg_error(body: &[u8]) -> Verdict {
    let code = body
        .split(|&b| b == 0)
        .find_map(|f| f.strip_prefix(b"C"))
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .unwrap_or_default();
    match code.as_str() {
        "28P01" | "28000" => Verdict::Rejected,
        "53300" => Verdict::Locked,
        // Authentication passed; the database does not exist.
        "3D000" => Verdict::Accepted,
        _ => Verdict::Unreachable,
    }
}

/// PostgreSQL start-up and authentication (trust, cleartext, MD5, SCRAM-SHA-256). Trust —
/// in without a password — is [`Verdict::Open`].
pub async fn postgresql(target: SocketAddr, user: &str, pass: &str, wait: Duration) -> Verdict {
    use postgres_protocol::authentication::sasl::{ChannelBinding, ScramSha256};
    let Some(mut s) = connect(target, wait).await else {
        return Verdict::Unreachable;
    };
    let mut startup = Vec::new();
    startup.extend_from_slice(&196_608u32.to_be_bytes());
    for (k, v) in [("user", user), ("database", "postgres")] {
        startup.extend_from_slice(k.as_bytes());
        startup.push(0);
        startup.extend_from_slice(v.as_bytes());
        startup.push(0);
    }
    startup.push(0);
    let mut first = ((startup.len() + 4) as u32).to_be_bytes().to_vec();
    first.extend_from_slice(&startup);
    if s.write_all(&first).await.is_err() {
        return Verdict::Unreachable;
    }
    let mut sent_password = false;
    let mut scram: Option<ScramSha256> = None;
    let mut authenticated = false;
    for _ in 0..64 {
        let Some((tag, body)) = pg_message(&mut s, wait).await else {
            return Verdict::Unreachable;
        };
        match tag {
            b'E' => return pg_error(&body),
            b'Z' if authenticated => {
                let _ = s.write_all(&pg_frame(b'X', &[])).await;
                return if sent_password {
                    Verdict::Accepted
                } else {
                    Verdict::Open
                };
            }
            b'S' | b'K' | b'N' if authenticated => continue,
            b'R' => {
                let code = u32::from_be_bytes([
                    *body.first().unwrap_or(&0xff),
                    *body.get(1).unwrap_or(&0),
                    *body.get(2).unwrap_or(&0),
                    *body.get(3).unwrap_or(&0),
                ]);
                let data = body.get(4..).unwrap_or(&[]);
                let reply = match code {
                    0 => {
                        // Authenticated; the role and database are checked next: in only
                        // at ReadyForQuery.
                        authenticated = true;
                        continue;
                    }
                    3 => {
                        let mut p = pass.as_bytes().to_vec();
                        p.push(0);
                        p
                    }
                    5 => {
                        let salt: [u8; 4] = match data.get(..4).and_then(|d| d.try_into().ok()) {
                            Some(s) => s,
                            None => return Verdict::Unreachable,
                        };
                        let mut p = postgres_protocol::authentication::md5_hash(
                            user.as_bytes(),
                            pass.as_bytes(),
                            salt,
                        )
                        .into_bytes();
                        p.push(0);
                        p
                    }
                    10 => {
                        let offers_scram = data.split(|&b| b == 0).any(|m| m == b"SCRAM-SHA-256");
                        if !offers_scram {
                            return Verdict::Unreachable;
                        }
                        let sc = ScramSha256::new(pass.as_bytes(), ChannelBinding::unsupported());
                        let msg = sc.message().to_vec();
                        scram = Some(sc);
                        let mut p = b"SCRAM-SHA-256\0".to_vec();
                        p.extend_from_slice(&(msg.len() as u32).to_be_bytes());
                        p.extend_from_slice(&msg);
                        p
                    }
                    11 => {
                        let Some(sc) = scram.as_mut() else {
                            return Verdict::Unreachable;
                        };
                        if sc.update(data).is_err() {
                            return Verdict::Unreachable;
                        }
                        sc.message().to_vec()
                    }
                    12 => {
                        // The server's proof; the result follows as R 0 or an error.
                        continue;
                    }
                    _ => return Verdict::Unreachable,
                };
                sent_password = true;
                if s.write_all(&pg_frame(b'p', &reply)).await.is_err() {
                    return Verdict::Unreachable;
                }
            }
            _ => return Verdict::Unreachable,
        }
    }
    Verdict::Unreachable
}

// ---------------------------------------------------------------------------------------
// AMQP 0-9-1 (RabbitMQ)

async fn amqp_frame<S: AsyncRead + Unpin>(s: &mut S, wait: Duration) -> Option<(u8, Vec<u8>)> {
    let mut head = [0u8; 7];
    read_exact_within(s, &mut head, wait).await?;
    let size = u32::from_be_bytes([head[3], head[4], head[5], head[6]]) as usize;
    if size > 1 << 20 {
        return None;
    }
    let mut body = vec![0u8; size + 1];
    read_exact_within(s, &mut body, wait).await?;
    if body.pop() != Some(0xce) {
        return None;
    }
    Some((head[0], body))
}

/// The `(class, method)` of a method frame's payload.
fn amqp_method(payload: &[u8]) -> Option<(u16, u16)> {
    Some((
        u16::from_be_bytes([*payload.first()?, *payload.get(1)?]),
        u16::from_be_bytes([*payload.get(2)?, *payload.get(3)?]),
    ))
}

/// AMQP 0-9-1 `Connection.Start-Ok` with PLAIN; `Connection.Tune` back is acceptance.
pub async fn amqp(target: SocketAddr, user: &str, pass: &str, wait: Duration) -> Verdict {
    let Some(mut s) = connect(target, wait).await else {
        return Verdict::Unreachable;
    };
    if s.write_all(b"AMQP\x00\x00\x09\x01").await.is_err() {
        return Verdict::Unreachable;
    }
    match amqp_frame(&mut s, wait).await {
        Some((1, p)) if amqp_method(&p) == Some((10, 10)) => {}
        _ => return Verdict::Unreachable,
    }
    let mut args = Vec::new();
    args.extend_from_slice(&10u16.to_be_bytes());
    args.extend_from_slice(&11u16.to_be_bytes());
    args.extend_from_slice(&0u32.to_be_bytes()); // client-properties: empty table
    args.push(5);
    args.extend_from_slice(b"PLAIN");
    let response = format!("\0{user}\0{pass}");
    args.extend_from_slice(&(response.len() as u32).to_be_bytes());
    args.extend_from_slice(response.as_bytes());
    args.push(5);
    args.extend_from_slice(b"en_US");
    let mut frame = vec![1u8, 0, 0];
    frame.extend_from_slice(&(args.len() as u32).to_be_bytes());
    frame.extend_from_slice(&args);
    frame.push(0xce);
    if s.write_all(&frame).await.is_err() {
        return Verdict::Unreachable;
    }
    match amqp_frame(&mut s, wait).await {
        // Connection.Tune: in.
        Some((1, p)) if amqp_method(&p) == Some((10, 30)) => Verdict::Accepted,
        // Connection.Close: reply code 403 ACCESS_REFUSED.
        Some((1, p)) if amqp_method(&p) == Some((10, 50)) => {
            let code = u16::from_be_bytes([
                p.get(4).copied().unwrap_or(0),
                p.get(5).copied().unwrap_or(0),
            ]);
            if code == 403 {
                Verdict::Rejected
            } else {
                Verdict::Unreachable
            }
        }
        // RabbitMQ closes the socket on a refused login (its documented behaviour before
        // the authentication_failure_close capability).
        None => Verdict::Rejected,
        _ => Verdict::Unreachable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_matches_rfc_2617_example() {
        // RFC 2617 §3.5: Mufasa / "Circle Of Life" → 6629fae49393a05397450978507c4ef1.
        let head = "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Digest realm=\"testrealm@host.com\", qop=\"auth,auth-int\", nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"\r\n\r\n";
        let c = digest_challenge(head).unwrap();
        assert_eq!(c.realm, "testrealm@host.com");
        assert_eq!(c.qop.as_deref(), Some("auth"));
        let auth = digest_authorization(
            &c,
            "Mufasa",
            "Circle Of Life",
            "/dir/index.html",
            "0a4f113b",
        )
        .unwrap();
        assert!(
            auth.contains("response=\"6629fae49393a05397450978507c4ef1\""),
            "{auth}"
        );
        assert!(auth.contains("opaque=\"5ccc069c403ebaf9f0171e9517f40e41\""));
    }

    #[test]
    fn digest_challenges_that_are_not_are_refused() {
        assert!(digest_challenge("HTTP/1.1 401\r\nWWW-Authenticate: Basic realm=x\r\n").is_none());
        assert!(
            digest_challenge("HTTP/1.1 401\r\nWWW-Authenticate: Digest realm=\"x\r\n").is_none()
        );
        assert!(
            digest_challenge("WWW-Authenticate: Digest nonce=abc, algorithm=SHA-256")
                .is_some_and(|c| c.algorithm == "SHA-256" && c.nonce == "abc")
        );
    }

    #[test]
    fn mysql_native_password_matches_a_known_answer() {
        // The scramble and answer of MySQL's own documentation example are not published
        // as bytes; check the defining identity instead: the server, knowing SHA1(SHA1(pw)),
        // recovers SHA1(pw) from the answer and the scramble.
        use sha1::{Digest, Sha1};
        let scramble = b"0123456789abcdefghij";
        let answer = mysql_native(scramble, "secret");
        let stored = Sha1::digest(Sha1::digest(b"secret"));
        let mut h = Sha1::new();
        h.update(scramble);
        h.update(stored);
        let mask = h.finalize();
        let recovered: Vec<u8> = answer.iter().zip(mask.iter()).map(|(a, b)| a ^ b).collect();
        assert_eq!(Sha1::digest(&recovered).to_vec(), stored.to_vec());
        assert!(mysql_native(scramble, "").is_empty());
    }

    #[test]
    fn handshakes_and_frames_never_panic_on_garbage() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for len in 0..400usize {
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x as u8
                })
                .collect();
            let _ = mysql_handshake(&bytes);
            let mut b = bytes.clone();
            if !b.is_empty() {
                b[0] = 10;
            }
            let _ = mysql_handshake(&b);
            let _ = mysql_error(&bytes);
            let _ = pg_error(&bytes);
            let _ = amqp_method(&bytes);
            let _ = digest_challenge(&String::from_utf8_lossy(&bytes));
            let _ = shell_or_refusal(&String::from_utf8_lossy(&bytes));
        }
    }
}
