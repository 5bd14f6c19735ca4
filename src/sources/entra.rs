//! Microsoft Entra ID directory audit logs (`entra-audit`) and sign-in logs (`entra-signin`),
//! in the two shapes Entra hands them out (and the admin center's CSV downloads, read into
//! the first: see `portal_sign_in_row` and `portal_audit_row`):
//!
//! - Microsoft Graph: a page `{"@odata.context": ..., "value": [...]}` from
//!   `GET /auditLogs/directoryAudits` (directoryAudit resources) or `GET /auditLogs/signIns`
//!   (signIn resources). Framing takes the `value` array of each page object (pages may
//!   follow each other in one file); the `@odata.nextLink` is ignored. The same records
//!   in PowerShell's PascalCase (the Graph PowerShell SDK's `Get-MgAuditLogSignIn` and
//!   `Get-MgAuditLogDirectoryAudit` through `ConvertTo-Json`), and Log Analytics
//!   (Microsoft Sentinel) rows of `SigninLogs` and `AuditLogs` as a query returns them in
//!   JSON, are read as Graph's camelCase ([`graph_shaped`]).
//!   <https://learn.microsoft.com/graph/api/resources/directoryaudit>,
//!   <https://learn.microsoft.com/graph/api/resources/signin>.
//! - Diagnostic settings (Event Hub, storage account): `{"records": [...]}` whose elements
//!   carry `time`, `category` (AuditLogs; SignInLogs, NonInteractiveUserSignInLogs,
//!   ServicePrincipalSignInLogs, ManagedIdentitySignInLogs,
//!   MicrosoftServicePrincipalSignInLogs, ADFSSignInLogs; and categories no rule uses),
//!   `operationName`, `resultType`, `callerIpAddress`, `correlationId` and `properties`,
//!   which holds the Graph-like object.
//!   <https://learn.microsoft.com/entra/identity/monitoring-health/howto-stream-logs-to-event-hub>.
//!   The record's time is the resource's own `properties.createdDateTime` /
//!   `activityDateTime` (for categories no rule uses, also `riskLastUpdatedDateTime` /
//!   `detectedDateTime`), else the top-level `time`: that is when Azure Monitor logged the
//!   record, seconds to minutes later, and some categories write it as
//!   `12/12/2025 3:03:58 PM`, without an offset. Fields are read from `properties`, so
//!   field errors name `/properties/...`.
//!
//! Fields used, audit: `id`, `activityDateTime` (records: else `time`),
//! `activityDisplayName` (records: else `operationName`), `category`, `result`,
//! `resultReason`, `correlationId`, `initiatedBy.user.{userPrincipalName,ipAddress}` /
//! `initiatedBy.app.displayName`, `targetResources[]` (`type`, `userPrincipalName`, `id`,
//! `displayName`, `modifiedProperties[].{displayName,oldValue,newValue}`). The subject is
//! the target user (a deleted user's UPN comes prefixed with its object id without dashes,
//! which is removed); for credentials and for role or group memberships of an application,
//! the target service principal or application (its `displayName`, else its object `id`);
//! else, for records no rule uses, the initiator, else any target, else `(no account)`.
//! The initiator is the actor. Outcome, one rule for every activity: a `result` (Graph) or
//! `resultType` (diagnostic) other than success (`failure`, `timeout`) is `other` with
//! `attrs.outcome`, never the kind the operation attempted. Activities (case-insensitive):
//! Disable account → account.deactivated; Update user → account.deactivated when
//! `AccountEnabled` became false, else expiry.set when `EmployeeLeaveDateTime` changed
//! (`attrs.expires_at` = its new value), else account.reactivated when `AccountEnabled`
//! became true, else account.updated; Reset password (by admin, self-service), Reset or
//! Change user password, Change password (self-service), Set force change user password,
//! Disable Strong Authentication, Admin or User deleted security info → account.updated;
//! Enable account / Restore user → account.reactivated;
//! Delete user / Hard delete user → account.deleted; Add user → account.created; Revoke
//! sign-in sessions / Invalidate (or Revoke) all refresh tokens for a user →
//! session.revoked; Add service principal credentials → token.created; Remove service
//! principal credentials → token.revoked; Update application – Certificates and secrets
//! management → token.created when `KeyDescription` gained a key, token.revoked when it
//! lost one (`attrs.token_id` = the key's `KeyIdentifier`); Add (eligible) member to
//! group/role → group.granted; Remove (eligible)
//! member from group/role → group.removed (PIM "requested" activities are requests, not
//! grants: other); everything else → other with `attrs.type` = the activity name.
//! <https://learn.microsoft.com/entra/identity/monitoring-health/reference-audit-activities>.
//!
//! Fields used, sign-in: `id`, `createdDateTime` (records: else `time`),
//! `userPrincipalName`; service principal sign-ins (categories ServicePrincipalSignInLogs,
//! ManagedIdentitySignInLogs, MicrosoftServicePrincipalSignInLogs, or a Graph signIn without
//! a UPN) are about the application: subject `servicePrincipalName` (its display name), else
//! `appId`, else `servicePrincipalId`, with `attrs.principal` (`service_principal` or
//! `managed_identity`), `attrs.app_id` and `attrs.service_principal_id`.
//! `status.errorCode` (a number or a string of digits; records without it: the top-level
//! `resultType`), `status.failureReason`, `sessionId` else `correlationId` (→ `session_id`),
//! `ipAddress`, `appDisplayName` (→ `app`), `isInteractive`. errorCode 0 → auth.succeeded;
//! an interrupt (see [`INTERRUPTS`]: MFA, keep me signed in, registration...) → other with
//! `attrs.type` = `signin.interrupted`; any other → auth.failed with `reason` =
//! "<code> <text>", the text fixed for the codes the rules look at (50057, 50126, 50053,
//! 50055, 50034, 7000215), else Entra's `failureReason`.
//! <https://learn.microsoft.com/entra/identity-platform/reference-error-codes>.
//!
//! Mixed categories: an AuditLogs record given to `entra-signin` (or a sign-in record given
//! to `entra-audit`) is a field error on `/category` that names the right source, rather
//! than an `other` event: kept as `other` it would be counted and forgotten, and the
//! deactivations or failed sign-ins the rules need would silently be missing. `--source
//! entra` reads both. Categories no rule uses (ProvisioningLogs, RiskyUsers,
//! UserRiskEvents, NetworkAccessTrafficLogs...) are well-formed records: both sources keep
//! them as `other` with `attrs.type` = `<category>/<operationName>`, about the account they
//! name (`properties.userPrincipalName`...) else `(no account)`.
//!
//! Use of access (the events that show the person used access they had):
//! - sign-ins with errorCode 0, any category (interactive, non-interactive, ADFS, service
//!   principal, managed identity): `auth.succeeded`.
//! - nothing in the directory audit log: it records administration, not use.

pub mod poll;

use std::borrow::Cow;

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
    "MicrosoftServicePrincipalSignInLogs",
    "ADFSSignInLogs",
];
/// Sign-in categories whose records are about a service principal (an application or a
/// managed identity), not a user.
const SERVICE_PRINCIPAL_CATEGORIES: &[&str] = &[
    "ServicePrincipalSignInLogs",
    "ManagedIdentitySignInLogs",
    "MicrosoftServicePrincipalSignInLogs",
];
use super::NO_ACCOUNT;

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
    /// (A Log Analytics row has them at the top level too, as its own columns.)
    fn outer(&self, rel: &str) -> Option<String> {
        opt_str(self.record, rel)
    }

    /// The event time. Graph resources: their own time field. Diagnostic records: the
    /// resource's own time under `/properties` when it has one, else `/time`. The envelope's
    /// `/time` is when Azure Monitor logged the record, minutes after the sign-in in live
    /// exports (a `MicrosoftServicePrincipalSignInLogs` failure created 15:31:34 carries
    /// `time` 15:34:08), and some categories write it as `12/12/2025 3:03:58 PM`, with no
    /// offset. When nothing is usable the error names `/time`.
    fn time(&self, graph_field: &str) -> Result<(Timestamp, String), FieldError> {
        if !self.is_diagnostic() {
            return req_time(self.record, graph_field);
        }
        let own_times = [
            graph_field,
            "/createdDateTime",
            "/activityDateTime",
            "/activityDateTimeUtc",
            "/riskLastUpdatedDateTime",
            "/detectedDateTime",
        ];
        own_times
            .iter()
            .find_map(|f| req_time(self.record, &self.ptr(f)).ok())
            .map_or_else(|| req_time(self.record, "/time"), Ok)
    }
}

/// The record in Graph's own camelCase when it comes in PowerShell's PascalCase: the
/// Microsoft Graph PowerShell SDK (`Get-MgAuditLogSignIn | ConvertTo-Json`, whose model
/// objects spell `CreatedDateTime`, `Status.ErrorCode`, `IPAddress`) and Log Analytics
/// (Microsoft Sentinel) rows of `SigninLogs` and `AuditLogs`, whose columns carry the same
/// names. Windows PowerShell writes times as `/Date(<ms since 1970>)/`; they become RFC
/// 3339. A row of the admin center's CSV download is rebuilt as the Graph record it was
/// made from. Anything else is left as it is.
fn graph_shaped(record: &Value) -> Cow<'_, Value> {
    if let Some(row) = portal_sign_in_row(record).or_else(|| portal_audit_row(record)) {
        return Cow::Owned(row);
    }
    let pascal =
        |camel: &str, pascal: &str| record.get(camel).is_none() && record.get(pascal).is_some();
    if pascal("createdDateTime", "CreatedDateTime")
        || pascal("activityDateTime", "ActivityDateTime")
    {
        Cow::Owned(camel_cased(record))
    } else {
        Cow::Borrowed(record)
    }
}

