//! Where a timeline picture's labels go, and the lines around them: each marker's label
//! takes a level above the axis and a side of its stem, laid out so that no line (stem, grid
//! line, deadline) crosses a label. Pure geometry, drawn by `chart`.
//!
//! Coordinates: x in points across the page, heights in points above the time axis.

/// Between a label level and the next.
const LEVEL_GAP: f32 = 3.0;
/// Level 0's bottom, above the axis (clear of the markers' dots).
const BASE: f32 = 11.0;
/// Between a stem and its own label.
const OFFSET: f32 = 3.0;
/// Between two labels on one level.
const GAP: f32 = 6.0;
/// Between a line and a label it passes.
const CLEAR: f32 = 1.5;
/// A stem stops this far below its label's top, beside the label's first line.
const STEM_TOP: f32 = 2.0;

/// A marker to label: its x, its label's width, and whether it is a deadline (drawn as a
/// dashed line through the whole picture rather than a stem).
#[derive(Clone, Copy, Debug)]
pub(super) struct Item {
    pub x: f32,
    pub w: f32,
    pub deadline: bool,
}

/// A label's box.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Rect {
    pub left: f32,
    pub right: f32,
    pub bottom: f32,
    pub top: f32,
    pub level: usize,
}

impl Rect {
    /// The box of a label `w` wide and `h` high on `level`, beside a stem at `x`.
    fn at(x: f32, w: f32, h: f32, level: usize, right_side: bool) -> Rect {
        let bottom = BASE + level as f32 * (h + LEVEL_GAP);
        let left = if right_side {
            x + OFFSET
        } else {
            x - OFFSET - w
        };
        Rect {
            left,
            right: left + w,
            bottom,
            top: bottom + h,
            level,
        }
    }

    /// Whether a vertical line at `x` from `from` up to `to` passes through the box, or
    /// within `margin` of its sides.
    fn crossed_by(&self, x: f32, from: f32, to: f32, margin: f32) -> bool {
        x > self.left - margin && x < self.right + margin && from < self.top && to > self.bottom
    }

    fn overlaps(&self, other: &Rect, gap: f32) -> bool {
        self.left < other.right + gap
            && other.left < self.right + gap
            && self.bottom < other.top
            && other.bottom < self.top
    }
}

/// A vertical line from height `from` up to `to` at `x`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Segment {
    pub x: f32,
    pub from: f32,
    pub to: f32,
}

/// Where the labels went.
#[derive(Debug)]
pub(super) struct Layout {
    /// Per item, its label's box; `None` for one that found no room.
    pub labels: Vec<Option<Rect>>,
    /// Per item, its stem from the axis up beside its label (none for a deadline, whose
    /// dashed line is drawn through the picture, nor for an unlabelled marker).
    pub stems: Vec<Option<Segment>>,
    /// The levels in use (at least 1).
    pub levels: usize,
    /// The labels' height.
    pub label_h: f32,
}

impl Layout {
    pub(super) fn boxes(&self) -> impl Iterator<Item = &Rect> {
        self.labels.iter().flatten()
    }

    /// The top of the highest label.
    pub(super) fn height(&self) -> f32 {
        BASE + (self.levels.max(1) - 1) as f32 * (self.label_h + LEVEL_GAP) + self.label_h
    }
}

