//! Ledger benchmark: durable append, verify, proofs and size, against the SQLite peer.
//!
//! A bench binary that prints figures (not a timed test). Run from the crate root:
//!
//! ```text
//! CARGO_TARGET_DIR=/tmp/bench-target BENCH_EVENTS=1000000 cargo bench --bench ledger
//! ```
//!
//! Environment: `BENCH_EVENTS` (default 1,000,000), `BENCH_BATCH` (events per commit,
//! default 1,000), `BENCH_SINGLE` (one-event commits after the load, default 2,000),
//! `BENCH_PEER=0` skips the SQLite peer, `BENCH_REFERENCE=0` skips the plain-file reference,
//! `BENCH_PROOF_LEDGER=DIR` only times proofs on an existing ledger,
//! `BENCH_KEEP=1` keeps the ledger directory and its signing key (to profile the CLI on it),
//! `BENCH_CACHE` is where generated events are cached (default `/tmp/auditledger-bench`).
//!
//! Events come from `../shared/bench/peers/gen-events.py` (deterministic), the same file the
//! peer `sqlite-chain.py` ingests in the same run. Each line is parsed into a normalised
//! [`Event`] before any timing of the ledger, and the line itself is the raw record.

// A bench is test code: it stops with a message on a setup failure (unwrap, expect,
// panic) and indexes data it generated itself. The library's no-panic lints do not apply.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::Write as _;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use auditledger::event::{Event, EventKind, Timestamp};
use auditledger::ledger::entry::{self, Entry, Payload, FORMAT_VERSION};
use auditledger::ledger::verify::{verify, VerifyOptions};
use auditledger::ledger::{Access, Ledger, NewRecord, PreparedRecord};
use auditledger::tlog::merkle::{self, Sha256Hasher, TreeHasher};
use auditledger::tlog::note::NoteSigner;
use base64::{engine::general_purpose::STANDARD as B64, Engine};
use serde::Deserialize;

// The allocator the CLI ships with (src/main.rs), so these figures are the command's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const ORIGIN: &str = "bench.example/auditledger";
const REPRODUCE: &str =
    "cd /work/main && CARGO_TARGET_DIR=/tmp/bench-target BENCH_EVENTS=1000000 cargo bench --bench ledger";
/// The peer's figures recorded in `bench/peers/RESULTS.md` (runs 1 / 2), used only when the
/// peer cannot run here.
const RECORDED_SQLITE: [(&str, f64); 3] = [
    ("sqlite_ingest_batch1000", 160_837.0),
    ("sqlite_ingest_batch1", 5_227.0),
    ("sqlite_verify_client_scan", 568_571.0),
];

fn env_u64(name: &str, default: u64) -> Result<u64> {
    match std::env::var(name) {
        Ok(v) => v
            .replace('_', "")
            .parse()
            .with_context(|| format!("{name}={v:?} is not a whole number")),
        Err(_) => Ok(default),
    }
}

fn env_flag(name: &str, default: bool) -> bool {
    match std::env::var(name) {
        Ok(v) => !matches!(v.as_str(), "0" | "false" | "no" | ""),
        Err(_) => default,
    }
}

// ---------------------------------------------------------------- events

#[derive(Deserialize)]
struct OktaRecord<'a> {
    #[serde(borrow)]
    uuid: Cow<'a, str>,
    #[serde(borrow)]
    published: Cow<'a, str>,
    #[serde(rename = "eventType", borrow)]
    event_type: Cow<'a, str>,
    #[serde(borrow)]
    actor: OktaActor<'a>,
    #[serde(borrow, default)]
    outcome: Option<OktaOutcome<'a>>,
}

#[derive(Deserialize)]
struct OktaActor<'a> {
    #[serde(rename = "alternateId", borrow)]
    alternate_id: Cow<'a, str>,
}

#[derive(Deserialize)]
struct OktaOutcome<'a> {
    #[serde(borrow)]
    result: Cow<'a, str>,
    #[serde(borrow, default)]
    reason: Option<Cow<'a, str>>,
}

fn okta_kind(event_type: &str, failed: bool) -> EventKind {
    match event_type {
        "user.session.start" | "user.authentication.sso" | "user.authentication.auth_via_mfa"
            if failed =>
        {
            EventKind::AuthFailed
        }
        "user.session.start" => EventKind::SessionStarted,
        "user.authentication.sso" | "user.authentication.auth_via_mfa" => EventKind::AuthSucceeded,
        "user.session.end" => EventKind::SessionEnded,
        "user.account.update_password" => EventKind::AccountUpdated,
        "user.lifecycle.create" => EventKind::AccountCreated,
        "group.user_membership.add" | "application.user_membership.add" => EventKind::GroupGranted,
        "system.api_token.create" => EventKind::TokenCreated,
        _ => EventKind::Other,
    }
}

