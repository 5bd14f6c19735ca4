//! OSCAL: the report as an OSCAL 1.1.3 assessment-results document (JSON), valid against
//! NIST's schema (`../shared/schemas/oscal/`, checked in `tests/render.rs`).
//!
//! Shape (the mapping is documented in `docs/report-schema.md`):
//!
//! - `metadata`: the report title, `last-modified` = `generated_at`, `version` =
//!   `generated_at`, `oscal-version` 1.1.3, props naming the report kind and ledger.
//! - `import-ap`: `#<uuid>` of a back-matter resource describing the assessment plan, which
//!   for us is the policy (profile and BLAKE3 hash); there is no separate OSCAL plan.
//! - one `result`: `start`/`end` = the period (first day 00:00:00Z to last day 23:59:59Z),
//!   or `generated_at` for both; `reviewed-controls` = every summary control plus every
//!   control a finding cites; an `attestation` part with the verification result;
//!   `observations`: one per summary row (method `TEST`: population, exceptions) and one
//!   per cited ledger entry (method `EXAMINE`: seq, chain hash, kind, source, time);
//!   `findings`: one per (finding, control) with state `not-satisfied`, plus one per summary
//!   row that no finding targets (`satisfied` when it has no exceptions).
//! - `back-matter`: the policy, and the ledger checkpoint (note text as `base64`, tree size,
//!   root, verifier key, fingerprint as props).
//!
//! Control ids become OSCAL tokens with [`control_token`]. Every UUID is a version-5 UUID
//! (see [`Ids`]), every time comes from the report, and the JSON keys have a fixed order, so
//! the same report gives the same bytes.
//!
//! The schema's traps, and how this file meets them: UUIDs must be v4/v5 (all ours are v5);
//! optional arrays must not be empty (every one is skipped when empty); unknown keys are
//! refused (the structs below mirror the schema); date-times need a zone and a year from
//! 1900 to 2999 (`time` refuses others); `StringDatatype` values may not have leading,
//! trailing or line-breaking whitespace (prop values go through `normalise`); tokens match
//! `^(\p{L}|_)(\p{L}|\p{N}|[.\-_])*$` ([`control_token`] emits ASCII tokens only).

use std::collections::{BTreeMap, BTreeSet};

use base64::Engine as _;
use chrono::{Datelike, NaiveDate, NaiveTime};
use serde::Serialize;
use uuid::Uuid;

use super::RenderError;
use crate::event::Timestamp;
use crate::finding::Evidence;
use crate::report::model::Report;

/// The OSCAL version the output conforms to.
pub const OSCAL_VERSION: &str = "1.1.3";

/// The namespace (`ns`) of every prop and part name this renderer adds. A URN, since the
/// project owns no web domain to mint an `https` namespace under.
pub const NS: &str = "urn:auditledger:oscal";

/// The `oscal` format in the renderer registry ([`super::Format::ALL`]).
pub struct Oscal;

impl super::Renderer for Oscal {
    fn name(&self) -> &'static str {
        "oscal"
    }

    fn render(
        &self,
        report: &crate::report::model::Report,
    ) -> Result<Vec<(String, Vec<u8>)>, crate::report::ReportError> {
        Ok(vec![(
            format!("{}.oscal.json", report.kind.as_str()),
            render(report)?,
        )])
    }
}

