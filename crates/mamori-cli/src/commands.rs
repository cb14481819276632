//! One function per command: parse the validated arguments, call the application layer,
//! print the result (text or `--json`).

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use anyhow::Result;
use indicatif::{ProgressBar, ProgressStyle};
use mamori_app::ledger::{ImportOptions, ImportReport, Progress};
use mamori_app::stocktake::{read_entries, Entry, StocktakeInput};
use mamori_app::{App, AppError};
use mamori_core::value::{parse_date, yes_no_label};
use mamori_core::{Asset, AssetKind, AssetStatus, Labelled, Lang, StocktakeResult};
use mamori_ledger::write::{cell_text, Column, CsvEncoding};
use mamori_ledger::Field;
use mamori_store::{AssetFilter, StoredAsset};
use serde_json::{json, Value};

use crate::args::{AuditCommand, Command, EncodingArg, FilterArgs, LedgerCommand, StocktakeArgs};
use crate::output;

/// What every command needs to know.
#[derive(Clone)]
pub struct Ctx {
    pub lang: Lang,
    pub json: bool,
    pub interactive: bool,
    pub data_dir: PathBuf,
    pub actor: String,
    /// `--user`: act as this mamori user instead of the local session.
    pub user: Option<String>,
    /// `--password-file`: where `--user`'s password is (else `MAMORI_PASSWORD`).
    pub password_file: Option<PathBuf>,
}

/// A command-line value that cannot be used (exit code 1).
#[derive(Debug)]
pub struct UsageError {
    ja: String,
    en: String,
}

impl UsageError {
    pub(crate) fn err(ja: impl Into<String>, en: impl Into<String>) -> anyhow::Error {
        anyhow::Error::new(UsageError {
            ja: ja.into(),
            en: en.into(),
        })
    }
    pub fn message(&self, lang: Lang) -> String {
        lang.pick(&self.ja, &self.en).to_string()
    }
}

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.en)
    }
}
impl std::error::Error for UsageError {}

pub fn run(ctx: &Ctx, command: Command) -> Result<()> {
    match command {
        Command::Init {
            admin_password_file,
        } => init(ctx, admin_password_file),
        Command::Demo {
            dir,
            no_serve,
            listen,
        } => {
            demo(ctx, dir.clone())?;
            if no_serve || ctx.json {
                return Ok(());
            }
            // The demo ends by serving it: log in with the administrator's one-time password
            // printed above (a first login asks for a new one).
            let demo_ctx = Ctx {
                data_dir: dir,
                ..ctx.clone()
            };
            println!();
            serve(&demo_ctx, listen)
        }
        Command::Ledger(c) => ledger(ctx, c),
        Command::Feeds(c) => crate::vulns::feeds(ctx, c),
        Command::Vuln(c) => crate::vulns::vuln(ctx, c),
        Command::Audit(c) => audit(ctx, c),
        Command::Match { full } => crate::findings::run_match(ctx, full),
        Command::Findings(c) => crate::findings::findings(ctx, c),
        Command::Sbom(c) => crate::findings::sbom(ctx, c),
        Command::User(c) => crate::users::user(ctx, c),
        Command::Inquiry(c) => crate::findings::inquiry(ctx, c),
        Command::Scan(c) => crate::scan::scan(ctx, c),
        Command::Calendar(c) => crate::hours::calendar(ctx, c),
        Command::Schedule(c) => crate::hours::schedule(ctx, c),
        Command::Watch {
            interval,
            once,
            rounds,
        } => crate::hours::watch(ctx, interval, once, rounds),
        Command::Hours(c) => crate::hours::hours(ctx, c),
        Command::Creds(c) => crate::safety::creds(ctx, c),
        Command::Attest(c) => crate::safety::attest(ctx, c),
        Command::Collect(c) => crate::safety::collect(ctx, c),
        Command::Token(c) => crate::users::token(ctx, c),
        Command::Serve {
            listen,
            tls,
            cert,
            key,
        } => {
            let certificate = match (cert, key) {
                (Some(cert), Some(key)) => Some(mamori_web::tls::Certificate::Files { cert, key }),
                _ if tls => Some(mamori_web::tls::Certificate::SelfSigned {
                    dir: ctx.data_dir.clone(),
                    names: vec![listen.ip().to_string(), "localhost".into()],
                }),
                _ => None,
            };
            serve_with(ctx, listen, certificate)
        }
        Command::Vex(crate::args::VexCommand::Export {
            file,
            asset,
            vendor,
            format,
        }) => {
            use mamori_app::vex::{VexFormat, VexScope};
            let scope = match (asset, vendor) {
                (Some(a), _) => VexScope::Asset(a),
                (None, Some(v)) => VexScope::Vendor(v),
                (None, None) => {
                    return Err(UsageError::err(
                        "--asset か --vendor を指定してください",
                        "give --asset or --vendor",
                    ))
                }
            };
            let format = match format {
                crate::args::VexFormatArg::Cyclonedx => VexFormat::CycloneDx,
                crate::args::VexFormatArg::Csaf => VexFormat::Csaf,
            };
            let n = open(ctx)?.export_vex(&scope, format, &file)?;
            if ctx.json {
                print_json(&json!({ "file": file, "statements": n }));
            } else {
                println!(
                    "{}",
                    ctx.lang.pick(
                        &format!("{n} 件の表明を {} に書き出しました", file.display()),
                        &format!("{n} statements written to {}", file.display())
                    )
                );
            }
            Ok(())
        }
        Command::Config(crate::args::ConfigCommand::Set { key, value }) => {
            open(ctx)?.set_config(&key, &value)?;
            if ctx.json {
                print_json(&json!({ "key": key, "value": value }));
            } else {
                println!("{key} = {value}");
            }
            Ok(())
        }
    }
}

