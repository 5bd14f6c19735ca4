//! Generic CSV (work in progress).

use serde_json::Value;

use super::framing::Content;
use super::{FieldError, Source};
use crate::event::Event;

pub struct GenericCsv;

impl Source for GenericCsv {
    fn name(&self) -> &'static str {
        "csv"
    }
    fn description(&self) -> &'static str {
        "generic CSV with a documented column mapping"
    }
    fn sniff(&self, _record: &Value, _content: Content) -> bool {
        false
    }
    fn normalise(&self, _record: &Value) -> Result<Vec<Event>, FieldError> {
        Err(FieldError::new(
            "/",
            "the csv source is not implemented yet",
        ))
    }
}
