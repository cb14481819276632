//! Ledger import and export at hospital-group scale: 10,000 devices.
//!
//! Run: `cargo bench -p mamori-app --bench ledger`. Targets (issue: foundation): import
//! of 10,000 rows ≤ 2 s, export ≤ 2 s on the 2-core reference machine. Results are in
//! docs/BENCHMARKS.md.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use mamori_app::ledger::{ImportOptions, Progress};
use mamori_app::App;
use mamori_core::{Asset, Lang};
use mamori_ledger::write::{write_csv, write_xlsx, CsvEncoding};
use mamori_store::AssetFilter;

const ROWS: usize = 10_000;

fn main() {
    divan::main();
}

/// 10,000 devices: the demo hospital's devices, repeated with unique ids and addresses.
fn ledger() -> &'static [Asset] {
    static L: OnceLock<Vec<Asset>> = OnceLock::new();
    L.get_or_init(|| {
        let base = mamori_app::demo::demo_assets();
        (0..ROWS)
            .map(|i| {
                let mut a = base[i % base.len()].clone();
                a.asset_id = format!("{}-{i:05}", a.asset_id);
                a.ip = vec![std::net::IpAddr::V4(std::net::Ipv4Addr::new(
                    127,
                    20 + (i / 65536) as u8,
                    (i / 256 % 256) as u8,
                    (i % 256) as u8,
                ))];
                a
            })
            .collect()
    })
}

struct Files {
    _dir: tempfile::TempDir,
    xlsx: PathBuf,
    csv: PathBuf,
}

fn files() -> &'static Files {
    static F: OnceLock<Files> = OnceLock::new();
    F.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let xlsx = dir.path().join("ledger-10k.xlsx");
        let csv = dir.path().join("ledger-10k.csv");
        std::fs::write(&xlsx, write_xlsx(ledger(), Lang::Ja).unwrap()).unwrap();
        std::fs::write(
            &csv,
            write_csv(ledger(), Lang::Ja, CsvEncoding::Cp932).unwrap(),
        )
        .unwrap();
        Files {
            _dir: dir,
            xlsx,
            csv,
        }
    })
}

fn fresh_store() -> (tempfile::TempDir, App) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    mamori_app::init::init(&data, Some("benchmark-password-0123"), "bench").unwrap();
    let app = App::open(&data, "bench").unwrap();
    (dir, app)
}

fn import(app: &mut App, path: &Path) -> mamori_app::ledger::ImportReport {
    let mut yes = |_: &[String]| true;
    let report = app
        .import_ledger(
            path,
            ImportOptions {
                sheet: None,
                mapping: None,
                dry_run: false,
                skip_invalid: false,
                sync: false,
                confirm_retire: &mut yes,
                progress: &|_: Progress| {},
            },
        )
        .unwrap();
    assert_eq!(report.rows, ROWS);
    report
}

/// Import of a 10,000-row .xlsx into an empty store (read, validate, insert, audit, commit).
#[divan::bench(sample_count = 10, sample_size = 1)]
fn import_xlsx_10k(bencher: divan::Bencher) {
    let path = &files().xlsx;
    bencher
        .with_inputs(fresh_store)
        .bench_local_values(|(dir, mut app)| {
            assert_eq!(import(&mut app, path).added, ROWS);
            (dir, app)
        });
}

/// Import of the same ledger as a CP932 CSV into an empty store.
#[divan::bench(sample_count = 10, sample_size = 1)]
fn import_csv_cp932_10k(bencher: divan::Bencher) {
    let path = &files().csv;
    bencher
        .with_inputs(fresh_store)
        .bench_local_values(|(dir, mut app)| {
            assert_eq!(import(&mut app, path).added, ROWS);
            (dir, app)
        });
}

/// Re-import of an unchanged 10,000-row .xlsx (the monthly update case).
#[divan::bench(sample_count = 10, sample_size = 1)]
fn reimport_xlsx_unchanged_10k(bencher: divan::Bencher) {
    let path = &files().xlsx;
    bencher
        .with_inputs(|| {
            let (dir, mut app) = fresh_store();
            import(&mut app, path);
            (dir, app)
        })
        .bench_local_values(|(dir, mut app)| {
            assert_eq!(import(&mut app, path).unchanged, ROWS);
            (dir, app)
        });
}

fn filled_store() -> &'static std::sync::Mutex<(tempfile::TempDir, App)> {
    static S: OnceLock<std::sync::Mutex<(tempfile::TempDir, App)>> = OnceLock::new();
    S.get_or_init(|| {
        let (dir, mut app) = fresh_store();
        import(&mut app, &files().xlsx);
        std::sync::Mutex::new((dir, app))
    })
}

/// Export of 10,000 devices from the store to .xlsx (load, write workbook, write file).
#[divan::bench(sample_count = 10, sample_size = 1)]
fn export_xlsx_10k(bencher: divan::Bencher) {
    let mut guard = filled_store().lock().unwrap();
    let (dir, app) = &mut *guard;
    let out = dir.path().join("out.xlsx");
    bencher.bench_local(|| {
        let n = app
            .export_ledger(
                &out,
                Lang::Ja,
                CsvEncoding::Utf8Bom,
                &AssetFilter::default(),
            )
            .unwrap();
        assert_eq!(n, ROWS);
    });
}

/// Export of 10,000 devices to a CP932 CSV.
#[divan::bench(sample_count = 10, sample_size = 1)]
fn export_csv_cp932_10k(bencher: divan::Bencher) {
    let mut guard = filled_store().lock().unwrap();
    let (dir, app) = &mut *guard;
    let out = dir.path().join("out.csv");
    bencher.bench_local(|| {
        let n = app
            .export_ledger(&out, Lang::Ja, CsvEncoding::Cp932, &AssetFilter::default())
            .unwrap();
        assert_eq!(n, ROWS);
    });
}
