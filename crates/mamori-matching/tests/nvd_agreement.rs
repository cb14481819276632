//! The engine agrees with NVD's own statements: for every real record with configurations in
//! `../shared/data/nvd/` (the API 2.0 fixtures, the merged file and the 2.0 files converted
//! from the 1.1 feeds, plus the 1.1 test feed), components are made inside and outside each
//! vulnerable criterion's version range and on each bound, and the whole record is evaluated.
//!
//! The expected answers come from how the components are built, not from the engine:
//! a version equal to an including bound is inside that bound, equal to an excluding bound is
//! outside; `bound.1` is after the bound and `bound-alpha` before it (a pre-release); a
//! component with the criterion's own fixed version is inside, `version.1` is not. Platforms
//! and the other nodes of an AND configuration are supplied as witnesses built the same way.
//! Absent data is a skip locally and a failure in CI.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use mamori_core::vuln::{Configuration, CpeMatch, Operator, Vulnerability};
use mamori_matching::applicability::{compile, evaluate, Target, Truth};
use mamori_matching::version::Scheme;
use mamori_matching::{Value, Wfn};

fn shared() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/nvd");
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "shared test data missing at {} (CI=true)",
        dir.display()
    );
    eprintln!("SKIP: shared test data not found at {}", dir.display());
    None
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().flatten().collect();
    entries.sort_by_key(|e| e.path());
    for e in entries {
        let p = e.path();
        if p.is_dir() {
            files(&p, out);
        } else {
            let n = p.to_string_lossy();
            if n.ends_with(".json") || n.ends_with(".json.gz") {
                out.push(p);
            }
        }
    }
}

fn read(path: &Path) -> Vec<Vulnerability> {
    let mut bytes = Vec::new();
    let f = std::fs::File::open(path).unwrap();
    if path.to_string_lossy().ends_with(".gz") {
        flate2::read::GzDecoder::new(f)
            .read_to_end(&mut bytes)
            .unwrap();
    } else {
        std::io::BufReader::new(f).read_to_end(&mut bytes).unwrap();
    }
    let mut out = Vec::new();
    // Not every JSON file in the folder is a CVE file (e.g. a CPE or history page): those
    // give an error and are left out.
    let _ = mamori_feeds::nvd::parse_nvd(&bytes, &mut |v| out.push(v));
    out
}

/// A component that carries the criterion's literal attributes and `version`.
fn component(criterion: &Wfn, version: &str) -> Target {
    let mut w = criterion.clone();
    w.values[3] = Wfn::from_parts('a', "x", "x", Some(version)).values[3].clone();
    Target::new(w, Scheme::Generic)
}

/// Cases for one criterion: (version, expected inside).
fn cases(m: &CpeMatch, w: &Wfn) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    // NVD's `-`/`*` bounds bound nothing (documented in the engine).
    let real = |b: &Option<String>| b.clone().filter(|b| !matches!(b.trim(), "" | "-" | "*"));
    let m = &CpeMatch {
        version_start_including: real(&m.version_start_including),
        version_start_excluding: real(&m.version_start_excluding),
        version_end_including: real(&m.version_end_including),
        version_end_excluding: real(&m.version_end_excluding),
        ..m.clone()
    };
    let bounds = [
        &m.version_start_including,
        &m.version_start_excluding,
        &m.version_end_including,
        &m.version_end_excluding,
    ];
    if bounds.iter().all(|b| b.is_none()) {
        match &w.values[3] {
            Value::Any => out.push(("1.0".to_string(), true)),
            v => {
                if let Some(s) = v.as_literal() {
                    out.push((s.clone(), true));
                    out.push((format!("{s}.1"), false));
                }
            }
        }
        return out;
    }
    // Expected for a version relative to the other bounds: each case is built against one
    // bound, and counts as inside only when it is also inside the others, which we know by
    // construction only for the obvious pairs (start ≤ x ≤ end with x a bound itself).
    let si = m.version_start_including.as_deref();
    let se = m.version_start_excluding.as_deref();
    let ei = m.version_end_including.as_deref();
    let ee = m.version_end_excluding.as_deref();
    let has_start = si.is_some() || se.is_some();
    let has_end = ei.is_some() || ee.is_some();
    if let Some(s) = si {
        out.push((s.to_string(), true)); // on the bound: inside
        out.push((format!("{s}-alpha"), false)); // just before
    }
    if let Some(s) = se {
        out.push((s.to_string(), false));
        if !has_end {
            out.push((format!("{s}.1"), true));
        }
    }
    if let Some(e) = ei {
        out.push((e.to_string(), true));
        out.push((format!("{e}.1"), false));
    }
    if let Some(e) = ee {
        out.push((e.to_string(), false));
        out.push((format!("{e}.1"), false));
        if !has_start {
            out.push((format!("{e}-alpha"), true));
        }
    }
    // A start bound's "inside" cases hold only if the range is not empty; an end bound's
    // likewise. Published ranges are never empty except by error, which the engine then
    // rightly reports as not inside; such records are counted apart.
    out
}

