//! Google Workspace Reports API `activities.list` (`GET
//! /admin/reports/v1/activity/users/all/applications/{login|admin|token}`): a
//! `{"kind":"admin#reports#activities","items":[...]}` page whose items framing hands us one by
//! one. One activity may carry several `events[]`; each becomes one event.
//!
//! Fields used (Activity resource): `id.time` (RFC 3339), `id.uniqueQualifier`,
//! `id.applicationName`, `actor.email`, `ipAddress`, `events[].type`, `events[].name`,
//! `events[].parameters[]` (`name` with `value`, `intValue`, `boolValue` or `multiValue`),
//! `events[].status` (an event whose `eventStatus` is FAILED or SKIPPED did not happen: it
//! is `other` with `attrs.outcome` and `attrs.error_code`, a failed sign-in excepted).
//! `source_id` is `<applicationName>:<id.time>:<uniqueQualifier>:<event index>`: Google
//! documents `uniqueQualifier` as unique only among activities of the same time, and the
//! index tells the events of one activity apart. A record a log shipper split to one event
//! (Splunk's add-on for Google Workspace writes `event`; Elastic's collector writes `events`
//! as an object) is read as that event; having no index, its id ends in the event's name
//! and a BLAKE3 prefix of the whole record's canonical JSON, so that one id always means
//! one content. Google gives events no id of their own, so an activity read both from an
//! API page and as split records is stored twice, as are copies of one event written by
//! two shippers with different wrappers; two identical events of one activity, split,
//! are one.
//!
//! Docs: developers.google.com/workspace/admin/reports/v1/reference/activities/list,
//! .../appendix/activity/login (login_success, login_failure with `login_failure_type`,
//! login_challenge with `login_challenge_status`, logout, account_disabled_* with
//! `affected_email_address`), .../appendix/activity/admin-user-settings (CREATE_USER,
//! SUSPEND_USER, UNSUSPEND_USER, DELETE_USER, UNDELETE_USER, GRANT/REVOKE_ADMIN_PRIVILEGE,
//! ASSIGN/UNASSIGN_ROLE, REVOKE_3LO_TOKEN, REVOKE_3LO_DEVICE_TOKENS, REVOKE_ASP,
//! RESET_SIGNIN_COOKIES, all with `USER_EMAIL`), .../admin-group-settings (ADD/REMOVE_GROUP_MEMBER
//! with `USER_EMAIL`, `GROUP_EMAIL`), .../appendix/activity/token (authorize, revoke, activity
//! with `client_id`, `app_name`).
//!
//! Subjects: admin events are about the `USER_EMAIL` parameter (required for the kinds a rule
//! reads; the admin is the actor); login, saml and token events are about `actor.email`,
//! except Google's account warnings: `suspicious_login`, `suspicious_login_less_secure_app`,
//! `suspicious_programmatic_login` and `account_disabled_*` name the person in
//! `affected_email_address`. `account_disabled_*` (generic, spamming, hijacked,
//! password_leak...) is `account.suspended`: Google disabled the account, so the event has
//! no `actor` (the record's `actor.email`, when present and someone else, is kept as
//! `attrs.log_actor`, never as the doer).
//!
//! Numbers or strings: `id.uniqueQualifier` is documented as a string (an int64) but
//! exports and log shippers write a JSON number; both are taken, as are `value`/`intValue`
//! parameters in either form. 2-step verification results (`login_challenge_status` on
//! `login_challenge` and `login_verification`) are matched after trimming, lower-casing and
//! dropping a final full stop: `Challenge Passed.`, `Challenge Failed.`, `passed`, `failed`.
//!
//! A person's own changes to their password, 2-step verification or recovery details
//! (application `user_accounts`) are `account.updated`, about them, as an admin's
//! `CHANGE_PASSWORD` is about `USER_EMAIL`.
//!
//! Use of access (the person used access they had; what `access-after-expiry` counts):
//! - login `login_success` → `auth.succeeded` (`login_failure` and a failed challenge →
//!   `auth.failed`);
//! - saml `login_success` (SSO into a SAML app through Google) → `access.used` with
//!   `attrs.app` (`login_failure` → `auth.failed`);
//! - token `activity` (an OAuth client called an API as the person) and `request` (a client
//!   asked for a token with its grant) → `token.used`, with `attrs.app`;
//! - drive events of type `access` (`view`, `edit`, `download`, `upload`, `rename`, `trash`...)
//!   and `acl_change` (sharing) → `access.used` by the actor, with `attrs.doc_id` and
//!   `attrs.doc_title` (.../appendix/activity/drive). An anonymous viewer (no
//!   `actor.email`) is `other`.

pub mod poll;

use serde_json::Value;

use super::framing::Content;
use super::{
    at, new_event, opt_str, put, req_id, req_str, req_time, FieldError, Role, Source, NO_ACCOUNT,
};
use crate::event::{Event, EventKind};

pub struct Google;

/// Whose account an event is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Subject {
    Actor,
    /// A parameter naming the account (required); the actor did it to them.
    Parameter(&'static str),
    /// The parameter when present, else the actor (types no rule reads).
    ParameterOrActor(&'static str),
}

/// The result of a 2-step verification challenge, however Google spelt it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Challenge {
    Passed,
    Failed,
}

fn challenge_result(status: &str) -> Option<Challenge> {
    let s = status.trim().to_lowercase();
    match s.strip_suffix('.').unwrap_or(&s).trim() {
        "challenge passed" | "passed" => Some(Challenge::Passed),
        "challenge failed" | "failed" => Some(Challenge::Failed),
        _ => None,
    }
}

