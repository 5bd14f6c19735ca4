//! The ledger: an append-only, hash-chained, Merkle-tree, Ed25519-signed event log in files
//! it owns.
//!
//! The nine invariants of `DESIGN.md`, where each is kept and which test holds it:
//!
//! 1. **Append-only.** The only ways to change a ledger are [`Ledger::append`] (and its
//!    staged and prepared forms, which end in the same commit), [`Ledger::redact`] and
//!    [`Ledger::rotate_key`]; each adds entries in one commit, seqs
//!    `0, 1, 2, …` with no gaps. The store (`store`) is private to this module. Tests:
//!    `tests/tamper.rs` (bytes changed in the files), `tests/crash.rs` (power cuts).
//! 2. **Hash chain.** Entry hash = BLAKE3 derive_key over the canonical bytes, which hold
//!    seq, previous hash, event and raw-record hash; genesis links to a hash of the ledger id
//!    (`entry::chain_hash`, `entry::genesis_link`; many at once, with the same output:
//!    `hash_many`). Tests: `entry::tests` known answer, `hash_many::tests`,
//!    `tests/tamper.rs`.
//! 3. **Merkle tree.** Leaves are the canonical entry bytes in an RFC 6962 SHA-256 tree;
//!    every perfect subtree hash is stored in post-order in `tree` (`store::node_position`).
//!    Tests: `tests/vectors.rs` (RFC 6962 vectors, `tlog_tiles` cross-check of our tiles),
//!    `tlog::merkle::tests` (proptest against a naive tree).
//! 4. **Signed checkpoints.** Every commit ends with a C2SP checkpoint signed with Ed25519
//!    (`tlog::note`). Tests: `tlog::note::tests` (Go note known answers), `tests/vectors.rs`
//!    (`signed_note` cross-check).
//! 5. **Canonical encoding.** postcard 1.x with a format version; decoding re-encodes and
//!    compares (`entry`). Test: `entry::tests`.
//! 6. **Raw records** are kept, addressed and checked by BLAKE3; the chain covers the hash,
//!    so [`Ledger::redact`] can erase the bytes in the same commit that records it. Tests:
//!    `tests/cli.rs` (redact, then verify), `tests/crash.rs` (redaction under power cuts,
//!    `a_torn_erasure_is_finished_by_the_next_writer`).
//! 7. **Durability.** A commit writes its frames to `log` and its tree hashes to `tree`,
//!    syncs `log` (and `tree` when the commit crosses a multiple of 256 entries: hashes
//!    past the last multiple are recomputed from the entries at open, by readers too), then
//!    appends the signed checkpoint to `checkpoints.log` and syncs it: that
//!    append is the commit point, and only then is the commit acknowledged. Everything is
//!    written through `fs::Fs`. On open, bytes past the last logged checkpoint (a commit
//!    that was never acknowledged) are cut away by a writer and ignored by a reader; a
//!    store behind the log refuses to open. A writer's open cuts `tree` and the caches to
//!    what they hold whole and syncs the cut before it writes past it, so a second power
//!    cut cannot bring torn bytes back under new ones
//!    (`a_cache_record_torn_by_one_cut_never_comes_back_whole_after_another`). A torn
//!    checkpoint record is told from damage as `cplog` says. After any error once a commit has started, the
//!    writer refuses further commits until reopened. Small commits write over zeros a
//!    writer wrote ahead of the ends of `log` and `checkpoints.log`, so their syncs need not
//!    grow the files; zeros are no record, and a clean close cuts them
//!    (`small_commits_write_over_zeros_ahead_and_a_clean_close_cuts_them`). One writer at
//!    a time (an OS lock on `LOCK`, naming its holder); readers take no lock and read up
//!    to the last checkpoint.
//!    Tests: `tests/crash.rs` (thousands of random power cuts on `SimFs`, in
//!    `tests/simfs.rs`, which keeps only synced bytes, and of the unsynced ones a prefix
//!    or any 512-byte sectors; injected I/O errors; SIGKILL
//!    rounds), `tests/cli.rs` (lock, a reader during a write).
//! 8. **Tamper evidence.** [`verify::verify`] recomputes every hash, link, root, signature
//!    and cache and names the first bad seq; open already refuses a checkpoint log that is
//!    missing, empty, unsigned or ahead of the store, or that lost acknowledged commits
//!    (more than one whole commit past its last checkpoint: a crash or a live writer
//!    leaves at most one, and a reader counts again after reading the log anew), and a
//!    store whose root differs from the signed one. Tests: the tamper catalogue in
//!    `tests/tamper.rs`; `readers_opened_during_fast_commits_never_report_lost_checkpoints`.
//! 9. **Keys.** The signing key lives in a 0600 file or `AUDITLEDGER_KEY`, never in the
//!    ledger (`keys`); rotation is an entry signed by the old and the new key, and
//!    [`Ledger::open_writer`] finishes a rotation a crash interrupted. Tests: `keys::tests`,
//!    `tests/cli.rs` (rotation, wrong, missing, loose-permission keys).
//!
//! What is assumed of the disk: see `fs`. The byte layout: see `store`.

pub mod cplog;
pub mod entry;
pub mod fs;
mod hash_many;
pub mod keys;
pub mod legacy;
mod store;
pub mod verify;

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use thiserror::Error;

use self::cplog::{CheckpointLog, CheckpointLogError};
use self::entry::{dedup_key, genesis_link, Entry, Payload, FORMAT_VERSION};
use self::fs::{Fs, OsFs};
use self::keys::KeyError;
use self::store::{CommitWrite, NewEntry, Store, StoreError};
pub use self::store::{Meta, RawState, Recovery, StoredEntry, StoredRaw, BUNDLE};
use crate::event::{Event, Timestamp};
use crate::tlog::merkle::to_hex;
use crate::tlog::merkle::{self, CompactRange, Hash, Sha256Hasher, TreeHasher};
use crate::tlog::note::{self, Checkpoint, NoteError, NoteSigner, NoteVerifier};
use crate::tlog::proof;

pub const CHECKPOINT_LOG: &str = "checkpoints.log";
pub const LOCK_FILE: &str = "LOCK";
pub const DEFAULT_KEY_FILE: &str = "signing.key";
/// The files of a ledger directory, for tools that copy or inspect one.
pub use self::store::{DEDUP_FILE, INDEX_FILE, LOG_FILE, META_FILE, TREE_FILE};

