//! Reading a spreadsheet or delimited text file into a grid of cells.

use std::borrow::Cow;
use std::io::{Cursor, Read};

use calamine::{Data, Reader};
use chrono::NaiveDateTime;
use mamori_core::Lang;

/// The largest file we read (a ledger of 100,000 devices is far smaller).
pub const MAX_FILE_BYTES: usize = 100 * 1024 * 1024;

/// The most rows a sheet may reach (a row number past it is refused, naming the cell):
/// room for a ledger of 100,000 devices with title rows and gaps.
pub const MAX_ROWS: usize = 200_000;

/// The most columns a sheet may reach (column `AMJ`); a ledger has about forty.
pub const MAX_COLUMNS: usize = 1_024;

/// The most cells that hold something, in one sheet or text file.
pub const MAX_CELLS: usize = 4_000_000;

/// The most one part of a workbook may unpack to, other than the sheets (shared strings,
/// styles, the workbook itself): what an honest ledger needs, many times over.
pub const MAX_PART_BYTES: u64 = 64 * 1024 * 1024;

/// The most one sheet of a workbook may unpack to (sheets are read as a stream).
pub const MAX_SHEET_BYTES: u64 = 1024 * 1024 * 1024;

/// One cell as found in the file.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Nothing in the cell.
    Empty,
    /// Text (all cells of a CSV file are text).
    Text(String),
    /// A number cell.
    Number(f64),
    /// A date or date-time cell.
    Date(NaiveDateTime),
    /// A TRUE/FALSE cell.
    Bool(bool),
    /// An error value such as `#REF!`.
    Error(String),
}

impl Cell {
    /// Whether the cell holds nothing but white space.
    pub fn is_blank(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(t) => t.trim().is_empty(),
            _ => false,
        }
    }

    /// The cell as text: numbers without a trailing `.0`, dates as `YYYY-MM-DD`
    /// (with the time when it is not midnight).
    pub fn text(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(t) => t.trim().to_string(),
            Cell::Number(n) => {
                if n.fract() == 0.0 && n.abs() < 1e15 {
                    format!("{}", *n as i64)
                } else {
                    format!("{n}")
                }
            }
            Cell::Date(d) => {
                if d.time() == chrono::NaiveTime::MIN {
                    d.date().format("%Y-%m-%d").to_string()
                } else {
                    d.format("%Y-%m-%d %H:%M:%S").to_string()
                }
            }
            Cell::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
            Cell::Error(e) => e.clone(),
        }
    }
}

/// A grid read from one sheet or text file. `rows[i][j]` is at spreadsheet row
/// `first_row + i + 1` and column `first_col + j + 1` (both 1-based for people).
#[derive(Debug, Clone, Default)]
pub struct Table {
    /// The sheet read (workbooks only).
    pub sheet: Option<String>,
    /// What the file was read as, e.g. `xlsx`, `csv (CP932)`.
    pub format: String,
    /// Row offset of `rows[0]` (0-based).
    pub first_row: usize,
    /// Column offset of every row's first cell (0-based).
    pub first_col: usize,
    /// The cells.
    pub rows: Vec<Vec<Cell>>,
    /// Formula cells whose computed value was read.
    pub formula_cells: usize,
    /// Formula cells that have no computed value, by 1-based (row, column).
    pub formulas_without_value: Vec<(usize, usize)>,
}

impl Table {
    /// The 1-based row number people see for `rows[index]`.
    pub fn row_number(&self, index: usize) -> usize {
        self.first_row + index + 1
    }

    /// The column letter people see for cell `index` of a row (A, B, …, AA).
    pub fn column_letter(&self, index: usize) -> String {
        column_letter(self.first_col + index)
    }
}

