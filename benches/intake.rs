//! Live intake, end to end on loopback, with the generated Okta events of
//! `../shared/bench/peers/gen-events.py`:
//!
//! 1. `serve`: Okta Event Hook POSTs of 100 events each from many concurrent clients;
//!    acknowledged events/s and acknowledgement latency (p50, p99, max). An acknowledgement
//!    means the events are durably committed.
//! 2. `pull --once` against a fake Okta System Log API serving the events in pages of
//!    1,000 (`Link: rel="next"` cursors, as Okta pages): events/s end to end.
//!
//! `BENCH_HOOK_EVENTS` (default 200,000), `BENCH_CLIENTS` (default "8,32"),
//! `BENCH_PULL_EVENTS` (default 1,000,000; 0 skips the pull part).
//!
//! Run: `cargo bench --bench intake`

// A bench is test code: it stops with a message on a setup failure.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::AtomicBool;
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use auditledger::intake::config::{
    Config, Credential, HooksConfig, PullConfig, Secret, ServeConfig,
};
use auditledger::intake::{run_pull, serve::run_serve};
use auditledger::ledger::Ledger;
use auditledger::sources::poll::{self, Settings};
use auditledger::tlog::note::NoteSigner;

mod common;
use common::peak_rss_kib;

const HOOK_AUTH: &str = "Bearer bench-hook-secret";

fn events(n: u64) -> Vec<String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/bench/peers/gen-events.py");
    assert!(script.is_file(), "{} is missing", script.display());
    let dir = std::env::temp_dir().join("auditledger-bench");
    std::fs::create_dir_all(&dir).unwrap();
    let path: PathBuf = dir.join(format!("events-{n}.jsonl"));
    if !path.is_file() {
        let ok = Command::new("python3")
            .arg(&script)
            .arg(n.to_string())
            .arg(&path)
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap()
            .success();
        assert!(ok, "gen-events.py failed");
    }
    std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

fn new_ledger(dir: &Path) -> Ledger {
    Ledger::init(
        dir,
        NoteSigner::from_seed("bench.example/intake", [7; 32]).unwrap(),
    )
    .unwrap()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn hook_bench(all: &[String], clients: usize) {
    let tmp = tempfile::tempdir().unwrap();
    let config = Config {
        serve: Some(ServeConfig {
            listen: "127.0.0.1:0".into(),
            tls: None,
            max_body_bytes: 10 * 1024 * 1024,
        }),
        hooks: HooksConfig {
            okta: Some(Secret::new(HOOK_AUTH)),
            ..HooksConfig::default()
        },
        ..Config::default()
    };
    let ledger = new_ledger(&tmp.path().join("ledger"));
    let stop = Arc::new(AtomicBool::new(false));
    let (tx, rx) = mpsc::channel::<SocketAddr>();
    let server = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            run_serve(&config, ledger, stop, &mut |addr| tx.send(addr).unwrap()).unwrap();
        })
    };
    let addr = rx.recv().unwrap();
    let url = format!("http://{addr}/hooks/okta");
    let bodies: Vec<Vec<u8>> = all
        .chunks(100)
        .map(|c| {
            format!(
                r#"{{"eventType":"com.okta.event_hook","eventTypeVersion":"1.0","cloudEventsVersion":"0.1","data":{{"events":[{}]}}}}"#,
                c.join(",")
            )
            .into_bytes()
        })
        .collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let started = Instant::now();
    let mut latencies: Vec<Duration> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..clients)
            .map(|_| {
                let (bodies, next, url) = (&bodies, &next, &url);
                scope.spawn(move || {
                    let agent: ureq::Agent = ureq::Agent::config_builder()
                        .http_status_as_error(false)
                        .build()
                        .into();
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(body) = bodies.get(i) else { break };
                        let t = Instant::now();
                        let mut r = agent
                            .post(url.as_str())
                            .header("Authorization", HOOK_AUTH)
                            .send(&body[..])
                            .unwrap();
                        let _ = r.body_mut().read_to_vec();
                        assert_eq!(r.status().as_u16(), 200);
                        mine.push(t.elapsed());
                    }
                    mine
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let elapsed = started.elapsed();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    server.join().unwrap();
    latencies.sort();
    println!(
        "hooks   {:>8} events, {clients:>3} clients: {:>8.0} acknowledged events/s; ack latency p50 {:>6.1} ms, p99 {:>6.1} ms, max {:>6.1} ms",
        all.len(),
        all.len() as f64 / elapsed.as_secs_f64(),
        percentile(&latencies, 0.5).as_secs_f64() * 1000.0,
        percentile(&latencies, 0.99).as_secs_f64() * 1000.0,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1000.0,
    );
}

/// A fake Okta System Log API: pages of `limit` from `after`, always a next link.
fn fake_okta(all: Arc<Vec<String>>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let all = all.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut stream = stream;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let mut len = 0usize;
                    loop {
                        let mut h = String::new();
                        if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
                            break;
                        }
                        if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                            len = v.trim().parse().unwrap_or(0);
                        }
                    }
                    let mut skip = vec![0; len];
                    let _ = reader.read_exact(&mut skip);
                    let target = line.split_whitespace().nth(1).unwrap_or("/").to_string();
                    let query = target.split_once('?').map(|q| q.1).unwrap_or("");
                    let param = |name: &str| {
                        query
                            .split('&')
                            .filter_map(|kv| kv.split_once('='))
                            .find(|(k, _)| *k == name)
                            .and_then(|(_, v)| v.parse::<usize>().ok())
                    };
                    let start = param("after").unwrap_or(0);
                    let limit = param("limit").unwrap_or(1000);
                    let page: Vec<&str> = all
                        .iter()
                        .skip(start)
                        .take(limit)
                        .map(String::as_str)
                        .collect();
                    let body = format!("[{}]", page.join(","));
                    let head = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nLink: <http://{addr}/api/v1/logs?after={}&limit={limit}>; rel=\"next\"\r\nContent-Length: {}\r\n\r\n",
                        start + page.len(),
                        body.len()
                    );
                    if stream.write_all(head.as_bytes()).is_err()
                        || stream.write_all(body.as_bytes()).is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    addr
}

