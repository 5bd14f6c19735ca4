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
    /// When the reminder is due, `days` before `end`; one counts when sent within
    /// `window_days` of it, so until `to`.
    pub due: Timestamp,
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
        due: plus_days(end, -days),
        to,
        sent,
        reached,
        not_counted,
    }
}

impl Slot<'_> {
    /// Why some reminders in the slot do not count, as ` (a; b)`, or nothing.
    pub fn not_counted_note(&self) -> String {
        if self.not_counted.is_empty() {
            String::new()
        } else {
            format!(" ({})", self.not_counted.join("; "))
        }
    }
}

fn evaluate(cx: &Context, out: &mut Vec<Finding>) {
    let cfg = &cx.policy.rules.reminders;
    for s in &cx.subjects {
        for &days in &cfg.days_before {
            let slot = slot(cx.facts, cfg, &s.person.email, s.access_end, days);
            if slot.to > cx.now || slot.reached.len() as u32 >= cfg.min_contacts {
                continue;
            }
            let summary = if slot.sent.is_empty() {
                format!(
                    "No {days}-day reminder was recorded before {}'s access ended",
                    name(s)
                )
            } else {
                format!(
                    "The {days}-day reminder before {}'s expiry reached {} of the {} contacts required{}",
                    name(s),
                    slot.reached.len(),
                    cfg.min_contacts,
                    slot.not_counted_note()
                )
            };
            let mut cites: Vec<&Cite> = slot.sent.iter().map(|r| &r.cite).collect();
            cites.push(&s.person.cite);
            out.push(
                Draft {
                    rule: &RULE,
                    subject: s,
                    key: format!("{days}d"),
                    severity: Severity::Medium,
                    summary,
                    at: slot.due,
                    cites,
                    details: vec![
                        ("days_before", days.to_string()),
                        ("reached", slot.reached.join(";")),
                        ("access_end", s.access_end.to_rfc3339()),
                    ],
                }
                .finish(),
            );
        }
    }
}