/// The spreadsheet letter of a 0-based column index.
pub fn column_letter(mut index: usize) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'A' + (index % 26) as u8);
        if index < 26 {
            break;
        }
        index = index / 26 - 1;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// Why a file could not be read at all. Row-level problems are [`crate::Problem`]s.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TableError {
    /// The file is larger than [`MAX_FILE_BYTES`].
    #[error("file too large: {0} bytes")]
    TooLarge(usize),
    /// The file is empty.
    #[error("file is empty")]
    Empty,
    /// A PDF file (often renamed by mistake).
    #[error("file is a PDF")]
    Pdf,
    /// An encrypted (password-protected) Office file.
    #[error("workbook is password-protected")]
    Encrypted,
    /// The extension says spreadsheet but the bytes are not one we read.
    #[error("not a spreadsheet")]
    NotSpreadsheet,
    /// The workbook is damaged or truncated; the detail comes from the reader.
    #[error("damaged workbook: {0}")]
    Corrupt(String),
    /// The requested sheet does not exist.
    #[error("no sheet named {wanted}")]
    NoSuchSheet {
        /// The sheet asked for.
        wanted: String,
        /// The sheets the workbook has.
        available: Vec<String>,
    },
    /// The workbook has no sheet.
    #[error("workbook has no sheets")]
    NoSheets,
    /// Text that is neither UTF-8, UTF-16 nor CP932; `line` is where decoding failed.
    #[error("unknown text encoding near line {line}")]
    Encoding {
        /// 1-based line of the first undecodable byte.
        line: usize,
    },
    /// A CSV syntax problem (such as an unterminated quote).
    #[error("CSV syntax error at line {line}: {detail}")]
    Csv {
        /// 1-based line.
        line: usize,
        /// The parser's message.
        detail: String,
    },
    /// The file's name does not say what it is.
    #[error("unsupported file type: {0}")]
    UnsupportedExtension(String),
    /// A cell lies past [`MAX_ROWS`] or [`MAX_COLUMNS`].
    #[error("cell {cell} is outside the {MAX_ROWS} rows and {MAX_COLUMNS} columns read")]
    OutsideSheetLimits {
        /// The cell, e.g. `XFD1048576`.
        cell: String,
    },
    /// More than [`MAX_CELLS`] cells hold something.
    #[error("more than {MAX_CELLS} cells hold a value")]
    TooManyCells,
    /// A part of the workbook unpacks to more than its limit (a damaged or hostile file).
    #[error("workbook part {part} unpacks to more than {limit} bytes")]
    PartTooLarge {
        /// The part inside the workbook, e.g. `xl/sharedStrings.xml`.
        part: String,
        /// The limit in bytes.
        limit: u64,
    },
}

