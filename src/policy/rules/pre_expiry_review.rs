//! `pre-expiry-review` (compliance profile): a sign-off by the required role (security) at
//! least `hours_before` (48) before access ends, and not more than 30 days before.

use super::{name, Context, Draft, Rule};
use crate::event::Timestamp;
use crate::policy::expiry::plus_days;
use crate::policy::finding::{Finding, Severity};

pub const RULE: Rule = Rule {
    name: "pre-expiry-review",
    description: "A security sign-off at least 48 hours before expiry",
    controls: &[
        "SOC2:CC6.2",
        "SOC2:CC6.3",
        "HIPAA:164.308(a)(3)(ii)(C)",
        "HIPAA:164.308(a)(4)",
    ],
    enabled: |p| p.rules.pre_expiry_review.enabled,
    evaluate,
};

fn evaluate(cx: &Context, out: &mut Vec<Finding>) {
    let cfg = &cx.policy.rules.pre_expiry_review;
    let before = cfg.hours_before as i64 * 3_600_000_000;
    for s in &cx.subjects {
        let deadline = Timestamp(s.access_end.0 - before);
        if deadline > cx.now {
            continue;
        }
        let earliest = plus_days(s.access_end, -30);
        let reviews = cx
            .facts
            .reviews
            .get(&s.person.email)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let role_of = |r: &crate::policy::facts::Review| {
            r.role.clone().or_else(|| {
                cx.facts
                    .people
                    .get(&r.reviewer)
                    .and_then(|p| p.team.as_deref().map(String::from))
            })
        };
        if reviews.iter().any(|r| {
            r.cite.at <= deadline
                && r.cite.at >= earliest
                && role_of(r).as_deref() == Some(cfg.required_role.as_str())
        }) {
            continue;
        }
        let late = reviews
            .iter()
            .find(|r| role_of(r).as_deref() == Some(cfg.required_role.as_str()));
        let summary = match late {
            Some(r) => format!(
                "{}'s {} review was signed {} instead of at least {} h before access ended",
                name(s),
                cfg.required_role,
                r.cite.at.to_rfc3339(),
                cfg.hours_before
            ),
            None => format!(
                "No {} review of {}'s access was signed off before it ended",
                cfg.required_role,
                name(s)
            ),
        };
        let mut cites = vec![&s.person.cite];
        cites.extend(late.map(|r| &r.cite));
        out.push(
            Draft {
                rule: &RULE,
                subject: s,
                key: "review".into(),
                severity: Severity::Medium,
                summary,
                at: deadline,
                cites,
                details: vec![("deadline", deadline.to_rfc3339())],
            }
            .finish(),
        );
    }
}
