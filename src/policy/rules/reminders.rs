//! `reminders`: a reminder 7 and 2 days (configurable) before access ended reached at least
//! two contacts, with delivery recorded. A bounce, a failure, a reminder to the contractor
//! themself or to someone who had left the company by then does not count.

use super::{name, Context, Draft, Rule};
use crate::policy::expiry::plus_days;
use crate::policy::facts::Cite;
use crate::policy::finding::{Finding, Severity};

pub const RULE: Rule = Rule {
    name: "reminders",
    description: "Reminders before expiry reached enough contacts, with delivery recorded",
    controls: &["SOC2:CC6.2", "HIPAA:164.308(a)(3)(ii)(C)"],
    enabled: |p| p.rules.reminders.enabled,
    evaluate,
};

fn evaluate(cx: &Context, out: &mut Vec<Finding>) {
    let cfg = &cx.policy.rules.reminders;
    for s in &cx.subjects {
        let sent = cx
            .facts
            .reminders
            .get(&s.person.email)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        for &days in &cfg.days_before {
            let days = days as i64;
            let window = cfg.window_days as i64;
            let from = plus_days(s.access_end, -(days + window));
            let to = plus_days(s.access_end, -(days - window));
            if to > cx.now {
                continue;
            }
            let in_slot: Vec<_> = sent
                .iter()
                .filter(|r| from <= r.cite.at && r.cite.at <= to)
                .collect();
            let mut reached: Vec<&str> = Vec::new();
            let mut not_counted: Vec<String> = Vec::new();
            for r in &in_slot {
                let day = r.cite.at.to_datetime().date_naive();
                let departed = cx
                    .facts
                    .people
                    .get(&r.recipient)
                    .and_then(|p| p.left_on)
                    .filter(|left| *left <= day);
                if *r.recipient == *s.person.email {
                    not_counted.push(format!("{} is the contractor", r.recipient));
                } else if let Some(left) = departed {
                    not_counted.push(format!("{} had left on {left}", r.recipient));
                } else if &*r.status != "delivered" {
                    not_counted.push(format!("{} {}", r.recipient, r.status));
                } else if !reached.contains(&&*r.recipient) {
                    reached.push(&r.recipient);
                }
            }
            if reached.len() as u32 >= cfg.min_contacts {
                continue;
            }
            let summary = if in_slot.is_empty() {
                format!(
                    "No {days}-day reminder was recorded before {}'s access ended",
                    name(s)
                )
            } else {
                format!(
                    "The {days}-day reminder before {}'s expiry reached {} of the {} contacts required{}",
                    name(s),
                    reached.len(),
                    cfg.min_contacts,
                    if not_counted.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", not_counted.join("; "))
                    }
                )
            };
            let mut cites: Vec<&Cite> = in_slot.iter().map(|r| &r.cite).collect();
            cites.push(&s.person.cite);
            out.push(
                Draft {
                    rule: &RULE,
                    subject: s,
                    key: format!("{days}d"),
                    severity: Severity::Medium,
                    summary,
                    at: plus_days(s.access_end, -days),
                    cites,
                    details: vec![
                        ("days_before", days.to_string()),
                        ("reached", reached.join(";")),
                        ("access_end", s.access_end.to_rfc3339()),
                    ],
                }
                .finish(),
            );
        }
    }
}
