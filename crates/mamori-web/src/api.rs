//! The REST API (`/api/v1`, JSON): devices (read, add, edit), findings and their state
//! changes, 事業者確認 (inquiries and answers), scans, feed status, vulnerability search.
//! Authentication is a bearer token (`mamori token create`); cookies are ignored here, so
//! no browser session can be used across sites (no CSRF surface). The OpenAPI 3 document is
//! generated from these handlers and types (`/api/v1/openapi.json`).

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use mamori_app::findings::FindingQuery;
use mamori_app::{App, AppError};
use mamori_core::{Labelled, Lang, Level};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

use crate::WebState;

/// Most items a list returns at once.
pub const MAX_LIMIT: usize = 500;

/// An error.
#[derive(Serialize, ToSchema)]
pub struct ApiError {
    /// The HTTP status.
    pub status: u16,
    /// What is wrong, in English (`Accept-Language: ja` for Japanese).
    pub message: String,
}

/// A device of the ledger (the main columns).
#[derive(Serialize, ToSchema)]
pub struct DeviceDto {
    /// 管理番号.
    pub asset_id: String,
    /// 機器名.
    pub name: String,
    /// 機器種別 code.
    pub kind: String,
    /// 状態 code.
    pub status: String,
    /// 部署.
    pub department: Option<String>,
    /// 設置場所.
    pub location: Option<String>,
    /// IP addresses.
    pub ip: Vec<String>,
    /// OS.
    pub os: Option<String>,
    /// OS version.
    pub os_version: Option<String>,
    /// 製造元.
    pub manufacturer: Option<String>,
    /// 型番.
    pub model: Option<String>,
    /// 保守事業者.
    pub vendor: Option<String>,
    /// サポート終了日 (YYYY-MM-DD).
    pub eos_date: Option<String>,
}

/// A page of devices.
#[derive(Serialize, ToSchema)]
pub struct DevicePage {
    /// Devices matching, in all.
    pub total: usize,
    /// This page.
    pub items: Vec<DeviceDto>,
}

/// A finding (device × vulnerability or safe-use check).
#[derive(Serialize, ToSchema)]
pub struct FindingDto {
    /// Id.
    pub id: i64,
    /// 管理番号 (empty for an address in no ledger row).
    pub asset_id: String,
    /// The component or service.
    pub component: String,
    /// CVE id, or `8.3:CHECK`.
    pub vuln: String,
    /// `urgent`, `high`, `medium`, `low`.
    pub level: String,
    /// Priority score.
    pub score: f64,
    /// In CISA KEV.
    pub kev: bool,
    /// `open`, `resolved`, `not_affected`.
    pub status: String,
    /// 対応状況 code.
    pub state: String,
    /// First found (RFC 3339).
    pub first_seen: String,
}

/// A page of findings.
#[derive(Serialize, ToSchema)]
pub struct FindingPage {
    /// Findings matching, in all.
    pub total: usize,
    /// This page.
    pub items: Vec<FindingDto>,
}

/// A state change asked for.
#[derive(Deserialize, ToSchema)]
pub struct StateRequest {
    /// The new 対応状況 code (`investigating`, `asked_vendor`, `fix_planned`, `not_affected`,
    /// `false_positive`, `new`).
    pub to: String,
    /// Why.
    pub reason: Option<String>,
    /// 適用予定日 (YYYY-MM-DD), for `fix_planned`.
    pub planned_date: Option<String>,
    /// VEX justification code, for `not_affected`.
    pub justification: Option<String>,
}

/// What a state change did.
#[derive(Serialize, ToSchema)]
pub struct StateResult {
    /// Findings changed.
    pub changed: Vec<i64>,
}

/// A scan.
#[derive(Serialize, ToSchema)]
pub struct ScanDto {
    /// Id.
    pub id: i64,
    /// `mamori` or `nmap`.
    pub source: String,
    /// `running`, `complete`, `incomplete`.
    pub status: String,
    /// Started (RFC 3339).
    pub started_at: String,
    /// Addresses finished.
    pub hosts: i64,
    /// Addresses that answered.
    pub up: i64,
    /// Open ports.
    pub open_ports: i64,
}

