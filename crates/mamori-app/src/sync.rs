//! `mamori feeds sync`: fetching feeds over HTTP into the store.
//!
//! NVD is fetched incrementally through the CVE API 2.0 by `lastModStartDate/EndDate`
//! windows of at most 120 days, page by page; each page is parsed and committed before the
//! next is requested, and the position is stored (`feed_state.cursor`), so an interrupted
//! sync resumes where it stopped. KEV and EPSS are fetched whole with conditional requests
//! (ETag / Last-Modified): an unchanged file costs one 304. Every URL is configurable in
//! `<data-dir>/config.toml`:
//!
//! ```toml
//! [feeds]
//! nvd_url = "https://services.nvd.nist.gov/rest/json/cves/2.0"
//! nvd_api_key = "…"            # or MAMORI_NVD_API_KEY; raises NVD's limit to 50 requests/30 s
//! nvd_page_size = 2000
//! kev_url = "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json"
//! epss_url = "https://epss.empiricalsecurity.com/epss_scores-current.csv.gz"
//! alert_urls = ["https://www.ipa.go.jp/security/alert-rss.rdf", "https://www.jpcert.or.jp/rss/jpcert.rdf"]
//! jvn_checksum_urls = ["https://jvndb.jvn.jp/ja/feed/checksum.txt"]   # JVN iPedia detail feeds
//! [[feeds.csaf_directories]]   # CISA's ICS advisories incl. ICSMA (medical)
//! changes = "https://raw.githubusercontent.com/cisagov/CSAF/develop/csaf_files/OT/white/changes.csv"
//! base = "https://raw.githubusercontent.com/cisagov/CSAF/develop/"
//! min_interval_ms = 6000        # default: 6000 without an NVD key, 600 with one
//! attempts = 5
//! backoff_ms = 2000
//! timeout_s = 120
//! ```

use std::io::Read;
use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use mamori_feeds::nvd;
use mamori_fetch::{nvd_page_url, nvd_windows, FetchError, Http, Policy};
use serde::Deserialize;
use serde_json::json;

use crate::feeds::{import_epss, import_kev, FeedFileReport, ImportFailure, Upserter};
use crate::{audit, App, AppError, Result};

/// Where and how to fetch.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SyncConfig {
    /// NVD CVE API 2.0 endpoint.
    pub nvd_url: String,
    /// NVD API key (sent as the `apiKey` header).
    pub nvd_api_key: Option<String>,
    /// Records per NVD page (at most 2000).
    pub nvd_page_size: u64,
    /// CISA KEV JSON.
    pub kev_url: String,
    /// FIRST EPSS CSV (.gz).
    pub epss_url: String,
    /// RSS alert feeds (IPA 重要なセキュリティ情報, JPCERT/CC 注意喚起, …).
    pub alert_urls: Vec<String>,
    /// CSAF providers' directories: `changes.csv` and the URL its paths are relative to.
    pub csaf_directories: Vec<CsafDirectory>,
    /// JVN iPedia feed manifests (`checksum.txt`: url, filename, sha256, size, lastModified).
    pub jvn_checksum_urls: Vec<String>,
    /// Minimum milliseconds between requests to one server.
    pub min_interval_ms: Option<u64>,
    /// Attempts per request.
    pub attempts: u32,
    /// First retry delay in milliseconds.
    pub backoff_ms: u64,
    /// Whole-request timeout in seconds.
    pub timeout_s: u64,
}

impl Default for SyncConfig {
    fn default() -> Self {
        SyncConfig {
            nvd_url: "https://services.nvd.nist.gov/rest/json/cves/2.0".into(),
            nvd_api_key: None,
            nvd_page_size: 2000,
            kev_url: "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json".into(),
            epss_url: "https://epss.empiricalsecurity.com/epss_scores-current.csv.gz".into(),
            alert_urls: vec!["https://www.ipa.go.jp/security/alert-rss.rdf".into(), "https://www.jpcert.or.jp/rss/jpcert.rdf".into()],
            jvn_checksum_urls: vec!["https://jvndb.jvn.jp/ja/feed/checksum.txt".into()],
            csaf_directories: vec![CsafDirectory {
                changes: "https://raw.githubusercontent.com/cisagov/CSAF/develop/csaf_files/OT/white/changes.csv".into(),
                base: Some("https://raw.githubusercontent.com/cisagov/CSAF/develop/".into()),
            }],
            min_interval_ms: None,
            attempts: 5,
            backoff_ms: 2000,
            timeout_s: 120,
        }
    }
}

