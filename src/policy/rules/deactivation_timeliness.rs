//! `deactivation-timeliness`: every IdP account of the person was deactivated by the
//! effective expiry plus the grace (default 0 h), and again at the end of each emergency
//! window. Never deactivated is its own, more severe finding.

use super::{name, Context, Draft, Rule};
use crate::event::Timestamp;
use crate::policy::expiry::{ending_at, Ending};
use crate::policy::facts::human_duration;
use crate::policy::finding::{Finding, Severity};

pub const RULE: Rule = Rule {
    name: "deactivation-timeliness",
    description: "Each IdP account deactivated by expiry plus the grace period",
    controls: &["SOC2:CC6.2", "SOC2:CC6.3", "HIPAA:164.308(a)(3)(ii)(C)"],
    enabled: |p| p.rules.deactivation_timeliness.enabled,
    evaluate,
};

fn evaluate(cx: &Context, out: &mut Vec<Finding>) {
    let grace = cx.policy.rules.deactivation_timeliness.grace_hours as i64 * 3_600_000_000;
    for s in &cx.subjects {
        let mut deadlines: Vec<(Timestamp, String)> = vec![(s.effective, "expiry".into())];
        for (_, to, r) in &s.windows {
            deadlines.push((*to, format!("end of emergency grant {}", r.id)));
        }
        for (idp, _) in &s.endings {
            let events = s.lifecycle(cx.facts, idp);
            for (deadline, what) in &deadlines {
                let limit = Timestamp(deadline.0 + grace);
                if limit > cx.now {
                    continue;
                }
                let (severity, summary, at, cites) = match ending_at(&events, limit) {
                    Ending::OnTime(_) => continue,
                    Ending::Late(c) if c.at <= cx.now => (
                        lateness(c.at.0 - deadline.0),
                        format!(
                            "{}'s {idp} account was deactivated {} after the {what}{}",
                            name(s),
                            human_duration(c.at.0 - deadline.0),
                            grace_text(grace)
                        ),
                        c.at,
                        vec![c],
                    ),
                    _ => (
                        Severity::Critical,
                        format!(
                            "{}'s {idp} account was never deactivated after the {what} ({} ago)",
                            name(s),
                            human_duration(cx.now.0 - deadline.0)
                        ),
                        *deadline,
                        Vec::new(),
                    ),
                };
                let mut all: Vec<_> = cites.iter().collect();
                all.push(&s.person.cite);
                out.push(
                    Draft {
                        rule: &RULE,
                        subject: s,
                        key: format!("{idp}:{}", deadline.to_rfc3339()),
                        severity,
                        summary,
                        at,
                        cites: all,
                        details: vec![("idp", idp.clone()), ("deadline", deadline.to_rfc3339())],
                    }
                    .finish(),
                );
            }
        }
    }
}

/// Minutes late is a slow job; days late is a control failure.
fn lateness(micros: i64) -> Severity {
    const HOUR: i64 = 3_600_000_000;
    if micros <= HOUR {
        Severity::Low
    } else if micros <= 24 * HOUR {
        Severity::Medium
    } else {
        Severity::High
    }
}

fn grace_text(grace: i64) -> String {
    if grace == 0 {
        String::new()
    } else {
        format!(" (grace {})", human_duration(grace))
    }
}
