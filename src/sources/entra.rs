//! Microsoft Entra ID directory audit logs (`entra-audit`) and sign-in logs (`entra-signin`),
//! in the two shapes Entra hands them out:
//!
//! - Microsoft Graph: a page `{"@odata.context": ..., "value": [...]}` from
//!   `GET /auditLogs/directoryAudits` (directoryAudit resources) or `GET /auditLogs/signIns`
//!   (signIn resources). Framing takes the `value` array of one page object; the
//!   `@odata.nextLink` is ignored (save each page as its own file).
//!   <https://learn.microsoft.com/graph/api/resources/directoryaudit>,
//!   <https://learn.microsoft.com/graph/api/resources/signin>.
//! - Diagnostic settings (Event Hub, storage account): `{"records": [...]}` whose elements
//!   carry `time`, `category` (AuditLogs, SignInLogs, NonInteractiveUserSignInLogs,
//!   ServicePrincipalSignInLogs, ManagedIdentitySignInLogs), `operationName`, `resultType`,
//!   `callerIpAddress`, `correlationId` and `properties`, which holds the Graph-like object.
//!   <https://learn.microsoft.com/entra/identity/monitoring-health/howto-stream-logs-to-event-hub>.
//!   The record's time is the top-level `time`; fields are read from `properties`, so field
//!   errors name `/properties/...`.
//!
//! Fields used, audit: `id`, `activityDateTime` (Graph) or `time` (records),
//! `activityDisplayName` (records: else `operationName`), `category`, `result`,
//! `resultReason`, `correlationId`, `initiatedBy.user.{userPrincipalName,ipAddress}` /
//! `initiatedBy.app.displayName`, `targetResources[]` (`type`, `userPrincipalName`, `id`,
//! `displayName`, `modifiedProperties[].{displayName,newValue}`). The subject is the target
//! user (a deleted user's UPN comes prefixed with its object id without dashes, which is
//! removed), else the initiator; the initiator is the actor. Activities (case-insensitive):
//! Disable account → account.deactivated; Update user → account.deactivated when
//! `AccountEnabled` became false, else expiry.set when `EmployeeLeaveDateTime` changed
//! (`attrs.expires_at` = its new value), else account.reactivated when `AccountEnabled`
//! became true, else account.updated; Enable account / Restore user → account.reactivated;
//! Delete user / Hard delete user → account.deleted; Add user → account.created; Revoke
//! sign-in sessions / Invalidate (or Revoke) all refresh tokens for a user →
//! session.revoked; Add (eligible) member to group/role → group.granted; Remove (eligible)
//! member from group/role → group.removed (PIM "requested" activities are requests, not
//! grants: other); everything else → other with `attrs.type` = the activity name.
//! <https://learn.microsoft.com/entra/identity/monitoring-health/reference-audit-activities>.
//!
//! Fields used, sign-in: `id`, `createdDateTime` (Graph) or `time` (records),
//! `userPrincipalName` (service principal sign-ins: `servicePrincipalName`, else
//! `servicePrincipalId`), `status.errorCode` (records without it: a numeric top-level
//! `resultType`), `status.failureReason`, `sessionId` else `correlationId` (→ `session_id`),
//! `ipAddress`, `appDisplayName` (→ `app`), `isInteractive`. errorCode 0 → auth.succeeded;
//! any other → auth.failed with `reason` = "<code> <text>", the text fixed for the codes the
//! rules look at (50057 account disabled, 50126 invalid username or password, 50053 account
//! locked), else Entra's `failureReason`.
//! <https://learn.microsoft.com/entra/identity-platform/reference-error-codes>.
//!
//! Mixed categories: an AuditLogs record given to `entra-signin` (or a sign-in record given
//! to `entra-audit`) is a field error on `/category` that names the right source, rather
//! than an `other` event: kept as `other` it would be counted and forgotten, and the
//! deactivations or failed sign-ins the rules need would silently be missing. Diagnostic
//! settings write each category to its own storage container, so files are normally of one
//! category; an Event Hub capture mixing them can be ingested twice with `--skip-invalid`,
//! once per source. Categories that are neither (ProvisioningLogs, RiskyUsers...) have
//! another schema and are refused the same way.

