//! Hospital calendars (guideline §8.3, operating hours): weekly time ranges, national
//! holidays, nth-weekday closures (第2・4土曜休診), 年末年始, the hospital's own closed days, and
//! one-off windows (an approved remote-maintenance slot, a holiday clinic).
//!
//! All times are local wall-clock times of the hospital (Asia/Tokyo by default: no daylight
//! saving, so every local time exists exactly once).

use std::collections::BTreeMap;
use std::fmt;

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Weekday};
use serde::{Deserialize, Serialize};

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const DAYS_JA: [&str; 7] = ["月", "火", "水", "木", "金", "土", "日"];

fn day(text: &str) -> Option<usize> {
    let t = text.trim().to_ascii_lowercase();
    DAYS.iter()
        .position(|d| t.starts_with(d))
        .or_else(|| DAYS_JA.iter().position(|d| t.starts_with(d)))
}

/// A weekly time range: days and a time range, which may pass midnight (`mon-fri 19:00-07:00`:
/// from 19:00 on Monday to Friday until 07:00 the next morning). `24:00` ends a day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct WeeklyRange {
    days: [bool; 7],
    start: NaiveTime,
    /// `None`: midnight at the end of the day (`24:00`).
    end: Option<NaiveTime>,
}

fn parse_time(s: &str) -> Option<Option<NaiveTime>> {
    let s = s.trim();
    if s == "24:00" {
        return Some(None);
    }
    NaiveTime::parse_from_str(s, "%H:%M").ok().map(Some)
}

impl WeeklyRange {
    /// Reads `[DAYS ]HH:MM-HH:MM`; DAYS are `mon-fri`, `sat,sun`, `月-金`, `daily`/`毎日`
    /// (the default: every day).
    pub fn parse(text: &str) -> Result<WeeklyRange, String> {
        let err = |why: &str| format!("{text:?}: {why} (e.g. \"mon-fri 08:30-17:30\")");
        let t = text.trim();
        let (days_text, times) = match t.rsplit_once(' ') {
            Some((d, r)) => (d.trim(), r),
            None => ("daily", t),
        };
        let mut days = [false; 7];
        if days_text.eq_ignore_ascii_case("daily") || days_text == "毎日" {
            days = [true; 7];
        } else {
            for part in days_text.split([',', '・']) {
                match part.split_once('-') {
                    Some((a, b)) => {
                        let a = day(a).ok_or_else(|| err("unknown day"))?;
                        let b = day(b).ok_or_else(|| err("unknown day"))?;
                        let mut d = a;
                        loop {
                            days[d] = true;
                            if d == b {
                                break;
                            }
                            d = (d + 1) % 7;
                        }
                    }
                    None => days[day(part).ok_or_else(|| err("unknown day"))?] = true,
                }
            }
        }
        let (a, b) = times
            .split_once('-')
            .ok_or_else(|| err("the time range needs a start and an end"))?;
        let start = parse_time(a)
            .flatten()
            .ok_or_else(|| err("times are HH:MM"))?;
        let end = parse_time(b).ok_or_else(|| err("times are HH:MM"))?;
        if end == Some(start) {
            return Err(err("the range is empty"));
        }
        Ok(WeeklyRange { days, start, end })
    }

    /// The days it applies to, Monday first.
    pub fn days(&self) -> [bool; 7] {
        self.days
    }

    /// Its start.
    pub fn start(&self) -> NaiveTime {
        self.start
    }

    /// Its end (`None`: 24:00).
    pub fn end(&self) -> Option<NaiveTime> {
        self.end
    }

    /// Whether the range runs past midnight.
    pub fn overnight(&self) -> bool {
        self.end.is_some_and(|e| e < self.start)
    }

    /// The minutes of `date`'s own part of the range (from its start on `date`), as
    /// (start minute, end minute) of that day, the end possibly past 1440 for overnight.
    fn span_on(&self, date: NaiveDate) -> Option<(u32, u32)> {
        if !self.days[date.weekday().num_days_from_monday() as usize] {
            return None;
        }
        let m = |t: NaiveTime| t.hour() * 60 + t.minute();
        let start = m(self.start);
        let end = match self.end {
            None => 1440,
            Some(e) if e < self.start => 1440 + m(e),
            Some(e) => m(e),
        };
        Some((start, end))
    }

