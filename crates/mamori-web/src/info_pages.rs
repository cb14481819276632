//! 脆弱性 (search and one record, Japanese text first, with the devices it is found on),
//! フィード状態 (each source's freshness) and ユーザー管理 (users, roles, one-time passwords).

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use mamori_app::vulns::Lookup;
use mamori_app::App;
use mamori_core::access::Permission;
use mamori_core::{Labelled, Lang, Role};
use mamori_store::{FeedStatus, Finding};
use maud::{html, Markup};

use crate::pages::{act, field, fields, findings_table, layout, opt_text, path_segment};
use crate::session::Session;
use crate::{app_error, error_page, lang_of, with_app, WebState};

/// Days after which a source's last successful import counts as stale.
pub const STALE_DAYS: i64 = 7;

// --- 脆弱性 -------------------------------------------------------------------------------

pub(crate) async fn vulns(
    State(state): State<WebState>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let lang = lang_of(&headers);
    let text = q.get("q").map(|t| t.trim().to_string()).unwrap_or_default();
    let search = text.clone();
    let out = with_app(&state, &headers, move |app| {
        if search.is_empty() {
            app.check(Permission::View)?;
            return Ok(Vec::new());
        }
        app.search_vulnerabilities(&search, lang, 100)
    })
    .await;
    let (s, hits) = match out {
        Ok(x) => x,
        Err(r) => return r,
    };
    layout(
        lang,
        lang.pick("脆弱性", "Vulnerabilities"),
        Some(&s),
        html! {
            form.filters method="get" action="/vulns" role="search" {
                label { (lang.pick("CVE・JVNDB 番号またはキーワード", "CVE or JVNDB id, or keywords"))
                    input type="search" name="q" value=(text) placeholder="CVE-2024-… / JVNDB-2024-… / Orthanc" autofocus; }
                button type="submit" { (lang.pick("検索", "Search")) }
            }
            @if !text.is_empty() {
                p { (hits.len()) (lang.pick(" 件", " results")) @if hits.len() == 100 { (lang.pick(" (先頭 100 件)", " (the first 100)")) } }
                table.list {
                    thead { tr { th { "ID" } th { "CVSS" } th { "KEV" } th { (lang.pick("公開日", "Published")) } th { (lang.pick("概要", "Summary")) } } }
                    tbody {
                        @for h in &hits {
                            tr {
                                td { a href={ "/vulns/" (path_segment(&h.id)) } { (h.id) } }
                                td.num { (h.max_cvss.as_ref().map(|(_, s)| format!("{s:.1}")).unwrap_or_default()) }
                                td { @if h.kev { "KEV" } }
                                td { (h.published.map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default()) }
                                td { (crate::pages::short(h.text.as_deref().unwrap_or("").lines().next().unwrap_or(""), 160)) }
                            }
                        }
                    }
                }
            }
        },
    )
    .into_response()
}

