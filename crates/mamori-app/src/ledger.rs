//! Ledger use cases: import, export, list, show, add, edit, retire.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use chrono::Utc;
use mamori_core::{Asset, AssetKind, AssetStatus, Lang};
use mamori_ledger::columns::{ColumnRole, HeaderMap};
use mamori_ledger::write::{self, cell_text, Column, CsvEncoding};
use mamori_ledger::{
    changed_fields, merge_present, parse_ledger, read_table, set_field, Field, Mapping, Problem,
    Record,
};
use mamori_store::{AssetFilter, ImportRecord, StatusChange, StoredAsset, Tx};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::{audit, io, App, AppError, Result};

/// Where a long import is, for progress displays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// Reading and checking the file.
    Reading,
    /// Writing rows: done of total.
    Writing {
        /// Rows written so far.
        done: usize,
        /// Rows to write.
        total: usize,
    },
    /// Committing.
    Committing,
}

/// How to import.
pub struct ImportOptions<'a> {
    /// The workbook sheet (first sheet when `None`).
    pub sheet: Option<String>,
    /// A header mapping file.
    pub mapping: Option<PathBuf>,
    /// Check and count, but change nothing.
    pub dry_run: bool,
    /// Import the valid rows and report the invalid ones, instead of importing nothing.
    pub skip_invalid: bool,
    /// Retire devices that the file no longer lists.
    pub sync: bool,
    /// Asked with the 管理番号 that `sync` would retire; `false` cancels the import.
    pub confirm_retire: &'a mut dyn FnMut(&[String]) -> bool,
    /// Told how the import is going.
    pub progress: &'a dyn Fn(Progress),
}

/// What an import did (or, with `dry_run`, would do).
#[derive(Debug, Clone, Default)]
pub struct ImportReport {
    /// The file's name as given.
    pub file: String,
    /// What it was read as, e.g. `xlsx` or `csv (CP932)`.
    pub format: String,
    /// The sheet read.
    pub sheet: Option<String>,
    /// The 1-based header row.
    pub header_row: usize,
    /// Valid data rows.
    pub rows: usize,
    /// Devices added.
    pub added: usize,
    /// Devices changed.
    pub updated: usize,
    /// Devices the same as before.
    pub unchanged: usize,
    /// Devices retired by `sync`.
    pub retired: Vec<String>,
    /// Rows skipped as invalid (`skip_invalid`).
    pub skipped_rows: Vec<usize>,
    /// Errors of skipped rows, and warnings.
    pub problems: Vec<Problem>,
    /// Whether nothing was written.
    pub dry_run: bool,
}

