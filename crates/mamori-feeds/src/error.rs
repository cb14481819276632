//! Errors that stop a file, and warnings about single records.

/// Why a whole file could not be read. Nothing from it should be stored.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FeedError {
    /// Broken JSON (truncated, wrong types), at a position in the input.
    #[error("{}JSON error at line {line}, column {column}: {message}", record_context(*.record, .last_id))]
    Json {
        /// 0-based index of the record being read, when inside the record list.
        record: Option<usize>,
        /// The id of the last record read successfully before it.
        last_id: Option<String>,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The parser's message.
        message: String,
    },
    /// The content is not the expected format.
    #[error("not {expected}: {detail}")]
    Format {
        /// What was expected, e.g. "an NVD CVE file".
        expected: &'static str,
        /// What was found.
        detail: String,
    },
    /// A CSV problem.
    #[error("CSV error at line {line}: {message}")]
    Csv {
        /// 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// Reading the input failed.
    #[error("read error: {0}")]
    Io(String),
    /// A text field longer than [`crate::limits::MAX_TEXT_BYTES`].
    #[error("a text field on line {line} is longer than {limit} bytes")]
    TextTooLong {
        /// 1-based line where the field is.
        line: usize,
        /// The limit in bytes.
        limit: usize,
    },
}

impl FeedError {
    /// A serde_json error, with the record being read and the last good id when known.
    pub(crate) fn from_json(
        e: &serde_json::Error,
        record: Option<usize>,
        last_id: Option<String>,
    ) -> FeedError {
        let mut message = e.to_string();
        // serde_json appends " at line L column C"; they are reported separately.
        if let Some(i) = message.rfind(" at line ") {
            message.truncate(i);
        }
        FeedError::Json {
            record,
            last_id,
            line: e.line(),
            column: e.column(),
            message,
        }
    }
}

fn record_context(record: Option<usize>, last_id: &Option<String>) -> String {
    match (record, last_id) {
        (Some(n), Some(id)) => format!("record {} (after {id}): ", n + 1),
        (Some(n), None) => format!("record {}: ", n + 1),
        _ => String::new(),
    }
}

/// A record that was skipped or read with a problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// 0-based index of the record in the file.
    pub record: usize,
    /// Its id, when it has one.
    pub id: Option<String>,
    /// What is wrong.
    pub message: String,
    /// Whether the record was skipped (else it was kept, e.g. a duplicate id).
    pub skipped: bool,
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "record {}", self.record + 1)?;
        if let Some(id) = &self.id {
            write!(f, " ({id})")?;
        }
        write!(f, ": {}", self.message)?;
        if self.skipped {
            f.write_str(" — skipped")?;
        }
        Ok(())
    }
}
