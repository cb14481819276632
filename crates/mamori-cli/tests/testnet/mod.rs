//! A small hospital network of real servers from Debian packages, on loopback addresses of
//! its own, for the network-audit tests.
//!
//! | address        | what                                   | ports            |
//! |----------------|----------------------------------------|------------------|
//! | 127.42.0.10    | nginx (HTTP and HTTPS, self-signed)    | 80, 443          |
//! | 127.42.0.11    | OpenSSH sshd                           | 22               |
//! | 127.42.0.12    | vsftpd                                 | 21               |
//! | 127.42.0.13    | Net-SNMP snmpd (community `public`)    | udp/161          |
//! | 127.42.0.14-15 | nginx with HTTP Basic (accounts modes) | 80               |
//! | 127.42.0.16    | lighttpd with HTTP Digest (accounts modes) | 80           |
//! | 127.42.0.17    | TigerVNC's Xvnc, no authentication     | 5900             |
//! | 127.0.0.1      | the machine's PostgreSQL, MariaDB, Redis | 5432, 3306, 6379 |
//! | 10.251.42.2    | Orthanc (DICOM + HTTP), dcmtk storescp and Samba (SMBv1 still on), in a network namespace this harness creates | 4242, 8042, 11112, 445 |
//!
//! Orthanc and storescp bind every address of their host, so on the shared loopback they
//! would answer on every 127.x address, and Samba binds only addresses configured on an
//! interface; they get a network namespace of their own, joined to this one by a veth pair
//! with the /30 10.251.42.0. The harness checks that the route to 10.251.42.2 leaves through
//! that veth before anything is sent there: no packet can reach any other network.
//!
//! For the default-credential tests, [`TestNet::with_accounts`] configures the same servers
//! once with their default credentials and once with changed ones, and adds two nginx sites
//! with HTTP Basic authentication (127.42.0.14 and .15, the same password on both) and two
//! local users that sshd accepts passwords for. The password of every default account is a
//! constant below, so a test can grep for it.
//!
//! Every server's processes are killed and the namespace deleted when the harness drops.
#![allow(dead_code)]

use std::net::{IpAddr, SocketAddr, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const WEB: &str = "127.42.0.10";
pub const SSH: &str = "127.42.0.11";
pub const FTP: &str = "127.42.0.12";
pub const SNMP: &str = "127.42.0.13";
pub const VNC: &str = "127.42.0.17";
pub const DB: &str = "127.0.0.1";
pub const PACS: &str = "10.251.42.2";
const PACS_GW: &str = "10.251.42.1";
/// nginx sites with HTTP Basic authentication.
pub const BASIC1: &str = "127.42.0.14";
pub const BASIC2: &str = "127.42.0.15";
/// lighttpd with HTTP Digest authentication.
pub const DIGEST: &str = "127.42.0.16";
/// The default Digest password (in the test catalogue).
pub const DIGEST_DEFAULT_PASSWORD: &str = "Digest-Factory-3";

/// The sshd user whose password is in the test catalogue (the 2nd candidate for it).
pub const SSH_USER: &str = "mamori-adm";
/// The sshd user none of whose catalogue passwords is right (5 candidates; 3 may be tried).
pub const SSH_USER_LOCKED: &str = "mamori-svc";
/// The default password of `SSH_USER` (in the test catalogue).
pub const SSH_DEFAULT_PASSWORD: &str = "Mamori-Factory-1";
/// The default Basic password of the nginx sites (in the test catalogue).
pub const BASIC_DEFAULT_PASSWORD: &str = "Nginx-Factory-7";
/// The SNMP community when the default is changed.
pub const SNMP_CHANGED_COMMUNITY: &str = "x7-ward-ro-2026";

/// How accounts are set up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accounts {
    /// As the network-audit tests need: anonymous FTP, community public, orthanc/orthanc,
    /// sshd with keys only; no Basic sites.
    Audit,
    /// Every default left as shipped (plus the Basic sites and sshd users).
    Defaults,
    /// Every default changed (anonymous FTP off, another community, another Orthanc
    /// password, other passwords for the sshd users and Basic sites; no VNC).
    Changed,
}