impl ImportReport {
    /// The report as the command line prints it and the web shows it, line by line.
    pub fn lines(&self, lang: Lang) -> Vec<String> {
        let mut out = Vec::new();
        if self.dry_run {
            out.push(
                lang.pick(
                    "[確認のみ: 台帳は変更していません]",
                    "[dry run: the ledger is unchanged]",
                )
                .to_string(),
            );
        }
        let sheet = self.sheet.as_ref().map(|s| match lang {
            Lang::Ja => format!(", シート「{s}」"),
            Lang::En => format!(", sheet \"{s}\""),
        });
        let sheet = sheet.unwrap_or_default();
        let (r, skipped) = (self, self.skipped_rows.len());
        out.push(match lang {
            Lang::Ja => format!(
                "{} ({}{sheet}, 見出し {} 行目): {} 行",
                r.file, r.format, r.header_row, r.rows
            ),
            Lang::En => format!(
                "{} ({}{sheet}, header row {}): {} rows",
                r.file, r.format, r.header_row, r.rows
            ),
        });
        out.push(match lang {
            Lang::Ja => format!(
                "  追加 {}  更新 {}  変更なし {}  廃棄済に変更 {}  スキップ {skipped}",
                r.added,
                r.updated,
                r.unchanged,
                r.retired.len()
            ),
            Lang::En => format!(
                "  added {}  updated {}  unchanged {}  retired {}  skipped {skipped}",
                r.added,
                r.updated,
                r.unchanged,
                r.retired.len()
            ),
        });
        for p in &self.problems {
            let tag = if p.is_error() {
                lang.pick("スキップ", "skipped")
            } else {
                lang.pick("警告", "warning")
            };
            out.push(format!("  {tag}: {}", p.message(lang)));
        }
        out
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn file_label(path: &Path) -> String {
    path.display().to_string()
}

/// What one pass of writing records did.
#[derive(Default)]
pub(crate) struct Applied {
    pub added: usize,
    pub updated: usize,
    pub unchanged: usize,
}

/// Adds or updates each record, keyed by 管理番号, with status history and audit entries.
/// With a header, only its columns are taken from the records (see [`merge_present`]).
pub(crate) fn apply_records(
    tx: &mut dyn Tx,
    actor: &str,
    source: &str,
    records: &[Record],
    header: Option<&HeaderMap>,
    existing: &HashMap<String, StoredAsset>,
    progress: &dyn Fn(Progress),
) -> Result<Applied> {
    let mut out = Applied::default();
    let total = records.len();
    for (i, rec) in records.iter().enumerate() {
        if i % 500 == 0 {
            progress(Progress::Writing { done: i, total });
        }
        match existing.get(&rec.asset.asset_id) {
            Some(stored) => {
                let new = match header {
                    Some(h) => merge_present(&stored.asset, &rec.asset, h),
                    None => rec.asset.clone(),
                };
                if new == stored.asset {
                    out.unchanged += 1;
                    continue;
                }
                let detail = json!({ "source": source, "row": rec.row });
                save_update(tx, actor, stored, &new, Some(source), detail)?;
                out.updated += 1;
            }
            None => {
                let detail = json!({ "source": source, "row": rec.row });
                save_new(tx, actor, &rec.asset, source, detail)?;
                out.added += 1;
            }
        }
    }
    progress(Progress::Writing { done: total, total });
    Ok(out)
}

/// The changed columns with their values before and after, for the audit log.
fn diff(before: &Asset, after: &Asset) -> serde_json::Value {
    let mut map = serde_json::Map::new();
    for name in changed_fields(before, after) {
        let column = match name.strip_prefix("custom:") {
            Some(h) => Column::Custom(h.to_string()),
            None => match Field::from_header(&name) {
                Some(f) => Column::Field(f),
                None => continue,
            },
        };
        map.insert(
            name,
            json!([
                cell_text(before, &column, Lang::En),
                cell_text(after, &column, Lang::En)
            ]),
        );
    }
    serde_json::Value::Object(map)
}

/// Adds a device with its first status-history entry and an `asset.create` audit entry.
fn save_new(
    tx: &mut dyn Tx,
    actor: &str,
    asset: &Asset,
    reason: &str,
    detail: serde_json::Value,
) -> Result<i64> {
    let id = tx.insert_asset(asset)?;
    let change = StatusChange {
        from: None,
        to: asset.status,
        at: Utc::now(),
        actor: actor.to_string(),
        reason: Some(reason.to_string()),
    };
    tx.record_status_change(id, &change)?;
    audit(tx, actor, "asset.create", Some(&asset.asset_id), detail)?;
    Ok(id)
}

/// Writes a changed device: the status history when the status changed, and an audit
/// entry (`asset.retire` when it became 廃棄済, else `asset.update`) whose detail gets the
/// changed columns with their old and new values.
pub(crate) fn save_update(
    tx: &mut dyn Tx,
    actor: &str,
    stored: &StoredAsset,
    new: &Asset,
    reason: Option<&str>,
    mut detail: serde_json::Value,
) -> Result<()> {
    tx.update_asset(stored.id, new)?;
    if new.status != stored.asset.status {
        let change = StatusChange {
            from: Some(stored.asset.status),
            to: new.status,
            at: Utc::now(),
            actor: actor.to_string(),
            reason: reason.map(str::to_string),
        };
        tx.record_status_change(stored.id, &change)?;
    }
    if let serde_json::Value::Object(m) = &mut detail {
        m.insert("changed".into(), diff(&stored.asset, new));
    }
    let action =
        if new.status == AssetStatus::Retired && stored.asset.status != AssetStatus::Retired {
            "asset.retire"
        } else {
            "asset.update"
        };
    audit(tx, actor, action, Some(&stored.asset.asset_id), detail)
}

impl App {
    /// Imports a ledger file (xlsx/xls/ods/csv/tsv). One transaction: on any error, or
    /// with `dry_run`, the ledger is left exactly as it was.
    pub fn import_ledger(&mut self, path: &Path, opts: ImportOptions<'_>) -> Result<ImportReport> {
        self.require(mamori_core::access::Permission::EditLedger)?;
        let bytes = crate::read_input(path, crate::MAX_INPUT_BYTES)?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mapping = match &opts.mapping {
            Some(m) => {
                let text = std::fs::read_to_string(m).map_err(io(m))?;
                Mapping::parse(&text).map_err(|error| AppError::Mapping {
                    file: file_label(m),
                    error,
                })?
            }
            None => Mapping::default(),
        };
        self.import_bytes(&file_label(path), &name, &bytes, &mapping, opts)
    }

    /// Imports a ledger from bytes; `name` (with its extension) says the format.
    pub fn import_bytes(
        &mut self,
        label: &str,
        name: &str,
        bytes: &[u8],
        mapping: &Mapping,
        opts: ImportOptions<'_>,
    ) -> Result<ImportReport> {
        self.require(mamori_core::access::Permission::EditLedger)?;
        (opts.progress)(Progress::Reading);
        let table =
            read_table(name, bytes, opts.sheet.as_deref()).map_err(|error| AppError::Table {
                file: label.to_string(),
                error,
            })?;
        let parsed = parse_ledger(&table, mapping);
        let file_errors: Vec<Problem> = parsed.file_errors().cloned().collect();
        if !file_errors.is_empty() {
            return Err(AppError::Invalid {
                file: label.to_string(),
                invalid_rows: parsed.invalid_rows.len(),
                problems: file_errors,
                skippable: false,
            });
        }
        if !parsed.invalid_rows.is_empty() && !opts.skip_invalid {
            return Err(AppError::Invalid {
                file: label.to_string(),
                problems: parsed
                    .problems
                    .iter()
                    .filter(|p| p.is_error())
                    .cloned()
                    .collect(),
                invalid_rows: parsed.invalid_rows.len(),
                skippable: true,
            });
        }
        let header = parsed
            .header
            .as_ref()
            .ok_or_else(|| AppError::Internal("header missing".into()))?;
        let actor = self.actor.clone();
        let mut note = self.announce(
            &format!("台帳の取り込み ({label})"),
            &format!("ledger import of {label}"),
        );
        let mut tx = self.store.begin()?;
        note.post();
        let existing: HashMap<String, StoredAsset> = tx
            .assets(&AssetFilter::default())?
            .into_iter()
            .map(|s| (s.asset.asset_id.clone(), s))
            .collect();
        let source = format!("import:{name}");
        let applied = apply_records(
            tx.as_mut(),
            &actor,
            &source,
            &parsed.records,
            Some(header),
            &existing,
            opts.progress,
        )?;
        let mut retired = Vec::new();
        if opts.sync {
            let in_file: HashSet<&str> = parsed
                .records
                .iter()
                .map(|r| r.asset.asset_id.as_str())
                .collect();
            let skipped_ids: HashSet<String> =
                skipped_asset_ids(&table, header, &parsed.invalid_rows);
            let mut gone: Vec<&StoredAsset> = existing
                .values()
                .filter(|s| s.asset.status != AssetStatus::Retired)
                .filter(|s| {
                    !in_file.contains(s.asset.asset_id.as_str())
                        && !skipped_ids.contains(&s.asset.asset_id)
                })
                .collect();
            gone.sort_by(|a, b| a.asset.asset_id.cmp(&b.asset.asset_id));
            let ids: Vec<String> = gone.iter().map(|s| s.asset.asset_id.clone()).collect();
            if !ids.is_empty() && !opts.dry_run && !(opts.confirm_retire)(&ids) {
                return Err(AppError::Cancelled);
            }
            for stored in gone {
                retire_in(tx.as_mut(), &actor, stored, &format!("sync:{name}"))?;
            }
            retired = ids;
        }
        let report = ImportReport {
            file: label.to_string(),
            format: table.format.clone(),
            sheet: table.sheet.clone(),
            header_row: table.row_number(header.header_index),
            rows: parsed.records.len(),
            added: applied.added,
            updated: applied.updated,
            unchanged: applied.unchanged,
            retired,
            skipped_rows: parsed.invalid_rows.clone(),
            problems: parsed.problems.clone(),
            dry_run: opts.dry_run,
        };
        if opts.dry_run {
            return Ok(report); // dropping the transaction rolls everything back
        }
        let record = ImportRecord {
            actor: actor.clone(),
            file_name: name.to_string(),
            sha256: sha256_hex(bytes),
            format: table.format.clone(),
            added: report.added as i64,
            updated: report.updated as i64,
            unchanged: report.unchanged as i64,
            retired: report.retired.len() as i64,
            skipped: report.skipped_rows.len() as i64,
        };
        tx.insert_import(&record)?;
        audit(
            tx.as_mut(),
            &actor,
            "ledger.import",
            Some(name),
            json!({
                "sha256": record.sha256, "format": record.format, "sheet": report.sheet,
                "added": record.added, "updated": record.updated, "unchanged": record.unchanged,
                "retired": report.retired, "skipped_rows": report.skipped_rows,
            }),
        )?;
        (opts.progress)(Progress::Committing);
        tx.commit()?;
        Ok(report)
    }

    /// Writes the ledger (or the devices matching `filter`) to `path`: `.xlsx` or `.csv`
    /// by extension. The file is written whole, then moved into place.
    pub fn export_ledger(
        &mut self,
        path: &Path,
        lang: Lang,
        encoding: CsvEncoding,
        filter: &AssetFilter,
    ) -> Result<usize> {
        let ext = path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        let (bytes, n) =
            self.export_ledger_bytes(&ext, &file_label(path), lang, encoding, filter)?;
        write_atomically(path, &bytes)?;
        Ok(n)
    }

    /// The devices matching `filter` as an `xlsx` or `csv` file's bytes, and how many they
    /// are (for downloads; `label` names the file in errors).
    pub fn export_ledger_bytes(
        &mut self,
        format: &str,
        label: &str,
        lang: Lang,
        encoding: CsvEncoding,
        filter: &AssetFilter,
    ) -> Result<(Vec<u8>, usize)> {
        self.require(mamori_core::access::Permission::View)?;
        let assets: Vec<Asset> = self
            .list_assets(filter)?
            .into_iter()
            .map(|s| s.asset)
            .collect();
        let bytes = match format {
            "xlsx" => write::write_xlsx(&assets, lang),
            "csv" => write::write_csv(&assets, lang, encoding),
            _ => {
                return Err(AppError::bad_value(
                    label,
                    "書き出し先の拡張子は .xlsx か .csv にしてください",
                    "the export file must end in .xlsx or .csv",
                ))
            }
        }
        .map_err(|error| AppError::Export {
            file: label.to_string(),
            error,
        })?;
        Ok((bytes, assets.len()))
    }

    /// The devices matching `filter`, ordered by 管理番号.
    pub fn list_assets(&mut self, filter: &AssetFilter) -> Result<Vec<StoredAsset>> {
        self.require(mamori_core::access::Permission::View)?;
        Ok(self.store.begin_read()?.assets(filter)?)
    }

    /// One device with its status history.
    pub fn show_asset(&mut self, asset_id: &str) -> Result<(StoredAsset, Vec<StatusChange>)> {
        self.require(mamori_core::access::Permission::View)?;
        let tx = self.store.begin_read()?;
        let stored = tx
            .asset(asset_id)?
            .ok_or_else(|| AppError::AssetNotFound(asset_id.to_string()))?;
        let history = tx.status_history(stored.id)?;
        Ok((stored, history))
    }

    /// A device's components recorded by SBOMs, scans and the host collector (the ledger's
    /// own CPE and software are in the device itself), as (source, component).
    pub fn asset_components(
        &mut self,
        asset_id: &str,
    ) -> Result<Vec<(&'static str, mamori_store::StoredComponent)>> {
        self.require(mamori_core::access::Permission::View)?;
        let tx = self.store.begin_read()?;
        let stored = tx
            .asset(asset_id)?
            .ok_or_else(|| AppError::AssetNotFound(asset_id.to_string()))?;
        // One read; shown SBOM first, then scans, then the host collector (ledger components
        // are in the device itself).
        const ORDER: [&str; 3] = ["sbom", "scan", "collector"];
        let mut out: Vec<(&'static str, mamori_store::StoredComponent)> = tx
            .device_components(stored.id)?
            .into_iter()
            .filter_map(|(s, c)| ORDER.iter().find(|o| **o == s).map(|o| (*o, c)))
            .collect();
        // Stable: each source keeps its own order.
        out.sort_by_key(|(s, _)| ORDER.iter().position(|o| o == s));
        Ok(out)
    }

    /// Adds a device from column/value pairs (columns named in Japanese or English).
    /// 機器名 is required; 機器種別 defaults to その他 and 状態 to 稼働中.
    pub fn add_asset(&mut self, asset_id: &str, values: &[(String, String)]) -> Result<Asset> {
        self.require(mamori_core::access::Permission::EditLedger)?;
        let mut asset = Asset::new("", AssetKind::Other, "");
        apply_values(
            &mut asset,
            &[("asset_id".to_string(), asset_id.to_string())],
        )?;
        apply_values(&mut asset, values)?;
        if asset.name.is_empty() {
            return Err(field_error(
                Field::Name,
                mamori_ledger::ProblemKind::Required(Field::Name),
            ));
        }
        let actor = self.actor.clone();
        let mut tx = self.store.begin()?;
        if tx.asset(&asset.asset_id)?.is_some() {
            return Err(AppError::AssetExists(asset.asset_id));
        }
        save_new(
            tx.as_mut(),
            &actor,
            &asset,
            "add",
            json!({ "source": "add" }),
        )?;
        tx.commit()?;
        Ok(asset)
    }

    /// Changes columns of a device; returns the names of the columns that changed.
    pub fn edit_asset(
        &mut self,
        asset_id: &str,
        values: &[(String, String)],
        reason: Option<&str>,
    ) -> Result<Vec<String>> {
        self.require(mamori_core::access::Permission::EditLedger)?;
        let actor = self.actor.clone();
        let mut tx = self.store.begin()?;
        let stored = tx
            .asset(asset_id)?
            .ok_or_else(|| AppError::AssetNotFound(asset_id.to_string()))?;
        let mut asset = stored.asset.clone();
        apply_values(&mut asset, values)?;
        let changed = changed_fields(&stored.asset, &asset);
        if changed.is_empty() {
            return Ok(changed);
        }
        if asset.asset_id != stored.asset.asset_id && tx.asset(&asset.asset_id)?.is_some() {
            return Err(AppError::AssetExists(asset.asset_id));
        }
        let detail = json!({ "source": "edit", "reason": reason });
        save_update(tx.as_mut(), &actor, &stored, &asset, reason, detail)?;
        tx.commit()?;
        Ok(changed)
    }

    /// Marks a device 廃棄済 (retired), keeping it and its history in the ledger.
    pub fn retire_asset(&mut self, asset_id: &str, reason: Option<&str>) -> Result<()> {
        self.require(mamori_core::access::Permission::EditLedger)?;
        let actor = self.actor.clone();
        let mut tx = self.store.begin()?;
        let stored = tx
            .asset(asset_id)?
            .ok_or_else(|| AppError::AssetNotFound(asset_id.to_string()))?;
        if stored.asset.status == AssetStatus::Retired {
            return Err(AppError::bad_value(
                asset_id,
                "この機器は既に廃棄済です",
                "this device is already retired",
            ));
        }
        retire_in(tx.as_mut(), &actor, &stored, reason.unwrap_or("retire"))?;
        tx.commit()?;
        Ok(())
    }
}

fn retire_in(tx: &mut dyn Tx, actor: &str, stored: &StoredAsset, reason: &str) -> Result<()> {
    let mut asset = stored.asset.clone();
    asset.status = AssetStatus::Retired;
    let detail = json!({ "from": stored.asset.status.to_string(), "reason": reason });
    save_update(tx, actor, stored, &asset, Some(reason), detail)
}

/// 管理番号 of rows skipped as invalid: `--sync` must not retire a device only because
/// its row had a typo.
fn skipped_asset_ids(
    table: &mamori_ledger::Table,
    header: &HeaderMap,
    invalid_rows: &[usize],
) -> HashSet<String> {
    let Some(col) = header
        .roles
        .iter()
        .position(|r| *r == ColumnRole::Field(Field::AssetId))
    else {
        return HashSet::new();
    };
    invalid_rows
        .iter()
        .filter_map(|row| table.rows.get(row.checked_sub(table.first_row + 1)?))
        .filter_map(|cells| cells.get(col))
        .map(|c| mamori_core::value::fold(&c.text()))
        .filter(|s| !s.is_empty())
        .collect()
}

fn field_error(field: Field, kind: mamori_ledger::ProblemKind) -> AppError {
    let p = Problem::file(kind);
    AppError::bad_value(
        format!("{} ({})", field.header(Lang::Ja), field.code()),
        p.reason(Lang::Ja),
        p.reason(Lang::En),
    )
}

/// Applies `column=value` pairs with the import rules.
pub fn apply_values(asset: &mut Asset, values: &[(String, String)]) -> Result<()> {
    for (name, value) in values {
        let field = Field::from_header(name).ok_or_else(|| AppError::UnknownField(name.clone()))?;
        set_field(asset, field, value).map_err(|kind| field_error(field, kind))?;
    }
    Ok(())
}

/// Writes `bytes` to a temporary file beside `path`, then renames it into place, so a
/// crash never leaves half a file.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        std::process::id()
    ));
    std::fs::write(&tmp, bytes).map_err(io(&tmp))?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        AppError::Io {
            path: path.to_path_buf(),
            source: e,
        }
    })
}
