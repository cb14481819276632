//! Bringing vulnerability information in from the フィード状態 page, as jobs: uploading feed
//! files (the closed-network way: NVD, JVN, KEV, EPSS, CSAF files carried in) and syncing
//! from the sources on the internet (where the server may reach them).

use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use mamori_app::App;
use mamori_core::access::Permission;
use mamori_core::Lang;

use crate::jobs::{JobState, Reporter};
use crate::ledger_pages::read_upload;
use crate::pages::{checked, fields};
use crate::session::{token, Session};
use crate::{app_error, error_page, lang_of, WebState};

/// The most a feed upload may carry (NVD's yearly files are tens of MB).
pub const MAX_FEED_UPLOAD: usize = 256 * 1024 * 1024;

/// Checks `permission` for the session's user off the request thread.
async fn allowed(
    state: &WebState,
    s: &Session,
    permission: Permission,
    lang: Lang,
) -> Result<(), Response> {
    let dir = state.data_dir.clone();
    let user = s.user.clone();
    let out =
        tokio::task::spawn_blocking(move || App::resume(&dir, &user)?.check(permission)).await;
    match out {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(app_error(lang, &e)),
        Err(_) => Err(error_page(lang, StatusCode::INTERNAL_SERVER_ERROR, None)),
    }
}

/// Starts `work` as a job of the session's user; returns the redirect to its page.
fn spawn_job(
    state: &WebState,
    s: &Session,
    title: (String, String),
    work: impl FnOnce(&Reporter, App) -> JobState + Send + 'static,
) -> Response {
    let id = state.jobs.start(&s.user, title);
    let reporter = Reporter {
        jobs: state.jobs.clone(),
        id,
    };
    let dir = state.data_dir.clone();
    let user = s.user.clone();
    tokio::task::spawn_blocking(move || {
        let end = match App::resume(&dir, &user) {
            Ok(app) => work(&reporter, app),
            Err(e) => JobState::Failed(crate::ledger_pages::error_lines(&e)),
        };
        reporter.jobs.set(id, end);
    });
    Redirect::to(&format!("/jobs/{id}")).into_response()
}

fn file_line(r: &mamori_app::feeds::FeedFileReport) -> (String, String) {
    match &r.error {
        Some(e) => (
            format!("{}: 取り込めません (変更なし): {e}", r.origin),
            format!("{}: not imported (nothing changed): {e}", r.origin),
        ),
        None => (
            format!(
                "{} [{}]: {} 件 (追加 {}、更新 {}、変更なし {}、スキップ {})",
                r.origin,
                r.kind.unwrap_or("?"),
                r.records,
                r.added,
                r.updated,
                r.unchanged,
                r.skipped
            ),
            format!(
                "{} [{}]: {} records ({} added, {} updated, {} unchanged, {} skipped)",
                r.origin,
                r.kind.unwrap_or("?"),
                r.records,
                r.added,
                r.updated,
                r.unchanged,
                r.skipped
            ),
        ),
    }
}

