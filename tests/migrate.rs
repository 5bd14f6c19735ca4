//! Existing ledgers (issue 11, point 10): a ledger written by release 0.1 (sled store) is
//! refused with a pointer to `auditledger migrate`, which converts it keeping every
//! entry's bytes, so the checkpoints that release signed still verify.
//!
//! `tests/data/legacy-0.1/` was made with the 0.1 binary (commit f59ab6e): `init`, the
//! fixture quarter ingested (429 entries), `checkpoint > held-1.cp`, 300 generated events,
//! `rotate-key`, a `redact`, one more Okta record; `checkpoint > final.cp`. `signing.key`
//! is that ledger's current (post-rotation) test key, made for this fixture only.

use std::path::Path;
use std::process::Command;

use crate::util::run;

fn unpack(into: &Path) -> std::path::PathBuf {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/legacy-0.1");
    let status = Command::new("tar")
        .arg("xzf")
        .arg(data.join("ledger.tar.gz"))
        .arg("-C")
        .arg(into)
        .status()
        .unwrap();
    assert!(status.success(), "tar could not unpack the fixture");
    into.join("L")
}

#[test]
fn a_0_1_ledger_is_refused_then_migrated_and_its_old_checkpoints_verify() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/legacy-0.1");
    let tmp = tempfile::tempdir().unwrap();
    let dir = unpack(tmp.path());
    let (code, _, err) = run(&dir, &["status"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("auditledger migrate"), "{err}");

    // A conversion cut off earlier left stray files: they are replaced.
    std::fs::write(dir.join("log"), b"half a conversion").unwrap();
    let (code, out, err) = run(&dir, &["migrate"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("732 entries"), "{out}");
    assert!(dir.join("sled.pre-migration").is_dir());

    let held = data.join("held-1.cp");
    let last = data.join("final.cp");
    let genesis = std::fs::read_to_string(&held).unwrap();
    assert!(genesis.contains("\n429\n"));
    let (code, out, err) = run(
        &dir,
        &[
            "verify",
            "--checkpoint",
            held.to_str().unwrap(),
            "--checkpoint",
            last.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("732 entries") && out.contains("2 held"),
        "{out}"
    );
    assert!(
        out.contains("1 key rotation(s); 1 raw record(s) redacted"),
        "{out}"
    );
    let (code, out, _) = run(&dir, &["checkpoint"]);
    assert_eq!(code, 0);
    assert_eq!(
        out.trim_end(),
        std::fs::read_to_string(&last).unwrap().trim_end()
    );

    // The converted ledger takes new entries with the ledger's current key.
    let key = tmp.path().join("key");
    std::fs::copy(data.join("signing.key"), &key).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let events = tmp.path().join("e.jsonl");
    std::fs::write(
        &events,
        r#"{"source":"events","source_id":"after-migration","kind":"auth.succeeded","subject":"a@acme.example","occurred_at":"2026-03-01T10:00:00Z"}
"#,
    )
    .unwrap();
    let (code, _, err) = run(
        &dir,
        &[
            "--key-file",
            key.to_str().unwrap(),
            "append",
            events.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = run(&dir, &["verify", "--checkpoint", held.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("733 entries"), "{out}");
    // Migrating twice is refused.
    let (code, _, err) = run(&dir, &["migrate"]);
    assert_eq!(code, 2, "{err}");
}
