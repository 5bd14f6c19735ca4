//! A ledger entry, its canonical encoding and its chain hash.
//!
//! Canonical encoding (format version 1): postcard 1.x of [`Entry`], fields in declaration
//! order. postcard's wire format is frozen and published
//! (<https://postcard.jamesmunns.com/wire-format>): integers are LEB128 varints (signed ones
//! zig-zag), strings and byte strings are a varint length then the bytes, `Option` is a 0/1
//! tag, enums a varint variant index, fixed arrays their bytes with no length. Decoding
//! refuses trailing bytes, so one entry has exactly one encoding.
//!
//! Worked example (the known-answer test below): the event entry of seq 0 of a ledger
//! starts `01 00 <32 bytes prev> <32 bytes raw hash> 00 ...`: version 1, seq 0 as a varint,
//! the genesis link, the raw record's BLAKE3 hash, payload variant 0 (event).
//!
//! Chain hash = BLAKE3 `derive_key(CHAIN_CONTEXT)` over the canonical bytes. Since those
//! bytes hold the seq, the previous chain hash, the event and the raw record's hash, the
//! chain hash covers all four (invariant 2). The Merkle leaf is SHA-256(0x00 || canonical
//! bytes) (invariant 3).

use std::sync::LazyLock;

use blake3::hazmat::{hash_derive_key_context, ContextKey, HasherExt as _};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::event::{Event, Timestamp};
use crate::tlog::merkle::Hash;

pub const FORMAT_VERSION: u8 = 1;
pub const CHAIN_CONTEXT: &str = "auditledger 2026-11 entry chain hash v1";
pub const GENESIS_CONTEXT: &str = "auditledger 2026-11 genesis link v1";
pub const RAW_CONTEXT: &str = "auditledger 2026-11 raw record v1";
pub const DEDUP_CONTEXT: &str = "auditledger 2026-11 dedup key v1";

/// What an entry records. Variant order is part of the format: only append new variants.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Payload {
    /// A normalised event from a source.
    Event(Event),
    /// The signing key changed. `statement` is what both keys signed (see `keys`).
    KeyRotation {
        old_key: String,
        new_key: String,
        #[serde(with = "sig_b64")]
        old_signature: [u8; 64],
        #[serde(with = "sig_b64")]
        new_signature: [u8; 64],
        at: Timestamp,
    },
    /// A raw record's bytes were removed (e.g. an erasure request). Its hash stays in the
    /// chain, so verification still passes.
    Redaction {
        #[serde(with = "hash_hex")]
        raw_hash: Hash,
        reason: String,
        at: Timestamp,
    },
    /// Where a live intake stream (`pull`) has read up to: committed in the same commit as
    /// the events it covers, so a restart resumes exactly after them. `position` is the
    /// vendor's own cursor (a next-page URL, a watermark), never a credential.
    Cursor {
        stream: String,
        position: String,
        at: Timestamp,
    },
}

/// One entry. Field order is the canonical encoding order: do not reorder.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub version: u8,
    pub seq: u64,
    #[serde(with = "hash_hex")]
    pub prev: Hash,
    /// BLAKE3 (derive_key RAW_CONTEXT) of the raw source record; all zero when there is none.
    #[serde(with = "hash_hex")]
    pub raw_hash: Hash,
    pub payload: Payload,
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum DecodeError {
    #[error("entry bytes do not decode: {0}")]
    Postcard(String),
    #[error("entry has {0} trailing bytes")]
    Trailing(usize),
    #[error("entry format version {0} is not supported (expected {FORMAT_VERSION})")]
    Version(u8),
    #[error("entry bytes are not in canonical form (they re-encode differently)")]
    NotCanonical,
}

impl Entry {
    // postcard into a Vec fails only when a sequence's length is unknown or a Serialize
    // impl fails: every field here is a number, string, byte array, fixed tuple or a map
    // (length known), and the custom serializers (`hash_hex`, `sig_b64`, `Timestamp`,
    // `EventKind`) cannot fail.
    #[allow(clippy::expect_used)]
    pub fn encode(&self) -> Vec<u8> {
        postcard::to_stdvec(self).expect("entries always encode")
    }

