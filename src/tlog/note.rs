//! C2SP signed notes (signed-note.md; reference golang.org/x/mod/sumdb/note) with Ed25519,
//! and the C2SP tlog-checkpoint body they carry.
//!
//! Invariants kept here:
//! - Key id = first 4 bytes (big-endian) of SHA-256(name || "\n" || 0x01 || public key).
//! - Verifier key string = `<name>+<8 hex of key id>+<base64(0x01 || public key)>`; signer
//!   key string (the key file) = `PRIVATE+KEY+<name>+<8 hex>+<base64(0x01 || seed)>`, the
//!   same as Go's `note.GenerateKey`, so Go's `note.NewSigner` can read our key files.
//! - A note is `text` (ending in a newline) + a blank line + one or more lines
//!   `— <name> <base64(key id || signature)>`; the signature covers `text` exactly. Text is
//!   split from signatures at the *last* blank line; control characters other than newline
//!   (so CR) are refused; names hold no spaces or `+`.
//! - Opening a note: unknown keys are ignored, a bad signature by a known key rejects the
//!   note, and at least one known key must have signed.
//!
//! A checkpoint body (C2SP tlog-checkpoint) is:
//! ```text
//! acme.example/auditledger/prod
//! 12
//! <base64 of the 32-byte RFC 6962 root>
//! time 2026-11-23T12:00:00Z
//! ```
//! The size has no leading zeros; the one extension line we write is `time`.

use std::fmt;

use base64::{engine::general_purpose::STANDARD as B64, Engine};
use ed25519_dalek::{Signature, Signer as _, SigningKey, Verifier as _, VerifyingKey};
use sha2::{Digest, Sha256};
use thiserror::Error;

use super::merkle::Hash;
use crate::event::Timestamp;

const ALG_ED25519: u8 = 1;
const SIG_PREFIX: &str = "\u{2014} ";

#[derive(Debug, Error, PartialEq, Eq)]
pub enum NoteError {
    #[error("malformed key: {0}")]
    MalformedKey(&'static str),
    #[error("malformed note: {0}")]
    Malformed(&'static str),
    #[error("invalid signature by known key {name}+{id:08x}")]
    InvalidSignature { name: String, id: u32 },
    #[error("no signature by a known key (signed by: {0})")]
    Unverified(String),
    #[error("malformed checkpoint: {0}")]
    Checkpoint(String),
}

/// True when `name` is a valid key name: non-empty, no whitespace, no `+`, and no control
/// character a note may not hold (see [`check_text`]): a name with one could sign notes that
/// no one can open, and a checkpoint whose origin held one could not be signed at all.
pub fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && !name.contains(char::is_whitespace)
        && !name.contains('+')
        && !name.contains(|c: char| c < ' ')
}

pub fn key_id(name: &str, public: &[u8; 32]) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update([ALG_ED25519]);
    h.update(public);
    let [a, b, c, d, ..]: [u8; 32] = h.finalize().into();
    u32::from_be_bytes([a, b, c, d])
}

/// The 32 key bytes of `0x01 || key`, the decoded key field of both key strings; `None` for
/// another algorithm byte or length (including no bytes at all).
fn ed25519_key_bytes(raw: &[u8]) -> Option<[u8; 32]> {
    match raw.split_first() {
        Some((&ALG_ED25519, key)) => key.try_into().ok(),
        _ => None,
    }
}

/// A public key that can check note signatures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteVerifier {
    pub name: String,
    pub id: u32,
    key: VerifyingKey,
}

impl NoteVerifier {
    pub fn new(name: &str, key: VerifyingKey) -> Result<Self, NoteError> {
        if !is_valid_name(name) {
            return Err(NoteError::MalformedKey(
                "name is empty or holds a space or '+'",
            ));
        }
        Ok(Self {
            name: name.to_string(),
            id: key_id(name, key.as_bytes()),
            key,
        })
    }

