//! GitHub organisation audit log: the REST API (`GET /orgs/{org}/audit-log`, a JSON array),
//! the web UI's "Export → JSON" (an array, or one object per line) and "Export → CSV" (the
//! same keys as columns, nested keys dotted: `data.team`, `actor_location.country_code`).
//!
//! Fields used: `_document_id` (the event id, when the export has it), `@timestamp` or, when
//! absent, `created_at` (both epoch milliseconds: "Timestamp shows the time since Epoch with
//! milliseconds"; an RFC 3339 time with an offset is also taken, nothing without one),
//! `action`, `actor` (who acted), `user` (the affected user), `org`, `repo`/`repository`,
//! `team`/`data.team`, `actor_ip`, `actor_location.country_code`, and the token data GitHub
//! adds to events done with a credential: `programmatic_access_type`, `token_id`,
//! `hashed_token`, `token_scopes`.
//!
//! Docs (github/docs): "Reviewing the audit log for your organization" (exported keys and
//! values), "Audit log events for your organization" (the `org`, `team`, `repo`,
//! `personal_access_token`, `git` categories), "Identifying audit log events performed by an
//! access token" (`hashed_token`, `programmatic_access_type`, `token_scopes`), and the REST
//! reference "Get the audit log for an organization"; the per-event field lists in
//! `src/audit-logs/data/ghec/organization.json` name `@timestamp`, `_document_id`, `created_at`.
//!
//! Subjects: membership, role and lifecycle events are about `user` (an org owner who
//! removes someone, changes their role or invites them is the actor, never the subject; a
//! record that names no `user` is kept as `other` about the actor, and refused when it
//! names no actor either; any other record that names no one is `other` about
//! [`NO_ACTOR`]);
//! token and key lifecycle events are about `user` when present, else the actor; everything
//! else, git and token use included, is about the actor, or `user` when the record has no
//! actor (`user.forgot_password`). `org.add_member` is `account.created` (not
//! `group.granted`) because org membership is what a GitHub account of ours is; it pairs
//! with `org.remove_member` → `account.deactivated`, so "access after removal" reads the
//! same as for other IdPs. GitHub Enterprise Server's user administration (its audit log
//! also reaches us as syslog lines, whose JSON after `github_audit: ` framing reads): `user.suspend` → `account.suspended`,
//! `user.unsuspend` → `account.reactivated`, `user.destroy` → `account.deleted`,
//! `user.create` → `account.created`, `user.promote`/`user.demote` → `group.granted`/
//! `group.removed` of `site_admin`, each about `user`. An outside collaborator added to a
//! repository (`org.add_outside_collaborator`, the collaborator in `user` or `invitee`)
//! is `group.granted` of that repository, the counterpart of its removal. A personal
//! access token an owner approves or revokes is `user_programmatic_access_id` (and
//! `_name`): that is `attrs.token_id`, and the token the owner's own request used
//! (`token_id`) is `attrs.caller_token_id`.
//!
//! Anonymous git: GitHub logs `git.clone`/`git.fetch` of a public repository with no
//! `actor` (empty or absent). Such a record is kept as `other` about the subject
//! [`ANONYMOUS`], `(anonymous)`, with `attrs.anonymous = "true"` and no `account`: GitHub
//! logins are letters, digits and hyphens (bots add `[bot]`), so a parenthesised name can
//! never be a real account's, and no roster maps it to a person.
//!
//! Token data (`programmatic_access_type`, `token_id`, `hashed_token`, `token_scopes`) is
//! kept in attrs on every event and never changes whom an event is about or what it is:
//! only the actions whose meaning is "a credential was used" ([`TOKEN_USE`]: git over
//! HTTPS with a PAT/OAuth token/deploy key, source archive downloads) become `token.used`
//! when token data is present. `org.update_member` done with a GitHub App token is still
//! the member's role change.
//!
//! Use of access (the person used access they had; what `access-after-expiry` counts):
//! - `git.clone`, `git.fetch`, `git.push` → `session.activity` over SSH/web, `token.used`
//!   when done with a token or deploy key; `repo.download_zip` with a token → `token.used`;
//! - `user.login` → `auth.succeeded` (`user.failed_login`, `user.two_factor_challenge_failure`
//!   → `auth.failed`);
//! - web activity by a person, the prefixes in [`WEB_ACTIVITY`] (`pull_request.*`,
//!   `pull_request_review.*`, `repo.*`, `org.*`, `team.*`, `protected_branch.*`,
//!   `repository_ruleset.*`, `issue.*`, `issues.*`, `issue_comment.*`, `workflows.*`,
//!   `environment.*`, `hook.*`, `integration_installation.*`, `discussion.*`, `project.*`,
//!   `codespaces.*`, `packages.*`, `dependabot_*`, `secret_scanning*`,
//!   `repository_secret_scanning*`, `repository_vulnerability_alert*`, `advanced_security.*`,
//!   `business_advanced_security.*`, `code_scanning.*`, `ip_allow_list*`) →
//!   `access.used` about the actor, except the membership, role and invitation actions
//!   above. A bot (`[bot]` login or `actor_is_bot: true`) is not a person: its web
//!   activity is `other`. Nor is a workflow run on a schedule or started by another run
//!   (`event: schedule`/`workflow_run`, kept in `attrs.trigger`): GitHub names as its actor
//!   whoever last set the schedule, or started the first run.

pub mod hook;
pub mod poll;

use serde_json::Value;

use super::framing::Content;
use super::{
    at, new_event, opt_str, put, req_epoch_millis, req_str, req_time, FieldError, Role, Source,
};
use crate::event::{Event, EventKind, Timestamp};

pub struct GitHub;

/// Whose account an action is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Subject {
    /// The affected `user` (without one, the record is `other` about the actor).
    AffectedUser,
    /// The credential's owner: `user` when the export names one, else the actor.
    UserOrActor,
    /// An SSO credential authorization's owner: `owner` (set when an org owner revokes a
    /// member's credential), else `user`, else the actor (a member deauthorizing their own).
    CredentialOwner,
    /// The actor; `user` when there is no actor (`user.forgot_password`).
    Actor,
}

