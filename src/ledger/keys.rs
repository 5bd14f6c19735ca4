//! The signing key: how it is read and written, and the key-rotation statement. (Where
//! the CLI keeps it by default is `app::default_key_dir`.)
//!
//! Invariants kept here:
//! - The key file holds a Go-compatible signer key string (`PRIVATE+KEY+...`), is created
//!   with mode 0600 (never wider), and a key file readable by group or others is refused.
//! - The key text never appears in an error, a log line or `Debug` output: errors name the
//!   file and the problem, never the content.
//! - A rotation statement names origin, seq, previous chain hash and both verifier keys, and
//!   is signed by both keys, so neither key alone can forge a hand-over.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::tlog::merkle::to_hex;
use crate::tlog::merkle::Hash;
use crate::tlog::note::{NoteError, NoteSigner, NoteVerifier};

/// Environment variable that may hold the signer key string instead of a file.
pub const KEY_ENV: &str = "AUDITLEDGER_KEY";
#[derive(Debug, Error)]
pub enum KeyError {
    #[error("no signing key: {path} does not exist (pass --key-file or set {KEY_ENV})")]
    Missing { path: PathBuf },
    #[error("cannot read key file {path}: {source}")]
    Unreadable { path: PathBuf, source: io::Error },
    #[error("key file {path} has loose permissions {mode:03o}; it must be readable by its owner only (chmod 600)")]
    LoosePermissions { path: PathBuf, mode: u32 },
    #[error("key from {origin} is not a valid signer key: {reason}")]
    Malformed { origin: String, reason: NoteError },
    #[error("key from {origin} is {got}, but this ledger's current key is {expected}")]
    WrongKey {
        origin: String,
        got: String,
        expected: String,
    },
    #[error("key file {path} already exists; refusing to overwrite a key")]
    Exists { path: PathBuf },
    #[error("cannot write key file {path}: {source}")]
    Write { path: PathBuf, source: io::Error },
}

/// Reads the signer from `env_value` when given, else from `path`.
pub fn load_signer(path: &Path, env_value: Option<&str>) -> Result<NoteSigner, KeyError> {
    if let Some(text) = env_value {
        return NoteSigner::parse(text).map_err(|reason| KeyError::Malformed {
            origin: format!("${KEY_ENV}"),
            reason,
        });
    }
    let meta = match fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(KeyError::Missing {
                path: path.to_path_buf(),
            })
        }
        Err(source) => {
            return Err(KeyError::Unreadable {
                path: path.to_path_buf(),
                source,
            })
        }
    };
    check_permissions(path, &meta)?;
    let text = fs::read_to_string(path).map_err(|source| KeyError::Unreadable {
        path: path.to_path_buf(),
        source,
    })?;
    NoteSigner::parse(&text).map_err(|reason| KeyError::Malformed {
        origin: path.display().to_string(),
        reason,
    })
}

#[cfg(unix)]
fn check_permissions(path: &Path, meta: &fs::Metadata) -> Result<(), KeyError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(KeyError::LoosePermissions {
            path: path.to_path_buf(),
            mode,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_permissions(_: &Path, _: &fs::Metadata) -> Result<(), KeyError> {
    Ok(())
}

/// Writes a new key file with mode 0600, durably; refuses to overwrite.
pub fn write_key_file(path: &Path, signer: &NoteSigner) -> Result<(), KeyError> {
    let werr = |source| KeyError::Write {
        path: path.to_path_buf(),
        source,
    };
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut file = match opts.open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            return Err(KeyError::Exists {
                path: path.to_path_buf(),
            })
        }
        Err(e) => return Err(werr(e)),
    };
    file.write_all(signer.to_secret_string().as_bytes())
        .and_then(|_| file.write_all(b"\n"))
        .and_then(|_| file.sync_all())
        .map_err(werr)?;
    sync_parent(path).map_err(werr)
}

/// Replaces `path` with `new_path` atomically (rename), then syncs the directory.
pub fn replace_key_file(new_path: &Path, path: &Path) -> Result<(), KeyError> {
    fs::rename(new_path, path).map_err(|source| KeyError::Write {
        path: path.to_path_buf(),
        source,
    })?;
    sync_parent(path).map_err(|source| KeyError::Write {
        path: path.to_path_buf(),
        source,
    })
}

pub fn sync_parent(path: &Path) -> io::Result<()> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    File::open(parent)?.sync_all()
}

/// Where a key rotation stages the new key until its rotation entry is committed.
pub fn staged_key_path(key_file: &Path) -> PathBuf {
    let mut name = key_file.as_os_str().to_owned();
    name.push(".new");
    PathBuf::from(name)
}

/// The text both keys sign when the ledger's key changes.
pub fn rotation_statement(
    origin: &str,
    seq: u64,
    prev: &Hash,
    old: &NoteVerifier,
    new: &NoteVerifier,
) -> String {
    format!(
        "auditledger key rotation v1\norigin {origin}\nseq {seq}\nprev {}\nold {old}\nnew {new}\n",
        to_hex(prev)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_file_round_trip_and_permissions() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        let s = NoteSigner::from_seed("o", [3; 32]).unwrap();
        write_key_file(&path, &s).unwrap();
        let back = load_signer(&path, None).unwrap();
        assert_eq!(back.verifier(), s.verifier());
        assert!(matches!(
            write_key_file(&path, &s),
            Err(KeyError::Exists { .. })
        ));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
            let err = load_signer(&path, None).unwrap_err();
            assert!(matches!(
                err,
                KeyError::LoosePermissions { mode: 0o644, .. }
            ));
            assert!(!err.to_string().contains("PRIVATE"));
        }
        assert!(matches!(
            load_signer(&dir.path().join("none"), None),
            Err(KeyError::Missing { .. })
        ));
    }

    #[test]
    fn malformed_key_error_does_not_echo_the_key() {
        let secret = "PRIVATE+KEY+o+00000000+AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        let err = load_signer(Path::new("/nonexistent"), Some(secret)).unwrap_err();
        assert!(matches!(err, KeyError::Malformed { .. }));
        assert!(!err.to_string().contains("AQAAAA"), "{err}");
    }

    #[test]
    fn truncated_keys_are_malformed_not_panics() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        for text in [
            "",
            "+",
            "PRIVATE+KEY+x+00000000+",
            "PRIVATE+KEY+x+00000000+AQ==",
        ] {
            let from_env = load_signer(Path::new("/nonexistent"), Some(text));
            assert!(
                matches!(from_env, Err(KeyError::Malformed { .. })),
                "{text:?}"
            );
            fs::write(&path, format!("{text}\n")).unwrap();
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
            }
            let from_file = load_signer(&path, None);
            assert!(
                matches!(from_file, Err(KeyError::Malformed { .. })),
                "{text:?}"
            );
        }
    }
}
