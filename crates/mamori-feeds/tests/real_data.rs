//! Every real NVD, KEV and EPSS file in `../shared/data` reads with zero skipped records,
//! and the record counts match `../shared/data/SOURCES.md`. The data is read in place.
//! Absent data is a skip locally and a failure in CI (`CI=true`).

use std::io::Read;
use std::path::{Path, PathBuf};

use mamori_feeds::nvd::{read_nvd, NvdFormat, NvdSummary};
use mamori_feeds::{epss, kev};

/// The crate directory: cargo sets it at run time too, which survives a moved checkout.
fn manifest_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

fn shared_data() -> Option<PathBuf> {
    let dir = std::env::var_os("MAMORI_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest_dir().join("../../../shared/data"));
    if dir.is_dir() {
        return Some(dir);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("shared test data not found at {} (CI=true)", dir.display());
    }
    eprintln!("SKIP: shared test data not found at {}", dir.display());
    None
}

fn open(path: &Path) -> Box<dyn Read> {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if path.extension().is_some_and(|e| e == "gz") {
        Box::new(flate2::read::GzDecoder::new(file))
    } else {
        Box::new(file)
    }
}

fn read_all(path: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    open(path).read_to_end(&mut out).unwrap();
    out
}

/// Reads an NVD file; asserts no record was skipped; returns the summary.
fn nvd(path: &Path) -> NvdSummary {
    let mut n = 0usize;
    let summary = read_nvd(open(path), &mut |v| {
        assert!(!v.id.is_empty());
        n += 1;
    })
    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let skipped: Vec<_> = summary.warnings.iter().filter(|w| w.skipped).collect();
    assert!(
        skipped.is_empty(),
        "{}: skipped {skipped:?}",
        path.display()
    );
    assert_eq!(n, summary.records);
    summary
}

fn files_under(dir: &Path, keep: &dyn Fn(&Path) -> bool) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if keep(&p) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn nvd_2_0_converted_feeds_have_the_documented_counts() {
    let Some(data) = shared_data() else { return };
    let expected = [
        ("2002", 6_768),
        ("2014", 8_846),
        ("2016", 10_466),
        ("2017", 16_509),
        ("2018", 16_591),
        ("2021", 10_660),
    ];
    let mut total = 0;
    for (year, count) in expected {
        let s = nvd(&data.join(format!(
            "nvd/api-2.0-from-1.1/nvdcve-2.0-from-1.1-{year}.json.gz"
        )));
        assert_eq!(
            (s.format, s.records),
            (Some(NvdFormat::V2), count),
            "{year}"
        );
        assert_eq!(s.total_results, Some(count as u64));
        total += s.records;
    }
    assert_eq!(total, 69_840);
}

#[test]
fn nvd_1_1_feeds_have_the_documented_counts_and_match_their_2_0_conversion() {
    let Some(data) = shared_data() else { return };
    let expected = [
        ("2002", 6_768),
        ("2014", 8_846),
        ("2016", 10_466),
        ("2017", 16_509),
        ("2018", 16_591),
        ("2021", 10_660),
    ];
    for (year, count) in expected {
        let s = nvd(&data.join(format!("nvd/feed-1.1/kepler/nvdcve-1.1-{year}.json.gz")));
        assert_eq!(
            (s.format, s.records),
            (Some(NvdFormat::V11), count),
            "{year}"
        );
    }
    let s = nvd(&data.join("nvd/feed-1.1/osv.dev/nvdcve-1.1-test-data.json.gz"));
    assert_eq!(s.records, 669);
    for withheld in ["nvdcve-1.1-2025.json.gz", "nvdcve-1.1-recent.json.gz"] {
        let p = data.join("nvd/feed-1.1/kepler").join(withheld);
        if p.exists() {
            nvd(&p);
        }
    }

    // The same records through both formats give the same applicability logic.
    let mut v11 = std::collections::HashMap::new();
    read_nvd(
        open(&data.join("nvd/feed-1.1/kepler/nvdcve-1.1-2014.json.gz")),
        &mut |v| {
            v11.insert(v.id.clone(), v);
        },
    )
    .unwrap();
    let mut compared = 0;
    read_nvd(
        open(&data.join("nvd/api-2.0-from-1.1/nvdcve-2.0-from-1.1-2014.json.gz")),
        &mut |v| {
            let old = &v11[&v.id];
            assert_eq!(old.configurations.len(), v.configurations.len(), "{}", v.id);
            for (a, b) in old.configurations.iter().zip(&v.configurations) {
                assert_eq!(a.operator, b.operator, "{}", v.id);
                assert_eq!(a.nodes.len(), b.nodes.len(), "{}", v.id);
                for (x, y) in a.nodes.iter().zip(&b.nodes) {
                    let strip = |n: &mamori_core::vuln::Node| {
                        n.matches
                            .iter()
                            .map(|m| {
                                (
                                    m.vulnerable,
                                    m.criteria.clone(),
                                    m.version_start_including.clone(),
                                    m.version_start_excluding.clone(),
                                    m.version_end_including.clone(),
                                    m.version_end_excluding.clone(),
                                )
                            })
                            .collect::<Vec<_>>()
                    };
                    assert_eq!(strip(x), strip(y), "{}", v.id);
                }
            }
            assert_eq!(old.cvss.len(), v.cvss.len(), "{}", v.id);
            assert_eq!(old.published, v.published, "{}", v.id);
            compared += 1;
        },
    )
    .unwrap();
    assert_eq!(compared, 8_846);
}

#[test]
fn every_nvd_2_0_fixture_reads_and_together_they_are_the_merged_file() {
    let Some(data) = shared_data() else { return };
    let ids_of = |path: &Path| {
        let mut ids = std::collections::BTreeSet::new();
        let s = read_nvd(open(path), &mut |v| {
            ids.insert(v.id);
        })
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(
            s.warnings.iter().all(|w| !w.skipped),
            "{}: {:?}",
            path.display(),
            s.warnings
        );
        ids
    };
    let merged_summary = nvd(&data.join("nvd/nvd-cve-api-2.0-merged.json.gz"));
    assert_eq!(
        (merged_summary.records, merged_summary.with_configurations),
        (156, 126)
    );
    let merged = ids_of(&data.join("nvd/nvd-cve-api-2.0-merged.json.gz"));

    let json = |p: &Path| p.extension().is_some_and(|e| e == "json");
    let mut fixtures = files_under(&data.join("nvd/api-2.0"), &json);
    let vuls = data.join("fixtures-vuls-data-update/pkg/fetch/nvd");
    fixtures.extend(files_under(&vuls.join("api/cve"), &json));
    fixtures.extend(files_under(&vuls.join("feed/cve/v2"), &|p| {
        p.to_string_lossy().ends_with(".json.gz")
    }));
    assert!(fixtures.len() >= 60, "{}", fixtures.len());
    let mut all = std::collections::BTreeSet::new();
    for f in &fixtures {
        all.extend(ids_of(f));
    }
    assert_eq!(
        all, merged,
        "the fixtures hold exactly the merged file's 156 CVEs"
    );
    for f in files_under(&vuls.join("feed/cve/v1"), &|p| {
        p.to_string_lossy().ends_with(".json.gz")
    }) {
        assert_eq!(nvd(&f).format, Some(NvdFormat::V11));
    }
}

#[test]
fn kev_catalogues_have_the_documented_counts() {
    let Some(data) = shared_data() else { return };
    let now = kev::parse_kev(&read_all(
        &data.join("kev/known_exploited_vulnerabilities.json"),
    ))
    .unwrap();
    assert_eq!(
        (now.catalog_version.as_str(), now.entries.len()),
        ("2025.08.25", 1_404)
    );
    assert!(now.warnings.is_empty(), "{:?}", now.warnings);
    let before = kev::parse_kev(&read_all(
        &data.join("kev/known_exploited_vulnerabilities.2025-08-18.json.gz"),
    ))
    .unwrap();
    assert_eq!(before.entries.len(), 1_400);
    let old: std::collections::HashSet<&str> =
        before.entries.iter().map(|e| e.cve_id.as_str()).collect();
    let mut added: Vec<&str> = now
        .entries
        .iter()
        .map(|e| e.cve_id.as_str())
        .filter(|id| !old.contains(id))
        .collect();
    added.sort();
    assert_eq!(
        added,
        [
            "CVE-2024-8068",
            "CVE-2024-8069",
            "CVE-2025-43300",
            "CVE-2025-48384"
        ]
    );
    let fortios = now
        .entries
        .iter()
        .find(|e| e.cve_id == "CVE-2018-13379")
        .expect("FortiOS SSL-VPN in KEV");
    assert!(fortios.known_ransomware);
    kev::parse_kev(&read_all(&data.join("fixtures-vuls-data-update/pkg/fetch/cisa/kev/testdata/fixtures/known_exploited_vulnerabilities.json"))).unwrap();
    // The CSV form of the same catalogue holds the same 1,404 entries, field for field.
    let csv = kev::parse_kev_csv(&read_all(
        &data.join("kev/known_exploited_vulnerabilities.csv"),
    ))
    .unwrap();
    assert!(csv.warnings.is_empty(), "{:?}", csv.warnings);
    let mut a = now.entries.clone();
    let mut b = csv.entries.clone();
    a.sort_by(|x, y| x.cve_id.cmp(&y.cve_id));
    b.sort_by(|x, y| x.cve_id.cmp(&y.cve_id));
    assert_eq!(a, b);
}

#[test]
fn epss_fixtures_in_all_header_variants() {
    let Some(data) = shared_data() else { return };
    let dir = data.join("fixtures-vuls-data-update/pkg/fetch/epss/testdata/fixtures");
    let mut with_percentile = 0;
    let mut with_model = 0;
    for day in ["2021-04-14", "2021-09-01", "2022-02-04", "2023-03-07"] {
        let f =
            epss::parse_epss(&read_all(&dir.join(format!("epss_scores-{day}.csv.gz")))).unwrap();
        assert_eq!(f.scores.len(), 2, "{day}");
        assert!(f.warnings.is_empty(), "{day}: {:?}", f.warnings);
        with_percentile += f.scores.iter().filter(|s| s.1.percentile.is_some()).count();
        with_model += usize::from(f.model_version.is_some());
    }
    assert!(
        with_percentile >= 4 && with_model >= 1,
        "{with_percentile} {with_model}"
    );
}

fn jvn(
    path: &Path,
) -> (
    mamori_feeds::jvn::JvnSummary,
    Vec<mamori_core::vuln::Vulnerability>,
) {
    let mut out = Vec::new();
    let s = mamori_feeds::jvn::parse_jvn(&read_all(path), &mut |v| out.push(v))
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        s.warnings.is_empty(),
        "{}: {:?}",
        path.display(),
        s.warnings
    );
    (s, out)
}

