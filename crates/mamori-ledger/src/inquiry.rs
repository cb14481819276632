//! The 事業者確認依頼 sheet (.xlsx, Japanese): written for a vendor with the devices and
//! vulnerabilities to confirm, read back with the vendor's answers. This module knows the
//! layout only; which answers are valid is the application's to decide.

use chrono::NaiveDate;
use rust_xlsxwriter::{Color, DataValidation, Format, FormatBorder, Workbook};

use crate::table::{read_table, Cell, TableError};
use crate::write::{guard_formula, ExportError};

/// The headers, in order. The first two identify the row; the last four are the vendor's.
pub const HEADERS: [&str; 17] = [
    "照会番号",
    "検出番号",
    "管理番号",
    "機器名",
    "型番",
    "設置場所",
    "構成要素",
    "バージョン",
    "脆弱性",
    "概要",
    "CVSS",
    "KEV",
    "確認事項",
    "回答区分",
    "条件",
    "回答・備考",
    "回答日",
];
/// Where the vendor's columns start (回答区分).
const ANSWER_COLUMN: usize = 13;

/// What the sheet is addressed with.
#[derive(Debug, Clone)]
pub struct SheetHeader {
    /// The vendor (御中).
    pub vendor: String,
    /// The day it is sent.
    pub date: NaiveDate,
}

/// One device × vulnerability to confirm.
#[derive(Debug, Clone)]
pub struct SheetItem {
    /// 照会番号.
    pub inquiry: i64,
    /// 検出番号.
    pub finding: i64,
    /// 管理番号.
    pub asset_id: String,
    /// 機器名.
    pub asset_name: String,
    /// 型番.
    pub model: String,
    /// 設置場所.
    pub location: String,
    /// 構成要素.
    pub component: String,
    /// バージョン.
    pub version: String,
    /// CVE or other id.
    pub vuln: String,
    /// The vulnerability's title or description.
    pub title: String,
    /// CVSS base score.
    pub cvss: Option<f64>,
    /// In CISA KEV.
    pub kev: bool,
    /// 確認事項.
    pub question: String,
}

/// The choices of 回答区分 (the validation list of the sheet).
pub const VERDICTS: [&str; 4] = ["適用可", "条件付き適用可", "適用不可", "該当なし"];

/// Writes the sheet.
pub fn write_inquiry_sheet(
    header: &SheetHeader,
    items: &[SheetItem],
) -> Result<Vec<u8>, ExportError> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("事業者確認依頼")?;
    let title = Format::new().set_bold().set_font_size(14);
    let head = Format::new()
        .set_bold()
        .set_border(FormatBorder::Thin)
        .set_background_color(Color::RGB(0xD9D9D9));
    let answer_head = Format::new()
        .set_bold()
        .set_border(FormatBorder::Thin)
        .set_background_color(Color::RGB(0xFFF2CC));
    let fixed = Format::new()
        .set_border(FormatBorder::Thin)
        .set_background_color(Color::RGB(0xF2F2F2));
    let open = Format::new().set_border(FormatBorder::Thin).set_unlocked();
    sheet.write_string_with_format(0, 0, "事業者確認依頼（脆弱性対策の適用可否）", &title)?;
    sheet.write_string(1, 0, format!("{} 御中", header.vendor))?;
    sheet.write_string(2, 0, format!("依頼日: {}", header.date.format("%Y-%m-%d")))?;
    sheet.write_string(
        3,
        0,
        "下記の機器と脆弱性について、修正の適用可否を黄色の列にご記入ください。回答区分は一覧（適用可・条件付き適用可・適用不可・該当なし）から選び、条件付きの場合は条件を、回答日は YYYY-MM-DD でご記入ください。灰色の列は変更しないでください。",
    )?;
    let first = 5u32;
    for (c, h) in HEADERS.iter().enumerate() {
        let f = if c >= ANSWER_COLUMN {
            &answer_head
        } else {
            &head
        };
        sheet.write_string_with_format(first, c as u16, *h, f)?;
    }
    for (i, it) in items.iter().enumerate() {
        let r = first + 1 + i as u32;
        sheet.write_number_with_format(r, 0, it.inquiry as f64, &fixed)?;
        sheet.write_number_with_format(r, 1, it.finding as f64, &fixed)?;
        let texts = [
            &it.asset_id,
            &it.asset_name,
            &it.model,
            &it.location,
            &it.component,
            &it.version,
            &it.vuln,
            &it.title,
        ];
        for (k, t) in texts.iter().enumerate() {
            sheet.write_string_with_format(
                r,
                2 + k as u16,
                guard_formula(t.to_string()),
                &fixed,
            )?;
        }
        match it.cvss {
            Some(v) => sheet.write_number_with_format(r, 10, v, &fixed)?,
            None => sheet.write_string_with_format(r, 10, "", &fixed)?,
        };
        sheet.write_string_with_format(r, 11, if it.kev { "KEV" } else { "" }, &fixed)?;
        sheet.write_string_with_format(r, 12, guard_formula(it.question.clone()), &fixed)?;
        for c in ANSWER_COLUMN..HEADERS.len() {
            sheet.write_blank(r, c as u16, &open)?;
        }
    }
    if !items.is_empty() {
        let last = first + items.len() as u32;
        let list = DataValidation::new().allow_list_strings(&VERDICTS)?;
        sheet.add_data_validation(
            first + 1,
            ANSWER_COLUMN as u16,
            last,
            ANSWER_COLUMN as u16,
            &list,
        )?;
    }
    for (c, w) in [
        8, 8, 12, 18, 14, 12, 18, 12, 16, 40, 6, 5, 30, 14, 24, 30, 12,
    ]
    .iter()
    .enumerate()
    {
        sheet.set_column_width(c as u16, *w as f64)?;
    }
    sheet.set_freeze_panes(first + 1, 3)?;
    Ok(book.save_to_buffer()?)
}