/// Maps one Okta System Log line to a normalised event; the line is the raw record.
fn okta_record(line: &[u8]) -> Result<NewRecord> {
    let rec: OktaRecord<'_> = serde_json::from_slice(line)?;
    let failed = rec.outcome.as_ref().is_some_and(|o| o.result != "SUCCESS");
    let kind = okta_kind(&rec.event_type, failed);
    let mut attrs = BTreeMap::new();
    if let Some(o) = &rec.outcome {
        attrs.insert("outcome".to_string(), o.result.to_lowercase());
        if let Some(r) = &o.reason {
            attrs.insert("reason".to_string(), r.to_string());
        }
    }
    if kind == EventKind::Other {
        attrs.insert("type".to_string(), rec.event_type.into_owned());
    }
    let occurred_at = Timestamp::parse_rfc3339(&rec.published)?;
    let event = Event {
        source: "okta".to_string(),
        source_id: Some(rec.uuid.into_owned()),
        kind,
        subject: rec.actor.alternate_id.to_lowercase(),
        account: Some(rec.actor.alternate_id.into_owned()),
        actor: None,
        occurred_at,
        original_time: rec.published.into_owned(),
        attrs,
    };
    event.validate()?;
    Ok(NewRecord {
        event,
        raw: line.to_vec(),
    })
}

/// The generated events file for `n` events, made once and cached.
fn events_file(shared: &Path, n: u64) -> Result<PathBuf> {
    let cache = PathBuf::from(
        std::env::var("BENCH_CACHE").unwrap_or_else(|_| "/tmp/auditledger-bench".into()),
    );
    fs::create_dir_all(&cache).with_context(|| format!("creating {}", cache.display()))?;
    let path = cache.join(format!("events-{n}.jsonl"));
    if fs::metadata(&path).map(|m| m.len() > 0).unwrap_or(false) {
        eprintln!("[bench] using cached {}", path.display());
        return Ok(path);
    }
    let script = shared.join("bench/peers/gen-events.py");
    let partial = cache.join(format!("events-{n}.jsonl.partial"));
    eprintln!("[bench] generating {n} events with {}", script.display());
    let status = Command::new("python3")
        .arg(&script)
        .arg(n.to_string())
        .arg(&partial)
        .stdout(Stdio::inherit())
        .status()
        .with_context(|| format!("running python3 {}", script.display()))?;
    if !status.success() {
        bail!("{} failed: {status}", script.display());
    }
    fs::rename(&partial, &path)?;
    Ok(path)
}

// ---------------------------------------------------------------- helpers

