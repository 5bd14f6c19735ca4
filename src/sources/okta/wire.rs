//! A LogEvent read straight from its JSON text into [`Fields`], borrowing its strings,
//! without building a `serde_json::Value` (most of ingest's parsing time went there).
//!
//! Only the usual shape is read here: the objects Okta documents, each key at most once,
//! `uuid`, `eventType` and `published` non-blank strings. Anything else (a string where an
//! object belongs, a repeated key, a missing id) gives `None`, and the record goes the
//! `Value` way, whose answer, error included, is the reference: both ways must give the
//! same events for every record this one reads (`tests` in `okta.rs`, and every Okta
//! fixture in `tests/sources.rs`).

use std::borrow::Cow;
use std::fmt;

use serde::de::value::MapAccessDeserializer;
use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use super::{Fields, Target};

/// The fields of a LogEvent, when its text has the usual shape.
pub(super) fn fields(text: &str) -> Option<Fields<'_>> {
    let Obj(e): Obj<LogEvent> = serde_json::from_str(text).ok()?;
    let Obj(outcome) = e.outcome.unwrap_or_default();
    let Obj(client) = e.client.unwrap_or_default();
    Some(Fields {
        id: e.uuid?.required()?,
        event_type: e.event_type?.required()?,
        published: e.published?.required()?,
        result: outcome.result.and_then(Loose::read),
        reason: outcome.reason.and_then(Loose::read),
        actor: e.actor.and_then(|a| a.0.alternate_id).and_then(Loose::read),
        targets: e
            .target
            .unwrap_or_default()
            .into_iter()
            .map(|Obj(t)| Target {
                kind: t.kind.and_then(Loose::string),
                id: t.id.and_then(Loose::read),
                alternate_id: t.alternate_id.and_then(Loose::read),
                display_name: t.display_name.and_then(Loose::read),
            })
            .collect(),
        ip: client.ip_address.and_then(Loose::read),
        zone: client.zone.and_then(Loose::read),
        session_id: e
            .authentication_context
            .and_then(|a| a.0.external_session_id)
            .and_then(Loose::read),
        changed_attributes: e
            .debug_context
            .and_then(|d| d.0.debug_data)
            .and_then(|d| d.0.changed_attributes)
            .and_then(Loose::read),
        caller_token: e
            .transaction
            .and_then(|t| t.0.detail)
            .and_then(|d| d.0.request_api_token_id)
            .and_then(Loose::read),
    })
}

// `Option` is absent or `null`, as `sources::at` reads them. serde's derive refuses a
// repeated key, where a `Value` keeps the last: such a record goes the `Value` way.

/// A struct read only from a JSON object. serde's derive also takes an array, fields by
/// position, which the `Value` way does not read as an object.
#[derive(Default)]
struct Obj<T>(T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Obj<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(ObjVisitor(std::marker::PhantomData))
    }
}

struct ObjVisitor<T>(std::marker::PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjVisitor<T> {
    type Value = Obj<T>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Obj<T>, A::Error> {
        T::deserialize(MapAccessDeserializer::new(map)).map(Obj)
    }
}

#[derive(Deserialize)]
struct LogEvent<'a> {
    #[serde(borrow)]
    uuid: Option<Loose<'a>>,
    #[serde(borrow)]
    published: Option<Loose<'a>>,
    #[serde(borrow, rename = "eventType")]
    event_type: Option<Loose<'a>>,
    #[serde(borrow)]
    outcome: Option<Obj<Outcome<'a>>>,
    #[serde(borrow)]
    actor: Option<Obj<Actor<'a>>>,
    #[serde(borrow)]
    target: Option<Vec<Obj<WireTarget<'a>>>>,
    #[serde(borrow)]
    client: Option<Obj<Client<'a>>>,
    #[serde(borrow, rename = "authenticationContext")]
    authentication_context: Option<Obj<AuthenticationContext<'a>>>,
    #[serde(borrow, rename = "debugContext")]
    debug_context: Option<Obj<DebugContext<'a>>>,
    #[serde(borrow)]
    transaction: Option<Obj<Transaction<'a>>>,
}

#[derive(Deserialize)]
struct Transaction<'a> {
    #[serde(borrow)]
    detail: Option<Obj<TransactionDetail<'a>>>,
}

