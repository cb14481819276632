//! NVD applicability statements evaluated against the components of one device.
//!
//! A vulnerability's [`Configuration`]s are evaluated exactly as NVD defines them: each
//! criterion is true when some component of the device falls under its CPE name and inside
//! its four version bounds; a node combines its criteria with AND/OR, a configuration its
//! nodes; `negate` inverts a result; the vulnerability applies when any configuration holds.
//! Criteria with `vulnerable: false` are platforms ("running on/with"): they must hold for the
//! configuration to hold, but the component that meets them is not the affected one.
//!
//! Logic is three-valued ([`Truth`]): besides yes and no, **unknown** — a version that cannot
//! be compared (see [`crate::version`]), a component whose CPE does not state the version or
//! an attribute the criterion names (e.g. `target_hw = x64`), or a platform of which the
//! device records nothing at all (no component of that part and vendor). AND takes the worst,
//! OR the best, negation keeps unknown unknown. An unknown result is a finding to be
//! confirmed (要確認), never a silent match or a silent miss.

use std::borrow::Borrow;

use mamori_core::vuln::{Configuration, CpeMatch, Operator};

use crate::version::{self, Scheme};
use crate::{compare, Relation, Value, Wfn};

/// Three-valued truth, ordered `No < Unknown < Yes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Truth {
    /// Does not hold.
    No,
    /// Cannot be decided from what is recorded.
    Unknown,
    /// Holds.
    Yes,
}

impl Truth {
    fn not(self) -> Truth {
        match self {
            Truth::No => Truth::Yes,
            Truth::Unknown => Truth::Unknown,
            Truth::Yes => Truth::No,
        }
    }

    fn from_opt(v: Option<bool>) -> Truth {
        match v {
            Some(true) => Truth::Yes,
            Some(false) => Truth::No,
            None => Truth::Unknown,
        }
    }
}

/// Why a criterion came out unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Doubt {
    /// The component's version could not be compared with a bound.
    VersionIncomparable,
    /// The component's CPE does not state its version.
    VersionMissing,
    /// The criterion names an attribute (update, edition, target_hw, …) the component leaves
    /// open.
    AttributeMissing(&'static str),
    /// A platform criterion, and the device records nothing of that vendor and part.
    PlatformNotRecorded,
}

impl Doubt {
    /// A stable code for storage and JSON.
    pub fn code(self) -> String {
        match self {
            Doubt::VersionIncomparable => "version_incomparable".into(),
            Doubt::VersionMissing => "version_missing".into(),
            Doubt::AttributeMissing(a) => format!("attribute_missing:{a}"),
            Doubt::PlatformNotRecorded => "platform_not_recorded".into(),
        }
    }
}

/// A component as matching sees it: its CPE name and how to read its version.
#[derive(Debug, Clone)]
pub struct Target {
    /// The name (version in the version attribute).
    pub wfn: Wfn,
    /// The version as plain text, when the name states one.
    pub version: Option<String>,
    /// How to compare its version.
    pub scheme: Scheme,
    product: Option<String>,
}

impl Target {
    /// A target from a parsed name.
    pub fn new(wfn: Wfn, scheme: Scheme) -> Target {
        let version = wfn.values[3].as_literal();
        Target {
            product: wfn.values[2].as_literal(),
            wfn,
            version,
            scheme,
        }
    }
}

/// One criterion, with its name parsed once.
#[derive(Debug, Clone)]
pub struct Criterion {
    /// The published criterion.
    pub published: CpeMatch,
    /// Its parsed name; `None` when it does not bind (it then never holds).
    pub wfn: Option<Wfn>,
    product: Option<String>,
}

/// NVD sometimes writes `-` or `*` as a bound (e.g. `versionEndIncluding: "-"` on a platform):
/// that bounds nothing, and is read as absent.
fn bound(b: &Option<String>) -> Option<&str> {
    b.as_deref()
        .map(str::trim)
        .filter(|b| !matches!(*b, "" | "-" | "*"))
}