fn group(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn rate(count: u64, d: Duration) -> f64 {
    count as f64 / d.as_secs_f64()
}

fn us(d: Duration) -> String {
    format!("{:.1} us", d.as_secs_f64() * 1e6)
}

/// (median, p99, max) of a set of latencies.
fn quantiles(mut v: Vec<Duration>) -> (Duration, Duration, Duration) {
    if v.is_empty() {
        return Default::default();
    }
    v.sort();
    let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
    (at(0.5), at(0.99), *v.last().expect("non-empty"))
}

/// CPU seconds used so far: by the whole process (user, system), by the calling thread,
/// and by the whole machine, from /proc (clock ticks of 10 ms). Process CPU below wall
/// time means waiting on the disk; machine CPU above process CPU means other load.
fn cpu_times() -> [f64; 4] {
    let read = |path: &str| -> [f64; 2] {
        let stat = fs::read_to_string(path).unwrap_or_default();
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map(|(_, rest)| rest.split_whitespace().collect())
            .unwrap_or_default();
        // After the command name: state is field 3, utime 14 and stime 15 (1-based).
        let tick = |i: usize| {
            fields
                .get(i)
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        [tick(11) / 100.0, tick(12) / 100.0]
    };
    let machine = fs::read_to_string("/proc/stat")
        .unwrap_or_default()
        .lines()
        .next()
        .map(|l| {
            // cpu user nice system idle iowait irq softirq steal: busy = all but idle, iowait
            l.split_whitespace()
                .skip(1)
                .take(8)
                .enumerate()
                .filter(|(i, _)| *i != 3 && *i != 4)
                .filter_map(|(_, v)| v.parse::<f64>().ok())
                .sum::<f64>()
                / 100.0
        })
        .unwrap_or(0.0);
    let [user, sys] = read("/proc/self/stat");
    let [thread_user, thread_sys] = read("/proc/thread-self/stat");
    [user, sys, thread_user + thread_sys, machine]
}

/// Wall time, then CPU time of the process, of this thread and of other processes, over
/// a phase.
#[derive(Clone, Copy, Default)]
struct Phase {
    wall: f64,
    process_user: f64,
    process_sys: f64,
    thread_cpu: f64,
    other_cpu: f64,
}

struct PhaseTimer(Instant, [f64; 4]);
impl PhaseTimer {
    fn start() -> Self {
        PhaseTimer(Instant::now(), cpu_times())
    }
    fn stop(&self) -> Phase {
        let [u, sy, t, m] = cpu_times();
        let (process_user, process_sys) = (u - self.1[0], sy - self.1[1]);
        Phase {
            wall: self.0.elapsed().as_secs_f64(),
            process_user,
            process_sys,
            thread_cpu: t - self.1[2],
            other_cpu: (m - self.1[3] - process_user - process_sys).max(0.0),
        }
    }
}

/// splitmix64: a fixed pseudo-random sequence, so every run asks for the same proofs.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// (apparent bytes, allocated bytes as `du` counts them) of everything under `dir`.
fn disk_usage(dir: &Path) -> Result<(u64, u64)> {
    let mut apparent = 0;
    let mut allocated = 0;
    for item in fs::read_dir(dir)? {
        let item = item?;
        let meta = item.metadata()?;
        if meta.is_dir() {
            let (a, b) = disk_usage(&item.path())?;
            apparent += a;
            allocated += b;
        } else {
            apparent += meta.len();
            allocated += meta.blocks() * 512;
        }
    }
    Ok((apparent, allocated))
}

/// The least a one-event commit can cost under DESIGN's commit sequence: a small overwrite
/// of one file and its fdatasync, then of a second file and its fdatasync, in that order
/// (the log, then `checkpoints.log`, the commit record). No hashing, no signing: only the
/// two ordered flushes a commit must wait for, so the rate it gives is a ceiling. Returns
/// the rate (rounds over the whole loop's time, as the commit rate is taken) and the
/// median round.
fn ordered_syncs_probe(dir: &Path) -> Result<(f64, Duration)> {
    let files = [dir.join("sync-probe-log"), dir.join("sync-probe-cp")];
    let handles = [File::create(&files[0])?, File::create(&files[1])?];
    let zeros = vec![0u8; 1 << 20];
    for h in &handles {
        h.write_all_at(&zeros, 0)?;
        h.sync_all()?;
    }
    let record = [0x5au8; 600];
    let mut took = Vec::new();
    let rounds = 1_000u64;
    let all = Instant::now();
    for i in 0..rounds {
        let at = (i * 600) % (1 << 19);
        let t = Instant::now();
        for h in &handles {
            h.write_all_at(&record, at)?;
            h.sync_data()?;
        }
        took.push(t.elapsed());
    }
    let per_sec = rate(rounds, all.elapsed());
    for f in &files {
        fs::remove_file(f)?;
    }
    Ok((per_sec, quantiles(took).0))
}

/// Median latency of an 8 KiB overwrite followed by fdatasync, then by fsync.
fn fsync_probe(dir: &Path) -> Result<(Duration, Duration)> {
    let path = dir.join("fsync-probe");
    let file = File::create(&path)?;
    let block = vec![0x5au8; 8192];
    let mut data = Vec::new();
    let mut full = Vec::new();
    for i in 0..400 {
        let t = Instant::now();
        file.write_all_at(&block, 0)?;
        if i % 2 == 0 {
            file.sync_data()?;
            data.push(t.elapsed());
        } else {
            file.sync_all()?;
            full.push(t.elapsed());
        }
    }
    fs::remove_file(&path)?;
    Ok((quantiles(data).0, quantiles(full).0))
}

fn hardware() -> Vec<String> {
    let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|l| l.trim_start_matches([' ', '\t', ':']).to_string())
        .unwrap_or_else(|| "unknown".into());
    let nproc = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem = fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("MemTotal"))
        .map(|l| l.split_whitespace().nth(1).unwrap_or("?").to_string())
        .unwrap_or_else(|| "?".into());
    let kernel = fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let rustc = Command::new("rustc")
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "rustc not found".into());
    let dir = env!("CARGO_MANIFEST_DIR");
    let git = |args: &[&str]| {
        Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default()
    };
    let commit = git(&["rev-parse", "--short", "HEAD"]);
    let dirty = git(&[
        "status",
        "--porcelain",
        "--",
        "src",
        "Cargo.toml",
        "Cargo.lock",
    ]);
    let load = fs::read_to_string("/proc/loadavg").unwrap_or_default();
    vec![
        format!(
            "library: git {} {}",
            if commit.is_empty() { "?" } else { &commit },
            if dirty.is_empty() {
                "(src/ clean)"
            } else {
                "(src/ has uncommitted changes)"
            }
        ),
        format!(
            "load average at the end: {}",
            load.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        ),
        format!("cpu: {model} x {nproc} (nproc)"),
        format!("memory: {} kB; kernel {}", mem, kernel.trim()),
        format!("toolchain: {rustc}; release profile"),
    ]
}

// ---------------------------------------------------------------- peer

#[derive(Default)]
struct Peer {
    figures: BTreeMap<String, f64>,
    note: String,
}

impl Peer {
    fn get(&self, name: &str) -> Option<f64> {
        self.figures.get(name).copied()
    }
}

