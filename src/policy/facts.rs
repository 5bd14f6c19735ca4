//! The facts the rules read, gathered from a ledger prefix: people (from the roster), the
//! sprint calendar, extension requests, reminders, reviews, and the IdP events attributed
//! to a person.
//!
//! Invariants: facts come only from ledger entries `0..size` (never from input files), and
//! every fact keeps the seq and chain hash of the entry it came from, so any finding built
//! on it can cite its evidence. Identity is resolved from every roster row in the prefix
//! (read in a pass of its own before any event is attributed), so the order in which
//! roster and logs were ingested does not matter. The one rule: an event belongs to a
//! person when its subject, account or `user_id` is the person's roster email, or equals
//! (ignoring case) an `idp:account` item of the person's roster `accounts` whose idp is the
//! event source's IdP (`sources::idp_of`).
//!
//! Memory follows people, not events. Three passes ([`Pass`]): roster and team records;
//! rare acts and reminders; everyday acts. With [`Keep::ForRules`] only what a rule can
//! read is held (the acts and reminders of people in scope, their everyday acts from their
//! cut-off on); everything else is counted, never held. The rule tests evaluate every case
//! both ways and assert the same findings.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

use crate::event::{Event, EventKind, Timestamp};
use crate::ledger::entry::Payload;
use crate::ledger::{Ledger, LedgerError};
use crate::policy::config::Policy;
use crate::policy::expiry;
use crate::policy::finding::Evidence;
use crate::tlog::merkle::to_hex;
use crate::tlog::merkle::Hash;

/// A ledger entry a fact came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cite {
    pub seq: u64,
    pub hash: Hash,
    pub kind: EventKind,
    pub source: Shared,
    pub at: Timestamp,
}

/// A string many facts repeat (a source, an IdP, a team, a zone, a manager, a delivery
/// status): held once and shared, so a million-person roster does not hold it a million
/// times.
pub type Shared = Arc<str>;

/// Hands out one [`Shared`] per distinct string while the facts are gathered.
#[derive(Debug, Default)]
struct Interner(HashSet<Shared>);

impl Interner {
    fn get(&mut self, text: &str) -> Shared {
        if let Some(held) = self.0.get(text) {
            return held.clone();
        }
        let held: Shared = Arc::from(text);
        self.0.insert(held.clone());
        held
    }
}

