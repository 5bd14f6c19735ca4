//! Splitting an input file into raw records, streaming: a JSON array, a JSON envelope
//! (`{"value": [...]}` from Graph, `{"records": [...]}` from Azure diagnostic settings,
//! `{"items": [...]}` from Google Reports, `{"data": [...]}` from OneLogin), JSON Lines, or
//! CSV with a header row.
//!
//! Invariants kept here: a record's raw bytes are exactly the bytes of that record in the
//! file (for CSV: the header line and the row, so a raw record stands on its own); each
//! record carries its location (line, or array index); memory does not grow with the file,
//! only with the largest record. A JSON record's value holds what its source [`Reads`] and
//! nothing else; the raw bytes hold all of it.

use std::cell::RefCell;
use std::fmt;
use std::io::{self, BufRead, BufReader, Read};
use std::rc::Rc;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::Value;

/// What a source reads of a JSON record: all of a value, or of an object only the named keys,
/// each with what is read of it (applied to every element of an array). Parsing only what is
/// read skips what a source never looks at, most of a real Okta LogEvent (request,
/// securityContext, debugData...); the record's raw bytes still keep every byte.
///
/// A source that reads a key not declared here would find it missing: each source's
/// declaration is checked against its fixtures parsed whole (`tests/sources.rs`).
#[derive(Debug)]
pub enum Reads {
    All,
    Keys(&'static [(&'static str, Reads)]),
    /// Nothing yet: framing hands each JSON record on with `value: Ok(Value::Null)` and its
    /// text unparsed, for a caller that parses it itself (ingest, which tries a source's
    /// typed parser first); [`parse_json`] then gives what framing would have.
    Later,
}

/// A JSON record's value as framing gives it, its error worded for the record's location:
/// by column on a record's first line (the location names the line), by the file's line
/// and column further down a record written over several lines.
pub fn parse_json(location: &Location, text: &str, reads: &Reads) -> Result<Value, String> {
    parse_record(text, reads).map_err(|e| match (location, e.line()) {
        (Location::Line(_), 1) => format!("column {}: {}", e.column(), without_position(&e)),
        (Location::Line(first), l) => format!(
            "line {} column {}: {}",
            first + l as u64 - 1,
            e.column(),
            without_position(&e)
        ),
        (Location::Index { .. }, _) => e.to_string(),
    })
}

/// The value framing gives a record found at `first_line` of its file: nothing parsed yet
/// for [`Reads::Later`] (the caller parses it with [`parse_json`]).
fn record_value(bytes: &[u8], reads: &Reads, first_line: u64) -> Result<Value, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        format!(
            "not UTF-8 text (byte {} of the record); is this a binary file?",
            e.valid_up_to() + 1
        )
    })?;
    match reads {
        Reads::Later => Ok(Value::Null),
        reads => parse_json(&Location::Line(first_line), text, reads),
    }
}

/// Parses one JSON record, keeping only what `reads` names (all of it for [`Reads::Later`]).
/// Syntax is checked in full, so a malformed record is refused whatever parts of it are read.
pub fn parse_record(text: &str, reads: &Reads) -> serde_json::Result<Value> {
    match reads {
        Reads::All | Reads::Later => serde_json::from_str(text),
        Reads::Keys(keys) => {
            let mut de = serde_json::Deserializer::from_str(text);
            let value = Pruned(keys).deserialize(&mut de)?;
            de.end()?;
            Ok(value)
        }
    }
}

/// Builds a [`Value`] as serde_json's own does, keeping of each object only the listed keys
/// (a repeated key: the last one wins, as in a `Value`).
struct Pruned(&'static [(&'static str, Reads)]);

impl<'de> DeserializeSeed<'de> for Pruned {
    type Value = Value;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Pruned {
    type Value = Value;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }
    fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
        Ok(Value::Number(n.into()))
    }
    fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
        Ok(Value::Number(n.into()))
    }
    fn visit_f64<E>(self, n: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.to_string()))
    }
    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        self.deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element_seed(Pruned(self.0))? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut kept = serde_json::Map::new();
        while let Some(read) = map.next_key_seed(KeyRead(self.0))? {
            match read {
                Some((key, Reads::Keys(keys))) => {
                    kept.insert(key.to_string(), map.next_value_seed(Pruned(keys))?);
                }
                Some((key, Reads::All | Reads::Later)) => {
                    kept.insert(key.to_string(), map.next_value::<Value>()?);
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Value::Object(kept))
    }
}

/// An object key: the declaration it matches, if any, found without allocating.
struct KeyRead(&'static [(&'static str, Reads)]);

impl<'de> DeserializeSeed<'de> for KeyRead {
    type Value = Option<&'static (&'static str, Reads)>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeyRead {
    type Value = Option<&'static (&'static str, Reads)>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object key")
    }
    fn visit_str<E>(self, key: &str) -> Result<Self::Value, E> {
        Ok(self.0.iter().find(|(name, _)| *name == key))
    }
}

/// Keys whose array value holds the records of a JSON envelope.
pub const ENVELOPE_KEYS: &[&str] = &["value", "records", "items", "data"];

/// The `kind` of list pages that leave their records' key out when there are none: a
/// Google Reports API page of no activities has no `items` (its own samples read
/// `results.get('items', [])`). Such a page is zero records, not one malformed record.
pub const LIST_PAGE_KINDS: &[&str] = &["admin#reports#activities"];

fn is_list_page(map: &serde_json::Map<String, Value>) -> bool {
    map.get("kind")
        .and_then(Value::as_str)
        .is_some_and(|k| LIST_PAGE_KINDS.contains(&k))
}

/// Where a record sits in its file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    Line(u64),
    /// Element `index` of the array at `key` (`None` for a top-level array).
    Index {
        key: Option<String>,
        index: u64,
    },
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Line(n) => write!(f, "{n}"),
            Location::Index {
                key: Some(k),
                index,
            } => write!(f, "{k}[{index}]"),
            Location::Index { key: None, index } => write!(f, "[{index}]"),
        }
    }
}

