//! The policy engine: the contractor-access rules, evaluated over the ledger alone.
//!
//! `check` reads a ledger prefix (all of it, or — with `as_of` — the entries that were
//! committed by then, as the signed checkpoints' `time` lines record), gathers the facts
//! (`facts`), works out each person's effective expiry (`expiry`) and runs every enabled
//! rule (`rules/`, one file each). Invariants: evaluation reads only ledger entries; every
//! finding cites the entries (seq and chain hash) that prove it; the output is sorted and
//! free of clocks and hash-map order, so the same ledger, policy and as-of give
//! byte-identical JSON.

use serde::Serialize;
use thiserror::Error;

use crate::event::Timestamp;
use crate::ledger::{Ledger, LedgerError};
use crate::tlog::note::{parse_note, Checkpoint};

pub mod config;
pub mod expiry;
pub mod facts;
/// The finding vocabulary lives beside the policy and the reports (`crate::finding`); this
/// path stays for the rules.
pub use crate::finding;
pub mod rules;

use config::Policy;
use expiry::Ending;
use facts::{expiry_text, Facts, Keep};
use finding::{Finding, Severity};

/// Version of the `check --format json` shape.
pub const CHECK_SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Error)]
pub enum CheckError {
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error("no checkpoint was signed at or before {0}: the ledger held nothing then")]
    NothingAsOf(String),
}

/// A person in scope and their expiry, as the report and `check` show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PersonStatus {
    pub email: String,
    pub name: String,
    pub employment: String,
    pub team: Option<String>,
    pub time_zone: String,
    pub last_day: String,
    /// The effective expiry (exclusive end), UTC and local.
    pub expiry: Timestamp,
    pub expiry_local: String,
    /// The sprint the expiry was moved to the end of, when it was.
    pub aligned_to_sprint: Option<String>,
    /// Valid extensions and emergency grants, by request id.
    pub extensions: Vec<String>,
    /// When the last IdP account was deactivated (on time or late), if it was.
    pub deactivated_at: Option<Timestamp>,
    pub access_end: Timestamp,
    /// The roster row the person's facts come from.
    pub roster: finding::Evidence,
}

/// The whole result of a check.
#[derive(Clone, Debug, Serialize)]
pub struct CheckResult {
    pub schema_version: u32,
    /// The evaluation time: `--as-of`, else the time of the checkpoint read.
    pub as_of: Timestamp,
    /// The ledger prefix read and its signed checkpoint.
    pub tree_size: u64,
    pub checkpoint: String,
    pub policy_profile: String,
    pub policy_hash: String,
    pub people: Vec<PersonStatus>,
    /// Events about accounts no roster row names, per source.
    pub unattributed_events: std::collections::BTreeMap<String, u64>,
    /// The ledger holds IdP events but no roster: nobody was in scope, so no offboarding
    /// rule was evaluated. "No findings" then means nothing; `check` fails its gate.
    pub nothing_checked: bool,
    /// What a reader must know before trusting "no findings", one sentence each.
    pub warnings: Vec<String>,
    pub findings: Vec<Finding>,
}

impl CheckResult {
    /// The highest severity found, if any.
    pub fn worst(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).max()
    }
}

/// The tree size and checkpoint to read: the newest checkpoint signed at or before
/// `as_of`, or the newest of all.
pub fn prefix_at(
    ledger: &Ledger,
    as_of: Option<Timestamp>,
) -> Result<(u64, String, Timestamp), CheckError> {
    let mut best: Option<(u64, String, Timestamp)> = None;
    for note in ledger.checkpoint_log() {
        let Ok(parsed) = parse_note(note) else {
            continue;
        };
        let Ok(cp) = Checkpoint::parse_body(&parsed.text) else {
            continue;
        };
        let time = cp.time.unwrap_or(Timestamp(0));
        if as_of.is_some_and(|t| time > t) {
            continue;
        }
        if best.as_ref().is_none_or(|(size, _, _)| cp.size >= *size) {
            best = Some((cp.size, note.clone(), time));
        }
    }
    best.ok_or_else(|| CheckError::NothingAsOf(as_of.map(|t| t.to_rfc3339()).unwrap_or_default()))
}

/// Runs the policy over the ledger as it stood at `as_of` (default: now, all of it).
pub fn check(
    ledger: &Ledger,
    policy: &Policy,
    as_of: Option<Timestamp>,
) -> Result<CheckResult, CheckError> {
    Ok(check_with_facts(ledger, policy, as_of, None)?.0)
}

