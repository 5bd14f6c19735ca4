//! `serve`: the pull loops plus an HTTP server for the IdPs' pushes (Okta Event Hooks,
//! GitHub webhooks, Standard Webhooks), health, status and metrics.
//!
//! Invariants:
//! - A push is answered 2xx only after its events are durably committed (or were already
//!   in the ledger); a failed commit is answered 5xx so the sender retries.
//! - A request that fails authentication, or is malformed, writes nothing: every record of
//!   a body is normalised before any is submitted.
//! - Secrets are compared in constant time (HMAC tags via `verify_slice`, the Okta
//!   `Authorization` value through HMAC digests of equal length) and never echoed.
//! - Concurrent pushes share commits: the handlers only submit to the one [`Writer`].
//! - On stop (SIGTERM/SIGINT): no new connections, in-flight requests finish (their
//!   commit included), the pull loops end, the writer drains, then the call returns.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use thiserror::Error;

use crate::event::{Event, Timestamp};
use crate::ledger::{Ledger, NewRecord};
use crate::sources::{self, poll::records_at_path, Source};

use super::config::{key_bytes, Config, Secret};
use super::http::Https;
use super::pull::{self, Context};
use super::writer::{Batch, Writer};

#[derive(Debug, Error)]
pub enum ServeError {
    #[error("the config has no [serve] section (listen = \"HOST:PORT\")")]
    NoServe,
    #[error("listening on {addr}: {source}")]
    Listen {
        addr: String,
        source: std::io::Error,
    },
    #[error("TLS: {0}")]
    Tls(String),
    #[error("starting the server: {0}")]
    Runtime(std::io::Error),
}

struct AppState {
    writer: Arc<Writer>,
    ctx: Context,
    okta: Option<Secret>,
    github: Option<Secret>,
    events: Option<(Secret, u64)>,
    /// Recently seen idempotency keys (`webhook-id`, `X-GitHub-Delivery`): a replay is
    /// answered 2xx without a second commit. The ledger's de-duplication covers restarts.
    seen: Mutex<Seen>,
    started: Timestamp,
    /// Per hook, when it last delivered something that was committed: a hook that goes
    /// quiet (Okta's daily cap, a deleted webhook) shows here (LIVE-INGEST.md, item 11).
    last_delivery: Mutex<BTreeMap<String, Timestamp>>,
}

#[derive(Default)]
struct Seen {
    set: HashSet<String>,
    order: VecDeque<String>,
}

const SEEN_CAPACITY: usize = 100_000;

impl Seen {
    fn contains(&self, key: &str) -> bool {
        self.set.contains(key)
    }

    fn insert(&mut self, key: String) {
        if self.set.insert(key.clone()) {
            self.order.push_back(key);
            if self.order.len() > SEEN_CAPACITY {
                if let Some(old) = self.order.pop_front() {
                    self.set.remove(&old);
                }
            }
        }
    }
}

