//! The timestamp forms found in feeds.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

/// Reads an RFC 3339 timestamp, NVD 2.0's `2021-03-03T00:15:12.103` (UTC, no zone),
/// NVD 1.1's `2014-01-31T23:55Z`, or a plain date (midnight UTC).
pub fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    let t = text.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Some(d.with_timezone(&Utc));
    }
    // JVN writes `2007-04-01T00:00+09:00` (no seconds).
    if let Ok(d) = DateTime::parse_from_str(t, "%Y-%m-%dT%H:%M%:z") {
        return Some(d.with_timezone(&Utc));
    }
    let naive = t.strip_suffix('Z').unwrap_or(t);
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(n) = NaiveDateTime::parse_from_str(naive, fmt) {
            return Some(n.and_utc());
        }
    }
    NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .ok()
        .map(|d| d.and_time(chrono::NaiveTime::MIN).and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nvd_forms() {
        let a = parse_timestamp("2021-03-03T00:15:12.103").unwrap();
        assert_eq!(a.to_rfc3339(), "2021-03-03T00:15:12.103+00:00");
        assert_eq!(
            parse_timestamp("2014-01-31T23:55Z").unwrap().to_rfc3339(),
            "2014-01-31T23:55:00+00:00"
        );
        assert_eq!(
            parse_timestamp("2024-02-01T09:00:00+09:00")
                .unwrap()
                .to_rfc3339(),
            "2024-02-01T00:00:00+00:00"
        );
        assert_eq!(
            parse_timestamp("2007-04-01T00:00+09:00")
                .unwrap()
                .to_rfc3339(),
            "2007-03-31T15:00:00+00:00"
        );
        assert!(parse_timestamp("2021-02-30T00:00").is_none());
        assert!(parse_timestamp("yesterday").is_none());
    }
}
