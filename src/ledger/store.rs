//! The ledger's files: an append-only log of checksummed frames, an append-only Merkle
//! node file, and two caches derived from them.
//!
//! Why this shape: a ledger is a log, so its cost should be the bytes it writes and the
//! hashes it computes, not per-event bookkeeping (DESIGN, "Storage layout"). Every file
//! below is only ever appended to, except where a redaction erases the bytes it was asked
//! to erase; everything keyed is derived from the log at open, so a reader needs no lock.
//!
//! | file      | what it holds |
//! |-----------|---------------|
//! | `meta`    | ledger identity, written once at init (postcard, BLAKE3-checked) |
//! | `log`     | frames, in commit order: entry bundles, raw-record bundles, commit markers |
//! | `tree`    | every perfect Merkle subtree hash, in post-order (the MMR layout) |
//! | `log.idx` | cache: a copy of every frame header, so open need not read the log |
//! | `dedup`   | cache: (de-duplication key prefix, seq) of every event entry |
//! | `checkpoints.log` | the commit record (`cplog`) |
//!
//! **Frame** = 32-byte header + payload. Header, all integers big-endian:
//! `kind u8 | flags u8 (bit 0: zstd) | 0u16 | count u32 | first u64 | stored_len u32 |
//! plain_len u32 | CRC-32 of the stored payload u32 | CRC-32 of the 28 bytes before it u32`.
//! Kinds: 1 entries (`first` = seq of the first; payload = per entry `len u32 || canonical
//! bytes`), 2 raw records (same seqs as an entries frame; per record `raw hash (32) ||
//! state u8 || len u32 || bytes`, state 0 kept, 1 redacted, 2 none), 3 commit marker
//! (`first` = tree size after the commit; payload = one line `<from size> <verifier key>`
//! per key change), 4 erased (a raw-records frame a redaction replaced, as releases before
//! 2026-12-02 marked it; now such a frame keeps its header and only its payload becomes
//! zeros, see [`Store::erase_superseded`]).
//! A commit writes at most 256 entries per frame and never lets a frame cross a multiple of
//! 256 seqs, so bundle `b` (seqs `256b..256b+256`) is one frame for batched commits.
//! Payloads are zstd-compressed when that makes them smaller; every hash covers the
//! uncompressed bytes, so compression is invisible to verification.
//!
//! **Zeros ahead**: a commit of fewer than [`SMALL_COMMIT`] entries leaves
//! [`LOG_ZEROS_AHEAD`] bytes of zeros written past the log's end (when fewer than 64 KiB of
//! them are left), and the writer cuts them when it closes cleanly. The next small commits
//! then write over bytes the file already holds, and their `fdatasync` flushes data only:
//! one that grows the file also writes the inode, which made a one-event commit about 1.4x
//! slower on the disk measured (README, "Performance"). Zeros are no frame (a zero header
//! fails its CRC), so open stops at them as at any torn tail, and counts only the bytes
//! before them as unacknowledged.
//!
//! **Tree file**: node (level `l`, index `i`) of the RFC 6962 tree sits at hash position
//! `2m - popcount(m) + l` with `m = (i + 1)·2^l - 1`, so appending a leaf appends it and
//! then the subtrees it completes, and any perfect subtree is one 32-byte read: an
//! inclusion proof is O(log n) reads and no hashing. A tree of `n` leaves holds
//! `2n - popcount(n)` hashes. C2SP tiles are slices of it (`Store::tile`). The tree file
//! is synced only by a commit that crosses a multiple of [`TREE_SYNC_EVERY`] entries: the
//! hashes past the last multiple below the signed size may be lost or torn by a power cut,
//! so open recomputes them from the entries (a writer rewrites them, a reader keeps them
//! in memory). Everything before that multiple was synced by the commit that crossed it.
//!
//! **Caches**: `log.idx` records are the frame headers themselves (32 bytes, so a record
//! never spans a page): a record is trusted when its CRC holds and it matches the log
//! frame it describes when read. `dedup` records are `key[..24] || seq u64`. Neither is
//! synced: after a power cut their tails are rebuilt from the log.

use std::cell::RefCell;
use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use thiserror::Error;

use super::entry::{chain_hashes, raw_hashes, Entry};
use super::fs::{FileHandle, Fs};
use crate::tlog::merkle::{CompactRange, Hash, Sha256Hasher, SubtreeSource, TreeHasher};

pub const BUNDLE: u64 = 256;
pub const META_FILE: &str = "meta";
pub const LOG_FILE: &str = "log";
pub const INDEX_FILE: &str = "log.idx";
pub const TREE_FILE: &str = "tree";
/// The tree file is synced by a commit that takes the ledger across a multiple of this
/// many entries, not by every commit: open recomputes the hashes past the last multiple
/// from the entries (at most 255 leaves), so a small commit costs two syncs, not three.
pub const TREE_SYNC_EVERY: u64 = 256;
pub const DEDUP_FILE: &str = "dedup";
/// A commit of fewer entries than this leaves zeros ahead of the log's end (see
/// "Zeros ahead" in the module docs).
pub const SMALL_COMMIT: u64 = 64;
/// How far ahead of the log's end a small commit writes zeros.
pub const LOG_ZEROS_AHEAD: u64 = 1 << 20;
/// A small commit refills the zeros ahead when fewer than this many bytes of them are left.
const ZEROS_AHEAD_LOW: u64 = 64 << 10;

const HEADER_LEN: usize = 32;
const DEDUP_RECORD: usize = 32;
/// zstd's first fast level (-1, `zstd --fast=1`): in three paired runs of the 1 M-event
/// ledger bench (2026-12-03) it beat level 1 in every pair: batched append 278-308 k/s
/// against 223-296 k/s, prepared 279-345 k/s against 268-315 k/s, verify 811-931 k/s
/// against 683-785 k/s (decompression is faster too), for 415 B/event on disk instead of
/// 381 (0.79x raw instead of 0.72x; the target is 1.0x); `ingest` end to end moved within
/// the noise (0.95-1.06x in paired runs). Level 3 had cost ingest a
/// quarter of its speed for 4% fewer bytes. Readers decompress any level: a ledger
/// written at another level reads the same.
const ZSTD_LEVEL: i32 = -1;
const META_MAGIC: &[u8; 8] = b"ALMETA2\n";

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("I/O on {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("entry {seq}: {problem}")]
    BadEntry { seq: u64, problem: String },
    #[error("raw record of entry {seq}: {problem}")]
    BadRaw { seq: u64, problem: String },
    #[error("{file} is corrupt at byte {offset}: {problem}")]
    Corrupt {
        file: &'static str,
        offset: u64,
        problem: String,
    },
    #[error("the log holds {found} committed entries but the checkpoint log signed {signed}: acknowledged entries are missing from seq {found} on")]
    Behind { found: u64, signed: u64 },
    #[error("metadata: {0}")]
    BadMeta(String),
    #[error("the log holds {commits} whole commits after the last signed checkpoint (size {signed}); a crash leaves at most one: the checkpoint log lost acknowledged commits")]
    Unsigned { signed: u64, commits: u64 },
}

impl StoreError {
    /// The first seq at which the store is not what was signed, when known.
    pub fn first_bad_seq(&self) -> Option<u64> {
        match self {
            StoreError::BadEntry { seq, .. } | StoreError::BadRaw { seq, .. } => Some(*seq),
            StoreError::Behind { found, .. } => Some(*found),
            StoreError::Unsigned { signed, .. } => Some(*signed),
            _ => None,
        }
    }

    /// Whether this is damage to what was written (as opposed to the OS failing us).
    pub fn is_integrity(&self) -> bool {
        !matches!(self, StoreError::Io { .. })
    }
}

/// What is stored of an entry's raw record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RawState {
    Kept(Vec<u8>),
    /// The bytes were removed by a redaction entry.
    Redacted,
    /// The entry has no raw record (key rotation, redaction).
    None,
}

/// An entry as read back and checked: its seq and canonical bytes agree.
#[derive(Clone, Debug)]
pub struct StoredEntry {
    pub entry: Entry,
    pub canonical: Vec<u8>,
    pub chain: Hash,
}

/// A raw record as read back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredRaw {
    pub hash: Hash,
    pub state: RawState,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Entries = 1,
    Raws = 2,
    Commit = 3,
    Erased = 4,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Header {
    kind: Kind,
    compressed: bool,
    count: u32,
    first: u64,
    stored_len: u32,
    plain_len: u32,
    payload_crc: u32,
}

/// The big-endian integer at `at`, 0 when `b` is too short (callers checked its length).
fn be_u32(b: &[u8], at: usize) -> u32 {
    b.get(at..)
        .and_then(<[u8]>::first_chunk)
        .map_or(0, |a| u32::from_be_bytes(*a))
}

fn be_u64(b: &[u8], at: usize) -> u64 {
    b.get(at..)
        .and_then(<[u8]>::first_chunk)
        .map_or(0, |a| u64::from_be_bytes(*a))
}

impl Header {
    fn encode(&self) -> [u8; HEADER_LEN] {
        let mut b = [0u8; HEADER_LEN];
        b[0] = self.kind as u8;
        b[1] = u8::from(self.compressed);
        b[4..8].copy_from_slice(&self.count.to_be_bytes());
        b[8..16].copy_from_slice(&self.first.to_be_bytes());
        b[16..20].copy_from_slice(&self.stored_len.to_be_bytes());
        b[20..24].copy_from_slice(&self.plain_len.to_be_bytes());
        b[24..28].copy_from_slice(&self.payload_crc.to_be_bytes());
        let crc = crc32fast::hash(&b[..28]);
        b[28..32].copy_from_slice(&crc.to_be_bytes());
        b
    }

