//! Rule tests: each rule fires on the case it exists for and stays quiet on the correct
//! one, including the edges (exactly at a limit, DST changes, a leap day).

use std::collections::BTreeMap;

use crate::event::{Event, EventKind, Timestamp};
use crate::policy::config::{Policy, Profile};
use crate::policy::evaluate;
use crate::policy::facts::{Facts, Keep};
use crate::policy::finding::{Finding, Severity};

use EventKind::*;

fn ts(s: &str) -> Timestamp {
    Timestamp::parse_rfc3339(s).expect("test time")
}

fn ev(kind: EventKind, source: &str, subject: &str, at: &str, attrs: &[(&str, &str)]) -> Event {
    Event {
        source: source.into(),
        source_id: None,
        kind,
        subject: subject.into(),
        account: None,
        actor: None,
        occurred_at: ts(at),
        original_time: at.into(),
        attrs: attrs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<BTreeMap<_, _>>(),
    }
}

const JOSE: &str = "jose@acme.example";

/// A contractor in Los Angeles whose contract ends `end`, on team-auth.
fn roster(end: &str) -> Event {
    ev(
        RosterEntry,
        "roster",
        JOSE,
        "2026-01-05T17:00:00Z",
        &[
            ("person", "José Núñez"),
            ("employment", "contractor"),
            ("team", "team-auth"),
            ("manager", "maria@acme.example"),
            ("tech_lead", "li@acme.example"),
            ("contract_end", end),
            ("time_zone", "America/Los_Angeles"),
            ("accounts", "okta:jose@acme.example;github:jnunez"),
            ("tokens", "github:5521"),
        ],
    )
}

fn employee(email: &str, left_on: Option<&str>) -> Event {
    let mut attrs = vec![
        ("person", email),
        ("employment", "employee"),
        ("time_zone", "Europe/Berlin"),
    ];
    if let Some(l) = left_on {
        attrs.push(("left_on", l));
    }
    ev(RosterEntry, "roster", email, "2025-06-02T09:00:00Z", &attrs)
}

fn deactivated(at: &str) -> Event {
    ev(AccountDeactivated, "okta", JOSE, at, &[])
}

fn okta(kind: EventKind, at: &str) -> Event {
    ev(kind, "okta", JOSE, at, &[])
}

fn token(kind: EventKind, at: &str) -> Event {
    let mut e = ev(kind, "github", "jnunez", at, &[("token_id", "5521")]);
    e.account = Some("jnunez".into());
    e
}

fn reminder(days_at: &str, recipient: &str, status: &str) -> Event {
    ev(
        ReminderSent,
        "reminders",
        JOSE,
        days_at,
        &[("recipient", recipient), ("status", status)],
    )
}

/// The clean story: contract ends Fri 2026-03-13 (LA, PDT: expiry 2026-03-14T07:00Z),
/// deactivated, sessions and the PAT revoked, both reminders to two contacts.
fn clean() -> Vec<Event> {
    vec![
        roster("2026-03-13"),
        employee("maria@acme.example", None),
        employee("li@acme.example", None),
        reminder("2026-03-06T17:00:00Z", "maria@acme.example", "delivered"),
        reminder("2026-03-06T17:00:00Z", "li@acme.example", "delivered"),
        reminder("2026-03-11T16:00:00Z", "maria@acme.example", "delivered"),
        reminder("2026-03-11T16:00:00Z", "li@acme.example", "delivered"),
        okta(AuthSucceeded, "2026-03-13T20:00:00Z"),
        deactivated("2026-03-14T07:00:00Z"),
        okta(SessionRevoked, "2026-03-14T07:05:00Z"),
        token(TokenRevoked, "2026-03-14T07:10:00Z"),
    ]
}

const NOW: &str = "2026-04-30T00:00:00Z";

