//! For each standard a court or office has applied to AI-assisted images, the facts from the
//! journal that bear on it and what such a decision asked for that the journal does not
//! hold. Stated neutrally: no verdict, no score.

use serde::Serialize;

use crate::Integrity;
use crate::facts::Facts;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Jurisdiction {
    Cn,
    Us,
    Eu,
}

impl Jurisdiction {
    pub const ALL: [Jurisdiction; 3] = [Jurisdiction::Cn, Jurisdiction::Us, Jurisdiction::Eu];

    pub fn name(self) -> &'static str {
        match self {
            Jurisdiction::Cn => "China",
            Jurisdiction::Us => "United States",
            Jurisdiction::Eu => "European Union",
        }
    }
}

/// One standard, with the facts that bear on it.
#[derive(Clone, Debug, Serialize)]
pub struct Criterion {
    /// The standard, in the words of the decisions that applied it.
    pub standard: &'static str,
    /// Where it comes from.
    pub sources: &'static str,
    pub facts: Vec<String>,
    /// What a decision asked for that the journal does not show.
    pub missing: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Assessment {
    pub jurisdiction: Jurisdiction,
    pub name: &'static str,
    pub criteria: Vec<Criterion>,
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn varied(f: &Facts) -> Vec<String> {
    f.parameters
        .iter()
        .filter(|p| p.values.len() > 1)
        .map(|p| format!("{} ({} values)", p.name, p.values.len()))
        .collect()
}

fn input(f: &Facts) -> Criterion {
    let c = &f.counts;
    let mut facts = vec![
        format!(
            "{} recorded between {} and {}",
            plural(c.generations, "generation", "generations"),
            f.first_event,
            f.last_event
        ),
        format!(
            "{} (word-level diffs in this report)",
            plural(c.prompt_revisions, "prompt revision", "prompt revisions")
        ),
    ];
    if !f.models.is_empty() {
        facts.push(format!(
            "models and adapters chosen: {}",
            f.models.iter().map(|(m, _)| m.as_str()).collect::<Vec<_>>().join(", ")
        ));
    }
    let varied = varied(f);
    if !varied.is_empty() {
        facts.push(format!("settings varied between generations: {}", varied.join(", ")));
    }
    facts.push(format!(
        "{} of {} candidates, {}",
        plural(f.selection.selected, "selection", "selections"),
        f.selection.candidates,
        plural(f.selection.rejected, "rejection", "rejections")
    ));
    let mut missing = Vec::new();
    if c.prompt_revisions == 0 {
        missing.push("no prompt revision: the journal shows one prompt, used as written".into());
    }
    if f.selection.selected == 0 {
        missing.push("no recorded selection among candidates".into());
    }
    if varied.is_empty() && c.generations > 0 {
        missing.push("no setting was varied between generations".into());
    }
    Criterion {
        standard: "Intellectual input from conception to final selection: choosing the model, writing and \
                   ordering prompts, setting parameters, selecting the output",
        sources: "Beijing Internet Court, Li v. Liu (2023); Changshu court (2025); Beijing Internet Court (Sep 2025)",
        facts,
        missing,
    }
}

fn reproduction(f: &Facts) -> Criterion {
    let r = &f.reproduction;
    let mut facts = Vec::new();
    if let Some(i) = r.log_index {
        facts.push(format!(
            "the final generation (event {i}, {}) records: {}",
            r.generator.as_deref().unwrap_or("unknown generator"),
            r.settings.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>().join(", ")
        ));
    }
    Criterion {
        standard: "The claimant can reproduce the image, or explain how it was made, from original records",
        sources: "Zhangjiagang court (2025); Beijing Internet Court (Sep 2025)",
        facts,
        missing: r.missing.iter().map(|m| format!("the final generation does not record its {m}")).collect(),
    }
}

fn records(f: &Facts, i: &Integrity) -> Criterion {
    let mut facts = vec![format!(
        "{} each signed with Ed25519 and hash-chained as it happened, the first at {}",
        plural(f.counts.events, "event", "events"),
        f.first_event
    )];
    facts.push(if i.journal_verified {
        "the journal verified when this report was made: every signature, chain link and Merkle root".into()
    } else {
        "the journal did NOT verify when this report was made (see Integrity)".into()
    });
    let mut missing = Vec::new();
    match &i.timestamp {
        Some(t) => facts.push(format!("an RFC 3161 timestamp fixes the log of {} events at {}", t.0, t.1)),
        None => {
            missing.push("no trusted (RFC 3161) timestamp over the journal: run handprint timestamp".into())
        }
    }
    Criterion {
        standard: "Authenticity of electronic data: contemporaneous records, electronic signatures, trusted \
                   timestamps, hash checks; a re-creation after the dispute is not evidence",
        sources: "Supreme People's Court rules for internet courts (2018), Art. 11; Beijing Internet Court (Sep 2025)",
        facts,
        missing,
    }
}

fn edits(f: &Facts) -> Criterion {
    let facts: Vec<String> = f
        .edits
        .iter()
        .map(|e| {
            format!(
                "{}: {} made {} into {}{}{}",
                e.time,
                e.tool,
                e.input,
                e.output,
                e.description.as_ref().map(|d| format!(" — {d}")).unwrap_or_default(),
                if e.in_lineage { " (leads to the sealed image)" } else { "" }
            )
        })
        .collect();
    let missing = if facts.is_empty() { vec!["no manual edit recorded".into()] } else { vec![] };
    Criterion {
        standard: "Creative modifications by a person, and the selection, coordination and arrangement of \
                   material; prompts alone, however many, do not give control over expression",
        sources: "US Copyright Office: Zarya of the Dawn (2023), Copyright and AI Part 2 (Jan 2025), \
                  A Single Piece of American Cheese (2025)",
        facts,
        missing,
    }
}

fn disclosure(f: &Facts) -> Criterion {
    let mut facts = vec![format!(
        "the journal names the generators ({}) of {}",
        if f.generators.is_empty() { "none".into() } else { f.generators.join(", ") },
        plural(f.counts.generations, "generation", "generations")
    )];
    let mut missing = Vec::new();
    match &f.sealed {
        Some(s) => {
            facts.push(format!(
                "sealed as {} with the digital source type {}",
                s.title,
                s.source_type.as_deref().and_then(|t| t.rsplit('/').next()).unwrap_or("unstated")
            ));
            if let Some(l) = &s.visible_label {
                facts.push(format!("the visible label {l:?} was drawn on the sealed image"));
            }
        }
        None => missing.push("the work is not sealed: no Content Credentials or labels".into()),
    }
    Criterion {
        standard: "AI-generated material is disclosed: disclaimers of AI material beyond de minimis; \
                   explicit and implicit labels; honesty about AI use",
        sources: "US Copyright Office Review Board, Théâtre D'opéra Spatial (2023); GB 45438-2025; \
                  Beijing Internet Court (Nov 2025)",
        facts,
        missing,
    }
}

fn human_author(f: &Facts) -> Criterion {
    Criterion {
        standard: "The author is a natural person; a prompt alone is an idea",
        sources: "US, Thaler v. Perlmutter (2025); Prague Municipal Court (2023)",
        facts: vec![format!(
            "every event is signed by one key ({}…), bound to the author by the identity's certificate",
            f.author_key.chars().take(12).collect::<String>()
        )],
        missing: vec![],
    }
}

fn marking(f: &Facts) -> Criterion {
    let (facts, missing) = match &f.sealed {
        Some(s) => (
            vec![format!(
                "work {} carries an invisible watermark with its ID, C2PA Content Credentials and the AIGC label",
                s.work.map(|w| w.to_string()).unwrap_or_default()
            )],
            vec![],
        ),
        None => (vec![], vec!["not sealed: no machine-readable marking".into()]),
    };
    Criterion {
        standard: "Outputs are marked in a machine-readable, robust, interoperable way",
        sources: "EU AI Act, Art. 50(2) (from Aug 2026)",
        facts,
        missing,
    }
}

/// The assessment for `jurisdictions`.
pub fn assess(f: &Facts, integrity: &Integrity, jurisdictions: &[Jurisdiction]) -> Vec<Assessment> {
    jurisdictions
        .iter()
        .map(|&j| Assessment {
            jurisdiction: j,
            name: j.name(),
            criteria: match j {
                Jurisdiction::Cn => vec![input(f), reproduction(f), records(f, integrity), disclosure(f)],
                Jurisdiction::Us => vec![human_author(f), edits(f), input(f), disclosure(f)],
                Jurisdiction::Eu => vec![human_author(f), input(f), marking(f)],
            },
        })
        .collect()
}
