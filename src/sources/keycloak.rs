//! Keycloak user and admin events, as the Admin REST API returns them:
//! `GET /admin/realms/{realm}/events` (a JSON array of `EventRepresentation`) and
//! `GET /admin/realms/{realm}/admin-events` (a JSON array of `AdminEventRepresentation`).
//! One file may hold either kind; each record is told apart by `operationType`.
//!
//! Fields used (Keycloak javadoc, `org.keycloak.representations.idm.EventRepresentation` and
//! `AdminEventRepresentation`, <https://www.keycloak.org/docs-api/latest/javadocs/>):
//! - user events: `id` (only from Keycloak 22 on), `time` (epoch milliseconds), `type`
//!   (`org.keycloak.events.EventType`), `realmId`, `clientId`, `userId`, `sessionId`,
//!   `ipAddress`, `error` (`org.keycloak.events.Errors`, e.g. `user_disabled`), `details`
//!   (`username`, `token_id`, `refresh_token_id`, `revoked_client`);
//! - admin events: `id` (Keycloak 22 on), `time`, `realmId`, `authDetails.{userId,ipAddress,
//!   clientId}` (the administrator), `operationType` (`CREATE`/`UPDATE`/`DELETE`/`ACTION`),
//!   `resourceType`, `resourcePath` (`users/<id>`, `users/<id>/logout`,
//!   `users/<id>/groups/<gid>`, `users/<id>/consents/<client>`, `sessions/<id>`),
//!   `representation` (the request body as a JSON string; only when the realm's admin-event
//!   setting "Include representation" is on), `error`.
//!
//! Without `id` (older Keycloak) `source_id` is `None` and the ledger de-duplicates on the
//! hash of the raw record instead.
//!
//! The subject is `details.username` when present, else `userId`. Keycloak writes
//! `username` on login events but not always on token and logout events (`CODE_TO_TOKEN`,
//! `REFRESH_TOKEN`, `LOGOUT`), whose subject is then the user id; `attrs.user_id` is on
//! every event that has one, to join the two. For admin events the
//! `username` of the representation when present, else the user id from `resourcePath`
//! (so a roster should list a Keycloak user's id beside its username). A deactivation is
//! only visible when the representation is included: an `UPDATE` on `users/<id>` whose
//! representation says `"enabled": false`; without it the update is `account.updated`.
//! Keycloak's admin console sends the whole user on every edit, so `"enabled": true`
//! (`account.reactivated`) states that the account is enabled after the change, not that
//! it was disabled before. `DELETE sessions/<id>` names no user: its subject is the session
//! id (linkable through `attrs.session_id` of the login events).

use serde_json::Value;

use super::framing::Content;
use super::{at, new_event, opt_str, put, req_epoch_millis, req_str, FieldError, Role, Source};
use crate::event::{Event, EventKind};

pub struct Keycloak;

/// The kind of a user event, by its `EventType` name.
fn classify_user_event(event_type: &str) -> EventKind {
    use EventKind::*;
    match event_type {
        "LOGIN" | "CLIENT_LOGIN" | "IDENTITY_PROVIDER_LOGIN" => AuthSucceeded,
        "LOGIN_ERROR"
        | "CLIENT_LOGIN_ERROR"
        | "CODE_TO_TOKEN_ERROR"
        | "REFRESH_TOKEN_ERROR"
        | "TOKEN_EXCHANGE_ERROR"
        | "USER_INFO_REQUEST_ERROR"
        | "IDENTITY_PROVIDER_LOGIN_ERROR" => AuthFailed,
        "LOGOUT" => SessionEnded,
        "CODE_TO_TOKEN" | "REFRESH_TOKEN" | "TOKEN_EXCHANGE" | "USER_INFO_REQUEST" => TokenUsed,
        // The account console's "revoke access" of a client: its consent and offline tokens.
        "REVOKE_GRANT" => TokenRevoked,
        "REGISTER" => AccountCreated,
        "DELETE_ACCOUNT" => AccountDeleted,
        "USER_DISABLED_BY_PERMANENT_LOCKOUT" => AccountDeactivated,
        "USER_DISABLED_BY_TEMPORARY_LOCKOUT" => AccountSuspended,
        _ => Other,
    }
}

