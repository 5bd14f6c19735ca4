//! `failed-auth-after-expiry`: attempts with expired credentials, counted and listed per
//! person and source — the sign that an offboarding step or a client's configuration was
//! missed.

use std::collections::BTreeMap;

use super::{name, Context, Draft, Rule};
use crate::event::EventKind;
use crate::policy::facts::{human_duration, Act};
use crate::policy::finding::{Finding, Severity};

pub const RULE: Rule = Rule {
    name: "failed-auth-after-expiry",
    description: "Failed authentication attempts after the effective expiry",
    controls: &[
        "SOC2:CC7.2",
        "SOC2:CC7.3",
        "HIPAA:164.308(a)(1)(ii)(D)",
        "HIPAA:164.308(a)(5)(ii)(C)",
    ],
    enabled: |p| p.rules.failed_auth_after_expiry.enabled,
    evaluate,
};

fn evaluate(cx: &Context, out: &mut Vec<Finding>) {
    for s in &cx.subjects {
        let mut by_source: BTreeMap<&str, Vec<&Act>> = BTreeMap::new();
        for a in cx.facts.acts_of(&s.person.email) {
            if a.cite.kind == EventKind::AuthFailed && s.after_expiry(a.cite.at) {
                by_source.entry(&a.cite.source).or_default().push(a);
            }
        }
        for (source, acts) in by_source {
            // Every group was created by pushing an act into it.
            let (Some(first), Some(last)) = (acts.first(), acts.last()) else {
                continue;
            };
            let n = acts.len();
            let reasons: Vec<&str> = {
                let mut r: Vec<&str> = acts.iter().filter_map(|a| a.detail.as_deref()).collect();
                r.sort();
                r.dedup();
                r
            };
            let summary = format!(
                "{} failed sign-in{} to {source} for {} after access expired (first {} after){}",
                n,
                if n == 1 { "" } else { "s" },
                name(s),
                human_duration(first.cite.at.0 - s.effective.0),
                if reasons.is_empty() {
                    String::new()
                } else {
                    format!(": {}", reasons.join("; "))
                }
            );
            out.push(
                Draft {
                    rule: &RULE,
                    subject: s,
                    key: source.to_string(),
                    severity: Severity::Medium,
                    summary,
                    at: first.cite.at,
                    cites: acts.iter().map(|a| &a.cite).collect(),
                    details: vec![
                        ("source", source.to_string()),
                        ("count", n.to_string()),
                        ("first_at", first.cite.at.to_rfc3339()),
                        ("last_at", last.cite.at.to_rfc3339()),
                    ],
                }
                .finish(),
            );
        }
    }
}
