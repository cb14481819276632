//! Software bills of materials: CycloneDX 1.2–1.6 (JSON and XML) and SPDX 2.2/2.3 (JSON and
//! tag-value), read into a flat list of components with their CPE and purl kept.
//!
//! The format is recognised from the content. CycloneDX components are read recursively
//! (nested `components`), plus `metadata.component` (the device itself); SPDX packages with
//! their `cpe23Type`/`cpe22Type`/`purl` external references. A component without a name is
//! reported and left out; a structural error fails the whole file with its line and column.

use serde::Deserialize;

use crate::xml::{attr, Ev, Pull};
use crate::FeedError;

/// One component of an SBOM.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SbomComponent {
    /// Name (with the CycloneDX `group` in front when given: `group/name`).
    pub name: String,
    /// Version as written.
    pub version: Option<String>,
    /// CPE name as written.
    pub cpe: Option<String>,
    /// Package URL.
    pub purl: Option<String>,
    /// Supplier or publisher.
    pub supplier: Option<String>,
    /// CycloneDX `bom-ref` or SPDX `SPDXID`.
    pub reference: Option<String>,
}

/// A read SBOM.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Sbom {
    /// `CycloneDX` or `SPDX`.
    pub format: &'static str,
    /// `1.4`, `SPDX-2.3`, …
    pub spec_version: String,
    /// `json`, `xml`, `tag-value`.
    pub encoding: &'static str,
    /// The components, the described device's own first when the SBOM names it.
    pub components: Vec<SbomComponent>,
    /// Components left out, and why.
    pub problems: Vec<String>,
    /// VEX statements the document carries (CycloneDX `vulnerabilities` with an `analysis`;
    /// JSON only).
    pub vex: Vec<VexStatement>,
}

/// A VEX statement: what the producer says of one vulnerability in what it describes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VexStatement {
    /// `CVE-…` or another id.
    pub vuln: String,
    /// CycloneDX `analysis.state`: `not_affected`, `false_positive`, `exploitable`,
    /// `resolved`, `resolved_with_pedigree`, `in_triage`.
    pub state: String,
    /// Why not affected (`code_not_present`, `requires_configuration`, …).
    pub justification: Option<String>,
    /// The producer's words.
    pub detail: Option<String>,
    /// The `bom-ref`s it is about.
    pub refs: Vec<String>,
}

