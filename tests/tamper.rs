//! Tamper evidence (invariant 8): a catalogue of named mutations, made through a raw sled
//! handle or on the files, each of which must be detected by `open` or by `verify`, at the
//! right seq where one can be named. None may verify clean.

use std::fs;
use std::path::{Path, PathBuf};

use auditledger::ledger::cplog::parse_log;
use auditledger::ledger::entry::chain_hash;
use auditledger::ledger::store::{
    bundle_key, checkpoint_key, dedup_store_key, key_change_key, raw_bundle_key, raw_segment_key,
    segment_key, tile_key, HEAD_KEY,
};
use auditledger::ledger::verify::{verify, VerifyOptions};
use auditledger::ledger::{Access, Ledger, CHECKPOINT_LOG, SLED_DIR};

use crate::util::{ledger_with, run};

const N: u64 = 600;
const BATCH: u64 = 128;

/// Entry records of a bundle value: (canonical bytes, chain hash).
fn split(value: &[u8]) -> Vec<(Vec<u8>, [u8; 32])> {
    let mut out = vec![];
    let mut at = 0;
    while at < value.len() {
        let len = u32::from_be_bytes(value[at..at + 4].try_into().unwrap()) as usize;
        let bytes = value[at + 4..at + 4 + len].to_vec();
        let chain = value[at + 4 + len..at + 36 + len].try_into().unwrap();
        out.push((bytes, chain));
        at += 36 + len;
    }
    out
}

fn join(records: &[(Vec<u8>, [u8; 32])]) -> Vec<u8> {
    let mut out = vec![];
    for (b, c) in records {
        out.extend_from_slice(&(b.len() as u32).to_be_bytes());
        out.extend_from_slice(b);
        out.extend_from_slice(c);
    }
    out
}

fn edit_bundle(db: &sled::Db, key: &[u8], f: impl FnOnce(&mut Vec<(Vec<u8>, [u8; 32])>)) {
    let mut records = split(&db.get(key).unwrap().expect("bundle exists"));
    f(&mut records);
    db.insert(key, join(&records)).unwrap();
}

