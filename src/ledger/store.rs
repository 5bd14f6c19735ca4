//! The sled layout: one tree, key prefixes, bundles of 256 entries and tiles of 256 hashes.
//!
//! Why this shape: a ledger is a log, so its cost should be the bytes it writes and the
//! hashes it computes, not per-event bookkeeping. As in C2SP tlog-tiles, entries live in
//! bundles and Merkle hashes in tiles of 256, so a commit of 1,000 events writes about ten
//! sled values plus one small de-duplication key per event, in one atomic `apply_batch`.
//!
//! | key                                   | value |
//! |---------------------------------------|-------|
//! | `M` name                              | ledger metadata (postcard) |
//! | `H`                                   | head: size, chain head, root (postcard) |
//! | `E` bundle (u64 BE)                   | a full bundle: 256 entry records |
//! | `e` bundle (u64 BE) first seq (u64 BE)| a segment of a partial bundle: the records one commit added |
//! | `R` bundle / `r` bundle first seq     | the raw records of the same entries, same scheme |
//! | `T` level (u8) index (u64 BE)         | a tile: up to 256 hashes of tree level 8·level |
//! | `D` dedup key (32 bytes)              | seq (u64 BE) of the entry that holds it |
//! | `C` size (u64 BE)                     | the signed checkpoint note of that size |
//! | `K` from size (u64 BE)                | verifier key in force for checkpoints from that size on |
//!
//! Keys are big-endian so sled's ordering is seq order (postcard varints would not sort).
//! A partial bundle grows by one segment per commit instead of being rewritten, so a
//! one-event commit writes one small value; the commit that fills a bundle writes it whole
//! and deletes its segments. Partial tiles are small (at most 8 KiB) and are rewritten.
//!
//! Entry record: `len u32 BE || canonical entry bytes || chain hash (32)`; a reader checks
//! the length, that the decoded seq is the one asked for, and the chain hash.
//! Raw record: `raw hash (32) || state u8 || len u32 BE || bytes`, state 0 kept, 1 redacted
//! (len 0), 2 none (entries that are not events: rotations, redactions); a reader checks kept
//! bytes against the hash.

use std::path::Path;

use thiserror::Error;

use super::entry::{chain_hash, raw_hash, Entry};
use super::merkle::{perfect_root, Hash, Sha256Hasher, SubtreeSource};

pub const BUNDLE: u64 = 256;
pub const TILE: u64 = 256;
pub const TILE_HEIGHT: u32 = 8;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("sled: {0}")]
    Sled(#[from] sled::Error),
    #[error("entry {seq}: {problem}")]
    BadEntry { seq: u64, problem: String },
    #[error("entry {seq} is missing")]
    MissingEntry { seq: u64 },
    #[error("raw record of entry {seq}: {problem}")]
    BadRaw { seq: u64, problem: String },
    #[error("tile level {level} index {index}: {problem}")]
    BadTile {
        level: u8,
        index: u64,
        problem: String,
    },
    #[error("metadata {key}: {problem}")]
    BadMeta { key: String, problem: String },
}

pub fn meta_key(name: &str) -> Vec<u8> {
    let mut k = vec![b'M'];
    k.extend_from_slice(name.as_bytes());
    k
}
pub const HEAD_KEY: &[u8] = b"H";

fn key2(prefix: u8, a: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(9);
    k.push(prefix);
    k.extend_from_slice(&a.to_be_bytes());
    k
}
fn key3(prefix: u8, a: u64, b: u64) -> Vec<u8> {
    let mut k = key2(prefix, a);
    k.extend_from_slice(&b.to_be_bytes());
    k
}
pub fn bundle_key(bundle: u64) -> Vec<u8> {
    key2(b'E', bundle)
}
pub fn segment_key(bundle: u64, first: u64) -> Vec<u8> {
    key3(b'e', bundle, first)
}
pub fn raw_bundle_key(bundle: u64) -> Vec<u8> {
    key2(b'R', bundle)
}
pub fn raw_segment_key(bundle: u64, first: u64) -> Vec<u8> {
    key3(b'r', bundle, first)
}
pub fn tile_key(level: u8, index: u64) -> Vec<u8> {
    let mut k = vec![b'T', level];
    k.extend_from_slice(&index.to_be_bytes());
    k
}
pub fn dedup_store_key(key: &Hash) -> Vec<u8> {
    let mut k = vec![b'D'];
    k.extend_from_slice(key);
    k
}
pub fn checkpoint_key(size: u64) -> Vec<u8> {
    key2(b'C', size)
}
pub fn key_change_key(from_size: u64) -> Vec<u8> {
    key2(b'K', from_size)
}

