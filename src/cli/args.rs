//! The flags and subcommands, as clap parses them.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "auditledger",
    version,
    about = "Immutable audit ledger and compliance reporter for contractor access"
)]
pub(crate) struct Cli {
    /// The ledger directory.
    #[arg(long, global = true, env = "AUDITLEDGER_DIR", default_value = "ledger")]
    pub(crate) ledger: PathBuf,
    /// The signing key file (default: the ledger's key in $AUDITLEDGER_KEY_DIR or
    /// ~/.config/auditledger/keys, where `init` puts it; <ledger>/signing.key for ledgers
    /// made before). The key may instead be given in the AUDITLEDGER_KEY environment variable.
    #[arg(long, global = true)]
    pub(crate) key_file: Option<PathBuf>,
    /// Print nothing on standard output and no progress or notes; errors still go to
    /// standard error, and the exit code says how it went (as `grep -q`).
    #[arg(short, long, global = true)]
    pub(crate) quiet: bool,
    /// Colour in logs: auto (only on a terminal, and not when NO_COLOR is set), always, never.
    #[arg(long, global = true, value_enum, default_value = "auto")]
    pub(crate) color: ColorChoice,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub(crate) enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub(crate) enum Format {
    Text,
    Json,
}

#[derive(Subcommand)]
pub(crate) enum Command {
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
pub(crate) enum ConfigCommand {
    /// Write a commented template with every key (to standard output, or --out FILE).
    Init {
        /// Where to write it; an existing file is not overwritten.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(clap::Args, Clone)]
pub(crate) struct ReportArgs {
    /// soc2, hipaa, access-after-expiry, sprint-review or upcoming.
    #[arg(
        long = "report",
        value_name = "KIND",
        required_unless_present = "kind_pos"
    )]
    pub(crate) kind_flag: Option<String>,
    #[arg(value_name = "KIND", hide = true)]
    pub(crate) kind_pos: Option<String>,
    /// First day of the period (YYYY-MM-DD, UTC). Default for soc2, hipaa and
    /// access-after-expiry: the first day of the quarter --to falls in.
    #[arg(long)]
    pub(crate) from: Option<String>,
    /// Last day of the period, inclusive. Default: today (or the day of --now).
    #[arg(long)]
    pub(crate) to: Option<String>,
    /// The sprint id, for sprint-review.
    #[arg(long)]
    pub(crate) sprint: Option<String>,
    /// The window of the upcoming report, in days.
    #[arg(long, default_value_t = 14)]
    pub(crate) days: u32,
    /// Formats, comma-separated: pdf, csv, json, oscal.
    #[arg(long, default_value = "pdf,csv,json,oscal")]
    pub(crate) format: String,
    /// Pin the generation time (RFC 3339), for reproducible reports.
    #[arg(long)]
    pub(crate) now: Option<String>,
    /// Evaluate the ledger as it stood then (see check --as-of).
    #[arg(long)]
    pub(crate) as_of: Option<String>,
    /// The policy file (default: the standard profile's defaults).
    #[arg(long)]
    pub(crate) policy: Option<PathBuf>,
    /// Accept a --now or --as-of in the future (refused otherwise: it states facts nobody
    /// has seen yet).
    #[arg(long)]
    pub(crate) allow_future: bool,
}

#[derive(Subcommand)]
pub(crate) enum PolicyCommand {
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
