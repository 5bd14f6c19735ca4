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

use super::merkle::{self, Hash, ProofError, Sha256Hasher};
use super::note::{Checkpoint, NoteError, NoteVerifier};

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
