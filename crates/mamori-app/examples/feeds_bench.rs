//! Full-NVD-scale feed ingest benchmark (issue 3). Three steps, each its own process so that
//! peak memory is measured for that step alone:
//!
//! ```sh
//! cargo run --release -p mamori-app --example feeds_bench -- generate /tmp/nvd320k
//! cargo run --release -p mamori-app --example feeds_bench -- parse    /tmp/nvd320k
//! cargo run --release -p mamori-app --example feeds_bench -- ingest   /tmp/nvd320k   # twice: new, then unchanged
//! ```
//!
//! `generate` replicates the 69,840 real records of `../shared/data/nvd/api-2.0-from-1.1/`
//! under new ids (`CVE-2014-0001` → `CVE-R2-2014-0001`) into gzip files until there are at
//! least 320,000 records — the size of the NVD today. Results go in docs/BENCHMARKS.md.

mod support;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;
use support::{peak_rss_mb, shared};

const TARGET: usize = 320_000;

fn count_records(json: &[u8]) -> usize {
    let needle = b"{\"cve\":{";
    json.windows(needle.len()).filter(|w| *w == needle).count()
}

fn generate(out: &Path) {
    std::fs::create_dir_all(out).unwrap();
    let mut sources: Vec<PathBuf> = std::fs::read_dir(shared())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    sources.sort();
    let originals: Vec<(String, Vec<u8>)> = sources
        .iter()
        .map(|p| {
            let mut bytes = Vec::new();
            flate2::read::GzDecoder::new(std::fs::File::open(p).unwrap())
                .read_to_end(&mut bytes)
                .unwrap();
            (
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .replace(".json.gz", ""),
                bytes,
            )
        })
        .collect();
    let (mut total, mut replica) = (0usize, 0usize);
    'outer: loop {
        for (name, bytes) in &originals {
            if total >= TARGET {
                break 'outer;
            }
            let text = String::from_utf8_lossy(bytes);
            let text = if replica == 0 {
                text.into_owned()
            } else {
                text.replace("\"id\":\"CVE-", &format!("\"id\":\"CVE-R{replica}-"))
            };
            let n = count_records(text.as_bytes());
            let path = out.join(format!("{name}-r{replica}.json.gz"));
            let mut gz = flate2::write::GzEncoder::new(
                std::fs::File::create(&path).unwrap(),
                flate2::Compression::fast(),
            );
            gz.write_all(text.as_bytes()).unwrap();
            gz.finish().unwrap();
            total += n;
            eprintln!("{} ({n} records, {total} in all)", path.display());
        }
        replica += 1;
    }
    println!("generated {total} records in {}", out.display());
}

fn parse(dir: &Path) {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".json.gz"))
        .collect();
    files.sort();
    // Decompress first so that only parsing is timed.
    let mut total_bytes = 0usize;
    let mut records = 0usize;
    let mut parse_time = 0.0;
    for f in &files {
        let mut bytes = Vec::new();
        flate2::read::GzDecoder::new(std::fs::File::open(f).unwrap())
            .read_to_end(&mut bytes)
            .unwrap();
        total_bytes += bytes.len();
        let start = Instant::now();
        let s = mamori_feeds::nvd::parse_nvd(&bytes, &mut |v| {
            std::hint::black_box(v);
        })
        .unwrap();
        parse_time += start.elapsed().as_secs_f64();
        records += s.records;
    }
    let mb = total_bytes as f64 / 1e6;
    println!("parse: {records} records, {mb:.0} MB JSON in {parse_time:.1} s = {:.0} MB/s, {:.0} records/s", mb / parse_time, records as f64 / parse_time);
}

fn ingest(dir: &Path) {
    // The store sits beside the feed folder, not in it.
    let data = dir.with_file_name(format!(
        "{}-store",
        dir.file_name().unwrap().to_string_lossy()
    ));
    if !data.join(mamori_app::DB_FILE).exists() {
        mamori_app::init::init(&data, Some("benchmark-password-0123"), "bench").unwrap();
    }
    let mut app = mamori_app::App::open(&data, "bench").unwrap();
    let start = Instant::now();
    let reports = app.import_feeds(&[dir.to_path_buf()], &|_| {}).unwrap();
    let secs = start.elapsed().as_secs_f64();
    let (mut records, mut added, mut unchanged) = (0, 0, 0);
    for r in &reports {
        assert!(r.error.is_none(), "{}: {:?}", r.origin, r.error);
        records += r.records;
        added += r.added;
        unchanged += r.unchanged;
    }
    let db = std::fs::metadata(data.join(mamori_app::DB_FILE))
        .map(|m| m.len())
        .unwrap_or(0) as f64
        / 1e6;
    println!(
        "ingest: {records} records (added {added}, unchanged {unchanged}) in {secs:.1} s = {:.0} records/s; peak RSS {:.0} MB; database {db:.0} MB",
        records as f64 / secs,
        peak_rss_mb()
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(step), Some(dir)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: feeds_bench generate|parse|ingest DIR");
        std::process::exit(1);
    };
    let dir = Path::new(dir);
    match step.as_str() {
        "generate" => generate(dir),
        "parse" => parse(dir),
        "ingest" => ingest(dir),
        other => {
            eprintln!("unknown step {other}");
            std::process::exit(1);
        }
    }
}
