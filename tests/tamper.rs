//! Tamper evidence (invariant 8): a catalogue of named mutations of the files on disk, each
//! made as an attacker who knows the documented layout would (checksums recomputed,
//! caches deleted), each of which `open` or `verify` must catch, at the right seq where one
//! can be named. None may verify clean; flips in the caches may only be harmless.

use std::fs;
use std::path::{Path, PathBuf};

use auditledger::ledger::cplog::parse_log;
use auditledger::ledger::entry::{chain_hash, Entry};
use auditledger::ledger::verify::{verify, VerifyOptions};
use auditledger::ledger::{
    Access, Ledger, CHECKPOINT_LOG, DEDUP_FILE, INDEX_FILE, LOG_FILE, META_FILE, TREE_FILE,
};
use auditledger::tlog::merkle::{CompactRange, Sha256Hasher, TreeHasher};

use crate::util::{ledger_with, reopen, run};

const N: u64 = 600;
const BATCH: u64 = 128;

/// One frame of `log`, payload decompressed (the layout in `src/ledger/store.rs`).
#[derive(Clone, Debug)]
struct Frame {
    kind: u8,
    count: u32,
    first: u64,
    plain: Vec<u8>,
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(b[at..at + 4].try_into().unwrap())
}

fn read_frames(dir: &Path) -> Vec<Frame> {
    let bytes = fs::read(dir.join(LOG_FILE)).unwrap();
    let mut out = vec![];
    let mut at = 0;
    while at < bytes.len() {
        let h = &bytes[at..at + 32];
        let stored_len = be32(h, 16) as usize;
        let plain_len = be32(h, 20) as usize;
        let stored = &bytes[at + 32..at + 32 + stored_len];
        let plain = if h[1] == 1 {
            zstd::bulk::decompress(stored, plain_len).unwrap()
        } else {
            stored.to_vec()
        };
        out.push(Frame {
            kind: h[0],
            count: be32(h, 4),
            first: u64::from_be_bytes(h[8..16].try_into().unwrap()),
            plain,
        });
        at += 32 + stored_len;
    }
    out
}

/// Writes frames back uncompressed (valid per the format) with fresh checksums, and
/// deletes the header cache, as a careful attacker would.
fn write_frames(dir: &Path, frames: &[Frame]) {
    let mut out = vec![];
    for f in frames {
        let mut h = [0u8; 32];
        h[0] = f.kind;
        h[4..8].copy_from_slice(&f.count.to_be_bytes());
        h[8..16].copy_from_slice(&f.first.to_be_bytes());
        h[16..20].copy_from_slice(&(f.plain.len() as u32).to_be_bytes());
        h[20..24].copy_from_slice(&(f.plain.len() as u32).to_be_bytes());
        h[24..28].copy_from_slice(&crc32fast::hash(&f.plain).to_be_bytes());
        let crc = crc32fast::hash(&h[..28]);
        h[28..32].copy_from_slice(&crc.to_be_bytes());
        out.extend_from_slice(&h);
        out.extend_from_slice(&f.plain);
    }
    fs::write(dir.join(LOG_FILE), out).unwrap();
    let _ = fs::remove_file(dir.join(INDEX_FILE));
}

/// Entry records of an entries payload: canonical bytes.
fn split_entries(plain: &[u8]) -> Vec<Vec<u8>> {
    let mut out = vec![];
    let mut at = 0;
    while at < plain.len() {
        let len = be32(plain, at) as usize;
        out.push(plain[at + 4..at + 4 + len].to_vec());
        at += 4 + len;
    }
    out
}

fn join_entries(records: &[Vec<u8>]) -> Vec<u8> {
    let mut out = vec![];
    for r in records {
        out.extend_from_slice(&(r.len() as u32).to_be_bytes());
        out.extend_from_slice(r);
    }
    out
}