/// A JSON object given as a string (Keycloak's `representation`) or, in hand-made exports,
/// as an object. `Ok(None)` when absent.
fn representation(record: &Value) -> Result<Option<Value>, FieldError> {
    match at(record, "/representation") {
        None => Ok(None),
        Some(Value::String(s)) => serde_json::from_str::<Value>(s).map(Some).map_err(|e| {
            FieldError::new(
                "/representation",
                format!("expected the resource as a JSON string: {e}"),
            )
        }),
        Some(v @ (Value::Object(_) | Value::Array(_))) => Ok(Some(v.clone())),
        Some(other) => Err(FieldError::new(
            "/representation",
            format!(
                "expected the resource as a JSON string, got {}",
                super::json_type(other)
            ),
        )),
    }
}

/// Role or group names in a representation: a group (`name`), or a list of roles.
fn group_names(rep: Option<&Value>) -> Option<String> {
    let names: Vec<String> = match rep? {
        Value::Array(items) => items.iter().filter_map(|r| opt_str(r, "/name")).collect(),
        one => opt_str(one, "/path")
            .or_else(|| opt_str(one, "/name"))
            .into_iter()
            .collect(),
    };
    (!names.is_empty()).then(|| names.join(","))
}

fn normalise_user_event(record: &Value) -> Result<Event, FieldError> {
    let id = opt_str(record, "/id");
    let time = req_epoch_millis(record, "/time")?;
    let event_type = req_str(record, "/type")?;
    let user_id = opt_str(record, "/userId");
    let subject = opt_str(record, "/details/username")
        .or_else(|| user_id.clone())
        .ok_or_else(|| {
            FieldError::new(
                "/userId",
                "missing, and no details.username; expected the user the event is about",
            )
        })?;
    let kind = classify_user_event(&event_type);
    let error = opt_str(record, "/error");
    let failed = error.is_some() || event_type.ends_with("_ERROR");
    let mut e = new_event("keycloak", id, kind, &subject, time);
    put(&mut e, "type", Some(event_type));
    put(
        &mut e,
        "outcome",
        Some(if failed { "failure" } else { "success" }.to_string()),
    );
    put(&mut e, "reason", error);
    put(&mut e, "ip", opt_str(record, "/ipAddress"));
    put(&mut e, "session_id", opt_str(record, "/sessionId"));
    put(&mut e, "user_id", user_id);
    put(&mut e, "client_id", opt_str(record, "/clientId"));
    put(&mut e, "realm_id", opt_str(record, "/realmId"));
    put(&mut e, "token_id", opt_str(record, "/details/token_id"));
    put(
        &mut e,
        "refresh_token_id",
        opt_str(record, "/details/refresh_token_id"),
    );
    put(
        &mut e,
        "token_name",
        opt_str(record, "/details/revoked_client"),
    );
    Ok(e)
}

