//! The ingest pipeline: file → records (`sources::framing`) → events (a `Source`) → durable
//! commits to the ledger.
//!
//! Invariants kept here:
//! - A file is one commit, all or nothing: its records are read once and their events
//!   staged in the ledger (`Ledger::stage_prepared`) a batch at a time; the commit comes at
//!   the end.
//! - Two threads, each kept busy: the reading one frames, parses and normalises records and
//!   prepares their events for the ledger, a chunk at a time (hashes, encoding:
//!   `NewRecord::prepare_all`); this
//!   one counts them and stages them in order. The ledger is told to start no threads of
//!   its own (`Ledger::set_workers`): on two cores they only contended with the reader.
//!   A refused record (without `skip_invalid`), an unreadable file, a failed write or an
//!   interruption discards what the file staged. With `skip_invalid`, good records are
//!   committed and the bad ones written, with file, location and reason, to the rejects
//!   file.
//! - Re-ingesting a file or an overlapping export adds nothing (the ledger de-duplicates on
//!   the source's event id and content, or on the raw record's hash).
//! - Memory stays flat: staged events go to the ledger's files, not to memory (standard
//!   input is spooled to a temporary file so `--source auto` can read its start).
//! - An empty export is zero records, not an error.
//! - Events are stored as the source gave them: the account, never the person. The policy
//!   maps accounts to people from the roster (`policy::facts`), so what an entry says does
//!   not depend on the order files were ingested in, and ingest never scans the ledger.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{self, BufRead, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;

use serde::Serialize;
use serde_json::Value;
use thiserror::Error;

use crate::event::{Event, EventKind};
use crate::ledger::{IdConflict, Ledger, LedgerError, Lookup, NewRecord, PreparedRecord};
use crate::sources::framing::{self, FramingError, Location};
use crate::sources::{self, Source};
use crate::tlog::merkle::Hash;

#[derive(Debug, Error)]
pub enum IngestError {
    #[error("{file}: {source}")]
    Io { file: String, source: io::Error },
    #[error("{file}: {problem}")]
    Unreadable { file: String, problem: String },
    #[error("{file}: cannot tell its format{}; pass --source NAME", matches_text(.matches))]
    UnknownFormat { file: String, matches: Vec<String> },
    #[error("{file}: {count} bad record(s); nothing from this file was committed (use --skip-invalid to commit the good ones):\n  {}", .shown.join("\n  "))]
    BadRecords {
        file: String,
        count: u64,
        shown: Vec<String>,
    },
    /// An empty export (`[]`, a header-only CSV, an empty file): nothing to do, not an
    /// error for a cron job; only `--source auto` cannot name its format.
    #[error("{file}: no records (an empty export); nothing to ingest")]
    NoRecords { file: String },
    #[error("{file}: interrupted; nothing from this file was committed")]
    Interrupted { file: String },
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

fn matches_text(m: &[String]) -> String {
    if m.is_empty() {
        " (no source recognises it)".into()
    } else {
        format!(" (it could be any of: {})", m.join(", "))
    }
}

#[derive(Clone, Debug)]
pub struct IngestOptions {
    pub dry_run: bool,
    pub skip_invalid: bool,
    /// Where rejected records go with `skip_invalid` (default: `<file>.rejects.jsonl`).
    pub rejects: Option<PathBuf>,
    /// Events staged at a time (the whole file is one commit).
    pub batch: usize,
    /// Records larger than this are refused (a runaway export must not bloat an
    /// append-only ledger forever).
    pub max_record_bytes: usize,
    /// Set (by a signal handler) to stop: the file in progress is discarded.
    pub interrupt: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
}

/// The default `max_record_bytes`: 1 MiB, far above any IdP record seen (the largest
/// real Entra sign-ins are tens of KB).
pub const MAX_RECORD_BYTES: usize = 1 << 20;

impl Default for IngestOptions {
    fn default() -> Self {
        Self {
            dry_run: false,
            skip_invalid: false,
            rejects: None,
            batch: 1000,
            max_record_bytes: MAX_RECORD_BYTES,
            interrupt: None,
        }
    }
}

/// Counts per event kind.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct KindCounts {
    pub read: u64,
    pub added: u64,
    pub duplicates: u64,
}

