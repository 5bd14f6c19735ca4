//! Effective expiry: when each person's access was meant to end, and how it actually did.
//!
//! The effective expiry is the end of the contract's last day in the person's zone, moved
//! to the end of the sprint it falls in when the policy aligns to sprints, then replaced by
//! the new expiry of each later extension whose approvals satisfy the policy. Emergency
//! grants do not move it: they open a window of at most `emergency_max_hours` after it.
//! One function assesses extension requests (`assess`), so the expiry and the
//! extension-approval rule can never disagree about which extensions count.

use std::collections::{HashMap, HashSet};

use chrono::{Duration, NaiveDate};
use chrono_tz::Tz;

use crate::event::{EventKind, Timestamp};
use crate::policy::config::Policy;
use crate::policy::facts::{end_of_day, idp_of, Act, Cite, Facts, Person, Request, SprintVersion};

const HOUR: i64 = 3_600_000_000;

/// What the policy makes of one extension request.
#[derive(Clone, Debug)]
pub struct Assessed<'f> {
    pub request: &'f Request,
    /// The expiry in force when it was requested.
    pub old_expiry: Timestamp,
    /// The expiry it asks for; `None` when absent or unreadable.
    pub new_expiry: Option<Timestamp>,
    /// Every way it falls short of the policy; empty when it counts.
    pub problems: Vec<String>,
    /// The decision that completed the approval, when it did.
    pub granted_at: Option<Timestamp>,
}

impl Assessed<'_> {
    pub fn valid(&self) -> bool {
        self.problems.is_empty()
    }
}

/// How an IdP account ended relative to a deadline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ending {
    /// Deactivated at or before the deadline and not reactivated by then.
    OnTime(Cite),
    /// First deactivated after the deadline.
    Late(Cite),
    Never,
}

/// A person in scope, with their expiry worked out.
#[derive(Clone, Debug)]
pub struct Subject<'f> {
    pub person: &'f Person,
    pub tz: Tz,
    /// The contract end (or, for employees, the day they left).
    pub last_day: NaiveDate,
    /// End of `last_day` in the person's zone.
    pub base: Timestamp,
    /// The sprint that moved the expiry, when alignment did.
    pub aligned_to: Option<&'f SprintVersion>,
    pub requests: Vec<Assessed<'f>>,
    pub effective: Timestamp,
    /// Emergency grant windows `[from, to)` with the request behind each.
    pub windows: Vec<(Timestamp, Timestamp, &'f Request)>,
    /// Per IdP (of the person's roster accounts in scope): how it ended at `effective`.
    pub endings: Vec<(String, Ending)>,
    /// When access really ended: the effective expiry, or the first IdP deactivation when
    /// every IdP account was deactivated by then (the moment the person was cut off).
    pub access_end: Timestamp,
}

impl Subject<'_> {
    /// Whether `at` is after expiry and outside every emergency window.
    pub fn after_expiry(&self, at: Timestamp) -> bool {
        at >= self.effective && !self.windows.iter().any(|(f, t, _)| *f <= at && at < *t)
    }

    /// Lifecycle events of the person's accounts at `idp`.
    pub fn lifecycle<'a>(&self, facts: &'a Facts, idp: &str) -> Vec<&'a Act> {
        lifecycle(facts, &self.person.email, idp)
    }
}

/// Lifecycle events (created, deactivated, reactivated...) of `email`'s accounts at `idp`.
fn lifecycle<'a>(facts: &'a Facts, email: &str, idp: &str) -> Vec<&'a Act> {
    facts
        .acts_of(email)
        .iter()
        .filter(|a| idp_of(&a.cite.source) == idp && is_lifecycle(a.cite.kind))
        .collect()
}

pub fn is_lifecycle(kind: EventKind) -> bool {
    matches!(
        kind,
        EventKind::AccountDeactivated
            | EventKind::AccountSuspended
            | EventKind::AccountDeleted
            | EventKind::AccountReactivated
            | EventKind::AccountCreated
    )
}

pub fn is_deactivation(kind: EventKind) -> bool {
    matches!(
        kind,
        EventKind::AccountDeactivated | EventKind::AccountSuspended | EventKind::AccountDeleted
    )
}

/// How the account whose lifecycle is `events` (time order) stood at `deadline`.
pub fn ending_at(events: &[&Act], deadline: Timestamp) -> Ending {
    let mut off: Option<&Cite> = None;
    for a in events.iter().filter(|a| a.cite.at <= deadline) {
        if is_deactivation(a.cite.kind) {
            off = off.or(Some(&a.cite));
        } else {
            off = None;
        }
    }
    if let Some(c) = off {
        return Ending::OnTime(c.clone());
    }
    events
        .iter()
        .find(|a| a.cite.at > deadline && is_deactivation(a.cite.kind))
        .map(|a| Ending::Late(a.cite.clone()))
        .unwrap_or(Ending::Never)
}

