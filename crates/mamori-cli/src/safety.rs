//! `mamori creds …`: approvals, exclusions and the catalogue of the default-credential checks.
//! (`mamori attest …` and `mamori collect …` live here too: the rest of 8.3's safe-use work.)

use anyhow::Result;
use mamori_app::attest::{AttestRequest, CoverageBy};
use mamori_app::creds::ApprovalRequest;
use mamori_core::attest::{AttestItem, AttestValue};
use mamori_core::{Labelled, Lang};
use serde_json::json;

use crate::args::{AttestCommand, CollectArgs, CollectCommand, CoverageByArg, CredsCommand};
use crate::commands::{open, print_json, Ctx, UsageError};
use crate::output::table;

fn local(t: chrono::DateTime<chrono::Utc>) -> String {
    t.with_timezone(&chrono::Local)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

pub fn creds(ctx: &Ctx, command: CredsCommand) -> Result<()> {
    let lang = ctx.lang;
    match command {
        CredsCommand::Catalog { catalogs, list } => {
            let (summary, entries) = open(ctx)?.cred_catalogue(&catalogs)?;
            if list {
                if ctx.json {
                    // Never the password: what is tried is in the catalogue file itself.
                    let v: Vec<_> = entries
                        .iter()
                        .map(|e| json!({ "id": e.id, "vendor": e.vendor, "product": e.product, "category": e.category, "protocol": e.protocol, "port": e.port, "username": e.username, "source": e.source }))
                        .collect();
                    print_json(&json!(v));
                    return Ok(());
                }
                let headers = match lang {
                    Lang::Ja => ["ID", "製造元", "製品", "分類", "方式", "利用者", "出典"],
                    Lang::En => [
                        "id", "vendor", "product", "category", "protocol", "user", "source",
                    ],
                };
                let rows: Vec<Vec<String>> = entries
                    .iter()
                    .map(|e| {
                        vec![
                            e.id.clone(),
                            e.vendor.clone(),
                            e.product.clone(),
                            e.category.clone(),
                            e.protocol.clone(),
                            e.username.clone(),
                            e.source.clone(),
                        ]
                    })
                    .collect();
                table(&headers, &rows, &[32, 20, 28, 12, 11, 12, 60]);
                return Ok(());
            }
            if ctx.json {
                print_json(&json!(summary));
                return Ok(());
            }
            println!(
                "{}",
                match lang {
                    Lang::Ja => format!(
                        "既定パスワード一覧: {} 件 (出典のない項目 {} 件)",
                        summary.entries, summary.without_source
                    ),
                    Lang::En => format!(
                        "default-credential catalogue: {} entries ({} without a source)",
                        summary.entries, summary.without_source
                    ),
                }
            );
            for (heading, counts, labelled) in [
                (lang.pick("分類", "category"), &summary.by_category, true),
                (lang.pick("方式", "protocol"), &summary.by_protocol, false),
            ] {
                let rows: Vec<Vec<String>> = counts
                    .iter()
                    .map(|(c, n)| {
                        let name = if labelled {
                            format!("{} ({c})", mamori_net::catalogue::category_label(c, lang))
                        } else {
                            c.clone()
                        };
                        vec![name, n.to_string()]
                    })
                    .collect();
                table(&[heading, lang.pick("件数", "entries")], &rows, &[40, 8]);
            }
        }
        CredsCommand::Approve {
            scope,
            exclude,
            windows,
            max_attempts,
            delay_ms,
            note,
        } => {
            let mut app = open(ctx)?;
            let id = app.approve_cred_checks(&ApprovalRequest {
                scope,
                exclude,
                windows,
                max_attempts,
                delay_ms,
                note,
            })?;
            if ctx.json {
                print_json(&json!({ "id": id }));
            } else {
                println!(
                    "{}",
                    match lang {
                        Lang::Ja => format!("既定パスワード検査を承認しました (承認 #{id})。`mamori scan run --creds …` で実行します"),
                        Lang::En => format!("default-credential checks approved (approval #{id}); run them with `mamori scan run --creds …`"),
                    }
                );
            }
        }
        CredsCommand::Approvals => {
            let mut app = open(ctx)?;
            let list = app.cred_approvals()?;
            if ctx.json {
                print_json(&json!(list));
                return Ok(());
            }
            if list.is_empty() {
                println!(
                    "{}",
                    lang.pick(
                        "承認はありません (`mamori creds approve --scope …`、企画管理者)",
                        "no approvals (`mamori creds approve --scope …`, planning administrator)"
                    )
                );
                return Ok(());
            }
            let headers = match lang {
                Lang::Ja => [
                    "番号",
                    "範囲",
                    "除外",
                    "時間帯",
                    "回数",
                    "間隔ms",
                    "承認者",
                    "承認日時",
                    "状態",
                ],
                Lang::En => [
                    "id", "scope", "exclude", "windows", "tries", "delay ms", "by", "at", "state",
                ],
            };
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|a| {
                    vec![
                        format!("#{}", a.id),
                        a.scope.clone(),
                        a.exclude.clone().unwrap_or_default(),
                        a.windows.join("; "),
                        a.max_attempts.to_string(),
                        a.delay_ms.to_string(),
                        a.approved_by.clone(),
                        local(a.approved_at),
                        match a.revoked_at {
                            Some(t) => format!("{} {}", lang.pick("取消", "revoked"), local(t)),
                            None => lang.pick("有効", "in force").to_string(),
                        },
                    ]
                })
                .collect();
            table(&headers, &rows, &[6, 30, 20, 24, 5, 8, 14, 16, 22]);
        }
        CredsCommand::Revoke { id } => {
            open(ctx)?.revoke_cred_approval(id)?;
            if !ctx.json {
                println!(
                    "{}",
                    match lang {
                        Lang::Ja => format!("承認 #{id} を取り消しました"),
                        Lang::En => format!("approval #{id} withdrawn"),
                    }
                );
            }
        }
        CredsCommand::Exclude { asset, note } => {
            let changed = open(ctx)?.set_cred_exclusion(&asset, Some(&note))?;
            if !ctx.json {
                println!(
                    "{}",
                    match (lang, changed) {
                        (Lang::Ja, _) => format!("{asset} は既定パスワード検査の対象外です"),
                        (Lang::En, _) =>
                            format!("{asset} is excluded from default-credential checks"),
                    }
                );
            }
        }
        CredsCommand::Include { asset } => {
            let changed = open(ctx)?.set_cred_exclusion(&asset, None)?;
            if !ctx.json {
                println!(
                    "{}",
                    match (lang, changed) {
                        (Lang::Ja, true) =>
                            format!("{asset} を既定パスワード検査の対象に戻しました"),
                        (Lang::Ja, false) => format!("{asset} は除外されていません"),
                        (Lang::En, true) => format!("{asset} will be checked again"),
                        (Lang::En, false) => format!("{asset} was not excluded"),
                    }
                );
            }
        }
        CredsCommand::Excluded => {
            let list = open(ctx)?.cred_exclusions()?;
            if ctx.json {
                let v: Vec<_> = list
                    .iter()
                    .map(|(a, n)| json!({ "asset_id": a, "note": n }))
                    .collect();
                print_json(&json!(v));
            } else {
                let rows: Vec<Vec<String>> = list
                    .into_iter()
                    .map(|(a, n)| vec![a, n.unwrap_or_default()])
                    .collect();
                table(
                    &[lang.pick("管理番号", "asset"), lang.pick("理由", "note")],
                    &rows,
                    &[20, 60],
                );
            }
        }
    }
    Ok(())
}

