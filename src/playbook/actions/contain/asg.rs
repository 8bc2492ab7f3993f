//! Auto Scaling during containment: scale-in protection and Standby (or detach) so the
//! group neither terminates the isolated instance nor counts it; it launches a replacement
//! so the service stays up. Release puts it back as recorded.

use serde_json::json;

use super::calls::*;
use super::facts::{Facts, read_membership};
use super::outcome::Outcome;
use super::record::IsolationRecord;
use crate::aws::AutoScalingApi;
use crate::playbook::actions::ApiCall;
use crate::playbook::actions::scale_in::group_arn;
use crate::playbook::exec::{StepCtx, StepError};

/// How to take the instance out of its group's service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum AsgMode {
    /// `EnterStandby`: stays in the group, not counted, not health-checked.
    #[default]
    Standby,
    /// `DetachInstances`: leaves the group.
    Detach,
}

impl AsgMode {
    pub fn parse(text: &str) -> Option<AsgMode> {
        match text {
            "standby" => Some(AsgMode::Standby),
            "detach" => Some(AsgMode::Detach),
            _ => None,
        }
    }
}

/// One Auto Scaling change of the target's membership.
#[derive(Debug, Clone, Copy)]
enum AsgChange {
    Protect(bool),
    EnterStandby,
    ExitStandby,
    Detach,
    Attach,
}

impl AsgChange {
    fn api(self) -> &'static ApiCall {
        match self {
            AsgChange::Protect(_) => &SET_INSTANCE_PROTECTION,
            AsgChange::EnterStandby => &ENTER_STANDBY,
            AsgChange::ExitStandby => &EXIT_STANDBY,
            AsgChange::Detach => &DETACH_INSTANCES,
            AsgChange::Attach => &ATTACH_INSTANCES,
        }
    }
}

/// Makes the change, or in a dry run checks it with the IAM policy simulator.
async fn change(
    ctx: &StepCtx<'_>,
    arn: &mut Option<String>,
    change: AsgChange,
    group: &str,
    what: String,
    out: &mut Outcome,
) -> Result<(), StepError> {
    let api = change.api();
    if ctx.dry_run() {
        let arn = match arn {
            Some(arn) => arn.clone(),
            None => arn.insert(group_arn(ctx, group).await?).clone(),
        };
        out.check(what, ctx.simulate(api, &arn).await?);
        return Ok(());
    }
    let asg = ctx.autoscaling();
    let id = ctx.instance_id();
    let mut params = json!({ "auto_scaling_group_name": group, "instance_ids": [id] });
    match change {
        AsgChange::Protect(on) => {
            params["protected_from_scale_in"] = json!(on);
            ctx.mutate(api, params, asg.set_instance_protection(group, id, on))
                .await?
        }
        AsgChange::EnterStandby => {
            params["should_decrement_desired_capacity"] = json!(false);
            ctx.mutate(api, params, asg.enter_standby(group, id))
                .await?
        }
        AsgChange::ExitStandby => ctx.mutate(api, params, asg.exit_standby(group, id)).await?,
        AsgChange::Detach => {
            params["should_decrement_desired_capacity"] = json!(false);
            ctx.mutate(api, params, asg.detach_instance(group, id))
                .await?
        }
        AsgChange::Attach => {
            ctx.mutate(api, params, asg.attach_instance(group, id))
                .await?
        }
    };
    out.changed(what);
    Ok(())
}

/// Isolation: protect from scale-in, then Standby or detach.
pub async fn isolate(
    ctx: &StepCtx<'_>,
    facts: &Facts,
    mode: AsgMode,
    out: &mut Outcome,
) -> Result<(), StepError> {
    let Some(member) = &facts.membership else {
        out.kept("not in an Auto Scaling group");
        return Ok(());
    };
    let group = member.group_name.as_str();
    let mut arn = None;
    if member.protected_from_scale_in {
        out.kept("scale-in protection");
    } else {
        let what = format!("scale-in protection on in {group}");
        change(ctx, &mut arn, AsgChange::Protect(true), group, what, out).await?;
    }
    match (member.lifecycle_state.as_str(), mode) {
        ("Standby", _) => out.kept(format!("Standby in {group}")),
        ("InService", AsgMode::Standby) => {
            let what = format!("Standby in {group} (the group launches a replacement)");
            change(ctx, &mut arn, AsgChange::EnterStandby, group, what, out).await?;
        }
        ("InService", AsgMode::Detach) => {
            let what = format!("detached from {group} (the group launches a replacement)");
            change(ctx, &mut arn, AsgChange::Detach, group, what, out).await?;
        }
        (state, _) => {
            return Err(StepError::Failed(format!(
                "the instance is {state} in Auto Scaling group {group}; it can be isolated when \
                 it is InService or Standby"
            )));
        }
    }
    Ok(())
}

/// Release: back in service in the recorded group, with the recorded protection.
pub async fn release(
    ctx: &StepCtx<'_>,
    record: &IsolationRecord,
    facts: &Facts,
    out: &mut Outcome,
) -> Result<(), StepError> {
    let Some(recorded) = &record.auto_scaling else {
        return Ok(());
    };
    let group = recorded.group.as_str();
    let mut arn = None;
    match facts
        .membership
        .as_ref()
        .map(|m| m.lifecycle_state.as_str())
    {
        Some("Standby") => {
            change(
                ctx,
                &mut arn,
                AsgChange::ExitStandby,
                group,
                format!("back in service in {group}"),
                out,
            )
            .await?;
        }
        None => {
            let what = format!("attached to {group} again");
            change(ctx, &mut arn, AsgChange::Attach, group, what, out).await?;
        }
        Some("InService") => out.kept(format!("in service in {group}")),
        Some(state) => {
            return Err(StepError::Failed(format!(
                "the instance is {state} in {group}; release it when it is in Standby"
            )));
        }
    }
    let now = if ctx.dry_run() {
        facts.membership.clone()
    } else {
        read_membership(ctx).await?
    };
    let protected = now.as_ref().is_some_and(|m| m.protected_from_scale_in);
    if protected != recorded.protected_from_scale_in {
        let what = format!(
            "scale-in protection {} in {group}",
            if recorded.protected_from_scale_in {
                "on"
            } else {
                "off"
            }
        );
        let on = recorded.protected_from_scale_in;
        change(ctx, &mut arn, AsgChange::Protect(on), group, what, out).await?;
    } else {
        out.kept("scale-in protection");
    }
    Ok(())
}
