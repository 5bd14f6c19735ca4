//! Integration tests: one binary (ripgrep's layout), one module per concern.

mod bundle;
mod cli;
mod crash;
mod ingest;
mod migrate;
mod pdf;
mod policy;
mod render;
mod reports;
mod sample_report;
mod sources;
mod tamper;
mod util;
mod vectors;
