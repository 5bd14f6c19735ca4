//! Live intake: `pull` polls the IdPs' log APIs and `serve` also takes their pushes, both
//! committing through one [`writer::Writer`] that acknowledges only durable commits
//! (DESIGN, "Live intake"; LIVE-INGEST.md for each vendor's facts).
//!
//! The ledger, sources and policy stay synchronous and free of HTTP: each IdP's paging
//! rules are pure functions in `sources::<idp>::poll`; the client, the server, the clock
//! and the retries live here.

pub mod config;
pub mod http;
pub mod metrics;
pub mod pull;
pub mod serve;
pub mod writer;

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use crate::ledger::Ledger;

use self::config::Config;
use self::pull::{Context, PullError, StreamReport};
use self::writer::Writer;

/// `auditledger pull`: every `[[pull]]` source of `config` into `ledger`. With `once`, pages
/// each stream until it is caught up and returns what each did; otherwise polls at each
/// source's interval until `stop` is set (and returns no reports).
pub fn run_pull(
    config: &Config,
    ledger: Ledger,
    once: bool,
    stop: Arc<AtomicBool>,
) -> Result<Vec<StreamReport>, PullError> {
    let ctx = Context::new(stop);
    let writer = Writer::start(ledger, ctx.metrics.clone());
    let transport = http::Https::default();
    let result = if once {
        pull::pull_once(&config.pull, &writer, &transport, &ctx)
    } else {
        pull::pull_forever(&config.pull, &writer, &transport, &ctx).map(|()| Vec::new())
    };
    writer.stop();
    result
}
