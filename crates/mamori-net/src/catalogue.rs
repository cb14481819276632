//! The default-credential catalogue (guideline §8.3, 遵守事項 8⑤: 出荷時パスワードの変更).
//!
//! mamori ships its own catalogue (`data/default-credentials.toml`), written for mamori from
//! public vendor documentation, each entry naming its source. Hospitals may add their own files
//! in the same format, or in the DefaultCreds-cheat-sheet CSV format
//! (`productvendor,username,password`, `<blank>` for an empty value).
//!
//! This module only reads catalogues. Which entries are tried against which service, and how
//! gently, is the checkers' business; a working password is never stored or shown — findings
//! name the entry's id.

use std::collections::BTreeMap;

use serde::Deserialize;

/// What a catalogue password is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Secret {
    /// The empty password.
    Empty,
    /// Any password is accepted (anonymous FTP, no authentication).
    Any,
    /// This text.
    Text(String),
}

impl Secret {
    fn read(text: &str) -> Secret {
        match text.trim() {
            "" | "<blank>" | "(empty)" | "empty" => Secret::Empty,
            "<any>" | "(any)" | "any" => Secret::Any,
            t => Secret::Text(t.to_string()),
        }
    }
}

/// The protocols the checkers speak.
pub const PROTOCOLS: &[&str] = &[
    "ssh",
    "telnet",
    "ftp",
    "http-basic",
    "http-digest",
    "http-form",
    "snmp",
    "mysql",
    "postgresql",
    "redis",
    "vnc",
    "amqp",
    "mssql",
    "oracle",
    "ipmi",
    "dicom",
    "any",
];

/// The categories of the catalogue, as reported.
pub const CATEGORIES: &[&str] = &[
    "network",
    "vpn",
    "printer",
    "ups",
    "building",
    "nas",
    "camera",
    "pacs",
    "database",
    "web",
    "remote-access",
    "server-management",
    "medical",
    "os",
];

/// A category's label (Japanese, English); user files may use others, shown as they are.
pub fn category_label(code: &str, lang: mamori_core::Lang) -> String {
    let (ja, en) = match code {
        "network" => ("ネットワーク機器", "network devices"),
        "vpn" => ("VPN装置・UTM", "VPN devices and firewalls"),
        "printer" => ("プリンタ・複合機", "printers and MFPs"),
        "ups" => ("UPS", "UPS"),
        "building" => ("ビル設備・制御装置", "building controllers"),
        "nas" => ("NAS・ストレージ", "NAS and storage"),
        "camera" => ("ネットワークカメラ", "network cameras"),
        "pacs" => ("PACS・DICOM", "PACS and DICOM"),
        "database" => ("データベース", "databases"),
        "web" => ("Web管理画面・ミドルウェア", "web consoles and middleware"),
        "remote-access" => ("リモートアクセス", "remote access"),
        "server-management" => ("サーバ管理 (BMC等)", "server management (BMC)"),
        "medical" => ("医療機器", "medical devices"),
        "os" => ("OS", "operating systems"),
        other => return other.to_string(),
    };
    lang.pick(ja, en).to_string()
}

/// One catalogue entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Stable id (`fortinet-fortigate-admin`): what findings name.
    pub id: String,
    /// Vendor.
    pub vendor: String,
    /// Product.
    pub product: String,
    /// Category (one of [`CATEGORIES`]; user files may use others).
    pub category: String,
    /// Protocol (one of [`PROTOCOLS`]).
    pub protocol: String,
    /// The port, when the product has a usual one.
    pub port: Option<u16>,
    /// User name (empty: none asked, e.g. an SNMP community or a PIN).
    pub username: String,
    /// Password, community or PIN.
    pub password: Secret,
    /// Where the fact is published.
    pub source: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    id: String,
    vendor: String,
    product: String,
    category: String,
    protocol: String,
    #[serde(default)]
    port: Option<u16>,
    #[serde(default)]
    username: String,
    password: String,
    source: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    entry: Vec<RawEntry>,
}

/// Why a catalogue file was refused (nothing of it is used).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{place}: {message}")]
pub struct CatalogueError {
    /// Line, or entry id.
    pub place: String,
    /// What is wrong.
    pub message: String,
}

fn fail(place: impl Into<String>, message: impl Into<String>) -> CatalogueError {
    CatalogueError {
        place: place.into(),
        message: message.into(),
    }
}

/// The catalogue mamori ships.
pub const SHIPPED: &str = include_str!("../data/default-credentials.toml");

