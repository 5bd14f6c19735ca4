//! Many short BLAKE3 `derive_key` hashes at once: the raw-record and chain hashes of every
//! frame read (`verify`, and `store::split_entry_records` for every other read) and the
//! raw hashes of a batch being appended or ingested.
//!
//! BLAKE3 is fast on long inputs because it compresses many chunks side by side with SIMD;
//! but a record of a few hundred bytes is one chunk, whose blocks chain one after another,
//! so hashed alone each 64-byte block costs a whole compression (about 94 ns on the bench
//! machine) while the vector units idle. The blake3 crate's own `hash_many`, the routine it
//! hashes the chunks of a long input with, compresses the same block of up to 16 messages
//! side by side (AVX-512, where blake3's build compiled its C code for it; else 8 with
//! AVX2, 4 with SSE4.1). Here it runs over all but the last block of messages with the
//! same number of blocks, and the last block of each (the one marked ROOT, and the only
//! one that may be partial) is compressed alone: a 525-byte raw record took about 0.2 us
//! instead of 0.8-0.9 us on the bench machine (AVX-512).
//!
//! Invariant: every hash equals `Hasher::new_from_context_key(key).update(m).finalize()`
//! (the tests compare every length from 0 to 1,100, and mixed batches); messages longer
//! than one chunk take that path. `blake3::platform` is public but hidden from the crate's
//! docs ("undocumented and unstable, for benchmarks only"), so Cargo.toml pins blake3 to
//! exactly 1.8.7: moving to another release is a deliberate change, which must pass these
//! tests (on every SIMD width the machine has) before it lands.

use blake3::hazmat::{ContextKey, HasherExt as _};
use blake3::platform::Platform;
use blake3::{IncrementCounter, BLOCK_LEN, CHUNK_LEN, OUT_LEN};

use crate::tlog::merkle::Hash;

// Domain flags from the BLAKE3 specification (section 2.1), fixed by the standard.
const CHUNK_START: u8 = 1;
const CHUNK_END: u8 = 1 << 1;
const ROOT: u8 = 1 << 3;
const DERIVE_KEY_MATERIAL: u8 = 1 << 6;

type Words = [u32; 8];

/// The blocks of a one-chunk message that precede its last, ROOT-flagged one.
fn leading_blocks(len: usize) -> usize {
    len.saturating_sub(1) / BLOCK_LEN
}

fn words(bytes: &[u8; 32]) -> Words {
    let mut w = [0u32; 8];
    for (word, b) in w.iter_mut().zip(bytes.chunks_exact(4)) {
        let mut le = [0u8; 4];
        le.copy_from_slice(b);
        *word = u32::from_le_bytes(le);
    }
    w
}

fn bytes(words: &Words) -> Hash {
    let mut out = [0u8; 32];
    for (b, word) in out.chunks_exact_mut(4).zip(words) {
        b.copy_from_slice(&word.to_le_bytes());
    }
    out
}

/// BLAKE3 `derive_key` (for the context whose key is `key`) of each message, in order.
pub fn derive_key_many(key: &ContextKey, messages: &[&[u8]]) -> Vec<Hash> {
    derive_key_many_on(Platform::detect(), key, messages)
}

/// [`derive_key_many`] with the SIMD width `platform` names (the tests try each).
fn derive_key_many_on(platform: Platform, key: &ContextKey, messages: &[&[u8]]) -> Vec<Hash> {
    let key_words = words(key);
    // Each message's chaining value after its leading blocks; `None` for those hashed alone.
    let mut cvs: Vec<Option<Words>> = messages
        .iter()
        .map(|m| (m.len() <= CHUNK_LEN).then_some(key_words))
        .collect();
    let mut order: Vec<(usize, usize)> = messages
        .iter()
        .enumerate()
        .filter(|(_, m)| m.len() <= CHUNK_LEN && leading_blocks(m.len()) > 0)
        .map(|(i, m)| (leading_blocks(m.len()), i))
        .collect();
    order.sort_unstable();
    let mut group: Vec<&[u8]> = Vec::new();
    let mut out: Vec<u8> = Vec::new();
    for run in order.chunk_by(|a, b| a.0 == b.0) {
        let Some(&(blocks, _)) = run.first() else {
            continue;
        };
        group.clear();
        group.extend(run.iter().filter_map(|&(_, i)| messages.get(i).copied()));
        out.clear();
        out.resize(group.len() * OUT_LEN, 0);
        let done = compress_leading(platform, &key_words, blocks, &group, &mut out);
        for (&(_, i), cv) in run.iter().zip(out.chunks_exact(OUT_LEN)) {
            if let Some(slot) = cvs.get_mut(i) {
                *slot = match (done, <&[u8; 32]>::try_from(cv)) {
                    (true, Ok(cv)) => Some(words(cv)),
                    _ => None,
                };
            }
        }
    }
    messages
        .iter()
        .zip(cvs)
        .map(|(m, cv)| {
            cv.and_then(|cv| finish(platform, cv, m))
                .unwrap_or_else(|| hash_alone(key, m))
        })
        .collect()
}