fn flip(v: &mut [u8], at: usize) {
    v[at] ^= 0x20;
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
    mutate: fn(&sled::Db, &Path),
    expect: Expect,
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "byte of an entry changed (full bundle)",
            mutate: |db, _| edit_bundle(db, &bundle_key(0), |r| flip(&mut r[5].0, 80)),
            expect: Expect::Seq(5),
        },
        Case {
            name: "byte of an entry changed (segment of the partial bundle)",
            mutate: |db, _| edit_bundle(db, &segment_key(2, 512), |r| flip(&mut r[8].0, 80)),
            expect: Expect::Seq(520),
        },
        Case {
            name: "entry changed and its chain hash recomputed",
            mutate: |db, _| {
                edit_bundle(db, &bundle_key(0), |r| {
                    flip(&mut r[7].0, 80);
                    r[7].1 = chain_hash(&r[7].0);
                })
            },
            expect: Expect::Seq(7),
        },
        Case {
            name: "entry deleted",
            mutate: |db, _| edit_bundle(db, &bundle_key(0), |r| drop(r.remove(10))),
            expect: Expect::Seq(10),
        },
        Case {
            name: "two entries swapped",
            mutate: |db, _| edit_bundle(db, &bundle_key(1), |r| r.swap(10, 11)),
            expect: Expect::Seq(266),
        },
        Case {
            name: "entry inserted",
            mutate: |db, _| {
                edit_bundle(db, &bundle_key(0), |r| {
                    let copy = r[9].clone();
                    r.insert(10, copy);
                    r.pop();
                })
            },
            expect: Expect::Seq(10),
        },
        Case {
            name: "tail dropped (head kept)",
            mutate: |db, _| {
                db.remove(segment_key(2, 512)).unwrap();
                db.remove(raw_segment_key(2, 512)).unwrap();
            },
            expect: Expect::Refused,
        },
        Case {
            name: "tail and its checkpoint dropped, head rolled back; checkpoint log kept",
            mutate: |db, _| roll_back_to_512(db),
            expect: Expect::Refused,
        },
        Case {
            name: "tail, checkpoints, head and checkpoint log all rolled back",
            mutate: |db, dir| {
                roll_back_to_512(db);
                let log = dir.join(CHECKPOINT_LOG);
                let bytes = fs::read(&log).unwrap();
                let (notes, _) = parse_log(&bytes).unwrap();
                let keep: String = notes
                    .iter()
                    .filter(|n| !n.contains(&format!("\n{N}\n")))
                    .map(|n| format!("{}\n{n}", n.len()))
                    .collect();
                fs::write(&log, keep).unwrap();
            },
            expect: Expect::HeldCheckpointAt(512),
        },
        Case {
            name: "raw record bytes changed",
            mutate: |db, _| {
                let mut v = db.get(raw_bundle_key(0)).unwrap().unwrap().to_vec();
                // Record 0 starts at 0: hash (32) state (1) len (4) then the bytes.
                flip(&mut v, 40);
                db.insert(raw_bundle_key(0), v).unwrap();
            },
            expect: Expect::Seq(0),
        },
        Case {
            name: "raw record removed without a redaction entry",
            mutate: |db, _| {
                let v = db.get(raw_bundle_key(0)).unwrap().unwrap().to_vec();
                let len = u32::from_be_bytes(v[33..37].try_into().unwrap()) as usize;
                let mut out = v[..32].to_vec();
                out.push(1);
                out.extend_from_slice(&0u32.to_be_bytes());
                out.extend_from_slice(&v[37 + len..]);
                db.insert(raw_bundle_key(0), out).unwrap();
            },
            expect: Expect::Seq(0),
        },
        Case {
            name: "hash in a level-1 tile changed",
            mutate: |db, _| {
                let mut v = db.get(tile_key(1, 0)).unwrap().unwrap().to_vec();
                flip(&mut v, 3);
                db.insert(tile_key(1, 0), v).unwrap();
            },
            expect: Expect::Refused,
        },
        Case {
            name: "hash in a full level-0 tile changed",
            mutate: |db, _| {
                let mut v = db.get(tile_key(0, 0)).unwrap().unwrap().to_vec();
                flip(&mut v, 32 * 40 + 3);
                db.insert(tile_key(0, 0), v).unwrap();
            },
            expect: Expect::Seq(40),
        },
        Case {
            name: "stored checkpoint's signature changed",
            mutate: |db, _| {
                let mut v = db.get(checkpoint_key(384)).unwrap().unwrap().to_vec();
                let at = v.len() - 10;
                v[at] = if v[at] == b'A' { b'B' } else { b'A' };
                db.insert(checkpoint_key(384), v).unwrap();
            },
            expect: Expect::Refused,
        },
        Case {
            name: "stored checkpoint's root changed",
            mutate: |db, _| {
                let v = db.get(checkpoint_key(256)).unwrap().unwrap().to_vec();
                let text = String::from_utf8(v).unwrap();
                let lines: Vec<&str> = text.split('\n').collect();
                let new_root = if lines[2].starts_with('A') { "B" } else { "A" };
                let altered = text.replacen(&lines[2][..1], new_root, 1);
                db.insert(checkpoint_key(256), altered.as_bytes()).unwrap();
            },
            expect: Expect::Refused,
        },
        Case {
            name: "head changed",
            mutate: |db, _| {
                let mut v = db.get(HEAD_KEY).unwrap().unwrap().to_vec();
                let at = v.len() - 1;
                flip(&mut v, at);
                db.insert(HEAD_KEY, v).unwrap();
            },
            expect: Expect::Refused,
        },
        Case {
            name: "dedup index entry removed",
            mutate: |db, _| {
                let first = db.scan_prefix([b'D']).next().unwrap().unwrap().0;
                db.remove(first).unwrap();
            },
            expect: Expect::Refused,
        },
        Case {
            name: "dedup index entry pointed elsewhere",
            mutate: |db, _| {
                let (k, _) = db.scan_prefix([b'D']).next().unwrap().unwrap();
                db.insert(k, &9999u64.to_be_bytes()).unwrap();
            },
            expect: Expect::Refused,
        },
        Case {
            name: "entry added beyond the head",
            mutate: |db, _| {
                let seg = db.get(segment_key(2, 512)).unwrap().unwrap();
                let records = split(&seg);
                db.insert(segment_key(2, N), join(&records[..1])).unwrap();
            },
            expect: Expect::Refused,
        },
        Case {
            name: "key index replaced",
            mutate: |db, _| {
                let other =
                    auditledger::ledger::note::NoteSigner::from_seed(crate::util::ORIGIN, [7; 32])
                        .unwrap();
                db.insert(key_change_key(0), other.verifier().to_string().as_bytes())
                    .unwrap();
            },
            expect: Expect::Refused,
        },
    ]
}

/// Rolls the store back to size 512 as a careful attacker would: segments, checkpoint,
/// dedup keys and tile of the dropped entries removed, head rewritten to match.
fn roll_back_to_512(db: &sled::Db) {
    let seg = db.get(segment_key(2, 512)).unwrap().unwrap();
    db.remove(segment_key(2, 512)).unwrap();
    db.remove(raw_segment_key(2, 512)).unwrap();
    db.remove(checkpoint_key(N)).unwrap();
    db.remove(tile_key(0, 2)).unwrap();
    // Dedup keys of the dropped entries.
    for (bytes, _) in split(&seg) {
        let entry = auditledger::ledger::entry::Entry::decode(&bytes).unwrap();
        if let Some(ev) = entry.event() {
            let dk = auditledger::ledger::entry::dedup_key(ev, &entry.raw_hash);
            db.remove(dedup_store_key(&dk)).unwrap();
        }
    }
    let cp = String::from_utf8(db.get(checkpoint_key(512)).unwrap().unwrap().to_vec()).unwrap();
    let root_b64 = cp.split('\n').nth(2).unwrap();
    use base64::Engine;
    let root: [u8; 32] = base64::engine::general_purpose::STANDARD
        .decode(root_b64)
        .unwrap()
        .try_into()
        .unwrap();
    let last = split(&db.get(bundle_key(1)).unwrap().unwrap())
        .pop()
        .unwrap();
    let head = auditledger::ledger::Head {
        size: 512,
        head: last.1,
        root,
    };
    db.insert(HEAD_KEY, postcard::to_stdvec(&head).unwrap())
        .unwrap();
}

