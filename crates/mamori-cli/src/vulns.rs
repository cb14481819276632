//! `mamori feeds …` and `mamori vuln …`.

use anyhow::Result;
use indicatif::{ProgressBar, ProgressStyle};
use mamori_app::feeds::FeedProgress;
use mamori_core::Lang;
use serde_json::{json, Value};

use crate::args::{FeedsCommand, VulnCommand};
use crate::commands::{open, print_json, Ctx, UsageError};
use crate::output;

pub fn feeds(ctx: &Ctx, command: FeedsCommand) -> Result<()> {
    match command {
        FeedsCommand::Import { paths } => import(ctx, &paths),
        FeedsCommand::Status => status(ctx),
        FeedsCommand::Sync { sources, since } => sync(ctx, &sources, since.as_deref()),
        FeedsCommand::Keygen { out } => {
            let (secret, public) = mamori_app::bundle::keygen(&out)?;
            if ctx.json {
                print_json(&json!({ "secret_key": secret, "public_key": public }));
            } else {
                let lang = ctx.lang;
                println!(
                    "{} {}",
                    lang.pick(
                        "秘密鍵 (外部に出さないこと):",
                        "secret key (keep it private):"
                    ),
                    secret.display()
                );
                println!(
                    "{} {}",
                    lang.pick(
                        "公開鍵 (閉域網側に渡す):",
                        "public key (give it to the closed network):"
                    ),
                    public.display()
                );
            }
            Ok(())
        }
        FeedsCommand::ExportBundle { file, key, since } => {
            let since = since
                .as_deref()
                .map(mamori_app::bundle::since_of)
                .transpose()?;
            let report = open(ctx)?.export_bundle(&file, &key, since)?;
            print_bundle(ctx, &file, &report, false);
            Ok(())
        }
        FeedsCommand::ImportBundle { file, trust } => {
            let report = open(ctx)?.import_bundle(&file, &trust)?;
            print_bundle(ctx, &file, &report, true);
            Ok(())
        }
    }
}

fn print_bundle(
    ctx: &Ctx,
    file: &std::path::Path,
    r: &mamori_app::bundle::BundleReport,
    imported: bool,
) {
    let lang = ctx.lang;
    if ctx.json {
        print_json(&json!({
            "file": file, "records": r.records, "added": r.added, "updated": r.updated, "unchanged": r.unchanged,
            "created_at": r.manifest.as_ref().map(|m| m.created_at), "since": r.manifest.as_ref().and_then(|m| m.since),
        }));
        return;
    }
    if imported {
        println!(
            "{} {}",
            lang.pick(
                "署名とハッシュ値を確認して取り込みました:",
                "signature and digests verified; imported:"
            ),
            file.display()
        );
    } else {
        println!(
            "{} {}",
            lang.pick(
                "署名付きバンドルを書き出しました:",
                "wrote the signed bundle:"
            ),
            file.display()
        );
    }
    for (name, n) in &r.records {
        println!("  {}  {n}", output::fit(name, 26));
    }
    if imported {
        match lang {
            Lang::Ja => println!(
                "  追加 {} / 更新 {} / 変更なし {}",
                r.added, r.updated, r.unchanged
            ),
            Lang::En => println!(
                "  added {} / updated {} / unchanged {}",
                r.added, r.updated, r.unchanged
            ),
        }
    }
}

