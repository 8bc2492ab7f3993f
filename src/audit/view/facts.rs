//! What a run was, gathered from its records: who ran which playbook against which
//! targets, when, how it ended, and the hashes that pin its records in the chain.

use serde_json::Value;

use super::event::{Event, compact, field};
use super::file::RunView;
use crate::audit::RecordKind;
use crate::text::printable;

/// A target as `run_started` names it (or as first seen in a record).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetFacts {
    pub instance_id: String,
    pub region: Option<String>,
    pub name: Option<String>,
}

/// A record's position in the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordPin {
    pub seq: u64,
    pub line: u64,
    pub hash: String,
}

/// The facts of one run. Texts are sanitized (see [`printable`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunFacts {
    pub run_id: String,
    pub incident: Option<String>,
    pub actor: Option<String>,
    pub dry_run: bool,
    pub playbook_name: Option<String>,
    pub playbook_origin: Option<String>,
    pub playbook_sha256: Option<String>,
    /// `(name, value)`, values as compact JSON unless plain strings.
    pub parameters: Vec<(String, String)>,
    pub targets: Vec<TargetFacts>,
    pub caller_account: Option<String>,
    pub caller_arn: Option<String>,
    pub tool_version: Option<String>,
    pub resumed_from: Option<String>,
    pub started: Option<String>,
    pub finished: Option<String>,
    /// The `run_finished` status; `None` while no such record exists.
    pub status: Option<String>,
    pub summary: Option<String>,
    pub records: usize,
    pub first: Option<RecordPin>,
    pub last: Option<RecordPin>,
}

impl RunFacts {
    pub fn of(run: &RunView<'_>) -> RunFacts {
        let mut facts = RunFacts {
            run_id: printable(&run.run_id),
            records: run.records.len(),
            ..RunFacts::default()
        };
        let pin = |l: &&super::file::LoggedRecord| RecordPin {
            seq: l.record.seq,
            line: l.line,
            hash: printable(&l.record.hash),
        };
        facts.first = run.records.first().map(pin);
        facts.last = run.records.last().map(pin);
        if let Some(first) = run.records.first() {
            let r = &first.record;
            facts.incident = r.incident.as_deref().map(printable);
            facts.actor = r.actor.as_deref().map(printable);
            facts.dry_run = r.dry_run;
            facts.started = Some(printable(&r.ts));
        }
        for logged in &run.records {
            let (kind, body) = (&logged.record.kind, &logged.record.body);
            if kind == RecordKind::RunStarted.as_str() {
                facts.read_run_started(body);
            } else if kind == RecordKind::RunFinished.as_str() {
                facts.finished = Some(printable(&logged.record.ts));
                facts.status = field(body, "status");
                facts.summary = body.get("summary").map(|s| printable(&compact(s)));
            }
            if let Some(target) = field(body, "target")
                && !facts.targets.iter().any(|t| t.instance_id == target)
            {
                facts.targets.push(TargetFacts {
                    instance_id: target,
                    region: field(body, "region"),
                    name: None,
                });
            }
        }
        facts
    }

    fn read_run_started(&mut self, body: &Value) {
        if let Some(playbook) = body.get("playbook") {
            if let Value::String(name) = playbook {
                self.playbook_name = Some(printable(name));
            } else {
                self.playbook_name = field(playbook, "name");
                self.playbook_origin = field(playbook, "origin");
                self.playbook_sha256 = field(playbook, "sha256");
            }
        }
        if let Some(Value::Object(params)) = body.get("parameters") {
            self.parameters = params
                .iter()
                .map(|(k, v)| {
                    let value = match v {
                        Value::String(s) => printable(s),
                        v => printable(&compact(v)),
                    };
                    (printable(k), value)
                })
                .collect();
        }
        for target in body
            .get("targets")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let facts = match target {
                Value::String(id) => TargetFacts {
                    instance_id: printable(id),
                    region: None,
                    name: None,
                },
                t => TargetFacts {
                    instance_id: field(t, "instance_id").unwrap_or_else(|| printable(&compact(t))),
                    region: field(t, "region"),
                    name: field(t, "name"),
                },
            };
            if !self
                .targets
                .iter()
                .any(|t| t.instance_id == facts.instance_id)
            {
                self.targets.push(facts);
            }
        }
        if let Some(caller) = body.get("caller") {
            self.caller_account = field(caller, "account");
            self.caller_arn = field(caller, "arn");
        }
        self.tool_version = field(body, "tool_version");
        self.resumed_from = field(body, "resumed_from");
    }

    /// `live` or `dry run`.
    pub fn mode(&self) -> &'static str {
        if self.dry_run { "dry run" } else { "live" }
    }

    /// The playbook as one line: `isolate (builtin)`.
    pub fn playbook_label(&self) -> Option<String> {
        let name = self.playbook_name.clone()?;
        Some(match &self.playbook_origin {
            Some(origin) => format!("{name} ({origin})"),
            None => name,
        })
    }

    /// A target as one line: `i-0abc (ss-prod-1, eu-west-1)`.
    pub fn target_label(target: &TargetFacts) -> String {
        let extra: Vec<&str> = [target.name.as_deref(), target.region.as_deref()]
            .into_iter()
            .flatten()
            .collect();
        if extra.is_empty() {
            target.instance_id.clone()
        } else {
            format!("{} ({})", target.instance_id, extra.join(", "))
        }
    }

    /// How the run ended, or why there is no end.
    pub fn status_label(&self) -> String {
        match &self.status {
            Some(status) => status.clone(),
            None => "unfinished: no run_finished record (still running, crashed, or the log \
                     was cut short; see `breakglass resume`)"
                .into(),
        }
    }
}

/// Step statuses of one target counted: `2 succeeded, 1 failed`.
pub fn step_tally(events: &[Event], target: &str) -> String {
    let mut counts: Vec<(String, usize)> = Vec::new();
    for e in events.iter().filter(|e| {
        e.kind == RecordKind::StepFinished.as_str() && e.target.as_deref() == Some(target)
    }) {
        let status = e.result.clone().unwrap_or_else(|| "unknown".into());
        match counts.iter_mut().find(|(s, _)| *s == status) {
            Some((_, n)) => *n += 1,
            None => counts.push((status, 1)),
        }
    }
    if counts.is_empty() {
        return "no step finished".into();
    }
    counts
        .iter()
        .map(|(s, n)| format!("{n} {s}"))
        .collect::<Vec<_>>()
        .join(", ")
}
