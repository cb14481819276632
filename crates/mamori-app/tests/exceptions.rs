//! 代替策 and リスク受容 over time, with an injectable clock (`App::set_today`): approved
//! exceptions hold until their review date; the day after, the next match (or listing)
//! reopens their findings as 未対応, flagged, and the exception is expired. The vulnerability
//! records are the CLI tests' fixture written for mamori (an invented viewer).

use chrono::NaiveDate;
use mamori_app::exceptions::{Proposal, SELF_APPROVAL};
use mamori_app::matching::MatchMode;
use mamori_app::remediation::Findings;
use mamori_app::App;
use mamori_core::remediation::{Measure, Remediation, ResidualRisk};

fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

fn matched(dir: &std::path::Path) -> App {
    mamori_app::init::init(dir, Some("a long enough admin password"), "os:tester").unwrap();
    let mut app = App::open(dir, "os:tester").unwrap();
    for id in ["PC-0001", "PC-0002"] {
        let values: Vec<(String, String)> = [
            ("機器名", "外来PC"),
            ("機器種別", "PC"),
            ("バージョン", "1.0"),
            ("CPE", "cpe:2.3:a:mamori_test:viewer:*:*:*:*:*:*:*:*"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        app.add_asset(id, &values).unwrap();
    }
    let feed = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../mamori-cli/tests/data/nvd-remediation.json");
    app.import_feeds(&[feed], &|_| {}).unwrap();
    let r = app.run_match(MatchMode::Full).unwrap();
    assert_eq!(r.opened, 4);
    app
}

fn state(app: &mut App, id: i64) -> (String, Option<String>) {
    let f = app.finding(id).unwrap();
    (f.state, f.flag)
}

#[test]
fn an_approved_exception_holds_until_its_review_date_then_its_findings_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut app = matched(&data);
    app.set_today(day("2026-12-01"));
    let ids: Vec<i64> = app
        .findings(&Default::default())
        .unwrap()
        .iter()
        .filter(|f| f.vuln == "CVE-2026-90001")
        .map(|f| f.id)
        .collect();
    assert_eq!(ids.len(), 2);

    let proposal = Proposal {
        kind: Remediation::Mitigated,
        measures: vec![Measure::NetworkIsolation, Measure::Acl],
        note: Some("検査室 VLAN に隔離、保守端末からのみ接続".into()),
        residual_risk: ResidualRisk::Low,
        review_date: day("2027-03-31"),
    };
    // A review date that is not in the future is refused.
    let past = Proposal {
        review_date: day("2026-12-01"),
        ..proposal.clone()
    };
    assert!(app
        .propose_exception(&Findings::Ids(ids.clone()), &past)
        .is_err());
    let exc = app
        .propose_exception(&Findings::Ids(ids.clone()), &proposal)
        .unwrap();
    // The one who proposed may not approve, unless the clinic allows it.
    let err = app.decide_exception(exc, true, None).unwrap_err();
    assert!(
        err.message(mamori_core::Lang::En)
            .contains("separation of duties"),
        "{err}"
    );
    assert_eq!(state(&mut app, ids[0]).0, "new", "refused: nothing changed");
    app.set_config(SELF_APPROVAL, "true").unwrap();
    let e = app
        .decide_exception(exc, true, Some("一人体制のため"))
        .unwrap();
    assert_eq!(e.status, "approved");
    for &id in &ids {
        assert_eq!(state(&mut app, id), ("mitigated".into(), None));
    }

    // On the review date it still holds; a match does not touch it.
    app.set_today(day("2027-03-31"));
    app.run_match(MatchMode::Incremental).unwrap();
    assert_eq!(state(&mut app, ids[0]).0, "mitigated");

    // The day after, the match reopens both findings, flagged, and the exception expires.
    app.set_today(day("2027-04-01"));
    app.run_match(MatchMode::Incremental).unwrap();
    for &id in &ids {
        assert_eq!(
            state(&mut app, id),
            ("new".into(), Some("exception_expired".into()))
        );
        let history = app.finding_history(id).unwrap();
        let last = &history.last().unwrap().event;
        assert_eq!((last.from.as_str(), last.to.as_str()), ("mitigated", "new"));
        assert_eq!(last.reason.as_deref(), Some("exception_expired"));
        assert_eq!(last.actor, "review");
    }
    let list = app.exceptions().unwrap();
    assert_eq!(list[0].status, "expired");
    // Reviewing again changes nothing more.
    assert!(app.review_exceptions().unwrap().is_empty());
    // The next decision clears the flag.
    app.set_state(
        &Findings::Ids(vec![ids[0]]),
        &mamori_app::remediation::StateChange {
            to: Remediation::Investigating,
            reason: Some("再評価".into()),
            planned_date: None,
            justification: None,
        },
        day("2027-04-01"),
    )
    .unwrap();
    assert_eq!(state(&mut app, ids[0]), ("investigating".into(), None));
    assert_eq!(app.verify_audit_log().unwrap(), None);
}

#[test]
fn a_rejected_exception_changes_no_finding_and_an_expired_one_cannot_be_approved() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut app = matched(&data);
    app.set_config(SELF_APPROVAL, "true").unwrap();
    app.set_today(day("2026-12-01"));
    let one = app.findings(&Default::default()).unwrap()[0].id;
    let p = Proposal {
        kind: Remediation::RiskAccepted,
        measures: vec![],
        note: Some("EOS の検査装置、更新まで".into()),
        residual_risk: ResidualRisk::Medium,
        review_date: day("2027-01-31"),
    };
    let a = app
        .propose_exception(&Findings::Ids(vec![one]), &p)
        .unwrap();
    app.decide_exception(a, false, Some("代替策を先に検討"))
        .unwrap();
    assert_eq!(state(&mut app, one).0, "new");
    assert!(
        app.decide_exception(a, true, None).is_err(),
        "already decided"
    );
    // Proposed, then left until after its review date: it cannot be approved any more.
    let b = app
        .propose_exception(&Findings::Ids(vec![one]), &p)
        .unwrap();
    app.set_today(day("2027-02-01"));
    let err = app.decide_exception(b, true, None).unwrap_err();
    assert!(
        err.message(mamori_core::Lang::En).contains("has passed"),
        "{err}"
    );
    // 代替策 without a measure is refused.
    let none = Proposal {
        kind: Remediation::Mitigated,
        review_date: day("2027-06-30"),
        ..p
    };
    assert!(app
        .propose_exception(&Findings::Ids(vec![one]), &none)
        .is_err());
}