    /// Parses `<name>+<hex id>+<base64(0x01 || key)>`.
    pub fn parse(text: &str) -> Result<Self, NoteError> {
        let text = text.trim();
        let mut parts = text.splitn(3, '+');
        let (Some(name), Some(id_hex), Some(b64)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(NoteError::MalformedKey(
                "expected <name>+<8 hex digits>+<base64 key>",
            ));
        };
        if id_hex.len() != 8 {
            return Err(NoteError::MalformedKey("key id is not 8 hex digits"));
        }
        let id = u32::from_str_radix(id_hex, 16)
            .map_err(|_| NoteError::MalformedKey("key id is not 8 hex digits"))?;
        let raw = B64
            .decode(b64)
            .map_err(|_| NoteError::MalformedKey("key is not base64"))?;
        let public = ed25519_key_bytes(&raw).ok_or(NoteError::MalformedKey(
            "key is not 0x01 followed by 32 Ed25519 bytes",
        ))?;
        let key = VerifyingKey::from_bytes(&public)
            .map_err(|_| NoteError::MalformedKey("not a valid Ed25519 public key"))?;
        let v = Self::new(name, key)?;
        if v.id != id {
            return Err(NoteError::MalformedKey(
                "key id does not match name and key",
            ));
        }
        Ok(v)
    }

    pub fn public_bytes(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    pub fn verify(&self, msg: &[u8], sig: &[u8; 64]) -> bool {
        self.key.verify(msg, &Signature::from_bytes(sig)).is_ok()
    }
}

impl fmt::Display for NoteVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut raw = vec![ALG_ED25519];
        raw.extend_from_slice(self.key.as_bytes());
        write!(f, "{}+{:08x}+{}", self.name, self.id, B64.encode(raw))
    }
}

/// A private signing key. Its `Debug` never shows the key.
#[derive(Clone)]
pub struct NoteSigner {
    verifier: NoteVerifier,
    key: SigningKey,
}

impl fmt::Debug for NoteSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NoteSigner({} <redacted>)", self.verifier)
    }
}

impl NoteSigner {
    pub fn from_seed(name: &str, seed: [u8; 32]) -> Result<Self, NoteError> {
        let key = SigningKey::from_bytes(&seed);
        let verifier = NoteVerifier::new(name, key.verifying_key())?;
        Ok(Self { verifier, key })
    }

    /// Parses `PRIVATE+KEY+<name>+<hex id>+<base64(0x01 || seed)>`.
    pub fn parse(text: &str) -> Result<Self, NoteError> {
        let text = text.trim();
        let rest = text
            .strip_prefix("PRIVATE+KEY+")
            .ok_or(NoteError::MalformedKey(
                "signer key does not start with PRIVATE+KEY+",
            ))?;
        let mut parts = rest.splitn(3, '+');
        let (Some(name), Some(id_hex), Some(b64)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(NoteError::MalformedKey("signer key has too few fields"));
        };
        let raw = B64
            .decode(b64)
            .map_err(|_| NoteError::MalformedKey("signer key is not base64"))?;
        let seed = ed25519_key_bytes(&raw).ok_or(NoteError::MalformedKey(
            "signer key is not 0x01 followed by a 32-byte Ed25519 seed",
        ))?;
        let signer = Self::from_seed(name, seed)?;
        if format!("{:08x}", signer.verifier.id) != id_hex {
            return Err(NoteError::MalformedKey("signer key id does not match"));
        }
        Ok(signer)
    }

    pub fn generate(name: &str) -> Result<Self, NoteError> {
        let mut seed = [0u8; 32];
        getrandom::getrandom(&mut seed)
            .map_err(|_| NoteError::MalformedKey("the OS random source failed"))?;
        Self::from_seed(name, seed)
    }