    /// Whether the window is open at this local time (ignoring closures).
    pub fn contains(&self, now: NaiveDateTime) -> bool {
        let minute = now.time().hour() * 60 + now.time().minute();
        let today = now.date();
        self.span_on(today)
            .is_some_and(|(s, e)| minute >= s && minute < e)
            || (self.overnight()
                && self
                    .span_on(today - Duration::days(1))
                    .is_some_and(|(_, e)| minute + 1440 < e))
    }
}

impl fmt::Display for WeeklyRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.days == [true; 7] {
            f.write_str("daily")?;
        } else {
            let names: Vec<&str> = (0..7).filter(|d| self.days[*d]).map(|d| DAYS[d]).collect();
            f.write_str(&names.join(","))?;
        }
        let end = self
            .end
            .map(|e| e.format("%H:%M").to_string())
            .unwrap_or_else(|| "24:00".into());
        write!(f, " {}-{end}", self.start.format("%H:%M"))
    }
}

impl From<WeeklyRange> for String {
    fn from(w: WeeklyRange) -> String {
        w.to_string()
    }
}

impl TryFrom<String> for WeeklyRange {
    type Error = String;
    fn try_from(s: String) -> Result<WeeklyRange, String> {
        WeeklyRange::parse(&s)
    }
}

/// A one-off window: `2026-12-05 20:00-22:00`, or across days `2026-12-28 09:00-2026-12-29 12:00`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct OneOff {
    /// From.
    pub start: NaiveDateTime,
    /// Until (exclusive).
    pub end: NaiveDateTime,
}

impl OneOff {
    /// Reads `YYYY-MM-DD HH:MM-HH:MM` or `YYYY-MM-DD HH:MM-YYYY-MM-DD HH:MM`.
    pub fn parse(text: &str) -> Result<OneOff, String> {
        let err = |why: &str| format!("{text:?}: {why} (e.g. \"2026-12-05 20:00-22:00\")");
        let t = text.trim();
        let (date, rest) = t
            .split_once(' ')
            .ok_or_else(|| err("a date and a time range"))?;
        let date = NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d")
            .map_err(|_| err("the date is YYYY-MM-DD"))?;
        let (a, b) = rest
            .split_once('-')
            .ok_or_else(|| err("a start and an end"))?;
        let start = parse_time(a)
            .flatten()
            .ok_or_else(|| err("times are HH:MM"))?;
        let b = b.trim();
        let end = if b.len() > 5 {
            NaiveDateTime::parse_from_str(b, "%Y-%m-%d %H:%M")
                .map_err(|_| err("the end is HH:MM or YYYY-MM-DD HH:MM"))?
        } else {
            match parse_time(b).ok_or_else(|| err("times are HH:MM"))? {
                Some(t) => date.and_time(t),
                None => (date + Duration::days(1))
                    .and_hms_opt(0, 0, 0)
                    .unwrap_or_default(),
            }
        };
        let start = date.and_time(start);
        if end <= start {
            return Err(err("the window ends before it starts"));
        }
        Ok(OneOff { start, end })
    }
}

impl fmt::Display for OneOff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.end.date() == self.start.date() {
            write!(
                f,
                "{}-{}",
                self.start.format("%Y-%m-%d %H:%M"),
                self.end.format("%H:%M")
            )
        } else {
            write!(
                f,
                "{}-{}",
                self.start.format("%Y-%m-%d %H:%M"),
                self.end.format("%Y-%m-%d %H:%M")
            )
        }
    }
}

impl From<OneOff> for String {
    fn from(w: OneOff) -> String {
        w.to_string()
    }
}

impl TryFrom<String> for OneOff {
    type Error = String;
    fn try_from(s: String) -> Result<OneOff, String> {
        OneOff::parse(&s)
    }
}

/// National holidays (国民の祝日・休日), by date.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Holidays(pub BTreeMap<NaiveDate, String>);

/// The national holidays mamori ships (`data/holidays-jp.csv`: 2020–2027, each from the
/// Cabinet Office's published list).
const SHIPPED: &str = include_str!("../data/holidays-jp.csv");