pub(crate) async fn vuln(
    State(state): State<WebState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let lang = lang_of(&headers);
    let wanted = id.clone();
    let out = with_app(&state, &headers, move |app| {
        app.lookup_vulnerability(&wanted)
    })
    .await;
    let (s, found) = match out {
        Ok(x) => x,
        Err(r) => return r,
    };
    let d = match found {
        Lookup::Vuln(d) => d,
        Lookup::Advisory(a, origin) => return advisory(lang, &s, &a, &origin).into_response(),
        Lookup::Missing => {
            return error_page(
                lang,
                StatusCode::NOT_FOUND,
                Some(match lang {
                    Lang::Ja => format!("{id} は取り込まれていません。脆弱性情報を取り込んでください (mamori feeds import / sync)"),
                    Lang::En => format!("{id} is not in the store: import the vulnerability information (mamori feeds import / sync)"),
                }),
            )
        }
    };
    let v = &d.stored.vuln;
    let date = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map(|t| t.format("%Y-%m-%d").to_string())
            .unwrap_or_else(|| "—".into())
    };
    let listed: Vec<&Finding> = d.findings.iter().collect();
    let texts = |list: &[mamori_core::vuln::LangText]| {
        list.iter()
            .find(|t| t.lang == lang.code())
            .or(list.first())
            .map(|t| t.value.clone())
    };
    layout(
        lang,
        &format!("{} {}", v.id, d.title(lang).unwrap_or_default()),
        Some(&s),
        html! {
            table.fields {
                tr { th { (lang.pick("情報源", "Source")) } td { (d.stored.source) " — " (d.stored.origin) } }
                @if !v.aliases.is_empty() { tr { th { (lang.pick("別名", "Aliases")) } td {
                    @for a in &v.aliases { a href={ "/vulns/" (path_segment(a)) } { (a) } " " }
                } } }
                @if !d.jvn_ids.is_empty() { tr { th { "JVN iPedia" } td {
                    @for j in &d.jvn_ids { a href={ "/vulns/" (path_segment(j)) } { (j) } " " }
                } } }
                tr { th { (lang.pick("公開・更新", "Published, modified")) } td { (date(v.published)) " / " (date(v.modified)) } }
                @for c in &v.cvss {
                    tr { th { "CVSS " (c.version.as_str()) } td { (format!("{:.1}", c.base_score)) " " (c.severity.as_deref().unwrap_or("")) " " code { (c.vector) } " (" (c.source.as_deref().unwrap_or("?")) ")" } }
                }
                @if let Some(k) = &d.kev {
                    tr.warn { th { "CISA KEV" } td.error {
                        (lang.pick("悪用が確認された脆弱性", "Known exploited")) ": " (k.vulnerability_name) " (" (lang.pick("追加 ", "added ")) (k.date_added) ")"
                        @if k.known_ransomware { " " (lang.pick("ランサムウェアでの悪用あり", "used by ransomware")) }
                    } }
                }
                @if let Some(e) = &d.epss {
                    tr { th { "EPSS" } td { (format!("{:.4}", e.score.epss)) @if let Some(p) = e.score.percentile { " (" (lang.pick("パーセンタイル ", "percentile ")) (format!("{:.0}%", p * 100.0)) ")" } } }
                }
                @if !v.cwes.is_empty() { tr { th { "CWE" } td { (v.cwes.join(", ")) } } }
            }
            @if let Some(desc) = d.description(lang) {
                h2 { (lang.pick("概要", "Description")) }
                p.text { (desc) }
                @if d.translated(lang) {
                    @if let Some(en) = v.description("en") { details { summary { "NVD (English)" } p.text lang="en" { (en) } } }
                }
            }
            @if let Some(t) = texts(&v.impacts) { h2 { (lang.pick("想定される影響", "Impact")) } p.text { (t) } }
            @if let Some(t) = texts(&v.solutions) { h2 { (lang.pick("対策", "Solution")) } p.text { (t) } }
            h2 { (lang.pick("見つかった機器 (未対応の所見)", "Found on (open findings)")) " (" (d.findings.len()) ")" }
            @if d.findings.is_empty() { p { (lang.pick("台帳の機器には見つかっていません", "not found on any device of the ledger")) } }
            @else { (findings_table(lang, &listed, None)) }
            @if !d.advisories.is_empty() {
                h2 { (lang.pick("製造元のアドバイザリ", "Vendor advisories")) }
                ul { @for (id, title) in &d.advisories { li { a href={ "/vulns/" (path_segment(id)) } { (id) } " " (title) } } }
            }
            @if !d.alerts.is_empty() {
                h2 { (lang.pick("注意喚起 (IPA・JPCERT/CC)", "Alerts (IPA, JPCERT/CC)")) }
                ul { @for a in &d.alerts { li { (a.published.map(|p| p.format("%Y-%m-%d").to_string()).unwrap_or_default()) " " (a.feed) " — " (a.title) " " span.url { (a.link) } } } }
            }
            @let matches: Vec<_> = v.cpe_matches().filter(|m| m.vulnerable).take(20).collect();
            @if !matches.is_empty() {
                h2 { (lang.pick("影響を受ける製品 (CPE)", "Affected products (CPE)")) }
                ul.cpes { @for m in &matches {
                    li { code { (m.criteria) }
                        @if let Some(b) = &m.version_start_including { " ≥ " (b) }
                        @if let Some(b) = &m.version_start_excluding { " > " (b) }
                        @if let Some(b) = &m.version_end_including { " ≤ " (b) }
                        @if let Some(b) = &m.version_end_excluding { " < " (b) }
                    }
                } }
            }
            @if !v.references.is_empty() {
                h2 { (lang.pick("参考情報", "References")) }
                // Shown as text, not links: the page is for closed networks and for print.
                ul.refs { @for r in v.references.iter().take(15) { li.url { (r.url) } } }
            }
        },
    )
    .into_response()
}

