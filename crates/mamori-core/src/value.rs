//! Parsers for the single values found in ledger cells.
//!
//! Each parser takes the text a person typed (full-width digits, Japanese separators and
//! era dates included) and returns a normalised value or a [`ValueError`] that says, in
//! both languages, what was wrong and what is expected.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use chrono::NaiveDate;
use unicode_normalization::UnicodeNormalization;

use crate::lang::Lang;

/// Why a cell's value could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    /// Not an IPv4 or IPv6 address.
    #[error("not an IP address")]
    Ip,
    /// Not a MAC address.
    #[error("not a MAC address")]
    Mac,
    /// Not a CPE 2.3 formatted string or CPE 2.2 URI; the detail says what is off.
    #[error("not a CPE name: {0}")]
    Cpe(&'static str),
    /// Not a date in a form we read.
    #[error("not a date")]
    Date,
    /// Not a host name.
    #[error("not a host name")]
    Hostname,
    /// Not 有/無 (yes/no).
    #[error("not yes/no")]
    YesNo,
    /// Not one of the allowed labels; the field lists them.
    #[error("not one of: {0}")]
    Choice(String),
    /// Longer than the field allows.
    #[error("too long: {len} characters, at most {max}")]
    TooLong {
        /// The length found.
        len: usize,
        /// The limit.
        max: usize,
    },
}

impl ValueError {
    /// The message for a user, in their language, saying what is expected.
    pub fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (ValueError::Ip, Lang::Ja) => "IPアドレスとして読めません (例: 192.0.2.10, 2001:db8::1)".into(),
            (ValueError::Ip, Lang::En) => "not an IP address (e.g. 192.0.2.10, 2001:db8::1)".into(),
            (ValueError::Mac, Lang::Ja) => "MACアドレスとして読めません (例: 00:1a:2b:3c:4d:5e)".into(),
            (ValueError::Mac, Lang::En) => "not a MAC address (e.g. 00:1a:2b:3c:4d:5e)".into(),
            (ValueError::Cpe(d), Lang::Ja) => format!(
                "CPE名として読めません ({d})。cpe:2.3:a:vendor:product:version:… か cpe:/a:vendor:product:version の形で入力してください"
            ),
            (ValueError::Cpe(d), Lang::En) => format!(
                "not a CPE name ({d}); write cpe:2.3:a:vendor:product:version:… or cpe:/a:vendor:product:version"
            ),
            (ValueError::Date, Lang::Ja) => "日付として読めません (例: 2025-03-31, 2025/3/31, 令和7年3月31日)".into(),
            (ValueError::Date, Lang::En) => "not a date (e.g. 2025-03-31, 2025/3/31)".into(),
            (ValueError::Hostname, Lang::Ja) => "ホスト名として読めません (半角英数字・ハイフン・ドット)".into(),
            (ValueError::Hostname, Lang::En) => "not a host name (ASCII letters, digits, hyphens, dots)".into(),
            (ValueError::YesNo, Lang::Ja) => "有 / 無 のどちらかを入力してください".into(),
            (ValueError::YesNo, Lang::En) => "write yes or no (有 / 無)".into(),
            (ValueError::Choice(list), Lang::Ja) => format!("次のいずれかを入力してください: {list}"),
            (ValueError::Choice(list), Lang::En) => format!("use one of: {list}"),
            (ValueError::TooLong { len, max }, Lang::Ja) => {
                format!("長すぎます ({len} 文字、上限 {max} 文字)")
            }
            (ValueError::TooLong { len, max }, Lang::En) => {
                format!("too long ({len} characters, at most {max})")
            }
        }
    }
}

/// Folds text for comparison: NFKC (full-width → half-width), lower case, and without
/// spaces, underscores, hyphens, middle dots and slashes.
pub fn normalize_token(text: &str) -> String {
    text.nfkc()
        .flat_map(char::to_lowercase)
        .filter(|c| !c.is_whitespace() && !matches!(c, '_' | '-' | '・' | '･' | '/' | '／'))
        .collect()
}

/// NFKC-folds and trims a value typed by a person (full-width digits and letters become
/// ASCII), as used before parsing addresses, dates and CPE names.
pub fn fold(text: &str) -> String {
    text.nfkc().collect::<String>().trim().to_string()
}

