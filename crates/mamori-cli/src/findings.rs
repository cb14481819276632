//! `mamori match`, `mamori findings …`, `mamori sbom import` and `mamori ledger cpe …`.

use anyhow::Result;
use mamori_app::exceptions::Proposal;
use mamori_app::findings::Level;
use mamori_app::findings::{due_date, group, is_overdue, FindingQuery, GroupBy, Resolution};
use mamori_app::matching::MatchMode;
use mamori_app::remediation::{event_reason, Findings, StateChange};
use mamori_core::remediation::{Justification, Measure, Remediation, ResidualRisk};
use mamori_core::{Confidence, FindingStatus, Labelled, Lang};
use mamori_ledger::write::guard_formula;
use mamori_store::Finding;
use serde_json::json;

use crate::args::{
    CpeCommand, ExceptionCommand, FindingsCommand, GroupByArg, InquiryCommand, SbomCommand,
};
use crate::commands::{open, print_json, Ctx, UsageError};
use crate::output::table;

/// The label of a stored code (level, confidence, status) in the user's language.
fn label<T: Labelled>(code: &str, lang: Lang) -> &'static str {
    T::parse(code).map_or("?", |v| v.label(lang))
}

pub fn run_match(ctx: &Ctx, full: bool) -> Result<()> {
    let lang = ctx.lang;
    let mut app = open(ctx)?;
    let mode = if full {
        MatchMode::Full
    } else {
        MatchMode::Incremental
    };
    if ctx.interactive {
        eprintln!("{}", lang.pick("突合しています…", "matching…"));
    }
    let r = app.run_match(mode)?;
    if ctx.json {
        print_json(&serde_json::to_value(&r)?);
        return Ok(());
    }
    let mode = match (r.mode.as_str(), lang) {
        ("full", Lang::Ja) => "全件",
        (_, Lang::Ja) => "差分",
        (m, _) => m,
    };
    println!(
        "{}",
        match lang {
            Lang::Ja => format!(
                "突合 ({mode}): 機器 {} 台・構成要素 {} 件・脆弱性 {} 件を評価 ({:.2} 秒)",
                r.assets, r.components, r.records, r.seconds
            ),
            Lang::En => format!(
                "match ({mode}): {} devices, {} components, {} records evaluated ({:.2} s)",
                r.assets, r.components, r.records, r.seconds
            ),
        }
    );
    println!(
        "{}",
        match lang {
            Lang::Ja => format!(
                "検出: 新規 {} ・再検出 {} ・解消 {} ・継続 {}（内容更新 {}） ／ 検出中 計 {}",
                r.opened, r.reopened, r.resolved, r.confirmed, r.updated, r.open
            ),
            Lang::En => format!(
                "findings: {} new, {} reopened, {} resolved, {} still present ({} updated) / {} present in total",
                r.opened, r.reopened, r.resolved, r.confirmed, r.updated, r.open
            ),
        }
    );
    for s in &r.skipped {
        eprintln!(
            "{}: {} {} \"{}\": {}",
            lang.pick("飛ばしました", "skipped"),
            s.asset_id,
            s.place,
            s.value,
            s.reason
        );
    }
    if !r.assets_without_cpe.is_empty() {
        let sample: Vec<&str> = r
            .assets_without_cpe
            .iter()
            .take(5)
            .map(String::as_str)
            .collect();
        println!(
            "{}",
            match lang {
                Lang::Ja => format!(
                    "CPE 未設定の機器 {} 台 (例: {}) は突合できません。`mamori ledger cpe suggest 管理番号` で候補を表示し、`mamori ledger cpe set` で設定してください",
                    r.assets_without_cpe.len(),
                    sample.join(", ")
                ),
                Lang::En => format!(
                    "{} devices have no CPE and cannot be matched (e.g. {}): see `mamori ledger cpe suggest ASSET_ID`, then `mamori ledger cpe set`",
                    r.assets_without_cpe.len(),
                    sample.join(", ")
                ),
            }
        );
    }
    Ok(())
}