/// Edits the entries frame holding `seq`; the closure gets the records and the index of
/// `seq` among them.
fn edit_entries(dir: &Path, seq: u64, f: impl FnOnce(&mut Vec<Vec<u8>>, usize)) {
    let mut frames = read_frames(dir);
    let frame = frames
        .iter_mut()
        .find(|fr| fr.kind == 1 && fr.first <= seq && seq < fr.first + fr.count as u64)
        .unwrap();
    let mut records = split_entries(&frame.plain);
    f(&mut records, (seq - frame.first) as usize);
    frame.count = records.len() as u32;
    frame.plain = join_entries(&records);
    write_frames(dir, &frames);
}

/// Edits the first raw-records frame's plain payload.
fn edit_first_raws(dir: &Path, f: impl FnOnce(&mut Vec<u8>)) {
    let mut frames = read_frames(dir);
    let frame = frames.iter_mut().find(|fr| fr.kind == 2).unwrap();
    f(&mut frame.plain);
    write_frames(dir, &frames);
}

fn flip(v: &mut [u8], at: usize) {
    v[at] ^= 0x20;
}

fn flip_file(path: &Path, at: usize) {
    let mut b = fs::read(path).unwrap();
    b[at] ^= 0x01;
    fs::write(path, b).unwrap();
}

/// Post-order position of tree node (level, index): see `store::node_position`.
fn node_position(level: u32, index: u64) -> u64 {
    let last = ((index + 1) << level) - 1;
    2 * last - u64::from(last.count_ones()) + u64::from(level)
}

/// Rebuilds `tree` from the entries in `log`, as an attacker covering an edit would.
fn rebuild_tree(dir: &Path) {
    let mut range = CompactRange::new();
    let mut out = vec![];
    for f in read_frames(dir).iter().filter(|f| f.kind == 1) {
        for canonical in split_entries(&f.plain) {
            let leaf = Sha256Hasher.leaf(&canonical);
            out.extend_from_slice(&leaf);
            range.push(&Sha256Hasher, leaf, |_, _, n| out.extend_from_slice(n));
        }
    }
    fs::write(dir.join(TREE_FILE), out).unwrap();
}

/// Drops every frame after the commit marker of `size`.
fn cut_log_after_commit(dir: &Path, size: u64) {
    let frames = read_frames(dir);
    let cut = frames
        .iter()
        .position(|f| f.kind == 3 && f.first == size)
        .unwrap();
    write_frames(dir, &frames[..=cut]);
}

/// Removes checkpoint log records whose size is above `size`.
fn cut_checkpoint_log(dir: &Path, size: u64) {
    let log = dir.join(CHECKPOINT_LOG);
    let (notes, _, _) = parse_log(&fs::read(&log).unwrap()).unwrap();
    let keep: String = notes
        .iter()
        .filter(|n| n.split('\n').nth(1).unwrap().parse::<u64>().unwrap() <= size)
        .map(|n| format!("{}\n{n}", n.len()))
        .collect();
    fs::write(&log, keep).unwrap();
}

/// Where a mutation must be caught.
#[derive(Debug)]
enum Expect {
    /// `verify` fails and names this first bad seq.
    Seq(u64),
    /// `open` refuses, or `verify` fails without a seq.
    Refused,
    /// Clean inside, but a checkpoint held outside (the one of size N) shows the rollback
    /// from this seq on.
    HeldCheckpointAt(u64),
}

