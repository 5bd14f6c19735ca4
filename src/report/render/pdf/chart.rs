//! Pictures drawn with rectangles, lines and dots: the summary's exception-rate bars and
//! the exception timelines (whose labels `timeline` places).

use crate::event::Timestamp;
use crate::report::model::{MarkerKind, SummaryRow, Timeline};

use super::font::Face;
use super::layout::{
    baseline, Colour, Doc, ACCENT, AMBER, GREEN, GREY, INK, LEFT, MUTED, PANEL, PURPLE, RED, RIGHT,
    RULE, WIDTH,
};
use super::timeline::{self, Item, Layout};

const POPULATION: Colour = Colour(0.70, 0.75, 0.82);

/// One bar per summary row: its exception rate, each row on its own scale (the whole bar is
/// that control's population), so 2 of 3 reads as two thirds whatever the other controls'
/// populations are. A control tested on nobody shows an empty bar and says so.
pub(super) fn exceptions_chart(doc: &mut Doc, rows: &[SummaryRow]) {
    if rows.is_empty() {
        return;
    }
    const ROW_H: f32 = 18.0;
    const VALUE_W: f32 = 118.0;
    // As wide as the longest control id (HIPAA's run to 164.308(a)(1)(ii)(D)), within bounds
    // that leave the bars room.
    let label_w = rows
        .iter()
        .map(|r| doc.width(Face::Bold, 8.0, &r.id) + 8.0)
        .fold(60.0_f32, f32::max)
        .min(WIDTH * 0.3);
    let bar_x = LEFT + label_w;
    let bar_w = WIDTH - label_w - VALUE_W;
    doc.ensure_space(40.0 + ROW_H * rows.len().min(3) as f32);
    let b = baseline(doc.y, 14.0, 10.0);
    doc.text(
        LEFT,
        b,
        "Exception rate per control",
        Face::Bold,
        10.0,
        ACCENT,
    );
    // Legend, right-aligned with the title.
    let legend_b = baseline(doc.y, 14.0, 7.5);
    let mut x = RIGHT
        - doc.width(Face::Regular, 7.5, "population (100 %)")
        - doc.width(Face::Regular, 7.5, "exceptions")
        - 40.0;
    for (label, c) in [("population (100 %)", POPULATION), ("exceptions", RED)] {
        doc.fill_rect(x, doc.y + 4.0, 8.0, 7.0, c);
        doc.text(x + 11.0, legend_b, label, Face::Regular, 7.5, MUTED);
        x += 11.0 + doc.width(Face::Regular, 7.5, label) + 9.0;
    }
    doc.y += 20.0;

    for row in rows {
        doc.ensure_space(ROW_H);
        let top = doc.y;
        let b = baseline(top, ROW_H, 8.0);
        let label = doc.fonts.fit(Face::Bold, 8.0, &row.id, label_w - 8.0);
        doc.text(LEFT, b, &label, Face::Bold, 8.0, INK);
        let bar_top = top + (ROW_H - 9.0) / 2.0;
        doc.fill_rect(bar_x, bar_top, bar_w, 9.0, PANEL);
        if row.population > 0 {
            doc.fill_rect(bar_x, bar_top, bar_w, 9.0, POPULATION);
            if row.exceptions > 0 {
                let rate = (row.exceptions as f64 / row.population as f64).min(1.0);
                doc.fill_rect(bar_x, bar_top, (rate as f32 * bar_w).max(2.0), 9.0, RED);
            }
        }
        let value = if row.population > 0 {
            format!(
                "{} of {} ({:.1} %)",
                row.exceptions,
                row.population,
                row.exceptions as f64 * 100.0 / row.population as f64
            )
        } else {
            // An empty population is not a pass: nothing was there to test.
            "nothing to test".to_string()
        };
        let value = doc.fonts.fit(Face::Regular, 8.0, &value, VALUE_W - 8.0);
        let colour = match (row.population, row.exceptions) {
            (0, _) => MUTED,
            (_, 0) => INK,
            _ => RED,
        };
        doc.text(bar_x + bar_w + 8.0, b, &value, Face::Regular, 8.0, colour);
        doc.y += ROW_H;
    }
}

const MAX_LEVELS: usize = 7;
const TITLE_H: f32 = 17.0;
const LABEL_SIZE: f32 = 7.5;
const SUB_SIZE: f32 = 6.5;
/// Above the highest label, inside the panel.
const HEADROOM: f32 = 10.0;