pub struct TestNet {
    pub dir: tempfile::TempDir,
    children: Vec<Child>,
    netns: Option<String>,
    veth: Option<String>,
    accounts: Accounts,
}

/// Why the harness cannot run here (a missing program), or `None`.
pub fn missing_programs() -> Option<String> {
    let need = [
        "/usr/sbin/nginx",
        "/usr/sbin/lighttpd",
        "/usr/sbin/sshd",
        "/usr/sbin/vsftpd",
        "/usr/sbin/snmpd",
        "/usr/sbin/Orthanc",
        "/usr/bin/storescp",
        "/usr/sbin/smbd",
        "/usr/bin/Xvnc",
        "/usr/bin/openssl",
        "/usr/bin/ssh-keygen",
        "/usr/sbin/ip",
    ];
    let missing: Vec<&str> = need
        .iter()
        .copied()
        .filter(|p| !Path::new(p).exists())
        .collect();
    (!missing.is_empty()).then(|| format!("not installed: {}", missing.join(", ")))
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn wait_tcp(addr: &str, port: u16, what: &str, child: &mut Child) {
    let target = SocketAddr::new(addr.parse().unwrap(), port);
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(20) {
        if TcpStream::connect_timeout(&target, Duration::from_millis(200)).is_ok() {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited early: {status}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("{what} did not listen on {target} within 20 s");
}

impl TestNet {
    pub fn start() -> TestNet {
        TestNet::with_accounts(Accounts::Audit)
    }

    pub fn with_accounts(accounts: Accounts) -> TestNet {
        let dir = tempfile::tempdir().unwrap();
        let mut net = TestNet {
            dir,
            children: Vec::new(),
            netns: None,
            veth: None,
            accounts,
        };
        if accounts != Accounts::Audit {
            net.users();
        }
        net.nginx();
        if accounts != Accounts::Audit {
            net.lighttpd();
        }
        net.sshd();
        net.vsftpd();
        net.snmpd();
        if accounts != Accounts::Changed {
            net.vnc();
        }
        net.pacs();
        net
    }

    /// The two local users sshd accepts passwords for: no home, no shell, and sshd runs
    /// nothing for them (ForceCommand /bin/false); only the test's sshd lets them log in.
    fn users(&mut self) {
        for user in [SSH_USER, SSH_USER_LOCKED] {
            let exists = Command::new("id")
                .arg(user)
                .output()
                .is_ok_and(|o| o.status.success());
            if !exists {
                run(Command::new("useradd").args(["-M", "-N", "-s", "/usr/sbin/nologin", user]));
            }
        }
        let adm = if self.accounts == Accounts::Defaults {
            SSH_DEFAULT_PASSWORD.to_string()
        } else {
            format!("changed-{}-Qz", std::process::id())
        };
        let mut chpasswd = Command::new("chpasswd")
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        chpasswd
            .stdin
            .take()
            .unwrap()
            .write_all(
                format!(
                    "{SSH_USER}:{adm}\n{SSH_USER_LOCKED}:svc-{}-Never-In-Catalogue\n",
                    std::process::id()
                )
                .as_bytes(),
            )
            .unwrap();
        assert!(chpasswd.wait().unwrap().success());
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn spawn(&mut self, cmd: &mut Command, log: &str) -> usize {
        let log = std::fs::File::create(self.path(log)).unwrap();
        let child = cmd
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
        self.children.push(child);
        self.children.len() - 1
    }

    fn nginx(&mut self) {
        let d = self.dir.path().display().to_string();
        run(Command::new("openssl").args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "30",
            "-subj",
            "/CN=vpn.mamori.test/O=Mamori Test Hospital",
            "-keyout",
            &format!("{d}/key.pem"),
            "-out",
            &format!("{d}/cert.pem"),
        ]));
        std::fs::create_dir_all(self.path("nginx-tmp")).unwrap();
        let basic = if self.accounts == Accounts::Audit {
            String::new()
        } else {
            let password = if self.accounts == Accounts::Defaults {
                BASIC_DEFAULT_PASSWORD.to_string()
            } else {
                format!("changed-{}-Web", std::process::id())
            };
            let hash = Command::new("openssl")
                .args(["passwd", "-apr1", &password])
                .output()
                .unwrap();
            assert!(hash.status.success());
            std::fs::create_dir_all(self.path("www")).unwrap();
            std::fs::write(
                self.path("www/index.html"),
                "<html><head><title>Appliance</title></head></html>",
            )
            .unwrap();
            std::fs::write(
                self.path("htpasswd"),
                format!("admin:{}", String::from_utf8_lossy(&hash.stdout)),
            )
            .unwrap();
            let site = |addr: &str, name: &str| {
                format!(
                    r#"
    server {{
        listen {addr}:80;
        access_log {d}/{name}-access.log auth;
        location / {{
            # Not `return`: it would answer before the access phase checks the password.
            root {d}/www;
            auth_basic "MamoriTest Appliance";
            auth_basic_user_file {d}/htpasswd;
        }}
    }}"#
                )
            };
            format!(
                "    log_format auth '$remote_addr $remote_user $status';{}{}",
                site(BASIC1, "basic1"),
                site(BASIC2, "basic2")
            )
        };
        let conf = format!(
            r#"daemon off;
master_process off;
pid {d}/nginx.pid;
error_log {d}/nginx-error.log;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {d}/nginx-tmp;
    proxy_temp_path {d}/nginx-tmp;
    fastcgi_temp_path {d}/nginx-tmp;
    uwsgi_temp_path {d}/nginx-tmp;
    scgi_temp_path {d}/nginx-tmp;
    default_type "text/html; charset=utf-8";
    server {{
        listen {WEB}:80;
        location / {{ return 200 "<html><head><title>電子カルテ ポータル</title></head><body>ok</body></html>"; }}
    }}
    server {{
        listen {WEB}:443 ssl;
        ssl_certificate {d}/cert.pem;
        ssl_certificate_key {d}/key.pem;
        location / {{ return 200 "<html><head><title>VPN Admin</title></head></html>"; }}
    }}
{basic}
}}
"#
        );
        std::fs::write(self.path("nginx.conf"), conf).unwrap();
        let i = self.spawn(
            Command::new("/usr/sbin/nginx").args(["-c", &format!("{d}/nginx.conf"), "-p", &d]),
            "nginx.log",
        );
        wait_tcp(WEB, 80, "nginx", &mut self.children[i]);
        wait_tcp(WEB, 443, "nginx", &mut self.children[i]);
        if self.accounts != Accounts::Audit {
            wait_tcp(BASIC1, 80, "nginx", &mut self.children[i]);
            wait_tcp(BASIC2, 80, "nginx", &mut self.children[i]);
        }
    }

    /// lighttpd asking for HTTP Digest (MD5) on 127.42.0.16, every request logged with its user.
    fn lighttpd(&mut self) {
        let d = self.dir.path().display().to_string();
        let realm = "MamoriTest Digest";
        let password = if self.accounts == Accounts::Defaults {
            DIGEST_DEFAULT_PASSWORD.to_string()
        } else {
            format!("changed-{}-Dg", std::process::id())
        };
        std::fs::create_dir_all(self.path("digest-www")).unwrap();
        std::fs::write(
            self.path("digest-www/index.html"),
            "<html><head><title>Digest</title></head></html>",
        )
        .unwrap();
        std::fs::write(
            self.path("htdigest"),
            format!(
                "admin:{realm}:{}\n",
                md5_hex(&format!("admin:{realm}:{password}"))
            ),
        )
        .unwrap();
        std::fs::write(
            self.path("lighttpd.conf"),
            format!(
                r#"server.document-root = "{d}/digest-www"
server.bind = "{DIGEST}"
server.port = 80
server.pid-file = "{d}/lighttpd.pid"
server.errorlog = "{d}/lighttpd-error.log"
server.modules = ("mod_auth", "mod_authn_file", "mod_accesslog")
index-file.names = ("index.html")
accesslog.filename = "{d}/digest-access.log"
accesslog.format = "%h %u %s"
auth.backend = "htdigest"
auth.backend.htdigest.userfile = "{d}/htdigest"
auth.require = ( "/" => ( "method" => "digest", "realm" => "{realm}", "require" => "valid-user", "algorithm" => "MD5" ) )
"#
            ),
        )
        .unwrap();
        let i = self.spawn(
            Command::new("/usr/sbin/lighttpd").args(["-D", "-f", &format!("{d}/lighttpd.conf")]),
            "lighttpd.log",
        );
        wait_tcp(DIGEST, 80, "lighttpd", &mut self.children[i]);
    }

    fn sshd(&mut self) {
        let d = self.dir.path().display().to_string();
        std::fs::create_dir_all("/run/sshd").ok();
        run(Command::new("ssh-keygen").args([
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-f",
            &format!("{d}/ssh_host_ed25519_key"),
        ]));
        let passwords = if self.accounts == Accounts::Audit {
            "PasswordAuthentication no\n".to_string()
        } else {
            // Passwords for the two test users only, nothing run for them; every attempt is
            // logged (counted by the test).
            format!("PasswordAuthentication yes\nAllowUsers {SSH_USER} {SSH_USER_LOCKED}\nForceCommand /bin/false\nMaxAuthTries 10\nLogLevel VERBOSE\n")
        };
        std::fs::write(
            self.path("sshd_config"),
            format!(
                "Port 22\nListenAddress {SSH}\nHostKey {d}/ssh_host_ed25519_key\nPidFile {d}/sshd.pid\nUsePAM no\n{passwords}KbdInteractiveAuthentication no\n"
            ),
        )
        .unwrap();
        let i = self.spawn(
            Command::new("/usr/sbin/sshd").args(["-D", "-e", "-f", &format!("{d}/sshd_config")]),
            "sshd.log",
        );
        wait_tcp(SSH, 22, "sshd", &mut self.children[i]);
    }

    fn vsftpd(&mut self) {
        let d = self.dir.path().display().to_string();
        std::fs::create_dir_all(self.path("ftp-empty")).unwrap();
        std::fs::create_dir_all(self.path("ftp-root")).unwrap();
        std::fs::write(
            self.path("vsftpd.conf"),
            format!(
                "listen=YES\nlisten_ipv6=NO\nlisten_address={FTP}\nlisten_port=21\nbackground=NO\nanonymous_enable={}\nanon_root={d}/ftp-root\nno_anon_password=YES\nlocal_enable=NO\nseccomp_sandbox=NO\nsecure_chroot_dir={d}/ftp-empty\nxferlog_enable=YES\nxferlog_std_format=NO\nlog_ftp_protocol=YES\nvsftpd_log_file={d}/vsftpd-protocol.log\n",
                if self.accounts == Accounts::Changed { "NO" } else { "YES" }
            ),
        )
        .unwrap();
        let i = self.spawn(
            Command::new("/usr/sbin/vsftpd").arg(format!("{d}/vsftpd.conf")),
            "vsftpd.log",
        );
        wait_tcp(FTP, 21, "vsftpd", &mut self.children[i]);
    }

    fn snmpd(&mut self) {
        let d = self.dir.path().display().to_string();
        std::fs::write(
            self.path("snmpd.conf"),
            format!("rocommunity {} 127.0.0.0/8\nsysDescr Mamori test UPS network card\nsysName ups-3f\nsysLocation 3F machine room\nsysServices 72\n", self.community()),
        )
        .unwrap();
        let i = self.spawn(
            Command::new("/usr/sbin/snmpd").args([
                "-f",
                "-Lo",
                "-C",
                "-c",
                &format!("{d}/snmpd.conf"),
                "-p",
                &format!("{d}/snmpd.pid"),
                &format!("udp:{SNMP}:161"),
            ]),
            "snmpd.log",
        );
        // Wait until it answers a GET (the scanner's own code is not used for this).
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        sock.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        // SNMPv2c GET sysName.0 with the community, request id 1.
        let community = self.community();
        let pdu: &[u8] = &[
            0xa0, 0x19, 0x02, 0x01, 0x01, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00, 0x30, 0x0e, 0x30,
            0x0c, 0x06, 0x08, 0x2b, 0x06, 0x01, 0x02, 0x01, 0x01, 0x05, 0x00, 0x05, 0x00,
        ];
        let mut body = vec![0x02, 0x01, 0x01, 0x04, community.len() as u8];
        body.extend_from_slice(community.as_bytes());
        body.extend_from_slice(pdu);
        let mut get = vec![0x30, body.len() as u8];
        get.extend_from_slice(&body);
        let get = get.as_slice();
        let start = Instant::now();
        let mut buf = [0u8; 512];
        loop {
            sock.send_to(get, (SNMP, 161)).unwrap();
            if sock.recv_from(&mut buf).is_ok() {
                break;
            }
            if let Ok(Some(status)) = self.children[i].try_wait() {
                panic!("snmpd exited early: {status}");
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "snmpd did not answer"
            );
        }
    }

    /// The SNMP community snmpd answers.
    pub fn community(&self) -> &'static str {
        if self.accounts == Accounts::Changed {
            SNMP_CHANGED_COMMUNITY
        } else {
            "public"
        }
    }

    /// Xvnc with no authentication, as old modality PCs are often left. Its X display is
    /// unix-socket only; the display number is this process's, so parallel runs do not meet.
    fn vnc(&mut self) {
        let display = format!(":{}", 100 + std::process::id() % 800);
        let i = self.spawn(
            Command::new("/usr/bin/Xvnc").args([
                &display,
                "-rfbport",
                "5900",
                "-interface",
                VNC,
                "-SecurityTypes",
                "None",
                "-nolisten",
                "tcp",
                "-desktop",
                "modality-pc",
            ]),
            "xvnc.log",
        );
        wait_tcp(VNC, 5900, "Xvnc", &mut self.children[i]);
    }

    /// Orthanc, storescp and Samba in a namespace of their own.
    fn pacs(&mut self) {
        let ns = format!("mamori-t{}", std::process::id());
        let veth = format!("mt{}", std::process::id() % 100_000);
        let peer = format!("{veth}p");
        // Namespaces and veths left by killed runs (their process is gone) would hold the
        // PACS subnet: remove them. One of this process's own pid is removed too.
        let listed = Command::new("ip").args(["netns", "list"]).output().unwrap();
        for line in String::from_utf8_lossy(&listed.stdout).lines() {
            let name = line.split_whitespace().next().unwrap_or("");
            let Some(pid) = name.strip_prefix("mamori-t") else {
                continue;
            };
            if pid == std::process::id().to_string() || !Path::new(&format!("/proc/{pid}")).exists()
            {
                let veth = format!("mt{}", pid.parse::<u32>().unwrap_or(0) % 100_000);
                let _ = Command::new("ip").args(["link", "del", &veth]).output();
                let _ = Command::new("ip").args(["netns", "del", name]).output();
            }
        }
        run(Command::new("ip").args(["netns", "add", &ns]));
        self.netns = Some(ns.clone());
        run(Command::new("ip").args(["link", "add", &veth, "type", "veth", "peer", "name", &peer]));
        self.veth = Some(veth.clone());
        run(Command::new("ip").args(["link", "set", &peer, "netns", &ns]));
        run(Command::new("ip").args(["addr", "add", &format!("{PACS_GW}/30"), "dev", &veth]));
        run(Command::new("ip").args(["link", "set", &veth, "up"]));
        let in_ns = |args: &[&str]| {
            let mut c = Command::new("ip");
            c.args(["netns", "exec", &ns]).args(args);
            c
        };
        run(&mut in_ns(&["ip", "link", "set", "lo", "up"]));
        run(&mut in_ns(&[
            "ip",
            "addr",
            "add",
            &format!("{PACS}/30"),
            "dev",
            &peer,
        ]));
        run(&mut in_ns(&["ip", "link", "set", &peer, "up"]));
        // Nothing is sent to the PACS address unless it is routed into our veth.
        let route = Command::new("ip")
            .args(["-o", "route", "get", PACS])
            .output()
            .unwrap();
        let route = String::from_utf8_lossy(&route.stdout).to_string();
        assert!(
            route.contains(&format!("dev {veth} ")),
            "the route to {PACS} does not leave through {veth}: {route}"
        );
        let d = self.dir.path().display().to_string();
        std::fs::create_dir_all(self.path("orthanc-db")).unwrap();
        let conf = serde_json::json!({
            "Name": "MAMORI-TEST-PACS",
            "StorageDirectory": format!("{d}/orthanc-db"),
            "IndexDirectory": format!("{d}/orthanc-db"),
            "HttpPort": 8042,
            "DicomPort": 4242,
            "DicomAet": "ORTHANC",
            "DicomCheckCalledAet": true,
            "RemoteAccessAllowed": true,
            "AuthenticationEnabled": true,
            "RegisteredUsers": if self.accounts == Accounts::Changed {
                serde_json::json!({ "orthanc": format!("changed-{}-Pacs", std::process::id()) })
            } else {
                serde_json::json!({ "orthanc": "orthanc" })
            },
            "Plugins": [],
            "HttpDescribeErrors": false,
        });
        std::fs::write(self.path("orthanc.json"), conf.to_string()).unwrap();
        let i = self.spawn(
            &mut in_ns(&["/usr/sbin/Orthanc", &format!("{d}/orthanc.json")]),
            "orthanc.log",
        );
        wait_tcp(PACS, 4242, "Orthanc", &mut self.children[i]);
        wait_tcp(PACS, 8042, "Orthanc", &mut self.children[i]);
        std::fs::create_dir_all(self.path("storescp")).unwrap();
        let i = self.spawn(
            &mut in_ns(&[
                "/usr/bin/storescp",
                "--aetitle",
                "STORESCP",
                "--output-directory",
                &format!("{d}/storescp"),
                "11112",
            ]),
            "storescp.log",
        );
        wait_tcp(PACS, 11112, "storescp", &mut self.children[i]);
        let smb = format!("{d}/samba");
        std::fs::create_dir_all(format!("{smb}/share")).unwrap();
        std::fs::write(
            self.path("smb.conf"),
            format!(
                "[global]\n  interfaces = {PACS}/30\n  bind interfaces only = yes\n  smb ports = 445\n  \
                 server min protocol = NT1\n  disable netbios = yes\n  server role = standalone server\n  \
                 map to guest = Bad User\n  load printers = no\n  printing = bsd\n  printcap name = /dev/null\n  \
                 disable spoolss = yes\n  pid directory = {smb}\n  lock directory = {smb}\n  \
                 state directory = {smb}\n  cache directory = {smb}\n  private dir = {smb}\n  \
                 ncalrpc dir = {smb}\n  binddns dir = {smb}\n  log file = {smb}/log.%m\n\
                 [images]\n  path = {smb}/share\n  guest ok = yes\n"
            ),
        )
        .unwrap();
        let i = self.spawn(
            &mut in_ns(&[
                "/usr/sbin/smbd",
                "--foreground",
                "--no-process-group",
                "-s",
                &format!("{d}/smb.conf"),
            ]),
            "smbd.log",
        );
        wait_tcp(PACS, 445, "smbd", &mut self.children[i]);
    }

    /// The addresses the harness serves.
    pub fn hosts() -> Vec<IpAddr> {
        [WEB, SSH, FTP, SNMP, VNC, DB, PACS]
            .iter()
            .map(|a| a.parse().unwrap())
            .collect()
    }

    pub fn log(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(name)).unwrap_or_default()
    }
}

impl Drop for TestNet {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        if let Some(veth) = &self.veth {
            let _ = Command::new("ip").args(["link", "del", veth]).output();
        }
        if let Some(ns) = &self.netns {
            let _ = Command::new("ip").args(["netns", "del", ns]).output();
        }
    }
}

/// MD5 in hex, for the htdigest file (RFC 1321, written here to keep the test harness free of
/// a crypto dependency: the test only needs the file lighttpd reads).
fn md5_hex(text: &str) -> String {
    let out = Command::new("openssl")
        .args(["dgst", "-md5", "-r"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(text.as_bytes())?;
            c.wait_with_output()
        })
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}
