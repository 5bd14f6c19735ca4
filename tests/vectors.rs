//! Guards the formats others verify: our Merkle code against the RFC 6962 vectors of
//! transparency-dev/merkle (in `../shared/testdata/rfc6962/`), and our checkpoints and
//! proofs against independent implementations (`signed_note`, `tlog_tiles`).

use std::fs;
use std::path::Path;

use auditledger::tlog::merkle::{
    verify_consistency, verify_inclusion, CompactRange, Sha256Hasher, TreeHasher,
};
use auditledger::tlog::note::Checkpoint;
use base64::{engine::general_purpose::STANDARD as B64, Engine};
use serde::Deserialize;

use crate::util::{ledger_with, shared};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InclusionProbe {
    leaf_idx: u64,
    tree_size: u64,
    root: String,
    leaf_hash: String,
    proof: Option<Vec<String>>,
    desc: String,
    want_err: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConsistencyProbe {
    size1: u64,
    size2: u64,
    root1: String,
    root2: String,
    proof: Option<Vec<String>>,
    desc: String,
    want_err: bool,
}

fn json_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            json_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "json") {
            out.push(p);
        }
    }
}

fn b64(s: &str) -> Vec<u8> {
    B64.decode(s).unwrap()
}

#[test]
fn rfc6962_inclusion_vectors() {
    let mut files = vec![];
    json_files(&shared().join("testdata/rfc6962/inclusion"), &mut files);
    assert!(files.len() > 20, "expected the inclusion vectors");
    for f in &files {
        let p: InclusionProbe = serde_json::from_str(&fs::read_to_string(f).unwrap()).unwrap();
        let proof: Vec<Vec<u8>> = p.proof.unwrap_or_default().iter().map(|s| b64(s)).collect();
        let result = verify_inclusion(
            &Sha256Hasher,
            p.leaf_idx,
            p.tree_size,
            &b64(&p.leaf_hash),
            &proof,
            &b64(&p.root),
        );
        assert_eq!(result.is_err(), p.want_err, "{}: {}", f.display(), p.desc);
    }
}

#[test]
fn rfc6962_consistency_vectors() {
    let mut files = vec![];
    json_files(&shared().join("testdata/rfc6962/consistency"), &mut files);
    assert!(files.len() > 20, "expected the consistency vectors");
    for f in &files {
        let p: ConsistencyProbe = serde_json::from_str(&fs::read_to_string(f).unwrap()).unwrap();
        let proof: Vec<Vec<u8>> = p.proof.unwrap_or_default().iter().map(|s| b64(s)).collect();
        let result = verify_consistency(
            &Sha256Hasher,
            p.size1,
            p.size2,
            &proof,
            &b64(&p.root1),
            &b64(&p.root2),
        );
        assert_eq!(result.is_err(), p.want_err, "{}: {}", f.display(), p.desc);
    }
}

#[test]
fn rfc6962_leaves_and_roots() {
    #[derive(Deserialize)]
    struct Known {
        leaf_inputs: Vec<String>,
        node_hashes: Vec<Vec<String>>,
        root_hashes: Vec<String>,
    }
    let text = fs::read_to_string(shared().join("testdata/rfc6962/leaves-and-roots.json")).unwrap();
    let k: Known = serde_json::from_str(&text).unwrap();
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    let unhex = |s: &str| {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect::<Vec<u8>>()
    };
    let h = Sha256Hasher;
    let mut range = CompactRange::new();
    let mut nodes: Vec<(u32, u64, String)> = vec![];
    assert_eq!(hex(&range.root(&h)), k.root_hashes[0]);
    for (i, leaf) in k.leaf_inputs.iter().enumerate() {
        let lh = h.leaf(&unhex(leaf));
        assert_eq!(hex(&lh), k.node_hashes[0][i], "leaf hash {i}");
        range.push(&h, lh, |level, index, node| {
            nodes.push((level, index, hex(node)))
        });
        assert_eq!(
            hex(&range.root(&h)),
            k.root_hashes[i + 1],
            "root of {} leaves",
            i + 1
        );
    }
    for (level, index, node) in nodes {
        assert_eq!(node, k.node_hashes[level as usize][index as usize]);
    }
}

