//! Writing the ledger as an Excel workbook or CSV file, in the column layout that
//! [`crate::parse_ledger`] reads back to the same values.

use std::collections::BTreeSet;

use mamori_core::value::yes_no_label;
use mamori_core::{Asset, Labelled, Lang};
use rust_xlsxwriter::{Color, Format, FormatBorder, Workbook, XlsxError};

use crate::columns::Field;

/// The text encoding of a CSV export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CsvEncoding {
    /// UTF-8 with a byte-order mark, which Excel needs to open it correctly.
    Utf8Bom,
    /// CP932 (Shift_JIS), for older Japanese tools.
    Cp932,
}

/// Why an export could not be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExportError {
    /// The workbook writer failed.
    #[error("xlsx writer: {0}")]
    Xlsx(String),
    /// A character that CP932 cannot represent.
    #[error("{asset_id} {column}: {character:?} cannot be written in CP932")]
    Unmappable {
        /// The device.
        asset_id: String,
        /// The column header.
        column: String,
        /// The character.
        character: char,
    },
}

impl ExportError {
    /// A message for the user.
    pub fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (ExportError::Xlsx(d), Lang::Ja) => format!("Excel ファイルを書き出せません: {d}"),
            (ExportError::Xlsx(d), Lang::En) => format!("cannot write the Excel file: {d}"),
            (ExportError::Unmappable { asset_id, column, character }, Lang::Ja) => format!(
                "管理番号 {asset_id} の「{column}」にある文字「{character}」は CP932 (Shift_JIS) で表せません。--encoding utf8 で書き出すか、文字を置き換えてください"
            ),
            (ExportError::Unmappable { asset_id, column, character }, Lang::En) => format!(
                "the character '{character}' in {column} of {asset_id} cannot be written in CP932 (Shift_JIS); export with --encoding utf8 or replace the character"
            ),
        }
    }
}

impl From<XlsxError> for ExportError {
    fn from(e: XlsxError) -> Self {
        ExportError::Xlsx(e.to_string())
    }
}

/// The columns of an export: every canonical column, then each custom attribute found.
#[derive(Debug, Clone)]
pub enum Column {
    /// A canonical column.
    Field(Field),
    /// A custom attribute by its header.
    Custom(String),
}

impl Column {
    /// The header text.
    pub fn header(&self, lang: Lang) -> &str {
        match self {
            Column::Field(f) => f.header(lang),
            Column::Custom(h) => h,
        }
    }
}

/// The export columns for a set of devices.
pub fn columns_for(assets: &[Asset]) -> Vec<Column> {
    let custom: BTreeSet<&String> = assets.iter().flat_map(|a| a.custom.keys()).collect();
    Field::all()
        .map(Column::Field)
        .chain(custom.into_iter().map(|h| Column::Custom(h.clone())))
        .collect()
}

