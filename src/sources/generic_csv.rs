//! Generic CSV: events from tools that have no adapter (a VPN, a CI server, a ticketing
//! system), written by whoever exports them in a documented column mapping. JSON Lines with
//! the same keys is read the same way. The mapping is specified in `docs/formats.md`
//! ("csv").
//!
//! Columns: `source` (the tool's name; becomes the event's `source`), `kind` (an
//! [`EventKind`] dotted name such as `session.activity`), `subject`, `occurred_at`
//! (RFC 3339 with an offset) are required; `source_id`, `account`, `actor` are optional;
//! every other non-empty column becomes an attr of the same name (`ip`, `token_id`,
//! `session_id`, `reason`…, named as in okta.rs so the policy reads them alike).
//!
//! What it refuses, and why:
//! - an unknown `kind`, naming the column and listing the kinds (a typo would otherwise turn
//!   evidence into nothing);
//! - the kinds the team formats own (`roster.entry`, `extension.*`, …): those formats check
//!   the fields the policy relies on, this one cannot;
//! - a `source` named like a built-in source (`okta`, `roster`, …): the events would share
//!   that adapter's de-duplication ids and be read as its validated output;
//! - `kind` `other` without a `type` column (every `other` event names its type).

use serde_json::Value;

use super::framing::Content;
use super::team::{column_name, sniff_flat, Row};
use super::{new_event, norm_account, FieldError, Role, Source};
use crate::event::{Event, EventKind};

pub struct GenericCsv;

/// The columns with a place in the event itself; every other one is an attr.
const EVENT_COLUMNS: &[&str] = &[
    "source",
    "source_id",
    "kind",
    "subject",
    "account",
    "actor",
    "occurred_at",
];

/// Kinds only the team formats may produce, and the `--source` that does.
fn team_format_of(kind: EventKind) -> Option<&'static str> {
    use EventKind::*;
    match kind {
        RosterEntry => Some("roster"),
        SprintDefined => Some("sprints"),
        ExtensionRequested | ExtensionApproved | ExtensionDenied => Some("approvals"),
        ReminderSent => Some("reminders"),
        ReviewSignedOff => Some("reviews"),
        _ => None,
    }
}

impl Source for GenericCsv {
    fn reads_csv(&self) -> bool {
        true
    }