/// Splits a multi-value cell on `;`, `,`, `、`, new lines and (for tokens that cannot
/// contain spaces) white space. Empty pieces are dropped.
pub fn split_list(text: &str, split_on_space: bool) -> Vec<String> {
    let folded: String = text.nfkc().collect();
    folded
        .split(|c: char| {
            matches!(c, ';' | ',' | '、' | '\n' | '\r') || (split_on_space && c.is_whitespace())
        })
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Splits the ソフトウェア cell: entries separated by `;` or new lines (commas stay
/// inside names such as `Microsoft Visual C++ 2015-2022, x64`).
pub fn split_software(text: &str) -> Vec<String> {
    text.split([';', '；', '\n', '\r'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Parses an IPv4 or IPv6 address (full-width digits allowed).
pub fn parse_ip(text: &str) -> Result<IpAddr, ValueError> {
    IpAddr::from_str(&fold(text)).map_err(|_| ValueError::Ip)
}

/// A 48-bit MAC address, shown as `00:1a:2b:3c:4d:5e`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MacAddr(pub [u8; 6]);

impl FromStr for MacAddr {
    type Err = ValueError;

    /// Reads `00:1A:2B:3C:4D:5E`, `00-1A-2B-3C-4D-5E`, `001a.2b3c.4d5e` and `001A2B3C4D5E`.
    fn from_str(text: &str) -> Result<Self, ValueError> {
        let folded = fold(text);
        let hex: String = folded
            .chars()
            .filter(|c| !matches!(c, ':' | '-' | '.'))
            .collect();
        let groups_ok = {
            let seps: Vec<char> = folded
                .chars()
                .filter(|c| matches!(c, ':' | '-' | '.'))
                .collect();
            match seps.len() {
                0 => true,
                5 => seps.iter().all(|c| *c == seps[0] && *c != '.'),
                2 => seps.iter().all(|c| *c == '.'),
                _ => false,
            }
        };
        if !groups_ok || hex.len() != 12 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(ValueError::Mac);
        }
        let mut out = [0u8; 6];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[i * 2..i * 2 + 2], 16).map_err(|_| ValueError::Mac)?;
        }
        Ok(MacAddr(out))
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            b[0], b[1], b[2], b[3], b[4], b[5]
        )
    }
}

impl serde::Serialize for MacAddr {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for MacAddr {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Checks that a text is a well-formed CPE 2.3 formatted string (13 colon-separated
/// components, `\` escapes honoured) or a CPE 2.2 URI (`cpe:/part:vendor:product…`), and
/// returns it trimmed. Full binding and comparison (NISTIR 7695/7696) belong to matching.
pub fn parse_cpe(text: &str) -> Result<String, ValueError> {
    let cpe = fold(text);
    let lower = cpe.to_ascii_lowercase();
    if let Some(rest) = lower.strip_prefix("cpe:2.3:") {
        let parts = split_unescaped(rest);
        if parts.len() != 11 {
            return Err(ValueError::Cpe("cpe:2.3 needs 13 components"));
        }
        if !matches!(parts[0].as_str(), "a" | "o" | "h" | "*" | "-") {
            return Err(ValueError::Cpe("part must be a, o or h"));
        }
        if parts[1].is_empty() || parts[2].is_empty() {
            return Err(ValueError::Cpe("vendor and product must not be empty"));
        }
        if parts.iter().any(String::is_empty) {
            return Err(ValueError::Cpe("empty component; use * for ANY"));
        }
        if cpe.chars().any(|c| c.is_whitespace() || !c.is_ascii()) {
            return Err(ValueError::Cpe(
                "spaces and non-ASCII characters must be escaped",
            ));
        }
        Ok(cpe)
    } else if let Some(rest) = lower.strip_prefix("cpe:/") {
        let parts: Vec<&str> = rest.split(':').collect();
        if parts.len() > 7 {
            return Err(ValueError::Cpe("cpe:/ URIs have at most 7 components"));
        }
        if !matches!(parts[0], "a" | "o" | "h") {
            return Err(ValueError::Cpe("part must be a, o or h"));
        }
        if parts.len() < 2 || parts[1].is_empty() {
            return Err(ValueError::Cpe("vendor must not be empty"));
        }
        if cpe.chars().any(|c| c.is_whitespace() || !c.is_ascii()) {
            return Err(ValueError::Cpe(
                "spaces and non-ASCII characters must be percent-encoded",
            ));
        }
        Ok(cpe)
    } else {
        Err(ValueError::Cpe("must start with cpe:2.3: or cpe:/"))
    }
}

fn split_unescaped(text: &str) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut escaped = false;
    for c in text.chars() {
        if escaped {
            parts.last_mut().expect("never empty").push(c);
            escaped = false;
        } else if c == '\\' {
            parts.last_mut().expect("never empty").push(c);
            escaped = true;
        } else if c == ':' {
            parts.push(String::new());
        } else {
            parts.last_mut().expect("never empty").push(c);
        }
    }
    parts
}

/// Checks a host name: ASCII letters, digits, `-`, `_` (NetBIOS names) and dots, at most
/// 253 characters, labels of at most 63. Returned as written (case kept).
pub fn parse_hostname(text: &str) -> Result<String, ValueError> {
    let name = fold(text);
    let ok = !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        });
    if ok {
        Ok(name)
    } else {
        Err(ValueError::Hostname)
    }
}

/// Reads 有/無 and its many spellings (あり/なし, はい/いいえ, yes/no, true/false, ○/×, 1/0).
pub fn parse_yes_no(text: &str) -> Result<bool, ValueError> {
    match normalize_token(text).as_str() {
        "有" | "あり" | "有り" | "はい" | "yes" | "y" | "true" | "○" | "◯" | "〇" | "1" | "要" => {
            Ok(true)
        }
        "無" | "なし" | "無し" | "いいえ" | "no" | "n" | "false" | "×" | "x" | "0" | "不要" => {
            Ok(false)
        }
        _ => Err(ValueError::YesNo),
    }
}

/// The label for a yes/no value: 有/無 or yes/no.
pub fn yes_no_label(value: bool, lang: Lang) -> &'static str {
    match value {
        true => lang.pick("有", "yes"),
        false => lang.pick("無", "no"),
    }
}

