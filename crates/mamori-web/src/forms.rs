//! What the state-changing requests share: the session whose CSRF token the form carries (a
//! one-time password sends the user to change it first), a permission checked before long
//! work starts, upload forms read within their route's limit, and starting a job.

use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use mamori_app::{App, AppError};
use mamori_core::access::Permission;
use mamori_core::Lang;

use crate::jobs::{JobState, Reporter};
use crate::pages::checked;
use crate::session::Session;
use crate::{app_error, error_page, lang_of, WebState};

/// The session of a form POST carrying `csrf`, or the response that refuses it.
pub(crate) fn posted(
    state: &WebState,
    headers: &HeaderMap,
    csrf: &str,
) -> Result<Session, Box<Response>> {
    let (_, s) = checked(state, headers, csrf)?;
    if s.must_change_password {
        return Err(Box::new(Redirect::to("/password").into_response()));
    }
    Ok(s)
}

/// [`posted`], then [`allowed`] for `permission`.
pub(crate) async fn posted_allowed(
    state: &WebState,
    headers: &HeaderMap,
    csrf: &str,
    permission: Permission,
) -> Result<Session, Box<Response>> {
    let s = posted(state, headers, csrf)?;
    allowed(state, &s, permission, lang_of(headers)).await?;
    Ok(s)
}

/// Checks `permission` for the session's user (off the request thread), so that a refusal
/// comes at once rather than as a failed job.
pub(crate) async fn allowed(
    state: &WebState,
    s: &Session,
    permission: Permission,
    lang: Lang,
) -> Result<(), Box<Response>> {
    let dir = state.data_dir.clone();
    let user = s.user.clone();
    let out =
        tokio::task::spawn_blocking(move || App::resume(&dir, &user)?.check(permission)).await;
    match out {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(Box::new(app_error(lang, &e))),
        Err(_) => Err(Box::new(error_page(
            lang,
            StatusCode::INTERNAL_SERVER_ERROR,
            None,
        ))),
    }
}

/// An upload form (multipart, within `limit` bytes) with its session and the permission it
/// needs checked.
pub(crate) async fn upload(
    state: &WebState,
    headers: &HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
    limit: usize,
    permission: Permission,
) -> Result<(Session, Upload), Box<Response>> {
    let lang = lang_of(headers);
    let bad = |status: StatusCode, ja: &str, en: &str| {
        Box::new(error_page(
            lang,
            status,
            Some(lang.pick(ja, en).to_string()),
        ))
    };
    let Ok(multipart) = multipart else {
        return Err(bad(
            StatusCode::BAD_REQUEST,
            "ファイルの送信はフォーム (multipart/form-data) で行ってください",
            "send the files with the form (multipart/form-data)",
        ));
    };
    let u = read_upload(multipart, limit)
        .await
        .map_err(|(status, ja, en)| bad(status, &ja, &en))?;
    let s = posted_allowed(state, headers, &u.csrf, permission).await?;
    Ok((s, u))
}

/// Starts `work` as a job of the session's user; returns the redirect to its page. The
/// work's report lines (Japanese, English) end it as done; its error, as failed.
pub(crate) fn spawn_job(
    state: &WebState,
    s: &Session,
    title: (String, String),
    work: impl FnOnce(&Reporter, App) -> mamori_app::Result<Vec<(String, String)>> + Send + 'static,
) -> Response {
    let id = state.jobs.start(&s.user, title);
    let reporter = Reporter {
        jobs: state.jobs.clone(),
        id,
    };
    let dir = state.data_dir.clone();
    let user = s.user.clone();
    tokio::task::spawn_blocking(move || {
        let end = match App::resume(&dir, &user).and_then(|app| work(&reporter, app)) {
            Ok(lines) => JobState::Done(lines),
            Err(e) => JobState::Failed(error_lines(&e)),
        };
        reporter.jobs.set(id, end);
    });
    Redirect::to(&format!("/jobs/{id}")).into_response()
}

/// Every line of an error, in both languages.
pub(crate) fn error_lines(e: &AppError) -> Vec<(String, String)> {
    let ja = e.message(Lang::Ja);
    let en = e.message(Lang::En);
    let (ja, en): (Vec<&str>, Vec<&str>) = (ja.lines().collect(), en.lines().collect());
    (0..ja.len().max(en.len()))
        .map(|i| {
            (
                ja.get(i).copied().unwrap_or("").to_string(),
                en.get(i).copied().unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// What an upload form sent: its files (name without folders, bytes) and other fields.
#[derive(Default)]
pub(crate) struct Upload {
    pub(crate) csrf: String,
    pub(crate) files: Vec<(String, Vec<u8>)>,
    pub(crate) fields: Vec<(String, String)>,
}

impl Upload {
    pub(crate) fn flag(&self, name: &str) -> bool {
        self.fields.iter().any(|(k, v)| k == name && v == "1")
    }
}

/// Reads an upload form whose route allows `limit` bytes.
pub(crate) async fn read_upload(
    mut m: Multipart,
    limit: usize,
) -> Result<Upload, (StatusCode, String, String)> {
    let too_big = |status: StatusCode| {
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            (
                status,
                format!(
                    "ファイルが大きすぎます (上限 {} MB)。分けて取り込んでください",
                    limit / 1024 / 1024
                ),
                format!(
                    "the file is too large (at most {} MB); split it and import the parts",
                    limit / 1024 / 1024
                ),
            )
        } else {
            (
                StatusCode::BAD_REQUEST,
                "送信されたフォームを読めません。もう一度選んで送ってください".into(),
                "the form sent could not be read; choose the file and send it again".into(),
            )
        }
    };
    let mut u = Upload::default();
    while let Some(f) = m.next_field().await.map_err(|e| too_big(e.status()))? {
        let name = f.name().unwrap_or("").to_string();
        if let Some(file) = f.file_name() {
            // The name without folders, never "." or ".." (it names a file kept for a while).
            let file = file.rsplit(['/', '\\']).next().unwrap_or(file);
            let file = match file {
                "." | ".." => "upload".to_string(),
                f => f.replace('\0', ""),
            };
            let bytes = f.bytes().await.map_err(|e| too_big(e.status()))?.to_vec();
            if !file.is_empty() || !bytes.is_empty() {
                u.files.push((file, bytes));
            }
        } else {
            let text = f.text().await.map_err(|e| too_big(e.status()))?;
            if name == "csrf" {
                u.csrf = text;
            } else {
                u.fields.push((name, text));
            }
        }
    }
    Ok(u)
}
