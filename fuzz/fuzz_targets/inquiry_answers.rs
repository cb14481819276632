//! Any bytes as a vendor's returned 事業者確認依頼 sheet (.xlsx and .csv): the reader never
//! panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = mamori_ledger::inquiry::read_inquiry_answers("answers.xlsx", data);
    let _ = mamori_ledger::inquiry::read_inquiry_answers("answers.csv", data);
});
