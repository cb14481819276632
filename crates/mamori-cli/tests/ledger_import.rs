//! Importing ledgers through the `mamori` command, as a hospital's IT person would.

mod support;

use support::{python_fixtures, write_xlsx, Env};

const HEADERS: &[&str] = &[
    "管理番号",
    "機器種別",
    "機器名",
    "部署",
    "設置場所",
    "IPアドレス",
    "MACアドレス",
    "OS・ファームウェア",
    "バージョン",
    "状態",
    "サポート終了日",
    "リモートメンテナンス",
];

fn row(i: usize) -> Vec<String> {
    vec![
        format!("A-{i:04}"),
        [
            "サーバ",
            "端末PC",
            "ネットワーク機器",
            "医療機器",
            "IoT機器",
            "検査機器付属",
        ][i % 6]
            .into(),
        format!("電子カルテ端末 {i}"),
        ["内科", "外科", "放射線科", "医事課"][i % 4].into(),
        format!("本館{}F", i % 5 + 1),
        format!("127.1.{}.{}", i / 250, i % 250 + 1),
        format!("02:00:00:00:{:02x}:{:02x}", i / 256, i % 256),
        "Windows 10 Pro".into(),
        "22H2".into(),
        ["稼働中", "予備", "停止中"][i % 3].into(),
        "2025/10/14".into(),
        ["有", "無", ""][i % 3].into(),
    ]
}