impl Criterion {
    /// A criterion from its published form.
    pub fn new(published: CpeMatch) -> Criterion {
        let wfn = Wfn::parse(&published.criteria).ok();
        Criterion {
            product: wfn.as_ref().and_then(|w| w.values[2].as_literal()),
            wfn,
            published,
        }
    }

    fn has_bounds(&self) -> bool {
        let m = &self.published;
        bound(&m.version_start_including).is_some()
            || bound(&m.version_start_excluding).is_some()
            || bound(&m.version_end_including).is_some()
            || bound(&m.version_end_excluding).is_some()
    }

    /// Whether `target` falls under this criterion.
    pub fn test(&self, target: &Target) -> (Truth, Option<Doubt>) {
        let Some(c) = &self.wfn else {
            return (Truth::No, None);
        };
        if let (Some(a), Some(b)) = (&self.product, &target.product) {
            if a != b {
                return (Truth::No, None);
            }
        }
        let mut doubt = None;
        for i in [0usize, 1, 2, 4, 5, 6, 7, 8, 9, 10] {
            match compare(&c.values[i], &target.wfn.values[i]) {
                Relation::Superset | Relation::Equal => {}
                // The criterion is specific where the component says nothing.
                Relation::Subset if i > 2 => {
                    doubt.get_or_insert(Doubt::AttributeMissing(crate::ATTRIBUTES[i]));
                }
                _ => return (Truth::No, None),
            }
        }
        let version_truth = if self.has_bounds() {
            let Some(v) = &target.version else {
                return (Truth::Unknown, Some(Doubt::VersionMissing));
            };
            // NVD puts bounds only on `*` versions; a fixed version must also equal.
            if !matches!(c.values[3], Value::Any)
                && exact_version(&c.values[3], target).0 == Truth::No
            {
                return (Truth::No, None);
            }
            let m = &self.published;
            let t = Truth::from_opt(version::in_range(
                v,
                bound(&m.version_start_including),
                bound(&m.version_start_excluding),
                bound(&m.version_end_including),
                bound(&m.version_end_excluding),
                target.scheme,
            ));
            if t == Truth::Unknown {
                return (Truth::Unknown, Some(Doubt::VersionIncomparable));
            }
            t
        } else {
            let (t, d) = exact_version(&c.values[3], target);
            if t != Truth::Yes {
                return (t, d);
            }
            t
        };
        match (version_truth, doubt) {
            (Truth::Yes, Some(d)) => (Truth::Unknown, Some(d)),
            (t, _) => (t, None),
        }
    }
}

/// The version attribute without bounds: ANY covers all, otherwise equal names or equal
/// versions under the component's scheme (`6.0.04` is `6.0.4` only where the scheme says so).
fn exact_version(criterion: &Value, target: &Target) -> (Truth, Option<Doubt>) {
    match compare(criterion, &target.wfn.values[3]) {
        Relation::Superset | Relation::Equal => (Truth::Yes, None),
        Relation::Subset => (Truth::Unknown, Some(Doubt::VersionMissing)),
        Relation::Undefined => (Truth::Unknown, Some(Doubt::VersionIncomparable)),
        Relation::Disjoint => {
            if let (Value::Str { chars, .. }, Some(v)) = (criterion, &target.version) {
                let c: String = chars.iter().collect();
                if version::compare(v, &c, target.scheme) == Some(std::cmp::Ordering::Equal)
                    && v.chars().filter(|c| c.is_ascii_alphanumeric()).count()
                        == c.chars().filter(|c| c.is_ascii_alphanumeric()).count()
                {
                    return (Truth::Yes, None);
                }
            }
            (Truth::No, None)
        }
    }
}

/// A node with its criteria parsed.
#[derive(Debug, Clone)]
pub struct CompiledNode {
    /// AND / OR.
    pub operator: Operator,
    /// Negated.
    pub negate: bool,
    /// The criteria.
    pub criteria: Vec<Criterion>,
    by_product: std::collections::HashMap<String, Vec<usize>>,
    unkeyed: Vec<usize>,
    all: Vec<usize>,
}