#[derive(OpenApi)]
#[openapi(
    info(title = "mamori API", version = "1", description = "The device ledger, findings and their remediation, and scans of a mamori store. Authenticate with `Authorization: Bearer TOKEN` (`mamori token create NAME`)."),
    paths(list_devices, add_device, get_device, edit_device, list_findings, set_finding_state, list_scans,
          list_inquiries, open_inquiries, answer_inquiry, list_feeds, search_vulns),
    components(schemas(ApiError, DeviceDto, DevicePage, DeviceNew, DeviceEdit, EditResult, FindingDto, FindingPage,
                       StateRequest, StateResult, ScanDto, InquiryDto, InquiryItemDto, InquiryRequest, Opened,
                       AnswerRequest, AnswerResult, FeedDto, VulnHit)),
    modifiers(&Bearer)
)]
pub struct ApiDoc;

/// The `bearer` security scheme every path names.
struct Bearer;

impl utoipa::Modify for Bearer {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// The OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

pub(crate) async fn openapi_json() -> Response {
    Json(openapi()).into_response()
}

fn error(status: StatusCode, message: String) -> Response {
    (
        status,
        Json(ApiError {
            status: status.as_u16(),
            message,
        }),
    )
        .into_response()
}

fn lang_of(headers: &HeaderMap) -> Lang {
    match headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
    {
        Some(l) if l.trim_start().starts_with("ja") => Lang::Ja,
        _ => Lang::En,
    }
}

fn app_error(lang: Lang, e: &AppError) -> Response {
    let status = match e {
        AppError::LoginFailed => StatusCode::UNAUTHORIZED,
        AppError::MustChangePassword(_) | AppError::Forbidden { .. } => StatusCode::FORBIDDEN,
        AppError::AssetNotFound(_) | AppError::FindingNotFound(_) | AppError::UserNotFound(_) => {
            StatusCode::NOT_FOUND
        }
        AppError::Store(s) if s.is_busy() => return crate::busy(lang, e, true),
        e if e.is_user_error() => StatusCode::BAD_REQUEST,
        e => {
            eprintln!("mamori serve: internal error: {e}");
            return error(StatusCode::INTERNAL_SERVER_ERROR, "internal error".into());
        }
    };
    let message = match e {
        AppError::LoginFailed => lang
            .pick(
                "トークンがないか、無効です (Authorization: Bearer …)",
                "missing or invalid token (Authorization: Bearer …)",
            )
            .to_string(),
        e => e.message(lang),
    };
    error(status, message)
}

/// Runs `f` as the token's user on a blocking thread.
async fn with_token<T: Serialize + Send + 'static>(
    state: &WebState,
    headers: &HeaderMap,
    f: impl FnOnce(&mut App) -> mamori_app::Result<T> + Send + 'static,
) -> Response {
    let lang = lang_of(headers);
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_string());
    let Some(token) = token else {
        return app_error(lang, &AppError::LoginFailed);
    };
    let dir = state.data_dir.clone();
    let out = tokio::task::spawn_blocking(move || {
        let mut app = App::with_token(&dir, &token)?;
        f(&mut app)
    })
    .await;
    match out {
        Ok(Ok(v)) => Json(v).into_response(),
        Ok(Err(e)) => app_error(lang, &e),
        Err(_) => error(StatusCode::INTERNAL_SERVER_ERROR, "internal error".into()),
    }
}

fn window(q: &HashMap<String, String>) -> (usize, usize) {
    let offset = q.get("offset").and_then(|v| v.parse().ok()).unwrap_or(0);
    let limit = q
        .get("limit")
        .and_then(|v| v.parse().ok())
        .unwrap_or(100)
        .clamp(1, MAX_LIMIT);
    (offset, limit)
}

fn device(a: &mamori_core::Asset) -> DeviceDto {
    DeviceDto {
        asset_id: a.asset_id.clone(),
        name: a.name.clone(),
        kind: a.kind.code().into(),
        status: a.status.code().into(),
        department: a.department.clone(),
        location: a.location.clone(),
        ip: a.ip.iter().map(|i| i.to_string()).collect(),
        os: a.os.clone(),
        os_version: a.os_version.clone(),
        manufacturer: a.manufacturer.clone(),
        model: a.model.clone(),
        vendor: a.vendor.clone(),
        eos_date: a.eos_date.map(|d| d.to_string()),
    }
}

/// Devices of the ledger.
#[utoipa::path(get, path = "/api/v1/devices",
    params(
        ("q" = Option<String>, Query, description = "search text"),
        ("kind" = Option<String>, Query, description = "機器種別 code"),
        ("status" = Option<String>, Query, description = "状態 code"),
        ("sort" = Option<String>, Query, description = "`asset_id` (default), `name`, `kind`, `department`, `status`, `os`"),
        ("dir" = Option<String>, Query, description = "`asc` (default) or `desc`"),
        ("offset" = Option<usize>, Query, description = "skip this many"),
        ("limit" = Option<usize>, Query, description = "at most this many (1–500, default 100)"),
    ),
    responses((status = 200, body = DevicePage), (status = 401, body = ApiError), (status = 403, body = ApiError)),
    security(("bearer" = [])))]
