//! HTTP for feed downloads — the only crate that talks to the network for feeds.
//!
//! [`Http`] wraps a ureq agent (rustls; `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY` honoured) with
//! what feed servers expect from a polite client: a minimum interval between requests
//! (NVD allows 5 requests per 30 s without an API key, 50 with one; MyJVN asks for 2–3 per
//! second), retries with exponential backoff on 429, 5xx, transport errors and truncated
//! bodies (honouring `Retry-After`), and conditional requests (`If-None-Match`,
//! `If-Modified-Since`). [`nvd_windows`] splits a time span into NVD's ≤ 120-day windows.
//!
//! It does not parse feeds or touch the store: the application layer does, so that every
//! page is parsed and committed before the next is fetched (resumable after interruption).
#![forbid(unsafe_code)]

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

/// How to behave towards one server.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Minimum time between two requests.
    pub min_interval: Duration,
    /// Attempts per request (1 = no retry).
    pub attempts: u32,
    /// First backoff; doubles per retry (capped at 60 s, or `Retry-After`).
    pub backoff: Duration,
    /// Whole-request timeout.
    pub timeout: Duration,
    /// Largest body accepted.
    pub max_body: u64,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            min_interval: Duration::from_millis(500),
            attempts: 5,
            backoff: Duration::from_secs(2),
            timeout: Duration::from_secs(120),
            max_body: 1 << 30,
        }
    }
}

/// A successful response (2xx or 304).
#[derive(Debug, Clone)]
pub struct Fetched {
    /// HTTP status (200, 304, …).
    pub status: u16,
    /// The body (empty for 304).
    pub body: Vec<u8>,
    /// `ETag`, when sent.
    pub etag: Option<String>,
    /// `Last-Modified`, when sent.
    pub last_modified: Option<String>,
    /// Attempts it took.
    pub attempts: u32,
}

/// Why a download failed for good.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// The server answered with an error status that retrying will not fix (e.g. 403, 404),
    /// or a retryable one on every attempt.
    #[error("{url}: HTTP {status} after {attempts} attempt(s)")]
    Status {
        /// The URL.
        url: String,
        /// The last status.
        status: u16,
        /// Attempts made.
        attempts: u32,
    },
    /// No usable response on any attempt (connection refused, timeout, truncated body).
    #[error("{url}: {message} after {attempts} attempt(s)")]
    Transport {
        /// The URL.
        url: String,
        /// The last error.
        message: String,
        /// Attempts made.
        attempts: u32,
    },
}

/// A polite HTTP client for one feed server.
pub struct Http {
    agent: ureq::Agent,
    policy: Policy,
    last_request: Option<Instant>,
    /// Requests sent so far (including retries).
    pub requests: u32,
}

fn retryable(status: u16) -> bool {
    status == 429 || status == 408 || (500..=599).contains(&status)
}

