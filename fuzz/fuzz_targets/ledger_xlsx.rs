//! Any bytes given as an .xlsx: the workbook reader and row validation never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mamori_ledger::{parse_ledger, read_table, Mapping};

fuzz_target!(|data: &[u8]| {
    if let Ok(table) = read_table("fuzz.xlsx", data, None) {
        let _ = parse_ledger(&table, &Mapping::default());
    }
});
