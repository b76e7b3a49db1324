//! The facts of a creative process, derived from its journal and nothing else.

use std::collections::{BTreeMap, HashMap, HashSet};

use ledger::{EventKind, Hash, SignedEvent};
use serde::Serialize;
use serde_json::Value;
use similar::{ChangeTag, TextDiff};

/// One event as the derivation graph shows it.
#[derive(Clone, Debug, Serialize)]
pub struct Node {
    pub log_index: u64,
    pub kind: &'static str,
    pub time: String,
    /// The file name, or the first words of a note or prompt.
    pub label: String,
    pub sha256: Option<String>,
    /// On a path that leads to the sealed image.
    pub in_lineage: bool,
    /// Chosen (`selected`), set aside (`rejected`) or neither.
    pub verdict: Option<&'static str>,
    /// Longest path from a root: the graph's column.
    pub depth: usize,
}

#[derive(Clone, Debug, Serialize)]
pub struct Edge {
    pub from: u64,
    pub to: u64,
    pub relation: String,
}

/// A word of a prompt diff.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Token {
    /// `same`, `added` or `removed`.
    pub op: &'static str,
    pub text: String,
}

/// One revision of the prompt.
#[derive(Clone, Debug, Serialize)]
pub struct Revision {
    /// The event that records it (`prompt-edited`, or the first generation for the first).
    pub log_index: u64,
    pub time: String,
    pub author: String,
    pub prompt: String,
    pub negative: String,
    pub diff: Vec<Token>,
    pub negative_diff: Vec<Token>,
}

