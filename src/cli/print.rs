//! Results as lines and documents: ingest summaries, per-file outcomes, status, log lines.

use super::*;

/// One line per file given: committed, refused or not tried (stderr, beside the errors).
pub(crate) fn print_outcomes(outcomes: &[(String, String)]) {
    eprintln!("files:");
    for (file, what) in outcomes {
        eprintln!("  {file}: {what}");
    }
}

pub(crate) fn print_ingest_summary(s: &IngestSummary, format: Format) -> Result<()> {
    if format == Format::Json {
        say!("{}", serde_json::to_string(s)?);
        return Ok(());
    }
    let verb = if s.dry_run { "would add" } else { "added" };
    let plural = |n: u64, one: &'static str, many: &'static str| if n == 1 { one } else { many };
    say!(
        "{} ({}): {} {}, {} {}; {verb} {}, duplicates {}, rejected {}",
        s.file,
        s.source,
        s.records,
        plural(s.records, "record", "records"),
        s.events,
        plural(s.events, "event", "events"),
        s.added,
        s.duplicates,
        s.rejected
    );
    for (kind, c) in &s.per_kind {
        say!(
            "  {kind:<22} read {:>8}  {verb} {:>8}  duplicates {:>8}",
            c.read,
            c.added,
            c.duplicates
        );
    }
    if !s.other_types.is_empty() {
        let mut types: Vec<_> = s.other_types.iter().collect();
        types.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let shown: Vec<String> = types
            .iter()
            .take(8)
            .map(|(t, n)| format!("{t} ({n})"))
            .collect();
        say!(
            "  kept as other: {} type(s): {}{}",
            types.len(),
            shown.join(", "),
            if types.len() > 8 { ", ..." } else { "" }
        );
    }
    if !s.conflicts.is_empty() {
        let shown: Vec<String> = s
            .conflicts
            .iter()
            .take(8)
            .map(|c| format!("seq {} reuses the id of seq {}", c.later, c.earlier))
            .collect();
        say!(
            "  WARNING: {} record(s) carry a source id already in the ledger with different content; kept, and `check` reports them: {}{}",
            s.conflicts.len(),
            shown.join("; "),
            if s.conflicts.len() > 8 { "; ..." } else { "" }
        );
    }
    if let Some(r) = &s.rejects_file {
        say!("  rejected records written to {r}");
    }
    Ok(())
}

#[derive(serde::Serialize)]
pub(crate) struct Status {
    pub(crate) origin: String,
    pub(crate) size: u64,
    pub(crate) root: String,
    pub(crate) head: String,
    pub(crate) checkpoint: String,
    pub(crate) key_fingerprint: String,
    pub(crate) verifier_key: String,
    /// Bytes on disk per file of the ledger directory.
    pub(crate) files: std::collections::BTreeMap<String, u64>,
}

impl Status {
    pub(crate) fn of(ledger: &Ledger) -> Result<Self> {
        let key = ledger.current_key();
        Ok(Status {
            origin: ledger.meta().origin.clone(),
            size: ledger.size(),
            root: base64_root(&ledger.head().root),
            head: to_hex(&ledger.head().head),
            checkpoint: ledger.latest_checkpoint()?,
            key_fingerprint: format!("{}+{:08x}", key.name, key.id),
            verifier_key: key.to_string(),
            files: ledger
                .file_sizes()
                .into_iter()
                .map(|(n, b)| (n.to_string(), b))
                .collect(),
        })
    }
}

pub(crate) fn base64_root(root: &[u8; 32]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(root)
}

pub(crate) fn log_line(seq: &u64, payload: &Payload) -> String {
    match payload {
        Payload::Event(e) => format!(
            "{seq:>8}  {:<27}  {:<20} {:<28} {}{}",
            e.occurred_at,
            e.kind.as_str(),
            e.subject,
            e.source,
            e.source_id
                .as_ref()
                .map(|i| format!(" #{i}"))
                .unwrap_or_default()
        ),
        Payload::KeyRotation { new_key, at, .. } => {
            format!("{seq:>8}  {at:<27}  key rotation -> {new_key}")
        }
        Payload::Redaction {
            raw_hash,
            reason,
            at,
        } => format!(
            "{seq:>8}  {at:<27}  redaction of raw record {} ({reason})",
            to_hex(raw_hash)
        ),
        Payload::Cursor {
            stream,
            position,
            at,
        } => format!("{seq:>8}  {at:<27}  intake cursor {stream} -> {position}"),
    }
}

/// One line per file for the run's summary.
pub(crate) fn outcome_line(o: &FileOutcome) -> String {
    match o {
        FileOutcome::Done(s) if s.dry_run => format!("would add {} event(s)", s.added),
        FileOutcome::Done(s) => format!(
            "committed {} event(s){}",
            s.added,
            s.checkpoint_size
                .map(|n| format!(" (ledger size {n})"))
                .unwrap_or_default()
        ),
        FileOutcome::NoRecords(_) => "no records (an empty export)".into(),
        FileOutcome::Refused(IngestError::Io { .. }) => "refused: cannot be read".into(),
        FileOutcome::Refused(IngestError::Unreadable { problem, .. })
            if problem == "is a directory" =>
        {
            "refused: is a directory".into()
        }
        // Readable, but not an export of the source (binary, not JSON, a shape it is not).
        FileOutcome::Refused(IngestError::Unreadable { .. }) => {
            "refused: not an export this source reads (see the error above)".into()
        }
        FileOutcome::Refused(IngestError::UnknownFormat { .. }) => {
            "refused: format not recognised".into()
        }
        FileOutcome::Refused(_) => "refused: nothing from it committed".into(),
        FileOutcome::Interrupted => "interrupted: nothing from it committed".into(),
        FileOutcome::NotTried => "not tried: interrupted".into(),
        FileOutcome::Failed(e) => format!("failed: {e}"),
    }
}