/// Evaluates with every act held, and again holding only what `everyday_cutoffs` asks for
/// (what `check` does): every rule test also proves that dropping the rest changes nothing.
fn run_with(events: Vec<Event>, policy: &Policy) -> Vec<Finding> {
    let all = Facts::from_events(events.clone(), Keep::All);
    let findings = evaluate(&all, policy, ts(NOW)).1;
    let held = Facts::from_events(
        events,
        Keep::ForRules {
            policy,
            now: ts(NOW),
        },
    );
    assert_eq!(
        evaluate(&held, policy, ts(NOW)).1,
        findings,
        "the findings must not depend on the everyday acts check does not hold"
    );
    assert_eq!(held.attributed, all.attributed);
    assert_eq!(held.unattributed, all.unattributed);
    findings
}

fn run(events: Vec<Event>) -> Vec<Finding> {
    run_with(events, &Policy::defaults(Profile::Standard))
}

fn of<'a>(findings: &'a [Finding], rule: &str) -> Vec<&'a Finding> {
    findings.iter().filter(|f| f.rule == rule).collect()
}

#[test]
fn the_clean_story_has_no_findings_in_either_profile() {
    assert_eq!(run(clean()), vec![]);
    let mut with_review = clean();
    with_review.push({
        let mut e = ev(
            ReviewSignedOff,
            "reviews",
            JOSE,
            "2026-03-12T07:00:00Z",
            &[("role", "security"), ("outcome", "revoke")],
        );
        e.actor = Some("sam@acme.example".into());
        e
    });
    // Exactly 48 h before the expiry counts.
    assert_eq!(
        run_with(with_review, &Policy::defaults(Profile::Compliance)),
        vec![]
    );
    let compliance = run_with(clean(), &Policy::defaults(Profile::Compliance));
    assert_eq!(
        of(&compliance, "pre-expiry-review").len(),
        1,
        "{compliance:#?}"
    );
}

#[test]
fn every_finding_cites_ledger_entries() {
    let mut events = clean();
    events.push(token(TokenUsed, "2026-03-16T10:00:00Z"));
    for f in run(events) {
        assert!(!f.evidence.is_empty(), "{f:#?}");
    }
}

#[test]
fn access_after_expiry_fires_from_the_expiry_instant_and_not_a_microsecond_before() {
    let mut at_limit = clean();
    at_limit.push(token(TokenUsed, "2026-03-14T07:00:00Z"));
    let f = run(at_limit);
    let found = of(&f, "access-after-expiry");
    assert_eq!(found.len(), 1, "{f:#?}");
    assert_eq!(found[0].severity, Severity::Critical);
    assert!(
        found[0].summary.contains("token 5521"),
        "{}",
        found[0].summary
    );

    let mut before = clean();
    before.push(token(TokenUsed, "2026-03-14T06:59:59.999999Z"));
    assert!(of(&run(before), "access-after-expiry").is_empty());
}

#[test]
fn expiry_is_end_of_day_local_across_the_dst_change_and_on_a_leap_day() {
    // Contract ends Sat 2026-03-07 in LA: PST, so the day ends 08:00Z on the 8th even
    // though DST starts that night.
    let mut events = vec![
        roster("2026-03-07"),
        okta(AuthSucceeded, "2026-03-08T07:59:00Z"),
    ];
    assert!(of(&run(events.clone()), "access-after-expiry").is_empty());
    events.push(okta(AuthSucceeded, "2026-03-08T08:00:00Z"));
    assert_eq!(of(&run(events), "access-after-expiry").len(), 1);

    let leap = vec![
        roster("2028-02-29"),
        okta(AuthSucceeded, "2028-03-01T07:59:00Z"),
    ];
    let facts = Facts::from_events(leap, Keep::All);
    let (people, findings) = evaluate(
        &facts,
        &Policy::defaults(Profile::Standard),
        ts("2028-03-01T07:59:30Z"),
    );
    assert_eq!(people[0].expiry, ts("2028-03-01T08:00:00Z"));
    assert!(of(&findings, "access-after-expiry").is_empty());
}