/// The subject of a `git.*` record with no actor: an anonymous read of a public
/// repository. Not a possible GitHub login (see the header).
pub const ANONYMOUS: &str = "(anonymous)";

/// The subject of any other record that names no one (GitHub logs some system events with
/// no `actor` or `user`: `repo.self_hosted_runner_online`, `repo.pages_soft_delete`): kept
/// as `other`, never refused, so one such event does not keep a file's removals out of the
/// ledger. Not a possible login either.
pub const NO_ACTOR: &str = "(no actor)";

/// Action prefixes that are a person's web or API activity in the organisation: use of
/// access they already had (`access.used`), unless [`classify`] names the action first.
pub const WEB_ACTIVITY: &[&str] = &[
    "pull_request.",
    "pull_request_review.",
    "pull_request_review_comment.",
    "repo.",
    "org.",
    "team.",
    "protected_branch.",
    "repository_ruleset.",
    "issue.",
    "issues.",
    "issue_comment.",
    "workflows.",
    "environment.",
    "hook.",
    "integration_installation.",
    "discussion.",
    "project.",
    "codespaces.",
    "packages.",
    "dependabot_",
    "secret_scanning",
    // Security settings of a repository, the organisation or the enterprise, changed by
    // a person with the access to change them.
    "repository_secret_scanning",
    "repository_vulnerability_alert",
    "advanced_security.",
    "business_advanced_security.",
    "code_scanning.",
    "ip_allow_list",
];

/// Actions whose meaning is "a credential was used": `token.used` when the record carries
/// token data (else git stays `session.activity`, a download `access.used`).
pub const TOKEN_USE: &[&str] = &[
    "git.clone",
    "git.fetch",
    "git.push",
    "repo.download_zip",
    // A REST API request (GitHub Enterprise Cloud streams them as audit events, with the
    // token data and the `status_code`): a use unless answered 401 (see `normalise`).
    "api.request",
];

fn classify(action: &str) -> (EventKind, Subject) {
    use EventKind::*;
    use Subject::*;
    match action {
        "org.remove_member" | "org.remove_outside_collaborator" => {
            (AccountDeactivated, AffectedUser)
        }
        "org.add_member" => (AccountCreated, AffectedUser),
        // A removed member reinstated with their previous access.
        "org.restore_member" => (AccountReactivated, AffectedUser),
        // An owner ended a member's SAML session, or unlinked their external identity
        // (which also ends its sessions): about the member.
        "org.revoke_sso_session" | "org.revoke_external_identity" => (SessionRevoked, AffectedUser),
        "org.recovery_code_failed" => (AuthFailed, Actor),
        "org.remove_billing_manager" => (GroupRemoved, AffectedUser),
        "org.add_billing_manager" => (GroupGranted, AffectedUser),
        // An outside collaborator (how contractors usually get in) added to a repository:
        // a grant to the collaborator, the counterpart of `org.remove_outside_collaborator`.
        "org.add_outside_collaborator" => (GroupGranted, AffectedUser),
        "business.add_admin" => (GroupGranted, AffectedUser),
        "business.remove_admin" => (GroupRemoved, AffectedUser),
        // An organisation moderator (who can block users and hide comments) named or
        // unnamed: a role of the `user`, as `organization_role.*`.
        "organization_moderators.add_user" => (GroupGranted, AffectedUser),
        "organization_moderators.remove_user" => (GroupRemoved, AffectedUser),
        "organization_role.assign" => (GroupGranted, AffectedUser),
        "organization_role.revoke" => (GroupRemoved, AffectedUser),
        // The enterprise and Enterprise Managed Users: removal from the enterprise, and
        // SCIM deprovisioning, which suspends the linked GitHub user.
        "business.remove_member" => (AccountDeactivated, AffectedUser),
        "business.add_member" => (AccountCreated, AffectedUser),
        "external_identity.deprovision" => (AccountSuspended, AffectedUser),
        "external_identity.provision" => (AccountCreated, AffectedUser),
        // A member's role changed (member ↔ owner), a collaborator's permission on a
        // repository, a team member made or unmade maintainer: about the member, done by
        // an owner or admin.
        "org.update_member"
        | "repo.update_member"
        | "team.promote_maintainer"
        | "team.demote_maintainer" => (AccountUpdated, AffectedUser),
        // An invitation is not access yet; it is about the invitee.
        "org.invite_member" => (Other, AffectedUser),
        // GitHub Enterprise Server's own user administration (its "Audited actions": a
        // site admin suspends, deletes or promotes an account of the instance).
        "user.suspend" => (AccountSuspended, AffectedUser),
        "user.unsuspend" => (AccountReactivated, AffectedUser),
        "user.destroy" | "user.delete" => (AccountDeleted, AffectedUser),
        "user.create" => (AccountCreated, AffectedUser),
        "user.promote" => (GroupGranted, AffectedUser),
        "user.demote" => (GroupRemoved, AffectedUser),
        "team.add_member" | "repo.add_member" => (GroupGranted, AffectedUser),
        "team.remove_member" | "repo.remove_member" => (GroupRemoved, AffectedUser),
        // `request_created` is a token asking for access an owner must still approve
        // (`access_granted`) or deny: no access yet, so it falls to `Other` below.
        "personal_access_token.access_granted"
        | "personal_access_token.create"
        | "deploy_key.create"
        | "public_key.create"
        | "oauth_authorization.create"
        | "oauth_access.create"
        | "oauth_access.regenerate" => (TokenCreated, UserOrActor),
        "org_credential_authorization.grant" => (TokenCreated, CredentialOwner),
        "personal_access_token.access_revoked"
        | "personal_access_token.destroy"
        | "personal_access_token.expired"
        | "deploy_key.delete"
        | "public_key.delete"
        | "personal_access_token.credential_revoked"
        | "oauth_authorization.destroy"
        | "oauth_access.destroy"
        | "oauth_access.revoke" => (TokenRevoked, UserOrActor),
        // `deauthorized` in older docs, `deauthorize` in the current event list.
        "org_credential_authorization.revoke"
        | "org_credential_authorization.deauthorize"
        | "org_credential_authorization.deauthorized" => (TokenRevoked, CredentialOwner),
        a if a.starts_with("personal_access_token.") || a.starts_with("oauth_access.") => {
            (Other, UserOrActor)
        }
        // Git over SSH carries no token data; it is still the actor using their access.
        "git.clone" | "git.fetch" | "git.push" => (SessionActivity, Actor),
        "user.login" => (AuthSucceeded, Actor),
        "user.failed_login" | "user.two_factor_challenge_failure" => (AuthFailed, Actor),
        "user.logout" => (SessionEnded, Actor),
        a if WEB_ACTIVITY.iter().any(|p| a.starts_with(p)) => (AccessUsed, Actor),
        _ => (Other, Actor),
    }
}