/// Reads a date: `2025-03-31`, `2025/3/31`, `2025.3.31`, `20250331`, `2025年3月31日`,
/// Japanese era dates (`令和7年3月31日`, `R7.3.31`, `平成31年4月30日`, `元年` for year 1),
/// and a date-time whose date part is one of those.
pub fn parse_date(text: &str) -> Result<NaiveDate, ValueError> {
    let folded = fold(text);
    let date_part = folded.split([' ', 'T']).next().unwrap_or("").to_string();
    parse_western(&date_part)
        .or_else(|| parse_era(&date_part))
        .ok_or(ValueError::Date)
}

fn ymd(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
    if !(1900..=2200).contains(&y) {
        return None;
    }
    NaiveDate::from_ymd_opt(y, m, d)
}

fn numbers(text: &str) -> Option<Vec<u32>> {
    let parts: Vec<&str> = text
        .split(['-', '/', '.', '年', '月', '日'])
        .filter(|s| !s.is_empty())
        .collect();
    parts
        .iter()
        .map(|p| {
            if p.len() <= 4 && p.chars().all(|c| c.is_ascii_digit()) {
                p.parse().ok()
            } else {
                None
            }
        })
        .collect()
}

fn parse_western(text: &str) -> Option<NaiveDate> {
    if text.len() == 8 && text.chars().all(|c| c.is_ascii_digit()) {
        let y = text[0..4].parse().ok()?;
        let m = text[4..6].parse().ok()?;
        let d = text[6..8].parse().ok()?;
        return ymd(y, m, d);
    }
    let first = text.split(['-', '/', '.', '年']).next()?;
    if first.len() != 4 {
        return None;
    }
    match numbers(text)?.as_slice() {
        [y, m, d] => ymd(*y as i32, *m, *d),
        _ => None,
    }
}

fn parse_era(text: &str) -> Option<NaiveDate> {
    const ERAS: &[(&[&str], i32)] = &[
        (&["令和", "r"], 2018),
        (&["平成", "h"], 1988),
        (&["昭和", "s"], 1925),
    ];
    let lower = text.to_lowercase();
    for (names, base) in ERAS {
        for name in *names {
            if let Some(rest) = lower.strip_prefix(name) {
                let rest = rest.replacen("元", "1", 1);
                if let [y, m, d] = numbers(&rest)?.as_slice() {
                    return ymd(base + *y as i32, *m, *d);
                }
                return None;
            }
        }
    }
    None
}