pub(crate) fn open(ctx: &Ctx) -> Result<App> {
    let mut app = open_session(ctx)?;
    // A write waits its turn behind another (an import, a match) and says what it waits
    // for: up to MAMORI_WRITE_WAIT seconds, 30 minutes by default.
    let max = std::env::var("MAMORI_WRITE_WAIT")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .unwrap_or(30 * 60);
    let lang = ctx.lang;
    app.set_write_wait(mamori_store::WriteWait {
        max: std::time::Duration::from_secs(max),
        notice: Some(Box::new(move |writer: Option<&str>| {
            let what = writer.map_or_else(
                || lang.pick("別の mamori", "another mamori").to_string(),
                |w| mamori_app::writer_label(w, lang),
            );
            eprintln!(
                "{}",
                lang.pick(
                    &format!("待機中: {what} が書き込みを終えるのを待っています (最長 {max} 秒)…"),
                    &format!("waiting: {what} is writing to the store; this waits its turn (up to {max} s)…"),
                )
            );
        })),
    });
    // The clock of `MAMORI_NOW` (`YYYY-MM-DD HH:MM`, the hospital's local time) when set: for
    // tests and for replaying a day (operating hours, approval windows).
    if let Ok(now) = std::env::var("MAMORI_NOW") {
        let t =
            chrono::NaiveDateTime::parse_from_str(now.trim(), "%Y-%m-%d %H:%M").map_err(|_| {
                UsageError::err(
                    format!("MAMORI_NOW「{now}」は YYYY-MM-DD HH:MM ではありません"),
                    format!("MAMORI_NOW {now:?} is not YYYY-MM-DD HH:MM"),
                )
            })?;
        app.set_now(t);
    }
    Ok(app)
}

fn open_session(ctx: &Ctx) -> Result<App> {
    let Some(user) = &ctx.user else {
        return Ok(App::open(&ctx.data_dir, ctx.actor.clone())?);
    };
    let password = match &ctx.password_file {
        Some(f) => read_secret(f)?,
        None => std::env::var("MAMORI_PASSWORD").map_err(|_| {
            UsageError::err(
                "--user にはパスワードが必要です。環境変数 MAMORI_PASSWORD か --password-file で渡してください",
                "--user needs a password: give it in the MAMORI_PASSWORD variable or with --password-file",
            )
        })?,
    };
    Ok(App::login(&ctx.data_dir, user, &password)?)
}

/// A password from a file: its first line, without the line ending.
pub(crate) fn read_secret(path: &std::path::Path) -> Result<String> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        UsageError::err(
            format!("{} を読めません: {e}", path.display()),
            format!("cannot read {}: {e}", path.display()),
        )
    })?;
    Ok(text.lines().next().unwrap_or_default().to_string())
}

pub(crate) fn print_json(v: &Value) {
    println!("{}", serde_json::to_string_pretty(v).unwrap_or_default());
}

fn init(ctx: &Ctx, password_file: Option<PathBuf>) -> Result<()> {
    let lang = ctx.lang;
    let password = match &password_file {
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|source| AppError::Io {
                path: p.clone(),
                source,
            })?;
            Some(text.trim_end_matches(['\r', '\n']).to_string())
        }
        None => None,
    };
    let out = mamori_app::init::init(&ctx.data_dir, password.as_deref(), &ctx.actor)?;
    if ctx.json {
        print_json(&json!({
            "data_dir": ctx.data_dir, "database": out.db_path, "admin_username": out.admin_username,
            "one_time_password": out.one_time_password,
        }));
        return Ok(());
    }
    println!(
        "{} {}",
        lang.pick("作成しました:", "created:"),
        out.db_path.display()
    );
    println!(
        "{} {}",
        lang.pick("管理者ユーザ:", "administrator:"),
        out.admin_username
    );
    match &out.one_time_password {
        Some(p) => {
            println!("{} {p}", lang.pick("初回パスワード:", "one-time password:"));
            println!(
                "{}",
                lang.pick(
                    "このパスワードは一度だけ表示され、保存されません。初回ログイン時に変更が必要です。",
                    "This password is shown once and is not stored; it must be changed at first login."
                )
            );
        }
        None => println!(
            "{}",
            lang.pick(
                "パスワードは指定のファイルから設定しました。",
                "The password was set from the given file."
            )
        ),
    }
    println!();
    println!(
        "{}",
        lang.pick("次は台帳を取り込みます:", "Next, import your ledger:")
    );
    println!(
        "  mamori --data-dir {} ledger import 機器台帳.xlsx --dry-run",
        ctx.data_dir.display()
    );
    Ok(())
}

