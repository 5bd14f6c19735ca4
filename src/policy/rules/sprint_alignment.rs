//! `sprint-alignment`: access should end at the end of the sprint in which the contract
//! ends. Access that ends mid-sprint is flagged; within `review_within_days` (3) of the
//! sprint's end it is flagged for review; and when the sprint was extended after the
//! expiry was planned, so that it now outlives the expiry, the finding says so.

use super::{name, Context, Draft, Rule};
use crate::policy::facts::{end_of_day, last_day, SprintVersion};
use crate::policy::finding::{Finding, Severity};

pub const RULE: Rule = Rule {
    name: "sprint-alignment",
    description: "Access ends at the end of a sprint, never mid-sprint",
    controls: &["SOC2:CC6.3", "HIPAA:164.308(a)(4)"],
    enabled: |p| p.rules.sprint_alignment.enabled,
    evaluate,
};

fn evaluate(cx: &Context, out: &mut Vec<Finding>) {
    let review = cx.policy.rules.sprint_alignment.review_within_days as i64;
    for s in &cx.subjects {
        let Some(team) = &s.person.team else { continue };
        let end_day = last_day(s.access_end, s.tz);
        // The last day is a local date: name the zone, or it reads as a UTC day.
        let last = format!("{end_day} (the last day with access, {})", s.person.tz_name);
        let sprints = cx.facts.current_sprints(team);
        let Some(sprint) = sprints
            .iter()
            .find(|sp| sp.start <= end_day && end_day <= sp.end)
        else {
            continue;
        };
        if sprint.end == end_day {
            continue;
        }
        let left = (sprint.end - end_day).num_days();
        // An earlier version of this sprint that ended on or before the last day.
        let extended_from: Option<&SprintVersion> = cx
            .facts
            .sprints
            .get(&**team)
            .into_iter()
            .flatten()
            .rfind(|v| {
                v.sprint == sprint.sprint && v.end <= end_day && v.cite.seq != sprint.cite.seq
            });
        let mut cites = vec![&sprint.cite, &s.person.cite];
        let (severity, summary, key) = if let Some(old) = extended_from {
            cites.push(&old.cite);
            (
                Severity::Medium,
                format!(
                    "{}'s access ended {last}, mid-sprint: sprint {} was extended from {} to {} but the expiry was not moved with it",
                    name(s),
                    sprint.sprint,
                    old.end,
                    sprint.end
                ),
                "extended",
            )
        } else if left <= review {
            (
                Severity::Low,
                format!(
                    "{}'s access ends {last}, {left} day{} before sprint {} ends ({}): review",
                    name(s),
                    if left == 1 { "" } else { "s" },
                    sprint.sprint,
                    sprint.end
                ),
                "review",
            )
        } else {
            (
                Severity::Medium,
                format!(
                    "{}'s access ends {last}, mid-sprint: sprint {} runs to {}",
                    name(s),
                    sprint.sprint,
                    sprint.end
                ),
                "mid-sprint",
            )
        };
        out.push(
            Draft {
                rule: &RULE,
                subject: s,
                key: key.to_string(),
                severity,
                summary,
                at: s.access_end,
                cites,
                details: vec![
                    ("sprint", sprint.sprint.clone()),
                    ("sprint_end", sprint.end.to_string()),
                    // The two instants a timeline sets side by side.
                    ("access_end", s.access_end.to_rfc3339()),
                    ("sprint_end_at", end_of_day(sprint.end, s.tz).to_rfc3339()),
                    ("last_day", end_day.to_string()),
                    ("days_before_sprint_end", left.to_string()),
                ],
            }
            .finish(),
        );
    }
}