    fn decode(b: &[u8]) -> Option<Header> {
        if b.len() != HEADER_LEN || crc32fast::hash(b.get(..28)?) != be_u32(b, 28) {
            return None;
        }
        let kind = match b.first()? {
            1 => Kind::Entries,
            2 => Kind::Raws,
            3 => Kind::Commit,
            4 => Kind::Erased,
            _ => return None,
        };
        let compressed = match b.get(1)? {
            0 => false,
            1 => true,
            _ => return None,
        };
        Some(Header {
            kind,
            compressed,
            count: be_u32(b, 4),
            first: be_u64(b, 8),
            stored_len: be_u32(b, 16),
            plain_len: be_u32(b, 20),
            payload_crc: be_u32(b, 24),
        })
    }

    fn end(&self, offset: u64) -> u64 {
        offset + HEADER_LEN as u64 + u64::from(self.stored_len)
    }
}

#[derive(Clone, Copy, Debug)]
struct Frame {
    header: Header,
    offset: u64,
}

/// The header a raw-records frame gets when a redaction erases it.
fn erased_header(h: &Header) -> Header {
    Header {
        kind: Kind::Erased,
        compressed: false,
        payload_crc: crc32fast::hash(&vec![0u8; h.stored_len as usize]),
        ..*h
    }
}

/// A frame's header and its bytes (header included).
type BuiltFrame = (Header, Vec<u8>);

/// Builds frames from plain payloads, compressing on `workers` threads (a commit of 1,000
/// events has about ten frames; compression is most of a commit's CPU).
fn build_frames(plains: &[(Kind, u64, u32, Vec<u8>)], workers: usize) -> Vec<BuiltFrame> {
    let workers = workers.min(plains.len());
    // Threads cost more than they save on a small commit.
    let bytes: usize = plains.iter().map(|p| p.3.len()).sum();
    if workers <= 1 || bytes < 256 << 10 {
        return plains
            .iter()
            .map(|(k, f, c, p)| build_frame(*k, *f, *c, p))
            .collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut out: Vec<Option<BuiltFrame>> = plains.iter().map(|_| None).collect();
    let work = || {
        let mut mine = Vec::new();
        loop {
            let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let Some((k, f, c, p)) = plains.get(i) else {
                break;
            };
            mine.push((i, build_frame(*k, *f, *c, p)));
        }
        mine
    };
    let done: Vec<Vec<(usize, BuiltFrame)>> = std::thread::scope(|scope| {
        // This thread takes frames too: one thread fewer to start.
        let handles: Vec<_> = (1..workers).map(|_| scope.spawn(work)).collect();
        let mut done = vec![work()];
        done.extend(handles.into_iter().filter_map(|h| h.join().ok()));
        done
    });
    for (i, frame) in done.into_iter().flatten() {
        if let Some(slot) = out.get_mut(i) {
            *slot = Some(frame);
        }
    }
    // A worker that panicked left its slots empty: build those here.
    out.into_iter()
        .zip(plains)
        .map(|(o, (k, f, c, p))| o.unwrap_or_else(|| build_frame(*k, *f, *c, p)))
        .collect()
}

/// Idle zstd compression contexts. Workers of a commit take one and give it back: a
/// context made anew (per commit and worker) had to allocate and zero its tables each
/// time, which cost a batched append more CPU than some of its hashing.
static COMPRESSORS: std::sync::Mutex<Vec<zstd::bulk::Compressor<'static>>> =
    std::sync::Mutex::new(Vec::new());

/// `plain` compressed with an idle zstd context, when that is possible.
fn compress(plain: &[u8]) -> Option<Vec<u8>> {
    let idle = COMPRESSORS.lock().ok().and_then(|mut pool| pool.pop());
    let mut z = match idle {
        Some(z) => z,
        None => zstd::bulk::Compressor::new(ZSTD_LEVEL).ok()?,
    };
    let out = z.compress(plain).ok();
    if let Ok(mut pool) = COMPRESSORS.lock() {
        pool.push(z);
    }
    out
}

fn build_frame(kind: Kind, first: u64, count: u32, plain: &[u8]) -> BuiltFrame {
    let compressed = if plain.len() >= 128 {
        compress(plain).filter(|c| c.len() < plain.len())
    } else {
        None
    };
    let stored: &[u8] = compressed.as_deref().unwrap_or(plain);
    let header = Header {
        kind,
        compressed: compressed.is_some(),
        count,
        first,
        stored_len: stored.len() as u32,
        plain_len: plain.len() as u32,
        payload_crc: crc32fast::hash(stored),
    };
    let mut out = Vec::with_capacity(HEADER_LEN + stored.len());
    out.extend_from_slice(&header.encode());
    out.extend_from_slice(stored);
    (header, out)
}

pub fn encode_entry_record(out: &mut Vec<u8>, canonical: &[u8]) {
    out.extend_from_slice(&(canonical.len() as u32).to_be_bytes());
    out.extend_from_slice(canonical);
}

pub fn encode_raw_record(out: &mut Vec<u8>, hash: &Hash, raw: &RawState) {
    out.extend_from_slice(hash);
    let (state, bytes): (u8, &[u8]) = match raw {
        RawState::Kept(bytes) => (0, bytes),
        RawState::Redacted => (1, &[]),
        RawState::None => (2, &[]),
    };
    out.push(state);
    out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    out.extend_from_slice(bytes);
}

/// Calls `each(seq, canonical bytes)` for every record of an entries payload, in order,
/// from `first_seq` on; a payload cut short is a [`StoreError::BadEntry`] at its seq.
pub fn for_each_entry_record<'a>(
    value: &'a [u8],
    first_seq: u64,
    mut each: impl FnMut(u64, &'a [u8]) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let mut at = 0usize;
    let mut seq = first_seq;
    while at < value.len() {
        let len = value
            .get(at..at + 4)
            .map(|_| be_u32(value, at) as usize)
            .ok_or_else(|| bad_entry(seq, "record is cut short (length)"))?;
        let canonical = value
            .get(at + 4..at + 4 + len)
            .ok_or_else(|| bad_entry(seq, "record is cut short (entry bytes)"))?;
        each(seq, canonical)?;
        at += 4 + len;
        seq += 1;
    }
    Ok(())
}

/// The error for an entry record at `seq` that is not what it should be.
pub fn bad_entry(seq: u64, problem: impl Into<String>) -> StoreError {
    StoreError::BadEntry {
        seq,
        problem: problem.into(),
    }
}

/// Splits an entries payload, checking each entry's seq and canonical form.
pub fn split_entry_records(
    value: &[u8],
    first_seq: u64,
    out: &mut Vec<StoredEntry>,
) -> Result<(), StoreError> {
    let mut canonicals = Vec::new();
    let mut entries = Vec::new();
    for_each_entry_record(value, first_seq, |seq, canonical| {
        let entry = Entry::decode(canonical).map_err(|e| bad_entry(seq, e.to_string()))?;
        if entry.seq != seq {
            return Err(bad_entry(seq, format!("holds seq {} instead", entry.seq)));
        }
        canonicals.push(canonical);
        entries.push(entry);
        Ok(())
    })?;
    let chains = chain_hashes(&canonicals);
    for ((entry, canonical), chain) in entries.into_iter().zip(canonicals).zip(chains) {
        out.push(StoredEntry {
            entry,
            canonical: canonical.to_vec(),
            chain,
        });
    }
    Ok(())
}

/// A raw record as it sits in a frame payload, its bytes borrowed (and already checked
/// against the hash).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RawRef<'a> {
    Kept(&'a [u8]),
    Redacted,
    None,
}

/// Reads the raw records of a frame payload whose first record is `first_seq`, checks
/// every kept record's bytes against its hash (all at once: `hash_many`), and only then
/// hands each to `each`, borrowed: `verify` needs only hash and state, and copying every
/// record cost it an allocation apiece. On an error `each` is not called at all.
pub fn for_each_raw_record<'a>(
    value: &'a [u8],
    first_seq: u64,
    mut each: impl FnMut(Hash, RawRef<'a>),
) -> Result<(), StoreError> {
    let mut records = Vec::new();
    let parsed = parse_raw_records(value, first_seq, &mut records);
    // The kept bytes are hashed many at once; the first record that is wrong in either
    // way, by seq, is the one reported.
    let kept: Vec<&[u8]> = records
        .iter()
        .filter_map(|(_, r)| match r {
            RawRef::Kept(b) => Some(*b),
            _ => None,
        })
        .collect();
    let mut hashes = raw_hashes(&kept).into_iter();
    for (seq, (hash, state)) in (first_seq..).zip(&records) {
        if matches!(state, RawRef::Kept(_)) && hashes.next().as_ref() != Some(hash) {
            return Err(StoreError::BadRaw {
                seq,
                problem: "bytes do not match their BLAKE3 hash".into(),
            });
        }
    }
    parsed?;
    for (hash, state) in records {
        each(hash, state);
    }
    Ok(())
}

/// Splits a raw-records payload into `(hash, state)` pairs without checking the hashes,
/// stopping at the first record that is cut short or of an unknown state.
fn parse_raw_records<'a>(
    value: &'a [u8],
    first_seq: u64,
    out: &mut Vec<(Hash, RawRef<'a>)>,
) -> Result<(), StoreError> {
    let mut at = 0usize;
    let mut seq = first_seq;
    while at < value.len() {
        let bad = |problem: &str| StoreError::BadRaw {
            seq,
            problem: problem.to_string(),
        };
        let hash: Hash = value
            .get(at..at + 32)
            .and_then(|s| s.try_into().ok())
            .ok_or_else(|| bad("record is cut short (hash)"))?;
        let state = *value
            .get(at + 32)
            .ok_or_else(|| bad("record is cut short"))?;
        let len = value
            .get(at + 33..at + 37)
            .map(|_| be_u32(value, at + 33) as usize)
            .ok_or_else(|| bad("record is cut short (length)"))?;
        let state = match state {
            0 => RawRef::Kept(
                value
                    .get(at + 37..at + 37 + len)
                    .ok_or_else(|| bad("record is cut short (bytes)"))?,
            ),
            1 if len == 0 => RawRef::Redacted,
            2 if len == 0 => RawRef::None,
            _ => return Err(bad("unknown record state")),
        };
        out.push((hash, state));
        at += 37 + len;
        seq += 1;
    }
    Ok(())
}

/// Splits a raw-records payload, checking kept bytes against their hash.
pub fn split_raw_records(
    value: &[u8],
    first_seq: u64,
    out: &mut Vec<StoredRaw>,
) -> Result<(), StoreError> {
    for_each_raw_record(value, first_seq, |hash, state| {
        let state = match state {
            RawRef::Kept(b) => RawState::Kept(b.to_vec()),
            RawRef::Redacted => RawState::Redacted,
            RawRef::None => RawState::None,
        };
        out.push(StoredRaw { hash, state });
    })
}

/// Appends `leaf` to `range` and to `file_order` what the tree file gains with it: the
/// leaf, then each subtree it completes (post-order). Commits, the converter and open's
/// recomputation all write the tree in this order.
pub fn push_leaf(range: &mut CompactRange, leaf: Hash, file_order: &mut Vec<Hash>) {
    file_order.push(leaf);
    range.push(&Sha256Hasher, leaf, |_, _, node| file_order.push(*node));
}

/// Hash position of tree node (`level`, `index`) in the tree file.
pub fn node_position(level: u32, index: u64) -> u64 {
    let last_leaf = ((index + 1) << level) - 1;
    2 * last_leaf - u64::from(last_leaf.count_ones()) + u64::from(level)
}

/// Hashes the tree file holds for `size` leaves.
pub fn tree_len(size: u64) -> u64 {
    2 * size - u64::from(size.count_ones())
}

/// Ledger identity, written once at init.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Meta {
    pub format_version: u8,
    pub ledger_id: [u8; 16],
    pub origin: String,
    pub genesis_key: String,
}

