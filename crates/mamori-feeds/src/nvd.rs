//! NVD CVE data: API 2.0 pages, 2.0 feed files, bare 2.0 records (`{"cve": …}`) and the
//! legacy 1.1 feeds (`CVE_Items`), streamed one record at a time.

use std::collections::HashSet;
use std::fmt;
use std::io::Read;

use mamori_core::value::parse_cpe;
use mamori_core::vuln::{
    Configuration, CpeMatch, Cvss, CvssVersion, LangText, Node, Operator, Reference, Vulnerability,
};
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use crate::time::parse_timestamp;
use crate::{FeedError, Warning};

/// Which NVD shape a file had.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NvdFormat {
    /// API 2.0 page or 2.0 feed file (`vulnerabilities[]`).
    V2,
    /// A single 2.0 record (`{"cve": …}`).
    V2Record,
    /// Legacy 1.1 feed (`CVE_Items[]`).
    V11,
}

/// What reading a file found besides the records.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NvdSummary {
    /// The shape, once known.
    pub format: Option<NvdFormat>,
    /// Records passed to the sink.
    pub records: usize,
    /// Records with configurations.
    pub with_configurations: usize,
    /// Skipped records and other record-level notes.
    pub warnings: Vec<Warning>,
    /// API paging: `totalResults`.
    pub total_results: Option<u64>,
    /// API paging: `startIndex`.
    pub start_index: Option<u64>,
    /// API paging: `resultsPerPage`.
    pub results_per_page: Option<u64>,
    /// The file's own timestamp (`timestamp` / `CVE_data_timestamp`).
    pub timestamp: Option<String>,
}

/// Reads an NVD file from `reader`, giving each record to `sink` as it is read.
pub fn read_nvd<R: Read>(
    reader: R,
    sink: &mut dyn FnMut(Vulnerability),
) -> Result<NvdSummary, FeedError> {
    // A text field past its limit stops the read before the parser has buffered it.
    let mut de = serde_json::Deserializer::from_reader(std::io::BufReader::with_capacity(
        1 << 16,
        crate::limits::JsonTextGuard::new(reader),
    ));
    let mut state = State {
        sink,
        summary: NvdSummary::default(),
        seen: HashSet::new(),
        index: 0,
        last_id: None,
        in_records: false,
    };
    let result = de::Deserializer::deserialize_map(&mut de, Top { state: &mut state })
        .and_then(|()| de.end());
    match result {
        Ok(()) => {
            if state.summary.format.is_none() {
                return Err(FeedError::Format {
                    expected: "an NVD CVE file",
                    detail: "no \"vulnerabilities\", \"CVE_Items\" or \"cve\" member".into(),
                });
            }
            Ok(state.summary)
        }
        Err(e) => Err(json_error(e, &state)),
    }
}

/// Reads an NVD file held in memory.
pub fn parse_nvd(
    bytes: &[u8],
    sink: &mut dyn FnMut(Vulnerability),
) -> Result<NvdSummary, FeedError> {
    read_nvd(bytes, sink)
}

fn json_error(e: serde_json::Error, state: &State<'_>) -> FeedError {
    if e.is_io() {
        let text = e.to_string();
        return match crate::limits::text_too_long(e) {
            Some(t) => FeedError::Json {
                record: state.in_records.then_some(state.index),
                last_id: state.last_id.clone(),
                line: t.line,
                column: 0,
                message: format!("a text field longer than {} bytes", t.limit),
            },
            None => FeedError::Io(text),
        };
    }
    FeedError::from_json(
        &e,
        state.in_records.then_some(state.index),
        state.last_id.clone(),
    )
}

struct State<'s> {
    sink: &'s mut dyn FnMut(Vulnerability),
    summary: NvdSummary,
    seen: HashSet<String>,
    index: usize,
    last_id: Option<String>,
    in_records: bool,
}

impl State<'_> {
    fn accept(&mut self, converted: Converted) {
        let index = self.index;
        self.index += 1;
        match converted {
            Ok((v, notes)) => {
                for message in notes {
                    self.summary.warnings.push(Warning {
                        record: index,
                        id: Some(v.id.clone()),
                        message,
                        skipped: false,
                    });
                }
                if !self.seen.insert(v.id.clone()) {
                    self.summary.warnings.push(Warning {
                        record: index,
                        id: Some(v.id.clone()),
                        message:
                            "duplicate id in this file; the record with the later lastModified wins"
                                .into(),
                        skipped: false,
                    });
                }
                if !v.configurations.is_empty() {
                    self.summary.with_configurations += 1;
                }
                self.summary.records += 1;
                self.last_id = Some(v.id.clone());
                (self.sink)(v);
            }
            Err((id, message)) => self.summary.warnings.push(Warning {
                record: index,
                id,
                message,
                skipped: true,
            }),
        }
    }
}