#[derive(Debug, Error)]
pub enum LedgerError {
    #[error("{dir} is not a ledger directory (no {META_FILE} file inside); run `auditledger init` first, or point --ledger (or AUDITLEDGER_DIR) at one")]
    NotALedger { dir: PathBuf },
    #[error("{dir} holds a ledger written by an earlier release (sled store); convert it once with `auditledger migrate --ledger {dir}`")]
    Legacy { dir: PathBuf },
    #[error("{dir} already holds a ledger")]
    AlreadyExists { dir: PathBuf },
    #[error("{dir} has a writer already: {lock} is held by {holder}")]
    Locked {
        dir: PathBuf,
        lock: PathBuf,
        holder: String,
    },
    #[error("origin {0:?} is not a valid key name: it must be non-empty, with no spaces or '+'")]
    BadOrigin(String),
    #[error("I/O on {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error(transparent)]
    CheckpointLog(#[from] CheckpointLogError),
    #[error("checkpoint: {0}")]
    Note(#[from] NoteError),
    #[error("the checkpoint log {path} is missing: without it nothing the ledger holds is signed")]
    CheckpointLogMissing { path: PathBuf },
    #[error("the checkpoint log {path} holds no complete checkpoint")]
    CheckpointLogEmpty { path: PathBuf },
    #[error("the checkpoint log's last checkpoint (size {size}) does not verify with the key in force: {problem}")]
    CheckpointUnsigned { size: u64, problem: String },
    #[error("the store holds {store_size} entries but the checkpoint log has a signed checkpoint of size {log_size}: the store lost acknowledged entries (rolled back); first missing seq is {store_size}")]
    RolledBack { store_size: u64, log_size: u64 },
    #[error("the store's tree of size {size} has root {store_root}, but the checkpoint log signed root {log_root} for that size")]
    Forked {
        size: u64,
        store_root: String,
        log_root: String,
    },
    #[error("the ledger is open read-only")]
    ReadOnly,
    #[error("an earlier commit failed in this process; reopen the ledger (opening recovers to the last checkpoint)")]
    Failed,
    #[error("{0}")]
    Invalid(String),
}

impl LedgerError {
    /// The first bad seq, when the error names one.
    pub fn first_bad_seq(&self) -> Option<u64> {
        match self {
            LedgerError::Store(e) => e.first_bad_seq(),
            LedgerError::RolledBack { store_size, .. } => Some(*store_size),
            _ => None,
        }
    }

    /// Whether the error means the ledger is not what was signed (exit code 1), as
    /// opposed to a usage, input or I/O problem (exit code 2).
    pub fn is_integrity(&self) -> bool {
        match self {
            LedgerError::Store(e) => e.is_integrity(),
            LedgerError::CheckpointLog(CheckpointLogError::Corrupt { .. })
            | LedgerError::CheckpointLogMissing { .. }
            | LedgerError::CheckpointLogEmpty { .. }
            | LedgerError::CheckpointUnsigned { .. }
            | LedgerError::RolledBack { .. }
            | LedgerError::Forked { .. } => true,
            _ => false,
        }
    }
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> LedgerError + '_ {
    move |source| LedgerError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The head after the last commit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Head {
    pub size: u64,
    pub head: Hash,
    pub root: Hash,
}

/// One record to append: a normalised event and the raw source bytes it came from.
#[derive(Clone, Debug)]
pub struct NewRecord {
    pub event: Event,
    pub raw: Vec<u8>,
}

/// What a commit did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CommitSummary {
    pub first_seq: u64,
    pub added: u64,
    pub duplicates: u64,
    pub size: u64,
    /// The signed checkpoint that ends the commit; `None` when nothing was added.
    pub checkpoint: Option<String>,
    /// For `append`: per input record, whether it was a duplicate (and so not added).
    pub duplicate_flags: Vec<bool>,
    /// For `append`: records added although an entry had their source id with other content.
    pub conflicts: Vec<IdConflict>,
}

/// What the ledger holds of a record ([`Ledger::lookup`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// Not in the ledger: its id is new.
    New,
    /// Already in the ledger, with the same content.
    Duplicate,
    /// Its id is in the ledger (first at `earlier`) with other content.
    Conflict { earlier: u64 },
}

/// Two entries with the same source and source event id but different content.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct IdConflict {
    /// The entry that had the id first.
    pub earlier: u64,
    /// The entry appended later with the same id.
    pub later: u64,
}

/// How a ledger is opened.
pub enum Access {
    Read,
    Write(Box<NoteSigner>),
}

/// Where a writer's signing key comes from.
pub struct KeySource<'a> {
    pub file: &'a Path,
    /// The key text from the environment, which wins over the file.
    pub env: Option<&'a str>,
}

/// A writer opened by [`Ledger::open_writer`], with what opening had to finish.
pub struct OpenedWriter {
    pub ledger: Ledger,
    /// A key rotation a crash interrupted was completed: the key file now holds the key.
    pub finished_rotation: Option<PathBuf>,
}

/// A [`NewRecord`] with what staging needs of it computed ahead: the raw record's hash,
/// the de-duplication key and the event's canonical encoding. That is most of staging's
/// CPU and needs no ledger, so `ingest` prepares records on its reading thread and the
/// writing thread only decides duplicates, chains, hashes leaves and writes
/// ([`Ledger::stage_prepared`]).
pub struct PreparedRecord {
    raw: Vec<u8>,
    raw_hash: Hash,
    dedup: Hash,
    /// `Payload::Event(event)`, encoded (`entry::encode_event_payload`).
    payload: Vec<u8>,
}

impl NewRecord {
    /// Each record prepared, the raw records hashed many at once, which costs a fifth of
    /// hashing them one by one (`hash_many`).
    pub fn prepare_all(records: Vec<NewRecord>) -> Vec<PreparedRecord> {
        Self::prepare_all_on(1, records)
    }

    /// [`NewRecord::prepare_all`] on `workers` threads, results in order: the shares are
    /// hashed and encoded in parallel, then each record's bytes move into its result.
    fn prepare_all_on(workers: usize, records: Vec<NewRecord>) -> Vec<PreparedRecord> {
        let parts = par_chunks(workers, &records, |share| {
            let raws: Vec<&[u8]> = share.iter().map(|r| r.raw.as_slice()).collect();
            share
                .iter()
                .zip(entry::raw_hashes(&raws))
                .map(|(r, raw_hash)| {
                    let dedup = dedup_key(&r.event, &raw_hash);
                    (raw_hash, dedup, entry::encode_event_payload(&r.event))
                })
                .collect()
        });
        records
            .into_iter()
            .zip(parts)
            .map(|(r, (raw_hash, dedup, payload))| PreparedRecord {
                raw: r.raw,
                raw_hash,
                dedup,
                payload,
            })
            .collect()
    }
}

impl PreparedRecord {
    /// The key `append` de-duplicates by (the source and its event id, else the raw bytes).
    pub fn dedup_key(&self) -> &Hash {
        &self.dedup
    }

    pub fn raw(&self) -> &[u8] {
        &self.raw
    }
}

/// An entry to commit before it has a seq.
struct Pending {
    /// The canonical encoding of the entry's payload.
    payload: Vec<u8>,
    /// The key a rotation entry hands over to.
    new_key: Option<String>,
    raw_hash: Hash,
    raw: RawState,
    dedup: Option<Hash>,
}

impl Pending {
    /// An entry that carries no raw record (a rotation, a redaction, a cursor).
    fn bare(payload: Payload) -> Result<Pending, LedgerError> {
        let new_key = match &payload {
            Payload::KeyRotation { new_key, .. } => Some(new_key.clone()),
            _ => None,
        };
        Ok(Pending {
            payload: postcard::to_stdvec(&payload)
                .map_err(|e| LedgerError::Invalid(format!("entry does not encode: {e}")))?,
            new_key,
            raw_hash: [0; 32],
            raw: RawState::None,
            dedup: None,
        })
    }
}

pub struct Ledger {
    dir: PathBuf,
    store: Store,
    _lock: Option<File>,
    meta: Meta,
    head: Head,
    range: CompactRange,
    /// (first tree size it signs, key), oldest first; starts with the genesis key.
    keys: Vec<(u64, NoteVerifier)>,
    genesis_key: NoteVerifier,
    signer: Option<NoteSigner>,
    cplog: CheckpointLog,
    /// Size → position in the checkpoint log of the checkpoint that ended at that size.
    checkpoints: BTreeMap<u64, usize>,
    recovery: Recovery,
    /// Set when a commit has started and cleared when it is acknowledged: a writer that
    /// failed mid-commit refuses to go on (its in-memory state may be ahead of the files).
    failed: bool,
    /// Entries written after the last commit, not yet durable, signed or visible.
    staged: Option<Staged>,
}