/// Compresses the first `blocks` blocks of every message side by side into `out`; false
/// (and `out` untouched) if `blocks` is out of range or a message is too short for it.
fn compress_leading(
    platform: Platform,
    key: &Words,
    blocks: usize,
    messages: &[&[u8]],
    out: &mut [u8],
) -> bool {
    fn run<const N: usize>(
        platform: Platform,
        key: &Words,
        messages: &[&[u8]],
        out: &mut [u8],
    ) -> bool {
        let Some(inputs) = messages
            .iter()
            .map(|m| m.first_chunk::<N>())
            .collect::<Option<Vec<&[u8; N]>>>()
        else {
            return false;
        };
        if out.len() < inputs.len() * OUT_LEN {
            return false;
        }
        platform.hash_many(
            &inputs,
            key,
            0,
            IncrementCounter::No,
            DERIVE_KEY_MATERIAL,
            CHUNK_START,
            0,
            out,
        );
        true
    }
    macro_rules! by_blocks {
        ($($n:literal)*) => {
            match blocks {
                $($n => run::<{ $n * BLOCK_LEN }>(platform, key, messages, out),)*
                _ => false,
            }
        };
    }
    // A chunk is 16 blocks, the last of which is never a leading one.
    by_blocks!(1 2 3 4 5 6 7 8 9 10 11 12 13 14 15)
}

/// Compresses a one-chunk message's last block onto `cv` as the root; `None` if the
/// message is longer than one chunk.
fn finish(platform: Platform, mut cv: Words, message: &[u8]) -> Option<Hash> {
    let lead = leading_blocks(message.len()) * BLOCK_LEN;
    let tail = message.get(lead..).filter(|t| t.len() <= BLOCK_LEN)?;
    let mut block = [0u8; BLOCK_LEN];
    block.get_mut(..tail.len())?.copy_from_slice(tail);
    let start = if lead == 0 { CHUNK_START } else { 0 };
    platform.compress_in_place(
        &mut cv,
        &block,
        tail.len() as u8,
        0,
        DERIVE_KEY_MATERIAL | start | CHUNK_END | ROOT,
    );
    Some(bytes(&cv))
}

fn hash_alone(key: &ContextKey, message: &[u8]) -> Hash {
    let mut h = blake3::Hasher::new_from_context_key(key);
    h.update(message);
    h.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use blake3::hazmat::hash_derive_key_context;
    use proptest::prelude::*;

    fn key() -> ContextKey {
        hash_derive_key_context("auditledger test of hash_many")
    }

    /// Every SIMD width this CPU runs, not only the one `detect` picks: another machine
    /// may take another.
    fn platforms() -> Vec<Platform> {
        // `detect` gives AVX-512 where the crate was built with it (no constructor of its
        // own exists without that build flag).
        #[allow(unused_mut)]
        let mut all = vec![Platform::portable(), Platform::detect()];
        #[cfg(target_arch = "x86_64")]
        {
            all.extend(Platform::sse2());
            all.extend(Platform::sse41());
            all.extend(Platform::avx2());
        }
        all
    }

    #[test]
    fn every_length_up_to_past_a_chunk_equals_the_plain_hasher() {
        let key = key();
        let data: Vec<u8> = (0..1100u32).map(|i| (i * 7 + 3) as u8).collect();
        let messages: Vec<&[u8]> = (0..=data.len()).map(|len| &data[..len]).collect();
        // Each length several times, so every group fills the widest SIMD lanes.
        let repeated: Vec<&[u8]> = messages.iter().flat_map(|m| [*m; 17]).collect();
        for platform in platforms() {
            let hashes = derive_key_many_on(platform, &key, &repeated);
            assert_eq!(hashes.len(), repeated.len());
            for (m, h) in repeated.iter().zip(&hashes) {
                assert_eq!(*h, hash_alone(&key, m), "{} bytes, {platform:?}", m.len());
            }
        }
        let hashes = derive_key_many(&key, &messages);
        // Against the public constructor too, not only the hazmat one.
        let mut h = blake3::Hasher::new_derive_key("auditledger test of hash_many");
        h.update(&data[..525]);
        assert_eq!(hashes[525], <Hash>::from(h.finalize()));
        assert!(derive_key_many(&key, &[]).is_empty());
    }

    proptest! {
        #[test]
        fn mixed_batches_equal_the_plain_hasher(
            messages in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..1300), 0..70)
        ) {
            let key = key();
            let refs: Vec<&[u8]> = messages.iter().map(Vec::as_slice).collect();
            let hashes = derive_key_many(&key, &refs);
            prop_assert_eq!(hashes.len(), refs.len());
            for (m, h) in refs.iter().zip(&hashes) {
                prop_assert_eq!(*h, hash_alone(&key, m));
            }
        }
    }
}
