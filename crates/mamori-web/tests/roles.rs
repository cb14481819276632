//! Every page × every role, through the router without sockets: allowed (200), forbidden
//! (403), not found (404), or sent elsewhere (303) — checked against the one permission
//! table of `mamori_core::access`, so a page that forgets its check, or checks the wrong
//! permission, fails here. Each role is a real user logged in with its password.

use axum::http::StatusCode;
use mamori_app::App;
use mamori_core::access::{allows, Permission};
use mamori_core::{Labelled, Role};
use mamori_web::{router, WebState};

mod common;

use common::*;

/// What a page needs: a permission, or any logged-in user (`None`).
struct Page {
    path: &'static str,
    needs: Option<Permission>,
    /// A 事業者 user is confined to its own pages: these answer it otherwise.
    vendor: Option<StatusCode>,
}

const PAGES: &[Page] = &[
    Page {
        path: "/ledger",
        needs: Some(Permission::View),
        vendor: None,
    },
    Page {
        path: "/ledger/MR-1",
        needs: Some(Permission::View),
        vendor: None,
    },
    Page {
        path: "/ledger/import",
        needs: Some(Permission::EditLedger),
        vendor: None,
    },
    Page {
        path: "/ledger/MR-1/edit",
        needs: Some(Permission::EditLedger),
        vendor: None,
    },
    Page {
        path: "/findings",
        needs: Some(Permission::View),
        vendor: None,
    },
    Page {
        path: "/findings/1",
        needs: Some(Permission::View),
        vendor: None,
    },
    Page {
        path: "/vulns",
        needs: Some(Permission::View),
        vendor: None,
    },
    Page {
        path: "/inquiries",
        needs: Some(Permission::View),
        vendor: None,
    },
    Page {
        path: "/scans",
        needs: Some(Permission::View),
        vendor: None,
    },
    Page {
        path: "/scans/1",
        needs: Some(Permission::View),
        vendor: None,
    },
    Page {
        path: "/safe-use",
        needs: Some(Permission::View),
        vendor: None,
    },
    Page {
        path: "/hours",
        needs: Some(Permission::View),
        vendor: None,
    },
    Page {
        path: "/feeds",
        needs: Some(Permission::View),
        vendor: None,
    },
    Page {
        path: "/audit",
        needs: Some(Permission::ViewAudit),
        vendor: None,
    },
    Page {
        path: "/users",
        needs: Some(Permission::ManageUsers),
        vendor: None,
    },
    Page {
        path: "/jobs",
        needs: None,
        vendor: None,
    },
    Page {
        path: "/password",
        needs: None,
        vendor: None,
    },
    Page {
        path: "/",
        needs: Some(Permission::View),
        vendor: Some(StatusCode::SEE_OTHER),
    },
    Page {
        path: "/vendor",
        needs: None,
        vendor: None,
    },
    Page {
        path: "/vendor/devices/MR-1",
        needs: None,
        vendor: None,
    },
    // Another company's device: a vendor user cannot tell it from one that does not exist.
    Page {
        path: "/vendor/devices/CT-1",
        needs: None,
        vendor: Some(StatusCode::NOT_FOUND),
    },
];

/// Pages of things that do not exist: 404 for whoever may look (a vendor: 403 where it may
/// not look at all, 404 on its own pages).
const MISSING: &[(&str, Option<Permission>)] = &[
    ("/ledger/NOPE-1", Some(Permission::View)),
    ("/ledger/NOPE-1/edit", Some(Permission::EditLedger)),
    ("/findings/999999", Some(Permission::View)),
    ("/vulns/CVE-1999-0001", Some(Permission::View)),
    ("/vendor/devices/NOPE-1", None),
    ("/jobs/12345", None),
    ("/no/such/page", None),
];

#[tokio::test]
async fn every_page_answers_every_role_as_the_permission_table_says() {
    let dir = tempfile::tempdir().unwrap();
    let (data, mut admin) = common::store(dir.path());
    for r in Role::ALL {
        let vendor = (*r == Role::Vendor).then_some("Acme");
        admin
            .add_user(&format!("u-{}", r.code()), None, &[*r], vendor, Some(PW))
            .unwrap();
    }
    let mut op = App::login(&data, "sato", PW).unwrap();
    for (id, vendor, ip) in [
        ("MR-1", "Acme", "127.0.0.9"),
        ("CT-1", "Beta", "127.0.0.10"),
    ] {
        op.add_asset(
            id,
            &[
                ("機器名".into(), format!("{id} 装置")),
                ("機器種別".into(), "医療機器".into()),
                ("保守事業者".into(), vendor.into()),
                ("IPアドレス".into(), ip.into()),
            ],
        )
        .unwrap();
    }
    import_telnet_scan(dir.path(), &data, "sato", "scan.xml");
    let router = router(WebState::new(data, false));

    let mut checked = 0;
    for role in Role::ALL {
        let (_, cookie) = login(&router, &format!("u-{}", role.code()), PW).await;
        for p in PAGES {
            let want = match (*role == Role::Vendor, p.vendor, p.needs) {
                (true, Some(v), _) => v,
                (_, _, Some(perm)) if !allows(*role, perm) => StatusCode::FORBIDDEN,
                _ => StatusCode::OK,
            };
            let got = get(&router, p.path, &cookie).await;
            assert_eq!(
                got.status,
                want,
                "{} as {}: {}",
                p.path,
                role.code(),
                got.body
            );
            checked += 1;
        }
        for (path, needs) in MISSING {
            let want = match needs {
                Some(perm) if !allows(*role, *perm) => StatusCode::FORBIDDEN,
                _ => StatusCode::NOT_FOUND,
            };
            let got = get(&router, path, &cookie).await;
            assert_eq!(got.status, want, "{path} as {}: {}", role.code(), got.body);
            checked += 1;
        }
    }
    assert_eq!(checked, Role::ALL.len() * (PAGES.len() + MISSING.len()));
}