impl Cite {
    fn of(seq: u64, hash: Hash, e: &Event, strings: &mut Interner) -> Cite {
        Cite {
            seq,
            hash,
            kind: e.kind,
            source: strings.get(&e.source),
            at: e.occurred_at,
        }
    }
    pub fn evidence(&self) -> Evidence {
        Evidence {
            seq: self.seq,
            hash: to_hex(&self.hash),
            kind: self.kind.as_str().into(),
            source: self.source.to_string(),
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
    pub role: Option<Shared>,
    pub team: Option<Shared>,
    pub manager: Option<Shared>,
    pub tech_lead: Option<Shared>,
    pub contract_end: Option<NaiveDate>,
    /// `None` when the roster's zone is not in the zone database.
    pub tz: Option<Tz>,
    pub tz_name: Shared,
    pub left_on: Option<NaiveDate>,
    /// `idp:account` items from every roster row of the person.
    pub accounts: Vec<(Shared, Shared)>,
    /// `idp:token` items from every roster row of the person.
    pub tokens: Vec<(Shared, Shared)>,
    pub cite: Cite,
}

/// Everyone the roster names, as their latest row states them, sorted by email: a vector,
/// because a map's nodes and keys would cost half as much again at a million people.
#[derive(Debug, Default)]
pub struct People(Vec<Person>);

impl People {
    pub fn get(&self, email: &str) -> Option<&Person> {
        let at = self
            .0
            .binary_search_by(|p| p.email.as_str().cmp(email))
            .ok()?;
        self.0.get(at)
    }

    pub fn contains_key(&self, email: &str) -> bool {
        self.get(email).is_some()
    }

    /// In email order.
    pub fn values(&self) -> std::slice::Iter<'_, Person> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
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
    pub recipient: Shared,
    pub status: Shared,
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
    pub account: Shared,
    /// The token or key id (`token_id`, else `token_name`), for token events.
    pub token: Option<Shared>,
    /// Why an authentication failed, or the application.
    pub detail: Option<Shared>,
    /// For `expiry.set`: the expiry it set, when the source says.
    pub expires: Option<Timestamp>,
}

/// Everything the rules read.
#[derive(Debug, Default)]
pub struct Facts {
    /// Entries read: the ledger prefix `0..size`.
    pub size: u64,
    pub people: People,
    /// The roster while the first pass reads it, by email; `people` after.
    roster: BTreeMap<String, Person>,
    /// Per team, every version of every sprint, in ledger order.
    pub sprints: BTreeMap<String, Vec<SprintVersion>>,
    pub requests: BTreeMap<String, Request>,
    pub reminders: BTreeMap<String, Vec<Reminder>>,
    pub reviews: BTreeMap<String, Vec<Review>>,
    /// Per person email, their events in time order (then seq): every rare act, and the
    /// everyday acts [`Keep`] asked for.
    pub acts: BTreeMap<String, Vec<Act>>,
    /// IdP and application events attributed to someone, including those not held.
    pub attributed: u64,
    /// Events about accounts no roster row names: count per source.
    pub unattributed: BTreeMap<String, u64>,
    /// Entries that reuse an earlier entry's source event id with other content.
    pub id_conflicts: Vec<IdConflictFact>,
    /// `idp:account` (lower-case) → the email of the latest roster row listing it, and
    /// that row's time and seq.
    accounts: HashMap<String, (String, (Timestamp, u64))>,
    /// `idp:token` → the emails of the roster rows that list it. While gathering.
    listed_tokens: HashMap<String, BTreeSet<String>>,
    /// `idp:token` → the emails of those seen creating it (one OAuth client id is every
    /// user's). While gathering; empty after.
    created_tokens: HashMap<String, BTreeSet<String>>,
    /// While gathering; empty after.
    strings: Interner,
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

fn list(text: Option<&str>, strings: &mut Interner) -> Vec<(Shared, Shared)> {
    let mut items: Vec<_> = text
        .unwrap_or("")
        .split(';')
        .filter_map(|item| {
            let (idp, v) = item.trim().split_once(':')?;
            Some((
                strings.get(&idp.trim().to_lowercase()),
                strings.get(v.trim()),
            ))
        })
        .collect();
    // Held for every person: no spare capacity.
    items.shrink_to_fit();
    items
}

fn date(text: Option<&str>) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text?, "%Y-%m-%d").ok()
}

/// The act an IdP or application event records.
fn act_of(cite: Cite, e: &Event, strings: &mut Interner) -> Act {
    let token = attr(e, "token_id").or_else(|| attr(e, "token_name"));
    Act {
        account: strings.get(e.account.as_deref().unwrap_or(&e.subject)),
        token: token.map(|t| strings.get(t)),
        detail: attr(e, "reason")
            .or_else(|| attr(e, "app"))
            .map(|d| strings.get(d)),
        expires: attr(e, "expires_at").and_then(|t| Timestamp::parse_rfc3339(t).ok()),
        cite,
    }
}

/// The person a roster row states. Rows are held as people, not events, until every row
/// is in (they apply in time order, whatever order they were ingested in): a person is
/// far smaller than the event, which keeps a million-row roster small.
fn roster_row(cite: Cite, e: &Event, strings: &mut Interner) -> Person {
    let email = e.subject.to_lowercase();
    let lower =
        |key: &str, strings: &mut Interner| attr(e, key).map(|v| strings.get(&v.to_lowercase()));
    Person {
        name: attr(e, "person").unwrap_or(&email).to_string(),
        contractor: attr(e, "employment") == Some("contractor"),
        role: attr(e, "role").map(|r| strings.get(r)),
        team: lower("team", strings),
        manager: lower("manager", strings),
        tech_lead: lower("tech_lead", strings),
        contract_end: date(attr(e, "contract_end")),
        tz: attr(e, "time_zone").unwrap_or("UTC").parse().ok(),
        tz_name: strings.get(attr(e, "time_zone").unwrap_or("UTC")),
        left_on: date(attr(e, "left_on")),
        accounts: list(attr(e, "accounts"), strings),
        tokens: list(attr(e, "tokens"), strings),
        email,
        cite,
    }
}

/// The names an event may be about, in the order [`Facts::resolve`] tries them.
fn candidates_of(e: &Event) -> [Option<&str>; 3] {
    [
        Some(e.subject.as_str()),
        e.account.as_deref(),
        e.attrs.get("user_id").map(String::as_str),
    ]
}

/// What the passes hold besides the roster and team records.
#[derive(Clone, Copy)]
pub enum Keep<'p> {
    /// Every act and reminder (tests, and callers that show every event).
    All,
    /// What the rules can read under `policy` at `now`: the acts and reminders of the
    /// people in scope ([`expiry::in_scope`]), and of their everyday acts only those from
    /// their cut-off ([`expiry::everyday_cutoffs`]) on. Everything else is counted only.
    ForRules { policy: &'p Policy, now: Timestamp },
}

/// Which pass reads an event kind. The match is exhaustive so a new kind must be placed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pass {
    /// Who is who: the roster and team records, read first so every later event can be
    /// attributed on the spot.
    Team,
    /// Lifecycle, revocations, token creation, expiry changes and reminders: rare, read
    /// whenever they happened.
    Rare,
    /// Sign-ins, failures, session and token use: the bulk of every IdP log. The rules read
    /// them only from a person's cut-off on.
    Everyday,
    Unused,
}