#[test]
fn employees_are_out_of_scope_unless_the_policy_includes_them() {
    let events = vec![
        employee("tom@acme.example", Some("2026-02-27")),
        ev(
            AuthSucceeded,
            "okta",
            "tom@acme.example",
            "2026-03-02T09:00:00Z",
            &[],
        ),
    ];
    assert!(run(events.clone()).is_empty());
    let mut p = Policy::defaults(Profile::Standard);
    p.scope.include_employees = true;
    let f = run_with(events, &p);
    assert_eq!(of(&f, "access-after-expiry").len(), 1, "{f:#?}");
}

#[test]
fn deactivation_late_never_and_within_grace() {
    let mut late = clean();
    late.retain(|e| e.kind != AccountDeactivated);
    late.push(deactivated("2026-03-15T07:00:00Z"));
    let f = run(late.clone());
    let d = of(&f, "deactivation-timeliness");
    assert_eq!(d.len(), 1, "{f:#?}");
    assert_eq!(d[0].severity, Severity::Medium, "a day late is a slow job");
    assert!(d[0].summary.contains("1 d after"), "{}", d[0].summary);

    let mut very_late = clean();
    very_late.retain(|e| e.kind != AccountDeactivated);
    very_late.push(deactivated("2026-03-15T07:00:00.000001Z"));
    let f = run(very_late);
    assert_eq!(
        of(&f, "deactivation-timeliness")[0].severity,
        Severity::High,
        "over a day late"
    );

    let mut grace = Policy::defaults(Profile::Standard);
    grace.rules.deactivation_timeliness.grace_hours = 24;
    assert!(
        of(&run_with(late, &grace), "deactivation-timeliness").is_empty(),
        "exactly at the grace"
    );

    let mut never = clean();
    never.retain(|e| e.kind != AccountDeactivated);
    let f = run(never);
    let d = of(&f, "deactivation-timeliness");
    assert_eq!(d[0].severity, Severity::Critical);
    assert!(d[0].summary.contains("never deactivated"));
}

#[test]
fn session_revocation_limit_and_orphaned_sessions() {
    let mut at_limit = clean();
    at_limit.retain(|e| e.kind != SessionRevoked);
    at_limit.push(okta(SessionRevoked, "2026-03-14T07:15:00Z"));
    assert!(of(&run(at_limit), "session-revocation").is_empty());

    let mut late = clean();
    late.retain(|e| e.kind != SessionRevoked);
    late.push(okta(SessionRevoked, "2026-03-14T07:15:00.000001Z"));
    let f = run(late);
    assert_eq!(of(&f, "session-revocation")[0].severity, Severity::Medium);

    let mut orphan = clean();
    orphan.retain(|e| e.kind != SessionRevoked);
    orphan.push(ev(
        SessionActivity,
        "csv",
        JOSE,
        "2026-03-14T08:00:00Z",
        &[("session_id", "s1")],
    ));
    let f = run(orphan);
    let s = of(&f, "session-revocation");
    assert_eq!(s[0].severity, Severity::High);
    assert!(
        s[0].summary.starts_with("Orphaned session"),
        "{}",
        s[0].summary
    );
    assert_eq!(s[0].evidence.len(), 2);
}

/// Keycloak's admin `DELETE sessions/<id>` names only the session: the revocation is
/// the person's who signed in with it, whichever order the two were ingested in.
#[test]
fn a_session_revoked_by_its_id_is_its_owners() {
    let signed_in = ev(
        AuthSucceeded,
        "okta",
        JOSE,
        "2026-03-13T20:00:00Z",
        &[("session_id", "s-77")],
    );
    let by_id = ev(
        SessionRevoked,
        "okta",
        "s-77",
        "2026-03-14T07:05:00Z",
        &[("session_id", "s-77")],
    );
    let mut without = clean();
    without.retain(|e| e.kind != SessionRevoked);
    let f = run(without.clone());
    assert!(!of(&f, "session-revocation").is_empty(), "{f:#?}");
    for order in [[signed_in.clone(), by_id.clone()], [by_id, signed_in]] {
        let mut events = without.clone();
        events.extend(order);
        let f = run(events);
        assert!(of(&f, "session-revocation").is_empty(), "{f:#?}");
    }
}