fn demo(ctx: &Ctx, dir: PathBuf) -> Result<()> {
    let lang = ctx.lang;
    let out = mamori_app::demo::create_demo(&dir, &ctx.actor)?;
    if ctx.json {
        print_json(&json!({
            "data_dir": out.data_dir, "replaced": out.replaced, "hospital": mamori_app::demo::HOSPITAL,
            "admin_username": out.init.admin_username, "one_time_password": out.init.one_time_password,
            "devices": out.counts.iter().map(|(k, n)| (k.code().to_string(), json!(n))).collect::<serde_json::Map<String, Value>>(),
            "past_eos": out.past_eos,
            "match": out.matched,
        }));
        return Ok(());
    }
    let total: usize = out.counts.iter().map(|(_, n)| n).sum();
    if out.replaced {
        println!(
            "{}",
            lang.pick(
                "以前のデモを作り直しました。",
                "Replaced the previous demo."
            )
        );
    }
    println!(
        "{} {} ({}): {}",
        lang.pick("デモ病院を作成しました", "Created the demo hospital"),
        mamori_app::demo::HOSPITAL,
        out.data_dir.display(),
        match lang {
            Lang::Ja => format!("機器 {total} 台"),
            Lang::En => format!("{total} devices"),
        }
    );
    for (kind, n) in &out.counts {
        println!("  {}  {n}", output::fit(kind.label(lang), 22));
    }
    println!(
        "{} {}",
        lang.pick(
            "サポート終了 (EOS) を過ぎた機器:",
            "devices past their end of support:"
        ),
        out.past_eos.len()
    );
    println!(
        "{}",
        match lang {
            Lang::Ja => format!(
                "デモ脆弱性情報との突合: 検出中 {} 件 (機器 {} 台を評価)",
                out.matched.open, out.matched.assets
            ),
            Lang::En => format!(
                "matched against the demo vulnerability set: {} open findings ({} devices evaluated)",
                out.matched.open, out.matched.assets
            ),
        }
    );
    println!(
        "{} {} / {}",
        lang.pick("管理者:", "administrator:"),
        out.init.admin_username,
        out.init.one_time_password.as_deref().unwrap_or("")
    );
    let dd = out.data_dir.display();
    let mamori = command_prefix();
    println!();
    println!("{}", lang.pick("次に試すこと:", "Try next:"));
    let tries: [(&str, &str, String); 7] = [
        (
            "対応すべきこと (構成要素ごと、緊急度順)",
            "what to act on first (per component, most urgent first)",
            format!("{mamori} --data-dir {dd} findings list --group-by component"),
        ),
        (
            "KEV (悪用確認済み) の検出と根拠",
            "findings in CISA KEV, with their evidence",
            format!("{mamori} --data-dir {dd} findings list --kev"),
        ),
        (
            "VPN装置などネットワーク機器の一覧",
            "network devices, incl. the VPN boxes",
            format!("{mamori} --data-dir {dd} ledger list --kind ネットワーク機器"),
        ),
        (
            "FortiOS 6.0.4 のリモート保守VPN",
            "the remote-maintenance VPN on FortiOS 6.0.4",
            format!("{mamori} --data-dir {dd} ledger show NW-001"),
        ),
        (
            "Windows 7 の検査装置付属PC",
            "the Windows 7 PC of the lab analyser",
            format!("{mamori} --data-dir {dd} ledger list --search \"Windows 7\""),
        ),
        (
            "Excel に書き出す",
            "export to Excel",
            format!("{mamori} --data-dir {dd} ledger export 機器台帳.xlsx"),
        ),
        (
            "監査ログ",
            "the audit log",
            format!("{mamori} --data-dir {dd} audit tail"),
        ),
    ];
    for (ja, en, cmd) in tries {
        println!("  # {}\n  {cmd}", lang.pick(ja, en));
    }
    Ok(())
}

/// How to run mamori again, as the user started it: `cargo run --release --` from a source
/// tree (the binary is under `target/`), else `mamori`.
fn command_prefix() -> String {
    let exe = std::env::current_exe().unwrap_or_default();
    let in_target = exe.components().any(|c| c.as_os_str() == "target");
    if in_target && std::path::Path::new("Cargo.toml").is_file() {
        "cargo run --release --".to_string()
    } else {
        "mamori".to_string()
    }
}

