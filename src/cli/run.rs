//! `breakglass run` / `breakglass --playbook`: guard rails, targets, plan, confirmation,
//! execution with live progress, and the run document.

use std::collections::HashSet;
use std::io::IsTerminal;

use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::args::RunOptions;
use super::progress;
use super::settings::Settings;
use crate::audit::AuditLog;
use crate::audit::sink::{SinkReport, Sinks};
use crate::aws::{AwsContext, CallerIdentity, StsApi};
use crate::error::{Error, ExitCode, Result};
use crate::inventory::{Selection, discover_as, resolve_targets};
use crate::output::{OutputFormat, print_json, print_stdout};
use crate::playbook::{
    ExecOptions, Plan, Playbook, Recorder, RunMeta, RunStatus, TargetReport, execute, plan,
    resolve_parameters,
};

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
    guard_rails(options.dry_run, incident.as_deref(), options.yes)?;
    if options.targets.is_empty() {
        // Same message as an unresolvable target, before any AWS call.
        resolve_targets(&[], &[], &Selection::All, true)?;
    }
    let ctx = settings.aws_context().await?;
    let regions = settings.regions(&ctx)?;
    ctx.check_credentials().await?;
    let caller = ctx.sts(&regions[0]).get_caller_identity().await?;
    check_account(settings, &caller)?;
    let inventory = discover_as(&ctx, &caller, &regions, &Selection::All).await?;
    for warning in &inventory.warnings {
        eprintln!("warning: {warning}");
    }
    let security_servers = settings.selection(false, &[])?;
    let resolution = resolve_targets(
        &options.targets,
        &inventory.servers,
        &security_servers,
        options.any_instance,
    )?;
    for missing in &resolution.missing {
        eprintln!("warning: target {}: {}", missing.target, missing.message);
    }
    let info = settings.run_info(uuid::Uuid::now_v7().to_string(), incident, options.dry_run);
    let plan = plan(&playbook, &parameters, &resolution.servers, &info)?;
    let run = Run {
        playbook: &playbook,
        plan,
        caller,
        yes: options.yes,
        concurrency,
        done_before: HashSet::new(),
        resumed: false,
        missing: resolution.missing,
    };
    run.execute(settings, &ctx).await
}

/// A planned run about to be confirmed and executed (new or resumed).
pub struct Run<'a> {
    pub playbook: &'a Playbook,
    pub plan: Plan,
    pub caller: CallerIdentity,
    pub yes: bool,
    pub concurrency: usize,
    pub done_before: HashSet<(String, usize)>,
    pub resumed: bool,
    /// Targets that are gone: they fail on their own, the others run.
    pub missing: Vec<crate::inventory::TargetError>,
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

impl Run<'_> {
    /// Shows the plan, asks when needed, runs it, and reports.
    pub async fn execute(self, settings: &Settings, ctx: &AwsContext) -> Result<ExitCode> {
        let plan = &self.plan;
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
            missing: self.missing,
        };
        let performed = perform(
            settings,
            ctx,
            self.playbook,
            plan,
            &self.caller,
            &options,
            events,
        )
        .await;
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
                "The audit log failed: the run stopped before its next AWS call. Run id {}.",
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
                account: &self.caller.account,
                actor: &self.caller.arn,
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
    let region = plan
        .targets
        .first()
        .map_or("us-east-1", |t| t.region.as_str());
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

/// Refuses a live run without an incident id, or without `--yes` when nobody can answer.
pub fn guard_rails(dry_run: bool, incident: Option<&str>, yes: bool) -> Result<()> {
    if dry_run {
        return Ok(());
    }
    if incident.is_none() {
        return Err(Error::Refused {
            reason: "a live run needs an incident id".into(),
            hint: "pass `--incident IR-42` (your ticket or case id), or `--dry-run` to only \
                   verify the plan"
                .into(),
        });
    }
    if !yes && !is_interactive() {
        return Err(Error::Refused {
            reason: "not running in a terminal, so the run cannot be confirmed".into(),
            hint: "review the plan with `--dry-run`, then pass `--yes` to run without asking"
                .into(),
        });
    }
    Ok(())
}

/// Refuses an account outside `allowed_accounts` (when the list is set).
pub fn check_account(settings: &Settings, caller: &CallerIdentity) -> Result<()> {
    let allowed = &settings.config.config.allowed_accounts;
    if allowed.is_empty() || allowed.contains(&caller.account) {
        return Ok(());
    }
    Err(Error::Refused {
        reason: format!(
            "account {} is not in `allowed_accounts` ({}) of the config",
            caller.account,
            allowed.join(", ")
        ),
        hint: "check `--profile` / AWS_PROFILE: these credentials are for another account; \
               or add the account to `allowed_accounts` if it is meant to be managed"
            .into(),
    })
}

/// Incident ids are recorded and written to tags: letters, digits and `-_.:/#`, 1-64.
pub fn check_incident(id: &str) -> Result<String> {
    let ok = (1..=64).contains(&id.len())
        && id.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:/#".contains(&b));
    if ok {
        Ok(id.to_owned())
    } else {
        Err(Error::InvalidArgument {
            what: "incident id",
            value: id.to_owned(),
            reason: "must be 1-64 letters, digits and `-_.:/#`, starting with a letter or digit"
                .into(),
            hint: "use your ticket or case id, e.g. `IR-42`".into(),
        })
    }
}

fn is_interactive() -> bool {
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
