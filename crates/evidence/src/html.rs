//! The HTML report: the document (document.rs) laid out by one template that holds the page
//! frame, the CSS and one macro per kind of block, and no wording of its own. minijinja
//! escapes every text (prompts and file names are user text); the only values written as they
//! are come from here: the graph's SVG (its texts escaped by graph.rs) and PNG `data:` URIs
//! checked to hold nothing that needs escaping. No script, no network.

use minijinja::{Environment, Value, context};

use crate::document::{Block, Document};
use crate::{EvidenceError, graph};

const TEMPLATE: &str = include_str!("../templates/report.html");

pub fn render(doc: &Document) -> Result<String, EvidenceError> {
    let mut env = Environment::new();
    // The name ends in .html: minijinja escapes every value unless marked safe.
    env.add_template("report.html", TEMPLATE).map_err(|e| EvidenceError::Render(e.to_string()))?;
    // A data URI as it is when it is a PNG's with nothing to escape (escaping `/` would only
    // bloat it), else nothing.
    env.add_filter("png_uri", |uri: String| {
        if graph::is_png_data_uri(&uri) { Value::from_safe_string(uri) } else { Value::from("") }
    });
    let template = env.get_template("report.html").map_err(|e| EvidenceError::Render(e.to_string()))?;
    // The document has one graph; its SVG is made here, its texts escaped by graph.rs.
    let svg = doc
        .sections
        .iter()
        .flat_map(|s| &s.blocks)
        .find_map(|b| match b {
            Block::Graph(g) => Some(graph::svg(g)),
            _ => None,
        })
        .unwrap_or_default();
    template
        .render(context! { doc => Value::from_serialize(doc), graph_svg => Value::from_safe_string(svg) })
        .map_err(|e| EvidenceError::Render(format!("{e:#}")))
}
