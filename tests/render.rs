//! (in progress)

#[test]
fn sample_report_round_trips_through_json() {
    let report = crate::sample_report::sample_report(3);
    let text = serde_json::to_string(&report).unwrap();
    let back: auditledger::report::model::Report = serde_json::from_str(&text).unwrap();
    assert_eq!(back, report);
}
