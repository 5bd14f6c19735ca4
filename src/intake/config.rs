//! The live intake config file (TOML): which log APIs `pull` polls, where `serve` listens
//! and which hooks it accepts. [`TEMPLATE`] is what `auditledger config init` writes: every
//! key, commented.
//!
//! Invariants:
//! - A key the config does not define is refused, naming it (a typo must not silently
//!   turn a hook's authentication off or point a pull at the wrong place).
//! - Secrets are never in the file: it names environment variables (`token_env`,
//!   `secret_env`, `authorization_env`), read once at start; a missing or empty one refuses
//!   the start, naming the key and the variable, never a value.
//! - A URL is `https://`, or `http://` only to a loopback address (tests, a local proxy).

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use thiserror::Error;

use crate::event::Timestamp;
use crate::sources::poll::{self, Poller, Settings};

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("{file}: cannot be read: {source}")]
    Read {
        file: String,
        source: std::io::Error,
    },
    #[error("{file}: {problem}")]
    Invalid { file: String, problem: String },
}

/// A credential read from the environment. Its `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(…)")
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    ledger: Option<PathBuf>,
    key_file: Option<PathBuf>,
    serve: Option<RawServe>,
    #[serde(default)]
    hooks: RawHooks,
    #[serde(default)]
    pull: Vec<toml::Table>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawServe {
    listen: String,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    max_body_bytes: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHooks {
    okta: Option<RawOktaHook>,
    github: Option<RawSecretHook>,
    events: Option<RawEventsHook>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOktaHook {
    authorization_env: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSecretHook {
    secret_env: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEventsHook {
    secret_env: String,
    tolerance_seconds: Option<u64>,
}

/// Where `serve` listens.
#[derive(Clone, Debug)]
pub struct ServeConfig {
    pub listen: String,
    /// PEM certificate chain and key: HTTPS (rustls) when both are set.
    pub tls: Option<(PathBuf, PathBuf)>,
    pub max_body_bytes: u64,
}

/// The hooks `serve` accepts, each with its secret already read.
#[derive(Clone, Debug, Default)]
pub struct HooksConfig {
    /// The exact `Authorization` value Okta sends (set when the event hook was registered).
    pub okta: Option<Secret>,
    /// The GitHub webhook secret (HMAC-SHA256 key).
    pub github: Option<Secret>,
    /// The Standard Webhooks secret (`whsec_<base64>`, decoded) and the allowed clock skew.
    pub events: Option<(Secret, u64)>,
}

/// One `[[pull]]` source, validated.
#[derive(Clone)]
pub struct PullConfig {
    /// Names the cursors (`<name>/<stream>`); defaults to the source. Unique.
    pub name: String,
    pub poller: &'static dyn Poller,
    pub settings: Settings,
    pub credential: Credential,
    pub interval: Duration,
}

/// Where a pull source's credential comes from.
#[derive(Clone, Debug)]
pub enum Credential {
    /// Read once at start from the named environment variable.
    Env { var: String, value: Secret },
    /// Read again before each request, so whatever refreshes the file (a sidecar, a timer)
    /// keeps a long-running process authorised with short-lived access tokens.
    File(PathBuf),
}

impl Credential {
    /// The credential to send now.
    pub fn current(&self) -> Result<Secret, String> {
        match self {
            Credential::Env { value, .. } => Ok(value.clone()),
            Credential::File(path) => match std::fs::read_to_string(path) {
                Ok(text) if !text.trim().is_empty() => Ok(Secret(text.trim().to_string())),
                Ok(_) => Err(format!("the token file {} is empty", path.display())),
                Err(e) => Err(format!("the token file {}: {e}", path.display())),
            },
        }
    }

    /// Where it comes from, for messages (never the value).
    pub fn origin(&self) -> String {
        match self {
            Credential::Env { var, .. } => format!("${var}"),
            Credential::File(path) => path.display().to_string(),
        }
    }
}

impl fmt::Debug for PullConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PullConfig")
            .field("name", &self.name)
            .field("source", &self.poller.name())
            .field("base_url", &self.settings.base_url)
            .field("credential", &self.credential.origin())
            .finish()
    }
}

/// A whole config, validated, secrets read.
#[derive(Clone, Debug, Default)]
pub struct Config {
    pub ledger: Option<PathBuf>,
    pub key_file: Option<PathBuf>,
    pub serve: Option<ServeConfig>,
    pub hooks: HooksConfig,
    pub pull: Vec<PullConfig>,
}

pub const DEFAULT_MAX_BODY_BYTES: u64 = 10 * 1024 * 1024;
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(60);
pub const DEFAULT_TOLERANCE_SECONDS: u64 = 300;

/// Keys every `[[pull]]` source takes, with their meaning.
pub const COMMON_PULL_KEYS: &[(&str, &str)] = &[
    (
        "name",
        "names this source's cursors in the ledger; defaults to `source`; unique",
    ),
    (
        "source",
        "which API: okta, entra, github, google, keycloak or onelogin",
    ),
    (
        "base_url",
        "the API's https:// origin (http:// only to a loopback address)",
    ),
    (
        "token_env",
        "the NAME of the environment variable holding the credential",
    ),
    (
        "interval",
        "time between polls when caught up: \"30s\", \"5m\", \"1h\" (default 60s)",
    ),
    (
        "since",
        "where a stream with no cursor starts (RFC 3339); default: as far back as the API keeps",
    ),
    (
        "overlap",
        "how far back each poll re-reads for late events, where the API needs it",
    ),
    (
        "page_size",
        "records per page asked for (capped at the API's maximum)",
    ),
];

impl Config {
    /// Reads and validates `path`; `env` looks up environment variables (tests pass a map).
    pub fn load(path: &Path, env: &dyn Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            file: file.clone(),
            source,
        })?;
        Config::parse(&text, env).map_err(|problem| ConfigError::Invalid { file, problem })
    }

    pub fn parse(text: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<Config, String> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| e.to_string().trim().to_string())?;
        let secret = |key: &str, var: &str| -> Result<Secret, String> {
            if var.trim().is_empty() {
                return Err(format!("{key} is empty; it names an environment variable"));
            }
            match env(var) {
                Some(v) if !v.trim().is_empty() => Ok(Secret(v.trim().to_string())),
                _ => Err(format!(
                    "{key} = {var:?}: the environment variable {var} is not set (or empty)"
                )),
            }
        };
        let serve = match raw.serve {
            None => None,
            Some(s) => {
                let tls = match (s.tls_cert, s.tls_key) {
                    (Some(c), Some(k)) => Some((c, k)),
                    (None, None) => None,
                    _ => {
                        return Err(
                            "serve: tls_cert and tls_key go together (both for HTTPS, neither for plain HTTP)"
                                .into(),
                        )
                    }
                };
                if s.listen.parse::<std::net::SocketAddr>().is_err() {
                    return Err(format!(
                        "serve.listen = {:?}: expected HOST:PORT with an IP address, e.g. \"127.0.0.1:8080\"",
                        s.listen
                    ));
                }
                Some(ServeConfig {
                    listen: s.listen,
                    tls,
                    max_body_bytes: s.max_body_bytes.unwrap_or(DEFAULT_MAX_BODY_BYTES),
                })
            }
        };
        let hooks = HooksConfig {
            okta: raw
                .hooks
                .okta
                .map(|h| secret("hooks.okta.authorization_env", &h.authorization_env))
                .transpose()?,
            github: raw
                .hooks
                .github
                .map(|h| secret("hooks.github.secret_env", &h.secret_env))
                .transpose()?,
            events: raw
                .hooks
                .events
                .map(|h| {
                    let s = secret("hooks.events.secret_env", &h.secret_env)?;
                    let key = standard_webhooks_key(s.expose()).map_err(|why| {
                        format!("hooks.events.secret_env = {:?}: {why}", h.secret_env)
                    })?;
                    Ok::<_, String>((
                        Secret(key),
                        h.tolerance_seconds.unwrap_or(DEFAULT_TOLERANCE_SECONDS),
                    ))
                })
                .transpose()?,
        };
        let mut pull = Vec::new();
        for (i, table) in raw.pull.into_iter().enumerate() {
            let p = pull_config(i, table, &secret)?;
            if pull.iter().any(|q: &PullConfig| q.name == p.name) {
                return Err(format!(
                    "pull[{i}]: name {:?} is used twice; give each source a distinct `name`",
                    p.name
                ));
            }
            pull.push(p);
        }
        Ok(Config {
            ledger: raw.ledger,
            key_file: raw.key_file,
            serve,
            hooks,
            pull,
        })
    }
}

