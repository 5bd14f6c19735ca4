//! Verifying a bundle offline: the manifest, the checkpoint's signature, every entry's
//! bytes, JSON, raw record and inclusion proof, and the seqs the report cites.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use super::{
    b64, check_rel_path, entry_json, key_fingerprint, manifest_note_text, report_claims,
    BundleError, BundleVerified, Problem, RawRef, CHECKPOINT, ENTRIES_DIR, MANIFEST, MANIFEST_NOTE,
    PROOFS_DIR, RAW_DIR, README, REPORT_DIR, VERIFIER_KEY,
};
use crate::ledger::entry::{chain_hash, raw_hasher, Entry, Payload};
use crate::tlog::merkle::{from_hex32, to_hex};
use crate::tlog::merkle::{Sha256Hasher, TreeHasher};
use crate::tlog::note::{open_note, Checkpoint, NoteVerifier};
use crate::tlog::proof::Proof;

/// Deeper than any bundle we write; a guard against pathological trees.
const MAX_DEPTH: usize = 32;

/// Checks the bundle in `dir` without the ledger. The checkpoint must be signed by
/// `trusted_key`; with `None`, by a key of the bundle's own `verifier-key.txt`, which only
/// shows the bundle is self-consistent (`BundleVerified::key_supplied` is then false).
///
/// Returns every problem found ([`BundleError::Integrity`]), each naming its file, or
/// [`BundleError::Io`] / [`BundleError::NotADirectory`] when the bundle cannot be read.
pub fn verify_bundle(
    dir: &Path,
    trusted_key: Option<&NoteVerifier>,
) -> Result<BundleVerified, BundleError> {
    let meta = fs::metadata(dir).map_err(|source| BundleError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    if !meta.is_dir() {
        return Err(BundleError::NotADirectory(dir.to_path_buf()));
    }
    let mut b = Bundle {
        files: BTreeMap::new(),
        reported_missing: BTreeSet::new(),
        problems: Vec::new(),
    };
    b.walk(dir, "", 0)?;

    // 1. The manifest: every file listed, nothing missing, extra or altered.
    let manifest = b.read(MANIFEST)?;
    let listed = match &manifest {
        None => {
            b.problem(MANIFEST, "missing: the bundle has no manifest");
            None
        }
        Some(bytes) => Some(b.parse_manifest(bytes)),
    };
    if let Some(listed) = &listed {
        for (path, want) in listed {
            match b.hash(path, blake3::Hasher::new())? {
                None => {
                    b.problem(path, "listed in MANIFEST.b3 but missing");
                    b.reported_missing.insert(path.clone());
                }
                Some(hash) => {
                    let got = hash.to_hex().to_string();
                    if &got != want {
                        b.problem(
                            path,
                            format!("altered: its BLAKE3 is {got}, MANIFEST.b3 says {want}"),
                        );
                    }
                }
            }
        }
        let extra: Vec<String> = b
            .files
            .keys()
            .filter(|p| {
                p.as_str() != MANIFEST && p.as_str() != MANIFEST_NOTE && !listed.contains_key(*p)
            })
            .cloned()
            .collect();
        for path in extra {
            b.problem(&path, "not listed in MANIFEST.b3: an extra file");
        }
    }

    // 2. The layout.
    let mut seqs = BTreeSet::new();
    let mut raws = Vec::new();
    let mut reports = Vec::new();
    let paths: Vec<String> = b.files.keys().cloned().collect();
    for path in &paths {
        match classify(path) {
            Some(Kind::Fixed) => {}
            Some(Kind::Report) => reports.push(path.clone()),
            Some(Kind::Seq(s)) => {
                seqs.insert(s);
            }
            Some(Kind::Raw) => raws.push(path.clone()),
            None => b.problem(path, "not part of the bundle layout (see README.txt)"),
        }
    }

    // 3. The keys and the checkpoint's signature.
    let mut bundle_keys = Vec::new();
    match b.read_text(VERIFIER_KEY)? {
        None => b.missing(VERIFIER_KEY, "missing"),
        Some(text) => {
            for (i, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                match NoteVerifier::parse(line) {
                    Ok(k) => bundle_keys.push(k),
                    Err(e) => b.problem(VERIFIER_KEY, format!("line {}: {e}", i + 1)),
                }
            }
            if bundle_keys.is_empty() && trusted_key.is_none() {
                b.problem(VERIFIER_KEY, "holds no verifier key");
            }
        }
    }
    let keys: Vec<NoteVerifier> = match trusted_key {
        Some(k) => vec![k.clone()],
        None => bundle_keys,
    };
    let key_names: Vec<String> = keys.iter().map(key_fingerprint).collect();
    let cp_text = b.read_text(CHECKPOINT)?;
    let mut checkpoint: Option<Checkpoint> = None;
    let mut signed_by = Vec::new();
    // The size and root the checkpoint claims, signed or not: for messages only.
    let mut claimed: Option<Checkpoint> = None;
    match &cp_text {
        None => b.missing(CHECKPOINT, "missing"),
        Some(text) => {
            claimed = Checkpoint::parse_unverified(text).ok();
            if !keys.is_empty() {
                match Checkpoint::open(text, &keys) {
                    Ok((cp, by)) => {
                        signed_by = by
                            .iter()
                            .filter_map(|k| NoteVerifier::parse(k).ok())
                            .map(|k| key_fingerprint(&k))
                            .collect();
                        checkpoint = Some(cp);
                    }
                    Err(e) => {
                        let whose = if trusted_key.is_some() {
                            "the key you supplied"
                        } else {
                            "the keys of verifier-key.txt"
                        };
                        b.problem(
                            CHECKPOINT,
                            format!(
                                "does not verify with {whose} ({}): {e}; the proofs were not checked against it",
                                key_names.join(", ")
                            ),
                        );
                    }
                }
            }
        }
    }

    // 3b. The signature over the manifest: it is what proves the report files (the
    //     conclusions) came from the ledger's owner; a recomputed manifest breaks it.
    match b.read_text(MANIFEST_NOTE)? {
        None => b.problem(
            MANIFEST_NOTE,
            "missing: nothing signs the manifest, so edited report files with a recomputed MANIFEST.b3 could not be told apart",
        ),
        Some(text) => match open_note(&text, &keys) {
            Ok((note, by)) if !by.is_empty() => {
                if let (Some(cp), Some(m)) = (&checkpoint, &manifest) {
                    let want = manifest_note_text(&cp.origin, cp.size, m);
                    if note.text != want {
                        b.problem(
                            MANIFEST_NOTE,
                            "does not sign this MANIFEST.b3 for this checkpoint's origin and tree size: a report file or the manifest was changed after signing",
                        );
                    }
                }
            }
            Ok(_) => b.problem(
                MANIFEST_NOTE,
                format!(
                    "is not signed by {} ({})",
                    if trusted_key.is_some() {
                        "the key you supplied"
                    } else {
                        "a key of verifier-key.txt"
                    },
                    key_names.join(", ")
                ),
            ),
            Err(e) => b.problem(MANIFEST_NOTE, format!("does not verify: {e}")),
        },
    }

    // 4. Every entry: bytes, proof, JSON, raw record.
    let mut decoded: BTreeMap<u64, (Vec<u8>, Option<Entry>)> = BTreeMap::new();
    for &seq in &seqs {
        let bin_path = format!("{ENTRIES_DIR}/{seq}.bin");
        if let Some(bin) = b.read(&bin_path)? {
            let entry = match Entry::decode(&bin) {
                Ok(e) if e.seq != seq => {
                    b.problem(&bin_path, format!("holds seq {}, not {seq}", e.seq));
                    None
                }
                Ok(e) => Some(e),
                Err(e) => {
                    b.problem(&bin_path, format!("altered: {e}"));
                    None
                }
            };
            decoded.insert(seq, (bin, entry));
        } else {
            b.missing(&bin_path, "missing (the entry's JSON or proof is present)");
        }
    }
    let mut proven = BTreeSet::new();
    let mut referenced_raws = BTreeSet::new();
    let mut redacted = 0;
    for &seq in &seqs {
        let bin = decoded.get(&seq);
        // The proof.
        let proof_path = format!("{PROOFS_DIR}/{seq}.json");
        match b.read_text(&proof_path)? {
            None => b.missing(&proof_path, "missing"),
            Some(text) => match Proof::parse(&text) {
                Ok(Proof::Inclusion(p)) => {
                    let mut ok = true;
                    if p.leaf_index != seq {
                        b.problem(&proof_path, format!("is a proof of leaf {}", p.leaf_index));
                        ok = false;
                    }
                    if let Some((bytes, _)) = bin {
                        let leaf = b64(&Sha256Hasher.leaf(bytes));
                        if p.leaf_hash != leaf {
                            b.problem(
                                &proof_path,
                                format!("its leaf_hash {} is not the leaf hash of entries/{seq}.bin ({leaf}): the entry or the proof was altered", p.leaf_hash),
                            );
                            ok = false;
                        }
                    }
                    if p.checkpoint.is_some() && p.checkpoint != cp_text {
                        b.problem(
                            &proof_path,
                            "carries another checkpoint than checkpoint.txt",
                        );
                        ok = false;
                    }
                    if let (Some(_), Some(cp)) = (&checkpoint, &cp_text) {
                        if let Err(e) = p.verify(Some(cp), &keys) {
                            b.problem(
                                &proof_path,
                                format!("does not verify against checkpoint.txt: {e}"),
                            );
                            ok = false;
                        }
                    }
                    if ok && bin.is_some() {
                        proven.insert(seq);
                    }
                }
                Ok(Proof::Consistency(_)) => b.problem(
                    &proof_path,
                    "is a consistency proof, not an inclusion proof",
                ),
                Err(e) => b.problem(&proof_path, format!("altered: {e}")),
            },
        }
        // The JSON.
        let json_path = format!("{ENTRIES_DIR}/{seq}.json");
        let Some(text) = b.read_text(&json_path)? else {
            b.missing(&json_path, "missing");
            continue;
        };
        let mut doc: serde_json::Value = match serde_json::from_str(&text) {
            Ok(serde_json::Value::Object(m)) => serde_json::Value::Object(m),
            Ok(_) => {
                b.problem(&json_path, "is not a JSON object");
                continue;
            }
            Err(e) => {
                b.problem(&json_path, format!("is not valid JSON: {e}"));
                continue;
            }
        };
        let raw_field = doc.as_object_mut().and_then(|m| m.remove("raw"));
        let raw_ref = match raw_field
            .map(serde_json::from_value::<Option<RawRef>>)
            .transpose()
        {
            Ok(r) => r.flatten(),
            Err(e) => {
                b.problem(&json_path, format!("\"raw\" is malformed: {e}"));
                continue;
            }
        };
        if let Some(file) = raw_ref.as_ref().and_then(|r| r.file.clone()) {
            referenced_raws.insert(file);
        }
        let Some((bytes, Some(entry))) = bin else {
            continue;
        };
        let mut want = entry_json(entry, bytes, None);
        if let Some(m) = want.as_object_mut() {
            m.remove("raw");
        }
        let mut diffs = Vec::new();
        json_diff("", &want, &doc, &mut diffs);
        if !diffs.is_empty() {
            let shown: Vec<&str> = diffs.iter().take(8).map(String::as_str).collect();
            b.problem(
                &json_path,
                format!(
                    "does not agree with entries/{seq}.bin at {}{}",
                    shown.join(", "),
                    if diffs.len() > 8 { ", ..." } else { "" }
                ),
            );
        }
        let raw_name = format!("{RAW_DIR}/{}", to_hex(&entry.raw_hash));
        match (entry.event().is_some(), raw_ref) {
            (false, None) => {}
            (false, Some(_)) => b.problem(
                &json_path,
                "names a raw record, but this kind of entry has none",
            ),
            (true, None) => b.problem(
                &json_path,
                "\"raw\" is missing: an event entry's raw record must be included or marked redacted",
            ),
            (true, Some(r)) if !r.redacted => {
                if r.file.as_deref() != Some(raw_name.as_str()) {
                    b.problem(
                        &json_path,
                        format!("\"raw\".\"file\" must be {raw_name} (the entry's raw hash)"),
                    );
                } else if !b.files.contains_key(&raw_name) {
                    b.missing(
                        &raw_name,
                        format!("missing: the raw record of entries/{seq}.bin"),
                    );
                }
                referenced_raws.insert(raw_name);
            }
            (true, Some(r)) => {
                redacted += 1;
                referenced_raws.insert(raw_name);
                let size = checkpoint.as_ref().or(claimed.as_ref()).map(|c| c.size);
                if r.redaction_seq.is_none() {
                    b.problem(
                        &json_path,
                        "says the raw record was redacted but names no redaction entry",
                    );
                }
                if let (Some(r), Some(size)) = (r.redaction_seq, size) {
                    if r >= size {
                        b.problem(
                            &json_path,
                            format!("says the raw record was redacted by entry {r}, beyond the checkpoint's {size} entries: no proof can show that redaction"),
                        );
                    } else if !proofs_ok(&b, r, &decoded, &keys, cp_text.as_deref(), checkpoint.is_some()) {
                        b.problem(
                            &json_path,
                            format!("says the raw record was redacted by entry {r}, but that entry has no valid inclusion proof in the bundle"),
                        );
                    }
                    if r < size {
                        let is_redaction = decoded.get(&r).and_then(|(_, e)| e.as_ref()).is_some_and(
                            |e| matches!(&e.payload, Payload::Redaction { raw_hash, .. } if raw_hash == &entry.raw_hash),
                        );
                        if !is_redaction {
                            b.problem(
                                &json_path,
                                format!("says the raw record was redacted by entry {r}, but entries/{r}.bin is not in the bundle or is not that redaction"),
                            );
                        }
                    }
                }
            }
        }
    }

    // 5. Raw records: each is named by its own raw hash and belongs to an entry.
    for path in &raws {
        let Some(hash) = b.hash(path, raw_hasher())? else {
            continue;
        };
        let name = path.trim_start_matches(&format!("{RAW_DIR}/"));
        let got = to_hex(hash.as_bytes());
        if got != name {
            b.problem(
                path,
                format!("altered: its raw hash is {got}, not the hash it is named by"),
            );
        }
        if !referenced_raws.contains(path) {
            b.problem(path, "is not the raw record of any entry in the bundle");
        }
    }

    // 6. The report: every seq it cites is here, with the hash it names; the tree it
    //    attests is the checkpoint's. A bundle without a report JSON carrying both its
    //    evidence list and its attestation proves nothing about its conclusions.
    let mut cited = BTreeSet::new();
    let mut attested_reports = 0;
    for path in &reports {
        let Some(file) = b.open(path)? else { continue };
        let claims = match report_claims(path, file) {
            Ok(Some(c)) => c,
            Ok(None) => continue,
            Err(e) => {
                b.problem(path, e);
                continue;
            }
        };
        if claims.tree_size.is_none() || claims.root.is_none() {
            b.problem(
                path,
                "has an evidence list but no attestation (tree_size and root): its conclusions are not tied to the checkpoint",
            );
        } else {
            attested_reports += 1;
        }
        let mut missing = Vec::new();
        for (seq, hash) in &claims.cited {
            cited.insert(*seq);
            let mut absent = Vec::new();
            if !b.files.contains_key(&format!("{ENTRIES_DIR}/{seq}.bin")) {
                absent.push(format!("{ENTRIES_DIR}/{seq}.bin"));
            }
            if !b.files.contains_key(&format!("{PROOFS_DIR}/{seq}.json")) {
                absent.push(format!("{PROOFS_DIR}/{seq}.json"));
            }
            if !absent.is_empty() {
                missing.push(format!("seq {seq} (no {})", absent.join(", no ")));
                continue;
            }
            if let (Some(h), Some((bytes, _))) = (hash, decoded.get(seq)) {
                let chain = to_hex(&chain_hash(bytes));
                if h != &chain {
                    b.problem(
                        path,
                        format!("cites seq {seq} with hash {h}, but entries/{seq}.bin has chain hash {chain}"),
                    );
                }
            }
        }
        if !missing.is_empty() {
            b.problem(
                path,
                format!(
                    "cites {} seq(s) the bundle does not hold: {}",
                    missing.len(),
                    missing.join("; ")
                ),
            );
        }
        if let Some(cp) = checkpoint.as_ref().or(claimed.as_ref()) {
            if let Some(size) = claims.tree_size {
                if size != cp.size {
                    b.problem(
                        path,
                        format!(
                            "its attestation is of tree size {size}, checkpoint.txt of {}",
                            cp.size
                        ),
                    );
                }
            }
            if let Some(root) = &claims.root {
                if root != &b64(&cp.root) {
                    b.problem(
                        path,
                        format!(
                            "its attestation names root {root}, checkpoint.txt {}",
                            b64(&cp.root)
                        ),
                    );
                }
            }
        }
    }

    if attested_reports == 0 {
        b.problem(
            REPORT_DIR,
            "no report JSON with an evidence list and an attestation: the report's conclusions cannot be checked against the ledger",
        );
    }

    if !b.problems.is_empty() {
        // Grouped by file, in the order found within a file.
        b.problems.sort_by(|x, y| x.file.cmp(&y.file));
        return Err(BundleError::Integrity(b.problems));
    }
    let cp = checkpoint.ok_or_else(|| {
        BundleError::Integrity(vec![Problem {
            file: CHECKPOINT.into(),
            problem: "not verified".into(),
        }])
    })?;
    Ok(BundleVerified {
        origin: cp.origin,
        tree_size: cp.size,
        root: cp.root,
        key_fingerprints: signed_by,
        key_supplied: trusted_key.is_some(),
        entries: seqs.into_iter().collect(),
        raw_records: raws.len(),
        redacted,
        report_files: reports.len(),
        cited: cited.len(),
        files: listed.map(|l| l.len()).unwrap_or(0),
        manifest_b3: manifest
            .map(|m| blake3::hash(&m).to_hex().to_string())
            .unwrap_or_default(),
    })
}

enum Kind {
    Fixed,
    Report,
    Seq(u64),
    Raw,
}

/// Which part of the layout a file is, or `None` if it is no part of it.
fn classify(path: &str) -> Option<Kind> {
    if [MANIFEST, MANIFEST_NOTE, README, CHECKPOINT, VERIFIER_KEY].contains(&path) {
        return Some(Kind::Fixed);
    }
    let (dir, name) = path.split_once('/')?;
    let seq_of = |stem: &str| -> Option<u64> {
        let n: u64 = stem.parse().ok()?;
        (n.to_string() == stem).then_some(n)
    };
    match dir {
        REPORT_DIR => Some(Kind::Report),
        ENTRIES_DIR => name
            .strip_suffix(".bin")
            .or_else(|| name.strip_suffix(".json"))
            .and_then(seq_of)
            .map(Kind::Seq),
        PROOFS_DIR => name.strip_suffix(".json").and_then(seq_of).map(Kind::Seq),
        RAW_DIR => {
            (from_hex32(name).is_some() && to_hex(&from_hex32(name)?) == name).then_some(Kind::Raw)
        }
        _ => None,
    }
}

/// JSON pointers where `got` differs from `want`.
fn json_diff(at: &str, want: &serde_json::Value, got: &serde_json::Value, out: &mut Vec<String>) {
    use serde_json::Value;
    match (want, got) {
        (Value::Object(w), Value::Object(g)) => {
            let keys: BTreeSet<&String> = w.keys().chain(g.keys()).collect();
            for k in keys {
                let here = format!("{at}/{k}");
                match (w.get(k), g.get(k)) {
                    (Some(a), Some(b)) => json_diff(&here, a, b, out),
                    (Some(_), None) => out.push(format!("{here} (missing)")),
                    (None, _) => out.push(format!("{here} (extra)")),
                }
            }
        }
        (Value::Array(w), Value::Array(g)) if w.len() == g.len() => {
            for (i, (a, b)) in w.iter().zip(g).enumerate() {
                json_diff(&format!("{at}/{i}"), a, b, out);
            }
        }
        _ if want == got => {}
        _ => out.push(if at.is_empty() { "/".into() } else { at.into() }),
    }
}

struct Bundle {
    /// Files the manifest check already reported missing: not reported twice.
    reported_missing: BTreeSet<String>,
    /// Every regular file, by its `/`-separated path relative to the root.
    files: BTreeMap<String, PathBuf>,
    problems: Vec<Problem>,
}

impl Bundle {
    /// A required file is absent (unless the manifest check said so already).
    fn missing(&mut self, file: &str, problem: impl Into<String>) {
        if !self.reported_missing.contains(file) {
            self.problem(file, problem);
        }
    }

    fn problem(&mut self, file: &str, problem: impl Into<String>) {
        self.problems.push(Problem {
            file: file.to_string(),
            problem: problem.into(),
        });
    }

    fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BundleError + '_ {
        move |source| BundleError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    /// Lists regular files; symbolic links and other special files are problems, never
    /// followed.
    fn walk(&mut self, dir: &Path, prefix: &str, depth: usize) -> Result<(), BundleError> {
        let mut entries = Vec::new();
        for e in fs::read_dir(dir).map_err(Self::io(dir))? {
            entries.push(e.map_err(Self::io(dir))?);
        }
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let name = e.file_name();
            let Some(name) = name.to_str() else {
                let shown = format!("{prefix}{}", name.to_string_lossy());
                self.problem(&shown, "file name is not UTF-8: an extra file");
                continue;
            };
            let rel = format!("{prefix}{name}");
            let path = e.path();
            let ty = e.file_type().map_err(Self::io(&path))?;
            if ty.is_dir() {
                if depth >= MAX_DEPTH {
                    self.problem(&rel, "directories nested too deep");
                } else {
                    self.walk(&path, &format!("{rel}/"), depth + 1)?;
                }
            } else if ty.is_file() {
                self.files.insert(rel, path);
            } else if ty.is_symlink() {
                self.problem(
                    &rel,
                    "is a symbolic link: a bundle holds only regular files",
                );
            } else {
                self.problem(&rel, "is not a regular file");
            }
        }
        Ok(())
    }

    /// A file the walk found, opened; `None` if there is no such regular file.
    fn open(&self, rel: &str) -> Result<Option<fs::File>, BundleError> {
        match self.files.get(rel) {
            None => Ok(None),
            Some(path) => fs::File::open(path).map(Some).map_err(Self::io(path)),
        }
    }

    /// A file's hash under `hasher`, streamed: a report or raw record of gigabytes is never
    /// held in memory whole.
    fn hash(
        &self,
        rel: &str,
        mut hasher: blake3::Hasher,
    ) -> Result<Option<blake3::Hash>, BundleError> {
        match self.files.get(rel) {
            None => Ok(None),
            Some(path) => {
                let file = fs::File::open(path).map_err(Self::io(path))?;
                hasher.update_reader(file).map_err(Self::io(path))?;
                Ok(Some(hasher.finalize()))
            }
        }
    }

    /// The bytes of a small file the walk found; `None` if there is no such regular file.
    fn read(&self, rel: &str) -> Result<Option<Vec<u8>>, BundleError> {
        match self.files.get(rel) {
            None => Ok(None),
            Some(path) => fs::read(path).map(Some).map_err(Self::io(path)),
        }
    }

    fn read_text(&mut self, rel: &str) -> Result<Option<String>, BundleError> {
        match self.read(rel)? {
            None => Ok(None),
            Some(bytes) => match String::from_utf8(bytes) {
                Ok(s) => Ok(Some(s)),
                Err(_) => {
                    self.problem(rel, "is not UTF-8 text");
                    Ok(None)
                }
            },
        }
    }

    /// Parses `<64 hex>  <path>` lines (b3sum's format); problems are recorded.
    fn parse_manifest(&mut self, bytes: &[u8]) -> BTreeMap<String, String> {
        let mut listed = BTreeMap::new();
        let Ok(text) = std::str::from_utf8(bytes) else {
            self.problem(MANIFEST, "is not UTF-8 text");
            return listed;
        };
        if !text.is_empty() && !text.ends_with('\n') {
            self.problem(MANIFEST, "does not end in a newline");
        }
        for (i, line) in text.lines().enumerate() {
            let n = i + 1;
            let Some((hex, path)) = line.split_once("  ") else {
                self.problem(MANIFEST, format!("line {n} is not `<BLAKE3 hex>  <path>`"));
                continue;
            };
            if hex.len() != 64 || !hex.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')) {
                self.problem(MANIFEST, format!("line {n}: not 64 lower-case hex digits"));
                continue;
            }
            if let Err(e) = check_rel_path(path) {
                self.problem(MANIFEST, format!("line {n}: unsafe path {path:?}: {e}"));
                continue;
            }
            if path == MANIFEST {
                self.problem(MANIFEST, format!("line {n} lists the manifest itself"));
                continue;
            }
            if listed.insert(path.to_string(), hex.to_string()).is_some() {
                self.problem(MANIFEST, format!("line {n} lists {path} a second time"));
            }
        }
        listed
    }
}

