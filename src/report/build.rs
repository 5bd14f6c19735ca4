//! Builds each report kind's data from a policy check: the population each control was
//! tested on, the exceptions (findings) with their evidence, timelines, and conclusions.
//!
//! Invariants: a builder reads only the check result and the facts gathered from the same
//! ledger prefix, plus the pinned `now`; every seq it cites is in `Report::evidence`.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use thiserror::Error;

use crate::event::Timestamp;
use crate::finding::{Evidence, Finding};
use crate::policy::config::Policy;
use crate::policy::facts::{idp_of, Facts};
use crate::policy::rules::reminders;
use crate::policy::{CheckResult, PersonStatus};
use crate::report::model::*;

#[derive(Debug, Error)]
pub enum BuildError {
    #[error("--sprint is required for the sprint-review report")]
    SprintMissing,
    #[error("no sprint {0:?} in the ledger's sprint calendar")]
    UnknownSprint(String),
}

/// Timeline pictures per section: a reader studies a few; thousands only slow the PDF.
const MAX_TIMELINES: usize = 25;

/// What a report is built from.
pub struct Inputs<'a> {
    pub check: &'a CheckResult,
    /// The policy the check ran under (the upcoming report reads its reminder and
    /// approval rules as the check does).
    pub policy: &'a Policy,
    pub facts: &'a Facts,
    pub attestation: Attestation,
    pub origin: String,
    /// The generation time; also the "now" of the upcoming report.
    pub now: Timestamp,
    /// Whether `now` was pinned with `--now`.
    pub time_pinned: bool,
    /// Inclusive dates (UTC) the evidence reports cover; `None` means everything.
    pub period: Option<(NaiveDate, NaiveDate)>,
    pub sprint: Option<String>,
    pub days: u32,
}

