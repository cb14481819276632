//! The web edge (`mamori serve`): login with mamori's users (Argon2id, through
//! `mamori_app::App::login`), server-side sessions, CSRF tokens on every state-changing
//! request, login throttling, a forced change of one-time passwords, security headers (a CSP
//! without inline script or style, `frame-ancestors 'none'`, `nosniff`), and pages in Japanese
//! (the default) or English: ダッシュボード, 機器台帳 (list and device), 対応状況 (findings).
//!
//! It owns HTTP, cookies and HTML, nothing else: every page calls the same application layer
//! as the command line (`App::resume` for a session's user), so authorization and audit are
//! the application's. It deliberately has no SQL, no business rules, and no script at all.
#![forbid(unsafe_code)]

pub mod api;
pub mod jobs;
pub mod session;
pub mod tls;

mod charts;
mod feed_pages;
mod forms;
mod info_pages;
mod ledger_pages;
mod pages;
mod work_pages;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use mamori_app::{App, AppError};
use mamori_core::Lang;

use crate::session::{Session, Sessions};

/// The session cookie.
pub const SESSION_COOKIE: &str = "mamori_session";
/// The pre-login CSRF cookie (double submit on the login form).
pub const PRE_COOKIE: &str = "mamori_pre";
/// The language cookie (`ja`, `en`).
pub const LANG_COOKIE: &str = "mamori_lang";

/// The dashboard's counts, with the store version and day they were made for.
type SummaryCache = Option<(i64, chrono::NaiveDate, Summary)>;

/// What the dashboard shows: the findings' counts and trend, and each feed's freshness.
pub(crate) type Summary = (
    mamori_app::findings::FindingSummary,
    Vec<mamori_store::FeedStatus>,
);

/// Totals of finding lists by query: (store version, day, total).
type TotalsCache = HashMap<String, (i64, chrono::NaiveDate, usize)>;

/// What every handler shares.
#[derive(Clone)]
pub struct WebState {
    data_dir: Arc<PathBuf>,
    sessions: Arc<Sessions>,
    /// Cookies marked `Secure` (behind TLS).
    secure: bool,
    /// Watches the store for commits (opened at first use).
    watch: Arc<std::sync::Mutex<Option<mamori_store::ChangeWatch>>>,
    /// The dashboard's counts until the store changes or the day does.
    summary: Arc<std::sync::Mutex<SummaryCache>>,
    /// Totals of finding lists by query, until the store changes or the day does.
    totals: Arc<std::sync::Mutex<TotalsCache>>,
    /// Long work started from pages.
    jobs: Arc<jobs::Jobs>,
}

impl WebState {
    /// The state for a data directory: 30 minutes idle, 12 hours at most per login.
    pub fn new(data_dir: PathBuf, secure: bool) -> WebState {
        WebState::with_timeouts(
            data_dir,
            secure,
            Duration::from_secs(30 * 60),
            Duration::from_secs(12 * 3600),
        )
    }

    /// The state with other session timeouts.
    pub fn with_timeouts(
        data_dir: PathBuf,
        secure: bool,
        idle: Duration,
        absolute: Duration,
    ) -> WebState {
        WebState {
            data_dir: Arc::new(data_dir),
            sessions: Arc::new(Sessions::new(idle, absolute)),
            secure,
            watch: Arc::new(std::sync::Mutex::new(None)),
            summary: Arc::new(std::sync::Mutex::new(None)),
            totals: Arc::new(std::sync::Mutex::new(HashMap::new())),
            jobs: Arc::new(jobs::Jobs::default()),
        }
    }
}

