//! The team's own records: the roster, sprint dates, extension approvals, expiry reminders
//! and pre-expiry access reviews. These formats are ours, specified column by column in
//! `docs/formats.md` (with examples, the event each row becomes and how re-ingesting
//! de-duplicates); keep that file and this one in step.
//!
//! Each is a CSV file with a header row, or JSON Lines with the same keys (framing turns
//! both into one JSON object per record; CSV cells are strings, JSON Lines may also use
//! numbers and booleans where natural). Every error names the column, e.g.
//! `field effective_at: "2026-03-01" is not an RFC 3339 time with an offset`.
//!
//! | source      | kind                                                  | subject        |
//! |-------------|-------------------------------------------------------|----------------|
//! | `roster`    | `roster.entry`                                        | `email`        |
//! | `sprints`   | `sprint.defined`                                      | `team`         |
//! | `approvals` | `extension.requested` / `.approved` / `.denied`       | `subject`      |
//! | `reminders` | `reminder.sent`                                       | `subject`      |
//! | `reviews`   | `review.signed_off`                                   | `subject`      |
//!
//! The attrs written here are read by the policy engine (`email`, `accounts` and `tokens` of
//! roster entries map IdP accounts to people): their names are a contract.
//!
//! The [`Row`] reader at the bottom (column helpers with column-named errors) is shared with
//! the generic CSV source.

use serde_json::{Map, Value};

use super::framing::Content;
use super::{new_event, norm_account, FieldError, Role, Source};
use crate::event::{Event, EventKind, Timestamp};

/// A column any team format may carry for people's remarks; kept as `attrs.notes`.
const NOTES: &str = "notes";

// ---- sniffing --------------------------------------------------------------------------

/// The header keys that identify each of our flat formats, the generic CSV included.
/// A record is recognised as a format only when it carries that format's keys and no other
/// format's, so no record can ever be claimed by two of them.
const SIGNATURES: &[(&str, &[&str])] = &[
    ("roster", &["email", "employment", "effective_at"]),
    ("sprints", &["sprint", "start", "end"]),
    ("approvals", &["request_id", "action"]),
    ("reminders", &["recipient", "sent_at"]),
    ("reviews", &["reviewer", "signed_at"]),
    ("csv", &["kind", "occurred_at", "subject", "source"]),
];

/// Whether `record` is recognisably the flat format `name` (see [`SIGNATURES`]).
///
/// Also refused: records with nested values (IdP events and normalised events are nested;
/// our rows never are), records with Okta's `eventType` key, and records with an `attrs`
/// key (a normalised event, which `append` reads, not `ingest`).
pub(crate) fn sniff_flat(name: &str, record: &Value) -> bool {
    let Some(map) = record.as_object() else {
        return false;
    };
    let flat = map
        .values()
        .all(|v| !matches!(v, Value::Array(_) | Value::Object(_)));
    if !flat || map.contains_key("eventType") || map.contains_key("attrs") {
        return false;
    }
    let mut matching = SIGNATURES
        .iter()
        .filter(|(_, keys)| keys.iter().all(|k| map.contains_key(*k)))
        .map(|(format, _)| *format);
    matching.next() == Some(name) && matching.next().is_none()
}

// ---- roster ----------------------------------------------------------------------------

/// `roster`: one row per fact about a person, true from `effective_at` on.
pub struct Roster;

const ROSTER_COLUMNS: &[&str] = &[
    "person",
    "email",
    "employment",
    "role",
    "team",
    "manager",
    "tech_lead",
    "contract_end",
    "time_zone",
    "accounts",
    "tokens",
    "left_on",
    "effective_at",
    NOTES,
];

impl Source for Roster {
    fn reads_csv(&self) -> bool {
        true
    }

