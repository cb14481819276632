//! FIRST EPSS scores (CSV): `cve,epss[,percentile]`, optionally after a
//! `#model_version:…,score_date:…` comment line.

use mamori_core::vuln::EpssScore;

use crate::{FeedError, Warning};

/// An EPSS file.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EpssFile {
    /// e.g. `v2023.03.01`, when the file says.
    pub model_version: Option<String>,
    /// e.g. `2023-03-07T00:00:00+0000`, when the file says.
    pub score_date: Option<String>,
    /// (CVE id, score), in file order.
    pub scores: Vec<(String, EpssScore)>,
    /// Rows skipped.
    pub warnings: Vec<Warning>,
}

/// Parses an EPSS CSV (already decompressed).
pub fn parse_epss(bytes: &[u8]) -> Result<EpssFile, FeedError> {
    let text = std::str::from_utf8(bytes).map_err(|e| FeedError::Csv {
        line: bytes[..e.valid_up_to()]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1,
        message: "not UTF-8 text".into(),
    })?;
    let mut out = EpssFile::default();
    let mut lines = text.lines().enumerate().peekable();
    if let Some((_, first)) = lines.peek() {
        if let Some(comment) = first.strip_prefix('#') {
            for part in comment.split(',') {
                if let Some((k, v)) = part.split_once(':') {
                    match k.trim() {
                        "model_version" => out.model_version = Some(v.trim().to_string()),
                        "score_date" => out.score_date = Some(v.trim().to_string()),
                        _ => {}
                    }
                }
            }
            lines.next();
        }
    }
    let (header_line, header) = lines.next().ok_or(FeedError::Csv {
        line: 1,
        message: "empty file".into(),
    })?;
    let cols: Vec<&str> = header.split(',').map(str::trim).collect();
    let col = |name: &str| cols.iter().position(|c| c.eq_ignore_ascii_case(name));
    let (Some(cve_col), Some(epss_col)) = (col("cve"), col("epss")) else {
        return Err(FeedError::Format {
            expected: "an EPSS CSV",
            detail: format!(
                "line {}: header {header:?} lacks cve and epss columns",
                header_line + 1
            ),
        });
    };
    let pct_col = col("percentile");
    for (i, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let cve = fields.get(cve_col).copied().unwrap_or("");
        let parse = |c: Option<usize>| {
            c.and_then(|c| fields.get(c))
                .and_then(|f| f.parse::<f64>().ok())
                .filter(|v| (0.0..=1.0).contains(v))
        };
        match (cve.starts_with("CVE-"), parse(Some(epss_col))) {
            (true, Some(epss)) => out.scores.push((
                cve.to_string(),
                EpssScore {
                    epss,
                    percentile: parse(pct_col),
                },
            )),
            _ => out.warnings.push(Warning {
                record: i,
                id: (!cve.is_empty()).then(|| cve.to_string()),
                message: format!(
                    "line {}: {line:?} is not `CVE-…,score` with a score from 0 to 1",
                    i + 1
                ),
                skipped: true,
            }),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_three_header_variants() {
        let a = parse_epss(b"cve,epss\nCVE-2021-0001,0.01\n").unwrap();
        assert_eq!((a.scores.len(), a.scores[0].1.percentile), (1, None));
        let b = parse_epss(b"cve,epss,percentile\nCVE-2021-0001,0.5,0.9\n").unwrap();
        assert_eq!(b.scores[0].1.percentile, Some(0.9));
        let c = parse_epss(b"#model_version:v2023.03.01,score_date:2023-03-07T00:00:00+0000\ncve,epss,percentile\nCVE-2021-0001,0.5,0.9\nbroken,x\n").unwrap();
        assert_eq!(c.model_version.as_deref(), Some("v2023.03.01"));
        assert_eq!(c.score_date.as_deref(), Some("2023-03-07T00:00:00+0000"));
        assert_eq!((c.scores.len(), c.warnings.len()), (1, 1));
        assert!(parse_epss(b"a,b\n1,2\n").is_err());
        assert!(parse_epss(b"").is_err());
    }
}