pub fn findings(ctx: &Ctx, command: FindingsCommand) -> Result<()> {
    let lang = ctx.lang;
    match command {
        FindingsCommand::List {
            asset,
            cve,
            kev,
            min_priority,
            status,
            department,
            state,
            overdue,
            category,
            group_by,
            csv,
        } => {
            let state = state.as_deref().map(parse_state).transpose()?;
            let min_level = match min_priority {
                Some(p) => Some(Level::parse(&p).ok_or_else(|| {
                    UsageError::err(
                        format!(
                            "--min-priority「{p}」は使えません。{} のいずれかです",
                            Level::choices(Lang::Ja)
                        ),
                        format!(
                            "--min-priority \"{p}\" is not a level: use one of {}",
                            Level::choices(Lang::En)
                        ),
                    )
                })?),
                None => None,
            };
            if !matches!(
                status.as_str(),
                "open" | "resolved" | "not_affected" | "all"
            ) {
                return Err(UsageError::err(
                    format!("--status「{status}」は使えません。open, resolved, not_affected, all のいずれかです"),
                    format!("--status \"{status}\": use open, resolved, not_affected or all"),
                ));
            }
            let q = FindingQuery {
                asset,
                vuln: cve,
                kev,
                min_level,
                status: Some(status),
                department,
                state,
                overdue,
                category,
            };
            let mut app = open(ctx)?;
            let list = app.findings(&q)?;
            let due = Due {
                sla: app.sla()?,
                today: app.today(),
            };
            match group_by {
                Some(g) => print_groups(ctx, &list, g, csv),
                None => print_list(ctx, &list, csv, &due),
            }
        }
        FindingsCommand::Show { id } => {
            let mut app = open(ctx)?;
            let f = app.finding(id)?;
            let history = app.finding_history(id)?;
            let due = Due {
                sla: app.sla()?,
                today: app.today(),
            };
            if ctx.json {
                let mut v = finding_json(&f, lang, &due);
                v["history"] = history
                    .iter()
                    .map(|e| {
                        json!({
                            "at": e.at.to_rfc3339(), "actor": e.event.actor,
                            "from": e.event.from, "to": e.event.to,
                            "reason": event_reason(e.event.reason.as_deref(), lang),
                            "reason_code": e.event.reason, "detail": e.event.detail,
                        })
                    })
                    .collect();
                print_json(&v);
                return Ok(());
            }
            print_finding(&f, lang, &due);
            if !history.is_empty() {
                println!("  {}:", lang.pick("対応の履歴", "history"));
                for e in &history {
                    println!(
                        "    {}  {}  {} → {}  {}",
                        e.at.with_timezone(&chrono::Local).format("%Y-%m-%d %H:%M"),
                        e.event.actor,
                        label::<Remediation>(&e.event.from, lang),
                        label::<Remediation>(&e.event.to, lang),
                        event_reason(e.event.reason.as_deref(), lang)
                    );
                }
            }
            Ok(())
        }
        FindingsCommand::Exception(c) => exception(ctx, c),
        FindingsCommand::State {
            select,
            to,
            reason,
            planned,
            justification,
        } => {
            let which = which(select)?;
            let change = StateChange {
                to: parse_state(&to)?,
                reason,
                planned_date: planned
                    .as_deref()
                    .map(|d| {
                        mamori_core::value::parse_date(d).map_err(|_| {
                            UsageError::err(
                                format!("--planned「{d}」は日付ではありません (YYYY-MM-DD)"),
                                format!("--planned \"{d}\" is not a date (YYYY-MM-DD)"),
                            )
                        })
                    })
                    .transpose()?,
                justification: justification
                    .as_deref()
                    .map(|j| {
                        Justification::parse(j).ok_or_else(|| {
                            UsageError::err(
                                format!(
                                    "--justification「{j}」は使えません。{} のいずれかです",
                                    Justification::choices(Lang::Ja)
                                ),
                                format!(
                                    "--justification \"{j}\": use one of {}",
                                    Justification::choices(Lang::En)
                                ),
                            )
                        })
                    })
                    .transpose()?,
            };
            let mut app = open(ctx)?;
            let today = app.today();
            let report = app.set_state(&which, &change, today)?;
            if ctx.json {
                print_json(
                    &json!({ "to": change.to, "changed": report.changed, "unchanged": report.unchanged }),
                );
            } else {
                println!(
                    "{}",
                    match lang {
                        Lang::Ja => format!(
                            "{} 件を「{}」にしました（変更なし {} 件）",
                            report.changed.len(),
                            change.to.label(lang),
                            report.unchanged.len()
                        ),
                        Lang::En => format!(
                            "{} findings now {} ({} already were)",
                            report.changed.len(),
                            change.to.label(lang),
                            report.unchanged.len()
                        ),
                    }
                );
            }
            Ok(())
        }
    }
}

