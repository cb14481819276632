//! Scan policies are checked before any packet: no scope, public addresses, too broad a
//! scope, bad ports, rates and windows are refused with the option named; ledger devices
//! flagged スキャン除外 are excluded; `--ledger` takes the ledger's addresses. Nothing here
//! sends anything: only `App::prepare_scan` runs.

use mamori_app::scans::ScanRequest;
use mamori_app::{App, AppError};
use mamori_core::Lang;

fn app(dir: &std::path::Path) -> App {
    mamori_app::init::init(dir, Some("a long enough admin password"), "os:tester").unwrap();
    let mut app = App::open(dir, "os:tester").unwrap();
    for (id, ip, exclude) in [
        ("PACS-01", "127.1.2.3", "無"),
        ("PUMP-01", "127.1.2.4", "有"),
        ("OLD-01", "127.1.2.5", ""),
    ] {
        let values: Vec<(String, String)> = [
            ("機器名", id),
            ("機器種別", "サーバ"),
            ("IPアドレス", ip),
            ("スキャン除外", exclude),
        ]
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        app.add_asset(id, &values).unwrap();
    }
    app
}

fn refused(app: &mut App, req: ScanRequest, field: &str, words: &str) {
    match app.prepare_scan(&req) {
        Err(e @ AppError::BadValue { .. }) => {
            let text = e.message(Lang::En);
            assert!(text.contains(field), "{text}");
            assert!(text.contains(words), "{text}");
            assert!(!e.message(Lang::Ja).is_empty());
        }
        other => panic!("{req:?} was not refused: {other:?}"),
    }
}

#[test]
fn policies_are_refused_before_any_probe() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(dir.path());
    refused(&mut app, ScanRequest::default(), "--scope", "no scope");
    refused(
        &mut app,
        ScanRequest {
            scope: Some("192.0.2.0/28".into()),
            ..ScanRequest::default()
        },
        "--scope",
        "--allow-public",
    );
    refused(
        &mut app,
        ScanRequest {
            scope: Some("127.0.0.0/14".into()),
            ..ScanRequest::default()
        },
        "--scope",
        "--yes",
    );
    refused(
        &mut app,
        ScanRequest {
            scope: Some("pacs.hospital.local".into()),
            ..ScanRequest::default()
        },
        "--scope",
        "DNS",
    );
    refused(
        &mut app,
        ScanRequest {
            scope: Some("127.0.0.1".into()),
            ports: Some("1-65535".into()),
            ..ScanRequest::default()
        },
        "--ports",
        "4,096",
    );
    refused(
        &mut app,
        ScanRequest {
            scope: Some("127.0.0.1".into()),
            rate: Some(-1.0),
            ..ScanRequest::default()
        },
        "--rate",
        "probes per second",
    );
    refused(
        &mut app,
        ScanRequest {
            scope: Some("127.0.0.1".into()),
            windows: vec!["sometimes".into()],
            ..ScanRequest::default()
        },
        "--window",
        "e.g. \"mon-fri",
    );
    // Confirmed, the same requests pass (and still send nothing: prepare only).
    let broad = app
        .prepare_scan(&ScanRequest {
            scope: Some("127.0.0.0/14".into()),
            yes: true,
            ..ScanRequest::default()
        })
        .unwrap();
    // All of the /14 but the ledger's スキャン除外 pump (127.1.2.4).
    assert_eq!(broad.targets.len(), (1 << 18) - 1);
    assert!(app
        .prepare_scan(&ScanRequest {
            scope: Some("192.0.2.0/28".into()),
            allow_public: true,
            ..ScanRequest::default()
        })
        .is_ok());
    // Anything past the hard limit is refused even with --yes.
    refused(
        &mut app,
        ScanRequest {
            scope: Some("127.0.0.0/8".into()),
            yes: true,
            ..ScanRequest::default()
        },
        "--scope",
        "split it",
    );
}

#[test]
fn the_ledger_gives_addresses_and_exclusions() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(dir.path());
    let p = app
        .prepare_scan(&ScanRequest {
            ledger: true,
            ..ScanRequest::default()
        })
        .unwrap();
    let targets: Vec<String> = p.targets.iter().map(|a| a.to_string()).collect();
    assert_eq!(targets, vec!["127.1.2.3", "127.1.2.5"]);
    assert_eq!(p.excluded_devices, vec!["PUMP-01"]);
    assert!(!p.policy.scope.permits("127.1.2.4".parse().unwrap()));
    // A setting gives the default rate; the command overrides it.
    app.set_config("scan.rate", "25").unwrap();
    let p = app
        .prepare_scan(&ScanRequest {
            ledger: true,
            ..ScanRequest::default()
        })
        .unwrap();
    assert_eq!(p.policy.rate, 25.0);
    let p = app
        .prepare_scan(&ScanRequest {
            ledger: true,
            rate: Some(7.0),
            exclude: Some("127.1.2.5".into()),
            ..ScanRequest::default()
        })
        .unwrap();
    assert_eq!(p.policy.rate, 7.0);
    assert_eq!(p.targets.len(), 1);
    assert!(app.set_config("scan.rate", "fast").is_err());
    assert!(app
        .set_config("scan.windows", "mon-fri 19:00-07:00;sat 00:00-23:59")
        .is_ok());
}