/// One record as read: its location, its raw bytes, and its JSON value (CSV rows become an
/// object of header to cell), or why it could not be read as one.
#[derive(Clone, Debug)]
pub struct RawRecord {
    pub location: Location,
    pub raw: Vec<u8>,
    pub value: Result<Value, String>,
}

/// Why a file could not be split into records at all.
#[derive(Debug)]
pub enum FramingError {
    Io(io::Error),
    /// The file is not what any framing expects; `at` says where it stopped making sense.
    Shape {
        at: String,
        problem: String,
    },
    /// The callback asked to stop.
    Stopped(String),
}

impl fmt::Display for FramingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FramingError::Io(e) => write!(f, "{e}"),
            FramingError::Shape { at, problem } => write!(f, "{at}: {problem}"),
            FramingError::Stopped(why) => f.write_str(why),
        }
    }
}

/// What kind of content a file holds, judged from its first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Content {
    /// A JSON array or envelope object: one document.
    JsonDocument,
    /// One JSON object per line.
    JsonLines,
    Csv,
    Empty,
}

/// True when the bytes look like binary data rather than text: a NUL byte, or invalid
/// UTF-8 that is not just a sequence cut at the end of the buffer.
fn looks_binary(buf: &[u8]) -> bool {
    if buf.contains(&0) {
        return true;
    }
    match std::str::from_utf8(buf) {
        Ok(_) => false,
        Err(e) => e.error_len().is_some(),
    }
}

/// True for UTF-16 text: a byte-order mark, or (without one) ASCII with every other byte
/// NUL at the start, as `[`, `{` or a CSV header in UTF-16 looks.
fn looks_utf16(buf: &[u8]) -> bool {
    if buf.starts_with(b"\xFF\xFE") || buf.starts_with(b"\xFE\xFF") {
        return true;
    }
    let head = buf.get(..buf.len().min(64) & !1).unwrap_or_default();
    let (even_nul, odd_nul) = head.chunks(2).fold((0, 0), |(e, o), pair| match pair {
        [0, b] if *b != 0 => (e + 1, o),
        [a, 0] if *a != 0 => (e, o + 1),
        _ => (e, o),
    });
    let pairs = head.len() / 2;
    pairs >= 4 && (even_nul == pairs || odd_nul == pairs)
}

/// Whether a top-level object holds records rather than being one: an envelope key with
/// an array, an Okta event hook's `data.events`, or a list page with none.
fn holds_records(map: &serde_json::Map<String, Value>) -> bool {
    ENVELOPE_KEYS
        .iter()
        .any(|k| map.get(*k).is_some_and(Value::is_array))
        || map
            .get("data")
            .and_then(|d| d.get("events"))
            .is_some_and(Value::is_array)
        || is_list_page(map)
}

/// How a file's records are laid out: [`Content`], with JSON objects told apart by whether
/// each sits on one line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Layout {
    Lines,
    /// Objects one after another over several lines each (`jq .` output; a single record
    /// as a Graph `GET` of one item returns it, pretty-printed).
    Objects,
    Document,
    /// GitHub Enterprise Server's audit log forwarded over syslog: each line a syslog
    /// header, then [`SYSLOG_MARKER`], then the event's JSON (the record).
    SyslogJson,
    Csv,
    Empty,
}

/// What precedes the JSON in a GitHub Enterprise Server syslog line.
const SYSLOG_MARKER: &[u8] = b"github_audit: ";

/// Looks at the start of the content (after a UTF-8 BOM and whitespace) to tell its kind.
/// A first JSON object without an envelope key (nor an Okta event hook's `data.events`) is
/// a record: JSON Lines, whether the records sit on one line each or not.
pub fn sniff<R: BufRead>(reader: &mut R) -> io::Result<Content> {
    Ok(match sniff_layout(reader)? {
        Layout::Lines | Layout::Objects | Layout::SyslogJson => Content::JsonLines,
        Layout::Document => Content::JsonDocument,
        Layout::Csv => Content::Csv,
        Layout::Empty => Content::Empty,
    })
}

fn sniff_layout<R: BufRead>(reader: &mut R) -> io::Result<Layout> {
    let buf = reader.fill_buf()?;
    let buf = buf.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(buf);
    let rest = buf.trim_ascii_start();
    match rest.first() {
        None => Ok(Layout::Empty),
        Some(b'[') => Ok(Layout::Document),
        Some(b'{') => {
            let line = rest.split(|&b| b == b'\n').next().unwrap_or(rest);
            match serde_json::from_slice::<Value>(line) {
                Ok(Value::Object(map)) if !holds_records(&map) => Ok(Layout::Lines),
                Ok(_) => Ok(Layout::Document),
                // The first object goes on past its line: what it is decides, when it ends
                // within what was read (an envelope larger than that is a document).
                Err(_) => match serde_json::Deserializer::from_slice(rest)
                    .into_iter::<Value>()
                    .next()
                {
                    Some(Ok(Value::Object(map))) if !holds_records(&map) => Ok(Layout::Objects),
                    _ => Ok(Layout::Document),
                },
            }
        }
        Some(_) => {
            let line = rest.split(|&b| b == b'\n').next().unwrap_or(rest);
            let syslog = line
                .windows(SYSLOG_MARKER.len() + 1)
                .any(|w| w.starts_with(SYSLOG_MARKER) && w.ends_with(b"{"));
            Ok(if syslog {
                Layout::SyslogJson
            } else {
                Layout::Csv
            })
        }
    }
}