/// Every route.
pub fn router(state: WebState) -> Router {
    Router::new()
        .route("/", get(pages::dashboard))
        .route("/login", get(pages::login_page).post(pages::login))
        .route("/logout", post(pages::logout))
        .route("/password", get(pages::password_page).post(pages::password))
        .route("/ledger", get(pages::ledger))
        .route(
            "/ledger/import",
            get(ledger_pages::import_page)
                .post(ledger_pages::import_upload)
                .layer(DefaultBodyLimit::max(ledger_pages::MAX_UPLOAD)),
        )
        .route("/ledger/{id}", get(pages::device))
        .route(
            "/ledger/{id}/edit",
            get(ledger_pages::edit_page).post(ledger_pages::edit_save),
        )
        .route("/match", post(ledger_pages::run_match))
        .route("/jobs", get(ledger_pages::jobs))
        .route("/jobs/{id}", get(ledger_pages::job))
        .route("/ledger/download/{file}", get(pages::ledger_export))
        .route("/findings", get(pages::findings))
        .route("/findings/bulk", post(work_pages::findings_bulk))
        .route("/findings/{id}", get(pages::finding))
        .route("/findings/{id}/inquiry", post(work_pages::finding_inquiry))
        .route("/inquiries", get(work_pages::inquiries))
        .route("/inquiries/{id}/answer", post(work_pages::answer))
        .route("/vendor", get(work_pages::vendor_home))
        .route("/vendor/devices/{id}", get(work_pages::vendor_device))
        .route("/findings/{id}/state", post(pages::finding_state))
        .route("/findings/{id}/exception", post(pages::finding_exception))
        .route("/exceptions/{id}/decide", post(pages::decide_exception))
        .route("/vulns", get(info_pages::vulns))
        .route("/vulns/{id}", get(info_pages::vuln))
        .route("/feeds", get(info_pages::feeds))
        .route(
            "/feeds/import",
            post(feed_pages::import_upload)
                .layer(DefaultBodyLimit::max(feed_pages::MAX_FEED_UPLOAD)),
        )
        .route("/feeds/sync", post(feed_pages::sync))
        .route("/hours", get(info_pages::hours))
        .route("/users", get(info_pages::users).post(info_pages::add_user))
        .route("/users/{name}/roles", post(info_pages::user_roles))
        .route("/users/{name}/state", post(info_pages::user_state))
        .route("/scans", get(pages::scans))
        .route("/scans/run", post(feed_pages::run_scan))
        .route("/scans/{id}", get(pages::scan))
        .route("/safe-use", get(pages::safe_use))
        .route("/audit", get(pages::audit_log))
        .route("/lang/{code}", get(pages::set_lang))
        .route("/api/v1/openapi.json", get(api::openapi_json))
        .route(
            "/api/v1/devices",
            get(api::list_devices).post(api::add_device),
        )
        .route(
            "/api/v1/devices/{asset_id}",
            get(api::get_device).patch(api::edit_device),
        )
        .route(
            "/api/v1/inquiries",
            get(api::list_inquiries).post(api::open_inquiries),
        )
        .route("/api/v1/inquiries/{id}/answers", post(api::answer_inquiry))
        .route("/api/v1/feeds", get(api::list_feeds))
        .route("/api/v1/vulns", get(api::search_vulns))
        .route("/api/v1/findings", get(api::list_findings))
        .route("/api/v1/findings/{id}/state", post(api::set_finding_state))
        .route("/api/v1/scans", get(api::list_scans))
        .route(
            "/api/v1/{*rest}",
            get(api::api_not_found).post(api::api_not_found),
        )
        .route("/static/mamori.css", get(stylesheet))
        .fallback(pages::not_found)
        .layer(axum::middleware::map_response(security_headers))
        .with_state(state)
}

async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        include_str!("../static/mamori.css"),
    )
}

