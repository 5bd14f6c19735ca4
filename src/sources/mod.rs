//! Sources: one file per input format, behind one trait. A source turns one record (already
//! split from its file by `framing`) into normalised events; it never touches the ledger.
//!
//! Invariants every source keeps:
//! - Records of event types no rule uses become `EventKind::Other` with `attrs.type` naming
//!   the source's type: kept and counted, never an error.
//! - A field that is missing or malformed is a [`FieldError`] naming the field (a JSON
//!   pointer or column name) and what was expected; never a panic.
//! - Timestamps must carry an offset (RFC 3339), or be a documented epoch number; the
//!   original text is kept in `original_time`.
//! - `subject` is the account (or credential) the event is about, as the IdP names it,
//!   lower-cased; `actor` is who did it when that is someone else. The policy maps accounts
//!   to people through the roster; ingest never does, so an entry does not depend on the
//!   order files were ingested in.
//! - `source_id` is the source's own event id when it has one (re-ingesting adds nothing).
//! - A failed or denied operation is never the successful kind: it is `Other` (or
//!   `auth.failed` for a credential failure) with `attrs.outcome` saying so.
//! - A source that reads less than a whole JSON record ([`Source::reads`]) or reads it
//!   straight from its text ([`Source::normalise_json`]) gives exactly the events its
//!   [`Source::normalise`] gives for the whole record; its tests hold it to that.
//! - [`all`] is the registry: every source, with the [`Role`] it declares. The policy's
//!   default IdP list and its source → IdP mapping come from it (`tests/sources.rs`
//!   enumerates it).

pub mod entra;
pub mod framing;
pub mod generic_csv;
pub mod github;
pub mod google;
pub mod keycloak;
pub mod normalised;
pub mod okta;
pub mod onelogin;
pub mod poll;
pub mod team;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value;

use crate::event::{Event, EventKind, TimeError, Timestamp};
use framing::Content;

/// The subject of a well-formed record that names no account at all (an unmodelled
/// category, a hand-trimmed export without an actor): kept as `other`, never a roster
/// account, so never attributed to a person.
pub const NO_ACCOUNT: &str = "(no account)";

/// A problem with one field of one record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub problem: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, problem: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            problem: problem.into(),
        }
    }
}

impl FieldError {
    /// A field reported missing that the record holds under another casing says so: keys
    /// are case-sensitive, and a SIEM table's row (Sentinel's `SigninLogs`, whose columns
    /// are PascalCase `CreatedDateTime`, `UserPrincipalName`) is not the IdP's own record.
    /// A JSON `raw` record is read again whole, only here on the error path (sources read
    /// pruned values); a CSV row's `value` is whole already.
    pub fn hint_other_casing(mut self, raw: &[u8], value: &Value) -> FieldError {
        if !self.problem.starts_with("missing") {
            return self;
        }
        let Some((parent, name)) = self.field.rsplit_once('/') else {
            return self;
        };
        let whole = serde_json::from_slice::<Value>(raw).ok();
        let found = match whole.as_ref().unwrap_or(value).pointer(parent) {
            Some(Value::Object(map)) => map
                .keys()
                .find(|k| k.as_str() != name && k.eq_ignore_ascii_case(name))
                .cloned(),
            _ => None,
        };
        if let Some(found) = found {
            self.problem.push_str(&format!(
                " (the record has `{found}`: keys are case-sensitive, and a SIEM table's \
                 row is not the IdP's own record)"
            ));
        }
        self
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "field {}: {}", self.field, self.problem)
    }
}

