//! Matching benchmark at hospital-group scale (issue 4): 10,000 devices with 300,000
//! components against the ~320,000-record store built by `feeds_bench`. Each step is its own
//! process so that peak memory is measured for that step alone:
//!
//! ```sh
//! cargo build --release -p mamori-app --examples
//! target/release/examples/feeds_bench generate /tmp/nvd320k
//! target/release/examples/feeds_bench ingest   /tmp/nvd320k          # → /tmp/nvd320k-store
//! target/release/examples/match_bench setup       /tmp/nvd320k-store  # 10,000 devices
//! target/release/examples/match_bench full        /tmp/nvd320k-store  # first full match
//! target/release/examples/match_bench full        /tmp/nvd320k-store  # again: nothing changed
//! target/release/examples/match_bench touch       /tmp/nvd320k-store 1000
//! target/release/examples/match_bench incremental /tmp/nvd320k-store
//! # or re-scored (every re-evaluated finding changes and is rewritten):
//! target/release/examples/match_bench touch       /tmp/nvd320k-store 1000 rescore
//! ```
//!
//! The devices' components are real product names and versions taken from the vulnerable
//! criteria of the real NVD records in `../shared/data/nvd/api-2.0-from-1.1/`: a catalogue of
//! 2,000 (product, version) pairs, products drawn uniformly from those the criteria name
//! (`MATCH_BENCH_WEIGHTED=1`: in proportion to how often criteria name them); one version in twenty one of the three most recent versions the criteria name (a
//! device a few updates behind), the rest a patch release
//! after every version the data names for the product (patched).
//! 60 device images of 30 components each; every device takes an image and, for a quarter of
//! its components, another catalogue version of the same product (devices drift). Two
//! components sit in the ledger's CPE column, 28 come from an SBOM. `touch` re-imports N real
//! records that name the devices' products, with a changed description (as NVD's daily
//! modifications do), so an incremental match has N changed records to evaluate; `rescore`
//! also lowers their CVSS base scores by one point.
//! Results go in docs/BENCHMARKS.md.

mod support;
use std::collections::{BTreeMap, HashSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Instant;
use support::{peak_rss_mb, shared};

use mamori_app::matching::MatchMode;
use mamori_core::{Asset, AssetKind};
use mamori_store::StoredComponent;

const DEVICES: usize = 10_000;
const PER_DEVICE: usize = 30;
const IN_LEDGER: usize = 2;
const CATALOGUE: usize = 2_000;
const IMAGES: usize = 60;
/// One catalogue version in this many is one of the three most recent versions a criterion
/// names (a few updates behind, usually vulnerable); the others a patch release after every version the data names (a fleet that
/// is mostly patched, as a hospital's should be).
const INSIDE: usize = 20;
/// Draw products in proportion to how many criteria name them (`MATCH_BENCH_WEIGHTED=1`: a
/// fleet of heavily listed legacy systems) instead of uniformly.
static WEIGHTED: std::sync::LazyLock<bool> =
    std::sync::LazyLock::new(|| std::env::var_os("MATCH_BENCH_WEIGHTED").is_some());

/// A small deterministic generator (xorshift64*): the same devices on every run.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn shared_files() -> Vec<PathBuf> {
    let dir = shared();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e} (the shared data is needed)", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".json.gz"))
        .collect();
    files.sort();
    files
}

fn gunzip(p: &Path) -> Vec<u8> {
    let mut bytes = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(p).unwrap())
        .read_to_end(&mut bytes)
        .unwrap();
    bytes
}

/// The 3rd to 5th fields of a CPE 2.3 name: part, vendor, product.
fn pvp(criteria: &str) -> Option<(String, String, String)> {
    let mut f = criteria.strip_prefix("cpe:2.3:")?.split(':');
    let (part, vendor, product) = (f.next()?, f.next()?, f.next()?);
    (!vendor.contains('*') && !product.contains('*') && !product.contains('\\'))
        .then(|| (part.into(), vendor.into(), product.into()))
}