impl Holidays {
    /// The holidays mamori ships; newer years come from `mamori calendar import-holidays`.
    pub fn shipped() -> Holidays {
        let mut map = BTreeMap::new();
        for line in SHIPPED.lines().filter(|l| !l.starts_with('#')).skip(1) {
            if let Some((d, name)) = line.split_once(',') {
                if let Ok(date) = NaiveDate::parse_from_str(d, "%Y-%m-%d") {
                    map.insert(date, name.trim().to_string());
                }
            }
        }
        Holidays(map)
    }

    /// Adds (or replaces) holidays, e.g. an imported newer year.
    pub fn merge(&mut self, other: &Holidays) {
        self.0.extend(other.0.iter().map(|(d, n)| (*d, n.clone())));
    }

    /// The holiday's name, if `date` is one.
    pub fn name(&self, date: NaiveDate) -> Option<&str> {
        self.0.get(&date).map(String::as_str)
    }

    /// The years covered (first, last).
    pub fn years(&self) -> Option<(i32, i32)> {
        Some((
            self.0.keys().next()?.year(),
            self.0.keys().next_back()?.year(),
        ))
    }
}

/// A named schedule: when devices following it are meant to run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    /// Name (外来, 病棟24時間, 保守VPN).
    pub name: String,
    /// 24/365: always running; nothing else may be given.
    #[serde(default)]
    pub always: bool,
    /// Weekly ranges.
    #[serde(default)]
    pub weekly: Vec<WeeklyRange>,
    /// Closed on national holidays (default yes).
    #[serde(default = "yes")]
    pub holidays_closed: bool,
    /// Closed on the nth weekdays of the month: `2sat`, `4sat` (第2・4土曜休診), `1sun`.
    #[serde(default)]
    pub closed_nth: Vec<String>,
    /// 年末年始: closed from month/day to month/day, inclusive (default `12/29-01/03`;
    /// empty: none).
    #[serde(default = "year_end")]
    pub year_end: String,
    /// The hospital's own closed days.
    #[serde(default)]
    pub closed_days: Vec<NaiveDate>,
    /// One-off open windows (an approved maintenance slot, a holiday clinic), which hold even
    /// on closed days.
    #[serde(default)]
    pub windows: Vec<OneOff>,
}

impl Default for Schedule {
    /// No range yet; closed on holidays and 12/29–1/3, as a new schedule is.
    fn default() -> Schedule {
        Schedule {
            name: String::new(),
            always: false,
            weekly: Vec::new(),
            holidays_closed: true,
            closed_nth: Vec::new(),
            year_end: year_end(),
            closed_days: Vec::new(),
            windows: Vec::new(),
        }
    }
}

fn yes() -> bool {
    true
}

fn year_end() -> String {
    "12/29-01/03".into()
}

/// Why a schedule cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleError {
    /// The schedule.
    pub schedule: String,
    /// What is wrong, naming the rules.
    pub message: String,
}

impl fmt::Display for ScheduleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "schedule {:?}: {}", self.schedule, self.message)
    }
}

fn nth_rule(text: &str) -> Option<(u32, Weekday)> {
    let t = text.trim();
    let n: u32 = t.get(..1)?.parse().ok()?;
    let d = day(t.get(1..)?.trim_start_matches(['第', ' ']))?;
    ((1..=5).contains(&n)).then(|| (n, Weekday::try_from(d as u8).unwrap_or(Weekday::Mon)))
}

fn month_day(text: &str) -> Option<(u32, u32)> {
    let (m, d) = text.trim().split_once('/')?;
    let (m, d) = (m.parse().ok()?, d.parse().ok()?);
    NaiveDate::from_ymd_opt(2024, m, d).map(|_| (m, d))
}