fn exception(ctx: &Ctx, command: ExceptionCommand) -> Result<()> {
    let lang = ctx.lang;
    let mut app = open(ctx)?;
    match command {
        ExceptionCommand::Propose {
            select,
            kind,
            measures,
            note,
            residual_risk,
            review,
        } => {
            let which = which(select)?;
            let measures = measures
                .iter()
                .flat_map(|m| {
                    m.split([',', '、'])
                        .map(str::trim)
                        .filter(|p| !p.is_empty())
                        .map(str::to_string)
                        .collect::<Vec<_>>()
                })
                .map(|m| {
                    Measure::parse(&m).ok_or_else(|| {
                        UsageError::err(
                            format!(
                                "措置「{m}」はありません。{} のいずれかです",
                                Measure::choices(Lang::Ja)
                            ),
                            format!(
                                "no measure {m:?}: use one of {}",
                                Measure::choices(Lang::En)
                            ),
                        )
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            let residual_risk = ResidualRisk::parse(&residual_risk).ok_or_else(|| {
                UsageError::err(
                    format!(
                        "残存リスク「{residual_risk}」は {} のいずれかです",
                        ResidualRisk::choices(Lang::Ja)
                    ),
                    format!(
                        "residual risk {residual_risk:?}: use one of {}",
                        ResidualRisk::choices(Lang::En)
                    ),
                )
            })?;
            let review_date = mamori_core::value::parse_date(&review).map_err(|_| {
                UsageError::err(
                    format!("--review「{review}」は日付ではありません (YYYY-MM-DD)"),
                    format!("--review {review:?} is not a date (YYYY-MM-DD)"),
                )
            })?;
            let proposal = Proposal {
                kind: parse_state(&kind)?,
                measures,
                note,
                residual_risk,
                review_date,
            };
            let id = app.propose_exception(&which, &proposal)?;
            if ctx.json {
                print_json(&json!({ "id": id, "status": "proposed" }));
            } else {
                println!(
                    "{}",
                    match lang {
                        Lang::Ja => format!("例外 #{id} を申請しました。承認者が `mamori findings exception approve {id}` で承認すると有効になります"),
                        Lang::En => format!("exception #{id} proposed; it takes effect when an approver runs `mamori findings exception approve {id}`"),
                    }
                );
            }
        }
        ExceptionCommand::Approve { id, reason } => {
            let e = app.decide_exception(id, true, reason.as_deref())?;
            print_exception_done(ctx, &e);
        }
        ExceptionCommand::Reject { id, reason } => {
            let e = app.decide_exception(id, false, Some(&reason))?;
            print_exception_done(ctx, &e);
        }
        ExceptionCommand::List => {
            let list = app.exceptions()?;
            if ctx.json {
                let v: Vec<serde_json::Value> = list.iter().map(exception_json).collect();
                print_json(&json!({ "count": v.len(), "exceptions": v }));
                return Ok(());
            }
            let headers = match lang {
                Lang::Ja => [
                    "番号",
                    "種類",
                    "状態",
                    "見直し期限",
                    "残存リスク",
                    "措置",
                    "検出",
                    "申請者",
                    "承認者",
                ],
                Lang::En => [
                    "id",
                    "kind",
                    "status",
                    "review",
                    "residual",
                    "measures",
                    "findings",
                    "proposed by",
                    "decided by",
                ],
            };
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|e| {
                    vec![
                        e.id.to_string(),
                        label::<Remediation>(&e.kind, lang).to_string(),
                        exception_status(&e.status, lang).to_string(),
                        e.review_date.to_string(),
                        label::<ResidualRisk>(&e.residual_risk, lang).to_string(),
                        e.measures
                            .iter()
                            .map(|m| label::<Measure>(m, lang))
                            .collect::<Vec<_>>()
                            .join(", "),
                        {
                            let ids = e
                                .findings
                                .iter()
                                .map(i64::to_string)
                                .collect::<Vec<_>>()
                                .join(" ");
                            match &e.asset {
                                Some(a) => format!("{a} {ids}").trim().to_string(),
                                None => ids,
                            }
                        },
                        e.requested_by.clone(),
                        e.decided_by.clone().unwrap_or_default(),
                    ]
                })
                .collect();
            table(&headers, &rows, &[6, 10, 8, 10, 8, 30, 20, 14, 14]);
        }
    }
    Ok(())
}

pub fn inquiry(ctx: &Ctx, command: InquiryCommand) -> Result<()> {
    let lang = ctx.lang;
    let mut app = open(ctx)?;
    match command {
        InquiryCommand::Open {
            vendor,
            select,
            question,
        } => {
            let which = which(select)?;
            let id = app.open_inquiry(&vendor, &which, &question)?;
            if ctx.json {
                print_json(&json!({ "id": id }));
            } else {
                println!(
                    "{}",
                    match lang {
                        Lang::Ja => format!("照会 #{id} を作成しました。`mamori inquiry export \"{vendor}\" 依頼.xlsx` で依頼シートを書き出せます"),
                        Lang::En => format!("inquiry #{id} opened; write the sheet with `mamori inquiry export \"{vendor}\" request.xlsx`"),
                    }
                );
            }
        }
        InquiryCommand::Export { vendor, file } => {
            let n = app.export_inquiry_sheet(&vendor, &file)?;
            if ctx.json {
                print_json(&json!({ "file": file, "rows": n }));
            } else {
                println!(
                    "{}",
                    match lang {
                        Lang::Ja => format!("{} に {n} 行を書き出しました", file.display()),
                        Lang::En => format!("{n} rows written to {}", file.display()),
                    }
                );
            }
        }
        InquiryCommand::Import { file } => {
            let r = app.import_inquiry_answers(&file)?;
            if ctx.json {
                print_json(&json!(r));
            } else {
                println!(
                    "{}",
                    match lang {
                        Lang::Ja => format!(
                            "回答 {} 件を記録しました（回答完了の照会 {} 件）",
                            r.answered,
                            r.completed.len()
                        ),
                        Lang::En => format!(
                            "{} answers recorded ({} inquiries fully answered)",
                            r.answered,
                            r.completed.len()
                        ),
                    }
                );
            }
        }
        InquiryCommand::Attach { id, file } => {
            let sha = app.attach_to_inquiry(id, &file)?;
            if ctx.json {
                print_json(&json!({ "inquiry": id, "sha256": sha }));
            } else {
                println!("#{id}: {} (SHA-256 {sha})", file.display());
            }
        }
        InquiryCommand::List => {
            let list = app.inquiries()?;
            if ctx.json {
                let mut v: Vec<serde_json::Value> = Vec::new();
                for q in &list {
                    let attachments: Vec<serde_json::Value> = app
                        .inquiry_attachments(q.id)?
                        .into_iter()
                        .map(|(a, intact)| json!({ "name": a.name, "sha256": a.sha256, "size": a.size, "added_by": a.added_by, "intact": intact }))
                        .collect();
                    v.push(json!({ "id": q.id, "attachments": attachments }));
                }
                let v: Vec<serde_json::Value> = list
                    .iter()
                    .zip(v)
                    .map(|(q, extra)| {
                        json!({
                            "attachments": extra["attachments"],
                            "id": q.id, "vendor": q.vendor, "question": q.question, "asked_on": q.asked_on,
                            "asked_by": q.asked_by, "status": q.status,
                            "items": q.items.iter().map(|i| json!({
                                "finding": i.finding, "verdict": i.verdict, "conditions": i.conditions,
                                "answer": i.answer, "answered_on": i.answered_on, "recorded_by": i.recorded_by,
                            })).collect::<Vec<_>>(),
                        })
                    })
                    .collect();
                print_json(&json!({ "count": v.len(), "inquiries": v }));
                return Ok(());
            }
            let headers = match lang {
                Lang::Ja => ["番号", "事業者", "依頼日", "状態", "検出", "回答"],
                Lang::En => ["id", "vendor", "asked", "status", "findings", "answers"],
            };
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|q| {
                    vec![
                        q.id.to_string(),
                        q.vendor.clone(),
                        q.asked_on.to_string(),
                        match q.status.as_str() {
                            "open" => lang.pick("回答待ち", "open"),
                            _ => lang.pick("回答済", "answered"),
                        }
                        .to_string(),
                        q.items.len().to_string(),
                        q.items
                            .iter()
                            .filter_map(|i| {
                                i.verdict.as_deref().map(|v| {
                                    format!(
                                        "{}:{}",
                                        i.finding,
                                        label::<mamori_core::remediation::Verdict>(v, lang)
                                    )
                                })
                            })
                            .collect::<Vec<_>>()
                            .join(" "),
                    ]
                })
                .collect();
            table(&headers, &rows, &[6, 20, 10, 8, 6, 60]);
        }
    }
    Ok(())
}

fn exception_status(code: &str, lang: Lang) -> &'static str {
    match code {
        "proposed" => lang.pick("承認待ち", "proposed"),
        "approved" => lang.pick("承認済", "approved"),
        "rejected" => lang.pick("却下", "rejected"),
        "expired" => lang.pick("期限切れ", "expired"),
        _ => "?",
    }
}

fn exception_json(e: &mamori_store::Exception) -> serde_json::Value {
    json!({
        "id": e.id, "kind": e.kind, "measures": e.measures, "note": e.note,
        "residual_risk": e.residual_risk, "review_date": e.review_date, "status": e.status,
        "requested_by": e.requested_by, "requested_at": e.requested_at.to_rfc3339(),
        "decided_by": e.decided_by, "decided_at": e.decided_at.map(|t| t.to_rfc3339()),
        "decision_reason": e.decision_reason, "findings": e.findings, "asset": e.asset,
    })
}

fn print_exception_done(ctx: &Ctx, e: &mamori_store::Exception) {
    if ctx.json {
        print_json(&exception_json(e));
    } else {
        println!("#{}: {}", e.id, exception_status(&e.status, ctx.lang));
    }
}

/// The findings a command names: ids, `--cve`, or `--asset`.
fn which(select: crate::args::FindingSelection) -> Result<Findings> {
    let crate::args::FindingSelection { ids, cve, asset } = select;
    match (cve, asset, ids.is_empty()) {
        (Some(v), None, true) => Ok(Findings::Vuln(v)),
        (None, Some(a), true) => Ok(Findings::Asset(a)),
        (None, None, false) => Ok(Findings::Ids(ids)),
        _ => Err(UsageError::err(
            "検出番号、--cve、--asset のどれか一つを指定してください",
            "give finding ids, --cve or --asset (one of them)",
        )),
    }
}

fn parse_state(text: &str) -> Result<Remediation> {
    Remediation::parse(text).ok_or_else(|| {
        UsageError::err(
            format!(
                "対応状況「{text}」はありません。{} のいずれかです",
                Remediation::choices(Lang::Ja)
            ),
            format!(
                "no remediation state {text:?}: use one of {}",
                Remediation::choices(Lang::En)
            ),
        )
    })
}

/// What due dates are computed with.
struct Due {
    sla: mamori_core::remediation::Sla,
    today: chrono::NaiveDate,
}

/// The name of what a finding is about: the vulnerability id, or an 8.3 check's label.
fn subject_name(f: &Finding, lang: Lang) -> String {
    match mamori_core::scan::Check83::from_finding_id(&f.vuln) {
        Some(check) => format!("8.3 {}", check.label(lang)),
        None => f.vuln.clone(),
    }
}

fn finding_json(f: &Finding, lang: Lang, due: &Due) -> serde_json::Value {
    let check = mamori_core::scan::Check83::from_finding_id(&f.vuln).map(|c| {
        json!({ "code": c.code(), "ja": c.label(Lang::Ja), "en": c.label(Lang::En), "clause": c.clause() })
    });
    json!({
        "category": if check.is_some() { "8.3" } else { "8.2" },
        "check": check,
        "due_date": due_date(f, &due.sla),
        "overdue": is_overdue(f, &due.sla, due.today),
        "id": f.id,
        "asset_id": f.asset_id,
        "asset_name": f.asset_name,
        "department": f.department,
        "component": f.component,
        "component_key": f.component_key,
        "version": f.version,
        "cpe": f.cpe,
        "component_source": f.source,
        "vuln": f.vuln,
        "status": f.status,
        "state": f.state,
        "planned_date": f.planned_date,
        "flag": f.flag,
        "confidence": f.confidence,
        "score": f.score,
        "level": f.level,
        "kev": f.kev,
        "sources": f.sources,
        "evidence": f.evidence,
        "reason": f.reason.as_deref().map(|r| Resolution::render(r, lang)),
        "reason_code": f.reason.as_deref().and_then(Resolution::parse),
        "first_seen": f.first_seen.to_rfc3339(),
        "last_seen": f.last_seen.to_rfc3339(),
        "resolved_at": f.resolved_at.map(|t| t.to_rfc3339()),
    })
}

fn print_list(ctx: &Ctx, list: &[Finding], csv: bool, due: &Due) -> Result<()> {
    let lang = ctx.lang;
    if ctx.json {
        print_json(&json!({
            "count": list.len(),
            "findings": list.iter().map(|f| finding_json(f, lang, due)).collect::<Vec<_>>(),
        }));
        return Ok(());
    }
    let headers = match lang {
        Lang::Ja => [
            "番号",
            "緊急度",
            "点",
            "KEV",
            "確度",
            "管理番号",
            "機器名",
            "構成要素",
            "脆弱性",
            "状態",
            "対応状況",
            "対応期限",
        ],
        Lang::En => [
            "id",
            "level",
            "score",
            "KEV",
            "confidence",
            "asset",
            "name",
            "component",
            "vuln",
            "status",
            "remediation",
            "due",
        ],
    };
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|f| {
            vec![
                f.id.to_string(),
                label::<Level>(&f.level, lang).to_string(),
                format!("{:.1}", f.score),
                if f.kev { "KEV".into() } else { String::new() },
                label::<Confidence>(&f.confidence, lang).to_string(),
                f.asset_id.clone(),
                f.asset_name.clone(),
                f.component.clone(),
                subject_name(f, lang),
                label::<FindingStatus>(&f.status, lang).to_string(),
                match f.flag.as_deref() {
                    Some("exception_expired") => format!(
                        "{} ({})",
                        label::<Remediation>(&f.state, lang),
                        lang.pick("例外の期限切れ", "exception expired")
                    ),
                    _ => label::<Remediation>(&f.state, lang).to_string(),
                },
                {
                    let d = due_date(f, &due.sla).to_string();
                    if is_overdue(f, &due.sla, due.today) {
                        format!("{d} {}", lang.pick("期限超過", "overdue"))
                    } else {
                        d
                    }
                },
            ]
        })
        .collect();
    if csv {
        return write_csv(&headers, &rows);
    }
    if list.is_empty() {
        println!("{}", lang.pick("該当する検出はありません", "no findings"));
        return Ok(());
    }
    table(
        &headers,
        &rows,
        &[7, 6, 5, 3, 10, 12, 20, 24, 28, 8, 12, 20],
    );
    println!(
        "{}",
        match lang {
            Lang::Ja => format!("{} 件 (詳細と根拠: mamori findings show 番号)", list.len()),
            Lang::En => format!(
                "{} findings (evidence: mamori findings show ID)",
                list.len()
            ),
        }
    );
    Ok(())
}

