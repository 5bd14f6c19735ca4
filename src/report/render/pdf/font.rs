//! The embedded DejaVu faces: glyph advances for measuring and wrapping, replacement of
//! characters a face cannot draw, and the subset that goes into the PDF.
//!
//! printpdf 0.12 without its `text_layout` feature embeds whole font programs (about 1.8 MB
//! for the three faces). We subset them here instead, keeping every glyph id: unused glyphs
//! become empty outlines and the layout/shaping tables go, so the content stream, `/W`
//! widths and `/ToUnicode` map printpdf writes (all keyed by the original ids) stay right.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use printpdf::ParsedFont;

use super::PdfError;

const SANS: &[u8] = include_bytes!("../../../../assets/fonts/DejaVuSans.ttf");
const SANS_BOLD: &[u8] = include_bytes!("../../../../assets/fonts/DejaVuSans-Bold.ttf");
const MONO: &[u8] = include_bytes!("../../../../assets/fonts/DejaVuSansMono.ttf");

/// A typeface of the report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Face {
    Regular,
    Bold,
    Mono,
}

impl Face {
    pub(super) const ALL: [Face; 3] = [Face::Regular, Face::Bold, Face::Mono];

    /// This face's item of `per_face`, which is in [`Face::ALL`] order.
    pub(super) fn of<T>(self, per_face: &[T; 3]) -> &T {
        let [regular, bold, mono] = per_face;
        match self {
            Face::Regular => regular,
            Face::Bold => bold,
            Face::Mono => mono,
        }
    }

    /// This face's item of `per_face`, which is in [`Face::ALL`] order.
    pub(super) fn of_mut<T>(self, per_face: &mut [T; 3]) -> &mut T {
        let [regular, bold, mono] = per_face;
        match self {
            Face::Regular => regular,
            Face::Bold => bold,
            Face::Mono => mono,
        }
    }

    fn bytes(self) -> &'static [u8] {
        match self {
            Face::Regular => SANS,
            Face::Bold => SANS_BOLD,
            Face::Mono => MONO,
        }
    }

    /// The PDF resource name and base font name (fixed, so output is deterministic).
    pub(super) fn name(self) -> &'static str {
        match self {
            Face::Regular => "DejaVuSans",
            Face::Bold => "DejaVuSans-Bold",
            Face::Mono => "DejaVuSansMono",
        }
    }
}

/// Metrics of one face, parsed once from the full font.
pub(super) struct Metrics {
    glyphs: BTreeMap<u32, u16>,
    advances: BTreeMap<u16, u16>,
    units_per_em: f32,
}

impl Metrics {
    fn glyph(&self, c: char) -> Option<u16> {
        self.glyphs.get(&(c as u32)).copied().filter(|g| *g != 0)
    }

    fn advance(&self, c: char) -> f32 {
        let gid = self.glyph(c).unwrap_or(0);
        f32::from(self.advances.get(&gid).copied().unwrap_or(0)) / self.units_per_em
    }
}

/// The three faces' metrics.
pub(super) struct Fonts {
    faces: [Metrics; 3],
}

static FONTS: OnceLock<Result<Fonts, String>> = OnceLock::new();

