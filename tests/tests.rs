//! Integration tests: one binary (ripgrep's layout), one module per concern.

mod cli;
mod crash;
mod ingest;
mod sources;
mod tamper;
mod util;
mod vectors;