/// Reads a catalogue in mamori's TOML format: `[[entry]]` tables with `id`, `vendor`,
/// `product`, `category`, `protocol`, `port`, `username`, `password` (`<blank>` for empty,
/// `<any>` for any) and `source`. Every entry must name its source; ids are unique.
pub fn parse_toml(text: &str) -> Result<Vec<Entry>, CatalogueError> {
    let raw: RawFile = toml::from_str(text).map_err(|e| {
        let line = e
            .span()
            .map(|s| text[..s.start.min(text.len())].lines().count().max(1))
            .unwrap_or(1);
        fail(format!("line {line}"), e.message().to_string())
    })?;
    let mut seen = BTreeMap::new();
    let mut out = Vec::with_capacity(raw.entry.len());
    for r in raw.entry {
        let place = format!("entry {:?}", r.id);
        if r.id.trim().is_empty() {
            return Err(fail("entry", "an entry without an id"));
        }
        if seen.insert(r.id.clone(), ()).is_some() {
            return Err(fail(place, "the id is used twice"));
        }
        if !PROTOCOLS.contains(&r.protocol.as_str()) {
            return Err(fail(
                place,
                format!(
                    "protocol {:?} is not one of {}",
                    r.protocol,
                    PROTOCOLS.join(", ")
                ),
            ));
        }
        if r.source.trim().len() < 8 {
            return Err(fail(place, "every entry names its public source"));
        }
        out.push(Entry {
            id: r.id,
            vendor: r.vendor,
            product: r.product,
            category: r.category,
            protocol: r.protocol,
            port: r.port,
            username: r.username,
            password: Secret::read(&r.password),
            source: r.source,
        });
    }
    Ok(out)
}

/// Reads the DefaultCreds-cheat-sheet CSV format (`productvendor,username,password`). The
/// product is the only name such a file gives; protocol `any`, category `imported`, source
/// the file.
pub fn parse_defaultcreds_csv(bytes: &[u8], file: &str) -> Result<Vec<Entry>, CatalogueError> {
    let text = std::str::from_utf8(bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes))
        .map_err(|e| fail("line 1", format!("not UTF-8 ({e})")))?;
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(text.as_bytes());
    let headers = rdr
        .headers()
        .map_err(|e| fail("line 1", e.to_string()))?
        .iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .collect::<Vec<_>>();
    if headers != ["productvendor", "username", "password"] {
        return Err(fail(
            "line 1",
            "the header must be productvendor,username,password",
        ));
    }
    let mut out = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let line = i + 2;
        let rec = rec.map_err(|e| fail(format!("line {line}"), e.to_string()))?;
        let product = rec.get(0).unwrap_or("").trim();
        if product.is_empty() {
            return Err(fail(format!("line {line}"), "no product or vendor"));
        }
        let user = rec.get(1).unwrap_or("").trim();
        out.push(Entry {
            id: format!("{file}:{line}"),
            vendor: product.to_string(),
            product: product.to_string(),
            category: "imported".into(),
            protocol: "any".into(),
            port: None,
            username: if user == "<blank>" {
                String::new()
            } else {
                user.to_string()
            },
            password: Secret::read(rec.get(2).unwrap_or("")),
            source: file.to_string(),
        });
    }
    Ok(out)
}

/// Entries per category, for the composition report.
pub fn composition(entries: &[Entry]) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for e in entries {
        *out.entry(e.category.clone()).or_insert(0) += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_catalogue_reads_and_every_entry_names_a_source() {
        let entries = parse_toml(SHIPPED).unwrap();
        assert!(entries.len() >= 300, "{}", entries.len());
        for e in &entries {
            assert!(
                e.source.contains("https://") || e.source.contains("RFC "),
                "{}: {}",
                e.id,
                e.source
            );
            assert!(CATEGORIES.contains(&e.category.as_str()), "{}", e.id);
        }
        let c = composition(&entries);
        for cat in [
            "network",
            "vpn",
            "printer",
            "ups",
            "building",
            "nas",
            "pacs",
            "medical",
            "database",
            "web",
            "remote-access",
        ] {
            assert!(c.get(cat).copied().unwrap_or(0) > 0, "{cat}: {c:?}");
        }
        let orthanc = entries.iter().find(|e| e.id == "orthanc-rest").unwrap();
        assert_eq!(orthanc.password, Secret::Text("orthanc".into()));
        let fortigate = entries
            .iter()
            .find(|e| e.id == "fortinet-fortigate-admin")
            .unwrap();
        assert_eq!(fortigate.password, Secret::Empty);
    }

    #[test]
    fn bad_catalogues_are_refused_with_the_place() {
        let no_source = "[[entry]]\nid='x'\nvendor='v'\nproduct='p'\ncategory='web'\nprotocol='ssh'\npassword='a'\nsource=''\n";
        assert!(parse_toml(no_source)
            .unwrap_err()
            .message
            .contains("source"));
        let twice = format!("{0}{0}", "[[entry]]\nid='x'\nvendor='v'\nproduct='p'\ncategory='web'\nprotocol='ssh'\npassword='a'\nsource='https://example.invalid/x'\n");
        assert!(parse_toml(&twice).unwrap_err().message.contains("twice"));
        let protocol = "[[entry]]\nid='x'\nvendor='v'\nproduct='p'\ncategory='web'\nprotocol='gopher'\npassword='a'\nsource='https://example.invalid/x'\n";
        assert!(parse_toml(protocol).unwrap_err().message.contains("gopher"));
        let e = parse_toml("[[entry]]\nid = \n").unwrap_err();
        assert_eq!(e.place, "line 2");
        assert!(parse_defaultcreds_csv(b"a,b\n", "f.csv").is_err());
        let e =
            parse_defaultcreds_csv(b"productvendor,username,password\nx,y\n", "f.csv").unwrap_err();
        assert_eq!(e.place, "line 2");
    }
}
