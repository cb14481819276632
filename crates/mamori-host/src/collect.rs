//! Reading a host: a root directory, or a tar of its files (from SSH).

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use crate::parse;
use crate::report::{HostReport, Listener, SCHEMA};

/// The files the collector reads, relative to the root.
pub const FILES: &[&str] = &[
    "etc/os-release",
    "usr/lib/os-release",
    "etc/hostname",
    "var/lib/dpkg/status",
    "etc/passwd",
    "etc/shadow",
    "etc/ssh/sshd_config",
    "boot/grub/grub.cfg",
    "boot/grub2/grub.cfg",
    "etc/gdm3/daemon.conf",
    "etc/gdm3/custom.conf",
    "etc/gdm/custom.conf",
    "etc/lightdm/lightdm.conf",
    "etc/sddm.conf",
];

/// The shell command run on a host over SSH: a tar of [`FILES`] (and sshd's drop-in
/// directory) that exist and can be read, on standard output; `ss` listeners go to a file
/// inside it. Reads only; writes nothing on the host but a temporary directory it removes.
pub fn remote_script() -> String {
    let files: Vec<String> = FILES.iter().map(|f| format!("/{f}")).collect();
    format!(
        "set -u; t=$(mktemp -d) || exit 1; \
         (ss -H -lntup 2>/dev/null || true) > \"$t/ss.txt\"; \
         (rpm -qa --qf '%{{NAME}}\\t%{{VERSION}}-%{{RELEASE}}\\t%{{ARCH}}\\n' 2>/dev/null || true) > \"$t/rpm.txt\"; \
         set --; for f in {} /etc/ssh/sshd_config.d/*.conf; do [ -r \"$f\" ] && set -- \"$@\" \"${{f#/}}\"; done; \
         tar -cf - -C / \"$@\" -C \"$t\" ss.txt rpm.txt; rc=$?; rm -rf \"$t\"; exit $rc",
        files.join(" ")
    )
}

/// The files of a host by path (relative), as read.
struct Files(BTreeMap<String, String>);

impl Files {
    fn get(&self, path: &str) -> Option<&str> {
        self.0.get(path).map(String::as_str)
    }
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn build(
    files: &Files,
    via: String,
    listening: Vec<Listener>,
    mut notes: Vec<String>,
) -> HostReport {
    let os = files
        .get("etc/os-release")
        .or_else(|| files.get("usr/lib/os-release"))
        .map(parse::os_release)
        .unwrap_or_default();
    let mut packages = files
        .get("var/lib/dpkg/status")
        .map(parse::dpkg_status)
        .unwrap_or_default();
    if let Some(rpm) = files.get("rpm.txt") {
        packages.extend(parse::rpm_list(rpm));
    }
    if packages.is_empty() {
        notes.push("no package database read (dpkg status or rpm -qa)".into());
    }
    let accounts = match files.get("etc/passwd") {
        Some(p) => {
            if files.get("etc/shadow").is_none() {
                notes
                    .push("/etc/shadow not readable: empty passwords unknown (run as root)".into());
            }
            parse::accounts(p, files.get("etc/shadow"))
        }
        None => {
            notes.push("/etc/passwd not readable".into());
            Vec::new()
        }
    };
    let sshd = files.get("etc/ssh/sshd_config").map(|main| {
        // Drop-ins first: Debian's `Include /etc/ssh/sshd_config.d/*.conf` is at the top and
        // the first value wins.
        let mut text = String::new();
        for (path, body) in &files.0 {
            if path.starts_with("etc/ssh/sshd_config.d/") && path.ends_with(".conf") {
                text.push_str(body);
                text.push('\n');
            }
        }
        text.push_str(main);
        parse::sshd_config(&text)
    });
    let grub = files
        .get("boot/grub/grub.cfg")
        .or_else(|| files.get("boot/grub2/grub.cfg"));
    let dm: Vec<(&str, &str)> = [
        "etc/gdm3/daemon.conf",
        "etc/gdm3/custom.conf",
        "etc/gdm/custom.conf",
        "etc/lightdm/lightdm.conf",
        "etc/sddm.conf",
    ]
    .iter()
    .filter_map(|p| Some((*p, files.get(p)?)))
    .collect();
    let hostname = files
        .get("etc/hostname")
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_default();
    HostReport {
        schema: SCHEMA.into(),
        collected_at: now(),
        hostname,
        via,
        os,
        packages,
        listening,
        accounts,
        sshd,
        bootloader_password: grub.map(parse::grub_password),
        autologin: parse::autologin(&dm),
        notes,
    }
}

fn read_root(root: &Path) -> Files {
    let mut map = BTreeMap::new();
    for f in FILES {
        if let Ok(text) = std::fs::read(root.join(f)) {
            map.insert(f.to_string(), String::from_utf8_lossy(&text).into_owned());
        }
    }
    if let Ok(dir) = std::fs::read_dir(root.join("etc/ssh/sshd_config.d")) {
        for e in dir.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if let Ok(text) = std::fs::read_to_string(e.path()) {
                map.insert(format!("etc/ssh/sshd_config.d/{name}"), text);
            }
        }
    }
    Files(map)
}

