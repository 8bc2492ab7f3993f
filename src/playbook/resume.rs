//! Reading an earlier run back from the audit log so `breakglass resume` can continue it:
//! the exact playbook text, parameters, incident and targets, and which steps completed.

use std::collections::{BTreeMap, HashSet};
use std::io::BufRead;

use serde::Deserialize;

use super::model::ParamValue;
use crate::audit::{AuditRecord, RecordKind};

/// What the audit log says about a run.
#[derive(Debug, Clone, PartialEq)]
pub struct PriorRun {
    pub run_id: String,
    pub playbook_name: String,
    pub playbook_origin: String,
    pub playbook_sha256: String,
    pub playbook_text: String,
    pub parameters: BTreeMap<String, ParamValue>,
    pub incident: Option<String>,
    pub dry_run: bool,
    pub account: String,
    /// `(instance id, region)` in plan order.
    pub targets: Vec<(String, String)>,
    /// `(instance id, step)` whose last `step_finished` was succeeded or already_done.
    pub done: HashSet<(String, usize)>,
    /// Status of the last `run_finished`, if any attempt finished.
    pub finished: Option<String>,
}

#[derive(Deserialize)]
struct StartedBody {
    playbook: PlaybookBody,
    parameters: BTreeMap<String, ParamValue>,
    targets: Vec<TargetBody>,
    caller: CallerBody,
}

#[derive(Deserialize)]
struct PlaybookBody {
    name: String,
    origin: String,
    sha256: String,
    text: String,
}

#[derive(Deserialize)]
struct TargetBody {
    instance_id: String,
    region: String,
}

#[derive(Deserialize)]
struct CallerBody {
    account: String,
}

#[derive(Deserialize)]
struct StepBody {
    target: String,
    step: usize,
    status: String,
}

#[derive(Deserialize)]
struct FinishedBody {
    status: String,
}

/// Reads the records of `run_id` (the log must already have verified). `Ok(None)` when
/// the log has no such run; `Err` when its records are not what this version writes.
pub fn find_run(reader: impl BufRead, run_id: &str) -> Result<Option<PriorRun>, String> {
    let mut prior: Option<PriorRun> = None;
    for (i, line) in reader.lines().enumerate() {
        let line = line.map_err(|e| format!("cannot read line {}: {e}", i + 1))?;
        if line.trim().is_empty() {
            continue;
        }
        let record: AuditRecord =
            serde_json::from_str(&line).map_err(|e| format!("line {}: {e}", i + 1))?;
        if record.run_id != run_id {
            continue;
        }
        let bad = |e: serde_json::Error| format!("line {}: unexpected {}: {e}", i + 1, record.kind);
        match record.kind.as_str() {
            k if k == RecordKind::RunStarted.as_str() && prior.is_none() => {
                let body: StartedBody = serde_json::from_value(record.body.clone()).map_err(bad)?;
                prior = Some(PriorRun {
                    run_id: run_id.to_owned(),
                    playbook_name: body.playbook.name,
                    playbook_origin: body.playbook.origin,
                    playbook_sha256: body.playbook.sha256,
                    playbook_text: body.playbook.text,
                    parameters: body.parameters,
                    incident: record.incident.clone(),
                    dry_run: record.dry_run,
                    account: body.caller.account,
                    targets: body
                        .targets
                        .into_iter()
                        .map(|t| (t.instance_id, t.region))
                        .collect(),
                    done: HashSet::new(),
                    finished: None,
                });
            }
            k if k == RecordKind::StepFinished.as_str() => {
                let body: StepBody = serde_json::from_value(record.body.clone()).map_err(bad)?;
                if let Some(prior) = &mut prior {
                    let key = (body.target, body.step);
                    match body.status.as_str() {
                        "succeeded" | "already_done" => {
                            prior.done.insert(key);
                        }
                        // "skipped" on resume means done earlier: keep what we know.
                        "skipped" => {}
                        _ => {
                            prior.done.remove(&key);
                        }
                    }
                }
            }
            k if k == RecordKind::RunFinished.as_str() => {
                let body: FinishedBody =
                    serde_json::from_value(record.body.clone()).map_err(bad)?;
                if let Some(prior) = &mut prior {
                    prior.finished = Some(body.status);
                }
            }
            _ => {}
        }
    }
    Ok(prior)
}
