//! Tables: column widths from their content (as an HTML table's automatic layout), wrapped
//! cells, rows that never split across pages (unless one row is taller than a page), the
//! header row repeated on every page and never left with fewer than two rows under it. A
//! table of many columns whose long text would be squeezed into a few words a line shows
//! that text under each row instead, across the page ([`fold_columns`]).

use super::font::Face;
use super::layout::{
    baseline, Colour, Doc, ACCENT, BOTTOM, HEAD_FILL, INK, LEFT, MUTED, RULE, TOP, WIDTH, ZEBRA,
};

const SIZE: f32 = 8.0;
const LH: f32 = 10.5;
/// A cell's padding left and right; down to `MIN_PAD_X` in a table that is tight.
const PAD_X: f32 = 4.0;
const MIN_PAD_X: f32 = 2.0;
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
#[derive(Clone)]
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

#[derive(Clone)]
pub(super) struct Column {
    pub title: String,
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
    /// The cells' padding left and right.
    pad: f32,
    lines: Vec<Vec<String>>,
    styles: Vec<(Face, Colour, Align)>,
    /// Lines of the tallest cell; the folded columns' lines follow them.
    cell_lines: usize,
    /// The folded columns' text under the cells: (column title, wrapped lines), the text
    /// `detail_indent` in from the titles.
    details: Vec<(String, Vec<String>)>,
    detail_indent: f32,
    height_lines: usize,
}

fn wrap_row(doc: &Doc, cells: &[TCell], widths: &[f32], pad: f32) -> Wrapped {
    let lines: Vec<Vec<String>> = widths
        .iter()
        .enumerate()
        .map(|(i, w)| match cells.get(i) {
            Some(c) => doc.fonts.wrap(c.face, SIZE, &c.text, w - 2.0 * pad),
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
        pad,
        lines,
        styles,
        cell_lines: height_lines,
        details: Vec::new(),
        detail_indent: 0.0,
        height_lines,
    }
}

/// Below this share of the text width the columns' narrowest widths leave room enough.
const FOLD_AT: f32 = 0.75;
/// A column folds only when its text is long: its widest cell unwrapped, past this share
/// of the text width.
const FOLD_LONG: f32 = 0.4;

/// Which columns show under each row instead of beside the others: in a table of six or
/// more columns whose narrowest widths (header words included) leave almost no room, the
/// columns of longest text, longest first, until the rest fit with room to spare. An
/// extension's decisions and assessment in nine columns were otherwise wrapped to two or
/// three words a line, twenty lines a row.
fn fold_columns(doc: &Doc, spec: &TableSpec) -> Vec<bool> {
    let n = spec.columns.len();
    let mut folded = vec![false; n];
    if n < 6 {
        return folded;
    }
    let measure = |i: usize, c: &Column| {
        let cells = spec.rows.iter().filter_map(|r| r.get(i));
        let min = cells
            .clone()
            .map(|c| doc.fonts.min_width(c.face, SIZE, &c.text))
            .fold(doc.fonts.min_width(Face::Bold, SIZE, &c.title), f32::max);
        let natural = cells
            .map(|c| doc.fonts.natural_width(c.face, SIZE, &c.text))
            .fold(0.0, f32::max);
        (min + 2.0 * PAD_X, natural)
    };
    let sizes: Vec<(f32, f32)> = spec
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| measure(i, c))
        .collect();
    let mut room: f32 = sizes.iter().map(|(min, _)| min).sum();
    while room > FOLD_AT * WIDTH {
        let longest = sizes
            .iter()
            .zip(&folded)
            .enumerate()
            .filter(|(_, ((_, natural), f))| !**f && *natural > FOLD_LONG * WIDTH)
            .max_by(|(_, ((_, a), _)), (_, ((_, b), _))| a.total_cmp(b))
            .map(|(i, _)| i);
        let Some(i) = longest else { break };
        if let (Some(f), Some((min, _))) = (folded.get_mut(i), sizes.get(i)) {
            *f = true;
            room -= min;
        }
    }
    // Every column folded would leave no table.
    if folded.iter().all(|f| *f) {
        folded.fill(false);
    }
    folded
}