/// A session after the account was opened again (reactivated, or activated anew as Okta
/// does for a deactivated user) is not an orphan of the earlier deactivation.
#[test]
fn sessions_after_the_account_is_opened_again_are_not_orphans() {
    for reopened in [AccountReactivated, AccountCreated] {
        let mut events = clean();
        events.retain(|e| e.kind != SessionRevoked);
        events.push(okta(reopened, "2026-03-14T08:00:00Z"));
        events.push(okta(AuthSucceeded, "2026-03-14T08:30:00Z"));
        let f = run(events);
        let s = of(&f, "session-revocation");
        assert_eq!(s.len(), 1, "{reopened:?}: {f:#?}");
        assert!(
            !s[0].summary.starts_with("Orphaned session"),
            "{reopened:?}: {}",
            s[0].summary
        );
        assert!(
            s[0].evidence.iter().all(|e| e.kind != "auth.succeeded"),
            "{reopened:?}: {:?}",
            s[0].evidence
        );
    }
}

#[test]
fn tokens_from_the_roster_and_the_logs_must_be_revoked() {
    let mut late = clean();
    late.retain(|e| e.kind != TokenRevoked);
    late.push(token(TokenRevoked, "2026-03-16T10:00:00Z"));
    let f = run(late);
    let t = of(&f, "token-revocation");
    assert_eq!(t.len(), 1, "{f:#?}");
    assert_eq!(t[0].severity, Severity::High);

    let mut seen_only = clean();
    // A token seen being created is known even when the roster does not list it.
    seen_only.push({
        let mut e = token(TokenCreated, "2026-02-01T10:00:00Z");
        e.attrs.insert("token_id".into(), "9999".into());
        e
    });
    let f = run(seen_only);
    let t = of(&f, "token-revocation");
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].severity, Severity::Critical);
    assert!(t[0].summary.contains("9999"));
}

/// Okta's `system.api_token.revoke` names only the admin who revoked and the token: a
/// revocation of a token the roster lists, or that was seen created by the contractor,
/// is the contractor's, whoever's name the record carries.
#[test]
fn a_token_revoked_by_an_admin_counts_for_its_owner() {
    let by_admin = |id: &str, at: &str| {
        let mut e = ev(
            TokenRevoked,
            "github",
            "secops-bot",
            at,
            &[("token_id", id)],
        );
        e.actor = Some("secops-bot".into());
        e
    };
    let mut listed = clean();
    listed.retain(|e| e.kind != TokenRevoked);
    listed.push(by_admin("5521", "2026-03-14T07:10:00Z"));
    let f = run(listed);
    assert!(of(&f, "token-revocation").is_empty(), "{f:#?}");

    let mut seen = clean();
    seen.push({
        let mut e = token(TokenCreated, "2026-02-01T10:00:00Z");
        e.attrs.insert("token_id".into(), "9999".into());
        e
    });
    seen.push(by_admin("9999", "2026-03-14T07:20:00Z"));
    let f = run(seen.clone());
    assert!(of(&f, "token-revocation").is_empty(), "{f:#?}");
    // Whatever order the logs were ingested in: the revocation first.
    let created = seen.remove(seen.len() - 2);
    seen.push(created);
    let f = run(seen);
    assert!(of(&f, "token-revocation").is_empty(), "{f:#?}");

    // A revocation naming someone the roster knows stays theirs unless the roster lists
    // the token for another: one OAuth client id is every user's (Google's token log).
    let mut shared = clean();
    shared.push({
        let mut e = token(TokenCreated, "2026-02-01T10:00:00Z");
        e.attrs.insert("token_id".into(), "9999".into());
        e
    });
    shared.push(ev(
        TokenRevoked,
        "github",
        "maria@acme.example",
        "2026-03-14T07:20:00Z",
        &[("token_id", "9999")],
    ));
    let f = run(shared);
    let t = of(&f, "token-revocation");
    assert_eq!(t.len(), 1, "{f:#?}");
    assert!(t[0].summary.contains("9999"));

    // Someone else's token revoked by the admin is not this contractor's.
    let mut other = clean();
    other.retain(|e| e.kind != TokenRevoked);
    other.push(by_admin("7777", "2026-03-14T07:10:00Z"));
    let f = run(other);
    assert_eq!(of(&f, "token-revocation").len(), 1, "{f:#?}");
}

