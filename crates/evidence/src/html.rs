//! The HTML report: one template (auto-escaped: prompts and file names are user text), the
//! graph drawn as inline SVG, CSS inline, no script and no network.

use minijinja::{Environment, Value, context};

use crate::{EvidenceError, Report, graph};

const TEMPLATE: &str = include_str!("../templates/report.html");

pub fn render(report: &Report) -> Result<String, EvidenceError> {
    let mut env = Environment::new();
    // The name ends in .html: minijinja escapes every value unless marked safe.
    env.add_template("report.html", TEMPLATE).map_err(|e| EvidenceError::Render(e.to_string()))?;
    let template = env.get_template("report.html").map_err(|e| EvidenceError::Render(e.to_string()))?;
    template
        .render(context! {
            r => Value::from_serialize(report),
            graph => Value::from_safe_string(graph::svg(&report.facts, &report.thumbnails)),
            // Built from base64 by the caller: no character that needs escaping, and `/`
            // escaped would only bloat it.
            thumbnail => report.work.as_ref().and_then(|w| w.thumbnail.clone())
                .filter(|t| graph::is_png_data_uri(t))
                .map(Value::from_safe_string),
        })
        .map_err(|e| EvidenceError::Render(format!("{e:#}")))
}