impl CompiledNode {
    /// A node over `criteria`, indexed by product for evaluation.
    pub fn new(operator: Operator, negate: bool, criteria: Vec<Criterion>) -> CompiledNode {
        let mut by_product: std::collections::HashMap<String, Vec<usize>> = Default::default();
        let mut unkeyed = Vec::new();
        for (i, c) in criteria.iter().enumerate() {
            match &c.product {
                Some(p) => by_product.entry(p.clone()).or_default().push(i),
                None => unkeyed.push(i),
            }
        }
        CompiledNode {
            operator,
            negate,
            all: (0..criteria.len()).collect(),
            criteria,
            by_product,
            unkeyed,
        }
    }
}

/// A configuration with its criteria parsed.
#[derive(Debug, Clone)]
pub struct CompiledConfig {
    /// AND / OR over the nodes.
    pub operator: Operator,
    /// Negated.
    pub negate: bool,
    /// The nodes.
    pub nodes: Vec<CompiledNode>,
    /// Products of its vulnerable criteria; `None` when one of them has a wildcard product.
    vulnerable_products: Option<std::collections::HashSet<String>>,
}

impl CompiledConfig {
    /// A configuration over `nodes`.
    pub fn new(operator: Operator, negate: bool, nodes: Vec<CompiledNode>) -> CompiledConfig {
        let mut products = Some(std::collections::HashSet::new());
        for c in nodes.iter().flat_map(|n| &n.criteria) {
            if c.published.vulnerable {
                match (&c.product, products.as_mut()) {
                    (Some(p), Some(set)) => {
                        set.insert(p.clone());
                    }
                    (None, _) => products = None,
                    _ => {}
                }
            }
        }
        CompiledConfig {
            operator,
            negate,
            nodes,
            vulnerable_products: products,
        }
    }

    /// Whether some target could meet one of its vulnerable criteria (a cheap pre-check).
    fn may_apply<T: Borrow<Target>>(&self, targets: &[T]) -> bool {
        match &self.vulnerable_products {
            None => true,
            Some(set) => targets
                .iter()
                .any(|t| t.borrow().product.as_ref().is_none_or(|p| set.contains(p))),
        }
    }
}

/// Parses the criteria of published configurations once, for repeated evaluation.
pub fn compile(configurations: &[Configuration]) -> Vec<CompiledConfig> {
    configurations
        .iter()
        .map(|c| {
            CompiledConfig::new(
                c.operator,
                c.negate,
                c.nodes
                    .iter()
                    .map(|n| {
                        CompiledNode::new(
                            n.operator,
                            n.negate,
                            n.matches
                                .iter()
                                .map(|m| Criterion::new(m.clone()))
                                .collect(),
                        )
                    })
                    .collect(),
            )
        })
        .collect()
}

/// How one criterion was met, as evidence for a finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// Configuration, node and criterion positions.
    pub config: usize,
    /// Node position.
    pub node: usize,
    /// Criterion position.
    pub criterion: usize,
    /// Which target met it.
    pub target: usize,
    /// Yes or unknown.
    pub truth: Truth,
    /// Why unknown, when it is.
    pub doubt: Option<Doubt>,
    /// Whether the criterion marks the vulnerable product (else a platform).
    pub vulnerable: bool,
}

/// The outcome for one vulnerability and one device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Yes or unknown (a "no" is not an outcome).
    pub truth: Truth,
    /// The criteria met in configurations that hold (or may hold).
    pub hits: Vec<Hit>,
}