#[test]
fn failed_auth_after_expiry_is_counted_per_source() {
    let mut events = clean();
    events.push(okta(AuthFailed, "2026-03-14T06:00:00Z"));
    events.push(okta(AuthFailed, "2026-03-16T09:00:00Z"));
    events.push(okta(AuthFailed, "2026-03-16T09:01:00Z"));
    let f = run(events);
    let a = of(&f, "failed-auth-after-expiry");
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].details["count"], "2");
}

fn request(id: &str, at: &str, actor: &str, new_expiry: &str, emergency: bool) -> Event {
    let mut e = ev(
        ExtensionRequested,
        "approvals",
        JOSE,
        at,
        &[
            ("request_id", id),
            ("new_expiry", new_expiry),
            ("emergency", if emergency { "true" } else { "false" }),
            ("reason", "release"),
        ],
    );
    e.actor = Some(actor.into());
    e
}

fn approval(id: &str, at: &str, actor: &str, role: &str) -> Event {
    let mut e = ev(
        ExtensionApproved,
        "approvals",
        JOSE,
        at,
        &[("request_id", id), ("role", role)],
    );
    e.actor = Some(actor.into());
    e
}

#[test]
fn an_extension_needs_two_roles_within_four_hours() {
    let mut ok = clean();
    ok.push(request(
        "x",
        "2026-03-10T10:00:00Z",
        "maria@acme.example",
        "2026-03-20",
        false,
    ));
    ok.push(approval(
        "x",
        "2026-03-10T14:00:00Z",
        "li@acme.example",
        "tech_lead",
    ));
    ok.push(approval(
        "x",
        "2026-03-10T11:00:00Z",
        "sam@acme.example",
        "security",
    ));
    ok.push(okta(AuthSucceeded, "2026-03-18T18:00:00Z"));
    let f = run(ok.clone());
    assert!(
        of(&f, "extension-approval").is_empty(),
        "exactly 4 h counts: {f:#?}"
    );
    assert!(
        of(&f, "access-after-expiry").is_empty(),
        "the extension moved the expiry"
    );

    let mut one = ok.clone();
    one.retain(|e| !(e.kind == ExtensionApproved && e.actor.as_deref() == Some("li@acme.example")));
    let f = run(one);
    let x = of(&f, "extension-approval");
    assert_eq!(x.len(), 1);
    assert!(x[0].summary.contains("tech_lead"), "{}", x[0].summary);
    assert_eq!(
        of(&f, "access-after-expiry").len(),
        1,
        "an invalid extension does not count"
    );

    let mut slow = ok.clone();
    slow.retain(|e| {
        !(e.kind == ExtensionApproved && e.actor.as_deref() == Some("li@acme.example"))
    });
    slow.push(approval(
        "x",
        "2026-03-10T14:00:00.000001Z",
        "li@acme.example",
        "tech_lead",
    ));
    assert!(of(&run(slow), "extension-approval")[0]
        .summary
        .contains("past the 4 h limit"));

    let mut own = ok;
    own.retain(|e| e.kind != ExtensionRequested);
    own.push(request(
        "x",
        "2026-03-10T10:00:00Z",
        "li@acme.example",
        "2026-03-20",
        false,
    ));
    assert!(of(&run(own), "extension-approval")[0]
        .summary
        .contains("approved their own request"));
}

