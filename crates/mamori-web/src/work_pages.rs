//! The remediation work beyond one finding: bulk actions on the findings list, 事業者確認
//! (asking vendors, recording their answers), and the 事業者 user's own pages (its company's
//! devices and inquiries, nothing else).

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use mamori_app::remediation::Findings;
use mamori_app::AppError;
use mamori_core::access::{any_allows, Permission};
use mamori_core::remediation::{Justification, Remediation, Verdict};
use mamori_core::{Labelled, Lang, Level};
use mamori_ledger::inquiry::AnswerRow;
use mamori_store::{Finding, Inquiry};
use maud::{html, Markup};

use crate::pages::{
    act, field, fields, findings_table, layout, path_segment, state_change, vuln_label,
};
use crate::session::Session;
use crate::{with_app, WebState};

/// Devices listed at most on the vendor page (a vendor maintains tens or hundreds; a user who
/// sees everything has the ledger's own pages).
const VENDOR_ROWS: usize = 1000;

/// The finding numbers ticked on a list (`id=1&id=2`).
fn ticked(form: &[(String, String)]) -> Vec<i64> {
    form.iter()
        .filter(|(k, _)| k == "id")
        .filter_map(|(_, v)| v.parse().ok())
        .collect()
}

/// Where to go back to after a form: a local list page the form names, else `fallback`.
fn back(form: &[(String, String)], fallback: &str) -> String {
    let b = field(form, "back");
    let local = b.starts_with('/') && !b.starts_with("//") && !b.contains('\\');
    if local
        && ["/findings", "/vendor", "/inquiries"]
            .iter()
            .any(|p| b.starts_with(p))
    {
        b.to_string()
    } else {
        fallback.to_string()
    }
}

fn nothing_ticked() -> AppError {
    AppError::bad_value(
        "id",
        "対象の所見をチェックしてください",
        "tick the findings to act on",
    )
}

/// Bulk actions on the ticked findings of the list: a state change or an inquiry to each
/// device's vendor.
pub(crate) async fn findings_bulk(
    State(state): State<WebState>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let form = fields(&body);
    let to = back(&form, "/findings");
    act(state, headers, body, to, move |app, form| {
        let ids = ticked(form);
        if ids.is_empty() {
            return Err(nothing_ticked());
        }
        match field(form, "action") {
            "inquiry" => {
                let question = field(form, "question");
                app.open_inquiries(&Findings::Ids(ids), question)
                    .map(|_| ())
            }
            _ => {
                let change = state_change(form)?;
                let today = app.today();
                app.set_state(&Findings::Ids(ids), &change, today)
                    .map(|_| ())
            }
        }
    })
    .await
}

/// The bulk-action form below a findings list (the table's checkboxes belong to it).
pub(crate) fn bulk_form(lang: Lang, s: &Session, back: &str) -> Markup {
    html! {
        fieldset.bulk {
            legend { (lang.pick("チェックした所見をまとめて", "For the ticked findings")) }
            input type="hidden" name="csrf" value=(s.csrf);
            input type="hidden" name="back" value=(back);
            label { (lang.pick("新しい状況", "New state"))
                select name="to" {
                    @for t in [Remediation::Investigating, Remediation::FixPlanned, Remediation::NotAffected, Remediation::FalsePositive] {
                        option value=(t.code()) { (t.label(lang)) }
                    }
                }
            }
            label { (lang.pick("理由・メモ", "Reason, note")) input type="text" name="reason"; }
            label { (lang.pick("適用予定日", "Planned date")) input type="date" name="planned_date"; }
            label { (lang.pick("該当なしの根拠", "Justification"))
                select name="justification" {
                    option value="" { "—" }
                    @for j in Justification::ALL { option value=(j.code()) { (j.label(lang)) } }
                }
            }
            button type="submit" name="action" value="state" { (lang.pick("状況を変更", "Change state")) }
            label { (lang.pick("事業者への確認事項", "Question to the vendors")) input type="text" name="question"; }
            button type="submit" name="action" value="inquiry" { (lang.pick("保守事業者に確認 (事業者確認中へ)", "Ask the vendors (to Asked vendor)")) }
        }
    }
}

/// 事業者確認 of one finding: asks its device's vendor.
pub(crate) async fn finding_inquiry(
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
            app.open_inquiries(&Findings::Ids(vec![id]), field(form, "question"))
                .map(|_| ())
        },
    )
    .await
}

/// Records one vendor answer typed into the form (the same checks as a returned sheet).
pub(crate) async fn answer(
    State(state): State<WebState>,
    headers: HeaderMap,
    Path(inquiry): Path<i64>,
    body: String,
) -> Response {
    let form = fields(&body);
    let to = back(&form, "/inquiries");
    act(state, headers, body, to, move |app, form| {
        let row = AnswerRow {
            row: 0,
            inquiry: inquiry.to_string(),
            finding: field(form, "finding").to_string(),
            verdict: field(form, "verdict").to_string(),
            conditions: field(form, "conditions").trim().to_string(),
            answer: field(form, "answer").trim().to_string(),
            answered_on: field(form, "answered_on").trim().to_string(),
        };
        app.record_answers(&format!("#{inquiry}"), &[row])
            .map(|_| ())
    })
    .await
}