/// Lays labels `label_h` high out between `left` and `right` on at most `max_levels` levels.
///
/// A stem runs from the axis up to its label, so a label must not cover another marker
/// whose label is on its level or above, and its stem must not pass a lower label. Markers
/// are taken from the latest back, each label on the lowest level where it fits, right of
/// its stem if it can be: the later markers' stems are then known when a label covering
/// them is placed. A label across a deadline's dashed line, or on the left of its stem, or
/// over markers still to place (which then must stay below it), costs a little, as one
/// level up.
///
/// A label on the left (near the right edge) can still shut out an earlier marker under
/// it; then the pass runs again with that label's lowest level raised above it, as long as
/// that labels more markers. The mirror image (earliest first, labels on the left) is kept
/// instead only when it labels more markers.
pub(super) fn place(
    items: &[Item],
    left: f32,
    right: f32,
    max_levels: usize,
    label_h: f32,
) -> Layout {
    let shape = Shape {
        left,
        right,
        max_levels: max_levels.max(1),
        label_h: if label_h.is_finite() {
            label_h.max(1.0)
        } else {
            1.0
        },
    };
    let items: Vec<Item> = items
        .iter()
        .map(|it| Item {
            x: if it.x.is_finite() { it.x } else { shape.left },
            w: if it.w.is_finite() { it.w.max(0.0) } else { 0.0 },
            deadline: it.deadline,
        })
        .collect();
    let direct = place_repaired(&items, &shape);
    if direct.labels.iter().all(Option::is_some) {
        return direct;
    }
    let mirrored: Vec<Item> = items
        .iter()
        .map(|it| Item {
            x: shape.left + shape.right - it.x,
            ..*it
        })
        .collect();
    let mut other = place_repaired(&mirrored, &shape);
    if other.score() >= direct.score() {
        return direct;
    }
    let flip = |x: f32| shape.left + shape.right - x;
    for rect in other.labels.iter_mut().flatten() {
        *rect = Rect {
            left: flip(rect.right),
            right: flip(rect.left),
            ..*rect
        };
    }
    for stem in other.stems.iter_mut().flatten() {
        stem.x = flip(stem.x);
    }
    other
}

impl Layout {
    /// Lower is better: unlabelled markers first, then levels.
    fn score(&self) -> (usize, usize) {
        let unlabelled = self.labels.iter().filter(|l| l.is_none()).count();
        (unlabelled, self.levels)
    }
}

/// The picture's bounds and its labels' shape.
struct Shape {
    left: f32,
    right: f32,
    max_levels: usize,
    label_h: f32,
}

/// [`place_one_way`], run again with the labels that shut other markers out raised, while
/// that labels more.
fn place_repaired(items: &[Item], shape: &Shape) -> Layout {
    let mut floors = vec![0; items.len()];
    let mut best = place_one_way(items, shape, &floors);
    let mut current = best.labels.clone();
    for _ in 0..items.len().min(32) {
        let mut raised = false;
        for (u, item) in items.iter().enumerate() {
            if current.get(u).is_none_or(Option::is_some) {
                continue;
            }
            for (i, label) in current.iter().enumerate() {
                let Some(r) = label else { continue };
                if i != u && r.crossed_by(item.x, 0.0, r.top, CLEAR) {
                    if let Some(f) = floors.get_mut(i) {
                        if *f <= r.level && r.level + 1 < shape.max_levels {
                            *f = r.level + 1;
                            raised = true;
                        }
                    }
                }
            }
        }
        if !raised {
            break;
        }
        let next = place_one_way(items, shape, &floors);
        current = next.labels.clone();
        if next.score() < best.score() {
            best = next;
        }
    }
    best
}

