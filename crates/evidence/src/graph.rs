//! The derivation graph's shape and colours, and its SVG: one row per event in log order,
//! lanes for branches (as `git log --graph` draws history), so that hundreds of generations
//! stay legible. The document (document.rs) holds the graph; html.rs draws it as SVG here,
//! pdf.rs draws it on pages.

use std::collections::HashMap;
use std::fmt::Write;

use crate::document::{Graph, GraphNode};
use crate::facts::Facts;

const ROW: f32 = 22.0;
/// Rows are taller when thumbnails are shown.
const THUMB_ROW: f32 = 40.0;
const LANE: f32 = 16.0;

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A `data:` URI of a PNG with nothing that would need escaping in HTML or SVG, so that it can
/// be written as it is.
pub(crate) fn is_png_data_uri(uri: &str) -> bool {
    uri.starts_with("data:image/png;base64,") && !uri.contains(['"', '<', '>', '&'])
}

pub(crate) type Rgb = (u8, u8, u8);
/// Edges within the sealed work's lineage, and the others.
pub(crate) const LINEAGE_EDGE: Rgb = (184, 134, 11);
pub(crate) const OTHER_EDGE: Rgb = (176, 190, 197);

/// A node's colour, in the HTML and the PDF alike.
pub(crate) fn colour(kind: &str, verdict: Option<&str>) -> Rgb {
    match (kind, verdict) {
        ("sealed", _) => (184, 134, 11),
        (_, Some("selected")) => (46, 125, 50),
        (_, Some("rejected")) => (158, 158, 158),
        ("generated", _) => (21, 101, 192),
        ("edited", _) => (198, 40, 40),
        ("imported", _) => (106, 27, 154),
        ("prompt-edited", _) => (239, 108, 0),
        _ => (84, 110, 122),
    }
}

fn hex(c: Rgb) -> String {
    crate::document::Colour::from(c).hex()
}

/// Each node's parents (rows), in the order of the edges.
fn parents(f: &Facts) -> Vec<Vec<usize>> {
    let row_of: HashMap<u64, usize> = f.nodes.iter().enumerate().map(|(i, n)| (n.log_index, i)).collect();
    let mut parents = vec![Vec::new(); f.nodes.len()];
    for e in &f.edges {
        if let (Some(&a), Some(&b)) = (row_of.get(&e.from), row_of.get(&e.to)) {
            parents[b].push(a);
        }
    }
    parents
}

/// Lanes: a node continues its first parent's lane when that parent has not been continued
/// yet; otherwise it takes the first lane whose last node has no child still to come.
pub(crate) fn lanes(f: &Facts) -> (Vec<usize>, usize) {
    let parents = parents(f);
    let n = parents.len();
    let mut last_child: Vec<usize> = (0..n).collect();
    for (child, of) in parents.iter().enumerate() {
        for &p in of {
            last_child[p] = last_child[p].max(child);
        }
    }
    let mut lane = vec![0usize; n];
    let mut occupant: Vec<Option<usize>> = Vec::new();
    let mut continued = vec![false; n];
    for i in 0..n {
        let inherit =
            parents[i].iter().copied().find(|&p| !continued[p] && occupant.get(lane[p]) == Some(&Some(p)));
        let l = match inherit {
            Some(p) => {
                continued[p] = true;
                lane[p]
            }
            None => match occupant.iter().position(|o| o.is_none_or(|j| last_child[j] < i)) {
                Some(free) => free,
                None => {
                    occupant.push(None);
                    occupant.len() - 1
                }
            },
        };
        lane[i] = l;
        occupant[l] = Some(i);
    }
    (lane, occupant.len().max(1))
}

/// The graph as SVG. Its texts are the document's (already free of deceptive characters),
/// escaped here for XML.
pub fn svg(g: &Graph) -> String {
    fn shown(n: &GraphNode) -> Option<&String> {
        n.thumbnail.as_ref().filter(|u| is_png_data_uri(u))
    }
    let row = if g.nodes.iter().any(|n| shown(n).is_some()) { THUMB_ROW } else { ROW };
    let x = |i: usize| 10.0 + g.nodes[i].lane as f32 * LANE;
    let y = |i: usize| row / 2.0 + 3.0 + i as f32 * row;
    let thumb_x = 20.0 + g.lanes as f32 * LANE;
    let text_x = thumb_x + if row == THUMB_ROW { row } else { 0.0 };
    let (w, h) = (text_x + 620.0, 6.0 + g.nodes.len() as f32 * row);
    let mut out = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="graph" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="12">"#
    );
    for e in g.edges.iter().filter(|e| e.from < g.nodes.len() && e.to < g.nodes.len()) {
        let (a, b) = (e.from, e.to);
        let _ = write!(
            out,
            r#"<path d="M{} {} C{} {} {} {} {} {}" fill="none" stroke="{}" stroke-width="{}"><title>{}</title></path>"#,
            x(a),
            y(a),
            x(a),
            y(b) - row / 2.0,
            x(b),
            y(a) + row / 2.0,
            x(b),
            y(b),
            hex(if e.in_lineage { LINEAGE_EDGE } else { OTHER_EDGE }),
            if e.in_lineage { 2.5 } else { 1.2 },
            escape(&e.relation)
        );
    }
    for (i, n) in g.nodes.iter().enumerate() {
        let r = if n.sealed { 6.5 } else { 4.5 };
        let _ = write!(
            out,
            r#"<circle cx="{}" cy="{}" r="{r}" fill="{}" stroke="{}" stroke-width="{}"/>"#,
            x(i),
            y(i),
            n.colour.hex(),
            if n.in_lineage { "#000" } else { "#fff" },
            if n.in_lineage { 1.5 } else { 0.5 }
        );
        if let Some(uri) = shown(n) {
            // A PNG data URI (checked above): nothing in it needs escaping.
            let _ = write!(
                out,
                r#"<image x="{thumb_x}" y="{}" width="{}" height="{}" href="{uri}" preserveAspectRatio="xMidYMid meet"/>"#,
                y(i) - row / 2.0 + 2.0,
                row - 4.0,
                row - 4.0
            );
        }
        let _ = write!(
            out,
            r#"<text x="{text_x}" y="{}" fill="{}"{}>{}</text>"#,
            y(i) + 4.0,
            if n.in_lineage { "#000" } else { "#555" },
            if n.in_lineage { r#" font-weight="bold""# } else { "" },
            escape(&n.text)
        );
    }
    out.push_str("</svg>");
    out
}
