//! OneLogin events API v1 (`GET /api/1/events`): the `{"status", "pagination", "data": [...]}`
//! envelope, whose `data` array `framing` reads (status and pagination are skipped), or a bare
//! JSON array of events, or one event per line; and the event broadcaster's SIEM stream, one
//! `{"event": {...}}` per line with `uuid` for `id` and `event_timestamp` for `created_at`.
//!
//! Fields used (OneLogin, "Event Resource and Types",
//! <https://developers.onelogin.com/api-docs/1/events/event-resource>): `id` (the event's
//! unique id, an integer), `created_at` (ISO 8601 UTC, `2016-01-21T09:20:15.990Z`),
//! `event_type_id` (an integer, see below), `user_id` / `user_name` (the user acted upon),
//! `actor_user_id` / `actor_user_name` / `actor_system` (who acted), `ipaddr`, `notes`,
//! `error_description`, `app_name`, `role_name`, `group_name`, `privilege_name`,
//! `login_name`, `risk_score`.
//!
//! The subject is `user_name` (OneLogin's display name of the user), else `user_id`, else
//! (a failed login naming no user) the `login_name` typed, with `attrs.user_known` =
//! `false`, else the actor, and then the event is `other` (it names no user acted upon),
//! except an API credential's creation or deletion, which is the actor's own; `user_id` is
//! kept in `attrs.user_id` so a roster may list either. When `assuming_acting_user_id` is
//! set an admin acted as the user (`attrs.assumed_by`, and the actor when no other is
//! named): a sign-in or app use is then `other`, not the user's own use of access.
//!
//! `id` and `event_type_id` are integers in the API and strings of digits in some SDK
//! exports; both are read.
//!
//! Event type ids: OneLogin lists them with `GET /api/1/events/types`
//! (<https://developers.onelogin.com/api-docs/1/events/event-types>); the names in
//! [`EVENT_TYPES`] are that list's (`attrs.type_name`). Any other id is `other` with
//! `attrs.type` = the id. API credential events (179 created, 180 deleted, 182 disabled)
//! and an OIDC token revocation (3015) carry the `client_id` in `attrs.token_id`.
//! `actor_user_id` is kept in `attrs.actor_id`.
//!
//! Use of access: 5 (OneLogin), 68 (RADIUS), 122 (API), 130 (VLDAP bind), 140 (social),
//! 153, 900, 904 (Mac and OneLogin Desktop), 1010 (re-authentication), 3001, 3005, 3009
//! (OIDC flows) → auth.succeeded; 8 (an app), 78 (an app via the assertion proxy), 3011,
//! 3013, 3017 (an app refreshing, validating or reading the user's tokens) → access.used;
//! 7 and 29 (logged out of OneLogin / of an app) → session.ended. Their failures → auth.failed,
//! as are 3004, 3012, 3014 and 3018 (an OIDC code, refresh, validation or user-info call
//! refused).
//! Ending access: 15 deactivated, 21 and 551 suspended, 17 and 530 deleted; 16, 32 and 552
//! reactivate; 516 and 550 log the user out (session.revoked).

pub mod poll;

use serde_json::Value;

use super::framing::Content;
use super::{
    at, json_type, new_event, opt_str, parse_time, put, req_id, req_time, FieldError, Role, Source,
};
use crate::event::{Event, EventKind, Timestamp};

pub struct OneLogin;

