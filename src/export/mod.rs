//! The auditor bundle: a directory an auditor can check offline, without the ledger and
//! without trusting this program (layout and hand checks: `docs/bundle.md`).
//!
//! ```text
//! report/<name>        the report files, as given (names refused, never rewritten, if unsafe)
//! checkpoint.txt       the signed C2SP checkpoint of the tree the report was computed on
//! verifier-key.txt     every key that signed checkpoint.txt, one verifier key string a line
//! entries/<seq>.bin    the entry's canonical bytes: exactly the Merkle leaf input
//! entries/<seq>.json   the same entry as readable JSON, plus where its raw record is
//! raw/<raw hash hex>   the raw source record (omitted, and noted in the JSON, if redacted)
//! proofs/<seq>.json    inclusion proof (DESIGN proof JSON) against checkpoint.txt's size
//! README.txt           for the auditor: what each file is and how to check it by hand
//! MANIFEST.b3          plain BLAKE3 (`b3sum` format) of every other file, sorted by path
//! MANIFEST.note        a C2SP signed note by the ledger's key over the manifest's BLAKE3,
//!                      the origin and the tree size: what proves the report files (the
//!                      conclusions), not only the evidence, came from the ledger's owner
//! ```
//!
//! Invariants kept here:
//! - [`write_bundle`] only exports a ledger that [`crate::ledger::verify::verify`] passed
//!   ([`Verified`]), at a tree size with a stored signed checkpoint; it builds the bundle in
//!   a temporary directory beside `out`, fsyncs it, checks it with [`verify_bundle`] and only
//!   then renames it into place, so a failed export leaves nothing behind and a bundle that
//!   would not verify is never written.
//! - [`verify_bundle`] needs nothing but the directory (and, ideally, a key the auditor got
//!   elsewhere). It reuses the ledger's own decoding, hashing and proof verification
//!   (`entry`, `merkle`, `note`, `proof`), reports every problem it finds with the file it is
//!   in, and never follows a path outside the bundle (unsafe manifest paths and symbolic
//!   links are refused).
//! - Neither prints nor panics on bad input.

mod readme;
mod verify;
mod write;

use std::path::PathBuf;

use base64::{engine::general_purpose::STANDARD as B64, Engine};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::ledger::entry::{chain_hash, Entry, Payload};
use crate::ledger::LedgerError;
use crate::tlog::merkle::to_hex;
use crate::tlog::merkle::{Hash, Sha256Hasher, TreeHasher};

pub use self::verify::verify_bundle;
pub use self::write::write_bundle;

pub const MANIFEST: &str = "MANIFEST.b3";
pub const README: &str = "README.txt";
pub const CHECKPOINT: &str = "checkpoint.txt";
pub const VERIFIER_KEY: &str = "verifier-key.txt";
pub const MANIFEST_NOTE: &str = "MANIFEST.note";
/// The first line of [`MANIFEST_NOTE`]'s text.
pub const MANIFEST_NOTE_HEADER: &str = "auditledger bundle manifest v1";

/// The text [`MANIFEST_NOTE`] signs.
pub fn manifest_note_text(origin: &str, tree_size: u64, manifest: &[u8]) -> String {
    format!(
        "{MANIFEST_NOTE_HEADER}\norigin {origin}\ntree_size {tree_size}\nmanifest_b3 {}\n",
        blake3::hash(manifest).to_hex()
    )
}
pub const REPORT_DIR: &str = "report";
pub const ENTRIES_DIR: &str = "entries";
pub const RAW_DIR: &str = "raw";
pub const PROOFS_DIR: &str = "proofs";