/// What a source's events are about, as the source declares it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// An identity provider's log. Its accounts are the directory accounts a contractor's
    /// expiry must deactivate; roster accounts name it as `<idp>:<account>`.
    IdentityProvider { idp: &'static str },
    /// A platform with its own accounts and credentials (GitHub): access is used and
    /// revoked there, but the directory deactivation happens elsewhere.
    Platform { idp: &'static str },
    /// Team facts: roster, sprints, approvals, reminders, reviews.
    Team,
    /// Events that name their own tool in `source` (generic CSV, normalised events); the
    /// tool's name is its IdP name.
    Tool,
}

/// One input format.
pub trait Source: Sync {
    /// The name used with `--source` and stored as the event's `source`.
    fn name(&self) -> &'static str;
    /// Which kind of source this is, and for IdP sources which IdP.
    fn role(&self) -> Role;
    /// One line for `--help` and the docs.
    fn description(&self) -> &'static str;
    /// For `--source auto`: whether the first record of a file looks like this source.
    fn sniff(&self, record: &Value, content: Content) -> bool;
    /// Turns one record into events (usually exactly one).
    fn normalise(&self, record: &Value) -> Result<Vec<Event>, FieldError>;
    /// Whether the source's exports may be CSV. A JSON-only source refuses a file that is
    /// not JSON rather than read its first line as a CSV header and find no rows: an
    /// error page saved in place of an export is not a quiet day.
    fn reads_csv(&self) -> bool {
        false
    }
    /// What `normalise` reads of a JSON record; nothing else of it is parsed into the
    /// `Value` it gets. Everything, unless a source declares less.
    fn reads(&self) -> &'static framing::Reads {
        &framing::Reads::All
    }
    /// The events of a JSON record straight from its text, for a source with a typed
    /// parser and a record of the shape it expects: exactly what [`Source::normalise`]
    /// gives for it. `None` leaves the record to `normalise` (any other shape, any error).
    fn normalise_json(&self, _text: &str) -> Option<Vec<Event>> {
        None
    }
}

/// Every source, in the order `--source auto` tries them.
pub fn all() -> Vec<&'static dyn Source> {
    vec![
        &okta::Okta,
        &entra::EntraAudit,
        &entra::EntraSignIn,
        &entra::Entra,
        &keycloak::Keycloak,
        &onelogin::OneLogin,
        &github::GitHub,
        &google::Google,
        &team::Roster,
        &team::Sprints,
        &team::Approvals,
        &team::Reminders,
        &team::Reviews,
        &generic_csv::GenericCsv,
        &normalised::Normalised,
    ]
}

pub fn by_name(name: &str) -> Option<&'static dyn Source> {
    all().into_iter().find(|s| s.name() == name)
}

/// The source a mistyped `--source` most likely meant: the nearest name by edits (at most
/// two), or one the text is the start of.
pub fn nearest_name(name: &str) -> Option<&'static str> {
    let name = name.to_lowercase();
    all()
        .into_iter()
        .map(|s| (edits(&name, s.name()), s.name()))
        .filter(|(d, n)| *d <= 2 || (name.len() >= 3 && n.starts_with(name.as_str())))
        .min_by_key(|(d, _)| *d)
        .map(|(_, n)| n)
}

/// Levenshtein distance.
fn edits(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = i;
        if let Some(first) = row.first_mut() {
            *first = i + 1;
        }
        for (j, cb) in b.iter().enumerate() {
            let above = row.get(j + 1).copied().unwrap_or(usize::MAX);
            let left = row.get(j).copied().unwrap_or(usize::MAX);
            let cost = diagonal + usize::from(ca != *cb);
            diagonal = above;
            if let Some(cell) = row.get_mut(j + 1) {
                *cell = cost.min(above + 1).min(left + 1);
            }
        }
    }
    row.last().copied().unwrap_or(0)
}

/// Gives each event of a record that yields several a key of its own where the source
/// gave none: `<the raw record's BLAKE3 hash>#<its place in the record>`. Keyed by the raw
/// record alone, the ledger would take the second for a copy of the first and keep one
/// (an Entra "Update user" without an id that re-enables an account and sets a leave
/// date). Every way in (files, hooks, pulls) calls this, so a record keys the same
/// however it arrives with the same bytes.
pub fn key_events(raw: &[u8], events: &mut [Event]) {
    if events.len() > 1 {
        let record = crate::tlog::merkle::to_hex(&crate::ledger::entry::raw_hash(raw));
        for (i, e) in events.iter_mut().enumerate() {
            if e.source_id.is_none() {
                e.source_id = Some(format!("{record}#{i}"));
            }
        }
    }
}

/// The IdP an event's `source` belongs to (`entra-signin` → `entra`): what roster accounts
/// are prefixed with. A tool's events (generic CSV) name their tool, which is its own IdP.
pub fn idp_of(source: &str) -> &str {
    match by_name(source).map(|s| s.role()) {
        Some(Role::IdentityProvider { idp } | Role::Platform { idp }) => idp,
        _ => source,
    }
}

