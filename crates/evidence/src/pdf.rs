//! The PDF report: the document (document.rs) laid out on A4 pages here (styled runs wrapped
//! by measured glyph advances, tables split between rows, the graph between rows) and written
//! with krilla, the font's used glyphs embedded. No wording of its own: every text comes from
//! the document.
//!
//! Layout first makes a display list per page; writing then draws it. The font is a subset of
//! Noto Sans CJK SC built into handprint (assets/README.md), or `HANDPRINT_PDF_FONT`; it has
//! one weight, so emphasis is drawn filled and stroked.

use std::sync::Arc;

use ab_glyph::{Font as _, FontRef, PxScale, ScaleFont};
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Size, Transform};
use krilla::image::Image;
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::text::{Font, TextDirection};

use crate::document::{
    Block, Cell, Diff, DiffOp, Document, Graph, Level, List, Notice, Style, Table, Text, Tone,
};
use crate::{EvidenceError, graph};

static BUILT_IN: &[u8] = include_bytes!("../assets/report-font.otf");

const W: f32 = 595.28;
const H: f32 = 841.89;
const MARGIN: f32 = 46.0;
const TEXT_W: f32 = W - 2.0 * MARGIN;
const BODY: f32 = 9.0;
const SMALL: f32 = 7.5;
const LEAD: f32 = 1.35;
/// Cell padding.
const PAD: f32 = 3.0;

use graph::Rgb;
const BLACK: Rgb = (17, 17, 17);
const GREY: Rgb = (100, 100, 100);
const RED: Rgb = (198, 40, 40);
const GREEN: Rgb = (46, 125, 50);
const RULE: Rgb = (190, 190, 190);
const SHADE: Rgb = (238, 238, 238);

enum Op {
    Text { x: f32, y: f32, size: f32, colour: Rgb, bold: bool, text: String },
    Rect { x: f32, y: f32, w: f32, h: f32, colour: Rgb },
    Line { x1: f32, y1: f32, x2: f32, y2: f32, width: f32, colour: Rgb },
    Curve { from: (f32, f32), c1: (f32, f32), c2: (f32, f32), to: (f32, f32), width: f32, colour: Rgb },
    Circle { x: f32, y: f32, r: f32, fill: Rgb, ring: Option<Rgb> },
    Image { x: f32, y: f32, w: f32, h: f32, png: Arc<Vec<u8>> },
}

/// Text in one style, as it is laid out.
#[derive(Clone)]
struct Span {
    text: String,
    size: f32,
    colour: Rgb,
    bold: bool,
    background: Option<Rgb>,
    strike: bool,
    /// Drawn this far below the baseline (subscripts).
    drop: f32,
}

impl Span {
    fn new(text: &str, size: f32, colour: Rgb) -> Span {
        Span { text: text.to_owned(), size, colour, bold: false, background: None, strike: false, drop: 0.0 }
    }
}

/// One laid-out line: spans at offsets from the line's start.
#[derive(Default)]
struct Line {
    /// Offset, index of the span it came from, and the part of it on this line.
    spans: Vec<(f32, usize, Span)>,
    /// The largest text size on the line.
    size: f32,
}