/// A writer that closes cleanly cuts the zeros it wrote ahead of the ends of `log` and
/// `checkpoints.log`, so a closed ledger's files end where their records do. Not after a
/// failed commit (its bytes may be what the checkpoint log names) and never reported: zeros
/// ahead are harmless, and the next writer cuts or reuses them.
impl Drop for Ledger {
    fn drop(&mut self) {
        if self.signer.is_some() && !self.failed {
            let _ = self.store.cut_zeros_ahead();
            let _ = self.cplog.cut_zeros_ahead();
        }
    }
}

/// The state after the staged entries: what the next commit will sign.
struct Staged {
    first_seq: u64,
    size: u64,
    head: Hash,
    range: CompactRange,
    /// Key rotations among the staged entries: (first size the new key signs, key).
    key_changes: Vec<(u64, String)>,
}

impl Ledger {
    pub fn meta(&self) -> &Meta {
        &self.meta
    }
    pub fn head(&self) -> &Head {
        &self.head
    }
    pub fn size(&self) -> u64 {
        self.head.size
    }
    /// The verifier keys of the ledger in order, each with the first tree size it signs.
    pub fn key_history(&self) -> &[(u64, NoteVerifier)] {
        &self.keys
    }
    pub fn current_key(&self) -> &NoteVerifier {
        self.keys.last().map_or(&self.genesis_key, |(_, k)| k)
    }
    pub fn checkpoint_log(&self) -> &[String] {
        self.cplog.notes()
    }
    /// What opening found and repaired (a writer's recovery after a crash).
    pub fn recovery(&self) -> &Recovery {
        &self.recovery
    }
    /// Bytes on disk per file of the ledger directory (`checkpoints.log` included).
    pub fn file_sizes(&self) -> Vec<(&'static str, u64)> {
        self.store.file_sizes()
    }

    /// How many threads a commit's hashing and compression use; every core by default. A
    /// caller that keeps a core busy itself (ingest's reading thread) gives fewer: on two
    /// cores a third thread only contends, and starting threads for every batch costs more
    /// than it saves.
    pub fn workers(&self) -> usize {
        self.store.workers()
    }

    pub fn set_workers(&mut self, workers: usize) {
        self.store.set_workers(workers);
    }

    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    /// Takes the writer lock and records who holds it.
    fn lock(dir: &Path) -> Result<File, LedgerError> {
        let path = dir.join(LOCK_FILE);
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .map_err(io_err(&path))?;
        match file.try_lock() {
            Ok(()) => {
                let me = format!("pid {}\n", std::process::id());
                file.set_len(0)
                    .and_then(|_| file.write_all(me.as_bytes()))
                    .map_err(io_err(&path))?;
                Ok(file)
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                let holder = std::fs::read_to_string(&path)
                    .ok()
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .unwrap_or_else(|| "another process".into());
                Err(LedgerError::Locked {
                    dir: dir.to_path_buf(),
                    lock: path,
                    holder,
                })
            }
            Err(std::fs::TryLockError::Error(e)) => Err(LedgerError::Io { path, source: e }),
        }
    }

    /// Creates a ledger in `dir` signed by `signer`, whose key name must be the origin.
    pub fn init(dir: &Path, signer: NoteSigner) -> Result<Ledger, LedgerError> {
        if dir.join(META_FILE).exists() || dir.join(legacy::SLED_DIR).exists() {
            return Err(LedgerError::AlreadyExists {
                dir: dir.to_path_buf(),
            });
        }
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        let lock = Self::lock(dir)?;
        let mut ledger = Self::init_on(Arc::new(OsFs), dir, signer)?;
        ledger._lock = Some(lock);
        Ok(ledger)
    }

    /// [`Ledger::init`] on any file layer, without the OS lock (the power-cut tests use
    /// `SimFs`, in `tests/simfs.rs`).
    pub fn init_on(fs: Arc<dyn Fs>, dir: &Path, signer: NoteSigner) -> Result<Ledger, LedgerError> {
        let origin = signer.verifier().name.clone();
        if !note::is_valid_name(&origin) {
            return Err(LedgerError::BadOrigin(origin));
        }
        if fs.exists(&dir.join(META_FILE)) {
            return Err(LedgerError::AlreadyExists {
                dir: dir.to_path_buf(),
            });
        }
        fs.create_dir_all(dir).map_err(io_err(dir))?;
        // The directory's own name must be durable too, or a power cut can lose the ledger.
        let parent = match dir.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        fs.sync_dir(parent).map_err(io_err(parent))?;
        let mut ledger_id = [0u8; 16];
        getrandom::getrandom(&mut ledger_id)
            .map_err(|e| LedgerError::Invalid(format!("OS random source failed: {e}")))?;
        let meta = Meta {
            format_version: FORMAT_VERSION,
            ledger_id,
            origin,
            genesis_key: signer.verifier().to_string(),
        };
        let store = Store::create(fs.clone(), dir, Some(&meta))?;
        let cplog = CheckpointLog::open(fs.as_ref(), &dir.join(CHECKPOINT_LOG), true)?;
        // Every file exists now: one directory sync makes all their names durable.
        fs.sync_dir(dir).map_err(io_err(dir))?;
        let mut ledger = Ledger {
            dir: dir.to_path_buf(),
            store,
            _lock: None,
            head: Head {
                size: 0,
                head: genesis_link(&meta.ledger_id),
                root: Sha256Hasher.empty(),
            },
            meta,
            range: CompactRange::new(),
            keys: vec![(0, signer.verifier().clone())],
            genesis_key: signer.verifier().clone(),
            signer: Some(signer),
            cplog,
            checkpoints: BTreeMap::new(),
            recovery: Recovery::default(),
            failed: false,
            staged: None,
        };
        // The commit of nothing: the checkpoint of size 0 and its marker.
        ledger.commit(Vec::new(), Vec::new(), &[])?;
        Ok(ledger)
    }

    /// Opens an existing ledger. A reader takes no lock; a writer takes the lock and must
    /// hold the ledger's current key.
    pub fn open(dir: &Path, access: Access) -> Result<Ledger, LedgerError> {
        let lock = match access {
            Access::Read => None,
            Access::Write(_) => {
                Self::check_is_ledger(&OsFs, dir)?;
                Some(Self::lock(dir)?)
            }
        };
        let mut ledger = Self::open_on(Arc::new(OsFs), dir, access)?;
        ledger._lock = lock;
        Ok(ledger)
    }

    fn check_is_ledger(fs: &dyn Fs, dir: &Path) -> Result<(), LedgerError> {
        if fs.exists(&dir.join(META_FILE)) {
            Ok(())
        } else if fs.exists(&dir.join(legacy::SLED_DIR)) {
            Err(LedgerError::Legacy {
                dir: dir.to_path_buf(),
            })
        } else {
            Err(LedgerError::NotALedger {
                dir: dir.to_path_buf(),
            })
        }
    }

    /// The genesis key named in `dir`'s meta file, read without opening the ledger: what
    /// its default key file is named by (`app::default_key_path`).
    pub fn genesis_key(dir: &Path) -> Result<NoteVerifier, LedgerError> {
        Ledger::check_is_ledger(&OsFs, dir)?;
        let meta = Store::read_meta(&OsFs, dir)?;
        NoteVerifier::parse(&meta.genesis_key)
            .map_err(|e| LedgerError::Invalid(format!("the genesis key in {}: {e}", dir.display())))
    }

