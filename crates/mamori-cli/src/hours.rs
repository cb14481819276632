//! `mamori calendar`, `schedule`, `watch`, `hours`: operating hours on the command line.

use std::time::Duration;

use anyhow::Result;
use chrono::{Datelike, NaiveDate};
use mamori_core::calendar::{OneOff, Schedule, WeeklyRange};
use mamori_core::Lang;
use serde_json::json;

use crate::args::{CalendarCommand, HoursCommand, ScheduleCommand};
use crate::commands::{open, print_json, Ctx, UsageError};
use crate::output::table;

fn date(option: &str, text: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| {
        UsageError::err(
            format!("{option}「{text}」は日付 (YYYY-MM-DD) ではありません"),
            format!("{option} {text:?} is not a date (YYYY-MM-DD)"),
        )
    })
}

fn usage(option: &str, e: String) -> anyhow::Error {
    UsageError::err(format!("{option}: {e}"), format!("{option}: {e}"))
}

pub fn calendar(ctx: &Ctx, command: CalendarCommand) -> Result<()> {
    let lang = ctx.lang;
    let mut app = open(ctx)?;
    match command {
        CalendarCommand::Holidays { year } => {
            let h = app.holidays()?;
            let list: Vec<_> =
                h.0.iter()
                    .filter(|(d, _)| year.is_none_or(|y| d.year() == y))
                    .collect();
            if ctx.json {
                let v: Vec<_> = list
                    .iter()
                    .map(|(d, n)| json!({ "date": d, "name": n }))
                    .collect();
                print_json(&json!(v));
            } else {
                for (d, n) in &list {
                    println!("{d}  {n}");
                }
                if let Some((a, b)) = h.years() {
                    eprintln!(
                        "{}",
                        match lang {
                            Lang::Ja => format!("{a}〜{b} 年の祝日 (新しい年は `mamori calendar import-holidays syukujitsu.csv`)"),
                            Lang::En => format!("holidays of {a}–{b} (newer years: `mamori calendar import-holidays syukujitsu.csv`)"),
                        }
                    );
                }
            }
        }
        CalendarCommand::ImportHolidays { file } => {
            let (n, (a, b)) = app.import_holidays(&file)?;
            if ctx.json {
                print_json(&json!({ "holidays": n, "from_year": a, "to_year": b }));
            } else {
                println!(
                    "{}",
                    match lang {
                        Lang::Ja => format!("{a}〜{b} 年の祝日 {n} 件を取り込みました"),
                        Lang::En => format!("{n} holidays of {a}–{b} imported"),
                    }
                );
            }
        }
    }
    Ok(())
}