/// Feed files uploaded: kept under the data directory while they are read, then removed.
pub(crate) async fn import_upload(
    State(state): State<WebState>,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let lang = lang_of(&headers);
    let bad = |status: StatusCode, ja: &str, en: &str| {
        error_page(lang, status, Some(lang.pick(ja, en).to_string()))
    };
    let Ok(multipart) = multipart else {
        return bad(
            StatusCode::BAD_REQUEST,
            "ファイルの送信はフォーム (multipart/form-data) で行ってください",
            "send the files with the form (multipart/form-data)",
        );
    };
    let u = match read_upload(multipart, MAX_FEED_UPLOAD).await {
        Ok(u) => u,
        Err((status, ja, en)) => return bad(status, &ja, &en),
    };
    let (_, s) = match checked(&state, &headers, &u.csrf) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    if s.must_change_password {
        return Redirect::to("/password").into_response();
    }
    if let Err(r) = allowed(&state, &s, Permission::ImportFeeds, lang).await {
        return r;
    }
    let files: Vec<(String, Vec<u8>)> = u
        .files
        .into_iter()
        .filter(|(n, b)| !n.is_empty() && !b.is_empty())
        .collect();
    if files.is_empty() {
        return bad(
            StatusCode::BAD_REQUEST,
            "取り込むファイルを選んでください",
            "choose the files to import",
        );
    }
    let dir = state.data_dir.join("uploads").join(token());
    let names: Vec<String> = files.iter().map(|(n, _)| n.clone()).collect();
    let title = (
        format!("脆弱性情報の取込 {}", names.join(", ")),
        format!("Import of vulnerability information {}", names.join(", ")),
    );
    spawn_job(&state, &s, title, move |reporter, mut app| {
        let mut paths = Vec::new();
        let saved = std::fs::create_dir_all(&dir).and_then(|_| {
            for (name, bytes) in &files {
                let p = dir.join(name);
                std::fs::write(&p, bytes)?;
                paths.push(p);
            }
            Ok(())
        });
        if let Err(e) = saved {
            let _ = std::fs::remove_dir_all(&dir);
            return JobState::Failed(vec![(
                format!("アップロードを保存できません: {e}"),
                format!("cannot keep the upload: {e}"),
            )]);
        }
        let progress = |p: mamori_app::feeds::FeedProgress<'_>| {
            let name = p.origin.rsplit('/').next().unwrap_or(p.origin);
            reporter.step(
                &format!("{name} を読み込み中 ({} 件)", p.records),
                &format!("reading {name} ({} records)", p.records),
                Some((p.bytes as usize, p.total as usize)),
            );
        };
        let out = app.import_feeds(&paths, &progress);
        let _ = std::fs::remove_dir_all(&dir);
        match out {
            Ok(reports) => JobState::Done(reports.iter().map(file_line).collect()),
            Err(e) => JobState::Failed(crate::ledger_pages::error_lines(&e)),
        }
    })
}

/// Syncs the chosen sources (all when none is ticked) from the internet.
pub(crate) async fn sync(
    State(state): State<WebState>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let lang = lang_of(&headers);
    let form = fields(&body);
    let csrf = form
        .iter()
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.as_str())
        .unwrap_or("");
    let (_, s) = match checked(&state, &headers, csrf) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    if s.must_change_password {
        return Redirect::to("/password").into_response();
    }
    if let Err(r) = allowed(&state, &s, Permission::ImportFeeds, lang).await {
        return r;
    }
    let sources: Vec<String> = form
        .iter()
        .filter(|(k, _)| k == "source")
        .map(|(_, v)| v.clone())
        .collect();
    let title = (
        format!("脆弱性情報の同期 {}", sources.join(", ")),
        format!("Sync of vulnerability information {}", sources.join(", ")),
    );
    let dir = state.data_dir.clone();
    spawn_job(&state, &s, title, move |reporter, mut app| {
        let config = match mamori_app::sync::SyncConfig::load(&dir) {
            Ok(c) => c,
            Err(e) => return JobState::Failed(crate::ledger_pages::error_lines(&e)),
        };
        let progress = |p: mamori_app::sync::SyncProgress<'_>| {
            reporter.step(
                &format!(
                    "{} を取得中 (要求 {}、{} 件)",
                    p.source, p.requests, p.records
                ),
                &format!(
                    "fetching {} ({} requests, {} records)",
                    p.source, p.requests, p.records
                ),
                p.total.map(|t| (p.records, t as usize)),
            );
        };
        match app.sync_feeds(&sources, None, &config, &progress) {
            Ok(reports) => JobState::Done(
                reports
                    .iter()
                    .map(|r| match &r.error {
                        Some(e) => (
                            format!("{}: 失敗 (要求 {}): {e}", r.source, r.requests),
                            format!("{}: failed ({} requests): {e}", r.source, r.requests),
                        ),
                        None => (
                            format!(
                                "{}: {} 件 (追加 {}、更新 {}、変更なし {}){}",
                                r.source,
                                r.records,
                                r.added,
                                r.updated,
                                r.unchanged,
                                if r.not_modified {
                                    " — 更新なし"
                                } else {
                                    ""
                                }
                            ),
                            format!(
                                "{}: {} records ({} added, {} updated, {} unchanged){}",
                                r.source,
                                r.records,
                                r.added,
                                r.updated,
                                r.unchanged,
                                if r.not_modified {
                                    " — not modified"
                                } else {
                                    ""
                                }
                            ),
                        ),
                    })
                    .collect(),
            ),
            Err(e) => JobState::Failed(crate::ledger_pages::error_lines(&e)),
        }
    })
}