use serde_json::Value;

use super::framing::Content;
use super::{at, new_event, opt_str, put, req_str, req_time, FieldError, Role, Source};
use crate::event::{Event, EventKind, Timestamp};

const AUDIT_CATEGORY: &str = "AuditLogs";
const SIGN_IN_CATEGORIES: &[&str] = &[
    "SignInLogs",
    "NonInteractiveUserSignInLogs",
    "ServicePrincipalSignInLogs",
    "ManagedIdentitySignInLogs",
];

/// One record seen through its shape: Graph fields sit at the root, diagnostic records keep
/// them under `/properties` and their time in `/time`.
struct View<'v> {
    record: &'v Value,
    base: &'static str,
    category: Option<String>,
}

impl<'v> View<'v> {
    fn of(record: &'v Value) -> Self {
        if is_diagnostic_record(record) {
            View {
                record,
                base: "/properties",
                category: opt_str(record, "/category"),
            }
        } else {
            View {
                record,
                base: "",
                category: None,
            }
        }
    }

    fn is_diagnostic(&self) -> bool {
        !self.base.is_empty()
    }

    fn ptr(&self, rel: &str) -> String {
        format!("{}{rel}", self.base)
    }

    fn get(&self, rel: &str) -> Option<&'v Value> {
        at(self.record, &self.ptr(rel))
    }

    fn str(&self, rel: &str) -> Option<String> {
        opt_str(self.record, &self.ptr(rel))
    }

    /// A top-level field of a diagnostic record (`callerIpAddress`, `resultType`...).
    fn outer(&self, rel: &str) -> Option<String> {
        if self.is_diagnostic() {
            opt_str(self.record, rel)
        } else {
            None
        }
    }

    /// The event time: `/time` for diagnostic records, else the resource's own time field.
    fn time(&self, graph_field: &str) -> Result<(Timestamp, String), FieldError> {
        if self.is_diagnostic() {
            req_time(self.record, "/time")
        } else {
            req_time(self.record, graph_field)
        }
    }
}

fn is_diagnostic_record(record: &Value) -> bool {
    record.get("category").is_some_and(Value::is_string)
        && record.get("properties").is_some_and(Value::is_object)
}

fn category_is(record: &Value, wanted: &[&str]) -> bool {
    record
        .get("category")
        .and_then(Value::as_str)
        .is_some_and(|c| wanted.contains(&c))
}

/// Refuses a diagnostic record of another category than `wanted`, naming the right source.
fn check_category(view: &View, wanted: &[&str], this: &str) -> Result<(), FieldError> {
    let Some(category) = view.category.as_deref() else {
        return Ok(());
    };
    if wanted.contains(&category) {
        return Ok(());
    }
    let problem = if category == AUDIT_CATEGORY {
        format!("{category:?} is a directory audit record; ingest it with --source entra-audit")
    } else if SIGN_IN_CATEGORIES.contains(&category) {
        format!("{category:?} is a sign-in record; ingest it with --source entra-signin")
    } else {
        format!(
            "{category:?} is not a category the {this} source reads; expected {}",
            wanted.join(" or ")
        )
    };
    Err(FieldError::new("/category", problem))
}

// ---- directory audit ---------------------------------------------------------------------

pub struct EntraAudit;

/// The targets of an audit record, with their index (for field pointers).
fn targets<'v>(view: &View<'v>) -> impl Iterator<Item = (usize, &'v Value)> {
    view.get("/targetResources")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
}

/// A target's `type`; Microsoft's own list example spells it `Type`.
fn target_type(target: &Value) -> Option<&str> {
    target
        .get("type")
        .or_else(|| target.get("Type"))
        .and_then(Value::as_str)
}