/// Dots closer than this (points) overlap; a lifted dot sits this far above the one below.
const DOT_GAP: f32 = 6.5;
/// How many kinds at one instant are lifted apart; more share the top step.
const MAX_DOT_STEP: u8 = 3;

/// For dots in drawing order, how many steps up its stem each is lifted: a dot near one
/// of another kind already drawn goes a step above it, one of the same kind shares its
/// step (overlap there hides no colour), at most [`MAX_DOT_STEP`].
fn dot_steps(dots: &[(f32, MarkerKind)]) -> Vec<u8> {
    let mut steps: Vec<u8> = Vec::with_capacity(dots.len());
    for (i, (x, kind)) in dots.iter().enumerate() {
        let near = || {
            dots.iter()
                .zip(&steps)
                .take(i)
                .filter(|((other, _), _)| (other - x).abs() < DOT_GAP)
        };
        let step = near()
            .find(|((_, k), _)| k == kind)
            .map(|(_, step)| *step)
            .unwrap_or_else(|| near().map(|(_, step)| step + 1).max().unwrap_or(0))
            .min(MAX_DOT_STEP);
        steps.push(step);
    }
    steps
}

/// A marker as drawn.
struct Mark {
    x: f32,
    kind: MarkerKind,
    /// The label's lines (its event, or the event broken in two), then the date.
    main: Vec<String>,
    sub: String,
}

/// A timeline laid out: what [`timeline`] draws, and how tall it is.
pub(super) struct TimelinePlan<'a> {
    tl: &'a Timeline,
    /// Sorted by time.
    marks: Vec<Mark>,
    layout: Layout,
    /// The time axis: its ends in x, and the times they stand for, in seconds.
    axis: (f32, f32, f64, f64),
    note: Vec<String>,
    plot_h: f32,
    /// The whole picture, title to note.
    pub height: f32,
}

/// A label line's height.
const LABEL_LH: f32 = 8.5;
/// A label's event line without a source breaks at this width when the labels are too wide
/// for all to fit.
const NARROW: f32 = 80.0;

