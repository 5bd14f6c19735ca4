//! Proof documents: the JSON that `prove` prints, `verify-proof` reads and bundles store.
//!
//! ```json
//! {"type":"inclusion","hash":"sha256","leaf_index":5,"tree_size":12,
//!  "leaf_hash":"<base64>","path":["<base64>",...],"checkpoint":"<note text>"}
//! {"type":"consistency","hash":"sha256","old_size":5,"new_size":12,
//!  "path":["<base64>",...],"checkpoint":"<note text of new_size>"}
//! ```
//!
//! Invariants kept here: unknown fields, another hash name or a malformed hash are refused
//! when reading; a proof is accepted only against a checkpoint whose signature checks out
//! with a key the verifier supplies, whose size is the proof's, and whose root the path
//! reproduces. Hashes are standard padded base64, as in the checkpoint.

use base64::{engine::general_purpose::STANDARD as B64, Engine};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::tlog::merkle::{self, Hash, ProofError, Sha256Hasher};
use crate::tlog::note::{Checkpoint, NoteError, NoteVerifier};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InclusionProof {
    #[serde(rename = "type")]
    pub kind: String,
    pub hash: String,
    pub leaf_index: u64,
    pub tree_size: u64,
    pub leaf_hash: String,
    pub path: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyProof {
    #[serde(rename = "type")]
    pub kind: String,
    pub hash: String,
    pub old_size: u64,
    pub new_size: u64,
    pub path: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<String>,
}

/// Either kind of proof, as read from a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Proof {
    Inclusion(InclusionProof),
    Consistency(ConsistencyProof),
}

#[derive(Debug, Error)]
pub enum ProofCheckError {
    #[error("proof is not valid JSON of a known shape: {0}")]
    Parse(String),
    #[error("proof field {field}: {problem}")]
    Field {
        field: &'static str,
        problem: String,
    },
    #[error("checkpoint: {0}")]
    Checkpoint(#[from] NoteError),
    #[error("no checkpoint: the proof carries none and none was given")]
    NoCheckpoint,
    #[error("checkpoint is for tree size {checkpoint}, the proof for {proof}")]
    SizeMismatch { checkpoint: u64, proof: u64 },
    #[error(
        "the proof's checkpoint and the given checkpoint are for origin {given:?} and {carried:?}"
    )]
    OriginMismatch { given: String, carried: String },
    #[error("proof does not verify: {0}")]
    Proof(#[from] ProofError),
}

fn b64(h: &Hash) -> String {
    B64.encode(h)
}

fn decode_hash(field: &'static str, text: &str) -> Result<Vec<u8>, ProofCheckError> {
    let bytes = B64.decode(text).map_err(|e| ProofCheckError::Field {
        field,
        problem: format!("not standard base64: {e}"),
    })?;
    if bytes.len() != 32 {
        return Err(ProofCheckError::Field {
            field,
            problem: format!("{} bytes, expected 32", bytes.len()),
        });
    }
    Ok(bytes)
}

fn decode_path(path: &[String]) -> Result<Vec<Vec<u8>>, ProofCheckError> {
    path.iter().map(|p| decode_hash("path", p)).collect()
}

fn check_header(kind: &str, want_kind: &str, hash: &str) -> Result<(), ProofCheckError> {
    if kind != want_kind {
        return Err(ProofCheckError::Field {
            field: "type",
            problem: format!("{kind:?}, expected {want_kind:?}"),
        });
    }
    if hash != "sha256" {
        return Err(ProofCheckError::Field {
            field: "hash",
            problem: format!("{hash:?}, expected \"sha256\""),
        });
    }
    Ok(())
}

impl InclusionProof {
    pub fn new(
        index: u64,
        size: u64,
        leaf: Hash,
        path: &[Hash],
        checkpoint: Option<String>,
    ) -> Self {
        Self {
            kind: "inclusion".into(),
            hash: "sha256".into(),
            leaf_index: index,
            tree_size: size,
            leaf_hash: b64(&leaf),
            path: path.iter().map(b64).collect(),
            checkpoint,
        }
    }

    /// Checks the proof against `checkpoint` (or the one it carries) opened with `keys`.
    pub fn verify(
        &self,
        checkpoint: Option<&str>,
        keys: &[NoteVerifier],
    ) -> Result<Checkpoint, ProofCheckError> {
        check_header(&self.kind, "inclusion", &self.hash)?;
        let cp = open_checkpoint(checkpoint, self.checkpoint.as_deref(), keys)?;
        if cp.size != self.tree_size {
            return Err(ProofCheckError::SizeMismatch {
                checkpoint: cp.size,
                proof: self.tree_size,
            });
        }
        let leaf = decode_hash("leaf_hash", &self.leaf_hash)?;
        merkle::verify_inclusion(
            &Sha256Hasher,
            self.leaf_index,
            self.tree_size,
            &leaf,
            &decode_path(&self.path)?,
            &cp.root,
        )?;
        Ok(cp)
    }
}

