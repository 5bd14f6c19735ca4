//! The checkpoint log: every signed checkpoint, appended to a plain file beside the sled data
//! and fsynced before a commit is acknowledged (invariant 7).
//!
//! Why: sled may recover to an older state after a crash or a bad disk. On open, the sled
//! head is compared with the last checkpoint here; a store behind its own log fails loudly.
//!
//! Record format (text, so `cat` shows the notes): `<byte length of note>\n<note>`. A record
//! cut short by a crash is a torn tail: it was never acknowledged (the sync comes before the
//! acknowledgement), so a writer truncates it on open. Anything else unparseable is
//! corruption and is reported, never repaired.
//!
//! The file is reached through [`SyncFile`], so tests can simulate a power cut with a layer
//! that keeps only the bytes that were synced.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use thiserror::Error;

/// The operations the log needs from a file.
pub trait SyncFile {
    fn read_all(&mut self) -> io::Result<Vec<u8>>;
    fn append(&mut self, bytes: &[u8]) -> io::Result<()>;
    /// Durably stores everything appended so far.
    fn sync(&mut self) -> io::Result<()>;
    fn truncate(&mut self, len: u64) -> io::Result<()>;
}

impl SyncFile for File {
    fn read_all(&mut self) -> io::Result<Vec<u8>> {
        let mut buf = Vec::new();
        self.seek(SeekFrom::Start(0))?;
        self.read_to_end(&mut buf)?;
        Ok(buf)
    }
    fn append(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.seek(SeekFrom::End(0))?;
        self.write_all(bytes)
    }
    fn sync(&mut self) -> io::Result<()> {
        self.sync_data()
    }
    fn truncate(&mut self, len: u64) -> io::Result<()> {
        self.set_len(len)?;
        self.sync_all()
    }
}

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

/// Parses the log's bytes: the complete notes and the length of the valid prefix. A short
/// last record is a torn tail; a malformed header is corruption.
pub fn parse_log(bytes: &[u8]) -> Result<(Vec<String>, u64), (u64, &'static str)> {
    let mut notes = Vec::new();
    let mut at = 0usize;
    while at < bytes.len() {
        let Some(nl) = bytes[at..].iter().position(|&b| b == b'\n') else {
            if bytes[at..].iter().all(u8::is_ascii_digit) {
                break; // torn inside the header
            }
            return Err((at as u64, "record header is not a decimal length"));
        };
        let header = &bytes[at..at + nl];
        let len: usize = std::str::from_utf8(header)
            .ok()
            .filter(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|h| h.parse().ok())
            .ok_or((at as u64, "record header is not a decimal length"))?;
        let start = at + nl + 1;
        if start + len > bytes.len() {
            break; // torn inside the note
        }
        let note = std::str::from_utf8(&bytes[start..start + len])
            .map_err(|_| (start as u64, "note is not UTF-8"))?;
        notes.push(note.to_string());
        at = start + len;
    }
    Ok((notes, at as u64))
}

pub struct CheckpointLog<F: SyncFile = File> {
    path: PathBuf,
    file: F,
    notes: Vec<String>,
    torn_bytes: u64,
}

impl CheckpointLog<File> {
    /// Opens (creating if needed) the log at `path`.
    pub fn open(path: &Path, writable: bool) -> Result<Self, CheckpointLogError> {
        let file = OpenOptions::new()
            .read(true)
            .write(writable)
            .create(writable)
            .truncate(false)
            .open(path)
            .map_err(|source| CheckpointLogError::Io {
                path: path.to_path_buf(),
                source,
            })?;
        Self::from_file(path, file, writable)
    }
}