/// A control an evidence report tests.
struct Control {
    /// As the findings name it: `SOC2:CC6.1`.
    id: &'static str,
    title: &'static str,
    paraphrase: &'static str,
    test: &'static str,
    population: Population,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Population {
    People,
    Requests,
    Ledger,
}

const PEOPLE_TEST: &str = "For every contractor whose access ended in the period, the effective expiry (contract end at end of day in their zone, aligned to the sprint, plus extensions approved under the policy) was compared with every IdP deactivation, session and token revocation, and every sign-in, session use and token use recorded in the ledger.";

/// What CC6.2 and HIPAA's termination procedures test: each step of removing access.
const REMOVAL_TEST: &str = "For every contractor whose access ended in the period, each step of removing it was checked against the effective expiry (contract end at end of day in their zone, aligned to the sprint, plus extensions approved under the policy): the 7- and 2-day reminders delivered to a current contact, the review before expiry, the deactivation in every identity provider within the policy's grace, the revocation of sessions and of every known token, and any use of access after expiry.";

const SOC2: &[Control] = &[
    Control { id: "SOC2:CC6.1", title: "Logical access security", paraphrase: "Logical access to information assets is restricted: credentials, sessions and keys stop working when access is no longer authorised.", test: PEOPLE_TEST, population: Population::People },
    Control { id: "SOC2:CC6.2", title: "Registration and removal of access", paraphrase: "Access of users whose engagement ends is removed on time, with reminders to the people responsible and review before removal.", test: REMOVAL_TEST, population: Population::People },
    Control { id: "SOC2:CC6.3", title: "Authorised changes to access", paraphrase: "Changes to access, such as extensions beyond the contract end, are authorised by the required roles and aligned to the work.", test: "Every extension request and emergency grant was checked for two distinct approvers in the required roles (neither the requester), decisions within the time limit and before the old expiry, a recorded reason and, for emergencies, a grant of at most 24 hours; expiries were checked against the sprint calendar.", population: Population::Requests },
    Control { id: "SOC2:CC7.2", title: "Monitoring for anomalies", paraphrase: "Activity is monitored for anomalies such as use of credentials after they should have been revoked.", test: "Every access and failed authentication after each contractor's effective expiry was identified from the IdP and application logs in the ledger.", population: Population::People },
    Control { id: "SOC2:CC7.3", title: "Evaluation of security events", paraphrase: "Detected events are evaluated to determine whether they are incidents (for example a client still using expired credentials).", test: "Failed authentication attempts after expiry were counted per person and source and listed for follow-up.", population: Population::People },
    Control { id: "SOC2:CC2.1", title: "Quality of information: ledger integrity", paraphrase: "The evidence used is complete and unaltered: the ledger is append-only, hash-chained, in an RFC 6962 Merkle tree and signed.", test: "A full verification recomputed every entry hash, chain link, Merkle root and checkpoint signature of the ledger at generation time.", population: Population::Ledger },
];

const HIPAA: &[Control] = &[
    Control { id: "HIPAA:164.308(a)(1)(ii)(D)", title: "Information system activity review", paraphrase: "Records of information system activity, such as audit logs and access reports, are regularly reviewed.", test: "Sign-in, session and token activity of every contractor was reviewed against their effective expiry; access and failed attempts after expiry were listed.", population: Population::People },
    Control { id: "HIPAA:164.308(a)(3)(ii)(C)", title: "Termination procedures", paraphrase: "Access to ePHI ends when a workforce member's employment or engagement ends.", test: REMOVAL_TEST, population: Population::People },
    Control { id: "HIPAA:164.308(a)(4)", title: "Information access management", paraphrase: "Access is authorised, established and modified under documented policies, including approved extensions.", test: "Every extension request was checked against the approval policy (two required roles, time limits, reason, emergency limit) and expiries against the sprint calendar.", population: Population::Requests },
    Control { id: "HIPAA:164.308(a)(5)(ii)(C)", title: "Log-in monitoring", paraphrase: "Log-in attempts are monitored and discrepancies reported.", test: "Failed authentication attempts after expiry were counted per person and source.", population: Population::People },
    Control { id: "HIPAA:164.312(b)", title: "Audit controls", paraphrase: "Mechanisms record and examine activity in systems that contain ePHI. The ledger keeps every record with its raw original; HIPAA requires documentation to be retained for six years (164.316(b)(2)(i)): keep the ledger and this report at least that long.", test: "Access after expiry was examined in the recorded activity of every contractor.", population: Population::People },
    Control { id: "HIPAA:164.312(c)(1)", title: "Integrity of the audit evidence", paraphrase: "Evidence is protected from improper alteration: the ledger is append-only, hash-chained and signed.", test: "A full verification recomputed every hash, link, root and signature at generation time.", population: Population::Ledger },
    Control { id: "HIPAA:164.312(d)", title: "Person or entity authentication", paraphrase: "Only the authorised person can authenticate: sessions and tokens of a departed contractor are revoked.", test: "Session revocation within the policy's limit of deactivation, and revocation of every known token, PAT and API key, were checked.", population: Population::People },
];

/// A report kind, described once: its title, the line under it, and what builds its
/// summary and sections. The two evidence reports are the same builder over their own
/// controls; a new kind is one entry here and, if its sections are new, one builder.
struct Description {
    title: &'static str,
    lead: &'static str,
    sections: Sections,
}

enum Sections {
    /// One section per control, each tested on its population.
    Controls(&'static [Control]),
    AccessAfterExpiry,
    SprintReview,
    Upcoming,
}

fn description(kind: ReportKind) -> Description {
    let (title, lead, sections) = match kind {
        ReportKind::Soc2 => (
            "SOC 2 evidence: contractor access",
            "Trust Services Criteria CC6, CC7 and CC2.1",
            Sections::Controls(SOC2),
        ),
        ReportKind::Hipaa => (
            "HIPAA Security Rule evidence: contractor access",
            "45 CFR 164.308 and 164.312",
            Sections::Controls(HIPAA),
        ),
        ReportKind::AccessAfterExpiry => (
            "Access after expiry",
            "Every access or attempt after a contractor's access expired",
            Sections::AccessAfterExpiry,
        ),
        ReportKind::SprintReview => (
            "Post-sprint access review",
            "Expirations, extensions and failed logins in one sprint",
            Sections::SprintReview,
        ),
        ReportKind::Upcoming => (
            "Upcoming access expirations",
            "Who loses access soon, and what is still missing",
            Sections::Upcoming,
        ),
    };
    Description {
        title,
        lead,
        sections,
    }
}

/// Builds `kind`.
pub fn build(kind: ReportKind, inputs: &Inputs) -> Result<Report, BuildError> {
    let described = description(kind);
    let mut b = Builder::new(kind, &described, inputs);
    match described.sections {
        Sections::Controls(controls) => b.controls(controls),
        Sections::AccessAfterExpiry => b.access_after_expiry(),
        Sections::SprintReview => b.sprint_review()?,
        Sections::Upcoming => b.upcoming(),
    }
    Ok(b.finish())
}

struct Builder<'a> {
    inputs: &'a Inputs<'a>,
    report: Report,
    /// Findings in scope (the period's population).
    findings: Vec<&'a Finding>,
    people: Vec<&'a PersonStatus>,
    cited: BTreeMap<u64, Evidence>,
    /// Seqs of controls a timeliness finding cites as late ([`late_controls`]).
    late: BTreeSet<u64>,
}

fn date_of(t: Timestamp) -> NaiveDate {
    t.to_datetime().date_naive()
}

/// Adds a marker `label` at `at`, or, when a deadline already stands at that instant,
/// names it in that deadline's label ("expiry (sprint auth-5 ends)"): two labels on one
/// line would overlap.
fn add_or_name_deadline(markers: &mut Vec<Marker>, at: Timestamp, label: &str, kind: MarkerKind) {
    match markers
        .iter_mut()
        .find(|m| m.kind == MarkerKind::Deadline && m.at == at)
    {
        Some(deadline) => deadline.label = format!("{} ({label})", deadline.label),
        None => markers.push(Marker {
            at,
            label: label.to_string(),
            kind,
            seq: None,
        }),
    }
}

fn col(key: &str, title: &str, width: u8) -> Column {
    Column {
        key: key.into(),
        title: title.into(),
        width,
    }
}

fn text(s: impl Into<String>) -> Cell {
    Cell::Text(s.into())
}

fn para(label: &str, t: &str) -> Paragraph {
    Paragraph {
        label: Some(label.into()),
        text: t.into(),
    }
}

fn short_id(id: &str) -> &str {
    id.split_once(':').map(|(_, c)| c).unwrap_or(id)
}

impl<'a> Builder<'a> {
    fn new(kind: ReportKind, described: &Description, inputs: &'a Inputs<'a>) -> Builder<'a> {
        let in_period = |t: Timestamp| match inputs.period {
            Some((from, to)) => (from..=to).contains(&date_of(t)),
            None => true,
        };
        let people: Vec<&PersonStatus> = inputs
            .check
            .people
            .iter()
            .filter(|p| in_period(p.access_end))
            .collect();
        let emails: BTreeSet<&str> = people.iter().map(|p| p.email.as_str()).collect();
        let findings = inputs
            .check
            .findings
            .iter()
            .filter(|f| emails.contains(f.subject.as_str()))
            .collect();
        let period = inputs.period.map(|(from, to)| Period {
            from: from.to_string(),
            to: to.to_string(),
        });
        let when = match &period {
            Some(p) => format!("{} to {}", p.from, p.to),
            None => "all records".into(),
        };
        Builder {
            inputs,
            report: Report {
                schema_version: SCHEMA_VERSION,
                kind,
                title: described.title.into(),
                subtitle: format!("{}; {}, {when}", described.lead, inputs.origin),
                origin: inputs.origin.clone(),
                period,
                generated_at: inputs.now,
                time_pinned: inputs.time_pinned,
                policy: PolicyRef {
                    profile: inputs.check.policy_profile.clone(),
                    hash: inputs.check.policy_hash.clone(),
                },
                attestation: inputs.attestation.clone(),
                summary: Vec::new(),
                sections: Vec::new(),
                evidence: Vec::new(),
                findings: Vec::new(),
            },
            findings,
            people,
            cited: BTreeMap::new(),
            late: late_controls(&inputs.check.findings),
        }
    }

    fn cite(&mut self, evidence: &[Evidence]) -> Cell {
        for e in evidence {
            self.cited.entry(e.seq).or_insert_with(|| e.clone());
        }
        Cell::Seqs(evidence.iter().map(|e| e.seq).collect())
    }

    fn cite_finding(&mut self, f: &Finding) -> Cell {
        self.cite(&f.evidence)
    }

