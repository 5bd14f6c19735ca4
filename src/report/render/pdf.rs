//! The PDF report: cover with the ledger attestation, summary (table, exceptions chart,
//! findings), one part per section (paragraphs, tables, timelines, conclusion) and the
//! evidence index, A4 portrait, DejaVu fonts embedded as subsets.
//!
//! The output is a function of the report alone: no clock (the document dates are
//! `generated_at`), no random ids (fonts have fixed resource names; the trailer `/ID` is a
//! hash of the document), so rendering twice gives the same bytes. Text is extractable:
//! every font carries a `/ToUnicode` map.
//!
//! Layout lives in the submodules: `layout` (pages, cursor, page breaks, primitives),
//! `font` (measuring, wrapping, subsetting), `table`, `chart` (bars and timelines),
//! `timeline` (where a timeline's labels go), `format` (how times, durations and seqs
//! read).

mod chart;
mod font;
mod format;
mod layout;
mod table;
mod timeline;

use printpdf::{FontId, Mm, OffsetDateTime, PdfDocument, PdfFont, PdfPage, PdfSaveOptions};
use thiserror::Error;

use crate::finding::Severity;
use crate::report::model::{Cell, Report, ReportKind, Section};

use font::{Face, Fonts};
use layout::{
    baseline, Colour, Doc, ACCENT, AMBER, BODY, BODY_LH, BOTTOM, GREEN, GREEN_TINT, INK, LEFT,
    MUTED, PAGE_H, PAGE_W, PANEL, RED, RED_TINT, RIGHT, RULE, TOP, WIDTH,
};
use table::{Align, TCell, TableSpec};

#[derive(Debug, Error)]
pub enum PdfError {
    /// The embedded fonts could not be read or subset (a build problem, not an input one).
    #[error("embedded font: {0}")]
    Font(String),
    /// printpdf/lopdf could not write the document.
    #[error("writing the PDF: {0}")]
    Write(String),
}

/// The `pdf` format in the renderer registry ([`super::Format::ALL`]).
pub struct Pdf;

impl super::Renderer for Pdf {
    fn name(&self) -> &'static str {
        "pdf"
    }

    fn render(
        &self,
        report: &crate::report::model::Report,
    ) -> Result<Vec<(String, Vec<u8>)>, crate::report::ReportError> {
        Ok(vec![(
            format!("{}.pdf", report.kind.as_str()),
            render(report)?,
        )])
    }
}

/// Renders the report as a PDF file.
pub fn render(report: &Report) -> Result<Vec<u8>, PdfError> {
    let fonts = Fonts::get()?;
    let mut doc = Doc::new(fonts);
    cover(&mut doc, report);
    let contents_at = reserve_contents(&mut doc, report.sections.len() + 2);
    let mut parts = Vec::new();
    // Contents on a page of their own leave most of it empty: the summary follows them
    // there when most of its first table fits.
    if matches!(contents_at, ContentsAt::Cover(_)) {
        doc.new_page();
    } else {
        start_part(&mut doc, SUMMARY_START);
    }
    parts.push(("Summary".to_string(), doc.pages.len() - 1));
    summary(&mut doc, report);
    for (i, section) in report.sections.iter().enumerate() {
        start_part(&mut doc, PART_START);
        parts.push((section_name(section).to_string(), doc.pages.len() - 1));
        render_section(&mut doc, i + 1, report.sections.len(), section);
    }
    start_part(&mut doc, PART_START);
    parts.push(("Evidence index".to_string(), doc.pages.len() - 1));
    evidence(&mut doc, report);
    contents(&mut doc, contents_at, &parts);
    decorate(&mut doc, report);
    save(doc, report)
}

/// Space between one part of the report and the next on a page.
const PART_GAP: f32 = 28.0;

/// Room a part (a section, the evidence index) needs below the gap to start on the
/// current page rather than a new one.
const PART_START: f32 = 260.0;

/// Starts a part (the summary, a section, the evidence index): on the current page,
/// [`PART_GAP`] below what is there, when `room` is left after the gap, so that a short
/// part (a table of two rows) does not leave most of a page empty; else on a new page.
fn start_part(doc: &mut Doc, room: f32) {
    if doc.at_top() {
        return;
    }
    if doc.y + PART_GAP + room > BOTTOM {
        doc.new_page();
    } else {
        doc.y += PART_GAP;
    }
}

