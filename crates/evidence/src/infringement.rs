//! The infringement report: where a copy of a sealed work was found, how it was kept, how it
//! matches the work, and when each happened, as one [`Document`] (the HTML and the PDF lay it
//! out as they lay out the creator's report).
//!
//! Its input is plain data ([`Infringement`]), filled by whoever opened the capture package or
//! the file; every sentence the report says is written here. Text from the page, the package
//! and the registry (URLs, titles, names) enters the document with every deceptive character
//! written as a visible escape. The report states facts and their order in time, never a
//! verdict.

use base64::Engine;
use serde::Serialize;

use crate::EvidenceError;
use crate::document::{
    Block, Cell, Document, Field, Image, Level, List, Notice, Run, Section, Style, Table, Text, Tone, shown,
};

/// The `format` of the infringement report's JSON twin.
pub const INFRINGEMENT_FORMAT: &str = "handprint.infringement-report/1";

/// Everything the infringement report shows.
#[derive(Clone, Debug, Serialize)]
pub struct Infringement {
    pub format: &'static str,
    pub generated_at: String,
    pub generator: String,
    pub work: WorkSide,
    pub copy: CopySide,
    /// How the copy matches the work; none when only its watermark names the work.
    pub matched: Option<MatchSide>,
}

/// The registered work the copy is of.
#[derive(Clone, Debug, Default, Serialize)]
pub struct WorkSide {
    pub id: i64,
    pub title: String,
    pub license: Option<String>,
    pub creator: String,
    /// The creator's Ed25519 public key (base64).
    pub creator_key: String,
    pub sha256: String,
    pub width: u32,
    pub height: u32,
    pub sealed: Option<Sealed>,
    /// When a registry published it, if known.
    pub published: Option<String>,
    /// A PNG thumbnail of the work.
    #[serde(skip)]
    pub thumbnail_png: Option<Vec<u8>>,
}

/// The work's `sealed` event.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Sealed {
    /// RFC 3339 UTC.
    pub time: String,
    pub log_index: u64,
    /// The journal's checkpoint origin (the log the event is in).
    pub origin: String,
    /// The event's hash (hex).
    pub hash: String,
}

/// The copy, and where and how it was found.
#[derive(Clone, Debug, Default, Serialize)]
pub struct CopySide {
    /// The page's URL, or the source the user gave.
    pub source: String,
    /// The source is the user's word (`--source`), not a capture.
    pub stated_by_user: bool,
    /// The image's own URL in a capture.
    pub image_url: Option<String>,
    /// When it was captured (or, when stated, when the user says it was found), RFC 3339.
    pub found_at: String,
    /// The copy's file SHA-256 (hex).
    pub sha256: String,
    pub format: String,
    pub width: u32,
    pub height: u32,
    pub capture: Option<Capture>,
}

/// How a page was captured, from the package.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Capture {
    pub file_name: String,
    pub software: String,
    pub time_source: String,
    pub started: String,
    pub finished: String,
    /// The page's server addresses.
    pub ip: Vec<String>,
    /// The protocols of the page's responses (`http/1.1`, `tls/1.3`).
    pub protocol: Vec<String>,
    /// `host: address address`.
    pub dns: Vec<String>,
    /// Resources left out, with why.
    pub left_out: Vec<String>,
    pub screenshot: String,
    /// `sha256:` of the package's `datapackage.json`.
    pub datapackage_hash: String,
    /// The key whose signature over it verified, and the name it gives.
    pub signed_by: Option<String>,
    pub signer_name: Option<String>,
    /// The RFC 3161 timestamp's time and authority, when it verified.
    pub timestamp: Option<(String, String)>,
    /// The package verified offline when the report was made; what failed if not.
    pub verified: bool,
    pub problems: Vec<String>,
}

/// How the copy matches the work.
#[derive(Clone, Debug, Default, Serialize)]
pub struct MatchSide {
    /// `high` or `medium`.
    pub confidence: String,
    /// `pdq` or `features`.
    pub matched_by: String,
    pub pdq_distance: Option<u32>,
    /// The fraction of the work the copy shows.
    pub area_shown: Option<f64>,
    /// The part of the work shown: left, top, right, bottom as fractions.
    pub region: Option<[f64; 4]>,
    pub rotation_degrees: Option<f64>,
    /// The watermark payload read from the copy, and the work it names (`3 — "Title"`).
    pub watermark: Option<String>,
    pub watermark_work: Option<String>,
    /// What the sealed work carries and the copy does not.
    pub stripped: Vec<String>,
    /// The copy's Content Credentials status.
    pub credentials: String,
    /// The work and the copy side by side (PNG).
    #[serde(skip)]
    pub side_by_side_png: Option<Vec<u8>>,
}

