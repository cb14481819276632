//! Comparing versions as vendors write them, and saying "cannot compare" instead of guessing.
//!
//! [`compare`] with [`Scheme::Generic`] splits a version into runs of digits and runs of
//! letters (separators `.`, `-`, `_`, `+`, `(`, `)`, `:` and spaces only split), then compares
//! run by run: numbers numerically, words case-insensitively. It reads dotted numerics
//! (`6.0.4` < `6.0.10`), Windows builds (`10.0.19045.3570`), FortiOS, Cisco IOS (`15.2(4)M` <
//! `15.2(4)M1` < `15.2(7)E4`), Junos (`15.1R7` < `15.1R7-S2`) and pre-releases (`1.0.0-rc1` <
//! `1.0.0`; `alpha` < `beta` < `pre` < `rc`).
//!
//! **The rule when versions cannot be compared**: where one version has a number and the other
//! a word at the same place (and the word is not a pre-release marker), or both have different
//! words, the answer is `None` — e.g. `7.4p1` against `7.4.1`, or Cisco trains `15.2(4)M` vs
//! `15.2(4)E`. Matching must then report the finding as 要確認 (to be confirmed), never as a
//! definite match or non-match. [`Scheme::Debian`] and [`Scheme::Rpm`] follow dpkg's and rpm's own
//! ordering (`~` sorts first; epochs; revisions) and always compare.

use std::cmp::Ordering;

/// How to read versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// Vendors' dotted and train-style versions.
    Generic,
    /// Debian package versions (`[epoch:]upstream[-revision]`).
    Debian,
    /// RPM package versions (`[epoch:]version[-release]`).
    Rpm,
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Num(u128),
    Word(String),
}

fn tokens(v: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let flush = |cur: &mut String, out: &mut Vec<Token>| {
        if cur.is_empty() {
            return;
        }
        if cur.chars().all(|c| c.is_ascii_digit()) {
            // Very long digit runs (hashes) are compared as words to avoid overflow.
            match cur.parse::<u128>() {
                Ok(n) => out.push(Token::Num(n)),
                Err(_) => out.push(Token::Word(cur.clone())),
            }
        } else {
            out.push(Token::Word(cur.to_ascii_lowercase()));
        }
        cur.clear();
    };
    for c in v.trim().chars() {
        let kind_changes = cur
            .chars()
            .last()
            .is_some_and(|p| p.is_ascii_digit() != c.is_ascii_digit());
        if !c.is_ascii_alphanumeric() {
            flush(&mut cur, &mut out);
        } else {
            if kind_changes {
                flush(&mut cur, &mut out);
            }
            cur.push(c);
        }
    }
    flush(&mut cur, &mut out);
    out
}

/// Rank of a pre-release marker (lower is earlier), if the word is one.
fn prerelease(word: &str) -> Option<u8> {
    Some(match word {
        "dev" | "snapshot" => 0,
        "a" | "alpha" => 1,
        "b" | "beta" => 2,
        "pre" | "preview" => 3,
        "rc" | "cr" => 4,
        _ => return None,
    })
}

fn generic(a: &str, b: &str) -> Option<Ordering> {
    let (ta, tb) = (tokens(a), tokens(b));
    if ta.is_empty() || tb.is_empty() {
        return None;
    }
    for i in 0..ta.len().max(tb.len()) {
        match (ta.get(i), tb.get(i)) {
            (Some(Token::Num(x)), Some(Token::Num(y))) => match x.cmp(y) {
                Ordering::Equal => continue,
                o => return Some(o),
            },
            (Some(Token::Word(x)), Some(Token::Word(y))) => {
                if x == y {
                    continue;
                }
                return match (prerelease(x), prerelease(y)) {
                    (Some(p), Some(q)) => Some(p.cmp(&q)),
                    _ => None, // different trains or words: not comparable
                };
            }
            (Some(Token::Word(x)), Some(Token::Num(_))) => {
                return prerelease(x).map(|_| Ordering::Less)
            }
            (Some(Token::Num(_)), Some(Token::Word(y))) => {
                return prerelease(y).map(|_| Ordering::Greater)
            }
            // One version goes on: a trailing pre-release marker makes it earlier, anything
            // else (a patch number, a service release such as Junos "S2") later.
            (Some(Token::Word(x)), None) if prerelease(x).is_some() => return Some(Ordering::Less),
            (None, Some(Token::Word(y))) if prerelease(y).is_some() => {
                return Some(Ordering::Greater)
            }
            (Some(_), None) => return Some(Ordering::Greater),
            (None, Some(_)) => return Some(Ordering::Less),
            (None, None) => unreachable!("the loop stops at the longer length"),
        }
    }
    Some(Ordering::Equal)
}