struct Top<'a, 's> {
    state: &'a mut State<'s>,
}

impl<'de> Visitor<'de> for Top<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an NVD JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "vulnerabilities" => {
                    self.state.summary.format = Some(NvdFormat::V2);
                    map.next_value_seed(Records {
                        state: self.state,
                        v11: false,
                    })?;
                }
                "CVE_Items" => {
                    self.state.summary.format = Some(NvdFormat::V11);
                    map.next_value_seed(Records {
                        state: self.state,
                        v11: true,
                    })?;
                }
                "cve" => {
                    self.state.summary.format = Some(NvdFormat::V2Record);
                    self.state.in_records = true;
                    let raw: RawCve20 = map.next_value()?;
                    self.state.in_records = false;
                    self.state.accept(convert_20(raw));
                }
                "totalResults" => self.state.summary.total_results = map.next_value()?,
                "startIndex" => self.state.summary.start_index = map.next_value()?,
                "resultsPerPage" => self.state.summary.results_per_page = map.next_value()?,
                "timestamp" | "CVE_data_timestamp" => {
                    self.state.summary.timestamp = map.next_value()?
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

struct Records<'a, 's> {
    state: &'a mut State<'s>,
    v11: bool,
}

impl<'de> DeserializeSeed<'de> for Records<'_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Records<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of CVE records")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.state.in_records = true;
        if self.v11 {
            while let Some(raw) = seq.next_element::<RawItem11>()? {
                self.state.accept(convert_11(raw));
            }
        } else {
            while let Some(raw) = seq.next_element::<RawEnvelope20>()? {
                match raw.cve {
                    Some(cve) => self.state.accept(convert_20(cve)),
                    None => self.state.accept(Err((None, "no \"cve\" object".into()))),
                }
            }
        }
        self.state.in_records = false;
        Ok(())
    }
}

// ---- NVD 2.0 ----

