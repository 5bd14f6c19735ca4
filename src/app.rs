//! Whole operations, as the CLI, `serve` and the tests call them: create a ledger, ingest
//! a list of files, build and write reports, run the demo. Each returns what happened; the
//! library never prints, the CLI does.
//!
//! Invariants:
//! - `ingest_files` tries every file given and commits each whole or not at all; a ledger
//!   failure stops the run (the writer cannot go on) and says which files were done.
//! - Report files are written through a temporary beside each, so a failure leaves no half
//!   file; a report is built only from a fully verified ledger.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use thiserror::Error;

use crate::event::{TimeError, Timestamp};
use crate::export::ExportError;
use crate::ingest::{
    detect_source, ingest_file, ingest_file_after, DryRunSoFar, IngestError, IngestOptions,
    IngestSummary, Input,
};
use crate::ledger::keys::{self, KeyError};
use crate::ledger::verify::{verify, Verified, VerifyOptions};
use crate::ledger::{Ledger, LedgerError, DEFAULT_KEY_FILE};
use crate::policy::config::{Policy, PolicyError, Profile};
use crate::policy::finding::Severity;
use crate::policy::CheckError;
use crate::report::model::{Report, ReportKind};
use crate::report::ReportError;
use crate::sources::{self, Source};
use crate::tlog::note::{NoteError, NoteSigner, NoteVerifier};