fn pass_of(kind: EventKind) -> Pass {
    use EventKind::*;
    match kind {
        RosterEntry | SprintDefined | ExtensionRequested | ExtensionApproved | ExtensionDenied
        | ReviewSignedOff => Pass::Team,
        AccountCreated | AccountDeactivated | AccountSuspended | AccountDeleted
        | AccountReactivated | ExpirySet | SessionRevoked | TokenCreated | TokenRevoked
        | ReminderSent => Pass::Rare,
        AccountUpdated | SessionStarted | SessionActivity | SessionEnded | TokenUsed
        | AuthSucceeded | AuthFailed | AccessUsed | GroupGranted | GroupRemoved => Pass::Everyday,
        Other => Pass::Unused,
    }
}

/// One ledger event as both passes see it.
type Scanned = (u64, Hash, Event);

impl Facts {
    /// Reads entries `0..size` of `ledger`; with `cutoff`, only events that occurred by
    /// then (a report pinned to a past `now` must not see what had not happened yet).
    /// `keep` says what to hold besides the roster and team records.
    pub fn gather(
        ledger: &Ledger,
        size: u64,
        cutoff: Option<Timestamp>,
        keep: Keep,
    ) -> Result<Facts, LedgerError> {
        let scan = || {
            ledger
                .entries(0, size)
                .filter_map(move |stored| match stored {
                    Err(e) => Some(Err(e)),
                    Ok(stored) => {
                        let seq = stored.entry.seq;
                        match stored.entry.payload {
                            Payload::Event(e) if cutoff.is_none_or(|c| e.occurred_at <= c) => {
                                Some(Ok((seq, stored.chain, e)))
                            }
                            _ => None,
                        }
                    }
                })
        };
        let mut facts = Facts::passes(scan, keep)?;
        facts.size = size;
        // Conflicts are few: an interner of their own is enough.
        let strings = &mut Interner::default();
        for c in ledger.id_conflicts(size)? {
            let (a, b) = (ledger.read_entry(c.earlier)?, ledger.read_entry(c.later)?);
            let (Some(ea), Some(eb)) = (a.entry.event(), b.entry.event()) else {
                continue;
            };
            let person = facts.person_of(eb);
            facts.id_conflicts.push(IdConflictFact {
                earlier: Cite::of(c.earlier, a.chain, ea, strings),
                later: Cite::of(c.later, b.chain, eb, strings),
                source_id: eb.source_id.clone().unwrap_or_default(),
                subject: person
                    .map(|p| p.email.clone())
                    .unwrap_or_else(|| eb.subject.clone()),
                person: person.map(|p| p.name.clone()),
            });
        }
        Ok(facts.gathered())
    }