impl TableError {
    /// A message for the user saying what is wrong and what to do.
    pub fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (TableError::TooLarge(n), Lang::Ja) => format!(
                "ファイルが大きすぎます ({n} バイト、上限 {MAX_FILE_BYTES} バイト)。不要なシートや行を削除してください"
            ),
            (TableError::TooLarge(n), Lang::En) => format!(
                "the file is too large ({n} bytes, at most {MAX_FILE_BYTES}); remove unneeded sheets or rows"
            ),
            (TableError::Empty, Lang::Ja) => "ファイルが空です".into(),
            (TableError::Empty, Lang::En) => "the file is empty".into(),
            (TableError::Pdf, Lang::Ja) => "このファイルは PDF です。Excel (.xlsx) か CSV で保存した台帳を指定してください".into(),
            (TableError::Pdf, Lang::En) => "this file is a PDF; give the ledger saved as Excel (.xlsx) or CSV".into(),
            (TableError::Encrypted, Lang::Ja) => "パスワード付き (暗号化) のブックは読めません。Excel でパスワードを解除して保存し直してください".into(),
            (TableError::Encrypted, Lang::En) => "the workbook is password-protected (encrypted); remove the password in Excel and save it again".into(),
            (TableError::NotSpreadsheet, Lang::Ja) => "Excel ブックとして読めません。Excel で開いて .xlsx 形式で保存し直すか、CSV を指定してください".into(),
            (TableError::NotSpreadsheet, Lang::En) => "this is not an Excel workbook; open it in Excel and save as .xlsx, or give a CSV file".into(),
            (TableError::Corrupt(d), Lang::Ja) => format!("ブックが壊れているか途中で切れています ({d})。元のファイルをコピーし直してください"),
            (TableError::Corrupt(d), Lang::En) => format!("the workbook is damaged or truncated ({d}); copy the original file again"),
            (TableError::NoSuchSheet { wanted, available }, Lang::Ja) => format!(
                "シート「{wanted}」がありません。あるシート: {}", available.join(", ")
            ),
            (TableError::NoSuchSheet { wanted, available }, Lang::En) => format!(
                "there is no sheet named \"{wanted}\"; the sheets are: {}", available.join(", ")
            ),
            (TableError::NoSheets, Lang::Ja) => "ブックにシートがありません".into(),
            (TableError::NoSheets, Lang::En) => "the workbook has no sheets".into(),
            (TableError::Encoding { line }, Lang::Ja) => format!(
                "文字コードを判別できません ({line} 行目付近)。UTF-8 か Shift_JIS (CP932) の CSV で保存し直してください"
            ),
            (TableError::Encoding { line }, Lang::En) => format!(
                "unknown text encoding (near line {line}); save the CSV as UTF-8 or Shift_JIS (CP932)"
            ),
            (TableError::Csv { line, detail }, Lang::Ja) => format!("CSV の {line} 行目が読めません ({detail})。引用符 \" の対応を確認してください"),
            (TableError::Csv { line, detail }, Lang::En) => format!("CSV line {line} cannot be read ({detail}); check the quote characters"),
            (TableError::UnsupportedExtension(ext), Lang::Ja) => format!(
                "拡張子「{ext}」のファイルは読めません。.xlsx / .xls / .ods / .csv / .tsv を指定してください"
            ),
            (TableError::UnsupportedExtension(ext), Lang::En) => format!(
                "files ending in \"{ext}\" are not supported; use .xlsx, .xls, .ods, .csv or .tsv"
            ),
            (TableError::OutsideSheetLimits { cell }, Lang::Ja) => format!(
                "セル {cell} に値があります。読み込めるのは {MAX_ROWS} 行・{MAX_COLUMNS} 列 ({}) までです。台帳の外にある値を削除して保存し直してください",
                column_letter(MAX_COLUMNS - 1)
            ),
            (TableError::OutsideSheetLimits { cell }, Lang::En) => format!(
                "cell {cell} holds a value, but mamori reads at most {MAX_ROWS} rows and {MAX_COLUMNS} columns (to {}); delete what lies outside the ledger and save again",
                column_letter(MAX_COLUMNS - 1)
            ),
            (TableError::TooManyCells, Lang::Ja) => format!(
                "値のあるセルが {MAX_CELLS} を超えています。台帳以外のシートや列を削除するか、ファイルを分けてください"
            ),
            (TableError::TooManyCells, Lang::En) => format!(
                "more than {MAX_CELLS} cells hold a value; remove sheets or columns that are not the ledger, or split the file"
            ),
            (TableError::PartTooLarge { part, limit }, Lang::Ja) => format!(
                "ブック内の {part} を展開すると {} MiB を超えます。壊れているか不正なファイルです。Excel で開いて保存し直してください",
                limit / (1024 * 1024)
            ),
            (TableError::PartTooLarge { part, limit }, Lang::En) => format!(
                "the workbook's part {part} unpacks to more than {} MiB: the file is damaged or hostile; open it in Excel and save it again",
                limit / (1024 * 1024)
            ),
        }
    }
}

const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
const CFB_MAGIC: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

/// Reads `bytes` as the kind of file `file_name` says (by extension, checked against the
/// content). `sheet` picks a workbook sheet by name; the first sheet is the default.
pub fn read_table(file_name: &str, bytes: &[u8], sheet: Option<&str>) -> Result<Table, TableError> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(TableError::TooLarge(bytes.len()));
    }
    if bytes.is_empty() {
        return Err(TableError::Empty);
    }
    if bytes.starts_with(b"%PDF") {
        return Err(TableError::Pdf);
    }
    let ext = file_name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "xlsx" | "xlsm" | "xls" | "ods" => read_workbook(bytes, sheet),
        "csv" | "txt" => read_delimited(bytes, None),
        "tsv" | "tab" => read_delimited(bytes, Some(b'\t')),
        _ if bytes.starts_with(ZIP_MAGIC) || bytes.starts_with(CFB_MAGIC) => {
            read_workbook(bytes, sheet)
        }
        other => Err(TableError::UnsupportedExtension(if other.is_empty() {
            file_name.to_string()
        } else {
            format!(".{other}")
        })),
    }
}