impl Schedule {
    /// Checks the rules: contradictions and overlaps name the rules concerned.
    pub fn validate(&self) -> Result<(), ScheduleError> {
        let fail = |message: String| {
            Err(ScheduleError {
                schedule: self.name.clone(),
                message,
            })
        };
        if self.name.trim().is_empty() {
            return fail("a schedule needs a name".into());
        }
        if self.always && (!self.weekly.is_empty() || !self.closed_nth.is_empty()) {
            return fail(
                "\"always\" (24/365) contradicts weekly ranges and closed weekdays: give one or the other".into(),
            );
        }
        if !self.always && self.weekly.is_empty() && self.windows.is_empty() {
            return fail(
                "no weekly range, no window and not \"always\": the schedule is never open".into(),
            );
        }
        for rule in &self.closed_nth {
            if nth_rule(rule).is_none() {
                return fail(format!(
                    "closed_nth {rule:?} is not e.g. \"2sat\" (第2土曜)"
                ));
            }
        }
        if !self.year_end.trim().is_empty() {
            let ok = self
                .year_end
                .split_once('-')
                .is_some_and(|(a, b)| month_day(a).is_some() && month_day(b).is_some());
            if !ok {
                return fail(format!("year_end {:?} is not MM/DD-MM/DD", self.year_end));
            }
        }
        // Two weekly ranges that overlap on a day are a mistake (which one is meant?).
        for (i, a) in self.weekly.iter().enumerate() {
            for b in &self.weekly[i + 1..] {
                for d in 0..7 {
                    let date = NaiveDate::from_ymd_opt(2024, 1, 1 + d).unwrap_or_default(); // a Monday
                    if let (Some((s1, e1)), Some((s2, e2))) = (a.span_on(date), b.span_on(date)) {
                        if s1 < e2 && s2 < e1 {
                            return fail(format!("the weekly ranges \"{a}\" and \"{b}\" overlap"));
                        }
                    }
                }
            }
        }
        for (i, a) in self.windows.iter().enumerate() {
            for b in &self.windows[i + 1..] {
                if a.start < b.end && b.start < a.end {
                    return fail(format!("the windows \"{a}\" and \"{b}\" overlap"));
                }
            }
        }
        Ok(())
    }

    /// Why `date` is closed (holiday name, 年末年始, 第2土曜, 休診日), or `None`.
    pub fn closure(&self, date: NaiveDate, holidays: &Holidays) -> Option<String> {
        if self.always {
            return None;
        }
        if self.holidays_closed {
            if let Some(name) = holidays.name(date) {
                return Some(name.to_string());
            }
        }
        if let Some((a, b)) = self.year_end.split_once('-') {
            if let (Some(a), Some(b)) = (month_day(a), month_day(b)) {
                let md = (date.month(), date.day());
                let inside = if a <= b {
                    md >= a && md <= b
                } else {
                    md >= a || md <= b
                };
                if inside {
                    return Some("年末年始".into());
                }
            }
        }
        for rule in &self.closed_nth {
            if let Some((n, wd)) = nth_rule(rule) {
                if date.weekday() == wd && (date.day() - 1) / 7 + 1 == n {
                    return Some(format!(
                        "第{n}{}曜",
                        DAYS_JA[wd.num_days_from_monday() as usize]
                    ));
                }
            }
        }
        if self.closed_days.contains(&date) {
            return Some("休診日".into());
        }
        None
    }

    /// Whether a device on this schedule is meant to run at `at`.
    pub fn is_open(&self, at: NaiveDateTime, holidays: &Holidays) -> bool {
        if self.always || self.windows.iter().any(|w| w.start <= at && at < w.end) {
            return true;
        }
        let minute = at.time().hour() * 60 + at.time().minute();
        let today = at.date();
        let yesterday = today - Duration::days(1);
        self.weekly.iter().any(|w| {
            (self.closure(today, holidays).is_none()
                && w.span_on(today)
                    .is_some_and(|(s, e)| minute >= s && minute < e))
                || (w.overnight()
                    && self.closure(yesterday, holidays).is_none()
                    && w.span_on(yesterday).is_some_and(|(_, e)| minute + 1440 < e))
        })
    }

