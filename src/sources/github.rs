//! GitHub audit log (work in progress).

use serde_json::Value;

use super::framing::Content;
use super::{FieldError, Source};
use crate::event::Event;

pub struct GitHub;

impl Source for GitHub {
    fn name(&self) -> &'static str {
        "github"
    }
    fn description(&self) -> &'static str {
        "GitHub organisation audit log (JSON or CSV)"
    }
    fn sniff(&self, _record: &Value, _content: Content) -> bool {
        false
    }
    fn normalise(&self, _record: &Value) -> Result<Vec<Event>, FieldError> {
        Err(FieldError::new(
            "/",
            "the github source is not implemented yet",
        ))
    }
}
