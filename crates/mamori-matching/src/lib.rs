//! Matching vulnerability criteria to systems — first part: CPE names.
//!
//! [`Wfn`] is NISTIR 7695's well-formed name: eleven attributes, each [`Value::Any`],
//! [`Value::Na`] or a string that may carry the `*`/`?` wildcards. [`Wfn::parse`] unbinds a
//! CPE 2.3 formatted string (`cpe:2.3:…`, with `\` escapes) or a CPE 2.2 URI (`cpe:/…`, with
//! percent-encoding and a packed edition, as JVN writes them). [`compare`] is NISTIR 7696's
//! attribute comparison ([`Relation`]), and [`Wfn::matches`] says whether a criterion (from NVD,
//! possibly with wildcards) covers a concrete system name.
//!
//! [`version`] compares versions as vendors write them (dotted, Cisco/Junos trains, Windows
//! builds, pre-releases, Debian and RPM) and says "cannot compare" rather than guess;
//! [`version::in_range`] applies NVD's four bounds.
//!
//! [`applicability`] evaluates NVD configurations (AND/OR, negate, running-on platforms, the
//! four bounds) against a device's components in three-valued logic, so that what cannot be
//! decided is reported as such. [`names`] matches products by vendor and product name for
//! advisories without CPE names (ICSMA). [`priority`] scores a finding and says why.
//!
//! Deliberately absent: any IO or knowledge of the store, of the ledger's columns or of how
//! findings are kept (that is `mamori-app`).
#![forbid(unsafe_code)]

pub mod applicability;
pub mod names;
pub mod priority;
pub mod reconcile;
pub mod version;

use std::fmt;

/// One attribute value of a well-formed name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Value {
    /// ANY (`*`): any value.
    Any,
    /// NA (`-`): not applicable.
    Na,
    /// A value. Characters are unescaped; `*` and `?` keep their wildcard meaning only when
    /// `wild` says so for their position (escaped ones are literal).
    Str {
        /// The characters, lower-cased (CPE comparison is case-insensitive).
        chars: Vec<char>,
        /// For each character: true when it is an unescaped wildcard.
        wild: Vec<bool>,
    },
}

impl Value {
    fn literal(s: &str) -> Value {
        let chars: Vec<char> = s.chars().flat_map(char::to_lowercase).collect();
        let wild = vec![false; chars.len()];
        Value::Str { chars, wild }
    }

    /// The text of a value without wildcards (`None` for ANY, NA or a pattern).
    pub fn as_literal(&self) -> Option<String> {
        match self {
            Value::Str { chars, wild } if !wild.iter().any(|w| *w) => Some(chars.iter().collect()),
            _ => None,
        }
    }

    fn has_wildcards(&self) -> bool {
        matches!(self, Value::Str { wild, .. } if wild.iter().any(|w| *w))
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Any => f.write_str("*"),
            Value::Na => f.write_str("-"),
            Value::Str { chars, wild } => {
                for (c, w) in chars.iter().zip(wild) {
                    if !w && !c.is_ascii_alphanumeric() && *c != '_' {
                        write!(f, "\\{c}")?;
                    } else {
                        write!(f, "{c}")?;
                    }
                }
                Ok(())
            }
        }
    }
}

/// The attributes, in CPE order.
pub const ATTRIBUTES: [&str; 11] = [
    "part",
    "vendor",
    "product",
    "version",
    "update",
    "edition",
    "language",
    "sw_edition",
    "target_sw",
    "target_hw",
    "other",
];

/// A well-formed CPE name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Wfn {
    /// The attribute values in [`ATTRIBUTES`] order.
    pub values: [Value; 11],
}

/// Why a text is not a CPE name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CpeError {
    /// Neither `cpe:2.3:` nor `cpe:/`.
    #[error("not a CPE name (must start with cpe:2.3: or cpe:/)")]
    Prefix,
    /// Wrong number of components.
    #[error("a CPE 2.3 name has 13 components, found {0}")]
    Components(usize),
    /// The part is not a, o or h (or ANY).
    #[error("part must be a, o or h")]
    Part,
    /// A bad escape or percent-encoding.
    #[error("bad escape in {0}")]
    Escape(&'static str),
}

