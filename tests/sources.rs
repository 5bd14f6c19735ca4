//! Guards every input format: each fixture under `fixtures/idp/<source>/` and
//! `fixtures/team/<source>/` reads, through ingest's own first stage, as exactly its
//! checked-in `.expected.jsonl` and ingests into a ledger as those events; each is
//! recognised by `--source auto`, and the public samples in `../shared/idp-samples/` (whose
//! timestamps a log vendor rewrote) are refused with file, record and field, never a panic.
//!
//! Golden files are never rewritten by a normal run. After an intended change, regenerate
//! them explicitly and review the diff:
//! `cargo test --test tests regenerate_golden_files -- --ignored`.

use std::fs;
use std::path::{Path, PathBuf};

use auditledger::ingest::{detect_source, ingest_file, walk, IngestError, IngestOptions, Input};
use auditledger::ledger::Ledger;
use auditledger::sources::{self, framing, Role};

use crate::util::{shared, signer};

fn fixture_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// (source name, input file) for every fixture.
fn fixtures() -> Vec<(String, PathBuf)> {
    let mut out = vec![];
    for group in ["idp", "team"] {
        let Ok(dirs) = fs::read_dir(fixture_root().join(group)) else {
            continue;
        };
        for d in dirs {
            let d = d.unwrap().path();
            if !d.is_dir() {
                continue;
            }
            let source = d.file_name().unwrap().to_string_lossy().into_owned();
            for f in fs::read_dir(&d).unwrap() {
                let f = f.unwrap().path();
                let name = f.file_name().unwrap().to_string_lossy().into_owned();
                if name.ends_with(".expected.jsonl")
                    || name.ends_with(".md")
                    || name.ends_with(".py")
                {
                    continue;
                }
                out.push((source.clone(), f));
            }
        }
    }
    out.sort();
    out
}

/// The events of a file exactly as `ingest` would append them (through `ingest::walk`, its
/// first stage), one JSON line each; a refused record is a line naming its location and the
/// error.
fn normalised_lines(source: &str, file: &Path) -> String {
    let src = sources::by_name(source).unwrap_or_else(|| panic!("no source named {source}"));
    let input = Input::open(file).unwrap();
    let mut out = String::new();
    walk(&input, src, &mut |_| {}, &|n| n, &mut |n| {
        match n.result {
            Ok(events) => {
                for e in events {
                    out.push_str(&e.to_json());
                    out.push('\n');
                }
            }
            Err(e) => {
                let line = serde_json::json!({"location": n.location.to_string(), "error": e});
                out.push_str(&format!("{line}\n"));
            }
        }
        Ok(())
    })
    .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    out
}

fn expected_path(file: &Path) -> PathBuf {
    let mut p = file.as_os_str().to_owned();
    p.push(".expected.jsonl");
    PathBuf::from(p)
}

