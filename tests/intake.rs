//! Live intake through the real CLI: `pull` against fake IdP APIs on 127.0.0.1 that page,
//! authenticate, rate-limit and fail as the real ones do; the config's refusals.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use auditledger::ledger::entry::Payload;
use auditledger::ledger::verify::{verify, VerifyOptions};
use auditledger::ledger::{Access, Ledger};

use crate::fakeapi::{FakeApi, Request, Response};
use crate::util::bin;

pub const OKTA_TOKEN: &str = "okta-test-token-0123456789";

/// Source ids of the ledger's events with how often each occurs, and its cursors.
pub fn ledger_contents(dir: &Path) -> (BTreeMap<String, usize>, Vec<(String, String)>) {
    let ledger = Ledger::open(dir, Access::Read).unwrap();
    let mut ids = BTreeMap::new();
    let mut cursors = Vec::new();
    for e in ledger.entries(0, u64::MAX) {
        match e.unwrap().entry.payload {
            Payload::Event(ev) => {
                *ids.entry(format!(
                    "{}:{}",
                    ev.source,
                    ev.source_id.unwrap_or_default()
                ))
                .or_default() += 1
            }
            Payload::Cursor {
                stream, position, ..
            } => cursors.push((stream, position)),
            _ => {}
        }
    }
    (ids, cursors)
}

pub fn assert_verifies(dir: &Path) {
    let ledger = Ledger::open(dir, Access::Read).unwrap();
    let report = verify(&ledger, &VerifyOptions::default());
    assert!(report.is_ok(), "ledger does not verify: {report:?}");
}