pub fn encode_meta(meta: &Meta) -> Result<Vec<u8>, StoreError> {
    let body = postcard::to_stdvec(meta).map_err(|e| StoreError::BadMeta(e.to_string()))?;
    let mut out = META_MAGIC.to_vec();
    out.extend_from_slice(&body);
    let check = blake3::hash(&out);
    out.extend_from_slice(check.as_bytes());
    Ok(out)
}

pub fn decode_meta(bytes: &[u8]) -> Result<Meta, StoreError> {
    let bad = |p: &str| StoreError::BadMeta(p.to_string());
    let split = bytes
        .len()
        .checked_sub(32)
        .ok_or_else(|| bad("file is cut short"))?;
    let (body, check) = bytes.split_at(split);
    if blake3::hash(body).as_bytes() != check {
        return Err(bad(
            "checksum does not match (the file was changed or damaged)",
        ));
    }
    let rest = body
        .strip_prefix(META_MAGIC.as_slice())
        .ok_or_else(|| bad("not an auditledger ledger of this format"))?;
    let meta: Meta = postcard::from_bytes(rest).map_err(|e| bad(&e.to_string()))?;
    if postcard::to_stdvec(&meta).ok().as_deref() != Some(rest) {
        return Err(bad("not in canonical form"));
    }
    Ok(meta)
}

/// An entry to write: built and hashed by the ledger, stored here.
pub struct NewEntry {
    pub canonical: Vec<u8>,
    pub raw_hash: Hash,
    pub raw: RawState,
    pub dedup: Option<Hash>,
}

/// Everything one commit adds, in the order it is written.
pub struct CommitWrite<'a> {
    pub first_seq: u64,
    pub entries: &'a [NewEntry],
    /// Tree hashes to append: each leaf and the subtrees it completes, in post-order.
    pub tree_nodes: &'a [Hash],
}

/// De-duplication lookup as of open: (key prefix, seq), sorted. 16 bytes an event, where
/// a hash map would take about twice that. Candidates are confirmed against the entry.
struct DedupBase {
    sorted: Vec<(u64, u64)>,
    /// Whole records in the cache file, and the records it lacks (after a power cut).
    kept_records: usize,
    missing: Vec<u8>,
}

/// The largest read buffer a thread keeps between frames (a frame of 256 generated
/// Okta records is about 60 KiB compressed).
const KEEP_READ_BUFFER: usize = 4 << 20;

thread_local! {
    /// This thread's buffer for a frame as stored. A fresh one per frame was a fresh
    /// allocation the kernel had to zero (7% of `verify`'s CPU, in page faults).
    static READ_BUFFER: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    /// This thread's zstd decompression context. Making one per frame cost as much as
    /// decompressing the frame (4% of `verify`'s CPU); one per thread is reused by every
    /// read the thread makes.
    static DECOMPRESSOR: RefCell<Option<zstd::bulk::Decompressor<'static>>> =
        const { RefCell::new(None) };
}

/// Decompresses one frame payload of at most `capacity` plain bytes into `plain` (empty).
fn decompress(stored: &[u8], capacity: usize, plain: &mut Vec<u8>) -> io::Result<()> {
    plain.reserve(capacity);
    DECOMPRESSOR.with(|cell| {
        let mut slot = cell.borrow_mut();
        let z = match &mut *slot {
            Some(z) => z,
            empty => empty.insert(zstd::bulk::Decompressor::new()?),
        };
        z.decompress_to_buffer(stored, plain).map(|_| ())
    })
}

/// A hasher for keys that are already uniform (BLAKE3 outputs and their prefixes): the
/// first 8 bytes written are the hash. SipHash over them cost more than the lookup, twice
/// per appended event. Only for `u64` and `[u8; 32]` keys: a key that writes fewer than 8
/// bytes at a time would hash to 0.
#[derive(Clone, Copy, Default)]
pub struct UniformKeyHasher(u64);

impl std::hash::Hasher for UniformKeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // A slice's length prefix comes first and is shorter: the key's bytes win.
        if let Some(first) = bytes.get(..8).and_then(|b| <[u8; 8]>::try_from(b).ok()) {
            self.0 = u64::from_le_bytes(first);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }

    fn write_usize(&mut self, _: usize) {}
}

/// A map keyed by a uniform hash or hash prefix.
pub type UniformMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<UniformKeyHasher>>;

fn dedup_prefix(key: &Hash) -> u64 {
    be_u64(key, 0)
}

/// Maps an I/O error on file `name` of ledger `dir`.
fn io_at(dir: &Path, name: &str) -> impl Fn(io::Error) -> StoreError {
    let path = dir.join(name);
    move |source| StoreError::Io {
        path: path.clone(),
        source,
    }
}

/// Files the writer appends to beyond the log and the tree.
struct WriterFiles {
    index: Box<dyn FileHandle>,
    dedup: Box<dyn FileHandle>,
    dedup_len: u64,
    /// Keys this process committed.
    recent: UniformMap<u64, u64>,
    /// Keys whose prefix was already in `recent` (a 64-bit prefix collision: rare).
    recent_more: Vec<(u64, u64)>,
}

impl WriterFiles {
    /// `dedup_len` is set once the dedup cache is loaded (`Store::load_dedup`).
    fn new(index: Box<dyn FileHandle>, dedup: Box<dyn FileHandle>) -> Self {
        Self {
            index,
            dedup,
            dedup_len: 0,
            recent: UniformMap::default(),
            recent_more: Vec::new(),
        }
    }
}

/// The files of one ledger, as of the commit the checkpoint log ends with.
pub struct Store {
    fs: Arc<dyn Fs>,
    dir: PathBuf,
    log: Box<dyn FileHandle>,
    tree: Box<dyn FileHandle>,
    writer: Option<WriterFiles>,
    frames: Vec<Frame>,
    /// Positions in `frames` of entries frames, in seq order.
    entry_frames: Vec<usize>,
    /// Positions in `frames` of the live raw-records frame of each entries frame.
    raw_frames: Vec<usize>,
    size: u64,
    log_end: u64,
    /// The end of what this writer wrote to the log: frames, then zeros ahead.
    log_room: u64,
    key_changes: Vec<(u64, String)>,
    dedup: std::sync::OnceLock<DedupBase>,
    /// The size of the last commit sealed (synced and checkpointed, or found at open).
    sealed: u64,
    /// Tree hashes from position `tail_at` on, recomputed from the entries at open because
    /// the tree file's copy past the last [`TREE_SYNC_EVERY`] boundary was never synced and
    /// is missing (a reader after a power cut, before any writer repaired it). Empty
    /// otherwise.
    tail_at: u64,
    tail: Vec<Hash>,
    /// Threads that compress a commit's frames.
    workers: usize,
    /// The sizes of the commit markers found past the last checkpoint at open.
    unsigned: Vec<u64>,
}