/// What a reader calls the section: its title (the id is an internal name, e.g. `access`).
fn section_name(s: &Section) -> &str {
    if s.title.trim().is_empty() {
        &s.id
    } else {
        &s.title
    }
}

fn kind_label(kind: ReportKind) -> &'static str {
    match kind {
        ReportKind::Soc2 => "SOC 2 evidence report",
        ReportKind::Hipaa => "HIPAA evidence report",
        ReportKind::AccessAfterExpiry => "Access after expiry",
        ReportKind::SprintReview => "Sprint review",
        ReportKind::Upcoming => "Upcoming expirations",
    }
}

/// A page heading with a rule under it.
fn heading(doc: &mut Doc, text: &str) {
    for line in doc.fonts.wrap(Face::Bold, 16.0, text, WIDTH) {
        doc.ensure_space(22.0);
        let b = baseline(doc.y, 21.0, 16.0);
        doc.text(LEFT, b, &line, Face::Bold, 16.0, ACCENT);
        doc.y += 21.0;
    }
    doc.y += 3.0;
    doc.line(LEFT, doc.y, RIGHT, doc.y, ACCENT, 1.0);
    doc.y += 12.0;
}

/// A heading inside a page, kept with `follow` points of what comes after it.
fn subheading(doc: &mut Doc, text: &str, follow: f32) {
    let lines = doc.fonts.wrap(Face::Bold, 11.5, text, WIDTH);
    doc.ensure_space(lines.len() as f32 * 16.0 + 4.0 + follow);
    for line in lines {
        let b = baseline(doc.y, 16.0, 11.5);
        doc.text(LEFT, b, &line, Face::Bold, 11.5, ACCENT);
        doc.y += 16.0;
    }
    doc.y += 4.0;
}

const LABEL_W: f32 = 112.0;

/// A label and its (wrapped) value, side by side.
fn key_value(doc: &mut Doc, label: &str, value: &str, face: Face, size: f32) {
    let lh = (size * 1.45).max(12.5);
    let lines = doc.fonts.wrap(face, size, value, WIDTH - LABEL_W);
    doc.ensure_space(lh * lines.len().min(2) as f32);
    let label = doc.fonts.fit(Face::Bold, 8.5, label, LABEL_W - 8.0);
    let b = baseline(doc.y, lh, 8.5);
    doc.text(LEFT, b, &label, Face::Bold, 8.5, MUTED);
    for line in lines {
        doc.ensure_space(lh);
        let b = baseline(doc.y, lh, size);
        doc.text(LEFT + LABEL_W, b, &line, face, size, INK);
        doc.y += lh;
    }
    doc.y += 3.0;
}

/// A block of wrapped text on a tinted panel with a coloured bar at its left; flows as
/// plain text when it is taller than a page.
#[allow(clippy::too_many_arguments)]
fn panel(doc: &mut Doc, lead: &str, text: &str, fill: Colour, bar: Colour, lead_colour: Colour) {
    const PAD: f32 = 8.0;
    let inner = WIDTH - 2.0 * PAD - 4.0;
    let mut lines: Vec<(String, Face)> = Vec::new();
    if !lead.is_empty() {
        for l in doc.fonts.wrap(Face::Bold, BODY, lead, inner) {
            lines.push((l, Face::Bold));
        }
    }
    if !text.is_empty() {
        for l in doc.fonts.wrap(Face::Regular, BODY, text, inner) {
            lines.push((l, Face::Regular));
        }
    }
    let h = lines.len() as f32 * BODY_LH + 2.0 * PAD;
    if h <= BOTTOM - TOP {
        doc.ensure_space(h);
        doc.fill_rect(LEFT, doc.y, WIDTH, h, fill);
        doc.fill_rect(LEFT, doc.y, 3.0, h, bar);
        let mut y = doc.y + PAD;
        for (line, face) in &lines {
            let c = if *face == Face::Bold {
                lead_colour
            } else {
                INK
            };
            doc.text(
                LEFT + PAD + 4.0,
                baseline(y, BODY_LH, BODY),
                line,
                *face,
                BODY,
                c,
            );
            y += BODY_LH;
        }
        doc.y += h;
    } else {
        for (line, face) in &lines {
            doc.ensure_space(BODY_LH);
            let b = baseline(doc.y, BODY_LH, BODY);
            doc.text(LEFT, b, line, *face, BODY, INK);
            doc.y += BODY_LH;
        }
    }
}