/// dpkg's `verrevcmp` on one part (upstream or revision).
fn dpkg_part(a: &str, b: &str) -> Ordering {
    fn order(c: Option<char>) -> i32 {
        match c {
            None => 0,
            Some('~') => -1,
            Some(c) if c.is_ascii_digit() => 0,
            Some(c) if c.is_ascii_alphabetic() => c as i32,
            Some(c) => c as i32 + 256,
        }
    }
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        let mut first_diff = 0;
        while (i < a.len() && !a[i].is_ascii_digit()) || (j < b.len() && !b[j].is_ascii_digit()) {
            let ac = order(a.get(i).copied());
            let bc = order(b.get(j).copied());
            if ac != bc {
                return ac.cmp(&bc);
            }
            i += 1;
            j += 1;
        }
        while i < a.len() && a[i] == '0' {
            i += 1;
        }
        while j < b.len() && b[j] == '0' {
            j += 1;
        }
        while i < a.len() && a[i].is_ascii_digit() && j < b.len() && b[j].is_ascii_digit() {
            if first_diff == 0 {
                first_diff = a[i] as i32 - b[j] as i32;
            }
            i += 1;
            j += 1;
        }
        if i < a.len() && a[i].is_ascii_digit() {
            return Ordering::Greater;
        }
        if j < b.len() && b[j].is_ascii_digit() {
            return Ordering::Less;
        }
        if first_diff != 0 {
            return first_diff.cmp(&0);
        }
    }
    Ordering::Equal
}

fn split_epoch(v: &str) -> (u64, &str) {
    match v.split_once(':') {
        Some((e, rest)) if e.chars().all(|c| c.is_ascii_digit()) && !e.is_empty() => {
            (e.parse().unwrap_or(0), rest)
        }
        _ => (0, v),
    }
}

fn debian(a: &str, b: &str) -> Ordering {
    let ((ea, a), (eb, b)) = (split_epoch(a.trim()), split_epoch(b.trim()));
    let split = |v: &str| -> (String, String) {
        match v.rsplit_once('-') {
            Some((up, rev)) => (up.to_string(), rev.to_string()),
            None => (v.to_string(), String::new()),
        }
    };
    let ((ua, ra), (ub, rb)) = (split(a), split(b));
    ea.cmp(&eb)
        .then_with(|| dpkg_part(&ua, &ub))
        .then_with(|| dpkg_part(&ra, &rb))
}

/// rpm's `rpmvercmp` on one part.
fn rpm_part(a: &str, b: &str) -> Ordering {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let (mut i, mut j) = (0, 0);
    loop {
        while i < a.len() && !a[i].is_ascii_alphanumeric() && a[i] != '~' {
            i += 1;
        }
        while j < b.len() && !b[j].is_ascii_alphanumeric() && b[j] != '~' {
            j += 1;
        }
        let (at, bt) = (a.get(i) == Some(&'~'), b.get(j) == Some(&'~'));
        if at || bt {
            if !(at && bt) {
                return if at {
                    Ordering::Less
                } else {
                    Ordering::Greater
                };
            }
            i += 1;
            j += 1;
            continue;
        }
        if i >= a.len() || j >= b.len() {
            break;
        }
        let numeric = a[i].is_ascii_digit();
        let take = |v: &[char], mut k: usize| {
            let start = k;
            while k < v.len()
                && (if numeric {
                    v[k].is_ascii_digit()
                } else {
                    v[k].is_ascii_alphabetic()
                })
            {
                k += 1;
            }
            (v[start..k].iter().collect::<String>(), k)
        };
        let (sa, ni) = take(&a, i);
        let (sb, nj) = take(&b, j);
        if sb.is_empty() {
            return if numeric {
                Ordering::Greater
            } else {
                Ordering::Less
            };
        }
        let o = if numeric {
            let (x, y) = (sa.trim_start_matches('0'), sb.trim_start_matches('0'));
            x.len().cmp(&y.len()).then_with(|| x.cmp(y))
        } else {
            sa.cmp(&sb)
        };
        if o != Ordering::Equal {
            return o;
        }
        i = ni;
        j = nj;
    }
    (a.len() - i.min(a.len())).cmp(&(b.len() - j.min(b.len())))
}