fn is_encrypted_cfb(bytes: &[u8]) -> bool {
    // An encrypted OOXML file is a CFB container with an "EncryptedPackage" stream; the
    // directory stores stream names in UTF-16LE.
    let needle: Vec<u8> = "EncryptedPackage"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    bytes.windows(needle.len()).any(|w| w == needle.as_slice())
}

fn read_workbook(bytes: &[u8], sheet: Option<&str>) -> Result<Table, TableError> {
    // calamine is a third-party parser of hostile input: our fuzzer found arithmetic
    // overflows in it (a cell reference with an over-long column, calamine 0.38
    // `get_row_and_optional_column`). Contain any panic as a damaged-workbook error.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        read_workbook_inner(bytes, sheet)
    }))
    .unwrap_or_else(|payload| {
        let detail = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "reader failed".into());
        Err(TableError::Corrupt(detail))
    })
}

fn read_workbook_inner(bytes: &[u8], sheet: Option<&str>) -> Result<Table, TableError> {
    if bytes.starts_with(CFB_MAGIC) && is_encrypted_cfb(bytes) {
        return Err(TableError::Encrypted);
    }
    if !bytes.starts_with(ZIP_MAGIC) && !bytes.starts_with(CFB_MAGIC) {
        return Err(TableError::NotSpreadsheet);
    }
    if bytes.starts_with(CFB_MAGIC) {
        return read_with_calamine(bytes, sheet, "xls");
    }
    // A zip: every part is unpacked once, as a stream, against its limit before a reader
    // keeps anything of it (the sizes a zip declares may lie).
    let is_xlsx = check_zip_parts(bytes)?;
    if is_xlsx {
        read_xlsx(bytes, sheet)
    } else {
        read_with_calamine(bytes, sheet, "ods")
    }
}

/// Unpacks every part of a zip as a stream, refusing one past its limit; says whether the
/// zip is an Office Open XML workbook (it has `xl/workbook.xml`).
fn check_zip_parts(bytes: &[u8]) -> Result<bool, TableError> {
    let mut zip =
        zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| TableError::Corrupt(e.to_string()))?;
    let mut is_xlsx = false;
    let mut total: u64 = 0;
    for i in 0..zip.len() {
        let mut part = zip
            .by_index(i)
            .map_err(|e| TableError::Corrupt(e.to_string()))?;
        let name = String::from_utf8_lossy(part.name_raw()).into_owned();
        is_xlsx |= name == "xl/workbook.xml";
        let limit = if name.starts_with("xl/worksheets/") || name == "content.xml" {
            MAX_SHEET_BYTES
        } else {
            MAX_PART_BYTES
        };
        let too_large = || TableError::PartTooLarge {
            part: name.clone(),
            limit,
        };
        if part.size() > limit {
            return Err(too_large());
        }
        let read = std::io::copy(&mut (&mut part).take(limit + 1), &mut std::io::sink())
            .map_err(|e| TableError::Corrupt(format!("{name}: {e}")))?;
        if read > limit {
            return Err(too_large());
        }
        total += read;
        if total > 2 * MAX_SHEET_BYTES {
            return Err(TableError::PartTooLarge {
                part: name,
                limit: 2 * MAX_SHEET_BYTES,
            });
        }
    }
    Ok(is_xlsx)
}

/// The sheet a workbook is read from: the one named, else the first.
fn pick_sheet(names: Vec<String>, sheet: Option<&str>) -> Result<String, TableError> {
    match sheet {
        Some(wanted) => names
            .iter()
            .find(|n| n.as_str() == wanted || n.trim() == wanted.trim())
            .cloned()
            .ok_or_else(|| TableError::NoSuchSheet {
                wanted: wanted.to_string(),
                available: names.clone(),
            }),
        None => names.first().cloned().ok_or(TableError::NoSheets),
    }
}

/// Cells gathered one at a time into rows, within the limits, with the formula cells noted.
#[derive(Default)]
struct Grid {
    rows: Vec<Vec<Cell>>,
    cells: usize,
    first_col: Option<usize>,
    /// 0-based (row, column) of formula cells.
    formulas: Vec<(usize, usize)>,
}