fn split_fs(text: &str) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut escaped = false;
    for c in text.chars() {
        let last = parts.last_mut().expect("never empty");
        if escaped {
            last.push('\\');
            last.push(c);
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == ':' {
            parts.push(String::new());
        } else {
            last.push(c);
        }
    }
    if escaped {
        parts.last_mut().expect("never empty").push('\\');
    }
    parts
}

/// Unbinds one formatted-string component (NISTIR 7695 §6.2.3).
fn unbind_fs(s: &str, attr: &'static str) -> Result<Value, CpeError> {
    match s {
        "*" => return Ok(Value::Any),
        "-" => return Ok(Value::Na),
        "" => return Err(CpeError::Escape(attr)),
        _ => {}
    }
    let mut chars = Vec::new();
    let mut wild = Vec::new();
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        if c == '\\' {
            let next = it.next().ok_or(CpeError::Escape(attr))?;
            chars.extend(next.to_lowercase());
            wild.push(false);
        } else if c == '*' || c == '?' {
            chars.push(c);
            wild.push(true);
        } else {
            chars.extend(c.to_lowercase());
            wild.push(false);
        }
    }
    Ok(Value::Str { chars, wild })
}

/// Unbinds one URI component (NISTIR 7695 §6.1.3): percent-decoding, `%01` = `?`, `%02` = `*`.
fn unbind_uri(s: &str, attr: &'static str) -> Result<Value, CpeError> {
    match s {
        "" => return Ok(Value::Any),
        "-" => return Ok(Value::Na),
        _ => {}
    }
    let bytes = s.as_bytes();
    let mut chars = Vec::new();
    let mut wild = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3).ok_or(CpeError::Escape(attr))?;
            let b = u8::from_str_radix(hex, 16).map_err(|_| CpeError::Escape(attr))?;
            match b {
                0x01 => {
                    chars.push('?');
                    wild.push(true);
                }
                0x02 => {
                    chars.push('*');
                    wild.push(true);
                }
                _ => {
                    chars.extend((b as char).to_lowercase());
                    wild.push(false);
                }
            }
            i += 3;
        } else {
            let c = s[i..].chars().next().ok_or(CpeError::Escape(attr))?;
            chars.extend(c.to_lowercase());
            wild.push(false);
            i += c.len_utf8();
        }
    }
    Ok(Value::Str { chars, wild })
}

impl Wfn {
    /// Reads a CPE 2.3 formatted string or a CPE 2.2 URI.
    pub fn parse(text: &str) -> Result<Wfn, CpeError> {
        let t = text.trim();
        let lower = t.to_ascii_lowercase();
        let mut values: [Value; 11] = std::array::from_fn(|_| Value::Any);
        if lower.starts_with("cpe:2.3:") {
            let parts = split_fs(&t[8..]);
            if parts.len() != 11 {
                return Err(CpeError::Components(parts.len() + 2));
            }
            for (i, p) in parts.iter().enumerate() {
                values[i] = unbind_fs(p, ATTRIBUTES[i])?;
            }
        } else if lower.starts_with("cpe:/") {
            let parts: Vec<&str> = t[5..].split(':').collect();
            if parts.len() > 7 {
                return Err(CpeError::Components(parts.len()));
            }
            for (i, p) in parts.iter().enumerate() {
                if i == 5 && p.starts_with('~') {
                    // Packed edition: ~edition~sw_edition~target_sw~target_hw~other.
                    let packed: Vec<&str> = p[1..].split('~').collect();
                    let slots = [5, 7, 8, 9, 10];
                    for (j, slot) in slots.iter().enumerate() {
                        values[*slot] =
                            unbind_uri(packed.get(j).copied().unwrap_or(""), ATTRIBUTES[*slot])?;
                    }
                } else {
                    values[i] = unbind_uri(p, ATTRIBUTES[i])?;
                }
            }
        } else {
            return Err(CpeError::Prefix);
        }
        match &values[0] {
            Value::Any => {}
            Value::Str { chars, .. } if matches!(chars.as_slice(), ['a'] | ['o'] | ['h']) => {}
            _ => return Err(CpeError::Part),
        }
        Ok(Wfn { values })
    }

