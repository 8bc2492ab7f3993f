//! Escalations beyond `isolate`, each a deliberate choice with a cost: `stop-instance`
//! (ends every flow, even the always-tracked ones, but loses the memory) and
//! `disassociate-elastic-ip` (frees the public address). Both are idempotent and verified.

use serde_json::json;

use super::{Access, ActionInfo, ApiCall, Capability, NoArgsAction, Resource, Service};
use crate::aws::{Applied, Ec2Api, Ec2ContainApi};
use crate::inventory::Server;
use crate::playbook::exec::{StepCtx, StepError, StepResult, StepStatus};
use crate::playbook::plan::PlannedCall;

const DESCRIBE_INSTANCES: ApiCall = super::tag::DESCRIBE_INSTANCES;
const STOP_INSTANCES: ApiCall = ApiCall {
    service: Service::Ec2,
    operation: "StopInstances",
    access: Access::Write,
    resource: Resource::Instance,
};
const DESCRIBE_ADDRESSES: ApiCall = ApiCall {
    service: Service::Ec2,
    operation: "DescribeAddresses",
    access: Access::Read,
    resource: Resource::Any,
};
const DISASSOCIATE_ADDRESS: ApiCall = ApiCall {
    service: Service::Ec2,
    operation: "DisassociateAddress",
    access: Access::Write,
    resource: Resource::ElasticIp,
};

pub static STOP: ActionInfo = ActionInfo {
    name: "stop-instance",
    summary: "Stop the target: ends every connection, even those isolation cannot cut, and \
              loses its memory (capture it first)",
    calls: &[DESCRIBE_INSTANCES, STOP_INSTANCES],
    confirm_by_default: true,
    needs: &[],
    cuts: &[Capability::SsmAgent, Capability::Memory],
};

pub static DISASSOCIATE_EIP: ActionInfo = ActionInfo {
    name: "disassociate-elastic-ip",
    summary: "Disassociate the target's Elastic IPs (the allocation stays in the account)",
    calls: &[DESCRIBE_ADDRESSES, DISASSOCIATE_ADDRESS],
    confirm_by_default: true,
    needs: &[],
    cuts: &[],
};

/// The `stop-instance` action (no arguments).
pub struct StopInstance;

impl NoArgsAction for StopInstance {
    const INFO: &'static ActionInfo = &STOP;

    fn plan(server: &Server) -> (Vec<PlannedCall>, Vec<String>) {
        let id = &server.instance_id;
        let calls = vec![
            PlannedCall::new(&DESCRIBE_INSTANCES, id, "read the instance state"),
            PlannedCall::new(&STOP_INSTANCES, id, "stop it"),
            PlannedCall::new(&DESCRIBE_INSTANCES, id, "verify it is stopping"),
        ];
        let notes = vec![
            "warning: stopping loses the memory and instance-store data; capture memory before \
             this step"
                .to_owned(),
        ];
        (calls, notes)
    }

    /// Stops the instance unless it is stopping or stopped.
    async fn execute(ctx: &StepCtx<'_>) -> Result<StepResult, StepError> {
        let ec2 = ctx.ec2();
        let id = ctx.instance_id();
        let read = || json!({ "instance_ids": [id] });
        let state = |i: Option<crate::aws::Instance>| {
            i.map(|i| i.state)
                .ok_or_else(|| StepError::Failed(format!("instance {id} no longer exists")))
        };
        let before = state(
            ctx.read(&DESCRIBE_INSTANCES, read(), ec2.describe_instance(id))
                .await?,
        )?;
        if matches!(before.as_str(), "stopping" | "stopped") {
            return Ok(StepResult::new(
                StepStatus::AlreadyDone,
                format!("already {before}"),
            ));
        }
        let applied = ctx
            .mutate(
                &STOP_INSTANCES,
                read(),
                ec2.stop_instance(id, ctx.dry_run()),
            )
            .await?;
        if let Applied::WouldSucceed { .. } = applied {
            return Ok(StepResult::new(
                StepStatus::WouldSucceed,
                "would stop the instance",
            ));
        }
        let after = state(
            ctx.read(&DESCRIBE_INSTANCES, read(), ec2.describe_instance(id))
                .await?,
        )?;
        if !matches!(after.as_str(), "stopping" | "stopped") {
            return Err(StepError::Failed(format!(
                "post-condition failed: the instance is {after} after StopInstances"
            )));
        }
        Ok(StepResult::new(
            StepStatus::Succeeded,
            format!("{before} → {after}"),
        ))
    }
}

/// The `disassociate-elastic-ip` action (no arguments).
pub struct DisassociateElasticIp;

impl NoArgsAction for DisassociateElasticIp {
    const INFO: &'static ActionInfo = &DISASSOCIATE_EIP;

    fn plan(server: &Server) -> (Vec<PlannedCall>, Vec<String>) {
        let id = &server.instance_id;
        let calls = vec![
            PlannedCall::new(&DESCRIBE_ADDRESSES, id, "find its Elastic IPs"),
            PlannedCall::new(&DISASSOCIATE_ADDRESS, "<each association>", "disassociate"),
            PlannedCall::new(&DESCRIBE_ADDRESSES, id, "verify none is associated"),
        ];
        let mut notes = Vec::new();
        if !server.network_interfaces.iter().any(|e| e.elastic_ip) {
            notes.push("no Elastic IP seen at discovery: the step will verify and skip".to_owned());
        }
        (calls, notes)
    }

    /// Disassociates every Elastic IP of the instance.
    async fn execute(ctx: &StepCtx<'_>) -> Result<StepResult, StepError> {
        let ec2 = ctx.ec2();
        let id = ctx.instance_id();
        let filter = || json!({ "filters": { "instance-id": [id] } });
        let addresses = ctx
            .read(
                &DESCRIBE_ADDRESSES,
                filter(),
                ec2.describe_instance_addresses(id),
            )
            .await?;
        let associated: Vec<_> = addresses
            .into_iter()
            .filter_map(|a| Some((a.association_id.clone()?, a)))
            .collect();
        if associated.is_empty() {
            return Ok(StepResult::new(
                StepStatus::AlreadyDone,
                "no Elastic IP is associated",
            ));
        }
        let mut done = Vec::new();
        for (association, address) in &associated {
            // The allocation id goes into the audit record, to re-associate it later by hand.
            let params = json!({
                "association_id": association,
                "public_ip": address.public_ip,
                "allocation_id": address.allocation_id,
                "network_interface_id": address.network_interface_id,
            });
            ctx.mutate(
                &DISASSOCIATE_ADDRESS,
                params,
                ec2.disassociate_address(association, ctx.dry_run()),
            )
            .await?;
            done.push(address.public_ip.clone());
        }
        if ctx.dry_run() {
            return Ok(StepResult::new(
                StepStatus::WouldSucceed,
                format!("would disassociate {}", done.join(", ")),
            ));
        }
        let left = ctx
            .read(
                &DESCRIBE_ADDRESSES,
                filter(),
                ec2.describe_instance_addresses(id),
            )
            .await?;
        if left.iter().any(|a| a.association_id.is_some()) {
            return Err(StepError::Failed(
                "post-condition failed: an Elastic IP is still associated".into(),
            ));
        }
        Ok(StepResult::new(
            StepStatus::Succeeded,
            format!("disassociated {}", done.join(", ")),
        ))
    }
}
