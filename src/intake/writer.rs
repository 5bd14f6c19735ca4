//! The one writer of a live ledger: a thread that owns the [`Ledger`] and turns every
//! batch submitted to it (a pulled page with its cursor, a hook delivery) into a durable
//! commit, grouping whatever arrived meanwhile into one commit (one writer, many callers).
//!
//! Invariants:
//! - A caller's reply says "committed" only after the commit holding its records has been
//!   acknowledged by the ledger (synced, checkpoint signed and logged). A batch whose
//!   records were all already in the ledger is answered at once, with nothing written.
//! - A pulled page's cursor is staged right after its events, in the same commit, when
//!   the page added something or the caller forces it (a window that ended on re-read
//!   pages): a restart then resumes exactly after what was committed (a page of
//!   duplicates is re-read, never skipped).
//! - When a commit fails, every batch in it gets the error (a push is answered 5xx so the
//!   sender retries), the staged entries are discarded, and the writer reopens the ledger.

use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Instant;

use crate::event::Timestamp;
use crate::ledger::{Ledger, NewRecord};

use super::metrics::Metrics;

/// Records to commit, from one pull page or one push.
pub struct Batch {
    /// Where they came from, for metrics (`okta`, `hook:github`).
    pub origin: String,
    pub records: Vec<NewRecord>,
    /// For a pulled page: the stream and the cursor after these records.
    pub cursor: Option<(String, String)>,
    /// Commit the cursor even when no record is new: a window of a newest-first API ended
    /// on re-read pages, and its watermark must still move.
    pub force_cursor: bool,
}

/// What the commit did with one batch.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Committed {
    pub added: u64,
    pub duplicates: u64,
    pub conflicts: u64,
    /// The ledger's size after the commit (or now, when nothing was added).
    pub size: u64,
    /// Whether the batch's cursor went into the commit.
    pub cursor_committed: bool,
}

type Reply = Box<dyn FnOnce(Result<Committed, String>) + Send>;

enum Job {
    Commit(Batch, Reply),
    Cursors(
        Vec<String>,
        Sender<Result<std::collections::BTreeMap<String, String>, String>>,
    ),
}

/// The latest state a reader may show (`/status`).
#[derive(Clone, Debug, Default)]
pub struct Head {
    pub size: u64,
    pub checkpoint: String,
    /// Whether the writer can still commit (false after a failure it could not recover).
    pub healthy: bool,
}

pub struct Writer {
    jobs: Option<Sender<Job>>,
    thread: Option<JoinHandle<Ledger>>,
    head: Arc<Mutex<Head>>,
}

/// At most this many records go into one grouped commit (bounds memory and latency).
const GROUP_RECORDS: usize = 50_000;

impl Writer {
    pub fn start(ledger: Ledger, metrics: Arc<Metrics>) -> Writer {
        let head = Arc::new(Mutex::new(Head {
            size: ledger.size(),
            checkpoint: ledger.latest_checkpoint().unwrap_or_default(),
            healthy: true,
        }));
        metrics.set_gauge("auditledger_ledger_size", &[], ledger.size() as f64);
        let (tx, rx) = mpsc::channel();
        let shared = head.clone();
        let thread = std::thread::Builder::new()
            .name("ledger-writer".into())
            .spawn(move || run(ledger, rx, shared, metrics))
            .ok();
        Writer {
            jobs: Some(tx),
            thread,
            head,
        }
    }

    /// Queues a batch; `reply` is called once it is durable (or failed).
    pub fn submit(&self, batch: Batch, reply: Reply) {
        let job = Job::Commit(batch, reply);
        match &self.jobs {
            Some(tx) => {
                if let Err(mpsc::SendError(Job::Commit(_, reply))) = tx.send(job) {
                    reply(Err("the ledger writer has stopped".into()));
                }
            }
            None => {
                if let Job::Commit(_, reply) = job {
                    reply(Err("the ledger writer has stopped".into()));
                }
            }
        }
    }

    /// Submits and waits.
    pub fn commit(&self, batch: Batch) -> Result<Committed, String> {
        let (tx, rx) = mpsc::channel();
        self.submit(
            batch,
            Box::new(move |r| {
                let _ = tx.send(r);
            }),
        );
        rx.recv()
            .unwrap_or_else(|_| Err("the ledger writer has stopped".into()))
    }

    /// The latest committed cursor of each stream that has one.
    pub fn cursors(
        &self,
        streams: Vec<String>,
    ) -> Result<std::collections::BTreeMap<String, String>, String> {
        let (tx, rx) = mpsc::channel();
        self.jobs
            .as_ref()
            .ok_or("the ledger writer has stopped")?
            .send(Job::Cursors(streams, tx))
            .map_err(|_| "the ledger writer has stopped".to_string())?;
        rx.recv()
            .unwrap_or_else(|_| Err("the ledger writer has stopped".into()))
    }

