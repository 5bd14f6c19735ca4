//! Okta System Log (`GET /api/v1/logs`: a JSON array of LogEvent objects, or one per line).
//!
//! Fields used (Okta's LogEvent): `uuid` (the event id), `published` (RFC 3339, UTC),
//! `eventType`, `outcome.result` / `outcome.reason`, `actor`, `target[]` (`User`,
//! `AppInstance`, `UserGroup`, `Token`...), `client.ipAddress`, `client.zone`,
//! `authenticationContext.externalSessionId`, `debugContext.debugData.changedAttributes`.
//! `outcome`, `target` and `client` may be `null` (Okta's own docs show it); a record is
//! refused only when it is not an object, has no `uuid`, `eventType` or RFC 3339
//! `published`, or names nobody the event could be about.
//!
//! Docs: developer.okta.com "System Log API" (LogEvent object) and the event types
//! catalogue (developer.okta.com/docs/reference/api/event-types/, and its legacy → System
//! Log mapping: `app.user_management.*` became `application.provision.*`, some kept).
//!
//! Subjects: lifecycle, profile, password/MFA reset, lock, session-clear, group, privilege
//! and app-assignment/provisioning events are about the target `User` (the actor is the
//! admin or `system@okta.com`); sign-ins, sessions, SSO, admin-app access, impersonation
//! and API/OAuth token events are about the actor.
//!
//! Outcome (`outcome.result`: SUCCESS, FAILURE, SKIPPED, ALLOW, DENY, CHALLENGE, UNKNOWN):
//! only SUCCESS and ALLOW are the operation happening ([`with_outcome`]). FAILURE of a
//! sign-in (`user.session.start`, `user.authentication.*`, SSO included) is `auth.failed`;
//! every other result, and any result of any other operation (a FAILURE group add, a
//! DENY privilege grant, a CHALLENGE sign-in = an MFA prompt, not a bad credential), is
//! `other` with `attrs.outcome` kept. A record with no outcome is not known to have
//! succeeded, so it is `other` too.
//!
//! Use of access (the person used access they had; what `access-after-expiry` counts):
//! - `user.session.start` SUCCESS → `auth.succeeded` (sign-in to Okta);
//! - `user.authentication.*` other than `sso` and `slo` (`auth_via_mfa`, `auth_via_IDP`,
//!   `auth_via_social`, `auth_via_radius`, `auth_via_AD_agent`, `auth_via_LDAP_agent`,
//!   `auth_via_richclient`, `verify`, `authenticate`...) SUCCESS → `auth.succeeded`;
//! - `user.authentication.sso` SUCCESS (SSO into an app) → `access.used`, `attrs.app`;
//! - `user.session.access_admin_app` (into the Admin Console) → `access.used`;
//! - `user.session.impersonation.initiate` → `access.used` about the impersonator, with
//!   `attrs.impersonated` naming the target.
//!
//! A password set, reset or expired (`user.account.reset_password`, `update_password`,
//! `expire_password`) and an MFA factor reset, removed or suspended (`user.mfa.factor.*`,
//! `system.mfa.factor.deactivate`) are `account.updated`, about the target user; locks
//! and unlocks are `other`.
//!
//! `client.ipAddress` is stored only when it is an IP address, `client.zone` only when it
//! is not a null-ish string (`"null"` is what Okta writes for "no zone").
//!
//! Two ways in, one way out: ingest reads a LogEvent of the usual shape straight from its
//! text ([`wire`]); any other shape (and every error) goes through a `serde_json::Value`
//! holding only what [`READS`] names. Both fill the same [`Fields`], which one function
//! turns into the event, and the tests hold the two ways to the same answer.

pub mod poll;
mod wire;

use std::borrow::Cow;

use serde_json::Value;

use super::framing::{Content, Reads};
use super::{
    at, loose_str, new_event, parse_time, put, req_str, FieldError, Role, Source, NO_ACCOUNT,
};
use crate::event::{Event, EventKind};

pub struct Okta;

/// The `alternateId` of Okta's own system principal (actor type `SystemPrincipal`).
const SYSTEM_PRINCIPAL: &str = "system@okta.com";

/// Every key `normalise` (and what it calls) reads; framing parses nothing else of a
/// LogEvent. A key read but not listed here would look missing.
static READS: Reads = {
    use Reads::{All, Keys};
    Keys(&[
        ("uuid", All),
        ("published", All),
        ("eventType", All),
        ("outcome", Keys(&[("result", All), ("reason", All)])),
        ("actor", Keys(&[("alternateId", All)])),
        (
            "target",
            Keys(&[
                ("type", All),
                ("id", All),
                ("alternateId", All),
                ("displayName", All),
            ]),
        ),
        ("client", Keys(&[("ipAddress", All), ("zone", All)])),
        ("authenticationContext", Keys(&[("externalSessionId", All)])),
        (
            "transaction",
            Keys(&[("detail", Keys(&[("requestApiTokenId", All)]))]),
        ),
        (
            "debugContext",
            Keys(&[("debugData", Keys(&[("changedAttributes", All)]))]),
        ),
    ])
};

/// What `normalise` reads of a LogEvent, however it was parsed: from a `Value`
/// ([`Fields::from_value`], any shape) or straight from the text ([`wire`], the usual
/// shape only). Optional strings are read as [`loose_str`] reads them.
struct Fields<'a> {
    id: Cow<'a, str>,
    event_type: Cow<'a, str>,
    published: Cow<'a, str>,
    result: Option<Cow<'a, str>>,
    reason: Option<Cow<'a, str>>,
    actor: Option<Cow<'a, str>>,
    /// The elements of `target` that are objects, in order.
    targets: Vec<Target<'a>>,
    ip: Option<Cow<'a, str>>,
    zone: Option<Cow<'a, str>>,
    session_id: Option<Cow<'a, str>>,
    changed_attributes: Option<Cow<'a, str>>,
    /// `transaction.detail.requestApiTokenId`: the API token an action was taken with.
    caller_token: Option<Cow<'a, str>>,
}