pub fn encode_entry_record(out: &mut Vec<u8>, canonical: &[u8], chain: &Hash) {
    out.extend_from_slice(&(canonical.len() as u32).to_be_bytes());
    out.extend_from_slice(canonical);
    out.extend_from_slice(chain);
}

pub fn encode_raw_record(out: &mut Vec<u8>, hash: &Hash, raw: &RawState) {
    out.extend_from_slice(hash);
    match raw {
        RawState::Kept(bytes) => {
            out.push(0);
            out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
            out.extend_from_slice(bytes);
        }
        RawState::Redacted => {
            out.push(1);
            out.extend_from_slice(&0u32.to_be_bytes());
        }
        RawState::None => {
            out.push(2);
            out.extend_from_slice(&0u32.to_be_bytes());
        }
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

/// An entry as read back and checked: its seq, canonical bytes and chain hash agree.
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

fn split_entry_records(
    value: &[u8],
    first_seq: u64,
    out: &mut Vec<StoredEntry>,
) -> Result<(), StoreError> {
    let mut at = 0usize;
    let mut seq = first_seq;
    while at < value.len() {
        let bad = |problem: &str| StoreError::BadEntry {
            seq,
            problem: problem.to_string(),
        };
        let len_bytes: [u8; 4] = value
            .get(at..at + 4)
            .and_then(|s| s.try_into().ok())
            .ok_or_else(|| bad("record is cut short (length)"))?;
        let len = u32::from_be_bytes(len_bytes) as usize;
        let canonical = value
            .get(at + 4..at + 4 + len)
            .ok_or_else(|| bad("record is cut short (entry bytes)"))?;
        let chain: Hash = value
            .get(at + 4 + len..at + 36 + len)
            .and_then(|s| s.try_into().ok())
            .ok_or_else(|| bad("record is cut short (chain hash)"))?;
        if chain_hash(canonical) != chain {
            return Err(bad("chain hash does not match the entry bytes"));
        }
        let entry = Entry::decode(canonical).map_err(|e| bad(&e.to_string()))?;
        if entry.seq != seq {
            return Err(bad(&format!("holds seq {} instead", entry.seq)));
        }
        out.push(StoredEntry {
            entry,
            canonical: canonical.to_vec(),
            chain,
        });
        at += 36 + len;
        seq += 1;
    }
    Ok(())
}

fn split_raw_records(
    value: &[u8],
    first_seq: u64,
    out: &mut Vec<StoredRaw>,
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
        let len_bytes: [u8; 4] = value
            .get(at + 33..at + 37)
            .and_then(|s| s.try_into().ok())
            .ok_or_else(|| bad("record is cut short (length)"))?;
        let len = u32::from_be_bytes(len_bytes) as usize;
        let state = match state {
            0 => {
                let b = value
                    .get(at + 37..at + 37 + len)
                    .ok_or_else(|| bad("record is cut short (bytes)"))?;
                if raw_hash(b) != hash {
                    return Err(bad("bytes do not match their BLAKE3 hash"));
                }
                RawState::Kept(b.to_vec())
            }
            1 if len == 0 => RawState::Redacted,
            2 if len == 0 => RawState::None,
            _ => return Err(bad("unknown record state")),
        };
        out.push(StoredRaw { hash, state });
        at += 37 + len;
        seq += 1;
    }
    Ok(())
}

/// Read access to the layout. Cheap to clone (sled trees are handles).
#[derive(Clone)]
pub struct Store {
    pub db: sled::Db,
}

impl Store {
    /// Opens sled. The caller holds the ledger's own lock, so a sled lock still held can
    /// only be a handle this process just dropped, whose threads release the file a moment
    /// later: that case is retried for up to ten seconds (two were seen to fall short on a
    /// loaded two-core machine, in the SIGKILL test's drop-then-reopen).
    pub fn open(path: &Path) -> Result<Self, sled::Error> {
        let config = sled::Config::new()
            .path(path)
            .cache_capacity(256 << 20)
            // Bundles (~150 KiB) must stay below sled's blob threshold (segment / 4), so
            // they live in the fsynced `db` file rather than in separate blob files.
            .segment_size(8 << 20)
            // Every commit flushes and fsyncs itself; a background flusher adds nothing.
            .flush_every_ms(None);
        let mut tries = 0;
        loop {
            match config.open() {
                Err(sled::Error::Io(e))
                    if e.to_string().contains("could not acquire lock") && tries < 1000 =>
                {
                    tries += 1;
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                other => return other.map(|db| Self { db }),
            }
        }
    }

    pub fn get(&self, key: &[u8]) -> Result<Option<sled::IVec>, StoreError> {
        Ok(self.db.get(key)?)
    }

    /// Segment start seqs of a partial bundle, in order.
    pub fn segments(&self, prefix: u8, bundle: u64) -> Result<Vec<(u64, sled::IVec)>, StoreError> {
        let mut out = Vec::new();
        for item in self.db.scan_prefix(key2(prefix, bundle)) {
            let (k, v) = item?;
            let first = k
                .get(9..17)
                .and_then(|s| s.try_into().ok())
                .map(u64::from_be_bytes)
                .ok_or_else(|| StoreError::BadEntry {
                    seq: bundle * BUNDLE,
                    problem: "malformed segment key".into(),
                })?;
            out.push((first, v));
        }
        Ok(out)
    }

    /// Every entry of one bundle that exists, checked record by record.
    pub fn read_bundle(&self, bundle: u64) -> Result<Vec<StoredEntry>, StoreError> {
        let mut out = Vec::with_capacity(BUNDLE as usize);
        if let Some(v) = self.get(&bundle_key(bundle))? {
            split_entry_records(&v, bundle * BUNDLE, &mut out)?;
            if out.len() as u64 != BUNDLE {
                return Err(StoreError::BadEntry {
                    seq: bundle * BUNDLE + out.len() as u64,
                    problem: format!("full bundle holds {} entries, not {BUNDLE}", out.len()),
                });
            }
            return Ok(out);
        }
        for (first, v) in self.segments(b'e', bundle)? {
            let expected = bundle * BUNDLE + out.len() as u64;
            if first != expected {
                return Err(StoreError::BadEntry {
                    seq: expected,
                    problem: format!("segment starts at seq {first}"),
                });
            }
            split_entry_records(&v, first, &mut out)?;
        }
        Ok(out)
    }

    pub fn read_raw_bundle(&self, bundle: u64) -> Result<Vec<StoredRaw>, StoreError> {
        let mut out = Vec::with_capacity(BUNDLE as usize);
        if let Some(v) = self.get(&raw_bundle_key(bundle))? {
            split_raw_records(&v, bundle * BUNDLE, &mut out)?;
            return Ok(out);
        }
        for (first, v) in self.segments(b'r', bundle)? {
            let expected = bundle * BUNDLE + out.len() as u64;
            if first != expected {
                return Err(StoreError::BadRaw {
                    seq: expected,
                    problem: format!("segment starts at seq {first}"),
                });
            }
            split_raw_records(&v, first, &mut out)?;
        }
        Ok(out)
    }

    /// Reads one entry; `size` bounds what may be asked.
    pub fn read_entry(&self, seq: u64) -> Result<StoredEntry, StoreError> {
        let bundle = self.read_bundle(seq / BUNDLE)?;
        bundle
            .into_iter()
            .nth((seq % BUNDLE) as usize)
            .ok_or(StoreError::MissingEntry { seq })
    }

    pub fn read_tile(&self, level: u8, index: u64) -> Result<Vec<Hash>, StoreError> {
        let bad = |problem: &str| StoreError::BadTile {
            level,
            index,
            problem: problem.to_string(),
        };
        let v = self
            .get(&tile_key(level, index))?
            .ok_or_else(|| bad("missing"))?;
        if v.len() % 32 != 0 || v.len() as u64 > TILE * 32 || v.is_empty() {
            return Err(bad("length is not a whole number of hashes"));
        }
        Ok(v.chunks_exact(32)
            .map(|c| c.try_into().expect("32-byte chunk"))
            .collect())
    }
}

/// Perfect subtree hashes from tiles: the hash at tree level k is computed from the
/// 2^(k mod 8) hashes of level 8·(k div 8) that the tile stores, as Go's tlog does.
/// `overlay` holds tiles not yet in sled (the right edge while a commit is built).
pub struct TileSource<'a> {
    pub store: &'a Store,
    pub overlay: &'a [(u8, u64, Vec<Hash>)],
}

impl SubtreeSource for TileSource<'_> {
    type Error = StoreError;
    fn perfect(&self, level: u32, index: u64) -> Result<Hash, StoreError> {
        let tile_level = (level / TILE_HEIGHT) as u8;
        let span = 1u64 << (level % TILE_HEIGHT);
        let first = index * span;
        let tile_index = first / TILE;
        let offset = (first % TILE) as usize;
        let from_overlay = self
            .overlay
            .iter()
            .find(|(l, i, _)| *l == tile_level && *i == tile_index)
            .map(|(_, _, h)| h.clone());
        let hashes = match from_overlay {
            Some(h) => h,
            None => self.store.read_tile(tile_level, tile_index)?,
        };
        let slice =
            hashes
                .get(offset..offset + span as usize)
                .ok_or_else(|| StoreError::BadTile {
                    level: tile_level,
                    index: tile_index,
                    problem: format!(
                        "holds {} hashes, needs {}",
                        hashes.len(),
                        offset + span as usize
                    ),
                })?;
        Ok(perfect_root(&Sha256Hasher, slice))
    }
}