    /// The key file text. Handle with care: it is the secret.
    pub fn to_secret_string(&self) -> String {
        let mut raw = vec![ALG_ED25519];
        raw.extend_from_slice(self.key.as_bytes());
        format!(
            "PRIVATE+KEY+{}+{:08x}+{}",
            self.verifier.name,
            self.verifier.id,
            B64.encode(raw)
        )
    }

    pub fn verifier(&self) -> &NoteVerifier {
        &self.verifier
    }

    pub fn sign_bytes(&self, msg: &[u8]) -> [u8; 64] {
        self.key.sign(msg).to_bytes()
    }

    /// One signature line for `text`, including its final newline.
    pub fn signature_line(&self, text: &str) -> String {
        let mut raw = self.verifier.id.to_be_bytes().to_vec();
        raw.extend_from_slice(&self.sign_bytes(text.as_bytes()));
        format!("{SIG_PREFIX}{} {}\n", self.verifier.name, B64.encode(raw))
    }
}

/// Signs `text` (which must end in a newline) with every signer, in order.
pub fn sign(text: &str, signers: &[&NoteSigner]) -> Result<String, NoteError> {
    check_text(text)?;
    let mut out = String::with_capacity(text.len() + 1 + 100 * signers.len());
    out.push_str(text);
    out.push('\n');
    for s in signers {
        out.push_str(&s.signature_line(text));
    }
    Ok(out)
}

fn check_text(text: &str) -> Result<(), NoteError> {
    if !text.ends_with('\n') {
        return Err(NoteError::Malformed("text does not end in a newline"));
    }
    if text.chars().any(|c| c < ' ' && c != '\n') {
        return Err(NoteError::Malformed(
            "control character other than newline (CRLF is refused)",
        ));
    }
    Ok(())
}

/// One signature line of a note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteSignature {
    pub name: String,
    pub id: u32,
    pub signature: Vec<u8>,
}

/// A note split into its text and signatures; nothing verified yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedNote {
    pub text: String,
    pub signatures: Vec<NoteSignature>,
}

pub fn parse_note(msg: &str) -> Result<ParsedNote, NoteError> {
    if msg.chars().any(|c| c < ' ' && c != '\n') {
        return Err(NoteError::Malformed(
            "control character other than newline (CRLF is refused)",
        ));
    }
    // The text keeps the newline that ends its last line; the blank line's is dropped.
    let (text, sigs) = msg
        .rsplit_once("\n\n")
        .ok_or(NoteError::Malformed("no blank line before the signatures"))?;
    let sigs = sigs.strip_suffix('\n').ok_or(NoteError::Malformed(
        "signature block does not end in a newline",
    ))?;
    let mut signatures = Vec::new();
    for line in sigs.split('\n') {
        let line = line.strip_prefix(SIG_PREFIX).ok_or(NoteError::Malformed(
            "signature line does not start with '\u{2014} '",
        ))?;
        let (name, b64) = line
            .split_once(' ')
            .ok_or(NoteError::Malformed("signature line has no space"))?;
        let raw = B64
            .decode(b64)
            .map_err(|_| NoteError::Malformed("signature is not base64"))?;
        // A 4-byte key id, then a signature of at least one byte.
        let (id, signature) = match raw.split_first_chunk::<4>() {
            Some((id, signature)) if is_valid_name(name) && !signature.is_empty() => {
                (u32::from_be_bytes(*id), signature)
            }
            _ => return Err(NoteError::Malformed("bad signature line")),
        };
        if signatures.len() >= 100 {
            return Err(NoteError::Malformed("more than 100 signatures"));
        }
        signatures.push(NoteSignature {
            name: name.to_string(),
            id,
            signature: signature.to_vec(),
        });
    }
    Ok(ParsedNote {
        text: format!("{text}\n"),
        signatures,
    })
}

