//! 棚卸し (stock-take): recording which ledger devices were found where the ledger says.

use std::collections::HashMap;
use std::path::Path;

use chrono::NaiveDate;
use mamori_core::value::normalize_token;
use mamori_core::{AssetStatus, Labelled, StocktakeResult};
use mamori_ledger::read_table;
use mamori_store::{AssetFilter, Stocktake};
use serde_json::json;

use crate::{audit, App, AppError, Result};

/// One device's result in a stock-take.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// 管理番号.
    pub asset_id: String,
    /// The result.
    pub result: StocktakeResult,
    /// A note (e.g. where it really is).
    pub note: Option<String>,
}

/// A stock-take to record.
#[derive(Debug, Clone)]
pub struct StocktakeInput {
    /// The day it was done.
    pub date: NaiveDate,
    /// Who did it.
    pub by: String,
    /// A note for the whole stock-take.
    pub note: Option<String>,
    /// Per-device results.
    pub entries: Vec<Entry>,
    /// Count every device in use (稼働中, 予備, 停止中) that has no entry as found.
    pub rest_found: bool,
}

/// What was recorded.
#[derive(Debug, Clone)]
pub struct StocktakeOutcome {
    /// The stock-take's id.
    pub id: i64,
    /// Devices per result.
    pub counts: Vec<(StocktakeResult, usize)>,
    /// Devices in the ledger (not retired) that the stock-take did not cover.
    pub not_checked: Vec<String>,
}

/// Reads per-device results from a table file with columns 管理番号 / asset_id,
/// 結果 / result and optionally 備考 / note.
pub fn read_entries(path: &Path) -> Result<Vec<Entry>> {
    let bytes = crate::read_input(path, crate::MAX_INPUT_BYTES)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let label = path.display().to_string();
    let table = read_table(&name, &bytes, None).map_err(|error| AppError::Table {
        file: label.clone(),
        error,
    })?;
    let find = |row: &[mamori_ledger::table::Cell], names: &[&str]| {
        row.iter().position(|c| {
            names
                .iter()
                .any(|n| normalize_token(&c.text()) == normalize_token(n))
        })
    };
    let (header_index, id_col, result_col) = table
        .rows
        .iter()
        .enumerate()
        .take(20)
        .find_map(|(i, row)| {
            Some((
                i,
                find(row, &["管理番号", "asset_id", "資産番号"])?,
                find(row, &["結果", "result", "確認結果", "棚卸結果"])?,
            ))
        })
        .ok_or_else(|| {
            AppError::bad_value(
                label.clone(),
                "見出し「管理番号」と「結果」がある行が見つかりません",
                "no header row with asset_id (管理番号) and result (結果) columns",
            )
        })?;
    let note_col = find(&table.rows[header_index], &["備考", "note", "メモ"]);
    let mut out = Vec::new();
    for (i, row) in table.rows.iter().enumerate().skip(header_index + 1) {
        let id = row
            .get(id_col)
            .map(|c| mamori_core::value::fold(&c.text()))
            .unwrap_or_default();
        let text = row.get(result_col).map(|c| c.text()).unwrap_or_default();
        if id.is_empty() && text.is_empty() {
            continue;
        }
        let result = StocktakeResult::parse(&text).ok_or_else(|| {
            let at = format!("{label}: {}", table.row_number(i));
            AppError::bad_value(
                at,
                format!(
                    "結果「{text}」が読めません。{} のいずれかにしてください",
                    StocktakeResult::choices(mamori_core::Lang::Ja)
                ),
                format!(
                    "result \"{text}\" is not one of {}",
                    StocktakeResult::choices(mamori_core::Lang::En)
                ),
            )
        })?;
        let note = note_col
            .and_then(|c| row.get(c))
            .map(|c| c.text())
            .filter(|t| !t.is_empty());
        out.push(Entry {
            asset_id: id,
            result,
            note,
        });
    }
    Ok(out)
}

