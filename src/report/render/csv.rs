//! CSV: one file per table, plus the summary, the findings and the evidence index.
//!
//! Files, in this order (`<kind>` is [`ReportKind::as_str`](crate::report::model::ReportKind::as_str)):
//!
//! | file                       | header                                                            |
//! |----------------------------|-------------------------------------------------------------------|
//! | `<kind>-summary.csv`       | `id,title,population,exceptions,conclusion`                       |
//! | `<kind>-<table.name>.csv`  | the table's `columns[].key`, one file per table, in section order |
//! | `<kind>-findings.csv`      | [`FINDINGS_HEADER`]                                               |
//! | `<kind>-evidence.csv`      | [`EVIDENCE_HEADER`]                                               |
//!
//! Encoding, chosen so that a double-click opens the file cleanly:
//!
//! - UTF-8 **with a BOM** (`EF BB BF`). Without it Excel reads a CSV in the legacy code page
//!   and shows `JosÃ© NÃºÃ±ez`; LibreOffice and the `csv` crate (and Python's `utf-8-sig`)
//!   recognise and drop the BOM.
//! - RFC 4180: `,` between fields, CRLF after every record, `"` doubled inside quotes.
//! - Every field that is not a number is quoted, so a value holding `;` or a tab stays one
//!   cell even where Excel splits on `;` (locales with a decimal comma).
//! - Times are RFC 3339 UTC (`2026-03-14T07:00:00Z`, microseconds only when not whole
//!   seconds), durations whole seconds (the column key says so, e.g.
//!   `after_expiry_seconds`), seq lists `;`-joined (`12;13`), severities lower case, an empty
//!   cell an empty string.
//!
//! Formula injection (OWASP "CSV Injection"): log data is untrusted, and a spreadsheet runs a
//! cell that begins with `=`, `+`, `-` or `@` (or a tab or line break before one) as a
//! formula. Every text cell that begins with one of those, or with their full-width forms
//! `＝ ＋ － ＠` (after any leading blanks), gets a leading `'`, which spreadsheets show as text. A text cell that
//! already begins with `'` gets one more, so the rule reverses exactly: *a text cell that
//! begins with `'` had one `'` added; drop it*. Numbers we compute (counts, seconds, seqs)
//! are written as numbers and never prefixed. See [`neutralise`].

use std::borrow::Cow;
use std::collections::BTreeSet;

use ::csv::{QuoteStyle, Terminator, WriterBuilder};

use super::RenderError;
use crate::event::Timestamp;
use crate::finding::{Evidence, Finding};
use crate::report::model::{Cell, Report, SummaryRow, Table};

/// The UTF-8 byte order mark every file starts with.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Header of `<kind>-summary.csv`.
pub const SUMMARY_HEADER: [&str; 5] = ["id", "title", "population", "exceptions", "conclusion"];

/// Header of `<kind>-findings.csv`: one row per finding.
pub const FINDINGS_HEADER: [&str; 9] = [
    "id",
    "rule",
    "severity",
    "subject",
    "person",
    "at",
    "summary",
    "controls",
    "evidence_seqs",
];

/// Header of `<kind>-evidence.csv`: one row per cited ledger entry.
pub const EVIDENCE_HEADER: [&str; 5] = ["seq", "hash", "kind", "source", "occurred_at"];

/// The `csv` format in the renderer registry ([`super::Format::ALL`]).
pub struct Csv;

impl super::Renderer for Csv {
    fn name(&self) -> &'static str {
        "csv"
    }

    fn render(
        &self,
        report: &crate::report::model::Report,
    ) -> Result<Vec<(String, Vec<u8>)>, crate::report::ReportError> {
        Ok(render(report)?)
    }
}

/// Renders `report` as CSV files: `(file name, bytes)`, in the order of the module docs.
///
/// Errors: a table name that is not file-name safe, two files with one name (a table named
/// `summary`, `findings` or `evidence`, or two tables with one name), a row whose width is not
/// the table's, a control id holding `;`, a time outside chrono's range.
pub fn render(report: &Report) -> Result<Vec<(String, Vec<u8>)>, RenderError> {
    let kind = report.kind.as_str();
    let mut files = Vec::new();
    files.push((format!("{kind}-summary.csv"), summary_csv(&report.summary)?));
    for table in report.sections.iter().flat_map(|s| &s.tables) {
        check_table_name(&table.name)?;
        files.push((format!("{kind}-{}.csv", table.name), table_csv(table)?));
    }
    files.push((
        format!("{kind}-findings.csv"),
        findings_csv(&report.findings)?,
    ));
    files.push((
        format!("{kind}-evidence.csv"),
        evidence_csv(&report.evidence)?,
    ));

    let mut names = BTreeSet::new();
    for (name, _) in &files {
        if !names.insert(name.as_str()) {
            return Err(RenderError::DuplicateFile(name.clone()));
        }
    }
    Ok(files)
}

/// Makes a text cell safe to open in a spreadsheet (see the module docs): prefixes `'` when
/// the cell begins with a formula trigger or with `'`; otherwise returns it unchanged.
pub fn neutralise(text: &str) -> Cow<'_, str> {
    const TRIGGERS: [char; 11] = [
        '=', '+', '-', '@', '\t', '\r', '\n', '\'', '\u{FF1D}', '\u{FF0B}', '\u{FF0D}',
    ];
    const FULL_WIDTH_AT: char = '\u{FF20}';
    // Leading blanks do not stop every spreadsheet from evaluating what follows them.
    match text.trim_start().chars().next() {
        Some(c) if TRIGGERS.contains(&c) || c == FULL_WIDTH_AT => Cow::Owned(format!("'{text}")),
        _ => Cow::Borrowed(text),
    }
}

