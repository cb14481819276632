//! Any bytes as an SBOM (CycloneDX JSON/XML, SPDX JSON/tag-value): never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = mamori_feeds::sbom::parse_sbom(data);
});