    /// Opens a writer with the key from `key`, finishing a key rotation that a crash
    /// interrupted: when the ledger's current key is the one staged beside the key file
    /// (`<key file>.new`), the staged file replaces the key file.
    pub fn open_writer(dir: &Path, key: KeySource<'_>) -> Result<OpenedWriter, LedgerError> {
        // A missing ledger is the problem to name, not the missing key beside it.
        Ledger::check_is_ledger(&OsFs, dir)?;
        let signer = keys::load_signer(key.file, key.env)?;
        match Ledger::open(dir, Access::Write(Box::new(signer))) {
            Err(wrong @ LedgerError::Key(KeyError::WrongKey { .. })) => {
                let staged = keys::staged_key_path(key.file);
                if key.env.is_some() || !staged.is_file() {
                    return Err(wrong);
                }
                let new = keys::load_signer(&staged, None)?;
                let ledger = match Ledger::open(dir, Access::Write(Box::new(new))) {
                    Ok(l) => l,
                    Err(LedgerError::Key(_)) => return Err(wrong),
                    Err(e) => return Err(e),
                };
                keys::replace_key_file(&staged, key.file)?;
                Ok(OpenedWriter {
                    ledger,
                    finished_rotation: Some(key.file.to_path_buf()),
                })
            }
            other => Ok(OpenedWriter {
                ledger: other?,
                finished_rotation: None,
            }),
        }
    }

    /// [`Ledger::open`] on any file layer, without the OS lock.
    pub fn open_on(fs: Arc<dyn Fs>, dir: &Path, access: Access) -> Result<Ledger, LedgerError> {
        Self::check_is_ledger(fs.as_ref(), dir)?;
        let writable = matches!(access, Access::Write(_));
        let meta = Store::read_meta(fs.as_ref(), dir)?;
        let log_path = dir.join(CHECKPOINT_LOG);
        if !fs.exists(&log_path) {
            return Err(LedgerError::CheckpointLogMissing { path: log_path });
        }
        let cplog = CheckpointLog::open(fs.as_ref(), &log_path, writable)?;
        let mut checkpoints = BTreeMap::new();
        let mut last: Option<Checkpoint> = None;
        for (i, text) in cplog.notes().iter().enumerate() {
            let body =
                Checkpoint::parse_unverified(text).map_err(|_| CheckpointLogError::Corrupt {
                    path: log_path.clone(),
                    offset: i as u64,
                    problem: "a record is not a checkpoint note",
                })?;
            if body.origin != meta.origin {
                return Err(LedgerError::CheckpointUnsigned {
                    size: body.size,
                    problem: format!(
                        "it names origin {:?}, the ledger is {:?}",
                        body.origin, meta.origin
                    ),
                });
            }
            if last.as_ref().is_some_and(|l| body.size < l.size) {
                return Err(LedgerError::CheckpointUnsigned {
                    size: body.size,
                    problem: "checkpoint sizes go backwards in the log".into(),
                });
            }
            checkpoints.insert(body.size, i);
            last = Some(body);
        }
        let Some(last) = last else {
            return Err(LedgerError::CheckpointLogEmpty { path: log_path });
        };
        let (store, recovery) = match Store::open(fs.clone(), dir, last.size, writable) {
            Err(StoreError::Behind { found, signed }) => {
                return Err(LedgerError::RolledBack {
                    store_size: found,
                    log_size: signed,
                })
            }
            other => other?,
        };
        if !writable && store.unsigned_commits().len() > 1 {
            // A live writer's one commit in flight may lie past the checkpoint this reader
            // read, and commits it signed since; read the checkpoint log again, after the
            // store, so that only lost checkpoints leave more than one unsigned.
            let newest = CheckpointLog::open(fs.as_ref(), &log_path, false)?
                .notes()
                .last()
                .and_then(|text| Checkpoint::parse_unverified(text).ok())
                .map_or(last.size, |c| c.size.max(last.size));
            let commits = store
                .unsigned_commits()
                .iter()
                .filter(|size| **size > newest)
                .count() as u64;
            if commits > 1 {
                return Err(StoreError::Unsigned {
                    signed: newest,
                    commits,
                }
                .into());
            }
        }
        let genesis_key = NoteVerifier::parse(&meta.genesis_key)?;
        let mut keys = vec![(0, genesis_key.clone())];
        for (from, text) in store.key_changes() {
            keys.push((*from, NoteVerifier::parse(text)?));
        }
        let range = CompactRange::load(&store, last.size)?;
        let root = range.root(&Sha256Hasher);
        if root != last.root {
            return Err(LedgerError::Forked {
                size: last.size,
                store_root: to_hex(&root),
                log_root: to_hex(&last.root),
            });
        }
        let key_at_last = key_in_force(&keys, last.size)?.clone();
        let last_note = cplog.last().unwrap_or_default();
        Checkpoint::open(last_note, std::slice::from_ref(&key_at_last)).map_err(|e| {
            LedgerError::CheckpointUnsigned {
                size: last.size,
                problem: format!("{e} (key in force: {key_at_last})"),
            }
        })?;
        let head = match last.size.checked_sub(1) {
            None => genesis_link(&meta.ledger_id),
            Some(seq) => store.read_entry(seq)?.chain,
        };
        let signer = match access {
            Access::Read => None,
            Access::Write(s) => {
                let current = key_in_force(&keys, u64::MAX)?;
                if s.verifier() != current {
                    return Err(KeyError::WrongKey {
                        origin: "the signing key".into(),
                        got: s.verifier().to_string(),
                        expected: current.to_string(),
                    }
                    .into());
                }
                Some(*s)
            }
        };
        Ok(Ledger {
            dir: dir.to_path_buf(),
            store,
            _lock: None,
            meta,
            head: Head {
                size: last.size,
                head,
                root,
            },
            range,
            keys,
            genesis_key,
            signer,
            cplog,
            checkpoints,
            recovery,
            failed: false,
            staged: None,
        })
    }

    pub fn verifiers(&self) -> Vec<NoteVerifier> {
        self.keys.iter().map(|(_, k)| k.clone()).collect()
    }

    /// The root of the first `size` entries: O(log n) reads.
    pub fn root_at(&self, size: u64) -> Result<Hash, LedgerError> {
        if size > self.head.size {
            return Err(LedgerError::Invalid(format!(
                "size {size} is beyond the ledger's {} entries",
                self.head.size
            )));
        }
        Ok(merkle::range_hash(&Sha256Hasher, &self.store, 0, size)?)
    }

    /// The C2SP tlog-tiles tile (level, index) of the current tree, its bytes as a
    /// tiles client expects them (`tile/<level>/<index>`, partial when short).
    pub fn tile(&self, level: u32, index: u64) -> Result<Vec<u8>, LedgerError> {
        Ok(self.store.tile(level, index, self.head.size)?)
    }

    /// The signed checkpoint logged for `size`, if a commit ended there.
    pub fn checkpoint_at(&self, size: u64) -> Result<Option<String>, LedgerError> {
        Ok(self
            .checkpoints
            .get(&size)
            .and_then(|&i| self.cplog.notes().get(i))
            .cloned())
    }

    pub fn latest_checkpoint(&self) -> Result<String, LedgerError> {
        self.checkpoint_at(self.head.size)?.ok_or_else(|| {
            LedgerError::Invalid(format!("no checkpoint logged for size {}", self.head.size))
        })
    }

