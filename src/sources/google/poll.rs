//! Google Workspace Reports API polling (`activities.list`: `GET
//! /admin/reports/v1/activity/users/all/applications/{login|admin|token}`), one stream per
//! application, each parsed by [`Google`] and with its own cursor.
//!
//! Paging, as Google documents it: `startTime` (RFC 3339), `maxResults` ≤ 1000, then
//! `pageToken` = the page's `nextPageToken` with the same other parameters, until a page has
//! none; records are in `items`, newest first. Login and token events arrive hours late
//! (Google documents the lag per application; elastic/beats#40949), so the cursor is a
//! [`Window`]: each window starts at the watermark minus a lookback (`overlap`, default 6 h),
//! is read to its last page, and only then does the watermark move, to the newest `id.time`
//! seen. The ledger drops what was read before (`id.time` + `id.uniqueQualifier`).
//!
//! Auth: `Authorization: Bearer <access token>` (scope
//! `admin.reports.audit.readonly`, usually a service account with domain-wide delegation).
//! Quota errors: 429 (or 403 `rateLimitExceeded`) with `Retry-After`, handled by the caller.
//!
//! Docs: developers.google.com/workspace/admin/reports/v1/reference/activities/list and
//! "Data retention and lag times" (Google Workspace Admin Help).

use super::super::poll::{
    api_time, encode_query, newest_event, records_at, Page, PollError, Poller, Reply, Request,
    Response, Settings, Stream, Window,
};
use super::Google;
use crate::event::Timestamp;

pub struct GoogleReports;

/// Login and token events can take hours to appear: the default lookback.
const DEFAULT_LOOKBACK_SECONDS: u64 = 6 * 3600;

const APPLICATIONS: [Stream; 3] = [
    Stream {
        name: "login",
        source: &Google,
    },
    Stream {
        name: "admin",
        source: &Google,
    },
    Stream {
        name: "token",
        source: &Google,
    },
];

