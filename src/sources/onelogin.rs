//! OneLogin events (work in progress).

use serde_json::Value;

use super::framing::Content;
use super::{FieldError, Source};
use crate::event::Event;

pub struct OneLogin;

impl Source for OneLogin {
    fn name(&self) -> &'static str {
        "onelogin"
    }
    fn description(&self) -> &'static str {
        "OneLogin events API"
    }
    fn sniff(&self, _record: &Value, _content: Content) -> bool {
        false
    }
    fn normalise(&self, _record: &Value) -> Result<Vec<Event>, FieldError> {
        Err(FieldError::new(
            "/",
            "the onelogin source is not implemented yet",
        ))
    }
}