/// What one file's ingest did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct IngestSummary {
    pub file: String,
    pub source: String,
    pub records: u64,
    pub events: u64,
    pub added: u64,
    pub duplicates: u64,
    pub rejected: u64,
    pub dry_run: bool,
    pub rejects_file: Option<String>,
    /// Event kind (`EventKind::as_str`) → counts.
    pub per_kind: BTreeMap<&'static str, KindCounts>,
    /// Source event types no rule uses, kept as `other` (type → count).
    pub other_types: BTreeMap<String, u64>,
    /// Records added although the ledger already held their source id with other content;
    /// `check` reports each as an integrity finding.
    pub conflicts: Vec<IdConflict>,
    /// The ledger size after the file's commit (none for a dry run).
    pub checkpoint_size: Option<u64>,
    pub bytes: u64,
}

/// A rejected record, as written to the rejects file.
#[derive(Serialize)]
struct Reject<'a> {
    file: &'a str,
    location: String,
    reason: String,
    raw: String,
}

/// An input file, or standard input spooled to a temporary file.
pub struct Input {
    pub name: String,
    path: PathBuf,
    _spool: Option<tempfile::TempPath>,
    pub len: u64,
}

impl Input {
    pub fn open(path: &Path) -> Result<Self, IngestError> {
        if path == Path::new("-") {
            let name = "<stdin>".to_string();
            let io = |source| IngestError::Io {
                file: name.clone(),
                source,
            };
            let mut spool = tempfile::NamedTempFile::new().map_err(io)?;
            let len = io::copy(&mut io::stdin().lock(), &mut spool).map_err(io)?;
            let spool = spool.into_temp_path();
            return Ok(Input {
                name: name.clone(),
                path: spool.to_path_buf(),
                _spool: Some(spool),
                len,
            });
        }
        let name = path.display().to_string();
        let meta = std::fs::metadata(path).map_err(|source| IngestError::Io {
            file: name.clone(),
            source,
        })?;
        if meta.is_dir() {
            return Err(IngestError::Unreadable {
                file: name,
                problem: "is a directory".into(),
            });
        }
        Ok(Input {
            name,
            path: path.to_path_buf(),
            _spool: None,
            len: meta.len(),
        })
    }

    /// A pipe or device (`<(curl ...)`, a named FIFO) can be read only once: copies it to
    /// a temporary file, as standard input is, for a caller that must read it twice.
    fn spool_if_stream(&mut self) -> Result<(), IngestError> {
        let regular = std::fs::metadata(&self.path).is_ok_and(|m| m.is_file());
        if self._spool.is_some() || regular {
            return Ok(());
        }
        let io = |source| IngestError::Io {
            file: self.name.clone(),
            source,
        };
        let mut spool = tempfile::NamedTempFile::new().map_err(io)?;
        self.len = io::copy(&mut self.reader()?, &mut spool).map_err(io)?;
        let spool = spool.into_temp_path();
        self.path = spool.to_path_buf();
        self._spool = Some(spool);
        Ok(())
    }

    /// The file's content: gzip-compressed input (GitHub's audit log streaming writes
    /// `<uuid>.json.gz`), told by its magic bytes, is decompressed, and its records are
    /// the decompressed bytes.
    fn reader(&self) -> Result<Box<dyn Read + Send>, IngestError> {
        self.metered_reader(None)
    }

    /// [`Input::reader`], adding to `read` the bytes taken from the file as stored, so that
    /// progress is measured against [`Input::len`] also when what is read is decompressed.
    fn metered_reader<'a>(
        &self,
        read: Option<&'a AtomicU64>,
    ) -> Result<Box<dyn Read + Send + 'a>, IngestError> {
        let io = |source| IngestError::Io {
            file: self.name.clone(),
            source,
        };
        let file = Metered {
            inner: File::open(&self.path).map_err(io)?,
            read,
        };
        let mut file = io::BufReader::new(file);
        let gzip = file.fill_buf().map_err(io)?.starts_with(&[0x1f, 0x8b]);
        Ok(if gzip {
            Box::new(Gunzip(flate2::bufread::MultiGzDecoder::new(file)))
        } else {
            Box::new(file)
        })
    }
}