#[test]
fn jvn_vuldef_and_rss_documents_read_completely_in_japanese() {
    use mamori_feeds::jvn::JvnFormat;
    let Some(data) = shared_data() else { return };
    let hnd = data.join("jvn/myjvn-api-examples/examples/hnd");
    let mut details = 0;
    for id in [
        "JVNDB-2017-009608",
        "JVNDB-2018-009328",
        "JVNDB-2021-002774",
        "JVNDB-2022-000097",
    ] {
        let (s, out) = jvn(&hnd.join(format!("getVulnDetailInfo_hnd_{id}.xml")));
        assert_eq!((s.format, out.len()), (Some(JvnFormat::Vuldef), 1), "{id}");
        let v = &out[0];
        assert_eq!(v.id, id);
        assert!(
            v.title("ja")
                .is_some_and(|t| t.chars().any(|c| ('\u{3040}'..='\u{30ff}').contains(&c))),
            "{id}: a Japanese title"
        );
        assert!(v.description("ja").is_some(), "{id}: overview");
        assert!(!v.affected.is_empty(), "{id}: affected products");
        details += 1;
    }
    let (_, feed) = jvn(&hnd.join("dataFeed_jvndb_detail_hnd.xml"));
    assert_eq!(feed.len(), 7);
    details += feed.len();
    let fixtures = data.join("fixtures-vuls-data-update/pkg/fetch/jvn/feed");
    for (year, n) in [("2021", 1), ("2022", 2), ("2023", 2)] {
        let (_, out) =
            jvn(&fixtures.join(format!("detail/testdata/fixtures/jvndb_detail_{year}.rdf")));
        assert_eq!(out.len(), n, "{year}");
        details += n;
    }
    assert_eq!(details, 16);

    let (s, overview) = jvn(&hnd.join("getVulnOverviewList_hnd.xml"));
    assert_eq!((s.format, overview.len()), (Some(JvnFormat::Rss), 2));
    assert_eq!(
        overview[0].aliases,
        vec!["CVE-2025-31084"],
        "JVNDB ↔ CVE link"
    );
    assert_eq!(jvn(&hnd.join("dataFeed_jvndb_rss_hnd.xml")).1.len(), 4);
    let mut rss = 0;
    for (name, n) in [
        ("jvndb", 1),
        ("jvndb_2007", 1),
        ("jvndb_2011", 1),
        ("jvndb_2021", 1),
        ("jvndb_2022", 3),
        ("jvndb_2023", 2),
        ("jvndb_new", 2),
    ] {
        let (_, out) = jvn(&fixtures.join(format!("rss/testdata/fixtures/{name}.rdf")));
        assert_eq!(out.len(), n, "{name}");
        assert!(out.iter().all(|v| v.id.starts_with("JVNDB-")));
        rss += n;
    }
    assert_eq!(rss, 11);
    // MyJVN API 4.0 JSON feeds.
    let oka = data.join("jvn/myjvn-api-examples/examples/oka");
    for (name, n) in [
        ("getVulnOverviewList_oka.json", 3),
        ("dataFeed_jvndb_rss_oka.json", 3),
    ] {
        let mut out = Vec::new();
        let s = mamori_feeds::jvn::parse_jvn_json(&read_all(&oka.join(name)), &mut |v| out.push(v))
            .unwrap();
        assert!(s.warnings.is_empty(), "{name}: {:?}", s.warnings);
        assert_eq!(out.len(), n, "{name}");
        assert!(
            out.iter()
                .all(|v| v.id.starts_with("JVNDB-") && v.title("ja").is_some()),
            "{name}"
        );
    }
    let mut out = Vec::new();
    mamori_feeds::jvn::parse_jvn_json(
        &read_all(&oka.join("getVulnOverviewList_oka.json")),
        &mut |v| out.push(v),
    )
    .unwrap();
    let photo = out.iter().find(|v| v.id == "JVNDB-2025-002953").unwrap();
    assert_eq!(photo.aliases, vec!["CVE-2025-31084"]);
    assert_eq!(photo.cwes, vec!["CWE-502"]);
    assert_eq!(
        photo.affected[0].cpe.as_deref(),
        Some("cpe:2.3:a:sunshinephotocart:sunshine_photo_cart:*:*:*:*:*:*:*:*")
    );
    assert_eq!(photo.cvss[0].base_score, 9.8);
    // The MyJVN documents that are not vulnerability entries are refused, not misread.
    for other in [
        "getVendorList_hnd.xml",
        "getProductList_hnd.xml",
        "getAlertList_hnd.xml",
        "getStatistics_hnd_sumAll.xml",
    ] {
        assert!(
            mamori_feeds::jvn::parse_jvn(&read_all(&hnd.join(other)), &mut |_| {}).is_err(),
            "{other}"
        );
    }
}