impl Infringement {
    pub fn new(work: WorkSide, copy: CopySide, matched: Option<MatchSide>, generated_at: String) -> Self {
        Infringement {
            format: INFRINGEMENT_FORMAT,
            generated_at,
            generator: format!("handprint {}", env!("CARGO_PKG_VERSION")),
            work,
            copy,
            matched,
        }
    }

    pub fn document(&self) -> Document {
        document(self)
    }

    pub fn html(&self) -> Result<String, EvidenceError> {
        crate::html::render(&self.document())
    }

    /// The PDF, and the characters its font lacks.
    pub fn pdf(&self) -> Result<(Vec<u8>, Vec<char>), EvidenceError> {
        crate::pdf::render(&self.document())
    }
}

fn run(text: &str, style: Style) -> Run {
    Run { text: shown(text), style }
}

/// A text made of runs: `(text, style)`.
fn text(tone: Tone, runs: &[(&str, Style)]) -> Text {
    Text { tone, runs: runs.iter().filter(|(t, _)| !t.is_empty()).map(|(t, s)| run(t, *s)).collect() }
}

fn plain(s: &str) -> Text {
    Text::plain(s)
}

fn code(s: &str) -> Text {
    text(Tone::Normal, &[(s, Style::Code)])
}

fn cell(s: &str) -> Cell {
    Cell { lines: vec![plain(s)], bullets: false }
}

fn field(key: &str, value: Text) -> Field {
    Field { key: key.into(), value }
}

fn percent(x: f64) -> String {
    format!("{:.0}%", x * 100.0)
}

/// The width and height a PNG's header gives; none for anything else.
fn png_size(png: &[u8]) -> Option<(u32, u32)> {
    if png.len() < 24 || &png[..8] != b"\x89PNG\r\n\x1a\n" || &png[12..16] != b"IHDR" {
        return None;
    }
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    Some((be(&png[16..20]), be(&png[20..24])))
}

fn image(alt: &str, png: &[u8]) -> Option<Block> {
    let (width, height) = png_size(png)?;
    Some(Block::Image(Image {
        alt: alt.into(),
        data_uri: format!("data:image/png;base64,{}", base64::engine::general_purpose::STANDARD.encode(png)),
        width,
        height,
    }))
}

/// An RFC 3339 UTC time as a string that sorts as the time does (`YYYY-MM-DDTHH:MM:SS.fffZ`,
/// the fraction to nanoseconds); none for any other shape.
fn sortable(t: &str) -> Option<String> {
    let body = t.strip_suffix('Z')?;
    let (whole, fraction) = body.split_once('.').unwrap_or((body, ""));
    let shape = whole.len() == 19
        && whole.char_indices().all(|(i, c)| match i {
            4 | 7 => c == '-',
            10 => c == 'T',
            13 | 16 => c == ':',
            _ => c.is_ascii_digit(),
        });
    if !shape || fraction.len() > 9 || !fraction.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    Some(format!("{whole}.{fraction:0<9}"))
}

fn document(r: &Infringement) -> Document {
    Document {
        title: shown(&format!("Copy of a sealed work: \"{}\"", r.work.title)),
        opening: opening(r),
        sections: vec![
            Section { id: "work", heading: "1. The work".into(), blocks: work(&r.work) },
            Section { id: "copy", heading: "2. The copy".into(), blocks: copy(&r.copy) },
            Section { id: "match", heading: "3. How the copy matches the work".into(), blocks: matched(r) },
            Section { id: "timeline", heading: "4. Timeline".into(), blocks: timeline(r) },
            Section { id: "verify", heading: "5. How to check every claim".into(), blocks: verify(r) },
        ],
        generator: shown(&r.generator),
    }
}

