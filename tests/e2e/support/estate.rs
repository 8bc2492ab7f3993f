//! Shared by the containment tests: the whole state isolation changes on an instance, the
//! seeded estate, the breakglass groups of a VPC, and running the CLI for JSON.

use std::collections::BTreeMap;

use breakglass::aws::{
    AutoScalingApi, AwsContext, Ec2Api, Ec2ContainApi, Ec2Filter, Ec2GroupsApi, Elbv2Api,
    InstanceAttribute,
};
use breakglass::sandbox::{Estate, Seeder};
use serde_json::Value;

use super::{Account, REGION};

/// Everything isolation changes on one instance.
#[derive(Debug, Clone, PartialEq)]
pub struct State {
    /// `(eni, group ids)` by device index.
    pub interfaces: Vec<(String, Vec<String>)>,
    pub termination_protected: String,
    pub shutdown_behavior: String,
    /// `(device, delete on termination)`.
    pub volumes: Vec<(String, bool)>,
    /// `(group, lifecycle, protected)`.
    pub auto_scaling: Option<(String, String, bool)>,
    /// `(target group arn, port)` registrations that serve.
    pub registrations: Vec<(String, Option<i32>)>,
    pub tags: BTreeMap<String, String>,
}

impl State {
    /// Without the tags breakglass writes.
    pub fn untagged(&self) -> State {
        let mut state = self.clone();
        state.tags.retain(|k, _| !k.starts_with("breakglass:"));
        state
    }
}

pub async fn state(ctx: &AwsContext, id: &str) -> State {
    let ec2 = ctx.ec2(REGION);
    let instance = ec2.describe_instance(id).await.unwrap().value.unwrap();
    let interfaces = ec2
        .describe_instance_interfaces(id)
        .await
        .unwrap()
        .value
        .into_iter()
        .map(|e| {
            let mut ids: Vec<String> = e.groups.into_iter().map(|g| g.id).collect();
            ids.sort();
            (e.id, ids)
        })
        .collect();
    let attribute = |a| ec2.describe_attribute(id, a);
    let termination_protected = attribute(InstanceAttribute::DisableApiTermination)
        .await
        .unwrap()
        .value;
    let shutdown_behavior = attribute(InstanceAttribute::InstanceInitiatedShutdownBehavior)
        .await
        .unwrap()
        .value;
    let auto_scaling = ctx
        .autoscaling(REGION)
        .describe_membership(id)
        .await
        .unwrap()
        .value
        .map(|m| (m.group_name, m.lifecycle_state, m.protected_from_scale_in));
    let elb = ctx.elbv2(REGION);
    let mut registrations = Vec::new();
    let vpc = instance.vpc_id.clone().unwrap();
    for group in elb.describe_vpc_target_groups(&vpc).await.unwrap().value {
        for target in elb
            .describe_instance_health(&group.arn, id)
            .await
            .unwrap()
            .value
        {
            if target.state != "draining" {
                registrations.push((group.arn.clone(), target.port));
            }
        }
    }
    State {
        interfaces,
        termination_protected,
        shutdown_behavior,
        volumes: instance
            .volumes
            .iter()
            .map(|v| (v.device.clone(), v.delete_on_termination))
            .collect(),
        auto_scaling,
        registrations,
        tags: instance.tags,
    }
}

pub async fn estate(account: &Account) -> Estate {
    Seeder::new(&account.context().await, REGION)
        .xroad_estate()
        .await
        .unwrap()
}

pub fn id(estate: &Estate, name: &str) -> String {
    estate
        .servers
        .iter()
        .find(|(n, _)| n == name)
        .unwrap()
        .1
        .clone()
}

/// The breakglass groups of a VPC, by name.
pub async fn breakglass_groups(
    ctx: &AwsContext,
    vpc: &str,
) -> BTreeMap<String, Vec<breakglass::aws::SecurityGroup>> {
    let filters = [Ec2Filter {
        name: "vpc-id".into(),
        values: vec![vpc.to_owned()],
    }];
    let mut by_name: BTreeMap<String, Vec<_>> = BTreeMap::new();
    for group in ctx
        .ec2(REGION)
        .describe_security_groups(&filters)
        .await
        .unwrap()
        .value
    {
        if group.name.starts_with("breakglass-") {
            by_name.entry(group.name.clone()).or_default().push(group);
        }
    }
    by_name
}

pub fn run_json(account: &Account, args: &[&str]) -> (i32, Value, String) {
    let run = account.bg().args(args).args(["--output", "json"]).run();
    let code = run.code;
    let doc = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{e}\n{}\n{}", run.stdout, run.stderr));
    (code, doc, run.stderr)
}

pub fn step(doc: &Value, target: usize) -> &Value {
    &doc["targets"][target]["steps"][0]
}