impl Fonts {
    /// The faces, parsed on first use.
    pub(super) fn get() -> Result<&'static Fonts, PdfError> {
        FONTS
            .get_or_init(Fonts::parse)
            .as_ref()
            .map_err(|e| PdfError::Font(e.clone()))
    }

    fn parse() -> Result<Fonts, String> {
        let metrics = |face: Face| -> Result<Metrics, String> {
            let parsed = ParsedFont::from_bytes(face.bytes(), 0, &mut Vec::new())
                .ok_or_else(|| format!("{} does not parse", face.name()))?;
            if parsed.units_per_em == 0 || parsed.codepoint_to_glyph.is_empty() {
                return Err(format!("{} has no metrics or no cmap", face.name()));
            }
            Ok(Metrics {
                units_per_em: f32::from(parsed.units_per_em),
                glyphs: parsed.codepoint_to_glyph,
                advances: parsed.glyph_widths,
            })
        };
        Ok(Fonts {
            faces: [
                metrics(Face::Regular)?,
                metrics(Face::Bold)?,
                metrics(Face::Mono)?,
            ],
        })
    }

    fn metrics(&self, face: Face) -> &Metrics {
        face.of(&self.faces)
    }

    /// The text as the face will draw it: control characters become spaces, characters the
    /// face lacks become U+FFFD (or `?`). Measuring and drawing both use this.
    pub(super) fn clean(&self, face: Face, text: &str) -> String {
        let m = self.metrics(face);
        text.chars()
            .map(|c| {
                if c.is_control() || (c.is_whitespace() && c != ' ' && c != '\u{a0}') {
                    ' '
                } else if m.glyph(c).is_some() {
                    c
                } else if m.glyph('\u{fffd}').is_some() {
                    '\u{fffd}'
                } else {
                    '?'
                }
            })
            .collect()
    }

    /// Width in points of already-cleaned text.
    pub(super) fn width(&self, face: Face, size: f32, text: &str) -> f32 {
        let m = self.metrics(face);
        text.chars().map(|c| m.advance(c)).sum::<f32>() * size
    }

    /// Wraps `text` to lines no wider than `width`. Lines break at spaces; a word goes whole
    /// to the next line when it fits there, and only a word wider than a whole line breaks
    /// inside, at its natural points ([`pieces`]), starting on a line of its own: so dates,
    /// times, numbers, severities and plain words stay whole. A piece wider than a whole line is the one case left, and only
    /// there does a line break between two characters. `\n` starts a new line. Always at
    /// least one (possibly empty) line.
    pub(super) fn wrap(&self, face: Face, size: f32, text: &str, width: f32) -> Vec<String> {
        let mut lines = Vec::new();
        let space = self.width(face, size, " ");
        for hard in text.split('\n') {
            let hard = self.clean(face, hard);
            let mut line = String::new();
            let mut line_w = 0.0;
            for word in words(&hard) {
                let word_w = self.width(face, size, word);
                let sep = if line.is_empty() { 0.0 } else { space };
                if line_w + sep + word_w <= width {
                    if !line.is_empty() {
                        line.push(' ');
                    }
                    line.push_str(word);
                    line_w += sep + word_w;
                    continue;
                }
                if word_w <= width {
                    lines.push(std::mem::take(&mut line));
                    line = word.to_string();
                    line_w = word_w;
                    continue;
                }
                // Too wide for any line: its pieces fill lines of their own, so that the
                // word reads as one block (`kai.brandt` / `@acme.example`).
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                    line_w = 0.0;
                }
                for piece in pieces(word) {
                    let piece_w = self.width(face, size, piece);
                    if !line.is_empty() && line_w + piece_w > width {
                        lines.push(std::mem::take(&mut line));
                        line_w = 0.0;
                    }
                    if line.is_empty() && piece_w > width {
                        // The last resort: a piece no line can hold.
                        for c in piece.chars() {
                            let w = self.metrics(face).advance(c) * size;
                            if !line.is_empty() && line_w + w > width {
                                lines.push(std::mem::take(&mut line));
                                line_w = 0.0;
                            }
                            line.push(c);
                            line_w += w;
                        }
                    } else {
                        line.push_str(piece);
                        line_w = self.width(face, size, &line);
                    }
                }
            }
            lines.push(line);
        }
        lines
    }

    /// The width of the widest piece of `text` that [`Fonts::wrap`] never breaks (a word, or
    /// a piece of a word between its natural break points): the narrowest column that shows
    /// the text without breaking inside a piece.
    pub(super) fn min_width(&self, face: Face, size: f32, text: &str) -> f32 {
        self.widest_word(face, size, text, pieces)
    }

    /// The width of the widest word of `text`: the narrowest column that shows the text
    /// without breaking inside a word.
    pub(super) fn word_width(&self, face: Face, size: f32, text: &str) -> f32 {
        self.widest_word(face, size, text, |w| vec![w])
    }

    /// The width of the widest part of any word of `text`, words cut into parts by `parts`.
    fn widest_word(
        &self,
        face: Face,
        size: f32,
        text: &str,
        parts: impl Fn(&str) -> Vec<&str>,
    ) -> f32 {
        text.split('\n')
            .flat_map(|hard| {
                let hard = self.clean(face, hard);
                words(&hard)
                    .into_iter()
                    .flat_map(&parts)
                    .map(|p| self.width(face, size, p))
                    .collect::<Vec<_>>()
            })
            .fold(0.0, f32::max)
    }

    /// The width of the widest line of `text` unwrapped (its lines are those `\n` makes).
    pub(super) fn natural_width(&self, face: Face, size: f32, text: &str) -> f32 {
        text.split('\n')
            .map(|hard| {
                let hard = self.clean(face, hard);
                let words: Vec<&str> = hard.split(' ').filter(|w| !w.is_empty()).collect();
                self.width(face, size, &words.join(" "))
            })
            .fold(0.0, f32::max)
    }

    /// `text` cut to `width`, with an ellipsis when cut.
    pub(super) fn fit(&self, face: Face, size: f32, text: &str, width: f32) -> String {
        let text = self.clean(face, text);
        if self.width(face, size, &text) <= width {
            return text;
        }
        let m = self.metrics(face);
        let budget = width - m.advance('…') * size;
        let mut out = String::new();
        let mut w = 0.0;
        for c in text.chars() {
            w += m.advance(c) * size;
            if w > budget {
                break;
            }
            out.push(c);
        }
        out.truncate(out.trim_end().len());
        out.push('…');
        out
    }

    /// The glyph ids the given characters use in `face`.
    pub(super) fn glyph_ids(&self, face: Face, chars: &BTreeSet<char>) -> BTreeSet<u16> {
        let m = self.metrics(face);
        chars.iter().filter_map(|c| m.glyph(*c)).collect()
    }
}

