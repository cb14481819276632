//! What the collector reports of a host (the JSON carried to mamori).

use serde::{Deserialize, Serialize};

/// The report's format name and version.
pub const SCHEMA: &str = "mamori-host-report/1";

/// `/etc/os-release`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OsRelease {
    /// `ID` (`debian`, `rhel`, `ubuntu`).
    pub id: Option<String>,
    /// `VERSION_ID`.
    pub version_id: Option<String>,
    /// `PRETTY_NAME`.
    pub pretty_name: Option<String>,
    /// `VERSION_CODENAME`.
    pub version_codename: Option<String>,
}

/// An installed package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Package {
    /// Name.
    pub name: String,
    /// Version as the package manager has it.
    pub version: String,
    /// Architecture.
    pub arch: Option<String>,
    /// `dpkg` or `rpm`.
    pub source: String,
}

/// A listening socket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Listener {
    /// `tcp`, `tcp6`, `udp`, `udp6`.
    pub proto: String,
    /// Local address.
    pub addr: String,
    /// Port.
    pub port: u16,
    /// The process behind it, when it could be told.
    pub pid: Option<u32>,
    /// Its command name.
    pub process: Option<String>,
}

/// A local account (no password hash is ever kept).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// Name.
    pub name: String,
    /// UID.
    pub uid: u32,
    /// Login shell.
    pub shell: String,
    /// The shell lets it log in.
    pub can_login: bool,
    /// The password is empty (`None`: shadow not readable).
    pub empty_password: Option<bool>,
    /// The password is locked (`!`, `*`).
    pub locked: bool,
}

/// The effective global sshd settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SshdSettings {
    /// `PermitRootLogin`.
    pub permit_root_login: String,
    /// `PasswordAuthentication`.
    pub password_authentication: String,
    /// `PermitEmptyPasswords`.
    pub permit_empty_passwords: String,
    /// `KbdInteractiveAuthentication`.
    pub kbd_interactive_authentication: String,
}

/// The report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostReport {
    /// [`SCHEMA`].
    pub schema: String,
    /// When (RFC 3339, the host's clock).
    pub collected_at: String,
    /// The host's name.
    pub hostname: String,
    /// How it was read: `local`, `root:PATH`, `ssh:USER@HOST`.
    pub via: String,
    /// OS release.
    pub os: OsRelease,
    /// Installed packages.
    pub packages: Vec<Package>,
    /// Listening sockets (empty when not readable, see `notes`).
    pub listening: Vec<Listener>,
    /// Local accounts.
    pub accounts: Vec<Account>,
    /// sshd, when installed.
    pub sshd: Option<SshdSettings>,
    /// A GRUB boot-loader password is set (`None`: no GRUB configuration found).
    pub bootloader_password: Option<bool>,
    /// Display managers that log a user in automatically (`file: user`).
    pub autologin: Vec<String>,
    /// What could not be read, and why.
    pub notes: Vec<String>,
}

/// A safe-use observation drawn from a report (guideline §8.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Concern {
    /// Stable code.
    pub code: &'static str,
    /// Japanese.
    pub ja: String,
    /// English.
    pub en: String,
}

impl HostReport {
    /// What in the report a safe-use check cares about: accounts with an empty password or
    /// UID 0 besides root, sshd letting root or empty passwords in, no boot-loader password,
    /// auto-login.
    pub fn concerns(&self) -> Vec<Concern> {
        let mut out = Vec::new();
        for a in &self.accounts {
            if a.empty_password == Some(true) && !a.locked {
                out.push(Concern {
                    code: "empty_password",
                    ja: format!("パスワードが空のアカウント: {}", a.name),
                    en: format!("account with an empty password: {}", a.name),
                });
            }
            if a.uid == 0 && a.name != "root" {
                out.push(Concern {
                    code: "uid0",
                    ja: format!("root 以外の UID 0 アカウント: {}", a.name),
                    en: format!("UID 0 account other than root: {}", a.name),
                });
            }
        }
        if let Some(s) = &self.sshd {
            if s.permit_root_login == "yes" {
                out.push(Concern {
                    code: "sshd_root_login",
                    ja: "sshd: PermitRootLogin yes (root のパスワードログイン可)".into(),
                    en: "sshd: PermitRootLogin yes (root may log in with a password)".into(),
                });
            }
            if s.permit_empty_passwords == "yes" {
                out.push(Concern {
                    code: "sshd_empty_passwords",
                    ja: "sshd: PermitEmptyPasswords yes".into(),
                    en: "sshd: PermitEmptyPasswords yes".into(),
                });
            }
        }
        if self.bootloader_password == Some(false) {
            out.push(Concern {
                code: "no_bootloader_password",
                ja: "ブートローダ (GRUB) にパスワードがありません".into(),
                en: "no boot-loader (GRUB) password".into(),
            });
        }
        for a in &self.autologin {
            out.push(Concern {
                code: "autologin",
                ja: format!("自動ログイン: {a}"),
                en: format!("automatic login: {a}"),
            });
        }
        out
    }
}
