//! Preparing a run, once for every front end (a new run, a resumed one, the TUI's): who the
//! calls are made as, the account check, the estate as it is now, the targets resolved
//! against it, and the plan.

use std::collections::BTreeMap;

use super::error::{Error, Result};
use super::guard::check_account;
use crate::app::Settings;
use crate::aws::{AwsContext, CallerIdentity, StsApi, home_region};
use crate::inventory::{Resolution, Selection, TargetError, discover_as, resolve_targets};
use crate::playbook::{ParamValue, Plan, Playbook, plan};

/// What to run, against what, and how.
#[derive(Debug)]
pub struct RunRequest {
    pub playbook: Playbook,
    pub parameters: BTreeMap<String, ParamValue>,
    /// As given: instance ids, `Name` tags or `tag:Key=Value` selectors.
    pub targets: Vec<String>,
    /// Accept instances outside the Security Server selection.
    pub any_instance: bool,
    pub incident: Option<String>,
    pub dry_run: bool,
    /// A resumed run keeps its id; `None` starts a new run.
    pub run_id: Option<String>,
    /// Where to look for the targets; `None` uses the settings' regions.
    pub regions: Option<Vec<String>>,
    /// The account the run must act in (a resumed run's), checked before anything is read.
    pub account: Option<String>,
}

/// A run ready to be confirmed and executed.
#[derive(Debug)]
pub struct Prepared {
    pub playbook: Playbook,
    pub caller: CallerIdentity,
    pub plan: Plan,
    /// Targets that are gone: they fail on their own, the others run.
    pub missing: Vec<TargetError>,
    /// What discovery could not read (the front end shows them).
    pub warnings: Vec<String>,
}

/// Who the calls are made as: credentials resolved and the caller asked (in `region`).
pub async fn identify(ctx: &AwsContext, region: &str) -> Result<CallerIdentity> {
    ctx.check_credentials().await?;
    Ok(ctx.sts(region).get_caller_identity().await?)
}

/// [`identify`], and the caller's account allowed by the config (for runs that change
/// something).
pub async fn caller(settings: &Settings, ctx: &AwsContext, region: &str) -> Result<CallerIdentity> {
    let caller = identify(ctx, region).await?;
    check_account(settings, &caller)?;
    Ok(caller)
}

/// The servers `targets` name in `regions`, discovered now as `caller`.
pub async fn resolve(
    settings: &Settings,
    ctx: &AwsContext,
    caller: &CallerIdentity,
    regions: &[String],
    targets: &[String],
    any_instance: bool,
) -> Result<(Resolution, Vec<String>)> {
    let inventory = discover_as(ctx, caller, regions, &Selection::All).await?;
    let security_servers = settings.selection(false, &[])?;
    let resolution = resolve_targets(targets, &inventory.servers, &security_servers, any_instance)?;
    Ok((resolution, inventory.warnings))
}

/// Caller, account check, discovery, targets and plan, in that order; nothing is changed.
pub async fn prepare(
    settings: &Settings,
    ctx: &AwsContext,
    request: RunRequest,
) -> Result<Prepared> {
    let regions = match request.regions {
        Some(regions) => regions,
        None => settings.regions(ctx)?,
    };
    let caller = caller(
        settings,
        ctx,
        home_region(regions.iter().map(String::as_str)),
    )
    .await?;
    if let Some(account) = request.account.filter(|a| *a != caller.account) {
        let run_id = request.run_id.unwrap_or_default();
        return Err(Error::Refused {
            reason: format!(
                "run {run_id} acted in account {account}, but these credentials are for \
                 account {}",
                caller.account
            ),
            hint: "use a profile for the run's account (`--profile`)".into(),
        });
    }
    let (resolution, warnings) = resolve(
        settings,
        ctx,
        &caller,
        &regions,
        &request.targets,
        request.any_instance,
    )
    .await?;
    let run_id = request
        .run_id
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    let info = settings.run_info(run_id, request.incident, request.dry_run);
    let plan = plan(
        &request.playbook,
        &request.parameters,
        &resolution.servers,
        &info,
    )?;
    Ok(Prepared {
        playbook: request.playbook,
        caller,
        plan,
        missing: resolution.missing,
        warnings,
    })
}