    pub fn read_entry(&self, seq: u64) -> Result<StoredEntry, LedgerError> {
        if seq >= self.head.size {
            return Err(LedgerError::Invalid(format!(
                "seq {seq} is beyond the ledger's {} entries",
                self.head.size
            )));
        }
        Ok(self.store.read_entry(seq)?)
    }

    /// Entries `from..from+limit`, checked as they are read, in seq order.
    pub fn entries(
        &self,
        from: u64,
        limit: u64,
    ) -> impl Iterator<Item = Result<StoredEntry, LedgerError>> + '_ {
        let end = from.saturating_add(limit).min(self.head.size);
        let mut frame: std::vec::IntoIter<StoredEntry> = Vec::new().into_iter();
        let mut seq = from;
        std::iter::from_fn(move || {
            if seq >= end {
                return None;
            }
            loop {
                match frame.next() {
                    Some(e) if e.entry.seq < seq => continue,
                    Some(e) => {
                        seq += 1;
                        return Some(Ok(e));
                    }
                    None => match self.store.read_frame_entries(seq) {
                        Ok(v) if !v.is_empty() => frame = v.into_iter(),
                        Ok(_) => {
                            seq = end;
                            return Some(Err(StoreError::BadEntry {
                                seq,
                                problem: "entry is missing".into(),
                            }
                            .into()));
                        }
                        Err(e) => {
                            seq = end;
                            return Some(Err(e.into()));
                        }
                    },
                }
            }
        })
    }

    /// The raw record of entry `seq`.
    pub fn raw_record(&self, seq: u64) -> Result<RawState, LedgerError> {
        if seq >= self.head.size {
            return Err(LedgerError::Invalid(format!(
                "seq {seq} is beyond the ledger's {} entries",
                self.head.size
            )));
        }
        self.raw_record_staged(seq)
    }

    /// [`Ledger::raw_record`], staged entries included (for de-duplication).
    fn raw_record_staged(&self, seq: u64) -> Result<RawState, LedgerError> {
        let (first, raws) = self.store.read_frame_raws(seq)?;
        raws.into_iter()
            .nth((seq - first) as usize)
            .map(|r| r.state)
            .ok_or_else(|| {
                StoreError::BadRaw {
                    seq,
                    problem: "missing".into(),
                }
                .into()
            })
    }

    fn signer(&self) -> Result<&NoteSigner, LedgerError> {
        if self.failed {
            return Err(LedgerError::Failed);
        }
        self.signer.as_ref().ok_or(LedgerError::ReadOnly)
    }

    /// The stored entries whose de-duplication key is `key` (the same source id, or the same
    /// raw bytes for records without one), in seq order, among the `candidates` the prefix
    /// index gave: each is confirmed against the entry. `cache` keeps the last frame read,
    /// so re-ingesting a file reads each frame once.
    fn entries_with_key(
        &self,
        key: &Hash,
        candidates: &[u64],
        cache: &mut Vec<StoredEntry>,
    ) -> Result<Vec<StoredEntry>, LedgerError> {
        let mut found = Vec::new();
        for &seq in candidates {
            if !cache.iter().any(|e| e.entry.seq == seq) {
                *cache = self.store.read_frame_entries(seq)?;
            }
            let Some(entry) = cache.iter().find(|e| e.entry.seq == seq).cloned() else {
                continue;
            };
            if let Some(ev) = entry.entry.event() {
                if &dedup_key(ev, &entry.entry.raw_hash) == key {
                    found.push(entry);
                }
            }
        }
        found.sort_by_key(|e| e.entry.seq);
        Ok(found)
    }

    /// Whether a stored entry holds the same record as the event encoded as `payload` from
    /// `raw`: the same raw bytes, else the same JSON once keys are sorted and whitespace
    /// dropped (a hook delivery and an API page format the same event differently), else,
    /// when the stored raw record was redacted, the same normalised event.
    fn same_record(
        &self,
        stored: &StoredEntry,
        raw: &[u8],
        raw_hash: &Hash,
        payload: &[u8],
    ) -> Result<bool, LedgerError> {
        if &stored.entry.raw_hash == raw_hash {
            return Ok(true);
        }
        match self.raw_record_staged(stored.entry.seq)? {
            RawState::Kept(bytes) => Ok(entry::same_content(&bytes, raw)),
            RawState::Redacted | RawState::None => {
                let event = postcard::from_bytes::<Payload>(payload).ok();
                Ok(event.is_some_and(|p| p == stored.entry.payload))
            }
        }
    }

    /// Appends events in one durable commit (with anything staged before): [`Ledger::stage`]
    /// then [`Ledger::commit_staged`].
    pub fn append(&mut self, records: Vec<NewRecord>) -> Result<CommitSummary, LedgerError> {
        let staged = self.stage(records)?;
        self.commit_with(staged)
    }

    /// [`Ledger::append`] for records prepared ahead ([`NewRecord::prepare_all`]), which a
    /// caller does on another thread while this one commits.
    pub fn append_prepared(
        &mut self,
        records: Vec<PreparedRecord>,
    ) -> Result<CommitSummary, LedgerError> {
        let staged = self.stage_prepared(records)?;
        self.commit_with(staged)
    }

    /// Commits what was staged, reporting the staging's duplicates and conflicts.
    fn commit_with(&mut self, staged: CommitSummary) -> Result<CommitSummary, LedgerError> {
        let mut summary = self.commit_staged()?;
        summary.duplicates = staged.duplicates;
        summary.duplicate_flags = staged.duplicate_flags;
        summary.conflicts = staged.conflicts;
        Ok(summary)
    }

    /// Commits everything staged in one durable commit ending in a signed checkpoint.
    pub fn commit_staged(&mut self) -> Result<CommitSummary, LedgerError> {
        self.seal(Vec::new(), &[])
    }

    /// Drops everything staged since the last commit: the writer reopens itself, which cuts
    /// the staged bytes from the files as recovery after a crash would.
    pub fn discard_staged(&mut self) -> Result<(), LedgerError> {
        if self.staged.is_none() && !self.failed {
            return Ok(());
        }
        let signer = self.signer.take().ok_or(LedgerError::ReadOnly)?;
        let lock = self._lock.take();
        let fs = self.store.fs();
        self.staged = None;
        self.failed = true;
        let mut fresh = Ledger::open_on(fs, &self.dir, Access::Write(Box::new(signer)))?;
        fresh._lock = lock;
        *self = fresh;
        Ok(())
    }

    /// A staging that starts at the last commit and holds nothing yet.
    fn nothing_staged(&self) -> Staged {
        Staged {
            first_seq: self.head.size,
            size: self.head.size,
            head: self.head.head,
            range: self.range.clone(),
            key_changes: Vec::new(),
        }
    }

    /// The seq the next staged entry gets.
    fn next_seq(&self) -> u64 {
        self.staged.as_ref().map_or(self.head.size, |s| s.size)
    }

    /// Writes events after the last commit without committing them: they are neither
    /// durable, signed nor visible to readers until [`Ledger::commit_staged`], and
    /// [`Ledger::discard_staged`] or a crash removes them. A whole file can so be one commit
    /// without holding it in memory. A record already in the ledger or staged (the same
    /// source event id and the same content, or the same raw bytes when the source has no
    /// id) is skipped and counted. A record whose id is already taken by different content
    /// is staged and reported in [`CommitSummary::conflicts`]: dropping it would let a
    /// backdated copy hide the real event, or the real event hide a forgery.
    pub fn stage(&mut self, records: Vec<NewRecord>) -> Result<CommitSummary, LedgerError> {
        self.signer()?;
        self.stage_prepared(NewRecord::prepare_all_on(self.store.workers(), records))
    }

    /// [`Ledger::stage`] for records prepared ahead ([`NewRecord::prepare_all`]).
    pub fn stage_prepared(
        &mut self,
        records: Vec<PreparedRecord>,
    ) -> Result<CommitSummary, LedgerError> {
        self.signer()?;
        let store = &self.store;
        let candidates = par_map(store.workers(), &records, |r| {
            store.dedup_candidates(&r.dedup)
        });
        self.stage_with(records, candidates)
    }

    /// Stages `records`, given the seqs the de-duplication index holds for each one's key.
    fn stage_with(
        &mut self,
        records: Vec<PreparedRecord>,
        candidates: Vec<Result<Vec<u64>, StoreError>>,
    ) -> Result<CommitSummary, LedgerError> {
        let first_seq = self.next_seq();
        // This batch's records by key: the first one's position in `pending`, and any
        // others' (rare: the same id twice in one batch).
        let mut batch: store::UniformMap<Hash, (usize, Vec<usize>)> = Default::default();
        let mut pending: Vec<Pending> = Vec::with_capacity(records.len());
        let mut duplicates = 0;
        let mut duplicate_flags = Vec::with_capacity(records.len());
        let mut conflicts = Vec::new();
        let mut cache = Vec::new();
        for (r, candidates) in records.into_iter().zip(candidates) {
            let (rh, dk) = (r.raw_hash, r.dedup);
            let (mut dup, mut earlier) = match self.against_stored(&r, &candidates?, &mut cache)? {
                Lookup::Duplicate => (true, None),
                Lookup::Conflict { earlier } => (false, Some(earlier)),
                Lookup::New => (false, None),
            };
            if !dup {
                let in_batch = batch
                    .get(&dk)
                    .map(|(first, more)| std::iter::once(first).chain(more));
                for &i in in_batch.into_iter().flatten() {
                    let Some(p) = pending.get(i) else { continue };
                    let same = p.raw_hash == rh
                        || matches!(&p.raw, RawState::Kept(raw) if entry::same_content(raw, &r.raw));
                    if same {
                        dup = true;
                        break;
                    }
                    earlier.get_or_insert(first_seq + i as u64);
                }
            }
            duplicate_flags.push(dup);
            if dup {
                duplicates += 1;
                continue;
            }
            let index = pending.len();
            if let Some(earlier) = earlier {
                conflicts.push(IdConflict {
                    earlier,
                    later: first_seq + index as u64,
                });
            }
            batch
                .entry(dk)
                .and_modify(|(_, more)| more.push(index))
                .or_insert((index, Vec::new()));
            pending.push(Pending {
                payload: r.payload,
                new_key: None,
                raw_hash: rh,
                raw: RawState::Kept(r.raw),
                dedup: Some(dk),
            });
        }
        let added = pending.len() as u64;
        self.stage_pending(pending)?;
        Ok(CommitSummary {
            first_seq,
            added,
            duplicates,
            size: self.next_seq(),
            checkpoint: None,
            duplicate_flags,
            conflicts,
        })
    }

    /// Stages a live intake stream's cursor after the events it covers (see
    /// [`Payload::Cursor`]): committing them together is what makes a pull resumable
    /// without skipping or repeating.
    pub fn stage_cursor(
        &mut self,
        stream: &str,
        position: &str,
        at: Timestamp,
    ) -> Result<(), LedgerError> {
        self.stage_pending(vec![Pending::bare(Payload::Cursor {
            stream: stream.to_string(),
            position: position.to_string(),
            at,
        })?])
    }

    /// The latest committed cursor of each of `streams` that has one: (seq, position).
    /// Reads frames from the newest back and stops once every stream is found, so a
    /// service that commits often starts in a few reads.
    pub fn cursors(
        &self,
        streams: &[String],
    ) -> Result<BTreeMap<String, (u64, String)>, LedgerError> {
        let mut found: BTreeMap<String, (u64, String)> = BTreeMap::new();
        let mut i = self.store.entry_frame_count();
        while i > 0 && found.len() < streams.len() {
            i -= 1;
            let Some((first, _)) = self.store.entry_frame_span(i) else {
                break;
            };
            if first >= self.head.size {
                continue;
            }
            for e in self.store.read_frame_entries(first)?.into_iter().rev() {
                if e.entry.seq >= self.head.size {
                    continue;
                }
                if let Payload::Cursor {
                    stream, position, ..
                } = e.entry.payload
                {
                    if streams.contains(&stream) && !found.contains_key(&stream) {
                        found.insert(stream, (e.entry.seq, position));
                    }
                }
            }
        }
        Ok(found)
    }

    /// What `append` would decide about each record against the ledger alone: for dry
    /// runs, which must report the duplicates and id conflicts a real run would. Records
    /// are looked up together, as `append` stages them, so the entries frame read for one
    /// serves the next: a record at a time, a dry run over an export already ingested
    /// decompressed a frame per record (40x slower than the real run).
    pub fn lookup(&self, records: &[PreparedRecord]) -> Result<Vec<Lookup>, LedgerError> {
        let mut cache = Vec::new();
        records
            .iter()
            .map(|r| {
                let candidates = self.store.dedup_candidates(&r.dedup)?;
                self.against_stored(r, &candidates, &mut cache)
            })
            .collect()
    }

    /// How `record` stands against the stored entries among `candidates` (`cache` holds
    /// the entries frame read last, shared across a batch). One decision for `append` and
    /// for `lookup`, so a dry run decides as the real run does.
    fn against_stored(
        &self,
        record: &PreparedRecord,
        candidates: &[u64],
        cache: &mut Vec<StoredEntry>,
    ) -> Result<Lookup, LedgerError> {
        let mut earlier = None;
        for s in self.entries_with_key(&record.dedup, candidates, cache)? {
            if self.same_record(&s, &record.raw, &record.raw_hash, &record.payload)? {
                return Ok(Lookup::Duplicate);
            }
            earlier.get_or_insert(s.entry.seq);
        }
        Ok(earlier.map_or(Lookup::New, |earlier| Lookup::Conflict { earlier }))
    }

    /// Every pair of entries in `0..size` that carry the same source and source event id
    /// with different content: (first entry, each later one). `append` stores such a
    /// record rather than dropping it; `check` reports each pair as an integrity finding.
    pub fn id_conflicts(&self, size: u64) -> Result<Vec<IdConflict>, LedgerError> {
        let mut out = Vec::new();
        for group in self.store.dedup_repeats()? {
            let mut by_key: BTreeMap<Hash, Vec<u64>> = BTreeMap::new();
            for seq in group.into_iter().filter(|s| *s < size) {
                let stored = self.store.read_entry(seq)?;
                if let Some(ev) = stored.entry.event() {
                    if ev.source_id.is_some() {
                        let key = dedup_key(ev, &stored.entry.raw_hash);
                        by_key.entry(key).or_default().push(seq);
                    }
                }
            }
            for mut seqs in by_key.into_values() {
                seqs.sort_unstable();
                if let Some((&earlier, later)) = seqs.split_first() {
                    out.extend(later.iter().map(|&later| IdConflict { earlier, later }));
                }
            }
        }
        out.sort_by_key(|c| (c.earlier, c.later));
        Ok(out)
    }

    /// Writes `pending` (and raw bundles a redaction rewrites) as one atomic, durable commit
    /// ending in a signed checkpoint, together with anything staged before it.
    /// `extra_signers` co-sign it (the old key, on rotation).
    fn commit(
        &mut self,
        pending: Vec<Pending>,
        replaced_raws: Vec<(u64, Vec<StoredRaw>)>,
        extra_signers: &[&NoteSigner],
    ) -> Result<CommitSummary, LedgerError> {
        self.stage_pending(pending)?;
        self.seal(replaced_raws, extra_signers)
    }

    /// Writes entries after the last commit (or the last staged entry) without making
    /// them durable, signed or visible: see [`Ledger::stage`].
    fn stage_pending(&mut self, pending: Vec<Pending>) -> Result<(), LedgerError> {
        self.signer()?;
        if pending.is_empty() {
            return Ok(());
        }
        let mut staged = match self.staged.take() {
            Some(s) => s,
            None => self.nothing_staged(),
        };
        let hasher = Sha256Hasher;
        let first_seq = staged.size;
        let mut entries = Vec::with_capacity(pending.len());
        let mut tree_nodes = Vec::with_capacity(pending.len() * 2);
        // The chain links each entry to the one before, so entries are assembled (their
        // payloads were encoded ahead) and chained in one pass; leaf hashing is parallel.
        let mut encoded = Vec::with_capacity(pending.len());
        for p in &pending {
            let canonical =
                Entry::encode_with_payload(staged.size, &staged.head, &p.raw_hash, &p.payload);
            staged.head = entry::chain_hash(&canonical);
            staged.size += 1;
            encoded.push(canonical);
        }
        let leaves = par_map(self.store.workers(), &encoded, |c| hasher.leaf(c));
        for ((p, canonical), leaf) in pending.into_iter().zip(encoded).zip(leaves) {
            if let Some(new_key) = p.new_key {
                let seq = first_seq + entries.len() as u64;
                staged.key_changes.push((seq + 1, new_key));
            }
            store::push_leaf(&mut staged.range, leaf, &mut tree_nodes);
            entries.push(NewEntry {
                canonical,
                raw_hash: p.raw_hash,
                raw: p.raw,
                dedup: p.dedup,
            });
        }
        // From the first write on, a failure leaves the files ahead of memory: stop.
        self.failed = true;
        let written = self.store.write_frames(&CommitWrite {
            first_seq,
            entries: &entries,
            tree_nodes: &tree_nodes,
        })?;
        self.store.acknowledge(written)?;
        self.staged = Some(staged);
        self.failed = false;
        Ok(())
    }

    /// Commits everything staged: the commit marker, `fdatasync` of the log (and of the tree
    /// at a 256-entry boundary, `store::TREE_SYNC_EVERY`), then the
    /// signed checkpoint appended to the checkpoint log and synced (the commit point).
    fn seal(
        &mut self,
        replaced_raws: Vec<(u64, Vec<StoredRaw>)>,
        extra_signers: &[&NoteSigner],
    ) -> Result<CommitSummary, LedgerError> {
        let initial = self.head.size == 0 && self.checkpoints.is_empty();
        let Some(staged) = self
            .staged
            .take()
            .or_else(|| (initial || !replaced_raws.is_empty()).then(|| self.nothing_staged()))
        else {
            return Ok(CommitSummary {
                first_seq: self.head.size,
                size: self.head.size,
                ..Default::default()
            });
        };
        let signer = self.signer()?.clone();
        let root = staged.range.root(&Sha256Hasher);
        let mut keys = self.keys.clone();
        for (from, text) in &staged.key_changes {
            keys.push((*from, NoteVerifier::parse(text)?));
        }
        let mut signers: Vec<&NoteSigner> = extra_signers.to_vec();
        signers.push(&signer);
        let note = Checkpoint {
            origin: self.meta.origin.clone(),
            size: staged.size,
            root,
            time: Some(Timestamp::now_seconds()),
        }
        .sign(&signers);
        self.failed = true;
        let written = self
            .store
            .write_seal(staged.size, &replaced_raws, &staged.key_changes)?;
        self.cplog.append(&note)?;
        self.store.acknowledge(written)?;
        self.checkpoints
            .insert(staged.size, self.cplog.notes().len() - 1);
        self.head = Head {
            size: staged.size,
            head: staged.head,
            root,
        };
        self.range = staged.range;
        self.keys = keys;
        self.failed = false;
        Ok(CommitSummary {
            first_seq: staged.first_seq,
            added: staged.size - staged.first_seq,
            size: staged.size,
            checkpoint: Some(note),
            ..Default::default()
        })
    }

    /// Replaces the signing key: appends a rotation entry signed by both keys, and a
    /// checkpoint signed by both. Returns the commit; see [`Ledger::rotate_key_file`] for
    /// the whole hand-over including the key file.
    pub fn rotate_key(&mut self, new: NoteSigner) -> Result<CommitSummary, LedgerError> {
        let old = self.signer()?.clone();
        if new.verifier().name != self.meta.origin {
            return Err(LedgerError::Invalid(format!(
                "the new key is named {:?}; it must be named after the origin {:?}",
                new.verifier().name,
                self.meta.origin
            )));
        }
        if new.verifier() == old.verifier() {
            return Err(LedgerError::Invalid(
                "the new key is the current key".into(),
            ));
        }
        let statement = keys::rotation_statement(
            &self.meta.origin,
            self.head.size,
            &self.head.head,
            old.verifier(),
            new.verifier(),
        );
        let payload = Payload::KeyRotation {
            old_key: old.verifier().to_string(),
            new_key: new.verifier().to_string(),
            old_signature: old.sign_bytes(statement.as_bytes()),
            new_signature: new.sign_bytes(statement.as_bytes()),
            at: Timestamp::now(),
        };
        let pending = Pending::bare(payload)?;
        self.signer = Some(new);
        let result = self.commit(vec![pending], Vec::new(), &[&old]);
        if result.is_err() {
            self.signer = Some(old);
        }
        result
    }

    /// The whole key hand-over: a new key is generated and staged durably beside the key
    /// file (`<key file>.new`, 0600), the rotation is committed, and the staged file
    /// replaces the key file (or stays at `new_key_file` when given). A crash after the
    /// commit is finished by [`Ledger::open_writer`]. Returns the commit and where the new
    /// key is.
    pub fn rotate_key_file(
        &mut self,
        key_file: &Path,
        new_key_file: Option<&Path>,
    ) -> Result<(CommitSummary, NoteSigner, PathBuf), LedgerError> {
        let new = NoteSigner::generate(&self.meta.origin)?;
        let staged = match new_key_file {
            Some(p) => p.to_path_buf(),
            None => keys::staged_key_path(key_file),
        };
        keys::write_key_file(&staged, &new)?;
        let summary = self.rotate_key(new.clone())?;
        if new_key_file.is_some() {
            return Ok((summary, new, staged));
        }
        keys::replace_key_file(&staged, key_file)?;
        Ok((summary, new, key_file.to_path_buf()))
    }

    /// Erases the bytes of every raw record with `raw_hash` (an erasure request) in the
    /// same commit that records the redaction. The hash stays in the chain, so `verify`
    /// still passes.
    pub fn redact(&mut self, target: &Hash, reason: &str) -> Result<CommitSummary, LedgerError> {
        self.signer()?;
        if reason.trim().is_empty() {
            return Err(LedgerError::Invalid("a redaction needs a reason".into()));
        }
        // Redaction is rare, so a scan is acceptable; it spares a per-event index.
        let mut hits: Vec<u64> = Vec::new();
        for e in self.entries(0, self.head.size) {
            let e = e?;
            if &e.entry.raw_hash == target && e.entry.event().is_some() {
                hits.push(e.entry.seq);
            }
        }
        let mut replaced: Vec<(u64, Vec<StoredRaw>)> = Vec::new();
        for seq in &hits {
            if replaced
                .last()
                .is_some_and(|(first, raws)| *seq < first + raws.len() as u64)
            {
                continue;
            }
            let (first, mut raws) = self.store.read_frame_raws(*seq)?;
            let mut changed = false;
            for (i, r) in raws.iter_mut().enumerate() {
                if hits.contains(&(first + i as u64)) && matches!(r.state, RawState::Kept(_)) {
                    r.state = RawState::Redacted;
                    changed = true;
                }
            }
            if changed {
                replaced.push((first, raws));
            }
        }
        if replaced.is_empty() {
            let seqs: Vec<String> = hits.iter().map(|s| format!("#{s}")).collect();
            return Err(LedgerError::Invalid(if hits.is_empty() {
                format!("no entry holds raw record {}", to_hex(target))
            } else {
                format!(
                    "raw record {} is already redacted (held by entry {})",
                    to_hex(target),
                    seqs.join(", ")
                )
            }));
        }
        let payload = Payload::Redaction {
            raw_hash: *target,
            reason: reason.to_string(),
            at: Timestamp::now(),
        };
        let summary = self.commit(vec![Pending::bare(payload)?], replaced, &[])?;
        // The redaction is committed; now the old bytes go. A crash before this is
        // finished by the next writer's open.
        self.failed = true;
        self.store.erase_superseded()?;
        self.failed = false;
        Ok(summary)
    }

    /// An inclusion proof of `seq` in the tree of `size` entries.
    pub fn prove_inclusion(
        &self,
        seq: u64,
        size: u64,
    ) -> Result<proof::InclusionProof, LedgerError> {
        if size > self.head.size || seq >= size {
            return Err(LedgerError::Invalid(format!(
                "need seq < size <= {}; got seq {seq}, size {size}",
                self.head.size
            )));
        }
        let leaf = self.store.node(0, seq)?;
        let path = merkle::inclusion_proof(&Sha256Hasher, &self.store, seq, size)?;
        Ok(proof::InclusionProof::new(
            seq,
            size,
            leaf,
            &path,
            self.checkpoint_at(size)?,
        ))
    }

    /// A consistency proof from `old` entries to `new` entries.
    pub fn prove_consistency(
        &self,
        old: u64,
        new: u64,
    ) -> Result<proof::ConsistencyProof, LedgerError> {
        if old == 0 || old > new || new > self.head.size {
            return Err(LedgerError::Invalid(format!(
                "need 0 < old size <= new size <= {}; got {old} and {new}",
                self.head.size
            )));
        }
        let path = merkle::consistency_proof(&Sha256Hasher, &self.store, old, new)?;
        Ok(proof::ConsistencyProof::new(
            old,
            new,
            &path,
            self.checkpoint_at(new)?,
        ))
    }
}