fn normalise_admin_event(record: &Value) -> Result<Event, FieldError> {
    use EventKind::*;
    let id = opt_str(record, "/id");
    let time = req_epoch_millis(record, "/time")?;
    let operation = req_str(record, "/operationType")?;
    let path = opt_str(record, "/resourcePath").unwrap_or_default();
    let resource_type = opt_str(record, "/resourceType");
    let admin = opt_str(record, "/authDetails/userId");
    let error = opt_str(record, "/error");
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let user_id = match segments.as_slice() {
        ["users", id, ..] => Some(id.to_string()),
        _ => None,
    };
    let session_id = match segments.as_slice() {
        ["sessions", id] => Some(id.to_string()),
        _ => None,
    };
    let user_level = segments.len() == 2 && user_id.is_some();
    let rep = if user_level && (operation == "CREATE" || operation == "UPDATE") {
        representation(record)?
    } else {
        None
    };
    let enabled = rep
        .as_ref()
        .and_then(|r| r.get("enabled"))
        .and_then(Value::as_bool);
    let kind = if error.is_some() {
        // A refused admin operation changed nothing.
        Other
    } else {
        match (operation.as_str(), segments.as_slice()) {
            ("CREATE", ["users", _]) => AccountCreated,
            ("UPDATE", ["users", _]) => match enabled {
                Some(false) => AccountDeactivated,
                Some(true) => AccountReactivated,
                None => AccountUpdated,
            },
            ("DELETE", ["users", _]) => AccountDeleted,
            ("ACTION", ["users", _, "logout"]) => SessionRevoked,
            ("DELETE", ["sessions", _]) => SessionRevoked,
            ("ACTION" | "DELETE", ["users", _, "consents", _]) => TokenRevoked,
            ("CREATE", ["users", _, "groups" | "role-mappings", ..]) => GroupGranted,
            ("DELETE", ["users", _, "groups" | "role-mappings", ..]) => GroupRemoved,
            _ => Other,
        }
    };
    let subject = rep
        .as_ref()
        .and_then(|r| opt_str(r, "/username"))
        .or_else(|| user_id.clone())
        .or_else(|| session_id.clone())
        .or_else(|| admin.clone())
        .ok_or_else(|| {
            FieldError::new(
                "/authDetails/userId",
                "missing, and resourcePath names no user; expected who the event is about",
            )
        })?;
    let mut e = new_event("keycloak", id, kind, &subject, time);
    if admin.as_deref() != Some(subject.as_str()) {
        e.actor = admin;
    }
    let type_name = match &resource_type {
        Some(t) => format!("{t}_{operation}"),
        None => operation.clone(),
    };
    put(&mut e, "type", Some(type_name));
    put(
        &mut e,
        "outcome",
        Some(
            if error.is_some() {
                "failure"
            } else {
                "success"
            }
            .to_string(),
        ),
    );
    put(&mut e, "reason", error);
    put(
        &mut e,
        "resource_path",
        Some(path.clone()).filter(|p| !p.is_empty()),
    );
    put(&mut e, "ip", opt_str(record, "/authDetails/ipAddress"));
    put(&mut e, "user_id", user_id);
    put(&mut e, "session_id", session_id);
    put(&mut e, "realm_id", opt_str(record, "/realmId"));
    put(&mut e, "enabled", enabled.map(|b| b.to_string()));
    match segments.as_slice() {
        ["users", _, "consents", client] => put(&mut e, "token_name", Some(client.to_string())),
        ["users", _, kind @ ("groups" | "role-mappings"), rest @ ..] => {
            let rep = representation(record)?;
            // Without a representation, a membership path still names the group's id.
            let fallback = (*kind == "groups").then(|| rest.join("/"));
            put(&mut e, "group", group_names(rep.as_ref()).or(fallback));
        }
        _ => {}
    }
    Ok(e)
}

