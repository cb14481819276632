//! A small, strict pull layer over quick-xml shared by the XML feed parsers.
//!
//! Safety: a document with a DOCTYPE is refused (no entity declarations, so no "billion
//! laughs" and no external entities); only XML's five predefined entities and numeric
//! character references are resolved; anything else is an error. Element names are
//! compared by local name, so namespace prefixes do not matter.

use quick_xml::events::Event;
use quick_xml::Reader;

use crate::FeedError;

/// One event, simplified.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Ev {
    /// An element opens: local name and attributes (local name, value).
    Start(String, Vec<(String, String)>),
    /// An element closes: local name.
    End(String),
    /// Text (entity references resolved, adjacent pieces joined).
    Text(String),
    /// End of the document.
    Eof,
}

/// Pulls [`Ev`]s from a document held in memory.
pub(crate) struct Pull<'a> {
    reader: Reader<&'a [u8]>,
    pending: std::collections::VecDeque<Ev>,
    depth: usize,
}

fn err(reader_pos: u64, message: impl Into<String>) -> FeedError {
    FeedError::Format {
        expected: "well-formed XML",
        detail: format!("at byte {reader_pos}: {}", message.into()),
    }
}

fn local(name: &[u8]) -> String {
    let name = String::from_utf8_lossy(name);
    match name.rsplit_once(':') {
        Some((_, l)) => l.to_string(),
        None => name.into_owned(),
    }
}