fn verdict_label(lang: Lang, v: Option<&str>) -> String {
    v.and_then(Verdict::parse)
        .map(|v| v.label(lang).to_string())
        .unwrap_or_else(|| lang.pick("未回答", "unanswered").to_string())
}

/// The inquiries with their findings; an answer form under each unanswered one when the user
/// may record answers.
fn inquiries_markup(
    lang: Lang,
    s: &Session,
    list: &[(Inquiry, Vec<Finding>)],
    may_answer: bool,
    back: &str,
    today: chrono::NaiveDate,
) -> Markup {
    html! {
        @if list.is_empty() { p { (lang.pick("照会はありません", "no inquiries")) } }
        @for (q, findings) in list {
            section.inquiry {
                h2 { (lang.pick("照会", "Inquiry")) " #" (q.id) " — " (q.vendor) " "
                    span.muted { "(" (q.asked_on) ", " (q.asked_by) ", "
                        (if q.status == "open" { lang.pick("回答待ち", "awaiting answers") } else { lang.pick("回答済", "answered") }) ")" } }
                p { (q.question) }
                table.list {
                    thead { tr {
                        th { (lang.pick("検出", "Finding")) } th { (lang.pick("機器", "Device")) }
                        th { (lang.pick("脆弱性・所見", "Vulnerability or check")) } th { (lang.pick("緊急度", "Level")) }
                        th { (lang.pick("回答", "Answer")) }
                    } }
                    tbody {
                        @for item in &q.items {
                            @let f = findings.iter().find(|f| f.id == item.finding);
                            tr {
                                td { @if s.vendor_only { (item.finding) } @else { a href={ "/findings/" (item.finding) } { (item.finding) } } }
                                td { @if let Some(f) = f {
                                    @if s.vendor_only { a href={ "/vendor/devices/" (path_segment(&f.asset_id)) } { (f.asset_id) } }
                                    @else { a href={ "/ledger/" (path_segment(&f.asset_id)) } { (f.asset_id) } }
                                    " " (f.asset_name)
                                } }
                                td { @if let Some(f) = f { (vuln_label(lang, &f.vuln)) " " (f.component) } }
                                td { @if let Some(f) = f { (Level::parse(&f.level).map(|l| l.label(lang)).unwrap_or("")) } }
                                td {
                                    (verdict_label(lang, item.verdict.as_deref()))
                                    @if let Some(c) = &item.conditions { " — " (c) }
                                    @if let Some(a) = &item.answer { br; (a) }
                                    @if let (Some(on), Some(by)) = (&item.answered_on, &item.recorded_by) { br; span.muted { (on) " " (by) } }
                                    @if may_answer && item.verdict.is_none() {
                                        form.answer method="post" action={ "/inquiries/" (q.id) "/answer" } {
                                            input type="hidden" name="csrf" value=(s.csrf);
                                            input type="hidden" name="back" value=(back);
                                            input type="hidden" name="finding" value=(item.finding);
                                            select name="verdict" aria-label=(lang.pick("回答区分", "Answer")) {
                                                @for v in Verdict::ALL { option value=(v.code()) { (v.label(lang)) } }
                                            }
                                            input type="text" name="conditions" placeholder=(lang.pick("条件 (条件付きのとき)", "conditions (if conditional)")) aria-label=(lang.pick("条件", "Conditions"));
                                            input type="text" name="answer" placeholder=(lang.pick("回答・備考", "answer, notes")) aria-label=(lang.pick("回答・備考", "Answer, notes"));
                                            input type="date" name="answered_on" max=(today.to_string()) aria-label=(lang.pick("回答日", "Answered on"));
                                            button type="submit" { (lang.pick("回答を記録", "Record the answer")) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

pub(crate) async fn inquiries(State(state): State<WebState>, headers: HeaderMap) -> Response {
    let lang = crate::lang_of(&headers);
    let out = with_app(&state, &headers, |app| {
        app.check(Permission::View)?;
        let may = any_allows(app.roles(), Permission::RecordVendorAnswer);
        Ok((app.own_inquiries()?, may, app.today()))
    })
    .await;
    let (s, (list, may_answer, today)) = match out {
        Ok(x) => x,
        Err(r) => return r,
    };
    layout(
        lang,
        lang.pick("事業者確認", "Vendor inquiries"),
        Some(&s),
        inquiries_markup(lang, &s, &list, may_answer, "/inquiries", today),
    )
    .into_response()
}

// --- the 事業者 user's pages -------------------------------------------------------------

pub(crate) async fn vendor_home(State(state): State<WebState>, headers: HeaderMap) -> Response {
    let lang = crate::lang_of(&headers);
    let out = with_app(&state, &headers, |app| {
        let assets = app.own_assets()?;
        let may = any_allows(app.roles(), Permission::RecordVendorAnswer);
        Ok((assets, app.own_inquiries()?, may, app.today()))
    })
    .await;
    let (s, (assets, inquiries, may_answer, today)) = match out {
        Ok(x) => x,
        Err(r) => return r,
    };
    let open: Vec<(Inquiry, Vec<Finding>)> = inquiries
        .into_iter()
        .filter(|(q, _)| q.status == "open")
        .collect();
    layout(
        lang,
        lang.pick("自社の機器と照会", "Your devices and inquiries"),
        Some(&s),
        html! {
            h2 { (lang.pick("回答待ちの照会", "Inquiries awaiting your answer")) " (" (open.len()) ")" }
            (inquiries_markup(lang, &s, &open, may_answer, "/vendor", today))
            h2 { (lang.pick("保守している機器", "Devices you maintain")) " (" (assets.len()) ")" }
            @if assets.len() > VENDOR_ROWS {
                p { (match lang {
                    Lang::Ja => format!("先頭 {VENDOR_ROWS} 台を表示しています"),
                    Lang::En => format!("the first {VENDOR_ROWS} are shown"),
                }) }
            }
            table.list {
                thead { tr {
                    th { (lang.pick("管理番号", "Asset ID")) } th { (lang.pick("機器名", "Name")) }
                    th { (lang.pick("機器種別", "Kind")) } th { (lang.pick("設置場所", "Location")) }
                    th { (lang.pick("型番", "Model")) } th { "OS" }
                } }
                tbody {
                    @for a in assets.iter().take(VENDOR_ROWS) {
                        tr {
                            td { a href={ "/vendor/devices/" (path_segment(&a.asset.asset_id)) } { (a.asset.asset_id) } }
                            td { (a.asset.name) }
                            td { (a.asset.kind.label(lang)) }
                            td { (a.asset.location.as_deref().unwrap_or("")) }
                            td { (a.asset.model.as_deref().unwrap_or("")) }
                            td { (a.asset.os.as_deref().unwrap_or("")) " " (a.asset.os_version.as_deref().unwrap_or("")) }
                        }
                    }
                }
            }
        },
    )
    .into_response()
}

pub(crate) async fn vendor_device(
    State(state): State<WebState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let lang = crate::lang_of(&headers);
    let out = with_app(&state, &headers, move |app| app.own_asset(&id)).await;
    let (s, (stored, findings)) = match out {
        Ok(x) => x,
        Err(r) => return r,
    };
    let a = &stored.asset;
    let row = |label: &str, v: &str| html! { tr { th { (label) } td { (v) } } };
    let listed: Vec<&Finding> = findings.iter().collect();
    layout(
        lang,
        &format!("{} {}", a.asset_id, a.name),
        Some(&s),
        html! {
            table.fields {
                (row(lang.pick("機器種別", "Kind"), a.kind.label(lang)))
                (row(lang.pick("部署", "Department"), a.department.as_deref().unwrap_or("")))
                (row(lang.pick("設置場所", "Location"), a.location.as_deref().unwrap_or("")))
                (row(lang.pick("製造元", "Manufacturer"), a.manufacturer.as_deref().unwrap_or("")))
                (row(lang.pick("型番", "Model"), a.model.as_deref().unwrap_or("")))
                (row("OS", &format!("{} {}", a.os.as_deref().unwrap_or(""), a.os_version.as_deref().unwrap_or(""))))
                (row(lang.pick("ソフトウェア", "Software"), &a.software.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(", ")))
            }
            h2 { (lang.pick("照会された所見", "Findings you were asked about")) " (" (findings.len()) ")" }
            @if s.vendor_only {
                table.list {
                    thead { tr { th { "#" } th { (lang.pick("緊急度", "Level")) } th { (lang.pick("構成要素", "Component")) } th { (lang.pick("脆弱性・所見", "Vulnerability or check")) } th { (lang.pick("対応状況", "Remediation")) } } }
                    tbody {
                        @for f in &findings {
                            tr {
                                td { (f.id) }
                                td { (Level::parse(&f.level).map(|l| l.label(lang)).unwrap_or("")) }
                                td { (f.component) }
                                td { (vuln_label(lang, &f.vuln)) }
                                td { (Remediation::parse(&f.state).map(|r| r.label(lang)).unwrap_or("")) }
                            }
                        }
                    }
                }
            } @else {
                (findings_table(lang, &listed, None))
            }
            p { a href="/vendor" { (lang.pick("自社の機器と照会へ", "Back to your devices and inquiries")) } }
        },
    )
    .into_response()
}