pub(crate) async fn list_devices(
    State(state): State<WebState>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let (offset, limit) = window(&q);
    let filter = crate::asset_filter(&q);
    let sort = crate::asset_sort(&q);
    with_token(&state, &headers, move |app| {
        let (total, page) = app.assets_page(&filter, sort, offset, limit)?;
        Ok(DevicePage {
            total,
            items: page.iter().map(|s| device(&s.asset)).collect(),
        })
    })
    .await
}

/// One device.
#[utoipa::path(get, path = "/api/v1/devices/{asset_id}",
    params(("asset_id" = String, Path, description = "管理番号")),
    responses((status = 200, body = DeviceDto), (status = 404, body = ApiError)),
    security(("bearer" = [])))]
pub(crate) async fn get_device(
    State(state): State<WebState>,
    headers: HeaderMap,
    Path(asset_id): Path<String>,
) -> Response {
    with_token(&state, &headers, move |app| {
        // A 事業者 user's token reads its company's devices only (others: not found).
        let (stored, _) = app.own_asset(&asset_id)?;
        Ok(device(&stored.asset))
    })
    .await
}

/// Findings, most urgent first.
#[utoipa::path(get, path = "/api/v1/findings",
    params(
        ("category" = Option<String>, Query, description = "`8.2` or `8.3`"),
        ("level" = Option<String>, Query, description = "at least this level"),
        ("kev" = Option<bool>, Query, description = "only KEV"),
        ("overdue" = Option<bool>, Query, description = "only past their due date"),
        ("status" = Option<String>, Query, description = "`open` (default), `resolved`, `not_affected`, `all`"),
        ("asset_id" = Option<String>, Query, description = "one device"),
        ("offset" = Option<usize>, Query, description = "skip this many"),
        ("limit" = Option<usize>, Query, description = "at most this many (1–500, default 100)"),
    ),
    responses((status = 200, body = FindingPage), (status = 401, body = ApiError)),
    security(("bearer" = [])))]
pub(crate) async fn list_findings(
    State(state): State<WebState>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let (offset, limit) = window(&q);
    let query = FindingQuery {
        kev: q.get("kev").is_some_and(|v| v == "true" || v == "1"),
        overdue: q.get("overdue").is_some_and(|v| v == "true" || v == "1"),
        min_level: q.get("level").and_then(|l| Level::parse(l)),
        category: q
            .get("category")
            .filter(|c| *c == "8.2" || *c == "8.3")
            .cloned(),
        status: q.get("status").cloned(),
        asset: q.get("asset_id").cloned(),
        ..FindingQuery::default()
    };
    let st = state.clone();
    with_token(&state, &headers, move |app| {
        let (total, page) = crate::findings_page(&st, app, &query, offset, limit)?;
        Ok(FindingPage {
            total,
            items: page
                .iter()
                .map(|f| FindingDto {
                    id: f.id,
                    asset_id: f.asset_id.clone(),
                    component: f.component.clone(),
                    vuln: f.vuln.clone(),
                    level: f.level.clone(),
                    score: f.score,
                    kev: f.kev,
                    status: f.status.clone(),
                    state: f.state.clone(),
                    first_seen: f.first_seen.to_rfc3339(),
                })
                .collect(),
        })
    })
    .await
}

/// Moves a finding to another 対応状況 (the same rules and audit as the command line).
#[utoipa::path(post, path = "/api/v1/findings/{id}/state",
    params(("id" = i64, Path, description = "finding id")),
    request_body = StateRequest,
    responses((status = 200, body = StateResult), (status = 400, body = ApiError), (status = 403, body = ApiError)),
    security(("bearer" = [])))]