fn target_of_type<'v>(view: &View<'v>, kind: &str) -> Option<(usize, &'v Value)> {
    targets(view).find(|(_, t)| target_type(t).is_some_and(|k| k.eq_ignore_ascii_case(kind)))
}

/// The account a user target names: its UPN without the object-id prefix Entra puts on
/// deleted users (`<id without dashes><upn>`), else its object id.
fn target_user_account(target: &Value) -> Option<String> {
    let id = opt_str(target, "/id");
    match opt_str(target, "/userPrincipalName") {
        Some(upn) => {
            let prefix = id
                .as_deref()
                .map(|id| id.replace('-', ""))
                .unwrap_or_default();
            let stripped = match upn.get(..prefix.len()) {
                Some(head) if !prefix.is_empty() && head.eq_ignore_ascii_case(&prefix) => {
                    upn.get(prefix.len()..).unwrap_or_default().to_string()
                }
                _ => upn,
            };
            Some(stripped).filter(|s| !s.trim().is_empty())
        }
        None => id,
    }
}

/// The new value of a modified property, decoded: Entra writes JSON text such as `[false]`
/// or `["2026-03-31T23:59:59Z"]`; an empty list means the value was cleared.
fn new_value_of(view: &View, property: &str) -> Option<Option<String>> {
    let found = targets(view)
        .filter_map(|(_, t)| t.get("modifiedProperties")?.as_array())
        .flatten()
        .find(|p| {
            p.get("displayName")
                .and_then(Value::as_str)
                .is_some_and(|n| n.eq_ignore_ascii_case(property))
        })?;
    let raw = match found.get("newValue") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => return Some(None),
        Some(other) => other.to_string(),
    };
    let decoded = match serde_json::from_str::<Value>(&raw) {
        Ok(Value::Array(items)) => items.into_iter().next(),
        Ok(v) => Some(v),
        Err(_) => Some(Value::String(raw)),
    };
    Some(match decoded {
        Some(Value::String(s)) => Some(s).filter(|s| !s.trim().is_empty()),
        Some(Value::Null) | None => None,
        Some(v) => Some(v.to_string()),
    })
}

fn classify_audit(activity: &str, view: &View) -> EventKind {
    use EventKind::*;
    let a = activity.trim().to_lowercase();
    let is_membership = |verb: &str| {
        [
            "member to group",
            "member to role",
            "member from group",
            "member from role",
        ]
        .iter()
        .any(|what| {
            a.starts_with(&format!("{verb} {what}"))
                || a.starts_with(&format!("{verb} eligible {what}"))
        }) && !a.contains("requested")
    };
    match a.as_str() {
        "disable account" => AccountDeactivated,
        "enable account" | "restore user" => AccountReactivated,
        "delete user" | "hard delete user" => AccountDeleted,
        "add user" => AccountCreated,
        "update user" => {
            let enabled = new_value_of(view, "AccountEnabled").flatten();
            if enabled.as_deref() == Some("false") {
                AccountDeactivated
            } else if new_value_of(view, "EmployeeLeaveDateTime").is_some() {
                ExpirySet
            } else if enabled.as_deref() == Some("true") {
                AccountReactivated
            } else {
                AccountUpdated
            }
        }
        "revoke sign-in sessions" | "revoke signin sessions" => SessionRevoked,
        a if (a.starts_with("invalidate all refresh tokens")
            || a.starts_with("revoke all refresh tokens"))
            && a.contains("user") =>
        {
            SessionRevoked
        }
        _ if is_membership("add") => GroupGranted,
        _ if is_membership("remove") => GroupRemoved,
        _ => Other,
    }
}