    fn name(&self) -> &'static str {
        "roster"
    }

    fn role(&self) -> Role {
        Role::Team
    }

    fn description(&self) -> &'static str {
        "team roster: people, employment, contract end, manager, tech lead, zone, accounts (CSV or JSON Lines)"
    }

    fn sniff(&self, record: &Value, _: Content) -> bool {
        sniff_flat(self.name(), record)
    }

    fn normalise(&self, record: &Value) -> Result<Vec<Event>, FieldError> {
        let row = Row::new(record, ROSTER_COLUMNS)?;
        let person = row.req("person", "the person's display name")?;
        let email = row.req_email("email")?;
        let employment = row.req_one_of("employment", &["contractor", "employee"])?;
        let role = row.opt("role")?;
        let team = row.opt("team")?;
        let manager = row.opt_email("manager")?;
        let tech_lead = row.opt_email("tech_lead")?;
        let contract_end = row.opt_date("contract_end")?;
        // A contractor's access ends with the contract; an employee has no end date, and a
        // date given for one is more likely a mistake (wrong employment) than a fact.
        match (employment.as_str(), &contract_end) {
            ("contractor", None) => {
                return Err(FieldError::new(
                    "contract_end",
                    "missing or empty; a contractor needs the last working day (YYYY-MM-DD)",
                ))
            }
            ("employee", Some(d)) => {
                return Err(FieldError::new(
                    "contract_end",
                    format!(
                    "{d:?} given for an employee; leave it empty, or set employment to contractor"
                ),
                ))
            }
            _ => {}
        }
        let time_zone = row.req_time_zone("time_zone")?;
        let accounts = row.opt_list("accounts", "idp:account (e.g. github:jnunez-acme)")?;
        let tokens = row.opt_list("tokens", "idp:token_id (e.g. github:pat-5521)")?;
        let left_on = row.opt_date("left_on")?;
        let time = row.req_time("effective_at")?;
        let notes = row.opt(NOTES)?;

        let mut e = new_event(self.name(), None, EventKind::RosterEntry, &email, time);
        let attrs = [
            ("person", Some(person)),
            ("email", Some(email)),
            ("employment", Some(employment)),
            ("role", role),
            ("team", team),
            ("manager", manager),
            ("tech_lead", tech_lead),
            ("contract_end", contract_end),
            ("time_zone", Some(time_zone)),
            ("accounts", accounts),
            ("tokens", tokens),
            ("left_on", left_on),
            (NOTES, notes),
        ];
        for (key, value) in attrs {
            super::put(&mut e, key, value);
        }
        Ok(vec![e])
    }
}

// ---- sprints ---------------------------------------------------------------------------

/// `sprints`: a sprint's dates as recorded at `recorded_at`; a later row for the same sprint
/// with another end means the sprint was extended (or shortened).
pub struct Sprints;

const SPRINT_COLUMNS: &[&str] = &[
    "team",
    "sprint",
    "start",
    "end",
    "time_zone",
    "recorded_at",
    NOTES,
];

impl Source for Sprints {
    fn reads_csv(&self) -> bool {
        true
    }

    fn name(&self) -> &'static str {
        "sprints"
    }

    fn role(&self) -> Role {
        Role::Team
    }

    fn description(&self) -> &'static str {
        "sprint calendar: team, sprint id, start and end dates (CSV or JSON Lines)"
    }

    fn sniff(&self, record: &Value, _: Content) -> bool {
        sniff_flat(self.name(), record)
    }

    fn normalise(&self, record: &Value) -> Result<Vec<Event>, FieldError> {
        let row = Row::new(record, SPRINT_COLUMNS)?;
        let team = row.req("team", "the team's name")?;
        let sprint = row.req("sprint", "the sprint's id (e.g. 2026-06)")?;
        let start = row.req_date("start")?;
        let end = row.req_date("end")?;
        // Both are YYYY-MM-DD, so text order is date order.
        if end < start {
            return Err(FieldError::new(
                "end",
                format!("{end} is before start {start}"),
            ));
        }
        let time_zone = row.opt_time_zone("time_zone")?;
        let time = row.req_time("recorded_at")?;
        let mut e = new_event(self.name(), None, EventKind::SprintDefined, &team, time);
        super::put(&mut e, "sprint", Some(sprint));
        super::put(&mut e, "start", Some(start));
        super::put(&mut e, "end", Some(end));
        super::put(&mut e, "time_zone", time_zone);
        super::put(&mut e, NOTES, row.opt(NOTES)?);
        Ok(vec![e])
    }
}

// ---- approvals -------------------------------------------------------------------------

/// `approvals`: each step of an extension request (requested, then approved or denied by
/// each approver), one row per step.
pub struct Approvals;

const APPROVAL_COLUMNS: &[&str] = &[
    "request_id",
    "action",
    "subject",
    "actor",
    "role",
    "new_expiry",
    "emergency",
    "reason",
    "at",
    NOTES,
];

impl Source for Approvals {
    fn reads_csv(&self) -> bool {
        true
    }

    fn name(&self) -> &'static str {
        "approvals"
    }

    fn role(&self) -> Role {
        Role::Team
    }

    fn description(&self) -> &'static str {
        "extension requests and approver decisions (CSV or JSON Lines)"
    }

    fn sniff(&self, record: &Value, _: Content) -> bool {
        sniff_flat(self.name(), record)
    }

    fn normalise(&self, record: &Value) -> Result<Vec<Event>, FieldError> {
        let row = Row::new(record, APPROVAL_COLUMNS)?;
        let request_id = row.req("request_id", "the extension request's id")?;
        let action = row.req_one_of("action", &["requested", "approved", "denied"])?;
        let kind = match action.as_str() {
            "requested" => EventKind::ExtensionRequested,
            "approved" => EventKind::ExtensionApproved,
            _ => EventKind::ExtensionDenied,
        };
        let requested = kind == EventKind::ExtensionRequested;
        let subject = row.req_email("subject")?;
        let actor = row.req_email("actor")?;
        // The policy checks which roles decided; a decision without one proves nothing.
        let role = if requested {
            row.opt_token("role")?
        } else {
            Some(row.req_token(
                "role",
                "the approver's role (tech_lead, security, manager…)",
            )?)
        };
        let new_expiry = if requested {
            Some(row.req_date_or_time("new_expiry")?)
        } else {
            row.opt_date_or_time("new_expiry")?
        };
        let emergency = row.opt_bool("emergency")?.unwrap_or(false);
        // Every extension needs a reason (DESIGN, extension approvals).
        let reason = if requested {
            Some(row.req("reason", "why the extension is needed")?)
        } else {
            row.opt("reason")?
        };
        let time = row.req_time("at")?;
        let source_id = format!("{request_id}:{action}:{actor}");
        let mut e = new_event(self.name(), Some(source_id), kind, &subject, time);
        e.actor = Some(actor);
        super::put(&mut e, "request_id", Some(request_id));
        super::put(&mut e, "role", role);
        super::put(&mut e, "new_expiry", new_expiry);
        super::put(&mut e, "emergency", Some(emergency.to_string()));
        super::put(&mut e, "reason", reason);
        super::put(&mut e, NOTES, row.opt(NOTES)?);
        Ok(vec![e])
    }
}

