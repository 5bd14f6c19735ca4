//! Full verification of a ledger (invariant 8): every entry's bytes, seq and chain link,
//! every raw record, every tile, the head, every stored and logged checkpoint with the key
//! in force at its size (following rotations), the de-duplication index and the key index,
//! and the ledger's consistency with checkpoints the caller holds.
//!
//! The result is either a [`Verified`] value, which only this module can build (reports and
//! bundles take it as their proof that verification ran), or a [`VerifyFailure`] naming the
//! first seq at which the ledger stops being what was signed.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use thiserror::Error;

use super::entry::{dedup_key, to_hex, Payload};
use super::keys::rotation_statement;
use super::merkle::{CompactRange, Hash, Sha256Hasher, TreeHasher};
use super::note::{Checkpoint, NoteVerifier};
use super::store::{RawState, StoreError, BUNDLE, HEAD_KEY, TILE, TILE_HEIGHT};
use super::{Head, Ledger, LedgerError};
use crate::event::Timestamp;

/// What a clean verification saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyReport {
    pub size: u64,
    pub root: Hash,
    pub head: Hash,
    pub checkpoints_checked: u64,
    pub external_checkpoints: u64,
    pub redacted_raw_records: u64,
    pub key_rotations: u64,
    pub keys: Vec<String>,
    pub verified_at: Timestamp,
}

/// Proof that a full verification passed. Only [`verify`] builds one.
#[derive(Clone, Debug)]
pub struct Verified {
    report: VerifyReport,
}

impl Verified {
    pub fn report(&self) -> &VerifyReport {
        &self.report
    }
}