/// One greedy pass; `floors` are the lowest levels each marker's label may take.
fn place_one_way(items: &[Item], shape: &Shape, floors: &[usize]) -> Layout {
    let n = items.len();
    let mut labels: Vec<Option<Rect>> = vec![None; n];
    let mut stems: Vec<Option<Segment>> = vec![None; n];
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|a, b| {
        let x = |i: &usize| items.get(*i).map_or(0.0, |it| it.x);
        x(b).total_cmp(&x(a)).then(b.cmp(a))
    });
    let mut done = vec![false; n];
    for &i in &order {
        let Some(item) = items.get(i) else { continue };
        let mut best: Option<(f32, Rect)> = None;
        let floor = floors.get(i).copied().unwrap_or(0);
        for level in floor..shape.max_levels {
            // No candidate on a higher level can beat one found on this level.
            if best.is_some_and(|(cost, _)| cost <= level as f32 * 10.0) {
                break;
            }
            for right_side in [true, false] {
                let rect = Rect::at(item.x, item.w, shape.label_h, level, right_side);
                let stem_top = rect.top - STEM_TOP;
                let fits = rect.left >= shape.left
                    && rect.right <= shape.right
                    && labels.iter().flatten().all(|p| !rect.overlaps(p, GAP))
                    && (item.deadline
                        || labels
                            .iter()
                            .flatten()
                            .all(|p| !p.crossed_by(item.x, 0.0, stem_top, CLEAR)))
                    && stems
                        .iter()
                        .flatten()
                        .all(|s| !rect.crossed_by(s.x, s.from, s.to, CLEAR));
                if !fits {
                    continue;
                }
                let mut cost = level as f32 * 10.0;
                if !right_side {
                    cost += 4.0;
                }
                for (j, other) in items.iter().enumerate() {
                    if j == i || !rect.crossed_by(other.x, 0.0, rect.top, CLEAR) {
                        continue;
                    }
                    if other.deadline {
                        cost += 20.0;
                    } else if !done.get(j).copied().unwrap_or(true) {
                        cost += 6.0;
                    }
                }
                if best.is_none_or(|(c, _)| cost < c) {
                    best = Some((cost, rect));
                }
            }
        }
        if let Some((_, rect)) = best {
            if let Some(slot) = labels.get_mut(i) {
                *slot = Some(rect);
            }
            if !item.deadline {
                if let Some(slot) = stems.get_mut(i) {
                    *slot = Some(Segment {
                        x: item.x,
                        from: 0.0,
                        to: rect.top - STEM_TOP,
                    });
                }
            }
        }
        if let Some(d) = done.get_mut(i) {
            *d = true;
        }
    }
    let levels = labels
        .iter()
        .flatten()
        .map(|r| r.level + 1)
        .max()
        .unwrap_or(1);
    Layout {
        labels,
        stems,
        levels,
        label_h: shape.label_h,
    }
}

