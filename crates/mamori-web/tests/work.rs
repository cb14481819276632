//! The pages where work is done, through the router without sockets over a real SQLite store:
//! uploading a ledger (a job with the command line's row report; a bad file changes nothing),
//! editing a device, bulk actions and inquiries on findings, the 事業者 user's own pages (no
//! other company's device, not even by guessing its 管理番号), user management with a
//! one-time password, the vulnerability search and page (JVN's Japanese text first, from the
//! real JVN examples in ../shared/data), feed status, the operating-hours heat map, and the
//! matching run as a job.

use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use mamori_app::App;
use mamori_core::Role;
use mamori_web::{router, WebState};

mod common;

use common::*;

struct Site {
    dir: tempfile::TempDir,
    data: std::path::PathBuf,
    router: Router,
}

/// A store with admin, the operator `sato`, the vendor user `acme` (Acme), the auditor
/// `kansa`, the planner `suzuki`; devices of Acme (MR-1, PACS-1) and of Beta (CT-1).
fn setup() -> Site {
    let dir = tempfile::tempdir().unwrap();
    let (data, mut admin) = common::store(dir.path());
    admin
        .add_user("kansa", None, &[Role::Auditor], None, Some(PW))
        .unwrap();
    admin
        .add_user("suzuki", None, &[Role::Planner], None, Some(PW))
        .unwrap();
    admin
        .add_user(
            "beta",
            None,
            &[Role::Vendor],
            Some("Beta Medical"),
            Some(PW),
        )
        .unwrap();
    let mut op = App::login(&data, "sato", PW).unwrap();
    for (id, name, vendor, ip) in [
        ("MR-1", "MRI 装置", "Acme", "127.0.0.21"),
        ("PACS-1", "PACS サーバ", "acme ", "127.0.0.22"),
        ("CT-1", "CT 装置", "Beta Medical", "127.0.0.23"),
    ] {
        op.add_asset(
            id,
            &[
                ("機器名".into(), name.into()),
                ("機器種別".into(), "医療機器".into()),
                ("保守事業者".into(), vendor.into()),
                ("IPアドレス".into(), ip.into()),
                ("部署".into(), "放射線科".into()),
            ],
        )
        .unwrap();
    }
    Site {
        router: router(WebState::new(data.clone(), false)),
        data,
        dir,
    }
}

