//! The enforcement helper: nftables rules with time matches, and a cron file for what
//! nftables cannot express (holidays, 年末年始, nth-weekday closures, one-off windows).
//! Generated text for the network team to review; mamori never applies it.

use chrono::{Datelike, Duration, NaiveDate};
use mamori_core::calendar::{Holidays, Schedule};

const DAY_NAMES: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// (nftables file, cron file).
pub(crate) fn render(
    s: &Schedule,
    v4: &[String],
    holidays: &Holidays,
    today: NaiveDate,
    days_ahead: i64,
) -> (String, String) {
    let elements = |set: &str| {
        if v4.is_empty() {
            format!("    set {set} {{ type ipv4_addr; }}\n")
        } else {
            format!(
                "    set {set} {{ type ipv4_addr; elements = {{ {} }} }}\n",
                v4.join(", ")
            )
        }
    };
    let mut nft = format!(
        "# mamori: 稼働時間帯「{name}」 / schedule {name:?} — generated {today} for review;\n\
         # mamori never applies it. Traffic to the schedule's devices is allowed only in its\n\
         # weekly hours; the cron file closes them on holidays, 年末年始 and other closed days and\n\
         # opens approved one-off windows. nftables compares `meta hour` in the machine's local\n\
         # time zone: load it on a machine set to the hospital's zone.\n\
         table inet mamori_hours {{\n",
        name = s.name
    );
    nft.push_str(&elements("scheduled"));
    nft.push_str("    set closed_today { type ipv4_addr; }\n");
    nft.push_str("    set window { type ipv4_addr; }\n");
    nft.push_str(
        "    chain forward {\n        type filter hook forward priority filter; policy accept;\n",
    );
    nft.push_str("        ip daddr @window accept\n");
    if s.always {
        nft.push_str("        # 24/365: always allowed.\n");
    } else {
        nft.push_str("        ip daddr @closed_today drop\n");
        for w in &s.weekly {
            let days: Vec<usize> = (0..7).filter(|d| w.days()[*d]).collect();
            let names = |ds: &[usize]| {
                ds.iter()
                    .map(|d| format!("\"{}\"", DAY_NAMES[*d]))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let start = w.start().format("%H:%M").to_string();
            let end = w
                .end()
                .map(|e| e.format("%H:%M").to_string())
                .unwrap_or_else(|| "23:59:59".into());
            if w.overnight() {
                let next: Vec<usize> = days.iter().map(|d| (d + 1) % 7).collect();
                nft.push_str(&format!(
                    "        ip daddr @scheduled meta day {{ {} }} meta hour \"{start}\"-\"23:59:59\" accept\n",
                    names(&days)
                ));
                nft.push_str(&format!(
                    "        ip daddr @scheduled meta day {{ {} }} meta hour \"00:00\"-\"{end}\" accept\n",
                    names(&next)
                ));
            } else {
                nft.push_str(&format!(
                    "        ip daddr @scheduled meta day {{ {} }} meta hour \"{start}\"-\"{end}\" accept\n",
                    names(&days)
                ));
            }
        }
        nft.push_str("        ip daddr @scheduled drop\n");
    }
    nft.push_str("    }\n}\n");

    let ips = v4.join(", ");
    let mut cron = format!(
        "# mamori: 稼働時間帯「{}」 — closed days and approved windows from {today}, {days_ahead} days.\n\
         # /etc/cron.d format (minute hour day month weekday user command). Review before use.\n",
        s.name
    );
    if !v4.is_empty() && !s.always {
        let mut was_closed = false;
        for k in 0..days_ahead {
            let day = today + Duration::days(k);
            let why = s.closure(day, holidays);
            let (d, m) = (day.day(), day.month());
            match (&why, was_closed) {
                (Some(why), _) => cron.push_str(&format!(
                    "0 0 {d} {m} * root nft 'flush set inet mamori_hours closed_today; add element inet mamori_hours closed_today {{ {ips} }}'  # {day} {why}\n"
                )),
                (None, true) => cron.push_str(&format!(
                    "0 0 {d} {m} * root nft flush set inet mamori_hours closed_today  # {day} open again\n"
                )),
                (None, false) => {}
            }
            was_closed = why.is_some();
        }
    }
    if !v4.is_empty() {
        for w in &s.windows {
            if w.end.date() < today {
                continue;
            }
            cron.push_str(&format!(
                "{} {} {} {} * root nft add element inet mamori_hours window {{ {ips} }}  # window {w}\n",
                w.start.format("%-M"),
                w.start.format("%-H"),
                w.start.day(),
                w.start.month()
            ));
            cron.push_str(&format!(
                "{} {} {} {} * root nft flush set inet mamori_hours window  # end of window {w}\n",
                w.end.format("%-M"),
                w.end.format("%-H"),
                w.end.day(),
                w.end.month()
            ));
        }
    }
    (nft, cron)
}
