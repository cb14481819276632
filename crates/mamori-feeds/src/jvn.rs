//! JVN iPedia (JVNDB) in Japanese: VULDEF 3.2 detail documents (MyJVN
//! `getVulnDetailInfo`, the `jvndb_detail_YYYY.rdf` feeds) and JVNRSS overviews (MyJVN
//! `getVulnOverviewList`, JVNRSS 3.2; the older JVNDB RSS with mod_sec 2.0).
//!
//! Each entry becomes a [`Vulnerability`] with id `JVNDB-…`, the Japanese title, overview,
//! impact and solution, CVSS, CWE, references, its CVE ids as aliases, and the affected
//! products (CPE 2.2 without versions, version text as written) in `affected`.

use mamori_core::value::parse_cpe;
use mamori_core::vuln::{Affected, Cvss, CvssVersion, LangText, Reference, Vulnerability};

use crate::time::parse_timestamp;
use crate::xml::{attr, Ev, Pull};
use crate::{FeedError, Warning};

/// Which JVN document a file was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JvnFormat {
    /// VULDEF (detail).
    Vuldef,
    /// JVNRSS (overview).
    Rss,
}

/// What reading a JVN document found besides the records.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct JvnSummary {
    /// The document type.
    pub format: Option<JvnFormat>,
    /// Records passed to the sink.
    pub records: usize,
    /// Skipped records.
    pub warnings: Vec<Warning>,
}

/// Reads a JVN document, giving each entry to `sink`.
pub fn parse_jvn(
    bytes: &[u8],
    sink: &mut dyn FnMut(Vulnerability),
) -> Result<JvnSummary, FeedError> {
    let mut p = Pull::new(bytes)?;
    let (root, root_attrs) = loop {
        match p.next()? {
            Ev::Start(name, attrs) => break (name, attrs),
            Ev::Text(t) if t.trim().is_empty() => continue,
            Ev::Eof => {
                return Err(FeedError::Format {
                    expected: "a JVN document",
                    detail: "empty document".into(),
                })
            }
            other => {
                return Err(FeedError::Format {
                    expected: "a JVN document",
                    detail: format!("unexpected {other:?}"),
                })
            }
        }
    };
    let lang = attr(&root_attrs, "lang").unwrap_or("ja").to_string();
    let (format, entry) = match root.as_str() {
        "VULDEF-Document" => (JvnFormat::Vuldef, "Vulinfo"),
        "RDF" => (JvnFormat::Rss, "item"),
        other => {
            return Err(FeedError::Format {
                expected: "a JVN VULDEF or JVNRSS document",
                detail: format!("the root element is <{other}>"),
            })
        }
    };
    let mut summary = JvnSummary {
        format: Some(format),
        ..Default::default()
    };
    let mut index = 0usize;
    loop {
        match p.next()? {
            Ev::Start(name, _) if name == entry => {
                let parsed = match format {
                    JvnFormat::Vuldef => vulinfo(&mut p, &lang)?,
                    JvnFormat::Rss => item(&mut p, &lang)?,
                };
                match finish(parsed) {
                    Ok(v) => {
                        summary.records += 1;
                        sink(v);
                    }
                    Err((id, message)) => summary.warnings.push(Warning {
                        record: index,
                        id,
                        message,
                        skipped: true,
                    }),
                }
                index += 1;
            }
            Ev::Eof => break,
            _ => {}
        }
    }
    Ok(summary)
}

/// A record as read, before its checks.
struct Draft {
    v: Vulnerability,
    problems: Vec<String>,
}

fn finish(d: Draft) -> Result<Vulnerability, (Option<String>, String)> {
    let id = (!d.v.id.is_empty()).then(|| d.v.id.clone());
    if id.is_none() {
        return Err((None, "entry has no JVNDB id".into()));
    }
    if let Some(p) = d.problems.into_iter().next() {
        return Err((id, p));
    }
    Ok(d.v)
}

fn text(lang: &str, value: String) -> LangText {
    LangText {
        lang: lang.to_string(),
        value,
    }
}

fn add_alias(v: &mut Vulnerability, id: &str) {
    let id = id.trim();
    if id.starts_with("CVE-") && !v.aliases.iter().any(|a| a == id) {
        v.aliases.push(id.to_string());
    } else if id.starts_with("CWE-") && !v.cwes.iter().any(|c| c == id) {
        v.cwes.push(id.to_string());
    }
}

