//! The auditor bundle: export, offline verification, and every kind of tampering an
//! auditor must see named (with the manifest left stale, and recomputed so that only the
//! cryptography can catch it); plus independent checks with `signed_note` and `tlog_tiles`.

use std::fs;
use std::path::{Path, PathBuf};

use auditledger::export::{verify_bundle, write_bundle, BundleError, ExportError, Problem};
use auditledger::ledger::verify::{verify, VerifyOptions};
use auditledger::ledger::Ledger;
use auditledger::policy::finding::Evidence;
use auditledger::tlog::merkle::to_hex;
use auditledger::tlog::note::{NoteSigner, NoteVerifier};
use base64::{engine::general_purpose::STANDARD as B64, Engine};

use crate::sample_report::sample_report;
use crate::util::{bin, ledger_with, ORIGIN};

const TREE: u64 = 30;
const CITED: [u64; 4] = [3, 7, 12, 25];

/// A SOC 2 report JSON citing `seqs` with their real chain hashes, attesting `tree_size`.
fn report_json(ledger: &Ledger, tree_size: u64, seqs: &[u64]) -> Vec<u8> {
    let mut r = sample_report(3);
    r.evidence = seqs
        .iter()
        .map(|&s| {
            let e = ledger.read_entry(s).unwrap();
            let ev = e.entry.event().unwrap();
            Evidence {
                seq: s,
                hash: to_hex(&e.chain),
                kind: ev.kind.as_str().into(),
                source: ev.source.clone(),
                occurred_at: ev.occurred_at,
            }
        })
        .collect();
    for f in &mut r.findings {
        f.evidence = r.evidence.clone();
    }
    let note = ledger.checkpoint_at(tree_size).unwrap().unwrap();
    r.attestation.checkpoint = note;
    r.attestation.tree_size = tree_size;
    r.attestation.root = B64.encode(ledger.root_at(tree_size).unwrap());
    r.attestation.verifier_key = ledger.current_key().to_string();
    serde_json::to_vec_pretty(&r).unwrap()
}

fn report_files(ledger: &Ledger, tree_size: u64, seqs: &[u64]) -> Vec<(String, Vec<u8>)> {
    vec![
        ("soc2.json".into(), report_json(ledger, tree_size, seqs)),
        ("soc2.csv".into(), b"control,exceptions\nCC6.2,1\n".to_vec()),
        ("pdf/soc2.pdf".into(), b"%PDF-1.7 not really\n".to_vec()),
    ]
}

struct Fixture {
    _tmp: tempfile::TempDir,
    ledger: Ledger,
    bundle: PathBuf,
    key: NoteVerifier,
}

/// A ledger of 40 events in commits of 10, and a bundle of the report at size 30.
fn fixture() -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let ledger = ledger_with(&tmp.path().join("ledger"), 40, 10);
    let verified = verify(&ledger, &VerifyOptions::default()).unwrap();
    let bundle = tmp.path().join("out/bundle");
    let files = report_files(&ledger, TREE, &CITED);
    let summary = write_bundle(
        &ledger,
        &verified,
        &crate::util::signer(),
        TREE,
        &files,
        &CITED,
        &bundle,
    )
    .unwrap();
    assert_eq!(summary.entries, CITED.to_vec());
    assert_eq!(summary.tree_size, TREE);
    assert_eq!(summary.raw_records, 4);
    let key = ledger.current_key().clone();
    Fixture {
        _tmp: tmp,
        ledger,
        bundle,
        key,
    }
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

fn files_of(dir: &Path, prefix: &str, out: &mut Vec<String>) {
    for e in fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let name = format!("{prefix}{}", e.file_name().to_str().unwrap());
        if e.file_type().unwrap().is_dir() {
            files_of(&e.path(), &format!("{name}/"), out);
        } else if name != "MANIFEST.b3" && name != "MANIFEST.note" {
            out.push(name);
        }
    }
}

/// Rewrites MANIFEST.b3 to match the files as they now are, as a forger would.
fn recompute_manifest(dir: &Path) {
    let mut files = Vec::new();
    files_of(dir, "", &mut files);
    files.sort();
    let text: String = files
        .iter()
        .map(|f| {
            let h = blake3::hash(&fs::read(dir.join(f)).unwrap());
            format!("{}  {f}\n", h.to_hex())
        })
        .collect();
    fs::write(dir.join("MANIFEST.b3"), text).unwrap();
}