/// (part, vendor, product, version) pairs from real vulnerable criteria: products drawn
/// uniformly from those the criteria name, versions mostly patched.
fn catalogue() -> Vec<(String, String, String, String)> {
    type Key = (String, String, String);
    let mut rows: Vec<Key> = Vec::new();
    let mut versions: BTreeMap<Key, Vec<String>> = BTreeMap::new();
    for f in shared_files() {
        mamori_feeds::nvd::parse_nvd(&gunzip(&f), &mut |v| {
            for c in &v.configurations {
                for n in &c.nodes {
                    for m in n.matches.iter().filter(|m| m.vulnerable) {
                        let Some(key) = pvp(&m.criteria) else {
                            continue;
                        };
                        let literal = m.criteria.split(':').nth(5).map(str::to_string);
                        let seen = versions.entry(key.clone()).or_default();
                        for v in [
                            literal.filter(|v| v != "*" && v != "-"),
                            m.version_start_including.clone(),
                            m.version_end_including.clone(),
                            m.version_end_excluding.clone(),
                        ]
                        .into_iter()
                        .flatten()
                        {
                            if !v.is_empty() && !v.contains([':', '\\', '*']) {
                                seen.push(v);
                            }
                        }
                        rows.push(key);
                    }
                }
            }
        })
        .unwrap();
    }
    let latest = |vs: &[String]| {
        vs.iter()
            .max_by(|a, b| {
                mamori_matching::version::compare(a, b, mamori_matching::version::Scheme::Generic)
                    .unwrap_or(std::cmp::Ordering::Equal)
            })
            .cloned()
    };
    let products: Vec<Key> = versions.keys().cloned().collect();
    let mut rng = Rng(0x6d61_6d6f_7269);
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    while out.len() < CATALOGUE {
        // Products uniformly: a hospital's software is many vendors' products, few of them
        // the heavily listed ones (see docs/BENCHMARKS.md for a fleet weighted the other way).
        let key = if *WEIGHTED {
            &rows[rng.below(rows.len())]
        } else {
            &products[rng.below(products.len())]
        };
        let vs = &versions[key];
        if vs.is_empty() {
            continue;
        }
        let version = if rng.below(INSIDE) == 0 {
            // One of the three most recent versions the data names: a few updates behind.
            let mut rest: Vec<String> = vs
                .iter()
                .cloned()
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            let mut recent = Vec::new();
            while recent.len() < 3 {
                let Some(top) = latest(&rest) else { break };
                rest.retain(|v| *v != top);
                recent.push(top);
            }
            recent[rng.below(recent.len())].clone()
        } else {
            // A patch release after every version the data names: what a patched device runs.
            let Some(v) = latest(vs) else { continue };
            format!("{v}.1")
        };
        if seen.insert((key.1.clone(), key.2.clone(), version.clone())) {
            out.push((key.0.clone(), key.1.clone(), key.2.clone(), version));
        }
    }
    out
}

fn setup(store: &Path) {
    let started = Instant::now();
    let cat = catalogue();
    let mut by_product: BTreeMap<(String, String), Vec<usize>> = BTreeMap::new();
    for (i, (_, v, p, _)) in cat.iter().enumerate() {
        by_product
            .entry((v.clone(), p.clone()))
            .or_default()
            .push(i);
    }
    let mut rng = Rng(0x0062_656e_6368);
    let images: Vec<Vec<usize>> = (0..IMAGES)
        .map(|_| (0..PER_DEVICE).map(|_| rng.below(cat.len())).collect())
        .collect();
    let mut s = mamori_store::Store::open_sqlite(&store.join(mamori_app::DB_FILE)).unwrap();
    let mut tx = s.begin().unwrap();
    let mut distinct = HashSet::new();
    for d in 0..DEVICES {
        let image = &images[d % IMAGES];
        let comps: Vec<usize> = image
            .iter()
            .map(|&i| {
                let (_, v, p, _) = &cat[i];
                let same = &by_product[&(v.clone(), p.clone())];
                if rng.below(4) == 0 {
                    same[rng.below(same.len())]
                } else {
                    i
                }
            })
            .collect();
        let cpe = |i: usize| {
            let (part, v, p, ver) = &cat[i];
            format!("cpe:2.3:{part}:{v}:{p}:{ver}:*:*:*:*:*:*:*")
        };
        distinct.extend(comps.iter().copied());
        let mut asset = Asset::new(
            format!("BM-{d:05}"),
            AssetKind::Terminal,
            format!("端末 {d}"),
        );
        asset.department = Some(format!("部署{}", d % 40));
        asset.cpe = comps[..IN_LEDGER].iter().map(|&i| cpe(i)).collect();
        let id = tx.insert_asset(&asset).unwrap();
        let sbom: Vec<StoredComponent> = comps[IN_LEDGER..]
            .iter()
            .map(|&i| StoredComponent {
                asset: id,
                name: cat[i].2.clone(),
                version: Some(cat[i].3.clone()),
                cpe: Some(cpe(i)),
                purl: None,
                detail: None,
            })
            .collect();
        tx.replace_components(id, "sbom", &sbom).unwrap();
    }
    tx.commit().unwrap();
    println!(
        "setup: {DEVICES} devices, {} components, {} distinct (product, version) of {} products, in {:.1} s",
        DEVICES * PER_DEVICE,
        distinct.len(),
        by_product.len(),
        started.elapsed().as_secs_f64()
    );
}