    fn people_table(&mut self, name: &str, control: Option<&str>) -> Table {
        let mut rows = Vec::new();
        for p in self.people.clone() {
            let exceptions = self
                .findings
                .iter()
                .filter(|f| {
                    f.subject == p.email
                        && control.is_none_or(|c| f.controls.iter().any(|x| x == c))
                })
                .count();
            let seqs = self.cite(std::slice::from_ref(&p.roster));
            rows.push(vec![
                text(&p.name),
                text(p.team.clone().unwrap_or_default()),
                text(&p.last_day),
                Cell::Time(p.expiry),
                text(&p.expiry_local),
                p.deactivated_at.map(Cell::Time).unwrap_or(Cell::Empty),
                Cell::Count(exceptions as u64),
                seqs,
            ]);
        }
        Table {
            name: name.into(),
            title: "Population: contractors whose access ended in the period".into(),
            columns: vec![
                col("person", "Person", 3),
                col("team", "Team", 2),
                col("contract_end", "Contract end", 2),
                col("expiry_utc", "Effective expiry (UTC)", 3),
                col("expiry_local", "Expiry (local)", 4),
                col("deactivated_at", "Deactivated (UTC)", 3),
                // Findings about the person; the summary's Exceptions count people.
                col("exceptions", "Findings", 1),
                col("roster_seq", "Roster", 2),
            ],
            rows,
            empty_text: "No contractor's access ended in the period.".into(),
        }
    }

    fn requests_table(&mut self, name: &str) -> Table {
        let emails: BTreeSet<&str> = self.people.iter().map(|p| p.email.as_str()).collect();
        let mut rows = Vec::new();
        for r in self.inputs.facts.requests.values() {
            if !emails.contains(r.subject.as_str()) {
                continue;
            }
            let finding = self
                .findings
                .iter()
                .find(|f| {
                    f.rule == "extension-approval" && f.details.get("request_id") == Some(&r.id)
                })
                .copied();
            let mut evidence: Vec<Evidence> = r.requested.iter().map(|c| c.evidence()).collect();
            evidence.extend(r.decisions.iter().map(|d| d.cite.evidence()));
            let approvers: Vec<String> = r
                .decisions
                .iter()
                .map(|d| {
                    format!(
                        "{} {} ({}) {}",
                        if d.approved { "approved" } else { "denied" },
                        d.actor,
                        d.role,
                        // As the report's other times read (a decision is to the minute).
                        d.cite.at.to_datetime().format("%Y-%m-%d %H:%M UTC")
                    )
                })
                .collect();
            let name_of = self
                .inputs
                .check
                .people
                .iter()
                .find(|p| p.email == r.subject)
                .map(|p| p.name.clone())
                .unwrap_or(r.subject.clone());
            let seqs = self.cite(&evidence);
            rows.push(vec![
                text(&r.id),
                text(name_of),
                text(r.requester.clone().unwrap_or_default()),
                r.requested
                    .as_ref()
                    .map(|c| Cell::Time(c.at))
                    .unwrap_or(Cell::Empty),
                // An exact time reads as the report's other times; a date (the end of that
                // day in the contractor's zone) stays as the request gave it.
                match r.new_expiry.as_deref().map(Timestamp::parse_rfc3339) {
                    Some(Ok(at)) => Cell::Time(at),
                    _ => text(r.new_expiry.clone().unwrap_or_default()),
                },
                text(if r.emergency { "yes" } else { "no" }),
                text(approvers.join("; ")),
                text(match finding {
                    Some(f) => f.summary.clone(),
                    None => "Meets the policy".into(),
                }),
                seqs,
            ]);
        }
        Table {
            name: name.into(),
            title: "Population: extension requests and emergency grants".into(),
            columns: vec![
                col("request_id", "Request", 1),
                col("person", "Person", 2),
                col("requester", "Requested by", 2),
                col("requested_at", "Requested (UTC)", 2),
                col("new_expiry", "New expiry", 2),
                col("emergency", "Emergency", 1),
                col("decisions", "Decisions", 4),
                col("assessment", "Assessment", 4),
                col("evidence", "Evidence", 2),
            ],
            rows,
            empty_text: "No extension was requested in the period.".into(),
        }
    }

    fn exceptions_table(&mut self, name: &str, findings: &[&Finding]) -> Table {
        let mut rows = Vec::new();
        for f in findings {
            let seqs = self.cite_finding(f);
            rows.push(vec![
                Cell::Severity(f.severity),
                text(f.person.clone().unwrap_or(f.subject.clone())),
                text(&f.rule),
                text(&f.summary),
                Cell::Time(f.at),
                seqs,
            ]);
        }
        Table {
            name: name.into(),
            title: "Exceptions".into(),
            columns: vec![
                col("severity", "Severity", 1),
                col("person", "Person", 2),
                col("rule", "Rule", 2),
                col("summary", "What happened", 6),
                col("at", "When (UTC)", 2),
                col("evidence", "Evidence", 2),
            ],
            rows,
            empty_text: "No exceptions.".into(),
        }
    }