/// Lays one timeline picture out: markers on a horizontal time axis spanning their times,
/// labels on levels above it where no line crosses them (see `timeline::place`). Labels are
/// one line and a date; when some then find no room, the event lines break in two (narrower,
/// taller labels) if that labels more. Labels that still find no room are listed under the
/// picture.
pub(super) fn plan_timeline<'a>(doc: &Doc, tl: &'a Timeline) -> TimelinePlan<'a> {
    let mut sorted: Vec<_> = tl.markers.iter().collect();
    sorted.sort_by_key(|m| m.at);
    let secs: Vec<f64> = sorted.iter().map(|m| m.at.0 as f64 / 1e6).collect();
    let first = secs.first().copied().unwrap_or(0.0);
    let last = secs.last().copied().unwrap_or(0.0);
    let (lo, hi) = if last - first < 60.0 {
        (first - 1_800.0, last + 1_800.0)
    } else {
        let pad = (last - first) * 0.08;
        (first - pad, last + pad)
    };
    let ax0 = LEFT + 10.0;
    let ax1 = RIGHT - 10.0;
    let x_of = |t: f64| ax0 + ((t - lo) / (hi - lo)) as f32 * (ax1 - ax0);

    let wide: Vec<Mark> = sorted
        .iter()
        .zip(&secs)
        .map(|(m, t)| {
            let main = match m.seq {
                Some(seq) => format!("{} #{seq}", m.label),
                None => m.label.clone(),
            };
            Mark {
                x: x_of(*t),
                kind: m.kind,
                main: vec![doc.fonts.fit(Face::Regular, LABEL_SIZE, &main, 170.0)],
                sub: m.at.to_datetime().format("%Y-%m-%d %H:%M").to_string(),
            }
        })
        .collect();
    let lay = |marks: &[Mark], lines: usize| {
        let items: Vec<Item> = marks
            .iter()
            .map(|m| Item {
                x: m.x,
                w: m.main
                    .iter()
                    .map(|l| doc.width(Face::Regular, LABEL_SIZE, l))
                    .fold(doc.width(Face::Regular, SUB_SIZE, &m.sub), f32::max),
                deadline: m.kind == MarkerKind::Deadline,
            })
            .collect();
        let label_h = (lines + 1) as f32 * LABEL_LH + 2.0;
        timeline::place(&items, LEFT + 2.0, RIGHT - 2.0, MAX_LEVELS, label_h)
    };
    let unlabelled = |l: &Layout| l.labels.iter().filter(|r| r.is_none()).count();
    let mut marks = wide;
    let mut layout = lay(&marks, 1);
    if unlabelled(&layout) > 0 {
        let narrow: Vec<Mark> = marks
            .iter()
            .map(|m| {
                // The event kind, then its source and seq: `session.revoked` / `(okta) #322`.
                let text = m.main.join(" ");
                let mut lines = match text.split_once(" (") {
                    Some((kind, rest)) => vec![kind.to_string(), format!("({rest}")],
                    None => doc.fonts.wrap(Face::Regular, LABEL_SIZE, &text, NARROW),
                };
                if lines.len() > 2 {
                    let rest = lines.split_off(1).join(" ");
                    lines.push(rest);
                }
                let lines = lines
                    .iter()
                    .map(|l| doc.fonts.fit(Face::Regular, LABEL_SIZE, l, 170.0))
                    .collect();
                Mark {
                    main: lines,
                    sub: m.sub.clone(),
                    ..*m
                }
            })
            .collect();
        let other = lay(&narrow, 2);
        if unlabelled(&other) < unlabelled(&layout) {
            marks = narrow;
            layout = other;
        }
    }

    let unlabelled: Vec<String> = marks
        .iter()
        .zip(&layout.labels)
        .filter(|(_, label)| label.is_none())
        .map(|(m, _)| format!("{} ({})", m.main.join(" "), m.sub))
        .collect();
    let note = if unlabelled.is_empty() {
        Vec::new()
    } else {
        let mut listed = unlabelled
            .iter()
            .take(24)
            .cloned()
            .collect::<Vec<_>>()
            .join("; ");
        if unlabelled.len() > 24 {
            listed.push_str(&format!(" and {} more", unlabelled.len() - 24));
        }
        let text = format!("Not labelled for lack of room: {listed}.");
        let mut lines = doc.fonts.wrap(Face::Regular, 7.0, &text, WIDTH - 12.0);
        lines.truncate(8);
        lines
    };
    let plot_h = layout.height() + HEADROOM;
    let height = if tl.markers.is_empty() {
        TITLE_H + 12.0 + 8.0
    } else {
        TITLE_H + plot_h + 34.0 + note.len() as f32 * 9.5
    };
    TimelinePlan {
        tl,
        marks,
        layout,
        axis: (ax0, ax1, lo, hi),
        note,
        plot_h,
        height,
    }
}

