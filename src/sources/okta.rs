//! Okta System Log (`GET /api/v1/logs`: a JSON array of LogEvent objects, or one per line).
//!
//! Fields used (Okta's LogEvent): `uuid` (the event id), `published` (RFC 3339, UTC),
//! `eventType`, `outcome.result` / `outcome.reason`, `actor`, `target[]`, `client.ipAddress`,
//! `authenticationContext.externalSessionId`, `debugContext.debugData.changedAttributes`.
//! The subject is the target user for lifecycle, session-clear and membership events, else
//! the actor.

use serde_json::Value;

use super::framing::Content;
use super::{new_event, opt_str, put, req_str, req_time, FieldError, Role, Source};
use crate::event::{Event, EventKind};

pub struct Okta;

fn target_of_type<'v>(record: &'v Value, kind: &str) -> Option<&'v Value> {
    record
        .get("target")?
        .as_array()?
        .iter()
        .find(|t| t.get("type").and_then(Value::as_str) == Some(kind))
}

fn classify(event_type: &str, success: bool, record: &Value) -> (EventKind, bool) {
    use EventKind::*;
    // (kind, is the subject the target user rather than the actor?)
    match event_type {
        "user.lifecycle.deactivate" => (AccountDeactivated, true),
        "user.lifecycle.suspend" => (AccountSuspended, true),
        "user.lifecycle.unsuspend" | "user.lifecycle.reactivate" => (AccountReactivated, true),
        "user.lifecycle.activate" | "user.lifecycle.create" => (AccountCreated, true),
        "user.lifecycle.delete.initiated" | "user.lifecycle.delete.completed" => {
            (AccountDeleted, true)
        }
        "user.account.update_profile" => {
            let changed = opt_str(record, "/debugContext/debugData/changedAttributes")
                .unwrap_or_default()
                .to_lowercase();
            if changed.contains("enddate") || changed.contains("end_date") {
                (ExpirySet, true)
            } else {
                (AccountUpdated, true)
            }
        }
        "user.session.clear" => (SessionRevoked, true),
        "user.session.end" => (SessionEnded, false),
        "user.session.access_admin_app" => (SessionActivity, false),
        "group.user_membership.add" | "user.account.privilege.grant" => (GroupGranted, true),
        "group.user_membership.remove" | "user.account.privilege.revoke" => (GroupRemoved, true),
        "system.api_token.create" => (TokenCreated, false),
        "system.api_token.revoke" => (TokenRevoked, false),
        t if t.starts_with("app.oauth2.") && t.contains("token.grant") => (TokenCreated, false),
        t if t.starts_with("app.oauth2.") && t.contains("token.revoke") => (TokenRevoked, false),
        "user.session.start" => (if success { AuthSucceeded } else { AuthFailed }, false),
        t if t.starts_with("user.authentication.") => {
            (if success { AuthSucceeded } else { AuthFailed }, false)
        }
        _ => (Other, false),
    }
}

impl Source for Okta {
    fn name(&self) -> &'static str {
        "okta"
    }

    fn role(&self) -> Role {
        Role::IdentityProvider { idp: "okta" }
    }

    fn description(&self) -> &'static str {
        "Okta System Log (/api/v1/logs JSON array, or NDJSON)"
    }

    fn sniff(&self, record: &Value, _: Content) -> bool {
        record.get("eventType").is_some_and(Value::is_string)
            && record.get("published").is_some()
            && (record.get("uuid").is_some() || record.get("actor").is_some())
    }

    fn normalise(&self, record: &Value) -> Result<Vec<Event>, FieldError> {
        if !record.is_object() {
            return Err(FieldError::new("/", "expected a LogEvent object"));
        }
        let id = req_str(record, "/uuid")?;
        let event_type = req_str(record, "/eventType")?;
        let time = req_time(record, "/published")?;
        let result = opt_str(record, "/outcome/result");
        let success = result.as_deref() == Some("SUCCESS") || result.as_deref() == Some("ALLOW");
        let (kind, subject_is_target) = classify(&event_type, success, record);
        let actor = opt_str(record, "/actor/alternateId");
        let target_user = target_of_type(record, "User").and_then(|t| opt_str(t, "/alternateId"));
        let subject = if subject_is_target {
            target_user.clone().or_else(|| actor.clone())
        } else {
            actor.clone()
        }
        .ok_or_else(|| {
            FieldError::new(
                if subject_is_target {
                    "/target"
                } else {
                    "/actor/alternateId"
                },
                "missing; expected the user the event is about",
            )
        })?;
        let mut e = new_event("okta", Some(id), kind, &subject, time);
        if subject_is_target && actor.as_deref() != Some(subject.as_str()) {
            e.actor = actor;
        }
        put(&mut e, "type", Some(event_type));
        put(&mut e, "outcome", result);
        put(&mut e, "reason", opt_str(record, "/outcome/reason"));
        put(&mut e, "ip", opt_str(record, "/client/ipAddress"));
        put(
            &mut e,
            "session_id",
            opt_str(record, "/authenticationContext/externalSessionId"),
        );
        if let Some(token) = target_of_type(record, "Token")
            .or_else(|| target_of_type(record, "access_token"))
            .or_else(|| target_of_type(record, "refresh_token"))
        {
            put(&mut e, "token_id", opt_str(token, "/id"));
            put(&mut e, "token_name", opt_str(token, "/displayName"));
        }
        if let Some(group) = target_of_type(record, "UserGroup") {
            put(&mut e, "group", opt_str(group, "/displayName"));
        }
        Ok(vec![e])
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::normalise_all;
    use super::*;

    const DEACTIVATE: &str = r#"{"uuid":"e1","published":"2026-03-14T00:00:00.000Z","eventType":"user.lifecycle.deactivate","outcome":{"result":"SUCCESS"},"actor":{"alternateId":"system@okta.com","type":"SystemPrincipal"},"target":[{"type":"User","alternateId":"Jose.Nunez@acme.example","displayName":"José Núñez"}]}"#;
    const LOGIN_FAIL: &str = r#"{"uuid":"e2","published":"2026-03-15T08:00:00.000Z","eventType":"user.session.start","outcome":{"result":"FAILURE","reason":"INVALID_CREDENTIALS"},"actor":{"alternateId":"jose.nunez@acme.example","type":"User"},"client":{"ipAddress":"203.0.113.9"}}"#;

    #[test]
    fn lifecycle_targets_the_user_and_failures_keep_the_reason() {
        let input = format!("[{DEACTIVATE},{LOGIN_FAIL}]");
        let got = normalise_all(&Okta, input.as_bytes());
        let d = &got[0].as_ref().unwrap()[0];
        assert_eq!(d.kind, EventKind::AccountDeactivated);
        assert_eq!(d.subject, "jose.nunez@acme.example");
        assert_eq!(d.account.as_deref(), Some("Jose.Nunez@acme.example"));
        assert_eq!(d.actor.as_deref(), Some("system@okta.com"));
        let f = &got[1].as_ref().unwrap()[0];
        assert_eq!(f.kind, EventKind::AuthFailed);
        assert_eq!(f.attrs["reason"], "INVALID_CREDENTIALS");
    }

    #[test]
    fn panther_style_timestamps_are_refused_with_the_field() {
        let bad = LOGIN_FAIL.replace("2026-03-15T08:00:00.000Z", "2026-03-15 08:00:00.000");
        let got = normalise_all(&Okta, bad.as_bytes());
        let err = got[0].as_ref().unwrap_err();
        assert!(err.starts_with("1: field /published:"), "{err}");
    }
}