/// (event_type_id, OneLogin's name, kind). Names as `GET /api/1/events/types` returns
/// them (OneLogin, "Event Types", <https://developers.onelogin.com/api-docs/1/events/event-types>),
/// checked against that list as Microsoft Sentinel's OneLogin parser carries it
/// (Azure/Azure-Sentinel `Solutions/OneLoginIAM/Parsers/OneLogin.yaml`, ids 1 to 9059).
/// A lock (19, 531, 553) is `other`: OneLogin locks an account for minutes after failed
/// logins or by API, and the lock lapses without an event, so it never ends access (Okta's
/// lock events are `other` too); unlocks likewise. A password changed by the user or an
/// admin (11, 211) or an OTP device or authentication factor removed (24, 172) is
/// `account.updated`, as Okta's, Entra's and Google's credential changes are.
/// Provisioning into apps and directories
/// (53, 55, 82, 84) is the app's account, not the IdP's: `other`, named.
const EVENT_TYPES: &[(i64, &str, EventKind)] = &[
    (1, "APP_ADDED_TO_ROLE", EventKind::Other),
    (2, "APP_REMOVED_FROM_ROLE", EventKind::Other),
    (3, "USER_ASSUMED_USER", EventKind::Other),
    (4, "USER_ASSIGNED_ROLE", EventKind::GroupGranted),
    (5, "USER_LOGGED_INTO_ONELOGIN", EventKind::AuthSucceeded),
    (6, "USER_FAILED_ONELOGIN_LOGIN", EventKind::AuthFailed),
    (7, "USER_LOGGED_OUT_OF_ONELOGIN", EventKind::SessionEnded),
    // SSO into an app from the portal: the person used access they had.
    (8, "USER_LOGGED_INTO_APP", EventKind::AccessUsed),
    (9, "USER_FAILED_APP_LOGIN", EventKind::AuthFailed),
    (11, "USER_CHANGED_PASSWORD", EventKind::AccountUpdated),
    (12, "UNLOCKED_USER", EventKind::Other),
    (13, "CREATED_USER", EventKind::AccountCreated),
    (14, "UPDATED_USER", EventKind::AccountUpdated),
    (15, "DEACTIVATED_USER", EventKind::AccountDeactivated),
    (16, "ACTIVATED_USER", EventKind::AccountReactivated),
    (17, "DELETED_USER", EventKind::AccountDeleted),
    (19, "USER_LOCKED", EventKind::Other),
    (21, "SUSPENDED_USER", EventKind::AccountSuspended),
    (24, "USER_REMOVED_OTP_DEVICE", EventKind::AccountUpdated),
    (29, "USER_LOGGED_OUT_OF_APP", EventKind::SessionEnded),
    (32, "REACTIVATED_USER", EventKind::AccountReactivated),
    (53, "USER_SUSPENDED_IN_APP", EventKind::Other),
    (55, "USER_DELETED_IN_APP", EventKind::Other),
    (68, "USER_AUTHENTICATED_BY_RADIUS", EventKind::AuthSucceeded),
    (69, "USER_REJECTED_BY_RADIUS", EventKind::AuthFailed),
    (72, "PRIVILEGE_GRANTED_TO_USER", EventKind::GroupGranted),
    (73, "PRIVILEGE_REVOKED_FROM_USER", EventKind::GroupRemoved),
    (77, "USER_FAILED_PROXY_LOGIN", EventKind::AuthFailed),
    (78, "USER_SUCCEEDED_PROXY_LOGIN", EventKind::AccessUsed),
    (82, "USER_SUSPENDED_IN_DIRECTORY", EventKind::Other),
    (84, "USER_DELETED_IN_DIRECTORY", EventKind::Other),
    (90, "USER_UNAUTHORIZED_APP_ACCESS", EventKind::AuthFailed),
    (122, "USER_AUTHENTICATED_BY_API", EventKind::AuthSucceeded),
    (123, "USER_REJECTED_BY_API", EventKind::AuthFailed),
    (129, "VLDAP_BIND_FAILURE", EventKind::AuthFailed),
    (130, "VLDAP_BIND_SUCCESS", EventKind::AuthSucceeded),
    (140, "SOCIAL_SIGN_IN", EventKind::AuthSucceeded),
    (141, "SOCIAL_SIGN_IN_FAILURE", EventKind::AuthFailed),
    (147, "USER_MANUALLY_ADDED_TO_ROLE", EventKind::GroupGranted),
    (
        148,
        "USER_MANUALLY_REMOVED_FROM_ROLE",
        EventKind::GroupRemoved,
    ),
    (149, "USER_AUTO_ADDED_TO_ROLE", EventKind::GroupGranted),
    (150, "USER_AUTO_REMOVED_FROM_ROLE", EventKind::GroupRemoved),
    (153, "MAC_LOGIN_SUCCESS", EventKind::AuthSucceeded),
    (154, "MAC_LOGIN_FAILURE", EventKind::AuthFailed),
    (
        172,
        "AUTHENTICATION_FACTOR_DELETED",
        EventKind::AccountUpdated,
    ),
    (179, "API_CREDENTIAL_CREATED", EventKind::TokenCreated),
    (180, "API_CREDENTIAL_DELETED", EventKind::TokenRevoked),
    (182, "API_CREDENTIAL_DISABLED", EventKind::TokenRevoked),
    (
        211,
        "ADMIN_CHANGED_USER_PASSWORD",
        EventKind::AccountUpdated,
    ),
    (240, "USER_REVEALED_PASSWORD", EventKind::Other),
    (513, "API_ADD_ROLES", EventKind::GroupGranted),
    (514, "API_REMOVE_ROLES", EventKind::GroupRemoved),
    (516, "API_LOGOUT", EventKind::SessionRevoked),
    (530, "API_DESTROY_USER", EventKind::AccountDeleted),
    (531, "API_LOCK_USER", EventKind::Other),
    (550, "FORCE_LOGOUT_USER", EventKind::SessionRevoked),
    (551, "SUSPENDED_USER_VIA_API", EventKind::AccountSuspended),
    (
        552,
        "REACTIVATED_USER_VIA_API",
        EventKind::AccountReactivated,
    ),
    (553, "USER_LOCKED_VIA_API", EventKind::Other),
    (554, "UNLOCKED_USER_VIA_API", EventKind::Other),
    (
        900,
        "ONELOGIN_DESKTOP_MAC_LOGIN_SUCCESS",
        EventKind::AuthSucceeded,
    ),
    (
        901,
        "ONELOGIN_DESKTOP_MAC_LOGIN_FAILURE",
        EventKind::AuthFailed,
    ),
    (
        904,
        "ONELOGIN_DESKTOP_LOGIN_SUCCESS",
        EventKind::AuthSucceeded,
    ),
    (905, "ONELOGIN_DESKTOP_LOGIN_FAILURE", EventKind::AuthFailed),
    (
        906,
        "ONELOGIN_DESKTOP_USER_FAILED_ONELOGIN_LOGIN",
        EventKind::AuthFailed,
    ),
    // A risk-based challenge (Vigilance AI) put to a sign-in, and one failed: the sign-in
    // was refused, as Google's failed login challenge is.
    (1001, "USER_LOGIN_CHALLENGE", EventKind::Other),
    (1002, "USER_LOGIN_CHALLENGE_FAILED", EventKind::AuthFailed),
    (1010, "USER_REAUTH_SUCCESS", EventKind::AuthSucceeded),
    // OpenID Connect: a sign-in through a flow, a failed one, and an app using the
    // person's tokens (Keycloak's REFRESH_TOKEN, INTROSPECT_TOKEN, USER_INFO_REQUEST).
    (3001, "OIDC_IMPLICIT_FLOW_SUCCESS", EventKind::AuthSucceeded),
    (3002, "OIDC_IMPLICIT_FLOW_FAILED", EventKind::AuthFailed),
    (3004, "OIDC_GET_CODE_FAILED", EventKind::AuthFailed),
    (
        3005,
        "OIDC_AUTHORIZATION_CODE_SUCCESS",
        EventKind::AuthSucceeded,
    ),
    (
        3006,
        "OIDC_AUTHORIZATION_CODE_FAILED",
        EventKind::AuthFailed,
    ),
    (3009, "OIDC_PASSWORD_SUCCESS", EventKind::AuthSucceeded),
    (3010, "OIDC_PASSWORD_FAILED", EventKind::AuthFailed),
    (3011, "OIDC_REFRESH_TOKEN_SUCCESS", EventKind::AccessUsed),
    // A refused refresh, validation or user-info call: an app still trying the person's
    // tokens (after an offboarding, the attempt the failed-access rule looks for).
    (3012, "OIDC_REFRESH_TOKEN_FAILED", EventKind::AuthFailed),
    (3013, "OIDC_VALIDATE_TOKEN_SUCCESS", EventKind::AccessUsed),
    (3014, "OIDC_VALIDATE_TOKEN_FAILED", EventKind::AuthFailed),
    (3015, "OIDC_REVOKE_TOKEN_SUCCESS", EventKind::TokenRevoked),
    (3017, "OIDC_USER_INFO_SUCCESS", EventKind::AccessUsed),
    (3018, "OIDC_USER_INFO_FAILED", EventKind::AuthFailed),
];