fn write_csv(headers: &[&str], rows: &[Vec<String>]) -> Result<()> {
    let mut w = csv::Writer::from_writer(std::io::stdout().lock());
    w.write_record(headers)?;
    for r in rows {
        // Cells starting like a formula are quoted with ' (as the ledger export does).
        let cells: Vec<String> = r.iter().cloned().map(guard_formula).collect();
        w.write_record(&cells)?;
    }
    w.flush()?;
    Ok(())
}

fn print_groups(ctx: &Ctx, list: &[Finding], by: GroupByArg, csv: bool) -> Result<()> {
    let lang = ctx.lang;
    let by = match by {
        GroupByArg::Component => GroupBy::Component,
        GroupByArg::Vulnerability => GroupBy::Vulnerability,
        GroupByArg::Asset => GroupBy::Asset,
    };
    let groups = group(list, by);
    if ctx.json {
        print_json(&json!({ "count": groups.len(), "groups": groups }));
        return Ok(());
    }
    let headers = match lang {
        Lang::Ja => [
            "対象",
            "検出数",
            "KEV",
            "要確認",
            "最大緊急度",
            "最高点",
            "機器数",
            "脆弱性数",
        ],
        Lang::En => [
            "group",
            "findings",
            "KEV",
            "to confirm",
            "worst",
            "max score",
            "devices",
            "vulns",
        ],
    };
    let rows: Vec<Vec<String>> = groups
        .iter()
        .map(|g| {
            vec![
                g.key.clone(),
                g.findings.to_string(),
                g.kev.to_string(),
                g.to_confirm.to_string(),
                label::<Level>(&g.worst_level, lang).to_string(),
                format!("{:.1}", g.worst_score),
                g.assets.to_string(),
                g.vulns.to_string(),
            ]
        })
        .collect();
    if csv {
        return write_csv(&headers, &rows);
    }
    if groups.is_empty() {
        println!("{}", lang.pick("該当する検出はありません", "no findings"));
        return Ok(());
    }
    table(&headers, &rows, &[40, 8, 4, 8, 10, 8, 8, 8]);
    Ok(())
}

