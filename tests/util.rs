//! Shared helpers: where `../shared` is, a ledger in a temp dir, the CLI as a subprocess.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use auditledger::event::{Event, EventKind, Timestamp};
use auditledger::ledger::{Access, Ledger, NewRecord};
use auditledger::tlog::note::NoteSigner;

pub const ORIGIN: &str = "test.example/auditledger";

/// `../shared` beside the clone. CI always has it; a missing one fails loudly, never skips.
pub fn shared() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared");
    assert!(
        p.join("DESIGN.md").is_file(),
        "../shared is missing: the tests read the RFC 6962 vectors and IdP samples from {} \
         (clone the steering repo's shared/ beside this repository)",
        p.display()
    );
    p
}

pub fn signer() -> NoteSigner {
    NoteSigner::from_seed(ORIGIN, [42; 32]).unwrap()
}

pub fn event(i: u64) -> NewRecord {
    let mut attrs = BTreeMap::new();
    attrs.insert("reason".to_string(), format!("case {i}"));
    let event = Event {
        source: "test".into(),
        source_id: Some(format!("evt-{i}")),
        kind: if i.is_multiple_of(3) {
            EventKind::AuthFailed
        } else {
            EventKind::AuthSucceeded
        },
        subject: format!("user{}@acme.example", i % 7),
        account: None,
        actor: None,
        occurred_at: Timestamp(1_773_900_000_000_000 + i as i64 * 1_000_000),
        original_time: String::new(),
        attrs,
    };
    let raw = format!("{{\"id\":\"evt-{i}\",\"n\":{i}}}").into_bytes();
    NewRecord { event, raw }
}

/// A ledger of `n` events appended in commits of `batch`.
pub fn ledger_with(dir: &Path, n: u64, batch: u64) -> Ledger {
    let mut l = Ledger::init(dir, signer()).unwrap();
    let mut i = 0;
    while i < n {
        let end = (i + batch).min(n);
        l.append((i..end).map(event).collect()).unwrap();
        i = end;
    }
    l
}

pub fn reopen(dir: &Path) -> Ledger {
    Ledger::open(dir, Access::Write(Box::new(signer()))).unwrap()
}

/// Where the CLI keeps the keys `init` makes in these tests: one directory for the test
/// process, never the user's own (file names carry each key's id, so tests do not collide).
pub fn key_dir() -> &'static Path {
    static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().unwrap()).path()
}

pub fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_auditledger"));
    c.env_remove("AUDITLEDGER_KEY")
        .env_remove("AUDITLEDGER_DIR")
        .env("AUDITLEDGER_KEY_DIR", key_dir());
    c
}

/// Runs the CLI with `--ledger dir` and returns (exit code, stdout, stderr).
pub fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out: Output = bin().arg("--ledger").arg(dir).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