/// Streams the records of `reader` to `each`, which may stop the walk by returning an error.
/// A JSON record's value holds what `reads` names (CSV rows are read whole).
pub fn for_each_record<R: Read>(
    reader: R,
    reads: &Reads,
    each: &mut dyn FnMut(RawRecord) -> Result<(), String>,
) -> Result<Content, FramingError> {
    let mut reader = BufReader::with_capacity(1 << 20, reader);
    let layout = sniff_layout(&mut reader).map_err(FramingError::Io)?;
    let head = reader.fill_buf().map_err(FramingError::Io)?;
    // Windows PowerShell 5.1 writes UTF-16 with `>` and `Out-File`. A raw record must be
    // the file's own bytes, and every parser reads UTF-8: say how to convert, not "binary".
    if looks_utf16(head) {
        return Err(FramingError::Shape {
            at: "start of file".into(),
            problem: "UTF-16 text; expected UTF-8: convert it first (`iconv -f UTF-16 -t UTF-8`, \
                      or in PowerShell `Out-File -Encoding utf8`)"
                .into(),
        });
    }
    if looks_binary(head.get(..64 << 10).unwrap_or(head)) {
        return Err(FramingError::Shape {
            at: "start of file".into(),
            problem: "binary data, not a JSON or CSV export".into(),
        });
    }
    Ok(match layout {
        Layout::Empty => Content::Empty,
        Layout::Lines => {
            json_lines(reader, reads, None, each)?;
            Content::JsonLines
        }
        Layout::SyslogJson => {
            json_lines(reader, reads, Some(SYSLOG_MARKER), each)?;
            Content::JsonLines
        }
        Layout::Objects => {
            json_objects(reader, reads, each)?;
            Content::JsonLines
        }
        Layout::Document => {
            json_document(reader, reads, each)?;
            Content::JsonDocument
        }
        Layout::Csv => {
            csv_rows(reader, each)?;
            Content::Csv
        }
    })
}

/// JSON objects one after another, each over as many lines as it takes: a record ends at
/// the brace that closes it, found outside strings, and is located by its first line.
fn json_objects<R: BufRead>(
    mut reader: R,
    reads: &Reads,
    each: &mut dyn FnMut(RawRecord) -> Result<(), String>,
) -> Result<(), FramingError> {
    let mut record = Vec::new();
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    let (mut line, mut start_line) = (1u64, 1u64);
    let mut first = true;
    let mut emit = |record: &[u8], start_line: u64| {
        each(RawRecord {
            location: Location::Line(start_line),
            raw: record.to_vec(),
            value: record_value(record, reads, start_line),
        })
        .map_err(FramingError::Stopped)
    };
    loop {
        let buf = reader.fill_buf().map_err(FramingError::Io)?;
        if buf.is_empty() {
            break;
        }
        let taken = buf.len();
        let mut bytes = buf;
        if first {
            bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
            first = false;
        }
        for &b in bytes {
            if depth == 0 {
                if b == b'\n' {
                    line += 1;
                }
                if b.is_ascii_whitespace() {
                    continue;
                }
                if b != b'{' {
                    return Err(FramingError::Shape {
                        at: format!("line {line}"),
                        problem: format!(
                            "{:?} between records; expected `{{` starting the next JSON object",
                            char::from(b)
                        ),
                    });
                }
                start_line = line;
            }
            record.push(b);
            if b == b'\n' {
                line += 1;
            }
            if in_string {
                match (escaped, b) {
                    (true, _) => escaped = false,
                    (false, b'\\') => escaped = true,
                    (false, b'"') => in_string = false,
                    _ => {}
                }
                continue;
            }
            match b {
                b'"' => in_string = true,
                b'{' | b'[' => depth += 1,
                b'}' | b']' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        emit(&record, start_line)?;
                        record.clear();
                    }
                }
                _ => {}
            }
        }
        reader.consume(taken);
    }
    if record.is_empty() {
        Ok(())
    } else {
        Err(FramingError::Shape {
            at: format!("line {start_line}"),
            problem: "the file ends inside this record (an unclosed `{` or string)".into(),
        })
    }
}

/// One JSON record per line; with `marker`, the record is what follows the marker on its
/// line (a syslog header before it is no part of the event).
fn json_lines<R: BufRead>(
    mut reader: R,
    reads: &Reads,
    marker: Option<&[u8]>,
    each: &mut dyn FnMut(RawRecord) -> Result<(), String>,
) -> Result<(), FramingError> {
    let mut buf = Vec::new();
    let mut line = 0u64;
    loop {
        buf.clear();
        if reader
            .read_until(b'\n', &mut buf)
            .map_err(FramingError::Io)?
            == 0
        {
            return Ok(());
        }
        line += 1;
        let mut bytes: &[u8] = &buf;
        if line == 1 {
            bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        }
        bytes = bytes.strip_suffix(b"\n").unwrap_or(bytes);
        bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
        if bytes.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let after_marker = marker.map(|m| {
            bytes
                .windows(m.len())
                .position(|w| w == m)
                .and_then(|at| bytes.get(at + m.len()..))
        });
        if let Some(found) = after_marker {
            bytes = found.unwrap_or_default();
        }
        let value = match after_marker {
            Some(None) => Err(format!(
                "expected a syslog line with {:?} before the event's JSON, as the lines before",
                String::from_utf8_lossy(marker.unwrap_or_default())
            )),
            _ => record_value(bytes, reads, line),
        };
        each(RawRecord {
            location: Location::Line(line),
            raw: bytes.to_vec(),
            value,
        })
        .map_err(FramingError::Stopped)?;
    }
}

/// Strips a UTF-8 BOM from the front of a reader; for a JSON document, also notes where
/// the last few bytes read stand, as serde_json counts lines and columns.
struct SkipBom<R> {
    inner: R,
    checked: bool,
    places: Option<Rc<RefCell<Places>>>,
}

/// The last bytes read with serde_json's (line, column) after each: the line counts the
/// newlines before, the column the bytes since (0 just after a newline). serde_json reads
/// a byte or two past the one at fault, so a short history finds it.
///
/// It also keeps the bytes of the document being read, when asked ([`Places::capture`]).
struct Places {
    line: usize,
    column: usize,
    recent: [(usize, usize, u8); 4],
    next: usize,
    /// The current document's bytes and its first line, while it stays under
    /// [`CAPTURE_LIMIT`]; `None` when not asked for or over the limit.
    captured: Option<(usize, Vec<u8>)>,
}

/// How much of a document is kept in case it is one bare record: far above the 1 MiB a
/// record may have by default, and small beside the pages it is thrown away for.
const CAPTURE_LIMIT: usize = 8 << 20;

