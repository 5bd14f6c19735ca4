//! The PDF renderer: what a reader (and an auditor's text extraction) finds in the file,
//! determinism, and robustness on awkward reports.
//!
//! Set `AUDITLEDGER_PDF_DUMP=<dir>` to keep the rendered files for looking at them
//! (`pdftoppm -png -r 60 <dir>/sample.pdf /tmp/pages/p`).

use auditledger::event::Timestamp;
use auditledger::report::model::*;
use auditledger::report::render::pdf::render;

use crate::sample_report::sample_report;

fn dump(name: &str, bytes: &[u8]) {
    if let Some(dir) = std::env::var_os("AUDITLEDGER_PDF_DUMP") {
        let dir = std::path::PathBuf::from(dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.pdf")), bytes).unwrap();
    }
}

/// `text` with each run of whitespace made one space.
fn flat(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The text of each page, as pdf-extract reads it.
fn pages(bytes: &[u8]) -> Vec<String> {
    assert!(bytes.starts_with(b"%PDF-"), "not a PDF");
    pdf_extract::extract_text_from_mem_by_pages(bytes).expect("pdf-extract reads the PDF")
}

#[test]
fn pdf_sample_report_text_is_extractable() {
    let report = sample_report(60);
    let bytes = render(&report).unwrap();
    dump("sample", &bytes);
    let pages = pages(&bytes);
    // Wrapped text comes back with line breaks where it wrapped.
    let all = flat(&pages.join("\n"));
    let total = pages.len();
    assert!(total >= 5, "{total} pages");

    for needle in [
        "José Núñez",
        "Zoë Fischer",
        &report.findings[0].summary,
        "CC6.2",
        "CC6.3",
        "033de0ae",
        "Ledger tree size 120",
        "SOC 2 evidence: contractor access",
        "2026-03-14 07:00 UTC",
        "#12, #13",
        "Exceptions noted: 1 of the population.",
        "token used (github) #41",
        "q6uQpUbm1nmqnp2R2sU8u4DnbMdAWWIb7lT3MRbsmxk=",
    ] {
        assert!(
            all.contains(&flat(needle)),
            "{needle:?} not in the extracted text"
        );
    }
    for section in &report.sections {
        assert!(all.contains(&section.id), "section {}", section.id);
    }
    // Every page has its number and the total; every page but the cover the running
    // footer too.
    for (i, text) in pages.iter().enumerate() {
        let footer = format!("Page {} of {total}", i + 1);
        assert!(text.contains(&footer), "page {}: no {footer:?}", i + 1);
    }
    assert!(
        !pages[0].contains("Ledger tree size"),
        "the cover has no running footer"
    );
    assert!(pages[1].contains("Ledger tree size"));
    // The population table continues across pages with its header row repeated.
    let with_header = pages
        .iter()
        .filter(|p| p.contains("Deactivated (UTC)"))
        .count();
    assert!(with_header >= 2, "table header on {with_header} pages");
    assert!(all.contains("(continued)"));
}

#[test]
fn pdf_is_deterministic() {
    let report = sample_report(60);
    let a = render(&report).unwrap();
    let b = render(&report).unwrap();
    assert!(a == b, "two renders differ");
    let creation = b"/CreationDate(D:20260401090000+00'00')";
    assert!(
        a.windows(creation.len()).any(|w| w == creation),
        "document date is generated_at"
    );
}

#[test]
fn pdf_fonts_are_subset() {
    let bytes = render(&sample_report(60)).unwrap();
    // Whole DejaVu faces would be ~1.8 MB (~800 KB compressed).
    assert!(bytes.len() < 200_000, "{} bytes", bytes.len());
}

fn empty_report() -> Report {
    let mut r = sample_report(0);
    r.sections.clear();
    r.summary.clear();
    r.findings.clear();
    r.evidence.clear();
    r.period = None;
    r
}

#[test]
fn pdf_empty_report_renders() {
    let bytes = render(&empty_report()).unwrap();
    dump("empty", &bytes);
    let all = pages(&bytes).join("\n");
    assert!(all.contains("No findings."));
    assert!(all.contains("The report cites no ledger entries."));
}

#[test]
fn pdf_empty_table_shows_its_empty_text() {
    let report = sample_report(0);
    let bytes = render(&report).unwrap();
    let all = pages(&bytes).join("\n");
    assert!(all.contains("No contractor's access ended in the period."));
}

#[test]
fn pdf_survives_awkward_input() {
    let mut r = sample_report(3);
    let long = "x".repeat(2000);
    let section = &mut r.sections[0];
    section.tables[0].rows[0][0] = Cell::Text(long.clone());
    section.tables[0].rows[1][1] = Cell::Text("tab\there\nnew line\u{0}nul 🦀".into());
    section.tables[0].rows.push(vec![]); // fewer cells than columns
    section.tables[0].rows.push(vec![Cell::Empty; 9]); // more
    section.tables.push(Table {
        name: "no-columns".into(),
        title: "No columns".into(),
        columns: vec![],
        rows: vec![vec![Cell::Count(1)]],
        empty_text: "nothing".into(),
    });
    section.tables.push(Table {
        name: "zero-width".into(),
        title: long.clone(),
        columns: vec![Column {
            key: "a".into(),
            title: long.clone(),
            width: 0,
        }],
        rows: vec![
            vec![Cell::Duration(i64::MIN)],
            vec![Cell::Time(Timestamp(i64::MAX))],
        ],
        empty_text: String::new(),
    });
    section.paragraphs.push(Paragraph {
        label: Some(long.clone()),
        text: long.repeat(20),
    });
    let at = section.timelines[0].markers[0].at;
    section.timelines = vec![
        Timeline {
            title: "single marker".into(),
            markers: vec![Marker {
                at,
                label: "only".into(),
                kind: MarkerKind::Violation,
                seq: Some(41),
            }],
        },
        Timeline {
            title: "no markers".into(),
            markers: vec![],
        },
        Timeline {
            title: "all at one instant".into(),
            markers: (0..12)
                .map(|i| Marker {
                    at,
                    label: format!("event {i} with a label"),
                    kind: MarkerKind::Note,
                    seq: Some(i),
                })
                .collect(),
        },
        Timeline {
            title: "extremes".into(),
            markers: vec![
                Marker {
                    at: Timestamp(i64::MIN),
                    label: long.clone(),
                    kind: MarkerKind::Deadline,
                    seq: None,
                },
                Marker {
                    at: Timestamp(i64::MAX),
                    label: "end".into(),
                    kind: MarkerKind::Control,
                    seq: Some(u64::MAX),
                },
            ],
        },
    ];
    section.conclusion = Some(long.repeat(40));
    r.title = long.clone();
    r.origin = long.clone();
    r.attestation.checkpoint = long.repeat(3);
    r.summary[0].population = u64::MAX;
    r.summary[0].exceptions = u64::MAX;
    r.generated_at = Timestamp(i64::MIN);
    let bytes = render(&r).unwrap();
    dump("awkward", &bytes);
    let all = pages(&bytes).join("\n");
    assert!(all.contains("single marker"));
    assert!(all.contains("xxxxxxxxxxxxxxxx"));
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]

    /// Any text in any place, any times, any counts: a PDF, never a panic.
    #[test]
    fn pdf_never_panics(
        text in "\\PC{0,300}",
        word in "[a-z@./]{0,400}",
        times in proptest::collection::vec(proptest::prelude::any::<i64>(), 0..6),
        counts in proptest::collection::vec(proptest::prelude::any::<u64>(), 2),
        widths in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..7),
    ) {
        let mut r = sample_report(2);
        r.title = text.clone();
        r.attestation.checkpoint = format!("{text}\n{word}");
        r.summary[1].population = counts[0];
        r.summary[1].exceptions = counts[1];
        let section = &mut r.sections[0];
        section.title = word.clone();
        section.paragraphs[0].text = format!("{text} {word}");
        section.tables[0].columns = widths
            .iter()
            .map(|w| Column { key: "k".into(), title: text.clone(), width: *w })
            .collect();
        section.tables[0].rows[0] = vec![Cell::Text(word.clone()), Cell::Text(text.clone())];
        section.timelines[0].markers = times
            .iter()
            .map(|t| Marker { at: Timestamp(*t), label: text.clone(), kind: MarkerKind::Note, seq: None })
            .collect();
        let bytes = render(&r).unwrap();
        proptest::prop_assert!(bytes.starts_with(b"%PDF-") && bytes.ends_with(b"%%EOF"));
    }
}