struct Case {
    name: &'static str,
    mutate: fn(&Path),
    expect: Expect,
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "byte of an entry changed",
            mutate: |d| edit_entries(d, 5, |r, i| flip(&mut r[i], 80)),
            expect: Expect::Seq(5),
        },
        Case {
            name: "byte of an entry changed in the last (partial) bundle",
            mutate: |d| edit_entries(d, 520, |r, i| flip(&mut r[i], 80)),
            expect: Expect::Seq(520),
        },
        Case {
            name: "entry changed, later entries re-chained and the tree rebuilt",
            mutate: |d| {
                let mut frames = read_frames(d);
                let mut prev = None;
                for f in frames.iter_mut().filter(|f| f.kind == 1) {
                    let mut records = split_entries(&f.plain);
                    for r in records.iter_mut() {
                        let mut e = Entry::decode(r).unwrap();
                        if e.seq == 7 {
                            e.raw_hash[0] ^= 1;
                        }
                        if let Some(p) = prev {
                            e.prev = p;
                        }
                        *r = e.encode();
                        prev = Some(chain_hash(r));
                    }
                    f.plain = join_entries(&records);
                }
                write_frames(d, &frames);
                rebuild_tree(d);
            },
            // Open compares the rebuilt tree's root with the signed one and refuses.
            expect: Expect::Refused,
        },
        Case {
            name: "entry deleted",
            mutate: |d| edit_entries(d, 10, |r, i| drop(r.remove(i))),
            expect: Expect::Refused,
        },
        Case {
            name: "two entries swapped",
            mutate: |d| edit_entries(d, 266, |r, i| r.swap(i, i + 1)),
            expect: Expect::Seq(266),
        },
        Case {
            name: "entry inserted (a copy of the one before)",
            mutate: |d| {
                edit_entries(d, 10, |r, i| {
                    let copy = r[i - 1].clone();
                    r.insert(i, copy);
                    r.pop();
                })
            },
            expect: Expect::Seq(10),
        },
        Case {
            name: "tail of the log dropped, checkpoint log kept",
            mutate: |d| cut_log_after_commit(d, 512),
            expect: Expect::Refused,
        },
        Case {
            name: "log, tree and checkpoint log all rolled back to 512",
            mutate: |d| {
                cut_log_after_commit(d, 512);
                rebuild_tree(d);
                cut_checkpoint_log(d, 512);
                let _ = fs::remove_file(d.join(DEDUP_FILE));
            },
            expect: Expect::HeldCheckpointAt(512),
        },
        Case {
            name: "two commits appended that the checkpoint log does not sign",
            mutate: |d| {
                let mut frames = read_frames(d);
                let tail: Vec<Frame> = frames[frames.len() - 3..].to_vec();
                for extra in 1..=2u64 {
                    let mut t = tail.clone();
                    for f in t.iter_mut() {
                        f.first += 88 * extra;
                    }
                    frames.extend(t);
                }
                write_frames(d, &frames);
            },
            // Readers too: a live writer leaves at most one commit past the checkpoint log.
            expect: Expect::Seq(N),
        },
        Case {
            name: "checkpoint log cut back to 256, the log kept",
            mutate: |d| cut_checkpoint_log(d, 256),
            expect: Expect::Seq(256),
        },
        Case {
            name: "raw record bytes changed",
            // Record 0: hash (32) state (1) len (4) then the bytes.
            mutate: |d| edit_first_raws(d, |p| flip(p, 40)),
            expect: Expect::Seq(0),
        },
        Case {
            name: "raw record removed without a redaction entry",
            mutate: |d| {
                edit_first_raws(d, |p| {
                    let len = be32(p, 33) as usize;
                    let mut out = p[..32].to_vec();
                    out.push(1);
                    out.extend_from_slice(&0u32.to_be_bytes());
                    out.extend_from_slice(&p[37 + len..]);
                    *p = out;
                })
            },
            expect: Expect::Seq(0),
        },
        Case {
            name: "a leaf hash in the tree file changed",
            mutate: |d| flip_file(&d.join(TREE_FILE), (node_position(0, 40) * 32 + 3) as usize),
            expect: Expect::Seq(40),
        },
        Case {
            name: "the 512-leaf subtree hash in the tree file changed",
            mutate: |d| flip_file(&d.join(TREE_FILE), (node_position(9, 0) * 32 + 3) as usize),
            expect: Expect::Refused,
        },
        Case {
            name: "last checkpoint's signature changed",
            mutate: |d| {
                let p = d.join(CHECKPOINT_LOG);
                let len = fs::read(&p).unwrap().len();
                let mut b = fs::read(&p).unwrap();
                b[len - 10] = if b[len - 10] == b'A' { b'B' } else { b'A' };
                fs::write(p, b).unwrap();
            },
            expect: Expect::Refused,
        },
        Case {
            name: "an older checkpoint's root changed",
            mutate: |d| {
                let p = d.join(CHECKPOINT_LOG);
                let text = String::from_utf8(fs::read(&p).unwrap()).unwrap();
                let marker = "\n256\n";
                let at = text.find(marker).unwrap() + marker.len();
                let mut b = text.into_bytes();
                b[at] = if b[at] == b'A' { b'B' } else { b'A' };
                fs::write(p, b).unwrap();
            },
            expect: Expect::Refused,
        },
        Case {
            name: "checkpoint log missing",
            mutate: |d| fs::remove_file(d.join(CHECKPOINT_LOG)).unwrap(),
            expect: Expect::Refused,
        },
        Case {
            name: "checkpoint log emptied",
            mutate: |d| fs::write(d.join(CHECKPOINT_LOG), b"").unwrap(),
            expect: Expect::Refused,
        },
        Case {
            name: "checkpoint log replaced by another ledger's",
            mutate: |d| {
                let other = d.with_extension("other");
                drop(ledger_with(&other, N, BATCH));
                fs::copy(other.join(CHECKPOINT_LOG), d.join(CHECKPOINT_LOG)).unwrap();
            },
            expect: Expect::Refused,
        },
        Case {
            name: "a de-duplication cache record changed",
            mutate: |d| flip_file(&d.join(DEDUP_FILE), 32 * 3 + 2),
            expect: Expect::Seq(3),
        },
        Case {
            name: "a key change planted in the last commit marker",
            mutate: |d| {
                let mut frames = read_frames(d);
                let other =
                    auditledger::tlog::note::NoteSigner::from_seed(crate::util::ORIGIN, [7; 32])
                        .unwrap();
                let last = frames.last_mut().unwrap();
                last.count = 1;
                last.plain = format!("1 {}\n", other.verifier()).into_bytes();
                write_frames(d, &frames);
            },
            expect: Expect::Refused,
        },
        Case {
            name: "meta's origin changed (checksum recomputed)",
            mutate: |d| {
                let p = d.join(META_FILE);
                let mut b = fs::read(&p).unwrap();
                let body = b.len() - 32;
                let at = b[..body].windows(4).position(|w| w == b"test").unwrap();
                b[at] = b'b';
                let check = blake3::hash(&b[..body]);
                b[body..].copy_from_slice(check.as_bytes());
                fs::write(p, b).unwrap();
            },
            expect: Expect::Refused,
        },
    ]
}