/// A row of the Entra admin center's sign-in log downloaded as CSV
/// (`InteractiveSignIns_*.csv`, `NonInteractiveSignIns_*.csv`, `ApplicationSignIns_*.csv`),
/// its columns named as the portal shows them (`Date (UTC)`, `Request ID`, `Username`,
/// `Sign-in error code`...), read into the Graph signIn it was made from.
fn portal_sign_in_row(record: &Value) -> Option<Value> {
    let map = record.as_object()?;
    if !["Date (UTC)", "Request ID", "Sign-in error code"]
        .iter()
        .all(|k| map.contains_key(*k))
    {
        return None;
    }
    let cell = |column: &str| {
        map.get(column)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|c| !c.is_empty())
    };
    let mut row = serde_json::Map::new();
    for (column, key) in [
        ("Date (UTC)", "createdDateTime"),
        ("Request ID", "id"),
        ("Correlation ID", "correlationId"),
        ("User ID", "userId"),
        ("User", "userDisplayName"),
        ("Username", "userPrincipalName"),
        ("Application", "appDisplayName"),
        ("Application ID", "appId"),
        ("Service principal ID", "servicePrincipalId"),
        ("Service principal name", "servicePrincipalName"),
        ("IP address", "ipAddress"),
        ("Client app", "clientAppUsed"),
        ("Session ID", "sessionId"),
    ] {
        if let Some(value) = cell(column) {
            row.insert(key.into(), Value::String(value.into()));
        }
    }
    let mut status = serde_json::Map::new();
    // The code is the record's own word; a row that left it blank says "Success" only.
    let code = cell("Sign-in error code").or_else(|| {
        cell("Status")
            .filter(|s| s.eq_ignore_ascii_case("success"))
            .map(|_| "0")
    });
    if let Some(code) = code {
        status.insert("errorCode".into(), Value::String(code.into()));
    }
    if let Some(reason) = cell("Failure reason") {
        status.insert("failureReason".into(), Value::String(reason.into()));
    }
    row.insert("status".into(), Value::Object(status));
    Some(Value::Object(row))
}

/// A row of the Entra admin center's audit log downloaded as CSV (`AuditLogs_*.csv`):
/// `Date (UTC)`, `CorrelationId`, `Service`, `Category`, `Activity`, `Result`,
/// `ResultReason`, the actor (`ActorType`, `ActorDisplayName`, `ActorObjectId`,
/// `ActorUserPrincipalName`, `IPAddress`, `ActorServicePrincipalId`/`Name`), the targets
/// (`Target<i>Type`, `DisplayName`, `ObjectId`, `UserPrincipalName`,
/// `ModifiedProperty<j>Name`/`OldValue`/`NewValue`) and `AdditionalDetail<i>Key`/`Value`,
/// read into the Graph directoryAudit it was made from. It has no audit id.
fn portal_audit_row(record: &Value) -> Option<Value> {
    let map = record.as_object()?;
    let cell = |column: &str| {
        map.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(column))
            .and_then(|(_, v)| v.as_str())
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(|c| Value::String(c.to_string()))
    };
    if !["Date (UTC)", "Activity", "Category"]
        .iter()
        .all(|k| map.contains_key(*k))
        || !(map.contains_key("ActorType") || map.contains_key("Target1Type"))
    {
        return None;
    }
    let object = |pairs: &[(&str, Option<Value>)]| {
        Value::Object(
            pairs
                .iter()
                .filter_map(|(k, v)| Some(((*k).to_string(), v.clone()?)))
                .collect(),
        )
    };
    let actor_type = cell("ActorType");
    let by_app = actor_type
        .as_ref()
        .and_then(Value::as_str)
        .is_some_and(|t| !t.eq_ignore_ascii_case("user"));
    let initiated_by = if by_app {
        object(&[(
            "app",
            Some(object(&[
                ("servicePrincipalId", cell("ActorServicePrincipalId")),
                (
                    "displayName",
                    cell("ActorServicePrincipalName").or_else(|| cell("ActorDisplayName")),
                ),
            ])),
        )])
    } else {
        object(&[(
            "user",
            Some(object(&[
                ("id", cell("ActorObjectId")),
                ("displayName", cell("ActorDisplayName")),
                ("userPrincipalName", cell("ActorUserPrincipalName")),
                ("ipAddress", cell("IPAddress")),
            ])),
        )])
    };
    let mut targets = Vec::new();
    for i in 1.. {
        let field = |name: &str| cell(&format!("Target{i}{name}"));
        if !map.contains_key(&format!("Target{i}Type")) {
            break;
        }
        let mut properties = Vec::new();
        for j in 1.. {
            let Some(name) = field(&format!("ModifiedProperty{j}Name")) else {
                if map.contains_key(&format!("Target{i}ModifiedProperty{j}Name")) {
                    continue;
                }
                break;
            };
            properties.push(object(&[
                ("displayName", Some(name)),
                ("oldValue", field(&format!("ModifiedProperty{j}OldValue"))),
                ("newValue", field(&format!("ModifiedProperty{j}NewValue"))),
            ]));
        }
        if field("Type").is_none() && field("ObjectId").is_none() && field("DisplayName").is_none()
        {
            continue;
        }
        let mut target = object(&[
            ("type", field("Type")),
            ("id", field("ObjectId")),
            ("displayName", field("DisplayName")),
            ("userPrincipalName", field("UserPrincipalName")),
        ]);
        if let Some(t) = target.as_object_mut() {
            t.insert("modifiedProperties".into(), Value::Array(properties));
        }
        targets.push(target);
    }
    let mut details = Vec::new();
    for i in 1.. {
        if !map.contains_key(&format!("AdditionalDetail{i}Key")) {
            break;
        }
        if let Some(key) = cell(&format!("AdditionalDetail{i}Key")) {
            details.push(object(&[
                ("key", Some(key)),
                ("value", cell(&format!("AdditionalDetail{i}Value"))),
            ]));
        }
    }
    let mut row = object(&[
        ("activityDateTime", cell("Date (UTC)")),
        ("correlationId", cell("CorrelationId")),
        ("loggedByService", cell("Service")),
        ("category", cell("Category")),
        ("activityDisplayName", cell("Activity")),
        ("result", cell("Result")),
        ("resultReason", cell("ResultReason")),
        ("initiatedBy", Some(initiated_by)),
    ]);
    if let Some(r) = row.as_object_mut() {
        r.insert("targetResources".into(), Value::Array(targets));
        r.insert("additionalDetails".into(), Value::Array(details));
    }
    Some(row)
}

fn camel_cased(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(key, v)| {
                    let mut chars = key.chars();
                    let camel = match (key.as_str(), chars.next()) {
                        ("IPAddress", _) => "ipAddress".to_string(),
                        (_, Some(first)) => first.to_lowercase().chain(chars).collect(),
                        (_, None) => String::new(),
                    };
                    (camel, camel_cased(v))
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(camel_cased).collect()),
        Value::String(text) => match ms_date(text) {
            Some(time) => Value::String(time),
            None => value.clone(),
        },
        _ => value.clone(),
    }
}

/// `/Date(1714557598500)/` (Windows PowerShell's `ConvertTo-Json` of a date) as RFC 3339.
fn ms_date(text: &str) -> Option<String> {
    let inner = text.strip_prefix("/Date(")?.strip_suffix(")/")?;
    // An offset suffix (`+0100`) only says which zone the writer was in.
    let digits = inner.split(['+', '-']).find(|part| !part.is_empty())?;
    let ms: i64 = digits.parse().ok()?;
    let ms = if inner.starts_with('-') { -ms } else { ms };
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
}

pub fn is_diagnostic_record(record: &Value) -> bool {
    record.get("category").is_some_and(Value::is_string)
        && record.get("properties").is_some_and(Value::is_object)
}

fn category_is(record: &Value, wanted: &[&str]) -> bool {
    record
        .get("category")
        .and_then(Value::as_str)
        .is_some_and(|c| wanted.contains(&c))
}

/// How a source reads a record, by its diagnostic category.
enum CategoryCheck {
    /// A Graph resource, or a diagnostic record of a category this source reads.
    Read,
    /// A well-formed record of a category no rule uses (ProvisioningLogs, RiskyUsers,
    /// UserRiskEvents, NetworkAccessTrafficLogs...): kept as `other`.
    Unmodelled,
}

/// Refuses a diagnostic record of the other modelled kind (audit given to the sign-in source
/// or the reverse), naming the right source; other categories are kept as `other`.
fn check_category(view: &View, wanted: &[&str]) -> Result<CategoryCheck, FieldError> {
    let Some(category) = view.category.as_deref() else {
        return Ok(CategoryCheck::Read);
    };
    if wanted.contains(&category) {
        return Ok(CategoryCheck::Read);
    }
    let problem = if category == AUDIT_CATEGORY {
        format!(
            "{category:?} is a directory audit record; ingest it with --source entra-audit \
             (or --source entra, which reads both kinds)"
        )
    } else if SIGN_IN_CATEGORIES.contains(&category) {
        format!(
            "{category:?} is a sign-in record; ingest it with --source entra-signin \
             (or --source entra, which reads both kinds)"
        )
    } else {
        return Ok(CategoryCheck::Unmodelled);
    };
    Err(FieldError::new("/category", problem))
}