fn opening(r: &Infringement) -> Vec<Block> {
    let mut blocks = vec![Block::Paragraph(text(
        Tone::Muted,
        &[(
            &format!(
                "Report made {} by {} · it sets out where a copy of work {} appears and how it matches; it \
                 states facts and their order in time, not a legal verdict.",
                r.generated_at, r.generator, r.work.id
            ),
            Style::Plain,
        )],
    ))];
    if let Some(c) = &r.copy.capture
        && !c.verified
    {
        blocks.push(Block::Notice(Notice {
            level: Level::Warning,
            title: Some("The capture package does not verify.".into()),
            text: plain(
                "Nothing this report takes from the package can be called proven until these are explained.",
            ),
            items: c.problems.iter().map(|p| plain(p)).collect(),
        }));
    }
    if r.copy.stated_by_user {
        blocks.push(Block::Notice(Notice {
            level: Level::Limit,
            title: None,
            text: plain(
                "Where and when the copy was found is stated by the user, not verified: no capture of the \
                 page backs it. The file's hash and its match to the work are checked.",
            ),
            items: Vec::new(),
        }));
    }
    if r.work.sealed.is_none() {
        blocks.push(Block::Notice(Notice {
            level: Level::Limit,
            title: None,
            text: plain("The work is registered but not sealed: no journal event fixes when it existed."),
            items: Vec::new(),
        }));
    }
    blocks
}

fn work(w: &WorkSide) -> Vec<Block> {
    let mut blocks: Vec<Block> =
        w.thumbnail_png.as_deref().and_then(|p| image("the sealed work", p)).into_iter().collect();
    let mut rows = vec![
        field("Work", plain(&format!("{} — {}", w.id, w.title))),
        field("Creator", plain(&w.creator)),
        field("Creator's key", code(&w.creator_key)),
        field("Licence", plain(w.license.as_deref().unwrap_or("none given"))),
        field("File SHA-256", code(&w.sha256)),
        field("Size", plain(&format!("{} × {}", w.width, w.height))),
    ];
    match &w.sealed {
        Some(s) => {
            rows.push(field(
                "Sealed",
                text(
                    Tone::Normal,
                    &[
                        (&format!("{}, journal event {} (", s.time, s.log_index), Style::Plain),
                        (&s.hash, Style::Code),
                        (")", Style::Plain),
                    ],
                ),
            ));
            rows.push(field("Journal", code(&s.origin)));
        }
        None => rows.push(field("Sealed", Text::toned(Tone::Bad, "not sealed"))),
    }
    rows.push(field("Published", plain(w.published.as_deref().unwrap_or("not known to this registry"))));
    blocks.push(Block::Fields { rows });
    blocks
}

fn copy(c: &CopySide) -> Vec<Block> {
    let mut rows = Vec::new();
    if c.stated_by_user {
        rows.push(field(
            "Source",
            text(
                Tone::Bad,
                &[(&c.source, Style::Code), (" — stated by the user, not verified", Style::Emphasis)],
            ),
        ));
        rows.push(field(
            "Found",
            text(
                Tone::Bad,
                &[(&c.found_at, Style::Plain), (" — stated by the user, not verified", Style::Emphasis)],
            ),
        ));
    } else {
        rows.push(field("Page", code(&c.source)));
        if let Some(u) = &c.image_url {
            rows.push(field("Image", code(u)));
        }
        rows.push(field("Captured", plain(&c.found_at)));
    }
    rows.push(field("Copy SHA-256", code(&c.sha256)));
    rows.push(field("Copy", plain(&format!("{} {} × {}", c.format, c.width, c.height))));
    let mut blocks = vec![Block::Fields { rows }];
    if let Some(k) = &c.capture {
        blocks.push(Block::Subheading { text: "How the page was captured".into() });
        let list = |v: &[String]| if v.is_empty() { "none".to_owned() } else { v.join(", ") };
        let mut rows = vec![
            field("Package", code(&k.file_name)),
            field("Software", plain(&k.software)),
            field("Time source", plain(&k.time_source)),
            field("Started, finished", plain(&format!("{} — {}", k.started, k.finished))),
            field("Server address", plain(&list(&k.ip))),
            field("Protocol", plain(&list(&k.protocol))),
            field("DNS answers", plain(&list(&k.dns))),
            field("Screenshot", plain(&k.screenshot)),
            field("datapackage.json", code(&k.datapackage_hash)),
            field(
                "Signature",
                match &k.signed_by {
                    Some(key) => text(
                        Tone::Good,
                        &[
                            ("verifies, key ", Style::Plain),
                            (key, Style::Code),
                            // The key is what verifies; the name is the package's claim.
                            (
                                &match k.signer_name.as_deref() {
                                    Some(name) => format!(" (the package names it {name:?}, a claim)"),
                                    None => " (no name given)".to_owned(),
                                },
                                Style::Plain,
                            ),
                        ],
                    ),
                    None => Text::toned(Tone::Bad, "does not verify"),
                },
            ),
            field(
                "Timestamp",
                match &k.timestamp {
                    Some((time, tsa)) => {
                        Text::toned(Tone::Good, &format!("RFC 3161: the package existed at {time} ({tsa})"))
                    }
                    None => Text::toned(Tone::Bad, "no RFC 3161 timestamp that verifies"),
                },
            ),
        ];
        if !k.left_out.is_empty() {
            rows.push(field("Left out", Text::toned(Tone::Bad, &k.left_out.join("; "))));
        }
        blocks.push(Block::Fields { rows });
        blocks.push(Block::Paragraph(text(
            Tone::Muted,
            &[(
                "The package holds every request and response of the capture in a WARC 1.1 archive, with the \
                 server's TLS certificate chain when the page was served over TLS.",
                Style::Plain,
            )],
        )));
    }
    blocks
}