fn ledger(ctx: &Ctx, command: LedgerCommand) -> Result<()> {
    match command {
        LedgerCommand::Import {
            file,
            sheet,
            mapping,
            dry_run,
            skip_invalid,
            sync,
            yes,
        } => import(ctx, file, sheet, mapping, dry_run, skip_invalid, sync, yes),
        LedgerCommand::Export {
            file,
            encoding,
            filter,
        } => export(ctx, file, encoding, filter),
        LedgerCommand::List { filter } => list(ctx, filter),
        LedgerCommand::Show { asset_id } => show(ctx, &asset_id),
        LedgerCommand::Add {
            asset_id,
            name,
            kind,
            set,
        } => add(ctx, &asset_id, name, kind, set),
        LedgerCommand::Edit {
            asset_id,
            set,
            reason,
        } => edit(ctx, &asset_id, set, reason),
        LedgerCommand::Cpe(c) => crate::findings::cpe(ctx, c),
        LedgerCommand::Retire { asset_id, reason } => {
            open(ctx)?.retire_asset(&asset_id, reason.as_deref())?;
            if ctx.json {
                print_json(&json!({ "asset_id": asset_id, "status": "retired" }));
            } else {
                println!(
                    "{} {asset_id}",
                    ctx.lang.pick("廃棄済にしました:", "retired:")
                );
            }
            Ok(())
        }
        LedgerCommand::Stocktake(args) => stocktake(ctx, args),
        LedgerCommand::Stocktakes => stocktakes(ctx),
        LedgerCommand::Columns => columns(ctx),
    }
}

fn parse_filter(f: FilterArgs) -> Result<AssetFilter> {
    fn label<T: Labelled>(value: Option<String>, option: &str) -> Result<Option<T>> {
        value
            .map(|v| {
                T::parse(&v).ok_or_else(|| {
                    UsageError::err(
                        format!(
                            "--{option} に「{v}」は指定できません。次のいずれか: {}",
                            T::choices(Lang::Ja)
                        ),
                        format!("--{option} \"{v}\" is not one of: {}", T::choices(Lang::En)),
                    )
                })
            })
            .transpose()
    }
    Ok(AssetFilter {
        kind: label::<AssetKind>(f.kind, "kind")?,
        status: label::<AssetStatus>(f.status, "status")?,
        department: f.department,
        search: f.search,
        ids: None,
    })
}

#[allow(clippy::too_many_arguments)]
fn import(
    ctx: &Ctx,
    file: PathBuf,
    sheet: Option<String>,
    mapping: Option<PathBuf>,
    dry_run: bool,
    skip_invalid: bool,
    sync: bool,
    yes: bool,
) -> Result<()> {
    let lang = ctx.lang;
    let mut app = open(ctx)?;
    let bar = if ctx.interactive {
        ProgressBar::new_spinner()
    } else {
        ProgressBar::hidden()
    };
    bar.set_message(lang.pick("読み込み中…", "reading…").to_string());
    let progress = |p: Progress| match p {
        Progress::Reading => bar.tick(),
        Progress::Writing { done, total } => {
            if bar.length() != Some(total as u64) {
                bar.set_length(total as u64);
                bar.set_style(
                    ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len}")
                        .unwrap_or_else(|_| ProgressStyle::default_bar())
                        .progress_chars("=> "),
                );
                bar.set_message(lang.pick("書き込み中", "writing").to_string());
            }
            bar.set_position(done as u64);
        }
        Progress::Committing => bar.set_message(lang.pick("確定中…", "committing…").to_string()),
    };
    let interactive = ctx.interactive && std::io::stdin().is_terminal();
    let mut confirm = |ids: &[String]| -> bool {
        if yes {
            return true;
        }
        if !interactive {
            eprintln!(
                "{}",
                match lang {
                    Lang::Ja => format!("ファイルにない機器 {} 台を廃棄済にするには --yes を付けて再実行してください: {}", ids.len(), ids.join(", ")),
                    Lang::En => format!("{} devices are not in the file; run again with --yes to retire them: {}", ids.len(), ids.join(", ")),
                }
            );
            return false;
        }
        bar.suspend(|| {
            eprintln!(
                "{}",
                match lang {
                    Lang::Ja => format!(
                        "ファイルにない機器 {} 台を廃棄済にします: {}",
                        ids.len(),
                        ids.join(", ")
                    ),
                    Lang::En => format!(
                        "{} devices are not in the file and will be retired: {}",
                        ids.len(),
                        ids.join(", ")
                    ),
                }
            );
            eprint!("{}", lang.pick("よろしいですか? [y/N] ", "Proceed? [y/N] "));
            let _ = std::io::stderr().flush();
            let mut answer = String::new();
            let _ = std::io::stdin().lock().read_line(&mut answer);
            matches!(answer.trim().to_lowercase().as_str(), "y" | "yes" | "はい")
        })
    };
    let report = app.import_ledger(
        &file,
        ImportOptions {
            sheet,
            mapping,
            dry_run,
            skip_invalid,
            sync,
            confirm_retire: &mut confirm,
            progress: &progress,
        },
    );
    bar.finish_and_clear();
    let report = report?;
    print_import(ctx, &report);
    Ok(())
}

