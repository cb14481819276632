//! Operating hours (guideline §8.3): schedules and holidays, the light liveness watch with its
//! presence timeline, the findings it raises (稼働時間外の稼働, 未使用機器の稼働, 長期間未検出,
//! 保守窓外のリモート保守経路), the hours report and the nftables helper.
//!
//! A device's schedule is its ledger 稼働時間帯 (a schedule name), else the default of its kind,
//! else of its department. The watch makes one TCP connect per device to a port a scan found
//! open; a device no scan has seen open is skipped (and counted).

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};
use mamori_core::access::Permission;
use mamori_core::calendar::{Holidays, Schedule};
use mamori_core::remediation::Remediation;
use mamori_core::scan::{Check83, PortState, Transport};
use mamori_core::{Asset, AssetStatus, Labelled};
use mamori_store::{AssetFilter, Finding, FindingEvent, StoredAsset, Tx, WatchState};
use serde::Serialize;
use serde_json::json;

use crate::findings::Resolution;
use crate::{audit, App, AppError, Result};

/// The hospital's UTC offset (`+09:00`, or `Asia/Tokyo`).
pub const TIMEZONE_KEY: &str = "calendar.timezone";
/// Minutes a device may run outside its schedule before it is a finding (default 30).
pub const GRACE_KEY: &str = "watch.grace_minutes";
/// Days an in-use device may go unseen before 長期間未検出 (default 30).
pub const UNSEEN_KEY: &str = "watch.unseen_days";
/// Seconds between rounds of `mamori watch` (default 300).
pub const INTERVAL_KEY: &str = "watch.interval_seconds";
/// The settings of this module.
pub const KEYS: [&str; 4] = [TIMEZONE_KEY, GRACE_KEY, UNSEEN_KEY, INTERVAL_KEY];
/// Who the watch's changes of findings are recorded as.
pub const WATCH_ACTOR: &str = "watch";

/// Whether a setting of this module reads.
pub(crate) fn setting_ok(key: &str, value: &str) -> bool {
    match key {
        TIMEZONE_KEY => offset(value).is_some(),
        GRACE_KEY => value.parse::<u32>().is_ok_and(|m| (1..=1440).contains(&m)),
        UNSEEN_KEY => value.parse::<u32>().is_ok_and(|d| (1..=3650).contains(&d)),
        INTERVAL_KEY => value
            .parse::<u32>()
            .is_ok_and(|s| (10..=86_400).contains(&s)),
        _ => false,
    }
}

fn offset(text: &str) -> Option<FixedOffset> {
    match text.trim() {
        "Asia/Tokyo" | "JST" => FixedOffset::east_opt(9 * 3600),
        "UTC" | "Z" => FixedOffset::east_opt(0),
        t => {
            let (sign, rest) = match t.as_bytes().first()? {
                b'+' => (1, &t[1..]),
                b'-' => (-1, &t[1..]),
                _ => return None,
            };
            let (h, m) = rest.split_once(':')?;
            let secs = h.parse::<i32>().ok()? * 3600 + m.parse::<i32>().ok()? * 60;
            FixedOffset::east_opt(sign * secs)
        }
    }
}

/// What one round of the watch did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct WatchReport {
    /// The round's local time.
    pub at: String,
    /// Devices probed.
    pub probed: usize,
    /// Devices that answered.
    pub up: usize,
    /// Devices with no port known open (run a scan), left out.
    pub no_known_port: usize,
    /// Findings opened.
    pub opened: Vec<i64>,
    /// Findings resolved (a long-unseen device seen again).
    pub resolved: Vec<i64>,
}