/// Draws a planned timeline at the cursor (on a new page if it does not fit).
pub(super) fn timeline(doc: &mut Doc, plan: &TimelinePlan) {
    let TimelinePlan {
        tl,
        marks,
        layout,
        axis: (ax0, ax1, lo, hi),
        note,
        plot_h,
        height,
    } = plan;
    let (ax0, ax1, lo, hi, plot_h, height) = (*ax0, *ax1, *lo, *hi, *plot_h, *height);
    if marks.is_empty() {
        doc.ensure_space(TITLE_H + 14.0);
        title(doc, &tl.title);
        doc.flow(
            "No events to place on a time axis.",
            Face::Regular,
            8.0,
            12.0,
            MUTED,
            LEFT,
            WIDTH,
        );
        doc.y += 8.0;
        return;
    }
    let x_of = |t: f64| ax0 + ((t - lo) / (hi - lo)) as f32 * (ax1 - ax0);
    doc.ensure_space(height);
    let top = doc.y;
    title(doc, &tl.title);
    let panel_top = top + TITLE_H;
    let axis_y = panel_top + plot_h;
    // Heights above the axis to the page's y.
    let y = |h: f32| axis_y - h;
    let grid_top = plot_h - 4.0;
    doc.fill_rect(LEFT, panel_top, WIDTH, height - TITLE_H - 4.0, PANEL);

    // Grid, ticks and tick labels; grid lines stop short of labels.
    let step = tick_step(hi - lo);
    let daily = step >= 86_400.0;
    let mut t = (lo / step).ceil() * step;
    let mut label_end = f32::MIN;
    for _ in 0..50 {
        if t > hi {
            break;
        }
        let x = x_of(t);
        for s in timeline::around_labels(x, 0.0, grid_top, layout) {
            doc.line(x, y(s.to), x, y(s.from), RULE, 0.3);
        }
        doc.line(x, axis_y, x, axis_y + 3.0, MUTED, 0.6);
        let at = Timestamp((t * 1e6) as i64).to_datetime();
        let label = if daily {
            at.format("%Y-%m-%d").to_string()
        } else {
            at.format("%m-%d %H:%M").to_string()
        };
        let w = doc.width(Face::Regular, SUB_SIZE, &label);
        let left = (x - w / 2.0).clamp(LEFT + 2.0, RIGHT - 2.0 - w);
        if left > label_end + 4.0 {
            doc.text(left, axis_y + 11.0, &label, Face::Regular, SUB_SIZE, MUTED);
            label_end = left + w;
        }
        t += step;
    }
    doc.line(ax0, axis_y, ax1, axis_y, MUTED, 0.8);

    // Deadlines: dashed lines through the picture, broken where a label sits.
    for m in marks.iter().filter(|m| m.kind == MarkerKind::Deadline) {
        for s in timeline::around_labels(m.x, -4.0, grid_top, layout) {
            doc.dashed_line(m.x, y(s.to), m.x, y(s.from), AMBER, 1.1);
        }
    }
    // Stems and labels.
    for (m, (label, stem)) in marks.iter().zip(layout.labels.iter().zip(&layout.stems)) {
        if let Some(s) = stem {
            doc.line(s.x, y(s.to), s.x, y(s.from), GREY, 0.4);
        }
        let Some(rect) = label else { continue };
        // A label takes its dot's colour (green and grey read too faintly as text), so a
        // reader can tell which of two dots at one instant is which.
        let colour = match m.kind {
            MarkerKind::Control | MarkerKind::Note => INK,
            kind => marker_colour(kind),
        };
        let start = |doc: &Doc, text: &str, size: f32| {
            line_start(rect, m.x, doc.width(Face::Regular, size, text))
        };
        let mut b = y(rect.top) + 7.5;
        for line in &m.main {
            let x = start(doc, line, LABEL_SIZE);
            doc.text(x, b, line, Face::Regular, LABEL_SIZE, colour);
            b += LABEL_LH;
        }
        let x = start(doc, &m.sub, SUB_SIZE);
        doc.text(x, b, &m.sub, Face::Regular, SUB_SIZE, MUTED);
    }
    // Dots last, so they sit on top of lines; violations on top of everything. Dots of
    // another kind at (nearly) the same instant are lifted up their stem, one step per
    // kind: drawn over each other, a late control hid the control beside it, and the
    // legend named a colour no reader could find.
    let order = [
        MarkerKind::Note,
        MarkerKind::Control,
        MarkerKind::LateControl,
        MarkerKind::EarlyControl,
        MarkerKind::Attempt,
        MarkerKind::Violation,
    ];
    let dots: Vec<(f32, MarkerKind)> = order
        .iter()
        .flat_map(|kind| {
            marks
                .iter()
                .filter(move |m| m.kind == *kind)
                .map(|m| (m.x, m.kind))
        })
        .collect();
    for ((x, kind), step) in dots.iter().zip(dot_steps(&dots)) {
        doc.dot(
            *x,
            axis_y - f32::from(step) * DOT_GAP,
            3.4,
            marker_colour(*kind),
        );
    }

    // Legend: the kinds present.
    let legend_b = axis_y + 25.0;
    let mut x = LEFT + 6.0;
    for kind in [
        MarkerKind::Deadline,
        MarkerKind::Control,
        MarkerKind::LateControl,
        MarkerKind::EarlyControl,
        MarkerKind::Violation,
        MarkerKind::Attempt,
        MarkerKind::Note,
    ] {
        if !marks.iter().any(|m| m.kind == kind) {
            continue;
        }
        let word = match kind {
            MarkerKind::Deadline => "deadline",
            MarkerKind::Control => "control acted",
            MarkerKind::LateControl => "control acted late (per policy)",
            MarkerKind::EarlyControl => "control acted too early (per policy)",
            MarkerKind::Violation => "violation",
            MarkerKind::Attempt => "refused attempt",
            MarkerKind::Note => "note",
        };
        if kind == MarkerKind::Deadline {
            doc.dashed_line(x + 3.0, legend_b - 7.0, x + 3.0, legend_b + 1.5, AMBER, 1.1);
        } else {
            doc.dot(x + 3.0, legend_b - 2.5, 3.0, marker_colour(kind));
        }
        doc.text(x + 10.0, legend_b, word, Face::Regular, 7.0, MUTED);
        x += 10.0 + doc.width(Face::Regular, 7.0, word) + 14.0;
    }
    doc.text_right(
        RIGHT - 6.0,
        legend_b,
        "Times in UTC",
        Face::Regular,
        7.0,
        MUTED,
    );
    let mut line_y = legend_b + 11.0;
    for line in note {
        doc.text(LEFT + 6.0, line_y, line, Face::Regular, 7.0, MUTED);
        line_y += 9.5;
    }
    doc.y = top + height + 6.0;
}

