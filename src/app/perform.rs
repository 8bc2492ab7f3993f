//! Running a confirmed plan: the audit log and its central copies, the executor with its
//! events sent to the front end, and what is left at the end — for the CLI and the TUI alike.

use super::error::Result;
use crate::app::Settings;
use crate::audit::AuditLog;
use crate::audit::sink::{SinkReport, Sinks};
use crate::aws::{AwsContext, CallerIdentity};
use crate::playbook::{ExecOptions, Plan, Playbook, Recorder, RunMeta, execute};

/// What [`perform`] leaves: the executor's outcome (an error when the audit log failed),
/// the log's head and path, and how the audit copies went.
pub struct Performed {
    pub outcome: std::result::Result<crate::playbook::RunOutcome, crate::audit::AuditError>,
    pub head: String,
    pub path: std::path::PathBuf,
    pub sink_report: Option<SinkReport>,
}

/// Runs a confirmed plan — the audit log and its copies, the executor with its events sent
/// to `events` — for the CLI and the TUI alike.
pub async fn perform(
    settings: &Settings,
    ctx: &AwsContext,
    playbook: &Playbook,
    plan: &Plan,
    caller: &CallerIdentity,
    options: &ExecOptions,
    events: tokio::sync::mpsc::UnboundedSender<crate::playbook::ExecEvent>,
) -> Result<Performed> {
    let log = AuditLog::open(&settings.audit_log_path()?)?;
    let region = crate::aws::home_region(plan.targets.iter().map(|t| t.region.as_str()));
    let sinks = Sinks::from_config(&settings.config.config.audit, ctx, region)
        .map(|sinks| sinks.spawn(&plan.run_id));
    let mut recorder = Recorder::new(
        log,
        RunMeta {
            run_id: plan.run_id.clone(),
            incident: plan.incident.clone(),
            actor: Some(caller.arn.clone()),
            dry_run: plan.dry_run,
        },
        Some(events),
    )
    .with_sinks(sinks);
    let outcome = execute(plan, playbook, caller, ctx, &recorder, options).await;
    let head = recorder.head();
    let path = recorder.path();
    let sinks = recorder.take_sinks();
    drop(recorder);
    let sink_report = match sinks {
        Some(sinks) => Some(sinks.finish().await),
        None => None,
    };
    Ok(Performed {
        outcome,
        head,
        path,
        sink_report,
    })
}
