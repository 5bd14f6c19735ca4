//! Converts a ledger written by the sled-based release (0.1, `sled/` beside
//! `checkpoints.log`) into the file layout of `store`, keeping every entry's canonical
//! bytes: every checkpoint that release signed still verifies afterwards, since the tree
//! over the same bytes has the same roots. The checkpoint log is kept as it is.
//!
//! Invariants: the old store is only read; the new `meta` file, whose presence makes a
//! directory a ledger of this format, is written last, after every other byte is synced,
//! so a crash mid-conversion leaves the old ledger as it was and the conversion can simply
//! run again. The old `sled/` directory is then renamed `sled.pre-migration`, not deleted.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::cplog::CheckpointLog;
use super::entry::{dedup_key, Entry};
use super::fs::{Fs, OsFs};
use super::store::{self, CommitWrite, Meta, NewEntry, Store, StoredRaw, BUNDLE};
use super::{io_err, Ledger, LedgerError, CHECKPOINT_LOG, META_FILE};
use crate::tlog::merkle::{CompactRange, Sha256Hasher, TreeHasher};
use crate::tlog::note::Checkpoint;

/// The old store's directory.
pub const SLED_DIR: &str = "sled";
/// Where the old store is kept after a conversion.
pub const SLED_BACKUP_DIR: &str = "sled.pre-migration";

/// What a conversion did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Migration {
    pub entries: u64,
    pub checkpoints: u64,
    pub backup: PathBuf,
}

fn old(problem: impl std::fmt::Display) -> LedgerError {
    LedgerError::Invalid(format!("the earlier release's store: {problem}"))
}

fn key2(prefix: u8, a: u64) -> Vec<u8> {
    let mut k = vec![prefix];
    k.extend_from_slice(&a.to_be_bytes());
    k
}

/// The old layout's bundle `b` (value under `E`, or the segments under `e`).
fn old_values(db: &sled::Db, full: u8, seg: u8, bundle: u64) -> Result<Vec<u8>, LedgerError> {
    if let Some(v) = db.get(key2(full, bundle)).map_err(old)? {
        return Ok(v.to_vec());
    }
    let mut out = Vec::new();
    for item in db.scan_prefix(key2(seg, bundle)) {
        let (_, v) = item.map_err(old)?;
        out.extend_from_slice(&v);
    }
    Ok(out)
}

/// Old entry records: `len u32 BE || canonical || chain hash (32)`.
fn old_entries(value: &[u8], first: u64) -> Result<Vec<Vec<u8>>, LedgerError> {
    let mut out = Vec::new();
    let mut at = 0usize;
    while at < value.len() {
        let seq = first + out.len() as u64;
        let len = value
            .get(at..at + 4)
            .and_then(|s| <[u8; 4]>::try_from(s).ok())
            .map(u32::from_be_bytes)
            .ok_or_else(|| old(format!("entry {seq} is cut short")))? as usize;
        let canonical = value
            .get(at + 4..at + 4 + len)
            .ok_or_else(|| old(format!("entry {seq} is cut short")))?;
        let chain = value
            .get(at + 4 + len..at + 36 + len)
            .ok_or_else(|| old(format!("entry {seq} is cut short")))?;
        if super::entry::chain_hash(canonical).as_slice() != chain {
            return Err(old(format!("entry {seq} does not match its chain hash")));
        }
        out.push(canonical.to_vec());
        at += 36 + len;
    }
    Ok(out)
}

