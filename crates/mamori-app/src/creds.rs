//! Default-credential checks (guideline §8.3, 遵守事項 8⑤): the 企画管理者's approvals (where,
//! when, how gently), devices never tried, the catalogue (shipped plus the hospital's own
//! files), and turning what the checks found into 8.3 findings — 出荷時パスワード未変更, 認証なし
//! and 同一パスワードの使い回し疑い.
//!
//! *Invariants*: the checks run only as part of a scan (`scan run --creds`) whose every
//! target lies inside an approval in force, inside the approval's windows; devices excluded
//! (here, or スキャン除外 in the ledger) get no attempt; a working password is never stored,
//! logged or shown — findings name the catalogue entry, the service and the user name.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::net::IpAddr;
use std::path::PathBuf;

use chrono::NaiveDateTime;
use mamori_core::access::Permission;
use mamori_core::scan::{Check83, HostResult, Transport};
use mamori_matching::reconcile::{self, Device, Observation};
use mamori_net::catalogue::{self, Entry};
use mamori_net::creds::{CredPolicy, CredRun};
use mamori_net::{Scope, Window};
use mamori_store::CredApproval;
use serde::Serialize;
use serde_json::json;

use crate::{audit, App, AppError, Result};

/// What a 企画管理者 approves.
#[derive(Debug, Clone, Default)]
pub struct ApprovalRequest {
    /// CIDRs, ranges and addresses where credentials may be tried.
    pub scope: String,
    /// Never tried.
    pub exclude: Option<String>,
    /// Weekly ranges the checks may run in (none: whenever the scan may).
    pub windows: Vec<String>,
    /// Attempts per account and device in a run (default 3, at most 10).
    pub max_attempts: Option<u32>,
    /// Pause between attempts to one device, milliseconds (default 1000).
    pub delay_ms: Option<u64>,
    /// Conditions, who asked, why.
    pub note: Option<String>,
}

/// How a scan will try credentials: built when the scan is prepared.
#[derive(Debug, Clone)]
pub struct CredPlan {
    /// The strictest limits of the approvals that cover the targets.
    pub policy: CredPolicy,
    /// The catalogue (shipped, then the files given).
    pub entries: Vec<Entry>,
    /// Addresses never tried (approval exclusions, excluded devices).
    pub excluded: HashSet<IpAddr>,
    /// The approvals the scan runs under.
    pub approvals: Vec<i64>,
    /// Windows of those approvals (all must allow the moment the checks start).
    pub windows: Vec<Window>,
}

/// The catalogue's size and composition.
#[derive(Debug, Clone, Serialize)]
pub struct CatalogueSummary {
    /// Entries.
    pub entries: usize,
    /// Entries per category.
    pub by_category: BTreeMap<String, usize>,
    /// Entries per protocol.
    pub by_protocol: BTreeMap<String, usize>,
    /// Entries without a source (always 0 for mamori's own format).
    pub without_source: usize,
    /// The files read, shipped first.
    pub files: Vec<String>,
}

fn bad(field: &str, ja: String, en: String) -> AppError {
    AppError::bad_value(field, ja, en)
}

/// Reads the shipped catalogue and the hospital's own files (mamori's TOML, or the
/// DefaultCreds-cheat-sheet CSV).
pub fn load_catalogue(files: &[PathBuf]) -> Result<Vec<Entry>> {
    let mut entries = catalogue::parse_toml(catalogue::SHIPPED)
        .map_err(|e| AppError::Internal(format!("the shipped catalogue: {e}")))?;
    for file in files {
        let bytes = crate::read_input(file, crate::MAX_INPUT_BYTES)?;
        let name = file.display().to_string();
        let more = if file
            .extension()
            .is_some_and(|x| x.eq_ignore_ascii_case("csv"))
        {
            catalogue::parse_defaultcreds_csv(&bytes, &name)
        } else {
            let text = String::from_utf8(bytes).map_err(|_| {
                bad(
                    "--catalog",
                    format!("{name}: UTF-8 の TOML ではありません"),
                    format!("{name}: not UTF-8 TOML"),
                )
            })?;
            catalogue::parse_toml(&text)
        }
        .map_err(|e| {
            bad(
                "--catalog",
                format!("{name}: {e}。mamori の TOML 形式 (docs/safe-use.md) か productvendor,username,password の CSV にしてください"),
                format!("{name}: {e}. Use mamori's TOML format (docs/safe-use.md) or a productvendor,username,password CSV"),
            )
        })?;
        for e in more {
            if entries.iter().any(|x| x.id == e.id) {
                return Err(bad(
                    "--catalog",
                    format!("{name}: ID {} は既に使われています", e.id),
                    format!("{name}: the id {} is already used", e.id),
                ));
            }
            entries.push(e);
        }
    }
    Ok(entries)
}