/// A vertical line at `x` from `from` up to `to`, cut where it would cross a label: the
/// pieces to draw.
pub(super) fn around_labels(x: f32, from: f32, to: f32, layout: &Layout) -> Vec<Segment> {
    let mut gaps: Vec<(f32, f32)> = layout
        .boxes()
        .filter(|r| r.crossed_by(x, from, to, CLEAR))
        .map(|r| (r.bottom - CLEAR, r.top + CLEAR))
        .collect();
    gaps.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut out = Vec::new();
    let mut at = from;
    for (lo, hi) in gaps {
        if lo > at {
            out.push(Segment {
                x,
                from: at,
                to: lo,
            });
        }
        at = at.max(hi);
    }
    if to > at {
        out.push(Segment { x, from: at, to });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const L: f32 = 56.0;
    const R: f32 = 539.0;

    /// Whether a segment passes through a box (touching an edge is not crossing).
    fn crosses(s: &Segment, r: &Rect) -> bool {
        r.crossed_by(s.x, s.from, s.to, 0.0)
    }

    /// The property the layout exists for: no stem, grid line or deadline crosses a label,
    /// labels do not overlap and stay within the picture.
    fn check(items: &[Item], layout: &Layout, ticks: &[f32]) {
        let boxes: Vec<(usize, Rect)> = layout
            .labels
            .iter()
            .enumerate()
            .filter_map(|(i, r)| r.map(|r| (i, r)))
            .collect();
        for (i, a) in &boxes {
            assert!(
                a.left >= L - 0.01 && a.right <= R + 0.01,
                "{a:?} out of bounds"
            );
            for (j, b) in &boxes {
                assert!(i == j || !a.overlaps(b, 0.0), "labels {i} and {j} overlap");
            }
        }
        let mut lines: Vec<(String, Segment)> = Vec::new();
        for (i, s) in layout.stems.iter().enumerate() {
            if let Some(s) = s {
                lines.push((format!("stem {i}"), *s));
            }
        }
        let plot_top = layout.height() + 6.0;
        for x in ticks {
            for s in around_labels(*x, 0.0, plot_top, layout) {
                lines.push((format!("grid line at {x}"), s));
            }
        }
        for (i, it) in items.iter().enumerate().filter(|(_, it)| it.deadline) {
            for s in around_labels(it.x, -4.0, plot_top, layout) {
                lines.push((format!("deadline {i}"), s));
            }
        }
        for (what, s) in &lines {
            for (j, r) in &boxes {
                assert!(!crosses(s, r), "{what} {s:?} crosses label {j} {r:?}");
            }
        }
    }

    fn item(x: f32, w: f32) -> Item {
        Item {
            x,
            w,
            deadline: false,
        }
    }

    #[test]
    fn a_cluster_of_markers_stacks_without_crossings() {
        // Marco Rossi's access after expiry: a deadline, three clusters, a late control.
        let mut items = vec![Item {
            x: 100.0,
            w: 60.0,
            deadline: true,
        }];
        for x in [
            175.0, 175.3, 175.6, 258.0, 258.1, 367.0, 367.2, 367.4, 450.0, 451.0,
        ] {
            items.push(item(x, 105.0));
        }
        items.push(item(500.0, 130.0));
        items.push(item(500.2, 125.0));
        let layout = place(&items, L, R, 7, 19.0);
        check(&items, &layout, &[70.0, 258.0, 300.0, 450.5, 520.0]);
        // Labels as wide as these cannot all go: the 450 cluster must take the left and so
        // cover the 367 one, whose labels either side cover a neighbour cluster in turn.
        let labelled = layout.labels.iter().flatten().count();
        assert!(labelled >= 10, "{labelled} labelled: {layout:?}");
        // Narrower ones can.
        for it in &mut items {
            it.w = 70.0;
        }
        let layout = place(&items, L, R, 7, 19.0);
        check(&items, &layout, &[70.0, 258.0, 300.0, 450.5, 520.0]);
        assert!(layout.labels.iter().all(Option::is_some), "{layout:?}");
    }

    #[test]
    fn markers_at_one_instant_use_both_sides() {
        let items: Vec<Item> = (0..12).map(|_| item(300.0, 90.0)).collect();
        let layout = place(&items, L, R, 6, 19.0);
        check(&items, &layout, &[300.0]);
        assert_eq!(layout.labels.iter().flatten().count(), 12);
        assert!(layout.levels <= 6);
    }

    #[test]
    fn a_label_that_finds_no_room_is_left_out() {
        let items: Vec<Item> = (0..30).map(|_| item(300.0, 200.0)).collect();
        let layout = place(&items, L, R, 3, 19.0);
        check(&items, &layout, &[]);
        assert!(layout.labels.iter().any(Option::is_none));
        // Odd input still lays out.
        let odd = [
            item(f32::NAN, f32::INFINITY),
            item(-1e9, 10.0),
            item(1e9, -5.0),
        ];
        let layout = place(&odd, L, R, 6, 19.0);
        check(&odd, &layout, &[L, R]);
    }

    #[test]
    fn grid_lines_are_cut_around_labels() {
        let items = [item(100.0, 80.0)];
        let layout = place(&items, L, R, 6, 19.0);
        let r = layout.labels[0].unwrap();
        let pieces = around_labels(140.0, 0.0, 60.0, &layout);
        assert_eq!(pieces.len(), 2, "{pieces:?}");
        assert!(pieces[0].to < r.bottom && pieces[1].from > r.top);
        assert_eq!(around_labels(300.0, 0.0, 60.0, &layout).len(), 1);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]

        /// Any markers, widths and ticks: nothing crosses a label.
        #[test]
        fn no_line_crosses_a_label(
            markers in proptest::collection::vec(
                (0.0f32..1.0, 10.0f32..170.0, proptest::prelude::any::<bool>()),
                0..24,
            ),
            clustered in proptest::prelude::any::<bool>(),
            ticks in proptest::collection::vec(0.0f32..1.0, 0..8),
            max_levels in 1usize..8,
        ) {
            let span = if clustered { 40.0 } else { R - L - 20.0 };
            let x = |t: f32| L + 10.0 + t * span;
            let items: Vec<Item> = markers
                .iter()
                .map(|(t, w, d)| Item { x: x(*t), w: *w, deadline: *d })
                .collect();
            let ticks: Vec<f32> = ticks.iter().map(|t| L + 10.0 + t * (R - L - 20.0)).collect();
            let layout = place(&items, L, R, max_levels, 19.0);
            proptest::prop_assert!(layout.levels <= max_levels.max(1));
            check(&items, &layout, &ticks);
        }
    }
}
