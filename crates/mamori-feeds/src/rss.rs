//! News-style alert feeds: RSS 1.0 (RDF; IPA 重要なセキュリティ情報, JPCERT/CC 注意喚起) and
//! RSS 2.0 (NISC and others). Each item becomes an [`Alert`] with the CVE ids named in it.

use mamori_core::vuln::{find_cve_ids, Alert};

use crate::time::parse_timestamp;
use crate::xml::{Ev, Pull};
use crate::{FeedError, Warning};

/// An alert feed.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AlertFeed {
    /// The channel's title.
    pub title: String,
    /// The items.
    pub alerts: Vec<Alert>,
    /// Items skipped (no link, unreadable date).
    pub warnings: Vec<Warning>,
}

/// Parses an RSS 1.0 (RDF) or RSS 2.0 document.
pub fn parse_alerts(bytes: &[u8]) -> Result<AlertFeed, FeedError> {
    let mut p = Pull::new(bytes)?;
    let root = loop {
        match p.next()? {
            Ev::Start(name, _) => break name,
            Ev::Eof => {
                return Err(FeedError::Format {
                    expected: "an RSS feed",
                    detail: "empty document".into(),
                })
            }
            _ => {}
        }
    };
    if root != "RDF" && root != "rss" {
        return Err(FeedError::Format {
            expected: "an RSS 1.0 or 2.0 feed",
            detail: format!("the root element is <{root}>"),
        });
    }
    let mut feed = AlertFeed::default();
    let mut depth_channel = false;
    let mut index = 0;
    loop {
        match p.next()? {
            Ev::Start(name, _) if name == "channel" => depth_channel = true,
            Ev::Start(name, _) if name == "title" && depth_channel && feed.title.is_empty() => {
                feed.title = p.text_of("title")?
            }
            Ev::Start(name, _) if name == "item" => {
                let (mut title, mut link, mut summary, mut date, mut guid) =
                    (String::new(), String::new(), None, None, None);
                loop {
                    match p.next()? {
                        Ev::Start(n, _) => {
                            let t = p.text_of(&n)?;
                            match n.as_str() {
                                "title" => title = t,
                                "link" => link = t,
                                "description" => summary = Some(t).filter(|s| !s.is_empty()),
                                "guid" => guid = Some(t),
                                "date" | "pubDate" | "issued" if date.is_none() => date = Some(t),
                                _ => {}
                            }
                        }
                        Ev::End(n) if n == "item" => break,
                        Ev::Eof => {
                            return Err(FeedError::Format {
                                expected: "an RSS feed",
                                detail: "<item> is not closed".into(),
                            })
                        }
                        _ => {}
                    }
                }
                let link = if link.is_empty() {
                    guid.unwrap_or_default()
                } else {
                    link
                };
                if link.is_empty() {
                    feed.warnings.push(Warning {
                        record: index,
                        id: Some(title.clone()),
                        message: "item without a link".into(),
                        skipped: true,
                    });
                    index += 1;
                    continue;
                }
                let published = match date.as_deref() {
                    None => None,
                    Some(d) => match parse_timestamp(d).or_else(|| {
                        chrono::DateTime::parse_from_rfc2822(d.trim())
                            .ok()
                            .map(|t| t.with_timezone(&chrono::Utc))
                    }) {
                        Some(t) => Some(t),
                        None => {
                            feed.warnings.push(Warning {
                                record: index,
                                id: Some(link.clone()),
                                message: format!("date {d:?} is not a date"),
                                skipped: true,
                            });
                            index += 1;
                            continue;
                        }
                    },
                };
                let cves = find_cve_ids(&format!("{title}\n{}", summary.as_deref().unwrap_or("")));
                feed.alerts.push(Alert {
                    link,
                    feed: String::new(),
                    title,
                    summary,
                    published,
                    cves,
                });
                index += 1;
            }
            Ev::Eof => break,
            _ => {}
        }
    }
    let title = feed.title.clone();
    for a in &mut feed.alerts {
        a.feed = title.clone();
    }
    Ok(feed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rss2_with_rfc2822_dates() {
        let xml = r#"<?xml version="1.0"?><rss version="2.0"><channel><title>NISC 注意喚起</title>
          <item><title>VPN 装置の脆弱性 (CVE-2024-21762)</title><link>https://example.invalid/a</link><pubDate>Fri, 09 Feb 2024 10:00:00 +0900</pubDate></item>
          <item><title>no link</title></item></channel></rss>"#;
        let f = parse_alerts(xml.as_bytes()).unwrap();
        assert_eq!(f.title, "NISC 注意喚起");
        assert_eq!(f.alerts.len(), 1);
        assert_eq!(f.alerts[0].cves, vec!["CVE-2024-21762"]);
        assert_eq!(
            f.alerts[0].published.unwrap().to_rfc3339(),
            "2024-02-09T01:00:00+00:00"
        );
        assert_eq!(f.warnings.len(), 1);
        assert!(parse_alerts(b"<feed/>").is_err());
    }
}