fn advisory(lang: Lang, s: &Session, a: &mamori_core::vuln::Advisory, origin: &str) -> Markup {
    layout(
        lang,
        &format!("{} {}", a.id, a.title),
        Some(s),
        html! {
            table.fields {
                tr { th { (lang.pick("発行元", "Publisher")) } td { (a.publisher.as_deref().unwrap_or("")) } }
                tr { th { (lang.pick("版", "Version")) } td { (a.version.as_deref().unwrap_or("")) " " (a.current_release.map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default()) } }
                tr { th { (lang.pick("取込元", "Read from")) } td { (origin) } }
            }
            h2 { (lang.pick("脆弱性", "Vulnerabilities")) }
            ul { @for v in &a.vulnerabilities {
                li {
                    @if let Some(c) = &v.cve { a href={ "/vulns/" (path_segment(c)) } { (c) } " " }
                    (v.title.as_deref().unwrap_or(""))
                }
            } }
            h2 { (lang.pick("製品", "Products")) }
            ul { @for p in a.products.iter().take(50) { li { (p.name) } } }
        },
    )
}

// --- フィード状態 -------------------------------------------------------------------------

fn feed_rows(lang: Lang, list: &[FeedStatus], now: chrono::DateTime<chrono::Utc>) -> Markup {
    let when = |t: chrono::DateTime<chrono::Utc>| {
        t.with_timezone(&chrono::Local)
            .format("%Y-%m-%d %H:%M")
            .to_string()
    };
    html! {
        table.list {
            thead { tr { th { (lang.pick("情報源", "Source")) } th { (lang.pick("件数", "Records")) } th { (lang.pick("最終取込", "Last success")) } th { (lang.pick("鮮度", "Freshness")) } th { (lang.pick("最後のエラー", "Last error")) } } }
            tbody {
                @for f in list {
                    @let age = f.last_success.map(|t| (now - t).num_days());
                    tr {
                        td { (f.source) }
                        td.num { (f.records) }
                        td { (f.last_success.map(when).unwrap_or_else(|| "—".into())) }
                        td {
                            @match age {
                                None => span.error { (lang.pick("未取込", "never imported")) },
                                Some(d) if d > STALE_DAYS => span.error { (d) (lang.pick(" 日前 (古い)", " days ago (stale)")) },
                                Some(d) => span.ok { (d) (lang.pick(" 日前", " days ago")) },
                            }
                        }
                        td { @if let Some((at, e)) = &f.last_error { (when(*at)) " " (e) } }
                    }
                }
            }
        }
    }
}