pub fn schedule(ctx: &Ctx, command: ScheduleCommand) -> Result<()> {
    let lang = ctx.lang;
    let mut app = open(ctx)?;
    match command {
        ScheduleCommand::Set {
            name,
            always,
            weekly,
            closed_nth,
            open_on_holidays,
            year_end,
            closed_days,
            windows,
        } => {
            let s = Schedule {
                name: name.clone(),
                always,
                weekly: weekly
                    .iter()
                    .map(|w| WeeklyRange::parse(w).map_err(|e| usage("--weekly", e)))
                    .collect::<Result<_>>()?,
                holidays_closed: !open_on_holidays,
                closed_nth,
                year_end: if year_end == "none" {
                    String::new()
                } else {
                    year_end
                },
                closed_days: closed_days
                    .iter()
                    .map(|d| date("--closed-day", d))
                    .collect::<Result<_>>()?,
                windows: windows
                    .iter()
                    .map(|w| OneOff::parse(w).map_err(|e| usage("--window", e)))
                    .collect::<Result<_>>()?,
            };
            let replaced = app.set_schedule(&s)?;
            if ctx.json {
                print_json(&json!({ "schedule": s, "replaced": replaced }));
            } else {
                println!(
                    "{}",
                    match (lang, replaced) {
                        (Lang::Ja, false) => format!("稼働時間帯「{name}」を登録しました"),
                        (Lang::Ja, true) => format!("稼働時間帯「{name}」を置き換えました"),
                        (Lang::En, false) => format!("schedule {name:?} added"),
                        (Lang::En, true) => format!("schedule {name:?} replaced"),
                    }
                );
            }
        }
        ScheduleCommand::List => {
            let list = app.schedules()?;
            if ctx.json {
                print_json(&json!(list));
            } else if list.is_empty() {
                println!(
                    "{}",
                    lang.pick(
                        "稼働時間帯はまだありません (`mamori schedule set 外来 --weekly \"mon-fri 08:30-17:30\"`)",
                        "no schedules yet (`mamori schedule set 外来 --weekly \"mon-fri 08:30-17:30\"`)"
                    )
                );
            } else {
                let headers = match lang {
                    Lang::Ja => ["名前", "時間", "休み", "臨時の窓"],
                    Lang::En => ["name", "hours", "closed", "windows"],
                };
                let rows: Vec<Vec<String>> = list
                    .iter()
                    .map(|s| {
                        let hours = if s.always {
                            lang.pick("24時間365日", "24/365").to_string()
                        } else {
                            s.weekly
                                .iter()
                                .map(|w| w.to_string())
                                .collect::<Vec<_>>()
                                .join("; ")
                        };
                        let mut closed = Vec::new();
                        if s.holidays_closed && !s.always {
                            closed.push(lang.pick("祝日", "holidays").to_string());
                        }
                        if !s.year_end.is_empty() && !s.always {
                            closed.push(format!(
                                "{} {}",
                                lang.pick("年末年始", "year end"),
                                s.year_end
                            ));
                        }
                        closed.extend(s.closed_nth.iter().cloned());
                        closed.extend(s.closed_days.iter().map(|d| d.to_string()));
                        vec![
                            s.name.clone(),
                            hours,
                            closed.join(", "),
                            s.windows
                                .iter()
                                .map(|w| w.to_string())
                                .collect::<Vec<_>>()
                                .join("; "),
                        ]
                    })
                    .collect();
                table(&headers, &rows, &[16, 40, 40, 40]);
            }
        }
        ScheduleCommand::Default {
            kind,
            department,
            schedule,
        } => {
            let scope = match (kind, department) {
                (Some(k), _) => format!("kind:{k}"),
                (None, Some(d)) => format!("dept:{d}"),
                (None, None) => {
                    return Err(UsageError::err(
                        "--kind か --department を指定してください",
                        "give --kind or --department",
                    ))
                }
            };
            app.set_schedule_default(&scope, schedule.as_deref())?;
            if ctx.json {
                print_json(&json!({ "scope": scope, "schedule": schedule }));
            } else {
                println!("{scope} → {}", schedule.as_deref().unwrap_or("—"));
            }
        }
    }
    Ok(())
}

pub fn watch(ctx: &Ctx, interval: Option<u64>, once: bool, rounds: Option<u64>) -> Result<()> {
    let lang = ctx.lang;
    let mut app = open(ctx)?;
    let interval = Duration::from_secs(
        interval
            .or_else(|| {
                app.setting(mamori_app::hours::INTERVAL_KEY)
                    .ok()
                    .flatten()
                    .and_then(|v| v.parse().ok())
            })
            .unwrap_or(300)
            .max(1),
    );
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    {
        let stop = stop.clone();
        let _ = ctrlc::set_handler(move || stop.store(true, std::sync::atomic::Ordering::SeqCst));
    }
    let limit = if once { Some(1) } else { rounds };
    let mut done = 0u64;
    loop {
        let started = std::time::Instant::now();
        let r = app.watch_round(chrono::Duration::from_std(interval).unwrap_or_default())?;
        done += 1;
        if ctx.json {
            println!("{}", json!(r));
        } else {
            let (opened, resolved) = (r.opened.len(), r.resolved.len());
            let line = match lang {
                Lang::Ja => format!(
                    "{}: {} 台を確認、{} 台が稼働、所見 新規 {opened} 件・解消 {resolved} 件",
                    r.at, r.probed, r.up
                ),
                Lang::En => format!(
                    "{}: {} devices probed, {} up, findings {opened} new, {resolved} resolved",
                    r.at, r.probed, r.up
                ),
            };
            let left_out = match (r.no_known_port, lang) {
                (0, _) => String::new(),
                (n, Lang::Ja) => {
                    format!("（開いたポート不明のため {n} 台は対象外: 先に `mamori scan run`）")
                }
                (n, Lang::En) => format!(
                    " ({n} devices left out: no port known open — run `mamori scan run` first)"
                ),
            };
            println!("{line}{left_out}");
        }
        if limit.is_some_and(|l| done >= l) {
            return Ok(());
        }
        // Sleep until the next round, waking for Ctrl-C.
        while started.elapsed() < interval {
            if stop.load(std::sync::atomic::Ordering::SeqCst) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(200).min(interval));
        }
        if stop.load(std::sync::atomic::Ordering::SeqCst) {
            return Ok(());
        }
    }
}

