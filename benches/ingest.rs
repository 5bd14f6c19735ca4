//! Okta NDJSON ingest end to end: framing, parsing, normalising, de-duplication, durable
//! append with a checkpoint per batch of 1,000. Prints events/s, MB/s and peak memory at
//! growing file sizes (memory must stay flat as the file grows).
//!
//! Events come from `../shared/bench/peers/gen-events.py` (Okta System Log records, about
//! 525 bytes each). `BENCH_EVENTS` sets the largest size (default 1,000,000).
//!
//! Run: `cargo bench --bench ingest`

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
use auditledger::ledger::note::NoteSigner;
use auditledger::ledger::Ledger;

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

fn main() {
    let max: u64 = std::env::var("BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    println!(
        "Okta NDJSON ingest, end to end (parse, normalise, append, checkpoint per 1,000, fsync)"
    );
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
        "{:>10} {:>12} {:>10} {:>10} {:>14}",
        "events", "events/s", "MB/s", "seconds", "peak RSS MiB"
    );
    let mut sizes = vec![max / 4, max / 2, max];
    sizes.dedup();
    let mut rates = vec![];
    for n in sizes.into_iter().filter(|n| *n > 0) {
        let file = events_file(n);
        let tmp = tempfile::tempdir().expect("temp dir");
        let signer = NoteSigner::generate("bench.example/ingest").expect("key");
        let mut ledger = Ledger::init(&tmp.path().join("ledger"), signer).expect("init");
        let input = Input::open(&file).expect("input");
        let start = Instant::now();
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
        let rate = n as f64 / secs;
        rates.push(rate);
        println!(
            "{:>10} {:>12.0} {:>10.1} {:>10.2} {:>14.1}",
            n,
            rate,
            input.len as f64 / 1e6 / secs,
            secs,
            peak_rss_kib() as f64 / 1024.0
        );
    }
    let last = rates.last().copied().unwrap_or(0.0);
    println!(
        "target >= 30,000 events/s: {} ({:.0} events/s at the largest size)",
        if last >= 30_000.0 { "PASS" } else { "MISS" },
        last
    );
}
