//! Limits on what one feed file may make a reader hold: a text field's length, checked in
//! the bytes before a parser allocates the field.

use std::io::Read;

use crate::FeedError;

/// The longest text (a JSON string) a feed record may hold: NVD descriptions run to a few
/// kilobytes, CSAF notes to tens; a megabyte is room for any honest one.
pub const MAX_TEXT_BYTES: usize = 1 << 20;

/// Where a JSON document is, byte by byte: inside a string or not, after a backslash or not.
#[derive(Debug, Default, Clone)]
struct Scan {
    in_string: bool,
    escaped: bool,
    run: usize,
    offset: u64,
    line: usize,
}

impl Scan {
    /// Feeds bytes; the offset and line of the string that grows past `limit`, if one does.
    fn feed(&mut self, bytes: &[u8], limit: usize) -> Result<(), TextTooLong> {
        for &b in bytes {
            self.offset += 1;
            if b == b'\n' {
                self.line += 1;
            }
            if !self.in_string {
                if b == b'"' {
                    self.in_string = true;
                    self.run = 0;
                }
                continue;
            }
            if self.escaped {
                self.escaped = false;
            } else if b == b'\\' {
                self.escaped = true;
            } else if b == b'"' {
                self.in_string = false;
                continue;
            }
            self.run += 1;
            if self.run > limit {
                return Err(TextTooLong {
                    line: self.line + 1,
                    limit,
                });
            }
        }
        Ok(())
    }
}

/// A text field past its limit (carried inside an `io::Error` through a JSON parser).
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
#[error("a text field on line {line} is longer than {limit} bytes")]
pub struct TextTooLong {
    /// 1-based line where the field is.
    pub line: usize,
    /// The limit in bytes.
    pub limit: usize,
}

impl From<TextTooLong> for FeedError {
    fn from(t: TextTooLong) -> FeedError {
        FeedError::TextTooLong {
            line: t.line,
            limit: t.limit,
        }
    }
}

/// Refuses a JSON document held in memory with a string longer than [`MAX_TEXT_BYTES`].
pub fn check_json_text(bytes: &[u8]) -> Result<(), FeedError> {
    Scan::default()
        .feed(bytes, MAX_TEXT_BYTES)
        .map_err(FeedError::from)
}

/// A reader of JSON that fails, with [`TextTooLong`] inside the `io::Error`, as soon as a
/// string grows past its limit — before the parser has buffered it.
pub struct JsonTextGuard<R> {
    inner: R,
    scan: Scan,
    limit: usize,
}

impl<R: Read> JsonTextGuard<R> {
    /// Guards `inner` with [`MAX_TEXT_BYTES`].
    pub fn new(inner: R) -> Self {
        JsonTextGuard {
            inner,
            scan: Scan::default(),
            limit: MAX_TEXT_BYTES,
        }
    }
}

impl<R: Read> Read for JsonTextGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.scan
            .feed(&buf[..n], self.limit)
            .map_err(|t| std::io::Error::new(std::io::ErrorKind::InvalidData, t))?;
        Ok(n)
    }
}

/// The [`TextTooLong`] inside a JSON parser's IO error, if that is what stopped it.
pub(crate) fn text_too_long(e: serde_json::Error) -> Option<TextTooLong> {
    if !e.is_io() {
        return None;
    }
    let io: std::io::Error = e.into();
    io.get_ref()
        .and_then(|inner| inner.downcast_ref::<TextTooLong>())
        .copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_measured_escapes_and_all() {
        let mut s = Scan::default();
        assert!(s.feed(br#"{"a":"abc\"de","b":"x"}"#, 7).is_ok());
        let mut s = Scan::default();
        assert_eq!(
            s.feed(b"{\n\"a\":\"abcdefgh\"}", 6),
            Err(TextTooLong { line: 2, limit: 6 })
        );
        // Split across reads.
        let mut s = Scan::default();
        assert!(s.feed(br#"{"a":"abc"#, 6).is_ok());
        assert!(s.feed(br#"d\"","b":1}"#, 6).is_ok());
        let big = format!("[\"{}\"]", "x".repeat(MAX_TEXT_BYTES + 1));
        assert!(matches!(
            check_json_text(big.as_bytes()),
            Err(FeedError::TextTooLong { line: 1, .. })
        ));
    }
}