/// Runs until `stop` is set. `ready` is called with the bound address once the server
/// accepts connections (tests bind port 0).
pub fn run_serve(
    config: &Config,
    ledger: Ledger,
    stop: Arc<AtomicBool>,
    ready: &mut dyn FnMut(SocketAddr),
) -> Result<(), ServeError> {
    let serve = config.serve.clone().ok_or(ServeError::NoServe)?;
    let tls = match &serve.tls {
        Some((cert, key)) => Some(tls_config(cert, key)?),
        None => None,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(ServeError::Runtime)?;
    let ctx = Context::new(stop.clone());
    let writer = Arc::new(Writer::start(ledger, ctx.metrics.clone()));
    let state = Arc::new(AppState {
        writer: writer.clone(),
        ctx: ctx.clone(),
        okta: config.hooks.okta.clone(),
        github: config.hooks.github.clone(),
        events: config.hooks.events.clone(),
        seen: Mutex::new(Seen::default()),
        started: Timestamp::now(),
        last_delivery: Mutex::default(),
    });
    let app = Router::new()
        .route("/hooks/okta", get(okta_verify).post(okta_hook))
        .route("/hooks/github", post(github_hook))
        .route("/hooks/events", post(events_hook))
        .route("/healthz", get(healthz))
        .route("/status", get(status))
        .route("/metrics", get(metrics))
        .fallback(|| async { (StatusCode::NOT_FOUND, "no such endpoint\n") })
        .layer(DefaultBodyLimit::max(
            usize::try_from(serve.max_body_bytes).unwrap_or(usize::MAX),
        ))
        .with_state(state);
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(&serve.listen))
        .map_err(|source| ServeError::Listen {
            addr: serve.listen.clone(),
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| ServeError::Listen {
        addr: serve.listen.clone(),
        source,
    })?;
    tracing::info!(%addr, tls = tls.is_some(), "listening");
    ready(addr);
    let jobs = config.pull.clone();
    let pulling = {
        let writer = writer.clone();
        let ctx = ctx.clone();
        std::thread::Builder::new()
            .name("pull".into())
            .spawn(move || {
                if !jobs.is_empty() {
                    let transport = Https::default();
                    if let Err(e) = pull::pull_forever(&jobs, &writer, &transport, &ctx) {
                        tracing::error!(error = %e, "the pull loops stopped");
                    }
                }
            })
            .map_err(ServeError::Runtime)?
    };
    let shutdown = {
        let stop = stop.clone();
        async move {
            while !stop.load(Ordering::Relaxed) {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            tracing::info!("stopping: finishing requests in flight");
        }
    };
    let served = runtime.block_on(async move {
        match tls {
            None => {
                axum::serve(listener, app)
                    .with_graceful_shutdown(shutdown)
                    .await
            }
            Some(tls) => {
                let listener = TlsListener::new(listener, tokio_rustls::TlsAcceptor::from(tls))?;
                axum::serve(listener, app)
                    .with_graceful_shutdown(shutdown)
                    .await
            }
        }
    });
    stop.store(true, Ordering::Relaxed);
    let _ = pulling.join();
    runtime.shutdown_timeout(Duration::from_secs(5));
    if let Ok(writer) = Arc::try_unwrap(writer) {
        writer.stop();
    }
    served.map_err(ServeError::Runtime)
}

fn tls_config(
    cert: &std::path::Path,
    key: &std::path::Path,
) -> Result<Arc<rustls::ServerConfig>, ServeError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .and_then(|it| it.collect())
        .map_err(|e| ServeError::Tls(format!("{}: {e}", cert.display())))?;
    if certs.is_empty() {
        return Err(ServeError::Tls(format!(
            "{}: no PEM certificate in it",
            cert.display()
        )));
    }
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| ServeError::Tls(format!("{}: {e}", key.display())))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ServeError::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| ServeError::Tls(e.to_string()))?;
    Ok(Arc::new(config))
}

/// Accepts TCP connections and completes their TLS handshakes concurrently (each bounded,
/// so a silent client holds neither the accept loop nor a slot for long), handing finished
/// connections to the server in arrival order of completion.
struct TlsListener {
    ready: tokio::sync::mpsc::Receiver<(
        tokio_rustls::server::TlsStream<tokio::net::TcpStream>,
        SocketAddr,
    )>,
    local: SocketAddr,
}