    fn timeline(&mut self, f: &Finding) -> Timeline {
        let mut markers = Vec::new();
        let context = self.context_markers(f);
        if let Some(expiry) = f
            .details
            .get("expiry")
            .and_then(|t| Timestamp::parse_rfc3339(t).ok())
        {
            markers.push(Marker {
                at: expiry,
                label: "expiry".into(),
                kind: MarkerKind::Deadline,
                seq: None,
            });
        }
        for e in &f.evidence {
            let kind = match e.kind.as_str() {
                "roster.entry" | "sprint.defined" => continue,
                "account.deactivated"
                | "account.suspended"
                | "account.deleted"
                | "session.revoked"
                | "token.revoked"
                | "extension.approved" => MarkerKind::Control,
                "auth.succeeded" | "session.started" | "session.activity" | "token.used"
                | "access.used" => MarkerKind::Violation,
                "auth.failed" => MarkerKind::Attempt,
                _ => MarkerKind::Note,
            };
            markers.push(Marker {
                at: e.occurred_at,
                label: format!("{} ({})", e.kind, e.source),
                kind,
                seq: Some(e.seq),
            });
        }
        markers.extend(context);
        // Sprint alignment sets when access ended beside when the sprint ends.
        let detail_time = |key: &str| {
            f.details
                .get(key)
                .and_then(|t| Timestamp::parse_rfc3339(t).ok())
        };
        // Where such an instant is the expiry itself, one line is named for both.
        // A timezone finding about an expiry set is about the instant it set, which is not
        // the roster's expiry drawn above: without it the timeline shows no exception.
        if f.rule == "timezone" && f.details.get("action").map(String::as_str) == Some("expiry set")
        {
            markers.push(Marker {
                at: f.at,
                label: "expiry as set in the IdP".into(),
                kind: MarkerKind::Deadline,
                seq: None,
            });
        }
        if let Some(at) = detail_time("access_end") {
            add_or_name_deadline(&mut markers, at, "access ended", MarkerKind::Note);
        }
        if let Some(at) = detail_time("sprint_end_at") {
            let sprint = f.details.get("sprint").map(String::as_str).unwrap_or("");
            let label = format!("sprint {sprint} ends");
            add_or_name_deadline(&mut markers, at, &label, MarkerKind::Deadline);
        }
        // An extension's decisions were due within the policy's hours of the request: the
        // deadline is drawn, and an approval after it is a late control.
        let decide_by = detail_time("decide_by");
        if let Some(due) = decide_by {
            markers.push(Marker {
                at: due,
                label: "decision deadline".into(),
                kind: MarkerKind::Deadline,
                seq: None,
            });
        }
        // An extension (not an emergency grant) must also be approved before the old
        // expiry: an approval after it is late however soon after the request.
        let approve_by = match (decide_by, detail_time("old_expiry")) {
            (Some(due), Some(old))
                if f.details.get("emergency").map(String::as_str) == Some("false") =>
            {
                Some(due.min(old))
            }
            (due, _) => due,
        };
        // On an access-after-expiry timeline, the first closing of the account after the
        // access it found came too late, also where no rule cites it: the deactivation
        // rule reads the IdP's, not a GitHub removal two weeks after the expiry. (A later
        // closing, such as the routine deletion after a disable, is not the control.)
        let closing = |m: &Marker| {
            [
                "account.deactivated",
                "account.suspended",
                "account.deleted",
            ]
            .iter()
            .any(|k| m.label.starts_with(k))
        };
        let first_closing = markers.iter().filter(|m| closing(m)).map(|m| m.at).min();
        let closed_after_use =
            f.rule == "access-after-expiry" && first_closing.is_some_and(|at| at > f.at);
        for m in &mut markers {
            let late_approval = m.label.starts_with("extension.approved")
                && approve_by.is_some_and(|due| m.at > due);
            let closed_late = closed_after_use && closing(m) && Some(m.at) == first_closing;
            let cited_late = m.seq.is_some_and(|s| self.late.contains(&s));
            if m.kind == MarkerKind::Control && (cited_late || late_approval || closed_late) {
                m.kind = MarkerKind::LateControl;
            }
            let cited = m.seq.is_some_and(|s| f.evidence.iter().any(|e| e.seq == s));
            if f.rule == "timezone" && m.kind == MarkerKind::Control && cited {
                m.kind = MarkerKind::EarlyControl;
            }
        }
        markers.sort_by_key(|m| (m.at, m.seq));
        // One person may have several findings of a rule (one per source, request or
        // reminder): the title says which, or two timelines read as the same.
        let which = [
            ("source", ""),
            ("idp", ""),
            ("request_id", ""),
            ("action", ""),
            ("sprint", "sprint "),
            ("days_before", "days before: "),
        ]
        .iter()
        .find_map(|(key, lead)| f.details.get(*key).map(|v| format!(" ({lead}{v})")))
        .unwrap_or_default();
        Timeline {
            title: format!(
                "{}: {}{which}",
                f.person.as_deref().unwrap_or(&f.subject),
                f.rule
            ),
            markers,
        }
    }

    /// The controls acting around a finding (deactivations, session and token
    /// revocations of the same person, from two days before the expiry to three days after the
    /// last event it cites), so each timeline shows what was done as well as what went
    /// wrong. They are cited like any evidence.
    fn context_markers(&mut self, f: &Finding) -> Vec<Marker> {
        let Some(expiry) = f
            .details
            .get("expiry")
            .and_then(|t| Timestamp::parse_rfc3339(t).ok())
        else {
            return Vec::new();
        };
        const DAY: i64 = 86_400_000_000;
        // A sprint-alignment finding is about access that ended before the expiry: the
        // window opens before that end.
        let from = f
            .details
            .get("access_end")
            .and_then(|t| Timestamp::parse_rfc3339(t).ok())
            .map_or(expiry, |end| end.min(expiry));
        let last = f
            .evidence
            .iter()
            .map(|e| e.occurred_at)
            .max()
            .unwrap_or(expiry)
            .max(expiry);
        let cited: BTreeSet<u64> = f.evidence.iter().map(|e| e.seq).collect();
        // A finding about one IdP (access through it, a late revocation there) shows that
        // IdP's controls only, and its deactivation however late it came: that is when
        // the access it is about ended. Another IdP's controls on the same chart misled.
        let idp = f
            .details
            .get("source")
            .or_else(|| f.details.get("idp"))
            .filter(|s| crate::sources::has_own_controls(s))
            .map(|s| idp_of(s).to_string());
        let mut found = Vec::new();
        for a in self.inputs.facts.acts_of(&f.subject) {
            let c = &a.cite;
            let deactivation = crate::policy::expiry::is_deactivation(c.kind);
            let acting = deactivation
                || matches!(
                    c.kind,
                    crate::event::EventKind::SessionRevoked | crate::event::EventKind::TokenRevoked
                );
            let same_idp = idp.as_deref().is_none_or(|i| idp_of(&c.source) == i);
            let in_window = c.at.0 <= last.0 + 3 * DAY || (idp.is_some() && deactivation);
            if acting
                && same_idp
                && in_window
                && !cited.contains(&c.seq)
                && c.at.0 >= from.0 - 2 * DAY
            {
                found.push(c.evidence());
            }
        }
        found.truncate(8);
        self.cite(&found);
        found
            .into_iter()
            .map(|e| Marker {
                at: e.occurred_at,
                label: format!("{} ({})", e.kind, e.source),
                kind: MarkerKind::Control,
                seq: Some(e.seq),
            })
            .collect()
    }