impl Grid {
    /// Places a cell at a 0-based position; empty cells are not kept.
    fn put(&mut self, row: usize, col: usize, cell: Cell) -> Result<(), TableError> {
        if row >= MAX_ROWS || col >= MAX_COLUMNS {
            return Err(TableError::OutsideSheetLimits {
                cell: format!("{}{}", column_letter(col), row + 1),
            });
        }
        if cell == Cell::Empty {
            return Ok(());
        }
        self.cells += 1;
        if self.cells > MAX_CELLS {
            return Err(TableError::TooManyCells);
        }
        if self.rows.len() <= row {
            self.rows.resize_with(row + 1, Vec::new);
        }
        let r = &mut self.rows[row];
        if r.len() <= col {
            r.resize(col + 1, Cell::Empty);
        }
        r[col] = cell;
        self.first_col = Some(self.first_col.map_or(col, |c| c.min(col)));
        Ok(())
    }

    /// The table, starting at the first row and column that hold something.
    fn into_table(mut self, sheet: String, format: &str) -> Table {
        let first_row = self.rows.iter().position(|r| !r.is_empty()).unwrap_or(0);
        let first_col = self.first_col.unwrap_or(0);
        self.rows.drain(..first_row);
        for r in &mut self.rows {
            r.drain(..first_col.min(r.len()));
        }
        let mut table = Table {
            sheet: Some(sheet),
            format: format.to_string(),
            first_row,
            first_col,
            rows: self.rows,
            ..Table::default()
        };
        // Formulas: their cached results are what Excel shows; a formula written by a tool
        // that never calculated it has no result, and we must not silently read it as blank.
        for (r, c) in self.formulas {
            let value = r
                .checked_sub(first_row)
                .and_then(|ri| table.rows.get(ri))
                .and_then(|row| c.checked_sub(first_col).and_then(|ci| row.get(ci)));
            match value {
                Some(v) if !v.is_blank() => table.formula_cells += 1,
                _ => table.formulas_without_value.push((r + 1, c + 1)),
            }
        }
        table
    }
}

/// An .xlsx sheet read as a stream of cells: memory follows the cells that hold something,
/// never the area they span.
fn read_xlsx(bytes: &[u8], sheet: Option<&str>) -> Result<Table, TableError> {
    let corrupt = |e: calamine::XlsxError| TableError::Corrupt(e.to_string());
    let mut book: calamine::Xlsx<_> = calamine::Xlsx::new(Cursor::new(bytes)).map_err(corrupt)?;
    let name = pick_sheet(book.sheet_names(), sheet)?;
    let mut reader = book.worksheet_cells_reader(&name).map_err(corrupt)?;
    let mut grid = Grid::default();
    while let Some(record) = reader.next_cell_with_formula_metadata().map_err(corrupt)? {
        let (row, col) = (record.pos.0 as usize, record.pos.1 as usize);
        if record.formula.is_some() {
            if row >= MAX_ROWS || col >= MAX_COLUMNS {
                return Err(TableError::OutsideSheetLimits {
                    cell: format!("{}{}", column_letter(col), row + 1),
                });
            }
            if grid.formulas.len() >= MAX_CELLS {
                return Err(TableError::TooManyCells);
            }
            grid.formulas.push((row, col));
        }
        grid.put(row, col, convert(&Data::from(record.value)))?;
    }
    drop(reader);
    Ok(grid.into_table(name, "xlsx"))
}

/// .xls and .ods through calamine's whole-sheet ranges.
fn read_with_calamine(
    bytes: &[u8],
    sheet: Option<&str>,
    format: &str,
) -> Result<Table, TableError> {
    let mut book = calamine::open_workbook_auto_from_rs(Cursor::new(bytes))
        .map_err(|e| TableError::Corrupt(e.to_string()))?;
    let name = pick_sheet(book.sheet_names(), sheet)?;
    let range = book
        .worksheet_range(&name)
        .map_err(|e| TableError::Corrupt(e.to_string()))?;
    // Positions in a range are relative to its first cell.
    let origin =
        |start: Option<(u32, u32)>| start.map_or((0, 0), |(r, c)| (r as usize, c as usize));
    let mut grid = Grid::default();
    let (r0, c0) = origin(range.start());
    for (row, col, data) in range.used_cells() {
        grid.put(r0 + row, c0 + col, convert(data))?;
    }
    drop(range);
    if let Ok(formulas) = book.worksheet_formula(&name) {
        let (r0, c0) = origin(formulas.start());
        for (row, col, f) in formulas.used_cells() {
            if !f.is_empty() && grid.formulas.len() < MAX_CELLS {
                grid.formulas.push((r0 + row, c0 + col));
            }
        }
    }
    Ok(grid.into_table(name, format))
}