#[test]
fn every_fixture_matches_its_golden_file() {
    let all = fixtures();
    assert!(
        !all.is_empty(),
        "no fixtures found under fixtures/idp and fixtures/team"
    );
    let mut failures = vec![];
    for (source, file) in &all {
        let got = normalised_lines(source, file);
        let want_path = expected_path(file);
        let want = fs::read_to_string(&want_path).unwrap_or_else(|_| {
            panic!(
                "{} has no golden file {}; generate it with the ignored test regenerate_golden_files",
                file.display(),
                want_path.display()
            )
        });
        if got != want {
            let first = got
                .lines()
                .zip(want.lines())
                .position(|(a, b)| a != b)
                .unwrap_or(got.lines().count().min(want.lines().count()));
            failures.push(format!(
                "{}: differs from its golden file at line {}:\n  got:  {}\n  want: {}",
                file.display(),
                first + 1,
                got.lines().nth(first).unwrap_or("<end>"),
                want.lines().nth(first).unwrap_or("<end>")
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// What each source declares it reads is all it reads: every fixture record, parsed with only
/// the declared keys (as ingest parses what a typed parser leaves), gives the events the
/// whole record gives.
#[test]
fn every_fixture_record_normalises_the_same_parsed_whole_or_as_declared() {
    let mut checked = 0;
    for (source, file) in fixtures() {
        let src = sources::by_name(&source).unwrap();
        if matches!(src.reads(), framing::Reads::All) {
            continue;
        }
        let bytes = fs::read(&file).unwrap();
        framing::for_each_record(&bytes[..], &framing::Reads::All, &mut |r| {
            let text = std::str::from_utf8(&r.raw).unwrap();
            let pruned = framing::parse_record(text, src.reads()).unwrap();
            let whole = r.value.unwrap();
            assert_ne!(
                pruned,
                whole,
                "{}: a fixture record with nothing left out",
                file.display()
            );
            assert_eq!(
                src.normalise(&pruned),
                src.normalise(&whole),
                "{} {}: declared reads leave out something normalise reads",
                file.display(),
                r.location
            );
            checked += 1;
            Ok(())
        })
        .unwrap();
    }
    assert!(
        checked >= 80,
        "only {checked} fixture records have declared reads"
    );
}

/// A source's typed parser gives, for every fixture record it reads, the events of the
/// record parsed whole; Okta's reads nearly all of them.
#[test]
fn every_fixture_record_a_typed_parser_reads_gives_the_same_events() {
    let mut typed = std::collections::BTreeMap::<String, (usize, usize)>::new();
    for (source, file) in fixtures() {
        let src = sources::by_name(&source).unwrap();
        let bytes = fs::read(&file).unwrap();
        framing::for_each_record(&bytes[..], &framing::Reads::All, &mut |r| {
            let Ok(whole) = r.value else { return Ok(()) };
            let counts = typed.entry(source.clone()).or_default();
            counts.1 += 1;
            if let Ok(text) = std::str::from_utf8(&r.raw) {
                if let Some(events) = src.normalise_json(text) {
                    counts.0 += 1;
                    assert_eq!(
                        Ok(events),
                        src.normalise(&whole),
                        "{} {}: the typed parser and the Value way differ",
                        file.display(),
                        r.location
                    );
                }
            }
            Ok(())
        })
        .unwrap();
    }
    let (read, all) = typed["okta"];
    assert!(
        read * 10 >= all * 9,
        "Okta's typed parser read only {read} of {all} fixture records"
    );
}

#[test]
#[ignore = "rewrites the golden files; run on purpose and review the diff"]
fn regenerate_golden_files() {
    for (source, file) in fixtures() {
        fs::write(expected_path(&file), normalised_lines(&source, &file)).unwrap();
    }
}

#[test]
fn every_fixture_is_recognised_by_auto_detection() {
    let mut failures = vec![];
    for (source, file) in fixtures() {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        if name.contains("bad") {
            continue; // fixtures of broken input need not be recognisable
        }
        let mut input = Input::open(&file).unwrap();
        match detect_source(&mut input) {
            Ok(s) if s.name() == source => {}
            // Diagnostic-settings records may mix audit and sign-ins: the mixed reader.
            Ok(s) if s.name() == "entra" && source.starts_with("entra-") => {
                let text = std::fs::read_to_string(&file).unwrap();
                if !text.contains("\"properties\"") || !text.contains("\"category\"") {
                    failures.push(format!(
                        "{}: a Graph page detected as entra",
                        file.display()
                    ));
                }
            }
            Ok(s) => failures.push(format!("{}: detected as {}", file.display(), s.name())),
            Err(e) => failures.push(format!("{}: {e}", file.display())),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The shared samples as they are: Panther rewrote their timestamps, so a strict parser
/// refuses them, naming the file, the record and the field. Never a panic, nothing committed.
#[test]
fn shared_samples_as_they_are_are_refused_with_file_record_and_field() {
    let samples = [
        ("okta", "okta/panther-okta-rule-tests.json"),
        ("okta", "okta/okta-developer-docs-logevent-example.json"),
        (
            "entra-signin",
            "entra/panther-entra-diagnostic-records-rule-tests.json",
        ),
        ("github", "github/panther-github-audit-rule-tests.json"),
        ("onelogin", "onelogin/panther-onelogin-rule-tests.json"),
        (
            "google",
            "google/panther-gsuite-activityevent-flattened-rule-tests.json",
        ),
    ];
    let tmp = tempfile::tempdir().unwrap();
    let mut ledger = Ledger::init(&tmp.path().join("l"), signer()).unwrap();
    for (source, rel) in samples {
        let path = shared().join("idp-samples").join(rel);
        let input = Input::open(&path).unwrap();
        let src = sources::by_name(source).unwrap();
        let err = ingest_file(
            &mut ledger,
            &input,
            src,
            &IngestOptions::default(),
            &mut |_| {},
        )
        .expect_err(&format!("{rel} as it is must be refused"));
        let IngestError::BadRecords { file, count, shown } = &err else {
            panic!("{rel}: expected bad records, got {err}");
        };
        assert!(file.ends_with(rel), "{file}");
        assert!(*count > 0);
        let first = &shown[0];
        assert!(
            first.contains(rel) && first.contains('[') && first.contains("field "),
            "{rel}: the error must name file, record index and field: {first}"
        );
        assert_eq!(ledger.size(), 0, "nothing committed from {rel}");
    }
}

/// The golden files are what a ledger ends up holding: every fixture ingested (bad records
/// skipped) appends exactly its golden events, minus the records the file repeats, and
/// rejects exactly its golden error lines; ingesting it again adds nothing.
#[test]
fn every_fixture_ingests_into_a_ledger_as_its_golden_file_says() {
    let tmp = tempfile::tempdir().unwrap();
    for (i, (source, file)) in fixtures().into_iter().enumerate() {
        let want = fs::read_to_string(expected_path(&file)).unwrap();
        let (errors, mut events): (Vec<&str>, Vec<&str>) =
            want.lines().partition(|l| l.starts_with("{\"error\""));
        let mut ledger = Ledger::init(&tmp.path().join(format!("l{i}")), signer()).unwrap();
        let opts = IngestOptions {
            skip_invalid: true,
            rejects: Some(tmp.path().join(format!("rejects{i}.jsonl"))),
            ..IngestOptions::default()
        };
        let src = sources::by_name(&source).unwrap();
        let summary = ingest_file(
            &mut ledger,
            &Input::open(&file).unwrap(),
            src,
            &opts,
            &mut |_| {},
        )
        .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert_eq!(
            summary.rejected as usize,
            errors.len(),
            "{}",
            file.display()
        );
        let mut stored: Vec<String> = ledger
            .entries(0, ledger.size())
            .map(|e| e.unwrap().entry.event().unwrap().to_json())
            .collect();
        assert_eq!(
            stored.len() as u64 + summary.duplicates,
            events.len() as u64,
            "{}",
            file.display()
        );
        stored.sort();
        stored.dedup();
        events.sort();
        events.dedup();
        assert_eq!(stored, events, "{}", file.display());
        // Re-ingesting the file adds nothing.
        let again = ingest_file(
            &mut ledger,
            &Input::open(&file).unwrap(),
            src,
            &opts,
            &mut |_| {},
        )
        .unwrap();
        assert_eq!(
            (again.added, again.conflicts.len()),
            (0, 0),
            "{}: re-ingested",
            file.display()
        );
    }
}

/// The registry (`sources::all`) is the one list of sources: names are unique, every IdP
/// and platform source has real-shaped fixtures, every team source its own, and the
/// policy's default IdP list and source → IdP mapping come from it.
#[test]
fn the_registry_declares_every_source() {
    let all = sources::all();
    let mut names: Vec<&str> = all.iter().map(|s| s.name()).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), all.len(), "source names are unique");
    for s in &all {
        let folder = match s.role() {
            Role::IdentityProvider { idp } | Role::Platform { idp } => {
                assert!(s.name().starts_with(idp), "{} belongs to {idp}", s.name());
                assert_eq!(sources::idp_of(s.name()), idp);
                Some(fixture_root().join("idp").join(s.name()))
            }
            Role::Team => Some(fixture_root().join("team").join(s.name())),
            Role::Tool => None,
        };
        if let Some(folder) = folder.filter(|_| s.name() != "entra") {
            let files = fs::read_dir(&folder)
                .unwrap_or_else(|_| panic!("{} has no fixtures in {}", s.name(), folder.display()))
                .count();
            assert!(files > 0, "{}", folder.display());
        }
    }
    assert_eq!(
        sources::identity_providers(),
        ["okta", "entra", "keycloak", "onelogin", "google"]
    );
    let policy = auditledger::policy::config::Policy::defaults(
        auditledger::policy::config::Profile::Standard,
    );
    assert_eq!(policy.scope.idp_sources, sources::identity_providers());
    assert_eq!(sources::idp_of("entra-signin"), "entra");
    assert_eq!(sources::idp_of("github"), "github");
    assert_eq!(sources::idp_of("vpn"), "vpn", "a tool is its own IdP");
    assert!(sources::is_team("roster") && !sources::is_team("okta"));
}