/// Units that stay on the line of the number before them (`2 d`, `55.6 %`, `08:00 UTC`,
/// also followed by punctuation: `2 d:`).
const UNITS: [&str; 7] = ["d", "h", "min", "s", "ms", "%", "UTC"];

/// The words of a line as wrapping sees them: split at spaces, except that a number and the
/// unit after it are one word.
fn words(line: &str) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    let mut start: Option<usize> = None;
    let mut end = 0;
    let mut prev_numeric = false;
    for (at, word) in line
        .split(' ')
        .scan(0, |pos, w| {
            let at = *pos;
            *pos += w.len() + 1;
            Some((at, w))
        })
        .filter(|(_, w)| !w.is_empty())
    {
        let unit = word.trim_end_matches([':', ',', ';', '.', ')']);
        let glue = prev_numeric && end + 1 == at && UNITS.contains(&unit);
        match start {
            Some(s) if glue => {
                out.pop();
                out.push(line.get(s..at + word.len()).unwrap_or(word));
            }
            _ => {
                start = Some(at);
                out.push(word);
            }
        }
        end = at + word.len();
        prev_numeric = !glue
            && word.starts_with(|c: char| c.is_ascii_digit() || c == '−')
            && word
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '.' | ',' | ':' | '−'));
    }
    out
}

/// `word` (no spaces) cut at its natural break points, the places a reader expects an
/// identifier to break: before `@`, and before a `.` between letters (e-mail addresses,
/// domains, event kinds); after `/`; after `-` or `_` between letters (compound ids such as
/// `access-after-expiry`); after `,` `;` `:` `+` `=` `&` `?`; before `(` (citations such as
/// `164.308(a)(1)(ii)(D)`); after the `T` of an ISO date and time. Never between two digits on either side of the mark, so dates
/// (`2026-02-06`), times (`23:20`), numbers (`55.6`, `164.308`) and lists of numbers stay
/// whole, and never inside a run of letters, so plain words and severities stay whole.
pub(super) fn pieces(word: &str) -> Vec<&str> {
    let chars: Vec<(usize, char)> = word.char_indices().collect();
    let at = |i: usize| chars.get(i).map(|(_, c)| *c);
    let digit = |c: Option<char>| c.is_some_and(|c| c.is_ascii_digit());
    let letter = |c: Option<char>| c.is_some_and(char::is_alphabetic);
    let mut out = Vec::new();
    let mut start = 0;
    for (i, &(byte, b)) in chars.iter().enumerate().skip(1) {
        let Some(a) = i.checked_sub(1).and_then(at) else {
            continue;
        };
        let before_a = i.checked_sub(2).and_then(at);
        let after_b = at(i + 1);
        let between_digits = |x: Option<char>, y: Option<char>| digit(x) && digit(y);
        let breaks = match (a, b) {
            (_, '@') => true,
            (_, '.') => letter(Some(a)) && letter(after_b),
            (_, '(') => a != '(',
            ('-' | '_', _) => letter(before_a) && letter(Some(b)),
            // An ISO 8601 date and time: `2026-01-14T` / `09:10:00Z`.
            ('T', _) => digit(before_a) && digit(Some(b)),
            ('/' | ',' | ';' | ':' | '+' | '=' | '&' | '?', _) => {
                !between_digits(before_a, Some(b))
            }
            _ => false,
        };
        if breaks && byte > start {
            out.push(word.get(start..byte).unwrap_or_default());
            start = byte;
        }
    }
    out.push(word.get(start..).unwrap_or_default());
    out.retain(|p| !p.is_empty());
    out
}