impl Source for EntraAudit {
    fn name(&self) -> &'static str {
        "entra-audit"
    }

    fn role(&self) -> Role {
        Role::IdentityProvider { idp: "entra" }
    }

    fn description(&self) -> &'static str {
        "Entra ID directory audit logs (Graph directoryAudits page, or diagnostic-settings records)"
    }

    fn sniff(&self, record: &Value, _: Content) -> bool {
        if is_diagnostic_record(record) {
            return category_is(record, &[AUDIT_CATEGORY]);
        }
        record.get("activityDateTime").is_some()
            && record
                .get("activityDisplayName")
                .is_some_and(Value::is_string)
            && (record.get("initiatedBy").is_some() || record.get("targetResources").is_some())
    }

    fn normalise(&self, record: &Value) -> Result<Vec<Event>, FieldError> {
        if !record.is_object() {
            return Err(FieldError::new(
                "/",
                "expected a directoryAudit object or a diagnostic-settings record",
            ));
        }
        let view = View::of(record);
        check_category(&view, &[AUDIT_CATEGORY], self.name())?;
        if !view.is_diagnostic()
            && at(record, "/activityDateTime").is_none()
            && at(record, "/createdDateTime").is_some()
        {
            return Err(FieldError::new(
                "/activityDateTime",
                "missing; this looks like a signIn (createdDateTime); ingest it with --source entra-signin",
            ));
        }
        let time = view.time("/activityDateTime")?;
        let activity = match view.str("/activityDisplayName") {
            Some(a) => a,
            None if view.is_diagnostic() => req_str(record, "/operationName").map_err(|_| {
                FieldError::new(
                    "/properties/activityDisplayName",
                    "missing (and no /operationName); expected the audit activity name",
                )
            })?,
            None => req_str(record, "/activityDisplayName")?,
        };
        let kind = classify_audit(&activity, &view);

        let actor = view
            .str("/initiatedBy/user/userPrincipalName")
            .or_else(|| view.str("/initiatedBy/app/displayName"));
        let target_user = target_of_type(&view, "User");
        let subject = match target_user {
            Some((i, t)) => target_user_account(t).ok_or_else(|| {
                FieldError::new(
                    view.ptr(&format!("/targetResources/{i}/userPrincipalName")),
                    "missing (and no id); expected the user the event is about",
                )
            })?,
            None if kind != EventKind::Other => {
                return Err(FieldError::new(
                    view.ptr("/targetResources"),
                    format!("no target of type User; expected the user the {activity:?} is about"),
                ))
            }
            None => actor
                .clone()
                .or_else(|| view.str("/initiatedBy/user/id"))
                .or_else(|| view.str("/initiatedBy/app/servicePrincipalId"))
                .or_else(|| view.str("/initiatedBy/app/appId"))
                .ok_or_else(|| {
                    FieldError::new(
                        view.ptr("/initiatedBy"),
                        "missing a user or app; expected who the event is about",
                    )
                })?,
        };

        let mut e = new_event(self.name(), view.str("/id"), kind, &subject, time);
        if actor.as_deref().map(str::to_lowercase) != Some(e.subject.clone()) {
            e.actor = actor;
        }
        put(&mut e, "type", Some(activity));
        put(&mut e, "category", view.str("/category"));
        put(&mut e, "outcome", view.str("/result"));
        put(&mut e, "reason", view.str("/resultReason"));
        put(
            &mut e,
            "ip",
            view.str("/initiatedBy/user/ipAddress")
                .or_else(|| view.outer("/callerIpAddress")),
        );
        put(
            &mut e,
            "correlation_id",
            view.str("/correlationId")
                .or_else(|| view.outer("/correlationId")),
        );
        if kind == EventKind::ExpirySet {
            put(
                &mut e,
                "expires_at",
                new_value_of(&view, "EmployeeLeaveDateTime").flatten(),
            );
        }
        if matches!(kind, EventKind::GroupGranted | EventKind::GroupRemoved) {
            let group = target_of_type(&view, "Group")
                .or_else(|| target_of_type(&view, "Role"))
                .and_then(|(_, t)| opt_str(t, "/displayName"))
                .or_else(|| new_value_of(&view, "Group.DisplayName").flatten())
                .or_else(|| new_value_of(&view, "Role.DisplayName").flatten());
            put(&mut e, "group", group);
        }
        Ok(vec![e])
    }
}