/// The identity providers in the registry, in registry order, each once: the policy's
/// default `idp_sources`.
pub fn identity_providers() -> Vec<&'static str> {
    let mut out = Vec::new();
    for s in all() {
        if let Role::IdentityProvider { idp } = s.role() {
            if !out.contains(&idp) {
                out.push(idp);
            }
        }
    }
    out
}

/// Whether `source` (a source name, as events carry it) is an IdP or a platform: a log
/// with its own accounts and the controls that end them, unlike a tool's generic CSV.
pub fn has_own_controls(source: &str) -> bool {
    by_name(source).is_some_and(|s| {
        matches!(
            s.role(),
            Role::IdentityProvider { .. } | Role::Platform { .. }
        )
    })
}

/// Whether `name` is a team source (its records are facts about the team, not IdP events).
pub fn is_team(name: &str) -> bool {
    by_name(name).is_some_and(|s| s.role() == Role::Team)
}

/// The sources whose sniff accepts this first record. An Entra diagnostic-settings record
/// goes to `entra`, which reads audit and sign-in records by their category: one Event Hub
/// or storage export may mix them, and the first record only names its own kind.
pub fn detect(record: &Value, content: Content) -> Vec<&'static dyn Source> {
    let found: Vec<&'static dyn Source> = all()
        .into_iter()
        .filter(|s| s.sniff(record, content))
        .collect();
    match found.as_slice() {
        [one] if one.name().starts_with("entra-") && entra::is_diagnostic_record(record) => {
            vec![&entra::Entra]
        }
        _ => found,
    }
}

// ---- helpers shared by the sources -------------------------------------------------------

