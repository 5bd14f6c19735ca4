//! OneLogin events API v1 polling (`GET /api/1/events`), one stream `events` parsed by
//! [`OneLogin`].
//!
//! Paging, as OneLogin documents it: `since` (ISO 8601), 50 events a page in `data`, then
//! `after_cursor` = the page's `pagination.after_cursor` (with the same `since`) until it is
//! null. The cursor is a [`Window`]: mid-window it holds the after_cursor; once a window is
//! read, its watermark is the newest `created_at` seen and the next window asks
//! `since=<watermark − overlap>` (default 0: the newest event itself is re-read, and the
//! ledger drops it on its `id`). `pagination.next_link` is not followed: the after_cursor on
//! the configured origin asks the same thing without trusting a host from the body.
//!
//! Auth: `Authorization: bearer:<access token>` (v1's own format; the token comes from
//! `POST /auth/oauth2/v2/token`). Rate limit: 429 with `X-RateLimit-Reset`, handled by the
//! caller.
//!
//! Docs: developers.onelogin.com/api-docs/1/events/get-events and
//! .../api-docs/1/getting-started/working-with-api-paging.

use super::super::poll::{
    api_time, encode_query, newest_event, records_at, Page, PollError, Poller, Reply, Request,
    Response, Settings, Stream, Window,
};
use super::OneLogin;
use crate::event::Timestamp;

pub struct OneLoginEvents;

/// The newest event time is re-asked; no further lookback unless configured.
const DEFAULT_OVERLAP_SECONDS: u64 = 0;

const STREAM: Stream = Stream {
    name: "events",
    source: &OneLogin,
};

impl Poller for OneLoginEvents {
    fn name(&self) -> &'static str {
        "onelogin"
    }

    fn keys(&self) -> &'static [(&'static str, &'static str)] {
        &[]
    }

    fn streams(&self, _settings: &Settings) -> Result<Vec<Stream>, PollError> {
        Ok(vec![STREAM])
    }

    fn auth(&self, _settings: &Settings, token: &str) -> (String, String) {
        ("Authorization".into(), format!("bearer:{token}"))
    }

    fn request(
        &self,
        settings: &Settings,
        _stream: &Stream,
        cursor: Option<&str>,
        _now: Timestamp,
    ) -> Result<Request, PollError> {
        let window = Window::current(settings, cursor, DEFAULT_OVERLAP_SECONDS)?;
        let mut query = Vec::new();
        if let Some(from) = window.from {
            query.push(format!("since={}", encode_query(&api_time(from))));
        }
        if let Some(after) = &window.next {
            query.push(format!("after_cursor={}", encode_query(after)));
        }
        let mut url = format!("{}/api/1/events", settings.base_url);
        if !query.is_empty() {
            url.push('?');
            url.push_str(&query.join("&"));
        }
        Ok(Request::get(url))
    }

    fn read(
        &self,
        settings: &Settings,
        stream: &Stream,
        cursor: Option<&str>,
        response: &Response,
    ) -> Result<Reply, PollError> {
        let window = Window::current(settings, cursor, DEFAULT_OVERLAP_SECONDS)?;
        let records = records_at(&response.body, "/data")?;
        let body: serde_json::Value = serde_json::from_slice(&response.body)
            .map_err(|e| PollError(format!("the body is not JSON: {e}")))?;
        let next = match body.pointer("/pagination/after_cursor") {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(c)) if c.is_empty() => None,
            Some(serde_json::Value::String(c)) => Some(c.clone()),
            Some(other) => {
                return Err(PollError(format!(
                    "pagination.after_cursor is not a string: {other}"
                )))
            }
        };
        // A cursor with nothing behind it would ask the same page forever.
        let next = next.filter(|_| !records.is_empty());
        let newest = newest_event(stream, &records);
        let (next, more) = window.after_page(settings, DEFAULT_OVERLAP_SECONDS, newest, next)?;
        Ok(Reply::Page(Page {
            records,
            next,
            more,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Settings {
        Settings {
            base_url: "https://api.us.onelogin.com".into(),
            since: Timestamp::parse_rfc3339("2026-01-21T00:00:00Z").ok(),
            ..Settings::default()
        }
    }

    fn now() -> Timestamp {
        Timestamp::parse_rfc3339("2026-01-22T00:00:00Z").unwrap_or(Timestamp(0))
    }

    fn event(id: u64, at: &str) -> String {
        format!(
            r#"{{"id":{id},"created_at":"{at}","event_type_id":5,"user_id":123,"user_name":"Jose Nunez","ipaddr":"203.0.113.5","account_id":55}}"#
        )
    }

    fn page(events: &[String], after: Option<&str>) -> Response {
        let after = after.map_or("null".to_string(), |a| format!("\"{a}\""));
        Response {
            status: 200,
            headers: vec![],
            body: format!(
                r#"{{"status":{{"error":false,"code":200,"type":"success","message":"Success"}},"pagination":{{"before_cursor":null,"after_cursor":{after},"previous_link":null,"next_link":null}},"data":[{}]}}"#,
                events.join(",")
            )
            .into_bytes(),
        }
    }

    fn read(cursor: Option<&str>, response: &Response) -> Page {
        match OneLoginEvents.read(&settings(), &STREAM, cursor, response) {
            Ok(Reply::Page(p)) => p,
            other => panic!("not a page: {other:?}"),
        }
    }

    fn url(cursor: Option<&str>) -> String {
        OneLoginEvents
            .request(&settings(), &STREAM, cursor, now())
            .map(|r| r.url)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn since_then_after_cursor_then_since_the_newest_event() {
        let first = "https://api.us.onelogin.com/api/1/events?since=2026-01-21T00%3A00%3A00.000Z";
        assert_eq!(url(None), first);
        let p1 = read(
            None,
            &page(&[event(2, "2026-01-21T09:20:15.990Z")], Some("8a2b/c")),
        );
        assert!(p1.more);
        assert_eq!(
            url(Some(&p1.next)),
            format!("{first}&after_cursor=8a2b%2Fc")
        );
        let p2 = read(
            Some(&p1.next),
            &page(&[event(1, "2026-01-21T08:00:00.000Z")], None),
        );
        assert!(p2.more);
        assert_eq!(
            url(Some(&p2.next)),
            "https://api.us.onelogin.com/api/1/events?since=2026-01-21T09%3A20%3A15.990Z"
        );
        let p3 = read(
            Some(&p2.next),
            &page(&[event(2, "2026-01-21T09:20:15.990Z")], None),
        );
        assert!(!p3.more, "caught up");
        assert_eq!(OneLoginEvents.auth(&settings(), "t").1, "bearer:t");
    }

    #[test]
    fn a_cursor_of_another_source_is_refused() {
        assert!(OneLoginEvents
            .request(&settings(), &STREAM, Some("https://evil.example/x"), now())
            .is_err());
        let bad = Response {
            body: br#"{"pagination":{"after_cursor":3},"data":[]}"#.to_vec(),
            ..Response::default()
        };
        assert!(OneLoginEvents
            .read(&settings(), &STREAM, None, &bad)
            .is_err());
    }
}
