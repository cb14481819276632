//! How urgent a finding is, and why.
//!
//! The score (0–100) is a sum of documented factors, each kept with its points so that "why
//! is this urgent?" is answered by the finding itself (`docs/matching.md` has the table):
//!
//! | factor | points |
//! |---|---|
//! | CVSS base score (highest of the record's metrics) | score × 4 (max 40) |
//! | in CISA KEV (exploited in the wild) | 30 |
//! | KEV: known ransomware use | 5 |
//! | EPSS probability | probability × 15 (max 15) |
//! | device reachable from outside (外部接続 or リモートメンテナンス) | 10 |
//! | device criticality 高 / 中 | 5 / 2 |
//! | device holds patient data | 3 |
//! | device past its support end (EOS) | 5 |
//!
//! Capped at 100. Levels: **緊急** (urgent) when in KEV or score ≥ 70, **高** ≥ 50,
//! **中** ≥ 30, else **低**. With no CVSS at all the score has no severity part and the
//! factor list says so.

use serde::{Deserialize, Serialize};

/// What is known about a finding for scoring.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Inputs {
    /// Highest CVSS base score of the vulnerability.
    pub cvss: Option<f64>,
    /// In CISA KEV.
    pub kev: bool,
    /// KEV says known ransomware use.
    pub ransomware: bool,
    /// EPSS probability (0–1).
    pub epss: Option<f64>,
    /// 外部接続 有 or リモートメンテナンス 有.
    pub exposed: bool,
    /// 重要度 as its code: `high`, `medium`, `low`.
    pub criticality: Option<String>,
    /// 患者情報 有.
    pub patient_data: bool,
    /// Past サポート終了日.
    pub past_eos: bool,
}

/// One part of a score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Factor {
    /// Stable code: `cvss`, `kev`, `ransomware`, `epss`, `exposed`, `criticality`,
    /// `patient_data`, `eos`, `no_cvss`.
    pub code: String,
    /// Points added.
    pub points: f64,
    /// The value behind it, e.g. `9.8` or `0.97`.
    pub detail: String,
}

pub use mamori_core::Level;

/// The level for a score: urgent when in KEV or ≥ 70, high ≥ 50, medium ≥ 30, else low.
pub fn level_of(score: f64, kev: bool) -> Level {
    if kev || score >= 70.0 {
        Level::Urgent
    } else if score >= 50.0 {
        Level::High
    } else if score >= 30.0 {
        Level::Medium
    } else {
        Level::Low
    }
}

/// A score with its explanation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Priority {
    /// 0–100, one decimal.
    pub score: f64,
    /// The level.
    pub level: Level,
    /// The factors, largest first.
    pub factors: Vec<Factor>,
}

/// Scores a finding.
pub fn score(i: &Inputs) -> Priority {
    let mut f = Vec::new();
    let mut add = |code: &str, points: f64, detail: String| {
        f.push(Factor {
            code: code.into(),
            points: (points * 10.0).round() / 10.0,
            detail,
        })
    };
    match i.cvss {
        Some(c) => add("cvss", c.clamp(0.0, 10.0) * 4.0, format!("{c:.1}")),
        None => add("no_cvss", 0.0, String::new()),
    }
    if i.kev {
        add("kev", 30.0, String::new());
    }
    if i.ransomware {
        add("ransomware", 5.0, String::new());
    }
    if let Some(e) = i.epss {
        add("epss", e.clamp(0.0, 1.0) * 15.0, format!("{e:.3}"));
    }
    if i.exposed {
        add("exposed", 10.0, String::new());
    }
    match i.criticality.as_deref() {
        Some("high") => add("criticality", 5.0, "high".into()),
        Some("medium") => add("criticality", 2.0, "medium".into()),
        _ => {}
    }
    if i.patient_data {
        add("patient_data", 3.0, String::new());
    }
    if i.past_eos {
        add("eos", 5.0, String::new());
    }
    let total: f64 = f.iter().map(|x| x.points).sum::<f64>().min(100.0);
    let total = (total * 10.0).round() / 10.0;
    f.sort_by(|a, b| b.points.total_cmp(&a.points));
    Priority {
        score: total,
        level: level_of(total, i.kev),
        factors: f,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kev_on_an_exposed_vpn_outranks_a_high_cvss_on_an_internal_pc() {
        let vpn = score(&Inputs {
            cvss: Some(9.8),
            kev: true,
            ransomware: true,
            epss: Some(0.97),
            exposed: true,
            criticality: Some("high".into()),
            ..Inputs::default()
        });
        assert_eq!(vpn.level, Level::Urgent);
        assert_eq!(vpn.score, 100.0);
        assert_eq!(vpn.factors[0].code, "cvss");
        let pc = score(&Inputs {
            cvss: Some(8.8),
            epss: Some(0.01),
            ..Inputs::default()
        });
        assert_eq!(pc.score, 35.4);
        assert_eq!(pc.level, Level::Medium);
        assert!(vpn.score > pc.score);
        // KEV alone is urgent whatever the sum.
        let kev = score(&Inputs {
            kev: true,
            ..Inputs::default()
        });
        assert_eq!((kev.score, kev.level), (30.0, Level::Urgent));
        assert!(kev.factors.iter().any(|f| f.code == "no_cvss"));
    }
}