fn date(d: &mut Draft, what: &str, value: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    if value.trim().is_empty() {
        return None;
    }
    let parsed = parse_timestamp(value);
    if parsed.is_none() {
        d.problems.push(format!("{what} {value:?} is not a date"));
    }
    parsed
}

fn cvss_of(
    d: &mut Draft,
    version: Option<&str>,
    score: &str,
    severity: Option<String>,
    vector: String,
) {
    let Some(version) = version.and_then(CvssVersion::parse) else {
        d.problems.push(format!("unknown CVSS version {version:?}"));
        return;
    };
    match score.trim().parse::<f64>() {
        Ok(base_score) if (0.0..=10.0).contains(&base_score) => d.v.cvss.push(Cvss {
            version,
            vector,
            base_score,
            severity,
            source: Some("jvndb@ipa.go.jp".into()),
            primary: false,
        }),
        _ => d
            .problems
            .push(format!("CVSS score {score:?} is not a number from 0 to 10")),
    }
}

fn cpe_of(d: &mut Draft, text: &str) -> Option<String> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    match parse_cpe(t) {
        Ok(c) => Some(c),
        Err(e) => {
            d.problems.push(format!("CPE {t:?}: {e}"));
            None
        }
    }
}

/// One `<Vulinfo>` of a VULDEF document.
fn vulinfo(p: &mut Pull<'_>, lang: &str) -> Result<Draft, FeedError> {
    let mut d = Draft {
        v: Vulnerability::new(""),
        problems: Vec::new(),
    };
    let mut stack: Vec<String> = vec!["Vulinfo".into()];
    loop {
        match p.next()? {
            Ev::Start(name, attrs) => {
                let parent = stack.last().map(String::as_str).unwrap_or("");
                match (parent, name.as_str()) {
                    ("Vulinfo", "VulinfoID") => d.v.id = p.text_of(&name)?,
                    ("VulinfoData", "Title") => {
                        let t = p.text_of(&name)?;
                        d.v.titles.push(text(lang, t));
                    }
                    ("VulinfoDescription", "Overview") => {
                        let t = p.text_of(&name)?;
                        d.v.descriptions.push(text(lang, t));
                    }
                    ("Affected", "AffectedItem") => affected_item(p, &mut d)?,
                    ("Impact", "Cvss") => vuldef_cvss(p, &mut d, attr(&attrs, "version"))?,
                    ("ImpactItem", "Description") => {
                        let t = p.text_of(&name)?;
                        d.v.impacts.push(text(lang, t));
                    }
                    ("SolutionItem", "Description") => {
                        let t = p.text_of(&name)?;
                        d.v.solutions.push(text(lang, t));
                    }
                    ("Related", "RelatedItem") => {
                        related_item(p, &mut d, attr(&attrs, "type").unwrap_or(""))?
                    }
                    ("VulinfoData", "DateFirstPublished") => {
                        let t = p.text_of(&name)?;
                        d.v.published = date(&mut d, "DateFirstPublished", &t);
                    }
                    ("VulinfoData", "DateLastUpdated") => {
                        let t = p.text_of(&name)?;
                        d.v.modified = date(&mut d, "DateLastUpdated", &t);
                    }
                    ("VulinfoData", "History") => p.skip(&name)?,
                    _ => stack.push(name),
                }
            }
            Ev::End(name) => {
                stack.pop();
                if name == "Vulinfo" && stack.is_empty() {
                    break;
                }
            }
            Ev::Text(_) => {}
            Ev::Eof => {
                return Err(FeedError::Format {
                    expected: "a JVN document",
                    detail: "<Vulinfo> is not closed".into(),
                })
            }
        }
    }
    d.v.assigner = Some("jvndb@ipa.go.jp".into());
    Ok(d)
}

/// Calls `f(name, text)` for each child element of the element just opened (`parent`), up
/// to its end.
fn each_child(
    p: &mut Pull<'_>,
    parent: &str,
    mut f: impl FnMut(&str, String),
) -> Result<(), FeedError> {
    loop {
        match p.next()? {
            Ev::Start(name, _) => {
                let t = p.text_of(&name)?;
                f(&name, t);
            }
            Ev::End(_) => return Ok(()),
            Ev::Text(_) => {}
            Ev::Eof => {
                return Err(FeedError::Format {
                    expected: "a JVN document",
                    detail: format!("<{parent}> is not closed"),
                })
            }
        }
    }
}

