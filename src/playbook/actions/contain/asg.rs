//! Auto Scaling during containment: scale-in protection and Standby (or detach) so the
//! group neither terminates the isolated instance nor counts it; it launches a replacement
//! so the service stays up. Release puts it back as recorded.

use serde_json::json;

use super::calls::*;
use super::capacity::{self, Room};
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
    /// A new maximum size and, when given, desired capacity.
    Resize {
        max: i32,
        desired: Option<i32>,
    },
}

impl AsgChange {
    fn api(self) -> &'static ApiCall {
        match self {
            AsgChange::Protect(_) => &SET_INSTANCE_PROTECTION,
            AsgChange::EnterStandby => &ENTER_STANDBY,
            AsgChange::ExitStandby => &EXIT_STANDBY,
            AsgChange::Detach => &DETACH_INSTANCES,
            AsgChange::Attach => &ATTACH_INSTANCES,
            AsgChange::Resize { .. } => &UPDATE_AUTO_SCALING_GROUP,
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
        AsgChange::Resize { max, desired } => {
            let params = json!({
                "auto_scaling_group_name": group,
                "max_size": max,
                "desired_capacity": desired,
            });
            ctx.mutate(api, params, asg.resize_group(group, max, desired))
                .await?
        }
    };
    out.changed(what);
    Ok(())
}

/// What is left to wait for after the Auto Scaling change was asked for (it can pass
/// through transitional states, and a launching instance cannot leave service yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settle {
    /// Nothing: out of service already, not in a group, or being terminated.
    Nothing,
    /// Asked for: wait until Standby, or until it has left the group.
    Wait(AsgMode),
    /// Launching (a lifecycle hook may hold it in `Pending:Wait`): ask once it is
    /// InService, then wait.
    Deferred(AsgMode),
}

/// How long `settle` waits for the group, and how often it looks.
const SETTLE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(600);
const SETTLE_POLL: std::time::Duration = std::time::Duration::from_secs(2);

/// Isolation: protect from scale-in, then ask for Standby or detach. Nothing here waits:
/// the network is cut first; `settle` waits afterwards.
pub async fn isolate(
    ctx: &StepCtx<'_>,
    facts: &Facts,
    mode: AsgMode,
    out: &mut Outcome,
) -> Result<Settle, StepError> {
    let Some(member) = &facts.membership else {
        out.kept("not in an Auto Scaling group");
        return Ok(Settle::Nothing);
    };
    let group = member.group_name.as_str();
    let state = member.lifecycle_state.as_str();
    if state.starts_with("Terminating") {
        ctx.note(
            "warning",
            format!(
                "the instance is {state} in Auto Scaling group {group}: the group is terminating \
                 it (a lifecycle hook holds it). Its volumes are kept (DeleteOnTermination is \
                 off); snapshot them now"
            ),
        )?;
        return Ok(Settle::Nothing);
    }
    let mut arn = None;
    if member.protected_from_scale_in {
        out.kept("scale-in protection");
    } else {
        let what = format!("scale-in protection on in {group}");
        change(ctx, &mut arn, AsgChange::Protect(true), group, what, out).await?;
    }
    Ok(match (state, mode) {
        ("Standby", _) => {
            out.kept(format!("Standby in {group}"));
            Settle::Nothing
        }
        ("EnteringStandby", _) => {
            out.kept(format!("entering Standby in {group}"));
            Settle::Wait(AsgMode::Standby)
        }
        ("Detaching", _) => {
            out.kept(format!("leaving {group}"));
            Settle::Wait(AsgMode::Detach)
        }
        ("InService", mode) => {
            request(ctx, &mut arn, mode, group, out).await?;
            Settle::Wait(mode)
        }
        (launching, mode) if launching.starts_with("Pending") => {
            ctx.note(
                "warning",
                format!(
                    "the instance is {launching} in {group} (still launching; a lifecycle hook \
                     may hold it): it leaves service once it is InService, after the network \
                     is cut"
                ),
            )?;
            Settle::Deferred(mode)
        }
        (state, _) => {
            return Err(StepError::Failed(format!(
                "the instance is {state} in Auto Scaling group {group}; it can be isolated when \
                 it is InService, Standby, or on its way to either"
            )));
        }
    })
}

/// EnterStandby or DetachInstances.
async fn request(
    ctx: &StepCtx<'_>,
    arn: &mut Option<String>,
    mode: AsgMode,
    group: &str,
    out: &mut Outcome,
) -> Result<(), StepError> {
    match mode {
        AsgMode::Standby => {
            let what = format!("Standby in {group} (the group launches a replacement)");
            change(ctx, arn, AsgChange::EnterStandby, group, what, out).await
        }
        AsgMode::Detach => {
            let what = format!("detached from {group} (the group launches a replacement)");
            change(ctx, arn, AsgChange::Detach, group, what, out).await
        }
    }
}