async fn security_headers(mut r: Response) -> Response {
    let h = r.headers_mut();
    let mut set = |k: &'static str, v: &'static str| {
        h.insert(k, HeaderValue::from_static(v));
    };
    set(
        "content-security-policy",
        "default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    );
    set("x-content-type-options", "nosniff");
    set("x-frame-options", "DENY");
    set("referrer-policy", "no-referrer");
    set("cache-control", "no-store");
    r
}

/// The dashboard's counts: from the cache while the store has not changed (the same day),
/// else from the store. The caller's permission is checked either way.
pub(crate) fn summary(state: &WebState, app: &mut App) -> mamori_app::Result<Summary> {
    app.check(mamori_core::access::Permission::View)?;
    let today = app.today();
    let version = store_version(state)?;
    if let (Some(v), Ok(cache)) = (version, state.summary.lock()) {
        if let Some((cv, day, s)) = cache.as_ref() {
            if *cv == v && *day == today {
                return Ok(s.clone());
            }
        }
    }
    let s = (app.finding_summary()?, app.feed_status()?);
    if let (Some(v), Ok(mut cache)) = (version, state.summary.lock()) {
        *cache = Some((v, today, s.clone()));
    }
    Ok(s)
}

fn store_version(state: &WebState) -> mamori_app::Result<Option<i64>> {
    let mut w = state
        .watch
        .lock()
        .map_err(|_| AppError::Internal("watch lock".into()))?;
    if w.is_none() {
        *w = Some(App::change_watch(&state.data_dir)?);
    }
    Ok(w.as_ref().map(|w| w.version()).transpose()?)
}

/// A page of findings; the list's total comes from the cache while the store is unchanged
/// (counting a million findings is the one costly part of a page).
pub(crate) fn findings_page(
    state: &WebState,
    app: &mut App,
    q: &mamori_app::findings::FindingQuery,
    offset: usize,
    limit: usize,
) -> mamori_app::Result<(usize, Vec<mamori_store::Finding>)> {
    let today = app.today();
    let version = store_version(state)?;
    let key = format!("{q:?}");
    let known = match (version, state.totals.lock()) {
        (Some(v), Ok(t)) => t
            .get(&key)
            .filter(|(cv, day, _)| *cv == v && *day == today)
            .map(|(_, _, n)| *n),
        _ => None,
    };
    let (total, page) = app.findings_page_known(q, offset, limit, known)?;
    if let (Some(v), Ok(mut t), None) = (version, state.totals.lock(), known) {
        if t.len() > 1000 {
            t.clear();
        }
        t.insert(key, (v, today, total));
    }
    Ok((total, page))
}

/// The device filters of a list's query string (`q`, `kind`, `status`, `department`).
pub(crate) fn asset_filter(q: &HashMap<String, String>) -> mamori_store::AssetFilter {
    use mamori_core::Labelled;
    mamori_store::AssetFilter {
        kind: q.get("kind").and_then(|k| mamori_core::AssetKind::parse(k)),
        status: q
            .get("status")
            .and_then(|k| mamori_core::AssetStatus::parse(k)),
        department: q.get("department").filter(|d| !d.is_empty()).cloned(),
        search: q.get("q").filter(|d| !d.trim().is_empty()).cloned(),
        ids: None,
    }
}

/// A device list's order from its query string (`sort`, `dir=desc`); 管理番号 by default.
pub(crate) fn asset_sort(q: &HashMap<String, String>) -> mamori_store::AssetSort {
    mamori_store::AssetSort {
        by: q
            .get("sort")
            .and_then(|s| mamori_store::AssetSortBy::parse(s))
            .unwrap_or_default(),
        desc: q.get("dir").is_some_and(|d| d == "desc"),
    }
}

/// A cookie's value from the request.
pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Strict, Path=/, Secure under TLS.
pub(crate) fn set_cookie(
    state: &WebState,
    name: &str,
    value: &str,
    max_age: Option<i64>,
) -> String {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict");
    if let Some(a) = max_age {
        c.push_str(&format!("; Max-Age={a}"));
    }
    if state.secure {
        c.push_str("; Secure");
    }
    c
}

/// The page language: the cookie, else Japanese.
pub(crate) fn lang_of(headers: &HeaderMap) -> Lang {
    match cookie(headers, LANG_COOKIE) {
        Some("en") => Lang::En,
        _ => Lang::Ja,
    }
}

/// The session of a request, if any and alive.
pub(crate) fn session_of(state: &WebState, headers: &HeaderMap) -> Option<(String, Session)> {
    let id = cookie(headers, SESSION_COOKIE)?;
    let s = state.sessions.get(id)?;
    Some((id.to_string(), s))
}

/// Runs `f` with the session user's `App` on a blocking thread. No session: to the login
/// page; a one-time password: to the password page.
pub(crate) async fn with_app<T: Send + 'static>(
    state: &WebState,
    headers: &HeaderMap,
    f: impl FnOnce(&mut App) -> mamori_app::Result<T> + Send + 'static,
) -> Result<(Session, T), Response> {
    let Some((_, s)) = session_of(state, headers) else {
        return Err(Redirect::to("/login").into_response());
    };
    if s.must_change_password {
        return Err(Redirect::to("/password").into_response());
    }
    let dir = state.data_dir.clone();
    let user = s.user.clone();
    let lang = lang_of(headers);
    let out = tokio::task::spawn_blocking(move || {
        let mut app = App::resume(&dir, &user)?;
        f(&mut app)
    })
    .await
    .map_err(|_| error_page(lang, StatusCode::INTERNAL_SERVER_ERROR, None))?;
    match out {
        Ok(v) => Ok((s, v)),
        Err(AppError::LoginFailed) => Err(Redirect::to("/login").into_response()),
        Err(AppError::MustChangePassword(_)) => Err(Redirect::to("/password").into_response()),
        Err(e) => Err(app_error(lang, &e)),
    }
}