fn item_label(code: &str, lang: Lang) -> String {
    AttestItem::parse(code)
        .map(|i| i.label(lang).to_string())
        .unwrap_or_else(|| code.to_string())
}

fn value_label(code: Option<&str>, lang: Lang) -> String {
    code.and_then(AttestValue::parse)
        .map(|v| v.label(lang).to_string())
        .unwrap_or_else(|| lang.pick("未確認", "not attested").to_string())
}

fn state_label(state: &str, lang: Lang) -> &'static str {
    match state {
        "ok" => lang.pick("確認済", "confirmed"),
        "no" => lang.pick("いいえ (要対応)", "no (action needed)"),
        "expired" => lang.pick("期限切れ", "expired"),
        "contradicted" => lang.pick("矛盾 (検査で既定パスワード検出)", "contradicted by a check"),
        _ => lang.pick("未確認", "missing"),
    }
}

fn states_table(states: &[mamori_app::attest::AttestState], lang: Lang) {
    let headers = match lang {
        Lang::Ja => [
            "管理番号",
            "機器名",
            "部署",
            "項目",
            "回答",
            "状態",
            "確認者",
            "確認日",
            "再確認期限",
            "根拠",
        ],
        Lang::En => [
            "asset",
            "name",
            "department",
            "item",
            "answer",
            "state",
            "by",
            "date",
            "due",
            "evidence",
        ],
    };
    let rows: Vec<Vec<String>> = states
        .iter()
        .map(|s| {
            vec![
                s.asset_id.clone(),
                s.name.clone(),
                s.department.clone().unwrap_or_default(),
                item_label(&s.item, lang),
                value_label(s.value.as_deref(), lang),
                state_label(&s.state, lang).to_string(),
                s.actor.clone().unwrap_or_default(),
                s.date.map(|d| d.to_string()).unwrap_or_default(),
                s.due.map(|d| d.to_string()).unwrap_or_default(),
                [s.evidence.clone(), s.attachment.clone()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" / "),
            ]
        })
        .collect();
    table(&headers, &rows, &[12, 16, 10, 24, 8, 14, 14, 10, 10, 30]);
}

