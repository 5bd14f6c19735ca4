//! Keycloak Admin REST polling: `GET /admin/realms/{realm}/events` (stream `events`, user
//! events) and `GET /admin/realms/{realm}/admin-events` (stream `admin-events`), both parsed by
//! [`Keycloak`], which tells the two shapes apart by `operationType`.
//!
//! Paging, as Keycloak serves it: offset paging (`first`, `max`), newest first (the JPA
//! store; `direction=asc` only from 26.2), filtered by `dateFrom`. Offsets shift as events
//! arrive, so offsets alone skip or repeat: the cursor is a [`Window`]. A window asks
//! `dateFrom` = the watermark minus `overlap` (default 5 min); within it `first` advances
//! by each page's length until a page is shorter than `max`; then the watermark moves to the
//! newest `time` seen. Events inserted meanwhile push older ones to later offsets (re-read,
//! de-duplicated on `id`, or on the raw record before Keycloak 22), never past the window.
//!
//! `dateFrom` shape: Keycloak takes epoch milliseconds in current versions and only a date
//! (`yyyy-MM-dd`, the server's day) in older ones. The default `date_from = "epoch-ms"` sends
//! the window start exactly; `"date"` sends its UTC day minus one (covering any server time
//! zone), so such a window re-reads more and relies on de-duplication.
//!
//! Auth: `Authorization: Bearer <access token>` of a client or user with the `view-events`
//! role (realm-management). Events are stored only when the realm saves them, and expire.
//!
//! Docs: keycloak.org Admin REST API (`Realms Admin`: get events, get admin events) and the
//! Server Administration Guide, "Auditing and events".

use super::super::poll::{
    newest_event, records_at, Page, PollError, Poller, Reply, Request, Response, Settings, Stream,
    Window,
};
use super::Keycloak;
use crate::event::Timestamp;

pub struct KeycloakEvents;

/// Keycloak writes an event when the request ends; a short re-read covers slow requests.
const DEFAULT_OVERLAP_SECONDS: u64 = 5 * 60;

const EVENTS: Stream = Stream {
    name: "events",
    source: &Keycloak,
};
const ADMIN_EVENTS: Stream = Stream {
    name: "admin-events",
    source: &Keycloak,
};

fn date_from(settings: &Settings, from: Timestamp) -> Result<String, PollError> {
    match settings.option("date_from") {
        None | Some("epoch-ms") => Ok((from.0.div_euclid(1000)).to_string()),
        Some("date") => {
            let day = from.to_datetime() - chrono::Duration::days(1);
            Ok(day.format("%Y-%m-%d").to_string())
        }
        Some(other) => Err(PollError(format!(
            "date_from = {other:?}: expected \"epoch-ms\" or \"date\""
        ))),
    }
}

/// The page size: what `max` asks for, and what a full page holds.
fn max(settings: &Settings) -> u32 {
    settings.page_size.clamp(1, 1000)
}