impl Outcome {
    /// The affected components: targets that met a vulnerable criterion, each with the best
    /// truth it reached and why not yes.
    pub fn affected(&self) -> Vec<(usize, Truth, Option<Doubt>)> {
        let mut out: Vec<(usize, Truth, Option<Doubt>)> = Vec::new();
        for h in self.hits.iter().filter(|h| h.vulnerable) {
            // The configuration's truth caps the component's.
            let t = h.truth.min(self.truth);
            let d = if t == Truth::Yes {
                None
            } else {
                h.doubt.or_else(|| self.doubt())
            };
            match out.iter_mut().find(|(i, _, _)| *i == h.target) {
                Some(e) if t > e.1 => *e = (h.target, t, d),
                Some(_) => {}
                None => out.push((h.target, t, d)),
            }
        }
        out
    }

    fn doubt(&self) -> Option<Doubt> {
        self.hits.iter().find_map(|h| h.doubt)
    }
}

/// Evaluates compiled configurations against a device's components.
///
/// Returns `None` when no configuration can hold.
pub fn evaluate<T: Borrow<Target>>(configs: &[CompiledConfig], targets: &[T]) -> Option<Outcome> {
    let mut best = Truth::No;
    let mut hits = Vec::new();
    for (ci, config) in configs.iter().enumerate() {
        // Negated configurations can hold without any of the targets; evaluate those fully.
        let negated = config.negate || config.nodes.iter().any(|n| n.negate);
        if !negated && !config.may_apply(targets) {
            continue;
        }
        let mut node_truths = Vec::with_capacity(config.nodes.len());
        let mut config_hits = Vec::new();
        for (ni, node) in config.nodes.iter().enumerate() {
            // Only criteria naming a target's product (or a wildcard product) can hold.
            let mut best: Vec<(Truth, Option<Doubt>, usize)> =
                vec![(Truth::No, None, usize::MAX); node.criteria.len()];
            for (ti, t) in targets.iter().enumerate() {
                let t: &Target = t.borrow();
                let keyed = t.product.as_ref().and_then(|p| node.by_product.get(p));
                let candidates: Box<dyn Iterator<Item = &usize>> = if t.product.is_some() {
                    Box::new(keyed.into_iter().flatten().chain(&node.unkeyed))
                } else {
                    Box::new(node.all.iter())
                };
                for &ki in candidates {
                    if best[ki].0 == Truth::Yes {
                        continue;
                    }
                    let (tr, d) = node.criteria[ki].test(t);
                    if tr > best[ki].0 {
                        best[ki] = (tr, d, ti);
                    }
                }
            }
            let mut crit_truths = Vec::with_capacity(node.criteria.len());
            for (ki, crit) in node.criteria.iter().enumerate() {
                let mut t_best = best[ki];
                if t_best.0 == Truth::No && !crit.published.vulnerable {
                    if let Some(w) = &crit.wfn {
                        let recorded = targets.iter().map(Borrow::borrow).any(|t: &Target| {
                            compare(&w.values[0], &t.wfn.values[0]) != Relation::Disjoint
                                && compare(&w.values[1], &t.wfn.values[1]) != Relation::Disjoint
                        });
                        if !recorded {
                            t_best = (Truth::Unknown, Some(Doubt::PlatformNotRecorded), usize::MAX);
                        }
                    }
                }
                if t_best.0 > Truth::No && !node.negate && t_best.2 != usize::MAX {
                    config_hits.push(Hit {
                        config: ci,
                        node: ni,
                        criterion: ki,
                        target: t_best.2,
                        truth: t_best.0,
                        doubt: t_best.1,
                        vulnerable: crit.published.vulnerable,
                    });
                }
                crit_truths.push(t_best.0);
            }
            let t = combine(node.operator, &crit_truths);
            node_truths.push(if node.negate { t.not() } else { t });
        }
        let t = combine(config.operator, &node_truths);
        let t = if config.negate { t.not() } else { t };
        if t > Truth::No && config_hits.iter().any(|h| h.vulnerable) {
            best = best.max(t);
            hits.extend(config_hits);
        }
    }
    (best > Truth::No).then_some(Outcome { truth: best, hits })
}