/// A parsed font ready for `PdfDocument` resources: `face` subset to `glyphs`.
pub(super) fn embedded(face: Face, glyphs: &BTreeSet<u16>) -> Result<ParsedFont, PdfError> {
    let bytes = subset(face.bytes(), glyphs)
        .ok_or_else(|| PdfError::Font(format!("{} could not be subset", face.name())))?;
    let mut font = ParsedFont::from_bytes(&bytes, 0, &mut Vec::new())
        .ok_or_else(|| PdfError::Font(format!("subset of {} does not parse", face.name())))?;
    // ISO 32000-1 9.6.4: a subset's name carries a six-letter tag; derive it from the
    // glyph set so the same report gives the same bytes.
    let mut hasher = blake3::Hasher::new();
    for g in glyphs {
        hasher.update(&g.to_be_bytes());
    }
    let tag: String = hasher.finalize().as_bytes()[..6]
        .iter()
        .map(|b| char::from(b'A' + b % 26))
        .collect();
    font.font_name = Some(format!("{tag}+{}", face.name()));
    Ok(font)
}

fn u16_at(data: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(*data.get(at..)?.first_chunk()?))
}

fn u32_at(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(*data.get(at..)?.first_chunk()?))
}

/// Tables a PDF TrueType font program needs (ISO 32000-1 9.9), plus `cmap` and `OS/2`
/// which printpdf reads back and `post` (cut to version 3, no glyph names).
const KEEP: [&[u8; 4]; 12] = [
    b"OS/2", b"cmap", b"cvt ", b"fpgm", b"gasp", b"glyf", b"head", b"hhea", b"hmtx", b"loca",
    b"maxp", b"post",
];