    fn controls(&mut self, controls: &[Control]) {
        for c in controls {
            let short = short_id(c.id);
            let slug: String = short
                .to_lowercase()
                .chars()
                .map(|ch| if ch.is_ascii_alphanumeric() { ch } else { '-' })
                .collect();
            let slug = slug
                .split('-')
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join("-");
            let in_control: Vec<&Finding> = self
                .findings
                .iter()
                .filter(|f| f.controls.iter().any(|x| x == c.id))
                .copied()
                .collect();
            let mut extra_tables = Vec::new();
            let (population_table, population, exceptions) = match c.population {
                Population::People => {
                    let t = self.people_table(&format!("{slug}-population"), Some(c.id));
                    let affected: BTreeSet<&str> =
                        in_control.iter().map(|f| f.subject.as_str()).collect();
                    (t, self.people.len() as u64, affected.len() as u64)
                }
                Population::Requests => {
                    let requests = self.requests_table(&format!("{slug}-requests"));
                    extra_tables.push(requests);
                    let t = self.people_table(&format!("{slug}-population"), Some(c.id));
                    let affected: BTreeSet<&str> =
                        in_control.iter().map(|f| f.subject.as_str()).collect();
                    (t, self.people.len() as u64, affected.len() as u64)
                }
                Population::Ledger => {
                    let a = &self.inputs.attestation;
                    let t = Table {
                        name: format!("{slug}-population"),
                        title: "Population: the ledger at the attested checkpoint".into(),
                        columns: vec![
                            col("tree_size", "Entries", 1),
                            col("root", "Merkle root", 4),
                            col("key", "Key fingerprint", 2),
                            col("verification", "Verification", 5),
                        ],
                        rows: vec![vec![
                            Cell::Count(a.tree_size),
                            text(&a.root),
                            text(&a.key_fingerprint),
                            text(&a.verification),
                        ]],
                        empty_text: String::new(),
                    };
                    (t, a.tree_size, u64::from(!a.verified))
                }
            };
            // A control tested on nobody proves nothing: say so, and why, instead of
            // concluding it operated effectively.
            let untested = (population == 0).then(|| {
                if c.population == Population::Ledger {
                    "the ledger is empty"
                } else if self.inputs.check.nothing_checked || self.inputs.facts.people.is_empty() {
                    "the ledger holds no roster, so nobody was in scope"
                } else {
                    "no contractor's access was in scope in the period"
                }
            });
            let conclusion = if let Some(why) = untested {
                format!("Not tested: no population ({why}).")
            } else if exceptions == 0 {
                "No exceptions noted: the control operated effectively for the population tested."
                    .to_string()
            } else if c.population == Population::Ledger {
                "Exception: the ledger failed verification; the evidence in this report cannot be relied on.".to_string()
            } else {
                format!("Exceptions noted: {exceptions} of {population} in the population ({} finding(s)).", in_control.len())
            };
            let exceptions_table =
                self.exceptions_table(&format!("{slug}-exceptions"), &in_control);
            let timelines: Vec<Timeline> = in_control
                .iter()
                .take(MAX_TIMELINES)
                .map(|f| self.timeline(f))
                .collect();
            let mut paragraphs = vec![
                para("Control", c.paraphrase),
                para("Test performed", c.test),
            ];
            if in_control.len() > MAX_TIMELINES {
                paragraphs.push(para("Timelines", &format!("Drawn for the first {MAX_TIMELINES} of {} exceptions; every exception is in the table and in the JSON and CSV files.", in_control.len())));
            }
            self.report.summary.push(SummaryRow {
                id: short.into(),
                title: c.title.into(),
                population,
                exceptions,
                conclusion: if untested.is_some() {
                    "Not tested: no population".into()
                } else if exceptions == 0 {
                    "Operating effectively".into()
                } else {
                    "Exceptions noted".into()
                },
            });
            self.report.sections.push(Section {
                paragraphs: vec![
                    para("Control", c.paraphrase),
                    para("Test performed", c.test),
                ],
                timelines,
                conclusion: Some(conclusion),
                ..Section::new(
                    short,
                    &format!("{short} {}", c.title),
                    [vec![population_table], extra_tables, vec![exceptions_table]].concat(),
                )
            });
        }
    }

    fn access_after_expiry(&mut self) {
        self.findings
            .retain(|f| f.rule == "access-after-expiry" || f.rule == "failed-auth-after-expiry");
        let relevant: Vec<&Finding> = self.findings.clone();
        let mut rows = Vec::new();
        for f in &relevant {
            let expiry = f
                .details
                .get("expiry")
                .and_then(|t| Timestamp::parse_rfc3339(t).ok());
            for e in f.evidence.iter().filter(|e| e.kind != "roster.entry") {
                let seqs = self.cite(std::slice::from_ref(e));
                rows.push(vec![
                    text(f.person.clone().unwrap_or(f.subject.clone())),
                    text(&e.source),
                    text(
                        f.details
                            .get("credential")
                            .cloned()
                            .unwrap_or_else(|| "failed sign-in".into()),
                    ),
                    text(&e.kind),
                    Cell::Time(e.occurred_at),
                    expiry
                        .map(|x| Cell::Duration((e.occurred_at.0 - x.0) / 1_000_000))
                        .unwrap_or(Cell::Empty),
                    seqs,
                ]);
            }
        }
        let people_with = |rule: &str| -> BTreeSet<&str> {
            relevant
                .iter()
                .filter(|f| f.rule == rule)
                .map(|f| f.subject.as_str())
                .collect()
        };
        let used = people_with("access-after-expiry");
        let only_tried = people_with("failed-auth-after-expiry")
            .difference(&used)
            .count();
        for rule in ["access-after-expiry", "failed-auth-after-expiry"] {
            let n = relevant.iter().filter(|f| f.rule == rule).count();
            // Exceptions count people, as the population does (and as SOC 2's CC6.1 does on
            // the same ledger); one person may have findings from several sources.
            let affected = people_with(rule).len();
            self.report.summary.push(SummaryRow {
                id: rule.into(),
                title: if rule == "access-after-expiry" {
                    "Successful access after expiry"
                } else {
                    "Failed attempts after expiry"
                }
                .into(),
                population: self.people.len() as u64,
                exceptions: affected as u64,
                conclusion: if n == 0 {
                    "None found".into()
                } else {
                    format!("{n} finding(s) about {affected} contractor(s)")
                },
            });
        }
        let timelines = relevant
            .iter()
            .take(MAX_TIMELINES)
            .map(|f| self.timeline(f))
            .collect();
        let events = Table {
            name: "events".into(),
            title: "Access and attempts after expiry".into(),
            columns: vec![
                col("person", "Person", 3),
                col("source", "Source", 2),
                col("credential", "Credential", 3),
                col("kind", "What", 2),
                col("at", "When (UTC)", 3),
                col("after_expiry_seconds", "After expiry", 2),
                col("evidence", "Evidence", 2),
            ],
            rows,
            empty_text: "No access or attempt after expiry was found.".into(),
        };
        self.report.sections.push(Section {
            paragraphs: vec![para(
                "What this lists",
                &format!("Each successful sign-in, session use, token use or failed attempt recorded after a contractor's effective expiry, by person, source and credential, with how long after expiry it happened. {} of {} contractors in scope used access after expiry; {} more only made failed attempts.", used.len(), self.people.len(), only_tried),
            )],
            timelines,
            ..Section::new("access", "Every access or attempt after expiry", vec![events])
        });
        // The summary already lists every finding; what an auditor cannot see without this
        // section is who was tested and came out clean.
        let population = self.people_table("population", None);
        self.report.sections.push(Section {
            paragraphs: vec![para(
                "Who was tested",
                "Every contractor whose access ended in the period, with the number of findings above about each (the summary's Exceptions count contractors: one may have findings from several sources). A contractor with 0 was checked and nothing was found after their expiry.",
            )],
            ..Section::new("population", "Population", vec![population])
        });
    }