/// A copy of the fixture's bundle, changed by `tamper`, then (optionally) re-manifested.
fn tampered(fx: &Fixture, tamper: impl FnOnce(&Path), remanifest: bool) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&fx.bundle, tmp.path());
    tamper(tmp.path());
    if remanifest {
        recompute_manifest(tmp.path());
    }
    tmp
}

fn problems(dir: &Path, key: Option<&NoteVerifier>) -> Vec<Problem> {
    match verify_bundle(dir, key) {
        Err(BundleError::Integrity(p)) => p,
        other => panic!("expected integrity problems, got {other:?}"),
    }
}

#[track_caller]
fn assert_problem(ps: &[Problem], file: &str, text: &str) {
    assert!(
        ps.iter()
            .any(|p| p.file == file && p.problem.contains(text)),
        "no problem for {file} containing {text:?} in:\n{}",
        ps.iter()
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    );
}

fn cli(args: &[&str]) -> (i32, String, String) {
    let out = bin().args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn edit(path: &Path, f: impl FnOnce(String) -> String) {
    let text = fs::read_to_string(path).unwrap();
    let new = f(text.clone());
    assert_ne!(new, text, "the edit changed nothing in {}", path.display());
    fs::write(path, new).unwrap();
}

#[test]
fn bundle_has_the_documented_layout_and_verifies() {
    let fx = fixture();
    let b = &fx.bundle;
    for f in [
        "MANIFEST.b3",
        "README.txt",
        "checkpoint.txt",
        "verifier-key.txt",
        "report/soc2.json",
        "report/soc2.csv",
        "report/pdf/soc2.pdf",
        "entries/7.bin",
        "entries/7.json",
        "proofs/7.json",
    ] {
        assert!(b.join(f).is_file(), "{f} missing");
    }
    let e7 = fx.ledger.read_entry(7).unwrap();
    assert_eq!(fs::read(b.join("entries/7.bin")).unwrap(), e7.canonical);
    let raw = fs::read(b.join(format!("raw/{}", to_hex(&e7.entry.raw_hash)))).unwrap();
    assert_eq!(raw, br#"{"id":"evt-7","n":7}"#);
    let json: serde_json::Value =
        serde_json::from_slice(&fs::read(b.join("entries/7.json")).unwrap()).unwrap();
    assert_eq!(json["seq"], 7);
    assert_eq!(json["payload"]["event"]["source_id"], "evt-7");
    assert_eq!(json["hash"], to_hex(&e7.chain));
    assert_eq!(
        json["raw"]["file"],
        format!("raw/{}", to_hex(&e7.entry.raw_hash))
    );
    assert_eq!(
        fs::read_to_string(b.join("checkpoint.txt")).unwrap(),
        fx.ledger.checkpoint_at(TREE).unwrap().unwrap()
    );
    assert_eq!(
        fs::read_to_string(b.join("verifier-key.txt")).unwrap(),
        format!("{}\n", fx.key)
    );
    let proof: serde_json::Value =
        serde_json::from_slice(&fs::read(b.join("proofs/7.json")).unwrap()).unwrap();
    assert_eq!(proof["type"], "inclusion");
    assert_eq!(proof["tree_size"], TREE);
    assert_eq!(proof["leaf_index"], 7);

    // b3sum format: "<64 hex>  <path>", sorted, LF, every file but itself.
    let manifest = fs::read_to_string(b.join("MANIFEST.b3")).unwrap();
    let paths: Vec<&str> = manifest.lines().map(|l| &l[66..]).collect();
    let mut sorted = paths.clone();
    sorted.sort();
    assert_eq!(paths, sorted);
    let mut files = Vec::new();
    files_of(b, "", &mut files);
    files.sort();
    assert_eq!(paths, files);
    for line in manifest.lines() {
        let (hex, path) = line.split_once("  ").unwrap();
        assert_eq!(
            hex,
            blake3::hash(&fs::read(b.join(path)).unwrap())
                .to_hex()
                .as_str()
        );
    }
    let readme = fs::read_to_string(b.join("README.txt")).unwrap();
    for needle in [
        "b3sum --check MANIFEST.b3",
        "golang.org/x/mod/sumdb/note",
        "tlog.CheckRecord",
        "verify-bundle",
        "--derive-key",
    ] {
        assert!(readme.contains(needle), "README lacks {needle}");
    }

    // The library, with and without a key supplied.
    let v = verify_bundle(b, Some(&fx.key)).unwrap();
    assert!(v.key_supplied);
    assert_eq!(v.entries, CITED.to_vec());
    assert_eq!((v.tree_size, v.cited, v.report_files), (TREE, 4, 3));
    assert_eq!(
        v.key_fingerprints,
        vec![format!("{ORIGIN}+{:08x}", fx.key.id)]
    );
    let v = verify_bundle(b, None).unwrap();
    assert!(!v.key_supplied);

    // The CLI, with the key as a string and as a file, and without.
    let dir = b.to_str().unwrap();
    let key = fx.key.to_string();
    let (code, out, err) = cli(&["verify-bundle", dir, "--pubkey", &key]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.starts_with("OK: bundle"), "{out}");
    assert!(
        out.contains("tree size 30") && out.contains("4 with inclusion proofs"),
        "{out}"
    );
    assert!(out.contains(&format!("{:08x}", fx.key.id)), "{out}");
    assert!(!err.contains("warning"), "{err}");
    let key_file = fx._tmp.path().join("key.pub");
    fs::write(&key_file, format!("{key}\n")).unwrap();
    let (code, _, err) = cli(&["verify-bundle", dir, "--pubkey", key_file.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    // Without a key of the auditor's own it is refused, unless the dangerous flag says so.
    let (code, out, err) = cli(&["verify-bundle", dir]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("--pubkey") && err.contains("--trust-bundle-key"),
        "{err}"
    );
    let (code, out, err) = cli(&["verify-bundle", dir, "--pubkey", &key, "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (v["ok"].as_bool(), v["tree_size"].as_u64()),
        (Some(true), Some(30))
    );
    let (code, out, err) = cli(&["verify-bundle", dir, "--trust-bundle-key"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.contains("warning: no --pubkey"), "{err}");
    assert!(out.contains("NOT independently supplied"), "{out}");
}

#[test]
fn tampering_is_caught_and_named() {
    let fx = fixture();
    let key = Some(&fx.key);
    let e7 = fx.ledger.read_entry(7).unwrap();

    // A byte of an event changed: the manifest sees it; re-manifested, the leaf hash does.
    let flip = |d: &Path| {
        let p = d.join("entries/7.bin");
        let mut bytes = fs::read(&p).unwrap();
        let at = bytes.windows(4).position(|w| w == b"user").unwrap();
        bytes[at + 3] = b'x';
        fs::write(p, bytes).unwrap();
    };
    let t = tampered(&fx, flip, false);
    assert_problem(
        &problems(t.path(), key),
        "entries/7.bin",
        "altered: its BLAKE3",
    );
    let t = tampered(&fx, flip, true);
    let ps = problems(t.path(), key);
    assert_problem(&ps, "proofs/7.json", "not the leaf hash of entries/7.bin");
    assert_problem(&ps, "entries/7.json", "/payload/event/subject");
    assert_problem(&ps, "report/soc2.json", "entries/7.bin has chain hash");

    // A field of the readable JSON changed.
    let subject = e7.entry.event().unwrap().subject.clone();
    let json_edit = |d: &Path| {
        edit(&d.join("entries/7.json"), |t| {
            t.replace(&subject, "mallory@acme.example")
        })
    };
    let t = tampered(&fx, json_edit, false);
    assert_problem(&problems(t.path(), key), "entries/7.json", "altered");
    let t = tampered(&fx, json_edit, true);
    assert_problem(
        &problems(t.path(), key),
        "entries/7.json",
        "does not agree with entries/7.bin at /payload/event/subject",
    );

    // An event removed.
    let remove = |d: &Path| {
        fs::remove_file(d.join("entries/12.bin")).unwrap();
        fs::remove_file(d.join("entries/12.json")).unwrap();
        fs::remove_file(d.join("proofs/12.json")).unwrap();
    };
    let t = tampered(&fx, remove, false);
    assert_problem(
        &problems(t.path(), key),
        "entries/12.bin",
        "listed in MANIFEST.b3 but missing",
    );
    let t = tampered(&fx, remove, true);
    let ps = problems(t.path(), key);
    assert_problem(
        &ps,
        "report/soc2.json",
        "seq 12 (no entries/12.bin, no proofs/12.json)",
    );
    let raw12 = format!(
        "raw/{}",
        to_hex(&fx.ledger.read_entry(12).unwrap().entry.raw_hash)
    );
    assert_problem(&ps, &raw12, "not the raw record of any entry");

    // A proof's path element changed.
    let path_edit = |d: &Path| {
        let p = d.join("proofs/25.json");
        let mut proof: serde_json::Value = serde_json::from_slice(&fs::read(&p).unwrap()).unwrap();
        proof["path"][0] = B64.encode([7u8; 32]).into();
        fs::write(p, serde_json::to_vec(&proof).unwrap()).unwrap();
    };
    let t = tampered(&fx, path_edit, false);
    assert_problem(&problems(t.path(), key), "proofs/25.json", "altered");
    let t = tampered(&fx, path_edit, true);
    assert_problem(
        &problems(t.path(), key),
        "proofs/25.json",
        "does not verify against checkpoint.txt",
    );

    // A report file changed: only the manifest binds the report, unless its citations break.
    let t = tampered(
        &fx,
        |d| edit(&d.join("report/soc2.csv"), |t| t.replace(",1", ",0")),
        false,
    );
    assert_problem(
        &problems(t.path(), key),
        "report/soc2.csv",
        "altered: its BLAKE3",
    );
    let cite_other = |d: &Path| {
        edit(&d.join("report/soc2.json"), |t| {
            t.replace("\"seq\": 25", "\"seq\": 26")
        })
    };
    let t = tampered(&fx, cite_other, true);
    assert_problem(
        &problems(t.path(), key),
        "report/soc2.json",
        "cites 1 seq(s) the bundle does not hold: seq 26",
    );

    // The checkpoint changed (its root): the signature no longer verifies.
    let root = B64.encode(fx.ledger.root_at(TREE).unwrap());
    let cp_edit = |d: &Path| {
        edit(&d.join("checkpoint.txt"), |t| {
            t.replace(&root, &B64.encode([1u8; 32]))
        })
    };
    let t = tampered(&fx, cp_edit, false);
    assert_problem(&problems(t.path(), key), "checkpoint.txt", "altered");
    let t = tampered(&fx, cp_edit, true);
    let ps = problems(t.path(), key);
    assert_problem(
        &ps,
        "checkpoint.txt",
        "does not verify with the key you supplied",
    );
    assert_problem(&ps, "checkpoint.txt", "invalid signature");
    // ... and without a key, with the bundle's own.
    assert_problem(
        &problems(t.path(), None),
        "checkpoint.txt",
        "invalid signature",
    );

    // An extra file, unlisted; and listed but outside the layout.
    let extra = |d: &Path| fs::write(d.join("report/extra.txt"), "hello").unwrap();
    let t = tampered(&fx, extra, false);
    assert_problem(
        &problems(t.path(), key),
        "report/extra.txt",
        "not listed in MANIFEST.b3",
    );
    let t = tampered(&fx, |d| fs::write(d.join("notes.txt"), "x").unwrap(), true);
    assert_problem(
        &problems(t.path(), key),
        "notes.txt",
        "not part of the bundle layout",
    );

    // A raw record changed, re-manifested.
    let raw7 = format!("raw/{}", to_hex(&e7.entry.raw_hash));
    let t = tampered(
        &fx,
        |d| edit(&d.join(&raw7), |t| t.replace("evt-7", "evt-8")),
        true,
    );
    assert_problem(&problems(t.path(), key), &raw7, "altered: its raw hash");

    // A symbolic link is refused, never followed.
    #[cfg(unix)]
    {
        let t = tampered(
            &fx,
            |d| std::os::unix::fs::symlink("/etc/passwd", d.join("report/link")).unwrap(),
            false,
        );
        assert_problem(&problems(t.path(), key), "report/link", "symbolic link");
    }

    // Several problems at once are all listed.
    let t = tampered(
        &fx,
        |d| {
            flip(d);
            extra(d);
        },
        false,
    );
    let ps = problems(t.path(), key);
    assert!(ps.len() >= 2, "{ps:?}");
}

/// One flipped byte anywhere in the signed or proven files is caught by the cryptography
/// alone (the manifest recomputed); a flip in any file never makes the verifier panic.
#[test]
fn any_flipped_byte_is_caught_without_the_manifest() {
    let fx = fixture();
    let mut files = Vec::new();
    files_of(&fx.bundle, "", &mut files);
    let t = tempfile::tempdir().unwrap();
    let mut checked = 0;
    for f in &files {
        let len = fs::metadata(fx.bundle.join(f)).unwrap().len() as usize;
        for at in [0, len / 3, len / 2, len - 1] {
            let dir = t.path().join(format!("{checked}"));
            copy_dir(&fx.bundle, &dir);
            let p = dir.join(f);
            let mut bytes = fs::read(&p).unwrap();
            bytes[at] ^= 1;
            fs::write(&p, bytes).unwrap();
            recompute_manifest(&dir);
            let result = verify_bundle(&dir, Some(&fx.key));
            let must_fail = ["checkpoint.txt", "entries/", "proofs/", "raw/"]
                .iter()
                .any(|x| f.starts_with(x));
            if must_fail {
                assert!(
                    matches!(result, Err(BundleError::Integrity(_))),
                    "byte {at} of {f} flipped: {result:?}"
                );
            }
            fs::remove_dir_all(&dir).unwrap();
            checked += 1;
        }
    }
    assert!(checked > 60, "{checked}");
}

#[test]
fn cli_exit_codes_and_wrong_key() {
    let fx = fixture();
    let dir = fx.bundle.to_str().unwrap();
    // Another key's verifier string: an integrity failure (1) naming the checkpoint.
    let other = NoteSigner::from_seed(ORIGIN, [7; 32]).unwrap();
    let other = other.verifier().to_string();
    let (code, _, err) = cli(&["verify-bundle", dir, "--pubkey", &other]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("checkpoint.txt: does not verify with the key you supplied"),
        "{err}"
    );
    assert!(err.contains("no signature by a known key"), "{err}");
    assert_problem(
        &problems(&fx.bundle, Some(&NoteVerifier::parse(&other).unwrap())),
        "checkpoint.txt",
        "no signature by a known key",
    );
    // An altered bundle: 1, with every problem on its own line.
    let t = tampered(
        &fx,
        |d| fs::remove_file(d.join("proofs/3.json")).unwrap(),
        false,
    );
    let (code, _, err) = cli(&[
        "verify-bundle",
        t.path().to_str().unwrap(),
        "--pubkey",
        &fx.key.to_string(),
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("FAILED")
            && err.contains("  proofs/3.json: listed in MANIFEST.b3 but missing"),
        "{err}"
    );
    // The same as JSON: exit 1, and the problems as a list.
    let (code, out, _) = cli(&[
        "verify-bundle",
        t.path().to_str().unwrap(),
        "--pubkey",
        &fx.key.to_string(),
        "--format",
        "json",
    ]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["ok"], false);
    assert!(
        v["problems"].as_array().is_some_and(|p| !p.is_empty()),
        "{v}"
    );
    // Usage and I/O: 2.
    let (code, _, err) = cli(&[
        "verify-bundle",
        "/nonexistent/bundle",
        "--pubkey",
        &fx.key.to_string(),
    ]);
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = cli(&["verify-bundle", dir, "--pubkey", "not-a-key"]);
    assert_eq!(code, 2, "{err}");
    let (code, _, _) = cli(&["verify-bundle"]);
    assert_eq!(code, 2);
}

#[test]
fn export_refuses_bad_input_and_leaves_nothing_behind() {
    let tmp = tempfile::tempdir().unwrap();
    let ledger = ledger_with(&tmp.path().join("ledger"), 40, 10);
    let verified = verify(&ledger, &VerifyOptions::default()).unwrap();
    let files = report_files(&ledger, TREE, &CITED);
    let parent = tmp.path().join("out");
    fs::create_dir_all(&parent).unwrap();

    // An existing, non-empty directory is refused and left as it was.
    let busy = parent.join("busy");
    fs::create_dir_all(&busy).unwrap();
    fs::write(busy.join("keep.txt"), "mine").unwrap();
    let err = write_bundle(
        &ledger,
        &verified,
        &crate::util::signer(),
        TREE,
        &files,
        &CITED,
        &busy,
    )
    .unwrap_err();
    assert!(matches!(err, ExportError::OutNotEmpty { .. }), "{err}");
    assert_eq!(fs::read_dir(&busy).unwrap().count(), 1);
    assert_eq!(fs::read_to_string(busy.join("keep.txt")).unwrap(), "mine");
    // A file in the way, too.
    fs::write(parent.join("file"), "x").unwrap();
    assert!(write_bundle(
        &ledger,
        &verified,
        &crate::util::signer(),
        TREE,
        &files,
        &CITED,
        &parent.join("file")
    )
    .is_err());

    let out = parent.join("b");
    let cases: Vec<(&str, ExportError)> = vec![
        (
            "cited beyond the tree",
            write_bundle(
                &ledger,
                &verified,
                &crate::util::signer(),
                TREE,
                &files,
                &[3, 30],
                &out,
            )
            .unwrap_err(),
        ),
        (
            "no checkpoint at 25",
            write_bundle(
                &ledger,
                &verified,
                &crate::util::signer(),
                25,
                &[],
                &[3],
                &out,
            )
            .unwrap_err(),
        ),
        (
            "beyond the head",
            write_bundle(
                &ledger,
                &verified,
                &crate::util::signer(),
                50,
                &[],
                &[],
                &out,
            )
            .unwrap_err(),
        ),
        (
            "unsafe name",
            write_bundle(
                &ledger,
                &verified,
                &crate::util::signer(),
                TREE,
                &[("../x".into(), vec![])],
                &[],
                &out,
            )
            .unwrap_err(),
        ),
        (
            "absolute name",
            write_bundle(
                &ledger,
                &verified,
                &crate::util::signer(),
                TREE,
                &[("/etc/x".into(), vec![])],
                &[],
                &out,
            )
            .unwrap_err(),
        ),
        (
            "report cites an uncited seq",
            write_bundle(
                &ledger,
                &verified,
                &crate::util::signer(),
                TREE,
                &files,
                &[3, 7, 12],
                &out,
            )
            .unwrap_err(),
        ),
        (
            "report attests another size",
            write_bundle(
                &ledger,
                &verified,
                &crate::util::signer(),
                20,
                &files,
                &[3, 7, 12],
                &out,
            )
            .unwrap_err(),
        ),
    ];
    for (what, err) in &cases {
        assert!(!err.to_string().is_empty(), "{what}");
    }
    assert!(matches!(
        cases[0].1,
        ExportError::CitedOutOfRange { seq: 30, .. }
    ));
    assert!(matches!(cases[1].1, ExportError::NoCheckpoint(25)));
    assert!(matches!(cases[3].1, ExportError::BadReportName { .. }));
    assert!(cases[5].1.to_string().contains("seq 25"), "{}", cases[5].1);
    // Nothing half-written anywhere: no bundle, no temporary directory.
    let left: Vec<String> = fs::read_dir(&parent)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let mut left = left;
    left.sort();
    assert_eq!(left, vec!["busy", "file"]);

    // An empty directory is fine; a stale verification is not.
    let empty = parent.join("empty");
    fs::create_dir(&empty).unwrap();
    write_bundle(
        &ledger,
        &verified,
        &crate::util::signer(),
        TREE,
        &files,
        &CITED,
        &empty,
    )
    .unwrap();
    verify_bundle(&empty, Some(ledger.current_key())).unwrap();
    drop(ledger);
    let mut ledger = crate::util::reopen(&tmp.path().join("ledger"));
    ledger.append(vec![crate::util::event(100)]).unwrap();
    let err = write_bundle(
        &ledger,
        &verified,
        &crate::util::signer(),
        TREE,
        &files,
        &CITED,
        &out,
    )
    .unwrap_err();
    assert!(
        matches!(err, ExportError::StaleVerification { .. }),
        "{err}"
    );
    assert!(!out.exists());
}

#[test]
fn redacted_records_and_rotated_keys() {
    let tmp = tempfile::tempdir().unwrap();
    let mut ledger = ledger_with(&tmp.path().join("ledger"), 20, 10);
    let old = ledger.current_key().clone();
    let e5 = ledger.read_entry(5).unwrap();
    ledger
        .redact(&e5.entry.raw_hash, "erasure request #12")
        .unwrap(); // seq 20
    ledger
        .rotate_key(NoteSigner::from_seed(ORIGIN, [9; 32]).unwrap())
        .unwrap(); // seq 21
    let new = ledger.current_key().clone();
    let verified = verify(&ledger, &VerifyOptions::default()).unwrap();
    let size = ledger.size();
    assert_eq!(size, 22);
    let out = tmp.path().join("bundle");
    let s = write_bundle(
        &ledger,
        &verified,
        &NoteSigner::from_seed(ORIGIN, [9; 32]).unwrap(),
        size,
        &report_files(&ledger, size, &[5, 6]),
        &[5, 6],
        &out,
    )
    .unwrap();
    // The redaction entry comes along, so the redaction itself is proven.
    assert_eq!(s.entries, vec![5, 6, 20]);
    assert_eq!((s.raw_records, s.redacted), (1, 1));
    assert!(!out
        .join(format!("raw/{}", to_hex(&e5.entry.raw_hash)))
        .exists());
    let json: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("entries/5.json")).unwrap()).unwrap();
    assert_eq!(json["raw"]["redacted"], true);
    assert_eq!(json["raw"]["redaction_seq"], 20);
    // The rotation checkpoint is signed by both keys; the manifest by the key that
    // exported (the current one), so the bundle verifies with it, and the old key alone
    // proves the checkpoint but not the report files.
    let keys = fs::read_to_string(out.join("verifier-key.txt")).unwrap();
    assert_eq!(keys.lines().count(), 2, "{keys}");
    let v = verify_bundle(&out, Some(&new)).unwrap();
    assert_eq!(v.redacted, 1);
    let ps = problems(&out, Some(&old));
    assert_problem(&ps, "MANIFEST.note", "no signature by a known key");
    assert!(ps.iter().all(|p| p.file == "MANIFEST.note"), "{ps:?}");
    assert_eq!(verify_bundle(&out, None).unwrap().key_fingerprints.len(), 2);

    // Claiming a redaction that is not in the bundle is caught.
    let t = tempfile::tempdir().unwrap();
    copy_dir(&out, t.path());
    let raw6 = format!(
        "raw/{}",
        to_hex(&ledger.read_entry(6).unwrap().entry.raw_hash)
    );
    fs::remove_file(t.path().join(&raw6)).unwrap();
    edit(&t.path().join("entries/6.json"), |text| {
        let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
        v["raw"] = serde_json::json!({"redacted": true, "redaction_seq": 4});
        serde_json::to_string(&v).unwrap()
    });
    recompute_manifest(t.path());
    assert_problem(
        &problems(t.path(), Some(&new)),
        "entries/6.json",
        "redacted by entry 4",
    );
}

/// Cloudflare's ports of Go's note and tlog packages check a bundle's checkpoint and
/// proofs from the files alone: tools nobody on this team wrote.
#[test]
fn independent_implementations_verify_a_bundle() {
    let fx = fixture();
    let b = &fx.bundle;
    let key = fs::read_to_string(b.join("verifier-key.txt")).unwrap();
    let v = signed_note::StandardVerifier::new(key.trim()).unwrap();
    let list = signed_note::VerifierList::new(vec![Box::new(v)]);
    let note = signed_note::Note::from_bytes(&fs::read(b.join("checkpoint.txt")).unwrap()).unwrap();
    note.verify(&list).unwrap();
    let cp = tlog_tiles::Checkpoint::from_bytes(note.text()).unwrap();
    assert_eq!((cp.origin(), cp.size()), (ORIGIN, TREE));
    for seq in CITED {
        let proof: serde_json::Value =
            serde_json::from_slice(&fs::read(b.join(format!("proofs/{seq}.json"))).unwrap())
                .unwrap();
        let path: Vec<tlog_tiles::Hash> = proof["path"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| tlog_tiles::Hash(B64.decode(p.as_str().unwrap()).unwrap().try_into().unwrap()))
            .collect();
        let leaf =
            tlog_tiles::record_hash(&fs::read(b.join(format!("entries/{seq}.bin"))).unwrap());
        assert_eq!(proof["leaf_hash"], B64.encode(leaf.0));
        tlog_tiles::check_record(&path, TREE, *cp.hash(), seq, leaf).unwrap();
    }
    // And they refuse an altered entry.
    let mut bytes = fs::read(b.join("entries/7.bin")).unwrap();
    bytes[10] ^= 1;
    let proof: serde_json::Value =
        serde_json::from_slice(&fs::read(b.join("proofs/7.json")).unwrap()).unwrap();
    let path: Vec<tlog_tiles::Hash> = proof["path"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| tlog_tiles::Hash(B64.decode(p.as_str().unwrap()).unwrap().try_into().unwrap()))
        .collect();
    assert!(
        tlog_tiles::check_record(&path, TREE, *cp.hash(), 7, tlog_tiles::record_hash(&bytes))
            .is_err()
    );
}

/// Writes the bundle shown in docs/bundle.md:
/// `AUDITLEDGER_EXAMPLE_BUNDLE=/tmp/example cargo test --test tests bundle::example -- --ignored`
#[test]
#[ignore]
fn example_bundle_for_the_docs() {
    let out = PathBuf::from(
        std::env::var("AUDITLEDGER_EXAMPLE_BUNDLE").expect("set AUDITLEDGER_EXAMPLE_BUNDLE"),
    );
    let tmp = tempfile::tempdir().unwrap();
    let ledger = ledger_with(&tmp.path().join("ledger"), 40, 10);
    let verified = verify(&ledger, &VerifyOptions::default()).unwrap();
    let files = report_files(&ledger, TREE, &CITED);
    let s = write_bundle(
        &ledger,
        &verified,
        &crate::util::signer(),
        TREE,
        &files,
        &CITED,
        &out,
    )
    .unwrap();
    println!("{s:#?}");
}

/// The conclusions are proven, not only the evidence: a report edited and re-manifested, a
/// report without its evidence list, and a forged redaction marker are all caught; and the
/// manifest's signature opens with an independent note implementation.
#[test]
fn edited_conclusions_and_forged_markers_are_caught_even_with_a_recomputed_manifest() {
    let fx = fixture();
    let key = Some(&fx.key);
    // Every finding removed from the report, the manifest recomputed.
    let t = tampered(
        &fx,
        |d| {
            edit_json(&d.join("report/soc2.json"), |v| {
                v["findings"] = serde_json::json!([]);
            })
        },
        true,
    );
    assert_problem(
        &problems(t.path(), key),
        "MANIFEST.note",
        "does not sign this MANIFEST.b3",
    );
    // Another PDF swapped in, the manifest recomputed.
    let t = tampered(
        &fx,
        |d| {
            fs::write(
                d.join("report/pdf/soc2.pdf"),
                b"%PDF-1.7 a different report\n",
            )
            .unwrap()
        },
        true,
    );
    assert_problem(
        &problems(t.path(), key),
        "MANIFEST.note",
        "does not sign this MANIFEST.b3",
    );
    // The signature removed.
    let t = tampered(
        &fx,
        |d| fs::remove_file(d.join("MANIFEST.note")).unwrap(),
        false,
    );
    assert_problem(&problems(t.path(), key), "MANIFEST.note", "missing");
    // The evidence list removed: the attestation can no longer be tied to anything.
    let t = tampered(
        &fx,
        |d| {
            edit_json(&d.join("report/soc2.json"), |v| {
                v.as_object_mut().unwrap().remove("evidence");
            })
        },
        true,
    );
    assert_problem(
        &problems(t.path(), key),
        "report",
        "no report JSON with an evidence list",
    );
    // A redaction marker naming an entry beyond the tree, the raw record deleted.
    let t = tampered(
        &fx,
        |d| {
            let seq = CITED[0];
            let json = d.join(format!("entries/{seq}.json"));
            let v: serde_json::Value =
                serde_json::from_str(&fs::read_to_string(&json).unwrap()).unwrap();
            let raw = v["raw"]["file"].as_str().unwrap().to_string();
            fs::remove_file(d.join(raw)).unwrap();
            edit_json(&json, |v| {
                v["raw"] = serde_json::json!({"redacted": true, "redaction_seq": 999999});
            });
        },
        true,
    );
    assert_problem(
        &problems(t.path(), key),
        &format!("entries/{}.json", CITED[0]),
        "beyond the checkpoint",
    );
    // Go's note format, checked by an implementation we did not write.
    let text = fs::read(fx.bundle.join("MANIFEST.note")).unwrap();
    let v = signed_note::StandardVerifier::new(&fx.key.to_string()).unwrap();
    let list = signed_note::VerifierList::new(vec![Box::new(v)]);
    let note = signed_note::Note::from_bytes(&text).unwrap();
    note.verify(&list).unwrap();
    let manifest = fs::read(fx.bundle.join("MANIFEST.b3")).unwrap();
    let body = String::from_utf8(note.text().to_vec()).unwrap();
    assert!(
        body.contains(&format!(
            "manifest_b3 {}\n",
            blake3::hash(&manifest).to_hex()
        )),
        "{body}"
    );
}

fn edit_json(path: &Path, f: impl FnOnce(&mut serde_json::Value)) {
    edit(path, |text| {
        let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
        f(&mut v);
        serde_json::to_string_pretty(&v).unwrap()
    });
}
