//! The normalised event: what every source turns its records into, and what the ledger
//! stores, hashes and the policy reads.
//!
//! Invariants kept here:
//! - `occurred_at` is UTC (microseconds since the Unix epoch); the source's own text of the
//!   time, with its offset or zone, is kept beside it in `original_time`.
//! - A timestamp without an offset is refused (the caller may name a zone for sources whose
//!   documentation fixes one).
//! - `kind` is encoded as its stable dotted name, never as an enum index, so adding a kind
//!   never changes the canonical bytes of existing entries.
//! - `attrs` is a `BTreeMap`, so its encoding is deterministic.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{de, Deserialize, Deserializer, Serialize, Serializer};
use thiserror::Error;

/// A UTC instant with microsecond precision. Serialized as an RFC 3339 string in JSON and
/// as an i64 count of microseconds in the canonical (postcard) encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

#[derive(Debug, Error, PartialEq, Eq)]
pub enum TimeError {
    #[error("expected an RFC 3339 time with an offset (e.g. 2026-03-19T17:05:00Z), got {0:?}")]
    NotRfc3339(String),
    #[error("time {0:?} is outside the supported range")]
    OutOfRange(String),
    /// Shaped like RFC 3339 but naming no real instant: February 30th, hour 25.
    #[error("{0:?} is no such date or time (a day, month, hour or minute past its last)")]
    NoSuchTime(String),
}

impl Timestamp {
    pub fn from_datetime(dt: DateTime<Utc>) -> Self {
        Timestamp(dt.timestamp_micros())
    }

    /// Parses an RFC 3339 time; the offset is required.
    pub fn parse_rfc3339(text: &str) -> Result<Self, TimeError> {
        let dt = DateTime::parse_from_rfc3339(text).map_err(|e| match e.kind() {
            chrono::format::ParseErrorKind::OutOfRange => TimeError::NoSuchTime(text.to_string()),
            _ => TimeError::NotRfc3339(text.to_string()),
        })?;
        Ok(Self::from_datetime(dt.with_timezone(&Utc)))
    }

    pub fn to_datetime(self) -> DateTime<Utc> {
        DateTime::from_timestamp_micros(self.0).unwrap_or(DateTime::<Utc>::MIN_UTC)
    }

    /// RFC 3339 in UTC with a `Z`, seconds precision when whole, else microseconds.
    pub fn to_rfc3339(self) -> String {
        let format = if self.0 % 1_000_000 == 0 {
            SecondsFormat::Secs
        } else {
            SecondsFormat::Micros
        };
        self.to_datetime().to_rfc3339_opts(format, true)
    }

    pub fn now() -> Self {
        Self::from_datetime(Utc::now())
    }

    /// Now, truncated to whole seconds: what checkpoints and reports show.
    pub fn now_seconds() -> Self {
        let t = Self::now();
        Timestamp(t.0 - t.0.rem_euclid(1_000_000))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `pad`, so a width lines times of different precision up in columns.
        f.pad(&self.to_rfc3339())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.serialize_str(&self.to_rfc3339())
        } else {
            s.serialize_i64(self.0)
        }
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if d.is_human_readable() {
            let text = String::deserialize(d)?;
            Timestamp::parse_rfc3339(&text).map_err(de::Error::custom)
        } else {
            Ok(Timestamp(i64::deserialize(d)?))
        }
    }
}

