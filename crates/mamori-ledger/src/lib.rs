//! The device ledger (機器台帳) as hospitals keep it: in Excel workbooks and CSV files.
//!
//! Reading goes in three steps, each pure (bytes in, values out):
//! [`table::read_table`] turns a file's bytes into a grid of [`table::Cell`]s (xlsx, xls,
//! ods via calamine; CSV/TSV in UTF-8 with or without BOM, UTF-16, or CP932, detected),
//! [`columns::HeaderMap`] finds the header row and maps each header — Japanese, English, a
//! synonym or a user's `--mapping` — onto a [`columns::Field`], and [`rows::parse_rows`]
//! validates every row into an [`mamori_core::Asset`], collecting every [`Problem`] with
//! its row, column, value and reason. [`write`] goes the other way for export.
//!
//! This crate does not touch the file system or the store: callers pass bytes and get
//! bytes. It never panics on input; a broken file is a [`TableError`].
#![forbid(unsafe_code)]

pub mod columns;
pub mod holidays;
pub mod inquiry;
mod problem;
pub mod rows;
pub mod table;
pub mod write;

pub use columns::{Field, HeaderMap, Mapping};
pub use problem::{Problem, ProblemKind, Severity};
pub use rows::{
    changed_fields, copy_field, merge_present, parse_ledger, set_field, LedgerFile, Record,
};
pub use table::{read_table, Table, TableError};