// ---- sign-ins ----------------------------------------------------------------------------

pub struct EntraSignIn;

/// The reason text for the error codes the rules care about, worded the same whatever
/// language or revision of Entra's `failureReason` the record carries.
fn known_reason(code: i64) -> Option<&'static str> {
    match code {
        50057 => Some("account disabled"),
        50126 => Some("invalid username or password"),
        50053 => Some("account locked"),
        _ => None,
    }
}

fn error_code(view: &View) -> Result<i64, FieldError> {
    let field = view.ptr("/status/errorCode");
    match view.get("/status/errorCode") {
        Some(Value::Number(n)) => n
            .as_i64()
            .ok_or_else(|| FieldError::new(&field, format!("{n} is not an integer error code"))),
        Some(Value::String(s)) => s
            .trim()
            .parse()
            .map_err(|_| FieldError::new(&field, format!("{s:?} is not an integer error code"))),
        Some(other) => Err(FieldError::new(
            &field,
            format!(
                "expected an integer error code, got {}",
                super::json_type(other)
            ),
        )),
        // Diagnostic records repeat the code as a string in the top-level resultType.
        None => match view.outer("/resultType") {
            Some(rt) => rt.trim().parse().map_err(|_| {
                FieldError::new(
                    &field,
                    format!("missing, and /resultType {rt:?} is not an error code either"),
                )
            }),
            None => Err(FieldError::new(
                &field,
                "missing; expected the sign-in's error code (0 for success)",
            )),
        },
    }
}

impl Source for EntraSignIn {
    fn name(&self) -> &'static str {
        "entra-signin"
    }

    fn role(&self) -> Role {
        Role::IdentityProvider { idp: "entra" }
    }

    fn description(&self) -> &'static str {
        "Entra ID sign-in logs (Graph signIns page, or diagnostic-settings records)"
    }

    fn sniff(&self, record: &Value, _: Content) -> bool {
        if is_diagnostic_record(record) {
            return category_is(record, SIGN_IN_CATEGORIES);
        }
        record.get("createdDateTime").is_some()
            && record.get("status").is_some_and(Value::is_object)
            && (record.get("userPrincipalName").is_some() || record.get("appId").is_some())
    }

    fn normalise(&self, record: &Value) -> Result<Vec<Event>, FieldError> {
        if !record.is_object() {
            return Err(FieldError::new(
                "/",
                "expected a signIn object or a diagnostic-settings record",
            ));
        }
        let view = View::of(record);
        check_category(&view, SIGN_IN_CATEGORIES, self.name())?;
        if !view.is_diagnostic()
            && at(record, "/createdDateTime").is_none()
            && at(record, "/activityDateTime").is_some()
        {
            return Err(FieldError::new(
                "/createdDateTime",
                "missing; this looks like a directoryAudit (activityDateTime); ingest it with --source entra-audit",
            ));
        }
        let time = view.time("/createdDateTime")?;
        let subject = view
            .str("/userPrincipalName")
            .or_else(|| view.str("/servicePrincipalName"))
            .or_else(|| view.str("/servicePrincipalId"))
            .ok_or_else(|| {
                FieldError::new(
                    view.ptr("/userPrincipalName"),
                    "missing; expected the account that signed in",
                )
            })?;
        let code = error_code(&view)?;
        let kind = if code == 0 {
            EventKind::AuthSucceeded
        } else {
            EventKind::AuthFailed
        };
        let sign_in_type = view.category.clone().unwrap_or_else(|| "signIn".into());

        let mut e = new_event(self.name(), view.str("/id"), kind, &subject, time);
        put(&mut e, "type", Some(sign_in_type));
        put(
            &mut e,
            "outcome",
            Some(if code == 0 { "success" } else { "failure" }.into()),
        );
        put(&mut e, "error_code", Some(code.to_string()));
        if code != 0 {
            let text = known_reason(code)
                .map(str::to_string)
                .or_else(|| view.str("/status/failureReason"))
                .or_else(|| view.outer("/resultDescription"));
            let reason = match text {
                Some(t) => format!("{code} {}", t.trim()),
                None => code.to_string(),
            };
            put(&mut e, "reason", Some(reason));
        }
        put(
            &mut e,
            "ip",
            view.str("/ipAddress")
                .or_else(|| view.outer("/callerIpAddress")),
        );
        put(
            &mut e,
            "session_id",
            view.str("/sessionId")
                .or_else(|| view.str("/correlationId"))
                .or_else(|| view.outer("/correlationId")),
        );
        put(&mut e, "app", view.str("/appDisplayName"));
        put(&mut e, "interactive", view.str("/isInteractive"));
        Ok(vec![e])
    }
}

