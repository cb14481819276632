//! Any bytes as CISA KEV (JSON and CSV), FIRST EPSS CSV and an alert RSS feed: the readers
//! never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = mamori_feeds::kev::parse_kev(data);
    let _ = mamori_feeds::kev::parse_kev_csv(data);
    let _ = mamori_feeds::epss::parse_epss(data);
    let _ = mamori_feeds::rss::parse_alerts(data);
});
