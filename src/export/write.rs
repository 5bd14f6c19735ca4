//! Writing a bundle: gather, write into a temporary directory beside `out`, fsync, check,
//! rename.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::{
    check_rel_path, entry_doc, key_fingerprint, manifest_line, manifest_note_text, pretty, readme,
    report_claims, verify_bundle, BundleError, BundleSummary, ExportError, RawRef, CHECKPOINT,
    ENTRIES_DIR, MANIFEST, MANIFEST_NOTE, PROOFS_DIR, RAW_DIR, README, REPORT_DIR, VERIFIER_KEY,
};
use crate::ledger::entry::Payload;
use crate::ledger::verify::Verified;
use crate::ledger::Ledger;
use crate::ledger::{RawState, StoredEntry};
use crate::tlog::merkle::to_hex;
use crate::tlog::merkle::Hash;
use crate::tlog::note::{sign, Checkpoint, NoteSigner, NoteVerifier};

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> ExportError + '_ {
    move |source| ExportError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes the auditor bundle for a report computed on the first `tree_size` entries of
/// `ledger` and citing the seqs `cited`, into `out` (which must not exist, or be an empty
/// directory). `verified` is the full verification of `ledger` that the export rests on.
///
/// Report file names are relative paths under `report/`; an unsafe name (absolute, `..`,
/// backslash, control character) or a duplicate is refused. A report JSON with an
/// `evidence` array must cite only seqs in `cited`, with their chain hashes, and its
/// `attestation` (if any) must name `tree_size` and its root.
pub fn write_bundle(
    ledger: &Ledger,
    verified: &Verified,
    signer: &NoteSigner,
    tree_size: u64,
    report_files: &[(String, Vec<u8>)],
    cited: &[u64],
    out: &Path,
) -> Result<BundleSummary, ExportError> {
    let head = ledger.size();
    let report = verified.report();
    if report.size != head || report.root != ledger.head().root {
        return Err(ExportError::StaleVerification {
            verified: report.size,
            head,
        });
    }
    if tree_size > head {
        return Err(ExportError::TreeSizeBeyondHead { tree_size, head });
    }
    let note = ledger
        .checkpoint_at(tree_size)?
        .ok_or(ExportError::NoCheckpoint(tree_size))?;
    let (checkpoint, signed_by) =
        Checkpoint::open(&note, &ledger.verifiers()).map_err(|e| ExportError::BadCheckpoint {
            tree_size,
            problem: e.to_string(),
        })?;
    let keys: Vec<NoteVerifier> = signed_by
        .iter()
        .filter_map(|k| NoteVerifier::parse(k).ok())
        .collect();
    if checkpoint.size != tree_size || keys.is_empty() {
        return Err(ExportError::BadCheckpoint {
            tree_size,
            problem: format!("it names size {}", checkpoint.size),
        });
    }
    if !keys.contains(signer.verifier()) {
        return Err(ExportError::WrongSigner {
            given: key_fingerprint(signer.verifier()),
            signed: keys
                .iter()
                .map(key_fingerprint)
                .collect::<Vec<_>>()
                .join(", "),
            tree_size,
        });
    }
    let cited: BTreeSet<u64> = cited.iter().copied().collect();
    if let Some(&seq) = cited.iter().find(|&&s| s >= tree_size) {
        return Err(ExportError::CitedOutOfRange { seq, tree_size });
    }
    let mut names = BTreeSet::new();
    for (name, bytes) in report_files {
        check_rel_path(name).map_err(|problem| ExportError::BadReportName {
            name: name.clone(),
            problem,
        })?;
        if !names.insert(name.as_str()) {
            return Err(ExportError::BadReportName {
                name: name.clone(),
                problem: "given twice".into(),
            });
        }
        check_report(ledger, &checkpoint, &cited, name, bytes)?;
    }

    // The entries: the cited ones, and the redaction entry of each cited record whose bytes
    // were redacted (when it is inside the tree, so the bundle can prove it).
    let mut entries: BTreeMap<u64, Exported> = BTreeMap::new();
    let mut redactions: Option<BTreeMap<Hash, (u64, String)>> = None;
    let mut extra = BTreeSet::new();
    for &seq in &cited {
        let stored = ledger.read_entry(seq)?;
        let (raw_ref, bytes) = match ledger.raw_record(seq)? {
            RawState::Kept(bytes) => (
                Some(RawRef {
                    file: Some(format!("{RAW_DIR}/{}", to_hex(&stored.entry.raw_hash))),
                    redacted: false,
                    redaction_seq: None,
                    reason: None,
                }),
                Some(bytes),
            ),
            RawState::Redacted => {
                let index = match &mut redactions {
                    Some(r) => r,
                    None => redactions.insert(redaction_index(ledger)?),
                };
                let found = index.get(&stored.entry.raw_hash);
                if let Some((r, _)) = found {
                    if *r < tree_size && !cited.contains(r) {
                        extra.insert(*r);
                    }
                }
                (
                    Some(RawRef {
                        file: None,
                        redacted: true,
                        redaction_seq: found.map(|(r, _)| *r),
                        reason: found.map(|(_, why)| why.clone()),
                    }),
                    None,
                )
            }
            RawState::None => (None, None),
        };
        entries.insert(seq, (stored, raw_ref, bytes));
    }
    for seq in extra {
        entries.insert(seq, (ledger.read_entry(seq)?, None, None));
    }

    // Where it goes.
    match fs::symlink_metadata(out) {
        Ok(m) => {
            let empty = m.is_dir() && fs::read_dir(out).map_err(io_err(out))?.next().is_none();
            if !empty {
                return Err(ExportError::OutNotEmpty {
                    path: out.to_path_buf(),
                });
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_err(out)(e)),
    }
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let base = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "bundle".into());
    fs::create_dir_all(&parent).map_err(io_err(&parent))?;
    let tmp = tempfile::Builder::new()
        .prefix(&format!(".{base}."))
        .suffix(".partial")
        .tempdir_in(&parent)
        .map_err(io_err(&parent))?;

    let mut w = Writer {
        root: tmp.path().to_path_buf(),
        files: Vec::new(),
    };
    for (name, bytes) in report_files {
        w.file(&format!("{REPORT_DIR}/{name}"), bytes)?;
    }
    w.file(CHECKPOINT, note.as_bytes())?;
    let key_text: String = keys.iter().map(|k| format!("{k}\n")).collect();
    w.file(VERIFIER_KEY, key_text.as_bytes())?;
    let mut raw_written = BTreeSet::new();
    let mut redacted = 0;
    for (seq, (stored, raw_ref, raw)) in &entries {
        w.file(&format!("{ENTRIES_DIR}/{seq}.bin"), &stored.canonical)?;
        if raw_ref.as_ref().is_some_and(|r| r.redacted) {
            redacted += 1;
        }
        let doc = entry_doc(&stored.entry, &stored.canonical, raw_ref.clone());
        w.file(&format!("{ENTRIES_DIR}/{seq}.json"), &pretty(&doc))?;
        if let Some(bytes) = raw {
            if raw_written.insert(stored.entry.raw_hash) {
                let name = format!("{RAW_DIR}/{}", to_hex(&stored.entry.raw_hash));
                w.file(&name, bytes)?;
            }
        }
        let proof = ledger.prove_inclusion(*seq, tree_size)?;
        w.file(&format!("{PROOFS_DIR}/{seq}.json"), &pretty(&proof))?;
    }
    let seqs: Vec<u64> = entries.keys().copied().collect();
    let readme = readme::text(&readme::Facts {
        origin: &checkpoint.origin,
        tree_size,
        keys: &keys,
        entries: &seqs,
        example: entries.iter().find_map(|(seq, (s, r, _))| {
            r.as_ref()
                .and_then(|r| r.file.as_ref())
                .map(|_| (*seq, to_hex(&s.entry.raw_hash)))
        }),
        first: seqs.first().copied(),
    });
    w.file(README, readme.as_bytes())?;
    let mut files = std::mem::take(&mut w.files);
    files.sort_by(|a, b| a.0.cmp(&b.0));
    let manifest: String = files.iter().map(|(p, h)| manifest_line(h, p)).collect();
    w.file(MANIFEST, manifest.as_bytes())?;
    // The signature over the manifest is what ties the report files (the conclusions) to
    // the ledger's owner: without it, edited reports with a recomputed manifest would pass.
    let note_text = manifest_note_text(&checkpoint.origin, tree_size, manifest.as_bytes());
    let note = sign(&note_text, &[signer]).map_err(|e| ExportError::Sign(e.to_string()))?;
    w.file(MANIFEST_NOTE, note.as_bytes())?;
    w.sync_dirs()?;

    // Check it as an auditor would (with the key that signed the manifest, which also
    // signed the checkpoint), before it becomes visible.
    for key in [signer.verifier()] {
        match verify_bundle(tmp.path(), Some(key)) {
            Ok(_) => {}
            Err(BundleError::Integrity(problems)) => return Err(ExportError::SelfCheck(problems)),
            Err(BundleError::Io { path, source }) => return Err(ExportError::Io { path, source }),
            Err(BundleError::NotADirectory(p)) => {
                return Err(ExportError::Io {
                    path: p,
                    source: std::io::ErrorKind::NotADirectory.into(),
                })
            }
        }
    }

    let tmp_path = tmp.keep();
    if let Err(e) = fs::rename(&tmp_path, out) {
        let _ = fs::remove_dir_all(&tmp_path);
        return Err(io_err(out)(e));
    }
    sync_dir(&parent)?;
    Ok(BundleSummary {
        dir: out.to_path_buf(),
        origin: checkpoint.origin,
        tree_size,
        root: checkpoint.root,
        entries: seqs,
        raw_records: raw_written.len(),
        redacted,
        key_fingerprints: keys.iter().map(key_fingerprint).collect(),
        files: files.len(),
        manifest_b3: blake3::hash(manifest.as_bytes()).to_hex().to_string(),
    })
}