fn convert(data: &Data) -> Cell {
    match data {
        Data::Empty => Cell::Empty,
        Data::String(s) => Cell::Text(s.clone()),
        Data::Int(i) => Cell::Number(*i as f64),
        Data::Float(f) => Cell::Number(*f),
        Data::Bool(b) => Cell::Bool(*b),
        Data::DateTime(dt) => match dt.as_datetime() {
            Some(d) if dt.is_datetime() => Cell::Date(d),
            _ => Cell::Number(dt.as_f64()),
        },
        Data::DateTimeIso(s) => chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S")
            .or_else(|_| {
                chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                    .map(|d| d.and_time(chrono::NaiveTime::MIN))
            })
            .map(Cell::Date)
            .unwrap_or_else(|_| Cell::Text(s.clone())),
        Data::DurationIso(s) => Cell::Text(s.clone()),
        Data::Error(e) => Cell::Error(format!("{e}")),
    }
}

/// Decodes text: UTF-8 (BOM optional), UTF-16 with a BOM (Excel's "Unicode text"), else
/// CP932 (Shift_JIS with the Microsoft extensions that Japanese Excel writes).
/// UTF-8 is borrowed, not copied.
pub fn decode_text(bytes: &[u8]) -> Result<(Cow<'_, str>, &'static str), TableError> {
    if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return std::str::from_utf8(rest)
            .map(|s| (Cow::Borrowed(s), "UTF-8 BOM"))
            .map_err(|e| TableError::Encoding {
                line: line_of(rest, e.valid_up_to()),
            });
    }
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        let enc = if bytes[0] == 0xFF {
            encoding_rs::UTF_16LE
        } else {
            encoding_rs::UTF_16BE
        };
        let (text, _, bad) = enc.decode(bytes);
        if bad {
            return Err(TableError::Encoding { line: 1 });
        }
        return Ok((Cow::Owned(text.into_owned()), "UTF-16"));
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok((Cow::Borrowed(s), "UTF-8")),
        Err(utf8_err) => {
            let (text, _, bad) = encoding_rs::SHIFT_JIS.decode(bytes);
            if bad {
                // Report where decoding as CP932 first fails.
                let mut decoder = encoding_rs::SHIFT_JIS.new_decoder_without_bom_handling();
                let mut out = String::with_capacity(bytes.len() * 2);
                let (_, read) = decoder.decode_to_string_without_replacement(bytes, &mut out, true);
                let at = read.max(utf8_err.valid_up_to());
                Err(TableError::Encoding {
                    line: line_of(bytes, at.min(bytes.len())),
                })
            } else {
                Ok((Cow::Owned(text.into_owned()), "CP932"))
            }
        }
    }
}

