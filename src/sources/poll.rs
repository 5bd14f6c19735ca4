//! Log APIs polled for events: what to ask each IdP's API next and how to read its answer.
//!
//! A [`Poller`] is pure: it builds the next [`Request`] from the stream's cursor and turns a
//! [`Response`] into a [`Reply`] (records, the cursor after them, whether more is waiting,
//! or how long the API asked us to wait). It never does I/O, so the HTTP client, retries,
//! the clock and the ledger stay in `intake::pull`, and each IdP's paging is tested
//! without a network.
//!
//! Invariants every poller keeps:
//! - The cursor is the vendor's own position (Okta's `next` URL, a Graph `@odata.nextLink`
//!   or a server-time watermark), never the local clock's "now" (LIVE-INGEST.md, item 7):
//!   a watermark moves only to the oldest point that may still be incomplete.
//! - Every request goes to the configured origin: a `next` link pointing elsewhere is an
//!   error, so the credential is never sent to a host the config did not name.
//! - Records are returned with their raw bytes as the API sent them (the evidence); each is
//!   parsed by the same [`Source`] as file ingest.
//! - Re-reading is allowed (overlap windows, a kill before the commit): the ledger
//!   de-duplicates on the vendor's id and content. Skipping never is.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;

use super::Source;
use crate::event::Timestamp;

/// One GET to send. The credential's header is added by the caller ([`Poller::auth`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub url: String,
    pub headers: Vec<(String, String)>,
}

impl Request {
    pub fn get(url: impl Into<String>) -> Self {
        Request {
            url: url.into(),
            headers: vec![("Accept".into(), "application/json".into())],
        }
    }
}

/// What the API answered.
#[derive(Clone, Debug, Default)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// The first header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// One record of a page: its bytes as sent and its parsed value.
#[derive(Clone, Debug)]
pub struct PageRecord {
    pub raw: Vec<u8>,
    pub value: Value,
}

/// A page of records and the cursor that follows them.
#[derive(Clone, Debug)]
pub struct Page {
    pub records: Vec<PageRecord>,
    /// The position after this page: committed with the page's events.
    pub next: String,
    /// Whether asking again now may return more (false: caught up, wait for the interval).
    pub more: bool,
}

/// How the API answered a request.
#[derive(Clone, Debug)]
pub enum Reply {
    Page(Page),
    /// Rate limited or temporarily unavailable: ask again after this many seconds.
    Wait {
        seconds: u64,
        why: String,
    },
}

/// Why a page could not be read; the request is not retried as is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PollError(pub String);

impl fmt::Display for PollError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PollError {}

/// A pull source's settings from the config (`[[pull]]`), already validated.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    /// The API's origin (and path prefix), without a trailing slash.
    pub base_url: String,
    /// Where a stream with no cursor yet starts.
    pub since: Option<Timestamp>,
    /// How far before the watermark to re-read, for APIs whose events arrive late (seconds).
    pub overlap_seconds: u64,
    /// Records per page asked for (capped at what the API allows).
    pub page_size: u32,
    /// Source-specific keys (`org`, `realm`, `auth`, `applications`...), as strings.
    pub options: BTreeMap<String, String>,
}

impl Settings {
    pub fn option(&self, key: &str) -> Option<&str> {
        self.options.get(key).map(String::as_str)
    }

    pub fn required(&self, key: &str) -> Result<&str, PollError> {
        self.option(key)
            .ok_or_else(|| PollError(format!("the `{key}` key is required for this source")))
    }
}

/// One log an IdP's API serves, with its own cursor (Entra has two: sign-ins and audits).
#[derive(Clone, Copy)]
pub struct Stream {
    /// Appended to the pull source's name to name the cursor (`okta/logs`).
    pub name: &'static str,
    /// The parser for its records: the same as file ingest's.
    pub source: &'static dyn Source,
}