    /// Builds facts from events given directly (tests and benchmarks); seqs are positions.
    pub fn from_events(events: Vec<Event>, keep: Keep) -> Facts {
        let scan = || {
            events.iter().enumerate().map(|(seq, e)| {
                let seq = seq as u64;
                let hash = *blake3::hash(&seq.to_be_bytes()).as_bytes();
                Ok::<Scanned, LedgerError>((seq, hash, e.clone()))
            })
        };
        // The scan above cannot fail.
        let mut facts = Facts::passes(scan, keep).unwrap_or_default();
        facts.size = events.len() as u64;
        facts.gathered()
    }

    /// Three passes, each over the whole prefix: team records, then rare acts and
    /// reminders, then everyday acts (see [`Pass`]). Reading who is who first lets every
    /// later event be attributed as it is read, so nothing waits in memory for the roster.
    fn passes<I: Iterator<Item = Result<Scanned, LedgerError>>>(
        scan: impl Fn() -> I,
        keep: Keep,
    ) -> Result<Facts, LedgerError> {
        let mut facts = Facts::default();
        for scanned in scan() {
            let (seq, hash, e) = scanned?;
            if pass_of(e.kind) == Pass::Team {
                facts.take_team(seq, hash, e);
            }
        }
        // In email order, as the map holds them.
        facts.people = People(std::mem::take(&mut facts.roster).into_values().collect());
        let in_scope = match keep {
            Keep::All => None,
            Keep::ForRules { policy, .. } => Some(expiry::in_scope(&facts, policy)),
        };
        // Revocations last, so every token seen created is known whatever order the logs
        // were ingested in (acts are sorted by time below).
        let mut revocations = Vec::new();
        // A session revoked by its id alone (Keycloak's admin `DELETE sessions/<id>`)
        // names nobody: it is the person's who signed in with that session, which only the
        // everyday pass reads. (No cutoff depends on session revocations.)
        let mut session_only = Vec::new();
        for scanned in scan() {
            let (seq, hash, e) = scanned?;
            if e.kind == EventKind::TokenRevoked {
                revocations.push((seq, hash, e));
            } else if e.kind == EventKind::SessionRevoked
                && attr(&e, "session_id").is_some()
                && facts.person_of(&e).is_none()
            {
                session_only.push((seq, hash, e));
            } else if pass_of(e.kind) == Pass::Rare {
                facts.take_rare(seq, hash, e, in_scope.as_ref());
            }
        }
        for (seq, hash, e) in revocations {
            facts.take_rare(seq, hash, e, in_scope.as_ref());
        }
        let from = match keep {
            Keep::All => None,
            Keep::ForRules { policy, now } => Some(expiry::everyday_cutoffs(&facts, policy, now)),
        };
        let mut session_owners: HashMap<String, Option<String>> = session_only
            .iter()
            .filter_map(|(_, _, e)| attr(e, "session_id").map(|s| (s.to_string(), None)))
            .collect();
        for scanned in scan() {
            let (seq, hash, e) = scanned?;
            if pass_of(e.kind) == Pass::Everyday {
                if let Some(owner @ None) =
                    attr(&e, "session_id").and_then(|s| session_owners.get_mut(s))
                {
                    *owner = facts.person_of(&e).map(|p| p.email.clone());
                }
                facts.take_everyday(seq, hash, e, from.as_ref());
            }
        }
        for (seq, hash, mut e) in session_only {
            let owner = attr(&e, "session_id")
                .and_then(|s| session_owners.get(s))
                .cloned()
                .flatten();
            if let Some(owner) = owner {
                e.attrs.insert("session_owner".into(), owner.clone());
                e.account = Some(owner);
            }
            facts.take_rare(seq, hash, e, in_scope.as_ref());
        }
        for acts in facts.acts.values_mut() {
            acts.sort_by_key(|a| (a.cite.at, a.cite.seq));
            acts.shrink_to_fit();
        }
        Ok(facts)
    }