/// The first of `pointers` with a non-empty value (JSON nests `data.team`, CSV dots it).
fn first_of(record: &Value, pointers: &[&str]) -> Option<String> {
    pointers.iter().find_map(|p| opt_str(record, p))
}

fn present(record: &Value, pointer: &str) -> bool {
    match at(record, pointer) {
        None => false,
        Some(Value::String(s)) => !s.trim().is_empty(),
        Some(_) => true,
    }
}

/// `@timestamp`, else `created_at`: epoch milliseconds as documented, or RFC 3339 with an
/// offset. Panther's `2022-12-11 05:28:05.542` (no zone) is refused.
fn event_time(record: &Value) -> Result<(Timestamp, String), FieldError> {
    let pointer = ["/@timestamp", "/created_at"]
        .into_iter()
        .find(|p| present(record, p))
        .ok_or_else(|| {
            // GraphQL's `auditLog` connection names its fields apart from the REST log.
            let graphql = ["/createdAt", "/actorLogin"]
                .iter()
                .all(|p| present(record, p));
            FieldError::new(
                "/@timestamp",
                if graphql {
                    "missing: this looks like a GraphQL audit-log entry (createdAt, actorLogin); \
                     export the REST audit log (GET /orgs/{org}/audit-log) or a stream instead"
                } else {
                    "missing (and no /created_at); expected epoch milliseconds, e.g. 1621305118553"
                },
            )
        })?;
    match at(record, pointer) {
        Some(Value::String(s)) if s.trim().parse::<i64>().is_err() => req_time(record, pointer)
            .map_err(|_| {
                FieldError::new(
                    pointer,
                    format!(
                        "{s:?} is neither epoch milliseconds (e.g. 1621305118553) nor an RFC 3339 \
                         time with an offset"
                    ),
                )
            }),
        _ => req_epoch_millis(record, pointer),
    }
}

impl Source for GitHub {
    fn reads_csv(&self) -> bool {
        true
    }

