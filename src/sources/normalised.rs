//! Already-normalised events, one JSON object per line (`auditledger append`): the generic
//! entry point for tools that produce events in our own model (`event::Event`'s JSON form).

use serde_json::Value;

use super::framing::Content;
use super::{FieldError, Role, Source};
use crate::event::{Event, EventError};

pub struct Normalised;

impl Source for Normalised {
    fn name(&self) -> &'static str {
        "events"
    }

    fn role(&self) -> Role {
        Role::Tool
    }

    fn description(&self) -> &'static str {
        "already-normalised events, one JSON object per line (what `append` reads)"
    }

    /// Our own JSON form: the four required fields, and no key the model does not have (a
    /// flat record with extra columns is the generic `csv` format instead).
    fn sniff(&self, record: &Value, content: Content) -> bool {
        content != Content::Csv
            && ["source", "kind", "subject", "occurred_at"]
                .iter()
                .all(|k| record.get(k).is_some_and(Value::is_string))
            && record
                .as_object()
                .is_some_and(|o| o.keys().all(|k| Event::FIELDS.contains(&k.as_str())))
    }

    fn normalise(&self, record: &Value) -> Result<Vec<Event>, FieldError> {
        match Event::from_value(record.clone()) {
            Ok(e) => Ok(vec![e]),
            Err(EventError::Field { field, problem }) => Err(FieldError::new(field, problem)),
            Err(EventError::Json(msg)) => Err(FieldError::new("/", msg)),
        }
    }
}