/// The HMAC key of a Standard Webhooks secret: `whsec_` then base64 (the spec's form); a
/// secret without the prefix is used as its bytes. Kept as Latin-1 text of the key bytes.
fn standard_webhooks_key(secret: &str) -> Result<String, String> {
    use base64::Engine;
    match secret.strip_prefix("whsec_") {
        Some(b64) => base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map(|bytes| bytes.into_iter().map(char::from).collect())
            .map_err(|_| "the secret starts with whsec_ but the rest is not base64".into()),
        None => Ok(secret.to_string()),
    }
}

/// The bytes of a key kept by [`standard_webhooks_key`].
pub fn key_bytes(key: &Secret) -> Vec<u8> {
    key.expose()
        .chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
        .collect()
}

fn pull_config(
    i: usize,
    mut table: toml::Table,
    secret: &dyn Fn(&str, &str) -> Result<Secret, String>,
) -> Result<PullConfig, String> {
    let take_str = |table: &mut toml::Table, key: &str| -> Result<Option<String>, String> {
        match table.remove(key) {
            None => Ok(None),
            Some(toml::Value::String(s)) => Ok(Some(s)),
            Some(toml::Value::Integer(n)) => Ok(Some(n.to_string())),
            Some(toml::Value::Array(items)) => {
                let mut out = Vec::new();
                for item in items {
                    match item {
                        toml::Value::String(s) => out.push(s),
                        other => {
                            return Err(format!(
                                "pull[{i}].{key}: expected strings in the list, got {}",
                                other.type_str()
                            ))
                        }
                    }
                }
                Ok(Some(out.join(",")))
            }
            Some(other) => Err(format!(
                "pull[{i}].{key}: expected a string, got {}",
                other.type_str()
            )),
        }
    };
    let source =
        take_str(&mut table, "source")?.ok_or_else(|| format!("pull[{i}]: `source` is missing"))?;
    let poller = poll::by_name(&source).ok_or_else(|| {
        let names: Vec<&str> = poll::all().iter().map(|p| p.name()).collect();
        format!(
            "pull[{i}].source = {source:?}: not a pull source (these are: {})",
            names.join(", ")
        )
    })?;
    let at = format!("pull[{i}] ({source})");
    let base_url =
        take_str(&mut table, "base_url")?.ok_or_else(|| format!("{at}: `base_url` is missing"))?;
    check_url(&base_url).map_err(|why| format!("{at}.base_url = {base_url:?}: {why}"))?;
    let credential = match (
        take_str(&mut table, "token_env")?,
        take_str(&mut table, "token_file")?,
    ) {
        (Some(var), None) => Credential::Env {
            value: secret(&format!("{at}.token_env"), &var)?,
            var,
        },
        (None, Some(file)) => {
            let c = Credential::File(PathBuf::from(&file));
            c.current().map_err(|e| format!("{at}.token_file: {e}"))?;
            c
        }
        (Some(_), Some(_)) => return Err(format!("{at}: give token_env or token_file, not both")),
        (None, None) => return Err(format!("{at}: `token_env` is missing (or `token_file`)")),
    };
    let name = take_str(&mut table, "name")?.unwrap_or_else(|| source.clone());
    if name.is_empty() || name.contains(char::is_whitespace) || name.contains('/') {
        return Err(format!(
            "{at}.name = {name:?}: expected a word without spaces or '/'"
        ));
    }
    let interval = match take_str(&mut table, "interval")? {
        None => DEFAULT_INTERVAL,
        Some(t) => parse_duration(&t).map_err(|why| format!("{at}.interval = {t:?}: {why}"))?,
    };
    let overlap_seconds = match take_str(&mut table, "overlap")? {
        None => 0,
        Some(t) => parse_duration(&t)
            .map_err(|why| format!("{at}.overlap = {t:?}: {why}"))?
            .as_secs(),
    };
    let since = match take_str(&mut table, "since")? {
        None => None,
        Some(t) => Some(Timestamp::parse_rfc3339(&t).map_err(|_| {
            format!("{at}.since = {t:?}: expected an RFC 3339 time, e.g. 2026-11-01T00:00:00Z")
        })?),
    };
    let page_size = match take_str(&mut table, "page_size")? {
        None => 1000,
        Some(n) => n
            .parse::<u32>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| format!("{at}.page_size = {n}: expected a positive number"))?,
    };
    let mut options = BTreeMap::new();
    let keys: Vec<String> = table.keys().cloned().collect();
    for key in keys {
        if !poller.keys().iter().any(|(k, _)| *k == key) {
            let mut accepted: Vec<&str> = COMMON_PULL_KEYS.iter().map(|(k, _)| *k).collect();
            accepted.extend(poller.keys().iter().map(|(k, _)| *k));
            return Err(format!(
                "{at}: unknown key `{key}` (this source takes: {})",
                accepted.join(", ")
            ));
        }
        if let Some(v) = take_str(&mut table, &key)? {
            options.insert(key, v);
        }
    }
    let settings = Settings {
        base_url: base_url.trim_end_matches('/').to_string(),
        since,
        overlap_seconds,
        page_size,
        options,
    };
    poller
        .streams(&settings)
        .map_err(|e| format!("{at}: {e}"))?;
    Ok(PullConfig {
        name,
        poller,
        settings,
        credential,
        interval,
    })
}

