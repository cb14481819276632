//! Everything wrong with an input file, each with where it is and what to do.

use mamori_core::{Lang, ValueError};

use crate::columns::Field;
use crate::table::Table;

/// Whether a problem stops the import.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The row (or file) cannot be imported as it is.
    Error,
    /// Imported, but worth a look.
    Warning,
}

/// What is wrong.
#[derive(Debug, Clone, PartialEq)]
pub enum ProblemKind {
    /// No row in the first rows looks like a header row.
    NoHeaderRow,
    /// A required column is absent.
    MissingColumn(Field),
    /// Data sits under a blank header cell (often merged header cells).
    BlankHeader,
    /// Two columns map to the same ledger column.
    DuplicateHeader {
        /// Where the first one is.
        first_column: String,
        /// The ledger column both map to.
        field: Field,
    },
    /// Two unknown columns with the same header.
    DuplicateCustomHeader {
        /// Where the first one is.
        first_column: String,
    },
    /// A header mamori does not know; the column is kept as a custom attribute.
    UnknownHeader,
    /// A required value is blank.
    Required(Field),
    /// A value that cannot be read.
    Value(ValueError),
    /// The same 管理番号 appears twice in the file.
    DuplicateAssetId {
        /// The row where it first appears.
        first_row: usize,
    },
    /// A formula cell whose result was never calculated.
    FormulaWithoutValue,
    /// An Excel error value such as `#REF!`.
    CellError,
    /// Formula results were read in place of the formulas.
    FormulasRead(usize),
}

/// One problem with an input file, located as precisely as possible.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// Error or warning.
    pub severity: Severity,
    /// 1-based spreadsheet row, when the problem is in a row.
    pub row: Option<usize>,
    /// Spreadsheet column letter, when the problem is in a column.
    pub column: Option<String>,
    /// The column's header, as written in the file.
    pub header: Option<String>,
    /// The offending value (shortened for display).
    pub value: Option<String>,
    /// What is wrong.
    pub kind: ProblemKind,
}

const SHOWN_VALUE_CHARS: usize = 60;

fn shorten(value: &str) -> String {
    if value.chars().count() > SHOWN_VALUE_CHARS {
        let head: String = value.chars().take(SHOWN_VALUE_CHARS).collect();
        format!("{head}…")
    } else {
        value.to_string()
    }
}

impl Problem {
    /// A problem with the whole file.
    pub fn file(kind: ProblemKind) -> Problem {
        Problem {
            severity: severity_of(&kind),
            row: None,
            column: None,
            header: None,
            value: None,
            kind,
        }
    }

    /// A problem with a header cell.
    pub fn header(
        table: &Table,
        row_index: usize,
        col: usize,
        header: &str,
        kind: ProblemKind,
    ) -> Problem {
        Problem {
            severity: severity_of(&kind),
            row: Some(table.row_number(row_index)),
            column: Some(table.column_letter(col)),
            header: (!header.is_empty()).then(|| header.to_string()),
            value: None,
            kind,
        }
    }

    /// A problem with a data cell.
    pub fn cell(
        row: usize,
        column: String,
        header: &str,
        value: &str,
        kind: ProblemKind,
    ) -> Problem {
        Problem {
            severity: severity_of(&kind),
            row: Some(row),
            column: Some(column),
            header: (!header.is_empty()).then(|| header.to_string()),
            value: (!value.is_empty()).then(|| shorten(value)),
            kind,
        }
    }

    /// Whether this problem stops the import.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// Where the problem is: `12行目 F列「IPアドレス」` / `row 12, column F (IPアドレス)`.
    pub fn location(&self, lang: Lang) -> String {
        let mut parts = Vec::new();
        if let Some(r) = self.row {
            parts.push(match lang {
                Lang::Ja => format!("{r}行目"),
                Lang::En => format!("row {r}"),
            });
        }
        if let Some(c) = &self.column {
            let header = self.header.as_deref().unwrap_or("");
            parts.push(match (lang, header.is_empty()) {
                (Lang::Ja, false) => format!("{c}列「{header}」"),
                (Lang::Ja, true) => format!("{c}列"),
                (Lang::En, false) => format!("column {c} ({header})"),
                (Lang::En, true) => format!("column {c}"),
            });
        }
        parts.join(lang.pick(" ", ", "))
    }