    /// The canonical bytes of the entry whose payload is already encoded as `payload`
    /// (by [`encode_event_payload`]): the same bytes as [`Entry::encode`] (tested, for
    /// every length of the seq's varint), since postcard writes a struct as its fields in
    /// order. Staging assembles entries so, with
    /// their real `prev`, in the chain's own pass.
    #[allow(clippy::expect_used)]
    pub fn encode_with_payload(seq: u64, prev: &Hash, raw_hash: &Hash, payload: &[u8]) -> Vec<u8> {
        // The version byte, the seq's varint (at most 10 bytes), two hashes.
        let out = Vec::with_capacity(1 + 10 + 64 + payload.len());
        // Same invariant as `encode`: a byte and a u64 always encode.
        let mut out = postcard::to_extend(&(FORMAT_VERSION, seq), out).expect("integers encode");
        out.extend_from_slice(prev);
        out.extend_from_slice(raw_hash);
        out.extend_from_slice(payload);
        out
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let (entry, rest): (Entry, &[u8]) =
            postcard::take_from_bytes(bytes).map_err(|e| DecodeError::Postcard(e.to_string()))?;
        if !rest.is_empty() {
            return Err(DecodeError::Trailing(rest.len()));
        }
        if entry.version != FORMAT_VERSION {
            return Err(DecodeError::Version(entry.version));
        }
        // postcard accepts overlong varints (e.g. `80 00` for 0): one entry must have
        // exactly one encoding, or two byte strings could carry the same entry.
        if !encodes_to(&entry, bytes) {
            return Err(DecodeError::NotCanonical);
        }
        Ok(entry)
    }

    pub fn event(&self) -> Option<&Event> {
        match &self.payload {
            Payload::Event(e) => Some(e),
            _ => None,
        }
    }
}

/// Whether `value` encodes to exactly `bytes`, compared as postcard writes, with no copy:
/// the canonical check every decode makes (an allocated re-encoding was 9% of `verify`).
fn encodes_to<T: Serialize>(value: &T, bytes: &[u8]) -> bool {
    /// A postcard output that only compares with the bytes still expected.
    struct SameAs<'a>(&'a [u8]);
    impl postcard::ser_flavors::Flavor for SameAs<'_> {
        type Output = bool;
        fn try_extend(&mut self, data: &[u8]) -> postcard::Result<()> {
            let (head, rest) = self
                .0
                .split_at_checked(data.len())
                .ok_or(postcard::Error::SerializeBufferFull)?;
            // Most pieces are a varint or a short string: a call to `memcmp` for each was
            // 5% of `verify`'s CPU, more than comparing them here.
            let same = if data.len() <= 32 {
                head.iter().zip(data).fold(0, |diff, (a, b)| diff | (a ^ b)) == 0
            } else {
                head == data
            };
            if !same {
                return Err(postcard::Error::SerializeBufferFull);
            }
            self.0 = rest;
            Ok(())
        }
        fn try_push(&mut self, byte: u8) -> postcard::Result<()> {
            // Most pushes are one varint byte: a slice compare per byte cost 5% of `verify`.
            match self.0.split_first() {
                Some((&expected, rest)) if expected == byte => {
                    self.0 = rest;
                    Ok(())
                }
                _ => Err(postcard::Error::SerializeBufferFull),
            }
        }
        fn finalize(self) -> postcard::Result<bool> {
            Ok(self.0.is_empty())
        }
    }
    postcard::serialize_with_flavor(value, SameAs(bytes)).unwrap_or(false)
}

/// The canonical bytes of `Payload::Event(event)`, without cloning the event: the part of
/// an event entry that needs neither its seq nor the chain, so it can be encoded ahead, on
/// the thread that read the record (see [`Entry::encode_with_payload`]).
#[allow(clippy::expect_used)]
pub fn encode_event_payload(event: &Event) -> Vec<u8> {
    struct EventPayload<'a>(&'a Event);
    impl Serialize for EventPayload<'_> {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            // Variant 0, named as `Payload`'s derive names it: a test holds the two equal.
            s.serialize_newtype_variant("Payload", 0, "event", self.0)
        }
    }
    // Same invariant as `Entry::encode`: events always encode.
    postcard::to_stdvec(&EventPayload(event)).expect("events always encode")
}

/// A BLAKE3 `derive_key` hasher for a context whose key was hashed once. The output is
/// exactly `Hasher::new_derive_key(context)`'s; that constructor hashes the context string
/// on every call, one compression more than a 232-byte chain hash's four (and half the
/// work of a de-duplication key).
fn derive_key_hasher(context_key: &LazyLock<ContextKey>) -> blake3::Hasher {
    blake3::Hasher::new_from_context_key(context_key)
}

