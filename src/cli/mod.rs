//! The command line behind `main.rs`: each subcommand opens the ledger, calls the library
//! and prints what it returns. `args` holds the flags; `run` dispatches; `commands` holds
//! the longer subcommands; `print` turns results into lines. Only this module prints,
//! besides `main.rs`'s one line for the error a run ends with.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use clap::CommandFactory;

use auditledger::app::{self, FileOutcome};
use auditledger::ingest::{IngestError, IngestOptions, IngestSummary};
use auditledger::ledger::entry::Payload;
use auditledger::ledger::keys::KEY_ENV;
use auditledger::ledger::verify::{verify_with_progress, VerifyFailure, VerifyOptions};
use auditledger::ledger::{Access, KeySource, Ledger};
use auditledger::policy::config::{Policy, Profile};
use auditledger::policy::finding::Severity;
use auditledger::sources;
use auditledger::tlog::merkle::{from_hex32, to_hex};
use auditledger::tlog::note::NoteVerifier;
use auditledger::tlog::proof::Proof;

use args::*;

/// `-q`: set once at start, read by [`say!`] and the progress bars.
pub(crate) static QUIET: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
/// `--color`, resolved against the terminal and NO_COLOR once at start.
pub(crate) static COLOR: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

pub(crate) fn quiet() -> bool {
    QUIET.load(std::sync::atomic::Ordering::Relaxed)
}

/// `println!` unless `-q`.
macro_rules! say {
    ($($arg:tt)*) => {
        if !quiet() {
            println!($($arg)*);
        }
    };
}

/// `print!` unless `-q`.
macro_rules! say_raw {
    ($($arg:tt)*) => {
        if !quiet() {
            print!($($arg)*);
        }
    };
}

pub(crate) mod args;
mod commands;
mod print;
mod run;

pub(crate) use run::run;

/// A policy gate that did not pass (`check --fail-on`): exit code 1, no "error:" prefix.
#[derive(Debug)]
pub(crate) struct GateFailure(String);
impl std::fmt::Display for GateFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for GateFailure {}

/// An integrity failure: exit code 1.
#[derive(Debug)]
pub(crate) struct IntegrityFailure(String);
impl std::fmt::Display for IntegrityFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for IntegrityFailure {}

pub(crate) fn env_key() -> Option<String> {
    std::env::var(KEY_ENV).ok().filter(|v| !v.trim().is_empty())
}

pub(crate) fn open_writer(cli: &Cli) -> Result<Ledger> {
    let key_file = app::key_path(cli.key_file.as_deref(), &cli.ledger);
    let env = env_key();
    let opened = Ledger::open_writer(
        &cli.ledger,
        KeySource {
            file: &key_file,
            env: env.as_deref(),
        },
    )?;
    if quiet() {
        return Ok(opened.ledger);
    }
    if let Some(path) = &opened.finished_rotation {
        eprintln!(
            "note: completed an interrupted key rotation: {} now holds the current key",
            path.display()
        );
    }
    let r = opened.ledger.recovery();
    if r.unacknowledged_log_bytes > 0 {
        eprintln!(
            "note: cut away {} bytes of a commit that was never acknowledged (a crash before its checkpoint was logged)",
            r.unacknowledged_log_bytes
        );
    }
    if r.erased_frames > 0 {
        eprintln!(
            "note: finished erasing {} raw-record bundle(s) of an interrupted redaction",
            r.erased_frames
        );
    }
    Ok(opened.ledger)
}

/// A progress bar on standard error when it is a terminal and the work is long enough to
/// want one; nothing in cron, CI or a pipe.
pub(crate) fn verify_progress_bar(total: u64) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if quiet() || total < 100_000 || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(total);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "verifying {bar:40} {pos}/{len} entries ({per_sec}, {eta} left)",
    ) {
        bar.set_style(style);
    }
    Some(bar)
}

/// Logs from the library (pull, serve) go to standard error; RUST_LOG overrides the level.
pub(crate) fn init_logging() {
    let default = if quiet() { "warn" } else { "info" };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(COLOR.load(std::sync::atomic::Ordering::Relaxed))
        .with_target(false)
        .try_init();
}

/// Text from the data (names, ids, reasons, record values) made safe for a terminal:
/// control characters other than newline and tab are written as `\u{1b}`, so a crafted
/// roster name cannot move the cursor, clear the screen or print over the real output.
pub(crate) fn terminal_safe(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() && c != '\n' && c != '\t' {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

pub(crate) fn open_reader(cli: &Cli) -> Result<Ledger> {
    Ok(Ledger::open(&cli.ledger, Access::Read)?)
}

/// [`open_reader`] for a command that prints a JSON document: an integrity failure found
/// while opening still prints one (`ok: false`, the first bad seq, the problem), as a
/// failure found later does.
pub(crate) fn open_reader_documented(cli: &Cli, format: Format) -> Result<Ledger> {
    Ledger::open(&cli.ledger, Access::Read).or_else(|e| {
        if format == Format::Json && e.is_integrity() {
            say_failure_document(e.first_bad_seq(), &e.to_string())?;
        }
        Err(e.into())
    })
}

pub(crate) fn say_failure_document(first_bad_seq: Option<u64>, problem: &str) -> Result<()> {
    say!(
        "{}",
        serde_json::to_string_pretty(&serde_json::json!({
            "ok": false,
            "first_bad_seq": first_bad_seq,
            "problem": problem,
        }))?
    );
    Ok(())
}

pub(crate) fn parse_pubkey(arg: &str) -> Result<NoteVerifier> {
    let text = if Path::new(arg).is_file() {
        fs::read_to_string(arg).with_context(|| format!("reading key file {arg}"))?
    } else if arg.contains(std::path::MAIN_SEPARATOR) && !arg.contains('+') {
        // A verifier key is `<name>+<id>+<base64>`; a path without `+` was meant as a file.
        bail!("--pubkey {arg:?}: no such file (give a verifier key, or a file holding one)");
    } else {
        arg.to_string()
    };
    NoteVerifier::parse(&text).with_context(|| format!("--pubkey {arg:?}"))
}

/// A progress bar on standard error when it is a terminal; hidden otherwise (cron, CI).
pub(crate) fn progress_bar(len: u64) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if quiet() || !std::io::stderr().is_terminal() || len < (8 << 20) {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} {bytes}/{total_bytes} [{bar:40}] {bytes_per_sec} eta {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar
}
