//! Counters, gauges and the commit-latency histogram of a live intake, rendered in the
//! Prometheus text exposition format (version 0.0.4) for `GET /metrics`.
//!
//! Invariants: every name starts with `auditledger_`; label values are escaped as the
//! format requires; nothing derived from a secret is ever a label or a value.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

/// Upper bounds of the commit-latency buckets, in seconds.
const BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

type Labels = Vec<(String, String)>;

#[derive(Default)]
struct Inner {
    counters: BTreeMap<(&'static str, Labels), f64>,
    gauges: BTreeMap<(&'static str, Labels), f64>,
    /// Per bucket count, then sum and count.
    histogram: (Vec<u64>, f64, u64),
}

pub struct Metrics {
    inner: Mutex<Inner>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            inner: Mutex::new(Inner {
                histogram: (vec![0; BUCKETS.len()], 0.0, 0),
                ..Inner::default()
            }),
        }
    }
}

/// Help text of each metric (and the list of what exists).
const HELP: &[(&str, &str, &str)] = &[
    (
        "auditledger_events_ingested_total",
        "counter",
        "Events committed, by source and kind.",
    ),
    (
        "auditledger_duplicates_total",
        "counter",
        "Records already in the ledger (re-read pages, repeated deliveries), by source.",
    ),
    (
        "auditledger_rejects_total",
        "counter",
        "Malformed records refused, by stream or hook.",
    ),
    ("auditledger_commits_total", "counter", "Durable commits."),
    (
        "auditledger_commit_failures_total",
        "counter",
        "Commits that failed (their pushes were answered 5xx).",
    ),
    (
        "auditledger_commit_seconds",
        "histogram",
        "Time from a group's arrival at the writer to its durable commit.",
    ),
    (
        "auditledger_hook_requests_total",
        "counter",
        "Push requests, by hook and outcome.",
    ),
    (
        "auditledger_pull_requests_total",
        "counter",
        "API requests of pull streams, by stream and outcome.",
    ),
    (
        "auditledger_cursor_lag_seconds",
        "gauge",
        "Now minus the newest event time committed, by stream.",
    ),
    (
        "auditledger_last_successful_pull_timestamp_seconds",
        "gauge",
        "When each stream last read its API successfully (Unix seconds).",
    ),
    ("auditledger_ledger_size", "gauge", "Entries in the ledger."),
];

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn static_name(name: &str) -> &'static str {
    HELP.iter()
        .find(|(n, _, _)| *n == name)
        .map_or("auditledger_unknown", |(n, _, _)| n)
}

impl Metrics {
    pub fn inc(&self, name: &str, pairs: &[(&str, &str)], by: f64) {
        if let Ok(mut m) = self.inner.lock() {
            *m.counters
                .entry((static_name(name), labels(pairs)))
                .or_default() += by;
        }
    }

    pub fn set_gauge(&self, name: &str, pairs: &[(&str, &str)], value: f64) {
        if let Ok(mut m) = self.inner.lock() {
            m.gauges.insert((static_name(name), labels(pairs)), value);
        }
    }

    /// Records one commit latency (the only histogram).
    pub fn observe(&self, _name: &str, seconds: f64) {
        if let Ok(mut m) = self.inner.lock() {
            for (count, bound) in m.histogram.0.iter_mut().zip(BUCKETS) {
                if seconds <= *bound {
                    *count += 1;
                }
            }
            m.histogram.1 += seconds;
            m.histogram.2 += 1;
        }
    }

    pub fn counter(&self, name: &str, pairs: &[(&str, &str)]) -> f64 {
        self.inner.lock().map_or(0.0, |m| {
            m.counters
                .get(&(static_name(name), labels(pairs)))
                .copied()
                .unwrap_or(0.0)
        })
    }

    pub fn gauge(&self, name: &str, pairs: &[(&str, &str)]) -> Option<f64> {
        self.inner
            .lock()
            .ok()?
            .gauges
            .get(&(static_name(name), labels(pairs)))
            .copied()
    }

    /// The Prometheus text format.
    pub fn render(&self) -> String {
        let Ok(m) = self.inner.lock() else {
            return String::new();
        };
        let mut out = String::new();
        for (name, kind, help) in HELP {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            if *kind == "histogram" {
                let (buckets, sum, count) = &m.histogram;
                for (bound, n) in BUCKETS.iter().zip(buckets) {
                    let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {n}");
                }
                let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
                let _ = writeln!(out, "{name}_sum {sum}");
                let _ = writeln!(out, "{name}_count {count}");
                continue;
            }
            let series = if *kind == "counter" {
                &m.counters
            } else {
                &m.gauges
            };
            for ((n, labels), value) in series.range((*name, Vec::new())..) {
                if n != name {
                    break;
                }
                let _ = writeln!(out, "{name}{} {value}", render_labels(labels));
            }
        }
        out
    }
}

fn render_labels(labels: &Labels) -> String {
    if labels.is_empty() {
        return String::new();
    }
    let inner: Vec<String> = labels
        .iter()
        .map(|(k, v)| {
            let v = v
                .replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\n', "\\n");
            format!("{k}=\"{v}\"")
        })
        .collect();
    format!("{{{}}}", inner.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_the_text_format_with_escaped_labels() {
        let m = Metrics::default();
        m.inc(
            "auditledger_events_ingested_total",
            &[("source", "okta"), ("kind", "auth.succeeded")],
            2.0,
        );
        m.inc(
            "auditledger_hook_requests_total",
            &[("hook", "a\"b\n"), ("outcome", "ok")],
            1.0,
        );
        m.observe("auditledger_commit_seconds", 0.003);
        m.set_gauge("auditledger_ledger_size", &[], 7.0);
        let text = m.render();
        assert!(text.contains(
            "auditledger_events_ingested_total{source=\"okta\",kind=\"auth.succeeded\"} 2\n"
        ));
        assert!(text.contains("hook=\"a\\\"b\\n\""));
        assert!(text.contains("auditledger_commit_seconds_bucket{le=\"0.0025\"} 0\n"));
        assert!(text.contains("auditledger_commit_seconds_bucket{le=\"0.005\"} 1\n"));
        assert!(text.contains("auditledger_commit_seconds_count 1\n"));
        assert!(text.contains("auditledger_ledger_size 7\n"));
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            assert!(line.starts_with("auditledger_"), "{line}");
        }
    }
}