/// What open found and repaired.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Recovery {
    /// Bytes past the last checkpoint (a commit that was never acknowledged) cut away.
    pub unacknowledged_log_bytes: u64,
    /// Cache records rebuilt from the log.
    pub rebuilt_index_records: u64,
    pub rebuilt_dedup_records: u64,
    /// Raw bundles a redaction had replaced whose old bytes were erased now.
    pub erased_frames: u64,
    /// Tree hashes past the last synced boundary that were lost or torn and were
    /// recomputed from the entries.
    pub rebuilt_tree_hashes: u64,
}

impl Store {
    pub fn fs(&self) -> Arc<dyn Fs> {
        self.fs.clone()
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn io(&self, name: &str) -> impl Fn(io::Error) -> StoreError {
        io_at(&self.dir, name)
    }

    fn empty(
        fs: Arc<dyn Fs>,
        dir: &Path,
        log: Box<dyn FileHandle>,
        tree: Box<dyn FileHandle>,
    ) -> Store {
        Store {
            fs,
            dir: dir.to_path_buf(),
            log,
            tree,
            writer: None,
            frames: Vec::new(),
            entry_frames: Vec::new(),
            raw_frames: Vec::new(),
            size: 0,
            log_end: 0,
            log_room: 0,
            key_changes: Vec::new(),
            dedup: std::sync::OnceLock::new(),
            sealed: 0,
            tail_at: 0,
            tail: Vec::new(),
            workers: super::cores(),
            unsigned: Vec::new(),
        }
    }

    pub fn workers(&self) -> usize {
        self.workers
    }

    /// The sizes of the commit markers a reader found past the last checkpoint it read.
    pub fn unsigned_commits(&self) -> &[u64] {
        &self.unsigned
    }

    pub fn set_workers(&mut self, workers: usize) {
        self.workers = workers.max(1);
    }

    /// Creates the (empty) files of a new ledger. `meta`, when given, is written first;
    /// the converter writes it last instead (its presence marks a finished ledger).
    pub fn create(fs: Arc<dyn Fs>, dir: &Path, meta: Option<&Meta>) -> Result<Store, StoreError> {
        if let Some(meta) = meta {
            Self::write_meta(fs.as_ref(), dir, meta)?;
        }
        let open = |name: &str| fs.open_write(&dir.join(name)).map_err(io_at(dir, name));
        let log = open(LOG_FILE)?;
        let tree = open(TREE_FILE)?;
        let index = open(INDEX_FILE)?;
        let dedup = open(DEDUP_FILE)?;
        let mut store = Store::empty(fs.clone(), dir, log, tree);
        store.writer = Some(WriterFiles::new(index, dedup));
        let _ = store.dedup.set(DedupBase {
            sorted: Vec::new(),
            kept_records: 0,
            missing: Vec::new(),
        });
        Ok(store)
    }

    /// Writes and syncs the identity file.
    pub fn write_meta(fs: &dyn Fs, dir: &Path, meta: &Meta) -> Result<(), StoreError> {
        let path = dir.join(META_FILE);
        let io = io_at(dir, META_FILE);
        let f = fs.open_write(&path).map_err(&io)?;
        let bytes = encode_meta(meta)?;
        f.set_len(0).map_err(&io)?;
        f.write_at(0, &bytes).map_err(&io)?;
        f.sync_data().map_err(io)
    }

    pub fn read_meta(fs: &dyn Fs, dir: &Path) -> Result<Meta, StoreError> {
        let path = dir.join(META_FILE);
        let bytes = super::fs::read_all(fs, &path).map_err(io_at(dir, META_FILE))?;
        decode_meta(&bytes)
    }

    /// Opens the store as of the checkpoint of `signed_size` entries (the last one in the
    /// checkpoint log). A writer cuts away what follows it and rebuilds the caches; a
    /// reader only looks no further.
    pub fn open(
        fs: Arc<dyn Fs>,
        dir: &Path,
        signed_size: u64,
        writable: bool,
    ) -> Result<(Store, Recovery), StoreError> {
        let io = |name: &'static str| io_at(dir, name);
        let open = |name: &'static str| {
            if writable {
                fs.open_write(&dir.join(name)).map_err(io(name))
            } else {
                fs.open_read(&dir.join(name)).map_err(io(name))
            }
        };
        let log = open(LOG_FILE)?;
        let tree = open(TREE_FILE)?;
        let log_len = log.len().map_err(io(LOG_FILE))?;
        let mut recovery = Recovery::default();

        // The cached headers, as far as they are whole and contiguous.
        let cached: Vec<u8> = if fs.exists(&dir.join(INDEX_FILE)) {
            super::fs::read_all(fs.as_ref(), &dir.join(INDEX_FILE)).map_err(io(INDEX_FILE))?
        } else {
            Vec::new()
        };
        let mut frames: Vec<Frame> = Vec::new();
        let mut offset = 0u64;
        for rec in cached.chunks_exact(HEADER_LEN) {
            let Some(header) = Header::decode(rec) else {
                break;
            };
            if header.end(offset) > log_len {
                break;
            }
            frames.push(Frame { header, offset });
            offset = header.end(offset);
        }
        let cached_frames = frames.len();

        // Walk the frames up to the commit marker of the signed size, reading headers from
        // the log where the cache stops.
        let mut store = Store::empty(fs.clone(), dir, log, tree);
        let mut end = 0u64;
        let mut found = false;
        let mut last_commit = None;
        // Raw-records frames whose payload does not check out: each must turn out to be
        // replaced by a later frame (a redaction whose erasure was cut short).
        let mut unchecked = Vec::new();
        loop {
            let frame = match frames.get(store.frames.len()) {
                Some(f) => *f,
                None => match store.read_frame_at(end, log_len, true)? {
                    Some((f, true)) => f,
                    Some((f, false)) if f.header.kind == Kind::Raws => {
                        unchecked.push(store.frames.len());
                        f
                    }
                    _ => break,
                },
            };
            let pos = store.frames.len();
            store.frames.push(frame);
            store.admit(&frame, pos)?;
            end = frame.header.end(frame.offset);
            if frame.header.kind == Kind::Commit {
                last_commit = Some(frame.header.first);
                if frame.header.first >= signed_size {
                    found = frame.header.first == signed_size;
                    break;
                }
            }
        }
        if !found {
            return Err(StoreError::Behind {
                found: last_commit.unwrap_or(0),
                signed: signed_size,
            });
        }
        if let Some(f) = unchecked
            .iter()
            .filter(|p| store.raw_frames.contains(p))
            .find_map(|&p| store.frames.get(p))
        {
            return Err(StoreError::Corrupt {
                file: LOG_FILE,
                offset: f.offset,
                problem: "payload checksum does not match".into(),
            });
        }
        store.log_end = end;
        // A writer cuts the log to `end` below.
        store.log_room = end;
        // A crash can leave at most the one commit that was being written past the last
        // checkpoint; more means the checkpoint log lost acknowledged commits. A reader
        // may also see a live writer's commit in flight, and commits signed after it read
        // the checkpoint log: `Ledger::open_on` judges its count against a fresh read.
        let unsigned = store.commits_after(end, log_len, &frames, writable)?;
        if writable && unsigned.len() > 1 {
            return Err(StoreError::Unsigned {
                signed: signed_size,
                commits: unsigned.len() as u64,
            });
        }
        store.unsigned = unsigned;
        if store.size != signed_size {
            return Err(StoreError::Corrupt {
                file: LOG_FILE,
                offset: end,
                problem: format!(
                    "the commit marker of size {signed_size} follows {} entries",
                    store.size
                ),
            });
        }
        store.sealed = signed_size;
        let tree_bytes = tree_len(signed_size) * 32;
        let tree_len_now = store.tree.len().map_err(io(TREE_FILE))?;
        // Only the hashes up to the last boundary were synced; the rest are recomputed.
        let synced_size = signed_size / TREE_SYNC_EVERY * TREE_SYNC_EVERY;
        let synced_bytes = tree_len(synced_size) * 32;
        if tree_len_now < synced_bytes {
            return Err(StoreError::Corrupt {
                file: TREE_FILE,
                offset: tree_len_now,
                problem: format!(
                    "holds {tree_len_now} bytes; the {synced_size} entries synced need {synced_bytes}"
                ),
            });
        }
        let mut tail = store.recompute_tree_tail(synced_size)?;
        let mut on_file = vec![0u8; tail.len() * 32];
        let readable = tree_len_now.min(tree_bytes).saturating_sub(synced_bytes) as usize;
        if let Some(prefix) = on_file.get_mut(..readable) {
            match store.tree.read_at(synced_bytes, prefix) {
                // A writer recovering from a power cut cut the file since its length was
                // read: what it cut reads as lost, and is recomputed.
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof && !writable => prefix.fill(0),
                other => other.map_err(io(TREE_FILE))?,
            }
        }
        // From the first hash the file lacks (past its end, or never written: zeros) on,
        // the recomputed hashes stand in. A hash the file holds that differs is left for
        // `verify` to report: that is not a power cut but a changed file or entry.
        let lost_from = on_file
            .chunks_exact(32)
            .take(readable / 32)
            .position(|f| f.iter().all(|&b| b == 0))
            .unwrap_or(readable / 32);
        let lost = tail.split_off(lost_from.min(tail.len()));
        let any_lost = !lost.is_empty();
        if any_lost {
            recovery.rebuilt_tree_hashes = lost.len() as u64;
            store.tail_at = synced_bytes / 32 + lost_from as u64;
            store.tail = lost;
        }
        if writable {
            recovery.unacknowledged_log_bytes = store.written_end(end, log_len)? - end;
            if log_len > end {
                store.log.set_len(end).map_err(io(LOG_FILE))?;
                store.log.sync_data().map_err(io(LOG_FILE))?;
            }
            // The file is cut to the hashes it holds whole and trusted, and the cut synced,
            // before the repair is written and this writer appends. Stale hashes past the
            // cut that came back after a later power cut would sit where this writer's
            // commits wrote none yet, and be taken for a changed file (found by the two-cut
            // test); so would a hash a byte-granular tear had cut short, made whole in
            // length by zeros from a later sector written back without the one before it
            // (found by the same test with sectors written back in any order). The repair
            // itself needs no sync: until a commit crosses the next boundary (and syncs
            // the whole file), every open recomputes these hashes.
            let trusted_end = if any_lost {
                store.tail_at * 32
            } else {
                tree_bytes
            };
            if tree_len_now > trusted_end {
                store.tree.set_len(trusted_end).map_err(io(TREE_FILE))?;
                store.tree.sync_data().map_err(io(TREE_FILE))?;
            }
            if any_lost {
                store
                    .tree
                    .write_at(store.tail_at * 32, &store.tail.concat())
                    .map_err(io(TREE_FILE))?;
                store.tail = Vec::new();
            }
            let index = fs
                .open_write(&dir.join(INDEX_FILE))
                .map_err(io(INDEX_FILE))?;
            let keep = cached_frames.min(store.frames.len());
            index
                .set_len((keep * HEADER_LEN) as u64)
                .map_err(io(INDEX_FILE))?;
            let mut missing = Vec::new();
            for f in store.frames.get(keep..).unwrap_or_default() {
                missing.extend_from_slice(&f.header.encode());
            }
            recovery.rebuilt_index_records = (store.frames.len() - keep) as u64;
            index
                .write_at((keep * HEADER_LEN) as u64, &missing)
                .map_err(io(INDEX_FILE))?;
            // The cut and rewrite must be durable before this writer appends: otherwise a
            // second power cut brings back the stale headers past the cut, and the next
            // open trusts them (found by the two-cut test in tests/crash.rs).
            index.sync_data().map_err(io(INDEX_FILE))?;
            let dedup = fs
                .open_write(&dir.join(DEDUP_FILE))
                .map_err(io(DEDUP_FILE))?;
            store.writer = Some(WriterFiles::new(index, dedup));
            recovery.rebuilt_dedup_records = store.load_dedup()?;
            recovery.erased_frames = store.erase_superseded()?;
        }
        Ok((store, recovery))
    }