/// A report JSON must cite only exported seqs, with their chain hashes, and attest the
/// exported tree: otherwise the bundle could not verify.
fn check_report(
    ledger: &Ledger,
    checkpoint: &Checkpoint,
    cited: &BTreeSet<u64>,
    name: &str,
    bytes: &[u8],
) -> Result<(), ExportError> {
    let mismatch = |problem: String| ExportError::ReportMismatch {
        name: name.to_string(),
        problem,
    };
    let Some(claims) = report_claims(name, bytes).map_err(mismatch)? else {
        return Ok(());
    };
    for (seq, hash) in &claims.cited {
        if !cited.contains(seq) {
            return Err(mismatch(format!(
                "its evidence cites seq {seq}, which is not among the cited seqs given"
            )));
        }
        if let Some(h) = hash {
            let chain = to_hex(&ledger.read_entry(*seq)?.chain);
            if &chain != h {
                return Err(mismatch(format!(
                    "its evidence gives seq {seq} the hash {h}, but the ledger's entry has {chain}"
                )));
            }
        }
    }
    if let Some(size) = claims.tree_size {
        if size != checkpoint.size {
            return Err(mismatch(format!(
                "its attestation is of tree size {size}, the export of {}",
                checkpoint.size
            )));
        }
    }
    if let Some(root) = &claims.root {
        if root != &super::b64(&checkpoint.root) {
            return Err(mismatch(format!(
                "its attestation names root {root}, the checkpoint {}",
                super::b64(&checkpoint.root)
            )));
        }
    }
    Ok(())
}

