//! `mamori scan …`: the network audit on the command line.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use indicatif::{ProgressBar, ProgressStyle};
use mamori_app::scans::{ScanRequest, ScanSummary};
use mamori_core::scan::{PortResult, Vantage};
use mamori_core::Lang;
use mamori_net::{Counters, StopFlag};
use serde_json::json;

use crate::args::{ScanCommand, ScanRunArgs, VantageArg};
use crate::commands::{open, print_json, Ctx, UsageError};
use crate::output::table;

fn vantage(v: VantageArg) -> Vantage {
    match v {
        VantageArg::Internal => Vantage::Internal,
        VantageArg::External => Vantage::External,
    }
}

fn request(a: ScanRunArgs) -> ScanRequest {
    ScanRequest {
        scope: a.scope,
        ledger: a.ledger,
        exclude: a.exclude,
        ports: a.ports,
        rate: a.rate,
        per_host: a.per_host,
        concurrency: a.concurrency,
        timeout_ms: a.timeout_ms,
        windows: a.windows,
        snmp_communities: (!a.snmp_communities.is_empty()).then_some(a.snmp_communities),
        vantage: vantage(a.vantage),
        yes: a.yes,
        allow_public: a.allow_public,
        no_identify: a.no_identify,
        creds: a.creds,
        catalogs: a.catalogs,
    }
}