    /// Where the bytes between `from` and `log_len` stop being zeros ahead (see the module
    /// docs): what a crash left of a commit that was never acknowledged ends there.
    fn written_end(&self, from: u64, log_len: u64) -> Result<u64, StoreError> {
        let mut end = log_len;
        let mut block = vec![0u8; 64 << 10];
        while end > from {
            let start = end.saturating_sub(block.len() as u64).max(from);
            let buf = block.get_mut(..(end - start) as usize).unwrap_or_default();
            self.log.read_at(start, buf).map_err(self.io(LOG_FILE))?;
            if let Some(i) = buf.iter().rposition(|&b| b != 0) {
                return Ok(start + i as u64 + 1);
            }
            end = start;
        }
        Ok(from)
    }

    /// Whole commit markers in the log after byte `from` (frames beyond the signed size).
    /// The sizes of the commit markers in the log from `from` on; with `payloads`, only up
    /// to the first frame whose payload fails its checksum (a reader reads headers only:
    /// a live writer's frames past the checkpoint are not its to judge).
    fn commits_after(
        &self,
        from: u64,
        log_len: u64,
        cached: &[Frame],
        payloads: bool,
    ) -> Result<Vec<u64>, StoreError> {
        let mut at = from;
        let mut commits = Vec::new();
        let mut next_cached = cached.iter().position(|f| f.offset == from);
        loop {
            let frame = match next_cached.and_then(|i| cached.get(i)) {
                Some(f) => {
                    next_cached = next_cached.map(|i| i + 1);
                    *f
                }
                None => {
                    next_cached = None;
                    match self.read_frame_at(at, log_len, payloads)? {
                        Some((f, true)) => f,
                        _ => break,
                    }
                }
            };
            if frame.header.kind == Kind::Commit {
                commits.push(frame.header.first);
            }
            at = frame.header.end(frame.offset);
        }
        Ok(commits)
    }

    /// Reads and checks the frame at `offset` of the log (when the cache stops short);
    /// `None` at the end of what is whole. The flag says whether its payload checks out: a
    /// header over a payload that does not is a torn write, or a raw-records frame that a
    /// redaction replaced and whose erasure a crash cut short (open tells the two apart
    /// once it has seen the frame that replaced it).
    fn read_frame_at(
        &self,
        offset: u64,
        log_len: u64,
        payload: bool,
    ) -> Result<Option<(Frame, bool)>, StoreError> {
        if offset + HEADER_LEN as u64 > log_len {
            return Ok(None);
        }
        let mut b = [0u8; HEADER_LEN];
        match self.log.read_at(offset, &mut b) {
            // A writer that closed since `log_len` was read cut its zeros ahead.
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
            other => other.map_err(self.io(LOG_FILE))?,
        }
        let Some(header) = Header::decode(&b) else {
            return Ok(None);
        };
        if header.end(offset) > log_len {
            return Ok(None);
        }
        let frame = Frame { header, offset };
        let payload_ok = !payload || self.read_payload(&frame).is_ok();
        Ok(Some((frame, payload_ok)))
    }

    /// Adds a frame found at open to the seq maps, checking it continues the log.
    fn admit(&mut self, frame: &Frame, pos: usize) -> Result<(), StoreError> {
        let h = &frame.header;
        let corrupt = |problem: String| StoreError::Corrupt {
            file: LOG_FILE,
            offset: frame.offset,
            problem,
        };
        match h.kind {
            Kind::Entries => {
                if h.first != self.size || h.count == 0 || h.count as u64 > BUNDLE {
                    return Err(corrupt(format!(
                        "entries frame for seqs {}+{} where seq {} comes next",
                        h.first, h.count, self.size
                    )));
                }
                self.entry_frames.push(pos);
                self.size += u64::from(h.count);
            }
            Kind::Raws | Kind::Erased => {
                let next_first = self
                    .frame_in(&self.entry_frames, self.raw_frames.len())
                    .map(|f| (f.header.first, f.header.count));
                // An erased frame keeps its slot until the frame that replaced it comes.
                if next_first == Some((h.first, h.count)) {
                    self.raw_frames.push(pos);
                } else if let Ok(i) = self.raw_slot(h.first) {
                    if h.kind == Kind::Raws {
                        if let Some(slot) = self.raw_frames.get_mut(i) {
                            *slot = pos;
                        }
                    }
                } else if h.kind == Kind::Raws {
                    return Err(corrupt(format!(
                        "raw-records frame for seqs {}+{} matches no entries frame",
                        h.first, h.count
                    )));
                }
            }
            Kind::Commit => {
                if h.first != self.size || self.raw_frames.len() != self.entry_frames.len() {
                    return Err(corrupt(format!(
                        "commit marker of size {} after {} entries",
                        h.first, self.size
                    )));
                }
                if h.count > 0 {
                    let text = self.read_payload(frame)?;
                    for line in String::from_utf8_lossy(&text).lines() {
                        let (from, key) = line
                            .split_once(' ')
                            .and_then(|(f, k)| Some((f.parse::<u64>().ok()?, k)))
                            .ok_or_else(|| corrupt("malformed key change".into()))?;
                        self.key_changes.push((from, key.to_string()));
                    }
                }
            }
        }
        Ok(())
    }

    /// `frames[i]` for frames being admitted (open pushes them as it walks).
    /// The slot in `raw_frames` of the bundle chunk starting at `first`.
    fn raw_slot(&self, first: u64) -> Result<usize, usize> {
        self.raw_frames.binary_search_by_key(&first, |&i| {
            self.frames.get(i).map_or(0, |f| f.header.first)
        })
    }

    /// Reads a frame's payload, checks its CRC and decompresses it.
    fn read_payload(&self, frame: &Frame) -> Result<Vec<u8>, StoreError> {
        let mut plain = Vec::new();
        self.read_payload_into(frame, &mut plain)?;
        Ok(plain)
    }

    /// Reads `frame`'s payload, checked and decompressed, into `plain` (replacing what it
    /// held). A caller that reads many frames passes the same buffer each time: a fresh
    /// one per frame was memory the kernel had to zero (5% of `verify`'s CPU).
    fn read_payload_into(&self, frame: &Frame, plain: &mut Vec<u8>) -> Result<(), StoreError> {
        let h = &frame.header;
        let corrupt = |problem: &str| StoreError::Corrupt {
            file: LOG_FILE,
            offset: frame.offset,
            problem: problem.to_string(),
        };
        if plain.capacity() > KEEP_READ_BUFFER {
            *plain = Vec::new();
        }
        plain.clear();
        READ_BUFFER.with(|cell| {
            let mut buf = cell.borrow_mut();
            // Kept for the next frame only while it is of an ordinary frame's size: a frame
            // of large records must not pin its memory to the thread.
            if buf.capacity() > KEEP_READ_BUFFER {
                *buf = Vec::new();
            }
            buf.clear();
            buf.resize(HEADER_LEN + h.stored_len as usize, 0);
            self.log
                .read_at(frame.offset, &mut buf)
                .map_err(self.io(LOG_FILE))?;
            let (head, stored) = buf.split_at(HEADER_LEN);
            if Header::decode(head) != Some(*h) {
                return Err(corrupt("frame header differs from the index"));
            }
            if crc32fast::hash(stored) != h.payload_crc {
                return Err(corrupt("payload checksum does not match"));
            }
            if !h.compressed {
                plain.extend_from_slice(stored);
                return Ok(());
            }
            decompress(stored, h.plain_len as usize, plain)
                .map_err(|e| corrupt(&format!("payload does not decompress: {e}")))?;
            if plain.len() != h.plain_len as usize {
                return Err(corrupt("payload decompresses to the wrong length"));
            }
            Ok(())
        })
    }

