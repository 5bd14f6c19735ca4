//! `pull`: polls each configured log API and commits what it reads, page by page, with the
//! cursor after the page in the same commit.
//!
//! Invariants (LIVE-INGEST.md, "What a correct implementation handles"):
//! - A stream resumes from its latest committed cursor; a kill at any instant re-reads at
//!   most the page that was not committed, and never skips (the cursor only moves in the
//!   commit of the events before it).
//! - What to fetch next comes from the API (its links, its times), never the local clock.
//! - 429 and 503 wait as the API says (`Retry-After`, `X-Rate-Limit-Reset`,
//!   `X-RateLimit-Reset`); other 5xx and transport errors back off with jitter; 401/403
//!   stop the stream with a message naming the variable, never its value.
//! - A malformed record is refused (counted, logged with its stream, page and field) and
//!   the rest of the page is committed: one bad record must not stop a service forever.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use thiserror::Error;

use crate::event::Timestamp;
use crate::ledger::NewRecord;
use crate::sources::poll::{Reply, Request, Response, Stream};

use super::config::PullConfig;
use super::metrics::Metrics;
use super::writer::{Batch, Writer};

/// Sends one GET (the HTTP client lives behind this, so tests can count requests).
pub trait Transport: Send + Sync {
    fn get(&self, request: &Request, auth: &(String, String)) -> Result<Response, String>;
}

#[derive(Debug, Error)]
pub enum PullError {
    #[error("{stream}: {problem}")]
    Stream { stream: String, problem: String },
    #[error("{failed} of {total} stream(s) failed")]
    Failed { failed: usize, total: usize },
    #[error("the ledger: {0}")]
    Ledger(String),
}

/// How hard to try before a stream gives up for this round.
#[derive(Clone, Debug)]
pub struct PullOptions {
    /// Transport errors and 5xx answers in a row before the stream fails.
    pub retries: u32,
    /// The first back-off; doubled each time, with jitter.
    pub backoff: Duration,
    /// The longest single wait a rate limit may impose.
    pub max_wait: Duration,
}

impl Default for PullOptions {
    fn default() -> Self {
        PullOptions {
            retries: 5,
            backoff: Duration::from_secs(1),
            max_wait: Duration::from_secs(900),
        }
    }
}

/// What one stream did in a round.
#[derive(Clone, Debug, Default, Serialize)]
pub struct StreamReport {
    pub stream: String,
    pub pages: u64,
    pub added: u64,
    pub duplicates: u64,
    pub rejected: u64,
    pub conflicts: u64,
}

/// Per stream, for `/status`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct StreamStatus {
    pub source: String,
    /// When the stream last read its API without error.
    pub last_success: Option<Timestamp>,
    /// When its cursor was last committed.
    pub cursor_committed_at: Option<Timestamp>,
    /// The newest event time it has committed.
    pub newest_event: Option<Timestamp>,
    pub last_error: Option<String>,
    /// Set while the stream reads events so old that the API's retention is close: it is
    /// about to lose events for good.
    pub retention_warning: Option<String>,
}

pub type Board = Arc<Mutex<BTreeMap<String, StreamStatus>>>;

/// What a pull loop shares with the rest of the process.
#[derive(Clone)]
pub struct Context {
    pub metrics: Arc<Metrics>,
    pub board: Board,
    pub stop: Arc<AtomicBool>,
    pub options: PullOptions,
}