impl TlsListener {
    fn new(
        inner: tokio::net::TcpListener,
        acceptor: tokio_rustls::TlsAcceptor,
    ) -> std::io::Result<Self> {
        let local = inner.local_addr()?;
        let (tx, ready) = tokio::sync::mpsc::channel(256);
        tokio::spawn(async move {
            loop {
                let (tcp, addr) = match inner.accept().await {
                    Ok(c) => c,
                    Err(_) => {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let (acceptor, tx) = (acceptor.clone(), tx.clone());
                tokio::spawn(async move {
                    let handshake = acceptor.accept(tcp);
                    if let Ok(Ok(io)) =
                        tokio::time::timeout(Duration::from_secs(10), handshake).await
                    {
                        let _ = tx.send((io, addr)).await;
                    }
                });
            }
        });
        Ok(TlsListener { ready, local })
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = tokio_rustls::server::TlsStream<tokio::net::TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(c) => c,
            // The accepting task never ends while the listener lives.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}

// ---- answers ---------------------------------------------------------------------------------

fn answer(state: &AppState, hook: &str, status: StatusCode, body: Value) -> Response {
    let outcome = match status.as_u16() {
        200..=299 => "ok",
        401 => "unauthorized",
        400 => "bad_request",
        413 => "too_large",
        _ => "error",
    };
    state.ctx.metrics.inc(
        "auditledger_hook_requests_total",
        &[("hook", hook), ("outcome", outcome)],
        1.0,
    );
    if outcome == "ok" {
        if let Ok(mut last) = state.last_delivery.lock() {
            last.insert(hook.to_string(), Timestamp::now());
        }
    }
    (status, axum::Json(body)).into_response()
}

fn unauthorized(state: &AppState, hook: &str, why: &str) -> Response {
    tracing::warn!(hook, why, "push refused");
    answer(
        state,
        hook,
        StatusCode::UNAUTHORIZED,
        json!({ "error": why }),
    )
}

fn bad_request(state: &AppState, hook: &str, why: String) -> Response {
    tracing::warn!(hook, why = %why, "push refused");
    answer(
        state,
        hook,
        StatusCode::BAD_REQUEST,
        json!({ "error": why }),
    )
}

/// Commits the records and answers once they are durable.
async fn commit(
    state: &Arc<AppState>,
    hook: &str,
    records: Vec<NewRecord>,
    idempotency_key: Option<String>,
) -> Response {
    let (tx, rx) = tokio::sync::oneshot::channel();
    state.writer.submit(
        Batch {
            origin: format!("hook:{hook}"),
            records,
            cursor: None,
            force_cursor: false,
        },
        Box::new(move |r| {
            let _ = tx.send(r);
        }),
    );
    match rx.await {
        Ok(Ok(c)) => {
            if let (Some(key), Ok(mut seen)) = (idempotency_key, state.seen.lock()) {
                seen.insert(key);
            }
            answer(
                state,
                hook,
                StatusCode::OK,
                json!({ "added": c.added, "duplicates": c.duplicates, "size": c.size }),
            )
        }
        Ok(Err(e)) => answer(
            state,
            hook,
            StatusCode::SERVICE_UNAVAILABLE,
            json!({ "error": format!("not committed, retry: {e}") }),
        ),
        Err(_) => answer(
            state,
            hook,
            StatusCode::SERVICE_UNAVAILABLE,
            json!({ "error": "not committed, retry: the writer stopped" }),
        ),
    }
}

fn replayed(state: &AppState, key: &str) -> bool {
    state.seen.lock().is_ok_and(|s| s.contains(key))
}

// ---- Okta Event Hooks ------------------------------------------------------------------------

/// Constant-time equality of a presented secret and the configured one: both go through
/// HMAC first, so the comparison is of equal-length tags (`verify_slice` is constant time)
/// and neither content nor length leaks through timing.
fn same_secret(presented: &[u8], expected: &Secret) -> bool {
    const KEY: &[u8] = b"auditledger header comparison";
    let Ok(mut p) = <Hmac<Sha256> as Mac>::new_from_slice(KEY) else {
        return false;
    };
    p.update(presented);
    let tag = p.finalize().into_bytes();
    <Hmac<Sha256> as Mac>::new_from_slice(KEY).is_ok_and(|mut e| {
        e.update(expected.expose().as_bytes());
        e.verify_slice(&tag).is_ok()
    })
}

fn okta_authorized(state: &AppState, headers: &HeaderMap) -> Result<(), &'static str> {
    let Some(expected) = &state.okta else {
        return Err("the Okta hook is not configured ([hooks.okta])");
    };
    let presented = headers
        .get("authorization")
        .map(|v| v.as_bytes())
        .ok_or("missing Authorization header")?;
    if same_secret(presented, expected) {
        Ok(())
    } else {
        Err("wrong Authorization header")
    }
}

async fn okta_verify(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    if let Err(why) = okta_authorized(&state, &headers) {
        return unauthorized(&state, "okta", why);
    }
    match headers
        .get("x-okta-verification-challenge")
        .and_then(|v| v.to_str().ok())
    {
        Some(challenge) => answer(
            &state,
            "okta",
            StatusCode::OK,
            json!({ "verification": challenge }),
        ),
        None => bad_request(
            &state,
            "okta",
            "a GET must carry x-okta-verification-challenge (Okta's one-time verification)".into(),
        ),
    }
}

/// The ledger records of one source record's events, each with its own key where the
/// source gave none (`sources::key_events`).
fn ledger_records(raw: &[u8], mut events: Vec<Event>) -> impl Iterator<Item = NewRecord> + '_ {
    sources::key_events(raw, &mut events);
    events.into_iter().map(|event| NewRecord {
        event,
        raw: raw.to_vec(),
    })
}

async fn okta_hook(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(why) = okta_authorized(&state, &headers) {
        return unauthorized(&state, "okta", why);
    }
    let records = match records_at_path(&body, &["data", "events"]) {
        Ok(r) => r,
        Err(e) => return bad_request(&state, "okta", format!("body: {e}")),
    };
    let mut out = Vec::with_capacity(records.len());
    for (i, r) in records.into_iter().enumerate() {
        match sources::okta::Okta.normalise(&r.value) {
            Ok(events) => out.extend(ledger_records(&r.raw, events)),
            Err(e) => {
                return bad_request(&state, "okta", format!("data.events[{i}]: {e}"));
            }
        }
    }
    commit(&state, "okta", out, None).await
}

// ---- GitHub webhooks -------------------------------------------------------------------------

async fn github_hook(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(secret) = &state.github else {
        return unauthorized(
            &state,
            "github",
            "the GitHub hook is not configured ([hooks.github])",
        );
    };
    let Some(signature) = headers
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok())
    else {
        return unauthorized(&state, "github", "missing X-Hub-Signature-256");
    };
    let tag = signature
        .strip_prefix("sha256=")
        .and_then(crate::tlog::merkle::from_hex32);
    let valid = tag.is_some_and(|tag| {
        <Hmac<Sha256> as Mac>::new_from_slice(secret.expose().as_bytes()).is_ok_and(|mut m| {
            m.update(&body);
            m.verify_slice(&tag).is_ok()
        })
    });
    if !valid {
        return unauthorized(
            &state,
            "github",
            "X-Hub-Signature-256 does not match the body",
        );
    }
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let (event_name, delivery) = (header("x-github-event"), header("x-github-delivery"));
    if event_name.is_empty() || delivery.is_empty() {
        return bad_request(
            &state,
            "github",
            "X-GitHub-Event and X-GitHub-Delivery are required".into(),
        );
    }
    let key = format!("github:{delivery}");
    if replayed(&state, &key) {
        return answer(
            &state,
            "github",
            StatusCode::OK,
            json!({ "added": 0, "duplicates": 1 }),
        );
    }
    if event_name == "ping" {
        return answer(&state, "github", StatusCode::OK, json!({ "added": 0 }));
    }
    let value: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return bad_request(&state, "github", format!("body is not JSON: {e}")),
    };
    match sources::github::hook::normalise(&event_name, &delivery, &value, Timestamp::now()) {
        Ok(events) => {
            let records = ledger_records(&body, events).collect();
            commit(&state, "github", records, Some(key)).await
        }
        Err(e) => bad_request(&state, "github", format!("body: {e}")),
    }
}