/// Why an export failed. Nothing is left at `out` when it does.
#[derive(Debug, Error)]
pub enum ExportError {
    #[error("I/O on {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error("the verification given is of a ledger of {verified} entries, but the ledger now holds {head}: verify again before exporting")]
    StaleVerification { verified: u64, head: u64 },
    #[error("tree size {tree_size} is beyond the ledger's {head} entries")]
    TreeSizeBeyondHead { tree_size: u64, head: u64 },
    #[error("no signed checkpoint is stored for tree size {0}: a report must be computed at a size where a commit ended")]
    NoCheckpoint(u64),
    #[error(
        "the stored checkpoint of size {tree_size} does not open with the ledger's keys: {problem}"
    )]
    BadCheckpoint { tree_size: u64, problem: String },
    #[error(
        "cited seq {seq} is not in the tree of {tree_size} entries the report was computed on"
    )]
    CitedOutOfRange { seq: u64, tree_size: u64 },
    #[error("{path} exists and is not an empty directory")]
    OutNotEmpty { path: PathBuf },
    #[error("report file name {name:?}: {problem}")]
    BadReportName { name: String, problem: String },
    #[error("report file {name}: {problem}")]
    ReportMismatch { name: String, problem: String },
    #[error("the bundle written failed its own verification:\n{}", problems_text(.0))]
    SelfCheck(Vec<Problem>),
    #[error("the signing key given ({given}) is not a key that signed the checkpoint of tree size {tree_size} ({signed}); the manifest must be signed by the ledger's key")]
    WrongSigner {
        given: String,
        signed: String,
        tree_size: u64,
    },
    #[error("signing the manifest: {0}")]
    Sign(String),
}

/// Why a bundle is not accepted.
#[derive(Debug, Error)]
pub enum BundleError {
    /// The bundle cannot be read at all: a usage or I/O error, not evidence of tampering.
    #[error("I/O on {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0} is not a directory")]
    NotADirectory(PathBuf),
    /// The bundle was read and something in it is wrong: altered, missing, extra or not
    /// signed by the key. Every problem found, each naming its file.
    #[error("{} problem(s):\n{}", .0.len(), problems_text(.0))]
    Integrity(Vec<Problem>),
}

/// One thing wrong with a bundle: the file (relative to the bundle) and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub file: String,
    pub problem: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.file, self.problem)
    }
}

fn problems_text(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| format!("  {p}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// What an export wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BundleSummary {
    pub dir: PathBuf,
    pub origin: String,
    pub tree_size: u64,
    pub root: Hash,
    /// The seqs with an entry and a proof in the bundle (the cited ones, plus the
    /// redaction entries of cited records whose bytes were redacted).
    pub entries: Vec<u64>,
    pub raw_records: usize,
    pub redacted: usize,
    /// `name+keyid` of every key that signed the checkpoint.
    pub key_fingerprints: Vec<String>,
    /// Files listed in the manifest.
    pub files: usize,
    /// Plain BLAKE3 (hex) of `MANIFEST.b3`: send it to the auditor by another channel;
    /// it pins every file of the bundle, the report included.
    pub manifest_b3: String,
}

/// What a clean bundle verification checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BundleVerified {
    pub origin: String,
    pub tree_size: u64,
    pub root: Hash,
    /// `name+keyid` of the keys whose signature on the checkpoint was checked.
    pub key_fingerprints: Vec<String>,
    /// False when no key was supplied and the bundle's own `verifier-key.txt` was used:
    /// then the bundle is only shown to be self-consistent.
    pub key_supplied: bool,
    pub entries: Vec<u64>,
    pub raw_records: usize,
    pub redacted: usize,
    pub report_files: usize,
    /// Distinct seqs the report JSON files cite (all present).
    pub cited: usize,
    /// Files listed in (and matching) the manifest.
    pub files: usize,
    pub manifest_b3: String,
}

/// `name+keyid`: what `status` calls the key fingerprint.
pub fn key_fingerprint(key: &crate::tlog::note::NoteVerifier) -> String {
    format!("{}+{:08x}", key.name, key.id)
}

/// Where an entry's raw record is, in `entries/<seq>.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRef {
    /// `raw/<raw hash hex>` when the bytes are in the bundle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// True when the bytes were redacted in the ledger (the hash stays in the entry).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub redacted: bool,
    /// The seq of the redaction entry, when found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redaction_seq: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `entries/<seq>.json`: the entry decoded, its hashes, and where its raw record is.
#[derive(Clone, Debug, Serialize)]
struct EntryJson<'a> {
    seq: u64,
    version: u8,
    /// BLAKE3 chain hash (hex): what the report's evidence `hash` names.
    hash: String,
    prev: String,
    raw_hash: String,
    /// RFC 6962 leaf hash (base64), as in the proof.
    leaf_hash: String,
    payload: &'a Payload,
    /// `null` for entries without a raw record (key rotations, redactions).
    raw: Option<RawRef>,
}