pub fn hours(ctx: &Ctx, command: HoursCommand) -> Result<()> {
    let lang = ctx.lang;
    let mut app = open(ctx)?;
    match command {
        HoursCommand::Report {
            from,
            to,
            department,
            by_department,
            csv,
        } => {
            let from = date("--from", &from)?;
            let to = match to {
                Some(t) => date("--to", &t)?,
                None => from,
            };
            let rows = app.hours_report(from, to, department.as_deref())?;
            if by_department {
                return print_departments(ctx, &mamori_app::hours::by_department(&rows), csv);
            }
            if ctx.json {
                print_json(&json!(rows));
                return Ok(());
            }
            let headers = match lang {
                Lang::Ja => [
                    "管理番号",
                    "機器名",
                    "部署",
                    "日付",
                    "稼働時間帯",
                    "予定(時間)",
                    "稼働(時間)",
                    "時間外(時間)",
                ],
                Lang::En => [
                    "asset",
                    "name",
                    "department",
                    "date",
                    "schedule",
                    "scheduled h",
                    "up h",
                    "outside h",
                ],
            };
            let body: Vec<Vec<String>> = rows
                .iter()
                .map(|r| {
                    vec![
                        r.asset_id.clone(),
                        r.name.clone(),
                        r.department.clone().unwrap_or_default(),
                        r.date.to_string(),
                        r.schedule.clone().unwrap_or_else(|| "—".into()),
                        h(r.scheduled_minutes),
                        h(r.up_minutes),
                        h(r.outside_minutes),
                    ]
                })
                .collect();
            rows_out(&headers, &body, &[12, 16, 10, 10, 12, 10, 10, 12], csv)?;
        }
        HoursCommand::Nftables {
            schedule,
            out,
            days,
        } => {
            let (nft, cron) = app.nftables(&schedule, days.clamp(1, 1100))?;
            match out {
                Some(path) => {
                    std::fs::write(&path, &nft)?;
                    let cron_path = path.with_extension("cron");
                    std::fs::write(&cron_path, &cron)?;
                    if ctx.json {
                        print_json(&json!({ "nftables": path, "cron": cron_path }));
                    } else {
                        println!(
                            "{}",
                            match lang {
                                Lang::Ja => format!("{} と {} に書き出しました (確認のうえネットワーク担当者が適用してください。mamori は適用しません)", path.display(), cron_path.display()),
                                Lang::En => format!("written to {} and {} (for the network team to review and deploy; mamori never applies them)", path.display(), cron_path.display()),
                            }
                        );
                    }
                }
                None => {
                    print!("{nft}");
                    println!();
                    print!("{cron}");
                }
            }
        }
    }
    Ok(())
}

/// Minutes as hours with one decimal.
fn h(minutes: u32) -> String {
    format!("{:.1}", minutes as f64 / 60.0)
}

fn print_departments(
    ctx: &Ctx,
    rows: &[mamori_app::hours::DepartmentRow],
    csv: bool,
) -> Result<()> {
    if ctx.json {
        print_json(&json!(rows));
        return Ok(());
    }
    let headers = match ctx.lang {
        Lang::Ja => [
            "部署",
            "日付",
            "台数",
            "予定(時間)",
            "稼働(時間)",
            "時間外(時間)",
        ],
        Lang::En => [
            "department",
            "date",
            "devices",
            "scheduled h",
            "up h",
            "outside h",
        ],
    };
    let body: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.department.clone(),
                r.date.to_string(),
                r.devices.to_string(),
                h(r.scheduled_minutes),
                h(r.up_minutes),
                h(r.outside_minutes),
            ]
        })
        .collect();
    rows_out(&headers, &body, &[14, 10, 6, 10, 10, 12], csv)
}

/// Hours: a width-aware table, or CSV.
fn rows_out(headers: &[&str], body: &[Vec<String>], widths: &[usize], csv: bool) -> Result<()> {
    if csv {
        let mut w = csv::Writer::from_writer(std::io::stdout());
        w.write_record(headers)?;
        for r in body {
            w.write_record(r)?;
        }
        w.flush()?;
    } else {
        table(headers, body, widths);
    }
    Ok(())
}
