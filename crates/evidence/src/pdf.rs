//! The PDF report: the HTML report's content on A4 pages, laid out here (lines wrapped by
//! measured glyph advances, tables split between rows, the graph between rows) and written
//! with krilla, the font's used glyphs embedded.
//!
//! Layout first makes a display list per page; writing then draws it. The font is a subset of
//! Noto Sans CJK SC built into handprint (assets/README.md), or `HANDPRINT_PDF_FONT`.

use std::sync::Arc;

use ab_glyph::{Font as _, FontRef, PxScale, ScaleFont};
use krilla::Document;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Size, Transform};
use krilla::image::Image;
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::text::{Font, TextDirection};

use crate::{EvidenceError, Report, graph};

static BUILT_IN: &[u8] = include_bytes!("../assets/report-font.otf");

const W: f32 = 595.28;
const H: f32 = 841.89;
const MARGIN: f32 = 46.0;
const BODY: f32 = 9.0;
const SMALL: f32 = 7.5;
const LEAD: f32 = 1.35;

use graph::Rgb;
const BLACK: Rgb = (17, 17, 17);
const GREY: Rgb = (100, 100, 100);
const RED: Rgb = (198, 40, 40);
const GREEN: Rgb = (46, 125, 50);

enum Op {
    Text { x: f32, y: f32, size: f32, colour: Rgb, text: String },
    Rect { x: f32, y: f32, w: f32, h: f32, colour: Rgb },
    Line { x1: f32, y1: f32, x2: f32, y2: f32, width: f32, colour: Rgb },
    Curve { from: (f32, f32), c1: (f32, f32), c2: (f32, f32), to: (f32, f32), width: f32, colour: Rgb },
    Circle { x: f32, y: f32, r: f32, fill: Rgb, ring: Option<Rgb> },
    Image { x: f32, y: f32, w: f32, h: f32, png: Arc<Vec<u8>> },
}

/// A run of text in one style, for lines mixing styles (prompt diffs).
struct Run<'a> {
    text: &'a str,
    colour: Rgb,
    background: Option<Rgb>,
    strike: bool,
}

struct Layout<'f> {
    measure: FontRef<'f>,
    pages: Vec<Vec<Op>>,
    y: f32,
    missing: Vec<char>,
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x2E80..=0x9FFF | 0xF900..=0xFAFF | 0xFF00..=0xFFEF)
}

impl<'f> Layout<'f> {
    fn new(measure: FontRef<'f>) -> Self {
        Layout { measure, pages: vec![Vec::new()], y: MARGIN, missing: Vec::new() }
    }