impl Source for Keycloak {
    fn name(&self) -> &'static str {
        "keycloak"
    }

    fn role(&self) -> Role {
        Role::IdentityProvider { idp: "keycloak" }
    }

    fn description(&self) -> &'static str {
        "Keycloak user and admin events (Admin REST API /events and /admin-events JSON arrays)"
    }

    fn sniff(&self, record: &Value, _: Content) -> bool {
        // `realmId` and an epoch-number `time` together are Keycloak's own.
        record.get("time").is_some_and(Value::is_i64)
            && record.get("realmId").is_some_and(Value::is_string)
            && (record.get("type").is_some_and(Value::is_string)
                || record.get("operationType").is_some_and(Value::is_string))
    }

    fn normalise(&self, record: &Value) -> Result<Vec<Event>, FieldError> {
        if !record.is_object() {
            return Err(FieldError::new(
                "/",
                "expected an EventRepresentation or AdminEventRepresentation object",
            ));
        }
        let event = if record.get("operationType").is_some() {
            normalise_admin_event(record)?
        } else {
            normalise_user_event(record)?
        };
        Ok(vec![event])
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::normalise_all;
    use super::*;

    const LOGIN_ERROR: &str = r#"{"time":1773900300000,"type":"LOGIN_ERROR","realmId":"acme","clientId":"portal","userId":"5b1c","ipAddress":"203.0.113.9","error":"user_disabled","details":{"username":"Jose.Nunez"}}"#;
    const DISABLE: &str = r#"{"id":"a1","time":1773900000000,"realmId":"acme","authDetails":{"realmId":"master","clientId":"security-admin-console","userId":"admin-7","ipAddress":"198.51.100.2"},"operationType":"UPDATE","resourceType":"USER","resourcePath":"users/5b1c","representation":"{\"username\":\"jose.nunez\",\"enabled\":false}"}"#;

    #[test]
    fn login_errors_keep_the_reason_and_lack_of_id() {
        let got = normalise_all(&Keycloak, format!("[{LOGIN_ERROR}]").as_bytes());
        let e = &got[0].as_ref().unwrap()[0];
        assert_eq!(e.kind, EventKind::AuthFailed);
        assert_eq!(e.subject, "jose.nunez");
        assert_eq!(e.source_id, None);
        assert_eq!(e.attrs["reason"], "user_disabled");
        assert_eq!(e.attrs["user_id"], "5b1c");
        assert_eq!(e.occurred_at.to_rfc3339(), "2026-03-19T06:05:00Z");
        assert_eq!(e.original_time, "1773900300000");
    }

    #[test]
    fn admin_update_with_enabled_false_is_a_deactivation_by_the_admin() {
        let got = normalise_all(&Keycloak, DISABLE.as_bytes());
        let e = &got[0].as_ref().unwrap()[0];
        assert_eq!(e.kind, EventKind::AccountDeactivated);
        assert_eq!(e.subject, "jose.nunez");
        assert_eq!(e.actor.as_deref(), Some("admin-7"));
        assert_eq!(e.source_id.as_deref(), Some("a1"));
        let enabled = DISABLE.replace("false", "true");
        let got = normalise_all(&Keycloak, enabled.as_bytes());
        assert_eq!(
            got[0].as_ref().unwrap()[0].kind,
            EventKind::AccountReactivated
        );
        let without = DISABLE.replace(
            r#","representation":"{\"username\":\"jose.nunez\",\"enabled\":false}""#,
            "",
        );
        let got = normalise_all(&Keycloak, without.as_bytes());
        let e = &got[0].as_ref().unwrap()[0];
        assert_eq!(e.kind, EventKind::AccountUpdated);
        assert_eq!(e.subject, "5b1c");
    }

    #[test]
    fn bad_fields_are_named_and_nothing_panics() {
        let cases = [
            (
                LOGIN_ERROR.replace("1773900300000", "\"yesterday\""),
                "/time",
            ),
            (
                LOGIN_ERROR
                    .replace(r#","userId":"5b1c""#, "")
                    .replace(r#""details":{"username":"Jose.Nunez"}"#, r#""details":{}"#),
                "/userId",
            ),
            (
                DISABLE.replace(r#""{\"username"#, r#""{not json"#),
                "/representation",
            ),
        ];
        for (input, field) in cases {
            let got = normalise_all(&Keycloak, input.as_bytes());
            let err = got[0].as_ref().unwrap_err();
            assert!(err.contains(&format!("field {field}:")), "{err}");
        }
        for odd in [
            "[1]",
            "[[]]",
            "[{}]",
            r#"[{"operationType":7}]"#,
            r#"[{"time":-9223372036854775808,"type":"LOGIN","userId":"u"}]"#,
        ] {
            let got = normalise_all(&Keycloak, odd.as_bytes());
            assert!(got[0].is_err(), "{odd}");
        }
    }

    #[test]
    fn sniff_tells_keycloak_records_apart() {
        let user: Value = serde_json::from_str(LOGIN_ERROR).unwrap();
        let admin: Value = serde_json::from_str(DISABLE).unwrap();
        assert!(Keycloak.sniff(&user, Content::JsonDocument));
        assert!(Keycloak.sniff(&admin, Content::JsonDocument));
        let okta: Value = serde_json::from_str(
            r#"{"uuid":"e1","published":"2026-03-14T00:00:00.000Z","eventType":"user.session.start"}"#,
        )
        .unwrap();
        assert!(!Keycloak.sniff(&okta, Content::JsonDocument));
    }
}
