//! Okta NDJSON ingest end to end (framing, parsing, normalising, de-duplication, one
//! durable commit per file), beside the SQLite peer on the same file: the target is
//! ingest >= 1.0x the peer's durable batch-of-1,000 insert at 300 k and 1 M events.
//!
//! Events come from `../shared/bench/peers/gen-events.py` (Okta System Log records, about
//! 525 bytes each). For each size the peer (`../shared/bench/peers/sqlite-chain.py`) and
//! our ingest run in turn, `BENCH_ROUNDS` times (default 3), so each ratio is taken from one
//! pair on a noisy machine; the median ratio decides. Ours is the library call the CLI
//! makes (`ingest_file`), timed from the open of the file to the acknowledged commit; the
//! peer's figure is its insert loop only (lines already in memory, no JSON parsing).
//!
//! Run: `cargo bench --bench ingest` (`BENCH_SIZES=300000,1000000` by default).

// A bench is test code: it stops with a message on a setup failure (unwrap, expect,
// panic) and indexes data it generated itself. The library's no-panic lints do not apply.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

// The CLI's allocator (src/main.rs), so the figures are the CLI's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use auditledger::ingest::{ingest_file, IngestOptions, Input};
use auditledger::ledger::Ledger;
use auditledger::tlog::note::NoteSigner;

mod common;
use common::peak_rss_kib;

fn events_file(n: u64) -> PathBuf {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/bench/peers/gen-events.py");
    assert!(
        shared.is_file(),
        "{} is missing: the bench generates its events with it",
        shared.display()
    );
    let dir = std::env::temp_dir().join("auditledger-bench");
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(format!("events-{n}.jsonl"));
    if !path.is_file() {
        let status = Command::new("python3")
            .arg(&shared)
            .arg(n.to_string())
            .arg(&path)
            .stdout(std::process::Stdio::null())
            .status()
            .expect("python3 runs");
        assert!(status.success(), "gen-events.py failed");
    }
    path
}

/// The peer's durable batch-of-1,000 insert rate on `file`, in events/s.
fn peer_rate(file: &Path) -> f64 {
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/bench/peers/sqlite-chain.py");
    let out = Command::new("python3")
        .arg(&script)
        .arg(file)
        .args(["--b1", "0"])
        .stderr(std::process::Stdio::null())
        .output()
        .expect("python3 runs the SQLite peer");
    assert!(out.status.success(), "{} failed", script.display());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("sqlite_ingest_batch1000: "))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .expect("the peer prints sqlite_ingest_batch1000")
}

/// Our ingest of `file` into a new ledger: (events/s, MB/s, seconds, peak RSS MiB).
fn our_rate(file: &Path, n: u64) -> (f64, f64, f64, f64) {
    // Resets this process's peak RSS (VmHWM), so each run reports its own.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let tmp = tempfile::tempdir().expect("temp dir");
    let signer = NoteSigner::generate("bench.example/ingest").expect("key");
    let mut ledger = Ledger::init(&tmp.path().join("ledger"), signer).expect("init");
    let start = Instant::now();
    let input = Input::open(file).expect("input");
    let summary = ingest_file(
        &mut ledger,
        &input,
        &auditledger::sources::okta::Okta,
        &IngestOptions::default(),
        &mut |_| {},
    )
    .expect("ingest");
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(summary.added, n, "every generated event is added once");
    (
        n as f64 / secs,
        input.len as f64 / 1e6 / secs,
        secs,
        peak_rss_kib() as f64 / 1024.0,
    )
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

fn main() {
    let sizes: Vec<u64> = std::env::var("BENCH_SIZES")
        .unwrap_or_else(|_| "300000,1000000".into())
        .split(',')
        .map(|v| {
            v.trim()
                .parse()
                .expect("BENCH_SIZES: numbers, comma-separated")
        })
        .collect();
    let rounds: usize = std::env::var("BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
        .max(1);
    println!("Okta NDJSON ingest, end to end, one commit per file; beside the SQLite peer");
    println!(
        "machine: {} cores, {}",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0),
        std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(
                |c| c.lines().find(|l| l.starts_with("model name")).map(|l| l
                    .split(':')
                    .nth(1)
                    .unwrap_or("")
                    .trim()
                    .to_string())
            )
            .unwrap_or_default()
    );
    println!(
        "{:>10} {:>6} {:>12} {:>10} {:>10} {:>14} {:>12} {:>7}",
        "events", "round", "events/s", "MB/s", "seconds", "peak RSS MiB", "peer /s", "ratio"
    );
    let mut verdicts = vec![];
    for n in sizes.into_iter().filter(|n| *n > 0) {
        let file = events_file(n);
        let mut ratios = vec![];
        for round in 1..=rounds {
            let peer = peer_rate(&file);
            let (rate, mb_s, secs, peak) = our_rate(&file, n);
            ratios.push(rate / peer);
            println!(
                "{n:>10} {round:>6} {rate:>12.0} {mb_s:>10.1} {secs:>10.2} {peak:>14.1} {peer:>12.0} {:>6.2}x",
                rate / peer
            );
        }
        let (lo, hi) = ratios
            .iter()
            .fold((f64::MAX, 0f64), |(lo, hi), r| (lo.min(*r), hi.max(*r)));
        let mid = median(ratios);
        verdicts.push(format!(
            "  [{}] ingest of {n} events vs SQLite >= 1.0x: median {mid:.2}x ({lo:.2}-{hi:.2}x over {rounds} pairs)",
            if mid >= 1.0 { "PASS" } else { "MISS" }
        ));
    }
    println!("targets:");
    for v in verdicts {
        println!("{v}");
    }
}