/// The TrueType font `font` with only `used` glyphs (and glyph 0, and the components of
/// composites) keeping outlines; glyph ids are unchanged. `None` if the font is not the
/// TrueType shape this expects.
pub(super) fn subset(font: &[u8], used: &BTreeSet<u16>) -> Option<Vec<u8>> {
    let num_tables = usize::from(u16_at(font, 4)?);
    let mut tables: BTreeMap<[u8; 4], &[u8]> = BTreeMap::new();
    for i in 0..num_tables {
        let rec = 12 + 16 * i;
        let tag: [u8; 4] = font.get(rec..rec + 4)?.try_into().ok()?;
        let offset = u32_at(font, rec + 8)? as usize;
        let length = u32_at(font, rec + 12)? as usize;
        tables.insert(tag, font.get(offset..offset.checked_add(length)?)?);
    }
    let head = *tables.get(b"head")?;
    let long_loca = u16_at(head, 50)? == 1;
    let num_glyphs = usize::from(u16_at(tables.get(b"maxp")?, 4)?);
    let loca = *tables.get(b"loca")?;
    let glyf = *tables.get(b"glyf")?;
    let offsets: Vec<usize> = (0..=num_glyphs)
        .map(|i| {
            if long_loca {
                u32_at(loca, 4 * i).map(|o| o as usize)
            } else {
                u16_at(loca, 2 * i).map(|o| usize::from(o) * 2)
            }
        })
        .collect::<Option<_>>()?;
    let outline = |gid: usize| -> &[u8] {
        match (offsets.get(gid), offsets.get(gid + 1)) {
            (Some(&a), Some(&b)) if a <= b => glyf.get(a..b).unwrap_or(&[]),
            _ => &[],
        }
    };

    // Glyphs to keep: the used ones, .notdef, and composites' components.
    let mut keep: BTreeSet<usize> = BTreeSet::new();
    let mut todo: Vec<usize> = used.iter().map(|g| usize::from(*g)).collect();
    todo.push(0);
    while let Some(gid) = todo.pop() {
        if gid >= num_glyphs || !keep.insert(gid) {
            continue;
        }
        todo.extend(components(outline(gid)));
    }

    let mut new_glyf = Vec::new();
    let mut new_loca = Vec::with_capacity(4 * (num_glyphs + 1));
    for gid in 0..num_glyphs {
        new_loca.extend_from_slice(&(new_glyf.len() as u32).to_be_bytes());
        if keep.contains(&gid) {
            new_glyf.extend_from_slice(outline(gid));
            while new_glyf.len() % 4 != 0 {
                new_glyf.push(0);
            }
        }
    }
    new_loca.extend_from_slice(&(new_glyf.len() as u32).to_be_bytes());

    let mut new_head = head.to_vec();
    new_head.get_mut(8..12)?.copy_from_slice(&[0; 4]); // checkSumAdjustment, set below
    new_head
        .get_mut(50..52)?
        .copy_from_slice(&1u16.to_be_bytes()); // long loca
    let new_post = tables.get(b"post").and_then(|p| {
        let mut p = p.get(..32)?.to_vec();
        p.get_mut(..4)?
            .copy_from_slice(&0x0003_0000u32.to_be_bytes());
        Some(p)
    });

    let mut out_tables: Vec<([u8; 4], Vec<u8>)> = Vec::new();
    for tag in KEEP {
        let data = match tag {
            b"glyf" => std::mem::take(&mut new_glyf),
            b"loca" => std::mem::take(&mut new_loca),
            b"head" => std::mem::take(&mut new_head),
            b"post" => match &new_post {
                Some(p) => p.clone(),
                None => continue,
            },
            _ => match tables.get(tag) {
                Some(t) => t.to_vec(),
                None => continue,
            },
        };
        out_tables.push((*tag, data));
    }
    Some(write_sfnt(font.get(..4)?, out_tables))
}

/// Glyph ids a composite outline refers to (none for a simple outline).
fn components(outline: &[u8]) -> Vec<usize> {
    const ARG_1_AND_2_ARE_WORDS: u16 = 0x0001;
    const WE_HAVE_A_SCALE: u16 = 0x0008;
    const MORE_COMPONENTS: u16 = 0x0020;
    const WE_HAVE_AN_X_AND_Y_SCALE: u16 = 0x0040;
    const WE_HAVE_A_TWO_BY_TWO: u16 = 0x0080;
    let mut out = Vec::new();
    let Some(contours) = u16_at(outline, 0) else {
        return out;
    };
    if (contours as i16) >= 0 {
        return out;
    }
    let mut at = 10;
    while let (Some(flags), Some(gid)) = (u16_at(outline, at), u16_at(outline, at + 2)) {
        out.push(usize::from(gid));
        at += 4;
        at += if flags & ARG_1_AND_2_ARE_WORDS != 0 {
            4
        } else {
            2
        };
        if flags & WE_HAVE_A_SCALE != 0 {
            at += 2;
        } else if flags & WE_HAVE_AN_X_AND_Y_SCALE != 0 {
            at += 4;
        } else if flags & WE_HAVE_A_TWO_BY_TWO != 0 {
            at += 8;
        }
        if flags & MORE_COMPONENTS == 0 || out.len() > 64 {
            break;
        }
    }
    out
}

fn checksum(data: &[u8]) -> u32 {
    data.chunks(4).fold(0u32, |sum, chunk| {
        let mut word = [0u8; 4];
        for (w, b) in word.iter_mut().zip(chunk) {
            *w = *b;
        }
        sum.wrapping_add(u32::from_be_bytes(word))
    })
}