fn run_peer(shared: &Path, events: &Path) -> Peer {
    let script = shared.join("bench/peers/sqlite-chain.py");
    eprintln!(
        "[bench] running the peer: python3 {} {}",
        script.display(),
        events.display()
    );
    let t = Instant::now();
    let out = Command::new("python3")
        .arg(&script)
        .arg(events)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output();
    let out = match out {
        Ok(o) => o,
        Err(e) => {
            return Peer {
                note: format!("could not start python3 {}: {e}", script.display()),
                ..Default::default()
            }
        }
    };
    if !out.status.success() {
        return Peer {
            note: format!("{} exited with {}", script.display(), out.status),
            ..Default::default()
        };
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut figures = BTreeMap::new();
    for line in stdout
        .lines()
        .skip_while(|l| !l.starts_with("----"))
        .skip(1)
    {
        if let Some((name, rest)) = line.split_once(':') {
            let value = rest.split_whitespace().next().unwrap_or("");
            if let Ok(v) = value.parse::<f64>() {
                figures.insert(name.trim().to_string(), v);
            }
        }
    }
    let version = stdout
        .lines()
        .find_map(|l| l.strip_prefix("sqlite_version:"))
        .unwrap_or("?")
        .trim()
        .to_string();
    Peer {
        note: format!(
            "SQLite {version} (WAL, synchronous=FULL), same file, same run, {:.0} s",
            t.elapsed().as_secs_f64()
        ),
        figures,
    }
}

// ---------------------------------------------------------------- measurements

#[derive(Default)]
struct Figures {
    parse_rate: f64,
    parse_mb_s: f64,
    read_time: Duration,
    batch: u64,
    batched_rate: f64,
    batched_elapsed: Duration,
    batch_commit: (Duration, Duration, Duration),
    /// The same batches prepared on a second thread while this one commits (as `ingest`
    /// and `append` run).
    pipelined_rate: f64,
    single: u64,
    single_rate: f64,
    single_commit: (Duration, Duration, Duration),
    open_time: Duration,
    verify_rate: f64,
    verify_time: Duration,
    verified_size: u64,
    checkpoints_checked: u64,
    incl: (Duration, Duration, Duration),
    incl_first: Duration,
    incl_verify: Duration,
    incl_path_len: usize,
    cons: (Duration, Duration, Duration),
    cons_path_len: usize,
    ledger_disk: (u64, u64),
    raw_bytes: u64,
    file_bytes: u64,
    stored: u64,
    reference_rate: Option<f64>,
    reference_disk: Option<(u64, u64)>,
    fsync: (Duration, Duration),
    ordered_syncs: (f64, Duration),
    breakdown: Vec<(&'static str, f64)>,
    breakdown_sample: usize,
    phases: Vec<(String, Phase)>,
}

/// Per-event CPU cost of the pieces an append and a verify compute, on a sample.
fn breakdown(sample: &[NewRecord]) -> Vec<(&'static str, f64)> {
    let n = sample.len() as f64;
    let per = |d: Duration| d.as_secs_f64() * 1e9 / n;
    let mut out = Vec::new();
    let t = Instant::now();
    let raws: Vec<_> = sample.iter().map(|r| entry::raw_hash(&r.raw)).collect();
    out.push(("BLAKE3 raw hash, one at a time", per(t.elapsed())));
    let t = Instant::now();
    for frame in sample.chunks(256) {
        let refs: Vec<&[u8]> = frame.iter().map(|r| r.raw.as_slice()).collect();
        std::hint::black_box(entry::raw_hashes(&refs));
    }
    out.push(("  256 at once (append, ingest, verify)", per(t.elapsed())));
    let t = Instant::now();
    let dks: Vec<_> = sample
        .iter()
        .zip(&raws)
        .map(|(r, h)| entry::dedup_key(&r.event, h))
        .collect();
    out.push(("BLAKE3 dedup key (append, verify)", per(t.elapsed())));
    std::hint::black_box(&dks);
    let entries: Vec<Entry> = sample
        .iter()
        .zip(&raws)
        .enumerate()
        .map(|(i, (r, h))| Entry {
            version: FORMAT_VERSION,
            seq: i as u64,
            prev: *h,
            raw_hash: *h,
            payload: Payload::Event(r.event.clone()),
        })
        .collect();
    let t = Instant::now();
    let canon: Vec<Vec<u8>> = entries.iter().map(Entry::encode).collect();
    out.push(("postcard encode entry (append)", per(t.elapsed())));
    let t = Instant::now();
    let chains: Vec<_> = canon.iter().map(|c| entry::chain_hash(c)).collect();
    out.push((
        "BLAKE3 chain hash (append: one at a time)",
        per(t.elapsed()),
    ));
    std::hint::black_box(&chains);
    let t = Instant::now();
    for frame in canon.chunks(256) {
        let refs: Vec<&[u8]> = frame.iter().map(|c| c.as_slice()).collect();
        std::hint::black_box(entry::chain_hashes(&refs));
    }
    out.push(("  256 at once (verify, every read)", per(t.elapsed())));
    let t = Instant::now();
    let leaves: Vec<_> = canon.iter().map(|c| Sha256Hasher.leaf(c)).collect();
    out.push(("SHA-256 leaf hash (append, verify)", per(t.elapsed())));
    let t = Instant::now();
    let mut acc = leaves[0];
    for l in &leaves {
        acc = Sha256Hasher.children(&acc, l);
    }
    std::hint::black_box(acc);
    out.push(("SHA-256 interior node (~1 per leaf)", per(t.elapsed())));
    let t = Instant::now();
    let decoded: Vec<_> = canon
        .iter()
        .map(|c| Entry::decode(c).expect("decodes"))
        .collect();
    out.push(("postcard decode entry (every read)", per(t.elapsed())));
    std::hint::black_box(&decoded);
    let t = Instant::now();
    drop(decoded);
    out.push(("drop decoded entry (every read)", per(t.elapsed())));
    let avg_canon = canon.iter().map(Vec::len).sum::<usize>() as f64 / n;
    out.push(("(canonical entry bytes, average)", avg_canon));
    out
}

/// `BENCH_PROOF_LEDGER=DIR`: inclusion and consistency proofs on an existing ledger
/// (e.g. one of 10 M entries built with `auditledger ingest`), warm page cache.
fn proofs_on(dir: &Path) -> Result<()> {
    let t = Instant::now();
    let ledger = Ledger::open(dir, Access::Read)?;
    let open = t.elapsed();
    let size = ledger.size();
    let mut rng = Rng(20_260_101);
    let seqs: Vec<u64> = (0..1000).map(|_| rng.next() % size).collect();
    for &seq in &seqs {
        ledger.prove_inclusion(seq, size)?; // warm the page cache
    }
    let mut lat = Vec::with_capacity(seqs.len());
    for &seq in &seqs {
        let t = Instant::now();
        let p = ledger.prove_inclusion(seq, size)?;
        lat.push(t.elapsed());
        std::hint::black_box(p);
    }
    let incl = quantiles(lat);
    let mut lat = Vec::with_capacity(100);
    for _ in 0..100 {
        let old = 1 + rng.next() % size;
        let t = Instant::now();
        std::hint::black_box(ledger.prove_consistency(old, size)?);
        lat.push(t.elapsed());
    }
    let cons = quantiles(lat);
    println!(
        "ledger {} ({} entries), opened in {:.1} ms: inclusion proof (1,000 random seqs, warm) median {}, p99 {}, max {}; consistency (100) median {}, p99 {}",
        dir.display(),
        group(size),
        open.as_secs_f64() * 1e3,
        us(incl.0),
        us(incl.1),
        us(incl.2),
        us(cons.0),
        us(cons.1)
    );
    Ok(())
}

fn main() -> Result<()> {
    if let Ok(dir) = std::env::var("BENCH_PROOF_LEDGER") {
        return proofs_on(Path::new(&dir));
    }
    let n = env_u64("BENCH_EVENTS", 1_000_000)?;
    let batch = env_u64("BENCH_BATCH", 1_000)?.max(1);
    let single = env_u64("BENCH_SINGLE", 2_000)?;
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared");
    if !shared.join("bench/peers/gen-events.py").is_file() {
        bail!(
            "{} is missing (or has no bench/peers/gen-events.py): this bench needs the shared \
             directory beside the crate, as CI has it",
            shared.display()
        );
    }
    let shared = shared.canonicalize()?;
    let mut f = Figures {
        batch,
        single,
        ..Default::default()
    };

    // ---- events: read, then parse into memory (timed apart from the ledger)
    let events_path = events_file(&shared, n)?;
    let t = Instant::now();
    let bytes =
        fs::read(&events_path).with_context(|| format!("reading {}", events_path.display()))?;
    f.read_time = t.elapsed();
    f.file_bytes = bytes.len() as u64;
    let t = Instant::now();
    let mut records = Vec::with_capacity(n as usize);
    for (i, line) in bytes.split(|b| *b == b'\n').enumerate() {
        if line.is_empty() {
            continue;
        }
        let r =
            okta_record(line).with_context(|| format!("{}:{}", events_path.display(), i + 1))?;
        records.push(r);
    }
    let parse_time = t.elapsed();
    drop(bytes);
    if records.len() as u64 != n {
        bail!(
            "{} holds {} events, expected {n}",
            events_path.display(),
            records.len()
        );
    }
    f.parse_rate = rate(n, parse_time);
    f.parse_mb_s = f.file_bytes as f64 / 1e6 / parse_time.as_secs_f64();
    f.raw_bytes = records.iter().map(|r| r.raw.len() as u64).sum();
    eprintln!(
        "[bench] parsed {n} events in {:.2} s",
        parse_time.as_secs_f64()
    );

    f.breakdown_sample = records.len().min(50_000);
    f.breakdown = breakdown(&records[..f.breakdown_sample]);

    let tmp = tempfile::Builder::new()
        .prefix("auditledger-bench.")
        .tempdir_in("/tmp")?;
    f.fsync = fsync_probe(tmp.path())?;

    // One-event commits reuse the first events with a new source id, so that the dedup
    // index does not skip them (the peer re-appends its first lines the same way).
    let singles: Vec<NewRecord> = records
        .iter()
        .cycle()
        .take(single as usize)
        .enumerate()
        .map(|(i, r)| {
            let mut r = r.clone();
            let id = r.event.source_id.take().unwrap_or_default();
            r.event.source_id = Some(format!("{id}#single{i}"));
            r
        })
        .collect();
    let mut batches: Vec<Vec<NewRecord>> = Vec::with_capacity(n.div_ceil(batch) as usize);
    let mut it = records.into_iter();
    loop {
        let b: Vec<NewRecord> = it.by_ref().take(batch as usize).collect();
        if b.is_empty() {
            break;
        }
        batches.push(b);
    }
    drop(it);
    let pipelined_batches = batches.clone();

    // ---- durable append, batches of `batch`, prepared on a second thread while this one
    // stages and commits the batch before: the way `ingest` and `append` run. Its own
    // ledger, removed after.
    let pipelined_dir = tmp.path().join("pipelined");
    let mut ledger = Ledger::init(&pipelined_dir, NoteSigner::generate(ORIGIN)?)?;
    ledger.set_workers(ledger.workers().saturating_sub(1));
    let phase = PhaseTimer::start();
    let t0 = Instant::now();
    let added = std::thread::scope(|scope| -> Result<u64> {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<PreparedRecord>>(2);
        scope.spawn(move || {
            for b in pipelined_batches {
                let prepared = NewRecord::prepare_all(b);
                if tx.send(prepared).is_err() {
                    break;
                }
            }
        });
        let mut added = 0;
        for b in rx {
            added += ledger.append_prepared(b)?.added;
        }
        Ok(added)
    })?;
    f.pipelined_rate = rate(n, t0.elapsed());
    f.phases
        .push(("durable append, pipelined".into(), phase.stop()));
    if added != n {
        bail!("pipelined append added {added} of {n} events");
    }
    drop(ledger);
    fs::remove_dir_all(&pipelined_dir)?;

    // ---- durable append, batches of `batch`, one `Ledger::append` call each
    let ledger_dir = tmp.path().join("ledger");
    let signer = NoteSigner::generate(ORIGIN)?;
    let secret = signer.to_secret_string();
    let mut ledger = Ledger::init(&ledger_dir, signer)?;
    let mut lat = Vec::with_capacity(batches.len());
    let mut added = 0;
    let total = batches.len();
    let phase = PhaseTimer::start();
    let t0 = Instant::now();
    for (i, b) in batches.into_iter().enumerate() {
        let t = Instant::now();
        let s = ledger.append(b)?;
        lat.push(t.elapsed());
        added += s.added;
        if (i + 1) % 100 == 0 || i + 1 == total {
            eprintln!(
                "[bench]   {} events, {:.0}/s",
                added,
                rate(added, t0.elapsed())
            );
        }
    }
    f.batched_elapsed = t0.elapsed();
    f.phases
        .push(("durable append, batched".into(), phase.stop()));
    if added != n {
        bail!("batched append added {added} of {n} events");
    }
    f.batched_rate = rate(n, f.batched_elapsed);
    f.batch_commit = quantiles(lat);

    // ---- durable append, one event per commit, on top of the big ledger; the floor of
    // such a commit measured just before it, on the disk in the same state
    f.ordered_syncs = ordered_syncs_probe(tmp.path())?;
    let mut lat = Vec::with_capacity(single as usize);
    let phase = PhaseTimer::start();
    let t0 = Instant::now();
    for r in singles {
        let t = Instant::now();
        let s = ledger.append(vec![r])?;
        lat.push(t.elapsed());
        if s.added != 1 {
            bail!("a one-event commit added {} events", s.added);
        }
    }
    let el = t0.elapsed();
    f.phases
        .push(("durable append, 1/commit".into(), phase.stop()));
    f.single_rate = if single > 0 { rate(single, el) } else { 0.0 };
    f.single_commit = quantiles(lat);
    f.stored = ledger.size();
    drop(ledger);
    f.ledger_disk = disk_usage(&ledger_dir)?;
    eprintln!(
        "[bench] appended: {:.0}/s batched, {:.0}/s one per commit",
        f.batched_rate, f.single_rate
    );

    // ---- full verify, on a freshly opened ledger
    let t = Instant::now();
    let ledger = Ledger::open(&ledger_dir, Access::Read)?;
    f.open_time = t.elapsed();
    let phase = PhaseTimer::start();
    let t = Instant::now();
    let verified =
        verify(&ledger, &VerifyOptions::default()).map_err(|e| anyhow!("verify failed: {e}"))?;
    f.verify_time = t.elapsed();
    f.phases.push(("verify".into(), phase.stop()));
    f.verified_size = verified.report().size;
    f.checkpoints_checked = verified.report().checkpoints_checked;
    if f.verified_size != f.stored {
        bail!(
            "verify saw {} entries, the ledger holds {}",
            f.verified_size,
            f.stored
        );
    }
    f.verify_rate = rate(f.verified_size, f.verify_time);
    drop(ledger);
    eprintln!("[bench] verify: {:.0} entries/s", f.verify_rate);

    // ---- proofs at the full size, through a freshly reopened ledger
    let ledger = Ledger::open(&ledger_dir, Access::Read)?;
    let size = ledger.size();
    let keys = ledger.verifiers();
    let mut rng = Rng(20_260_101);
    let mut lat = Vec::with_capacity(1000);
    let mut proofs = Vec::with_capacity(1000);
    for _ in 0..1000 {
        let seq = rng.next() % size;
        let t = Instant::now();
        let p = ledger.prove_inclusion(seq, size)?;
        lat.push(t.elapsed());
        proofs.push(p);
    }
    f.incl_first = lat[0];
    f.incl = quantiles(lat);
    f.incl_path_len = proofs[0].path.len();
    let mut lat = Vec::with_capacity(proofs.len());
    for p in &proofs {
        let t = Instant::now();
        p.verify(None, &keys)
            .map_err(|e| anyhow!("inclusion proof of {} does not verify: {e}", p.leaf_index))?;
        lat.push(t.elapsed());
    }
    f.incl_verify = quantiles(lat).0;
    let root = ledger.head().root;
    let mut lat = Vec::with_capacity(100);
    for _ in 0..100 {
        let old = 1 + rng.next() % size;
        let t = Instant::now();
        let p = ledger.prove_consistency(old, size)?;
        lat.push(t.elapsed());
        let path: Vec<Vec<u8>> = p
            .path
            .iter()
            .map(|h| B64.decode(h))
            .collect::<Result<_, _>>()?;
        merkle::verify_consistency(
            &Sha256Hasher,
            old,
            size,
            &path,
            &ledger.root_at(old)?,
            &root,
        )
        .map_err(|e| anyhow!("consistency proof {old} -> {size} does not verify: {e}"))?;
        f.cons_path_len = f.cons_path_len.max(path.len());
    }
    f.cons = quantiles(lat);
    drop(ledger);

    // ---- reference: the same raw bytes appended to one plain file, one fdatasync per
    // batch: what the disk allows, with no hashing, framing or signing.
    if env_flag("BENCH_REFERENCE", true) {
        let bytes = fs::read(&events_path)?;
        let lines: Vec<&[u8]> = bytes
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .collect();
        let path = tmp.path().join("plain-reference");
        let file = File::create(&path)?;
        let phase = PhaseTimer::start();
        let t = Instant::now();
        let mut at = 0u64;
        for chunk in lines.chunks(batch as usize) {
            let mut buf = Vec::new();
            for raw in chunk {
                buf.extend_from_slice(raw);
            }
            file.write_all_at(&buf, at)?;
            at += buf.len() as u64;
            file.sync_data()?;
        }
        let el = t.elapsed();
        f.phases.push(("ref: plain file".into(), phase.stop()));
        f.reference_rate = Some(rate(n, el));
        drop(file);
        f.reference_disk = Some((at, at));
        fs::remove_file(&path)?;
        eprintln!("[bench] plain-file reference: {:.0} events/s", rate(n, el));
    }

    if env_flag("BENCH_KEEP", false) {
        let key_path = ledger_dir.join("signing.key");
        fs::write(&key_path, secret)?;
        fs::set_permissions(
            &key_path,
            std::os::unix::fs::PermissionsExt::from_mode(0o600),
        )?;
        let kept = tmp.keep();
        eprintln!("[bench] kept {}", kept.join("ledger").display());
    } else {
        drop(tmp);
    }

    // ---- the peer, same file, same run
    let peer = if env_flag("BENCH_PEER", true) {
        let phase = PhaseTimer::start();
        let peer = run_peer(&shared, &events_path);
        f.phases
            .push(("peer (its CPU is 'other')".into(), phase.stop()));
        peer
    } else {
        Peer {
            note: "skipped (BENCH_PEER=0)".into(),
            ..Default::default()
        }
    };

    report(&f, n, &peer);
    Ok(())
}

// ---------------------------------------------------------------- report

fn report(f: &Figures, n: u64, peer: &Peer) {
    let mut out = std::io::stdout().lock();
    let mut p = |s: String| {
        let _ = writeln!(out, "{s}");
    };
    let ran = !peer.figures.is_empty();
    let peer_fig = |name: &str| -> Option<f64> {
        if ran {
            peer.get(name)
        } else {
            RECORDED_SQLITE
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| *v)
        }
    };
    let peer_label = if ran {
        "SQLite (this run)"
    } else {
        "SQLite (RESULTS.md)"
    };
    p(String::new());
    p(format!(
        "==== auditledger ledger bench: {} events ====",
        group(n)
    ));
    for h in hardware() {
        p(format!("  {h}"));
    }
    p(format!(
        "  disk probe (/tmp, 8 KiB overwrite): fdatasync median {}, fsync median {}",
        us(f.fsync.0),
        us(f.fsync.1)
    ));
    p(format!("  reproduce: {REPRODUCE}"));
    p(format!(
        "  peer: {}",
        if peer.note.is_empty() {
            "-"
        } else {
            &peer.note
        }
    ));
    p(String::new());
    p(format!(
        "{:<44} {:>16} {:>20} {:>8}",
        "measure", "auditledger", peer_label, "ratio"
    ));
    p("-".repeat(91));
    let row = |p: &mut dyn FnMut(String), name: &str, ours: f64, unit: &str, peer: Option<f64>| {
        let (pv, ratio) = match peer {
            Some(v) => (
                format!("{} {unit}", group(v as u64)),
                format!("{:.2}x", ours / v),
            ),
            None => ("n/a".to_string(), "-".to_string()),
        };
        p(format!(
            "{:<44} {:>16} {:>20} {:>8}",
            name,
            format!("{} {unit}", group(ours as u64)),
            pv,
            ratio
        ));
    };
    row(
        &mut p,
        "parse Okta JSON -> Event (not in append)",
        f.parse_rate,
        "/s",
        None,
    );
    row(
        &mut p,
        &format!("durable append, {}/commit", group(f.batch)),
        f.batched_rate,
        "/s",
        peer_fig("sqlite_ingest_batch1000"),
    );
    row(
        &mut p,
        "  the same, prepared on a 2nd thread",
        f.pipelined_rate,
        "/s",
        peer_fig("sqlite_ingest_batch1000"),
    );
    row(
        &mut p,
        &format!("durable append, 1/commit ({} commits)", group(f.single)),
        f.single_rate,
        "/s",
        peer_fig("sqlite_ingest_batch1"),
    );
    row(
        &mut p,
        "  ceiling: 2 ordered fdatasyncs alone",
        f.ordered_syncs.0,
        "/s",
        peer_fig("sqlite_ingest_batch1"),
    );
    row(
        &mut p,
        &format!("full verify ({} entries)", group(f.verified_size)),
        f.verify_rate,
        "/s",
        peer_fig("sqlite_verify_client_scan"),
    );
    if let Some(r) = f.reference_rate {
        row(
            &mut p,
            &format!("ref: plain file, {}/fdatasync, no hashing", group(f.batch)),
            r,
            "/s",
            None,
        );
    }
    p("-".repeat(91));
    p(format!(
        "parse: {:.0} MB/s ({:.2} s); file read {:.2} s",
        f.parse_mb_s,
        f.file_bytes as f64 / 1e6 / f.parse_mb_s,
        f.read_time.as_secs_f64()
    ));
    p(format!(
        "batched append: {:.1} s total; commit latency median {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        f.batched_elapsed.as_secs_f64(),
        f.batch_commit.0.as_secs_f64() * 1e3,
        f.batch_commit.1.as_secs_f64() * 1e3,
        f.batch_commit.2.as_secs_f64() * 1e3
    ));
    p(format!(
        "one-event commit latency: median {}, p99 {}, max {}; two ordered fdatasyncs alone \
         (a write and sync of one file, then of another: the least DESIGN's commit waits \
         for) median {}",
        us(f.single_commit.0),
        us(f.single_commit.1),
        us(f.single_commit.2),
        us(f.ordered_syncs.1)
    ));
    p(format!(
        "verify: {:.2} s for {} entries and {} checkpoints; ledger open {:.1} ms",
        f.verify_time.as_secs_f64(),
        group(f.verified_size),
        group(f.checkpoints_checked),
        f.open_time.as_secs_f64() * 1e3
    ));
    p(format!(
        "inclusion proof at size {} (1,000 random seqs, cold reopen): median {}, p99 {}, max {}, first {}; path {} hashes; client verify median {}",
        group(f.stored),
        us(f.incl.0),
        us(f.incl.1),
        us(f.incl.2),
        us(f.incl_first),
        f.incl_path_len,
        us(f.incl_verify)
    ));
    p(format!(
        "consistency proof to size {} (100 random old sizes): median {}, p99 {}, max {}; path <= {} hashes",
        group(f.stored),
        us(f.cons.0),
        us(f.cons.1),
        us(f.cons.2),
        f.cons_path_len
    ));
    let raw_per = f.raw_bytes as f64 / n as f64;
    let file_per = f.file_bytes as f64 / n as f64;
    let stored = f.stored.max(1) as f64;
    p(format!(
        "size: raw {:.1} B/event (line without newline; {:.1} with), ledger dir {:.1} B/event on disk (du), {:.1} apparent = {:.2}x raw (du){}",
        raw_per,
        file_per,
        f.ledger_disk.1 as f64 / stored,
        f.ledger_disk.0 as f64 / stored,
        f.ledger_disk.1 as f64 / stored / file_per,
        match peer.get("sqlite_size_ratio_vs_raw") {
            Some(r) => format!("; SQLite {r:.2}x"),
            None => String::new(),
        }
    ));
    if let Some((a, d)) = f.reference_disk {
        p(format!(
            "size of the plain-file reference: {:.1} B/event (du), {:.1} apparent",
            d as f64 / n as f64,
            a as f64 / n as f64
        ));
    }
    p("wall vs CPU time (process < wall: waiting on the disk; \
       other processes > 0: the run was disturbed):"
        .to_string());
    for (name, ph) in &f.phases {
        p(format!(
            "  {name:<26} wall {:>6.2} s; CPU: process {:>6.2} s user + {:>5.2} s sys, \
             main thread {:>6.2} s, other processes {:>5.2} s",
            ph.wall, ph.process_user, ph.process_sys, ph.thread_cpu, ph.other_cpu
        ));
    }
    p(format!(
        "CPU cost per event of the pieces ({}-event sample, one core):",
        group(f.breakdown_sample as u64)
    ));
    for (name, v) in &f.breakdown {
        if name.starts_with('(') {
            p(format!("  {name:<44} {v:>8.0} B"));
        } else {
            p(format!("  {name:<44} {v:>8.0} ns"));
        }
    }

    p(String::new());
    p("targets:".to_string());
    let verdict = |ok: bool| if ok { "PASS" } else { "MISS" };
    let src = if ran {
        ""
    } else {
        " (peer did not run: vs RESULTS.md)"
    };
    let vs =
        |p: &mut dyn FnMut(String), what: &str, ours: f64, peer: Option<f64>, at_least: f64| {
            match peer {
                Some(v) => p(format!(
                    "  [{}] {what} vs SQLite >= {at_least:.1}x: {:.2}x{src}",
                    verdict(ours >= at_least * v),
                    ours / v
                )),
                None => p(format!("  [????] {what} vs SQLite: no peer figure")),
            }
        };
    vs(
        &mut p,
        &format!("durable append, {}/commit", group(f.batch)),
        f.batched_rate,
        peer_fig("sqlite_ingest_batch1000"),
        1.5,
    );
    vs(
        &mut p,
        &format!(
            "durable append, {}/commit, prepared on a 2nd thread",
            group(f.batch)
        ),
        f.pipelined_rate,
        peer_fig("sqlite_ingest_batch1000"),
        1.5,
    );
    vs(
        &mut p,
        "durable append, 1/commit",
        f.single_rate,
        peer_fig("sqlite_ingest_batch1"),
        1.0,
    );
    vs(
        &mut p,
        "verify",
        f.verify_rate,
        peer_fig("sqlite_verify_client_scan"),
        1.0,
    );
    p(format!(
        "  [{}] verify >= 1,000,000 entries/s: {} /s",
        verdict(f.verify_rate >= 1e6),
        group(f.verify_rate as u64)
    ));
    let ratio_du =
        f.ledger_disk.1 as f64 / f.stored.max(1) as f64 / (f.file_bytes as f64 / n as f64);
    p(format!(
        "  [{}] bytes on disk per event <= 1.0x raw: {ratio_du:.2}x",
        verdict(ratio_du <= 1.0)
    ));
    p(format!(
        "  [{}] inclusion proof median < 50 us (warm; p99 {}): {}",
        verdict(f.incl.0 < Duration::from_micros(50)),
        us(f.incl.1),
        us(f.incl.0)
    ));
    p(format!(
        "  [{}] consistency proof < 1 ms (median; p99 {}): {}",
        verdict(f.cons.0 < Duration::from_millis(1)),
        us(f.cons.1),
        us(f.cons.0)
    ));
}
