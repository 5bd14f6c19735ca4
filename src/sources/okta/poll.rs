//! Okta System Log polling (`GET /api/v1/logs`), as Okta documents it for polling: one
//! request with `since` and `sortOrder=ASCENDING` and no `until`, then follow the
//! `Link: <…>; rel="next"` forever. A polling response always carries `next`, even when
//! empty; the next URL *is* the cursor (opaque `after`, never crafted). Paging by hand with
//! since/until skips and repeats events (elastic/integrations#15212).
//!
//! Auth: `Authorization: SSWS <API token>`, or `Bearer <access token>` (scope
//! `okta.logs.read`) with `auth = "bearer"`. Rate limit: 429 with `X-Rate-Limit-Reset`
//! (epoch seconds), handled by the caller. Retention is 90 days: a stream whose cursor is
//! older starts where Okta's log does.
//!
//! Docs: developer.okta.com/docs/reference/system-log-query/ and the System Log API
//! reference (`GET /api/v1/logs`: `since`, `until`, `after`, `limit` ≤ 1000, `sortOrder`).

use super::super::poll::{
    api_time, encode_query, link_next, records_at, same_origin, Page, PollError, Poller, Reply,
    Request, Response, Settings, Stream,
};
use super::Okta;
use crate::event::Timestamp;

pub struct OktaLogs;

/// What Okta keeps: a first poll never asks for more than this.
const RETENTION_SECONDS: i64 = 90 * 24 * 3600;

impl Poller for OktaLogs {
    fn name(&self) -> &'static str {
        "okta"
    }

    fn keys(&self) -> &'static [(&'static str, &'static str)] {
        &[(
            "auth",
            "\"ssws\" (an API token, the default) or \"bearer\" (an OAuth 2 access token with okta.logs.read)",
        )]
    }

    fn streams(&self, settings: &Settings) -> Result<Vec<Stream>, PollError> {
        match settings.option("auth") {
            None | Some("ssws") | Some("bearer") => {}
            Some(other) => {
                return Err(PollError(format!(
                    "auth = {other:?}: expected \"ssws\" or \"bearer\""
                )))
            }
        }
        Ok(vec![Stream {
            name: "logs",
            source: &Okta,
        }])
    }

    fn auth(&self, settings: &Settings, token: &str) -> (String, String) {
        let scheme = match settings.option("auth") {
            Some("bearer") => "Bearer",
            _ => "SSWS",
        };
        ("Authorization".into(), format!("{scheme} {token}"))
    }

    fn retention_seconds(&self) -> Option<u64> {
        Some(RETENTION_SECONDS as u64)
    }

    fn request(
        &self,
        settings: &Settings,
        _stream: &Stream,
        cursor: Option<&str>,
        now: Timestamp,
    ) -> Result<Request, PollError> {
        if let Some(next) = cursor {
            same_origin(settings, next)?;
            return Ok(Request::get(next));
        }
        let oldest = Timestamp(now.0 - RETENTION_SECONDS * 1_000_000);
        let since = settings.since.unwrap_or(oldest).max(oldest);
        Ok(Request::get(format!(
            "{}/api/v1/logs?since={}&sortOrder=ASCENDING&limit={}",
            settings.base_url,
            encode_query(&api_time(since)),
            settings.page_size.clamp(1, 1000)
        )))
    }

    fn read(
        &self,
        settings: &Settings,
        _stream: &Stream,
        cursor: Option<&str>,
        response: &Response,
    ) -> Result<Reply, PollError> {
        let records = records_at(&response.body, "")?;
        let next = match link_next(response) {
            Some(next) => {
                same_origin(settings, &next)?;
                next
            }
            // Not a polling response (Okta always links `next` when polling): stay put
            // rather than start over.
            None => match cursor {
                Some(c) => c.to_string(),
                None => {
                    return Err(PollError(
                        "the response has no Link rel=\"next\" header, which Okta always sends to a polling request".into(),
                    ))
                }
            },
        };
        // An empty page means caught up; a full or partial one may have more behind it.
        let more = !records.is_empty();
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
            base_url: "https://acme.okta.com".into(),
            since: Timestamp::parse_rfc3339("2026-11-30T00:00:00Z").ok(),
            page_size: 1000,
            ..Settings::default()
        }
    }

    const STREAM: Stream = Stream {
        name: "logs",
        source: &Okta,
    };

    #[test]
    fn polls_with_since_then_follows_next() {
        let now = Timestamp::parse_rfc3339("2026-12-01T00:00:00Z").unwrap_or(Timestamp(0));
        let first = OktaLogs.request(&settings(), &STREAM, None, now);
        assert_eq!(
            first.map(|r| r.url).ok().as_deref(),
            Some("https://acme.okta.com/api/v1/logs?since=2026-11-30T00%3A00%3A00.000Z&sortOrder=ASCENDING&limit=1000")
        );
        let response = Response {
            status: 200,
            headers: vec![(
                "link".into(),
                "<https://acme.okta.com/api/v1/logs?after=1_2&limit=1000>; rel=\"next\"".into(),
            )],
            body: br#"[{"uuid":"u1","published":"2026-11-30T01:00:00.000Z","eventType":"user.session.start"}]"#.to_vec(),
        };
        let Ok(Reply::Page(page)) = OktaLogs.read(&settings(), &STREAM, None, &response) else {
            panic!("not a page")
        };
        assert_eq!(page.records.len(), 1);
        assert!(page.more);
        assert_eq!(
            page.next,
            "https://acme.okta.com/api/v1/logs?after=1_2&limit=1000"
        );
        let again = OktaLogs.request(&settings(), &STREAM, Some(&page.next), now);
        assert_eq!(again.map(|r| r.url).ok(), Some(page.next.clone()));
        assert!(OktaLogs
            .request(&settings(), &STREAM, Some("https://evil.example/x"), now)
            .is_err());
    }

    #[test]
    fn a_first_poll_starts_no_earlier_than_retention() {
        let now = Timestamp::parse_rfc3339("2026-12-01T00:00:00Z").unwrap_or(Timestamp(0));
        let mut s = settings();
        s.since = Timestamp::parse_rfc3339("2020-01-01T00:00:00Z").ok();
        let url = OktaLogs.request(&s, &STREAM, None, now).map(|r| r.url);
        assert!(url.is_ok_and(|u| u.contains("since=2026-09-02")));
    }

    #[test]
    fn auth_scheme_follows_the_config() {
        let mut s = settings();
        assert_eq!(OktaLogs.auth(&s, "t").1, "SSWS t");
        s.options.insert("auth".into(), "bearer".into());
        assert_eq!(OktaLogs.auth(&s, "t").1, "Bearer t");
        s.options.insert("auth".into(), "basic".into());
        assert!(OktaLogs.streams(&s).is_err());
    }
}