#[derive(Deserialize)]
struct TransactionDetail<'a> {
    #[serde(borrow, rename = "requestApiTokenId")]
    request_api_token_id: Option<Loose<'a>>,
}

#[derive(Default, Deserialize)]
struct Outcome<'a> {
    #[serde(borrow)]
    result: Option<Loose<'a>>,
    #[serde(borrow)]
    reason: Option<Loose<'a>>,
}

#[derive(Deserialize)]
struct Actor<'a> {
    #[serde(borrow, rename = "alternateId")]
    alternate_id: Option<Loose<'a>>,
}

#[derive(Deserialize)]
struct WireTarget<'a> {
    #[serde(borrow, rename = "type")]
    kind: Option<Loose<'a>>,
    #[serde(borrow)]
    id: Option<Loose<'a>>,
    #[serde(borrow, rename = "alternateId")]
    alternate_id: Option<Loose<'a>>,
    #[serde(borrow, rename = "displayName")]
    display_name: Option<Loose<'a>>,
}

#[derive(Default, Deserialize)]
struct Client<'a> {
    #[serde(borrow, rename = "ipAddress")]
    ip_address: Option<Loose<'a>>,
    #[serde(borrow)]
    zone: Option<Loose<'a>>,
}

#[derive(Deserialize)]
struct AuthenticationContext<'a> {
    #[serde(borrow, rename = "externalSessionId")]
    external_session_id: Option<Loose<'a>>,
}

#[derive(Deserialize)]
struct DebugContext<'a> {
    #[serde(borrow, rename = "debugData")]
    debug_data: Option<Obj<DebugData<'a>>>,
}

#[derive(Deserialize)]
struct DebugData<'a> {
    #[serde(borrow, rename = "changedAttributes")]
    changed_attributes: Option<Loose<'a>>,
}

/// Any JSON value where a string is expected, kept as `sources::loose_str` would read it.
enum Loose<'a> {
    Str(Cow<'a, str>),
    /// A number or boolean, written out as a `Value` writes it.
    Written(String),
    /// An object, an array, or a number a `Value` holds as null.
    Other,
}

impl<'a> Loose<'a> {
    /// As `sources::loose_str`: a non-blank string, or a number or boolean written out.
    fn read(self) -> Option<Cow<'a, str>> {
        match self {
            Loose::Str(s) if !s.trim().is_empty() => Some(s),
            Loose::Written(s) => Some(Cow::Owned(s)),
            _ => None,
        }
    }

    /// A string as it is (`Value::as_str`).
    fn string(self) -> Option<Cow<'a, str>> {
        match self {
            Loose::Str(s) => Some(s),
            _ => None,
        }
    }

    /// A non-blank string, or `None` for the `Value` way to refuse with its own words.
    fn required(self) -> Option<Cow<'a, str>> {
        match self {
            Loose::Str(s) if !s.trim().is_empty() => Some(s),
            _ => None,
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Loose<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(LooseVisitor(std::marker::PhantomData))
    }
}

struct LooseVisitor<'a>(std::marker::PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for LooseVisitor<'a> {
    type Value = Loose<'a>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Loose<'a>, E> {
        Ok(Loose::Str(Cow::Borrowed(s)))
    }
    fn visit_str<E>(self, s: &str) -> Result<Loose<'a>, E> {
        Ok(Loose::Str(Cow::Owned(s.to_string())))
    }
    fn visit_string<E>(self, s: String) -> Result<Loose<'a>, E> {
        Ok(Loose::Str(Cow::Owned(s)))
    }
    fn visit_bool<E>(self, b: bool) -> Result<Loose<'a>, E> {
        Ok(Loose::Written(b.to_string()))
    }
    fn visit_i64<E>(self, n: i64) -> Result<Loose<'a>, E> {
        Ok(Loose::Written(serde_json::Number::from(n).to_string()))
    }
    fn visit_u64<E>(self, n: u64) -> Result<Loose<'a>, E> {
        Ok(Loose::Written(serde_json::Number::from(n).to_string()))
    }
    fn visit_f64<E>(self, n: f64) -> Result<Loose<'a>, E> {
        Ok(serde_json::Number::from_f64(n).map_or(Loose::Other, |n| Loose::Written(n.to_string())))
    }
    fn visit_unit<E>(self) -> Result<Loose<'a>, E> {
        Ok(Loose::Other)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Loose<'a>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Loose::Other)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Loose<'a>, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Loose::Other)
    }
}