struct Target<'a> {
    /// `type` only when it is a string, as it is.
    kind: Option<Cow<'a, str>>,
    id: Option<Cow<'a, str>>,
    alternate_id: Option<Cow<'a, str>>,
    display_name: Option<Cow<'a, str>>,
}

impl<'a> Fields<'a> {
    fn from_value(record: &'a Value) -> Result<Self, FieldError> {
        if !record.is_object() {
            return Err(FieldError::new("/", "expected a LogEvent object"));
        }
        let opt = |pointer: &str| at(record, pointer).and_then(loose_str);
        let targets = record
            .get("target")
            .and_then(Value::as_array)
            .map(|all| {
                all.iter()
                    .filter(|t| t.is_object())
                    .map(|t| Target {
                        kind: t.get("type").and_then(Value::as_str).map(Cow::Borrowed),
                        id: at(t, "/id").and_then(loose_str),
                        alternate_id: at(t, "/alternateId").and_then(loose_str),
                        display_name: at(t, "/displayName").and_then(loose_str),
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(Self {
            id: Cow::Owned(req_str(record, "/uuid")?),
            event_type: Cow::Owned(req_str(record, "/eventType")?),
            published: Cow::Owned(req_str(record, "/published")?),
            result: opt("/outcome/result"),
            reason: opt("/outcome/reason"),
            actor: opt("/actor/alternateId"),
            targets,
            ip: opt("/client/ipAddress"),
            zone: opt("/client/zone"),
            session_id: opt("/authenticationContext/externalSessionId"),
            changed_attributes: opt("/debugContext/debugData/changedAttributes"),
            caller_token: opt("/transaction/detail/requestApiTokenId"),
        })
    }

    /// The first target of this type.
    fn target(&self, kind: &str) -> Option<&Target<'a>> {
        self.targets
            .iter()
            .find(|t| t.kind.as_deref() == Some(kind))
    }
}

/// Whose account an event is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Subject {
    /// The actor: who signed in, used a session or made a token.
    Actor,
    /// The target `User` (the actor did it to them); the actor when no user is targeted.
    TargetUser,
}

/// What an event type means when it happened (outcome SUCCESS/ALLOW), and whom it is about.
fn classify(event_type: &str, changed_attributes: Option<&str>) -> (EventKind, Subject) {
    use EventKind::*;
    use Subject::*;
    match event_type {
        "user.lifecycle.deactivate" => (AccountDeactivated, TargetUser),
        "user.lifecycle.suspend" => (AccountSuspended, TargetUser),
        "user.lifecycle.unsuspend" | "user.lifecycle.reactivate" => {
            (AccountReactivated, TargetUser)
        }
        "user.lifecycle.activate" | "user.lifecycle.create" => (AccountCreated, TargetUser),
        "user.lifecycle.delete.initiated" | "user.lifecycle.delete.completed" => {
            (AccountDeleted, TargetUser)
        }
        "user.account.update_profile" => {
            let changed = changed_attributes.unwrap_or_default().to_lowercase();
            if changed.contains("enddate") || changed.contains("end_date") {
                (ExpirySet, TargetUser)
            } else {
                (AccountUpdated, TargetUser)
            }
        }
        // A password set, reset or expired, or an MFA factor reset, removed or suspended,
        // changed the account's credentials: an account update, about the user (as
        // Google's CHANGE_PASSWORD and Entra's password resets are).
        "user.account.reset_password"
        | "user.account.update_password"
        | "user.account.expire_password"
        | "user.mfa.factor.reset_all"
        | "user.mfa.factor.deactivate"
        | "user.mfa.factor.suspend"
        | "system.mfa.factor.deactivate" => (AccountUpdated, TargetUser),
        // Locks are Okta's own state after failed attempts (or an admin lifting it): kept,
        // about that user.
        "user.account.lock"
        | "user.account.lock.limit"
        | "user.account.unlock"
        | "user.account.unlock_by_admin" => (Other, TargetUser),
        "user.session.clear" => (SessionRevoked, TargetUser),
        // Okta ends a user's sessions for a risk policy, Continuous Access or an admin's
        // "Clear User Session": about the user logged out (the target), never the admin.
        // An admin (or Okta) triggering Universal Logout for a user is scheduled with its
        // own event: the target is "the user impacted", the actor who triggered it.
        "user.authentication.universal_logout"
        | "user.authentication.universal_logout.scheduled" => (SessionRevoked, TargetUser),
        // A logout names the user as actor; Okta ending someone's sessions (after a
        // `user.session.clear`, or a risk policy's TERMINATE_ALL_SESSIONS) names them as
        // the target User (see `build`).
        "user.session.end" => (SessionEnded, TargetUser),
        "user.session.expire" | "user.authentication.slo" => (SessionEnded, Actor),
        "user.session.access_admin_app" => (AccessUsed, Actor),
        "user.session.impersonation.initiate" => (AccessUsed, Actor),
        "user.session.impersonation.end" => (SessionEnded, Actor),
        "group.user_membership.add" | "user.account.privilege.grant" => (GroupGranted, TargetUser),
        "group.user_membership.remove" | "user.account.privilege.revoke" => {
            (GroupRemoved, TargetUser)
        }
        // Assigning a user to an app is an access grant (the app is the group).
        "application.user_membership.add" => (GroupGranted, TargetUser),
        "application.user_membership.remove" => (GroupRemoved, TargetUser),
        t if t.starts_with("application.user_membership.")
            || t.starts_with("application.provision.user.")
            || t.starts_with("app.user_management.") =>
        {
            (Other, TargetUser)
        }
        "system.api_token.create" => (TokenCreated, Actor),
        "system.api_token.revoke" => (TokenRevoked, Actor),
        // Only a refresh token is a credential that outlives a sign-in; an access or ID
        // token grant is the person using access (it lapses within the hour), and counting
        // it as a credential would ask for a revocation of every short-lived token. The
        // client app is the actor; the person is the target User when one is named.
        t if t.starts_with("app.oauth2.") && t.contains("token.grant") => {
            if t.ends_with("refresh_token") {
                (TokenCreated, TargetUser)
            } else {
                (TokenUsed, TargetUser)
            }
        }
        t if t.starts_with("app.oauth2.") && t.contains("token.revoke") => {
            (TokenRevoked, TargetUser)
        }
        // A user's consent to an app withdrawn: the app's tokens for them stop working.
        t if t.starts_with("app.oauth2.as.consent.revoke") => (TokenRevoked, TargetUser),
        "user.session.start" => (AuthSucceeded, Actor),
        "user.authentication.sso" => (AccessUsed, Actor),
        t if t.starts_with("user.authentication.") => (AuthSucceeded, Actor),
        _ => (Other, Actor),
    }
}

/// Whether a FAILURE of this event type is a credential failure of a sign-in.
fn is_sign_in(event_type: &str) -> bool {
    event_type == "user.session.start"
        || (event_type.starts_with("user.authentication.")
            && !matches!(event_type, "user.authentication.slo")
            && !event_type.starts_with("user.authentication.universal_logout"))
}

/// The kind an event has once its `outcome.result` is read: the classified kind only when
/// the operation happened (SUCCESS, ALLOW); `auth.failed` for a FAILURE of a sign-in;
/// else `other` (FAILURE of any other operation, DENY, SKIPPED, CHALLENGE, UNKNOWN, none).
/// The one place where Okta's outcome decides the kind.
fn with_outcome(kind: EventKind, sign_in: bool, result: Option<&str>) -> EventKind {
    let result = result.map(|r| r.trim().to_ascii_uppercase());
    match result.as_deref() {
        Some("SUCCESS" | "ALLOW") => kind,
        Some("FAILURE") if sign_in => EventKind::AuthFailed,
        _ => EventKind::Other,
    }
}

/// A string Okta (or a shipper) writes for "no value": `"null"`, `"unknown"`...
fn is_nullish(s: &str) -> bool {
    matches!(
        s.trim().to_ascii_lowercase().as_str(),
        "" | "null" | "none" | "nil" | "undefined" | "unknown" | "n/a" | "-"
    )
}

/// A string, unless it is null-ish.
fn real(value: &Option<Cow<'_, str>>) -> Option<String> {
    value
        .as_deref()
        .filter(|s| !is_nullish(s))
        .map(str::to_string)
}

/// `client.ipAddress` when it is an IP address (never `"null"` or `"unknown"`).
fn client_ip(value: &Option<Cow<'_, str>>) -> Option<String> {
    value.as_deref().and_then(super::ip_address)
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

    fn reads(&self) -> &'static Reads {
        &READS
    }

    fn normalise(&self, record: &Value) -> Result<Vec<Event>, FieldError> {
        build(Fields::from_value(record)?)
    }

    fn normalise_json(&self, text: &str) -> Option<Vec<Event>> {
        build(wire::fields(text)?).ok()
    }
}

/// The one event a LogEvent is.
fn build(f: Fields<'_>) -> Result<Vec<Event>, FieldError> {
    let time = parse_time("/published", f.published.to_string())?;
    let event_type = f.event_type.as_ref();
    let result = f.result.as_deref();
    let (meaning, subject_of) = classify(event_type, f.changed_attributes.as_deref());
    let kind = with_outcome(meaning, is_sign_in(event_type), result);
    // Not filtered for "unknown": a failed sign-in names what was typed, or "unknown".
    let actor = f.actor.as_deref().map(str::to_string);
    let target_user = f.target("User").and_then(|t| real(&t.alternate_id));
    // A sign-in Okta performs on another IdP's word (inbound federation,
    // `user.authentication.auth_via_IDP`) has Okta's system principal as its actor: the
    // person signing in is the target User.
    let signed_in_by_okta = is_sign_in(event_type)
        && target_user.is_some()
        && actor
            .as_deref()
            .is_some_and(|a| a.eq_ignore_ascii_case(SYSTEM_PRINCIPAL));
    let subject = match subject_of {
        Subject::TargetUser => target_user.clone().or_else(|| actor.clone()),
        Subject::Actor if signed_in_by_okta => target_user.clone(),
        Subject::Actor => actor.clone(),
    };
    // A change done to a user that names no target user (no User target, or one with no
    // usable `alternateId`) cannot say whose access changed: it is kept as `other` about
    // the actor, never recorded as the admin's own deactivation or session clear. Token
    // events keep their kind: the rules match a revocation to its token by id, whoever it
    // names; and a logout names no target because it is the user's own.
    let changes_a_user = matches!(
        kind,
        EventKind::AccountCreated
            | EventKind::AccountDeactivated
            | EventKind::AccountSuspended
            | EventKind::AccountDeleted
            | EventKind::AccountReactivated
            | EventKind::AccountUpdated
            | EventKind::ExpirySet
            | EventKind::SessionRevoked
            | EventKind::GroupGranted
            | EventKind::GroupRemoved
    );
    let kind = if subject_of == Subject::TargetUser && target_user.is_none() && changes_a_user {
        EventKind::Other
    } else {
        kind
    };
    // A session someone else ended is a revocation of the target's session.
    let kind = if kind == EventKind::SessionEnded
        && event_type == "user.session.end"
        && target_user.as_deref().is_some_and(|t| {
            actor
                .as_deref()
                .is_none_or(|a| super::norm_account(a) != super::norm_account(t))
        }) {
        EventKind::SessionRevoked
    } else {
        kind
    };
    // A record naming nobody (hand-trimmed exports) is well-formed: kept as `other`, but
    // a token event keeps its kind, as above: the rules match it to its token by id.
    let (kind, subject) = match subject {
        Some(s) => (kind, s),
        None if matches!(
            kind,
            EventKind::TokenCreated | EventKind::TokenUsed | EventKind::TokenRevoked
        ) =>
        {
            (kind, NO_ACCOUNT.to_string())
        }
        None => (EventKind::Other, NO_ACCOUNT.to_string()),
    };
    let mut e = new_event("okta", Some(f.id.to_string()), kind, &subject, time);
    if subject == NO_ACCOUNT {
        e.account = None;
    }
    if (subject_of == Subject::TargetUser || signed_in_by_okta)
        && actor.as_deref() != Some(subject.as_str())
    {
        e.actor = actor;
    }
    let app = f
        .target("AppInstance")
        .and_then(|t| real(&t.display_name).or_else(|| real(&t.alternate_id)));
    let group = f
        .target("UserGroup")
        .and_then(|g| real(&g.display_name))
        .or_else(|| {
            // An app assignment grants the app: it is the group.
            matches!(kind, EventKind::GroupGranted | EventKind::GroupRemoved)
                .then(|| app.clone())
                .flatten()
        });
    put(&mut e, "type", Some(event_type.to_string()));
    put(&mut e, "outcome", result.map(str::to_string));
    put(&mut e, "reason", real(&f.reason));
    put(&mut e, "ip", client_ip(&f.ip));
    put(&mut e, "zone", real(&f.zone));
    put(&mut e, "session_id", real(&f.session_id));
    put(&mut e, "app", app);
    if event_type.starts_with("user.session.impersonation.") {
        put(
            &mut e,
            "impersonated",
            target_user.filter(|t| *t != subject),
        );
    }
    if let Some(token) = f
        .target("Token")
        .or_else(|| f.target("access_token"))
        .or_else(|| f.target("refresh_token"))
    {
        // A short-lived access or ID token is no credential of its own: its id is kept
        // apart, or each hourly grant would count as another credential used.
        let credential = !(e.kind == EventKind::TokenUsed && event_type.starts_with("app.oauth2."));
        let (id_key, name_key) = if credential {
            ("token_id", "token_name")
        } else {
            ("grant_token_id", "grant_token_name")
        };
        put(&mut e, id_key, real(&token.id));
        put(&mut e, name_key, real(&token.display_name));
    }
    // An action taken through the API with an SSWS token names it in the transaction
    // ("this event was the result of an action performed through an API using the token
    // identified by ..."): the caller's credential, the id `system.api_token.*` targets.
    // Kept apart from `token_id`, which is the credential an event is about.
    put(
        &mut e,
        "caller_token_id",
        f.caller_token.as_deref().map(str::to_string),
    );
    put(&mut e, "group", group);
    Ok(vec![e])
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

    /// An event hook delivery saved to a file reads like a page of the System Log API, and
    /// `auto` knows it: its `data.events` are the same LogEvent objects.
    #[test]
    fn an_event_hook_delivery_saved_to_a_file_reads_as_its_events() {
        let body = format!(
            r#"{{"eventType":"com.okta.event_hook","eventTypeVersion":"1.0","cloudEventsVersion":"0.1","source":"https://acme.okta.example/api/v1/eventHooks/who1","eventId":"h1","data":{{"events":[{DEACTIVATE},{LOGIN_FAIL}]}},"eventTime":"2026-03-15T08:00:01.000Z","contentType":"application/json"}}"#
        );
        let got = normalise_all(&Okta, body.as_bytes());
        let kinds: Vec<EventKind> = got.iter().map(|r| r.as_ref().unwrap()[0].kind).collect();
        assert_eq!(
            kinds,
            [EventKind::AccountDeactivated, EventKind::AuthFailed]
        );
        let mut first = None;
        crate::sources::framing::for_each_record(
            body.as_bytes(),
            &crate::sources::framing::Reads::All,
            &mut |r| {
                first.get_or_insert(r.value.map_err(|e| e.to_string()));
                Ok(())
            },
        )
        .unwrap();
        let first = first.unwrap().unwrap();
        let detected: Vec<&str> =
            crate::sources::detect(&first, crate::sources::framing::Content::JsonDocument)
                .iter()
                .map(|s| s.name())
                .collect();
        assert_eq!(detected, ["okta"]);
    }

    #[test]
    fn panther_style_timestamps_are_refused_with_the_field() {
        let bad = LOGIN_FAIL.replace("2026-03-15T08:00:00.000Z", "2026-03-15 08:00:00.000");
        let got = normalise_all(&Okta, bad.as_bytes());
        let err = got[0].as_ref().unwrap_err();
        assert!(err.starts_with("1: field /published:"), "{err}");
    }

    /// department-of-veterans-affairs/vets-api (CC0) spec data: a revocation by a public
    /// client app whose actor has no `alternateId` names nobody, and stays a revocation
    /// with its token id.
    #[test]
    fn a_revocation_naming_nobody_keeps_its_kind() {
        let record = r#"{"uuid":"r1","published":"2026-03-20T10:00:00.000Z","eventType":"app.oauth2.as.token.revoke","outcome":{"result":"SUCCESS"},"actor":{"id":"0oa1","type":"PublicClientApp","displayName":"test"},"target":[{"id":"tok-1","type":"access_token","displayName":"Access Token"}]}"#;
        let got = normalise_all(&Okta, record.as_bytes());
        let e = &got[0].as_ref().unwrap()[0];
        assert_eq!(e.kind, EventKind::TokenRevoked);
        assert_eq!(e.subject, NO_ACCOUNT);
        assert!(e.attrs.contains_key("token_id"), "{:?}", e.attrs);
    }

    /// SEKOIA-IO intake-formats' `test_auth_via_idp.json`: Okta's system principal signs
    /// in the target User on a SAML IdP's assertion; the sign-in is the user's.
    #[test]
    fn a_federated_sign_in_is_the_target_users() {
        let record = r#"{"uuid":"f1","published":"2026-03-20T10:00:00.000Z","eventType":"user.authentication.auth_via_IDP","outcome":{"result":"SUCCESS"},"actor":{"alternateId":"system@okta.com","type":"SystemPrincipal"},"target":[{"type":"AppInstance","displayName":"SAML 2.0 IdP"},{"type":"User","alternateId":"john.doe@example.org"}],"authenticationContext":{"authenticationProvider":"FEDERATION","credentialType":"ASSERTION"}}"#;
        for (result, kind) in [
            ("SUCCESS", EventKind::AuthSucceeded),
            ("FAILURE", EventKind::AuthFailed),
        ] {
            let got = normalise_all(&Okta, record.replace("SUCCESS", result).as_bytes());
            let e = &got[0].as_ref().unwrap()[0];
            assert_eq!((e.kind, e.subject.as_str()), (kind, "john.doe@example.org"));
            assert_eq!(e.actor.as_deref(), Some("system@okta.com"));
        }
    }

    /// One LogEvent: type, result, actor, targets (JSON array text), client (JSON).
    fn rec(event_type: &str, result: &str, actor: &str, targets: &str, client: &str) -> Event {
        let outcome = if result == "null" {
            "null".to_string()
        } else {
            format!(r#"{{"result":"{result}"}}"#)
        };
        let text = format!(
            r#"{{"uuid":"u1","published":"2026-03-20T10:00:00.000Z","eventType":"{event_type}","outcome":{outcome},"actor":{{"alternateId":"{actor}","type":"User"}},"target":{targets},"client":{client}}}"#
        );
        let v: Value = serde_json::from_str(&text).unwrap();
        let mut events = Okta.normalise(&v).unwrap();
        assert_eq!(events.len(), 1);
        events.remove(0)
    }

    /// A change done to a user that names no usable target user is not the admin's own:
    /// `other` about the actor. A user's own logout, which names no target, stays their
    /// session ending, and a token revocation stays one (matched to its token by id).
    #[test]
    fn a_change_to_no_named_user_is_never_the_actors_own() {
        for (event_type, targets) in [
            ("user.lifecycle.deactivate", "null"),
            ("user.lifecycle.deactivate", "[]"),
            (
                "user.lifecycle.suspend",
                r#"[{"type":"User","alternateId":"unknown"}]"#,
            ),
            (
                "user.session.clear",
                r#"[{"type":"User","alternateId":"unknown"}]"#,
            ),
            (
                "group.user_membership.remove",
                r#"[{"type":"UserGroup","displayName":"contractors"}]"#,
            ),
        ] {
            let e = rec(
                event_type,
                "SUCCESS",
                "okta.trainer@okta.com",
                targets,
                NO_CLIENT,
            );
            assert_eq!(
                (e.kind, e.subject.as_str()),
                (EventKind::Other, "okta.trainer@okta.com"),
                "{event_type} {targets}"
            );
        }
        let e = rec(
            "app.oauth2.as.token.revoke",
            "SUCCESS",
            "0oa5client",
            r#"[{"type":"User","id":"abcd123"},{"type":"refresh_token","id":"tok-9"}]"#,
            NO_CLIENT,
        );
        assert_eq!(
            (e.kind, e.attrs["token_id"].as_str()),
            (EventKind::TokenRevoked, "tok-9")
        );
        let e = rec(
            "user.session.end",
            "SUCCESS",
            "jose.nunez@acme.example",
            "null",
            NO_CLIENT,
        );
        assert_eq!(
            (e.kind, e.subject.as_str()),
            (EventKind::SessionEnded, "jose.nunez@acme.example")
        );
        let e = rec(
            "user.lifecycle.deactivate",
            "SUCCESS",
            "okta.trainer@okta.com",
            JOSE,
            NO_CLIENT,
        );
        assert_eq!(
            (e.kind, e.subject.as_str()),
            (EventKind::AccountDeactivated, "jose.nunez@acme.example")
        );
    }

    const JOSE: &str = r#"[{"type":"User","alternateId":"jose.nunez@acme.example"},{"type":"UserGroup","displayName":"contractors"}]"#;
    const APP: &str = r#"[{"type":"AppInstance","alternateId":"AWS Production","displayName":"AWS IAM Identity Center"},{"type":"AppUser","alternateId":"jose"}]"#;
    const NO_CLIENT: &str = "null";

    /// An access-token grant keeps its token apart: it is no credential (an hourly grant
    /// would otherwise be one more credential each time); a refresh token is one.
    #[test]
    fn only_refresh_token_grants_name_a_credential() {
        let targets = |kind: &str| {
            format!(
                r#"[{{"type":"User","alternateId":"jose.nunez@acme.example"}},{{"type":"{kind}","id":"tok-1","displayName":"Access Token"}}]"#
            )
        };
        let access = rec(
            "app.oauth2.as.token.grant.access_token",
            "SUCCESS",
            "0oa1client",
            &targets("access_token"),
            NO_CLIENT,
        );
        assert_eq!(access.kind, EventKind::TokenUsed);
        assert_eq!(access.subject, "jose.nunez@acme.example");
        assert!(!access.attrs.contains_key("token_id"), "{:?}", access.attrs);
        assert_eq!(access.attrs["grant_token_id"], "tok-1");
        let refresh = rec(
            "app.oauth2.as.token.grant.refresh_token",
            "SUCCESS",
            "0oa1client",
            &targets("refresh_token"),
            NO_CLIENT,
        );
        assert_eq!(refresh.kind, EventKind::TokenCreated);
        assert_eq!(refresh.attrs["token_id"], "tok-1");
    }

    #[test]
    fn case1_a_failed_or_denied_operation_is_never_the_successful_kind() {
        for (t, result) in [
            ("group.user_membership.add", "FAILURE"),
            ("group.user_membership.remove", "SKIPPED"),
            ("user.account.privilege.grant", "DENY"),
            ("user.lifecycle.deactivate", "FAILURE"),
            ("user.lifecycle.suspend", "UNKNOWN"),
            ("user.session.clear", "FAILURE"),
            ("system.api_token.create", "FAILURE"),
            ("system.api_token.revoke", "DENY"),
            ("app.oauth2.as.token.revoke", "FAILURE"),
            ("application.user_membership.add", "FAILURE"),
        ] {
            let e = rec(t, result, "li.wei@acme.example", JOSE, NO_CLIENT);
            assert_eq!(e.kind, EventKind::Other, "{t} {result}");
            assert_eq!(e.attrs["outcome"], result);
            assert_eq!(e.attrs["type"], t);
        }
        let ok = rec(
            "group.user_membership.add",
            "SUCCESS",
            "li.wei@acme.example",
            JOSE,
            NO_CLIENT,
        );
        assert_eq!(ok.kind, EventKind::GroupGranted);
        assert_eq!(ok.subject, "jose.nunez@acme.example");
        assert_eq!(ok.actor.as_deref(), Some("li.wei@acme.example"));
        assert_eq!(ok.attrs["group"], "contractors");
        assert_eq!(
            with_outcome(EventKind::AccountDeactivated, false, Some("ALLOW")),
            EventKind::AccountDeactivated
        );
        assert_eq!(
            with_outcome(EventKind::AccountDeactivated, false, None),
            EventKind::Other
        );
    }

    #[test]
    fn case2_sso_and_admin_app_access_are_use_of_access_and_failed_sso_is_auth_failed() {
        let sso = rec(
            "user.authentication.sso",
            "SUCCESS",
            "jose.nunez@acme.example",
            APP,
            NO_CLIENT,
        );
        assert_eq!(sso.kind, EventKind::AccessUsed);
        assert_eq!(sso.subject, "jose.nunez@acme.example");
        assert_eq!(sso.actor, None);
        assert_eq!(sso.attrs["app"], "AWS IAM Identity Center");
        let failed = rec(
            "user.authentication.sso",
            "FAILURE",
            "jose.nunez@acme.example",
            APP,
            NO_CLIENT,
        );
        assert_eq!(failed.kind, EventKind::AuthFailed);
        let admin = rec(
            "user.session.access_admin_app",
            "SUCCESS",
            "jose.nunez@acme.example",
            "[]",
            NO_CLIENT,
        );
        assert_eq!(admin.kind, EventKind::AccessUsed);
        let mfa = rec(
            "user.authentication.auth_via_mfa",
            "SUCCESS",
            "jose.nunez@acme.example",
            "[]",
            NO_CLIENT,
        );
        assert_eq!(mfa.kind, EventKind::AuthSucceeded);
        let mfa_bad = rec(
            "user.authentication.auth_via_mfa",
            "FAILURE",
            "jose.nunez@acme.example",
            "[]",
            NO_CLIENT,
        );
        assert_eq!(mfa_bad.kind, EventKind::AuthFailed);
    }

    #[test]
    fn case3_app_assignment_and_provisioning_are_about_the_target_user() {
        let targets = r#"[{"type":"AppInstance","displayName":"Salesforce"},{"type":"User","alternateId":"Jose.Nunez@acme.example"}]"#;
        let add = rec(
            "application.user_membership.add",
            "SUCCESS",
            "li.wei@acme.example",
            targets,
            NO_CLIENT,
        );
        assert_eq!(add.kind, EventKind::GroupGranted);
        assert_eq!(add.subject, "jose.nunez@acme.example");
        assert_eq!(add.actor.as_deref(), Some("li.wei@acme.example"));
        assert_eq!(add.attrs["group"], "Salesforce");
        let remove = rec(
            "application.user_membership.remove",
            "SUCCESS",
            "li.wei@acme.example",
            targets,
            NO_CLIENT,
        );
        assert_eq!(remove.kind, EventKind::GroupRemoved);
        for t in [
            "app.user_management.push_new_user_success",
            "application.provision.user.deactivate",
        ] {
            let e = rec(t, "SUCCESS", "system@okta.com", targets, NO_CLIENT);
            assert_eq!(e.kind, EventKind::Other, "{t}");
            assert_eq!(e.subject, "jose.nunez@acme.example", "{t}");
            assert_eq!(e.actor.as_deref(), Some("system@okta.com"));
        }
    }

    #[test]
    fn case4_null_ish_ip_and_zone_are_not_stored() {
        let e = rec(
            "user.session.start",
            "SUCCESS",
            "jose.nunez@acme.example",
            "[]",
            r#"{"ipAddress":"null","zone":"null"}"#,
        );
        assert!(!e.attrs.contains_key("ip"), "{:?}", e.attrs);
        assert!(!e.attrs.contains_key("zone"), "{:?}", e.attrs);
        let e = rec(
            "user.session.start",
            "SUCCESS",
            "jose.nunez@acme.example",
            "[]",
            r#"{"ipAddress":"unknown","zone":"Office"}"#,
        );
        assert!(!e.attrs.contains_key("ip"));
        assert_eq!(e.attrs["zone"], "Office");
        let e = rec(
            "user.session.start",
            "SUCCESS",
            "jose.nunez@acme.example",
            "[]",
            r#"{"ipAddress":"2001:db8::7"}"#,
        );
        assert_eq!(e.attrs["ip"], "2001:db8::7");
    }

    #[test]
    fn case5_null_outcome_and_null_target_are_kept() {
        let e = rec(
            "core.concurrency.org.limit.violation",
            "null",
            "test.user@test.com",
            "null",
            NO_CLIENT,
        );
        assert_eq!(e.kind, EventKind::Other);
        assert!(!e.attrs.contains_key("outcome"));
        // A lifecycle event with no target falls back to the actor; null outcome is not success.
        let e = rec(
            "system.mfa.factor.deactivate",
            "null",
            "homer@springfield.gov",
            "null",
            NO_CLIENT,
        );
        assert_eq!(e.kind, EventKind::Other);
        assert_eq!(e.subject, "homer@springfield.gov");
    }

    #[test]
    fn case6_a_challenge_is_not_a_failed_credential() {
        for t in [
            "user.session.start",
            "user.authentication.sso",
            "user.authentication.auth_via_mfa",
        ] {
            let e = rec(t, "CHALLENGE", "jose.nunez@acme.example", "[]", NO_CLIENT);
            assert_eq!(e.kind, EventKind::Other, "{t}");
            assert_eq!(e.attrs["outcome"], "CHALLENGE");
            assert_eq!(e.attrs["type"], t);
        }
        let deny = rec(
            "user.session.start",
            "DENY",
            "jose.nunez@acme.example",
            "[]",
            NO_CLIENT,
        );
        assert_eq!(deny.kind, EventKind::Other);
    }

    #[test]
    fn case7_offboarding_event_types() {
        use EventKind::*;
        let admin = "li.wei@acme.example";
        for (t, kind, about_target) in [
            ("user.lifecycle.activate", AccountCreated, true),
            ("user.lifecycle.create", AccountCreated, true),
            ("user.lifecycle.deactivate", AccountDeactivated, true),
            ("user.lifecycle.suspend", AccountSuspended, true),
            ("user.lifecycle.unsuspend", AccountReactivated, true),
            ("user.lifecycle.reactivate", AccountReactivated, true),
            ("user.lifecycle.delete.initiated", AccountDeleted, true),
            ("user.lifecycle.delete.completed", AccountDeleted, true),
            ("user.account.reset_password", AccountUpdated, true),
            ("user.account.update_password", AccountUpdated, true),
            ("user.mfa.factor.reset_all", AccountUpdated, true),
            ("user.mfa.factor.deactivate", AccountUpdated, true),
            ("system.mfa.factor.deactivate", AccountUpdated, true),
            ("user.account.lock", Other, true),
            ("user.session.clear", SessionRevoked, true),
            // An admin or a policy ending Jose's sessions: revoked, about him.
            ("user.session.end", SessionRevoked, true),
            ("user.authentication.universal_logout", SessionRevoked, true),
            // okta-developer-docs' event catalogue: an admin triggering Universal Logout.
            (
                "user.authentication.universal_logout.scheduled",
                SessionRevoked,
                true,
            ),
            ("user.session.expire", SessionEnded, false),
            ("user.authentication.slo", SessionEnded, false),
            ("system.api_token.create", TokenCreated, false),
            ("system.api_token.revoke", TokenRevoked, false),
            // An OAuth grant or revocation names the client app as actor and the person
            // as the target User; only a refresh token is a lasting credential.
            (
                "app.oauth2.as.token.grant.refresh_token",
                TokenCreated,
                true,
            ),
            ("app.oauth2.as.token.grant.access_token", TokenUsed, true),
            ("app.oauth2.as.token.grant.id_token", TokenUsed, true),
            ("app.oauth2.token.revoke", TokenRevoked, true),
            ("app.oauth2.as.consent.revoke", TokenRevoked, true),
            ("user.session.impersonation.initiate", AccessUsed, false),
            ("user.session.impersonation.end", SessionEnded, false),
            ("user.session.impersonation.grant", Other, false),
        ] {
            let e = rec(t, "SUCCESS", admin, JOSE, NO_CLIENT);
            assert_eq!(e.kind, kind, "{t}");
            let want = if about_target {
                "jose.nunez@acme.example"
            } else {
                admin
            };
            assert_eq!(e.subject, want, "{t}");
        }
        let imp = rec(
            "user.session.impersonation.initiate",
            "SUCCESS",
            admin,
            JOSE,
            NO_CLIENT,
        );
        assert_eq!(imp.attrs["impersonated"], "jose.nunez@acme.example");
        // Jose logging himself out (no target, or himself as target) ends his session.
        for jose in ["jose.nunez@acme.example", "Jose.Nunez@acme.example"] {
            for targets in ["null", JOSE] {
                let out = rec("user.session.end", "SUCCESS", jose, targets, NO_CLIENT);
                assert_eq!(out.kind, SessionEnded, "{jose} {targets}");
                assert_eq!(out.subject.to_lowercase(), "jose.nunez@acme.example");
            }
        }
        // A failed universal logout is no failed sign-in; one Okta itself schedules is
        // still the target's revocation, never a sign-in by Okta's word.
        for logout in [
            "user.authentication.universal_logout",
            "user.authentication.universal_logout.scheduled",
        ] {
            let failed = rec(logout, "FAILURE", admin, JOSE, NO_CLIENT);
            assert_eq!(failed.kind, Other, "{logout}");
            let by_okta = rec(logout, "SUCCESS", "system@okta.com", JOSE, NO_CLIENT);
            assert_eq!(by_okta.kind, SessionRevoked, "{logout}");
            assert_eq!(by_okta.subject.to_lowercase(), "jose.nunez@acme.example");
        }
    }

    /// Event types of each kind of subject and outcome handling.
    const EVENT_TYPES: &[&str] = &[
        "user.session.start",
        "user.account.update_profile",
        "group.user_membership.add",
        "user.session.impersonation.initiate",
        "system.api_token.create",
        "user.authentication.sso",
        "application.user_membership.add",
        "user.lifecycle.deactivate",
        "app.oauth2.as.token.revoke",
        "policy.evaluate_sign_on",
    ];

    /// Any LogEvent-shaped record, fields of any JSON type or absent.
    fn any_log_event() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        use serde_json::json;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            (-1e9f64..1e9).prop_map(Value::from),
            prop::sample::select(vec![
                "SUCCESS",
                "FAILURE",
                "ALLOW",
                "null",
                "",
                " User ",
                "AppInstance",
                "UserGroup",
                "Token",
                "jose@acme.example",
                "203.0.113.9",
                "endDate",
                "user.session.start",
                "user.account.update_profile",
                "user.session.impersonation.initiate",
                "2026-03-20T10:00:00.000Z",
            ])
            .prop_map(Value::from),
        ];
        let keys = prop::sample::select(vec![
            "uuid",
            "published",
            "eventType",
            "outcome",
            "result",
            "reason",
            "actor",
            "alternateId",
            "displayName",
            "target",
            "type",
            "id",
            "client",
            "ipAddress",
            "zone",
            "authenticationContext",
            "externalSessionId",
            "debugContext",
            "debugData",
            "changedAttributes",
            "severity",
            "request",
        ]);
        let value = leaf.prop_recursive(4, 48, 6, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::vec((keys.clone(), inner), 0..6).prop_map(|kv| Value::Object(
                    kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
                )),
            ]
        });
        (
            prop::sample::select(EVENT_TYPES),
            prop::collection::vec(
                (
                    prop::sample::select(vec![
                        "outcome",
                        "actor",
                        "target",
                        "client",
                        "authenticationContext",
                        "debugContext",
                        "request",
                        "uuid",
                    ]),
                    value,
                ),
                0..7,
            ),
        )
            .prop_map(|(event_type, fields)| {
                let mut record = json!({
                    "uuid": "u1",
                    "published": "2026-03-20T10:00:00.000Z",
                    "eventType": event_type,
                });
                for (k, v) in fields {
                    record[k] = v;
                }
                record
            })
    }

    /// A LogEvent as Okta sends them: every object where Okta puts one, strings with
    /// escapes and blanks, numbers where a shipper may write them, `null`s.
    fn usual_log_event() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        use serde_json::json;
        let text = prop_oneof![
            Just(Value::Null),
            prop::sample::select(vec![
                "SUCCESS",
                "FAILURE",
                "DENY",
                "null",
                "",
                "  ",
                "User",
                "AppInstance",
                "UserGroup",
                "Token",
                "access_token",
                "Jose.Nunez@acme.example",
                "li.wei@acme.example",
                "203.0.113.9",
                "::1",
                "unknown",
                "endDate, title",
                "quote \" and \\ and \u{e9}",
            ])
            .prop_map(Value::from),
            any::<u32>().prop_map(Value::from),
            any::<bool>().prop_map(Value::from),
        ];
        let target = (text.clone(), text.clone(), text.clone(), text.clone()).prop_map(
            |(kind, id, alternate, display)| {
                json!({"type": kind, "id": id, "alternateId": alternate, "displayName": display})
            },
        );
        let event_type = prop::sample::select(EVENT_TYPES);
        (
            event_type,
            prop::collection::vec(text.clone(), 9),
            prop::collection::vec(target, 0..4),
            any::<bool>(),
        )
            .prop_map(|(event_type, t, targets, with_objects)| {
                let mut record = json!({
                    "uuid": "7563e250-9929-447e-9e82-86c9fd0f0ba0",
                    "published": "2026-03-20T10:00:00.000+01:00",
                    "eventType": event_type,
                    "severity": "INFO",
                    "target": targets,
                    "request": {"ipChain": [{"ip": "203.0.113.9"}]},
                });
                if with_objects {
                    record["outcome"] = json!({"result": t[0], "reason": t[1]});
                    record["actor"] = json!({"alternateId": t[2], "type": "User"});
                    record["client"] = json!({"ipAddress": t[3], "zone": t[4]});
                    record["authenticationContext"] = json!({"externalSessionId": t[5]});
                    record["debugContext"] =
                        json!({"debugData": {"changedAttributes": t[6], "other": t[7]}});
                    record["transaction"] =
                        json!({"type": "WEB", "id": "W1", "detail": {"requestApiTokenId": t[8]}});
                } else {
                    for key in ["outcome", "actor", "client", "debugContext", "transaction"] {
                        record[key] = Value::Null;
                    }
                }
                record
            })
    }

    /// elastic/beats' Okta module test log (a `user.session.start` through the API): the
    /// SSWS token an action was taken with is the caller's credential, kept apart from the
    /// credential an event is about, by both parsers.
    #[test]
    fn the_api_token_an_action_was_taken_with_is_kept() {
        let text = r#"{"uuid":"3aeede38-4f67-11ea-abd3-1f5d113f2546","published":"2020-02-14T20:18:57.718Z","eventType":"user.session.start","actor":{"id":"00u1abvz4pYqdLfXX1d7","type":"User","alternateId":"test@test.com","displayName":"xxxxxx"},"client":{"ipAddress":"108.255.197.247","zone":"null"},"outcome":{"result":"SUCCESS"},"authenticationContext":{"externalSessionId":"102bZDNFfWaQSyEZQuDgWt-uQ"},"transaction":{"type":"WEB","id":"XkcAsWb8WjwDP76xh@1v8wAABp0","detail":{"requestApiTokenId":"00T94e3cn9kSEO3c51s5"}}}"#;
        let record: Value = serde_json::from_str(text).unwrap();
        let by_value = Okta.normalise(&record).unwrap();
        assert_eq!(Okta.normalise_json(text), Some(by_value.clone()));
        let e = &by_value[0];
        assert_eq!(e.kind, EventKind::AuthSucceeded);
        assert_eq!(e.attrs["caller_token_id"], "00T94e3cn9kSEO3c51s5");
        assert!(!e.attrs.contains_key("token_id"));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
        /// What framing keeps of a record (`READS`) is all `normalise` reads: the events
        /// from the pruned value are the events from the whole one.
        #[test]
        fn normalise_reads_nothing_that_reads_leaves_out(record in any_log_event()) {
            let text = record.to_string();
            let pruned = super::super::framing::parse_record(&text, Okta.reads()).unwrap();
            proptest::prop_assert_eq!(Okta.normalise(&pruned), Okta.normalise(&record));
        }

        /// The typed parser gives what the `Value` way gives, whenever it answers.
        #[test]
        fn the_typed_parser_agrees_with_the_value_way(record in any_log_event()) {
            let text = record.to_string();
            if let Some(events) = Okta.normalise_json(&text) {
                proptest::prop_assert_eq!(Ok(events), Okta.normalise(&record));
            }
        }

        /// ...and it answers for every LogEvent of the usual shape.
        #[test]
        fn the_typed_parser_reads_every_usual_log_event(record in usual_log_event()) {
            let text = record.to_string();
            let typed = Okta.normalise_json(&text);
            proptest::prop_assert!(typed.is_some(), "{}", text);
            proptest::prop_assert_eq!(typed.map(Ok), Some(Okta.normalise(&record)));
        }
    }
}
