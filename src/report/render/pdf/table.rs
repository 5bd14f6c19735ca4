//! Tables: widths from column shares, wrapped cells, rows that never split across pages
//! (unless one row is taller than a page), the header row repeated on every page.

use super::font::Face;
use super::layout::{
    baseline, Colour, Doc, ACCENT, BOTTOM, HEAD_FILL, INK, LEFT, MUTED, RULE, TOP, WIDTH, ZEBRA,
};

const SIZE: f32 = 8.0;
const LH: f32 = 10.5;
const PAD_X: f32 = 4.0;
const PAD_Y: f32 = 3.5;
const TITLE_SIZE: f32 = 10.0;
const TITLE_H: f32 = 18.0;
const CONTINUED_H: f32 = 15.0;
const MAX_HEADER_LINES: usize = 3;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Align {
    Left,
    Right,
}

/// A cell as drawn.
pub(super) struct TCell {
    pub text: String,
    pub face: Face,
    pub colour: Colour,
    pub align: Align,
}

impl TCell {
    pub fn new(text: impl Into<String>) -> TCell {
        TCell {
            text: text.into(),
            face: Face::Regular,
            colour: INK,
            align: Align::Left,
        }
    }

    pub fn right(mut self) -> TCell {
        self.align = Align::Right;
        self
    }

    pub fn face(mut self, face: Face) -> TCell {
        self.face = face;
        self
    }

    pub fn colour(mut self, colour: Colour) -> TCell {
        self.colour = colour;
        self
    }
}

pub(super) struct Column {
    pub title: String,
    /// Relative width.
    pub share: f32,
    pub align: Align,
}

pub(super) struct TableSpec<'a> {
    pub title: &'a str,
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<TCell>>,
    pub empty_text: &'a str,
}

/// A row's cells, wrapped to their columns.
struct Wrapped {
    lines: Vec<Vec<String>>,
    styles: Vec<(Face, Colour, Align)>,
    height_lines: usize,
}

fn wrap_row(doc: &Doc, cells: &[TCell], widths: &[f32]) -> Wrapped {
    let lines: Vec<Vec<String>> = widths
        .iter()
        .enumerate()
        .map(|(i, w)| match cells.get(i) {
            Some(c) => doc.fonts.wrap(c.face, SIZE, &c.text, w - 2.0 * PAD_X),
            None => vec![String::new()],
        })
        .collect();
    let styles = (0..widths.len())
        .map(|i| {
            cells.get(i).map_or((Face::Regular, INK, Align::Left), |c| {
                (c.face, c.colour, c.align)
            })
        })
        .collect();
    let height_lines = lines.iter().map(Vec::len).max().unwrap_or(1).max(1);
    Wrapped {
        lines,
        styles,
        height_lines,
    }
}

fn row_height(lines: usize) -> f32 {
    lines as f32 * LH + 2.0 * PAD_Y
}