fn cover(doc: &mut Doc, r: &Report) {
    doc.fill_rect(0.0, 0.0, PAGE_W, 12.0, ACCENT);
    doc.y = 118.0;
    let kicker = kind_label(r.kind).to_uppercase();
    doc.text(
        LEFT,
        baseline(doc.y, 14.0, 9.0),
        &kicker,
        Face::Bold,
        9.0,
        ACCENT,
    );
    doc.y += 22.0;
    doc.flow(&r.title, Face::Bold, 24.0, 30.0, INK, LEFT, WIDTH);
    doc.y += 6.0;
    doc.flow(&r.subtitle, Face::Regular, 12.0, 17.0, MUTED, LEFT, WIDTH);
    doc.y += 28.0;

    let period = match &r.period {
        Some(p) => format!("{} to {}", p.from, p.to),
        None => "not applicable".to_string(),
    };
    key_value(doc, "Period", &period, Face::Regular, BODY);
    // A pinned time is when the report looks from, not when it was built: say so, or it
    // reads as contradicting the checkpoint's later signing time.
    if r.time_pinned {
        let at = format!(
            "{} (chosen for this report; events after it are left out)",
            format::time(r.generated_at)
        );
        key_value(doc, "Report time", &at, Face::Regular, BODY);
    } else {
        key_value(
            doc,
            "Generated",
            &format::time(r.generated_at),
            Face::Regular,
            BODY,
        );
    }
    key_value(doc, "Ledger", &r.origin, Face::Regular, BODY);
    key_value(
        doc,
        "Policy profile",
        &r.policy.profile,
        Face::Regular,
        BODY,
    );
    key_value(doc, "Policy hash", &r.policy.hash, Face::Mono, 8.0);
    doc.y += 20.0;

    let a = &r.attestation;
    subheading(doc, "Ledger attestation", 60.0);
    let (lead, fill, bar) = if a.verified {
        ("Verified", GREEN_TINT, GREEN)
    } else {
        ("NOT VERIFIED", RED_TINT, RED)
    };
    panel(doc, lead, &a.verification, fill, bar, bar);
    doc.y += 10.0;
    key_value(
        doc,
        "Tree size",
        &a.tree_size.to_string(),
        Face::Regular,
        BODY,
    );
    if let Some(at) = a
        .checkpoint_signed_at
        .as_deref()
        .and_then(|t| crate::event::Timestamp::parse_rfc3339(t).ok())
    {
        key_value(
            doc,
            "Checkpoint signed",
            &format::time(at),
            Face::Regular,
            BODY,
        );
    }
    key_value(doc, "Root", &a.root, Face::Mono, 8.0);
    key_value(doc, "Key fingerprint", &a.key_fingerprint, Face::Mono, 9.0);
    key_value(doc, "Verifier key", &a.verifier_key, Face::Mono, 8.0);
    doc.y += 8.0;

    // The signed checkpoint, verbatim, on a panel.
    const LH: f32 = 10.5;
    const SIZE: f32 = 7.5;
    let mut lines = Vec::new();
    for line in a.checkpoint.trim_end_matches('\n').split('\n') {
        lines.extend(doc.fonts.wrap(Face::Mono, SIZE, line, WIDTH - 16.0));
    }
    doc.ensure_space(16.0 + LH * lines.len().min(4) as f32 + 12.0);
    let b = baseline(doc.y, 14.0, 8.5);
    doc.text(LEFT, b, "Signed checkpoint", Face::Bold, 8.5, MUTED);
    doc.y += 16.0;
    doc.fill_rect(LEFT, doc.y, WIDTH, 6.0, PANEL);
    doc.y += 6.0;
    for line in &lines {
        if doc.ensure_space(LH) {
            doc.fill_rect(LEFT, doc.y, WIDTH, 6.0, PANEL);
            doc.y += 6.0;
        }
        doc.fill_rect(LEFT, doc.y, WIDTH, LH, PANEL);
        let b = baseline(doc.y, LH, SIZE);
        doc.text(LEFT + 8.0, b, line, Face::Mono, SIZE, INK);
        doc.y += LH;
    }
    doc.fill_rect(LEFT, doc.y, WIDTH, 6.0, PANEL);
    doc.y += 6.0;
}