/// Renders `report` as an OSCAL 1.1.3 assessment-results JSON document (pretty, trailing
/// newline).
///
/// Errors: a time OSCAL cannot hold (before 1900 or after 2999), a period that is not two
/// `YYYY-MM-DD` dates, a ledger entry cited with two different hashes.
pub fn render(report: &Report) -> Result<Vec<u8>, RenderError> {
    let document = Document {
        assessment_results: assessment_results(report)?,
    };
    let mut bytes = serde_json::to_vec_pretty(&document)?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// Maps a control id to an OSCAL token (`^(\p{L}|_)(\p{L}|\p{N}|[.\-_])*$`).
///
/// An optional `FRAMEWORK:` prefix is split off. The rest is lower-cased; ASCII letters,
/// digits, `.` and `_` are kept, every other run of characters becomes one `-`, and `-` is
/// trimmed from both ends. If that does not begin with a letter or `_` (HIPAA sections
/// begin with a digit), the framework is put in front: the prefix's own token, or
/// `default_framework` (the report kind) when the id has none.
///
/// | id                             | token                    |
/// |--------------------------------|--------------------------|
/// | `CC6.1`, `SOC2:CC6.1`          | `cc6.1`                  |
/// | `HIPAA:164.308(a)(1)(ii)(D)`   | `hipaa-164.308-a-1-ii-d` |
/// | `164.312(b)` in a HIPAA report | `hipaa-164.312-b`        |
/// | `access-after-expiry`          | `access-after-expiry`    |
///
/// Distinct ids can share a token (`a(b)` and `a-b`); the original id is kept beside every
/// token in a `control-id` prop.
pub fn control_token(id: &str, default_framework: &str) -> String {
    let (framework, local) = match id.split_once(':') {
        Some((framework, local)) if !slug(framework).is_empty() => (framework, local),
        _ => (default_framework, id),
    };
    let body = slug(local);
    if starts_token(&body) {
        return body;
    }
    let mut prefix = slug(framework);
    if !starts_token(&prefix) {
        prefix = "control".to_string();
    }
    if body.is_empty() {
        prefix
    } else {
        format!("{prefix}-{body}")
    }
}

/// Lower-case ASCII letters, digits, `.` and `_`; other runs become `-`; no `-` at the ends.
fn slug(text: &str) -> String {
    let mut out = String::new();
    let mut gap = false;
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || c == '.' || c == '_' {
            if gap && !out.is_empty() {
                out.push('-');
            }
            gap = false;
            out.push(c.to_ascii_lowercase());
        } else {
            gap = true;
        }
    }
    out
}

fn starts_token(text: &str) -> bool {
    text.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
}

/// Deterministic v5 UUIDs. The report's namespace is the v5 UUID, under the v5 UUID of
/// [`NS`] in the URL namespace, of `<len(origin)>:<origin>|<kind>|<tree size>|<generated_at
/// µs>` (the length prefix keeps any origin unambiguous). Each object's UUID is the v5 UUID
/// of its path (`result`, `observation/evidence/41`, `finding/<finding id>/<control>`...)
/// under that namespace: stable for the same report, distinct across reports.
pub struct Ids {
    namespace: Uuid,
}

impl Ids {
    pub fn new(report: &Report) -> Ids {
        let root = Uuid::new_v5(&Uuid::NAMESPACE_URL, NS.as_bytes());
        let name = format!(
            "{}:{}|{}|{}|{}",
            report.origin.len(),
            report.origin,
            report.kind.as_str(),
            report.attestation.tree_size,
            report.generated_at.0
        );
        Ids {
            namespace: Uuid::new_v5(&root, name.as_bytes()),
        }
    }

    /// The UUID of the object at `path`.
    pub fn of(&self, path: &str) -> String {
        Uuid::new_v5(&self.namespace, path.as_bytes())
            .hyphenated()
            .to_string()
    }
}

// ---------------------------------------------------------------------------------------
// The document, as far as we use it. Field order is output order; optional arrays are
// skipped when empty, since the schema requires at least one item when present.

