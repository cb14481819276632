//! What the web tests share: passwords, and a real nmap record of an unregistered host with
//! Telnet open (it gives two 8.3 findings: 未登録機器 and a legacy service).
#![allow(dead_code)]

use std::path::Path;

use mamori_app::App;

pub const ADMIN_PW: &str = "admin-password-2026!";
pub const PW: &str = "operator-password-2026";

/// An nmap -oX record: 127.0.0.9 up, 23/tcp open (telnet).
pub const TELNET_SCAN: &str = r#"<?xml version="1.0"?><nmaprun scanner="nmap" args="nmap -sT 127.0.0.9" start="1764100000" version="7.93"><host><status state="up"/><address addr="127.0.0.9" addrtype="ipv4"/><ports><port protocol="tcp" portid="23"><state state="open"/><service name="telnet"/></port></ports></host><runstats><finished time="1764100010"/></runstats></nmaprun>"#;

/// Imports [`TELNET_SCAN`] (written to `dir/name`) into the store at `data` as `user`.
pub fn import_telnet_scan(dir: &Path, data: &Path, user: &str, name: &str) {
    let xml = dir.join(name);
    std::fs::write(&xml, TELNET_SCAN).unwrap();
    App::login(data, user, PW)
        .unwrap()
        .import_nmap(&xml, mamori_core::scan::Vantage::Internal)
        .unwrap();
}

/// A new store in `dir/data` with its administrator (`admin`, [`ADMIN_PW`]), an operator
/// `sato` and a vendor user `acme` (company Acme), both with [`PW`]; returns the data
/// directory and the administrator's session.
pub fn store(dir: &Path) -> (std::path::PathBuf, App) {
    use mamori_core::Role;
    let data = dir.join("data");
    let init = mamori_app::init::init(&data, Some(ADMIN_PW), "os:test").unwrap();
    let mut admin = App::login(&data, &init.admin_username, ADMIN_PW).unwrap();
    admin
        .add_user("sato", None, &[Role::Operator], None, Some(PW))
        .unwrap();
    admin
        .add_user("acme", None, &[Role::Vendor], Some("Acme"), Some(PW))
        .unwrap();
    (data, admin)
}
