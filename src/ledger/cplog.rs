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
            // A record running past the end is the append in flight cut short, unless it
            // claims more than a record can hold or whole records follow its header:
            // then its length is what was damaged.
            Ok(None) if rest.len() <= MAX_RECORD && !ends_in_whole_records(rest) => break,
            Ok(None) => return Err((at as u64, "record runs past the end, over whole records")),
            Err(_) if torn_in_place(rest, at) => break,
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

/// The granularity at which an append's bytes can be missing ahead of bytes after them: a
/// disk writes back sectors (512 bytes, or pages of several) each on its own, and a
/// reader's copy of a page being written stops at a page boundary.
const SECTOR: usize = 512;

/// Whether malformed `bytes` at file offset `at`, after the last whole record (trailing
/// zeros cut), are the one append in flight, torn: its end may be there without its start,
/// over the zeros ahead, or its start without its end. Such bytes hold zeros (a note never
/// does), every run of zeros with bytes after it ends at a sector boundary, and they span
/// one record: up to the length its header gives when the header is whole; when it is not,
/// at most [`MAX_RECORD`] bytes, with no whole records running from a line start after the
/// last zeros to the end (that would be zeros *between* records). Anything else is damage.
fn torn_in_place(bytes: &[u8], at: usize) -> bool {
    if bytes.len() > MAX_RECORD {
        return false;
    }
    let Some(first_zero) = bytes.iter().position(|&b| b == 0) else {
        return false;
    };
    let whole_header = header(bytes);
    match whole_header {
        Some((len, start)) => {
            if first_zero < start || bytes.len() > start.saturating_add(len) {
                return false;
            }
        }
        // What is there before the zeros can only be the start of the header.
        None => {
            let before = bytes.get(..first_zero).unwrap_or_default();
            if !before.iter().all(u8::is_ascii_digit) {
                return false;
            }
        }
    }
    let mut run_start = first_zero;
    let tail_from = loop {
        let rest = bytes.get(run_start..).unwrap_or_default();
        let run_end = run_start + rest.iter().take_while(|&&b| b == 0).count();
        if run_end < bytes.len() && !(at + run_end).is_multiple_of(SECTOR) {
            return false;
        }
        let after = bytes.get(run_end..).unwrap_or_default();
        match after.iter().position(|&b| b == 0) {
            Some(p) => run_start = run_end + p,
            None => break run_end,
        }
    };
    whole_header.is_some() || !ends_in_whole_records(bytes.get(tail_from..).unwrap_or_default())
}

/// Whether whole records (notes ending in a newline, as every note does) run from some
/// line start of `tail` exactly to its end. The first byte is no line start: `tail` begins
/// where the zeros end or a record does, mid-line. Computed from the end, so each line is
/// looked at once.
fn ends_in_whole_records(tail: &[u8]) -> bool {
    let n = tail.len();
    let mut whole_to_end = vec![false; n + 1];
    if let Some(end) = whole_to_end.get_mut(n) {
        *end = true;
    }
    let mut found = false;
    for p in (0..n).rev() {
        let line_start = p > 0 && tail.get(p - 1) == Some(&b'\n');
        if !line_start {
            continue;
        }
        let whole = header(tail.get(p..).unwrap_or_default())
            .and_then(|(len, start)| (p + start).checked_add(len).filter(|_| len > 0))
            .is_some_and(|end| {
                whole_to_end.get(end) == Some(&true) && tail.get(end - 1) == Some(&b'\n')
            });
        if whole {
            if let Some(w) = whole_to_end.get_mut(p) {
                *w = true;
            }
            found = true;
        }
    }
    found
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
        // A reader may copy a record a live writer is writing in any state, even its end
        // without its start: bytes that do not parse are read again, over about 85 ms, and
        // are damage only if they still do not.
        let mut bytes = super::fs::read_whole(file.as_ref()).map_err(io_err)?;
        let mut waits = [1u64, 4, 16, 64].into_iter();
        let (notes, valid, written) = loop {
            match parse_log(&bytes) {
                Ok(parsed) => break parsed,
                Err((offset, problem)) => match waits.next().filter(|_| !writable) {
                    Some(ms) => {
                        std::thread::sleep(std::time::Duration::from_millis(ms));
                        bytes = super::fs::read_whole(file.as_ref()).map_err(io_err)?;
                    }
                    None => {
                        return Err(CheckpointLogError::Corrupt {
                            path: path.to_path_buf(),
                            offset,
                            problem,
                        })
                    }
                },
            }
        };
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
        // The first record fills the log to byte 500, so the second crosses the sector
        // boundary at 512.
        let mut log = format!("496\n{}", "a".repeat(496)).into_bytes();
        let at = log.len();
        assert_eq!(at, 500);
        log.extend_from_slice(b"13\nline one\nend\n");
        log.extend_from_slice(&[0; 16]);
        let whole = parse_log(&log).unwrap();
        assert_eq!(whole.0.len(), 2);
        // Its start lost up to the boundary; its end lost; its header there and part of its
        // note not yet; all of it lost.
        for hole in [0..12, 12..16, 5..12, 0..16] {
            let mut torn = log.clone();
            for b in &mut torn[at + hole.start..at + hole.end] {
                *b = 0;
            }
            let (notes, valid, _) = parse_log(&torn)
                .unwrap_or_else(|e| panic!("hole {hole:?}: taken for damage: {e:?}"));
            assert_eq!((notes.len(), valid), (1, at as u64), "hole {hole:?}");
        }
    }

    /// Damage that zeroes bytes of an acknowledged record is never taken for a torn
    /// append: zeros that end off a sector boundary, whole records after the zeros.
    #[test]
    fn zeroed_bytes_of_whole_records_are_damage() {
        let log = b"4\nabc\n11\nabcdefghij\n4\nxyz\n";
        for zero in 6..log.len() {
            let mut damaged = log.to_vec();
            damaged[zero] = 0;
            let parsed = parse_log(&damaged);
            assert!(
                parsed.is_err() || zero == log.len() - 1,
                "byte {zero} zeroed: {parsed:?}"
            );
        }
        // A sector of zeros with a whole record after it, from a line start.
        let mut sector = b"3\nabc".to_vec();
        sector.resize(SECTOR, 0);
        sector.extend_from_slice(b"line\n5\nwxyz\n");
        assert!(parse_log(&sector).is_err());
        // A header's digits changed to claim more than there is, over whole records.
        assert!(parse_log(b"90\nabcdefghi\n4\nxyz\n").is_err());
        assert!(matches!(parse_log(b"10\nabcdefghi\n4\nxyz\n"), Ok((n, 19, 19)) if n.len() == 2));
        // Bytes before the zeros that cannot be the start of a header.
        let mut before = b"3\nabcq".to_vec();
        before.resize(SECTOR, 0);
        before.extend_from_slice(b"rest of a note\n");
        assert!(parse_log(&before).is_err());
    }

    /// Bytes built to make the check slow or deep: it stays linear and bounded.
    #[test]
    fn many_zero_runs_and_lines_are_judged_at_once() {
        let mut log = b"3\nabc".to_vec();
        for _ in 0..20_000 {
            log.extend_from_slice(b"x\0");
        }
        log.push(b'x');
        assert!(parse_log(&log).is_err());
        let mut lines = b"3\nabc".to_vec();
        lines.resize(SECTOR, 0);
        for _ in 0..15_000 {
            lines.extend_from_slice(b"2\na\n");
        }
        assert!(parse_log(&lines).is_err());
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