impl App {
    /// Records a stock-take. Every 管理番号 must be in the ledger (all unknown ones are
    /// listed in the error). Found devices get 棚卸日 set to the stock-take's date.
    pub fn stocktake(&mut self, input: &StocktakeInput) -> Result<StocktakeOutcome> {
        self.require(mamori_core::access::Permission::EditLedger)?;
        let actor = self.actor.clone();
        let mut tx = self.store.begin()?;
        let all: HashMap<String, mamori_store::StoredAsset> = tx
            .assets(&AssetFilter::default())?
            .into_iter()
            .map(|s| (s.asset.asset_id.clone(), s))
            .collect();
        let unknown: Vec<&str> = input
            .entries
            .iter()
            .map(|e| e.asset_id.as_str())
            .filter(|id| !all.contains_key(*id))
            .collect();
        if !unknown.is_empty() {
            return Err(AppError::bad_value(
                "asset_id",
                format!("台帳にない管理番号があります: {}", unknown.join(", ")),
                format!(
                    "these asset_ids are not in the ledger: {}",
                    unknown.join(", ")
                ),
            ));
        }
        let mut entries: Vec<Entry> = input.entries.clone();
        if input.rest_found {
            let listed: std::collections::HashSet<String> =
                entries.iter().map(|e| e.asset_id.clone()).collect();
            let mut rest: Vec<&String> = all
                .iter()
                .filter(|(id, s)| {
                    !listed.contains(*id)
                        && matches!(
                            s.asset.status,
                            AssetStatus::InUse | AssetStatus::Spare | AssetStatus::Stopped
                        )
                })
                .map(|(id, _)| id)
                .collect();
            rest.sort();
            entries.extend(rest.into_iter().map(|id| Entry {
                asset_id: id.clone(),
                result: StocktakeResult::Found,
                note: None,
            }));
        }
        if entries.is_empty() {
            return Err(AppError::bad_value(
                "stocktake",
                "結果が 1 件もありません。--found / --missing / --file / --rest-found のいずれかで指定してください",
                "no results given; use --found, --missing, --file or --rest-found",
            ));
        }
        let rows: Vec<(i64, StocktakeResult, Option<String>)> = entries
            .iter()
            .map(|e| (all[&e.asset_id].id, e.result, e.note.clone()))
            .collect();
        let id = tx.insert_stocktake(input.date, &input.by, input.note.as_deref(), &rows)?;
        for e in entries
            .iter()
            .filter(|e| e.result != StocktakeResult::Missing)
        {
            let stored = &all[&e.asset_id];
            if stored.asset.last_stocktake.is_none_or(|d| d < input.date) {
                let mut asset = stored.asset.clone();
                asset.last_stocktake = Some(input.date);
                tx.update_asset(stored.id, &asset)?;
            }
        }
        let mut counts: Vec<(StocktakeResult, usize)> = StocktakeResult::ALL
            .iter()
            .map(|r| (*r, entries.iter().filter(|e| e.result == *r).count()))
            .collect();
        counts.retain(|(_, n)| *n > 0);
        let covered: std::collections::HashSet<&str> =
            entries.iter().map(|e| e.asset_id.as_str()).collect();
        let mut not_checked: Vec<String> = all
            .values()
            .filter(|s| {
                s.asset.status != AssetStatus::Retired
                    && !covered.contains(s.asset.asset_id.as_str())
            })
            .map(|s| s.asset.asset_id.clone())
            .collect();
        not_checked.sort();
        let missing: Vec<&str> = entries
            .iter()
            .filter(|e| e.result == StocktakeResult::Missing)
            .map(|e| e.asset_id.as_str())
            .collect();
        audit(
            tx.as_mut(),
            &actor,
            "ledger.stocktake",
            Some(&id.to_string()),
            json!({
                "date": input.date.to_string(), "by": input.by, "note": input.note,
                "counts": counts.iter().map(|(r, n)| (r.code().to_string(), *n)).collect::<HashMap<_, _>>(),
                "missing": missing, "not_checked": not_checked.len(),
            }),
        )?;
        tx.commit()?;
        Ok(StocktakeOutcome {
            id,
            counts,
            not_checked,
        })
    }

    /// Past stock-takes, newest first.
    pub fn stocktakes(&mut self) -> Result<Vec<Stocktake>> {
        self.require(mamori_core::access::Permission::View)?;
        Ok(self.store.begin_read()?.stocktakes()?)
    }
}