#[derive(Debug, Error)]
pub enum AppError {
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error(transparent)]
    Note(#[from] NoteError),
    #[error(transparent)]
    Policy(#[from] PolicyError),
    #[error(transparent)]
    Check(#[from] CheckError),
    #[error(transparent)]
    Report(#[from] ReportError),
    #[error(transparent)]
    Export(#[from] ExportError),
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
    /// A usage or input problem, said in full.
    #[error("{0}")]
    Invalid(String),
    /// The ledger does not verify.
    #[error("{0}")]
    Integrity(String),
}

impl AppError {
    /// Whether this is an integrity failure (exit 1) rather than a usage or I/O one (exit 2).
    pub fn is_integrity(&self) -> bool {
        match self {
            AppError::Integrity(_) => true,
            AppError::Ledger(e) => e.is_integrity(),
            AppError::Ingest(IngestError::Ledger(e)) => e.is_integrity(),
            AppError::Check(CheckError::Ledger(e)) => e.is_integrity(),
            _ => false,
        }
    }
}

fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> AppError {
    let context = context.into();
    move |source| AppError::Io { context, source }
}

// ---- init --------------------------------------------------------------------------------

/// Where `init` keeps keys by default, when set (else the user's config directory).
pub const KEY_DIR_ENV: &str = "AUDITLEDGER_KEY_DIR";

/// The directory keys are kept in by default: `$AUDITLEDGER_KEY_DIR`, else
/// `$XDG_CONFIG_HOME/auditledger/keys`, else `$HOME/.config/auditledger/keys`. Outside
/// every ledger directory, so copying or restoring a ledger never carries its key.
pub fn default_key_dir() -> Option<PathBuf> {
    let var = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    var(KEY_DIR_ENV)
        .or_else(|| var("XDG_CONFIG_HOME").map(|d| d.join("auditledger/keys")))
        .or_else(|| var("HOME").map(|d| d.join(".config/auditledger/keys")))
}

/// The default key file of a ledger whose genesis key is `genesis`: named by the origin
/// and the genesis key's id, which never change (a rotation replaces the file's content).
pub fn default_key_path(dir: &Path, genesis: &NoteVerifier) -> PathBuf {
    let name: String = genesis
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    dir.join(format!("{name}+{:08x}.key", genesis.id))
}

/// The key file a writer of `ledger` uses when none is named: `<ledger>/signing.key` when
/// it exists (ledgers created before keys moved out of the directory), else the default
/// key file of the ledger's genesis key in the key directory
/// ([`default_key_dir`]); `<ledger>/signing.key` when there is no key directory.
pub fn key_path(key_file: Option<&Path>, ledger: &Path) -> PathBuf {
    if let Some(k) = key_file {
        return k.to_path_buf();
    }
    let inside = ledger.join(DEFAULT_KEY_FILE);
    if inside.exists() {
        return inside;
    }
    match (default_key_dir(), Ledger::genesis_key(ledger)) {
        (Some(dir), Ok(genesis)) => default_key_path(&dir, &genesis),
        _ => inside,
    }
}

/// A new ledger, and the key file written for it when no key was supplied.
pub struct Initialised {
    pub ledger: Ledger,
    pub wrote_key: Option<PathBuf>,
}

/// Creates the ledger in `dir`; generates and writes a key unless one is supplied (the
/// key text from the environment, or an existing `key_file`).
pub fn init_ledger(
    dir: &Path,
    key_file: Option<&Path>,
    env_key: Option<&str>,
    origin: &str,
) -> Result<Initialised, AppError> {
    if !crate::tlog::note::is_valid_name(origin) {
        return Err(AppError::Invalid(format!(
            "--origin {origin:?} must be non-empty, with no spaces or '+'"
        )));
    }
    if dir.exists() && !dir.is_dir() {
        return Err(AppError::Invalid(format!(
            "{} is a file, not a directory: name a directory for the new ledger",
            dir.display()
        )));
    }
    if dir.join(crate::ledger::META_FILE).exists()
        || dir.join(crate::ledger::legacy::SLED_DIR).exists()
    {
        return Err(LedgerError::AlreadyExists {
            dir: dir.to_path_buf(),
        }
        .into());
    }
    let (signer, wrote_key) = if let Some(text) = env_key {
        let path = key_file.map_or_else(|| dir.join(DEFAULT_KEY_FILE), Path::to_path_buf);
        (keys::load_signer(&path, Some(text))?, None)
    } else if let Some(path) = key_file.filter(|p| p.exists()) {
        (keys::load_signer(path, None)?, None)
    } else {
        let signer = NoteSigner::generate(origin)?;
        // By default the key lives outside the ledger directory, so a copy or backup of
        // the directory never carries the power to sign for it.
        let path = match (key_file, default_key_dir()) {
            (Some(p), _) => p.to_path_buf(),
            (None, Some(keydir)) => {
                std::fs::create_dir_all(&keydir).map_err(io(format!(
                    "creating the key directory {}",
                    keydir.display()
                )))?;
                default_key_path(&keydir, signer.verifier())
            }
            (None, None) => dir.join(DEFAULT_KEY_FILE),
        };
        std::fs::create_dir_all(dir).map_err(io(format!("creating {}", dir.display())))?;
        keys::write_key_file(&path, &signer)?;
        (signer, Some(path))
    };
    if signer.verifier().name != origin {
        return Err(AppError::Invalid(format!(
            "the supplied key is named {:?}, but the origin is {origin:?}; a checkpoint's key name must match its origin",
            signer.verifier().name
        )));
    }
    Ok(Initialised {
        ledger: Ledger::init(dir, signer)?,
        wrote_key,
    })
}

// ---- ingest --------------------------------------------------------------------------------

/// What became of one file of an ingest run.
#[derive(Debug)]
pub enum FileOutcome {
    /// Committed whole (or, for a dry run, would have been).
    Done(IngestSummary),
    /// A well-formed empty export (`[]`, a header-only CSV): nothing to do.
    NoRecords(String),
    /// Nothing of it committed; the error says why.
    Refused(IngestError),
    /// Stopped by SIGINT/SIGTERM; nothing of it committed.
    Interrupted,
    /// Not tried: the run was interrupted before it.
    NotTried,
    /// The ledger failed while committing it: the run stops here.
    Failed(String),
}

impl FileOutcome {
    pub fn failed(&self) -> bool {
        matches!(
            self,
            FileOutcome::Refused(_)
                | FileOutcome::Interrupted
                | FileOutcome::NotTried
                | FileOutcome::Failed(_)
        )
    }
}

/// Ingests every file in turn with `source` (`auto` recognises each file's format).
/// `progress(file, bytes read, file length)` and `done(file, outcome)` are called as it
/// goes. A ledger failure ends the run with the error after `done` was told of the file.
/// `stdin` is standard input spooled before the ledger was opened ([`spool_stdin`]), for
/// the file `-`.
pub fn ingest_files(
    ledger: &mut Ledger,
    files: &[PathBuf],
    stdin: &mut Option<Input>,
    source: &str,
    opts: &IngestOptions,
    progress: &mut dyn FnMut(&Path, u64, u64),
    done: &mut dyn FnMut(&Path, &FileOutcome),
) -> Result<Vec<(PathBuf, FileOutcome)>, AppError> {
    let mut outcomes: Vec<(PathBuf, FileOutcome)> = Vec::new();
    let mut interrupted = false;
    let mut dry_run_so_far = DryRunSoFar::default();
    for file in files {
        let outcome = if interrupted {
            FileOutcome::NotTried
        } else {
            let spooled = if file.as_path() == Path::new("-") {
                stdin.take()
            } else {
                None
            };
            match ingest_one(
                ledger,
                file,
                spooled,
                source,
                opts,
                &mut dry_run_so_far,
                progress,
            ) {
                Err(IngestError::Ledger(e)) => {
                    done(file, &FileOutcome::Failed(e.to_string()));
                    return Err(e.into());
                }
                Err(IngestError::Interrupted { .. }) => {
                    interrupted = true;
                    FileOutcome::Interrupted
                }
                Err(e @ IngestError::NoRecords { .. }) => FileOutcome::NoRecords(e.to_string()),
                Err(e) => FileOutcome::Refused(e),
                Ok(summary) => FileOutcome::Done(summary),
            }
        };
        if !interrupted
            && opts
                .interrupt
                .as_ref()
                .is_some_and(|i| i.load(Ordering::Relaxed))
        {
            interrupted = true;
        }
        done(file, &outcome);
        outcomes.push((file.clone(), outcome));
    }
    Ok(outcomes)
}

fn ingest_one(
    ledger: &mut Ledger,
    file: &Path,
    spooled: Option<Input>,
    source: &str,
    opts: &IngestOptions,
    so_far: &mut DryRunSoFar,
    progress: &mut dyn FnMut(&Path, u64, u64),
) -> Result<IngestSummary, IngestError> {
    let mut input = match spooled {
        Some(input) => input,
        None => Input::open(file)?,
    };
    let src: &dyn Source = if source == "auto" {
        detect_source(&mut input)?
    } else {
        sources::by_name(source).ok_or_else(|| IngestError::Unreadable {
            file: file.display().to_string(),
            problem: format!("unknown --source {source:?}; `auditledger sources` lists them"),
        })?
    };
    let len = input.len;
    ingest_file_after(ledger, &input, src, opts, so_far, &mut |n| {
        progress(file, n, len)
    })
}

/// Standard input read to its end, when `-` is among `files`. A writer calls it before
/// it takes the ledger's lock and its signal handler: an exporter that hangs then keeps
/// no lock, and a stop signal ends the process at once (nothing is written yet).
pub fn spool_stdin(files: &[PathBuf]) -> Result<Option<Input>, AppError> {
    if files.iter().any(|f| f.as_path() == Path::new("-")) {
        Ok(Some(Input::open(Path::new("-"))?))
    } else {
        Ok(None)
    }
}

/// Appends a file of already-normalised events: the ingest pipeline with the `events`
/// source, so the same validation, de-duplication and error reporting apply.
pub fn append_file(
    ledger: &mut Ledger,
    file: &Path,
    stdin: &mut Option<Input>,
    batch: usize,
) -> Result<IngestSummary, AppError> {
    let spooled = if file == Path::new("-") {
        stdin.take()
    } else {
        None
    };
    let input = match spooled {
        Some(input) => input,
        None => Input::open(file)?,
    };
    let opts = IngestOptions {
        batch,
        ..Default::default()
    };
    Ok(ingest_file(
        ledger,
        &input,
        &sources::normalised::Normalised,
        &opts,
        &mut |_| {},
    )?)
}

// ---- policy and reports --------------------------------------------------------------------

/// The policy file, or the standard profile's defaults.
pub fn load_policy(path: Option<&Path>) -> Result<Policy, AppError> {
    match path {
        None => Ok(Policy::defaults(Profile::Standard)),
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .map_err(io(format!("reading policy {}", p.display())))?;
            Ok(Policy::from_toml(&p.display().to_string(), &text)?)
        }
    }
}

/// `--as-of`: an RFC 3339 time, or a date meaning the end of that day in UTC.
pub fn parse_as_of(text: &str) -> Result<Timestamp, AppError> {
    if let Ok(d) = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        let end = d
            .succ_opt()
            .unwrap_or(d)
            .and_hms_opt(0, 0, 0)
            .unwrap_or_default();
        return Ok(Timestamp(end.and_utc().timestamp_micros() - 1));
    }
    Timestamp::parse_rfc3339(text).map_err(|e| match e {
        TimeError::NoSuchTime(_) => AppError::Invalid(format!("--as-of: {e}")),
        _ => AppError::Invalid(format!(
            "--as-of {text:?}: expected an RFC 3339 time with an offset or a date YYYY-MM-DD"
        )),
    })
}

/// A full verification, as every report and bundle needs first.
pub fn verify_fully(ledger: &Ledger) -> Result<Verified, AppError> {
    verify(ledger, &VerifyOptions::default()).map_err(|f| AppError::Integrity(f.to_string()))
}

/// What report to build, as the command line says it.
#[derive(Clone, Debug, Default)]
pub struct ReportRequest {
    /// soc2, hipaa, access-after-expiry, sprint-review or upcoming.
    pub kind: String,
    /// Comma-separated: pdf, csv, json, oscal.
    pub formats: String,
    pub from: Option<String>,
    pub to: Option<String>,
    pub sprint: Option<String>,
    pub days: u32,
    pub now: Option<String>,
    pub as_of: Option<String>,
    pub policy: Option<PathBuf>,
    /// Accept a `--now` or `--as-of` in the future (a dry run of a coming report).
    pub allow_future: bool,
}

/// The earliest and latest dates a report period may name (what OSCAL and the PDF hold).
const FIRST_YEAR: i32 = 1970;
const LAST_YEAR: i32 = 2999;

fn parse_date(flag: &str, text: &str) -> Result<chrono::NaiveDate, AppError> {
    use chrono::Datelike;
    let d = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|e| {
        AppError::Invalid(match e.kind() {
            chrono::format::ParseErrorKind::OutOfRange => {
                format!("{flag} {text:?}: no such date (a day or month past its last)")
            }
            _ => format!("{flag} {text:?}: expected a date YYYY-MM-DD"),
        })
    })?;
    if !(FIRST_YEAR..=LAST_YEAR).contains(&d.year()) {
        return Err(AppError::Invalid(format!(
            "{flag} {text:?}: expected a date between {FIRST_YEAR}-01-01 and {LAST_YEAR}-12-31"
        )));
    }
    Ok(d)
}

/// The first day of the quarter `day` falls in.
pub fn quarter_start(day: chrono::NaiveDate) -> chrono::NaiveDate {
    use chrono::Datelike;
    let month = (day.month0() / 3) * 3 + 1;
    chrono::NaiveDate::from_ymd_opt(day.year(), month, 1).unwrap_or(day)
}

/// The period a report covers. The evidence reports (SOC 2, HIPAA, access after expiry)
/// always have one: `--to` defaults to today (the report's time), `--from` to the first
/// day of the quarter `--to` falls in. The sprint review and the upcoming-expiry report
/// have their own windows and take a period only when both flags are given.
pub fn report_period(
    kind: ReportKind,
    from: Option<&str>,
    to: Option<&str>,
    today: chrono::NaiveDate,
) -> Result<Option<(chrono::NaiveDate, chrono::NaiveDate)>, AppError> {
    let from = from.map(|t| parse_date("--from", t)).transpose()?;
    let to = to.map(|t| parse_date("--to", t)).transpose()?;
    let evidence = matches!(
        kind,
        ReportKind::Soc2 | ReportKind::Hipaa | ReportKind::AccessAfterExpiry
    );
    let period = match (from, to) {
        (Some(f), Some(t)) => Some((f, t)),
        (None, None) if !evidence => None,
        (f, t) => {
            let t = t.unwrap_or(today);
            Some((f.unwrap_or_else(|| quarter_start(t)), t))
        }
    };
    if let Some((f, t)) = period {
        if f > t {
            return Err(AppError::Invalid(format!("--from {f} is after --to {t}")));
        }
    }
    Ok(period)
}

/// An RFC 3339 time for `flag`, refused when it is in the future unless allowed.
pub fn parse_time(flag: &str, text: &str, allow_future: bool) -> Result<Timestamp, AppError> {
    let at = Timestamp::parse_rfc3339(text).map_err(|e| match e {
        TimeError::NoSuchTime(_) => AppError::Invalid(format!("{flag}: {e}")),
        // A date alone would leave open which moment of the day, and in which zone.
        _ if chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok() => {
            AppError::Invalid(format!(
                "{flag} {text:?}: expected a time with an offset, not a date alone \
                 (e.g. {text}T09:00:00Z)"
            ))
        }
        _ => AppError::Invalid(format!(
            "{flag} {text:?}: expected an RFC 3339 time with an offset"
        )),
    })?;
    refuse_future(flag, text, at, allow_future)?;
    Ok(at)
}

/// A report or check "as of" a time that has not come yet states facts nobody has seen.
/// A minute of slack covers clocks that disagree a little.
pub fn refuse_future(
    flag: &str,
    text: &str,
    at: Timestamp,
    allow_future: bool,
) -> Result<(), AppError> {
    let now = Timestamp::now();
    if !allow_future && at.0 > now.0 + 60_000_000 {
        return Err(AppError::Invalid(format!(
            "{flag} {text:?} is in the future (now is {}); pass --allow-future to evaluate as of a time to come",
            now.to_rfc3339()
        )));
    }
    Ok(())
}

/// A report's files: (name, bytes).
pub type Files = Vec<(String, Vec<u8>)>;

/// Writes the auditor bundle of a report made by [`make_report`] into `out`: its files, the
/// entries it cites with their raw records and proofs, at the tree size it attests.
pub fn write_report_bundle(
    ledger: &Ledger,
    verified: &Verified,
    signer: &NoteSigner,
    report: &Report,
    files: &Files,
    out: &Path,
) -> Result<crate::export::BundleSummary, AppError> {
    let cited: Vec<u64> = report.evidence.iter().map(|e| e.seq).collect();
    Ok(crate::export::write_bundle(
        ledger,
        verified,
        signer,
        report.attestation.tree_size,
        files,
        &cited,
        out,
    )?)
}

/// Builds a report from a verified ledger and renders its files.
pub fn make_report(
    ledger: &Ledger,
    verified: &Verified,
    req: &ReportRequest,
) -> Result<(Report, Files), AppError> {
    use crate::report::render::Format as Out;
    let kind = ReportKind::parse(&req.kind).ok_or_else(|| {
        AppError::Invalid(format!(
            "report {:?}: expected soc2, hipaa, access-after-expiry, sprint-review or upcoming",
            req.kind
        ))
    })?;
    let formats = req
        .formats
        .split(',')
        .map(|f| {
            Out::parse(f).ok_or_else(|| {
                AppError::Invalid(format!("--format {f:?}: expected pdf, csv, json or oscal"))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let now = req
        .now
        .as_deref()
        .map(|t| parse_time("--now", t, req.allow_future))
        .transpose()?;
    let as_of = req
        .as_of
        .as_deref()
        .map(|t| {
            let at = parse_as_of(t)?;
            refuse_future("--as-of", t, at, req.allow_future)?;
            Ok::<_, AppError>(at)
        })
        .transpose()?;
    let today = now
        .unwrap_or_else(Timestamp::now_seconds)
        .to_datetime()
        .date_naive();
    let period = report_period(kind, req.from.as_deref(), req.to.as_deref(), today)?;
    let opts = crate::report::Options {
        period,
        sprint: req.sprint.clone(),
        days: req.days,
        as_of,
        now,
    };
    let policy = load_policy(req.policy.as_deref())?;
    let report = crate::report::generate(ledger, verified, &policy, kind, &opts)?;
    let files = crate::report::render_files(&report, &formats)?;
    Ok((report, files))
}

/// Writes each file through a temporary beside it, so a failure leaves no half file.
pub fn write_report_files(out: &Path, files: &[(String, Vec<u8>)]) -> Result<(), AppError> {
    std::fs::create_dir_all(out).map_err(io(format!("creating {}", out.display())))?;
    for (name, bytes) in files {
        let path = out.join(name);
        let context = format!("writing {}", path.display());
        let mut tmp = tempfile::NamedTempFile::new_in(out).map_err(io(context.clone()))?;
        tmp.write_all(bytes).map_err(io(context.clone()))?;
        tmp.persist(&path).map_err(|e| AppError::Io {
            context,
            source: e.error,
        })?;
    }
    Ok(())
}

// ---- demo ----------------------------------------------------------------------------------

/// The demo's clock: the fixtures are the first quarter of 2026, reported on the morning
/// after it ends; the weekly report is taken a week before the first contracts end.
pub const DEMO_NOW: &str = "2026-04-01T09:00:00Z";
pub const DEMO_UPCOMING_NOW: &str = "2026-03-09T16:00:00Z";
pub const DEMO_ORIGIN: &str = "demo.auditledger.example/contractor-access";

/// The quarter's input files: the roster first (so ingest can name people), then the rest.
pub fn quarter_inputs(dir: &Path) -> Result<Vec<PathBuf>, AppError> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io(format!("reading {}", dir.display())))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let name = p.file_name().unwrap_or_default().to_string_lossy();
            !name.ends_with(".md") && !name.starts_with("expected-")
        })
        .collect();
    files.sort_by_key(|p| (!p.ends_with("roster.csv"), p.clone()));
    Ok(files)
}

/// What the demo did, step by step, for the CLI to tell.
#[derive(Debug)]
pub struct DemoReport {
    pub ledger_dir: PathBuf,
    pub origin: String,
    /// (source, file, events read, events added).
    pub ingested: Vec<(String, PathBuf, u64, u64)>,
    /// Re-ingesting the Okta export: (added, duplicates).
    pub again: (u64, u64),
    pub verified_entries: u64,
    pub verified_checkpoints: u64,
    pub profile: String,
    /// The policy file the check read.
    pub policy_path: PathBuf,
    pub people: usize,
    pub findings_path: PathBuf,
    /// Findings per severity, highest first, non-zero only.
    pub by_severity: Vec<(Severity, usize)>,
    /// (severity, summary) of the high and critical findings.
    pub headlines: Vec<(Severity, String)>,
    pub findings: usize,
    /// (kind, PDF path, file count, findings).
    pub reports: Vec<(String, PathBuf, usize, usize)>,
    pub bundle: PathBuf,
    pub cited: usize,
    pub manifest_b3: String,
    pub checkpoint_path: PathBuf,
    pub checkpoint: String,
    pub verifier_key_path: PathBuf,
    /// The throwaway ledger's signing key, beside it in the output directory.
    pub signing_key_path: PathBuf,
    pub verifier_key: String,
}

/// The whole path on the bundled fixtures: a new ledger, the quarter ingested, verified,
/// checked, every report in every format, an auditor bundle, the checkpoint and key.
pub fn demo(fixtures: &Path, out: &Path) -> Result<DemoReport, AppError> {
    let quarter = fixtures.join("quarter");
    if !quarter.is_dir() {
        return Err(AppError::Invalid(format!(
            "{} not found: run the demo from the repository root",
            quarter.display()
        )));
    }
    std::fs::create_dir_all(out).map_err(io(format!("creating {}", out.display())))?;
    let dir = out.join("demo-ledger");
    let bundle = out.join("bundle-soc2");
    for (path, marker) in [
        (&dir, crate::ledger::CHECKPOINT_LOG),
        (&bundle, "MANIFEST.b3"),
    ] {
        if path.exists() {
            if !path.join(marker).exists() {
                return Err(AppError::Invalid(format!(
                    "{} exists and is not the demo's; move it away",
                    path.display()
                )));
            }
            std::fs::remove_dir_all(path)
                .map_err(io(format!("removing old {}", path.display())))?;
        }
    }
    // The demo's throwaway key sits beside its ledger in `out`, not among the user's keys.
    let key_file = out.join("demo-signing.key");
    if key_file.exists() {
        std::fs::remove_file(&key_file)
            .map_err(io(format!("removing old {}", key_file.display())))?;
    }
    let mut ledger = init_ledger(&dir, Some(&key_file), None, DEMO_ORIGIN)?.ledger;
    // The bundle's manifest is signed with the ledger's key, as `export` does.
    let signer = keys::load_signer(&key_file, None)?;
    let opts = IngestOptions::default();
    let mut ingested = Vec::new();
    for path in quarter_inputs(&quarter)? {
        let mut input = Input::open(&path)?;
        let src = detect_source(&mut input)?;
        let s = ingest_file(&mut ledger, &input, src, &opts, &mut |_| {})?;
        ingested.push((src.name().to_string(), path, s.events, s.added));
    }
    let okta = quarter.join("okta-system-log.json");
    let again = ingest_file(
        &mut ledger,
        &Input::open(&okta)?,
        &sources::okta::Okta,
        &opts,
        &mut |_| {},
    )?;
    let verified = verify_fully(&ledger)?;
    let policy_path = fixtures.join("policy.toml");
    let policy = load_policy(Some(&policy_path))?;
    let now = Timestamp::parse_rfc3339(DEMO_NOW).map_err(|e| AppError::Invalid(e.to_string()))?;
    let (check, _) = crate::policy::check_with_facts(&ledger, &policy, None, Some(now))?;
    let findings_path = out.join("findings.json");
    let json = serde_json::to_string_pretty(&check)
        .map_err(|e| AppError::Invalid(format!("findings as JSON: {e}")))?;
    std::fs::write(&findings_path, json + "\n")
        .map_err(io(format!("writing {}", findings_path.display())))?;
    let by_severity = Severity::ALL
        .into_iter()
        .rev()
        .map(|sev| {
            (
                sev,
                check.findings.iter().filter(|f| f.severity == sev).count(),
            )
        })
        .filter(|(_, n)| *n > 0)
        .collect();
    let headlines = check
        .findings
        .iter()
        .filter(|f| f.severity >= Severity::High)
        .map(|f| (f.severity, f.summary.clone()))
        .collect();
    // The evidence reports cover the quarter; the sprint and weekly reports their own window.
    let covers_quarter = |kind: &str| matches!(kind, "soc2" | "hipaa" | "access-after-expiry");
    let request = |kind: &str, now: &str| ReportRequest {
        kind: kind.into(),
        formats: "pdf,csv,json,oscal".into(),
        from: covers_quarter(kind).then(|| "2026-01-01".into()),
        to: covers_quarter(kind).then(|| "2026-03-31".into()),
        sprint: None,
        days: 14,
        now: Some(now.into()),
        as_of: None,
        policy: Some(fixtures.join("policy.toml")),
        allow_future: false,
    };
    let runs = [
        request("soc2", DEMO_NOW),
        request("hipaa", DEMO_NOW),
        request("access-after-expiry", DEMO_NOW),
        ReportRequest {
            sprint: Some("auth-5".into()),
            ..request("sprint-review", DEMO_NOW)
        },
        request("upcoming", DEMO_UPCOMING_NOW),
    ];
    let mut soc2 = None;
    let mut reports = Vec::new();
    for req in &runs {
        let (report, files) = make_report(&ledger, &verified, req)?;
        write_report_files(out, &files)?;
        let pdf = files
            .iter()
            .find(|(n, _)| n.ends_with(".pdf"))
            .map(|(n, _)| n.clone())
            .unwrap_or_default();
        reports.push((
            report.kind.as_str().to_string(),
            out.join(pdf),
            files.len(),
            report.findings.len(),
        ));
        if report.kind == ReportKind::Soc2 {
            soc2 = Some((report, files));
        }
    }
    let (report, files) =
        soc2.ok_or_else(|| AppError::Invalid("the demo writes a SOC 2 report".into()))?;
    let summary = write_report_bundle(&ledger, &verified, &signer, &report, &files, &bundle)?;
    let checkpoint = ledger.latest_checkpoint()?;
    let checkpoint_path = out.join("checkpoint.txt");
    std::fs::write(&checkpoint_path, &checkpoint)
        .map_err(io(format!("writing {}", checkpoint_path.display())))?;
    let verifier_key = ledger.current_key().to_string();
    let verifier_key_path = out.join("verifier-key.txt");
    std::fs::write(&verifier_key_path, format!("{verifier_key}\n"))
        .map_err(io(format!("writing {}", verifier_key_path.display())))?;
    Ok(DemoReport {
        ledger_dir: dir,
        origin: DEMO_ORIGIN.into(),
        ingested,
        again: (again.added, again.duplicates),
        verified_entries: verified.report().size,
        verified_checkpoints: verified.report().checkpoints_checked,
        profile: check.policy_profile.to_string(),
        people: check.people.len(),
        findings_path,
        policy_path,
        by_severity,
        headlines,
        findings: check.findings.len(),
        reports,
        bundle,
        cited: report.evidence.len(),
        manifest_b3: summary.manifest_b3,
        checkpoint_path,
        checkpoint,
        verifier_key_path,
        signing_key_path: key_file,
        verifier_key,
    })
}
