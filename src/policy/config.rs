//! The policy file (TOML): which rules run and their thresholds, with two profiles.
//!
//! A policy names a `profile` (`standard` or `compliance`); every setting it leaves out
//! takes that profile's default, and every setting it gives overrides it. Unknown settings
//! and settings of the wrong type are refused with their dotted name, so a misspelt
//! threshold can never silently fall back to a default. `template` writes the whole
//! file with a comment per setting; a test keeps it equal to the defaults.

use serde::{Deserialize, Serialize};
use thiserror::Error;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    Standard,
    Compliance,
}

impl Profile {
    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Standard => "standard",
            Profile::Compliance => "compliance",
        }
    }
    pub fn parse(text: &str) -> Option<Profile> {
        match text {
            "standard" => Some(Profile::Standard),
            "compliance" => Some(Profile::Compliance),
            _ => None,
        }
    }
}

/// The whole policy. Field names are the TOML keys.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    pub profile: Profile,
    pub scope: Scope,
    pub expiry: ExpiryPolicy,
    pub rules: Rules,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scope {
    pub include_employees: bool,
    /// Sources whose accounts are identity-provider accounts that must be deactivated.
    pub idp_sources: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpiryPolicy {
    pub align_to_sprint: bool,
    /// The local working day, `HH:MM`, for the time-zone rule.
    pub working_day_start: String,
    pub working_day_end: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Rules {
    pub access_after_expiry: Toggle,
    pub deactivation_timeliness: Deactivation,
    pub session_revocation: SessionRevocation,
    pub token_revocation: TokenRevocation,
    pub failed_auth_after_expiry: Toggle,
    pub extension_approval: ExtensionApproval,
    pub reminders: Reminders,
    pub sprint_alignment: SprintAlignment,
    pub pre_expiry_review: PreExpiryReview,
    pub timezone: Toggle,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Toggle {
    pub enabled: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deactivation {
    pub enabled: bool,
    pub grace_hours: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionRevocation {
    pub enabled: bool,
    pub within_minutes: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenRevocation {
    pub enabled: bool,
    pub within_minutes: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtensionApproval {
    pub enabled: bool,
    pub required_roles: Vec<String>,
    pub decision_within_hours: u32,
    pub emergency_max_hours: u32,
    pub require_reason: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reminders {
    pub enabled: bool,
    pub days_before: Vec<u32>,
    pub min_contacts: u32,
    /// A reminder for N days before counts when sent between N+window and N-window days.
    pub window_days: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SprintAlignment {
    pub enabled: bool,
    pub review_within_days: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreExpiryReview {
    pub enabled: bool,
    pub hours_before: u32,
    pub required_role: String,
}

impl Policy {
    pub fn defaults(profile: Profile) -> Policy {
        let compliance = profile == Profile::Compliance;
        let on = Toggle { enabled: true };
        Policy {
            profile,
            scope: Scope {
                include_employees: false,
                idp_sources: crate::sources::identity_providers()
                    .into_iter()
                    .map(String::from)
                    .collect(),
            },
            expiry: ExpiryPolicy {
                align_to_sprint: true,
                working_day_start: "08:00".into(),
                working_day_end: "18:00".into(),
            },
            rules: Rules {
                access_after_expiry: on.clone(),
                deactivation_timeliness: Deactivation {
                    enabled: true,
                    grace_hours: 0,
                },
                session_revocation: SessionRevocation {
                    enabled: true,
                    within_minutes: 15,
                },
                token_revocation: TokenRevocation {
                    enabled: true,
                    within_minutes: if compliance { 15 } else { 60 },
                },
                failed_auth_after_expiry: on.clone(),
                extension_approval: ExtensionApproval {
                    enabled: true,
                    required_roles: vec!["tech_lead".into(), "security".into()],
                    decision_within_hours: 4,
                    emergency_max_hours: 24,
                    require_reason: true,
                },
                reminders: Reminders {
                    enabled: true,
                    days_before: vec![7, 2],
                    min_contacts: 2,
                    window_days: 1,
                },
                sprint_alignment: SprintAlignment {
                    enabled: true,
                    review_within_days: 3,
                },
                pre_expiry_review: PreExpiryReview {
                    enabled: compliance,
                    hours_before: 48,
                    required_role: "security".into(),
                },
                timezone: on,
            },
        }
    }

    /// Reads a policy file's text. `file` names it in errors.
    pub fn from_toml(file: &str, text: &str) -> Result<Policy, PolicyError> {
        let user: toml::Table = text.parse().map_err(|e: toml::de::Error| PolicyError {
            file: file.into(),
            line: e.span().map(|s| line_of(text, s.start)),
            problem: e.message().to_string(),
        })?;
        let fail = |key: &str, problem: String| PolicyError {
            file: file.into(),
            line: find_key_line(text, key),
            problem,
        };
        let profile = match user.get("profile") {
            None => Profile::Standard,
            Some(toml::Value::String(s)) => Profile::parse(s).ok_or_else(|| {
                fail(
                    "profile",
                    format!(
                        "profile: {s:?} is not a profile; expected \"standard\" or \"compliance\""
                    ),
                )
            })?,
            Some(other) => {
                return Err(fail(
                    "profile",
                    format!("profile: expected a string, got {}", other.type_str()),
                ))
            }
        };
        let defaults = toml::Table::try_from(Policy::defaults(profile))
            .map_err(|e| fail("", format!("internal: {e}")))?;
        let mut merged = defaults.clone();
        merge(&mut merged, &user, "", &|key, problem| fail(key, problem))?;
        let policy: Policy = toml::Value::Table(merged)
            .try_into()
            .map_err(|e: toml::de::Error| fail("", e.message().to_string()))?;
        policy
            .validate()
            .map_err(|(key, problem)| fail(&key, problem))?;
        Ok(policy)
    }

    fn validate(&self) -> Result<(), (String, String)> {
        for (key, value) in [
            ("expiry.working_day_start", &self.expiry.working_day_start),
            ("expiry.working_day_end", &self.expiry.working_day_end),
        ] {
            if parse_hhmm(value).is_none() {
                return Err((
                    key.into(),
                    format!("{key}: {value:?} is not a time of day HH:MM"),
                ));
            }
        }
        let r = &self.rules;
        if r.extension_approval.required_roles.is_empty() {
            return Err((
                "rules.extension-approval.required_roles".into(),
                "rules.extension-approval.required_roles: name at least one role".into(),
            ));
        }
        if r.reminders.min_contacts == 0 {
            return Err((
                "rules.reminders.min_contacts".into(),
                "rules.reminders.min_contacts: must be at least 1".into(),
            ));
        }
        Ok(())
    }

    /// BLAKE3 of the policy as evaluated (defaults filled in), hex.
    pub fn hash(&self) -> String {
        let text = toml::to_string(self).unwrap_or_default();
        blake3::hash(text.as_bytes()).to_hex().to_string()
    }

    /// The full policy file for `profile`, every setting with its default and a comment.
    pub fn template(profile: Profile) -> String {
        let p = Policy::defaults(profile);
        let r = &p.rules;
        let list = |v: &[String]| {
            let items: Vec<String> = v.iter().map(|s| format!("{s:?}")).collect();
            format!("[{}]", items.join(", "))
        };
        let nums = |v: &[u32]| {
            let items: Vec<String> = v.iter().map(|n| n.to_string()).collect();
            format!("[{}]", items.join(", "))
        };
        format!(
            r#"# auditledger policy: the contractor-access rules and their thresholds.
# Every setting below shows its default for this profile; delete a line to keep the
# default, change it to override. `auditledger check --policy FILE` reads it.

# "standard", or "compliance" (adds the 48-hour pre-expiry review, stricter token limit).
profile = "{profile}"

[scope]
# Check employees too (their expiry is the end of their `left_on` day).
include_employees = {include_employees}
# Sources whose accounts are identity-provider accounts that must be deactivated at expiry.
idp_sources = {idp_sources}

[expiry]
# Move a contract end to the end of the sprint it falls in (the seeds' step 1).
align_to_sprint = {align}
# The local working day, for the time-zone rule (an expiry at midnight UTC that lands here).
working_day_start = "{wds}"
working_day_end = "{wde}"

[rules.access-after-expiry]
# Successful sign-in, session activity or token use after the effective expiry.
enabled = {aae}

[rules.deactivation-timeliness]
enabled = {dt}
# Hours after expiry by which every IdP account must be deactivated (24 = one day).
grace_hours = {grace}

[rules.session-revocation]
enabled = {sr}
# Minutes after deactivation by which sessions must be revoked.
within_minutes = {srm}

[rules.token-revocation]
enabled = {tr}
# Minutes after deactivation by which every token, PAT and API key must be revoked.
within_minutes = {trm}

[rules.failed-auth-after-expiry]
# Attempts with expired credentials, counted per person and source.
enabled = {fa}

[rules.extension-approval]
enabled = {ea}
# Roles that must each approve (distinct people, neither the requester).
required_roles = {roles}
# Hours after the request within which each decision must be made.
decision_within_hours = {dwh}
# Longest emergency grant, in hours.
emergency_max_hours = {emh}
# Every request must state a reason.
require_reason = {reason}

[rules.reminders]
enabled = {rem}
# Reminders are due this many days before expiry.
days_before = {days}
# Distinct contacts (not departed, delivery recorded) each reminder must reach.
min_contacts = {contacts}
# A reminder for N days before counts when sent within this many days of N.
window_days = {window}

[rules.sprint-alignment]
enabled = {sa}
# Expiries this many days or fewer before a sprint's end are flagged for review.
review_within_days = {review_days}

[rules.pre-expiry-review]
# A sign-off by the required role at least `hours_before` before expiry.
enabled = {pr}
hours_before = {prh}
required_role = "{prrole}"

[rules.timezone]
# An expiry or deactivation at midnight UTC that falls inside the local working day.
enabled = {tz}
"#,
            profile = p.profile.as_str(),
            include_employees = p.scope.include_employees,
            idp_sources = list(&p.scope.idp_sources),
            align = p.expiry.align_to_sprint,
            wds = p.expiry.working_day_start,
            wde = p.expiry.working_day_end,
            aae = r.access_after_expiry.enabled,
            dt = r.deactivation_timeliness.enabled,
            grace = r.deactivation_timeliness.grace_hours,
            sr = r.session_revocation.enabled,
            srm = r.session_revocation.within_minutes,
            tr = r.token_revocation.enabled,
            trm = r.token_revocation.within_minutes,
            fa = r.failed_auth_after_expiry.enabled,
            ea = r.extension_approval.enabled,
            roles = list(&r.extension_approval.required_roles),
            dwh = r.extension_approval.decision_within_hours,
            emh = r.extension_approval.emergency_max_hours,
            reason = r.extension_approval.require_reason,
            rem = r.reminders.enabled,
            days = nums(&r.reminders.days_before),
            contacts = r.reminders.min_contacts,
            window = r.reminders.window_days,
            sa = r.sprint_alignment.enabled,
            review_days = r.sprint_alignment.review_within_days,
            pr = r.pre_expiry_review.enabled,
            prh = r.pre_expiry_review.hours_before,
            prrole = r.pre_expiry_review.required_role,
            tz = r.timezone.enabled,
        )
    }
}

/// `HH:MM` as minutes after midnight.
pub fn parse_hhmm(text: &str) -> Option<u32> {
    let (h, m) = text.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some(h * 60 + m)
}

/// Overlays `user` onto `base`, refusing keys `base` does not have and values of another type.
fn merge(
    base: &mut toml::Table,
    user: &toml::Table,
    prefix: &str,
    fail: &dyn Fn(&str, String) -> PolicyError,
) -> Result<(), PolicyError> {
    for (key, value) in user {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        let Some(slot) = base.get_mut(key) else {
            let known: Vec<&str> = base.keys().map(String::as_str).collect();
            return Err(fail(
                key,
                format!(
                    "{path}: unknown setting; expected one of: {}",
                    known.join(", ")
                ),
            ));
        };
        match (slot, value) {
            (toml::Value::Table(b), toml::Value::Table(u)) => merge(b, u, &path, fail)?,
            (slot, value) if slot.type_str() == value.type_str() => *slot = value.clone(),
            (slot, value) => {
                return Err(fail(
                    key,
                    format!(
                        "{path}: expected {}, got {}",
                        slot.type_str(),
                        value.type_str()
                    ),
                ))
            }
        }
    }
    Ok(())
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// The line where `key` is set or its table opens, for error messages.
fn find_key_line(text: &str, key: &str) -> Option<usize> {
    if key.is_empty() {
        return None;
    }
    text.lines()
        .position(|l| {
            let l = l.trim_start();
            (l.starts_with(key) && l[key.len()..].trim_start().starts_with('='))
                || (l.starts_with('[') && l.contains(key))
        })
        .map(|i| i + 1)
}

#[derive(Debug, Error, PartialEq, Eq)]
#[error("{file}{}: {problem}", line.map(|l| format!(": line {l}")).unwrap_or_default())]
pub struct PolicyError {
    pub file: String,
    pub line: Option<usize>,
    pub problem: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_parse_to_their_profile_defaults() {
        for profile in [Profile::Standard, Profile::Compliance] {
            let text = Policy::template(profile);
            let parsed = Policy::from_toml("t.toml", &text).expect("template parses");
            assert_eq!(parsed, Policy::defaults(profile));
            // Every setting appears in the template: nothing is only a hidden default.
            let table = toml::Table::try_from(Policy::defaults(profile)).unwrap();
            let user: toml::Table = text.parse().unwrap();
            assert_eq!(table, user, "{profile:?} template lists every setting");
        }
    }

    #[test]
    fn settings_override_the_profile_and_unknown_ones_are_refused() {
        let p = Policy::from_toml(
            "p.toml",
            "profile = \"compliance\"\n[rules.deactivation-timeliness]\ngrace_hours = 24\n",
        )
        .unwrap();
        assert_eq!(p.rules.deactivation_timeliness.grace_hours, 24);
        assert!(p.rules.pre_expiry_review.enabled, "compliance default kept");
        assert_eq!(p.rules.token_revocation.within_minutes, 15);

        let e = Policy::from_toml("p.toml", "[rules.reminders]\nmin_contact = 1\n").unwrap_err();
        assert_eq!(e.line, Some(2));
        assert!(
            e.problem
                .contains("rules.reminders.min_contact: unknown setting"),
            "{e}"
        );

        let e = Policy::from_toml("p.toml", "[expiry]\nalign_to_sprint = \"yes\"\n").unwrap_err();
        assert!(e.problem.contains("expected boolean, got string"), "{e}");

        let e = Policy::from_toml("p.toml", "profile = \"strict\"\n").unwrap_err();
        assert!(e.to_string().starts_with("p.toml: line 1: profile:"), "{e}");

        let e = Policy::from_toml("p.toml", "[expiry\n").unwrap_err();
        assert_eq!(e.line, Some(1));

        let e = Policy::from_toml("p.toml", "[expiry]\nworking_day_end = \"25:00\"\n").unwrap_err();
        assert!(e.problem.contains("not a time of day"), "{e}");
    }
}
