//! `breakglass run` / `breakglass --playbook`: guard rails, targets, plan, confirmation,
//! execution with live progress, and the run document.

use std::collections::HashSet;
use std::io::IsTerminal;

use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::args::RunOptions;
use super::output::{print_json, print_stdout};
use super::progress;
use crate::app::{
    Error, ExitCode, Performed, Prepared, Result, RunRequest, Settings, check_incident,
    guard_rails, perform, prepare,
};
use crate::audit::sink::SinkReport;
use crate::aws::AwsContext;
use crate::inventory::{Selection, resolve_targets};
use crate::playbook::{ExecOptions, Plan, RunStatus, TargetReport, resolve_parameters};
use crate::text::OutputFormat;

/// Runs a playbook named on the command line.
pub async fn run(settings: &Settings, playbook: &str, options: &RunOptions) -> Result<ExitCode> {
    let playbook = settings.playbook(playbook)?;
    let parameters = resolve_parameters(&playbook, &options.params)?;
    let incident = options
        .incident
        .as_deref()
        .map(check_incident)
        .transpose()?;
    let concurrency = settings.concurrency(options.concurrency)?;
    guard_rails(
        options.dry_run,
        incident.as_deref(),
        options.yes,
        is_interactive(),
    )?;
    if options.targets.is_empty() {
        // Same message as an unresolvable target, before any AWS call.
        resolve_targets(&[], &[], &Selection::All, true)?;
    }
    let ctx = settings.aws_context().await?;
    let request = RunRequest {
        playbook,
        parameters,
        targets: options.targets.clone(),
        any_instance: options.any_instance,
        incident,
        dry_run: options.dry_run,
        run_id: None,
        regions: None,
        account: None,
    };
    let prepared = prepare(settings, &ctx, request).await?;
    let run = Run {
        prepared,
        yes: options.yes,
        concurrency,
        done_before: HashSet::new(),
        resumed: false,
    };
    run.execute(settings, &ctx).await
}

/// A prepared run about to be confirmed and executed (new or resumed).
pub struct Run {
    pub prepared: Prepared,
    pub yes: bool,
    pub concurrency: usize,
    pub done_before: HashSet<(String, usize)>,
    pub resumed: bool,
}

/// The JSON document of a run (`--output json`), version 1.
#[derive(Serialize)]
struct RunDocument<'a> {
    version: u32,
    run_id: &'a str,
    playbook: &'a crate::playbook::PlaybookRef,
    dry_run: bool,
    incident: &'a Option<String>,
    account: &'a str,
    actor: &'a str,
    status: RunStatus,
    targets: &'a [TargetReport],
    warnings: Vec<String>,
    audit: AuditRef,
}

#[derive(Serialize)]
struct AuditRef {
    path: String,
    head: String,
    /// Central copies: per sink, records shipped and failures (absent without sinks).
    #[serde(skip_serializing_if = "Option::is_none")]
    copies: Option<serde_json::Value>,
}

