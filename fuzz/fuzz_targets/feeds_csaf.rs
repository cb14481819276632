//! Any bytes as a CSAF 2.0 advisory: the reader never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = mamori_feeds::csaf::parse_csaf(data);
});