    fn ops(&mut self) -> &mut Vec<Op> {
        self.pages.last_mut().expect("a page")
    }

    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = MARGIN;
    }

    /// Starts a new page unless `h` points still fit on this one.
    fn ensure(&mut self, h: f32) {
        if self.y + h > H - MARGIN {
            self.new_page();
        }
    }

    fn width(&mut self, text: &str, size: f32) -> f32 {
        // `size` is the em size in points; ab_glyph scales by the font's height instead.
        let em = self.measure.units_per_em().unwrap_or(1000.0);
        let scale = PxScale::from(size * self.measure.height_unscaled() / em);
        let f = self.measure.as_scaled(scale);
        let mut w = 0.0;
        for c in text.chars() {
            let id = f.glyph_id(c);
            if id.0 == 0 && !c.is_whitespace() && !self.missing.contains(&c) {
                self.missing.push(c);
            }
            w += f.h_advance(id);
        }
        w
    }

    /// Breaks `text` into lines of at most `max` points: at spaces, between CJK characters,
    /// and inside words too long for a line.
    fn wrap(&mut self, text: &str, size: f32, max: f32) -> Vec<String> {
        let mut lines = Vec::new();
        for paragraph in text.split('\n') {
            let mut line = String::new();
            // Units: words with their trailing space, or single CJK characters.
            let mut units: Vec<String> = Vec::new();
            let mut word = String::new();
            for c in paragraph.chars() {
                if is_cjk(c) {
                    if !word.is_empty() {
                        units.push(std::mem::take(&mut word));
                    }
                    units.push(c.to_string());
                } else {
                    word.push(c);
                    if c == ' ' {
                        units.push(std::mem::take(&mut word));
                    }
                }
            }
            if !word.is_empty() {
                units.push(word);
            }
            for unit in units {
                let candidate = format!("{line}{unit}");
                if self.width(candidate.trim_end(), size) <= max || line.is_empty() {
                    line = candidate;
                    // A single unit wider than the line: cut it by characters.
                    while self.width(line.trim_end(), size) > max && line.chars().count() > 1 {
                        let mut cut = String::new();
                        for c in line.chars() {
                            if self.width(&format!("{cut}{c}"), size) > max && !cut.is_empty() {
                                break;
                            }
                            cut.push(c);
                        }
                        line = line[cut.len()..].to_owned();
                        lines.push(cut);
                    }
                } else {
                    lines.push(line.trim_end().to_owned());
                    line = unit.trim_start().to_owned();
                }
            }
            lines.push(line.trim_end().to_owned());
        }
        lines
    }

    fn text(&mut self, x: f32, y: f32, size: f32, colour: Rgb, text: &str) {
        if !text.is_empty() {
            self.ops().push(Op::Text { x, y, size, colour, text: text.to_owned() });
        }
    }

    fn para(&mut self, text: &str, size: f32, colour: Rgb) {
        let lines = self.wrap(text, size, W - 2.0 * MARGIN);
        for l in lines {
            self.ensure(size * LEAD);
            self.y += size * LEAD;
            let y = self.y - size * 0.3;
            self.text(MARGIN, y, size, colour, &l);
        }
        self.y += size * 0.5;
    }

    fn heading(&mut self, text: &str, size: f32) {
        // Keep a heading with at least a few lines of what follows.
        self.ensure(size * 2.0 + BODY * 6.0);
        self.y += size * 1.2;
        let y = self.y;
        self.text(MARGIN, y, size, BLACK, text);
        self.y += size * 0.45;
        let y = self.y;
        self.ops().push(Op::Line { x1: MARGIN, y1: y, x2: W - MARGIN, y2: y, width: 1.2, colour: BLACK });
        self.y += size * 0.6;
    }

    /// A table: column widths as shares of the text width; the header repeats on new pages.
    fn table(&mut self, shares: &[f32], header: &[&str], rows: &[Vec<String>], size: f32) {
        let total = W - 2.0 * MARGIN;
        let widths: Vec<f32> = shares.iter().map(|s| s * total).collect();
        let pad = 3.0;
        let line_h = size * LEAD;
        let head: Vec<String> = header.iter().map(|s| (*s).to_owned()).collect();
        let draw_row = |me: &mut Self, cells: &[String], shade: Option<Rgb>| {
            let wrapped: Vec<Vec<String>> =
                cells.iter().zip(&widths).map(|(c, w)| me.wrap(c, size, w - 2.0 * pad)).collect();
            let lines = wrapped.iter().map(Vec::len).max().unwrap_or(1).max(1);
            let h = lines as f32 * line_h + 2.0 * pad;
            let top = me.y;
            if let Some(c) = shade {
                me.ops().push(Op::Rect { x: MARGIN, y: top, w: total, h, colour: c });
            }
            let mut x = MARGIN;
            for (cell, w) in wrapped.iter().zip(&widths) {
                for (i, l) in cell.iter().enumerate() {
                    me.text(x + pad, top + pad + (i as f32 + 1.0) * line_h - size * 0.3, size, BLACK, l);
                }
                x += w;
            }
            me.ops().push(Op::Line {
                x1: MARGIN,
                y1: top + h,
                x2: MARGIN + total,
                y2: top + h,
                width: 0.4,
                colour: (190, 190, 190),
            });
            me.y = top + h;
            h
        };
        let has_header = head.iter().any(|h| !h.is_empty());
        self.ensure(line_h * 3.0);
        if has_header {
            draw_row(self, &head, Some((238, 238, 238)));
        }
        for r in rows {
            let lines: usize = r
                .iter()
                .zip(&widths)
                .map(|(c, w)| self.wrap(c, size, w - 2.0 * pad).len())
                .max()
                .unwrap_or(1);
            let h = lines as f32 * line_h + 2.0 * pad;
            if self.y + h > H - MARGIN {
                self.new_page();
                if has_header {
                    draw_row(self, &head, Some((238, 238, 238)));
                }
            }
            draw_row(self, r, None);
        }
        self.y += size;
    }

    /// Styled runs wrapped as one paragraph (a prompt diff), starting at `x0`.
    fn runs(&mut self, runs: &[Run], size: f32, x0: f32, max: f32) {
        let line_h = size * LEAD * 1.1;
        self.ensure(line_h);
        self.y += line_h;
        let mut x = x0;
        for r in runs {
            let w = self.width(r.text, size);
            let space = self.width(" ", size);
            if x + w > x0 + max && x > x0 {
                self.ensure(line_h);
                self.y += line_h;
                x = x0;
            }
            let base = self.y - size * 0.3;
            if let Some(bg) = r.background {
                self.ops().push(Op::Rect {
                    x: x - 1.0,
                    y: base - size * 0.9,
                    w: w + 2.0,
                    h: size * 1.2,
                    colour: bg,
                });
            }
            self.text(x, base, size, r.colour, r.text);
            if r.strike {
                let y = base - size * 0.3;
                self.ops().push(Op::Line { x1: x, y1: y, x2: x + w, y2: y, width: 0.6, colour: r.colour });
            }
            x += w + space;
        }
        self.y += size * 0.4;
    }
}