/// Parses and verifies a note against `known` keys. Returns the note and the keys that
/// signed it (at least one).
pub fn open_note<'k>(
    msg: &str,
    known: &'k [NoteVerifier],
) -> Result<(ParsedNote, Vec<&'k NoteVerifier>), NoteError> {
    let note = parse_note(msg)?;
    let mut signed_by: Vec<&NoteVerifier> = Vec::new();
    for sig in &note.signatures {
        let Some(v) = known.iter().find(|k| k.name == sig.name && k.id == sig.id) else {
            continue;
        };
        if signed_by.iter().any(|s| std::ptr::eq(*s, v)) {
            continue;
        }
        let ok = <[u8; 64]>::try_from(sig.signature.as_slice())
            .map(|s| v.verify(note.text.as_bytes(), &s))
            .unwrap_or(false);
        if !ok {
            return Err(NoteError::InvalidSignature {
                name: v.name.clone(),
                id: v.id,
            });
        }
        signed_by.push(v);
    }
    if signed_by.is_empty() {
        let names: Vec<String> = note
            .signatures
            .iter()
            .map(|s| format!("{}+{:08x}", s.name, s.id))
            .collect();
        return Err(NoteError::Unverified(names.join(", ")));
    }
    Ok((note, signed_by))
}

/// The body of a C2SP tlog-checkpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
    /// Our one extension line: when it was signed.
    pub time: Option<Timestamp>,
}

impl Checkpoint {
    pub fn body(&self) -> String {
        let mut s = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            B64.encode(self.root)
        );
        if let Some(t) = self.time {
            s.push_str(&format!("time {t}\n"));
        }
        s
    }

    /// The checkpoint in a signed note, its signatures not checked: for a caller that
    /// checks them apart, or only reads a checkpoint it already trusts.
    pub fn parse_unverified(note: &str) -> Result<Self, NoteError> {
        parse_note(note).and_then(|n| Checkpoint::parse_body(&n.text))
    }

    pub fn parse_body(text: &str) -> Result<Self, NoteError> {
        let bad = |why: &str| NoteError::Checkpoint(why.to_string());
        let lines: Vec<&str> = text
            .strip_suffix('\n')
            .ok_or_else(|| bad("body does not end in a newline"))?
            .split('\n')
            .collect();
        let [origin, size_text, root_text, extensions @ ..] = lines.as_slice() else {
            return Err(bad("fewer than three lines"));
        };
        if origin.is_empty() {
            return Err(bad("empty origin line"));
        }
        if size_text.is_empty()
            || !size_text.bytes().all(|b| b.is_ascii_digit())
            || (size_text.len() > 1 && size_text.starts_with('0'))
        {
            return Err(bad("size is not a decimal number without leading zeros"));
        }
        let size = size_text
            .parse()
            .map_err(|_| bad("size does not fit in 64 bits"))?;
        let root: Hash = B64
            .decode(root_text)
            .ok()
            .and_then(|r| r.try_into().ok())
            .ok_or_else(|| bad("root is not base64 of 32 bytes"))?;
        let mut time = None;
        for ext in extensions {
            if ext.is_empty() {
                return Err(bad("empty extension line"));
            }
            if let Some(t) = ext.strip_prefix("time ") {
                time = Some(
                    Timestamp::parse_rfc3339(t).map_err(|_| bad("time line is not RFC 3339"))?,
                );
            }
        }
        Ok(Self {
            origin: origin.to_string(),
            size,
            root,
            time,
        })
    }

    /// The signed checkpoint note. Precondition: `origin` is a valid key name
    /// ([`is_valid_name`]), as every ledger origin is (`Ledger::init` checks it).
    //
    // The body ends in a newline and its other lines are the origin, decimal digits, base64
    // and an RFC 3339 time, so the one way `sign` can refuse it is a control character in
    // the origin, which a valid name cannot hold.
    // TODO: return Result (and drop this allow) when src/ledger/mod.rs, its caller, can change.
    #[allow(clippy::expect_used)]
    pub fn sign(&self, signers: &[&NoteSigner]) -> String {
        sign(&self.body(), signers).expect("a checkpoint body with a valid origin is note text")
    }

    /// Opens a signed checkpoint note with `known` keys and parses its body.
    pub fn open(msg: &str, known: &[NoteVerifier]) -> Result<(Self, Vec<String>), NoteError> {
        let (note, by) = open_note(msg, known)?;
        let cp = Self::parse_body(&note.text)?;
        Ok((cp, by.iter().map(|v| v.to_string()).collect()))
    }
}