pub(crate) async fn set_finding_state(
    State(state): State<WebState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> Response {
    use mamori_core::remediation::{Justification, Remediation};
    let req: StateRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("the body is not a StateRequest: {e}"),
            )
        }
    };
    let Some(to) = Remediation::parse(&req.to) else {
        return error(
            StatusCode::BAD_REQUEST,
            format!("unknown state {:?}", req.to),
        );
    };
    let planned_date = match req
        .planned_date
        .as_deref()
        .map(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d"))
    {
        None => None,
        Some(Ok(d)) => Some(d),
        Some(Err(_)) => {
            return error(
                StatusCode::BAD_REQUEST,
                "planned_date is not YYYY-MM-DD".into(),
            )
        }
    };
    with_token(&state, &headers, move |app| {
        let change = mamori_app::remediation::StateChange {
            to,
            reason: req.reason.clone().filter(|r| !r.trim().is_empty()),
            planned_date,
            justification: req.justification.as_deref().and_then(Justification::parse),
        };
        let today = app.today();
        let r = app.set_state(
            &mamori_app::remediation::Findings::Ids(vec![id]),
            &change,
            today,
        )?;
        Ok(StateResult { changed: r.changed })
    })
    .await
}

/// Scans, newest first.
#[utoipa::path(get, path = "/api/v1/scans",
    responses((status = 200, body = [ScanDto]), (status = 401, body = ApiError)),
    security(("bearer" = [])))]
pub(crate) async fn list_scans(State(state): State<WebState>, headers: HeaderMap) -> Response {
    with_token(&state, &headers, move |app| {
        Ok(app
            .scans()?
            .into_iter()
            .map(|s| ScanDto {
                id: s.id,
                source: s.source,
                status: s.status,
                started_at: s.started_at.to_rfc3339(),
                hosts: s.hosts,
                up: s.up,
                open_ports: s.open_ports,
            })
            .collect::<Vec<_>>())
    })
    .await
}

pub(crate) async fn api_not_found() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "no such API route (see /api/v1/openapi.json)".into(),
    )
}

/// A JSON body, or a 400 naming what is wrong with it.
fn body_of<T: DeserializeOwned>(body: &[u8], what: &str) -> Result<T, Box<Response>> {
    serde_json::from_slice(body).map_err(|e| {
        Box::new(error(
            StatusCode::BAD_REQUEST,
            format!("the body is not a {what}: {e}"),
        ))
    })
}

/// A device to add: its 管理番号 and columns (named in Japanese or English, as in a ledger
/// file's header, with the import's rules).
#[derive(Deserialize, ToSchema)]
pub struct DeviceNew {
    /// 管理番号.
    pub asset_id: String,
    /// Column → value, e.g. `{"機器名": "電子カルテ端末", "kind": "pc"}`. 機器名 is required.
    pub values: std::collections::BTreeMap<String, String>,
}

/// Columns to change on a device.
#[derive(Deserialize, ToSchema)]
pub struct DeviceEdit {
    /// Column → new value (an empty value clears it).
    pub values: std::collections::BTreeMap<String, String>,
    /// Why (kept in the history and audit log).
    pub reason: Option<String>,
}

/// What an edit changed.
#[derive(Serialize, ToSchema)]
pub struct EditResult {
    /// The columns that changed (none when the values were already so).
    pub changed: Vec<String>,
}

/// Adds a device to the ledger.
#[utoipa::path(post, path = "/api/v1/devices",
    request_body = DeviceNew,
    responses((status = 200, body = DeviceDto), (status = 400, body = ApiError), (status = 403, body = ApiError)),
    security(("bearer" = [])))]
pub(crate) async fn add_device(
    State(state): State<WebState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let req: DeviceNew = match body_of(&body, "DeviceNew") {
        Ok(r) => r,
        Err(r) => return *r,
    };
    with_token(&state, &headers, move |app| {
        let values: Vec<(String, String)> = req.values.into_iter().collect();
        let asset = app.add_asset(&req.asset_id, &values)?;
        Ok(device(&asset))
    })
    .await
}

/// Changes columns of a device (the import's rules; history and audit as the command line).
#[utoipa::path(patch, path = "/api/v1/devices/{asset_id}",
    params(("asset_id" = String, Path, description = "管理番号")),
    request_body = DeviceEdit,
    responses((status = 200, body = EditResult), (status = 400, body = ApiError), (status = 404, body = ApiError)),
    security(("bearer" = [])))]
pub(crate) async fn edit_device(
    State(state): State<WebState>,
    headers: HeaderMap,
    Path(asset_id): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let req: DeviceEdit = match body_of(&body, "DeviceEdit") {
        Ok(r) => r,
        Err(r) => return *r,
    };
    with_token(&state, &headers, move |app| {
        let values: Vec<(String, String)> = req.values.into_iter().collect();
        let changed = app.edit_asset(&asset_id, &values, req.reason.as_deref())?;
        Ok(EditResult { changed })
    })
    .await
}