/// Parses a `new_expiry`: a date (end of that day in `tz`) or an RFC 3339 time.
pub fn parse_expiry(text: &str, tz: Tz) -> Option<Timestamp> {
    if let Ok(d) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Some(end_of_day(d, tz));
    }
    Timestamp::parse_rfc3339(text).ok()
}

/// Works out every person in scope. `now` bounds what can be called overdue.
pub fn subjects<'f>(facts: &'f Facts, policy: &Policy, now: Timestamp) -> Vec<Subject<'f>> {
    let mut out = Vec::new();
    for person in facts.people.values() {
        let Some((last_day, tz)) = last_day(person, policy) else {
            continue;
        };
        out.push(subject(facts, policy, person, last_day, tz, now));
    }
    out
}

/// The last day of a person in scope, and their zone; `None` for someone out of scope: an
/// employee when the policy leaves them out, or anyone without an end date or known zone.
fn last_day(person: &Person, policy: &Policy) -> Option<(NaiveDate, Tz)> {
    let last_day = if person.contractor {
        person.contract_end
    } else if policy.scope.include_employees {
        person.left_on
    } else {
        None
    };
    Some((last_day?, person.tz?))
}

/// The emails of the people in scope: the subjects, known from the roster alone.
pub fn in_scope(facts: &Facts, policy: &Policy) -> HashSet<String> {
    facts
        .people
        .values()
        .filter(|p| last_day(p, policy).is_some())
        .map(|p| p.email.clone())
        .collect()
}

/// From when each subject's everyday events can matter to a rule: the effective expiry
/// (every "after expiry" rule), or the person's first deactivation when that is earlier
/// (sessions used after a deactivation are orphaned whatever the expiry). Emergency windows
/// lie after the expiry they excuse, so they never move it earlier. People out of scope
/// are absent: no rule reads their everyday events.
pub fn everyday_cutoffs(
    facts: &Facts,
    policy: &Policy,
    now: Timestamp,
) -> HashMap<String, Timestamp> {
    subjects(facts, policy, now)
        .into_iter()
        .map(|s| {
            let first_off = facts
                .acts_of(&s.person.email)
                .iter()
                .filter(|a| is_deactivation(a.cite.kind))
                .map(|a| a.cite.at)
                .min();
            let from = first_off.map_or(s.effective, |t| t.min(s.effective));
            (s.person.email.clone(), from)
        })
        .collect()
}

fn subject<'f>(
    facts: &'f Facts,
    policy: &Policy,
    person: &'f Person,
    last_day: NaiveDate,
    tz: Tz,
    now: Timestamp,
) -> Subject<'f> {
    let base = end_of_day(last_day, tz);
    let mut scheduled = base;
    let mut aligned_to = None;
    if policy.expiry.align_to_sprint {
        if let Some(team) = &person.team {
            if let Some(s) = facts
                .current_sprints(team)
                .into_iter()
                .find(|s| s.start <= last_day && last_day <= s.end)
            {
                let end = end_of_day(s.end, tz);
                if end > base {
                    scheduled = end;
                    aligned_to = Some(s);
                }
            }
        }
    }
    let mut requests: Vec<&Request> = facts
        .requests
        .values()
        .filter(|r| r.subject == person.email)
        .collect();
    requests.sort_by_key(|r| {
        let c = r
            .requested
            .as_ref()
            .or(r.decisions.first().map(|d| &d.cite));
        c.map(|c| (c.at, c.seq))
    });
    let mut effective = scheduled;
    let mut assessed = Vec::new();
    let mut windows = Vec::new();
    for r in requests {
        let a = assess(policy, person, tz, r, effective, now);
        if a.valid() {
            if let (Some(new), Some(granted)) = (a.new_expiry, a.granted_at) {
                if r.emergency {
                    let max = Timestamp(
                        granted.0
                            + policy.rules.extension_approval.emergency_max_hours as i64 * HOUR,
                    );
                    windows.push((granted, new.min(max), r));
                } else if new > effective {
                    effective = new;
                }
            }
        }
        assessed.push(a);
    }
    let mut endings = Vec::new();
    let mut idps: Vec<&str> = person
        .accounts
        .iter()
        .map(|(idp, _)| &**idp)
        .filter(|idp| policy.scope.idp_sources.iter().any(|s| s == idp))
        .collect();
    idps.sort();
    idps.dedup();
    for idp in idps {
        let events = lifecycle(facts, &person.email, idp);
        endings.push((idp.to_string(), ending_at(&events, effective)));
    }
    let all_early =
        !endings.is_empty() && endings.iter().all(|(_, e)| matches!(e, Ending::OnTime(_)));
    let access_end = if all_early {
        endings
            .iter()
            .filter_map(|(_, e)| match e {
                Ending::OnTime(c) => Some(c.at),
                _ => None,
            })
            .min()
            .unwrap_or(effective)
            .min(effective)
    } else {
        effective
    };
    Subject {
        person,
        tz,
        last_day,
        base,
        aligned_to,
        requests: assessed,
        effective,
        windows,
        endings,
        access_end,
    }
}