pub fn scan(ctx: &Ctx, command: ScanCommand) -> Result<()> {
    let lang = ctx.lang;
    let mut app = open(ctx)?;
    match command {
        ScanCommand::Run(args) => {
            let req = request(args);
            let prepared = app.prepare_scan(&req)?;
            if !prepared.excluded_devices.is_empty() && !ctx.json {
                eprintln!(
                    "{}: {}",
                    lang.pick(
                        "スキャン除外の機器",
                        "devices flagged scan-exclude, not probed"
                    ),
                    prepared.excluded_devices.join(", ")
                );
            }
            let total = prepared.targets.len() as u64;
            let counters = Arc::new(Counters::default());
            let stop = StopFlag::default();
            {
                // Ctrl-C or a termination signal: stop sending, keep what was found.
                let stop = stop.clone();
                let _ = ctrlc::set_handler(move || stop.stop());
            }
            let bar = if ctx.interactive {
                ProgressBar::new(total)
            } else {
                ProgressBar::hidden()
            };
            bar.set_style(
                ProgressStyle::with_template(&format!(
                    "{{spinner}} [{{bar:30}}] {{pos}}/{{len}} {} {{msg}}",
                    lang.pick("台", "hosts")
                ))
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            // The ticker redraws every 150 ms until the sender is dropped (which wakes it at
            // once, so a quick scan does not wait for a tick).
            let (done, finished) = std::sync::mpsc::channel::<()>();
            let ticker = {
                let (bar, counters) = (bar.clone(), counters.clone());
                std::thread::spawn(move || {
                    let start = Instant::now();
                    while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                        finished.recv_timeout(Duration::from_millis(150))
                    {
                        let probes = counters.probes.load(Ordering::Relaxed);
                        let secs = start.elapsed().as_secs_f64().max(0.001);
                        bar.set_position(counters.hosts_done.load(Ordering::Relaxed) as u64);
                        bar.set_message(match lang {
                            Lang::Ja => format!(
                                "開いたポート {} · {:.0} プローブ/秒",
                                counters.open_ports.load(Ordering::Relaxed),
                                probes as f64 / secs
                            ),
                            Lang::En => format!(
                                "open ports {} · {:.0} probes/s",
                                counters.open_ports.load(Ordering::Relaxed),
                                probes as f64 / secs
                            ),
                        });
                    }
                })
            };
            let result = app.run_scan(prepared, counters, stop);
            drop(done);
            let _ = ticker.join();
            bar.finish_and_clear();
            let summary = result?;
            print_summary(ctx, &summary);
            if summary.stopped.is_some() {
                // Exit 1: the scan did not look everywhere it was asked to.
                return Err(UsageError::err(
                    format!(
                        "スキャン #{} は完了していません ({})。結果は保存済みです。`mamori scan show {}`",
                        summary.id,
                        status_text(&summary.status, summary.stopped.as_deref(), lang),
                        summary.id
                    ),
                    format!(
                        "scan #{} did not finish ({}); what it found is stored: `mamori scan show {}`",
                        summary.id,
                        status_text(&summary.status, summary.stopped.as_deref(), Lang::En),
                        summary.id
                    ),
                ));
            }
        }
        ScanCommand::ImportNmap { file, vantage: v } => {
            let summary = app.import_nmap(&file, vantage(v))?;
            print_summary(ctx, &summary);
        }
        ScanCommand::List => {
            let scans = app.scans()?;
            if ctx.json {
                let list: Vec<_> = scans
                    .iter()
                    .map(|s| {
                        json!({
                            "id": s.id, "source": s.source, "started_at": s.started_at,
                            "finished_at": s.finished_at, "status": s.status, "stopped": s.stopped,
                            "vantage": s.vantage, "actor": s.actor, "file": s.file,
                            "hosts": s.hosts, "up": s.up, "open_ports": s.open_ports, "probes": s.probes,
                        })
                    })
                    .collect();
                print_json(&json!(list));
            } else if scans.is_empty() {
                println!(
                    "{}",
                    lang.pick(
                        "スキャンはまだありません (`mamori scan run --scope …`)",
                        "no scans yet (`mamori scan run --scope …`)"
                    )
                );
            } else {
                let headers = match lang {
                    Lang::Ja => [
                        "番号",
                        "開始",
                        "種別",
                        "状態",
                        "位置",
                        "台数",
                        "応答",
                        "開ポート",
                        "実行者",
                    ],
                    Lang::En => [
                        "id", "started", "source", "status", "vantage", "hosts", "up", "open", "by",
                    ],
                };
                let rows: Vec<Vec<String>> = scans
                    .iter()
                    .map(|s| {
                        vec![
                            format!("#{}", s.id),
                            s.started_at
                                .with_timezone(&chrono::Local)
                                .format("%Y-%m-%d %H:%M")
                                .to_string(),
                            s.file
                                .as_ref()
                                .map(|f| format!("nmap {f}"))
                                .unwrap_or_else(|| s.source.clone()),
                            status_text(&s.status, s.stopped.as_deref(), lang),
                            s.vantage.clone(),
                            s.hosts.to_string(),
                            s.up.to_string(),
                            s.open_ports.to_string(),
                            s.actor.clone(),
                        ]
                    })
                    .collect();
                table(&headers, &rows, &[6, 16, 24, 20, 8, 6, 6, 8, 16]);
            }
        }
        ScanCommand::Show { id } => {
            let (scan, hosts) = app.scan_detail(id)?;
            if ctx.json {
                let list: Vec<_> = hosts
                    .iter()
                    .map(|h| json!({ "addr": h.addr, "up": h.up, "asset": h.asset, "result": h.result }))
                    .collect();
                print_json(&json!({
                    "id": scan.id, "source": scan.source, "status": scan.status, "stopped": scan.stopped,
                    "vantage": scan.vantage, "policy": scan.policy, "started_at": scan.started_at,
                    "finished_at": scan.finished_at, "hosts": list,
                }));
                return Ok(());
            }
            println!(
                "#{} {} {} ({})",
                scan.id,
                scan.source,
                status_text(&scan.status, scan.stopped.as_deref(), lang),
                scan.vantage
            );
            let names = app.asset_names_by_id()?;
            let headers = match lang {
                Lang::Ja => ["アドレス", "機器", "ポート", "サービス", "製品", "所見"],
                Lang::En => ["address", "device", "port", "service", "product", "notes"],
            };
            let mut rows = Vec::new();
            for h in hosts
                .iter()
                .filter(|h| h.result.open_ports().next().is_some())
            {
                let device = h
                    .asset
                    .and_then(|a| names.get(&a).cloned())
                    .unwrap_or_else(|| lang.pick("(未登録)", "(unregistered)").into());
                for p in h.result.open_ports() {
                    rows.push(vec![
                        h.addr.clone(),
                        device.clone(),
                        p.key(),
                        p.service.clone().unwrap_or_default(),
                        [&p.product, &p.version]
                            .into_iter()
                            .flatten()
                            .cloned()
                            .collect::<Vec<_>>()
                            .join(" "),
                        notes(p, lang),
                    ]);
                }
            }
            table(&headers, &rows, &[16, 14, 9, 11, 22, 60]);
            let quiet = hosts
                .iter()
                .filter(|h| h.up && h.result.open_ports().next().is_none())
                .count();
            if quiet > 0 {
                println!(
                    "{}",
                    match lang {
                        Lang::Ja => format!("ほかに {quiet} 台が応答 (開いたポートなし)"),
                        Lang::En => format!("{quiet} more addresses answered with no open port"),
                    }
                );
            }
        }
        ScanCommand::Diff { from, to } => {
            let d = app.scan_diff(from, to)?;
            if ctx.json {
                print_json(&json!(d));
                return Ok(());
            }
            let section = |ja: &str, en: &str, items: &[String], mark: &str| {
                if !items.is_empty() {
                    println!("{} ({})", lang.pick(ja, en), items.len());
                    for i in items {
                        println!("  {mark} {i}");
                    }
                }
            };
            section(
                "新たに応答した機器",
                "hosts appeared",
                &d.hosts_appeared,
                "+",
            );
            section(
                "応答しなくなった機器",
                "hosts disappeared",
                &d.hosts_disappeared,
                "-",
            );
            section(
                "新たに開いたポート",
                "ports appeared",
                &d.ports_appeared,
                "+",
            );
            section(
                "閉じたポート",
                "ports disappeared",
                &d.ports_disappeared,
                "-",
            );
            section("製品・バージョンの変化", "changed", &d.changed, "~");
            if d.hosts_appeared.is_empty()
                && d.hosts_disappeared.is_empty()
                && d.ports_appeared.is_empty()
                && d.ports_disappeared.is_empty()
                && d.changed.is_empty()
            {
                println!("{}", lang.pick("差分はありません", "no differences"));
            }
        }
        ScanCommand::Allow {
            target,
            ports,
            note,
            remove,
        } => {
            let list = mamori_net::ports::parse_ports(&ports)
                .map_err(|e| UsageError::err(format!("ポートの指定が読めません: {e}"), e))?;
            let n = app.set_allowed_services(&target, &list, note.as_deref(), !remove)?;
            if ctx.json {
                print_json(&json!({ "target": target, "changed": n, "allowed": !remove }));
            } else {
                println!(
                    "{}",
                    match (lang, remove) {
                        (Lang::Ja, false) => format!("{target}: {n} 件のサービスを許可しました"),
                        (Lang::Ja, true) => format!("{target}: {n} 件の許可を取り消しました"),
                        (Lang::En, false) => format!("{target}: {n} services allowed"),
                        (Lang::En, true) => format!("{target}: {n} services no longer allowed"),
                    }
                );
            }
        }
        ScanCommand::Allowed => {
            let list = app.allowed_services()?;
            if ctx.json {
                let v: Vec<_> = list
                    .iter()
                    .map(|(who, s)| json!({ "target": who, "port": s.port, "transport": s.transport, "note": s.note }))
                    .collect();
                print_json(&json!(v));
            } else {
                let headers = match lang {
                    Lang::Ja => ["対象", "ポート", "メモ"],
                    Lang::En => ["target", "port", "note"],
                };
                let rows: Vec<Vec<String>> = list
                    .iter()
                    .map(|(who, s)| {
                        vec![
                            who.clone(),
                            format!("{}/{}", s.port, s.transport),
                            s.note.clone().unwrap_or_default(),
                        ]
                    })
                    .collect();
                table(&headers, &rows, &[20, 10, 40]);
            }
        }
    }
    Ok(())
}

fn status_text(status: &str, stopped: Option<&str>, lang: Lang) -> String {
    let s = match status {
        "complete" => lang.pick("完了", "complete"),
        "running" => lang.pick("実行中", "running"),
        _ => lang.pick("未完了", "incomplete"),
    };
    match stopped {
        Some(why) => {
            let why = match why {
                "interrupted" => lang.pick("中断", "interrupted"),
                "outside_window" => lang.pick("時間帯外で停止", "outside its window"),
                "killed" => lang.pick("強制終了", "killed"),
                other => other,
            };
            format!("{s} ({why})")
        }
        None => s.to_string(),
    }
}

/// The facts worth a glance: DICOM AE behaviour, TLS expiry, HTTP title, SNMP, SMBv1.
fn notes(p: &PortResult, lang: Lang) -> String {
    let mut out = Vec::new();
    match p.fact("dicom.any_ae") {
        Some("true") => out.push(
            lang.pick("任意のAEタイトルを受付", "accepts any AE title")
                .to_string(),
        ),
        Some("false") => out.push(format!(
            "{} ({})",
            lang.pick("AEタイトルを確認", "checks AE titles"),
            p.fact("dicom.reject_reason").unwrap_or("rejected")
        )),
        _ => {}
    }
    if let Some(v) = p.fact("dicom.impl_version") {
        out.push(v.to_string());
    }
    if let Some(t) = p.fact("http.title") {
        out.push(format!("\"{t}\""));
    }
    if let Some(s) = p.fact("http.status") {
        out.push(format!("HTTP {s}"));
    }
    if let Some(t) = p.fact("tls.not_after") {
        out.push(format!(
            "{} {}",
            lang.pick("証明書期限", "cert expires"),
            &t[..t.len().min(10)]
        ));
    }
    if p.fact("tls.self_signed") == Some("true") {
        out.push(lang.pick("自己署名", "self-signed").into());
    }
    if let Some(d) = p.fact("snmp.sys_descr") {
        out.push(format!("sysDescr \"{d}\""));
    }
    if p.fact("smb.smb1") == Some("true") {
        out.push("SMBv1".into());
    }
    if p.fact("redis.auth") == Some("none") {
        out.push(lang.pick("認証なし", "no authentication").into());
    }
    if p.by_port {
        out.push(lang.pick("(ポート番号から推定)", "(by port number)").into());
    }
    out.join(" · ")
}

fn print_summary(ctx: &Ctx, s: &ScanSummary) {
    let lang = ctx.lang;
    if ctx.json {
        print_json(&json!(s));
        return;
    }
    println!(
        "{}",
        match lang {
            Lang::Ja => format!(
                "スキャン #{}: {} — {} 台中 {} 台が応答、開いたポート {}、プローブ {} ({:.1} 秒)",
                s.id,
                status_text(&s.status, s.stopped.as_deref(), lang),
                s.hosts,
                s.up,
                s.open_ports,
                s.probes,
                s.seconds
            ),
            Lang::En => format!(
                "scan #{}: {} — {} of {} addresses answered, {} open ports, {} probes ({:.1} s)",
                s.id,
                status_text(&s.status, s.stopped.as_deref(), lang),
                s.up,
                s.hosts,
                s.open_ports,
                s.probes,
                s.seconds
            ),
        }
    );
    println!(
        "{}",
        match lang {
            Lang::Ja => format!(
                "8.3 所見: 新規・再検出 {}、継続 {}、解消 {}（未登録機器 {}）。識別したサービス {} 件を機器の構成品に記録",
                s.opened.len(),
                s.confirmed,
                s.resolved.len(),
                s.unregistered,
                s.components
            ),
            Lang::En => format!(
                "8.3 findings: {} new or found again, {} still seen, {} resolved ({} unregistered devices); {} identified services recorded as device components",
                s.opened.len(),
                s.confirmed,
                s.resolved.len(),
                s.unregistered,
                s.components
            ),
        }
    );
    if let Some(c) = &s.creds {
        println!(
            "{}",
            match lang {
                Lang::Ja => format!(
                    "既定パスワード検査: {} 台・{} サービス、試行 {} 回 (1アカウント最大 {} 回)、出荷時パスワード {} 件・認証なし {} 件、除外 {} 台 ({:.1} 秒)",
                    c.hosts, c.services, c.attempts, c.max_per_account, c.default_credentials, c.no_auth, c.excluded, c.seconds
                ),
                Lang::En => format!(
                    "default-credential checks: {} hosts, {} services, {} attempts (at most {} per account), {} default credentials, {} without authentication, {} excluded ({:.1} s)",
                    c.hosts, c.services, c.attempts, c.max_per_account, c.default_credentials, c.no_auth, c.excluded, c.seconds
                ),
            }
        );
        if !c.locked.is_empty() {
            println!(
                "{}: {}",
                lang.pick(
                    "ロックアウト・制限の応答で中止したサービス",
                    "stopped on a lockout or rate-limit answer"
                ),
                c.locked.join(", ")
            );
        }
    }
    for w in &s.warnings {
        eprintln!("{}: {w}", lang.pick("警告", "warning"));
    }
    if !s.opened.is_empty() {
        println!(
            "{}",
            lang.pick(
                "`mamori findings list --category 8.3` で確認できます",
                "see them with `mamori findings list --category 8.3`"
            )
        );
    }
}