#[test]
fn all_icsma_medical_advisories_read_completely() {
    let Some(data) = shared_data() else { return };
    let ot = data.join("csaf/cisagov-CSAF/csaf_files/OT/white");
    let icsma = files_under(&ot, &|p| {
        p.file_name().is_some_and(|n| {
            n.to_string_lossy().starts_with("icsma-") && n.to_string_lossy().ends_with(".json")
        })
    });
    assert_eq!(
        icsma.len(),
        124,
        "SOURCES.md: 124 ICSMA advisories in this copy"
    );
    let (mut vulns, mut products, mut with_fix) = (0, 0, 0);
    let mut vendors = std::collections::BTreeSet::new();
    for f in &icsma {
        let parsed = mamori_feeds::csaf::parse_csaf(&read_all(f))
            .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        assert!(
            parsed.warnings.is_empty(),
            "{}: {:?}",
            f.display(),
            parsed.warnings
        );
        let a = parsed.advisory;
        assert!(a.id.starts_with("ICSMA-"), "{}", a.id);
        assert!(!a.products.is_empty(), "{}: products", a.id);
        for v in &a.vulnerabilities {
            assert!(
                v.cve.as_deref().is_some_and(|c| c.starts_with("CVE-")),
                "{}: CVE",
                a.id
            );
            assert!(!v.product_status.is_empty(), "{}: product status", a.id);
            with_fix += usize::from(v.remediations.iter().any(|r| r.category == "vendor_fix"));
        }
        vendors.extend(a.products.iter().filter_map(|p| p.vendor.clone()));
        vulns += a.vulnerabilities.len();
        products += a.products.len();
    }
    assert_eq!((vulns, products), (382, 567));
    assert!(
        vendors.iter().any(|v| v.contains("Philips"))
            && vendors.iter().any(|v| v.contains("Medtronic")),
        "{vendors:?}"
    );
    assert_eq!(
        with_fix, 276,
        "vulnerabilities with a vendor fix (counted independently with Python)"
    );
}

