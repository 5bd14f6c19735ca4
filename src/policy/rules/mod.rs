//! The rules, one file each. A rule reads the [`Context`] (facts, policy, people in scope)
//! and adds findings; it never reads the ledger or an input file directly.

use std::collections::BTreeMap;

use crate::event::Timestamp;
use crate::policy::config::Policy;
use crate::policy::expiry::Subject;
use crate::policy::facts::{expiry_text, Cite, Facts};
use crate::policy::finding::{Finding, Severity};

pub mod access_after_expiry;
pub mod deactivation_timeliness;
pub mod extension_approval;
pub mod failed_auth_after_expiry;
pub mod pre_expiry_review;
pub mod reminders;
pub mod session_revocation;
pub mod source_id_conflict;
pub mod sprint_alignment;
pub mod timezone;
pub mod token_revocation;

/// What every rule reads.
pub struct Context<'f> {
    pub facts: &'f Facts,
    pub policy: &'f Policy,
    /// The evaluation time: nothing after it is overdue yet.
    pub now: Timestamp,
    pub subjects: Vec<Subject<'f>>,
}

/// A rule: its name, the controls it evidences, and its check.
pub struct Rule {
    pub name: &'static str,
    pub description: &'static str,
    pub controls: &'static [&'static str],
    pub enabled: fn(&Policy) -> bool,
    pub evaluate: fn(&Context, &mut Vec<Finding>),
}

pub const ALL: [&Rule; 11] = [
    &access_after_expiry::RULE,
    &deactivation_timeliness::RULE,
    &session_revocation::RULE,
    &token_revocation::RULE,
    &failed_auth_after_expiry::RULE,
    &extension_approval::RULE,
    &reminders::RULE,
    &sprint_alignment::RULE,
    &pre_expiry_review::RULE,
    &timezone::RULE,
    &source_id_conflict::RULE,
];

pub fn by_name(name: &str) -> Option<&'static Rule> {
    ALL.into_iter().find(|r| r.name == name)
}

/// Builds a finding with the rule's controls and the subject's name filled in.
pub(crate) struct Draft<'a> {
    pub rule: &'a Rule,
    pub subject: &'a Subject<'a>,
    pub key: String,
    pub severity: Severity,
    pub summary: String,
    pub at: Timestamp,
    pub cites: Vec<&'a Cite>,
    pub details: Vec<(&'static str, String)>,
}

impl Draft<'_> {
    pub fn finish(self) -> Finding {
        let s = self.subject;
        let mut evidence: Vec<_> = self.cites.iter().map(|c| c.evidence()).collect();
        evidence.sort();
        evidence.dedup();
        let mut details: BTreeMap<String, String> = BTreeMap::from([
            ("expiry".to_string(), s.effective.to_rfc3339()),
            (
                "expiry_local".to_string(),
                expiry_text(s.effective, Some(s.tz), &s.person.tz_name),
            ),
        ]);
        for (k, v) in self.details {
            details.insert(k.to_string(), v);
        }
        Finding {
            id: format!("{}:{}:{}", self.rule.name, s.person.email, self.key),
            rule: self.rule.name.to_string(),
            severity: self.severity,
            subject: s.person.email.clone(),
            person: Some(s.person.name.clone()),
            summary: self.summary,
            at: self.at,
            controls: self.rule.controls.iter().map(|c| c.to_string()).collect(),
            evidence,
            details,
        }
    }
}

/// "his"/"her" is not in the roster: rules write "their" and the person's name.
pub(crate) fn name(s: &Subject) -> String {
    s.person.name.clone()
}
