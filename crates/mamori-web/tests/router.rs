//! The web edge without sockets (`tower::ServiceExt::oneshot` on the router), over a real
//! SQLite store: login and its throttle, session cookies and their rotation, CSRF on every
//! state-changing request, the forced change of a one-time password, security headers on every
//! response, roles (a vendor sees no ledger), escaping of what users typed, and the pages in
//! Japanese and English.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use mamori_app::App;
use mamori_core::Role;
use mamori_web::{router, WebState};
use tower::ServiceExt;

mod common;

use common::*;

struct Site {
    _dir: tempfile::TempDir,
    router: Router,
    newbie_password: String,
}

fn setup() -> Site {
    let dir = tempfile::tempdir().unwrap();
    let (data, mut admin) = common::store(dir.path());
    let newbie = admin
        .add_user("newbie", None, &[Role::Operator], None, None)
        .unwrap()
        .one_time_password
        .unwrap();
    let mut op = App::login(&data, "sato", PW).unwrap();
    op.add_asset(
        "PC-1",
        &[
            ("機器名".into(), "<script>alert(1)</script>".into()),
            ("機器種別".into(), "端末PC".into()),
            ("部署".into(), "医事課".into()),
        ],
    )
    .unwrap();
    op.add_asset(
        "SV-2",
        &[
            ("機器名".into(), "電子カルテサーバ".into()),
            ("機器種別".into(), "サーバ".into()),
        ],
    )
    .unwrap();
    Site {
        router: router(WebState::new(data, false)),
        _dir: dir,
        newbie_password: newbie,
    }
}

#[tokio::test]
async fn without_a_session_every_page_leads_to_login_with_security_headers() {
    let site = setup();
    for path in ["/", "/ledger", "/ledger/PC-1", "/findings"] {
        let r = get(&site.router, path, "").await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(location(&r), "/login");
    }
    for path in ["/login", "/", "/nowhere", "/static/mamori.css"] {
        let r = get(&site.router, path, "").await;
        let csp = r.headers["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("script-src 'none'") && csp.contains("frame-ancestors 'none'"),
            "{path}"
        );
        assert_eq!(r.headers["x-content-type-options"], "nosniff");
        assert_eq!(r.headers["x-frame-options"], "DENY");
    }
    assert_eq!(
        get(&site.router, "/nowhere", "").await.status,
        StatusCode::NOT_FOUND
    );
    // No inline script or style anywhere (the CSP would block it anyway).
    let page = get(&site.router, "/login", "").await;
    assert!(!page.body.contains("<script") && !page.body.contains("style="));
}

#[tokio::test]
async fn login_sets_a_strict_cookie_a_new_session_each_time_and_pages_escape_input() {
    let site = setup();
    let (r, first) = login(&site.router, "sato", PW).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/");
    let c = set_cookies(&r)
        .into_iter()
        .find(|c| c.starts_with("mamori_session="))
        .unwrap();
    assert!(
        c.contains("HttpOnly") && c.contains("SameSite=Strict") && c.contains("Path=/"),
        "{c}"
    );
    let (_, second) = login(&site.router, "sato", PW).await;
    assert_ne!(first, second, "a new session at every login");

    let home = get(&site.router, "/", &second).await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.body.contains("ダッシュボード") && home.body.contains("lang=\"ja\""));
    let ledger = get(&site.router, "/ledger", &second).await;
    assert_eq!(ledger.status, StatusCode::OK);
    assert!(ledger.body.contains("電子カルテサーバ"));
    assert!(ledger
        .body
        .contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!ledger.body.contains("<script>alert"));
    let device = get(&site.router, "/ledger/PC-1", &second).await;
    assert_eq!(device.status, StatusCode::OK);
    assert!(device.body.contains("医事課"));
    assert_eq!(
        get(&site.router, "/ledger/NOPE-9", &second).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(&site.router, "/findings", &second).await.status,
        StatusCode::OK
    );
    // Search text goes to the application as text, never into SQL.
    let inj = get(&site.router, "/ledger?q=%27%20OR%201%3D1%20--", &second).await;
    assert_eq!(inj.status, StatusCode::OK);
    assert!(
        !inj.body.contains("PC-1") && inj.body.contains("(0"),
        "{}",
        inj.body
    );
    let found = get(&site.router, "/ledger?q=%E9%9B%BB%E5%AD%90", &second).await;
    assert!(found.body.contains("SV-2") && !found.body.contains(">PC-1<"));

    // English on request.
    let switch = get(&site.router, "/lang/en", &second).await;
    let lang = cookie_value(&switch, "mamori_lang").unwrap();
    let en = get(&site.router, "/", &format!("{second}; mamori_lang={lang}")).await;
    assert!(en.body.contains("Dashboard") && en.body.contains("lang=\"en\""));
}