fn print_import(ctx: &Ctx, r: &ImportReport) {
    let lang = ctx.lang;
    if ctx.json {
        let problems: Vec<Value> = r
            .problems
            .iter()
            .map(|p| {
                json!({
                    "severity": p.severity, "row": p.row, "column": p.column, "header": p.header,
                    "value": p.value, "message": p.reason(lang),
                })
            })
            .collect();
        print_json(&json!({
            "file": r.file, "format": r.format, "sheet": r.sheet, "header_row": r.header_row,
            "dry_run": r.dry_run, "rows": r.rows, "added": r.added, "updated": r.updated,
            "unchanged": r.unchanged, "retired": r.retired, "skipped_rows": r.skipped_rows,
            "problems": problems,
        }));
        return;
    }
    for line in r.lines(lang) {
        println!("{line}");
    }
}

fn export(ctx: &Ctx, file: PathBuf, encoding: EncodingArg, filter: FilterArgs) -> Result<()> {
    let enc = match encoding {
        EncodingArg::Utf8 => CsvEncoding::Utf8Bom,
        EncodingArg::Cp932 => CsvEncoding::Cp932,
    };
    let n = open(ctx)?.export_ledger(&file, ctx.lang, enc, &parse_filter(filter)?)?;
    if ctx.json {
        print_json(&json!({ "file": file, "count": n }));
    } else {
        match ctx.lang {
            Lang::Ja => println!("{} に {n} 台を書き出しました", file.display()),
            Lang::En => println!("wrote {n} devices to {}", file.display()),
        }
    }
    Ok(())
}

/// The stable JSON shape of a device (docs/json.md).
fn asset_json(s: &StoredAsset) -> Value {
    let mut v = serde_json::to_value(&s.asset).unwrap_or(Value::Null);
    if let Value::Object(m) = &mut v {
        m.insert("created_at".into(), json!(s.created_at));
        m.insert("updated_at".into(), json!(s.updated_at));
    }
    v
}

fn list(ctx: &Ctx, filter: FilterArgs) -> Result<()> {
    let lang = ctx.lang;
    let assets = open(ctx)?.list_assets(&parse_filter(filter)?)?;
    if ctx.json {
        print_json(
            &json!({ "count": assets.len(), "assets": assets.iter().map(asset_json).collect::<Vec<_>>() }),
        );
        return Ok(());
    }
    let headers = [
        Field::AssetId,
        Field::Kind,
        Field::Name,
        Field::Department,
        Field::Ip,
        Field::Os,
        Field::Status,
    ];
    let rows: Vec<Vec<String>> = assets
        .iter()
        .map(|s| {
            let a = &s.asset;
            let os = [a.os.as_deref(), a.os_version.as_deref()]
                .iter()
                .flatten()
                .copied()
                .collect::<Vec<_>>()
                .join(" ");
            vec![
                a.asset_id.clone(),
                a.kind.label(lang).to_string(),
                a.name.clone(),
                a.department.clone().unwrap_or_default(),
                a.ip.first().map(|i| i.to_string()).unwrap_or_default(),
                os,
                a.status.label(lang).to_string(),
            ]
        })
        .collect();
    let hs: Vec<&str> = headers.iter().map(|f| f.header(lang)).collect();
    output::table(&hs, &rows, &[14, 16, 30, 16, 16, 36, 10]);
    println!(
        "{}",
        match lang {
            Lang::Ja => format!("{} 台", assets.len()),
            Lang::En => format!("{} devices", assets.len()),
        }
    );
    Ok(())
}