/// Draws the table at the cursor.
pub(super) fn draw(doc: &mut Doc, spec: &TableSpec) {
    let total: f32 = spec.columns.iter().map(|c| c.share.max(0.1)).sum();
    let widths: Vec<f32> = spec
        .columns
        .iter()
        .map(|c| c.share.max(0.1) / total * WIDTH)
        .collect();
    let header: Vec<TCell> = spec
        .columns
        .iter()
        .map(|c| TCell {
            text: c.title.clone(),
            face: Face::Bold,
            colour: INK,
            align: c.align,
        })
        .collect();
    let mut header = wrap_row(doc, &header, &widths);
    // Column titles are short; a runaway one must not push the rows off the page.
    for lines in &mut header.lines {
        if lines.len() > MAX_HEADER_LINES {
            lines.truncate(MAX_HEADER_LINES);
            if let Some(last) = lines.last_mut() {
                last.push('…');
            }
        }
    }
    header.height_lines = header.height_lines.min(MAX_HEADER_LINES);
    let header_h = row_height(header.height_lines);
    let first = spec.rows.first().map(|r| wrap_row(doc, r, &widths));
    let first_h = first.as_ref().map_or(LH, |w| row_height(w.height_lines));

    // Keep the title with the header and the first row.
    let keep = header_h + first_h.min(4.0 * LH);
    let title_h = if spec.title.is_empty() {
        0.0
    } else {
        let lines = doc
            .fonts
            .wrap(Face::Bold, TITLE_SIZE, spec.title, WIDTH)
            .len();
        lines as f32 * (TITLE_H - 4.0) + 4.0
    };
    doc.ensure_space(title_h + keep);
    if !spec.title.is_empty() {
        doc.flow(
            spec.title,
            Face::Bold,
            TITLE_SIZE,
            TITLE_H - 4.0,
            ACCENT,
            LEFT,
            WIDTH,
        );
        doc.y += 4.0;
        doc.ensure_space(keep);
    }
    if widths.is_empty() {
        doc.flow(spec.empty_text, Face::Regular, SIZE, LH, MUTED, LEFT, WIDTH);
        return;
    }
    draw_row(
        doc,
        &header,
        &widths,
        0..header.height_lines,
        Some(HEAD_FILL),
    );

    if spec.rows.is_empty() {
        let h = row_height(1);
        let text = doc.fonts.fit(Face::Regular, SIZE, spec.empty_text, WIDTH);
        let b = baseline(doc.y + PAD_Y, LH, SIZE);
        doc.text(LEFT + PAD_X, b, &text, Face::Regular, SIZE, MUTED);
        doc.y += h;
        doc.line(LEFT, doc.y, LEFT + WIDTH, doc.y, RULE, 0.5);
        return;
    }

    // Lines of one row that fit on a page under the repeated title and header.
    let fresh_lines =
        (((BOTTOM - TOP - CONTINUED_H - header_h - 2.0 * PAD_Y) / LH).floor() as usize).max(1);
    let mut first = first;
    for (i, row) in spec.rows.iter().enumerate() {
        let wrapped = match first.take() {
            Some(w) => w,
            None => wrap_row(doc, row, &widths),
        };
        let zebra = (i % 2 == 1).then_some(ZEBRA);
        let n = wrapped.height_lines;
        let mut start = 0;
        let mut just_broke = false;
        while start < n {
            let left = n - start;
            let room = ((BOTTOM - doc.y - 2.0 * PAD_Y) / LH).floor().max(0.0) as usize;
            if room < left && (left <= fresh_lines || room < 2) && !just_broke {
                continue_on_new_page(doc, spec.title, &header, &widths);
                just_broke = true;
                continue;
            }
            let take = left.min(room.max(1));
            draw_row(doc, &wrapped, &widths, start..start + take, zebra);
            start += take;
            just_broke = false;
            if start < n {
                continue_on_new_page(doc, spec.title, &header, &widths);
                just_broke = true;
            }
        }
    }
}

fn continue_on_new_page(doc: &mut Doc, title: &str, header: &Wrapped, widths: &[f32]) {
    doc.new_page();
    let text = if title.is_empty() {
        "(continued)".to_string()
    } else {
        format!("{title} (continued)")
    };
    let text = doc.fonts.fit(Face::Bold, 8.5, &text, WIDTH);
    let b = baseline(doc.y, CONTINUED_H - 3.0, 8.5);
    doc.text(LEFT, b, &text, Face::Bold, 8.5, MUTED);
    doc.y += CONTINUED_H;
    draw_row(doc, header, widths, 0..header.height_lines, Some(HEAD_FILL));
}

/// Draws lines `range` of a wrapped row at the cursor and moves the cursor below it.
fn draw_row(
    doc: &mut Doc,
    row: &Wrapped,
    widths: &[f32],
    range: std::ops::Range<usize>,
    fill: Option<Colour>,
) {
    let h = row_height(range.len());
    if let Some(fill) = fill {
        // Below the previous row's rule, not over it.
        doc.fill_rect(LEFT, doc.y + 0.3, WIDTH, h - 0.3, fill);
    }
    let mut x = LEFT;
    for (col, w) in widths.iter().enumerate() {
        let (face, colour, align) =
            row.styles
                .get(col)
                .copied()
                .unwrap_or((Face::Regular, INK, Align::Left));
        if let Some(lines) = row.lines.get(col) {
            for (k, line) in lines.iter().enumerate().skip(range.start).take(range.len()) {
                let top = doc.y + PAD_Y + (k - range.start) as f32 * LH;
                let b = baseline(top, LH, SIZE);
                match align {
                    Align::Left => doc.text(x + PAD_X, b, line, face, SIZE, colour),
                    Align::Right => doc.text_right(x + w - PAD_X, b, line, face, SIZE, colour),
                }
            }
        }
        x += w;
    }
    doc.y += h;
    let ruled = if fill == Some(HEAD_FILL) {
        ACCENT
    } else {
        RULE
    };
    doc.line(LEFT, doc.y, LEFT + WIDTH, doc.y, ruled, 0.5);
}
