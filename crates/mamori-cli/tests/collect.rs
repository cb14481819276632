//! The host collector through `mamori collect`: on this machine (packages, OS release, a
//! listening socket this test opens with its process), over SSH to a real sshd on a loopback
//! address this test starts (key authentication), on a debootstrap tree (made by `.ci/run`:
//! `MAMORI_TEST_ROOTFS`), and on a container-like root written here with every concern the
//! collector looks for. Signed reports import; a changed file, an unknown key and a file that
//! is not a report are refused and change nothing.

mod support;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::Env;

fn setup() -> (Env, String) {
    let env = Env::init();
    let csv = env.path("ledger.csv");
    std::fs::write(
        &csv,
        "管理番号,機器名,機器種別\nSV-1,部門サーバ,サーバ\nSV-2,検査サーバ,サーバ\nSV-3,旧端末,端末PC\n",
    )
    .unwrap();
    assert_eq!(
        env.run(&["ledger", "import", csv.to_str().unwrap()]).code,
        0
    );
    let key = env.path("collector.key");
    let r = env.run(&[
        "collect",
        "keygen",
        "--name",
        "本院",
        "--out",
        key.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    (env, key.to_str().unwrap().to_string())
}

fn reports(env: &Env, device: &str) -> usize {
    env.run(&["--json", "collect", "show", device])
        .json()
        .as_array()
        .unwrap()
        .len()
}

#[test]
fn this_machine_is_collected_signed_and_imported_and_tampering_is_refused() {
    let (env, key) = setup();
    // A socket of this test's own: the collector must name it with this process.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let out = env.path("report.json");
    let r = env.run(&[
        "--json",
        "collect",
        "--out",
        out.to_str().unwrap(),
        "--key",
        &key,
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let signed: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let report = &signed["report"];
    let os = std::fs::read_to_string("/etc/os-release").unwrap();
    let id = report["os"]["id"].as_str().unwrap();
    assert!(os.contains(&format!("ID={id}")), "{id}");
    let packages = report["packages"].as_array().unwrap();
    assert!(packages.len() > 50, "{}", packages.len());
    assert!(packages.iter().any(|p| p["name"] == "base-files"));
    let mine = report["listening"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["port"] == port && l["addr"] == "127.0.0.1")
        .unwrap_or_else(|| panic!("port {port} not listed"));
    assert_eq!(mine["pid"], std::process::id());
    // No password hash in the report.
    let text = signed.to_string();
    assert!(
        !text.contains("$6$") && !text.contains("$y$"),
        "a hash leaked"
    );
    drop(listener);

    let r = env.run(&[
        "collect",
        "import",
        out.to_str().unwrap(),
        "--device",
        "SV-1",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("本院"), "{}", r.stdout);
    let dev = env.run(&["--json", "ledger", "show", "SV-1"]).json();
    let comps = dev["components"].as_array().unwrap();
    assert!(
        comps.iter().any(|c| c["purl"]
            .as_str()
            .is_some_and(|p| p.starts_with(&format!("pkg:deb/{id}/base-files@")))),
        "{dev:#}"
    );
    // The empty OS columns came from the report.
    assert_eq!(dev["asset"]["os_version"], report["os"]["version_id"]);

    // A changed file is refused, and so is a file signed by a key this store does not know.
    let mut changed = signed.clone();
    changed["report"]["packages"][0]["version"] = "0.0-tampered".into();
    let tampered = env.path("tampered.json");
    std::fs::write(&tampered, changed.to_string()).unwrap();
    let r = env.run(&[
        "--lang",
        "en",
        "collect",
        "import",
        tampered.to_str().unwrap(),
        "--device",
        "SV-2",
    ]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("signature does not match"),
        "{}",
        r.stderr
    );
    let other = Env::init();
    let other_key = other.path("other.key");
    assert_eq!(
        other
            .run(&[
                "collect",
                "keygen",
                "--name",
                "x",
                "--out",
                other_key.to_str().unwrap()
            ])
            .code,
        0
    );
    let foreign = env.path("foreign.json");
    assert_eq!(
        env.run(&[
            "collect",
            "--out",
            foreign.to_str().unwrap(),
            "--key",
            other_key.to_str().unwrap()
        ])
        .code,
        0
    );
    let r = env.run(&[
        "--lang",
        "en",
        "collect",
        "import",
        foreign.to_str().unwrap(),
        "--device",
        "SV-2",
    ]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("not registered"), "{}", r.stderr);
    let junk = env.path("junk.json");
    std::fs::write(&junk, "{\"hello\": 1}").unwrap();
    let r = env.run(&[
        "--lang",
        "en",
        "collect",
        "import",
        junk.to_str().unwrap(),
        "--device",
        "SV-2",
    ]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("junk.json"), "{}", r.stderr);
    assert_eq!(
        reports(&env, "SV-2"),
        0,
        "a refused import stored something"
    );
    assert_eq!(reports(&env, "SV-1"), 1);
}

/// A container-like root with every concern: an extra UID 0, an empty password, sshd letting
/// root in with a password and empty passwords, GRUB without a password, auto-login.
#[test]
fn a_root_with_every_concern_is_reported() {
    let (env, _) = setup();
    let root = tempfile::tempdir().unwrap();
    let w = |p: &str, text: &str| {
        let path = root.path().join(p);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    w(
        "etc/os-release",
        "ID=debian\nVERSION_ID=\"11\"\nPRETTY_NAME=\"Debian GNU/Linux 11 (bullseye)\"\n",
    );
    w("etc/hostname", "kensa-pc\n");
    w(
        "etc/passwd",
        "root:x:0:0:root:/root:/bin/bash\ntoor:x:0:0::/root:/bin/sh\nkiosk:x:1001:1001::/home/kiosk:/bin/bash\n",
    );
    w(
        "etc/shadow",
        "root:$6$salt$hash:19000::::::\ntoor:$6$s$h:19000::::::\nkiosk::19000::::::\n",
    );
    w(
        "etc/ssh/sshd_config",
        "Include /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin prohibit-password\n",
    );
    w(
        "etc/ssh/sshd_config.d/vendor.conf",
        "PermitRootLogin yes\nPermitEmptyPasswords yes\n",
    );
    w(
        "boot/grub/grub.cfg",
        "menuentry 'Debian' {\n linux /vmlinuz\n}\n",
    );
    w(
        "etc/lightdm/lightdm.conf",
        "[Seat:*]\nautologin-user=kiosk\n",
    );
    w(
        "var/lib/dpkg/status",
        "Package: openssh-server\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1:8.4p1-5+deb11u1\n\nPackage: gone\nStatus: deinstall ok config-files\nVersion: 1\n",
    );
    let r = env.run(&[
        "--json",
        "collect",
        "--root",
        root.path().to_str().unwrap(),
        "--import-to",
        "SV-3",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = r.json();
    assert_eq!(v["packages"], 1);
    let codes: Vec<&str> = v["concerns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        [
            "uid0",
            "empty_password",
            "sshd_root_login",
            "sshd_empty_passwords",
            "no_bootloader_password",
            "autologin"
        ],
        "{v:#}"
    );
    let stored = env.run(&["--json", "collect", "show", "SV-3"]).json();
    assert!(!stored.to_string().contains("$6$"), "a hash was stored");
}

#[test]
fn a_debootstrap_tree_is_read() {
    let Some(rootfs) = std::env::var_os("MAMORI_TEST_ROOTFS") else {
        support::require(
            "a debootstrap tree (MAMORI_TEST_ROOTFS; .ci/run makes one)",
            false,
        );
        return;
    };
    let (env, _) = setup();
    let r = env.run(&[
        "--json",
        "collect",
        "--root",
        rootfs.to_str().unwrap(),
        "--import-to",
        "SV-2",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = r.json();
    // debootstrap --variant=minbase: about 90 packages; not a running system.
    assert!(v["packages"].as_u64().unwrap() > 50, "{v:#}");
    assert_eq!(v["listening"], 0);
    assert!(v["notes"].to_string().contains("not the running system"));
    let release = std::fs::read_to_string(Path::new(&rootfs).join("etc/os-release")).unwrap();
    let dev = env.run(&["--json", "ledger", "show", "SV-2"]).json();
    let version = dev["asset"]["os_version"].as_str().unwrap();
    assert!(
        release.contains(&format!("VERSION_ID=\"{version}\"")),
        "{version}"
    );
}

fn start_sshd(dir: &Path, addr: &str) -> Child {
    std::fs::create_dir_all("/run/sshd").ok();
    let d = dir.display();
    let run = |c: &mut Command| assert!(c.status().unwrap().success(), "{c:?}");
    run(Command::new("ssh-keygen").args([
        "-q",
        "-t",
        "ed25519",
        "-N",
        "",
        "-f",
        &format!("{d}/host_key"),
    ]));
    run(Command::new("ssh-keygen").args([
        "-q",
        "-t",
        "ed25519",
        "-N",
        "",
        "-f",
        &format!("{d}/client_key"),
    ]));
    std::fs::copy(dir.join("client_key.pub"), dir.join("authorized_keys")).unwrap();
    std::fs::write(
        dir.join("sshd_config"),
        format!(
            "Port 22\nListenAddress {addr}\nHostKey {d}/host_key\nPidFile {d}/sshd.pid\nUsePAM no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\nAuthorizedKeysFile {d}/authorized_keys\nStrictModes no\n"
        ),
    )
    .unwrap();
    let child = Command::new("/usr/sbin/sshd")
        .args(["-D", "-e", "-f", &format!("{d}/sshd_config")])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("sshd.log")).unwrap())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while std::net::TcpStream::connect((addr, 22)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "sshd did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    child
}

#[test]
fn a_host_is_collected_over_ssh_with_a_key() {
    let have = Path::new("/usr/sbin/sshd").exists() && Path::new("/usr/bin/ssh").exists();
    if !support::require("OpenSSH server and client (.ci/run installs them)", have) {
        return;
    }
    let (env, key) = setup();
    let dir = tempfile::tempdir().unwrap();
    let addr = "127.42.0.21";
    let mut sshd = start_sshd(dir.path(), addr);
    let out = env.path("ssh-report.json");
    let known = dir.path().join("known_hosts");
    let r = env.run(&[
        "--json",
        "collect",
        "--ssh",
        &format!("root@{addr}"),
        "--identity",
        dir.path().join("client_key").to_str().unwrap(),
        "--known-hosts",
        known.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--key",
        &key,
    ]);
    let log = std::fs::read_to_string(dir.path().join("sshd.log")).unwrap_or_default();
    let _ = sshd.kill();
    let _ = sshd.wait();
    assert_eq!(r.code, 0, "{}\n{log}", r.stderr);
    let signed: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let report = &signed["report"];
    assert_eq!(report["via"], format!("ssh:root@{addr}"));
    assert!(report["packages"].as_array().unwrap().len() > 50);
    // The host is this machine: sshd was listening on the address while `ss` ran.
    assert!(
        report["listening"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["addr"] == addr && l["port"] == 22),
        "{report:#}"
    );
    assert!(log.contains("Accepted publickey for root"), "{log}");
    assert_eq!(
        env.run(&[
            "collect",
            "import",
            out.to_str().unwrap(),
            "--device",
            "SV-1"
        ])
        .code,
        0
    );
    // A host that cannot be reached is a clear error (nothing listens on this address).
    let r = env.run(&[
        "--lang",
        "en",
        "collect",
        "--ssh",
        "root@127.42.0.22",
        "--identity",
        dir.path().join("client_key").to_str().unwrap(),
        "--known-hosts",
        known.to_str().unwrap(),
        "--import-to",
        "SV-2",
    ]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("SSH"), "{}", r.stderr);
}