pub fn init_ledger(dir: &Path) {
    let out = bin()
        .arg("--ledger")
        .arg(dir)
        .args(["init", "--origin", "test.example/intake"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs the CLI with the given environment; (exit code, stdout, stderr).
pub fn run_env(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> (i32, String, String) {
    let mut c = bin();
    c.arg("--ledger").arg(dir).args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Okta's System Log as a polling client sees it: `since` then `after` cursors in the
/// `Link: rel="next"` header, always present; SSWS auth; faults injected by request number.
pub struct FakeOkta {
    pub api: FakeApi,
    pub events: Arc<Mutex<Vec<String>>>,
}

pub fn okta_event(i: usize) -> String {
    format!(
        r#"{{"uuid":"okta-{i:06}","published":"2026-11-30T{:02}:{:02}:{:02}.000Z","eventType":"user.session.start","displayMessage":"User login to Okta","actor":{{"id":"00u{i}","type":"User","alternateId":"user{}@acme.example","displayName":"User {}"}},"outcome":{{"result":"SUCCESS"}},"client":{{"ipAddress":"203.0.113.{}"}},"target":null}}"#,
        (i / 3600) % 24,
        (i / 60) % 60,
        i % 60,
        i % 13,
        i % 13,
        i % 250
    )
}

impl FakeOkta {
    /// `faults`: request number (from 1) → the status to answer instead.
    pub fn start(n: usize, faults: BTreeMap<usize, u16>) -> FakeOkta {
        let events: Arc<Mutex<Vec<String>>> =
            Arc::new(Mutex::new((0..n).map(okta_event).collect()));
        let count = AtomicUsize::new(0);
        let ev = events.clone();
        let base: Arc<Mutex<String>> = Arc::default();
        let b = base.clone();
        let api = FakeApi::start(move |req: &Request| {
            let k = count.fetch_add(1, Ordering::SeqCst) + 1;
            assert_eq!((req.method.as_str(), req.body.len()), ("GET", 0));
            if req.header("authorization") != Some(&format!("SSWS {OKTA_TOKEN}")) {
                return Response::json(
                    401,
                    r#"{"errorCode":"E0000011","errorSummary":"Invalid token provided"}"#,
                );
            }
            match faults.get(&k) {
                Some(429) => {
                    let now = chrono::Utc::now();
                    return Response::json(429, r#"{"errorCode":"E0000047"}"#)
                        .with_header("Date", now.to_rfc2822().replace("+0000", "GMT"))
                        .with_header("X-Rate-Limit-Reset", (now.timestamp() + 1).to_string())
                        .with_header("X-Rate-Limit-Remaining", "0");
                }
                Some(status) => return Response::json(*status, "{}"),
                None => {}
            }
            if req.path() != "/api/v1/logs" {
                return Response::json(404, "{}");
            }
            let limit: usize = req
                .query("limit")
                .and_then(|l| l.parse().ok())
                .unwrap_or(100);
            let start: usize = match req.query("after") {
                Some(a) => a.parse().unwrap(),
                None => {
                    assert!(req.query("since").is_some(), "a first poll must send since");
                    assert_eq!(req.query("sortOrder"), Some("ASCENDING"));
                    assert_eq!(req.query("until"), None, "a polling request has no until");
                    0
                }
            };
            let all = ev.lock().unwrap();
            let page: Vec<&String> = all.iter().skip(start).take(limit).collect();
            let next = start + page.len();
            let body = format!(
                "[{}]",
                page.iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(",")
            );
            Response::json(200, body).with_header(
                "Link",
                format!(
                    "<{}/api/v1/logs?after={next}&limit={limit}>; rel=\"next\"",
                    b.lock().unwrap()
                ),
            )
        });
        *base.lock().unwrap() = api.url();
        FakeOkta { api, events }
    }

    pub fn config(&self, dir: &Path, page_size: usize) -> std::path::PathBuf {
        let path = dir.join("intake.toml");
        std::fs::write(
            &path,
            format!(
                "[[pull]]\nsource = \"okta\"\nbase_url = \"{}\"\ntoken_env = \"OKTA_TEST_TOKEN\"\npage_size = {page_size}\ninterval = \"1s\"\n",
                self.api.url()
            ),
        )
        .unwrap();
        path
    }
}

#[test]
fn pull_once_reads_every_okta_event_exactly_once_through_rate_limits_and_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ledger");
    init_ledger(&dir);
    let okta = FakeOkta::start(2500, [(2, 429), (4, 500)].into_iter().collect());
    let config = okta.config(tmp.path(), 1000);
    let env = [("OKTA_TEST_TOKEN", OKTA_TOKEN)];
    let (code, out, err) = run_env(
        &dir,
        &env,
        &["pull", "--config", config.to_str().unwrap(), "--once"],
    );
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains("okta/logs: 4 page(s), 2500 event(s) added"),
        "{out}"
    );
    assert!(!out.contains(OKTA_TOKEN) && !err.contains(OKTA_TOKEN));
    let (ids, cursors) = ledger_contents(&dir);
    assert_eq!(ids.len(), 2500);
    assert!(ids.values().all(|&n| n == 1));
    // One cursor per page that added events, the last one after event 2500.
    assert_eq!(cursors.len(), 3);
    assert!(
        cursors[2].1.ends_with("after=2500&limit=1000"),
        "{cursors:?}"
    );
    assert_verifies(&dir);

    // Late events: the next run resumes from the committed cursor, not from `since`.
    let asked_before = okta.api.requests().len();
    okta.events
        .lock()
        .unwrap()
        .extend((2500..2800).map(okta_event));
    let (code, out, err) = run_env(
        &dir,
        &env,
        &["pull", "--config", config.to_str().unwrap(), "--once"],
    );
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("300 event(s) added"), "{out}");
    let resumed = &okta.api.requests()[asked_before];
    assert_eq!(resumed.query("after"), Some("2500"), "{}", resumed.target);
    let (ids, _) = ledger_contents(&dir);
    assert_eq!(ids.len(), 2800);
    assert!(ids.values().all(|&n| n == 1));

    // Caught up: nothing added, nothing committed.
    let size = Ledger::open(&dir, Access::Read).unwrap().size();
    let (code, out, _) = run_env(
        &dir,
        &env,
        &[
            "pull",
            "--config",
            config.to_str().unwrap(),
            "--once",
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 0);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json[0]["added"], 0);
    assert_eq!(Ledger::open(&dir, Access::Read).unwrap().size(), size);
}

#[test]
fn a_refused_credential_or_a_dead_api_fails_the_run_without_showing_the_secret() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ledger");
    init_ledger(&dir);
    let okta = FakeOkta::start(10, BTreeMap::new());
    let config = okta.config(tmp.path(), 100);
    let (code, out, err) = run_env(
        &dir,
        &[("OKTA_TEST_TOKEN", "wrong-token-secret")],
        &["pull", "--config", config.to_str().unwrap(), "--once"],
    );
    assert_eq!(code, 2, "{out}\n{err}");
    assert!(
        err.contains("HTTP 401") && err.contains("$OKTA_TEST_TOKEN"),
        "{err}"
    );
    assert!(!err.contains("wrong-token-secret") && !out.contains("wrong-token-secret"));
    assert_eq!(ledger_contents(&dir).0.len(), 0);
}

#[test]
fn config_refusals_name_the_key_and_write_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ledger");
    init_ledger(&dir);
    let good = "[[pull]]\nsource = \"okta\"\nbase_url = \"http://127.0.0.1:9\"\ntoken_env = \"OKTA_TEST_TOKEN\"\n";
    let cases = [
        (format!("{good}realm = \"x\"\n"), "unknown key `realm`"),
        (
            good.replace("OKTA_TEST_TOKEN", "NOT_SET_ANYWHERE"),
            "NOT_SET_ANYWHERE is not set",
        ),
        (
            good.replace("127.0.0.1:9", "acme.okta.com"),
            "only to a loopback",
        ),
        (good.replace("okta", "octa"), "not a pull source"),
        (
            "[serve]\nlisten = \"127.0.0.1:1\"\nport = 3\n".to_string(),
            "port",
        ),
    ];
    for (i, (text, expected)) in cases.iter().enumerate() {
        let path = tmp.path().join(format!("bad{i}.toml"));
        std::fs::write(&path, text).unwrap();
        let (code, _, err) = run_env(
            &dir,
            &[("OKTA_TEST_TOKEN", "tok-secret")],
            &["pull", "--config", path.to_str().unwrap(), "--once"],
        );
        assert_eq!(code, 2, "{text}: {err}");
        assert!(err.contains(expected), "{text}: {err}");
        assert!(err.contains(&format!("bad{i}.toml")), "{err}");
        assert!(!err.contains("tok-secret"));
    }
    assert_eq!(Ledger::open(&dir, Access::Read).unwrap().size(), 0);
}

#[test]
fn config_init_writes_a_template_that_pull_accepts() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("intake.toml");
    let (code, out, err) = run_env(
        tmp.path(),
        &[],
        &["config", "init", "--out", path.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{out}{err}");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("token_env = \"OKTA_API_TOKEN\""));
    // Never overwritten.
    let (code, _, err) = run_env(
        tmp.path(),
        &[],
        &["config", "init", "--out", path.to_str().unwrap()],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("intake.toml"), "{err}");
}