fn print_finding(f: &Finding, lang: Lang, due: &Due) {
    let l = |ja: &'static str, en: &'static str| lang.pick(ja, en);
    println!("{} {}", l("検出", "finding"), f.id);
    println!("  {}: {} {}", l("機器", "device"), f.asset_id, f.asset_name);
    println!(
        "  {}: {} ({})",
        l("構成要素", "component"),
        f.component,
        f.cpe.as_deref().unwrap_or("")
    );
    println!("  {}: {}", l("脆弱性", "vulnerability"), f.vuln);
    if let Some(t) = f.evidence.get("title").and_then(|t| t.as_str()) {
        println!("    {t}");
    }
    println!(
        "  {}: {} ({:.1}){}",
        l("緊急度", "priority"),
        label::<Level>(&f.level, lang),
        f.score,
        if f.kev { "  KEV" } else { "" }
    );
    println!(
        "  {}: {}",
        l("確度", "confidence"),
        label::<Confidence>(&f.confidence, lang)
    );
    if let Some(d) = f.evidence.get("doubt").and_then(|d| d.as_str()) {
        println!(
            "    {}: {}",
            l("確認が必要な理由", "why to confirm"),
            doubt_text(d, lang)
        );
    }
    println!(
        "  {}: {}",
        l("状態", "status"),
        label::<FindingStatus>(&f.status, lang)
    );
    println!(
        "  {}: {}{}",
        l("対応状況", "remediation"),
        label::<Remediation>(&f.state, lang),
        f.planned_date
            .map(|d| format!(" ({} {d})", l("予定日", "planned")))
            .unwrap_or_default()
    );
    println!(
        "  {}: {}{}",
        l("対応期限", "due"),
        due_date(f, &due.sla),
        if is_overdue(f, &due.sla, due.today) {
            l(" (期限超過)", " (overdue)")
        } else {
            ""
        }
    );
    if let Some(r) = &f.reason {
        println!("    {}", Resolution::render(r, lang));
    }
    println!("  {}: {}", l("根拠", "sources"), f.sources.join(", "));
    println!("  {}:", l("緊急度の内訳", "why this priority"));
    if let Some(fs) = f.evidence["priority"]["factors"].as_array() {
        for x in fs {
            let code = x["code"].as_str().unwrap_or("");
            println!(
                "    +{:>5.1}  {} {}",
                x["points"].as_f64().unwrap_or(0.0),
                factor_text(code, lang),
                x["detail"].as_str().unwrap_or("")
            );
        }
    }
    println!("  {}:", l("一致した条件", "criteria met"));
    if let Some(ms) = f.evidence["matched"].as_array() {
        for m in ms {
            let crit = m["criteria"].as_str().or(m["cpe"].as_str()).unwrap_or("");
            let mut bounds = Vec::new();
            for (k, sym) in [
                ("version_start_including", ">="),
                ("version_start_excluding", ">"),
                ("version_end_including", "<="),
                ("version_end_excluding", "<"),
            ] {
                if let Some(v) = m[k].as_str() {
                    bounds.push(format!("{sym} {v}"));
                }
            }
            if let Some(vs) = m["versions"].as_array() {
                bounds.extend(vs.iter().filter_map(|v| v.as_str().map(str::to_string)));
            }
            let role = if m["vulnerable"].as_bool() == Some(false) {
                l(" (動作環境)", " (platform)")
            } else {
                ""
            };
            println!(
                "    [{}] {crit}{role} {}  ← {} ({})",
                m["source"].as_str().unwrap_or(""),
                bounds.join(", "),
                m["component"].as_str().unwrap_or(""),
                m["truth"].as_str().unwrap_or("")
            );
        }
    }
    println!(
        "  {}: {}  {}: {}",
        l("初回検出", "first seen"),
        f.first_seen.format("%Y-%m-%d %H:%M"),
        l("最終確認", "last seen"),
        f.last_seen.format("%Y-%m-%d %H:%M")
    );
}

