//! Midjourney: the description (PNG `Description`, XMP `dc:description`, IPTC caption) holds
//! the prompt, its `--` parameters and `Job ID: <uuid>`; `Author` is the account.

use serde_json::Value;

use crate::{Generation, Generator};

/// `None` unless the text carries a Midjourney job ID.
pub fn parse(description: &str, author: Option<&str>, source: &str) -> Option<Generation> {
    let (body, job) = description.rsplit_once("Job ID:")?;
    let job = job.trim();
    if job.len() != 36 || job.chars().filter(|&c| c == '-').count() != 4 {
        return None;
    }
    let mut g = Generation::new(Generator::Midjourney, source, description);
    g.extra.insert("job_id".into(), Value::String(job.to_owned()));
    if let Some(author) = author {
        g.extra.insert("author".into(), Value::String(author.to_owned()));
    }
    let body = body.trim();
    let (prompt, params) = match body.find(" --").or_else(|| body.starts_with("--").then_some(0)) {
        Some(i) => (&body[..i], &body[i..]),
        None => (body, ""),
    };
    g.prompt = Some(prompt.trim().to_owned());
    // `--key value words --flag`: a value runs to the next `--`.
    for part in params.split(" --").map(|p| p.trim().trim_start_matches("--")).filter(|p| !p.is_empty()) {
        let (key, value) = part.split_once(' ').map(|(k, v)| (k, v.trim())).unwrap_or((part, ""));
        match key {
            "no" => g.negative_prompt = Some(value.to_owned()),
            "seed" => g.seed = value.parse().ok(),
            "v" | "version" => g.generator_version = Some(value.to_owned()),
            "niji" => g.generator_version = Some(format!("niji {value}").trim().to_owned()),
            _ => {
                g.extra.insert(key.to_owned(), Value::String(value.to_owned()));
            }
        }
    }
    Some(g)
}