/// `check`, also returning the facts it read; `now` (default: `as_of`, else the time of
/// the checkpoint read) is the evaluation time, e.g. a report's pinned generation time.
pub fn check_with_facts(
    ledger: &Ledger,
    policy: &Policy,
    as_of: Option<Timestamp>,
    now: Option<Timestamp>,
) -> Result<(CheckResult, Facts), CheckError> {
    let (size, checkpoint, signed_at) = prefix_at(ledger, as_of)?;
    let cutoff = now;
    let now = now.or(as_of).unwrap_or(signed_at);
    let facts = Facts::gather(ledger, size, cutoff, Keep::ForRules { policy, now })?;
    let (people, findings) = evaluate(&facts, policy, now);
    let result = CheckResult {
        schema_version: CHECK_SCHEMA_VERSION,
        as_of: now,
        tree_size: size,
        checkpoint,
        policy_profile: policy.profile.as_str().into(),
        policy_hash: policy.hash(),
        people,
        unattributed_events: facts.unattributed.clone(),
        nothing_checked: nothing_checked(&facts),
        warnings: warnings(&facts),
        findings,
    };
    Ok((result, facts))
}

/// Evaluates every enabled rule over `facts` at time `now`.
pub fn evaluate(
    facts: &Facts,
    policy: &Policy,
    now: Timestamp,
) -> (Vec<PersonStatus>, Vec<Finding>) {
    let cx = rules::Context {
        facts,
        policy,
        now,
        subjects: expiry::subjects(facts, policy, now),
    };
    let mut findings = Vec::new();
    for rule in rules::ALL {
        if (rule.enabled)(policy) {
            (rule.evaluate)(&cx, &mut findings);
        }
    }
    findings.sort_by(|a, b| {
        (&a.subject, &a.rule, a.at, &a.id).cmp(&(&b.subject, &b.rule, b.at, &b.id))
    });
    let people = cx
        .subjects
        .iter()
        .map(|s| PersonStatus {
            email: s.person.email.clone(),
            name: s.person.name.clone(),
            employment: if s.person.contractor {
                "contractor"
            } else {
                "employee"
            }
            .into(),
            team: s.person.team.as_deref().map(String::from),
            time_zone: s.person.tz_name.to_string(),
            last_day: s.last_day.to_string(),
            expiry: s.effective,
            expiry_local: expiry_text(s.effective, Some(s.tz), &s.person.tz_name),
            aligned_to_sprint: s.aligned_to.map(|sp| sp.sprint.clone()),
            extensions: s
                .requests
                .iter()
                .filter(|a| a.valid())
                .map(|a| a.request.id.clone())
                .collect(),
            deactivated_at: s
                .endings
                .iter()
                .map(|(_, e)| match e {
                    Ending::OnTime(c) | Ending::Late(c) => Some(c.at),
                    Ending::Never => None,
                })
                .collect::<Option<Vec<_>>>()
                .and_then(|v| v.into_iter().max()),
            access_end: s.access_end,
            roster: s.person.cite.evidence(),
        })
        .collect();
    (people, findings)
}

/// The text form of a check: findings grouped by person, then rule.
/// IdP events (attributed or not) but no roster entry at all.
fn nothing_checked(facts: &Facts) -> bool {
    let idp_events: u64 = facts.unattributed.values().sum::<u64>() + facts.attributed;
    facts.people.is_empty() && idp_events > 0
}

fn warnings(facts: &Facts) -> Vec<String> {
    let mut out = Vec::new();
    let unattributed: u64 = facts.unattributed.values().sum();
    if nothing_checked(facts) {
        out.push(format!(
            "the ledger holds {unattributed} IdP event(s) but no roster: nobody is in scope, so no offboarding rule was evaluated; ingest the roster (docs/formats.md, `roster`)"
        ));
    } else {
        for (source, n) in &facts.unattributed {
            out.push(format!(
                "{n} {source} event(s) name accounts no roster row lists: kept, but not checked against anyone's expiry; add the accounts to the roster's `accounts`"
            ));
        }
    }
    out
}

pub fn render_text(result: &CheckResult) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Policy check ({} profile) of {} entries as of {}",
        result.policy_profile,
        result.tree_size,
        result.as_of.to_rfc3339()
    );
    let _ = writeln!(
        out,
        "{} people in scope, {} findings",
        result.people.len(),
        result.findings.len()
    );
    for w in &result.warnings {
        let _ = writeln!(out, "WARNING: {w}");
    }
    let mut current: Option<&str> = None;
    for f in &result.findings {
        if current != Some(f.subject.as_str()) {
            current = Some(&f.subject);
            let _ = match &f.person {
                Some(person) => writeln!(out, "\n{person} <{}>", f.subject),
                None => writeln!(out, "\n{}", f.subject),
            };
        }
        let seqs: Vec<String> = f.evidence.iter().map(|e| format!("#{}", e.seq)).collect();
        let _ = writeln!(
            out,
            "  [{:<8}] {:<24} {}\n             evidence {}; controls {}",
            f.severity.as_str(),
            f.rule,
            f.summary,
            seqs.join(", "),
            f.controls.join(", ")
        );
    }
    out
}
#[cfg(test)]
mod tests;