/// Enforces a maximum length in characters.
pub fn check_len(text: &str, max: usize) -> Result<(), ValueError> {
    let len = text.chars().count();
    if len > max {
        Err(ValueError::TooLong { len, max })
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_addresses() {
        assert_eq!(parse_ip("127.0.0.1").unwrap().to_string(), "127.0.0.1");
        assert_eq!(
            parse_ip("１２７.０.０.１").unwrap().to_string(),
            "127.0.0.1"
        );
        assert_eq!(parse_ip("2001:DB8::1").unwrap().to_string(), "2001:db8::1");
        assert!(parse_ip("192.168.1.300").is_err());
        assert!(parse_ip("host.example").is_err());
    }

    #[test]
    fn mac_addresses_in_common_forms() {
        for s in [
            "00:1A:2B:3C:4D:5E",
            "00-1a-2b-3c-4d-5e",
            "001a.2b3c.4d5e",
            "001A2B3C4D5E",
        ] {
            assert_eq!(
                s.parse::<MacAddr>().unwrap().to_string(),
                "00:1a:2b:3c:4d:5e",
                "{s}"
            );
        }
        for s in [
            "00:1A:2B:3C:4D",
            "00:1A:2B:3C:4D:5G",
            "00:1a-2b:3c:4d:5e",
            "",
            "::::::",
        ] {
            assert!(s.parse::<MacAddr>().is_err(), "{s}");
        }
    }

    #[test]
    fn cpe_names() {
        assert!(parse_cpe("cpe:2.3:o:fortinet:fortios:6.0.4:*:*:*:*:*:*:*").is_ok());
        assert!(parse_cpe("cpe:2.3:a:foo\\:bar:baz:1.0:*:*:*:*:*:*:*").is_ok());
        assert!(parse_cpe("cpe:/a:dendai.ac.jp:myjvn_api").is_ok());
        assert!(parse_cpe("cpe:/o:microsoft:windows_7::sp1").is_ok());
        assert!(parse_cpe("cpe:2.3:o:fortinet:fortios:6.0.4").is_err());
        assert!(parse_cpe("cpe:2.3:x:fortinet:fortios:6.0.4:*:*:*:*:*:*:*").is_err());
        assert!(parse_cpe("fortios 6.0.4").is_err());
        assert!(parse_cpe("cpe:/").is_err());
    }

    #[test]
    fn dates_western_and_japanese() {
        let d = NaiveDate::from_ymd_opt(2025, 3, 31).unwrap();
        for s in [
            "2025-03-31",
            "2025/3/31",
            "2025.3.31",
            "20250331",
            "2025年3月31日",
            "令和7年3月31日",
            "R7.3.31",
            "２０２５／３／３１",
            "2025-03-31 00:00:00",
        ] {
            assert_eq!(parse_date(s), Ok(d), "{s}");
        }
        assert_eq!(
            parse_date("令和元年5月1日"),
            Ok(NaiveDate::from_ymd_opt(2019, 5, 1).unwrap())
        );
        assert_eq!(
            parse_date("平成31年4月30日"),
            Ok(NaiveDate::from_ymd_opt(2019, 4, 30).unwrap())
        );
        for s in [
            "2025-02-30",
            "31/03/2025",
            "next year",
            "2025",
            "",
            "12345678901",
        ] {
            assert!(parse_date(s).is_err(), "{s}");
        }
    }

    #[test]
    fn yes_no_and_hostnames() {
        assert_eq!(parse_yes_no("有"), Ok(true));
        assert_eq!(parse_yes_no("なし"), Ok(false));
        assert_eq!(parse_yes_no("ＹＥＳ"), Ok(true));
        assert!(parse_yes_no("maybe").is_err());
        assert_eq!(parse_hostname("KARTE-PC01").unwrap(), "KARTE-PC01");
        assert!(parse_hostname("電子カルテ").is_err());
        assert!(parse_hostname("a..b").is_err());
    }

    #[test]
    fn lists_split_on_japanese_and_ascii_separators() {
        assert_eq!(split_list("127.0.0.1；127.0.0.2、127.0.0.3", true).len(), 3);
        assert_eq!(split_list("a b\nc", true), vec!["a", "b", "c"]);
        assert_eq!(
            split_software("Chrome 120; Office 2019\nAcrobat"),
            vec!["Chrome 120", "Office 2019", "Acrobat"]
        );
    }
}