/// Converts the ledger in `dir`. Takes the writer lock for the whole conversion.
pub fn migrate(dir: &Path) -> Result<Migration, LedgerError> {
    let sled_dir = dir.join(SLED_DIR);
    if dir.join(META_FILE).exists() {
        return Err(LedgerError::Invalid(format!(
            "{} is already in the current format",
            dir.display()
        )));
    }
    if !sled_dir.is_dir() {
        return Err(LedgerError::NotALedger {
            dir: dir.to_path_buf(),
        });
    }
    let _lock = Ledger::lock(dir)?;
    // The settings the 0.1 release opened it with; sled refuses others.
    let db = sled::Config::new()
        .path(&sled_dir)
        .segment_size(8 << 20)
        .flush_every_ms(None)
        .open()
        .map_err(old)?;
    let mut meta_key = vec![b'M'];
    meta_key.extend_from_slice(b"ledger");
    let meta_bytes = db
        .get(&meta_key)
        .map_err(old)?
        .ok_or_else(|| old("no ledger metadata"))?;
    let meta: Meta = postcard::from_bytes(&meta_bytes).map_err(old)?;

    let fs: Arc<dyn Fs> = Arc::new(OsFs);
    let log_path = dir.join(CHECKPOINT_LOG);
    let cplog = CheckpointLog::open(fs.as_ref(), &log_path, false)?;
    let mut sizes = BTreeSet::new();
    for text in cplog.notes() {
        let body = Checkpoint::parse_unverified(text)?;
        sizes.insert(body.size);
    }
    let size = *sizes
        .iter()
        .next_back()
        .ok_or_else(|| LedgerError::CheckpointLogEmpty {
            path: log_path.clone(),
        })?;

    // Start from empty files: a conversion that was cut off left only unused bytes.
    for name in [
        store::LOG_FILE,
        store::TREE_FILE,
        store::INDEX_FILE,
        store::DEDUP_FILE,
    ] {
        let p = dir.join(name);
        if p.exists() {
            std::fs::remove_file(&p).map_err(io_err(&p))?;
        }
    }
    let mut store = Store::create(fs.clone(), dir, None)?;
    fs.sync_dir(dir).map_err(io_err(dir))?;
    let hasher = Sha256Hasher;
    let mut range = CompactRange::new();
    let mut seq = 0u64;
    let mut bundle_cache: Option<(u64, Vec<Vec<u8>>, Vec<StoredRaw>)> = None;
    for &target in &sizes {
        let mut entries = Vec::new();
        let mut tree_nodes = Vec::new();
        let mut key_changes = Vec::new();
        let first_seq = seq;
        while seq < target {
            let b = seq / BUNDLE;
            if bundle_cache.as_ref().map(|c| c.0) != Some(b) {
                let es = old_entries(&old_values(&db, b'E', b'e', b)?, b * BUNDLE)?;
                let mut raws = Vec::new();
                store::split_raw_records(&old_values(&db, b'R', b'r', b)?, b * BUNDLE, &mut raws)?;
                bundle_cache = Some((b, es, raws));
            }
            let Some((_, es, raws)) = bundle_cache.as_ref() else {
                return Err(old("bundle cache"));
            };
            let i = (seq % BUNDLE) as usize;
            let canonical = es
                .get(i)
                .ok_or_else(|| old(format!("entry {seq} is missing")))?
                .clone();
            let raw = raws
                .get(i)
                .cloned()
                .ok_or_else(|| old(format!("raw record {seq} is missing")))?;
            let entry = Entry::decode(&canonical).map_err(old)?;
            if entry.seq != seq || entry.raw_hash != raw.hash {
                return Err(old(format!("entry {seq} does not match its slot")));
            }
            if let super::entry::Payload::KeyRotation { new_key, .. } = &entry.payload {
                key_changes.push((seq + 1, new_key.clone()));
            }
            store::push_leaf(&mut range, hasher.leaf(&canonical), &mut tree_nodes);
            entries.push(NewEntry {
                dedup: entry.event().map(|ev| dedup_key(ev, &entry.raw_hash)),
                canonical,
                raw_hash: raw.hash,
                raw: raw.state,
            });
            seq += 1;
        }
        let pending = store.write_frames(&CommitWrite {
            first_seq,
            entries: &entries,
            tree_nodes: &tree_nodes,
        })?;
        store.acknowledge(pending)?;
        let sealed = store.write_seal(seq, &[], &key_changes)?;
        store.acknowledge(sealed)?;
    }
    let last_root = cplog
        .last()
        .and_then(|n| Checkpoint::parse_unverified(n).ok())
        .map(|c| c.root);
    if last_root != Some(range.root(&hasher)) {
        return Err(old(
            "the converted entries do not give the root of the last checkpoint; nothing was changed",
        ));
    }
    drop(db);
    Store::write_meta(fs.as_ref(), dir, &meta)?;
    fs.sync_dir(dir).map_err(io_err(dir))?;
    let backup = dir.join(SLED_BACKUP_DIR);
    std::fs::rename(&sled_dir, &backup).map_err(io_err(&sled_dir))?;
    fs.sync_dir(dir).map_err(io_err(dir))?;
    Ok(Migration {
        entries: size,
        checkpoints: cplog.notes().len() as u64,
        backup,
    })
}
