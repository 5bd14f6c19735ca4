//! Integration tests: one binary (ripgrep's layout), one module per concern.

// Test code fails by panicking: helpers unwrap, expect, panic and index fixtures they
// built. clippy.toml covers #[test] functions only, not the helpers beside them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod bundle;
mod cli;
mod crash;
mod fakeapi;
mod ingest;
mod intake;
mod intake_pull;
mod migrate;
mod pdf;
mod policy;
mod render;
mod reports;
mod sample_report;
mod serve;
mod simfs;
mod sources;
mod tamper;
mod util;
mod vectors;