impl Default for Places {
    fn default() -> Self {
        Places {
            line: 1,
            column: 0,
            recent: [(0, 0, 0); 4],
            next: 0,
            captured: None,
        }
    }
}

impl Places {
    /// Starts keeping the bytes of the next document, from the byte serde_json has
    /// already read to tell that one more follows.
    fn capture(&mut self) {
        let peeked = self
            .next
            .checked_sub(1)
            .and_then(|last| self.recent.get(last % 4))
            .map(|(_, _, b)| *b)
            .filter(|b| !b.is_ascii_whitespace());
        self.captured = Some((self.line, peeked.into_iter().collect()));
    }

    fn note(&mut self, bytes: &[u8]) {
        if let Some((_, kept)) = &mut self.captured {
            if kept.len() + bytes.len() > CAPTURE_LIMIT {
                self.captured = None;
            } else {
                kept.extend_from_slice(bytes);
            }
        }
        for &b in bytes {
            if b == b'\n' {
                self.line += 1;
                self.column = 0;
            } else {
                self.column += 1;
            }
            if let Some(slot) = self.recent.get_mut(self.next % 4) {
                *slot = (self.line, self.column, b);
            }
            self.next += 1;
        }
    }

    /// The byte whose reading left serde_json at (line, column).
    fn byte_at(&self, line: usize, column: usize) -> Option<u8> {
        self.recent
            .iter()
            .find(|(l, c, _)| (*l, *c) == (line, column))
            .map(|(_, _, b)| *b)
    }
}

impl<R: BufRead> Read for SkipBom<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if !self.checked {
            self.checked = true;
            let head = self.inner.fill_buf()?;
            if head.starts_with(b"\xEF\xBB\xBF") {
                self.inner.consume(3);
            }
        }
        let n = self.inner.read(buf)?;
        if let (Some(places), Some(read)) = (&self.places, buf.get(..n)) {
            places.borrow_mut().note(read);
        }
        Ok(n)
    }
}

struct Walk<'a> {
    each: &'a mut dyn FnMut(RawRecord) -> Result<(), String>,
    reads: &'a Reads,
    stopped: Option<String>,
    found_array: bool,
    /// 1 for the first document of the file, 2 for the next page, and so on.
    page: u64,
    /// The record being read, for an error in the middle of it.
    reading: Option<(Option<String>, u64)>,
}

impl Walk<'_> {
    fn emit<E: de::Error>(
        &mut self,
        key: Option<&str>,
        index: u64,
        raw: &RawValue,
    ) -> Result<(), E> {
        let text = raw.get();
        let key = match (key, self.page) {
            (Some(k), 1) => Some(k.to_string()),
            (Some(k), p) => Some(format!("page{p}.{k}")),
            (None, 1) => None,
            (None, p) => Some(format!("page{p}")),
        };
        let location = Location::Index { key, index };
        let value = match self.reads {
            Reads::Later => Ok(Value::Null),
            reads => parse_json(&location, text, reads),
        };
        let record = RawRecord {
            location,
            raw: text.as_bytes().to_vec(),
            value,
        };
        (self.each)(record).map_err(|why| {
            self.stopped = Some(why.clone());
            E::custom(why)
        })
    }
}

struct ArraySeed<'w, 'a> {
    walk: &'w mut Walk<'a>,
    key: Option<&'w str>,
}

impl<'de> DeserializeSeed<'de> for ArraySeed<'_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ArraySeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of records")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.walk.found_array = true;
        let mut index = 0u64;
        loop {
            self.walk.reading = Some((self.key.map(str::to_string), index));
            let Some(raw) = seq.next_element::<Box<RawValue>>()? else {
                break;
            };
            self.walk.emit::<A::Error>(self.key, index, &raw)?;
            index += 1;
        }
        self.walk.reading = None;
        Ok(())
    }
}

/// An envelope's `data`: the records' array (OneLogin), or an object whose `events` array
/// holds them (an Okta event hook delivery, `{"eventType": "com.okta.event_hook", "data":
/// {"events": [...]}}`, saved to a file).
struct DataSeed<'w, 'a> {
    walk: &'w mut Walk<'a>,
}