    fn sprint_review(&mut self) -> Result<(), BuildError> {
        let wanted = self
            .inputs
            .sprint
            .clone()
            .ok_or(BuildError::SprintMissing)?;
        let facts = self.inputs.facts;
        let sprint = facts
            .sprints
            .keys()
            .flat_map(|team| facts.current_sprints(team))
            .find(|s| s.sprint == wanted)
            .ok_or_else(|| BuildError::UnknownSprint(wanted.clone()))?
            .clone();
        let in_sprint = |d: NaiveDate| sprint.start <= d && d <= sprint.end;
        self.report.subtitle = format!(
            "Sprint {} of {}, {} to {}; {}",
            sprint.sprint, sprint.team, sprint.start, sprint.end, self.inputs.origin
        );
        self.report.period = Some(Period {
            from: sprint.start.to_string(),
            to: sprint.end.to_string(),
        });
        let team_people: Vec<&PersonStatus> = self
            .inputs
            .check
            .people
            .iter()
            .filter(|p| p.team.as_deref() == Some(sprint.team.as_str()))
            .collect();
        let ending: Vec<&PersonStatus> = team_people
            .iter()
            .filter(|p| in_sprint(date_of(p.access_end)))
            .copied()
            .collect();
        self.people = ending.clone();
        let emails: BTreeSet<String> = team_people.iter().map(|p| p.email.clone()).collect();
        self.findings = self
            .inputs
            .check
            .findings
            .iter()
            .filter(|f| emails.contains(&f.subject) && in_sprint(date_of(f.at)))
            .collect();

        let mut rows = Vec::new();
        let mut unexpected_count = 0u64;
        for p in &ending {
            let unexpected = self
                .findings
                .iter()
                .any(|f| f.subject == p.email && f.rule == "sprint-alignment");
            unexpected_count += u64::from(unexpected);
            let roster = Cell::Seqs(vec![p.roster.seq]);
            rows.push(vec![
                text(&p.name),
                text(&p.last_day),
                Cell::Time(p.access_end),
                text(&p.expiry_local),
                text(if unexpected {
                    "unexpected (mid-sprint)"
                } else {
                    "expected"
                }),
                text(if p.extensions.is_empty() {
                    "none".into()
                } else {
                    p.extensions.join(", ")
                }),
                roster,
            ]);
        }
        let expirations = Table {
            name: "expirations".into(),
            title: "Expirations in the sprint".into(),
            columns: vec![
                col("person", "Person", 3),
                col("contract_end", "Contract end", 2),
                col("access_ended", "Access ended (UTC)", 3),
                col("expiry_local", "Effective expiry (local)", 4),
                col("expected", "Expected?", 2),
                col("extensions", "Extensions", 3),
                col("roster_seq", "Roster", 2),
            ],
            rows,
            empty_text: "No contractor's access ended in this sprint.".into(),
        };
        let requests = self.requests_table("extensions");
        let failed: Vec<&Finding> = self
            .findings
            .iter()
            .filter(|f| f.rule == "failed-auth-after-expiry")
            .copied()
            .collect();
        let failed_table = self.exceptions_table("failed-logins", &failed);
        let mut reminder_rows = Vec::new();
        for (subject, list) in &facts.reminders {
            if !emails.contains(subject) {
                continue;
            }
            for r in list.iter().filter(|r| in_sprint(date_of(r.cite.at))) {
                let seqs = self.cite(&[r.cite.evidence()]);
                reminder_rows.push(vec![
                    text(subject),
                    text(&*r.recipient),
                    text(&*r.status),
                    Cell::Time(r.cite.at),
                    seqs,
                ]);
            }
        }
        let reminders = Table {
            name: "reminders".into(),
            title: "Reminders sent during the sprint".into(),
            columns: vec![
                col("subject", "About", 3),
                col("recipient", "Recipient", 3),
                col("status", "Delivery", 1),
                col("sent_at", "Sent (UTC)", 2),
                col("evidence", "Evidence", 2),
            ],
            rows: reminder_rows,
            empty_text: "No reminders were sent during the sprint.".into(),
        };
        // Every finding is already listed, once, on the summary page.
        let all = self.findings.clone();
        let mut advice: Vec<Paragraph> = Vec::new();
        let rules: BTreeSet<&str> = all.iter().map(|f| f.rule.as_str()).collect();
        // The advice quotes the policy's own numbers, not the standard profile's.
        let policy = &self.inputs.policy.rules;
        for rule in rules {
            let tip = match rule {
                "access-after-expiry" => format!("Revoke sessions, tokens and API keys in the same run as the IdP deactivation; check for lingering access {} minutes later.", policy.session_revocation.within_minutes),
                "token-revocation" => "List every PAT and API key in the roster and rotate them at deactivation.".into(),
                "session-revocation" => "Add a forced sign-out (session revocation) step to the deactivation runbook.".into(),
                "deactivation-timeliness" => "Automate deactivation at the effective expiry; do not apply extensions that the policy did not approve.".into(),
                "extension-approval" => format!("Require an approval from each of {} within {} hours, before the old expiry; expire undecided requests.", policy.extension_approval.required_roles.join(" and "), policy.extension_approval.decision_within_hours),
                "reminders" => format!("Keep each contractor's manager and tech lead current in the roster so reminders reach {} people.", policy.reminders.min_contacts),
                "sprint-alignment" => "When a sprint is extended, move the expiry of contractors whose contract ends in it.".into(),
                "failed-auth-after-expiry" => "Find the client or script still using the expired credentials and remove it.".into(),
                "timezone" => "Set expiries at the end of the day in the contractor's zone, not midnight UTC.".into(),
                "pre-expiry-review" => format!("Schedule the security review at least {} hours before each expiry.", policy.pre_expiry_review.hours_before),
                _ => continue,
            };
            advice.push(Paragraph {
                label: Some(rule.into()),
                text: tip,
            });
        }
        if advice.is_empty() {
            advice.push(para(
                "Nothing to change",
                "Every expiry in the sprint followed the policy.",
            ));
        }
        let unexpected = unexpected_count;
        let extension_findings = all
            .iter()
            .filter(|f| f.rule == "extension-approval")
            .count() as u64;
        let people_with_findings = all
            .iter()
            .map(|f| f.subject.as_str())
            .collect::<BTreeSet<_>>()
            .len();
        self.report.summary = vec![
            SummaryRow {
                id: "expirations".into(),
                title: "Contractor access that ended".into(),
                population: ending.len() as u64,
                exceptions: unexpected,
                conclusion: format!("{unexpected} unexpected"),
            },
            SummaryRow {
                id: "extensions".into(),
                title: "Extension requests".into(),
                population: requests.rows.len() as u64,
                exceptions: extension_findings,
                conclusion: match (requests.rows.len(), extension_findings) {
                    (0, _) => "None requested".into(),
                    (n, 0) => format!("{n} requested, all meet the policy"),
                    (n, k) => format!("{n} requested, {k} not meeting the policy"),
                },
            },
            SummaryRow {
                id: "failed-logins".into(),
                title: "Failed logins after expiry".into(),
                population: ending.len() as u64,
                exceptions: failed.len() as u64,
                conclusion: if failed.is_empty() {
                    "None".into()
                } else {
                    "Follow up".into()
                },
            },
            SummaryRow {
                id: "findings".into(),
                title: "All policy findings in the sprint".into(),
                population: team_people.len() as u64,
                // People, as the population counts them.
                exceptions: people_with_findings as u64,
                // Say what the population counts: the team's contractors, not the findings.
                conclusion: if all.is_empty() {
                    format!(
                        "Clean: none about the team's {} contractor(s)",
                        team_people.len()
                    )
                } else {
                    format!(
                        "{} finding(s) about {people_with_findings} of the team's {} contractor(s): review",
                        all.len(),
                        team_people.len()
                    )
                },
            },
        ];
        self.report.sections = vec![
            Section::new("expirations", "Expirations", vec![expirations]),
            Section::new(
                "extensions",
                "Extensions and how they were approved",
                vec![requests],
            ),
            Section {
                // The summary counts a population here that the table of exceptions does
                // not list: say who it is.
                paragraphs: vec![para(
                    "Who was checked",
                    &format!(
                        "The {} contractor(s) whose access ended in the sprint (listed under Expirations), the population the summary counts. The exceptions are the failed sign-ins during the sprint after the expiry of any of the team's contractors, those whose access ended before it included.",
                        ending.len()
                    ),
                )],
                ..Section::new(
                    "failed-logins",
                    "Failed logins after expiry",
                    vec![failed_table],
                )
            },
            Section::new("reminders", "Reminders", vec![reminders]),
            Section {
                paragraphs: advice,
                ..Section::new("changes", "What to change", vec![])
            },
        ];
        Ok(())
    }