#[test]
fn an_emergency_grant_opens_a_window_of_at_most_24_hours() {
    let mut ok = clean();
    ok.push(request(
        "e",
        "2026-03-20T10:00:00Z",
        JOSE,
        "2026-03-21T10:00:00Z",
        true,
    ));
    ok.push(approval(
        "e",
        "2026-03-20T10:05:00Z",
        "li@acme.example",
        "tech_lead",
    ));
    ok.push(approval(
        "e",
        "2026-03-20T10:10:00Z",
        "sam@acme.example",
        "security",
    ));
    ok.push(okta(AccountReactivated, "2026-03-20T10:15:00Z"));
    ok.push(okta(AuthSucceeded, "2026-03-20T11:00:00Z"));
    ok.push(okta(AccountDeactivated, "2026-03-21T09:00:00Z"));
    ok.push(okta(SessionRevoked, "2026-03-21T09:01:00Z"));
    let f = run(ok.clone());
    assert!(f.is_empty(), "{f:#?}");

    let mut long = ok;
    long.retain(|e| e.kind != ExtensionRequested);
    long.push(request(
        "e",
        "2026-03-20T10:00:00Z",
        JOSE,
        "2026-03-22T10:00:00Z",
        true,
    ));
    let f = run(long);
    assert!(of(&f, "extension-approval")[0]
        .summary
        .contains("exceeds 24 h"));
    assert_eq!(of(&f, "access-after-expiry").len(), 1);
}

#[test]
fn reminders_to_a_departed_manager_or_bounced_do_not_count() {
    let mut left = clean();
    left[1] = employee("maria@acme.example", Some("2026-03-01"));
    left.push(reminder(
        "2026-03-11T16:00:00Z",
        "li@acme.example",
        "delivered",
    ));
    let f = run(left);
    let r = of(&f, "reminders");
    assert_eq!(r.len(), 2, "{f:#?}");
    assert!(
        r[0].summary.contains("had left on 2026-03-01"),
        "{}",
        r[0].summary
    );

    let mut bounced = clean();
    bounced.retain(|e| {
        !(e.kind == ReminderSent
            && e.occurred_at == ts("2026-03-06T17:00:00Z")
            && e.attrs["recipient"] == "li@acme.example")
    });
    bounced.push(reminder(
        "2026-03-06T17:00:00Z",
        "li@acme.example",
        "bounced",
    ));
    let r = run(bounced);
    assert_eq!(of(&r, "reminders").len(), 1);
    assert!(of(&r, "reminders")[0]
        .summary
        .contains("li@acme.example bounced"));

    let mut none = clean();
    none.retain(|e| e.kind != ReminderSent);
    assert_eq!(of(&run(none), "reminders").len(), 2);
}

fn sprint(id: &str, start: &str, end: &str, recorded: &str) -> Event {
    ev(
        SprintDefined,
        "sprints",
        "team-auth",
        recorded,
        &[
            ("sprint", id),
            ("start", start),
            ("end", end),
            ("time_zone", "America/Los_Angeles"),
        ],
    )
}

#[test]
fn sprint_alignment_mid_sprint_near_the_end_and_extended() {
    let mut aligned = clean();
    aligned.push(sprint(
        "s5",
        "2026-03-02",
        "2026-03-13",
        "2025-12-20T10:00:00Z",
    ));
    assert!(of(&run(aligned.clone()), "sprint-alignment").is_empty());

    // Extended after the fact: the expiry stayed on the old end.
    let mut extended = aligned;
    extended.push(sprint(
        "s5",
        "2026-03-02",
        "2026-03-20",
        "2026-03-09T17:00:00Z",
    ));
    let f = run(extended);
    let s = of(&f, "sprint-alignment");
    assert_eq!(s.len(), 1, "{f:#?}");
    assert!(
        s[0].summary
            .contains("was extended from 2026-03-13 to 2026-03-20"),
        "{}",
        s[0].summary
    );

    // Without alignment the contract end inside a sprint is mid-sprint or near its end.
    let mut p = Policy::defaults(Profile::Standard);
    p.expiry.align_to_sprint = false;
    let mut mid = clean();
    mid.push(sprint(
        "s5",
        "2026-03-09",
        "2026-03-20",
        "2025-12-20T10:00:00Z",
    ));
    assert_eq!(
        of(&run_with(mid, &p), "sprint-alignment")[0].severity,
        Severity::Medium
    );
    let mut near = clean();
    near.push(sprint(
        "s5",
        "2026-03-02",
        "2026-03-16",
        "2025-12-20T10:00:00Z",
    ));
    assert_eq!(
        of(&run_with(near, &p), "sprint-alignment")[0].severity,
        Severity::Low,
        "3 days before the end"
    );
}