fn show(ctx: &Ctx, asset_id: &str) -> Result<()> {
    let lang = ctx.lang;
    let mut app = open(ctx)?;
    let (stored, history) = app.show_asset(asset_id)?;
    let components = app.asset_components(asset_id)?;
    if ctx.json {
        let h: Vec<Value> = history
            .iter()
            .map(|c| json!({ "from": c.from, "to": c.to, "at": c.at, "actor": c.actor, "reason": c.reason }))
            .collect();
        let comps: Vec<Value> = components
            .iter()
            .map(|(source, c)| json!({ "source": source, "name": c.name, "version": c.version, "cpe": c.cpe, "purl": c.purl }))
            .collect();
        print_json(&json!({ "asset": asset_json(&stored), "components": comps, "history": h }));
        return Ok(());
    }
    let a: &Asset = &stored.asset;
    let width = Field::all()
        .map(|f| unicode_width::UnicodeWidthStr::width(f.header(lang)))
        .max()
        .unwrap_or(10)
        + 2;
    for f in Field::all() {
        let text = cell_text(a, &Column::Field(f), lang);
        if !text.is_empty() {
            println!("{}{text}", output::fit(f.header(lang), width));
        }
    }
    for (k, v) in &a.custom {
        println!("{}{v}", output::fit(k, width));
    }
    let today = app.today();
    if a.is_past_eos(today) {
        println!(
            "{}",
            lang.pick(
                "⚠ サポート終了日を過ぎています",
                "⚠ past its end of support"
            )
        );
    }
    if !components.is_empty() {
        println!();
        println!(
            "{}",
            lang.pick(
                "構成品 (SBOM・スキャン・ホスト収集):",
                "components (SBOM, scans, host collector):"
            )
        );
        // The host collector's packages are many: counted here, listed with --json.
        let collected = components.iter().filter(|(s, _)| *s == "collector").count();
        if collected > 0 {
            println!(
                "  {}",
                match lang {
                    Lang::Ja => format!("[収集] パッケージ {collected} 件 (一覧は --json、収集の記録は `mamori collect show {asset_id}`)"),
                    Lang::En => format!("[collector] {collected} packages (listed with --json; reports: `mamori collect show {asset_id}`)"),
                }
            );
        }
        for (source, c) in components.iter().filter(|(s, _)| *s != "collector") {
            let source = match (*source, lang) {
                ("scan", Lang::Ja) => "スキャン",
                ("collector", Lang::Ja) => "収集",
                (s, _) => s,
            };
            println!(
                "  [{source}] {} {}  {}",
                c.name,
                c.version.as_deref().unwrap_or(""),
                c.cpe.as_deref().unwrap_or("")
            );
        }
    }
    println!();
    println!("{}", lang.pick("状態の履歴:", "status history:"));
    for c in history {
        let from = c
            .from
            .map(|s| s.label(lang).to_string())
            .unwrap_or_else(|| "—".into());
        println!(
            "  {}  {from} → {}  {}  {}",
            c.at.with_timezone(&chrono::Local).format("%Y-%m-%d %H:%M"),
            c.to.label(lang),
            c.actor,
            c.reason.unwrap_or_default()
        );
    }
    Ok(())
}

fn pairs(set: &[String]) -> Result<Vec<(String, String)>> {
    set.iter()
        .map(|s| {
            s.split_once('=')
                .map(|(k, v)| (k.trim().to_string(), v.to_string()))
                .ok_or_else(|| {
                    UsageError::err(
                        format!("--set は 列=値 の形で指定してください (「{s}」)"),
                        format!("--set takes column=value (got \"{s}\")"),
                    )
                })
        })
        .collect()
}

fn add(
    ctx: &Ctx,
    asset_id: &str,
    name: String,
    kind: Option<String>,
    set: Vec<String>,
) -> Result<()> {
    let mut values = vec![("name".to_string(), name)];
    if let Some(k) = kind {
        values.push(("kind".into(), k));
    }
    values.extend(pairs(&set)?);
    let asset = open(ctx)?.add_asset(asset_id, &values)?;
    if ctx.json {
        print_json(&json!({ "asset": asset }));
    } else {
        println!(
            "{} {} {}",
            ctx.lang.pick("追加しました:", "added:"),
            asset.asset_id,
            asset.name
        );
    }
    Ok(())
}

fn edit(ctx: &Ctx, asset_id: &str, set: Vec<String>, reason: Option<String>) -> Result<()> {
    let changed = open(ctx)?.edit_asset(asset_id, &pairs(&set)?, reason.as_deref())?;
    if ctx.json {
        print_json(&json!({ "asset_id": asset_id, "changed": changed }));
    } else if changed.is_empty() {
        println!("{}", ctx.lang.pick("変更はありません", "nothing changed"));
    } else {
        let names: Vec<String> = changed
            .iter()
            .map(|c| {
                Field::from_header(c)
                    .map(|f| f.header(ctx.lang).to_string())
                    .unwrap_or_else(|| c.trim_start_matches("custom:").to_string())
            })
            .collect();
        println!(
            "{} {asset_id}: {}",
            ctx.lang.pick("変更しました", "changed"),
            names.join(", ")
        );
    }
    Ok(())
}

fn stocktake(ctx: &Ctx, args: StocktakeArgs) -> Result<()> {
    let lang = ctx.lang;
    let mut app = open(ctx)?;
    let date = match &args.date {
        Some(d) => parse_date(d).map_err(|e| {
            UsageError::err(
                format!("--date: {}", e.message(Lang::Ja)),
                format!("--date: {}", e.message(Lang::En)),
            )
        })?,
        None => app.today(),
    };
    let mut entries: Vec<Entry> = Vec::new();
    for (ids, result) in [
        (&args.found, StocktakeResult::Found),
        (&args.missing, StocktakeResult::Missing),
        (&args.mismatch, StocktakeResult::Mismatch),
    ] {
        entries.extend(ids.iter().filter(|s| !s.trim().is_empty()).map(|id| Entry {
            asset_id: id.trim().to_string(),
            result,
            note: None,
        }));
    }
    if let Some(f) = &args.file {
        entries.extend(read_entries(f)?);
    }
    let mut seen = std::collections::HashSet::new();
    if let Some(dup) = entries.iter().find(|e| !seen.insert(e.asset_id.clone())) {
        return Err(UsageError::err(
            format!("管理番号 {} が二度指定されています", dup.asset_id),
            format!("asset_id {} is given twice", dup.asset_id),
        ));
    }
    let by = args
        .by
        .unwrap_or_else(|| ctx.actor.trim_start_matches("os:").to_string());
    let out = app.stocktake(&StocktakeInput {
        date,
        by: by.clone(),
        note: args.note,
        entries,
        rest_found: args.rest_found,
    })?;
    if ctx.json {
        print_json(&json!({
            "id": out.id, "date": date, "by": by,
            "counts": out.counts.iter().map(|(r, n)| (r.code().to_string(), json!(n))).collect::<serde_json::Map<_, _>>(),
            "not_checked": out.not_checked,
        }));
        return Ok(());
    }
    println!(
        "{} #{} ({date}, {by})",
        lang.pick("棚卸しを記録しました", "recorded stock-take"),
        out.id
    );
    for (r, n) in &out.counts {
        println!("  {}  {n}", output::fit(r.label(lang), 10));
    }
    if !out.not_checked.is_empty() {
        println!(
            "{} {}",
            lang.pick("未確認の機器:", "devices not checked:"),
            out.not_checked.len()
        );
    }
    Ok(())
}

