//! The executor loop: targets concurrently (bounded), each target's steps in order, every
//! step's start and end recorded; the only code path that leads to AWS side effects.

use std::collections::{BTreeMap, HashSet};

use futures::StreamExt;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::events::{
    ExecEvent, RunStatus, StepError, StepRef, StepReport, StepResult, StepStatus, TargetReport,
};
use super::recorder::Recorder;
use super::step::StepCtx;
use crate::audit::{AuditError, RecordKind};
use crate::aws::{AwsContext, CallerIdentity};
use crate::playbook::actions;
use crate::playbook::model::Playbook;
use crate::playbook::plan::{Plan, TargetPlan};

/// How to run a plan.
#[derive(Debug, Clone)]
pub struct ExecOptions {
    /// Targets worked on at the same time.
    pub concurrency: usize,
    /// `(instance id, step)` pairs completed in an earlier attempt of this run (resume).
    pub done_before: HashSet<(String, usize)>,
    /// Set on Ctrl-C: calls in flight finish and are recorded, nothing new starts.
    pub cancel: CancellationToken,
    /// Set when this continues an earlier attempt of the same run.
    pub resumed: bool,
    /// Targets that cannot be worked on (e.g. gone): each is recorded and fails on its
    /// own while the others run.
    pub missing: Vec<crate::inventory::TargetError>,
}

/// The result of a run.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    pub status: RunStatus,
    pub targets: Vec<TargetReport>,
}

/// Runs `plan`, writing `run_started` first and `run_finished` last.
///
/// An `Err` means the audit log failed: the run stopped at that point, and no call was
/// made after the last record that was written.
pub async fn execute(
    plan: &Plan,
    playbook: &Playbook,
    caller: &CallerIdentity,
    aws: &AwsContext,
    recorder: &Recorder,
    options: &ExecOptions,
) -> Result<RunOutcome, AuditError> {
    recorder.record(
        RecordKind::RunStarted,
        run_started_body(plan, playbook, caller, options),
    )?;
    for missing in &options.missing {
        recorder.record(
            RecordKind::Note,
            json!({ "level": "error", "target": missing.target, "message": missing.message }),
        )?;
    }
    let reports: Vec<(usize, Result<TargetReport, AuditError>)> =
        futures::stream::iter(plan.targets.iter().enumerate())
            .map(|(i, target)| async move {
                let report = run_target(target, aws, recorder, options).await;
                if report.is_err() {
                    // The audit log is unusable: stop every other target too.
                    options.cancel.cancel();
                }
                (i, report)
            })
            .buffer_unordered(options.concurrency.max(1))
            .collect()
            .await;
    let mut ordered: Vec<Option<TargetReport>> = vec![None; plan.targets.len()];
    let mut audit_failure = None;
    for (i, report) in reports {
        match report {
            Ok(report) => ordered[i] = Some(report),
            Err(err) => audit_failure = audit_failure.or(Some(err)),
        }
    }
    if let Some(err) = audit_failure {
        return Err(err);
    }
    let mut targets: Vec<TargetReport> = ordered.into_iter().flatten().collect();
    targets.extend(options.missing.iter().map(|missing| TargetReport {
        instance_id: missing.target.clone(),
        region: String::new(),
        name: None,
        status: RunStatus::Failed,
        steps: Vec::new(),
        error: Some(missing.message.clone()),
    }));
    let status = overall(targets.iter().map(|t| t.status));
    recorder.record(
        RecordKind::RunFinished,
        json!({ "status": status.as_str(), "summary": summary(&targets) }),
    )?;
    Ok(RunOutcome { status, targets })
}

fn run_started_body(
    plan: &Plan,
    playbook: &Playbook,
    caller: &CallerIdentity,
    options: &ExecOptions,
) -> serde_json::Value {
    let mut body = json!({
        "playbook": {
            "name": playbook.name,
            "origin": playbook.origin,
            "sha256": playbook.sha256,
            "text": playbook.text,
        },
        "parameters": plan.parameters,
        "targets": plan.targets.iter().map(|t| json!({
            "instance_id": t.instance_id,
            "region": t.region,
            "name": t.name,
        })).collect::<Vec<_>>(),
        "caller": { "account": caller.account, "arn": caller.arn },
        "tool_version": env!("CARGO_PKG_VERSION"),
        "plan": plan,
    });
    if options.resumed {
        body["resumed_from"] = json!(plan.run_id);
    }
    body
}

