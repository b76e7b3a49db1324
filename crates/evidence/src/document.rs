//! The report as one document, made once from a [`Report`]: a title, the notices that come
//! before everything else, then the sections, each a heading and a list of blocks (paragraphs,
//! key-value tables, tables, lists, prompt diffs, images, the derivation graph, notices).
//!
//! Every sentence the report says is written here and nowhere else (the assessment's
//! standards and facts come from assessment.rs, as data): the HTML (html.rs), the PDF
//! (pdf.rs) and any other renderer lay the same document out. It serializes to JSON for
//! renderers elsewhere (a web page).
//!
//! Text from the journal and the registry (prompts, file names, notes, titles) enters the
//! document with every character that could make shown text lie written as a visible escape
//! (`\u{1b}`, `\n`), so that no renderer can be made to hide, reorder or restyle it.

use ledger::text::is_deceptive;
use serde::{Serialize, Serializer};

use crate::facts::{Facts, Token};
use crate::{Integrity, Report, graph};

/// The report, ready to be laid out.
#[derive(Clone, Debug, Serialize)]
pub struct Document {
    pub title: String,
    /// What the reader must see before anything else: whether the journal verified, and what
    /// the report cannot show.
    pub opening: Vec<Block>,
    pub sections: Vec<Section>,
    /// What made the report (`handprint 0.1.0`), named on every printed page.
    pub generator: String,
}