/// A file whose reads are counted, when asked, as they happen.
struct Metered<'a> {
    inner: File,
    read: Option<&'a AtomicU64>,
}

impl Read for Metered<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(read) = self.read {
            read.fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
        }
        Ok(n)
    }
}

/// A gzip stream whose errors say so: "unexpected end of file" alone does not tell a torn
/// download from a torn export.
struct Gunzip<R>(R);

impl<R: Read> Read for Gunzip<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0
            .read(buf)
            .map_err(|e| io::Error::new(e.kind(), format!("gzip-compressed input: {e}")))
    }
}

/// Picks the source for `--source auto` from the file's first record. Reading that record
/// first means reading the input twice, so a pipe is spooled to a temporary file first.
pub fn detect_source(input: &mut Input) -> Result<&'static dyn Source, IngestError> {
    input.spool_if_stream()?;
    let unreadable = |problem: String| IngestError::Unreadable {
        file: input.name.clone(),
        problem,
    };
    let content = framing::sniff(&mut std::io::BufReader::new(input.reader()?))
        .map_err(|e| unreadable(e.to_string()))?;
    let mut first: Option<(Location, Result<Value, String>)> = None;
    let result = framing::for_each_record(input.reader()?, &framing::Reads::All, &mut |r| {
        first = Some((r.location, r.value));
        Err("first record read".into())
    });
    match result {
        Ok(_) | Err(FramingError::Stopped(_)) => {}
        Err(e) => return Err(unreadable(e.to_string())),
    }
    let value = match first {
        None => {
            return Err(IngestError::NoRecords {
                file: input.name.clone(),
            })
        }
        // A file whose first record cannot be read is not empty: saying so would turn a
        // log of another shape (text lines, say) into a quiet exit 0 with nothing kept.
        Some((location, Err(problem))) => {
            let place = match location {
                Location::Line(n) => format!("line {n}"),
                index => format!("record {index}"),
            };
            return Err(unreadable(format!(
                "the first record ({place}) cannot be read: {problem}; so its format cannot be told (pass --source NAME)"
            )));
        }
        Some((_, Ok(value))) => value,
    };
    let found = sources::detect(&value, content);
    match found.as_slice() {
        [one] => Ok(*one),
        _ => Err(IngestError::UnknownFormat {
            file: input.name.clone(),
            matches: found.iter().map(|s| s.name().to_string()).collect(),
        }),
    }
}

/// One record after normalisation: its events exactly as they will be appended, or why
/// the record is refused.
pub struct Normalised {
    pub location: Location,
    pub raw: Vec<u8>,
    pub result: Result<Vec<Event>, String>,
}

/// Records handed from the reading thread to the normalising one at a time.
const CHUNK: usize = 256;