async fn run_target(
    target: &TargetPlan,
    aws: &AwsContext,
    recorder: &Recorder,
    options: &ExecOptions,
) -> Result<TargetReport, AuditError> {
    let mut stopped: Option<String> = None;
    let mut status = RunStatus::Succeeded;
    let mut steps = Vec::new();
    for step in &target.steps {
        let at = StepRef {
            instance_id: target.instance_id.clone(),
            target_name: target.name.clone(),
            step: step.step,
            steps: target.steps.len(),
            step_name: step.name.clone(),
        };
        let ctx = StepCtx {
            recorder,
            aws,
            cancel: &options.cancel,
            target,
            step,
            info: step.info,
            at: at.clone(),
            calls: std::sync::Mutex::new(Vec::new()),
        };
        let result = if options
            .done_before
            .contains(&(target.instance_id.clone(), step.step))
        {
            StepResult::new(
                StepStatus::Skipped,
                "completed in an earlier attempt of this run",
            )
        } else if let Some(reason) = &stopped {
            status = status.max_severity(RunStatus::Failed);
            StepResult::new(StepStatus::Skipped, reason.clone())
        } else if options.cancel.is_cancelled() {
            status = status.max_severity(RunStatus::Interrupted);
            StepResult::new(
                StepStatus::Skipped,
                "the run was interrupted before this step",
            )
        } else {
            recorder.emit(ExecEvent::StepStarted(at.clone()));
            let dry_run = recorder.meta().dry_run;
            match execute_step(&ctx, &step.args, &options.cancel).await {
                Ok(result) => result,
                Err(StepError::Audit(err)) => return Err(err),
                Err(StepError::Interrupted) => StepResult::new(
                    StepStatus::Interrupted,
                    "interrupted (Ctrl-C) before the next call; `breakglass resume` finishes it",
                ),
                Err(StepError::Aws(err)) if err.kind().needs_sign_in() => {
                    // Nothing more can be sent: stop every target between calls.
                    options.cancel.cancel();
                    status = status.max_severity(RunStatus::SignInNeeded);
                    StepResult::new(
                        StepStatus::Interrupted,
                        format!(
                            "stopped before the call: {err} — sign in again, then `breakglass \
                             resume` finishes it"
                        ),
                    )
                }
                Err(StepError::Aws(err)) => StepResult::new(
                    if dry_run {
                        StepStatus::WouldFail
                    } else {
                        StepStatus::Failed
                    },
                    err.to_string(),
                ),
                Err(StepError::Failed(reason)) => StepResult::new(
                    if dry_run {
                        StepStatus::WouldFail
                    } else {
                        StepStatus::Failed
                    },
                    reason,
                ),
            }
        };
        match result.status {
            StepStatus::Interrupted => status = status.max_severity(RunStatus::Interrupted),
            StepStatus::Failed | StepStatus::WouldFail => {
                status = status.max_severity(RunStatus::Failed);
                if step.on_error == crate::playbook::OnError::Abort {
                    stopped = Some(format!(
                        "step {} failed and its `on_error` is `abort`",
                        step.step
                    ));
                }
            }
            _ => {}
        }
        let mut body = ctx.step_body();
        body["status"] = json!(result.status);
        body["detail"] = json!(result.detail);
        recorder.record(RecordKind::StepFinished, body)?;
        recorder.emit(ExecEvent::StepFinished {
            at,
            result: result.clone(),
        });
        steps.push(StepReport {
            step: step.step,
            name: step.name.clone(),
            action: step.action,
            status: result.status,
            detail: result.detail,
            calls: ctx
                .calls
                .into_inner()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        });
    }
    Ok(TargetReport {
        instance_id: target.instance_id.clone(),
        region: target.region.clone(),
        name: target.name.clone(),
        status,
        steps,
        error: None,
    })
}

/// Executes a step; when a call's answer was lost (it may have been made), runs the step
/// once more. Every action reads AWS before it changes anything, as `resume` relies on, so
/// the second run finds what the first made and goes on from there. See `aws::retry`.
async fn execute_step(
    ctx: &StepCtx<'_>,
    args: &actions::ResolvedAction,
    cancel: &CancellationToken,
) -> Result<StepResult, StepError> {
    let first = actions::execute(ctx, args).await;
    let Err(StepError::Aws(err)) = &first else {
        return first;
    };
    if !err.answer_lost || cancel.is_cancelled() {
        return first;
    }
    ctx.note(
        "warning",
        format!(
            "{}:{} got no answer ({}): it may have been made; reading AWS again and going on \
             (what was made is not made again)",
            err.service,
            err.operation,
            err.message.as_deref().unwrap_or("no answer")
        ),
    )?;
    // Nothing left to do on the second pass means the first pass made it: this step did.
    actions::execute(ctx, args)
        .await
        .map(|result| match result.status {
            StepStatus::AlreadyDone => StepResult::new(StepStatus::Succeeded, result.detail),
            _ => result,
        })
}

impl RunStatus {
    /// The worse of two statuses: interrupted > failed > succeeded.
    fn max_severity(self, other: RunStatus) -> RunStatus {
        let rank = |s: RunStatus| match s {
            RunStatus::Succeeded => 0,
            RunStatus::Failed => 1,
            RunStatus::Interrupted => 2,
            RunStatus::SignInNeeded => 3,
        };
        if rank(other) > rank(self) {
            other
        } else {
            self
        }
    }
}

fn overall(statuses: impl Iterator<Item = RunStatus>) -> RunStatus {
    statuses.fold(RunStatus::Succeeded, RunStatus::max_severity)
}

fn summary(targets: &[TargetReport]) -> serde_json::Value {
    let mut steps: BTreeMap<&str, usize> = BTreeMap::new();
    for step in targets.iter().flat_map(|t| &t.steps) {
        *steps.entry(step.status.as_str()).or_default() += 1;
    }
    let count = |s: RunStatus| targets.iter().filter(|t| t.status == s).count();
    json!({
        "targets": targets.len(),
        "succeeded": count(RunStatus::Succeeded),
        "failed": count(RunStatus::Failed),
        "interrupted": count(RunStatus::Interrupted),
        "steps": steps,
    })
}