    fn upcoming(&mut self) {
        let inputs = self.inputs;
        let now = inputs.now;
        let until = crate::policy::expiry::plus_days(now, inputs.days as i64);
        let facts = inputs.facts;
        let soon: Vec<&PersonStatus> = inputs
            .check
            .people
            .iter()
            .filter(|p| p.expiry >= now && p.expiry <= until)
            .collect();
        let emails: BTreeSet<&str> = soon.iter().map(|p| p.email.as_str()).collect();
        self.findings
            .retain(|f| emails.contains(f.subject.as_str()));
        let mut rows = Vec::new();
        // Someone expiring soon is no exception by itself; one with an item still open is,
        // and the summary names them with their items.
        let mut open_people: Vec<String> = Vec::new();
        let reminders = &inputs.policy.rules.reminders;
        let days_before = if reminders.enabled {
            reminders.days_before.as_slice()
        } else {
            &[]
        };
        let required = &inputs.policy.rules.extension_approval.required_roles;
        for p in &soon {
            let mut open: Vec<String> = Vec::new();
            let mut status = Vec::new();
            // The roster row, and every reminder and request the row's words rest on.
            let mut evidence = vec![p.roster.clone()];
            // Each reminder slot as the reminders rule reads it, whether or not it is due.
            for &days in days_before {
                let slot = reminders::slot(facts, reminders, &p.email, p.expiry, days);
                evidence.extend(slot.sent.iter().map(|r| r.cite.evidence()));
                let enough = slot.reached.len() as u32 >= reminders.min_contacts;
                let reached = format!(
                    "reached {} of {} contacts{}",
                    slot.reached.len(),
                    reminders.min_contacts,
                    slot.not_counted_note()
                );
                if slot.to <= now && !enough {
                    open.push(format!("{days}-day reminder {reached}"));
                }
                status.push(if slot.to > now && !enough {
                    // Not late yet: when it is due, and what it has reached so far.
                    format!(
                        "{days}-day: due {}{}",
                        slot.due.to_datetime().format("%Y-%m-%d %H:%M UTC"),
                        if slot.sent.is_empty() {
                            String::new()
                        } else {
                            format!(", {reached} so far")
                        }
                    )
                } else {
                    format!("{days}-day: {reached}")
                });
            }
            // The seed's pitfall: a manager who left makes the reminder go nowhere. Checked
            // against the last reminder's day.
            let last_due = crate::policy::expiry::plus_days(
                p.expiry,
                -i64::from(days_before.iter().copied().min().unwrap_or(0)),
            )
            .to_datetime()
            .date_naive();
            let mut contacts: Vec<&str> = facts
                .people
                .get(&p.email)
                .map(|person| {
                    [&person.manager, &person.tech_lead]
                        .into_iter()
                        .flatten()
                        .map(|c| &**c)
                        .collect()
                })
                .unwrap_or_default();
            contacts.sort_unstable();
            contacts.dedup();
            if contacts.is_empty() {
                open.push("no manager or tech lead named to remind".into());
            }
            for contact in contacts {
                let left = facts.people.get(contact).and_then(|c| c.left_on);
                if let Some(left) = left.filter(|left| *left <= last_due) {
                    open.push(format!("contact {contact} left on {left}"));
                }
            }
            // An approval by each role the policy requires (whether each one is valid is
            // the extension-approval rule's, whose findings are listed above).
            for r in facts.requests.values().filter(|r| r.subject == p.email) {
                let missing: Vec<&str> = required
                    .iter()
                    .filter(|role| !r.decisions.iter().any(|d| d.approved && d.role == **role))
                    .map(String::as_str)
                    .collect();
                if missing.is_empty() {
                    continue;
                }
                evidence.extend(r.requested.iter().map(|c| c.evidence()));
                evidence.extend(r.decisions.iter().map(|d| d.cite.evidence()));
                open.push(format!(
                    "{} ({} of {} approvals; awaiting {})",
                    r.id,
                    required.len() - missing.len(),
                    required.len(),
                    missing.join(" and ")
                ));
            }
            let misaligned = inputs
                .check
                .findings
                .iter()
                .find(|f| f.subject == p.email && f.rule == "sprint-alignment");
            if misaligned.is_some() {
                open.push("expiry not at a sprint's end (see sprint alignment)".into());
            }
            let alignment = misaligned
                .map(|f| f.summary.clone())
                .unwrap_or_else(|| sprint_alignment(facts, p));
            if !open.is_empty() {
                open_people.push(format!("{} ({})", p.name, open.join("; ")));
            }
            evidence.sort_by_key(|e| e.seq);
            evidence.dedup_by_key(|e| e.seq);
            rows.push(vec![
                text(&p.name),
                text(p.team.clone().unwrap_or_default()),
                Cell::Time(p.expiry),
                text(&p.expiry_local),
                Cell::Duration((p.expiry.0 - now.0) / 1_000_000),
                text(alignment),
                text(status.join("; ")),
                text(if open.is_empty() {
                    "none".into()
                } else {
                    open.join("; ")
                }),
                self.cite(&evidence),
            ]);
        }
        self.report.subtitle = format!(
            "Next {} days from {}; {}",
            inputs.days,
            // As the report's other times read.
            now.to_datetime().format("%Y-%m-%d %H:%M UTC"),
            inputs.origin
        );
        // The population is who expires in the window: the rate is of them, not of
        // everyone on the roster.
        let expiring = match soon.len() {
            0 => format!("Nobody's access expires in the next {} days", inputs.days),
            1 => format!(
                "1 contractor's access expires in the next {} days",
                inputs.days
            ),
            n => format!(
                "{n} contractors' access expires in the next {} days",
                inputs.days
            ),
        };
        let conclusion = match open_people.len() {
            _ if soon.is_empty() => expiring,
            0 => format!("{expiring}; none has an item open"),
            1 => format!("{expiring}; 1 has an item open: {}", open_people.join("")),
            n => format!(
                "{expiring}; {n} have items open: {}",
                open_people.join("; ")
            ),
        };
        self.report.summary = vec![SummaryRow {
            id: "upcoming".into(),
            title: format!("Access expiring in the next {} days", inputs.days),
            population: soon.len() as u64,
            exceptions: open_people.len() as u64,
            conclusion,
        }];
        self.report.sections = vec![Section {
            paragraphs: vec![para("How to read it", "Each row is a contractor whose effective expiry falls in the window: check that the expiry is at the end of a sprint, that each reminder the policy asks for reaches enough contacts still with the company, and that any extension has an approval from every role the policy requires before the expiry. Open items lists what is still to do: a reminder past its window that reached too few contacts, a contact who has left or none named, a missing approval, an expiry that is not at a sprint's end.")],
            ..Section::new("upcoming", "Expiring soon", vec![Table {
                name: "expiring".into(),
                title: "Contractors whose access expires soon".into(),
                columns: vec![col("person", "Person", 3), col("team", "Team", 2), col("expiry_utc", "Expiry (UTC)", 3), col("expiry_local", "Expiry (local)", 3), col("in_seconds", "In", 2), col("sprint_alignment", "Sprint alignment", 4), col("reminders", "Reminders", 3), col("open_items", "Open items", 3), col("evidence", "Evidence", 2)],
                rows,
                empty_text: "Nobody's access expires in the window.".into(),
            }])
        }];
    }

