//! Any bytes given as a .csv: reading, header mapping and row validation never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mamori_ledger::{parse_ledger, read_table, Mapping};

fuzz_target!(|data: &[u8]| {
    if let Ok(table) = read_table("fuzz.csv", data, None) {
        let file = parse_ledger(&table, &Mapping::default());
        for p in &file.problems {
            let _ = p.message(mamori_core::Lang::Ja);
        }
    }
});
