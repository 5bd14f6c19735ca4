//! The Merkle tree of RFC 6962 section 2.1 (RFC 9162 section 2.1): hashing, proof
//! construction and proof verification.
//!
//! Invariants kept here:
//! - leaf hash = H(0x00 || data), interior = H(0x01 || left || right), empty tree = H("").
//! - Proofs are built only from hashes of perfect subtrees (`SubtreeSource`), so a proof
//!   costs O(log n) subtree reads and never rebuilds the tree.
//! - Verification follows RFC 9162 2.1.3.2 and 2.1.4.2 and the stricter preconditions of
//!   transparency-dev/merkle `proof/verify.go` (index < size, 0 < size1 <= size2, an empty
//!   consistency proof only for equal sizes), so the shared RFC 6962 vectors pass.
//!
//! The hasher is a parameter: the ledger uses SHA-256 (what a C2SP checkpoint root is by
//! definition), and the tests run the same code with BLAKE3 against a naive reference.

use sha2::{Digest, Sha256};
use thiserror::Error;

/// A 32-byte node hash.
pub type Hash = [u8; 32];

/// The hash function of a tree, with the RFC 6962 domain separation applied by the caller
/// of [`TreeHasher::leaf`] and [`TreeHasher::children`].
pub trait TreeHasher {
    fn empty(&self) -> Hash;
    fn leaf(&self, data: &[u8]) -> Hash;
    fn children(&self, left: &Hash, right: &Hash) -> Hash;
}

/// RFC 6962 with SHA-256: the tree a C2SP checkpoint commits to.
#[derive(Clone, Copy, Debug, Default)]
pub struct Sha256Hasher;

impl TreeHasher for Sha256Hasher {
    fn empty(&self) -> Hash {
        Sha256::digest([]).into()
    }
    fn leaf(&self, data: &[u8]) -> Hash {
        let mut h = Sha256::new();
        h.update([0u8]);
        h.update(data);
        h.finalize().into()
    }
    fn children(&self, left: &Hash, right: &Hash) -> Hash {
        let mut h = Sha256::new();
        h.update([1u8]);
        h.update(left);
        h.update(right);
        h.finalize().into()
    }
}

/// Why a proof was refused.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ProofError {
    #[error("leaf index {index} is not below tree size {size}")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("old size {old} is larger than new size {new}")]
    SizesReversed { old: u64, new: u64 },
    #[error("a consistency proof needs an old size above 0")]
    EmptyOldTree,
    #[error("proof has the wrong length for these sizes")]
    WrongLength,
    #[error("a hash in the proof is {0} bytes, not 32")]
    BadHashLength(usize),
    #[error("root mismatch: proof gives {computed}, expected {expected}")]
    RootMismatch { computed: String, expected: String },
}

fn to_hash(bytes: &[u8]) -> Result<Hash, ProofError> {
    bytes
        .try_into()
        .map_err(|_| ProofError::BadHashLength(bytes.len()))
}

fn check_root(computed: &Hash, expected: &[u8]) -> Result<(), ProofError> {
    if computed.as_slice() == expected {
        Ok(())
    } else {
        Err(ProofError::RootMismatch {
            computed: to_hex(computed),
            expected: to_hex(expected),
        })
    }
}