    fn finish(mut self) -> Report {
        // Roster rows cited by seq only (sprint review, upcoming) still belong in the index.
        let referenced: BTreeSet<u64> = self
            .report
            .sections
            .iter()
            .flat_map(|s| &s.tables)
            .flat_map(|t| &t.rows)
            .flatten()
            .filter_map(|c| match c {
                Cell::Seqs(v) => Some(v),
                _ => None,
            })
            .flatten()
            .copied()
            .collect();
        for p in &self.inputs.check.people {
            if referenced.contains(&p.roster.seq) {
                self.cited
                    .entry(p.roster.seq)
                    .or_insert_with(|| p.roster.clone());
            }
        }
        self.report.findings = self.findings.iter().map(|f| (*f).clone()).collect();
        for f in &self.report.findings {
            for e in &f.evidence {
                self.cited.entry(e.seq).or_insert_with(|| e.clone());
            }
        }
        self.report.evidence = self.cited.into_values().collect();
        self.report
    }
}

/// The seqs of deactivations and revocations a policy rule found late: a timeline draws
/// them apart from controls on time (a revocation minutes after the expiry may be within
/// the policy's limit, and is then on time).
fn late_controls(findings: &[Finding]) -> BTreeSet<u64> {
    findings
        .iter()
        .flat_map(|f| {
            let kinds: &[&str] = match f.rule.as_str() {
                "deactivation-timeliness" => &[
                    "account.deactivated",
                    "account.suspended",
                    "account.deleted",
                ],
                "session-revocation" => &["session.revoked"],
                "token-revocation" => &["token.revoked"],
                _ => &[],
            };
            f.evidence
                .iter()
                .filter(move |e| kinds.contains(&e.kind.as_str()))
                .map(|e| e.seq)
        })
        .collect()
}

/// How a contractor's expiry stands to their team's sprints, in the upcoming report's words.
fn sprint_alignment(facts: &Facts, p: &PersonStatus) -> String {
    if let Some(s) = &p.aligned_to_sprint {
        return format!("aligned to the end of sprint {s}");
    }
    let Some(team) = &p.team else {
        return "no team on the roster: no sprint to align to".into();
    };
    let sprints = facts.current_sprints(team);
    if sprints.is_empty() {
        return format!("no sprint calendar for team {team}");
    }
    let last_day = NaiveDate::parse_from_str(&p.last_day, "%Y-%m-%d").ok();
    match sprints
        .iter()
        .find(|s| last_day.is_some_and(|d| s.start <= d && d <= s.end))
    {
        Some(s) if last_day == Some(s.end) => format!("last day ends sprint {}", s.sprint),
        Some(s) => format!("last day inside sprint {} (not aligned)", s.sprint),
        None => format!("no sprint of team {team} holds the last day"),
    }
}
