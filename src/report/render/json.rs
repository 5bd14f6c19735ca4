//! JSON: the whole [`Report`], pretty-printed (two-space indent, keys in declaration order,
//! a trailing newline), for tools. The shape, its types and the version policy are in
//! `docs/report-schema.md`; `schema_version` says which shape a file has.
//!
//! Deterministic: the report holds no hash maps (`details` is a `BTreeMap`), so the same
//! report gives the same bytes.

use crate::report::model::Report;

/// The `json` format in the renderer registry ([`super::Format::ALL`]).
pub struct Json;

impl super::Renderer for Json {
    fn name(&self) -> &'static str {
        "json"
    }

    fn render(
        &self,
        report: &crate::report::model::Report,
    ) -> Result<Vec<(String, Vec<u8>)>, crate::report::ReportError> {
        Ok(vec![(
            format!("{}.json", report.kind.as_str()),
            render(report),
        )])
    }
}

/// Renders `report` as pretty JSON with a trailing newline. Reads back with
/// `serde_json::from_slice::<Report>`.
pub fn render(report: &Report) -> Vec<u8> {
    // Serialising into a Vec cannot fail for this type: no I/O, every map key is a
    // `String`, and no `Serialize` impl in the model returns an error (times are written as
    // strings whatever their value). So this is an invariant of the model, not of the input.
    #[allow(clippy::expect_used)]
    let mut bytes = serde_json::to_vec_pretty(report).expect("a Report always serialises to JSON");
    bytes.push(b'\n');
    bytes
}