impl Context {
    pub fn new(stop: Arc<AtomicBool>) -> Self {
        Context {
            metrics: Arc::new(Metrics::default()),
            board: Arc::default(),
            stop,
            options: PullOptions::default(),
        }
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// Sleeps in small steps so a stop request is seen quickly; false when stopped.
    fn sleep(&self, total: Duration) -> bool {
        let step = Duration::from_millis(100);
        let mut left = total;
        while !left.is_zero() {
            if self.stopped() {
                return false;
            }
            let d = left.min(step);
            std::thread::sleep(d);
            left -= d;
        }
        !self.stopped()
    }

    fn update(&self, stream: &str, f: impl FnOnce(&mut StreamStatus)) {
        if let Ok(mut b) = self.board.lock() {
            f(b.entry(stream.to_string()).or_default());
        }
    }
}

/// The cursor name of a stream: `<pull name>/<stream>`.
pub fn stream_key(job: &PullConfig, stream: &Stream) -> String {
    format!("{}/{}", job.name, stream.name)
}

/// Every (job, stream, cursor name) of a config.
fn streams(jobs: &[PullConfig]) -> Result<Vec<(&PullConfig, Stream, String)>, PullError> {
    let mut out = Vec::new();
    for job in jobs {
        let list = job
            .poller
            .streams(&job.settings)
            .map_err(|e| PullError::Stream {
                stream: job.name.clone(),
                problem: e.to_string(),
            })?;
        for s in list {
            let key = stream_key(job, &s);
            out.push((job, s, key));
        }
    }
    Ok(out)
}

/// Pages every stream until it has nothing new, then returns (`pull --once`). Every stream
/// is tried; the error says how many failed.
pub fn pull_once(
    jobs: &[PullConfig],
    writer: &Writer,
    transport: &dyn Transport,
    ctx: &Context,
) -> Result<Vec<StreamReport>, PullError> {
    let all = streams(jobs)?;
    let keys: Vec<String> = all.iter().map(|(_, _, k)| k.clone()).collect();
    let mut cursors = writer.cursors(keys).map_err(PullError::Ledger)?;
    let mut reports = Vec::new();
    let mut failed = 0;
    for (job, stream, key) in &all {
        let mut cursor = cursors.remove(key);
        match catch_up(job, stream, key, &mut cursor, writer, transport, ctx) {
            Ok(r) => reports.push(r),
            Err(e) => {
                tracing::error!(stream = %key, error = %e, "pull failed");
                failed += 1;
            }
        }
        if ctx.stopped() {
            break;
        }
    }
    if failed > 0 {
        return Err(PullError::Failed {
            failed,
            total: all.len(),
        });
    }
    Ok(reports)
}

/// Polls every stream at its interval until `ctx.stop` is set (one thread per source).
pub fn pull_forever(
    jobs: &[PullConfig],
    writer: &Writer,
    transport: &dyn Transport,
    ctx: &Context,
) -> Result<(), PullError> {
    let all = streams(jobs)?;
    let keys: Vec<String> = all.iter().map(|(_, _, k)| k.clone()).collect();
    let cursors = writer.cursors(keys).map_err(PullError::Ledger)?;
    std::thread::scope(|scope| {
        for (job, stream, key) in &all {
            let mut cursor = cursors.get(key).cloned();
            scope.spawn(move || {
                while !ctx.stopped() {
                    if let Err(e) = catch_up(job, stream, key, &mut cursor, writer, transport, ctx)
                    {
                        tracing::error!(stream = %key, error = %e, "pull round failed; retrying at the next interval");
                    }
                    if !ctx.sleep(job.interval) {
                        break;
                    }
                }
            });
        }
    });
    Ok(())
}

/// Pages one stream until the API says it is caught up (or the stream fails).
fn catch_up(
    job: &PullConfig,
    stream: &Stream,
    key: &str,
    cursor: &mut Option<String>,
    writer: &Writer,
    transport: &dyn Transport,
    ctx: &Context,
) -> Result<StreamReport, PullError> {
    let fail = |problem: String| {
        ctx.update(key, |s| s.last_error = Some(problem.clone()));
        PullError::Stream {
            stream: key.to_string(),
            problem,
        }
    };
    ctx.update(key, |s| s.source = job.poller.name().to_string());
    let mut report = StreamReport {
        stream: key.to_string(),
        ..StreamReport::default()
    };
    // The cursor in the ledger: a caught-up position that differs from it is committed
    // even without new events, so the next run does not resume behind it.
    let mut committed_cursor = cursor.clone();
    let mut restarted = false;
    loop {
        if ctx.stopped() {
            return Ok(report);
        }
        let token = job.credential.current().map_err(&fail)?;
        let auth = job.poller.auth(&job.settings, token.expose());
        let request = job
            .poller
            .request(&job.settings, stream, cursor.as_deref(), Timestamp::now())
            .map_err(|e| fail(e.to_string()))?;
        let page = match fetch(
            job,
            stream,
            key,
            &request,
            &auth,
            cursor.as_deref(),
            transport,
            ctx,
        ) {
            Ok(Some(page)) => page,
            Ok(None) => return Ok(report), // stopped while waiting
            Err(Failure::Stale(problem)) if !restarted => {
                match cursor.as_deref().and_then(|c| job.poller.restart(c)) {
                    Some(fresh) => {
                        tracing::warn!(stream = %key, problem = %problem, "the API refused the saved position; starting its window again");
                        restarted = true;
                        *cursor = Some(fresh);
                        continue;
                    }
                    None => return Err(fail(problem)),
                }
            }
            Err(Failure::Stale(problem) | Failure::Fatal(problem)) => return Err(fail(problem)),
        };
        restarted = false;
        report.pages += 1;
        let mut records = Vec::with_capacity(page.records.len());
        let mut newest: Option<Timestamp> = None;
        for (i, r) in page.records.into_iter().enumerate() {
            match stream.source.normalise(&r.value) {
                Ok(mut events) => {
                    crate::sources::key_events(&r.raw, &mut events);
                    for event in events {
                        newest = newest.max(Some(event.occurred_at));
                        records.push(NewRecord {
                            event,
                            raw: r.raw.clone(),
                        });
                    }
                }
                Err(e) => {
                    report.rejected += 1;
                    ctx.metrics
                        .inc("auditledger_rejects_total", &[("stream", key)], 1.0);
                    tracing::warn!(stream = %key, page = %request.url, record = i, problem = %e, "record refused");
                }
            }
        }
        let committed = writer
            .commit(Batch {
                origin: key.to_string(),
                records,
                cursor: Some((key.to_string(), page.next.clone())),
                force_cursor: !page.more && committed_cursor.as_deref() != Some(page.next.as_str()),
            })
            .map_err(&fail)?;
        if committed.cursor_committed {
            committed_cursor = Some(page.next.clone());
        }
        report.added += committed.added;
        report.duplicates += committed.duplicates;
        report.conflicts += committed.conflicts;
        let now = Timestamp::now();
        ctx.update(key, |s| {
            s.last_success = Some(now);
            s.last_error = None;
            if committed.cursor_committed {
                s.cursor_committed_at = Some(now);
                s.newest_event = s.newest_event.max(newest);
            }
        });
        let warning = retention_warning(job, newest, now);
        if let Some(w) = &warning {
            tracing::warn!(stream = %key, "{w}");
        }
        ctx.update(key, |s| s.retention_warning = warning);
        ctx.metrics.set_gauge(
            "auditledger_last_successful_pull_timestamp_seconds",
            &[("stream", key)],
            (now.0 / 1_000_000) as f64,
        );
        if let Some(newest) = ctx
            .board
            .lock()
            .ok()
            .and_then(|b| b.get(key).and_then(|s| s.newest_event))
        {
            ctx.metrics.set_gauge(
                "auditledger_cursor_lag_seconds",
                &[("stream", key)],
                ((now.0 - newest.0) / 1_000_000) as f64,
            );
        }
        *cursor = Some(page.next);
        if !page.more {
            return Ok(report);
        }
    }
}

/// A warning when the newest event of a page is older than 90% of what the API keeps:
/// the stream is so far behind that the API will drop events before it reads them.
fn retention_warning(
    job: &PullConfig,
    newest: Option<Timestamp>,
    now: Timestamp,
) -> Option<String> {
    let keep = job.poller.retention_seconds()?;
    let age = (now.0 - newest?.0) / 1_000_000;
    (age > 0 && age as u64 > keep / 10 * 9).then(|| {
        format!(
            "reading events {} day(s) old; {} keeps {} day(s): events older than that are lost for good (catch up faster, or ingest an export)",
            age / 86_400,
            job.poller.name(),
            keep / 86_400
        )
    })
}

/// Why a page could not be had.
enum Failure {
    /// The API refused a saved position (400, 404, 410 to a request from a cursor): the
    /// window may be restarted.
    Stale(String),
    Fatal(String),
}

/// Google answers a spent quota with 403 `rateLimitExceeded` / `userRateLimitExceeded` and
/// no rate-limit header: a wait, not a refused credential.
fn rate_limited_body(body: &[u8]) -> bool {
    let text = String::from_utf8_lossy(body.get(..4096).unwrap_or(body));
    text.contains("rateLimitExceeded") || text.contains("quotaExceeded")
}

/// One page, with the waits and retries the API asks for. `Ok(None)`: stopped meanwhile.
#[allow(clippy::too_many_arguments)]
fn fetch(
    job: &PullConfig,
    stream: &Stream,
    key: &str,
    request: &Request,
    auth: &(String, String),
    cursor: Option<&str>,
    transport: &dyn Transport,
    ctx: &Context,
) -> Result<Option<crate::sources::poll::Page>, Failure> {
    let opts = &ctx.options;
    let mut failures = 0u32;
    let mut waits = 0u32;
    loop {
        let outcome = transport.get(request, auth);
        let (wait, why) = match outcome {
            Err(e) => {
                failures += 1;
                ctx.metrics.inc(
                    "auditledger_pull_requests_total",
                    &[("stream", key), ("outcome", "transport_error")],
                    1.0,
                );
                (backoff(opts, failures), format!("request failed: {e}"))
            }
            Ok(response) => {
                let outcome = match response.status {
                    200..=299 => "ok",
                    429 => "rate_limited",
                    500..=599 => "server_error",
                    _ => "refused",
                };
                ctx.metrics.inc(
                    "auditledger_pull_requests_total",
                    &[("stream", key), ("outcome", outcome)],
                    1.0,
                );
                match response.status {
                    200..=299 => match job.poller.read(&job.settings, stream, cursor, &response) {
                        Ok(Reply::Page(page)) => return Ok(Some(page)),
                        Ok(Reply::Wait { seconds, why }) => {
                            waits += 1;
                            (Duration::from_secs(seconds).min(opts.max_wait), why)
                        }
                        Err(e) => return Err(Failure::Fatal(format!("{}: {e}", request.url))),
                    },
                    429 | 503 => {
                        waits += 1;
                        let wait = rate_limit_wait(&response)
                            .unwrap_or_else(|| backoff(opts, waits))
                            .min(opts.max_wait);
                        (wait, format!("HTTP {} (rate limited)", response.status))
                    }
                    403 if response
                        .header("x-ratelimit-remaining")
                        .is_some_and(|v| v.trim() == "0") =>
                    {
                        waits += 1;
                        let wait = rate_limit_wait(&response)
                            .unwrap_or_else(|| backoff(opts, waits))
                            .min(opts.max_wait);
                        (wait, "HTTP 403 with no rate limit left".to_string())
                    }
                    500..=599 => {
                        failures += 1;
                        (backoff(opts, failures), format!("HTTP {}", response.status))
                    }
                    403 if rate_limited_body(&response.body) => {
                        waits += 1;
                        let wait = rate_limit_wait(&response)
                            .unwrap_or_else(|| backoff(opts, waits))
                            .min(opts.max_wait);
                        (wait, "HTTP 403 (quota exceeded)".to_string())
                    }
                    401 | 403 => {
                        return Err(Failure::Fatal(format!(
                        "HTTP {}: the API refused the credential in {} (check it and its scopes)",
                        response.status,
                        job.credential.origin()
                    )))
                    }
                    400 | 404 | 410 if cursor.is_some() => {
                        return Err(Failure::Stale(format!(
                            "HTTP {} for {}: {}",
                            response.status,
                            request.url,
                            snippet(&response.body)
                        )))
                    }
                    status => {
                        return Err(Failure::Fatal(format!(
                            "HTTP {status} for {}: {}",
                            request.url,
                            snippet(&response.body)
                        )))
                    }
                }
            }
        };
        if failures > opts.retries || waits > 100 {
            return Err(Failure::Fatal(format!(
                "{why}; gave up after {} attempt(s)",
                failures + waits
            )));
        }
        tracing::info!(stream = %key, wait_ms = wait.as_millis() as u64, reason = %why, "waiting before asking again");
        if !ctx.sleep(wait) {
            return Ok(None);
        }
    }
}

/// Exponential back-off with up to 25% jitter.
fn backoff(opts: &PullOptions, attempt: u32) -> Duration {
    let base = opts
        .backoff
        .saturating_mul(1 << attempt.saturating_sub(1).min(10))
        .min(opts.max_wait);
    let mut b = [0u8; 2];
    let jitter = getrandom::getrandom(&mut b).map_or(0, |_| u16::from_le_bytes(b));
    base + base.mul_f64(f64::from(jitter) / f64::from(u16::MAX) / 4.0)
}

/// The wait a rate-limited answer asks for: `Retry-After` (seconds or an HTTP date), or a
/// reset time in epoch seconds measured against the server's own `Date`.
pub fn rate_limit_wait(response: &Response) -> Option<Duration> {
    let server_now = response
        .header("date")
        .and_then(|d| chrono::DateTime::parse_from_rfc2822(d).ok())
        .map(|d| d.timestamp())
        .unwrap_or_else(|| chrono::Utc::now().timestamp());
    if let Some(v) = response.header("retry-after") {
        if let Ok(secs) = v.trim().parse::<u64>() {
            return Some(Duration::from_secs(secs));
        }
        if let Ok(at) = chrono::DateTime::parse_from_rfc2822(v.trim()) {
            return Some(Duration::from_secs(
                (at.timestamp() - server_now).max(0) as u64
            ));
        }
    }
    for name in ["x-rate-limit-reset", "x-ratelimit-reset"] {
        if let Some(reset) = response
            .header(name)
            .and_then(|v| v.trim().parse::<i64>().ok())
        {
            // One second more: the reset instant is when the window opens, not after.
            return Some(Duration::from_secs((reset - server_now).max(0) as u64 + 1));
        }
    }
    None
}

/// The start of a body, printable, for an error message.
fn snippet(body: &[u8]) -> String {
    let text: String = String::from_utf8_lossy(body)
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(200)
        .collect();
    text.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limit_waits_follow_the_server_clock() {
        let r = Response {
            status: 429,
            headers: vec![
                ("Date".into(), "Tue, 01 Dec 2026 10:00:00 GMT".into()),
                ("X-Rate-Limit-Reset".into(), "1796119230".into()),
            ],
            body: vec![],
        };
        // 1796119230 is 2026-12-01T10:00:30Z.
        assert_eq!(rate_limit_wait(&r), Some(Duration::from_secs(31)));
        let r = Response {
            status: 429,
            headers: vec![("Retry-After".into(), "7".into())],
            body: vec![],
        };
        assert_eq!(rate_limit_wait(&r), Some(Duration::from_secs(7)));
        assert_eq!(rate_limit_wait(&Response::default()), None);
    }

    #[test]
    fn a_stream_near_the_apis_retention_is_warned_about() {
        let job = PullConfig {
            name: "okta".into(),
            poller: crate::sources::poll::by_name("okta").unwrap_or_else(|| panic!()),
            settings: Default::default(),
            credential: super::super::config::Credential::File("/x".into()),
            interval: Duration::from_secs(60),
        };
        let now = Timestamp::parse_rfc3339("2026-12-01T00:00:00Z").unwrap_or(Timestamp(0));
        let days = |d: i64| Some(Timestamp(now.0 - d * 86_400_000_000));
        let w = retention_warning(&job, days(85), now).unwrap_or_default();
        assert!(
            w.contains("85 day(s) old") && w.contains("okta keeps 90"),
            "{w}"
        );
        assert_eq!(retention_warning(&job, days(10), now), None);
        assert_eq!(retention_warning(&job, None, now), None);
    }

    #[test]
    fn a_spent_google_quota_is_a_wait_not_a_refusal() {
        assert!(rate_limited_body(
            br#"{"error":{"code":403,"errors":[{"reason":"rateLimitExceeded"}]}}"#
        ));
        assert!(!rate_limited_body(
            br#"{"error":{"code":403,"errors":[{"reason":"insufficientPermissions"}]}}"#
        ));
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let o = PullOptions {
            backoff: Duration::from_millis(100),
            max_wait: Duration::from_secs(1),
            ..PullOptions::default()
        };
        let first = backoff(&o, 1);
        assert!(first >= Duration::from_millis(100) && first <= Duration::from_millis(125));
        let third = backoff(&o, 3);
        assert!(third >= Duration::from_millis(400) && third <= Duration::from_millis(500));
        assert!(backoff(&o, 30) <= Duration::from_millis(1250));
    }
}