fn line_of(bytes: &[u8], offset: usize) -> usize {
    bytes[..offset.min(bytes.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

fn read_delimited(bytes: &[u8], delimiter: Option<u8>) -> Result<Table, TableError> {
    let (text, encoding) = decode_text(bytes)?;
    let delimiter = delimiter.unwrap_or_else(|| sniff_delimiter(&text));
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    let (mut line, mut counted, mut cells) = (1usize, 0usize, 0usize);
    for record in reader.records() {
        let record = record.map_err(|e| TableError::Csv {
            line: e.position().map(|p| p.line() as usize).unwrap_or(0),
            detail: match e.kind() {
                csv::ErrorKind::Utf8 { .. } => "invalid UTF-8".into(),
                _ => e.to_string(),
            },
        })?;
        // Keep people's line numbers: blank lines are skipped by the parser and a quoted
        // cell with new lines spans lines, so pad with empty rows up to the record's
        // first line (counted from its byte offset; the parser's own line count skips
        // blank lines).
        let mut byte = record.position().map(|p| p.byte() as usize).unwrap_or(0);
        while matches!(text.as_bytes().get(byte), Some(b'\r' | b'\n')) {
            byte += 1;
        }
        line += bytecount_newlines(&text.as_bytes()[counted..byte.min(text.len())]);
        counted = byte.min(text.len());
        while rows.len() + 1 < line {
            rows.push(Vec::new());
        }
        let beyond = |col: usize| TableError::OutsideSheetLimits {
            cell: format!("{}{line}", column_letter(col)),
        };
        if line > MAX_ROWS {
            return Err(beyond(0));
        }
        if record.len() > MAX_COLUMNS {
            return Err(beyond(MAX_COLUMNS));
        }
        cells += record.len();
        if cells > MAX_CELLS {
            return Err(TableError::TooManyCells);
        }
        rows.push(record.iter().map(|s| Cell::Text(s.to_string())).collect());
    }
    let name = if delimiter == b'\t' { "tsv" } else { "csv" };
    Ok(Table {
        format: format!("{name} ({encoding})"),
        rows,
        ..Table::default()
    })
}

fn bytecount_newlines(bytes: &[u8]) -> usize {
    bytes.iter().filter(|b| **b == b'\n').count()
}

fn sniff_delimiter(text: &str) -> u8 {
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let tabs = first.matches('\t').count();
    let commas = first.matches(',').count();
    if tabs > commas {
        b'\t'
    } else {
        b','
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_letters() {
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(column_letter(701), "ZZ");
        assert_eq!(column_letter(702), "AAA");
    }

    #[test]
    fn decodes_utf8_bom_utf16_and_cp932() {
        let (t, e) = decode_text("\u{feff}管理番号,機器名".as_bytes()).unwrap();
        assert_eq!((t.as_ref(), e), ("管理番号,機器名", "UTF-8 BOM"));
        let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode("管理番号,機器名\n①,髙橋");
        let (t, e) = decode_text(&sjis).unwrap();
        assert_eq!((t.as_ref(), e), ("管理番号,機器名\n①,髙橋", "CP932"));
        let mut utf16 = vec![0xFF, 0xFE];
        utf16.extend("管理番号\t機器名".encode_utf16().flat_map(u16::to_le_bytes));
        assert_eq!(decode_text(&utf16).unwrap().0, "管理番号\t機器名");
    }

    #[test]
    fn undecodable_text_names_the_line() {
        let mut bytes = b"a,b\nc,d\n".to_vec();
        bytes.extend([0x82, 0xFF, 0xFF]);
        assert_eq!(decode_text(&bytes), Err(TableError::Encoding { line: 3 }));
    }

    #[test]
    fn sniffing_and_rejections() {
        let t = read_table("x.csv", "a\tb\n1\t2\n".as_bytes(), None).unwrap();
        assert_eq!(
            t.rows[1],
            vec![Cell::Text("1".into()), Cell::Text("2".into())]
        );
        assert_eq!(
            read_table("x.xlsx", b"%PDF-1.7 ...", None).unwrap_err(),
            TableError::Pdf
        );
        assert_eq!(
            read_table("x.xlsx", b"hello", None).unwrap_err(),
            TableError::NotSpreadsheet
        );
        assert_eq!(
            read_table("x.csv", b"", None).unwrap_err(),
            TableError::Empty
        );
        assert!(matches!(
            read_table("x.docx", b"hello", None).unwrap_err(),
            TableError::UnsupportedExtension(_)
        ));
        assert!(matches!(
            read_table("x.xlsx", b"PK\x03\x04truncated", None).unwrap_err(),
            TableError::Corrupt(_)
        ));
    }

    #[test]
    fn csv_multiline_cells_and_blank_lines_keep_line_numbers() {
        let t = read_table("x.csv", b"h1,h2\n\"a\nb\",c\nd,e\n", None).unwrap();
        assert_eq!(t.rows.len(), 4);
        assert_eq!(t.rows[3][0], Cell::Text("d".into()));
        let t = read_table("x.csv", b"t,,\n\nh1,h2\r\n\r\na,b\n", None).unwrap();
        assert_eq!(t.rows.len(), 5);
        assert_eq!(t.rows[2][0], Cell::Text("h1".into()));
        assert_eq!(t.rows[4][0], Cell::Text("a".into()));
    }
}