/// Waits (with progress, for at most 10 minutes) until the instance is out of service as
/// asked — through `EnteringStandby` or `Detaching`, and for a launching one until it is
/// InService and can be asked. A dry run does not wait.
pub async fn settle(
    ctx: &StepCtx<'_>,
    mut settle: Settle,
    out: &mut Outcome,
) -> Result<(), StepError> {
    if ctx.dry_run() {
        return Ok(());
    }
    let started = std::time::Instant::now();
    let mut arn = None;
    loop {
        let wanted = match settle {
            Settle::Nothing => return Ok(()),
            Settle::Wait(mode) | Settle::Deferred(mode) => mode,
        };
        let member = read_membership(ctx).await?;
        let state = member.as_ref().map(|m| m.lifecycle_state.clone());
        match (settle, wanted, state.as_deref()) {
            (Settle::Wait(_), AsgMode::Standby, Some("Standby"))
            | (Settle::Wait(_), AsgMode::Detach, None) => return Ok(()),
            (_, _, Some(s)) if s.starts_with("Terminating") => return Ok(()),
            (Settle::Deferred(mode), _, Some("InService")) => {
                let group = member.map(|m| m.group_name).unwrap_or_default();
                request(ctx, &mut arn, mode, &group, out).await?;
                settle = Settle::Wait(mode);
                continue;
            }
            (_, _, Some("EnteringStandby" | "Detaching")) | (Settle::Deferred(_), _, Some(_)) => {}
            (_, _, now) => {
                return Err(StepError::Failed(format!(
                    "Auto Scaling: the instance is {} instead of {}; the network is cut — check \
                     the group, then resume the run",
                    now.unwrap_or("not in a group"),
                    match wanted {
                        AsgMode::Standby => "Standby",
                        AsgMode::Detach => "detached",
                    }
                )));
            }
        }
        if started.elapsed() > SETTLE_TIMEOUT {
            return Err(StepError::Failed(format!(
                "Auto Scaling: the instance is still {} after {} s; the network is cut — \
                 resume the run to wait again",
                state.as_deref().unwrap_or("in transition"),
                SETTLE_TIMEOUT.as_secs()
            )));
        }
        ctx.progress(format!(
            "Auto Scaling: {} ({} s)",
            state.as_deref().unwrap_or("leaving the group"),
            started.elapsed().as_secs()
        ));
        tokio::time::sleep(SETTLE_POLL).await;
    }
}

/// Release: back in service in the recorded group, with the recorded protection, making
/// the room `capacity::check` found was needed.
pub async fn release(
    ctx: &StepCtx<'_>,
    record: &IsolationRecord,
    facts: &Facts,
    room: &Room,
    out: &mut Outcome,
) -> Result<(), StepError> {
    let Some(recorded) = &record.auto_scaling else {
        return Ok(());
    };
    let group = recorded.group.as_str();
    let mut arn = None;
    let back = match facts
        .membership
        .as_ref()
        .map(|m| m.lifecycle_state.as_str())
    {
        Some("Standby") => Some((AsgChange::ExitStandby, "back in service in")),
        None => Some((AsgChange::Attach, "attached again to")),
        Some("InService" | "Pending" | "Pending:Wait" | "Pending:Proceed") => {
            out.kept(format!("in service in {group} (or on its way)"));
            None
        }
        Some(state) => {
            return Err(StepError::Failed(format!(
                "the instance is {state} in {group}; release it when it is in Standby"
            )));
        }
    };
    let mut shrink = None;
    if let Some((step, said)) = back {
        if let Room::Make { max, desired, keep } = *room {
            let raise = AsgChange::Resize {
                max: max + 1,
                desired: None,
            };
            let what = if keep {
                format!(
                    "maximum size of {group} {max} → {} for the release",
                    max + 1
                )
            } else {
                format!(
                    "maximum size of {group} {max} → {} (it was full): the group keeps {} \
                     instances; lower its desired capacity and maximum when the replacement \
                     can go",
                    max + 1,
                    desired + 1
                )
            };
            change(ctx, &mut arn, raise, group, what, out).await?;
            change(ctx, &mut arn, step, group, format!("{said} {group}"), out).await?;
            if keep {
                let back = AsgChange::Resize {
                    max,
                    desired: Some(desired),
                };
                let what = format!(
                    "{group} back to {desired} instances, maximum {max}: its termination \
                     policy removes one other instance"
                );
                change(ctx, &mut arn, back, group, what, out).await?;
                shrink = Some(desired);
            }
        } else {
            change(ctx, &mut arn, step, group, format!("{said} {group}"), out).await?;
        }
    }
    let now = if ctx.dry_run() {
        facts.membership.clone()
    } else {
        read_membership(ctx).await?
    };
    let protected = now.as_ref().is_some_and(|m| m.protected_from_scale_in);
    if protected != recorded.protected_from_scale_in {
        if let Some(desired) = shrink.filter(|_| !ctx.dry_run() && protected) {
            capacity::shrunk(ctx, group, desired).await?;
        }
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