fn title(doc: &mut Doc, text: &str) {
    let text = doc.fonts.fit(Face::Bold, 9.0, text, WIDTH);
    let b = baseline(doc.y, TITLE_H, 9.0);
    doc.text(LEFT, b, &text, Face::Bold, 9.0, INK);
    doc.y += TITLE_H;
}

/// Where a label's line `width` wide starts. A label left of its stem ends at the stem,
/// line by line: flush left, its shorter lines would start beside the stem of an earlier
/// marker and read as that one's.
fn line_start(rect: &timeline::Rect, stem_x: f32, width: f32) -> f32 {
    if rect.right <= stem_x {
        rect.right - width
    } else {
        rect.left
    }
}

fn marker_colour(kind: MarkerKind) -> Colour {
    match kind {
        MarkerKind::Deadline => AMBER,
        MarkerKind::Control => GREEN,
        MarkerKind::LateControl | MarkerKind::EarlyControl => AMBER,
        MarkerKind::Violation => RED,
        MarkerKind::Attempt => PURPLE,
        MarkerKind::Note => GREY,
    }
}

/// A tick interval giving at most about six ticks over `span` seconds.
fn tick_step(span: f64) -> f64 {
    const STEPS: [f64; 16] = [
        60.0,
        300.0,
        900.0,
        1_800.0,
        3_600.0,
        7_200.0,
        10_800.0,
        21_600.0,
        43_200.0,
        86_400.0,
        172_800.0,
        604_800.0,
        1_209_600.0,
        2_592_000.0,
        7_776_000.0,
        31_536_000.0,
    ];
    STEPS
        .into_iter()
        .find(|s| span / s <= 6.0)
        .unwrap_or_else(|| (span / 6.0 / 31_536_000.0).ceil().max(1.0) * 31_536_000.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use MarkerKind::*;

    #[test]
    fn labels_left_of_their_stem_end_at_it_line_by_line() {
        let rect = timeline::Rect {
            left: 100.0,
            right: 200.0,
            bottom: 11.0,
            top: 30.0,
            level: 0,
        };
        // Left of its stem at 203: each line ends at the box's right edge.
        assert_eq!(line_start(&rect, 203.0, 60.0), 140.0);
        assert_eq!(line_start(&rect, 203.0, 100.0), 100.0);
        // Right of its stem at 97: flush left.
        assert_eq!(line_start(&rect, 97.0, 60.0), 100.0);
    }

    #[test]
    fn dots_of_other_kinds_at_one_instant_are_lifted_apart() {
        // A control and a late control at the same instant: both stay visible.
        assert_eq!(dot_steps(&[(100.0, Control), (101.0, LateControl)]), [0, 1]);
        // The same kind overlapping hides no colour: one step.
        assert_eq!(dot_steps(&[(100.0, Violation), (102.0, Violation)]), [0, 0]);
        // Apart on the axis: nothing moves.
        assert_eq!(dot_steps(&[(100.0, Control), (120.0, LateControl)]), [0, 0]);
        // A third kind goes above both; a fourth and fifth share the top step.
        assert_eq!(
            dot_steps(&[
                (50.0, Note),
                (50.0, Control),
                (50.0, LateControl),
                (50.0, Attempt),
                (50.0, Violation),
                (50.0, Control),
            ]),
            [0, 1, 2, 3, 3, 1]
        );
    }
}
