//! The facts the rules read, gathered in one pass over a ledger prefix: people (from the
//! roster), the sprint calendar, extension requests, reminders, reviews, and every IdP
//! event attributed to a person.
//!
//! Invariants: facts come only from ledger entries `0..size` (never from input files), and
//! every fact keeps the seq and chain hash of the entry it came from, so any finding built
//! on it can cite its evidence. Identity is resolved here, after the scan, from every
//! roster row in the prefix, so the order in which roster and logs were ingested does not
//! matter. The one rule: an event belongs to a person when its subject, account or
//! `user_id` is the person's roster email, or equals (ignoring case) an `idp:account` item of
//! the person's roster `accounts` whose idp is the event source's IdP (`sources::idp_of`).

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

use crate::event::{Event, EventKind, Timestamp};
use crate::ledger::entry::{to_hex, Payload};
use crate::ledger::merkle::Hash;
use crate::ledger::{Ledger, LedgerError};
use crate::policy::finding::Evidence;

/// A ledger entry a fact came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cite {
    pub seq: u64,
    pub hash: Hash,
    pub kind: EventKind,
    pub source: String,
    pub at: Timestamp,
}

impl Cite {
    fn of(seq: u64, hash: Hash, e: &Event) -> Cite {
        Cite {
            seq,
            hash,
            kind: e.kind,
            source: e.source.clone(),
            at: e.occurred_at,
        }
    }
    pub fn evidence(&self) -> Evidence {
        Evidence {
            seq: self.seq,
            hash: to_hex(&self.hash),
            kind: self.kind.as_str().into(),
            source: self.source.clone(),
            occurred_at: self.at,
        }
    }
}

/// A person as their latest roster row states.
#[derive(Clone, Debug)]
pub struct Person {
    pub email: String,
    pub name: String,
    pub contractor: bool,
    pub role: Option<String>,
    pub team: Option<String>,
    pub manager: Option<String>,
    pub tech_lead: Option<String>,
    pub contract_end: Option<NaiveDate>,
    /// `None` when the roster's zone is not in the zone database.
    pub tz: Option<Tz>,
    pub tz_name: String,
    pub left_on: Option<NaiveDate>,
    /// `idp:account` items from every roster row of the person.
    pub accounts: Vec<(String, String)>,
    /// `idp:token` items from every roster row of the person.
    pub tokens: Vec<(String, String)>,
    pub cite: Cite,
}

/// One version of a sprint's dates; later versions (by `recorded`) supersede earlier ones.
#[derive(Clone, Debug)]
pub struct SprintVersion {
    pub team: String,
    pub sprint: String,
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub tz: Option<Tz>,
    pub cite: Cite,
}

#[derive(Clone, Debug)]
pub struct Decision {
    pub approved: bool,
    pub actor: String,
    pub role: String,
    pub cite: Cite,
}

#[derive(Clone, Debug, Default)]
pub struct Request {
    pub id: String,
    pub subject: String,
    pub requester: Option<String>,
    pub new_expiry: Option<String>,
    pub emergency: bool,
    pub reason: Option<String>,
    pub requested: Option<Cite>,
    pub decisions: Vec<Decision>,
}

#[derive(Clone, Debug)]
pub struct Reminder {
    pub recipient: String,
    pub status: String,
    pub cite: Cite,
}

#[derive(Clone, Debug)]
pub struct Review {
    pub reviewer: String,
    pub role: Option<String>,
    pub outcome: String,
    pub cite: Cite,
}

/// An IdP or application event about a person.
#[derive(Clone, Debug)]
pub struct Act {
    pub cite: Cite,
    /// The account as the source named it.
    pub account: String,
    /// The token or key id (`token_id`, else `token_name`), for token events.
    pub token: Option<String>,
    /// The session id, when the source gives one.
    pub session: Option<String>,
    /// Why an authentication failed, or the application.
    pub detail: Option<String>,
    /// For `expiry.set`: the expiry it set, when the source says.
    pub expires: Option<Timestamp>,
}