#[test]
fn alignment_moves_the_expiry_to_the_sprint_end() {
    let mut events = clean();
    events.retain(|e| {
        e.kind != AccountDeactivated && e.kind != SessionRevoked && e.kind != TokenRevoked
    });
    events.push(sprint(
        "s5",
        "2026-03-09",
        "2026-03-20",
        "2025-12-20T10:00:00Z",
    ));
    let facts = Facts::from_events(events, Keep::All);
    let (people, _) = evaluate(&facts, &Policy::defaults(Profile::Standard), ts(NOW));
    assert_eq!(people[0].expiry, ts("2026-03-21T07:00:00Z"));
    assert_eq!(people[0].aligned_to_sprint.as_deref(), Some("s5"));
}

#[test]
fn midnight_utc_inside_the_local_working_day_is_flagged() {
    // 00:00Z on Fri 2026-03-13 is 17:00 PDT on Thu the 12th: inside 08:00-18:00.
    let mut events = clean();
    events.retain(|e| e.kind != AccountDeactivated);
    events.push(deactivated("2026-03-13T00:00:00Z"));
    let f = run(events);
    let t = of(&f, "timezone");
    assert_eq!(t.len(), 1, "{f:#?}");
    assert!(t[0].summary.contains("17:00 PDT"), "{}", t[0].summary);

    // 00:00Z in winter is 16:00 PST; at 18:00 the working day is over.
    let mut p = Policy::defaults(Profile::Standard);
    p.expiry.working_day_end = "17:00".into();
    let mut events = clean();
    events.retain(|e| e.kind != AccountDeactivated);
    events.push(deactivated("2026-03-13T00:00:00Z"));
    assert!(
        of(&run_with(events, &p), "timezone").is_empty(),
        "17:00 is the end, exclusive"
    );
}

#[test]
fn findings_are_sorted_and_deterministic() {
    let mut events = clean();
    events.push(token(TokenUsed, "2026-03-16T10:00:00Z"));
    events.push(okta(AuthFailed, "2026-03-16T09:00:00Z"));
    let a = serde_json::to_string(&run(events.clone())).unwrap();
    let b = serde_json::to_string(&run(events)).unwrap();
    assert_eq!(a, b);
}

#[test]
fn the_text_report_heads_each_subject_with_the_name_only_when_the_roster_gives_one() {
    let mut events = clean();
    events.push(okta(AuthFailed, "2026-03-16T09:00:00Z"));
    let named = of(&run(events), "failed-auth-after-expiry")[0].clone();
    assert!(named.person.is_some());
    let mut unnamed = named.clone();
    unnamed.subject = "svc-build-token".into();
    unnamed.person = None;
    let result = crate::policy::CheckResult {
        schema_version: 1,
        as_of: ts(NOW),
        tree_size: 12,
        checkpoint: String::new(),
        policy_profile: "standard".into(),
        policy_hash: String::new(),
        people: Vec::new(),
        unattributed_events: BTreeMap::new(),
        nothing_checked: false,
        warnings: Vec::new(),
        findings: vec![named.clone(), unnamed],
    };
    let text = crate::policy::render_text(&result);
    let heads: Vec<&str> = text.lines().filter(|l| !l.starts_with(' ')).collect();
    let person = named.person.unwrap_or_default();
    assert!(
        heads.contains(&format!("{person} <{}>", named.subject).as_str()),
        "{text}"
    );
    assert!(heads.contains(&"svc-build-token"), "{text}");
}