    fn name(&self) -> &'static str {
        "csv"
    }

    fn role(&self) -> Role {
        Role::Tool
    }

    fn description(&self) -> &'static str {
        "generic CSV with a documented column mapping: source, kind, subject, occurred_at, then attrs"
    }

    fn sniff(&self, record: &Value, _: Content) -> bool {
        sniff_flat(self.name(), record)
    }

    fn normalise(&self, record: &Value) -> Result<Vec<Event>, FieldError> {
        let row = Row::any(record)?;
        let tool = row.req("source", "the name of the tool that recorded the event")?;
        let tool = check_tool_name(&tool)?;
        let kind_text = row.req("kind", "an event kind such as session.activity")?;
        let kind = EventKind::parse(&kind_text).ok_or_else(|| {
            FieldError::new(
                "kind",
                format!(
                    "{kind_text:?} is not an event kind; expected one of: {}",
                    EventKind::ALL
                        .iter()
                        .filter(|k| team_format_of(**k).is_none())
                        .map(|k| k.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })?;
        if let Some(format) = team_format_of(kind) {
            return Err(FieldError::new(
                "kind",
                format!("{kind_text} events come from their own format; use --source {format}"),
            ));
        }
        let subject = row.req("subject", "the account or person the event is about")?;
        let time = row.req_time("occurred_at")?;
        let source_id = row.opt("source_id")?;
        let account = row.opt("account")?;
        let actor = row.opt("actor")?;

        let mut e = new_event(&tool, source_id, kind, &subject, time);
        if account.is_some() {
            e.account = account;
        }
        e.actor = actor.map(|a| norm_account(&a));
        for column in row.columns() {
            if EVENT_COLUMNS.contains(&column) {
                continue;
            }
            if let Some(value) = row.opt(column)? {
                if column.trim().is_empty() {
                    return Err(FieldError::new(
                        column_name(column),
                        "a value under a column without a name; name the column in the header",
                    ));
                }
                e.attrs.insert(column.to_string(), value);
            }
        }
        if kind == EventKind::Other && !e.attrs.contains_key("type") {
            return Err(FieldError::new(
                "type",
                "missing or empty; an event of kind other must name the tool's own event type",
            ));
        }
        Ok(vec![e])
    }
}

/// The tool's name: lower-case letters, digits, `-`, `_`, `.`; not a built-in source's.
fn check_tool_name(text: &str) -> Result<String, FieldError> {
    let name = text.to_lowercase();
    let shaped = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if !shaped {
        return Err(FieldError::new(
            "source",
            format!("{text:?} is not a tool name (letters, digits, _ - .; e.g. openvpn)"),
        ));
    }
    if super::all().iter().any(|s| s.name() == name) {
        return Err(FieldError::new(
            "source",
            format!(
                "{name:?} is a built-in source (use --source {name} with its own export); name the tool that wrote this file"
            ),
        ));
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::super::testing::normalise_all;
    use super::*;

    const HEAD: &str =
        "source,source_id,kind,subject,account,actor,occurred_at,ip,session_id,reason,type\n";

    fn run(rows: &str) -> Vec<Result<Vec<Event>, String>> {
        normalise_all(&GenericCsv, format!("{HEAD}{rows}").as_bytes())
    }

    #[test]
    fn columns_map_to_the_event_and_the_rest_to_attrs() {
        let got = run("OpenVPN,ovpn-88,session.activity,JNunez,jnunez,,2026-03-14T01:10:00+01:00,203.0.113.7,s-1,,\n");
        let e = &got[0].as_ref().unwrap()[0];
        assert_eq!(e.source, "openvpn");
        assert_eq!(e.source_id.as_deref(), Some("ovpn-88"));
        assert_eq!(e.kind, EventKind::SessionActivity);
        assert_eq!(e.subject, "jnunez");
        assert_eq!(e.account.as_deref(), Some("jnunez"));
        assert_eq!(e.occurred_at.to_rfc3339(), "2026-03-14T00:10:00Z");
        assert_eq!(e.attrs.len(), 2);
        assert_eq!(e.attrs["ip"], "203.0.113.7");
        assert_eq!(e.attrs["session_id"], "s-1");
    }

    #[test]
    fn refusals_name_the_column() {
        let cases = [
            ("openvpn,,account.vanished,jnunez,,,2026-03-14T01:10:00Z,,,,", "2: field kind: \"account.vanished\" is not an event kind; expected one of: account.created,"),
            ("openvpn,,roster.entry,jnunez,,,2026-03-14T01:10:00Z,,,,", "2: field kind: roster.entry events come from their own format; use --source roster"),
            ("okta,,auth.failed,jnunez,,,2026-03-14T01:10:00Z,,,,", "2: field source: \"okta\" is a built-in source"),
            ("open vpn,,auth.failed,jnunez,,,2026-03-14T01:10:00Z,,,,", "2: field source: \"open vpn\" is not a tool name"),
            ("openvpn,,auth.failed,jnunez,,,2026-03-14 01:10:00,,,,", "2: field occurred_at: \"2026-03-14 01:10:00\" is not an RFC 3339 time"),
            ("openvpn,,auth.failed,,,,2026-03-14T01:10:00Z,,,,", "2: field subject: missing or empty"),
            ("openvpn,,other,jnunez,,,2026-03-14T01:10:00Z,,,,", "2: field type: missing or empty"),
        ];
        for (row, want) in cases {
            let got = run(&format!("{row}\n"));
            let err = got[0].as_ref().unwrap_err();
            assert!(
                err.starts_with(want),
                "{row}\n  got:  {err}\n  want: {want}"
            );
        }
        let got = normalise_all(
            &GenericCsv,
            br#"{"source":"ci","kind":"token.used","subject":"a","occurred_at":"2026-03-14T01:10:00Z","scopes":["repo"]}"#,
        );
        assert_eq!(
            got[0].as_ref().unwrap_err(),
            "1: field scopes: expected a single value, got an array"
        );
    }
}
