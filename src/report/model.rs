//! The report data: what every report says, apart from how it is rendered.
//!
//! Each report kind (SOC 2, HIPAA, access after expiry, sprint review, upcoming) is built
//! into this one shape: an attestation of the ledger it was computed from, a summary, and
//! sections (one per control for the evidence reports), each with text, tables and
//! exception timelines, plus an index of every ledger entry cited. Renderers (`render/`)
//! only format this value; a new format never touches the rules or the builders.
//!
//! Invariants: the value is fully determined by the ledger prefix, the policy and the
//! pinned generation time (no clocks, no hash-map order); every `Cell::Seq` and every
//! timeline marker's seq appears in `evidence`.

use serde::{Deserialize, Serialize};

use crate::event::Timestamp;
use crate::finding::{Evidence, Finding, Severity};

/// Version of this JSON shape. Bump on any incompatible change; documented in
/// `docs/report-schema.md`.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReportKind {
    Soc2,
    Hipaa,
    AccessAfterExpiry,
    SprintReview,
    Upcoming,
}

impl ReportKind {
    pub const ALL: [ReportKind; 5] = [
        ReportKind::Soc2,
        ReportKind::Hipaa,
        ReportKind::AccessAfterExpiry,
        ReportKind::SprintReview,
        ReportKind::Upcoming,
    ];

    /// The name on the command line and in file names.
    pub fn as_str(self) -> &'static str {
        match self {
            ReportKind::Soc2 => "soc2",
            ReportKind::Hipaa => "hipaa",
            ReportKind::AccessAfterExpiry => "access-after-expiry",
            ReportKind::SprintReview => "sprint-review",
            ReportKind::Upcoming => "upcoming",
        }
    }

    pub fn parse(text: &str) -> Option<ReportKind> {
        ReportKind::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

/// A whole report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub schema_version: u32,
    pub kind: ReportKind,
    /// e.g. "SOC 2 evidence: contractor access".
    pub title: String,
    /// e.g. "acme.example/auditledger/prod, 2026-01-01 to 2026-03-31".
    pub subtitle: String,
    /// The ledger's origin line.
    pub origin: String,
    /// The period covered, when the report has one (inclusive dates, UTC).
    pub period: Option<Period>,
    /// When the report speaks for: the time it was generated, or the time `--now` pinned.
    pub generated_at: Timestamp,
    /// Whether `generated_at` was pinned (`--now`) rather than read from the clock: the
    /// report then says so wherever it shows the time.
    #[serde(default)]
    pub time_pinned: bool,
    /// The policy it was evaluated against: profile name and BLAKE3 of the policy file.
    pub policy: PolicyRef,
    pub attestation: Attestation,
    /// The headline numbers, shown first and charted in the PDF.
    pub summary: Vec<SummaryRow>,
    pub sections: Vec<Section>,
    /// Every ledger entry the report cites, in seq order, without duplicates.
    pub evidence: Vec<Evidence>,
    /// The policy findings the report is built from.
    pub findings: Vec<Finding>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    /// First day, `YYYY-MM-DD`.
    pub from: String,
    /// Last day, `YYYY-MM-DD` (inclusive).
    pub to: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyRef {
    pub profile: String,
    /// BLAKE3 hex of the policy TOML as evaluated (defaults filled in).
    pub hash: String,
}

/// What the report was computed from, and that it was verified.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attestation {
    /// The signed checkpoint (C2SP note text) of the ledger prefix the report reads.
    pub checkpoint: String,
    pub tree_size: u64,
    /// Base64 Merkle root, as in the checkpoint.
    pub root: String,
    /// The verifier key string `<name>+<hex id>+<base64 key>`.
    pub verifier_key: String,
    /// The 8-hex key id (the fingerprint an auditor compares).
    pub key_fingerprint: String,
    /// Result of the full `verify` run the report was built after.
    pub verification: String,
    pub verified: bool,
    /// When the checkpoint was signed (its own `time` line), RFC 3339; the report claims
    /// nothing about the ledger after it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint_signed_at: Option<String>,
}

