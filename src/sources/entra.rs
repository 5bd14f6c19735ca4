//! Microsoft Entra ID audit and sign-in logs (work in progress).

use serde_json::Value;

use super::framing::Content;
use super::{FieldError, Source};
use crate::event::Event;

pub struct EntraAudit;

impl Source for EntraAudit {
    fn name(&self) -> &'static str {
        "entra-audit"
    }
    fn description(&self) -> &'static str {
        "Entra ID directory audit logs"
    }
    fn sniff(&self, _record: &Value, _content: Content) -> bool {
        false
    }
    fn normalise(&self, _record: &Value) -> Result<Vec<Event>, FieldError> {
        Err(FieldError::new(
            "/",
            "the entra-audit source is not implemented yet",
        ))
    }
}

pub struct EntraSignIn;

impl Source for EntraSignIn {
    fn name(&self) -> &'static str {
        "entra-signin"
    }
    fn description(&self) -> &'static str {
        "Entra ID sign-in logs"
    }
    fn sniff(&self, _record: &Value, _content: Content) -> bool {
        false
    }
    fn normalise(&self, _record: &Value) -> Result<Vec<Event>, FieldError> {
        Err(FieldError::new(
            "/",
            "the entra-signin source is not implemented yet",
        ))
    }
}
