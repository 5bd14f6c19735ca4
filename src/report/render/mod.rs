//! Renderers: each turns a [`Report`](super::model::Report) into one file format. They
//! read only the report value, never the ledger or the policy, so adding a format never
//! touches the rules.

pub mod csv;
pub mod json;
pub mod oscal;
pub mod pdf;