/// Open findings from a real nmap record: Telnet open on each of the three devices.
fn telnet_findings(site: &Site) -> Vec<(i64, String)> {
    let xml = site.dir.path().join("telnet.xml");
    let hosts: String = ["127.0.0.21", "127.0.0.22", "127.0.0.23"]
        .iter()
        .map(|ip| format!(r#"<host><status state="up"/><address addr="{ip}" addrtype="ipv4"/><ports><port protocol="tcp" portid="23"><state state="open"/><service name="telnet"/></port></ports></host>"#))
        .collect();
    std::fs::write(&xml, format!(r#"<?xml version="1.0"?><nmaprun scanner="nmap" args="nmap -sT" start="1764100000" version="7.93">{hosts}<runstats><finished time="1764100010"/></runstats></nmaprun>"#)).unwrap();
    let mut op = App::login(&site.data, "sato", PW).unwrap();
    op.import_nmap(&xml, mamori_core::scan::Vantage::Internal)
        .unwrap();
    op.findings(&mamori_app::findings::FindingQuery::default())
        .unwrap()
        .into_iter()
        .map(|f| (f.id, f.asset_id))
        .collect()
}

async fn upload(router: &Router, cookies: &str, csrf: &str, name: &str, bytes: &[u8]) -> Got {
    upload_with(router, cookies, csrf, name, bytes, &[]).await
}

async fn upload_with(
    router: &Router,
    cookies: &str,
    csrf: &str,
    name: &str,
    bytes: &[u8],
    flags: &[&str],
) -> Got {
    post_multipart(
        router,
        "/ledger/import",
        cookies,
        csrf,
        flags,
        &[(name, bytes)],
    )
    .await
}

/// A multipart form as a browser sends it: the CSRF token, flags set to 1, then the files.
async fn post_multipart(
    router: &Router,
    path: &str,
    cookies: &str,
    csrf: &str,
    flags: &[&str],
    files: &[(&str, &[u8])],
) -> Got {
    let b = "mamoriBoundary7MA4YWxk";
    let part = |head: &str| format!("--{b}\r\nContent-Disposition: form-data; {head}\r\n");
    let mut body = format!("{}\r\n{csrf}\r\n", part("name=\"csrf\"")).into_bytes();
    for f in flags {
        body.extend(format!("{}\r\n1\r\n", part(&format!("name=\"{f}\""))).bytes());
    }
    for (name, bytes) in files {
        let head = part(&format!("name=\"file\"; filename=\"{name}\""));
        body.extend(format!("{head}Content-Type: application/octet-stream\r\n\r\n").bytes());
        body.extend_from_slice(bytes);
        body.extend(b"\r\n");
    }
    body.extend(format!("--{b}--\r\n").bytes());
    let req = Request::post(path)
        .header(header::COOKIE, cookies)
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={b}"),
        )
        .body(Body::from(body))
        .unwrap();
    send(router, req).await
}

/// Follows a job's page until it is no longer running; returns the final page.
async fn finished(router: &Router, cookies: &str, job: &str) -> Got {
    for _ in 0..1200 {
        let page = get(router, job, cookies).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        if !page.body.contains("http-equiv=\"refresh\"") {
            return page;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the job at {job} did not finish");
}

fn ledger_ids(data: &std::path::Path) -> Vec<String> {
    let mut a = App::login(data, "sato", PW).unwrap();
    let mut ids: Vec<String> = a
        .list_assets(&mamori_store::AssetFilter::default())
        .unwrap()
        .into_iter()
        .map(|s| s.asset.asset_id)
        .collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn a_ledger_uploads_as_a_job_with_the_clis_report_and_a_bad_file_changes_nothing() {
    let site = setup();
    let (_, op) = login(&site.router, "sato", PW).await;
    let form = get(&site.router, "/ledger/import", &op).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("enctype=\"multipart/form-data\""));
    let csrf = hidden_csrf(&form.body);

    // A CSV as Japanese Excel saves it (CP932), with one wrong row: nothing is imported, and
    // the job's report names the row and column.
    let bad_csv = "管理番号,機器名,機器種別,IPアドレス\r\nPC-101,受付端末,端末PC,127.0.0.31\r\nPC-102,診察室端末,端末PC,999.1.2.3\r\n";
    let (cp932, _, _) = encoding_rs::SHIFT_JIS.encode(bad_csv);
    let before = ledger_ids(&site.data);
    let r = upload(&site.router, &op, &csrf, "台帳.csv", &cp932).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let job = location(&r).to_string();
    assert!(job.starts_with("/jobs/"), "{job}");
    let page = finished(&site.router, &op, &job).await;
    assert!(page.body.contains("失敗 (変更なし)"), "{}", page.body);
    assert!(
        page.body.contains("3行目"),
        "the row is named: {}",
        page.body
    );
    assert!(
        page.body.contains("IPアドレス"),
        "the column is named: {}",
        page.body
    );
    assert!(
        page.body.contains("台帳は変更していません"),
        "{}",
        page.body
    );
    assert_eq!(
        ledger_ids(&site.data),
        before,
        "a failed import changes nothing"
    );

    // The same file with the wrong row skipped: the good row is imported, the report says so.
    let r = upload_with(
        &site.router,
        &op,
        &csrf,
        "台帳.csv",
        &cp932,
        &["skip_invalid"],
    )
    .await;
    let page = finished(&site.router, &op, location(&r)).await;
    assert!(page.body.contains("完了"), "{}", page.body);
    assert!(page.body.contains("追加 1"), "{}", page.body);
    assert!(
        page.body.contains("CP932") || page.body.contains("Shift_JIS"),
        "the encoding is said: {}",
        page.body
    );
    assert!(ledger_ids(&site.data).contains(&"PC-101".to_string()));
    assert!(!ledger_ids(&site.data).contains(&"PC-102".to_string()));

    // The job list shows it, finished.
    let jobs = get(&site.router, "/jobs", &op).await;
    assert!(
        jobs.body.contains("台帳の取込 台帳.csv") && jobs.body.contains("完了"),
        "{}",
        jobs.body
    );
    // Another user does not see sato's jobs; the auditor (who reads the audit log) does.
    let (_, acme) = login(&site.router, "acme", PW).await;
    assert_eq!(
        get(&site.router, &job, &acme).await.status,
        StatusCode::NOT_FOUND
    );
    let (_, kansa) = login(&site.router, "kansa", PW).await;
    assert_eq!(get(&site.router, &job, &kansa).await.status, StatusCode::OK);

    // Not a ledger file, an empty file, a forged token, a user who may not edit: refused at once.
    let r = upload(&site.router, &op, &csrf, "malware.exe", b"MZ\x90\x00").await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(r.body.contains("malware.exe"), "{}", r.body);
    let r = upload(&site.router, &op, &csrf, "empty.csv", b"").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = upload(&site.router, &op, &"0".repeat(64), "台帳.csv", &cp932).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let kcsrf = hidden_csrf(&get(&site.router, "/", &kansa).await.body);
    let r = upload(&site.router, &kansa, &kcsrf, "台帳.csv", &cp932).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        get(&site.router, "/ledger/import", &kansa).await.status,
        StatusCode::FORBIDDEN
    );
    // Too large: refused with the limit named.
    let huge = vec![b'a'; mamori_web_max_upload() + 1024];
    let r = upload(&site.router, &op, &csrf, "big.csv", &huge).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.body);
    assert!(r.body.contains("20 MB"), "{}", r.body);
    // A truncated workbook: the job fails with the reader's message, nothing changes.
    let before = ledger_ids(&site.data);
    let r = upload(
        &site.router,
        &op,
        &csrf,
        "broken.xlsx",
        b"PK\x03\x04 not really a zip",
    )
    .await;
    let page = finished(&site.router, &op, location(&r)).await;
    assert!(
        page.body.contains("失敗 (変更なし)") && page.body.contains("broken.xlsx"),
        "{}",
        page.body
    );
    assert_eq!(ledger_ids(&site.data), before);
}

#[path = "../../mamori-cli/tests/hostile/mod.rs"]
mod hostile;

#[tokio::test]
async fn hostile_workbooks_uploaded_fail_their_job_and_the_server_answers_on() {
    let site = setup();
    let (_, op) = login(&site.router, "sato", PW).await;
    let csrf = hidden_csrf(&get(&site.router, "/ledger/import", &op).await.body);
    let before = ledger_ids(&site.data);
    for (name, bytes, says) in [
        ("far.xlsx", hostile::sparse_cell("XFD1048576"), "XFD1048576"),
        ("near-far.xlsx", hostile::sparse_cell("XFD1000"), "XFD1000"),
        (
            "bomb.xlsx",
            hostile::shared_strings_bomb(80 << 20),
            "xl/sharedStrings.xml",
        ),
        ("cells.xlsx", hostile::many_cells(4_100, 1_000), "4000000"),
    ] {
        let r = upload_with(&site.router, &op, &csrf, name, &bytes, &["dry_run"]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{name}: {}", r.body);
        let page = finished(&site.router, &op, location(&r)).await;
        assert!(
            page.body.contains("失敗 (変更なし)")
                && page.body.contains(name)
                && page.body.contains(says),
            "{name}: {}",
            page.body
        );
        // The server is still there, and the ledger as it was.
        assert_eq!(get(&site.router, "/", &op).await.status, StatusCode::OK);
        assert_eq!(ledger_ids(&site.data), before);
    }
    // Feed files: an NVD record with an 8 MiB description (gzip'd), a JVN element with
    // 100,000 attributes. Each is refused by name, and nothing is stored.
    let csrf = hidden_csrf(&get(&site.router, "/feeds", &op).await.body);
    for (name, bytes, says) in [
        (
            "nvd.json.gz",
            hostile::nvd_long_description(8 << 20),
            "longer than 1048576 bytes",
        ),
        (
            "jvn.xml",
            hostile::jvn_many_attributes(100_000),
            "more than 64 attributes",
        ),
    ] {
        let r = upload_to(&site.router, "/feeds/import", &op, &csrf, &[(name, &bytes)]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{name}: {}", r.body);
        let page = finished(&site.router, &op, location(&r)).await;
        assert!(
            page.body.contains(name) && page.body.contains(says),
            "{name}: {}",
            page.body
        );
        assert_eq!(get(&site.router, "/", &op).await.status, StatusCode::OK);
    }
    let mut app = App::login(&site.data, "sato", PW).unwrap();
    assert!(matches!(
        app.lookup_vulnerability("CVE-2099-0001").unwrap(),
        mamori_app::vulns::Lookup::Missing
    ));
}

fn mamori_web_max_upload() -> usize {
    20 * 1024 * 1024
}

#[tokio::test]
async fn a_device_is_edited_with_the_import_rules_and_its_history_kept() {
    let site = setup();
    let (_, op) = login(&site.router, "sato", PW).await;
    let page = get(&site.router, "/ledger/MR-1", &op).await;
    assert!(
        page.body.contains("href=\"/ledger/MR%2D1/edit\""),
        "{}",
        page.body
    );
    let form = get(&site.router, "/ledger/MR-1/edit", &op).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(
        form.body.contains("name=\"location\" value=\"\""),
        "{}",
        form.body
    );
    let csrf = hidden_csrf(&form.body);
    // Change the location (with markup in it) and nothing else.
    let r = post(
        &site.router,
        "/ledger/MR-1/edit",
        &op,
        &format!(
            "csrf={csrf}&name={}&location={}&reason={}",
            enc("MRI 装置"),
            enc("本館B1 <b>MRI室</b>"),
            enc("移設")
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(location(&r), "/ledger/MR%2D1");
    let page = get(&site.router, "/ledger/MR-1", &op).await;
    assert!(
        page.body.contains("本館B1 &lt;b&gt;MRI室&lt;/b&gt;"),
        "escaped: {}",
        page.body
    );
    let audit = App::login(&site.data, "admin", ADMIN_PW)
        .unwrap()
        .read(mamori_core::access::Permission::ViewAudit)
        .unwrap()
        .audit_tail(50)
        .unwrap();
    let last = &audit
        .iter()
        .rev()
        .find(|e| e.entry.action == "asset.update")
        .unwrap()
        .entry;
    assert_eq!(last.actor, "sato");
    assert_eq!(
        last.detail["changed"].as_object().unwrap().len(),
        1,
        "{}",
        last.detail
    );
    // A wrong value is refused naming the column, and nothing changes.
    let r = post(
        &site.router,
        "/ledger/MR-1/edit",
        &op,
        &format!("csrf={csrf}&ip=300.1.1.1"),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("IPアドレス"), "{}", r.body);
    let (stored, _) = App::login(&site.data, "sato", PW)
        .unwrap()
        .show_asset("MR-1")
        .unwrap();
    assert_eq!(stored.asset.ip[0].to_string(), "127.0.0.21");
    // The auditor and the vendor may not edit; an unknown device is not found.
    let (_, kansa) = login(&site.router, "kansa", PW).await;
    assert_eq!(
        get(&site.router, "/ledger/MR-1/edit", &kansa).await.status,
        StatusCode::FORBIDDEN
    );
    let kcsrf = hidden_csrf(&get(&site.router, "/", &kansa).await.body);
    let r = post(
        &site.router,
        "/ledger/MR-1/edit",
        &kansa,
        &format!("csrf={kcsrf}&location=x"),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        get(&site.router, "/ledger/NOPE-9/edit", &op).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn bulk_actions_and_inquiries_go_to_each_devices_vendor() {
    let site = setup();
    let found = telnet_findings(&site);
    let (_, op) = login(&site.router, "sato", PW).await;
    let list = get(&site.router, "/findings", &op).await;
    assert!(
        list.body.contains("form=\"bulk\""),
        "ticks on the list: {}",
        list.body
    );
    let csrf = hidden_csrf(&list.body);
    let ticks: String = found.iter().map(|(id, _)| format!("&id={id}")).collect();
    // Nothing ticked: a clear refusal.
    let r = post(
        &site.router,
        "/findings/bulk",
        &op,
        &format!("csrf={csrf}&action=state&to=investigating"),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("チェック"), "{}", r.body);
    // All to 調査中; another site given as the way back is not followed.
    let r = post(
        &site.router,
        "/findings/bulk",
        &op,
        &format!(
            "csrf={csrf}&action=state&to=investigating&back=https%3A%2F%2Fevil.example{ticks}"
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(location(&r), "/findings");
    for (id, _) in &found {
        let f = get(&site.router, &format!("/findings/{id}"), &op).await;
        assert!(
            f.body.contains("<td class=\"state\">調査中</td>"),
            "{}",
            f.body
        );
    }
    // Ask the vendors: one inquiry to Acme (two devices, names differing in case and space), one to Beta.
    let q = enc("<script>x</script> 修正の適用可否を教えてください");
    let r = post(
        &site.router,
        "/findings/bulk",
        &op,
        &format!("csrf={csrf}&action=inquiry&question={q}&back=%2Ffindings%3Fpage%3D1{ticks}"),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(location(&r), "/findings?page=1");
    let page = get(&site.router, "/inquiries", &op).await;
    assert_eq!(
        page.body.matches("<section class=\"inquiry\">").count(),
        2,
        "{}",
        page.body
    );
    assert!(
        page.body.contains("&lt;script&gt;x&lt;/script&gt;"),
        "escaped: {}",
        page.body
    );
    assert!(!page.body.contains("<script>x"));
    for (id, _) in &found {
        let f = get(&site.router, &format!("/findings/{id}"), &op).await;
        assert!(
            f.body.contains("<td class=\"state\">事業者確認中</td>"),
            "{}",
            f.body
        );
        assert!(
            f.body.contains("<th>対応期限</th>"),
            "the due date is shown: {}",
            f.body
        );
        assert!(
            f.body.contains("Telnet はパスワードを暗号化せずに送ります"),
            "the reason in Japanese: {}",
            f.body
        );
    }
    // The device page lists its findings with the earliest due date, and its attestations.
    let d = get(&site.router, "/ledger/MR-1", &op).await;
    assert!(
        d.body.contains("<td>23/tcp</td>"),
        "the scan that saw it: {}",
        d.body
    );
    assert!(
        d.body.contains("最も早い対応期限")
            && d.body.contains("初期設定の確認 (8.3)")
            && d.body.contains("未確認"),
        "{}",
        d.body
    );
    let su = get(&site.router, "/safe-use", &op).await;
    assert!(
        su.body.contains("既定パスワード検査の承認") && su.body.contains("承認はありません"),
        "{}",
        su.body
    );
}

#[tokio::test]
async fn a_vendor_sees_and_answers_only_its_own() {
    let site = setup();
    let found = telnet_findings(&site);
    let mut op = App::login(&site.data, "sato", PW).unwrap();
    let ids: Vec<i64> = found.iter().map(|(id, _)| *id).collect();
    op.open_inquiries(&mamori_app::remediation::Findings::Ids(ids), "適用可否")
        .unwrap();
    let (r, acme) = login(&site.router, "acme", PW).await;
    assert_eq!(location(&r), "/vendor");
    let home = get(&site.router, "/vendor", &acme).await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(
        home.body.contains("MR-1") && home.body.contains("PACS-1"),
        "{}",
        home.body
    );
    assert!(
        !home.body.contains("CT-1"),
        "another company's device: {}",
        home.body
    );
    assert!(
        !home.body.contains("href=\"/ledger"),
        "no ledger menu for a vendor: {}",
        home.body
    );
    assert_eq!(
        get(&site.router, "/vendor/devices/MR-1", &acme)
            .await
            .status,
        StatusCode::OK
    );
    // Guessing another company's 管理番号 looks exactly like a device that does not exist.
    let other = get(&site.router, "/vendor/devices/CT-1", &acme).await;
    let none = get(&site.router, "/vendor/devices/NOPE-1", &acme).await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    assert_eq!(none.status, StatusCode::NOT_FOUND);
    assert_eq!(
        other.body.replace("CT-1", "X"),
        none.body.replace("NOPE-1", "X")
    );
    // Answer one of Acme's findings through the form.
    let csrf = hidden_csrf(&home.body);
    let at = home.body.find("action=\"/inquiries/").unwrap() + "action=\"/inquiries/".len();
    let qid: i64 = home.body[at..].split('/').next().unwrap().parse().unwrap();
    let acme_finding = found.iter().find(|(_, a)| a == "MR-1").unwrap().0;
    let beta_finding = found.iter().find(|(_, a)| a == "CT-1").unwrap().0;
    let r = post(&site.router, &format!("/inquiries/{qid}/answer"), &acme, &format!("csrf={csrf}&back=%2Fvendor&finding={acme_finding}&verdict=conditional&conditions=&answer=x")).await;
    assert_eq!(
        r.status,
        StatusCode::BAD_REQUEST,
        "a conditional answer needs conditions"
    );
    assert!(
        r.body.contains("条件") && r.body.contains(&format!("#{qid}: ")),
        "{}",
        r.body
    );
    assert!(
        !r.body.contains("行目"),
        "a form has no spreadsheet rows: {}",
        r.body
    );
    let r = post(
        &site.router,
        &format!("/inquiries/{qid}/answer"),
        &acme,
        &format!(
            "csrf={csrf}&back=%2Fvendor&finding={acme_finding}&verdict=not_applicable&answer={}",
            enc("薬機法の承認範囲外のため適用不可")
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(location(&r), "/vendor");
    // Beta's inquiry is not Acme's to answer.
    let beta_q = App::login(&site.data, "sato", PW)
        .unwrap()
        .inquiries()
        .unwrap()
        .into_iter()
        .find(|q| q.vendor == "Beta Medical")
        .unwrap()
        .id;
    let r = post(
        &site.router,
        &format!("/inquiries/{beta_q}/answer"),
        &acme,
        &format!("csrf={csrf}&finding={beta_finding}&verdict=applicable"),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("Beta Medical"), "{}", r.body);
    // The operator sees the answer on the inquiries page.
    let (_, opc) = login(&site.router, "sato", PW).await;
    let page = get(&site.router, "/inquiries", &opc).await;
    assert!(
        page.body.contains("薬機法の承認範囲外のため適用不可") && page.body.contains("適用不可"),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn users_are_managed_with_a_one_time_password_shown_once() {
    let site = setup();
    let (_, admin) = login(&site.router, "admin", ADMIN_PW).await;
    let page = get(&site.router, "/users", &admin).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("sato") && page.body.contains("システム運用担当者"));
    let csrf = hidden_csrf(&page.body);
    let r = post(
        &site.router,
        "/users",
        &admin,
        &format!(
            "csrf={csrf}&username=tanaka&display_name={}&role=operator&role=planner",
            enc("田中 <i>")
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("一度だけ表示"), "{}", r.body);
    let at = r.body.find("<code class=\"secret\">").unwrap() + "<code class=\"secret\">".len();
    let one_time = r.body[at..].split('<').next().unwrap().to_string();
    assert!(one_time.len() >= 13, "{one_time}");
    assert!(r.body.contains("田中 &lt;i&gt;"));
    // The one-time password works once, and must be changed first.
    let (login_r, _) = login(&site.router, "tanaka", &one_time).await;
    assert_eq!(location(&login_r), "/password");
    // The listing never shows it again.
    let page = get(&site.router, "/users", &admin).await;
    assert!(!page.body.contains(&one_time));
    // A vendor user needs its company.
    let r = post(
        &site.router,
        "/users",
        &admin,
        &format!("csrf={csrf}&username=v2&role=vendor"),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // Roles changed and the user disabled: it can no longer log in.
    let r = post(
        &site.router,
        "/users/tanaka/roles",
        &admin,
        &format!("csrf={csrf}&role=auditor"),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = post(
        &site.router,
        "/users/tanaka/state",
        &admin,
        &format!("csrf={csrf}&disabled=1"),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let (refused, _) = login(&site.router, "tanaka", &one_time).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    // The operator may not manage users.
    let (_, op) = login(&site.router, "sato", PW).await;
    assert_eq!(
        get(&site.router, "/users", &op).await.status,
        StatusCode::FORBIDDEN
    );
    let ocsrf = hidden_csrf(&get(&site.router, "/", &op).await.body);
    let r = post(
        &site.router,
        "/users",
        &op,
        &format!("csrf={ocsrf}&username=x&role=administrator"),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn vulnerabilities_are_searched_and_shown_japanese_first_with_their_devices() {
    let Some(shared) = shared_data() else { return };
    let site = setup();
    let mut admin = App::login(&site.data, "admin", ADMIN_PW).unwrap();
    admin
        .import_feeds(
            &[shared.join("jvn/myjvn-api-examples/examples/hnd")],
            &|_| {},
        )
        .unwrap();
    let (_, op) = login(&site.router, "sato", PW).await;
    let r = get(
        &site.router,
        &format!("/vulns?q={}", enc("ServerProtect")),
        &op,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.body.contains("href=\"/vulns/JVNDB%2D2021%2D002774\""),
        "{}",
        r.body
    );
    let r = get(&site.router, "/vulns/JVNDB-2021-002774", &op).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.body
            .contains("トレンドマイクロ製 ServerProtect における認証回避の脆弱性"),
        "{}",
        r.body
    );
    assert!(r.body.contains("CVE-2021-36745"));
    assert!(r.body.contains("台帳の機器には見つかっていません"));
    // By the CVE alias, the same record.
    let r = get(&site.router, "/vulns/cve-2021-36745", &op).await;
    assert!(r.body.contains("ServerProtect"), "{}", r.body);
    // Not imported: 404 saying how to import; injection in the search is only text.
    let r = get(&site.router, "/vulns/CVE-1999-99999", &op).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.body.contains("feeds import"));
    let r = get(
        &site.router,
        &format!("/vulns?q={}", enc("' OR 1=1 -- <script>")),
        &op,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.body.contains("0 件") && !r.body.contains("<script>"),
        "{}",
        r.body
    );
    // The feed page shows the JVN source as imported today.
    let r = get(&site.router, "/feeds", &op).await;
    assert!(
        r.body.contains("jvn") && r.body.contains("0 日前"),
        "{}",
        r.body
    );
    let r = get(&site.router, "/", &op).await;
    assert!(r.body.contains("脆弱性情報の鮮度"), "{}", r.body);
}

/// `../shared/data`, or `None` with a skip reason (a failure when `CI=true`).
fn shared_data() -> Option<std::path::PathBuf> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var("CI").map_or(true, |v| v != "true"),
        "shared test data missing at {}",
        dir.display()
    );
    eprintln!("skipped: no shared test data at {}", dir.display());
    None
}

#[tokio::test]
async fn the_dashboard_draws_its_trend_and_the_hours_page_its_heat_map() {
    let site = setup();
    telnet_findings(&site);
    let (_, op) = login(&site.router, "sato", PW).await;
    let r = get(&site.router, "/", &op).await;
    assert!(
        r.body.contains("<svg") && r.body.contains("<polyline class=\"s83\""),
        "{}",
        r.body
    );
    // Three safe-use findings opened today (unregistered is not among them: all are in the
    // ledger; Telnet on each of the three).
    assert!(r.body.contains("安全利用 (8.3): 0 → 3"), "{}", r.body);
    let r = get(&site.router, "/hours", &op).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("稼働の記録がありません"), "{}", r.body);
    let r = get(&site.router, "/hours?days=abc&department=%3Cx%3E", &op).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "a bad number falls back to the default"
    );
    assert!(r.body.contains("value=\"&lt;x&gt;\""), "{}", r.body);
}

#[tokio::test]
async fn matching_runs_as_a_job_for_those_who_may() {
    let site = setup();
    let (_, op) = login(&site.router, "sato", PW).await;
    let list = get(&site.router, "/findings", &op).await;
    assert!(list.body.contains("action=\"/match\""));
    let csrf = hidden_csrf(&list.body);
    let r = post(
        &site.router,
        "/match",
        &op,
        &format!("csrf={csrf}&mode=full"),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = finished(&site.router, &op, location(&r)).await;
    assert!(
        page.body.contains("完了") && page.body.contains("機器 3 台"),
        "{}",
        page.body
    );
    let (_, kansa) = login(&site.router, "kansa", PW).await;
    let list = get(&site.router, "/findings", &kansa).await;
    assert!(
        !list.body.contains("action=\"/match\""),
        "the auditor is offered no run"
    );
    let kcsrf = hidden_csrf(&list.body);
    let r = post(
        &site.router,
        "/match",
        &kansa,
        &format!("csrf={kcsrf}&mode=full"),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feeds_are_uploaded_and_synced_as_jobs() {
    let Some(shared) = shared_data() else { return };
    let site = setup();
    let (_, op) = login(&site.router, "sato", PW).await;
    let page = get(&site.router, "/feeds", &op).await;
    assert!(
        page.body.contains("action=\"/feeds/import\"")
            && page.body.contains("action=\"/feeds/sync\"")
    );
    let csrf = hidden_csrf(&page.body);

    // Upload: the real JVN detail feed; and a file that is no feed at all.
    let jvn = std::fs::read(
        shared.join("jvn/myjvn-api-examples/examples/hnd/dataFeed_jvndb_detail_hnd.xml"),
    )
    .unwrap();
    let r = upload_to(
        &site.router,
        "/feeds/import",
        &op,
        &csrf,
        &[("jvn.xml", &jvn), ("notes.txt", b"hello")],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let done = finished(&site.router, &op, location(&r)).await;
    assert!(done.body.contains("jvn.xml [jvn]"), "{}", done.body);
    assert!(
        done.body.contains("notes.txt: 取り込めません"),
        "{}",
        done.body
    );
    assert!(
        !site.data.join("uploads").read_dir().unwrap().any(|_| true),
        "the uploaded files are removed"
    );
    // A name that tries to leave the upload folder stays inside it.
    let r = upload_to(
        &site.router,
        "/feeds/import",
        &op,
        &csrf,
        &[("../../config.toml", b"x")],
    )
    .await;
    finished(&site.router, &op, location(&r)).await;
    assert!(!site.data.join("config.toml").exists());

    // Sync: KEV from a real HTTP server on loopback serving the real catalogue.
    let kev = std::fs::read(shared.join("kev/known_exploited_vulnerabilities.json")).unwrap();
    let app = axum::Router::new().route(
        "/kev.json",
        axum::routing::get(move || {
            let kev = kev.clone();
            async move { kev }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    std::fs::write(
        site.data.join("config.toml"),
        format!("[feeds]\nkev_url = \"http://127.0.0.1:{port}/kev.json\"\nattempts = 1\nbackoff_ms = 10\ntimeout_s = 10\n"),
    )
    .unwrap();
    let r = post(
        &site.router,
        "/feeds/sync",
        &op,
        &format!("csrf={csrf}&source=kev"),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let done = finished(&site.router, &op, location(&r)).await;
    assert!(
        done.body.contains("kev: ") && done.body.contains("追加"),
        "{}",
        done.body
    );
    let feeds = get(&site.router, "/feeds", &op).await;
    assert!(feeds.body.contains("<td>kev</td>"), "{}", feeds.body);
    // An unknown source: the job fails and says which.
    let r = post(
        &site.router,
        "/feeds/sync",
        &op,
        &format!("csrf={csrf}&source=gopher"),
    )
    .await;
    let done = finished(&site.router, &op, location(&r)).await;
    assert!(
        done.body.contains("gopher") && done.body.contains("失敗"),
        "{}",
        done.body
    );
    // The auditor may not import.
    let (_, kansa) = login(&site.router, "kansa", PW).await;
    let kcsrf = hidden_csrf(&get(&site.router, "/feeds", &kansa).await.body);
    let r = post(
        &site.router,
        "/feeds/sync",
        &kansa,
        &format!("csrf={kcsrf}"),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

async fn upload_to(
    router: &Router,
    path: &str,
    cookies: &str,
    csrf: &str,
    files: &[(&str, &[u8])],
) -> Got {
    post_multipart(router, path, cookies, csrf, &[], files).await
}

/// A scan started from the page: only the scope typed in is probed (a listener this test
/// opens on 127.0.0.1, and nothing else), and the job reports what it found.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scan_runs_from_the_page_as_a_job() {
    let site = setup();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (_, op) = login(&site.router, "sato", PW).await;
    let page = get(&site.router, "/scans", &op).await;
    assert!(page.body.contains("action=\"/scans/run\""), "{}", page.body);
    let csrf = hidden_csrf(&page.body);
    // No scope: refused at once, saying so.
    let r = post(
        &site.router,
        "/scans/run",
        &op,
        &format!("csrf={csrf}&ports={port}"),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    let r = post(
        &site.router,
        "/scans/run",
        &op,
        &format!("csrf={csrf}&scope=127.0.0.1&ports=0"),
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::BAD_REQUEST,
        "port 0 is refused: {}",
        r.body
    );
    let r = post(
        &site.router,
        "/scans/run",
        &op,
        &format!("csrf={csrf}&scope=127.0.0.1&ports={port}"),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let done = finished(&site.router, &op, location(&r)).await;
    assert!(
        done.body.contains("1 台中 1 台が応答、開いたポート 1"),
        "{}",
        done.body
    );
    let scans = get(&site.router, "/scans", &op).await;
    assert!(scans.body.contains(">sato<"), "{}", scans.body);
    // The auditor is offered no scan and may not post one.
    let (_, kansa) = login(&site.router, "kansa", PW).await;
    let page = get(&site.router, "/scans", &kansa).await;
    assert!(!page.body.contains("action=\"/scans/run\""));
    let kcsrf = hidden_csrf(&page.body);
    let r = post(
        &site.router,
        "/scans/run",
        &kansa,
        &format!("csrf={kcsrf}&scope=127.0.0.1&ports={port}"),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    drop(listener);
}

#[tokio::test]
async fn the_ledger_sorts_by_its_columns() {
    let site = setup();
    let (_, op) = login(&site.router, "sato", PW).await;
    let order = |body: &str| {
        let mut at: Vec<(usize, &str)> = ["MR-1", "PACS-1", "CT-1"]
            .iter()
            .map(|id| (body.find(&format!(">{id}</a>")).unwrap(), *id))
            .collect();
        at.sort();
        at.into_iter().map(|(_, id)| id).collect::<Vec<_>>()
    };
    let r = get(&site.router, "/ledger", &op).await;
    assert_eq!(order(&r.body), ["CT-1", "MR-1", "PACS-1"]);
    assert!(r.body.contains("aria-sort=\"ascending\""));
    let r = get(&site.router, "/ledger?sort=name&dir=desc", &op).await;
    assert_eq!(order(&r.body), ["PACS-1", "MR-1", "CT-1"]);
    assert!(r.body.contains("aria-sort=\"descending\""));
    // The header links the other way round; an unknown column is the default order.
    assert!(r.body.contains("href=\"/ledger?sort=name\""), "{}", r.body);
    let r = get(
        &site.router,
        "/ledger?sort=name%3BDROP%20TABLE%20assets",
        &op,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(order(&r.body), ["CT-1", "MR-1", "PACS-1"]);
}