/// Everything the rules read.
#[derive(Debug, Default)]
pub struct Facts {
    /// Entries read: the ledger prefix `0..size`.
    pub size: u64,
    pub people: BTreeMap<String, Person>,
    /// Per team, every version of every sprint, in ledger order.
    pub sprints: BTreeMap<String, Vec<SprintVersion>>,
    pub requests: BTreeMap<String, Request>,
    pub reminders: BTreeMap<String, Vec<Reminder>>,
    pub reviews: BTreeMap<String, Vec<Review>>,
    /// Per person email, their events in time order (then seq).
    pub acts: BTreeMap<String, Vec<Act>>,
    /// Events about accounts no roster row names: count per source.
    pub unattributed: BTreeMap<String, u64>,
    /// Entries that reuse an earlier entry's source event id with other content.
    pub id_conflicts: Vec<IdConflictFact>,
    /// `idp:account` (lower-case) → person email, from every roster row.
    accounts: HashMap<String, String>,
}

/// Two entries with one source event id and different content (`Ledger::id_conflicts`).
#[derive(Clone, Debug)]
pub struct IdConflictFact {
    pub earlier: Cite,
    pub later: Cite,
    pub source_id: String,
    /// The person the later event is about, else its account.
    pub subject: String,
    pub person: Option<String>,
}

pub use crate::sources::idp_of;

fn attr<'e>(e: &'e Event, key: &str) -> Option<&'e str> {
    e.attrs
        .get(key)
        .map(String::as_str)
        .filter(|s| !s.is_empty())
}

fn list(text: Option<&str>) -> Vec<(String, String)> {
    text.unwrap_or("")
        .split(';')
        .filter_map(|item| {
            let (idp, v) = item.trim().split_once(':')?;
            Some((idp.trim().to_lowercase(), v.trim().to_string()))
        })
        .collect()
}

fn date(text: Option<&str>) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text?, "%Y-%m-%d").ok()
}

/// An event waiting for identity resolution.
struct Pending {
    act: Act,
    candidates: [Option<String>; 3],
}

impl Facts {
    /// Reads entries `0..size` of `ledger`; with `cutoff`, only events that occurred by
    /// then (a report pinned to a past `now` must not see what had not happened yet).
    pub fn gather(
        ledger: &Ledger,
        size: u64,
        cutoff: Option<Timestamp>,
    ) -> Result<Facts, LedgerError> {
        let mut facts = Facts {
            size,
            ..Facts::default()
        };
        let mut pending: Vec<Pending> = Vec::new();
        let mut rows: Vec<(Timestamp, u64, Event, Hash)> = Vec::new();
        for stored in ledger.entries(0, size) {
            let stored = stored?;
            let seq = stored.entry.seq;
            let Payload::Event(e) = stored.entry.payload else {
                continue;
            };
            if cutoff.is_some_and(|c| e.occurred_at > c) {
                continue;
            }
            facts.take(seq, stored.chain, e, &mut pending, &mut rows);
        }
        facts.finish(pending, rows);
        for c in ledger.id_conflicts(size)? {
            let (a, b) = (ledger.read_entry(c.earlier)?, ledger.read_entry(c.later)?);
            let (Some(ea), Some(eb)) = (a.entry.event(), b.entry.event()) else {
                continue;
            };
            let person = facts.person_of(eb);
            facts.id_conflicts.push(IdConflictFact {
                earlier: Cite::of(c.earlier, a.chain, ea),
                later: Cite::of(c.later, b.chain, eb),
                source_id: eb.source_id.clone().unwrap_or_default(),
                subject: person
                    .map(|p| p.email.clone())
                    .unwrap_or_else(|| eb.subject.clone()),
                person: person.map(|p| p.name.clone()),
            });
        }
        Ok(facts)
    }

    /// Builds facts from events given directly (tests and benchmarks); seqs are positions.
    pub fn from_events(events: impl IntoIterator<Item = Event>) -> Facts {
        let mut facts = Facts::default();
        let mut pending = Vec::new();
        let mut rows = Vec::new();
        for (seq, e) in events.into_iter().enumerate() {
            let seq = seq as u64;
            let hash = *blake3::hash(&seq.to_be_bytes()).as_bytes();
            facts.take(seq, hash, e, &mut pending, &mut rows);
            facts.size = seq + 1;
        }
        facts.finish(pending, rows);
        facts
    }