    /// Drops what only gathering needs (the account index and the string table): at a
    /// million people they are hundreds of megabytes the rules never read.
    fn gathered(mut self) -> Facts {
        self.strings = Interner::default();
        self.accounts = HashMap::new();
        self.listed_tokens = HashMap::new();
        self.created_tokens = HashMap::new();
        self
    }

    /// Attributes an act and holds it when `hold` says so; either way it is counted.
    fn attribute(
        &mut self,
        seq: u64,
        hash: Hash,
        e: &Event,
        hold: impl Fn(&str, Timestamp) -> bool,
    ) {
        // A token revoked by an admin names the admin (Okta's `system.api_token.revoke`
        // targets only the token). A revocation naming someone who does not hold the token
        // is its holder's when the roster lists exactly one; when it names nobody the
        // roster knows, also when exactly one person was seen creating it.
        let token_key = attr(e, "token_id")
            .or_else(|| attr(e, "token_name"))
            .map(|t| format!("{}:{t}", idp_of(&e.source)));
        let named = self.resolve(&e.source, &candidates_of(e));
        let holder = match (&token_key, e.kind) {
            (Some(key), EventKind::TokenRevoked) => {
                let (listed, created) = (self.listed_tokens.get(key), self.created_tokens.get(key));
                let sole = |set: Option<&BTreeSet<String>>| {
                    set.filter(|s| s.len() == 1)
                        .and_then(|s| s.iter().next().cloned())
                };
                match &named {
                    Some(n)
                        if listed.is_some_and(|l| l.contains(n))
                            || created.is_some_and(|c| c.contains(n)) =>
                    {
                        None
                    }
                    Some(_) => sole(listed),
                    None => sole(listed).or_else(|| sole(created)),
                }
            }
            _ => None,
        };
        match holder.or(named) {
            None => *self.unattributed.entry(e.source.clone()).or_default() += 1,
            Some(email) => {
                self.attributed += 1;
                if let (Some(key), EventKind::TokenCreated) = (token_key, e.kind) {
                    self.created_tokens
                        .entry(key)
                        .or_default()
                        .insert(email.clone());
                }
                if hold(&email, e.occurred_at) {
                    let cite = Cite::of(seq, hash, e, &mut self.strings);
                    let act = act_of(cite, e, &mut self.strings);
                    // Most people have a handful: grow from one, not from Vec's four.
                    self.acts
                        .entry(email)
                        .or_insert_with(|| Vec::with_capacity(1))
                        .push(act);
                }
            }
        }
    }

    fn take_everyday(
        &mut self,
        seq: u64,
        hash: Hash,
        e: Event,
        from: Option<&HashMap<String, Timestamp>>,
    ) {
        self.attribute(seq, hash, &e, |email, at| {
            from.is_none_or(|from| from.get(email).is_some_and(|t| at >= *t))
        });
    }

    fn take_rare(&mut self, seq: u64, hash: Hash, e: Event, in_scope: Option<&HashSet<String>>) {
        let wanted = |email: &str| in_scope.is_none_or(|people| people.contains(email));
        if e.kind == EventKind::ReminderSent {
            if !wanted(&e.subject) {
                return;
            }
            let cite = Cite::of(seq, hash, &e, &mut self.strings);
            let reminder = Reminder {
                recipient: self
                    .strings
                    .get(&attr(&e, "recipient").unwrap_or("").to_lowercase()),
                status: self.strings.get(attr(&e, "status").unwrap_or("")),
                cite,
            };
            self.reminders
                .entry(e.subject)
                .or_insert_with(|| Vec::with_capacity(1))
                .push(reminder);
            return;
        }
        self.attribute(seq, hash, &e, |email, _| wanted(email));
    }

    fn take_team(&mut self, seq: u64, hash: Hash, e: Event) {
        let cite = Cite::of(seq, hash, &e, &mut self.strings);
        use EventKind::*;
        match e.kind {
            RosterEntry => {
                let row = roster_row(cite, &e, &mut self.strings);
                self.add_roster_row(row);
            }
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
            ReviewSignedOff => {
                let review = Review {
                    reviewer: e.actor.clone().unwrap_or_default(),
                    role: attr(&e, "role").map(String::from),
                    outcome: attr(&e, "outcome").unwrap_or("").to_string(),
                    cite,
                };
                self.reviews.entry(e.subject).or_default().push(review);
            }
            _ => {}
        }
    }

