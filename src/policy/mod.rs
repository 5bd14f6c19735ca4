//! The policy engine: the contractor-access rules, evaluated over the ledger alone.

pub mod finding;