impl<'de> DeserializeSeed<'de> for DataSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for DataSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of records, or an object with an events array")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        ArraySeed {
            walk: self.walk,
            key: Some("data"),
        }
        .visit_seq(seq)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            if key == "events" {
                map.next_value_seed(ArraySeed {
                    walk: &mut *self.walk,
                    key: Some("data.events"),
                })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

struct Document<'w, 'a> {
    walk: &'w mut Walk<'a>,
}

impl<'de> Visitor<'de> for Document<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON array of records, or an object with a value/records/items/data array")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        ArraySeed {
            walk: self.walk,
            key: None,
        }
        .visit_seq(seq)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            if key == "data" {
                map.next_value_seed(DataSeed {
                    walk: &mut *self.walk,
                })?;
            } else if ENVELOPE_KEYS.contains(&key.as_str()) {
                map.next_value_seed(ArraySeed {
                    walk: self.walk,
                    key: Some(&key),
                })?;
            } else if key == "kind" {
                let kind = map.next_value::<Value>()?;
                if kind.as_str().is_some_and(|k| LIST_PAGE_KINDS.contains(&k)) {
                    // A list page: zero records when its records' key is left out.
                    self.walk.found_array = true;
                }
            } else {
                // Paging links, counts: not records.
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for Document<'_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

fn json_document<R: BufRead>(
    reader: R,
    reads: &Reads,
    each: &mut dyn FnMut(RawRecord) -> Result<(), String>,
) -> Result<(), FramingError> {
    let mut walk = Walk {
        each,
        reads,
        stopped: None,
        found_array: false,
        page: 1,
        reading: None,
    };
    let places = Rc::new(RefCell::new(Places::default()));
    let mut de = serde_json::Deserializer::from_reader(SkipBom {
        inner: reader,
        checked: false,
        places: Some(Rc::clone(&places)),
    });
    // Several documents may follow each other (Graph pages saved one after another); each
    // must hold records (or be a list page that has none), or it is not a page at all.
    // PowerShell's `ConvertTo-Json` writes a page of one record as that object, not as
    // an array of one: an object after the first document that holds no records is a
    // record, handed on with its exact bytes.
    let result = loop {
        walk.found_array = false;
        if walk.page > 1 {
            places.borrow_mut().capture();
        }
        match (Document { walk: &mut walk }).deserialize(&mut de) {
            Err(e) => break Err(e),
            Ok(()) if !walk.found_array && walk.page > 1 => {
                let Some((line, kept)) = places.borrow_mut().captured.take() else {
                    break Ok(());
                };
                let raw = kept.trim_ascii();
                if !raw.starts_with(b"{") {
                    break Ok(());
                }
                walk.found_array = true;
                let record = RawRecord {
                    location: Location::Line(line as u64),
                    raw: raw.to_vec(),
                    value: record_value(raw, reads, line as u64),
                };
                if let Err(why) = (walk.each)(record) {
                    walk.stopped = Some(why);
                    break Ok(());
                }
                if de.end().is_ok() {
                    break Ok(());
                }
                walk.page += 1;
            }
            Ok(()) if de.end().is_ok() || !walk.found_array => break Ok(()),
            Ok(()) => walk.page += 1,
        }
    };
    if let Some(why) = walk.stopped {
        return Err(FramingError::Stopped(why));
    }
    match result {
        Err(e) => {
            let at_fault = places.borrow().byte_at(e.line(), e.column());
            let (place, problem) = json_error_place(&e, at_fault);
            Err(FramingError::Shape {
                at: match &walk.reading {
                    Some((key, index)) => format!(
                        "record {}, {place}",
                        Location::Index {
                            key: key.clone(),
                            index: *index
                        }
                    ),
                    None => place,
                },
                problem,
            })
        }
        Ok(()) if !walk.found_array => Err(FramingError::Shape {
            at: "top level".into(),
            problem: format!(
                "a JSON object without a value/records/items/data array of records{}",
                if walk.page > 1 {
                    ", after one that had one (pages and records mixed in one file?)"
                } else {
                    " (not an export of records?)"
                }
            ),
        }),
        Ok(()) => Ok(()),
    }
}

fn csv_rows<R: BufRead>(
    reader: R,
    each: &mut dyn FnMut(RawRecord) -> Result<(), String>,
) -> Result<(), FramingError> {
    // csv's own line numbers lag by one per CRLF row (what spreadsheets and our own CSVs
    // write): count the newlines the parser reads instead, by the byte offsets it reports.
    let lines = LineCounter::default();
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(lines.wrap(SkipBom {
            inner: reader,
            checked: false,
            places: None,
        }));
    let headers: Vec<String> = rdr
        .headers()
        .map_err(|e| FramingError::Shape {
            at: "line 1".into(),
            problem: format!("not a CSV header row: {e}"),
        })?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    // A log line carrying JSON after a prefix (GitHub Enterprise Server's syslog
    // `... github_audit: {...}`) is no header: read as one, its file would be an empty
    // export, or its second line the first bad row.
    if headers.iter().any(|h| h.contains('{')) {
        return Err(FramingError::Shape {
            at: "line 1".into(),
            problem: "JSON after a prefix, not a CSV header row nor a JSON record (a syslog \
                      line?); keep only the JSON of each line, e.g. `sed 's/^[^{]*//'`"
                .into(),
        });
    }
    // Names head a CSV, never a date and time: a first cell that starts with one is a text
    // log line (Keycloak's server log, say), whose rows would each be refused as the wrong
    // width.
    let dated = |h: &str| {
        let b = h.as_bytes();
        b.len() >= 16
            && b.iter().take(16).enumerate().all(|(i, c)| match i {
                4 | 7 => *c == b'-',
                10 => *c == b' ' || *c == b'T',
                13 => *c == b':',
                _ => c.is_ascii_digit(),
            })
    };
    if headers.first().is_some_and(|h| dated(h)) {
        return Err(FramingError::Shape {
            at: "line 1".into(),
            problem: "a text log line (it starts with a date), not a CSV header row nor a \
                      JSON record; text logs are not read, as their times carry no zone. \
                      For Keycloak's server log, turn on JSON logging \
                      (`--log-console-output=json` or `--log-file-output=json`) and ingest \
                      those lines"
                .into(),
        });
    }
    let header_line = csv_line(headers.iter().map(String::as_str)).map_err(FramingError::Io)?;
    let mut record = csv::StringRecord::new();
    loop {
        let line = lines.line_at(rdr.position().byte());
        match rdr.read_record(&mut record) {
            Ok(false) => return Ok(()),
            Ok(true) => {}
            Err(e) => {
                each(RawRecord {
                    location: Location::Line(line),
                    raw: Vec::new(),
                    value: Err(format!("not a CSV row: {e}")),
                })
                .map_err(FramingError::Stopped)?;
                continue;
            }
        }
        let line = record
            .position()
            .map(|p| lines.line_at(p.byte()))
            .unwrap_or(line)
            .max(2);
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let mut raw = header_line.clone();
        raw.extend_from_slice(&csv_line(record.iter()).map_err(FramingError::Io)?);
        let value = if record.len() != headers.len() {
            Err(format!(
                "row has {} cells, the header has {}",
                record.len(),
                headers.len()
            ))
        } else {
            Ok(Value::Object(
                headers
                    .iter()
                    .zip(record.iter())
                    .map(|(h, c)| (h.clone(), Value::String(c.to_string())))
                    .collect(),
            ))
        };
        each(RawRecord {
            location: Location::Line(line),
            raw,
            value,
        })
        .map_err(FramingError::Stopped)?;
    }
}

/// Where a document's syntax error is, and what it is, given the byte at fault. A line end
/// inside a string (LF: reported at column 0 of the next line; CRLF: at the CR) is a
/// string left open at the end of its line: what a record cut short by a truncated export
/// looks like.
fn json_error_place(e: &serde_json::Error, at_fault: Option<u8>) -> (String, String) {
    let problem = without_position(e);
    if problem.starts_with("control character") {
        let line = match at_fault {
            Some(b'\n') => Some(e.line().saturating_sub(1)),
            Some(b'\r') => Some(e.line()),
            _ => None,
        };
        if let Some(line) = line {
            return (
                format!("end of line {line}"),
                "a string is still open at the end of the line (is the record cut short?)".into(),
            );
        }
    }
    (format!("line {} column {}", e.line(), e.column()), problem)
}

/// serde_json's message without its " at line L column C" (the caller says where).
fn without_position(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    text.strip_suffix(&suffix).unwrap_or(&text).to_string()
}

/// The line (from 1) of a byte offset of a stream, from the newlines that passed through
/// the reader it wraps. Offsets are asked in increasing order, so only the newlines read
/// ahead of the last one asked are kept.
#[derive(Clone, Default)]
struct LineCounter {
    state: std::rc::Rc<std::cell::RefCell<LineState>>,
}

#[derive(Default)]
struct LineState {
    /// Bytes read so far.
    offset: u64,
    /// Offsets of newlines read but not yet passed by a query.
    ahead: std::collections::VecDeque<u64>,
    /// Newlines before the last offset asked.
    passed: u64,
}

impl LineCounter {
    fn wrap<R: Read>(&self, inner: R) -> Counted<R> {
        Counted {
            inner,
            state: self.clone(),
        }
    }

    fn line_at(&self, byte: u64) -> u64 {
        let mut s = self.state.borrow_mut();
        // csv reports a record as starting at the newline that ends the line before it
        // (`\n` of a CRLF included), so that newline counts as passed.
        while s.ahead.front().is_some_and(|&nl| nl <= byte) {
            s.ahead.pop_front();
            s.passed += 1;
        }
        s.passed + 1
    }
}

struct Counted<R> {
    inner: R,
    state: LineCounter,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut s = self.state.state.borrow_mut();
        let start = s.offset;
        for (i, b) in buf.get(..n).unwrap_or_default().iter().enumerate() {
            if *b == b'\n' {
                s.ahead.push_back(start + i as u64);
            }
        }
        s.offset += n as u64;
        Ok(n)
    }
}