    pub fn key_changes(&self) -> &[(u64, String)] {
        &self.key_changes
    }

    /// Number of entries frames: the unit `verify` splits between threads.
    pub fn entry_frame_count(&self) -> usize {
        self.entry_frames.len()
    }

    /// The first seq and count of entries frame `i`.
    pub fn entry_frame_span(&self, i: usize) -> Option<(u64, u64)> {
        let f = self.frame_in(&self.entry_frames, i)?;
        Some((f.header.first, u64::from(f.header.count)))
    }

    /// The frame at place `i` of `list` (`entry_frames` or `raw_frames`).
    fn frame_in(&self, list: &[usize], i: usize) -> Option<&Frame> {
        self.frames.get(*list.get(i)?)
    }

    /// The plain payload of entries frame `i` and of its live raw-records frame, into
    /// `entries` and `raws` (replacing what they held; see [`Store::read_payload_into`]).
    pub fn frame_payloads(
        &self,
        i: usize,
        entries: &mut Vec<u8>,
        raws: &mut Vec<u8>,
    ) -> Result<(), StoreError> {
        let missing = || StoreError::Corrupt {
            file: LOG_FILE,
            offset: 0,
            problem: format!("entries frame {i} is missing"),
        };
        let e = self.frame_in(&self.entry_frames, i).ok_or_else(missing)?;
        let r = self.frame_in(&self.raw_frames, i).ok_or_else(missing)?;
        let seq = e.header.first;
        self.read_payload_into(e, entries)
            .map_err(|err| bad_entry(seq, err.to_string()))?;
        self.read_payload_into(r, raws)
            .map_err(|err| StoreError::BadRaw {
                seq,
                problem: err.to_string(),
            })
    }

    /// The entries frame holding `seq`.
    fn frame_of(&self, seq: u64) -> Option<usize> {
        let i = self
            .entry_frames
            .partition_point(|&p| self.frames.get(p).is_some_and(|f| f.header.first <= seq));
        i.checked_sub(1)
    }

    /// Every entry of the frame holding `seq`, checked record by record.
    pub fn read_frame_entries(&self, seq: u64) -> Result<Vec<StoredEntry>, StoreError> {
        let f = self
            .frame_of(seq)
            .and_then(|i| self.frame_in(&self.entry_frames, i))
            .ok_or_else(|| bad_entry(seq, "entry is missing"))?;
        let first = f.header.first;
        let payload = self
            .read_payload(f)
            .map_err(|err| bad_entry(first, err.to_string()))?;
        let mut out = Vec::with_capacity(f.header.count as usize);
        split_entry_records(&payload, first, &mut out)?;
        if out.len() != f.header.count as usize {
            return Err(bad_entry(
                first + out.len() as u64,
                format!(
                    "frame holds {} entries, its header says {}",
                    out.len(),
                    f.header.count
                ),
            ));
        }
        Ok(out)
    }

    /// The raw records of the frame holding `seq`.
    pub fn read_frame_raws(&self, seq: u64) -> Result<(u64, Vec<StoredRaw>), StoreError> {
        let bad = |problem: &str| StoreError::BadRaw {
            seq,
            problem: problem.to_string(),
        };
        let f = self
            .frame_of(seq)
            .and_then(|i| self.frame_in(&self.raw_frames, i))
            .ok_or_else(|| bad("missing"))?;
        let payload = self.read_payload(f).map_err(|e| bad(&e.to_string()))?;
        let mut out = Vec::with_capacity(f.header.count as usize);
        split_raw_records(&payload, f.header.first, &mut out)?;
        Ok((f.header.first, out))
    }

    pub fn read_entry(&self, seq: u64) -> Result<StoredEntry, StoreError> {
        let entries = self.read_frame_entries(seq)?;
        let first = entries.first().map_or(0, |e| e.entry.seq);
        entries
            .into_iter()
            .nth((seq - first) as usize)
            .ok_or_else(|| bad_entry(seq, "entry is missing"))
    }

    /// A tree node hash: one read.
    pub fn node(&self, level: u32, index: u64) -> Result<Hash, StoreError> {
        let pos = node_position(level, index);
        if let Some(h) = self.tail_hash(pos) {
            return Ok(*h);
        }
        let mut h = [0u8; 32];
        self.tree
            .read_at(pos * 32, &mut h)
            .map_err(self.io(TREE_FILE))?;
        Ok(h)
    }

    /// Reads `count` tree hashes from position `pos` (for `verify`'s sequential pass).
    pub fn tree_hashes(&self, pos: u64, count: u64) -> Result<Vec<Hash>, StoreError> {
        let from_file = if self.tail.is_empty() {
            count
        } else {
            count.min(self.tail_at.saturating_sub(pos))
        };
        let mut buf = vec![0u8; (from_file * 32) as usize];
        self.tree
            .read_at(pos * 32, &mut buf)
            .map_err(self.io(TREE_FILE))?;
        let mut out: Vec<Hash> = buf.as_chunks::<32>().0.to_vec();
        for p in pos + from_file..pos + count {
            let h = self.tail_hash(p).ok_or_else(|| StoreError::Corrupt {
                file: TREE_FILE,
                offset: p * 32,
                problem: "tree hash past the ledger's size".into(),
            })?;
            out.push(*h);
        }
        Ok(out)
    }

    /// The recomputed tree hash at position `pos`, when open had to recompute it.
    fn tail_hash(&self, pos: u64) -> Option<&Hash> {
        self.tail
            .get(usize::try_from(pos.checked_sub(self.tail_at)?).ok()?)
    }

    /// The tree hashes of entries `from..self.size` (positions `tree_len(from)..`), from
    /// the entries in the log and the perfect subtrees before `from` in the tree file.
    fn recompute_tree_tail(&self, from: u64) -> Result<Vec<Hash>, StoreError> {
        let hasher = Sha256Hasher;
        let mut range = CompactRange::load(self, from)?;
        let mut out = Vec::new();
        let mut seq = from;
        while seq < self.size {
            let before = seq;
            for e in self.read_frame_entries(seq)? {
                if e.entry.seq == seq {
                    push_leaf(&mut range, hasher.leaf(&e.canonical), &mut out);
                    seq += 1;
                }
            }
            if seq == before {
                return Err(bad_entry(seq, "entry is missing from its frame"));
            }
        }
        Ok(out)
    }

    /// The C2SP tlog-tiles tile at tile level `level`, index `index`, of a tree of `size`
    /// leaves: the hashes of tree level 8·`level`, nodes `256·index..`, up to 256 of them.
    pub fn tile(&self, level: u32, index: u64, size: u64) -> Result<Vec<u8>, StoreError> {
        let nodes = size >> (8 * level);
        let first = index * 256;
        let width = nodes.saturating_sub(first).min(256);
        let mut out = Vec::with_capacity(width as usize * 32);
        for n in first..first + width {
            out.extend_from_slice(&self.node(8 * level, n)?);
        }
        Ok(out)
    }

    /// Seqs of entries whose de-duplication key may be `key` (prefix match; the caller
    /// confirms against the entry). A reader builds the lookup on first use.
    pub fn dedup_candidates(&self, key: &Hash) -> Result<Vec<u64>, StoreError> {
        let base = self.dedup_base()?;
        let p = dedup_prefix(key);
        let from = base.sorted.partition_point(|(k, _)| *k < p);
        let mut out: Vec<u64> = base
            .sorted
            .get(from..)
            .unwrap_or_default()
            .iter()
            .take_while(|(k, _)| *k == p)
            .map(|(_, s)| *s)
            .collect();
        if let Some(w) = self.writer.as_ref() {
            out.extend(w.recent.get(&p));
            out.extend(
                w.recent_more
                    .iter()
                    .filter(|(k, _)| *k == p)
                    .map(|(_, s)| *s),
            );
        }
        Ok(out)
    }

    /// Groups of seqs whose de-duplication keys share a prefix: where the same source id
    /// was stored twice (the caller confirms with the full key).
    pub fn dedup_repeats(&self) -> Result<Vec<Vec<u64>>, StoreError> {
        let base = self.dedup_base()?;
        // A reader groups the cached table in place: at 10 M entries a copy is 160 MiB.
        let all: std::borrow::Cow<[(u64, u64)]> = match self.writer.as_ref() {
            None => std::borrow::Cow::Borrowed(&base.sorted),
            Some(w) => {
                let mut all = base.sorted.clone();
                all.extend(w.recent.iter().map(|(k, s)| (*k, *s)));
                all.extend(w.recent_more.iter().copied());
                all.sort_unstable();
                all.dedup();
                std::borrow::Cow::Owned(all)
            }
        };
        Ok(all
            .chunk_by(|a, b| a.0 == b.0)
            .filter(|g| g.len() > 1)
            .map(|g| g.iter().map(|(_, s)| *s).collect())
            .collect())
    }

