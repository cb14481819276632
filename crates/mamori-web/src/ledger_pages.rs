//! 機器台帳 changes from the browser — uploading a ledger file (imported as a job, with the
//! command line's row-level report) and editing one device — and the job pages that show
//! long work (imports, matching runs) as it goes.

use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use mamori_app::ledger::{ImportOptions, Progress};
use mamori_app::App;
use mamori_core::access::{any_allows, Permission};
use mamori_core::Lang;
use mamori_ledger::columns::Field;
use mamori_ledger::write::{cell_text, Column};
use maud::html;

use crate::forms::{posted, posted_allowed, spawn_job, upload};
use crate::jobs::{Job, JobState};
use crate::pages::{field, fields, layout, layout_refreshing, opt_text, path_segment};
use crate::{app_error, error_page, lang_of, with_app, WebState};

/// The largest ledger file accepted by upload.
pub const MAX_UPLOAD: usize = 20 * 1024 * 1024;

/// The extensions a ledger file may have.
const LEDGER_TYPES: &[&str] = &["xlsx", "xlsm", "xls", "ods", "csv", "tsv", "txt"];

fn both(f: impl Fn(Lang) -> String) -> (String, String) {
    (f(Lang::Ja), f(Lang::En))
}

// --- import -------------------------------------------------------------------------------

pub(crate) async fn import_page(State(state): State<WebState>, headers: HeaderMap) -> Response {
    let lang = lang_of(&headers);
    let out = with_app(&state, &headers, |app| app.check(Permission::EditLedger)).await;
    let (s, ()) = match out {
        Ok(x) => x,
        Err(r) => return r,
    };
    layout(
        lang,
        lang.pick("台帳の取込", "Import a ledger"),
        Some(&s),
        html! {
            p { (lang.pick(
                "Excel (.xlsx/.xls)、LibreOffice (.ods)、CSV・TSV (UTF-8 または Shift_JIS) の台帳を取り込みます。1 行でも誤りがあれば何も変更せず、誤りのある行と列を示します。",
                "Imports a ledger from Excel (.xlsx/.xls), LibreOffice (.ods) or CSV/TSV (UTF-8 or Shift_JIS). If any row is wrong nothing changes, and the report names each wrong row and column."
            )) }
            form.stack method="post" action="/ledger/import" enctype="multipart/form-data" {
                input type="hidden" name="csrf" value=(s.csrf);
                label { (lang.pick("台帳ファイル (20 MB まで)", "Ledger file (up to 20 MB)"))
                    input type="file" name="file" required accept=".xlsx,.xlsm,.xls,.ods,.csv,.tsv,.txt";
                }
                label.check { input type="checkbox" name="dry_run" value="1"; (lang.pick("確認のみ (台帳を変更しない)", "Check only (change nothing)")) }
                label.check { input type="checkbox" name="skip_invalid" value="1"; (lang.pick("誤りのある行を飛ばして残りを取り込む", "Skip the wrong rows and import the rest")) }
                label.check { input type="checkbox" name="sync" value="1"; (lang.pick("ファイルにない機器を廃棄済にする", "Retire the devices the file does not list")) }
                button type="submit" { (lang.pick("取込", "Import")) }
            }
            p { a href="/jobs" { (lang.pick("処理の一覧", "Jobs")) } }
        },
    )
    .into_response()
}