#[test]
fn findings_fall_overdue_by_their_priority_and_the_hospitals_days() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut app = matched(&data);
    let all = app.findings(&Default::default()).unwrap();
    let seen = all[0].first_seen.date_naive();
    let overdue = |app: &mut App| {
        app.findings(&mamori_app::findings::FindingQuery {
            overdue: true,
            ..Default::default()
        })
        .unwrap()
        .len()
    };
    // Medium and low findings get 120 days by default.
    let sla = app.sla().unwrap();
    assert_eq!(
        mamori_app::findings::due_date(&all[0], &sla),
        seen + chrono::Days::new(120)
    );
    app.set_today(seen + chrono::Days::new(120));
    assert_eq!(overdue(&mut app), 0, "due today is not overdue");
    app.set_today(seen + chrono::Days::new(121));
    assert_eq!(overdue(&mut app), 4);
    // The hospital shortens the days; a finding closed as not affected is not overdue.
    app.set_today(seen);
    assert!(
        app.set_config("sla.other_days", "0").is_err(),
        "1–3650 days"
    );
    app.set_config("sla.other_days", "7").unwrap();
    app.set_state(
        &Findings::Ids(vec![all[0].id]),
        &mamori_app::remediation::StateChange {
            to: Remediation::NotAffected,
            reason: Some("該当機能なし".into()),
            planned_date: None,
            justification: Some(mamori_core::remediation::Justification::CodeNotPresent),
        },
        seen,
    )
    .unwrap();
    app.set_today(seen + chrono::Days::new(8));
    assert_eq!(overdue(&mut app), 3);
}

#[test]
fn a_device_past_its_support_end_is_risk_accepted_even_without_findings() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut app = matched(&data);
    app.set_config(SELF_APPROVAL, "true").unwrap();
    app.set_today(day("2026-12-01"));
    let values: Vec<(String, String)> = [
        ("機器名", "旧型透視装置"),
        ("機器種別", "医療機器"),
        ("サポート終了日", "2024-03-31"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    app.add_asset("MD-0099", &values).unwrap();
    let p = Proposal {
        kind: Remediation::RiskAccepted,
        measures: vec![Measure::NetworkIsolation],
        note: Some("更新予算の承認まで、閉域で運用".into()),
        residual_risk: ResidualRisk::Medium,
        review_date: day("2027-03-31"),
    };
    let id = app
        .propose_exception(&Findings::Asset("MD-0099".into()), &p)
        .unwrap();
    // 代替策 needs findings to cover; a device alone is a risk acceptance.
    let mitigated = Proposal {
        kind: Remediation::Mitigated,
        ..p.clone()
    };
    assert!(app
        .propose_exception(&Findings::Asset("MD-0099".into()), &mitigated)
        .is_err());
    assert!(app
        .propose_exception(&Findings::Asset("NOPE".into()), &p)
        .is_err());
    let e = app.decide_exception(id, true, None).unwrap();
    assert_eq!(
        (e.status.as_str(), e.asset.as_deref()),
        ("approved", Some("MD-0099"))
    );
    assert!(e.findings.is_empty());
    app.set_today(day("2027-04-01"));
    assert_eq!(app.review_exceptions().unwrap(), [id]);
    assert_eq!(app.exceptions().unwrap()[0].status, "expired");
}