/// Strategies for the properties that parsers and proof checks never panic (here, in
/// `proof` and in `merkle`): random edits of valid inputs, and edge-case sizes.
#[cfg(test)]
pub(crate) mod fuzz {
    use proptest::prelude::*;

    /// One edit; positions count chars and are taken modulo the length.
    #[derive(Clone, Debug)]
    enum Edit {
        Delete { at: usize, len: usize },
        Insert { at: usize, text: String },
        Replace { at: usize, text: String },
        Truncate { at: usize },
        Duplicate { at: usize, len: usize },
    }

    /// Text to put in: mostly characters the formats give a meaning to, sometimes any.
    fn fragment() -> impl Strategy<Value = String> {
        prop_oneof![
            3 => "[-+/=\\n\\r\\t \u{2014}a-zA-Z0-9{}\\[\\]\":,.\\x00]{0,8}",
            1 => any::<String>(),
        ]
    }

    fn edit() -> impl Strategy<Value = Edit> {
        prop_oneof![
            (any::<usize>(), 1usize..16).prop_map(|(at, len)| Edit::Delete { at, len }),
            (any::<usize>(), fragment()).prop_map(|(at, text)| Edit::Insert { at, text }),
            (any::<usize>(), fragment()).prop_map(|(at, text)| Edit::Replace { at, text }),
            any::<usize>().prop_map(|at| Edit::Truncate { at }),
            (any::<usize>(), 1usize..48).prop_map(|(at, len)| Edit::Duplicate { at, len }),
        ]
    }

    fn apply(valid: &str, edits: &[Edit]) -> String {
        let mut chars: Vec<char> = valid.chars().collect();
        for edit in edits {
            let n = chars.len();
            match edit {
                Edit::Delete { at, len } => {
                    let at = at % (n + 1);
                    chars.drain(at..(at + len).min(n));
                }
                Edit::Insert { at, text } => {
                    let at = at % (n + 1);
                    chars.splice(at..at, text.chars());
                }
                Edit::Replace { at, text } => {
                    let at = at % (n + 1);
                    let end = (at + text.chars().count().max(1)).min(n);
                    chars.splice(at..end, text.chars());
                }
                Edit::Truncate { at } => chars.truncate(at % (n + 1)),
                Edit::Duplicate { at, len } => {
                    let at = at % (n + 1);
                    let copy: Vec<char> = chars[at..(at + len).min(n)].to_vec();
                    chars.splice(at..at, copy);
                }
            }
        }
        chars.into_iter().collect()
    }

    /// `valid` with one to four random edits.
    pub(crate) fn mutated(valid: String) -> impl Strategy<Value = String> {
        proptest::collection::vec(edit(), 1..5).prop_map(move |edits| apply(&valid, &edits))
    }

