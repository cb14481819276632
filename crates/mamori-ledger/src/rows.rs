//! Validating the rows of a table into ledger records.

use std::collections::HashMap;

use mamori_core::value::{self, check_len, fold, split_list, split_software, ValueError};
use mamori_core::{
    Asset, AssetKind, AssetStatus, BootPassword, Criticality, DefaultPassword, DocStatus, Labelled,
    Lang, Software,
};

use crate::columns::{ColumnRole, Field, HeaderMap, Mapping};
use crate::problem::{Problem, ProblemKind};
use crate::table::{Cell, Table};
use crate::write::unguard_formula;

/// One valid row of the file.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// The 1-based spreadsheet row it came from.
    pub row: usize,
    /// The device it describes.
    pub asset: Asset,
}

/// A ledger file read and checked: the valid records and every problem found.
#[derive(Debug, Clone)]
pub struct LedgerFile {
    /// The header row and column roles, when one was found.
    pub header: Option<HeaderMap>,
    /// Valid rows, in file order.
    pub records: Vec<Record>,
    /// Rows with at least one error: their 1-based numbers.
    pub invalid_rows: Vec<usize>,
    /// Errors and warnings, in file order.
    pub problems: Vec<Problem>,
    /// Data rows that were completely blank (skipped silently).
    pub blank_rows: usize,
}

impl LedgerFile {
    /// Whether any problem is an error.
    pub fn has_errors(&self) -> bool {
        self.problems.iter().any(Problem::is_error)
    }

    /// Errors that concern the whole file (not a single row): these stop even
    /// `--skip-invalid`.
    pub fn file_errors(&self) -> impl Iterator<Item = &Problem> {
        let invalid = &self.invalid_rows;
        self.problems.iter().filter(move |p| {
            p.is_error() && p.row.is_none_or(|r| invalid.binary_search(&r).is_err())
        })
    }
}

/// Reads every data row under the header row into records, collecting problems.
pub fn parse_ledger(table: &Table, mapping: &Mapping) -> LedgerFile {
    let (header, mut problems) = match HeaderMap::detect(table, mapping) {
        Ok(found) => found,
        Err(errors) => {
            return LedgerFile {
                header: None,
                records: Vec::new(),
                invalid_rows: Vec::new(),
                problems: errors,
                blank_rows: 0,
            }
        }
    };
    let formula_gaps: HashMap<(usize, usize), ()> = table
        .formulas_without_value
        .iter()
        .map(|rc| (*rc, ()))
        .collect();
    let mut records = Vec::new();
    let mut invalid_rows = Vec::new();
    let mut blank_rows = 0;
    let mut first_seen: HashMap<String, usize> = HashMap::new();
    for (index, cells) in table.rows.iter().enumerate().skip(header.header_index + 1) {
        let row = table.row_number(index);
        let has_formula_gap = !formula_gaps.is_empty()
            && (0..header.roles.len())
                .any(|c| formula_gaps.contains_key(&(row, table.first_col + c + 1)));
        if cells.iter().all(Cell::is_blank) && !has_formula_gap {
            blank_rows += 1;
            continue;
        }
        let before = problems.len();
        let asset = parse_row(table, &header, index, cells, &formula_gaps, &mut problems);
        if let Some(asset) = &asset {
            if let Some(first_row) = first_seen.get(&asset.asset_id) {
                let col = header
                    .roles
                    .iter()
                    .position(|r| *r == ColumnRole::Field(Field::AssetId))
                    .unwrap_or(0);
                problems.push(Problem::cell(
                    row,
                    table.column_letter(col),
                    &header.headers[col],
                    &asset.asset_id,
                    ProblemKind::DuplicateAssetId {
                        first_row: *first_row,
                    },
                ));
            } else {
                first_seen.insert(asset.asset_id.clone(), row);
            }
        }
        let row_has_error = problems[before..].iter().any(Problem::is_error);
        match asset {
            Some(asset) if !row_has_error => records.push(Record { row, asset }),
            _ => invalid_rows.push(row),
        }
    }
    if table.formula_cells > 0 {
        problems.push(Problem::file(ProblemKind::FormulasRead(
            table.formula_cells,
        )));
    }
    LedgerFile {
        header: Some(header),
        records,
        invalid_rows,
        problems,
        blank_rows,
    }
}

