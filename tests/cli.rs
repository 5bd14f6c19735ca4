//! The CLI contract end to end: init, append, status, log, checkpoint, verify, prove,
//! verify-proof, rotate-key, redact, the lock, key errors and exit codes.

use std::fs;
use std::path::Path;

use auditledger::ledger::{Access, Ledger};

use crate::util::{bin, run};

fn write_events(path: &Path, from: u64, to: u64) {
    let mut s = String::new();
    for i in from..to {
        s.push_str(&format!(
            "{{\"source\":\"okta\",\"source_id\":\"e{i}\",\"kind\":\"auth.succeeded\",\"subject\":\"zoë{}@acme.example\",\"occurred_at\":\"2026-03-19T09:{:02}:00-08:00\"}}\n",
            i % 5,
            i % 60
        ));
    }
    fs::write(path, s).unwrap();
}

/// Where `init` put the ledger's key: outside the ledger, in the tests' key directory.
fn key_file(dir: &Path) -> std::path::PathBuf {
    let genesis = Ledger::genesis_key(dir).unwrap();
    auditledger::app::default_key_path(crate::util::key_dir(), &genesis)
}

fn init(dir: &Path) -> String {
    let (code, out, err) = run(dir, &["init", "--origin", "acme.example/auditledger/test"]);
    assert_eq!(code, 0, "{err}");
    out.lines()
        .find_map(|l| l.strip_prefix("verifier key: "))
        .expect("init prints the verifier key")
        .to_string()
}

#[test]
fn init_append_status_log_checkpoint_verify() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ledger");
    let vkey = init(&dir);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert!(
            !dir.join("signing.key").exists(),
            "init kept the key in the ledger"
        );
        let mode = fs::metadata(key_file(&dir)).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let events = tmp.path().join("e.jsonl");
    write_events(&events, 0, 30);
    let (code, out, err) = run(&dir, &["append", events.to_str().unwrap(), "--batch", "7"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("30 records, 30 events; added 30, duplicates 0"),
        "{out}"
    );
    // Re-appending an overlapping export adds only what is new.
    write_events(&events, 20, 40);
    let (_, out, _) = run(&dir, &["append", events.to_str().unwrap()]);
    assert!(
        out.contains("20 records, 20 events; added 10, duplicates 10"),
        "{out}"
    );

    let (code, out, _) = run(&dir, &["status", "--format", "json"]);
    assert_eq!(code, 0);
    let status: serde_json::Value = serde_json::from_str(&out).unwrap();
    for key in ["size", "root", "head", "checkpoint", "verifier_key"] {
        assert!(status.get(key).is_some(), "status lacks {key}");
    }
    assert_eq!(status["size"], 40);
    assert_eq!(status["verifier_key"], vkey.as_str());

    let (_, cp, _) = run(&dir, &["checkpoint"]);
    assert_eq!(cp, status["checkpoint"].as_str().unwrap());
    assert!(
        cp.starts_with("acme.example/auditledger/test\n40\n"),
        "{cp}"
    );

    let (_, log, _) = run(
        &dir,
        &["log", "--from", "5", "--limit", "3", "--format", "json"],
    );
    let lines: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["seq"], 5);
    assert_eq!(lines[0]["payload"]["event"]["subject"], "zoë0@acme.example");

    let (code, out, err) = run(&dir, &["verify"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.starts_with("OK: 40 entries"), "{out}");
    let (code, _, _) = run(&dir, &["verify", "--pubkey", &vkey]);
    assert_eq!(code, 0);
    let other = "other+3c8c7f8e+AUkpTP4d0zn3Qe/OnFHvGr6ZsqSmuCEGJhBbf87oYyhf";
    let (code, _, err) = run(&dir, &["verify", "--pubkey", other]);
    assert_ne!(code, 0, "a foreign key must not verify: {err}");
}