/// A diagnostic record of a category no rule uses: `other`, `attrs.type` =
/// `<category>/<operationName>`, about the account it names if any.
fn unmodelled(source: &str, view: &View) -> Result<Vec<Event>, FieldError> {
    let category = view.category.clone().unwrap_or_default();
    let time = view.time("/activityDateTime")?;
    let subject = [
        "/userPrincipalName",
        "/initiatedBy/user/userPrincipalName",
        "/servicePrincipalName",
        "/initiatedBy/app/displayName",
        "/userDisplayName",
        "/userId",
    ]
    .iter()
    .find_map(|p| view.str(p))
    .or_else(|| view.outer("/identity"))
    .unwrap_or_else(|| NO_ACCOUNT.to_string());
    let operation = view.outer("/operationName");
    let type_name = match &operation {
        Some(op) => format!("{category}/{op}"),
        None => category.clone(),
    };
    let mut e = new_event(source, view.str("/id"), EventKind::Other, &subject, time);
    put(&mut e, "type", Some(type_name));
    put(&mut e, "category", Some(category));
    put(
        &mut e,
        "outcome",
        view.outer("/resultType")
            .or_else(|| view.str("/result"))
            .or_else(|| view.str("/status/errorCode")),
    );
    put(
        &mut e,
        "correlation_id",
        view.str("/correlationId")
            .or_else(|| view.outer("/correlationId")),
    );
    Ok(vec![e])
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

/// A target's `type`; Microsoft's own list example spells it `Type`, and older Graph
/// pages give only `@odata.type` (`#microsoft.graph.targetResourceUser`).
fn target_type(target: &Value) -> Option<&str> {
    target
        .get("type")
        .or_else(|| target.get("Type"))
        .and_then(Value::as_str)
        .or_else(|| {
            target
                .get("@odata.type")
                .and_then(Value::as_str)
                .and_then(|t| t.strip_prefix("#microsoft.graph.targetResource"))
        })
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
    modified_value(view, property, "newValue")
}

/// [`new_value_of`] of the value before the change: a removal names what was removed
/// (the group of "Remove member from group") only there.
fn old_value_of(view: &View, property: &str) -> Option<Option<String>> {
    modified_value(view, property, "oldValue")
}

fn modified_value(view: &View, property: &str, side: &str) -> Option<Option<String>> {
    let found = targets(view)
        .filter_map(|(_, t)| t.get("modifiedProperties")?.as_array())
        .flatten()
        .find(|p| {
            p.get("displayName")
                .and_then(Value::as_str)
                .is_some_and(|n| n.eq_ignore_ascii_case(property))
        })?;
    let raw = match found.get(side) {
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

/// The key identifiers in a `KeyDescription` value: Entra writes each credential as
/// `[KeyIdentifier=<guid>, KeyType=Password, KeyUsage=Verify, DisplayName=<name>]`, inside a
/// JSON list given as text.
fn key_ids(text: Option<&str>) -> Vec<String> {
    let Some(text) = text else {
        return vec![];
    };
    let mut ids = vec![];
    for part in text.split("KeyIdentifier=").skip(1) {
        let id: String = part
            .chars()
            .take_while(|c| !matches!(c, ',' | ']' | '"' | '\\') && !c.is_whitespace())
            .collect();
        if !id.is_empty() && !ids.contains(&id) {
            ids.push(id);
        }
    }
    ids
}

/// The raw old and new text of a modified property of any target.
fn modified_raw(view: &View, property: &str) -> Option<(Option<String>, Option<String>)> {
    let found = targets(view)
        .filter_map(|(_, t)| t.get("modifiedProperties")?.as_array())
        .flatten()
        .find(|p| {
            p.get("displayName")
                .and_then(Value::as_str)
                .is_some_and(|n| n.eq_ignore_ascii_case(property))
        })?;
    let text = |k: &str| match found.get(k) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Null) | None => None,
        Some(other) => Some(other.to_string()),
    };
    Some((text("oldValue"), text("newValue")))
}

/// Credentials (keys, secrets, certificates) added to and removed from an application or
/// service principal, by comparing the old and new `KeyDescription`.
fn key_changes(view: &View) -> (Vec<String>, Vec<String>) {
    let Some((old, new)) = modified_raw(view, "KeyDescription") else {
        return (vec![], vec![]);
    };
    let (old, new) = (key_ids(old.as_deref()), key_ids(new.as_deref()));
    let added = new.iter().filter(|k| !old.contains(k)).cloned().collect();
    let removed = old.iter().filter(|k| !new.contains(k)).cloned().collect();
    (added, removed)
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
        // An update that also sets a leave date yields a second event for it (see
        // `normalise`): the account change comes first.
        // The value is written `[false]` (a JSON array); `[False]` and `["False"]` are
        // read the same.
        "update user" => match new_value_of(view, "AccountEnabled")
            .flatten()
            .map(|v| {
                v.trim_matches(|c: char| c == '[' || c == ']' || c == '"' || c.is_whitespace())
                    .to_ascii_lowercase()
            })
            .as_deref()
        {
            Some("false") => AccountDeactivated,
            Some("true") => AccountReactivated,
            _ if new_value_of(view, "EmployeeLeaveDateTime").is_some() => ExpirySet,
            _ => AccountUpdated,
        },
        // A password or the MFA requirement or methods reset, changed or removed (Entra's
        // audit activity reference, UserManagement and Authentication Methods): the
        // account's credentials changed, an account update.
        "reset password (by admin)"
        | "reset password (self-service)"
        | "change password (self-service)"
        | "reset user password"
        | "change user password"
        | "set force change user password"
        | "disable strong authentication"
        | "admin deleted security info"
        | "user deleted security info" => AccountUpdated,
        "revoke sign-in sessions" | "revoke signin sessions" => SessionRevoked,
        // What `revokeSignInSessions` does, as the audit log records it (Entra's audit
        // activity reference, UserManagement): sessions and refresh tokens issued before
        // the new timestamp stop working.
        "update stsrefreshtokenvalidfrom timestamp" => SessionRevoked,
        a if (a.starts_with("invalidate all refresh tokens")
            || a.starts_with("revoke all refresh tokens"))
            && a.contains("user") =>
        {
            SessionRevoked
        }
        "add service principal credentials" => TokenCreated,
        "remove service principal credentials" => TokenRevoked,
        // "Update application – Certificates and secrets management " (an en dash, a
        // trailing space): one activity for adding and removing keys, told apart by the
        // KeyDescription before and after.
        a if a.starts_with("update application")
            && a.contains("certificates and secrets management") =>
        {
            match key_changes(view) {
                (added, _) if !added.is_empty() => TokenCreated,
                (_, removed) if !removed.is_empty() => TokenRevoked,
                _ => Other,
            }
        }
        _ if is_membership("add") => GroupGranted,
        _ if is_membership("remove") => GroupRemoved,
        // Access to an enterprise app (its service principal is the "group"), and a user's
        // app passwords (legacy clients), from Entra's audit activity reference.
        "add app role assignment grant to user" => GroupGranted,
        "remove app role assignment from user" => GroupRemoved,
        "create application password for user" => TokenCreated,
        "delete application password for user" => TokenRevoked,
        _ => Other,
    }
}

/// The outcome of an audit record when it is not a success: Graph `result` (`success`,
/// `failure`, `timeout`, `unknownFutureValue`), else a diagnostic record's `resultType`.
/// `None` when the record says success or says nothing.
fn audit_failure(view: &View) -> Option<String> {
    let outcome = view.str("/result").or_else(|| view.outer("/resultType"))?;
    let o = outcome.trim().to_lowercase();
    (!matches!(o.as_str(), "success" | "succeeded" | "0" | "")).then_some(outcome)
}

/// The one outcome rule for audits: a failed or timed-out operation changed nothing, so it
/// is never the kind of the operation it attempted.
fn unless_failed(kind: EventKind, failure: Option<&str>) -> EventKind {
    match failure {
        Some(_) => EventKind::Other,
        None => kind,
    }
}

/// The name of a target that is no user (a service principal, an application, a device, a
/// group): its display name, else its id.
fn target_app_name(target: &Value) -> Option<String> {
    opt_str(target, "/displayName").or_else(|| opt_str(target, "/id"))
}