/// Walks every record of `input`, normalising it with `source`: the first stage of
/// [`ingest_file`], public so the golden-file tests read fixtures through this very path.
/// Reading, parsing, normalising and `ready` (called on each chunk of records) run on a
/// second thread, a chunk ahead of `each` on this one: `ingest` prepares records for the
/// ledger in `ready`, so this thread is left only what must be done in order
/// (de-duplication, the chain, writing).
pub fn walk<T: Send>(
    input: &Input,
    source: &dyn Source,
    progress: &mut dyn FnMut(u64),
    ready: &(dyn Fn(Vec<Normalised>) -> Vec<T> + Sync),
    each: &mut dyn FnMut(T) -> Result<(), String>,
) -> Result<(), IngestError> {
    use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
    let read_bytes = &AtomicU64::new(0);
    let reader = input.metered_reader(Some(read_bytes))?;
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<T>>(4);
    let (framed, stopped) = std::thread::scope(|scope| {
        // Moves `tx` in, so the channel closes when the reading is done.
        let reading = scope.spawn(move || {
            let mut chunk = Vec::with_capacity(CHUNK);
            let result = framing::for_each_record(reader, &framing::Reads::Later, &mut |r| {
                chunk.push(normalise_record(source, r));
                if chunk.len() >= CHUNK {
                    let full = std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK));
                    // The receiver is gone only when `each` stopped the walk.
                    tx.send(ready(full)).map_err(|_| String::new())?;
                }
                Ok(())
            });
            if result.is_ok() && !chunk.is_empty() {
                let _ = tx.send(ready(chunk));
            }
            result
        });
        let mut stopped: Option<String> = None;
        'chunks: for chunk in rx.iter() {
            progress(read_bytes.load(Relaxed));
            for n in chunk {
                if let Err(why) = each(n) {
                    stopped = Some(why);
                    break 'chunks;
                }
            }
        }
        drop(rx);
        let framed = reading
            .join()
            .unwrap_or_else(|_| Err(FramingError::Stopped("the reading thread failed".into())));
        (framed, stopped)
    });
    progress(read_bytes.load(std::sync::atomic::Ordering::Relaxed));
    if let Some(why) = stopped {
        return Err(IngestError::Unreadable {
            file: input.name.clone(),
            problem: why,
        });
    }
    match framed {
        // Known only once read (the input may be a FIFO, read once): text that is not
        // JSON reads as a CSV header and rows, which a JSON-only source must not take for
        // an empty export ("Unauthorized", an HTML error page saved in its place).
        Ok(framing::Content::Csv) if !source.reads_csv() => Err(IngestError::Unreadable {
            file: input.name.clone(),
            problem: format!(
                "not JSON: the {} source reads a JSON array, an envelope object or JSON \
                 Lines (is this an error page saved in place of the export?)",
                source.name()
            ),
        }),
        Ok(_) => Ok(()),
        Err(FramingError::Stopped(why)) => Err(IngestError::Unreadable {
            file: input.name.clone(),
            problem: why,
        }),
        Err(FramingError::Io(e)) => Err(IngestError::Io {
            file: input.name.clone(),
            source: e,
        }),
        Err(FramingError::Shape { at, problem }) => Err(IngestError::Unreadable {
            file: input.name.clone(),
            problem: format!("{at}: {problem}"),
        }),
    }
}

/// One framed record through its source. A record that yields several events keeps one
/// raw record; its events are told apart by their ids.
fn normalise_record(source: &dyn Source, r: framing::RawRecord) -> Normalised {
    let result = match r.value {
        Err(e) => Err(e),
        // A JSON record framing left unparsed (`Reads::Later`; a CSV row is an object):
        // the source's typed parser first, else its `Value`, parsed as framing would.
        Ok(Value::Null) => match std::str::from_utf8(&r.raw) {
            Err(e) => Err(format!("not UTF-8 text: {e}")),
            Ok(text) => source.normalise_json(text).map(Ok).unwrap_or_else(|| {
                let value = framing::parse_json(&r.location, text, source.reads())?;
                source
                    .normalise(&value)
                    .map_err(|e| e.hint_other_casing(&r.raw, &value).to_string())
            }),
        },
        Ok(v) => source
            .normalise(&v)
            .map_err(|e| e.hint_other_casing(&r.raw, &v).to_string()),
    };
    let result = result.map(|mut events| {
        sources::key_events(&r.raw, &mut events);
        events
    });
    Normalised {
        location: r.location,
        raw: r.raw,
        result,
    }
}

/// Ingests one file as one commit: every record is read once, its events staged in the
/// ledger as they come (memory stays flat), and the file is committed at the end only if
/// no record was refused (or with `skip_invalid`). A refused record, an unreadable file or
/// an interruption discards everything staged from this file. `ledger` may be read-only
/// for a dry run.
pub fn ingest_file(
    ledger: &mut Ledger,
    input: &Input,
    source: &dyn Source,
    opts: &IngestOptions,
    progress: &mut dyn FnMut(u64),
) -> Result<IngestSummary, IngestError> {
    ingest_file_after(
        ledger,
        input,
        source,
        opts,
        &mut DryRunSoFar::default(),
        progress,
    )
}

/// What the files of a dry run before this one would have committed. A real run commits
/// each file before it reads the next, so the next file's duplicates and id conflicts are
/// found against them too, and its seqs follow theirs.
#[derive(Debug, Default)]
pub struct DryRunSoFar {
    /// Per de-duplication key, each record's would-be seq and content fingerprint.
    seen: HashMap<Hash, Vec<(u64, Hash)>>,
    /// Entries the earlier files would have added.
    added: u64,
}

