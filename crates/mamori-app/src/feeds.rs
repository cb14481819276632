//! Reading vulnerability feed files into the store: `mamori feeds import FILE|DIR…`.
//!
//! The format is found from the content (not the name); `.gz` and `.tar.gz` archives are
//! opened. Each file is one transaction: a file that fails changes nothing, and the other
//! files still import. Records are streamed, so memory does not grow with the file.

use std::cell::RefCell;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use mamori_core::vuln::Vulnerability;
use mamori_feeds::{csaf, epss, jvn, kev, nvd, rss, FeedError, Warning};
use mamori_store::{FeedImport, StoredEpss, Tx, Upsert};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::{audit, io, App, AppError, Result};

/// The largest input read, after decompression. A bigger file is refused with a clear
/// message (a whole NVD year in the 2.0 format is well under this).
pub const MAX_INPUT_BYTES: u64 = 2 << 30;

/// A feed file's kind, found from its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedKind {
    /// NVD CVE 2.0 or 1.1.
    Nvd,
    /// CISA KEV (JSON).
    Kev,
    /// CISA KEV (CSV).
    KevCsv,
    /// FIRST EPSS.
    Epss,
    /// CSAF 2.0 advisory.
    Csaf,
    /// JVN iPedia VULDEF or JVNRSS XML.
    Jvn,
    /// MyJVN API 4.0 JSON feed.
    JvnJson,
    /// An RSS 1.0/2.0 alert feed (IPA, JPCERT/CC, NISC).
    Alerts,
}

impl FeedKind {
    /// The source name used in the store and in `feeds status`.
    pub fn source(self) -> &'static str {
        match self {
            FeedKind::Nvd => "nvd",
            FeedKind::Kev | FeedKind::KevCsv => "kev",
            FeedKind::Epss => "epss",
            FeedKind::Csaf => "csaf",
            FeedKind::Jvn | FeedKind::JvnJson => "jvn",
            FeedKind::Alerts => "alerts",
        }
    }
}

/// How one file went.
#[derive(Debug, Clone, Default)]
pub struct FeedFileReport {
    /// The file (for archive members: `archive.tar.gz!member`).
    pub origin: String,
    /// The kind found, when one was.
    pub kind: Option<&'static str>,
    /// Records read.
    pub records: usize,
    /// Added.
    pub added: usize,
    /// Replaced by a newer version.
    pub updated: usize,
    /// Already in the store.
    pub unchanged: usize,
    /// Skipped as unusable (each with a warning).
    pub skipped: usize,
    /// Warnings (skipped records, duplicates), the first 50.
    pub warnings: Vec<String>,
    /// Why the file was not imported; `None` when it was.
    pub error: Option<String>,
    /// Why a file met while walking a folder was passed over (not a feed).
    pub passed_over: Option<String>,
}

/// Progress of a long import.
#[derive(Debug, Clone, Copy)]
pub struct FeedProgress<'a> {
    /// The file being read.
    pub origin: &'a str,
    /// Bytes of the file read so far (as stored on disk, compressed or not).
    pub bytes: u64,
    /// The file's size on disk.
    pub total: u64,
    /// Records read so far in this file.
    pub records: usize,
}

/// Counts and hashes the bytes of the file as they are read.
struct Tap<R> {
    inner: R,
    hasher: Rc<RefCell<Sha256>>,
    bytes: Rc<RefCell<u64>>,
}

impl<R: Read> Read for Tap<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.borrow_mut().update(&buf[..n]);
        *self.bytes.borrow_mut() += n as u64;
        Ok(n)
    }
}

/// Fails the read once more than [`MAX_INPUT_BYTES`] came out of the decompressor.
struct Limit<R> {
    inner: R,
    left: u64,
}