fn pull_bench(all: Vec<String>) {
    let n = all.len();
    let addr = fake_okta(Arc::new(all));
    let tmp = tempfile::tempdir().unwrap();
    let config = Config {
        pull: vec![PullConfig {
            name: "okta".into(),
            poller: poll::by_name("okta").unwrap(),
            settings: Settings {
                base_url: format!("http://{addr}"),
                page_size: 1000,
                ..Settings::default()
            },
            credential: Credential::Env {
                var: "BENCH".into(),
                value: Secret::new("token"),
            },
            interval: Duration::from_secs(60),
        }],
        ..Config::default()
    };
    let ledger = new_ledger(&tmp.path().join("ledger"));
    let started = Instant::now();
    let reports = run_pull(&config, ledger, true, Arc::new(AtomicBool::new(false))).unwrap();
    let elapsed = started.elapsed();
    assert_eq!(reports[0].added as usize, n);
    println!(
        "pull    {n:>8} events, pages of 1000: {:>8.0} events/s end to end ({} pages, {:.1} s), peak RSS {} MiB",
        n as f64 / elapsed.as_secs_f64(),
        reports[0].pages,
        elapsed.as_secs_f64(),
        peak_rss_kib() / 1024
    );
}

fn main() {
    let env = |k: &str, d: &str| std::env::var(k).unwrap_or_else(|_| d.to_string());
    let hook_events: u64 = env("BENCH_HOOK_EVENTS", "200000").parse().unwrap();
    let pull_events: u64 = env("BENCH_PULL_EVENTS", "1000000").parse().unwrap();
    let clients: Vec<usize> = env("BENCH_CLIENTS", "8,32")
        .split(',')
        .filter_map(|c| c.trim().parse().ok())
        .collect();
    if hook_events > 0 {
        let all = events(hook_events);
        for c in &clients {
            hook_bench(&all, *c);
        }
    }
    if pull_events > 0 {
        pull_bench(events(pull_events));
    }
}