/// A component that satisfies `m`, for AND configurations' other nodes.
fn witness(m: &CpeMatch, w: &Wfn) -> Option<Target> {
    cases(m, w)
        .into_iter()
        .find(|(_, inside)| *inside)
        .map(|(v, _)| component(w, &v))
}

fn usable(w: &Wfn) -> bool {
    // Criteria with wildcards inside a non-version attribute cannot be turned into a concrete
    // component by copying.
    w.values
        .iter()
        .enumerate()
        .all(|(i, v)| i == 3 || !matches!(v, Value::Str { wild, .. } if wild.iter().any(|x| *x)))
}

#[derive(Default, Debug)]
struct Tally {
    files: usize,
    records: usize,
    with_configurations: usize,
    criteria: usize,
    cases: usize,
    inside: usize,
    outside: usize,
    skipped_negated: usize,
    skipped_wildcards: usize,
    empty_ranges: usize,
}

#[test]
fn the_engine_agrees_with_every_nvd_record() {
    let Some(dir) = shared() else { return };
    let mut paths = Vec::new();
    files(&dir.join("api-2.0"), &mut paths);
    files(&dir.join("api-2.0-from-1.1"), &mut paths);
    paths.push(dir.join("nvd-cve-api-2.0-merged.json.gz"));
    paths.push(dir.join("feed-1.1/osv.dev/nvdcve-1.1-test-data.json.gz"));
    let mut t = Tally::default();
    let mut failures = Vec::new();
    for path in &paths {
        let started = std::time::Instant::now();
        let records = read(path);
        let read_time = started.elapsed();
        if records.is_empty() {
            continue;
        }
        t.files += 1;
        for v in &records {
            t.records += 1;
            if v.configurations.is_empty() {
                continue;
            }
            t.with_configurations += 1;
            check_record(v, &mut t, &mut failures);
        }
        eprintln!(
            "{}: read {read_time:?}, total {:?}",
            path.display(),
            started.elapsed()
        );
    }
    eprintln!("{t:#?}");
    assert!(
        failures.is_empty(),
        "{} disagreements, e.g. {:#?}",
        failures.len(),
        &failures[..failures.len().min(10)]
    );
    // The data as documented in SOURCES.md: 69,840 converted records and the fixtures.
    assert!(t.records > 70_000, "{t:?}");
    assert!(t.with_configurations > 50_000, "{t:?}");
    assert!(t.cases > 300_000, "{t:?}");
}

