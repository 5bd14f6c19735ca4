//! A small layout engine: a list of pages of printpdf operations, a cursor running down the
//! current page, `ensure_space` for page breaks, and the drawing primitives the report
//! parts use. Coordinates are points, measured from the top-left corner; the conversion to
//! PDF's bottom-left origin happens here only.

use std::collections::BTreeSet;

use printpdf::{
    Color, FontId, Line, LineDashPattern, LinePoint, Op, PaintMode, PdfFontHandle, Point, Polygon,
    PolygonRing, Pt, Rect, Rgb, TextItem, WindingOrder,
};

use super::font::{Face, Fonts};

/// A4 portrait, in points.
pub(super) const PAGE_W: f32 = 595.276;
pub(super) const PAGE_H: f32 = 841.89;
pub(super) const LEFT: f32 = 56.0;
pub(super) const RIGHT: f32 = PAGE_W - 56.0;
pub(super) const WIDTH: f32 = RIGHT - LEFT;
/// Where content starts and must end (the header and footer live outside).
pub(super) const TOP: f32 = 76.0;
pub(super) const BOTTOM: f32 = PAGE_H - 62.0;

/// Body text.
pub(super) const BODY: f32 = 9.5;
pub(super) const BODY_LH: f32 = 13.5;

/// An RGB colour, components 0..1.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Colour(pub f32, pub f32, pub f32);

pub(super) const INK: Colour = Colour(0.13, 0.14, 0.16);
pub(super) const MUTED: Colour = Colour(0.42, 0.44, 0.48);
pub(super) const ACCENT: Colour = Colour(0.09, 0.25, 0.45);
pub(super) const RULE: Colour = Colour(0.78, 0.80, 0.83);
pub(super) const HEAD_FILL: Colour = Colour(0.90, 0.92, 0.95);
pub(super) const ZEBRA: Colour = Colour(0.972, 0.976, 0.984);
pub(super) const PANEL: Colour = Colour(0.955, 0.962, 0.972);
pub(super) const RED: Colour = Colour(0.77, 0.15, 0.15);
pub(super) const RED_TINT: Colour = Colour(0.99, 0.92, 0.92);
pub(super) const GREEN: Colour = Colour(0.12, 0.53, 0.27);
pub(super) const GREEN_TINT: Colour = Colour(0.91, 0.97, 0.92);
pub(super) const GREY: Colour = Colour(0.55, 0.57, 0.60);
pub(super) const AMBER: Colour = Colour(0.80, 0.45, 0.05);
pub(super) const PURPLE: Colour = Colour(0.45, 0.27, 0.62);

fn colour(c: Colour) -> Color {
    Color::Rgb(Rgb {
        r: c.0,
        g: c.1,
        b: c.2,
        icc_profile: None,
    })
}

/// A finite coordinate (a NaN would make an unreadable content stream).
fn finite(v: f32) -> f32 {
    if v.is_finite() {
        v.clamp(-1.0e5, 1.0e5)
    } else {
        0.0
    }
}

fn point(x: f32, y_from_top: f32) -> Point {
    Point {
        x: Pt(finite(x)),
        y: Pt(finite(PAGE_H - y_from_top)),
    }
}

/// The baseline of `size`-point text set in a line box of height `lh` starting at `top`.
pub(super) fn baseline(top: f32, lh: f32, size: f32) -> f32 {
    top + lh * 0.5 + size * 0.36
}

pub(super) struct Page {
    pub ops: Vec<Op>,
    /// Gets the running header and footer (every page but the cover).
    pub decorated: bool,
}

pub(super) struct Doc {
    pub fonts: &'static Fonts,
    pub pages: Vec<Page>,
    /// The page drawing primitives write to.
    current: usize,
    /// The cursor: top of the next block, in points from the top of the page.
    pub y: f32,
    /// Characters drawn, per face (`Face::ALL` order), for subsetting.
    used: [BTreeSet<char>; 3],
}

impl Doc {
    /// A document whose first page is the (undecorated) cover.
    pub fn new(fonts: &'static Fonts) -> Doc {
        Doc {
            fonts,
            pages: vec![Page {
                ops: Vec::new(),
                decorated: false,
            }],
            current: 0,
            y: TOP,
            used: Default::default(),
        }
    }

    pub fn new_page(&mut self) {
        self.pages.push(Page {
            ops: Vec::new(),
            decorated: true,
        });
        self.current = self.pages.len() - 1;
        self.y = TOP;
    }

    /// Draw on page `index` (used for headers and footers once all pages exist).
    pub fn select_page(&mut self, index: usize) {
        if index < self.pages.len() {
            self.current = index;
        }
    }

    pub fn at_top(&self) -> bool {
        self.y <= TOP + 0.5
    }

    /// Starts a new page unless `h` points fit below the cursor (or the page is still
    /// empty, where waiting would not help). Returns whether it broke the page.
    pub fn ensure_space(&mut self, h: f32) -> bool {
        if self.y + h > BOTTOM && !self.at_top() {
            self.new_page();
            true
        } else {
            false
        }
    }