    fn take(
        &mut self,
        seq: u64,
        hash: Hash,
        e: Event,
        pending: &mut Vec<Pending>,
        rows: &mut Vec<(Timestamp, u64, Event, Hash)>,
    ) {
        let cite = Cite::of(seq, hash, &e);
        use EventKind::*;
        match e.kind {
            RosterEntry => rows.push((e.occurred_at, seq, e, hash)),
            SprintDefined => {
                let (Some(sprint), Some(start), Some(end)) = (
                    attr(&e, "sprint"),
                    date(attr(&e, "start")),
                    date(attr(&e, "end")),
                ) else {
                    return;
                };
                let version = SprintVersion {
                    team: e.subject.clone(),
                    sprint: sprint.to_string(),
                    start,
                    end,
                    tz: attr(&e, "time_zone").and_then(|z| z.parse().ok()),
                    cite,
                };
                self.sprints.entry(e.subject).or_default().push(version);
            }
            ExtensionRequested | ExtensionApproved | ExtensionDenied => {
                let Some(id) = attr(&e, "request_id") else {
                    return;
                };
                let r = self
                    .requests
                    .entry(id.to_string())
                    .or_insert_with(|| Request {
                        id: id.to_string(),
                        subject: e.subject.clone(),
                        ..Request::default()
                    });
                if e.kind == ExtensionRequested {
                    if r.requested.is_none() {
                        r.requester = e.actor.clone();
                        r.new_expiry = attr(&e, "new_expiry").map(String::from);
                        r.emergency = attr(&e, "emergency") == Some("true");
                        r.reason = attr(&e, "reason").map(String::from);
                        r.requested = Some(cite);
                    }
                } else {
                    r.decisions.push(Decision {
                        approved: e.kind == ExtensionApproved,
                        actor: e.actor.clone().unwrap_or_default(),
                        role: attr(&e, "role").unwrap_or("").to_string(),
                        cite,
                    });
                }
            }
            ReminderSent => {
                let reminder = Reminder {
                    recipient: attr(&e, "recipient").unwrap_or("").to_lowercase(),
                    status: attr(&e, "status").unwrap_or("").to_string(),
                    cite,
                };
                self.reminders.entry(e.subject).or_default().push(reminder);
            }
            ReviewSignedOff => {
                let review = Review {
                    reviewer: e.actor.clone().unwrap_or_default(),
                    role: attr(&e, "role").map(String::from),
                    outcome: attr(&e, "outcome").unwrap_or("").to_string(),
                    cite,
                };
                self.reviews.entry(e.subject).or_default().push(review);
            }
            Other => {}
            _ => {
                let token = attr(&e, "token_id")
                    .or_else(|| attr(&e, "token_name"))
                    .map(String::from);
                let act = Act {
                    cite,
                    account: e.account.clone().unwrap_or_else(|| e.subject.clone()),
                    token,
                    session: attr(&e, "session_id").map(String::from),
                    detail: attr(&e, "reason")
                        .or_else(|| attr(&e, "app"))
                        .map(String::from),
                    expires: attr(&e, "expires_at").and_then(|t| Timestamp::parse_rfc3339(t).ok()),
                };
                pending.push(Pending {
                    act,
                    candidates: [Some(e.subject), e.account, e.attrs.get("user_id").cloned()],
                });
            }
        }
    }

    /// The person an event is about: the first of its subject, account and `user_id` that
    /// is a roster email or one of a person's accounts at the event source's IdP.
    fn resolve(&self, source: &str, candidates: &[Option<String>]) -> Option<String> {
        let idp = idp_of(source);
        candidates.iter().flatten().find_map(|c| {
            let c = c.to_lowercase();
            if self.people.contains_key(&c) {
                return Some(c);
            }
            self.accounts.get(&format!("{idp}:{c}")).cloned()
        })
    }