fn run(store: &Path, mode: MatchMode) {
    let mut app = mamori_app::App::open(store, "bench").unwrap();
    let started = Instant::now();
    let r = app.run_match(mode).unwrap();
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{}: {} devices, {} components, {} records evaluated; opened {}, reopened {}, resolved {}, rewritten {}, open {}; {:.3} s; peak RSS {:.0} MB",
        r.mode,
        r.assets,
        r.components,
        r.records,
        r.opened,
        r.reopened,
        r.resolved,
        r.updated,
        r.open,
        secs,
        peak_rss_mb()
    );
    let steps: Vec<String> = r
        .steps
        .iter()
        .map(|(name, s)| format!("{name} {:.0} ms", s * 1000.0))
        .collect();
    println!("  steps: {}", steps.join(", "));
}

/// Re-imports `n` real records naming the devices' products, each with a changed description.
/// What `touch` changes in each record it re-imports.
#[derive(Clone, Copy, PartialEq)]
enum Touch {
    /// The description (most of NVD's daily modifications).
    Description,
    /// Also every CVSS base score one point lower (NVD re-scoring a record): every finding of
    /// the record changes its score and evidence, so each is rewritten.
    Rescore,
}

/// Lowers every CVSS `baseScore` in a record's metrics by one point (not below 0.1).
fn rescore(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(map) => {
            if let Some(score) = map.get("baseScore").and_then(|s| s.as_f64()) {
                let lower = ((score - 1.0).max(0.1) * 10.0).round() / 10.0;
                map.insert("baseScore".into(), serde_json::json!(lower));
            }
            map.values_mut().for_each(rescore);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(rescore),
        _ => {}
    }
}

fn touch(store: &Path, n: usize, what: Touch) {
    let mut products = HashSet::new();
    {
        let mut s = mamori_store::Store::open_sqlite(&store.join(mamori_app::DB_FILE)).unwrap();
        let tx = s.begin_read().unwrap();
        for c in tx.components("sbom", None).unwrap() {
            if let Some((_, v, p)) = c.cpe.as_deref().and_then(pvp) {
                products.insert((v, p));
            }
        }
    }
    let stamp = chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.3f")
        .to_string();
    let mut picked = Vec::new();
    'files: for f in shared_files() {
        let doc: serde_json::Value = serde_json::from_slice(&gunzip(&f)).unwrap();
        for mut v in doc["vulnerabilities"]
            .as_array()
            .cloned()
            .unwrap_or_default()
        {
            let names = v["cve"]["configurations"].to_string();
            let hits = products
                .iter()
                .any(|(vendor, product)| names.contains(&format!(":{vendor}:{product}:")));
            if !hits {
                continue;
            }
            v["cve"]["lastModified"] = serde_json::json!(stamp);
            if let Some(d) = v["cve"]["descriptions"][0]["value"].as_str() {
                v["cve"]["descriptions"][0]["value"] =
                    serde_json::json!(format!("{d} (revised {stamp})"));
            }
            if what == Touch::Rescore {
                rescore(&mut v["cve"]["metrics"]);
            }
            picked.push(v);
            if picked.len() == n {
                break 'files;
            }
        }
    }
    let dir = store.with_file_name("touch-feed");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("nvdcve-2.0-touch.json");
    let doc = serde_json::json!({
        "resultsPerPage": picked.len(), "startIndex": 0, "totalResults": picked.len(),
        "format": "NVD_CVE", "version": "2.0", "timestamp": stamp, "vulnerabilities": picked,
    });
    std::fs::write(&file, serde_json::to_vec(&doc).unwrap()).unwrap();
    let mut app = mamori_app::App::open(store, "bench").unwrap();
    let reports = app.import_feeds(&[file], &|_| {}).unwrap();
    let changed: usize = reports.iter().map(|r| r.added + r.updated).sum();
    println!("touch: {changed} records re-imported with a change");
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(step), Some(dir)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: match_bench setup|full|touch|incremental STORE_DIR [N [rescore]]");
        std::process::exit(1);
    };
    let dir = Path::new(dir);
    match step.as_str() {
        "setup" => setup(dir),
        "full" => run(dir, MatchMode::Full),
        "incremental" => run(dir, MatchMode::Incremental),
        "touch" => touch(
            dir,
            args.get(3).and_then(|n| n.parse().ok()).unwrap_or(1000),
            match args.get(4).map(String::as_str) {
                Some("rescore") => Touch::Rescore,
                _ => Touch::Description,
            },
        ),
        other => {
            eprintln!("unknown step {other}");
            std::process::exit(1);
        }
    }
}
