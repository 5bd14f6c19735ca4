//! Google Workspace Reports (work in progress).

use serde_json::Value;

use super::framing::Content;
use super::{FieldError, Source};
use crate::event::Event;

pub struct Google;

impl Source for Google {
    fn name(&self) -> &'static str {
        "google"
    }
    fn description(&self) -> &'static str {
        "Google Workspace Reports API activities"
    }
    fn sniff(&self, _record: &Value, _content: Content) -> bool {
        false
    }
    fn normalise(&self, _record: &Value) -> Result<Vec<Event>, FieldError> {
        Err(FieldError::new(
            "/",
            "the google source is not implemented yet",
        ))
    }
}
