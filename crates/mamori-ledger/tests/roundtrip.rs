//! Export → import gives back the same devices, in every format and both languages.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use mamori_core::*;
use mamori_ledger::write::{write_csv, write_xlsx, CsvEncoding};
use mamori_ledger::{parse_ledger, read_table, Mapping};

fn sample() -> Vec<Asset> {
    let mut full = Asset::new("SRV-001", AssetKind::Server, "電子カルテサーバ");
    full.purpose = Some("電子カルテ".into());
    full.department = Some("医療情報部".into());
    full.location = Some("本館B1 サーバ室".into());
    full.owner = Some("髙橋 一郎".into());
    full.manufacturer = Some("Fujitsu".into());
    full.model = Some("PRIMERGY RX2540 M5".into());
    full.os = Some("Windows Server".into());
    full.os_version = Some("2012 R2".into());
    full.software = vec![
        Software::parse("SQL Server 2014"),
        Software::parse("Google Chrome"),
    ];
    full.cpe = vec!["cpe:2.3:o:microsoft:windows_server_2012:r2:*:*:*:*:*:*:*".into()];
    full.hostname = vec!["EHR-DB01".into()];
    full.ip = vec!["127.0.0.10".parse().unwrap(), "::1".parse().unwrap()];
    full.mac = vec!["00:1a:2b:3c:4d:5e".parse().unwrap()];
    full.status = AssetStatus::Retiring;
    full.vendor = Some("ABCメディカルシステムズ".into());
    full.vendor_contact = Some("03-0000-0000 / support@example.jp".into());
    full.remote_maintenance = Some(true);
    full.external_access = Some(false);
    full.eos_date = NaiveDate::from_ymd_opt(2023, 10, 10);
    full.schedule = Some("24時間".into());
    full.criticality = Some(Criticality::High);
    full.patient_data = Some(true);
    full.boot_password = Some(BootPassword::NotSet);
    full.default_password_changed = Some(DefaultPassword::Unknown);
    full.mds_sds = Some(DocStatus::Received);
    full.sbom = Some(DocStatus::NotApplicable);
    full.last_stocktake = NaiveDate::from_ymd_opt(2026, 4, 1);
    full.notes = Some("=HYPERLINK(\"x\") は数式ではない\n2行目".into());
    full.custom = BTreeMap::from([("購入金額".to_string(), "1200000".to_string())]);
    let bare = Asset::new("USB-9", AssetKind::PortableMedia, "USBメモリ (貸出用)");
    let mut other = Asset::new("NW-01", AssetKind::Network, "FortiGate 60E");
    other.os = Some("FortiOS".into());
    other.os_version = Some("6.0.4".into());
    other.custom = BTreeMap::from([("資産区分".to_string(), "リース".to_string())]);
    vec![full, bare, other]
}

fn reimport(name: &str, bytes: &[u8]) -> Vec<Asset> {
    let table = read_table(name, bytes, None).expect("readable");
    let file = parse_ledger(&table, &Mapping::default());
    let errors: Vec<_> = file.problems.iter().filter(|p| p.is_error()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    file.records.into_iter().map(|r| r.asset).collect()
}

#[test]
fn xlsx_round_trip_in_both_languages() {
    for lang in [Lang::Ja, Lang::En] {
        let bytes = write_xlsx(&sample(), lang).unwrap();
        assert_eq!(reimport("ledger.xlsx", &bytes), sample(), "{lang:?}");
    }
}

#[test]
fn csv_round_trip_utf8_and_cp932() {
    for (lang, enc) in [
        (Lang::Ja, CsvEncoding::Utf8Bom),
        (Lang::Ja, CsvEncoding::Cp932),
        (Lang::En, CsvEncoding::Utf8Bom),
    ] {
        let bytes = write_csv(&sample(), lang, enc).unwrap();
        if enc == CsvEncoding::Utf8Bom {
            assert!(bytes.starts_with(&[0xEF, 0xBB, 0xBF]));
        } else {
            assert!(
                std::str::from_utf8(&bytes).is_err(),
                "CP932 bytes are not UTF-8"
            );
        }
        assert_eq!(reimport("ledger.csv", &bytes), sample(), "{lang:?} {enc:?}");
    }
}

#[test]
fn cp932_export_names_the_unmappable_cell() {
    let mut assets = sample();
    assets[1].notes = Some("🏥".into());
    let err = write_csv(&assets, Lang::Ja, CsvEncoding::Cp932).unwrap_err();
    let msg = err.message(Lang::Ja);
    assert!(
        msg.contains("USB-9") && msg.contains("備考") && msg.contains("🏥"),
        "{msg}"
    );
}