fn rpm(a: &str, b: &str) -> Ordering {
    let ((ea, a), (eb, b)) = (split_epoch(a.trim()), split_epoch(b.trim()));
    let split = |v: &str| -> (String, String) {
        match v.rsplit_once('-') {
            Some((ver, rel)) => (ver.to_string(), rel.to_string()),
            None => (v.to_string(), String::new()),
        }
    };
    let ((va, ra), (vb, rb)) = (split(a), split(b));
    ea.cmp(&eb).then_with(|| rpm_part(&va, &vb)).then_with(|| {
        if ra.is_empty() || rb.is_empty() {
            Ordering::Equal
        } else {
            rpm_part(&ra, &rb)
        }
    })
}

/// Compares two versions; `None` means they cannot be compared (see the module's rule).
pub fn compare(a: &str, b: &str, scheme: Scheme) -> Option<Ordering> {
    match scheme {
        Scheme::Generic => generic(a, b),
        Scheme::Debian => Some(debian(a, b)),
        Scheme::Rpm => Some(rpm(a, b)),
    }
}

/// Whether `version` is inside NVD-style bounds; `None` when any needed comparison cannot be
/// made. Absent bounds do not restrict.
pub fn in_range(
    version: &str,
    start_including: Option<&str>,
    start_excluding: Option<&str>,
    end_including: Option<&str>,
    end_excluding: Option<&str>,
    scheme: Scheme,
) -> Option<bool> {
    let checks = [
        start_including.map(|b| compare(version, b, scheme).map(|o| o != Ordering::Less)),
        start_excluding.map(|b| compare(version, b, scheme).map(|o| o == Ordering::Greater)),
        end_including.map(|b| compare(version, b, scheme).map(|o| o != Ordering::Greater)),
        end_excluding.map(|b| compare(version, b, scheme).map(|o| o == Ordering::Less)),
    ];
    let mut unknown = false;
    for c in checks.into_iter().flatten() {
        match c {
            Some(false) => return Some(false),
            Some(true) => {}
            None => unknown = true,
        }
    }
    if unknown {
        None
    } else {
        Some(true)
    }
}

/// Bounds read from an affected-version text as JVN and CSAF write them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bounds {
    /// From this version, inclusive.
    pub start_including: Option<String>,
    /// After this version.
    pub start_excluding: Option<String>,
    /// Up to this version, inclusive.
    pub end_including: Option<String>,
    /// Before this version.
    pub end_excluding: Option<String>,
    /// Exactly this version.
    pub exact: Option<String>,
}

impl Bounds {
    /// Whether these bounds hold for every version (nothing bounded).
    pub fn is_all(&self) -> bool {
        *self == Bounds::default()
    }

    /// Whether `version` is inside; `None` when it cannot be compared.
    pub fn contains(&self, version: &str, scheme: Scheme) -> Option<bool> {
        if let Some(e) = &self.exact {
            return compare(version, e, scheme).map(|o| o == Ordering::Equal);
        }
        in_range(
            version,
            self.start_including.as_deref(),
            self.start_excluding.as_deref(),
            self.end_including.as_deref(),
            self.end_excluding.as_deref(),
            scheme,
        )
    }
}

