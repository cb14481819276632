//! The application's errors: each is either the user's to fix (exit code 1) or ours
//! (exit code 2), and each has a message in Japanese and English.

use std::path::PathBuf;

use mamori_core::{Labelled, Lang};
use mamori_ledger::columns::MappingError;
use mamori_ledger::write::ExportError;
use mamori_ledger::{Problem, TableError};
use mamori_store::StoreError;

/// Why a use case failed.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// No store in the data directory.
    #[error("no mamori store in {0}")]
    NoStore(PathBuf),
    /// `init` found a store already there.
    #[error("a mamori store already exists in {0}")]
    StoreExists(PathBuf),
    /// A directory that is not mamori's demo directory and is not empty.
    #[error("{0} is not empty and not a mamori demo directory")]
    NotDemoDir(PathBuf),
    /// A file could not be read as a table.
    #[error("{file}: {error}")]
    Table {
        /// The file.
        file: String,
        /// Why.
        error: TableError,
    },
    /// The mapping file is wrong.
    #[error("{file}: {error}")]
    Mapping {
        /// The mapping file.
        file: String,
        /// Why.
        error: MappingError,
    },
    /// The import file has invalid rows or headers; nothing was imported.
    #[error("{file}: {} problems", problems.len())]
    Invalid {
        /// The file.
        file: String,
        /// Every error found (warnings are not included).
        problems: Vec<Problem>,
        /// How many rows are invalid.
        invalid_rows: usize,
        /// Whether `--skip-invalid` could import the rest.
        skippable: bool,
    },
    /// Writing an export failed.
    #[error("{file}: {error}")]
    Export {
        /// The file.
        file: String,
        /// Why.
        error: ExportError,
    },
    /// No device with that 管理番号.
    #[error("no device {0}")]
    AssetNotFound(String),
    /// No finding with that number.
    #[error("no finding {0}")]
    FindingNotFound(i64),
    /// A device with that 管理番号 exists.
    #[error("device {0} exists")]
    AssetExists(String),
    /// A column name that the ledger does not have.
    #[error("unknown column {0}")]
    UnknownField(String),
    /// A value given on the command line that cannot be used.
    #[error("{field}: {message_en}")]
    BadValue {
        /// The column or option.
        field: String,
        /// Japanese message.
        message_ja: String,
        /// English message.
        message_en: String,
    },
    /// The acting user's roles do not allow this.
    #[error("{actor} may not {}", permission.label(Lang::En))]
    Forbidden {
        /// Who tried.
        actor: String,
        /// What was needed.
        permission: mamori_core::access::Permission,
    },
    /// Wrong user name or password, or a disabled user (not told apart, on purpose).
    #[error("login failed")]
    LoginFailed,
    /// The user must change the one-time password before doing anything else.
    #[error("{0} must change the password first")]
    MustChangePassword(String),
    /// No user with that name.
    #[error("no user {0}")]
    UserNotFound(String),
    /// The user declined a confirmation; nothing changed.
    #[error("cancelled")]
    Cancelled,
    /// An input file larger than what is read of it.
    #[error("{path}: larger than {limit} bytes")]
    FileTooLarge {
        /// The file.
        path: PathBuf,
        /// The limit in bytes.
        limit: u64,
    },
    /// A file-system error.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Something that should not happen.
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    /// Whether the user can fix this (exit code 1) rather than it being our fault (2).
    pub fn is_user_error(&self) -> bool {
        match self {
            AppError::Store(e) => {
                e.is_busy()
                    || matches!(
                        e,
                        StoreError::NotFound(_)
                            | StoreError::AlreadyExists(_)
                            | StoreError::NewerSchema { .. }
                            | StoreError::Duplicate(_)
                    )
            }
            AppError::Io { source, .. } => matches!(
                source.kind(),
                std::io::ErrorKind::NotFound
                    | std::io::ErrorKind::PermissionDenied
                    | std::io::ErrorKind::AlreadyExists
                    | std::io::ErrorKind::IsADirectory
            ),
            AppError::Internal(_) => false,
            AppError::Export {
                error: ExportError::Xlsx(_),
                ..
            } => false,
            _ => true,
        }
    }

    /// A bad value with messages in both languages.
    pub fn bad_value(
        field: impl Into<String>,
        ja: impl Into<String>,
        en: impl Into<String>,
    ) -> AppError {
        AppError::BadValue {
            field: field.into(),
            message_ja: ja.into(),
            message_en: en.into(),
        }
    }

    /// The message for the user: what is wrong, where, and what to do.
    pub fn message(&self, lang: Lang) -> String {
        let p = |p: &PathBuf| p.display().to_string();
        match (self, lang) {
            (AppError::NoStore(d), Lang::Ja) => format!("{} に mamori のデータがありません。先に `mamori init` を実行するか、--data-dir で場所を指定してください", p(d)),
            (AppError::NoStore(d), Lang::En) => format!("there is no mamori store in {}; run `mamori init` first, or point --data-dir at your store", p(d)),
            (AppError::StoreExists(d), Lang::Ja) => format!("{} には既に mamori のデータがあります。上書きはしません。別の --data-dir を指定してください", p(d)),
            (AppError::StoreExists(d), Lang::En) => format!("{} already holds a mamori store; it is never overwritten; choose another --data-dir", p(d)),
            (AppError::NotDemoDir(d), Lang::Ja) => format!("{} は空ではなく、デモ用のフォルダでもありません。別のフォルダを指定してください", p(d)),
            (AppError::NotDemoDir(d), Lang::En) => format!("{} is not empty and is not a mamori demo folder; choose another folder", p(d)),
            (AppError::Table { file, error }, lang) => format!("{file}: {}", error.message(lang)),
            (AppError::Mapping { file, error }, lang) => format!("{file}: {}", error.message(lang)),
            (AppError::Invalid { file, problems, invalid_rows, skippable }, lang) => {
                let mut out = match lang {
                    Lang::Ja => format!("{file}: 取り込めません ({} 件の問題、不正な行 {invalid_rows} 行)。台帳は変更していません。\n", problems.len()),
                    Lang::En => format!("{file}: cannot import ({} problems, {invalid_rows} invalid rows); the ledger is unchanged.\n", problems.len()),
                };
                for pr in problems {
                    out.push_str("  ");
                    out.push_str(&pr.message(lang));
                    out.push('\n');
                }
                out.push_str(match (lang, skippable) {
                    (Lang::Ja, true) => "ファイルを直して再実行してください。正しい行だけ取り込むには --skip-invalid を付けてください",
                    (Lang::En, true) => "fix the file and run again, or add --skip-invalid to import only the valid rows",
                    (Lang::Ja, false) => "見出し行を直して再実行してください",
                    (Lang::En, false) => "fix the header row and run again",
                });
                out
            }
            (AppError::Export { file, error }, lang) => format!("{file}: {}", error.message(lang)),
            (AppError::FindingNotFound(id), Lang::Ja) => format!("検出 {id} はありません (`mamori findings list --status all`)"),
            (AppError::FindingNotFound(id), Lang::En) => format!("there is no finding {id} (see `mamori findings list --status all`)"),
            (AppError::AssetNotFound(id), Lang::Ja) => format!("管理番号「{id}」の機器は台帳にありません (`mamori ledger list --search` で探せます)"),
            (AppError::AssetNotFound(id), Lang::En) => format!("no device with asset_id \"{id}\" in the ledger (find it with `mamori ledger list --search`)"),
            (AppError::AssetExists(id), Lang::Ja) => format!("管理番号「{id}」の機器は既に台帳にあります。変更するには `mamori ledger edit {id}` を使ってください"),
            (AppError::AssetExists(id), Lang::En) => format!("a device with asset_id \"{id}\" already exists; change it with `mamori ledger edit {id}`"),
            (AppError::UnknownField(f), Lang::Ja) => format!("「{f}」は台帳の列名ではありません。列名は `mamori ledger columns` で確認できます"),
            (AppError::UnknownField(f), Lang::En) => format!("\"{f}\" is not a ledger column; list the columns with `mamori ledger columns`"),
            (AppError::Forbidden { actor, permission }, Lang::Ja) => format!("{actor} には「{}」の権限がありません。権限のある利用者で実行するか、管理者に役割の追加を依頼してください（mamori user role）", permission.label(Lang::Ja)),
            (AppError::Forbidden { actor, permission }, Lang::En) => format!("{actor} may not {}: act as a user with that role, or ask an administrator to add it (mamori user role)", permission.label(Lang::En).to_lowercase()),
            (AppError::LoginFailed, Lang::Ja) => "ログインできません。利用者名とパスワードを確認してください（無効化された利用者もログインできません）".into(),
            (AppError::LoginFailed, Lang::En) => "login failed: check the user name and password (a disabled user cannot log in)".into(),
            (AppError::MustChangePassword(u), Lang::Ja) => format!("{u} は初回パスワードのままです。先に `mamori --user {u} user passwd {u}` でパスワードを変更してください"),
            (AppError::MustChangePassword(u), Lang::En) => format!("{u} still has a one-time password: change it first with `mamori --user {u} user passwd {u}`"),
            (AppError::UserNotFound(u), Lang::Ja) => format!("利用者 {u} はいません。`mamori user list` で確認してください"),
            (AppError::UserNotFound(u), Lang::En) => format!("there is no user {u}; see `mamori user list`"),
            (AppError::BadValue { field, message_ja, .. }, Lang::Ja) => format!("{field}: {message_ja}"),
            (AppError::BadValue { field, message_en, .. }, Lang::En) => format!("{field}: {message_en}"),
            (AppError::Cancelled, Lang::Ja) => "中止しました。台帳は変更していません".into(),
            (AppError::Cancelled, Lang::En) => "cancelled; the ledger is unchanged".into(),
            (AppError::FileTooLarge { path, limit }, Lang::Ja) => format!("{}: ファイルが大きすぎます (上限 {} MiB)。読み込みは行っていません。正しいファイルか確認し、大きい場合は分けてください", p(path), limit / (1024 * 1024)),
            (AppError::FileTooLarge { path, limit }, Lang::En) => format!("{}: the file is too large (at most {} MiB); nothing was read; check it is the right file, and split it if it is", p(path), limit / (1024 * 1024)),
            (AppError::Io { path, source }, Lang::Ja) => format!("{}: {source}", p(path)),
            (AppError::Io { path, source }, Lang::En) => format!("{}: {source}", p(path)),
            (AppError::Store(StoreError::NewerSchema { found, supported }), Lang::Ja) => format!(
                "このデータは新しい版の mamori で作られています (スキーマ {found}、この版は {supported} まで)。mamori を更新してください"
            ),
            (AppError::Store(StoreError::NewerSchema { found, supported }), Lang::En) => format!(
                "this store was written by a newer mamori (schema {found}; this build supports up to {supported}); upgrade mamori"
            ),
            (AppError::Store(StoreError::Busy { waited_secs, writer }), Lang::Ja) => format!(
                "別の処理がデータを書き込み中です{}。{waited_secs} 秒待ちましたが終わりませんでした。終わってから、もう一度実行してください",
                writer.as_ref().map(|w| format!(" ({})", crate::writer_label(w, Lang::Ja))).unwrap_or_default()
            ),
            (AppError::Store(StoreError::Busy { waited_secs, writer }), Lang::En) => format!(
                "another task is writing to the store{}; it did not finish in the {waited_secs} s waited; run this again when it has",
                writer.as_ref().map(|w| format!(" ({})", crate::writer_label(w, Lang::En))).unwrap_or_default()
            ),
            (AppError::Store(e), Lang::Ja) if e.is_busy() => "別の処理がデータを書き込み中です。終わってから、もう一度実行してください".into(),
            (AppError::Store(e), Lang::En) if e.is_busy() => "another task is writing to the store; run this again when it has finished".into(),
            (AppError::Store(StoreError::Db(e)), Lang::Ja) => format!("データベースのエラー: {e}"),
            (AppError::Store(StoreError::Db(e)), Lang::En) => format!("database error: {e}"),
            (AppError::Store(e), Lang::Ja) => format!("データベースのエラー: {e}"),
            (AppError::Store(e), Lang::En) => format!("database error: {e}"),
            (AppError::Internal(e), Lang::Ja) => format!("内部エラー: {e}"),
            (AppError::Internal(e), Lang::En) => format!("internal error: {e}"),
        }
    }
}

/// The most an input file given by name may hold (ledgers, stock-takes, answers, SBOMs, scan
/// results, reports); feed files have their own limits.
pub const MAX_INPUT_BYTES: u64 = mamori_ledger::table::MAX_FILE_BYTES as u64;

/// Reads an input file of at most `limit` bytes. A larger one — or a device that never
/// ends, such as `/dev/zero` — is refused before more than `limit` bytes are read.
pub(crate) fn read_input(path: &std::path::Path, limit: u64) -> Result<Vec<u8>, AppError> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(io(path))?;
    let too_large = || AppError::FileTooLarge {
        path: path.to_path_buf(),
        limit,
    };
    let meta = file.metadata().map_err(io(path))?;
    if meta.is_dir() {
        return Err(io(path)(std::io::Error::from(
            std::io::ErrorKind::IsADirectory,
        )));
    }
    if meta.is_file() && meta.len() > limit {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(io(path))?;
    if bytes.len() as u64 > limit {
        return Err(too_large());
    }
    Ok(bytes)
}

/// Wraps an IO error with its path.
pub(crate) fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> AppError + '_ {
    move |source| AppError::Io {
        path: path.to_path_buf(),
        source,
    }
}