    fn person_of(&self, e: &Event) -> Option<&Person> {
        let candidates = [
            Some(e.subject.clone()),
            e.account.clone(),
            e.attrs.get("user_id").cloned(),
        ];
        self.people.get(&self.resolve(&e.source, &candidates)?)
    }

    fn finish(&mut self, pending: Vec<Pending>, mut rows: Vec<(Timestamp, u64, Event, Hash)>) {
        rows.sort_by_key(|(at, seq, _, _)| (*at, *seq));
        let mut accounts: HashMap<String, String> = HashMap::new();
        for (_, seq, e, hash) in rows {
            let email = e.subject.to_lowercase();
            let row_accounts = list(attr(&e, "accounts"));
            let row_tokens = list(attr(&e, "tokens"));
            for (idp, account) in &row_accounts {
                accounts.insert(format!("{idp}:{}", account.to_lowercase()), email.clone());
            }
            let tz_name = attr(&e, "time_zone").unwrap_or("UTC").to_string();
            let previous = self.people.remove(&email);
            let (mut all_accounts, mut all_tokens) =
                previous.map(|p| (p.accounts, p.tokens)).unwrap_or_default();
            for a in row_accounts {
                if !all_accounts.contains(&a) {
                    all_accounts.push(a);
                }
            }
            for t in row_tokens {
                if !all_tokens.contains(&t) {
                    all_tokens.push(t);
                }
            }
            let person = Person {
                email: email.clone(),
                name: attr(&e, "person").unwrap_or(&email).to_string(),
                contractor: attr(&e, "employment") == Some("contractor"),
                role: attr(&e, "role").map(String::from),
                team: attr(&e, "team").map(|t| t.to_lowercase()),
                manager: attr(&e, "manager").map(|m| m.to_lowercase()),
                tech_lead: attr(&e, "tech_lead").map(|m| m.to_lowercase()),
                contract_end: date(attr(&e, "contract_end")),
                tz: tz_name.parse().ok(),
                tz_name,
                left_on: date(attr(&e, "left_on")),
                accounts: all_accounts,
                tokens: all_tokens,
                cite: Cite::of(seq, hash, &e),
            };
            self.people.insert(email, person);
        }
        self.accounts = accounts;
        for p in pending {
            let who = self.resolve(&p.act.cite.source, &p.candidates);
            match who {
                Some(email) => self.acts.entry(email).or_default().push(p.act),
                None => {
                    *self
                        .unattributed
                        .entry(p.act.cite.source.clone())
                        .or_default() += 1
                }
            }
        }
        for acts in self.acts.values_mut() {
            acts.sort_by_key(|a| (a.cite.at, a.cite.seq));
        }
    }

    /// The sprint calendar as it stands: the latest version of each (team, sprint).
    pub fn current_sprints(&self, team: &str) -> Vec<&SprintVersion> {
        let mut latest: BTreeMap<&str, &SprintVersion> = BTreeMap::new();
        for v in self.sprints.get(team).into_iter().flatten() {
            match latest.get(v.sprint.as_str()) {
                Some(old) if (old.cite.at, old.cite.seq) > (v.cite.at, v.cite.seq) => {}
                _ => {
                    latest.insert(&v.sprint, v);
                }
            }
        }
        let mut out: Vec<&SprintVersion> = latest.into_values().collect();
        out.sort_by_key(|v| (v.start, v.sprint.clone()));
        out
    }

    pub fn acts_of(&self, email: &str) -> &[Act] {
        self.acts.get(email).map(Vec::as_slice).unwrap_or(&[])
    }
}

/// The first instant of the day after `day` in `tz`: the end of `day` there. Where local
/// midnight does not exist (a DST gap), the first instant after the gap.
pub fn end_of_day(day: NaiveDate, tz: Tz) -> Timestamp {
    let next = day.succ_opt().unwrap_or(day);
    let mut local = next.and_time(NaiveTime::MIN);
    for _ in 0..4 {
        if let Some(t) = tz.from_local_datetime(&local).earliest() {
            return Timestamp::from_datetime(t.with_timezone(&Utc));
        }
        local += Duration::minutes(30);
    }
    Timestamp::from_datetime(Utc.from_utc_datetime(&next.and_time(NaiveTime::MIN)))
}