/// sled releases its file lock from a background thread after the handle is dropped.
fn open_when_sled_lets_go(dir: &Path) -> Result<Ledger, auditledger::ledger::LedgerError> {
    for _ in 0..200 {
        match Ledger::open(dir, Access::Read) {
            Err(e) if e.to_string().contains("could not acquire lock") => {
                std::thread::sleep(std::time::Duration::from_millis(10))
            }
            other => return other,
        }
    }
    Ledger::open(dir, Access::Read)
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
fn the_pristine_ledger_verifies() {
    let (_tmp, dir, held) = pristine();
    let ledger = Ledger::open(&dir, Access::Read).unwrap();
    let opts = VerifyOptions {
        held_checkpoints: vec![("held".into(), held)],
        ..Default::default()
    };
    verify(&ledger, &opts).unwrap();
}

#[test]
fn every_tamper_case_is_detected_at_the_right_seq() {
    let (tmp, pristine_dir, held) = pristine();
    let mut failures = vec![];
    for (i, case) in cases().into_iter().enumerate() {
        let dir = tmp.path().join(format!("case{i}"));
        copy_dir(&pristine_dir, &dir);
        {
            let db = auditledger::ledger::store::Store::open(&dir.join(SLED_DIR))
                .unwrap()
                .db;
            (case.mutate)(&db, &dir);
            db.flush().unwrap();
        }
        let opts = VerifyOptions {
            held_checkpoints: match case.expect {
                Expect::HeldCheckpointAt(_) => vec![("held".into(), held.clone())],
                _ => vec![],
            },
            ..Default::default()
        };
        let outcome = match open_when_sled_lets_go(&dir) {
            Err(e) => Err((e.first_bad_seq(), format!("open refused: {e}"))),
            Ok(l) => verify(&l, &opts).map_err(|f| (f.first_bad_seq(), f.to_string())),
        };
        let ok = match (&case.expect, &outcome) {
            (_, Ok(_)) => false,
            (Expect::Seq(s), Err((got, _))) => got == &Some(*s),
            (Expect::HeldCheckpointAt(s), Err((got, _))) => got == &Some(*s),
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
        "undetected or misplaced:\n{}",
        failures.join("\n")
    );
}

/// Byte flips at many offsets of the files on disk. A flip may land where sled keeps
/// nothing live (old log segments); then the ledger's content is unchanged, and that is the
/// only way `verify` may still succeed.
#[test]
fn byte_flips_in_the_files_never_verify_as_altered_content() {
    let (tmp, pristine_dir, _) = pristine();
    let (_, reference_log, _) = run(&pristine_dir, &["log", "--format", "json"]);
    let (_, reference_cp, _) = run(&pristine_dir, &["checkpoint"]);
    let files = [
        pristine_dir.join(SLED_DIR).join("db"),
        pristine_dir.join(CHECKPOINT_LOG),
    ];
    let mut detected = 0;
    let mut harmless = 0;
    for file in &files {
        // Flip only bytes that hold something: sled preallocates segments with zeros.
        let live: Vec<usize> = fs::read(file)
            .unwrap()
            .iter()
            .enumerate()
            .filter(|(_, b)| **b != 0)
            .map(|(i, _)| i)
            .collect();
        let rel = file.strip_prefix(&pristine_dir).unwrap().to_path_buf();
        for k in 0..24 {
            let offset = live[(live.len() * k) / 24 + k % 7];
            let dir = tmp
                .path()
                .join(format!("flip-{}-{k}", rel.display()).replace('/', "_"));
            copy_dir(&pristine_dir, &dir);
            let target = dir.join(&rel);
            let mut bytes = fs::read(&target).unwrap();
            bytes[offset] ^= 0x01;
            fs::write(&target, bytes).unwrap();
            let (code, out, err) = run(&dir, &["verify"]);
            assert!(
                !err.contains("panicked"),
                "{} @ {offset}: panic: {err}",
                rel.display()
            );
            if code == 0 {
                let (_, log, _) = run(&dir, &["log", "--format", "json"]);
                let (_, cp, _) = run(&dir, &["checkpoint"]);
                assert!(
                    log == reference_log && cp == reference_cp,
                    "{} @ {offset}: verify said {out} but the content changed",
                    rel.display()
                );
                harmless += 1;
            } else {
                detected += 1;
            }
        }
    }
    assert!(detected > 0, "no flip was detected at all");
    eprintln!("byte flips: {detected} detected, {harmless} in dead space (content unchanged)");
}