/// One row of the hours report: a device on a day.
#[derive(Debug, Clone, Serialize)]
pub struct HoursRow {
    /// 管理番号.
    pub asset_id: String,
    /// 機器名.
    pub name: String,
    /// 部署.
    pub department: Option<String>,
    /// The day.
    pub date: NaiveDate,
    /// The device's schedule.
    pub schedule: Option<String>,
    /// Minutes the schedule is open that day.
    pub scheduled_minutes: u32,
    /// Minutes the watch saw the device up that day (first to last sighting of each run).
    pub up_minutes: u32,
    /// Minutes up while the schedule was closed.
    pub outside_minutes: u32,
}

/// One row of the report rolled up by department: its devices on a day.
#[derive(Debug, Clone, Serialize)]
pub struct DepartmentRow {
    /// 部署 (empty: none recorded).
    pub department: String,
    /// The day.
    pub date: NaiveDate,
    /// Devices in the report that day.
    pub devices: usize,
    /// Their scheduled minutes, added up.
    pub scheduled_minutes: u32,
    /// Their minutes up, added up.
    pub up_minutes: u32,
    /// Their minutes up while their schedules were closed, added up.
    pub outside_minutes: u32,
}

/// The report's rows summed per department and day.
pub fn by_department(rows: &[HoursRow]) -> Vec<DepartmentRow> {
    let mut out: BTreeMap<(String, NaiveDate), DepartmentRow> = BTreeMap::new();
    for r in rows {
        let dept = r.department.clone().unwrap_or_default();
        let e = out
            .entry((dept.clone(), r.date))
            .or_insert_with(|| DepartmentRow {
                department: dept,
                date: r.date,
                devices: 0,
                scheduled_minutes: 0,
                up_minutes: 0,
                outside_minutes: 0,
            });
        e.devices += 1;
        e.scheduled_minutes += r.scheduled_minutes;
        e.up_minutes += r.up_minutes;
        e.outside_minutes += r.outside_minutes;
    }
    out.into_values().collect()
}

fn bad(field: &str, ja: String, en: String) -> AppError {
    AppError::bad_value(field, ja, en)
}

/// Schedules by name, the holidays, and who follows which schedule.
pub(crate) struct Calendar {
    pub(crate) schedules: BTreeMap<String, Schedule>,
    pub(crate) holidays: Holidays,
    defaults: HashMap<String, String>,
}

impl Calendar {
    pub(crate) fn read(tx: &dyn Tx) -> Result<Calendar> {
        let mut schedules = BTreeMap::new();
        for (name, def) in tx.schedules()? {
            let s: Schedule = serde_json::from_value(def)
                .map_err(|e| AppError::Internal(format!("schedule {name}: {e}")))?;
            schedules.insert(name, s);
        }
        let mut holidays = Holidays::shipped();
        holidays.merge(&Holidays(tx.imported_holidays()?.into_iter().collect()));
        Ok(Calendar {
            schedules,
            holidays,
            defaults: tx.schedule_defaults()?.into_iter().collect(),
        })
    }

    /// The device's schedule: its 稼働時間帯, else its kind's default, else its department's.
    pub(crate) fn of(&self, a: &Asset) -> Option<&Schedule> {
        let by_name = |n: &str| self.schedules.get(n.trim());
        a.schedule
            .as_deref()
            .and_then(by_name)
            .or_else(|| {
                self.defaults
                    .get(&format!("kind:{}", a.kind.code()))
                    .and_then(|n| by_name(n))
            })
            .or_else(|| {
                a.department
                    .as_ref()
                    .and_then(|d| self.defaults.get(&format!("dept:{d}")))
                    .and_then(|n| by_name(n))
            })
    }
}

/// The first open TCP port each address showed in the newest scans.
fn known_ports(tx: &dyn Tx, wanted: usize) -> Result<HashMap<IpAddr, u16>> {
    let mut out = HashMap::new();
    for scan in tx.scans()?.into_iter().take(50) {
        for h in tx.scan_hosts(scan.id)? {
            if out.contains_key(&h.result.addr) {
                continue;
            }
            if let Some(p) = h
                .result
                .ports
                .iter()
                .find(|p| p.state == PortState::Open && p.transport == Transport::Tcp)
            {
                out.insert(h.result.addr, p.port);
            }
        }
        if out.len() >= wanted {
            break;
        }
    }
    Ok(out)
}