// ---- reminders -------------------------------------------------------------------------

/// `reminders`: one row per reminder per recipient, with its delivery status.
pub struct Reminders;

const REMINDER_COLUMNS: &[&str] = &[
    "reminder_id",
    "subject",
    "recipient",
    "channel",
    "status",
    "days_before",
    "sent_at",
    NOTES,
];

impl Source for Reminders {
    fn reads_csv(&self) -> bool {
        true
    }

    fn name(&self) -> &'static str {
        "reminders"
    }

    fn role(&self) -> Role {
        Role::Team
    }

    fn description(&self) -> &'static str {
        "expiry reminders: recipient, channel and delivery status (CSV or JSON Lines)"
    }

    fn sniff(&self, record: &Value, _: Content) -> bool {
        sniff_flat(self.name(), record)
    }

    fn normalise(&self, record: &Value) -> Result<Vec<Event>, FieldError> {
        let row = Row::new(record, REMINDER_COLUMNS)?;
        let reminder_id = row.opt("reminder_id")?;
        let subject = row.req_email("subject")?;
        // Not necessarily an email (a Slack handle, a Jira user); lower-cased like accounts
        // so the policy can match it against the roster.
        let recipient = norm_account(&row.req("recipient", "who the reminder was sent to")?);
        let channel = row.opt_token("channel")?;
        let status = row.req_one_of("status", &["delivered", "bounced", "failed", "pending"])?;
        let days_before = row.opt_count("days_before")?;
        let time = row.req_time("sent_at")?;
        let source_id = reminder_id.as_ref().map(|id| format!("{id}:{recipient}"));
        let mut e = new_event(
            self.name(),
            source_id,
            EventKind::ReminderSent,
            &subject,
            time,
        );
        super::put(&mut e, "recipient", Some(recipient));
        super::put(&mut e, "channel", channel);
        super::put(&mut e, "status", Some(status));
        super::put(&mut e, "days_before", days_before);
        super::put(&mut e, "reminder_id", reminder_id);
        super::put(&mut e, NOTES, row.opt(NOTES)?);
        Ok(vec![e])
    }
}

// ---- reviews ---------------------------------------------------------------------------

/// `reviews`: a reviewer's sign-off of a pre-expiry access review.
pub struct Reviews;

const REVIEW_COLUMNS: &[&str] = &[
    "review_id",
    "subject",
    "reviewer",
    "role",
    "outcome",
    "notes",
    "signed_at",
];

impl Source for Reviews {
    fn reads_csv(&self) -> bool {
        true
    }

    fn name(&self) -> &'static str {
        "reviews"
    }

    fn role(&self) -> Role {
        Role::Team
    }

    fn description(&self) -> &'static str {
        "pre-expiry access review sign-offs (CSV or JSON Lines)"
    }

    fn sniff(&self, record: &Value, _: Content) -> bool {
        sniff_flat(self.name(), record)
    }

    fn normalise(&self, record: &Value) -> Result<Vec<Event>, FieldError> {
        let row = Row::new(record, REVIEW_COLUMNS)?;
        let review_id = row.opt("review_id")?;
        let subject = row.req_email("subject")?;
        let reviewer = row.req_email("reviewer")?;
        let role = row.opt_token("role")?;
        let outcome = row.req_one_of("outcome", &["approved", "revoke", "extend"])?;
        let time = row.req_time("signed_at")?;
        // One review may be signed by several people (security and the manager); keying on
        // the review id alone would drop every signature after the first as a duplicate.
        let source_id = review_id.as_ref().map(|id| format!("{id}:{reviewer}"));
        let mut e = new_event(
            self.name(),
            source_id,
            EventKind::ReviewSignedOff,
            &subject,
            time,
        );
        e.actor = Some(reviewer);
        super::put(&mut e, "review_id", review_id);
        super::put(&mut e, "role", role);
        super::put(&mut e, "outcome", Some(outcome));
        super::put(&mut e, NOTES, row.opt(NOTES)?);
        Ok(vec![e])
    }
}

