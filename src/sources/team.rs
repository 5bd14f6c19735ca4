//! The team's own records (work in progress).

use serde_json::Value;

use super::framing::Content;
use super::{FieldError, Source};
use crate::event::Event;

pub struct Roster;

impl Source for Roster {
    fn name(&self) -> &'static str {
        "roster"
    }
    fn description(&self) -> &'static str {
        "roster"
    }
    fn sniff(&self, _record: &Value, _content: Content) -> bool {
        false
    }
    fn normalise(&self, _record: &Value) -> Result<Vec<Event>, FieldError> {
        Err(FieldError::new(
            "/",
            "the roster source is not implemented yet",
        ))
    }
}

pub struct Sprints;

impl Source for Sprints {
    fn name(&self) -> &'static str {
        "sprints"
    }
    fn description(&self) -> &'static str {
        "sprints"
    }
    fn sniff(&self, _record: &Value, _content: Content) -> bool {
        false
    }
    fn normalise(&self, _record: &Value) -> Result<Vec<Event>, FieldError> {
        Err(FieldError::new(
            "/",
            "the sprints source is not implemented yet",
        ))
    }
}

pub struct Approvals;

impl Source for Approvals {
    fn name(&self) -> &'static str {
        "approvals"
    }
    fn description(&self) -> &'static str {
        "approvals"
    }
    fn sniff(&self, _record: &Value, _content: Content) -> bool {
        false
    }
    fn normalise(&self, _record: &Value) -> Result<Vec<Event>, FieldError> {
        Err(FieldError::new(
            "/",
            "the approvals source is not implemented yet",
        ))
    }
}

pub struct Reminders;

impl Source for Reminders {
    fn name(&self) -> &'static str {
        "reminders"
    }
    fn description(&self) -> &'static str {
        "reminders"
    }
    fn sniff(&self, _record: &Value, _content: Content) -> bool {
        false
    }
    fn normalise(&self, _record: &Value) -> Result<Vec<Event>, FieldError> {
        Err(FieldError::new(
            "/",
            "the reminders source is not implemented yet",
        ))
    }
}

pub struct Reviews;

impl Source for Reviews {
    fn name(&self) -> &'static str {
        "reviews"
    }
    fn description(&self) -> &'static str {
        "reviews"
    }
    fn sniff(&self, _record: &Value, _content: Content) -> bool {
        false
    }
    fn normalise(&self, _record: &Value) -> Result<Vec<Event>, FieldError> {
        Err(FieldError::new(
            "/",
            "the reviews source is not implemented yet",
        ))
    }
}