impl<'a> Pull<'a> {
    /// Starts reading `bytes` (UTF-8; a BOM is allowed).
    pub(crate) fn new(bytes: &'a [u8]) -> Result<Pull<'a>, FeedError> {
        let bytes = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
        if let Err(e) = std::str::from_utf8(bytes) {
            return Err(err(e.valid_up_to() as u64, "not UTF-8 text"));
        }
        let mut reader = Reader::from_reader(bytes);
        reader.config_mut().trim_text(false);
        reader.config_mut().check_end_names = true;
        Ok(Pull {
            reader,
            pending: std::collections::VecDeque::new(),
            depth: 0,
        })
    }

    /// The byte position, for messages.
    pub(crate) fn position(&self) -> u64 {
        self.reader.buffer_position()
    }

    fn raw(&mut self) -> Result<Ev, FeedError> {
        loop {
            let pos = self.reader.buffer_position();
            let event = self
                .reader
                .read_event()
                .map_err(|e| err(pos, e.to_string()))?;
            return Ok(match event {
                Event::Start(s) => {
                    self.depth += 1;
                    Ev::Start(local(s.name().as_ref()), attrs(&s, pos)?)
                }
                Event::Empty(s) => {
                    // Reported as a start immediately followed by its end.
                    let name = local(s.name().as_ref());
                    self.pending.push_back(Ev::End(name.clone()));
                    Ev::Start(name, attrs(&s, pos)?)
                }
                Event::End(e) => {
                    self.depth = self.depth.saturating_sub(1);
                    Ev::End(local(e.name().as_ref()))
                }
                Event::Text(t) => Ev::Text(t.decode().map_err(|e| err(pos, e.to_string()))?.into_owned()),
                Event::CData(c) => Ev::Text(String::from_utf8_lossy(&c).into_owned()),
                Event::GeneralRef(r) => {
                    let name = r.decode().map_err(|e| err(pos, e.to_string()))?.into_owned();
                    Ev::Text(resolve_entity(&name).ok_or_else(|| {
                        err(pos, format!("undeclared entity &{name}; (only &amp; &lt; &gt; &quot; &apos; and &#…; are accepted)"))
                    })?)
                }
                Event::DocType(_) => {
                    return Err(err(pos, "the document has a DOCTYPE; documents with DOCTYPE or entity declarations are refused for safety"))
                }
                Event::Eof => {
                    if self.depth > 0 {
                        return Err(err(pos, "the document ends before its elements close (truncated?)"));
                    }
                    Ev::Eof
                }
                Event::Decl(_) | Event::PI(_) | Event::Comment(_) => continue,
            });
        }
    }

    /// The next event; adjacent text pieces are joined into one.
    pub(crate) fn next(&mut self) -> Result<Ev, FeedError> {
        let ev = self.pull()?;
        if let Ev::Text(mut text) = ev {
            loop {
                match self.pull()? {
                    Ev::Text(more) => text.push_str(&more),
                    other => {
                        self.pending.push_front(other);
                        return Ok(Ev::Text(text));
                    }
                }
            }
        }
        Ok(ev)
    }

    fn pull(&mut self) -> Result<Ev, FeedError> {
        match self.pending.pop_front() {
            Some(e) => Ok(e),
            None => self.raw(),
        }
    }

    /// The text content of the element just opened (named `name`), up to its end;
    /// nested elements' text is included.
    pub(crate) fn text_of(&mut self, name: &str) -> Result<String, FeedError> {
        let mut out = String::new();
        let mut depth = 0usize;
        loop {
            match self.next()? {
                Ev::Text(t) => out.push_str(&t),
                Ev::Start(..) => depth += 1,
                Ev::End(_) => {
                    if depth == 0 {
                        return Ok(out.trim().to_string());
                    }
                    depth -= 1;
                }
                Ev::Eof => return Err(err(self.position(), format!("<{name}> is not closed"))),
            }
        }
    }

    /// Skips the rest of the element just opened.
    pub(crate) fn skip(&mut self, name: &str) -> Result<(), FeedError> {
        self.text_of(name).map(|_| ())
    }
}

/// The most attributes one element may carry.
const MAX_ATTRIBUTES: usize = 64;

/// Attributes of an element. Unquoted values (`retCd= 0`) are accepted: MyJVN's own
/// published example `dataFeed_jvndb_rss_hnd.xml` has one in its status element. Only the
/// attribute syntax is relaxed; element structure stays strict.
fn attrs(
    s: &quick_xml::events::BytesStart<'_>,
    pos: u64,
) -> Result<Vec<(String, String)>, FeedError> {
    let mut out = Vec::new();
    // quick-xml's duplicate check compares every attribute with every other (100,000
    // attributes: seconds of CPU); no feed element has more than a handful, so past
    // MAX_ATTRIBUTES the element is refused, and duplicates are checked by name here.
    let mut seen = std::collections::HashSet::new();
    for a in s.html_attributes().with_checks(false) {
        let a = a.map_err(|e| err(pos, e.to_string()))?;
        if out.len() == MAX_ATTRIBUTES {
            return Err(err(
                pos,
                format!("an element with more than {MAX_ATTRIBUTES} attributes"),
            ));
        }
        if !seen.insert(a.key.as_ref().to_vec()) {
            return Err(err(
                pos,
                format!(
                    "attribute {} is given twice",
                    String::from_utf8_lossy(a.key.as_ref())
                ),
            ));
        }
        let value = a
            .unescape_value()
            .map_err(|e| err(pos, e.to_string()))?
            .into_owned();
        out.push((local(a.key.as_ref()), value));
    }
    Ok(out)
}

fn resolve_entity(name: &str) -> Option<String> {
    Some(
        match name {
            "amp" => "&",
            "lt" => "<",
            "gt" => ">",
            "quot" => "\"",
            "apos" => "'",
            _ => {
                let code = if let Some(hex) =
                    name.strip_prefix("#x").or_else(|| name.strip_prefix("#X"))
                {
                    u32::from_str_radix(hex, 16).ok()?
                } else {
                    name.strip_prefix('#')?.parse().ok()?
                };
                return char::from_u32(code).map(String::from);
            }
        }
        .to_string(),
    )
}

/// The value of an attribute by local name.
pub(crate) fn attr<'v>(attrs: &'v [(String, String)], name: &str) -> Option<&'v str> {
    attrs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(xml: &str) -> Result<Vec<Ev>, FeedError> {
        let mut p = Pull::new(xml.as_bytes())?;
        let mut out = Vec::new();
        loop {
            let e = p.next()?;
            if e == Ev::Eof {
                return Ok(out);
            }
            out.push(e);
        }
    }

    #[test]
    fn entities_are_resolved_or_refused() {
        let evs = all("<a x=\"1&amp;2\">A &amp; B &#x3042;<b/></a>").unwrap();
        assert_eq!(
            evs[0],
            Ev::Start("a".into(), vec![("x".into(), "1&2".into())])
        );
        assert_eq!(evs[1], Ev::Text("A & B あ".into()));
        assert!(all("<a>&custom;</a>").is_err());
        let evs = all("<s retCd= 0 x=\"1\"/>").unwrap();
        assert_eq!(
            evs[0],
            Ev::Start(
                "s".into(),
                vec![("retCd".into(), "0".into()), ("x".into(), "1".into())]
            )
        );
    }

    #[test]
    fn doctype_and_billion_laughs_are_refused() {
        let lol = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><lolz>&lol2;</lolz>"#;
        let e = all(lol).unwrap_err().to_string();
        assert!(e.contains("DOCTYPE"), "{e}");
        let xxe = r#"<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>"#;
        assert!(all(xxe).is_err());
    }

    #[test]
    fn truncated_and_mismatched_documents_fail() {
        assert!(all("<a><b>text</b>").is_err());
        assert!(all("<a><b>text</c></a>").is_err());
        assert!(all("\u{feff}<a/>").is_ok());
        let evs = all("<a>text<b/>more</a>").unwrap();
        assert_eq!(evs[2], Ev::Start("b".into(), vec![]));
        assert_eq!(
            evs[3],
            Ev::End("b".into()),
            "an empty element after text keeps its end"
        );
    }
}