macro_rules! event_kinds {
    ($($variant:ident => $name:literal, $doc:literal;)*) => {
        /// What an event says happened. The dotted name is the stable identifier.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum EventKind {
            $(#[doc = $doc] $variant,)*
        }

        impl EventKind {
            pub const ALL: &'static [EventKind] = &[$(EventKind::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(EventKind::$variant => $name,)*
                }
            }

            pub fn parse(name: &str) -> Option<Self> {
                match name {
                    $($name => Some(EventKind::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

event_kinds! {
    AccountCreated => "account.created", "An account was created or provisioned.";
    AccountDeactivated => "account.deactivated", "The account was deactivated or disabled.";
    AccountSuspended => "account.suspended", "The account was suspended.";
    AccountDeleted => "account.deleted", "The account was deleted.";
    AccountReactivated => "account.reactivated", "The account was reactivated or unsuspended.";
    AccountUpdated => "account.updated", "Profile attributes or sign-in credentials (password, MFA) changed, other than expiry.";
    ExpirySet => "expiry.set", "An end date or expiry was set or changed on the account.";
    SessionStarted => "session.started", "A session was started.";
    SessionActivity => "session.activity", "A session was used.";
    SessionEnded => "session.ended", "A session ended (logout or timeout).";
    SessionRevoked => "session.revoked", "Sessions were revoked by an administrator or by policy.";
    TokenCreated => "token.created", "A token, PAT or API key was created.";
    TokenUsed => "token.used", "A token, PAT or API key was used.";
    TokenRevoked => "token.revoked", "A token, PAT or API key was revoked.";
    AuthSucceeded => "auth.succeeded", "An authentication succeeded.";
    AuthFailed => "auth.failed", "An authentication failed; `attrs.reason` says why.";
    AccessUsed => "access.used", "The person used access they already had: SSO into an app, a web or API action (pull request, repository, organisation or admin change); `attrs.type` names it.";
    GroupGranted => "group.granted", "A group or role membership was granted.";
    GroupRemoved => "group.removed", "A group or role membership was removed.";
    ExtensionRequested => "extension.requested", "An access extension was requested.";
    ExtensionApproved => "extension.approved", "An approver approved an extension request.";
    ExtensionDenied => "extension.denied", "An approver denied an extension request.";
    ReminderSent => "reminder.sent", "An expiry reminder was sent; `attrs.status` says if it was delivered.";
    ReviewSignedOff => "review.signed_off", "A pre-expiry access review was signed off.";
    RosterEntry => "roster.entry", "A roster fact about a person (contract end, manager, zone, accounts).";
    SprintDefined => "sprint.defined", "A sprint's dates.";
    Other => "other", "A record of a type no rule uses; kept and counted, `attrs.type` names it.";
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for EventKind {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for EventKind {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        EventKind::parse(&name).ok_or_else(|| {
            de::Error::custom(format!(
                "unknown event kind {name:?}; expected one of: {}",
                EventKind::ALL
                    .iter()
                    .map(|k| k.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
    }
}

/// A normalised event. Field order is the canonical encoding order: do not reorder, and
/// never skip a field when serializing (postcard has no field names to recover from).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Event {
    /// The input format it came from, e.g. `okta`, `entra-signin`, `roster`.
    pub source: String,
    /// The source's own id of the record, used to ignore re-ingested records.
    #[serde(default)]
    pub source_id: Option<String>,
    pub kind: EventKind,
    /// The person or credential the event is about, normalised (lower-case login or email).
    pub subject: String,
    /// The account as the source named it (Okta login, Entra UPN, GitHub handle...).
    #[serde(default)]
    pub account: Option<String>,
    /// Who did it, when that is someone else than the subject.
    #[serde(default)]
    pub actor: Option<String>,
    pub occurred_at: Timestamp,
    /// The time exactly as the source wrote it, with its offset or zone.
    #[serde(default)]
    pub original_time: String,
    /// The fields a rule needs (reason, token id, request id, role...).
    #[serde(default)]
    pub attrs: BTreeMap<String, String>,
}

#[derive(Debug, Error)]
pub enum EventError {
    #[error("{field}: {problem}")]
    Field {
        field: &'static str,
        problem: String,
    },
    #[error("{0}")]
    Json(String),
}

impl Event {
    /// The field names of the JSON form, in canonical order.
    pub const FIELDS: &'static [&'static str] = &[
        "source",
        "source_id",
        "kind",
        "subject",
        "account",
        "actor",
        "occurred_at",
        "original_time",
        "attrs",
    ];

    /// Parses one normalised event from its JSON form, as `append` reads it, and checks it.
    pub fn from_json(line: &str) -> Result<Self, EventError> {
        let value: serde_json::Value =
            serde_json::from_str(line).map_err(|e| EventError::Json(e.to_string()))?;
        Self::from_value(value)
    }

    /// The same from an already parsed JSON value.
    pub fn from_value(value: serde_json::Value) -> Result<Self, EventError> {
        let time_text = value
            .get("occurred_at")
            .and_then(|v| v.as_str())
            .map(str::to_string);
        let mut event: Event =
            serde_json::from_value(value).map_err(|e| EventError::Json(e.to_string()))?;
        if event.original_time.is_empty() {
            event.original_time = time_text.unwrap_or_default();
        }
        event.validate()?;
        Ok(event)
    }

    /// Checks what serde cannot: non-empty identifiers.
    pub fn validate(&self) -> Result<(), EventError> {
        let non_empty = |field: &'static str, v: &str| {
            if v.trim().is_empty() {
                Err(EventError::Field {
                    field,
                    problem: "must not be empty".into(),
                })
            } else {
                Ok(())
            }
        };
        non_empty("source", &self.source)?;
        non_empty("subject", &self.subject)?;
        if let Some(id) = &self.source_id {
            non_empty("source_id", id)?;
        }
        Ok(())
    }

    // serde_json fails only on a failing Serialize impl or a map with non-string keys: the
    // fields are strings, an enum and a timestamp that serialize as strings, and a map of
    // strings to strings.
    #[allow(clippy::expect_used)]
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("an event always serializes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_keeps_original_offset() {
        let e = Event::from_json(
            r#"{"source":"okta","source_id":"x1","kind":"account.deactivated","subject":"jo@acme.example","occurred_at":"2026-03-19T09:05:00-08:00"}"#,
        )
        .unwrap();
        assert_eq!(e.occurred_at.to_rfc3339(), "2026-03-19T17:05:00Z");
        assert_eq!(e.original_time, "2026-03-19T09:05:00-08:00");
    }

    #[test]
    fn refuses_time_without_offset_and_unknown_kind() {
        let err = Event::from_json(
            r#"{"source":"okta","kind":"account.deactivated","subject":"a","occurred_at":"2026-03-19 09:05:00"}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("offset"), "{err}");
        let err = Event::from_json(
            r#"{"source":"okta","kind":"account.vanished","subject":"a","occurred_at":"2026-03-19T09:05:00Z"}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("unknown event kind"), "{err}");
    }

    #[test]
    fn a_date_that_does_not_exist_is_named_so_not_called_a_format_error() {
        for text in [
            "2026-02-30T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-03-19T25:00:00Z",
        ] {
            assert_eq!(
                Timestamp::parse_rfc3339(text),
                Err(TimeError::NoSuchTime(text.into())),
                "{text}"
            );
        }
        assert!(Timestamp::parse_rfc3339("2028-02-29T00:00:00Z").is_ok());
        assert_eq!(
            Timestamp::parse_rfc3339("2026-02-28 00:00:00"),
            Err(TimeError::NotRfc3339("2026-02-28 00:00:00".into()))
        );
    }

    #[test]
    fn kind_names_round_trip() {
        for k in EventKind::ALL {
            assert_eq!(EventKind::parse(k.as_str()), Some(*k));
        }
    }

    #[test]
    fn timestamp_encodings() {
        let t = Timestamp::parse_rfc3339("2026-03-19T17:05:00.250Z").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-03-19T17:05:00.250000Z");
        assert_eq!(
            postcard::to_stdvec(&t).unwrap(),
            postcard::to_stdvec(&t.0).unwrap()
        );
    }
}