    /// A name from vendor, product and version (the rest ANY), e.g. from a ledger row.
    pub fn from_parts(part: char, vendor: &str, product: &str, version: Option<&str>) -> Wfn {
        let mut values: [Value; 11] = std::array::from_fn(|_| Value::Any);
        values[0] = Value::literal(&part.to_string());
        values[1] = Value::literal(vendor);
        values[2] = Value::literal(product);
        if let Some(v) = version {
            values[3] = Value::literal(v);
        }
        Wfn { values }
    }

    /// Whether this name, used as a criterion, covers `target` (every attribute SUPERSET or
    /// EQUAL — NISTIR 7696 §6.2's name comparison for "source matches target").
    pub fn matches(&self, target: &Wfn) -> bool {
        self.values
            .iter()
            .zip(&target.values)
            .all(|(s, t)| matches!(compare(s, t), Relation::Superset | Relation::Equal))
    }

    /// The vendor and product, when they are plain strings.
    pub fn vendor_product(&self) -> Option<(String, String)> {
        match (&self.values[1], &self.values[2]) {
            (Value::Str { chars: v, .. }, Value::Str { chars: p, .. }) => {
                Some((v.iter().collect(), p.iter().collect()))
            }
            _ => None,
        }
    }

    /// The same name with a literal version.
    pub fn with_version(&self, version: &str) -> Wfn {
        let mut w = self.clone();
        w.values[3] = Value::literal(version);
        w
    }

    /// The same name with version ANY.
    pub fn with_any_version(&self) -> Wfn {
        let mut w = self.clone();
        w.values[3] = Value::Any;
        w
    }

    /// Part, vendor and product as text (`*` for ANY, `-` for NA), lower-case.
    pub fn part_vendor_product(&self) -> (String, String, String) {
        let text = |v: &Value| match v {
            Value::Str { chars, .. } => chars.iter().collect(),
            other => other.to_string(),
        };
        (
            text(&self.values[0]),
            text(&self.values[1]),
            text(&self.values[2]),
        )
    }

    /// The CPE 2.3 formatted string.
    pub fn to_fs(&self) -> String {
        let parts: Vec<String> = self.values.iter().map(Value::to_string).collect();
        format!("cpe:2.3:{}", parts.join(":"))
    }
}

/// How a source attribute relates to a target attribute (NISTIR 7696 Table 6-2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    /// The source covers more than the target.
    Superset,
    /// The source covers less than the target.
    Subset,
    /// The same.
    Equal,
    /// Nothing in common.
    Disjoint,
    /// Cannot be decided (the target has wildcards).
    Undefined,
}

/// Compares one source attribute with one target attribute.
pub fn compare(source: &Value, target: &Value) -> Relation {
    use Relation::*;
    match (source, target) {
        (Value::Any, Value::Any) => Equal,
        (Value::Any, _) => Superset,
        (Value::Na, Value::Any) => Subset,
        (Value::Na, Value::Na) => Equal,
        (Value::Na, Value::Str { .. }) => Disjoint,
        (Value::Str { .. }, Value::Any) => Subset,
        (Value::Str { .. }, Value::Na) => Disjoint,
        (
            s @ Value::Str {
                chars: sc,
                wild: sw,
            },
            t @ Value::Str { chars: tc, .. },
        ) => {
            if t.has_wildcards() {
                Undefined
            } else if s.has_wildcards() {
                if glob(sc, sw, tc) {
                    Superset
                } else {
                    Disjoint
                }
            } else if sc == tc {
                Equal
            } else {
                Disjoint
            }
        }
    }
}