#[derive(Serialize)]
struct Document {
    #[serde(rename = "assessment-results")]
    assessment_results: AssessmentResults,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct AssessmentResults {
    uuid: String,
    metadata: Metadata,
    import_ap: ImportAp,
    results: Vec<AssessmentResult>,
    back_matter: BackMatter,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct Metadata {
    title: String,
    last_modified: String,
    version: String,
    oscal_version: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    props: Vec<Prop>,
}

#[derive(Serialize)]
struct ImportAp {
    href: String,
    remarks: String,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct AssessmentResult {
    uuid: String,
    title: String,
    description: String,
    start: String,
    end: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    props: Vec<Prop>,
    reviewed_controls: ReviewedControls,
    attestations: Vec<Attestation>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    observations: Vec<Observation>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    findings: Vec<OscalFinding>,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct ReviewedControls {
    control_selections: Vec<ControlSelection>,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct ControlSelection {
    description: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    include_controls: Vec<SelectControl>,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct SelectControl {
    control_id: String,
}

#[derive(Serialize)]
struct Attestation {
    parts: Vec<Part>,
}

#[derive(Serialize)]
struct Part {
    name: &'static str,
    ns: &'static str,
    title: String,
    prose: String,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct Observation {
    uuid: String,
    title: String,
    description: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    props: Vec<Prop>,
    methods: Vec<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    relevant_evidence: Vec<RelevantEvidence>,
    collected: String,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct RelevantEvidence {
    href: String,
    description: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    props: Vec<Prop>,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct OscalFinding {
    uuid: String,
    title: String,
    description: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    props: Vec<Prop>,
    target: Target,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    related_observations: Vec<RelatedObservation>,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct Target {
    #[serde(rename = "type")]
    kind: &'static str,
    target_id: String,
    status: Status,
}

#[derive(Serialize)]
struct Status {
    state: &'static str,
    reason: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct RelatedObservation {
    observation_uuid: String,
}

#[derive(Serialize)]
struct BackMatter {
    resources: Vec<Resource>,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct Resource {
    uuid: String,
    title: String,
    description: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    props: Vec<Prop>,
    #[serde(skip_serializing_if = "Option::is_none")]
    base64: Option<Base64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    remarks: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct Base64 {
    filename: &'static str,
    media_type: &'static str,
    value: String,
}

#[derive(Serialize)]
struct Prop {
    name: &'static str,
    ns: &'static str,
    value: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    class: Option<&'static str>,
}

/// Props with values that fit `StringDatatype`; a value that is only whitespace is dropped.
#[derive(Default)]
struct Props(Vec<Prop>);

impl Props {
    fn add(mut self, name: &'static str, value: impl AsRef<str>) -> Props {
        if let Some(value) = normalise(value.as_ref()) {
            self.0.push(Prop {
                name,
                ns: NS,
                value,
                class: None,
            });
        }
        self
    }

    fn class(mut self, name: &'static str, value: impl AsRef<str>, class: &'static str) -> Props {
        if let Some(value) = normalise(value.as_ref()) {
            self.0.push(Prop {
                name,
                ns: NS,
                value,
                class: Some(class),
            });
        }
        self
    }
}

/// `StringDatatype` (`^\S(.*\S)?$`): whitespace and control-character runs become one
/// space, none at the ends; `None` when nothing is left.
fn normalise(text: &str) -> Option<String> {
    let words: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .collect();
    if words.is_empty() {
        None
    } else {
        Some(words.join(" "))
    }
}

/// One line of text for a title or a Markdown paragraph: whitespace normalised, and the
/// characters that start Markdown markup escaped (inline ones anywhere, block ones at the
/// start), so log data cannot add links, HTML or headings.
fn md(text: &str) -> String {
    let line = normalise(text).unwrap_or_default();
    let mut out = String::with_capacity(line.len());
    for (i, c) in line.chars().enumerate() {
        let inline = matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~'
        );
        let block = i == 0 && matches!(c, '#' | '-' | '+' | '=');
        if inline || block {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A time as OSCAL `DateTimeWithTimezoneDatatype`: RFC 3339 UTC. The schema's pattern only
/// admits years 1900 to 2999, and (a quirk of it) no 29 February before 2000.
fn time(field: &str, at: Timestamp) -> Result<String, RenderError> {
    let out_of_range = || RenderError::TimeOutOfRange {
        field: field.to_string(),
        micros: at.0,
        format: "OSCAL",
        range: "years 1900 to 2999, no 29 February before 2000",
    };
    let dt = chrono::DateTime::from_timestamp_micros(at.0).ok_or_else(out_of_range)?;
    let year = dt.year();
    if !(1900..=2999).contains(&year) || (year < 2000 && dt.month() == 2 && dt.day() == 29) {
        return Err(out_of_range());
    }
    Ok(at.to_rfc3339())
}

fn day(field: &'static str, value: &str, at: NaiveTime) -> Result<Timestamp, RenderError> {
    let date = NaiveDate::parse_from_str(value, "%Y-%m-%d").map_err(|_| RenderError::Period {
        field,
        value: value.to_string(),
    })?;
    Ok(Timestamp::from_datetime(date.and_time(at).and_utc()))
}

fn seq_list(seqs: &[u64]) -> String {
    seqs.iter()
        .map(|s| format!("#{s}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn assessment_results(report: &Report) -> Result<AssessmentResults, RenderError> {
    let ids = Ids::new(report);
    let kind = report.kind.as_str();
    let generated = time("generated_at", report.generated_at)?;
    let (start, end) = match &report.period {
        Some(period) => {
            let midnight = NaiveTime::MIN;
            let last_second = NaiveTime::from_hms_opt(23, 59, 59).unwrap_or(NaiveTime::MIN);
            (
                time("period from", day("from", &period.from, midnight)?)?,
                time("period to", day("to", &period.to, last_second)?)?,
            )
        }
        None => (generated.clone(), generated.clone()),
    };
    let policy_uuid = ids.of("resource/policy");
    let checkpoint_uuid = ids.of("resource/checkpoint");
    let attestation = &report.attestation;

    // Every cited ledger entry, once, by seq.
    let mut cited: BTreeMap<u64, &Evidence> = BTreeMap::new();
    let all_evidence = report
        .evidence
        .iter()
        .chain(report.findings.iter().flat_map(|f| &f.evidence));
    for entry in all_evidence {
        match cited.get(&entry.seq) {
            Some(seen) if seen.hash != entry.hash => {
                return Err(RenderError::EvidenceConflict {
                    seq: entry.seq,
                    first: seen.hash.clone(),
                    second: entry.hash.clone(),
                })
            }
            Some(_) => {}
            None => {
                cited.insert(entry.seq, entry);
            }
        }
    }

    let mut observations = Vec::new();
    let mut reviewed: Vec<String> = Vec::new();
    let mut row_observations: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let row_tokens: Vec<String> = report
        .summary
        .iter()
        .map(|row| control_token(&row.id, kind))
        .collect();

    // One observation per summary row: the test and its counts.
    for (index, (row, token)) in report.summary.iter().zip(&row_tokens).enumerate() {
        let uuid = ids.of(&format!("observation/summary/{index}"));
        row_observations
            .entry(token.clone())
            .or_default()
            .push(uuid.clone());
        if !reviewed.contains(token) {
            reviewed.push(token.clone());
        }
        let mut description = vec![format!(
            "{}: tested a population of {}; {} exception(s). Conclusion: {}",
            md(&row.id),
            row.population,
            row.exceptions,
            md(&row.conclusion)
        )];
        for section in report.sections.iter().filter(|s| s.id == row.id) {
            for paragraph in &section.paragraphs {
                description.push(match &paragraph.label {
                    Some(label) => format!("**{}.** {}", md(label), md(&paragraph.text)),
                    None => md(&paragraph.text),
                });
            }
        }
        observations.push(Observation {
            uuid,
            title: md(&format!("{} {}", row.id, row.title)),
            description: description.join("\n\n"),
            props: Props::default()
                .add("control-id", &row.id)
                .add("population", row.population.to_string())
                .add("exceptions", row.exceptions.to_string())
                .add("conclusion", &row.conclusion)
                .0,
            methods: vec!["TEST"],
            relevant_evidence: Vec::new(),
            collected: generated.clone(),
        });
    }

    // One observation per cited ledger entry.
    let mut entry_observations: BTreeMap<u64, String> = BTreeMap::new();
    for (seq, entry) in &cited {
        let uuid = ids.of(&format!("observation/evidence/{seq}"));
        entry_observations.insert(*seq, uuid.clone());
        observations.push(Observation {
            uuid,
            title: md(&format!(
                "Ledger entry #{seq}: {} ({})",
                entry.kind, entry.source
            )),
            description: format!(
                "Ledger entry #{seq}: an event of kind {} from {} at {}, chain hash {}.",
                md(&entry.kind),
                md(&entry.source),
                entry.occurred_at,
                md(&entry.hash)
            ),
            props: Props::default()
                .add("ledger-seq", seq.to_string())
                .class("entry-hash", &entry.hash, "blake3")
                .add("event-kind", &entry.kind)
                .add("event-source", &entry.source)
                .add(
                    "occurred-at",
                    time(&format!("evidence #{seq}"), entry.occurred_at)?,
                )
                .0,
            methods: vec!["EXAMINE"],
            relevant_evidence: vec![RelevantEvidence {
                href: format!("#{checkpoint_uuid}"),
                description: format!(
                    "The signed ledger checkpoint (tree size {}) that includes entry #{seq}; \
                     an inclusion proof of the entry against it verifies the entry.",
                    attestation.tree_size
                ),
                props: Props::default()
                    .add("ledger-seq", seq.to_string())
                    .add("tree-size", attestation.tree_size.to_string())
                    .0,
            }],
            collected: generated.clone(),
        });
    }

    // Findings: one per (finding, control), not satisfied.
    let mut findings = Vec::new();
    let mut targeted: BTreeSet<String> = BTreeSet::new();
    let mut paths: BTreeMap<String, usize> = BTreeMap::new();
    for finding in &report.findings {
        // A finding without (non-blank) controls targets its rule.
        let mut controls: Vec<&str> = finding
            .controls
            .iter()
            .map(String::as_str)
            .filter(|c| normalise(c).is_some())
            .collect();
        if controls.is_empty() {
            controls.push(finding.rule.as_str());
        }
        let seqs: Vec<u64> = finding.evidence.iter().map(|e| e.seq).collect();
        let at = time(&format!("finding {:?}", finding.id), finding.at)?;
        let mut description = vec![
            format!("{}\n", md(&finding.summary)),
            format!("- Rule: {}", md(&finding.rule)),
            format!("- Severity: {}", finding.severity),
            format!(
                "- Subject: {}{}",
                md(&finding.subject),
                finding
                    .person
                    .as_deref()
                    .map(md)
                    .filter(|p| !p.is_empty())
                    .map(|p| format!(" ({p})"))
                    .unwrap_or_default()
            ),
            format!("- At: {at}"),
            format!("- Ledger entries: {}", seq_list(&seqs)),
        ];
        for (key, value) in &finding.details {
            description.push(format!("- {}: {}", md(key), md(value)));
        }
        let description = description.join("\n");
        for control in controls {
            let token = control_token(control, kind);
            let path = format!("finding/{}/{}", finding.id, control);
            let seen = paths.entry(path.clone()).or_insert(0);
            *seen += 1;
            let path = if *seen == 1 {
                path
            } else {
                format!("{path}#{seen}")
            };
            if !reviewed.contains(&token) {
                reviewed.push(token.clone());
            }
            targeted.insert(token.clone());
            let mut related: Vec<String> = seqs
                .iter()
                .filter_map(|s| entry_observations.get(s).cloned())
                .collect();
            related.extend(row_observations.get(&token).into_iter().flatten().cloned());
            related.dedup();
            findings.push(OscalFinding {
                uuid: ids.of(&path),
                title: md(&finding.summary),
                description: description.clone(),
                props: Props::default()
                    .add("finding-id", &finding.id)
                    .add("rule", &finding.rule)
                    .add("severity", finding.severity.as_str())
                    .add("subject", &finding.subject)
                    .add("control-id", control)
                    .add("at", &at)
                    .0,
                target: Target {
                    kind: "objective-id",
                    target_id: token,
                    status: Status {
                        state: "not-satisfied",
                        reason: "fail",
                    },
                },
                related_observations: related
                    .into_iter()
                    .map(|observation_uuid| RelatedObservation { observation_uuid })
                    .collect(),
            });
        }
    }

    // Summary rows no finding targets: satisfied when they have no exceptions.
    for (index, (row, token)) in report.summary.iter().zip(&row_tokens).enumerate() {
        if targeted.contains(token) {
            continue;
        }
        // A control tested on nobody is not satisfied by default.
        let untested = row.population == 0;
        let satisfied = row.exceptions == 0 && !untested;
        findings.push(OscalFinding {
            uuid: ids.of(&format!("finding/summary/{index}")),
            title: md(&format!("{} {}: {}", row.id, row.title, row.conclusion)),
            description: if untested {
                format!(
                    "Not tested: the population is empty. {}",
                    md(&row.conclusion)
                )
            } else if satisfied {
                format!(
                    "No exceptions in a population of {}. {}",
                    row.population,
                    md(&row.conclusion)
                )
            } else {
                format!(
                    "{} exception(s) in a population of {}, none of them a finding in this \
                     report. {}",
                    row.exceptions,
                    row.population,
                    md(&row.conclusion)
                )
            },
            props: Props::default()
                .add("control-id", &row.id)
                .add("population", row.population.to_string())
                .add("exceptions", row.exceptions.to_string())
                .0,
            target: Target {
                kind: "objective-id",
                target_id: token.clone(),
                status: if untested {
                    Status {
                        state: "not-satisfied",
                        reason: "other",
                    }
                } else if satisfied {
                    Status {
                        state: "satisfied",
                        reason: "pass",
                    }
                } else {
                    Status {
                        state: "not-satisfied",
                        reason: "fail",
                    }
                },
            },
            related_observations: vec![RelatedObservation {
                observation_uuid: ids.of(&format!("observation/summary/{index}")),
            }],
        });
    }

    let selection = if reviewed.is_empty() {
        ControlSelection {
            description: "The report tests no control.".to_string(),
            include_controls: Vec::new(),
        }
    } else {
        ControlSelection {
            description: "The controls the report tests, and every control a finding cites. \
                          Ids are tokens of the framework's ids (see the control-id props)."
                .to_string(),
            include_controls: reviewed
                .into_iter()
                .map(|control_id| SelectControl { control_id })
                .collect(),
        }
    };

    let verified = if attestation.verified {
        "passed"
    } else {
        "FAILED"
    };
    let period_text = report
        .period
        .as_ref()
        .map(|p| {
            format!(
                " Period: {} to {} (UTC, inclusive).",
                md(&p.from),
                md(&p.to)
            )
        })
        .unwrap_or_default();

    let checkpoint_text = &attestation.checkpoint;
    let fence = "`".repeat(longest_backtick_run(checkpoint_text).max(2) + 1);
    let checkpoint = Resource {
        uuid: checkpoint_uuid,
        title: md(&format!(
            "Ledger checkpoint: {}, tree size {}",
            report.origin, attestation.tree_size
        )),
        description: format!(
            "The signed checkpoint (C2SP signed note) of the ledger prefix this report was \
             computed from. The base64 value is the note's exact text. Check it with the \
             verifier key; key fingerprint {}. Verification {}: {}{}",
            md(&attestation.key_fingerprint),
            verified,
            md(&attestation.verification),
            attestation
                .checkpoint_signed_at
                .as_deref()
                .map(|t| format!(" The checkpoint was signed at {}.", md(t)))
                .unwrap_or_default()
        ),
        props: Props::default()
            .add("ledger-origin", &report.origin)
            .add("tree-size", attestation.tree_size.to_string())
            .class("root", &attestation.root, "base64")
            .add("verifier-key", &attestation.verifier_key)
            .add("key-fingerprint", &attestation.key_fingerprint)
            .add("verified", attestation.verified.to_string())
            .add("verification", &attestation.verification)
            .add(
                "checkpoint-signed-at",
                attestation
                    .checkpoint_signed_at
                    .as_deref()
                    .unwrap_or_default(),
            )
            .add("time-pinned", report.time_pinned.to_string())
            .0,
        base64: (!checkpoint_text.is_empty()).then(|| Base64 {
            filename: "checkpoint.txt",
            media_type: "text/plain; charset=utf-8",
            value: base64::engine::general_purpose::STANDARD.encode(checkpoint_text),
        }),
        remarks: (!checkpoint_text.is_empty()).then(|| {
            format!(
                "{fence}\n{}\n{fence}",
                checkpoint_text.trim_end_matches('\n')
            )
        }),
    };
    let policy = Resource {
        uuid: policy_uuid.clone(),
        title: md(&format!(
            "Assessment plan: policy profile {}",
            report.policy.profile
        )),
        description: format!(
            "The assessment plan is the access policy evaluated over the ledger: profile {}, \
             BLAKE3 of the policy file as evaluated {}.",
            md(&report.policy.profile),
            md(&report.policy.hash)
        ),
        props: Props::default()
            .add("policy-profile", &report.policy.profile)
            .class("policy-hash", &report.policy.hash, "blake3")
            .0,
        base64: None,
        remarks: None,
    };

    Ok(AssessmentResults {
        uuid: ids.of("assessment-results"),
        metadata: Metadata {
            title: md(&report.title),
            last_modified: generated.clone(),
            version: generated.clone(),
            oscal_version: OSCAL_VERSION,
            props: Props::default()
                .add("report-kind", kind)
                .add("schema-version", report.schema_version.to_string())
                .add("ledger-origin", &report.origin)
                .add("tree-size", attestation.tree_size.to_string())
                .0,
        },
        import_ap: ImportAp {
            href: format!("#{policy_uuid}"),
            remarks: "There is no separate OSCAL assessment plan: the plan is the access \
                      policy, described in back-matter."
                .to_string(),
        },
        results: vec![AssessmentResult {
            uuid: ids.of("result"),
            title: md(&report.title),
            description: format!("{}.{period_text}", md(&report.subtitle)),
            start,
            end,
            props: Vec::new(),
            reviewed_controls: ReviewedControls {
                control_selections: vec![selection],
            },
            attestations: vec![Attestation {
                parts: vec![Part {
                    name: "ledger-integrity",
                    ns: NS,
                    title: "Ledger integrity".to_string(),
                    prose: format!(
                        "The report reads the ledger {} up to tree size {}, root {}, signed \
                         by key {}. Full verification at generation time {}: {}",
                        md(&report.origin),
                        attestation.tree_size,
                        md(&attestation.root),
                        md(&attestation.key_fingerprint),
                        verified,
                        md(&attestation.verification)
                    ),
                }],
            }],
            observations,
            findings,
        }],
        back_matter: BackMatter {
            resources: vec![policy, checkpoint],
        },
    })
}

fn longest_backtick_run(text: &str) -> usize {
    text.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::{control_token, md, normalise};

    #[test]
    fn control_ids_map_to_tokens() {
        let cases = [
            ("CC6.1", "soc2", "cc6.1"),
            ("SOC2:CC6.2", "hipaa", "cc6.2"),
            (
                "HIPAA:164.308(a)(1)(ii)(D)",
                "soc2",
                "hipaa-164.308-a-1-ii-d",
            ),
            ("164.308(a)(3)(ii)(C)", "hipaa", "hipaa-164.308-a-3-ii-c"),
            ("164.312(b)", "hipaa", "hipaa-164.312-b"),
            ("HIPAA:164.312(c)(1)", "soc2", "hipaa-164.312-c-1"),
            (
                "access-after-expiry",
                "access-after-expiry",
                "access-after-expiry",
            ),
            ("", "soc2", "soc2"),
            ("((", "hipaa", "hipaa"),
            ("1:2", "soc2", "control-2"),
            ("Ünïcode ctrl", "soc2", "n-code-ctrl"),
            (":x", "soc2", "x"),
        ];
        for (id, framework, token) in cases {
            assert_eq!(control_token(id, framework), token, "{id:?}");
        }
    }

    #[test]
    fn md_escapes_markup_from_log_data() {
        assert_eq!(
            md("[x](http://e) <b> *a*_b_ `c`"),
            "\\[x\\](http://e) \\<b\\> \\*a\\*\\_b\\_ \\`c\\`"
        );
        assert_eq!(md("# heading"), "\\# heading");
        assert_eq!(md("entry #12\nnext"), "entry #12 next");
    }

    #[test]
    fn normalise_fits_string_datatype() {
        assert_eq!(normalise("  a \n b\t"), Some("a b".to_string()));
        assert_eq!(normalise("\u{1c}x\u{0}"), Some("x".to_string()));
        assert_eq!(normalise(" \n "), None);
    }
}
