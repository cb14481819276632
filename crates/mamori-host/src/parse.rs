//! Pure readers of the files a host keeps its state in. None of them panics on any input
//! (see the tests), none keeps a password hash: an account is only "empty password" or not.

use std::collections::BTreeMap;

use crate::report::{Account, Listener, OsRelease, Package, SshdSettings};

/// `/etc/os-release` (`KEY=value`, values optionally quoted).
pub fn os_release(text: &str) -> OsRelease {
    let mut map = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') {
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let v = v.trim();
        let v = v
            .strip_prefix('"')
            .and_then(|x| x.strip_suffix('"'))
            .or_else(|| v.strip_prefix('\'').and_then(|x| x.strip_suffix('\'')))
            .unwrap_or(v);
        map.insert(k.trim().to_string(), v.to_string());
    }
    OsRelease {
        id: map.get("ID").cloned(),
        version_id: map.get("VERSION_ID").cloned(),
        pretty_name: map.get("PRETTY_NAME").cloned(),
        version_codename: map.get("VERSION_CODENAME").cloned(),
    }
}

/// `/var/lib/dpkg/status`: the installed packages (`Status: install ok installed`).
pub fn dpkg_status(text: &str) -> Vec<Package> {
    let mut out = Vec::new();
    for stanza in text.split("\n\n") {
        let mut fields: BTreeMap<&str, &str> = BTreeMap::new();
        for line in stanza.lines() {
            if line.starts_with(' ') || line.starts_with('\t') {
                continue;
            }
            if let Some((k, v)) = line.split_once(':') {
                fields.insert(k.trim(), v.trim());
            }
        }
        let installed = fields
            .get("Status")
            .is_some_and(|s| s.ends_with(" installed") && !s.contains("not-installed"));
        let (Some(name), Some(version)) = (fields.get("Package"), fields.get("Version")) else {
            continue;
        };
        if !installed || name.is_empty() || version.is_empty() {
            continue;
        }
        out.push(Package {
            name: name.to_string(),
            version: version.to_string(),
            arch: fields.get("Architecture").map(|a| a.to_string()),
            source: "dpkg".into(),
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name).then(a.arch.cmp(&b.arch)));
    out
}

/// The output of `rpm -qa --qf '%{NAME}\t%{VERSION}-%{RELEASE}\t%{ARCH}\n'`.
pub fn rpm_list(text: &str) -> Vec<Package> {
    let mut out: Vec<Package> = text
        .lines()
        .filter_map(|l| {
            let mut f = l.split('\t');
            let name = f.next()?.trim();
            let version = f.next()?.trim();
            if name.is_empty() || version.is_empty() {
                return None;
            }
            Some(Package {
                name: name.to_string(),
                version: version.to_string(),
                arch: f.next().map(|a| a.trim().to_string()),
                source: "rpm".into(),
            })
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// `/etc/passwd` and (when readable) `/etc/shadow`: accounts with UID 0 or an empty
/// password, and whether each may log in. The hash itself is never kept.
pub fn accounts(passwd: &str, shadow: Option<&str>) -> Vec<Account> {
    let mut empty: BTreeMap<&str, Option<bool>> = BTreeMap::new();
    let mut locked: BTreeMap<&str, bool> = BTreeMap::new();
    if let Some(shadow) = shadow {
        for line in shadow.lines() {
            let mut f = line.split(':');
            let (Some(name), Some(hash)) = (f.next(), f.next()) else {
                continue;
            };
            empty.insert(name, Some(hash.is_empty()));
            locked.insert(name, hash.starts_with('!') || hash.starts_with('*'));
        }
    }
    passwd
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|line| {
            let f: Vec<&str> = line.split(':').collect();
            if f.len() < 7 {
                return None;
            }
            let uid: u32 = f[2].parse().ok()?;
            let shell = f[6].trim();
            let can_login = !(shell.ends_with("nologin") || shell.ends_with("/false"));
            // An empty field in passwd itself is an empty password too.
            let empty_password = if f[1].is_empty() {
                Some(true)
            } else if f[1] == "x" {
                empty.get(f[0]).copied().flatten()
            } else {
                Some(false)
            };
            Some(Account {
                name: f[0].to_string(),
                uid,
                shell: shell.to_string(),
                can_login,
                empty_password,
                locked: locked.get(f[0]).copied().unwrap_or(false),
            })
        })
        .collect()
}

/// `sshd_config` (and its `Include`d files, concatenated by the caller in order): the
/// effective global values — the first one wins, a `Match` block ends the global part — and
/// OpenSSH's defaults for what is not set.
pub fn sshd_config(text: &str) -> SshdSettings {
    let mut first: BTreeMap<String, String> = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = match line.split_once(|c: char| c.is_whitespace() || c == '=') {
            Some((k, v)) => (
                k.trim().to_ascii_lowercase(),
                v.trim().trim_start_matches('=').trim(),
            ),
            None => continue,
        };
        if key == "match" {
            break;
        }
        first
            .entry(key)
            .or_insert_with(|| value.to_ascii_lowercase());
    }
    let get = |k: &str, default: &str| first.get(k).cloned().unwrap_or_else(|| default.into());
    SshdSettings {
        permit_root_login: get("permitrootlogin", "prohibit-password"),
        password_authentication: get("passwordauthentication", "yes"),
        permit_empty_passwords: get("permitemptypasswords", "no"),
        kbd_interactive_authentication: get("kbdinteractiveauthentication", "yes"),
    }
}

/// Whether a GRUB configuration sets a boot-loader password (`set superusers` with a
/// `password` or `password_pbkdf2` line).
pub fn grub_password(cfg: &str) -> bool {
    let lines: Vec<&str> = cfg.lines().map(str::trim).collect();
    let superusers = lines.iter().any(|l| l.starts_with("set superusers"));
    let password = lines
        .iter()
        .any(|l| l.starts_with("password_pbkdf2 ") || l.starts_with("password "));
    superusers && password
}

/// Display managers set to log a user in automatically: (file, user).
pub fn autologin(files: &[(&str, &str)]) -> Vec<String> {
    let mut out = Vec::new();
    for (name, text) in files {
        let mut section = String::new();
        let mut gdm_enabled = false;
        let mut gdm_user = None;
        for line in text.lines() {
            let line = line.trim();
            if line.starts_with('[') {
                section = line.to_ascii_lowercase();
                continue;
            }
            let Some((k, v)) = line.split_once('=') else {
                continue;
            };
            let (k, v) = (k.trim(), v.trim());
            match k {
                // GDM: [daemon] AutomaticLoginEnable=true, AutomaticLogin=user
                "AutomaticLoginEnable" if section == "[daemon]" => {
                    gdm_enabled = v.eq_ignore_ascii_case("true")
                }
                "AutomaticLogin" if section == "[daemon]" => gdm_user = Some(v.to_string()),
                // LightDM: autologin-user=user
                "autologin-user" if !v.is_empty() && !line.starts_with('#') => {
                    out.push(format!("{name}: {v}"))
                }
                // SDDM: [Autologin] User=user
                "User" if section == "[autologin]" && !v.is_empty() => {
                    out.push(format!("{name}: {v}"))
                }
                _ => {}
            }
        }
        if gdm_enabled {
            out.push(format!("{name}: {}", gdm_user.unwrap_or_default()));
        }
    }
    out
}

/// `/proc/net/tcp`, `tcp6` (state `0A`, LISTEN) and `udp`, `udp6` (state `07`, unconnected):
/// (protocol, address, port, socket inode).
pub fn proc_net(proto: &str, text: &str) -> Vec<(String, String, u16, u64)> {
    let listen_state = if proto.starts_with("tcp") { "0A" } else { "07" };
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            if f.len() < 10 || f[3] != listen_state {
                return None;
            }
            let (addr, port) = f[1].split_once(':')?;
            let port = u16::from_str_radix(port, 16).ok()?;
            let inode: u64 = f[9].parse().ok()?;
            Some((proto.to_string(), hex_addr(addr)?, port, inode))
        })
        .collect()
}