pub(crate) async fn import_upload(
    State(state): State<WebState>,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let lang = lang_of(&headers);
    let bad = |status: StatusCode, ja: &str, en: &str| {
        error_page(lang, status, Some(lang.pick(ja, en).to_string()))
    };
    let (s, u) = match upload(
        &state,
        &headers,
        multipart,
        MAX_UPLOAD,
        Permission::EditLedger,
    )
    .await
    {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let (dry_run, skip_invalid, sync) = (u.flag("dry_run"), u.flag("skip_invalid"), u.flag("sync"));
    let Some((name, bytes)) = u.files.into_iter().next() else {
        return bad(
            StatusCode::BAD_REQUEST,
            "台帳ファイルを選んでください",
            "choose the ledger file",
        );
    };
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    if !LEDGER_TYPES.contains(&ext.as_str()) {
        return bad(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            &format!("「{name}」は台帳ファイルではありません。.xlsx .xls .ods .csv .tsv のいずれかを選んでください"),
            &format!("{name:?} is not a ledger file: choose an .xlsx, .xls, .ods, .csv or .tsv file"),
        );
    }
    if bytes.is_empty() {
        return bad(
            StatusCode::BAD_REQUEST,
            &format!("「{name}」は空のファイルです"),
            &format!("{name:?} is empty"),
        );
    }
    let title = both(|l| format!("{} {name}", l.pick("台帳の取込", "Ledger import")));
    spawn_job(&state, &s, title, move |reporter, mut app| {
        let progress = |p: Progress| match p {
            Progress::Reading => reporter.step("読み込みと検査", "reading and checking", None),
            Progress::Writing { done, total } => {
                reporter.step("書き込み", "writing", Some((done, total)))
            }
            Progress::Committing => reporter.step("確定", "committing", None),
        };
        let mut confirm = |_: &[String]| sync;
        let out = app.import_bytes(
            &name,
            &name,
            &bytes,
            &mamori_ledger::Mapping::default(),
            ImportOptions {
                sheet: None,
                mapping: None,
                dry_run,
                skip_invalid,
                sync,
                confirm_retire: &mut confirm,
                progress: &progress,
            },
        );
        out.map(|r| {
            r.lines(Lang::Ja)
                .into_iter()
                .zip(r.lines(Lang::En))
                .collect()
        })
    })
}

// --- matching run -------------------------------------------------------------------------

pub(crate) async fn run_match(
    State(state): State<WebState>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let form = fields(&body);
    let s = match posted_allowed(&state, &headers, field(&form, "csrf"), Permission::RunMatch).await
    {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let mode = if field(&form, "mode") == "full" {
        mamori_app::matching::MatchMode::Full
    } else {
        mamori_app::matching::MatchMode::Incremental
    };
    let title = both(|l| l.pick("突合", "Matching").to_string());
    spawn_job(&state, &s, title, move |reporter, mut app| {
        reporter.step(
            "台帳と脆弱性情報の突合",
            "matching the ledger with the vulnerability records",
            None,
        );
        app.run_match(mode).map(|r| {
            vec![
                both(|l| match l {
                    Lang::Ja => format!(
                        "機器 {} 台、構成要素 {}、脆弱性情報 {} 件を突合しました ({:.1} 秒)",
                        r.assets, r.components, r.records, r.seconds
                    ),
                    Lang::En => format!(
                        "matched {} devices, {} components and {} records ({:.1} s)",
                        r.assets, r.components, r.records, r.seconds
                    ),
                }),
                both(|l| match l {
                    Lang::Ja => format!(
                        "新規 {}  再発 {}  解消 {}  継続 {}  未対応の合計 {}",
                        r.opened, r.reopened, r.resolved, r.confirmed, r.open
                    ),
                    Lang::En => format!(
                        "opened {}  reopened {}  resolved {}  still open {}  open in all {}",
                        r.opened, r.reopened, r.resolved, r.confirmed, r.open
                    ),
                }),
            ]
        })
    })
}

// --- jobs ---------------------------------------------------------------------------------

fn job_state(lang: Lang, j: &Job) -> String {
    let pick = |(ja, en): &(String, String)| {
        if lang == Lang::Ja {
            ja.clone()
        } else {
            en.clone()
        }
    };
    match &j.state {
        JobState::Running { step, count } => match count {
            Some((done, total)) => format!(
                "{} {} {done}/{total} ({}%)",
                lang.pick("実行中:", "running:"),
                pick(step),
                if *total == 0 { 100 } else { done * 100 / total }
            ),
            None => format!("{} {}", lang.pick("実行中:", "running:"), pick(step)),
        },
        JobState::Done(_) => lang.pick("完了", "done").into(),
        JobState::Failed(_) => lang
            .pick("失敗 (変更なし)", "failed (nothing changed)")
            .into(),
    }
}

/// Whether the user sees everyone's jobs (those who manage mamori or read the audit log).
async fn sees_all(
    state: &WebState,
    headers: &HeaderMap,
) -> Result<(crate::session::Session, bool), Response> {
    with_app(state, headers, |app| {
        Ok(any_allows(app.roles(), Permission::ManageUsers)
            || any_allows(app.roles(), Permission::ViewAudit))
    })
    .await
}

pub(crate) async fn jobs(State(state): State<WebState>, headers: HeaderMap) -> Response {
    let lang = lang_of(&headers);
    let (s, all) = match sees_all(&state, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let list = state.jobs.visible(&s.user, all);
    let running = list
        .iter()
        .any(|j| matches!(j.state, JobState::Running { .. }));
    let body = html! {
        @if list.is_empty() { p { (lang.pick("このサーバーが起動してからの処理はありません", "no job since this server started")) } }
        @else {
            table.list {
                thead { tr { th { "#" } th { (lang.pick("処理", "Job")) } th { (lang.pick("利用者", "User")) } th { (lang.pick("開始", "Started")) } th { (lang.pick("状況", "State")) } } }
                tbody {
                    @for j in &list {
                        tr {
                            td { a href={ "/jobs/" (j.id) } { (j.id) } }
                            td { (if lang == Lang::Ja { &j.title.0 } else { &j.title.1 }) }
                            td { (j.user) }
                            td { (j.started.with_timezone(&chrono::Local).format("%Y-%m-%d %H:%M:%S")) }
                            td { (job_state(lang, j)) }
                        }
                    }
                }
            }
        }
    };
    let title = lang.pick("処理の一覧", "Jobs");
    if running {
        layout_refreshing(lang, title, Some(&s), body).into_response()
    } else {
        layout(lang, title, Some(&s), body).into_response()
    }
}

pub(crate) async fn job(
    State(state): State<WebState>,
    headers: HeaderMap,
    Path(id): Path<u64>,
) -> Response {
    let lang = lang_of(&headers);
    let (s, all) = match sees_all(&state, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some(j) = state.jobs.get(id, &s.user, all) else {
        return error_page(
            lang,
            StatusCode::NOT_FOUND,
            Some(lang.pick("その処理はありません", "no such job").into()),
        );
    };
    let pick = |(ja, en): &(String, String)| {
        if lang == Lang::Ja {
            ja.clone()
        } else {
            en.clone()
        }
    };
    let title = format!("#{} {}", j.id, pick(&j.title));
    let body = html! {
        p.state role="status" { (job_state(lang, &j)) }
        @if let JobState::Running { count: Some((done, total)), .. } = &j.state {
            progress max=(total) value=(done) { (done) "/" (total) }
        }
        @match &j.state {
            JobState::Done(lines) => { pre.report { @for l in lines { (pick(l)) "\n" } } }
            JobState::Failed(lines) => { pre.report.error role="alert" { @for l in lines { (pick(l)) "\n" } } }
            JobState::Running { .. } => { p { (lang.pick("このページは 2 秒ごとに更新されます", "this page reloads every 2 seconds")) } }
        }
        p { a href="/jobs" { (lang.pick("処理の一覧", "Jobs")) } " | " a href="/ledger" { (lang.pick("機器台帳", "Device ledger")) } }
    };
    if matches!(j.state, JobState::Running { .. }) {
        layout_refreshing(lang, &title, Some(&s), body).into_response()
    } else {
        layout(lang, &title, Some(&s), body).into_response()
    }
}

// --- edit one device ----------------------------------------------------------------------

/// The columns edited on the device page (管理番号 is the page's key, not a field).
fn editable() -> impl Iterator<Item = Field> {
    Field::all().filter(|f| *f != Field::AssetId)
}

fn long(f: Field) -> bool {
    matches!(
        f,
        Field::Notes | Field::Software | Field::Cpe | Field::Purpose | Field::MdsSds | Field::Sbom
    )
}

pub(crate) async fn edit_page(
    State(state): State<WebState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let lang = lang_of(&headers);
    let out = with_app(&state, &headers, move |app| {
        app.check(Permission::EditLedger)?;
        app.show_asset(&id).map(|(a, _)| a)
    })
    .await;
    let (s, stored) = match out {
        Ok(x) => x,
        Err(r) => return r,
    };
    let a = &stored.asset;
    layout(
        lang,
        &format!("{} {} — {}", a.asset_id, a.name, lang.pick("編集", "edit")),
        Some(&s),
        html! {
            p { (lang.pick(
                "値は取込と同じ規則で検査します。空にした欄は値を消します。",
                "Values are checked by the same rules as an import; a field left empty clears the value."
            )) }
            form.stack.edit method="post" action={ "/ledger/" (path_segment(&a.asset_id)) "/edit" } {
                input type="hidden" name="csrf" value=(s.csrf);
                @for f in editable() {
                    @let value = cell_text(a, &Column::Field(f), lang);
                    label {
                        (f.header(lang))
                        @if long(f) { textarea name=(f.code()) rows="2" { (value) } }
                        @else { input type="text" name=(f.code()) value=(value) maxlength=(f.max_len()); }
                    }
                }
                label { (lang.pick("変更の理由", "Reason for the change")) input type="text" name="reason"; }
                button type="submit" { (lang.pick("保存", "Save")) }
            }
        },
    )
    .into_response()
}

pub(crate) async fn edit_save(
    State(state): State<WebState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: String,
) -> Response {
    let lang = lang_of(&headers);
    let form = fields(&body);
    let s = match posted(&state, &headers, field(&form, "csrf")) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let dir = state.data_dir.clone();
    let asset_id = id.clone();
    let out = tokio::task::spawn_blocking(move || {
        let mut app = App::resume(&dir, &s.user)?;
        app.check(Permission::EditLedger)?;
        let (stored, _) = app.show_asset(&asset_id)?;
        // Only the fields whose text differs from what the form showed are changed.
        let values: Vec<(String, String)> = editable()
            .filter_map(|f| {
                let sent = form
                    .iter()
                    .find(|(k, _)| k == f.code())?
                    .1
                    .replace("\r\n", "\n");
                (sent.trim() != cell_text(&stored.asset, &Column::Field(f), lang).trim())
                    .then(|| (f.code().to_string(), sent.trim().to_string()))
            })
            .collect();
        if values.is_empty() {
            return Ok(());
        }
        app.edit_asset(&asset_id, &values, opt_text(&form, "reason").as_deref())
            .map(|_| ())
    })
    .await;
    match out {
        Ok(Ok(())) => Redirect::to(&format!("/ledger/{}", path_segment(&id))).into_response(),
        Ok(Err(e)) => app_error(lang, &e),
        Err(_) => error_page(lang, StatusCode::INTERNAL_SERVER_ERROR, None),
    }
}