    /// The de-duplication lookup, built on first use.
    fn dedup_base(&self) -> Result<&DedupBase, StoreError> {
        match self.dedup.get() {
            Some(b) => Ok(b),
            None => {
                let built = self.build_dedup()?;
                Ok(self.dedup.get_or_init(|| built))
            }
        }
    }

    /// Reads the dedup cache, keeping its whole records that continue in seq order, and
    /// computes from the log the records it lacks (after a power cut).
    fn build_dedup(&self) -> Result<DedupBase, StoreError> {
        let path = self.path(DEDUP_FILE);
        // Read in slices, not whole: the file is 32 bytes per entry (320 MiB at 10 M).
        const SLICE: usize = DEDUP_RECORD * 32_768;
        let file = if self.fs.exists(&path) {
            Some(self.fs.open_read(&path).map_err(self.io(DEDUP_FILE))?)
        } else {
            None
        };
        let file_len = match &file {
            Some(f) => f.len().map_err(self.io(DEDUP_FILE))?,
            None => 0,
        };
        let records = usize::try_from(file_len).unwrap_or(usize::MAX) / DEDUP_RECORD;
        let mut sorted = Vec::with_capacity(records.min(self.size as usize));
        let mut next_seq = 0u64;
        let mut buf = vec![0u8; SLICE];
        let mut offset = 0u64;
        'read: while let Some(f) = file.as_ref() {
            let whole = (file_len - offset) as usize / DEDUP_RECORD * DEDUP_RECORD;
            let n = whole.min(SLICE);
            if n == 0 {
                break;
            }
            let slice = buf.get_mut(..n).unwrap_or_default();
            match f.read_at(offset, slice) {
                // A writer's open cut the cache since its length was read: the rest is
                // rebuilt from the log, as after a power cut.
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => break,
                other => other.map_err(self.io(DEDUP_FILE))?,
            }
            offset += n as u64;
            for rec in slice.chunks_exact(DEDUP_RECORD) {
                let seq = be_u64(rec, 24);
                let zero_key = rec.get(..24).is_none_or(|k| k.iter().all(|&b| b == 0));
                if seq < next_seq || seq >= self.size || zero_key {
                    break 'read;
                }
                sorted.push((be_u64(rec, 0), seq));
                next_seq = seq + 1;
            }
        }
        let kept_records = sorted.len();
        let mut missing = Vec::new();
        let mut seq = next_seq;
        while seq < self.size {
            let entries = self.read_frame_entries(seq)?;
            let from = seq;
            for e in entries.iter().filter(|e| e.entry.seq >= from) {
                if let Some(ev) = e.entry.event() {
                    let key = super::entry::dedup_key(ev, &e.entry.raw_hash);
                    missing.extend_from_slice(key.get(..24).unwrap_or_default());
                    missing.extend_from_slice(&e.entry.seq.to_be_bytes());
                    sorted.push((dedup_prefix(&key), e.entry.seq));
                }
                seq = e.entry.seq + 1;
            }
        }
        sorted.sort_unstable();
        Ok(DedupBase {
            sorted,
            kept_records,
            missing,
        })
    }

    /// A writer's open: builds the lookup and writes the records the cache lacked.
    fn load_dedup(&mut self) -> Result<u64, StoreError> {
        let base = self.build_dedup()?;
        let io = io_at(&self.dir, DEDUP_FILE);
        let Some(w) = self.writer.as_mut() else {
            return Ok(0);
        };
        let keep_len = (base.kept_records * DEDUP_RECORD) as u64;
        // The cut is durable before anything is written past it, as for the tree (see
        // `open`): a record a byte-granular tear had cut short must not come back whole
        // in length, zeros in its key, under the rebuilt ones (records have no checksum).
        if w.dedup.len().map_err(&io)? > keep_len {
            w.dedup.set_len(keep_len).map_err(&io)?;
            w.dedup.sync_data().map_err(&io)?;
        }
        w.dedup.write_at(keep_len, &base.missing).map_err(&io)?;
        // Durable before this writer appends, as for the index (see `open`).
        w.dedup.sync_data().map_err(io)?;
        w.dedup_len = keep_len + base.missing.len() as u64;
        let rebuilt = (base.missing.len() / DEDUP_RECORD) as u64;
        let _ = self.dedup.set(base);
        Ok(rebuilt)
    }

    /// Writes entries (with their raw records and tree nodes) after the last frame, not
    /// synced and without a commit marker: until [`Store::write_seal`] they are a torn tail
    /// that the next writer's open cuts away, and readers never walk past the last marker.
    pub fn write_frames(&mut self, c: &CommitWrite<'_>) -> Result<PendingCommit, StoreError> {
        let mut plains: Vec<(Kind, u64, u32, Vec<u8>)> = Vec::new();
        let mut seq = c.first_seq;
        let mut rest = c.entries;
        while !rest.is_empty() {
            let room = (BUNDLE - seq % BUNDLE) as usize;
            let (chunk, tail) = rest.split_at(room.min(rest.len()));
            let mut plain = Vec::new();
            for e in chunk {
                encode_entry_record(&mut plain, &e.canonical);
            }
            plains.push((Kind::Entries, seq, chunk.len() as u32, plain));
            let mut plain = Vec::new();
            for e in chunk {
                encode_raw_record(&mut plain, &e.raw_hash, &e.raw);
            }
            plains.push((Kind::Raws, seq, chunk.len() as u32, plain));
            seq += chunk.len() as u64;
            rest = tail;
        }
        self.tree
            .write_at(tree_len(c.first_seq) * 32, &c.tree_nodes.concat())
            .map_err(self.io(TREE_FILE))?;
        let mut dedup_keys = Vec::new();
        for (i, e) in c.entries.iter().enumerate() {
            if let Some(k) = e.dedup {
                dedup_keys.push((k, c.first_seq + i as u64));
            }
        }
        self.append_frames(&plains, seq, dedup_keys)
    }

    /// Ends a commit: raw bundles a redaction rewrites, then the commit marker (with the
    /// key changes), then `fdatasync` of the log, and of the tree when the commit crosses
    /// a multiple of [`TREE_SYNC_EVERY`] entries. What it returns must be acknowledged once
    /// the checkpoint log holds the commit's checkpoint.
    pub fn write_seal(
        &mut self,
        size: u64,
        replaced_raws: &[(u64, Vec<StoredRaw>)],
        key_changes: &[(u64, String)],
    ) -> Result<PendingCommit, StoreError> {
        let mut plains: Vec<(Kind, u64, u32, Vec<u8>)> = Vec::new();
        for (first, raws) in replaced_raws {
            let mut plain = Vec::new();
            for r in raws {
                encode_raw_record(&mut plain, &r.hash, &r.state);
            }
            plains.push((Kind::Raws, *first, raws.len() as u32, plain));
        }
        let mut text = String::new();
        for (from, key) in key_changes {
            text.push_str(&format!("{from} {key}\n"));
        }
        plains.push((
            Kind::Commit,
            size,
            key_changes.len() as u32,
            text.into_bytes(),
        ));
        let pending = self.append_frames(&plains, size, Vec::new())?;
        if size - self.sealed < SMALL_COMMIT && pending.log_end + ZEROS_AHEAD_LOW > self.log_room {
            let from = pending.log_end.max(self.log_room);
            let to = pending.log_end + LOG_ZEROS_AHEAD;
            let zeros = vec![0u8; usize::try_from(to - from).unwrap_or_default()];
            self.log.write_at(from, &zeros).map_err(self.io(LOG_FILE))?;
            self.log_room = to;
        }
        self.log.sync_data().map_err(self.io(LOG_FILE))?;
        if self.sealed / TREE_SYNC_EVERY != size / TREE_SYNC_EVERY {
            self.tree.sync_data().map_err(self.io(TREE_FILE))?;
        }
        self.sealed = size;
        Ok(pending)
    }

    /// Cuts the zeros a writer wrote ahead of the log's end, when it closes cleanly. Only
    /// for a writer whose every write was acknowledged or staged: the cut must not reach
    /// a frame the checkpoint log may name.
    pub fn cut_zeros_ahead(&mut self) -> Result<(), StoreError> {
        if self.writer.is_some() && self.log_room > self.log_end {
            self.log.set_len(self.log_end).map_err(self.io(LOG_FILE))?;
            self.log_room = self.log_end;
        }
        Ok(())
    }

    /// Compresses and appends frames to the log, their headers to the index cache and the
    /// de-duplication keys to the dedup cache (caches unsynced: open rebuilds them).
    fn append_frames(
        &mut self,
        plains: &[(Kind, u64, u32, Vec<u8>)],
        size: u64,
        dedup_keys: Vec<(Hash, u64)>,
    ) -> Result<PendingCommit, StoreError> {
        let built = build_frames(plains, self.workers);
        let mut buf = Vec::with_capacity(built.iter().map(|(_, b)| b.len()).sum());
        let mut new_frames = Vec::with_capacity(built.len());
        for (header, bytes) in built {
            new_frames.push(Frame {
                header,
                offset: self.log_end + buf.len() as u64,
            });
            buf.extend_from_slice(&bytes);
        }
        let mut index_bytes = Vec::with_capacity(new_frames.len() * HEADER_LEN);
        for f in &new_frames {
            index_bytes.extend_from_slice(&f.header.encode());
        }
        let mut dedup_bytes = Vec::with_capacity(dedup_keys.len() * DEDUP_RECORD);
        for (k, seq) in &dedup_keys {
            dedup_bytes.extend_from_slice(k.get(..24).unwrap_or_default());
            dedup_bytes.extend_from_slice(&seq.to_be_bytes());
        }
        self.log
            .write_at(self.log_end, &buf)
            .map_err(self.io(LOG_FILE))?;
        self.log_room = self.log_room.max(self.log_end + buf.len() as u64);
        let index_at = (self.frames.len() * HEADER_LEN) as u64;
        let w = self.writer.as_ref().ok_or_else(|| StoreError::Io {
            path: self.dir.clone(),
            source: io::Error::other("the store is open read-only"),
        })?;
        w.index
            .write_at(index_at, &index_bytes)
            .map_err(self.io(INDEX_FILE))?;
        w.dedup
            .write_at(w.dedup_len, &dedup_bytes)
            .map_err(self.io(DEDUP_FILE))?;
        Ok(PendingCommit {
            frames: new_frames,
            log_end: self.log_end + buf.len() as u64,
            size,
            dedup_added: dedup_bytes.len() as u64,
            dedup_keys,
        })
    }

    /// Takes written frames into the in-memory view: staged ones, so later batches of the
    /// same commit see them, or a commit once its checkpoint is logged. Only the checkpoint
    /// log decides what a later open keeps.
    pub fn acknowledge(&mut self, p: PendingCommit) -> Result<(), StoreError> {
        for f in p.frames {
            let pos = self.frames.len();
            self.frames.push(f);
            self.admit(&f, pos)?;
        }
        self.log_end = p.log_end;
        debug_assert_eq!(self.size, p.size);
        if let Some(w) = self.writer.as_mut() {
            w.dedup_len += p.dedup_added;
            for (k, s) in &p.dedup_keys {
                if let Some(earlier) = w.recent.insert(dedup_prefix(k), *s) {
                    w.recent_more.push((dedup_prefix(k), earlier));
                }
            }
        }
        Ok(())
    }

    /// Erases the bytes of every raw-records frame a later frame replaced (a redaction):
    /// its payload becomes zeros. The header stays as it was, so no crash can tear it:
    /// the payload no longer matches its checksum, which open accepts of a replaced frame
    /// only. Idempotent (a frame already zero is left alone); run after every redaction
    /// commit and at every writer open, so a crash between the two, or during it, cannot
    /// leave erased data readable. Returns how many frames it erased.
    pub fn erase_superseded(&mut self) -> Result<u64, StoreError> {
        if self.writer.is_none() {
            return Ok(0);
        }
        let live: std::collections::HashSet<usize> = self.raw_frames.iter().copied().collect();
        let stale: Vec<Frame> = self
            .frames
            .iter()
            .enumerate()
            .filter(|(i, f)| f.header.kind == Kind::Raws && !live.contains(i))
            .map(|(_, f)| *f)
            .collect();
        let mut erased = 0;
        for f in stale {
            let at = f.offset + HEADER_LEN as u64;
            let mut payload = vec![0u8; f.header.stored_len as usize];
            self.log
                .read_at(at, &mut payload)
                .map_err(self.io(LOG_FILE))?;
            if payload.iter().all(|&b| b == 0) {
                continue;
            }
            payload.fill(0);
            self.log.write_at(at, &payload).map_err(self.io(LOG_FILE))?;
            erased += 1;
        }
        if erased > 0 {
            self.log.sync_data().map_err(self.io(LOG_FILE))?;
        }
        Ok(erased)
    }

    /// Re-reads every frame header from the log and compares it with the one open used
    /// (which may have come from the index cache, and may lag an erasure).
    pub fn check_frame_headers(&self) -> Result<(), StoreError> {
        let mut b = [0u8; HEADER_LEN];
        for f in &self.frames {
            self.log
                .read_at(f.offset, &mut b)
                .map_err(self.io(LOG_FILE))?;
            let found = Header::decode(&b);
            let lagging_erasure =
                f.header.kind == Kind::Raws && found == Some(erased_header(&f.header));
            if found != Some(f.header) && !lagging_erasure {
                return Err(StoreError::Corrupt {
                    file: LOG_FILE,
                    offset: f.offset,
                    problem: "frame header differs from the index".into(),
                });
            }
        }
        Ok(())
    }

    /// The dedup cache's whole records up to the signed size, for `verify`, as blocks of at
    /// most `block_records` records: each call gives the next block, empty at the end. Read
    /// whole, the cache cost 32 bytes of memory per entry (320 MiB at 10 M entries).
    /// The records end at the first that is torn, zero, out of order or past the signed
    /// size, as they do for a writer that opens the cache.
    pub fn dedup_cache_blocks(&self, block_records: usize) -> impl FnMut() -> Vec<u8> + '_ {
        let file = self.fs.open_read(&self.path(DEDUP_FILE)).ok();
        let whole = file.as_ref().and_then(|f| f.len().ok()).unwrap_or(0) / DEDUP_RECORD as u64
            * DEDUP_RECORD as u64;
        let mut pos = 0u64;
        let mut next_seq = 0u64;
        let mut ended = false;
        move || {
            let want = whole
                .saturating_sub(pos)
                .min((block_records * DEDUP_RECORD) as u64) as usize;
            // Once ended, every later call is answered without touching the file.
            if ended || want == 0 {
                ended = true;
                return Vec::new();
            }
            let mut bytes = vec![0u8; want];
            let read = file.as_ref().map(|f| f.read_at(pos, &mut bytes));
            if !matches!(read, Some(Ok(()))) {
                ended = true;
                return Vec::new();
            }
            pos += want as u64;
            let mut keep = 0;
            for rec in bytes.chunks_exact(DEDUP_RECORD) {
                let seq = be_u64(rec, 24);
                let zero_key = rec.get(..24).is_none_or(|k| k.iter().all(|&b| b == 0));
                if seq < next_seq || seq >= self.size || zero_key {
                    ended = true;
                    break;
                }
                next_seq = seq + 1;
                keep += DEDUP_RECORD;
            }
            bytes.truncate(keep);
            bytes
        }
    }

    /// Bytes on disk per file of the ledger directory, for `status` and the benchmarks.
    pub fn file_sizes(&self) -> Vec<(&'static str, u64)> {
        [
            META_FILE,
            LOG_FILE,
            TREE_FILE,
            INDEX_FILE,
            DEDUP_FILE,
            super::CHECKPOINT_LOG,
        ]
        .iter()
        .filter_map(|n| {
            let f = self.fs.open_read(&self.dir.join(n)).ok()?;
            Some((*n, f.len().ok()?))
        })
        .collect()
    }
}