/// One setting across the project's generations.
#[derive(Clone, Debug, Serialize)]
pub struct Parameter {
    pub name: &'static str,
    /// Each value tried and in how many generations, in order of first use.
    pub values: Vec<(String, usize)>,
    /// The value in the final generation (the sealed image's nearest), if set.
    pub kept: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Choice {
    pub log_index: u64,
    pub time: String,
    pub verdict: &'static str,
    pub file: String,
    pub reason: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Selection {
    pub candidates: usize,
    pub selected: usize,
    pub rejected: usize,
    pub choices: Vec<Choice>,
}

#[derive(Clone, Debug, Serialize)]
pub struct EditFact {
    pub log_index: u64,
    pub time: String,
    pub tool: String,
    pub description: Option<String>,
    pub input: String,
    pub input_sha256: Option<String>,
    pub output: String,
    pub output_sha256: Option<String>,
    pub in_lineage: bool,
}

/// What re-generating the final generation needs, and whether the journal holds it.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Reproduction {
    pub log_index: Option<u64>,
    pub generator: Option<String>,
    pub settings: Vec<(String, String)>,
    pub missing: Vec<String>,
    pub complete: bool,
}

/// The sealing of the work.
#[derive(Clone, Debug, Serialize)]
pub struct SealedFacts {
    pub log_index: u64,
    pub hash: String,
    pub time: String,
    pub work: Option<i64>,
    pub title: String,
    pub license: Option<String>,
    pub source_type: Option<String>,
    pub file: String,
    pub file_sha256: Option<String>,
    pub visible_label: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Counts {
    pub events: usize,
    pub generations: usize,
    pub prompt_revisions: usize,
    pub selected: usize,
    pub rejected: usize,
    pub edits: usize,
    pub imports: usize,
    pub notes: usize,
}

/// Everything the report states, each derived from the journal.
#[derive(Clone, Debug, Serialize)]
pub struct Facts {
    pub project: String,
    pub author_key: String,
    pub first_event: String,
    pub last_event: String,
    pub counts: Counts,
    /// The counts restricted to the events the sealed image derives from.
    pub lineage_counts: Counts,
    pub sealed: Option<SealedFacts>,
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
    pub revisions: Vec<Revision>,
    /// Words of the final prompt, each with the revision (0-based) that brought it in.
    pub final_words: Vec<(String, usize)>,
    pub parameters: Vec<Parameter>,
    pub selection: Selection,
    pub edits: Vec<EditFact>,
    pub notes: Vec<(u64, String, String)>,
    pub reproduction: Reproduction,
    /// Models, LoRAs and other adapters named by the generations (name, hash if any).
    pub models: Vec<(String, Option<String>)>,
    pub generators: Vec<String>,
}

fn generation(e: &SignedEvent) -> Option<&Value> {
    e.event.data.get("generations")?.as_array()?.first()
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Word-level diff of two prompts.
pub fn diff(before: &str, after: &str) -> Vec<Token> {
    TextDiff::from_words(before, after)
        .iter_all_changes()
        .filter(|c| !c.value().trim().is_empty())
        .map(|c| Token {
            op: match c.tag() {
                ChangeTag::Equal => "same",
                ChangeTag::Insert => "added",
                ChangeTag::Delete => "removed",
            },
            text: c.value().trim().to_owned(),
        })
        .collect()
}

fn counts<'a>(events: impl Iterator<Item = &'a SignedEvent>) -> Counts {
    let mut c = Counts::default();
    for e in events {
        c.events += 1;
        match e.event.kind {
            EventKind::Generated => c.generations += 1,
            EventKind::PromptEdited => c.prompt_revisions += 1,
            EventKind::Selected => c.selected += 1,
            EventKind::Rejected => c.rejected += 1,
            EventKind::Edited => c.edits += 1,
            EventKind::Imported => c.imports += 1,
            EventKind::Note => c.notes += 1,
            EventKind::Sealed | EventKind::Registered | EventKind::Published | EventKind::Withdrawn => {}
        }
    }
    c
}

/// The settings a generation records, as (name, value) in the report's order.
fn settings(g: &Value) -> Vec<(&'static str, Option<String>)> {
    let size = match (g["width"].as_u64(), g["height"].as_u64()) {
        (Some(w), Some(h)) => Some(format!("{w}×{h}")),
        _ => None,
    };
    let loras = g["adapters"].as_array().filter(|a| !a.is_empty()).map(|a| {
        a.iter()
            .map(|x| match x["weight"].as_f64() {
                Some(w) => format!("{}:{w}", x["name"].as_str().unwrap_or("?")),
                None => x["name"].as_str().unwrap_or("?").to_owned(),
            })
            .collect::<Vec<_>>()
            .join(", ")
    });
    vec![
        ("prompt", text(&g["prompt"])),
        ("negative prompt", text(&g["negative_prompt"])),
        ("model", g["model"]["name"].as_str().map(str::to_owned)),
        ("seed", text(&g["seed"])),
        ("sampler", text(&g["sampler"])),
        ("scheduler", text(&g["scheduler"])),
        ("steps", text(&g["steps"])),
        ("CFG scale", text(&g["cfg_scale"])),
        ("size", size),
        ("LoRAs and adapters", loras),
        ("denoising strength", text(&g["img2img"]["denoising_strength"])),
        ("VAE", g["vae"]["name"].as_str().map(str::to_owned)),
    ]
}

/// What a re-generation cannot do without (LoRAs, VAE, denoising and scheduler are often
/// legitimately absent).
const NEEDED: [&str; 8] =
    ["prompt", "model", "seed", "sampler", "steps", "CFG scale", "size", "negative prompt"];

/// The facts of `events` (one project's, in log order), for the work sealed by `sealed`
/// (an index into `events`), or for the whole project.
pub fn facts(events: &[SignedEvent], sealed: Option<usize>) -> Facts {
    let by_hash: HashMap<Hash, usize> = events.iter().enumerate().map(|(i, e)| (e.hash(), i)).collect();
    // The lineage: everything the sealed event derives from.
    let lineage: HashSet<usize> =
        sealed.map(|s| ledger::lineage::ancestors(events, s).into_iter().collect()).unwrap_or_default();
    // Verdicts on candidates, from select and reject events.
    let mut verdicts: HashMap<usize, &'static str> = HashMap::new();
    let mut selection = Selection::default();
    for e in events {
        let verdict = match e.event.kind {
            EventKind::Selected => "selected",
            EventKind::Rejected => "rejected",
            _ => continue,
        };
        for l in &e.event.derived_from {
            if let Some(&j) = by_hash.get(&l.event) {
                verdicts.insert(j, verdict);
            }
        }
        selection.choices.push(Choice {
            log_index: e.event.log_index,
            time: e.event.time.clone(),
            verdict,
            file: e.event.data["file"]["name"].as_str().unwrap_or_default().to_owned(),
            reason: e.event.data["reason"].as_str().map(str::to_owned),
        });
    }
    selection.candidates =
        events.iter().filter(|e| matches!(e.event.kind, EventKind::Generated | EventKind::Edited)).count();
    selection.selected = verdicts.values().filter(|v| **v == "selected").count();
    selection.rejected = verdicts.values().filter(|v| **v == "rejected").count();

    // Depth: the longest chain of derivations to each event (log order is topological).
    let mut depth = vec![0usize; events.len()];
    let mut edges = Vec::new();
    for (i, e) in events.iter().enumerate() {
        for l in &e.event.derived_from {
            if let Some(&j) = by_hash.get(&l.event) {
                depth[i] = depth[i].max(depth[j] + 1);
                edges.push(Edge {
                    from: events[j].event.log_index,
                    to: e.event.log_index,
                    relation: l.relation.clone(),
                });
            }
        }
    }
    let nodes = events
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let label = e
                .file()
                .and_then(|f| f["name"].as_str())
                .map(str::to_owned)
                .or_else(|| e.event.data["text"].as_str().map(|t| t.chars().take(40).collect()))
                .or_else(|| e.event.data["after"].as_str().map(|t| t.chars().take(40).collect()))
                .unwrap_or_default();
            Node {
                log_index: e.event.log_index,
                kind: e.event.kind.as_str(),
                time: e.event.time.clone(),
                label,
                sha256: e.file().and_then(|f| f["sha256"].as_str()).map(str::to_owned),
                in_lineage: lineage.contains(&i),
                verdict: verdicts.get(&i).copied(),
                depth: depth[i],
            }
        })
        .collect();