fn factor_text(code: &str, lang: Lang) -> &'static str {
    match (code, lang) {
        ("cvss", Lang::Ja) => "CVSS 基本値",
        ("no_cvss", Lang::Ja) => "CVSS なし",
        ("kev", Lang::Ja) => "CISA KEV 掲載 (悪用確認済み)",
        ("ransomware", Lang::Ja) => "ランサムウェアでの悪用",
        ("epss", Lang::Ja) => "EPSS (悪用予測)",
        ("exposed", Lang::Ja) => "外部接続・リモート保守あり",
        ("criticality", Lang::Ja) => "機器の重要度",
        ("patient_data", Lang::Ja) => "患者情報あり",
        ("eos", Lang::Ja) => "サポート終了 (EOS)",
        ("cvss", _) => "CVSS base score",
        ("no_cvss", _) => "no CVSS",
        ("kev", _) => "in CISA KEV (exploited)",
        ("ransomware", _) => "used by ransomware",
        ("epss", _) => "EPSS (exploit prediction)",
        ("exposed", _) => "external access / remote maintenance",
        ("criticality", _) => "device criticality",
        ("patient_data", _) => "holds patient data",
        ("eos", _) => "past end of support",
        _ => "?",
    }
}

fn doubt_text(code: &str, lang: Lang) -> String {
    let (ja, en) = match code {
        "version_missing" => (
            "機器のバージョンが台帳にありません",
            "the device's version is not recorded",
        ),
        "version_incomparable" => (
            "バージョンを比較できません (形式が異なる)",
            "the versions cannot be compared",
        ),
        "platform_not_recorded" => (
            "動作環境 (ハードウェア/OS) が台帳にありません",
            "the platform (hardware/OS) is not recorded",
        ),
        "no_version_data" => (
            "情報源に影響バージョンの記載がありません",
            "the source gives no affected versions",
        ),
        other if other.starts_with("attribute_missing:") => {
            return match lang {
                Lang::Ja => format!(
                    "CPE の {} が未記入です",
                    other.trim_start_matches("attribute_missing:")
                ),
                Lang::En => format!(
                    "the CPE leaves {} open",
                    other.trim_start_matches("attribute_missing:")
                ),
            }
        }
        other => return other.to_string(),
    };
    lang.pick(ja, en).to_string()
}