#[test]
fn every_other_csaf_document_reads() {
    let Some(data) = shared_data() else { return };
    let mut files = files_under(&data.join("csaf/cisagov-CSAF/csaf_files"), &|p| {
        let n = p.file_name().unwrap().to_string_lossy();
        n.ends_with(".json") && (n.starts_with("icsa-") || n.starts_with("va-"))
    });
    let vendors = data.join("fixtures-vuls-data-update/pkg/fetch");
    for v in [
        "siemens",
        "sick",
        "nozominetworks",
        "cert-bund",
        "ncsc",
        "microsoft",
        "fortinet",
        "paloalto",
        "cisco",
    ] {
        files.extend(files_under(&vendors.join(v).join("csaf"), &|p| {
            let n = p.to_string_lossy();
            (n.ends_with(".json") || n.ends_with(".json.gz"))
                && !n.contains("feed")
                && !n.contains("provider-metadata")
                && !n.contains("index")
        }));
    }
    let mut read = 0;
    for f in &files {
        let bytes = read_all(f);
        if !String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]).contains("csaf_version") {
            continue; // ROLIE feeds, provider metadata and other non-advisory JSON
        }
        let parsed = mamori_feeds::csaf::parse_csaf(&bytes)
            .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        assert!(!parsed.advisory.id.is_empty());
        read += 1;
    }
    assert!(
        read >= 116,
        "112 ICSA + 4 VA advisories and the vendor samples: {read}"
    );
}

