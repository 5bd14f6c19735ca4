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
//! Errors (`org.keycloak.events.Errors`): credential and account failures
//! (`invalid_user_credentials`, `user_not_found`, `user_disabled`,
//! `user_temporarily_disabled`, `invalid_token`...) of a login or token event are
//! `auth.failed`; interrupts (see [`INTERRUPTS`]: `expired_code`, `cookie_not_found`,
//! `resolve_required_actions`, `consent_denied`...) are `other` with `attrs.type` =
//! `signin.interrupted` and the event type in `attrs.event_type`; client and request
//! errors ([`CLIENT_ERRORS`]) and errors of other events are `other`. The error is in
//! `attrs.reason` either way. A user event that names no user (`LOGIN_ERROR` for an
//! unknown username Keycloak did not record) is kept, about `unknown-user@<realmId>`, with
//! `attrs.user_known` = `false`: no roster lists that name, so it is never merged into a
//! person. When Keycloak recorded the username tried, that username is the subject.
//!
//! Use of access: `LOGIN`, `CLIENT_LOGIN`, `IDENTITY_PROVIDER_LOGIN` (auth.succeeded);
//! `CODE_TO_TOKEN`, `REFRESH_TOKEN`, `TOKEN_EXCHANGE`, `USER_INFO_REQUEST`,
//! `INTROSPECT_TOKEN`, `OAUTH2_DEVICE_CODE_TO_TOKEN`, `AUTHREQID_TO_TOKEN`,
//! `PERMISSION_TOKEN` (token.used); `LOGOUT` (session.ended). One done by someone acting
//! as the user (`details.impersonator`: `IMPERSONATE`, a token exchange for
//! `details.requested_subject`) is `other`, with the impersonator as actor. A password or
//! credential the user set, reset or removed (`UPDATE_PASSWORD`, `RESET_PASSWORD`,
//! `UPDATE_TOTP`, `REMOVE_TOTP`, `UPDATE_CREDENTIAL`, `REMOVE_CREDENTIAL`) is
//! account.updated. Admin events: `ACTION users/<id>/reset-password` → account.updated;
//! `DELETE users/<id>/credentials/<cid>` → token.revoked (`token_id` = the credential id: an
//! admin taking a credential away is a revocation);
//! `ACTION`/`CREATE` `clients/<id>/client-secret` → token.created and `DELETE
//! clients/<id>/client-secret/rotated` → token.revoked, about the client id; organisation
//! membership (`resourceType` `ORGANIZATION_MEMBERSHIP`, Keycloak 25 on): `CREATE
//! organizations/<org>/members` → group.granted and `DELETE organizations/<org>/members/<id>`
//! → group.removed, `attrs.group` = `organization:<name>` (from the organisation's
//! representation, else its id).
//!
//! Without `id` (older Keycloak) `source_id` is `None` and the ledger de-duplicates on the
//! hash of the raw record instead.
//!
//! **Server log lines.** Keycloak saves no events unless a realm turns "Save events" on, but
//! its `jboss-logging` event listener (on by default) logs each one under the logger
//! `org.keycloak.events`. With JSON logging (`--log-console-output=json`, `--log-file-output=json`)
//! each line is an object whose `timestamp` carries an offset and whose `message` holds
//! the event as `key="value"` pairs (Keycloak 24 on: quoted, with `"` escaped and line
//! breaks removed), or `key=value` and `key='a b'` before that: `type`, `realmId`, `clientId`,
//! `userId`, `sessionId`, `ipAddress`, `error`, then the details; an admin event starts
//! with `operationType` and names the administrator's `realmId`, `clientId`, `userId` and
//! `ipAddress`, then `resourceType` and `resourcePath`, and `representation` only where
//! Keycloak 26.2's `include-representation` option is on (without it a deactivation is
//! `account.updated`). `null` is Keycloak's word for an absent value. A line
//! from another logger is refused (filter the log to `org.keycloak.events`, or
//! `--skip-invalid`). Text log lines are refused: their time has no zone.
//!
//! The subject is `details.username` when present, else `userId`. Keycloak writes
//! `username` on login events but not always on token and logout events (`CODE_TO_TOKEN`,
//! `REFRESH_TOKEN`, `LOGOUT`), whose subject is then the user id; `attrs.user_id` is on
//! every event that has one, to join the two. For admin events the
//! `username` of the representation when present (a user's creation, update or deletion;
//! a client's `clientId` on events about a client), else `details.username` (Keycloak 26
//! names the affected user there on some events, a membership change among them), else
//! the user id from `resourcePath`, else the client id from it
//! (so a roster should list a Keycloak user's id beside its username). A deactivation is
//! only visible when the representation is included: an `UPDATE` on `users/<id>` whose
//! representation says `"enabled": false`; without it the update is `account.updated`.
//! Keycloak's admin console sends the whole user on every edit, so `"enabled": true`
//! (`account.reactivated`) states that the account is enabled after the change, not that
//! it was disabled before. `DELETE sessions/<id>` names no user: its subject is the session
//! id (linkable through `attrs.session_id` of the login events).

pub mod poll;

use serde_json::Value;

use super::framing::Content;
use super::{at, new_event, opt_str, put, req_epoch_millis, req_str, FieldError, Role, Source};
use crate::event::{Event, EventKind, Timestamp};

pub struct Keycloak;

/// Sign-in and token errors that are interrupts, not credential failures
/// (`org.keycloak.events.Errors`): the login page or its cookie expired, the person must
/// first do a required action or declined consent, a device-flow client polled too fast or
/// too late. They become `other` with `attrs.type` = `signin.interrupted`.
const INTERRUPTS: &[&str] = &[
    "expired_code",
    "cookie_not_found",
    "resolve_required_actions",
    "consent_denied",
    "rejected_by_user",
    "not_logged_in",
    "slow_down",
    "expired_oauth2_device_code",
    "display_unsupported",
];

/// Errors about the client or the request, not the person's credentials (a misconfigured
/// client, a bad redirect): `other` with the error kept.
const CLIENT_ERRORS: &[&str] = &[
    "invalid_request",
    "client_not_found",
    "client_disabled",
    "invalid_client",
    "invalid_redirect_uri",
    "invalid_config",
    "invalid_form",
    "invalid_input",
    "invalid_code_challenge_method",
    "code_verifier_missing",
    "ssl_required",
    "illegal_origin",
    "unknown_identity_provider",
];