/// The local calendar day an exclusive end instant closes: the day of `end - 1µs`.
pub fn last_day(end: Timestamp, tz: Tz) -> NaiveDate {
    Timestamp(end.0 - 1)
        .to_datetime()
        .with_timezone(&tz)
        .date_naive()
}

/// `at` in `tz`, e.g. `2026-03-13 16:00 PDT (America/Los_Angeles)`.
pub fn local_text(at: Timestamp, tz: Option<Tz>, tz_name: &str) -> String {
    match tz {
        Some(tz) => {
            let local: DateTime<Tz> = at.to_datetime().with_timezone(&tz);
            format!("{} ({tz_name})", local.format("%a %Y-%m-%d %H:%M %Z"))
        }
        None => format!("{} (zone {tz_name:?} unknown)", at.to_rfc3339()),
    }
}

/// An exclusive end-of-day instant as people say it: `end of Fri 2026-03-13,
/// America/Los_Angeles`; other instants as `local_text`.
pub fn expiry_text(end: Timestamp, tz: Option<Tz>, tz_name: &str) -> String {
    match tz {
        Some(tz) => {
            let local: DateTime<Tz> = end.to_datetime().with_timezone(&tz);
            if local.time() == NaiveTime::MIN {
                let day = last_day(end, tz);
                format!("end of {} ({tz_name})", day.format("%a %Y-%m-%d"))
            } else {
                local_text(end, Some(tz), tz_name)
            }
        }
        None => local_text(end, None, tz_name),
    }
}

/// Whether `day` is Monday to Friday.
pub fn is_weekday(day: NaiveDate) -> bool {
    day.weekday().num_days_from_monday() < 5
}

/// "2 d 3 h", "45 min": a duration a team lead reads at a glance.
pub fn human_duration(micros: i64) -> String {
    let minutes = micros.abs() / 60_000_000;
    let (d, h, m) = (minutes / 1440, (minutes % 1440) / 60, minutes % 60);
    match (d, h, m) {
        (0, 0, m) => format!("{m} min"),
        (0, h, 0) => format!("{h} h"),
        (0, h, m) => format!("{h} h {m} min"),
        (d, 0, _) => format!("{d} d"),
        (d, h, _) => format!("{d} d {h} h"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        Timestamp::parse_rfc3339(s).unwrap()
    }

    #[test]
    fn end_of_day_follows_the_zone_across_dst_and_leap_days() {
        let la: Tz = "America/Los_Angeles".parse().unwrap();
        let d = |s| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        // PST (UTC-8) before 2026-03-08, PDT (UTC-7) after.
        assert_eq!(end_of_day(d("2026-03-06"), la), ts("2026-03-07T08:00:00Z"));
        assert_eq!(end_of_day(d("2026-03-08"), la), ts("2026-03-09T07:00:00Z"));
        // The day of the change itself ends at the new offset.
        assert_eq!(end_of_day(d("2026-03-07"), la), ts("2026-03-08T08:00:00Z"));
        assert_eq!(end_of_day(d("2028-02-29"), la), ts("2028-03-01T08:00:00Z"));
        // A zone whose midnight falls in the DST gap (Santiago: 2026-09-06 00:00 skipped).
        let santiago: Tz = "America/Santiago".parse().unwrap();
        let e = end_of_day(d("2026-09-05"), santiago);
        assert_eq!(
            e,
            ts("2026-09-06T04:00:00Z"),
            "01:00 -03, the first instant after the gap"
        );
        assert_eq!(last_day(e, santiago), d("2026-09-05"));
        assert_eq!(last_day(ts("2026-03-14T07:00:00Z"), la), d("2026-03-13"));
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human_duration(45 * 60_000_000), "45 min");
        assert_eq!(human_duration((51 * 60 + 5) * 60_000_000), "2 d 3 h");
        assert_eq!(human_duration(3 * 3_600_000_000), "3 h");
    }
}