fn font_data() -> (Arc<Vec<u8>>, u32) {
    if let Ok(spec) = std::env::var("HANDPRINT_PDF_FONT") {
        let (path, index) = match spec.rsplit_once('#') {
            Some((p, i)) => (p.to_owned(), i.parse().unwrap_or(0)),
            None => (spec, 0),
        };
        if let Ok(data) = std::fs::read(&path) {
            return (Arc::new(data), index);
        }
    }
    (Arc::new(BUILT_IN.to_vec()), 0)
}

fn colour(c: Rgb) -> krilla::paint::Paint {
    rgb::Color::new(c.0, c.1, c.2).into()
}

/// The report as PDF, and the characters its font lacks (drawn as boxes; the HTML has them).
pub fn render(report: &Report) -> Result<(Vec<u8>, Vec<char>), EvidenceError> {
    let (data, index) = font_data();
    let measure = FontRef::try_from_slice_and_index(&data, index)
        .map_err(|e| EvidenceError::Render(format!("the PDF font: {e}")))?;
    let mut l = Layout::new(measure);
    content(&mut l, report);
    let missing = std::mem::take(&mut l.missing);

    let font =
        Font::new(data.clone().into(), index).ok_or_else(|| EvidenceError::Render("the PDF font".into()))?;
    let mut doc = Document::new();
    let pages = l.pages.len();
    for (n, ops) in l.pages.into_iter().enumerate() {
        let mut page = doc.start_page_with(PageSettings::from_wh(W, H).expect("A4"));
        let mut s = page.surface();
        let footer = format!("{} — page {} of {pages}", report.generator, n + 1);
        let fill = |c: Rgb| Fill { paint: colour(c), opacity: NormalizedF32::ONE, rule: Default::default() };
        for op in ops.iter().chain(std::iter::once(&Op::Text {
            x: MARGIN,
            y: H - MARGIN / 2.0,
            size: SMALL,
            colour: GREY,
            text: footer,
        })) {
            match op {
                Op::Text { x, y, size, colour: c, text } => {
                    s.set_stroke(None);
                    s.set_fill(Some(fill(*c)));
                    s.draw_text(
                        Point::from_xy(*x, *y),
                        font.clone(),
                        *size,
                        text,
                        false,
                        TextDirection::Auto,
                    );
                }
                Op::Rect { x, y, w, h, colour: c } => {
                    let mut p = PathBuilder::new();
                    if let Some(r) = krilla::geom::Rect::from_xywh(*x, *y, *w, *h) {
                        p.push_rect(r);
                    }
                    if let Some(path) = p.finish() {
                        s.set_stroke(None);
                        s.set_fill(Some(fill(*c)));
                        s.draw_path(&path);
                    }
                }
                Op::Line { x1, y1, x2, y2, width, colour: c } => {
                    let mut p = PathBuilder::new();
                    p.move_to(*x1, *y1);
                    p.line_to(*x2, *y2);
                    if let Some(path) = p.finish() {
                        s.set_fill(None);
                        s.set_stroke(Some(Stroke { paint: colour(*c), width: *width, ..Default::default() }));
                        s.draw_path(&path);
                    }
                }
                Op::Curve { from, c1, c2, to, width, colour: c } => {
                    let mut p = PathBuilder::new();
                    p.move_to(from.0, from.1);
                    p.cubic_to(c1.0, c1.1, c2.0, c2.1, to.0, to.1);
                    if let Some(path) = p.finish() {
                        s.set_fill(None);
                        s.set_stroke(Some(Stroke { paint: colour(*c), width: *width, ..Default::default() }));
                        s.draw_path(&path);
                    }
                }
                Op::Circle { x, y, r, fill: f, ring } => {
                    // Four Bézier quarters.
                    let k = 0.552_284_8 * r;
                    let mut p = PathBuilder::new();
                    p.move_to(x + r, *y);
                    p.cubic_to(x + r, y + k, x + k, y + r, *x, y + r);
                    p.cubic_to(x - k, y + r, x - r, y + k, x - r, *y);
                    p.cubic_to(x - r, y - k, x - k, y - r, *x, y - r);
                    p.cubic_to(x + k, y - r, x + r, y - k, x + r, *y);
                    p.close();
                    if let Some(path) = p.finish() {
                        s.set_fill(Some(fill(*f)));
                        s.set_stroke(ring.map(|c| Stroke {
                            paint: colour(c),
                            width: 1.0,
                            ..Default::default()
                        }));
                        s.draw_path(&path);
                    }
                }
                Op::Image { x, y, w, h, png } => {
                    if let (Ok(image), Some(size)) =
                        (Image::from_png(png.clone().into(), true), Size::from_wh(*w, *h))
                    {
                        s.push_transform(&Transform::from_translate(*x, *y));
                        s.draw_image(image, size);
                        s.pop();
                    }
                }
            }
        }
        s.finish();
        page.finish();
    }
    let bytes = doc.finish().map_err(|e| EvidenceError::Render(format!("writing the PDF: {e:?}")))?;
    Ok((bytes, missing))
}