#[tokio::test]
async fn failed_logins_are_refused_alike_and_then_locked_out() {
    let site = setup();
    let (r, cookie) = login(&site.router, "sato", "wrong-password-0000").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(cookie.is_empty());
    let (unknown, _) = login(&site.router, "nobody", "wrong-password-0000").await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    // The same words for a wrong user and a wrong password.
    let msg = |b: &str| {
        b[b.find("role=\"alert\"").unwrap()..]
            .split('<')
            .next()
            .unwrap()
            .to_string()
    };
    assert_eq!(msg(&r.body), msg(&unknown.body));
    for _ in 0..4 {
        login(&site.router, "sato", "wrong-password-0000").await;
    }
    let (locked, cookie) = login(&site.router, "sato", PW).await;
    assert_eq!(locked.status, StatusCode::UNAUTHORIZED);
    assert!(cookie.is_empty());
    assert!(locked.body.contains("15"));
    // Without the login form's token: refused.
    let r = post(
        &site.router,
        "/login",
        "",
        &format!("username=sato&password={PW}&csrf=x"),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn state_changes_need_the_sessions_csrf_token() {
    let site = setup();
    let (_, cookie) = login(&site.router, "sato", PW).await;
    let home = get(&site.router, "/", &cookie).await;
    let csrf = hidden_csrf(&home.body);
    for bad in ["", "csrf=0000", &format!("csrf={}", "a".repeat(64))] {
        let r = post(&site.router, "/logout", &cookie, bad).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{bad}");
    }
    assert_eq!(get(&site.router, "/", &cookie).await.status, StatusCode::OK);
    let out = post(&site.router, "/logout", &cookie, &format!("csrf={csrf}")).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    let after = get(&site.router, "/", &cookie).await;
    assert_eq!(after.status, StatusCode::SEE_OTHER, "the session ended");
    assert_eq!(location(&after), "/login");
}

#[tokio::test]
async fn a_vendor_sees_no_ledger_and_a_one_time_password_must_be_changed_first() {
    let site = setup();
    let (_, vendor) = login(&site.router, "acme", PW).await;
    assert_eq!(
        get(&site.router, "/ledger", &vendor).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        get(&site.router, "/ledger/PC-1", &vendor).await.status,
        StatusCode::FORBIDDEN
    );
    // The vendor's start page is its own: its company's devices and inquiries.
    assert_eq!(location(&get(&site.router, "/", &vendor).await), "/vendor");
    for path in [
        "/findings",
        "/vulns",
        "/inquiries",
        "/users",
        "/feeds",
        "/hours",
        "/ledger/import",
    ] {
        assert_eq!(
            get(&site.router, path, &vendor).await.status,
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }

    let (r, newbie) = login(&site.router, "newbie", &site.newbie_password).await;
    assert_eq!(location(&r), "/password");
    let home = get(&site.router, "/", &newbie).await;
    assert_eq!(location(&home), "/password");
    let page = get(&site.router, "/password", &newbie).await;
    let csrf = hidden_csrf(&page.body);
    let mismatch = post(
        &site.router,
        "/password",
        &newbie,
        &format!("csrf={csrf}&new=aaaaaaaaaaaaaaaa&again=bbbbbbbbbbbbbbbb"),
    )
    .await;
    assert_eq!(mismatch.status, StatusCode::BAD_REQUEST);
    let short = post(
        &site.router,
        "/password",
        &newbie,
        &format!("csrf={csrf}&new=short&again=short"),
    )
    .await;
    assert_eq!(short.status, StatusCode::BAD_REQUEST);
    let ok = post(
        &site.router,
        "/password",
        &newbie,
        &format!("csrf={csrf}&new=new-password-2026-x&again=new-password-2026-x"),
    )
    .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    assert_eq!(get(&site.router, "/", &newbie).await.status, StatusCode::OK);
    // The new password works for a new login.
    let (again, _) = login(&site.router, "newbie", "new-password-2026-x").await;
    assert_eq!(location(&again), "/");
}

#[tokio::test]
async fn sessions_end_after_the_idle_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let init = mamori_app::init::init(&data, Some(ADMIN_PW), "os:test").unwrap();
    let router = router(WebState::with_timeouts(
        data,
        false,
        std::time::Duration::from_millis(300),
        std::time::Duration::from_secs(60),
    ));
    let (_, cookie) = login(&router, &init.admin_username, ADMIN_PW).await;
    assert_eq!(get(&router, "/", &cookie).await.status, StatusCode::OK);
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    assert_eq!(location(&get(&router, "/", &cookie).await), "/login");
}

/// The workflow on a finding's page: the operator asks the vendor and proposes 代替策, the
/// operator may not approve, the planner approves — every step a CSRF-checked POST through the
/// application layer. Findings come from a real nmap XML import (an unregistered Telnet host).
#[tokio::test]
async fn a_finding_moves_to_asked_vendor_then_approved_alternative_measures() {
    let site = setup();
    let data = site._dir.path().join("data");
    {
        let mut admin = App::login(&data, "admin", ADMIN_PW).unwrap();
        admin
            .add_user("suzuki", None, &[Role::Planner], None, Some(PW))
            .unwrap();
        import_telnet_scan(site._dir.path(), &data, "sato", "scan.xml");
    }
    let (_, op) = login(&site.router, "sato", PW).await;
    let list = get(&site.router, "/findings?category=8.3", &op).await;
    assert!(list.body.contains("未登録機器"), "{}", list.body);
    let at = list.body.find("href=\"/findings/").unwrap() + "href=\"/findings/".len();
    let id: i64 = list.body[at..].split('"').next().unwrap().parse().unwrap();
    let page = get(&site.router, &format!("/findings/{id}"), &op).await;
    assert_eq!(page.status, StatusCode::OK);
    let csrf = hidden_csrf(&page.body);

    // 事業者確認中.
    let r = post(&site.router, &format!("/findings/{id}/state"), &op, &format!("csrf={csrf}&to=asked_vendor&reason=%E4%BF%9D%E5%AE%88%E4%BC%9A%E7%A4%BE%E3%81%AB%E7%85%A7%E4%BC%9A")).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = get(&site.router, &format!("/findings/{id}"), &op).await;
    assert!(
        page.body.contains("<td class=\"state\">事業者確認中</td>"),
        "{}",
        page.body
    );
    assert!(page.body.contains("保守会社に照会"));
    // Without the token, or with a bad date: refused, nothing changes.
    let r = post(
        &site.router,
        &format!("/findings/{id}/state"),
        &op,
        "to=investigating",
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = post(
        &site.router,
        &format!("/findings/{id}/state"),
        &op,
        &format!("csrf={csrf}&to=fix_planned&planned_date=2026-13-45"),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    // 代替策 proposed by the operator.
    let r = post(
        &site.router,
        &format!("/findings/{id}/exception"),
        &op,
        &format!("csrf={csrf}&kind=mitigated&measure=acl&measure=monitoring&note=telnet+%E3%82%92%E9%81%AE%E6%96%AD&residual_risk=low&review_date=2099-03-31"),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = get(&site.router, &format!("/findings/{id}"), &op).await;
    assert!(page.body.contains("接続元制限（ACL）") && page.body.contains("承認待ち"));
    let at = page.body.find("action=\"/exceptions/");
    assert!(at.is_none(), "the operator is offered no approval");
    // The operator cannot approve even by posting.
    let r = post(
        &site.router,
        "/exceptions/1/decide",
        &op,
        &format!("csrf={csrf}&decision=approve&finding={id}"),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // The planner approves: the finding is 代替策.
    let (_, planner) = login(&site.router, "suzuki", PW).await;
    let page = get(&site.router, &format!("/findings/{id}"), &planner).await;
    let pcsrf = hidden_csrf(&page.body);
    let at = page.body.find("action=\"/exceptions/").unwrap() + "action=\"/exceptions/".len();
    let eid: i64 = page.body[at..].split('/').next().unwrap().parse().unwrap();
    let r = post(
        &site.router,
        &format!("/exceptions/{eid}/decide"),
        &planner,
        &format!("csrf={pcsrf}&decision=approve&reason=ok&finding={id}"),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(location(&r), format!("/findings/{id}"));
    let page = get(&site.router, &format!("/findings/{id}"), &planner).await;
    assert!(
        page.body.contains("<td class=\"state\">代替策</td>"),
        "{}",
        page.body
    );
    assert!(page.body.contains("承認済"));
}

/// The dashboard's counts are cached until the store changes: a scan imported by another
/// process shows at the next request.
#[tokio::test]
async fn the_dashboard_follows_changes_made_elsewhere() {
    let site = setup();
    let (_, op) = login(&site.router, "sato", PW).await;
    let count = |body: &str| {
        let label = "<span class=\"label\">安全利用の所見 (8.3)</span>";
        let at = body.find(label).unwrap();
        let n = &body[..at];
        let start = n.rfind("<span class=\"n\">").unwrap() + "<span class=\"n\">".len();
        n[start..]
            .trim_end_matches("</span>")
            .parse::<usize>()
            .unwrap()
    };
    let before = get(&site.router, "/", &op).await;
    assert_eq!(count(&before.body), 0);
    assert_eq!(count(&get(&site.router, "/", &op).await.body), 0, "cached");
    let data = site._dir.path().join("data");
    import_telnet_scan(site._dir.path(), &data, "sato", "scan2.xml");
    assert_eq!(count(&get(&site.router, "/", &op).await.body), 2);
}

/// The read-only pages: scans (list and one scan), safe use (coverage and what is due), and
/// the audit log with its chain verified — the audit log only for roles that may read it.
#[tokio::test]
async fn scans_safe_use_and_the_audit_log() {
    let site = setup();
    let data = site._dir.path().join("data");
    import_telnet_scan(site._dir.path(), &data, "sato", "scan3.xml");
    let (_, op) = login(&site.router, "sato", PW).await;
    let scans = get(&site.router, "/scans", &op).await;
    assert_eq!(scans.status, StatusCode::OK);
    assert!(scans.body.contains("nmap scan3.xml"), "{}", scans.body);
    let one = get(&site.router, "/scans/1", &op).await;
    assert!(
        one.body.contains("127.0.0.9")
            && one.body.contains("23/tcp")
            && one.body.contains("telnet")
    );
    let safe = get(&site.router, "/safe-use", &op).await;
    assert_eq!(safe.status, StatusCode::OK);
    assert!(safe.body.contains("医事課") && safe.body.contains("起動時パスワード設定"));
    // The operator may not read the audit log; the administrator may, and it verifies.
    assert_eq!(
        get(&site.router, "/audit", &op).await.status,
        StatusCode::FORBIDDEN
    );
    let (_, admin) = login(&site.router, "admin", ADMIN_PW).await;
    let audit = get(&site.router, "/audit", &admin).await;
    assert_eq!(audit.status, StatusCode::OK);
    assert!(audit.body.contains("改ざんはありません"), "{}", audit.body);
    assert!(audit.body.contains("scan.finish") && audit.body.contains("user.login"));
}

/// The ledger downloads: Excel, CSV in UTF-8 with a BOM, CSV in Shift_JIS — the rows the
/// list's filters select; a vendor gets none.
#[tokio::test]
async fn the_ledger_downloads_as_excel_and_csv() {
    let site = setup();
    let (_, op) = login(&site.router, "sato", PW).await;
    let raw = |path: &str, cookie: &str| {
        let req = Request::get(path)
            .header(header::COOKIE, cookie)
            .body(Body::empty())
            .unwrap();
        let router = site.router.clone();
        async move {
            let r = router.oneshot(req).await.unwrap();
            let status = r.status();
            let ty = r
                .headers()
                .get(header::CONTENT_TYPE)
                .map(|v| v.to_str().unwrap().to_string())
                .unwrap_or_default();
            let body = r.into_body().collect().await.unwrap().to_bytes().to_vec();
            (status, ty, body)
        }
    };
    let (s, ty, body) = raw("/ledger/download/export.xlsx", &op).await;
    assert_eq!(s, StatusCode::OK);
    assert!(ty.contains("spreadsheetml"), "{ty}");
    assert!(body.starts_with(b"PK"), "an xlsx is a zip");
    let (s, ty, body) = raw("/ledger/download/export.csv?q=%E9%9B%BB%E5%AD%90", &op).await;
    assert_eq!(s, StatusCode::OK);
    assert!(ty.contains("utf-8"));
    let text = String::from_utf8(body).unwrap();
    assert!(text.starts_with('\u{feff}'));
    assert!(
        text.contains("管理番号") && text.contains("SV-2") && !text.contains("PC-1,"),
        "{text}"
    );
    let (_, ty, body) = raw("/ledger/download/export.csv?encoding=cp932", &op).await;
    assert!(ty.contains("Shift_JIS"));
    // 管理番号 in Shift_JIS.
    assert!(body
        .windows(8)
        .any(|w| w == [0x8a, 0xc7, 0x97, 0x9d, 0x94, 0xd4, 0x8d, 0x86]));
    assert_eq!(
        raw("/ledger/download/export.pdf", &op).await.0,
        StatusCode::NOT_FOUND
    );
    let (_, vendor) = login(&site.router, "acme", PW).await;
    assert_eq!(
        raw("/ledger/download/export.csv", &vendor).await.0,
        StatusCode::FORBIDDEN
    );
}