/// `https://…`, or `http://` to a loopback host.
pub fn check_url(url: &str) -> Result<(), String> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err("expected an absolute https:// URL".into());
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.is_empty() || authority.contains('@') {
        return Err("expected https://HOST[:PORT][/PATH] with no user info".into());
    }
    match scheme.to_ascii_lowercase().as_str() {
        "https" => Ok(()),
        "http" if is_loopback(authority) => Ok(()),
        "http" => Err(
            "plain http:// is allowed only to a loopback address (127.0.0.1, [::1], localhost); use https://"
                .into(),
        ),
        other => Err(format!("scheme {other}:// is not supported; use https://")),
    }
}

fn is_loopback(authority: &str) -> bool {
    let host = if let Some(rest) = authority.strip_prefix('[') {
        rest.split(']').next().unwrap_or_default()
    } else {
        authority.rsplit_once(':').map_or(authority, |(h, _)| h)
    };
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// `30s`, `5m`, `2h`, `1d`, or a number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let (number, unit) = match t.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => t.split_at(at),
        None => (t, "s"),
    };
    let n: u64 = number
        .parse()
        .map_err(|_| "expected a duration such as \"30s\", \"5m\" or \"2h\"".to_string())?;
    let scale = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86400,
        _ => return Err(format!("unknown unit {unit:?}; use s, m, h or d")),
    };
    n.checked_mul(scale)
        .map(Duration::from_secs)
        .ok_or_else(|| "too long".into())
}

