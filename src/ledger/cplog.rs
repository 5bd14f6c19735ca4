//! The checkpoint log: every signed checkpoint, appended to `checkpoints.log` and synced
//! after the commit's data (invariant 7). It is the commit record: a commit is
//! acknowledged once its checkpoint is here, and only then.
//!
//! Record format (text, so `cat` shows the notes): `<byte length of note>\n<note>`. A record
//! cut short by a crash is a torn tail: it was never acknowledged (the sync comes before the
//! acknowledgement), so a writer truncates it on open and a reader ignores it. So is one
//! whose sectors a disk wrote back in part, in any order, or that a reader sees half
//! written ([`parse_log`] says how it is told from damage). Anything else unparseable is
//! corruption and is reported, never repaired.
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

/// The longest record a writer appends. A checkpoint note with a few signatures is well
/// under 1 KiB; the bound is what lets open tell a torn append from a damaged log.
pub const MAX_RECORD: usize = 64 << 10;

/// Parses the log's bytes: the complete notes, the length of the valid prefix and where
/// the zeros ahead begin. A short last record is a torn tail; a malformed header is
/// corruption, unless it is where the one append in flight was torn (see
/// [`torn_in_place`]).
pub fn parse_log(bytes: &[u8]) -> Result<(Vec<String>, u64, u64), (u64, &'static str)> {
    let written = bytes.iter().rposition(|&b| b != 0).map_or(0, |p| p + 1);
    let bytes = bytes.get(..written).unwrap_or_default();
    let mut notes = Vec::new();
    let mut at = 0usize;
    while let Some(rest) = bytes.get(at..).filter(|r| !r.is_empty()) {
        match parse_record(rest) {
            Ok(Some((note, len))) => {
                notes.push(note);
                at += len;
            }
            Ok(None) => break,
            Err(_) if torn_in_place(rest) => break,
            Err((offset, problem)) => return Err(((at + offset) as u64, problem)),
        }
    }
    Ok((notes, at as u64, written as u64))
}

/// The header at the start of `bytes`: the note's length and where the note starts.
fn header(bytes: &[u8]) -> Option<(usize, usize)> {
    let nl = bytes.iter().position(|&b| b == b'\n')?;
    let len = bytes
        .get(..nl)
        .and_then(|h| std::str::from_utf8(h).ok())
        .filter(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|h| h.parse().ok())?;
    Some((len, nl + 1))
}

/// One record at the start of `bytes`: the note and the record's length, `None` when the
/// bytes end before the record does (torn), or where and why it is malformed.
fn parse_record(bytes: &[u8]) -> Result<Option<(String, usize)>, (usize, &'static str)> {
    let Some((len, start)) = header(bytes) else {
        if bytes.iter().all(u8::is_ascii_digit) {
            return Ok(None); // torn inside the header
        }
        return Err((0, "record header is not a decimal length"));
    };
    let Some(body) = bytes.get(start..start.saturating_add(len)) else {
        return Ok(None); // torn inside the note
    };
    if body.contains(&0) {
        return Err((start, "note holds a zero byte"));
    }
    let note = std::str::from_utf8(body).map_err(|_| (start, "note is not UTF-8"))?;
    Ok(Some((note.to_string(), start + len)))
}

/// Whether malformed `bytes` after the last whole record (trailing zeros cut) are the one
/// append in flight, torn: a disk writes a cut-short write's sectors back in any order, so
/// its end may be there without its start, over the zeros ahead (and a reader may see a
/// write half done). Such bytes hold zeros (a record never does) and span one record: up
/// to the length its header gives when the header is whole, else at most [`MAX_RECORD`]
/// bytes and not zeros followed by whole records, which would be zeros *between* records:
/// damage, never a torn append.
fn torn_in_place(bytes: &[u8]) -> bool {
    let Some(first_zero) = bytes.iter().position(|&b| b == 0) else {
        return false;
    };
    if let Some((len, start)) = header(bytes) {
        return first_zero >= start && bytes.len() <= start.saturating_add(len);
    }
    let after_zeros = bytes
        .get(first_zero..)
        .unwrap_or_default()
        .iter()
        .position(|&b| b != 0)
        .map_or(bytes.len(), |p| first_zero + p);
    let tail = bytes.get(after_zeros..).unwrap_or_default();
    let tail_is_records = matches!(parse_log(tail),
        Ok((notes, valid, _)) if !notes.is_empty() && valid as usize == tail.len());
    bytes.len() <= MAX_RECORD && !tail_is_records
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
        let bytes = super::fs::read_whole(file.as_ref()).map_err(io_err)?;
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
        if buf.len() > MAX_RECORD || note.contains('\0') {
            return Err(CheckpointLogError::Io {
                path: self.path.clone(),
                source: io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "a checkpoint note of {} bytes, or holding a zero byte, cannot be logged",
                        note.len()
                    ),
                ),
            });
        }
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
    }

    /// The append in flight torn as a disk may leave it: its end without its start, or its
    /// start without its end, over the zeros ahead.
    #[test]
    fn an_append_torn_in_any_order_is_a_torn_tail() {
        let record = b"13\nline one\nend\n";
        let mut log = b"3\nabc".to_vec();
        let at = log.len();
        log.extend_from_slice(record);
        log.extend_from_slice(&[0; 16]);
        let whole = parse_log(&log).unwrap();
        assert_eq!(whole.0.len(), 2);
        for hole in [0..4, 3..9, 6..12, 0..12] {
            let mut torn = log.clone();
            for b in &mut torn[at + hole.start..at + hole.end] {
                *b = 0;
            }
            let (notes, valid, _) = parse_log(&torn)
                .unwrap_or_else(|e| panic!("hole {hole:?}: taken for damage: {e:?}"));
            assert_eq!((notes.len(), valid), (1, at as u64), "hole {hole:?}");
        }
    }

    #[test]
    fn zeros_between_records_or_wider_than_a_record_are_damage() {
        // A whole record after zeros: the zeros are not an append torn in place.
        assert!(matches!(parse_log(b"3\nabc\0\x004\nabcd"), Err((5, _))));
        let mut wide = b"3\nabc".to_vec();
        wide.extend_from_slice(&vec![0; MAX_RECORD]);
        wide.extend_from_slice(b"tail of something\n");
        assert!(matches!(parse_log(&wide), Err((5, _))));
        // A note holding a zero byte with whole records after it.
        assert!(parse_log(b"3\na\0c3\nabc3\nabc").is_err());
    }

    #[test]
    fn corruption_is_refused() {
        assert!(matches!(parse_log(b"x1\nabc"), Err((0, _))));
        assert!(matches!(parse_log(b"3\nabc4\n"), Ok((n, 5, 7)) if n.len() == 1));
    }
}