impl<R: Read> Read for Limit<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n as u64 > self.left {
            return Err(std::io::Error::other(format!(
                "larger than {} bytes once decompressed",
                MAX_INPUT_BYTES
            )));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

fn detect(head: &[u8]) -> Option<FeedKind> {
    let text = String::from_utf8_lossy(head);
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    if trimmed.starts_with('{') {
        if text.contains("myjvn_feed_") && text.contains("\"entry\"") {
            Some(FeedKind::JvnJson)
        } else if text.contains("json-schema.org") {
            None // a JSON Schema describing a feed, not a feed
        } else if text.contains("\"catalogVersion\"") {
            Some(FeedKind::Kev)
        } else if text.contains("\"type\": \"bundle\"") || text.contains("\"type\":\"bundle\"") {
            None // a STIX bundle (MyJVN's jvnstix form), not read by mamori
        } else if text.contains("\"csaf_version\"") {
            Some(FeedKind::Csaf)
        } else if [
            "\"CVE_Items\"",
            "\"CVE_data_type\"",
            "\"vulnerabilities\"",
            "\"cve\"",
        ]
        .iter()
        .any(|k| text.contains(k))
        {
            Some(FeedKind::Nvd)
        } else {
            None
        }
    } else if trimmed.starts_with('<') {
        // JVN documents: a VULDEF root, or an RSS (rdf:RDF) root using JVN's mod_sec
        // namespace. Other XML (schemas, MyJVN vendor/product lists, Atom alerts) is not
        // vulnerability data.
        match root_element(trimmed) {
            Some("VULDEF-Document") => Some(FeedKind::Jvn),
            Some("RDF") if text.contains("jvn.jp/rss/mod_sec") => Some(FeedKind::Jvn),
            Some("RDF") | Some("rss") => Some(FeedKind::Alerts),
            _ => None,
        }
    } else if trimmed.starts_with("cveID,vendorProject") {
        Some(FeedKind::KevCsv)
    } else if trimmed.starts_with("#model_version")
        || trimmed.to_ascii_lowercase().starts_with("cve,epss")
    {
        Some(FeedKind::Epss)
    } else {
        None
    }
}

/// The local name of the first element of an XML text (after the declaration and
/// comments).
fn root_element(xml: &str) -> Option<&str> {
    let mut rest = xml;
    loop {
        let start = rest.find('<')?;
        rest = &rest[start + 1..];
        if rest.starts_with('?') || rest.starts_with('!') {
            continue;
        }
        let end = rest.find(|c: char| c.is_whitespace() || c == '>' || c == '/')?;
        let name = &rest[..end];
        return Some(name.rsplit(':').next().unwrap_or(name));
    }
}

fn files_in(path: &Path, out: &mut Vec<(PathBuf, bool)>) -> Result<()> {
    if path.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(io(path))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for e in entries {
            let name = e
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if name.starts_with('.') {
                continue;
            }
            let before = out.len();
            files_in(&e, out)?;
            for f in &mut out[before..] {
                f.1 = false; // found by walking a folder, not named by the user
            }
        }
    } else {
        out.push((path.to_path_buf(), true));
    }
    Ok(())
}

fn message(e: &FeedError) -> String {
    e.to_string()
}

impl App {
    /// Imports feed files and directories (recursively). Each file is reported; a file
    /// that fails leaves the store unchanged and does not stop the others.
    pub fn import_feeds(
        &mut self,
        paths: &[PathBuf],
        progress: &dyn Fn(FeedProgress<'_>),
    ) -> Result<Vec<FeedFileReport>> {
        self.require(mamori_core::access::Permission::ImportFeeds)?;
        let mut files = Vec::new();
        for p in paths {
            if !p.exists() {
                return Err(AppError::Io {
                    path: p.clone(),
                    source: std::io::Error::from(std::io::ErrorKind::NotFound),
                });
            }
            files_in(p, &mut files)?;
        }
        let mut reports = Vec::new();
        for (f, named) in files {
            let name = f.to_string_lossy().to_ascii_lowercase();
            if name.ends_with(".sha512")
                || name.ends_with(".asc")
                || name.ends_with(".sha256")
                || name.ends_with("license")
                || name.ends_with("license.txt")
                || name.ends_with(".md")
            {
                continue; // signatures, checksums and licence texts beside the data
            }
            if name.ends_with(".tar.gz") || name.ends_with(".tgz") {
                // An archive's members were not named one by one: non-feeds are passed over.
                reports.extend(self.import_archive(&f, progress)?);
                continue;
            }
            let mut report = self.import_feed_file(&f, progress)?;
            if named {
                // A file the user named must be a feed: not being one is an error.
                if let Some(why) = report.passed_over.take() {
                    report.error = Some(why);
                }
            }
            reports.push(report);
        }
        Ok(reports)
    }

    fn import_archive(
        &mut self,
        path: &Path,
        progress: &dyn Fn(FeedProgress<'_>),
    ) -> Result<Vec<FeedFileReport>> {
        let file = std::fs::File::open(path).map_err(io(path))?;
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
        let mut reports = Vec::new();
        let entries = match archive.entries() {
            Ok(e) => e,
            Err(e) => {
                return Ok(vec![FeedFileReport {
                    origin: path.display().to_string(),
                    error: Some(format!("not a tar.gz archive: {e}")),
                    ..Default::default()
                }])
            }
        };
        for entry in entries {
            let mut entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    reports.push(FeedFileReport {
                        origin: path.display().to_string(),
                        error: Some(format!("damaged archive: {e}")),
                        ..Default::default()
                    });
                    break;
                }
            };
            if !entry.header().entry_type().is_file() {
                continue;
            }
            let member = entry
                .path()
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            let origin = format!("{}!{member}", path.display());
            let size = entry.header().size().unwrap_or(0);
            let mut bytes = Vec::with_capacity(size.min(MAX_INPUT_BYTES) as usize);
            if let Err(e) = (&mut entry)
                .take(MAX_INPUT_BYTES + 1)
                .read_to_end(&mut bytes)
            {
                reports.push(FeedFileReport {
                    origin,
                    error: Some(format!("damaged archive: {e}")),
                    ..Default::default()
                });
                break;
            }
            let total = bytes.len() as u64;
            let r = self.import_reader(
                &origin,
                Box::new(std::io::Cursor::new(bytes)),
                total,
                progress,
            )?;
            reports.push(r);
        }
        Ok(reports)
    }