fn row_height(lines: usize) -> f32 {
    lines as f32 * LH + 2.0 * PAD_Y
}

/// The widths of `spec`'s columns, filling the text width. Per column, the minimum is its
/// widest piece that wrapping never breaks (words of the header included) and the natural
/// width its widest unwrapped cell, padding included; a header may wrap to its words before
/// a cell wraps at all, so the header's whole width counts only when every column's does fit.
/// When the naturals do not fit, of the [`candidates`] the one that reads best ([`cost`]).
fn column_widths(doc: &Doc, spec: &TableSpec) -> (Vec<f32>, f32) {
    let n = spec.columns.len();
    let mut min = vec![0.0_f32; n];
    let mut words = vec![0.0_f32; n];
    let mut natural = vec![0.0_f32; n];
    let mut with_headers = vec![0.0_f32; n];
    for (i, c) in spec.columns.iter().enumerate() {
        let (Some(min), Some(words), Some(natural), Some(with_header)) = (
            min.get_mut(i),
            words.get_mut(i),
            natural.get_mut(i),
            with_headers.get_mut(i),
        ) else {
            continue;
        };
        let header_min = doc.fonts.min_width(Face::Bold, SIZE, &c.title);
        *min = header_min;
        *words = doc.fonts.word_width(Face::Bold, SIZE, &c.title);
        *natural = *words;
        *with_header = doc.fonts.natural_width(Face::Bold, SIZE, &c.title);
        for cell in spec.rows.iter().filter_map(|r| r.get(i)) {
            *min = min.max(doc.fonts.min_width(cell.face, SIZE, &cell.text));
            *words = words.max(doc.fonts.word_width(cell.face, SIZE, &cell.text));
            *natural = natural.max(doc.fonts.natural_width(cell.face, SIZE, &cell.text));
        }
        *with_header = with_header.max(*natural);
    }
    // Less padding before any piece of text has to break.
    let room = (WIDTH - min.iter().sum::<f32>()) / (2 * n.max(1)) as f32;
    let pad_x = room.clamp(MIN_PAD_X, PAD_X);
    let pad = |v: Vec<f32>| -> Vec<f32> { v.into_iter().map(|w| w + 2.0 * pad_x).collect() };
    let (min, words, natural) = (pad(min), pad(words), pad(natural));
    let with_headers = pad(with_headers);
    if with_headers.iter().sum::<f32>() <= WIDTH {
        return (distribute(&min, &with_headers, WIDTH), pad_x);
    }
    if min.iter().sum::<f32>() > WIDTH {
        // Even the minimums do not fit: the last resort, where wrapping breaks the widest
        // pieces (ids, hashes, long words) between characters. Header words keep whole if
        // they can: they are read once per page and name the column.
        let headers: Vec<f32> = spec
            .columns
            .iter()
            .map(|c| doc.fonts.min_width(Face::Bold, SIZE, &c.title) + 2.0 * pad_x)
            .collect();
        let floors = if headers.iter().sum::<f32>() <= WIDTH {
            headers
        } else {
            vec![0.0; n]
        };
        return (squeeze(&min, &floors, WIDTH), pad_x);
    }
    let mut tries = candidates(&min, &natural, WIDTH);
    // The same from whole words up, when every column can hold its widest word.
    if words.iter().sum::<f32>() <= WIDTH {
        tries.extend(candidates(&words, &natural, WIDTH));
    }
    let mut best: Option<(usize, Vec<f32>)> = None;
    for widths in tries {
        let cost = cost(doc, spec, &widths, pad_x);
        if best.as_ref().is_none_or(|(c, _)| cost < *c) {
            best = Some((cost, widths));
        }
    }
    let widths = best.map_or_else(|| distribute(&min, &natural, WIDTH), |(_, w)| w);
    (widths, pad_x)
}