/// Whether entry `seq` is in the bundle with an inclusion proof that verifies against the
/// checkpoint (used for the redaction entry a redacted raw record names).
fn proofs_ok(
    b: &Bundle,
    seq: u64,
    decoded: &BTreeMap<u64, (Vec<u8>, Option<Entry>)>,
    keys: &[NoteVerifier],
    checkpoint: Option<&str>,
    checkpoint_verified: bool,
) -> bool {
    let Some((bytes, Some(_))) = decoded.get(&seq) else {
        return false;
    };
    let Some(proof) = b.read(&format!("{PROOFS_DIR}/{seq}.json")).ok().flatten() else {
        return false;
    };
    let Ok(text) = std::str::from_utf8(&proof) else {
        return false;
    };
    match Proof::parse(text) {
        Ok(Proof::Inclusion(p)) => {
            p.leaf_index == seq
                && p.leaf_hash == b64(&Sha256Hasher.leaf(bytes))
                && checkpoint_verified
                && p.verify(checkpoint, keys).is_ok()
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_names() {
        assert!(matches!(classify("entries/12.bin"), Some(Kind::Seq(12))));
        assert!(classify("entries/012.bin").is_none());
        assert!(classify("entries/12.txt").is_none());
        assert!(matches!(classify("proofs/0.json"), Some(Kind::Seq(0))));
        assert!(matches!(
            classify(&format!("raw/{}", "ab".repeat(32))),
            Some(Kind::Raw)
        ));
        assert!(classify(&format!("raw/{}", "AB".repeat(32))).is_none());
        assert!(matches!(classify("report/a/b.pdf"), Some(Kind::Report)));
        assert!(classify("notes.txt").is_none());
    }

    #[test]
    fn unsafe_paths_are_refused() {
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../b",
            "a//b",
            "a\\b",
            "a\nb",
            "./a",
        ] {
            assert!(check_rel_path(bad).is_err(), "{bad:?}");
        }
        for good in ["a", "report/soc2.json", "entries/1.bin", "a b.pdf"] {
            assert!(check_rel_path(good).is_ok(), "{good:?}");
        }
    }

    #[test]
    fn json_diff_names_paths() {
        let a = serde_json::json!({"seq": 1, "payload": {"event": {"subject": "a"}}});
        let b = serde_json::json!({"seq": 1, "payload": {"event": {"subject": "b"}}, "x": 2});
        let mut out = Vec::new();
        json_diff("", &a, &b, &mut out);
        assert_eq!(out, vec!["/payload/event/subject", "/x (extra)"]);
    }
}