static CHAIN_KEY: LazyLock<ContextKey> = LazyLock::new(|| hash_derive_key_context(CHAIN_CONTEXT));
static RAW_KEY: LazyLock<ContextKey> = LazyLock::new(|| hash_derive_key_context(RAW_CONTEXT));
static DEDUP_KEY: LazyLock<ContextKey> = LazyLock::new(|| hash_derive_key_context(DEDUP_CONTEXT));

pub fn chain_hash(canonical: &[u8]) -> Hash {
    let mut h = derive_key_hasher(&CHAIN_KEY);
    h.update(canonical);
    h.finalize().into()
}

pub fn genesis_link(ledger_id: &[u8; 16]) -> Hash {
    let mut h = blake3::Hasher::new_derive_key(GENESIS_CONTEXT);
    h.update(ledger_id);
    h.finalize().into()
}

pub fn raw_hash(raw: &[u8]) -> Hash {
    let mut h = raw_hasher();
    h.update(raw);
    h.finalize().into()
}

/// [`raw_hash`] of each record, many at once (see `hash_many`).
pub fn raw_hashes(raws: &[&[u8]]) -> Vec<Hash> {
    super::hash_many::derive_key_many(&RAW_KEY, raws)
}

/// [`chain_hash`] of each entry's canonical bytes, many at once (see `hash_many`).
pub fn chain_hashes(canonicals: &[&[u8]]) -> Vec<Hash> {
    super::hash_many::derive_key_many(&CHAIN_KEY, canonicals)
}

/// The hasher `raw_hash` uses, for callers that stream a large raw record.
pub fn raw_hasher() -> blake3::Hasher {
    derive_key_hasher(&RAW_KEY)
}

/// Whether two raw records hold the same content: the same bytes, or the same JSON value
/// (keys in any order, any whitespace), or the same text but for trailing line ends. Two
/// deliveries of one event (a hook body and an API page) differ only in this way.
pub fn same_content(a: &[u8], b: &[u8]) -> bool {
    if a == b || a.trim_ascii_end() == b.trim_ascii_end() {
        return true;
    }
    match (
        serde_json::from_slice::<serde_json::Value>(a),
        serde_json::from_slice::<serde_json::Value>(b),
    ) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

/// The de-duplication key: the source's own event id when it has one, else the raw hash.
pub fn dedup_key(event: &Event, raw_hash: &Hash) -> Hash {
    dedup_key_of(&event.source, event.source_id.as_deref(), raw_hash)
}

/// [`dedup_key`] from the fields it covers.
pub fn dedup_key_of(source: &str, source_id: Option<&str>, raw_hash: &Hash) -> Hash {
    let mut h = derive_key_hasher(&DEDUP_KEY);
    match source_id {
        Some(id) => {
            h.update(b"id\0");
            h.update(source.as_bytes());
            h.update(b"\0");
            h.update(id.as_bytes());
        }
        None => {
            h.update(b"raw\0");
            h.update(raw_hash);
        }
    }
    h.finalize().into()
}

/// What `verify` needs of an entry, read without building owned values: an event entry
/// is decoded into borrowed fields (the other kinds, which are rare, fully), and the bytes
/// are still proven canonical by re-encoding.
pub struct EntryView<'a> {
    pub seq: u64,
    pub prev: Hash,
    pub raw_hash: Hash,
    /// `(source, source_id)` of an event entry; `None` for rotations and redactions.
    pub event_ids: Option<(&'a str, Option<&'a str>)>,
    /// The payload of a rotation or redaction entry.
    pub other: Option<Payload>,
}

#[derive(Serialize, Deserialize)]
struct EventRef<'a> {
    #[serde(borrow)]
    source: &'a str,
    #[serde(borrow)]
    source_id: Option<&'a str>,
    kind: crate::event::EventKind,
    #[serde(borrow)]
    subject: &'a str,
    #[serde(borrow)]
    account: Option<&'a str>,
    #[serde(borrow)]
    actor: Option<&'a str>,
    occurred_at: Timestamp,
    #[serde(borrow)]
    original_time: &'a str,
    /// A map on the wire (length, then key and value pairs), kept in wire order so the
    /// canonical check sees what was written.
    #[serde(borrow)]
    attrs: Vec<(&'a str, &'a str)>,
}