/// The listening sockets of the running system (`/proc/net/*`) with their processes
/// (`/proc/PID/fd` → `socket:[inode]`).
fn live_listeners(notes: &mut Vec<String>) -> Vec<Listener> {
    let mut sockets = Vec::new();
    for proto in ["tcp", "tcp6", "udp", "udp6"] {
        if let Ok(text) = std::fs::read_to_string(format!("/proc/net/{proto}")) {
            sockets.extend(parse::proc_net(proto, &text));
        }
    }
    let mut owner: BTreeMap<u64, (u32, String)> = BTreeMap::new();
    let mut unreadable = 0;
    if let Ok(procs) = std::fs::read_dir("/proc") {
        for p in procs.flatten() {
            let Ok(pid) = p.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            let comm = std::fs::read_to_string(p.path().join("comm"))
                .map(|c| c.trim().to_string())
                .unwrap_or_default();
            let Ok(fds) = std::fs::read_dir(p.path().join("fd")) else {
                unreadable += 1;
                continue;
            };
            for fd in fds.flatten() {
                if let Ok(target) = std::fs::read_link(fd.path()) {
                    let t = target.to_string_lossy();
                    if let Some(inode) = t
                        .strip_prefix("socket:[")
                        .and_then(|r| r.strip_suffix(']'))
                        .and_then(|i| i.parse().ok())
                    {
                        owner.entry(inode).or_insert((pid, comm.clone()));
                    }
                }
            }
        }
    }
    if unreadable > 0 {
        notes.push(format!(
            "{unreadable} processes' sockets not readable: run as root to see every process"
        ));
    }
    let mut out: Vec<Listener> = sockets
        .into_iter()
        .map(|(proto, addr, port, inode)| {
            let who = owner.get(&inode);
            Listener {
                proto,
                addr,
                port,
                pid: who.map(|w| w.0),
                process: who.map(|w| w.1.clone()),
            }
        })
        .collect();
    out.sort_by(|a, b| (a.port, &a.proto, &a.addr).cmp(&(b.port, &b.proto, &b.addr)));
    out.dedup();
    out
}

/// Reads the host whose root is `root`. For `/`, the running system's listening sockets
/// are read too; for another root (a mounted disk, a debootstrap tree) they cannot be, and
/// the notes say so. A hostname of `/` comes from `/etc/hostname`, else the kernel's.
pub fn collect_root(root: &Path) -> HostReport {
    let files = read_root(root);
    let live = root == Path::new("/");
    let mut notes = Vec::new();
    let listening = if live {
        live_listeners(&mut notes)
    } else {
        notes.push("not the running system: listening sockets not read".into());
        Vec::new()
    };
    let via = if live {
        "local".to_string()
    } else {
        format!("root:{}", root.display())
    };
    let mut report = build(&files, via, listening, notes);
    if report.hostname.is_empty() && live {
        report.hostname = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_string())
            .unwrap_or_default();
    }
    report
}

/// Reads a host from the tar [`remote_script`] wrote (at most 64 MiB).
pub fn collect_tar(tar: &[u8], via: String) -> std::io::Result<HostReport> {
    if tar.len() > 64 << 20 {
        return Err(std::io::Error::other("the host's tar is over 64 MiB"));
    }
    let mut archive = tar::Archive::new(tar);
    let mut map = BTreeMap::new();
    for entry in archive.entries()? {
        let mut entry = entry?;
        let path = entry
            .path()?
            .to_string_lossy()
            .trim_start_matches("./")
            .to_string();
        let mut text = Vec::new();
        entry.by_ref().take(32 << 20).read_to_end(&mut text)?;
        map.insert(path, String::from_utf8_lossy(&text).into_owned());
    }
    if map.is_empty() {
        return Err(std::io::Error::other("the host sent no files"));
    }
    let listening = map
        .get("ss.txt")
        .map(|t| parse::ss_listeners(t))
        .unwrap_or_default();
    let mut notes = Vec::new();
    if listening.is_empty() {
        notes.push("no listening sockets reported (ss missing or none)".into());
    }
    Ok(build(&Files(map), via, listening, notes))
}

