//! Any bytes as JVN iPedia XML (VULDEF, JVNRSS) and as MyJVN JSON: the readers never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut n = 0usize;
    let _ = mamori_feeds::jvn::parse_jvn(data, &mut |_| n += 1);
    let _ = mamori_feeds::jvn::parse_jvn_json(data, &mut |_| n += 1);
});
