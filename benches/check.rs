//! `check` over a generated ledger: 10,000 people (half contractors), each with a roster
//! row, about 90 sign-ins and failures, reminders, a deactivation, session and token
//! revocations; one contractor in twenty has a CI key used after expiry. About 1,000,000
//! events in all. Prints the time and peak memory of the check alone, measured
//! in a child process so building the ledger does not count. Targets: under 10 s, 1 GiB.
//!
//! `BENCH_PEOPLE` (default 10,000) scales it; `BENCH_EVENTS_PER_PERSON` (default 100, at
//! least 10) sets how many events each has. The second child generates the SOC 2 report in
//! every format (target: under 15 s); `BENCH_REPORT=0` skips it.
//!
//! Run: `cargo bench --bench check`. The scale target (`check` over 10 M events with a
//! 1,000,000-row roster in at most 2 GiB):
//! `BENCH_PEOPLE=1000000 BENCH_EVENTS_PER_PERSON=10 BENCH_REPORT=0 cargo bench --bench check`

// A bench is test code: it stops with a message on a setup failure (unwrap, expect,
// panic) and indexes data it generated itself. The library's no-panic lints do not apply.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use auditledger::event::{Event, EventKind, Timestamp};
use auditledger::ledger::{Access, Ledger, NewRecord};
use auditledger::policy::config::{Policy, Profile};
use auditledger::tlog::note::NoteSigner;

const ORIGIN: &str = "bench.example/auditledger/check";

mod common;
use common::peak_rss_kib;

/// The allocator the CLI uses (`src/main.rs`), so the figures are the command's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn ev(kind: EventKind, source: &str, subject: &str, at: i64, attrs: &[(&str, String)]) -> Event {
    Event {
        source: source.into(),
        source_id: None,
        kind,
        subject: subject.into(),
        account: Some(subject.into()),
        actor: None,
        occurred_at: Timestamp(at),
        original_time: String::new(),
        attrs: attrs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect::<BTreeMap<_, _>>(),
    }
}

const DAY: i64 = 86_400_000_000;
/// 2026-01-05T00:00:00Z
const START: i64 = 1_767_571_200_000_000;

fn person_events(i: u64, per_person: usize) -> Vec<Event> {
    use EventKind::*;
    let email = format!("p{i}@bench.example");
    let team = format!("team-{}", i % 200);
    let contractor = i.is_multiple_of(2);
    let end_day = 30 + (i % 60) as i64;
    let end = chrono::NaiveDate::from_ymd_opt(2026, 1, 5)
        .and_then(|d| d.checked_add_days(chrono::Days::new(end_day as u64)))
        .map(|d| d.to_string())
        .unwrap_or_default();
    let mut out = vec![ev(
        RosterEntry,
        "roster",
        &email,
        START,
        &[
            ("person", format!("Person {i}")),
            (
                "employment",
                if contractor { "contractor" } else { "employee" }.into(),
            ),
            ("team", team.clone()),
            ("manager", "m@bench.example".into()),
            ("tech_lead", "t@bench.example".into()),
            ("time_zone", "Europe/Berlin".into()),
            ("accounts", format!("okta:{email}")),
            ("tokens", format!("github:{i}")),
            ("contract_end", if contractor { end } else { String::new() }),
        ],
    )];
    // Deactivated shortly before the end of the last day in Berlin (UTC+1 or +2).
    let expiry = START + (end_day + 1) * DAY - 2 * 3_600_000_000;
    // Sign-ins on each day until expiry, then a second round, to `per_person` events in
    // all (ten of them are the roster row, reminders and the offboarding acts).
    let mut d = 0;
    while out.len() < per_person.saturating_sub(10).max(2) {
        let at = START + (d % end_day) * DAY + (9 + d / end_day) * 3_600_000_000;
        out.push(ev(AuthSucceeded, "okta", &email, at, &[]));
        if d % 10 == 0 {
            out.push(ev(
                AuthFailed,
                "okta",
                &email,
                at + 60_000_000,
                &[("reason", "INVALID_CREDENTIALS".into())],
            ));
        }
        d += 1;
    }
    for days in [7, 2] {
        for recipient in ["m@bench.example", "t@bench.example"] {
            out.push(ev(
                ReminderSent,
                "reminders",
                &email,
                expiry - days * DAY,
                &[
                    ("recipient", recipient.into()),
                    ("status", "delivered".into()),
                ],
            ));
        }
    }
    out.push(ev(AccountDeactivated, "okta", &email, expiry, &[]));
    out.push(ev(
        SessionRevoked,
        "okta",
        &email,
        expiry + 300_000_000,
        &[],
    ));
    // One contractor in twenty is a seed story: the CI key keeps working for two days.
    let late = i.is_multiple_of(40);
    if late {
        out.push(ev(
            TokenUsed,
            "github",
            &email,
            expiry + DAY,
            &[("token_id", i.to_string())],
        ));
    }
    let revoked = expiry + if late { 2 * DAY } else { 600_000_000 };
    out.push(ev(
        TokenRevoked,
        "github",
        &email,
        revoked,
        &[("token_id", i.to_string())],
    ));
    out
}