fn import(ctx: &Ctx, paths: &[std::path::PathBuf]) -> Result<()> {
    let lang = ctx.lang;
    let mut app = open(ctx)?;
    let bar = if ctx.interactive {
        ProgressBar::new(0)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    let started = std::time::Instant::now();
    let progress = |p: FeedProgress<'_>| {
        bar.set_length(p.total);
        bar.set_position(p.bytes.min(p.total));
        let rate = p.records as f64 / started.elapsed().as_secs_f64().max(0.001);
        let name = std::path::Path::new(p.origin)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        bar.set_message(match lang {
            Lang::Ja => format!("{name} {} 件 ({rate:.0} 件/秒)", p.records),
            Lang::En => format!("{name} {} records ({rate:.0}/s)", p.records),
        });
    };
    let reports = app.import_feeds(paths, &progress);
    bar.finish_and_clear();
    let reports = reports?;
    let failed = reports.iter().filter(|r| r.error.is_some()).count();
    if ctx.json {
        let files: Vec<Value> = reports
            .iter()
            .map(|r| json!({
                "origin": r.origin, "source": r.kind, "records": r.records, "added": r.added, "updated": r.updated,
                "unchanged": r.unchanged, "skipped": r.skipped, "warnings": r.warnings, "error": r.error,
                "passed_over": r.passed_over,
            }))
            .collect();
        print_json(&json!({ "files": files, "failed": failed }));
    } else {
        for r in &reports {
            if let Some(why) = &r.passed_over {
                println!(
                    "{} {}: {why}",
                    lang.pick("対象外:", "passed over:"),
                    r.origin
                );
                continue;
            }
            match &r.error {
                None => println!(
                    "{}",
                    match lang {
                        Lang::Ja => format!("{} [{}]: {} 件 (追加 {} / 更新 {} / 変更なし {} / スキップ {})", r.origin, r.kind.unwrap_or("?"), r.records, r.added, r.updated, r.unchanged, r.skipped),
                        Lang::En => format!("{} [{}]: {} records (added {} / updated {} / unchanged {} / skipped {})", r.origin, r.kind.unwrap_or("?"), r.records, r.added, r.updated, r.unchanged, r.skipped),
                    }
                ),
                Some(e) => eprintln!("{} {}: {e}", lang.pick("取り込めません (変更なし):", "not imported (nothing changed):"), r.origin),
            }
            for w in r.warnings.iter().take(5) {
                println!("  {}: {w}", lang.pick("警告", "warning"));
            }
            if r.warnings.len() > 5 {
                println!("  … {}", r.warnings.len() - 5);
            }
        }
    }
    if failed > 0 {
        return Err(UsageError::err(
            format!("{failed} 個のファイルを取り込めませんでした (上記参照。ほかのファイルは取り込み済み)"),
            format!("{failed} files could not be imported (see above; the others were imported)"),
        ));
    }
    Ok(())
}

fn sync(ctx: &Ctx, sources: &[String], since: Option<&str>) -> Result<()> {
    let lang = ctx.lang;
    let since = since.map(mamori_app::bundle::since_of).transpose()?;
    let mut app = open(ctx)?;
    let config = mamori_app::sync::SyncConfig::load(&ctx.data_dir)?;
    let bar = if ctx.interactive {
        ProgressBar::new_spinner()
    } else {
        ProgressBar::hidden()
    };
    let progress = |p: mamori_app::sync::SyncProgress<'_>| {
        bar.set_message(match lang {
            Lang::Ja => format!(
                "{}: {} 件 (リクエスト {} 回)",
                p.source, p.records, p.requests
            ),
            Lang::En => format!(
                "{}: {} records ({} requests)",
                p.source, p.records, p.requests
            ),
        });
        bar.tick();
    };
    let reports = app.sync_feeds(sources, since, &config, &progress);
    bar.finish_and_clear();
    let reports = reports?;
    let failed = reports.iter().filter(|r| r.error.is_some()).count();
    if ctx.json {
        let v: Vec<Value> = reports
            .iter()
            .map(|r| json!({"source": r.source, "requests": r.requests, "records": r.records, "added": r.added, "updated": r.updated,
                            "unchanged": r.unchanged, "skipped": r.skipped, "not_modified": r.not_modified, "error": r.error}))
            .collect();
        print_json(&json!({ "sources": v, "failed": failed }));
    } else {
        for r in &reports {
            match (&r.error, r.not_modified, lang) {
                (Some(e), _, _) => eprintln!(
                    "{} {}: {e}",
                    lang.pick(
                        "取得できませんでした (取得済みの分は保存、次回続きから):",
                        "sync stopped (what was fetched is kept; the next sync resumes):"
                    ),
                    r.source
                ),
                (None, true, Lang::Ja) => println!("{}: 更新なし", r.source),
                (None, true, Lang::En) => println!("{}: not modified", r.source),
                (None, false, Lang::Ja) => println!(
                    "{}: {} 件 (追加 {} / 更新 {} / 変更なし {})、リクエスト {} 回",
                    r.source, r.records, r.added, r.updated, r.unchanged, r.requests
                ),
                (None, false, Lang::En) => println!(
                    "{}: {} records (added {} / updated {} / unchanged {}), {} requests",
                    r.source, r.records, r.added, r.updated, r.unchanged, r.requests
                ),
            }
        }
    }
    if failed > 0 {
        return Err(UsageError::err(
            format!("{failed} 個の情報源を取得できませんでした"),
            format!("{failed} sources could not be fetched"),
        ));
    }
    Ok(())
}