// ---- Standard Webhooks -----------------------------------------------------------------------

/// The formats `/hooks/events` carries, by the body's `type`.
pub const EVENT_FORMATS: &[&str] = &[
    "events",
    "roster",
    "approvals",
    "reminders",
    "reviews",
    "sprints",
];

async fn events_hook(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some((secret, tolerance)) = &state.events else {
        return unauthorized(
            &state,
            "events",
            "the events hook is not configured ([hooks.events])",
        );
    };
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let (Some(id), Some(timestamp), Some(signatures)) = (
        header("webhook-id"),
        header("webhook-timestamp"),
        header("webhook-signature"),
    ) else {
        return unauthorized(
            &state,
            "events",
            "webhook-id, webhook-timestamp and webhook-signature are required",
        );
    };
    let Ok(sent_at) = timestamp.trim().parse::<i64>() else {
        return unauthorized(&state, "events", "webhook-timestamp is not Unix seconds");
    };
    let now = Timestamp::now().0 / 1_000_000;
    if (now - sent_at).unsigned_abs() > *tolerance {
        return unauthorized(
            &state,
            "events",
            "webhook-timestamp is outside the accepted clock skew",
        );
    }
    if !standard_signature_valid(&key_bytes(secret), id, timestamp.trim(), &body, signatures) {
        return unauthorized(&state, "events", "no webhook-signature matches the body");
    }
    let key = format!("events:{id}");
    if replayed(&state, &key) {
        return answer(
            &state,
            "events",
            StatusCode::OK,
            json!({ "added": 0, "duplicates": 1 }),
        );
    }
    let format =
        match serde_json::from_slice::<BTreeMap<String, Box<serde_json::value::RawValue>>>(&body) {
            Ok(top) => match top
                .get("type")
                .map(|t| serde_json::from_str::<String>(t.get()))
            {
                Some(Ok(t)) if EVENT_FORMATS.contains(&t.as_str()) => t,
                Some(Ok(t)) => {
                    return bad_request(
                        &state,
                        "events",
                        format!("type {t:?} is not one of {}", EVENT_FORMATS.join(", ")),
                    )
                }
                _ => {
                    return bad_request(
                        &state,
                        "events",
                        format!(
                            "the body needs \"type\": one of {}",
                            EVENT_FORMATS.join(", ")
                        ),
                    )
                }
            },
            Err(e) => {
                return bad_request(&state, "events", format!("body is not a JSON object: {e}"))
            }
        };
    let Some(source) = sources::by_name(&format) else {
        return bad_request(&state, "events", format!("no source named {format}"));
    };
    let records = match records_at_path(&body, &["data"]) {
        Ok(r) => r,
        Err(e) => return bad_request(&state, "events", format!("data: {e}")),
    };
    let mut out = Vec::new();
    for (i, r) in records.into_iter().enumerate() {
        match source.normalise(&r.value) {
            Ok(events) => out.extend(ledger_records(&r.raw, events)),
            Err(e) => return bad_request(&state, "events", format!("data[{i}]: {e}")),
        }
    }
    commit(&state, "events", out, Some(key)).await
}

