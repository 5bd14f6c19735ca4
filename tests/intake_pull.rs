//! `pull` against fakes of each windowed or cursor-paged IdP log API (Entra, GitHub, Google,
//! Keycloak, OneLogin) on 127.0.0.1: each speaks its vendor's paging, auth header and rate
//! limit answer, and gets late events between two `pull --once` runs. The ledger must end
//! with every event exactly once and verify.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};

use crate::fakeapi::{FakeApi, Request, Response};
use crate::intake::{assert_verifies, init_ledger, ledger_contents, run_env};

/// A log the fakes serve: (event time, record JSON).
type Log = Arc<Mutex<Vec<(DateTime<Utc>, String)>>>;

fn t(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

/// Percent-decoding of a query value (the fakes read what the client encoded).
fn decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            out.push(u8::from_str_radix(&value[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else if bytes[i] == b'+' {
            out.push(b' ');
            i += 1;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// Request number (from 1) → the fault answered instead of the page.
type Faults = BTreeMap<usize, u16>;

fn write_config(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("intake.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn pull(dir: &Path, config: &Path, env: &[(&str, &str)]) -> (i32, String, String) {
    run_env(
        dir,
        env,
        &["pull", "--config", config.to_str().unwrap(), "--once"],
    )
}

/// Every event exactly once, `n` of them, and a ledger that verifies.
fn assert_exactly_once(dir: &Path, n: usize) {
    let (ids, _) = ledger_contents(dir);
    let twice: Vec<_> = ids.iter().filter(|(_, &c)| c != 1).collect();
    assert!(twice.is_empty(), "more than once: {twice:?}");
    assert_eq!(ids.len(), n, "{:?}", ids.keys().collect::<Vec<_>>());
    assert_verifies(dir);
}

/// A refused credential fails the run (exit 2), naming the variable, never the value.
fn assert_wrong_token_refused(config: &Path, var: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ledger");
    init_ledger(&dir);
    let (code, out, err) = pull(&dir, config, &[(var, "wrong-token-do-not-show")]);
    assert_eq!(code, 2, "{out}\n{err}");
    assert!(err.contains(&format!("${var}")), "{err}");
    assert!(!err.contains("wrong-token-do-not-show") && !out.contains("wrong-token-do-not-show"));
    assert_eq!(ledger_contents(&dir).0.len(), 0);
}

// ---- Microsoft Graph (Entra) ---------------------------------------------------------------

const GRAPH_TOKEN: &str = "graph-test-token-eyJ0eXAiOiJKV1Qi";

fn entra_signin(i: usize, at: DateTime<Utc>) -> String {
    format!(
        r#"{{"id":"66ea54eb-6301-4ee5-be62-{i:012}","createdDateTime":"{}","userDisplayName":null,"userPrincipalName":"user{}@acme.example","userId":"5e7c1a2b-3d4f-4a6b-8c9d-{i:012}","appId":"00000002-0000-0ff1-ce00-000000000000","appDisplayName":"Office 365 Exchange Online","ipAddress":"198.51.100.{}","clientAppUsed":"Browser","correlationId":"d79f5bee-5860-4832-928f-{i:012}","conditionalAccessStatus":"notApplied","isInteractive":true,"status":{{"errorCode":{},"failureReason":null,"additionalDetails":null}},"location":{{"city":"Lisbon","countryOrRegion":"PT"}}}}"#,
        at.format("%Y-%m-%dT%H:%M:%S%.6f0Z"),
        i % 7,
        i % 250,
        if i.is_multiple_of(5) { 50126 } else { 0 }
    )
}

fn entra_audit(i: usize, at: DateTime<Utc>) -> String {
    format!(
        r#"{{"id":"Directory_0b2f6c1e-7d4a-4c59-9e1b-{i:012}","category":"UserManagement","correlationId":"0b2f6c1e-7d4a-4c59-9e1b-{i:012}","result":"success","resultReason":"","activityDisplayName":"Disable account","activityDateTime":"{}","loggedByService":"Core Directory","operationType":"Update","initiatedBy":{{"user":{{"id":"728309ae-1a37-4937-9afe-e35d964db09b","displayName":null,"userPrincipalName":"it.admin@acme.example","ipAddress":"203.0.113.10"}},"app":null}},"targetResources":[{{"id":"5e7c1a2b-3d4f-4a6b-8c9d-{i:012}","displayName":null,"type":"User","userPrincipalName":"leaver{i}@acme.example","modifiedProperties":[]}}],"additionalDetails":[]}}"#,
        at.format("%Y-%m-%dT%H:%M:%S%.6f0Z"),
    )
}

struct FakeGraph {
    api: FakeApi,
    signins: Log,
    audits: Log,
}

impl FakeGraph {
    /// Graph's paging: `$filter=<time> ge <t>`, `$top`, newest first, `@odata.nextLink`
    /// with an opaque `$skiptoken` while more remain; Bearer auth; 429 with `Retry-After`.
    fn start(faults: Faults) -> FakeGraph {
        let (signins, audits): (Log, Log) = (Arc::default(), Arc::default());
        let (s, a) = (signins.clone(), audits.clone());
        let count = AtomicUsize::new(0);
        let base: Arc<Mutex<String>> = Arc::default();
        let b = base.clone();
        let api = FakeApi::start(move |req: &Request| {
            let k = count.fetch_add(1, Ordering::SeqCst) + 1;
            if req.header("authorization") != Some(&format!("Bearer {GRAPH_TOKEN}")) {
                return Response::json(
                    401,
                    r#"{"error":{"code":"InvalidAuthenticationToken","message":"Access token validation failure."}}"#,
                );
            }
            match faults.get(&k) {
                Some(429) => {
                    return Response::json(
                        429,
                        r#"{"error":{"code":"TooManyRequests","message":"Too many requests."}}"#,
                    )
                    .with_header("Retry-After", "1")
                }
                Some(status) => {
                    return Response::json(*status, r#"{"error":{"code":"UnknownError"}}"#)
                }
                None => {}
            }
            let (log, property) = match req.path() {
                "/v1.0/auditLogs/signIns" => (&s, "createdDateTime"),
                "/v1.0/auditLogs/directoryAudits" => (&a, "activityDateTime"),
                _ => return Response::json(404, "{}"),
            };
            let top: usize = req.query("$top").unwrap().parse().unwrap();
            assert!(top <= 1000);
            let filter = req.query("$filter").map(decode);
            let from = filter.as_deref().map(|f| {
                let (p, at) = f.split_once(" ge ").unwrap();
                assert_eq!(p, property, "{f}");
                t(at)
            });
            let skip: usize = req.query("$skiptoken").map_or(0, |s| s.parse().unwrap());
            let mut all = log.lock().unwrap().clone();
            all.sort_by_key(|r| std::cmp::Reverse(r.0));
            let matching: Vec<String> = all
                .into_iter()
                .filter(|(at, _)| from.is_none_or(|f| *at >= f))
                .map(|(_, r)| r)
                .collect();
            let page: Vec<String> = matching.iter().skip(skip).take(top).cloned().collect();
            let next = if skip + top < matching.len() {
                format!(
                    r#""@odata.nextLink":"{}{}?$top={top}&$filter={}&$skiptoken={}","#,
                    b.lock().unwrap(),
                    req.path(),
                    req.query("$filter").unwrap_or_default(),
                    skip + top
                )
            } else {
                String::new()
            };
            Response::json(
                200,
                format!(
                    r#"{{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#auditLogs","value":[{}],{next}"@odata.count":{}}}"#,
                    page.join(","),
                    page.len()
                ),
            )
        });
        *base.lock().unwrap() = api.url();
        FakeGraph {
            api,
            signins,
            audits,
        }
    }

    fn config(&self, dir: &Path) -> PathBuf {
        write_config(
            dir,
            &format!(
                "[[pull]]\nsource = \"entra\"\nbase_url = \"{}/v1.0\"\ntoken_env = \"GRAPH_TEST_TOKEN\"\nsince = \"2026-04-01T00:00:00Z\"\npage_size = 100\noverlap = \"30m\"\nlogs = [\"signins\", \"audits\"]\n",
                self.api.url()
            ),
        )
    }
}

#[test]
fn entra_pull_reads_both_logs_once_through_throttling_and_rereads_the_overlap_for_late_events() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ledger");
    init_ledger(&dir);
    let graph = FakeGraph::start([(2, 429), (4, 500)].into_iter().collect());
    let start = t("2026-04-01T00:00:00Z");
    graph.signins.lock().unwrap().extend((0..250).map(|i| {
        (
            start + Duration::minutes(i as i64),
            entra_signin(i, start + Duration::minutes(i as i64)),
        )
    }));
    graph.audits.lock().unwrap().extend((0..40).map(|i| {
        (
            start + Duration::minutes(5 * i as i64),
            entra_audit(i, start + Duration::minutes(5 * i as i64)),
        )
    }));
    let config = graph.config(tmp.path());
    let env = [("GRAPH_TEST_TOKEN", GRAPH_TOKEN)];
    let (code, out, err) = pull(&dir, &config, &env);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains("entra/signins: ") && out.contains("250 event(s) added"),
        "{out}"
    );
    assert!(
        out.contains("entra/audits: ") && out.contains("40 event(s) added"),
        "{out}"
    );
    assert!(!out.contains(GRAPH_TOKEN) && !err.contains(GRAPH_TOKEN));
    assert_exactly_once(&dir, 290);

    // Late sign-ins (older than the newest read, inside the 30 min overlap), one new one,
    // and a late audit record.
    let asked_before = graph.api.requests().len();
    let newest = start + Duration::minutes(249);
    graph.signins.lock().unwrap().extend([
        (
            newest - Duration::minutes(19),
            entra_signin(900, newest - Duration::minutes(19)),
        ),
        (
            newest - Duration::minutes(3),
            entra_signin(901, newest - Duration::minutes(3)),
        ),
        (
            newest + Duration::minutes(20),
            entra_signin(902, newest + Duration::minutes(20)),
        ),
    ]);
    let last_audit = start + Duration::minutes(5 * 39);
    graph.audits.lock().unwrap().push((
        last_audit - Duration::minutes(10),
        entra_audit(900, last_audit - Duration::minutes(10)),
    ));
    // And a record without an id that is two events (an account re-enabled with a new
    // leave date): both are kept, not the second taken for a copy of the first.
    let both_at = last_audit - Duration::minutes(5);
    graph.audits.lock().unwrap().push((
        both_at,
        format!(
            r#"{{"activityDisplayName":"Update user","activityDateTime":"{}","initiatedBy":{{"user":{{"userPrincipalName":"it.admin@acme.example"}}}},"targetResources":[{{"id":"u1","type":"User","userPrincipalName":"leaver901@acme.example","modifiedProperties":[{{"displayName":"AccountEnabled","oldValue":"[false]","newValue":"[true]"}},{{"displayName":"EmployeeLeaveDateTime","oldValue":"[]","newValue":"[\"2026-05-01T00:00:00Z\"]"}}]}}]}}"#,
            both_at.format("%Y-%m-%dT%H:%M:%SZ")
        ),
    ));
    let (code, out, err) = pull(&dir, &config, &env);
    assert_eq!(code, 0, "{out}\n{err}");
    assert_exactly_once(&dir, 296);
    // The second run resumed from the watermark minus the overlap, not from `since`.
    let resumed = &graph.api.requests()[asked_before];
    assert_eq!(resumed.path(), "/v1.0/auditLogs/signIns");
    assert_eq!(
        resumed.query("$filter").map(decode).as_deref(),
        Some("createdDateTime ge 2026-04-01T03:39:00.000Z"),
        "{}",
        resumed.target
    );

    // Caught up: nothing new is added.
    let (code, out, _) = pull(&dir, &config, &env);
    assert_eq!(code, 0);
    assert!(
        out.lines().all(|l| l.contains(" 0 event(s) added")),
        "{out}"
    );
    assert_exactly_once(&dir, 296);

    assert_wrong_token_refused(&config, "GRAPH_TEST_TOKEN");
}

// ---- GitHub organisation audit log ---------------------------------------------------------

const GITHUB_TOKEN: &str = "ghp_testtoken0123456789abcdefABCDEF";

fn github_entry(i: usize) -> String {
    let ms = 1_770_023_700_000_u64 + i as u64 * 60_000;
    let (action, extra) = match i % 4 {
        0 => ("org.add_member", format!(r#","user":"member-{i}""#)),
        1 => (
            "git.clone",
            r#","repo":"acme-corp/api","programmatic_access_type":"Fine-grained personal access token","token_id":77"#.to_string(),
        ),
        2 => ("user.login", String::new()),
        _ => ("org.remove_member", format!(r#","user":"member-{i}""#)),
    };
    format!(
        r#"{{"@timestamp":{ms},"_document_id":"gh-doc-{i:06}","action":"{action}","actor":"dev-{}","actor_id":{},"org":"acme-corp","org_id":500,"actor_ip":"198.51.100.{}","actor_location":{{"country_code":"DE"}},"created_at":{ms}{extra}}}"#,
        i % 9,
        1000 + i % 9,
        i % 250
    )
}

struct FakeGitHub {
    api: FakeApi,
    entries: Arc<Mutex<Vec<String>>>,
}

impl FakeGitHub {
    /// GitHub's audit log: `order=asc`, `per_page` ≤ 100, opaque `after` cursors in
    /// `Link: rel="next"`, no `next` on the last page; Bearer auth and the API version
    /// header; the rate limit answered 403 with `x-ratelimit-remaining: 0`.
    fn start(faults: Faults) -> FakeGitHub {
        let entries: Arc<Mutex<Vec<String>>> = Arc::default();
        let e = entries.clone();
        let count = AtomicUsize::new(0);
        let base: Arc<Mutex<String>> = Arc::default();
        let b = base.clone();
        let api = FakeApi::start(move |req: &Request| {
            let k = count.fetch_add(1, Ordering::SeqCst) + 1;
            if req.header("authorization") != Some(&format!("Bearer {GITHUB_TOKEN}")) {
                return Response::json(
                    401,
                    r#"{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest"}"#,
                );
            }
            assert_eq!(req.header("x-github-api-version"), Some("2022-11-28"));
            match faults.get(&k) {
                Some(403) => {
                    let now = chrono::Utc::now();
                    return Response::json(403, r#"{"message":"API rate limit exceeded"}"#)
                        .with_header("Date", now.to_rfc2822().replace("+0000", "GMT"))
                        .with_header("x-ratelimit-limit", "1750")
                        .with_header("x-ratelimit-remaining", "0")
                        .with_header("x-ratelimit-reset", (now.timestamp() + 1).to_string());
                }
                Some(status) => return Response::json(*status, r#"{"message":"Server Error"}"#),
                None => {}
            }
            if req.path() != "/orgs/acme-corp/audit-log" {
                return Response::json(404, r#"{"message":"Not Found"}"#);
            }
            assert_eq!(req.query("order"), Some("asc"));
            let per_page: usize = req.query("per_page").unwrap().parse().unwrap();
            assert!(per_page <= 100);
            let start: usize = req
                .query("after")
                .map_or(0, |a| a.trim_start_matches("cur").parse().unwrap());
            let all = e.lock().unwrap();
            let page: Vec<String> = all.iter().skip(start).take(per_page).cloned().collect();
            let end = start + page.len();
            let mut response = Response::json(200, format!("[{}]", page.join(",")));
            if end < all.len() {
                response = response.with_header(
                    "Link",
                    format!(
                        "<{}/orgs/acme-corp/audit-log?include=all&order=asc&per_page={per_page}&after=cur{end}&before=>; rel=\"next\"",
                        b.lock().unwrap()
                    ),
                );
            }
            response
        });
        *base.lock().unwrap() = api.url();
        FakeGitHub { api, entries }
    }

    fn config(&self, dir: &Path) -> PathBuf {
        write_config(
            dir,
            &format!(
                "[[pull]]\nsource = \"github\"\nbase_url = \"{}\"\ntoken_env = \"GITHUB_TEST_TOKEN\"\norg = \"acme-corp\"\ninclude = \"all\"\npage_size = 100\n",
                self.api.url()
            ),
        )
    }
}

#[test]
fn github_pull_follows_after_cursors_and_rereads_the_caught_up_page_for_new_entries() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ledger");
    init_ledger(&dir);
    let gh = FakeGitHub::start([(2, 403), (4, 502)].into_iter().collect());
    gh.entries
        .lock()
        .unwrap()
        .extend((0..250).map(github_entry));
    let config = gh.config(tmp.path());
    let env = [("GITHUB_TEST_TOKEN", GITHUB_TOKEN)];
    let (code, out, err) = pull(&dir, &config, &env);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains("github/audit-log: 3 page(s), 250 event(s) added"),
        "{out}"
    );
    assert!(!out.contains(GITHUB_TOKEN) && !err.contains(GITHUB_TOKEN));
    assert_exactly_once(&dir, 250);
    let (_, cursors) = ledger_contents(&dir);
    assert!(
        cursors.last().unwrap().1.ends_with("after=cur200&before="),
        "{cursors:?}"
    );

    // New entries land behind the caught-up page: asked again, not skipped.
    let asked_before = gh.api.requests().len();
    gh.entries
        .lock()
        .unwrap()
        .extend((250..330).map(github_entry));
    let (code, out, err) = pull(&dir, &config, &env);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains("80 event(s) added, 50 already present"),
        "{out}"
    );
    assert_eq!(
        gh.api.requests()[asked_before].query("after"),
        Some("cur200")
    );
    assert_exactly_once(&dir, 330);

    assert_wrong_token_refused(&config, "GITHUB_TEST_TOKEN");
}

// ---- Google Workspace Reports API ----------------------------------------------------------

const GOOGLE_TOKEN: &str = "ya29.test-google-access-token";

fn google_activity(app: &str, i: usize, at: DateTime<Utc>) -> String {
    let event = match app {
        "login" => r#"{"type":"login","name":"login_success","parameters":[{"name":"login_type","value":"google_password"}]}"#.to_string(),
        "admin" => format!(
            r#"{{"type":"USER_SETTINGS","name":"SUSPEND_USER","parameters":[{{"name":"USER_EMAIL","value":"leaver{i}@acme.example"}}]}}"#
        ),
        _ => r#"{"type":"auth","name":"activity","parameters":[{"name":"client_id","value":"1234.apps.googleusercontent.com"},{"name":"app_name","value":"Calendar Sync"}]}"#.to_string(),
    };
    format!(
        r#"{{"kind":"admin#reports#activity","id":{{"time":"{}","uniqueQualifier":"{}","applicationName":"{app}","customerId":"C03az79cb"}},"etag":"\"JDMC8884sebSctZ17CIssbQ/{i}\"","actor":{{"callerType":"USER","email":"user{}@acme.example","profileId":"1358068855{i:03}"}},"ipAddress":"203.0.113.{}","events":[{event}]}}"#,
        at.format("%Y-%m-%dT%H:%M:%S%.3fZ"),
        358_068_855_000_u64 + i as u64,
        i % 11,
        i % 250
    )
}

struct FakeGoogle {
    api: FakeApi,
    logs: BTreeMap<&'static str, Log>,
}

impl FakeGoogle {
    /// The Reports API: `startTime`, `maxResults` ≤ 1000, newest first, `nextPageToken`
    /// (valid only with the same startTime); Bearer auth; 429 with `Retry-After`.
    fn start(faults: Faults) -> FakeGoogle {
        let logs: BTreeMap<&'static str, Log> = ["login", "admin", "token"]
            .into_iter()
            .map(|a| (a, Log::default()))
            .collect();
        let l = logs.clone();
        let count = AtomicUsize::new(0);
        let api = FakeApi::start(move |req: &Request| {
            let k = count.fetch_add(1, Ordering::SeqCst) + 1;
            if req.header("authorization") != Some(&format!("Bearer {GOOGLE_TOKEN}")) {
                return Response::json(
                    401,
                    r#"{"error":{"code":401,"message":"Request had invalid authentication credentials.","status":"UNAUTHENTICATED"}}"#,
                );
            }
            match faults.get(&k) {
                Some(429) => {
                    return Response::json(
                        429,
                        r#"{"error":{"code":429,"message":"Quota exceeded","status":"RESOURCE_EXHAUSTED"}}"#,
                    )
                    .with_header("Retry-After", "1")
                }
                Some(status) => return Response::json(*status, r#"{"error":{"code":503}}"#),
                None => {}
            }
            let Some(app) = req
                .path()
                .strip_prefix("/admin/reports/v1/activity/users/all/applications/")
            else {
                return Response::json(404, "{}");
            };
            let log = &l[app];
            let max: usize = req.query("maxResults").unwrap().parse().unwrap();
            assert!(max <= 1000);
            let from = req.query("startTime").map(|s| t(&decode(s)));
            let skip: usize = match req.query("pageToken") {
                Some(tok) => {
                    let (at, n) = decode(tok)
                        .split_once('|')
                        .map(|(a, n)| (a.to_string(), n.parse().unwrap()))
                        .unwrap();
                    assert_eq!(
                        Some(at.as_str()),
                        req.query("startTime"),
                        "a page token needs the same startTime"
                    );
                    n
                }
                None => 0,
            };
            let mut all = log.lock().unwrap().clone();
            all.sort_by_key(|r| std::cmp::Reverse(r.0));
            let matching: Vec<String> = all
                .into_iter()
                .filter(|(at, _)| from.is_none_or(|f| *at >= f))
                .map(|(_, r)| r)
                .collect();
            let page: Vec<String> = matching.iter().skip(skip).take(max).cloned().collect();
            let token = if skip + max < matching.len() {
                format!(
                    r#","nextPageToken":"{}|{}""#,
                    req.query("startTime").unwrap_or_default(),
                    skip + max
                )
            } else {
                String::new()
            };
            Response::json(
                200,
                format!(
                    r#"{{"kind":"admin#reports#activities","etag":"\"x\"","items":[{}]{token}}}"#,
                    page.join(",")
                ),
            )
        });
        FakeGoogle { api, logs }
    }

    fn add(&self, app: &'static str, i: usize, at: DateTime<Utc>) {
        self.logs[app]
            .lock()
            .unwrap()
            .push((at, google_activity(app, i, at)));
    }

    fn config(&self, dir: &Path) -> PathBuf {
        write_config(
            dir,
            &format!(
                "[[pull]]\nsource = \"google\"\nbase_url = \"{}\"\ntoken_env = \"GOOGLE_TEST_TOKEN\"\nsince = \"2026-03-12T00:00:00Z\"\npage_size = 50\noverlap = \"6h\"\napplications = [\"login\", \"admin\", \"token\"]\n",
                self.api.url()
            ),
        )
    }
}

#[test]
fn google_pull_reads_each_application_once_and_its_lookback_picks_up_late_activities() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ledger");
    init_ledger(&dir);
    let g = FakeGoogle::start([(2, 429), (5, 503)].into_iter().collect());
    let start = t("2026-03-12T00:00:00Z");
    for i in 0..120 {
        g.add("login", i, start + Duration::minutes(7 * i as i64));
    }
    for i in 0..30 {
        g.add("admin", i, start + Duration::minutes(20 * i as i64));
    }
    for i in 0..20 {
        g.add("token", i, start + Duration::minutes(30 * i as i64));
    }
    let config = g.config(tmp.path());
    let env = [("GOOGLE_TEST_TOKEN", GOOGLE_TOKEN)];
    let (code, out, err) = pull(&dir, &config, &env);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains("google/login: ") && out.contains("120 event(s) added"),
        "{out}"
    );
    assert!(!out.contains(GOOGLE_TOKEN) && !err.contains(GOOGLE_TOKEN));
    assert_exactly_once(&dir, 170);

    // Login events hours late (older than the newest read, inside the 6 h lookback), and a
    // late token activity.
    let newest_login = start + Duration::minutes(7 * 119);
    g.add("login", 500, newest_login - Duration::hours(5));
    g.add("login", 501, newest_login - Duration::minutes(1));
    g.add("login", 502, newest_login + Duration::hours(1));
    g.add(
        "token",
        500,
        start + Duration::minutes(30 * 19) - Duration::hours(2),
    );
    let asked_before = g.api.requests().len();
    let (code, out, err) = pull(&dir, &config, &env);
    assert_eq!(code, 0, "{out}\n{err}");
    assert_exactly_once(&dir, 174);
    let resumed = &g.api.requests()[asked_before];
    assert_eq!(
        resumed.query("startTime").map(decode).as_deref(),
        Some("2026-03-12T07:53:00.000Z"),
        "the watermark (13:53) minus 6 h: {}",
        resumed.target
    );

    assert_wrong_token_refused(&config, "GOOGLE_TEST_TOKEN");
}

// ---- Keycloak Admin REST -------------------------------------------------------------------

const KEYCLOAK_TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.keycloak-test-token";

fn keycloak_user_event(i: usize, ms: i64) -> String {
    format!(
        r#"{{"id":"b1c2d3e4-0000-4000-8000-{i:012}","time":{ms},"type":"{}","realmId":"acme","clientId":"portal","userId":"3f6c2a4e-8d1b-4c7a-9e2f-{i:012}","sessionId":"c1f2e3d4-a5b6-4c7d-8e9f-{i:012}","ipAddress":"203.0.113.9","details":{{"auth_method":"openid-connect","username":"user{}"}}}}"#,
        if i.is_multiple_of(3) {
            "LOGIN"
        } else {
            "CODE_TO_TOKEN"
        },
        i % 6
    )
}

fn keycloak_admin_event(i: usize, ms: i64) -> String {
    format!(
        r#"{{"id":"a1c2d3e4-0000-4000-8000-{i:012}","time":{ms},"realmId":"acme","authDetails":{{"realmId":"master","clientId":"security-admin-console","userId":"0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d","ipAddress":"198.51.100.2"}},"operationType":"UPDATE","resourceType":"USER","resourcePath":"users/3f6c2a4e-8d1b-4c7a-9e2f-{i:012}","representation":"{{\"username\":\"leaver{i}\",\"enabled\":false}}"}}"#
    )
}

/// Keycloak's log: (epoch ms, record JSON).
type MsLog = Arc<Mutex<Vec<(i64, String)>>>;

struct FakeKeycloak {
    api: FakeApi,
    events: MsLog,
    admin: MsLog,
}

impl FakeKeycloak {
    /// Keycloak's event endpoints: `dateFrom` (epoch ms), `first`/`max` offsets over the
    /// newest-first list; Bearer auth; a proxy's 429 with `Retry-After`.
    fn start(faults: Faults) -> FakeKeycloak {
        let (events, admin): (MsLog, MsLog) = (Arc::default(), Arc::default());
        let (e, a) = (events.clone(), admin.clone());
        let count = AtomicUsize::new(0);
        let api = FakeApi::start(move |req: &Request| {
            let k = count.fetch_add(1, Ordering::SeqCst) + 1;
            if req.header("authorization") != Some(&format!("Bearer {KEYCLOAK_TOKEN}")) {
                return Response::json(401, r#"{"error":"HTTP 401 Unauthorized"}"#);
            }
            match faults.get(&k) {
                Some(429) => {
                    return Response::json(429, r#"{"error":"too many requests"}"#)
                        .with_header("Retry-After", "1")
                }
                Some(status) => return Response::json(*status, r#"{"error":"unknown_error"}"#),
                None => {}
            }
            let log = match req.path() {
                "/admin/realms/acme/events" => &e,
                "/admin/realms/acme/admin-events" => &a,
                _ => return Response::json(404, r#"{"error":"Realm not found."}"#),
            };
            let first: usize = req.query("first").unwrap().parse().unwrap();
            let max: usize = req.query("max").unwrap().parse().unwrap();
            let from: Option<i64> = req.query("dateFrom").map(|d| d.parse().unwrap());
            let mut all = log.lock().unwrap().clone();
            all.sort_by_key(|r| std::cmp::Reverse(r.0));
            let page: Vec<String> = all
                .into_iter()
                .filter(|(ms, _)| from.is_none_or(|f| *ms >= f))
                .skip(first)
                .take(max)
                .map(|(_, r)| r)
                .collect();
            Response::json(200, format!("[{}]", page.join(",")))
        });
        FakeKeycloak { api, events, admin }
    }

    fn config(&self, dir: &Path) -> PathBuf {
        write_config(
            dir,
            &format!(
                "[[pull]]\nsource = \"keycloak\"\nbase_url = \"{}\"\ntoken_env = \"KEYCLOAK_TEST_TOKEN\"\nrealm = \"acme\"\nsince = \"2026-03-19T00:00:00Z\"\npage_size = 40\noverlap = \"5m\"\ndate_from = \"epoch-ms\"\n",
                self.api.url()
            ),
        )
    }
}

#[test]
fn keycloak_pull_pages_offsets_within_date_windows_and_rereads_the_overlap_for_late_events() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ledger");
    init_ledger(&dir);
    let kc = FakeKeycloak::start([(2, 429), (3, 500)].into_iter().collect());
    let start: i64 = 1_773_878_400_000; // 2026-03-19T00:00:00Z
    let minute = 60_000;
    kc.events.lock().unwrap().extend((0..100).map(|i| {
        (
            start + i as i64 * minute,
            keycloak_user_event(i, start + i as i64 * minute),
        )
    }));
    kc.admin.lock().unwrap().extend((0..40).map(|i| {
        (
            start + i as i64 * 3 * minute,
            keycloak_admin_event(i, start + i as i64 * 3 * minute),
        )
    }));
    let config = kc.config(tmp.path());
    let env = [("KEYCLOAK_TEST_TOKEN", KEYCLOAK_TOKEN)];
    let (code, out, err) = pull(&dir, &config, &env);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains("keycloak/events: ") && out.contains("100 event(s) added"),
        "{out}"
    );
    assert!(
        out.contains("keycloak/admin-events: ") && out.contains("40 event(s) added"),
        "{out}"
    );
    assert!(!out.contains(KEYCLOAK_TOKEN) && !err.contains(KEYCLOAK_TOKEN));
    assert_exactly_once(&dir, 140);

    // Late events, inside the 5 minute overlap (older than the newest read), and a new one.
    let newest = start + 99 * minute;
    kc.events.lock().unwrap().extend([
        (
            newest - 2 * minute - 500,
            keycloak_user_event(900, newest - 2 * minute - 500),
        ),
        (newest - 30_000, keycloak_user_event(901, newest - 30_000)),
        (
            newest + 10 * minute,
            keycloak_user_event(902, newest + 10 * minute),
        ),
    ]);
    let newest_admin = start + 39 * 3 * minute;
    kc.admin.lock().unwrap().push((
        newest_admin - minute,
        keycloak_admin_event(900, newest_admin - minute),
    ));
    let asked_before = kc.api.requests().len();
    let (code, out, err) = pull(&dir, &config, &env);
    assert_eq!(code, 0, "{out}\n{err}");
    assert_exactly_once(&dir, 144);
    let resumed = &kc.api.requests()[asked_before];
    assert_eq!(
        resumed.query("dateFrom"),
        Some((newest - 5 * minute).to_string().as_str()),
        "{}",
        resumed.target
    );
    assert_eq!(resumed.query("first"), Some("0"));

    assert_wrong_token_refused(&config, "KEYCLOAK_TEST_TOKEN");
}

// ---- OneLogin events API v1 ----------------------------------------------------------------

const ONELOGIN_TOKEN: &str = "onelogin-test-access-token-7f3a";

fn onelogin_event(i: usize, at: DateTime<Utc>) -> String {
    let (type_id, extra) = match i % 3 {
        0 => (5, String::new()),
        1 => (8, r#","app_name":"Salesforce""#.to_string()),
        _ => (13, format!(r#","notes":"user {i} deactivated""#)),
    };
    format!(
        r#"{{"id":{},"created_at":"{}","account_id":55,"user_id":{},"event_type_id":{type_id},"notes":null,"ipaddr":"203.0.113.{}","actor_user_id":null,"user_name":"User {}","actor_system":"","directory_sync_run_id":null,"risk_score":0{extra}}}"#,
        900_000 + i,
        at.format("%Y-%m-%dT%H:%M:%S%.3fZ"),
        1000 + i % 9,
        i % 250,
        i % 9
    )
}

#[test]
fn onelogin_pull_follows_after_cursors_then_asks_since_the_newest_event() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ledger");
    init_ledger(&dir);
    let log: Log = Arc::default();
    let l = log.clone();
    let count = AtomicUsize::new(0);
    let faults: Faults = [(2, 429), (3, 500)].into_iter().collect();
    // OneLogin v1: `since`, 50 per page newest first, `pagination.after_cursor`;
    // `Authorization: bearer:<token>`; 429 with `X-RateLimit-Reset`.
    let api = FakeApi::start(move |req: &Request| {
        let k = count.fetch_add(1, Ordering::SeqCst) + 1;
        if req.header("authorization") != Some(&format!("bearer:{ONELOGIN_TOKEN}")) {
            return Response::json(
                401,
                r#"{"status":{"error":true,"code":401,"type":"Unauthorized","message":"Authentication Failure"}}"#,
            );
        }
        match faults.get(&k) {
            Some(429) => {
                let now = chrono::Utc::now();
                return Response::json(429, r#"{"status":{"error":true,"code":429}}"#)
                    .with_header("Date", now.to_rfc2822().replace("+0000", "GMT"))
                    .with_header("X-RateLimit-Limit", "5000")
                    .with_header("X-RateLimit-Remaining", "0")
                    .with_header("X-RateLimit-Reset", (now.timestamp() + 1).to_string());
            }
            Some(status) => return Response::json(*status, r#"{"status":{"error":true}}"#),
            None => {}
        }
        if req.path() != "/api/1/events" {
            return Response::json(404, "{}");
        }
        let from = req.query("since").map(|s| t(&decode(s)));
        let skip: usize = req.query("after_cursor").map_or(0, |c| c.parse().unwrap());
        let mut all = l.lock().unwrap().clone();
        all.sort_by_key(|r| std::cmp::Reverse(r.0));
        let matching: Vec<String> = all
            .into_iter()
            .filter(|(at, _)| from.is_none_or(|f| *at >= f))
            .map(|(_, r)| r)
            .collect();
        let page: Vec<String> = matching.iter().skip(skip).take(50).cloned().collect();
        let after = if skip + 50 < matching.len() {
            format!("\"{}\"", skip + 50)
        } else {
            "null".into()
        };
        Response::json(
            200,
            format!(
                r#"{{"status":{{"error":false,"code":200,"type":"success","message":"Success"}},"pagination":{{"before_cursor":null,"after_cursor":{after},"previous_link":null,"next_link":null}},"data":[{}]}}"#,
                page.join(",")
            ),
        )
    });
    let start = t("2026-01-21T00:00:00Z");
    log.lock().unwrap().extend((0..120).map(|i| {
        (
            start + Duration::minutes(i as i64),
            onelogin_event(i, start + Duration::minutes(i as i64)),
        )
    }));
    let config = write_config(
        tmp.path(),
        &format!(
            "[[pull]]\nsource = \"onelogin\"\nbase_url = \"{}\"\ntoken_env = \"ONELOGIN_TEST_TOKEN\"\nsince = \"2026-01-21T00:00:00Z\"\n",
            api.url()
        ),
    );
    let env = [("ONELOGIN_TEST_TOKEN", ONELOGIN_TOKEN)];
    let (code, out, err) = pull(&dir, &config, &env);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains("onelogin/events: ") && out.contains("120 event(s) added"),
        "{out}"
    );
    assert!(!out.contains(ONELOGIN_TOKEN) && !err.contains(ONELOGIN_TOKEN));
    assert_exactly_once(&dir, 120);

    // New events, one in the same millisecond as the newest already read.
    let newest = start + Duration::minutes(119);
    log.lock().unwrap().extend(
        (0..60)
            .map(|i| newest + Duration::seconds(i))
            .enumerate()
            .map(|(n, at)| (at, onelogin_event(200 + n, at))),
    );
    let asked_before = api.requests().len();
    let (code, out, err) = pull(&dir, &config, &env);
    assert_eq!(code, 0, "{out}\n{err}");
    assert_exactly_once(&dir, 180);
    let resumed = &api.requests()[asked_before];
    assert_eq!(
        resumed.query("since").map(decode).as_deref(),
        Some("2026-01-21T01:59:00.000Z"),
        "{}",
        resumed.target
    );

    assert_wrong_token_refused(&config, "ONELOGIN_TEST_TOKEN");
}

/// Graph's sign-ins come newest first: a window whose last pages are re-read duplicates
/// must still leave its completed position (the moved watermark) in the ledger, or every
/// later `--once` run would resume mid-window behind it.
#[test]
fn a_window_that_ends_on_reread_pages_still_commits_its_watermark() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ledger");
    init_ledger(&dir);
    let graph = FakeGraph::start(Default::default());
    let start = t("2026-04-01T00:00:00Z");
    graph.signins.lock().unwrap().extend((0..60).map(|i| {
        let at = start + Duration::minutes(i as i64);
        (at, entra_signin(i, at))
    }));
    let config = write_config(
        tmp.path(),
        &format!(
            "[[pull]]\nsource = \"entra\"\nbase_url = \"{}/v1.0\"\ntoken_env = \"GRAPH_TEST_TOKEN\"\nsince = \"2026-04-01T00:00:00Z\"\npage_size = 10\noverlap = \"30m\"\nlogs = [\"signins\"]\n",
            graph.api.url()
        ),
    );
    let env = [("GRAPH_TEST_TOKEN", GRAPH_TOKEN)];
    assert_eq!(pull(&dir, &config, &env).0, 0);
    assert_exactly_once(&dir, 60);
    // A late sign-in in the middle of the overlap: the window's first page (newest) and
    // its last pages are all re-reads; only the middle page adds something.
    let late = start + Duration::minutes(45);
    graph.signins.lock().unwrap().push((
        late + Duration::seconds(30),
        entra_signin(500, late + Duration::seconds(30)),
    ));
    let (code, out, err) = pull(&dir, &config, &env);
    assert_eq!(code, 0, "{out}{err}");
    assert_exactly_once(&dir, 61);
    let (_, cursors) = ledger_contents(&dir);
    let last = &cursors.last().unwrap().1;
    let window: serde_json::Value = serde_json::from_str(last).unwrap();
    assert!(
        window.get("next").is_none(),
        "the ledger's cursor is mid-window: {last}"
    );
    assert_eq!(window["watermark"], "2026-04-01T00:59:00Z", "{last}");
    // And a caught-up run commits nothing more.
    let size = auditledger::ledger::Ledger::open(&dir, auditledger::ledger::Access::Read)
        .unwrap()
        .size();
    assert_eq!(pull(&dir, &config, &env).0, 0);
    let after = auditledger::ledger::Ledger::open(&dir, auditledger::ledger::Access::Read)
        .unwrap()
        .size();
    assert_eq!(after, size);
}

/// An expired `$skiptoken` (Graph answers 400) restarts the window instead of failing the
/// stream: everything is still read exactly once.
#[test]
fn a_refused_page_token_restarts_the_window() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ledger");
    init_ledger(&dir);
    let graph = FakeGraph::start([(3, 400)].into_iter().collect());
    let start = t("2026-04-01T00:00:00Z");
    graph.signins.lock().unwrap().extend((0..60).map(|i| {
        let at = start + Duration::minutes(i as i64);
        (at, entra_signin(i, at))
    }));
    let config = write_config(
        tmp.path(),
        &format!(
            "[[pull]]\nsource = \"entra\"\nbase_url = \"{}/v1.0\"\ntoken_env = \"GRAPH_TEST_TOKEN\"\nsince = \"2026-04-01T00:00:00Z\"\npage_size = 10\nlogs = [\"signins\"]\n",
            graph.api.url()
        ),
    );
    let (code, out, err) = pull(&dir, &config, &[("GRAPH_TEST_TOKEN", GRAPH_TOKEN)]);
    assert_eq!(code, 0, "{out}{err}");
    assert_exactly_once(&dir, 60);
    let requests = graph.api.requests();
    assert!(
        requests[2].query("$skiptoken").is_some(),
        "{}",
        requests[2].target
    );
    assert_eq!(
        requests[3].query("$skiptoken"),
        None,
        "{}",
        requests[3].target
    );
    assert!(err.contains("starting its window again"), "{err}");
}