#[derive(Deserialize)]
struct RawEnvelope20 {
    cve: Option<RawCve20>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCve20 {
    id: Option<String>,
    source_identifier: Option<String>,
    published: Option<String>,
    last_modified: Option<String>,
    vuln_status: Option<String>,
    #[serde(default)]
    descriptions: Vec<RawLangText>,
    #[serde(default)]
    metrics: RawMetrics20,
    #[serde(default)]
    weaknesses: Vec<RawWeakness20>,
    #[serde(default)]
    references: Vec<RawReference20>,
    #[serde(default)]
    configurations: Vec<RawConfiguration20>,
}

#[derive(Deserialize)]
struct RawLangText {
    #[serde(default)]
    lang: String,
    #[serde(default)]
    value: String,
}

#[derive(Deserialize, Default)]
struct RawMetrics20 {
    #[serde(default, rename = "cvssMetricV40")]
    v40: Vec<RawMetric20>,
    #[serde(default, rename = "cvssMetricV31")]
    v31: Vec<RawMetric20>,
    #[serde(default, rename = "cvssMetricV30")]
    v30: Vec<RawMetric20>,
    #[serde(default, rename = "cvssMetricV2")]
    v2: Vec<RawMetric20>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawMetric20 {
    source: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    cvss_data: RawCvssData,
    base_severity: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCvssData {
    version: Option<String>,
    vector_string: Option<String>,
    base_score: Option<f64>,
    base_severity: Option<String>,
}

#[derive(Deserialize)]
struct RawWeakness20 {
    #[serde(default)]
    description: Vec<RawLangText>,
}

#[derive(Deserialize)]
struct RawReference20 {
    url: Option<String>,
    source: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
}

#[derive(Deserialize)]
struct RawConfiguration20 {
    operator: Option<String>,
    #[serde(default)]
    negate: bool,
    #[serde(default)]
    nodes: Vec<RawNode20>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawNode20 {
    operator: Option<String>,
    #[serde(default)]
    negate: bool,
    #[serde(default)]
    cpe_match: Vec<RawMatch>,
}

/// A CPE match in either format (2.0 `criteria`, 1.1 `cpe23Uri`).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawMatch {
    #[serde(default)]
    vulnerable: bool,
    #[serde(alias = "cpe23Uri")]
    criteria: Option<String>,
    match_criteria_id: Option<String>,
    version_start_including: Option<String>,
    version_start_excluding: Option<String>,
    version_end_including: Option<String>,
    version_end_excluding: Option<String>,
}

/// A record and its notes (criteria or configurations left out), or why it is skipped.
type Converted = Result<(Vulnerability, Vec<String>), Skip>;

fn operator(text: Option<&str>, id: &str) -> Result<Operator, Skip> {
    match text.map(str::trim) {
        None | Some("OR") | Some("or") => Ok(Operator::Or),
        Some("AND") | Some("and") => Ok(Operator::And),
        Some(other) => Err((Some(id.to_string()), format!("unknown operator {other:?}"))),
    }
}

fn convert_match(raw: RawMatch, id: &str) -> Result<CpeMatch, Skip> {
    let criteria = raw.criteria.ok_or_else(|| {
        (
            Some(id.to_string()),
            "a cpeMatch has no criteria".to_string(),
        )
    })?;
    let criteria = parse_cpe(&criteria)
        .map_err(|e| (Some(id.to_string()), format!("CPE {criteria:?}: {e}")))?;
    Ok(CpeMatch {
        vulnerable: raw.vulnerable,
        criteria,
        version_start_including: raw.version_start_including,
        version_start_excluding: raw.version_start_excluding,
        version_end_including: raw.version_end_including,
        version_end_excluding: raw.version_end_excluding,
        match_criteria_id: raw.match_criteria_id,
    })
}

/// A node's criteria. One that does not parse is left out of a plain OR node, with a note
/// (the others still apply: fewer matches, never a wrong one); in an AND or negated node,
/// leaving it out would change what the node means, so the node — and its configuration —
/// is unusable (`Err` with the note).
fn node_matches(
    raw: Vec<RawMatch>,
    op: Operator,
    negate: bool,
    id: &str,
    notes: &mut Vec<String>,
) -> Result<Vec<CpeMatch>, String> {
    let mut good = Vec::with_capacity(raw.len());
    let mut bad = Vec::new();
    for m in raw {
        match convert_match(m, id) {
            Ok(m) => good.push(m),
            Err((_, why)) => bad.push(why),
        }
    }
    if bad.is_empty() {
        return Ok(good);
    }
    if op == Operator::Or && !negate && !good.is_empty() {
        notes.extend(
            bad.into_iter()
                .map(|why| format!("{why}: this criterion is left out")),
        );
        return Ok(good);
    }
    Err(format!(
        "{}: its configuration is left out (the rest of the record is kept)",
        bad.join("; ")
    ))
}

/// Why a record is skipped: its id (when it has one) and the reason.
type Skip = (Option<String>, String);

/// Published and last-modified times.
type Times = (
    Option<chrono::DateTime<chrono::Utc>>,
    Option<chrono::DateTime<chrono::Utc>>,
);

fn timestamps(
    id: &str,
    published: Option<String>,
    modified: Option<String>,
) -> Result<Times, Skip> {
    let one = |name: &str, t: Option<String>| {
        t.map(|t| {
            parse_timestamp(&t)
                .ok_or_else(|| (Some(id.to_string()), format!("{name} {t:?} is not a date")))
        })
        .transpose()
    };
    Ok((one("published", published)?, one("lastModified", modified)?))
}

fn check_id(id: Option<String>) -> Result<String, Skip> {
    let id = id.map(|s| s.trim().to_string()).unwrap_or_default();
    if id.is_empty() {
        return Err((None, "record has no id".into()));
    }
    Ok(id)
}

fn cvss(version_hint: CvssVersion, m: RawMetric20) -> Option<Cvss> {
    let version = m
        .cvss_data
        .version
        .as_deref()
        .and_then(CvssVersion::parse)
        .unwrap_or(version_hint);
    Some(Cvss {
        version,
        vector: m.cvss_data.vector_string?,
        base_score: m.cvss_data.base_score?,
        severity: m.cvss_data.base_severity.or(m.base_severity),
        source: m.source,
        primary: m.kind.as_deref() == Some("Primary"),
    })
}

fn convert_20(raw: RawCve20) -> Converted {
    let id = check_id(raw.id)?;
    let (published, modified) = timestamps(&id, raw.published, raw.last_modified)?;
    let mut v = Vulnerability::new(id.clone());
    v.assigner = raw.source_identifier;
    v.published = published;
    v.modified = modified;
    v.status = raw.vuln_status;
    v.descriptions = raw
        .descriptions
        .into_iter()
        .map(|t| LangText {
            lang: t.lang,
            value: t.value,
        })
        .collect();
    let m = raw.metrics;
    for (hint, list) in [
        (CvssVersion::V40, m.v40),
        (CvssVersion::V31, m.v31),
        (CvssVersion::V30, m.v30),
        (CvssVersion::V2, m.v2),
    ] {
        v.cvss
            .extend(list.into_iter().filter_map(|m| cvss(hint, m)));
    }
    for w in raw.weaknesses {
        for d in w.description {
            if !d.value.is_empty() && !v.cwes.contains(&d.value) {
                v.cwes.push(d.value);
            }
        }
    }
    v.references = raw
        .references
        .into_iter()
        .filter_map(|r| {
            Some(Reference {
                url: r.url?,
                source: r.source,
                tags: r.tags,
            })
        })
        .collect();
    let mut notes = Vec::new();
    'config: for c in raw.configurations {
        let mut nodes = Vec::with_capacity(c.nodes.len());
        for n in c.nodes {
            let op = operator(n.operator.as_deref(), &id)?;
            match node_matches(n.cpe_match, op, n.negate, &id, &mut notes) {
                Ok(matches) => nodes.push(Node {
                    operator: op,
                    negate: n.negate,
                    matches,
                }),
                Err(note) => {
                    notes.push(note);
                    continue 'config;
                }
            }
        }
        v.configurations.push(Configuration {
            operator: operator(c.operator.as_deref(), &id)?,
            negate: c.negate,
            nodes,
        });
    }
    Ok((v, notes))
}

// ---- NVD 1.1 ----

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawItem11 {
    cve: RawCve11,
    #[serde(default)]
    configurations: Option<RawConfigurations11>,
    #[serde(default)]
    impact: RawImpact11,
    published_date: Option<String>,
    last_modified_date: Option<String>,
}

#[derive(Deserialize)]
struct RawCve11 {
    #[serde(rename = "CVE_data_meta")]
    meta: RawMeta11,
    #[serde(default)]
    problemtype: Option<RawProblemtype11>,
    #[serde(default)]
    references: Option<RawReferences11>,
    #[serde(default)]
    description: Option<RawDescription11>,
}

#[derive(Deserialize)]
struct RawMeta11 {
    #[serde(rename = "ID")]
    id: Option<String>,
    #[serde(rename = "ASSIGNER")]
    assigner: Option<String>,
}

#[derive(Deserialize)]
struct RawProblemtype11 {
    #[serde(default)]
    problemtype_data: Vec<RawWeakness20>,
}

#[derive(Deserialize)]
struct RawReferences11 {
    #[serde(default)]
    reference_data: Vec<RawReference11>,
}

#[derive(Deserialize)]
struct RawReference11 {
    url: Option<String>,
    refsource: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
}

#[derive(Deserialize)]
struct RawDescription11 {
    #[serde(default)]
    description_data: Vec<RawLangText>,
}

#[derive(Deserialize)]
struct RawConfigurations11 {
    #[serde(default)]
    nodes: Vec<RawNode11>,
}

#[derive(Deserialize)]
struct RawNode11 {
    operator: Option<String>,
    #[serde(default)]
    negate: bool,
    #[serde(default)]
    children: Vec<RawNode11>,
    #[serde(default)]
    cpe_match: Vec<RawMatch>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawImpact11 {
    base_metric_v3: Option<RawBaseMetric11>,
    base_metric_v2: Option<RawBaseMetric11>,
}

#[derive(Deserialize)]
struct RawBaseMetric11 {
    #[serde(alias = "cvssV3", alias = "cvssV2")]
    cvss: Option<RawCvssData>,
    severity: Option<String>,
}

/// A 1.1 node: `Ok(None)` when a criterion makes it unusable (noted).
fn convert_node_11(n: RawNode11, id: &str, notes: &mut Vec<String>) -> Result<Option<Node>, Skip> {
    let op = operator(n.operator.as_deref(), id)?;
    Ok(match node_matches(n.cpe_match, op, n.negate, id, notes) {
        Ok(matches) => Some(Node {
            operator: op,
            negate: n.negate,
            matches,
        }),
        Err(note) => {
            notes.push(note);
            None
        }
    })
}

fn convert_11(raw: RawItem11) -> Converted {
    let id = check_id(raw.cve.meta.id)?;
    let (published, modified) = timestamps(&id, raw.published_date, raw.last_modified_date)?;
    let mut v = Vulnerability::new(id.clone());
    v.assigner = raw.cve.meta.assigner;
    v.published = published;
    v.modified = modified;
    v.descriptions = raw
        .cve
        .description
        .map(|d| {
            d.description_data
                .into_iter()
                .map(|t| LangText {
                    lang: t.lang,
                    value: t.value,
                })
                .collect()
        })
        .unwrap_or_default();
    for metric in [raw.impact.base_metric_v3, raw.impact.base_metric_v2]
        .into_iter()
        .flatten()
    {
        if let Some(c) = metric.cvss {
            let Some(version) = c.version.as_deref().and_then(CvssVersion::parse) else {
                continue;
            };
            if let (Some(vector), Some(base_score)) = (c.vector_string, c.base_score) {
                v.cvss.push(Cvss {
                    version,
                    vector,
                    base_score,
                    severity: c.base_severity.or(metric.severity),
                    source: Some("nvd@nist.gov".into()),
                    primary: true,
                });
            }
        }
    }
    for p in raw
        .cve
        .problemtype
        .map(|p| p.problemtype_data)
        .unwrap_or_default()
    {
        for d in p.description {
            if !d.value.is_empty() && !v.cwes.contains(&d.value) {
                v.cwes.push(d.value);
            }
        }
    }
    v.references = raw
        .cve
        .references
        .map(|r| r.reference_data)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|r| {
            Some(Reference {
                url: r.url?,
                source: r.refsource,
                tags: r.tags,
            })
        })
        .collect();
    // 1.1 → 2.0 (as NVD did): a top-level node is a configuration of one node; an AND
    // node with children is a configuration whose nodes are the children.
    let mut notes = Vec::new();
    'config: for node in raw.configurations.map(|c| c.nodes).unwrap_or_default() {
        if node.children.is_empty() {
            if let Some(node) = convert_node_11(node, &id, &mut notes)? {
                v.configurations.push(Configuration {
                    operator: Operator::Or,
                    negate: false,
                    nodes: vec![node],
                });
            }
        } else {
            let op = operator(node.operator.as_deref(), &id)?;
            let negate = node.negate;
            let mut nodes = Vec::with_capacity(node.children.len());
            for child in node.children {
                if !child.children.is_empty() {
                    return Err((
                        Some(id.clone()),
                        "configuration nested more than two levels deep".into(),
                    ));
                }
                match convert_node_11(child, &id, &mut notes)? {
                    Some(node) => nodes.push(node),
                    None => continue 'config,
                }
            }
            v.configurations.push(Configuration {
                operator: op,
                negate,
                nodes,
            });
        }
    }
    Ok((v, notes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> (Vec<Vulnerability>, Result<NvdSummary, FeedError>) {
        let mut out = Vec::new();
        let r = parse_nvd(text.as_bytes(), &mut |v| out.push(v));
        (out, r)
    }

    const PAGE: &str = r#"{"resultsPerPage":2,"startIndex":0,"totalResults":5,"format":"NVD_CVE","version":"2.0","timestamp":"2024-01-01T00:00:00.000",
      "vulnerabilities":[
        {"cve":{"id":"CVE-2018-13379","published":"2019-06-04T21:29:00.327","lastModified":"2024-06-27T19:21:52.953","vulnStatus":"Analyzed",
          "descriptions":[{"lang":"en","value":"path traversal in FortiOS SSL VPN"}],
          "metrics":{"cvssMetricV31":[{"source":"nvd@nist.gov","type":"Primary","cvssData":{"version":"3.1","vectorString":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N","baseScore":7.5,"baseSeverity":"HIGH"}}],
                     "cvssMetricV2":[{"source":"nvd@nist.gov","type":"Primary","cvssData":{"version":"2.0","vectorString":"AV:N/AC:L/Au:N/C:P/I:N/A:N","baseScore":5.0},"baseSeverity":"MEDIUM"}]},
          "weaknesses":[{"description":[{"lang":"en","value":"CWE-22"}]}],
          "references":[{"url":"https://fortiguard.com/advisory/FG-IR-18-384","source":"psirt@fortinet.com","tags":["Vendor Advisory"]}],
          "configurations":[{"operator":"AND","nodes":[
             {"operator":"OR","negate":false,"cpeMatch":[{"vulnerable":true,"criteria":"cpe:2.3:o:fortinet:fortios:*:*:*:*:*:*:*:*","versionStartIncluding":"6.0.0","versionEndIncluding":"6.0.4","matchCriteriaId":"X"}]},
             {"operator":"OR","negate":false,"cpeMatch":[{"vulnerable":false,"criteria":"cpe:2.3:h:fortinet:fortigate:-:*:*:*:*:*:*:*"}]}]}]}},
        {"cve":{"id":"CVE-BAD","published":"not a date"}}
      ]}"#;

    #[test]
    fn reads_a_2_0_page_exactly() {
        let (out, r) = read(PAGE);
        let s = r.unwrap();
        assert_eq!(
            (s.format, s.records, s.total_results, s.with_configurations),
            (Some(NvdFormat::V2), 1, Some(5), 1)
        );
        assert_eq!(s.warnings.len(), 1);
        assert!(
            s.warnings[0].skipped && s.warnings[0].message.contains("not a date"),
            "{:?}",
            s.warnings
        );
        let v = &out[0];
        assert_eq!(v.cvss.len(), 2);
        assert_eq!(
            v.cvss[1].severity.as_deref(),
            Some("MEDIUM"),
            "v2 severity sits outside cvssData"
        );
        assert_eq!(v.cwes, vec!["CWE-22"]);
        let c = &v.configurations[0];
        assert_eq!((c.operator, c.nodes.len()), (Operator::And, 2));
        let m = &c.nodes[0].matches[0];
        assert_eq!(
            (
                m.version_start_including.as_deref(),
                m.version_end_including.as_deref()
            ),
            (Some("6.0.0"), Some("6.0.4"))
        );
        assert!(!c.nodes[1].matches[0].vulnerable);
    }

    #[test]
    fn truncated_json_names_the_record_and_position() {
        let cut = &PAGE[..PAGE.find("\"weaknesses\"").unwrap()];
        let (_, r) = read(cut);
        match r.unwrap_err() {
            FeedError::Json {
                record: Some(0),
                line,
                ..
            } => assert!(line >= 2),
            other => panic!("{other:?}"),
        }
        let (_, r) =
            read(r#"{"vulnerabilities":[{"cve":{"id":"CVE-1"}}, {"cve":{"id":"CVE-2"}}, {"cve":"#);
        let e = r.unwrap_err();
        assert!(
            e.to_string()
                .starts_with("record 3 (after CVE-2): JSON error"),
            "{e}"
        );
    }

    #[test]
    fn legacy_1_1_maps_children_to_configuration_nodes() {
        let text = r#"{"CVE_data_type":"CVE","CVE_data_timestamp":"2021-09-10T07:12Z","CVE_Items":[{"cve":{"CVE_data_meta":{"ID":"CVE-2014-0001","ASSIGNER":"secalert@redhat.com"},
          "problemtype":{"problemtype_data":[{"description":[{"lang":"en","value":"CWE-119"}]}]},
          "references":{"reference_data":[{"url":"http://example.invalid/a","refsource":"MISC","tags":["Patch"]}]},
          "description":{"description_data":[{"lang":"en","value":"Buffer overflow"}]}},
          "configurations":{"CVE_data_version":"4.0","nodes":[{"operator":"AND","children":[
             {"operator":"OR","cpe_match":[{"vulnerable":true,"cpe23Uri":"cpe:2.3:a:mariadb:mariadb:*:*:*:*:*:*:*:*","versionEndExcluding":"5.5.35","cpe_name":[]}]},
             {"operator":"OR","cpe_match":[{"vulnerable":false,"cpe23Uri":"cpe:2.3:o:redhat:enterprise_linux:6.0:*:*:*:*:*:*:*","cpe_name":[]}]}]},
             {"operator":"OR","cpe_match":[{"vulnerable":true,"cpe23Uri":"cpe:2.3:a:oracle:mysql:5.5.0:*:*:*:*:*:*:*"}]}]},
          "impact":{"baseMetricV2":{"cvssV2":{"version":"2.0","vectorString":"AV:N/AC:L/Au:N/C:P/I:P/A:P","baseScore":7.5},"severity":"HIGH"}},
          "publishedDate":"2014-01-31T23:55Z","lastModifiedDate":"2019-12-17T15:25Z"}]}"#;
        let (out, r) = read(text);
        let s = r.unwrap();
        assert_eq!((s.format, s.records), (Some(NvdFormat::V11), 1));
        let v = &out[0];
        assert_eq!(v.configurations.len(), 2);
        assert_eq!(
            (
                v.configurations[0].operator,
                v.configurations[0].nodes.len()
            ),
            (Operator::And, 2)
        );
        assert_eq!(
            v.configurations[0].nodes[0].matches[0]
                .version_end_excluding
                .as_deref(),
            Some("5.5.35")
        );
        assert_eq!(v.cvss[0].severity.as_deref(), Some("HIGH"));
        assert_eq!(
            v.modified.unwrap().to_rfc3339(),
            "2019-12-17T15:25:00+00:00"
        );
    }

    #[test]
    fn a_bad_criterion_is_left_out_not_its_record_and_other_formats_are_refused() {
        // CVE-1: the bad criterion alone in its node: that configuration goes, the record
        // stays. CVE-3: beside a good one in an OR node: only it goes. CVE-4: in an AND
        // configuration's node: the configuration goes (leaving it out would change the AND).
        let good =
            r#"{"vulnerable":true,"criteria":"cpe:2.3:o:fortinet:fortios:6.0.4:*:*:*:*:*:*:*"}"#;
        let bad = r#"{"vulnerable":true,"criteria":"fortios 6.0.4"}"#;
        let text = format!(
            r#"{{"vulnerabilities":[
            {{"cve":{{"id":"CVE-1","configurations":[{{"nodes":[{{"cpeMatch":[{bad}]}}]}},{{"nodes":[{{"cpeMatch":[{good}]}}]}}]}}}},
            {{"cve":{{"id":"CVE-2"}}}},{{"cve":{{"id":"CVE-2"}}}},
            {{"cve":{{"id":"CVE-3","configurations":[{{"nodes":[{{"operator":"OR","cpeMatch":[{good},{bad}]}}]}}]}}}},
            {{"cve":{{"id":"CVE-4","configurations":[{{"operator":"AND","nodes":[{{"cpeMatch":[{good}]}},{{"operator":"AND","cpeMatch":[{good},{bad}]}}]}}]}}}}]}}"#
        );
        let (out, r) = read(&text);
        let s = r.unwrap();
        assert_eq!(out.len(), 5, "no record is skipped");
        assert!(s.warnings.iter().all(|w| !w.skipped));
        let cfgs = |id: &str| {
            out.iter()
                .find(|v| v.id == id)
                .unwrap()
                .configurations
                .clone()
        };
        assert_eq!(cfgs("CVE-1").len(), 1);
        assert_eq!(cfgs("CVE-3")[0].nodes[0].matches.len(), 1);
        assert!(cfgs("CVE-4").is_empty());
        let notes: Vec<_> = s
            .warnings
            .iter()
            .map(|w| (w.id.clone().unwrap(), w.message.clone()))
            .collect();
        assert!(notes.iter().any(|(id, m)| id == "CVE-1"
            && m.contains("\"fortios 6.0.4\"")
            && m.contains("configuration is left out")));
        assert!(notes
            .iter()
            .any(|(id, m)| id == "CVE-3" && m.contains("criterion is left out")));
        assert!(notes
            .iter()
            .any(|(id, m)| id == "CVE-4" && m.contains("configuration is left out")));
        assert!(notes
            .iter()
            .any(|(id, m)| id == "CVE-2" && m.contains("duplicate")));
        let (_, r) = read(r#"{"title":"CISA Catalog","vulnerabilities":"#);
        assert!(matches!(r, Err(FeedError::Json { .. })));
        let (_, r) = read(r#"{"title":"something else"}"#);
        assert!(matches!(r, Err(FeedError::Format { .. })));
        let (_, r) = read("[1,2,3]");
        assert!(r.is_err());
    }
}