/// The kernel's hexadecimal address (little-endian 32-bit words).
fn hex_addr(hex: &str) -> Option<String> {
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect::<Option<_>>()?;
    match bytes.len() {
        4 => Some(std::net::Ipv4Addr::new(bytes[3], bytes[2], bytes[1], bytes[0]).to_string()),
        16 => {
            let mut b = [0u8; 16];
            for w in 0..4 {
                for i in 0..4 {
                    b[w * 4 + i] = bytes[w * 4 + 3 - i];
                }
            }
            Some(std::net::Ipv6Addr::from(b).to_string())
        }
        _ => None,
    }
}

/// `ss -H -lntup` output (for hosts read over SSH, where /proc is not carried).
pub fn ss_listeners(text: &str) -> Vec<Listener> {
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            if f.len() < 5 {
                return None;
            }
            let proto = f[0].to_string();
            let local = f[4];
            let (addr, port) = local.rsplit_once(':')?;
            let port: u16 = port.parse().ok()?;
            let addr = addr.trim_start_matches('[').trim_end_matches(']');
            let addr = addr.split('%').next().unwrap_or(addr).to_string();
            let users = f.get(6).copied().unwrap_or("");
            let process = users
                .split("((\"")
                .nth(1)
                .and_then(|r| r.split('"').next())
                .map(str::to_string);
            let pid = users
                .split("pid=")
                .nth(1)
                .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
                .and_then(|p| p.parse().ok());
            Some(Listener {
                proto,
                addr,
                port,
                pid,
                process,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sshd_first_value_wins_and_match_blocks_end_the_global_part() {
        let s = sshd_config(
            "# comment\nPermitRootLogin yes\nPermitRootLogin no\nPasswordAuthentication=no\nMatch User backup\n  PermitEmptyPasswords yes\n",
        );
        assert_eq!(s.permit_root_login, "yes");
        assert_eq!(s.password_authentication, "no");
        assert_eq!(s.permit_empty_passwords, "no");
        assert_eq!(sshd_config("").permit_root_login, "prohibit-password");
    }

    #[test]
    fn accounts_flag_empty_passwords_and_uid_0_without_keeping_hashes() {
        let passwd = "root:x:0:0:root:/root:/bin/bash\ntoor:x:0:0::/:/bin/sh\nsvc:x:998:998::/:/usr/sbin/nologin\nkiosk:x:1001:1001::/home/kiosk:/bin/bash\nbroken line\n";
        let shadow =
            "root:$y$j9T$abc:19000::::::\ntoor:$6$x:1::::::\nsvc:!:1::::::\nkiosk::19000::::::\n";
        let a = accounts(passwd, Some(shadow));
        assert_eq!(a.len(), 4);
        let kiosk = a.iter().find(|a| a.name == "kiosk").unwrap();
        assert_eq!(kiosk.empty_password, Some(true));
        assert!(kiosk.can_login);
        assert_eq!(a.iter().filter(|a| a.uid == 0).count(), 2);
        assert!(a.iter().find(|a| a.name == "svc").unwrap().locked);
        assert!(!format!("{a:?}").contains("$y$"));
        // Without shadow (not root): unknown.
        assert_eq!(accounts(passwd, None)[3].empty_password, None);
    }

    #[test]
    fn proc_net_reads_listeners_v4_and_v6() {
        let tcp = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 0100007F:0CEA 00000000:0000 0A 00000000:00000000 00:00000000 00000000   106        0 23456 1 0000000000000000 100 0 0 10 0\n   1: 0100007F:0CEA 0100007F:D000 01 00000000:00000000 00:00000000 00000000   106        0 0 1\n";
        let got = proc_net("tcp", tcp);
        assert_eq!(got, vec![("tcp".into(), "127.0.0.1".into(), 3306, 23456)]);
        let tcp6 = "header\n   0: 00000000000000000000000001000000:0016 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 777 1\n";
        assert_eq!(proc_net("tcp6", tcp6)[0].1, "::1");
    }

    #[test]
    fn grub_autologin_and_ss() {
        assert!(grub_password(
            "set superusers=\"admin\"\npassword_pbkdf2 admin grub.pbkdf2.sha512.10000.AB\n"
        ));
        assert!(!grub_password("menuentry 'Debian' {\n}\n"));
        let a = autologin(&[
            (
                "/etc/gdm3/daemon.conf",
                "[daemon]\nAutomaticLoginEnable=true\nAutomaticLogin=nurse\n",
            ),
            ("/etc/lightdm/lightdm.conf", "[Seat:*]\n#autologin-user=x\n"),
        ]);
        assert_eq!(a, vec!["/etc/gdm3/daemon.conf: nurse".to_string()]);
        let ss = ss_listeners("tcp   LISTEN 0      128          0.0.0.0:22        0.0.0.0:*    users:((\"sshd\",pid=612,fd=3))\nudp   UNCONN 0      0      [::1]:323 [::]:*\n");
        assert_eq!(ss.len(), 2);
        assert_eq!(ss[0].process.as_deref(), Some("sshd"));
        assert_eq!(ss[0].pid, Some(612));
        assert_eq!(ss[1].addr, "::1");
    }

    #[test]
    fn no_reader_panics_on_garbage() {
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        for len in 0..600usize {
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    b":= \n\t0A#[]\"'x9FS"[(x % 16) as usize]
                })
                .collect();
            let t = String::from_utf8_lossy(&bytes);
            let _ = os_release(&t);
            let _ = dpkg_status(&t);
            let _ = rpm_list(&t);
            let _ = accounts(&t, Some(&t));
            let _ = sshd_config(&t);
            let _ = grub_password(&t);
            let _ = autologin(&[("f", &t)]);
            let _ = proc_net("tcp", &t);
            let _ = proc_net("udp6", &t);
            let _ = ss_listeners(&t);
        }
    }
}
