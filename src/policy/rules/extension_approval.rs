//! `extension-approval`: every extension request had two distinct approvers in the required
//! roles (tech lead and security), neither the requester, each within the decision limit
//! (4 h) and before the old expiry; emergency grants last at most 24 h; a reason is
//! recorded. The assessment itself is `expiry::assess`, shared with the expiry.

use super::{name, Context, Draft, Rule};
use crate::event::Timestamp;
use crate::policy::finding::{Finding, Severity};

pub const RULE: Rule = Rule {
    name: "extension-approval",
    description:
        "Extensions approved by two distinct required roles within the limit, with a reason",
    controls: &["SOC2:CC6.2", "SOC2:CC6.3", "HIPAA:164.308(a)(4)"],
    enabled: |p| p.rules.extension_approval.enabled,
    evaluate,
};

fn evaluate(cx: &Context, out: &mut Vec<Finding>) {
    for s in &cx.subjects {
        for a in &s.requests {
            if a.valid() {
                continue;
            }
            let r = a.request;
            let mut cites: Vec<_> = r.requested.iter().collect();
            cites.extend(r.decisions.iter().map(|d| &d.cite));
            let at = r
                .requested
                .as_ref()
                .or(r.decisions.first().map(|d| &d.cite))
                .map(|c| c.at)
                .unwrap_or(s.effective);
            // When the decisions were due: a timeline draws it, and a reader checks the
            // approvals against it.
            let hours = i64::from(cx.policy.rules.extension_approval.decision_within_hours);
            let decide_by = r.requested.as_ref().map(|c| {
                (
                    "decide_by",
                    Timestamp(c.at.0.saturating_add(hours.saturating_mul(3_600_000_000)))
                        .to_rfc3339(),
                )
            });
            let kind = if r.emergency {
                "emergency grant"
            } else {
                "extension"
            };
            out.push(
                Draft {
                    rule: &RULE,
                    subject: s,
                    key: r.id.clone(),
                    severity: Severity::High,
                    summary: format!(
                        "{}'s {kind} {} does not count: {}",
                        name(s),
                        r.id,
                        a.problems.join("; ")
                    ),
                    at,
                    cites,
                    details: vec![
                        ("request_id", r.id.clone()),
                        ("requester", r.requester.clone().unwrap_or_default()),
                        ("new_expiry", r.new_expiry.clone().unwrap_or_default()),
                        ("emergency", r.emergency.to_string()),
                        ("old_expiry", a.old_expiry.to_rfc3339()),
                    ]
                    .into_iter()
                    .chain(decide_by)
                    .collect(),
                }
                .finish(),
            );
        }
    }
}
