//! The checkpoint log: every signed checkpoint, appended to `checkpoints.log` and synced
//! after the commit's data (invariant 7). It is the commit record: a commit is
//! acknowledged once its checkpoint is here, and only then.
//!
//! Record format (text, so `cat` shows the notes): `<byte length of note>\n<note>`. A record
//! cut short by a crash is a torn tail: it was never acknowledged (the sync comes before the
//! acknowledgement), so a writer truncates it on open and a reader ignores it. Anything
//! else unparseable is corruption and is reported, never repaired.
//!
//! **Zeros ahead.** A writer pads each append with zeros to [`ZEROS_AHEAD`] bytes past
//! the record when it reaches the end of those it wrote before, and cuts them when it
//! closes cleanly. The commit's `fdatasync` then overwrites bytes the file already holds
//! and flushes data only; an append that grows the file also makes it write the inode,
//! which took a one-event commit from about 350 to 500 us on the disk measured (README,
//! "Performance"). Zero bytes after the last record are no record: a note never ends in
//! one (it ends in a newline), so trailing zeros cannot hide a whole record.

use std::io;
use std::path::{Path, PathBuf};

use thiserror::Error;

use super::fs::{FileHandle, Fs};

#[derive(Debug, Error)]
pub enum CheckpointLogError {
    #[error("checkpoint log {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("checkpoint log {path} is corrupt at byte {offset}: {problem}")]
    Corrupt {
        path: PathBuf,
        offset: u64,
        problem: &'static str,
    },
}

/// Bytes of zeros a writer keeps written ahead of the last record.
pub const ZEROS_AHEAD: u64 = 64 << 10;

/// Parses the log's bytes: the complete notes, the length of the valid prefix and where
/// the zeros ahead begin. A short last record is a torn tail; a malformed header is
/// corruption.
pub fn parse_log(bytes: &[u8]) -> Result<(Vec<String>, u64, u64), (u64, &'static str)> {
    let written = bytes.iter().rposition(|&b| b != 0).map_or(0, |p| p + 1);
    let bytes = bytes.get(..written).unwrap_or_default();
    let mut notes = Vec::new();
    let mut at = 0usize;
    while let Some(rest) = bytes.get(at..).filter(|r| !r.is_empty()) {
        let Some(nl) = rest.iter().position(|&b| b == b'\n') else {
            if rest.iter().all(u8::is_ascii_digit) {
                break; // torn inside the header
            }
            return Err((at as u64, "record header is not a decimal length"));
        };
        let len: usize = rest
            .get(..nl)
            .and_then(|h| std::str::from_utf8(h).ok())
            .filter(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|h| h.parse().ok())
            .ok_or((at as u64, "record header is not a decimal length"))?;
        let start = at + nl + 1;
        let Some(body) = bytes.get(start..start.saturating_add(len)) else {
            break; // torn inside the note
        };
        let note = std::str::from_utf8(body).map_err(|_| (start as u64, "note is not UTF-8"))?;
        notes.push(note.to_string());
        at = start + len;
    }
    Ok((notes, at as u64, written as u64))
}

pub struct CheckpointLog {
    path: PathBuf,
    file: Box<dyn FileHandle>,
    len: u64,
    /// The end of the zeros ahead (the file's length, for a writer).
    room: u64,
    notes: Vec<String>,
    torn_bytes: u64,
}

impl CheckpointLog {
    /// Opens the log at `path`; a writer may create it and cuts a torn tail away.
    pub fn open(fs: &dyn Fs, path: &Path, writable: bool) -> Result<Self, CheckpointLogError> {
        let io_err = |source| CheckpointLogError::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = if writable {
            fs.open_write(path)
        } else {
            fs.open_read(path)
        }
        .map_err(io_err)?;
        let len = usize::try_from(file.len().map_err(io_err)?)
            .map_err(|e| io_err(io::Error::other(e)))?;
        let mut bytes = vec![0u8; len];
        file.read_at(0, &mut bytes).map_err(io_err)?;
        let (notes, valid, written) =
            parse_log(&bytes).map_err(|(offset, problem)| CheckpointLogError::Corrupt {
                path: path.to_path_buf(),
                offset,
                problem,
            })?;
        let torn_bytes = written - valid;
        let mut room = bytes.len() as u64;
        if torn_bytes > 0 && writable {
            file.set_len(valid).map_err(io_err)?;
            file.sync_data().map_err(io_err)?;
            room = valid;
        }
        Ok(Self {
            path: path.to_path_buf(),
            file,
            len: valid,
            room,
            notes,
            torn_bytes,
        })
    }

    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    pub fn last(&self) -> Option<&str> {
        self.notes.last().map(String::as_str)
    }

    /// Bytes of an unacknowledged, torn last record found at open.
    pub fn torn_bytes(&self) -> u64 {
        self.torn_bytes
    }

    /// Appends one note and syncs: the commit point.
    pub fn append(&mut self, note: &str) -> Result<(), CheckpointLogError> {
        let mut buf = format!("{}\n", note.len()).into_bytes();
        buf.extend_from_slice(note.as_bytes());
        let end = self.len + buf.len() as u64;
        let room = if end > self.room {
            buf.resize(buf.len() + ZEROS_AHEAD as usize, 0);
            end + ZEROS_AHEAD
        } else {
            self.room
        };
        self.file
            .write_at(self.len, &buf)
            .and_then(|_| self.file.sync_data())
            .map_err(|source| CheckpointLogError::Io {
                path: self.path.clone(),
                source,
            })?;
        self.len = end;
        self.room = room;
        self.notes.push(note.to_string());
        Ok(())
    }

    /// Cuts the zeros ahead, when the writer closes cleanly (never after a failed append:
    /// its record may be on disk).
    pub fn cut_zeros_ahead(&mut self) -> Result<(), CheckpointLogError> {
        if self.room > self.len {
            self.file
                .set_len(self.len)
                .map_err(|source| CheckpointLogError::Io {
                    path: self.path.clone(),
                    source,
                })?;
            self.room = self.len;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zeros_ahead_are_no_record_and_hide_no_torn_one() {
        assert!(matches!(parse_log(b"3\nabc\0\0\0"), Ok((n, 5, 5)) if n.len() == 1));
        assert!(matches!(parse_log(b"3\nabc5\nab\0\0\0"), Ok((n, 5, 9)) if n.len() == 1));
        assert!(matches!(parse_log(b"\0\0"), Ok((n, 0, 0)) if n.is_empty()));
        // Zeros inside the records are not ahead of them: still corruption.
        assert!(matches!(parse_log(b"3\nabc\0\x004\nabcd"), Err((5, _))));
    }

    #[test]
    fn corruption_is_refused() {
        assert!(matches!(parse_log(b"x1\nabc"), Err((0, _))));
        assert!(matches!(parse_log(b"3\nabc4\n"), Ok((n, 5, 7)) if n.len() == 1));
    }
}