fn parse_row(
    table: &Table,
    header: &HeaderMap,
    index: usize,
    cells: &[Cell],
    formula_gaps: &HashMap<(usize, usize), ()>,
    problems: &mut Vec<Problem>,
) -> Option<Asset> {
    let row = table.row_number(index);
    let mut asset = Asset::new(String::new(), AssetKind::Other, String::new());
    for (col, role) in header.roles.iter().enumerate() {
        let cell = cells.get(col).unwrap_or(&Cell::Empty);
        let at = |kind, value: &str| {
            Problem::cell(
                row,
                table.column_letter(col),
                &header.headers[col],
                value,
                kind,
            )
        };
        if formula_gaps.contains_key(&(row, table.first_col + col + 1))
            && *role != ColumnRole::Ignored
        {
            problems.push(at(ProblemKind::FormulaWithoutValue, ""));
            continue;
        }
        if let Cell::Error(e) = cell {
            if *role != ColumnRole::Ignored {
                problems.push(at(ProblemKind::CellError, e));
            }
            continue;
        }
        match role {
            ColumnRole::Ignored => {}
            ColumnRole::Custom(name) => {
                let text = unguard_formula(&cell.text()).to_string();
                if let Err(e) = check_len(&text, crate::columns::CUSTOM_MAX_LEN) {
                    problems.push(at(ProblemKind::Value(e), &text));
                } else if !text.is_empty() {
                    asset.custom.insert(name.clone(), text);
                }
            }
            ColumnRole::Field(field) => {
                if let Err(kind) = set_cell(&mut asset, *field, cell) {
                    problems.push(at(kind, &cell.text()));
                }
            }
        }
    }
    Some(asset)
}

fn set_cell(asset: &mut Asset, field: Field, cell: &Cell) -> Result<(), ProblemKind> {
    if let (Field::EosDate | Field::LastStocktake, Cell::Date(d)) = (field, cell) {
        let date = Some(d.date());
        match field {
            Field::EosDate => asset.eos_date = date,
            _ => asset.last_stocktake = date,
        }
        return Ok(());
    }
    set_field(asset, field, unguard_formula(&cell.text()))
}

fn opt_text(text: &str) -> Option<String> {
    let t = text.trim();
    (!t.is_empty()).then(|| t.to_string())
}

fn opt_enum<T: Labelled>(text: &str) -> Result<Option<T>, ProblemKind> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    T::parse(text).map(Some).ok_or_else(|| {
        ProblemKind::Value(ValueError::Choice(format!(
            "{} / {}",
            T::choices(Lang::Ja),
            T::choices(Lang::En)
        )))
    })
}

fn opt_bool(text: &str) -> Result<Option<bool>, ProblemKind> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    value::parse_yes_no(text)
        .map(Some)
        .map_err(ProblemKind::Value)
}

fn opt_date(text: &str) -> Result<Option<chrono::NaiveDate>, ProblemKind> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    value::parse_date(text)
        .map(Some)
        .map_err(ProblemKind::Value)
}

fn list<T>(text: &str, parse: impl Fn(&str) -> Result<T, ValueError>) -> Result<Vec<T>, ProblemKind>
where
    T: PartialEq,
{
    let mut out = Vec::new();
    for piece in split_list(text, true) {
        let v = parse(&piece).map_err(ProblemKind::Value)?;
        if !out.contains(&v) {
            out.push(v);
        }
    }
    Ok(out)
}

/// Copies one field's value from `src` to `dst`.
pub fn copy_field(dst: &mut Asset, src: &Asset, field: Field) {
    match field {
        Field::AssetId => dst.asset_id = src.asset_id.clone(),
        Field::Kind => dst.kind = src.kind,
        Field::Name => dst.name = src.name.clone(),
        Field::Purpose => dst.purpose = src.purpose.clone(),
        Field::Department => dst.department = src.department.clone(),
        Field::Location => dst.location = src.location.clone(),
        Field::Owner => dst.owner = src.owner.clone(),
        Field::Manufacturer => dst.manufacturer = src.manufacturer.clone(),
        Field::Model => dst.model = src.model.clone(),
        Field::Os => dst.os = src.os.clone(),
        Field::OsVersion => dst.os_version = src.os_version.clone(),
        Field::Software => dst.software = src.software.clone(),
        Field::Cpe => dst.cpe = src.cpe.clone(),
        Field::Hostname => dst.hostname = src.hostname.clone(),
        Field::Ip => dst.ip = src.ip.clone(),
        Field::Mac => dst.mac = src.mac.clone(),
        Field::Status => dst.status = src.status,
        Field::Vendor => dst.vendor = src.vendor.clone(),
        Field::VendorContact => dst.vendor_contact = src.vendor_contact.clone(),
        Field::RemoteMaintenance => dst.remote_maintenance = src.remote_maintenance,
        Field::ExternalAccess => dst.external_access = src.external_access,
        Field::EosDate => dst.eos_date = src.eos_date,
        Field::Schedule => dst.schedule = src.schedule.clone(),
        Field::Criticality => dst.criticality = src.criticality,
        Field::PatientData => dst.patient_data = src.patient_data,
        Field::ScanExclude => dst.scan_exclude = src.scan_exclude,
        Field::BootPassword => dst.boot_password = src.boot_password,
        Field::DefaultPasswordChanged => {
            dst.default_password_changed = src.default_password_changed
        }
        Field::MdsSds => dst.mds_sds = src.mds_sds,
        Field::Sbom => dst.sbom = src.sbom,
        Field::LastStocktake => dst.last_stocktake = src.last_stocktake,
        Field::Notes => dst.notes = src.notes.clone(),
    }
}

