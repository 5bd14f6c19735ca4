//! The `auditledger` command line: parses arguments, calls the library, prints.
//!
//! Exit codes (for cron and CI):
//! - 0: success; for `verify` and `verify-proof`, everything checked out.
//! - 1: integrity failure: the ledger, a proof or a checkpoint does not verify.
//! - 2: usage, input or I/O error (bad flags, unreadable file, bad record, locked ledger).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use clap::{CommandFactory, Parser, Subcommand, ValueEnum};

use auditledger::app::{self, FileOutcome};
use auditledger::ingest::{IngestError, IngestOptions, IngestSummary};
use auditledger::ledger::entry::Payload;
use auditledger::ledger::keys::KEY_ENV;
use auditledger::ledger::verify::{verify_with_progress, VerifyFailure, VerifyOptions};
use auditledger::ledger::{Access, KeySource, Ledger, LedgerError};
use auditledger::policy::config::{Policy, Profile};
use auditledger::policy::finding::Severity;
use auditledger::sources;
use auditledger::tlog::merkle::{from_hex32, to_hex};
use auditledger::tlog::note::NoteVerifier;
use auditledger::tlog::proof::Proof;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "auditledger",
    version,
    about = "Immutable audit ledger and compliance reporter for contractor access"
)]
struct Cli {
    /// The ledger directory.
    #[arg(long, global = true, env = "AUDITLEDGER_DIR", default_value = "ledger")]
    ledger: PathBuf,
    /// The signing key file (default: the ledger's key in $AUDITLEDGER_KEY_DIR or
    /// ~/.config/auditledger/keys, where `init` puts it; <ledger>/signing.key for ledgers
    /// made before). The key may instead be given in the AUDITLEDGER_KEY environment variable.
    #[arg(long, global = true)]
    key_file: Option<PathBuf>,
    /// Print nothing on standard output and no progress or notes; errors still go to
    /// standard error, and the exit code says how it went (as `grep -q`).
    #[arg(short, long, global = true)]
    quiet: bool,
    /// Colour in logs: auto (only on a terminal, and not when NO_COLOR is set), always, never.
    #[arg(long, global = true, value_enum, default_value = "auto")]
    color: ColorChoice,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// `-q`: set once at start, read by [`say!`] and the progress bars.
static QUIET: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
/// `--color`, resolved against the terminal and NO_COLOR once at start.
static COLOR: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn quiet() -> bool {
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

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum Format {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Create a ledger and its signing key; prints the verifier key.
    ///
    /// Example: `auditledger init --origin acme.example/auditledger/prod`
    Init {
        /// The name this ledger signs every checkpoint with, and its key's name: a domain
        /// you control plus a path, e.g. acme.example/auditledger/prod. Permanent: every
        /// checkpoint, proof and bundle carries it, and verifiers check it.
        #[arg(long, required = true)]
        origin: String,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Append already-normalised events (one JSON object per line; `-` for stdin).
    Append {
        /// Files of normalised events, one JSON object per line (`-` reads standard input).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Events per durable commit.
        #[arg(long, default_value_t = 1000)]
        batch: usize,
        /// text, or JSON (one object per line for append's files).
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Ingest IdP exports and the team's records (`-` reads standard input).
    Ingest {
        /// The input format, or `auto` to recognise it from the content.
        #[arg(long, default_value = "auto")]
        source: String,
        /// Export files (`-` reads standard input).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Parse and report without writing anything.
        #[arg(long)]
        dry_run: bool,
        /// Commit the good records of a file with bad ones; write the bad ones to --rejects.
        #[arg(long)]
        skip_invalid: bool,
        /// Where --skip-invalid writes rejected records (default: FILE.rejects.jsonl).
        #[arg(long, requires = "skip_invalid")]
        rejects: Option<PathBuf>,
        /// Events staged at a time (each file is one commit).
        #[arg(long, default_value_t = 1000)]
        batch: usize,
        /// Refuse records larger than this many bytes.
        #[arg(long, default_value_t = auditledger::ingest::MAX_RECORD_BYTES)]
        max_record_bytes: usize,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Print a shell completion script, e.g. `auditledger completions bash >
    /// /etc/bash_completion.d/auditledger`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), e.g. `auditledger man > auditledger.1`.
    Man,
    /// List the input formats `ingest --source` accepts.
    Sources {
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Size, root, head, latest checkpoint and verifier key.
    Status {
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Print entries, one per line.
    Log {
        /// The first seq to print.
        #[arg(long, default_value_t = 0)]
        from: u64,
        /// Print at most this many entries (default: to the last checkpoint).
        #[arg(long)]
        limit: Option<u64>,
        /// text (a line per entry), or json (one object per line).
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Print the latest signed checkpoint exactly as signed.
    Checkpoint,
    /// Recompute and check every hash, link, root, signature and index.
    Verify {
        /// A signed checkpoint you held before; the ledger must still extend it.
        #[arg(long = "checkpoint")]
        checkpoints: Vec<PathBuf>,
        /// Trust only this verifier key (a key string or a file holding one).
        #[arg(long)]
        pubkey: Option<String>,
        /// json: the result on standard output, also when it fails (exit codes unchanged).
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Print an inclusion proof of SEQ, or a consistency proof with --consistency.
    Prove {
        /// The seq of the entry to prove included.
        seq: Option<u64>,
        /// Tree size to prove against (default: the current size).
        #[arg(long)]
        size: Option<u64>,
        /// Prove that the tree of OLD_SIZE entries is a prefix of the current one.
        #[arg(long, value_name = "OLD_SIZE", conflicts_with = "seq")]
        consistency: Option<u64>,
    },
    /// Check a proof without the ledger.
    VerifyProof {
        /// A proof file, as `prove` prints it.
        proof: PathBuf,
        /// The signed checkpoint you trust (for consistency: the old one).
        #[arg(long)]
        checkpoint: Option<PathBuf>,
        /// The verifier key (a key string or a file holding one).
        #[arg(long, required = true)]
        pubkey: String,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Check an auditor bundle offline, without the ledger.
    ///
    /// Example: `auditledger verify-bundle bundle/ --pubkey verifier-key-from-the-owner.txt`
    VerifyBundle {
        dir: PathBuf,
        /// The verifier key you trust, obtained independently of the bundle (a key string
        /// or a file holding one). Required unless --trust-bundle-key.
        #[arg(long)]
        pubkey: Option<String>,
        /// DANGEROUS: check signatures with the bundle's own verifier-key.txt. Whoever made
        /// the bundle chose that key, so this shows only that the bundle is self-consistent.
        #[arg(long, conflicts_with = "pubkey")]
        trust_bundle_key: bool,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Convert a ledger written by release 0.1 (a `sled/` store) to the current layout,
    /// keeping every entry's bytes, so every checkpoint it signed still verifies.
    Migrate {
        /// The result as text, or as one JSON object.
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Replace the signing key; the hand-over is a ledger entry signed by both keys.
    RotateKey {
        /// Where to write the new key (default: replace the key file).
        #[arg(long)]
        new_key_file: Option<PathBuf>,
        /// The result as text, or as one JSON object.
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Remove a raw record's bytes (e.g. an erasure request); recorded as an entry.
    Redact {
        /// The raw record's BLAKE3 hash, 64 hex digits (as `log --format json` shows it).
        raw_hash: String,
        /// Why it is erased; recorded in the redaction entry.
        #[arg(long, required = true)]
        reason: String,
        /// The result as text, or as one JSON object.
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Check the ledger against the policy; exit 1 when a finding reaches --fail-on.
    Check {
        /// The policy file (default: the standard profile's defaults).
        #[arg(long)]
        policy: Option<PathBuf>,
        /// Evaluate the ledger as it stood then: only entries committed by that time
        /// (RFC 3339, or a date meaning the end of that day UTC).
        #[arg(long)]
        as_of: Option<String>,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
        /// Lowest severity that fails the check (info, low, medium, high, critical, none).
        #[arg(long, default_value = "critical")]
        fail_on: String,
        /// Evaluate the policy at this time (RFC 3339) instead of the --as-of time or the
        /// latest checkpoint's, over the same entries: what a report pinned with --now
        /// states, and how the demo's check is reproduced.
        #[arg(long)]
        now: Option<String>,
        /// Accept an --as-of or --now in the future.
        #[arg(long)]
        allow_future: bool,
    },
    /// Write a report (soc2, hipaa, access-after-expiry, sprint-review, upcoming).
    Report {
        #[command(flatten)]
        args: ReportArgs,
        /// Where to write the files.
        #[arg(long, default_value = "reports")]
        out: PathBuf,
        /// How to print what was written (--format names the files' formats), as cargo's
        /// --message-format: text, or one JSON object on standard output.
        #[arg(long, value_enum, default_value = "text")]
        message_format: Format,
    },
    /// Write an auditor bundle: the report, the events it cites with their raw records,
    /// an inclusion proof for each, the checkpoint, the public key and a BLAKE3 manifest.
    Export {
        #[command(flatten)]
        args: ReportArgs,
        /// The bundle directory (must not exist, or be empty).
        #[arg(long, required = true)]
        out: PathBuf,
        /// How to print what was written: text, or one JSON object on standard output.
        #[arg(long, value_enum, default_value = "text")]
        message_format: Format,
    },
    /// Work with policy files.
    Policy {
        #[command(subcommand)]
        command: PolicyCommand,
    },
    /// Poll the IdPs' log APIs named in a config file and commit what they return, each page
    /// with its cursor (see `auditledger config init`).
    ///
    /// Example: `OKTA_API_TOKEN=… auditledger pull --config intake.toml --once` (cron).
    Pull {
        /// The live intake config (TOML).
        #[arg(long)]
        config: PathBuf,
        /// Page every source until it has nothing new, then exit; without it, poll at each
        /// source's interval until SIGINT/SIGTERM.
        #[arg(long)]
        once: bool,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Run the pull loops and an HTTP server for the IdPs' pushes (Okta Event Hooks, GitHub
    /// webhooks, Standard Webhooks), /healthz, /status and /metrics, until SIGTERM/SIGINT.
    ///
    /// Example: `auditledger serve --config /etc/auditledger/intake.toml` (a systemd unit is
    /// in the README, "Running it continuously").
    Serve {
        /// The live intake config (TOML) with a [serve] section.
        #[arg(long)]
        config: PathBuf,
    },
    /// The live intake config file.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Run the whole path on the bundled fixtures, writing into reports/.
    Demo {
        #[arg(long, default_value = "fixtures")]
        fixtures: PathBuf,
        #[arg(long, default_value = "reports")]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Write a commented template with every key (to standard output, or --out FILE).
    Init {
        /// Where to write it; an existing file is not overwritten.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(clap::Args, Clone)]
struct ReportArgs {
    /// soc2, hipaa, access-after-expiry, sprint-review or upcoming.
    #[arg(
        long = "report",
        value_name = "KIND",
        required_unless_present = "kind_pos"
    )]
    kind_flag: Option<String>,
    #[arg(value_name = "KIND", hide = true)]
    kind_pos: Option<String>,
    /// First day of the period (YYYY-MM-DD, UTC). Default for soc2, hipaa and
    /// access-after-expiry: the first day of the quarter --to falls in.
    #[arg(long)]
    from: Option<String>,
    /// Last day of the period, inclusive. Default: today (or the day of --now).
    #[arg(long)]
    to: Option<String>,
    /// The sprint id, for sprint-review.
    #[arg(long)]
    sprint: Option<String>,
    /// The window of the upcoming report, in days.
    #[arg(long, default_value_t = 14)]
    days: u32,
    /// Formats, comma-separated: pdf, csv, json, oscal.
    #[arg(long, default_value = "pdf,csv,json,oscal")]
    format: String,
    /// Pin the generation time (RFC 3339), for reproducible reports.
    #[arg(long)]
    now: Option<String>,
    /// Evaluate the ledger as it stood then (see check --as-of).
    #[arg(long)]
    as_of: Option<String>,
    /// The policy file (default: the standard profile's defaults).
    #[arg(long)]
    policy: Option<PathBuf>,
    /// Accept a --now or --as-of in the future (refused otherwise: it states facts nobody
    /// has seen yet).
    #[arg(long)]
    allow_future: bool,
}

#[derive(Subcommand)]
enum PolicyCommand {
    /// Write a policy file with every setting at its default and a comment for each.
    Init {
        #[arg(long, default_value = "standard")]
        profile: String,
        /// Where to write it (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Replace an existing file.
        #[arg(long)]
        force: bool,
    },
}

/// A policy gate that did not pass (`check --fail-on`): exit code 1, no "error:" prefix.
#[derive(Debug)]
struct GateFailure(String);
impl std::fmt::Display for GateFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for GateFailure {}

/// An integrity failure: exit code 1.
#[derive(Debug)]
struct IntegrityFailure(String);
impl std::fmt::Display for IntegrityFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for IntegrityFailure {}

fn main() -> ExitCode {
    // Die quietly on a closed pipe (`auditledger log | head`), as Unix tools do, instead of
    // panicking in println!.
    #[cfg(unix)]
    // SAFETY: called once at start-up, before any thread exists; restores the default action.
    #[allow(unsafe_code)]
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    QUIET.store(cli.quiet, std::sync::atomic::Ordering::Relaxed);
    let color = match cli.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::IsTerminal::is_terminal(&std::io::stderr())
        }
    };
    COLOR.store(color, std::sync::atomic::Ordering::Relaxed);
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) if err.downcast_ref::<GateFailure>().is_some() => {
            eprintln!("{}", terminal_safe(&err.to_string()));
            ExitCode::from(1)
        }
        Err(err) => {
            let integrity = err.downcast_ref::<IntegrityFailure>().is_some()
                || err.chain().any(|e| {
                    e.downcast_ref::<LedgerError>()
                        .is_some_and(LedgerError::is_integrity)
                        || e.downcast_ref::<app::AppError>()
                            .is_some_and(app::AppError::is_integrity)
                });
            eprintln!("error: {}", terminal_safe(&error_text(&err)));
            ExitCode::from(if integrity { 1 } else { 2 })
        }
    }
}

/// The error and its causes, each said once: many of ours show their cause in their own
/// message (`{context}: {source}`) and also hand it on as `source()`.
fn error_text(err: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if out.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}

fn env_key() -> Option<String> {
    std::env::var(KEY_ENV).ok().filter(|v| !v.trim().is_empty())
}

fn open_writer(cli: &Cli) -> Result<Ledger> {
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
fn verify_progress_bar(total: u64) -> Option<indicatif::ProgressBar> {
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
fn init_logging() {
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

fn load_intake_config(path: &Path) -> Result<auditledger::intake::config::Config> {
    Ok(auditledger::intake::config::Config::load(path, &|k| {
        std::env::var(k).ok()
    })?)
}

/// The CLI's ledger and key, unless the intake config names them.
fn with_config_paths(cli: &Cli, config: &auditledger::intake::config::Config) -> Cli {
    Cli {
        ledger: config.ledger.clone().unwrap_or_else(|| cli.ledger.clone()),
        key_file: config.key_file.clone().or_else(|| cli.key_file.clone()),
        quiet: cli.quiet,
        color: cli.color,
        command: Command::Man,
    }
}

fn pull_cmd(cli: &Cli, config_path: &Path, once: bool, format: Format) -> Result<()> {
    use auditledger::intake;
    init_logging();
    let config = load_intake_config(config_path)?;
    if config.pull.is_empty() {
        bail!("{}: no [[pull]] sources", config_path.display());
    }
    let ledger = open_writer(&with_config_paths(cli, &config))?;
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, stop.clone())
            .context("installing the interrupt handler")?;
    }
    let reports = intake::run_pull(&config, ledger, once, stop)?;
    if format == Format::Json {
        say!("{}", serde_json::to_string_pretty(&reports)?);
    } else {
        for r in &reports {
            say!(
                "{}: {} page(s), {} event(s) added, {} already present{}{}",
                r.stream,
                r.pages,
                r.added,
                r.duplicates,
                if r.rejected > 0 {
                    format!(", {} malformed record(s) refused", r.rejected)
                } else {
                    String::new()
                },
                if r.conflicts > 0 {
                    format!(", {} id conflict(s) (see `auditledger check`)", r.conflicts)
                } else {
                    String::new()
                }
            );
        }
    }
    Ok(())
}

fn serve_cmd(cli: &Cli, config_path: &Path) -> Result<()> {
    init_logging();
    let config = load_intake_config(config_path)?;
    if config.serve.is_none() {
        bail!(
            "{}: no [serve] section (listen = \"HOST:PORT\")",
            config_path.display()
        );
    }
    let ledger = open_writer(&with_config_paths(cli, &config))?;
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, stop.clone())
            .context("installing the interrupt handler")?;
    }
    auditledger::intake::serve::run_serve(&config, ledger, stop, &mut |addr| {
        // Scripts and tests wait for this line (the port may have been 0).
        say!("listening on {addr}");
        let _ = std::io::stdout().flush();
    })?;
    say!("stopped");
    Ok(())
}

/// Text from the data (names, ids, reasons, record values) made safe for a terminal:
/// control characters other than newline and tab are written as `\u{1b}`, so a crafted
/// roster name cannot move the cursor, clear the screen or print over the real output.
fn terminal_safe(text: &str) -> String {
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

fn open_reader(cli: &Cli) -> Result<Ledger> {
    Ok(Ledger::open(&cli.ledger, Access::Read)?)
}

/// [`open_reader`] for a command that prints a JSON document: an integrity failure found
/// while opening still prints one (`ok: false`, the first bad seq, the problem), as a
/// failure found later does.
fn open_reader_documented(cli: &Cli, format: Format) -> Result<Ledger> {
    Ledger::open(&cli.ledger, Access::Read).or_else(|e| {
        if format == Format::Json && e.is_integrity() {
            say_failure_document(e.first_bad_seq(), &e.to_string())?;
        }
        Err(e.into())
    })
}

fn say_failure_document(first_bad_seq: Option<u64>, problem: &str) -> Result<()> {
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

fn parse_pubkey(arg: &str) -> Result<NoteVerifier> {
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

/// `verify-bundle`: exit 0 when the bundle checks out, 1 for any integrity problem (all of
/// them listed), 2 when it cannot be read or the key is malformed.
fn verify_bundle_cmd(dir: &Path, pubkey: Option<&str>, format: Format) -> Result<()> {
    use auditledger::export::{verify_bundle, BundleError};
    let key = pubkey.map(parse_pubkey).transpose()?;
    let result = verify_bundle(dir, key.as_ref());
    if format == Format::Json {
        let doc = match &result {
            Ok(v) => serde_json::json!({
                "ok": true,
                "origin": v.origin,
                "tree_size": v.tree_size,
                "root": base64_root(&v.root),
                "signed_by": v.key_fingerprints,
                "key_supplied": v.key_supplied,
                "entries": v.entries,
                "raw_records": v.raw_records,
                "redacted": v.redacted,
                "report_files": v.report_files,
                "cited": v.cited,
                "files": v.files,
                "manifest_b3": v.manifest_b3,
            }),
            Err(BundleError::Integrity(problems)) => serde_json::json!({
                "ok": false,
                "problems": problems
                    .iter()
                    .map(|p| serde_json::json!({"file": p.file, "problem": p.problem}))
                    .collect::<Vec<_>>(),
            }),
            Err(_) => serde_json::Value::Null,
        };
        if !doc.is_null() {
            say!("{}", serde_json::to_string_pretty(&doc)?);
        }
        return match result {
            Ok(_) => Ok(()),
            Err(BundleError::Integrity(p)) => bail!(IntegrityFailure(format!(
                "FAILED: bundle {}: {} problem(s)",
                dir.display(),
                p.len()
            ))),
            Err(e) => Err(e.into()),
        };
    }
    match result {
        Ok(v) => {
            if !v.key_supplied {
                eprintln!(
                    "warning: no --pubkey given: the checkpoint was checked with the bundle's own verifier-key.txt, which shows only that the bundle is self-consistent; compare the key fingerprint below with one you obtained independently"
                );
            }
            say!("OK: bundle {}", dir.display());
            say!(
                "  checkpoint: origin {}, tree size {}, root {}",
                v.origin,
                v.tree_size,
                base64_root(&v.root)
            );
            say!(
                "  signed by:  {} ({})",
                v.key_fingerprints.join(", "),
                if v.key_supplied {
                    "the key you supplied"
                } else {
                    "key from the bundle, NOT independently supplied"
                }
            );
            say!(
                "  entries:    {} with inclusion proofs; {} raw record(s), {} redacted",
                v.entries.len(),
                v.raw_records,
                v.redacted
            );
            say!(
                "  report:     {} file(s); all {} cited seq(s) present",
                v.report_files,
                v.cited
            );
            say!(
                "  manifest:   {} files match MANIFEST.b3 (BLAKE3 of MANIFEST.b3: {})",
                v.files,
                v.manifest_b3
            );
            Ok(())
        }
        Err(BundleError::Integrity(problems)) => bail!(IntegrityFailure(format!(
            "FAILED: bundle {}: {} problem(s):\n{}",
            dir.display(),
            problems.len(),
            problems
                .iter()
                .map(|p| format!("  {p}"))
                .collect::<Vec<_>>()
                .join("\n")
        ))),
        Err(e) => Err(e.into()),
    }
}

fn run(cli: Cli) -> Result<()> {
    match &cli.command {
        Command::Init { origin, format } => {
            let origin = origin.clone();
            let env = env_key();
            let init = app::init_ledger(
                &cli.ledger,
                cli.key_file.as_deref(),
                env.as_deref(),
                &origin,
            )?;
            if *format == Format::Json {
                say!(
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({
                        "ledger": cli.ledger,
                        "origin": origin,
                        "key_file": init.wrote_key,
                        "verifier_key": init.ledger.current_key().to_string(),
                    }))?
                );
                return Ok(());
            }
            say!(
                "initialised ledger {} (origin {origin})",
                cli.ledger.display()
            );
            if let Some(path) = init.wrote_key {
                say!("signing key written to {} (mode 0600)", path.display());
            }
            say!("verifier key: {}", init.ledger.current_key());
        }
        Command::Append {
            files,
            batch,
            format,
        } => {
            let mut stdin = app::spool_stdin(files)?;
            let mut ledger = open_writer(&cli)?;
            for file in files {
                let s = app::append_file(&mut ledger, file, &mut stdin, *batch)?;
                print_ingest_summary(&s, *format)?;
            }
            if *format == Format::Text {
                say!("ledger size {}", ledger.size());
            }
        }
        Command::Ingest {
            source,
            files,
            dry_run,
            skip_invalid,
            rejects,
            batch,
            max_record_bytes,
            format,
        } => {
            if source != "auto" && auditledger::sources::by_name(source).is_none() {
                let hint = auditledger::sources::nearest_name(source)
                    .map(|n| format!("did you mean {n}? "))
                    .unwrap_or_default();
                bail!("unknown --source {source:?}: {hint}`auditledger sources` lists them");
            }
            let mut stdin = app::spool_stdin(files)?;
            let interrupt = Arc::new(AtomicBool::new(false));
            for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
                signal_hook::flag::register(signal, interrupt.clone())
                    .context("installing the interrupt handler")?;
            }
            let opts = IngestOptions {
                dry_run: *dry_run,
                skip_invalid: *skip_invalid,
                rejects: rejects.clone(),
                batch: *batch,
                max_record_bytes: *max_record_bytes,
                interrupt: Some(interrupt.clone()),
            };
            let mut ledger = if *dry_run {
                open_reader(&cli)?
            } else {
                open_writer(&cli)?
            };
            // Every file is tried; each is committed whole or not at all.
            let bar: std::cell::RefCell<Option<(PathBuf, indicatif::ProgressBar)>> =
                Default::default();
            let mut printed: Result<()> = Ok(());
            let outcomes = app::ingest_files(
                &mut ledger,
                files,
                &mut stdin,
                source,
                &opts,
                &mut |file, n, len| {
                    let mut bar = bar.borrow_mut();
                    if bar.as_ref().is_none_or(|(f, _)| f != file) {
                        *bar = Some((file.to_path_buf(), progress_bar(len)));
                    }
                    if let Some((_, b)) = bar.as_ref() {
                        b.set_position(n);
                    }
                },
                &mut |_, outcome| {
                    if let Some((_, b)) = bar.borrow_mut().take() {
                        b.finish_and_clear();
                    }
                    match outcome {
                        FileOutcome::Done(summary) => {
                            if printed.is_ok() {
                                printed = print_ingest_summary(summary, *format);
                            }
                        }
                        FileOutcome::NoRecords(why) => say!("{}", terminal_safe(why)),
                        FileOutcome::Refused(e) => {
                            eprintln!("error: {}", terminal_safe(&e.to_string()))
                        }
                        FileOutcome::Interrupted
                        | FileOutcome::NotTried
                        | FileOutcome::Failed(_) => {}
                    }
                },
            );
            printed?;
            let outcomes = match outcomes {
                Ok(o) => o,
                Err(e) => {
                    eprintln!("files: the ledger failed; the files after the one it failed on were not tried");
                    return Err(e.into());
                }
            };
            let lines: Vec<(String, String)> = outcomes
                .iter()
                .map(|(file, o)| (file.display().to_string(), outcome_line(o)))
                .collect();
            let failed = outcomes.iter().filter(|(_, o)| o.failed()).count();
            if files.len() > 1 || failed > 0 {
                print_outcomes(&lines);
            }
            if failed > 0 {
                let interrupted = outcomes
                    .iter()
                    .any(|(_, o)| matches!(o, FileOutcome::Interrupted));
                bail!(
                    "{failed} of {} file(s) were not ingested{}",
                    files.len(),
                    if interrupted { " (interrupted)" } else { "" }
                );
            }
        }
        Command::Completions { shell } => {
            clap_complete::generate(
                *shell,
                &mut Cli::command(),
                "auditledger",
                &mut std::io::stdout(),
            );
        }
        Command::Man => {
            clap_mangen::Man::new(Cli::command())
                .render(&mut std::io::stdout())
                .context("writing the man page")?;
        }
        Command::Sources { format } => match format {
            Format::Text => {
                for s in sources::all() {
                    say!("{:<14} {}", s.name(), s.description());
                }
            }
            Format::Json => {
                let list: Vec<serde_json::Value> = sources::all()
                    .into_iter()
                    .map(|s| {
                        let (role, idp) = match s.role() {
                            sources::Role::IdentityProvider { idp } => {
                                ("identity-provider", Some(idp))
                            }
                            sources::Role::Platform { idp } => ("platform", Some(idp)),
                            sources::Role::Team => ("team", None),
                            sources::Role::Tool => ("tool", None),
                        };
                        serde_json::json!({
                            "name": s.name(),
                            "role": role,
                            "idp": idp,
                            "description": s.description(),
                            "pull": idp.is_some_and(|i| sources::poll::by_name(i).is_some()),
                        })
                    })
                    .collect();
                say!("{}", serde_json::to_string_pretty(&list)?);
            }
        },
        Command::Status { format } => {
            let ledger = open_reader_documented(&cli, *format)?;
            let status = Status::of(&ledger)?;
            match format {
                Format::Json => say!("{}", serde_json::to_string_pretty(&status)?),
                Format::Text => {
                    say!("ledger:        {}", cli.ledger.display());
                    say!("origin:        {}", status.origin);
                    say!("size:          {}", status.size);
                    say!("root:          {}", status.root);
                    say!("head:          {}", status.head);
                    say!("key:           {}", status.key_fingerprint);
                    say!("verifier_key:  {}", status.verifier_key);
                    let files: Vec<String> = status
                        .files
                        .iter()
                        .map(|(n, b)| format!("{n} {b}"))
                        .collect();
                    say!("files (bytes): {}", files.join(", "));
                    say_raw!("checkpoint:\n{}", status.checkpoint);
                }
            }
        }
        Command::Log {
            from,
            limit,
            format,
        } => {
            let ledger = open_reader(&cli)?;
            if *from >= ledger.size() && !quiet() {
                match ledger.size().checked_sub(1) {
                    Some(last) => eprintln!("note: nothing from seq {from} on: the last is {last}"),
                    None => eprintln!("note: the ledger holds no entries yet"),
                }
            }
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            for e in ledger.entries(*from, limit.unwrap_or(u64::MAX)) {
                let e = e?;
                let line = match format {
                    Format::Json => serde_json::to_string(&serde_json::json!({
                        "seq": e.entry.seq,
                        "hash": to_hex(&e.chain),
                        "prev": to_hex(&e.entry.prev),
                        "raw_hash": to_hex(&e.entry.raw_hash),
                        "payload": e.entry.payload,
                    }))?,
                    Format::Text => terminal_safe(&log_line(&e.entry.seq, &e.entry.payload)),
                };
                if quiet() {
                    continue; // still read: a bad entry is still an error
                }
                if writeln!(out, "{line}").is_err() {
                    break; // a closed pipe (e.g. `| head`) is not an error
                }
            }
        }
        Command::Checkpoint => {
            let ledger = open_reader(&cli)?;
            say_raw!("{}", ledger.latest_checkpoint()?);
        }
        Command::Check {
            policy,
            as_of,
            format,
            fail_on,
            now,
            allow_future,
        } => {
            let fail_on = match fail_on.as_str() {
                "none" => None,
                other => Some(Severity::parse(other).with_context(|| {
                    format!(
                        "--fail-on {other:?}: expected info, low, medium, high, critical or none"
                    )
                })?),
            };
            let policy = app::load_policy(policy.as_deref())?;
            let as_of = match as_of.as_deref() {
                Some(text) => {
                    let at = app::parse_as_of(text)?;
                    app::refuse_future("--as-of", text, at, *allow_future)?;
                    Some(at)
                }
                None => None,
            };
            let now = now
                .as_deref()
                .map(|text| app::parse_time("--now", text, *allow_future))
                .transpose()?;
            let ledger = open_reader_documented(&cli, *format)?;
            let (result, _) = auditledger::policy::check_with_facts(&ledger, &policy, as_of, now)?;
            match format {
                Format::Text => say_raw!(
                    "{}",
                    terminal_safe(&auditledger::policy::render_text(&result))
                ),
                Format::Json => say!("{}", serde_json::to_string_pretty(&result)?),
            }
            if result.nothing_checked && fail_on.is_some() {
                return Err(GateFailure(
                    "check failed: IdP events but no roster, so nothing was checked (--fail-on none accepts this)"
                        .into(),
                )
                .into());
            }
            if let (Some(limit), Some(worst)) = (fail_on, result.worst()) {
                let n = result
                    .findings
                    .iter()
                    .filter(|f| f.severity >= limit)
                    .count();
                if worst >= limit {
                    return Err(GateFailure(format!(
                        "check failed: {n} finding(s) at or above {limit}"
                    ))
                    .into());
                }
            }
        }
        Command::Report {
            args,
            out,
            message_format,
        } => {
            let ledger = open_reader(&cli)?;
            let (report, files) =
                app::make_report(&ledger, &app::verify_fully(&ledger)?, &request(args))?;
            app::write_report_files(out, &files)?;
            if *message_format == Format::Json {
                let paths: Vec<String> = files
                    .iter()
                    .map(|(name, _)| out.join(name).display().to_string())
                    .collect();
                say!(
                    "{}",
                    serde_json::json!({
                        "report": report.kind,
                        "title": report.title,
                        "files": paths,
                        "findings": report.findings.len(),
                        "tree_size": report.attestation.tree_size,
                        "root": report.attestation.root,
                        "key_fingerprint": report.attestation.key_fingerprint,
                        "period": report.period,
                    })
                );
                return Ok(());
            }
            for (name, _) in &files {
                say!("{}", out.join(name).display());
            }
            eprintln!(
                "{}: {} finding(s), computed at checkpoint {} (key {})",
                report.title,
                report.findings.len(),
                report.attestation.tree_size,
                report.attestation.key_fingerprint
            );
        }
        Command::Export {
            args,
            out,
            message_format,
        } => {
            let ledger = open_reader(&cli)?;
            // The manifest is signed with the ledger's key: exporting needs it, as writing does.
            let key_file = app::key_path(cli.key_file.as_deref(), &cli.ledger);
            let signer = auditledger::ledger::keys::load_signer(&key_file, env_key().as_deref())?;
            let verified = app::verify_fully(&ledger)?;
            let (report, files) = app::make_report(&ledger, &verified, &request(args))?;
            let cited: Vec<u64> = report.evidence.iter().map(|e| e.seq).collect();
            let summary = auditledger::export::write_bundle(
                &ledger,
                &verified,
                &signer,
                report.attestation.tree_size,
                &files,
                &cited,
                out,
            )?;
            if *message_format == Format::Json {
                say!(
                    "{}",
                    serde_json::json!({
                        "bundle": out.display().to_string(),
                        "report": report.kind,
                        "report_files": files.len(),
                        "cited_entries": cited.len(),
                        "tree_size": report.attestation.tree_size,
                        "manifest_b3": summary.manifest_b3,
                    })
                );
                return Ok(());
            }
            say!(
                "bundle {}: {} report file(s), {} cited entries with proofs; manifest BLAKE3 {}",
                out.display(),
                files.len(),
                cited.len(),
                summary.manifest_b3
            );
        }
        Command::Policy {
            command:
                PolicyCommand::Init {
                    profile,
                    out,
                    force,
                },
        } => {
            let profile = Profile::parse(profile).with_context(|| {
                format!("--profile {profile:?}: expected standard or compliance")
            })?;
            let text = Policy::template(profile);
            match out {
                None => say_raw!("{text}"),
                Some(path) => {
                    if path.exists() && !force {
                        bail!("{} exists; pass --force to replace it", path.display());
                    }
                    fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
                    eprintln!("wrote {} ({} profile)", path.display(), profile.as_str());
                }
            }
        }
        Command::Verify {
            checkpoints,
            pubkey,
            format,
        } => {
            let mut opts = VerifyOptions::default();
            if let Some(k) = pubkey {
                opts.trusted_keys.push(parse_pubkey(k)?);
            }
            for path in checkpoints {
                let text = fs::read_to_string(path)
                    .with_context(|| format!("reading checkpoint {}", path.display()))?;
                opts.held_checkpoints
                    .push((path.display().to_string(), text));
            }
            let ledger = open_reader_documented(&cli, *format)?;
            let bar = verify_progress_bar(ledger.size());
            let result = verify_with_progress(&ledger, &opts, &mut |done, _| {
                if let Some(b) = &bar {
                    b.set_position(done);
                }
            });
            if let Some(b) = bar {
                b.finish_and_clear();
            }
            match result {
                Ok(v) if *format == Format::Json => {
                    let r = v.report();
                    say!(
                        "{}",
                        serde_json::to_string_pretty(&serde_json::json!({
                            "ok": true,
                            "size": r.size,
                            "root": base64_root(&r.root),
                            "head": to_hex(&r.head),
                            "checkpoints_checked": r.checkpoints_checked,
                            "held_checkpoints": r.external_checkpoints,
                            "key_rotations": r.key_rotations,
                            "redacted_raw_records": r.redacted_raw_records,
                            "keys": r.keys,
                            "trusted_key": pubkey.is_some(),
                        }))?
                    );
                }
                Ok(v) => {
                    let r = v.report();
                    say!(
                        "OK: {} entries; root {}; {} checkpoints checked ({} held); {} key rotation(s); {} raw record(s) redacted",
                        r.size,
                        base64_root(&r.root),
                        r.checkpoints_checked,
                        r.external_checkpoints,
                        r.key_rotations,
                        r.redacted_raw_records
                    );
                    if pubkey.is_none() {
                        say!(
                            "trusted: the key stored in the ledger ({}), not one you supplied: this shows the ledger is consistent with itself; pass --pubkey with a key you hold to check it is the one you expect",
                            r.keys.join(", ")
                        );
                    }
                }
                Err(VerifyFailure::Read(e)) => {
                    if *format == Format::Json && e.is_integrity() {
                        say_failure_document(e.first_bad_seq(), &e.to_string())?;
                    }
                    return Err(e.into());
                }
                Err(f) => {
                    let msg = match f.first_bad_seq() {
                        Some(seq) => format!("FAILED at seq {seq}: {f}"),
                        None => format!("FAILED: {f}"),
                    };
                    if *format == Format::Json {
                        say_failure_document(f.first_bad_seq(), &f.to_string())?;
                    }
                    bail!(IntegrityFailure(msg));
                }
            }
        }
        Command::Prove {
            seq,
            size,
            consistency,
        } => {
            let ledger = open_reader(&cli)?;
            let size = size.unwrap_or(ledger.size());
            let proof = match (seq, consistency) {
                (Some(seq), None) => Proof::Inclusion(ledger.prove_inclusion(*seq, size)?),
                (None, Some(old)) => Proof::Consistency(ledger.prove_consistency(*old, size)?),
                _ => bail!("give a SEQ for an inclusion proof or --consistency OLD_SIZE"),
            };
            if let Proof::Inclusion(p) = &proof {
                if p.checkpoint.is_none() && !quiet() {
                    eprintln!(
                        "note: no checkpoint was signed at size {size}, so the proof carries none; \
                         verify-proof will need --checkpoint with one of that size (the sizes \
                         signed are in checkpoints.log; `auditledger checkpoint` prints the latest)"
                    );
                }
            }
            say!("{}", proof.to_json());
        }
        Command::VerifyProof {
            proof,
            checkpoint,
            pubkey,
            format,
        } => {
            let key = parse_pubkey(pubkey)?;
            let text = fs::read_to_string(proof)
                .with_context(|| format!("reading proof {}", proof.display()))?;
            let checkpoint = checkpoint
                .as_ref()
                .map(|p| {
                    fs::read_to_string(p)
                        .with_context(|| format!("reading checkpoint {}", p.display()))
                })
                .transpose()?;
            let keys = [key];
            let parsed = Proof::parse(&text)
                .map_err(|e| IntegrityFailure(format!("{}: {e}", proof.display())))?;
            if let Proof::Inclusion(p) = &parsed {
                if p.checkpoint.is_none() && checkpoint.is_none() {
                    // A missing input, not a proof that fails: a usage error.
                    bail!(
                        "the proof carries no checkpoint (none was signed at its size {}): give \
                         --checkpoint with the checkpoint of that size",
                        p.tree_size
                    );
                }
            }
            let result = match &parsed {
                Proof::Inclusion(p) => p.verify(checkpoint.as_deref(), &keys).map(|cp| {
                    format!(
                        "OK: entry {} is in the tree of {} entries signed by {} (origin {})",
                        p.leaf_index, cp.size, keys[0].name, cp.origin
                    )
                }),
                Proof::Consistency(p) => {
                    let Some(old) = checkpoint.as_deref() else {
                        bail!("a consistency proof needs --checkpoint with the old checkpoint");
                    };
                    p.verify(old, &keys).map(|(o, n)| {
                        format!(
                            "OK: the tree of {} entries is a prefix of the tree of {} entries (origin {})",
                            o.size, n.size, n.origin
                        )
                    })
                }
            };
            if *format == Format::Json {
                let (kind, index) = match &parsed {
                    Proof::Inclusion(p) => ("inclusion", Some(p.leaf_index)),
                    Proof::Consistency(_) => ("consistency", None),
                };
                say!(
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({
                        "ok": result.is_ok(),
                        "type": kind,
                        "leaf_index": index,
                        "result": match &result {
                            Ok(msg) => msg.clone(),
                            Err(e) => e.to_string(),
                        },
                    }))?
                );
            }
            match result {
                Ok(msg) if *format == Format::Text => say!("{msg}"),
                Ok(_) => {}
                Err(e) => bail!(IntegrityFailure(format!("FAILED: {e}"))),
            }
        }
        Command::VerifyBundle {
            dir,
            pubkey,
            trust_bundle_key,
            format,
        } => {
            if pubkey.is_none() && !trust_bundle_key {
                bail!(
                    "verify-bundle needs --pubkey KEY: a verifier key you obtained independently of the bundle (a key inside the bundle proves nothing by itself); --trust-bundle-key checks with the bundle's own key, which shows only that the bundle is self-consistent"
                );
            }
            verify_bundle_cmd(dir, pubkey.as_deref(), *format)?
        }
        Command::RotateKey {
            new_key_file,
            format,
        } => {
            if new_key_file.is_none() && env_key().is_some() {
                bail!("the key came from ${KEY_ENV}; pass --new-key-file to say where the new key goes");
            }
            let mut ledger = open_writer(&cli)?;
            let key_file = app::key_path(cli.key_file.as_deref(), &cli.ledger);
            let (summary, new, written) =
                ledger.rotate_key_file(&key_file, new_key_file.as_deref())?;
            if *format == Format::Json {
                say!(
                    "{}",
                    serde_json::json!({
                        "rotation_seq": summary.first_seq,
                        "tree_size": ledger.size(),
                        "new_key_file": written.display().to_string(),
                        "verifier_key": new.verifier().to_string(),
                    })
                );
                return Ok(());
            }
            say!("new signing key written to {}", written.display());
            say!(
                "rotation recorded at seq {}; new verifier key: {}",
                summary.first_seq,
                new.verifier()
            );
        }
        Command::Migrate { format } => {
            let m = auditledger::ledger::legacy::migrate(&cli.ledger)?;
            if *format == Format::Json {
                say!(
                    "{}",
                    serde_json::json!({
                        "entries": m.entries,
                        "checkpoints": m.checkpoints,
                        "backup": m.backup.display().to_string(),
                    })
                );
                return Ok(());
            }
            say!(
                "converted {}: {} entries, {} checkpoints kept; the old store is in {} (delete it once `auditledger verify` passes)",
                cli.ledger.display(),
                m.entries,
                m.checkpoints,
                m.backup.display()
            );
        }
        Command::Redact {
            raw_hash,
            reason,
            format,
        } => {
            let target = from_hex32(raw_hash)
                .with_context(|| format!("{raw_hash:?} is not a 64-hex-digit raw hash"))?;
            let mut ledger = open_writer(&cli)?;
            let s = ledger.redact(&target, reason)?;
            if *format == Format::Json {
                say!(
                    "{}",
                    serde_json::json!({
                        "raw_hash": raw_hash,
                        "redaction_seq": s.first_seq,
                        "tree_size": ledger.size(),
                    })
                );
                return Ok(());
            }
            say!(
                "raw record {raw_hash} redacted; redaction recorded at seq {}",
                s.first_seq
            );
        }
        Command::Demo { fixtures, out } => demo(fixtures, out)?,
        Command::Pull {
            config,
            once,
            format,
        } => pull_cmd(&cli, config, *once, *format)?,
        Command::Serve { config } => serve_cmd(&cli, config)?,
        Command::Config {
            command: ConfigCommand::Init { out },
        } => match out {
            None => say_raw!("{}", auditledger::intake::config::TEMPLATE),
            Some(path) => {
                let mut file = fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(path)
                    .with_context(|| format!("creating {}", path.display()))?;
                file.write_all(auditledger::intake::config::TEMPLATE.as_bytes())
                    .with_context(|| format!("writing {}", path.display()))?;
                say!("wrote {}; set the variables it names, then run `auditledger pull --config {} --once`", path.display(), path.display());
            }
        },
    }
    Ok(())
}

/// Builds and renders one report from a ledger that `verified` vouches for.
/// A progress bar on standard error when it is a terminal; hidden otherwise (cron, CI).
fn progress_bar(len: u64) -> indicatif::ProgressBar {
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

/// One line per file given: committed, refused or not tried (stderr, beside the errors).
fn print_outcomes(outcomes: &[(String, String)]) {
    eprintln!("files:");
    for (file, what) in outcomes {
        eprintln!("  {file}: {what}");
    }
}

fn print_ingest_summary(s: &IngestSummary, format: Format) -> Result<()> {
    if format == Format::Json {
        say!("{}", serde_json::to_string(s)?);
        return Ok(());
    }
    let verb = if s.dry_run { "would add" } else { "added" };
    let plural = |n: u64, one: &'static str, many: &'static str| if n == 1 { one } else { many };
    say!(
        "{} ({}): {} {}, {} {}; {verb} {}, duplicates {}, rejected {}",
        s.file,
        s.source,
        s.records,
        plural(s.records, "record", "records"),
        s.events,
        plural(s.events, "event", "events"),
        s.added,
        s.duplicates,
        s.rejected
    );
    for (kind, c) in &s.per_kind {
        say!(
            "  {kind:<22} read {:>8}  {verb} {:>8}  duplicates {:>8}",
            c.read,
            c.added,
            c.duplicates
        );
    }
    if !s.other_types.is_empty() {
        let mut types: Vec<_> = s.other_types.iter().collect();
        types.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let shown: Vec<String> = types
            .iter()
            .take(8)
            .map(|(t, n)| format!("{t} ({n})"))
            .collect();
        say!(
            "  kept as other: {} type(s): {}{}",
            types.len(),
            shown.join(", "),
            if types.len() > 8 { ", ..." } else { "" }
        );
    }
    if !s.conflicts.is_empty() {
        let shown: Vec<String> = s
            .conflicts
            .iter()
            .take(8)
            .map(|c| format!("seq {} reuses the id of seq {}", c.later, c.earlier))
            .collect();
        say!(
            "  WARNING: {} record(s) carry a source id already in the ledger with different content; kept, and `check` reports them: {}{}",
            s.conflicts.len(),
            shown.join("; "),
            if s.conflicts.len() > 8 { "; ..." } else { "" }
        );
    }
    if let Some(r) = &s.rejects_file {
        say!("  rejected records written to {r}");
    }
    Ok(())
}

#[derive(serde::Serialize)]
struct Status {
    origin: String,
    size: u64,
    root: String,
    head: String,
    checkpoint: String,
    key_fingerprint: String,
    verifier_key: String,
    /// Bytes on disk per file of the ledger directory.
    files: std::collections::BTreeMap<String, u64>,
}

impl Status {
    fn of(ledger: &Ledger) -> Result<Self> {
        let key = ledger.current_key();
        Ok(Status {
            origin: ledger.meta().origin.clone(),
            size: ledger.size(),
            root: base64_root(&ledger.head().root),
            head: to_hex(&ledger.head().head),
            checkpoint: ledger.latest_checkpoint()?,
            key_fingerprint: format!("{}+{:08x}", key.name, key.id),
            verifier_key: key.to_string(),
            files: ledger
                .file_sizes()
                .into_iter()
                .map(|(n, b)| (n.to_string(), b))
                .collect(),
        })
    }
}

fn base64_root(root: &[u8; 32]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(root)
}

fn log_line(seq: &u64, payload: &Payload) -> String {
    match payload {
        Payload::Event(e) => format!(
            "{seq:>8}  {:<27}  {:<20} {:<28} {}{}",
            e.occurred_at,
            e.kind.as_str(),
            e.subject,
            e.source,
            e.source_id
                .as_ref()
                .map(|i| format!(" #{i}"))
                .unwrap_or_default()
        ),
        Payload::KeyRotation { new_key, at, .. } => {
            format!("{seq:>8}  {at:<27}  key rotation -> {new_key}")
        }
        Payload::Redaction {
            raw_hash,
            reason,
            at,
        } => format!(
            "{seq:>8}  {at:<27}  redaction of raw record {} ({reason})",
            to_hex(raw_hash)
        ),
        Payload::Cursor {
            stream,
            position,
            at,
        } => format!("{seq:>8}  {at:<27}  intake cursor {stream} -> {position}"),
    }
}

fn request(args: &ReportArgs) -> app::ReportRequest {
    app::ReportRequest {
        kind: args
            .kind_flag
            .clone()
            .or_else(|| args.kind_pos.clone())
            .unwrap_or_default(),
        formats: args.format.clone(),
        from: args.from.clone(),
        to: args.to.clone(),
        sprint: args.sprint.clone(),
        days: args.days,
        now: args.now.clone(),
        as_of: args.as_of.clone(),
        policy: args.policy.clone(),
        allow_future: args.allow_future,
    }
}

/// One line per file for the run's summary.
fn outcome_line(o: &FileOutcome) -> String {
    match o {
        FileOutcome::Done(s) if s.dry_run => format!("would add {} event(s)", s.added),
        FileOutcome::Done(s) => format!(
            "committed {} event(s){}",
            s.added,
            s.checkpoint_size
                .map(|n| format!(" (ledger size {n})"))
                .unwrap_or_default()
        ),
        FileOutcome::NoRecords(_) => "no records (an empty export)".into(),
        FileOutcome::Refused(IngestError::Io { .. }) => "refused: cannot be read".into(),
        FileOutcome::Refused(IngestError::Unreadable { problem, .. })
            if problem == "is a directory" =>
        {
            "refused: is a directory".into()
        }
        // Readable, but not an export of the source (binary, not JSON, a shape it is not).
        FileOutcome::Refused(IngestError::Unreadable { .. }) => {
            "refused: not an export this source reads (see the error above)".into()
        }
        FileOutcome::Refused(IngestError::UnknownFormat { .. }) => {
            "refused: format not recognised".into()
        }
        FileOutcome::Refused(_) => "refused: nothing from it committed".into(),
        FileOutcome::Interrupted => "interrupted: nothing from it committed".into(),
        FileOutcome::NotTried => "not tried: interrupted".into(),
        FileOutcome::Failed(e) => format!("failed: {e}"),
    }
}

fn demo(fixtures: &Path, out: &Path) -> Result<()> {
    let d = app::demo(fixtures, out)?;
    say!(
        "1. created ledger {} (origin {})",
        d.ledger_dir.display(),
        d.origin
    );
    say!("2. ingested the fixture quarter (Q1 2026, two teams, four IdPs):");
    for (source, path, events, added) in &d.ingested {
        say!(
            "   {:<13} {:<46} {:>3} events, {:>3} added",
            source,
            path.display(),
            events,
            added
        );
    }
    say!(
        "   okta export again: {} added, {} duplicates (re-ingesting adds nothing)",
        d.again.0,
        d.again.1
    );
    say!(
        "3. verified {} entries, {} checkpoints",
        d.verified_entries,
        d.verified_checkpoints
    );
    say!(
        "4. policy check ({} profile) at {}: {} people in scope, {} findings ({})",
        d.profile,
        app::DEMO_NOW,
        d.people,
        d.findings,
        d.findings_path.display()
    );
    say!(
        "   the same check by hand: auditledger check --ledger {} --policy {} --now {}",
        d.ledger_dir.display(),
        d.policy_path.display(),
        app::DEMO_NOW
    );
    for (sev, n) in &d.by_severity {
        say!("   {n:>3} {sev}");
    }
    say!("   headline findings:");
    for (sev, summary) in &d.headlines {
        say!("   - [{sev}] {summary}");
    }
    say!("5. reports in {}:", out.display());
    for (kind, pdf, files, findings) in &d.reports {
        say!(
            "   {:<20} {} ({} files; {} findings)",
            kind,
            pdf.display(),
            files,
            findings
        );
    }
    say!(
        "6. auditor bundle {}: {} cited entries with raw records and proofs; check it with\n   auditledger verify-bundle {} --pubkey {}",
        d.bundle.display(),
        d.cited,
        d.bundle.display(),
        d.verifier_key_path.display()
    );
    say!("   manifest BLAKE3 (send it separately): {}", d.manifest_b3);
    say!("7. signed checkpoint ({}):\n", d.checkpoint_path.display());
    say_raw!("{}", d.checkpoint);
    say!(
        "\nverifier key ({}): {}",
        d.verifier_key_path.display(),
        d.verifier_key
    );
    say!(
        "signing key of this throwaway ledger: {} (to write to it: --key-file {})",
        d.signing_key_path.display(),
        d.signing_key_path.display()
    );
    Ok(())
}