impl Source for EntraAudit {
    fn name(&self) -> &'static str {
        "entra-audit"
    }

    fn role(&self) -> Role {
        Role::IdentityProvider { idp: "entra" }
    }

    fn description(&self) -> &'static str {
        "Entra ID directory audit logs (Graph directoryAudits page, diagnostic-settings records, or the admin center's CSV download)"
    }

    fn reads_csv(&self) -> bool {
        true
    }

    fn sniff(&self, record: &Value, _: Content) -> bool {
        let record = &*graph_shaped(record);
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
        let record = &*graph_shaped(record);
        if !record.is_object() {
            return Err(FieldError::new(
                "/",
                "expected a directoryAudit object or a diagnostic-settings record",
            ));
        }
        let view = View::of(record);
        if let CategoryCheck::Unmodelled = check_category(&view, &[AUDIT_CATEGORY])? {
            return unmodelled(self.name(), &view);
        }
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
        let attempted = classify_audit(&activity, &view);
        let failure = audit_failure(&view);
        let mut kind = unless_failed(attempted, failure.as_deref());

        let actor = view
            .str("/initiatedBy/user/userPrincipalName")
            .or_else(|| view.str("/initiatedBy/app/displayName"));
        // Credentials and role memberships may be about a service principal or application
        // rather than a user: the subject is then its display name (else its object id).
        let app_target = || {
            target_of_type(&view, "ServicePrincipal")
                .or_else(|| target_of_type(&view, "Application"))
        };
        let about_app = matches!(
            attempted,
            EventKind::TokenCreated
                | EventKind::TokenRevoked
                | EventKind::GroupGranted
                | EventKind::GroupRemoved
        );
        let token_kind = matches!(attempted, EventKind::TokenCreated | EventKind::TokenRevoked);
        let subject = match target_of_type(&view, "User") {
            // A credential is its application's, unless only a user is named (a user's
            // app password).
            Some((i, t)) if !token_kind || app_target().is_none() => target_user_account(t)
                .ok_or_else(|| {
                    FieldError::new(
                        view.ptr(&format!("/targetResources/{i}/userPrincipalName")),
                        "missing (and no id); expected the user the event is about",
                    )
                })?,
            _ if about_app && app_target().is_some() => app_target()
                .and_then(|(_, t)| target_app_name(t))
                .ok_or_else(|| {
                    FieldError::new(
                        view.ptr("/targetResources"),
                        "the service principal target has no displayName or id",
                    )
                })?,
            // A member that is no user (a device in an Intune group, a group nested in
            // another, a group given a role) is kept, but no person's membership changed.
            _ if matches!(attempted, EventKind::GroupGranted | EventKind::GroupRemoved)
                && targets(&view).next().is_some() =>
            {
                kind = EventKind::Other;
                targets(&view)
                    .find_map(|(_, t)| target_app_name(t))
                    .unwrap_or_else(|| NO_ACCOUNT.to_string())
            }
            // The kinds a rule reads need the person they are about; a failed operation
            // (which changed nothing) and an update (which no rule reads) naming no user
            // are kept below, as `other` about who did them.
            _ if !matches!(kind, EventKind::Other | EventKind::AccountUpdated) => {
                return Err(FieldError::new(
                    view.ptr("/targetResources"),
                    format!(
                        "no target of type User{}; expected who the {activity:?} is about",
                        if about_app {
                            " or ServicePrincipal/Application"
                        } else {
                            ""
                        }
                    ),
                ))
            }
            _ => {
                kind = EventKind::Other;
                actor
                    .clone()
                    .or_else(|| view.str("/initiatedBy/user/id"))
                    .or_else(|| view.str("/initiatedBy/app/servicePrincipalId"))
                    .or_else(|| view.str("/initiatedBy/app/appId"))
                    .or_else(|| {
                        targets(&view).find_map(|(_, t)| {
                            opt_str(t, "/userPrincipalName").or_else(|| target_app_name(t))
                        })
                    })
                    .unwrap_or_else(|| NO_ACCOUNT.to_string())
            }
        };

        let mut e = new_event(self.name(), view.str("/id"), kind, &subject, time);
        if actor.as_deref().map(str::to_lowercase) != Some(e.subject.clone()) {
            e.actor = actor;
        }
        let is_update_user = activity.trim().eq_ignore_ascii_case("update user");
        put(&mut e, "type", Some(activity));
        put(&mut e, "category", view.str("/category"));
        put(&mut e, "outcome", failure.or_else(|| view.str("/result")));
        put(&mut e, "reason", view.str("/resultReason"));
        put(
            &mut e,
            "ip",
            view.str("/initiatedBy/user/ipAddress")
                .or_else(|| view.outer("/callerIpAddress"))
                .as_deref()
                .and_then(super::ip_address),
        );
        put(
            &mut e,
            "correlation_id",
            view.str("/correlationId")
                .or_else(|| view.outer("/correlationId")),
        );
        let leave_date = new_value_of(&view, "EmployeeLeaveDateTime").flatten();
        if kind == EventKind::ExpirySet {
            put(&mut e, "expires_at", leave_date.clone());
        }
        // Re-enabling an account with a new leave date is how an extension often looks:
        // losing either half would lose the reactivation or the new expiry.
        let also_expiry = matches!(
            kind,
            EventKind::AccountDeactivated | EventKind::AccountReactivated
        ) && is_update_user
            && leave_date.is_some();
        let expiry = also_expiry.then(|| {
            let mut x = e.clone();
            x.kind = EventKind::ExpirySet;
            x.source_id = e.source_id.as_ref().map(|id| format!("{id}:expiry"));
            put(&mut x, "expires_at", leave_date);
            x
        });
        if matches!(kind, EventKind::GroupGranted | EventKind::GroupRemoved) {
            let group = target_of_type(&view, "Group")
                .or_else(|| target_of_type(&view, "Role"))
                .and_then(|(_, t)| opt_str(t, "/displayName"))
                .or_else(|| new_value_of(&view, "Group.DisplayName").flatten())
                .or_else(|| old_value_of(&view, "Group.DisplayName").flatten())
                .or_else(|| new_value_of(&view, "Role.DisplayName").flatten())
                .or_else(|| {
                    target_of_type(&view, "ServicePrincipal")
                        .and_then(|(_, t)| opt_str(t, "/displayName"))
                });
            put(&mut e, "group", group);
        }
        if matches!(kind, EventKind::TokenCreated | EventKind::TokenRevoked) {
            let (added, removed) = key_changes(&view);
            let keys = if kind == EventKind::TokenCreated {
                added
            } else {
                removed
            };
            put(&mut e, "token_id", keys.first().cloned());
            if keys.len() > 1 {
                put(&mut e, "token_ids", Some(keys.join(",")));
            }
            if let Some((_, t)) = app_target() {
                put(&mut e, "app_id", opt_str(t, "/id"));
            }
        }
        Ok([e].into_iter().chain(expiry).collect())
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
        50055 => Some("password expired"),
        50034 => Some("user not found"),
        7000215 => Some("invalid client secret"),
        _ => None,
    }
}

/// Sign-in error codes that are interrupts, not failures: Entra stopped the sign-in to ask
/// the person for another step (keep me signed in, MFA, registration, device join, consent,
/// pick an account) and the same sign-in usually goes on to succeed. They become `other`
/// with `attrs.type` = `signin.interrupted`, never `auth.failed`. Every other non-zero code
/// is a failure: wrong or expired credentials (50126, 50055, 50056, 50144, 7000215,
/// 7000222), unknown, disabled or locked accounts (50034, 16003, 50057, 50053), and access
/// blocked by policy (53003, 530032, 50105), which are attempts the person could not
/// complete. Source: "Microsoft Entra authentication and authorization error codes",
/// <https://learn.microsoft.com/entra/identity-platform/reference-error-codes> (the AADSTS
/// list), and <https://login.microsoftonline.com/error?code=NNNNN> for each code.
const INTERRUPTS: &[(i64, &str)] = &[
    (16000, "InteractionRequired: pick an account"),
    (
        50058,
        "UserInformationNotProvided: silent sign-in without a session",
    ),
    (
        50072,
        "UserStrongAuthEnrollmentRequiredInterrupt: register for MFA",
    ),
    (
        50074,
        "UserStrongAuthClientAuthNRequiredInterrupt: MFA required",
    ),
    (50076, "UserStrongAuthClientAuthNRequired: MFA required"),
    (50079, "UserStrongAuthEnrollmentRequired: register for MFA"),
    (50097, "DeviceAuthenticationRequired"),
    (50125, "PasswordResetRegistrationRequiredInterrupt"),
    (50127, "BrokerAppNotInstalled: install the broker app"),
    (50129, "DeviceIsNotWorkplaceJoined: join the device"),
    (50140, "KmsiInterrupt: keep me signed in"),
    (
        50143,
        "Session mismatch: sign in again with the right tenant",
    ),
    (50158, "ExternalSecurityChallenge not yet satisfied"),
    (50199, "CmsiInterrupt: confirm the app"),
    (50203, "register the authenticator app"),
    (65001, "consent required"),
    (
        81010,
        "DesktopSsoAuthTokenInvalid: seamless SSO fell back to a prompt",
    ),
];