/// An sfnt file from `tables` (sorted by tag, as the format requires).
fn write_sfnt(version: &[u8], mut tables: Vec<([u8; 4], Vec<u8>)>) -> Vec<u8> {
    tables.sort_by_key(|(tag, _)| *tag);
    let n = tables.len() as u16;
    let entry_selector = 15 - n.max(1).leading_zeros() as u16;
    let search_range = (1u16 << entry_selector) * 16;
    let mut out = Vec::new();
    out.extend_from_slice(version);
    out.extend_from_slice(&n.to_be_bytes());
    out.extend_from_slice(&search_range.to_be_bytes());
    out.extend_from_slice(&entry_selector.to_be_bytes());
    out.extend_from_slice(&(n * 16 - search_range).to_be_bytes());
    let mut offset = 12 + 16 * tables.len();
    let mut head_at = None;
    for (tag, data) in &tables {
        out.extend_from_slice(tag);
        out.extend_from_slice(&checksum(data).to_be_bytes());
        out.extend_from_slice(&(offset as u32).to_be_bytes());
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        if tag == b"head" {
            head_at = Some(offset);
        }
        offset += data.len().div_ceil(4) * 4;
    }
    for (_, data) in &tables {
        out.extend_from_slice(data);
        while out.len() % 4 != 0 {
            out.push(0);
        }
    }
    if let Some(at) = head_at {
        let adjustment = 0xB1B0_AFBAu32.wrapping_sub(checksum(&out));
        if let Some(slot) = out.get_mut(at + 8..at + 12) {
            slot.copy_from_slice(&adjustment.to_be_bytes());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIZE: f32 = 8.0;

    fn fonts() -> &'static Fonts {
        Fonts::get().unwrap()
    }

    fn w(text: &str) -> f32 {
        fonts().width(Face::Regular, SIZE, text)
    }

    fn wrap(text: &str, width: f32) -> Vec<String> {
        fonts().wrap(Face::Regular, SIZE, text, width)
    }

    #[test]
    fn dates_times_and_numbers_are_one_piece() {
        for word in [
            "2026-02-06",
            "23:20",
            "55.6",
            "164.308",
            "2026-01-14",
            "1,000",
            "1/2",
        ] {
            assert_eq!(pieces(word), [word], "{word}");
        }
        // Narrower than the date and the time together: they part at the space only.
        let lines = wrap("2026-02-06 00:00 UTC", w("2026-02-06") + 1.0);
        assert_eq!(lines, ["2026-02-06", "00:00 UTC"]);
        let lines = wrap("was 55.6 % on 2026-02-06", w("2026-02-06 ") + 1.0);
        assert_eq!(lines, ["was 55.6 %", "on", "2026-02-06"]);
    }

    #[test]
    fn numbers_keep_their_units() {
        assert_eq!(
            words("first 2 d 9 h after, 55.6 % at 08:00 UTC"),
            ["first", "2 d", "9 h", "after,", "55.6 %", "at", "08:00 UTC"]
        );
        assert_eq!(words("  a  2  d "), ["a", "2", "d"]);
        assert_eq!(
            words("7 d: 2 delivered; 2 d: due"),
            ["7 d:", "2", "delivered;", "2 d:", "due"]
        );
        let lines = wrap("expired: first 2 d 9 h after", w("expired: first 2") + 1.0);
        assert_eq!(lines, ["expired: first", "2 d 9 h after"]);
    }

    #[test]
    fn severities_and_plain_words_never_break() {
        for word in ["Critical", "Medium", "Severity", "Exceptions", "Zoë"] {
            assert_eq!(pieces(word), [word]);
            assert_eq!(wrap(word, w(word)), [word]);
        }
        let lines = wrap("Critical Medium", w("Medium") + 2.0);
        assert_eq!(lines, ["Critical", "Medium"]);
    }

    #[test]
    fn email_addresses_break_before_at_and_dots() {
        assert_eq!(
            pieces("kai.brandt@acme.example"),
            ["kai", ".brandt", "@acme", ".example"]
        );
        let lines = wrap("kai.brandt@acme.example", w("kai.brandt@acme") + 1.0);
        assert_eq!(lines, ["kai.brandt@acme", ".example"]);
        let lines = wrap("kai.brandt@acme.example", w("kai.brandt") + 1.0);
        assert_eq!(lines, ["kai.brandt", "@acme", ".example"]);
    }

    #[test]
    fn citations_break_before_parentheses_and_after_colons() {
        assert_eq!(
            pieces("164.308(a)(1)(ii)(D)"),
            ["164.308", "(a)", "(1)", "(ii)", "(D)"]
        );
        assert_eq!(
            pieces("HIPAA:164.308(a)(3)(ii)(C),"),
            ["HIPAA:", "164.308", "(a)", "(3)", "(ii)", "(C),"]
        );
        assert_eq!(pieces("SOC2:CC6.1,"), ["SOC2:", "CC6.1,"]);
        assert_eq!(
            pieces("2026-01-14T09:10:00Z;"),
            ["2026-01-14T", "09:10:00Z;"]
        );
        let lines = wrap("164.308(a)(1)(ii)(D)", w("164.308(a)(1)") + 1.0);
        assert_eq!(lines, ["164.308(a)(1)", "(ii)(D)"]);
    }

    #[test]
    fn compound_ids_break_after_hyphens_between_letters() {
        assert_eq!(
            pieces("access-after-expiry"),
            ["access-", "after-", "expiry"]
        );
        assert_eq!(
            pieces("(America/Los_Angeles)"),
            ["(America/", "Los_", "Angeles)"]
        );
        assert_eq!(pieces("ext-22"), ["ext-22"]);
        assert_eq!(pieces("auth-5"), ["auth-5"]);
        let lines = wrap("access-after-expiry", w("access-after-") + 1.0);
        assert_eq!(lines, ["access-after-", "expiry"]);
    }

    #[test]
    fn a_word_that_fits_a_line_moves_whole_to_the_next() {
        let text = "Kai Brandt's account kai.brandt@acme.example (grafana)";
        let lines = wrap(text, w("Kai Brandt's account kai.brandt") + 1.0);
        assert_eq!(
            lines,
            [
                "Kai Brandt's account",
                "kai.brandt@acme.example",
                "(grafana)"
            ]
        );
    }

    #[test]
    fn only_a_piece_wider_than_the_line_breaks_between_characters() {
        let long = "x".repeat(60);
        let lines = wrap(&format!("a {long} b"), 50.0);
        assert!(lines.len() > 3, "{lines:?}");
        assert!(lines.iter().all(|l| w(l) <= 50.0), "{lines:?}");
        assert_eq!(lines.concat().replace(' ', ""), format!("a{long}b"));
        assert_eq!(wrap("", 10.0), [""]);
        assert_eq!(wrap("a\n\nb", 100.0), ["a", "", "b"]);
        assert_eq!(wrap("abc", 0.0), ["a", "b", "c"]);
    }

    #[test]
    fn min_and_natural_widths() {
        let f = fonts();
        let text = "Seen at 2026-02-06 by kai.brandt@acme.example\nsecond line";
        assert_eq!(f.min_width(Face::Regular, SIZE, text), w("2026-02-06"));
        assert_eq!(
            f.word_width(Face::Regular, SIZE, text),
            w("kai.brandt@acme.example")
        );
        assert_eq!(
            f.natural_width(Face::Regular, SIZE, text),
            w("Seen at 2026-02-06 by kai.brandt@acme.example")
        );
        // A column as wide as the minimum breaks no piece.
        let min = f.min_width(Face::Regular, SIZE, text);
        let lines = wrap(text, min);
        for piece in ["2026-02-06", "kai", ".brandt", "@acme", ".example"] {
            assert!(lines.iter().any(|l| l.contains(piece)), "{lines:?}");
        }
    }

    proptest::proptest! {
        /// Whatever the text and width: no line wider than the width unless it is one
        /// character, and the words come back in order, with no character lost.
        #[test]
        fn wrap_keeps_every_character_within_the_width(
            text in "[a-z0-9@./:() -]{0,120}",
            width in 0.0f32..200.0,
        ) {
            let lines = wrap(&text, width);
            for line in &lines {
                proptest::prop_assert!(w(line) <= width + 0.01 || line.chars().count() == 1);
            }
            proptest::prop_assert_eq!(lines.concat().replace(' ', ""), text.replace(' ', ""));
        }
    }
}