    /// Sizes and indexes where off-by-one and overflow bugs live, and any u64.
    pub(crate) fn edge_u64() -> impl Strategy<Value = u64> {
        prop_oneof![
            0u64..300,
            (0u32..64, -1i64..=1).prop_map(|(bit, d)| (1u64 << bit).wrapping_add_signed(d)),
            (u64::MAX - 2)..=u64::MAX,
            any::<u64>(),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::fuzz::mutated;
    use super::*;
    use proptest::prelude::*;

    // Known-answer vectors of golang.org/x/mod/sumdb/note (note_test.go).
    const GO_SIGNER: &str =
        "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
    const GO_VERIFIER: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    const GO_TEXT: &str = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
    const GO_SIGNED: &str = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n\n\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

    #[test]
    fn go_known_answer_sign_and_open() {
        let signer = NoteSigner::parse(GO_SIGNER).unwrap();
        assert_eq!(signer.verifier().to_string(), GO_VERIFIER);
        assert_eq!(signer.to_secret_string(), GO_SIGNER);
        assert_eq!(sign(GO_TEXT, &[&signer]).unwrap(), GO_SIGNED);
        let v = NoteVerifier::parse(GO_VERIFIER).unwrap();
        let (note, by) = open_note(GO_SIGNED, std::slice::from_ref(&v)).unwrap();
        assert_eq!(note.text, GO_TEXT);
        assert_eq!(by[0].name, "PeterNeumann");
    }

    #[test]
    fn tampered_or_foreign_notes_are_refused() {
        let v = NoteVerifier::parse(GO_VERIFIER).unwrap();
        let known = std::slice::from_ref(&v);
        let altered = GO_SIGNED.replacen("answer", "Answer", 1);
        assert!(matches!(
            open_note(&altered, known),
            Err(NoteError::InvalidSignature { .. })
        ));
        let crlf = GO_SIGNED.replacen('\n', "\r\n", 1);
        assert!(matches!(
            open_note(&crlf, known),
            Err(NoteError::Malformed(_))
        ));
        let other = NoteSigner::from_seed("Other", [9; 32]).unwrap();
        let foreign = sign(GO_TEXT, &[&other]).unwrap();
        assert!(matches!(
            open_note(&foreign, known),
            Err(NoteError::Unverified(_))
        ));
        // An unknown extra signature is ignored.
        let both = sign(GO_TEXT, &[&other, &NoteSigner::parse(GO_SIGNER).unwrap()]).unwrap();
        assert!(open_note(&both, known).is_ok());
        assert!(open_note(GO_SIGNED.trim_end_matches('\n'), known).is_err());
    }

    #[test]
    fn checkpoint_body_round_trip_and_strictness() {
        let cp = Checkpoint {
            origin: "acme.example/auditledger/prod".into(),
            size: 12,
            root: [7; 32],
            time: Some(Timestamp::parse_rfc3339("2026-11-23T12:00:00Z").unwrap()),
        };
        let body = cp.body();
        assert_eq!(
            body,
            "acme.example/auditledger/prod\n12\nBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=\ntime 2026-11-23T12:00:00Z\n"
        );
        assert_eq!(Checkpoint::parse_body(&body).unwrap(), cp);
        assert!(Checkpoint::parse_body(&body.replace("\n12\n", "\n012\n")).is_err());
        assert!(Checkpoint::parse_body(&body.replace("\n12\n", "\n-1\n")).is_err());
        assert!(Checkpoint::parse_body("o\n1\nAAAA\n").is_err());
    }

    #[test]
    fn signer_debug_is_redacted() {
        let s = NoteSigner::from_seed("k", [1; 32]).unwrap();
        let dbg = format!("{s:?}");
        assert!(dbg.contains("redacted") && !dbg.contains("PRIVATE"));
    }

    /// `<name>+<id>+<base64 raw>`, the verifier key shape with any key field.
    fn verifier_string(name: &str, id: u32, raw: &[u8]) -> String {
        format!("{name}+{id:08x}+{}", B64.encode(raw))
    }

    fn go_known() -> Vec<NoteVerifier> {
        vec![NoteVerifier::parse(GO_VERIFIER).unwrap()]
    }

    fn checkpoint_signer() -> NoteSigner {
        NoteSigner::from_seed("example.com/log", [5; 32]).unwrap()
    }

    /// A checkpoint with a time line, for `checkpoint_signer`'s origin.
    fn checkpoint() -> Checkpoint {
        Checkpoint {
            origin: "example.com/log".into(),
            size: 12,
            root: [7; 32],
            time: Some(Timestamp::parse_rfc3339("2026-11-23T12:00:00Z").unwrap()),
        }
    }

    fn signed_checkpoint() -> String {
        checkpoint().sign(&[&checkpoint_signer()])
    }

    /// Every parser of this module on `text`; none may panic. What parses must also round
    /// trip, so the properties below check more than "no panic".
    fn parse_all(text: &str) {
        if let Ok(v) = NoteVerifier::parse(text) {
            assert_eq!(NoteVerifier::parse(&v.to_string()), Ok(v));
        }
        if let Ok(s) = NoteSigner::parse(text) {
            let back = NoteSigner::parse(&s.to_secret_string()).unwrap();
            assert_eq!(back.verifier(), s.verifier());
        }
        if let Ok(note) = parse_note(text) {
            assert!(note.text.ends_with('\n') && !note.signatures.is_empty());
        }
        if let Ok(cp) = Checkpoint::parse_body(text) {
            assert_eq!(Checkpoint::parse_body(&cp.body()), Ok(cp));
        }
        let known = [checkpoint_signer().verifier().clone(), go_known().remove(0)];
        let _ = open_note(text, &known);
        if let Ok((cp, by)) = Checkpoint::open(text, &known) {
            assert!(!by.is_empty());
            assert_eq!(Checkpoint::parse_body(&cp.body()), Ok(cp));
        }
    }

    #[test]
    fn truncated_keys_are_errors_not_panics() {
        // The empty key field decodes to no bytes; both parsers used to slice past it.
        assert_eq!(
            NoteVerifier::parse("x+00000000+"),
            Err(NoteError::MalformedKey(
                "key is not 0x01 followed by 32 Ed25519 bytes"
            ))
        );
        assert!(matches!(
            NoteSigner::parse("PRIVATE+KEY+x+00000000+"),
            Err(NoteError::MalformedKey(
                "signer key is not 0x01 followed by a 32-byte Ed25519 seed"
            ))
        ));
        for text in [
            "",
            "+",
            "++",
            "+++",
            " ",
            "\n",
            "x+00000000",
            "PRIVATE+KEY+",
            "PRIVATE+KEY+x",
        ] {
            assert!(NoteVerifier::parse(text).is_err(), "{text:?}");
            assert!(NoteSigner::parse(text).is_err(), "{text:?}");
            assert!(
                NoteSigner::parse(&format!("PRIVATE+KEY+{text}")).is_err(),
                "{text:?}"
            );
            assert!(parse_note(text).is_err(), "{text:?}");
            assert!(Checkpoint::parse_body(text).is_err(), "{text:?}");
            assert!(Checkpoint::open(text, &go_known()).is_err(), "{text:?}");
        }
    }

    #[test]
    fn key_fields_of_the_wrong_length_or_algorithm_are_errors() {
        let public = *SigningKey::from_bytes(&[3; 32]).verifying_key().as_bytes();
        let seed = [3u8; 32];
        let id = key_id("x", &public);
        let with = |alg: u8, key: &[u8]| [&[alg][..], key].concat();
        // 0x01 + 31 bytes, 0x01 + 33 bytes, 0x01 alone, another algorithm with 32 bytes.
        let short = with(ALG_ED25519, &public[..31]);
        let long = with(ALG_ED25519, &[&public[..], &[0u8][..]].concat());
        for raw in [short, long, vec![ALG_ED25519], with(2, &public[..])] {
            assert!(
                matches!(
                    NoteVerifier::parse(&verifier_string("x", id, &raw)),
                    Err(NoteError::MalformedKey(_))
                ),
                "{raw:?}"
            );
            assert!(
                matches!(
                    NoteSigner::parse(&format!("PRIVATE+KEY+{}", verifier_string("x", id, &raw))),
                    Err(NoteError::MalformedKey(_))
                ),
                "{raw:?}"
            );
        }
        // The same helper with the right length builds keys that parse.
        let v = NoteVerifier::parse(&verifier_string("x", id, &with(ALG_ED25519, &public[..])));
        assert_eq!(v.map(|v| v.public_bytes()), Ok(public));
        let s = NoteSigner::parse(&format!(
            "PRIVATE+KEY+{}",
            verifier_string("x", id, &with(ALG_ED25519, &seed[..]))
        ));
        assert_eq!(s.unwrap().verifier().public_bytes(), public);
    }

    #[test]
    fn names_with_control_characters_are_refused() {
        // Such a key could sign notes no one can open; as a ledger origin it made
        // Checkpoint::sign panic.
        for name in ["a\u{1}b", "a\u{1b}", "\0"] {
            assert!(!is_valid_name(name), "{name:?}");
            assert!(NoteSigner::from_seed(name, [1; 32]).is_err(), "{name:?}");
        }
        assert!(is_valid_name("example.com/log"));
    }

    #[test]
    fn empty_and_short_notes_are_errors() {
        for text in [
            "\n\n",
            "a\n\n",
            "a\n\n\n",
            "a\n\n\u{2014} \n",
            "a\n\n\u{2014} x AAAA\n",
            "a\n\n\u{2014} x AAAAAA==\n",
        ] {
            assert!(parse_note(text).is_err(), "{text:?}");
        }
        // Exactly a 4-byte id and a 1-byte signature is the shortest line that parses.
        let note = parse_note("a\n\n\u{2014} x AAAAAAE=\n").unwrap();
        assert_eq!(note.text, "a\n");
        assert_eq!(note.signatures[0].signature, vec![1]);
    }

    #[test]
    fn checkpoint_fixture_opens() {
        let (cp, by) = Checkpoint::open(
            &signed_checkpoint(),
            &[checkpoint_signer().verifier().clone()],
        )
        .unwrap();
        assert_eq!((cp.size, by.len()), (12, 1));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn parsers_never_panic_on_any_string(text in any::<String>()) {
            parse_all(&text);
        }

        #[test]
        fn parsers_never_panic_on_altered_keys(
            verifier in mutated(GO_VERIFIER.to_string()),
            signer in mutated(GO_SIGNER.to_string()),
        ) {
            parse_all(&verifier);
            parse_all(&signer);
        }

        #[test]
        fn key_parsers_never_panic_on_any_key_field(
            name in "[a-z+ ]{0,3}",
            id: u32,
            alg in prop_oneof![Just(ALG_ED25519), any::<u8>()],
            key in proptest::collection::vec(any::<u8>(), 0..40),
        ) {
            let raw = [&[alg][..], &key].concat();
            for raw in [&raw[..], &key[..]] {
                let text = verifier_string(&name, id, raw);
                parse_all(&text);
                parse_all(&format!("PRIVATE+KEY+{text}"));
            }
        }

        #[test]
        fn parsers_never_panic_on_altered_notes(
            go in mutated(GO_SIGNED.to_string()),
            checkpoint in mutated(signed_checkpoint()),
        ) {
            parse_all(&go);
            parse_all(&checkpoint);
        }

        #[test]
        fn parsers_never_panic_on_signature_lines_with_any_payload(
            name in "[a-zA-Z+ ]{0,3}",
            payload in proptest::collection::vec(any::<u8>(), 0..80),
        ) {
            let line = format!("\u{2014} {name} {}\n", B64.encode(&payload));
            parse_all(&format!("{GO_TEXT}\n{line}"));
            parse_all(&format!("{}{line}", signed_checkpoint()));
        }

        /// The body altered and then signed again, so `Checkpoint::open` gets to parse it.
        #[test]
        fn checkpoint_open_never_panics_on_altered_bodies(
            body in mutated(checkpoint().body()),
        ) {
            parse_all(&body);
            if let Ok(note) = sign(&body, &[&checkpoint_signer()]) {
                parse_all(&note);
            }
        }
    }
}