fn pristine() -> (tempfile::TempDir, PathBuf, String) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("pristine");
    let ledger = ledger_with(&dir, N, BATCH);
    let held = ledger.latest_checkpoint().unwrap();
    drop(ledger);
    (tmp, dir, held)
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            fs::copy(e.path(), target).unwrap();
        }
    }
}

#[test]
fn the_pristine_ledger_verifies_and_the_test_side_frame_codec_round_trips() {
    let (tmp, dir, held) = pristine();
    let ledger = Ledger::open(&dir, Access::Read).unwrap();
    let opts = VerifyOptions {
        held_checkpoints: vec![("held".into(), held)],
        ..Default::default()
    };
    verify(&ledger, &opts).unwrap();
    // Rewriting the frames unchanged (uncompressed, index deleted) is not tampering.
    let copy = tmp.path().join("rewritten");
    copy_dir(&dir, &copy);
    write_frames(&copy, &read_frames(&copy));
    verify(&Ledger::open(&copy, Access::Read).unwrap(), &opts).unwrap();
    drop(reopen(&copy));
    verify(&Ledger::open(&copy, Access::Read).unwrap(), &opts).unwrap();
}

#[test]
fn every_tamper_case_is_detected_at_the_right_seq() {
    let (tmp, pristine_dir, held) = pristine();
    let mut failures = vec![];
    for (i, case) in cases().into_iter().enumerate() {
        let dir = tmp.path().join(format!("case{i}"));
        copy_dir(&pristine_dir, &dir);
        (case.mutate)(&dir);
        let opts = VerifyOptions {
            held_checkpoints: match case.expect {
                Expect::HeldCheckpointAt(_) => vec![("held".into(), held.clone())],
                _ => vec![],
            },
            ..Default::default()
        };
        let outcome = match Ledger::open(&dir, Access::Read) {
            Err(e) => Err((
                e.first_bad_seq(),
                e.is_integrity(),
                format!("open refused: {e}"),
            )),
            Ok(l) => verify(&l, &opts)
                .map(|_| ())
                .map_err(|f| (f.first_bad_seq(), f.is_integrity(), f.to_string())),
        };
        let ok = match (&case.expect, &outcome) {
            (_, Ok(())) => false,
            (_, Err((_, false, _))) => false,
            (Expect::Seq(s), Err((got, _, _))) => got == &Some(*s),
            (Expect::HeldCheckpointAt(s), Err((got, _, _))) => got == &Some(*s),
            (Expect::Refused, Err(_)) => true,
        };
        if !ok {
            failures.push(format!(
                "{}: expected {:?}, got {:?}",
                case.name, case.expect, outcome
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "undetected, misplaced or not classed as integrity failures:\n{}",
        failures.join("\n")
    );
}

/// Byte flips at many offsets of every file. The caches (`log.idx`, `dedup`) are derived
/// from the log: a flip there may be harmless, and then the ledger's content must be
/// unchanged. A flip anywhere else must make `verify` exit 1.
#[test]
fn byte_flips_in_the_files_never_verify_as_altered_content() {
    let (tmp, pristine_dir, _) = pristine();
    let (_, reference_log, _) = run(&pristine_dir, &["log", "--format", "json"]);
    let (_, reference_cp, _) = run(&pristine_dir, &["checkpoint"]);
    let mut detected = 0;
    let mut harmless = 0;
    for name in [
        LOG_FILE,
        TREE_FILE,
        CHECKPOINT_LOG,
        META_FILE,
        INDEX_FILE,
        DEDUP_FILE,
    ] {
        let len = fs::metadata(pristine_dir.join(name)).unwrap().len() as usize;
        let cache = name == INDEX_FILE || name == DEDUP_FILE;
        for k in 0..16 {
            let offset = (len * k) / 16 + k % 7;
            let dir = tmp.path().join(format!("flip-{name}-{k}"));
            copy_dir(&pristine_dir, &dir);
            flip_file(&dir.join(name), offset);
            let (code, out, err) = run(&dir, &["verify"]);
            assert!(!err.contains("panicked"), "{name} @ {offset}: panic: {err}");
            if code == 0 {
                assert!(cache, "{name} @ {offset}: verify said {out}");
                let (_, log, _) = run(&dir, &["log", "--format", "json"]);
                let (_, cp, _) = run(&dir, &["checkpoint"]);
                assert!(
                    log == reference_log && cp == reference_cp,
                    "{name} @ {offset}: verify said {out} but the content changed"
                );
                harmless += 1;
            } else {
                assert_eq!(code, 1, "{name} @ {offset}: exit {code}, {err}");
                detected += 1;
            }
        }
    }
    assert!(detected >= 64, "only {detected} flips detected");
    eprintln!("byte flips: {detected} detected, {harmless} harmless (in a cache)");
}

/// `verify` reads the de-duplication cache in blocks of 4,096 records: a record that
/// disagrees in a later block is still found at its seq, and a cache cut short in a later
/// block (a power cut before a writer reopened) still verifies.
#[test]
fn the_dedup_cache_is_checked_past_its_first_block() {
    const RECORD: usize = 32;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("big");
    drop(ledger_with(&dir, 9_000, 3_000));
    let pristine = fs::read(dir.join(DEDUP_FILE)).unwrap();
    assert_eq!(pristine.len(), 9_000 * RECORD, "one record per event");
    let verdict = |dedup: &[u8]| {
        fs::write(dir.join(DEDUP_FILE), dedup).unwrap();
        let ledger = Ledger::open(&dir, Access::Read).unwrap();
        verify(&ledger, &VerifyOptions::default()).map(|_| ())
    };
    for seq in [4_095usize, 4_096, 8_999] {
        let mut bad = pristine.clone();
        bad[seq * RECORD] ^= 1;
        let err = verdict(&bad).unwrap_err();
        assert_eq!(err.first_bad_seq(), Some(seq as u64), "{err}");
        assert!(err.is_integrity(), "{err}");
    }
    verdict(&pristine[..6_000 * RECORD]).unwrap();
    verdict(&pristine).unwrap();
}