/// A real ledger's checkpoints and proofs, checked by Cloudflare's ports of Go's note and
/// tlog packages: tools nobody on this team wrote.
#[test]
fn independent_implementations_accept_our_checkpoints_and_proofs() {
    let dir = tempfile::tempdir().unwrap();
    // 700 entries: several bundles and tiles, commits of uneven size.
    let ledger = ledger_with(dir.path(), 700, 97);
    let note_text = ledger.latest_checkpoint().unwrap();
    let vkey = ledger.current_key().to_string();

    let v = signed_note::StandardVerifier::new(&vkey).unwrap();
    let list = signed_note::VerifierList::new(vec![Box::new(v)]);
    let note = signed_note::Note::from_bytes(note_text.as_bytes()).unwrap();
    let (verified, _) = note.verify(&list).unwrap();
    assert_eq!(verified.len(), 1);
    let cp = tlog_tiles::Checkpoint::from_bytes(note.text()).unwrap();
    assert_eq!(cp.size(), 700);
    assert_eq!(cp.origin(), crate::util::ORIGIN);
    assert_eq!(cp.hash().0, ledger.head().root);
    let ours = Checkpoint::parse_body(std::str::from_utf8(note.text()).unwrap()).unwrap();
    assert_eq!(ours.root, cp.hash().0);

    let to_hashes = |path: &[String]| -> Vec<tlog_tiles::Hash> {
        path.iter()
            .map(|p| tlog_tiles::Hash(b64(p).try_into().unwrap()))
            .collect()
    };
    for seq in [0u64, 1, 255, 256, 257, 511, 512, 650, 699] {
        let p = ledger.prove_inclusion(seq, 700).unwrap();
        let entry = ledger.read_entry(seq).unwrap();
        // The leaf is the entry's canonical bytes: an auditor can recompute it.
        let leaf = tlog_tiles::record_hash(&entry.canonical);
        assert_eq!(B64.encode(leaf.0), p.leaf_hash);
        tlog_tiles::check_record(&to_hashes(&p.path), 700, *cp.hash(), seq, leaf)
            .unwrap_or_else(|e| panic!("inclusion of {seq}: {e:?}"));
    }
    for old in [1u64, 2, 97, 256, 300, 512, 699, 700] {
        let p = ledger.prove_consistency(old, 700).unwrap();
        let old_root = tlog_tiles::Hash(ledger.root_at(old).unwrap());
        tlog_tiles::check_tree(&to_hashes(&p.path), 700, *cp.hash(), old, old_root)
            .unwrap_or_else(|e| panic!("consistency from {old}: {e:?}"));
        // Every stored intermediate checkpoint is signed too and carries that root.
        if let Some(old_note) = ledger.checkpoint_at(old).unwrap() {
            let n = signed_note::Note::from_bytes(old_note.as_bytes()).unwrap();
            n.verify(&list).unwrap();
            let c = tlog_tiles::Checkpoint::from_bytes(n.text()).unwrap();
            assert_eq!(c.hash().0, old_root.0);
        }
    }
}

/// Our `tree` file is Go tlog's hash storage layout (Crosby and Wallach's stored hash index),
/// so `tlog_tiles` reads it directly: the tree hash it computes from the file is the signed
/// root, and every C2SP tile we serve is the tile it builds from the same hashes.
#[test]
fn tlog_tiles_reads_our_tree_file_and_builds_our_tiles() {
    struct FileHashes(Vec<u8>);
    impl tlog_tiles::HashReader for FileHashes {
        fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<tlog_tiles::Hash>, tlog_tiles::Error> {
            Ok(indexes
                .iter()
                .map(|&i| {
                    let at = i as usize * 32;
                    tlog_tiles::Hash(self.0[at..at + 32].try_into().unwrap())
                })
                .collect())
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let size = 70_000u64;
    let ledger = ledger_with(dir.path(), size, 9_999);
    let file = FileHashes(std::fs::read(dir.path().join(auditledger::ledger::TREE_FILE)).unwrap());
    assert_eq!(
        file.0.len() as u64,
        (2 * size - u64::from(size.count_ones())) * 32
    );
    let root = tlog_tiles::tree_hash(size, &file).unwrap();
    assert_eq!(root.0, ledger.head().root);
    for (level, index) in [(0u8, 0u64), (0, 273), (1, 0), (1, 1), (2, 0)] {
        let nodes = size >> (8 * level as u64);
        let width = (nodes - (index * 256).min(nodes)).min(256) as u32;
        let theirs = tlog_tiles::Tile::new(8, level, index, width, false)
            .read_data(&file)
            .unwrap();
        assert_eq!(
            ledger.tile(u32::from(level), index).unwrap(),
            theirs,
            "tile {level}/{index} (width {width})"
        );
    }
}