/// Checks one request against the extension policy.
pub fn assess<'f>(
    policy: &Policy,
    person: &Person,
    tz: Tz,
    request: &'f Request,
    old_expiry: Timestamp,
    now: Timestamp,
) -> Assessed<'f> {
    let rules = &policy.rules.extension_approval;
    let mut problems = Vec::new();
    let new_expiry = request
        .new_expiry
        .as_deref()
        .and_then(|t| parse_expiry(t, tz));
    let Some(req) = &request.requested else {
        problems.push("no request was recorded, only decisions".to_string());
        return Assessed {
            request,
            old_expiry,
            new_expiry,
            problems,
            granted_at: None,
        };
    };
    if new_expiry.is_none() {
        problems.push("the request names no readable new expiry".into());
    }
    if rules.require_reason && request.reason.is_none() {
        problems.push("no reason was recorded".into());
    }
    let sla = Timestamp(req.at.0 + rules.decision_within_hours as i64 * HOUR);
    if let Some(d) = request.decisions.iter().find(|d| !d.approved) {
        problems.push(format!("denied by {} ({})", d.actor, d.role));
    }
    let mut covered: Vec<&str> = Vec::new();
    let mut used: Vec<&str> = Vec::new();
    let mut granted_at: Option<Timestamp> = None;
    for d in request.decisions.iter().filter(|d| d.approved) {
        let who = d.actor.as_str();
        if Some(who) == request.requester.as_deref() {
            problems.push(format!("{who} approved their own request"));
            continue;
        }
        if who == person.email {
            problems.push(format!("{who} approved their own extension"));
            continue;
        }
        if used.contains(&who) {
            continue;
        }
        if d.cite.at > sla {
            problems.push(format!(
                "{who} ({}) approved {} after the request, past the {} h limit",
                d.role,
                crate::policy::facts::human_duration(d.cite.at.0 - req.at.0),
                rules.decision_within_hours
            ));
            continue;
        }
        if !request.emergency && d.cite.at > old_expiry {
            problems.push(format!("{who} ({}) approved after the old expiry", d.role));
            continue;
        }
        if d.role == "tech_lead" {
            if let Some(tl) = &person.tech_lead {
                if **tl != *who {
                    problems.push(format!(
                        "{who} approved as tech lead but {}'s tech lead is {tl}",
                        person.name
                    ));
                    continue;
                }
            }
        }
        if !rules.required_roles.iter().any(|r| r == &d.role) {
            continue;
        }
        used.push(who);
        if !covered.contains(&d.role.as_str()) {
            covered.push(&d.role);
        }
        granted_at = Some(granted_at.map_or(d.cite.at, |g| g.max(d.cite.at)));
    }
    let missing: Vec<&str> = rules
        .required_roles
        .iter()
        .map(String::as_str)
        .filter(|r| !covered.contains(r))
        .collect();
    if !missing.is_empty() {
        let state = if now > sla {
            "expired without"
        } else {
            "still waits for"
        };
        problems.push(format!(
            "{state} a valid approval by {} (two distinct approvers, neither the requester, within {} h)",
            missing.join(" and "),
            rules.decision_within_hours
        ));
    }
    if request.emergency {
        if let (Some(new), Some(g)) = (new_expiry, granted_at) {
            let hours = (new.0 - g.0) as f64 / HOUR as f64;
            if hours > rules.emergency_max_hours as f64 {
                problems.push(format!(
                    "emergency grant of {:.0} h exceeds {} h",
                    hours, rules.emergency_max_hours
                ));
            }
        }
    }
    Assessed {
        request,
        old_expiry,
        new_expiry,
        problems,
        granted_at: missing.is_empty().then_some(granted_at).flatten(),
    }
}

/// `d` days after `t`.
pub fn plus_days(t: Timestamp, d: i64) -> Timestamp {
    Timestamp(t.0 + Duration::days(d).num_microseconds().unwrap_or(0))
}