fn join<T: ToString>(items: &[T]) -> String {
    items
        .iter()
        .map(T::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

fn label<T: Labelled>(v: Option<T>, lang: Lang) -> String {
    v.map(|v| v.label(lang).to_string()).unwrap_or_default()
}

/// The text of one cell as exported (dates as `YYYY-MM-DD`).
pub fn cell_text(asset: &Asset, column: &Column, lang: Lang) -> String {
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    let yn = |v: Option<bool>| {
        v.map(|b| yes_no_label(b, lang).to_string())
            .unwrap_or_default()
    };
    let date = |d: Option<chrono::NaiveDate>| {
        d.map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_default()
    };
    let field = match column {
        Column::Custom(h) => return asset.custom.get(h).cloned().unwrap_or_default(),
        Column::Field(f) => *f,
    };
    match field {
        Field::AssetId => asset.asset_id.clone(),
        Field::Kind => asset.kind.label(lang).to_string(),
        Field::Name => asset.name.clone(),
        Field::Purpose => opt(&asset.purpose),
        Field::Department => opt(&asset.department),
        Field::Location => opt(&asset.location),
        Field::Owner => opt(&asset.owner),
        Field::Manufacturer => opt(&asset.manufacturer),
        Field::Model => opt(&asset.model),
        Field::Os => opt(&asset.os),
        Field::OsVersion => opt(&asset.os_version),
        Field::Software => join(&asset.software),
        Field::Cpe => join(&asset.cpe),
        Field::Hostname => join(&asset.hostname),
        Field::Ip => join(&asset.ip),
        Field::Mac => join(&asset.mac),
        Field::Status => asset.status.label(lang).to_string(),
        Field::Vendor => opt(&asset.vendor),
        Field::VendorContact => opt(&asset.vendor_contact),
        Field::RemoteMaintenance => yn(asset.remote_maintenance),
        Field::ExternalAccess => yn(asset.external_access),
        Field::EosDate => date(asset.eos_date),
        Field::Schedule => opt(&asset.schedule),
        Field::Criticality => label(asset.criticality, lang),
        Field::PatientData => yn(asset.patient_data),
        Field::ScanExclude => yn(asset.scan_exclude),
        Field::BootPassword => label(asset.boot_password, lang),
        Field::DefaultPasswordChanged => label(asset.default_password_changed, lang),
        Field::MdsSds => label(asset.mds_sds, lang),
        Field::Sbom => label(asset.sbom, lang),
        Field::LastStocktake => date(asset.last_stocktake),
        Field::Notes => opt(&asset.notes),
    }
}

/// Display width for column sizing: East Asian wide characters count twice.
fn display_width(text: &str) -> usize {
    text.lines()
        .map(|l| {
            l.chars()
                .map(|c| if (c as u32) < 0x1100 { 1 } else { 2 })
                .sum()
        })
        .max()
        .unwrap_or(0)
}

/// Writes an `.xlsx` workbook: one sheet, headers in `lang`, the header row frozen and
/// filtered, columns sized to their content, dates as real date cells.
pub fn write_xlsx(assets: &[Asset], lang: Lang) -> Result<Vec<u8>, ExportError> {
    let columns = columns_for(assets);
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name(lang.pick("機器台帳", "Ledger"))?;
    let header_format = Format::new()
        .set_bold()
        .set_background_color(Color::RGB(0xDDEBF7))
        .set_border(FormatBorder::Thin);
    let date_format = Format::new().set_num_format("yyyy/mm/dd");
    let mut widths: Vec<usize> = Vec::with_capacity(columns.len());
    for (c, column) in columns.iter().enumerate() {
        let header = column.header(lang);
        sheet.write_string_with_format(0, c as u16, header, &header_format)?;
        widths.push(display_width(header) + 4);
    }
    for (r, asset) in assets.iter().enumerate() {
        let row = (r + 1) as u32;
        for (c, column) in columns.iter().enumerate() {
            let date = match column {
                Column::Field(Field::EosDate) => asset.eos_date,
                Column::Field(Field::LastStocktake) => asset.last_stocktake,
                _ => None,
            };
            if let Some(d) = date {
                sheet.write_datetime_with_format(row, c as u16, d, &date_format)?;
                widths[c] = widths[c].max(12);
                continue;
            }
            let text = cell_text(asset, column, lang);
            if !text.is_empty() {
                widths[c] = widths[c].max(display_width(&text) + 2);
                sheet.write_string(row, c as u16, &text)?;
            }
        }
    }
    for (c, w) in widths.iter().enumerate() {
        sheet.set_column_width(c as u16, (*w).clamp(8, 60) as f64)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    sheet.autofilter(
        0,
        0,
        assets.len() as u32,
        columns.len().saturating_sub(1) as u16,
    )?;
    Ok(book.save_to_buffer()?)
}

/// Characters that make a spreadsheet treat a CSV cell as a formula. Exported cells that
/// start with one get a leading `'` (as Excel itself does); import removes it again.
pub const FORMULA_TRIGGERS: [char; 4] = ['=', '+', '-', '@'];

/// Guards a cell against formula injection when the CSV is opened in a spreadsheet.
pub fn guard_formula(text: String) -> String {
    if text.starts_with(FORMULA_TRIGGERS) {
        format!("'{text}")
    } else {
        text
    }
}

/// Undoes [`guard_formula`].
pub fn unguard_formula(text: &str) -> &str {
    match text.strip_prefix('\'') {
        Some(rest) if rest.starts_with(FORMULA_TRIGGERS) => rest,
        _ => text,
    }
}

/// Writes a CSV file (CRLF line ends, as Excel writes them).
pub fn write_csv(
    assets: &[Asset],
    lang: Lang,
    encoding: CsvEncoding,
) -> Result<Vec<u8>, ExportError> {
    let columns = columns_for(assets);
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::with_capacity(assets.len() * 256));
    let record_err = |e: csv::Error| ExportError::Xlsx(e.to_string());
    writer
        .write_record(columns.iter().map(|c| c.header(lang)))
        .map_err(record_err)?;
    for asset in assets {
        let mut row = Vec::with_capacity(columns.len());
        for column in &columns {
            let text = guard_formula(cell_text(asset, column, lang));
            if encoding == CsvEncoding::Cp932 {
                check_cp932(&text).map_err(|character| ExportError::Unmappable {
                    asset_id: asset.asset_id.clone(),
                    column: column.header(lang).to_string(),
                    character,
                })?;
            }
            row.push(text);
        }
        writer.write_record(&row).map_err(record_err)?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| ExportError::Xlsx(e.to_string()))?;
    Ok(match encoding {
        CsvEncoding::Utf8Bom => {
            let mut out = Vec::with_capacity(bytes.len() + 3);
            out.extend_from_slice(&[0xEF, 0xBB, 0xBF]);
            out.extend_from_slice(&bytes);
            out
        }
        CsvEncoding::Cp932 => {
            let text = String::from_utf8(bytes).map_err(|e| ExportError::Xlsx(e.to_string()))?;
            encoding_rs::SHIFT_JIS.encode(&text).0.into_owned()
        }
    })
}

fn check_cp932(text: &str) -> Result<(), char> {
    if text.is_ascii() {
        return Ok(());
    }
    let (_, _, bad) = encoding_rs::SHIFT_JIS.encode(text);
    if !bad {
        return Ok(());
    }
    let mut buf = [0u8; 4];
    for c in text.chars() {
        let (_, _, bad) = encoding_rs::SHIFT_JIS.encode(c.encode_utf8(&mut buf));
        if bad {
            return Err(c);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_guard_round_trips() {
        for t in ["=1+1", "-", "+81-3-1234", "@SUM", "plain", "'quoted"] {
            assert_eq!(unguard_formula(&guard_formula(t.to_string())), t);
        }
    }

    #[test]
    fn cp932_rejects_unmappable_characters() {
        assert_eq!(check_cp932("髙橋①"), Ok(()));
        assert_eq!(check_cp932("ok 🏥"), Err('🏥'));
    }
}
