//! Reports: what each report kind says (`model`, built by `build` from a policy check of
//! the ledger), and `render`, which turns it into PDF, CSV, JSON and OSCAL.
//!
//! `generate` is the one entry point: it runs a full verification (the attestation every
//! report carries), the policy check at the requested ledger prefix, and the builder.
//! Invariants: a report is only built from a ledger that passed `verify` in the same run
//! (the `Verified` value is required), and its attestation names the exact checkpoint the
//! check read.

use chrono::NaiveDate;
use thiserror::Error;

use crate::event::Timestamp;
use crate::ledger::verify::Verified;
use crate::ledger::Ledger;
use crate::policy::config::Policy;
use crate::policy::{check_with_facts, CheckError};
use crate::tlog::note::Checkpoint;

pub mod build;
pub mod model;
pub mod render;

use model::{Attestation, Report, ReportKind};
use render::Format;

#[derive(Debug, Error)]
pub enum ReportError {
    #[error(transparent)]
    Check(#[from] CheckError),
    #[error(transparent)]
    Build(#[from] build::BuildError),
    #[error(transparent)]
    Render(#[from] render::RenderError),
    #[error("PDF: {0}")]
    Pdf(#[from] render::pdf::PdfError),
}

/// What to report on.
#[derive(Clone, Debug, Default)]
pub struct Options {
    pub period: Option<(NaiveDate, NaiveDate)>,
    pub sprint: Option<String>,
    pub days: u32,
    /// Evaluate the ledger as it stood then (see `check --as-of`).
    pub as_of: Option<Timestamp>,
    /// Pinned generation time (default: now).
    pub now: Option<Timestamp>,
}

/// Builds one report from a verified ledger.
pub fn generate(
    ledger: &Ledger,
    verified: &Verified,
    policy: &Policy,
    kind: ReportKind,
    opts: &Options,
) -> Result<Report, ReportError> {
    let now = opts.now.unwrap_or_else(Timestamp::now_seconds);
    let (check, facts) = check_with_facts(ledger, policy, opts.as_of, Some(now))?;
    let v = verified.report();
    let key = ledger.current_key();
    let body = Checkpoint::parse_unverified(&check.checkpoint).ok();
    let root = body
        .as_ref()
        .map(|c| base64_std(&c.root))
        .unwrap_or_default();
    let signed_at = body
        .as_ref()
        .and_then(|c| c.time)
        .map(Timestamp::to_rfc3339);
    let attestation = Attestation {
        checkpoint: check.checkpoint.clone(),
        tree_size: check.tree_size,
        root,
        verifier_key: key.to_string(),
        key_fingerprint: format!("{:08x}", key.id),
        // No clock time here: that keeps a report pinned with `--now` byte-identical on
        // the same ledger. What the report claims about time is the checkpoint's own
        // signing time, beside it.
        verification: format!(
            "full verification of the ledger passed before this report was built: {} entries, {} checkpoints and {} key(s) checked; the report reads the {} entries the checkpoint in its attestation signs",
            v.size,
            v.checkpoints_checked,
            v.keys.len(),
            check.tree_size,
        ),
        verified: true,
        checkpoint_signed_at: signed_at,
    };
    let inputs = build::Inputs {
        check: &check,
        policy,
        facts: &facts,
        attestation,
        origin: ledger.meta().origin.clone(),
        now,
        time_pinned: opts.now.is_some(),
        period: opts.period,
        sprint: opts.sprint.clone(),
        days: opts.days,
    };
    Ok(build::build(kind, &inputs)?)
}

fn base64_std(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Renders `report` into `(file name, bytes)` for each format.
pub fn render_files(
    report: &Report,
    formats: &[Format],
) -> Result<Vec<(String, Vec<u8>)>, ReportError> {
    let mut files = Vec::new();
    for f in formats {
        files.extend(f.render(report)?);
    }
    Ok(files)
}