/// Redacted raw hash -> (seq of its redaction entry, reason). A scan: redaction is rare.
fn redaction_index(ledger: &Ledger) -> Result<BTreeMap<Hash, (u64, String)>, ExportError> {
    let mut index = BTreeMap::new();
    for e in ledger.entries(0, ledger.size()) {
        let e = e?;
        if let Payload::Redaction {
            raw_hash, reason, ..
        } = &e.entry.payload
        {
            index
                .entry(*raw_hash)
                .or_insert((e.entry.seq, reason.clone()));
        }
    }
    Ok(index)
}

/// An entry to export: as stored, where its raw record is, and the raw bytes if kept.
type Exported = (StoredEntry, Option<RawRef>, Option<Vec<u8>>);

struct Writer {
    root: PathBuf,
    /// (relative path, BLAKE3) of every file but the manifest.
    files: Vec<(String, blake3::Hash)>,
}

impl Writer {
    fn file(&mut self, rel: &str, bytes: &[u8]) -> Result<(), ExportError> {
        let path = self.root.join(rel);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(io_err(dir))?;
        }
        let mut f = File::create_new(&path).map_err(io_err(&path))?;
        f.write_all(bytes).map_err(io_err(&path))?;
        f.sync_all().map_err(io_err(&path))?;
        if rel != MANIFEST && rel != MANIFEST_NOTE {
            self.files.push((rel.to_string(), blake3::hash(bytes)));
        }
        Ok(())
    }

    /// fsyncs every directory of the bundle, so the names are as durable as the bytes.
    fn sync_dirs(&self) -> Result<(), ExportError> {
        let mut dirs = vec![self.root.clone()];
        let mut i = 0;
        while let Some(dir) = dirs.get(i).cloned() {
            for e in fs::read_dir(&dir).map_err(io_err(&dir))? {
                let e = e.map_err(io_err(&dir))?;
                if e.file_type().map_err(io_err(&dir))?.is_dir() {
                    dirs.push(e.path());
                }
            }
            i += 1;
        }
        for dir in dirs.iter().rev() {
            sync_dir(dir)?;
        }
        Ok(())
    }
}

fn sync_dir(dir: &Path) -> Result<(), ExportError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(dir))
}
