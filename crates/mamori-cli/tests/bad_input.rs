//! Bad input: each gets a clear message naming the file (and row, column) with exit
//! code 1, and the store stays exactly as it was.

mod support;

use support::{python_fixtures, seeded, Env};

fn assert_rejected(env: &Env, file: &std::path::Path, expect: &[&str]) {
    let before = env.ledger();
    let r = env.run(&["--lang", "en", "ledger", "import", file.to_str().unwrap()]);
    assert_eq!(r.code, 1, "exit code for {}: {}", file.display(), r.stderr);
    assert!(
        r.stderr
            .contains(file.file_name().unwrap().to_str().unwrap()),
        "names the file: {}",
        r.stderr
    );
    for e in expect {
        assert!(r.stderr.contains(e), "expected {e:?} in: {}", r.stderr);
    }
    assert_eq!(
        env.ledger(),
        before,
        "store unchanged after {}",
        file.display()
    );
}

#[test]
fn truncated_xlsx() {
    let env = seeded();
    let full = env.path("full.xlsx");
    support::write_xlsx(
        &full,
        &["管理番号", "機器名"],
        &[vec!["T-1".into(), "x".into()]],
    );
    let bytes = std::fs::read(&full).unwrap();
    let cut = env.path("truncated.xlsx");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    assert_rejected(&env, &cut, &["damaged or truncated"]);
}

#[test]
fn pdf_renamed_to_xlsx() {
    let env = seeded();
    let f = env.path("ledger.xlsx");
    std::fs::write(&f, b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n").unwrap();
    assert_rejected(&env, &f, &["is a PDF"]);
}

#[test]
fn text_in_neither_utf8_nor_cp932() {
    let env = seeded();
    let f = env.path("broken.csv");
    std::fs::write(&f, b"\xe7\xae\xa1\xe7\x90\x86,x\n\x82\xff\xfe\xfd\n").unwrap();
    assert_rejected(
        &env,
        &f,
        &["unknown text encoding", "line 2", "UTF-8", "CP932"],
    );
}

#[test]
fn euc_jp_text_is_not_silently_garbled() {
    let env = seeded();
    let (bytes, _, _) = encoding_rs::EUC_JP.encode("管理番号,機器名\nE-1,サーバ\n");
    let f = env.path("euc.csv");
    std::fs::write(&f, &bytes).unwrap();
    // EUC-JP bytes are not valid UTF-8; decoded as CP932 the headers are garbage, so no
    // header row is found.
    let r = env.run(&["--lang", "en", "ledger", "import", f.to_str().unwrap()]);
    assert_eq!(r.code, 1);
    assert_eq!(env.count(), 1);
}

#[test]
fn megabyte_cell() {
    let env = seeded();
    let f = env.path("huge.csv");
    std::fs::write(
        &f,
        format!("管理番号,機器名,備考\nH-1,x,{}\n", "あ".repeat(1_000_000)),
    )
    .unwrap();
    assert_rejected(
        &env,
        &f,
        &["row 2, column C (備考)", "too long (1000000 characters"],
    );
}

#[test]
fn hundred_thousand_empty_rows_are_skipped_quickly() {
    let env = seeded();
    let f = env.path("empty-rows.csv");
    let mut text = String::from("管理番号,機器名,部署\nR-1,x,内科\n");
    text.push_str(&",,\n".repeat(100_000));
    text.push_str("R-2,y,外科\n");
    std::fs::write(&f, text).unwrap();
    let r = env.run(&["--json", "ledger", "import", f.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["added"], 2);

    let x = env.path("empty-rows.xlsx");
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_string(0, 0, "管理番号").unwrap();
    ws.write_string(0, 1, "機器名").unwrap();
    ws.write_string(1, 0, "R-3").unwrap();
    ws.write_string(1, 1, "z").unwrap();
    let fmt = rust_xlsxwriter::Format::new().set_bold();
    for r in 2..100_002u32 {
        ws.write_blank(r, 0, &fmt).unwrap();
    }
    wb.save(&x).unwrap();
    let r = env.run(&["--json", "ledger", "import", x.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["added"], 1);
}

#[test]
fn duplicate_headers() {
    let env = seeded();
    let f = env.path("dup.csv");
    std::fs::write(
        &f,
        "管理番号,機器名,IP,IPアドレス\nD-1,x,127.0.0.1,127.0.0.2\n",
    )
    .unwrap();
    assert_rejected(
        &env,
        &f,
        &["column C already holds", "row 1, column D (IPアドレス)"],
    );
}

#[test]
fn merged_header_cells_written_by_rust_xlsxwriter() {
    let env = seeded();
    let f = env.path("merged.xlsx");
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_string(0, 0, "管理番号").unwrap();
    ws.write_string(0, 1, "機器名").unwrap();
    ws.merge_range(0, 2, 0, 3, "ネットワーク", &rust_xlsxwriter::Format::new())
        .unwrap();
    ws.write_string(1, 0, "M-1").unwrap();
    ws.write_string(1, 1, "x").unwrap();
    ws.write_string(1, 2, "127.0.0.1").unwrap();
    ws.write_string(1, 3, "00:11:22:33:44:55").unwrap();
    wb.save(&f).unwrap();
    assert_rejected(&env, &f, &["row 1, column D", "merged header cells"]);
}

#[test]
fn formula_with_cached_value_is_read_with_a_warning() {
    let env = seeded();
    let f = env.path("formula.xlsx");
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_string(0, 0, "管理番号").unwrap();
    ws.write_string(0, 1, "機器名").unwrap();
    ws.write_string(1, 0, "FX-1").unwrap();
    ws.write_formula(
        1,
        1,
        rust_xlsxwriter::Formula::new("=\"端末\"&\"PC\"").set_result("端末PC"),
    )
    .unwrap();
    wb.save(&f).unwrap();
    let r = env.run(&["--lang", "en", "ledger", "import", f.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("1 formula cells were imported as their calculated values"),
        "{}",
        r.stdout
    );
    assert!(env.ledger().iter().any(|a| a["name"] == "端末PC"));
}

#[test]
fn workbooks_from_other_writers_formula_merged_encrypted() {
    let env = seeded();
    if !python_fixtures(env.dir.path()) {
        return;
    }
    assert_rejected(
        &env,
        &env.path("openpyxl-formula.xlsx"),
        &[
            "row 3, column B (機器名)",
            "formula cell without a calculated value",
        ],
    );
    assert_rejected(
        &env,
        &env.path("openpyxl-merged.xlsx"),
        &["column D", "merged header cells"],
    );
    assert_rejected(&env, &env.path("encrypted.xlsx"), &["password-protected"]);
}

#[test]
fn missing_file_missing_sheet_and_unknown_extension() {
    let env = seeded();
    let r = env.run(&[
        "--lang",
        "en",
        "ledger",
        "import",
        env.path("nope.xlsx").to_str().unwrap(),
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("nope.xlsx"));
    let f = env.path("s.xlsx");
    support::write_xlsx(&f, &["管理番号", "機器名"], &[]);
    let r = env.run(&[
        "--lang",
        "en",
        "ledger",
        "import",
        "--sheet",
        "台帳2",
        f.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("no sheet named \"台帳2\"") && r.stderr.contains("Sheet1"),
        "{}",
        r.stderr
    );
    let f = env.path("ledger.docx");
    std::fs::write(&f, "x").unwrap();
    assert_rejected(&env, &f, &[".docx", ".xlsx"]);
}
