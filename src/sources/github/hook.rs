//! GitHub webhook deliveries (`POST /hooks/github`): the body of one delivery, the event
//! name from `X-GitHub-Event` and the delivery id from `X-GitHub-Delivery`.
//!
//! Webhook bodies carry no event time, so the event's time is when the delivery arrived
//! (`original_time` says so). The delivery id is the source id: GitHub keeps it on a manual
//! redelivery, so a redelivered body is the same record and is stored once.
//!
//! Mapped as the audit log maps the same facts (`super`): `organization` `member_added` →
//! `account.created`, `member_removed` → `account.deactivated` (about `membership.user`);
//! `membership` `added`/`removed` → `group.granted`/`group.removed` (about `member`, the
//! team in `attrs.group`); `personal_access_token_request` `approved` → `token.created`
//! (about the token's owner; the request's other actions are `other`). Every other event or
//! action is kept as `other` with `attrs.type = "<event>.<action>"`, about the member it
//! names, else the sender.
//!
//! Docs: github/docs "Webhook events and payloads" (`organization`, `membership`,
//! `personal_access_token_request`); bodies from octokit/webhooks' payload examples
//! (`fixtures/hooks/github/`).

use serde_json::Value;

use super::super::{new_event, opt_str, put, FieldError, NO_ACCOUNT};
use crate::event::{Event, EventKind, Timestamp};

/// The events of one delivery.
pub fn normalise(
    event_name: &str,
    delivery: &str,
    body: &Value,
    received_at: Timestamp,
) -> Result<Vec<Event>, FieldError> {
    use EventKind::*;
    if !body.is_object() {
        return Err(FieldError::new(
            "/",
            "expected a JSON object (a webhook payload)",
        ));
    }
    if delivery.trim().is_empty() {
        return Err(FieldError::new(
            "X-GitHub-Delivery",
            "missing; GitHub sends a delivery id with every webhook",
        ));
    }
    let action = opt_str(body, "/action").unwrap_or_default();
    let sender = opt_str(body, "/sender/login");
    let (kind, subject) = match (event_name, action.as_str()) {
        ("organization", "member_added") => {
            (AccountCreated, opt_str(body, "/membership/user/login"))
        }
        ("organization", "member_removed") => {
            (AccountDeactivated, opt_str(body, "/membership/user/login"))
        }
        ("organization", "member_invited") => (
            Other,
            opt_str(body, "/user/login").or_else(|| opt_str(body, "/invitation/login")),
        ),
        ("membership", "added") => (GroupGranted, opt_str(body, "/member/login")),
        ("membership", "removed") => (GroupRemoved, opt_str(body, "/member/login")),
        ("personal_access_token_request", "approved") => (
            TokenCreated,
            opt_str(body, "/personal_access_token_request/owner/login"),
        ),
        ("personal_access_token_request", _) => (
            Other,
            opt_str(body, "/personal_access_token_request/owner/login"),
        ),
        (_, _) => (
            Other,
            opt_str(body, "/member/login")
                .or_else(|| opt_str(body, "/membership/user/login"))
                .or_else(|| opt_str(body, "/user/login"))
                .or_else(|| opt_str(body, "/blocked_user/login")),
        ),
    };
    let subject = subject.or_else(|| sender.clone());
    let (kind, subject) = match subject {
        Some(s) => (kind, s),
        None => (Other, NO_ACCOUNT.to_string()),
    };
    let time = (
        received_at,
        format!(
            "{} (delivery received; webhooks carry no event time)",
            received_at
        ),
    );
    let mut e = new_event("github", Some(delivery.to_string()), kind, &subject, time);
    if subject == NO_ACCOUNT {
        e.account = None;
    }
    if sender.as_deref().map(str::to_lowercase) != Some(e.subject.clone()) {
        e.actor = sender.map(|s| s.to_lowercase());
    }
    let type_name = if action.is_empty() {
        event_name.to_string()
    } else {
        format!("{event_name}.{action}")
    };
    e.attrs.insert("type".into(), type_name);
    e.attrs.insert("via".into(), "webhook".into());
    put(&mut e, "org", opt_str(body, "/organization/login"));
    put(&mut e, "group", opt_str(body, "/team/name"));
    put(&mut e, "role", opt_str(body, "/membership/role"));
    put(
        &mut e,
        "token_id",
        opt_str(body, "/personal_access_token_request/token_id"),
    );
    Ok(vec![e])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payloads() -> Vec<Value> {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/hooks/github/vendor-octokit-webhooks-org-membership-payloads.json"
        );
        let text = std::fs::read_to_string(path).unwrap_or_default();
        serde_json::from_str(&text).unwrap_or_default()
    }

    #[test]
    fn octokit_bodies_map_to_the_audit_logs_kinds() {
        let bodies = payloads();
        assert_eq!(bodies.len(), 18, "fixture missing or changed");
        // The event names of the fixture, in its order (fixtures/idp/SOURCES.md).
        let names = [
            "organization",
            "organization",
            "organization",
            "organization",
            "membership",
            "membership",
            "membership",
            "member",
            "member",
            "org_block",
            "org_block",
            "github_app_authorization",
            "deploy_key",
            "installation",
            "installation",
            "installation",
            "team",
            "team",
        ];
        let at = Timestamp(1_796_119_200_000_000);
        let mut kinds = Vec::new();
        for (i, (name, body)) in names.iter().zip(&bodies).enumerate() {
            let events = normalise(name, &format!("d-{i}"), body, at)
                .unwrap_or_else(|e| panic!("body {i} ({name}): {e}"));
            assert_eq!(events.len(), 1);
            assert_eq!(
                events[0].source_id.as_deref(),
                Some(format!("d-{i}").as_str())
            );
            kinds.push((events[0].kind, events[0].subject.clone()));
        }
        assert_eq!(kinds[0], (EventKind::AccountCreated, "hacktocat".into()));
        assert_eq!(kinds[2].0, EventKind::AccountDeactivated);
        assert_eq!(kinds[4].0, EventKind::GroupGranted);
        assert_eq!(kinds[5].0, EventKind::GroupRemoved);
        assert!(kinds[7..].iter().all(|(k, _)| *k == EventKind::Other));
    }

    #[test]
    fn a_delivery_without_an_id_or_an_object_is_refused() {
        let at = Timestamp(0);
        assert!(normalise("organization", "", &serde_json::json!({}), at).is_err());
        assert!(normalise("organization", "d", &serde_json::json!([1]), at).is_err());
        let e =
            normalise("push", "d", &serde_json::json!({"action": null}), at).unwrap_or_default();
        assert_eq!(e[0].subject, NO_ACCOUNT);
        assert_eq!(e[0].attrs.get("type").map(String::as_str), Some("push"));
    }
}