/// What `auditledger config init` writes.
pub const TEMPLATE: &str = include_str!("config-template.toml");

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: BTreeMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn the_template_is_a_valid_config_and_documents_every_key() {
        let vars = env(&[
            ("OKTA_API_TOKEN", "t"),
            ("OKTA_HOOK_AUTHORIZATION", "a"),
            ("GITHUB_WEBHOOK_SECRET", "s"),
            (
                "AUDITLEDGER_WEBHOOK_SECRET",
                "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            ),
        ]);
        let config = Config::parse(TEMPLATE, &vars).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(config.pull.len(), 1);
        assert!(config.serve.is_some());
        for (key, _) in COMMON_PULL_KEYS {
            assert!(TEMPLATE.contains(&format!("{key} =")), "{key} undocumented");
        }
        for p in poll::all() {
            assert!(TEMPLATE.contains(&format!("source = \"{}\"", p.name())));
            for (key, _) in p.keys() {
                assert!(TEMPLATE.contains(&format!("{key} =")), "{key} undocumented");
            }
        }
    }

    #[test]
    fn refuses_unknown_keys_missing_variables_and_plain_http() {
        let vars = env(&[("T", "secret-value")]);
        let ok =
            "[[pull]]\nsource = \"okta\"\nbase_url = \"http://127.0.0.1:9\"\ntoken_env = \"T\"\n";
        let c = Config::parse(ok, &vars).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            c.pull[0]
                .credential
                .current()
                .map(|s| s.expose().to_string()),
            Ok("secret-value".to_string())
        );
        assert!(!format!("{:?}", c).contains("secret-value"));
        let cases = [
            (format!("{ok}realm = \"x\"\n"), "unknown key `realm`"),
            (ok.replace("\"T\"", "\"MISSING\""), "MISSING is not set"),
            (ok.replace("127.0.0.1:9", "acme.okta.com"), "only to a loopback"),
            (format!("{ok}[serve]\nlisten = \"x\"\n"), "serve.listen"),
            (format!("lederg = \"x\"\n{ok}"), "lederg"),
            (format!("[hooks.okta]\nauthorisation_env = \"T\"\n{ok}"), "authorisation_env"),
            (format!("{ok}interval = \"5 minutes\"\n"), "interval"),
            (format!("{ok}[[pull]]\nsource = \"okta\"\nbase_url = \"https://a.example\"\ntoken_env = \"T\"\n"), "used twice"),
        ];
        for (text, expected) in cases {
            match Config::parse(&text, &vars) {
                Ok(_) => panic!("accepted:\n{text}"),
                Err(e) => {
                    assert!(e.contains(expected), "{e:?} does not name {expected:?}");
                    assert!(!e.contains("secret-value"));
                }
            }
        }
    }

    #[test]
    fn urls_and_durations() {
        assert!(check_url("https://acme.okta.com").is_ok());
        assert!(check_url("http://localhost:8080/x").is_ok());
        assert!(check_url("http://[::1]:8080").is_ok());
        assert!(check_url("http://127.0.0.2").is_ok());
        assert!(check_url("http://10.0.0.1").is_err());
        assert!(check_url("http://localhost.evil.example").is_err());
        assert!(check_url("https://user:pw@acme.okta.com").is_err());
        assert!(check_url("ftp://x").is_err());
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert!(parse_duration("5 m").is_err());
        assert!(parse_duration("m").is_err());
    }
}