    // Prompt revisions: the first generation's prompt, then every prompt-edited event.
    let mut revisions: Vec<Revision> = Vec::new();
    for e in events {
        let (prompt, negative) = match e.event.kind {
            EventKind::Generated if revisions.is_empty() => match generation(e) {
                Some(g) => {
                    (text(&g["prompt"]).unwrap_or_default(), text(&g["negative_prompt"]).unwrap_or_default())
                }
                None => continue,
            },
            EventKind::PromptEdited => (
                e.event.data["after"].as_str().unwrap_or_default().to_owned(),
                e.event.data["negative_after"].as_str().unwrap_or_default().to_owned(),
            ),
            _ => continue,
        };
        let (before, neg_before) =
            revisions.last().map(|r| (r.prompt.as_str(), r.negative.as_str())).unwrap_or(("", ""));
        revisions.push(Revision {
            log_index: e.event.log_index,
            time: e.event.time.clone(),
            author: e.event.author.clone(),
            diff: diff(before, &prompt),
            negative_diff: diff(neg_before, &negative),
            prompt,
            negative,
        });
    }

    // The final generation: the latest generation in the lineage, else in the project.
    let generations: Vec<(usize, &SignedEvent)> =
        events.iter().enumerate().filter(|(_, e)| e.event.kind == EventKind::Generated).collect();
    let final_generation = generations
        .iter()
        .rev()
        .find(|(i, _)| lineage.contains(i))
        .or_else(|| generations.last())
        .map(|(_, e)| *e);

    // Which revision brought each word of the final prompt in.
    let final_prompt =
        final_generation.and_then(generation).and_then(|g| text(&g["prompt"])).unwrap_or_default();
    let final_words = final_prompt
        .split_whitespace()
        .map(|w| {
            let first = revisions
                .iter()
                .position(|r| r.prompt.split_whitespace().any(|x| x == w))
                .unwrap_or(revisions.len().saturating_sub(1));
            (w.to_owned(), first)
        })
        .collect();

    // Parameter exploration across every generation.
    let mut table: BTreeMap<usize, Parameter> = BTreeMap::new();
    for (_, e) in &generations {
        let Some(g) = generation(e) else { continue };
        for (k, (name, value)) in settings(g).into_iter().enumerate() {
            if matches!(name, "prompt" | "negative prompt") {
                continue;
            }
            let Some(value) = value else { continue };
            let p = table.entry(k).or_insert(Parameter { name, values: Vec::new(), kept: None });
            match p.values.iter_mut().find(|(v, _)| *v == value) {
                Some((_, n)) => *n += 1,
                None => p.values.push((value, 1)),
            }
        }
    }
    if let Some(g) = final_generation.and_then(generation) {
        for (k, (_, value)) in settings(g).into_iter().enumerate() {
            if let Some(p) = table.get_mut(&k) {
                p.kept = value;
            }
        }
    }

