//! `timezone`: expiry is evaluated at the end of the day in the contractor's zone. An expiry
//! set, or a deactivation done, at midnight UTC that lands inside the local working day
//! (a weekday, between `working_day_start` and `working_day_end`) cut the person off
//! mid-workday: the classic UTC-vs-local mistake.

use chrono::Timelike;

use super::{name, Context, Draft, Rule};
use crate::event::EventKind;
use crate::policy::config::parse_hhmm;
use crate::policy::expiry::is_deactivation;
use crate::policy::facts::{is_weekday, local_text};
use crate::policy::finding::{Finding, Severity};

pub const RULE: Rule = Rule {
    name: "timezone",
    description: "No expiry at midnight UTC that falls inside the local working day",
    controls: &["SOC2:CC6.2", "HIPAA:164.308(a)(3)(ii)(C)"],
    enabled: |p| p.rules.timezone.enabled,
    evaluate,
};

fn evaluate(cx: &Context, out: &mut Vec<Finding>) {
    let start = parse_hhmm(&cx.policy.expiry.working_day_start).unwrap_or(8 * 60);
    let end = parse_hhmm(&cx.policy.expiry.working_day_end).unwrap_or(18 * 60);
    for s in &cx.subjects {
        for a in cx.facts.acts_of(&s.person.email) {
            if !(is_deactivation(a.cite.kind) || a.cite.kind == EventKind::ExpirySet) {
                continue;
            }
            // An expiry set is judged by the instant it sets; a deactivation by when it ran.
            let instant = if a.cite.kind == EventKind::ExpirySet {
                match a.expires {
                    Some(t) => t,
                    None => continue,
                }
            } else {
                a.cite.at
            };
            let utc = instant.to_datetime();
            if utc.hour() != 0 || utc.minute() != 0 {
                continue;
            }
            let local = utc.with_timezone(&s.tz);
            let minute = local.hour() * 60 + local.minute();
            if !(is_weekday(local.date_naive()) && start <= minute && minute < end) {
                continue;
            }
            let (what, action) = if a.cite.kind == EventKind::ExpirySet {
                ("account expiry was set to", "expiry set")
            } else {
                ("account was deactivated at", "deactivation")
            };
            out.push(
                Draft {
                    rule: &RULE,
                    subject: s,
                    key: a.cite.seq.to_string(),
                    severity: Severity::Medium,
                    summary: format!(
                        "{}'s {} {} 00:00 UTC, which is {}: inside the working day there",
                        name(s),
                        a.cite.source,
                        what,
                        local_text(instant, Some(s.tz), &s.person.tz_name)
                    ),
                    at: instant,
                    cites: vec![&a.cite, &s.person.cite],
                    details: vec![
                        (
                            "local_time",
                            local_text(instant, Some(s.tz), &s.person.tz_name),
                        ),
                        ("action", action.to_string()),
                    ],
                }
                .finish(),
            );
        }
    }
}