pub fn attest(ctx: &Ctx, command: AttestCommand) -> Result<()> {
    let lang = ctx.lang;
    let mut app = open(ctx)?;
    match command {
        AttestCommand::Set {
            asset,
            item,
            value,
            evidence,
            attach,
            interval_days,
        } => {
            let item_parsed = AttestItem::parse(&item).ok_or_else(|| {
                UsageError::err(
                    format!("項目「{item}」は次のいずれかです: boot_password (起動時パスワード設定), default_password (出荷時パスワード変更), server_admin (管理者ID), services_stopped (不要なサービス停止), initial_settings (初期設定の確認)"),
                    format!("item {item:?} is one of boot_password, default_password, server_admin, services_stopped, initial_settings"),
                )
            })?;
            let value_parsed = AttestValue::parse(&value).ok_or_else(|| {
                UsageError::err(
                    format!("回答「{value}」は はい / いいえ / 対象外 のいずれかです"),
                    format!("answer {value:?} is one of yes, no, not_applicable"),
                )
            })?;
            let id = app.attest(&AttestRequest {
                asset_id: asset.clone(),
                item: item_parsed,
                value: value_parsed,
                evidence,
                attachment: attach,
                interval_days,
            })?;
            if ctx.json {
                print_json(&json!({ "id": id }));
            } else {
                println!(
                    "{}",
                    match lang {
                        Lang::Ja => format!(
                            "{asset}: {} を「{}」と記録しました (#{id})",
                            item_parsed.label(lang),
                            value_parsed.label(lang)
                        ),
                        Lang::En => format!(
                            "{asset}: {} recorded as {:?} (#{id})",
                            item_parsed.label(lang),
                            value_parsed.label(lang)
                        ),
                    }
                );
            }
        }
        AttestCommand::List { asset, history } => {
            if history {
                let list = app.attestation_history(asset.as_deref())?;
                if ctx.json {
                    let v: Vec<_> = list
                        .iter()
                        .map(|(id, a)| json!({ "asset_id": id, "attestation": a }))
                        .collect();
                    print_json(&json!(v));
                    return Ok(());
                }
                let headers = match lang {
                    Lang::Ja => [
                        "番号",
                        "管理番号",
                        "項目",
                        "回答",
                        "確認者",
                        "日時",
                        "間隔(日)",
                        "根拠",
                    ],
                    Lang::En => [
                        "id", "asset", "item", "answer", "by", "at", "interval", "evidence",
                    ],
                };
                let rows: Vec<Vec<String>> = list
                    .iter()
                    .map(|(id, a)| {
                        vec![
                            format!("#{}", a.id),
                            id.clone(),
                            item_label(&a.item, lang),
                            value_label(Some(&a.value), lang),
                            a.actor.clone(),
                            local(a.at),
                            a.interval_days.to_string(),
                            [a.evidence.clone(), a.attachment.clone()]
                                .into_iter()
                                .flatten()
                                .collect::<Vec<_>>()
                                .join(" / "),
                        ]
                    })
                    .collect();
                table(&headers, &rows, &[6, 12, 24, 8, 14, 16, 8, 40]);
                return Ok(());
            }
            let states = app.attestation_states(asset.as_deref())?;
            if ctx.json {
                print_json(&json!(states));
            } else {
                states_table(&states, lang);
            }
        }
        AttestCommand::Due { within_days } => {
            let states = app.attestations_due(within_days)?;
            if ctx.json {
                print_json(&json!(states));
            } else if states.is_empty() {
                println!(
                    "{}",
                    lang.pick("確認が必要なものはありません", "nothing needs confirming")
                );
            } else {
                states_table(&states, lang);
                println!(
                    "{}",
                    match lang {
                        Lang::Ja => format!("{} 件 (`mamori attest set 管理番号 項目 はい|いいえ|対象外` で記録)", states.len()),
                        Lang::En => format!("{} to confirm (record with `mamori attest set ASSET ITEM yes|no|not_applicable`)", states.len()),
                    }
                );
            }
        }
        AttestCommand::Coverage { by } => {
            let by = match by {
                CoverageByArg::Department => CoverageBy::Department,
                CoverageByArg::Kind => CoverageBy::Kind,
            };
            let rows = app.attestation_coverage(by, lang)?;
            if ctx.json {
                print_json(&json!(rows));
                return Ok(());
            }
            let mut headers: Vec<String> = vec![
                match by {
                    CoverageBy::Department => lang.pick("部署", "department"),
                    CoverageBy::Kind => lang.pick("機器種別", "kind"),
                }
                .to_string(),
                lang.pick("台数", "devices").to_string(),
            ];
            headers.extend(AttestItem::ALL.iter().map(|i| i.label(lang).to_string()));
            let table_rows: Vec<Vec<String>> = rows
                .iter()
                .map(|r| {
                    let mut row = vec![r.group.clone(), r.devices.to_string()];
                    for item in AttestItem::ALL {
                        let n = r.confirmed.get(item.code()).copied().unwrap_or(0);
                        let pct = if r.devices == 0 {
                            0.0
                        } else {
                            100.0 * n as f64 / r.devices as f64
                        };
                        row.push(format!("{n}/{} ({pct:.0}%)", r.devices));
                    }
                    row
                })
                .collect();
            let h: Vec<&str> = headers.iter().map(String::as_str).collect();
            table(&h, &table_rows, &[16, 6, 16, 16, 16, 16, 16]);
        }
    }
    Ok(())
}