    let reproduction = final_generation
        .map(|e| {
            let g = generation(e).cloned().unwrap_or(Value::Null);
            let all = settings(&g);
            let missing: Vec<String> = all
                .iter()
                .filter(|(n, v)| v.is_none() && NEEDED.contains(n))
                .map(|(n, _)| (*n).to_owned())
                .collect();
            Reproduction {
                log_index: Some(e.event.log_index),
                generator: g["generator"].as_str().map(|n| capture::Generator::display_name_of(n).to_owned()),
                settings: all.into_iter().filter_map(|(n, v)| Some((n.to_owned(), v?))).collect(),
                complete: missing.is_empty(),
                missing,
            }
        })
        .unwrap_or_else(|| Reproduction {
            missing: vec!["a recorded generation".into()],
            ..Default::default()
        });

    let edits = events
        .iter()
        .enumerate()
        .filter(|(_, e)| e.event.kind == EventKind::Edited)
        .map(|(i, e)| {
            let d = &e.event.data;
            EditFact {
                log_index: e.event.log_index,
                time: e.event.time.clone(),
                tool: d["tool"].as_str().unwrap_or_default().to_owned(),
                description: d["description"].as_str().map(str::to_owned),
                input: d["input"]["name"].as_str().unwrap_or_default().to_owned(),
                input_sha256: d["input"]["sha256"].as_str().map(str::to_owned),
                output: d["output"]["name"].as_str().unwrap_or_default().to_owned(),
                output_sha256: d["output"]["sha256"].as_str().map(str::to_owned),
                in_lineage: lineage.contains(&i),
            }
        })
        .collect();

    let mut models: Vec<(String, Option<String>)> = Vec::new();
    let mut generators: Vec<String> = Vec::new();
    for (_, e) in &generations {
        let Some(g) = generation(e) else { continue };
        let mut add = |name: Option<&str>, hash: Option<&str>| {
            if let Some(n) = name
                && !models.iter().any(|(m, _)| m == n)
            {
                models.push((n.to_owned(), hash.map(str::to_owned)));
            }
        };
        add(g["model"]["name"].as_str(), g["model"]["hash"].as_str());
        for a in g["adapters"].as_array().into_iter().flatten() {
            add(a["name"].as_str(), a["hash"].as_str());
        }
        if let Some(gen_name) =
            g["generator"].as_str().map(|n| capture::Generator::display_name_of(n).to_owned())
            && !generators.contains(&gen_name)
        {
            generators.push(gen_name);
        }
    }

    let sealed_facts = sealed.map(|s| {
        let e = &events[s];
        let d = &e.event.data;
        SealedFacts {
            log_index: e.event.log_index,
            hash: e.hash().to_hex(),
            time: e.event.time.clone(),
            work: d["work"].as_i64(),
            title: d["title"].as_str().unwrap_or_default().to_owned(),
            license: d["license"].as_str().map(str::to_owned),
            source_type: d["source_type"].as_str().map(str::to_owned),
            file: d["file"]["name"].as_str().unwrap_or_default().to_owned(),
            file_sha256: d["file"]["sha256"].as_str().map(str::to_owned),
            visible_label: d["visible_label"].as_str().map(str::to_owned),
        }
    });

    Facts {
        project: events.first().map(|e| e.event.project.clone()).unwrap_or_default(),
        author_key: events.first().map(|e| e.event.author.clone()).unwrap_or_default(),
        first_event: events.first().map(|e| e.event.time.clone()).unwrap_or_default(),
        last_event: events.last().map(|e| e.event.time.clone()).unwrap_or_default(),
        counts: counts(events.iter()),
        lineage_counts: counts(
            events.iter().enumerate().filter(|(i, _)| lineage.contains(i)).map(|(_, e)| e),
        ),
        sealed: sealed_facts,
        nodes,
        edges,
        revisions,
        final_words,
        parameters: table.into_values().collect(),
        selection,
        edits,
        notes: events
            .iter()
            .filter(|e| e.event.kind == EventKind::Note)
            .map(|e| {
                (
                    e.event.log_index,
                    e.event.time.clone(),
                    e.event.data["text"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect(),
        reproduction,
        models,
        generators,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prompt_diff_names_added_and_removed_words() {
        let d = diff("a red fox, forest", "a red fox in snow, forest at dusk");
        let added: Vec<&str> = d.iter().filter(|t| t.op == "added").map(|t| t.text.as_str()).collect();
        assert!(added.contains(&"snow,") && added.contains(&"dusk"), "{d:?}");
        let removed: Vec<&str> = d.iter().filter(|t| t.op == "removed").map(|t| t.text.as_str()).collect();
        assert!(removed.contains(&"fox,"), "{d:?}");
        assert!(diff("same words", "same words").iter().all(|t| t.op == "same"));
    }
}