#[test]
fn a_token_file_is_read_before_each_run_and_named_when_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ledger");
    init_ledger(&dir);
    let okta = FakeOkta::start(10, BTreeMap::new());
    let token = tmp.path().join("okta.token");
    std::fs::write(&token, format!("{OKTA_TOKEN}\n")).unwrap();
    let config = tmp.path().join("file.toml");
    std::fs::write(
        &config,
        format!(
            "[[pull]]\nsource = \"okta\"\nbase_url = \"{}\"\ntoken_file = \"{}\"\n",
            okta.api.url(),
            token.display()
        ),
    )
    .unwrap();
    let (code, out, err) = run_env(
        &dir,
        &[],
        &["pull", "--config", config.to_str().unwrap(), "--once"],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("10 event(s) added"), "{out}");
    std::fs::write(&token, "expired-token-value").unwrap();
    okta.events.lock().unwrap().push(okta_event(10));
    let (code, _, err) = run_env(
        &dir,
        &[],
        &["pull", "--config", config.to_str().unwrap(), "--once"],
    );
    assert_eq!(code, 2);
    assert!(
        err.contains("HTTP 401") && err.contains("okta.token"),
        "{err}"
    );
    assert!(!err.contains("expired-token-value"));
}

#[test]
fn quiet_and_color_flags() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ledger");
    init_ledger(&dir);
    let okta = FakeOkta::start(3, BTreeMap::new());
    let config = okta.config(tmp.path(), 100);
    let cfg = config.to_str().unwrap();
    let bad = [("OKTA_TEST_TOKEN", "wrong-token")];
    // Logs are coloured only when asked (stderr is a pipe here).
    let (_, _, err) = run_env(&dir, &bad, &["pull", "--config", cfg, "--once"]);
    assert!(err.contains("HTTP 401") && !err.contains('\u{1b}'), "{err}");
    let (_, _, err) = run_env(
        &dir,
        &bad,
        &["--color", "always", "pull", "--config", cfg, "--once"],
    );
    assert!(err.contains('\u{1b}'), "{err}");
    let (_, _, err) = run_env(
        &dir,
        &bad,
        &["--color", "never", "pull", "--config", cfg, "--once"],
    );
    assert!(!err.contains('\u{1b}'), "{err}");
    // -q: nothing on stdout, the exit code says how it went, errors still on stderr.
    let good = [("OKTA_TEST_TOKEN", OKTA_TOKEN)];
    let (code, out, _) = run_env(&dir, &good, &["-q", "pull", "--config", cfg, "--once"]);
    assert_eq!((code, out.as_str()), (0, ""));
    let (code, out, _) = run_env(&dir, &[], &["-q", "verify"]);
    assert_eq!((code, out.as_str()), (0, ""));
    let (code, out, err) = run_env(&tmp.path().join("nope"), &[], &["-q", "verify"]);
    assert_eq!((code, out.as_str()), (2, ""));
    assert!(err.contains("not a ledger"), "{err}");
}