fn classify(
    application: &str,
    event_type: &str,
    name: &str,
    challenge: Option<Challenge>,
) -> (EventKind, Subject) {
    use EventKind::*;
    use Subject::*;
    const USER: &str = "USER_EMAIL";
    const AFFECTED: &str = "affected_email_address";
    match (application, name) {
        ("login", "login_success") => (AuthSucceeded, Actor),
        ("login", "login_failure") => (AuthFailed, Actor),
        ("login", "login_challenge" | "login_verification")
            if challenge == Some(Challenge::Failed) =>
        {
            (AuthFailed, Actor)
        }
        ("login", "logout") => (SessionEnded, Actor),
        ("login", "user_signed_out_due_to_suspicious_session_cookie") => {
            (SessionRevoked, ParameterOrActor(AFFECTED))
        }
        ("login", n) if n.starts_with("account_disabled_") => {
            (AccountSuspended, Parameter(AFFECTED))
        }
        ("login", n) if n.starts_with("suspicious_") => (Other, ParameterOrActor(AFFECTED)),
        ("saml", "login_success") => (AccessUsed, Actor),
        ("saml", "login_failure") => (AuthFailed, Actor),
        ("admin", "CREATE_USER") => (AccountCreated, Parameter(USER)),
        ("admin", "SUSPEND_USER" | "ARCHIVE_USER") => (AccountSuspended, Parameter(USER)),
        ("admin", "UNSUSPEND_USER" | "UNDELETE_USER" | "UNARCHIVE_USER") => {
            (AccountReactivated, Parameter(USER))
        }
        ("admin", "DELETE_USER") => (AccountDeleted, Parameter(USER)),
        // A user's name, organisational unit or sign-in credentials changed by an admin
        // (the security key revoked, 2-step verification turned off).
        (
            "admin",
            "RENAME_USER"
            | "MOVE_USER_TO_ORG_UNIT"
            | "REVOKE_SECURITY_KEY"
            | "TURN_OFF_2_STEP_VERIFICATION",
        ) => (AccountUpdated, Parameter(USER)),
        // CHANGE_PASSWORD, CHANGE_FIRST_NAME, CHANGE_USER_ORGANIZATION...: the user's settings.
        ("admin", n) if event_type == "USER_SETTINGS" && n.starts_with("CHANGE_") => {
            (AccountUpdated, Parameter(USER))
        }
        ("admin", "ADD_GROUP_MEMBER" | "GRANT_ADMIN_PRIVILEGE" | "ASSIGN_ROLE") => {
            (GroupGranted, Parameter(USER))
        }
        ("admin", "REMOVE_GROUP_MEMBER" | "REVOKE_ADMIN_PRIVILEGE" | "UNASSIGN_ROLE") => {
            (GroupRemoved, Parameter(USER))
        }
        ("admin", "REVOKE_3LO_TOKEN" | "REVOKE_3LO_DEVICE_TOKENS" | "REVOKE_ASP") => {
            (TokenRevoked, Parameter(USER))
        }
        ("admin", "RESET_SIGNIN_COOKIES") => (SessionRevoked, Parameter(USER)),
        ("admin", _) => (Other, ParameterOrActor(USER)),
        // A person changing their own password, 2-step verification, recovery details or
        // Advanced Protection (.../appendix/activity/user-accounts: password_edit,
        // 2sv_enroll, 2sv_disable, recovery_*_edit, titanium_*): an update of their account.
        (
            "user_accounts",
            "password_edit"
            | "2sv_enroll"
            | "2sv_disable"
            | "recovery_email_edit"
            | "recovery_phone_edit"
            | "recovery_secret_qa_edit"
            | "titanium_enroll"
            | "titanium_unenroll",
        ) => (AccountUpdated, Actor),
        ("token", "authorize") => (TokenCreated, Actor),
        ("token", "revoke") => (TokenRevoked, Actor),
        ("token", "activity" | "request") => (TokenUsed, Actor),
        // A person viewing, editing, downloading or sharing a Drive item: their own use of
        // the access (other Drive types, such as DLP or label changes, are not).
        ("drive", _) if matches!(event_type, "access" | "acl_change") => (AccessUsed, Actor),
        _ => (Other, Actor),
    }
}

/// The id of an event a log shipper split out of its activity: the activity's id and the
/// event's name, then a BLAKE3 prefix of the whole record's canonical JSON. The ledger
/// de-duplicates on id and content, so the id must change whenever the content does: the
/// same record read twice is one entry, and two events of one activity are two.
fn split_id(
    application: &str,
    time: &str,
    qualifier: &str,
    event: &Value,
    record: &Value,
) -> String {
    let name = event.get("name").and_then(Value::as_str).unwrap_or("");
    let digest = blake3::hash(crate::ingest::canonical_json(record).as_bytes()).to_hex();
    let short = digest.as_str().get(..16).unwrap_or_default();
    format!("{application}:{time}:{qualifier}:{name}:{short}")
}

/// A parameter's value as text: `value`, `intValue`, `boolValue`, or `multiValue` joined by
/// commas.
fn parameter(event: &Value, name: &str) -> Option<String> {
    let p = event
        .get("parameters")?
        .as_array()?
        .iter()
        .find(|p| p.get("name").and_then(Value::as_str) == Some(name))?;
    opt_str(p, "/value")
        .or_else(|| opt_str(p, "/intValue"))
        .or_else(|| opt_str(p, "/boolValue"))
        .or_else(|| {
            let items: Vec<String> = at(p, "/multiValue")?
                .as_array()?
                .iter()
                .filter_map(|v| match v {
                    Value::String(s) => Some(s.clone()),
                    Value::Number(n) => Some(n.to_string()),
                    _ => None,
                })
                .collect();
            (!items.is_empty()).then(|| items.join(","))
        })
}