/// [`ingest_file`] as one of several files: for a dry run, after the files `so_far`
/// holds, which it then joins unless it is refused.
pub fn ingest_file_after(
    ledger: &mut Ledger,
    input: &Input,
    source: &dyn Source,
    opts: &IngestOptions,
    so_far: &mut DryRunSoFar,
    progress: &mut dyn FnMut(u64),
) -> Result<IngestSummary, IngestError> {
    // The reading thread keeps a core busy preparing records (see `walk`).
    let workers = ledger.workers();
    ledger.set_workers(crate::ledger::cores().saturating_sub(1));
    let mut result = ingest_staged(ledger, input, source, opts, so_far, progress);
    if result.is_err() && !opts.dry_run {
        if let Err(e) = ledger.discard_staged() {
            result = Err(e.into());
        }
    }
    ledger.set_workers(workers);
    result
}

/// A record as the reading thread hands it on: each event prepared for the ledger, or why
/// the record is refused (then with its bytes, for the rejects file).
struct Ready {
    location: Location,
    raw: Vec<u8>,
    result: Result<Vec<ReadyEvent>, String>,
}

struct ReadyEvent {
    kind: EventKind,
    /// The source's own type of an event we do not model (`EventKind::Other`).
    other_type: Option<String>,
    record: PreparedRecord,
}

/// Checks each normalised record's size and prepares its events (see `walk`), the raw
/// records of the whole chunk hashed at once (`NewRecord::prepare_all`).
fn make_ready(chunk: Vec<Normalised>, max_record_bytes: usize) -> Vec<Ready> {
    type Kinds = Vec<(EventKind, Option<String>)>;
    let mut records = Vec::with_capacity(chunk.len());
    let mut shapes: Vec<(Location, Vec<u8>, Result<Kinds, String>)> =
        Vec::with_capacity(chunk.len());
    for n in chunk {
        let mut raw = n.raw;
        let events = match n.result {
            Ok(_) if raw.len() > max_record_bytes => Err(format!(
                "the record is {} bytes; the limit is {max_record_bytes} (--max-record-bytes)",
                raw.len(),
            )),
            other => other,
        };
        let kinds = events.map(|events| {
            // A record is usually one event: the last one takes the bytes, the others (a
            // record of several events) get copies.
            let last = events.len().saturating_sub(1);
            let mut kinds = Vec::with_capacity(events.len());
            for (i, event) in events.into_iter().enumerate() {
                let other_type = (event.kind == EventKind::Other)
                    .then(|| event.attrs.get("type").cloned().unwrap_or_default());
                let raw = if i == last {
                    std::mem::take(&mut raw)
                } else {
                    raw.clone()
                };
                kinds.push((event.kind, other_type));
                records.push(NewRecord { event, raw });
            }
            kinds
        });
        shapes.push((n.location, raw, kinds));
    }
    let mut prepared = NewRecord::prepare_all(records).into_iter();
    shapes
        .into_iter()
        .map(|(location, raw, kinds)| Ready {
            location,
            raw,
            result: kinds.map(|kinds| {
                let mut events = Vec::with_capacity(kinds.len());
                for (kind, other_type) in kinds {
                    // `prepare_all` gives one record for each pushed above, in order.
                    if let Some(record) = prepared.next() {
                        events.push(ReadyEvent {
                            kind,
                            other_type,
                            record,
                        });
                    }
                }
                events
            }),
        })
        .collect()
}

