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

#[cfg(test)]
mod tests {
    use super::*;

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
}