fn print_import(ctx: &Ctx, r: &mamori_app::collect::HostImport) {
    let lang = ctx.lang;
    if ctx.json {
        print_json(&json!(r));
        return;
    }
    println!(
        "{}",
        match lang {
            Lang::Ja => format!(
                "{}: ホスト {} のレポート #{} を取り込みました — パッケージ {} 件を構成品に、待受ポート {} 件{}",
                r.asset_id,
                r.hostname,
                r.id,
                r.packages,
                r.listening,
                r.key.as_ref().map(|k| format!("、署名の鍵「{k}」を確認")).unwrap_or_default()
            ),
            Lang::En => format!(
                "{}: report #{} of host {} imported — {} packages as components, {} listening sockets{}",
                r.asset_id,
                r.id,
                r.hostname,
                r.packages,
                r.listening,
                r.key.as_ref().map(|k| format!(", signature of key {k:?} verified")).unwrap_or_default()
            ),
        }
    );
    for c in &r.concerns {
        println!("  ! {}", lang.pick(&c.ja, &c.en));
    }
    for n in &r.notes {
        eprintln!("{}: {n}", lang.pick("注記", "note"));
    }
}

pub fn collect(ctx: &Ctx, args: CollectArgs) -> Result<()> {
    let lang = ctx.lang;
    match args.command {
        Some(CollectCommand::Keygen { name, out }) => {
            let (secret, public) = open(ctx)?.collector_keygen(&name, &out)?;
            if ctx.json {
                print_json(&json!({ "name": name, "secret": secret, "public": public }));
            } else {
                println!(
                    "{}",
                    match lang {
                        Lang::Ja => format!("収集鍵「{name}」を作成し登録しました: {} (秘密鍵、収集する端末へ) と {}", secret.display(), public.display()),
                        Lang::En => format!("collector key {name:?} made and registered: {} (secret: take it to the hosts) and {}", secret.display(), public.display()),
                    }
                );
            }
        }
        Some(CollectCommand::Import { file, device }) => {
            let r = open(ctx)?.import_host_report(&file, &device)?;
            print_import(ctx, &r);
        }
        Some(CollectCommand::Show { device }) => {
            let reports = open(ctx)?.host_reports(&device)?;
            if ctx.json {
                print_json(&json!(reports));
                return Ok(());
            }
            let headers = match lang {
                Lang::Ja => [
                    "番号",
                    "収集日時",
                    "ホスト名",
                    "署名鍵",
                    "パッケージ",
                    "待受",
                    "取込者",
                ],
                Lang::En => [
                    "id",
                    "collected",
                    "host",
                    "key",
                    "packages",
                    "listening",
                    "by",
                ],
            };
            let rows: Vec<Vec<String>> = reports
                .iter()
                .map(|r| {
                    vec![
                        format!("#{}", r.id),
                        local(r.collected_at),
                        r.hostname.clone(),
                        r.key_name.clone().unwrap_or_else(|| "-".into()),
                        r.report["packages"]
                            .as_array()
                            .map(Vec::len)
                            .unwrap_or(0)
                            .to_string(),
                        r.report["listening"]
                            .as_array()
                            .map(Vec::len)
                            .unwrap_or(0)
                            .to_string(),
                        r.imported_by.clone(),
                    ]
                })
                .collect();
            table(&headers, &rows, &[6, 16, 20, 16, 10, 8, 14]);
        }
        None => {
            let run = args.run;
            let report = match &run.ssh {
                Some(dest) => mamori_host::collect_ssh(&mamori_host::SshTarget {
                    destination: dest.clone(),
                    port: run.port,
                    identity: run.identity.clone(),
                    known_hosts: run.known_hosts.clone(),
                    connect_timeout: 10,
                })
                .map_err(|e| {
                    UsageError::err(
                        format!("SSH での収集に失敗しました: {e}"),
                        format!("collection over SSH failed: {e}"),
                    )
                })?,
                None => mamori_host::collect_root(
                    run.root.as_deref().unwrap_or(std::path::Path::new("/")),
                ),
            };
            if let Some(device) = &run.import_to {
                let r = open(ctx)?.import_host_report_direct(report, device)?;
                print_import(ctx, &r);
                return Ok(());
            }
            let Some(out) = &run.out else {
                return Err(UsageError::err(
                    "--out FILE --key 収集鍵 (持ち込み用の署名付きファイル) か --import-to 管理番号 (直接取り込み) を指定してください",
                    "give --out FILE --key KEY (a signed file to carry) or --import-to ASSET (import directly)",
                ));
            };
            let key = run.key.as_deref().ok_or_else(|| {
                UsageError::err("--out には --key が必要です", "--out needs --key")
            })?;
            let signed = mamori_app::collect::sign_report(&report, key)?;
            mamori_app::collect::write_signed(out, &signed)?;
            let concerns = report.concerns();
            if ctx.json {
                print_json(
                    &json!({ "file": out, "hostname": report.hostname, "packages": report.packages.len(), "listening": report.listening.len(), "concerns": concerns, "notes": report.notes }),
                );
            } else {
                println!(
                    "{}",
                    match lang {
                        Lang::Ja => format!(
                            "{}: ホスト {} — パッケージ {} 件、待受ポート {} 件、要確認 {} 件。mamori のある端末で `mamori collect import {} --device 管理番号`",
                            out.display(), report.hostname, report.packages.len(), report.listening.len(), concerns.len(), out.display()
                        ),
                        Lang::En => format!(
                            "{}: host {} — {} packages, {} listening sockets, {} concerns. On mamori's machine: `mamori collect import {} --device ASSET`",
                            out.display(), report.hostname, report.packages.len(), report.listening.len(), concerns.len(), out.display()
                        ),
                    }
                );
                for n in &report.notes {
                    eprintln!("{}: {n}", lang.pick("注記", "note"));
                }
            }
        }
    }
    Ok(())
}