    /// The reason and what to do, without the location.
    pub fn reason(&self, lang: Lang) -> String {
        match (&self.kind, lang) {
            (ProblemKind::NoHeaderRow, Lang::Ja) => format!(
                "見出し行が見つかりません (先頭 {} 行を確認)。「管理番号」「機器名」などの見出しを 1 行に並べてください。独自の見出しは --mapping で対応付けできます",
                crate::columns::HEADER_SEARCH_ROWS
            ),
            (ProblemKind::NoHeaderRow, Lang::En) => format!(
                "no header row found in the first {} rows; put headers such as asset_id and name (管理番号, 機器名) in one row, or map your own headers with --mapping",
                crate::columns::HEADER_SEARCH_ROWS
            ),
            (ProblemKind::MissingColumn(f), Lang::Ja) => format!(
                "必須の列「{}」がありません。列を追加するか、--mapping で既存の列を対応付けてください", f.header(Lang::Ja)
            ),
            (ProblemKind::MissingColumn(f), Lang::En) => format!(
                "the required column \"{}\" ({}) is missing; add it or map an existing column with --mapping", f.header(Lang::En), f.header(Lang::Ja)
            ),
            (ProblemKind::BlankHeader, Lang::Ja) => "見出しが空欄の列にデータがあります (見出しのセル結合?)。セル結合を解除して各列に見出しを付けてください".into(),
            (ProblemKind::BlankHeader, Lang::En) => "this column has data but no header (merged header cells?); unmerge the header cells and give every column a header".into(),
            (ProblemKind::DuplicateHeader { first_column, field }, Lang::Ja) => format!(
                "「{}」を表す列が {first_column} 列と重複しています。どちらか一方を削除するか見出しを変えてください", field.header(Lang::Ja)
            ),
            (ProblemKind::DuplicateHeader { first_column, field }, Lang::En) => format!(
                "column {first_column} already holds \"{}\"; delete one of the two or rename its header", field.header(Lang::En)
            ),
            (ProblemKind::DuplicateCustomHeader { first_column }, Lang::Ja) => format!("同じ見出しが {first_column} 列にもあります。見出しを変えてください"),
            (ProblemKind::DuplicateCustomHeader { first_column }, Lang::En) => format!("the same header is also in column {first_column}; rename one of them"),
            (ProblemKind::UnknownHeader, Lang::Ja) => "台帳の列として認識できない見出しです。独自項目として保存します (対応付けるなら --mapping)".into(),
            (ProblemKind::UnknownHeader, Lang::En) => "unknown header; the column is kept as a custom attribute (map it with --mapping)".into(),
            (ProblemKind::Required(f), Lang::Ja) => format!("「{}」は必須です", f.header(Lang::Ja)),
            (ProblemKind::Required(f), Lang::En) => format!("{} is required", f.header(Lang::En)),
            (ProblemKind::Value(e), lang) => e.message(lang),
            (ProblemKind::DuplicateAssetId { first_row }, Lang::Ja) => format!("管理番号が {first_row} 行目と重複しています"),
            (ProblemKind::DuplicateAssetId { first_row }, Lang::En) => format!("asset_id already used in row {first_row}"),
            (ProblemKind::FormulaWithoutValue, Lang::Ja) => "計算結果のない数式セルです。Excel で開いて保存し直すか、値として貼り付けてください".into(),
            (ProblemKind::FormulaWithoutValue, Lang::En) => "formula cell without a calculated value; open and save the file in Excel, or paste the values".into(),
            (ProblemKind::CellError, Lang::Ja) => "セルがエラー値です。元の式を直してください".into(),
            (ProblemKind::CellError, Lang::En) => "the cell holds an Excel error value; fix the formula".into(),
            (ProblemKind::FormulasRead(n), Lang::Ja) => format!("数式セル {n} 個は計算結果の値を取り込みました"),
            (ProblemKind::FormulasRead(n), Lang::En) => format!("{n} formula cells were imported as their calculated values"),
        }
    }

    /// The whole message: location, value and reason.
    pub fn message(&self, lang: Lang) -> String {
        let loc = self.location(lang);
        let value = match (&self.value, lang) {
            (Some(v), Lang::Ja) => format!(" 値「{v}」"),
            (Some(v), Lang::En) => format!(" value \"{v}\""),
            (None, _) => String::new(),
        };
        if loc.is_empty() {
            self.reason(lang)
        } else {
            format!("{loc}{value}: {}", self.reason(lang))
        }
    }
}

fn severity_of(kind: &ProblemKind) -> Severity {
    match kind {
        ProblemKind::UnknownHeader | ProblemKind::FormulasRead(_) => Severity::Warning,
        _ => Severity::Error,
    }
}