fn ingest_staged(
    ledger: &mut Ledger,
    input: &Input,
    source: &dyn Source,
    opts: &IngestOptions,
    so_far: &mut DryRunSoFar,
    progress: &mut dyn FnMut(u64),
) -> Result<IngestSummary, IngestError> {
    let mut summary = IngestSummary {
        file: input.name.clone(),
        source: source.name().to_string(),
        dry_run: opts.dry_run,
        bytes: input.len,
        ..Default::default()
    };
    let mut bad: Vec<String> = Vec::new();
    let mut rejects_out: Option<BufWriter<File>> = None;
    let rejects_path = opts.rejects.clone().unwrap_or_else(|| {
        PathBuf::from(format!(
            "{}.rejects.jsonl",
            input.name.trim_start_matches('<').trim_end_matches('>')
        ))
    });
    let mut batch: Vec<(EventKind, PreparedRecord)> = Vec::with_capacity(opts.batch.max(1));
    // A dry run stages nothing, so it keeps what `stage` would find of this file's earlier
    // records (`this_file`) beside the earlier files' (`so_far`).
    let mut this_file: HashMap<Hash, Vec<(u64, Hash)>> = HashMap::new();
    let dry_run_first_seq = ledger.size() + so_far.added;
    let earlier_files = &so_far.seen;
    let mut stage = |ledger: &mut Ledger,
                     batch: &mut Vec<(EventKind, PreparedRecord)>,
                     summary: &mut IngestSummary|
     -> Result<(), IngestError> {
        if batch.is_empty() {
            return Ok(());
        }
        let (kinds, records): (Vec<EventKind>, Vec<PreparedRecord>) =
            std::mem::take(batch).into_iter().unzip();
        let dup_flags: Vec<bool> = if opts.dry_run {
            let mut flags = Vec::with_capacity(records.len());
            for (r, found) in records.iter().zip(ledger.lookup(&records)?) {
                if found == Lookup::Duplicate {
                    flags.push(true);
                    continue;
                }
                let content = content_fingerprint(r.raw());
                let before = earlier_files.get(r.dedup_key()).into_iter().flatten();
                let earlier_here = this_file.entry(*r.dedup_key()).or_default();
                let mut earlier_runs = before.chain(earlier_here.iter());
                if earlier_runs.clone().any(|(_, c)| *c == content) {
                    flags.push(true);
                    continue;
                }
                let seq = dry_run_first_seq
                    + summary.added
                    + flags.iter().filter(|dup| !**dup).count() as u64;
                let earlier = match found {
                    Lookup::Conflict { earlier } => Some(earlier),
                    _ => earlier_runs.next().map(|(seq, _)| *seq),
                };
                if let Some(earlier) = earlier {
                    summary.conflicts.push(IdConflict {
                        earlier,
                        later: seq,
                    });
                }
                earlier_here.push((seq, content));
                flags.push(false);
            }
            flags
        } else {
            let staged = ledger.stage_prepared(records)?;
            summary.conflicts.extend(staged.conflicts);
            staged.duplicate_flags
        };
        for (kind, dup) in kinds.iter().zip(dup_flags) {
            let c = summary.per_kind.entry(kind.as_str()).or_default();
            if dup {
                c.duplicates += 1;
                summary.duplicates += 1;
            } else {
                c.added += 1;
                summary.added += 1;
            }
        }
        Ok(())
    };
    let mut failure: Option<IngestError> = None;
    let mut interrupted = false;
    let mut take = |n: Ready| -> Result<(), String> {
        if opts
            .interrupt
            .as_ref()
            .is_some_and(|f| f.load(std::sync::atomic::Ordering::Relaxed))
        {
            interrupted = true;
            return Err("interrupted".into());
        }
        summary.records += 1;
        let events = match n.result {
            Ok(events) => events,
            Err(reason) => {
                summary.rejected += 1;
                if bad.len() < 20 {
                    bad.push(format!("{}:{}: {reason}", input.name, n.location));
                }
                if opts.skip_invalid && !opts.dry_run {
                    let w = match &mut rejects_out {
                        Some(w) => w,
                        None => {
                            let f = File::create(&rejects_path).map_err(|e| {
                                format!(
                                    "cannot create rejects file {}: {e}",
                                    rejects_path.display()
                                )
                            })?;
                            rejects_out.insert(BufWriter::new(f))
                        }
                    };
                    let rec = Reject {
                        file: &input.name,
                        location: n.location.to_string(),
                        reason,
                        raw: String::from_utf8_lossy(&n.raw).into_owned(),
                    };
                    serde_json::to_writer(&mut *w, &rec)
                        .map_err(|e| e.to_string())
                        .and_then(|_| w.write_all(b"\n").map_err(|e| e.to_string()))?;
                }
                return Ok(());
            }
        };
        // Once a record is refused without --skip-invalid, nothing of the file will be
        // committed: the rest is only checked, so every bad record is counted.
        let refusing = summary.rejected > 0 && !opts.skip_invalid;
        for e in events {
            if let Some(t) = e.other_type {
                *summary.other_types.entry(t).or_default() += 1;
            }
            summary.events += 1;
            summary.per_kind.entry(e.kind.as_str()).or_default().read += 1;
            if !refusing {
                batch.push((e.kind, e.record));
            }
        }
        if batch.len() >= opts.batch.max(1) {
            if let Err(e) = stage(ledger, &mut batch, &mut summary) {
                failure = Some(e);
                return Err("staging failed".into());
            }
        }
        Ok(())
    };
    let max_record_bytes = opts.max_record_bytes;
    let ready = move |chunk: Vec<Normalised>| make_ready(chunk, max_record_bytes);
    let walked = walk(input, source, progress, &ready, &mut take);
    if let Some(e) = failure {
        return Err(e);
    }
    if interrupted {
        return Err(IngestError::Interrupted {
            file: input.name.clone(),
        });
    }
    walked?;
    if let Some(mut w) = rejects_out {
        w.flush().map_err(|e| IngestError::Io {
            file: rejects_path.display().to_string(),
            source: e,
        })?;
        summary.rejects_file = Some(rejects_path.display().to_string());
    }
    if summary.rejected > 0 && !opts.skip_invalid {
        return Err(IngestError::BadRecords {
            file: input.name.clone(),
            count: summary.rejected,
            shown: bad,
        });
    }
    stage(ledger, &mut batch, &mut summary)?;
    if opts.dry_run {
        for (key, mut records) in this_file {
            so_far.seen.entry(key).or_default().append(&mut records);
        }
        so_far.added += summary.added;
    } else {
        let committed = ledger.commit_staged()?;
        summary.checkpoint_size = Some(committed.size);
    }
    Ok(summary)
}

