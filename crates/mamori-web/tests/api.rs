//! The REST API without sockets (`oneshot`), over a real store: bearer tokens (none, wrong,
//! revoked, a disabled user's), role scoping (a vendor's token reads no ledger), lists with
//! paging, a state change through the same rules as the command line, JSON errors, and the
//! OpenAPI document listing exactly the routes the router serves.

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
            "/api/v1/findings",
            "/api/v1/findings/{id}/state",
            "/api/v1/scans",
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