/// The device as it should be after re-importing `incoming` over `existing`: only the
/// columns the file has are taken from it, so a sheet with fewer columns never wipes
/// what the ledger knows. Custom attributes are replaced only for the custom columns
/// present.
pub fn merge_present(existing: &Asset, incoming: &Asset, header: &HeaderMap) -> Asset {
    let mut out = existing.clone();
    for role in &header.roles {
        match role {
            ColumnRole::Field(f) => copy_field(&mut out, incoming, *f),
            ColumnRole::Custom(name) => match incoming.custom.get(name) {
                Some(v) => {
                    out.custom.insert(name.clone(), v.clone());
                }
                None => {
                    out.custom.remove(name);
                }
            },
            ColumnRole::Ignored => {}
        }
    }
    out
}

/// The columns whose values differ between two versions of a device (English codes;
/// custom attributes as `custom:HEADER`).
pub fn changed_fields(before: &Asset, after: &Asset) -> Vec<String> {
    let mut out: Vec<String> = Field::all()
        .filter(|f| {
            let mut probe = before.clone();
            copy_field(&mut probe, after, *f);
            probe != *before
        })
        .map(|f| f.code().to_string())
        .collect();
    let keys: std::collections::BTreeSet<&String> =
        before.custom.keys().chain(after.custom.keys()).collect();
    for k in keys {
        if before.custom.get(k) != after.custom.get(k) {
            out.push(format!("custom:{k}"));
        }
    }
    out
}