/// Frames written to the files but not yet in the in-memory view: staged frames (not yet
/// synced or signed, readable by later staging in the same commit) or a sealed commit.
pub struct PendingCommit {
    frames: Vec<Frame>,
    log_end: u64,
    size: u64,
    dedup_added: u64,
    dedup_keys: Vec<(Hash, u64)>,
}

/// Perfect subtree hashes straight from the tree file.
impl SubtreeSource for Store {
    type Error = StoreError;
    fn perfect(&self, level: u32, index: u64) -> Result<Hash, StoreError> {
        self.node(level, index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uniform_keys_hash_as_their_first_eight_bytes() {
        use std::hash::BuildHasher;
        let build = std::hash::BuildHasherDefault::<UniformKeyHasher>::default();
        let mut key = [0u8; 32];
        key[..8].copy_from_slice(&0x0123_4567_89ab_cdef_u64.to_le_bytes());
        key[31] = 9;
        assert_eq!(build.hash_one(key), 0x0123_4567_89ab_cdef);
        assert_eq!(build.hash_one(42u64), 42);
        // Keys that differ only past their first 8 bytes collide, and the map still tells
        // them apart by equality.
        let mut other = key;
        other[31] = 10;
        let mut map: UniformMap<Hash, u8> = UniformMap::default();
        map.insert(key, 1);
        map.insert(other, 2);
        assert_eq!((map.get(&key), map.get(&other)), (Some(&1), Some(&2)));
    }

    #[test]
    fn node_positions_are_post_order() {
        // Leaves 0,1 then their parent, leaves 2,3, parent, then the root of four.
        assert_eq!(node_position(0, 0), 0);
        assert_eq!(node_position(0, 1), 1);
        assert_eq!(node_position(1, 0), 2);
        assert_eq!(node_position(0, 2), 3);
        assert_eq!(node_position(0, 3), 4);
        assert_eq!(node_position(1, 1), 5);
        assert_eq!(node_position(2, 0), 6);
        assert_eq!(node_position(0, 4), 7);
        assert_eq!(tree_len(4), 7);
        assert_eq!(tree_len(5), 8);
    }

    #[test]
    fn headers_round_trip_and_any_flipped_bit_is_caught() {
        let h = Header {
            kind: Kind::Entries,
            compressed: true,
            count: 256,
            first: 1 << 40,
            stored_len: 1234,
            plain_len: 5678,
            payload_crc: 0xdead_beef,
        };
        let b = h.encode();
        assert_eq!(Header::decode(&b), Some(h));
        for bit in 0..HEADER_LEN * 8 {
            let mut c = b;
            c[bit / 8] ^= 1 << (bit % 8);
            assert_eq!(Header::decode(&c), None, "bit {bit}");
        }
    }

    #[test]
    fn meta_round_trips_and_refuses_a_changed_byte() {
        let meta = Meta {
            format_version: 1,
            ledger_id: [3; 16],
            origin: "a.example/l".into(),
            genesis_key: "k".into(),
        };
        let bytes = encode_meta(&meta).unwrap();
        assert_eq!(decode_meta(&bytes).unwrap().origin, "a.example/l");
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 1;
            assert!(decode_meta(&b).is_err(), "byte {i}");
        }
    }
}