/// Why a ledger failed verification.
#[derive(Debug, Error)]
pub enum VerifyFailure {
    #[error("ledger altered at seq {seq}: {problem}")]
    At { seq: u64, problem: String },
    #[error("ledger does not match a checkpoint: {0}")]
    Checkpoint(String),
    #[error("ledger index is inconsistent: {0}")]
    Index(String),
    #[error("cannot read the ledger: {0}")]
    Read(#[from] LedgerError),
}

impl VerifyFailure {
    /// The first seq known to be bad, when one can be named.
    pub fn first_bad_seq(&self) -> Option<u64> {
        match self {
            VerifyFailure::At { seq, .. } => Some(*seq),
            _ => None,
        }
    }
}

fn at(seq: u64, problem: impl Into<String>) -> VerifyFailure {
    VerifyFailure::At {
        seq,
        problem: problem.into(),
    }
}

fn store_failure(e: StoreError) -> VerifyFailure {
    match e {
        StoreError::BadEntry { seq, problem } => at(seq, problem),
        StoreError::MissingEntry { seq } => at(seq, "entry is missing"),
        StoreError::BadRaw { seq, problem } => at(seq, format!("raw record: {problem}")),
        other => VerifyFailure::Index(other.to_string()),
    }
}

/// Options: keys the caller trusts (default: the ledger's own genesis key) and signed
/// checkpoints the caller held before, which the ledger must still extend.
#[derive(Clone, Debug, Default)]
pub struct VerifyOptions {
    pub trusted_keys: Vec<NoteVerifier>,
    pub held_checkpoints: Vec<(String, String)>,
}

/// Verifies everything. See the module docs.
pub fn verify(ledger: &Ledger, opts: &VerifyOptions) -> Result<Verified, VerifyFailure> {
    let hasher = Sha256Hasher;
    let store = ledger.store();
    let meta = ledger.meta();
    let head: Head = {
        let v = store
            .get(HEAD_KEY)
            .map_err(store_failure)?
            .ok_or_else(|| VerifyFailure::Index("head is missing".into()))?;
        postcard::from_bytes(&v).map_err(|e| VerifyFailure::Index(format!("head: {e}")))?
    };
    let size = head.size;

    // Keys: the genesis key must be one the caller trusts (when they named any).
    let genesis = NoteVerifier::parse(&meta.genesis_key)
        .map_err(|e| VerifyFailure::Index(format!("genesis key: {e}")))?;
    if !opts.trusted_keys.is_empty() && !opts.trusted_keys.contains(&genesis) {
        return Err(VerifyFailure::Checkpoint(format!(
            "the ledger's genesis key {genesis} is not among the keys you gave"
        )));
    }

    // Stored checkpoints, by size; every one must be checked during the scan.
    let mut stored_checkpoints: BTreeMap<u64, String> = BTreeMap::new();
    for item in store.db.scan_prefix([b'C']) {
        let (k, v) = item.map_err(|e| store_failure(e.into()))?;
        let s = k
            .get(1..9)
            .and_then(|s| s.try_into().ok())
            .map(u64::from_be_bytes)
            .ok_or_else(|| VerifyFailure::Index("malformed checkpoint key".into()))?;
        stored_checkpoints.insert(s, String::from_utf8_lossy(&v).into_owned());
    }
    // Sizes whose root we need: stored, logged and held checkpoints.
    let mut logged: Vec<(u64, &String)> = Vec::new();
    for note in ledger.checkpoint_log() {
        let cp = Checkpoint::parse_body(
            &super::note::parse_note(note)
                .map_err(|e| {
                    VerifyFailure::Checkpoint(format!("checkpoint log holds a malformed note: {e}"))
                })?
                .text,
        )
        .map_err(|e| VerifyFailure::Checkpoint(format!("checkpoint log: {e}")))?;
        logged.push((cp.size, note));
    }
    let mut held: Vec<(u64, &str, &str)> = Vec::new();
    for (label, note) in &opts.held_checkpoints {
        let parsed = super::note::parse_note(note)
            .map_err(|e| VerifyFailure::Checkpoint(format!("{label}: {e}")))?;
        let cp = Checkpoint::parse_body(&parsed.text)
            .map_err(|e| VerifyFailure::Checkpoint(format!("{label}: {e}")))?;
        if cp.origin != meta.origin {
            return Err(VerifyFailure::Checkpoint(format!(
                "{label} is for origin {:?}, this ledger is {:?}",
                cp.origin, meta.origin
            )));
        }
        if cp.size > size {
            return Err(VerifyFailure::At {
                seq: size,
                problem: format!(
                    "{label} signs {} entries but the ledger holds {size}: entries from seq {size} on were removed (rolled back)",
                    cp.size
                ),
            });
        }
        held.push((cp.size, label, note));
    }
    let mut wanted: BTreeSet<u64> = stored_checkpoints.keys().copied().collect();
    wanted.extend(logged.iter().map(|(s, _)| *s));
    wanted.extend(held.iter().map(|(s, _, _)| *s));
    let mut roots: HashMap<u64, Hash> = HashMap::new();
    if wanted.contains(&0) {
        roots.insert(0, hasher.empty());
    }

    // De-duplication index, to be matched entry by entry.
    let mut dedup: HashMap<Hash, u64> = HashMap::new();
    for item in store.db.scan_prefix([b'D']) {
        let (k, v) = item.map_err(|e| store_failure(e.into()))?;
        let key: Hash = k
            .get(1..33)
            .and_then(|s| s.try_into().ok())
            .ok_or_else(|| VerifyFailure::Index("malformed dedup key".into()))?;
        let seq = v
            .as_ref()
            .try_into()
            .map(u64::from_be_bytes)
            .map_err(|_| VerifyFailure::Index("malformed dedup value".into()))?;
        dedup.insert(key, seq);
    }

    let mut keys: Vec<(u64, NoteVerifier)> = vec![(0, genesis)];
    let mut range = CompactRange::new();
    let mut tiles: Vec<Vec<Hash>> = vec![Vec::new()];
    let mut prev = super::entry::genesis_link(&meta.ledger_id);
    let mut redacted: BTreeMap<Hash, u64> = BTreeMap::new();
    let mut redaction_entries: BTreeSet<Hash> = BTreeSet::new();
    let mut rotations = 0u64;
    let bundles = size.div_ceil(BUNDLE);
    for b in 0..bundles {
        let entries = store.read_bundle(b).map_err(store_failure)?;
        let raws = store.read_raw_bundle(b).map_err(store_failure)?;
        let expected = (size - b * BUNDLE).min(BUNDLE) as usize;
        if entries.len() < expected {
            return Err(at(b * BUNDLE + entries.len() as u64, "entry is missing"));
        }
        if entries.len() > expected {
            return Err(at(size, "an entry exists beyond the signed head"));
        }
        // Bundles and level-0 tiles both span 256 entries, so tile b holds this bundle's leaves.
        let leaf_tile = store
            .read_tile(0, b)
            .map_err(|e| at(b * BUNDLE, format!("leaf tile: {e}")))?;
        if raws.len() != expected {
            let s = b * BUNDLE + raws.len().min(expected) as u64;
            return Err(at(s, "raw record is missing or extra"));
        }
        for (e, raw) in entries.iter().zip(&raws) {
            let seq = e.entry.seq;
            if e.entry.prev != prev {
                return Err(at(seq, "does not link to the previous entry's hash"));
            }
            if raw.hash != e.entry.raw_hash {
                return Err(at(
                    seq,
                    "raw record's hash differs from the one the entry holds",
                ));
            }
            let is_event = e.entry.event().is_some();
            match (&raw.state, is_event) {
                (RawState::Kept(_), true) | (RawState::None, false) => {}
                (RawState::Redacted, true) => {
                    redacted.insert(raw.hash, seq);
                }
                _ => return Err(at(seq, "raw record state does not fit the entry's kind")),
            }
            match &e.entry.payload {
                Payload::Event(ev) => {
                    let dk = dedup_key(ev, &e.entry.raw_hash);
                    match dedup.remove(&dk) {
                        Some(s) if s == seq => {}
                        Some(s) => {
                            return Err(at(seq, format!("dedup index points to seq {s} instead")))
                        }
                        None => return Err(at(seq, "missing from the dedup index")),
                    }
                }
                Payload::KeyRotation {
                    old_key,
                    new_key,
                    old_signature,
                    new_signature,
                    ..
                } => {
                    let current = &keys.last().expect("non-empty").1;
                    let old = NoteVerifier::parse(old_key)
                        .map_err(|e| at(seq, format!("rotation old key: {e}")))?;
                    let new = NoteVerifier::parse(new_key)
                        .map_err(|e| at(seq, format!("rotation new key: {e}")))?;
                    if &old != current {
                        return Err(at(
                            seq,
                            "rotation names an old key that is not the key in force",
                        ));
                    }
                    let statement = rotation_statement(&meta.origin, seq, &prev, &old, &new);
                    if !old.verify(statement.as_bytes(), old_signature)
                        || !new.verify(statement.as_bytes(), new_signature)
                    {
                        return Err(at(seq, "rotation is not signed by both keys"));
                    }
                    keys.push((seq + 1, new));
                    rotations += 1;
                }
                Payload::Redaction { raw_hash, .. } => {
                    redaction_entries.insert(*raw_hash);
                }
            }
            let leaf = hasher.leaf(&e.canonical);
            if leaf_tile.get((seq % BUNDLE) as usize) != Some(&leaf) {
                return Err(at(
                    seq,
                    "its Merkle leaf hash differs from the stored tile's",
                ));
            }
            tiles[0].push(leaf);
            let mut completed = Vec::new();
            range.push(&hasher, leaf, |level, index, node| {
                if level % TILE_HEIGHT == 0 {
                    completed.push(((level / TILE_HEIGHT) as usize, index, *node));
                }
            });
            if tiles[0].len() as u64 == TILE {
                check_tile(ledger, 0, seq / TILE, &tiles[0], seq)?;
                tiles[0].clear();
            }
            for (tl, index, node) in completed {
                if tiles.len() <= tl {
                    tiles.resize(tl + 1, Vec::new());
                }
                tiles[tl].push(node);
                if tiles[tl].len() as u64 == TILE {
                    check_tile(ledger, tl, index / TILE, &tiles[tl], seq)?;
                    tiles[tl].clear();
                }
            }
            prev = e.chain;
            if wanted.contains(&range.size()) {
                roots.insert(range.size(), range.root(&hasher));
            }
        }
    }
    for (tl, hashes) in tiles.iter().enumerate() {
        if !hashes.is_empty() {
            let index = (size >> (TILE_HEIGHT as u64 * tl as u64)) / TILE;
            check_tile(ledger, tl, index, hashes, size.saturating_sub(1))?;
        }
    }
    let root = range.root(&hasher);
    if head.head != prev || head.root != root {
        return Err(VerifyFailure::Index(
            "the stored head does not match the entries".into(),
        ));
    }
    if let Some((k, s)) = dedup.into_iter().next() {
        return Err(VerifyFailure::Index(format!(
            "dedup index entry {} points to seq {s}, which does not hold it",
            to_hex(&k)
        )));
    }
    for (h, seq) in &redacted {
        if !redaction_entries.contains(h) {
            return Err(at(*seq, "raw record was removed without a redaction entry"));
        }
    }
    let stored_keys: Vec<(u64, String)> = ledger
        .key_history()
        .iter()
        .map(|(s, k)| (*s, k.to_string()))
        .collect();
    let computed_keys: Vec<(u64, String)> = keys.iter().map(|(s, k)| (*s, k.to_string())).collect();
    if stored_keys != computed_keys {
        return Err(VerifyFailure::Index(
            "the key index does not match the rotation entries".into(),
        ));
    }
    let key_at = |s: u64| -> &NoteVerifier {
        &keys
            .iter()
            .rev()
            .find(|(from, _)| *from <= s)
            .expect("genesis key covers 0")
            .1
    };
    let check_note = |what: &str, s: u64, note: &str| -> Result<(), VerifyFailure> {
        let key = key_at(s).clone();
        let (cp, _) = Checkpoint::open(note, std::slice::from_ref(&key)).map_err(|e| {
            VerifyFailure::Checkpoint(format!("{what} of size {s}: {e} (key in force: {key})"))
        })?;
        if cp.origin != meta.origin {
            return Err(VerifyFailure::Checkpoint(format!(
                "{what} of size {s} names origin {:?}",
                cp.origin
            )));
        }
        let want = roots.get(&s).expect("root computed for every wanted size");
        if &cp.root != want {
            let before = stored_checkpoints
                .range(..s)
                .next_back()
                .map(|(k, _)| *k)
                .unwrap_or(0);
            return Err(VerifyFailure::At {
                seq: before,
                problem: format!(
                    "{what} of size {s} signed root {} but the entries give {}: an entry in seqs {before}..{} differs from what was signed",
                    to_hex(&cp.root),
                    to_hex(want),
                    s.saturating_sub(1)
                ),
            });
        }
        Ok(())
    };
    for (s, note) in &stored_checkpoints {
        if *s > size {
            return Err(at(
                size,
                format!("a stored checkpoint signs size {s}, beyond the head"),
            ));
        }
        check_note("stored checkpoint", *s, note)?;
    }
    if !stored_checkpoints.contains_key(&size) {
        return Err(VerifyFailure::Index(format!(
            "no signed checkpoint for the head (size {size})"
        )));
    }
    for (s, note) in &logged {
        check_note("checkpoint log entry", *s, note)?;
    }
    for (s, label, note) in &held {
        // A held checkpoint may predate a rotation, or be from any key the caller trusts.
        let mut ks: Vec<NoteVerifier> = keys.iter().map(|(_, k)| k.clone()).collect();
        ks.extend(opts.trusted_keys.iter().cloned());
        let (cp, _) = Checkpoint::open(note, &ks)
            .map_err(|e| VerifyFailure::Checkpoint(format!("{label}: {e}")))?;
        if &cp.root != roots.get(s).expect("computed") {
            return Err(VerifyFailure::Checkpoint(format!(
                "{label} (size {s}) signed root {} but the ledger's first {s} entries give {}: the ledger was rewritten at or before seq {}",
                to_hex(&cp.root),
                to_hex(roots.get(s).expect("computed")),
                s.saturating_sub(1)
            )));
        }
    }
    Ok(Verified {
        report: VerifyReport {
            size,
            root,
            head: prev,
            checkpoints_checked: (stored_checkpoints.len() + logged.len()) as u64,
            external_checkpoints: held.len() as u64,
            redacted_raw_records: redacted.len() as u64,
            key_rotations: rotations,
            keys: keys.iter().map(|(_, k)| k.to_string()).collect(),
            verified_at: Timestamp::now(),
        },
    })
}

fn check_tile(
    ledger: &Ledger,
    level: usize,
    index: u64,
    computed: &[Hash],
    seq: u64,
) -> Result<(), VerifyFailure> {
    let stored = ledger
        .store()
        .read_tile(level as u8, index)
        .map_err(|e| at(seq, format!("tile: {e}")))?;
    if stored != computed {
        let first = (index * TILE) << (TILE_HEIGHT as u64 * level as u64);
        return Err(VerifyFailure::Index(format!(
            "hash tile level {level} index {index} (entries from seq {first}) does not match the entries"
        )));
    }
    Ok(())
}