impl<'a> EntryView<'a> {
    pub fn decode(bytes: &'a [u8]) -> Result<Self, DecodeError> {
        let postcard_error = |e: postcard::Error| DecodeError::Postcard(e.to_string());
        // An entry is its version and seq, its two hashes (32 bytes each, no length), its
        // payload's variant, then the payload. The hashes are read as they stand: decoding
        // and re-encoding them byte by byte cost 4% of `verify`.
        let ((version, seq), after_seq): ((u8, u64), _) =
            postcard::take_from_bytes(bytes).map_err(postcard_error)?;
        let (hashes, after_hashes) = after_seq
            .split_at_checked(64)
            .ok_or_else(|| DecodeError::Postcard("cut short in its hashes".into()))?;
        let (variant, payload): (u32, _) =
            postcard::take_from_bytes(after_hashes).map_err(postcard_error)?;
        if variant != 0 {
            let e = Entry::decode(bytes)?;
            return Ok(EntryView {
                seq: e.seq,
                prev: e.prev,
                raw_hash: e.raw_hash,
                event_ids: None,
                other: Some(e.payload),
            });
        }
        let (event, rest): (EventRef<'a>, &[u8]) =
            postcard::take_from_bytes(payload).map_err(postcard_error)?;
        if !rest.is_empty() {
            return Err(DecodeError::Trailing(rest.len()));
        }
        if version != FORMAT_VERSION {
            return Err(DecodeError::Version(version));
        }
        // A map is canonical only with its keys strictly increasing (a `BTreeMap`).
        let sorted = event.attrs.windows(2).all(|w| match w {
            [a, b] => a.0 < b.0,
            _ => true,
        });
        let head = bytes
            .get(..bytes.len() - after_seq.len())
            .unwrap_or_default();
        if !sorted
            || !encodes_to(&(version, seq), head)
            || !encodes_to(&(variant, &event), after_hashes)
        {
            return Err(DecodeError::NotCanonical);
        }
        // `hashes` is 64 bytes long: both halves convert.
        let (prev, raw_hash) = hashes.split_at(32);
        Ok(EntryView {
            seq,
            prev: prev.try_into().unwrap_or_default(),
            raw_hash: raw_hash.try_into().unwrap_or_default(),
            event_ids: Some((event.source, event.source_id)),
            other: None,
        })
    }
}

/// 32-byte hashes as hex in JSON, as raw bytes in postcard.
mod hash_hex {
    use serde::{de, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(h: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.serialize_str(&crate::tlog::merkle::to_hex(h))
        } else {
            serde::Serialize::serialize(h, s)
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        if d.is_human_readable() {
            let text = String::deserialize(d)?;
            crate::tlog::merkle::from_hex32(&text)
                .ok_or_else(|| de::Error::custom("expected 64 hex digits"))
        } else {
            <[u8; 32]>::deserialize(d)
        }
    }
}

/// 64-byte signatures: base64 in JSON, a length-less byte tuple in postcard.
mod sig_b64 {
    use base64::{engine::general_purpose::STANDARD, Engine};
    use serde::{de, ser::SerializeTuple, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(sig: &[u8; 64], s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.serialize_str(&STANDARD.encode(sig))
        } else {
            let mut t = s.serialize_tuple(64)?;
            for b in sig {
                t.serialize_element(b)?;
            }
            t.end()
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 64], D::Error> {
        if d.is_human_readable() {
            let text = String::deserialize(d)?;
            let bytes = STANDARD.decode(text).map_err(de::Error::custom)?;
            bytes
                .try_into()
                .map_err(|_| de::Error::custom("expected a 64-byte signature"))
        } else {
            struct V;
            impl<'de> de::Visitor<'de> for V {
                type Value = [u8; 64];
                fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                    f.write_str("64 bytes")
                }
                fn visit_seq<A: de::SeqAccess<'de>>(
                    self,
                    mut seq: A,
                ) -> Result<[u8; 64], A::Error> {
                    let mut out = [0u8; 64];
                    for (i, slot) in out.iter_mut().enumerate() {
                        *slot = seq
                            .next_element()?
                            .ok_or_else(|| de::Error::invalid_length(i, &self))?;
                    }
                    Ok(out)
                }
            }
            d.deserialize_tuple(64, V)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::event::EventKind;
    use crate::tlog::merkle::to_hex;
    use std::collections::BTreeMap;

    fn sample() -> Entry {
        let event = Event {
            source: "okta".into(),
            source_id: Some("evt-1".into()),
            kind: EventKind::AccountDeactivated,
            subject: "zoe@acme.example".into(),
            account: None,
            actor: Some("admin@acme.example".into()),
            occurred_at: Timestamp(1_773_939_900_000_000),
            original_time: "2026-03-19T17:05:00Z".into(),
            attrs: BTreeMap::new(),
        };
        Entry {
            version: FORMAT_VERSION,
            seq: 0,
            prev: genesis_link(&[7u8; 16]),
            raw_hash: raw_hash(b"{}"),
            payload: Payload::Event(event),
        }
    }

    const CHAIN_KAT: &str = "de1c7ec6ef42bbe56155ed20fdd56dddc2f093adde5b4f1558ba14a2296fc5f9";

    /// Known-answer test: pins the canonical bytes and both hashes of one entry. If this
    /// fails, the format changed: bump FORMAT_VERSION instead of updating the constants.
    #[test]
    fn canonical_encoding_known_answer() {
        let e = sample();
        let bytes = e.encode();
        assert_eq!(&bytes[..2], &[0x01, 0x00]);
        assert_eq!(&bytes[2..34], &e.prev);
        assert_eq!(&bytes[34..66], &e.raw_hash);
        assert_eq!(bytes[66], 0, "payload variant 0 = event");
        assert_eq!(&bytes[67..72], b"\x04okta");
        assert_eq!(
            to_hex(&bytes),
            concat!(
                "01",                                                               // version
                "00",                                                               // seq 0
                "edff62eed3a5db09f583fb2a257cae7c5160e63deaee35379b1440c16472b024", // prev (genesis)
                "e98778be12ab3c6a56e8ec36130c43051cf980f6c7d98c4c70d4e69045db1eaf", // raw hash
                "00",                                         // payload: event
                "046f6b7461",                                 // source "okta"
                "01056576742d31",                             // source_id Some("evt-1")
                "136163636f756e742e6465616374697661746564",   // kind
                "107a6f654061636d652e6578616d706c65",         // subject
                "00",                                         // account None
                "011261646d696e4061636d652e6578616d706c65",   // actor Some(..)
                "809cbd99f2d8a606",                           // occurred_at, zig-zag varint
                "14323032362d30332d31395431373a30353a30305a", // original_time
                "00",                                         // attrs: empty map
            ),
            "the canonical encoding changed: bump FORMAT_VERSION instead of editing this"
        );
        assert_eq!(
            to_hex(&chain_hash(&bytes)),
            CHAIN_KAT,
            "the chain hash changed: bump FORMAT_VERSION instead of editing this"
        );
    }

    #[test]
    fn decode_refuses_trailing_bytes_and_other_versions() {
        let e = sample();
        let mut bytes = e.encode();
        assert_eq!(Entry::decode(&bytes).unwrap(), e);
        bytes.push(0);
        assert_eq!(Entry::decode(&bytes), Err(DecodeError::Trailing(1)));
        let mut v2 = e.clone();
        v2.version = 2;
        assert_eq!(Entry::decode(&v2.encode()), Err(DecodeError::Version(2)));
    }

    #[test]
    fn an_entry_assembled_from_its_encoded_payload_is_the_canonical_entry() {
        let mut e = sample();
        if let Payload::Event(ev) = &mut e.payload {
            ev.attrs.insert("reason".into(), "offboarded".into());
        }
        let Payload::Event(event) = &e.payload else {
            unreachable!()
        };
        let payload = encode_event_payload(event);
        assert_eq!(payload, postcard::to_stdvec(&e.payload).unwrap());
        for seq in [0, 1, 127, 128, 16_383, 16_384, 1 << 35, u64::MAX] {
            let e = Entry { seq, ..e.clone() };
            let assembled = Entry::encode_with_payload(seq, &e.prev, &e.raw_hash, &payload);
            assert_eq!(assembled, e.encode(), "seq {seq}");
            assert_eq!(Entry::decode(&assembled).unwrap(), e);
        }
    }

    #[test]
    fn the_borrowed_view_reads_what_the_owned_decode_reads_and_refuses_the_same() {
        let mut e = sample();
        if let Payload::Event(ev) = &mut e.payload {
            ev.attrs.insert("b".into(), "2".into());
            ev.attrs.insert("a".into(), "1".into());
        }
        let bytes = e.encode();
        let v = EntryView::decode(&bytes).unwrap();
        assert_eq!((v.seq, v.prev, v.raw_hash), (e.seq, e.prev, e.raw_hash));
        assert_eq!(v.event_ids, Some(("okta", Some("evt-1"))));
        // Keys out of order: the same fields, not the canonical bytes.
        let at = bytes.windows(4).position(|w| w == b"\x01a\x011").unwrap();
        let mut swapped = bytes.clone();
        swapped[at..at + 8].copy_from_slice(b"\x01b\x012\x01a\x011");
        assert!(Entry::decode(&swapped).is_err());
        assert!(matches!(
            EntryView::decode(&swapped),
            Err(DecodeError::NotCanonical)
        ));
        let mut overlong = vec![bytes[0], 0x80, 0x00];
        overlong.extend_from_slice(&bytes[2..]);
        assert!(EntryView::decode(&overlong).is_err());
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert!(EntryView::decode(&trailing).is_err());
        let rotation = Entry {
            payload: Payload::Redaction {
                raw_hash: [1; 32],
                reason: "r".into(),
                at: Timestamp(0),
            },
            ..sample()
        };
        let rb = rotation.encode();
        let v = EntryView::decode(&rb).unwrap();
        assert!(v.event_ids.is_none());
        assert_eq!(v.other, Some(rotation.payload));
    }

    #[test]
    fn both_decoders_refuse_an_overlong_varint_in_the_payload() {
        let e = Entry { seq: 5, ..sample() };
        let bytes = e.encode();
        // Version, one-byte seq, two hashes: then the variant (0) and the source's length.
        let variant_at = 1 + 1 + 64;
        assert_eq!(bytes[variant_at], 0);
        let source_len_at = variant_at + 1;
        assert_eq!(bytes[source_len_at], 4, "the source is \"okta\"");
        for (at, overlong) in [(variant_at, [0x80u8, 0x00]), (source_len_at, [0x84, 0x00])] {
            let mut bad = bytes[..at].to_vec();
            bad.extend_from_slice(&overlong);
            bad.extend_from_slice(&bytes[at + 1..]);
            assert_eq!(
                Entry::decode(&bad),
                Err(DecodeError::NotCanonical),
                "at {at}"
            );
            assert!(
                matches!(EntryView::decode(&bad), Err(DecodeError::NotCanonical)),
                "at {at}"
            );
        }
        assert_eq!(EntryView::decode(&bytes).unwrap().seq, 5);
    }

    #[test]
    fn decode_refuses_an_overlong_varint() {
        let e = Entry { seq: 5, ..sample() };
        let bytes = e.encode();
        assert_eq!(bytes[1], 5, "seq 5 is one varint byte");
        // The same seq as a two-byte varint: postcard reads it, we must not.
        let mut overlong = vec![bytes[0], 0x85, 0x00];
        overlong.extend_from_slice(&bytes[2..]);
        assert_eq!(Entry::decode(&overlong), Err(DecodeError::NotCanonical));
        assert_eq!(Entry::decode(&bytes).unwrap(), e);
    }

    #[test]
    fn hashers_from_cached_context_keys_equal_derive_key() {
        let data = vec![0x5a; 1500];
        let derive = |context: &str, d: &[u8]| -> Hash {
            let mut h = blake3::Hasher::new_derive_key(context);
            h.update(d);
            h.finalize().into()
        };
        for len in [0, 1, 64, 232, 525, 1024, 1025, 1500] {
            let d = &data[..len];
            assert_eq!(
                chain_hash(d),
                derive(CHAIN_CONTEXT, d),
                "chain, {len} bytes"
            );
            assert_eq!(raw_hash(d), derive(RAW_CONTEXT, d), "raw, {len} bytes");
        }
        let mut by_id = b"id\0okta\0".to_vec();
        by_id.extend_from_slice(b"evt-1");
        assert_eq!(
            dedup_key_of("okta", Some("evt-1"), &[0; 32]),
            derive(DEDUP_CONTEXT, &by_id)
        );
        let mut by_raw = b"raw\0".to_vec();
        by_raw.extend_from_slice(&[7; 32]);
        assert_eq!(
            dedup_key_of("okta", None, &[7; 32]),
            derive(DEDUP_CONTEXT, &by_raw)
        );
    }

    #[test]
    fn domain_separation_gives_different_hashes() {
        let data = b"same bytes";
        assert_ne!(chain_hash(data), raw_hash(data));
        assert_ne!(raw_hash(data), <[u8; 32]>::from(blake3::hash(data)));
    }
}