/// One line of the summary: a control (or a category) with its counts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SummaryRow {
    /// e.g. `CC6.2` or `access-after-expiry`.
    pub id: String,
    pub title: String,
    /// How many items were tested (people, accounts, requests...).
    pub population: u64,
    pub exceptions: u64,
    /// e.g. "Operating effectively" / "Exceptions noted".
    pub conclusion: String,
}

/// A section: for the evidence reports, one control.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Section {
    /// e.g. `CC6.2`, or `expirations` for the sprint review.
    pub id: String,
    pub title: String,
    /// Paragraphs, in order: the control's paraphrase, the test performed, notes...
    pub paragraphs: Vec<Paragraph>,
    pub tables: Vec<Table>,
    /// One timeline picture per exception.
    pub timelines: Vec<Timeline>,
    /// The conclusion, when the section tests a control.
    pub conclusion: Option<String>,
}

impl Section {
    /// A section of tables with no paragraphs, timelines or conclusion; set those with
    /// struct update syntax (`Section { timelines, ..Section::new(…) }`).
    pub fn new(id: &str, title: &str, tables: Vec<Table>) -> Section {
        Section {
            id: id.into(),
            title: title.into(),
            paragraphs: Vec::new(),
            tables,
            timelines: Vec::new(),
            conclusion: None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Paragraph {
    /// A short bold lead-in, e.g. "Test performed".
    pub label: Option<String>,
    pub text: String,
}

/// A table. CSV writes each table to `<report>-<name>.csv` with `columns[].key` as header.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Table {
    /// File-name-safe id, unique within the report, e.g. `cc6-2-population`.
    pub name: String,
    pub title: String,
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Cell>>,
    /// Shown when there are no rows, e.g. "No access after expiry was found."
    pub empty_text: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    /// CSV header / JSON key: lower snake case, stable (documented).
    pub key: String,
    /// Header shown in the PDF.
    pub title: String,
    /// How much text the column holds, in shares (e.g. 1 for a seq list, 4 for a summary).
    /// A hint for other renderers: the PDF sizes columns from their content. Kept in the
    /// JSON so its schema does not change.
    pub width: u8,
}

/// A table cell.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum Cell {
    Text(String),
    /// An instant; rendered ISO 8601 UTC in CSV, UTC (and local where given) in PDF.
    Time(Timestamp),
    Count(u64),
    /// A duration in seconds, rendered "2 d 3 h" in the PDF, seconds in CSV.
    Duration(i64),
    /// Ledger seqs of the evidence, rendered "#12, #40".
    Seqs(Vec<u64>),
    Severity(Severity),
    Empty,
}

/// A timeline picture: markers on one time axis, e.g. expiry, deactivation, session
/// revocation, each access after expiry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timeline {
    /// e.g. "José Núñez: access after expiry".
    pub title: String,
    pub markers: Vec<Marker>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Marker {
    pub at: Timestamp,
    /// e.g. "expiry", "deactivated", "sign-in (okta)".
    pub label: String,
    pub kind: MarkerKind,
    /// The ledger entry behind the marker; `None` for computed instants such as the expiry.
    pub seq: Option<u64>,
}

/// How a marker is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MarkerKind {
    /// A deadline (expiry, end of a grace period): a vertical line.
    Deadline,
    /// A control acting (deactivation, revocation, approval): a green point.
    Control,
    /// A deactivation or revocation a policy rule found late: an amber point.
    LateControl,
    /// A deactivation the `timezone` rule found too early (mid-workday where the person
    /// is): an amber point, since acting is no defence when it cut off a working day.
    EarlyControl,
    /// Access after it should have ended: a red point.
    Violation,
    /// A sign-in refused after access should have ended: someone still tried, and the
    /// control held. A purple point.
    Attempt,
    /// Anything else worth placing (request, reminder): a grey point.
    Note,
}