/// A CSAF provider directory (CSAF 2.0 §7.1.17–18): a `changes.csv` of `path,timestamp` lines.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CsafDirectory {
    /// URL of `changes.csv`.
    pub changes: String,
    /// URL the paths in `changes.csv` are relative to (default: the folder of `changes.csv`;
    /// CISA's paths start at its repository root).
    pub base: Option<String>,
}

#[derive(Deserialize, Default)]
struct ConfigFile {
    #[serde(default)]
    feeds: Option<SyncConfig>,
}

impl SyncConfig {
    /// Reads `[feeds]` of `<data-dir>/config.toml` (defaults when absent) and
    /// `MAMORI_NVD_API_KEY`.
    pub fn load(data_dir: &Path) -> Result<SyncConfig> {
        let path = data_dir.join("config.toml");
        let mut config = if path.is_file() {
            let text = std::fs::read_to_string(&path).map_err(crate::io(&path))?;
            let file: ConfigFile = toml::from_str(&text).map_err(|e| {
                AppError::bad_value(
                    path.display().to_string(),
                    format!("設定ファイルが読めません: {}", e.message()),
                    format!("cannot read the configuration: {}", e.message()),
                )
            })?;
            file.feeds.unwrap_or_default()
        } else {
            SyncConfig::default()
        };
        if let Ok(key) = std::env::var("MAMORI_NVD_API_KEY") {
            if !key.trim().is_empty() {
                config.nvd_api_key = Some(key.trim().to_string());
            }
        }
        config.nvd_page_size = config.nvd_page_size.clamp(1, 2000);
        Ok(config)
    }

    fn policy(&self, nvd: bool) -> Policy {
        let default_interval = if nvd && self.nvd_api_key.is_none() {
            6000
        } else if nvd {
            600
        } else {
            500
        };
        Policy {
            min_interval: Duration::from_millis(self.min_interval_ms.unwrap_or(default_interval)),
            attempts: self.attempts.max(1),
            backoff: Duration::from_millis(self.backoff_ms),
            timeout: Duration::from_secs(self.timeout_s.max(1)),
            ..Policy::default()
        }
    }
}

/// How one source's sync went.
#[derive(Debug, Clone, Default)]
pub struct SyncReport {
    /// `nvd`, `kev`, `epss`.
    pub source: String,
    /// HTTP requests made (including retries).
    pub requests: u32,
    /// Records read.
    pub records: usize,
    /// Added.
    pub added: usize,
    /// Replaced by a newer version.
    pub updated: usize,
    /// Already stored.
    pub unchanged: usize,
    /// Skipped with a warning.
    pub skipped: usize,
    /// The server said nothing changed (304).
    pub not_modified: bool,
    /// Why the sync stopped; what was committed before stays (and is resumed from).
    pub error: Option<String>,
}

impl SyncReport {
    /// Adds one imported file's counts.
    fn absorb(&mut self, file: &FeedFileReport) {
        self.records += file.records;
        self.added += file.added;
        self.updated += file.updated;
        self.unchanged += file.unchanged;
        self.skipped += file.skipped;
    }

    /// Stops with `error`; what was committed before stays.
    fn stopped(mut self, http: &Http, error: String) -> SyncReport {
        self.requests = http.requests;
        self.error = Some(error);
        self
    }

    /// Ends a sync that fetched whole files: nothing new means "not modified".
    fn finished(mut self, http: &Http) -> SyncReport {
        self.requests = http.requests;
        self.not_modified = self.records == 0 && self.error.is_none();
        self
    }
}

/// Progress of a sync.
#[derive(Debug, Clone, Copy)]
pub struct SyncProgress<'a> {
    /// The source.
    pub source: &'a str,
    /// Requests so far.
    pub requests: u32,
    /// Records so far.
    pub records: usize,
    /// Records the server says there are in the current window, when known.
    pub total: Option<u64>,
}