/// The widths worth trying when the natural widths do not fit: [`distribute`]'s, and with
/// the 1, 2, ... columns that lack least of their natural width given it whole (the others
/// sharing the rest the same way). Proportional shares alone leave short columns (names,
/// dates, event kinds) a little too narrow and wrapped on every row while a long text column
/// could spare the room.
fn candidates(min: &[f32], natural: &[f32], total: f32) -> Vec<Vec<f32>> {
    let mut out = vec![distribute(min, natural, total)];
    if natural.iter().sum::<f32>() <= total || min.iter().sum::<f32>() > total {
        return out;
    }
    let n = min.len();
    let lack = |i: &usize| {
        let (m, nat) = (min.get(*i).copied(), natural.get(*i).copied());
        nat.unwrap_or(0.0) - m.unwrap_or(0.0)
    };
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|a, b| lack(a).total_cmp(&lack(b)));
    let mut granted = vec![false; n];
    for i in order.into_iter().take(n.saturating_sub(1)) {
        if let Some(g) = granted.get_mut(i) {
            *g = true;
        }
        let pick = |v: &[f32], want: bool| -> Vec<f32> {
            v.iter()
                .zip(&granted)
                .filter(|(_, g)| **g == want)
                .map(|(w, _)| *w)
                .collect()
        };
        let fixed: f32 = pick(natural, true).iter().sum();
        let (rest_min, rest_natural) = (pick(min, false), pick(natural, false));
        if fixed + rest_min.iter().sum::<f32>() > total {
            break;
        }
        let mut rest = distribute(&rest_min, &rest_natural, total - fixed).into_iter();
        let widths = natural
            .iter()
            .zip(&granted)
            .map(|(nat, g)| if *g { *nat } else { rest.next().unwrap_or(0.0) })
            .collect();
        out.push(widths);
    }
    out
}

/// How badly the table reads at these widths: its height in lines (twice, as every cell of
/// a row pays for a tall one), each line a cell wraps to beyond its first, and each break
/// inside a word (twice: an id or address read in two parts).
fn cost(doc: &Doc, spec: &TableSpec, widths: &[f32], pad: f32) -> usize {
    let header = spec.columns.iter().map(|c| (c.title.as_str(), Face::Bold));
    let rows = spec.rows.iter().map(|r| {
        r.iter()
            .map(|c| (c.text.as_str(), c.face))
            .collect::<Vec<_>>()
    });
    std::iter::once(header.collect::<Vec<_>>())
        .chain(rows)
        .map(|cells| {
            let mut height = 1;
            let mut extra = 0;
            for ((text, face), w) in cells.into_iter().zip(widths) {
                let lines = doc.fonts.wrap(face, SIZE, text, w - 2.0 * pad);
                height = height.max(lines.len());
                extra += lines.len().saturating_sub(1);
                let words_out: usize = lines.iter().map(|l| l.split_whitespace().count()).sum();
                extra += 2 * words_out.saturating_sub(text.split_whitespace().count());
            }
            2 * height + extra
        })
        .sum()
}

