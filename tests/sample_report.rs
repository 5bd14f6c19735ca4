//! A hand-built report for renderer tests: names outside ASCII, a table long enough to
//! continue across pages, a timeline, long text that must wrap. Renderer tests use it until
//! (and beside) the reports built from the fixtures.

use std::collections::BTreeMap;

use auditledger::event::Timestamp;
use auditledger::policy::finding::{Evidence, Finding, Severity};
use auditledger::report::model::*;

fn t(text: &str) -> Timestamp {
    Timestamp::parse_rfc3339(text).expect("test time")
}

fn ev(seq: u64, kind: &str, at: &str) -> Evidence {
    Evidence {
        seq,
        hash: format!("{seq:064x}"),
        kind: kind.into(),
        source: "okta".into(),
        occurred_at: t(at),
    }
}

/// `rows` controls the length of the population table (60 spans pages in the PDF).
pub fn sample_report(rows: usize) -> Report {
    let finding = Finding {
        id: "access-after-expiry:jose.nunez@acme.example:41".into(),
        rule: "access-after-expiry".into(),
        severity: Severity::Critical,
        subject: "jose.nunez@acme.example".into(),
        person: Some("José Núñez".into()),
        summary: "José Núñez's CI API key was used 2 d 3 h after his access expired".into(),
        at: t("2026-03-16T10:00:00Z"),
        controls: vec!["SOC2:CC6.2".into(), "HIPAA:164.308(a)(3)(ii)(C)".into()],
        evidence: vec![
            ev(12, "account.deactivated", "2026-03-14T07:00:00Z"),
            ev(41, "token.used", "2026-03-16T10:00:00Z"),
        ],
        details: BTreeMap::from([("expiry".into(), "2026-03-14T07:00:00Z".into())]),
    };
    let population: Vec<Vec<Cell>> = (0..rows)
        .map(|i| {
            let name = match i % 3 {
                0 => "José Núñez".to_string(),
                1 => "Zoë Fischer".to_string(),
                _ => format!("Contractor {i} with a rather long name that must wrap"),
            };
            vec![
                Cell::Text(name),
                Cell::Text("2026-03-13".into()),
                Cell::Time(t("2026-03-14T07:00:00Z")),
                Cell::Time(t("2026-03-14T07:05:00Z")),
                Cell::Seqs(vec![12, 13]),
            ]
        })
        .collect();
    Report {
        schema_version: SCHEMA_VERSION,
        kind: ReportKind::Soc2,
        title: "SOC 2 evidence: contractor access".into(),
        subtitle: "acme.example/auditledger/prod, 2026-01-01 to 2026-03-31".into(),
        origin: "acme.example/auditledger/prod".into(),
        period: Some(Period {
            from: "2026-01-01".into(),
            to: "2026-03-31".into(),
        }),
        generated_at: t("2026-04-01T09:00:00Z"),
        time_pinned: true,
        policy: PolicyRef {
            profile: "standard".into(),
            hash: "ab".repeat(32),
        },
        attestation: Attestation {
            checkpoint: "acme.example/auditledger/prod\n120\nq6uQpUbm1nmqnp2R2sU8u4DnbMdAWWIb7lT3MRbsmxk=\ntime 2026-03-31T23:00:00Z\n\n— acme.example/auditledger/prod Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n".into(),
            tree_size: 120,
            root: "q6uQpUbm1nmqnp2R2sU8u4DnbMdAWWIb7lT3MRbsmxk=".into(),
            verifier_key: "acme.example/auditledger/prod+033de0ae+Ab4BH4w8n5aT5Jt0GSGqkyZKIBOPsPhNEQ6wgbcrVvBv".into(),
            key_fingerprint: "033de0ae".into(),
            verification: "verified 120 entries, 14 checkpoints, 1 key".into(),
            verified: true,
            checkpoint_signed_at: Some("2026-03-31T23:00:00Z".into()),
        },
        summary: vec![
            SummaryRow {
                id: "CC6.2".into(),
                title: "Access removed when no longer needed".into(),
                population: rows as u64,
                exceptions: 1,
                conclusion: "Exceptions noted".into(),
            },
            SummaryRow {
                id: "CC6.3".into(),
                title: "Access changes are authorised".into(),
                population: 4,
                exceptions: 0,
                conclusion: "Operating effectively".into(),
            },
        ],
        sections: vec![Section {
            id: "CC6.2".into(),
            title: "CC6.2 Access removed when no longer needed".into(),
            paragraphs: vec![
                Paragraph {
                    label: Some("Control".into()),
                    text: "Before issuing credentials and when access is no longer required, the entity registers, authorises and removes users. This paragraph is long on purpose so that it has to wrap across several lines of the page in every renderer that lays out text.".into(),
                },
                Paragraph {
                    label: Some("Test performed".into()),
                    text: "For every contractor whose access ended in the period, compared the effective expiry with the IdP deactivation and every later access.".into(),
                },
            ],
            tables: vec![Table {
                name: "cc6-2-population".into(),
                title: "Population: contractors whose access ended".into(),
                columns: vec![
                    Column { key: "person".into(), title: "Person".into(), width: 4 },
                    Column { key: "contract_end".into(), title: "Contract end".into(), width: 2 },
                    Column { key: "expiry".into(), title: "Expiry (UTC)".into(), width: 3 },
                    Column { key: "deactivated_at".into(), title: "Deactivated (UTC)".into(), width: 3 },
                    Column { key: "evidence".into(), title: "Evidence".into(), width: 2 },
                ],
                rows: population,
                empty_text: "No contractor's access ended in the period.".into(),
            }],
            timelines: vec![Timeline {
                title: "José Núñez: access after expiry".into(),
                markers: vec![
                    Marker { at: t("2026-03-14T07:00:00Z"), label: "expiry".into(), kind: MarkerKind::Deadline, seq: None },
                    Marker { at: t("2026-03-14T07:00:00Z"), label: "deactivated".into(), kind: MarkerKind::Control, seq: Some(12) },
                    Marker { at: t("2026-03-16T10:00:00Z"), label: "token used (github)".into(), kind: MarkerKind::Violation, seq: Some(41) },
                ],
            }],
            conclusion: Some("Exceptions noted: 1 of the population.".into()),
        }],
        evidence: finding.evidence.clone(),
        findings: vec![finding],
    }
}