const CONTENTS_LH: f32 = 15.0;
/// From the end of the cover's attestation to the first contents entry.
const CONTENTS_ON_COVER: f32 = 22.0 + 20.0;
/// The cover has no footer: its contents may run into the footer's margin.
const COVER_BOTTOM: f32 = PAGE_H - 48.0;
/// A page heading's height (one line, its rule and the space under it).
const HEADING_H: f32 = 36.0;

/// Room the summary's heading and the first rows of its table need below the gap.
const SUMMARY_START: f32 = 192.0;

/// Where the table of contents goes.
enum ContentsAt {
    /// On the cover, below the attestation ending at this height.
    Cover(f32),
    /// On pages of its own from this page index on, right after the cover.
    Pages(usize),
}

/// Decides where the contents of `entries` entries go, and reserves their pages when the
/// cover has no room: every report has contents, and the entries' page numbers are known
/// only once everything is laid out, so the pages are kept now and filled in at the end.
fn reserve_contents(doc: &mut Doc, entries: usize) -> ContentsAt {
    let needs = CONTENTS_ON_COVER + CONTENTS_LH * entries as f32;
    if doc.pages.len() == 1 && doc.y + needs <= COVER_BOTTOM {
        return ContentsAt::Cover(doc.y);
    }
    let first = doc.pages.len();
    let per_page = (((BOTTOM - TOP - HEADING_H) / CONTENTS_LH).floor() as usize).max(1);
    let pages = entries.div_ceil(per_page).max(1);
    for _ in 0..pages {
        doc.new_page();
    }
    // Below the last contents entry: where what follows may start.
    let on_last = entries - (pages - 1) * per_page;
    doc.y = TOP + if pages == 1 { HEADING_H } else { 0.0 } + CONTENTS_LH * on_last as f32;
    ContentsAt::Pages(first)
}

/// The table of contents: each part's name and the page it starts on.
fn contents(doc: &mut Doc, at: ContentsAt, parts: &[(String, usize)]) {
    let (mut page, bottom) = match at {
        ContentsAt::Cover(y) => {
            doc.select_page(0);
            doc.y = y + 22.0;
            subheading(doc, "Contents", 0.0);
            (0, COVER_BOTTOM)
        }
        ContentsAt::Pages(first) => {
            doc.select_page(first);
            doc.y = TOP;
            heading(doc, "Contents");
            (first, BOTTOM)
        }
    };
    for (title, start) in parts {
        if doc.y + CONTENTS_LH > bottom {
            // Only reserved pages follow (`reserve_contents` counted the entries; on the
            // cover they fit).
            page += 1;
            doc.select_page(page);
            doc.y = TOP;
        }
        let number = (start + 1).to_string();
        let room = WIDTH - 40.0;
        let title = doc.fonts.fit(Face::Regular, BODY, title, room);
        let b = baseline(doc.y, CONTENTS_LH, BODY);
        doc.text(LEFT, b, &title, Face::Regular, BODY, INK);
        doc.text_right(RIGHT, b, &number, Face::Regular, BODY, INK);
        doc.y += CONTENTS_LH;
        doc.line(LEFT, doc.y - 1.0, RIGHT, doc.y - 1.0, RULE, 0.3);
    }
}

