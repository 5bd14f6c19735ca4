//! `access-after-expiry`: successful authentication, session activity or token use after
//! the effective expiry (outside any emergency window). One finding per person, source and
//! credential, citing every access and the roster row that sets the expiry.

use std::collections::BTreeMap;

use super::{name, Context, Draft, Rule};
use crate::event::EventKind;
use crate::policy::facts::{human_duration, Act};
use crate::policy::finding::{Finding, Severity};

pub const RULE: Rule = Rule {
    name: "access-after-expiry",
    description: "Successful sign-in, session activity, token use or other use of access after the effective expiry",
    controls: &[
        "SOC2:CC6.1",
        "SOC2:CC6.2",
        "SOC2:CC7.2",
        "HIPAA:164.308(a)(1)(ii)(D)",
        "HIPAA:164.308(a)(3)(ii)(C)",
        "HIPAA:164.312(b)",
    ],
    enabled: |p| p.rules.access_after_expiry.enabled,
    evaluate,
};

pub fn is_access(kind: EventKind) -> bool {
    matches!(
        kind,
        EventKind::AuthSucceeded
            | EventKind::SessionStarted
            | EventKind::SessionActivity
            | EventKind::TokenUsed
            | EventKind::AccessUsed
    )
}

/// What was used: the token, else the account (sessions come and go; the account is
/// what should have been cut).
pub fn credential(a: &Act) -> String {
    match &a.token {
        Some(t) => format!("token {t}"),
        None => format!("account {}", a.account),
    }
}

fn evaluate(cx: &Context, out: &mut Vec<Finding>) {
    for s in &cx.subjects {
        let mut groups: BTreeMap<(String, String), Vec<&Act>> = BTreeMap::new();
        for a in cx.facts.acts_of(&s.person.email) {
            if is_access(a.cite.kind) && s.after_expiry(a.cite.at) {
                groups
                    .entry((a.cite.source.to_string(), credential(a)))
                    .or_default()
                    .push(a);
            }
        }
        for ((source, cred), acts) in groups {
            // Every group was created by pushing an act into it.
            let (Some(first), Some(last)) = (acts.first(), acts.last()) else {
                continue;
            };
            let n = acts.len();
            let when = |a: &Act| human_duration(a.cite.at.0 - s.effective.0);
            let summary = if n == 1 {
                format!(
                    "{}'s {cred} ({source}) was used once after access expired: {} after",
                    name(s),
                    when(first),
                )
            } else {
                format!(
                    "{}'s {cred} ({source}) was used {n} times after access expired: first {} after, last {} after",
                    name(s),
                    when(first),
                    when(last),
                )
            };
            let mut cites: Vec<_> = acts.iter().map(|a| &a.cite).collect();
            cites.push(&s.person.cite);
            out.push(
                Draft {
                    rule: &RULE,
                    subject: s,
                    key: format!("{source}:{cred}"),
                    severity: Severity::Critical,
                    summary,
                    at: first.cite.at,
                    cites,
                    details: vec![
                        ("source", source.clone()),
                        ("credential", cred.clone()),
                        ("count", n.to_string()),
                        ("first_at", first.cite.at.to_rfc3339()),
                        ("last_at", last.cite.at.to_rfc3339()),
                        (
                            "after_expiry_seconds",
                            ((first.cite.at.0 - s.effective.0) / 1_000_000).to_string(),
                        ),
                    ],
                }
                .finish(),
            );
        }
    }
}