impl ConsistencyProof {
    pub fn new(old: u64, new: u64, path: &[Hash], checkpoint: Option<String>) -> Self {
        Self {
            kind: "consistency".into(),
            hash: "sha256".into(),
            old_size: old,
            new_size: new,
            path: path.iter().map(b64).collect(),
            checkpoint,
        }
    }

    /// Checks that the tree of `old_checkpoint` grew append-only into the proof's
    /// (signed) new checkpoint.
    pub fn verify(
        &self,
        old_checkpoint: &str,
        keys: &[NoteVerifier],
    ) -> Result<(Checkpoint, Checkpoint), ProofCheckError> {
        check_header(&self.kind, "consistency", &self.hash)?;
        let (old, _) = Checkpoint::open(old_checkpoint, keys)?;
        let new = open_checkpoint(None, self.checkpoint.as_deref(), keys)?;
        if old.origin != new.origin {
            return Err(ProofCheckError::OriginMismatch {
                given: old.origin,
                carried: new.origin,
            });
        }
        if old.size != self.old_size {
            return Err(ProofCheckError::SizeMismatch {
                checkpoint: old.size,
                proof: self.old_size,
            });
        }
        if new.size != self.new_size {
            return Err(ProofCheckError::SizeMismatch {
                checkpoint: new.size,
                proof: self.new_size,
            });
        }
        merkle::verify_consistency(
            &Sha256Hasher,
            self.old_size,
            self.new_size,
            &decode_path(&self.path)?,
            &old.root,
            &new.root,
        )?;
        Ok((old, new))
    }
}

fn open_checkpoint(
    given: Option<&str>,
    carried: Option<&str>,
    keys: &[NoteVerifier],
) -> Result<Checkpoint, ProofCheckError> {
    let given_cp = given.map(|g| Checkpoint::open(g, keys)).transpose()?;
    let carried_cp = carried.map(|c| Checkpoint::open(c, keys)).transpose()?;
    match (given_cp, carried_cp) {
        (Some((g, _)), Some((c, _))) => {
            // Both signed by trusted keys: they must describe the same tree.
            if g.origin != c.origin {
                return Err(ProofCheckError::OriginMismatch {
                    given: g.origin,
                    carried: c.origin,
                });
            }
            if g.size == c.size && g.root != c.root {
                return Err(ProofCheckError::Field {
                    field: "checkpoint",
                    problem: "carries another root than the given checkpoint for the same size"
                        .into(),
                });
            }
            Ok(g)
        }
        (Some((g, _)), None) => Ok(g),
        (None, Some((c, _))) => Ok(c),
        (None, None) => Err(ProofCheckError::NoCheckpoint),
    }
}