pub(crate) async fn feeds(State(state): State<WebState>, headers: HeaderMap) -> Response {
    let lang = lang_of(&headers);
    let out = with_app(&state, &headers, |app| {
        let may = mamori_core::access::any_allows(app.roles(), Permission::ImportFeeds);
        Ok((app.feed_status()?, may))
    })
    .await;
    let (s, (list, may_import)) = match out {
        Ok(x) => x,
        Err(r) => return r,
    };
    layout(
        lang,
        lang.pick("フィード状態", "Feed status"),
        Some(&s),
        html! {
            @if list.is_empty() { p.error { (lang.pick("脆弱性情報がまだ取り込まれていません (mamori feeds sync または feeds import)", "no vulnerability information imported yet (mamori feeds sync or feeds import)")) } }
            @else { (feed_rows(lang, &list, chrono::Utc::now())) }
            @if may_import {
                h2 { (lang.pick("ファイルから取り込む (閉域網)", "Import files (closed networks)")) }
                form.stack method="post" action="/feeds/import" enctype="multipart/form-data" {
                    input type="hidden" name="csrf" value=(s.csrf);
                    label { (lang.pick("NVD・JVN・KEV・EPSS・CSAF のファイル (複数可、合計 256 MB まで)", "NVD, JVN, KEV, EPSS or CSAF files (several, up to 256 MB in all)"))
                        input type="file" name="file" multiple required; }
                    button type="submit" { (lang.pick("取込", "Import")) }
                }
                h2 { (lang.pick("インターネットから同期", "Sync from the internet")) }
                form.stack method="post" action="/feeds/sync" {
                    input type="hidden" name="csrf" value=(s.csrf);
                    fieldset { legend { (lang.pick("情報源 (選ばなければすべて)", "Sources (all when none is ticked)")) }
                        @for src in ["nvd", "jvn", "kev", "epss", "alerts", "csaf"] {
                            label.check { input type="checkbox" name="source" value=(src); (src) }
                        }
                    }
                    button type="submit" { (lang.pick("今すぐ同期", "Sync now")) }
                }
            }
            p { (match lang {
                Lang::Ja => format!("最終取込から {STALE_DAYS} 日を超えた情報源は「古い」と表示します。閉域網では mamori bundle で持ち込んだ最新の一括ファイルを取り込んでください。"),
                Lang::En => format!("A source last imported more than {STALE_DAYS} days ago shows as stale. On a closed network, import the newest bundle brought in with mamori bundle."),
            }) }
        },
    )
    .into_response()
}

// --- ユーザー管理 -------------------------------------------------------------------------

fn users_markup(
    lang: Lang,
    s: &Session,
    users: &[mamori_app::users::UserView],
    notice: Option<Markup>,
) -> Markup {
    layout(
        lang,
        lang.pick("ユーザー管理", "Users"),
        Some(s),
        html! {
            @if let Some(n) = notice { (n) }
            table.list {
                thead { tr { th { (lang.pick("利用者名", "User")) } th { (lang.pick("表示名", "Display name")) } th { (lang.pick("役割", "Roles")) } th { (lang.pick("会社 (事業者)", "Company (vendor)")) } th { (lang.pick("状態", "State")) } th {} } }
                tbody {
                    @for u in users {
                        tr {
                            td { (u.username) }
                            td { (u.display_name.as_deref().unwrap_or("")) }
                            td {
                                form.inline method="post" action={ "/users/" (path_segment(&u.username)) "/roles" } {
                                    input type="hidden" name="csrf" value=(s.csrf);
                                    @for r in Role::ALL {
                                        label.check { input type="checkbox" name="role" value=(r.code()) checked[u.roles.contains(r)]; (r.label(lang)) }
                                    }
                                    button type="submit" { (lang.pick("役割を保存", "Save roles")) }
                                }
                            }
                            td { (u.vendor.as_deref().unwrap_or("")) }
                            td {
                                @if u.disabled { span.error { (lang.pick("無効", "disabled")) } }
                                @else if u.must_change_password { (lang.pick("初回パスワード", "one-time password")) }
                                @else { span.ok { (lang.pick("有効", "active")) } }
                            }
                            td {
                                form.inline method="post" action={ "/users/" (path_segment(&u.username)) "/state" } {
                                    input type="hidden" name="csrf" value=(s.csrf);
                                    @if u.disabled { button type="submit" name="disabled" value="0" { (lang.pick("有効にする", "Enable")) } }
                                    @else { button type="submit" name="disabled" value="1" { (lang.pick("無効にする", "Disable")) } }
                                }
                            }
                        }
                    }
                }
            }
            h2 { (lang.pick("利用者を追加", "Add a user")) }
            form.stack method="post" action="/users" {
                input type="hidden" name="csrf" value=(s.csrf);
                label { (lang.pick("利用者名 (英数字と . _ -)", "User name (letters, digits, . _ -)")) input type="text" name="username" required pattern="[A-Za-z0-9._-]{1,64}"; }
                label { (lang.pick("表示名", "Display name")) input type="text" name="display_name"; }
                fieldset { legend { (lang.pick("役割", "Roles")) }
                    @for r in Role::ALL { label.check { input type="checkbox" name="role" value=(r.code()); (r.label(lang)) } }
                }
                label { (lang.pick("会社名 (事業者のとき。台帳の保守事業者と同じ名前)", "Company (for a vendor; as the ledger's vendor column names it)")) input type="text" name="vendor"; }
                button type="submit" { (lang.pick("追加 (初回パスワードを発行)", "Add (issues a one-time password)")) }
            }
        },
    )
}

