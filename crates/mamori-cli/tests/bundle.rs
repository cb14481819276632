//! Offline bundles for closed networks: export → carry → verify → import, and refusal of
//! anything altered or signed by another key, with nothing changed.

mod support;

use support::Env;

fn counts(env: &Env) -> Vec<(String, i64)> {
    let r = env.run(&["--json", "feeds", "status"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut v: Vec<(String, i64)> = r.json()["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["source"].as_str().unwrap().to_string(),
                s["records"].as_i64().unwrap(),
            )
        })
        .collect();
    v.retain(|(_, n)| *n > 0);
    v
}

fn shown(env: &Env, id: &str) -> serde_json::Value {
    let r = env.run(&["--json", "vuln", "show", id]);
    assert_eq!(r.code, 0, "{id}: {}", r.stderr);
    let mut v = r.json();
    let m = v.as_object_mut().unwrap();
    m.remove("origin");
    m.remove("imported_at");
    v
}

#[test]
fn bundle_round_trip_and_tampering() {
    let Some(data) = support::shared_data() else {
        return;
    };
    let online = Env::init();
    let sources = [
        data.join("nvd/nvd-cve-api-2.0-merged.json.gz"),
        data.join("kev/known_exploited_vulnerabilities.json"),
        data.join("fixtures-vuls-data-update/pkg/fetch/epss/testdata/fixtures"),
        data.join("jvn/myjvn-api-examples/examples/hnd"),
        data.join("csaf/cisagov-CSAF/csaf_files/OT/white/2017"),
    ];
    let mut args = vec!["feeds".to_string(), "import".to_string()];
    args.extend(sources.iter().map(|p| p.to_string_lossy().into_owned()));
    let r = online.run(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(r.code, 0, "{}", r.stderr);

    let key = online.path("signing.key");
    let r = online.run(&["feeds", "keygen", "--out", key.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let public = online.path("signing.key.pub");
    let bundle = online.path("feeds.bundle");
    let r = online.run(&[
        "--json",
        "feeds",
        "export-bundle",
        bundle.to_str().unwrap(),
        "--key",
        key.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);

    // The closed network: verify and import.
    let closed = Env::init();
    let r = closed.run(&[
        "--json",
        "feeds",
        "import-bundle",
        bundle.to_str().unwrap(),
        "--trust",
        public.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(counts(&closed), counts(&online));
    for id in [
        "CVE-2021-26855",
        "JVNDB-2021-002774",
        "ICSMA-17-082-01",
        "CVE-2024-23113",
    ] {
        assert_eq!(
            shown(&closed, id),
            shown(&online, id),
            "{id} is the same after the round trip"
        );
    }
    // Importing the same bundle again changes nothing.
    let again = closed
        .run(&[
            "--json",
            "feeds",
            "import-bundle",
            bundle.to_str().unwrap(),
            "--trust",
            public.to_str().unwrap(),
        ])
        .json();
    assert_eq!(
        (again["added"].as_i64(), again["updated"].as_i64()),
        (Some(0), Some(0))
    );

    // One flipped byte anywhere: refused, and the store is unchanged.
    let bytes = std::fs::read(&bundle).unwrap();
    let fresh = Env::init();
    for offset in [
        100,
        700,
        1_100,
        bytes.len() / 3,
        bytes.len() / 2,
        bytes.len() - 2_000,
    ] {
        let mut bad = bytes.clone();
        bad[offset] ^= 0x01;
        let f = fresh.path(&format!("flipped-{offset}.bundle"));
        std::fs::write(&f, &bad).unwrap();
        let r = fresh.run(&[
            "--lang",
            "en",
            "feeds",
            "import-bundle",
            f.to_str().unwrap(),
            "--trust",
            public.to_str().unwrap(),
        ]);
        assert_eq!(r.code, 1, "offset {offset}: {}", r.stdout);
        assert!(
            r.stderr.contains("Nothing was imported")
                || r.stderr.contains("cannot be read as a mamori bundle"),
            "offset {offset}: {}",
            r.stderr
        );
        assert!(
            counts(&fresh).is_empty(),
            "offset {offset}: nothing imported"
        );
    }

    // Another key: refused.
    let other = fresh.path("other.key");
    assert_eq!(
        fresh
            .run(&["feeds", "keygen", "--out", other.to_str().unwrap()])
            .code,
        0
    );
    let r = fresh.run(&[
        "--lang",
        "en",
        "feeds",
        "import-bundle",
        bundle.to_str().unwrap(),
        "--trust",
        fresh.path("other.key.pub").to_str().unwrap(),
    ]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("signature does not verify"),
        "{}",
        r.stderr
    );
    assert!(counts(&fresh).is_empty());
    // keygen never overwrites.
    assert_eq!(
        fresh
            .run(&["feeds", "keygen", "--out", other.to_str().unwrap()])
            .code,
        1
    );

    // A delta since the first bundle carries only what came later.
    let r = online.run(&[
        "feeds",
        "import",
        data.join("nvd/api-2.0-from-1.1/nvdcve-2.0-from-1.1-2002.json.gz")
            .to_str()
            .unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let delta = online.path("delta.bundle");
    let r = online.run(&[
        "--json",
        "feeds",
        "export-bundle",
        delta.to_str().unwrap(),
        "--key",
        key.to_str().unwrap(),
        "--since",
        bundle.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let vulns = r.json()["records"]["vulnerabilities.jsonl.gz"]
        .as_i64()
        .unwrap();
    assert!(
        (6_700..=6_768).contains(&vulns),
        "the 2002 year only (less any CVE already present): {vulns}"
    );
    let r = closed.run(&[
        "--json",
        "feeds",
        "import-bundle",
        delta.to_str().unwrap(),
        "--trust",
        public.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(counts(&closed), counts(&online));
}
