//! `token-revocation`: every token, PAT and API key known for the person — listed in the
//! roster or seen in the logs — was revoked (or expired) within `within_minutes` of the
//! deactivation (or of the expiry, when the person was never deactivated).

use std::collections::BTreeMap;

use super::{name, Context, Draft, Rule};
use crate::event::{EventKind, Timestamp};
use crate::policy::expiry::Ending;
use crate::policy::facts::{human_duration, idp_of, Cite};
use crate::policy::finding::{Finding, Severity};

pub const RULE: Rule = Rule {
    name: "token-revocation",
    description: "Every token, PAT and API key revoked at deactivation",
    controls: &[
        "SOC2:CC6.1",
        "SOC2:CC6.2",
        "HIPAA:164.308(a)(3)(ii)(C)",
        "HIPAA:164.312(d)",
    ],
    enabled: |p| p.rules.token_revocation.enabled,
    evaluate,
};

fn evaluate(cx: &Context, out: &mut Vec<Finding>) {
    let within = cx.policy.rules.token_revocation.within_minutes as i64 * 60_000_000;
    for s in &cx.subjects {
        let acts = cx.facts.acts_of(&s.person.email);
        // (idp, token) → the evidence that it exists.
        let mut tokens: BTreeMap<(String, String), Vec<&Cite>> = BTreeMap::new();
        for (idp, t) in &s.person.tokens {
            tokens
                .entry((idp.to_string(), t.to_string()))
                .or_default()
                .push(&s.person.cite);
        }
        // Tokens seen being created are credentials too; a token id seen only in use is
        // usually a short-lived OAuth access token (Keycloak's CODE_TO_TOKEN), not one.
        for a in acts {
            if let (Some(t), EventKind::TokenCreated) = (&a.token, a.cite.kind) {
                tokens
                    .entry((idp_of(&a.cite.source).to_string(), t.to_string()))
                    .or_default()
                    .push(&a.cite);
            }
        }
        // The reference: when the last IdP account was cut (on time or late), else the
        // expiry; an emergency window moves it to the window's end.
        let cut = s
            .endings
            .iter()
            .filter_map(|(_, e)| match e {
                Ending::OnTime(c) | Ending::Late(c) => Some(c.at),
                Ending::Never => None,
            })
            .max()
            .unwrap_or(s.effective);
        let reference = s
            .windows
            .iter()
            .map(|(_, to, _)| *to)
            .fold(cut, |a, b| a.max(b));
        let limit = Timestamp(reference.0 + within);
        if limit > cx.now {
            continue;
        }
        for ((idp, token), seen) in tokens {
            let revoked = acts.iter().find(|a| {
                a.cite.kind == EventKind::TokenRevoked
                    && idp_of(&a.cite.source) == idp
                    && a.token.as_deref() == Some(token.as_str())
            });
            // The first piece of evidence that the token exists (every entry has one).
            let mut cites: Vec<&Cite> = seen.first().copied().into_iter().collect();
            let (severity, summary, at) = match revoked {
                Some(r) if r.cite.at <= limit => continue,
                Some(r) if r.cite.at <= cx.now => {
                    cites.push(&r.cite);
                    (
                        Severity::High,
                        format!(
                            "{}'s {idp} token {token} was revoked {} after access was cut, not within {}",
                            name(s),
                            human_duration(r.cite.at.0 - reference.0),
                            human_duration(within)
                        ),
                        r.cite.at,
                    )
                }
                _ => (
                    Severity::Critical,
                    format!(
                        "{}'s {idp} token {token} was never revoked ({} after access was cut)",
                        name(s),
                        human_duration(cx.now.0 - reference.0)
                    ),
                    limit,
                ),
            };
            out.push(
                Draft {
                    rule: &RULE,
                    subject: s,
                    key: format!("{idp}:{token}"),
                    severity,
                    summary,
                    at,
                    cites,
                    details: vec![
                        ("idp", idp.clone()),
                        ("token", token.clone()),
                        ("access_cut_at", reference.to_rfc3339()),
                    ],
                }
                .finish(),
            );
        }
    }
}