/// Size and composition of the catalogue that `files` add to the shipped one.
pub fn catalogue_summary(files: &[PathBuf]) -> Result<CatalogueSummary> {
    let entries = load_catalogue(files)?;
    let mut by_protocol = BTreeMap::new();
    for e in &entries {
        *by_protocol.entry(e.protocol.clone()).or_insert(0) += 1;
    }
    let mut names = vec!["(shipped) data/default-credentials.toml".to_string()];
    names.extend(files.iter().map(|f| f.display().to_string()));
    Ok(CatalogueSummary {
        entries: entries.len(),
        by_category: catalogue::composition(&entries),
        by_protocol,
        without_source: entries
            .iter()
            .filter(|e| e.source.trim().is_empty())
            .count(),
        files: names,
    })
}

fn scope_of(field: &str, text: &str) -> Result<Vec<mamori_net::Span>> {
    Scope::parse_list(text).map_err(|e| {
        bad(
            field,
            format!("{}: {}", e.text, e.reason_ja),
            format!("{}: {}", e.text, e.reason),
        )
    })
}

fn windows_of(texts: &[String]) -> Result<Vec<Window>> {
    texts
        .iter()
        .filter(|w| !w.trim().is_empty())
        .map(|w| {
            Window::parse(w).map_err(|e| bad("--window", format!("時間帯が読めません: {e}"), e))
        })
        .collect()
}

fn approval_scope(a: &CredApproval) -> Result<Scope> {
    Ok(Scope {
        include: scope_of("scope", &a.scope)?,
        exclude: match &a.exclude {
            Some(x) => scope_of("exclude", x)?,
            None => Vec::new(),
        },
    })
}

impl App {
    /// The catalogue (shipped plus `files`): its entries, for people who may view.
    pub fn cred_catalogue(&mut self, files: &[PathBuf]) -> Result<(CatalogueSummary, Vec<Entry>)> {
        self.require(Permission::View)?;
        Ok((catalogue_summary(files)?, load_catalogue(files)?))
    }

    /// Approves default-credential checks for a scope (企画管理者). Audited.
    pub fn approve_cred_checks(&mut self, req: &ApprovalRequest) -> Result<i64> {
        self.require(Permission::ApproveCredChecks)?;
        scope_of("--scope", &req.scope)?;
        if let Some(x) = &req.exclude {
            scope_of("--exclude", x)?;
        }
        windows_of(&req.windows)?;
        let max_attempts = req.max_attempts.unwrap_or(3);
        if !(1..=10).contains(&max_attempts) {
            return Err(bad(
                "--max-attempts",
                "--max-attempts は 1 から 10 までです (ロックアウトを避けるため)".into(),
                "--max-attempts is 1 to 10 (to avoid locking accounts out)".into(),
            ));
        }
        let delay_ms = req.delay_ms.unwrap_or(1000);
        if delay_ms > 60_000 {
            return Err(bad(
                "--delay-ms",
                "--delay-ms は 60000 (60 秒) までです".into(),
                "--delay-ms is at most 60000 (a minute)".into(),
            ));
        }
        let approval = CredApproval {
            id: 0,
            scope: req.scope.trim().to_string(),
            exclude: req.exclude.clone().filter(|x| !x.trim().is_empty()),
            windows: req.windows.clone(),
            max_attempts,
            delay_ms,
            note: req.note.clone(),
            approved_by: self.actor.clone(),
            approved_at: self.now_utc()?,
            revoked_by: None,
            revoked_at: None,
        };
        let mut tx = self.store.begin()?;
        let id = tx.insert_cred_approval(&approval)?;
        audit(
            tx.as_mut(),
            &self.actor,
            "creds.approve",
            Some(&format!("cred_approval:{id}")),
            json!({ "after": {
                "scope": approval.scope, "exclude": approval.exclude, "windows": approval.windows,
                "max_attempts": max_attempts, "delay_ms": delay_ms, "note": approval.note,
            }}),
        )?;
        tx.commit()?;
        Ok(id)
    }

