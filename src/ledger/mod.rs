//! The ledger: an append-only, hash-chained, Merkle-tree, Ed25519-signed event store on sled.
//!
//! The nine invariants of `DESIGN.md`, where each is kept and which test holds it:
//!
//! 1. **Append-only.** The public API has no update or delete: [`Ledger::append`],
//!    [`Ledger::rotate_key`] and [`Ledger::redact`] only add entries; seqs are `0, 1, 2, …`
//!    with no gaps (`commit`). Tests: `tests/tamper.rs` (deleted, inserted, swapped
//!    entries), `tests/crash.rs` (every acknowledged batch whole after SIGKILL).
//! 2. **Hash chain.** Entry hash = BLAKE3 derive_key over the canonical bytes, which hold
//!    seq, previous hash, event and raw-record hash; genesis links to a hash of the ledger id
//!    (`entry::chain_hash`, `entry::genesis_link`). Tests: `entry::tests` known answer,
//!    `tests/tamper.rs`.
//! 3. **Merkle tree.** Leaves are the canonical entry bytes in an RFC 6962 SHA-256 tree,
//!    stored in tiles (`merkle`, `store::TileSource`). Tests: `tests/vectors.rs` (RFC 6962
//!    vectors, `tlog_tiles` cross-check), `merkle::tests` (proptest against a naive tree).
//! 4. **Signed checkpoints.** Every commit ends with a C2SP checkpoint signed with Ed25519
//!    (`note`). Tests: `note::tests` (Go note known answers), `tests/vectors.rs`
//!    (`signed_note` cross-check).
//! 5. **Canonical encoding.** postcard 1.x with a format version (`entry`). Test:
//!    `entry::tests::canonical_encoding_known_answer`.
//! 6. **Raw records** are kept, addressed and checked by BLAKE3; the chain covers the hash,
//!    so [`Ledger::redact`] can drop the bytes and record that as an entry. Tests:
//!    `tests/cli.rs` (redact, then verify), `tests/tamper.rs` (bytes changed or removed).
//! 7. **Durability.** One `apply_batch` per commit (atomic), then sled `flush` and an fsync
//!    of sled's data file (sled 0.34's flush uses `sync_file_range`, not fsync: sled issue
//!    #1452), then the checkpoint is appended to the fsynced checkpoint log (`cplog`); only
//!    then is the commit acknowledged. On open the sled head is compared with that log. One
//!    writer at a time: an OS lock on `LOCK`. Tests: `tests/crash.rs`, `cplog::tests`
//!    (power cut), `tests/cli.rs` (lock).
//! 8. **Tamper evidence.** [`verify::verify`] recomputes every hash, link, root, signature
//!    and index and names the first bad seq. Tests: the tamper catalogue in `tests/`.
//! 9. **Keys.** The signing key lives in a 0600 file or `AUDITLEDGER_KEY`, never in the
//!    ledger (`keys`); rotation is an entry signed by the old and the new key. Tests:
//!    `keys::tests`, `tests/cli.rs` (rotation, wrong, missing, loose-permission keys).
//!
//! Files of a ledger directory: `sled/` (the store, layout in `store`), `checkpoints.log`,
//! `LOCK`, and by default the key file `signing.key`.

pub mod cplog;
pub mod entry;
pub mod keys;
pub mod merkle;
pub mod note;
pub mod proof;
pub mod store;
pub mod verify;

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use self::cplog::{CheckpointLog, CheckpointLogError};
use self::entry::{dedup_key, genesis_link, raw_hash, to_hex, Entry, Payload, FORMAT_VERSION};
use self::keys::KeyError;
use self::merkle::{CompactRange, Hash, Sha256Hasher, SubtreeSource, TreeHasher};
use self::note::{Checkpoint, NoteError, NoteSigner, NoteVerifier};
use self::store::{
    bundle_key, checkpoint_key, dedup_store_key, encode_entry_record, encode_raw_record,
    key_change_key, meta_key, raw_bundle_key, raw_segment_key, segment_key, tile_key, RawState,
    Store, StoreError, StoredEntry, TileSource, BUNDLE, HEAD_KEY, TILE, TILE_HEIGHT,
};
use crate::event::{Event, Timestamp};