impl App {
    /// The hospital's local time: [`App::set_now`] when set, else the clock in the
    /// `calendar.timezone` offset (Asia/Tokyo by default).
    pub fn now_local(&mut self) -> Result<NaiveDateTime> {
        if let Some(now) = self.now {
            return Ok(now);
        }
        let tz = self.timezone()?;
        Ok(Utc::now().with_timezone(&tz).naive_local())
    }

    /// A setting's value, if set.
    pub fn setting(&mut self, key: &str) -> Result<Option<String>> {
        self.require(Permission::View)?;
        Ok(self.store.begin_read()?.setting(key)?)
    }

    /// Sets the hospital's local time the workflow takes as now — and so today — for every
    /// timestamp a person's work is judged by (attestations and when they fall due, findings
    /// and their due dates, approvals, exceptions, scans, operating hours): an injectable
    /// clock for tests and for replaying a day. The audit log and the store's own bookkeeping
    /// (import times, the matching watermark) always take the real clock.
    pub fn set_now(&mut self, now: NaiveDateTime) {
        self.now = Some(now);
    }

    /// The hospital's local time for the scanner's window checks: fixed at [`App::set_now`]
    /// when set, else the running clock in the `calendar.timezone` offset.
    pub(crate) fn window_clock(&mut self) -> Result<Box<dyn Fn() -> NaiveDateTime + Send + Sync>> {
        if let Some(now) = self.now {
            return Ok(Box::new(move || now));
        }
        let tz = self.timezone()?;
        Ok(Box::new(move || {
            Utc::now().with_timezone(&tz).naive_local()
        }))
    }

    /// Now as the workflow sees it, in UTC: [`App::set_now`] when set, else the clock.
    pub fn now_utc(&mut self) -> Result<DateTime<Utc>> {
        match self.now {
            Some(local) => self.utc_of(local),
            None => Ok(Utc::now()),
        }
    }

    fn timezone(&mut self) -> Result<FixedOffset> {
        let setting = self.store.begin_read()?.setting(TIMEZONE_KEY)?;
        Ok(setting
            .as_deref()
            .and_then(offset)
            .unwrap_or_else(|| FixedOffset::east_opt(9 * 3600).expect("+09:00")))
    }

    fn utc_of(&mut self, local: NaiveDateTime) -> Result<DateTime<Utc>> {
        let tz = self.timezone()?;
        Ok(tz
            .from_local_datetime(&local)
            .single()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(Utc::now))
    }

    /// National holidays: the shipped years and those imported.
    pub fn holidays(&mut self) -> Result<Holidays> {
        self.require(Permission::View)?;
        Ok(Calendar::read(self.store.begin_read()?.as_ref())?.holidays)
    }

    /// Imports a holiday list (the Cabinet Office's syukujitsu.csv); all or nothing.
    pub fn import_holidays(&mut self, path: &std::path::Path) -> Result<(usize, (i32, i32))> {
        self.require(Permission::Scan)?;
        let bytes = crate::read_input(path, crate::MAX_INPUT_BYTES)?;
        let h = mamori_ledger::holidays::parse_holidays(&bytes).map_err(|e| {
            bad(
                &format!("{}:{}", path.display(), e.line),
                format!("{} 行目: {}", e.line, e.message_ja),
                format!("line {}: {}", e.line, e.message),
            )
        })?;
        let years = h.years().unwrap_or_default();
        let list: Vec<(NaiveDate, String)> = h.0.into_iter().collect();
        let source = path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut tx = self.store.begin()?;
        tx.import_holidays(&list, &source)?;
        audit(
            tx.as_mut(),
            &self.actor,
            "calendar.import_holidays",
            Some(&source),
            json!({ "holidays": list.len(), "years": [years.0, years.1] }),
        )?;
        tx.commit()?;
        Ok((list.len(), years))
    }

