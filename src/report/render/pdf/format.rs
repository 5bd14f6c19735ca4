//! How values read in the PDF: times, durations, seq lists, severities.

use crate::event::Timestamp;
use crate::finding::Severity;
use crate::policy::facts::human_duration;
use crate::report::model::Cell;

/// `2026-03-14 07:00 UTC`.
pub(super) fn time(t: Timestamp) -> String {
    t.to_datetime().format("%Y-%m-%d %H:%M UTC").to_string()
}

/// A duration in seconds, as the findings say it (`2 d 3 h`, `5 h 10 min`, `30 s`), with
/// a minus sign when negative.
pub(super) fn duration(seconds: i64) -> String {
    let text = human_duration(seconds.saturating_mul(1_000_000));
    if seconds < 0 {
        format!("−{text}")
    } else {
        text
    }
}

/// `#12, #13`.
pub(super) fn seqs(seqs: &[u64]) -> String {
    seqs.iter()
        .map(|s| format!("#{s}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `Critical`.
pub(super) fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Info => "Info",
        Severity::Low => "Low",
        Severity::Medium => "Medium",
        Severity::High => "High",
        Severity::Critical => "Critical",
    }
}

pub(super) fn cell(c: &Cell) -> String {
    match c {
        Cell::Text(t) => t.clone(),
        Cell::Time(t) => time(*t),
        Cell::Count(n) => n.to_string(),
        Cell::Duration(s) => duration(*s),
        Cell::Seqs(s) => seqs(s),
        Cell::Severity(s) => severity(*s).to_string(),
        Cell::Empty => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_a_person_would_say_them() {
        assert_eq!(duration(2 * 86_400 + 3 * 3_600 + 59), "2 d 3 h");
        assert_eq!(duration(2 * 86_400), "2 d");
        assert_eq!(duration(45 * 60), "45 min");
        assert_eq!(duration(3_600 + 600), "1 h 10 min");
        assert_eq!(duration(30), "30 s");
        assert_eq!(duration(-3_600), "−1 h");
        assert_eq!(duration(2 * 86_400 + 10 * 3_600 + 59 * 60), "2 d 11 h");
        assert!(!duration(i64::MIN).is_empty());
    }

    #[test]
    fn times_seqs_severities() {
        let t = Timestamp::parse_rfc3339("2026-03-14T07:00:59Z").unwrap();
        assert_eq!(time(t), "2026-03-14 07:00 UTC");
        assert_eq!(seqs(&[12, 13]), "#12, #13");
        assert_eq!(severity(Severity::Critical), "Critical");
    }
}