/// Reads the simple affected-version texts of JVN and CSAF: `6.0.4 およびそれ以前`,
/// `6.0.4 以前`, `5.8 未満`, `6.2 より前`, `<= 2.0.14.0`, `< 3`, `>= 1.0, < 2.0`,
/// `vers:generic/>=1.0|<2.0`, `1.0 から 1.4`, or a bare version; "every version"
/// (`vers:all/*`, `*`, `All versions`, `すべてのバージョン`, `全バージョン`) gives bounds that
/// hold for any version ([`Bounds::is_all`]). Anything else (prose, a product name with no
/// version) gives `None`: the caller then has no version data and must say so (要確認).
pub fn parse_affected(text: &str) -> Option<Bounds> {
    let t = text.trim();
    if matches!(
        t.to_lowercase().as_str(),
        "*" | "vers:all/*" | "all versions" | "all" | "すべてのバージョン" | "全バージョン"
    ) {
        return Some(Bounds::default());
    }
    let t = t
        .strip_prefix("vers:")
        .map(|r| r.split_once('/').map_or(r, |(_, v)| v))
        .unwrap_or(t);
    let is_version = |v: &str| {
        let v = v.trim();
        !v.is_empty()
            && v.starts_with(|c: char| c.is_ascii_digit() || c == 'v' || c == 'V')
            && v.chars().any(|c| c.is_ascii_digit())
            && !v.contains(char::is_whitespace)
    };
    let clean = |v: &str| v.trim().trim_start_matches(['v', 'V']).to_string();
    let mut b = Bounds::default();
    let parts: Vec<&str> = t
        .split(['|', ',', '、'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    if parts.is_empty() {
        return None;
    }
    for p in parts {
        let (op, v) = if let Some(v) = p.strip_prefix("<=") {
            ("<=", v)
        } else if let Some(v) = p.strip_prefix(">=") {
            (">=", v)
        } else if let Some(v) = p.strip_prefix('<') {
            ("<", v)
        } else if let Some(v) = p.strip_prefix('>') {
            (">", v)
        } else if let Some(v) = p.strip_prefix('=') {
            ("=", v)
        } else if let Some(v) = p
            .strip_suffix("およびそれ以前")
            .or_else(|| p.strip_suffix("およびそれ以前のバージョン"))
            .or_else(|| p.strip_suffix("以前"))
            .or_else(|| p.strip_suffix("and earlier"))
            .or_else(|| p.strip_suffix("and prior"))
            .or_else(|| p.strip_suffix("and prior versions"))
        {
            ("<=", v)
        } else if let Some(v) = p
            .strip_suffix("未満")
            .or_else(|| p.strip_suffix("より前"))
            .or_else(|| p.strip_suffix("より前のバージョン"))
        {
            ("<", v)
        } else if let Some(v) = p
            .strip_suffix("およびそれ以降")
            .or_else(|| p.strip_suffix("以降"))
            .or_else(|| p.strip_suffix("and later"))
        {
            (">=", v)
        } else if let Some((a, z)) = p.split_once("から").or_else(|| p.split_once(" - ")) {
            let z = z.trim().trim_end_matches("まで");
            if is_version(a) && is_version(z) {
                b.start_including = Some(clean(a));
                b.end_including = Some(clean(z));
                continue;
            }
            return None;
        } else {
            ("=", p)
        };
        let v = v.trim().trim_start_matches("バージョン").trim();
        if !is_version(v) {
            return None;
        }
        let v = clean(v);
        match op {
            "<=" => b.end_including = Some(v),
            "<" => b.end_excluding = Some(v),
            ">=" => b.start_including = Some(v),
            ">" => b.start_excluding = Some(v),
            _ => b.exact = Some(v),
        }
    }
    Some(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::*;

    fn g(a: &str, b: &str) -> Option<Ordering> {
        compare(a, b, Scheme::Generic)
    }

    #[test]
    fn dotted_builds_and_vendor_trains() {
        assert_eq!(g("6.0.4", "6.0.10"), Some(Less));
        assert_eq!(g("6.0.4", "6.0.4"), Some(Equal));
        assert_eq!(g("7.2.5", "7.2"), Some(Greater));
        assert_eq!(g("10.0.19045.3570", "10.0.19045.4046"), Some(Less));
        assert_eq!(g("15.2(4)M", "15.2(4)M1"), Some(Less));
        assert_eq!(g("15.2(4)M1", "15.2(7)E4"), Some(Less));
        assert_eq!(g("15.1R7", "15.1R7-S2"), Some(Less));
        assert_eq!(g("15.1R7-S2", "15.1R7-S10"), Some(Less));
        assert_eq!(g("9.1R8", "9.1R11.4"), Some(Less));
        assert_eq!(g("V1.2", "v1.2"), Some(Equal));
    }

    #[test]
    fn prereleases_sort_before_releases() {
        assert_eq!(g("1.0.0-rc1", "1.0.0"), Some(Less));
        assert_eq!(g("1.0.0-alpha", "1.0.0-beta"), Some(Less));
        assert_eq!(g("1.0.0-beta2", "1.0.0-rc1"), Some(Less));
        assert_eq!(g("1.0.0", "1.0.0-rc1"), Some(Greater));
        assert_eq!(g("2.0b1", "2.0"), Some(Less));
    }

    #[test]
    fn what_cannot_be_compared_says_so() {
        assert_eq!(g("7.4p1", "7.4.1"), None);
        assert_eq!(g("15.2(4)M", "15.2(4)E"), None);
        assert_eq!(g("", "1.0"), None);
        assert_eq!(g("sp1", "r2"), None);
        assert_eq!(
            in_range(
                "7.4p1",
                Some("7.0"),
                None,
                None,
                Some("7.4.1"),
                Scheme::Generic
            ),
            None
        );
        assert_eq!(
            in_range(
                "6.0.4",
                Some("6.0.0"),
                None,
                Some("6.0.4"),
                None,
                Scheme::Generic
            ),
            Some(true)
        );
        assert_eq!(
            in_range(
                "6.2.0",
                Some("6.0.0"),
                None,
                Some("6.0.4"),
                None,
                Scheme::Generic
            ),
            Some(false)
        );
        assert_eq!(
            in_range("5.5.35", None, None, None, Some("5.5.35"), Scheme::Generic),
            Some(false)
        );
        assert_eq!(
            in_range("anything", None, None, None, None, Scheme::Generic),
            Some(true)
        );
    }

    #[test]
    fn affected_texts_as_jvn_and_csaf_write_them() {
        let b = parse_affected("6.0.4 およびそれ以前").unwrap();
        assert_eq!(b.end_including.as_deref(), Some("6.0.4"));
        assert_eq!(b.contains("6.0.4", Scheme::Generic), Some(true));
        assert_eq!(b.contains("6.0.5", Scheme::Generic), Some(false));
        let b = parse_affected("5.8 未満").unwrap();
        assert_eq!(b.contains("5.8", Scheme::Generic), Some(false));
        let b = parse_affected("<= 2.0.14.0").unwrap();
        assert_eq!(b.contains("2.0.14.0", Scheme::Generic), Some(true));
        let b = parse_affected("vers:generic/>=1.0|<2.0").unwrap();
        assert_eq!(b.contains("1.5", Scheme::Generic), Some(true));
        assert_eq!(b.contains("2.0", Scheme::Generic), Some(false));
        let b = parse_affected("1.0 から 1.4").unwrap();
        assert_eq!(b.contains("1.4", Scheme::Generic), Some(true));
        assert_eq!(parse_affected("3.2").unwrap().exact.as_deref(), Some("3.2"));
        for all in ["すべてのバージョン", "vers:all/*", "All versions", "*"] {
            let b = parse_affected(all).unwrap();
            assert!(b.is_all(), "{all}");
            assert_eq!(b.contains("1.0", Scheme::Generic), Some(true), "{all}");
        }
        assert!(!parse_affected("< 3.0").unwrap().is_all());
        assert_eq!(parse_affected("Firmware Version 4.x Build 1577"), None);
        assert_eq!(parse_affected(""), None);
    }

    #[test]
    fn debian_and_rpm_orderings() {
        let d = |a, b| compare(a, b, Scheme::Debian);
        assert_eq!(d("1.0~rc1-1", "1.0-1"), Some(Less));
        assert_eq!(d("1:0.9", "2.0"), Some(Greater));
        assert_eq!(d("2.4.41-4ubuntu3", "2.4.41-4ubuntu3.14"), Some(Less));
        assert_eq!(d("1.2.3-1", "1.2.3-1"), Some(Equal));
        assert_eq!(d("1.0a", "1.0"), Some(Greater));
        assert_eq!(d("1.0+b1", "1.0"), Some(Greater));
        let r = |a, b| compare(a, b, Scheme::Rpm);
        assert_eq!(r("1.0.1e-57.el6", "1.0.1e-58.el6"), Some(Less));
        assert_eq!(r("2.17-317.el7", "2.17-55.el7"), Some(Greater));
        assert_eq!(r("1.0~rc1", "1.0"), Some(Less));
        assert_eq!(r("1:1.0", "2.0"), Some(Greater));
        assert_eq!(r("1.0a", "1.0b"), Some(Less));
    }
}