/// Shares `total` out among columns with these minimum and natural widths: when the
/// naturals fit, each column gets its natural width and the slack in proportion to it; when
/// only the minimums fit, each gets its minimum and the rest in proportion to how much it
/// lacks of its natural width, so the columns with the most text grow most.
///
/// When even the minimums do not fit (a word, hash or id longer than a column can be), see
/// [`squeeze`]; wrapping then breaks those columns' longest pieces between characters, the
/// only place a table does.
fn distribute(min: &[f32], natural: &[f32], total: f32) -> Vec<f32> {
    let n = min.len();
    if n == 0 {
        return Vec::new();
    }
    let natural: Vec<f32> = min
        .iter()
        .zip(natural)
        .map(|(m, nat)| nat.max(*m))
        .collect();
    let sum_natural: f32 = natural.iter().sum();
    let sum_min: f32 = min.iter().sum();
    if sum_natural <= total {
        if sum_natural <= 0.0 {
            return vec![total / n as f32; n];
        }
        let slack = total - sum_natural;
        return natural
            .iter()
            .map(|w| w + slack * w / sum_natural)
            .collect();
    }
    if sum_min <= total {
        let lack: Vec<f32> = natural.iter().zip(min).map(|(nat, m)| nat - m).collect();
        let sum_lack: f32 = lack.iter().sum();
        let rest = total - sum_min;
        return min
            .iter()
            .zip(&lack)
            .map(|(m, l)| {
                m + if sum_lack > 0.0 {
                    rest * l / sum_lack
                } else {
                    0.0
                }
            })
            .collect();
    }
    squeeze(min, &vec![0.0; n], total)
}

/// Widths for minimums that do not fit in `total`: each column its minimum up to a common
/// cap (but not below its floor), the cap chosen so that the widths fill `total`; narrow
/// columns keep their minimum and the widest share what is left.
fn squeeze(min: &[f32], floor: &[f32], total: f32) -> Vec<f32> {
    let width = |cap: f32| -> Vec<f32> {
        min.iter()
            .zip(floor)
            .map(|(m, f)| m.min(cap).max(f.min(*m)))
            .collect()
    };
    let (mut lo, mut hi) = (0.0_f32, min.iter().copied().fold(total, f32::max));
    for _ in 0..60 {
        let cap = (lo + hi) / 2.0;
        if width(cap).iter().sum::<f32>() > total {
            hi = cap;
        } else {
            lo = cap;
        }
    }
    width(lo)
}

/// A table measured and wrapped, ready to draw.
pub(super) struct Prepared {
    widths: Vec<f32>,
    header: Wrapped,
    rows: Vec<Wrapped>,
    title_h: f32,
}

impl Prepared {
    /// What must stay together at the table's start: its title, header and first two rows
    /// (a row taller than a third of a page counts as that much: it splits anyway).
    pub(super) fn lead_height(&self) -> f32 {
        let cap = (BOTTOM - TOP) / 3.0;
        let rows: f32 = if self.rows.is_empty() {
            row_height(1)
        } else {
            self.rows
                .iter()
                .take(2)
                .map(|r| row_height(r.height_lines).min(cap))
                .sum()
        };
        self.title_h + row_height(self.header.height_lines) + rows
    }
}

/// Measures and wraps the table.
pub(super) fn prepare(doc: &Doc, spec: &TableSpec) -> Prepared {
    let folded = fold_columns(doc, spec);
    let keep = |i: &usize| !folded.get(*i).copied().unwrap_or(false);
    let kept = TableSpec {
        title: spec.title,
        columns: (0..spec.columns.len())
            .filter(keep)
            .filter_map(|i| spec.columns.get(i).cloned())
            .collect(),
        rows: spec
            .rows
            .iter()
            .map(|r| {
                (0..r.len())
                    .filter(keep)
                    .filter_map(|i| r.get(i).cloned())
                    .collect()
            })
            .collect(),
        empty_text: spec.empty_text,
    };
    let folded_titles: Vec<(usize, &str)> = spec
        .columns
        .iter()
        .enumerate()
        .filter(|(i, _)| !keep(i))
        .map(|(i, c)| (i, c.title.as_str()))
        .collect();
    let detail_indent = folded_titles
        .iter()
        .map(|(_, t)| doc.fonts.width(Face::Bold, SIZE, t))
        .fold(0.0, f32::max)
        + if folded_titles.is_empty() {
            0.0
        } else {
            2.0 * PAD_X
        };
    let wide_rows = &spec.rows;
    let spec = &kept;
    let (widths, pad) = column_widths(doc, spec);
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
    let mut header = wrap_row(doc, &header, &widths, pad);
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
    let detail_width = WIDTH - 2.0 * PAD_X - detail_indent;
    let rows = spec
        .rows
        .iter()
        .zip(wide_rows)
        .map(|(r, whole)| {
            let mut wrapped = wrap_row(doc, r, &widths, pad);
            for (i, title) in &folded_titles {
                let Some(cell) = whole.get(*i).filter(|c| !c.text.trim().is_empty()) else {
                    continue;
                };
                let lines = doc.fonts.wrap(cell.face, SIZE, &cell.text, detail_width);
                wrapped.height_lines += lines.len();
                wrapped.details.push((title.to_string(), lines));
                wrapped.detail_indent = detail_indent;
            }
            wrapped
        })
        .collect();
    let title_h = if spec.title.is_empty() {
        0.0
    } else {
        let lines = doc
            .fonts
            .wrap(Face::Bold, TITLE_SIZE, spec.title, WIDTH)
            .len();
        lines as f32 * (TITLE_H - 4.0) + 4.0
    };
    Prepared {
        widths,
        header,
        rows,
        title_h,
    }
}

