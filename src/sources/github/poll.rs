//! GitHub organisation audit log polling (`GET /orgs/{org}/audit-log`, GitHub Enterprise
//! Cloud), one stream `audit-log` parsed by [`GitHub`].
//!
//! Paging, as GitHub documents it: `include=web|git|all`, `order=asc`, `per_page` ≤ 100,
//! then the `Link: <…>; rel="next"` URL (opaque `after` cursor, same origin) is the cursor.
//! GitHub sends no `next` on the caught-up page, so the cursor then stays at the URL that
//! produced that page: the next poll re-reads it (the ledger drops what it already holds,
//! on `_document_id`) and its `next` appears once newer entries exist. Starting over from
//! the first URL would re-read months; moving past the page would skip what lands on it.
//! A first poll with `since` asks `phrase=created:>=<date>` (a day: GitHub's search takes
//! dates; the extra hours are re-read once).
//!
//! Auth: `Authorization: Bearer <token>` (`read:audit_log`), with
//! `X-GitHub-Api-Version: 2022-11-28`. Rate limit (1,750 queries/hour for this endpoint):
//! 403 or 429 with `x-ratelimit-remaining: 0` and `x-ratelimit-reset` (epoch seconds),
//! handled by the caller. Retention: the current month and six before it (git events 7
//! days).
//!
//! Docs: github/docs REST reference "Get the audit log for an organization", "Using
//! pagination in the REST API", "Rate limits for the REST API", and "Searching the audit log
//! for your organization" (the `created` qualifier).

use super::super::poll::{
    encode_query, link_next, records_at, same_origin, Page, PollError, Poller, Reply, Request,
    Response, Settings, Stream,
};
use super::GitHub;
use crate::event::Timestamp;

pub struct GitHubAuditLog;

const STREAM: Stream = Stream {
    name: "audit-log",
    source: &GitHub,
};

/// The REST API version these requests and their answers follow.
const API_VERSION: &str = "2022-11-28";

/// The stream's first request: pure, so `read` can tell where a first page came from.
fn first_url(settings: &Settings) -> Result<String, PollError> {
    let org = settings.required("org")?;
    let include = include(settings)?;
    let mut url = format!(
        "{}/orgs/{}/audit-log?include={include}&order=asc&per_page={}",
        settings.base_url,
        encode_query(org),
        settings.page_size.clamp(1, 100)
    );
    if let Some(since) = settings.since {
        let phrase = format!("created:>={}", since.to_datetime().format("%Y-%m-%d"));
        url.push_str(&format!("&phrase={}", encode_query(&phrase)));
    }
    Ok(url)
}

fn include(settings: &Settings) -> Result<&str, PollError> {
    match settings.option("include") {
        None => Ok("all"),
        Some(v @ ("web" | "git" | "all")) => Ok(v),
        Some(other) => Err(PollError(format!(
            "include = {other:?}: expected \"web\", \"git\" or \"all\""
        ))),
    }
}