/// One finding of an inquiry and its answer.
#[derive(Serialize, ToSchema)]
pub struct InquiryItemDto {
    /// The finding.
    pub finding: i64,
    /// 回答区分 code (`applicable`, `conditional`, `not_applicable`, `not_affected`), once answered.
    pub verdict: Option<String>,
    /// 条件.
    pub conditions: Option<String>,
    /// 回答・備考.
    pub answer: Option<String>,
    /// 回答日 (YYYY-MM-DD).
    pub answered_on: Option<String>,
}

/// An inquiry to a vendor (事業者確認).
#[derive(Serialize, ToSchema)]
pub struct InquiryDto {
    /// Id.
    pub id: i64,
    /// The 保守事業者 asked.
    pub vendor: String,
    /// What was asked.
    pub question: String,
    /// When (YYYY-MM-DD).
    pub asked_on: String,
    /// Who asked.
    pub asked_by: String,
    /// `open` or `answered`.
    pub status: String,
    /// Its findings.
    pub items: Vec<InquiryItemDto>,
}

/// Findings to ask their devices' vendors about.
#[derive(Deserialize, ToSchema)]
pub struct InquiryRequest {
    /// Finding ids; one inquiry is opened per vendor.
    pub findings: Vec<i64>,
    /// What to ask.
    pub question: String,
}

/// An inquiry opened.
#[derive(Serialize, ToSchema)]
pub struct Opened {
    /// The vendor.
    pub vendor: String,
    /// The inquiry's id.
    pub inquiry: i64,
}

/// A vendor's answer about one finding.
#[derive(Deserialize, ToSchema)]
pub struct AnswerRequest {
    /// The finding.
    pub finding: i64,
    /// 回答区分 code or label (`applicable`, `conditional`, `not_applicable`, `not_affected`).
    pub verdict: String,
    /// 条件 (required for `conditional`).
    pub conditions: Option<String>,
    /// 回答・備考.
    pub answer: Option<String>,
    /// 回答日 (YYYY-MM-DD; today when absent).
    pub answered_on: Option<String>,
}

/// What recording answers did.
#[derive(Serialize, ToSchema)]
pub struct AnswerResult {
    /// Answers recorded.
    pub answered: usize,
    /// Inquiries now fully answered.
    pub completed: Vec<i64>,
}

/// Inquiries, newest first (a 事業者 user's token: its company's only).
#[utoipa::path(get, path = "/api/v1/inquiries",
    responses((status = 200, body = [InquiryDto]), (status = 401, body = ApiError), (status = 403, body = ApiError)),
    security(("bearer" = [])))]
pub(crate) async fn list_inquiries(State(state): State<WebState>, headers: HeaderMap) -> Response {
    with_token(&state, &headers, move |app| {
        Ok(app
            .own_inquiries()?
            .into_iter()
            .map(|(q, _)| InquiryDto {
                id: q.id,
                vendor: q.vendor,
                question: q.question,
                asked_on: q.asked_on.to_string(),
                asked_by: q.asked_by,
                status: q.status,
                items: q
                    .items
                    .into_iter()
                    .map(|i| InquiryItemDto {
                        finding: i.finding,
                        verdict: i.verdict,
                        conditions: i.conditions,
                        answer: i.answer,
                        answered_on: i.answered_on.map(|d| d.to_string()),
                    })
                    .collect(),
            })
            .collect::<Vec<_>>())
    })
    .await
}

/// Asks each finding's device vendor (one inquiry per vendor); the findings move to 事業者確認中.
#[utoipa::path(post, path = "/api/v1/inquiries",
    request_body = InquiryRequest,
    responses((status = 200, body = [Opened]), (status = 400, body = ApiError), (status = 403, body = ApiError)),
    security(("bearer" = [])))]
pub(crate) async fn open_inquiries(
    State(state): State<WebState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let req: InquiryRequest = match body_of(&body, "InquiryRequest") {
        Ok(r) => r,
        Err(r) => return *r,
    };
    with_token(&state, &headers, move |app| {
        if req.findings.is_empty() {
            return Err(AppError::bad_value(
                "findings",
                "所見の番号を 1 つ以上指定してください",
                "name at least one finding",
            ));
        }
        let opened = app.open_inquiries(
            &mamori_app::remediation::Findings::Ids(req.findings),
            &req.question,
        )?;
        Ok(opened
            .into_iter()
            .map(|(vendor, inquiry)| Opened { vendor, inquiry })
            .collect::<Vec<_>>())
    })
    .await
}