// ---- the row reader --------------------------------------------------------------------

/// One flat record (a CSV row, or a JSON Lines object with the same keys), read column by
/// column; every error names the column.
pub(crate) struct Row<'r> {
    map: &'r Map<String, Value>,
}

impl<'r> Row<'r> {
    /// A row of a format with exactly these `columns`. A non-empty cell under any other
    /// column is refused, so a misspelt header (`tech_led`) cannot silently drop a fact;
    /// empty ones (a spreadsheet's trailing columns) are ignored.
    pub(crate) fn new(record: &'r Value, columns: &[&str]) -> Result<Self, FieldError> {
        let row = Self::any(record)?;
        for key in row.map.keys() {
            if !columns.contains(&key.as_str()) && row.opt(key)?.is_some() {
                return Err(FieldError::new(
                    column_name(key),
                    format!("unknown column; expected: {}", columns.join(", ")),
                ));
            }
        }
        Ok(row)
    }

    /// A row whose columns are open (the generic CSV keeps unknown ones as attrs).
    pub(crate) fn any(record: &'r Value) -> Result<Self, FieldError> {
        record.as_object().map(|map| Row { map }).ok_or_else(|| {
            FieldError::new(
                "/",
                "expected a row: a CSV line under a header, or a JSON object per line",
            )
        })
    }

