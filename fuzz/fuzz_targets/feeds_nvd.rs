//! Any bytes as an NVD file: the streaming reader never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut n = 0usize;
    let _ = mamori_feeds::nvd::parse_nvd(data, &mut |_| n += 1);
});