/// A table name becomes part of a file name: no separators, no leading dot.
fn check_table_name(name: &str) -> Result<(), RenderError> {
    let safe = !name.is_empty()
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if safe {
        Ok(())
    } else {
        Err(RenderError::TableName {
            table: name.to_string(),
        })
    }
}

/// A CSV writer over a buffer that already holds the BOM.
struct Sheet {
    writer: ::csv::Writer<Vec<u8>>,
}

impl Sheet {
    fn new(header: &[&str]) -> Result<Sheet, RenderError> {
        let mut writer = WriterBuilder::new()
            .terminator(Terminator::CRLF)
            .quote_style(QuoteStyle::NonNumeric)
            .from_writer(BOM.to_vec());
        writer.write_record(header.iter().map(|h| neutralise(h).into_owned()))?;
        Ok(Sheet { writer })
    }

    fn row(&mut self, cells: Vec<String>) -> Result<(), RenderError> {
        self.writer.write_record(&cells)?;
        Ok(())
    }

    fn finish(self) -> Result<Vec<u8>, RenderError> {
        self.writer
            .into_inner()
            .map_err(|e| RenderError::Io(e.into_error()))
    }
}

/// Untrusted text, neutralised.
fn text(value: &str) -> String {
    neutralise(value).into_owned()
}

fn time(field: &str, at: Timestamp) -> Result<String, RenderError> {
    if chrono::DateTime::from_timestamp_micros(at.0).is_none() {
        return Err(RenderError::TimeOutOfRange {
            field: field.to_string(),
            micros: at.0,
            format: "CSV",
            range: "chrono's years -262143 to 262142",
        });
    }
    Ok(at.to_rfc3339())
}

fn seqs<'a>(seqs: impl IntoIterator<Item = &'a u64>) -> String {
    seqs.into_iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(";")
}

fn cell(table: &str, column: &str, cell: &Cell) -> Result<String, RenderError> {
    Ok(match cell {
        Cell::Text(value) => text(value),
        Cell::Time(at) => time(&format!("table {table:?}, column {column:?}"), *at)?,
        Cell::Count(n) => n.to_string(),
        Cell::Duration(seconds) => seconds.to_string(),
        Cell::Seqs(list) => seqs(list),
        Cell::Severity(severity) => severity.as_str().to_string(),
        Cell::Empty => String::new(),
    })
}

fn summary_csv(rows: &[SummaryRow]) -> Result<Vec<u8>, RenderError> {
    let mut sheet = Sheet::new(&SUMMARY_HEADER)?;
    for row in rows {
        sheet.row(vec![
            text(&row.id),
            text(&row.title),
            row.population.to_string(),
            row.exceptions.to_string(),
            text(&row.conclusion),
        ])?;
    }
    sheet.finish()
}

fn table_csv(table: &Table) -> Result<Vec<u8>, RenderError> {
    let keys: Vec<&str> = table.columns.iter().map(|c| c.key.as_str()).collect();
    let mut sheet = Sheet::new(&keys)?;
    for (index, row) in table.rows.iter().enumerate() {
        if row.len() != keys.len() {
            return Err(RenderError::RowWidth {
                table: table.name.clone(),
                row: index + 1,
                expected: keys.len(),
                got: row.len(),
            });
        }
        let cells = row
            .iter()
            .zip(&keys)
            .map(|(c, key)| cell(&table.name, key, c))
            .collect::<Result<Vec<_>, _>>()?;
        sheet.row(cells)?;
    }
    sheet.finish()
}

fn findings_csv(findings: &[Finding]) -> Result<Vec<u8>, RenderError> {
    let mut sheet = Sheet::new(&FINDINGS_HEADER)?;
    for finding in findings {
        if let Some(control) = finding.controls.iter().find(|c| c.contains(';')) {
            return Err(RenderError::ListSeparator {
                field: format!("finding {:?}, controls", finding.id),
                value: control.clone(),
            });
        }
        sheet.row(vec![
            text(&finding.id),
            text(&finding.rule),
            finding.severity.as_str().to_string(),
            text(&finding.subject),
            finding.person.as_deref().map(text).unwrap_or_default(),
            time(&format!("finding {:?}, at", finding.id), finding.at)?,
            text(&finding.summary),
            text(&finding.controls.join(";")),
            seqs(finding.evidence.iter().map(|e| &e.seq)),
        ])?;
    }
    sheet.finish()
}

fn evidence_csv(evidence: &[Evidence]) -> Result<Vec<u8>, RenderError> {
    let mut sheet = Sheet::new(&EVIDENCE_HEADER)?;
    for entry in evidence {
        sheet.row(vec![
            entry.seq.to_string(),
            text(&entry.hash),
            text(&entry.kind),
            text(&entry.source),
            time(
                &format!("evidence #{}, occurred_at", entry.seq),
                entry.occurred_at,
            )?,
        ])?;
    }
    sheet.finish()
}

#[cfg(test)]
mod tests {
    use super::neutralise;

    #[test]
    fn neutralise_prefixes_formula_triggers_and_quotes_only() {
        for dangerous in [
            "=1+1", "+1", "-2", "@SUM(A1)", "\t=1", "\r=1", "\n=1", "＝1", "＋1", "－1", "＠x",
            "'x",
        ] {
            assert_eq!(neutralise(dangerous), format!("'{dangerous}"));
        }
        assert_eq!(neutralise("  =1"), "'  =1");
        for safe in ["", "José Núñez", "1", "a=b", "12;13", " x"] {
            assert_eq!(neutralise(safe), safe);
        }
    }
}