/// Reads an SBOM, recognising the format from the content.
pub fn parse_sbom(bytes: &[u8]) -> Result<Sbom, FeedError> {
    let bytes = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace()).copied();
    match first {
        Some(b'{') => parse_json(bytes),
        Some(b'<') => parse_cyclonedx_xml(bytes),
        Some(_) if contains(bytes, b"SPDXVersion:") => parse_spdx_tag_value(bytes),
        _ => Err(FeedError::Format {
            expected: "an SBOM (CycloneDX JSON/XML or SPDX JSON/tag-value)",
            detail: "the content is neither JSON, XML nor SPDX tag-value".into(),
        }),
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[derive(Deserialize)]
struct JsonTop {
    #[serde(rename = "bomFormat")]
    bom_format: Option<String>,
    #[serde(rename = "specVersion")]
    spec_version: Option<String>,
    #[serde(default)]
    metadata: Option<CdxMetadata>,
    #[serde(default)]
    components: Vec<CdxComponent>,
    #[serde(default)]
    vulnerabilities: Vec<CdxVulnerability>,
    #[serde(rename = "spdxVersion")]
    spdx_version: Option<String>,
    #[serde(default)]
    packages: Vec<SpdxPackage>,
}

#[derive(Deserialize)]
struct CdxMetadata {
    component: Option<CdxComponent>,
}

#[derive(Deserialize)]
struct CdxComponent {
    name: Option<String>,
    group: Option<String>,
    version: Option<String>,
    cpe: Option<String>,
    purl: Option<String>,
    #[serde(rename = "bom-ref")]
    bom_ref: Option<String>,
    supplier: Option<Named>,
    publisher: Option<String>,
    #[serde(default)]
    components: Vec<CdxComponent>,
}

#[derive(Deserialize)]
struct CdxVulnerability {
    id: Option<String>,
    analysis: Option<CdxAnalysis>,
    #[serde(default)]
    affects: Vec<CdxAffects>,
}

#[derive(Deserialize)]
struct CdxAnalysis {
    state: Option<String>,
    justification: Option<String>,
    detail: Option<String>,
}

#[derive(Deserialize)]
struct CdxAffects {
    #[serde(rename = "ref")]
    reference: Option<String>,
}

#[derive(Deserialize)]
struct Named {
    name: Option<String>,
}

#[derive(Deserialize)]
struct SpdxPackage {
    name: Option<String>,
    #[serde(rename = "versionInfo")]
    version_info: Option<String>,
    #[serde(rename = "SPDXID")]
    spdx_id: Option<String>,
    supplier: Option<String>,
    #[serde(rename = "externalRefs", default)]
    external_refs: Vec<SpdxRef>,
}

#[derive(Deserialize)]
struct SpdxRef {
    #[serde(rename = "referenceType")]
    reference_type: Option<String>,
    #[serde(rename = "referenceLocator")]
    reference_locator: Option<String>,
}

fn nonempty(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

fn push(out: &mut Sbom, c: SbomComponent, place: &str) {
    if c.name.trim().is_empty() {
        out.problems
            .push(format!("{place}: a component without a name was left out"));
    } else {
        out.components.push(c);
    }
}

fn walk_cdx(c: CdxComponent, place: String, out: &mut Sbom) {
    let name = match (nonempty(c.group), nonempty(c.name)) {
        (Some(g), Some(n)) => format!("{g}/{n}"),
        (None, Some(n)) => n,
        _ => String::new(),
    };
    push(
        out,
        SbomComponent {
            name,
            version: nonempty(c.version),
            cpe: nonempty(c.cpe),
            purl: nonempty(c.purl),
            supplier: nonempty(c.supplier.and_then(|s| s.name)).or(nonempty(c.publisher)),
            reference: nonempty(c.bom_ref),
        },
        &place,
    );
    for (i, child) in c.components.into_iter().enumerate() {
        walk_cdx(child, format!("{place}.components[{i}]"), out);
    }
}

fn parse_json(bytes: &[u8]) -> Result<Sbom, FeedError> {
    crate::limits::check_json_text(bytes)?;
    let top: JsonTop = serde_json::from_slice(bytes).map_err(|e| {
        let mut err = FeedError::from_json(&e, None, None);
        if let (FeedError::Json { message, .. }, Some(place)) = (&mut err, bad_component(bytes)) {
            *message = format!("{place}: {message}");
        }
        err
    })?;
    let mut out = Sbom {
        encoding: "json",
        ..Sbom::default()
    };
    if top.bom_format.as_deref() == Some("CycloneDX") {
        out.format = "CycloneDX";
        out.spec_version = top.spec_version.unwrap_or_default();
        if let Some(c) = top.metadata.and_then(|m| m.component) {
            walk_cdx(c, "metadata.component".into(), &mut out);
        }
        for (i, c) in top.components.into_iter().enumerate() {
            walk_cdx(c, format!("components[{i}]"), &mut out);
        }
        for (i, v) in top.vulnerabilities.into_iter().enumerate() {
            let (Some(vuln), Some(state)) = (
                nonempty(v.id),
                v.analysis.as_ref().and_then(|a| nonempty(a.state.clone())),
            ) else {
                out.problems.push(format!(
                    "vulnerabilities[{i}]: a VEX statement needs an id and analysis.state; left out"
                ));
                continue;
            };
            let a = v.analysis.expect("checked above");
            out.vex.push(VexStatement {
                vuln,
                state,
                justification: nonempty(a.justification),
                detail: nonempty(a.detail),
                refs: v
                    .affects
                    .into_iter()
                    .filter_map(|r| nonempty(r.reference))
                    .collect(),
            });
        }
        return Ok(out);
    }
    if let Some(v) = top.spdx_version {
        out.format = "SPDX";
        out.spec_version = v;
        for (i, p) in top.packages.into_iter().enumerate() {
            let mut c = SbomComponent {
                name: p.name.unwrap_or_default(),
                version: nonempty(p.version_info),
                supplier: nonempty(p.supplier)
                    .filter(|s| s != "NOASSERTION")
                    .map(|s| s.trim_start_matches("Organization:").trim().to_string()),
                reference: nonempty(p.spdx_id),
                ..SbomComponent::default()
            };
            for r in p.external_refs {
                apply_spdx_ref(&mut c, r.reference_type.as_deref(), r.reference_locator);
            }
            push(&mut out, c, &format!("packages[{i}]"));
        }
        return Ok(out);
    }
    Err(FeedError::Format {
        expected: "an SBOM (CycloneDX JSON/XML or SPDX JSON/tag-value)",
        detail: "JSON without \"bomFormat\": \"CycloneDX\" or \"spdxVersion\"".into(),
    })
}

/// The first CycloneDX component that does not read, by its JSON path and bom-ref
/// (`components[3].components[1] (bom-ref "pkg:npm/x")`): for the message of a file that
/// fails, so that a person can find the component. `None` when no component is at fault.
fn bad_component(bytes: &[u8]) -> Option<String> {
    fn walk(list: &[serde_json::Value], place: &str) -> Option<String> {
        for (i, c) in list.iter().enumerate() {
            let here = format!("{place}[{i}]");
            let children = c.get("components").and_then(|v| v.as_array());
            if let Some(found) = children.and_then(|l| walk(l, &format!("{here}.components"))) {
                return Some(found);
            }
            let mut alone = c.clone();
            if let Some(o) = alone.as_object_mut() {
                o.remove("components");
            }
            if serde_json::from_value::<CdxComponent>(alone).is_err() {
                return Some(match c.get("bom-ref").and_then(|r| r.as_str()) {
                    Some(r) => format!("{here} (bom-ref {r:?})"),
                    None => here,
                });
            }
        }
        None
    }
    let doc: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    if let Some(c) = doc.pointer("/metadata/component") {
        if let Some(found) = walk(std::slice::from_ref(c), "metadata.component") {
            return Some(found.replacen("metadata.component[0]", "metadata.component", 1));
        }
    }
    walk(doc.get("components")?.as_array()?, "components")
}

fn apply_spdx_ref(c: &mut SbomComponent, kind: Option<&str>, locator: Option<String>) {
    let Some(loc) = nonempty(locator) else { return };
    match kind {
        Some("cpe23Type") => c.cpe = Some(loc),
        Some("cpe22Type") if c.cpe.is_none() => c.cpe = Some(loc),
        Some("purl") => c.purl = Some(loc),
        _ => {}
    }
}

fn parse_spdx_tag_value(bytes: &[u8]) -> Result<Sbom, FeedError> {
    let text = std::str::from_utf8(bytes).map_err(|e| FeedError::Format {
        expected: "SPDX tag-value text",
        detail: format!("not UTF-8 at byte {}", e.valid_up_to()),
    })?;
    let mut out = Sbom {
        format: "SPDX",
        encoding: "tag-value",
        ..Sbom::default()
    };
    let mut current: Option<(SbomComponent, usize)> = None;
    let mut in_text = false;
    for (n, line) in text.lines().enumerate() {
        // Multi-line values are wrapped in <text>…</text>.
        if in_text {
            if line.contains("</text>") {
                in_text = false;
            }
            continue;
        }
        let Some((tag, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if value.starts_with("<text>") && !value.contains("</text>") {
            in_text = true;
        }
        match tag.trim() {
            "SPDXVersion" => out.spec_version = value.to_string(),
            "PackageName" => {
                if let Some((c, line)) = current.take() {
                    push(&mut out, c, &format!("line {line}"));
                }
                current = Some((
                    SbomComponent {
                        name: value.to_string(),
                        ..SbomComponent::default()
                    },
                    n + 1,
                ));
            }
            "PackageVersion" => {
                if let Some((c, _)) = current.as_mut() {
                    c.version = nonempty(Some(value.to_string()));
                }
            }
            "SPDXID" => {
                if let Some((c, _)) = current.as_mut() {
                    if c.reference.is_none() {
                        c.reference = Some(value.to_string());
                    }
                }
            }
            "PackageSupplier" => {
                if let Some((c, _)) = current.as_mut() {
                    if value != "NOASSERTION" {
                        c.supplier =
                            Some(value.trim_start_matches("Organization:").trim().to_string());
                    }
                }
            }
            "ExternalRef" => {
                if let Some((c, _)) = current.as_mut() {
                    let mut parts = value.split_whitespace();
                    let _category = parts.next();
                    let kind = parts.next();
                    let loc = parts.next().map(str::to_string);
                    apply_spdx_ref(c, kind, loc);
                }
            }
            "FileName" | "SnippetSPDXID" => {
                if let Some((c, line)) = current.take() {
                    push(&mut out, c, &format!("line {line}"));
                }
            }
            _ => {}
        }
    }
    if let Some((c, line)) = current.take() {
        push(&mut out, c, &format!("line {line}"));
    }
    Ok(out)
}

fn line_of(bytes: &[u8], pos: u64) -> usize {
    let end = (pos as usize).min(bytes.len());
    bytes[..end].iter().filter(|b| **b == b'\n').count() + 1
}

fn parse_cyclonedx_xml(bytes: &[u8]) -> Result<Sbom, FeedError> {
    let with_line = |e: FeedError, pos: u64| match e {
        FeedError::Format { expected, detail } => FeedError::Format {
            expected,
            detail: format!("line {}: {detail}", line_of(bytes, pos)),
        },
        other => other,
    };
    let mut pull = Pull::new(bytes)?;
    let mut out = Sbom {
        format: "CycloneDX",
        encoding: "xml",
        ..Sbom::default()
    };
    // A stack of components being read; element names give the field.
    let mut stack: Vec<SbomComponent> = Vec::new();
    let mut groups: Vec<Option<String>> = Vec::new();
    let mut path: Vec<String> = Vec::new();
    let mut saw_bom = false;
    loop {
        let pos = pull.position();
        let ev = pull.next().map_err(|e| with_line(e, pos))?;
        match ev {
            Ev::Start(name, attrs) => {
                if path.is_empty() {
                    if name != "bom" {
                        return Err(FeedError::Format {
                            expected: "a CycloneDX XML document",
                            detail: format!("the root element is <{name}>, not <bom>"),
                        });
                    }
                    saw_bom = true;
                    // The namespace names the version: http://cyclonedx.org/schema/bom/1.4
                    if let Some(ns) = attr(&attrs, "xmlns") {
                        out.spec_version = ns.rsplit('/').next().unwrap_or("").to_string();
                    }
                }
                if name == "component" {
                    groups.push(None);
                    stack.push(SbomComponent {
                        reference: attr(&attrs, "bom-ref").map(str::to_string),
                        ..SbomComponent::default()
                    });
                }
                let parent_is_component = path.last().map(String::as_str) == Some("component");
                let parent_is_supplier = path.last().map(String::as_str) == Some("supplier");
                path.push(name.clone());
                if parent_is_component || parent_is_supplier {
                    let field = name.as_str();
                    if matches!(
                        field,
                        "name" | "group" | "version" | "cpe" | "purl" | "publisher"
                    ) {
                        let pos = pull.position();
                        let text = pull.text_of(field).map_err(|e| with_line(e, pos))?;
                        path.pop();
                        if let Some(c) = stack.last_mut() {
                            let t = nonempty(Some(text));
                            match (field, parent_is_supplier) {
                                ("name", true) => c.supplier = c.supplier.take().or(t),
                                ("name", false) => c.name = t.unwrap_or_default(),
                                ("group", false) => {
                                    if let Some(g) = groups.last_mut() {
                                        *g = t;
                                    }
                                }
                                ("version", false) => c.version = t,
                                ("cpe", false) => c.cpe = t,
                                ("purl", false) => c.purl = t,
                                ("publisher", false) => c.supplier = c.supplier.take().or(t),
                                _ => {}
                            }
                        }
                    }
                }
            }
            Ev::End(name) => {
                path.pop();
                if name == "component" {
                    if let Some(mut c) = stack.pop() {
                        if let Some(g) = groups.pop().flatten() {
                            c.name = format!("{g}/{}", c.name);
                        }
                        let place = format!("line {}", line_of(bytes, pull.position()));
                        push(&mut out, c, &place);
                    }
                }
            }
            Ev::Text(_) => {}
            Ev::Eof => break,
        }
    }
    if !saw_bom {
        return Err(FeedError::Format {
            expected: "a CycloneDX XML document",
            detail: "no <bom> element".into(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_malformed_component_is_named_by_path_and_bom_ref() {
        let cdx = br#"{"bomFormat":"CycloneDX","specVersion":"1.5","components":[
            {"name":"openssl","version":"1.1.1k"},
            {"name":"viewer","components":[{"name":"zlib","version":"1.2.11"},
              {"bom-ref":"pkg:npm/left-pad@1","name":"left-pad","version":7}]}]}"#;
        let e = parse_sbom(cdx).unwrap_err().to_string();
        assert!(
            e.contains(r#"components[1].components[1] (bom-ref "pkg:npm/left-pad@1")"#)
                && e.contains("line 4"),
            "{e}"
        );
        let cdx = br#"{"bomFormat":"CycloneDX","metadata":{"component":{"name":["x"]}}}"#;
        let e = parse_sbom(cdx).unwrap_err().to_string();
        assert!(e.contains("metadata.component: "), "{e}");
    }

    #[test]
    fn the_four_encodings() {
        let cdx = br#"{"bomFormat":"CycloneDX","specVersion":"1.5","metadata":{"component":{"name":"Viewer","version":"2"}},
            "components":[{"name":"openssl","version":"1.1.1k","purl":"pkg:generic/openssl@1.1.1k",
            "cpe":"cpe:2.3:a:openssl:openssl:1.1.1k:*:*:*:*:*:*:*","components":[{"name":"zlib","version":"1.2.11"}]}]}"#;
        let s = parse_sbom(cdx).unwrap();
        assert_eq!((s.format, s.spec_version.as_str()), ("CycloneDX", "1.5"));
        let names: Vec<&str> = s.components.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["Viewer", "openssl", "zlib"]);
        assert!(s.components[1].cpe.is_some() && s.components[1].purl.is_some());

        let xml =
            br#"<?xml version="1.0"?><bom xmlns="http://cyclonedx.org/schema/bom/1.4" version="1">
            <components><component type="library" bom-ref="a"><supplier><name>ACME</name></supplier>
            <group>org.acme</group><name>lib</name><version>1.0</version>
            <cpe>cpe:2.3:a:acme:lib:1.0:*:*:*:*:*:*:*</cpe></component></components></bom>"#;
        let s = parse_sbom(xml).unwrap();
        assert_eq!(s.spec_version, "1.4");
        assert_eq!(s.components[0].name, "org.acme/lib");
        assert_eq!(s.components[0].supplier.as_deref(), Some("ACME"));
        assert_eq!(s.components[0].version.as_deref(), Some("1.0"));

        let spdx = br#"{"spdxVersion":"SPDX-2.3","packages":[{"name":"curl","versionInfo":"7.88.1","SPDXID":"SPDXRef-1",
            "externalRefs":[{"referenceCategory":"SECURITY","referenceType":"cpe23Type","referenceLocator":"cpe:2.3:a:haxx:curl:7.88.1:*:*:*:*:*:*:*"}]}]}"#;
        let s = parse_sbom(spdx).unwrap();
        assert_eq!(
            s.components[0].cpe.as_deref(),
            Some("cpe:2.3:a:haxx:curl:7.88.1:*:*:*:*:*:*:*")
        );

        let tv = b"SPDXVersion: SPDX-2.3\nPackageName: busybox\nSPDXID: SPDXRef-bb\nPackageVersion: 1.36.0\nPackageComment: <text>two\nlines: here</text>\nExternalRef: PACKAGE-MANAGER purl pkg:generic/busybox@1.36.0\nFileName: ./a\n";
        let s = parse_sbom(tv).unwrap();
        assert_eq!(s.components.len(), 1);
        assert_eq!(
            s.components[0].purl.as_deref(),
            Some("pkg:generic/busybox@1.36.0")
        );
    }

    #[test]
    fn cyclonedx_vex_statements_are_read() {
        let json = br#"{"bomFormat":"CycloneDX","specVersion":"1.4","version":1,
          "metadata":{"component":{"name":"ABC","version":"4.2","bom-ref":"product-ABC"}},
          "vulnerabilities":[{"id":"CVE-2021-44228","analysis":{"state":"not_affected",
            "justification":"code_not_present","detail":"removed"},"affects":[{"ref":"product-ABC"}]},
            {"id":"CVE-2021-1"}]}"#;
        let s = parse_sbom(json).unwrap();
        assert_eq!(s.components.len(), 1);
        assert_eq!(
            s.vex,
            [VexStatement {
                vuln: "CVE-2021-44228".into(),
                state: "not_affected".into(),
                justification: Some("code_not_present".into()),
                detail: Some("removed".into()),
                refs: vec!["product-ABC".into()],
            }]
        );
        assert!(
            s.problems[0].starts_with("vulnerabilities[1]"),
            "{:?}",
            s.problems
        );
    }

    #[test]
    fn bad_sboms_say_where() {
        let e = parse_sbom(b"{\"bomFormat\":\"CycloneDX\",\n\"components\":[{\"name\":1}]}")
            .unwrap_err();
        assert!(e.to_string().contains("line 2"), "{e}");
        let e = parse_sbom(b"<bom>\n<components>\n<component></bom>").unwrap_err();
        assert!(e.to_string().contains("line"), "{e}");
        assert!(parse_sbom(b"{\"x\":1}").is_err());
        assert!(parse_sbom(b"hello").is_err());
        let s = parse_sbom(br#"{"bomFormat":"CycloneDX","components":[{"version":"1"}]}"#).unwrap();
        assert_eq!((s.components.len(), s.problems.len()), (0, 1));
        assert!(s.problems[0].contains("components[0]"));
    }
}
