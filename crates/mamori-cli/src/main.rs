//! `mamori`: the command-line edge. It alone knows the terminal, progress bars and exit
//! codes: 0 success, 1 the user's input was wrong (bad file, unknown device, bad
//! option), 2 an internal error (a bug or a broken store).
#![forbid(unsafe_code)]

mod args;
mod commands;
mod findings;
mod hours;
mod output;
mod safety;
mod scan;
mod users;
mod vulns;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use mamori_core::Lang;

/// Exit code for success.
pub const EXIT_OK: u8 = 0;
/// Exit code when the user's input is at fault.
pub const EXIT_USER: u8 = 1;
/// Exit code for internal errors.
pub const EXIT_INTERNAL: u8 = 2;

/// The message of the last panic, for the report in `main`.
static LAST_PANIC: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

/// The language: `--lang`, else LC_ALL / LC_MESSAGES / LANG (Japanese for `ja*`).
fn detect_lang(arg: Option<args::LangArg>) -> Lang {
    if let Some(a) = arg {
        return match a {
            args::LangArg::Ja => Lang::Ja,
            args::LangArg::En => Lang::En,
        };
    }
    ["LC_ALL", "LC_MESSAGES", "LANG"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .find(|v| !v.is_empty())
        .map(|v| Lang::from_locale(&v))
        .unwrap_or(Lang::En)
}

fn main() -> ExitCode {
    // Panics inside mamori are bugs: report them once, with exit code 2. A library may
    // contain a panic of its own (the ledger reader does, around calamine), so the hook only
    // remembers the message; `main` reports panics that escape.
    std::panic::set_hook(Box::new(|info| {
        // `mamori ledger list | head` closes the pipe early: that is not an error.
        if info.to_string().contains("Broken pipe") {
            std::process::exit(EXIT_OK as i32);
        }
        if let Ok(mut last) = LAST_PANIC.lock() {
            *last = Some(info.to_string());
        }
    }));
    let cli = match args::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = match e.kind() {
                clap::error::ErrorKind::DisplayHelp
                | clap::error::ErrorKind::DisplayVersion
                | clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => EXIT_OK,
                _ => EXIT_USER,
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let lang = detect_lang(cli.lang);
    let ctx = commands::Ctx {
        lang,
        json: cli.json,
        interactive: std::io::stderr().is_terminal() && !cli.json,
        data_dir: cli.data_dir.clone(),
        actor: actor(),
        user: cli.user.clone(),
        password_file: cli.password_file.clone(),
    };
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        commands::run(&ctx, cli.command)
    }));
    let result = match outcome {
        Ok(result) => result,
        Err(_) => {
            let detail = LAST_PANIC
                .lock()
                .ok()
                .and_then(|mut l| l.take())
                .unwrap_or_default();
            eprintln!("mamori: 内部エラー / internal error: {detail}");
            eprintln!("この問題を報告してください / please report this problem");
            return ExitCode::from(EXIT_INTERNAL);
        }
    };
    match result {
        Ok(()) => ExitCode::from(EXIT_OK),
        Err(e) => {
            let (code, text) = match e.downcast_ref::<mamori_app::AppError>() {
                Some(app) => (
                    if app.is_user_error() {
                        EXIT_USER
                    } else {
                        EXIT_INTERNAL
                    },
                    app.message(lang),
                ),
                None => match e.downcast_ref::<commands::UsageError>() {
                    Some(u) => (EXIT_USER, u.message(lang)),
                    None => (EXIT_INTERNAL, format!("{e:#}")),
                },
            };
            if ctx.json {
                let v = serde_json::json!({ "error": { "exit_code": code, "message": text } });
                eprintln!("{v}");
            } else {
                eprintln!("{}: {}", lang.pick("エラー", "error"), text.trim_end());
            }
            ExitCode::from(code)
        }
    }
}

/// Who is acting, for the audit log: the operating-system user of this command line.
fn actor() -> String {
    let from_home = || {
        std::env::var("HOME").ok().and_then(|h| {
            std::path::Path::new(&h)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
        })
    };
    let user = ["USER", "LOGNAME", "USERNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
        .or_else(from_home)
        .unwrap_or_else(|| "unknown".into());
    format!("os:{user}")
}
