//! `reminders`: a reminder 7 and 2 days (configurable) before access ended reached at least
//! two contacts, with delivery recorded. A bounce, a failure, a reminder to the contractor
//! themself or to someone who had left the company by then does not count.

use super::{name, Context, Draft, Rule};
use crate::event::Timestamp;
use crate::policy::config::Reminders;
use crate::policy::expiry::plus_days;
use crate::policy::facts::{Cite, Facts, Reminder};
use crate::policy::finding::{Finding, Severity};

pub const RULE: Rule = Rule {
    name: "reminders",
    description: "Reminders before expiry reached enough contacts, with delivery recorded",
    controls: &["SOC2:CC6.2", "HIPAA:164.308(a)(3)(ii)(C)"],
    enabled: |p| p.rules.reminders.enabled,
    evaluate,
};

/// What the reminder due `days` before `end` achieved: the reminders sent in its window,
/// the distinct contacts they reached, and why the others do not count.
pub struct Slot<'a> {
    /// The window a reminder counts in: `days` ± `window_days` before `end`.
    pub from: Timestamp,
    pub to: Timestamp,
    pub sent: Vec<&'a Reminder>,
    pub reached: Vec<&'a str>,
    pub not_counted: Vec<String>,
}

/// The one reading of a reminder slot, for this rule and for the upcoming report.
pub fn slot<'a>(
    facts: &'a Facts,
    cfg: &Reminders,
    email: &str,
    end: Timestamp,
    days: u32,
) -> Slot<'a> {
    let (days, window) = (i64::from(days), i64::from(cfg.window_days));
    let from = plus_days(end, -(days + window));
    let to = plus_days(end, -(days - window));
    let sent: Vec<&Reminder> = facts
        .reminders
        .get(email)
        .map(Vec::as_slice)
        .unwrap_or(&[])
        .iter()
        .filter(|r| from <= r.cite.at && r.cite.at <= to)
        .collect();
    let mut reached: Vec<&str> = Vec::new();
    let mut not_counted: Vec<String> = Vec::new();
    for r in &sent {
        let day = r.cite.at.to_datetime().date_naive();
        let departed = facts
            .people
            .get(&r.recipient)
            .and_then(|p| p.left_on)
            .filter(|left| *left <= day);
        if *r.recipient == *email {
            not_counted.push(format!("{} is the contractor", r.recipient));
        } else if let Some(left) = departed {
            not_counted.push(format!("{} had left on {left}", r.recipient));
        } else if &*r.status != "delivered" {
            not_counted.push(format!("{} {}", r.recipient, r.status));
        } else if !reached.contains(&&*r.recipient) {
            reached.push(&r.recipient);
        }
    }
    Slot {
        from,
        to,
        sent,
        reached,
        not_counted,
    }
}

fn evaluate(cx: &Context, out: &mut Vec<Finding>) {
    let cfg = &cx.policy.rules.reminders;
    for s in &cx.subjects {
        for &days in &cfg.days_before {
            let Slot {
                to,
                sent: in_slot,
                reached,
                not_counted,
                ..
            } = slot(cx.facts, cfg, &s.person.email, s.access_end, days);
            if to > cx.now {
                continue;
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
                    at: plus_days(s.access_end, -i64::from(days)),
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