/// How to reach a host over SSH (the system's OpenSSH client, key authentication only).
#[derive(Debug, Clone, Default)]
pub struct SshTarget {
    /// `user@host`.
    pub destination: String,
    /// Port (default 22).
    pub port: Option<u16>,
    /// The private key (`-i`).
    pub identity: Option<std::path::PathBuf>,
    /// The known-hosts file (default the user's); new host keys are accepted and kept, a
    /// changed one is refused (`StrictHostKeyChecking=accept-new`).
    pub known_hosts: Option<std::path::PathBuf>,
    /// Seconds to wait for the connection.
    pub connect_timeout: u64,
}

/// Reads a host over SSH: runs [`remote_script`] there (read-only) and reads its tar.
/// Never asks for a password (`BatchMode=yes`).
pub fn collect_ssh(target: &SshTarget) -> std::io::Result<HostReport> {
    let mut cmd = std::process::Command::new("ssh");
    cmd.args([
        "-o",
        "BatchMode=yes",
        "-o",
        "StrictHostKeyChecking=accept-new",
    ])
    .args([
        "-o",
        &format!("ConnectTimeout={}", target.connect_timeout.max(1)),
    ]);
    if let Some(p) = target.port {
        cmd.args(["-p", &p.to_string()]);
    }
    if let Some(i) = &target.identity {
        cmd.arg("-i").arg(i).args(["-o", "IdentitiesOnly=yes"]);
    }
    if let Some(k) = &target.known_hosts {
        cmd.arg("-o")
            .arg(format!("UserKnownHostsFile={}", k.display()));
    }
    cmd.arg("--").arg(&target.destination).arg(remote_script());
    cmd.stdin(std::process::Stdio::null());
    let out = cmd.output().map_err(|e| {
        std::io::Error::new(e.kind(), format!("cannot run ssh (OpenSSH client): {e}"))
    })?;
    if !out.status.success() && out.stdout.is_empty() {
        return Err(std::io::Error::other(format!(
            "ssh {} failed ({}): {}",
            target.destination,
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    collect_tar(&out.stdout, format!("ssh:{}", target.destination))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tar_of(files: &[(&str, &str)]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (path, text) in files {
            let mut h = tar::Header::new_gnu();
            h.set_size(text.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            b.append_data(&mut h, path, text.as_bytes()).unwrap();
        }
        b.into_inner().unwrap()
    }

    #[test]
    fn a_tar_from_ssh_reads_and_a_broken_one_never_panics() {
        let tar = tar_of(&[
            ("etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n"),
            ("etc/hostname", "pacs-gw\n"),
            (
                "var/lib/dpkg/status",
                "Package: a\nStatus: install ok installed\nVersion: 1\n",
            ),
            (
                "ss.txt",
                "tcp LISTEN 0 128 0.0.0.0:104 0.0.0.0:* users:((\"storescp\",pid=9,fd=3))\n",
            ),
            ("rpm.txt", ""),
        ]);
        let r = collect_tar(&tar, "ssh:root@h".into()).unwrap();
        assert_eq!(r.hostname, "pacs-gw");
        assert_eq!(r.packages.len(), 1);
        assert_eq!(r.listening[0].port, 104);
        assert_eq!(r.listening[0].process.as_deref(), Some("storescp"));
        assert!(r.notes.iter().any(|n| n.contains("/etc/passwd")));
        for cut in (0..tar.len()).step_by(97) {
            let _ = collect_tar(&tar[..cut], "x".into());
            let mut bad = tar.clone();
            bad[cut] ^= 0x5a;
            let _ = collect_tar(&bad, "x".into());
        }
        assert!(collect_tar(b"", "x".into()).is_err());
    }

    #[test]
    fn the_remote_script_only_reads() {
        let s = remote_script();
        for f in FILES {
            assert!(s.contains(&format!("/{f}")), "{f}");
        }
        // Nothing on the host is written but the temporary directory it removes.
        assert!(!s.contains(" > /") && !s.contains("rm -rf /"));
        assert!(s.contains("rm -rf \"$t\""));
    }
}