fn short(hash: &str) -> String {
    hash.chars().take(16).collect::<String>() + "…"
}

/// The report's sections, in the HTML's order and words.
fn content(l: &mut Layout, r: &Report) {
    let f = &r.facts;
    let title = match &f.sealed {
        Some(s) => format!("Evidence of the creative process: \"{}\"", s.title),
        None => "Evidence of the creative process".to_owned(),
    };
    l.y += 8.0;
    l.para(&title, 16.0, BLACK);
    l.para(
        &format!(
            "Project {} · report made {} by {} · every statement below is derived from the signed journal; \
             nothing is the claimant's word alone.",
            f.project, r.generated_at, r.generator
        ),
        SMALL,
        GREY,
    );
    if !r.integrity.journal_verified {
        l.para("THE JOURNAL DID NOT VERIFY. Nothing in this report can be called proven until these findings are explained:", BODY, RED);
        for finding in &r.integrity.findings {
            l.para(&format!("• {finding}"), BODY, RED);
        }
    }
    // When the journal does not verify, the first limit says so: the banner above said it.
    let skip = usize::from(!r.integrity.journal_verified);
    for limit in r.limits.iter().skip(skip) {
        l.para(limit, BODY, (239, 108, 0));
    }

    l.heading("1. The work", 13.0);
    if let Some(png) = r.work.as_ref().and_then(|w| w.thumbnail.as_ref()).and_then(|t| {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.decode(t.strip_prefix("data:image/png;base64,")?).ok()
    }) {
        let (iw, ih) = r.work.as_ref().map(|w| (w.width as f32, w.height as f32)).unwrap_or((1.0, 1.0));
        // 180 points on the longer side.
        let scale = 180.0 / iw.max(ih);
        let (w, h) = (iw * scale, ih * scale);
        l.ensure(h + 8.0);
        let y = l.y;
        l.ops().push(Op::Image { x: MARGIN, y, w, h, png: Arc::new(png) });
        l.y += h + 8.0;
    }
    let mut rows: Vec<Vec<String>> = Vec::new();
    if let Some(w) = &r.work {
        let licence = w.license.as_ref().map(|x| format!(" ({x})")).unwrap_or_default();
        rows.push(vec![
            "Work".into(),
            format!("{} — {}{licence}, registered by {}", w.id, w.title, w.registrant),
        ]);
        rows.push(vec!["Sealed file SHA-256".into(), w.sha256.clone()]);
        rows.push(vec!["Size".into(), format!("{} × {}", w.width, w.height)]);
        if let Some(c) = &w.c2pa {
            rows.push(vec!["Content Credentials".into(), c.clone()]);
        }
        if let Some(m) = &w.watermark {
            rows.push(vec!["Watermark".into(), m.clone()]);
        }
    }
    if let Some(s) = &f.sealed {
        rows.push(vec!["Sealed".into(), format!("{}, journal event {} ({})", s.time, s.log_index, s.hash)]);
        rows.push(vec![
            "Sealed from".into(),
            format!("{} {}", s.file, s.file_sha256.clone().unwrap_or_default()),
        ]);
        rows.push(vec!["Digital source type".into(), s.source_type.clone().unwrap_or_default()]);
    }
    if let Some((size, root, time)) = &r.integrity.checkpoint {
        rows.push(vec!["Checkpoint".into(), format!("log of {size} events, root {root}, signed {time}")]);
    }
    rows.push(vec![
        "Trusted time".into(),
        match &r.integrity.timestamp {
            Some((n, t, tsa)) => format!("RFC 3161: the log of {n} events existed at {t} ({tsa})"),
            None => "no RFC 3161 timestamp".into(),
        },
    ]);
    l.table(&[0.24, 0.76], &["", ""], &rows, BODY);
    let c = &f.counts;
    l.para(
        &format!(
            "The journal holds {} events from {} to {}: {} generations, {} prompt revisions, {} selections, {} \
             rejections, {} manual edits, {} imports, {} notes.{}",
            c.events,
            f.first_event,
            f.last_event,
            c.generations,
            c.prompt_revisions,
            c.selected,
            c.rejected,
            c.edits,
            c.imports,
            c.notes,
            if f.sealed.is_some() {
                format!(" The sealed image derives from {} of them.", f.lineage_counts.events.saturating_sub(1))
            } else {
                String::new()
            }
        ),
        BODY,
        BLACK,
    );

    l.heading("2. From first idea to final image", 13.0);
    l.para(
        "Blue: generation · orange: prompt revision · green: selected · grey: rejected · red: manual edit · \
         purple: import · gold: sealed. Bold, with a gold line: the path to the sealed image; the rest are \
         branches explored and abandoned.",
        SMALL,
        GREY,
    );
    graph_rows(l, f, &r.thumbnails);

    l.heading("3. The prompt's evolution", 13.0);
    if f.revisions.is_empty() {
        l.para("No prompt is recorded.", BODY, RED);
    }
    for (i, v) in f.revisions.iter().enumerate() {
        l.ensure(BODY * 5.0);
        l.para(&format!("Revision {} — event {}, {}", i + 1, v.log_index, v.time), SMALL, GREY);
        let runs: Vec<Run> = v
            .diff
            .iter()
            .map(|t| Run {
                text: &t.text,
                colour: if t.op == "removed" { RED } else { BLACK },
                background: match t.op {
                    "added" => Some((200, 230, 201)),
                    "removed" => Some((255, 205, 210)),
                    _ => None,
                },
                strike: t.op == "removed",
            })
            .collect();
        l.runs(&runs, BODY, MARGIN + 8.0, W - 2.0 * MARGIN - 8.0);
        if !v.negative.is_empty() {
            l.para(&format!("negative: {}", v.negative), SMALL, GREY);
        }
    }
    if !f.final_words.is_empty() {
        let words: Vec<String> = f.final_words.iter().map(|(w, n)| format!("{w}[{}]", n + 1)).collect();
        l.para(
            &format!(
                "Words of the final prompt, with the revision that brought each in: {}",
                words.join(" ")
            ),
            BODY,
            BLACK,
        );
    }

    l.heading("4. Parameter exploration", 13.0);
    let rows: Vec<Vec<String>> = f
        .parameters
        .iter()
        .map(|p| {
            let mut values: Vec<String> =
                p.values.iter().take(12).map(|(v, n)| format!("{v} ({n})")).collect();
            if p.values.len() > 12 {
                values.push(format!("… and {} more", p.values.len() - 12));
            }
            vec![
                p.name.to_owned(),
                format!("{}: {}", p.values.len(), values.join(", ")),
                p.kept.clone().unwrap_or("—".into()),
            ]
        })
        .collect();
    if rows.is_empty() {
        l.para("No generation settings are recorded.", BODY, RED);
    } else {
        l.table(
            &[0.18, 0.6, 0.22],
            &["setting", "values tried (generations)", "kept in the final generation"],
            &rows,
            BODY,
        );
    }

    l.heading("5. Selection", 13.0);
    let s = &f.selection;
    l.para(
        &format!(
            "{} candidates were produced; {} were selected and {} set aside.",
            s.candidates, s.selected, s.rejected
        ),
        BODY,
        BLACK,
    );
    let rows: Vec<Vec<String>> = s
        .choices
        .iter()
        .map(|c| {
            vec![
                c.log_index.to_string(),
                c.time.clone(),
                c.verdict.to_owned(),
                c.file.clone(),
                c.reason.clone().unwrap_or_default(),
            ]
        })
        .collect();
    if !rows.is_empty() {
        l.table(
            &[0.08, 0.27, 0.12, 0.23, 0.3],
            &["event", "time", "choice", "file", "reason"],
            &rows,
            SMALL + 0.5,
        );
    }

    l.heading("6. Human edits after generation", 13.0);
    let rows: Vec<Vec<String>> = f
        .edits
        .iter()
        .map(|e| {
            vec![
                format!("{}{}", e.log_index, if e.in_lineage { " ★" } else { "" }),
                e.time.clone(),
                e.tool.clone(),
                format!(
                    "{} {} → {} {}",
                    e.input,
                    e.input_sha256.as_deref().map(short).unwrap_or_default(),
                    e.output,
                    e.output_sha256.as_deref().map(short).unwrap_or_default()
                ),
                e.description.clone().unwrap_or_default(),
            ]
        })
        .collect();
    if rows.is_empty() {
        l.para("No manual edit is recorded.", BODY, BLACK);
    } else {
        l.table(
            &[0.08, 0.2, 0.12, 0.35, 0.25],
            &["event", "time", "tool", "before → after", "what was done"],
            &rows,
            SMALL + 0.5,
        );
        l.para("★ on the path to the sealed image.", SMALL, GREY);
    }
    for (i, time, text) in &f.notes {
        l.para(&format!("Note, event {i}, {time}: {text}"), BODY, BLACK);
    }

    l.heading("7. Reproduction", 13.0);
    let rp = &f.reproduction;
    match rp.log_index {
        Some(i) => {
            let verdict = if rp.complete {
                "The journal holds every setting needed to generate it again.".to_owned()
            } else {
                format!("The journal lacks: {}.", rp.missing.join(", "))
            };
            l.para(
                &format!(
                    "The final generation is event {i} ({}). {verdict}",
                    rp.generator.as_deref().unwrap_or("unknown generator")
                ),
                BODY,
                if rp.complete { GREEN } else { RED },
            );
            let rows: Vec<Vec<String>> =
                rp.settings.iter().map(|(k, v)| vec![k.clone(), v.clone()]).collect();
            l.table(&[0.25, 0.75], &["setting", "recorded value"], &rows, BODY);
        }
        None => l.para("No generation is recorded: reproduction cannot be shown.", BODY, RED),
    }

    l.heading("8. The facts against each standard", 13.0);
    l.para(
        "For each standard a court or office has applied to AI-assisted images, the facts from the journal that \
         bear on it, and what such a decision asked for that the journal does not show. This is not legal advice \
         and passes no verdict.",
        SMALL,
        GREY,
    );
    for a in &r.assessment {
        l.ensure(BODY * 8.0);
        l.para(a.name, 11.0, BLACK);
        let rows: Vec<Vec<String>> = a
            .criteria
            .iter()
            .map(|c| {
                vec![
                    format!("{}\n({})", c.standard, c.sources),
                    c.facts.iter().map(|x| format!("• {x}")).collect::<Vec<_>>().join("\n"),
                    c.missing.join("\n"),
                ]
            })
            .collect();
        l.table(
            &[0.34, 0.42, 0.24],
            &["standard", "facts from the journal", "not shown"],
            &rows,
            SMALL + 0.5,
        );
    }

    l.heading("9. Integrity: how to check every claim", 13.0);
    if r.integrity.journal_verified {
        l.para(
            "Result when this report was made: the journal verifies — every event's Ed25519 signature, every \
             hash-chain link, the Merkle log's roots and every signed checkpoint.",
            BODY,
            GREEN,
        );
    } else {
        l.para("Result when this report was made: the journal does NOT verify:", BODY, RED);
        for finding in &r.integrity.findings {
            l.para(&format!("• {finding}"), BODY, RED);
        }
    }
    for step in [
        "1. The bundle beside this report (bundle/) holds the project's signed events, an RFC 9162 inclusion proof \
         for each against the latest checkpoint, every checkpoint with consistency proofs, the RFC 3161 tokens and \
         the public identity. Check it with nothing but the folder: handprint verify --export bundle",
        "2. Each event is RFC 8785 canonical JSON signed with Ed25519 by the author's key; each names the hash \
         (SHA-256) of the project's previous event, so no event can be removed, reordered or changed without it showing.",
        "3. The checkpoint is a signed note over the Merkle root of all events; an RFC 3161 timestamp over it \
         (openssl ts -verify) fixes when the log existed.",
        "4. The sealed image carries its proof: a C2PA manifest (validate with c2patool or handprint verify IMAGE) \
         holding the sealed event, the checkpoint and the inclusion proof; its watermark and fingerprint name the \
         work after metadata is stripped.",
    ] {
        l.para(step, BODY, BLACK);
    }
}

