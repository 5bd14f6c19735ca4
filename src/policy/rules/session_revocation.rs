//! `session-revocation`: sessions were revoked within `within_minutes` (default 15) of each
//! IdP deactivation. Session activity or a sign-in after the deactivation with no
//! revocation in between is an orphaned session, the more severe finding.

use super::{name, Context, Draft, Rule};
use crate::event::{EventKind, Timestamp};
use crate::policy::expiry::{is_deactivation, is_lifecycle};
use crate::policy::facts::human_duration;
use crate::policy::finding::{Finding, Severity};

pub const RULE: Rule = Rule {
    name: "session-revocation",
    description: "Sessions revoked within minutes of deactivation; no orphaned sessions",
    controls: &[
        "SOC2:CC6.1",
        "SOC2:CC6.2",
        "HIPAA:164.308(a)(3)(ii)(C)",
        "HIPAA:164.312(d)",
    ],
    enabled: |p| p.rules.session_revocation.enabled,
    evaluate,
};

/// Revocations shortly before the deactivation count too: some runbooks revoke first.
const EARLY_MICROS: i64 = 3_600_000_000;

fn evaluate(cx: &Context, out: &mut Vec<Finding>) {
    let within = cx.policy.rules.session_revocation.within_minutes as i64 * 60_000_000;
    for s in &cx.subjects {
        let acts = cx.facts.acts_of(&s.person.email);
        for (idp, _) in &s.endings {
            for d in s.lifecycle(cx.facts, idp) {
                if !is_deactivation(d.cite.kind) || Timestamp(d.cite.at.0 + within) > cx.now {
                    continue;
                }
                let revoked = acts.iter().find(|a| {
                    a.cite.kind == EventKind::SessionRevoked
                        && a.cite.at.0 >= d.cite.at.0 - EARLY_MICROS
                        && a.cite.at.0 <= d.cite.at.0 + within
                });
                if revoked.is_some() {
                    continue;
                }
                let next_revocation = acts
                    .iter()
                    .find(|a| a.cite.kind == EventKind::SessionRevoked && a.cite.at > d.cite.at)
                    .map(|a| a.cite.at);
                // Any lifecycle event but a deactivation opens the account again, as in
                // `expiry::ending_at`: Okta re-enables a deactivated user with
                // `user.lifecycle.activate`, which reads as a creation.
                let reactivated = acts
                    .iter()
                    .find(|a| {
                        is_lifecycle(a.cite.kind)
                            && !is_deactivation(a.cite.kind)
                            && a.cite.at > d.cite.at
                    })
                    .map(|a| a.cite.at);
                let until = [next_revocation, reactivated].into_iter().flatten().min();
                let orphaned: Vec<_> = acts
                    .iter()
                    .filter(|a| {
                        matches!(
                            a.cite.kind,
                            EventKind::SessionActivity
                                | EventKind::SessionStarted
                                | EventKind::AuthSucceeded
                                | EventKind::AccessUsed
                        ) && a.cite.at > d.cite.at
                            && until.is_none_or(|u| a.cite.at < u)
                    })
                    .collect();
                let mut cites = vec![&d.cite];
                let (severity, summary) = if let Some(last) = orphaned.last() {
                    cites.extend(orphaned.iter().map(|a| &a.cite));
                    (
                        Severity::High,
                        format!(
                            "Orphaned session: {} was still active {} after the {idp} deactivation ({} uses), and no session was revoked",
                            name(s),
                            human_duration(last.cite.at.0 - d.cite.at.0),
                            orphaned.len()
                        ),
                    )
                } else {
                    (
                        Severity::Medium,
                        format!(
                            "{}'s sessions were not revoked within {} of the {idp} deactivation{}",
                            name(s),
                            human_duration(within),
                            match next_revocation {
                                Some(r) => format!(
                                    " (revoked {} after)",
                                    human_duration(r.0 - d.cite.at.0)
                                ),
                                None => String::new(),
                            }
                        ),
                    )
                };
                out.push(
                    Draft {
                        rule: &RULE,
                        subject: s,
                        key: format!("{idp}:{}", d.cite.seq),
                        severity,
                        summary,
                        at: d.cite.at,
                        cites,
                        details: vec![
                            ("idp", idp.clone()),
                            ("deactivated_at", d.cite.at.to_rfc3339()),
                            ("orphaned_uses", orphaned.len().to_string()),
                        ],
                    }
                    .finish(),
                );
            }
        }
    }
}