fn matched(r: &Infringement) -> Vec<Block> {
    let Some(m) = &r.matched else {
        return vec![Block::Paragraph(Text::toned(
            Tone::Muted,
            "No fingerprint match was recorded for this copy.",
        ))];
    };
    let mut blocks: Vec<Block> = m
        .side_by_side_png
        .as_deref()
        .and_then(|p| image("the work and the copy side by side", p))
        .into_iter()
        .collect();
    let mut rows = vec![
        field("Confidence", plain(&format!("{} (matched by {})", m.confidence, m.matched_by))),
        field(
            "PDQ distance",
            plain(&match m.pdq_distance {
                Some(d) => format!("{d} of 256 bits differ"),
                None => "no global match (local features matched)".into(),
            }),
        ),
    ];
    if let Some(a) = m.area_shown {
        rows.push(field("Area of the work shown", plain(&percent(a))));
    }
    if let Some([l, t, rt, b]) = m.region {
        rows.push(field(
            "Part of the work shown",
            plain(&format!(
                "from {} to {} of its width, {} to {} of its height",
                percent(l),
                percent(rt),
                percent(t),
                percent(b)
            )),
        ));
    }
    if let Some(d) = m.rotation_degrees {
        // A turn that rounds to nothing reads as none (and never as "-0.0").
        let text = match (d * 10.0).round() / 10.0 {
            0.0 => "none".to_owned(),
            r => format!("{r:.1}° counter-clockwise"),
        };
        rows.push(field("Rotation", plain(&text)));
    }
    rows.push(field(
        "Watermark",
        match (&m.watermark, &m.watermark_work) {
            (Some(p), Some(w)) => plain(&format!("payload {p}, which names work {w}")),
            (Some(p), None) => plain(&format!("payload {p}, which names no work registered here")),
            _ => plain("none read"),
        },
    ));
    rows.push(field("Content Credentials of the copy", plain(&m.credentials)));
    rows.push(field(
        "Stripped",
        if m.stripped.is_empty() {
            plain("nothing the sealed work carries is missing")
        } else {
            Text::toned(Tone::Bad, &m.stripped.join(", "))
        },
    ));
    blocks.push(Block::Fields { rows });
    blocks.push(Block::Paragraph(text(
        Tone::Muted,
        &[(
            "PDQ is a 256-bit perceptual hash: handprint counts a distance of 31 or less as the same \
             picture. The area and the part shown come from local features that agree on one placement of \
             the copy in the work.",
            Style::Plain,
        )],
    )));
    blocks
}