fn interrupt(code: i64) -> Option<&'static str> {
    INTERRUPTS.iter().find(|(c, _)| *c == code).map(|(_, t)| *t)
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
        // Diagnostic records repeat the code as a string in the top-level resultType; some
        // exports (Panther's, log shippers') write the word "Success" for code 0 instead.
        None => match view.outer("/resultType") {
            Some(rt) if rt.trim().eq_ignore_ascii_case("success") => Ok(0),
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
        "Entra ID sign-in logs (Graph signIns page, diagnostic-settings records, or the admin center's CSV download)"
    }

    fn reads_csv(&self) -> bool {
        true
    }

    fn sniff(&self, record: &Value, _: Content) -> bool {
        let record = &*graph_shaped(record);
        if is_diagnostic_record(record) {
            return category_is(record, SIGN_IN_CATEGORIES);
        }
        record.get("createdDateTime").is_some()
            && record.get("status").is_some_and(Value::is_object)
            && (record.get("userPrincipalName").is_some() || record.get("appId").is_some())
    }

    fn normalise(&self, record: &Value) -> Result<Vec<Event>, FieldError> {
        let record = &*graph_shaped(record);
        if !record.is_object() {
            return Err(FieldError::new(
                "/",
                "expected a signIn object or a diagnostic-settings record",
            ));
        }
        let view = View::of(record);
        if let CategoryCheck::Unmodelled = check_category(&view, SIGN_IN_CATEGORIES)? {
            return unmodelled(self.name(), &view);
        }
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
        // Service principal and managed identity sign-ins are about the application: the
        // subject is its service principal name (the display name), else its appId, else
        // the service principal's object id; a user sign-in is about its UPN.
        let principal = match view.category.as_deref() {
            Some("ManagedIdentitySignInLogs") => Some("managed_identity"),
            Some(c) if SERVICE_PRINCIPAL_CATEGORIES.contains(&c) => Some("service_principal"),
            _ if view.str("/userPrincipalName").is_none() => Some("service_principal"),
            _ => None,
        };
        let sp_name = || {
            view.str("/servicePrincipalName")
                .or_else(|| view.str("/appId"))
                .or_else(|| view.str("/servicePrincipalId"))
        };
        let subject = match principal {
            Some(_) => sp_name().or_else(|| view.str("/userPrincipalName")),
            None => view.str("/userPrincipalName"),
        }
        .ok_or_else(|| {
            FieldError::new(
                view.ptr("/userPrincipalName"),
                "missing (and no servicePrincipalName, appId or servicePrincipalId); expected the account that signed in",
            )
        })?;
        let code = error_code(&view)?;
        let interrupted = interrupt(code);
        let kind = match (code, interrupted) {
            (0, _) => EventKind::AuthSucceeded,
            (_, Some(_)) => EventKind::Other,
            _ => EventKind::AuthFailed,
        };
        let sign_in_type = view.category.clone().unwrap_or_else(|| "signIn".into());

        let mut e = new_event(self.name(), view.str("/id"), kind, &subject, time);
        if interrupted.is_some() {
            put(&mut e, "type", Some("signin.interrupted".into()));
            put(&mut e, "category", Some(sign_in_type));
        } else {
            put(&mut e, "type", Some(sign_in_type));
        }
        put(
            &mut e,
            "outcome",
            Some(
                match (code, interrupted) {
                    (0, _) => "success",
                    (_, Some(_)) => "interrupted",
                    _ => "failure",
                }
                .into(),
            ),
        );
        put(&mut e, "error_code", Some(code.to_string()));
        if code != 0 {
            let text = known_reason(code)
                .map(str::to_string)
                .or_else(|| view.str("/status/failureReason"))
                .or_else(|| view.outer("/resultDescription"))
                .or_else(|| interrupted.map(str::to_string));
            let reason = match text {
                Some(t) => format!("{code} {}", t.trim()),
                None => code.to_string(),
            };
            put(&mut e, "reason", Some(reason));
        }
        if principal.is_some() {
            put(&mut e, "principal", principal.map(str::to_string));
            put(&mut e, "app_id", view.str("/appId"));
            put(
                &mut e,
                "service_principal_id",
                view.str("/servicePrincipalId"),
            );
        }
        put(
            &mut e,
            "ip",
            view.str("/ipAddress")
                .or_else(|| view.outer("/callerIpAddress"))
                .as_deref()
                .and_then(super::ip_address),
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
/// this source sends each record to the audit or the sign-in source by its category.
/// Auto-detection chooses it for diagnostic records (`sources::detect`), and names the
/// specific source for Graph pages, which hold one kind.
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

    /// Membership changes whose member is no user (SEKOIA-IO intake-formats' Entra Graph
    /// tests 0062-0075 have Intune device groups) are kept as `other` about the member,
    /// not refused with the whole file; a removal's group name is in `oldValue`; targets
    /// typed only by `@odata.type` (older Graph pages) are read.
    #[test]
    fn memberships_of_devices_and_groups_are_kept_and_removals_name_their_group() {
        let device = r#"{"id":"m1","activityDisplayName":"Add member to group","operationType":"Assign","activityDateTime":"2026-03-01T09:00:00Z","initiatedBy":{"app":{"displayName":"Microsoft Intune","servicePrincipalId":"sp1"}},"targetResources":[{"id":"d1","type":"Device","displayName":"laptop-042","modifiedProperties":[{"displayName":"Group.DisplayName","oldValue":null,"newValue":"\"GS_DYN_INTUNE_HP\""}]},{"id":"g1","type":"Group","groupType":"unknownFutureValue"}]}"#;
        let e = one(&EntraAudit, device);
        assert_eq!(e.kind, EventKind::Other);
        assert_eq!(e.subject, "laptop-042");
        assert_eq!(e.actor.as_deref(), Some("Microsoft Intune"));
        let nested = device.replace(
            r#""type":"Device","displayName":"laptop-042""#,
            r#""type":"Group","displayName":"Contractors""#,
        );
        assert_eq!(one(&EntraAudit, &nested).subject, "contractors");

        let removal = r#"{"id":"m2","activityDisplayName":"Remove member from group","activityDateTime":"2026-03-02T09:00:00Z","initiatedBy":{"user":{"userPrincipalName":"admin@acme.example"}},"targetResources":[{"id":"u1","type":"User","userPrincipalName":"jose.nunez@acme.example","modifiedProperties":[{"displayName":"Group.DisplayName","oldValue":"\"Payments\"","newValue":null}]},{"id":"g1","type":"Group","displayName":null}]}"#;
        let e = one(&EntraAudit, removal);
        assert_eq!(e.kind, EventKind::GroupRemoved);
        assert_eq!(e.subject, "jose.nunez@acme.example");
        assert_eq!(e.attrs["group"], "Payments");

        let odata = DISABLE.replace(
            r#""type":"User""#,
            r##""@odata.type":"#microsoft.graph.targetResourceUser""##,
        );
        let e = one(&EntraAudit, &odata);
        assert_eq!(e.kind, EventKind::AccountDeactivated);
        assert_eq!(e.subject, "jose.nunez@acme.example");
    }

    /// The Graph PowerShell SDK's model objects (`Get-MgAuditLogSignIn | ConvertTo-Json`,
    /// Windows PowerShell's `/Date(ms)/` times) and Log Analytics rows of `AuditLogs`
    /// spell Graph's fields in PascalCase: they read as the Graph records they are.
    #[test]
    fn powershell_and_log_analytics_pascal_case_reads_as_graph() {
        let sdk = r#"{"AppDisplayName":"Office 365","AppId":"4765445b","CorrelationId":"c9","CreatedDateTime":"/Date(1773648000000)/","Id":"s9","IPAddress":"198.51.100.7","IsInteractive":true,"Status":{"AdditionalDetails":null,"ErrorCode":50126,"FailureReason":"Invalid username or password."},"UserPrincipalName":"Jose.Nunez@acme.example","AdditionalProperties":{}}"#;
        assert!(EntraSignIn.sniff(&serde_json::from_str(sdk).unwrap(), Content::JsonDocument));
        let e = one(&EntraSignIn, sdk);
        assert_eq!(e.kind, EventKind::AuthFailed);
        assert_eq!(e.subject, "jose.nunez@acme.example");
        assert_eq!(e.occurred_at.to_rfc3339(), "2026-03-16T08:00:00Z");
        assert_eq!(e.attrs["ip"], "198.51.100.7");
        assert_eq!(e.source_id.as_deref(), Some("s9"));

        let row = r#"{"TenantId":"t1","TimeGenerated":"2026-03-14T00:00:05Z","OperationName":"Disable account","Category":"UserManagement","Result":"success","ActivityDisplayName":"Disable account","ActivityDateTime":"2026-03-14T00:00:00.1234567Z","Id":"a1","CorrelationId":"c1","InitiatedBy":{"user":{"userPrincipalName":"admin@acme.example"}},"TargetResources":[{"id":"u1","type":"User","userPrincipalName":"jose.nunez@acme.example","modifiedProperties":[]}],"Type":"AuditLogs"}"#;
        let e = one(&EntraAudit, row);
        assert_eq!(e.kind, EventKind::AccountDeactivated);
        assert_eq!(e.subject, "jose.nunez@acme.example");
        assert_eq!(e.actor.as_deref(), Some("admin@acme.example"));
        assert_eq!(
            ms_date("/Date(-1000+0100)/").as_deref(),
            Some("1969-12-31T23:59:59.000Z")
        );
        assert_eq!(ms_date("/Date(x)/"), None);
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
        // One update that re-enables the account and sets a new leave date (an extension)
        // is both: neither half is lost.
        for (enabled, kind) in [
            ("false", EventKind::AccountDeactivated),
            ("true", EventKind::AccountReactivated),
            ("False", EventKind::AccountDeactivated),
            (r#"\"False\""#, EventKind::AccountDeactivated),
            ("TRUE", EventKind::AccountReactivated),
        ] {
            let both = LEAVE.replace(
                r#"{"displayName":"Included"#,
                &format!(
                    r#"{{"displayName":"AccountEnabled","oldValue":"[x]","newValue":"[{enabled}]"}},{{"displayName":"Included"#
                ),
            );
            let got = normalise_all(&EntraAudit, both.as_bytes());
            let events = got[0].as_ref().unwrap();
            assert_eq!(events.len(), 2, "{events:?}");
            assert_eq!(events[0].kind, kind);
            assert_eq!(events[0].source_id.as_deref(), Some("a3"));
            assert_eq!(events[1].kind, EventKind::ExpirySet);
            assert_eq!(events[1].attrs["expires_at"], "2026-03-31T23:59:59Z");
            assert_eq!(events[1].source_id.as_deref(), Some("a3:expiry"));
            assert_eq!(events[1].subject, "jose.nunez@acme.example");
        }
        assert_eq!(
            normalise_all(&EntraAudit, LEAVE.as_bytes())[0]
                .as_ref()
                .unwrap()
                .len(),
            1
        );
    }

    /// An enterprise app's role removed from a user: about the user, the app (its service
    /// principal) as the group; a user's app password removed: about the user.
    #[test]
    fn app_role_assignments_and_app_passwords_are_about_the_user() {
        let removal = DISABLE.replace("Disable account", "Remove app role assignment from user").replace(
            r#""targetResources":["#,
            r#""targetResources":[{"id":"sp-1","type":"ServicePrincipal","displayName":"Payments Portal","modifiedProperties":[]},"#,
        );
        let e = one(&EntraAudit, &removal);
        assert_eq!(e.kind, EventKind::GroupRemoved);
        assert_eq!(e.subject, "jose.nunez@acme.example");
        assert_eq!(e.attrs["group"], "Payments Portal");
        let password = DISABLE.replace("Disable account", "Delete application password for user");
        let e = one(&EntraAudit, &password);
        assert_eq!(e.kind, EventKind::TokenRevoked);
        assert_eq!(e.subject, "jose.nunez@acme.example");
    }

    /// Azure Monitor writes `"<null>"` where a record has no IP address.
    #[test]
    fn a_null_ip_is_no_ip() {
        let e = one(&EntraAudit, &DISABLE.replace("203.0.113.1", "<null>"));
        assert!(!e.attrs.contains_key("ip"), "{:?}", e.attrs);
        let e = one(
            &EntraSignIn,
            &SIGNIN_50057.replace("198.51.100.7", "<null>"),
        );
        assert!(!e.attrs.contains_key("ip"), "{:?}", e.attrs);
    }

    /// Diagnostic-settings records from splunk/security_content `data_sources/
    /// azure_active_directory_reset_password_(by_admin).yml` and `..._disable_strong_
    /// authentication.yml` (`example_log`, Apache-2.0), as stored there.
    #[test]
    fn password_and_mfa_resets_are_updates_of_the_target_account() {
        let reset = r#"{"time":"2023-07-24T14:28:55.0648789Z","resourceId":"/tenants/fc69e276-e9e8-4af9-9002-1e410d77244e/providers/Microsoft.aadiam","operationName":"Reset password (by admin)","operationVersion":"1.0","category":"AuditLogs","tenantId":"fc69e276-e9e8-4af9-9002-1e410d77244e","resultSignature":"None","resultDescription":"None","durationMs":0,"callerIpAddress":"40.81.4.144","correlationId":"724ff6ae-0f36-4f2f-a20f-f043e0c73006","Level":4,"properties":{"id":"SSPR_724ff6ae-0f36-4f2f-a20f-f043e0c73006_P1CQE_8605821","category":"UserManagement","correlationId":"724ff6ae-0f36-4f2f-a20f-f043e0c73006","result":"success","resultReason":"None","activityDisplayName":"Reset password (by admin)","activityDateTime":"2023-07-24T14:28:55.0648789+00:00","loggedByService":"Self-service Password Management","operationType":"Update","userAgent":null,"initiatedBy":{"user":{"id":"728989f4-eb3d-45c2-8741-2f2af4e485ce","displayName":null,"userPrincipalName":"tommyr@splunkresearch.com","ipAddress":"40.81.4.144","roles":[]}},"targetResources":[{"id":"83a3158c-1d08-4686-b5f9-72fb34cb606e","displayName":"test","type":"User","userPrincipalName":"testuser@splunkresearch.com","modifiedProperties":[],"administrativeUnits":[]}],"additionalDetails":[{"key":"OnPremisesAgent","value":"None"}]}}"#;
        let mfa = r#"{"time":"2023-07-11T00:01:35.0251899Z","resourceId":"/tenants/fc69e276-e9e8-4af9-9002-1e410d77244e/providers/Microsoft.aadiam","operationName":"Disable Strong Authentication","operationVersion":"1.0","category":"AuditLogs","tenantId":"fc69e276-e9e8-4af9-9002-1e410d77244e","resultSignature":"None","durationMs":0,"correlationId":"7e3ee05c-ce4f-4ff1-8230-55555c25c97e","Level":4,"properties":{"id":"Directory_7e3ee05c-ce4f-4ff1-8230-55555c25c97e_DADCR_14299826","category":"UserManagement","correlationId":"7e3ee05c-ce4f-4ff1-8230-55555c25c97e","result":"success","resultReason":"","activityDisplayName":"Disable Strong Authentication","activityDateTime":"2023-07-11T00:01:35.0251899+00:00","loggedByService":"Core Directory","operationType":"Update","userAgent":null,"initiatedBy":{"user":{"id":"728989f4-eb3d-45c2-8741-2f2af4e485ce","displayName":null,"userPrincipalName":"oops@splunkresearch.com","ipAddress":"","roles":[]}},"targetResources":[{"id":"94b969a3-11cb-4075-a1fd-9fee3daf692e","displayName":null,"type":"User","userPrincipalName":"Abigail.Clark@splunkresearch.com","modifiedProperties":[{"displayName":"StrongAuthenticationRequirement","oldValue":"[{\"RelyingParty\":\"*\",\"State\":1,\"RememberDevicesNotIssuedBefore\":\"2023-07-11T00:01:26+00:00\"}]","newValue":"[]"},{"displayName":"Included Updated Properties","oldValue":null,"newValue":"\"StrongAuthenticationRequirement\""}],"administrativeUnits":[]}],"additionalDetails":[]}}"#;
        for (record, subject, actor) in [
            (
                reset,
                "testuser@splunkresearch.com",
                "tommyr@splunkresearch.com",
            ),
            (
                mfa,
                "abigail.clark@splunkresearch.com",
                "oops@splunkresearch.com",
            ),
        ] {
            let e = one(&EntraAudit, record);
            assert_eq!(
                (e.kind, e.subject.as_str(), e.actor.as_deref()),
                (EventKind::AccountUpdated, subject, Some(actor))
            );
        }
        // A reset that failed changed nothing.
        let failed = one(
            &EntraAudit,
            &reset.replace(r#""result":"success""#, r#""result":"failure""#),
        );
        assert_eq!(failed.kind, EventKind::Other);
        // Naming no user, a reset (done or failed) is kept as `other` about who did it,
        // never a reason to refuse the file.
        let targets = r#""targetResources":[{"id":"83a3158c-1d08-4686-b5f9-72fb34cb606e","displayName":"test","type":"User","userPrincipalName":"testuser@splunkresearch.com","modifiedProperties":[],"administrativeUnits":[]}]"#;
        assert!(reset.contains(targets));
        let untargeted = reset.replace(targets, r#""targetResources":[]"#);
        for record in [
            untargeted.clone(),
            untargeted.replace(r#""result":"success""#, r#""result":"failure""#),
        ] {
            let e = one(&EntraAudit, &record);
            assert_eq!(
                (e.kind, e.subject.as_str()),
                (EventKind::Other, "tommyr@splunkresearch.com")
            );
        }
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
            (
                "Add app role assignment grant to user",
                EventKind::GroupGranted,
            ),
            (
                "Remove app role assignment from user",
                EventKind::GroupRemoved,
            ),
            (
                "Create application password for user",
                EventKind::TokenCreated,
            ),
            (
                "Delete application password for user",
                EventKind::TokenRevoked,
            ),
            ("Remove member from role", EventKind::GroupRemoved),
            (
                "Add member to role in PIM requested (timebound)",
                EventKind::Other,
            ),
            ("Reset user password", EventKind::AccountUpdated),
            ("Reset password (by admin)", EventKind::AccountUpdated),
            ("Change password (self-service)", EventKind::AccountUpdated),
            ("Disable Strong Authentication", EventKind::AccountUpdated),
            ("Admin deleted security info", EventKind::AccountUpdated),
            ("User registered security info", EventKind::Other),
            ("Reset passwordless phone sign-in", EventKind::Other),
            ("Revoke sign-in sessions", EventKind::SessionRevoked),
            (
                "Invalidate all refresh tokens for a user",
                EventKind::SessionRevoked,
            ),
            (
                "Update StsRefreshTokenValidFrom Timestamp",
                EventKind::SessionRevoked,
            ),
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
        let unknown = SIGNIN_50057.replace("50057", "50999");
        assert_eq!(one(&EntraSignIn, &unknown).kind, EventKind::AuthFailed);
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
    fn interrupts_are_other_and_credential_failures_stay_failures() {
        for code in [
            50140, 50074, 50076, 50079, 50125, 50129, 50158, 50072, 16000, 81010,
        ] {
            let e = one(
                &EntraSignIn,
                &SIGNIN_50057.replace("50057", &code.to_string()),
            );
            assert_eq!(e.kind, EventKind::Other, "{code}");
            assert_eq!(e.attrs["type"], "signin.interrupted");
            assert_eq!(e.attrs["error_code"], code.to_string());
            assert_eq!(e.attrs["outcome"], "interrupted");
        }
        for code in [50126, 50053, 50057, 50055, 50034, 7000215, 53003, 530032] {
            let e = one(
                &EntraSignIn,
                &SIGNIN_50057.replace("50057", &code.to_string()),
            );
            assert_eq!(e.kind, EventKind::AuthFailed, "{code}");
        }
    }

    #[test]
    fn every_sign_in_category_is_read_and_service_principals_are_the_subject() {
        let records = r#"{"records":[
          {"time":"2025-12-12T15:04:00Z","category":"MicrosoftServicePrincipalSignInLogs","operationName":"Sign-in activity","resultType":"0","properties":{"id":"m1","appId":"00000003-0000-0000-c000-000000000000","servicePrincipalId":"sp-1","servicePrincipalName":"Microsoft Graph","status":{"errorCode":0}}},
          {"time":"12/12/2025 3:03:58 PM","category":"ADFSSignInLogs","operationName":"Sign-in activity","resultType":"0","properties":{"id":"f1","createdDateTime":"2025-12-12T15:03:58.5557321+00:00","userPrincipalName":"Jo@acme.example","status":{"errorCode":0}}},
          {"time":"2025-12-12T15:05:00Z","category":"ManagedIdentitySignInLogs","resultType":"0","properties":{"id":"mi1","appId":"app-mi","servicePrincipalId":"sp-mi","servicePrincipalName":"vm-build-01","status":{"errorCode":0}}},
          {"time":"2025-12-12T15:06:00Z","category":"ServicePrincipalSignInLogs","resultType":"7000215","properties":{"id":"sp2","appId":"app-ci","servicePrincipalName":"ci-deployer","userPrincipalName":"","status":{"errorCode":7000215}}}
        ]}"#;
        let got = normalise_all(&EntraSignIn, records.as_bytes());
        let e: Vec<Event> = got.iter().map(|r| r.as_ref().unwrap()[0].clone()).collect();
        assert_eq!(e[0].subject, "microsoft graph");
        assert_eq!(e[0].attrs["principal"], "service_principal");
        assert_eq!(e[0].attrs["app_id"], "00000003-0000-0000-c000-000000000000");
        assert_eq!(e[1].subject, "jo@acme.example");
        assert_eq!(e[1].original_time, "2025-12-12T15:03:58.5557321+00:00");
        assert!(!e[1].attrs.contains_key("principal"));
        assert_eq!(e[2].subject, "vm-build-01");
        assert_eq!(e[2].attrs["principal"], "managed_identity");
        assert_eq!(e[3].kind, EventKind::AuthFailed);
        assert_eq!(e[3].subject, "ci-deployer");
        assert_eq!(e[3].attrs["reason"], "7000215 invalid client secret");
        // Neither time usable: the error names /time.
        let bad = records.replace("2025-12-12T15:03:58.5557321+00:00", "yesterday");
        let got = normalise_all(&EntraSignIn, bad.as_bytes());
        assert!(got[1].as_ref().unwrap_err().contains("field /time:"));
    }

    #[test]
    fn unmodelled_categories_are_kept_as_other() {
        let records = r#"{"records":[
          {"time":"2026-01-05T10:00:00Z","category":"ProvisioningLogs","operationName":"Provisioning activity","resultType":"Success","properties":{"id":"p1","activityDateTime":"2026-01-05T10:00:00Z"}},
          {"time":"2026-01-05T10:00:00Z","category":"RiskyUsers","operationName":"User Risk","properties":{"id":"r1","userPrincipalName":"jo@acme.example","riskLevel":"high"}},
          {"time":"2026-01-05T10:00:00Z","category":"NetworkAccessTrafficLogs","properties":{}}
        ]}"#;
        for source in [&EntraSignIn as &dyn Source, &EntraAudit, &Entra] {
            let got = normalise_all(source, records.as_bytes());
            let e: Vec<Event> = got.iter().map(|r| r.as_ref().unwrap()[0].clone()).collect();
            assert!(e.iter().all(|e| e.kind == EventKind::Other));
            assert_eq!(e[0].attrs["type"], "ProvisioningLogs/Provisioning activity");
            assert_eq!(e[0].subject, NO_ACCOUNT);
            assert_eq!(e[1].subject, "jo@acme.example");
            assert_eq!(e[2].attrs["type"], "NetworkAccessTrafficLogs");
        }
    }

    /// Shapes of live diagnostic-settings exports (graph2otel's captures from a storage
    /// account; the values here are ours): the envelope `time` is when Azure Monitor logged
    /// the record, later than the sign-in, and some categories write it in a local format.
    #[test]
    fn diagnostic_records_are_timed_by_the_resource_not_the_envelope() {
        let records = r#"{"records":[
          {"time":"2026-07-16T15:34:08.5339262Z","category":"MicrosoftServicePrincipalSignInLogs","operationName":"Sign-in activity","resultType":"7000113","properties":{"id":"s1","createdDateTime":"2026-07-16T15:31:34.1881867+00:00","appId":"app-1","servicePrincipalName":"reporting","status":{"errorCode":7000113}}},
          {"time":"2026-03-14T00:09:00Z","category":"AuditLogs","operationName":"Disable account","properties":{"id":"a1","activityDisplayName":"Disable account","activityDateTime":"2026-03-14T00:00:00.5Z","result":"success","initiatedBy":{"user":{"userPrincipalName":"admin@acme.example"}},"targetResources":[{"type":"User","userPrincipalName":"jose@acme.example"}]}},
          {"time":"7/18/2026 3:01:38 PM","category":"RiskyUsers","operationName":"User Risk","properties":{"id":"r1","userPrincipalName":"jo@acme.example","riskLastUpdatedDateTime":"2026-07-18T15:01:38.240Z"}},
          {"time":"2026-07-18T15:05:00Z","category":"NetworkAccessTrafficLogs","properties":{}}
        ]}"#;
        let got = normalise_all(&Entra, records.as_bytes());
        let times: Vec<String> = got
            .iter()
            .map(|r| r.as_ref().unwrap()[0].occurred_at.to_rfc3339())
            .collect();
        assert_eq!(
            times,
            [
                "2026-07-16T15:31:34.188186Z",
                "2026-03-14T00:00:00.500000Z",
                "2026-07-18T15:01:38.240000Z",
                "2026-07-18T15:05:00Z"
            ]
        );
        let original = &got[0].as_ref().unwrap()[0].original_time;
        assert_eq!(original, "2026-07-16T15:31:34.1881867+00:00");
    }

    /// The admin center's sign-in "Download" as CSV: the 57 columns of
    /// `InteractiveSignIns_*.csv` as a public M365 ETL schema reference lists them (one
    /// header, `Incoming token type`, twice; `Application ID ` with a trailing space), with
    /// rows we wrote: a success, a failure and an interrupt.
    #[test]
    fn the_admin_centers_csv_download_reads_as_the_sign_ins_it_lists() {
        const HEADER: &str = "Date (UTC),Request ID,User agent,Correlation ID,User ID,User,Username,User type,Cross tenant access type,Incoming token type,Authentication Protocol,Unique token identifier,Original transfer method,Client credential type,Token Protection - Sign In Session,Token Protection - Sign In Session StatusCode,Application,Application ID ,App owner tenant ID,Resource,Resource ID ,Resource tenant ID,Resource owner tenant ID,Home tenant ID,Home tenant name,IP address,Location,Status,Sign-in error code,Failure reason,Client app,Device ID,Browser,Operating System,Compliant,Managed,Join Type,Multifactor authentication result,Multifactor authentication auth method,Multifactor authentication auth detail,Authentication requirement,Sign-in identifier,Session ID,IP address (seen by resource),Through Global Secure Access,Global Secure Access IP address,Autonomous system  number,Flagged for review,Token issuer type,Incoming token type,Token issuer name,Latency,Conditional Access,Managed Identity type,Associated Resource Id,Federated Token Id,Federated Token Issuer";
        let columns: Vec<&str> = HEADER.split(',').collect();
        let row = |cells: &[(&str, &str)]| {
            columns
                .iter()
                .map(|c| {
                    let value = cells.iter().find(|(k, _)| k == c).map_or("", |(_, v)| *v);
                    format!("\"{value}\"")
                })
                .collect::<Vec<_>>()
                .join(",")
        };
        let text = [
            format!("\u{feff}{HEADER}"),
            row(&[
                ("Date (UTC)", "2026-03-09T09:12:00Z"),
                ("Request ID", "req-1"),
                ("Correlation ID", "corr-1"),
                ("Username", "Lena.Okafor@acme.example"),
                ("Application", "Office 365 Exchange Online"),
                ("IP address", "203.0.113.7"),
                ("Location", "London, England, GB"),
                ("Status", "Success"),
                ("Sign-in error code", "0"),
                ("Session ID", "sess-1"),
            ]),
            row(&[
                ("Date (UTC)", "2026-03-23T13:00:00Z"),
                ("Request ID", "req-2"),
                ("Username", "noah.kim@acme.example"),
                ("Status", "Failure"),
                ("Sign-in error code", "50057"),
                ("Failure reason", "User account is disabled."),
            ]),
            row(&[
                ("Date (UTC)", "2026-03-23T13:05:00Z"),
                ("Request ID", "req-3"),
                ("Username", "noah.kim@acme.example"),
                ("Status", "Interrupted"),
                ("Sign-in error code", "50140"),
            ]),
        ]
        .join("\r\n");
        let got = normalise_all(&EntraSignIn, text.as_bytes());
        let one = |i: usize| got[i].as_ref().unwrap()[0].clone();
        let ok = one(0);
        assert_eq!(
            (ok.kind, ok.subject.as_str(), ok.source_id.as_deref()),
            (
                EventKind::AuthSucceeded,
                "lena.okafor@acme.example",
                Some("req-1")
            )
        );
        assert_eq!(ok.occurred_at.to_rfc3339(), "2026-03-09T09:12:00Z");
        assert_eq!(ok.attrs["session_id"], "sess-1");
        assert_eq!(ok.attrs["ip"], "203.0.113.7");
        let failed = one(1);
        assert_eq!(failed.kind, EventKind::AuthFailed);
        assert_eq!(failed.attrs["reason"], "50057 account disabled");
        assert_eq!(one(2).attrs["type"], "signin.interrupted");
        // Auto-detection names the source from the first row.
        let first: Value = serde_json::from_str(
            &serde_json::to_string(&serde_json::json!({
                "Date (UTC)": "2026-03-09T09:12:00Z", "Request ID": "r",
                "Username": "a@b", "Sign-in error code": "0", "Status": "Success"
            }))
            .unwrap(),
        )
        .unwrap();
        let found: Vec<&str> = super::super::detect(&first, Content::Csv)
            .iter()
            .map(|s| s.name())
            .collect();
        assert_eq!(found, ["entra-signin"]);
    }

    /// The admin center's audit log download as CSV: its columns as public scripts that
    /// read it list them (`Date (UTC)`, `CorrelationId`, `Activity`, `ActorType`,
    /// `Target1UserPrincipalName`, `Target1ModifiedProperty1Name`...), rows ours.
    #[test]
    fn the_admin_centers_audit_csv_reads_as_the_audits_it_lists() {
        let text = "\u{feff}Date (UTC),CorrelationId,Service,Category,Activity,Result,ResultReason,User Agent,ActorType,ActorDisplayName,ActorObjectId,ActorUserPrincipalName,IPAddress,ActorServicePrincipalId,ActorServicePrincipalName,Target1Type,Target1DisplayName,Target1ObjectId,Target1UserPrincipalName,Target1ModifiedProperty1Name,Target1ModifiedProperty1OldValue,Target1ModifiedProperty1NewValue,Target2Type,Target2DisplayName,Target2ObjectId,Target2UserPrincipalName,AdditionalDetail1Key,AdditionalDetail1Value\r\n\
            2026-03-14T00:01:00Z,c2,Core Directory,UserManagement,Update user,success,,,User,Admin,a-1,admin@acme.example,203.0.113.1,,,User,,u-2,Noah.Kim@acme.example,AccountEnabled,[true],[false],,,,,UserType,Member\r\n\
            2026-03-14T00:02:00Z,c3,Core Directory,GroupManagement,Remove member from group,success,,,Application,,,,,sp-1,Lifecycle Workflows,User,,u-2,noah.kim@acme.example,Group.DisplayName,\"\"\"Payments\"\"\",,Group,Payments,g-1,,,\r\n";
        let got = normalise_all(&EntraAudit, text.as_bytes());
        let one = |i: usize| got[i].as_ref().unwrap()[0].clone();
        let disabled = one(0);
        assert_eq!(
            (
                disabled.kind,
                disabled.subject.as_str(),
                disabled.actor.as_deref()
            ),
            (
                EventKind::AccountDeactivated,
                "noah.kim@acme.example",
                Some("admin@acme.example")
            )
        );
        assert_eq!(disabled.source_id, None, "the download has no audit id");
        assert_eq!(disabled.attrs["ip"], "203.0.113.1");
        let removed = one(1);
        assert_eq!(
            (removed.kind, removed.actor.as_deref()),
            (EventKind::GroupRemoved, Some("Lifecycle Workflows"))
        );
        assert_eq!(removed.attrs["group"], "Payments");
    }

    /// An Event Hub capture mixes categories: auto-detection reads it with `entra`, which
    /// takes every record by its own category; a Graph page still names its own source.
    #[test]
    fn auto_detection_reads_diagnostic_records_with_the_mixed_source() {
        let sign_in: Value = serde_json::json!({"time":"2026-03-14T01:00:00Z","category":"SignInLogs","properties":{"id":"s1","createdDateTime":"2026-03-14T01:00:00Z","userPrincipalName":"jo@acme.example","status":{"errorCode":0}}});
        let names = |v: &Value| -> Vec<&str> {
            crate::sources::detect(v, Content::JsonDocument)
                .iter()
                .map(|s| s.name())
                .collect()
        };
        assert_eq!(names(&sign_in), ["entra"]);
        let graph: Value = serde_json::from_str(SIGNIN_50057).unwrap();
        assert_eq!(names(&graph), ["entra-signin"]);
        let mixed = r#"{"records":[
          {"time":"2026-03-14T01:00:00Z","category":"SignInLogs","properties":{"id":"s1","createdDateTime":"2026-03-14T01:00:00Z","userPrincipalName":"jo@acme.example","status":{"errorCode":0}}},
          {"time":"2026-03-14T02:00:00Z","category":"AuditLogs","properties":{"id":"a1","activityDisplayName":"Disable account","activityDateTime":"2026-03-14T02:00:00Z","result":"success","initiatedBy":{"user":{"userPrincipalName":"admin@acme.example"}},"targetResources":[{"type":"User","userPrincipalName":"jo@acme.example"}]}}
        ]}"#;
        let kinds: Vec<EventKind> = normalise_all(&Entra, mixed.as_bytes())
            .iter()
            .map(|r| r.as_ref().unwrap()[0].kind)
            .collect();
        assert_eq!(
            kinds,
            [EventKind::AuthSucceeded, EventKind::AccountDeactivated]
        );
        let err = normalise_all(&EntraSignIn, mixed.as_bytes())[1]
            .clone()
            .unwrap_err();
        assert!(
            err.contains("or --source entra, which reads both kinds"),
            "{err}"
        );
    }

    #[test]
    fn a_role_granted_to_a_service_principal_is_about_it() {
        let rec = r#"{"id":"a9","activityDisplayName":"Add member to role","activityDateTime":"2026-03-02T10:00:00Z","result":"success","initiatedBy":{"user":{"userPrincipalName":"admin@acme.example"}},"targetResources":[{"id":"role-1","type":"Role","displayName":"Application Administrator"},{"id":"sp-77","type":"ServicePrincipal","displayName":"ci-deployer"}]}"#;
        let e = one(&EntraAudit, rec);
        assert_eq!(e.kind, EventKind::GroupGranted);
        assert_eq!(e.subject, "ci-deployer");
        assert_eq!(e.attrs["group"], "Application Administrator");
        let no_name = rec.replace(r#","displayName":"ci-deployer""#, "");
        assert_eq!(one(&EntraAudit, &no_name).subject, "sp-77");
    }

    #[test]
    fn failed_audits_are_never_the_successful_kind() {
        let failed = DISABLE.replace(r#""result":"success""#, r#""result":"failure""#);
        let e = one(&EntraAudit, &failed);
        assert_eq!(e.kind, EventKind::Other);
        assert_eq!(e.attrs["outcome"], "failure");
        assert_eq!(e.attrs["type"], "Disable account");
        assert_eq!(e.subject, "jose.nunez@acme.example");
        let timeout = DISABLE
            .replace("Disable account", "Add member to group")
            .replace(r#""result":"success""#, r#""result":"timeout""#);
        assert_eq!(one(&EntraAudit, &timeout).kind, EventKind::Other);
        // Diagnostic records: the top-level resultType when properties.result is absent.
        let diag = format!(
            r#"{{"records":[{{"time":"2026-03-14T00:00:00Z","category":"AuditLogs","operationName":"Disable account","resultType":"Failure","properties":{}}}]}}"#,
            DISABLE.replace(r#""result":"success","#, "")
        );
        let got = normalise_all(&EntraAudit, diag.as_bytes());
        let e = &got[0].as_ref().unwrap()[0];
        assert_eq!(e.kind, EventKind::Other);
        assert_eq!(e.attrs["outcome"], "Failure");
    }

    #[test]
    fn credentials_added_and_removed_are_tokens_of_the_service_principal() {
        let add = r#"{"id":"k1","category":"ApplicationManagement","result":"success","activityDisplayName":"Add service principal credentials","activityDateTime":"2026-03-03T09:00:00Z","initiatedBy":{"user":{"userPrincipalName":"jo@acme.example"}},"targetResources":[{"id":"sp-77","type":"ServicePrincipal","displayName":"ci-deployer","modifiedProperties":[{"displayName":"KeyDescription","oldValue":"[]","newValue":"[\"[KeyIdentifier=6c1f0a52-9a43-4b1e-b7c4-2f0d1e3a4b5c,KeyType=Password,KeyUsage=Verify,DisplayName=ci]\"]"}]}]}"#;
        let e = one(&EntraAudit, add);
        assert_eq!(e.kind, EventKind::TokenCreated);
        assert_eq!(e.subject, "ci-deployer");
        assert_eq!(e.actor.as_deref(), Some("jo@acme.example"));
        assert_eq!(e.attrs["token_id"], "6c1f0a52-9a43-4b1e-b7c4-2f0d1e3a4b5c");
        let remove = add.replace("Add service", "Remove service").replace(
            r#""oldValue":"[]","newValue":"#,
            r#""newValue":"[]","oldValue":"#,
        );
        let e = one(&EntraAudit, &remove);
        assert_eq!(e.kind, EventKind::TokenRevoked);
        assert_eq!(e.attrs["token_id"], "6c1f0a52-9a43-4b1e-b7c4-2f0d1e3a4b5c");
        let app = add
            .replace(
                "Add service principal credentials",
                "Update application – Certificates and secrets management ",
            )
            .replace("ServicePrincipal", "Application");
        let e = one(&EntraAudit, &app);
        assert_eq!(e.kind, EventKind::TokenCreated);
        assert_eq!(e.subject, "ci-deployer");
        let e = one(
            &EntraAudit,
            &app.replace(
                r#""oldValue":"[]","newValue":"#,
                r#""newValue":"[]","oldValue":"#,
            ),
        );
        assert_eq!(e.kind, EventKind::TokenRevoked);
    }

    #[test]
    fn actorless_unmodelled_audits_are_kept() {
        let rec = r#"{"id":"z1","activityDisplayName":"Update policy","activityDateTime":"2026-03-03T09:00:00Z","initiatedBy":{},"targetResources":[]}"#;
        let e = one(&EntraAudit, rec);
        assert_eq!(e.kind, EventKind::Other);
        assert_eq!(e.subject, NO_ACCOUNT);
    }

    #[test]
    fn panther_times_and_missing_codes_are_refused_with_the_field() {
        let bad = r#"[{"time":"2025-01-15 09:30:45.123","category":"SignInLogs","properties":{"userPrincipalName":"a@b.example","status":{"errorCode":0}}},
                      {"time":"2025-01-15T09:30:45Z","category":"SignInLogs","resultType":"Failure","properties":{"userPrincipalName":"a@b.example"}}]"#;
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
    fn a_result_type_of_success_is_code_0() {
        let rec = r#"{"time":"2025-01-15T09:30:45Z","category":"SignInLogs","resultType":"Success","properties":{"userPrincipalName":"a@b.example"}}"#;
        let e = one(&EntraSignIn, rec);
        assert_eq!(e.kind, EventKind::AuthSucceeded);
        assert_eq!(e.attrs.get("error_code").map(String::as_str), Some("0"));
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