/// One IdP's log API.
pub trait Poller: Sync {
    /// The `source` value in the config (`okta`).
    fn name(&self) -> &'static str;
    /// The keys this source accepts besides the common ones, each with its meaning (for the
    /// config template and for refusing unknown keys).
    fn keys(&self) -> &'static [(&'static str, &'static str)];
    /// The logs it reads, each with its own cursor.
    fn streams(&self, settings: &Settings) -> Result<Vec<Stream>, PollError>;
    /// The header that carries the credential (a value is never logged).
    fn auth(&self, settings: &Settings, token: &str) -> (String, String);
    /// The request that continues `stream` from `cursor` (`None`: the stream's first).
    fn request(
        &self,
        settings: &Settings,
        stream: &Stream,
        cursor: Option<&str>,
        now: Timestamp,
    ) -> Result<Request, PollError>;
    /// How long the API keeps events, if bounded: a stream further behind than this loses
    /// events for good (LIVE-INGEST.md, "retention cliffs").
    fn retention_seconds(&self) -> Option<u64> {
        None
    }
    /// A cursor that starts the current window again, for when the API refuses a saved
    /// mid-window position (an expired Graph `$skiptoken` or Google `pageToken`: 400/410).
    /// `None`: the cursor cannot be restarted (Okta's and GitHub's links are the position).
    fn restart(&self, cursor: &str) -> Option<String> {
        Window::restart(cursor)
    }
    /// Reads the answer to [`Poller::request`].
    fn read(
        &self,
        settings: &Settings,
        stream: &Stream,
        cursor: Option<&str>,
        response: &Response,
    ) -> Result<Reply, PollError>;
}

/// Every pull source.
pub fn all() -> Vec<&'static dyn Poller> {
    vec![
        &super::okta::poll::OktaLogs,
        &super::entra::poll::EntraLogs,
        &super::github::poll::GitHubAuditLog,
        &super::google::poll::GoogleReports,
        &super::keycloak::poll::KeycloakEvents,
        &super::onelogin::poll::OneLoginEvents,
    ]
}

pub fn by_name(name: &str) -> Option<&'static dyn Poller> {
    all().into_iter().find(|p| p.name() == name)
}

// ---- helpers shared by the pollers ---------------------------------------------------------

/// Splits a JSON array (the whole body, or the member at `pointer` of an object body) into
/// records with their raw bytes.
pub fn records_at(body: &[u8], pointer: &str) -> Result<Vec<PageRecord>, PollError> {
    let items: Vec<Box<RawValue>> = if pointer.is_empty() {
        serde_json::from_slice(body)
            .map_err(|e| PollError(format!("the body is not a JSON array: {e}")))?
    } else {
        let top: BTreeMap<String, Box<RawValue>> = serde_json::from_slice(body)
            .map_err(|e| PollError(format!("the body is not a JSON object: {e}")))?;
        let key = pointer.trim_start_matches('/');
        match top.get(key) {
            None => Vec::new(),
            Some(v) if v.get() == "null" => Vec::new(),
            Some(v) => serde_json::from_str(v.get())
                .map_err(|e| PollError(format!("`{pointer}` is not an array: {e}")))?,
        }
    };
    items
        .into_iter()
        .enumerate()
        .map(|(i, raw)| {
            let value: Value = serde_json::from_str(raw.get())
                .map_err(|e| PollError(format!("record {i}: {e}")))?;
            Ok(PageRecord {
                raw: raw.get().as_bytes().to_vec(),
                value,
            })
        })
        .collect()
}

/// Splits the JSON array at `path` (object keys, outermost first) of a body into records
/// with their raw bytes: `["data", "events"]` for an Okta Event Hook delivery. A missing or
/// null member is no records.
pub fn records_at_path(body: &[u8], path: &[&str]) -> Result<Vec<PageRecord>, PollError> {
    let Some((last, outer)) = path.split_last() else {
        return records_at(body, "");
    };
    let mut current: Box<RawValue> = serde_json::from_slice(body)
        .map_err(|e| PollError(format!("the body is not JSON: {e}")))?;
    let mut walked = String::new();
    for key in outer {
        walked.push('/');
        walked.push_str(key);
        let object: BTreeMap<String, Box<RawValue>> = serde_json::from_str(current.get())
            .map_err(|_| PollError(format!("expected an object above `{walked}`")))?;
        match object.into_iter().find(|(k, _)| k == key) {
            Some((_, v)) if v.get() != "null" => current = v,
            _ => return Ok(Vec::new()),
        }
    }
    records_at(current.get().as_bytes(), &format!("/{last}"))
}