    /// Minutes of `date` (00:00–24:00) the schedule is open.
    pub fn open_minutes(&self, date: NaiveDate, holidays: &Holidays) -> u32 {
        let start = date.and_hms_opt(0, 0, 0).unwrap_or_default();
        (0..1440)
            .filter(|m| self.is_open(start + Duration::minutes(*m as i64), holidays))
            .count() as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    /// The shipped list obeys the Act on National Holidays: a holiday on a Sunday moves to the
    /// next day that is not a holiday (振替休日, art. 3-2), a day between two holidays is a
    /// holiday (国民の休日, art. 3-3), and the Happy Monday days fall on their Mondays.
    #[test]
    fn the_shipped_holidays_follow_the_law() {
        let h = Holidays::shipped();
        assert_eq!(h.years(), Some((2020, 2027)));
        assert!(h.0.len() > 120);
        for (d, name) in &h.0 {
            if d.weekday() == Weekday::Sun {
                let mut next = *d + Duration::days(1);
                while h.name(next).is_some_and(|n| n != "休日") {
                    next += Duration::days(1);
                }
                assert_eq!(h.name(next), Some("休日"), "振替休日 after {d} {name}");
            }
            if name == "休日" {
                let prev = *d - Duration::days(1);
                let substitute = (1..7).any(|k| {
                    let back = *d - Duration::days(k);
                    back.weekday() == Weekday::Sun
                        && h.name(back).is_some_and(|n| n != "休日")
                        && (1..k).all(|j| h.name(*d - Duration::days(j)).is_some())
                });
                let sandwiched = h.name(prev).is_some() && h.name(*d + Duration::days(1)).is_some();
                assert!(
                    substitute || sandwiched,
                    "{d} 休日 is neither 振替 nor 国民の休日"
                );
            }
        }
        for year in 2022..=2027 {
            let monday = |month: u32, nth: u32| {
                NaiveDate::from_weekday_of_month_opt(year, month, Weekday::Mon, nth as u8).unwrap()
            };
            assert_eq!(h.name(monday(1, 2)), Some("成人の日"), "{year}");
            assert_eq!(h.name(monday(7, 3)), Some("海の日"), "{year}");
            assert_eq!(h.name(monday(9, 3)), Some("敬老の日"), "{year}");
            assert_eq!(h.name(monday(10, 2)), Some("スポーツの日"), "{year}");
        }
        // 2026: 5/3 is a Sunday, so 5/6 is 振替休日; 9/22 lies between 敬老の日 and 秋分の日.
        assert_eq!(h.name(date("2026-05-06")), Some("休日"));
        assert_eq!(h.name(date("2026-09-22")), Some("休日"));
        assert_eq!(h.name(date("2027-03-22")), Some("休日"));
    }

    fn schedule(toml_weekly: &[&str]) -> Schedule {
        Schedule {
            name: "外来".into(),
            weekly: toml_weekly
                .iter()
                .map(|w| WeeklyRange::parse(w).unwrap())
                .collect(),
            holidays_closed: true,
            closed_nth: vec!["2sat".into(), "4sat".into()],
            year_end: year_end(),
            ..Schedule::default()
        }
    }

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    #[test]
    fn an_outpatient_calendar_closes_on_holidays_year_end_and_second_and_fourth_saturdays() {
        let h = Holidays::shipped();
        let s = schedule(&["mon-fri 08:30-17:30", "sat 08:30-12:30"]);
        s.validate().unwrap();
        assert!(s.is_open(at("2026-11-26 10:00"), &h)); // Thursday
        assert!(!s.is_open(at("2026-11-26 18:00"), &h));
        assert!(!s.is_open(at("2026-11-23 10:00"), &h)); // 勤労感謝の日 (Monday)
        assert!(!s.is_open(at("2026-05-06 10:00"), &h)); // 振替休日
        assert!(!s.is_open(at("2026-09-22 10:00"), &h)); // 国民の休日
        assert!(!s.is_open(at("2026-12-29 10:00"), &h)); // 年末年始
        assert!(!s.is_open(at("2027-01-04 07:00"), &h));
        assert!(s.is_open(at("2027-01-04 09:00"), &h));
        // Saturdays of November 2026: 7 (1st), 14 (2nd), 21 (3rd), 28 (4th).
        assert!(s.is_open(at("2026-11-07 09:00"), &h));
        assert!(!s.is_open(at("2026-11-14 09:00"), &h));
        assert!(s.is_open(at("2026-11-21 09:00"), &h));
        assert!(!s.is_open(at("2026-11-28 09:00"), &h));
        assert_eq!(
            s.closure(date("2026-11-28"), &h).as_deref(),
            Some("第4土曜")
        );
        assert_eq!(
            s.closure(date("2026-11-23"), &h).as_deref(),
            Some("勤労感謝の日")
        );
        assert_eq!(s.open_minutes(date("2026-11-26"), &h), 9 * 60);
        assert_eq!(s.open_minutes(date("2026-11-21"), &h), 4 * 60);
        assert_eq!(s.open_minutes(date("2026-11-28"), &h), 0);
    }

    #[test]
    fn a_maintenance_window_and_a_24_365_schedule() {
        let h = Holidays::shipped();
        let vpn = Schedule {
            name: "保守VPN".into(),
            windows: vec![OneOff::parse("2026-12-30 20:00-22:00").unwrap()],
            ..Schedule::default()
        };
        vpn.validate().unwrap();
        assert!(
            vpn.is_open(at("2026-12-30 21:00"), &h),
            "an approved window holds on a closed day"
        );
        assert!(!vpn.is_open(at("2026-12-30 22:00"), &h));
        assert!(!vpn.is_open(at("2026-12-29 21:00"), &h));
        assert_eq!(vpn.open_minutes(date("2026-12-30"), &h), 120);
        let ward = Schedule {
            name: "病棟24時間".into(),
            always: true,
            ..Schedule::default()
        };
        ward.validate().unwrap();
        for t in ["2026-01-01 03:00", "2026-12-31 23:59", "2026-05-06 12:00"] {
            assert!(ward.is_open(at(t), &h));
        }
        assert_eq!(ward.open_minutes(date("2026-01-01"), &h), 1440);
        // A night range over a holiday eve: Friday night's range is closed when Friday is.
        let night = Schedule {
            name: "夜間".into(),
            weekly: vec![WeeklyRange::parse("mon-fri 19:00-07:00").unwrap()],
            ..Schedule::default()
        };
        assert!(night.is_open(at("2026-11-27 23:00"), &h));
        assert!(night.is_open(at("2026-11-28 06:00"), &h));
        assert!(
            !night.is_open(at("2026-11-24 06:00"), &h),
            "Monday 11/23 is a holiday"
        );
    }

    #[test]
    fn contradictory_or_overlapping_rules_are_named() {
        let both = Schedule {
            name: "x".into(),
            always: true,
            weekly: vec![WeeklyRange::parse("mon 09:00-10:00").unwrap()],
            ..Schedule::default()
        };
        assert!(both.validate().unwrap_err().message.contains("always"));
        let overlap = schedule(&["mon-fri 08:30-17:30", "fri 17:00-20:00"]);
        let e = overlap.validate().unwrap_err();
        assert!(
            e.message.contains("mon,tue,wed,thu,fri 08:30-17:30")
                && e.message.contains("fri 17:00-20:00"),
            "{e}"
        );
        let never = Schedule {
            name: "y".into(),
            ..Schedule::default()
        };
        assert!(never.validate().is_err());
        let mut bad_nth = schedule(&["mon 09:00-10:00"]);
        bad_nth.closed_nth = vec!["second saturday".into()];
        assert!(bad_nth
            .validate()
            .unwrap_err()
            .message
            .contains("second saturday"));
        let windows = Schedule {
            name: "z".into(),
            windows: vec![
                OneOff::parse("2026-12-01 20:00-22:00").unwrap(),
                OneOff::parse("2026-12-01 21:00-23:00").unwrap(),
            ],
            ..Schedule::default()
        };
        assert!(windows.validate().unwrap_err().message.contains("overlap"));
    }

    #[test]
    fn weekly_ranges_read_and_pass_midnight() {
        let w = WeeklyRange::parse("mon-fri 19:00-07:00").unwrap();
        let at = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
        assert!(w.contains(at("2026-11-27 20:00"))); // Friday
        assert!(w.contains(at("2026-11-28 06:59"))); // Saturday morning, Friday's range
        assert!(!w.contains(at("2026-11-28 20:00")));
        assert_eq!(
            WeeklyRange::parse("月-金 08:30-17:30").unwrap().to_string(),
            "mon,tue,wed,thu,fri 08:30-17:30"
        );
        assert_eq!(
            WeeklyRange::parse("sat 00:00-24:00").unwrap().to_string(),
            "sat 00:00-24:00"
        );
        for bad in ["", "mon", "xyz 10:00-11:00", "10:00-10:00", "25:00-26:00"] {
            assert!(WeeklyRange::parse(bad).is_err(), "{bad}");
        }
    }
}