/// Draws the table at the cursor.
pub(super) fn draw(doc: &mut Doc, spec: &TableSpec) {
    let prepared = prepare(doc, spec);
    draw_prepared(doc, spec, &prepared);
}

/// Draws a table [`prepare`]d for the same spec.
pub(super) fn draw_prepared(doc: &mut Doc, spec: &TableSpec, p: &Prepared) {
    let Prepared {
        widths,
        header,
        rows,
        title_h,
    } = p;
    let lead = p.lead_height();
    doc.ensure_space(lead);
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
        doc.ensure_space(lead - title_h);
    }
    if widths.is_empty() {
        doc.flow(spec.empty_text, Face::Regular, SIZE, LH, MUTED, LEFT, WIDTH);
        return;
    }
    draw_row(doc, header, widths, 0..header.height_lines, Some(HEAD_FILL));

    if rows.is_empty() {
        let h = row_height(1);
        let text = doc.fonts.fit(Face::Regular, SIZE, spec.empty_text, WIDTH);
        let b = baseline(doc.y + PAD_Y, LH, SIZE);
        doc.text(LEFT + PAD_X, b, &text, Face::Regular, SIZE, MUTED);
        doc.y += h;
        doc.line(LEFT, doc.y, LEFT + WIDTH, doc.y, RULE, 0.5);
        return;
    }

    let header_h = row_height(header.height_lines);
    // Room for rows on a page under the repeated title and header.
    let fresh_room = BOTTOM - TOP - CONTINUED_H - header_h;
    // Lines of one row that fit on such a page.
    let fresh_lines = (((fresh_room - 2.0 * PAD_Y) / LH).floor() as usize).max(1);
    // Rows (or parts of rows) under the header on this page.
    let mut under_header = 0;
    for (i, wrapped) in rows.iter().enumerate() {
        let zebra = (i % 2 == 1).then_some(ZEBRA);
        let n = wrapped.height_lines;
        // The last row alone under a repeated header reads as a stray: when this row would
        // end the page and the last one start the next, both go to the next page, unless
        // that leaves fewer than two rows here.
        if i + 2 == rows.len() && under_header >= 2 {
            let this = row_height(n);
            let last = rows.last().map_or(0.0, |r| row_height(r.height_lines));
            if doc.y + this <= BOTTOM && doc.y + this + last > BOTTOM && this + last <= fresh_room {
                continue_on_new_page(doc, spec.title, header, widths);
                under_header = 0;
            }
        }
        let mut start = 0;
        let mut just_broke = false;
        while start < n {
            let left = n - start;
            let room = ((BOTTOM - doc.y - 2.0 * PAD_Y) / LH).floor().max(0.0) as usize;
            if room < left && (left <= fresh_lines || room < 2) && !just_broke {
                continue_on_new_page(doc, spec.title, header, widths);
                under_header = 0;
                just_broke = true;
                continue;
            }
            let take = left.min(room.max(1));
            draw_row(doc, wrapped, widths, start..start + take, zebra);
            under_header += 1;
            start += take;
            just_broke = false;
            if start < n {
                continue_on_new_page(doc, spec.title, header, widths);
                under_header = 0;
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
                    Align::Left => doc.text(x + row.pad, b, line, face, SIZE, colour),
                    Align::Right => doc.text_right(x + w - row.pad, b, line, face, SIZE, colour),
                }
            }
        }
        x += w;
    }
    // The folded columns' lines follow the cells': line k of the row is a detail line
    // from k = cell_lines on, its column's title beside the first.
    let mut k = row.cell_lines;
    for (title, lines) in &row.details {
        for (j, line) in lines.iter().enumerate() {
            if range.contains(&k) {
                let top = doc.y + PAD_Y + (k - range.start) as f32 * LH;
                let b = baseline(top, LH, SIZE);
                if j == 0 {
                    doc.text(LEFT + row.pad, b, title, Face::Bold, SIZE, MUTED);
                }
                let x = LEFT + row.pad + row.detail_indent;
                doc.text(x, b, line, Face::Regular, SIZE, INK);
            }
            k += 1;
        }
    }
    doc.y += h;
    let ruled = if fill == Some(HEAD_FILL) {
        ACCENT
    } else {
        RULE
    };
    doc.line(LEFT, doc.y, LEFT + WIDTH, doc.y, ruled, 0.5);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: &[f32], b: &[f32]) -> bool {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() < 0.01)
    }

    fn spec_of<'a>(titles: &[&str], rows: &[Vec<&str>]) -> TableSpec<'a> {
        TableSpec {
            title: "t",
            columns: titles
                .iter()
                .map(|t| Column {
                    title: t.to_string(),
                    align: Align::Left,
                })
                .collect(),
            rows: rows
                .iter()
                .map(|r| r.iter().map(|c| TCell::new(*c)).collect())
                .collect(),
            empty_text: "",
        }
    }

    /// An extension table as the reports build it: nine columns, two of long text.
    fn extensions<'a>(decisions: &str) -> TableSpec<'a> {
        let titles = [
            "Request",
            "Person",
            "Requested by",
            "Requested (UTC)",
            "New expiry",
            "Emergency",
            "Decisions",
            "Assessment",
            "Evidence",
        ];
        let row = vec![
            "ext-22",
            "Marco Rossi",
            "marco.rossi@acme.example",
            "2026-01-14 08:00 UTC",
            "2026-01-30",
            "no",
            decisions,
            "Marco Rossi's extension ext-22 does not count: li.wei@acme.example (tech_lead) \
             approved 6 h 30 min after the request, past the 4 h limit; expired without a \
             valid approval by tech_lead (two distinct approvers, neither the requester, \
             within 4 h)",
            "#17, #18, #19",
        ];
        spec_of(&titles, &[row])
    }

    const DECISIONS: &str = "approved samira.haddad@acme.example (security) \
        2026-01-14T09:10:00Z; approved li.wei@acme.example (tech_lead) 2026-01-14T14:30:00Z";

    #[test]
    fn long_text_of_a_crowded_table_folds_under_its_row() {
        let doc = Doc::new(super::super::font::Fonts::get().unwrap());
        let spec = extensions(DECISIONS);
        let folded = fold_columns(&doc, &spec);
        let titles: Vec<&str> = spec
            .columns
            .iter()
            .zip(&folded)
            .filter(|(_, f)| **f)
            .map(|(c, _)| c.title.as_str())
            .collect();
        assert_eq!(titles, ["Decisions", "Assessment"]);
        let p = prepare(&doc, &spec);
        assert_eq!(p.widths.len(), 7);
        let row = &p.rows[0];
        let details: Vec<&str> = row.details.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(details, ["Decisions", "Assessment"]);
        let detail_lines: usize = row.details.iter().map(|(_, l)| l.len()).sum();
        assert_eq!(row.height_lines, row.cell_lines + detail_lines);
        // Across the page, each long text takes a few lines, not the twenty it took beside
        // seven other columns.
        assert!(
            row.details.iter().all(|(_, l)| l.len() <= 3),
            "{:?}",
            row.details
        );
        // An empty folded cell adds no line.
        let p = prepare(&doc, &extensions(""));
        let details: Vec<&str> = p.rows[0].details.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(details, ["Assessment"]);
    }

    #[test]
    fn tables_with_room_or_few_columns_do_not_fold() {
        let doc = Doc::new(super::super::font::Fonts::get().unwrap());
        let long = "a long summary of what happened ".repeat(8);
        // Five columns, however long the text.
        let five = spec_of(
            &["A", "B", "C", "D", "E"],
            &[vec!["x", "y", "z", &long, "w"]],
        );
        assert!(fold_columns(&doc, &five).iter().all(|f| !f));
        // Six columns whose narrowest widths leave room: long text wraps in its column.
        let six = spec_of(
            &[
                "Severity",
                "Person",
                "Rule",
                "What happened",
                "When",
                "Evidence",
            ],
            &[vec![
                "High",
                "Ana",
                "timeliness",
                &long,
                "2026-02-06",
                "#12",
            ]],
        );
        assert!(fold_columns(&doc, &six).iter().all(|f| !f));
    }

    #[test]
    fn naturals_that_fit_get_the_slack_in_proportion() {
        let w = distribute(&[10.0, 10.0], &[20.0, 60.0], 160.0);
        assert!(close(&w, &[40.0, 120.0]), "{w:?}");
    }

    #[test]
    fn minimums_that_fit_share_the_rest_by_what_each_lacks() {
        // Lacks 0, 10 and 90 of their naturals; 50 to share.
        let w = distribute(&[30.0, 20.0, 20.0], &[30.0, 30.0, 110.0], 120.0);
        assert!(close(&w, &[30.0, 25.0, 65.0]), "{w:?}");
        assert!(w.iter().zip([30.0, 20.0, 20.0]).all(|(w, m)| *w >= m));
    }

    #[test]
    fn candidates_give_the_columns_lacking_least_their_natural_width() {
        // A date column lacking 30, a text column lacking 300; 200 to fill.
        let c = candidates(&[50.0, 40.0], &[80.0, 340.0], 200.0);
        assert_eq!(c.len(), 2);
        assert!(close(&c[0], &[60.0, 140.0]), "{:?}", c[0]);
        assert!(close(&c[1], &[80.0, 120.0]), "{:?}", c[1]);
        // Nothing to grant when the naturals fit, or the minimums do not.
        assert_eq!(candidates(&[10.0, 10.0], &[20.0, 20.0], 100.0).len(), 1);
        assert_eq!(candidates(&[90.0, 90.0], &[95.0, 95.0], 100.0).len(), 1);
    }

    #[test]
    fn squeezed_columns_keep_their_floors() {
        let w = squeeze(&[20.0, 500.0, 300.0], &[20.0, 120.0, 30.0], 200.0);
        assert!(close(&w, &[20.0, 120.0, 60.0]), "{w:?}");
    }

    #[test]
    fn minimums_too_wide_are_capped_and_the_narrow_keep_theirs() {
        let w = distribute(&[20.0, 500.0, 300.0], &[20.0, 500.0, 300.0], 200.0);
        assert!(close(&w, &[20.0, 90.0, 90.0]), "{w:?}");
        assert!((w.iter().sum::<f32>() - 200.0).abs() < 0.01);
        assert!(distribute(&[], &[], 100.0).is_empty());
        let w = distribute(&[0.0, 0.0], &[0.0, 0.0], 100.0);
        assert!(close(&w, &[50.0, 50.0]), "{w:?}");
    }
}