pub(crate) async fn users(State(state): State<WebState>, headers: HeaderMap) -> Response {
    let lang = lang_of(&headers);
    let out = with_app(&state, &headers, |app| app.list_users()).await;
    match out {
        Ok((s, list)) => users_markup(lang, &s, &list, None).into_response(),
        Err(r) => r,
    }
}

fn roles_of(form: &[(String, String)]) -> Vec<Role> {
    form.iter()
        .filter(|(k, _)| k == "role")
        .filter_map(|(_, v)| Role::parse(v))
        .collect()
}

/// Adds a user and shows its one-time password once (the page is not cached).
pub(crate) async fn add_user(
    State(state): State<WebState>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let lang = lang_of(&headers);
    let form = fields(&body);
    let s = match crate::forms::posted(&state, &headers, field(&form, "csrf")) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let dir = state.data_dir.clone();
    let user = s.user.clone();
    let out = tokio::task::spawn_blocking(move || {
        let mut app = App::resume(&dir, &user)?;
        let name = field(&form, "username").trim().to_string();
        let created = app.add_user(
            &name,
            opt_text(&form, "display_name").as_deref(),
            &roles_of(&form),
            opt_text(&form, "vendor").as_deref(),
            None,
        )?;
        Ok::<_, mamori_app::AppError>((name, created, app.list_users()?))
    })
    .await;
    match out {
        Ok(Ok((name, created, list))) => {
            let notice = html! {
                div.notice role="status" {
                    p { (match lang {
                        Lang::Ja => format!("{name} を追加しました。初回パスワードは一度だけ表示します。本人に安全な方法で伝えてください。初回ログインで変更が求められます。"),
                        Lang::En => format!("{name} was added. The one-time password is shown only now: pass it on safely. It must be changed at first login."),
                    }) }
                    @if let Some(p) = &created.one_time_password { p { code.secret { (p) } } }
                }
            };
            users_markup(lang, &s, &list, Some(notice)).into_response()
        }
        Ok(Err(e)) => app_error(lang, &e),
        Err(_) => error_page(lang, StatusCode::INTERNAL_SERVER_ERROR, None),
    }
}

pub(crate) async fn user_roles(
    State(state): State<WebState>,
    headers: HeaderMap,
    Path(name): Path<String>,
    body: String,
) -> Response {
    act(state, headers, body, "/users".into(), move |app, form| {
        app.set_user_roles(&name, &roles_of(form), Some("web"))
    })
    .await
}

pub(crate) async fn user_state(
    State(state): State<WebState>,
    headers: HeaderMap,
    Path(name): Path<String>,
    body: String,
) -> Response {
    act(state, headers, body, "/users".into(), move |app, form| {
        app.set_user_disabled(&name, field(form, "disabled") == "1", Some("web"))
    })
    .await
}

// --- 稼働時間 ------------------------------------------------------------------------------

/// Days the heat map shows by default, and at most.
const HOURS_DAYS: i64 = 14;
const HOURS_MAX_DAYS: i64 = 62;