/// The URL of the `Link` header's `rel="next"` (RFC 8288), if any.
pub fn link_next(response: &Response) -> Option<String> {
    response
        .headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("link"))
        .flat_map(|(_, v)| v.split(','))
        .find_map(|part| {
            let (url, params) = part.split_once(';')?;
            let is_next = params.split(';').any(|p| {
                let p = p.trim().replace(' ', "");
                p == "rel=\"next\"" || p == "rel=next"
            });
            let url = url.trim().strip_prefix('<')?.strip_suffix('>')?;
            is_next.then(|| url.to_string())
        })
}

/// Refuses a URL outside the configured base (a `next` link to another host would get the
/// credential).
pub fn same_origin(settings: &Settings, url: &str) -> Result<(), PollError> {
    let origin = origin_of(&settings.base_url);
    if origin_of(url) == origin && !origin.is_empty() {
        Ok(())
    } else {
        Err(PollError(format!(
            "the API sent a link outside {origin:?} ({:?}); not followed",
            origin_of(url)
        )))
    }
}

/// `scheme://host[:port]` of a URL, lower-cased.
pub fn origin_of(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return String::new();
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    format!("{}://{}", scheme.to_lowercase(), host.to_lowercase())
}

/// Percent-encodes a query value (RFC 3986 unreserved characters kept).
pub fn encode_query(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A time as the APIs take it: RFC 3339 UTC with milliseconds.
pub fn api_time(t: Timestamp) -> String {
    t.to_datetime().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// The max event time of a page's records, as the stream's parser reads it (records it
/// refuses do not count: the caller refuses them too).
pub fn newest_event(stream: &Stream, records: &[PageRecord]) -> Option<Timestamp> {
    records
        .iter()
        .filter_map(|r| stream.source.normalise(&r.value).ok())
        .flatten()
        .map(|e| e.occurred_at)
        .max()
}

/// The cursor of an API read in windows, for logs that page newest first or whose events
/// arrive late (Graph, the Reports API, Keycloak, OneLogin). A window starts at the
/// watermark minus the overlap and is read to its last page; only then does the watermark
/// move, to the newest event time seen in the window (a server time, never the local
/// clock). Mid-window, `next` holds the API's position (a link, a page token, an offset).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    /// The newest event time of every completed window; none before the first event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watermark: Option<Timestamp>,
    /// Where the window being read starts; none: no lower bound (all the API keeps).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Timestamp>,
    /// The newest event time seen so far in this window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub newest: Option<Timestamp>,
    /// Where this window continues; none: the window is complete.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

impl Window {
    /// A [`Window`] cursor without its mid-window position: the window starts again from
    /// the same watermark (re-reading is harmless, skipping is not). `None` for a cursor
    /// that is not a window or has no position to drop.
    pub fn restart(cursor: &str) -> Option<String> {
        let w: Window = serde_json::from_str(cursor).ok()?;
        w.next.as_ref()?;
        serde_json::to_string(&Window {
            watermark: w.watermark,
            ..Window::default()
        })
        .ok()
    }

    /// The window a request continues or starts: a mid-window cursor as it is, else a new
    /// window from `watermark - overlap` (never before `since`), or from `since` when
    /// nothing was read yet.
    pub fn current(
        settings: &Settings,
        cursor: Option<&str>,
        default_overlap: u64,
    ) -> Result<Window, PollError> {
        let saved: Window = match cursor {
            None => Window::default(),
            Some(text) => serde_json::from_str(text).map_err(|e| {
                PollError(format!(
                    "the saved cursor {text:?} is not this source's: {e}"
                ))
            })?,
        };
        if saved.next.is_some() {
            return Ok(saved);
        }
        Ok(Window {
            from: Window::start(settings, saved.watermark, default_overlap),
            watermark: saved.watermark,
            newest: None,
            next: None,
        })
    }

    fn start(
        settings: &Settings,
        watermark: Option<Timestamp>,
        default_overlap: u64,
    ) -> Option<Timestamp> {
        let overlap = match settings.overlap_seconds {
            0 => default_overlap,
            n => n,
        };
        let overlap = i64::try_from(overlap)
            .unwrap_or(i64::MAX / 1_000_000)
            .saturating_mul(1_000_000);
        match watermark {
            None => settings.since,
            Some(w) => Some(
                Timestamp(w.0.saturating_sub(overlap))
                    .max(settings.since.unwrap_or(Timestamp(i64::MIN))),
            ),
        }
    }

    /// The cursor after a page whose newest event is `page_newest`, and whether to ask again
    /// now: while the window has a `next`; at its end, only if the next window would start
    /// elsewhere than this one did (otherwise it is the same question: caught up).
    pub fn after_page(
        &self,
        settings: &Settings,
        default_overlap: u64,
        page_newest: Option<Timestamp>,
        next: Option<String>,
    ) -> Result<(String, bool), PollError> {
        let newest = self.newest.max(page_newest);
        let (window, more) = match next {
            Some(next) => (
                Window {
                    watermark: self.watermark,
                    from: self.from,
                    newest,
                    next: Some(next),
                },
                true,
            ),
            None => {
                let watermark = self.watermark.max(newest);
                let more = Window::start(settings, watermark, default_overlap) != self.from;
                (
                    Window {
                        watermark,
                        ..Window::default()
                    },
                    more,
                )
            }
        };
        let text = serde_json::to_string(&window)
            .map_err(|e| PollError(format!("the cursor cannot be written: {e}")))?;
        Ok((text, more))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_next_finds_the_next_relation_among_several() {
        let r = Response {
            status: 200,
            headers: vec![
                (
                    "link".into(),
                    "<https://x.okta.com/api/v1/logs?since=a>; rel=\"self\"".into(),
                ),
                (
                    "Link".into(),
                    "<https://x.okta.com/api/v1/logs?after=b>; rel=\"next\"".into(),
                ),
            ],
            body: vec![],
        };
        assert_eq!(
            link_next(&r).as_deref(),
            Some("https://x.okta.com/api/v1/logs?after=b")
        );
        let github = Response {
            headers: vec![(
                "Link".into(),
                "<https://api.github.com/orgs/o/audit-log?after=c&before=>; rel=\"next\", <https://api.github.com/orgs/o/audit-log?before=d>; rel=\"prev\"".into(),
            )],
            ..Response::default()
        };
        assert_eq!(
            link_next(&github).as_deref(),
            Some("https://api.github.com/orgs/o/audit-log?after=c&before=")
        );
        assert_eq!(link_next(&Response::default()), None);
    }

    #[test]
    fn a_window_restarts_from_its_watermark_without_its_position() {
        let mid = r#"{"watermark":"2026-04-01T00:59:00Z","from":"2026-04-01T00:29:00Z","newest":"2026-04-01T00:40:00Z","next":"https://graph.microsoft.com/v1.0/x?$skiptoken=20"}"#;
        assert_eq!(
            Window::restart(mid).as_deref(),
            Some(r#"{"watermark":"2026-04-01T00:59:00Z"}"#)
        );
        assert_eq!(
            Window::restart(r#"{"watermark":"2026-04-01T00:59:00Z"}"#),
            None
        );
        assert_eq!(
            Window::restart("https://acme.okta.com/api/v1/logs?after=x"),
            None
        );
    }

    #[test]
    fn a_link_to_another_host_is_refused() {
        let s = Settings {
            base_url: "https://acme.okta.com".into(),
            ..Settings::default()
        };
        assert!(same_origin(&s, "https://ACME.okta.com/api/v1/logs?after=x").is_ok());
        assert!(same_origin(&s, "https://evil.example/api/v1/logs").is_err());
        assert!(same_origin(&s, "http://acme.okta.com/api/v1/logs").is_err());
        assert!(same_origin(&s, "https://acme.okta.com.evil.example/x").is_err());
        assert!(same_origin(&s, "garbage").is_err());
    }

    #[test]
    fn records_keep_their_bytes_as_sent() {
        let body = br#"[ {"a": 1,  "b":[2]} , {"c":"d"} ]"#;
        let r = records_at(body, "").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].raw, br#"{"a": 1,  "b":[2]}"#);
        assert_eq!(r[1].value["c"], "d");
        let wrapped = br#"{"value": [{"id": "1"}], "@odata.nextLink": "x"}"#;
        assert_eq!(records_at(wrapped, "/value").map(|r| r.len()).ok(), Some(1));
        assert!(records_at(b"{\"value\": 3}", "/value").is_err());
        assert!(records_at(b"not json", "").is_err());
        assert_eq!(encode_query("a b:c/ü"), "a%20b%3Ac%2F%C3%BC");
    }
}
