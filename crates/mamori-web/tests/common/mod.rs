//! What the web tests share: passwords, and a real nmap record of an unregistered host with
//! Telnet open (it gives two 8.3 findings: 未登録機器 and a legacy service).
#![allow(dead_code)]

use std::path::Path;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use tower::ServiceExt;

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

// --- requests through the router, without sockets ---------------------------------------

pub struct Got {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

pub async fn send(router: &Router, req: Request<Body>) -> Got {
    let r = router.clone().oneshot(req).await.unwrap();
    let status = r.status();
    let headers = r.headers().clone();
    let body =
        String::from_utf8(r.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    Got {
        status,
        headers,
        body,
    }
}

pub async fn get(router: &Router, path: &str, cookies: &str) -> Got {
    let req = Request::get(path)
        .header(header::COOKIE, cookies)
        .body(Body::empty())
        .unwrap();
    send(router, req).await
}

pub async fn post(router: &Router, path: &str, cookies: &str, form: &str) -> Got {
    let req = Request::post(path)
        .header(header::COOKIE, cookies)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(form.to_string()))
        .unwrap();
    send(router, req).await
}

pub fn set_cookies(g: &Got) -> Vec<String> {
    g.headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect()
}

pub fn cookie_value(g: &Got, name: &str) -> Option<String> {
    set_cookies(g)
        .iter()
        .find_map(|c| c.strip_prefix(&format!("{name}=")))
        .map(|v| v.split(';').next().unwrap().to_string())
}

pub fn hidden_csrf(body: &str) -> String {
    let at = body.find("name=\"csrf\" value=\"").unwrap() + "name=\"csrf\" value=\"".len();
    body[at..at + 64].to_string()
}

pub fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Logs in; returns the response and the session cookie header value.
pub async fn login(router: &Router, user: &str, password: &str) -> (Got, String) {
    let page = get(router, "/login", "").await;
    let pre = cookie_value(&page, "mamori_pre").unwrap();
    assert_eq!(hidden_csrf(&page.body), pre);
    let r = post(
        router,
        "/login",
        &format!("mamori_pre={pre}"),
        &format!(
            "username={}&password={}&csrf={pre}",
            enc(user),
            enc(password)
        ),
    )
    .await;
    let session = cookie_value(&r, "mamori_session")
        .map(|v| format!("mamori_session={v}"))
        .unwrap_or_default();
    (r, session)
}

pub fn location(g: &Got) -> &str {
    g.headers
        .get(header::LOCATION)
        .map(|v| v.to_str().unwrap())
        .unwrap_or("")
}