impl Source for Google {
    fn name(&self) -> &'static str {
        "google"
    }

    fn role(&self) -> Role {
        Role::IdentityProvider { idp: "google" }
    }

    fn description(&self) -> &'static str {
        "Google Workspace Reports API activities (login, admin, token, saml, drive, user_accounts; items[] pages, or split one event per record)"
    }

    fn sniff(&self, record: &Value, _: Content) -> bool {
        record.get("kind").and_then(Value::as_str) == Some("admin#reports#activity")
            || (record
                .pointer("/id/applicationName")
                .is_some_and(Value::is_string)
                && (record
                    .get("events")
                    .is_some_and(|e| e.is_array() || e.is_object())
                    || record.get("event").is_some_and(Value::is_object)))
    }

    fn normalise(&self, record: &Value) -> Result<Vec<Event>, FieldError> {
        if !record.is_object() {
            return Err(FieldError::new("/", "expected an activity object"));
        }
        let (occurred_at, time_text) = req_time(record, "/id/time")?;
        let application = req_str(record, "/id/applicationName")?;
        let qualifier = req_id(record, "/id/uniqueQualifier")?;
        // A log shipper that splits an activity into one record per event writes that event
        // as an object: Splunk's add-on for Google Workspace as `event`, Elastic's collector
        // as `events`. Such a record is read as an activity of that one event; its position
        // in the activity is lost, so its id names it by its content instead (`split_id`).
        let (events, split_at): (&[Value], Option<&str>) =
            match (at(record, "/events"), at(record, "/event")) {
                (Some(Value::Array(events)), _) if !events.is_empty() => (events, None),
                (Some(Value::Array(_)), _) => {
                    return Err(FieldError::new(
                        "/events",
                        "empty; expected at least one event",
                    ))
                }
                (Some(event @ Value::Object(_)), _) => {
                    (std::slice::from_ref(event), Some("/events"))
                }
                (None, Some(event @ Value::Object(_))) => {
                    (std::slice::from_ref(event), Some("/event"))
                }
                (None, _) => {
                    return Err(FieldError::new(
                        "/events",
                        "missing; expected the activity's events array, or one event as an \
                         `event` object (a Panther-flattened record has name/parameters at \
                         the top level instead)",
                    ))
                }
                (Some(other), _) => {
                    return Err(FieldError::new(
                        "/events",
                        format!(
                            "{}; expected the activity's events array, as the Reports API \
                             sends it, or one event as an object",
                            super::json_type(other)
                        ),
                    ))
                }
            };
        let actor = opt_str(record, "/actor/email");
        let ip = opt_str(record, "/ipAddress");
        let mut out = Vec::with_capacity(events.len());
        for (index, event) in events.iter().enumerate() {
            let field = |name: &str| match split_at {
                Some(at) => format!("{at}/{name}"),
                None => format!("/events/{index}/{name}"),
            };
            let name = req_str(event, "/name")
                .map_err(|e| FieldError::new(field("name"), e.problem))?
                .trim()
                .to_string();
            let event_type = opt_str(event, "/type");
            let challenge_status = parameter(event, "login_challenge_status");
            let challenge = challenge_status.as_deref().and_then(challenge_result);
            let (kind, subject_of) = classify(
                &application,
                event_type.as_deref().unwrap_or(""),
                &name,
                challenge,
            );
            let subject = match subject_of {
                Subject::Actor => actor.clone(),
                Subject::Parameter(p) => parameter(event, p),
                Subject::ParameterOrActor(p) => parameter(event, p).or_else(|| actor.clone()),
            };
            // An event may say it failed or was skipped (Reports API `events[].status`:
            // "Not all events have status"): an admin's suspension or revocation that
            // failed changed nothing, so it is never the kind it attempted.
            let status = opt_str(event, "/status/eventStatus");
            let undone = status
                .as_deref()
                .is_some_and(|s| matches!(s, "FAILED" | "SKIPPED"));
            let kind = if undone && kind != EventKind::AuthFailed {
                EventKind::Other
            } else {
                kind
            };
            // An event naming nobody it is about (hand-trimmed exports) is well-formed:
            // kept as `other`, about the actor when there is one.
            let (kind, subject) = match (subject, &actor) {
                (Some(s), _) => (kind, s),
                (None, Some(a)) => (EventKind::Other, a.clone()),
                (None, None) => (EventKind::Other, NO_ACCOUNT.to_string()),
            };
            let source_id = match split_at {
                Some(_) => split_id(&application, &time_text, &qualifier, event, record),
                None => format!("{application}:{time_text}:{qualifier}:{index}"),
            };
            let mut e = new_event(
                "google",
                Some(source_id),
                kind,
                &subject,
                (occurred_at, time_text.clone()),
            );
            if subject == NO_ACCOUNT {
                e.account = None;
            }
            let google_did_it = kind == EventKind::AccountSuspended && application == "login";
            if actor.as_deref().map(str::to_lowercase) != Some(e.subject.clone()) {
                if google_did_it {
                    // Google disabled the account; the log's actor is not the doer.
                    put(&mut e, "log_actor", actor.clone());
                } else {
                    e.actor = actor.clone();
                }
            }
            let reason = match kind {
                EventKind::AuthFailed => parameter(event, "login_failure_type")
                    .or_else(|| parameter(event, "failure_type"))
                    .or(challenge_status.clone()),
                _ => None,
            };
            let is_group = matches!(kind, EventKind::GroupGranted | EventKind::GroupRemoved);
            let is_token = matches!(
                kind,
                EventKind::TokenCreated | EventKind::TokenUsed | EventKind::TokenRevoked
            );
            let group = is_group
                .then(|| parameter(event, "GROUP_EMAIL").or_else(|| parameter(event, "ROLE_NAME")))
                .flatten();
            if application == "drive" {
                put(&mut e, "doc_id", parameter(event, "doc_id"));
                put(&mut e, "doc_title", parameter(event, "doc_title"));
            }
            let renamed = name == "RENAME_USER";
            put(&mut e, "type", Some(name));
            put(&mut e, "application", Some(application.clone()));
            put(&mut e, "event_type", event_type);
            put(&mut e, "challenge_status", challenge_status.clone());
            put(&mut e, "reason", reason);
            if undone {
                put(&mut e, "outcome", status.map(|s| s.to_lowercase()));
                put(&mut e, "error_code", opt_str(event, "/status/errorCode"));
            }
            put(&mut e, "ip", ip.clone());
            put(&mut e, "login_type", parameter(event, "login_type"));
            // A renamed user's later events name the new address: keep it, or the person
            // is lost at the rename.
            if renamed {
                put(&mut e, "new_account", parameter(event, "NEW_VALUE"));
            }
            put(&mut e, "group", group);
            put(
                &mut e,
                "app",
                parameter(event, "app_name")
                    .or_else(|| parameter(event, "APP_NAME"))
                    .or_else(|| parameter(event, "application_name")),
            );
            if is_token {
                // The OAuth client is the token's identity in both the token and admin logs.
                put(
                    &mut e,
                    "token_id",
                    parameter(event, "client_id")
                        .or_else(|| parameter(event, "APP_ID"))
                        .or_else(|| parameter(event, "ASP_ID"))
                        // REVOKE_3LO_DEVICE_TOKENS: every token of one of the user's devices.
                        .or_else(|| parameter(event, "DEVICE_ID").map(|d| format!("device:{d}"))),
                );
                put(
                    &mut e,
                    "token_name",
                    parameter(event, "app_name").or_else(|| parameter(event, "APP_NAME")),
                );
            }
            out.push(e);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::normalise_all;
    use super::*;

    const PAGE: &str = r#"{"kind":"admin#reports#activities","items":[
      {"kind":"admin#reports#activity","id":{"time":"2026-03-19T17:05:00.000Z","uniqueQualifier":"-42","applicationName":"admin","customerId":"C01"},
       "actor":{"email":"admin@acme.example","profileId":"1"},"ipAddress":"198.51.100.1",
       "events":[{"type":"USER_SETTINGS","name":"SUSPEND_USER","parameters":[{"name":"USER_EMAIL","value":"Jose.Nunez@acme.example"}]},
                 {"type":"USER_SETTINGS","name":"REVOKE_3LO_TOKEN","parameters":[{"name":"USER_EMAIL","value":"jose.nunez@acme.example"},{"name":"APP_ID","value":"123.apps"}]}]},
      {"kind":"admin#reports#activity","id":{"time":"2026-03-20T08:00:00-05:00","uniqueQualifier":"7","applicationName":"login","customerId":"C01"},
       "actor":{"email":"jose.nunez@acme.example"},
       "events":[{"type":"login","name":"login_failure","parameters":[{"name":"login_type","value":"google_password"},{"name":"login_failure_type","value":"login_failure_account_disabled"},{"name":"is_suspicious","boolValue":false}]}]}
    ]}"#;

    /// "Admin Audit: User Settings", RENAME_USER: `USER_EMAIL` the old address, `NEW_VALUE`
    /// the new one.
    #[test]
    fn a_rename_keeps_the_new_address() {
        let page = PAGE.replace(
            r#"{"type":"USER_SETTINGS","name":"SUSPEND_USER","parameters":[{"name":"USER_EMAIL","value":"Jose.Nunez@acme.example"}]}"#,
            r#"{"type":"USER_SETTINGS","name":"RENAME_USER","parameters":[{"name":"USER_EMAIL","value":"jose.nunez@acme.example"},{"name":"NEW_VALUE","value":"jose.nunez-ext@acme.example"}]}"#,
        );
        let got = normalise_all(&Google, page.as_bytes());
        let e = &got[0].as_ref().unwrap()[0];
        assert_eq!(e.kind, EventKind::AccountUpdated);
        assert_eq!(e.subject, "jose.nunez@acme.example");
        assert_eq!(e.attrs["new_account"], "jose.nunez-ext@acme.example");
    }

    #[test]
    fn one_event_per_element_with_the_user_parameter_as_subject() {
        let got = normalise_all(&Google, PAGE.as_bytes());
        let admin = got[0].as_ref().unwrap();
        assert_eq!(admin.len(), 2);
        assert_eq!(admin[0].kind, EventKind::AccountSuspended);
        assert_eq!(admin[0].subject, "jose.nunez@acme.example");
        assert_eq!(admin[0].actor.as_deref(), Some("admin@acme.example"));
        assert_eq!(
            admin[0].source_id.as_deref(),
            Some("admin:2026-03-19T17:05:00.000Z:-42:0")
        );
        assert_eq!(admin[1].kind, EventKind::TokenRevoked);
        assert_eq!(admin[1].attrs["token_id"], "123.apps");
        assert_eq!(
            admin[1].source_id.as_deref(),
            Some("admin:2026-03-19T17:05:00.000Z:-42:1")
        );
        let login = &got[1].as_ref().unwrap()[0];
        assert_eq!(login.kind, EventKind::AuthFailed);
        assert_eq!(login.actor, None);
        assert_eq!(login.attrs["reason"], "login_failure_account_disabled");
        assert_eq!(login.occurred_at.to_rfc3339(), "2026-03-20T13:00:00Z");
        assert_eq!(login.original_time, "2026-03-20T08:00:00-05:00");
    }

    #[test]
    fn flattened_records_and_zoneless_times_are_refused_with_the_field_and_nameless_events_kept() {
        let bad = r#"[
          {"kind":"admin#reports#activity","id":{"time":"2026-03-19T17:05:00Z","uniqueQualifier":"1","applicationName":"login"},"actor":{"email":"a@x"},"name":"logout","parameters":{}},
          {"kind":"admin#reports#activity","id":{"time":"2022-12-11 02:57:48.693000000","uniqueQualifier":"1","applicationName":"login"},"events":[]},
          {"id":{"time":"2026-03-19T17:05:00Z","uniqueQualifier":"1","applicationName":"admin"},"events":[{"name":"DELETE_USER","parameters":[]}]},
          {"id":{"time":"2026-03-19T17:05:00Z","uniqueQualifier":"1","applicationName":"admin"},"events":[{"type":"x"}]},
          "x",
          {"id":{"time":"2026-03-19T17:05:00Z","uniqueQualifier":"1","applicationName":"login"},"events":{"name":"logout"}},
          {"id":{"time":"2026-03-19T17:05:00Z","uniqueQualifier":"1","applicationName":"login"},"events":"logout"}]"#;
        let got = normalise_all(&Google, bad.as_bytes());
        // One event as an object (what Elastic's collector writes) is read as that event.
        let split = &got[5].as_ref().expect("a split event is read")[0];
        assert_eq!(
            (split.kind, split.subject.as_str()),
            (EventKind::Other, "(no account)")
        );
        let err = |i: usize| got[i].as_ref().unwrap_err().clone();
        assert!(
            err(0).starts_with("[0]: field /events: missing"),
            "{}",
            err(0)
        );
        assert!(err(1).starts_with("[1]: field /id/time:"), "{}", err(1));
        // A DELETE_USER naming no user and no actor is well-formed: kept, naming nobody.
        let nobody = &got[2].as_ref().unwrap()[0];
        assert_eq!(
            (
                nobody.kind,
                nobody.subject.as_str(),
                nobody.account.as_deref()
            ),
            (EventKind::Other, "(no account)", None)
        );
        assert!(
            err(3).starts_with("[3]: field /events/0/name:"),
            "{}",
            err(3)
        );
        assert!(err(4).starts_with("[4]: field /:"), "{}", err(4));
        assert!(
            err(6).starts_with("[6]: field /events: ")
                && err(6).contains("expected the activity's events array"),
            "{}",
            err(6)
        );
    }

    /// Record from logzio/logzio-api-fetcher `tests/UnitTests/responsesExamples/
    /// google_user_accounts_res_example.json` (Apache-2.0), as stored there.
    #[test]
    fn a_persons_own_password_change_is_an_update_of_their_account() {
        let record = r#"{"kind":"admin#reports#activity","id":{"time":"2024-11-26T08:22:31.072Z","uniqueQualifier":"-8355100519881361853","applicationName":"user_accounts","customerId":"C0123"},"actor":{"callerType":"USER","email":"elphaba@thropp.io","profileId":"12345"},"ipAddress":"100.100.0.0","events":[{"type":"password_change","name":"password_edit"}]}"#;
        let got = normalise_all(&Google, record.as_bytes());
        let e = &got[0].as_ref().expect("read")[0];
        assert_eq!(
            (e.kind, e.subject.as_str(), e.actor.as_deref()),
            (EventKind::AccountUpdated, "elphaba@thropp.io", None)
        );
    }

    /// Splunk's add-on for Google Workspace (sourcetype `gws:reports:login`) writes each
    /// event of an activity as its own record, under `event`. Records from
    /// splunk/security_content `data_sources/google_workspace_login_failure.yml` and
    /// `..._login_success.yml` (`example_log`, Apache-2.0), as stored there.
    #[test]
    fn an_activity_split_to_one_event_per_record_is_read_as_that_event() {
        let splunk = r#"{"kind": "admin#reports#activity", "id": {"time": "2022-10-12T01:05:35.119Z", "uniqueQualifier": "720229394436", "applicationName": "login", "customerId": "C046r85ir"}, "etag": "\"JCPRxFaiNR1s5TJ6ecIH8OpGdY4efiOYXbIB65itOzY/_lixtTooT11WXorGf6w6ElN0m0g\"", "actor": {"email": "user29@daftpunk.com", "profileId": "114679690119024644513"}, "ipAddress": "141.254.89.27", "event": {"type": "login", "name": "login_failure", "parameters": [{"name": "login_type", "value": "unknown"}, {"name": "login_challenge_method", "multiValue": ["password"]}]}}
{"kind": "admin#reports#activity", "id": {"time": "2022-10-13T20:57:35.833Z", "uniqueQualifier": "437744618349", "applicationName": "login", "customerId": "C046r85ir"}, "etag": "\"JCPRxFaiNR1s5TJ6ecIH8OpGdY4efiOYXbIB65itOzY/OgAbD-Tz8hSD1vUJWw7NLiJ5SF4\"", "actor": {"email": "user1@splunkresearch.com", "profileId": "112184723778873345717"}, "ipAddress": "45.23.129.123", "event": {"type": "login", "name": "login_success", "parameters": [{"name": "login_type", "value": "google_password"}, {"name": "login_challenge_method", "multiValue": ["password", "password", "password", "password", "password"]}, {"name": "is_suspicious", "boolValue": false}]}}
"#;
        let got = normalise_all(&Google, splunk.as_bytes());
        let one = |i: usize| got[i].as_ref().expect("read")[0].clone();
        let (failed, succeeded) = (one(0), one(1));
        assert_eq!(
            (
                failed.kind,
                failed.subject.as_str(),
                failed.occurred_at.to_string()
            ),
            (
                EventKind::AuthFailed,
                "user29@daftpunk.com",
                "2022-10-12T01:05:35.119000Z".to_string()
            )
        );
        assert_eq!(
            (succeeded.kind, succeeded.subject.as_str()),
            (EventKind::AuthSucceeded, "user1@splunkresearch.com")
        );
        // No index to tell the events of one activity apart: the id names the event and
        // its content, so the same record read twice has one id and two events two.
        let id = failed.source_id.clone().unwrap_or_default();
        assert!(
            id.starts_with("login:2022-10-12T01:05:35.119Z:720229394436:login_failure:"),
            "{id}"
        );
        let again = normalise_all(&Google, splunk.lines().next().unwrap_or("").as_bytes());
        assert_eq!(
            again[0].as_ref().expect("read")[0].source_id,
            failed.source_id
        );
        let other_event = splunk
            .lines()
            .next()
            .unwrap_or("")
            .replace(r#""value": "unknown""#, r#""value": "google_password""#);
        let other = normalise_all(&Google, other_event.as_bytes());
        assert_ne!(
            other[0].as_ref().expect("read")[0].source_id,
            failed.source_id
        );
        // The id follows the whole record's content, not its key order: a shipper that
        // writes the keys in another order gives the same id (and the ledger's content
        // check finds the same JSON), one that changes the wrapper gives another.
        let first = splunk.lines().next().unwrap_or("");
        let reordered = first
            .replacen(r#"{"kind": "admin#reports#activity", "#, "{", 1)
            .strip_suffix('}')
            .unwrap_or_default()
            .to_string()
            + r#", "kind": "admin#reports#activity"}"#;
        let got = normalise_all(&Google, reordered.as_bytes());
        assert_eq!(
            got[0].as_ref().expect("read")[0].source_id,
            failed.source_id
        );
        let rewrapped = first.replacen(r#""kind": "admin#reports#activity", "#, "", 1);
        let got = normalise_all(&Google, rewrapped.as_bytes());
        assert_ne!(
            got[0].as_ref().expect("read")[0].source_id,
            failed.source_id
        );
        // `--source auto` knows both shapes, with or without `kind`.
        for shape in [
            rewrapped.as_str(),
            r#"{"id":{"time":"2026-03-19T17:05:00Z","uniqueQualifier":"1","applicationName":"login"},"events":{"name":"logout"}}"#,
        ] {
            let record = serde_json::from_str(shape).expect("json");
            assert!(Google.sniff(&record, Content::JsonLines), "{shape}");
        }
    }

    /// The Reports API's `events[].status` (reference page "Status": eventStatus FAILED,
    /// SKIPPED, SUCCEEDED...): a suspension or revocation that failed or was skipped
    /// changed nothing; one that succeeded, or says nothing, is what it did.
    #[test]
    fn failed_or_skipped_admin_events_are_not_what_they_attempted() {
        let text = r#"{"kind":"admin#reports#activity","id":{"time":"2026-03-20T10:00:00.000Z","uniqueQualifier":"7","applicationName":"admin"},"actor":{"email":"admin@acme.example"},"events":[
            {"type":"USER_SETTINGS","name":"SUSPEND_USER","parameters":[{"name":"USER_EMAIL","value":"contractor@acme.example"}],"status":{"eventStatus":"FAILED","httpStatusCode":403,"errorCode":"PERMISSION_DENIED"}},
            {"type":"USER_SETTINGS","name":"DELETE_USER","parameters":[{"name":"USER_EMAIL","value":"contractor@acme.example"}],"status":{"eventStatus":"SKIPPED"}},
            {"type":"USER_SETTINGS","name":"SUSPEND_USER","parameters":[{"name":"USER_EMAIL","value":"contractor@acme.example"}],"status":{"eventStatus":"SUCCEEDED"}}]}"#;
        let events = Google
            .normalise(&serde_json::from_str(text).unwrap())
            .unwrap();
        let kinds: Vec<EventKind> = events.iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            [
                EventKind::Other,
                EventKind::Other,
                EventKind::AccountSuspended
            ]
        );
        assert_eq!(events[0].attrs["outcome"], "failed");
        assert_eq!(events[0].attrs["error_code"], "PERMISSION_DENIED");
        assert_eq!(events[1].attrs["outcome"], "skipped");
        assert!(!events[2].attrs.contains_key("outcome"));
        assert_eq!(events[0].subject, "contractor@acme.example");
    }

    #[test]
    fn sniff_knows_activities_and_not_github() {
        let v: Value = serde_json::json!({"kind":"admin#reports#activity","id":{},"events":[]});
        assert!(Google.sniff(&v, Content::JsonDocument));
        let gh: Value = serde_json::json!({"action":"org.add_member","actor":"a","created_at":1773903600000_i64});
        assert!(!Google.sniff(&gh, Content::JsonDocument));
    }

    /// One activity with one event: application, actor (JSON or `null`), qualifier (JSON),
    /// event type, name and parameters (JSON array text).
    fn activity(
        app: &str,
        actor: &str,
        qualifier: &str,
        ty: &str,
        name: &str,
        params: &str,
    ) -> Vec<Event> {
        let text = format!(
            r#"{{"kind":"admin#reports#activity","id":{{"time":"2026-03-20T10:00:00.000Z","uniqueQualifier":{qualifier},"applicationName":"{app}","customerId":"C01"}},"actor":{actor},"events":[{{"type":"{ty}","name":"{name}","parameters":{params}}}]}}"#
        );
        let v: Value = serde_json::from_str(&text).unwrap();
        Google.normalise(&v).unwrap()
    }

    const JOSE: &str = r#"{"callerType":"USER","email":"jose.nunez@acme.example","profileId":"1"}"#;
    const ADMIN: &str = r#"{"callerType":"USER","email":"li.wei@acme.example","profileId":"2"}"#;

    /// Drive's audit activity (Reports API appendix "Drive Audit Activity Events"; shapes as
    /// in panther-analysis's gsuite_drive rule tests, Apache-2.0): the actor's own use.
    #[test]
    fn drive_access_and_sharing_are_the_actors_use_of_access() {
        let doc = r#"[{"name":"doc_id","value":"1GkXyZ"},{"name":"doc_title","value":"Q1 plan"},{"name":"owner","value":"li.wei@acme.example"}]"#;
        for (ty, name) in [
            ("access", "view"),
            ("access", "download"),
            ("access", "edit"),
            ("acl_change", "change_user_access"),
        ] {
            let e = &activity("drive", JOSE, "\"5\"", ty, name, doc)[0];
            assert_eq!(
                (e.kind, e.subject.as_str()),
                (EventKind::AccessUsed, "jose.nunez@acme.example"),
                "{name}"
            );
            assert_eq!(e.attrs["doc_id"], "1GkXyZ");
            assert_eq!(e.attrs["doc_title"], "Q1 plan");
        }
        // Someone who opened a shared link without signing in is nobody's use.
        let anonymous = &activity("drive", r#"{"profileId":"9"}"#, "1", "access", "view", doc)[0];
        assert_eq!(anonymous.kind, EventKind::Other);
        let label = &activity(
            "drive",
            JOSE,
            "1",
            "label_change",
            "label_field_value_changed",
            doc,
        )[0];
        assert_eq!(label.kind, EventKind::Other);
    }

    #[test]
    fn case13_a_numeric_unique_qualifier_is_accepted() {
        let e = &activity("login", JOSE, "-8812004411", "login", "login_success", "[]")[0];
        assert_eq!(
            e.source_id.as_deref(),
            Some("login:2026-03-20T10:00:00.000Z:-8812004411:0")
        );
        let s = &activity(
            "login",
            JOSE,
            "\"-8812004411\"",
            "login",
            "login_success",
            "[]",
        )[0];
        assert_eq!(s.source_id, e.source_id);
        let e = &activity(
            "login",
            JOSE,
            "358068855354",
            "login",
            "login_success",
            r#"[{"name":"login_timestamp","intValue":1773997200000000}]"#,
        )[0];
        assert_eq!(e.kind, EventKind::AuthSucceeded);
        let v: Value = serde_json::from_str(
            r#"{"id":{"time":"2026-03-20T10:00:00Z","uniqueQualifier":1.5,"applicationName":"login"},"actor":{"email":"a@x"},"events":[{"name":"logout"}]}"#,
        )
        .unwrap();
        assert_eq!(
            Google.normalise(&v).unwrap_err().field,
            "/id/uniqueQualifier"
        );
    }

    #[test]
    fn case14_challenge_results_in_every_spelling() {
        for (status, kind) in [
            ("Challenge Failed.", EventKind::AuthFailed),
            ("Challenge Failed", EventKind::AuthFailed),
            ("failed", EventKind::AuthFailed),
            (" FAILED. ", EventKind::AuthFailed),
            ("Challenge Passed.", EventKind::Other),
            ("passed", EventKind::Other),
        ] {
            for name in ["login_challenge", "login_verification"] {
                let params = format!(
                    r#"[{{"name":"login_challenge_method","multiValue":["idv_preregistered_phone"]}},{{"name":"login_challenge_status","value":"{status}"}}]"#
                );
                let e = &activity("login", JOSE, "1", "login", name, &params)[0];
                assert_eq!(e.kind, kind, "{name} {status:?}");
                assert_eq!(e.attrs["challenge_status"], status);
                if kind == EventKind::AuthFailed {
                    assert_eq!(e.attrs["reason"], status);
                }
            }
        }
    }

    #[test]
    fn case15_account_warnings_are_about_the_affected_address() {
        let affected = r#"[{"name":"affected_email_address","value":"Jose.Nunez@acme.example"}]"#;
        for name in [
            "suspicious_login",
            "suspicious_login_less_secure_app",
            "suspicious_programmatic_login",
        ] {
            let e = &activity("login", ADMIN, "1", "account_warning", name, affected)[0];
            assert_eq!(e.kind, EventKind::Other, "{name}");
            assert_eq!(e.subject, "jose.nunez@acme.example", "{name}");
        }
        // Signed out for a suspicious cookie: the affected user's session was revoked.
        let name = "user_signed_out_due_to_suspicious_session_cookie";
        let e = &activity("login", ADMIN, "1", "logout", name, affected)[0];
        assert_eq!(e.kind, EventKind::SessionRevoked);
        assert_eq!(e.subject, "jose.nunez@acme.example");
        let e = &activity("login", JOSE, "1", "logout", name, "[]")[0];
        assert_eq!(
            e.subject, "jose.nunez@acme.example",
            "no parameter: the actor"
        );
        for name in [
            "account_disabled_generic",
            "account_disabled_spamming",
            "account_disabled_spamming_through_relay",
            "account_disabled_hijacked",
            "account_disabled_password_leak",
        ] {
            let e = &activity("login", ADMIN, "1", "account_warning", name, affected)[0];
            assert_eq!(e.kind, EventKind::AccountSuspended, "{name}");
            assert_eq!(e.subject, "jose.nunez@acme.example");
            assert_eq!(e.actor, None, "Google disabled it, not the log's actor");
            assert_eq!(e.attrs["log_actor"], "li.wei@acme.example");
            // No actor at all is fine too.
            let e = &activity("login", "null", "1", "account_warning", name, affected)[0];
            assert_eq!(e.kind, EventKind::AccountSuspended);
            assert!(!e.attrs.contains_key("log_actor"));
        }
    }

    #[test]
    fn case16_admin_events_are_about_user_email_and_token_events_about_the_actor() {
        use EventKind::*;
        let user = r#"[{"name":"USER_EMAIL","value":"jose.nunez@acme.example"},{"name":"GROUP_EMAIL","value":"contractors@acme.example"},{"name":"ROLE_NAME","value":"Help Desk"},{"name":"APP_ID","value":"123.apps"},{"name":"APP_NAME","value":"Acme CI"}]"#;
        for (name, ty, kind) in [
            ("CREATE_USER", "USER_SETTINGS", AccountCreated),
            ("DELETE_USER", "USER_SETTINGS", AccountDeleted),
            ("SUSPEND_USER", "USER_SETTINGS", AccountSuspended),
            ("UNSUSPEND_USER", "USER_SETTINGS", AccountReactivated),
            ("ARCHIVE_USER", "USER_SETTINGS", AccountSuspended),
            ("CHANGE_PASSWORD", "USER_SETTINGS", AccountUpdated),
            ("CHANGE_USER_ORGANIZATION", "USER_SETTINGS", AccountUpdated),
            // elastic/beats' google_workspace admin test events name these three.
            ("REVOKE_SECURITY_KEY", "USER_SETTINGS", AccountUpdated),
            (
                "TURN_OFF_2_STEP_VERIFICATION",
                "USER_SETTINGS",
                AccountUpdated,
            ),
            ("MOVE_USER_TO_ORG_UNIT", "USER_SETTINGS", AccountUpdated),
            ("CREATE_DATA_TRANSFER_REQUEST", "USER_SETTINGS", Other),
            ("ADD_GROUP_MEMBER", "GROUP_SETTINGS", GroupGranted),
            ("REMOVE_GROUP_MEMBER", "GROUP_SETTINGS", GroupRemoved),
            ("ASSIGN_ROLE", "DELEGATED_ADMIN_SETTINGS", GroupGranted),
            ("UNASSIGN_ROLE", "DELEGATED_ADMIN_SETTINGS", GroupRemoved),
            ("REVOKE_3LO_TOKEN", "USER_SETTINGS", TokenRevoked),
            ("REVOKE_ASP", "USER_SETTINGS", TokenRevoked),
            ("RESET_SIGNIN_COOKIES", "USER_SETTINGS", SessionRevoked),
        ] {
            let e = &activity("admin", ADMIN, "1", ty, name, user)[0];
            assert_eq!(e.kind, kind, "{name}");
            assert_eq!(e.subject, "jose.nunez@acme.example", "{name}");
            assert_eq!(e.actor.as_deref(), Some("li.wei@acme.example"), "{name}");
        }
        let device = r#"[{"name":"USER_EMAIL","value":"jose.nunez@acme.example"},{"name":"DEVICE_ID","value":"d-42"}]"#;
        let e = &activity(
            "admin",
            ADMIN,
            "1",
            "USER_SETTINGS",
            "REVOKE_3LO_DEVICE_TOKENS",
            device,
        )[0];
        assert_eq!(
            (e.kind, e.attrs["token_id"].as_str()),
            (TokenRevoked, "device:d-42")
        );
        let app = r#"[{"name":"client_id","value":"99.apps.googleusercontent.com"},{"name":"app_name","value":"Acme CI Uploader"}]"#;
        for (name, kind) in [
            ("authorize", TokenCreated),
            ("revoke", TokenRevoked),
            ("request", TokenUsed),
            ("activity", TokenUsed),
        ] {
            let e = &activity("token", JOSE, "1", "auth", name, app)[0];
            assert_eq!(e.kind, kind, "{name}");
            assert_eq!(e.subject, "jose.nunez@acme.example");
            assert_eq!(e.attrs["app"], "Acme CI Uploader");
            assert_eq!(e.attrs["token_id"], "99.apps.googleusercontent.com");
        }
        let saml = &activity(
            "saml",
            JOSE,
            "1",
            "login",
            "login_success",
            r#"[{"name":"application_name","value":"Jira"}]"#,
        )[0];
        assert_eq!(saml.kind, AccessUsed);
        assert_eq!(saml.attrs["app"], "Jira");
    }
}
