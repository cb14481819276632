//! The pages. HTML is written with maud, which escapes every value; there is no script.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chrono::Datelike;
use mamori_app::findings::FindingQuery;
use mamori_app::App;
use mamori_core::{AssetKind, AssetStatus, Labelled, Lang, Level};
use mamori_store::Finding;
use maud::{html, Markup, DOCTYPE};
use serde::Deserialize;

use crate::session::{same, token, Session};
use crate::{
    app_error, cookie, error_page, lang_of, session_of, set_cookie, with_app, WebState,
    LANG_COOKIE, PRE_COOKIE, SESSION_COOKIE,
};

/// Rows per page of the lists.
pub const PAGE_SIZE: usize = 50;

pub(crate) fn layout(lang: Lang, title: &str, session: Option<&Session>, body: Markup) -> Markup {
    page(lang, title, session, false, body)
}

/// A page that reloads itself every two seconds (work in progress), without script.
pub(crate) fn layout_refreshing(
    lang: Lang,
    title: &str,
    session: Option<&Session>,
    body: Markup,
) -> Markup {
    page(lang, title, session, true, body)
}

fn page(lang: Lang, title: &str, session: Option<&Session>, refresh: bool, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(if lang == Lang::Ja { "ja" } else { "en" }) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                @if refresh { meta http-equiv="refresh" content="2"; }
                title { (title) " — mamori" }
                link rel="stylesheet" href="/static/mamori.css";
            }
            body {
                header {
                    span.brand { "mamori 守り" }
                    @if let Some(s) = session.filter(|s| s.vendor_only) {
                        nav {
                            a href="/vendor" { (lang.pick("自社の機器と照会", "Your devices and inquiries")) }
                        }
                        span.user { (s.user) }
                        form.inline method="post" action="/logout" {
                            input type="hidden" name="csrf" value=(s.csrf);
                            button type="submit" { (lang.pick("ログアウト", "Log out")) }
                        }
                    } @else if let Some(s) = session {
                        nav {
                            a href="/" { (lang.pick("ダッシュボード", "Dashboard")) }
                            a href="/ledger" { (lang.pick("機器台帳", "Device ledger")) }
                            a href="/findings" { (lang.pick("対応状況", "Findings")) }
                            a href="/vulns" { (lang.pick("脆弱性", "Vulnerabilities")) }
                            a href="/inquiries" { (lang.pick("事業者確認", "Vendor inquiries")) }
                            a href="/scans" { (lang.pick("スキャン", "Scans")) }
                            a href="/safe-use" { (lang.pick("安全利用チェック", "Safe use")) }
                            a href="/hours" { (lang.pick("稼働時間", "Hours")) }
                            a href="/audit" { (lang.pick("監査ログ", "Audit log")) }
                            a href="/feeds" { (lang.pick("フィード状態", "Feeds")) }
                            a href="/users" { (lang.pick("ユーザー管理", "Users")) }
                            a href="/jobs" { (lang.pick("処理", "Jobs")) }
                        }
                        span.user { (s.user) }
                        form.inline method="post" action="/logout" {
                            input type="hidden" name="csrf" value=(s.csrf);
                            button type="submit" { (lang.pick("ログアウト", "Log out")) }
                        }
                    }
                    span.lang {
                        a href="/lang/ja" lang="ja" { "日本語" } " | " a href="/lang/en" lang="en" { "English" }
                    }
                }
                main {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

pub(crate) fn error_markup(lang: Lang, status: StatusCode, text: &str) -> Markup {
    layout(
        lang,
        &format!(
            "{} {}",
            status.as_u16(),
            status.canonical_reason().unwrap_or("")
        ),
        None,
        html! { p.error role="alert" { (text) } p { a href="/" { (lang.pick("トップへ", "Back to the start")) } } },
    )
}

pub(crate) async fn not_found(headers: HeaderMap) -> Response {
    let lang = lang_of(&headers);
    error_page(
        lang,
        StatusCode::NOT_FOUND,
        Some(lang.pick("ページがありません", "no such page").into()),
    )
}

pub(crate) async fn set_lang(Path(code): Path<String>) -> Response {
    let value = if code == "en" { "en" } else { "ja" };
    (
        [(
            header::SET_COOKIE,
            format!("{LANG_COOKIE}={value}; Path=/; SameSite=Strict; Max-Age=31536000"),
        )],
        Redirect::to("/"),
    )
        .into_response()
}

// --- login, logout, password --------------------------------------------------------------

fn login_form(lang: Lang, pre: &str, message: Option<&str>) -> Markup {
    layout(
        lang,
        lang.pick("ログイン", "Log in"),
        None,
        html! {
            @if let Some(m) = message { p.error role="alert" { (m) } }
            form.login method="post" action="/login" {
                input type="hidden" name="csrf" value=(pre);
                label { (lang.pick("利用者名", "User name")) input type="text" name="username" autocomplete="username" required autofocus; }
                label { (lang.pick("パスワード", "Password")) input type="password" name="password" autocomplete="current-password" required; }
                button type="submit" { (lang.pick("ログイン", "Log in")) }
            }
        },
    )
}

pub(crate) async fn login_page(State(state): State<WebState>, headers: HeaderMap) -> Response {
    let lang = lang_of(&headers);
    if session_of(&state, &headers).is_some() {
        return Redirect::to("/").into_response();
    }
    let pre = token();
    let mut r = login_form(lang, &pre, None).into_response();
    if let Ok(v) = set_cookie(&state, PRE_COOKIE, &pre, Some(1800)).parse() {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

#[derive(Deserialize)]
pub(crate) struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
}

pub(crate) async fn login(
    State(state): State<WebState>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let lang = lang_of(&headers);
    // The form must carry the token of the cookie set with it (no cross-site logins).
    let pre = cookie(&headers, PRE_COOKIE).unwrap_or("").to_string();
    if pre.is_empty() || !same(&pre, &form.csrf) {
        return error_page(
            lang,
            StatusCode::FORBIDDEN,
            Some(
                lang.pick(
                    "フォームの有効期限が切れました。もう一度ログインしてください",
                    "the form expired; log in again",
                )
                .into(),
            ),
        );
    }
    let fresh = token();
    let refuse = |state: &WebState, text: &str| {
        let mut r = (
            StatusCode::UNAUTHORIZED,
            login_form(lang, &fresh, Some(text)),
        )
            .into_response();
        if let Ok(v) = set_cookie(state, PRE_COOKIE, &fresh, Some(1800)).parse() {
            r.headers_mut().insert(header::SET_COOKIE, v);
        }
        r
    };
    let user = form.username.trim().to_string();
    if state.sessions.locked_out(&user) {
        return refuse(
            &state,
            lang.pick(
                "ログインの失敗が続いたため、しばらくこの利用者ではログインできません (15 分)",
                "too many failed logins: this user name is locked for a while (15 minutes)",
            ),
        );
    }
    let dir = state.data_dir.clone();
    let (u, p) = (user.clone(), form.password.clone());
    let outcome = tokio::task::spawn_blocking(move || {
        App::login(&dir, &u, &p)
            .map(|app| (app.must_change_password(), app.vendor_company().is_some()))
    })
    .await;
    match outcome {
        Ok(Ok((must_change, vendor_only))) => {
            state.sessions.succeeded(&user);
            // A new session token at every login: none from before is ever reused.
            if let Some(old) = cookie(&headers, SESSION_COOKIE) {
                state.sessions.end(old);
            }
            let id = state.sessions.start(&user, must_change, vendor_only);
            let to = match (must_change, vendor_only) {
                (true, _) => "/password",
                (false, true) => "/vendor",
                (false, false) => "/",
            };
            let mut r = Redirect::to(to).into_response();
            let h = r.headers_mut();
            for c in [
                set_cookie(&state, SESSION_COOKIE, &id, None),
                set_cookie(&state, PRE_COOKIE, "", Some(0)),
            ] {
                if let Ok(v) = c.parse() {
                    h.append(header::SET_COOKIE, v);
                }
            }
            r
        }
        Ok(Err(mamori_app::AppError::LoginFailed)) => {
            state.sessions.failed(&user);
            refuse(&state, &mamori_app::AppError::LoginFailed.message(lang))
        }
        Ok(Err(e)) => app_error(lang, &e),
        Err(_) => error_page(lang, StatusCode::INTERNAL_SERVER_ERROR, None),
    }
}

#[derive(Deserialize)]
pub(crate) struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// The session of a state-changing request whose form carries the session's CSRF token.
pub(crate) fn checked(
    state: &WebState,
    headers: &HeaderMap,
    csrf: &str,
) -> Result<(String, Session), Box<Response>> {
    let lang = lang_of(headers);
    let Some((id, s)) = session_of(state, headers) else {
        return Err(Box::new(Redirect::to("/login").into_response()));
    };
    if !same(&s.csrf, csrf) {
        return Err(Box::new(error_page(
            lang,
            StatusCode::FORBIDDEN,
            Some(
                lang.pick(
                    "不正な要求です (CSRF トークンが一致しません)",
                    "forbidden: the request's CSRF token does not match",
                )
                .into(),
            ),
        )));
    }
    Ok((id, s))
}

pub(crate) async fn logout(
    State(state): State<WebState>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    match checked(&state, &headers, &form.csrf) {
        Ok((id, _)) => {
            state.sessions.end(&id);
            let mut r = Redirect::to("/login").into_response();
            if let Ok(v) = set_cookie(&state, SESSION_COOKIE, "", Some(0)).parse() {
                r.headers_mut().insert(header::SET_COOKIE, v);
            }
            r
        }
        Err(r) => *r,
    }
}

fn password_form(lang: Lang, s: &Session, message: Option<&str>) -> Markup {
    layout(
        lang,
        lang.pick("パスワードの変更", "Change your password"),
        Some(s),
        html! {
            @if s.must_change_password {
                p { (lang.pick("初回ログインです。続ける前にパスワードを変更してください (13 文字以上)。", "This is a first login: change your password before going on (13 characters or more).")) }
            }
            @if let Some(m) = message { p.error role="alert" { (m) } }
            form.login method="post" action="/password" {
                input type="hidden" name="csrf" value=(s.csrf);
                label { (lang.pick("新しいパスワード", "New password")) input type="password" name="new" autocomplete="new-password" minlength="13" required; }
                label { (lang.pick("もう一度", "Again")) input type="password" name="again" autocomplete="new-password" minlength="13" required; }
                button type="submit" { (lang.pick("変更", "Change")) }
            }
        },
    )
}

pub(crate) async fn password_page(State(state): State<WebState>, headers: HeaderMap) -> Response {
    let lang = lang_of(&headers);
    match session_of(&state, &headers) {
        Some((_, s)) => password_form(lang, &s, None).into_response(),
        None => Redirect::to("/login").into_response(),
    }
}

#[derive(Deserialize)]
pub(crate) struct PasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    again: String,
}

pub(crate) async fn password(
    State(state): State<WebState>,
    headers: HeaderMap,
    Form(form): Form<PasswordForm>,
) -> Response {
    let lang = lang_of(&headers);
    let (id, s) = match checked(&state, &headers, &form.csrf) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    if form.new != form.again {
        let text = lang.pick("2 つの入力が一致しません", "the two entries differ");
        return (StatusCode::BAD_REQUEST, password_form(lang, &s, Some(text))).into_response();
    }
    let dir = state.data_dir.clone();
    let user = s.user.clone();
    let new = form.new.clone();
    let out = tokio::task::spawn_blocking(move || {
        let mut app = App::resume(&dir, &user)?;
        app.set_user_password(&user, Some(&new)).map(|_| ())
    })
    .await;
    match out {
        Ok(Ok(())) => {
            state.sessions.password_changed(&id);
            Redirect::to("/").into_response()
        }
        Ok(Err(e)) if e.is_user_error() => (
            StatusCode::BAD_REQUEST,
            password_form(lang, &s, Some(&e.message(lang))),
        )
            .into_response(),
        Ok(Err(e)) => app_error(lang, &e),
        Err(_) => error_page(lang, StatusCode::INTERNAL_SERVER_ERROR, None),
    }
}

// --- dashboard ----------------------------------------------------------------------------

pub(crate) async fn dashboard(State(state): State<WebState>, headers: HeaderMap) -> Response {
    let lang = lang_of(&headers);
    if session_of(&state, &headers).is_some_and(|(_, s)| s.vendor_only && !s.must_change_password) {
        return Redirect::to("/vendor").into_response();
    }
    let st = state.clone();
    let out = with_app(&state, &headers, move |app| crate::summary(&st, app)).await;
    let (s, (d, feeds)) = match out {
        Ok(x) => x,
        Err(r) => return r,
    };
    let days: Vec<chrono::NaiveDate> = d.trend.iter().map(|t| t.0).collect();
    let now = chrono::Utc::now();
    let stale: Vec<&mamori_store::FeedStatus> = feeds
        .iter()
        .filter(|f| {
            f.last_success
                .is_none_or(|t| (now - t).num_days() > crate::info_pages::STALE_DAYS)
        })
        .collect();
    let newest = feeds.iter().filter_map(|f| f.last_success).max();
    let check = |c: &str| d.by_check.get(c).copied().unwrap_or(0);
    let by_level: Vec<(Level, usize)> = [Level::Urgent, Level::High, Level::Medium, Level::Low]
        .into_iter()
        .map(|l| (l, d.by_level.get(l.code()).copied().unwrap_or(0)))
        .collect();
    let default_passwords = check("8.3:default_credential") + check("8.3:no_auth");
    let card = |label: &str, n: usize, href: &str| {
        html! { a.card href=(href) { span.n { (n) } span.label { (label) } } }
    };
    layout(
        lang,
        lang.pick("ダッシュボード", "Dashboard"),
        Some(&s),
        html! {
            section.cards {
                (card(lang.pick("未対応の脆弱性 (8.2)", "Open vulnerabilities (8.2)"), d.vulnerabilities, "/findings?category=8.2"))
                (card(lang.pick("安全利用の所見 (8.3)", "Safe-use findings (8.3)"), d.safe_use, "/findings?category=8.3"))
                (card(lang.pick("KEV 掲載", "In KEV"), d.kev, "/findings?kev=1"))
                (card(lang.pick("対応期限超過", "Overdue"), d.overdue, "/findings?overdue=1"))
                (card(lang.pick("未登録機器", "Unregistered devices"), check("8.3:unregistered"), "/findings?category=8.3"))
                (card(lang.pick("出荷時パスワード・認証なし", "Default passwords, no authentication"), default_passwords, "/findings?category=8.3"))
                (card(lang.pick("稼働時間外の稼働", "Running outside hours"), check("8.3:out_of_hours"), "/findings?category=8.3"))
                (card(lang.pick("サポート終了 (EOS) の機器", "Devices past end of support"), d.past_eos, "/ledger"))
            }
            h2 { (lang.pick("緊急度別の未対応", "Open findings by level")) }
            table.levels {
                thead { tr { th { (lang.pick("緊急度", "Level")) } th { (lang.pick("件数", "Findings")) } } }
                tbody {
                    @for (l, n) in &by_level {
                        tr { td { a href={ "/findings?level=" (l.code()) } { (l.label(lang)) } } td.num { (n) } }
                    }
                }
            }
            p { (lang.pick("台帳の機器 (廃棄済を除く): ", "Devices in the ledger (not retired): ")) (d.devices) }
            h2 { (lang.pick("未対応の推移 (90 日)", "Open findings over 90 days")) }
            (crate::charts::lines(
                lang.pick("未対応の所見の推移", "Open findings over time"),
                &days,
                &[
                    (lang.pick("脆弱性 (8.2)", "Vulnerabilities (8.2)"), "s82", d.trend.iter().map(|t| t.1).collect()),
                    (lang.pick("安全利用 (8.3)", "Safe use (8.3)"), "s83", d.trend.iter().map(|t| t.2).collect()),
                ],
            ))
            h2 { (lang.pick("脆弱性情報の鮮度", "Freshness of the vulnerability information")) }
            p {
                @if feeds.is_empty() {
                    span.error { (lang.pick("脆弱性情報がまだ取り込まれていません", "no vulnerability information imported yet")) }
                } @else if stale.is_empty() {
                    span.ok { (lang.pick("すべての情報源が最新です", "every source is up to date")) }
                } @else {
                    span.error { (lang.pick("古い情報源: ", "stale sources: ")) (stale.iter().map(|f| f.source.as_str()).collect::<Vec<_>>().join(", ")) }
                }
                @if let Some(t) = newest { " — " (lang.pick("最終取込 ", "last import ")) (t.with_timezone(&chrono::Local).format("%Y-%m-%d %H:%M")) }
                " " a href="/feeds" { (lang.pick("フィード状態", "Feed status")) }
            }
        },
    )
    .into_response()
}

// --- ledger -------------------------------------------------------------------------------

pub(crate) fn page_of(q: &HashMap<String, String>) -> usize {
    q.get("page")
        .and_then(|p| p.parse::<usize>().ok())
        .filter(|p| *p >= 1)
        .unwrap_or(1)
}

pub(crate) fn pager(lang: Lang, base: &str, page: usize, total: usize) -> Markup {
    let pages = total.div_ceil(PAGE_SIZE).max(1);
    html! {
        nav.pager aria-label=(lang.pick("ページ", "pages")) {
            @if page > 1 { a href={ (base) "page=" (page - 1) } rel="prev" { (lang.pick("← 前", "← previous")) } }
            span { (page) " / " (pages) " (" (total) (lang.pick(" 件", " rows")) ")" }
            @if page < pages { a href={ (base) "page=" (page + 1) } rel="next" { (lang.pick("次 →", "next →")) } }
        }
    }
}

/// `?a=b&` for the filters kept across pages (values percent-encoded).
pub(crate) fn keep(q: &HashMap<String, String>, keys: &[&str]) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for k in keys {
        if let Some(v) = q.get(*k).filter(|v| !v.is_empty()) {
            query.append_pair(k, v);
        }
    }
    let query = query.finish();
    if query.is_empty() {
        "?".into()
    } else {
        format!("?{query}&")
    }
}

pub(crate) async fn ledger(
    State(state): State<WebState>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let lang = lang_of(&headers);
    let filter = crate::asset_filter(&q);
    let sort = crate::asset_sort(&q);
    let page = page_of(&q);
    let out = with_app(&state, &headers, move |app| {
        app.assets_page(&filter, sort, (page - 1) * PAGE_SIZE, PAGE_SIZE)
    })
    .await;
    let (s, (total, assets)) = match out {
        Ok(x) => x,
        Err(r) => return r,
    };
    let rows = assets.iter();
    let search = q.get("q").cloned().unwrap_or_default();
    layout(
        lang,
        lang.pick("機器台帳", "Device ledger"),
        Some(&s),
        html! {
            form.filters method="get" action="/ledger" role="search" {
                label { (lang.pick("検索", "Search")) input type="search" name="q" value=(search); }
                label { (lang.pick("機器種別", "Kind"))
                    select name="kind" {
                        option value="" { (lang.pick("すべて", "all")) }
                        @for k in AssetKind::ALL {
                            option value=(k.code()) selected[q.get("kind").map(String::as_str) == Some(k.code())] { (k.label(lang)) }
                        }
                    }
                }
                label { (lang.pick("状態", "Status"))
                    select name="status" {
                        option value="" { (lang.pick("すべて", "all")) }
                        @for k in AssetStatus::ALL {
                            option value=(k.code()) selected[q.get("status").map(String::as_str) == Some(k.code())] { (k.label(lang)) }
                        }
                    }
                }
                button type="submit" { (lang.pick("絞り込み", "Filter")) }
            }
            table.list {
                thead { tr {
                    (sort_th(lang.pick("管理番号", "Asset ID"), "asset_id", &q, sort))
                    (sort_th(lang.pick("機器名", "Name"), "name", &q, sort))
                    (sort_th(lang.pick("機器種別", "Kind"), "kind", &q, sort))
                    (sort_th(lang.pick("部署", "Department"), "department", &q, sort))
                    th { (lang.pick("IPアドレス", "IP address")) }
                    (sort_th("OS", "os", &q, sort))
                    (sort_th(lang.pick("状態", "Status"), "status", &q, sort))
                } }
                tbody {
                    @for a in rows {
                        tr {
                            td { a href={ "/ledger/" (path_segment(&a.asset.asset_id)) } { (a.asset.asset_id) } }
                            td { (a.asset.name) }
                            td { (a.asset.kind.label(lang)) }
                            td { (a.asset.department.as_deref().unwrap_or("")) }
                            td { (a.asset.ip.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(", ")) }
                            td { (a.asset.os.as_deref().unwrap_or("")) " " (a.asset.os_version.as_deref().unwrap_or("")) }
                            td { (a.asset.status.label(lang)) }
                        }
                    }
                }
            }
            (pager(lang, &format!("/ledger{}", keep(&q, &["q", "kind", "status", "department", "sort", "dir"])), page, total))
            p.downloads {
                a href="/ledger/import" { (lang.pick("台帳の取込 (Excel・CSV)", "Import a ledger (Excel, CSV)")) }
                " | "

                (lang.pick("書き出し: ", "Export: "))
                a href={ "/ledger/download/export.xlsx" (keep(&q, &["q", "kind", "status", "department"])) } { "Excel (.xlsx)" }
                " | "
                a href={ "/ledger/download/export.csv" (keep(&q, &["q", "kind", "status", "department"])) } { "CSV (UTF-8)" }
                " | "
                a href={ "/ledger/download/export.csv" (keep(&q, &["q", "kind", "status", "department"])) "encoding=cp932" } { "CSV (Shift_JIS)" }
            }
        },
    )
    .into_response()
}

/// A sortable column's header: a link that sorts by it (again: the other way), with
/// `aria-sort` on the column the list is sorted by.
fn sort_th(
    label: &str,
    code: &str,
    q: &HashMap<String, String>,
    sort: mamori_store::AssetSort,
) -> Markup {
    let current = sort.by.code() == code;
    let next_desc = current && !sort.desc;
    let mut link = keep(q, &["q", "kind", "status", "department"]);
    link.push_str(&format!(
        "sort={code}{}",
        if next_desc { "&dir=desc" } else { "" }
    ));
    let aria = match (current, sort.desc) {
        (false, _) => "none",
        (true, false) => "ascending",
        (true, true) => "descending",
    };
    html! {
        th aria-sort=(aria) {
            a href={ "/ledger" (link) } { (label) @if current { (if sort.desc { " ▼" } else { " ▲" }) } }
        }
    }
}

/// A 管理番号 as a URL path segment.
pub(crate) fn path_segment(id: &str) -> String {
    percent_encoding::utf8_percent_encode(id, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// A findings table; with `form`, each row has a checkbox (`id`) belonging to that form.
pub(crate) fn findings_table(lang: Lang, list: &[&Finding], form: Option<&str>) -> Markup {
    html! {
        table.list {
            thead { tr {
                @if form.is_some() { th { span.visually-hidden { (lang.pick("選択", "Select")) } } }
                th { "#" } th { (lang.pick("緊急度", "Level")) } th { (lang.pick("管理番号", "Asset ID")) }
                th { (lang.pick("機器名", "Name")) } th { (lang.pick("構成要素", "Component")) }
                th { (lang.pick("脆弱性・所見", "Vulnerability or check")) } th { "KEV" }
                th { (lang.pick("対応状況", "Remediation")) }
            } }
            tbody {
                @for f in list {
                    tr {
                        @if let Some(form) = form {
                            td { input type="checkbox" name="id" value=(f.id) form=(form) aria-label={ (lang.pick("選択 #", "Select #")) (f.id) }; }
                        }
                        td { a href={ "/findings/" (f.id) } { (f.id) } }
                        td { (Level::parse(&f.level).map(|l| l.label(lang)).unwrap_or("")) }
                        td { @if !f.asset_id.is_empty() { a href={ "/ledger/" (path_segment(&f.asset_id)) } { (f.asset_id) } } }
                        td { (f.asset_name) }
                        td { (f.component) }
                        td { (vuln_label(lang, &f.vuln)) }
                        td { @if f.kev { "KEV" } }
                        td { (mamori_core::remediation::Remediation::parse(&f.state).map(|r| r.label(lang)).unwrap_or("")) }
                    }
                }
            }
        }
    }
}

pub(crate) fn vuln_label(lang: Lang, vuln: &str) -> String {
    match mamori_core::scan::Check83::from_finding_id(vuln) {
        Some(c) => format!("8.3 {}", c.label(lang)),
        None => vuln.to_string(),
    }
}

pub(crate) async fn device(
    State(state): State<WebState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let lang = lang_of(&headers);
    let asset_id = id.clone();
    let out = with_app(&state, &headers, move |app| {
        let (stored, history) = app.show_asset(&asset_id)?;
        let findings = app.findings(&FindingQuery {
            asset: Some(asset_id.clone()),
            ..FindingQuery::default()
        })?;
        let components = app.asset_components(&asset_id)?;
        let may_edit = mamori_core::access::any_allows(
            app.roles(),
            mamori_core::access::Permission::EditLedger,
        );
        let attested = (
            app.attestation_states(Some(&asset_id))?,
            app.asset_scans(&asset_id)?,
        );
        let sla = app.sla()?;
        let due: Vec<chrono::NaiveDate> = findings
            .iter()
            .map(|f| mamori_app::findings::due_date(f, &sla))
            .collect();
        Ok((
            stored,
            history,
            (findings, due),
            components,
            may_edit,
            attested,
        ))
    })
    .await;
    let (s, (stored, history, (findings, due), components, may_edit, attested)) = match out {
        Ok(x) => x,
        Err(r) => return r,
    };
    let a = &stored.asset;
    let field = |label: &str, value: String| html! { tr { th { (label) } td { (value) } } };
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    let listed: Vec<&Finding> = findings.iter().collect();
    layout(
        lang,
        &format!("{} {}", a.asset_id, a.name),
        Some(&s),
        html! {
            @if may_edit {
                p.actions { a href={ "/ledger/" (path_segment(&a.asset_id)) "/edit" } { (lang.pick("この機器を編集", "Edit this device")) } }
            }
            table.fields {
                (field(lang.pick("管理番号", "Asset ID"), a.asset_id.clone()))
                (field(lang.pick("機器名", "Name"), a.name.clone()))
                (field(lang.pick("機器種別", "Kind"), a.kind.label(lang).to_string()))
                (field(lang.pick("状態", "Status"), a.status.label(lang).to_string()))
                (field(lang.pick("部署", "Department"), opt(&a.department)))
                (field(lang.pick("設置場所", "Location"), opt(&a.location)))
                (field(lang.pick("製造元", "Manufacturer"), opt(&a.manufacturer)))
                (field(lang.pick("型番", "Model"), opt(&a.model)))
                (field("OS", format!("{} {}", opt(&a.os), opt(&a.os_version))))
                (field(lang.pick("IPアドレス", "IP address"), a.ip.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(", ")))
                (field(lang.pick("保守事業者", "Maintenance vendor"), opt(&a.vendor)))
                (field(lang.pick("サポート終了日", "End of support"), a.eos_date.map(|d| format!("{}-{:02}-{:02}", d.year(), d.month(), d.day())).unwrap_or_default()))
                (field(lang.pick("起動時パスワード", "Start-up password"), a.boot_password.map(|v| v.label(lang).to_string()).unwrap_or_default()))
                (field(lang.pick("出荷時パスワード変更", "Default password changed"), a.default_password_changed.map(|v| v.label(lang).to_string()).unwrap_or_default()))
            }
            h2 { (lang.pick("未対応の所見", "Open findings")) " (" (findings.len()) ")" }
            (findings_table(lang, &listed, None))
            @if let Some(first) = findings.iter().zip(&due).min_by_key(|(_, d)| **d) {
                p { (lang.pick("最も早い対応期限: ", "Earliest due date: ")) (first.1) " (#" (first.0.id) ")" }
            }
            h2 { (lang.pick("スキャン (直近 20 回)", "Scans (the latest 20)")) }
            @if attested.1.is_empty() { p { (lang.pick("この機器を見たスキャンはありません", "no scan has seen this device")) } }
            @else {
                table.list {
                    thead { tr { th { "#" } th { (lang.pick("日時", "When")) } th { (lang.pick("アドレス", "Address")) } th { (lang.pick("応答", "Up")) } th { (lang.pick("開いたポート", "Open ports")) } } }
                    tbody {
                        @for (id, at, h) in &attested.1 {
                            tr {
                                td { a href={ "/scans/" (id) } { (id) } }
                                td { (at.with_timezone(&chrono::Local).format("%Y-%m-%d %H:%M")) }
                                td { (h.addr) }
                                td { (if h.up { lang.pick("あり", "yes") } else { lang.pick("なし", "no") }) }
                                td { (h.result.open_ports().map(|p| format!("{}/{}", p.port, p.transport.code())).collect::<Vec<_>>().join(", ")) }
                            }
                        }
                    }
                }
            }
            h2 { (lang.pick("初期設定の確認 (8.3)", "Initial settings attested (8.3)")) }
            table.list {
                thead { tr { th { (lang.pick("項目", "Item")) } th { (lang.pick("回答", "Answer")) } th { (lang.pick("確認者", "By")) } th { (lang.pick("確認日", "On")) } th { (lang.pick("再確認期限", "Due")) } th { (lang.pick("状態", "State")) } th { (lang.pick("根拠", "Evidence")) } } }
                tbody {
                    @for a in &attested.0 {
                        tr {
                            td { (mamori_core::attest::AttestItem::parse(&a.item).map(|i| i.label(lang)).unwrap_or("")) }
                            td { (a.value.as_deref().and_then(mamori_core::attest::AttestValue::parse).map(|v| v.label(lang)).unwrap_or("—")) }
                            td { (a.actor.as_deref().unwrap_or("")) }
                            td { (a.date.map(|d| d.to_string()).unwrap_or_default()) }
                            td { (a.due.map(|d| d.to_string()).unwrap_or_default()) }
                            td { (attest_state_label(lang, &a.state, false)) }
                            td { (a.evidence.as_deref().unwrap_or("")) }
                        }
                    }
                }
            }
            h2 { (lang.pick("構成品", "Components")) " (" (components.len()) ")" }
            ul.components {
                @for (source, c) in components.iter().take(200) {
                    li { "[" (source) "] " (c.name) " " (c.version.as_deref().unwrap_or("")) " " (c.cpe.as_deref().or(c.purl.as_deref()).unwrap_or("")) }
                }
            }
            h2 { (lang.pick("状態の履歴", "Status history")) }
            ul {
                @for c in &history {
                    li { (c.at.format("%Y-%m-%d %H:%M")) " " (c.from.map(|f| f.label(lang)).unwrap_or("—")) " → " (c.to.label(lang)) " " (c.actor) " " (c.reason.as_deref().unwrap_or("")) }
                }
            }
        },
    )
    .into_response()
}

// --- findings -----------------------------------------------------------------------------

pub(crate) async fn findings(
    State(state): State<WebState>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let lang = lang_of(&headers);
    let query = FindingQuery {
        kev: q.get("kev").is_some_and(|v| v == "1"),
        overdue: q.get("overdue").is_some_and(|v| v == "1"),
        min_level: q.get("level").and_then(|l| Level::parse(l)),
        category: q
            .get("category")
            .filter(|c| *c == "8.2" || *c == "8.3")
            .cloned(),
        department: q.get("department").filter(|d| !d.is_empty()).cloned(),
        ..FindingQuery::default()
    };
    let page = page_of(&q);
    let st = state.clone();
    let out = with_app(&state, &headers, move |app| {
        let page = crate::findings_page(&st, app, &query, (page - 1) * PAGE_SIZE, PAGE_SIZE)?;
        let roles = app.roles();
        let may = |p| mamori_core::access::any_allows(roles, p);
        Ok((
            page,
            may(mamori_core::access::Permission::Triage),
            may(mamori_core::access::Permission::RunMatch),
        ))
    })
    .await;
    let (s, ((total, list), may_triage, may_match)) = match out {
        Ok(x) => x,
        Err(r) => return r,
    };
    let shown: Vec<&Finding> = list.iter().collect();
    layout(
        lang,
        lang.pick("対応状況", "Findings"),
        Some(&s),
        html! {
            form.filters method="get" action="/findings" {
                label { (lang.pick("緊急度 (以上)", "Level (at least)"))
                    select name="level" {
                        option value="" { (lang.pick("すべて", "all")) }
                        @for l in [Level::Urgent, Level::High, Level::Medium, Level::Low] {
                            option value=(l.code()) selected[q.get("level").map(String::as_str) == Some(l.code())] { (l.label(lang)) }
                        }
                    }
                }
                label { (lang.pick("区分", "Category"))
                    select name="category" {
                        option value="" { (lang.pick("すべて", "all")) }
                        option value="8.2" selected[q.get("category").map(String::as_str) == Some("8.2")] { (lang.pick("脆弱性 (8.2)", "vulnerabilities (8.2)")) }
                        option value="8.3" selected[q.get("category").map(String::as_str) == Some("8.3")] { (lang.pick("安全利用 (8.3)", "safe use (8.3)")) }
                    }
                }
                label.check { input type="checkbox" name="kev" value="1" checked[q.get("kev").is_some_and(|v| v == "1")]; "KEV" }
                label.check { input type="checkbox" name="overdue" value="1" checked[q.get("overdue").is_some_and(|v| v == "1")]; (lang.pick("期限超過", "overdue")) }
                button type="submit" { (lang.pick("絞り込み", "Filter")) }
            }
            (findings_table(lang, &shown, may_triage.then_some("bulk")))
            (pager(lang, &format!("/findings{}", keep(&q, &["level", "category", "kev", "overdue", "department"])), page, total))
            @if may_triage {
                form #bulk .stack method="post" action="/findings/bulk" {
                    (crate::work_pages::bulk_form(lang, &s, &format!("/findings{}page={page}", keep(&q, &["level", "category", "kev", "overdue", "department"]))))
                }
            }
            @if may_match {
                form.inline method="post" action="/match" {
                    input type="hidden" name="csrf" value=(s.csrf);
                    button type="submit" name="mode" value="incremental" { (lang.pick("突合を実行 (差分)", "Run matching (changes)")) }
                    " "
                    button type="submit" name="mode" value="full" { (lang.pick("突合を実行 (全件)", "Run matching (everything)")) }
                }
            }
        },
    )
    .into_response()
}

// --- one finding: its history, state changes, exceptions ----------------------------------

pub(crate) async fn finding(
    State(state): State<WebState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Response {
    use mamori_core::remediation::{transition, Justification, Measure, Remediation, ResidualRisk};
    let lang = lang_of(&headers);
    let out = with_app(&state, &headers, move |app| {
        let f = app.finding(id)?;
        let history = app.finding_history(id)?;
        let exceptions: Vec<mamori_store::Exception> = app
            .exceptions()?
            .into_iter()
            .filter(|e| e.findings.contains(&id))
            .collect();
        let may_triage =
            mamori_core::access::any_allows(app.roles(), mamori_core::access::Permission::Triage);
        let may_approve =
            mamori_core::access::any_allows(app.roles(), mamori_core::access::Permission::Approve);
        let sla = app.sla()?;
        let due = mamori_app::findings::due_date(&f, &sla);
        let overdue = mamori_app::findings::is_overdue(&f, &sla, app.today());
        Ok((
            f,
            history,
            exceptions,
            may_triage,
            may_approve,
            app.today(),
            (due, overdue),
        ))
    })
    .await;
    let (s, (f, history, exceptions, may_triage, may_approve, today, (due, overdue))) = match out {
        Ok(x) => x,
        Err(r) => return r,
    };
    let current = Remediation::parse(&f.state).unwrap_or(Remediation::New);
    let targets: Vec<Remediation> = Remediation::ALL
        .iter()
        .copied()
        .filter(|to| {
            matches!(
                transition(current, *to),
                Ok(mamori_core::access::Permission::Triage)
            )
        })
        .collect();
    // The Japanese reason where the finding has one (findings written before it have not).
    let why = match lang {
        Lang::Ja => f.evidence["why_ja"].as_str().or(f.evidence["why"].as_str()),
        Lang::En => f.evidence["why"].as_str(),
    }
    .unwrap_or("")
    .to_string();
    let title = f.evidence["title"].as_str().unwrap_or("").to_string();
    layout(
        lang,
        &format!("#{} {}", f.id, vuln_label(lang, &f.vuln)),
        Some(&s),
        html! {
            table.fields {
                tr { th { (lang.pick("機器", "Device")) } td {
                    @if f.asset_id.is_empty() { (lang.pick("台帳にない機器", "not in the ledger")) }
                    @else { a href={ "/ledger/" (path_segment(&f.asset_id)) } { (f.asset_id) } " " (f.asset_name) }
                } }
                tr { th { (lang.pick("構成要素", "Component")) } td { (f.component) } }
                tr { th { (lang.pick("脆弱性・所見", "Vulnerability or check")) } td { (vuln_label(lang, &f.vuln)) " " (title) } }
                @if !why.is_empty() { tr { th { (lang.pick("根拠", "Why")) } td { (why) } } }
                tr { th { (lang.pick("緊急度", "Level")) } td { (Level::parse(&f.level).map(|l| l.label(lang)).unwrap_or("")) " (" (format!("{:.1}", f.score)) ")" @if f.kev { " KEV" } } }
                tr { th { (lang.pick("対応状況", "Remediation")) } td.state { (current.label(lang)) } }
                tr { th { (lang.pick("情報源", "Sources")) } td { (f.sources.join(", ")) } }
                tr { th { (lang.pick("初回検出", "First seen")) } td { (f.first_seen.format("%Y-%m-%d")) } }
                tr { th { (lang.pick("対応期限", "Due")) } td {
                    (due)
                    @if overdue { " " span.error { (lang.pick("期限超過", "overdue")) } }
                    @if let Some(p) = f.planned_date { " — " (lang.pick("適用予定日 ", "planned ")) (p) }
                } }
            }
            @if may_triage && !targets.is_empty() {
                h2 { (lang.pick("対応状況を変更", "Change the remediation state")) }
                form.stack method="post" action={ "/findings/" (f.id) "/state" } {
                    input type="hidden" name="csrf" value=(s.csrf);
                    label { (lang.pick("新しい状況", "New state"))
                        select name="to" {
                            @for t in &targets { option value=(t.code()) { (t.label(lang)) } }
                        }
                    }
                    label { (lang.pick("理由・メモ", "Reason, note")) textarea name="reason" rows="2" {} }
                    label { (lang.pick("適用予定日 (適用予定のとき)", "Planned date (for Fix planned)")) input type="date" name="planned_date" min=(today.to_string()); }
                    label { (lang.pick("該当なしの根拠 (該当なしのとき)", "Justification (for Not affected)"))
                        select name="justification" {
                            option value="" { "—" }
                            @for j in Justification::ALL { option value=(j.code()) { (j.label(lang)) } }
                        }
                    }
                    button type="submit" { (lang.pick("変更", "Change")) }
                }
                @if current != Remediation::AskedVendor {
                    h2 { (lang.pick("保守事業者に確認", "Ask the maintenance vendor")) }
                    form.stack method="post" action={ "/findings/" (f.id) "/inquiry" } {
                        input type="hidden" name="csrf" value=(s.csrf);
                        label { (lang.pick("確認事項 (修正の適用可否など)", "Question (can the fix be applied? …)")) textarea name="question" rows="2" required {} }
                        button type="submit" { (lang.pick("事業者確認を依頼", "Ask the vendor")) }
                    }
                }
                h2 { (lang.pick("代替策・リスク受容を申請", "Propose alternative measures or risk acceptance")) }
                form.stack method="post" action={ "/findings/" (f.id) "/exception" } {
                    input type="hidden" name="csrf" value=(s.csrf);
                    label { (lang.pick("種類", "Kind"))
                        select name="kind" {
                            option value=(Remediation::Mitigated.code()) { (Remediation::Mitigated.label(lang)) }
                            option value=(Remediation::RiskAccepted.code()) { (Remediation::RiskAccepted.label(lang)) }
                        }
                    }
                    fieldset {
                        legend { (lang.pick("代替策", "Measures")) }
                        @for m in Measure::ALL { label.check { input type="checkbox" name="measure" value=(m.code()); (m.label(lang)) } }
                    }
                    label { (lang.pick("内容", "What exactly")) textarea name="note" rows="2" {} }
                    label { (lang.pick("残存リスク", "Residual risk"))
                        select name="residual_risk" { @for r in ResidualRisk::ALL { option value=(r.code()) { (r.label(lang)) } } }
                    }
                    label { (lang.pick("見直し期限", "Review by")) input type="date" name="review_date" required min=(today.to_string()); }
                    button type="submit" { (lang.pick("申請", "Propose")) }
                }
            }
            @if !exceptions.is_empty() {
                h2 { (lang.pick("代替策・リスク受容", "Exceptions")) }
                table.list {
                    thead { tr { th { "#" } th { (lang.pick("種類", "Kind")) } th { (lang.pick("状態", "Status")) } th { (lang.pick("申請者", "Proposed by")) } th { (lang.pick("見直し期限", "Review by")) } th {} } }
                    tbody {
                        @for e in &exceptions {
                            tr {
                                td { (e.id) }
                                td { (Remediation::parse(&e.kind).map(|k| k.label(lang)).unwrap_or("")) ": " (e.measures.iter().filter_map(|m| Measure::parse(m)).map(|m| m.label(lang)).collect::<Vec<_>>().join("、")) " " (e.note.as_deref().unwrap_or("")) }
                                td { (exception_status(lang, &e.status)) }
                                td { (e.requested_by) }
                                td { (e.review_date) }
                                td {
                                    @if may_approve && e.status == "proposed" {
                                        form.inline method="post" action={ "/exceptions/" (e.id) "/decide" } {
                                            input type="hidden" name="csrf" value=(s.csrf);
                                            input type="hidden" name="finding" value=(f.id);
                                            input type="text" name="reason" aria-label=(lang.pick("コメント", "Comment"));
                                            button type="submit" name="decision" value="approve" { (lang.pick("承認", "Approve")) }
                                            button type="submit" name="decision" value="reject" { (lang.pick("却下", "Reject")) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            h2 { (lang.pick("履歴", "History")) }
            ul.history {
                @for e in &history {
                    li {
                        (e.at.format("%Y-%m-%d %H:%M")) " "
                        (Remediation::parse(&e.event.from).map(|r| r.label(lang)).unwrap_or("—")) " → "
                        (Remediation::parse(&e.event.to).map(|r| r.label(lang)).unwrap_or("")) " "
                        (e.event.actor) " "
                        (mamori_app::remediation::event_reason(e.event.reason.as_deref(), lang))
                    }
                }
            }
        },
    )
    .into_response()
}

pub(crate) fn exception_status(lang: Lang, status: &str) -> &'static str {
    match status {
        "proposed" => lang.pick("承認待ち", "awaiting approval"),
        "approved" => lang.pick("承認済", "approved"),
        "rejected" => lang.pick("却下", "rejected"),
        "expired" => lang.pick("期限切れ", "expired"),
        _ => "",
    }
}

/// A POST's fields, repeated names kept (`measure=a&measure=b`).
pub(crate) fn fields(body: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(body.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// A text field, trimmed, or `None` when empty.
pub(crate) fn opt_text(f: &[(String, String)], name: &str) -> Option<String> {
    Some(field(f, name).trim().to_string()).filter(|t| !t.is_empty())
}

pub(crate) fn field<'a>(f: &'a [(String, String)], name: &str) -> &'a str {
    f.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

/// Runs a state-changing use case for a form POST (CSRF checked), then goes to `back`.
pub(crate) async fn act(
    state: WebState,
    headers: HeaderMap,
    body: String,
    back: String,
    f: impl FnOnce(&mut App, &[(String, String)]) -> mamori_app::Result<()> + Send + 'static,
) -> Response {
    let lang = lang_of(&headers);
    let form = fields(&body);
    let (_, s) = match checked(&state, &headers, field(&form, "csrf")) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    if s.must_change_password {
        return Redirect::to("/password").into_response();
    }
    let dir = state.data_dir.clone();
    let out = tokio::task::spawn_blocking(move || {
        let mut app = App::resume(&dir, &s.user)?;
        f(&mut app, &form)
    })
    .await;
    match out {
        Ok(Ok(())) => Redirect::to(&back).into_response(),
        Ok(Err(e)) => app_error(lang, &e),
        Err(_) => error_page(lang, StatusCode::INTERNAL_SERVER_ERROR, None),
    }
}

pub(crate) fn date_field(v: &str) -> mamori_app::Result<Option<chrono::NaiveDate>> {
    if v.trim().is_empty() {
        return Ok(None);
    }
    chrono::NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d")
        .map(Some)
        .map_err(|_| {
            mamori_app::AppError::bad_value(
                "date",
                format!("日付「{v}」は YYYY-MM-DD ではありません"),
                format!("{v:?} is not a date (YYYY-MM-DD)"),
            )
        })
}

/// The state change a form asks for (`to`, `reason`, `planned_date`, `justification`): one
/// finding's form and the list's bulk form alike.
pub(crate) fn state_change(
    form: &[(String, String)],
) -> mamori_app::Result<mamori_app::remediation::StateChange> {
    use mamori_core::remediation::{Justification, Remediation};
    let to = Remediation::parse(field(form, "to")).ok_or_else(|| {
        mamori_app::AppError::bad_value("to", "新しい状況を選んでください", "choose the new state")
    })?;
    Ok(mamori_app::remediation::StateChange {
        to,
        reason: opt_text(form, "reason"),
        planned_date: date_field(field(form, "planned_date"))?,
        justification: Justification::parse(field(form, "justification")),
    })
}

pub(crate) async fn finding_state(
    State(state): State<WebState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    body: String,
) -> Response {
    act(
        state,
        headers,
        body,
        format!("/findings/{id}"),
        move |app, form| {
            let change = state_change(form)?;
            let today = app.today();
            app.set_state(
                &mamori_app::remediation::Findings::Ids(vec![id]),
                &change,
                today,
            )
            .map(|_| ())
        },
    )
    .await
}

pub(crate) async fn finding_exception(
    State(state): State<WebState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    body: String,
) -> Response {
    use mamori_core::remediation::{Measure, Remediation, ResidualRisk};
    act(
        state,
        headers,
        body,
        format!("/findings/{id}"),
        move |app, form| {
            let kind = Remediation::parse(field(form, "kind")).unwrap_or(Remediation::Mitigated);
            let measures: Vec<Measure> = form
                .iter()
                .filter(|(k, _)| k == "measure")
                .filter_map(|(_, v)| Measure::parse(v))
                .collect();
            let review_date = date_field(field(form, "review_date"))?.ok_or_else(|| {
                mamori_app::AppError::bad_value(
                    "review_date",
                    "見直し期限を指定してください",
                    "give the review date",
                )
            })?;
            let proposal = mamori_app::exceptions::Proposal {
                kind,
                measures,
                note: opt_text(form, "note"),
                residual_risk: ResidualRisk::parse(field(form, "residual_risk"))
                    .unwrap_or(ResidualRisk::Medium),
                review_date,
            };
            app.propose_exception(&mamori_app::remediation::Findings::Ids(vec![id]), &proposal)
                .map(|_| ())
        },
    )
    .await
}

pub(crate) async fn decide_exception(
    State(state): State<WebState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    body: String,
) -> Response {
    let form = fields(&body);
    let back = match field(&form, "finding").parse::<i64>() {
        Ok(f) => format!("/findings/{f}"),
        Err(_) => "/findings".to_string(),
    };
    act(state, headers, body, back, move |app, form| {
        let approve = field(form, "decision") == "approve";
        let reason = opt_text(form, "reason");
        app.decide_exception(id, approve, reason.as_deref())
            .map(|_| ())
    })
    .await
}

// --- scans, safe use, audit log (read-only) ----------------------------------------------

pub(crate) async fn scans(State(state): State<WebState>, headers: HeaderMap) -> Response {
    let lang = lang_of(&headers);
    let out = with_app(&state, &headers, |app| {
        let may =
            mamori_core::access::any_allows(app.roles(), mamori_core::access::Permission::Scan);
        Ok((app.scans()?, may))
    })
    .await;
    let (s, (list, may_scan)) = match out {
        Ok(x) => x,
        Err(r) => return r,
    };
    layout(
        lang,
        lang.pick("スキャン", "Scans"),
        Some(&s),
        html! {
            @if may_scan {
                details.scan-form {
                    summary { (lang.pick("スキャンを実行", "Run a scan")) }
                    form.stack method="post" action="/scans/run" {
                        input type="hidden" name="csrf" value=(s.csrf);
                        p { (lang.pick(
                            "指定した範囲のアドレスにだけ接続します。範囲は必ず指定してください (例: 192.168.10.0/24)。時間帯・除外・上限は設定 (mamori scan policy) に従います。",
                            "Only addresses in the scope are contacted; the scope is required (e.g. 192.168.10.0/24). Windows, exclusions and limits follow the settings (mamori scan policy)."
                        )) }
                        label { (lang.pick("範囲 (CIDR・範囲・アドレス)", "Scope (CIDRs, ranges, addresses)")) input type="text" name="scope" required; }
                        label { (lang.pick("ポート (空欄: 既定の一覧)", "Ports (empty: the default list)")) input type="text" name="ports" placeholder="22,80,443,104,4242"; }
                        label { (lang.pick("除外するアドレス", "Addresses never probed")) input type="text" name="exclude"; }
                        label.check { input type="checkbox" name="yes" value="1"; (lang.pick("広い範囲 (/16 など) であることを確認しました", "I confirm a broad scope (such as a /16)")) }
                        button type="submit" { (lang.pick("実行", "Run")) }
                    }
                }
            }
            table.list {
                thead { tr {
                    th { "#" } th { (lang.pick("開始", "Started")) } th { (lang.pick("種別", "Source")) }
                    th { (lang.pick("状態", "Status")) } th { (lang.pick("台数", "Hosts")) }
                    th { (lang.pick("応答", "Up")) } th { (lang.pick("開ポート", "Open ports")) } th { (lang.pick("実行者", "By")) }
                } }
                tbody {
                    @for sc in &list {
                        tr {
                            td { a href={ "/scans/" (sc.id) } { (sc.id) } }
                            td { (sc.started_at.with_timezone(&chrono::Local).format("%Y-%m-%d %H:%M")) }
                            td { (sc.file.as_ref().map(|f| format!("nmap {f}")).unwrap_or_else(|| sc.source.clone())) }
                            td { (sc.status) " " (sc.stopped.as_deref().unwrap_or("")) }
                            td.num { (sc.hosts) } td.num { (sc.up) } td.num { (sc.open_ports) }
                            td { (sc.actor) }
                        }
                    }
                }
            }
        },
    )
    .into_response()
}

pub(crate) async fn scan(
    State(state): State<WebState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Response {
    let lang = lang_of(&headers);
    let out = with_app(&state, &headers, move |app| app.scan_detail(id)).await;
    let (s, (record, hosts)) = match out {
        Ok(x) => x,
        Err(r) => return r,
    };
    layout(
        lang,
        &format!("{} #{}", lang.pick("スキャン", "Scan"), record.id),
        Some(&s),
        html! {
            p { (record.started_at.with_timezone(&chrono::Local).format("%Y-%m-%d %H:%M")) " — " (record.status) " — " (record.actor) }
            table.list {
                thead { tr {
                    th { (lang.pick("アドレス", "Address")) } th { (lang.pick("ポート", "Port")) }
                    th { (lang.pick("サービス", "Service")) } th { (lang.pick("製品・版", "Product, version")) }
                } }
                tbody {
                    @for h in hosts.iter().filter(|h| h.up) {
                        @for p in h.result.ports.iter().filter(|p| p.state == mamori_core::scan::PortState::Open) {
                            tr {
                                td { (h.addr) }
                                td { (p.key()) }
                                td { (p.service.as_deref().unwrap_or("")) }
                                td { (p.product.as_deref().unwrap_or("")) " " (p.version.as_deref().unwrap_or("")) }
                            }
                        }
                    }
                }
            }
        },
    )
    .into_response()
}

/// An attestation's state; `due_list` says an `ok` one is listed because it is due soon.
fn attest_state_label(lang: Lang, st: &str, due_list: bool) -> &'static str {
    match st {
        "no" => lang.pick("いいえ (要対応)", "no (action needed)"),
        "expired" => lang.pick("期限切れ", "expired"),
        "contradicted" => lang.pick("矛盾 (検査で既定パスワード検出)", "contradicted by a check"),
        "ok" if due_list => lang.pick("期限間近", "due soon"),
        "ok" => lang.pick("確認済", "attested"),
        _ => lang.pick("未確認", "missing"),
    }
}

pub(crate) async fn safe_use(State(state): State<WebState>, headers: HeaderMap) -> Response {
    use mamori_core::attest::{AttestItem, AttestValue};
    let lang = lang_of(&headers);
    let out = with_app(&state, &headers, move |app| {
        let due = app.attestations_due(30)?;
        let coverage =
            app.attestation_coverage(mamori_app::attest::CoverageBy::Department, lang)?;
        Ok((due, coverage, app.cred_approvals()?))
    })
    .await;
    let (s, (due, coverage, approvals)) = match out {
        Ok(x) => x,
        Err(r) => return r,
    };
    let state_label = |st: &str| attest_state_label(lang, st, true);
    layout(
        lang,
        lang.pick("安全利用チェック", "Safe-use checks"),
        Some(&s),
        html! {
            p { a href="/findings?category=8.3" { (lang.pick("8.3 の所見 (出荷時パスワード・認証なし・未登録機器など) を見る", "See the 8.3 findings (default passwords, no authentication, unregistered devices, …)")) } }
            h2 { (lang.pick("部署ごとの確認率 (企画管理者の確認)", "Attested per department")) }
            table.list {
                thead { tr {
                    th { (lang.pick("部署", "Department")) } th { (lang.pick("台数", "Devices")) }
                    @for i in AttestItem::ALL { th { (i.label(lang)) } }
                } }
                tbody {
                    @for r in &coverage {
                        tr {
                            td { (r.group) } td.num { (r.devices) }
                            @for i in AttestItem::ALL {
                                td.num { (r.confirmed.get(i.code()).copied().unwrap_or(0)) " / " (r.devices) }
                            }
                        }
                    }
                }
            }
            h2 { (lang.pick("既定パスワード検査の承認 (企画管理者)", "Approvals of default-credential checks (planner)")) }
            @if approvals.is_empty() {
                p { (lang.pick("承認はありません。検査は承認された範囲と時間帯でのみ行います (mamori creds approve)。", "No approval: checks run only where and when approved (mamori creds approve).")) }
            } @else {
                table.list {
                    thead { tr {
                        th { "#" } th { (lang.pick("範囲", "Scope")) } th { (lang.pick("除外", "Excluded")) } th { (lang.pick("時間帯", "Windows")) }
                        th { (lang.pick("上限 (回/アカウント)", "At most (per account)")) } th { (lang.pick("承認", "Approved")) } th { (lang.pick("状態", "State")) }
                    } }
                    tbody {
                        @for a in &approvals {
                            tr {
                                td { (a.id) } td { (a.scope) } td { (a.exclude.as_deref().unwrap_or("")) } td { (a.windows.join(", ")) }
                                td.num { (a.max_attempts) }
                                td { (a.approved_by) " " (a.approved_at.with_timezone(&chrono::Local).format("%Y-%m-%d")) }
                                td { @if let Some(by) = &a.revoked_by { (lang.pick("取消 ", "withdrawn by ")) (by) } @else { span.ok { (lang.pick("有効", "in force")) } } }
                            }
                        }
                    }
                }
            }
            h2 { (lang.pick("確認が必要なもの", "To confirm")) " (" (due.len()) ")" }
            table.list {
                thead { tr {
                    th { (lang.pick("管理番号", "Asset ID")) } th { (lang.pick("機器名", "Name")) }
                    th { (lang.pick("項目", "Item")) } th { (lang.pick("回答", "Answer")) } th { (lang.pick("状態", "State")) }
                    th { (lang.pick("再確認期限", "Due")) }
                } }
                tbody {
                    @for d in due.iter().take(500) {
                        tr {
                            td { a href={ "/ledger/" (path_segment(&d.asset_id)) } { (d.asset_id) } }
                            td { (d.name) }
                            td { (AttestItem::parse(&d.item).map(|i| i.label(lang)).unwrap_or("")) }
                            td { (d.value.as_deref().and_then(AttestValue::parse).map(|v| v.label(lang)).unwrap_or("—")) }
                            td { (state_label(&d.state)) }
                            td { (d.due.map(|x| x.to_string()).unwrap_or_default()) }
                        }
                    }
                }
            }
        },
    )
    .into_response()
}

pub(crate) async fn audit_log(State(state): State<WebState>, headers: HeaderMap) -> Response {
    let lang = lang_of(&headers);
    let out = with_app(&state, &headers, |app| {
        let records = app
            .read(mamori_core::access::Permission::ViewAudit)?
            .audit_tail(200)?;
        let broken = app.verify_audit_log()?;
        Ok((records, broken))
    })
    .await;
    let (s, (records, broken)) = match out {
        Ok(x) => x,
        Err(r) => return r,
    };
    layout(
        lang,
        lang.pick("監査ログ", "Audit log"),
        Some(&s),
        html! {
            @match broken {
                None => p.ok role="status" { (lang.pick("ハッシュ連鎖を検査しました: 改ざんはありません", "Hash chain verified: nothing was changed")) },
                Some(b) => p.error role="alert" {
                    (match lang {
                        Lang::Ja => format!("ハッシュ連鎖が #{} で切れています{}", b.seq, if b.missing { " (記録の削除)" } else { " (記録の改変)" }),
                        Lang::En => format!("the hash chain breaks at #{}{}", b.seq, if b.missing { " (an entry was deleted)" } else { " (an entry was changed)" }),
                    })
                },
            }
            p { (lang.pick("最新 200 件 (全件は mamori audit export で書き出し)", "The latest 200 (everything: mamori audit export)")) }
            table.list {
                thead { tr {
                    th { "#" } th { (lang.pick("日時", "When")) } th { (lang.pick("実行者", "Actor")) }
                    th { (lang.pick("操作", "Action")) } th { (lang.pick("対象", "Target")) } th { (lang.pick("内容", "Detail")) }
                } }
                tbody {
                    @for r in records.iter().rev() {
                        tr {
                            td { (r.seq) }
                            td { (r.at.with_timezone(&chrono::Local).format("%Y-%m-%d %H:%M:%S")) }
                            td { (r.entry.actor) }
                            td {
                                @if let Some(l) = mamori_app::audit_action_label(&r.entry.action, lang) { (l) br; }
                                span.muted { (r.entry.action) }
                            }
                            td { (r.entry.target.as_deref().unwrap_or("")) }
                            td.detail { (short(&r.entry.detail.to_string(), 160)) }
                        }
                    }
                }
            }
        },
    )
    .into_response()
}

pub(crate) fn short(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max).collect();
    out.push('…');
    out
}

/// `/ledger/export.xlsx` and `/ledger/export.csv` (UTF-8 with BOM; `?encoding=cp932` for
/// older tools): the devices the list's filters select, in the page's language.
pub(crate) async fn ledger_export(
    State(state): State<WebState>,
    headers: HeaderMap,
    Path(file): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    use mamori_ledger::write::CsvEncoding;
    let lang = lang_of(&headers);
    let format = match file.as_str() {
        "export.xlsx" => "xlsx",
        "export.csv" => "csv",
        _ => return not_found(headers).await,
    };
    let encoding = if q.get("encoding").is_some_and(|e| e == "cp932") {
        CsvEncoding::Cp932
    } else {
        CsvEncoding::Utf8Bom
    };
    let filter = crate::asset_filter(&q);
    let out = with_app(&state, &headers, move |app| {
        app.export_ledger_bytes(format, &file, lang, encoding, &filter)
    })
    .await;
    let (_, (bytes, _)) = match out {
        Ok(x) => x,
        Err(r) => return r,
    };
    let (mime, name) = if format == "xlsx" {
        (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "ledger.xlsx",
        )
    } else if encoding == CsvEncoding::Cp932 {
        ("text/csv; charset=Shift_JIS", "ledger.csv")
    } else {
        ("text/csv; charset=utf-8", "ledger.csv")
    };
    (
        [
            (header::CONTENT_TYPE, mime.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response()
}