/// A hash equal for two raw records exactly when [`crate::ledger::entry::same_content`]
/// says they hold the same content (for any records but the absurd: JSON followed by a
/// form feed): of the JSON value
/// re-serialised (`serde_json` orders an object's keys), else of the bytes without
/// trailing line ends. For a dry run, which keeps no raw records.
fn content_fingerprint(raw: &[u8]) -> Hash {
    let mut h = blake3::Hasher::new();
    match serde_json::from_slice::<serde_json::Value>(raw) {
        Ok(v) => {
            h.update(b"j");
            h.update(canonical_json(&v).as_bytes());
        }
        Err(_) => {
            h.update(b"b");
            h.update(raw.trim_ascii_end());
        }
    }
    *h.finalize().as_bytes()
}

/// One text for every JSON value equal to `v` ([`serde_json::Value`]'s equality, which
/// [`crate::ledger::entry::same_content`] uses): keys in order (`serde_json` keeps an
/// object's keys sorted) and `-0.0` written as `0.0`.
pub(crate) fn canonical_json(v: &serde_json::Value) -> String {
    let mut v = v.clone();
    positive_zeros(&mut v);
    v.to_string()
}

/// `-0.0` as `0.0`: JSON values compare them equal, but write them apart.
fn positive_zeros(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Number(n) if n.is_f64() && n.as_f64() == Some(0.0) => {
            if let Some(zero) = serde_json::Number::from_f64(0.0) {
                *n = zero;
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(positive_zeros),
        serde_json::Value::Object(map) => map.values_mut().for_each(positive_zeros),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_content_fingerprint_agrees_with_same_content() {
        let records: [&[u8]; 14] = [
            br#"{"a":1,"b":[1,2]}"#,
            br#"{"z":-0.0}"#,
            br#"{"z":0.0}"#,
            br#"{"z":-0}"#,
            br#"{"z":0}"#,
            b"{ \"b\": [1, 2], \"a\": 1 }\r\n",
            br#"{"a":1.0,"b":[1,2]}"#,
            br#"{"a":1,"b":[2,1]}"#,
            br#"{"a":"1","b":[1,2]}"#,
            b"x,y,z\n",
            b"x,y,z",
            b"x,y, z",
            b"[1,2]",
            b"[1,2] ",
        ];
        for a in records {
            for b in records {
                assert_eq!(
                    content_fingerprint(a) == content_fingerprint(b),
                    crate::ledger::entry::same_content(a, b),
                    "{:?} {:?}",
                    String::from_utf8_lossy(a),
                    String::from_utf8_lossy(b)
                );
            }
        }
    }
}
