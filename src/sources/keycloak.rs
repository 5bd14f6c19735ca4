//! Keycloak events (work in progress).

use serde_json::Value;

use super::framing::Content;
use super::{FieldError, Source};
use crate::event::Event;

pub struct Keycloak;

impl Source for Keycloak {
    fn name(&self) -> &'static str {
        "keycloak"
    }
    fn description(&self) -> &'static str {
        "Keycloak user and admin events"
    }
    fn sniff(&self, _record: &Value, _content: Content) -> bool {
        false
    }
    fn normalise(&self, _record: &Value) -> Result<Vec<Event>, FieldError> {
        Err(FieldError::new(
            "/",
            "the keycloak source is not implemented yet",
        ))
    }
}
