//! `breakglass playbook policy`: the least-privilege IAM policy a playbook needs, derived
//! from the calls its actions declare plus the reads every run makes.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::actions::{Access, ApiCall, Resource, Service};
use super::exec::DRY_RUN_CALLS;
use super::model::Playbook;
use crate::inventory::TagFilter;

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

/// The policy document for `playbook`. `scope` (the discovery filters) limits changes to
/// instances carrying those tags, so the role cannot touch other instances.
pub fn policy(playbook: &Playbook, scope: &[TagFilter]) -> Value {
    let mut reads: BTreeSet<String> = ENGINE_CALLS.iter().map(ApiCall::iam_action).collect();
    // Calls that support resource-level permissions, per resource type.
    let mut scoped: BTreeMap<Resource, BTreeSet<String>> = BTreeMap::new();
    for step in &playbook.steps {
        for call in step.info.calls {
            match call.resource {
                Resource::Any => {
                    reads.insert(call.iam_action());
                }
                resource => {
                    scoped
                        .entry(resource)
                        .or_default()
                        .insert(call.iam_action());
                }
            }
        }
    }
    let mut statements = vec![json!({
        "Sid": "BreakglassRead",
        "Effect": "Allow",
        "Action": reads,
        "Resource": "*",
    })];
    for (resource, actions) in scoped {
        let patterns = resource.arn_patterns();
        let mut statement = json!({
            "Sid": format!("Breakglass{}", sid_suffix(resource)),
            "Effect": "Allow",
            "Action": actions,
            "Resource": if patterns.len() == 1 { json!(patterns[0]) } else { json!(patterns) },
        });
        if resource.is_target() && !scope.is_empty() {
            let conditions: serde_json::Map<String, Value> = scope
                .iter()
                .map(|f| (format!("aws:ResourceTag/{}", f.key), json!(f.values)))
                .collect();
            statement["Condition"] = json!({ "StringEquals": conditions });
        }
        if resource == Resource::NewSecurityGroup {
            statement["Condition"] =
                json!({ "StringEquals": { "ec2:CreateAction": "CreateSecurityGroup" } });
        }
        statements.push(statement);
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
    json!({ "Version": "2012-10-17", "Statement": statements })
}

fn sid_suffix(resource: Resource) -> &'static str {
    match resource {
        Resource::Any => "Any",
        Resource::Instance => "ChangeInstances",
        Resource::SecurityGroup => "ChangeSecurityGroups",
        Resource::VpcAndSecurityGroup => "CreateSecurityGroups",
        Resource::NewSecurityGroup => "TagNewSecurityGroups",
        Resource::NetworkInterfaceAndSecurityGroup => "ChangeNetworkInterfaces",
        Resource::AutoScalingGroup => "ChangeAutoScalingGroups",
        Resource::TargetGroup => "ChangeTargetGroups",
        Resource::ClassicLoadBalancer => "ChangeClassicLoadBalancers",
        Resource::NetworkAcl => "SubnetDeny",
        Resource::IsolationParameter => "IsolationRecords",
        Resource::ElasticIp => "DisassociateAddresses",
        Resource::SnapshotSource => "CreateSnapshots",
        Resource::Snapshot => "ChangeSnapshots",
        Resource::Role => "InstanceRoles",
        Resource::InstanceProfile => "InstanceProfiles",
        Resource::Session => "TerminateSessions",
        Resource::KmsKey => "ForensicKeys",
        Resource::RunShellScript => "RunCommand",
        Resource::EvidenceObject => "EvidenceObjects",
        Resource::ToolObject => "AcquisitionTools",
    }
}
