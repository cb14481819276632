//! Hostile spreadsheets and feed files: small files that would cost a careless reader gigabytes are refused
//! while they are read — naming the file, the cell or part, and the limit — with exit code 1
//! and the ledger unchanged. The files come from `tests/hostile` (also written by
//! `cargo run --example hostile` for the peak-memory figures in docs/BENCHMARKS.md).

mod hostile;
mod support;

use support::{seeded, Env};

/// Imports `file` (also as a dry run) and expects a refusal saying each of `expect`.
fn refused(env: &Env, file: &std::path::Path, expect: &[&str]) {
    let before = env.ledger();
    for dry in [true, false] {
        let mut args = vec!["--lang", "en", "ledger", "import", file.to_str().unwrap()];
        if dry {
            args.push("--dry-run");
        }
        let r = env.run(&args);
        assert_eq!(r.code, 1, "{args:?}: {}", r.stderr);
        let name = file.file_name().unwrap().to_str().unwrap();
        assert!(r.stderr.contains(name), "names the file: {}", r.stderr);
        for e in expect {
            assert!(r.stderr.contains(e), "expected {e:?} in: {}", r.stderr);
        }
    }
    assert_eq!(
        env.ledger(),
        before,
        "ledger unchanged by {}",
        file.display()
    );
}

#[test]
fn a_value_far_away_is_refused_naming_its_cell() {
    let env = seeded();
    for cell in ["XFD1048576", "XFD1000", "A1048576"] {
        let f = env.path(&format!("sparse-{cell}.xlsx"));
        let bytes = hostile::sparse_cell(cell);
        assert!(bytes.len() < 4096, "{} bytes", bytes.len());
        std::fs::write(&f, bytes).unwrap();
        refused(&env, &f, &[cell, "200000 rows and 1024 columns"]);
    }
    // Within the limits the same value is read, and reported as the row problem it is.
    let f = env.path("near.xlsx");
    std::fs::write(&f, hostile::sparse_cell("Z30")).unwrap();
    let r = env.run(&[
        "--lang",
        "en",
        "ledger",
        "import",
        f.to_str().unwrap(),
        "--dry-run",
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("column Z: this column has data but no header"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_zip_bomb_is_refused_naming_the_part() {
    let env = seeded();
    let f = env.path("bomb.xlsx");
    let bytes = hostile::shared_strings_bomb(80 << 20);
    assert!(bytes.len() < 1 << 20, "{} bytes", bytes.len());
    std::fs::write(&f, bytes).unwrap();
    refused(&env, &f, &["xl/sharedStrings.xml", "64 MiB"]);
}

#[test]
fn millions_of_cells_are_refused() {
    let env = seeded();
    let f = env.path("cells.xlsx");
    std::fs::write(&f, hostile::many_cells(4_100, 1_000)).unwrap();
    refused(&env, &f, &["more than 4000000 cells"]);
    let f = env.path("wide.csv");
    std::fs::write(&f, hostile::wide_csv(5_000)).unwrap();
    refused(&env, &f, &["AMK2", "1024 columns"]);
}

#[test]
fn a_file_past_the_limit_or_without_end_is_not_read() {
    let env = seeded();
    // A sparse file: 101 MiB to the file system, nothing on the disk.
    let f = env.path("huge.csv");
    std::fs::File::create(&f)
        .unwrap()
        .set_len(101 << 20)
        .unwrap();
    refused(&env, &f, &["too large", "100 MiB"]);
    // A device that never ends.
    let r = env.run(&["--lang", "en", "ledger", "import", "/dev/zero"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("/dev/zero") && r.stderr.contains("too large"),
        "{}",
        r.stderr
    );
}

#[test]
fn feed_files_with_endless_text_or_attributes_are_refused_by_name() {
    let env = seeded();
    for (name, bytes, says) in [
        (
            "nvd-text.json.gz",
            hostile::nvd_long_description(8 << 20),
            "record 1: JSON error at line 1",
        ),
        (
            "jvn-attrs.xml",
            hostile::jvn_many_attributes(100_000),
            "more than 64 attributes",
        ),
    ] {
        let f = env.path(name);
        std::fs::write(&f, bytes).unwrap();
        let r = env.run(&["--lang", "en", "feeds", "import", f.to_str().unwrap()]);
        assert_eq!(r.code, 1, "{name}: {}", r.stderr);
        assert!(
            r.stderr.contains(name) && r.stderr.contains(says),
            "{name}: {}",
            r.stderr
        );
        assert!(r.stderr.contains("nothing changed"), "{}", r.stderr);
    }
    let r = env.run(&["--json", "vuln", "show", "CVE-2099-0001"]);
    assert_eq!(r.code, 1, "nothing was stored: {}", r.stdout);
}