fn stocktakes(ctx: &Ctx) -> Result<()> {
    let lang = ctx.lang;
    let list = open(ctx)?.stocktakes()?;
    if ctx.json {
        let v: Vec<Value> = list
            .iter()
            .map(|s| json!({
                "id": s.id, "date": s.taken_on, "by": s.taken_by, "note": s.note,
                "counts": s.counts.iter().map(|(r, n)| (r.code().to_string(), json!(n))).collect::<serde_json::Map<_, _>>(),
            }))
            .collect();
        print_json(&json!({ "stocktakes": v }));
        return Ok(());
    }
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|s| {
            let counts = s
                .counts
                .iter()
                .map(|(r, n)| format!("{} {n}", r.label(lang)))
                .collect::<Vec<_>>()
                .join(" / ");
            vec![
                s.id.to_string(),
                s.taken_on.to_string(),
                s.taken_by.clone(),
                counts,
            ]
        })
        .collect();
    output::table(
        &[
            "#",
            lang.pick("実施日", "date"),
            lang.pick("実施者", "by"),
            lang.pick("結果", "results"),
        ],
        &rows,
        &[6, 10, 16, 60],
    );
    Ok(())
}

fn columns(ctx: &Ctx) -> Result<()> {
    let lang = ctx.lang;
    let values = |f: Field| -> String {
        match f {
            Field::Kind => AssetKind::choices(lang),
            Field::Status => AssetStatus::choices(lang),
            Field::Criticality => mamori_core::Criticality::choices(lang),
            Field::BootPassword => mamori_core::BootPassword::choices(lang),
            Field::DefaultPasswordChanged => mamori_core::DefaultPassword::choices(lang),
            Field::MdsSds | Field::Sbom => mamori_core::DocStatus::choices(lang),
            Field::RemoteMaintenance
            | Field::ExternalAccess
            | Field::PatientData
            | Field::ScanExclude => {
                format!(
                    "{} / {}",
                    yes_no_label(true, lang),
                    yes_no_label(false, lang)
                )
            }
            Field::EosDate | Field::LastStocktake => "YYYY-MM-DD".into(),
            Field::AssetId | Field::Name => lang.pick("必須", "required").into(),
            Field::Software | Field::Cpe | Field::Ip | Field::Mac | Field::Hostname => lang
                .pick("複数可 (; 区切り)", "several, separated by ;")
                .into(),
            _ => String::new(),
        }
    };
    if ctx.json {
        let v: Vec<Value> = Field::all()
            .map(|f| json!({ "code": f.code(), "ja": f.header(Lang::Ja), "en": f.header(Lang::En), "values": values(f) }))
            .collect();
        print_json(&json!({ "columns": v }));
        return Ok(());
    }
    let rows: Vec<Vec<String>> = Field::all()
        .map(|f| {
            vec![
                f.header(Lang::Ja).to_string(),
                f.code().to_string(),
                values(f),
            ]
        })
        .collect();
    output::table(
        &[
            lang.pick("見出し", "Japanese header"),
            lang.pick("英語名", "English name"),
            lang.pick("値", "values"),
        ],
        &rows,
        &[22, 26, 80],
    );
    Ok(())
}