fn status(ctx: &Ctx) -> Result<()> {
    let lang = ctx.lang;
    let mut app = open(ctx)?;
    let list = app.feed_status()?;
    if ctx.json {
        let v: Vec<Value> = list
            .iter()
            .map(|s| json!({
                "source": s.source, "records": s.records, "last_success": s.last_success,
                "last_error": s.last_error.as_ref().map(|(at, e)| json!({"at": at, "message": e})), "skipped": s.skipped,
            }))
            .collect();
        print_json(&json!({ "sources": v }));
        return Ok(());
    }
    let when = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map(|t| {
            t.with_timezone(&chrono::Local)
                .format("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_else(|| "—".into())
    };
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|s| {
            vec![
                s.source.clone(),
                s.records.to_string(),
                when(s.last_success),
                s.skipped.to_string(),
                s.last_error
                    .as_ref()
                    .map(|(at, e)| format!("{} {e}", when(Some(*at))))
                    .unwrap_or_default(),
            ]
        })
        .collect();
    output::table(
        &[
            lang.pick("情報源", "source"),
            lang.pick("件数", "records"),
            lang.pick("最終取込", "last success"),
            lang.pick("スキップ", "skipped"),
            lang.pick("最後のエラー", "last error"),
        ],
        &rows,
        &[8, 10, 16, 8, 80],
    );
    Ok(())
}

pub fn vuln(ctx: &Ctx, command: VulnCommand) -> Result<()> {
    match command {
        VulnCommand::Show { id } => show(ctx, &id),
        VulnCommand::Search { text, limit } => search(ctx, &text, limit),
    }
}

fn show(ctx: &Ctx, id: &str) -> Result<()> {
    let lang = ctx.lang;
    let mut app = open(ctx)?;
    let d = match app.lookup_vulnerability(id)? {
        mamori_app::vulns::Lookup::Vuln(d) => d,
        mamori_app::vulns::Lookup::Advisory(advisory, origin) => {
            return show_advisory(ctx, &advisory, &origin)
        }
        mamori_app::vulns::Lookup::Missing => {
            let wanted = id.trim().to_ascii_uppercase();
            return Err(UsageError::err(
                format!("{wanted} は取り込まれていません (`mamori feeds import` で取り込めます)"),
                format!("{wanted} is not in the store (import feeds with `mamori feeds import`)"),
            ));
        }
    };
    let (stored, jvn_ids, advisories, alerts, kev, epss) = (
        &d.stored,
        &d.jvn_ids,
        &d.advisories,
        &d.alerts,
        &d.kev,
        &d.epss,
    );
    let v = &stored.vuln;
    let code = lang.code();
    if ctx.json {
        print_json(&json!({
            "vulnerability": v, "source": stored.source, "origin": stored.origin, "imported_at": stored.imported_at,
            "jvn": jvn_ids,
            "advisories": advisories.iter().map(|(id, title)| json!({"id": id, "title": title})).collect::<Vec<_>>(),
            "alerts": alerts,
            "kev": kev, "epss": epss.as_ref().map(|e| json!({"epss": e.score.epss, "percentile": e.score.percentile, "score_date": e.score_date})),
            "findings": d.findings.iter().map(|f| json!({"id": f.id, "asset_id": f.asset_id, "component": f.component, "state": f.state})).collect::<Vec<_>>(),
        }));
        return Ok(());
    }
    println!("{}  [{}]", v.id, stored.source);
    if let Some(t) = d.title(lang) {
        println!("{t}");
    }
    if !v.aliases.is_empty() {
        println!(
            "{} {}",
            lang.pick("別名:", "aliases:"),
            v.aliases.join(", ")
        );
    }
    if !jvn_ids.is_empty() {
        println!("JVN iPedia: {}", jvn_ids.join(", "));
    }
    for (id, title) in advisories {
        println!("{} {id} {title}", lang.pick("アドバイザリ:", "advisory:"));
    }
    for a in alerts {
        let when = a
            .published
            .map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_default();
        println!(
            "{} {when} {} — {} {}",
            lang.pick("注意喚起:", "alert:"),
            a.feed,
            a.title,
            a.link
        );
    }
    let date = |d: Option<chrono::DateTime<chrono::Utc>>| {
        d.map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_else(|| "—".into())
    };
    println!(
        "{} {}   {} {}",
        lang.pick("公開:", "published:"),
        date(v.published),
        lang.pick("更新:", "modified:"),
        date(v.modified)
    );
    for c in &v.cvss {
        println!(
            "CVSS {} {:.1} {} {}  ({})",
            c.version.as_str(),
            c.base_score,
            c.severity.as_deref().unwrap_or(""),
            c.vector,
            c.source.as_deref().unwrap_or("?")
        );
    }
    if let Some(k) = kev {
        println!(
            "{} {} ({} {}{})",
            lang.pick(
                "⚠ CISA KEV (悪用が確認された脆弱性):",
                "⚠ CISA KEV (known exploited):"
            ),
            k.vulnerability_name,
            lang.pick("追加", "added"),
            k.date_added,
            if k.known_ransomware {
                lang.pick("、ランサムウェアでの悪用あり", ", used by ransomware")
            } else {
                ""
            }
        );
    }
    if let Some(e) = epss {
        println!(
            "EPSS {:.4}{}",
            e.score.epss,
            e.score
                .percentile
                .map(|p| format!(
                    " ({} {:.0}%)",
                    lang.pick("パーセンタイル", "percentile"),
                    p * 100.0
                ))
                .unwrap_or_default()
        );
    }
    if !v.cwes.is_empty() {
        println!("CWE {}", v.cwes.join(", "));
    }
    if let Some(desc) = d.description(lang) {
        println!();
        println!("{}", lang.pick("概要:", "description:"));
        println!("{desc}");
        if d.translated(lang) {
            if let Some(en) = v.description("en") {
                println!();
                println!("NVD (English): {en}");
            }
        }
    }
    for (label, texts) in [
        (lang.pick("想定される影響:", "impact:"), &v.impacts),
        (lang.pick("対策:", "solution:"), &v.solutions),
    ] {
        if let Some(t) = texts.iter().find(|t| t.lang == code).or(texts.first()) {
            println!();
            println!("{label}");
            println!("{}", t.value);
        }
    }
    if !v.affected.is_empty() {
        println!();
        println!("{}", lang.pick("影響を受ける製品:", "affected products:"));
        for a in v.affected.iter().take(15) {
            let name = [a.vendor.as_deref(), a.product.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            println!("  {name}  {}", a.cpe.as_deref().unwrap_or(""));
            for ver in &a.versions {
                println!("    {ver}");
            }
        }
    }
    let matches: Vec<_> = v.cpe_matches().collect();
    if !matches.is_empty() {
        println!();
        println!(
            "{} ({})",
            lang.pick("影響を受ける製品 (CPE):", "affected products (CPE):"),
            matches.len()
        );
        for m in matches.iter().take(15) {
            let mut bounds = Vec::new();
            if let Some(b) = &m.version_start_including {
                bounds.push(format!(">= {b}"));
            }
            if let Some(b) = &m.version_start_excluding {
                bounds.push(format!("> {b}"));
            }
            if let Some(b) = &m.version_end_including {
                bounds.push(format!("<= {b}"));
            }
            if let Some(b) = &m.version_end_excluding {
                bounds.push(format!("< {b}"));
            }
            let platform = if m.vulnerable {
                ""
            } else {
                lang.pick(" (動作環境)", " (platform)")
            };
            println!(
                "  {}{}{platform}",
                m.criteria,
                if bounds.is_empty() {
                    String::new()
                } else {
                    format!(" {}", bounds.join(" "))
                }
            );
        }
        if matches.len() > 15 {
            println!("  … {}", matches.len() - 15);
        }
    }
    if !v.references.is_empty() {
        println!();
        println!("{}", lang.pick("参考情報:", "references:"));
        for r in v.references.iter().take(10) {
            println!("  {}", r.url);
        }
    }
    if !d.findings.is_empty() {
        println!();
        println!(
            "{} ({})",
            lang.pick(
                "見つかった機器 (未対応の所見):",
                "found on (open findings):"
            ),
            d.findings.len()
        );
        for f in &d.findings {
            use mamori_core::Labelled;
            let state = mamori_core::remediation::Remediation::parse(&f.state)
                .map(|r| r.label(lang))
                .unwrap_or("");
            println!(
                "  #{} {} {} {} [{state}]",
                f.id, f.asset_id, f.asset_name, f.component
            );
        }
    }
    Ok(())
}

fn search(ctx: &Ctx, text: &str, limit: i64) -> Result<()> {
    let lang = ctx.lang;
    let mut app = open(ctx)?;
    let hits = app.search_vulnerabilities(text, lang, limit)?;
    if ctx.json {
        let v: Vec<Value> = hits
            .iter()
            .map(|h| json!({"id": h.id, "source": h.source, "published": h.published, "max_cvss": h.max_cvss.as_ref().map(|(v, s)| json!({"version": v, "score": s})), "kev": h.kev, "text": h.text}))
            .collect();
        print_json(&json!({ "count": hits.len(), "results": v }));
        return Ok(());
    }
    let rows: Vec<Vec<String>> = hits
        .iter()
        .map(|h| {
            vec![
                h.id.clone(),
                h.max_cvss
                    .as_ref()
                    .map(|(_, s)| format!("{s:.1}"))
                    .unwrap_or_default(),
                if h.kev { "KEV".into() } else { String::new() },
                h.published
                    .map(|d| d.format("%Y-%m-%d").to_string())
                    .unwrap_or_default(),
                h.text
                    .clone()
                    .unwrap_or_default()
                    .lines()
                    .next()
                    .unwrap_or("")
                    .chars()
                    .take(90)
                    .collect(),
            ]
        })
        .collect();
    output::table(
        &[
            "ID",
            "CVSS",
            "KEV",
            lang.pick("公開日", "published"),
            lang.pick("概要", "summary"),
        ],
        &rows,
        &[20, 5, 3, 10, 90],
    );
    println!(
        "{}",
        match lang {
            Lang::Ja => format!("{} 件", hits.len()),
            Lang::En => format!("{} found", hits.len()),
        }
    );
    Ok(())
}

fn show_advisory(ctx: &Ctx, a: &mamori_core::vuln::Advisory, origin: &str) -> Result<()> {
    let lang = ctx.lang;
    if ctx.json {
        print_json(&json!({ "advisory": a, "origin": origin }));
        return Ok(());
    }
    println!("{}  [CSAF]", a.id);
    println!("{}", a.title);
    let date = |d: Option<chrono::DateTime<chrono::Utc>>| {
        d.map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_else(|| "—".into())
    };
    println!(
        "{} {}   {} {}   {} {}",
        lang.pick("発行者:", "publisher:"),
        a.publisher.as_deref().unwrap_or("—"),
        lang.pick("初版:", "first released:"),
        date(a.initial_release),
        lang.pick("最新版:", "current release:"),
        date(a.current_release)
    );
    if let Some(u) = &a.url {
        println!("{u}");
    }
    println!();
    println!(
        "{} ({})",
        lang.pick("対象製品:", "products:"),
        a.products.len()
    );
    for p in a.products.iter().take(30) {
        let version = p
            .version
            .as_deref()
            .or(p.version_range.as_deref())
            .unwrap_or("");
        println!(
            "  {}  {} {} {}",
            p.product_id,
            p.vendor.as_deref().unwrap_or(""),
            p.product.as_deref().unwrap_or(&p.name),
            version
        );
    }
    for v in &a.vulnerabilities {
        println!();
        let score = v
            .cvss
            .iter()
            .map(|c| format!("CVSS {} {:.1}", c.version.as_str(), c.base_score))
            .collect::<Vec<_>>()
            .join(", ");
        println!(
            "{}  {}  {}",
            v.cve.as_deref().unwrap_or("—"),
            v.cwe.as_deref().unwrap_or(""),
            score
        );
        if let Some(s) = &v.summary {
            println!("  {s}");
        }
        let affected: Vec<&str> = v
            .product_status
            .iter()
            .filter(|(s, _)| *s == mamori_core::vuln::ProductStatus::Affected)
            .map(|(_, p)| p.as_str())
            .collect();
        if !affected.is_empty() {
            println!(
                "  {} {}",
                lang.pick("影響あり:", "affected:"),
                affected.join(", ")
            );
        }
        for r in &v.remediations {
            let kind = match (r.category.as_str(), lang) {
                ("vendor_fix", Lang::Ja) => "修正版",
                ("mitigation", Lang::Ja) => "緩和策",
                ("workaround", Lang::Ja) => "回避策",
                ("none_available", Lang::Ja) => "対策なし",
                ("no_fix_planned", Lang::Ja) => "修正予定なし",
                (other, _) => other,
            };
            let text: String = r.details.chars().take(200).collect();
            println!("  [{kind}] {text}");
        }
    }
    Ok(())
}
