//! The chain-of-custody report of one run, built as a format-neutral document that
//! [`markdown`](super::markdown) and [`html`](super::html) render. Every value in it is
//! plain text; escaping for the output format is the renderer's job.

use super::event::Event;
use super::facts::{RunFacts, step_tally};
use super::file::{AuditFile, RunView};
use crate::audit::RecordKind;

/// Where and by what the report was made; kept out of the log-derived facts so a
/// report of the same log can be reproduced byte for byte.
#[derive(Debug, Clone)]
pub struct ReportContext {
    pub log_path: String,
    pub generated_at: String,
    pub generator: String,
}

/// A report: a title, an alert when the log failed verification, and sections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub title: String,
    /// Lines shown first and loudly; empty when the log verified.
    pub alert: Vec<String>,
    pub sections: Vec<Section>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub heading: &'static str,
    pub blocks: Vec<Block>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// Label / value pairs.
    Facts(Vec<(&'static str, Cell)>),
    Table {
        headers: Vec<&'static str>,
        rows: Vec<Vec<Cell>>,
    },
    Paragraph(String),
    Bullets(Vec<String>),
}

/// A value; `code` ones (hashes, ids, operations) are set in a fixed-width font when
/// their text allows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cell {
    pub text: String,
    pub code: bool,
}

impl Cell {
    fn text(text: impl Into<String>) -> Cell {
        Cell {
            text: text.into(),
            code: false,
        }
    }

    fn code(text: impl Into<String>) -> Cell {
        Cell {
            text: text.into(),
            code: true,
        }
    }

    fn opt(text: Option<&String>, code: bool) -> Cell {
        Cell {
            text: text.cloned().unwrap_or_default(),
            code,
        }
    }
}

/// Builds the report of `run`.
pub fn build(ctx: &ReportContext, file: &AuditFile, run: &RunView<'_>) -> Document {
    let verdict = file.verdict();
    let facts = RunFacts::of(run);
    let events = Event::all(run);
    let mut alert = Vec::new();
    if !verdict.intact {
        alert.push("AUDIT LOG FAILED VERIFICATION".to_owned());
        alert.push(verdict.headline.clone());
        alert.extend(verdict.details.iter().cloned());
        alert.push("Timeline entries marked NO under Verified cannot be trusted.".to_owned());
    }
    let mut sections = vec![
        run_section(ctx, &facts),
        targets_section(&facts, &events),
        steps_section(&events),
        timeline_section(&events, !verdict.intact),
        findings_section(&events),
        verification_section(file, &facts, &verdict, &events),
        proof_section(&facts, file),
    ];
    if !facts.parameters.is_empty() {
        let rows = facts
            .parameters
            .iter()
            .map(|(k, v)| vec![Cell::code(k.clone()), Cell::text(v.clone())])
            .collect();
        sections.insert(
            1,
            Section {
                heading: "Parameters",
                blocks: vec![Block::Table {
                    headers: vec!["Name", "Value"],
                    rows,
                }],
            },
        );
    }
    Document {
        title: format!("Chain-of-custody report: run {}", facts.run_id),
        alert,
        sections,
    }
}