    pub fn head(&self) -> Head {
        self.head.lock().map(|h| h.clone()).unwrap_or_default()
    }

    /// Finishes every queued batch and returns the ledger.
    pub fn stop(mut self) -> Option<Ledger> {
        self.jobs = None;
        self.thread.take().and_then(|t| t.join().ok())
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.jobs = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn run(
    mut ledger: Ledger,
    jobs: Receiver<Job>,
    head: Arc<Mutex<Head>>,
    metrics: Arc<Metrics>,
) -> Ledger {
    let mut queue: Vec<(Batch, Reply)> = Vec::new();
    while let Ok(job) = jobs.recv() {
        let mut pending = Some(job);
        let mut records = 0;
        // Group: everything already waiting joins this commit.
        while let Some(job) = pending.take().or_else(|| {
            (records < GROUP_RECORDS)
                .then(|| jobs.try_recv().ok())
                .flatten()
        }) {
            match job {
                Job::Commit(batch, reply) => {
                    records += batch.records.len();
                    queue.push((batch, reply));
                }
                Job::Cursors(streams, tx) => {
                    let _ = tx.send(
                        ledger
                            .cursors(&streams)
                            .map(|m| m.into_iter().map(|(k, (_, v))| (k, v)).collect())
                            .map_err(|e| e.to_string()),
                    );
                }
            }
        }
        if queue.is_empty() {
            continue;
        }
        let mut group = std::mem::take(&mut queue);
        let started = Instant::now();
        match commit_group(&mut ledger, &mut group, &metrics) {
            Ok(results) => {
                if results.iter().any(|r| r.added > 0) {
                    metrics.inc("auditledger_commits_total", &[], 1.0);
                    metrics.observe(
                        "auditledger_commit_seconds",
                        started.elapsed().as_secs_f64(),
                    );
                }
                if let Ok(mut h) = head.lock() {
                    h.size = ledger.size();
                    h.checkpoint = ledger.latest_checkpoint().unwrap_or_default();
                }
                metrics.set_gauge("auditledger_ledger_size", &[], ledger.size() as f64);
                for ((_, reply), result) in group.into_iter().zip(results) {
                    reply(Ok(result));
                }
            }
            Err(e) => {
                metrics.inc("auditledger_commit_failures_total", &[], 1.0);
                tracing::error!(error = %e, "commit failed; the batches in it were not acknowledged");
                let recovered = ledger.discard_staged();
                if let Ok(mut h) = head.lock() {
                    h.healthy = recovered.is_ok();
                }
                for (_, reply) in group {
                    reply(Err(format!("the commit failed: {e}")));
                }
            }
        }
    }
    ledger
}

fn commit_group(
    ledger: &mut Ledger,
    group: &mut [(Batch, Reply)],
    metrics: &Metrics,
) -> Result<Vec<Committed>, String> {
    let mut results = Vec::with_capacity(group.len());
    let mut any = false;
    for (batch, _) in group.iter_mut() {
        let records = std::mem::take(&mut batch.records);
        let labels: Vec<(String, &'static str)> = records
            .iter()
            .map(|r| (r.event.source.clone(), r.event.kind.as_str()))
            .collect();
        let staged = ledger.stage(records).map_err(|e| e.to_string())?;
        // Counted per distinct label, not per record: the metrics lock is shared.
        let mut added: std::collections::BTreeMap<(&str, &str), u64> = Default::default();
        let mut duplicates: std::collections::BTreeMap<&str, u64> = Default::default();
        for ((source, kind), dup) in labels.iter().zip(&staged.duplicate_flags) {
            if *dup {
                *duplicates.entry(source).or_default() += 1;
            } else {
                *added.entry((source, kind)).or_default() += 1;
            }
        }
        for ((source, kind), n) in added {
            metrics.inc(
                "auditledger_events_ingested_total",
                &[("source", source), ("kind", kind)],
                n as f64,
            );
        }
        for (source, n) in duplicates {
            metrics.inc(
                "auditledger_duplicates_total",
                &[("source", source)],
                n as f64,
            );
        }
        let mut cursor_committed = false;
        if staged.added > 0 || batch.force_cursor {
            if let Some((stream, position)) = &batch.cursor {
                ledger
                    .stage_cursor(stream, position, Timestamp::now())
                    .map_err(|e| e.to_string())?;
                cursor_committed = true;
            }
            any |= staged.added > 0 || cursor_committed;
        }
        results.push(Committed {
            added: staged.added,
            duplicates: staged.duplicates,
            conflicts: staged.conflicts.len() as u64,
            size: 0,
            cursor_committed,
        });
    }
    if any {
        ledger.commit_staged().map_err(|e| e.to_string())?;
    }
    let size = ledger.size();
    for r in &mut results {
        r.size = size;
    }
    Ok(results)
}