pub const SLED_DIR: &str = "sled";
pub const CHECKPOINT_LOG: &str = "checkpoints.log";
pub const LOCK_FILE: &str = "LOCK";
pub const DEFAULT_KEY_FILE: &str = "signing.key";

#[derive(Debug, Error)]
pub enum LedgerError {
    #[error("{dir} is not a ledger (no {SLED_DIR}/ inside); run `auditledger init` first")]
    NotALedger { dir: PathBuf },
    #[error("{dir} already holds a ledger")]
    AlreadyExists { dir: PathBuf },
    #[error("ledger {dir} is in use by another auditledger process (lock held on {LOCK_FILE})")]
    Locked { dir: PathBuf },
    #[error("origin {0:?} is not a valid key name: it must be non-empty, with no spaces or '+'")]
    BadOrigin(String),
    #[error("I/O on {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error(transparent)]
    CheckpointLog(#[from] CheckpointLogError),
    #[error("checkpoint: {0}")]
    Note(#[from] NoteError),
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
    #[error("{0}")]
    Invalid(String),
}

impl LedgerError {
    /// The first bad seq, when the error names one.
    pub fn first_bad_seq(&self) -> Option<u64> {
        match self {
            LedgerError::Store(StoreError::BadEntry { seq, .. })
            | LedgerError::Store(StoreError::MissingEntry { seq })
            | LedgerError::Store(StoreError::BadRaw { seq, .. }) => Some(*seq),
            LedgerError::RolledBack { store_size, .. } => Some(*store_size),
            _ => None,
        }
    }
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> LedgerError + '_ {
    move |source| LedgerError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Ledger identity, written once at init.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Meta {
    pub format_version: u8,
    pub ledger_id: [u8; 16],
    pub origin: String,
    pub genesis_key: String,
}

/// The head after the last commit.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
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
}

/// How a ledger is opened.
pub enum Access {
    Read,
    Write(Box<NoteSigner>),
}

/// The right edge of the stored layout: what the next commit extends.
#[derive(Clone, Debug, Default)]
struct Tail {
    /// Records of the partial entry bundle and the first seqs of its segments.
    entries: Vec<u8>,
    entry_segments: Vec<u64>,
    raws: Vec<u8>,
    raw_segments: Vec<u64>,
    /// The right-most (partial) tile of each tile level.
    tiles: Vec<Vec<Hash>>,
}

pub struct Ledger {
    dir: PathBuf,
    store: Store,
    db_file: File,
    _lock: File,
    meta: Meta,
    head: Head,
    range: CompactRange,
    /// (first tree size it signs, key), oldest first.
    keys: Vec<(u64, NoteVerifier)>,
    signer: Option<NoteSigner>,
    cplog: CheckpointLog,
    tail: Tail,
}

/// An item to commit before it has a seq.
struct Pending {
    payload: Payload,
    raw_hash: Hash,
    raw: RawState,
    dedup: Option<Hash>,
}

impl Ledger {
    pub fn dir(&self) -> &Path {
        &self.dir
    }
    pub fn meta(&self) -> &Meta {
        &self.meta
    }
    pub fn head(&self) -> &Head {
        &self.head
    }
    pub fn size(&self) -> u64 {
        self.head.size
    }
    pub fn store(&self) -> &Store {
        &self.store
    }
    /// The verifier keys of the ledger in order, each with the first tree size it signs.
    pub fn key_history(&self) -> &[(u64, NoteVerifier)] {
        &self.keys
    }
    pub fn current_key(&self) -> &NoteVerifier {
        &self.keys.last().expect("a ledger always has a key").1
    }
    pub fn checkpoint_log(&self) -> &[String] {
        self.cplog.notes()
    }

    fn lock(dir: &Path) -> Result<File, LedgerError> {
        let path = dir.join(LOCK_FILE);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io_err(&path))?;
        match file.try_lock() {
            Ok(()) => Ok(file),
            Err(fs::TryLockError::WouldBlock) => Err(LedgerError::Locked {
                dir: dir.to_path_buf(),
            }),
            Err(fs::TryLockError::Error(e)) => Err(LedgerError::Io { path, source: e }),
        }
    }

    /// Creates a ledger in `dir` signed by `signer`, whose key name must be the origin.
    pub fn init(dir: &Path, signer: NoteSigner) -> Result<Ledger, LedgerError> {
        let origin = signer.verifier().name.clone();
        if !note::is_valid_name(&origin) {
            return Err(LedgerError::BadOrigin(origin));
        }
        if dir.join(SLED_DIR).exists() {
            return Err(LedgerError::AlreadyExists {
                dir: dir.to_path_buf(),
            });
        }
        fs::create_dir_all(dir).map_err(io_err(dir))?;
        let lock = Self::lock(dir)?;
        let mut ledger_id = [0u8; 16];
        getrandom::getrandom(&mut ledger_id)
            .map_err(|e| LedgerError::Invalid(format!("OS random source failed: {e}")))?;
        let sled_path = dir.join(SLED_DIR);
        let store = Store::open(&sled_path).map_err(StoreError::from)?;
        let meta = Meta {
            format_version: FORMAT_VERSION,
            ledger_id,
            origin: origin.clone(),
            genesis_key: signer.verifier().to_string(),
        };
        let head = Head {
            size: 0,
            head: genesis_link(&ledger_id),
            root: Sha256Hasher.empty(),
        };
        let cp = Checkpoint {
            origin,
            size: 0,
            root: head.root,
            time: Some(Timestamp::now_seconds()),
        }
        .sign(&[&signer]);
        let mut batch = sled::Batch::default();
        batch.insert(
            meta_key("ledger"),
            postcard::to_stdvec(&meta).expect("meta encodes"),
        );
        batch.insert(HEAD_KEY, postcard::to_stdvec(&head).expect("head encodes"));
        batch.insert(key_change_key(0), signer.verifier().to_string().as_bytes());
        batch.insert(checkpoint_key(0), cp.as_bytes());
        store.db.apply_batch(batch).map_err(StoreError::from)?;
        let db_file = durable_flush(&store, &sled_path, None)?;
        let log_path = dir.join(CHECKPOINT_LOG);
        let mut cplog = CheckpointLog::open(&log_path, true)?;
        cplog.append_all(&[cp])?;
        keys::sync_parent(&log_path).map_err(io_err(&log_path))?;
        Ok(Ledger {
            dir: dir.to_path_buf(),
            store,
            db_file,
            _lock: lock,
            meta,
            head,
            range: CompactRange::new(),
            keys: vec![(0, signer.verifier().clone())],
            signer: Some(signer),
            cplog,
            tail: Tail::default(),
        })
    }

    /// Opens an existing ledger. A writer must hold the ledger's current key.
    pub fn open(dir: &Path, access: Access) -> Result<Ledger, LedgerError> {
        let sled_path = dir.join(SLED_DIR);
        if !sled_path.is_dir() {
            return Err(LedgerError::NotALedger {
                dir: dir.to_path_buf(),
            });
        }
        let lock = Self::lock(dir)?;
        let store = Store::open(&sled_path).map_err(StoreError::from)?;
        let meta: Meta = read_meta(&store, "ledger")?;
        let head: Head = {
            let v = store.get(HEAD_KEY)?.ok_or_else(|| StoreError::BadMeta {
                key: "head".into(),
                problem: "missing".into(),
            })?;
            postcard::from_bytes(&v).map_err(|e| StoreError::BadMeta {
                key: "head".into(),
                problem: e.to_string(),
            })?
        };
        let mut keys = Vec::new();
        for item in store.db.scan_prefix([b'K']) {
            let (k, v) = item.map_err(StoreError::from)?;
            let from = k
                .get(1..9)
                .and_then(|s| s.try_into().ok())
                .map(u64::from_be_bytes)
                .ok_or_else(|| StoreError::BadMeta {
                    key: "K".into(),
                    problem: "malformed key".into(),
                })?;
            let text = String::from_utf8_lossy(&v);
            keys.push((from, NoteVerifier::parse(&text)?));
        }
        if keys.first().map(|(_, k)| k.to_string()) != Some(meta.genesis_key.clone()) {
            return Err(LedgerError::Invalid(
                "key history does not start with the ledger's genesis key".into(),
            ));
        }
        let writable = matches!(access, Access::Write(_));
        let log_path = dir.join(CHECKPOINT_LOG);
        let cplog = if writable || log_path.exists() {
            CheckpointLog::open(&log_path, writable)?
        } else {
            return Err(LedgerError::Invalid(format!(
                "{} is missing",
                log_path.display()
            )));
        };
        let tail = load_tail(&store, head.size)?;
        let range = CompactRange::load(
            &Sha256Hasher,
            &TileSource {
                store: &store,
                overlay: &[],
            },
            head.size,
        )?;
        if range.root(&Sha256Hasher) != head.root {
            return Err(LedgerError::Invalid(format!(
                "stored tiles give root {} but the head says {}",
                to_hex(&range.root(&Sha256Hasher)),
                to_hex(&head.root)
            )));
        }
        if head.size > 0 {
            let last = store.read_entry(head.size - 1)?;
            if last.chain != head.head {
                return Err(LedgerError::Invalid(format!(
                    "entry {} does not have the head's chain hash",
                    head.size - 1
                )));
            }
        }
        if store.read_entry(head.size).is_ok() {
            return Err(LedgerError::Invalid(format!(
                "an entry {} exists beyond the head",
                head.size
            )));
        }
        let db_file = File::open(sled_path.join("db")).map_err(io_err(&sled_path))?;
        let signer = match access {
            Access::Read => None,
            Access::Write(s) => {
                let current = &keys.last().expect("non-empty").1;
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
        let mut ledger = Ledger {
            dir: dir.to_path_buf(),
            store,
            db_file,
            _lock: lock,
            meta,
            head,
            range,
            keys,
            signer,
            cplog,
            tail,
        };
        ledger.reconcile_checkpoint_log(writable)?;
        Ok(ledger)
    }

    /// Compares the sled head with the checkpoint log (invariant 7). The log may lag by the
    /// commits whose log append a crash cut off (they were never acknowledged); a writer
    /// appends them. The store may never lag behind the log.
    fn reconcile_checkpoint_log(&mut self, writable: bool) -> Result<(), LedgerError> {
        let Some(last) = self.cplog.last() else {
            return Err(LedgerError::Invalid("the checkpoint log is empty".into()));
        };
        let (cp, _) = Checkpoint::open(last, &self.verifiers())?;
        if cp.size > self.head.size {
            return Err(LedgerError::RolledBack {
                store_size: self.head.size,
                log_size: cp.size,
            });
        }
        let root_then = self.root_at(cp.size)?;
        if root_then != cp.root {
            return Err(LedgerError::Forked {
                size: cp.size,
                store_root: to_hex(&root_then),
                log_root: to_hex(&cp.root),
            });
        }
        if cp.size < self.head.size && writable {
            let mut missing = Vec::new();
            for item in self.store.db.range(checkpoint_key(cp.size + 1)..) {
                let (k, v) = item.map_err(StoreError::from)?;
                if k.first() != Some(&b'C') {
                    break;
                }
                missing.push(String::from_utf8_lossy(&v).into_owned());
            }
            self.cplog.append_all(&missing)?;
        }
        Ok(())
    }

    pub fn verifiers(&self) -> Vec<NoteVerifier> {
        self.keys.iter().map(|(_, k)| k.clone()).collect()
    }

    /// The root of the first `size` entries, from tiles: O(log n) reads.
    pub fn root_at(&self, size: u64) -> Result<Hash, LedgerError> {
        if size > self.head.size {
            return Err(LedgerError::Invalid(format!(
                "size {size} is beyond the ledger's {} entries",
                self.head.size
            )));
        }
        Ok(merkle::range_hash(
            &Sha256Hasher,
            &self.tile_source(),
            0,
            size,
        )?)
    }

    fn tile_source(&self) -> TileSource<'_> {
        TileSource {
            store: &self.store,
            overlay: &[],
        }
    }

    /// The signed checkpoint stored for `size`, if a commit ended there.
    pub fn checkpoint_at(&self, size: u64) -> Result<Option<String>, LedgerError> {
        Ok(self
            .store
            .get(&checkpoint_key(size))?
            .map(|v| String::from_utf8_lossy(&v).into_owned()))
    }

    pub fn latest_checkpoint(&self) -> Result<String, LedgerError> {
        self.checkpoint_at(self.head.size)?.ok_or_else(|| {
            LedgerError::Invalid(format!("no checkpoint stored for size {}", self.head.size))
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
        let mut bundle_cache: Option<(u64, Vec<StoredEntry>)> = None;
        (from..end).map(move |seq| {
            let b = seq / BUNDLE;
            if bundle_cache.as_ref().map(|(i, _)| *i) != Some(b) {
                bundle_cache = Some((b, self.store.read_bundle(b)?));
            }
            let (_, entries) = bundle_cache.as_ref().expect("just filled");
            entries
                .get((seq % BUNDLE) as usize)
                .cloned()
                .ok_or(LedgerError::Store(StoreError::MissingEntry { seq }))
        })
    }

    /// The raw record of entry `seq`.
    pub fn raw_record(&self, seq: u64) -> Result<RawState, LedgerError> {
        let raws = self.store.read_raw_bundle(seq / BUNDLE)?;
        let raw = raws
            .into_iter()
            .nth((seq % BUNDLE) as usize)
            .ok_or(StoreError::BadRaw {
                seq,
                problem: "missing".into(),
            })?;
        Ok(raw.state)
    }

    fn signer(&self) -> Result<&NoteSigner, LedgerError> {
        self.signer.as_ref().ok_or(LedgerError::ReadOnly)
    }

    /// Appends events in one durable commit. Records already in the ledger (same source
    /// event id, or same raw bytes when the source has no id) are skipped and counted.
    pub fn append(&mut self, records: Vec<NewRecord>) -> Result<CommitSummary, LedgerError> {
        self.signer()?;
        let mut seen = std::collections::HashSet::new();
        let mut pending = Vec::with_capacity(records.len());
        let mut duplicates = 0;
        let mut duplicate_flags = Vec::with_capacity(records.len());
        for r in records {
            let rh = raw_hash(&r.raw);
            let dk = dedup_key(&r.event, &rh);
            let dup = !seen.insert(dk) || self.store.get(&dedup_store_key(&dk))?.is_some();
            duplicate_flags.push(dup);
            if dup {
                duplicates += 1;
                continue;
            }
            pending.push(Pending {
                payload: Payload::Event(r.event),
                raw_hash: rh,
                raw: RawState::Kept(r.raw),
                dedup: Some(dk),
            });
        }
        let mut summary = self.commit(pending, &[])?;
        summary.duplicates = duplicates;
        summary.duplicate_flags = duplicate_flags;
        Ok(summary)
    }

    /// Whether a record with this dedup key is already in the ledger.
    pub fn contains(&self, event: &Event, raw: &[u8]) -> Result<bool, LedgerError> {
        let dk = dedup_key(event, &raw_hash(raw));
        Ok(self.store.get(&dedup_store_key(&dk))?.is_some())
    }

    /// Writes `pending` as one atomic, durable commit ending in a signed checkpoint.
    /// `extra_signers` co-sign that checkpoint (the old key, on rotation).
    fn commit(
        &mut self,
        pending: Vec<Pending>,
        extra_signers: &[&NoteSigner],
    ) -> Result<CommitSummary, LedgerError> {
        let first_seq = self.head.size;
        if pending.is_empty() {
            return Ok(CommitSummary {
                first_seq,
                size: first_seq,
                ..Default::default()
            });
        }
        let hasher = Sha256Hasher;
        let mut batch = sled::Batch::default();
        let mut tail = self.tail.clone();
        let mut range = self.range.clone();
        let mut head = self.head.head;
        let mut size = self.head.size;
        let mut seg_first = size;
        let mut entry_prior = tail.entries.len();
        let mut raw_prior = tail.raws.len();
        let mut dirty_levels = vec![false; tail.tiles.len().max(1)];
        let mut key_changes = Vec::new();
        let added = pending.len() as u64;
        for p in pending {
            let entry = Entry {
                version: FORMAT_VERSION,
                seq: size,
                prev: head,
                raw_hash: p.raw_hash,
                payload: p.payload,
            };
            let canonical = entry.encode();
            let chain = entry::chain_hash(&canonical);
            encode_entry_record(&mut tail.entries, &canonical, &chain);
            encode_raw_record(&mut tail.raws, &p.raw_hash, &p.raw);
            if let Some(dk) = p.dedup {
                batch.insert(dedup_store_key(&dk), &size.to_be_bytes());
            }
            if let Payload::KeyRotation { new_key, .. } = &entry.payload {
                key_changes.push((size + 1, new_key.clone()));
            }
            let leaf = hasher.leaf(&canonical);
            push_tile_hash(
                &mut tail.tiles,
                &mut dirty_levels,
                &mut batch,
                0,
                size,
                leaf,
            );
            let mut completed = Vec::new();
            range.push(&hasher, leaf, |level, index, node| {
                if level % TILE_HEIGHT == 0 {
                    completed.push(((level / TILE_HEIGHT) as usize, index, *node));
                }
            });
            for (tl, index, node) in completed {
                push_tile_hash(
                    &mut tail.tiles,
                    &mut dirty_levels,
                    &mut batch,
                    tl,
                    index,
                    node,
                );
            }
            head = chain;
            size += 1;
            if size.is_multiple_of(BUNDLE) {
                let bundle = (size - 1) / BUNDLE;
                batch.insert(bundle_key(bundle), std::mem::take(&mut tail.entries));
                batch.insert(raw_bundle_key(bundle), std::mem::take(&mut tail.raws));
                for first in tail.entry_segments.drain(..) {
                    batch.remove(segment_key(bundle, first));
                }
                for first in tail.raw_segments.drain(..) {
                    batch.remove(raw_segment_key(bundle, first));
                }
                entry_prior = 0;
                raw_prior = 0;
                seg_first = size;
            }
        }
        if tail.entries.len() > entry_prior {
            let bundle = seg_first / BUNDLE;
            batch.insert(segment_key(bundle, seg_first), &tail.entries[entry_prior..]);
            batch.insert(raw_segment_key(bundle, seg_first), &tail.raws[raw_prior..]);
            tail.entry_segments.push(seg_first);
            tail.raw_segments.push(seg_first);
        }
        for (level, dirty) in dirty_levels.iter().enumerate() {
            if *dirty && !tail.tiles[level].is_empty() {
                let index = (size >> (TILE_HEIGHT as u64 * level as u64)) / TILE;
                batch.insert(
                    tile_key(level as u8, index),
                    hashes_bytes(&tail.tiles[level]),
                );
            }
        }
        let root = range.root(&hasher);
        let new_head = Head { size, head, root };
        let mut keys = self.keys.clone();
        for (from, text) in &key_changes {
            batch.insert(key_change_key(*from), text.as_bytes());
            keys.push((*from, NoteVerifier::parse(text)?));
        }
        let signer = self.signer()?;
        let mut signers: Vec<&NoteSigner> = extra_signers.to_vec();
        signers.push(signer);
        let note = Checkpoint {
            origin: self.meta.origin.clone(),
            size,
            root,
            time: Some(Timestamp::now_seconds()),
        }
        .sign(&signers);
        batch.insert(checkpoint_key(size), note.as_bytes());
        batch.insert(
            HEAD_KEY,
            postcard::to_stdvec(&new_head).expect("head encodes"),
        );
        self.store.db.apply_batch(batch).map_err(StoreError::from)?;
        durable_flush(&self.store, &self.dir.join(SLED_DIR), Some(&self.db_file))?;
        self.cplog.append_all(std::slice::from_ref(&note))?;
        self.tail = tail;
        self.range = range;
        self.head = new_head;
        self.keys = keys;
        Ok(CommitSummary {
            first_seq,
            added,
            duplicates: 0,
            size,
            checkpoint: Some(note),
            duplicate_flags: Vec::new(),
        })
    }

    /// Replaces the signing key: appends a rotation entry signed by both keys, and a
    /// checkpoint signed by both. Returns the commit; the caller stores the new key.
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
        self.signer = Some(new);
        let result = self.commit(
            vec![Pending {
                payload,
                raw_hash: [0; 32],
                raw: RawState::None,
                dedup: None,
            }],
            &[&old],
        );
        if result.is_err() {
            self.signer = Some(old);
        }
        result
    }

    /// Removes the bytes of every raw record with `raw_hash` (an erasure request) and
    /// appends a redaction entry. The hash stays in the chain, so `verify` still passes.
    pub fn redact(&mut self, target: &Hash, reason: &str) -> Result<CommitSummary, LedgerError> {
        self.signer()?;
        if reason.trim().is_empty() {
            return Err(LedgerError::Invalid("a redaction needs a reason".into()));
        }
        // Redaction is rare, so a scan is acceptable; it spares a per-event index write.
        let mut hits: Vec<u64> = Vec::new();
        for e in self.entries(0, self.head.size) {
            let e = e?;
            if &e.entry.raw_hash == target && e.entry.event().is_some() {
                hits.push(e.entry.seq);
            }
        }
        if hits.is_empty() {
            return Err(LedgerError::Invalid(format!(
                "no entry has raw record {}",
                to_hex(target)
            )));
        }
        let mut by_bundle: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
        for seq in hits {
            by_bundle.entry(seq / BUNDLE).or_default().push(seq);
        }
        // Rewrite the raw values first (in one batch), then record the redaction; a crash
        // in between leaves bytes removed without an entry, which `verify` reports and a
        // repeated `redact` completes.
        let mut batch = sled::Batch::default();
        for (bundle, seqs) in &by_bundle {
            let raws = self.store.read_raw_bundle(*bundle)?;
            let rewrite = |from: u64, to: u64| {
                let mut out = Vec::new();
                for seq in from..to {
                    let r = &raws[(seq - bundle * BUNDLE) as usize];
                    let keep = if seqs.contains(&seq) {
                        &RawState::Redacted
                    } else {
                        &r.state
                    };
                    encode_raw_record(&mut out, &r.hash, keep);
                }
                out
            };
            let end = bundle * BUNDLE + raws.len() as u64;
            if self.store.get(&raw_bundle_key(*bundle))?.is_some() {
                batch.insert(raw_bundle_key(*bundle), rewrite(bundle * BUNDLE, end));
            } else {
                let firsts: Vec<u64> = self
                    .store
                    .segments(b'r', *bundle)?
                    .into_iter()
                    .map(|(f, _)| f)
                    .collect();
                for (i, first) in firsts.iter().enumerate() {
                    let to = firsts.get(i + 1).copied().unwrap_or(end);
                    batch.insert(raw_segment_key(*bundle, *first), rewrite(*first, to));
                }
            }
        }
        self.store.db.apply_batch(batch).map_err(StoreError::from)?;
        durable_flush(&self.store, &self.dir.join(SLED_DIR), Some(&self.db_file))?;
        self.tail = load_tail(&self.store, self.head.size)?;
        let payload = Payload::Redaction {
            raw_hash: *target,
            reason: reason.to_string(),
            at: Timestamp::now(),
        };
        self.commit(
            vec![Pending {
                payload,
                raw_hash: [0; 32],
                raw: RawState::None,
                dedup: None,
            }],
            &[],
        )
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
        // The leaf hash is in the level-0 tile: reading it spares decoding a whole bundle.
        // A wrong tile cannot produce a proof that verifies against the signed root.
        let leaf = self.tile_source().perfect(0, seq)?;
        let path = merkle::inclusion_proof(&Sha256Hasher, &self.tile_source(), seq, size)?;
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
        let path = merkle::consistency_proof(&Sha256Hasher, &self.tile_source(), old, new)?;
        Ok(proof::ConsistencyProof::new(
            old,
            new,
            &path,
            self.checkpoint_at(new)?,
        ))
    }
}

fn read_meta<T: for<'de> Deserialize<'de>>(store: &Store, name: &str) -> Result<T, StoreError> {
    let v = store
        .get(&meta_key(name))?
        .ok_or_else(|| StoreError::BadMeta {
            key: name.into(),
            problem: "missing".into(),
        })?;
    postcard::from_bytes(&v).map_err(|e| StoreError::BadMeta {
        key: name.into(),
        problem: e.to_string(),
    })
}

fn hashes_bytes(hashes: &[Hash]) -> Vec<u8> {
    hashes.iter().flatten().copied().collect()
}

/// Appends `hash` (node `index` of tile level `level`) to the right-most tile of that level;
/// a tile that fills up is written whole and a new one started.
fn push_tile_hash(
    tiles: &mut Vec<Vec<Hash>>,
    dirty: &mut Vec<bool>,
    batch: &mut sled::Batch,
    level: usize,
    index: u64,
    hash: Hash,
) {
    if tiles.len() <= level {
        tiles.resize(level + 1, Vec::new());
    }
    if dirty.len() <= level {
        dirty.resize(level + 1, false);
    }
    tiles[level].push(hash);
    dirty[level] = true;
    if tiles[level].len() as u64 == TILE {
        batch.insert(
            tile_key(level as u8, index / TILE),
            hashes_bytes(&tiles[level]),
        );
        tiles[level].clear();
        dirty[level] = false;
    }
}

/// Loads the right edge: partial bundle records, segment starts and partial tiles.
fn load_tail(store: &Store, size: u64) -> Result<Tail, LedgerError> {
    let mut tail = Tail::default();
    let bundle = size / BUNDLE;
    if !size.is_multiple_of(BUNDLE) {
        for (first, v) in store.segments(b'e', bundle)? {
            tail.entry_segments.push(first);
            tail.entries.extend_from_slice(&v);
        }
        for (first, v) in store.segments(b'r', bundle)? {
            tail.raw_segments.push(first);
            tail.raws.extend_from_slice(&v);
        }
    }
    let mut level = 0u64;
    loop {
        let count = size >> (TILE_HEIGHT as u64 * level);
        if count == 0 {
            break;
        }
        let partial = count % TILE;
        let hashes = if partial == 0 {
            Vec::new()
        } else {
            let t = store.read_tile(level as u8, count / TILE)?;
            if t.len() as u64 != partial {
                return Err(StoreError::BadTile {
                    level: level as u8,
                    index: count / TILE,
                    problem: format!("holds {} hashes, expected {partial}", t.len()),
                }
                .into());
            }
            t
        };
        tail.tiles.push(hashes);
        level += 1;
    }
    Ok(tail)
}

/// Makes everything applied so far durable: sled's flush, then an fsync of its data file
/// (sled 0.34's flush only calls `sync_file_range` on Linux, which does not flush the disk
/// cache nor metadata: sled issue #1452).
fn durable_flush(
    store: &Store,
    sled_path: &Path,
    db_file: Option<&File>,
) -> Result<File, LedgerError> {
    store.db.flush().map_err(StoreError::from)?;
    let path = sled_path.join("db");
    let file = match db_file {
        Some(f) => f.try_clone().map_err(io_err(&path))?,
        None => File::open(&path).map_err(io_err(&path))?,
    };
    file.sync_all().map_err(io_err(&path))?;
    Ok(file)
}