impl Poller for GitHubAuditLog {
    fn name(&self) -> &'static str {
        "github"
    }

    /// GitHub keeps the current month and six before it (git events: 7 days).
    fn retention_seconds(&self) -> Option<u64> {
        Some(180 * 86_400)
    }

    fn keys(&self) -> &'static [(&'static str, &'static str)] {
        &[
            ("org", "the organisation whose audit log is read (required)"),
            (
                "include",
                "\"web\", \"git\" or \"all\" (the default): which events the audit log returns",
            ),
        ]
    }

    fn streams(&self, settings: &Settings) -> Result<Vec<Stream>, PollError> {
        first_url(settings)?;
        Ok(vec![STREAM])
    }

    fn auth(&self, _settings: &Settings, token: &str) -> (String, String) {
        ("Authorization".into(), format!("Bearer {token}"))
    }

    fn request(
        &self,
        settings: &Settings,
        _stream: &Stream,
        cursor: Option<&str>,
        _now: Timestamp,
    ) -> Result<Request, PollError> {
        let url = match cursor {
            Some(next) => {
                same_origin(settings, next)?;
                next.to_string()
            }
            None => first_url(settings)?,
        };
        let mut request = Request::get(url);
        request.headers = vec![
            ("Accept".into(), "application/vnd.github+json".into()),
            ("X-GitHub-Api-Version".into(), API_VERSION.into()),
        ];
        Ok(request)
    }

    fn read(
        &self,
        settings: &Settings,
        _stream: &Stream,
        cursor: Option<&str>,
        response: &Response,
    ) -> Result<Reply, PollError> {
        let records = records_at(&response.body, "")?;
        let (next, more) = match link_next(response) {
            Some(next) => {
                same_origin(settings, &next)?;
                // An empty page with a `next` is no reason to ask again now.
                let more = !records.is_empty();
                (next, more)
            }
            None => match cursor {
                Some(c) => (c.to_string(), false),
                None => (first_url(settings)?, false),
            },
        };
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
            base_url: "https://api.github.com".into(),
            page_size: 1000,
            ..Settings::default()
        };
        s.options.insert("org".into(), "acme-corp".into());
        s
    }

    fn now() -> Timestamp {
        Timestamp::parse_rfc3339("2026-12-01T00:00:00Z").unwrap_or(Timestamp(0))
    }

    const BODY: &[u8] = br#"[{"@timestamp":1770023700000,"_document_id":"gh-doc-0001","action":"org.add_member","actor":"li-wei","user":"jose-nunez","org":"acme-corp","created_at":1770023700000}]"#;

    fn page(link: Option<&str>) -> Response {
        Response {
            status: 200,
            headers: link
                .map(|l| vec![("Link".into(), format!("<{l}>; rel=\"next\""))])
                .unwrap_or_default(),
            body: BODY.to_vec(),
        }
    }

    fn read(cursor: Option<&str>, response: &Response) -> Page {
        match GitHubAuditLog.read(&settings(), &STREAM, cursor, response) {
            Ok(Reply::Page(p)) => p,
            other => panic!("not a page: {other:?}"),
        }
    }

    #[test]
    fn first_request_asks_ascending_with_the_api_version_then_follows_next() {
        let first = GitHubAuditLog
            .request(&settings(), &STREAM, None, now())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            first.url,
            "https://api.github.com/orgs/acme-corp/audit-log?include=all&order=asc&per_page=100"
        );
        assert!(first
            .headers
            .contains(&("X-GitHub-Api-Version".into(), "2022-11-28".into())));
        let next = "https://api.github.com/organizations/500/audit-log?include=all&order=asc&per_page=100&after=MS42&before=";
        let p = read(None, &page(Some(next)));
        assert_eq!((p.records.len(), p.more), (1, true));
        assert_eq!(p.next, next);
        let again = GitHubAuditLog.request(&settings(), &STREAM, Some(next), now());
        assert_eq!(again.map(|r| r.url).ok().as_deref(), Some(next));
    }

    #[test]
    fn the_caught_up_page_is_asked_again_rather_than_skipped() {
        let at = "https://api.github.com/orgs/acme-corp/audit-log?after=MS42";
        let p = read(Some(at), &page(None));
        assert_eq!((p.next.as_str(), p.more), (at, false));
        let first = read(None, &page(None));
        assert_eq!(
            first.next,
            "https://api.github.com/orgs/acme-corp/audit-log?include=all&order=asc&per_page=100"
        );
        assert!(!first.more);
    }

    #[test]
    fn since_include_and_the_required_org() {
        let mut s = settings();
        s.since = Timestamp::parse_rfc3339("2026-11-02T13:00:00Z").ok();
        s.options.insert("include".into(), "git".into());
        let url = GitHubAuditLog
            .request(&s, &STREAM, None, now())
            .map(|r| r.url);
        assert_eq!(
            url.ok().as_deref(),
            Some("https://api.github.com/orgs/acme-corp/audit-log?include=git&order=asc&per_page=100&phrase=created%3A%3E%3D2026-11-02")
        );
        s.options.insert("include".into(), "everything".into());
        assert!(GitHubAuditLog.streams(&s).is_err());
        s.options.clear();
        assert!(GitHubAuditLog
            .streams(&s)
            .is_err_and(|e| e.0.contains("`org`")));
    }

    #[test]
    fn off_origin_links_are_refused() {
        let evil = page(Some("https://api.github.com.evil.example/x?after=1"));
        assert!(GitHubAuditLog
            .read(&settings(), &STREAM, None, &evil)
            .is_err());
        assert!(GitHubAuditLog
            .request(&settings(), &STREAM, Some("https://evil.example/x"), now())
            .is_err());
    }
}
