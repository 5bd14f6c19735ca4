//! A finding: one rule's verdict about one person (or credential), with the ledger entries
//! that prove it.
//!
//! Invariants: every finding cites at least one ledger entry by seq and chain hash; the
//! list of findings a check returns is sorted (person, rule, time, id), so the same
//! ledger, policy and as-of give the same bytes.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::event::Timestamp;

/// How bad a finding is. Ordered: `Info < Low < Medium < High < Critical`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    pub fn parse(text: &str) -> Option<Severity> {
        Severity::ALL
            .into_iter()
            .find(|s| s.as_str().eq_ignore_ascii_case(text.trim()))
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A ledger entry a finding rests on: its seq and chain hash (hex), and what it is.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Evidence {
    pub seq: u64,
    /// BLAKE3 chain hash of the entry, hex.
    pub hash: String,
    /// The event kind, e.g. `auth.succeeded`.
    pub kind: String,
    /// The event's source, e.g. `okta`.
    pub source: String,
    pub occurred_at: Timestamp,
}

/// One rule's verdict.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable id: `<rule>:<subject>:<discriminator>`, unique within a check.
    pub id: String,
    /// The rule's name, e.g. `access-after-expiry`.
    pub rule: String,
    pub severity: Severity,
    /// The person's email (or the credential, when no person is known).
    pub subject: String,
    /// The person's display name from the roster, when known.
    pub person: Option<String>,
    /// One line a team lead understands.
    pub summary: String,
    /// When it happened (the access, the missed deadline...).
    pub at: Timestamp,
    /// Control ids it bears on, e.g. `SOC2:CC6.2`, `HIPAA:164.308(a)(3)(ii)(C)`.
    pub controls: Vec<String>,
    /// The entries that prove it, in seq order.
    pub evidence: Vec<Evidence>,
    /// Rule-specific facts (`expiry`, `after_expiry`, `source`, `credential`...), as text.
    pub details: BTreeMap<String, String>,
}