/// One answered row as read (texts as written; the application checks them).
#[derive(Debug, Clone, PartialEq)]
pub struct AnswerRow {
    /// The spreadsheet row (1-based), for messages.
    pub row: usize,
    /// 照会番号 as written.
    pub inquiry: String,
    /// 検出番号 as written.
    pub finding: String,
    /// 回答区分.
    pub verdict: String,
    /// 条件.
    pub conditions: String,
    /// 回答・備考.
    pub answer: String,
    /// 回答日 (a date cell as YYYY-MM-DD).
    pub answered_on: String,
}

/// Why a returned sheet cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum InquirySheetError {
    /// Not a readable spreadsheet.
    #[error(transparent)]
    Table(#[from] TableError),
    /// No header row with 照会番号 and 検出番号 and the answer columns.
    #[error("no 事業者確認依頼 header row")]
    NoHeader,
}

/// Reads the rows the vendor answered (those with anything in the answer columns); rows
/// without an answer are left out.
pub fn read_inquiry_answers(
    file_name: &str,
    bytes: &[u8],
) -> Result<Vec<AnswerRow>, InquirySheetError> {
    let table = read_table(file_name, bytes, None)?;
    let text = |row: &[Cell], c: Option<usize>| {
        c.and_then(|c| row.get(c))
            .map(Cell::text)
            .unwrap_or_default()
    };
    let (hi, cols) = table
        .rows
        .iter()
        .enumerate()
        .find_map(|(i, row)| {
            let pos = |h: &str| row.iter().position(|c| c.text() == h);
            let cols: Vec<Option<usize>> = [
                "照会番号",
                "検出番号",
                "回答区分",
                "条件",
                "回答・備考",
                "回答日",
            ]
            .iter()
            .map(|h| pos(h))
            .collect();
            (cols[0].is_some() && cols[1].is_some() && cols[2].is_some()).then_some((i, cols))
        })
        .ok_or(InquirySheetError::NoHeader)?;
    let mut out = Vec::new();
    for (i, row) in table.rows.iter().enumerate().skip(hi + 1) {
        let r = AnswerRow {
            row: table.row_number(i),
            inquiry: text(row, cols[0]),
            finding: text(row, cols[1]),
            verdict: text(row, cols[2]),
            conditions: text(row, cols[3]),
            answer: text(row, cols[4]),
            answered_on: text(row, cols[5]),
        };
        let answered = [&r.verdict, &r.conditions, &r.answer, &r.answered_on]
            .iter()
            .any(|t| !t.is_empty());
        if answered {
            out.push(r);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_written_sheet_reads_back_with_the_answers_only() {
        let item = |finding| SheetItem {
            inquiry: 3,
            finding,
            asset_id: "NW-0018".into(),
            asset_name: "リモート保守VPN".into(),
            model: "FG-60E".into(),
            location: "サーバ室".into(),
            component: "fortios 6.0.4".into(),
            version: "6.0.4".into(),
            vuln: "CVE-2018-13379".into(),
            title: "=cmd|' /C calc'!A0".into(),
            cvss: Some(9.8),
            kev: true,
            question: "修正版の適用可否".into(),
        };
        let bytes = write_inquiry_sheet(
            &SheetHeader {
                vendor: "保守会社".into(),
                date: NaiveDate::from_ymd_opt(2026, 11, 26).unwrap(),
            },
            &[item(12), item(13)],
        )
        .unwrap();
        // Nothing answered yet: no rows.
        assert!(read_inquiry_answers("q.xlsx", &bytes).unwrap().is_empty());
        assert!(matches!(
            read_inquiry_answers("x.csv", "a,b\n1,2\n".as_bytes()),
            Err(InquirySheetError::NoHeader)
        ));
    }
}
