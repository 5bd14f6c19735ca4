//! Microsoft Entra ID through Microsoft Graph: `GET /auditLogs/signIns` (stream `signins`,
//! parsed by [`EntraSignIn`]) and `GET /auditLogs/directoryAudits` (stream `audits`, parsed by
//! [`EntraAudit`]), each with its own cursor.
//!
//! Paging, as Graph documents it: `$filter=createdDateTime ge <t>` (sign-ins) or
//! `activityDateTime ge <t>` (directory audits), `$top` ≤ 1000, then follow
//! `@odata.nextLink` (opaque, same origin) while the page has one; records are in `value`.
//! Sign-ins come newest first and there is no delta query for audit logs, so a watermark
//! may move only once a whole window has been read: the cursor is a [`Window`] holding the
//! nextLink mid-window and the newest event time seen, and the watermark moves to that time
//! at the window's end.
//!
//! Late events: Graph writes sign-ins minutes late (sometimes much more), so every window
//! starts at the watermark minus `overlap` (default 30 min) and the ledger drops what was
//! already read (de-duplication on the Graph `id`). Moving the watermark to the query time
//! loses those events (wazuh/wazuh#24323); it never moves to the local clock here.
//!
//! Auth: `Authorization: Bearer <access token>` with `AuditLog.Read.All`. Throttling: 429
//! with `Retry-After`, handled by the caller.
//!
//! Docs: microsoft-graph-docs `signin-list` and `directoryaudit-list` (List signIns, List
//! directoryAudits: `$filter`, `$top`, `@odata.nextLink`), "Throttling guidance" for the
//! identity and access reports, and "Microsoft Entra data retention".

use super::super::poll::{
    api_time, encode_query, newest_event, records_at, same_origin, Page, PollError, Poller, Reply,
    Request, Response, Settings, Stream, Window,
};
use super::{EntraAudit, EntraSignIn};
use crate::event::Timestamp;

pub struct EntraLogs;

/// Graph writes sign-ins up to tens of minutes late: the default re-read window.
const DEFAULT_OVERLAP_SECONDS: u64 = 30 * 60;

const SIGNINS: Stream = Stream {
    name: "signins",
    source: &EntraSignIn,
};
const AUDITS: Stream = Stream {
    name: "audits",
    source: &EntraAudit,
};

/// The Graph path and the time property its `$filter` takes, per stream.
fn endpoint(stream: &Stream) -> Result<(&'static str, &'static str), PollError> {
    match stream.name {
        "signins" => Ok(("auditLogs/signIns", "createdDateTime")),
        "audits" => Ok(("auditLogs/directoryAudits", "activityDateTime")),
        other => Err(PollError(format!("entra has no stream {other:?}"))),
    }
}

