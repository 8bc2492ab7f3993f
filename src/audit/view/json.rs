//! The `audit show --output json` document (version 1): the verification, the run, and its
//! records grouped per target and step. Bodies are passed through unchanged.

use serde::Serialize;
use serde_json::Value;

use super::file::{AuditFile, LoggedRecord, RunView};
use crate::audit::{Problem, RecordKind};

/// The document; new fields may be added within version 1.
#[derive(Debug, Serialize)]
pub struct ShowDocument<'a> {
    pub version: u32,
    pub file: String,
    pub verification: Verification<'a>,
    pub run: RunHeader<'a>,
    /// Per target (in `run_started` order, then as first seen), its records per step.
    pub targets: Vec<TargetRecords<'a>>,
    /// Records of the run as a whole: `run_started`, `run_finished`, notes without a target.
    pub records: Vec<RecordOut<'a>>,
}

#[derive(Debug, Serialize)]
pub struct Verification<'a> {
    pub intact: bool,
    /// Records of the whole log that verify.
    pub records: u64,
    /// Hash of the last record that verifies.
    pub head: Option<&'a str>,
    pub problem: Option<&'a Problem>,
    pub unreadable_lines: &'a [u64],
}

#[derive(Debug, Serialize)]
pub struct RunHeader<'a> {
    pub run_id: &'a str,
    pub incident: Option<&'a str>,
    pub actor: Option<&'a str>,
    pub dry_run: bool,
    pub started: Option<&'a str>,
    pub finished: Option<&'a str>,
    /// The `run_finished` status; null while the run has no such record.
    pub status: Option<&'a Value>,
    /// `playbook` of `run_started` as recorded.
    pub playbook: Option<&'a Value>,
    pub resumed_from: Option<&'a Value>,
    pub first_hash: Option<&'a str>,
    pub last_hash: Option<&'a str>,
    pub record_count: usize,
}

#[derive(Debug, Serialize)]
pub struct TargetRecords<'a> {
    pub target: String,
    pub region: Option<&'a Value>,
    /// The `Name` tag as `run_started` recorded it.
    pub name: Option<&'a Value>,
    pub steps: Vec<StepRecords<'a>>,
    /// Records naming the target but no step.
    pub records: Vec<RecordOut<'a>>,
}

#[derive(Debug, Serialize)]
pub struct StepRecords<'a> {
    pub step: Option<&'a Value>,
    pub step_name: Option<&'a Value>,
    /// The `step_finished` status; null when the step did not finish.
    pub status: Option<&'a Value>,
    pub records: Vec<RecordOut<'a>>,
}

#[derive(Debug, Serialize)]
pub struct RecordOut<'a> {
    pub line: u64,
    pub seq: u64,
    pub ts: &'a str,
    pub kind: &'a str,
    /// False from the first record verification rejected on.
    pub verified: bool,
    pub hash: &'a str,
    pub body: &'a Value,
}

impl<'a> ShowDocument<'a> {
    pub fn new(file_label: &str, file: &'a AuditFile, run: &RunView<'a>) -> ShowDocument<'a> {
        let out = |l: &'a LoggedRecord| RecordOut {
            line: l.line,
            seq: l.record.seq,
            ts: &l.record.ts,
            kind: &l.record.kind,
            verified: run.is_verified(l.line),
            hash: &l.record.hash,
            body: &l.record.body,
        };
        let started = run
            .records
            .iter()
            .find(|l| l.record.kind == RecordKind::RunStarted.as_str());
        let finished = run
            .records
            .iter()
            .find(|l| l.record.kind == RecordKind::RunFinished.as_str());
        let first = run.records.first().map(|l| &l.record);
        let mut targets: Vec<TargetRecords<'a>> = Vec::new();
        let declared = started
            .and_then(|l| l.record.body.get("targets"))
            .and_then(Value::as_array);
        for t in declared.into_iter().flatten() {
            if let Some(id) = t.as_str().or_else(|| t.get("instance_id")?.as_str()) {
                let entry = target_entry(&mut targets, id);
                entry.region = t.get("region");
                entry.name = t.get("name");
            }
        }
        let mut records = Vec::new();
        for &l in &run.records {
            let body = &l.record.body;
            let Some(target) = text_of(body.get("target")) else {
                records.push(out(l));
                continue;
            };
            let entry = target_entry(&mut targets, &target);
            entry.region = entry.region.or(body.get("region"));
            let Some(step) = body.get("step").filter(|s| !s.is_null()) else {
                entry.records.push(out(l));
                continue;
            };
            let index = match entry.steps.iter().position(|s| s.step == Some(step)) {
                Some(i) => i,
                None => {
                    entry.steps.push(StepRecords {
                        step: Some(step),
                        step_name: body.get("step_name"),
                        status: None,
                        records: Vec::new(),
                    });
                    entry.steps.len() - 1
                }
            };
            let group = &mut entry.steps[index];
            if l.record.kind == RecordKind::StepFinished.as_str() {
                group.status = body.get("status");
            }
            group.records.push(out(l));
        }
        let v = &file.verification;
        ShowDocument {
            version: 1,
            file: file_label.to_owned(),
            verification: Verification {
                intact: v.is_intact(),
                records: v.records,
                head: v.head.as_deref(),
                problem: v.problem.as_ref(),
                unreadable_lines: &file.unreadable_lines,
            },
            run: RunHeader {
                run_id: first.map_or("", |r| r.run_id.as_str()),
                incident: first.and_then(|r| r.incident.as_deref()),
                actor: first.and_then(|r| r.actor.as_deref()),
                dry_run: first.is_some_and(|r| r.dry_run),
                started: first.map(|r| r.ts.as_str()),
                finished: finished.map(|l| l.record.ts.as_str()),
                status: finished.and_then(|l| l.record.body.get("status")),
                playbook: started.and_then(|l| l.record.body.get("playbook")),
                resumed_from: started.and_then(|l| l.record.body.get("resumed_from")),
                first_hash: first.map(|r| r.hash.as_str()),
                last_hash: run.records.last().map(|l| l.record.hash.as_str()),
                record_count: run.records.len(),
            },
            targets,
            records,
        }
    }
}

fn target_entry<'a, 'b>(
    targets: &'b mut Vec<TargetRecords<'a>>,
    id: &str,
) -> &'b mut TargetRecords<'a> {
    let index = match targets.iter().position(|t| t.target == id) {
        Some(i) => i,
        None => {
            targets.push(TargetRecords {
                target: id.to_owned(),
                region: None,
                name: None,
                steps: Vec::new(),
                records: Vec::new(),
            });
            targets.len() - 1
        }
    };
    &mut targets[index]
}

/// A target given as a string or (in a newer format) as a number.
fn text_of(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}