    /// Approvals, newest first (withdrawn ones too).
    pub fn cred_approvals(&mut self) -> Result<Vec<CredApproval>> {
        self.require(Permission::View)?;
        Ok(self.store.begin_read()?.cred_approvals()?)
    }

    /// Withdraws an approval. Audited.
    pub fn revoke_cred_approval(&mut self, id: i64) -> Result<()> {
        self.require(Permission::ApproveCredChecks)?;
        let mut tx = self.store.begin()?;
        if !tx.revoke_cred_approval(id, &self.actor)? {
            return Err(bad(
                "approval",
                format!("有効な承認 #{id} はありません (creds approvals で確認)"),
                format!("there is no approval #{id} in force (see creds approvals)"),
            ));
        }
        audit(
            tx.as_mut(),
            &self.actor,
            "creds.revoke",
            Some(&format!("cred_approval:{id}")),
            json!({ "before": "approved", "after": "revoked" }),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Excludes a device from the checks (`Some(note)`), or includes it again (`None`).
    /// Audited; returns whether anything changed.
    pub fn set_cred_exclusion(&mut self, asset_id: &str, note: Option<&str>) -> Result<bool> {
        self.require(Permission::Scan)?;
        let mut tx = self.store.begin()?;
        let asset = tx
            .asset(asset_id)?
            .ok_or_else(|| AppError::AssetNotFound(asset_id.to_string()))?;
        let changed = tx.set_cred_exclusion(asset.id, note, &self.actor)?;
        if changed {
            audit(
                tx.as_mut(),
                &self.actor,
                if note.is_some() {
                    "creds.exclude"
                } else {
                    "creds.include"
                },
                Some(&format!("asset:{asset_id}")),
                json!({ "note": note }),
            )?;
        }
        tx.commit()?;
        Ok(changed)
    }

    /// Devices never tried: (管理番号, note).
    pub fn cred_exclusions(&mut self) -> Result<Vec<(String, Option<String>)>> {
        self.require(Permission::View)?;
        let tx = self.store.begin_read()?;
        let names: HashMap<i64, String> = tx
            .assets(&mamori_store::AssetFilter::default())?
            .into_iter()
            .map(|a| (a.id, a.asset.asset_id))
            .collect();
        Ok(tx
            .cred_exclusions()?
            .into_iter()
            .map(|(id, note)| (names.get(&id).cloned().unwrap_or_default(), note))
            .collect())
    }

    /// Checks that default credentials may be tried on every target now, and plans how.
    pub(crate) fn plan_cred_checks(
        &mut self,
        targets: &[IpAddr],
        catalogs: &[PathBuf],
        now: NaiveDateTime,
    ) -> Result<CredPlan> {
        let tx = self.store.begin_read()?;
        let approvals: Vec<CredApproval> = tx
            .cred_approvals()?
            .into_iter()
            .filter(|a| a.revoked_at.is_none())
            .collect();
        if approvals.is_empty() {
            return Err(bad(
                "--creds",
                "既定パスワード検査は企画管理者の承認が必要です: mamori creds approve --scope … (企画管理者) の後に実行してください".into(),
                "default-credential checks need the 企画管理者's approval: run mamori creds approve --scope … (planning administrator) first".into(),
            ));
        }
        let scopes: Vec<(CredApproval, Scope)> = approvals
            .into_iter()
            .map(|a| approval_scope(&a).map(|s| (a, s)))
            .collect::<Result<_>>()?;
        let mut used: BTreeMap<i64, &CredApproval> = BTreeMap::new();
        let mut outside = Vec::new();
        for addr in targets {
            // Within an approval's scope (its exclusions count as covered: never tried).
            match scopes
                .iter()
                .find(|(_, s)| s.include.iter().any(|sp| sp.contains(*addr)))
            {
                Some((a, _)) => {
                    used.insert(a.id, a);
                }
                None => outside.push(addr.to_string()),
            }
        }
        if !outside.is_empty() {
            let shown: Vec<&str> = outside.iter().take(5).map(String::as_str).collect();
            return Err(bad(
                "--creds",
                format!(
                    "承認された範囲外のアドレスがあります ({} 件: {}…)。範囲を絞るか、企画管理者が creds approve で承認してください",
                    outside.len(),
                    shown.join(", ")
                ),
                format!(
                    "{} address(es) lie outside every approved scope ({}…); narrow the scope or have the 企画管理者 approve it with creds approve",
                    outside.len(),
                    shown.join(", ")
                ),
            ));
        }
        let mut excluded: HashSet<IpAddr> = targets
            .iter()
            .copied()
            .filter(|addr| {
                scopes.iter().any(|(a, s)| {
                    used.contains_key(&a.id) && s.exclude.iter().any(|sp| sp.contains(*addr))
                })
            })
            .collect();
        let skip: HashSet<i64> = tx.cred_exclusions()?.into_iter().map(|(a, _)| a).collect();
        for a in tx.assets(&mamori_store::AssetFilter::default())? {
            if skip.contains(&a.id) || a.asset.scan_exclude == Some(true) {
                excluded.extend(a.asset.ip.iter().copied());
            }
        }
        let mut windows = Vec::new();
        for a in used.values() {
            let w = windows_of(&a.windows)?;
            if !w.is_empty() && !w.iter().any(|w| w.contains(now)) {
                return Err(bad(
                    "--creds",
                    format!(
                        "承認 #{} の時間帯 ({}) の外です。時間帯内に実行してください",
                        a.id,
                        a.windows.join("; ")
                    ),
                    format!(
                        "outside the windows of approval #{} ({}); run within them",
                        a.id,
                        a.windows.join("; ")
                    ),
                ));
            }
            windows.extend(w);
        }
        let policy = CredPolicy {
            max_attempts: used.values().map(|a| a.max_attempts).min().unwrap_or(3),
            delay_ms: used.values().map(|a| a.delay_ms).max().unwrap_or(1000),
            ..CredPolicy::default()
        };
        drop(tx);
        Ok(CredPlan {
            policy,
            entries: load_catalogue(catalogs)?,
            excluded,
            approvals: used.keys().copied().collect(),
            windows,
        })
    }
}

/// What a scan's credential checks did, for the summary.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CredSummary {
    /// Hosts tried.
    pub hosts: usize,
    /// Services (address and port) checked.
    pub services: usize,
    /// Login attempts made.
    pub attempts: u32,
    /// The most attempts on one account of one device.
    pub max_per_account: u32,
    /// Default credentials accepted (entry ids and user names; never a password).
    pub default_credentials: usize,
    /// Services without authentication.
    pub no_auth: usize,
    /// Services where a lockout or rate-limit answer stopped the checks.
    pub locked: Vec<String>,
    /// Addresses left out (excluded).
    pub excluded: usize,
    /// Seconds.
    pub seconds: f64,
}

/// The services (address, port, transport) the checks looked at.
pub(crate) type Checked = HashSet<(IpAddr, u16, Transport)>;

/// Per service and kind of hit (address, port, no authentication): the entries, user names
/// and protocols that worked.
type Grouped = BTreeMap<(IpAddr, u16, bool), Vec<(String, String, String)>>;

/// Runs the planned checks on the hosts a scan finished; returns the runs and what was
/// checked (address, port and transport).
pub(crate) fn run_checks(
    plan: &CredPlan,
    hosts: &[HostResult],
) -> Result<(Vec<CredRun>, Checked, CredSummary)> {
    let started = std::time::Instant::now();
    let tried: Vec<HostResult> = hosts
        .iter()
        .filter(|h| h.up && !plan.excluded.contains(&h.addr))
        .cloned()
        .collect();
    let runs = mamori_net::creds::check_all(&plan.policy, &tried, &plan.entries, 32)
        .map_err(|e| AppError::Internal(format!("credential checks: {e}")))?;
    let mut checked = HashSet::new();
    let mut summary = CredSummary {
        hosts: tried.len(),
        excluded: hosts
            .iter()
            .filter(|h| plan.excluded.contains(&h.addr))
            .count(),
        ..CredSummary::default()
    };
    for (h, run) in tried.iter().zip(&runs) {
        for p in h.open_ports() {
            if mamori_net::creds::protocol_of(p).is_some() && !run.locked.contains(&p.port) {
                checked.insert((h.addr, p.port, p.transport));
            }
        }
        summary.attempts += run.attempts.values().sum::<u32>();
        summary.max_per_account = summary
            .max_per_account
            .max(run.attempts.values().copied().max().unwrap_or(0));
        summary.default_credentials += run.hits.iter().filter(|x| !x.no_auth).count();
        summary.no_auth += run.hits.iter().filter(|x| x.no_auth).count();
        summary
            .locked
            .extend(run.locked.iter().map(|p| format!("{}:{p}", h.addr)));
    }
    summary.services = checked.len();
    summary.seconds = started.elapsed().as_secs_f64();
    Ok((runs, checked, summary))
}

/// Turns credential hits into 8.3 observations: one per service and check, and a
/// 使い回し疑い on every device where a catalogue entry worked that also worked on another.
pub(crate) fn observations(
    plan: &CredPlan,
    hosts: &[HostResult],
    runs: &[CredRun],
    devices: &[Device],
) -> Vec<Observation> {
    let by_addr: HashMap<IpAddr, &HostResult> = hosts.iter().map(|h| (h.addr, h)).collect();
    let entry = |id: &str| plan.entries.iter().find(|e| e.id == id);
    // (addr, port, no_auth) → entries and users
    let mut grouped: Grouped = BTreeMap::new();
    for hit in runs.iter().flat_map(|r| &r.hits) {
        grouped
            .entry((hit.addr, hit.port, hit.no_auth))
            .or_default()
            .push((
                hit.entry.clone(),
                hit.username.clone(),
                hit.protocol.clone(),
            ));
    }
    let mut out = Vec::new();
    let mut devices_by_entry: BTreeMap<String, BTreeSet<IpAddr>> = BTreeMap::new();
    for ((addr, port, no_auth), hits) in &grouped {
        let host = by_addr.get(addr).copied();
        let asset = host
            .and_then(|h| reconcile::recognise(h, devices))
            .map(|d| d.id);
        let transport = if hits.iter().any(|(_, _, p)| p == "snmp") {
            Transport::Udp
        } else {
            Transport::Tcp
        };
        let service = host
            .and_then(|h| {
                h.ports
                    .iter()
                    .find(|p| p.port == *port && p.transport == transport)
            })
            .map(|p| {
                [p.service.clone(), p.product.clone(), p.version.clone()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_default();
        let named: Vec<String> = hits
            .iter()
            .map(|(id, user, protocol)| {
                let what = entry(id)
                    .map(|e| format!("{} {}", e.vendor, e.product))
                    .unwrap_or_default();
                if user.is_empty() {
                    format!("{id} [{protocol}; {what}]")
                } else {
                    format!("{id} [{protocol}, user {user}; {what}]")
                }
            })
            .collect();
        let check = if *no_auth {
            Check83::NoAuthentication
        } else {
            Check83::DefaultCredential
        };
        let (why, why_ja) = if *no_auth {
            (
                format!("no authentication asked: {}", named.join(", ")),
                format!("認証を求められませんでした: {}", named.join(", ")),
            )
        } else {
            (
                format!("catalogue credential accepted: {}", named.join(", ")),
                format!(
                    "カタログの既定の認証情報で認証できました: {}",
                    named.join(", ")
                ),
            )
        };
        if !*no_auth {
            for (id, _, _) in hits {
                devices_by_entry
                    .entry(id.clone())
                    .or_default()
                    .insert(*addr);
            }
        }
        out.push(Observation {
            check,
            asset,
            subject: format!("svc:{addr}:{port}/{}", transport.code()),
            shown: format!("{addr} {port}/{} {service}", transport.code())
                .trim()
                .to_string(),
            addr: *addr,
            port: Some((*port, transport)),
            level: check.level(),
            why,
            why_ja,
        });
    }
    for (id, addrs) in devices_by_entry.iter().filter(|(_, a)| a.len() > 1) {
        for addr in addrs {
            let host = by_addr.get(addr).copied();
            let asset = host
                .and_then(|h| reconcile::recognise(h, devices))
                .map(|d| d.id);
            let port = grouped
                .iter()
                .find(|((a, _, n), hits)| a == addr && !n && hits.iter().any(|(e, _, _)| e == id))
                .map(|((_, p, _), _)| *p)
                .unwrap_or(0);
            let others: Vec<String> = addrs
                .iter()
                .filter(|a| *a != addr)
                .map(|a| a.to_string())
                .collect();
            out.push(Observation {
                check: Check83::ReusedCredential,
                asset,
                subject: format!("svc:{addr}:{port}/tcp"),
                shown: format!("{addr} {port}/tcp {id}"),
                addr: *addr,
                port: Some((port, Transport::Tcp)),
                level: Check83::ReusedCredential.level(),
                why: format!(
                    "catalogue entry {id} accepted here and on {} other device(s): {}",
                    others.len(),
                    others.join(", ")
                ),
                why_ja: format!(
                    "カタログの項目 {id} がこの機器と他の {} 台で通りました: {}",
                    others.len(),
                    others.join(", ")
                ),
            });
        }
    }
    out
}