fn fetch_message(e: &FetchError) -> String {
    match e {
        FetchError::Status { status: 403, .. } => format!("{e} (the server refused: check the API key, or wait — NVD answers 403 when the rate limit is exceeded)"),
        _ => e.to_string(),
    }
}

impl App {
    /// Fetches the given sources (all of `nvd`, `kev`, `epss` when empty). `since` sets
    /// where a first NVD sync starts (default: 120 days ago; older history comes from the
    /// yearly feed files or a bundle).
    pub fn sync_feeds(
        &mut self,
        sources: &[String],
        since: Option<DateTime<Utc>>,
        config: &SyncConfig,
        progress: &dyn Fn(SyncProgress<'_>),
    ) -> Result<Vec<SyncReport>> {
        self.require(mamori_core::access::Permission::ImportFeeds)?;
        let wanted: Vec<String> = if sources.is_empty() {
            ["nvd", "jvn", "kev", "epss", "alerts", "csaf"]
                .map(String::from)
                .to_vec()
        } else {
            sources.to_vec()
        };
        let mut reports = Vec::new();
        for source in &wanted {
            let report = match source.as_str() {
                "nvd" => self.sync_nvd(since, config, progress)?,
                "kev" | "epss" => self.sync_whole(source, config)?,
                "alerts" => self.sync_alerts(config)?,
                "csaf" => self.sync_csaf(config)?,
                "jvn" => self.sync_jvn(config)?,
                other => {
                    return Err(AppError::bad_value(
                        "--source",
                        format!(
                            "「{other}」は取得できる情報源ではありません (nvd, jvn, kev, epss, alerts, csaf)"
                        ),
                        format!(
                        "\"{other}\" is not a source that can be fetched (nvd, jvn, kev, epss, alerts, csaf)"
                    ),
                    ))
                }
            };
            let mut tx = self.store.begin()?;
            tx.set_feed_state(source, report.error.as_deref())?;
            let actor = self.actor.clone();
            audit(
                tx.as_mut(),
                &actor,
                "feeds.sync",
                Some(source),
                json!({ "requests": report.requests, "records": report.records, "added": report.added, "updated": report.updated,
                        "not_modified": report.not_modified, "error": report.error }),
            )?;
            tx.commit()?;
            reports.push(report);
        }
        Ok(reports)
    }

    fn sync_nvd(
        &mut self,
        since: Option<DateTime<Utc>>,
        config: &SyncConfig,
        progress: &dyn Fn(SyncProgress<'_>),
    ) -> Result<SyncReport> {
        let mut report = SyncReport {
            source: "nvd".into(),
            ..Default::default()
        };
        let mut http = Http::new(config.policy(true));
        let now = Utc::now();
        let cursor = self.store.begin_read()?.feed_cursor("nvd")?;
        // Cursor: "done <time>" after a complete window, or "<from> <to> <next index>" mid-window.
        let parse = |t: &str| {
            DateTime::parse_from_rfc3339(t)
                .ok()
                .map(|d| d.with_timezone(&Utc))
        };
        let (mut windows, mut first_index) =
            match cursor.as_deref().map(|c| c.split(' ').collect::<Vec<_>>()) {
                Some(parts) if parts.len() == 3 && parts[0] != "done" => match (
                    parse(parts[0]),
                    parse(parts[1]),
                    parts[2].parse::<u64>().ok(),
                ) {
                    (Some(a), Some(b), Some(i)) => {
                        let mut w = vec![(a, b)];
                        w.extend(nvd_windows(b, now));
                        (w, i)
                    }
                    _ => (
                        nvd_windows(since.unwrap_or(now - chrono::Duration::days(120)), now),
                        0,
                    ),
                },
                Some(parts) if parts.len() == 2 && parts[0] == "done" => (
                    nvd_windows(
                        parse(parts[1]).unwrap_or(now - chrono::Duration::days(120)),
                        now,
                    ),
                    0,
                ),
                _ => (
                    nvd_windows(since.unwrap_or(now - chrono::Duration::days(120)), now),
                    0,
                ),
            };
        let key_header;
        let headers: Vec<(&str, &str)> = match &config.nvd_api_key {
            Some(k) => {
                key_header = k.clone();
                vec![("apiKey", key_header.as_str())]
            }
            None => Vec::new(),
        };
        for (from, to) in windows.drain(..) {
            let mut index = std::mem::take(&mut first_index);
            loop {
                let url = nvd_page_url(&config.nvd_url, from, to, index, config.nvd_page_size);
                let page = match http.get(&url, &headers) {
                    Ok(p) => p,
                    Err(e) => {
                        return Ok(report.stopped(&http, fetch_message(&e)));
                    }
                };
                let mut tx = self.store.begin()?;
                let mut upserter = Upserter::new(tx.as_mut(), "nvd", &url);
                let summary = nvd::parse_nvd(&page.body, &mut |v| upserter.take(v));
                let counts = match upserter.finish() {
                    Ok(c) => c,
                    Err(ImportFailure::Store(e)) => return Err(e.into()),
                    Err(ImportFailure::Feed(e)) => return Err(AppError::Internal(e)),
                };
                let summary = match summary {
                    Ok(s) => s,
                    Err(e) => {
                        drop(tx);
                        return Ok(report.stopped(&http, format!("{url}: {e}")));
                    }
                };
                report.records += summary.records;
                report.added += counts.0;
                report.updated += counts.1;
                report.unchanged += counts.2;
                report.skipped += summary.warnings.iter().filter(|w| w.skipped).count();
                let per_page = summary
                    .results_per_page
                    .filter(|n| *n > 0)
                    .unwrap_or(config.nvd_page_size);
                let total = summary.total_results.unwrap_or(0);
                let next = index + per_page.max(summary.records as u64).max(1);
                let done = next >= total || summary.records == 0;
                let cursor = if done {
                    format!("done {}", to.to_rfc3339())
                } else {
                    format!("{} {} {next}", from.to_rfc3339(), to.to_rfc3339())
                };
                tx.set_feed_cursor("nvd", &cursor)?;
                tx.commit()?;
                progress(SyncProgress {
                    source: "nvd",
                    requests: http.requests,
                    records: report.records,
                    total: Some(total),
                });
                if done {
                    break;
                }
                index = next;
            }
        }
        report.requests = http.requests;
        Ok(report)
    }

    fn sync_jvn(&mut self, config: &SyncConfig) -> Result<SyncReport> {
        #[derive(Deserialize)]
        struct Entry {
            url: String,
            filename: String,
            sha256: String,
        }
        let mut report = SyncReport {
            source: "jvn".into(),
            ..Default::default()
        };
        let mut http = Http::new(config.policy(false));
        for manifest_url in &config.jvn_checksum_urls {
            let manifest = match http.get(manifest_url, &[]) {
                Ok(f) => f,
                Err(e) => {
                    return Ok(report.stopped(&http, fetch_message(&e)));
                }
            };
            let entries: Vec<Entry> = match serde_json::from_slice(&manifest.body) {
                Ok(e) => e,
                Err(e) => {
                    let message = format!("{manifest_url}: not a JVN checksum manifest ({e})");
                    return Ok(report.stopped(&http, message));
                }
            };
            for entry in entries {
                let key = format!("jvn {}", entry.filename);
                let want = entry.sha256.trim().to_ascii_lowercase();
                if self.store.begin_read()?.feed_cursor(&key)?.as_deref() == Some(want.as_str()) {
                    continue; // this file has not changed since it was imported
                }
                let fetched = match http.get(&entry.url, &[]) {
                    Ok(f) => f,
                    Err(e) => {
                        return Ok(report.stopped(&http, fetch_message(&e)));
                    }
                };
                use sha2::{Digest, Sha256};
                let got: String = Sha256::digest(&fetched.body)
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect();
                if got != want {
                    report.skipped += 1;
                    report.error = Some(format!(
                        "{}: SHA-256 does not match {manifest_url}; the file was not imported",
                        entry.url
                    ));
                    continue;
                }
                let mut file = FeedFileReport {
                    origin: entry.url.clone(),
                    ..Default::default()
                };
                let mut tx = self.store.begin()?;
                match crate::feeds::import_jvn(tx.as_mut(), &entry.url, &fetched.body, &mut file) {
                    Ok(()) => {}
                    Err(ImportFailure::Store(e)) => return Err(e.into()),
                    Err(ImportFailure::Feed(e)) => {
                        report.error = Some(format!("{}: {e}", entry.url));
                        continue;
                    }
                }
                tx.set_feed_cursor(&key, &want)?;
                tx.commit()?;
                report.absorb(&file);
            }
        }
        Ok(report.finished(&http))
    }

    fn sync_csaf(&mut self, config: &SyncConfig) -> Result<SyncReport> {
        let mut report = SyncReport {
            source: "csaf".into(),
            ..Default::default()
        };
        let mut http = Http::new(config.policy(false));
        for dir in &config.csaf_directories {
            let key = format!("csaf {}", dir.changes);
            let since = self
                .store
                .begin_read()?
                .feed_cursor(&key)?
                .unwrap_or_default();
            let changes = match http.get(&dir.changes, &[]) {
                Ok(f) => f,
                Err(e) => {
                    return Ok(report.stopped(&http, fetch_message(&e)));
                }
            };
            let base = dir
                .base
                .clone()
                .unwrap_or_else(|| match dir.changes.rsplit_once('/') {
                    Some((folder, _)) => format!("{folder}/"),
                    None => String::new(),
                });
            // `path,timestamp` (quotes allowed); newest first in practice, any order accepted.
            let mut entries: Vec<(String, String)> = String::from_utf8_lossy(&changes.body)
                .lines()
                .filter_map(|l| {
                    let (path, time) = l.split_once(',')?;
                    Some((
                        path.trim().trim_matches('"').to_string(),
                        time.trim().trim_matches('"').to_string(),
                    ))
                })
                .filter(|(p, t)| !p.is_empty() && t.as_str() > since.as_str())
                .collect();
            entries.sort_by(|a, b| a.1.cmp(&b.1));
            let mut newest = since.clone();
            // After a failure the cursor stays put (the rest still import; the next sync
            // retries from there, unchanged ones costing nothing).
            let mut hold = false;
            for (path, time) in entries {
                let url = format!("{base}{}", path.trim_start_matches('/'));
                let fetched = match http.get(&url, &[]) {
                    Ok(f) => f,
                    Err(e) => {
                        return Ok(report.stopped(&http, fetch_message(&e))); // the cursor stays at the last advisory stored
                    }
                };
                // Providers publish `<advisory>.sha512` (or .sha256) beside each document.
                match http.get(&format!("{url}.sha512"), &[]) {
                    Ok(sum) => {
                        use sha2::{Digest, Sha512};
                        let want = String::from_utf8_lossy(&sum.body)
                            .split_whitespace()
                            .next()
                            .unwrap_or("")
                            .to_ascii_lowercase();
                        let got: String = Sha512::digest(&fetched.body)
                            .iter()
                            .map(|b| format!("{b:02x}"))
                            .collect();
                        if want != got {
                            report.skipped += 1;
                            report.error = Some(format!("{url}: SHA-512 does not match {url}.sha512; the advisory was not imported"));
                            hold = true;
                            continue;
                        }
                    }
                    Err(FetchError::Status { status: 404, .. }) => {}
                    Err(e) => {
                        return Ok(report.stopped(&http, fetch_message(&e)));
                    }
                }
                let mut file = FeedFileReport {
                    origin: url.clone(),
                    ..Default::default()
                };
                let mut tx = self.store.begin()?;
                match crate::feeds::import_csaf(tx.as_mut(), &url, &fetched.body, &mut file) {
                    Ok(()) => {}
                    Err(ImportFailure::Store(e)) => return Err(e.into()),
                    Err(ImportFailure::Feed(e)) => {
                        report.skipped += 1;
                        report.error = Some(format!("{url}: {e}"));
                        hold = true;
                        continue;
                    }
                }
                if !hold {
                    newest = newest.max(time);
                    tx.set_feed_cursor(&key, &newest)?;
                }
                tx.commit()?;
                report.absorb(&file);
            }
        }
        Ok(report.finished(&http))
    }

    fn sync_alerts(&mut self, config: &SyncConfig) -> Result<SyncReport> {
        let mut report = SyncReport {
            source: "alerts".into(),
            ..Default::default()
        };
        let mut http = Http::new(config.policy(false));
        for url in &config.alert_urls {
            let key = format!("alerts {url}");
            let cursor = self
                .store
                .begin_read()?
                .feed_cursor(&key)?
                .unwrap_or_default();
            let etag = cursor.trim();
            let headers: Vec<(&str, &str)> = if etag.is_empty() {
                Vec::new()
            } else {
                vec![("If-None-Match", etag)]
            };
            let fetched = match http.get(url, &headers) {
                Ok(f) => f,
                Err(e) => {
                    return Ok(report.stopped(&http, fetch_message(&e)));
                }
            };
            if fetched.status == 304 {
                continue;
            }
            let mut file = FeedFileReport {
                origin: url.clone(),
                ..Default::default()
            };
            let mut tx = self.store.begin()?;
            match crate::feeds::import_alerts(tx.as_mut(), url, &fetched.body, &mut file) {
                Ok(()) => {}
                Err(ImportFailure::Store(e)) => return Err(e.into()),
                Err(ImportFailure::Feed(e)) => {
                    return Ok(report.stopped(&http, format!("{url}: {e}")));
                }
            }
            tx.set_feed_cursor(&key, fetched.etag.as_deref().unwrap_or(""))?;
            tx.commit()?;
            report.absorb(&file);
        }
        report.requests = http.requests;
        report.not_modified =
            report.records == 0 && report.error.is_none() && !config.alert_urls.is_empty();
        Ok(report)
    }

    fn sync_whole(&mut self, source: &str, config: &SyncConfig) -> Result<SyncReport> {
        let mut report = SyncReport {
            source: source.into(),
            ..Default::default()
        };
        let url = if source == "kev" {
            &config.kev_url
        } else {
            &config.epss_url
        };
        let mut http = Http::new(config.policy(false));
        let cursor = self
            .store
            .begin_read()?
            .feed_cursor(source)?
            .unwrap_or_default();
        let (etag, modified) = cursor.split_once('\n').unwrap_or(("", ""));
        let mut headers = Vec::new();
        if !etag.is_empty() {
            headers.push(("If-None-Match", etag));
        }
        if !modified.is_empty() {
            headers.push(("If-Modified-Since", modified));
        }
        let fetched = http.get(url, &headers);
        report.requests = http.requests;
        let fetched = match fetched {
            Ok(f) => f,
            Err(e) => {
                report.error = Some(fetch_message(&e));
                return Ok(report);
            }
        };
        if fetched.status == 304 {
            report.not_modified = true;
            return Ok(report);
        }
        let mut body = fetched.body;
        if body.starts_with(&[0x1f, 0x8b]) {
            let mut plain = Vec::new();
            if let Err(e) = flate2::read::GzDecoder::new(&body[..]).read_to_end(&mut plain) {
                report.error = Some(format!("{url}: damaged gzip: {e}"));
                return Ok(report);
            }
            body = plain;
        }
        let mut file = FeedFileReport {
            origin: url.clone(),
            ..Default::default()
        };
        let mut tx = self.store.begin()?;
        let outcome = if source == "kev" {
            import_kev(tx.as_mut(), &body, &mut file)
        } else {
            import_epss(tx.as_mut(), &body, &mut file)
        };
        match outcome {
            Ok(()) => {}
            Err(ImportFailure::Store(e)) => return Err(e.into()),
            Err(ImportFailure::Feed(e)) => {
                report.error = Some(format!("{url}: {e}"));
                return Ok(report);
            }
        }
        tx.set_feed_cursor(
            source,
            &format!(
                "{}\n{}",
                fetched.etag.unwrap_or_default(),
                fetched.last_modified.unwrap_or_default()
            ),
        )?;
        tx.commit()?;
        (
            report.records,
            report.added,
            report.updated,
            report.unchanged,
            report.skipped,
        ) = (
            file.records,
            file.added,
            file.updated,
            file.unchanged,
            file.skipped,
        );
        Ok(report)
    }
}
