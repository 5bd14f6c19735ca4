//! The HTTP client of `pull`: ureq with rustls (no OpenSSL), one agent per process.
//!
//! Invariants: status codes are answers, not errors (the pull loop decides what a 429 or
//! a 503 means); a body larger than the limit is an error, never truncated; the credential
//! header is set per request and never logged.

use std::time::Duration;

use crate::sources::poll::{Request, Response};

use super::pull::Transport;

pub struct Https {
    agent: ureq::Agent,
    max_body: u64,
}

impl Https {
    pub fn new(timeout: Duration, max_body: u64) -> Self {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(timeout))
            .user_agent(concat!("auditledger/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Https { agent, max_body }
    }
}

impl Default for Https {
    fn default() -> Self {
        // Okta's queries time out after 30 s on its side; a page is at most a few MB.
        Https::new(Duration::from_secs(60), 256 * 1024 * 1024)
    }
}

impl Transport for Https {
    fn get(&self, request: &Request, auth: &(String, String)) -> Result<Response, String> {
        let mut builder = self.agent.get(&request.url);
        for (k, v) in &request.headers {
            builder = builder.header(k, v);
        }
        builder = builder.header(&auth.0, &auth.1);
        let mut response = builder.call().map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
            .collect();
        let body = response
            .body_mut()
            .with_config()
            .limit(self.max_body)
            .read_to_vec()
            .map_err(|e| format!("reading the response body: {e}"))?;
        Ok(Response {
            status,
            headers,
            body,
        })
    }
}
