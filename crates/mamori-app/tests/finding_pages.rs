//! The store's pages and counts of findings agree with the whole list the application filters
//! in memory (`App::findings`), on the demo hospital plus 8.3 findings from a real nmap file,
//! for every filter the web and the API use — and over a range of "todays" so that the
//! overdue cut-offs are exercised.

use std::collections::BTreeSet;

use mamori_app::findings::{FindingQuery, Level};
use mamori_app::App;
use mamori_core::remediation::Remediation;
use mamori_core::Labelled;

#[test]
fn pages_and_counts_agree_with_the_full_list() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    mamori_app::demo::create_demo(&data, "os:test").unwrap();
    let mut app = App::open(&data, "os:test").unwrap();
    let xml = dir.path().join("scan.xml");
    std::fs::write(
        &xml,
        r#"<?xml version="1.0"?><nmaprun scanner="nmap" args="nmap -sT" start="1764100000" version="7.93"><host><status state="up"/><address addr="127.0.0.9" addrtype="ipv4"/><ports><port protocol="tcp" portid="23"><state state="open"/><service name="telnet"/></port><port protocol="tcp" portid="21"><state state="open"/><service name="ftp"/></port></ports></host><runstats><finished time="1764100010"/></runstats></nmaprun>"#,
    )
    .unwrap();
    app.import_nmap(&xml, mamori_core::scan::Vantage::Internal)
        .unwrap();
    let first = app.findings(&FindingQuery::default()).unwrap();
    assert!(first.len() > 40, "{}", first.len());
    let some_asset = first
        .iter()
        .find(|f| !f.asset_id.is_empty())
        .unwrap()
        .asset_id
        .clone();
    let some_vuln = first
        .iter()
        .find(|f| f.vuln.starts_with("CVE-"))
        .unwrap()
        .vuln
        .clone();

    let mut queries = vec![
        FindingQuery::default(),
        FindingQuery {
            kev: true,
            ..FindingQuery::default()
        },
        FindingQuery {
            category: Some("8.2".into()),
            ..FindingQuery::default()
        },
        FindingQuery {
            category: Some("8.3".into()),
            ..FindingQuery::default()
        },
        FindingQuery {
            asset: Some(some_asset),
            ..FindingQuery::default()
        },
        FindingQuery {
            vuln: Some(some_vuln.to_lowercase()),
            ..FindingQuery::default()
        },
        FindingQuery {
            state: Some(Remediation::New),
            ..FindingQuery::default()
        },
        FindingQuery {
            status: Some("all".into()),
            ..FindingQuery::default()
        },
        FindingQuery {
            department: Some("情報システム室".into()),
            ..FindingQuery::default()
        },
    ];
    for l in Level::ALL {
        queries.push(FindingQuery {
            min_level: Some(*l),
            ..FindingQuery::default()
        });
    }
    for days in [0u64, 20, 45, 90, 200] {
        app.set_today(chrono::Local::now().date_naive() + chrono::Days::new(days));
        let mut all_queries = queries.clone();
        all_queries.push(FindingQuery {
            overdue: true,
            ..FindingQuery::default()
        });
        all_queries.push(FindingQuery {
            overdue: true,
            kev: true,
            ..FindingQuery::default()
        });
        for q in &all_queries {
            let full: BTreeSet<i64> = app.findings(q).unwrap().iter().map(|f| f.id).collect();
            let (total, _) = app.findings_page(q, 0, 1).unwrap();
            assert_eq!(total, full.len(), "{q:?} at +{days} days");
            // Pages of 7 cover the list exactly once, most urgent first.
            let mut paged = Vec::new();
            let mut offset = 0;
            loop {
                let (_, page) = app.findings_page(q, offset, 7).unwrap();
                if page.is_empty() {
                    break;
                }
                offset += page.len();
                paged.extend(page);
            }
            let ids: BTreeSet<i64> = paged.iter().map(|f| f.id).collect();
            assert_eq!(ids, full, "{q:?} at +{days} days");
            assert_eq!(ids.len(), paged.len());
            assert!(paged.windows(2).all(|w| w[0].score >= w[1].score));
        }
        // The dashboard's counts.
        let open = app.findings(&FindingQuery::default()).unwrap();
        let s = app.finding_summary().unwrap();
        assert_eq!(s.vulnerabilities + s.safe_use, open.len());
        assert_eq!(
            s.safe_use,
            open.iter().filter(|f| f.vuln.starts_with("8.3:")).count()
        );
        assert_eq!(s.kev, open.iter().filter(|f| f.kev).count());
        for (check, n) in &s.by_check {
            assert_eq!(
                *n,
                open.iter().filter(|f| &f.vuln == check).count(),
                "{check}"
            );
        }
        assert_eq!(s.by_check.values().sum::<usize>(), s.safe_use);
        let overdue = app
            .findings(&FindingQuery {
                overdue: true,
                ..FindingQuery::default()
            })
            .unwrap()
            .len();
        assert_eq!(s.overdue, overdue, "+{days} days");
        for l in Level::ALL {
            let n = open.iter().filter(|f| f.level == l.code()).count();
            assert_eq!(s.by_level.get(l.code()).copied().unwrap_or(0), n);
        }
        assert_eq!(s.by_check.get("8.3:unregistered"), Some(&1));
    }
    // Devices: pages cover the ledger.
    let all = app.list_assets(&Default::default()).unwrap();
    let (total, page) = app
        .assets_page(&Default::default(), Default::default(), 10, 5)
        .unwrap();
    assert_eq!(total, all.len());
    let want: Vec<&str> = all[10..15]
        .iter()
        .map(|a| a.asset.asset_id.as_str())
        .collect();
    let got: Vec<&str> = page.iter().map(|a| a.asset.asset_id.as_str()).collect();
    assert_eq!(got, want);
}
