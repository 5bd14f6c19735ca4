//! Reading already-normalised events, one JSON object per line (`auditledger append`).
//!
//! Invariants kept here: the raw record of each event is its line exactly as read (without
//! the line ending), so re-appending the same file adds nothing; every error names the
//! file, the line, the field and what was expected; a UTF-8 byte-order mark and CRLF line
//! ends are accepted, blank lines skipped. Reading streams: memory does not grow with the
//! file.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::event::{Event, EventError};
use crate::ledger::NewRecord;

#[derive(Debug, Error)]
pub enum InputError {
    #[error("{file}: {source}")]
    Io { file: String, source: io::Error },
    #[error("{file}:{line}: {problem}")]
    Record {
        file: String,
        line: u64,
        problem: String,
    },
}

/// A line-by-line reader of normalised events.
pub struct JsonlReader<R: BufRead> {
    name: String,
    reader: R,
    line: u64,
    buf: Vec<u8>,
}

impl JsonlReader<BufReader<Box<dyn Read>>> {
    /// Opens `path`, or standard input for `-`.
    pub fn open(path: &Path) -> Result<Self, InputError> {
        let name = display_name(path);
        let inner: Box<dyn Read> = if path == Path::new("-") {
            Box::new(io::stdin())
        } else {
            Box::new(File::open(path).map_err(|source| InputError::Io {
                file: name.clone(),
                source,
            })?)
        };
        Ok(Self::new(name, BufReader::with_capacity(1 << 20, inner)))
    }
}

pub fn display_name(path: &Path) -> String {
    if path == Path::new("-") {
        "<stdin>".to_string()
    } else {
        PathBuf::from(path).display().to_string()
    }
}

impl<R: BufRead> JsonlReader<R> {
    pub fn new(name: String, reader: R) -> Self {
        Self {
            name,
            reader,
            line: 0,
            buf: Vec::new(),
        }
    }

    fn record_error(&self, problem: impl Into<String>) -> InputError {
        InputError::Record {
            file: self.name.clone(),
            line: self.line,
            problem: problem.into(),
        }
    }
}

impl<R: BufRead> Iterator for JsonlReader<R> {
    type Item = Result<NewRecord, InputError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            self.buf.clear();
            match self.reader.read_until(b'\n', &mut self.buf) {
                Ok(0) => return None,
                Ok(_) => {}
                Err(source) => {
                    return Some(Err(InputError::Io {
                        file: self.name.clone(),
                        source,
                    }))
                }
            }
            self.line += 1;
            let mut bytes: &[u8] = &self.buf;
            if self.line == 1 {
                bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
            }
            bytes = bytes.strip_suffix(b"\n").unwrap_or(bytes);
            bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
            if bytes.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let text = match std::str::from_utf8(bytes) {
                Ok(t) => t,
                Err(e) => {
                    return Some(Err(self.record_error(format!(
                        "not UTF-8 text (byte {} of the line); is this a binary file?",
                        e.valid_up_to() + 1
                    ))))
                }
            };
            return Some(match Event::from_json(text) {
                Ok(event) => Ok(NewRecord {
                    event,
                    raw: bytes.to_vec(),
                }),
                Err(EventError::Field { field, problem }) => {
                    Err(self.record_error(format!("field {field}: {problem}")))
                }
                Err(EventError::Json(msg)) => Err(self.record_error(msg)),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &[u8]) -> Vec<Result<NewRecord, InputError>> {
        JsonlReader::new("t.jsonl".into(), io::Cursor::new(text.to_vec())).collect()
    }

    const LINE: &str = r#"{"source":"okta","source_id":"1","kind":"auth.succeeded","subject":"a","occurred_at":"2026-01-01T00:00:00Z"}"#;

    #[test]
    fn bom_crlf_and_blank_lines_are_accepted() {
        let text = format!("\u{feff}{LINE}\r\n\r\n{LINE}\n");
        let got = read(text.as_bytes());
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].as_ref().unwrap().raw, LINE.as_bytes());
    }

    #[test]
    fn errors_name_file_line_and_field() {
        let text = format!("{LINE}\n{}\n", LINE.replace("\"a\"", "\"\""));
        let got = read(text.as_bytes());
        let err = got[1].as_ref().unwrap_err().to_string();
        assert_eq!(err, "t.jsonl:2: field subject: must not be empty");
        let got = read(b"\x00\x9f\x92\x96\n");
        assert!(got[0]
            .as_ref()
            .unwrap_err()
            .to_string()
            .contains("t.jsonl:1: not UTF-8"));
        let got = read(b"{\"source\":");
        assert!(got[0]
            .as_ref()
            .unwrap_err()
            .to_string()
            .starts_with("t.jsonl:1: EOF"));
    }
}
