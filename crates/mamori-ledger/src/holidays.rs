//! The Cabinet Office's list of national holidays (`syukujitsu.csv`: Shift_JIS, a header
//! row `国民の祝日・休日月日,国民の祝日・休日名称`, then `Y/M/D,名称`).
//!
//! UTF-8 (with or without BOM) is accepted too, for a file someone re-saved. Anything else —
//! another encoding, a line that is not a date and a name, a date that does not exist — is
//! refused with its line number; nothing of a refused file is used.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use mamori_core::calendar::Holidays;

/// Why a holiday file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct HolidayError {
    /// 1-based line.
    pub line: usize,
    /// What is wrong (English; `message_ja` in Japanese).
    pub message: String,
    /// 日本語.
    pub message_ja: String,
}

fn fail(line: usize, en: impl Into<String>, ja: impl Into<String>) -> HolidayError {
    HolidayError {
        line,
        message: en.into(),
        message_ja: ja.into(),
    }
}

/// Decodes the file: UTF-8 when it is valid UTF-8, else Shift_JIS (CP932); neither is an
/// error naming the first line that does not decode.
fn decode(bytes: &[u8]) -> Result<String, HolidayError> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok(text.to_string());
    }
    let (text, _, had_errors) = encoding_rs::SHIFT_JIS.decode(bytes);
    if had_errors {
        // The first line that does not decode on its own.
        let line = bytes
            .split(|b| *b == b'\n')
            .position(|l| std::str::from_utf8(l).is_err() && encoding_rs::SHIFT_JIS.decode(l).2)
            .map(|i| i + 1)
            .unwrap_or(1);
        return Err(fail(
            line,
            "neither Shift_JIS nor UTF-8: save the file as the Cabinet Office publishes it (Shift_JIS CSV)",
            "Shift_JIS でも UTF-8 でもありません。内閣府が公開している形式 (Shift_JIS の CSV) のまま保存してください",
        ));
    }
    Ok(text.into_owned())
}

/// Reads a holiday list.
pub fn parse_holidays(bytes: &[u8]) -> Result<Holidays, HolidayError> {
    let text = decode(bytes)?;
    let mut map = BTreeMap::new();
    let mut data = 0;
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let l = raw.trim();
        if l.is_empty() {
            continue;
        }
        let (date, name) = l.split_once(',').ok_or_else(|| {
            fail(
                line,
                format!("{l:?} is not \"Y/M/D,name\""),
                format!("「{l}」は「年/月/日,名称」の形ではありません"),
            )
        })?;
        if i == 0 && !date.trim().starts_with(|c: char| c.is_ascii_digit()) {
            continue; // the header row
        }
        let date = date.trim();
        let parsed = NaiveDate::parse_from_str(date, "%Y/%m/%d")
            .or_else(|_| NaiveDate::parse_from_str(date, "%Y-%m-%d"))
            .map_err(|_| {
                fail(
                    line,
                    format!("{date:?} is not a date (Y/M/D)"),
                    format!("「{date}」は日付 (年/月/日) ではありません"),
                )
            })?;
        let name = name.trim().trim_matches('"');
        if name.is_empty() {
            return Err(fail(
                line,
                "the holiday has no name",
                "祝日の名称がありません",
            ));
        }
        map.insert(parsed, name.to_string());
        data += 1;
    }
    if data == 0 {
        return Err(fail(
            1,
            "no holidays in the file",
            "祝日が 1 件もありません",
        ));
    }
    Ok(Holidays(map))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sjis(text: &str) -> Vec<u8> {
        encoding_rs::SHIFT_JIS.encode(text).0.into_owned()
    }

    #[test]
    fn the_cabinet_office_format_reads() {
        let file = sjis(
            "国民の祝日・休日月日,国民の祝日・休日名称\r\n2028/1/1,元日\r\n2028/1/10,成人の日\r\n",
        );
        let h = parse_holidays(&file).unwrap();
        assert_eq!(h.0.len(), 2);
        assert_eq!(
            h.name(NaiveDate::from_ymd_opt(2028, 1, 10).unwrap()),
            Some("成人の日")
        );
        // Re-saved as UTF-8 with a BOM: the same.
        let utf8 = "\u{feff}国民の祝日・休日月日,国民の祝日・休日名称\n2028/1/1,元日\n";
        assert_eq!(parse_holidays(utf8.as_bytes()).unwrap().0.len(), 1);
    }

    #[test]
    fn wrong_encodings_and_formats_name_the_line() {
        let e = parse_holidays(&sjis(
            "国民の祝日・休日月日,国民の祝日・休日名称\n2028/1/1,元日\n2028/13/1,x\n",
        ))
        .unwrap_err();
        assert_eq!(e.line, 3);
        let e = parse_holidays(&sjis("h,h\n2028/1/1 元日\n")).unwrap_err();
        assert_eq!(e.line, 2);
        // UTF-16 is neither.
        let utf16: Vec<u8> = "2028/1/1,元日\n"
            .encode_utf16()
            .flat_map(|u| u.to_le_bytes())
            .collect();
        assert!(parse_holidays(&utf16).is_err());
        let mut bad = sjis("h,h\n2028/1/1,元日\n");
        bad.extend_from_slice(b"2028/2/11,\x82\xff\xfd\n");
        assert_eq!(parse_holidays(&bad).unwrap_err().line, 3);
        assert_eq!(parse_holidays(b"h,h\n").unwrap_err().line, 1);
    }
}