/// An application error as a page: 403 for a permission, 404 for an unknown device, 400 for
/// other mistakes the user can fix, 500 (without details) otherwise.
pub(crate) fn app_error(lang: Lang, e: &AppError) -> Response {
    let status = match e {
        AppError::Forbidden { .. } => StatusCode::FORBIDDEN,
        AppError::AssetNotFound(_) | AppError::FindingNotFound(_) | AppError::UserNotFound(_) => {
            StatusCode::NOT_FOUND
        }
        AppError::Store(s) if s.is_busy() => return busy(lang, e, false),
        e if e.is_user_error() => StatusCode::BAD_REQUEST,
        e => {
            eprintln!("mamori serve: internal error: {e}");
            return error_page(lang, StatusCode::INTERNAL_SERVER_ERROR, None);
        }
    };
    error_page(lang, status, Some(e.message(lang)))
}

/// Seconds a client is asked to wait before trying a write again ([`busy`]).
pub(crate) const RETRY_AFTER_SECS: u64 = 5;

/// Another writer held the store longer than a request waits: 503 with `Retry-After`
/// (for the API, a JSON error; for a page, the error page).
pub(crate) fn busy(lang: Lang, e: &AppError, api: bool) -> Response {
    let mut r = if api {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(serde_json::json!({ "status": 503, "message": e.message(lang) })),
        )
            .into_response()
    } else {
        error_page(lang, StatusCode::SERVICE_UNAVAILABLE, Some(e.message(lang)))
    };
    r.headers_mut().insert(
        axum::http::header::RETRY_AFTER,
        axum::http::HeaderValue::from(RETRY_AFTER_SECS),
    );
    r
}

pub(crate) fn error_page(lang: Lang, status: StatusCode, message: Option<String>) -> Response {
    let text = message.unwrap_or_else(|| {
        lang.pick(
            "内部エラーが発生しました。管理者に連絡してください",
            "an internal error occurred; tell the administrator",
        )
        .to_string()
    });
    (status, pages::error_markup(lang, status, &text)).into_response()
}

/// Serves HTTPS with `cert` until `shutdown` resolves (cookies marked `Secure`); returns
/// the certificate's fingerprint through `ready` once listening.
pub async fn serve_tls(
    listen: SocketAddr,
    data_dir: PathBuf,
    cert: tls::Certificate,
    ready: impl FnOnce(&str),
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (config, fingerprint) = tls::load(&cert)?;
    let listener = tokio::net::TcpListener::bind(listen).await?;
    ready(&fingerprint);
    let tls = tls::TlsListener::new(listener, config)?;
    axum::serve(tls, router(WebState::new(data_dir, true)))
        .with_graceful_shutdown(shutdown)
        .await
}

/// Serves until `shutdown` resolves, then finishes the requests in flight.
pub async fn serve(
    listen: SocketAddr,
    data_dir: PathBuf,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    axum::serve(listener, router(WebState::new(data_dir, false)))
        .with_graceful_shutdown(shutdown)
        .await
}
