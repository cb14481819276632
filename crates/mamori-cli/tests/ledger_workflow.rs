//! The ledger's life: init, demo, export → import round trip, add/edit/retire, stock-take,
//! the audit log, languages and exit codes.

mod support;

use support::Env;

#[test]
fn init_prints_a_one_time_password_once_and_refuses_to_overwrite() {
    let env = Env::empty();
    let r = env.run(&["--lang", "en", "init"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let line = r
        .stdout
        .lines()
        .find(|l| l.starts_with("one-time password:"))
        .expect("password line");
    let password = line.trim_start_matches("one-time password:").trim();
    assert_eq!(password.len(), 20);
    let db = std::fs::read(env.data().join("mamori.db")).unwrap();
    assert!(
        !db.windows(password.len()).any(|w| w == password.as_bytes()),
        "the password is not stored"
    );
    let r = env.run(&["--lang", "en", "init"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("already holds a mamori store"),
        "{}",
        r.stderr
    );
}

#[test]
fn init_with_a_password_file_checks_its_length() {
    let env = Env::empty();
    let short = env.path("short.txt");
    std::fs::write(&short, "tooshort\n").unwrap();
    let r = env.run(&[
        "--lang",
        "en",
        "init",
        "--admin-password-file",
        short.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("at least 13"), "{}", r.stderr);
    assert!(!env.data().join("mamori.db").exists(), "nothing created");
    let good = env.path("good.txt");
    std::fs::write(&good, "a-long-enough-passphrase\n").unwrap();
    let r = env.run(&[
        "--json",
        "init",
        "--admin-password-file",
        good.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["one_time_password"], serde_json::Value::Null);
}

#[test]
fn export_then_import_yields_an_identical_ledger() {
    let env = Env::empty();
    let demo_dir = env.path("demo");
    let r = env.run(&["demo", "--no-serve", "--dir", demo_dir.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let demo = |args: &[&str]| env.run_in(&demo_dir, args);
    let original = {
        let r = demo(&["ledger", "list", "--json"]);
        let mut v = r.json()["assets"].as_array().unwrap().clone();
        for a in &mut v {
            a.as_object_mut()
                .unwrap()
                .retain(|k, _| k != "created_at" && k != "updated_at");
        }
        v
    };
    assert!(original.len() >= 180);
    for (file, extra) in [
        ("export.xlsx", vec![]),
        ("export.csv", vec!["--encoding", "cp932"]),
        ("export-en.xlsx", vec!["--lang", "en"]),
    ] {
        let path = env.path(file);
        let mut args = vec!["ledger", "export", path.to_str().unwrap()];
        args.extend(extra.iter().copied());
        let r = demo(&args);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let fresh = Env::init();
        let r = fresh.run(&["ledger", "import", path.to_str().unwrap()]);
        assert_eq!(r.code, 0, "{file}: {}", r.stderr);
        assert_eq!(fresh.ledger(), original, "{file} round-trips");
    }
}

#[test]
fn exported_xlsx_has_frozen_filtered_header_and_date_cells() {
    use calamine::{Data, Reader};
    let env = Env::init();
    let f = env.path("in.csv");
    std::fs::write(
        &f,
        "管理番号,機器名,サポート終了日\nX-1,サーバ,2023-10-10\n",
    )
    .unwrap();
    assert_eq!(env.run(&["ledger", "import", f.to_str().unwrap()]).code, 0);
    let out = env.path("out.xlsx");
    assert_eq!(
        env.run(&["--lang", "ja", "ledger", "export", out.to_str().unwrap()])
            .code,
        0
    );
    let mut wb = calamine::open_workbook_auto(&out).unwrap();
    assert_eq!(wb.sheet_names(), vec!["機器台帳".to_string()]);
    let range = wb.worksheet_range("機器台帳").unwrap();
    assert_eq!(range.get((0, 0)), Some(&Data::String("管理番号".into())));
    let eos_col = (0..range.width())
        .find(|c| range.get((0, *c)) == Some(&Data::String("サポート終了日".into())))
        .unwrap();
    assert!(
        matches!(range.get((1, eos_col)), Some(Data::DateTime(_))),
        "{:?}",
        range.get((1, eos_col))
    );
    // Frozen pane and autofilter live in the sheet XML.
    let mut archive = zip_entries(&out);
    let sheet = archive
        .remove("xl/worksheets/sheet1.xml")
        .expect("sheet1.xml");
    assert!(
        sheet.contains("state=\"frozen\"") && sheet.contains("<autoFilter"),
        "{sheet}"
    );
}

/// The XML parts of an .xlsx (a zip archive).
fn zip_entries(path: &std::path::Path) -> std::collections::HashMap<String, String> {
    use std::io::Read;
    let mut archive = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut out = std::collections::HashMap::new();
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).unwrap();
        let name = entry.name().unwrap().to_string();
        if name.ends_with(".xml") {
            let mut text = String::new();
            entry.read_to_string(&mut text).unwrap();
            out.insert(name, text);
        }
    }
    out
}

#[test]
fn add_edit_retire_show_and_audit() {
    let env = Env::init();
    let r = env.run(&[
        "--lang",
        "en",
        "ledger",
        "add",
        "VPN-1",
        "--name",
        "保守VPN",
        "--kind",
        "ネットワーク機器",
        "--set",
        "os=FortiOS",
        "--set",
        "バージョン=6.0.4",
        "--set",
        "ip=127.0.0.9",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = env.run(&["--lang", "en", "ledger", "add", "VPN-1", "--name", "again"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("already exists"), "{}", r.stderr);
    let r = env.run(&[
        "--lang",
        "en",
        "ledger",
        "add",
        "X-1",
        "--name",
        "x",
        "--set",
        "ip=not-an-ip",
    ]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("not an IP address"), "{}", r.stderr);
    let r = env.run(&[
        "--lang",
        "en",
        "ledger",
        "add",
        "X-1",
        "--name",
        "x",
        "--set",
        "colour=red",
    ]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("\"colour\" is not a ledger column"),
        "{}",
        r.stderr
    );

    let r = env.run(&[
        "--json",
        "ledger",
        "edit",
        "VPN-1",
        "--set",
        "バージョン=7.2.8",
        "--set",
        "状態=停止中",
        "--reason",
        "更新作業",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.json()["changed"],
        serde_json::json!(["os_version", "status"])
    );
    let r = env.run(&[
        "--json",
        "ledger",
        "retire",
        "VPN-1",
        "--reason",
        "リプレース",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = env.run(&["--lang", "en", "ledger", "retire", "VPN-1"]);
    assert_eq!(r.code, 1);
    let shown = env.run(&["--json", "ledger", "show", "VPN-1"]).json();
    assert_eq!(shown["asset"]["os_version"], "7.2.8");
    assert_eq!(shown["asset"]["status"], "retired");
    let history: Vec<&str> = shown["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["to"].as_str().unwrap())
        .collect();
    assert_eq!(history, ["in_use", "stopped", "retired"]);
    assert_eq!(shown["history"][1]["reason"], "更新作業");
    assert_eq!(shown["history"][1]["actor"], "os:tester");

    let audit = env.run(&["--json", "audit", "tail", "--limit", "3"]).json();
    let actions: Vec<&str> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["asset.create", "asset.update", "asset.retire"]);
    assert_eq!(
        audit["entries"][1]["detail"]["changed"]["os_version"],
        serde_json::json!(["6.0.4", "7.2.8"])
    );
    let r = env.run(&["--lang", "en", "audit", "verify"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("intact"));

    let r = env.run(&["--lang", "en", "ledger", "show", "NOPE"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("no device with asset_id \"NOPE\""),
        "{}",
        r.stderr
    );
}

#[test]
fn list_filters_by_kind_status_department_and_search() {
    let env = Env::init();
    let f = env.path("l.csv");
    std::fs::write(
        &f,
        "管理番号,機器種別,機器名,部署,IPアドレス,状態\nA,サーバ,PACS,放射線科,127.0.0.1,稼働中\nB,端末PC,読影端末,放射線科,127.0.0.2,予備\nC,サーバ,会計,医事課,127.0.0.3,稼働中\n",
    )
    .unwrap();
    assert_eq!(env.run(&["ledger", "import", f.to_str().unwrap()]).code, 0);
    let ids = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["--json", "ledger", "list"];
        all.extend_from_slice(args);
        env.run(&all).json()["assets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["asset_id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(ids(&["--kind", "server"]), ["A", "C"]);
    assert_eq!(
        ids(&["--kind", "サーバ", "--department", "放射線科"]),
        ["A"]
    );
    assert_eq!(ids(&["--status", "予備"]), ["B"]);
    assert_eq!(ids(&["--search", "127.0.0.3"]), ["C"]);
    assert_eq!(ids(&["--search", "読影"]), ["B"]);
    let r = env.run(&["--lang", "en", "ledger", "list", "--kind", "toaster"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("Server, Terminal PC"), "{}", r.stderr);
    let r = env.run(&["--lang", "ja", "ledger", "list"]);
    assert!(
        r.stdout.contains("管理番号") && r.stdout.contains("3 台"),
        "{}",
        r.stdout
    );
}

#[test]
fn stocktake_records_results_and_updates_the_date() {
    let env = Env::init();
    let f = env.path("l.csv");
    std::fs::write(
        &f,
        "管理番号,機器名,状態\nA,a,稼働中\nB,b,稼働中\nC,c,予備\nD,d,廃棄済\n",
    )
    .unwrap();
    assert_eq!(env.run(&["ledger", "import", f.to_str().unwrap()]).code, 0);
    let r = env.run(&[
        "--json",
        "ledger",
        "stocktake",
        "--date",
        "2026-11-20",
        "--by",
        "山田",
        "--missing",
        "B",
        "--rest-found",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let j = r.json();
    assert_eq!(j["counts"], serde_json::json!({"found": 2, "missing": 1}));
    assert_eq!(j["not_checked"], serde_json::json!([]));
    let ledger = env.ledger();
    assert_eq!(ledger[0]["last_stocktake"], "2026-11-20");
    assert_eq!(
        ledger[1]["last_stocktake"],
        serde_json::Value::Null,
        "missing device keeps its old date"
    );

    let results = env.path("棚卸結果.csv");
    std::fs::write(
        &results,
        "管理番号,結果,備考\nA,確認済,\nB,記載相違,2階に移動\n",
    )
    .unwrap();
    let r = env.run(&[
        "--json",
        "ledger",
        "stocktake",
        "--date",
        "令和8年11月24日",
        "--file",
        results.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["not_checked"], serde_json::json!(["C"]));
    let list = env.run(&["--json", "ledger", "stocktakes"]).json();
    assert_eq!(list["stocktakes"].as_array().unwrap().len(), 2);
    assert_eq!(list["stocktakes"][0]["date"], "2026-11-24");
    let r = env.run(&["--lang", "en", "ledger", "stocktake", "--found", "ZZZ"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("ZZZ"), "{}", r.stderr);
}

#[test]
fn language_follows_lang_and_flag() {
    let env = Env::empty();
    let r = env.run_env(&["ledger", "list"], &[("LANG", "ja_JP.UTF-8")]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.starts_with("エラー:") && r.stderr.contains("mamori init"),
        "{}",
        r.stderr
    );
    let r = env.run_env(&["ledger", "list"], &[("LANG", "en_US.UTF-8")]);
    assert!(r.stderr.starts_with("error:"), "{}", r.stderr);
    let r = env.run_env(
        &["--lang", "en", "ledger", "list"],
        &[("LANG", "ja_JP.UTF-8")],
    );
    assert!(r.stderr.starts_with("error:"), "{}", r.stderr);
}

#[test]
fn exit_codes() {
    let env = Env::empty();
    assert_eq!(env.run(&["--help"]).code, 0);
    assert_eq!(
        env.run(&["no-such-command"]).code,
        1,
        "usage errors are the user's"
    );
    assert_eq!(env.run(&["ledger", "list"]).code, 1, "no store yet");
    let r = env.run(&["--json", "ledger", "list"]);
    let err: serde_json::Value = serde_json::from_str(r.stderr.trim()).unwrap();
    assert_eq!(err["error"]["exit_code"], 1);
    // A store that is not a database is an internal problem, not the user's input.
    std::fs::create_dir_all(env.data()).unwrap();
    std::fs::write(env.data().join("mamori.db"), b"this is not sqlite").unwrap();
    assert_eq!(env.run(&["ledger", "list"]).code, 2);
}

#[test]
fn demo_is_repeatable_and_refuses_foreign_directories() {
    let env = Env::empty();
    let dir = env.path("demo");
    let r = env.run(&["--json", "demo", "--dir", dir.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let j = r.json();
    assert!(
        j["past_eos"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v == "NW-001"),
        "the FortiOS 6.0.4 VPN is past EOS"
    );
    let r = env.run(&["--json", "demo", "--dir", dir.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["replaced"], true);
    let other = env.path("precious");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(other.join("keep.txt"), "data").unwrap();
    let r = env.run(&[
        "--lang",
        "en",
        "demo",
        "--no-serve",
        "--dir",
        other.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 1);
    assert!(other.join("keep.txt").exists());
}
