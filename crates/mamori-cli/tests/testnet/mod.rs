//! A small hospital network of real servers from Debian packages, on loopback addresses of
//! its own, for the network-audit tests.
//!
//! | address        | what                                   | ports            |
//! |----------------|----------------------------------------|------------------|
//! | 127.42.0.10    | nginx (HTTP and HTTPS, self-signed)    | 80, 443          |
//! | 127.42.0.11    | OpenSSH sshd                           | 22               |
//! | 127.42.0.12    | vsftpd                                 | 21               |
//! | 127.42.0.13    | Net-SNMP snmpd (community `public`)    | udp/161          |
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

pub struct TestNet {
    pub dir: tempfile::TempDir,
    children: Vec<Child>,
    netns: Option<String>,
    veth: Option<String>,
}

/// Why the harness cannot run here (a missing program), or `None`.
pub fn missing_programs() -> Option<String> {
    let need = [
        "/usr/sbin/nginx",
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
        let dir = tempfile::tempdir().unwrap();
        let mut net = TestNet {
            dir,
            children: Vec::new(),
            netns: None,
            veth: None,
        };
        net.nginx();
        net.sshd();
        net.vsftpd();
        net.snmpd();
        net.vnc();
        net.pacs();
        net
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
        std::fs::write(
            self.path("sshd_config"),
            format!(
                "Port 22\nListenAddress {SSH}\nHostKey {d}/ssh_host_ed25519_key\nPidFile {d}/sshd.pid\nUsePAM no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
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
                "listen=YES\nlisten_ipv6=NO\nlisten_address={FTP}\nlisten_port=21\nbackground=NO\nanonymous_enable=YES\nanon_root={d}/ftp-root\nno_anon_password=YES\nlocal_enable=NO\nseccomp_sandbox=NO\nsecure_chroot_dir={d}/ftp-empty\nxferlog_enable=NO\nvsftpd_log_file={d}/vsftpd-xfer.log\n"
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
            "rocommunity public 127.0.0.0/8\nsysDescr Mamori test UPS network card\nsysName ups-3f\nsysLocation 3F machine room\nsysServices 72\n",
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
        // SNMPv2c GET sysName.0, community "public", request id 1.
        let get: &[u8] = &[
            0x30, 0x26, 0x02, 0x01, 0x01, 0x04, 0x06, b'p', b'u', b'b', b'l', b'i', b'c', 0xa0,
            0x19, 0x02, 0x01, 0x01, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00, 0x30, 0x0e, 0x30, 0x0c,
            0x06, 0x08, 0x2b, 0x06, 0x01, 0x02, 0x01, 0x01, 0x05, 0x00, 0x05, 0x00,
        ];
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
            "RegisteredUsers": { "orthanc": "orthanc" },
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