    /// The columns present, in the record's order.
    pub(crate) fn columns(&self) -> impl Iterator<Item = &'r str> {
        self.map.keys().map(String::as_str)
    }

    /// A cell's text, trimmed; `None` when absent, null or blank. JSON numbers and booleans
    /// are written as JSON writes them; nested values are refused.
    pub(crate) fn opt(&self, column: &str) -> Result<Option<String>, FieldError> {
        let text = match self.map.get(column) {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::String(s)) => s.trim().to_string(),
            Some(Value::Number(n)) => n.to_string(),
            Some(Value::Bool(b)) => b.to_string(),
            Some(other) => {
                return Err(FieldError::new(
                    column_name(column),
                    format!("expected a single value, got {}", super::json_type(other)),
                ))
            }
        };
        Ok(Some(text).filter(|t| !t.is_empty()))
    }

    /// A required cell; `what` says what belongs there.
    pub(crate) fn req(&self, column: &str, what: &str) -> Result<String, FieldError> {
        self.opt(column)?
            .ok_or_else(|| FieldError::new(column, format!("missing or empty; expected {what}")))
    }

    /// A required RFC 3339 time with an offset: (UTC instant, the text as written).
    pub(crate) fn req_time(&self, column: &str) -> Result<(Timestamp, String), FieldError> {
        let text = self.req(
            column,
            "an RFC 3339 time with an offset (e.g. 2026-03-13T17:00:00-07:00)",
        )?;
        let t = Timestamp::parse_rfc3339(&text).map_err(|_| {
            FieldError::new(
                column,
                format!(
                    "{text:?} is not an RFC 3339 time with an offset (e.g. 2026-03-13T17:00:00-07:00)"
                ),
            )
        })?;
        Ok((t, text))
    }

    pub(crate) fn req_date(&self, column: &str) -> Result<String, FieldError> {
        let text = self.req(column, "a date, YYYY-MM-DD")?;
        check_date(column, &text)?;
        Ok(text)
    }

    pub(crate) fn opt_date(&self, column: &str) -> Result<Option<String>, FieldError> {
        let text = self.opt(column)?;
        if let Some(t) = &text {
            check_date(column, t)?;
        }
        Ok(text)
    }

    /// A date (YYYY-MM-DD: end of that day in the person's zone) or an exact time.
    pub(crate) fn opt_date_or_time(&self, column: &str) -> Result<Option<String>, FieldError> {
        let Some(text) = self.opt(column)? else {
            return Ok(None);
        };
        if check_date(column, &text).is_err() && Timestamp::parse_rfc3339(&text).is_err() {
            return Err(FieldError::new(
                column,
                format!(
                    "{text:?} is neither a date (YYYY-MM-DD) nor an RFC 3339 time with an offset"
                ),
            ));
        }
        Ok(Some(text))
    }

    pub(crate) fn req_date_or_time(&self, column: &str) -> Result<String, FieldError> {
        self.opt_date_or_time(column)?.ok_or_else(|| {
            FieldError::new(
                column,
                "missing or empty; expected a date (YYYY-MM-DD) or an RFC 3339 time with an offset",
            )
        })
    }

    /// An email address, lower-cased (how subjects are compared).
    pub(crate) fn opt_email(&self, column: &str) -> Result<Option<String>, FieldError> {
        let Some(text) = self.opt(column)? else {
            return Ok(None);
        };
        let plausible = text.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.contains('@')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        }) && !text.chars().any(char::is_whitespace);
        if !plausible {
            return Err(FieldError::new(
                column,
                format!("{text:?} is not an email address"),
            ));
        }
        Ok(Some(norm_account(&text)))
    }

    pub(crate) fn req_email(&self, column: &str) -> Result<String, FieldError> {
        self.opt_email(column)?
            .ok_or_else(|| FieldError::new(column, "missing or empty; expected an email address"))
    }

    /// One of `allowed`, compared case-insensitively, returned lower-cased.
    pub(crate) fn req_one_of(&self, column: &str, allowed: &[&str]) -> Result<String, FieldError> {
        let expected = allowed.join(", ");
        let text = self.req(column, &format!("one of: {expected}"))?;
        let lower = text.to_lowercase();
        if allowed.contains(&lower.as_str()) {
            Ok(lower)
        } else {
            Err(FieldError::new(
                column,
                format!("{text:?} is not one of: {expected}"),
            ))
        }
    }

    /// A short lower-case word such as a role or channel name (`tech_lead`, `slack`).
    pub(crate) fn opt_token(&self, column: &str) -> Result<Option<String>, FieldError> {
        let Some(text) = self.opt(column)? else {
            return Ok(None);
        };
        let lower = text.to_lowercase();
        if !lower
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        {
            return Err(FieldError::new(
                column,
                format!("{text:?} is not a single word (letters, digits, _ - .)"),
            ));
        }
        Ok(Some(lower))
    }

    pub(crate) fn req_token(&self, column: &str, what: &str) -> Result<String, FieldError> {
        self.opt_token(column)?
            .ok_or_else(|| FieldError::new(column, format!("missing or empty; expected {what}")))
    }

    /// `true` or `false` (any case; JSON booleans too).
    pub(crate) fn opt_bool(&self, column: &str) -> Result<Option<bool>, FieldError> {
        match self.opt(column)?.map(|t| t.to_lowercase()).as_deref() {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(other) => Err(FieldError::new(
                column,
                format!("{other:?} is not true or false"),
            )),
        }
    }

    /// A whole number of at least 0, written back in decimal.
    pub(crate) fn opt_count(&self, column: &str) -> Result<Option<String>, FieldError> {
        let Some(text) = self.opt(column)? else {
            return Ok(None);
        };
        text.parse::<u32>()
            .map(|n| Some(n.to_string()))
            .map_err(|_| FieldError::new(column, format!("{text:?} is not a whole number of days")))
    }

    /// An IANA zone name. Its shape only (`Area/Location`, or `UTC`): the zone database is
    /// not a dependency here, so the policy, which converts times, checks the name exists.
    pub(crate) fn opt_time_zone(&self, column: &str) -> Result<Option<String>, FieldError> {
        let Some(text) = self.opt(column)? else {
            return Ok(None);
        };
        let part_ok = |p: &str| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '+'))
        };
        let parts: Vec<&str> = text.split('/').collect();
        let area_ok = parts
            .first()
            .and_then(|a| a.chars().next())
            .is_some_and(|c| c.is_ascii_uppercase());
        if text == "UTC" || (parts.len() >= 2 && area_ok && parts.iter().all(|p| part_ok(p))) {
            Ok(Some(text))
        } else {
            Err(FieldError::new(
                column,
                format!(
                    "{text:?} is not an IANA time zone name (Area/Location, e.g. Europe/Berlin, or UTC)"
                ),
            ))
        }
    }

    pub(crate) fn req_time_zone(&self, column: &str) -> Result<String, FieldError> {
        self.opt_time_zone(column)?.ok_or_else(|| {
            FieldError::new(
                column,
                "missing or empty; expected an IANA time zone name (e.g. America/Los_Angeles)",
            )
        })
    }

    /// A `;`-separated list of `prefix:value` items (`github:jnunez-acme;keycloak:jnunez`),
    /// re-joined with `;` after trimming; the prefix (an IdP's source name) is lower-cased.
    pub(crate) fn opt_list(&self, column: &str, what: &str) -> Result<Option<String>, FieldError> {
        let Some(text) = self.opt(column)? else {
            return Ok(None);
        };
        let mut items = vec![];
        for item in text.split(';').map(str::trim).filter(|i| !i.is_empty()) {
            let parsed = item.split_once(':').and_then(|(idp, value)| {
                let idp = idp.trim().to_lowercase();
                let value = value.trim();
                let idp_ok = !idp.is_empty()
                    && idp
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
                (idp_ok && !value.is_empty()).then(|| format!("{idp}:{value}"))
            });
            match parsed {
                Some(p) => items.push(p),
                None => {
                    return Err(FieldError::new(
                        column,
                        format!("item {item:?} is not {what}; separate items with ;"),
                    ))
                }
            }
        }
        Ok(Some(items.join(";")).filter(|s| !s.is_empty()))
    }
}

/// How a column is named in errors: as itself, or described when the header cell is empty.
pub(crate) fn column_name(column: &str) -> String {
    if column.is_empty() {
        "(unnamed column)".into()
    } else {
        column.to_string()
    }
}