/// Sets one field of `asset` from the text a person typed, with the same rules as import:
/// blank clears an optional field, labels in either language are accepted, lists are split.
pub fn set_field(asset: &mut Asset, field: Field, text: &str) -> Result<(), ProblemKind> {
    check_len(text, field.max_len()).map_err(ProblemKind::Value)?;
    match field {
        Field::AssetId => {
            let id = fold(text);
            if id.is_empty() {
                return Err(ProblemKind::Required(field));
            }
            asset.asset_id = id;
        }
        Field::Name => {
            asset.name = opt_text(text).ok_or(ProblemKind::Required(field))?;
        }
        Field::Kind => asset.kind = opt_enum::<AssetKind>(text)?.unwrap_or(AssetKind::Other),
        Field::Status => {
            asset.status = opt_enum::<AssetStatus>(text)?.unwrap_or(AssetStatus::InUse)
        }
        Field::Purpose => asset.purpose = opt_text(text),
        Field::Department => asset.department = opt_text(text),
        Field::Location => asset.location = opt_text(text),
        Field::Owner => asset.owner = opt_text(text),
        Field::Manufacturer => asset.manufacturer = opt_text(text),
        Field::Model => asset.model = opt_text(text),
        Field::Os => asset.os = opt_text(text),
        Field::OsVersion => asset.os_version = opt_text(text),
        Field::Software => {
            let mut out: Vec<Software> = Vec::new();
            for s in split_software(text).iter().map(|e| Software::parse(e)) {
                if !out.contains(&s) {
                    out.push(s);
                }
            }
            asset.software = out;
        }
        Field::Cpe => asset.cpe = list(text, value::parse_cpe)?,
        Field::Hostname => asset.hostname = list(text, value::parse_hostname)?,
        Field::Ip => asset.ip = list(text, value::parse_ip)?,
        Field::Mac => asset.mac = list(text, |s| s.parse())?,
        Field::Vendor => asset.vendor = opt_text(text),
        Field::VendorContact => asset.vendor_contact = opt_text(text),
        Field::RemoteMaintenance => asset.remote_maintenance = opt_bool(text)?,
        Field::ExternalAccess => asset.external_access = opt_bool(text)?,
        Field::EosDate => asset.eos_date = opt_date(text)?,
        Field::Schedule => asset.schedule = opt_text(text),
        Field::Criticality => asset.criticality = opt_enum::<Criticality>(text)?,
        Field::PatientData => asset.patient_data = opt_bool(text)?,
        Field::ScanExclude => asset.scan_exclude = opt_bool(text)?,
        Field::BootPassword => asset.boot_password = opt_enum::<BootPassword>(text)?,
        Field::DefaultPasswordChanged => {
            asset.default_password_changed = opt_enum::<DefaultPassword>(text)?
        }
        Field::MdsSds => asset.mds_sds = opt_enum::<DocStatus>(text)?,
        Field::Sbom => asset.sbom = opt_enum::<DocStatus>(text)?,
        Field::LastStocktake => asset.last_stocktake = opt_date(text)?,
        Field::Notes => asset.notes = opt_text(text),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::read_table;

    fn parse(csv: &str) -> LedgerFile {
        let table = read_table("t.csv", csv.as_bytes(), None).unwrap();
        parse_ledger(&table, &Mapping::default())
    }

    #[test]
    fn reads_rows_with_japanese_headers_and_title_rows() {
        let f = parse(
            "機器台帳 令和7年度,,\n\n管理番号,機器名,機器種別,IPアドレス,状態,サポート終了日\nA-1,電子カルテサーバ,サーバ,127.0.0.1; 127.0.0.2,稼働中,2025/3/31\n,,,,,\nＡ-2,受付PC,端末PC,,,\n",
        );
        assert!(!f.has_errors(), "{:?}", f.problems);
        assert_eq!(f.records.len(), 2);
        assert_eq!(f.records[0].row, 4);
        assert_eq!(f.records[0].asset.ip.len(), 2);
        assert_eq!(f.records[1].asset.asset_id, "A-2");
        assert_eq!(f.records[1].asset.status, AssetStatus::InUse);
        assert_eq!(f.blank_rows, 1);
    }

    #[test]
    fn every_bad_row_is_named_with_column_and_reason() {
        let f = parse("管理番号,機器名,IPアドレス,MACアドレス\nA-1,x,127.0.0.300,\nA-2,,,\nA-1,y,,zz\nA-3,ok,,\n");
        assert_eq!(f.invalid_rows, vec![2, 3, 4]);
        assert_eq!(f.records.len(), 1);
        let msgs: Vec<String> = f.problems.iter().map(|p| p.message(Lang::En)).collect();
        assert!(
            msgs[0].starts_with("row 2, column C (IPアドレス) value \"127.0.0.300\""),
            "{msgs:?}"
        );
        assert!(msgs
            .iter()
            .any(|m| m.contains("row 3") && m.contains("name is required")));
        assert!(msgs
            .iter()
            .any(|m| m.contains("row 4") && m.contains("already used in row 2")));
        assert!(msgs
            .iter()
            .any(|m| m.contains("row 4") && m.contains("MAC")));
    }

    #[test]
    fn file_level_header_problems() {
        let f = parse("機器名,IP,IPアドレス\nx,127.0.0.1,\n");
        let kinds: Vec<_> = f.problems.iter().map(|p| &p.kind).collect();
        assert!(kinds
            .iter()
            .any(|k| matches!(k, ProblemKind::DuplicateHeader { .. })));
        assert!(kinds
            .iter()
            .any(|k| matches!(k, ProblemKind::MissingColumn(Field::AssetId))));
        let f = parse("管理番号,機器名,\nA,x,orphan\n");
        assert!(matches!(f.problems[0].kind, ProblemKind::BlankHeader));
        assert_eq!(f.problems[0].column.as_deref(), Some("C"));
        let f = parse("a,b,c\n1,2,3\n");
        assert!(matches!(f.problems[0].kind, ProblemKind::NoHeaderRow));
    }

    #[test]
    fn unknown_headers_become_custom_attributes_with_a_warning() {
        let f = parse("管理番号,機器名,購入金額\nA,x,120000\n");
        assert!(!f.has_errors());
        assert_eq!(
            f.records[0]
                .asset
                .custom
                .get("購入金額")
                .map(String::as_str),
            Some("120000")
        );
        assert!(matches!(f.problems[0].kind, ProblemKind::UnknownHeader));
    }

    #[test]
    fn huge_cells_are_rejected_not_stored() {
        let big = "x".repeat(1_000_000);
        let f = parse(&format!("管理番号,機器名,備考\nA,x,{big}\n"));
        assert_eq!(f.invalid_rows, vec![2]);
        assert!(matches!(
            f.problems[0].kind,
            ProblemKind::Value(ValueError::TooLong { len: 1_000_000, .. })
        ));
        assert!(f.problems[0].value.as_ref().unwrap().chars().count() < 100);
    }
}