/// Records a vendor's answer about one finding of an inquiry (the checks of a returned sheet).
#[utoipa::path(post, path = "/api/v1/inquiries/{id}/answers",
    params(("id" = i64, Path, description = "inquiry id")),
    request_body = AnswerRequest,
    responses((status = 200, body = AnswerResult), (status = 400, body = ApiError), (status = 403, body = ApiError)),
    security(("bearer" = [])))]
pub(crate) async fn answer_inquiry(
    State(state): State<WebState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> Response {
    let req: AnswerRequest = match body_of(&body, "AnswerRequest") {
        Ok(r) => r,
        Err(r) => return *r,
    };
    with_token(&state, &headers, move |app| {
        let row = mamori_ledger::inquiry::AnswerRow {
            row: 0,
            inquiry: id.to_string(),
            finding: req.finding.to_string(),
            verdict: req.verdict,
            conditions: req.conditions.unwrap_or_default(),
            answer: req.answer.unwrap_or_default(),
            answered_on: req.answered_on.unwrap_or_default(),
        };
        let r = app.record_answers(&format!("#{id}"), &[row])?;
        Ok(AnswerResult {
            answered: r.answered,
            completed: r.completed,
        })
    })
    .await
}

/// A feed source's status.
#[derive(Serialize, ToSchema)]
pub struct FeedDto {
    /// `nvd`, `jvn`, `kev`, `epss`, `csaf`…
    pub source: String,
    /// Records stored from it.
    pub records: i64,
    /// Last successful import or sync (RFC 3339).
    pub last_success: Option<String>,
    /// Whether that was more than 7 days ago (or never).
    pub stale: bool,
    /// The last error, if any.
    pub last_error: Option<String>,
}

/// The vulnerability feeds' freshness (フィード状態).
#[utoipa::path(get, path = "/api/v1/feeds",
    responses((status = 200, body = [FeedDto]), (status = 401, body = ApiError)),
    security(("bearer" = [])))]
pub(crate) async fn list_feeds(State(state): State<WebState>, headers: HeaderMap) -> Response {
    with_token(&state, &headers, move |app| {
        let now = chrono::Utc::now();
        Ok(app
            .feed_status()?
            .into_iter()
            .map(|f| FeedDto {
                stale: f
                    .last_success
                    .is_none_or(|t| (now - t).num_days() > crate::info_pages::STALE_DAYS),
                source: f.source,
                records: f.records,
                last_success: f.last_success.map(|t| t.to_rfc3339()),
                last_error: f
                    .last_error
                    .map(|(at, e)| format!("{} {e}", at.to_rfc3339())),
            })
            .collect::<Vec<_>>())
    })
    .await
}

/// A vulnerability search hit.
#[derive(Serialize, ToSchema)]
pub struct VulnHit {
    /// CVE, JVNDB or other id.
    pub id: String,
    /// Where the record came from.
    pub source: String,
    /// The highest CVSS base score.
    pub cvss: Option<f64>,
    /// In CISA KEV.
    pub kev: bool,
    /// Title or description (Japanese with `Accept-Language: ja`).
    pub text: Option<String>,
}

/// Searches vulnerability records by id, alias or keyword.
#[utoipa::path(get, path = "/api/v1/vulns",
    params(
        ("q" = String, Query, description = "CVE or JVNDB id, or keywords"),
        ("limit" = Option<usize>, Query, description = "at most this many (1–500, default 100)"),
    ),
    responses((status = 200, body = [VulnHit]), (status = 400, body = ApiError)),
    security(("bearer" = [])))]
pub(crate) async fn search_vulns(
    State(state): State<WebState>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let lang = lang_of(&headers);
    let (_, limit) = window(&q);
    let text = q.get("q").map(|t| t.trim().to_string()).unwrap_or_default();
    with_token(&state, &headers, move |app| {
        if text.is_empty() {
            return Err(AppError::bad_value(
                "q",
                "検索語を指定してください (q)",
                "give the search text (q)",
            ));
        }
        Ok(app
            .search_vulnerabilities(&text, lang, limit as i64)?
            .into_iter()
            .map(|h| VulnHit {
                id: h.id,
                source: h.source,
                cvss: h.max_cvss.map(|(_, s)| s),
                kev: h.kev,
                text: h.text,
            })
            .collect::<Vec<_>>())
    })
    .await
}