fn summary(doc: &mut Doc, r: &Report) {
    heading(doc, "Summary");
    let columns = vec![
        column("ID", Align::Left),
        column("Control / area", Align::Left),
        column("Population", Align::Right),
        column("Exceptions", Align::Right),
        column("Conclusion", Align::Left),
    ];
    let rows = r
        .summary
        .iter()
        .map(|s| {
            let flagged = if s.exceptions > 0 {
                RED
            } else if s.population == 0 {
                INK
            } else {
                GREEN
            };
            vec![
                TCell::new(&s.id).face(Face::Bold),
                TCell::new(&s.title),
                TCell::new(s.population.to_string()).right(),
                TCell::new(s.exceptions.to_string())
                    .right()
                    .colour(if s.exceptions > 0 { RED } else { INK }),
                TCell::new(&s.conclusion).colour(flagged),
            ]
        })
        .collect();
    table::draw(
        doc,
        &TableSpec {
            title: "",
            columns,
            rows,
            empty_text: "The report has no summary figures.",
        },
    );
    doc.y += 20.0;
    chart::exceptions_chart(doc, &r.summary);
    doc.y += 18.0;

    let columns = vec![
        column("Severity", Align::Left),
        column("Person", Align::Left),
        column("Finding", Align::Left),
        column("When", Align::Left),
        column("Evidence", Align::Left),
    ];
    let rows = r
        .findings
        .iter()
        .map(|f| {
            let who = match &f.person {
                Some(p) => format!("{p}\n{}", f.subject),
                None => f.subject.clone(),
            };
            let mut what = f.summary.clone();
            if !f.controls.is_empty() {
                what.push('\n');
                what.push_str(&f.controls.join(", "));
            }
            let seqs: Vec<u64> = f.evidence.iter().map(|e| e.seq).collect();
            vec![
                TCell::new(format::severity(f.severity))
                    .face(Face::Bold)
                    .colour(severity_colour(f.severity)),
                TCell::new(who),
                TCell::new(what),
                TCell::new(format::time(f.at)),
                TCell::new(format::seqs(&seqs)),
            ]
        })
        .collect();
    // The upcoming report counts open items (a reminder due, a contact who left) as its
    // exceptions without any rule having fired: say where they are.
    let open_items = r.summary.iter().any(|s| s.exceptions > 0);
    let spec = TableSpec {
        title: "",
        columns,
        rows,
        empty_text: if open_items {
            "No findings of the policy's rules; the exceptions counted above are open items, listed in the section that follows."
        } else {
            "No findings."
        },
    };
    let prepared = table::prepare(doc, &spec);
    subheading(doc, "Findings", prepared.lead_height());
    table::draw_prepared(doc, &spec, &prepared);
}

fn severity_colour(s: Severity) -> Colour {
    match s {
        Severity::Critical | Severity::High => RED,
        Severity::Medium => AMBER,
        Severity::Low | Severity::Info => INK,
    }
}

fn column(title: &str, align: Align) -> table::Column {
    table::Column {
        title: title.to_string(),
        align,
    }
}

fn render_section(doc: &mut Doc, number: usize, of: usize, s: &Section) {
    let kicker = format!("SECTION {number} OF {of}");
    doc.text(
        LEFT,
        baseline(doc.y, 12.0, 8.5),
        &kicker,
        Face::Bold,
        8.5,
        ACCENT,
    );
    doc.y += 14.0;
    heading(doc, &s.title);

    for p in &s.paragraphs {
        match &p.label {
            Some(label) => {
                doc.ensure_space(16.0 + 2.0 * BODY_LH);
                doc.flow(label, Face::Bold, BODY, 15.0, INK, LEFT, WIDTH);
            }
            None => {
                doc.ensure_space(2.0 * BODY_LH);
            }
        }
        doc.flow(&p.text, Face::Regular, BODY, BODY_LH, INK, LEFT, WIDTH);
        doc.y += 9.0;
    }

    for t in &s.tables {
        doc.y += 6.0;
        let columns = t
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let numeric = t
                    .rows
                    .iter()
                    .find_map(|r| match r.get(i) {
                        Some(Cell::Empty) | None => None,
                        Some(cell) => Some(matches!(cell, Cell::Count(_) | Cell::Duration(_))),
                    })
                    .unwrap_or(false);
                // The model's `width` shares are not used: widths come from the content.
                column(&c.title, if numeric { Align::Right } else { Align::Left })
            })
            .collect();
        let rows = t
            .rows
            .iter()
            .map(|row| row.iter().map(model_cell).collect())
            .collect();
        table::draw(
            doc,
            &TableSpec {
                title: &t.title,
                columns,
                rows,
                empty_text: &t.empty_text,
            },
        );
        doc.y += 14.0;
    }

    if !s.timelines.is_empty() {
        doc.y += 4.0;
        let plans: Vec<_> = s
            .timelines
            .iter()
            .map(|tl| chart::plan_timeline(doc, tl))
            .collect();
        let first = plans.first().map_or(0.0, |p| p.height);
        subheading(doc, "Exception timelines", first);
        for plan in &plans {
            chart::timeline(doc, plan);
            doc.y += 8.0;
        }
    }

    if let Some(conclusion) = &s.conclusion {
        doc.y += 6.0;
        panel(doc, "Conclusion", conclusion, PANEL, ACCENT, ACCENT);
    }
}

fn model_cell(c: &Cell) -> TCell {
    let cell = TCell::new(format::cell(c));
    match c {
        Cell::Count(_) | Cell::Duration(_) => cell.right(),
        Cell::Severity(s) => cell.face(Face::Bold).colour(severity_colour(*s)),
        _ => cell,
    }
}