/// The value at a JSON pointer (`/actor/alternateId`), if present and not null.
pub fn at<'v>(record: &'v Value, pointer: &str) -> Option<&'v Value> {
    // `Value::pointer` unescapes every token (`~0`, `~1`) with two allocating `replace`
    // calls: a tenth of Okta ingest's time. Our pointers are literals without `~`.
    if !pointer.is_empty() && !pointer.starts_with('/') {
        return None;
    }
    let mut v = record;
    for token in pointer.split('/').skip(1) {
        v = match v {
            Value::Object(map) => map.get(token)?,
            Value::Array(items) => items.get(token.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(v).filter(|v| !v.is_null())
}

/// A string at a pointer; numbers are accepted and written in decimal (some exports
/// quote ids, some do not).
pub fn opt_str(record: &Value, pointer: &str) -> Option<String> {
    at(record, pointer).and_then(loose_str).map(Cow::into_owned)
}

/// A value read as [`opt_str`] reads it: a non-blank string, or a number or boolean
/// written out.
pub fn loose_str(value: &Value) -> Option<Cow<'_, str>> {
    match value {
        Value::String(s) if !s.trim().is_empty() => Some(Cow::Borrowed(s)),
        Value::Number(n) => Some(Cow::Owned(n.to_string())),
        Value::Bool(b) => Some(Cow::Owned(b.to_string())),
        _ => None,
    }
}

/// A required, non-empty string at a pointer.
pub fn req_str(record: &Value, pointer: &str) -> Result<String, FieldError> {
    match at(record, pointer) {
        None => Err(FieldError::new(pointer, "missing; expected a string")),
        Some(Value::String(s)) if s.trim().is_empty() => {
            Err(FieldError::new(pointer, "empty; expected a string"))
        }
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(FieldError::new(
            pointer,
            format!("expected a string, got {}", json_type(other)),
        )),
    }
}

/// A required id at a pointer: a non-empty string or an integer (some APIs send numeric
/// ids, some exports quote them).
pub fn req_id(record: &Value, pointer: &str) -> Result<String, FieldError> {
    match at(record, pointer) {
        Some(Value::Number(n)) if n.is_u64() || n.is_i64() => Ok(n.to_string()),
        Some(Value::Number(_)) => Err(FieldError::new(pointer, "expected an integer or string id")),
        _ => req_str(record, pointer),
    }
}

pub fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A required RFC 3339 time (with offset) at a pointer: (UTC instant, original text).
pub fn req_time(record: &Value, pointer: &str) -> Result<(Timestamp, String), FieldError> {
    parse_time(pointer, req_str(record, pointer)?)
}

/// An RFC 3339 time (with offset), the text of the field at `pointer`.
pub fn parse_time(pointer: &str, text: String) -> Result<(Timestamp, String), FieldError> {
    let t = Timestamp::parse_rfc3339(&text).map_err(|e| match e {
        TimeError::NoSuchTime(_) => FieldError::new(pointer, e.to_string()),
        _ => FieldError::new(
            pointer,
            format!(
                "{text:?} is not an RFC 3339 time with an offset (e.g. 2026-03-19T17:05:00.000Z)"
            ),
        ),
    })?;
    Ok((t, text))
}

/// The smallest epoch-milliseconds time taken (1973-03-03T09:46:40Z): every time in
/// seconds up to the year 5138 is below it.
const EPOCH_MILLIS_FLOOR: i64 = 100_000_000_000;
/// The largest taken (9999-12-31T23:59:59.999Z): a time in microseconds is past it.
const EPOCH_MILLIS_CEILING: i64 = 253_402_300_799_999;

/// A required epoch-milliseconds time at a pointer (GitHub `@timestamp`, Keycloak `time`).
pub fn req_epoch_millis(record: &Value, pointer: &str) -> Result<(Timestamp, String), FieldError> {
    let ms = match at(record, pointer) {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.trim().parse::<i64>().ok(),
        _ => None,
    }
    .ok_or_else(|| {
        FieldError::new(
            pointer,
            "missing or not an integer count of milliseconds since 1970-01-01T00:00:00Z",
        )
    })?;
    if ms < EPOCH_MILLIS_FLOOR {
        // Read as milliseconds, a time in seconds lands in January 1970 and would pass for
        // an event decades before the ledger, so it is refused rather than misdated.
        return Err(FieldError::new(
            pointer,
            format!(
                "{ms} is before 1973-03-03 as milliseconds since 1970-01-01T00:00:00Z; \
                 expected milliseconds (is it seconds?)"
            ),
        ));
    }
    if ms > EPOCH_MILLIS_CEILING {
        return Err(FieldError::new(
            pointer,
            format!(
                "{ms} is after the year 9999 as milliseconds since 1970-01-01T00:00:00Z; \
                 expected milliseconds (is it microseconds?)"
            ),
        ));
    }
    let t = Timestamp(
        ms.checked_mul(1000)
            .ok_or_else(|| FieldError::new(pointer, "out of range"))?,
    );
    if t.to_datetime().timestamp_micros() != t.0 {
        return Err(FieldError::new(pointer, "out of range"));
    }
    Ok((t, ms.to_string()))
}

/// A lower-cased, trimmed account name: how subjects are compared.
pub fn norm_account(s: &str) -> String {
    s.trim().to_lowercase()
}

/// An event with the common fields set; callers add actor, account and attrs.
pub fn new_event(
    source: &str,
    source_id: Option<String>,
    kind: EventKind,
    subject: &str,
    (occurred_at, original_time): (Timestamp, String),
) -> Event {
    Event {
        source: source.to_string(),
        source_id,
        kind,
        subject: norm_account(subject),
        account: Some(subject.trim().to_string()),
        actor: None,
        occurred_at,
        original_time,
        attrs: BTreeMap::new(),
    }
}

/// Sets `attrs[key]` when `value` is present.
/// `text` when it is an IP address: never the `"null"`, `"unknown"` or `"<null>"` IdPs
/// write where a record has none.
pub fn ip_address(text: &str) -> Option<String> {
    let text = text.trim();
    text.parse::<std::net::IpAddr>()
        .is_ok()
        .then(|| text.to_string())
}

pub fn put(event: &mut Event, key: &str, value: Option<String>) {
    if let Some(v) = value {
        event.attrs.insert(key.to_string(), v);
    }
}

#[cfg(test)]
pub mod testing {
    //! Helpers for the sources' own tests.
    use super::*;

    /// Normalises every record of `input` with `source`; framing problems panic (tests).
    pub fn normalise_all(source: &dyn Source, input: &[u8]) -> Vec<Result<Vec<Event>, String>> {
        let mut out = vec![];
        framing::for_each_record(input, source.reads(), &mut |r| {
            out.push(match r.value {
                Err(e) => Err(format!("{}: {e}", r.location)),
                Ok(v) => source
                    .normalise(&v)
                    .map_err(|e| format!("{}: {e}", r.location)),
            });
            Ok(())
        })
        .unwrap_or_else(|e| panic!("framing: {e}"));
        out
    }
}