pub fn cpe(ctx: &Ctx, command: CpeCommand) -> Result<()> {
    let lang = ctx.lang;
    match command {
        CpeCommand::Suggest { asset_id } => {
            let (asset, list) = open(ctx)?.suggest_cpe(&asset_id)?;
            if ctx.json {
                print_json(&json!({ "asset_id": asset.asset_id, "suggestions": list }));
                return Ok(());
            }
            if list.is_empty() {
                println!(
                    "{}",
                    lang.pick(
                        "候補がありません。OS・ソフトウェア・メーカー列を確認するか、脆弱性情報を取り込んでから再度お試しください",
                        "no candidates: check the OS, software and manufacturer columns, or import vulnerability feeds first"
                    )
                );
                return Ok(());
            }
            let headers = match lang {
                Lang::Ja => ["対象", "CPE", "一致度", "件数"],
                Lang::En => ["for", "CPE", "score", "records"],
            };
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|s| {
                    vec![
                        s.for_what.clone(),
                        s.cpe.clone(),
                        format!("{:.2}", s.score),
                        s.records.to_string(),
                    ]
                })
                .collect();
            table(&headers, &rows, &[24, 60, 6, 8]);
            println!(
                "{}",
                match lang {
                    Lang::Ja => format!("設定: mamori ledger cpe set {asset_id} CPE名 … (OS の CPE はバージョンなしで設定すると、バージョン列の値で突合します)"),
                    Lang::En => format!("set with: mamori ledger cpe set {asset_id} CPE … (an OS CPE without a version takes the version column)"),
                }
            );
            Ok(())
        }
        CpeCommand::Set {
            asset_id,
            cpe,
            reason,
        } => {
            open(ctx)?.set_cpe(&asset_id, &cpe, reason.as_deref())?;
            if ctx.json {
                print_json(&json!({ "asset_id": asset_id, "cpe": cpe }));
            } else {
                println!(
                    "{}",
                    match lang {
                        Lang::Ja =>
                            format!("{asset_id} の CPE を設定しました。`mamori match` で突合します"),
                        Lang::En =>
                            format!("set the CPE of {asset_id}; run `mamori match` to match it"),
                    }
                );
            }
            Ok(())
        }
    }
}