fn classify(event_type_id: i64) -> (EventKind, Option<&'static str>) {
    EVENT_TYPES
        .iter()
        .find(|(id, _, _)| *id == event_type_id)
        .map_or((EventKind::Other, None), |(_, name, kind)| {
            (*kind, Some(*name))
        })
}

/// `event_type_id`: the API sends an integer, some exports and SDKs a string of digits;
/// both are read.
fn event_type_id(record: &Value) -> Result<i64, FieldError> {
    const FIELD: &str = "/event_type_id";
    match at(record, FIELD) {
        None => Err(FieldError::new(FIELD, "missing; expected an integer")),
        Some(Value::Number(n)) => n
            .as_i64()
            .ok_or_else(|| FieldError::new(FIELD, format!("expected an integer, got {n}"))),
        Some(Value::String(s)) => s
            .trim()
            .parse()
            .map_err(|_| FieldError::new(FIELD, format!("expected an integer, got {s:?}"))),
        Some(other) => Err(FieldError::new(
            FIELD,
            format!("expected an integer, got {}", json_type(other)),
        )),
    }
}

impl Source for OneLogin {
    fn name(&self) -> &'static str {
        "onelogin"
    }

    fn role(&self) -> Role {
        Role::IdentityProvider { idp: "onelogin" }
    }

    fn description(&self) -> &'static str {
        "OneLogin events API (/api/1/events envelope, JSON array, or NDJSON; broadcaster lines)"
    }

    fn sniff(&self, record: &Value, _: Content) -> bool {
        if let Some(inner) = broadcast_event(record) {
            return self.sniff(inner, Content::JsonLines);
        }
        record.get("event_type_id").is_some()
            && ["created_at", "user_id", "account_id"]
                .iter()
                .any(|k| record.get(*k).is_some())
    }

    fn normalise(&self, record: &Value) -> Result<Vec<Event>, FieldError> {
        if let Some(inner) = broadcast_event(record) {
            return normalise_event(inner).map_err(|mut e| {
                e.field = format!("/event{}", e.field);
                e
            });
        }
        normalise_event(record)
    }
}

