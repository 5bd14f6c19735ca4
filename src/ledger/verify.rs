//! Full verification of a ledger (invariant 8): every frame header against the log, every
//! entry's canonical bytes, seq and chain link, every raw record, every stored tree hash,
//! every logged checkpoint with the key in force at its size (following rotations), the
//! key history and the de-duplication cache, and the ledger's consistency with checkpoints
//! the caller holds.
//!
//! Decompressing, decoding and hashing the entries is spread over the machine's cores;
//! the chain, the tree and the checkpoints are then checked in seq order on this thread.
//!
//! The result is either a [`Verified`] value, which only this module can build (reports and
//! bundles take it as their proof that verification ran), or a [`VerifyFailure`] naming the
//! first seq at which the ledger stops being what was signed.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Mutex};

use thiserror::Error;

use super::entry::{chain_hashes, dedup_key_of, genesis_link, EntryView, Payload};
use super::keys::rotation_statement;
use super::store::{self, bad_entry, for_each_entry_record, RawRef, StoreError};
use super::{Ledger, LedgerError};
use crate::event::Timestamp;
use crate::tlog::merkle::to_hex;
use crate::tlog::merkle::{CompactRange, Hash, Sha256Hasher, TreeHasher};
use crate::tlog::note::{Checkpoint, NoteVerifier};

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
            VerifyFailure::Read(e) => e.first_bad_seq(),
            _ => None,
        }
    }

    /// Whether the ledger is not what was signed (exit 1), rather than unreadable (exit 2).
    pub fn is_integrity(&self) -> bool {
        match self {
            VerifyFailure::Read(e) => e.is_integrity(),
            _ => true,
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
        StoreError::BadRaw { seq, problem } => at(seq, format!("raw record: {problem}")),
        other => VerifyFailure::Read(other.into()),
    }
}

/// Options: keys the caller trusts (default: the ledger's own genesis key) and signed
/// checkpoints the caller held before, which the ledger must still extend.
#[derive(Clone, Debug, Default)]
pub struct VerifyOptions {
    pub trusted_keys: Vec<NoteVerifier>,
    pub held_checkpoints: Vec<(String, String)>,
}