    fn import_feed_file(
        &mut self,
        path: &Path,
        progress: &dyn Fn(FeedProgress<'_>),
    ) -> Result<FeedFileReport> {
        let origin = path.display().to_string();
        let file = std::fs::File::open(path).map_err(io(path))?;
        let total = file.metadata().map(|m| m.len()).unwrap_or(0);
        if total > MAX_INPUT_BYTES {
            return Ok(FeedFileReport {
                origin,
                error: Some(format!("the file is {total} bytes, larger than the {MAX_INPUT_BYTES} bytes mamori reads; split it (NVD publishes one file per year)")),
                ..Default::default()
            });
        }
        self.import_reader(&origin, Box::new(file), total, progress)
    }

    fn import_reader(
        &mut self,
        origin: &str,
        raw: Box<dyn Read + '_>,
        total: u64,
        progress: &dyn Fn(FeedProgress<'_>),
    ) -> Result<FeedFileReport> {
        let hasher = Rc::new(RefCell::new(Sha256::new()));
        let bytes_read = Rc::new(RefCell::new(0u64));
        let mut tapped = std::io::BufReader::new(Tap {
            inner: raw,
            hasher: hasher.clone(),
            bytes: bytes_read.clone(),
        });
        let mut report = FeedFileReport {
            origin: origin.to_string(),
            ..Default::default()
        };
        // Gzip and Zstandard are recognised by their magic numbers, whatever the file is called.
        let magic = std::io::BufRead::fill_buf(&mut tapped)
            .map(|b| b.get(..4).unwrap_or(b).to_vec())
            .unwrap_or_default();
        let decoded: Box<dyn Read> = if magic.starts_with(&[0x1f, 0x8b]) {
            Box::new(flate2::read::GzDecoder::new(tapped))
        } else if magic.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            match ruzstd::decoding::StreamingDecoder::new(tapped) {
                Ok(d) => Box::new(d),
                Err(e) => {
                    report.error = Some(format!("damaged zstd data: {e}"));
                    return Ok(report);
                }
            }
        } else {
            Box::new(tapped)
        };
        let mut reader = std::io::BufReader::with_capacity(
            1 << 16,
            Limit {
                inner: decoded,
                left: MAX_INPUT_BYTES,
            },
        );
        let head = match std::io::BufRead::fill_buf(&mut reader) {
            Ok(h) => h.to_vec(),
            Err(e) => {
                report.error = Some(format!("cannot read: {e}"));
                return Ok(report);
            }
        };
        let Some(kind) = detect(&head) else {
            report.passed_over = Some(
                "not a feed mamori reads (NVD CVE JSON 2.0/1.1, JVN VULDEF/JVNRSS XML or MyJVN JSON, \
                 CISA KEV JSON/CSV, EPSS CSV, CSAF 2.0, RSS alert feeds)"
                    .into(),
            );
            return Ok(report);
        };
        report.kind = Some(kind.source());
        let actor = self.actor.clone();
        let mut note = self.announce(
            &format!("脆弱性情報の取り込み ({origin})"),
            &format!("feed import of {origin}"),
        );
        let mut tx = self.store.begin()?;
        note.post();
        let outcome = match kind {
            FeedKind::Nvd => {
                import_nvd(tx.as_mut(), origin, &mut reader, &mut report, &|records| {
                    progress(FeedProgress {
                        origin,
                        bytes: *bytes_read.borrow(),
                        total,
                        records,
                    })
                })
            }
            FeedKind::Kev => {
                read_to_vec(&mut reader).and_then(|b| import_kev(tx.as_mut(), &b, &mut report))
            }
            FeedKind::KevCsv => read_to_vec(&mut reader).and_then(|b| {
                let catalog =
                    kev::parse_kev_csv(&b).map_err(|e| ImportFailure::Feed(message(&e)))?;
                import_kev_catalog(tx.as_mut(), catalog, &mut report)
            }),
            FeedKind::Epss => {
                read_to_vec(&mut reader).and_then(|b| import_epss(tx.as_mut(), &b, &mut report))
            }
            FeedKind::Jvn => read_to_vec(&mut reader)
                .and_then(|b| import_jvn(tx.as_mut(), origin, &b, &mut report)),
            FeedKind::JvnJson => read_to_vec(&mut reader).and_then(|b| {
                let mut upserter = Upserter::new(tx.as_mut(), "jvn", origin);
                let summary = jvn::parse_jvn_json(&b, &mut |v| upserter.take(v));
                let counts = upserter.finish()?;
                let summary = summary.map_err(|e| ImportFailure::Feed(message(&e)))?;
                report.records = summary.records;
                (report.added, report.updated, report.unchanged) = counts;
                note_warnings(&mut report, &summary.warnings);
                Ok(())
            }),
            FeedKind::Alerts => read_to_vec(&mut reader)
                .and_then(|b| import_alerts(tx.as_mut(), origin, &b, &mut report)),
            FeedKind::Csaf => read_to_vec(&mut reader)
                .and_then(|b| import_csaf(tx.as_mut(), origin, &b, &mut report)),
        };
        match outcome {
            Err(ImportFailure::Store(e)) => return Err(e.into()),
            Err(ImportFailure::Feed(e)) => {
                drop(tx); // roll back: a failed file changes nothing
                report.error = Some(e.clone());
                report.added = 0;
                report.updated = 0;
                report.unchanged = 0;
                let mut tx = self.store.begin()?;
                tx.set_feed_state(kind.source(), Some(&format!("{origin}: {e}")))?;
                tx.commit()?;
                return Ok(report);
            }
            Ok(()) => {}
        }
        // Hash the whole file, including anything after the parsed content.
        let _ = std::io::copy(&mut reader, &mut std::io::sink());
        let sha256: String = hasher
            .borrow()
            .clone()
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let record = FeedImport {
            source: kind.source().into(),
            origin: origin.to_string(),
            sha256: sha256.clone(),
            records: report.records as i64,
            added: report.added as i64,
            updated: report.updated as i64,
            unchanged: report.unchanged as i64,
            skipped: report.skipped as i64,
            warnings: report.warnings.clone(),
        };
        tx.insert_feed_import(&record)?;
        tx.set_feed_state(kind.source(), None)?;
        audit(
            tx.as_mut(),
            &actor,
            "feeds.import",
            Some(origin),
            json!({ "source": kind.source(), "sha256": sha256, "records": report.records, "added": report.added,
                    "updated": report.updated, "unchanged": report.unchanged, "skipped": report.skipped }),
        )?;
        tx.commit()?;
        Ok(report)
    }
}

pub(crate) enum ImportFailure {
    /// The file is unusable: nothing from it is stored.
    Feed(String),
    /// The store failed: an internal error.
    Store(mamori_store::StoreError),
}

/// The most a feed read whole (all but NVD, which is read as a stream) may unpack to: the
/// largest real one, a year of JVN iPedia details, is far smaller.
pub const MAX_WHOLE_FEED_BYTES: u64 = 256 << 20;

fn read_to_vec(reader: &mut dyn Read) -> Result<Vec<u8>, ImportFailure> {
    let mut out = Vec::new();
    reader
        .take(MAX_WHOLE_FEED_BYTES + 1)
        .read_to_end(&mut out)
        .map_err(|e| ImportFailure::Feed(format!("cannot read: {e}")))?;
    if out.len() as u64 > MAX_WHOLE_FEED_BYTES {
        return Err(ImportFailure::Feed(format!(
            "it unpacks to more than {} MiB, more than mamori reads of this kind of feed; split it",
            MAX_WHOLE_FEED_BYTES >> 20
        )));
    }
    Ok(out)
}

fn note_warnings(report: &mut FeedFileReport, warnings: &[Warning]) {
    report.skipped += warnings.iter().filter(|w| w.skipped).count();
    for w in warnings
        .iter()
        .take(50usize.saturating_sub(report.warnings.len()))
    {
        report.warnings.push(w.to_string());
    }
}

fn count(report: &mut FeedFileReport, u: Upsert) {
    match u {
        Upsert::Added => report.added += 1,
        Upsert::Updated => report.updated += 1,
        Upsert::Unchanged => report.unchanged += 1,
    }
}

/// Upserts streamed vulnerability records and counts the outcomes; the first store error
/// stops it (and is returned by [`Upserter::finish`]).
pub(crate) struct Upserter<'a> {
    tx: &'a mut dyn Tx,
    source: &'static str,
    origin: &'a str,
    counts: (usize, usize, usize),
    error: Option<mamori_store::StoreError>,
}