impl Poller for GoogleReports {
    fn name(&self) -> &'static str {
        "google"
    }

    /// Google keeps Reports API activity about six months.
    fn retention_seconds(&self) -> Option<u64> {
        Some(180 * 86_400)
    }

    fn keys(&self) -> &'static [(&'static str, &'static str)] {
        &[(
            "applications",
            "which Reports API applications to read: [\"login\", \"admin\", \"token\"] (the default)",
        )]
    }

    fn streams(&self, settings: &Settings) -> Result<Vec<Stream>, PollError> {
        let Some(list) = settings.option("applications") else {
            return Ok(APPLICATIONS.to_vec());
        };
        let mut out: Vec<Stream> = Vec::new();
        for name in list.split(',').map(str::trim) {
            let Some(stream) = APPLICATIONS.iter().find(|s| s.name == name) else {
                return Err(PollError(format!(
                    "applications: {name:?} is not read here; expected \"login\", \"admin\" or \"token\""
                )));
            };
            if !out.iter().any(|s| s.name == name) {
                out.push(*stream);
            }
        }
        if out.is_empty() {
            return Err(PollError("applications: name at least one".into()));
        }
        Ok(out)
    }

    fn auth(&self, _settings: &Settings, token: &str) -> (String, String) {
        ("Authorization".into(), format!("Bearer {token}"))
    }

    fn request(
        &self,
        settings: &Settings,
        stream: &Stream,
        cursor: Option<&str>,
        _now: Timestamp,
    ) -> Result<Request, PollError> {
        let window = Window::current(settings, cursor, DEFAULT_LOOKBACK_SECONDS)?;
        // A page token is only valid with the parameters of the request that produced it,
        // so each page repeats the window's startTime.
        let mut url = format!(
            "{}/admin/reports/v1/activity/users/all/applications/{}?maxResults={}",
            settings.base_url,
            stream.name,
            settings.page_size.clamp(1, 1000)
        );
        if let Some(from) = window.from {
            url.push_str(&format!("&startTime={}", encode_query(&api_time(from))));
        }
        if let Some(token) = &window.next {
            url.push_str(&format!("&pageToken={}", encode_query(token)));
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
        let window = Window::current(settings, cursor, DEFAULT_LOOKBACK_SECONDS)?;
        let records = records_at(&response.body, "/items")?;
        let body: serde_json::Value = serde_json::from_slice(&response.body)
            .map_err(|e| PollError(format!("the body is not JSON: {e}")))?;
        let next = match body.get("nextPageToken") {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(t)) if t.is_empty() => None,
            Some(serde_json::Value::String(t)) => Some(t.clone()),
            Some(other) => {
                return Err(PollError(format!("nextPageToken is not a string: {other}")))
            }
        };
        let newest = newest_event(stream, &records);
        let (next, more) = window.after_page(settings, DEFAULT_LOOKBACK_SECONDS, newest, next)?;
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

    const LOGIN: Stream = Stream {
        name: "login",
        source: &Google,
    };

    fn settings() -> Settings {
        Settings {
            base_url: "https://admin.googleapis.com".into(),
            since: Timestamp::parse_rfc3339("2026-03-12T00:00:00Z").ok(),
            page_size: 500,
            ..Settings::default()
        }
    }

    fn now() -> Timestamp {
        Timestamp::parse_rfc3339("2026-03-13T00:00:00Z").unwrap_or(Timestamp(0))
    }

    fn activity(q: u64, at: &str) -> String {
        format!(
            r#"{{"kind":"admin#reports#activity","id":{{"time":"{at}","uniqueQualifier":"{q}","applicationName":"login","customerId":"C03az79cb"}},"actor":{{"callerType":"USER","email":"jose.nunez@acme.example"}},"ipAddress":"203.0.113.7","events":[{{"type":"login","name":"login_success","parameters":[{{"name":"login_type","value":"google_password"}}]}}]}}"#
        )
    }

    fn page(items: &[String], token: Option<&str>) -> Response {
        let token = token.map_or(String::new(), |t| format!(r#","nextPageToken":"{t}""#));
        Response {
            status: 200,
            headers: vec![],
            body: format!(
                r#"{{"kind":"admin#reports#activities","items":[{}]{token}}}"#,
                items.join(",")
            )
            .into_bytes(),
        }
    }

    fn read(cursor: Option<&str>, response: &Response) -> Page {
        match GoogleReports.read(&settings(), &LOGIN, cursor, response) {
            Ok(Reply::Page(p)) => p,
            other => panic!("not a page: {other:?}"),
        }
    }

    fn url(cursor: Option<&str>) -> String {
        GoogleReports
            .request(&settings(), &LOGIN, cursor, now())
            .map(|r| r.url)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn watermark(cursor: &str) -> Option<String> {
        serde_json::from_str::<Window>(cursor)
            .unwrap_or_else(|e| panic!("{e}"))
            .watermark
            .map(|t| t.to_rfc3339())
    }

    #[test]
    fn pages_by_token_within_a_window_and_moves_the_watermark_at_its_end() {
        let base = "https://admin.googleapis.com/admin/reports/v1/activity/users/all/applications/login?maxResults=500&startTime=2026-03-12T00%3A00%3A00.000Z";
        assert_eq!(url(None), base);
        let p1 = read(
            None,
            &page(&[activity(2, "2026-03-12T16:02:11.000Z")], Some("tok/1")),
        );
        assert!(p1.more);
        assert_eq!(watermark(&p1.next), None, "not moved mid-window");
        assert_eq!(url(Some(&p1.next)), format!("{base}&pageToken=tok%2F1"));
        let p2 = read(
            Some(&p1.next),
            &page(&[activity(1, "2026-03-12T09:00:00.000Z")], None),
        );
        assert_eq!(watermark(&p2.next).as_deref(), Some("2026-03-12T16:02:11Z"));
        assert!(p2.more);
        // The next window looks back 6 hours from the newest id.time read.
        assert!(url(Some(&p2.next)).ends_with("&startTime=2026-03-12T10%3A02%3A11.000Z"));
        let p3 = read(
            Some(&p2.next),
            &page(&[activity(2, "2026-03-12T16:02:11.000Z")], None),
        );
        assert!(!p3.more, "the same window again: caught up");
    }

    #[test]
    fn applications_choose_the_streams() {
        let mut s = settings();
        assert_eq!(GoogleReports.streams(&s).map(|v| v.len()).ok(), Some(3));
        s.options
            .insert("applications".into(), "admin,token".into());
        let names: Vec<&str> = GoogleReports
            .streams(&s)
            .map(|v| v.iter().map(|s| s.name).collect())
            .unwrap_or_default();
        assert_eq!(names, ["admin", "token"]);
        s.options.insert("applications".into(), "drive".into());
        assert!(GoogleReports.streams(&s).is_err());
        assert_eq!(GoogleReports.auth(&s, "t").1, "Bearer t");
    }

    #[test]
    fn a_cursor_of_another_source_is_refused() {
        assert!(GoogleReports
            .request(&settings(), &LOGIN, Some("https://evil.example/x"), now())
            .is_err());
        let bad = Response {
            body: br#"{"items":[],"nextPageToken":7}"#.to_vec(),
            ..Response::default()
        };
        assert!(GoogleReports.read(&settings(), &LOGIN, None, &bad).is_err());
    }
}