fn build(dir: &Path, people: u64, per_person: usize) -> u64 {
    let signer = NoteSigner::generate(ORIGIN).expect("key");
    let mut ledger = Ledger::init(dir, signer).expect("init");
    let mut batch = Vec::new();
    for i in 0..people {
        for event in person_events(i, per_person) {
            let raw = event.to_json().into_bytes();
            batch.push(NewRecord { event, raw });
        }
        if batch.len() >= 20_000 {
            ledger.append(std::mem::take(&mut batch)).expect("append");
        }
    }
    ledger.append(batch).expect("append");
    ledger.size()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(pos) = args.iter().position(|a| a == "--report-only") {
        let dir = Path::new(&args[pos + 1]);
        let ledger = Ledger::open(dir, Access::Read).expect("open");
        let policy = Policy::defaults(Profile::Standard);
        let t = Instant::now();
        let verified =
            auditledger::ledger::verify::verify(&ledger, &Default::default()).expect("verify");
        let verify_secs = t.elapsed().as_secs_f64();
        let report = auditledger::report::generate(
            &ledger,
            &verified,
            &policy,
            auditledger::report::model::ReportKind::Soc2,
            &Default::default(),
        )
        .expect("report");
        let built = t.elapsed().as_secs_f64();
        let mut files = Vec::new();
        let mut per_format = Vec::new();
        for format in auditledger::report::render::Format::ALL {
            let f = Instant::now();
            files.extend(auditledger::report::render_files(&report, &[format]).expect("render"));
            per_format.push(format!(
                "{} {:.2} s",
                format.as_str(),
                f.elapsed().as_secs_f64()
            ));
        }
        let secs = t.elapsed().as_secs_f64();
        println!(
            "  verified and built in {built:.2} s; rendered {}",
            per_format.join(", ")
        );
        let bytes: usize = files.iter().map(|(_, b)| b.len()).sum();
        println!(
            "SOC 2 report, all formats: {} files, {:.1} MB, {} findings, in {:.2} s (verify {:.2} s); peak memory {} MiB",
            files.len(),
            bytes as f64 / 1e6,
            report.findings.len(),
            secs,
            verify_secs,
            peak_rss_kib() / 1024
        );
        return;
    }
    if let Some(pos) = args.iter().position(|a| a == "--check-only") {
        let dir = Path::new(&args[pos + 1]);
        let ledger = Ledger::open(dir, Access::Read).expect("open");
        let policy = Policy::defaults(Profile::Standard);
        let t = Instant::now();
        let result = auditledger::policy::check(&ledger, &policy, None).expect("check");
        let secs = t.elapsed().as_secs_f64();
        let mut by_rule = BTreeMap::<&str, usize>::new();
        for f in &result.findings {
            *by_rule.entry(f.rule.as_str()).or_default() += 1;
        }
        println!("  findings by rule: {by_rule:?}");
        println!(
            "check: {} entries, {} people in scope, {} findings in {:.2} s ({:.0} entries/s); peak memory {} MiB",
            result.tree_size,
            result.people.len(),
            result.findings.len(),
            secs,
            result.tree_size as f64 / secs,
            peak_rss_kib() / 1024
        );
        return;
    }
    let people: u64 = std::env::var("BENCH_PEOPLE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let per_person: usize = std::env::var("BENCH_EVENTS_PER_PERSON")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let dir = tempfile::tempdir().expect("temp dir");
    // `BENCH_LEDGER=DIR` builds there and keeps it, to profile a child on it afterwards.
    let ledger_dir = std::env::var_os("BENCH_LEDGER")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| dir.path().join("ledger"));
    let t = Instant::now();
    let size = build(&ledger_dir, people, per_person);
    println!(
        "built a ledger of {size} events for {people} people in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let exe = std::env::current_exe().expect("own path");
    let report = std::env::var("BENCH_REPORT").map_or(true, |v| v != "0");
    let modes: &[&str] = if report {
        &["--check-only", "--report-only"]
    } else {
        &["--check-only"]
    };
    for mode in modes {
        let status = Command::new(&exe)
            .arg(mode)
            .arg(&ledger_dir)
            .status()
            .expect("run the child");
        assert!(status.success(), "{mode} child failed");
    }
}