/// The kind of a user event, by its `EventType` name. Use of access: LOGIN, CLIENT_LOGIN
/// (a service account's client-credentials grant) and IDENTITY_PROVIDER_LOGIN are
/// `auth.succeeded`; CODE_TO_TOKEN, REFRESH_TOKEN, TOKEN_EXCHANGE, USER_INFO_REQUEST,
/// INTROSPECT_TOKEN, OAUTH2_DEVICE_CODE_TO_TOKEN, AUTHREQID_TO_TOKEN and PERMISSION_TOKEN
/// are `token.used`. A password or credential set, reset or removed by the user is
/// `account.updated`.
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
        | "INTROSPECT_TOKEN_ERROR"
        | "OAUTH2_DEVICE_CODE_TO_TOKEN_ERROR"
        | "AUTHREQID_TO_TOKEN_ERROR"
        | "PERMISSION_TOKEN_ERROR"
        | "IDENTITY_PROVIDER_LOGIN_ERROR"
        | "IDENTITY_PROVIDER_FIRST_LOGIN_ERROR"
        | "IDENTITY_PROVIDER_POST_LOGIN_ERROR" => AuthFailed,
        "LOGOUT" => SessionEnded,
        "CODE_TO_TOKEN"
        | "REFRESH_TOKEN"
        | "TOKEN_EXCHANGE"
        | "USER_INFO_REQUEST"
        | "INTROSPECT_TOKEN"
        | "OAUTH2_DEVICE_CODE_TO_TOKEN"
        | "AUTHREQID_TO_TOKEN"
        | "PERMISSION_TOKEN" => TokenUsed,
        // The account console's "revoke access" of a client: its consent and offline tokens.
        "REVOKE_GRANT" => TokenRevoked,
        // The user set or reset their password or changed an OTP device or other
        // credential: an update of their account, as other IdPs' credential changes are.
        "UPDATE_PASSWORD" | "RESET_PASSWORD" | "UPDATE_TOTP" | "REMOVE_TOTP"
        | "UPDATE_CREDENTIAL" | "REMOVE_CREDENTIAL" => AccountUpdated,
        "REGISTER" => AccountCreated,
        "DELETE_ACCOUNT" => AccountDeleted,
        "USER_DISABLED_BY_PERMANENT_LOCKOUT" => AccountDeactivated,
        // A temporary lockout only refuses logins until `details.not_before`: the account
        // stays enabled and unlocks itself, so it is no deactivation (counting it as one
        // would let a few mistyped passwords pass for offboarding).
        _ => Other,
    }
}