    /// The person an event is about: the first of its subject, account and `user_id` that
    /// is a roster email or one of a person's accounts at the event source's IdP.
    fn resolve(&self, source: &str, candidates: &[Option<&str>]) -> Option<String> {
        let idp = idp_of(source);
        candidates.iter().flatten().find_map(|c| {
            let c = c.to_lowercase();
            if self.people.contains_key(&c) {
                return Some(c);
            }
            self.accounts
                .get(&format!("{idp}:{c}"))
                .map(|(email, _)| email.clone())
        })
    }

    fn person_of(&self, e: &Event) -> Option<&Person> {
        self.people
            .get(&self.resolve(&e.source, &candidates_of(e))?)
    }

    /// Adds a roster row. Rows apply in time order (then seq) whatever order they arrive
    /// in: the latest row states the person, and the accounts and tokens of every row count.
    fn add_roster_row(&mut self, row: Person) {
        let when = (row.cite.at, row.cite.seq);
        for (idp, token) in &row.tokens {
            self.listed_tokens
                .entry(format!("{idp}:{token}"))
                .or_default()
                .insert(row.email.clone());
        }
        for (idp, account) in &row.accounts {
            let key = format!("{idp}:{}", account.to_lowercase());
            if self.accounts.get(&key).is_none_or(|(_, held)| *held < when) {
                self.accounts.insert(key, (row.email.clone(), when));
            }
        }
        let (older, mut newer) = match self.roster.remove(&row.email) {
            None => {
                self.roster.insert(row.email.clone(), row);
                return;
            }
            Some(held) if (held.cite.at, held.cite.seq) < when => (held, row),
            Some(held) => (row, held),
        };
        let (mut accounts, mut tokens) = (older.accounts, older.tokens);
        for a in std::mem::take(&mut newer.accounts) {
            if !accounts.contains(&a) {
                accounts.push(a);
            }
        }
        for t in std::mem::take(&mut newer.tokens) {
            if !tokens.contains(&t) {
                tokens.push(t);
            }
        }
        newer.accounts = accounts;
        newer.tokens = tokens;
        self.roster.insert(newer.email.clone(), newer);
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

/// "2 d 3 h", "45 min", "20 s": a duration a team lead reads at a glance, rounded to the
/// nearest unit it shows (2 d 10 h 59 min is "2 d 11 h": truncating would understate how
/// late a control acted). The sign is dropped; callers say "before" or "after".
pub fn human_duration(micros: i64) -> String {
    let seconds = (i128::from(micros).abs() + 500_000) / 1_000_000;
    let minutes = (seconds + 30) / 60;
    let hours = (seconds + 1_800) / 3_600;
    if seconds < 60 {
        format!("{seconds} s")
    } else if minutes < 60 {
        format!("{minutes} min")
    } else if minutes < 1_440 {
        match (minutes / 60, minutes % 60) {
            (h, 0) => format!("{h} h"),
            (h, m) => format!("{h} h {m} min"),
        }
    } else {
        match (hours / 24, hours % 24) {
            (d, 0) => format!("{d} d"),
            (d, h) => format!("{d} d {h} h"),
        }
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
        let minutes = |m: i64| m * 60_000_000;
        assert_eq!(human_duration(minutes(2 * 1440 + 10 * 60 + 59)), "2 d 11 h");
        assert_eq!(human_duration(minutes(2 * 1440 + 10 * 60 + 29)), "2 d 10 h");
        assert_eq!(human_duration(minutes(1439) + 40_000_000), "1 d");
        assert_eq!(human_duration(minutes(59) + 40_000_000), "1 h");
        assert_eq!(human_duration(59_600_000), "1 min");
        assert_eq!(human_duration(20_000_000), "20 s");
        assert_eq!(human_duration(-minutes(90)), "1 h 30 min");
        assert!(!human_duration(i64::MIN).is_empty());
    }
}