fn run_section(ctx: &ReportContext, facts: &RunFacts) -> Section {
    let none = || Cell::text("(not recorded)");
    let mut rows = vec![
        (
            "Incident",
            facts.incident.clone().map_or_else(none, Cell::text),
        ),
        ("Run id", Cell::code(facts.run_id.clone())),
        ("Mode", Cell::text(facts.mode())),
        ("Actor", facts.actor.clone().map_or_else(none, Cell::code)),
    ];
    let optional = [
        ("Caller account", facts.caller_account.as_ref(), true),
        (
            "Caller ARN",
            facts
                .caller_arn
                .as_ref()
                .filter(|&a| Some(a) != facts.actor.as_ref()),
            true,
        ),
        ("Playbook", facts.playbook_name.as_ref(), false),
        ("Playbook origin", facts.playbook_origin.as_ref(), false),
        ("Playbook SHA-256", facts.playbook_sha256.as_ref(), true),
        ("Resumed from run", facts.resumed_from.as_ref(), true),
        ("Tool version", facts.tool_version.as_ref(), false),
        ("Started", facts.started.as_ref(), false),
        ("Finished", facts.finished.as_ref(), false),
    ];
    for (label, value, code) in optional {
        if value.is_some() {
            rows.push((label, Cell::opt(value, code)));
        }
    }
    rows.push(("Status", Cell::text(facts.status_label())));
    if let Some(summary) = &facts.summary {
        rows.push(("Summary", Cell::text(summary.clone())));
    }
    rows.push(("Audit log", Cell::text(ctx.log_path.clone())));
    rows.push((
        "Report generated",
        Cell::text(format!("{} by {}", ctx.generated_at, ctx.generator)),
    ));
    Section {
        heading: "Run",
        blocks: vec![Block::Facts(rows)],
    }
}

fn targets_section(facts: &RunFacts, events: &[Event]) -> Section {
    let block = if facts.targets.is_empty() {
        Block::Paragraph("No targets recorded.".into())
    } else {
        Block::Table {
            headers: vec!["Instance", "Name", "Region", "Steps"],
            rows: facts
                .targets
                .iter()
                .map(|t| {
                    vec![
                        Cell::code(t.instance_id.clone()),
                        Cell::opt(t.name.as_ref(), false),
                        Cell::opt(t.region.as_ref(), false),
                        Cell::text(step_tally(events, &t.instance_id)),
                    ]
                })
                .collect(),
        }
    };
    Section {
        heading: "Targets",
        blocks: vec![block],
    }
}

fn steps_section(events: &[Event]) -> Section {
    let rows: Vec<Vec<Cell>> = events
        .iter()
        .filter(|e| e.kind == RecordKind::StepFinished.as_str())
        .map(|e| {
            vec![
                Cell::opt(e.target.as_ref(), true),
                Cell::opt(e.step.as_ref(), false),
                Cell::opt(e.action.as_ref(), false),
                Cell::opt(e.result.as_ref(), false),
                Cell::opt(e.detail.as_ref(), false),
            ]
        })
        .collect();
    let block = if rows.is_empty() {
        Block::Paragraph("No step finished.".into())
    } else {
        Block::Table {
            headers: vec!["Target", "Step", "Action", "Status", "Detail"],
            rows,
        }
    };
    Section {
        heading: "Step results",
        blocks: vec![block],
    }
}

fn timeline_section(events: &[Event], mark_untrusted: bool) -> Section {
    let mut headers = vec![
        "Time (UTC)",
        "Seq",
        "Kind",
        "Target",
        "Step",
        "Operation",
        "Result",
        "Request id",
        "Detail",
    ];
    if mark_untrusted {
        headers.push("Verified");
    }
    let rows = events
        .iter()
        .map(|e| {
            let mut row = vec![
                Cell::text(e.ts.clone()),
                Cell::text(e.seq.to_string()),
                Cell::code(e.kind.clone()),
                Cell::opt(e.target.as_ref(), true),
                Cell::opt(e.step.as_ref(), false),
                Cell::opt(e.operation.as_ref(), true),
                Cell::opt(e.result.as_ref(), false),
                Cell::opt(e.request_id.as_ref(), true),
                Cell::opt(e.detail.as_ref(), false),
            ];
            if mark_untrusted {
                row.push(Cell::text(if e.verified { "yes" } else { "NO" }));
            }
            row
        })
        .collect();
    Section {
        heading: "Timeline",
        blocks: vec![Block::Table { headers, rows }],
    }
}

