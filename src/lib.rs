//! auditledger: an immutable audit ledger and compliance reporter for temporary and
//! contractor access.
//!
//! The library owns everything; the binary (`src/main.rs`, with its subcommands in
//! `src/cli/`) only parses arguments, calls one library function per subcommand and
//! prints. The library never prints.
//!
//! - [`ledger`]: the append-only, hash-chained, Merkle-tree, signed event store.
//! - [`tlog`]: the transparency-log formats others verify (signed notes, checkpoints, the
//!   RFC 6962 tree and the proof JSON), independent of how a ledger is stored.
//! - [`event`]: the normalised event model every source produces.
//! - [`sources`] and [`ingest`]: reading IdP exports and the team's records into events.
//! - [`finding`]: the vocabulary policy and reports share (findings, evidence, severity).
//! - [`app`]: whole operations (init, ingest of files, reports, the demo) the CLI calls.
//! - [`intake`]: live intake (`pull`, `serve`): the IdPs' APIs and pushes, committed durably.

// Cargo.toml can only warn on unsafe code while src/main.rs has its one unsafe block; the
// library denies it outright.
#![deny(unsafe_code)]

pub mod app;
pub mod event;
pub mod export;
pub mod finding;
pub mod ingest;
pub mod intake;
pub mod ledger;
pub mod policy;
pub mod report;
pub mod sources;
pub mod tlog;