/// One CSV line of `cells`. Writing to memory does not fail, but csv's API says it may.
fn csv_line<'a>(cells: impl Iterator<Item = &'a str>) -> io::Result<Vec<u8>> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    w.write_record(cells)?;
    w.into_inner().map_err(|e| e.into_error())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(input: &[u8]) -> (Content, Vec<RawRecord>) {
        let mut out = vec![];
        let c = for_each_record(input, &Reads::All, &mut |r| {
            out.push(r);
            Ok(())
        })
        .unwrap();
        (c, out)
    }

    static NESTED: Reads =
        Reads::Keys(&[("id", Reads::All), ("a", Reads::Keys(&[("b", Reads::All)]))]);

    #[test]
    fn a_pruned_record_keeps_only_what_is_read_at_every_depth() {
        let text = r#"{"id":7,"skip":{"deep":[1,2,{"x":null}]},"a":[{"b":1.5,"c":2},{"c":3},"s",null],"id":"last"}"#;
        let got = parse_record(text, &NESTED).unwrap();
        // A repeated key: the last wins, as in a whole `Value`.
        let want = serde_json::json!({"id": "last", "a": [{"b": 1.5}, {}, "s", null]});
        assert_eq!(got, want);
        // A value read whole is what a whole parse gives, numbers and escapes included.
        let text =
            r#"{"id":{"n":-1,"u":18446744073709551615,"f":1e-7,"s":"\u00e9\n"},"a":{"b":true}}"#;
        let whole: Value = serde_json::from_str(text).unwrap();
        assert_eq!(parse_record(text, &NESTED).unwrap(), whole);
        // Not an object at the top: kept as it is.
        assert_eq!(
            parse_record("[1,\"x\"]", &NESTED).unwrap(),
            serde_json::json!([1, "x"])
        );
    }

    #[test]
    fn a_pruned_parse_refuses_malformed_json_as_a_whole_parse_does() {
        for bad in [
            r#"{"id":1,"skip":{"x":tru}}"#,
            r#"{"id":1,"skip":"unterminated}"#,
            r#"{"id":1,"skip":"bad \q escape"}"#,
            r#"{"id":1,"skip":[1,2,]}"#,
            r#"{"id":1} trailing"#,
            r#"{"id":1,"a":{"b":01}}"#,
            r#"{"id":1,"skip":{"x":1}"#,
        ] {
            // At the same place; the words may differ (a skipped array's trailing comma is
            // "expected value" rather than "trailing comma").
            let whole = serde_json::from_str::<Value>(bad).unwrap_err();
            let pruned = parse_record(bad, &NESTED).unwrap_err();
            assert_eq!(
                (pruned.line(), pruned.column(), pruned.classify()),
                (whole.line(), whole.column(), whole.classify()),
                "{bad}"
            );
        }
    }

    #[test]
    fn framing_parses_json_lines_and_documents_with_the_reads_it_is_given() {
        let lines = b"{\"id\":1,\"skip\":2}\n";
        let doc = b"{\"value\":[{\"id\":1,\"skip\":2}]}";
        for input in [&lines[..], &doc[..]] {
            let mut values = vec![];
            for_each_record(input, &NESTED, &mut |r| {
                values.push(r.value.unwrap());
                assert!(String::from_utf8(r.raw).unwrap().contains("skip"));
                Ok(())
            })
            .unwrap();
            assert_eq!(values, vec![serde_json::json!({"id": 1})]);
        }
    }

    #[test]
    fn csv_lines_are_right_with_crlf_and_quoted_newlines() {
        let lf = b"a,b\n1,2\nx,\"multi\nline\"\n3,4\n";
        let crlf = b"a,b\r\n1,2\r\nx,\"multi\r\nline\"\r\n3,4\r\n";
        for input in [&lf[..], &crlf[..]] {
            let (_, r) = collect(input);
            let lines: Vec<Location> = r.iter().map(|r| r.location.clone()).collect();
            assert_eq!(
                lines,
                vec![Location::Line(2), Location::Line(3), Location::Line(5)]
            );
        }
    }

    #[test]
    fn json_errors_say_where_once() {
        let mut seen = vec![];
        let err = for_each_record(&b"[{\"a\":1},\n {\"b\":\"tru"[..], &Reads::All, &mut |r| {
            seen.push(r);
            Ok(())
        });
        match err {
            Err(FramingError::Shape { at, problem }) => {
                assert_eq!(at, "record [1], line 2 column 10");
                assert!(!problem.contains("line"), "{problem}");
            }
            other => panic!("{other:?}"),
        }
        // A record cut short inside a string, then a newline: the fault is the first line's.
        for (input, at) in [
            (&b"{\"a\":\"cut\n"[..], "end of line 1"),
            (
                &b"[{\"a\":1},\n {\"b\":\"cut\n]"[..],
                "record [1], end of line 2",
            ),
            (
                &b"[{\"a\":1},\r\n {\"b\":\"cut\r\n]"[..],
                "record [1], end of line 2",
            ),
        ] {
            match for_each_record(input, &Reads::All, &mut |_| Ok(())) {
                Err(FramingError::Shape { at: got, problem }) => {
                    assert_eq!(got, at, "{problem}");
                    assert!(problem.contains("cut short"), "{problem}");
                }
                other => panic!("{other:?}"),
            }
        }
        // A control character that is not a newline keeps serde's place and words.
        match for_each_record(&b"{\"a\":\"x\ty\"}\n"[..], &Reads::All, &mut |_| Ok(())) {
            Err(FramingError::Shape { at, problem }) => {
                assert_eq!(at, "line 1 column 8");
                assert!(problem.starts_with("control character"), "{problem}");
            }
            other => panic!("{other:?}"),
        }
        let (_, r) = collect(b"{\"a\":1}\n{\"b\":\"tru\n");
        let e = r[1].value.as_ref().err().cloned().unwrap_or_default();
        assert_eq!(r[1].location, Location::Line(2));
        assert!(e.starts_with("column ") && !e.contains("line"), "{e}");
    }

    /// `jq .` output (objects one after another, pretty), a single pretty record (a Graph
    /// `GET` of one audit), and UTF-16 (Windows PowerShell's `>`), refused with a way out.
    #[test]
    fn pretty_objects_one_after_another_are_records_and_utf16_is_named() {
        let input = "\u{FEFF}{\n  \"id\": \"a\",\n  \"note\": \"} { \\\" [\"\n}\n\n{\n  \"id\": \"b\",\n  \"list\": [{}]\n}\n";
        let (c, r) = collect(input.as_bytes());
        assert_eq!((c, r.len()), (Content::JsonLines, 2));
        assert_eq!(r[0].location, Location::Line(1));
        assert_eq!(
            r[0].raw,
            "{\n  \"id\": \"a\",\n  \"note\": \"} { \\\" [\"\n}".as_bytes()
        );
        assert_eq!(r[0].value.as_ref().unwrap()["note"], "} { \" [");
        assert_eq!(r[1].location, Location::Line(6));
        assert_eq!(r[1].value.as_ref().unwrap()["id"], "b");
        // A malformed record names its own line in the file; a torn end is refused.
        let (_, r) = collect(b"{\n\"id\": \"a\"\n}\n{\n\"id\": \"b\",\n\"n\": tru\n}\n");
        let bad = r[1].value.as_ref().unwrap_err();
        // (serde_json may stop on the byte after the fault: the newline that ends line 6.)
        assert!(
            bad.contains("expected ident")
                && (bad.starts_with("line 6 ") || bad.starts_with("line 7 ")),
            "{bad}"
        );
        let torn = for_each_record(
            &b"{\n\"id\": 1\n}\n{\n\"id\": 2\n"[..],
            &Reads::All,
            &mut |_| Ok(()),
        );
        assert!(torn
            .unwrap_err()
            .to_string()
            .contains("ends inside this record"));
        let junk = for_each_record(&b"{\n\"id\": 1\n}\nx"[..], &Reads::All, &mut |_| Ok(()));
        assert!(junk.unwrap_err().to_string().contains("line 4"));

        // Pages written by PowerShell (`$page.value | ConvertTo-Json | Out-File -Append`,
        // as Microsoft-Extractor-Suite does): arrays one after another, and a page of one
        // record as the bare object.
        let pages = "[\n    {\"id\": 1},\n    {\"id\": 2}\n]\n{\n    \"id\": 3,\n    \"s\": \"}\"\n}\n[\n    {\"id\": 4}\n]\n";
        let (c, r) = collect(pages.as_bytes());
        assert_eq!((c, r.len()), (Content::JsonDocument, 4));
        assert_eq!(
            r[2].raw,
            "{\n    \"id\": 3,\n    \"s\": \"}\"\n}".as_bytes()
        );
        assert_eq!(r[2].location, Location::Line(5));
        assert_eq!(r[3].value.as_ref().unwrap()["id"], 4);
        let last = "[{\"id\": 1}]\n{\"id\": 2}";
        let (_, r) = collect(last.as_bytes());
        assert_eq!(r[1].raw, b"{\"id\": 2}");

        // GitHub Enterprise Server's syslog lines: the JSON after `github_audit: ` is the
        // record; a line without it is a bad record, not a silent skip.
        let (c, r) = collect(
            b"<14>1 2026-03-19T07:00:00Z ghes github_audit: {\"action\":\"user.suspend\",\"user\":\"x\"}\nMar 19 07:00:01 ghes github_audit: {\"a\":3}\nMar 19 07:00:02 ghes sshd: noise\n",
        );
        assert_eq!((c, r.len()), (Content::JsonLines, 3));
        assert_eq!(r[0].raw, b"{\"action\":\"user.suspend\",\"user\":\"x\"}");
        assert_eq!(r[1].location, Location::Line(2));
        assert_eq!(r[1].value.as_ref().unwrap()["a"], 3);
        assert!(r[2].value.as_ref().unwrap_err().contains("github_audit"));
        // Other log lines with JSON after a prefix are no CSV either.
        for lines in [
            &b"Mar 19 07:00:00 host app: {\"action\":\"user.suspend\",\"user\":\"x\"}\n"[..],
            b"Mar 19 07:00:00 host app: {\"a\":1,\"b\":2}\nMar 19 07:00:01 host app: {\"a\":3}\n",
        ] {
            let err = for_each_record(lines, &Reads::All, &mut |_| Ok(())).unwrap_err();
            assert!(err.to_string().contains("JSON after a prefix"), "{err}");
        }
        // Keycloak's text log (keycloak/keycloak issue #35732): a line that starts with a
        // date and time is no header; a CSV whose first column is named by a date stays one.
        let keycloak = b"2024-10-17 10:43:38,199 WARN  [org.keycloak.events] (executor-thread-26) type=\"LOGIN_ERROR\", realmId=\"15b3a838\", userId=\"4e2f\", error=\"invalid_user_credentials\"\n";
        let err = for_each_record(&keycloak[..], &Reads::All, &mut |_| Ok(())).unwrap_err();
        assert!(err.to_string().contains("text log line"), "{err}");
        let (c, r) = collect(b"2024-10-17,b\n1,2\n");
        assert_eq!((c, r.len()), (Content::Csv, 1));

        let utf16: Vec<u8> = "\u{FEFF}[{\"id\":1}]"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        for input in [&utf16[..], &utf16[2..]] {
            let err = for_each_record(input, &Reads::All, &mut |_| Ok(())).unwrap_err();
            assert!(
                err.to_string().contains("UTF-16 text; expected UTF-8"),
                "{err}"
            );
        }
    }

    #[test]
    fn arrays_envelopes_lines_and_csv() {
        let (c, r) = collect(b"[{\"a\":1}, {\"a\":2}]");
        assert_eq!(c, Content::JsonDocument);
        assert_eq!(r.len(), 2);
        assert_eq!(r[1].raw, b"{\"a\":2}");
        assert_eq!(r[1].location.to_string(), "[1]");
        let bin =
            for_each_record(&b"\x00\x01binary"[..], &Reads::All, &mut |_| Ok(())).unwrap_err();
        assert!(bin.to_string().contains("binary data"), "{bin}");

        let (_, r) =
            collect(b"{\"@odata.context\":\"x\",\"value\":[{\"id\":1}],\"@odata.nextLink\":\"y\"}");
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].location.to_string(), "value[0]");
        // An Okta event hook delivery saved to a file: its records are `data.events`.
        let (c, r) = collect(
            b"{\"eventType\":\"com.okta.event_hook\",\"data\":{\"note\":{},\"events\":[{\"a\":1},{\"a\":2}]},\"eventTime\":\"x\"}",
        );
        assert_eq!(c, Content::JsonDocument);
        assert_eq!(r.len(), 2);
        assert_eq!(r[1].location.to_string(), "data.events[1]");
        assert_eq!(r[1].raw, b"{\"a\":2}");
        let (_, r) = collect(b"{\"status\":{},\"data\":[{\"id\":7}]}");
        assert_eq!(r[0].location.to_string(), "data[0]");
        // A Google Reports page of no activities leaves `items` out: zero records, on one
        // line or several; another object without records is still refused below.
        for empty in [
            &b"{\"kind\":\"admin#reports#activities\",\"etag\":\"\\\"x/y\\\"\"}"[..],
            b"{\n  \"kind\": \"admin#reports#activities\",\n  \"etag\": \"e\"\n}\n",
        ] {
            let (c, r) = collect(empty);
            assert_eq!((c, r.len()), (Content::JsonDocument, 0));
        }
        // Such a page followed by an object that is no page: that object is a record, not
        // lost as if the file were empty.
        let then_lines =
            b"{\"kind\":\"admin#reports#activities\"}\n{\"id\":{\"time\":\"t\"},\"events\":[]}\n";
        let (_, r) = collect(then_lines);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].raw, b"{\"id\":{\"time\":\"t\"},\"events\":[]}");
        assert_eq!(r[0].location, Location::Line(2));
        // One object over several lines that holds no records is a record.
        let (c, r) = collect(b"{\n\"data\":{\"x\":[{}]}\n}");
        assert_eq!((c, r.len()), (Content::JsonLines, 1));
        assert_eq!(r[0].raw, b"{\n\"data\":{\"x\":[{}]}\n}");

        let (c, r) = collect(b"\xEF\xBB\xBF{\"a\":1}\r\n\r\n{\"a\":2}\n");
        assert_eq!(c, Content::JsonLines);
        assert_eq!(r[1].location, Location::Line(3));
        assert_eq!(r[1].raw, b"{\"a\":2}");

        let (c, r) =
            collect(b"name,when\r\n\"N\xC3\xBA\xC3\xB1ez, Jos\xC3\xA9\",2026-01-01T00:00:00Z\n");
        assert_eq!(c, Content::Csv);
        assert_eq!(r[0].value.as_ref().unwrap()["name"], "Núñez, José");
        assert_eq!(r[0].location, Location::Line(2));
        assert_eq!(
            r[0].raw,
            "name,when\n\"Núñez, José\",2026-01-01T00:00:00Z\n".as_bytes()
        );
        let (_, r) = collect(b"a,b\n1,2\n\"x\ny\",3\n4,5\n");
        let lines: Vec<String> = r.iter().map(|r| r.location.to_string()).collect();
        assert_eq!(lines, ["2", "3", "5"]);
    }

    #[test]
    fn shapes_that_are_not_records_are_errors_not_panics() {
        for bad in [
            &b"[1, 2"[..],
            b"[{\"a\":1},",
            b"{\"value\":[{\"a\":1}]} trailing",
        ] {
            let err = for_each_record(bad, &Reads::All, &mut |_| Ok(())).unwrap_err();
            assert!(matches!(err, FramingError::Shape { .. }), "{err}");
        }
        let (c, r) = collect(b"   \n");
        assert_eq!(c, Content::Empty);
        assert!(r.is_empty());
    }
}