fn b64(h: &Hash) -> String {
    B64.encode(h)
}

/// The JSON document of an entry; everything in it but `raw` follows from the canonical
/// bytes.
fn entry_doc<'a>(entry: &'a Entry, canonical: &[u8], raw: Option<RawRef>) -> EntryJson<'a> {
    EntryJson {
        seq: entry.seq,
        version: entry.version,
        hash: to_hex(&chain_hash(canonical)),
        prev: to_hex(&entry.prev),
        raw_hash: to_hex(&entry.raw_hash),
        leaf_hash: b64(&Sha256Hasher.leaf(canonical)),
        payload: &entry.payload,
        raw,
    }
}

/// The same as a JSON value, to compare with what a bundle holds.
fn entry_json(entry: &Entry, canonical: &[u8], raw: Option<RawRef>) -> serde_json::Value {
    serde_json::to_value(entry_doc(entry, canonical, raw)).unwrap_or(serde_json::Value::Null)
}

fn pretty(value: &impl Serialize) -> Vec<u8> {
    let mut s = serde_json::to_string_pretty(value).unwrap_or_default();
    s.push('\n');
    s.into_bytes()
}

/// Checks a relative path inside the bundle: `/`-separated, no empty, `.` or `..`
/// component, no absolute path, no backslash or control character (which would also break
/// the one-line-per-file manifest).
fn check_rel_path(path: &str) -> Result<(), String> {
    if path.is_empty() {
        return Err("empty name".into());
    }
    if path.starts_with('/') {
        return Err("absolute path".into());
    }
    if path.contains('\\') {
        return Err("holds a backslash".into());
    }
    if path.chars().any(char::is_control) {
        return Err("holds a control character".into());
    }
    for part in path.split('/') {
        match part {
            "" => return Err("empty path component".into()),
            "." | ".." => return Err(format!("holds a {part:?} component")),
            _ => {}
        }
    }
    Ok(())
}

/// What a report JSON file claims about the ledger: the seqs it cites (with the chain
/// hash, when given) and the tree it attests.
#[derive(Clone, Debug, Default)]
struct ReportClaims {
    cited: Vec<(u64, Option<String>)>,
    tree_size: Option<u64>,
    root: Option<String>,
}

/// Reads the claims of a report file: a `*.json` whose top level is an object with an
/// `evidence` array (the report model's `Report.evidence`). `Ok(None)` for anything else.
fn report_claims(name: &str, json: impl std::io::Read) -> Result<Option<ReportClaims>, String> {
    if !name.ends_with(".json") {
        return Ok(None);
    }
    // Only the two members are kept; the rest of a report (its findings and tables, tens of
    // megabytes at scale) is skipped as it streams past.
    #[derive(serde::Deserialize)]
    struct Claimed {
        evidence: Option<serde_json::Value>,
        attestation: Option<serde_json::Value>,
    }
    let Ok(doc) = serde_json::from_reader::<_, Claimed>(std::io::BufReader::new(json)) else {
        return Ok(None);
    };
    let Some(evidence) = doc.evidence else {
        return Ok(None);
    };
    let items = evidence
        .as_array()
        .ok_or_else(|| "\"evidence\" is not an array".to_string())?;
    let mut claims = ReportClaims::default();
    for (i, item) in items.iter().enumerate() {
        let seq = item
            .get("seq")
            .and_then(|s| s.as_u64())
            .ok_or_else(|| format!("evidence[{i}] has no numeric \"seq\""))?;
        let hash = item.get("hash").and_then(|h| h.as_str()).map(str::to_owned);
        claims.cited.push((seq, hash));
    }
    if let Some(att) = doc.attestation {
        claims.tree_size = att.get("tree_size").and_then(|s| s.as_u64());
        claims.root = att.get("root").and_then(|s| s.as_str()).map(str::to_owned);
    }
    Ok(Some(claims))
}

/// One manifest line, as `b3sum` prints it.
fn manifest_line(hash: &blake3::Hash, path: &str) -> String {
    format!("{}  {path}\n", hash.to_hex())
}