/// The derivation graph, one row per event, split between pages by rows.
fn graph_rows(
    l: &mut Layout,
    f: &crate::facts::Facts,
    thumbnails: &std::collections::HashMap<String, String>,
) {
    const LANE: f32 = 9.0;
    let png_of = |n: &crate::facts::Node| -> Option<Vec<u8>> {
        use base64::Engine;
        let uri = thumbnails.get(n.sha256.as_ref()?)?;
        base64::engine::general_purpose::STANDARD.decode(uri.strip_prefix("data:image/png;base64,")?).ok()
    };
    let with_thumbs = f.nodes.iter().any(|n| png_of(n).is_some());
    let row: f32 = if with_thumbs { 24.0 } else { 12.0 };
    let (lane, lanes) = graph::lanes(f);
    let thumb_x = MARGIN + 8.0 + lanes.min(24) as f32 * LANE;
    let text_x = thumb_x + if with_thumbs { row } else { 0.0 };
    // Rows on the page they fall on; an edge is drawn on its child's page, from the page top
    // when its parent is on an earlier page.
    let mut at: Vec<(usize, f32)> = Vec::with_capacity(f.nodes.len());
    let parents = graph::parents(f);
    let x = |i: usize| MARGIN + 4.0 + lane[i].min(23) as f32 * LANE;
    for (i, n) in f.nodes.iter().enumerate() {
        l.ensure(row);
        l.y += row;
        let y = l.y - row / 2.0;
        at.push((l.pages.len() - 1, y));
        let page = l.pages.len() - 1;
        for &p in &parents[i] {
            let (pp, py) = at[p];
            let from_y = if pp == page { py } else { MARGIN };
            let strong = f.nodes[p].in_lineage && n.in_lineage;
            l.ops().push(Op::Curve {
                from: (x(p), from_y),
                c1: (x(p), y - row / 2.0),
                c2: (x(i), from_y + row / 2.0),
                to: (x(i), y),
                width: if strong { 1.8 } else { 0.7 },
                colour: if strong { graph::LINEAGE_EDGE } else { graph::OTHER_EDGE },
            });
        }
        let fill = graph::colour(n.kind, n.verdict);
        l.ops().push(Op::Circle { x: x(i), y, r: 3.0, fill, ring: n.in_lineage.then_some(BLACK) });
        if let Some(png) = png_of(n) {
            l.ops().push(Op::Image {
                x: thumb_x,
                y: y - row / 2.0 + 1.0,
                w: row - 2.0,
                h: row - 2.0,
                png: Arc::new(png),
            });
        }
        let verdict = match n.verdict {
            Some("selected") => " ✓ selected",
            Some("rejected") => " × rejected",
            _ => "",
        };
        let label: String = n.label.chars().take(70).collect();
        let text = format!(
            "#{} {} {}{}{}",
            n.log_index,
            n.kind,
            label,
            verdict,
            if n.in_lineage { "  ◆" } else { "" }
        );
        l.text(text_x, y + 2.5, SMALL, if n.in_lineage { BLACK } else { GREY }, &text);
    }
    l.y += BODY;
    if lanes > 24 {
        l.para(&format!("({lanes} branches; lanes beyond 24 are drawn in the last one)"), SMALL, GREY);
    }
}
