//! `breakglass playbook policy`: the least-privilege IAM policy a playbook needs, derived
//! from the calls its actions declare plus the reads every run makes, each statement
//! narrowed to the resources the config names (docs/iam.md).

mod grants;
mod scope;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

pub use self::scope::{PolicyError, PolicyScope};
use super::actions::{Access, ApiCall, Resource, Service};
use super::exec::DRY_RUN_CALLS;
use super::model::Playbook;

/// Calls every run makes before the playbook's own: discovery of the targets (EC2, SSM
/// agent status, Auto Scaling and load balancer membership). `sts:GetCallerIdentity` is
/// made too but needs no permission.
pub const ENGINE_CALLS: &[ApiCall] = &[
    read(Service::Ec2, "DescribeInstances"),
    read(Service::Ssm, "DescribeInstanceInformation"),
    read(Service::AutoScaling, "DescribeAutoScalingInstances"),
    read(Service::ElasticLoadBalancing, "DescribeTargetGroups"),
    read(Service::ElasticLoadBalancing, "DescribeTargetHealth"),
];

const fn read(service: Service, operation: &'static str) -> ApiCall {
    ApiCall::new(service, operation, Access::Read, Resource::Any)
}

/// The policy document for `playbook`: one statement per kind of resource its calls
/// declare, scoped as `scope` (the config) allows; refused when it cannot be made safe.
pub fn policy(playbook: &Playbook, scope: &PolicyScope) -> Result<Value, PolicyError> {
    let declared = playbook.steps.iter().flat_map(|step| step.info.calls);
    let mut actions: BTreeMap<Resource, BTreeSet<String>> = BTreeMap::new();
    for call in ENGINE_CALLS.iter().chain(declared) {
        actions
            .entry(call.resource)
            .or_default()
            .insert(call.iam_action());
    }
    let mut statements = Vec::new();
    for (resource, actions) in actions {
        let actions: Vec<String> = actions.into_iter().collect();
        for grant in grants::grants(resource, scope)? {
            statements.push(grant.statement(&actions));
        }
    }
    let needs_simulator = playbook.steps.iter().any(|s| {
        s.info
            .calls
            .iter()
            .any(|c| c.access == Access::Write && c.service != Service::Ec2)
    });
    if needs_simulator {
        // Optional: lets `--dry-run` verify changes that have no DryRun flag.
        let actions: BTreeSet<String> = DRY_RUN_CALLS.iter().map(ApiCall::iam_action).collect();
        statements.push(json!({
            "Sid": "BreakglassDryRunChecks",
            "Effect": "Allow",
            "Action": actions,
            "Resource": ["arn:aws:iam::*:role/*", "arn:aws:iam::*:user/*"],
        }));
    }
    Ok(json!({ "Version": "2012-10-17", "Statement": statements }))
}
