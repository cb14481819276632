//! Writes the hostile input files of `tests/hostile` into a folder, for measuring what
//! reading them costs (docs/BENCHMARKS.md, "Hostile input"):
//!
//! ```sh
//! cargo run --release -p mamori-cli --example hostile -- /tmp/hostile
//! ```

#[path = "../tests/hostile/mod.rs"]
mod hostile;

fn main() {
    let dir = std::path::PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "hostile".into()));
    std::fs::create_dir_all(&dir).expect("create the folder");
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("sparse-XFD1048576.xlsx", hostile::sparse_cell("XFD1048576")),
        ("sparse-XFD1000.xlsx", hostile::sparse_cell("XFD1000")),
        (
            "strings-bomb-1GiB.xlsx",
            hostile::shared_strings_bomb(1 << 30),
        ),
        ("cells-8M.xlsx", hostile::many_cells(200_000, 40)),
        ("wide.csv", hostile::wide_csv(10_000_000)),
        (
            "nvd-description-200MiB.json.gz",
            hostile::nvd_long_description(200 << 20),
        ),
        (
            "nvd-description-1.5GiB.json.gz",
            hostile::nvd_long_description(1536 << 20),
        ),
        (
            "jvn-100k-attributes.xml",
            hostile::jvn_many_attributes(100_000),
        ),
    ];
    for (name, bytes) in files {
        let path = dir.join(name);
        std::fs::write(&path, &bytes).expect("write");
        println!("{:>12} bytes  {}", bytes.len(), path.display());
    }
}
