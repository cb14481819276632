//! The REST API without sockets (`oneshot`), over a real store: bearer tokens (none, wrong,
//! revoked, a disabled user's), role scoping (a vendor's token reads no ledger), lists with
//! paging, a state change through the same rules as the command line, devices added and
//! edited, inquiries opened and answered (a vendor's token: its company's only), feeds, JSON
//! errors, and the OpenAPI document listing exactly the routes the router serves.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use mamori_app::App;
use mamori_web::{router, WebState};
use tower::ServiceExt;

mod common;

use common::{import_telnet_scan, ADMIN_PW, PW};

struct Site {
    dir: tempfile::TempDir,
    router: Router,
    operator: String,
    vendor: String,
}

fn setup() -> Site {
    let dir = tempfile::tempdir().unwrap();
    let (data, mut admin) = common::store(dir.path());
    let (_, operator) = admin.create_api_token("sato", "monitoring").unwrap();
    let (_, vendor) = admin.create_api_token("acme", "vendor portal").unwrap();
    let mut op = App::login(&data, "sato", PW).unwrap();
    for i in 0..7 {
        op.add_asset(
            &format!("PC-{i:03}"),
            &[
                ("機器名".into(), format!("端末 {i}")),
                ("機器種別".into(), "端末PC".into()),
            ],
        )
        .unwrap();
    }
    import_telnet_scan(dir.path(), &data, "sato", "scan.xml");
    Site {
        router: router(WebState::new(data, false)),
        dir,
        operator,
        vendor,
    }
}