fn affected_item(p: &mut Pull<'_>, d: &mut Draft) -> Result<(), FeedError> {
    let mut a = Affected {
        vendor: None,
        product: None,
        cpe: None,
        versions: Vec::new(),
    };
    let mut cpe_text = None;
    each_child(p, "AffectedItem", |name, t| match name {
        "Name" => a.vendor = Some(t).filter(|s| !s.is_empty()),
        "ProductName" => a.product = Some(t).filter(|s| !s.is_empty()),
        "Cpe" => cpe_text = Some(t),
        "VersionNumber" if !t.is_empty() => a.versions.push(t),
        _ => {}
    })?;
    if let Some(t) = cpe_text {
        a.cpe = cpe_of(d, &t);
    }
    d.v.affected.push(a);
    Ok(())
}

fn vuldef_cvss(p: &mut Pull<'_>, d: &mut Draft, version: Option<&str>) -> Result<(), FeedError> {
    let (mut severity, mut base, mut vector) = (None, String::new(), String::new());
    each_child(p, "Cvss", |name, t| match name {
        "Severity" => severity = Some(t),
        "Base" => base = t,
        "Vector" => vector = t,
        _ => {}
    })?;
    cvss_of(d, version, &base, severity, vector);
    Ok(())
}

fn related_item(p: &mut Pull<'_>, d: &mut Draft, kind: &str) -> Result<(), FeedError> {
    let (mut name, mut id, mut url) = (None, String::new(), None);
    each_child(p, "RelatedItem", |n, t| match n {
        "Name" => name = Some(t),
        "VulinfoID" => id = t,
        "URL" => url = Some(t).filter(|u| !u.is_empty()),
        _ => {}
    })?;
    add_alias(&mut d.v, &id);
    if let Some(url) = url {
        d.v.references.push(Reference {
            url,
            source: name,
            tags: vec![kind.to_string()],
        });
    }
    Ok(())
}

/// One `<item>` of a JVNRSS document.
fn item(p: &mut Pull<'_>, lang: &str) -> Result<Draft, FeedError> {
    let mut d = Draft {
        v: Vulnerability::new(""),
        problems: Vec::new(),
    };
    let (mut issued, mut modified, mut dc_date) = (None, None, None);
    loop {
        match p.next()? {
            Ev::Start(name, attrs) => {
                let t = p.text_of(&name)?;
                match name.as_str() {
                    "identifier" => d.v.id = t,
                    "title" => d.v.titles.push(text(lang, t)),
                    "description" => d.v.descriptions.push(text(lang, t)),
                    "link" if !t.is_empty() => d.v.references.push(Reference {
                        url: t,
                        source: Some("JVN iPedia".into()),
                        tags: vec![],
                    }),
                    "references" => {
                        let id = attr(&attrs, "id").unwrap_or("");
                        add_alias(&mut d.v, id);
                        if !t.is_empty() {
                            d.v.references.push(Reference {
                                url: t,
                                source: attr(&attrs, "source").map(str::to_string),
                                tags: vec![],
                            });
                        }
                    }
                    "cpe" => {
                        let cpe = cpe_of(&mut d, &t);
                        d.v.affected.push(Affected {
                            vendor: attr(&attrs, "vendor").map(str::to_string),
                            product: attr(&attrs, "product").map(str::to_string),
                            cpe,
                            versions: Vec::new(),
                        });
                    }
                    "cvss" => {
                        let score = attr(&attrs, "score").unwrap_or("").to_string();
                        let vector = attr(&attrs, "vector").unwrap_or("").to_string();
                        cvss_of(
                            &mut d,
                            attr(&attrs, "version"),
                            &score,
                            attr(&attrs, "severity").map(str::to_string),
                            vector,
                        );
                    }
                    "issued" => issued = Some(t),
                    "modified" => modified = Some(t),
                    "date" => dc_date = Some(t),
                    _ => {}
                }
            }
            Ev::End(name) if name == "item" => break,
            Ev::End(_) | Ev::Text(_) => {}
            Ev::Eof => {
                return Err(FeedError::Format {
                    expected: "a JVN document",
                    detail: "<item> is not closed".into(),
                })
            }
        }
    }
    d.v.published = issued
        .or(dc_date.clone())
        .and_then(|t| date(&mut d, "dcterms:issued", &t));
    d.v.modified = modified
        .or(dc_date)
        .and_then(|t| date(&mut d, "dcterms:modified", &t));
    d.v.assigner = Some("jvndb@ipa.go.jp".into());
    Ok(d)
}