impl Run {
    /// Shows the warnings and the plan, asks when needed, runs it, and reports.
    pub async fn execute(self, settings: &Settings, ctx: &AwsContext) -> Result<ExitCode> {
        let Prepared {
            playbook,
            caller,
            plan,
            missing,
            warnings,
        } = self.prepared;
        for warning in &warnings {
            eprintln!("warning: {warning}");
        }
        for missing in &missing {
            eprintln!("warning: target {}: {}", missing.target, missing.message);
        }
        let plan = &plan;
        eprint!("{}", progress::render_plan(plan));
        if !plan.dry_run && !self.yes {
            confirm(plan).await?;
        }
        let (events, receiver) = tokio::sync::mpsc::unbounded_channel();
        let reporter = tokio::spawn(progress::report(receiver));
        let cancel = CancellationToken::new();
        let watcher = tokio::spawn(watch_interrupts(cancel.clone(), plan.run_id.clone()));
        let options = ExecOptions {
            concurrency: self.concurrency,
            done_before: self.done_before,
            cancel,
            resumed: self.resumed,
            missing,
        };
        let performed = perform(settings, ctx, &playbook, plan, &caller, &options, events).await;
        watcher.abort();
        let _ = reporter.await;
        let Performed {
            outcome,
            head,
            path,
            sink_report,
        } = performed?;
        if let Some(report) = &sink_report {
            // Loud, but the run's result stands: the local log is complete.
            let level = if report.is_complete() {
                "audit copies"
            } else {
                "WARNING: audit copies incomplete"
            };
            eprintln!("{level}:\n{report}");
        }
        let outcome = outcome.map_err(|err| {
            eprintln!(
                "The audit log failed: the run stopped before its next AWS call. The last call \
                 the log announces may have been made without its outcome recorded: once the log \
                 can be written, `breakglass resume {}` reads AWS and finishes the run.",
                plan.run_id
            );
            Error::Audit(err)
        })?;
        let warnings: Vec<String> = plan
            .targets
            .iter()
            .flat_map(|t| t.warnings.iter().map(|w| format!("{}: {w}", t.instance_id)))
            .collect();
        match settings.output {
            OutputFormat::Json => print_json(&RunDocument {
                version: 1,
                run_id: &plan.run_id,
                playbook: &plan.playbook,
                dry_run: plan.dry_run,
                incident: &plan.incident,
                account: &caller.account,
                actor: &caller.arn,
                status: outcome.status,
                targets: &outcome.targets,
                warnings,
                audit: AuditRef {
                    path: path.display().to_string(),
                    head: head.clone(),
                    copies: sink_report.as_ref().map(copies_json),
                },
            })?,
            OutputFormat::Table => print_stdout(&progress::render_outcome(&outcome))?,
        }
        eprintln!(
            "{}",
            progress::closing_line(plan, outcome.status, &path, &head)
        );
        Ok(match outcome.status {
            RunStatus::Succeeded => ExitCode::Success,
            RunStatus::Failed | RunStatus::Interrupted => ExitCode::Failed,
            RunStatus::SignInNeeded => ExitCode::AuthRequired,
        })
    }
}

/// Whether a person can answer the confirmation.
pub(super) fn is_interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// Asks the responder to type the incident id; anything else refuses.
async fn confirm(plan: &Plan) -> Result<()> {
    let incident = plan.incident.clone().unwrap_or_default();
    eprint!(
        "\nThis changes {} server(s) in AWS. Type the incident id ({incident}) to go ahead: ",
        plan.targets.len()
    );
    let answer = tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).map(|_| line)
    })
    .await
    .ok()
    .and_then(Result::ok)
    .unwrap_or_default();
    if answer.trim() == incident {
        Ok(())
    } else {
        Err(Error::Refused {
            reason: "not confirmed; nothing was changed".into(),
            hint: "type the incident id exactly, or pass `--yes`".into(),
        })
    }
}

/// First Ctrl-C: finish the calls in flight, record them, stop. Second: leave at once.
async fn watch_interrupts(cancel: CancellationToken, run_id: String) {
    if tokio::signal::ctrl_c().await.is_err() {
        return;
    }
    cancel.cancel();
    eprintln!(
        "\nInterrupted: finishing the AWS calls in flight and recording them. Press Ctrl-C \
         again to leave now (the outcome of a call in flight would then be unrecorded)."
    );
    if tokio::signal::ctrl_c().await.is_ok() {
        eprintln!("Left without waiting. Continue with `breakglass resume {run_id}`.");
        std::process::exit(ExitCode::Failed as i32);
    }
}

/// The sink report in the run document.
fn copies_json(report: &SinkReport) -> serde_json::Value {
    serde_json::Value::Array(
        report
            .sinks
            .iter()
            .map(|s| {
                serde_json::json!({
                    "sink": s.sink,
                    "shipped": s.shipped,
                    "failures": s.failures.iter().map(|f| f.message.clone()).collect::<Vec<_>>(),
                })
            })
            .collect(),
    )
}