async fn call(
    router: &Router,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> (StatusCode, serde_json::Value) {
    let mut req = Request::builder().method(method).uri(path);
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    if body.is_some() {
        req = req.header(header::CONTENT_TYPE, "application/json");
    }
    let req = req
        .body(Body::from(body.unwrap_or("").to_string()))
        .unwrap();
    let r = router.clone().oneshot(req).await.unwrap();
    let status = r.status();
    let bytes = r.into_body().collect().await.unwrap().to_bytes();
    let v = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
    (status, v)
}

#[tokio::test]
async fn tokens_authenticate_and_roles_scope_them() {
    let site = setup();
    let (s, v) = call(&site.router, "GET", "/api/v1/devices", None, None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(v["status"], 401);
    let wrong = format!("mamori_{}", "0".repeat(64));
    assert_eq!(
        call(&site.router, "GET", "/api/v1/devices", Some(&wrong), None)
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        call(
            &site.router,
            "GET",
            "/api/v1/devices",
            Some("garbage"),
            None
        )
        .await
        .0,
        StatusCode::UNAUTHORIZED
    );
    // A vendor's token reads no ledger.
    let (s, v) = call(
        &site.router,
        "GET",
        "/api/v1/devices",
        Some(&site.vendor),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");

    // The operator's: pages of devices.
    let (s, v) = call(
        &site.router,
        "GET",
        "/api/v1/devices?limit=3&offset=2",
        Some(&site.operator),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["total"], 7);
    let ids: Vec<&str> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["asset_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["PC-002", "PC-003", "PC-004"]);
    let (s, v) = call(
        &site.router,
        "GET",
        "/api/v1/devices/PC-005",
        Some(&site.operator),
        None,
    )
    .await;
    assert_eq!((s, v["name"].as_str()), (StatusCode::OK, Some("端末 5")));
    let (s, _) = call(
        &site.router,
        "GET",
        "/api/v1/devices/NOPE",
        Some(&site.operator),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, v) = call(
        &site.router,
        "GET",
        "/api/v1/scans",
        Some(&site.operator),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v[0]["source"], "nmap");
    assert_eq!(
        call(
            &site.router,
            "GET",
            "/api/v1/nothing",
            Some(&site.operator),
            None
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );

    // Revoked, or the user disabled: refused at once.
    let data = site.dir.path().join("data");
    let mut admin = App::login(&data, "admin", ADMIN_PW).unwrap();
    let id = admin
        .api_tokens()
        .unwrap()
        .into_iter()
        .find(|t| t.username == "sato")
        .unwrap()
        .id;
    admin.revoke_api_token(id).unwrap();
    assert_eq!(
        call(
            &site.router,
            "GET",
            "/api/v1/devices",
            Some(&site.operator),
            None
        )
        .await
        .0,
        StatusCode::UNAUTHORIZED
    );
    let (_, second) = admin.create_api_token("sato", "second").unwrap();
    assert_eq!(
        call(&site.router, "GET", "/api/v1/devices", Some(&second), None)
            .await
            .0,
        StatusCode::OK
    );
    admin.set_user_disabled("sato", true, None).unwrap();
    assert_eq!(
        call(&site.router, "GET", "/api/v1/devices", Some(&second), None)
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
    // Only the hash is stored.
    let db = std::fs::read(data.join("mamori.db")).unwrap();
    assert!(!db.windows(second.len()).any(|w| w == second.as_bytes()));
}

#[tokio::test]
async fn findings_are_listed_and_moved_with_the_same_rules() {
    let site = setup();
    let t = Some(site.operator.as_str());
    let (s, v) = call(
        &site.router,
        "GET",
        "/api/v1/findings?category=8.3",
        t,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["total"], 2, "{v}");
    let id = v["items"][0]["id"].as_i64().unwrap();
    let (s, v) = call(
        &site.router,
        "POST",
        &format!("/api/v1/findings/{id}/state"),
        t,
        Some(r#"{"to": "asked_vendor", "reason": "asked the vendor"}"#),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["changed"], serde_json::json!([id]));
    let (_, v) = call(
        &site.router,
        "GET",
        "/api/v1/findings?category=8.3",
        t,
        None,
    )
    .await;
    let item = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == id)
        .unwrap();
    assert_eq!(item["state"], "asked_vendor");
    // The rules are the application's: 代替策 needs an approval, not a state change.
    let (s, v) = call(
        &site.router,
        "POST",
        &format!("/api/v1/findings/{id}/state"),
        t,
        Some(r#"{"to": "mitigated"}"#),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert!(v["message"].as_str().unwrap().contains("approver"), "{v}");
    let (s, _) = call(
        &site.router,
        "POST",
        &format!("/api/v1/findings/{id}/state"),
        t,
        Some("{not json"),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = call(
        &site.router,
        "POST",
        &format!("/api/v1/findings/{id}/state"),
        t,
        Some(r#"{"to": "fix_planned", "planned_date": "next week"}"#),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    // A browser session cookie is no key to the API.
    let req = Request::post(format!("/api/v1/findings/{id}/state"))
        .header(header::COOKIE, "mamori_session=whatever")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(r#"{"to": "investigating"}"#))
        .unwrap();
    assert_eq!(
        site.router.clone().oneshot(req).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn the_openapi_document_lists_exactly_the_api_routes() {
    let site = setup();
    let (s, doc) = call(&site.router, "GET", "/api/v1/openapi.json", None, None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let mut paths: Vec<String> = doc["paths"].as_object().unwrap().keys().cloned().collect();
    paths.sort();
    assert_eq!(
        paths,
        [
            "/api/v1/devices",
            "/api/v1/devices/{asset_id}",
            "/api/v1/feeds",
            "/api/v1/findings",
            "/api/v1/findings/{id}/state",
            "/api/v1/inquiries",
            "/api/v1/inquiries/{id}/answers",
            "/api/v1/scans",
            "/api/v1/vulns",
        ]
    );
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    // Every documented operation answers (with a token: not 404, not 405).
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            let concrete = path.replace("{asset_id}", "PC-001").replace("{id}", "1");
            let body = (method == "post").then_some(r#"{"to": "investigating"}"#);
            let (s, v) = call(
                &site.router,
                &method.to_uppercase(),
                &concrete,
                Some(&site.operator),
                body,
            )
            .await;
            assert!(
                s != StatusCode::NOT_FOUND && s != StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path}: {s} {v}"
            );
        }
    }
}

#[tokio::test]
async fn devices_are_added_and_edited_and_vendors_answer_their_inquiries() {
    let site = setup();
    let t = Some(site.operator.as_str());
    // Add a device of Acme's with Japanese column names and the import's rules.
    let (s, v) = call(
        &site.router,
        "POST",
        "/api/v1/devices",
        t,
        Some(r#"{"asset_id": "US-1", "values": {"機器名": "超音波診断装置", "機器種別": "医療機器", "保守事業者": "Acme", "IPアドレス": "127.0.0.9"}}"#),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["kind"], "medical_device");
    assert_eq!(v["vendor"], "Acme");
    // The same 管理番号 again, an unknown column, a bad value: 400 naming it.
    let (s, v) = call(
        &site.router,
        "POST",
        "/api/v1/devices",
        t,
        Some(r#"{"asset_id": "US-1", "values": {"機器名": "x"}}"#),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let (s, v) = call(
        &site.router,
        "PATCH",
        "/api/v1/devices/US-1",
        t,
        Some(r#"{"values": {"色": "白"}}"#),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(v["message"].as_str().unwrap().contains("色"), "{v}");
    let (s, v) = call(
        &site.router,
        "PATCH",
        "/api/v1/devices/US-1",
        t,
        Some(r#"{"values": {"eos_date": "someday"}}"#),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let (s, v) = call(
        &site.router,
        "PATCH",
        "/api/v1/devices/US-1",
        t,
        Some(r#"{"values": {"設置場所": "外来2F"}, "reason": "移設"}"#),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["changed"].as_array().unwrap().len(), 1, "{v}");
    let (s, _) = call(
        &site.router,
        "PATCH",
        "/api/v1/devices/NOPE",
        t,
        Some(r#"{"values": {}}"#),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // The vendor's token may add nothing.
    let (s, _) = call(
        &site.router,
        "POST",
        "/api/v1/devices",
        Some(&site.vendor),
        Some(r#"{"asset_id": "X-1", "values": {"機器名": "x"}}"#),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // The Telnet finding on 127.0.0.9 now belongs to US-1 after matching the address again.
    import_telnet_scan(
        site.dir.path(),
        &site.dir.path().join("data"),
        "sato",
        "scan2.xml",
    );
    let (_, list) = call(
        &site.router,
        "GET",
        "/api/v1/findings?asset_id=US-1",
        t,
        None,
    )
    .await;
    let id = list["items"][0]["id"].as_i64().expect("a finding on US-1");
    let (s, v) = call(
        &site.router,
        "POST",
        "/api/v1/inquiries",
        t,
        Some(&format!(
            r#"{{"findings": [{id}], "question": "適用可否"}}"#
        )),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v[0]["vendor"], "Acme");
    let qid = v[0]["inquiry"].as_i64().unwrap();
    let (s, _) = call(
        &site.router,
        "POST",
        "/api/v1/inquiries",
        t,
        Some(r#"{"findings": [], "question": "?"}"#),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    // The vendor sees its inquiry and its device, and answers.
    let (s, v) = call(
        &site.router,
        "GET",
        "/api/v1/inquiries",
        Some(&site.vendor),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v.as_array().unwrap().len(), 1);
    let (s, _) = call(
        &site.router,
        "GET",
        "/api/v1/devices/US-1",
        Some(&site.vendor),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = call(
        &site.router,
        "GET",
        "/api/v1/devices/PC-001",
        Some(&site.vendor),
        None,
    )
    .await;
    assert_eq!(
        s,
        StatusCode::NOT_FOUND,
        "another company's device is not found"
    );
    let (s, v) = call(
        &site.router,
        "POST",
        &format!("/api/v1/inquiries/{qid}/answers"),
        Some(&site.vendor),
        Some(&format!(r#"{{"finding": {id}, "verdict": "maybe"}}"#)),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let (s, v) = call(
        &site.router,
        "POST",
        &format!("/api/v1/inquiries/{qid}/answers"),
        Some(&site.vendor),
        Some(&format!(
            r#"{{"finding": {id}, "verdict": "applicable", "answer": "telnet を無効化できます"}}"#
        )),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["completed"], serde_json::json!([qid]));
    let (_, v) = call(&site.router, "GET", "/api/v1/inquiries", t, None).await;
    assert_eq!(v[0]["status"], "answered");
    assert_eq!(v[0]["items"][0]["verdict"], "applicable");
    // Feeds: none imported in this store.
    let (s, v) = call(&site.router, "GET", "/api/v1/feeds", t, None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        v.as_array()
            .unwrap()
            .iter()
            .all(|f| f["stale"] == true || f["records"] == 0),
        "{v}"
    );
    let (s, _) = call(&site.router, "GET", "/api/v1/vulns", t, None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, v) = call(
        &site.router,
        "GET",
        "/api/v1/vulns?q=CVE-2024-0001",
        t,
        None,
    )
    .await;
    assert_eq!((s, v), (StatusCode::OK, serde_json::json!([])));
}

/// While another connection holds the store's write lock for longer than a request waits
/// (ten seconds), a write through the API answers 503 with `Retry-After` — never 500 — and
/// reads still answer; once the lock is free the same write succeeds.
#[tokio::test]
async fn a_write_behind_a_long_lock_is_503_with_retry_after() {
    let dir = tempfile::tempdir().unwrap();
    let (data, mut admin) = common::store(dir.path());
    let (_, token) = admin.create_api_token("sato", "monitoring").unwrap();
    admin
        .add_asset("PC-1", &[("機器名".into(), "受付".into())])
        .unwrap();
    let router = router(WebState::new(data.clone(), false));
    // The token's first use records it (a write): before the lock is taken.
    let (s, _) = call(&router, "GET", "/api/v1/devices", Some(&token), None).await;
    assert_eq!(s, StatusCode::OK);

    let (locked, is_locked) = std::sync::mpsc::channel();
    let (release, released) = std::sync::mpsc::channel::<()>();
    let db = data.join("mamori.db");
    let holder = std::thread::spawn(move || {
        let conn = rusqlite::Connection::open(db).unwrap();
        conn.execute_batch("BEGIN IMMEDIATE").unwrap();
        locked.send(()).unwrap();
        let _ = released.recv_timeout(std::time::Duration::from_secs(60));
        conn.execute_batch("ROLLBACK").unwrap();
    });
    is_locked.recv().unwrap();
    let patch = || {
        Request::builder()
            .method("PATCH")
            .uri("/api/v1/devices/PC-1")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(r#"{"values": {"部署": "医事課"}}"#))
            .unwrap()
    };
    let r = router.clone().oneshot(patch()).await.unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.headers()[header::RETRY_AFTER], "5");
    let body = r.into_body().collect().await.unwrap().to_bytes();
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("another task is writing"),
        "{v}"
    );
    // Reading is not held up by a writer.
    let (s, _) = call(&router, "GET", "/api/v1/devices/PC-1", Some(&token), None).await;
    assert_eq!(s, StatusCode::OK);
    release.send(()).unwrap();
    holder.join().unwrap();
    let r = router.clone().oneshot(patch()).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}