#[test]
fn bad_input_is_refused_whole_with_file_line_and_field() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ledger");
    init(&dir);
    let f = tmp.path().join("bad.jsonl");
    let good = r#"{"source":"okta","source_id":"1","kind":"auth.succeeded","subject":"a","occurred_at":"2026-03-19T09:00:00Z"}"#;
    let no_offset = r#"{"source":"okta","source_id":"2","kind":"auth.succeeded","subject":"a","occurred_at":"2026-03-19T09:00:00"}"#;
    fs::write(&f, format!("{good}\n{no_offset}\n")).unwrap();
    let (code, _, err) = run(&dir, &["append", f.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(
        err.contains("bad.jsonl:2:") && err.contains("offset"),
        "{err}"
    );
    assert!(err.contains("nothing from"), "{err}");
    let (_, out, _) = run(&dir, &["status", "--format", "json"]);
    let status: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(status["size"], 0, "nothing of a bad file is committed");

    for (name, bytes, want) in [
        ("binary", vec![0u8, 159, 146, 150, 10], "binary data"),
        ("truncated", br#"{"source":"okta","kind":"#.to_vec(), "bad.jsonl: line 1 column"),
        ("wrong type", br#"{"source":"okta","kind":"auth.succeeded","subject":7,"occurred_at":"2026-03-19T09:00:00Z"}"#.to_vec(), "bad.jsonl:1: field"),
    ] {
        fs::write(&f, bytes).unwrap();
        let (code, _, err) = run(&dir, &["append", f.to_str().unwrap()]);
        assert_eq!(code, 2, "{name}");
        assert!(err.contains(want), "{name}: {err}");
        assert!(!err.contains("panicked"), "{name}: {err}");
    }
}

#[test]
fn proofs_round_trip_and_altered_fields_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ledger");
    let vkey = init(&dir);
    let events = tmp.path().join("e.jsonl");
    write_events(&events, 0, 12);
    run(&dir, &["append", events.to_str().unwrap(), "--batch", "5"]);
    let old_cp = tmp.path().join("old.cp");
    let (_, cp10, _) = run(&dir, &["checkpoint"]);
    fs::write(&old_cp, &cp10).unwrap();
    write_events(&events, 12, 300);
    run(&dir, &["append", events.to_str().unwrap()]);
    let cp_path = tmp.path().join("cp");
    let (_, cp, _) = run(&dir, &["checkpoint"]);
    fs::write(&cp_path, &cp).unwrap();
    let key_path = tmp.path().join("key.pub");
    fs::write(&key_path, format!("{vkey}\n")).unwrap();

    // At a size no checkpoint signed, prove says the proof carries none, and verify-proof
    // without one is a usage error (2), not a proof that fails (1).
    let (code, unsigned, err) = run(&dir, &["prove", "5", "--size", "94"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("no checkpoint was signed at size 94"), "{err}");
    let unsigned_file = tmp.path().join("unsigned.json");
    fs::write(&unsigned_file, &unsigned).unwrap();
    let out = bin()
        .args([
            "verify-proof",
            unsigned_file.to_str().unwrap(),
            "--pubkey",
            &vkey,
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("give --checkpoint"), "{err}");

    let (code, proof, err) = run(&dir, &["prove", "5"]);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("no checkpoint"), "{err}");
    let v: serde_json::Value = serde_json::from_str(&proof).unwrap();
    assert_eq!(v["type"], "inclusion");
    assert_eq!(v["hash"], "sha256");
    assert_eq!(v["tree_size"], 300);
    let pf = tmp.path().join("p.json");
    fs::write(&pf, &proof).unwrap();
    let verify_proof = |file: &Path| {
        let out = bin()
            .args(["verify-proof", file.to_str().unwrap(), "--checkpoint"])
            .arg(&cp_path)
            .arg("--pubkey")
            .arg(&key_path)
            .output()
            .unwrap();
        (
            out.status.code().unwrap(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    assert_eq!(verify_proof(&pf).0, 0);

    // Every field altered, one at a time, is refused with exit 1.
    let mutations: Vec<(&str, serde_json::Value)> = vec![
        ("type", serde_json::json!("consistency")),
        ("hash", serde_json::json!("sha512")),
        ("leaf_index", serde_json::json!(6)),
        ("tree_size", serde_json::json!(299)),
        (
            "leaf_hash",
            serde_json::json!("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="),
        ),
        ("path", serde_json::json!([])),
        (
            "checkpoint",
            serde_json::json!(cp.replacen("300", "301", 1)),
        ),
        ("extra", serde_json::json!(1)),
    ];
    for (field, value) in mutations {
        let mut bad = v.clone();
        bad[field] = value;
        fs::write(&pf, bad.to_string()).unwrap();
        let (code, err) = verify_proof(&pf);
        assert_eq!(code, 1, "altered {field} must be refused: {err}");
    }
    let mut bad = v.clone();
    let first = bad["path"][0].as_str().unwrap().to_string();
    let flipped = if first.starts_with('A') {
        first.replacen('A', "B", 1)
    } else {
        format!("A{}", &first[1..])
    };
    bad["path"][0] = serde_json::json!(flipped);
    fs::write(&pf, bad.to_string()).unwrap();
    assert_eq!(
        verify_proof(&pf).0,
        1,
        "a changed path hash must be refused"
    );

    // Consistency from the checkpoint held earlier to now.
    let (code, cons, err) = run(&dir, &["prove", "--consistency", "12"]);
    assert_eq!(code, 0, "{err}");
    fs::write(&pf, &cons).unwrap();
    let out = bin()
        .args(["verify-proof", pf.to_str().unwrap(), "--checkpoint"])
        .arg(&old_cp)
        .args(["--pubkey", &vkey])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The held checkpoint also passes `verify --checkpoint`.
    let (code, _, err) = run(&dir, &["verify", "--checkpoint", old_cp.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn rotate_key_and_redact_keep_the_ledger_verifiable() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ledger");
    let old_key = init(&dir);
    let events = tmp.path().join("e.jsonl");
    write_events(&events, 0, 10);
    run(&dir, &["append", events.to_str().unwrap()]);
    let (code, out, err) = run(&dir, &["rotate-key"]);
    assert_eq!(code, 0, "{err}");
    let new_key = out
        .split("new verifier key: ")
        .nth(1)
        .unwrap()
        .trim()
        .to_string();
    assert_ne!(new_key, old_key);
    write_events(&events, 10, 20);
    let (code, _, err) = run(&dir, &["append", events.to_str().unwrap()]);
    assert_eq!(code, 0, "appending with the rotated key file: {err}");
    let (code, out, err) = run(&dir, &["verify", "--pubkey", &old_key]);
    assert_eq!(
        code, 0,
        "verify follows the rotation from the old key: {err}"
    );
    assert!(out.contains("1 key rotation"), "{out}");
    // The new key alone is not where trust starts; the message says so, not "altered".
    let (code, _, err) = run(&dir, &["verify", "--pubkey", &new_key]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("took over at the key rotation of seq 10") && err.contains(&old_key),
        "{err}"
    );
    let (code, _, err) = run(&dir, &["verify", "--pubkey", "/no/such/key.pub"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no such file"), "{err}");
    let (_, status, _) = run(&dir, &["status", "--format", "json"]);
    let status: serde_json::Value = serde_json::from_str(&status).unwrap();
    assert_eq!(status["verifier_key"], new_key.as_str());

    // A rotation cut off between its commit and the key-file swap (the new key still staged
    // in signing.key.new, the retired key still in signing.key) is completed on next write.
    let key = key_file(&dir);
    let staged = auditledger::ledger::keys::staged_key_path(&key);
    let retired = fs::read(&key).unwrap();
    let (code, _, err) = run(&dir, &["rotate-key"]);
    assert_eq!(code, 0, "{err}");
    fs::rename(&key, &staged).unwrap();
    fs::write(&key, &retired).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&key, fs::Permissions::from_mode(0o600)).unwrap();
    }
    write_events(&events, 20, 25);
    let (code, _, err) = run(&dir, &["append", events.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("completed an interrupted key rotation"),
        "{err}"
    );
    assert!(!staged.exists());
    let (code, out, err) = run(&dir, &["verify", "--pubkey", &old_key]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("2 key rotation"), "{out}");

    // Redact the raw record of seq 3.
    let (_, log, _) = run(
        &dir,
        &["log", "--from", "3", "--limit", "1", "--format", "json"],
    );
    let entry: serde_json::Value = serde_json::from_str(log.trim()).unwrap();
    let raw = entry["raw_hash"].as_str().unwrap().to_string();
    let (code, _, err) = run(
        &dir,
        &["redact", &raw, "--reason", "GDPR erasure request #12"],
    );
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = run(&dir, &["verify"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("1 raw record(s) redacted"), "{out}");
    let (code, _, err) = run(&dir, &["redact", "00", "--reason", "x"]);
    assert_eq!(code, 2, "{err}");
    // Twice: the second says which entry already had it redacted.
    let (code, _, err) = run(&dir, &["redact", &raw, "--reason", "again"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("already redacted (held by entry #3)"), "{err}");
    let (code, _, err) = run(&dir, &["redact", &"ab".repeat(32), "--reason", "x"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no entry holds raw record abab"), "{err}");
}

#[test]
fn lock_and_key_errors_are_clear() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ledger");
    init(&dir);
    let events = tmp.path().join("e.jsonl");
    write_events(&events, 0, 3);
    {
        // A writer holds the lock: a second writer is refused, naming the lock file and
        // its holder; readers go on.
        let _held = Ledger::open(
            &dir,
            Access::Write(Box::new(
                auditledger::ledger::keys::load_signer(&key_file(&dir), None).unwrap(),
            )),
        )
        .unwrap();
        let (code, _, err) = run(&dir, &["append", events.to_str().unwrap()]);
        assert_eq!(code, 2);
        assert!(
            err.contains("has a writer already")
                && err.contains(&dir.join("LOCK").display().to_string())
                && err.contains(&format!("pid {}", std::process::id())),
            "{err}"
        );
        for args in [&["status"][..], &["verify"], &["log"], &["checkpoint"]] {
            let (code, _, err) = run(&dir, args);
            assert_eq!(code, 0, "{args:?} waits for or fails on the writer: {err}");
        }
    }
    // Missing key.
    let (code, _, err) = run(
        &dir,
        &[
            "--key-file",
            "/nonexistent/k",
            "append",
            events.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 2);
    assert!(err.contains("no signing key"), "{err}");
    // Wrong key (valid, but not this ledger's).
    let other = tmp.path().join("other.key");
    let wrong =
        auditledger::tlog::note::NoteSigner::from_seed("acme.example/auditledger/test", [1; 32])
            .unwrap();
    fs::write(&other, wrong.to_secret_string()).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&other, fs::Permissions::from_mode(0o600)).unwrap();
    }
    let (code, _, err) = run(
        &dir,
        &[
            "--key-file",
            other.to_str().unwrap(),
            "append",
            events.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 2);
    assert!(err.contains("current key is"), "{err}");
    assert!(
        !err.contains("PRIVATE+KEY"),
        "errors never show the key: {err}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let key = key_file(&dir);
        fs::set_permissions(&key, fs::Permissions::from_mode(0o644)).unwrap();
        let (code, _, err) = run(&dir, &["append", events.to_str().unwrap()]);
        assert_eq!(code, 2);
        assert!(err.contains("loose permissions"), "{err}");
        fs::set_permissions(&key, fs::Permissions::from_mode(0o000)).unwrap();
        let (code, _, err) = run(&dir, &["append", events.to_str().unwrap()]);
        // root can read a 000 file; anyone else gets "cannot read".
        if code != 0 {
            assert!(
                err.contains("key file") || err.contains("permissions"),
                "{err}"
            );
        }
        fs::set_permissions(&key, fs::Permissions::from_mode(0o600)).unwrap();
    }
    // The key from the environment works and never needs the file.
    let key_text = fs::read_to_string(key_file(&dir)).unwrap();
    let out = bin()
        .arg("--ledger")
        .arg(&dir)
        .args([
            "--key-file",
            "/nonexistent/k",
            "append",
            events.to_str().unwrap(),
        ])
        .env("AUDITLEDGER_KEY", key_text.trim())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (code, _, err) = run(&tmp.path().join("nowhere"), &["status"]);
    assert_eq!(code, 2);
    assert!(err.contains("not a ledger"), "{err}");
}

/// Integrity failures found while opening exit 1, like those `verify` finds; a missing
/// ledger or a bad flag exits 2.
#[test]
fn integrity_failures_at_open_exit_1() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ledger");
    init(&dir);
    let events = tmp.path().join("e.jsonl");
    write_events(&events, 0, 40);
    let (code, _, err) = run(&dir, &["append", "--batch", "10", events.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    // Three more commits, which a checkpoint log cut back must not lose quietly.
    for i in 0..3 {
        let more = tmp.path().join(format!("more{i}.jsonl"));
        write_events(&more, 40 + 10 * i, 50 + 10 * i);
        let (code, _, err) = run(&dir, &["append", more.to_str().unwrap()]);
        assert_eq!(code, 0, "{err}");
    }
    let log = dir.join("checkpoints.log");
    let original = fs::read(&log).unwrap();
    let other = tmp.path().join("other");
    init(&other);
    type BreakIt<'a> = Box<dyn Fn() + 'a>;
    let cases: Vec<(&str, BreakIt)> = vec![
        ("missing", Box::new(|| fs::remove_file(&log).unwrap())),
        ("emptied", Box::new(|| fs::write(&log, b"").unwrap())),
        (
            "garbage",
            Box::new(|| fs::write(&log, b"not a checkpoint log").unwrap()),
        ),
        (
            "replaced by another ledger's",
            Box::new(|| {
                fs::copy(other.join("checkpoints.log"), &log).unwrap();
            }),
        ),
        (
            "cut back to its first two checkpoints (the log kept)",
            Box::new(|| {
                let (notes, _, _) =
                    auditledger::ledger::cplog::parse_log(&fs::read(&log).unwrap()).unwrap();
                let keep: String = notes[..2]
                    .iter()
                    .map(|n| format!("{}\n{n}", n.len()))
                    .collect();
                fs::write(&log, keep).unwrap();
            }),
        ),
        (
            "log file cut short (store behind the checkpoint log)",
            Box::new(|| {
                let f = fs::OpenOptions::new()
                    .write(true)
                    .open(dir.join("log"))
                    .unwrap();
                let len = f.metadata().unwrap().len();
                f.set_len(len / 2).unwrap();
            }),
        ),
    ];
    let backup = tmp.path().join("backup");
    fs::create_dir_all(&backup).unwrap();
    for f in ["log", "tree", "log.idx", "dedup"] {
        fs::copy(dir.join(f), backup.join(f)).unwrap();
    }
    for (name, break_it) in cases {
        break_it();
        for args in [
            &["status"][..],
            &["verify"],
            &["check"],
            &["append", events.to_str().unwrap()],
        ] {
            let (code, _, err) = run(&dir, args);
            assert_eq!(code, 1, "{name}: {args:?} exits {code}: {err}");
            assert!(!err.contains("panicked"), "{name}: {err}");
            // Each cause said once, not "X: X".
            let parts: Vec<&str> = err.trim().split(": ").collect();
            assert!(
                parts.windows(2).all(|w| w[0] != w[1]),
                "{name}: {args:?}: {err}"
            );
        }
        // A JSON document still says what failed.
        for args in [
            &["verify", "--format", "json"][..],
            &["status", "--format", "json"],
        ] {
            let (code, out, err) = run(&dir, args);
            assert_eq!(code, 1, "{name}: {args:?}: {err}");
            let doc: serde_json::Value = serde_json::from_str(&out)
                .unwrap_or_else(|e| panic!("{name}: {args:?}: {e}: {out:?}"));
            assert_eq!(doc["ok"], false, "{name}: {out}");
            assert!(
                doc["problem"].as_str().is_some_and(|p| !p.is_empty()),
                "{out}"
            );
        }
        fs::write(&log, &original).unwrap();
        for f in ["log", "tree", "log.idx", "dedup"] {
            fs::copy(backup.join(f), dir.join(f)).unwrap();
        }
        let (code, _, err) = run(&dir, &["verify"]);
        assert_eq!(code, 0, "{name}: restoring did not restore: {err}");
    }
    let (code, _, _) = run(&tmp.path().join("nothing-here"), &["status"]);
    assert_eq!(code, 2);
}

/// Small things a user meets: `init` on a file says so, `log --from` past the end notes
/// how many entries there are, one record is "1 record".
#[test]
fn init_on_a_file_log_past_the_end_and_singular_counts_read_right() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("not-a-dir");
    fs::write(&file, "x").unwrap();
    let (code, _, err) = run(
        &file,
        &["init", "--origin", "acme.example/auditledger/test"],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("is a file, not a directory"), "{err}");
    let dir = tmp.path().join("ledger");
    init(&dir);
    let events = tmp.path().join("e.jsonl");
    write_events(&events, 0, 1);
    let (code, out, err) = run(&dir, &["append", events.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("1 record, 1 event;"), "{out}");
    let (code, out, err) = run(&dir, &["log", "--from", "99"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.is_empty(), "{out}");
    assert!(
        err.contains("nothing from seq 99 on: the last is 0"),
        "{err}"
    );
}

/// A mistyped `--source` is a usage error up front, with the name it most likely meant.
#[test]
fn a_mistyped_source_is_a_usage_error_with_a_suggestion() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ledger");
    init(&dir);
    let file = tmp.path().join("x.json");
    fs::write(&file, "[]").unwrap();
    for (typed, meant) in [
        ("oktaa", Some("okta")),
        ("entra-sigin", Some("entra-signin")),
        ("zzz", None),
    ] {
        let (code, _, err) = run(&dir, &["ingest", "--source", typed, file.to_str().unwrap()]);
        assert_eq!(code, 2, "{err}");
        assert!(
            err.contains(&format!("unknown --source {typed:?}")),
            "{err}"
        );
        match meant {
            Some(m) => assert!(err.contains(&format!("did you mean {m}?")), "{err}"),
            None => assert!(!err.contains("did you mean"), "{err}"),
        }
    }
}

/// Standard input is read to its end before the ledger is opened: while an exporter hangs
/// with the pipe open, another writer can commit, and a stop signal ends the waiting
/// ingest at once, leaving nothing behind.
#[test]
fn a_hanging_stdin_holds_no_lock_and_a_stop_signal_ends_it() {
    use std::process::Stdio;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ledger");
    init(&dir);
    let mut waiting = bin()
        .arg("--ledger")
        .arg(&dir)
        .args(["ingest", "--source", "okta", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pipe = waiting.stdin.take().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let events = tmp.path().join("e.jsonl");
    write_events(&events, 0, 5);
    let (code, _, err) = run(&dir, &["append", events.to_str().unwrap()]);
    assert_eq!(code, 0, "another writer while stdin hangs: {err}");
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &waiting.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = waiting.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "SIGTERM did not end an ingest waiting on standard input"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    drop(pipe);
    assert!(!status.success());
    let (code, out, err) = run(&dir, &["verify"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("OK: 5 entries"), "{out}");
}

/// Completions and the man page come from the same definitions as `--help`: every
/// subcommand is in them, and an unknown shell is a usage error (exit 2).
#[test]
fn completions_and_man_page_cover_every_command() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("l");
    let (code, bash, err) = run(&dir, &["completions", "bash"]);
    assert_eq!(code, 0, "{err}");
    let (code, zsh, _) = run(&dir, &["completions", "zsh"]);
    assert_eq!(code, 0);
    let (code, man, _) = run(&dir, &["man"]);
    assert_eq!(code, 0);
    assert!(
        man.starts_with(".ie") && man.contains(".TH auditledger 1"),
        "{man}"
    );
    for command in [
        "init",
        "ingest",
        "verify",
        "check",
        "report",
        "export",
        "verify-bundle",
    ] {
        assert!(bash.contains(command), "bash completion lacks {command}");
        assert!(zsh.contains(command), "zsh completion lacks {command}");
        // roff writes a hyphen as `\-`.
        assert!(
            man.contains(&command.replace('-', "\\-")),
            "man page lacks {command}"
        );
    }
    let (code, _, err) = run(&dir, &["completions", "tcsh-9"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("possible values"), "{err}");
}

/// The period a report covers, read back from its JSON.
fn report_period(dir: &Path, args: &[&str]) -> (i32, String, Option<(String, String)>) {
    let out = dir.join("out");
    let _ = fs::remove_dir_all(&out);
    let mut all = vec![
        "report",
        "soc2",
        "--format",
        "json",
        "--out",
        out.to_str().unwrap(),
    ];
    all.extend_from_slice(args);
    let (code, _, err) = run(dir, &all);
    let period = fs::read_to_string(out.join("soc2.json"))
        .ok()
        .and_then(|t| {
            let v: serde_json::Value = serde_json::from_str(&t).unwrap();
            Some((
                v["period"]["from"].as_str()?.to_string(),
                v["period"]["to"].as_str()?.to_string(),
            ))
        });
    (code, err, period)
}

#[test]
fn report_periods_default_to_the_quarter_and_impossible_times_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ledger");
    init(&dir);
    let pair = |a: &str, b: &str| Some((a.to_string(), b.to_string()));
    // --to alone: the quarter --to falls in.
    let (code, err, period) = report_period(&dir, &["--to", "2026-03-31"]);
    assert_eq!(
        (code, period),
        (0, pair("2026-01-01", "2026-03-31")),
        "{err}"
    );
    let (_, _, period) = report_period(&dir, &["--to", "2026-05-10"]);
    assert_eq!(period, pair("2026-04-01", "2026-05-10"));
    // --from alone: up to the report's day (pinned here).
    let (_, _, period) = report_period(
        &dir,
        &["--from", "2026-02-01", "--now", "2026-04-01T09:00:00Z"],
    );
    assert_eq!(period, pair("2026-02-01", "2026-04-01"));
    // Neither: the quarter so far.
    let (_, _, period) = report_period(&dir, &["--now", "2026-08-15T12:00:00Z"]);
    assert_eq!(period, pair("2026-07-01", "2026-08-15"));
    // Impossible dates name the flag; nothing is written.
    for (args, named, why) in [
        (vec!["--to", "0001-12-31"], "--to", "between"),
        (vec!["--from", "2026-02-30"], "--from", "no such date"),
        (
            vec!["--from", "2026-03-01", "--to", "2026-02-01"],
            "--from",
            "after",
        ),
        (
            vec!["--now", "2026-02-30T09:00:00Z"],
            "--now",
            "no such date",
        ),
        (vec!["--now", "2026-04-01"], "--now", "not a date alone"),
    ] {
        let (code, err, period) = report_period(&dir, &args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains(named) && err.contains(why), "{args:?}: {err}");
        assert_eq!(period, None);
    }
    // A time to come is refused unless asked for; the report then says it was pinned.
    let (code, err, _) = report_period(&dir, &["--now", "2030-01-01T00:00:00Z"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("--now") && err.contains("in the future"),
        "{err}"
    );
    let (code, err, _) = report_period(&dir, &["--now", "2030-01-01T00:00:00Z", "--allow-future"]);
    assert_eq!(code, 0, "{err}");
    let json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(dir.join("out/soc2.json")).unwrap()).unwrap();
    assert_eq!(json["time_pinned"], true);
    assert!(json["attestation"]["checkpoint_signed_at"].is_string());
    let (code, _, err) = run(&dir, &["check", "--as-of", "2030-01-01"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("--as-of") && err.contains("in the future"),
        "{err}"
    );
    let (code, _, err) = run(&dir, &["check", "--as-of", "2030-01-01", "--allow-future"]);
    assert_eq!(code, 0, "{err}");
}

/// Control characters from the data never reach the terminal raw: a crafted subject or
/// record value cannot clear the screen or print over the real output.
#[test]
fn control_characters_from_data_are_escaped_in_terminal_output() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ledger");
    init(&dir);
    let events = tmp.path().join("events.jsonl");
    fs::write(
        &events,
        "{\"source\":\"okta\",\"source_id\":\"e1\",\"kind\":\"auth.succeeded\",\"subject\":\"eve\\u001b[2J\\u001b[HOK: no findings\",\"occurred_at\":\"2026-03-19T09:00:00Z\"}\n",
    )
    .unwrap();
    let (code, _, err) = run(&dir, &["append", events.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let (code, out, _) = run(&dir, &["log"]);
    assert_eq!(code, 0);
    assert!(!out.contains('\u{1b}'), "raw ESC in: {out:?}");
    // Times of whole seconds and of microseconds still line the columns up.
    fs::write(
        &events,
        "{\"source\":\"okta\",\"source_id\":\"e3\",\"kind\":\"auth.failed\",\"subject\":\"x\",\"occurred_at\":\"2026-03-19T09:00:00.25Z\"}\n",
    )
    .unwrap();
    let (code, _, err) = run(&dir, &["append", events.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let (_, out, _) = run(&dir, &["log"]);
    let kinds: Vec<usize> = ["auth.succeeded", "auth.failed"]
        .iter()
        .map(|k| out.lines().find_map(|l| l.find(k)).unwrap_or(0))
        .collect();
    assert!(kinds[0] > 0 && kinds[0] == kinds[1], "{out}");
    assert!(out.contains("\\u{1b}[2J"), "{out}");
    // The same in an error naming a bad value.
    fs::write(
        &events,
        "{\"source\":\"okta\",\"source_id\":\"e2\",\"kind\":\"auth.\\u001b[2Jsucceeded\",\"subject\":\"x\",\"occurred_at\":\"2026-03-19T09:00:00Z\"}\n",
    )
    .unwrap();
    let (code, _, err) = run(&dir, &["append", events.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(!err.contains('\u{1b}'), "raw ESC in: {err:?}");
}

/// Messages name the real problem and the real place: a missing ledger (not its key), the
/// line of a CRLF CSV row, the record of a truncated JSON array, the column of a truncated
/// JSON line without serde's own "line 1".
#[test]
fn messages_name_the_real_problem_and_place() {
    let tmp = tempfile::tempdir().unwrap();
    let events = tmp.path().join("events.jsonl");
    write_events(&events, 0, 2);
    let (code, _, err) = run(
        &tmp.path().join("nope"),
        &["append", events.to_str().unwrap()],
    );
    assert_eq!(code, 2);
    assert!(
        err.contains("is not a ledger directory") && err.contains("auditledger init"),
        "{err}"
    );
    assert!(!err.contains("signing key"), "{err}");

    let dir = tmp.path().join("ledger");
    init(&dir);
    let csv = tmp.path().join("roster.csv");
    fs::write(
        &csv,
        "person,email,employment,contract_end,time_zone,effective_at\r\n\
         A,a@x.example,contractor,2026-01-01,UTC,2026-01-01T00:00:00Z\r\n\
         B,b@x.example,contractor,notadate,UTC,2026-01-01T00:00:00Z\r\n",
    )
    .unwrap();
    let (code, _, err) = run(
        &dir,
        &["ingest", "--source", "roster", csv.to_str().unwrap()],
    );
    assert_eq!(code, 2);
    assert!(err.contains("roster.csv:3: field contract_end"), "{err}");

    let array = tmp.path().join("okta.json");
    fs::write(
        &array,
        "[{\"uuid\":\"a\",\"published\":\"2026-01-01T00:00:00Z\",\"eventType\":\"user.session.start\",\"actor\":{\"alternateId\":\"a@x\"}},\n{\"uuid\":\"b\",\"published\":\"2026-01-0",
    )
    .unwrap();
    let (code, _, err) = run(
        &dir,
        &["ingest", "--source", "okta", array.to_str().unwrap()],
    );
    assert_eq!(code, 2);
    assert!(err.contains("record [1], line 2 column"), "{err}");
    assert_eq!(err.matches("line 2").count(), 1, "{err}");

    let lines = tmp.path().join("okta.ndjson");
    fs::write(
        &lines,
        "{\"uuid\":\"a\",\"published\":\"2026-01-01T00:00:00Z\",\"eventType\":\"user.session.start\",\"actor\":{\"alternateId\":\"a@x\"}}\n{\"uuid\":\"b\",\"publ",
    )
    .unwrap();
    let (code, _, err) = run(
        &dir,
        &["ingest", "--source", "okta", lines.to_str().unwrap()],
    );
    assert_eq!(code, 2);
    assert!(err.contains("okta.ndjson:2: column "), "{err}");
    assert!(!err.contains("line 1"), "{err}");

    // A file whose first record cannot be read is not an empty export: `--source auto`
    // once said "no records" and exited 0 on this CSV whose second line is short.
    let ragged = tmp.path().join("ragged.csv");
    fs::write(&ragged, "a,b,c\n1,2\n").unwrap();
    let (code, _, err) = run(
        &dir,
        &["ingest", "--source", "auto", ragged.to_str().unwrap()],
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("the first record (line 2) cannot be read") && !err.contains("no records"),
        "{err}"
    );
}

/// `--format json` where a command prints a result: the same exit codes, a document on
/// standard output also when the check fails.
#[test]
fn json_output_on_init_sources_verify_and_verify_proof() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ledger");
    let (code, out, err) = run(
        &dir,
        &["init", "--origin", "acme.example/j", "--format", "json"],
    );
    assert_eq!(code, 0, "{err}");
    let init: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(init["origin"], "acme.example/j");
    let key = init["verifier_key"].as_str().unwrap().to_string();
    assert!(key.starts_with("acme.example/j+"));

    let (_, out, _) = run(&dir, &["sources", "--format", "json"]);
    let list: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap();
    let okta = list.iter().find(|s| s["name"] == "okta").unwrap();
    assert_eq!(
        (okta["role"].as_str(), okta["pull"].as_bool()),
        (Some("identity-provider"), Some(true))
    );
    assert!(list
        .iter()
        .any(|s| s["name"] == "roster" && s["role"] == "team"));

    let events = tmp.path().join("e.jsonl");
    write_events(&events, 0, 5);
    assert_eq!(run(&dir, &["append", events.to_str().unwrap()]).0, 0);
    let (code, out, _) = run(&dir, &["verify", "--format", "json", "--pubkey", &key]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (v["ok"].as_bool(), v["size"].as_u64()),
        (Some(true), Some(5))
    );

    let proof = tmp.path().join("p.json");
    let (_, out, _) = run(&dir, &["prove", "3"]);
    fs::write(&proof, out).unwrap();
    let (code, out, _) = run(
        &dir,
        &[
            "verify-proof",
            proof.to_str().unwrap(),
            "--pubkey",
            &key,
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (v["ok"].as_bool(), v["leaf_index"].as_u64()),
        (Some(true), Some(3))
    );
    // Failing: exit 1, and still a document.
    let other = auditledger::tlog::note::NoteSigner::from_seed("acme.example/j", [3; 32]).unwrap();
    let wrong = other.verifier().to_string();
    let (code, out, _) = run(
        &dir,
        &[
            "verify-proof",
            proof.to_str().unwrap(),
            "--pubkey",
            &wrong,
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["ok"], false);
    let (code, out, _) = run(&dir, &["verify", "--format", "json", "--pubkey", &wrong]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["ok"], false);
    assert!(v["problem"].is_string());
}

/// A copy of the ledger directory carries no key, and verify says whose key it trusted.
#[test]
fn the_key_lives_outside_the_ledger_and_verify_names_the_key_it_trusted() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ledger");
    let (code, out, _) = run(&dir, &["init", "--origin", "acme.example/k"]);
    assert_eq!(code, 0);
    let written = out
        .lines()
        .find_map(|l| l.strip_prefix("signing key written to "))
        .and_then(|l| l.strip_suffix(" (mode 0600)"))
        .unwrap()
        .to_string();
    assert!(!Path::new(&written).starts_with(&dir), "{written}");
    assert_eq!(Path::new(&written), key_file(&dir));
    for e in fs::read_dir(&dir).unwrap() {
        let text = fs::read(e.unwrap().path()).unwrap_or_default();
        assert!(!String::from_utf8_lossy(&text).contains("PRIVATE+KEY"));
    }
    let events = tmp.path().join("e.jsonl");
    write_events(&events, 0, 2);
    assert_eq!(run(&dir, &["append", events.to_str().unwrap()]).0, 0);
    let (code, out, _) = run(&dir, &["verify"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("trusted: the key stored in the ledger"),
        "{out}"
    );
}

#[test]
fn init_requires_an_origin_and_says_what_it_is() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ledger");
    let (code, _, err) = run(&dir, &["init"]);
    assert_eq!(code, 2);
    assert!(err.contains("--origin"), "{err}");
    assert!(!dir.exists(), "a refused init wrote something");
    let (code, out, _) = run(&dir, &["init", "--help"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("Permanent") && out.contains("acme.example/auditledger/prod"),
        "{out}"
    );
}

/// `report` and `export` print what they wrote as one JSON object with
/// `--message-format json` (`--format` already names the files' formats); the object
/// names the files that exist and the figures the report itself holds.
#[test]
fn report_and_export_print_json_summaries() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ledger");
    crate::policy::quarter_ledger(&dir);
    let out = tmp.path().join("reports");
    let (code, stdout, err) = run(
        &dir,
        &[
            "report",
            "access-after-expiry",
            "--now",
            "2026-04-01T09:00:00Z",
            "--from",
            "2026-01-01",
            "--to",
            "2026-03-31",
            "--format",
            "json,csv",
            "--message-format",
            "json",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{err}");
    let summary: serde_json::Value = serde_json::from_str(&stdout).expect("one JSON object");
    let report: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("access-after-expiry.json")).unwrap())
            .unwrap();
    assert_eq!(summary["report"], "access-after-expiry");
    assert_eq!(
        summary["findings"].as_u64().unwrap() as usize,
        report["findings"].as_array().unwrap().len()
    );
    assert!(summary["findings"].as_u64().unwrap() > 0);
    assert_eq!(summary["tree_size"], report["attestation"]["tree_size"]);
    assert_eq!(summary["period"], report["period"]);
    let files = summary["files"].as_array().unwrap();
    assert!(files.len() > 1);
    for f in files {
        assert!(Path::new(f.as_str().unwrap()).is_file(), "{f}");
    }

    let bundle = tmp.path().join("bundle");
    let (code, stdout, err) = run(
        &dir,
        &[
            "export",
            "access-after-expiry",
            "--now",
            "2026-04-01T09:00:00Z",
            "--from",
            "2026-01-01",
            "--to",
            "2026-03-31",
            "--message-format",
            "json",
            "--out",
            bundle.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{err}");
    let summary: serde_json::Value = serde_json::from_str(&stdout).expect("one JSON object");
    let manifest = fs::read(bundle.join("MANIFEST.b3")).unwrap();
    assert_eq!(
        summary["manifest_b3"].as_str().unwrap(),
        blake3::hash(&manifest).to_hex().as_str()
    );
    assert!(summary["cited_entries"].as_u64().unwrap() > 0);
    assert_eq!(
        fs::read_dir(bundle.join("entries")).unwrap().count() as u64,
        2 * summary["cited_entries"].as_u64().unwrap(),
        "a .bin and a .json per cited entry"
    );
}

/// The writing commands print their result as JSON with `--format json`: one object per
/// appended file, and one for a rotation or a redaction, whose seqs and sizes match the
/// ledger's own status afterwards.
#[test]
fn writers_print_json_results() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ledger");
    let old_key = init(&dir);
    let (a, b) = (tmp.path().join("a.jsonl"), tmp.path().join("b.jsonl"));
    write_events(&a, 0, 10);
    write_events(&b, 5, 12);
    let (code, out, err) = run(
        &dir,
        &[
            "append",
            a.to_str().unwrap(),
            b.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON object per line"))
        .collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert_eq!(lines[0]["added"], 10);
    assert_eq!(lines[1]["added"], 2);
    assert_eq!(lines[1]["duplicates"], 5);

    let (code, out, err) = run(&dir, &["rotate-key", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let rotation: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(rotation["rotation_seq"], 12);
    assert_ne!(rotation["verifier_key"], old_key.as_str());
    let (_, status, _) = run(&dir, &["status", "--format", "json"]);
    let status: serde_json::Value = serde_json::from_str(&status).unwrap();
    assert_eq!(status["verifier_key"], rotation["verifier_key"]);
    assert_eq!(status["size"], rotation["tree_size"]);

    let (_, log, _) = run(
        &dir,
        &["log", "--from", "3", "--limit", "1", "--format", "json"],
    );
    let entry: serde_json::Value = serde_json::from_str(log.lines().next().unwrap()).unwrap();
    let raw_hash = entry["raw_hash"].as_str().unwrap().to_string();
    let (code, out, err) = run(
        &dir,
        &[
            "redact", &raw_hash, "--reason", "erasure", "--format", "json",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let redaction: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(redaction["raw_hash"], raw_hash.as_str());
    assert_eq!(redaction["redaction_seq"], 13);
    assert_eq!(redaction["tree_size"], 14);
}
