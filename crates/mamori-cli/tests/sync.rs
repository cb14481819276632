//! `mamori feeds sync` against a real HTTP server on 127.0.0.1 (tiny_http) that serves the
//! real NVD, KEV and EPSS data from `../shared/data` like the upstream APIs do: paging,
//! conditional requests, and injected faults (429 with Retry-After, 503, a truncated body,
//! an outage, 403). No traffic leaves loopback.

mod support;

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use support::Env;

#[derive(Clone, Debug)]
enum Fault {
    Status(u16, Option<&'static str>),
    Truncate,
}

struct Server {
    base: String,
    log: Arc<Mutex<Vec<(Instant, String)>>>,
    faults: Arc<Mutex<VecDeque<Fault>>>,
    /// While set, every NVD request gets this status.
    outage: Arc<Mutex<Option<u16>>>,
    /// While set, this CSAF document is served with one byte changed.
    tamper: Arc<Mutex<Option<String>>>,
    /// The CSAF documents listed in the served changes.csv.
    csaf_paths: Vec<String>,
}

fn gunzip(path: &std::path::Path) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn query(url: &str, key: &str) -> Option<String> {
    url.split_once('?')?.1.split('&').find_map(|kv| {
        kv.split_once('=')
            .filter(|(k, _)| *k == key)
            .map(|(_, v)| v.to_string())
    })
}

fn start(data: &std::path::Path) -> Server {
    let merged: serde_json::Value =
        serde_json::from_slice(&gunzip(&data.join("nvd/nvd-cve-api-2.0-merged.json.gz"))).unwrap();
    let records = merged["vulnerabilities"].as_array().unwrap().clone();
    let kev = std::fs::read(data.join("kev/known_exploited_vulnerabilities.json")).unwrap();
    let epss = std::fs::read(data.join(
        "fixtures-vuls-data-update/pkg/fetch/epss/testdata/fixtures/epss_scores-2023-03-07.csv.gz",
    ))
    .unwrap();
    let alerts = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/jpcert-alerts.rdf"),
    )
    .unwrap();
    // CISA's real changes.csv, limited to the 2017 documents present in the shared copy.
    let csaf_root = data.join("csaf/cisagov-CSAF");
    let changes_text =
        std::fs::read_to_string(csaf_root.join("csaf_files/OT/white/changes.csv")).unwrap();
    let changes: Vec<(String, String)> = changes_text
        .lines()
        .filter_map(|l| l.split_once(','))
        .filter(|(p, _)| p.starts_with("csaf_files/OT/white/2017/") && csaf_root.join(p).is_file())
        .map(|(p, t)| (p.to_string(), t.to_string()))
        .collect();
    let csaf_paths: Vec<String> = changes.iter().map(|(p, _)| p.clone()).collect();
    let changes_csv: String = changes.iter().map(|(p, t)| format!("{p},{t}\n")).collect();
    let jvn_dir =
        data.join("fixtures-vuls-data-update/pkg/fetch/jvn/feed/detail/testdata/fixtures");
    let jvn_files: Vec<(String, Vec<u8>)> = [
        "jvndb_detail_2021.rdf",
        "jvndb_detail_2022.rdf",
        "jvndb_detail_2023.rdf",
    ]
    .iter()
    .map(|n| (n.to_string(), std::fs::read(jvn_dir.join(n)).unwrap()))
    .collect();
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let base = format!("http://{}", server.server_addr().to_ip().unwrap());
    let log = Arc::new(Mutex::new(Vec::new()));
    let faults = Arc::new(Mutex::new(VecDeque::new()));
    let outage = Arc::new(Mutex::new(None));
    let tamper: Arc<Mutex<Option<String>>> = Arc::new(Mutex::new(None));
    // JVN's checksum.txt format (url, filename, sha256, size, lastModified) over the files served.
    let jvn_manifest = serde_json::Value::Array(
        jvn_files
            .iter()
            .map(|(name, bytes)| {
                use sha2::{Digest, Sha256};
                let sha: String = Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect();
                serde_json::json!({"url": format!("{base}/jvn/{name}"), "filename": name, "sha256": sha, "size": bytes.len(), "lastModified": "2023/11/02 12:00:18"})
            })
            .collect(),
    )
    .to_string();
    let (l, f, o, t) = (log.clone(), faults.clone(), outage.clone(), tamper.clone());
    std::thread::spawn(move || {
        for request in server.incoming_requests() {
            let url = request.url().to_string();
            let etag_in = request
                .headers()
                .iter()
                .find(|h| h.field.equiv("If-None-Match"))
                .map(|h| h.value.to_string());
            l.lock().unwrap().push((Instant::now(), url.clone()));
            let header = |k: &str, v: &str| {
                tiny_http::Header::from_bytes(k.as_bytes(), v.as_bytes()).unwrap()
            };
            if url.starts_with("/nvd") {
                if let Some(status) = *o.lock().unwrap() {
                    let _ = request.respond(
                        tiny_http::Response::from_string("unavailable").with_status_code(status),
                    );
                    continue;
                }
                let fault = f.lock().unwrap().pop_front();
                match fault {
                    Some(Fault::Status(code, retry_after)) => {
                        let mut r = tiny_http::Response::from_string("busy").with_status_code(code);
                        if let Some(s) = retry_after {
                            r.add_header(header("Retry-After", s));
                        }
                        let _ = request.respond(r);
                        continue;
                    }
                    Some(Fault::Truncate) => {
                        let mut w = request.into_writer();
                        let _ = w.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\nConnection: close\r\n\r\n{\"resultsPerPage\":40,\"vulnerabilities\":[");
                        let _ = w.flush();
                        continue;
                    }
                    None => {}
                }
                let start: usize = query(&url, "startIndex")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
                let per: usize = query(&url, "resultsPerPage")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(2000);
                let page: Vec<serde_json::Value> =
                    records.iter().skip(start).take(per).cloned().collect();
                let body = serde_json::json!({"resultsPerPage": page.len(), "startIndex": start, "totalResults": records.len(),
                    "format": "NVD_CVE", "version": "2.0", "timestamp": "2026-11-26T00:00:00.000", "vulnerabilities": page});
                let _ = request.respond(
                    tiny_http::Response::from_string(body.to_string())
                        .with_header(header("Content-Type", "application/json")),
                );
            } else if url.starts_with("/kev.json") {
                if etag_in.as_deref() == Some("\"kev-2025.08.25\"") {
                    let _ = request.respond(tiny_http::Response::empty(304));
                } else {
                    let _ = request.respond(
                        tiny_http::Response::from_data(kev.clone())
                            .with_header(header("ETag", "\"kev-2025.08.25\"")),
                    );
                }
            } else if let Some(name) = url.strip_prefix("/jvn/") {
                if name == "checksum.txt" {
                    let _ = request.respond(tiny_http::Response::from_string(jvn_manifest.clone()));
                } else if let Some((_, bytes)) = jvn_files.iter().find(|(n, _)| n == name) {
                    let mut bytes = bytes.clone();
                    if t.lock().unwrap().as_deref() == Some(url.as_str()) {
                        let mid = bytes.len() / 2;
                        bytes[mid] ^= 0x20;
                    }
                    let _ = request.respond(tiny_http::Response::from_data(bytes));
                } else {
                    let _ = request.respond(tiny_http::Response::empty(404));
                }
            } else if let Some(path) = url.strip_prefix("/csaf/") {
                if path == "changes.csv" {
                    let _ = request.respond(tiny_http::Response::from_string(changes_csv.clone()));
                    continue;
                }
                let file = csaf_root.join(path);
                match std::fs::read(&file) {
                    Ok(mut bytes) => {
                        if t.lock().unwrap().as_deref() == Some(path) {
                            let mid = bytes.len() / 2;
                            bytes[mid] ^= 0x20;
                        }
                        let _ = request.respond(tiny_http::Response::from_data(bytes));
                    }
                    Err(_) => {
                        let _ = request.respond(tiny_http::Response::empty(404));
                    }
                }
            } else if url.starts_with("/alerts.rdf") {
                if etag_in.as_deref() == Some("\"alerts-1\"") {
                    let _ = request.respond(tiny_http::Response::empty(304));
                } else {
                    let _ = request.respond(
                        tiny_http::Response::from_data(alerts.clone())
                            .with_header(header("ETag", "\"alerts-1\"")),
                    );
                }
            } else if url.starts_with("/epss.csv.gz") {
                let _ = request.respond(tiny_http::Response::from_data(epss.clone()));
            } else {
                let _ = request.respond(tiny_http::Response::empty(404));
            }
        }
    });
    Server {
        base,
        log,
        faults,
        outage,
        tamper,
        csaf_paths,
    }
}