fn combine(op: Operator, truths: &[Truth]) -> Truth {
    match op {
        Operator::Or => truths.iter().copied().max().unwrap_or(Truth::No),
        Operator::And => truths.iter().copied().min().unwrap_or(Truth::No),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mamori_core::vuln::Node;

    fn m(vulnerable: bool, criteria: &str, bounds: [Option<&str>; 4]) -> CpeMatch {
        CpeMatch {
            vulnerable,
            criteria: criteria.into(),
            version_start_including: bounds[0].map(Into::into),
            version_start_excluding: bounds[1].map(Into::into),
            version_end_including: bounds[2].map(Into::into),
            version_end_excluding: bounds[3].map(Into::into),
            match_criteria_id: None,
        }
    }

    fn t(cpe: &str) -> Target {
        Target::new(Wfn::parse(cpe).unwrap(), Scheme::Generic)
    }

    fn node(op: Operator, matches: Vec<CpeMatch>) -> Node {
        Node {
            operator: op,
            negate: false,
            matches,
        }
    }

    fn cfg(op: Operator, nodes: Vec<Node>) -> Vec<CompiledConfig> {
        compile(&[Configuration {
            operator: op,
            negate: false,
            nodes,
        }])
    }

    const FORTIOS: &str = "cpe:2.3:o:fortinet:fortios:*:*:*:*:*:*:*:*";

    #[test]
    fn fortios_ranges_and_boundaries() {
        // CVE-2018-13379: 5.4.6–5.4.12, 5.6.3–5.6.7, 6.0.0–6.0.4 (all inclusive).
        let c = cfg(
            Operator::Or,
            vec![node(
                Operator::Or,
                vec![
                    m(true, FORTIOS, [Some("5.4.6"), None, Some("5.4.12"), None]),
                    m(true, FORTIOS, [Some("5.6.3"), None, Some("5.6.7"), None]),
                    m(true, FORTIOS, [Some("6.0.0"), None, Some("6.0.4"), None]),
                ],
            )],
        );
        let hit = |v: &str| {
            evaluate(
                &c,
                &[t(&format!("cpe:2.3:o:fortinet:fortios:{v}:*:*:*:*:*:*:*"))],
            )
            .map(|o| o.truth)
        };
        assert_eq!(hit("6.0.4"), Some(Truth::Yes));
        assert_eq!(hit("6.0.0"), Some(Truth::Yes));
        assert_eq!(hit("6.0.5"), None);
        assert_eq!(hit("5.6.2"), None);
        assert_eq!(hit("5.4.12"), Some(Truth::Yes));
        assert_eq!(hit("6.2.0"), None);
        // A CPE without a version is a doubt, not a match.
        let o = evaluate(&c, &[t(FORTIOS)]).unwrap();
        assert_eq!(o.truth, Truth::Unknown);
        assert_eq!(o.affected()[0].2, Some(Doubt::VersionMissing));
        // Another product never matches.
        assert!(evaluate(&c, &[t("cpe:2.3:o:cisco:ios:6.0.4:*:*:*:*:*:*:*")]).is_none());
    }

    #[test]
    fn running_on_platforms_must_hold_and_are_not_the_affected_component() {
        let c = cfg(
            Operator::And,
            vec![
                node(
                    Operator::Or,
                    vec![m(
                        true,
                        "cpe:2.3:a:acme:viewer:*:*:*:*:*:*:*:*",
                        [None, None, None, Some("2.0")],
                    )],
                ),
                node(
                    Operator::Or,
                    vec![m(
                        false,
                        "cpe:2.3:o:microsoft:windows:-:*:*:*:*:*:*:*",
                        [None; 4],
                    )],
                ),
            ],
        );
        let app = t("cpe:2.3:a:acme:viewer:1.5:*:*:*:*:*:*:*");
        let win = t("cpe:2.3:o:microsoft:windows:-:*:*:*:*:*:*:*");
        let linux = t("cpe:2.3:o:linux:linux_kernel:5.10:*:*:*:*:*:*:*");
        let o = evaluate(&c, &[win.clone(), app.clone()]).unwrap();
        assert_eq!(o.truth, Truth::Yes);
        assert_eq!(o.affected(), vec![(1, Truth::Yes, None)]);
        // Platform of another vendor recorded, Windows not: the platform is known absent?
        // No — another vendor says nothing about Microsoft, so it stays unknown.
        let o = evaluate(&c, &[linux, app.clone()]).unwrap();
        assert_eq!(o.truth, Truth::Unknown);
        // A Microsoft OS that is not the named one: definitely not.
        let other = t("cpe:2.3:o:microsoft:windows_server:-:*:*:*:*:*:*:*");
        assert!(evaluate(&c, &[other, app]).is_none());
        // The platform alone is not affected.
        assert!(evaluate(&c, &[win]).is_none());
    }

    #[test]
    fn negation_and_and_nodes() {
        let mut configs = vec![Configuration {
            operator: Operator::Or,
            negate: false,
            nodes: vec![Node {
                operator: Operator::And,
                negate: false,
                matches: vec![
                    m(true, "cpe:2.3:a:x:y:*:*:*:*:*:*:*:*", [None; 4]),
                    m(true, "cpe:2.3:a:x:z:*:*:*:*:*:*:*:*", [None; 4]),
                ],
            }],
        }];
        let y = t("cpe:2.3:a:x:y:1:*:*:*:*:*:*:*");
        let z = t("cpe:2.3:a:x:z:1:*:*:*:*:*:*:*");
        assert!(evaluate(&compile(&configs), std::slice::from_ref(&y)).is_none());
        assert_eq!(
            evaluate(&compile(&configs), &[y.clone(), z.clone()])
                .unwrap()
                .truth,
            Truth::Yes
        );
        configs[0].negate = true;
        assert!(evaluate(&compile(&configs), &[y, z]).is_none());
    }

    #[test]
    fn unspecified_attributes_and_incomparable_versions_are_doubts() {
        let c = cfg(
            Operator::Or,
            vec![node(
                Operator::Or,
                vec![m(
                    true,
                    "cpe:2.3:o:microsoft:windows_10_22h2:*:*:*:*:*:*:x64:*",
                    [None, None, None, Some("10.0.19045.3570")],
                )],
            )],
        );
        let any_hw = t("cpe:2.3:o:microsoft:windows_10_22h2:10.0.19045.2965:*:*:*:*:*:*:*");
        let o = evaluate(&c, &[any_hw]).unwrap();
        assert_eq!(
            o.affected()[0].2,
            Some(Doubt::AttributeMissing("target_hw"))
        );
        let x64 = t("cpe:2.3:o:microsoft:windows_10_22h2:10.0.19045.2965:*:*:*:*:*:x64:*");
        assert_eq!(evaluate(&c, &[x64]).unwrap().truth, Truth::Yes);
        let fixed = t("cpe:2.3:o:microsoft:windows_10_22h2:10.0.19045.3570:*:*:*:*:*:x64:*");
        assert!(evaluate(&c, &[fixed]).is_none());
        let odd = t("cpe:2.3:o:microsoft:windows_10_22h2:10.0.19045.sp:*:*:*:*:*:x64:*");
        assert_eq!(
            evaluate(&c, &[odd]).unwrap().affected()[0].2,
            Some(Doubt::VersionIncomparable)
        );
    }

    #[test]
    fn exact_versions_compare_as_versions_of_the_same_length() {
        let c = cfg(
            Operator::Or,
            vec![node(
                Operator::Or,
                vec![m(
                    true,
                    "cpe:2.3:o:cisco:ios:15.2\\(4\\)m:*:*:*:*:*:*:*",
                    [None; 4],
                )],
            )],
        );
        assert!(evaluate(&c, &[t("cpe:2.3:o:cisco:ios:15.2\\(4\\)M:*:*:*:*:*:*:*")]).is_some());
        assert!(evaluate(&c, &[t("cpe:2.3:o:cisco:ios:15.2\\(4\\)m1:*:*:*:*:*:*:*")]).is_none());
    }
}