/// A diagnostic-settings or Event Hub capture mixes categories in one `records` array:
/// this source sends each record to the audit or the sign-in source by its category. It is
/// chosen explicitly (`--source entra`); auto-detection names the specific source from the
/// first record.
pub struct Entra;

impl Source for Entra {
    fn name(&self) -> &'static str {
        "entra"
    }

    fn role(&self) -> Role {
        Role::IdentityProvider { idp: "entra" }
    }

    fn description(&self) -> &'static str {
        "Entra ID audit and sign-in records mixed in one export (by category)"
    }

    fn sniff(&self, _: &Value, _: Content) -> bool {
        false
    }

    fn normalise(&self, record: &Value) -> Result<Vec<Event>, FieldError> {
        if EntraSignIn.sniff(record, Content::JsonDocument) {
            EntraSignIn.normalise(record)
        } else {
            EntraAudit.normalise(record)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::normalise_all;
    use super::*;

    const DISABLE: &str = r#"{"id":"a1","category":"UserManagement","correlationId":"c1","result":"success","activityDisplayName":"Disable account","activityDateTime":"2026-03-14T00:00:00.1234567Z","initiatedBy":{"user":{"userPrincipalName":"admin@acme.example","ipAddress":"203.0.113.1"}},"targetResources":[{"id":"9f1c2d3e-0000-4000-8000-00000000abcd","type":"User","userPrincipalName":"Jose.Nunez@acme.example","modifiedProperties":[]}]}"#;
    const DELETED: &str = r#"{"id":"a2","activityDisplayName":"Delete user","activityDateTime":"2026-03-15T00:00:00Z","initiatedBy":{"app":{"displayName":"HR sync"}},"targetResources":[{"id":"9f1c2d3e-0000-4000-8000-00000000abcd","type":"User","userPrincipalName":"9f1c2d3e00004000800000000000abcdJose.Nunez@acme.example"}]}"#;
    const LEAVE: &str = r#"{"id":"a3","activityDisplayName":"Update user","activityDateTime":"2026-03-01T09:00:00Z","initiatedBy":{"user":{"userPrincipalName":"admin@acme.example"}},"targetResources":[{"id":"u1","type":"User","userPrincipalName":"jose.nunez@acme.example","modifiedProperties":[{"displayName":"EmployeeLeaveDateTime","oldValue":"[]","newValue":"[\"2026-03-31T23:59:59Z\"]"},{"displayName":"Included Updated Properties","oldValue":null,"newValue":"\"EmployeeLeaveDateTime\""}]}]}"#;
    const SIGNIN_50057: &str = r#"{"id":"s1","createdDateTime":"2026-04-02T08:00:00Z","userPrincipalName":"jose.nunez@acme.example","appDisplayName":"Office 365","ipAddress":"198.51.100.7","correlationId":"corr-1","isInteractive":true,"status":{"errorCode":50057,"failureReason":"User account is disabled."}}"#;

    fn one(source: &dyn Source, input: &str) -> Event {
        let got = normalise_all(source, input.as_bytes());
        let events = got[0].as_ref().unwrap_or_else(|e| panic!("{e}"));
        events[0].clone()
    }

    #[test]
    fn disabling_targets_the_user_and_names_the_admin() {
        let e = one(&EntraAudit, &format!(r#"{{"value":[{DISABLE}]}}"#));
        assert_eq!(e.kind, EventKind::AccountDeactivated);
        assert_eq!(e.subject, "jose.nunez@acme.example");
        assert_eq!(e.actor.as_deref(), Some("admin@acme.example"));
        assert_eq!(e.source_id.as_deref(), Some("a1"));
        assert_eq!(e.original_time, "2026-03-14T00:00:00.1234567Z");
        assert_eq!(e.attrs["ip"], "203.0.113.1");
    }

    #[test]
    fn a_deleted_users_object_id_prefix_is_removed() {
        let e = one(&EntraAudit, DELETED);
        assert_eq!(e.kind, EventKind::AccountDeleted);
        assert_eq!(e.subject, "jose.nunez@acme.example");
        assert_eq!(e.actor.as_deref(), Some("HR sync"));
    }

    #[test]
    fn leave_date_changes_are_expiry_with_the_new_value() {
        let e = one(&EntraAudit, LEAVE);
        assert_eq!(e.kind, EventKind::ExpirySet);
        assert_eq!(e.attrs["expires_at"], "2026-03-31T23:59:59Z");
        let disabled = LEAVE.replace(
            r#"{"displayName":"Included"#,
            r#"{"displayName":"AccountEnabled","oldValue":"[true]","newValue":"[false]"},{"displayName":"Included"#,
        );
        assert_eq!(
            one(&EntraAudit, &disabled).kind,
            EventKind::AccountDeactivated
        );
    }

    #[test]
    fn activity_names_map_to_kinds() {
        let with_activity = |name: &str| DISABLE.replace("Disable account", name);
        for (activity, kind) in [
            ("Enable account", EventKind::AccountReactivated),
            ("Restore user", EventKind::AccountReactivated),
            ("Hard Delete user", EventKind::AccountDeleted),
            ("Add user", EventKind::AccountCreated),
            ("Update user", EventKind::AccountUpdated),
            ("Add eligible member to role", EventKind::GroupGranted),
            ("Remove member from role", EventKind::GroupRemoved),
            (
                "Add member to role in PIM requested (timebound)",
                EventKind::Other,
            ),
            ("Reset user password", EventKind::Other),
        ] {
            assert_eq!(
                one(&EntraAudit, &with_activity(activity)).kind,
                kind,
                "{activity}"
            );
        }
        let enabled = with_activity("Update user").replace(
            r#""modifiedProperties":[]"#,
            r#""modifiedProperties":[{"displayName":"AccountEnabled","oldValue":"[false]","newValue":"[true]"}]"#,
        );
        assert_eq!(
            one(&EntraAudit, &enabled).kind,
            EventKind::AccountReactivated
        );
    }

    #[test]
    fn failed_sign_ins_keep_code_and_fixed_reason() {
        let e = one(&EntraSignIn, SIGNIN_50057);
        assert_eq!(e.kind, EventKind::AuthFailed);
        assert_eq!(e.attrs["reason"], "50057 account disabled");
        assert_eq!(e.attrs["session_id"], "corr-1");
        assert_eq!(e.attrs["app"], "Office 365");
        let other = SIGNIN_50057.replace("50057", "50074");
        assert_eq!(
            one(&EntraSignIn, &other).attrs["reason"],
            "50074 User account is disabled."
        );
    }

    #[test]
    fn diagnostic_records_read_properties_and_refuse_the_other_category() {
        let signin = format!(
            r#"{{"records":[{{"time":"2026-04-02T08:00:01.0000000Z","category":"SignInLogs","operationName":"Sign-in activity","resultType":"0","correlationId":"corr-2","properties":{{"id":"s2","userPrincipalName":"jo@acme.example","ipAddress":"198.51.100.8","status":{{"errorCode":0}}}}}},{{"time":"2026-04-02T08:00:01Z","category":"AuditLogs","properties":{DISABLE}}}]}}"#
        );
        let got = normalise_all(&EntraSignIn, signin.as_bytes());
        let ok = &got[0].as_ref().unwrap()[0];
        assert_eq!(ok.kind, EventKind::AuthSucceeded);
        assert_eq!(ok.original_time, "2026-04-02T08:00:01.0000000Z");
        let err = got[1].as_ref().unwrap_err();
        assert!(
            err.starts_with("records[1]: field /category:") && err.contains("entra-audit"),
            "{err}"
        );
        let got = normalise_all(&EntraAudit, signin.as_bytes());
        assert!(got[0].as_ref().unwrap_err().contains("entra-signin"));
        assert_eq!(
            got[1].as_ref().unwrap()[0].kind,
            EventKind::AccountDeactivated
        );
    }

    #[test]
    fn panther_times_and_missing_codes_are_refused_with_the_field() {
        let bad = r#"[{"time":"2025-01-15 09:30:45.123","category":"SignInLogs","properties":{"userPrincipalName":"a@b.example","status":{"errorCode":0}}},
                      {"time":"2025-01-15T09:30:45Z","category":"SignInLogs","resultType":"Success","properties":{"userPrincipalName":"a@b.example"}}]"#;
        let got = normalise_all(&EntraSignIn, bad.as_bytes());
        let err = got[0].as_ref().unwrap_err();
        assert!(err.starts_with("[0]: field /time:"), "{err}");
        let err = got[1].as_ref().unwrap_err();
        assert!(
            err.starts_with("[1]: field /properties/status/errorCode:"),
            "{err}"
        );
    }

    #[test]
    fn sniffs_tell_the_shapes_apart() {
        let audit: Value = serde_json::from_str(DISABLE).unwrap();
        let signin: Value = serde_json::from_str(SIGNIN_50057).unwrap();
        let c = Content::JsonDocument;
        assert!(EntraAudit.sniff(&audit, c) && !EntraSignIn.sniff(&audit, c));
        assert!(EntraSignIn.sniff(&signin, c) && !EntraAudit.sniff(&signin, c));
    }

    #[test]
    fn odd_input_is_an_error_not_a_panic() {
        for input in [
            r#"[1, "x", null, {}, {"category":"AuditLogs","properties":{}}]"#,
            r#"[{"activityDateTime":"2026-01-01T00:00:00Z","activityDisplayName":"Delete user","targetResources":[{"type":"User"}]}]"#,
            r#"[{"createdDateTime":"2026-01-01T00:00:00Z","userPrincipalName":"a","status":{"errorCode":1.5}}]"#,
        ] {
            for r in normalise_all(&EntraAudit, input.as_bytes())
                .into_iter()
                .chain(normalise_all(&EntraSignIn, input.as_bytes()))
            {
                assert!(r.is_err());
            }
        }
    }

    #[test]
    fn the_mixed_source_dispatches_by_category() {
        let audit = serde_json::json!({"time":"2026-03-14T00:00:00Z","category":"AuditLogs","operationName":"Disable account","resultType":"","properties":{"activityDisplayName":"Disable account","activityDateTime":"2026-03-14T00:00:00Z","id":"a1","result":"success","initiatedBy":{"user":{"userPrincipalName":"admin@acme.example"}},"targetResources":[{"type":"User","userPrincipalName":"jose@acme.example"}]}});
        let sign_in = serde_json::json!({"time":"2026-03-14T01:00:00Z","category":"SignInLogs","operationName":"Sign-in activity","resultType":"50057","properties":{"id":"s1","createdDateTime":"2026-03-14T01:00:00Z","userPrincipalName":"jose@acme.example","status":{"errorCode":50057}}});
        let a = Entra.normalise(&audit).unwrap();
        assert_eq!(a[0].kind, crate::event::EventKind::AccountDeactivated);
        let b = Entra.normalise(&sign_in).unwrap();
        assert_eq!(b[0].kind, crate::event::EventKind::AuthFailed);
    }
}