fn audit(ctx: &Ctx, command: AuditCommand) -> Result<()> {
    let lang = ctx.lang;
    let mut app = open(ctx)?;
    match command {
        AuditCommand::Tail { limit } => {
            let records = app
                .read(mamori_core::access::Permission::ViewAudit)?
                .audit_tail(limit)?;
            if ctx.json {
                let v: Vec<Value> = records
                    .iter()
                    .map(|r| json!({
                        "seq": r.seq, "at": r.at, "actor": r.entry.actor, "action": r.entry.action,
                        "target": r.entry.target, "detail": r.entry.detail, "hash": r.hash,
                    }))
                    .collect();
                print_json(&json!({ "entries": v }));
                return Ok(());
            }
            for r in records {
                println!(
                    "{:>6}  {}  {}  {}  {}  {}",
                    r.seq,
                    r.at.with_timezone(&chrono::Local)
                        .format("%Y-%m-%d %H:%M:%S"),
                    r.entry.actor,
                    r.entry.action,
                    r.entry.target.unwrap_or_default(),
                    r.entry.detail
                );
            }
            Ok(())
        }
        AuditCommand::Export { file } => {
            let n = app.export_audit_log(&file)?;
            if ctx.json {
                print_json(&json!({ "file": file, "entries": n }));
            } else {
                println!(
                    "{}",
                    match lang {
                        Lang::Ja => format!("監査ログ {n} 件を {} に書き出しました", file.display()),
                        Lang::En => format!("{n} audit entries written to {}", file.display()),
                    }
                );
            }
            Ok(())
        }
        AuditCommand::Verify => match app.verify_audit_log()? {
            None => {
                if ctx.json {
                    print_json(&json!({ "intact": true }));
                } else {
                    println!(
                        "{}",
                        lang.pick(
                            "監査ログは改ざんされていません (ハッシュチェーン正常)",
                            "the audit log is intact (hash chain verified)"
                        )
                    );
                }
                Ok(())
            }
            Some(b) if b.missing => Err(UsageError::err(
                format!("監査ログの {} 番目の記録が削除されています", b.seq),
                format!("entry {} of the audit log has been deleted", b.seq),
            )),
            Some(b) => Err(UsageError::err(
                format!("監査ログの {} 番目の記録が書き換えられているか壊れています（以降の記録は検証できません）", b.seq),
                format!("entry {} of the audit log has been changed or damaged (the entries after it cannot be verified)", b.seq),
            )),
        },
    }
}

/// `mamori serve` over plain HTTP.
fn serve(ctx: &Ctx, listen: std::net::SocketAddr) -> Result<()> {
    serve_with(ctx, listen, None)
}

/// `mamori serve`: the web UI over the same store, until Ctrl-C or SIGTERM; HTTPS with a
/// certificate.
fn serve_with(
    ctx: &Ctx,
    listen: std::net::SocketAddr,
    certificate: Option<mamori_web::tls::Certificate>,
) -> Result<()> {
    let lang = ctx.lang;
    // The store must exist (and be readable by this user) before anyone is told to log in.
    let _ = open(ctx)?;
    if !listen.ip().is_loopback() && certificate.is_none() {
        eprintln!(
            "{}",
            lang.pick(
                "警告: TLS なしでループバック以外に公開しています。パスワードが平文で流れます。院内の閉じたネットワーク以外では使わないでください",
                "warning: serving beyond loopback without TLS: passwords cross the network in plain text; do not use outside a closed hospital network",
            )
        );
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| anyhow::anyhow!("tokio runtime: {e}"))?;
    let dir = ctx.data_dir.clone();
    rt.block_on(async move {
        // Ctrl-C, or SIGTERM from a service manager: stop accepting, finish what is in flight.
        let shutdown = async {
            #[cfg(unix)]
            {
                let mut term =
                    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
                let mut int =
                    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()).ok();
                tokio::select! {
                    _ = async { if let Some(t) = term.as_mut() { t.recv().await; } else { std::future::pending::<()>().await } } => {}
                    _ = async { if let Some(i) = int.as_mut() { i.recv().await; } else { std::future::pending::<()>().await } } => {}
                }
            }
            #[cfg(not(unix))]
            {
                let _ = tokio::signal::ctrl_c().await;
            }
        };
        let listener_check = tokio::net::TcpListener::bind(listen).await.map_err(|e| {
            UsageError::err(
                format!("{listen} で待ち受けできません: {e}。--listen で別のポートを指定してください"),
                format!("cannot listen on {listen}: {e}; choose another with --listen"),
            )
        })?;
        drop(listener_check);
        if let Some(cert) = certificate {
            let ready = |fingerprint: &str| {
                println!(
                    "{}",
                    match lang {
                        Lang::Ja => format!("mamori の Web 画面: https://{listen}/ (Ctrl-C で終了)\n証明書の SHA-256 指紋: {fingerprint}"),
                        Lang::En => format!("mamori's web UI: https://{listen}/ (Ctrl-C to stop)\ncertificate SHA-256 fingerprint: {fingerprint}"),
                    }
                );
            };
            return mamori_web::serve_tls(listen, dir, cert, ready, shutdown)
                .await
                .map_err(|e| {
                    UsageError::err(
                        format!("HTTPS を開始できません: {e}"),
                        format!("cannot serve HTTPS: {e}"),
                    )
                });
        }
        println!(
            "{}",
            match lang {
                Lang::Ja => format!("mamori の Web 画面: http://{listen}/ (Ctrl-C で終了)"),
                Lang::En => format!("mamori's web UI: http://{listen}/ (Ctrl-C to stop)"),
            }
        );
        mamori_web::serve(listen, dir, shutdown)
            .await
            .map_err(|e| anyhow::anyhow!("serve: {e}"))
    })
}