impl<F: SyncFile> CheckpointLog<F> {
    pub fn from_file(path: &Path, mut file: F, writable: bool) -> Result<Self, CheckpointLogError> {
        let io_err = |source| CheckpointLogError::Io {
            path: path.to_path_buf(),
            source,
        };
        let bytes = file.read_all().map_err(io_err)?;
        let (notes, valid) =
            parse_log(&bytes).map_err(|(offset, problem)| CheckpointLogError::Corrupt {
                path: path.to_path_buf(),
                offset,
                problem,
            })?;
        let torn_bytes = bytes.len() as u64 - valid;
        if torn_bytes > 0 && writable {
            file.truncate(valid).map_err(io_err)?;
        }
        Ok(Self {
            path: path.to_path_buf(),
            file,
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

    /// Appends notes and syncs once.
    pub fn append_all(&mut self, notes: &[String]) -> Result<(), CheckpointLogError> {
        let mut buf = Vec::new();
        for note in notes {
            buf.extend_from_slice(format!("{}\n", note.len()).as_bytes());
            buf.extend_from_slice(note.as_bytes());
        }
        self.file
            .append(&buf)
            .and_then(|_| self.file.sync())
            .map_err(|source| CheckpointLogError::Io {
                path: self.path.clone(),
                source,
            })?;
        self.notes.extend(notes.iter().cloned());
        Ok(())
    }

    pub fn into_inner(self) -> F {
        self.file
    }
}

/// A file that loses whatever was not synced when the "power" is cut: the test double for
/// the power-cut case.
#[derive(Default, Clone, Debug)]
pub struct PowerCutFile {
    pub synced: Vec<u8>,
    pub pending: Vec<u8>,
}

impl PowerCutFile {
    /// What survives a power cut now.
    pub fn after_power_cut(&self) -> PowerCutFile {
        PowerCutFile {
            synced: self.synced.clone(),
            pending: Vec::new(),
        }
    }
}

impl SyncFile for PowerCutFile {
    fn read_all(&mut self) -> io::Result<Vec<u8>> {
        let mut all = self.synced.clone();
        all.extend_from_slice(&self.pending);
        Ok(all)
    }
    fn append(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.pending.extend_from_slice(bytes);
        Ok(())
    }
    fn sync(&mut self) -> io::Result<()> {
        self.synced.append(&mut self.pending);
        Ok(())
    }
    fn truncate(&mut self, len: u64) -> io::Result<()> {
        let mut all = self.read_all()?;
        all.truncate(len as usize);
        self.synced = all;
        self.pending.clear();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(i: usize) -> String {
        format!("origin\n{i}\nAAAA\n\n\u{2014} k sig{i}\n")
    }

    #[test]
    fn synced_notes_survive_a_power_cut_and_unsynced_ones_do_not() {
        let p = Path::new("mem");
        let mut log = CheckpointLog::from_file(p, PowerCutFile::default(), true).unwrap();
        log.append_all(&[note(1), note(2)]).unwrap();
        let mut file = log.into_inner();
        // An append whose sync never ran: the power goes before the acknowledgement.
        file.append(b"99\norigin\n3\npartial").unwrap();
        let reopened = CheckpointLog::from_file(p, file.after_power_cut(), true).unwrap();
        assert_eq!(reopened.notes(), &[note(1), note(2)]);
        assert_eq!(reopened.torn_bytes(), 0);
    }

    #[test]
    fn a_torn_record_is_truncated_by_a_writer_and_corruption_is_refused() {
        let p = Path::new("mem");
        let mut file = PowerCutFile::default();
        let n1 = note(1);
        file.append(format!("{}\n{}", n1.len(), n1).as_bytes())
            .unwrap();
        file.append(b"40\norigin\n2").unwrap();
        file.sync().unwrap();
        let log = CheckpointLog::from_file(p, file, true).unwrap();
        assert_eq!(log.notes().len(), 1);
        assert_eq!(log.torn_bytes(), 11);
        let file = log.into_inner();
        assert_eq!(file.synced.len(), n1.len() + 3);

        let mut bad = PowerCutFile::default();
        bad.append(b"x1\nabc").unwrap();
        bad.sync().unwrap();
        assert!(matches!(
            CheckpointLog::from_file(p, bad, true),
            Err(CheckpointLogError::Corrupt { offset: 0, .. })
        ));
    }
}