/// Matches `target` against a pattern whose `wild` positions are `*` (any run) or `?` (one
/// character).
fn glob(pattern: &[char], wild: &[bool], target: &[char]) -> bool {
    let (mut p, mut t) = (0usize, 0usize);
    let (mut star, mut mark) = (None, 0usize);
    while t < target.len() {
        if p < pattern.len() && wild[p] && pattern[p] == '*' {
            star = Some(p);
            mark = t;
            p += 1;
        } else if p < pattern.len()
            && ((wild[p] && pattern[p] == '?') || (!wild[p] && pattern[p] == target[t]))
        {
            p += 1;
            t += 1;
        } else if let Some(s) = star {
            p = s + 1;
            mark += 1;
            t = mark;
        } else {
            return false;
        }
    }
    while p < pattern.len() && wild[p] && pattern[p] == '*' {
        p += 1;
    }
    p == pattern.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Wfn {
        Wfn::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn binds_both_forms_to_the_same_name() {
        let a = w("cpe:2.3:o:microsoft:windows_7:-:sp1:*:*:*:*:*:*");
        let b = w("cpe:/o:microsoft:windows_7:-:sp1");
        assert_eq!(a, b);
        assert_eq!(a.values[3], Value::Na);
        assert_eq!(
            w("cpe:/a:dendai.ac.jp:myjvn_api").vendor_product(),
            Some(("dendai.ac.jp".into(), "myjvn_api".into()))
        );
        let packed = w("cpe:/a:hp:insight_diagnostics:7.4.0.1570::~~online~win2003~x64~");
        assert_eq!(packed.values[7], Value::literal("online"));
        assert_eq!(packed.values[8], Value::literal("win2003"));
        assert_eq!(packed.values[9], Value::literal("x64"));
        assert_eq!(
            w("CPE:2.3:A:Apache:HTTP_Server:2.4.41:*:*:*:*:*:*:*"),
            w("cpe:2.3:a:apache:http_server:2.4.41:*:*:*:*:*:*:*")
        );
    }

    #[test]
    fn escapes_and_percent_encoding() {
        let a = w("cpe:2.3:a:foo\\:bar:baz\\!:1.0:*:*:*:*:*:*:*");
        assert_eq!(a.vendor_product(), Some(("foo:bar".into(), "baz!".into())));
        let b = w("cpe:/a:foo%3abar:baz%21:1.0");
        assert_eq!(a, b);
        assert!(Wfn::parse("cpe:/a:x:y%zz").is_err());
        assert!(Wfn::parse("cpe:2.3:a:x:y").is_err());
        assert!(Wfn::parse("cpe:2.3:q:x:y:*:*:*:*:*:*:*:*").is_err());
        assert!(Wfn::parse("fortios").is_err());
    }

    #[test]
    fn nistir_7696_relations() {
        use Relation::*;
        let l = Value::literal;
        assert_eq!(compare(&Value::Any, &l("6.0.4")), Superset);
        assert_eq!(compare(&Value::Any, &Value::Any), Equal);
        assert_eq!(compare(&Value::Na, &l("x")), Disjoint);
        assert_eq!(compare(&l("x"), &Value::Any), Subset);
        assert_eq!(compare(&l("6.0.4"), &l("6.0.4")), Equal);
        assert_eq!(compare(&l("6.0.4"), &l("6.0.5")), Disjoint);
        let star = w("cpe:2.3:o:fortinet:fortios:6.0.*:*:*:*:*:*:*:*").values[3].clone();
        assert_eq!(compare(&star, &l("6.0.4")), Superset);
        assert_eq!(compare(&star, &l("6.2.0")), Disjoint);
        assert_eq!(compare(&l("6.0.4"), &star), Undefined);
        let q = w("cpe:2.3:a:x:y:1.?:*:*:*:*:*:*:*").values[3].clone();
        assert_eq!(compare(&q, &l("1.5")), Superset);
        assert_eq!(compare(&q, &l("1.50")), Disjoint);
        let escaped_star = w("cpe:2.3:a:x:y:a\\*b:*:*:*:*:*:*:*").values[3].clone();
        assert_eq!(compare(&escaped_star, &l("a*b")), Equal);
        assert_eq!(compare(&escaped_star, &l("axxb")), Disjoint);
    }

    #[test]
    fn criteria_cover_systems() {
        let criterion = w("cpe:2.3:o:fortinet:fortios:*:*:*:*:*:*:*:*");
        let vpn = w("cpe:2.3:o:fortinet:fortios:6.0.4:*:*:*:*:*:*:*");
        assert!(criterion.matches(&vpn));
        assert!(
            !vpn.matches(&criterion),
            "a concrete name does not cover ANY"
        );
        assert!(!criterion.matches(&w("cpe:2.3:a:fortinet:fortiproxy:7.0.1:*:*:*:*:*:*:*")));
        assert_eq!(
            Wfn::from_parts('o', "Fortinet", "FortiOS", Some("6.0.4")),
            vpn,
            "ledger parts bind to the same name"
        );
        assert_eq!(
            w("cpe:/o:microsoft:windows_7::sp1").to_fs(),
            "cpe:2.3:o:microsoft:windows_7:*:sp1:*:*:*:*:*:*"
        );
    }
}