/// Standard Webhooks: any `v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>` in the
/// space-separated list matches (a full-length tag only: an empty `v1,` never does).
pub fn standard_signature_valid(
    key: &[u8],
    id: &str,
    timestamp: &str,
    body: &[u8],
    signatures: &str,
) -> bool {
    use base64::Engine;
    signatures.split(' ').any(|sig| {
        let Some(b64) = sig.strip_prefix("v1,") else {
            return false;
        };
        let Ok(tag) = base64::engine::general_purpose::STANDARD.decode(b64) else {
            return false;
        };
        if tag.len() != 32 {
            return false;
        }
        <Hmac<Sha256> as Mac>::new_from_slice(key).is_ok_and(|mut m| {
            m.update(id.as_bytes());
            m.update(b".");
            m.update(timestamp.as_bytes());
            m.update(b".");
            m.update(body);
            m.verify_slice(&tag).is_ok()
        })
    })
}

// ---- health, status, metrics -----------------------------------------------------------------

async fn healthz(State(state): State<Arc<AppState>>) -> Response {
    if state.writer.head().healthy {
        (StatusCode::OK, "ok\n").into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "the ledger writer failed\n",
        )
            .into_response()
    }
}

async fn status(State(state): State<Arc<AppState>>) -> Response {
    let head = state.writer.head();
    let now = Timestamp::now();
    let age = |t: Option<Timestamp>| t.map(|t| (now.0 - t.0) / 1_000_000);
    let streams: BTreeMap<String, Value> = state
        .ctx
        .board
        .lock()
        .map(|b| b.clone())
        .unwrap_or_default()
        .into_iter()
        .map(|(name, s)| {
            (
                name,
                json!({
                    "source": s.source,
                    "last_success": s.last_success.map(|t| t.to_rfc3339()),
                    "cursor_age_seconds": age(s.cursor_committed_at),
                    "lag_seconds": age(s.newest_event),
                    "last_error": s.last_error,
                    "retention_warning": s.retention_warning,
                }),
            )
        })
        .collect();
    let last = state
        .last_delivery
        .lock()
        .map(|l| l.clone())
        .unwrap_or_default();
    let hooks: BTreeMap<&str, Value> = [
        ("okta", state.okta.is_some()),
        ("github", state.github.is_some()),
        ("events", state.events.is_some()),
    ]
    .into_iter()
    .map(|(name, configured)| {
        (
            name,
            json!({
                "configured": configured,
                "last_delivery": last.get(name).map(|t| t.to_rfc3339()),
            }),
        )
    })
    .collect();
    axum::Json(json!({
        "size": head.size,
        "checkpoint": head.checkpoint,
        "healthy": head.healthy,
        "started": state.started.to_rfc3339(),
        "hooks": hooks,
        "streams": streams,
    }))
    .into_response()
}

