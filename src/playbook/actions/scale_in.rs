//! `protect-from-scale-in`: protects the target from Auto Scaling scale-in, so the group
//! does not pick an instance under investigation to terminate. Idempotent and verified;
//! an instance in no group has nothing to protect.

use serde_json::json;

use super::{Access, ActionInfo, ApiCall, NoArgsAction, Resource, Service};
use crate::aws::{Applied, AutoScalingApi};
use crate::inventory::Server;
use crate::playbook::exec::{StepCtx, StepError, StepResult, StepStatus};
use crate::playbook::plan::PlannedCall;

pub(crate) const DESCRIBE_AUTO_SCALING_INSTANCES: ApiCall = ApiCall {
    service: Service::AutoScaling,
    operation: "DescribeAutoScalingInstances",
    access: Access::Read,
    resource: Resource::Any,
};

pub(crate) const DESCRIBE_AUTO_SCALING_GROUPS: ApiCall = ApiCall {
    service: Service::AutoScaling,
    operation: "DescribeAutoScalingGroups",
    access: Access::Read,
    resource: Resource::Any,
};

pub(crate) const SET_INSTANCE_PROTECTION: ApiCall = ApiCall {
    service: Service::AutoScaling,
    operation: "SetInstanceProtection",
    access: Access::Write,
    resource: Resource::AutoScalingGroup,
};

pub static INFO: ActionInfo = ActionInfo {
    name: "protect-from-scale-in",
    summary: "Protect the target from Auto Scaling scale-in (nothing to do outside a group)",
    calls: &[
        DESCRIBE_AUTO_SCALING_INSTANCES,
        DESCRIBE_AUTO_SCALING_GROUPS,
        SET_INSTANCE_PROTECTION,
    ],
    confirm_by_default: false,
    needs: &[],
    cuts: &[],
};

/// The `protect-from-scale-in` action (no arguments).
pub struct ProtectFromScaleIn;

impl NoArgsAction for ProtectFromScaleIn {
    const INFO: &'static ActionInfo = &INFO;

    /// The calls for one target, from what discovery saw.
    fn plan(server: &Server) -> (Vec<PlannedCall>, Vec<String>) {
        let id = &server.instance_id;
        let mut calls = vec![PlannedCall::new(
            &DESCRIBE_AUTO_SCALING_INSTANCES,
            id,
            "read the group membership and protection",
        )];
        let mut notes = Vec::new();
        match &server.auto_scaling_group {
            None => notes.push("not in an Auto Scaling group: nothing to protect".to_owned()),
            Some(asg) => {
                let group = format!("{} ({id})", asg.name);
                calls.push(PlannedCall::new(
                    &SET_INSTANCE_PROTECTION,
                    group.clone(),
                    "protect the instance from scale-in",
                ));
                calls.push(PlannedCall::new(
                    &DESCRIBE_AUTO_SCALING_INSTANCES,
                    id,
                    "verify the protection",
                ));
                if asg.protected_from_scale_in {
                    notes.push("already protected; the step will verify and skip".to_owned());
                }
            }
        }
        (calls, notes)
    }

    /// Protects the instance, then verifies.
    async fn execute(ctx: &StepCtx<'_>) -> Result<StepResult, StepError> {
        let asg = ctx.autoscaling();
        let id = ctx.instance_id();
        let read = || json!({ "instance_ids": [id] });
        let membership = ctx
            .read(
                &DESCRIBE_AUTO_SCALING_INSTANCES,
                read(),
                asg.describe_membership(id),
            )
            .await?;
        let Some(membership) = membership else {
            return Ok(StepResult::new(
                StepStatus::AlreadyDone,
                "not in an Auto Scaling group: nothing to protect",
            ));
        };
        let group = membership.group_name;
        if membership.protected_from_scale_in {
            return Ok(StepResult::new(
                StepStatus::AlreadyDone,
                format!("already protected from scale-in in {group}"),
            ));
        }
        if ctx.dry_run() {
            // Auto Scaling has no DryRun: ask the IAM policy simulator instead.
            let arn = group_arn(ctx, &group).await?;
            return ctx.simulate(&SET_INSTANCE_PROTECTION, &arn).await;
        }
        let params = json!({
            "auto_scaling_group_name": group,
            "instance_ids": [id],
            "protected_from_scale_in": true,
        });
        let applied = ctx
            .mutate(
                &SET_INSTANCE_PROTECTION,
                params,
                asg.set_instance_protection(&group, id, true),
            )
            .await?;
        debug_assert!(matches!(applied, Applied::Done { .. }));
        let after = ctx
            .read(
                &DESCRIBE_AUTO_SCALING_INSTANCES,
                read(),
                asg.describe_membership(id),
            )
            .await?;
        if !after.is_some_and(|m| m.protected_from_scale_in) {
            return Err(StepError::Failed(format!(
                "post-condition failed: the instance is not protected from scale-in in {group} \
                 after SetInstanceProtection"
            )));
        }
        Ok(StepResult::new(
            StepStatus::Succeeded,
            format!("protected from scale-in in {group}"),
        ))
    }
}

/// The group's ARN, for the IAM policy simulator in a dry run (Auto Scaling has no `DryRun`).
pub(crate) async fn group_arn(ctx: &StepCtx<'_>, group: &str) -> Result<String, StepError> {
    ctx.read(
        &DESCRIBE_AUTO_SCALING_GROUPS,
        json!({ "auto_scaling_group_names": [group] }),
        ctx.autoscaling().describe_group(group),
    )
    .await?
    .and_then(|g| g.arn)
    .ok_or_else(|| StepError::Failed(format!("Auto Scaling group {group} not found")))
}
