//! Work started from the フィード状態 and スキャン pages, as jobs: uploading feed files (the
//! closed-network way: NVD, JVN, KEV, EPSS, CSAF files carried in), syncing from the sources on
//! the internet (where the server may reach them), and running a scan of a given scope.

use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use mamori_app::App;
use mamori_core::access::Permission;

use crate::forms::{posted, posted_allowed, spawn_job, upload};
use crate::pages::{field, fields};
use crate::session::token;
use crate::{app_error, error_page, lang_of, WebState};

/// The most a feed upload may carry (NVD's yearly files are tens of MB).
pub const MAX_FEED_UPLOAD: usize = 256 * 1024 * 1024;

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
    let (s, u) = match upload(
        &state,
        &headers,
        multipart,
        MAX_FEED_UPLOAD,
        Permission::ImportFeeds,
    )
    .await
    {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let files: Vec<(String, Vec<u8>)> = u
        .files
        .into_iter()
        .filter(|(n, b)| !n.is_empty() && !b.is_empty())
        .collect();
    if files.is_empty() {
        return error_page(
            lang,
            StatusCode::BAD_REQUEST,
            Some(
                lang.pick(
                    "取り込むファイルを選んでください",
                    "choose the files to import",
                )
                .into(),
            ),
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
            return Err(mamori_app::AppError::Internal(format!(
                "cannot keep the upload in {}: {e}",
                dir.display()
            )));
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
        out.map(|reports| reports.iter().map(file_line).collect())
    })
}

/// Syncs the chosen sources (all when none is ticked) from the internet.
pub(crate) async fn sync(
    State(state): State<WebState>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let form = fields(&body);
    let s = match posted_allowed(
        &state,
        &headers,
        field(&form, "csrf"),
        Permission::ImportFeeds,
    )
    .await
    {
        Ok(s) => s,
        Err(r) => return *r,
    };
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
        let config = mamori_app::sync::SyncConfig::load(&dir)?;
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
        app.sync_feeds(&sources, None, &config, &progress)
            .map(|reports| {
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
                    .collect()
            })
    })
}

/// Runs a scan of the scope typed in: checked first (a bad scope is refused at once), then a
/// job whose page shows hosts done of total and open ports as it goes.
pub(crate) async fn run_scan(
    State(state): State<WebState>,
    headers: HeaderMap,
    body: String,
) -> Response {
    use std::sync::atomic::Ordering;
    use std::sync::Arc;
    let lang = lang_of(&headers);
    let form = fields(&body);
    let text = |k: &str| {
        form.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let s = match posted(&state, &headers, &text("csrf").unwrap_or_default()) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let req = mamori_app::scans::ScanRequest {
        scope: text("scope"),
        exclude: text("exclude"),
        ports: text("ports"),
        yes: text("yes").as_deref() == Some("1"),
        ..Default::default()
    };
    let dir = state.data_dir.clone();
    let user = s.user.clone();
    let prepared = tokio::task::spawn_blocking(move || {
        let mut app = App::resume(&dir, &user)?;
        app.prepare_scan(&req)
    })
    .await;
    let prepared = match prepared {
        Ok(Ok(p)) => p,
        Ok(Err(e)) => return app_error(lang, &e),
        Err(_) => return error_page(lang, StatusCode::INTERNAL_SERVER_ERROR, None),
    };
    let scope = text("scope").unwrap_or_default();
    let title = (format!("スキャン {scope}"), format!("Scan {scope}"));
    spawn_job(&state, &s, title, move |reporter, mut app| {
        let counters = Arc::new(mamori_app::scans::Counters::default());
        let total = prepared.targets.len();
        let (done, finished) = std::sync::mpsc::channel::<()>();
        let ticker = {
            let (reporter, counters) = (reporter.clone(), counters.clone());
            std::thread::spawn(move || {
                while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                    finished.recv_timeout(std::time::Duration::from_millis(250))
                {
                    let open = counters.open_ports.load(Ordering::Relaxed);
                    reporter.step(
                        &format!("走査中 (開いたポート {open})"),
                        &format!("scanning (open ports {open})"),
                        Some((counters.hosts_done.load(Ordering::Relaxed), total)),
                    );
                }
            })
        };
        let out = app.run_scan(prepared, counters, mamori_app::scans::StopFlag::default());
        drop(done);
        let _ = ticker.join();
        out.map(|r| {
            vec![
                (
                    format!(
                        "スキャン #{}: {} 台中 {} 台が応答、開いたポート {}、{:.1} 秒",
                        r.id, r.hosts, r.up, r.open_ports, r.seconds
                    ),
                    format!(
                        "scan #{}: {} of {} hosts answered, {} open ports, {:.1} s",
                        r.id, r.up, r.hosts, r.open_ports, r.seconds
                    ),
                ),
                (
                    format!(
                        "新しい所見 {}、解消 {}、未登録機器 {}",
                        r.opened.len(),
                        r.resolved.len(),
                        r.unregistered
                    ),
                    format!(
                        "{} findings opened, {} resolved, {} unregistered devices",
                        r.opened.len(),
                        r.resolved.len(),
                        r.unregistered
                    ),
                ),
            ]
        })
    })
}