fn configure(env: &Env, s: &Server, interval_ms: u64) {
    std::fs::write(
        env.data().join("config.toml"),
        format!(
            "[feeds]\nnvd_url = \"{b}/nvd/cves/2.0\"\nkev_url = \"{b}/kev.json\"\nepss_url = \"{b}/epss.csv.gz\"\nalert_urls = [\"{b}/alerts.rdf\"]\nnvd_page_size = 40\nmin_interval_ms = {interval_ms}\nattempts = 4\nbackoff_ms = 50\ntimeout_s = 5\njvn_checksum_urls = [\"{b}/jvn/checksum.txt\"]\n[[feeds.csaf_directories]]\nchanges = \"{b}/csaf/changes.csv\"\nbase = \"{b}/csaf/\"\n",
            b = s.base
        ),
    )
    .unwrap();
}

fn since() -> String {
    (chrono::Utc::now() - chrono::Duration::days(30))
        .format("%Y-%m-%d")
        .to_string()
}

fn nvd_requests(s: &Server) -> Vec<(Instant, String)> {
    s.log
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, u)| u.starts_with("/nvd"))
        .cloned()
        .collect()
}

#[test]
fn pages_retries_rate_limit_and_conditional_requests() {
    let Some(data) = support::shared_data() else {
        return;
    };
    let server = start(&data);
    let env = Env::init();
    configure(&env, &server, 150);
    server.faults.lock().unwrap().extend([
        Fault::Status(429, Some("1")),
        Fault::Status(503, None),
        Fault::Truncate,
    ]);
    let r = env.run(&["--json", "feeds", "sync", "--since", &since()]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let out = r.json();
    let nvd = out["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["source"] == "nvd")
        .unwrap()
        .clone();
    assert_eq!(
        (nvd["records"].as_i64(), nvd["added"].as_i64()),
        (Some(156), Some(156)),
        "{nvd}"
    );
    assert_eq!(env.feed_records("nvd"), 156);
    assert_eq!(env.feed_records("kev"), 1_404);
    assert_eq!(env.feed_records("epss"), 2);
    assert_eq!(env.feed_records("alerts"), 2, "{}", r.stdout);
    let shown = env
        .run(&["--json", "vuln", "show", "CVE-2024-23113"])
        .json();
    assert!(
        shown["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["link"] == "https://www.jpcert.or.jp/at/2024/at240003.html"),
        "{shown}"
    );

    let log = nvd_requests(&server);
    // 3 faults retried, then 4 pages of 40: 0, 40, 80, 120.
    assert_eq!(log.len(), 3 + 4, "{log:?}");
    let starts: Vec<String> = log
        .iter()
        .map(|(_, u)| query(u, "startIndex").unwrap())
        .collect();
    assert_eq!(starts, ["0", "0", "0", "0", "40", "80", "120"]);
    assert!(
        log[1].0 - log[0].0 >= Duration::from_millis(950),
        "Retry-After: 1 was honoured"
    );
    for pair in log.windows(2) {
        assert!(
            pair[1].0 - pair[0].0 >= Duration::from_millis(140),
            "requests are at least the configured interval apart"
        );
    }
    assert!(log[0].1.contains("lastModStartDate=") && log[0].1.contains("lastModEndDate="));

    // Again: NVD resumes from its cursor (a new, empty window), KEV answers 304.
    let r = env.run(&[
        "--json", "feeds", "sync", "--source", "kev", "--source", "alerts",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["sources"][0]["not_modified"], true);
    assert_eq!(r.json()["sources"][1]["not_modified"], true);
}

#[test]
fn an_interrupted_sync_resumes_where_it_stopped() {
    let Some(data) = support::shared_data() else {
        return;
    };
    let server = start(&data);
    let env = Env::init();
    configure(&env, &server, 20);
    // Two pages succeed, then the server goes down (every attempt fails).
    let log_len = || nvd_requests(&server).len();
    let outage = server.outage.clone();
    let watcher = {
        let log = server.log.clone();
        std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(20);
            while Instant::now() < deadline {
                if log
                    .lock()
                    .unwrap()
                    .iter()
                    .filter(|(_, u)| u.starts_with("/nvd"))
                    .count()
                    >= 2
                {
                    *outage.lock().unwrap() = Some(500);
                    return;
                }
                std::thread::sleep(Duration::from_millis(1));
            }
        })
    };
    let r = env.run(&[
        "--lang",
        "en",
        "--json",
        "feeds",
        "sync",
        "--source",
        "nvd",
        "--since",
        &since(),
    ]);
    watcher.join().unwrap();
    assert_eq!(r.code, 1, "{}", r.stdout);
    let stored = env.feed_records("nvd");
    assert!(
        stored == 80 || stored == 40,
        "the committed pages stay: {stored}"
    );
    let before = log_len();

    *server.outage.lock().unwrap() = None;
    let r = env.run(&["--json", "feeds", "sync", "--source", "nvd"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(env.feed_records("nvd"), 156);
    let resumed = &nvd_requests(&server)[before];
    assert_eq!(
        query(&resumed.1, "startIndex").unwrap(),
        stored.to_string(),
        "resumed at the first page not yet stored: {}",
        resumed.1
    );
}

#[test]
fn a_403_is_reported_and_changes_nothing() {
    let Some(data) = support::shared_data() else {
        return;
    };
    let server = start(&data);
    let env = Env::init();
    configure(&env, &server, 10);
    *server.outage.lock().unwrap() = Some(403);
    let r = env.run(&[
        "--lang",
        "en",
        "feeds",
        "sync",
        "--source",
        "nvd",
        "--since",
        &since(),
    ]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("HTTP 403") && r.stderr.contains("API key"),
        "{}",
        r.stderr
    );
    assert_eq!(nvd_requests(&server).len(), 1, "403 is not retried");
    assert_eq!(env.feed_records("nvd"), 0);
    let status = env.run(&["--json", "feeds", "status"]).json();
    let nvd = status["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["source"] == "nvd")
        .unwrap()
        .clone();
    assert!(
        nvd["last_error"]["message"]
            .as_str()
            .unwrap()
            .contains("403"),
        "{nvd}"
    );
}

#[test]
fn csaf_directory_sync_verifies_sha512_and_is_incremental() {
    let Some(data) = support::shared_data() else {
        return;
    };
    let server = start(&data);
    let n = server.csaf_paths.len();
    assert!(n >= 10, "2017 documents in the shared copy: {n}");
    let env = Env::init();
    configure(&env, &server, 5);
    // One advisory is served altered: its .sha512 (CISA's real one) no longer matches.
    let victim = server
        .csaf_paths
        .iter()
        .find(|p| {
            p.contains("icsma-")
                && data
                    .join("csaf/cisagov-CSAF")
                    .join(format!("{p}.sha512"))
                    .is_file()
        })
        .unwrap()
        .clone();
    *server.tamper.lock().unwrap() = Some(victim.clone());
    let r = env.run(&[
        "--lang", "en", "--json", "feeds", "sync", "--source", "csaf",
    ]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    let out = r.json();
    assert!(
        out["sources"][0]["error"]
            .as_str()
            .unwrap()
            .contains("SHA-512 does not match"),
        "{out}"
    );
    assert_eq!(
        env.feed_records("csaf"),
        n as i64 - 1,
        "every other advisory was imported"
    );
    let victim_id = victim
        .rsplit('/')
        .next()
        .unwrap()
        .trim_end_matches(".json")
        .to_ascii_uppercase();
    assert_eq!(
        env.run(&["vuln", "show", &victim_id]).code,
        1,
        "the altered advisory was not stored"
    );

    // Fixed upstream: the next sync retries from the held cursor and completes.
    *server.tamper.lock().unwrap() = None;
    let r = env.run(&["--json", "feeds", "sync", "--source", "csaf"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(env.feed_records("csaf"), n as i64);
    assert_eq!(env.run(&["vuln", "show", &victim_id]).code, 0);

    // Nothing new: only changes.csv is fetched.
    let before = server.log.lock().unwrap().len();
    let r = env.run(&["--json", "feeds", "sync", "--source", "csaf"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["sources"][0]["not_modified"], true);
    let after: Vec<String> = server.log.lock().unwrap()[before..]
        .iter()
        .map(|(_, u)| u.clone())
        .collect();
    assert_eq!(after, ["/csaf/changes.csv"]);
}

#[test]
fn jvn_feed_files_are_verified_against_the_manifest_and_fetched_only_when_changed() {
    let Some(data) = support::shared_data() else {
        return;
    };
    let server = start(&data);
    let env = Env::init();
    configure(&env, &server, 5);
    *server.tamper.lock().unwrap() = Some("/jvn/jvndb_detail_2022.rdf".into());
    let r = env.run(&["--lang", "en", "--json", "feeds", "sync", "--source", "jvn"]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(r.json()["sources"][0]["error"]
        .as_str()
        .unwrap()
        .contains("SHA-256 does not match"));
    assert_eq!(
        env.feed_records("jvn"),
        1 + 2,
        "2021 and 2023 imported; the altered 2022 file refused"
    );

    *server.tamper.lock().unwrap() = None;
    let r = env.run(&["--json", "feeds", "sync", "--source", "jvn"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.json()["sources"][0]["records"],
        2,
        "only the file not yet imported was fetched"
    );
    assert_eq!(env.feed_records("jvn"), 5);
    let r = env.run(&["--lang", "ja", "vuln", "show", "JVNDB-2021-005429"]);
    assert_eq!(r.code, 0, "{}", r.stderr);

    let before = server.log.lock().unwrap().len();
    let r = env.run(&["--json", "feeds", "sync", "--source", "jvn"]);
    assert_eq!(r.json()["sources"][0]["not_modified"], true);
    let after: Vec<String> = server.log.lock().unwrap()[before..]
        .iter()
        .map(|(_, u)| u.clone())
        .collect();
    assert_eq!(after, ["/jvn/checksum.txt"]);
}