/// One entry as a worker checked it.
struct Checked {
    seq: u64,
    prev: Hash,
    raw_hash: Hash,
    chain: Hash,
    /// The raw record's stored hash (checked against its bytes) and state.
    raw: (Hash, RawRef<'static>),
    leaf: Hash,
    dedup: Option<Hash>,
    /// The payload of a rotation or redaction (events are not kept: verify needs only
    /// their ids, read borrowed).
    other: Option<Payload>,
}

/// Decompresses, decodes and hashes entries frame `i` (the parallel part), reading through
/// the calling worker's two buffers.
fn check_frame(
    ledger: &Ledger,
    i: usize,
    (entries, raws): (&mut Vec<u8>, &mut Vec<u8>),
    mut out: Vec<Checked>,
) -> Result<Vec<Checked>, VerifyFailure> {
    let s = ledger.store();
    let (first, count) = s
        .entry_frame_span(i)
        .ok_or_else(|| VerifyFailure::Index(format!("entries frame {i} is missing")))?;
    s.frame_payloads(i, entries, raws).map_err(store_failure)?;
    let mut rs = Vec::with_capacity(count as usize);
    store::for_each_raw_record(raws, first, |hash, state| {
        // The bytes were checked against the hash; what follows needs only the state.
        let state = match state {
            RawRef::Kept(_) => RawRef::Kept(&[]),
            RawRef::Redacted => RawRef::Redacted,
            RawRef::None => RawRef::None,
        };
        rs.push((hash, state));
    })
    .map_err(store_failure)?;
    let hasher = Sha256Hasher;
    out.clear();
    out.reserve(count as usize);
    let mut raws = rs.into_iter();
    let mut canonicals = Vec::with_capacity(count as usize);
    for_each_entry_record(entries, first, |seq, canonical| {
        let view = EntryView::decode(canonical).map_err(|e| bad_entry(seq, e.to_string()))?;
        if view.seq != seq {
            return Err(bad_entry(seq, format!("holds seq {} instead", view.seq)));
        }
        let raw = raws
            .next()
            .ok_or_else(|| bad_entry(seq, "raw record is missing"))?;
        out.push(Checked {
            seq,
            prev: view.prev,
            raw_hash: view.raw_hash,
            // Filled in below, with every chain hash of the frame at once.
            chain: [0; 32],
            leaf: hasher.leaf(canonical),
            dedup: view
                .event_ids
                .map(|(source, id)| dedup_key_of(source, id, &view.raw_hash)),
            other: view.other,
            raw,
        });
        canonicals.push(canonical);
        Ok(())
    })
    .map_err(store_failure)?;
    for (c, chain) in out.iter_mut().zip(chain_hashes(&canonicals)) {
        c.chain = chain;
    }
    if out.len() as u64 != count || raws.next().is_some() {
        return Err(at(
            first + (out.len() as u64).min(count),
            "entry or raw record is missing or extra",
        ));
    }
    Ok(out)
}

/// Verifies everything. See the module docs.
pub fn verify(ledger: &Ledger, opts: &VerifyOptions) -> Result<Verified, VerifyFailure> {
    verify_with_progress(ledger, opts, &mut |_, _| {})
}

/// [`verify`], calling `progress(entries checked, entries in all)` as it goes.
pub fn verify_with_progress(
    ledger: &Ledger,
    opts: &VerifyOptions,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Verified, VerifyFailure> {
    let hasher = Sha256Hasher;
    let store = ledger.store();
    let meta = ledger.meta();
    let size = ledger.size();

    // Keys: the genesis key must be one the caller trusts (when they named any).
    let genesis = NoteVerifier::parse(&meta.genesis_key)
        .map_err(|e| VerifyFailure::Index(format!("genesis key: {e}")))?;
    if !opts.trusted_keys.is_empty() && !opts.trusted_keys.contains(&genesis) {
        // A key the ledger rotated to is no stranger: say so, rather than "does not match".
        let rotated_to = ledger
            .key_history()
            .iter()
            .find(|(_, k)| opts.trusted_keys.contains(k));
        return Err(VerifyFailure::Checkpoint(match rotated_to {
            Some((from, key)) => format!(
                "the key you gave, {key}, took over at the key rotation of seq {}; \
                 verification starts from the key the ledger began with, {genesis}: give \
                 that one (each rotation entry, signed by both keys, carries the trust on)",
                from.saturating_sub(1)
            ),
            None => format!("the ledger's genesis key {genesis} is not among the keys you gave"),
        }));
    }
    store.check_frame_headers().map_err(store_failure)?;

    // Sizes whose root we need: logged and held checkpoints.
    let mut logged: Vec<(u64, &String)> = Vec::new();
    for note in ledger.checkpoint_log() {
        let cp = Checkpoint::parse_unverified(note).map_err(|e| {
            VerifyFailure::Checkpoint(format!("checkpoint log holds a malformed note: {e}"))
        })?;
        logged.push((cp.size, note));
    }
    let mut held: Vec<(u64, &str, &str)> = Vec::new();
    for (label, note) in &opts.held_checkpoints {
        let cp = Checkpoint::parse_unverified(note)
            .map_err(|e| VerifyFailure::Checkpoint(format!("{label}: {e}")))?;
        if cp.origin != meta.origin {
            return Err(VerifyFailure::Checkpoint(format!(
                "{label} is for origin {:?}, this ledger is {:?}",
                cp.origin, meta.origin
            )));
        }
        if cp.size > size {
            return Err(at(
                size,
                format!(
                    "{label} signs {} entries but the ledger holds {size}: entries from seq {size} on were removed (rolled back)",
                    cp.size
                ),
            ));
        }
        held.push((cp.size, label, note));
    }
    let mut wanted: BTreeSet<u64> = logged.iter().map(|(s, _)| *s).collect();
    wanted.extend(held.iter().map(|(s, _, _)| *s));
    let mut roots: HashMap<u64, Hash> = HashMap::new();
    roots.insert(0, hasher.empty());

    let mut keys: Vec<(u64, NoteVerifier)> = vec![(0, genesis)];
    let mut range = CompactRange::new();
    let mut prev = genesis_link(&meta.ledger_id);
    let mut redacted: BTreeMap<Hash, u64> = BTreeMap::new();
    let mut redaction_entries: BTreeSet<Hash> = BTreeSet::new();
    let mut rotations = 0u64;
    let mut tree = TreeCursor::new(store, size);
    let mut dedup = DedupCursor::new(store.dedup_cache_blocks(1 << 12));

    let frames = store.entry_frame_count();
    let workers = super::cores().clamp(1, 8);
    let next = AtomicUsize::new(0);
    // Each frame's results go back to the workers once checked: fresh ones, freed on
    // another thread, were pages the kernel had to zero again (2% of the CPU).
    let spare: Mutex<Vec<Vec<Checked>>> = Mutex::new(Vec::new());
    let outcome: Result<(), VerifyFailure> = std::thread::scope(|scope| {
        let (tx, rx) =
            mpsc::sync_channel::<(usize, Result<Vec<Checked>, VerifyFailure>)>(workers * 4);
        for _ in 0..workers {
            let tx = tx.clone();
            let next = &next;
            let spare = &spare;
            scope.spawn(move || {
                let (mut entries, mut raws) = (Vec::new(), Vec::new());
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= frames {
                        break;
                    }
                    let spare = spare
                        .lock()
                        .ok()
                        .and_then(|mut v| v.pop())
                        .unwrap_or_default();
                    let checked = check_frame(ledger, i, (&mut entries, &mut raws), spare);
                    if tx.send((i, checked)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        let mut waiting: BTreeMap<usize, Result<Vec<Checked>, VerifyFailure>> = BTreeMap::new();
        let mut want = 0usize;
        let mut done = 0u64;
        let result = (|| {
            while want < frames {
                let checked = match waiting.remove(&want) {
                    Some(r) => r,
                    None => {
                        let (i, r) = rx.recv().map_err(|_| {
                            VerifyFailure::Index("a verification worker stopped".into())
                        })?;
                        waiting.insert(i, r);
                        continue;
                    }
                };
                want += 1;
                let mut checked = checked?;
                for c in checked.drain(..) {
                    let seq = c.seq;
                    if c.prev != prev {
                        return Err(at(seq, "does not link to the previous entry's hash"));
                    }
                    if c.raw.0 != c.raw_hash {
                        return Err(at(
                            seq,
                            "raw record's hash differs from the one the entry holds",
                        ));
                    }
                    let is_event = c.other.is_none();
                    match (c.raw.1, is_event) {
                        (RawRef::Kept(_), true) | (RawRef::None, false) => {}
                        (RawRef::Redacted, true) => {
                            redacted.insert(c.raw.0, seq);
                        }
                        _ => return Err(at(seq, "raw record state does not fit the entry's kind")),
                    }
                    match &c.other {
                        None | Some(Payload::Event(_)) => {}
                        Some(Payload::KeyRotation {
                            old_key,
                            new_key,
                            old_signature,
                            new_signature,
                            ..
                        }) => {
                            let old = NoteVerifier::parse(old_key)
                                .map_err(|e| at(seq, format!("rotation old key: {e}")))?;
                            let new = NoteVerifier::parse(new_key)
                                .map_err(|e| at(seq, format!("rotation new key: {e}")))?;
                            if keys.last().map(|(_, k)| k) != Some(&old) {
                                return Err(at(
                                    seq,
                                    "rotation names an old key that is not the key in force",
                                ));
                            }
                            let statement =
                                rotation_statement(&meta.origin, seq, &prev, &old, &new);
                            if !old.verify(statement.as_bytes(), old_signature)
                                || !new.verify(statement.as_bytes(), new_signature)
                            {
                                return Err(at(seq, "rotation is not signed by both keys"));
                            }
                            keys.push((seq + 1, new));
                            rotations += 1;
                        }
                        Some(Payload::Redaction { raw_hash, .. }) => {
                            redaction_entries.insert(*raw_hash);
                        }
                        Some(Payload::Cursor { .. }) => {}
                    }
                    tree.expect(&c.leaf, seq)?;
                    if let Some(k) = &c.dedup {
                        dedup.check(seq, k)?;
                    }
                    let mut nodes = Vec::new();
                    range.push(&hasher, c.leaf, |_, _, n| nodes.push(*n));
                    for n in &nodes {
                        tree.expect(n, seq)?;
                    }
                    prev = c.chain;
                    if wanted.contains(&range.size()) {
                        roots.insert(range.size(), range.root(&hasher));
                    }
                    done += 1;
                }
                if let Ok(mut spare) = spare.lock() {
                    spare.push(checked);
                }
                progress(done, size);
            }
            Ok(())
        })();
        // Stop the workers early on failure.
        next.store(frames, Ordering::Relaxed);
        drop(rx);
        result
    });
    outcome?;
    if range.size() != size {
        return Err(at(range.size(), "entry is missing"));
    }
    let root = range.root(&hasher);
    if ledger.head().head != prev || ledger.head().root != root {
        return Err(VerifyFailure::Index(
            "the head the ledger opened with does not match the entries".into(),
        ));
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
            "the key changes recorded in commit markers do not match the rotation entries".into(),
        ));
    }
    let mut last_good = 0u64;
    for (s, note) in &logged {
        let key = super::key_in_force(&keys, *s)
            .map_err(|_| VerifyFailure::Index("no key in force".into()))?
            .clone();
        let (cp, _) = Checkpoint::open(note, std::slice::from_ref(&key)).map_err(|e| {
            VerifyFailure::Checkpoint(format!(
                "checkpoint log entry of size {s}: {e} (key in force: {key})"
            ))
        })?;
        let want = roots
            .get(s)
            .ok_or_else(|| VerifyFailure::Index(format!("no root computed for size {s}")))?;
        if &cp.root != want {
            return Err(at(
                last_good,
                format!(
                    "the checkpoint of size {s} signed root {} but the entries give {}: an entry in seqs {last_good}..{} differs from what was signed",
                    to_hex(&cp.root),
                    to_hex(want),
                    s.saturating_sub(1)
                ),
            ));
        }
        last_good = *s;
    }
    for (s, label, note) in &held {
        // A held checkpoint may predate a rotation, or be from any key the caller trusts.
        let mut ks: Vec<NoteVerifier> = keys.iter().map(|(_, k)| k.clone()).collect();
        ks.extend(opts.trusted_keys.iter().cloned());
        let (cp, _) = Checkpoint::open(note, &ks)
            .map_err(|e| VerifyFailure::Checkpoint(format!("{label}: {e}")))?;
        let want = roots
            .get(s)
            .ok_or_else(|| VerifyFailure::Index(format!("no root computed for size {s}")))?;
        if &cp.root != want {
            return Err(VerifyFailure::Checkpoint(format!(
                "{label} (size {s}) signed root {} but the ledger's first {s} entries give {}: the ledger was rewritten at or before seq {}",
                to_hex(&cp.root),
                to_hex(want),
                s.saturating_sub(1)
            )));
        }
    }
    Ok(Verified {
        report: VerifyReport {
            size,
            root,
            head: prev,
            checkpoints_checked: logged.len() as u64,
            external_checkpoints: held.len() as u64,
            redacted_raw_records: redacted.len() as u64,
            key_rotations: rotations,
            keys: keys.iter().map(|(_, k)| k.to_string()).collect(),
            verified_at: Timestamp::now(),
        },
    })
}

/// Reads the tree file in order, in blocks, and compares it with the recomputed nodes.
struct TreeCursor<'a> {
    store: &'a store::Store,
    /// Hash positions the signed size covers.
    end: u64,
    block: Vec<Hash>,
    block_start: u64,
    pos: u64,
}

impl<'a> TreeCursor<'a> {
    fn new(store: &'a store::Store, size: u64) -> Self {
        Self {
            store,
            end: store::tree_len(size),
            block: Vec::new(),
            block_start: 0,
            pos: 0,
        }
    }

    fn expect(&mut self, hash: &Hash, seq: u64) -> Result<(), VerifyFailure> {
        let off = self.pos - self.block_start;
        if off >= self.block.len() as u64 {
            self.block_start = self.pos;
            let count = (1 << 12).min(self.end.saturating_sub(self.pos));
            self.block = (self.store.tree_hashes(self.pos, count))
                .map_err(|e| at(seq, format!("tree file: {e}")))?;
        }
        let got = self.block.get((self.pos - self.block_start) as usize);
        if got != Some(hash) {
            return Err(at(
                seq,
                format!(
                    "the stored Merkle hash at tree position {} differs from the one the entries give",
                    self.pos
                ),
            ));
        }
        self.pos += 1;
        Ok(())
    }
}

/// Compares the dedup cache, record by record, with the keys the entries give. The cache
/// may stop short (a power cut before a writer reopened), never disagree.
struct DedupCursor<F: FnMut() -> Vec<u8>> {
    next_block: F,
    block: Vec<u8>,
    at: usize,
}

impl<F: FnMut() -> Vec<u8>> DedupCursor<F> {
    fn new(next_block: F) -> Self {
        Self {
            next_block,
            block: Vec::new(),
            at: 0,
        }
    }

    fn check(&mut self, seq: u64, key: &Hash) -> Result<(), VerifyFailure> {
        if self.at >= self.block.len() {
            self.block = (self.next_block)();
            self.at = 0;
        }
        let Some(rec) = self.block.get(self.at..self.at + 32) else {
            return Ok(());
        };
        let mut s = [0u8; 8];
        s.copy_from_slice(rec.get(24..32).unwrap_or(&[0; 8]));
        if rec.get(..24) != key.get(..24) || u64::from_be_bytes(s) != seq {
            return Err(at(
                seq,
                "the de-duplication cache disagrees with this entry",
            ));
        }
        self.at += 32;
        Ok(())
    }
}
