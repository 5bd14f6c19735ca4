//! The transparency-log formats others verify, byte for byte: C2SP signed notes and
//! tlog-checkpoints (`note`), the RFC 6962 Merkle tree and its proofs (`merkle`), and the
//! proof JSON documents (`proof`).
//!
//! Nothing here knows how a ledger is stored: the ledger, the bundle writer and the
//! independent bundle verifier all build on these, and an auditor's tools (Go's note and
//! tlog packages, transparency-dev/merkle) check the same bytes.

pub mod merkle;
pub mod note;
pub mod proof;