fn findings_section(events: &[Event]) -> Section {
    let findings: Vec<String> = events
        .iter()
        .filter(|e| {
            e.kind == RecordKind::Note.as_str()
                || (e.kind == RecordKind::Outcome.as_str() && e.result.as_deref() == Some("error"))
        })
        .map(|e| {
            let level = e.result.as_deref().unwrap_or("note");
            let mut place: Vec<String> = e.target.iter().cloned().collect();
            place.extend(e.step.as_ref().map(|s| format!("step {s}")));
            place.extend(e.operation.clone());
            let place = if place.is_empty() {
                String::new()
            } else {
                format!(" ({})", place.join(", "))
            };
            let detail = e.detail.as_deref().unwrap_or("(no message)");
            format!("{level} at {} seq {}{place}: {detail}", e.ts, e.seq)
        })
        .collect();
    let block = if findings.is_empty() {
        Block::Paragraph("None recorded.".into())
    } else {
        Block::Bullets(findings)
    };
    Section {
        heading: "Findings and notes",
        blocks: vec![block],
    }
}

fn verification_section(
    file: &AuditFile,
    facts: &RunFacts,
    verdict: &super::file::Verdict,
    events: &[Event],
) -> Section {
    let mut result = verdict.headline.clone();
    for detail in &verdict.details {
        result.push_str("; ");
        result.push_str(detail);
    }
    let mut rows = vec![
        ("Result", Cell::text(result)),
        (
            "Records of the log that verify",
            Cell::text(file.verification.records.to_string()),
        ),
    ];
    if let (Some(first), Some(last)) = (&facts.first, &facts.last) {
        rows.push((
            "Records of this run",
            Cell::text(format!(
                "{} (seq {}–{}, lines {}–{})",
                facts.records, first.seq, last.seq, first.line, last.line
            )),
        ));
        let untrusted = events.iter().filter(|e| !e.verified).count();
        if untrusted > 0 {
            rows.push((
                "Untrusted records of this run",
                Cell::text(untrusted.to_string()),
            ));
        }
        rows.push((
            "First record hash of this run",
            Cell::code(first.hash.clone()),
        ));
        rows.push((
            "Last record hash of this run",
            Cell::code(last.hash.clone()),
        ));
    }
    rows.push((
        "Log head hash (last verified record)",
        file.verification
            .head
            .as_deref()
            .map_or_else(|| Cell::text("(no record verifies)"), Cell::code),
    ));
    Section {
        heading: "Verification",
        blocks: vec![
            Block::Facts(rows),
            Block::Paragraph(
                "Anchor the log head hash somewhere the log's writers cannot change, such as \
                 the incident ticket; breakglass audit verify --anchor HASH then shows \
                 whether records were later cut off the end of the log."
                    .into(),
            ),
        ],
    }
}

fn proof_section(facts: &RunFacts, file: &AuditFile) -> Section {
    let mut paragraphs = vec![
        "What this proves: when the chain is intact, every record above is exactly as \
         breakglass wrote it, in its original order, with nothing removed or inserted between \
         records — unless someone with write access to the log rebuilt the whole chain from \
         some point on, which the chain alone cannot reveal. A copy of the log head hash kept \
         elsewhere, or the same records in an external sink, closes that gap; it is also the \
         only way to notice whole records cut off the end of the log."
            .to_owned(),
        "What it does not prove: that the AWS calls happened as described, or that nothing \
         else happened. Intent records say what breakglass was about to do and outcome \
         records what AWS answered; look the request ids up in CloudTrail to confirm each \
         call independently. Changes made outside breakglass are not in this log, and times \
         come from the clock of the machine that ran it."
            .to_owned(),
    ];
    if facts.dry_run {
        paragraphs.push(
            "This was a dry run: changes were checked (EC2 calls sent with DryRun) and \
             nothing was changed."
                .into(),
        );
    }
    if let Some(problem) = &file.verification.problem {
        paragraphs.push(format!(
            "Verification failed, so only records before line {} can be relied on; later \
             ones are reported for investigation only.",
            problem.line
        ));
    }
    Section {
        heading: "What this proves, and what it does not",
        blocks: paragraphs.into_iter().map(Block::Paragraph).collect(),
    }
}