impl Proof {
    pub fn parse(text: &str) -> Result<Self, ProofCheckError> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| ProofCheckError::Parse(e.to_string()))?;
        match value.get("type").and_then(|t| t.as_str()) {
            Some("inclusion") => serde_json::from_value(value)
                .map(Proof::Inclusion)
                .map_err(|e| ProofCheckError::Parse(e.to_string())),
            Some("consistency") => serde_json::from_value(value)
                .map(Proof::Consistency)
                .map_err(|e| ProofCheckError::Parse(e.to_string())),
            _ => Err(ProofCheckError::Field {
                field: "type",
                problem: "expected \"inclusion\" or \"consistency\"".into(),
            }),
        }
    }

    // Plain strings, numbers and lists: serde_json fails only on a failing Serialize impl
    // or a map with non-string keys, and proofs have neither.
    #[allow(clippy::expect_used)]
    pub fn to_json(&self) -> String {
        match self {
            Proof::Inclusion(p) => serde_json::to_string(p),
            Proof::Consistency(p) => serde_json::to_string(p),
        }
        .expect("proofs serialize")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tlog::merkle::tests::perfect_root;
    use crate::tlog::merkle::{
        consistency_proof, inclusion_proof, range_hash, SubtreeSource, TreeHasher,
    };
    use crate::tlog::note::fuzz::{edge_u64, mutated};
    use crate::tlog::note::NoteSigner;
    use proptest::prelude::*;

    const ORIGIN: &str = "example.com/log";
    const LEAVES: u64 = 13;
    const OLD: u64 = 5;
    const INDEX: u64 = 6;

    fn signer() -> NoteSigner {
        NoteSigner::from_seed(ORIGIN, [7; 32]).unwrap()
    }

    fn keys() -> Vec<NoteVerifier> {
        vec![signer().verifier().clone()]
    }

    /// A tree of `LEAVES` leaf hashes, read as perfect subtrees the way the ledger's tiles
    /// are.
    struct Tree(Vec<Hash>);

    impl SubtreeSource for Tree {
        type Error = ();
        fn perfect(&self, level: u32, index: u64) -> Result<Hash, ()> {
            let lo = (index << level) as usize;
            Ok(perfect_root(&Sha256Hasher, &self.0[lo..lo + (1 << level)]))
        }
    }

    fn tree() -> Tree {
        Tree(
            (0..LEAVES)
                .map(|i| Sha256Hasher.leaf(format!("entry {i}").as_bytes()))
                .collect(),
        )
    }

    /// The signed checkpoint of the first `size` leaves, or of `size` with `root` when given
    /// (a checkpoint that signs whatever a test needs it to).
    fn checkpoint(size: u64, root: Option<Hash>) -> String {
        let root = root.unwrap_or_else(|| range_hash(&Sha256Hasher, &tree(), 0, size).unwrap());
        Checkpoint {
            origin: ORIGIN.into(),
            size,
            root,
            time: None,
        }
        .sign(&[&signer()])
    }

    fn inclusion() -> InclusionProof {
        let t = tree();
        let path = inclusion_proof(&Sha256Hasher, &t, INDEX, LEAVES).unwrap();
        let leaf = t.0[INDEX as usize];
        InclusionProof::new(INDEX, LEAVES, leaf, &path, Some(checkpoint(LEAVES, None)))
    }

    fn consistency() -> ConsistencyProof {
        let path = consistency_proof(&Sha256Hasher, &tree(), OLD, LEAVES).unwrap();
        ConsistencyProof::new(OLD, LEAVES, &path, Some(checkpoint(LEAVES, None)))
    }

    /// Parses `text` as a proof and verifies it every way `verify-proof` and bundles do;
    /// none may panic.
    fn parse_and_verify(text: &str) {
        let keys = keys();
        let old = checkpoint(OLD, None);
        match Proof::parse(text) {
            Ok(Proof::Inclusion(p)) => {
                let _ = p.verify(None, &keys);
                let _ = p.verify(Some(&old), &keys);
                let _ = p.verify(Some(text), &keys);
            }
            Ok(Proof::Consistency(p)) => {
                let _ = p.verify(&old, &keys);
                let _ = p.verify(text, &keys);
            }
            Err(_) => {}
        }
    }

    /// Path elements: mostly 32 bytes, sometimes another length; standard base64 or not.
    fn path_element() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => proptest::collection::vec(any::<u8>(), 32).prop_map(|h| B64.encode(h)),
            1 => proptest::collection::vec(any::<u8>(), 0..40).prop_map(|h| B64.encode(h)),
            1 => "[A-Za-z0-9+/=_-]{0,48}",
        ]
    }

    #[test]
    fn fixture_proofs_verify_and_round_trip() {
        let keys = keys();
        let old = checkpoint(OLD, None);
        let inc = Proof::Inclusion(inclusion()).to_json();
        let Proof::Inclusion(p) = Proof::parse(&inc).unwrap() else {
            panic!("an inclusion proof parses as one");
        };
        assert_eq!(p.verify(None, &keys).unwrap().size, LEAVES);
        let cons = Proof::Consistency(consistency()).to_json();
        let Proof::Consistency(p) = Proof::parse(&cons).unwrap() else {
            panic!("a consistency proof parses as one");
        };
        let (o, n) = p.verify(&old, &keys).unwrap();
        assert_eq!((o.size, n.size), (OLD, LEAVES));
    }

    #[test]
    fn empty_and_lone_plus_are_errors() {
        for text in ["", "+", "{}", "[]", "null", "{\"type\":\"inclusion\"}"] {
            assert!(Proof::parse(text).is_err(), "{text:?}");
        }
        for text in ["", "+"] {
            let mut p = inclusion();
            p.checkpoint = Some(text.into());
            assert!(p.verify(None, &keys()).is_err());
            assert!(inclusion().verify(Some(text), &keys()).is_err());
            assert!(consistency().verify(text, &keys()).is_err());
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn proof_parse_and_verify_never_panic_on_any_string(text in any::<String>()) {
            parse_and_verify(&text);
        }

        #[test]
        fn proof_parse_and_verify_never_panic_on_altered_proofs(
            inc in mutated(Proof::Inclusion(inclusion()).to_json()),
            cons in mutated(Proof::Consistency(consistency()).to_json()),
        ) {
            parse_and_verify(&inc);
            parse_and_verify(&cons);
        }

        /// Any index, sizes and path, under checkpoints signed for the proof's sizes, so
        /// verification gets as far as the Merkle check. Random paths never verify.
        #[test]
        fn proof_verify_never_panics_on_any_sizes_and_path(
            index in edge_u64(),
            size in edge_u64(),
            old_size in edge_u64(),
            path in proptest::collection::vec(path_element(), 0..70),
            leaf in path_element(),
            root: [u8; 32],
            old_root: [u8; 32],
        ) {
            let keys = keys();
            let p = InclusionProof {
                leaf_index: index,
                tree_size: size,
                leaf_hash: leaf,
                path: path.clone(),
                checkpoint: Some(checkpoint(size, Some(root))),
                ..inclusion()
            };
            prop_assert!(p.verify(None, &keys).is_err());
            let c = ConsistencyProof {
                old_size,
                new_size: size,
                path,
                checkpoint: Some(checkpoint(size, Some(root))),
                ..consistency()
            };
            prop_assert!(c.verify(&checkpoint(old_size, Some(old_root)), &keys).is_err());
        }
    }
}