pub(crate) async fn hours(
    State(state): State<WebState>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    use crate::charts::Cell;
    let lang = lang_of(&headers);
    let days_wanted = q
        .get("days")
        .and_then(|d| d.parse::<i64>().ok())
        .unwrap_or(HOURS_DAYS)
        .clamp(1, HOURS_MAX_DAYS);
    let department = q.get("department").filter(|d| !d.is_empty()).cloned();
    let dep = department.clone();
    let out = with_app(&state, &headers, move |app| {
        let to = app.now_local()?.date();
        let from = to - chrono::Duration::days(days_wanted - 1);
        Ok((from, to, app.hours_report(from, to, dep.as_deref())?))
    })
    .await;
    let (s, (from, to, rows)) = match out {
        Ok(x) => x,
        Err(r) => return r,
    };
    let days: Vec<chrono::NaiveDate> = from.iter_days().take_while(|d| *d <= to).collect();
    // One row per device, in 管理番号 order; a device's cells in day order.
    let mut devices: Vec<(String, Vec<Cell>)> = Vec::new();
    let mut outside_total = 0u32;
    for r in &rows {
        let label = format!("{} {}", r.asset_id, r.name);
        if devices.last().is_none_or(|(l, _)| *l != label) {
            devices.push((label.clone(), Vec::new()));
        }
        outside_total += r.outside_minutes;
        let hm = |m: u32| format!("{}:{:02}", m / 60, m % 60);
        let (class, level) = if r.outside_minutes > 0 {
            ("warn", (1 + r.outside_minutes / 60).min(4) as u8)
        } else if r.up_minutes > 0 {
            ("ok", (1 + r.up_minutes / 240).min(4) as u8)
        } else {
            ("idle", 0)
        };
        let title = match lang {
            Lang::Ja => format!(
                "{label} {}: 稼働 {} / 予定 {} / 時間外 {}",
                r.date,
                hm(r.up_minutes),
                hm(r.scheduled_minutes),
                hm(r.outside_minutes)
            ),
            Lang::En => format!(
                "{label} {}: up {} / scheduled {} / outside {}",
                r.date,
                hm(r.up_minutes),
                hm(r.scheduled_minutes),
                hm(r.outside_minutes)
            ),
        };
        if let Some((_, cells)) = devices.last_mut() {
            cells.push(Cell {
                title,
                class,
                level,
            });
        }
    }
    let shown = devices.len().min(300);
    layout(
        lang,
        lang.pick("稼働時間", "Operating hours"),
        Some(&s),
        html! {
            form.filters method="get" action="/hours" {
                label { (lang.pick("日数", "Days")) input type="number" name="days" min="1" max=(HOURS_MAX_DAYS) value=(days_wanted); }
                label { (lang.pick("部署", "Department")) input type="text" name="department" value=(department.clone().unwrap_or_default()); }
                button type="submit" { (lang.pick("表示", "Show")) }
            }
            p {
                (from) " – " (to) ": "
                (match lang {
                    Lang::Ja => format!("機器 {} 台、稼働時間外の稼働 合計 {} 分", devices.len(), outside_total),
                    Lang::En => format!("{} devices, {} minutes up outside their hours in all", devices.len(), outside_total),
                })
            }
            @if devices.is_empty() {
                p { (lang.pick(
                    "稼働の記録がありません。稼働時間を設定し (mamori hours schedule)、mamori watch で見守ってください。",
                    "no record of devices up: set operating hours (mamori hours schedule) and keep mamori watch running."
                )) }
            } @else {
                p.legend {
                    span.key.ok { (lang.pick("■ 予定内の稼働", "■ up within hours")) } " "
                    span.key.warn { (lang.pick("■ 稼働時間外の稼働", "■ up outside hours")) } " "
                    span.key.idle { (lang.pick("■ 稼働なし", "■ not up")) }
                }
                (crate::charts::heatmap(lang.pick("機器ごとの日別稼働", "Each device's days"), &days, &devices[..shown]))
                @if shown < devices.len() {
                    p { (match lang {
                        Lang::Ja => format!("先頭 {shown} 台を表示しています。部署で絞り込んでください。"),
                        Lang::En => format!("the first {shown} devices are shown; choose a department to see the rest."),
                    }) }
                }
            }
        },
    )
    .into_response()
}