/// Every real nmap XML file reads (nmap 5.21 to 7.91, with OS detection, service versions
/// and scripts); hosts without an address are the only ones left out.
#[test]
fn real_nmap_xml_files_read() {
    let Some(data) = shared_data() else { return };
    let dir = data.join("nmap-xml");
    let mut files = Vec::new();
    for sub in std::fs::read_dir(&dir).unwrap().flatten() {
        if sub.path().is_dir() {
            for f in std::fs::read_dir(sub.path()).unwrap().flatten() {
                if f.path().extension().is_some_and(|e| e == "xml") {
                    files.push(f.path());
                }
            }
        }
    }
    files.sort();
    assert!(files.len() >= 24, "{} nmap files", files.len());
    let (mut hosts, mut open, mut versions, mut skipped) = (0, 0, 0, 0);
    for path in &files {
        let bytes = std::fs::read(path).unwrap();
        let (run, warnings) = mamori_feeds::nmap::parse_nmap_xml(&bytes)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        // test_osclass.xml has its address anonymised to "IP": that host is skipped, with
        // the line named.
        for w in warnings.iter().filter(|w| w.skipped) {
            assert!(w.message.contains("without an IP address"), "{w}");
            skipped += 1;
        }
        assert!(run.args.is_some(), "{}", path.display());
        hosts += run.hosts.len();
        for h in &run.hosts {
            open += h.open_ports().count();
            versions += h.open_ports().filter(|p| p.version.is_some()).count();
        }
    }
    eprintln!(
        "{} nmap files: {hosts} hosts, {open} open ports, {versions} with a version, {skipped} skipped",
        files.len()
    );
    assert!(skipped <= 1, "{skipped} hosts skipped");
    assert!(
        hosts > 24 && open > 50 && versions > 5,
        "{hosts} {open} {versions}"
    );
}
