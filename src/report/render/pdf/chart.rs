//! Pictures drawn with rectangles, lines and dots: the summary's exception-rate bars and
//! the exception timelines.

use crate::event::Timestamp;
use crate::report::model::{MarkerKind, SummaryRow, Timeline};

use super::font::Face;
use super::layout::{
    baseline, Colour, Doc, ACCENT, AMBER, GREEN, GREY, INK, LEFT, MUTED, PANEL, RED, RIGHT, RULE,
    WIDTH,
};

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
            "not tested".to_string()
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

const LEVEL_H: f32 = 22.0;
const MAX_LEVELS: usize = 6;
const TITLE_H: f32 = 17.0;
const LABEL_SIZE: f32 = 7.5;
const SUB_SIZE: f32 = 6.5;

/// A marker as drawn: its x, and where its label went (if it found room).
struct Placed {
    x: f32,
    kind: MarkerKind,
    label: Option<Label>,
}

struct Label {
    left: f32,
    level: usize,
    main: String,
    sub: String,
}

/// One timeline picture: markers on a horizontal time axis spanning their times, labels
/// staggered on up to six levels so that neighbours do not overwrite each other; labels
/// that find no room are listed under the picture.
pub(super) fn timeline(doc: &mut Doc, tl: &Timeline) {
    if tl.markers.is_empty() {
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
    let mut markers: Vec<_> = tl.markers.iter().collect();
    markers.sort_by_key(|m| m.at);
    let secs: Vec<f64> = markers.iter().map(|m| m.at.0 as f64 / 1e6).collect();
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

    // Labels go right of their marker (left of it near the right edge), on the lowest
    // level where they clear the previous label; when every level is taken, after the
    // label that ends first; failing that, into the list under the picture.
    let mut level_ends: Vec<f32> = Vec::new();
    let mut placed = Vec::new();
    let mut unlabelled = Vec::new();
    for (m, t) in markers.iter().zip(&secs) {
        let x = x_of(*t);
        let main = match m.seq {
            Some(seq) => format!("{} #{seq}", m.label),
            None => m.label.clone(),
        };
        let main = doc.fonts.fit(Face::Regular, LABEL_SIZE, &main, 170.0);
        let sub = m.at.to_datetime().format("%Y-%m-%d %H:%M").to_string();
        let w = doc.width(Face::Regular, LABEL_SIZE, &main).max(doc.width(
            Face::Regular,
            SUB_SIZE,
            &sub,
        ));
        let mut left = x + 3.0;
        if left + w > RIGHT {
            left = x - 3.0 - w;
        }
        let mut left = left.max(LEFT);
        let level = match level_ends.iter().position(|end| *end + 6.0 <= left) {
            Some(k) => Some(k),
            None if level_ends.len() < MAX_LEVELS => {
                level_ends.push(f32::MIN);
                Some(level_ends.len() - 1)
            }
            None => level_ends
                .iter()
                .enumerate()
                .min_by(|a, b| a.1.total_cmp(b.1))
                .filter(|(_, end)| **end + 6.0 + w <= RIGHT)
                .map(|(k, end)| {
                    left = *end + 6.0;
                    k
                }),
        };
        let label = match level {
            Some(level) => {
                if let Some(end) = level_ends.get_mut(level) {
                    *end = end.max(left + w);
                }
                Some(Label {
                    left,
                    level,
                    main,
                    sub,
                })
            }
            None => {
                unlabelled.push(format!("{main} ({sub})"));
                None
            }
        };
        placed.push(Placed {
            x,
            kind: m.kind,
            label,
        });
    }
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

    let levels = level_ends.len().max(1) as f32;
    let plot_h = 6.0 + levels * LEVEL_H + 10.0;
    let height = TITLE_H + plot_h + 34.0 + note.len() as f32 * 9.5;
    doc.ensure_space(height);
    let top = doc.y;
    title(doc, &tl.title);
    let panel_top = top + TITLE_H;
    let axis_y = panel_top + plot_h;
    doc.fill_rect(LEFT, panel_top, WIDTH, height - TITLE_H - 4.0, PANEL);

    // Grid, ticks and tick labels.
    let step = tick_step(hi - lo);
    let daily = step >= 86_400.0;
    let mut t = (lo / step).ceil() * step;
    let mut label_end = f32::MIN;
    for _ in 0..50 {
        if t > hi {
            break;
        }
        let x = x_of(t);
        doc.line(x, panel_top + 4.0, x, axis_y, RULE, 0.3);
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

    // Deadlines: dashed lines through the picture.
    for p in placed.iter().filter(|p| p.kind == MarkerKind::Deadline) {
        doc.dashed_line(p.x, panel_top + 4.0, p.x, axis_y + 4.0, AMBER, 1.1);
    }
    // Leaders and labels.
    for p in &placed {
        let Some(label) = &p.label else { continue };
        let block_top = axis_y - 10.0 - (label.level as f32 + 1.0) * LEVEL_H + 2.0;
        if p.kind != MarkerKind::Deadline {
            let elbow = label.left > p.x + 4.0;
            let reach = if elbow {
                block_top + 19.0
            } else {
                block_top + 2.0
            };
            doc.line(p.x, reach, p.x, axis_y, GREY, 0.4);
            if elbow {
                doc.line(p.x, reach, label.left - 1.0, reach, GREY, 0.4);
            }
        }
        let colour = match p.kind {
            MarkerKind::Violation => RED,
            MarkerKind::Deadline => AMBER,
            _ => INK,
        };
        let b = block_top + 7.5;
        doc.text(
            label.left,
            b,
            &label.main,
            Face::Regular,
            LABEL_SIZE,
            colour,
        );
        doc.text(
            label.left,
            b + 8.5,
            &label.sub,
            Face::Regular,
            SUB_SIZE,
            MUTED,
        );
    }
    // Dots last, so they sit on top of lines; violations on top of everything.
    for kind in [MarkerKind::Note, MarkerKind::Control, MarkerKind::Violation] {
        for p in placed.iter().filter(|p| p.kind == kind) {
            doc.dot(p.x, axis_y, 3.4, marker_colour(kind));
        }
    }

    // Legend: the kinds present.
    let legend_b = axis_y + 25.0;
    let mut x = LEFT + 6.0;
    for kind in [
        MarkerKind::Deadline,
        MarkerKind::Control,
        MarkerKind::Violation,
        MarkerKind::Note,
    ] {
        if !placed.iter().any(|p| p.kind == kind) {
            continue;
        }
        let word = match kind {
            MarkerKind::Deadline => "deadline",
            MarkerKind::Control => "control acted",
            MarkerKind::Violation => "violation",
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
    let mut y = legend_b + 11.0;
    for line in &note {
        doc.text(LEFT + 6.0, y, line, Face::Regular, 7.0, MUTED);
        y += 9.5;
    }
    doc.y = top + height + 6.0;
}

fn title(doc: &mut Doc, text: &str) {
    let text = doc.fonts.fit(Face::Bold, 9.0, text, WIDTH);
    let b = baseline(doc.y, TITLE_H, 9.0);
    doc.text(LEFT, b, &text, Face::Bold, 9.0, INK);
    doc.y += TITLE_H;
}

fn marker_colour(kind: MarkerKind) -> Colour {
    match kind {
        MarkerKind::Deadline => AMBER,
        MarkerKind::Control => GREEN,
        MarkerKind::Violation => RED,
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