/// A calendar date written exactly `YYYY-MM-DD` (so text order is date order).
fn check_date(column: &str, text: &str) -> Result<(), FieldError> {
    let shaped = text.len() == 10
        && text.char_indices().all(|(i, c)| {
            if i == 4 || i == 7 {
                c == '-'
            } else {
                c.is_ascii_digit()
            }
        });
    if shaped && chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok() {
        Ok(())
    } else {
        Err(FieldError::new(
            column,
            format!("{text:?} is not a date in the form YYYY-MM-DD"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::normalise_all;
    use super::*;

    fn one(source: &dyn Source, input: &str) -> Event {
        let got = normalise_all(source, input.as_bytes());
        assert_eq!(got.len(), 1, "{got:?}");
        let mut events = got.into_iter().next().unwrap().unwrap();
        assert_eq!(events.len(), 1);
        events.remove(0)
    }

    fn error(source: &dyn Source, input: &str) -> String {
        let got = normalise_all(source, input.as_bytes());
        got.into_iter().next().unwrap().unwrap_err()
    }

    const ROSTER_HEAD: &str = "person,email,employment,role,team,manager,tech_lead,contract_end,time_zone,accounts,tokens,left_on,effective_at\n";

    #[test]
    fn roster_row_becomes_an_entry_about_the_person() {
        let e = one(
            &Roster,
            &format!("{ROSTER_HEAD}José Núñez,Jose.Nunez@Acme.example,Contractor,developer,team-auth,maria.lopez@acme.example,li.wei@acme.example,2026-03-13,America/Los_Angeles, GitHub:jnunez-acme ; keycloak:jnunez ,github:pat-5521,,2026-01-05T09:00:00-08:00\n"),
        );
        assert_eq!(e.kind, EventKind::RosterEntry);
        assert_eq!(e.subject, "jose.nunez@acme.example");
        assert_eq!(e.source_id, None);
        assert_eq!(e.original_time, "2026-01-05T09:00:00-08:00");
        assert_eq!(e.occurred_at.to_rfc3339(), "2026-01-05T17:00:00Z");
        assert_eq!(e.attrs["person"], "José Núñez");
        assert_eq!(e.attrs["email"], "jose.nunez@acme.example");
        assert_eq!(e.attrs["employment"], "contractor");
        assert_eq!(e.attrs["accounts"], "github:jnunez-acme;keycloak:jnunez");
        assert!(!e.attrs.contains_key("left_on"));
        assert!(!e.attrs.contains_key("effective_at"));

        // The policy maps an account of the same IdP to the person, whatever its case.
        let github = |account: &str| {
            let mut g = e.clone();
            g.source = "github".into();
            g.kind = EventKind::AuthSucceeded;
            g.subject = account.to_lowercase();
            g.account = Some(account.into());
            g.attrs.clear();
            g
        };
        let facts = crate::policy::facts::Facts::from_events(
            vec![e.clone(), github("JNunez-Acme"), github("jnunez")],
            crate::policy::facts::Keep::All,
        );
        assert_eq!(facts.acts_of("jose.nunez@acme.example").len(), 1);
        assert_eq!(
            facts.unattributed.get("github"),
            Some(&1),
            "keycloak:jnunez is not github:jnunez"
        );
    }

    #[test]
    fn roster_errors_name_the_column() {
        let cases = [
            ("José,jose@acme.example,contractor,,,,,2026-03-13,America/Los_Angeles,,,,2026-03-01", "2: field effective_at: \"2026-03-01\" is not an RFC 3339 time with an offset"),
            ("José,jose@acme.example,contractor,,,,,,America/Los_Angeles,,,,2026-03-01T00:00:00Z", "2: field contract_end: missing or empty"),
            ("Maria,maria@acme.example,employee,,,,,2026-03-13,America/Los_Angeles,,,,2026-03-01T00:00:00Z", "2: field contract_end: \"2026-03-13\" given for an employee"),
            ("José,jose@acme.example,freelancer,,,,,2026-03-13,America/Los_Angeles,,,,2026-03-01T00:00:00Z", "2: field employment: \"freelancer\" is not one of: contractor, employee"),
            ("José,jose,contractor,,,,,2026-03-13,America/Los_Angeles,,,,2026-03-01T00:00:00Z", "2: field email: \"jose\" is not an email address"),
            ("José,jose@acme.example,contractor,,,,,2026-03-13,PST,,,,2026-03-01T00:00:00Z", "2: field time_zone: \"PST\" is not an IANA time zone name"),
            ("José,jose@acme.example,contractor,,,,,13/03/2026,America/Los_Angeles,,,,2026-03-01T00:00:00Z", "2: field contract_end: \"13/03/2026\" is not a date"),
            ("José,jose@acme.example,contractor,,,,,2026-02-30,America/Los_Angeles,,,,2026-03-01T00:00:00Z", "2: field contract_end: \"2026-02-30\" is not a date"),
            ("José,jose@acme.example,contractor,,,,,2026-03-13,America/Los_Angeles,jnunez,,,2026-03-01T00:00:00Z", "2: field accounts: item \"jnunez\" is not idp:account"),
            (",jose@acme.example,contractor,,,,,2026-03-13,America/Los_Angeles,,,,2026-03-01T00:00:00Z", "2: field person: missing or empty"),
        ];
        for (row, want) in cases {
            let err = error(&Roster, &format!("{ROSTER_HEAD}{row}\n"));
            assert!(
                err.starts_with(want),
                "{row}\n  got:  {err}\n  want: {want}"
            );
        }
        let err = error(
            &Roster,
            "person,email,employment,time_zone,effective_at,tech_led\nZoë,zoe@acme.example,employee,Europe/Berlin,2026-01-05T09:00:00+01:00,li.wei@acme.example\n",
        );
        assert!(
            err.starts_with("2: field tech_led: unknown column"),
            "{err}"
        );
    }

    #[test]
    fn sprints_approvals_reminders_reviews() {
        let s = one(
            &Sprints,
            "team,sprint,start,end,time_zone,recorded_at\nteam-auth,2026-06,2026-03-16,2026-04-03,America/Los_Angeles,2026-03-25T16:00:00-07:00\n",
        );
        assert_eq!(
            (s.kind, s.subject.as_str()),
            (EventKind::SprintDefined, "team-auth")
        );
        assert_eq!(s.attrs["end"], "2026-04-03");
        let err = error(
            &Sprints,
            "team,sprint,start,end,recorded_at\nteam-auth,2026-06,2026-03-16,2026-03-02,2026-03-25T16:00:00-07:00\n",
        );
        assert!(
            err.starts_with("2: field end: 2026-03-02 is before start"),
            "{err}"
        );

        let a = one(
            &Approvals,
            r#"{"request_id":"ext-19","action":"Approved","subject":"jose.nunez@acme.example","actor":"Samira.Haddad@acme.example","role":"security","emergency":true,"at":"2026-03-16T07:45:00-07:00"}"#,
        );
        assert_eq!(a.kind, EventKind::ExtensionApproved);
        assert_eq!(a.actor.as_deref(), Some("samira.haddad@acme.example"));
        assert_eq!(
            a.source_id.as_deref(),
            Some("ext-19:approved:samira.haddad@acme.example")
        );
        assert_eq!(a.attrs["emergency"], "true");
        let err = error(
            &Approvals,
            r#"{"request_id":"ext-19","action":"requested","subject":"jose.nunez@acme.example","actor":"li.wei@acme.example","new_expiry":"2026-03-17T07:30:00-07:00","at":"2026-03-16T07:30:00-07:00"}"#,
        );
        assert_eq!(
            err,
            "1: field reason: missing or empty; expected why the extension is needed"
        );
        let err = error(
            &Approvals,
            r#"{"request_id":"ext-19","action":"denied","subject":"jose.nunez@acme.example","actor":"li.wei@acme.example","at":"2026-03-16T07:30:00-07:00"}"#,
        );
        assert!(err.starts_with("1: field role: missing or empty"), "{err}");

        let r = one(
            &Reminders,
            r#"{"reminder_id":"rem-zoe-2d","subject":"zoe.fischer@acme.example","recipient":"Anna.Schmidt@acme.example","channel":"email","status":"delivered","days_before":2,"sent_at":"2026-03-18T08:00:00Z"}"#,
        );
        assert_eq!(r.attrs["days_before"], "2");
        assert_eq!(
            r.source_id.as_deref(),
            Some("rem-zoe-2d:anna.schmidt@acme.example")
        );
        let err = error(
            &Reminders,
            r#"{"subject":"zoe.fischer@acme.example","recipient":"x","status":"delivered","days_before":-2,"sent_at":"2026-03-18T08:00:00Z"}"#,
        );
        assert!(err.starts_with("1: field days_before: \"-2\""), "{err}");

        let v = one(
            &Reviews,
            "review_id,subject,reviewer,role,outcome,signed_at\nrev-1,zoe.fischer@acme.example,samira.haddad@acme.example,security,extend,2026-03-18T11:00:00+01:00\n",
        );
        assert_eq!(v.kind, EventKind::ReviewSignedOff);
        assert_eq!(
            v.source_id.as_deref(),
            Some("rev-1:samira.haddad@acme.example")
        );
        assert_eq!(v.attrs["outcome"], "extend");
    }

    #[test]
    fn odd_input_is_an_error_never_a_panic() {
        let sources: [&dyn Source; 5] = [&Roster, &Sprints, &Approvals, &Reminders, &Reviews];
        for s in sources {
            for input in [
                "[1, \"x\", null, []]",
                "{\"email\":{\"a\":1},\"person\":[1]}",
                "{}",
            ] {
                for r in normalise_all(s, input.as_bytes()) {
                    assert!(r.is_err(), "{}: {input}", s.name());
                }
            }
        }
    }

    /// Every example in docs/formats.md is read by its format, and the example events are
    /// exactly what the section's first CSV example becomes: the doc cannot drift.
    #[test]
    fn the_examples_in_the_format_doc_are_what_the_code_does() {
        let doc = include_str!("../../docs/formats.md");
        let mut checked = vec![];
        for section in doc.split("\n## `").skip(1) {
            let name = section.split('`').next().unwrap();
            let source = super::super::by_name(name).unwrap_or_else(|| panic!("{name}"));
            let mut first_event: Option<Event> = None;
            for block in section.split("```").skip(1).step_by(2) {
                let (lang, body) = block.split_once('\n').unwrap();
                let is_event = body.contains("\"attrs\":");
                if is_event {
                    let want = first_event
                        .as_ref()
                        .expect("a CSV example before the event");
                    assert_eq!(body.trim(), want.to_json(), "{name}");
                    continue;
                }
                assert!(matches!(lang, "csv" | "json"), "{name}: {lang}");
                for r in normalise_all(source, body.as_bytes()) {
                    let events = r.unwrap_or_else(|e| panic!("{name}: {e}\n{body}"));
                    if lang == "csv" && first_event.is_none() {
                        first_event = events.into_iter().next();
                    }
                }
                let first = body.lines().next().unwrap_or_default();
                let record: Value = if lang == "csv" {
                    Value::Object(
                        first
                            .split(',')
                            .map(|k| (k.to_string(), Value::String(String::new())))
                            .collect(),
                    )
                } else {
                    serde_json::from_str(first).unwrap()
                };
                let found: Vec<&str> = super::super::detect(&record, Content::Csv)
                    .iter()
                    .map(|s| s.name())
                    .collect();
                assert_eq!(found, [name], "{first}");
            }
            checked.push(name);
        }
        assert_eq!(
            checked,
            [
                "roster",
                "sprints",
                "approvals",
                "reminders",
                "reviews",
                "csv"
            ]
        );
    }

    /// Rows without an id de-duplicate on their raw bytes (header + row), rows with one on
    /// it: ingesting the fixtures a second time adds nothing.
    #[test]
    fn re_ingesting_team_files_adds_nothing() {
        use crate::ingest::{ingest_file, IngestOptions, Input};
        use crate::{ledger::Ledger, tlog::note::NoteSigner};
        let tmp = tempfile::tempdir().unwrap();
        let signer = NoteSigner::from_seed("test.example/team", [7; 32]).unwrap();
        let mut ledger = Ledger::init(&tmp.path().join("l"), signer).unwrap();
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/team");
        let files: [(&dyn Source, &str); 3] = [
            (&Roster, "roster/roster.csv"),
            (&Approvals, "approvals/approvals.jsonl"),
            (&Reminders, "reminders/reminders.jsonl"),
        ];
        for round in 0..2 {
            for (source, file) in files {
                let input = Input::open(&root.join(file)).unwrap();
                let s = ingest_file(
                    &mut ledger,
                    &input,
                    source,
                    &IngestOptions::default(),
                    &mut |_| {},
                )
                .unwrap();
                assert!(s.events > 0, "{file}");
                let (added, dups) = if round == 0 {
                    (s.events, 0)
                } else {
                    (0, s.events)
                };
                assert_eq!(
                    (s.added, s.duplicates),
                    (added, dups),
                    "{file} round {round}"
                );
            }
        }
    }

    #[test]
    fn each_header_is_recognised_by_exactly_one_source() {
        let heads = [
            ("roster", ROSTER_HEAD.trim()),
            ("sprints", "team,sprint,start,end,time_zone,recorded_at"),
            (
                "approvals",
                "request_id,action,subject,actor,role,new_expiry,emergency,reason,at",
            ),
            (
                "reminders",
                "reminder_id,subject,recipient,channel,status,days_before,sent_at",
            ),
            (
                "reviews",
                "review_id,subject,reviewer,role,outcome,notes,signed_at",
            ),
            (
                "csv",
                "source,source_id,kind,subject,account,actor,occurred_at",
            ),
        ];
        for (name, head) in heads {
            let record: Value = Value::Object(
                head.split(',')
                    .map(|k| (k.to_string(), Value::String(String::new())))
                    .collect(),
            );
            let found: Vec<&str> = super::super::detect(&record, Content::Csv)
                .iter()
                .map(|s| s.name())
                .collect();
            assert_eq!(found, [name], "{head}");
        }
        // Two signatures at once: no format claims it.
        let both: Value =
            serde_json::json!({"request_id":"", "action":"", "recipient":"", "sent_at":""});
        assert!(super::super::detect(&both, Content::Csv).is_empty());
        // A normalised event (what `append` reads) is no team row: only `events` claims it.
        let event: Value = serde_json::json!({"source":"okta","kind":"auth.failed","subject":"a","occurred_at":"2026-03-01T00:00:00Z","attrs":{}});
        let found: Vec<&str> = super::super::detect(&event, Content::JsonLines)
            .iter()
            .map(|s| s.name())
            .collect();
        assert_eq!(found, ["events"]);
    }
}
