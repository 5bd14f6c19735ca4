//! Reports: the data each report kind says (`model`), built from the ledger and the policy's
//! findings; `render` turns it into PDF, CSV, JSON and OSCAL.

pub mod model;
pub mod render;
