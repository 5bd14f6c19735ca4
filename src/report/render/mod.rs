//! Renderers: each turns a [`Report`](super::model::Report) into one file format. They
//! read only the report value, never the ledger or the policy, so adding a format never
//! touches the rules.
//!
//! - [`csv`]: one file per table plus summary, findings and evidence (UTF-8 with BOM, CRLF,
//!   formula cells neutralised).
//! - [`json`]: the whole report, pretty-printed (the shape in `docs/report-schema.md`).
//! - [`oscal`]: an OSCAL 1.1.3 assessment-results document (NIST's JSON schema).
//! - [`pdf`]: the human report.
//!
//! Renderers never print and never panic on input: a report they cannot render faithfully
//! (a timestamp outside what the format can hold, a table row of the wrong width, two CSV
//! files with one name) is a [`RenderError`] naming what was wrong.

use thiserror::Error;

use super::model::Report;

pub mod csv;
pub mod json;
pub mod oscal;
pub mod pdf;

/// One output format: a renderer reads only the report value and returns its files.
/// A new format is a file here implementing this, plus its line in [`Format::ALL`].
pub trait Renderer: Sync {
    /// As named on the command line (`--format`).
    fn name(&self) -> &'static str;
    /// The files for `report`, named from its kind (`soc2.pdf`, `soc2-findings.csv`...).
    fn render(&self, report: &Report) -> Result<Vec<(String, Vec<u8>)>, super::ReportError>;
}

/// An output format, as named on the command line (`--format`).
#[derive(Clone, Copy)]
pub struct Format(&'static dyn Renderer);

impl Format {
    /// The registry: every format, in the order `--format` documents them.
    pub const ALL: [Format; 4] = [
        Format(&pdf::Pdf),
        Format(&csv::Csv),
        Format(&json::Json),
        Format(&oscal::Oscal),
    ];

    pub fn as_str(self) -> &'static str {
        self.0.name()
    }

    pub fn parse(text: &str) -> Option<Format> {
        Format::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(text.trim()))
    }

    pub fn render(self, report: &Report) -> Result<Vec<(String, Vec<u8>)>, super::ReportError> {
        self.0.render(report)
    }
}

impl std::fmt::Debug for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq for Format {
    fn eq(&self, other: &Format) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Format {}

/// Why a report could not be rendered. Each variant names the offending value.
#[derive(Debug, Error)]
pub enum RenderError {
    #[error(
        "table {table:?}: a table name must be non-empty ASCII letters, digits, '-', '_' or '.' \
         (it becomes part of a file name)"
    )]
    TableName { table: String },
    #[error("two CSV files would both be named {0:?}")]
    DuplicateFile(String),
    #[error("table {table:?}, row {row}: {got} cells for {expected} columns")]
    RowWidth {
        table: String,
        row: usize,
        expected: usize,
        got: usize,
    },
    #[error("{field}: {value:?} contains the list separator ';'")]
    ListSeparator { field: String, value: String },
    #[error("{field}: time ({micros} µs since 1970) is outside what {format} can hold ({range})")]
    TimeOutOfRange {
        field: String,
        micros: i64,
        format: &'static str,
        range: &'static str,
    },
    #[error("period {field}: {value:?} is not a YYYY-MM-DD date")]
    Period { field: &'static str, value: String },
    #[error("evidence seq {seq} is cited with two different hashes ({first} and {second})")]
    EvidenceConflict {
        seq: u64,
        first: String,
        second: String,
    },
    #[error("writing CSV: {0}")]
    Csv(#[from] ::csv::Error),
    #[error("encoding JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("writing output: {0}")]
    Io(#[from] std::io::Error),
}

#[cfg(test)]
mod tests {
    use super::Format;

    #[test]
    fn format_names_round_trip() {
        for format in Format::ALL {
            assert_eq!(Format::parse(format.as_str()), Some(format));
        }
        assert_eq!(Format::parse(" OSCAL ").map(Format::as_str), Some("oscal"));
        let names: Vec<&str> = Format::ALL.iter().map(|f| f.as_str()).collect();
        assert_eq!(names, ["pdf", "csv", "json", "oscal"]);
        assert_eq!(Format::parse("xml"), None);
    }
}