impl Poller for EntraLogs {
    fn name(&self) -> &'static str {
        "entra"
    }

    /// Entra keeps sign-in and audit logs 30 days with P1/P2 (7 without): the longer.
    fn retention_seconds(&self) -> Option<u64> {
        Some(30 * 86_400)
    }

    fn keys(&self) -> &'static [(&'static str, &'static str)] {
        &[(
            "logs",
            "which logs to read: [\"signins\", \"audits\"] (the default; sign-ins need Entra ID P1 or P2)",
        )]
    }

    fn streams(&self, settings: &Settings) -> Result<Vec<Stream>, PollError> {
        let Some(list) = settings.option("logs") else {
            return Ok(vec![SIGNINS, AUDITS]);
        };
        let mut out = Vec::new();
        for name in list.split(',').map(str::trim) {
            let stream = match name {
                "signins" => SIGNINS,
                "audits" => AUDITS,
                other => {
                    return Err(PollError(format!(
                        "logs: {other:?} is not a log; expected \"signins\" or \"audits\""
                    )))
                }
            };
            if !out.iter().any(|s: &Stream| s.name == stream.name) {
                out.push(stream);
            }
        }
        if out.is_empty() {
            return Err(PollError("logs: name at least one log".into()));
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
        let window = Window::current(settings, cursor, DEFAULT_OVERLAP_SECONDS)?;
        if let Some(next) = &window.next {
            same_origin(settings, next)?;
            return Ok(Request::get(next.clone()));
        }
        let (path, property) = endpoint(stream)?;
        let mut url = format!(
            "{}/{path}?$top={}",
            settings.base_url,
            settings.page_size.clamp(1, 1000)
        );
        if let Some(from) = window.from {
            let filter = format!("{property} ge {}", api_time(from));
            url.push_str(&format!("&$filter={}", encode_query(&filter)));
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
        let records = records_at(&response.body, "/value")?;
        let body: serde_json::Value = serde_json::from_slice(&response.body)
            .map_err(|e| PollError(format!("the body is not JSON: {e}")))?;
        let next = match body.get("@odata.nextLink") {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(link)) => {
                same_origin(settings, link)?;
                Some(link.clone())
            }
            Some(other) => {
                return Err(PollError(format!(
                    "@odata.nextLink is not a string: {other}"
                )))
            }
        };
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
            base_url: "https://graph.microsoft.com/v1.0".into(),
            since: Timestamp::parse_rfc3339("2026-04-01T00:00:00Z").ok(),
            page_size: 5000,
            ..Settings::default()
        }
    }

    fn now() -> Timestamp {
        Timestamp::parse_rfc3339("2026-04-03T00:00:00Z").unwrap_or(Timestamp(0))
    }

    fn signin(id: &str, at: &str) -> String {
        format!(
            r#"{{"id":"{id}","createdDateTime":"{at}","userPrincipalName":"ana@acme.example","appDisplayName":"Office 365","ipAddress":"198.51.100.7","isInteractive":true,"status":{{"errorCode":0,"failureReason":null}}}}"#
        )
    }

    fn page(records: &[String], next: Option<&str>) -> Response {
        let link = next.map_or(String::new(), |n| format!(r#""@odata.nextLink":"{n}","#));
        Response {
            status: 200,
            headers: vec![],
            body: format!(
                r#"{{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#auditLogs/signIns",{link}"value":[{}]}}"#,
                records.join(",")
            )
            .into_bytes(),
        }
    }

    fn read(cursor: Option<&str>, response: &Response) -> Page {
        match EntraLogs.read(&settings(), &SIGNINS, cursor, response) {
            Ok(Reply::Page(p)) => p,
            other => panic!("not a page: {other:?}"),
        }
    }

    fn url(cursor: Option<&str>, stream: &Stream) -> String {
        EntraLogs
            .request(&settings(), stream, cursor, now())
            .map(|r| r.url)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn window(cursor: &str) -> Window {
        serde_json::from_str(cursor).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn first_requests_filter_on_each_logs_time_from_since() {
        assert_eq!(
            url(None, &SIGNINS),
            "https://graph.microsoft.com/v1.0/auditLogs/signIns?$top=1000&$filter=createdDateTime%20ge%202026-04-01T00%3A00%3A00.000Z"
        );
        assert_eq!(
            url(None, &AUDITS),
            "https://graph.microsoft.com/v1.0/auditLogs/directoryAudits?$top=1000&$filter=activityDateTime%20ge%202026-04-01T00%3A00%3A00.000Z"
        );
        let mut s = settings();
        s.since = None;
        let all = EntraLogs.request(&s, &SIGNINS, None, now()).map(|r| r.url);
        assert_eq!(
            all.ok().as_deref(),
            Some("https://graph.microsoft.com/v1.0/auditLogs/signIns?$top=1000")
        );
    }

    #[test]
    fn the_watermark_moves_only_at_the_windows_end_then_restarts_overlap_earlier() {
        let next = "https://graph.microsoft.com/v1.0/auditLogs/signIns?$top=1000&$skiptoken=abc";
        // Newest first: the first page holds the newest sign-in.
        let p1 = read(
            None,
            &page(
                &[
                    signin("s3", "2026-04-02T10:00:00.1234567Z"),
                    signin("s2", "2026-04-02T09:00:00Z"),
                ],
                Some(next),
            ),
        );
        assert_eq!(p1.records.len(), 2);
        assert!(p1.more);
        let mid = window(&p1.next);
        assert_eq!(mid.watermark, None, "not moved mid-window");
        assert_eq!(mid.next.as_deref(), Some(next));
        assert_eq!(url(Some(&p1.next), &SIGNINS), next);

        let p2 = read(
            Some(&p1.next),
            &page(&[signin("s1", "2026-04-01T08:00:00Z")], None),
        );
        let done = window(&p2.next);
        assert_eq!(
            done.watermark.map(|t| t.to_rfc3339()).as_deref(),
            Some("2026-04-02T10:00:00.123456Z"),
            "the newest event time seen in the window, not the oldest nor the clock"
        );
        assert!(p2.more, "a new window starts elsewhere: ask it now");
        assert_eq!(
            url(Some(&p2.next), &SIGNINS),
            "https://graph.microsoft.com/v1.0/auditLogs/signIns?$top=1000&$filter=createdDateTime%20ge%202026-04-02T09%3A30%3A00.123Z"
        );
        // The next window has only what was read already: caught up, watermark unchanged.
        let p3 = read(
            Some(&p2.next),
            &page(&[signin("s3", "2026-04-02T10:00:00.1234567Z")], None),
        );
        assert!(!p3.more);
        assert_eq!(window(&p3.next).watermark, done.watermark);
        // A late event older than the watermark does not move it back.
        let p4 = read(
            Some(&p3.next),
            &page(&[signin("late", "2026-04-02T09:45:00Z")], None),
        );
        assert!(!p4.more);
        assert_eq!(window(&p4.next).watermark, done.watermark);
    }

    #[test]
    fn an_empty_first_window_stays_at_since_and_the_overlap_is_configurable() {
        let p = read(None, &page(&[], None));
        assert!(!p.more);
        assert!(url(Some(&p.next), &SIGNINS).contains("ge%202026-04-01T00%3A00%3A00.000Z"));
        let mut s = settings();
        s.overlap_seconds = 3600;
        let cursor = r#"{"watermark":"2026-04-02T10:00:00Z"}"#;
        let u = EntraLogs
            .request(&s, &AUDITS, Some(cursor), now())
            .map(|r| r.url);
        assert!(u.is_ok_and(|u| u.contains("activityDateTime%20ge%202026-04-02T09%3A00%3A00.000Z")));
    }

    #[test]
    fn off_origin_next_links_and_foreign_cursors_are_refused() {
        let evil = page(
            &[],
            Some("https://graph.evil.example/v1.0/auditLogs/signIns?x=1"),
        );
        assert!(EntraLogs.read(&settings(), &SIGNINS, None, &evil).is_err());
        let cursor = r#"{"next":"https://graph.evil.example/x"}"#;
        assert!(EntraLogs
            .request(&settings(), &SIGNINS, Some(cursor), now())
            .is_err());
        assert!(EntraLogs
            .request(
                &settings(),
                &SIGNINS,
                Some("https://graph.microsoft.com/x"),
                now()
            )
            .is_err());
    }

    #[test]
    fn logs_key_chooses_the_streams() {
        let mut s = settings();
        assert_eq!(EntraLogs.streams(&s).map(|v| v.len()).ok(), Some(2));
        s.options.insert("logs".into(), "audits".into());
        let names: Vec<&str> = EntraLogs
            .streams(&s)
            .map(|v| v.iter().map(|s| s.name).collect())
            .unwrap_or_default();
        assert_eq!(names, ["audits"]);
        s.options.insert("logs".into(), "signins,riskyUsers".into());
        assert!(EntraLogs.streams(&s).is_err());
        assert_eq!(EntraLogs.auth(&s, "t").1, "Bearer t");
    }
}