#[test]
fn xlsx_with_300_rows_and_japanese_headers_imports_completely() {
    let env = Env::init();
    let file = env.path("台帳.xlsx");
    write_xlsx(&file, HEADERS, &(1..=300).map(row).collect::<Vec<_>>());
    let r = env.run(&["--lang", "ja", "ledger", "import", file.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("追加 300"), "{}", r.stdout);
    let ledger = env.ledger();
    assert_eq!(ledger.len(), 300);
    let a = ledger.iter().find(|a| a["asset_id"] == "A-0150").unwrap();
    assert_eq!(a["kind"], "server");
    assert_eq!(a["department"], "放射線科");
    assert_eq!(a["ip"][0], "127.1.0.151");
    assert_eq!(a["eos_date"], "2025-10-14");
    assert_eq!(a["status"], "in_use");
    // Re-import: keyed by 管理番号, nothing changes.
    let r = env.run(&["--lang", "en", "ledger", "import", file.to_str().unwrap()]);
    assert!(
        r.stdout.contains("added 0  updated 0  unchanged 300"),
        "{}",
        r.stdout
    );
}

#[test]
fn cp932_csv_from_japanese_excel_imports() {
    let env = Env::init();
    let text = "管理番号,機器種別,機器名,管理責任者,設置部署,IP\r\nC-1,ｻｰﾊﾞ,PACSサーバ①,髙橋 一郎,放射線科,127.0.0.1\r\nC-2,端末ＰＣ,受付端末,﨑山 花子,医事課,\r\n";
    let (bytes, _, bad) = encoding_rs::SHIFT_JIS.encode(text);
    assert!(!bad);
    let file = env.path("台帳_sjis.csv");
    std::fs::write(&file, &bytes).unwrap();
    let r = env.run(&["--json", "ledger", "import", file.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["format"], "csv (CP932)");
    let ledger = env.ledger();
    assert_eq!(ledger.len(), 2);
    assert_eq!(ledger[0]["name"], "PACSサーバ①");
    assert_eq!(ledger[0]["owner"], "髙橋 一郎");
    assert_eq!(ledger[0]["kind"], "server");
    assert_eq!(ledger[1]["owner"], "﨑山 花子");
    assert_eq!(ledger[1]["kind"], "terminal");
}

#[test]
fn three_bad_rows_are_named_and_nothing_changes() {
    let env = Env::init();
    let good = env.path("good.csv");
    std::fs::write(&good, "管理番号,機器名\nK-1,既存の機器\n").unwrap();
    assert_eq!(
        env.run(&["ledger", "import", good.to_str().unwrap()]).code,
        0
    );
    let before = env.ledger();

    let bad = env.path("bad.csv");
    std::fs::write(
        &bad,
        "管理番号,機器名,IPアドレス,サポート終了日,状態\n\
         K-1,名前を変える,127.0.0.1,,\n\
         K-2,サーバ,127.0.0.999,,\n\
         K-3,,,,\n\
         K-4,端末,,2025-13-40,\n\
         K-5,正しい行,,,予備\n",
    )
    .unwrap();
    let r = env.run(&["--lang", "en", "ledger", "import", bad.to_str().unwrap()]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("3 invalid rows"), "{}", r.stderr);
    assert!(
        r.stderr
            .contains("row 3, column C (IPアドレス) value \"127.0.0.999\""),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("row 4, column B (機器名): name is required"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("row 5, column D (サポート終了日) value \"2025-13-40\""),
        "{}",
        r.stderr
    );
    assert_eq!(env.ledger(), before, "the store is unchanged");

    // Japanese messages too, and --skip-invalid imports the rest.
    let r = env.run(&["--lang", "ja", "ledger", "import", bad.to_str().unwrap()]);
    assert!(r.stderr.contains("3行目 C列「IPアドレス」"), "{}", r.stderr);
    let r = env.run(&[
        "--lang",
        "en",
        "ledger",
        "import",
        "--skip-invalid",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("added 1  updated 1  unchanged 0  retired 0  skipped 3"),
        "{}",
        r.stdout
    );
    assert_eq!(env.count(), 2);
}

#[test]
fn dry_run_reports_without_changing() {
    let env = Env::init();
    let f = env.path("a.csv");
    std::fs::write(&f, "asset_id,name\nX-1,a\nX-2,b\n").unwrap();
    let r = env.run(&[
        "--json",
        "ledger",
        "import",
        "--dry-run",
        f.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["added"], 2);
    assert_eq!(r.json()["dry_run"], true);
    assert_eq!(env.count(), 0);
}

#[test]
fn partial_sheets_update_only_their_columns() {
    let env = Env::init();
    let full = env.path("full.csv");
    std::fs::write(
        &full,
        "管理番号,機器名,部署,IPアドレス,備考\nP-1,サーバ,医療情報部,127.0.0.1,メモ\n",
    )
    .unwrap();
    assert_eq!(
        env.run(&["ledger", "import", full.to_str().unwrap()]).code,
        0
    );
    let partial = env.path("partial.csv");
    std::fs::write(
        &partial,
        "管理番号,機器名,IPアドレス\nP-1,サーバ,127.0.0.2\n",
    )
    .unwrap();
    let r = env.run(&[
        "--lang",
        "en",
        "ledger",
        "import",
        partial.to_str().unwrap(),
    ]);
    assert!(r.stdout.contains("updated 1"), "{}", r.stdout);
    let a = &env.ledger()[0];
    assert_eq!(a["ip"][0], "127.0.0.2");
    assert_eq!(
        a["department"], "医療情報部",
        "columns absent from the file are kept"
    );
    assert_eq!(a["notes"], "メモ");
}

#[test]
fn sync_asks_before_retiring_and_retires_with_yes() {
    let env = Env::init();
    let all = env.path("all.csv");
    std::fs::write(&all, "管理番号,機器名\nS-1,a\nS-2,b\nS-3,c\n").unwrap();
    assert_eq!(
        env.run(&["ledger", "import", all.to_str().unwrap()]).code,
        0
    );
    let fewer = env.path("fewer.csv");
    std::fs::write(&fewer, "管理番号,機器名\nS-1,a\nS-2,b\n").unwrap();
    let before = env.ledger();
    let r = env.run(&[
        "--lang",
        "en",
        "ledger",
        "import",
        "--sync",
        fewer.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("--yes") && r.stderr.contains("S-3"),
        "{}",
        r.stderr
    );
    assert_eq!(env.ledger(), before);
    let r = env.run(&[
        "--json",
        "ledger",
        "import",
        "--sync",
        "--yes",
        fewer.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["retired"], serde_json::json!(["S-3"]));
    let s3 = env.run(&["--json", "ledger", "show", "S-3"]).json();
    assert_eq!(s3["asset"]["status"], "retired");
    assert_eq!(s3["history"].as_array().unwrap().len(), 2);
}

#[test]
fn mapping_file_maps_custom_headers() {
    let env = Env::init();
    let f = env.path("odd.csv");
    std::fs::write(
        &f,
        "資産No,品目,利用部署名,旧番号\nZ-1,ルータ,医療情報部,old-9\n",
    )
    .unwrap();
    let r = env.run(&["--lang", "en", "ledger", "import", f.to_str().unwrap()]);
    assert_eq!(
        r.code, 1,
        "without a mapping the required columns are missing"
    );
    assert!(
        r.stderr.contains("asset_id") && r.stderr.contains("--mapping"),
        "{}",
        r.stderr
    );
    let m = env.path("map.toml");
    std::fs::write(&m, "[columns]\n\"資産No\" = \"管理番号\"\n\"品目\" = \"機器名\"\n\"利用部署名\" = \"department\"\n\"旧番号\" = \"ignore\"\n").unwrap();
    let r = env.run(&[
        "ledger",
        "import",
        "--mapping",
        m.to_str().unwrap(),
        f.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let a = &env.ledger()[0];
    assert_eq!(
        (
            a["asset_id"].as_str(),
            a["name"].as_str(),
            a["department"].as_str()
        ),
        (Some("Z-1"), Some("ルータ"), Some("医療情報部"))
    );
    assert!(a["custom"].as_object().unwrap().is_empty());
}

#[test]
fn openpyxl_workbook_imports() {
    let env = Env::init();
    if !python_fixtures(env.dir.path()) {
        return;
    }
    let f = env.path("openpyxl-ledger.xlsx");
    let r = env.run(&["--json", "ledger", "import", f.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let report = r.json();
    assert_eq!(
        report["header_row"], 2,
        "the title row above the header is skipped"
    );
    assert_eq!(report["added"], 50);
    let ledger = env.ledger();
    let a = ledger.iter().find(|a| a["asset_id"] == "OP-007").unwrap();
    assert_eq!(a["eos_date"], "2025-10-14", "a real date cell");
    assert_eq!(
        a["custom"]["購入金額"], "150007",
        "a number cell, kept as a custom attribute"
    );
    assert_eq!(a["department"], "内科");
    assert_eq!(a["os_version"], "22H2");
}
