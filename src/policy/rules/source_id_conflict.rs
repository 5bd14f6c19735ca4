//! `source-id-conflict`: two ledger entries carry the same source and source event id with
//! different content. A vendor never reissues an event id, so one of them is a copy that was
//! altered or backdated (or the other way round). `append` keeps both rather than letting
//! the first hide the second; this rule names both seqs. It is an integrity finding, on in
//! every profile, about the ledger rather than a person's offboarding.

use super::{Context, Rule};
use crate::policy::finding::{Finding, Severity};

pub const RULE: Rule = Rule {
    name: "source-id-conflict",
    description: "Two records with the same source event id and different content",
    controls: &["SOC2:CC2.1", "SOC2:CC7.2", "HIPAA:164.312(c)(1)"],
    enabled: |_| true,
    evaluate,
};

fn evaluate(cx: &Context, out: &mut Vec<Finding>) {
    for c in &cx.facts.id_conflicts {
        let (a, b) = (&c.earlier, &c.later);
        let when = |t: &crate::event::Timestamp| t.to_rfc3339();
        let summary = format!(
            "{} event id {:?} appears twice with different content: seq {} ({}, {}) and seq {} ({}, {}); one of them was altered or backdated",
            a.source,
            c.source_id,
            a.seq,
            a.kind,
            when(&a.at),
            b.seq,
            b.kind,
            when(&b.at),
        );
        let mut evidence = vec![a.evidence(), b.evidence()];
        evidence.sort();
        out.push(Finding {
            id: format!("{}:{}:{}:{}", RULE.name, c.subject, a.seq, b.seq),
            rule: RULE.name.to_string(),
            severity: Severity::High,
            subject: c.subject.clone(),
            person: c.person.clone(),
            summary,
            at: b.at,
            controls: RULE.controls.iter().map(|c| c.to_string()).collect(),
            evidence,
            details: [
                ("source".to_string(), a.source.to_string()),
                ("source_id".to_string(), c.source_id.clone()),
                ("earlier_seq".to_string(), a.seq.to_string()),
                ("later_seq".to_string(), b.seq.to_string()),
            ]
            .into(),
        });
    }
}