/// The cores this process may use, asked once: `available_parallelism` reads three
/// cgroup files on every call, and a one-event commit asked five times.
pub(crate) fn cores() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// `f` over `items` on `workers` threads, results in order. Small inputs stay on this
/// thread.
fn par_map<T: Sync, R: Send>(workers: usize, items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    par_chunks(workers, items, |share| share.iter().map(&f).collect())
}

/// `f` over up to `workers` contiguous shares of `items`, one thread each, results in
/// order. Small inputs stay on this thread, whole.
fn par_chunks<T: Sync, R: Send>(
    workers: usize,
    items: &[T],
    f: impl Fn(&[T]) -> Vec<R> + Sync,
) -> Vec<R> {
    if workers <= 1 || items.len() < 64 {
        return f(items);
    }
    let chunk = items.len().div_ceil(workers);
    let f = &f;
    std::thread::scope(|scope| {
        // This thread maps the first share itself rather than wait: one thread fewer to
        // start, and starting one costs tens of microseconds.
        let (mine, theirs) = items.split_at(chunk.min(items.len()));
        let handles: Vec<_> = theirs
            .chunks(chunk)
            .map(|part| scope.spawn(move || f(part)))
            .collect();
        let mut out = Vec::with_capacity(items.len());
        out.extend(f(mine));
        for h in handles {
            match h.join() {
                Ok(part) => out.extend(part),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        out
    })
}

/// The key that signs checkpoints of `size` entries.
fn key_in_force(keys: &[(u64, NoteVerifier)], size: u64) -> Result<&NoteVerifier, LedgerError> {
    keys.iter()
        .rev()
        .find(|(from, _)| *from <= size)
        .map(|(_, k)| k)
        .ok_or_else(|| LedgerError::Invalid("the ledger has no genesis key".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::EventKind;

    fn record(i: u64, content: &str) -> NewRecord {
        let event = Event {
            source: "test".into(),
            source_id: Some(format!("evt-{i}")),
            kind: EventKind::AuthSucceeded,
            subject: format!("user{}@acme.example", i % 7),
            account: None,
            actor: None,
            occurred_at: Timestamp(1_773_900_000_000_000 + i as i64 * 1_000_000),
            original_time: String::new(),
            attrs: BTreeMap::from([("content".to_string(), content.to_string())]),
        };
        let raw = format!("{{\"id\":\"evt-{i}\",\"content\":\"{content}\"}}").into_bytes();
        NewRecord { event, raw }
    }

    /// `lookup` (the dry run's) decides as `append` does, for records whose entries lie
    /// in different frames and in any order: one frame read is shared, never mixed up.
    #[test]
    fn lookup_decides_each_record_as_append_does() {
        let dir = tempfile::tempdir().unwrap();
        let signer = NoteSigner::from_seed("test.example/lookup", [7; 32]).unwrap();
        let mut ledger = Ledger::init(dir.path(), signer).unwrap();
        for commit in 0..3 {
            let records = (commit * 200..commit * 200 + 200).map(|i| record(i, "a"));
            assert_eq!(ledger.append(records.collect()).unwrap().added, 200);
        }
        let asked = [
            record(500, "a"),
            record(3, "c"),
            record(999, "a"),
            record(100, "a"),
            record(599, "b"),
            record(256, "a"),
        ];
        let prepared: Vec<PreparedRecord> = NewRecord::prepare_all(asked.to_vec());
        let expected = [
            Lookup::Duplicate,
            Lookup::Conflict { earlier: 3 },
            Lookup::New,
            Lookup::Duplicate,
            Lookup::Conflict { earlier: 599 },
            Lookup::Duplicate,
        ];
        assert_eq!(ledger.lookup(&prepared).unwrap(), expected);

        let appended = ledger.append(asked.to_vec()).unwrap();
        let duplicates: Vec<bool> = expected.iter().map(|l| *l == Lookup::Duplicate).collect();
        assert_eq!(appended.duplicate_flags, duplicates);
        let conflicts: Vec<(u64, u64)> = appended
            .conflicts
            .iter()
            .map(|c| (c.earlier, c.later))
            .collect();
        assert_eq!(conflicts, [(3, 600), (599, 602)]);
    }
}