/// MyJVN API 4.0 JSON feeds ("OKA": `getVulnOverviewList`, `dataFeed_jvndb_rss`): entries with
/// id, Japanese title and summary, dates, references (CVE ids become aliases), products
/// (CPE 2.3 helpers go into `affected`), CVSS and CWE.
pub fn parse_jvn_json(
    bytes: &[u8],
    sink: &mut dyn FnMut(Vulnerability),
) -> Result<JvnSummary, FeedError> {
    use serde::Deserialize;
    #[derive(Deserialize)]
    struct Raw {
        feed: Feed,
    }
    #[derive(Deserialize)]
    struct Feed {
        lang: Option<String>,
        #[serde(default)]
        entry: Vec<Entry>,
    }
    #[derive(Deserialize)]
    struct Entry {
        id: Option<String>,
        title: Option<String>,
        summary: Option<String>,
        link: Option<String>,
        modified: Option<String>,
        created: Option<String>,
        #[serde(default)]
        references: Vec<Ref>,
        #[serde(default)]
        products: Vec<Product>,
        #[serde(default)]
        metrics: Vec<Metric>,
        #[serde(default)]
        cwes: Vec<Cwe>,
    }
    #[derive(Deserialize)]
    struct Ref {
        url: Option<String>,
        summary: Option<String>,
        source: Option<String>,
    }
    #[derive(Deserialize)]
    struct Product {
        vname: Option<String>,
        pname: Option<String>,
        product_ids: Option<ProductIds>,
    }
    #[derive(Deserialize)]
    struct ProductIds {
        cpe: Option<String>,
    }
    #[derive(Deserialize)]
    struct Metric {
        content: Option<MetricContent>,
    }
    #[derive(Deserialize)]
    struct MetricContent {
        cvss_v2: Option<RawCvss>,
        cvss_v3: Option<RawCvss>,
        cvss_v4: Option<RawCvss>,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct RawCvss {
        version: Option<String>,
        vector_string: Option<String>,
        base_score: Option<f64>,
        base_severity: Option<String>,
    }
    #[derive(Deserialize)]
    struct Cwe {
        id: Option<String>,
    }
    crate::limits::check_json_text(bytes)?;
    let raw: Raw =
        serde_json::from_slice(bytes).map_err(|e| FeedError::from_json(&e, None, None))?;
    let lang = raw.feed.lang.unwrap_or_else(|| "ja".into());
    let mut summary = JvnSummary {
        format: Some(JvnFormat::Rss),
        ..Default::default()
    };
    for (index, e) in raw.feed.entry.into_iter().enumerate() {
        let mut d = Draft {
            v: Vulnerability::new(e.id.unwrap_or_default().trim()),
            problems: Vec::new(),
        };
        if let Some(t) = e.title.filter(|t| !t.is_empty()) {
            d.v.titles.push(text(&lang, t));
        }
        if let Some(t) = e.summary.filter(|t| !t.is_empty()) {
            d.v.descriptions.push(text(&lang, t));
        }
        if let Some(l) = e.link.filter(|l| !l.is_empty()) {
            d.v.references.push(Reference {
                url: l,
                source: Some("JVN iPedia".into()),
                tags: vec![],
            });
        }
        for r in e.references {
            if let Some(s) = &r.summary {
                add_alias(&mut d.v, s);
            }
            if let Some(url) = r.url.filter(|u| !u.is_empty()) {
                d.v.references.push(Reference {
                    url,
                    source: r.source,
                    tags: vec![],
                });
            }
        }
        for p in e.products {
            let cpe = p
                .product_ids
                .and_then(|i| i.cpe)
                .and_then(|c| cpe_of(&mut d, &c));
            d.v.affected.push(Affected {
                vendor: p.vname,
                product: p.pname,
                cpe,
                versions: Vec::new(),
            });
        }
        for m in e.metrics.into_iter().filter_map(|m| m.content) {
            for c in [m.cvss_v4, m.cvss_v3, m.cvss_v2].into_iter().flatten() {
                let score = c.base_score.map(|s| s.to_string()).unwrap_or_default();
                cvss_of(
                    &mut d,
                    c.version.as_deref(),
                    &score,
                    c.base_severity,
                    c.vector_string.unwrap_or_default(),
                );
            }
        }
        for c in e.cwes.into_iter().filter_map(|c| c.id) {
            add_alias(&mut d.v, &c);
        }
        d.v.published = e.created.and_then(|t| date(&mut d, "created", &t));
        d.v.modified = e.modified.and_then(|t| date(&mut d, "modified", &t));
        d.v.assigner = Some("jvndb@ipa.go.jp".into());
        match finish(d) {
            Ok(v) => {
                summary.records += 1;
                sink(v);
            }
            Err((id, message)) => summary.warnings.push(Warning {
                record: index,
                id,
                message,
                skipped: true,
            }),
        }
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(xml: &str) -> (Vec<Vulnerability>, Result<JvnSummary, FeedError>) {
        let mut out = Vec::new();
        let r = parse_jvn(xml.as_bytes(), &mut |v| out.push(v));
        (out, r)
    }

    #[test]
    fn vuldef_keeps_japanese_text_and_links_cves() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<VULDEF-Document version="3.2" xmlns="http://jvn.jp/vuldef/" xml:lang="ja">
  <Vulinfo><VulinfoID>JVNDB-2021-002774</VulinfoID><VulinfoData>
    <Title>トレンドマイクロ製 ServerProtect における認証回避の脆弱性</Title>
    <VulinfoDescription><Overview>アップデートが公開されました。</Overview></VulinfoDescription>
    <Affected><AffectedItem><Name>トレンドマイクロ</Name><ProductName>Trend Micro ServerProtect</ProductName>
      <Cpe version="2.2">cpe:/a:trendmicro:serverprotect</Cpe><VersionNumber>for Windows 5.8 (Build 1575) 未満</VersionNumber></AffectedItem></Affected>
    <Impact><Cvss version="3.0"><Severity type="Base">Critical</Severity><Base>9.8</Base><Vector>CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H</Vector></Cvss>
      <ImpactItem><Description>認証を回避される可能性があります。</Description></ImpactItem></Impact>
    <Solution><SolutionItem><Description>[パッチを適用する]</Description></SolutionItem></Solution>
    <Related><RelatedItem type="advisory"><Name>NVD</Name><VulinfoID>CVE-2021-36745</VulinfoID><URL>https://nvd.nist.gov/vuln/detail/CVE-2021-36745</URL></RelatedItem>
      <RelatedItem type="cwe"><Name>JVNDB</Name><VulinfoID>CWE-287</VulinfoID><Title>不適切な認証</Title></RelatedItem></Related>
    <History><HistoryItem><HistoryNo>1</HistoryNo><DateTime>2021-10-01T12:10:56+09:00</DateTime><Description>掲載</Description></HistoryItem></History>
    <DateFirstPublished>2021-10-01T14:00:11+09:00</DateFirstPublished><DateLastUpdated>2021-10-01T14:00:11+09:00</DateLastUpdated>
  </VulinfoData></Vulinfo>
</VULDEF-Document>"#;
        let (out, r) = read(xml);
        assert_eq!(r.unwrap().records, 1);
        let v = &out[0];
        assert_eq!(v.id, "JVNDB-2021-002774");
        assert_eq!(
            v.title("ja"),
            Some("トレンドマイクロ製 ServerProtect における認証回避の脆弱性")
        );
        assert_eq!(v.impacts[0].value, "認証を回避される可能性があります。");
        assert_eq!(v.solutions[0].value, "[パッチを適用する]");
        assert_eq!(v.aliases, vec!["CVE-2021-36745"]);
        assert_eq!(v.cwes, vec!["CWE-287"]);
        assert_eq!(
            v.affected[0].cpe.as_deref(),
            Some("cpe:/a:trendmicro:serverprotect")
        );
        assert_eq!(
            v.affected[0].versions,
            vec!["for Windows 5.8 (Build 1575) 未満"]
        );
        assert_eq!(v.cvss[0].base_score, 9.8);
        assert_eq!(
            v.published.unwrap().to_rfc3339(),
            "2021-10-01T05:00:11+00:00"
        );
    }

    #[test]
    fn other_roots_and_broken_entries() {
        let (_, r) = read("<feed xmlns=\"http://www.w3.org/2005/Atom\"></feed>");
        assert!(matches!(r, Err(FeedError::Format { .. })));
        let (out, r) = read(
            r#"<rdf:RDF xmlns:rdf="x" xmlns:sec="y"><item><title>t</title></item><item><sec:identifier>JVNDB-1</sec:identifier><sec:cvss version="3.0" score="eleven" vector="v"/></item><item><sec:identifier>JVNDB-2</sec:identifier></item></rdf:RDF>"#,
        );
        let s = r.unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(s.warnings.len(), 2);
        assert!(s.warnings[1].message.contains("CVSS score"));
    }
}