fn check_record(v: &Vulnerability, t: &mut Tally, failures: &mut Vec<String>) {
    let compiled = compile(&v.configurations);
    // Products named anywhere in the record: an "outside" case can only be checked on the
    // whole record when no other criterion names the same product.
    let mut products: HashMap<(String, String), usize> = HashMap::new();
    for c in &v.configurations {
        for n in &c.nodes {
            for m in &n.matches {
                if let Some(vp) = Wfn::parse(&m.criteria)
                    .ok()
                    .and_then(|w| w.vendor_product())
                {
                    *products.entry(vp).or_default() += 1;
                }
            }
        }
    }
    for (ci, config) in v.configurations.iter().enumerate() {
        if config.negate || config.nodes.iter().any(|n| n.negate) {
            t.skipped_negated += 1;
            continue;
        }
        for (ni, node) in config.nodes.iter().enumerate() {
            for (ki, m) in node.matches.iter().enumerate() {
                if !m.vulnerable {
                    continue;
                }
                let Ok(w) = Wfn::parse(&m.criteria) else {
                    failures.push(format!("{}: criterion does not bind: {}", v.id, m.criteria));
                    continue;
                };
                if !usable(&w) {
                    t.skipped_wildcards += 1;
                    continue;
                }
                t.criteria += 1;
                let Some(witnesses) = witnesses(config, ni, node.operator, ki) else {
                    t.skipped_wildcards += 1;
                    continue;
                };
                let criterion = &compiled[ci].nodes[ni].criteria[ki];
                for (version, inside) in cases(m, &w) {
                    t.cases += 1;
                    let target = component(&w, &version);
                    // The criterion alone.
                    let (truth, _) = criterion.test(&target);
                    let single = truth == Truth::Yes;
                    if single != inside {
                        if inside && in_empty_range(m) {
                            t.empty_ranges += 1;
                            continue;
                        }
                        failures.push(format!(
                            "{} {} version {version}: expected {}, engine {truth:?}",
                            v.id,
                            describe(m),
                            if inside { "inside" } else { "outside" }
                        ));
                        continue;
                    }
                    // The whole record, with the configuration's other needs met.
                    let mut targets = vec![target];
                    targets.extend(witnesses.iter().cloned());
                    let outcome = evaluate(&compiled, &targets);
                    if inside {
                        t.inside += 1;
                        let ok = outcome.as_ref().is_some_and(|o| {
                            o.truth == Truth::Yes
                                && o.affected()
                                    .iter()
                                    .any(|(i, tr, _)| *i == 0 && *tr == Truth::Yes)
                        });
                        if !ok {
                            failures.push(format!(
                                "{} config {ci}: {} version {version} should make the record apply; engine {:?}",
                                v.id,
                                describe(m),
                                outcome.map(|o| o.truth)
                            ));
                        }
                    } else {
                        t.outside += 1;
                        let alone = w.vendor_product().is_some_and(|vp| products[&vp] == 1);
                        if alone && witnesses.is_empty() {
                            let affected = outcome
                                .as_ref()
                                .is_some_and(|o| o.affected().iter().any(|(i, _, _)| *i == 0));
                            if affected {
                                failures.push(format!(
                                    "{}: {} version {version} is outside but the engine reports it affected",
                                    v.id,
                                    describe(m)
                                ));
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Components meeting every other node of an AND configuration (none for OR).
fn witnesses(
    config: &Configuration,
    node: usize,
    node_op: Operator,
    tested: usize,
) -> Option<Vec<Target>> {
    let mut out = Vec::new();
    if node_op == Operator::And {
        // All criteria of an AND node must hold: supply the others.
        for (k, m) in config.nodes[node].matches.iter().enumerate() {
            if k != tested {
                let w = Wfn::parse(&m.criteria).ok().filter(usable)?;
                out.push(witness(m, &w)?);
            }
        }
    }
    if config.operator == Operator::And && config.nodes.len() > 1 {
        for (i, n) in config.nodes.iter().enumerate() {
            if i == node {
                continue;
            }
            let mut found = None;
            for m in &n.matches {
                if let Some(w) = Wfn::parse(&m.criteria).ok().filter(usable) {
                    if let Some(t) = witness(m, &w) {
                        found = Some(t);
                        break;
                    }
                }
            }
            out.push(found?);
            if n.operator == Operator::And {
                for m in n.matches.iter().skip(1) {
                    let w = Wfn::parse(&m.criteria).ok().filter(usable)?;
                    out.push(witness(m, &w)?);
                }
            }
        }
    }
    Some(out)
}

fn in_empty_range(m: &CpeMatch) -> bool {
    // start ≥ end: compare the bounds themselves.
    let start = m
        .version_start_including
        .as_deref()
        .or(m.version_start_excluding.as_deref());
    let end = m
        .version_end_including
        .as_deref()
        .or(m.version_end_excluding.as_deref());
    match (start, end) {
        (Some(s), Some(e)) => mamori_matching::version::compare(s, e, Scheme::Generic)
            .is_none_or(|o| o != std::cmp::Ordering::Less),
        _ => false,
    }
}

fn describe(m: &CpeMatch) -> String {
    format!(
        "{} [{:?} {:?} {:?} {:?}]",
        m.criteria,
        m.version_start_including,
        m.version_start_excluding,
        m.version_end_including,
        m.version_end_excluding
    )
}
