//! The `auditledger` command line: parses arguments, calls the library, prints.
//!
//! Exit codes (for cron and CI):
//! - 0: success; for `verify` and `verify-proof`, everything checked out.
//! - 1: integrity failure (the ledger, a proof or a checkpoint does not verify), or a
//!   policy gate that did not pass (`check --fail-on`).
//! - 2: usage, input or I/O error (bad flags, unreadable file, bad record, locked ledger).

use std::process::ExitCode;

use clap::Parser;

use auditledger::app;
use auditledger::ledger::LedgerError;

mod cli;

use cli::args::{Cli, ColorChoice};
use cli::{terminal_safe, GateFailure, IntegrityFailure};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    cli::QUIET.store(cli.quiet, std::sync::atomic::Ordering::Relaxed);
    let color = match cli.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::IsTerminal::is_terminal(&std::io::stderr())
        }
    };
    cli::COLOR.store(color, std::sync::atomic::Ordering::Relaxed);
    match cli::run(cli) {
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