fn evidence(doc: &mut Doc, r: &Report) {
    heading(doc, "Evidence index");
    doc.flow(
        "Every ledger entry this report cites, in sequence order. Tables and findings cite \
         entries by sequence number (#n); hashes are the entries' BLAKE3 chain hashes, \
         shortened to their first 16 hex digits.",
        Face::Regular,
        BODY,
        BODY_LH,
        MUTED,
        LEFT,
        WIDTH,
    );
    doc.y += 10.0;
    let columns = vec![
        column("Seq", Align::Left),
        column("Chain hash", Align::Left),
        column("Kind", Align::Left),
        column("Source", Align::Left),
        column("Time", Align::Left),
    ];
    let rows = r
        .evidence
        .iter()
        .map(|e| {
            vec![
                TCell::new(format!("#{}", e.seq)),
                TCell::new(e.hash.chars().take(16).collect::<String>()).face(Face::Mono),
                TCell::new(&e.kind),
                TCell::new(&e.source),
                TCell::new(format::time(e.occurred_at)),
            ]
        })
        .collect();
    table::draw(
        doc,
        &TableSpec {
            title: "",
            columns,
            rows,
            empty_text: "The report cites no ledger entries.",
        },
    );
}

/// Running header (title, origin) and footer (tree size, page N of M) on every page but
/// the cover, which carries only its page number: a printed report shows on its first
/// page how many pages make it whole.
fn decorate(doc: &mut Doc, r: &Report) {
    let total = doc.pages.len();
    let left = format!(
        "Ledger tree size {} · key {}",
        r.attestation.tree_size, r.attestation.key_fingerprint
    );
    for i in 0..total {
        doc.select_page(i);
        if !doc.pages.get(i).is_some_and(|p| p.decorated) {
            let page = format!("Page {} of {total}", i + 1);
            doc.text_right(RIGHT, PAGE_H - 40.0, &page, Face::Regular, 7.5, MUTED);
            continue;
        }
        let title = doc.fonts.fit(Face::Bold, 7.5, &r.title, WIDTH * 0.58);
        doc.text(LEFT, 42.0, &title, Face::Bold, 7.5, MUTED);
        let origin = doc.fonts.fit(Face::Regular, 7.5, &r.origin, WIDTH * 0.38);
        doc.text_right(RIGHT, 42.0, &origin, Face::Regular, 7.5, MUTED);
        doc.line(LEFT, 49.0, RIGHT, 49.0, RULE, 0.5);

        let foot = PAGE_H - 40.0;
        doc.line(LEFT, foot - 12.0, RIGHT, foot - 12.0, RULE, 0.5);
        let left = doc.fonts.fit(Face::Regular, 7.5, &left, WIDTH * 0.7);
        doc.text(LEFT, foot, &left, Face::Regular, 7.5, MUTED);
        let page = format!("Page {} of {total}", i + 1);
        doc.text_right(RIGHT, foot, &page, Face::Regular, 7.5, MUTED);
    }
}