async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    (
        [("content-type", "text/plain; version=0.0.4")],
        state.ctx.metrics.render(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_webhooks_signatures() {
        // The spec's example secret and a signature computed over "id.ts.body".
        let key = b"secret-key";
        let sign = |body: &[u8]| {
            use base64::Engine;
            let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| panic!());
            m.update(b"msg_1.1700000000.");
            m.update(body);
            base64::engine::general_purpose::STANDARD.encode(m.finalize().into_bytes())
        };
        let good = format!("v1,{}", sign(b"{}"));
        assert!(standard_signature_valid(
            key,
            "msg_1",
            "1700000000",
            b"{}",
            &good
        ));
        assert!(standard_signature_valid(
            key,
            "msg_1",
            "1700000000",
            b"{}",
            &format!("v1,AAAA {good}")
        ));
        assert!(!standard_signature_valid(
            key,
            "msg_1",
            "1700000000",
            b"{ }",
            &good
        ));
        assert!(!standard_signature_valid(
            key,
            "msg_2",
            "1700000000",
            b"{}",
            &good
        ));
        assert!(!standard_signature_valid(
            key,
            "msg_1",
            "1700000000",
            b"{}",
            "v1,"
        ));
        assert!(!standard_signature_valid(
            key,
            "msg_1",
            "1700000000",
            b"{}",
            ""
        ));
    }

    #[test]
    fn github_test_vector() {
        // docs.github.com "Validating webhook deliveries".
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(b"It's a Secret to Everybody")
            .unwrap_or_else(|_| panic!());
        m.update(b"Hello, World!");
        let tag: String = m
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            tag,
            "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        );
    }

    #[test]
    fn secrets_compare_by_value() {
        let s = Secret::new("Bearer abc");
        assert!(same_secret(b"Bearer abc", &s));
        assert!(!same_secret(b"Bearer abd", &s));
        assert!(!same_secret(b"Bearer ab", &s));
        assert!(!same_secret(b"", &s));
    }
}