impl<'a> Upserter<'a> {
    pub(crate) fn new(tx: &'a mut dyn Tx, source: &'static str, origin: &'a str) -> Upserter<'a> {
        Upserter {
            tx,
            source,
            origin,
            counts: (0, 0, 0),
            error: None,
        }
    }

    pub(crate) fn take(&mut self, v: Vulnerability) {
        if self.error.is_some() {
            return;
        }
        match self.tx.upsert_vulnerability(&v, self.source, self.origin) {
            Ok(Upsert::Added) => self.counts.0 += 1,
            Ok(Upsert::Updated) => self.counts.1 += 1,
            Ok(Upsert::Unchanged) => self.counts.2 += 1,
            Err(e) => self.error = Some(e),
        }
    }

    /// Records taken so far.
    pub(crate) fn seen(&self) -> usize {
        self.counts.0 + self.counts.1 + self.counts.2
    }

    /// (added, updated, unchanged), or the store error.
    pub(crate) fn finish(self) -> Result<(usize, usize, usize), ImportFailure> {
        match self.error {
            Some(e) => Err(ImportFailure::Store(e)),
            None => Ok(self.counts),
        }
    }
}

fn import_nvd(
    tx: &mut dyn Tx,
    origin: &str,
    reader: &mut dyn Read,
    report: &mut FeedFileReport,
    progress: &dyn Fn(usize),
) -> Result<(), ImportFailure> {
    let mut upserter = Upserter::new(tx, "nvd", origin);
    let summary = nvd::read_nvd(reader, &mut |v| {
        upserter.take(v);
        if upserter.seen().is_multiple_of(2000) {
            progress(upserter.seen());
        }
    });
    let seen = upserter.seen();
    let counts = upserter.finish()?;
    let summary = summary.map_err(|e| ImportFailure::Feed(message(&e)))?;
    progress(seen);
    report.records = summary.records;
    (report.added, report.updated, report.unchanged) = counts;
    note_warnings(report, &summary.warnings);
    Ok(())
}

pub(crate) fn import_jvn(
    tx: &mut dyn Tx,
    origin: &str,
    bytes: &[u8],
    report: &mut FeedFileReport,
) -> Result<(), ImportFailure> {
    let mut upserter = Upserter::new(tx, "jvn", origin);
    let summary = jvn::parse_jvn(bytes, &mut |v| upserter.take(v));
    let counts = upserter.finish()?;
    let summary = summary.map_err(|e| ImportFailure::Feed(message(&e)))?;
    report.records = summary.records;
    (report.added, report.updated, report.unchanged) = counts;
    note_warnings(report, &summary.warnings);
    Ok(())
}

pub(crate) fn import_alerts(
    tx: &mut dyn Tx,
    origin: &str,
    bytes: &[u8],
    report: &mut FeedFileReport,
) -> Result<(), ImportFailure> {
    let feed = rss::parse_alerts(bytes).map_err(|e| ImportFailure::Feed(message(&e)))?;
    report.records = feed.alerts.len();
    for a in &feed.alerts {
        count(
            report,
            tx.upsert_alert(a, origin).map_err(ImportFailure::Store)?,
        );
    }
    note_warnings(report, &feed.warnings);
    Ok(())
}

pub(crate) fn import_csaf(
    tx: &mut dyn Tx,
    origin: &str,
    bytes: &[u8],
    report: &mut FeedFileReport,
) -> Result<(), ImportFailure> {
    let file = csaf::parse_csaf(bytes).map_err(|e| ImportFailure::Feed(message(&e)))?;
    report.records = 1;
    count(
        report,
        tx.upsert_advisory(&file.advisory, "csaf", origin)
            .map_err(ImportFailure::Store)?,
    );
    note_warnings(report, &file.warnings);
    Ok(())
}

pub(crate) fn import_kev(
    tx: &mut dyn Tx,
    bytes: &[u8],
    report: &mut FeedFileReport,
) -> Result<(), ImportFailure> {
    let catalog = kev::parse_kev(bytes).map_err(|e| ImportFailure::Feed(message(&e)))?;
    import_kev_catalog(tx, catalog, report)
}

fn import_kev_catalog(
    tx: &mut dyn Tx,
    catalog: kev::KevCatalog,
    report: &mut FeedFileReport,
) -> Result<(), ImportFailure> {
    report.records = catalog.entries.len();
    for e in &catalog.entries {
        count(
            report,
            tx.upsert_kev(e, &catalog.catalog_version)
                .map_err(ImportFailure::Store)?,
        );
    }
    note_warnings(report, &catalog.warnings);
    Ok(())
}

pub(crate) fn import_epss(
    tx: &mut dyn Tx,
    bytes: &[u8],
    report: &mut FeedFileReport,
) -> Result<(), ImportFailure> {
    let file = epss::parse_epss(bytes).map_err(|e| ImportFailure::Feed(message(&e)))?;
    report.records = file.scores.len();
    for (cve, score) in &file.scores {
        let stored = StoredEpss {
            score: *score,
            score_date: file.score_date.clone(),
            model_version: file.model_version.clone(),
        };
        count(
            report,
            tx.upsert_epss(cve, &stored).map_err(ImportFailure::Store)?,
        );
    }
    note_warnings(report, &file.warnings);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_formats_from_content() {
        assert_eq!(
            detect(br#"{"resultsPerPage":1,"vulnerabilities":[]}"#),
            Some(FeedKind::Nvd)
        );
        assert_eq!(
            detect(br#"  {"CVE_data_type":"CVE","CVE_Items":[]}"#),
            Some(FeedKind::Nvd)
        );
        assert_eq!(
            detect(
                br#"{"title":"CISA Catalog","catalogVersion":"2025.08.25","vulnerabilities":[]}"#
            ),
            Some(FeedKind::Kev)
        );
        assert_eq!(
            detect(br#"{"document":{"csaf_version":"2.0"},"vulnerabilities":[]}"#),
            Some(FeedKind::Csaf)
        );
        assert_eq!(
            detect(b"#model_version:v2023.03.01,score_date:2023-03-07\ncve,epss,percentile\n"),
            Some(FeedKind::Epss)
        );
        assert_eq!(detect(b"cve,epss\n"), Some(FeedKind::Epss));
        assert_eq!(detect(br#"{"$schema": "https://jvndb.jvn.jp/schema/myjvn_feed_1.0.json", "feed": {"entry": []}}"#), Some(FeedKind::JvnJson));
        assert_eq!(
            detect(b"cveID,vendorProject,product\n"),
            Some(FeedKind::KevCsv)
        );
        assert_eq!(
            detect(b"<?xml version=\"1.0\"?><VULDEF-Document version=\"3.2\">"),
            Some(FeedKind::Jvn)
        );
        assert_eq!(
            detect(b"<rdf:RDF xmlns:sec=\"http://jvn.jp/rss/mod_sec/3.0/\">"),
            Some(FeedKind::Jvn)
        );
        assert_eq!(
            detect(b"<?xml version=\"1.0\"?><rdf:RDF xmlns=\"http://purl.org/rss/1.0/\">"),
            Some(FeedKind::Alerts)
        );
        assert_eq!(
            detect(b"<rss version=\"2.0\"><channel>"),
            Some(FeedKind::Alerts)
        );
        assert_eq!(
            detect(b"<?xml version=\"1.0\"?><feed xmlns=\"http://www.w3.org/2005/Atom\">"),
            None
        );
        assert_eq!(detect(b"<?xml version=\"1.0\"?>\n<!-- c --><xsd:schema xmlns:sec=\"http://jvn.jp/rss/mod_sec/3.0/\">"), None);
        assert_eq!(
            detect(br#"{"$schema":"x","type": "bundle","objects":[{"csaf_version":"2.0"}]}"#),
            None
        );
        assert_eq!(detect(b"%PDF-1.7"), None);
        assert_eq!(detect(br#"{"other":1}"#), None);
    }
}