fn save(doc: Doc, r: &Report) -> Result<Vec<u8>, PdfError> {
    let mut pdf = PdfDocument::new(&r.title);
    let seconds = r.generated_at.0.div_euclid(1_000_000);
    let date = OffsetDateTime::from_unix_timestamp(seconds)
        .or_else(|_| OffsetDateTime::from_unix_timestamp(0))
        .map_err(|e| PdfError::Write(e.to_string()))?;
    let info = &mut pdf.metadata.info;
    info.creation_date = date;
    info.modification_date = date;
    info.metadata_date = date;
    info.subject = r.subtitle.clone();
    info.creator = format!("auditledger {}", env!("CARGO_PKG_VERSION"));
    info.producer = "auditledger (printpdf)".to_string();

    for face in Face::ALL {
        let glyphs = doc.fonts.glyph_ids(face, doc.used_chars(face));
        if glyphs.is_empty() {
            continue;
        }
        let font = font::embedded(face, &glyphs)?;
        pdf.resources
            .fonts
            .map
            .insert(FontId(face.name().to_string()), PdfFont::new(font));
    }
    let pages = doc
        .pages
        .into_iter()
        .map(|p| PdfPage::new(Mm(210.0), Mm(297.0), p.ops))
        .collect();
    pdf.with_pages(pages);

    let opts = PdfSaveOptions {
        optimize: true,
        subset_fonts: false,
        secure: true,
        image_optimization: None,
    };
    let mut warnings = Vec::new();
    let mut lo = pdf.to_lopdf_document(&opts, &mut warnings);
    lo.compress();
    // printpdf writes a random trailer /ID; make it a hash of the document instead.
    let mut write = |id: &[u8]| -> Result<Vec<u8>, PdfError> {
        if let Ok(ids) = lo.trailer.get_mut(b"ID").and_then(|o| o.as_array_mut()) {
            for s in ids.iter_mut() {
                if let Ok(bytes) = s.as_str_mut() {
                    *bytes = id.to_vec();
                }
            }
        }
        let mut out = Vec::new();
        lo.save_to(&mut out)
            .map_err(|e| PdfError::Write(e.to_string()))?;
        Ok(out)
    };
    let draft = write(&[b'0'; 32])?;
    // The first 32 of the 64 hex digits, as long as the draft's placeholder.
    let id: Vec<u8> = blake3::hash(&draft).to_hex().bytes().take(32).collect();
    write(&id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example(kind: ReportKind) -> Report {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(format!("reports/example/{}.json", kind.as_str()));
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
    }

    /// Every report has contents, on the cover or on the page after it, naming each part as
    /// its heading does (never a section's internal id), with the page the part starts on.
    #[test]
    fn every_report_has_contents_with_human_names_and_right_pages() {
        for kind in ReportKind::ALL {
            let report = example(kind);
            let bytes = render(&report).unwrap();
            let pages = pdf_extract::extract_text_from_mem_by_pages(&bytes).unwrap();
            let flat = |t: &str| t.split_whitespace().collect::<Vec<_>>().join(" ");
            let at = pages
                .iter()
                .take(2)
                .position(|p| p.contains("Contents"))
                .unwrap_or_else(|| panic!("{kind:?}: no contents on page 1 or 2"));
            let contents = flat(&pages[at]);
            let mut parts = vec!["Summary".to_string()];
            parts.extend(report.sections.iter().map(|s| s.title.clone()));
            parts.push("Evidence index".to_string());
            let mut from = contents.find("Contents").unwrap();
            for part in &parts {
                // "<title> <page>", in order.
                let rest = &contents[from..];
                let i = rest
                    .find(&format!("{part} "))
                    .unwrap_or_else(|| panic!("{kind:?}: {part:?} not in {contents:?}"));
                let after = &rest[i + part.len() + 1..];
                let number: usize = after
                    .split(' ')
                    .next()
                    .and_then(|n| n.parse().ok())
                    .unwrap_or_else(|| panic!("{kind:?}: no page for {part:?}"));
                from += i + part.len();
                let page = flat(&pages[number - 1]);
                assert!(
                    page.contains(&flat(part)),
                    "{kind:?}: {part:?} not on page {number}"
                );
            }
            for (i, s) in report.sections.iter().enumerate() {
                assert!(
                    !contents.contains(&format!("{} · ", s.id)),
                    "{kind:?}: {}",
                    s.id
                );
                let kicker = format!("SECTION {} OF {}", i + 1, report.sections.len());
                assert!(
                    pages.iter().any(|p| p.contains(&kicker)),
                    "{kind:?}: {kicker}"
                );
            }
        }
    }

    /// Renders the committed example reports (`reports/example/*.json`) into
    /// `$AUDITLEDGER_PDF_DUMP` (default `/tmp/auditledger-pdf`) for looking at them as
    /// pictures: `pdftoppm -r 70 -png /tmp/auditledger-pdf/hipaa.pdf /tmp/p/hipaa`.
    #[test]
    #[ignore = "writes files for a person to look at"]
    fn render_examples_for_review() {
        let dir = std::env::var_os("AUDITLEDGER_PDF_DUMP")
            .map_or_else(|| "/tmp/auditledger-pdf".into(), std::path::PathBuf::from);
        std::fs::create_dir_all(&dir).unwrap();
        let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("reports/example");
        for kind in ReportKind::ALL {
            let json = std::fs::read(examples.join(format!("{}.json", kind.as_str()))).unwrap();
            let report: Report = serde_json::from_slice(&json).unwrap();
            let bytes = render(&report).unwrap();
            std::fs::write(dir.join(format!("{}.pdf", kind.as_str())), bytes).unwrap();
        }
    }
}