impl Poller for KeycloakEvents {
    fn name(&self) -> &'static str {
        "keycloak"
    }

    fn keys(&self) -> &'static [(&'static str, &'static str)] {
        &[
            ("realm", "the realm whose events are read (required)"),
            (
                "date_from",
                "\"epoch-ms\" (the default, current Keycloak) or \"date\" (yyyy-MM-dd, older versions)",
            ),
        ]
    }

    fn streams(&self, settings: &Settings) -> Result<Vec<Stream>, PollError> {
        settings.required("realm")?;
        date_from(settings, Timestamp(0))?;
        Ok(vec![EVENTS, ADMIN_EVENTS])
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
        let first: u64 = match &window.next {
            None => 0,
            Some(n) => n
                .parse()
                .map_err(|_| PollError(format!("the saved offset {n:?} is not a number")))?,
        };
        let realm = super::super::poll::encode_query(settings.required("realm")?);
        let mut url = format!(
            "{}/admin/realms/{realm}/{}?first={first}&max={}",
            settings.base_url,
            stream.name,
            max(settings)
        );
        if let Some(from) = window.from {
            url.push_str(&format!("&dateFrom={}", date_from(settings, from)?));
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
        let first: u64 = window
            .next
            .as_deref()
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        let records = records_at(&response.body, "")?;
        // A short page is the window's last; a full one may have more behind it.
        let next = (records.len() >= max(settings) as usize)
            .then(|| (first + records.len() as u64).to_string());
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
        let mut s = Settings {
            base_url: "https://sso.acme.example".into(),
            since: Timestamp::parse_rfc3339("2026-03-19T00:00:00Z").ok(),
            page_size: 2,
            ..Settings::default()
        };
        s.options.insert("realm".into(), "acme".into());
        s
    }

    fn now() -> Timestamp {
        Timestamp::parse_rfc3339("2026-03-20T00:00:00Z").unwrap_or(Timestamp(0))
    }

    fn login(ms: u64) -> String {
        format!(
            r#"{{"id":"ev-{ms}","time":{ms},"type":"LOGIN","realmId":"acme","clientId":"portal","userId":"3f6c2a4e","ipAddress":"203.0.113.9","details":{{"username":"jose.nunez"}}}}"#
        )
    }

    fn page(records: &[String]) -> Response {
        Response {
            status: 200,
            headers: vec![],
            body: format!("[{}]", records.join(",")).into_bytes(),
        }
    }

    fn read(stream: &Stream, cursor: Option<&str>, records: &[String]) -> Page {
        match KeycloakEvents.read(&settings(), stream, cursor, &page(records)) {
            Ok(Reply::Page(p)) => p,
            other => panic!("not a page: {other:?}"),
        }
    }

    fn url(stream: &Stream, cursor: Option<&str>) -> String {
        KeycloakEvents
            .request(&settings(), stream, cursor, now())
            .map(|r| r.url)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn watermark(cursor: &str) -> Option<Timestamp> {
        serde_json::from_str::<Window>(cursor)
            .unwrap_or_else(|e| panic!("{e}"))
            .watermark
    }

    #[test]
    fn offsets_advance_within_a_window_and_the_watermark_moves_at_its_end() {
        // 2026-03-19T00:00:00Z is 1773878400000 ms.
        assert_eq!(
            url(&EVENTS, None),
            "https://sso.acme.example/admin/realms/acme/events?first=0&max=2&dateFrom=1773878400000"
        );
        let p1 = read(
            &EVENTS,
            None,
            &[login(1_773_896_400_000), login(1_773_890_000_000)],
        );
        assert!(p1.more);
        assert_eq!(watermark(&p1.next), None, "not moved mid-window");
        assert_eq!(
            url(&EVENTS, Some(&p1.next)),
            "https://sso.acme.example/admin/realms/acme/events?first=2&max=2&dateFrom=1773878400000"
        );
        let p2 = read(&EVENTS, Some(&p1.next), &[login(1_773_880_000_000)]);
        assert_eq!(
            watermark(&p2.next),
            Some(Timestamp(1_773_896_400_000_000)),
            "the newest time of the window"
        );
        assert!(p2.more);
        // The next window: 5 minutes before it, from offset 0.
        assert_eq!(
            url(&ADMIN_EVENTS, Some(&p2.next)),
            "https://sso.acme.example/admin/realms/acme/admin-events?first=0&max=2&dateFrom=1773896100000"
        );
        let p3 = read(&EVENTS, Some(&p2.next), &[login(1_773_896_400_000)]);
        assert!(!p3.more, "the same window again: caught up");
    }

    #[test]
    fn admin_events_are_read_and_date_from_can_be_a_day() {
        let admin = r#"{"time":1768716000000,"realmId":"acme","authDetails":{"realmId":"master","clientId":"security-admin-console","userId":"0a1b2c3d","ipAddress":"198.51.100.2"},"operationType":"DELETE","resourceType":"USER","resourcePath":"users/3f6c2a4e"}"#;
        let p = read(&ADMIN_EVENTS, None, &[admin.to_string()]);
        assert_eq!(watermark(&p.next), Some(Timestamp(1_768_716_000_000_000)));
        let mut s = settings();
        s.options.insert("date_from".into(), "date".into());
        let u = KeycloakEvents
            .request(&s, &EVENTS, None, now())
            .map(|r| r.url);
        assert!(u.is_ok_and(|u| u.ends_with("&dateFrom=2026-03-18")));
        s.options.insert("date_from".into(), "iso".into());
        assert!(KeycloakEvents.streams(&s).is_err());
        s.options.clear();
        assert!(KeycloakEvents
            .streams(&s)
            .is_err_and(|e| e.0.contains("`realm`")));
    }

    #[test]
    fn a_cursor_of_another_source_is_refused() {
        assert!(KeycloakEvents
            .request(&settings(), &EVENTS, Some("https://evil.example/x"), now())
            .is_err());
        assert!(KeycloakEvents
            .request(&settings(), &EVENTS, Some(r#"{"next":"x"}"#), now())
            .is_err());
    }
}