    /// Adds or replaces a schedule (checked first); returns whether it replaced one.
    pub fn set_schedule(&mut self, schedule: &Schedule) -> Result<bool> {
        self.require(Permission::Scan)?;
        schedule.validate().map_err(|e| {
            bad(
                "schedule",
                format!("稼働時間帯「{}」: {}", e.schedule, e.message),
                e.to_string(),
            )
        })?;
        let def = serde_json::to_value(schedule).map_err(|e| AppError::Internal(e.to_string()))?;
        let mut tx = self.store.begin()?;
        let before = tx
            .schedules()?
            .into_iter()
            .find(|(n, _)| *n == schedule.name)
            .map(|(_, d)| d);
        let existed = tx.set_schedule(&schedule.name, &def)?;
        audit(
            tx.as_mut(),
            &self.actor,
            "schedule.set",
            Some(&schedule.name),
            json!({ "before": before, "after": def }),
        )?;
        tx.commit()?;
        Ok(existed)
    }

    /// Schedules.
    pub fn schedules(&mut self) -> Result<Vec<Schedule>> {
        self.require(Permission::View)?;
        Ok(Calendar::read(self.store.begin_read()?.as_ref())?
            .schedules
            .into_values()
            .collect())
    }

    /// Sets the default schedule of a kind (`kind:端末PC`) or department (`dept:放射線科`);
    /// `None` removes it.
    pub fn set_schedule_default(&mut self, scope: &str, schedule: Option<&str>) -> Result<()> {
        self.require(Permission::Scan)?;
        let key = match scope.split_once(':') {
            Some(("kind", k)) => {
                let kind = mamori_core::AssetKind::parse(k).ok_or_else(|| {
                    bad(
                        "--kind",
                        format!("機器種別「{k}」はありません"),
                        format!("no device kind {k:?}"),
                    )
                })?;
                format!("kind:{}", kind.code())
            }
            Some(("dept", d)) if !d.trim().is_empty() => format!("dept:{}", d.trim()),
            _ => {
                return Err(bad(
                    "scope",
                    "kind:種別 か dept:部署 を指定してください".into(),
                    "give kind:KIND or dept:DEPARTMENT".into(),
                ))
            }
        };
        let mut tx = self.store.begin()?;
        if let Some(s) = schedule {
            if !tx.schedules()?.iter().any(|(n, _)| n == s) {
                return Err(bad(
                    "schedule",
                    format!("稼働時間帯「{s}」はありません (`mamori schedule list`)"),
                    format!("no schedule {s:?} (see `mamori schedule list`)"),
                ));
            }
        }
        tx.set_schedule_default(&key, schedule)?;
        audit(
            tx.as_mut(),
            &self.actor,
            "schedule.default",
            Some(&key),
            json!({ "schedule": schedule }),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// One round of the watch: a connect to each device's known-open port, the presence
    /// timeline updated (state changes only), and the operating-hours findings.
    pub fn watch_round(&mut self, interval: Duration) -> Result<WatchReport> {
        self.require(Permission::Scan)?;
        let now = self.now_local()?;
        let now_utc = self.utc_of(now)?;
        let read = self.store.begin_read()?;
        let setting = |k: &str, d: i64| -> Result<i64> {
            Ok(read.setting(k)?.and_then(|v| v.parse().ok()).unwrap_or(d))
        };
        let grace = Duration::minutes(setting(GRACE_KEY, 30)?);
        let unseen = Duration::days(setting(UNSEEN_KEY, 30)?);
        let rate: f64 = read
            .setting("scan.rate")?
            .and_then(|v| v.parse().ok())
            .unwrap_or(100.0);
        let timeout: u64 = read
            .setting("scan.timeout_ms")?
            .and_then(|v| v.parse().ok())
            .unwrap_or(1500);
        let devices: Vec<StoredAsset> = read
            .assets(&AssetFilter::default())?
            .into_iter()
            .filter(|a| !a.asset.ip.is_empty() && a.asset.scan_exclude != Some(true))
            .collect();
        let ports = known_ports(read.as_ref(), devices.len())?;
        drop(read);
        let mut report = WatchReport {
            at: now.format("%Y-%m-%d %H:%M").to_string(),
            ..WatchReport::default()
        };
        let mut targets = Vec::new();
        let mut who = Vec::new();
        for d in &devices {
            match d
                .asset
                .ip
                .iter()
                .find_map(|ip| ports.get(ip).map(|p| (*ip, *p)))
            {
                Some(t) => {
                    targets.push(t);
                    who.push(d);
                }
                None => report.no_known_port += 1,
            }
        }
        let mut policy = mamori_net::ScanPolicy::gentle(mamori_net::Scope {
            include: targets
                .iter()
                .map(|(ip, _)| mamori_net::Span::Range(*ip, *ip))
                .collect(),
            exclude: Vec::new(),
        });
        policy.rate = rate;
        policy.timeout_ms = timeout;
        policy.concurrency = 64;
        let answers = mamori_net::scanner::liveness(&policy, &targets)
            .map_err(|e| AppError::Internal(format!("watch runtime: {e}")))?;
        report.probed = answers.iter().filter(|a| a.is_some()).count();
        report.up = answers.iter().filter(|a| **a == Some(true)).count();

        let mut tx = self.store.begin()?;
        let calendar = Calendar::read(tx.as_ref())?;
        let states: HashMap<i64, WatchState> = tx
            .watch_states()?
            .into_iter()
            .map(|s| (s.asset, s))
            .collect();
        let mut open: HashMap<(i64, String, String), Finding> = tx
            .check_findings()?
            .into_iter()
            .map(|f| ((f.asset, f.component_key.clone(), f.vuln.clone()), f))
            .collect();
        // A run of sightings breaks when the watch was away longer than two rounds.
        let gap = interval * 2 + Duration::minutes(1);
        for ((d, answer), (addr, port)) in who.iter().zip(&answers).zip(&targets) {
            let Some(up) = *answer else { continue };
            let mut state = states.get(&d.id).cloned().unwrap_or(WatchState {
                asset: d.id,
                first_probe: now,
                last_probe: now,
                last_up: None,
                off_since: None,
            });
            let previous_probe = state.last_probe;
            state.last_probe = now;
            match tx.open_presence(d.id)? {
                Some((id, _, last)) if up && now - last <= gap && now >= last => {
                    tx.update_presence(id, now, false)?
                }
                Some((id, _, last)) => {
                    tx.update_presence(id, last, true)?;
                    if up {
                        tx.start_presence(d.id, now)?;
                    }
                }
                None if up => tx.start_presence(d.id, now)?,
                None => {}
            }
            let mut found: Vec<(Check83, String, String, serde_json::Value)> = Vec::new();
            let day = now.date().format("%Y-%m-%d").to_string();
            if up {
                state.last_up = Some(now);
                let schedule = calendar.of(&d.asset);
                let unused = matches!(
                    d.asset.status,
                    AssetStatus::Retired | AssetStatus::Spare | AssetStatus::Stopped
                );
                if unused {
                    found.push((
                        Check83::UnusedActive,
                        format!("host:{addr}"),
                        format!("{addr} ({port}/tcp)"),
                        json!({ "status": d.asset.status.code(), "seen_at": now }),
                    ));
                } else if let Some(s) = schedule.filter(|s| !s.is_open(now, &calendar.holidays)) {
                    // A restart longer than the gap starts the count again.
                    let since = match state.off_since {
                        Some(t) if now - previous_probe <= gap => t,
                        _ => now,
                    };
                    state.off_since = Some(since);
                    if now - since >= grace {
                        let check = if d.asset.remote_maintenance == Some(true) {
                            Check83::MaintenanceOutsideWindow
                        } else {
                            Check83::OutOfHours
                        };
                        found.push((
                            check,
                            format!("day:{day}"),
                            format!("{addr} {day} {}〜", since.format("%H:%M")),
                            json!({
                                "schedule": s.name, "since": since, "seen_at": now,
                                "closure": s.closure(now.date(), &calendar.holidays),
                                "grace_minutes": grace.num_minutes(),
                            }),
                        ));
                    }
                } else {
                    state.off_since = None;
                }
                // Seen again: a long-unseen finding resolves.
                let key = (
                    d.id,
                    format!("host:{addr}"),
                    Check83::LongUnseen.finding_id(),
                );
                if let Some(f) = open.get(&key).filter(|f| f.status == "open") {
                    let reason = Resolution::SeenAgain.to_string();
                    tx.set_finding_status(f.id, "resolved", Some(&reason), Some(now_utc))?;
                    if f.state != Remediation::Fixed.code() {
                        tx.set_finding_state(&FindingEvent {
                            finding: f.id,
                            actor: WATCH_ACTOR.into(),
                            from: f.state.clone(),
                            to: Remediation::Fixed.code().into(),
                            reason: Some("seen_again".into()),
                            detail: json!({ "seen_at": now }),
                            planned_date: None,
                        })?;
                    }
                    report.resolved.push(f.id);
                }
            } else {
                state.off_since = None;
                let last = state.last_up.unwrap_or(state.first_probe);
                if d.asset.status == AssetStatus::InUse
                    && now - state.first_probe >= unseen
                    && now - last >= unseen
                {
                    found.push((
                        Check83::LongUnseen,
                        format!("host:{addr}"),
                        format!("{addr} (最終確認 {})", last.format("%Y-%m-%d")),
                        json!({ "last_seen": state.last_up, "days": (now - last).num_days() }),
                    ));
                }
            }
            tx.save_watch_state(&state)?;
            for (check, subject, shown, detail) in found {
                let key = (d.id, subject.clone(), check.finding_id());
                if let Some(f) = open.get_mut(&key) {
                    if f.status == "open" {
                        f.last_seen = now_utc;
                        f.evidence["last"] = detail;
                        tx.save_finding(f)?;
                        continue;
                    }
                    if check == Check83::OutOfHours || check == Check83::MaintenanceOutsideWindow {
                        // Closed by a person for this day: the day's finding stays closed.
                        continue;
                    }
                }
                let mut f = Finding::new(d.id, &subject, &check.finding_id(), now_utc);
                f.component = shown;
                f.source = "watch".into();
                f.confidence = "high".into();
                f.level = check.level().into();
                f.score = crate::scans::score_of(check.level());
                f.sources = vec!["watch".into()];
                f.evidence = json!({
                    "check": check.code(), "clause": check.clause(), "addr": addr.to_string(),
                    "port": port, "first": detail.clone(), "last": detail,
                });
                let id = tx.save_finding(&f)?;
                f.id = id;
                open.insert(key, f);
                report.opened.push(id);
            }
        }
        if !report.opened.is_empty() || !report.resolved.is_empty() {
            audit(
                tx.as_mut(),
                WATCH_ACTOR,
                "watch.round",
                None,
                json!({ "at": report.at, "probed": report.probed, "up": report.up,
                        "opened": report.opened, "resolved": report.resolved }),
            )?;
        }
        tx.commit()?;
        Ok(report)
    }

    /// Hours up per device and day against the scheduled hours.
    pub fn hours_report(
        &mut self,
        from: NaiveDate,
        to: NaiveDate,
        department: Option<&str>,
    ) -> Result<Vec<HoursRow>> {
        self.require(Permission::View)?;
        if to < from || (to - from).num_days() > 366 {
            return Err(bad(
                "--to",
                "期間は開始日以降、1年以内で指定してください".into(),
                "the period must end on or after its start and span at most a year".into(),
            ));
        }
        let tx = self.store.begin_read()?;
        let calendar = Calendar::read(tx.as_ref())?;
        let start = from.and_hms_opt(0, 0, 0).unwrap_or_default();
        let end = (to + Duration::days(1))
            .and_hms_opt(0, 0, 0)
            .unwrap_or_default();
        let mut presence: HashMap<i64, Vec<(NaiveDateTime, NaiveDateTime)>> = HashMap::new();
        for (a, f, l) in tx.presence_between(start, end)? {
            presence.entry(a).or_default().push((f, l));
        }
        let mut cache: HashMap<(String, NaiveDate), Vec<bool>> = HashMap::new();
        let mut rows = Vec::new();
        for d in tx.assets(&AssetFilter::default())? {
            if department.is_some_and(|dep| d.asset.department.as_deref() != Some(dep)) {
                continue;
            }
            let schedule = calendar.of(&d.asset);
            let runs = presence.get(&d.id).map(Vec::as_slice).unwrap_or(&[]);
            if schedule.is_none() && runs.is_empty() {
                continue;
            }
            let mut day = from;
            while day <= to {
                let open: Vec<bool> = match schedule {
                    Some(s) => cache
                        .entry((s.name.clone(), day))
                        .or_insert_with(|| {
                            let s0 = day.and_hms_opt(0, 0, 0).unwrap_or_default();
                            (0..1440)
                                .map(|m| s.is_open(s0 + Duration::minutes(m), &calendar.holidays))
                                .collect()
                        })
                        .clone(),
                    None => vec![false; 1440],
                };
                let d0 = day.and_hms_opt(0, 0, 0).unwrap_or_default();
                let (mut up, mut outside) = (0u32, 0u32);
                for m in 0..1440i64 {
                    let t = d0 + Duration::minutes(m);
                    if runs.iter().any(|(f, l)| *f <= t && t < *l) {
                        up += 1;
                        if schedule.is_some() && !open[m as usize] {
                            outside += 1;
                        }
                    }
                }
                rows.push(HoursRow {
                    asset_id: d.asset.asset_id.clone(),
                    name: d.asset.name.clone(),
                    department: d.asset.department.clone(),
                    date: day,
                    schedule: schedule.map(|s| s.name.clone()),
                    scheduled_minutes: open.iter().filter(|o| **o).count() as u32,
                    up_minutes: up,
                    outside_minutes: outside,
                });
                day += Duration::days(1);
            }
        }
        Ok(rows)
    }

    /// nftables rules (and a cron file for the days nftables cannot express) that allow
    /// traffic to the devices of `schedule` only in its hours — generated for the network
    /// team to review, never applied by mamori.
    pub fn nftables(&mut self, schedule: &str, days_ahead: i64) -> Result<(String, String)> {
        self.require(Permission::View)?;
        let today = self.now_local()?.date();
        let tx = self.store.begin_read()?;
        let calendar = Calendar::read(tx.as_ref())?;
        let s = calendar.schedules.get(schedule).ok_or_else(|| {
            bad(
                "schedule",
                format!("稼働時間帯「{schedule}」はありません (`mamori schedule list`)"),
                format!("no schedule {schedule:?} (see `mamori schedule list`)"),
            )
        })?;
        let mut ips: Vec<IpAddr> = Vec::new();
        for d in tx.assets(&AssetFilter::default())? {
            if calendar.of(&d.asset).is_some_and(|x| x.name == s.name) {
                ips.extend(d.asset.ip.iter().filter(|ip| ip.is_ipv4()));
            }
        }
        ips.sort();
        ips.dedup();
        let v4: Vec<String> = ips.iter().map(|ip| ip.to_string()).collect();
        Ok(crate::hours_nft::render(
            s,
            &v4,
            &calendar.holidays,
            today,
            days_ahead,
        ))
    }
}