    fn name(&self) -> &'static str {
        "github"
    }

    fn role(&self) -> Role {
        Role::Platform { idp: "github" }
    }

    fn description(&self) -> &'static str {
        "GitHub organisation audit log (REST API or export, JSON or CSV)"
    }

    fn sniff(&self, record: &Value, _: Content) -> bool {
        // `action` is `category.operation`; `actor` plus a GitHub time or id key tells it from
        // other logs that happen to have an `action` column.
        let dotted_action = record
            .get("action")
            .and_then(Value::as_str)
            .is_some_and(|a| {
                a.split_once('.').is_some_and(|(c, o)| {
                    !c.is_empty()
                        && !o.is_empty()
                        && a.chars()
                            .all(|ch| ch.is_ascii_lowercase() || ch == '_' || ch == '.')
                })
            });
        dotted_action
            && record.get("actor").is_some()
            && ["@timestamp", "created_at", "_document_id"]
                .iter()
                .any(|k| record.get(*k).is_some())
    }

    fn normalise(&self, record: &Value) -> Result<Vec<Event>, FieldError> {
        if !record.is_object() {
            return Err(FieldError::new("/", "expected an audit log event object"));
        }
        let action = req_str(record, "/action")?;
        let time = event_time(record)?;
        let (mut kind, subject_of) = classify(&action);
        let programmatic_access_type = opt_str(record, "/programmatic_access_type");
        let token_id = opt_str(record, "/token_id");
        let hashed_token = opt_str(record, "/hashed_token");
        let done_with_token =
            programmatic_access_type.is_some() || token_id.is_some() || hashed_token.is_some();
        // `token_id` is the credential the request was made with; a personal access token
        // an owner approves or revokes is `user_programmatic_access_id` (GitHub's audit log
        // events reference): that is the one a later use must be matched to.
        let managed_token = action
            .starts_with("personal_access_token.")
            .then(|| opt_str(record, "/user_programmatic_access_id"))
            .flatten();
        let (token_id, caller_token_id) = match managed_token {
            Some(managed) => (Some(managed), token_id),
            None => (token_id, None),
        };
        // A 401 is the credential refused: a failed attempt, never a use. Any other status
        // (403, 404, 422...) answered a credential that authenticated, which is what an
        // offboarding audit asks about, so the request stays a use.
        let unauthenticated =
            opt_str(record, "/status_code").and_then(|c| c.parse::<u16>().ok()) == Some(401);
        if done_with_token && TOKEN_USE.contains(&action.as_str()) {
            // The credential's use is what a rule needs ("the CI key that kept running").
            kind = EventKind::TokenUsed;
        }
        if unauthenticated
            && matches!(
                kind,
                EventKind::TokenUsed | EventKind::AccessUsed | EventKind::SessionActivity
            )
        {
            kind = EventKind::AuthFailed;
        }
        let actor = opt_str(record, "/actor");
        // An outside collaborator's addition names them `invitee` (with the `inviter`).
        let user = opt_str(record, "/user").or_else(|| opt_str(record, "/invitee"));
        let is_bot = actor.as_deref().is_some_and(|a| a.ends_with("[bot]"))
            || opt_str(record, "/actor_is_bot").is_some_and(|b| b.eq_ignore_ascii_case("true"));
        if is_bot && kind == EventKind::AccessUsed {
            // Web activity by an app or bot is not a person using their access.
            kind = EventKind::Other;
        }
        // A scheduled run is attributed to whoever last set the schedule, not to anything
        // they did then ("Events that trigger workflows": `schedule`), and a run another
        // run started (`workflow_run`) to the actor of the first ("github.actor: the user
        // that triggered the initial workflow run"): a cron workflow a leaver wrote would
        // otherwise be their nightly use of access.
        let trigger = opt_str(record, "/event").filter(|_| action.starts_with("workflows."));
        let not_by_a_person_now = matches!(trigger.as_deref(), Some("schedule" | "workflow_run"));
        if not_by_a_person_now && kind == EventKind::AccessUsed {
            kind = EventKind::Other;
        }
        let anonymous =
            actor.is_none() && subject_of == Subject::Actor && action.starts_with("git.");
        if anonymous {
            kind = EventKind::Other;
        }
        let subject = match subject_of {
            _ if anonymous => ANONYMOUS.to_string(),
            // A membership event that names no member (hand-trimmed exports do this) is
            // well-formed but cannot say whose access changed: kept as `other` about the
            // actor, never as a change to someone.
            Subject::AffectedUser => match (&user, &actor) {
                (Some(u), _) => u.clone(),
                (None, Some(a)) => {
                    kind = EventKind::Other;
                    a.clone()
                }
                (None, None) => {
                    return Err(FieldError::new(
                        "/user",
                        "missing or empty, and /actor too; expected the affected user's login",
                    ))
                }
            },
            Subject::UserOrActor => user.clone().or_else(|| actor.clone()).ok_or_else(|| {
                FieldError::new("/user", "missing, and /actor too; expected a login")
            })?,
            Subject::CredentialOwner => opt_str(record, "/owner")
                .or_else(|| user.clone())
                .or_else(|| actor.clone())
                .ok_or_else(|| {
                    FieldError::new(
                        "/owner",
                        "missing, and /user and /actor too; expected a login",
                    )
                })?,
            Subject::Actor => actor.clone().or_else(|| user.clone()).unwrap_or_else(|| {
                kind = EventKind::Other;
                NO_ACTOR.to_string()
            }),
        };
        let mut e = new_event(
            "github",
            opt_str(record, "/_document_id"),
            kind,
            &subject,
            time,
        );
        put(&mut e, "trigger", trigger);
        // A placeholder subject is no account of anyone's.
        let placeholder = if anonymous {
            Some("anonymous")
        } else {
            (subject == NO_ACTOR).then_some("no_actor")
        };
        if let Some(flag) = placeholder {
            e.account = None;
            put(&mut e, flag, Some("true".into()));
        }
        if actor.as_deref() != Some(subject.as_str()) {
            e.actor = actor;
        }
        if is_bot {
            put(&mut e, "actor_is_bot", Some("true".into()));
        }
        // Still a use (see the test), but a reader of the entry must see it was refused.
        if action == "protected_branch.rejected_ref_update" {
            put(
                &mut e,
                "outcome",
                Some("rejected by branch protection".into()),
            );
        }
        let repo = first_of(record, &["/repo", "/repository"]);
        let team = first_of(record, &["/team", "/data/team", "/data.team"]);
        // The team is the group for team.* actions; a repository is one only when the event
        // grants or removes access to it.
        let site_admin = matches!(action.as_str(), "user.promote" | "user.demote");
        let group = team.or_else(|| {
            if site_admin {
                return Some("site_admin".to_string());
            }
            match action.as_str() {
                "org.add_billing_manager" | "org.remove_billing_manager" => {
                    return Some("billing_manager".to_string())
                }
                "business.add_admin" | "business.remove_admin" => {
                    return Some("enterprise_owner".to_string())
                }
                "organization_moderators.add_user" | "organization_moderators.remove_user" => {
                    return Some("moderator".to_string())
                }
                _ => {}
            }
            if let Some(role) = opt_str(record, "/organization_role_name") {
                return Some(role);
            }
            matches!(kind, EventKind::GroupGranted | EventKind::GroupRemoved)
                .then(|| repo.clone())
                .flatten()
        });
        let key_type = action
            .split_once('.')
            .map(|(category, _)| category)
            .filter(|c| {
                matches!(
                    *c,
                    "deploy_key"
                        | "public_key"
                        | "personal_access_token"
                        | "oauth_authorization"
                        | "oauth_access"
                        | "org_credential_authorization"
                )
            })
            .map(str::to_string);
        put(&mut e, "type", Some(action));
        put(&mut e, "ip", opt_str(record, "/actor_ip"));
        put(
            &mut e,
            "country",
            first_of(
                record,
                &[
                    "/actor_location/country_code",
                    "/actor_location.country_code",
                ],
            ),
        );
        put(&mut e, "org", opt_str(record, "/org"));
        put(&mut e, "repo", repo);
        put(&mut e, "group", group);
        put(&mut e, "token_id", token_id);
        put(&mut e, "caller_token_id", caller_token_id);
        put(
            &mut e,
            "token_name",
            opt_str(record, "/user_programmatic_access_name"),
        );
        put(&mut e, "hashed_token", hashed_token);
        put(&mut e, "programmatic_access_type", programmatic_access_type);
        put(&mut e, "token_scopes", opt_str(record, "/token_scopes"));
        put(&mut e, "key_type", key_type);
        Ok(vec![e])
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::normalise_all;
    use super::*;

    const REMOVED: &str = r#"{"@timestamp":1773900000000,"_document_id":"d1","action":"org.remove_member","actor":"octo-admin","user":"Jose-Nunez","org":"acme"}"#;
    const PAT_PUSH: &str = r#"{"@timestamp":1773903600123,"_document_id":"d2","action":"git.push","actor":"jose-nunez","repo":"acme/api","programmatic_access_type":"personal access token (classic)","token_id":"98765","hashed_token":"abc="}"#;
    const SSH_CLONE: &str = r#"{"@timestamp":1773903600000,"_document_id":"d3","action":"git.clone","actor":"jose-nunez","repo":"acme/api"}"#;

    #[test]
    fn removal_is_about_the_user_and_token_use_about_the_actor() {
        let input = format!("[{REMOVED},{PAT_PUSH},{SSH_CLONE}]");
        let got = normalise_all(&GitHub, input.as_bytes());
        let d = &got[0].as_ref().unwrap()[0];
        assert_eq!(d.kind, EventKind::AccountDeactivated);
        assert_eq!(d.subject, "jose-nunez");
        assert_eq!(d.actor.as_deref(), Some("octo-admin"));
        assert_eq!(d.occurred_at.to_rfc3339(), "2026-03-19T06:00:00Z");
        assert_eq!(d.original_time, "1773900000000");
        let u = &got[1].as_ref().unwrap()[0];
        assert_eq!(u.kind, EventKind::TokenUsed);
        assert_eq!(u.subject, "jose-nunez");
        assert_eq!(u.actor, None);
        assert_eq!(u.attrs["token_id"], "98765");
        assert_eq!(
            u.attrs["programmatic_access_type"],
            "personal access token (classic)"
        );
        let s = &got[2].as_ref().unwrap()[0];
        assert_eq!(s.kind, EventKind::SessionActivity);
    }

    #[test]
    fn csv_export_rows_use_the_same_keys() {
        let csv = "action,actor,user,org,repo,created_at,data.team\n\
                   team.remove_member,octo-admin,jose-nunez,acme,,1773900000000,acme/contractors\n";
        let got = normalise_all(&GitHub, csv.as_bytes());
        let e = &got[0].as_ref().unwrap()[0];
        assert_eq!(e.kind, EventKind::GroupRemoved);
        assert_eq!(e.attrs["group"], "acme/contractors");
        assert_eq!(e.source_id, None);
    }

    #[test]
    fn times_without_offset_and_records_naming_nobody_are_refused_with_the_field() {
        let bad = r#"[{"action":"git.clone","actor":"a","created_at":"2022-12-11 05:28:05.542"},
            {"action":"git.clone","actor":"a"},
            {"action":"org.remove_member","@timestamp":1773903600000},
            {"action":"personal_access_token.access_revoked","actor":"","@timestamp":1773903600000},
            {"action":"git.clone","actor":"a","@timestamp":"2026-03-19T06:00:00+01:00"},
            {"action":"git.clone","actor":"a","@timestamp":99999999999999999},
            7]"#;
        let got = normalise_all(&GitHub, bad.as_bytes());
        let err = |i: usize| got[i].as_ref().unwrap_err().clone();
        assert!(err(0).starts_with("[0]: field /created_at:"), "{}", err(0));
        assert!(
            err(1).starts_with("[1]: field /@timestamp: missing"),
            "{}",
            err(1)
        );
        assert!(err(2).starts_with("[2]: field /user:"), "{}", err(2));
        assert!(err(3).starts_with("[3]: field /user:"), "{}", err(3));
        let ok = &got[4].as_ref().unwrap()[0];
        assert_eq!(ok.occurred_at.to_rfc3339(), "2026-03-19T05:00:00Z");
        assert!(err(5).starts_with("[5]: field /@timestamp:"), "{}", err(5));
        assert!(err(6).starts_with("[6]: field /:"), "{}", err(6));
    }

    #[test]
    fn sniff_needs_a_dotted_action_an_actor_and_a_github_key() {
        let v: Value = serde_json::from_str(REMOVED).unwrap();
        assert!(GitHub.sniff(&v, Content::JsonDocument));
        let okta: Value = serde_json::json!({"action":"login","actor":{"id":"x"},"published":"x"});
        assert!(!GitHub.sniff(&okta, Content::JsonDocument));
        let csv: Value = serde_json::json!({"action":"Approve","actor":"a","created_at":"x"});
        assert!(!GitHub.sniff(&csv, Content::Csv));
    }

    fn one(text: &str) -> Event {
        let v: Value = serde_json::from_str(text).unwrap();
        let mut events = GitHub.normalise(&v).unwrap();
        assert_eq!(events.len(), 1);
        events.remove(0)
    }

    #[test]
    fn epoch_times_in_seconds_or_microseconds_are_refused_not_misdated() {
        let at = |t: &str| {
            let v: Value = serde_json::from_str(&format!(
                r#"{{"@timestamp":{t},"action":"user.login","actor":"jose-nunez"}}"#
            ))
            .unwrap();
            GitHub.normalise(&v).map(|e| e[0].occurred_at.to_rfc3339())
        };
        assert_eq!(at("1773903600000").unwrap(), "2026-03-19T07:00:00Z");
        let seconds = at("1773903600").unwrap_err().to_string();
        assert!(seconds.contains("is it seconds?"), "{seconds}");
        let micros = at("1773903600000000").unwrap_err().to_string();
        assert!(micros.contains("is it microseconds?"), "{micros}");
        // The edges: 1973-03-03 and the end of 9999 are taken.
        assert!(at("100000000000").is_ok());
        assert!(at("253402300799999").is_ok());
    }

    #[test]
    fn case8_an_anonymous_clone_of_a_public_repository_is_kept_about_nobody() {
        for text in [
            r#"{"@timestamp":1773903600000,"action":"git.clone","repo":"acme/site","repository_public":true,"transport_protocol_name":"http"}"#,
            r#"{"@timestamp":1773903600000,"action":"git.fetch","actor":"","user":"","repo":"acme/site","repository_public":true}"#,
        ] {
            let e = one(text);
            assert_eq!(e.kind, EventKind::Other);
            assert_eq!(e.subject, ANONYMOUS);
            assert_eq!(e.account, None);
            assert_eq!(e.actor, None);
            assert_eq!(e.attrs["anonymous"], "true");
        }
        // A login can never be the anonymous subject: logins are [A-Za-z0-9-].
        assert!(ANONYMOUS
            .chars()
            .any(|c| !c.is_ascii_alphanumeric() && c != '-'));
    }

    /// GitHub logs some system events with no actor or user (its event list names none
    /// for `repo.self_hosted_runner_online` or `repo.pages_soft_delete`): kept as `other`,
    /// never refused, or one of them kept a file's removals out of the ledger. (A
    /// membership or credential event that names no one is refused: it needs the user.)
    #[test]
    fn a_record_that_names_no_one_is_kept_as_other() {
        for text in [
            r#"{"@timestamp":1700000000000,"action":"repo.self_hosted_runner_online","org":"acme","repo":"acme/ci","runner_id":42}"#,
            r#"{"@timestamp":1700000000000,"action":"repo.pages_soft_delete","actor":"","org":"acme","repo":"acme/site"}"#,
        ] {
            let e = one(text);
            assert_eq!(
                (e.kind, e.subject.as_str()),
                (EventKind::Other, NO_ACTOR),
                "{text}"
            );
            assert_eq!((e.account, e.actor), (None, None), "{text}");
            assert_eq!(e.attrs["no_actor"], "true");
        }
        assert!(NO_ACTOR
            .chars()
            .any(|c| !c.is_ascii_alphanumeric() && c != '-'));
    }

    /// A collaborator's permission raised to admin is about the collaborator; a token's
    /// API request is a use whatever it was answered, except a 401 (the credential
    /// refused), which is a failed attempt.
    #[test]
    fn role_changes_are_the_members_and_only_a_401_is_no_use() {
        let e = one(
            r#"{"@timestamp":1700000000000,"action":"repo.update_member","actor":"ops-admin","user":"vendor-qa","repo":"acme/api","old_repo_permission":"write","new_repo_permission":"admin"}"#,
        );
        assert_eq!(
            (e.kind, e.subject.as_str()),
            (EventKind::AccountUpdated, "vendor-qa")
        );
        assert_eq!(e.actor.as_deref(), Some("ops-admin"));
        let e = one(
            r#"{"@timestamp":1700000000000,"action":"team.promote_maintainer","actor":"owner1","user":"kai","team":"acme/web"}"#,
        );
        assert_eq!(
            (e.kind, e.subject.as_str()),
            (EventKind::AccountUpdated, "kai")
        );
        // Branch protection refuses a push only after it authenticated the pusher.
        let e = one(
            r#"{"@timestamp":1700000000000,"action":"protected_branch.rejected_ref_update","actor":"leaver","repo":"acme/api"}"#,
        );
        assert_eq!(e.kind, EventKind::AccessUsed);
        assert_eq!(e.attrs["outcome"], "rejected by branch protection");
        let request = |status: &str| {
            one(&format!(
                r#"{{"@timestamp":1700000000000,"action":"api.request","actor":"leaver","route":"/repos/{{owner}}/{{repo}}/pulls","token_id":555555,"programmatic_access_type":"Fine-grained personal access token","status_code":{status}}}"#
            ))
        };
        assert_eq!(request("200").kind, EventKind::TokenUsed);
        assert_eq!(request("200").subject, "leaver");
        assert_eq!(request("404").kind, EventKind::TokenUsed);
        assert_eq!(request("401").kind, EventKind::AuthFailed);
        assert_eq!(request("\"401\"").kind, EventKind::AuthFailed);
    }

    #[test]
    fn enterprise_server_user_administration_is_about_the_user() {
        for (action, kind) in [
            ("user.suspend", EventKind::AccountSuspended),
            ("user.unsuspend", EventKind::AccountReactivated),
            ("user.destroy", EventKind::AccountDeleted),
            ("user.create", EventKind::AccountCreated),
            ("user.promote", EventKind::GroupGranted),
            ("user.demote", EventKind::GroupRemoved),
        ] {
            let e = one(&format!(
                r#"{{"created_at":1495479954312,"action":"{action}","actor":"site-admin","user":"sally"}}"#
            ));
            assert_eq!((e.kind, e.subject.as_str()), (kind, "sally"), "{action}");
            assert_eq!(e.actor.as_deref(), Some("site-admin"), "{action}");
            let group = e.attrs.get("group").map(String::as_str);
            let promotes = matches!(action, "user.promote" | "user.demote");
            assert_eq!(group, promotes.then_some("site_admin"), "{action}");
        }
    }

    /// Actions in the `org.` category about another member (github/docs audit-log event
    /// data, GHEC `organization`), the enterprise's and SCIM's lifecycle, and SSO
    /// credential authorizations: about the member, never the owner's web activity.
    #[test]
    fn organisation_actions_about_a_member_are_about_the_member() {
        for (action, kind) in [
            ("org.restore_member", EventKind::AccountReactivated),
            ("org.revoke_sso_session", EventKind::SessionRevoked),
            ("org.revoke_external_identity", EventKind::SessionRevoked),
            ("org.remove_billing_manager", EventKind::GroupRemoved),
            ("organization_role.assign", EventKind::GroupGranted),
            ("organization_role.revoke", EventKind::GroupRemoved),
            ("business.remove_member", EventKind::AccountDeactivated),
            ("business.add_member", EventKind::AccountCreated),
            ("external_identity.deprovision", EventKind::AccountSuspended),
            ("external_identity.provision", EventKind::AccountCreated),
        ] {
            let e = one(&format!(
                r#"{{"@timestamp":1773903600000,"action":"{action}","actor":"octo-admin","user":"jnunez-acme","org":"acme","organization_role_name":"security manager"}}"#
            ));
            assert_eq!(
                (e.kind, e.subject.as_str()),
                (kind, "jnunez-acme"),
                "{action}"
            );
            assert_eq!(e.actor.as_deref(), Some("octo-admin"), "{action}");
        }
        // panther-labs/panther-analysis (Apache-2.0), github_org_moderators_add.yml: the
        // `user` is made a moderator by the `actor`.
        for (action, kind) in [
            ("organization_moderators.add_user", EventKind::GroupGranted),
            (
                "organization_moderators.remove_user",
                EventKind::GroupRemoved,
            ),
        ] {
            let e = one(&format!(
                r#"{{"@timestamp":1671111111111,"action":"{action}","actor":"sarah78","actor_location":{{"country_code":"US"}},"business":"","org":"my-org","user":"john1987"}}"#
            ));
            assert_eq!((e.kind, e.subject.as_str()), (kind, "john1987"), "{action}");
            assert_eq!(e.actor.as_deref(), Some("sarah78"));
            assert_eq!(e.attrs["group"], "moderator");
        }
        let failed = one(
            r#"{"@timestamp":1773903600000,"action":"org.recovery_code_failed","actor":"octo-admin","org":"acme"}"#,
        );
        assert_eq!(failed.kind, EventKind::AuthFailed);
        // An owner revoking a member's SSO authorization names the member in `owner`.
        let revoked = one(
            r#"{"@timestamp":1773903600000,"action":"org_credential_authorization.revoke","actor":"octo-admin","owner":"jnunez-acme","org":"acme","token_id":8812044}"#,
        );
        assert_eq!(revoked.kind, EventKind::TokenRevoked);
        assert_eq!(revoked.subject, "jnunez-acme");
        assert_eq!(revoked.attrs["token_id"], "8812044");
        let own = one(
            r#"{"@timestamp":1773903600000,"action":"org_credential_authorization.deauthorize","actor":"jnunez-acme","org":"acme","token_id":8812044}"#,
        );
        assert_eq!(
            (own.kind, own.subject.as_str()),
            (EventKind::TokenRevoked, "jnunez-acme")
        );
    }

    #[test]
    fn case9_web_activity_by_a_person_is_use_of_access_and_bots_are_not_people() {
        for action in [
            "pull_request.create",
            "pull_request.merge",
            "pull_request_review.submit",
            "repo.create",
            "repo.download_zip",
            "team.create",
            "protected_branch.update",
            "issue.create",
            "issue_comment.update",
            "workflows.approve_workflow_job",
            "org.update_default_repository_permission",
            // Security settings a person changed (panther-analysis's GitHub advanced
            // security and IP allow list rule tests).
            "repository_secret_scanning_push_protection.disable",
            "repository_vulnerability_alert.dismiss",
            "repository_vulnerability_alerts.disable",
            "dependabot_security_updates.disable",
            "dependabot_alerts_new_repos.disable",
            "secret_scanning_new_repos.disable",
            "business_advanced_security.disabled",
            "ip_allow_list.disable",
            "ip_allow_list_entry.create",
        ] {
            let e = one(&format!(
                r#"{{"@timestamp":1773903600000,"action":"{action}","actor":"jose-nunez","repo":"acme/api"}}"#
            ));
            assert_eq!(e.kind, EventKind::AccessUsed, "{action}");
            assert_eq!(e.subject, "jose-nunez", "{action}");
        }
        let bot = one(
            r#"{"@timestamp":1773903600000,"action":"pull_request.create","actor":"dependabot[bot]"}"#,
        );
        assert_eq!(bot.kind, EventKind::Other);
        let flagged = one(
            r#"{"@timestamp":1773903600000,"action":"repo.create","actor":"ci-app","actor_is_bot":true}"#,
        );
        assert_eq!(flagged.kind, EventKind::Other);
        // A scheduled run names whoever last set the schedule: not their use of access. A
        // run they started by a push is.
        let run = r#"{"@timestamp":1773903600000,"action":"workflows.completed_workflow_run","actor":"jose-nunez","event":"schedule"}"#;
        let scheduled = one(run);
        assert_eq!(scheduled.kind, EventKind::Other);
        assert_eq!(scheduled.attrs["trigger"], "schedule");
        assert_eq!(
            one(&run.replace("schedule", "push")).kind,
            EventKind::AccessUsed
        );
        let chained = one(&run.replace("schedule", "workflow_run"));
        assert_eq!(chained.kind, EventKind::Other);
        // git keeps its kinds.
        let push = one(r#"{"@timestamp":1773903600000,"action":"git.push","actor":"jose-nunez"}"#);
        assert_eq!(push.kind, EventKind::SessionActivity);
    }

    #[test]
    fn case10_token_data_never_changes_what_an_event_is_about() {
        let role = one(
            r#"{"@timestamp":1773939900000,"action":"org.update_member","actor":"ci-bot-owner","user":"Jose-Nunez","programmatic_access_type":"github_app","token_id":"555"}"#,
        );
        assert_eq!(role.kind, EventKind::AccountUpdated);
        assert_eq!(role.subject, "jose-nunez");
        assert_eq!(role.actor.as_deref(), Some("ci-bot-owner"));
        assert_eq!(role.attrs["token_id"], "555");
        let pr = one(
            r#"{"@timestamp":1773903600000,"action":"pull_request.create","actor":"jose-nunez","programmatic_access_type":"personal access token (classic)","token_id":"98765"}"#,
        );
        assert_eq!(pr.kind, EventKind::AccessUsed);
        assert_eq!(pr.attrs["token_id"], "98765");
        let other = one(
            r#"{"@timestamp":1773903600000,"action":"integration.create","actor":"jose-nunez","hashed_token":"abc="}"#,
        );
        assert_eq!(other.kind, EventKind::Other);
        let zip = one(
            r#"{"@timestamp":1773903600000,"action":"repo.download_zip","actor":"jose-nunez","hashed_token":"abc="}"#,
        );
        assert_eq!(zip.kind, EventKind::TokenUsed);
        // A role change that names no member cannot say whose role changed: kept as
        // `other` about the actor, never a change to someone.
        let nameless = one(
            r#"{"@timestamp":1773903600000,"action":"org.update_member","actor":"malicious-ci","programmatic_access_type":"github_app"}"#,
        );
        assert_eq!(
            (nameless.kind, nameless.subject.as_str()),
            (EventKind::Other, "malicious-ci")
        );
    }

    /// github/docs' audit-log event reference (CC-BY-4.0): an outside collaborator added
    /// (`invitee`, `inviter`), billing managers and enterprise owners, a deleted user, and
    /// the token an owner approves or revokes (`user_programmatic_access_id`, apart from
    /// the `token_id` the owner's own request was made with).
    #[test]
    fn grants_to_collaborators_and_the_token_an_owner_revokes() {
        let e = one(
            r#"{"@timestamp":1773903700000,"action":"org.add_outside_collaborator","actor":"li-wei","inviter":"li-wei","invitee":"Ext-Contractor","permission":"write","repo":"acme/api"}"#,
        );
        assert_eq!(
            (e.kind, e.subject.as_str()),
            (EventKind::GroupGranted, "ext-contractor")
        );
        assert_eq!(e.actor.as_deref(), Some("li-wei"));
        assert_eq!(e.attrs["group"], "acme/api");
        for (action, kind, group) in [
            (
                "org.add_billing_manager",
                EventKind::GroupGranted,
                Some("billing_manager"),
            ),
            (
                "business.add_admin",
                EventKind::GroupGranted,
                Some("enterprise_owner"),
            ),
            (
                "business.remove_admin",
                EventKind::GroupRemoved,
                Some("enterprise_owner"),
            ),
            ("user.delete", EventKind::AccountDeleted, None),
        ] {
            let e = one(&format!(
                r#"{{"@timestamp":1773903700000,"action":"{action}","actor":"li-wei","user":"sally"}}"#
            ));
            assert_eq!((e.kind, e.subject.as_str()), (kind, "sally"), "{action}");
            assert_eq!(e.attrs.get("group").map(String::as_str), group, "{action}");
        }
        let revoked = one(
            r#"{"@timestamp":1773903700000,"action":"personal_access_token.access_revoked","actor":"li-wei","user":"ext-contractor","user_programmatic_access_id":7731001,"user_programmatic_access_name":"ci-deploy","token_id":5550001,"programmatic_access_type":"Fine-grained personal access token"}"#,
        );
        assert_eq!(
            (revoked.kind, revoked.subject.as_str()),
            (EventKind::TokenRevoked, "ext-contractor")
        );
        assert_eq!(revoked.attrs["token_id"], "7731001");
        assert_eq!(revoked.attrs["caller_token_id"], "5550001");
        assert_eq!(revoked.attrs["token_name"], "ci-deploy");
        for action in [
            "oauth_access.revoke",
            "personal_access_token.credential_revoked",
        ] {
            let e = one(&format!(
                r#"{{"@timestamp":1773903700000,"action":"{action}","actor":"jose-nunez"}}"#
            ));
            assert_eq!(e.kind, EventKind::TokenRevoked, "{action}");
        }
    }

    #[test]
    fn case11_an_invitation_is_about_the_invitee() {
        let e = one(
            r#"{"@timestamp":1773903600000,"action":"org.invite_member","actor":"li-wei","user":"New-Contractor","org":"acme"}"#,
        );
        assert_eq!(e.kind, EventKind::Other);
        assert_eq!(e.subject, "new-contractor");
        assert_eq!(e.actor.as_deref(), Some("li-wei"));
    }

    #[test]
    fn a_graphql_audit_entry_is_named_as_such() {
        let rec = r#"{"__typename":"OrgRemoveMemberAuditEntry","action":"org.remove_member","actorLogin":"admin-a","createdAt":"2026-03-19T10:00:00Z","userLogin":"jose-nunez"}"#;
        let err = GitHub
            .normalise(&serde_json::from_str(rec).unwrap())
            .unwrap_err();
        assert_eq!(err.field, "/@timestamp");
        assert!(err.to_string().contains("GraphQL audit-log entry"), "{err}");
    }

    #[test]
    fn case12_user_actions_and_token_housekeeping() {
        use EventKind::*;
        for (action, kind, subject) in [
            ("user.login", AuthSucceeded, "jose-nunez"),
            ("user.failed_login", AuthFailed, "jose-nunez"),
            (
                "user.two_factor_challenge_failure",
                AuthFailed,
                "jose-nunez",
            ),
            ("user.two_factor_challenge_success", Other, "jose-nunez"),
            ("user.logout", SessionEnded, "jose-nunez"),
            ("personal_access_token.create", TokenCreated, "jose-nunez"),
            ("personal_access_token.destroy", TokenRevoked, "jose-nunez"),
            ("personal_access_token.request_denied", Other, "jose-nunez"),
            ("personal_access_token.request_created", Other, "jose-nunez"),
            (
                "personal_access_token.access_granted",
                TokenCreated,
                "jose-nunez",
            ),
            ("oauth_access.regenerate", TokenCreated, "jose-nunez"),
            ("oauth_access.destroy", TokenRevoked, "jose-nunez"),
        ] {
            let e = one(&format!(
                r#"{{"@timestamp":1773903600000,"action":"{action}","actor":"jose-nunez","user":"jose-nunez"}}"#
            ));
            assert_eq!(e.kind, kind, "{action}");
            assert_eq!(e.subject, subject, "{action}");
        }
        // No actor: the user the record names.
        let forgot = one(
            r#"{"@timestamp":1773903600000,"action":"user.forgot_password","user":"jose-nunez","email":"jose@example.com"}"#,
        );
        assert_eq!(forgot.kind, Other);
        assert_eq!(forgot.subject, "jose-nunez");
    }
}