/// A JSON object given as a string (Keycloak's `representation`) or, in hand-made exports,
/// as an object. `Ok(None)` when absent.
fn representation(record: &Value) -> Result<Option<Value>, FieldError> {
    match at(record, "/representation") {
        // Some event listeners write `null` when the realm does not include it.
        None | Some(Value::Null) => Ok(None),
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

/// The subject of a user event that names no user: a `LOGIN_ERROR` for a username
/// Keycloak could not find and did not record, a client error before any user was known.
/// One per realm; no roster lists it, so it is never attributed to a person.
fn unknown_user(realm: Option<&str>) -> String {
    format!("unknown-user@{}", realm.unwrap_or("unknown-realm"))
}

fn normalise_user_event(record: &Value) -> Result<Event, FieldError> {
    use EventKind::*;
    let id = opt_str(record, "/id");
    let time = req_epoch_millis(record, "/time")?;
    let event_type = req_str(record, "/type")?;
    let user_id = opt_str(record, "/userId");
    let realm = opt_str(record, "/realmId");
    // An impersonation (`IMPERSONATE`, a token exchange for another user) names the user
    // acted as, and `details.impersonator` who acted (Keycloak's `Details.IMPERSONATOR`).
    let impersonator = opt_str(record, "/details/impersonator");
    let named = opt_str(record, "/details/username")
        .or_else(|| opt_str(record, "/details/requested_subject"))
        .or_else(|| user_id.clone());
    let subject = named
        .clone()
        .unwrap_or_else(|| unknown_user(realm.as_deref()));
    let error = opt_str(record, "/error");
    let failed = error.is_some() || event_type.ends_with("_ERROR");
    let attempted = classify_user_event(&event_type);
    let interrupted = error.as_deref().is_some_and(|e| INTERRUPTS.contains(&e));
    let kind = match attempted {
        // A failed or denied operation is never the successful kind; an interrupt or a
        // client error is not a credential failure.
        _ if failed && interrupted => Other,
        _ if failed && error.as_deref().is_some_and(|e| CLIENT_ERRORS.contains(&e)) => Other,
        AuthFailed => AuthFailed,
        k if failed && matches!(k, AuthSucceeded | TokenUsed) => AuthFailed,
        _ if failed => Other,
        // Someone else acting as the user is not the user's own use of access (as with
        // Okta's and OneLogin's impersonation): kept, with who acted.
        AuthSucceeded | TokenUsed if impersonator.is_some() => Other,
        k => k,
    };
    let mut e = new_event("keycloak", id, kind, &subject, time);
    if impersonator.as_deref().map(str::to_lowercase) != Some(e.subject.clone()) {
        e.actor = impersonator.clone();
    }
    put(&mut e, "impersonator", impersonator);
    if interrupted {
        put(&mut e, "type", Some("signin.interrupted".into()));
        put(&mut e, "event_type", Some(event_type));
    } else {
        put(&mut e, "type", Some(event_type));
    }
    put(
        &mut e,
        "outcome",
        Some(
            match (failed, interrupted) {
                (true, true) => "interrupted",
                (true, false) => "failure",
                _ => "success",
            }
            .to_string(),
        ),
    );
    if named.is_none() {
        put(&mut e, "user_known", Some("false".into()));
    }
    put(&mut e, "reason", error);
    put(&mut e, "ip", opt_str(record, "/ipAddress"));
    put(&mut e, "session_id", opt_str(record, "/sessionId"));
    put(&mut e, "user_id", user_id);
    put(&mut e, "client_id", opt_str(record, "/clientId"));
    put(&mut e, "realm_id", opt_str(record, "/realmId"));
    put(&mut e, "token_id", opt_str(record, "/details/token_id"));
    put(&mut e, "not_before", opt_str(record, "/details/not_before"));
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
        ["users", "profile", ..] => None,
        ["users", id, ..] | ["attack-detection", "brute-force", "users", id] => {
            Some(id.to_string())
        }
        _ => None,
    };
    // `users/<id>` is also the path of events about other resources: re-enabling a locked
    // user first clears its login failures (`USER_LOGIN_FAILURE` `DELETE` on the user's
    // path, then the `USER` `UPDATE`), and `users/profile` is the realm's profile config.
    // Only a `USER` event (or an older one naming no type) changes the account itself.
    let about_account = matches!(resource_type.as_deref(), None | Some("USER"))
        && segments.get(1) != Some(&"profile");
    let session_id = match segments.as_slice() {
        ["sessions", id] => Some(id.to_string()),
        _ => None,
    };
    let client = match segments.as_slice() {
        ["clients", id, ..] => Some(id.to_string()),
        _ => None,
    };
    // Organisation membership (Keycloak 25 on): `organizations/<org>/members/<user>` on a
    // removal; an addition's path ends at `members`, and only `details` names the user.
    let organisation = match segments.as_slice() {
        ["organizations", org, "members", ..] => Some(org.to_string()),
        _ => None,
    };
    let member_id = match (operation.as_str(), segments.as_slice()) {
        ("DELETE", ["organizations", _, "members", id]) => Some(id.to_string()),
        _ => None,
    };
    // Keycloak 26 writes the affected user's `username` and `email` into `details` on
    // some admin events (a membership change, for one).
    let details_user = opt_str(record, "/details/username");
    // A user's or client's own representation names it (a deletion's too: Keycloak
    // includes the deleted user's, whose `username` is what the roster lists).
    // A user's creation or update needs its representation read (it says whether the
    // account is enabled): a malformed one refuses the record. Elsewhere it only names
    // the subject, and one that cannot be read leaves the id from the path.
    let own_level = segments.len() == 2 && (user_id.is_some() || client.is_some());
    let changes_user = user_id.is_some() && matches!(operation.as_str(), "CREATE" | "UPDATE");
    let rep = if own_level && changes_user {
        representation(record)?
    } else if own_level && matches!(operation.as_str(), "CREATE" | "UPDATE" | "DELETE") {
        representation(record).ok().flatten()
    } else {
        None
    };
    // Whether the user is enabled after the change (a client's `enabled` is the client's).
    let enabled = rep
        .as_ref()
        .filter(|_| user_id.is_some())
        .and_then(|r| r.get("enabled"))
        .and_then(Value::as_bool);
    let kind = if error.is_some() {
        // A refused admin operation changed nothing.
        Other
    } else {
        match (operation.as_str(), segments.as_slice()) {
            ("CREATE", ["users", _]) if about_account => AccountCreated,
            ("UPDATE", ["users", _]) if about_account => match enabled {
                Some(false) => AccountDeactivated,
                Some(true) => AccountReactivated,
                None => AccountUpdated,
            },
            ("DELETE", ["users", _]) if about_account => AccountDeleted,
            // An admin setting a user's password (`PUT /users/{id}/reset-password`).
            ("ACTION" | "UPDATE", ["users", _, "reset-password"]) => AccountUpdated,
            ("ACTION", ["users", _, "logout"]) => SessionRevoked,
            ("DELETE", ["sessions", _]) => SessionRevoked,
            ("ACTION" | "DELETE", ["users", _, "consents", _]) => TokenRevoked,
            // Removing a user's credential (password, OTP device, WebAuthn key).
            ("DELETE", ["users", _, "credentials", _]) => TokenRevoked,
            // A client's secret regenerated (the old one stops working unless rotated), and
            // a rotated secret invalidated.
            ("ACTION" | "CREATE" | "UPDATE", ["clients", _, "client-secret"]) => TokenCreated,
            ("DELETE", ["clients", _, "client-secret", "rotated"]) => TokenRevoked,
            ("CREATE", ["users", _, "groups" | "role-mappings", ..]) => GroupGranted,
            ("DELETE", ["users", _, "groups" | "role-mappings", ..]) => GroupRemoved,
            // Not `members/invite-user`: an invitation is not membership yet. An addition
            // names its member only in `details` (Keycloak 26): without, it is nobody's.
            ("CREATE", ["organizations", _, "members"]) if details_user.is_some() => GroupGranted,
            ("DELETE", ["organizations", _, "members", _]) => GroupRemoved,
            _ => Other,
        }
    };
    let subject = rep
        .as_ref()
        .and_then(|r| opt_str(r, "/username").or_else(|| opt_str(r, "/clientId")))
        .or_else(|| details_user.clone())
        .or_else(|| user_id.clone())
        .or_else(|| member_id.clone())
        .or_else(|| session_id.clone())
        .or_else(|| client.clone())
        .or_else(|| admin.clone())
        .unwrap_or_else(|| unknown_user(opt_str(record, "/realmId").as_deref()));
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
    put(&mut e, "user_id", user_id.or(member_id));
    put(&mut e, "session_id", session_id);
    put(&mut e, "realm_id", opt_str(record, "/realmId"));
    put(&mut e, "enabled", enabled.map(|b| b.to_string()));
    match segments.as_slice() {
        ["users", _, "consents", client] => put(&mut e, "token_name", Some(client.to_string())),
        ["users", _, "credentials", credential] => {
            put(&mut e, "token_id", Some(credential.to_string()))
        }
        ["clients", id, "client-secret", ..] => {
            put(&mut e, "token_name", Some(format!("client-secret:{id}")))
        }
        ["users", _, kind @ ("groups" | "role-mappings"), rest @ ..] => {
            let rep = representation(record)?;
            // Without a representation, a membership path still names the group's id.
            let fallback = (*kind == "groups").then(|| rest.join("/"));
            put(&mut e, "group", group_names(rep.as_ref()).or(fallback));
        }
        ["organizations", ..] => {
            // A removal's representation is the organisation; an addition's is the user.
            let rep = representation(record)?;
            let name = rep
                .as_ref()
                .filter(|r| r.get("alias").is_some() || r.get("domains").is_some())
                .and_then(|r| opt_str(r, "/name"));
            put(
                &mut e,
                "group",
                name.map(|n| format!("organization:{n}"))
                    .or(organisation.map(|id| format!("organization:{id}"))),
            );
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
        "Keycloak user and admin events (Admin REST API /events and /admin-events JSON arrays; JSON server-log lines of org.keycloak.events)"
    }

    fn sniff(&self, record: &Value, _: Content) -> bool {
        if log_logger(record).is_some_and(|l| l.starts_with("org.keycloak.")) {
            return true;
        }
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
        if let Some(logger) = log_logger(record) {
            return normalise_log_record(record, logger).map(|e| vec![e]);
        }
        let event = if record.get("operationType").is_some() {
            normalise_admin_event(record)?
        } else {
            normalise_user_event(record)?
        };
        Ok(vec![event])
    }
}

/// The logger of a JSON server-log record: Quarkus's default JSON format (`loggerName`) or
/// its ECS format (`log.logger`).
fn log_logger(record: &Value) -> Option<&str> {
    record
        .get("loggerName")
        .or_else(|| record.get("log.logger"))
        .or_else(|| record.get("log").and_then(|l| l.get("logger")))
        .and_then(Value::as_str)
}

/// An event the `jboss-logging` listener logged, read back into the representation the
/// REST API returns, so that one path classifies both.
fn normalise_log_record(record: &Value, logger: &str) -> Result<Event, FieldError> {
    if logger != "org.keycloak.events" {
        return Err(FieldError::new(
            "/loggerName",
            format!("expected an event logged by org.keycloak.events, got a line of {logger}; keep only those lines (jq -c 'select(.loggerName == \"org.keycloak.events\")') or pass --skip-invalid"),
        ));
    }
    let pointer = if record.get("timestamp").is_some() {
        "/timestamp"
    } else {
        "/@timestamp"
    };
    let stamp = req_str(record, pointer)?;
    let time = Timestamp::parse_rfc3339(&stamp).map_err(|_| {
        FieldError::new(
            pointer,
            format!("expected an RFC 3339 time with its offset, got {stamp:?}"),
        )
    })?;
    let message = req_str(record, "/message")?;
    let pairs = event_pairs(&message).map_err(|why| FieldError::new("/message", why))?;
    let mut rep = serde_json::Map::new();
    let mut auth = serde_json::Map::new();
    let mut details = serde_json::Map::new();
    let admin = pairs.first().is_some_and(|(k, _)| k == "operationType");
    for (key, value) in pairs {
        if value == "null" {
            continue;
        }
        let value = Value::String(value);
        match key.as_str() {
            "realmId" | "clientId" | "userId" | "ipAddress" if admin => {
                auth.insert(key, value);
            }
            "type" | "operationType" | "realmId" | "clientId" | "userId" | "sessionId"
            | "ipAddress" | "error" | "resourceType" | "resourcePath" | "representation" => {
                rep.insert(key, value);
            }
            _ => {
                details.insert(key, value);
            }
        }
    }
    if !rep.contains_key("type") && !rep.contains_key("operationType") {
        return Err(FieldError::new(
            "/message",
            "expected an event starting type=... or operationType=...",
        ));
    }
    rep.insert("time".into(), Value::from(time.0.div_euclid(1_000)));
    if admin {
        rep.insert("authDetails".into(), Value::Object(auth));
    }
    rep.insert("details".into(), Value::Object(details));
    let rep = Value::Object(rep);
    let mut event = if admin {
        normalise_admin_event(&rep)?
    } else {
        normalise_user_event(&rep)?
    };
    // The line's own time, to the nanosecond it gives, not the milliseconds above.
    event.occurred_at = time;
    event.original_time = stamp;
    Ok(event)
}

/// Whether what follows a quote ends its field: the end of the message, or `, ` and the
/// next `key=`.
fn closes_field(rest: Option<&str>) -> bool {
    let rest = rest.unwrap_or_default();
    rest.trim().is_empty()
        || rest.strip_prefix(", ").is_some_and(|next| {
            next.split_once('=').is_some_and(|(key, _)| {
                !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            })
        })
}

/// The `key=value` pairs of a `jboss-logging` event message, in order. A value is quoted
/// with `"` (Keycloak 24 on, `\` escaping a quote), with `'` (before, when it held a
/// space) or bare up to the next `, `.
fn event_pairs(message: &str) -> Result<Vec<(String, String)>, String> {
    let mut pairs = Vec::new();
    // A bare value runs to the next `, `: a trailing comma would end up in the last one.
    let mut rest = message.trim().trim_end_matches(',').trim_end();
    while !rest.is_empty() {
        let (key, after) = rest
            .split_once('=')
            .ok_or_else(|| format!("expected key=value, got {rest:?}"))?;
        let (value, after) = match after.chars().next() {
            Some(quote @ ('"' | '\'')) => {
                let mut value = String::new();
                let mut chars = after.char_indices().skip(1).peekable();
                let mut end = None;
                while let Some((i, c)) = chars.next() {
                    match c {
                        // Keycloak escapes only the quote (`sanitizeSpacesAndQuotes`): any
                        // other backslash is the value's own (`corp\alice`), and so is one
                        // before a quote that ends the message or its field (`alice\`).
                        '\\' if quote == '"' => match chars.peek() {
                            Some(&(q, '"')) if !closes_field(after.get(q + 1..)) => {
                                value.push('"');
                                chars.next();
                            }
                            _ => value.push('\\'),
                        },
                        c if c == quote => {
                            end = Some(i + 1);
                            break;
                        }
                        c => value.push(c),
                    }
                }
                let end =
                    end.ok_or_else(|| format!("the value of {key} has no closing {quote}"))?;
                (value, after.get(end..).unwrap_or_default())
            }
            _ => match after.find(", ") {
                Some(i) => (
                    after.get(..i).unwrap_or_default().to_string(),
                    after.get(i..).unwrap_or_default(),
                ),
                None => (after.to_string(), ""),
            },
        };
        pairs.push((key.trim().to_string(), value));
        rest = match after.strip_prefix(", ") {
            Some(next) => next,
            None if after.trim().is_empty() => "",
            None => {
                return Err(format!(
                    "expected \", \" after the value of {key}, got {after:?}"
                ))
            }
        };
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::super::testing::normalise_all;
    use super::*;

    const LOGIN_ERROR: &str = r#"{"time":1773900300000,"type":"LOGIN_ERROR","realmId":"acme","clientId":"portal","userId":"5b1c","ipAddress":"203.0.113.9","error":"user_disabled","details":{"username":"Jose.Nunez"}}"#;
    const DISABLE: &str = r#"{"id":"a1","time":1773900000000,"realmId":"acme","authDetails":{"realmId":"master","clientId":"security-admin-console","userId":"admin-7","ipAddress":"198.51.100.2"},"operationType":"UPDATE","resourceType":"USER","resourcePath":"users/5b1c","representation":"{\"username\":\"jose.nunez\",\"enabled\":false}"}"#;

    /// Keycloak's `jboss-logging` listener with JSON logging on. The first line is the
    /// record of DataDog/integrations-core PR #19019 (Keycloak 26, Quarkus JSON format); the
    /// second is keycloak/keycloak issue #35732's `LOGIN_ERROR` (Keycloak 26) as that format
    /// writes it; the third is fli-iam/shanoir-ng issue #72's (Keycloak 4, unquoted, `null`);
    /// the fourth an admin event in `JBossLoggingEventListenerProvider`'s field order.
    const LOG_LINES: &str = concat!(
        r#"{"timestamp":"2024-10-30T17:27:03.414798073+05:30","sequence":9510,"loggerClassName":"org.jboss.logging.Logger","loggerName":"org.keycloak.events","level":"DEBUG","message":"type=\"CODE_TO_TOKEN\", realmId=\"f16e7899-3616-4c57-a8db-deab1da434c1\", realmName=\"master\", clientId=\"security-admin-console\", userId=\"15745079-6780-4b93-80d9-c0d3480885d3\", sessionId=\"25e60089-0911-4332-a7c3-71b17b038be5\", ipAddress=\"10.10.10.10\", token_id=\"71eea26a-b9c3-47bf-921b-c90c6cfe1c99\", grant_type=\"authorization_code\", refresh_token_type=\"Refresh\", scope=\"openid email profile\", refresh_token_id=\"d1159936-cb35-4296-8ac2-524aa9af265b\", code_id=\"25e60089-0911-4332-a7c3-71b17b038be5\", client_auth_method=\"client-secret\"","threadName":"executor-thread-7","threadId":69,"mdc":{},"ndc":"","hostName":"keycloak","processName":"/opt/jdk-17/bin/java","processId":81812}"#,
        "\n",
        r#"{"timestamp":"2024-10-17T10:43:38.199+02:00","loggerName":"org.keycloak.events","level":"WARN","message":"type=\"LOGIN_ERROR\", realmId=\"15b3a838-647e-4f17-9a00-7116f39e0b62\", realmName=\"test\", clientId=\"account-console\", userId=\"4e2fbbbc-289d-435e-9fe7-4f1719226bb0\", ipAddress=\"192.168.65.1\", error=\"invalid_user_credentials\", auth_method=\"openid-connect\", auth_type=\"code\", username=\"jo \\\"the\\\" user\""}"#,
        "\n",
        r#"{"timestamp":"2018-12-12T08:12:20.561Z","loggerName":"org.keycloak.events","level":"WARN","message":"type=LOGIN_ERROR, realmId=7512f194-451e-44b0-9f58-36c9f36738c4, clientId=null, userId=null, ipAddress=172.20.0.1, error=expired_code, restart_after_timeout=true, reason='two words'"}"#,
        "\n",
        r#"{"@timestamp":"2024-10-17T10:51:00.000Z","log.logger":"org.keycloak.events","message":"operationType=\"ACTION\", realmId=\"master\", clientId=\"security-admin-console\", userId=\"admin-1\", ipAddress=\"10.0.0.1\", resourceType=\"USER\", resourcePath=\"users/4e2fbbbc/logout\""}"#,
        "\n",
        r#"{"timestamp":"2024-10-17T10:52:00.000Z","loggerName":"org.keycloak.services","message":"KC-SERVICES0009: Added user 'admin' to realm 'master'"}"#,
        "\n",
    );

    #[test]
    fn server_log_lines_are_events_with_the_lines_own_time() {
        let first: Value = serde_json::from_str(LOG_LINES.lines().next().unwrap()).unwrap();
        assert!(Keycloak.sniff(&first, Content::JsonLines));
        let got = normalise_all(&Keycloak, LOG_LINES.as_bytes());
        let one = |i: usize| got[i].as_ref().unwrap()[0].clone();

        let token = one(0);
        assert_eq!(token.kind, EventKind::TokenUsed);
        assert_eq!(token.subject, "15745079-6780-4b93-80d9-c0d3480885d3");
        assert_eq!(
            token.occurred_at.to_rfc3339(),
            "2024-10-30T11:57:03.414798Z"
        );
        assert_eq!(token.original_time, "2024-10-30T17:27:03.414798073+05:30");
        assert_eq!(
            token.attrs["token_id"],
            "71eea26a-b9c3-47bf-921b-c90c6cfe1c99"
        );
        assert_eq!(
            token.attrs["session_id"],
            "25e60089-0911-4332-a7c3-71b17b038be5"
        );

        // Quoted values keep their spaces and escaped quotes.
        let failed = one(1);
        assert_eq!(failed.kind, EventKind::AuthFailed);
        assert_eq!(failed.subject, "jo \"the\" user");
        assert_eq!(failed.attrs["reason"], "invalid_user_credentials");

        // Keycloak's `null` is no user: the unknown user of the realm, as from the API.
        let interrupted = one(2);
        assert_eq!(interrupted.kind, EventKind::Other);
        assert_eq!(
            interrupted.subject,
            "unknown-user@7512f194-451e-44b0-9f58-36c9f36738c4"
        );
        assert_eq!(interrupted.attrs["reason"], "expired_code");

        // An admin event names the administrator in its first fields.
        let logout = one(3);
        assert_eq!(logout.kind, EventKind::SessionRevoked);
        assert_eq!(logout.subject, "4e2fbbbc");
        assert_eq!(logout.actor.as_deref(), Some("admin-1"));

        let other_logger = got[4].as_ref().unwrap_err();
        assert!(
            other_logger.contains("org.keycloak.services") && other_logger.contains("jq"),
            "{other_logger}"
        );
    }

    /// Keycloak escapes only the quote: a backslash of the value's own stays, also one
    /// typed last on the login page; a trailing comma is no part of a bare value; a 26.2
    /// admin line with its representation is read as the API's.
    #[test]
    fn backslashes_trailing_commas_and_representations_read_as_keycloak_writes_them() {
        let line = |message: &str| {
            serde_json::json!({"timestamp": "2024-10-17T10:00:00Z", "loggerName": "org.keycloak.events", "message": message}).to_string()
        };
        let subject = |message: &str| {
            let got = normalise_all(&Keycloak, line(message).as_bytes());
            got[0].clone().map(|e| e[0].subject.clone())
        };
        assert_eq!(
            subject(
                r#"type="LOGIN_ERROR", realmId="r", username="corp\alice", error="user_not_found""#
            ),
            Ok("corp\\alice".to_string())
        );
        assert_eq!(
            subject(
                r#"type="LOGIN_ERROR", realmId="r", error="user_not_found", username="alice\""#
            ),
            Ok("alice\\".to_string())
        );
        assert_eq!(
            subject(
                r#"type="LOGIN_ERROR", realmId="r", username="say \"hi\" x", error="user_not_found""#
            ),
            Ok("say \"hi\" x".to_string())
        );
        let got = normalise_all(
            &Keycloak,
            line("type=LOGIN, realmId=r, userId=u1, ").as_bytes(),
        );
        assert_eq!(got[0].as_ref().unwrap()[0].kind, EventKind::AuthSucceeded);
        let disable = r#"operationType="UPDATE", realmId="master", clientId="c", userId="admin-1", ipAddress="10.0.0.1", resourceType="USER", resourcePath="users/5b1c", representation="{\"username\":\"jose.nunez\",\"enabled\":false}""#;
        let got = normalise_all(&Keycloak, line(disable).as_bytes());
        let e = &got[0].as_ref().unwrap()[0];
        assert_eq!(
            (e.kind, e.subject.as_str()),
            (EventKind::AccountDeactivated, "jose.nunez")
        );
    }

    #[test]
    fn event_messages_that_break_off_are_refused_not_misread() {
        for (message, expected) in [
            (r#"type=\"LOGIN\", userId=\"abc"#, "no closing"),
            (
                r#"type=\"LOGIN\" userId=\"abc\""#,
                "after the value of type",
            ),
            ("realmId=acme, clientId=x", "type=... or operationType=..."),
            ("", "/message"),
        ] {
            let line = format!(
                r#"{{"timestamp":"2024-10-17T10:00:00Z","loggerName":"org.keycloak.events","message":"{message}"}}"#
            );
            let got = normalise_all(&Keycloak, line.as_bytes());
            let why = got[0].as_ref().unwrap_err();
            assert!(why.contains(expected), "{message:?}: {why}");
        }
    }

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

    /// keycloak/keycloak (Apache-2.0): `UserResource` logs IMPERSONATE about the user with
    /// `details.impersonator`; a token exchange for another subject names it in
    /// `requested_subject`. Neither is the user's own use of access.
    #[test]
    fn impersonation_names_who_acted_and_is_not_the_users_use() {
        let one = |text: &str| {
            normalise_all(&Keycloak, text.as_bytes())[0]
                .as_ref()
                .unwrap()[0]
                .clone()
        };
        let e = one(
            r#"{"time":1773900300000,"type":"IMPERSONATE","realmId":"acme","userId":"5b1c","details":{"username":"ext.contractor","impersonator":"admin","impersonator_id":"1111","impersonator_realm":"master"}}"#,
        );
        assert_eq!(
            (e.kind, e.subject.as_str()),
            (EventKind::Other, "ext.contractor")
        );
        assert_eq!(e.actor.as_deref(), Some("admin"));
        let e = one(
            r#"{"time":1773900300000,"type":"TOKEN_EXCHANGE","realmId":"acme","clientId":"ci-bot","userId":"5b1c","details":{"requested_subject":"ext.contractor","impersonator":"service-account-ci-bot"}}"#,
        );
        assert_eq!(
            (e.kind, e.subject.as_str()),
            (EventKind::Other, "ext.contractor")
        );
        assert_eq!(e.actor.as_deref(), Some("service-account-ci-bot"));
        assert_eq!(e.attrs["impersonator"], "service-account-ci-bot");
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

    /// A user's deletion is about the username its representation names (what a roster
    /// lists, and what the user's sign-ins are about), not the bare id; an event about a
    /// client is about the client, never the administrator.
    #[test]
    fn a_deletion_and_a_client_change_are_about_what_their_representation_names() {
        let e = first(
            r#"[{"id":"d1","time":1773903600000,"realmId":"acme","authDetails":{"realmId":"master","clientId":"security-admin-console","userId":"admin-7","ipAddress":"10.0.0.5"},"operationType":"DELETE","resourceType":"USER","resourcePath":"users/1f385e5d-0000","representation":"{\"id\":\"1f385e5d-0000\",\"username\":\"dave\"}"}]"#,
        );
        assert_eq!(
            (e.kind, e.subject.as_str()),
            (EventKind::AccountDeleted, "dave")
        );
        assert_eq!(e.attrs["user_id"], "1f385e5d-0000");
        assert_eq!(e.actor.as_deref(), Some("admin-7"));
        let e = first(
            r#"[{"id":"c1","time":1773903600000,"realmId":"acme","authDetails":{"userId":"admin-7"},"operationType":"UPDATE","resourceType":"CLIENT","resourcePath":"clients/0f9a","representation":"{\"clientId\":\"ci-bot\",\"enabled\":false}"}]"#,
        );
        assert_eq!((e.kind, e.subject.as_str()), (EventKind::Other, "ci-bot"));
        assert_eq!(e.actor.as_deref(), Some("admin-7"));
    }

    fn first(text: &str) -> Event {
        normalise_all(&Keycloak, text.as_bytes())[0]
            .as_ref()
            .unwrap()[0]
            .clone()
    }

    /// Keycloak's `DefaultBruteForceProtector`: a temporary lockout sets a not-before time
    /// and leaves the user enabled; only a permanent one disables the user. Re-enabling a
    /// locked user clears its login failures with a `USER_LOGIN_FAILURE` `DELETE` on the
    /// user's own path before the `USER` `UPDATE`; `users/profile` is the realm's profile.
    #[test]
    fn lockouts_unlocks_and_profile_config_are_not_account_lifecycle() {
        let temporary = r#"{"time":1773900300000,"type":"USER_DISABLED_BY_TEMPORARY_LOCKOUT","realmId":"acme","userId":"5b1c","details":{"username":"jose.nunez","not_before":"1773900360000"}}"#;
        let e = first(temporary);
        assert_eq!(e.kind, EventKind::Other);
        assert_eq!(e.subject, "jose.nunez");
        assert_eq!(e.attrs["not_before"], "1773900360000");
        let permanent = temporary.replace("TEMPORARY", "PERMANENT");
        let e = first(&permanent);
        assert_eq!(e.kind, EventKind::AccountDeactivated);

        for (resource, path) in [
            ("USER_LOGIN_FAILURE", "users/5b1c"),
            (
                "USER_LOGIN_FAILURE",
                "attack-detection/brute-force/users/5b1c",
            ),
        ] {
            let unlock = format!(
                r#"{{"id":"u1","time":1773900000000,"realmId":"acme","authDetails":{{"userId":"admin-7"}},"operationType":"DELETE","resourceType":"{resource}","resourcePath":"{path}"}}"#
            );
            let e = first(&unlock);
            assert_eq!(e.kind, EventKind::Other, "{path}");
            assert_eq!(e.subject, "5b1c", "{path}");
            assert_eq!(e.actor.as_deref(), Some("admin-7"));
        }
        let profile = r#"{"id":"p1","time":1773900000000,"realmId":"acme","authDetails":{"userId":"admin-7"},"operationType":"UPDATE","resourceType":"USER_PROFILE","resourcePath":"users/profile","representation":"{\"attributes\":[]}"}"#;
        let e = first(profile);
        assert_eq!(e.kind, EventKind::Other);
        assert_ne!(e.subject, "profile");
        // A `USER` delete on the same path is still the account's deletion.
        let delete = r#"{"id":"d1","time":1773900000000,"realmId":"acme","authDetails":{"userId":"admin-7"},"operationType":"DELETE","resourceType":"USER","resourcePath":"users/5b1c"}"#;
        let e = first(delete);
        assert_eq!(e.kind, EventKind::AccountDeleted);
    }

    #[test]
    fn bad_fields_are_named_and_nothing_panics() {
        let cases = [
            (
                LOGIN_ERROR.replace("1773900300000", "\"yesterday\""),
                "/time",
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
    fn a_login_error_for_an_unknown_user_is_kept() {
        let unknown = LOGIN_ERROR
            .replace(r#","userId":"5b1c""#, "")
            .replace(r#""details":{"username":"Jose.Nunez"}"#, r#""details":{}"#)
            .replace("user_disabled", "user_not_found");
        let got = normalise_all(&Keycloak, unknown.as_bytes());
        let e = &got[0].as_ref().unwrap()[0];
        assert_eq!(e.kind, EventKind::AuthFailed);
        assert_eq!(e.subject, "unknown-user@acme");
        assert_eq!(e.attrs["user_known"], "false");
        assert_eq!(e.attrs["reason"], "user_not_found");
        // With the username tried, that is the subject.
        let tried = LOGIN_ERROR
            .replace(r#","userId":"5b1c""#, "")
            .replace("user_disabled", "user_not_found");
        let got = normalise_all(&Keycloak, tried.as_bytes());
        assert_eq!(got[0].as_ref().unwrap()[0].subject, "jose.nunez");
    }

    #[test]
    fn interrupts_and_client_errors_are_not_credential_failures() {
        for (error, kind, type_name) in [
            (
                "invalid_user_credentials",
                EventKind::AuthFailed,
                "LOGIN_ERROR",
            ),
            ("user_not_found", EventKind::AuthFailed, "LOGIN_ERROR"),
            (
                "user_temporarily_disabled",
                EventKind::AuthFailed,
                "LOGIN_ERROR",
            ),
            ("expired_code", EventKind::Other, "signin.interrupted"),
            ("cookie_not_found", EventKind::Other, "signin.interrupted"),
            (
                "resolve_required_actions",
                EventKind::Other,
                "signin.interrupted",
            ),
            ("invalid_redirect_uri", EventKind::Other, "LOGIN_ERROR"),
        ] {
            let got = normalise_all(
                &Keycloak,
                LOGIN_ERROR.replace("user_disabled", error).as_bytes(),
            );
            let e = &got[0].as_ref().unwrap()[0];
            assert_eq!(e.kind, kind, "{error}");
            assert_eq!(e.attrs["type"], type_name, "{error}");
            assert_eq!(e.attrs["reason"], error);
        }
        // A token refresh refused because the session is gone is a failed use.
        let refresh = LOGIN_ERROR
            .replace("LOGIN_ERROR", "REFRESH_TOKEN_ERROR")
            .replace("user_disabled", "invalid_token");
        let got = normalise_all(&Keycloak, refresh.as_bytes());
        assert_eq!(got[0].as_ref().unwrap()[0].kind, EventKind::AuthFailed);
        let logout_error = LOGIN_ERROR.replace("LOGIN_ERROR", "LOGOUT_ERROR");
        let got = normalise_all(&Keycloak, logout_error.as_bytes());
        assert_eq!(got[0].as_ref().unwrap()[0].kind, EventKind::Other);
    }

    #[test]
    fn use_of_access_and_admin_revocations() {
        let user = |t: &str| {
            LOGIN_ERROR
                .replace("LOGIN_ERROR", t)
                .replace(r#","error":"user_disabled""#, "")
        };
        for (t, kind) in [
            ("LOGIN", EventKind::AuthSucceeded),
            ("CLIENT_LOGIN", EventKind::AuthSucceeded),
            ("CODE_TO_TOKEN", EventKind::TokenUsed),
            ("REFRESH_TOKEN", EventKind::TokenUsed),
            ("TOKEN_EXCHANGE", EventKind::TokenUsed),
            ("USER_INFO_REQUEST", EventKind::TokenUsed),
            ("INTROSPECT_TOKEN", EventKind::TokenUsed),
            ("LOGOUT", EventKind::SessionEnded),
            ("UPDATE_PASSWORD", EventKind::AccountUpdated),
            ("REMOVE_TOTP", EventKind::AccountUpdated),
            ("SEND_RESET_PASSWORD", EventKind::Other),
        ] {
            let got = normalise_all(&Keycloak, user(t).as_bytes());
            assert_eq!(got[0].as_ref().unwrap()[0].kind, kind, "{t}");
        }
        let admin = |op: &str, path: &str| {
            DISABLE
                .replace(
                    r#""operationType":"UPDATE""#,
                    &format!(r#""operationType":"{op}""#),
                )
                .replace(
                    r#""resourcePath":"users/5b1c""#,
                    &format!(r#""resourcePath":"{path}""#),
                )
        };
        for (op, path, kind) in [
            ("DELETE", "users/5b1c", EventKind::AccountDeleted),
            ("ACTION", "users/5b1c/logout", EventKind::SessionRevoked),
            (
                "ACTION",
                "users/5b1c/reset-password",
                EventKind::AccountUpdated,
            ),
            (
                "DELETE",
                "users/5b1c/credentials/c-9",
                EventKind::TokenRevoked,
            ),
            (
                "CREATE",
                "users/5b1c/role-mappings/realm",
                EventKind::GroupGranted,
            ),
            (
                "DELETE",
                "users/5b1c/role-mappings/realm",
                EventKind::GroupRemoved,
            ),
            (
                "CREATE",
                "clients/c-1/client-secret",
                EventKind::TokenCreated,
            ),
            (
                "DELETE",
                "clients/c-1/client-secret/rotated",
                EventKind::TokenRevoked,
            ),
        ] {
            let got = normalise_all(&Keycloak, admin(op, path).as_bytes());
            let e = &got[0].as_ref().unwrap()[0];
            assert_eq!(e.kind, kind, "{op} {path}");
        }
        let got = normalise_all(
            &Keycloak,
            admin("DELETE", "users/5b1c/credentials/c-9").as_bytes(),
        );
        assert_eq!(got[0].as_ref().unwrap()[0].attrs["token_id"], "c-9");
    }

    /// Shaped as Keycloak 26 writes them (its `OrganizationMemberResource` and admin-event
    /// tests): a removal's path ends in the member's id, an addition's at `members`; both
    /// carry the organisation as representation and the member in `details`.
    #[test]
    fn organisation_membership_is_about_the_member_not_the_admin() {
        let removal = r#"{"id":"e1","time":1773900000000,"realmId":"acme","authDetails":{"realmId":"acme","clientId":"c","userId":"admin-7","ipAddress":"198.51.100.2"},"operationType":"DELETE","resourceType":"ORGANIZATION_MEMBERSHIP","resourcePath":"organizations/org-1/members/5b1c","representation":"{\"id\":\"org-1\",\"name\":\"Probe Org\",\"alias\":\"probe-org\",\"enabled\":true,\"domains\":[]}","details":{"email":"jose@acme.example","username":"jose.nunez"}}"#;
        let got = normalise_all(&Keycloak, removal.as_bytes());
        let e = &got[0].as_ref().unwrap()[0];
        assert_eq!(e.kind, EventKind::GroupRemoved);
        assert_eq!(e.subject, "jose.nunez");
        assert_eq!(e.actor.as_deref(), Some("admin-7"));
        assert_eq!(e.attrs["user_id"], "5b1c");
        assert_eq!(e.attrs["group"], "organization:Probe Org");
        // Without `details` (before Keycloak 26), the member's id from the path.
        let bare = removal.replace(
            r#","details":{"email":"jose@acme.example","username":"jose.nunez"}"#,
            "",
        );
        let got = normalise_all(&Keycloak, bare.as_bytes());
        assert_eq!(got[0].as_ref().unwrap()[0].subject, "5b1c");
        let addition = removal
            .replace("DELETE", "CREATE")
            .replace("members/5b1c", "members");
        let got = normalise_all(&Keycloak, addition.as_bytes());
        let e = &got[0].as_ref().unwrap()[0];
        assert_eq!(
            (e.kind, e.subject.as_str()),
            (EventKind::GroupGranted, "jose.nunez")
        );
        // An addition that does not name its member (before Keycloak 26) is never a grant
        // to the admin who made it; a `null` representation is no representation.
        let unnamed = addition
            .replace(
                r#","details":{"email":"jose@acme.example","username":"jose.nunez"}"#,
                "",
            )
            .replace(
                r#""representation":"{\"id\":\"org-1\",\"name\":\"Probe Org\",\"alias\":\"probe-org\",\"enabled\":true,\"domains\":[]}""#,
                r#""representation":null"#,
            );
        assert!(unnamed.contains(r#""representation":null"#), "{unnamed}");
        let got = normalise_all(&Keycloak, unnamed.as_bytes());
        let e = &got[0].as_ref().unwrap()[0];
        assert_eq!(e.kind, EventKind::Other);
        assert_eq!(e.attrs["group"], "organization:org-1");
        // An invitation is not membership; an unknown resource stays the admin's `other`.
        for path in ["organizations/org-1/members/invite-user", "realms/acme"] {
            let other = addition.replace("organizations/org-1/members", path);
            let got = normalise_all(&Keycloak, other.as_bytes());
            assert_eq!(got[0].as_ref().unwrap()[0].kind, EventKind::Other, "{path}");
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