impl Http {
    /// A client with `policy`, identifying itself as mamori.
    pub fn new(policy: Policy) -> Http {
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(policy.timeout))
            .http_status_as_error(false)
            .proxy(ureq::Proxy::try_from_env())
            .user_agent(format!(
                "mamori/{} (hospital security operations)",
                env!("CARGO_PKG_VERSION")
            ))
            .build();
        Http {
            agent: config.into(),
            policy,
            last_request: None,
            requests: 0,
        }
    }

    fn pace(&mut self) {
        if let Some(last) = self.last_request {
            let since = last.elapsed();
            if since < self.policy.min_interval {
                std::thread::sleep(self.policy.min_interval - since);
            }
        }
        self.last_request = Some(Instant::now());
    }

    /// GETs `url` with extra `headers`, retrying as the policy says.
    pub fn get(&mut self, url: &str, headers: &[(&str, &str)]) -> Result<Fetched, FetchError> {
        let mut attempt = 0;
        let mut delay = self.policy.backoff;
        loop {
            attempt += 1;
            self.pace();
            self.requests += 1;
            let mut request = self.agent.get(url);
            for (k, v) in headers {
                request = request.header(*k, *v);
            }
            let outcome = request.call();
            let (retry_after, failure) = match outcome {
                Ok(mut response) => {
                    let status = response.status().as_u16();
                    let header = |name: &str| {
                        response
                            .headers()
                            .get(name)
                            .and_then(|v| v.to_str().ok())
                            .map(str::to_string)
                    };
                    let (etag, last_modified, retry_after) = (
                        header("etag"),
                        header("last-modified"),
                        header("retry-after"),
                    );
                    if status == 304 {
                        return Ok(Fetched {
                            status,
                            body: Vec::new(),
                            etag,
                            last_modified,
                            attempts: attempt,
                        });
                    }
                    if (200..300).contains(&status) {
                        match response
                            .body_mut()
                            .with_config()
                            .limit(self.policy.max_body)
                            .read_to_vec()
                        {
                            Ok(body) => {
                                return Ok(Fetched {
                                    status,
                                    body,
                                    etag,
                                    last_modified,
                                    attempts: attempt,
                                })
                            }
                            Err(e) => (
                                None,
                                FetchError::Transport {
                                    url: url.into(),
                                    message: format!("body: {e}"),
                                    attempts: attempt,
                                },
                            ),
                        }
                    } else if retryable(status) {
                        (
                            retry_after,
                            FetchError::Status {
                                url: url.into(),
                                status,
                                attempts: attempt,
                            },
                        )
                    } else {
                        return Err(FetchError::Status {
                            url: url.into(),
                            status,
                            attempts: attempt,
                        });
                    }
                }
                Err(e) => (
                    None,
                    FetchError::Transport {
                        url: url.into(),
                        message: e.to_string(),
                        attempts: attempt,
                    },
                ),
            };
            if attempt >= self.policy.attempts {
                return Err(failure);
            }
            let wait = retry_after
                .and_then(|s| s.trim().parse::<u64>().ok())
                .map(Duration::from_secs)
                .unwrap_or(delay)
                .min(Duration::from_secs(60));
            std::thread::sleep(wait);
            delay = (delay * 2).min(Duration::from_secs(60));
        }
    }
}

/// Splits `[from, to)` into NVD's windows of at most 120 days.
pub fn nvd_windows(from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let step = chrono::Duration::days(120);
    let mut out = Vec::new();
    let mut start = from;
    while start < to {
        let end = (start + step).min(to);
        out.push((start, end));
        start = end;
    }
    out
}

/// The NVD CVE API 2.0 URL for one page of one window. Times are sent in NVD's documented
/// extended ISO-8601 form without an offset, which NVD reads as GMT (our windows are UTC).
pub fn nvd_page_url(
    base: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    start_index: u64,
    per_page: u64,
) -> String {
    let fmt = |t: DateTime<Utc>| t.format("%Y-%m-%dT%H:%M:%S%.3f").to_string();
    let sep = if base.contains('?') { '&' } else { '?' };
    format!(
        "{base}{sep}lastModStartDate={}&lastModEndDate={}&startIndex={start_index}&resultsPerPage={per_page}",
        fmt(from),
        fmt(to)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_at_most_120_days_and_cover_the_span() {
        let from = DateTime::parse_from_rfc3339("2025-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let to = DateTime::parse_from_rfc3339("2025-12-31T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let w = nvd_windows(from, to);
        assert_eq!(w.len(), 4);
        assert_eq!(w[0].0, from);
        assert_eq!(w.last().unwrap().1, to);
        assert!(w
            .iter()
            .all(|(a, b)| *b - *a <= chrono::Duration::days(120)));
        assert!(w.windows(2).all(|p| p[0].1 == p[1].0));
        assert!(nvd_windows(to, from).is_empty());
    }

    #[test]
    fn page_urls() {
        let t = DateTime::parse_from_rfc3339("2025-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            nvd_page_url("http://127.0.0.1:1/cves", t, t, 2000, 2000),
            "http://127.0.0.1:1/cves?lastModStartDate=2025-01-01T00:00:00.000&lastModEndDate=2025-01-01T00:00:00.000&startIndex=2000&resultsPerPage=2000"
        );
    }
}