/// A numbered section: its anchor (`work`, `graph`, …), heading and content.
#[derive(Clone, Debug, Serialize)]
pub struct Section {
    pub id: &'static str,
    pub heading: String,
    pub blocks: Vec<Block>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Block {
    Paragraph(Text),
    /// A heading inside a section.
    Subheading {
        text: String,
    },
    /// A table of named values, names in the first column.
    Fields {
        rows: Vec<Field>,
    },
    Table(Table),
    List(List),
    /// A word diff of a prompt against the one before.
    Diff(Diff),
    Image(Image),
    Graph(Graph),
    Notice(Notice),
}

/// Runs of text in one tone.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Text {
    pub tone: Tone,
    pub runs: Vec<Run>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Run {
    pub text: String,
    pub style: Style,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Style {
    Plain,
    Emphasis,
    /// Hashes, commands, file paths.
    Code,
    /// A small mark after the text before it (the revision that brought a word in).
    Subscript,
}

/// How a text bears on the claim: neutral, an aside, a requirement met, one not met.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Tone {
    #[default]
    Normal,
    Muted,
    Good,
    Bad,
}

#[derive(Clone, Debug, Serialize)]
pub struct Field {
    pub key: String,
    pub value: Text,
}

/// A table with a header row; `widths` are the columns' shares of the width (summing to 1).
#[derive(Clone, Debug, Serialize)]
pub struct Table {
    pub header: Vec<String>,
    pub widths: Vec<f32>,
    pub rows: Vec<Vec<Cell>>,
}

/// A table cell: lines of text, or a bulleted list of them.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Cell {
    pub lines: Vec<Text>,
    pub bullets: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct List {
    pub ordered: bool,
    pub items: Vec<Text>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Diff {
    /// What the words are (`negative prompt`), shown before them.
    pub label: Option<String>,
    pub words: Vec<DiffWord>,
}

#[derive(Clone, Debug, Serialize)]
pub struct DiffWord {
    pub op: DiffOp,
    pub text: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DiffOp {
    Same,
    Added,
    Removed,
}

/// A PNG image as a `data:` URI, with its size in pixels (for its aspect ratio).
#[derive(Clone, Debug, Serialize)]
pub struct Image {
    pub alt: String,
    pub data_uri: String,
    pub width: u32,
    pub height: u32,
}

/// A boxed message: a `warning` (the journal does not verify), a `limit` (what the report
/// cannot show) or a `note` (how to read what follows).
#[derive(Clone, Debug, Serialize)]
pub struct Notice {
    pub level: Level,
    pub title: Option<String>,
    pub text: Text,
    pub items: Vec<Text>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Warning,
    Limit,
    Note,
}

/// An sRGB colour, serialized as `#rrggbb`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Colour(pub u8, pub u8, pub u8);

impl Serialize for Colour {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.hex())
    }
}

impl Colour {
    pub fn hex(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
    }
}

impl From<graph::Rgb> for Colour {
    fn from((r, g, b): graph::Rgb) -> Self {
        Colour(r, g, b)
    }
}

/// The derivation graph: one row per event in log order, in lanes (graph.rs).
#[derive(Clone, Debug, Serialize)]
pub struct Graph {
    pub legend: Vec<LegendEntry>,
    /// How to read the drawing, after the legend.
    pub caption: String,
    pub lanes: usize,
    pub nodes: Vec<GraphNode>,
    pub edges: Vec<GraphEdge>,
}

#[derive(Clone, Debug, Serialize)]
pub struct LegendEntry {
    pub colour: Colour,
    pub label: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct GraphNode {
    pub lane: usize,
    pub colour: Colour,
    /// The sealed event, drawn larger.
    pub sealed: bool,
    /// On the path to the sealed image.
    pub in_lineage: bool,
    pub text: String,
    /// The event's file as a PNG `data:` URI, when it was found.
    pub thumbnail: Option<String>,
}

/// An edge between two rows (indexes into `nodes`).
#[derive(Clone, Debug, Serialize)]
pub struct GraphEdge {
    pub from: usize,
    pub to: usize,
    pub relation: String,
    /// Both ends on the path to the sealed image.
    pub in_lineage: bool,
}

/// `s` with each deceptive character written as a visible escape, as the terminal shows it.
pub(crate) fn shown(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if is_deceptive(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

impl Run {
    fn new(text: &str, style: Style) -> Run {
        Run { text: shown(text), style }
    }
}

impl Text {
    pub(crate) fn new(tone: Tone) -> Text {
        Text { tone, runs: Vec::new() }
    }

    pub(crate) fn plain(text: &str) -> Text {
        Text::new(Tone::Normal).add(text)
    }

    pub(crate) fn toned(tone: Tone, text: &str) -> Text {
        Text::new(tone).add(text)
    }

    fn styled(mut self, text: &str, style: Style) -> Text {
        if !text.is_empty() {
            self.runs.push(Run::new(text, style));
        }
        self
    }

    fn add(self, text: &str) -> Text {
        self.styled(text, Style::Plain)
    }

    pub(crate) fn em(self, text: &str) -> Text {
        self.styled(text, Style::Emphasis)
    }

    fn code(self, text: &str) -> Text {
        self.styled(text, Style::Code)
    }

    /// The text without its styles.
    pub fn plain_text(&self) -> String {
        self.runs.iter().map(|r| r.text.as_str()).collect()
    }
}

impl Cell {
    fn lines(lines: Vec<Text>) -> Cell {
        Cell { lines, bullets: false }
    }

    fn text(text: &str) -> Cell {
        Cell::lines(vec![Text::plain(text)])
    }
}

impl Block {
    fn sub(text: &str) -> Block {
        Block::Subheading { text: shown(text) }
    }

    fn table(header: &[&str], widths: &[f32], rows: Vec<Vec<Cell>>) -> Block {
        Block::Table(Table {
            header: header.iter().map(|h| (*h).to_owned()).collect(),
            widths: widths.to_vec(),
            rows,
        })
    }
}

impl Document {
    /// The footer of printed page `page` (from 1) of `pages`.
    pub fn page_footer(&self, page: usize, pages: usize) -> String {
        format!("{} — page {page} of {pages}", self.generator)
    }

    /// Every heading and paragraph-like text in reading order (the title, headings,
    /// subheadings, paragraphs, notices and list items), without styles.
    pub fn texts(&self) -> Vec<String> {
        let mut out = vec![self.title.clone()];
        let add = |blocks: &[Block], out: &mut Vec<String>| {
            for b in blocks {
                match b {
                    Block::Paragraph(t) => out.push(t.plain_text()),
                    Block::Subheading { text } => out.push(text.clone()),
                    Block::List(l) => out.extend(l.items.iter().map(Text::plain_text)),
                    Block::Notice(n) => {
                        out.extend(n.title.clone());
                        out.push(n.text.plain_text());
                        out.extend(n.items.iter().map(Text::plain_text));
                    }
                    Block::Graph(g) => out.push(g.caption.clone()),
                    _ => {}
                }
            }
        };
        add(&self.opening, &mut out);
        for s in &self.sections {
            out.push(s.heading.clone());
            add(&s.blocks, &mut out);
        }
        out.retain(|t| !t.is_empty());
        out
    }
}

/// What a report cannot show, said on its first page (the report's `limits`).
pub(crate) fn limits(facts: &Facts, integrity: &Integrity) -> Vec<String> {
    let mut limits = Vec::new();
    if !integrity.journal_verified {
        limits.push(
            "The journal did not verify: nothing in this report can be called proven until the findings \
             under Integrity are explained."
                .into(),
        );
    }
    if facts.counts.generations == 0 {
        limits.push(
            "The journal holds no generation for this work: it was imported from elsewhere, so the \
             creative process before it cannot be shown."
                .into(),
        );
    }
    if facts.sealed.is_none() {
        limits
            .push("The work is not sealed: there is no sealed event to tie an image to this journal.".into());
    }
    limits
}

/// The document of `r`.
pub(crate) fn document(r: &Report) -> Document {
    let f = &r.facts;
    let title = match &f.sealed {
        Some(s) => shown(&format!("Evidence of the creative process: \"{}\"", s.title)),
        None => "Evidence of the creative process".to_owned(),
    };
    Document {
        title,
        opening: opening(r),
        sections: vec![
            Section { id: "work", heading: "1. The work".into(), blocks: work(r) },
            Section { id: "graph", heading: "2. From first idea to final image".into(), blocks: graph(r) },
            Section { id: "prompts", heading: "3. The prompt's evolution".into(), blocks: prompts(f) },
            Section { id: "parameters", heading: "4. Parameter exploration".into(), blocks: parameters(f) },
            Section { id: "selection", heading: "5. Selection".into(), blocks: selection(f) },
            Section { id: "edits", heading: "6. Human edits after generation".into(), blocks: edits(f) },
            Section { id: "reproduction", heading: "7. Reproduction".into(), blocks: reproduction(f) },
            Section {
                id: "assessment",
                heading: "8. The facts against each standard".into(),
                blocks: assessment(r),
            },
            Section {
                id: "integrity",
                heading: "9. Integrity: how to check every claim".into(),
                blocks: integrity(&r.integrity),
            },
        ],
        generator: shown(&r.generator),
    }
}

fn opening(r: &Report) -> Vec<Block> {
    let mut blocks =
        vec![Block::Paragraph(Text::new(Tone::Muted).add("Project ").em(&r.facts.project).add(&format!(
            " · report made {} by {} · every statement below is derived from the signed journal; nothing \
                 is the claimant's word alone.",
            r.generated_at, r.generator
        )))];
    let verified = r.integrity.journal_verified;
    if !verified {
        blocks.push(Block::Notice(Notice {
            level: Level::Warning,
            title: Some("The journal did not verify.".into()),
            text: Text::plain(
                "Nothing in this report can be called proven until the findings under Integrity are explained.",
            ),
            items: r.integrity.findings.iter().map(|x| Text::plain(x)).collect(),
        }));
    }
    // When the journal does not verify, the first limit says so: the warning above said it.
    for limit in r.limits.iter().skip(usize::from(!verified)) {
        blocks.push(Block::Notice(Notice {
            level: Level::Limit,
            title: None,
            text: Text::plain(limit),
            items: Vec::new(),
        }));
    }
    blocks
}

fn work(r: &Report) -> Vec<Block> {
    let f = &r.facts;
    let mut blocks = Vec::new();
    if let Some(w) = &r.work
        && let Some(uri) = w.thumbnail.as_ref().filter(|t| graph::is_png_data_uri(t))
    {
        blocks.push(Block::Image(Image {
            alt: "the sealed work".into(),
            data_uri: uri.clone(),
            width: w.width,
            height: w.height,
        }));
    }
    let mut rows = Vec::new();
    let mut row = |key: &str, value: Text| rows.push(Field { key: key.into(), value });
    if let Some(w) = &r.work {
        let licence = w.license.as_ref().map(|x| format!(" ({x})")).unwrap_or_default();
        row("Work", Text::plain(&format!("{} — {}{licence}, registered by {}", w.id, w.title, w.registrant)));
        row("Sealed file SHA-256", Text::default().code(&w.sha256));
        row("Size", Text::plain(&format!("{} × {}", w.width, w.height)));
        if let Some(c) = &w.c2pa {
            row("Content Credentials", Text::plain(c));
        }
        if let Some(m) = &w.watermark {
            row("Watermark", Text::plain(m));
        }
    }
    if let Some(s) = &f.sealed {
        row(
            "Sealed",
            Text::plain(&format!("{}, journal event {} (", s.time, s.log_index)).code(&s.hash).add(")"),
        );
        row(
            "Sealed from",
            Text::plain(&format!("{} ", s.file)).code(s.file_sha256.as_deref().unwrap_or_default()),
        );
        row("Digital source type", Text::plain(s.source_type.as_deref().unwrap_or_default()));
    }
    if let Some((size, root, time)) = &r.integrity.checkpoint {
        row(
            "Checkpoint",
            Text::plain(&format!("log of {size} events, root ")).code(root).add(&format!(", signed {time}")),
        );
    }
    row(
        "Trusted time",
        match &r.integrity.timestamp {
            Some((n, t, tsa)) => {
                Text::plain(&format!("RFC 3161: the log of {n} events existed at {t} ({tsa})"))
            }
            None => Text::toned(Tone::Bad, "no RFC 3161 timestamp"),
        },
    );
    blocks.push(Block::Fields { rows });
    let c = &f.counts;
    let mut held = format!(
        "The journal holds {} events from {} to {}: {} generations, {} prompt revisions, {} selections, {} \
         rejections, {} manual edits, {} imports, {} notes.",
        c.events,
        f.first_event,
        f.last_event,
        c.generations,
        c.prompt_revisions,
        c.selected,
        c.rejected,
        c.edits,
        c.imports,
        c.notes
    );
    if f.sealed.is_some() {
        held +=
            &format!(" The sealed image derives from {} of them.", f.lineage_counts.events.saturating_sub(1));
    }
    blocks.push(Block::Paragraph(Text::plain(&held)));
    blocks
}

fn graph(r: &Report) -> Vec<Block> {
    let f = &r.facts;
    let legend = [
        (("generated", None), "generation"),
        (("prompt-edited", None), "prompt revision"),
        (("generated", Some("selected")), "selected"),
        (("generated", Some("rejected")), "rejected"),
        (("edited", None), "manual edit"),
        (("imported", None), "import"),
        (("sealed", None), "sealed"),
    ]
    .into_iter()
    .map(|((kind, verdict), label)| LegendEntry {
        colour: graph::colour(kind, verdict).into(),
        label: label.into(),
    })
    .collect();
    let (lanes, width) = graph::lanes(f);
    let row_of: std::collections::HashMap<u64, usize> =
        f.nodes.iter().enumerate().map(|(i, n)| (n.log_index, i)).collect();
    let nodes = f
        .nodes
        .iter()
        .zip(lanes)
        .map(|(n, lane)| {
            let verdict = match n.verdict {
                Some("selected") => " ✓ selected",
                Some("rejected") => " × rejected",
                _ => "",
            };
            let label: String = n.label.chars().take(60).collect();
            GraphNode {
                lane,
                colour: graph::colour(n.kind, n.verdict).into(),
                sealed: n.kind == "sealed",
                in_lineage: n.in_lineage,
                text: shown(&format!("#{} {} {label}{verdict}", n.log_index, n.kind)),
                thumbnail: n
                    .sha256
                    .as_ref()
                    .and_then(|h| r.thumbnails.get(h))
                    .filter(|u| graph::is_png_data_uri(u))
                    .cloned(),
            }
        })
        .collect();
    let edges = f
        .edges
        .iter()
        .filter_map(|e| {
            let (&from, &to) = (row_of.get(&e.from)?, row_of.get(&e.to)?);
            Some(GraphEdge {
                from,
                to,
                relation: shown(&e.relation),
                in_lineage: f.nodes[from].in_lineage && f.nodes[to].in_lineage,
            })
        })
        .collect();
    vec![Block::Graph(Graph {
        legend,
        caption: "Bold, with a gold line: the path to the sealed image; the rest are branches explored and \
                  abandoned."
            .into(),
        lanes: width,
        nodes,
        edges,
    })]
}

fn diff_words(tokens: &[Token]) -> Vec<DiffWord> {
    tokens
        .iter()
        .map(|t| DiffWord {
            op: match t.op {
                "added" => DiffOp::Added,
                "removed" => DiffOp::Removed,
                _ => DiffOp::Same,
            },
            text: shown(&t.text),
        })
        .collect()
}

fn prompts(f: &Facts) -> Vec<Block> {
    if f.revisions.is_empty() {
        return vec![Block::Paragraph(Text::toned(Tone::Bad, "No prompt is recorded."))];
    }
    let mut blocks = vec![Block::Paragraph(Text::toned(
        Tone::Muted,
        &format!(
            "Each revision's prompt as a word diff against the revision before (added words marked, removed words \
             struck through). All revisions are signed by the author key {}.",
            f.author_key
        ),
    ))];
    for (i, v) in f.revisions.iter().enumerate() {
        blocks.push(Block::Paragraph(Text::toned(
            Tone::Muted,
            &format!("Revision {} — event {}, {}", i + 1, v.log_index, v.time),
        )));
        blocks.push(Block::Diff(Diff { label: None, words: diff_words(&v.diff) }));
        if !v.negative_diff.is_empty() {
            blocks.push(Block::Diff(Diff {
                label: Some("negative prompt".into()),
                words: diff_words(&v.negative_diff),
            }));
        }
    }
    if !f.final_words.is_empty() {
        blocks.push(Block::sub("Words of the final prompt, by the revision that brought them in"));
        let mut words = Text::new(Tone::Normal);
        for (k, (w, n)) in f.final_words.iter().enumerate() {
            if k > 0 {
                words = words.add(" ");
            }
            words = words.add(w).styled(&(n + 1).to_string(), Style::Subscript);
        }
        blocks.push(Block::Paragraph(words));
    }
    blocks
}

fn parameters(f: &Facts) -> Vec<Block> {
    let mut blocks = Vec::new();
    if f.parameters.is_empty() {
        blocks.push(Block::Paragraph(Text::toned(Tone::Bad, "No generation settings are recorded.")));
    } else {
        let rows = f
            .parameters
            .iter()
            .map(|p| {
                let mut values = p
                    .values
                    .iter()
                    .take(12)
                    .map(|(v, n)| format!("{v} ({n})"))
                    .collect::<Vec<_>>()
                    .join(", ");
                if p.values.len() > 12 {
                    values += &format!(" … and {} more", p.values.len() - 12);
                }
                vec![
                    Cell::text(p.name),
                    Cell::text(&format!("{}: {values}", p.values.len())),
                    Cell::text(p.kept.as_deref().unwrap_or("—")),
                ]
            })
            .collect();
        blocks.push(Block::table(
            &["setting", "values tried (generations)", "kept in the final generation"],
            &[0.18, 0.6, 0.22],
            rows,
        ));
    }
    if !f.models.is_empty() {
        let mut t = Text::plain("Models and adapters: ");
        for (k, (name, hash)) in f.models.iter().enumerate() {
            if k > 0 {
                t = t.add(", ");
            }
            t = t.add(name);
            if let Some(h) = hash {
                t = t.add(" (").code(h).add(")");
            }
        }
        blocks.push(Block::Paragraph(t.add(".")));
    }
    blocks
}

fn selection(f: &Facts) -> Vec<Block> {
    let s = &f.selection;
    let mut blocks = vec![Block::Paragraph(Text::plain(&format!(
        "{} candidates were produced; {} were selected and {} set aside.",
        s.candidates, s.selected, s.rejected
    )))];
    if !s.choices.is_empty() {
        let rows = s
            .choices
            .iter()
            .map(|c| {
                vec![
                    Cell::text(&c.log_index.to_string()),
                    Cell::text(&c.time),
                    Cell::text(c.verdict),
                    Cell::text(&c.file),
                    Cell::text(c.reason.as_deref().unwrap_or_default()),
                ]
            })
            .collect();
        blocks.push(Block::table(
            &["event", "time", "choice", "file", "reason"],
            &[0.08, 0.27, 0.12, 0.23, 0.3],
            rows,
        ));
    }
    blocks
}

fn edits(f: &Facts) -> Vec<Block> {
    let mut blocks = Vec::new();
    if f.edits.is_empty() {
        blocks.push(Block::Paragraph(Text::plain("No manual edit is recorded.")));
    } else {
        let rows = f
            .edits
            .iter()
            .map(|e| {
                vec![
                    Cell::text(&format!("{}{}", e.log_index, if e.in_lineage { " ★" } else { "" })),
                    Cell::text(&e.time),
                    Cell::text(&e.tool),
                    Cell::lines(vec![
                        Text::plain(&format!("{} ", e.input))
                            .code(e.input_sha256.as_deref().unwrap_or_default()),
                        Text::plain(&format!("→ {} ", e.output))
                            .code(e.output_sha256.as_deref().unwrap_or_default()),
                    ]),
                    Cell::text(e.description.as_deref().unwrap_or_default()),
                ]
            })
            .collect();
        blocks.push(Block::table(
            &["event", "time", "tool", "before → after", "what was done"],
            &[0.08, 0.2, 0.12, 0.35, 0.25],
            rows,
        ));
        blocks.push(Block::Paragraph(Text::toned(Tone::Muted, "★ on the path to the sealed image.")));
    }
    if !f.notes.is_empty() {
        blocks.push(Block::sub("The creator's notes"));
        blocks.push(Block::List(List {
            ordered: false,
            items: f
                .notes
                .iter()
                .map(|(i, time, text)| Text::plain(&format!("{time} (event {i}): {text}")))
                .collect(),
        }));
    }
    blocks
}

fn reproduction(f: &Facts) -> Vec<Block> {
    let rp = &f.reproduction;
    let Some(i) = rp.log_index else {
        return vec![Block::Paragraph(Text::toned(
            Tone::Bad,
            "No generation is recorded: reproduction cannot be shown.",
        ))];
    };
    let generator = rp.generator.as_ref().map(|g| format!(" ({g})")).unwrap_or_default();
    let opening = format!("The final generation is event {i}{generator}. ");
    let verdict = if rp.complete {
        Text::toned(Tone::Good, &opening).em("The journal holds every setting needed to generate it again.")
    } else {
        Text::toned(Tone::Bad, &opening).em(&format!("The journal lacks: {}.", rp.missing.join(", ")))
    };
    vec![
        Block::Paragraph(verdict),
        Block::table(
            &["setting", "recorded value"],
            &[0.25, 0.75],
            rp.settings.iter().map(|(k, v)| vec![Cell::text(k), Cell::text(v)]).collect(),
        ),
        Block::Paragraph(Text::toned(
            Tone::Muted,
            "Re-generation gives the same image only where the generator, its version, the model file and the \
             hardware are deterministic; the model hashes above identify the files.",
        )),
    ]
}

fn assessment(r: &Report) -> Vec<Block> {
    let mut blocks = vec![Block::Notice(Notice {
        level: Level::Note,
        title: None,
        text: Text::plain(
            "For each standard a court or office has applied to AI-assisted images, the facts from the journal that \
             bear on it, and what such a decision asked for that the journal does not show. This is not legal \
             advice and passes no verdict.",
        ),
        items: Vec::new(),
    })];
    for a in &r.assessment {
        blocks.push(Block::sub(a.name));
        let rows = a
            .criteria
            .iter()
            .map(|c| {
                vec![
                    Cell::lines(vec![Text::plain(c.standard), Text::toned(Tone::Muted, c.sources)]),
                    Cell { lines: c.facts.iter().map(|x| Text::plain(x)).collect(), bullets: true },
                    Cell::lines(c.missing.iter().map(|m| Text::toned(Tone::Bad, m)).collect()),
                ]
            })
            .collect();
        blocks.push(Block::table(
            &["standard", "facts from the journal", "not shown"],
            &[0.34, 0.42, 0.24],
            rows,
        ));
    }
    blocks
}

fn integrity(i: &Integrity) -> Vec<Block> {
    let result = Text::new(if i.journal_verified { Tone::Good } else { Tone::Bad })
        .add("Result when this report was made: ");
    let mut blocks = vec![Block::Paragraph(if i.journal_verified {
        result.em("the journal verifies").add(
            " — every event's Ed25519 signature, every hash-chain link, the Merkle log's roots and every signed \
             checkpoint.",
        )
    } else {
        result.em("the journal does not verify").add(":")
    })];
    if !i.findings.is_empty() {
        blocks.push(Block::List(List {
            ordered: false,
            items: i.findings.iter().map(|x| Text::toned(Tone::Bad, x)).collect(),
        }));
    }
    blocks.push(Block::List(List {
        ordered: true,
        items: vec![
            Text::plain("The bundle beside this report (")
                .code("bundle/")
                .add(
                    ") holds the project's signed events, an RFC 9162 inclusion proof for each against the latest \
                     checkpoint, every checkpoint with consistency proofs, the RFC 3161 tokens and the public \
                     identity. Check it with nothing but the folder: ",
                )
                .code("handprint verify --export bundle")
                .add("."),
            Text::plain(
                "Each event is RFC 8785 canonical JSON signed with Ed25519 by the author's key; each names the hash \
                 (SHA-256) of the project's previous event, so no event can be removed, reordered or changed without \
                 it showing.",
            ),
            Text::plain(
                "The checkpoint is a signed note over the Merkle root of all events; an RFC 3161 timestamp over it (",
            )
            .code("openssl ts -verify")
            .add(") fixes when the log existed."),
            Text::plain("The sealed image carries its proof: a C2PA manifest (validate with ")
                .code("c2patool")
                .add(" or ")
                .code("handprint verify IMAGE")
                .add(
                    ") holding the sealed event, the checkpoint and the inclusion proof; its watermark and \
                     fingerprint name the work after metadata is stripped.",
                ),
        ],
    }));
    blocks.push(Block::Paragraph(Text::toned(
        Tone::Muted,
        "Formats: docs/ledger.md (journal, proofs, export), docs/credentials.md (seal), docs/watermark.md, \
         docs/fingerprints.md in handprint's source.",
    )));
    blocks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deceptive_characters_are_shown_as_escapes_and_other_text_passes() {
        assert_eq!(shown("a\u{1b}[2Jb\u{202e}c\nd"), "a\\u{1b}[2Jb\\u{202e}c\\nd");
        assert_eq!(shown("雪狐 Snow fox — ✓ <b>"), "雪狐 Snow fox — ✓ <b>");
        assert_eq!(shown("\u{2028}\u{85}\u{7f}"), "\\u{2028}\\u{85}\\u{7f}");
    }
}