/// The event an event broadcaster delivery wraps: OneLogin's SIEM stream writes one
/// `{"event": {...}}` per line, the event keyed by `uuid` and timed by `event_timestamp`
/// (`2026-06-02 10:40:17+0530`) instead of the API's `id` and `created_at`.
fn broadcast_event(record: &Value) -> Option<&Value> {
    let inner = record.get("event").filter(|e| e.is_object())?;
    (record.get("event_type_id").is_none() && inner.get("event_type_id").is_some()).then_some(inner)
}

/// The event's time: the API's `created_at` (RFC 3339), else the broadcaster's
/// `event_timestamp`, whose offset has no colon and whose date and time a space parts.
fn event_time(record: &Value) -> Result<(Timestamp, String), FieldError> {
    if at(record, "/created_at").is_some() || at(record, "/event_timestamp").is_none() {
        return req_time(record, "/created_at");
    }
    let text = opt_str(record, "/event_timestamp").unwrap_or_default();
    let trimmed = text.trim();
    if let Ok(t) = chrono::DateTime::parse_from_str(trimmed, "%Y-%m-%d %H:%M:%S%.f%z") {
        return Ok((
            Timestamp::from_datetime(t.with_timezone(&chrono::Utc)),
            text,
        ));
    }
    // The webhook's "JSON Array" format (OneLogin's "Event webhooks" page):
    // `2017-12-05 19:13:06 UTC`.
    let utc = trimmed
        .strip_suffix(" UTC")
        .and_then(|t| chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S%.f").ok());
    match utc {
        Some(t) => Ok((Timestamp::from_datetime(t.and_utc()), text)),
        None => parse_time("/event_timestamp", text),
    }
}

fn normalise_event(record: &Value) -> Result<Vec<Event>, FieldError> {
    if !record.is_object() {
        return Err(FieldError::new("/", "expected a OneLogin event object"));
    }
    let id_field = if at(record, "/id").is_none() && at(record, "/uuid").is_some() {
        "/uuid"
    } else {
        "/id"
    };
    // `GET /api/1/events?fields=created_at,event_type_id,user_id` returns events without
    // `id`: such an event is kept, and the ledger de-duplicates on its raw bytes, as for
    // any source without ids.
    let id = match at(record, id_field) {
        None | Some(Value::Null) => None,
        Some(_) => Some(req_id(record, id_field)?),
    };
    let time = event_time(record)?;
    let type_id = event_type_id(record)?;
    let (mut kind, type_name) = classify(type_id);
    let user_id = opt_str(record, "/user_id");
    let user_name = opt_str(record, "/user_name");
    // "The user who assumed the role of the acting user to trigger the event": an admin
    // working as the user. Their sign-ins and app use are the admin's acts, not the
    // user's use of access.
    let assumed_by = opt_str(record, "/assuming_acting_user_id");
    let actor = opt_str(record, "/actor_user_name")
        .or_else(|| opt_str(record, "/actor_system"))
        .or_else(|| opt_str(record, "/actor_user_id"))
        .or_else(|| assumed_by.clone());
    if assumed_by.is_some() && matches!(kind, EventKind::AuthSucceeded | EventKind::AccessUsed) {
        kind = EventKind::Other;
    }
    // An event about a user ("the user that was acted upon") that names none cannot say
    // whose access changed: `other` about the actor, never the actor's own deactivation.
    // API credential events name no user by design: the credential is the actor's.
    // A failed login of a name OneLogin knows no user by (mistyped, or the account is
    // gone: a departed contractor's script still trying) names only what was typed: the
    // attempt is about that login name.
    let login_name = opt_str(record, "/login_name");
    let tried = (user_name.is_none() && user_id.is_none() && kind == EventKind::AuthFailed)
        .then(|| login_name.clone())
        .flatten();
    if user_name.is_none()
        && user_id.is_none()
        && tried.is_none()
        && !matches!(kind, EventKind::TokenCreated | EventKind::TokenRevoked)
    {
        kind = EventKind::Other;
    }
    let user_known = tried.is_none();
    let subject = user_name
        .or_else(|| user_id.clone())
        .or(tried)
        .or_else(|| actor.clone())
        .ok_or_else(|| {
            FieldError::new(
                "/user_name",
                "missing, and no user_id or actor; expected the user the event is about",
            )
        })?;
    let mut e = new_event("onelogin", id, kind, &subject, time);
    if let Some(a) = actor.filter(|a| a.trim() != subject.trim()) {
        e.actor = Some(a.trim().to_string());
    }
    put(&mut e, "type", Some(type_id.to_string()));
    put(&mut e, "type_name", type_name.map(str::to_string));
    match kind {
        EventKind::AuthFailed => put(&mut e, "outcome", Some("failure".into())),
        EventKind::AuthSucceeded | EventKind::AccessUsed => {
            put(&mut e, "outcome", Some("success".into()))
        }
        _ => {}
    }
    if matches!(kind, EventKind::TokenCreated | EventKind::TokenRevoked) {
        // The API credential's client id, when the event carries it.
        put(&mut e, "token_id", opt_str(record, "/client_id"));
    }
    // OneLogin writes why (a failed login, a lock) in `notes`; provisioning errors in
    // `error_description`.
    put(
        &mut e,
        "reason",
        opt_str(record, "/error_description").or_else(|| opt_str(record, "/notes")),
    );
    put(&mut e, "ip", opt_str(record, "/ipaddr"));
    put(&mut e, "user_id", user_id);
    // The actor's name alone is not unique.
    put(&mut e, "actor_id", opt_str(record, "/actor_user_id"));
    put(&mut e, "assumed_by", assumed_by);
    put(&mut e, "login_name", login_name);
    if !user_known {
        put(&mut e, "user_known", Some("false".into()));
    }
    put(&mut e, "app", opt_str(record, "/app_name"));
    put(
        &mut e,
        "group",
        opt_str(record, "/role_name")
            .or_else(|| opt_str(record, "/group_name"))
            .or_else(|| opt_str(record, "/privilege_name")),
    );
    put(&mut e, "risk_score", opt_str(record, "/risk_score"));
    Ok(vec![e])
}

#[cfg(test)]
mod tests {
    use super::super::testing::normalise_all;
    use super::*;

    const DEACTIVATED: &str = r#"{"id":900001,"created_at":"2026-03-14T00:00:00.000Z","event_type_id":15,"account_id":55,"actor_user_id":1,"actor_user_name":"Ada Admin","user_id":123456,"user_name":"Bob Cat"}"#;
    const FAILED: &str = r#"{"id":900002,"created_at":"2026-03-15T08:00:00.000Z","event_type_id":6,"user_id":123456,"user_name":"Bob Cat","ipaddr":"203.0.113.55","notes":"Invalid password"}"#;

    #[test]
    fn envelope_data_is_read_and_types_are_mapped() {
        let input = format!(
            r#"{{"status":{{"error":false,"code":200}},"pagination":{{"after_cursor":null}},"data":[{DEACTIVATED},{FAILED}]}}"#
        );
        let got = normalise_all(&OneLogin, input.as_bytes());
        assert_eq!(got.len(), 2);
        let d = &got[0].as_ref().unwrap()[0];
        assert_eq!(d.kind, EventKind::AccountDeactivated);
        assert_eq!(d.subject, "bob cat");
        assert_eq!(d.actor.as_deref(), Some("Ada Admin"));
        assert_eq!(d.source_id.as_deref(), Some("900001"));
        assert_eq!(d.attrs["type"], "15");
        assert_eq!(d.attrs["user_id"], "123456");
        assert_eq!(d.attrs["actor_id"], "1");
        assert_eq!(d.attrs["type_name"], "DEACTIVATED_USER");
        let f = &got[1].as_ref().unwrap()[0];
        assert_eq!(f.kind, EventKind::AuthFailed);
        assert_eq!(f.attrs["reason"], "Invalid password");
        assert_eq!(f.actor, None);
        assert!(!f.attrs.contains_key("user_known"));
    }

    /// A failed login of a name OneLogin knows no user by names only the `login_name`
    /// typed: an attempt about that name (once refused whole, for naming no one). An event
    /// without `id` (a trimmed field list) is kept too.
    #[test]
    fn a_failed_login_of_an_unknown_name_and_an_event_without_id_are_kept() {
        let unknown = r#"{"id":900004,"created_at":"2026-03-15T08:00:00.000Z","event_type_id":6,"user_id":null,"user_name":null,"login_name":"Bob.Cat@acme.example","ipaddr":"203.0.113.55","notes":"User not found"}"#;
        let got = normalise_all(&OneLogin, unknown.as_bytes());
        let e = &got[0].as_ref().unwrap()[0];
        assert_eq!(
            (e.kind, e.subject.as_str()),
            (EventKind::AuthFailed, "bob.cat@acme.example")
        );
        assert_eq!(e.attrs["user_known"], "false");
        assert_eq!(e.attrs["login_name"], "Bob.Cat@acme.example");
        // `GET /api/1/events?fields=created_at,event_type_id,user_id` leaves `id` out: kept,
        // de-duplicated on its raw bytes.
        let trimmed =
            r#"{"created_at":"2026-03-14T00:00:00.000Z","event_type_id":15,"user_id":123456}"#;
        let got = normalise_all(&OneLogin, trimmed.as_bytes());
        let e = &got[0].as_ref().unwrap()[0];
        assert_eq!(
            (e.kind, e.source_id.as_deref()),
            (EventKind::AccountDeactivated, None)
        );
        // A success names its user; a login name alone does not make one of anything else.
        let odd = unknown.replace(r#""event_type_id":6"#, r#""event_type_id":15"#);
        let got = normalise_all(&OneLogin, odd.as_bytes());
        assert!(got[0].is_err(), "{got:?}");
    }

    /// A deactivation that names no user acted upon is not the admin's own; an admin
    /// who assumed a user signs in as them, which is not the user's use of access.
    #[test]
    fn no_user_named_and_an_assumed_user_are_not_the_users_acts() {
        let nobody = DEACTIVATED.replace(
            r#","user_id":123456,"user_name":"Bob Cat""#,
            r#","user_id":null,"user_name":null"#,
        );
        let got = normalise_all(&OneLogin, nobody.as_bytes());
        let e = &got[0].as_ref().unwrap()[0];
        assert_eq!(
            (e.kind, e.subject.as_str()),
            (EventKind::Other, "ada admin")
        );
        let assumed = r#"{"id":900003,"created_at":"2026-03-16T10:00:00.000Z","event_type_id":5,"user_id":123456,"user_name":"Bob Cat","assuming_acting_user_id":999,"ipaddr":"203.0.113.9"}"#;
        let got = normalise_all(&OneLogin, assumed.as_bytes());
        let e = &got[0].as_ref().unwrap()[0];
        assert_eq!((e.kind, e.subject.as_str()), (EventKind::Other, "bob cat"));
        assert_eq!(e.actor.as_deref(), Some("999"));
        assert_eq!(e.attrs["assumed_by"], "999");
        let own = assumed.replace(r#""assuming_acting_user_id":999,"#, "");
        let got = normalise_all(&OneLogin, own.as_bytes());
        assert_eq!(got[0].as_ref().unwrap()[0].kind, EventKind::AuthSucceeded);
    }

    /// The event broadcaster's SIEM stream: one `{"event": {...}}` per line, keyed by
    /// `uuid`, timed by `event_timestamp` with a colon-less offset (shape from OneLogin's
    /// broadcaster output as SIEM vendors document it; the values are ours).
    #[test]
    fn broadcaster_lines_are_read_with_their_uuid_and_offset() {
        let line = r#"{"event":{"uuid":"9d224e9b-0000-4000-8000-00000000beef","event_type_id":15,"event_timestamp":"2026-03-14 05:30:00+0530","account_id":55,"user_id":123456,"user_name":"Bob Cat","actor_user_id":1,"actor_user_name":"Ada Admin","actor_system":null,"ipaddr":null,"notes":null}}"#;
        let input = format!("{line}\n{line}\n");
        let got = normalise_all(&OneLogin, input.as_bytes());
        let e = &got[0].as_ref().unwrap()[0];
        assert_eq!(e.kind, EventKind::AccountDeactivated);
        assert_eq!(e.occurred_at.to_rfc3339(), "2026-03-14T00:00:00Z");
        assert_eq!(e.original_time, "2026-03-14 05:30:00+0530");
        assert_eq!(
            e.source_id.as_deref(),
            Some("9d224e9b-0000-4000-8000-00000000beef")
        );
        assert_eq!(e.subject, "bob cat");
        let value: Value = serde_json::from_str(line).unwrap();
        assert!(OneLogin.sniff(&value, Content::JsonLines));
        let bad = line.replace("2026-03-14 05:30:00+0530", "14/03/2026");
        let err = normalise_all(&OneLogin, bad.as_bytes())[0]
            .clone()
            .unwrap_err();
        assert!(err.contains("/event/event_timestamp"), "{err}");
    }

    /// The webhook's recommended "JSON Array" format (OneLogin's "Event webhooks" page;
    /// the same shape as Azure-Sentinel's `OneLogin_CL` sample): flat events keyed by
    /// `uuid`, timed `2017-12-05 19:13:06 UTC`. Values are ours.
    #[test]
    fn webhook_arrays_with_utc_times_are_read() {
        let input = r#"[{"uuid":"7c0f3a57-0000-4000-8000-00000000cafe","event_type_id":5,"event_timestamp":"2026-03-14 07:02:09 UTC","account_id":55,"user_id":123456,"user_name":"Bob Cat","ipaddr":"203.0.113.8"}]"#;
        let got = normalise_all(&OneLogin, input.as_bytes());
        let e = &got[0].as_ref().unwrap()[0];
        assert_eq!(e.kind, EventKind::AuthSucceeded);
        assert_eq!(e.occurred_at.to_rfc3339(), "2026-03-14T07:02:09Z");
        assert_eq!(e.original_time, "2026-03-14 07:02:09 UTC");
        assert_eq!(
            e.source_id.as_deref(),
            Some("7c0f3a57-0000-4000-8000-00000000cafe")
        );
        let local = input.replace(" UTC", " PST");
        let err = normalise_all(&OneLogin, local.as_bytes())[0]
            .clone()
            .unwrap_err();
        assert!(err.contains("event_timestamp"), "{err}");
    }

    #[test]
    fn unknown_types_are_other_and_panther_forms_are_refused() {
        let unknown = DEACTIVATED.replace(r#""event_type_id":15"#, r#""event_type_id":9999"#);
        let got = normalise_all(&OneLogin, unknown.as_bytes());
        let e = &got[0].as_ref().unwrap()[0];
        assert_eq!(e.kind, EventKind::Other);
        assert_eq!(e.attrs["type"], "9999");
        // Quoted ids and event type ids (SDK exports) are read like numbers.
        let quoted = DEACTIVATED
            .replace(r#""event_type_id":15"#, r#""event_type_id":"15""#)
            .replace(r#""id":900001"#, r#""id":"900001""#);
        let got = normalise_all(&OneLogin, quoted.as_bytes());
        let e = &got[0].as_ref().unwrap()[0];
        assert_eq!(e.kind, EventKind::AccountDeactivated);
        assert_eq!(e.source_id.as_deref(), Some("900001"));
        let words = DEACTIVATED.replace(r#""event_type_id":15"#, r#""event_type_id":"fifteen""#);
        let got = normalise_all(&OneLogin, words.as_bytes());
        let err = got[0].as_ref().unwrap_err();
        assert!(err.contains("field /event_type_id:"), "{err}");
        let no_zone = DEACTIVATED.replace("2026-03-14T00:00:00.000Z", "2026-03-14 00:00:00.000");
        let got = normalise_all(&OneLogin, no_zone.as_bytes());
        let err = got[0].as_ref().unwrap_err();
        assert!(err.contains("field /created_at:"), "{err}");
        for odd in [
            "[1]",
            "[{}]",
            r#"[{"id":1,"created_at":"2026-03-14T00:00:00Z","event_type_id":1e300}]"#,
        ] {
            assert!(
                normalise_all(&OneLogin, odd.as_bytes())[0].is_err(),
                "{odd}"
            );
        }
    }

    #[test]
    fn event_types_map_to_kinds() {
        for (id, kind) in [
            (5, EventKind::AuthSucceeded),
            (6, EventKind::AuthFailed),
            (7, EventKind::SessionEnded),
            (8, EventKind::AccessUsed),
            (15, EventKind::AccountDeactivated),
            (17, EventKind::AccountDeleted),
            (19, EventKind::Other),
            (21, EventKind::AccountSuspended),
            (9, EventKind::AuthFailed),
            (12, EventKind::Other),
            (130, EventKind::AuthSucceeded),
            (550, EventKind::SessionRevoked),
            (551, EventKind::AccountSuspended),
            (552, EventKind::AccountReactivated),
            (553, EventKind::Other),
            (904, EventKind::AuthSucceeded),
            (1010, EventKind::AuthSucceeded),
            (1001, EventKind::Other),
            (1002, EventKind::AuthFailed),
            (3010, EventKind::AuthFailed),
            (3011, EventKind::AccessUsed),
            (3012, EventKind::AuthFailed),
            (3015, EventKind::TokenRevoked),
            (3018, EventKind::AuthFailed),
            (32, EventKind::AccountReactivated),
            (72, EventKind::GroupGranted),
            (73, EventKind::GroupRemoved),
            (147, EventKind::GroupGranted),
            (148, EventKind::GroupRemoved),
            (179, EventKind::TokenCreated),
            (180, EventKind::TokenRevoked),
            (516, EventKind::SessionRevoked),
            (530, EventKind::AccountDeleted),
        ] {
            let rec = DEACTIVATED
                .replace(r#""event_type_id":15"#, &format!(r#""event_type_id":{id}"#))
                .replace(
                    r#""account_id":55"#,
                    r#""account_id":55,"client_id":"0a1b2c""#,
                );
            let got = normalise_all(&OneLogin, rec.as_bytes());
            let e = &got[0].as_ref().unwrap()[0];
            assert_eq!(e.kind, kind, "{id}");
            if matches!(kind, EventKind::TokenCreated | EventKind::TokenRevoked) {
                assert_eq!(e.attrs["token_id"], "0a1b2c");
            }
        }
    }
}