impl Line {
    fn height(&self) -> f32 {
        self.size * LEAD
    }
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

/// Where a line may break: words with their trailing space, and single CJK characters.
fn units(text: &str) -> Vec<&str> {
    let mut units = Vec::new();
    let mut start = 0;
    for (i, c) in text.char_indices() {
        let end = i + c.len_utf8();
        if is_cjk(c) {
            if start < i {
                units.push(&text[start..i]);
            }
            units.push(&text[i..end]);
            start = end;
        } else if c == ' ' {
            units.push(&text[start..end]);
            start = end;
        }
    }
    if start < text.len() {
        units.push(&text[start..]);
    }
    units
}

fn tone_colour(tone: Tone) -> Rgb {
    match tone {
        Tone::Normal => BLACK,
        Tone::Muted => GREY,
        Tone::Good => GREEN,
        Tone::Bad => RED,
    }
}

/// The size of a text in `tone` where body text is `size`: asides are smaller.
fn tone_size(tone: Tone, size: f32) -> f32 {
    if tone == Tone::Muted { size * 0.85 } else { size }
}

/// A document text as spans of `size` (before its tone).
fn spans(t: &Text, size: f32) -> Vec<Span> {
    let size = tone_size(t.tone, size);
    let colour = tone_colour(t.tone);
    t.runs
        .iter()
        .map(|r| match r.style {
            Style::Plain => Span::new(&r.text, size, colour),
            Style::Emphasis => Span { bold: true, ..Span::new(&r.text, size, colour) },
            Style::Code => {
                Span::new(&r.text, size * 0.95, if t.tone == Tone::Normal { (55, 71, 79) } else { colour })
            }
            Style::Subscript => Span { drop: size * 0.25, ..Span::new(&r.text, size * 0.7, colour) },
        })
        .collect()
}

fn png_bytes(uri: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(uri.strip_prefix("data:image/png;base64,")?).ok()
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

    /// Lays `spans` out in lines of at most `max` points: breaking after spaces and around CJK
    /// characters (also where one span meets the next), and inside words too long for a line.
    fn flow(&mut self, spans: &[Span], max: f32) -> Vec<Line> {
        // Atoms: what cannot be broken, as parts of spans.
        let mut atoms: Vec<Vec<(usize, &str)>> = Vec::new();
        let mut open = false;
        for (k, span) in spans.iter().enumerate() {
            for unit in units(&span.text) {
                let cjk = unit.chars().next().is_some_and(is_cjk);
                match atoms.last_mut() {
                    Some(atom) if open && !cjk => atom.push((k, unit)),
                    _ => atoms.push(vec![(k, unit)]),
                }
                open = !cjk && !unit.ends_with(' ');
            }
        }
        let mut lines = vec![Line::default()];
        let mut x = 0.0;
        for atom in atoms {
            let widths: Vec<f32> = atom.iter().map(|(k, t)| self.width(t, spans[*k].size)).collect();
            let (k, last) = atom[atom.len() - 1];
            let trailing = widths[widths.len() - 1] - self.width(last.trim_end(), spans[k].size);
            if x > 0.0 && x + widths.iter().sum::<f32>() - trailing > max {
                lines.push(Line::default());
                x = 0.0;
            }
            for (k, part) in atom {
                let span = &spans[k];
                let mut part = if x == 0.0 { part.trim_start() } else { part };
                // Wider than what is left of the line: cut it by characters.
                while self.width(part.trim_end(), span.size) > max - x && part.chars().count() > 1 {
                    let mut cut = 0;
                    for (i, c) in part.char_indices() {
                        let end = i + c.len_utf8();
                        if self.width(&part[..end], span.size) > max - x && (cut > 0 || x > 0.0) {
                            break;
                        }
                        cut = end;
                    }
                    if cut == part.len() {
                        break;
                    }
                    place(lines.last_mut().expect("a line"), x, k, span, &part[..cut]);
                    lines.push(Line::default());
                    x = 0.0;
                    part = &part[cut..];
                }
                if !part.is_empty() {
                    place(lines.last_mut().expect("a line"), x, k, span, part);
                    x += self.width(part, span.size);
                }
            }
        }
        lines.retain(|l| !l.spans.is_empty());
        lines
    }

    fn text(&mut self, x: f32, y: f32, s: &Span) {
        let text = s.text.trim_end();
        if !text.is_empty() {
            self.width(text, s.size);
            self.ops().push(Op::Text {
                x,
                y,
                size: s.size,
                colour: s.colour,
                bold: s.bold,
                text: text.to_owned(),
            });
        }
    }

    /// Draws `line` from `x0` on the baseline `base`.
    fn draw_line(&mut self, line: &Line, x0: f32, base: f32) {
        for (x, _, s) in &line.spans {
            let w = self.width(s.text.trim_end(), s.size);
            if let Some(bg) = s.background {
                self.ops().push(Op::Rect {
                    x: x0 + x - 1.0,
                    y: base - s.size * 0.9,
                    w: w + 2.0,
                    h: s.size * 1.2,
                    colour: bg,
                });
            }
            self.text(x0 + x, base + s.drop, s);
            if s.strike {
                let y = base - s.size * 0.3;
                self.ops().push(Op::Line {
                    x1: x0 + x,
                    y1: y,
                    x2: x0 + x + w,
                    y2: y,
                    width: 0.6,
                    colour: s.colour,
                });
            }
        }
    }

    /// Draws lines from `x0` down the page, starting new pages as needed.
    fn draw_lines(&mut self, lines: &[Line], x0: f32) {
        for line in lines {
            self.ensure(line.height());
            self.y += line.height();
            let base = self.y - line.size * 0.3;
            self.draw_line(line, x0, base);
        }
    }

    fn para(&mut self, t: &Text, size: f32) {
        let lines = self.flow(&spans(t, size), TEXT_W);
        self.draw_lines(&lines, MARGIN);
        self.y += size * 0.5;
    }

    fn heading(&mut self, text: &str, size: f32) {
        // Keep a heading with at least a few lines of what follows.
        self.ensure(size * 2.0 + BODY * 6.0);
        self.y += size * 1.2;
        let y = self.y;
        self.text(MARGIN, y, &Span::new(text, size, BLACK));
        self.y += size * 0.45;
        let y = self.y;
        self.ops().push(Op::Line { x1: MARGIN, y1: y, x2: W - MARGIN, y2: y, width: 1.2, colour: BLACK });
        self.y += size * 0.6;
    }

    fn subheading(&mut self, text: &str) {
        let size = 11.0;
        self.ensure(size * 2.0 + BODY * 5.0);
        self.y += size * 0.4;
        let lines = self.flow(&[Span { bold: true, ..Span::new(text, size, BLACK) }], TEXT_W);
        self.draw_lines(&lines, MARGIN);
        self.y += size * 0.3;
    }

    /// A list item: `prefix` (a bullet or number) in the margin of the item's lines.
    fn item(&mut self, prefix: &str, t: &Text, size: f32, x0: f32) {
        let indent = 12.0;
        let lines = self.flow(&spans(t, size), W - MARGIN - x0 - indent);
        for (i, line) in lines.iter().enumerate() {
            self.ensure(line.height());
            self.y += line.height();
            let base = self.y - line.size * 0.3;
            if i == 0 {
                self.text(x0, base, &Span::new(prefix, tone_size(t.tone, size), tone_colour(t.tone)));
            }
            self.draw_line(line, x0 + indent, base);
        }
        self.y += size * 0.25;
    }

    fn list(&mut self, l: &List, size: f32) {
        for (i, t) in l.items.iter().enumerate() {
            let prefix = if l.ordered { format!("{}.", i + 1) } else { "•".to_owned() };
            self.item(&prefix, t, size, MARGIN + 4.0);
        }
        self.y += size * 0.3;
    }

    /// A cell's lines within `width` points.
    fn cell(&mut self, c: &Cell, size: f32, width: f32) -> Vec<Line> {
        let mut out = Vec::new();
        for t in &c.lines {
            let mut s = spans(t, size);
            if c.bullets {
                s.insert(0, Span::new("• ", tone_size(t.tone, size), tone_colour(t.tone)));
            }
            out.extend(self.flow(&s, width - 2.0 * PAD));
        }
        out
    }

    /// A table: column widths as shares of the text width; the header, when there is one,
    /// repeats on new pages. Rows are not split.
    fn table(&mut self, header: &[Cell], shares: &[f32], rows: &[Vec<Cell>], size: f32) {
        let widths: Vec<f32> = shares.iter().map(|s| s * TEXT_W).collect();
        let lay = |me: &mut Self, cells: &[Cell]| -> (Vec<Vec<Line>>, f32) {
            let laid: Vec<Vec<Line>> = cells.iter().zip(&widths).map(|(c, w)| me.cell(c, size, *w)).collect();
            let h =
                laid.iter().map(|ls| ls.iter().map(Line::height).sum::<f32>()).fold(size * LEAD, f32::max);
            (laid, h + 2.0 * PAD)
        };
        let draw = |me: &mut Self, laid: &[Vec<Line>], h: f32, shade: Option<Rgb>| {
            let top = me.y;
            if let Some(c) = shade {
                me.ops().push(Op::Rect { x: MARGIN, y: top, w: TEXT_W, h, colour: c });
            }
            let mut x = MARGIN;
            for (lines, w) in laid.iter().zip(&widths) {
                let mut y = top + PAD;
                for line in lines {
                    y += line.height();
                    me.draw_line(line, x + PAD, y - line.size * 0.3);
                }
                x += w;
            }
            me.ops().push(Op::Line {
                x1: MARGIN,
                y1: top + h,
                x2: MARGIN + TEXT_W,
                y2: top + h,
                width: 0.4,
                colour: RULE,
            });
            me.y = top + h;
        };
        let head = (!header.is_empty()).then(|| lay(self, header));
        self.ensure(size * LEAD * 3.0 + head.as_ref().map_or(0.0, |h| h.1));
        if let Some((laid, h)) = &head {
            draw(self, laid, *h, Some(SHADE));
        }
        for r in rows {
            let (laid, h) = lay(self, r);
            if self.y + h > H - MARGIN {
                self.new_page();
                if let Some((laid, h)) = &head {
                    draw(self, laid, *h, Some(SHADE));
                }
            }
            draw(self, &laid, h, None);
        }
        self.y += size;
    }

    fn diff(&mut self, d: &Diff) {
        let mut s = Vec::new();
        if let Some(label) = &d.label {
            s.push(Span::new(&format!("{label}: "), SMALL, GREY));
        }
        for (i, w) in d.words.iter().enumerate() {
            if i > 0 {
                s.push(Span::new(" ", BODY, BLACK));
            }
            s.push(match w.op {
                DiffOp::Same => Span::new(&w.text, BODY, BLACK),
                DiffOp::Added => {
                    Span { background: Some((200, 230, 201)), ..Span::new(&w.text, BODY, BLACK) }
                }
                DiffOp::Removed => {
                    Span { background: Some((255, 205, 210)), strike: true, ..Span::new(&w.text, BODY, RED) }
                }
            });
        }
        let lines = self.flow(&s, TEXT_W - 8.0);
        for line in &lines {
            // Room for the words' backgrounds.
            let h = line.height() * 1.1;
            self.ensure(h);
            self.y += h;
            let base = self.y - line.size * 0.3;
            self.draw_line(line, MARGIN + 8.0, base);
        }
        self.y += BODY * 0.5;
    }

    fn notice(&mut self, n: &Notice) {
        let (border, background) = match n.level {
            Level::Warning => (RED, (255, 235, 238)),
            Level::Limit => ((239, 108, 0), (255, 243, 224)),
            Level::Note => ((158, 158, 158), (245, 245, 245)),
        };
        let inner = TEXT_W - 14.0;
        let mut s = Vec::new();
        if let Some(title) = &n.title {
            s.push(Span { bold: true, ..Span::new(&format!("{title} "), BODY, tone_colour(n.text.tone)) });
        }
        s.extend(spans(&n.text, BODY));
        let mut lines = self.flow(&s, inner);
        for item in &n.items {
            let mut s = spans(item, BODY);
            s.insert(0, Span::new("• ", BODY, tone_colour(item.tone)));
            lines.extend(self.flow(&s, inner));
        }
        let h = lines.iter().map(Line::height).sum::<f32>() + 2.0 * 5.0;
        self.y += 3.0;
        if h > H - 2.0 * MARGIN {
            // Longer than a page: the text alone.
            self.draw_lines(&lines, MARGIN + 8.0);
        } else {
            self.ensure(h);
            let top = self.y;
            self.ops().push(Op::Rect { x: MARGIN, y: top, w: TEXT_W, h, colour: background });
            self.ops().push(Op::Rect { x: MARGIN, y: top, w: 3.0, h, colour: border });
            if n.level == Level::Warning {
                for (x1, y1, x2, y2) in [
                    (MARGIN, top, MARGIN + TEXT_W, top),
                    (MARGIN + TEXT_W, top, MARGIN + TEXT_W, top + h),
                    (MARGIN, top + h, MARGIN + TEXT_W, top + h),
                ] {
                    self.ops().push(Op::Line { x1, y1, x2, y2, width: 1.5, colour: border });
                }
            }
            self.y += 5.0;
            self.draw_lines(&lines, MARGIN + 8.0);
            self.y = top + h;
        }
        self.y += 6.0;
    }

    fn image(&mut self, uri: &str, width: u32, height: u32) {
        let Some(png) = png_bytes(uri) else { return };
        let (iw, ih) = (width.max(1) as f32, height.max(1) as f32);
        // 180 points on the longer side.
        let scale = 180.0 / iw.max(ih);
        let (w, h) = (iw * scale, ih * scale);
        self.ensure(h + 8.0);
        let y = self.y;
        self.ops().push(Op::Image { x: MARGIN, y, w, h, png: Arc::new(png) });
        self.y += h + 8.0;
    }

    fn block(&mut self, b: &Block) {
        match b {
            Block::Paragraph(t) => self.para(t, BODY),
            Block::Subheading { text } => self.subheading(text),
            Block::Fields { rows } => {
                let rows: Vec<Vec<Cell>> = rows
                    .iter()
                    .map(|f| {
                        vec![
                            Cell { lines: vec![Text::plain(&f.key)], bullets: false },
                            Cell { lines: vec![f.value.clone()], bullets: false },
                        ]
                    })
                    .collect();
                self.table(&[], &[0.24, 0.76], &rows, BODY);
            }
            Block::Table(t) => self.data_table(t),
            Block::List(l) => self.list(l, BODY),
            Block::Diff(d) => self.diff(d),
            Block::Image(i) => self.image(&i.data_uri, i.width, i.height),
            Block::Graph(g) => self.graph(g),
            Block::Notice(n) => self.notice(n),
        }
    }

    fn data_table(&mut self, t: &Table) {
        let header: Vec<Cell> = t
            .header
            .iter()
            .map(|h| Cell { lines: vec![Text::new(Tone::Normal).em(h)], bullets: false })
            .collect();
        // Wide tables in smaller type.
        let size = if t.widths.len() > 2 { SMALL + 0.5 } else { BODY };
        self.table(&header, &t.widths, &t.rows, size);
    }

    /// The derivation graph, one row per event, split between pages by rows.
    fn graph(&mut self, g: &Graph) {
        // The legend: a dot and a label each.
        self.ensure(BODY * LEAD * 2.0);
        self.y += BODY * LEAD;
        let mut x = MARGIN;
        for entry in &g.legend {
            let w = self.width(&entry.label, SMALL) + 22.0;
            if x + w > W - MARGIN {
                self.ensure(BODY * LEAD);
                self.y += BODY * LEAD;
                x = MARGIN;
            }
            let y = self.y - BODY * 0.3;
            let c = entry.colour;
            self.ops().push(Op::Circle {
                x: x + 3.0,
                y: y - SMALL * 0.35,
                r: 3.0,
                fill: (c.0, c.1, c.2),
                ring: None,
            });
            self.text(x + 9.0, y, &Span::new(&entry.label, SMALL, GREY));
            x += w;
        }
        self.y += BODY * 0.5;
        self.para(&Text::toned(Tone::Muted, &g.caption), BODY);

        let thumbs: Vec<Option<Vec<u8>>> =
            g.nodes.iter().map(|n| n.thumbnail.as_deref().and_then(png_bytes)).collect();
        let with_thumbs = thumbs.iter().any(Option::is_some);
        let row: f32 = if with_thumbs { 24.0 } else { 12.0 };
        // Lanes share 216 points: 9 each, narrower when there are more than 24.
        let lane_w = (216.0 / g.lanes.max(1) as f32).min(9.0);
        let thumb_x = MARGIN + 8.0 + g.lanes.min(24) as f32 * 9.0;
        let text_x = thumb_x + if with_thumbs { row } else { 0.0 };
        let x = |i: usize| MARGIN + 4.0 + g.nodes[i].lane as f32 * lane_w;
        let mut parents = vec![Vec::new(); g.nodes.len()];
        for e in g.edges.iter().filter(|e| e.from < e.to && e.to < g.nodes.len()) {
            parents[e.to].push(e);
        }
        // Rows on the page they fall on; an edge is drawn on its child's page, from the page top
        // when its parent is on an earlier page.
        let mut at: Vec<(usize, f32)> = Vec::with_capacity(g.nodes.len());
        for (i, n) in g.nodes.iter().enumerate() {
            self.ensure(row);
            self.y += row;
            let y = self.y - row / 2.0;
            let page = self.pages.len() - 1;
            at.push((page, y));
            for e in &parents[i] {
                let (pp, py) = at[e.from];
                let from_y = if pp == page { py } else { MARGIN };
                self.ops().push(Op::Curve {
                    from: (x(e.from), from_y),
                    c1: (x(e.from), y - row / 2.0),
                    c2: (x(i), from_y + row / 2.0),
                    to: (x(i), y),
                    width: if e.in_lineage { 1.8 } else { 0.7 },
                    colour: if e.in_lineage { graph::LINEAGE_EDGE } else { graph::OTHER_EDGE },
                });
            }
            let c = n.colour;
            let r = if n.sealed { 4.0 } else { 3.0 };
            self.ops().push(Op::Circle {
                x: x(i),
                y,
                r,
                fill: (c.0, c.1, c.2),
                ring: n.in_lineage.then_some(BLACK),
            });
            if let Some(png) = &thumbs[i] {
                self.ops().push(Op::Image {
                    x: thumb_x,
                    y: y - row / 2.0 + 1.0,
                    w: row - 2.0,
                    h: row - 2.0,
                    png: Arc::new(png.clone()),
                });
            }
            let label = Span {
                bold: n.in_lineage,
                ..Span::new(&n.text, SMALL, if n.in_lineage { BLACK } else { GREY })
            };
            self.text(text_x, y + 2.5, &label);
        }
        self.y += BODY;
    }
}

/// Adds `text` of span `k` at `x` on `line`, joining the span's previous part when it is there.
fn place(line: &mut Line, x: f32, k: usize, span: &Span, text: &str) {
    line.size = line.size.max(span.size);
    if let Some((_, last, s)) = line.spans.last_mut()
        && *last == k
    {
        s.text.push_str(text);
        return;
    }
    line.spans.push((x, k, Span { text: text.to_owned(), ..span.clone() }));
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

/// The document as PDF, and the characters its font lacks (drawn as boxes; the HTML has them).
pub fn render(doc: &Document) -> Result<(Vec<u8>, Vec<char>), EvidenceError> {
    let (data, index) = font_data();
    let measure = FontRef::try_from_slice_and_index(&data, index)
        .map_err(|e| EvidenceError::Render(format!("the PDF font: {e}")))?;
    let mut l = Layout::new(measure);
    l.y += 8.0;
    let title = l.flow(&[Span::new(&doc.title, 16.0, BLACK)], TEXT_W);
    l.draw_lines(&title, MARGIN);
    l.y += 8.0;
    for b in &doc.opening {
        l.block(b);
    }
    for s in &doc.sections {
        l.heading(&s.heading, 13.0);
        for b in &s.blocks {
            l.block(b);
        }
    }
    let pages = l.pages.len();
    let footers: Vec<String> = (1..=pages).map(|n| doc.page_footer(n, pages)).collect();
    for f in &footers {
        l.width(f, SMALL);
    }
    let missing = std::mem::take(&mut l.missing);

    let font =
        Font::new(data.clone().into(), index).ok_or_else(|| EvidenceError::Render("the PDF font".into()))?;
    let mut pdf = krilla::Document::new();
    for (ops, footer) in l.pages.into_iter().zip(footers) {
        let mut page = pdf.start_page_with(PageSettings::from_wh(W, H).expect("A4"));
        let mut s = page.surface();
        let fill = |c: Rgb| Fill { paint: colour(c), opacity: NormalizedF32::ONE, rule: Default::default() };
        for op in ops.iter().chain(std::iter::once(&Op::Text {
            x: MARGIN,
            y: H - MARGIN / 2.0,
            size: SMALL,
            colour: GREY,
            bold: false,
            text: footer,
        })) {
            match op {
                Op::Text { x, y, size, colour: c, bold, text } => {
                    // One weight: emphasis is the glyphs filled and outlined.
                    s.set_stroke(bold.then(|| Stroke {
                        paint: colour(*c),
                        width: size * 0.04,
                        ..Default::default()
                    }));
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
    let bytes = pdf.finish().map_err(|e| EvidenceError::Render(format!("writing the PDF: {e:?}")))?;
    Ok((bytes, missing))
}