pub fn sbom(ctx: &Ctx, command: SbomCommand) -> Result<()> {
    let lang = ctx.lang;
    match command {
        SbomCommand::Import { asset_id, file } => {
            let r = open(ctx)?.import_sbom(&asset_id, &file)?;
            if ctx.json {
                print_json(&serde_json::to_value(&r)?);
                return Ok(());
            }
            println!(
                "{}",
                match lang {
                    Lang::Ja => format!(
                        "{}: {} ({}) 構成要素 {} 件 (CPE あり {} ・purl あり {}) を {} に取り込みました",
                        file.display(),
                        r.format,
                        r.spec_version,
                        r.components,
                        r.with_cpe,
                        r.with_purl,
                        asset_id
                    ),
                    Lang::En => format!(
                        "{}: {} {} — {} components ({} with CPE, {} with purl) imported for {}",
                        file.display(),
                        r.format,
                        r.spec_version,
                        r.components,
                        r.with_cpe,
                        r.with_purl,
                        asset_id
                    ),
                }
            );
            if r.vex > 0 {
                println!(
                    "{}",
                    match lang {
                        Lang::Ja =>
                            format!("VEX の表明 {} 件を {} に記録しました", r.vex, asset_id),
                        Lang::En => format!("{} VEX statements recorded for {}", r.vex, asset_id),
                    }
                );
            }
            for p in &r.problems {
                eprintln!("{}: {p}", lang.pick("飛ばしました", "skipped"));
            }
            println!(
                "{}",
                lang.pick(
                    "`mamori match` で突合します",
                    "run `mamori match` to match it"
                )
            );
            Ok(())
        }
    }
}
