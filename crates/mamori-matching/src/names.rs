//! Matching products by name, for advisories that name them without a CPE (CISA's ICSMA
//! medical advisories: vendor `Philips`, product `IntelliVue MX40`).
//!
//! Names are compared as sets of words: lower-cased, full-width folded, split at anything
//! that is not a letter or digit, company-form words (`Inc`, `Co`, `Ltd`, `株式会社`, …)
//! dropped. A vendor matches when the words of one name are all among the words of the
//! other (`GE Healthcare` ~ `GE Healthcare Japan`). A product matches when the words of the
//! shorter name are all among the words of the longer one and the shorter name is specific:
//! two words or more, or one word with a digit (`Vivid 7` ~ `Vivid 7`, `MX40` ≁ `MX400`,
//! `Monitor` alone never). Matches by name are never certain: callers mark them for
//! confirmation (要確認) unless a version settles them.

/// Words that say what kind of company a name is, not which.
const COMPANY_WORDS: &[&str] = &[
    "inc",
    "incorporated",
    "co",
    "corp",
    "corporation",
    "company",
    "ltd",
    "limited",
    "llc",
    "gmbh",
    "ag",
    "sa",
    "kk",
    "plc",
    "the",
    "株式会社",
    "有限会社",
    "合同会社",
];

/// The words of a name, as compared.
pub fn words(name: &str) -> Vec<String> {
    let folded: String = name
        .chars()
        .map(|c| match c {
            // Full-width ASCII (Ｇ, １) to half-width.
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .collect::<String>()
        .to_lowercase();
    let mut out: Vec<String> = folded
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty() && !COMPANY_WORDS.contains(w))
        .map(str::to_string)
        .collect();
    out.dedup();
    out
}

fn subset(small: &[String], large: &[String]) -> bool {
    !small.is_empty() && small.iter().all(|w| large.contains(w))
}

/// Whether two vendor names name the same company.
pub fn same_vendor(a: &str, b: &str) -> bool {
    let (a, b) = (words(a), words(b));
    subset(&a, &b) || subset(&b, &a)
}

/// Whether a device's product name (model or device name) and an advisory's product name
/// name the same product.
pub fn same_product(device: &str, advisory: &str) -> bool {
    let (d, a) = (words(device), words(advisory));
    let (small, large) = if d.len() <= a.len() {
        (&d, &a)
    } else {
        (&a, &d)
    };
    let specific = small.len() >= 2 || small.iter().any(|w| w.chars().any(|c| c.is_ascii_digit()));
    specific && subset(small, large)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vendors_match_by_their_words() {
        assert!(same_vendor("GE Healthcare", "GE Healthcare Japan"));
        assert!(same_vendor("Philips", "Philips"));
        assert!(same_vendor("ＢＤ", "Becton, Dickinson and Company (BD)"));
        assert!(same_vendor("Medtronic Inc.", "Medtronic"));
        assert!(!same_vendor("Philips", "GE Healthcare"));
        assert!(!same_vendor("株式会社", "Philips"));
    }

    #[test]
    fn products_match_only_when_specific() {
        assert!(same_product("Vivid 7", "Vivid 7"));
        assert!(same_product(
            "Alaris Gateway Workstation",
            "Alaris Gateway Workstation"
        ));
        assert!(same_product(
            "AnyDana-i",
            "AnyDana-i: All versions prior to 3.0"
        ));
        assert!(same_product("MX40", "IntelliVue MX40 Patient Worn Monitor"));
        assert!(!same_product(
            "MX40",
            "IntelliVue Patient Monitors MX (MX400-550)"
        ));
        assert!(!same_product("Monitor", "IntelliVue Patient Monitor"));
        assert!(!same_product("", "Vivid 7"));
    }
}