/// Verifies an inclusion proof (RFC 9162 2.1.3.2).
///
/// Preconditions, checked: `index < size`; `leaf_hash`, `root` and every proof element are
/// 32 bytes; the proof has exactly the length the sizes imply.
pub fn verify_inclusion<H: TreeHasher>(
    hasher: &H,
    index: u64,
    size: u64,
    leaf_hash: &[u8],
    proof: &[Vec<u8>],
    root: &[u8],
) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let mut r = to_hash(leaf_hash)?;
    let mut fnode = index;
    let mut snode = size - 1;
    for p in proof {
        let p = to_hash(p)?;
        if snode == 0 {
            return Err(ProofError::WrongLength);
        }
        if fnode & 1 == 1 || fnode == snode {
            r = hasher.children(&p, &r);
            while fnode & 1 == 0 && fnode != 0 {
                fnode >>= 1;
                snode >>= 1;
            }
        } else {
            r = hasher.children(&r, &p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return Err(ProofError::WrongLength);
    }
    check_root(&r, root)
}

/// Verifies a consistency proof (RFC 9162 2.1.4.2) between a tree of `size1` leaves with
/// root `root1` and its extension to `size2` leaves with root `root2`.
///
/// Preconditions, checked: `0 < size1 <= size2`; equal sizes need an empty proof and equal
/// roots; otherwise the proof is non-empty and every element is 32 bytes.
pub fn verify_consistency<H: TreeHasher>(
    hasher: &H,
    size1: u64,
    size2: u64,
    proof: &[Vec<u8>],
    root1: &[u8],
    root2: &[u8],
) -> Result<(), ProofError> {
    if size1 > size2 {
        return Err(ProofError::SizesReversed {
            old: size1,
            new: size2,
        });
    }
    if size1 == 0 {
        return Err(ProofError::EmptyOldTree);
    }
    if size1 == size2 {
        if !proof.is_empty() {
            return Err(ProofError::WrongLength);
        }
        return if root1 == root2 {
            Ok(())
        } else {
            Err(ProofError::RootMismatch {
                computed: to_hex(root1),
                expected: to_hex(root2),
            })
        };
    }
    if proof.is_empty() {
        return Err(ProofError::WrongLength);
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if size1.is_power_of_two() {
        path.push(to_hash(root1)?);
    }
    for p in proof {
        path.push(to_hash(p)?);
    }
    let mut fnode = size1 - 1;
    let mut snode = size2 - 1;
    while fnode & 1 == 1 {
        fnode >>= 1;
        snode >>= 1;
    }
    // `proof` is not empty, so neither is `path`.
    let (&first, rest) = path.split_first().ok_or(ProofError::WrongLength)?;
    let mut fr = first;
    let mut sr = first;
    for c in rest {
        if snode == 0 {
            return Err(ProofError::WrongLength);
        }
        if fnode & 1 == 1 || fnode == snode {
            fr = hasher.children(c, &fr);
            sr = hasher.children(c, &sr);
            while fnode & 1 == 0 && fnode != 0 {
                fnode >>= 1;
                snode >>= 1;
            }
        } else {
            sr = hasher.children(&sr, c);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return Err(ProofError::WrongLength);
    }
    check_root(&fr, root1)?;
    check_root(&sr, root2)
}

/// Where proofs get their hashes from: the hash of the perfect subtree at `level`
/// (0 = leaves) and `index` (counting subtrees of that size from the left).
pub trait SubtreeSource {
    type Error;
    fn perfect(&self, level: u32, index: u64) -> Result<Hash, Self::Error>;
}

/// The largest power of two strictly below `n` (n >= 2).
fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1u64 << (63 - (n - 1).leading_zeros())
}

/// MTH(D[lo:hi]) from perfect subtree hashes: [lo, hi) is split left to right into the
/// largest aligned perfect subtrees, which are then folded from the right, as RFC 6962's
/// recursive definition does.
pub fn range_hash<H: TreeHasher, S: SubtreeSource>(
    hasher: &H,
    src: &S,
    lo: u64,
    hi: u64,
) -> Result<Hash, S::Error> {
    let mut parts = Vec::with_capacity(64);
    let mut at = lo;
    while at < hi {
        let align = if at == 0 { 63 } else { at.trailing_zeros() };
        let mut level = align.min(63 - (hi - at).leading_zeros());
        while (1u64 << level) > hi - at {
            level -= 1;
        }
        parts.push(src.perfect(level, at >> level)?);
        at += 1u64 << level;
    }
    // An empty range (lo >= hi) has no parts: its hash is the empty tree's.
    let Some(mut acc) = parts.pop() else {
        return Ok(hasher.empty());
    };
    while let Some(left) = parts.pop() {
        acc = hasher.children(&left, &acc);
    }
    Ok(acc)
}

/// The inclusion proof of leaf `index` in the tree of `size` leaves (RFC 9162 2.1.3.1).
/// Precondition: `index < size`.
pub fn inclusion_proof<H: TreeHasher, S: SubtreeSource>(
    hasher: &H,
    src: &S,
    index: u64,
    size: u64,
) -> Result<Vec<Hash>, S::Error> {
    assert!(
        index < size,
        "inclusion_proof: index {index} >= size {size}"
    );
    let mut path = Vec::new();
    let (mut lo, mut hi) = (0u64, size);
    // Walk down from the root; siblings are collected top-down and reversed at the end.
    while hi - lo > 1 {
        let k = split_point(hi - lo);
        if index - lo < k {
            path.push(range_hash(hasher, src, lo + k, hi)?);
            hi = lo + k;
        } else {
            path.push(range_hash(hasher, src, lo, lo + k)?);
            lo += k;
        }
    }
    path.reverse();
    Ok(path)
}

/// The consistency proof from `size1` to `size2` leaves (RFC 9162 2.1.4.1).
/// Precondition: `0 < size1 <= size2`.
pub fn consistency_proof<H: TreeHasher, S: SubtreeSource>(
    hasher: &H,
    src: &S,
    size1: u64,
    size2: u64,
) -> Result<Vec<Hash>, S::Error> {
    assert!(
        0 < size1 && size1 <= size2,
        "consistency_proof: need 0 < {size1} <= {size2}"
    );
    let mut path = Vec::new();
    let (mut lo, mut hi, mut m) = (0u64, size2, size1);
    let mut whole = true;
    loop {
        let n = hi - lo;
        if m == n {
            if !whole {
                path.push(range_hash(hasher, src, lo, hi)?);
            }
            break;
        }
        let k = split_point(n);
        if m <= k {
            path.push(range_hash(hasher, src, lo + k, hi)?);
            hi = lo + k;
        } else {
            path.push(range_hash(hasher, src, lo, lo + k)?);
            lo += k;
            m -= k;
            whole = false;
        }
    }
    path.reverse();
    Ok(path)
}

/// The right edge of a tree: the roots of its perfect subtrees, largest first. Appending a
/// leaf is amortised O(1); the root is a fold of at most 64 hashes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CompactRange {
    size: u64,
    peaks: Vec<Hash>,
}

impl CompactRange {
    pub fn new() -> Self {
        Self::default()
    }

    /// Rebuilds the range of a tree of `size` leaves from its perfect subtrees.
    pub fn load<S: SubtreeSource>(src: &S, size: u64) -> Result<Self, S::Error> {
        let mut peaks = Vec::new();
        let mut at = 0u64;
        for level in (0..64u32).rev() {
            if size & (1u64 << level) != 0 {
                peaks.push(src.perfect(level, at >> level)?);
                at += 1u64 << level;
            }
        }
        Ok(Self { size, peaks })
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends a leaf hash; calls `on_node(level, index, hash)` for every perfect subtree
    /// completed by it (level >= 1), which is what tile storage needs.
    pub fn push<H: TreeHasher>(
        &mut self,
        hasher: &H,
        leaf: Hash,
        mut on_node: impl FnMut(u32, u64, &Hash),
    ) {
        let mut node = leaf;
        let mut level = 0u32;
        let index = self.size;
        while index >> level & 1 == 1 {
            // `peaks` holds one hash per set bit of `size`: `new` has none for 0, `load`
            // pushes one per set bit, and each push pops one per trailing 1 bit it clears
            // and pushes one for the bit it sets. So a set bit here has its peak.
            #[allow(clippy::expect_used)]
            let left = self.peaks.pop().expect("a set bit has a peak");
            node = hasher.children(&left, &node);
            level += 1;
            on_node(level, index >> level, &node);
        }
        self.peaks.push(node);
        self.size += 1;
    }

    pub fn root<H: TreeHasher>(&self, hasher: &H) -> Hash {
        let mut it = self.peaks.iter().rev();
        match it.next() {
            None => hasher.empty(),
            Some(last) => it.fold(*last, |acc, left| hasher.children(left, &acc)),
        }
    }
}

/// Lower-case hex, as hashes are shown to people.
pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn from_hex32(text: &str) -> Option<Hash> {
    if text.len() != 64 || !text.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (byte, chunk) in out.iter_mut().zip(text.as_bytes().chunks(2)) {
        *byte = u8::from_str_radix(std::str::from_utf8(chunk).ok()?, 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::tlog::note::fuzz::edge_u64;
    use proptest::prelude::*;

    /// The same tree shape hashed with BLAKE3; used to check the generic code against a
    /// reference with a second hash function.
    #[derive(Clone, Copy, Debug, Default)]
    pub struct Blake3Hasher;

    impl TreeHasher for Blake3Hasher {
        fn empty(&self) -> Hash {
            blake3::hash(&[]).into()
        }
        fn leaf(&self, data: &[u8]) -> Hash {
            let mut h = blake3::Hasher::new();
            h.update(&[0u8]);
            h.update(data);
            h.finalize().into()
        }
        fn children(&self, left: &Hash, right: &Hash) -> Hash {
            let mut h = blake3::Hasher::new();
            h.update(&[1u8]);
            h.update(left);
            h.update(right);
            h.finalize().into()
        }
    }

    /// The root of a perfect run of hashes (length a power of two), e.g. one tile's span; the
    /// empty tree's hash for no hashes.
    pub(crate) fn perfect_root<H: TreeHasher>(hasher: &H, hashes: &[Hash]) -> Hash {
        debug_assert!(hashes.is_empty() || hashes.len().is_power_of_two());
        let mut level: Vec<Hash> = hashes.to_vec();
        while level.len() > 1 {
            level = level
                .as_chunks::<2>()
                .0
                .iter()
                .map(|[left, right]| hasher.children(left, right))
                .collect();
        }
        level.first().copied().unwrap_or_else(|| hasher.empty())
    }

    /// MTH exactly as RFC 6962 2.1 defines it, recursively over the leaf data.
    fn reference_root<H: TreeHasher>(h: &H, leaves: &[Vec<u8>]) -> Hash {
        match leaves.len() {
            0 => h.empty(),
            1 => h.leaf(&leaves[0]),
            n => {
                let k = split_point(n as u64) as usize;
                h.children(
                    &reference_root(h, &leaves[..k]),
                    &reference_root(h, &leaves[k..]),
                )
            }
        }
    }

    /// PATH(m, D[n]) exactly as RFC 6962 2.1.1 defines it.
    fn reference_path<H: TreeHasher>(h: &H, m: usize, leaves: &[Vec<u8>]) -> Vec<Hash> {
        let n = leaves.len();
        if n <= 1 {
            return vec![];
        }
        let k = split_point(n as u64) as usize;
        if m < k {
            let mut p = reference_path(h, m, &leaves[..k]);
            p.push(reference_root(h, &leaves[k..]));
            p
        } else {
            let mut p = reference_path(h, m - k, &leaves[k..]);
            p.push(reference_root(h, &leaves[..k]));
            p
        }
    }

    /// SUBPROOF(m, D[n], b) exactly as RFC 6962 2.1.2 defines it.
    fn reference_subproof<H: TreeHasher>(
        h: &H,
        m: usize,
        leaves: &[Vec<u8>],
        whole: bool,
    ) -> Vec<Hash> {
        let n = leaves.len();
        if m == n {
            return if whole {
                vec![]
            } else {
                vec![reference_root(h, leaves)]
            };
        }
        let k = split_point(n as u64) as usize;
        if m <= k {
            let mut p = reference_subproof(h, m, &leaves[..k], whole);
            p.push(reference_root(h, &leaves[k..]));
            p
        } else {
            let mut p = reference_subproof(h, m - k, &leaves[k..], false);
            p.push(reference_root(h, &leaves[..k]));
            p
        }
    }

    struct Leaves<'a, H>(&'a H, &'a [Vec<u8>]);
    impl<H: TreeHasher> SubtreeSource for Leaves<'_, H> {
        type Error = ();
        fn perfect(&self, level: u32, index: u64) -> Result<Hash, ()> {
            let lo = (index << level) as usize;
            let hi = lo + (1usize << level);
            assert!(hi <= self.1.len(), "asked for a subtree beyond the tree");
            Ok(reference_root(self.0, &self.1[lo..hi]))
        }
    }

    fn leaves(n: usize) -> Vec<Vec<u8>> {
        (0..n).map(|i| format!("leaf {i}").into_bytes()).collect()
    }

    fn vecs(p: &[Hash]) -> Vec<Vec<u8>> {
        p.iter().map(|h| h.to_vec()).collect()
    }

    fn check_against_reference<H: TreeHasher>(h: &H, n: usize, m: usize, old: usize) {
        let data = leaves(n);
        let src = Leaves(h, &data);
        let root = reference_root(h, &data);
        let mut cr = CompactRange::new();
        for d in &data {
            cr.push(h, h.leaf(d), |_, _, _| {});
        }
        assert_eq!(cr.root(h), root, "compact range root, n={n}");
        assert_eq!(range_hash(h, &src, 0, n as u64).unwrap(), root);
        assert_eq!(CompactRange::load(&src, n as u64).unwrap(), cr);
        let path = inclusion_proof(h, &src, m as u64, n as u64).unwrap();
        assert_eq!(path, reference_path(h, m, &data), "path m={m} n={n}");
        verify_inclusion(
            h,
            m as u64,
            n as u64,
            &h.leaf(&data[m]),
            &vecs(&path),
            &root,
        )
        .unwrap();
        let cons = consistency_proof(h, &src, old as u64, n as u64).unwrap();
        assert_eq!(cons, reference_subproof(h, old, &data, true));
        let old_root = reference_root(h, &data[..old]);
        verify_consistency(h, old as u64, n as u64, &vecs(&cons), &old_root, &root).unwrap();
    }

    #[test]
    fn small_trees_match_reference_for_both_hashers() {
        for n in 1..=40 {
            for m in 0..n {
                check_against_reference(&Sha256Hasher, n, m, m + 1);
                check_against_reference(&Blake3Hasher, n, m, m + 1);
            }
        }
    }

    #[test]
    fn empty_root_is_sha256_of_nothing() {
        assert_eq!(
            to_hex(&Sha256Hasher.empty()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn compact_range_reports_completed_nodes() {
        let h = Sha256Hasher;
        let mut seen = vec![];
        let mut cr = CompactRange::new();
        for i in 0..8u8 {
            cr.push(&h, h.leaf(&[i]), |l, i, _| seen.push((l, i)));
        }
        assert_eq!(
            seen,
            vec![(1, 0), (1, 1), (2, 0), (1, 2), (1, 3), (2, 1), (3, 0)]
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        #[test]
        fn proofs_verify_and_altered_proofs_fail(n in 1usize..300, m_seed: usize, old_seed: usize, flip: usize) {
            let h = Sha256Hasher;
            let m = m_seed % n;
            let old = 1 + old_seed % n;
            check_against_reference(&h, n, m, old);
            check_against_reference(&Blake3Hasher, n, m, old);

            let data = leaves(n);
            let src = Leaves(&h, &data);
            let root = reference_root(&h, &data);
            let path = vecs(&inclusion_proof(&h, &src, m as u64, n as u64).unwrap());
            let leaf = h.leaf(&data[m]);
            if !path.is_empty() {
                let mut bad = path.clone();
                let i = flip % bad.len();
                bad[i][flip % 32] ^= 1 << (flip % 8);
                prop_assert!(verify_inclusion(&h, m as u64, n as u64, &leaf, &bad, &root).is_err());
                let mut short = path.clone();
                short.pop();
                prop_assert!(verify_inclusion(&h, m as u64, n as u64, &leaf, &short, &root).is_err());
            }
            let mut long = path.clone();
            long.push(vec![0; 32]);
            prop_assert!(verify_inclusion(&h, m as u64, n as u64, &leaf, &long, &root).is_err());
            if n > 1 {
                let other = (m + 1) % n;
                prop_assert!(verify_inclusion(&h, other as u64, n as u64, &leaf, &path, &root).is_err());
            }
            let old_root = reference_root(&h, &data[..old]);
            let cons = vecs(&consistency_proof(&h, &src, old as u64, n as u64).unwrap());
            if !cons.is_empty() {
                let mut bad = cons.clone();
                let i = flip % bad.len();
                bad[i][flip % 32] ^= 1 << (flip % 8);
                prop_assert!(verify_consistency(&h, old as u64, n as u64, &bad, &old_root, &root).is_err());
            }
            if old < n {
                let mut wrong_old = old_root;
                wrong_old[0] ^= 1;
                prop_assert!(verify_consistency(&h, old as u64, n as u64, &cons, &wrong_old, &root).is_err());
            }
        }
    }

    /// Proof elements and hashes: mostly 32 bytes, sometimes another length.
    fn bytes() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            6 => proptest::collection::vec(any::<u8>(), 32),
            1 => proptest::collection::vec(any::<u8>(), 0..40),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        /// Verification takes untrusted index, sizes, hashes and paths: it never panics on
        /// them, and checks its preconditions first.
        #[test]
        fn verification_never_panics_on_any_input(
            index in edge_u64(),
            size1 in edge_u64(),
            size2 in edge_u64(),
            leaf in bytes(),
            root1 in bytes(),
            root2 in bytes(),
            path in proptest::collection::vec(bytes(), 0..70),
        ) {
            let r = verify_inclusion(&Sha256Hasher, index, size2, &leaf, &path, &root2);
            if index >= size2 {
                prop_assert_eq!(r, Err(ProofError::IndexOutOfRange { index, size: size2 }));
            }
            let r = verify_consistency(&Sha256Hasher, size1, size2, &path, &root1, &root2);
            if size1 > size2 {
                prop_assert_eq!(r, Err(ProofError::SizesReversed { old: size1, new: size2 }));
            } else if size1 == 0 {
                prop_assert_eq!(r, Err(ProofError::EmptyOldTree));
            }
        }

        /// Real proofs checked against any other index and sizes: no panic either. (Some
        /// other pairs do verify: the path of leaf 2 of 3 is also that of leaf 1 of 2.)
        #[test]
        fn real_paths_with_any_sizes_never_panic(
            n in 1usize..200,
            m_seed: usize,
            old_seed: usize,
            index in edge_u64(),
            size1 in edge_u64(),
            size2 in edge_u64(),
        ) {
            let h = Sha256Hasher;
            let (m, old) = (m_seed % n, 1 + old_seed % n);
            let data = leaves(n);
            let src = Leaves(&h, &data);
            let root = reference_root(&h, &data);
            let old_root = reference_root(&h, &data[..old]);
            let path = vecs(&inclusion_proof(&h, &src, m as u64, n as u64).unwrap());
            let leaf = h.leaf(&data[m]);
            let _ = verify_inclusion(&h, index, size2, &leaf, &path, &root);
            let _ = verify_inclusion(&h, m as u64, size2, &leaf, &path, &root);
            let _ = verify_inclusion(&h, index, n as u64, &leaf, &path, &root);
            let cons = vecs(&consistency_proof(&h, &src, old as u64, n as u64).unwrap());
            let _ = verify_consistency(&h, size1, size2, &cons, &old_root, &root);
            let _ = verify_consistency(&h, old as u64, size2, &cons, &old_root, &root);
            let _ = verify_consistency(&h, size1, n as u64, &cons, &old_root, &root);
        }
    }
}