fn timeline(r: &Infringement) -> Vec<Block> {
    let copy_event =
        if r.copy.stated_by_user { "Found (stated by the user, not verified)" } else { "Captured" };
    let mut rows = Vec::new();
    if let Some(s) = &r.work.sealed {
        rows.push(vec![cell(&s.time), cell("Sealed"), cell(&format!("journal event {}", s.log_index))]);
    }
    if let Some(p) = &r.work.published {
        rows.push(vec![cell(p), cell("Published"), cell("registry")]);
    }
    let copy_note = match &r.copy.capture {
        Some(c) => match &c.timestamp {
            Some((t, _)) => format!("package timestamped {t}"),
            None => "package not timestamped".into(),
        },
        None => "no capture".into(),
    };
    rows.push(vec![cell(&r.copy.found_at), cell(copy_event), cell(&copy_note)]);
    rows.sort_by_key(|row: &Vec<Cell>| sortable(&row[0].lines[0].plain_text()).unwrap_or_default());
    let table = Block::Table(Table {
        header: vec!["Time (UTC)".into(), "Event".into(), "Record".into()],
        widths: vec![0.35, 0.35, 0.3],
        rows,
    });
    let what = if r.copy.stated_by_user {
        "the time the user states the copy was found"
    } else {
        "the copy was captured"
    };
    let sentence = match &r.work.sealed {
        None => Text::toned(
            Tone::Bad,
            "The work is not sealed, so this report cannot say whether it existed before the copy.",
        ),
        Some(s) => match (sortable(&s.time), sortable(&r.copy.found_at)) {
            (Some(a), Some(b)) if a < b => Text::toned(
                Tone::Good,
                &format!(
                    "The work was sealed before {what}: sealed {}, {} {}.",
                    s.time,
                    if r.copy.stated_by_user { "stated" } else { "captured" },
                    r.copy.found_at
                ),
            ),
            (Some(_), Some(_)) => Text::toned(
                Tone::Bad,
                &format!(
                    "The work was not sealed before {what}: sealed {}, {} {}.",
                    s.time,
                    if r.copy.stated_by_user { "stated" } else { "captured" },
                    r.copy.found_at
                ),
            ),
            _ => Text::toned(
                Tone::Bad,
                "The times cannot be compared: one of them is not an RFC 3339 UTC time.",
            ),
        },
    };
    vec![
        table,
        Block::Paragraph(sentence),
        Block::Paragraph(Text::toned(
            Tone::Muted,
            "This is an order in time, not a finding: whether the copy infringes is for a court to decide.",
        )),
    ]
}

fn verify(r: &Infringement) -> Vec<Block> {
    let mut items = Vec::new();
    if let Some(c) = &r.copy.capture {
        items.push(text(
            Tone::Normal,
            &[
                (
                    "handprint's own offline check of the package (archive, signature, timestamp): ",
                    Style::Plain,
                ),
                (&format!("handprint verify --capture {}", c.file_name), Style::Code),
                (".", Style::Plain),
            ],
        ));
        items.push(text(
            Tone::Normal,
            &[
                (
                    "The WARC's records and digests, with the reference tools: unzip the package, then ",
                    Style::Plain,
                ),
                ("warcio check -v archive/data.warc.gz", Style::Code),
                (" and ", Style::Plain),
                (&format!("wacz validate -f {}", c.file_name), Style::Code),
                (".", Style::Plain),
            ],
        ));
        items.push(text(
            Tone::Normal,
            &[
                ("The timestamp, with the token (base64 under handprint.timestamp.token in datapackage-digest.json) saved as token.der: ", Style::Plain),
                ("openssl ts -verify -data datapackage.json -in token.der -token_in -CAfile TSA-ROOT.pem", Style::Code),
                (".", Style::Plain),
            ],
        ));
    }
    items.push(text(
        Tone::Normal,
        &[
            ("The copy's SHA-256 against the file: ", Style::Plain),
            ("sha256sum COPY", Style::Code),
            (&format!(" gives {}.", r.copy.sha256), Style::Plain),
        ],
    ));
    items.push(text(
        Tone::Normal,
        &[
            ("The sealed work carries its proof (Content Credentials with the sealed event and its inclusion proof): ", Style::Plain),
            ("handprint verify WORK-FILE", Style::Code),
            (", and the creator's evidence report: ", Style::Plain),
            (&format!("handprint claim {}", r.work.id), Style::Code),
            (".", Style::Plain),
        ],
    ));
    vec![Block::List(List { ordered: true, items })]
}
