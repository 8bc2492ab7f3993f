//! Human-readable run output: the plan before it runs, progress lines on stderr while it
//! runs, and the result table after.

use std::fmt::Write as _;
use std::path::Path;

use tokio::sync::mpsc::UnboundedReceiver;

use crate::playbook::{CallResult, ExecEvent, Plan, RunOutcome, RunStatus, StepRef};
use crate::text::{Column, Table, terminal_width};

/// The plan as text: every target, step and intended AWS call.
pub fn render_plan(plan: &Plan) -> String {
    let mode = if plan.dry_run {
        "DRY RUN (nothing will be changed)".to_owned()
    } else {
        format!("LIVE, incident {}", plan.incident.as_deref().unwrap_or("-"))
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Plan {}: playbook `{}` ({}, sha256 {}) — {mode}",
        plan.run_id,
        plan.playbook.name,
        plan.playbook.origin,
        plan.playbook.sha256.get(..12).unwrap_or_default()
    );
    if !plan.parameters.is_empty() {
        let params: Vec<String> = plan
            .parameters
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let _ = writeln!(out, "  parameters: {}", params.join(", "));
    }
    for target in &plan.targets {
        let _ = writeln!(
            out,
            "  {} {} ({})",
            target.instance_id,
            target.name.as_deref().unwrap_or("-"),
            target.region
        );
        for warning in &target.warnings {
            let _ = writeln!(out, "    warning: {warning}");
        }
        for step in &target.steps {
            let confirm = if step.confirm { " — confirm" } else { "" };
            let _ = writeln!(
                out,
                "    {}. {} [{}]{confirm}",
                step.step, step.name, step.action
            );
            for call in &step.calls {
                let _ = writeln!(
                    out,
                    "       {}:{} {} — {}",
                    call.service, call.operation, call.resource, call.purpose
                );
            }
            for note in &step.notes {
                let _ = writeln!(out, "       note: {note}");
            }
        }
    }
    out
}

/// Prints progress lines for events until the run's sender is dropped.
pub async fn report(mut events: UnboundedReceiver<ExecEvent>) {
    while let Some(event) = events.recv().await {
        if let Some(line) = progress_line(&event) {
            eprintln!("{line}");
        }
    }
}

/// One progress line for an event (`None` for events not worth a line).
pub fn progress_line(event: &ExecEvent) -> Option<String> {
    let who = |at: &StepRef| match &at.target_name {
        Some(name) => format!("[{} {name}]", at.instance_id),
        None => format!("[{}]", at.instance_id),
    };
    Some(match event {
        ExecEvent::StepStarted(at) => {
            format!("{} {}/{} {} …", who(at), at.step, at.steps, at.step_name)
        }
        ExecEvent::CallStarted { .. } => return None,
        ExecEvent::CallFinished { at, call } => {
            let result = match call.result {
                CallResult::Ok => "ok",
                CallResult::WouldSucceed => "would succeed (DryRunOperation)",
                CallResult::Error => "FAILED",
            };
            let id = call
                .request_id
                .as_deref()
                .map(|id| format!(" (request {id})"))
                .unwrap_or_default();
            let error = call
                .error
                .as_deref()
                .map(|e| format!(": {e}"))
                .unwrap_or_default();
            format!(
                "{}     {}:{} {result}{id}{error}",
                who(at),
                call.service,
                call.operation
            )
        }
        ExecEvent::StepFinished { at, result } => format!(
            "{} {}/{} {}: {} — {}",
            who(at),
            at.step,
            at.steps,
            at.step_name,
            result.status.as_str(),
            result.detail
        ),
        ExecEvent::Note { at, level, message } => format!("{}     {level}: {message}", who(at)),
        ExecEvent::Progress { at, message } => format!("{}     {message}", who(at)),
        ExecEvent::Interrupting => "interrupting: no new calls will start".into(),
    })
}

/// The result table: one row per target and step.
pub fn render_outcome(outcome: &RunOutcome) -> String {
    let mut table = Table::new(vec![
        Column::fixed("INSTANCE"),
        Column::shrink("NAME", 6),
        Column::fixed("STEP"),
        Column::shrink("STATUS", 9),
        Column::shrink("DETAIL", 10),
    ]);
    for target in &outcome.targets {
        for step in &target.steps {
            table.row(vec![
                target.instance_id.clone(),
                target.name.clone().unwrap_or_else(|| "-".into()),
                format!("{}/{}", step.step, target.steps.len()),
                step.status.as_str().to_owned(),
                step.detail.clone(),
            ]);
        }
    }
    table.render(terminal_width())
}

/// The last line on stderr: status, run id, and where the evidence is.
pub fn closing_line(plan: &Plan, status: RunStatus, audit: &Path, head: &str) -> String {
    let what = if plan.dry_run { "Dry run" } else { "Run" };
    let next = match status {
        RunStatus::Succeeded => String::new(),
        RunStatus::Failed if plan.dry_run => {
            " Fix what would fail (see above), then run again.".to_owned()
        }
        RunStatus::Failed | RunStatus::Interrupted => format!(
            " Fix the cause, then continue with `breakglass resume {}`.",
            plan.run_id
        ),
        RunStatus::SignInNeeded => format!(
            " The credentials expired: sign in again (`breakglass login`), then continue with \
             `breakglass resume {}`.",
            plan.run_id
        ),
    };
    format!(
        "{what} {} {}.{next} Audit: {} (head {})",
        plan.run_id,
        status.as_str(),
        audit.display(),
        head.get(..16).unwrap_or(head)
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_plan_as_the_responder_reads_it() {
        let (playbook, plan) = crate::playbook::tests::tag_incident_plan();
        let text = super::render_plan(&plan).replace(&playbook.sha256[..12], "<sha256>");
        insta::assert_snapshot!("tag_incident_plan_text", text);
    }
}