    pub fn used_chars(&self, face: Face) -> &BTreeSet<char> {
        face.of(&self.used)
    }

    fn push(&mut self, ops: impl IntoIterator<Item = Op>) {
        if let Some(page) = self.pages.get_mut(self.current) {
            page.ops.extend(ops);
        }
    }

    /// One line of text with its left end at `x` on `baseline`.
    pub fn text(&mut self, x: f32, baseline: f32, text: &str, face: Face, size: f32, c: Colour) {
        let text = self.fonts.clean(face, text);
        if text.trim().is_empty() {
            return;
        }
        face.of_mut(&mut self.used).extend(text.chars());
        self.push([
            Op::StartTextSection,
            Op::SetFont {
                font: PdfFontHandle::External(FontId(face.name().to_string())),
                size: Pt(size),
            },
            Op::SetFillColor { col: colour(c) },
            Op::SetTextCursor {
                pos: point(x, baseline),
            },
            Op::ShowText {
                items: vec![TextItem::Text(text)],
            },
            Op::EndTextSection,
        ]);
    }

    /// One line of text ending at `right`.
    #[allow(clippy::too_many_arguments)]
    pub fn text_right(
        &mut self,
        right: f32,
        baseline: f32,
        text: &str,
        face: Face,
        size: f32,
        c: Colour,
    ) {
        let text = self.fonts.clean(face, text);
        let w = self.fonts.width(face, size, &text);
        self.text(right - w, baseline, &text, face, size, c);
    }

    pub fn width(&self, face: Face, size: f32, text: &str) -> f32 {
        self.fonts.width(face, size, &self.fonts.clean(face, text))
    }

    /// Wrapped text at the cursor, `x`..`x + width`, flowing onto new pages as needed.
    #[allow(clippy::too_many_arguments)]
    pub fn flow(&mut self, text: &str, face: Face, size: f32, lh: f32, c: Colour, x: f32, w: f32) {
        for line in self.fonts.wrap(face, size, text, w) {
            self.ensure_space(lh);
            let b = baseline(self.y, lh, size);
            self.text(x, b, &line, face, size, c);
            self.y += lh;
        }
    }

    pub fn fill_rect(&mut self, x: f32, top: f32, w: f32, h: f32, c: Colour) {
        if w <= 0.0 || h <= 0.0 {
            return;
        }
        self.push([
            Op::SetFillColor { col: colour(c) },
            Op::DrawRectangle {
                rectangle: Rect {
                    x: Pt(finite(x)),
                    y: Pt(finite(PAGE_H - top - h)),
                    width: Pt(finite(w)),
                    height: Pt(finite(h)),
                    mode: Some(PaintMode::Fill),
                    winding_order: Some(WindingOrder::NonZero),
                },
            },
        ]);
    }

    #[allow(clippy::too_many_arguments)]
    pub fn line(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, c: Colour, thickness: f32) {
        self.push([
            Op::SetOutlineColor { col: colour(c) },
            Op::SetOutlineThickness { pt: Pt(thickness) },
            Op::DrawLine {
                line: Line {
                    points: vec![
                        LinePoint {
                            p: point(x1, y1),
                            bezier: false,
                        },
                        LinePoint {
                            p: point(x2, y2),
                            bezier: false,
                        },
                    ],
                    is_closed: false,
                },
            },
        ]);
    }

    #[allow(clippy::too_many_arguments)]
    pub fn dashed_line(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, c: Colour, thickness: f32) {
        self.push([Op::SetLineDashPattern {
            dash: LineDashPattern::new(0.0, &[3.0, 2.0]),
        }]);
        self.line(x1, y1, x2, y2, c, thickness);
        self.push([Op::SetLineDashPattern {
            dash: LineDashPattern::solid(),
        }]);
    }

    /// A filled circle centred on (`cx`, `cy`), with a white rim so dots stay distinct
    /// where they overlap.
    pub fn dot(&mut self, cx: f32, cy: f32, r: f32, c: Colour) {
        // Four cubic Béziers; 0.5523 is the usual circle constant.
        let k = 0.5523 * r;
        let pt = |x: f32, y: f32, bezier: bool| LinePoint {
            p: point(cx + x, cy + y),
            bezier,
        };
        let ring = vec![
            pt(r, 0.0, false),
            pt(r, k, true),
            pt(k, r, true),
            pt(0.0, r, false),
            pt(-k, r, true),
            pt(-r, k, true),
            pt(-r, 0.0, false),
            pt(-r, -k, true),
            pt(-k, -r, true),
            pt(0.0, -r, false),
            pt(k, -r, true),
            pt(r, -k, true),
            pt(r, 0.0, false),
        ];
        self.push([
            Op::SetFillColor { col: colour(c) },
            Op::SetOutlineColor {
                col: colour(Colour(1.0, 1.0, 1.0)),
            },
            Op::SetOutlineThickness { pt: Pt(0.8) },
            Op::DrawPolygon {
                polygon: Polygon {
                    rings: vec![PolygonRing { points: ring }],
                    mode: PaintMode::FillStroke,
                    winding_order: WindingOrder::NonZero,
                },
            },
        ]);
    }
}
