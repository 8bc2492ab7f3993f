//! What `isolate` and `release` read about a target before they change anything: one
//! consistent picture, every read recorded, no fact read twice.

use serde_json::json;

use super::calls::*;
use crate::aws::{
    AsgMembership, AutoScalingApi, ClassicElbApi, Ec2ContainApi, Elbv2Api, Instance,
    InstanceAttribute, NetworkInterface, Target, TargetGroupInfo,
};
use crate::playbook::exec::{StepCtx, StepError};

/// The target as it is now.
#[derive(Debug, Clone)]
pub struct Facts {
    pub instance: Instance,
    pub termination_protected: bool,
    pub shutdown_behavior: String,
    pub membership: Option<AsgMembership>,
    /// Every target group of the VPC the instance is registered in, with its registrations.
    pub registrations: Vec<(TargetGroupInfo, Vec<Target>)>,
    /// The Classic Load Balancers the instance is registered with.
    pub classic: Vec<String>,
}

impl Facts {
    pub fn vpc_id(&self) -> Result<&str, StepError> {
        self.instance.vpc_id.as_deref().ok_or_else(|| {
            StepError::Failed(format!("instance {} is not in a VPC", self.instance.id))
        })
    }

    /// Every interface and its groups, by device index, as `DescribeInstances` reports
    /// them (no `DescribeNetworkInterfaces` needed).
    pub fn interfaces(&self) -> &[NetworkInterface] {
        &self.instance.network_interfaces
    }

    pub fn state_tag(&self) -> Option<&str> {
        self.instance
            .tags
            .get(crate::inventory::STATE_TAG)
            .map(String::as_str)
    }
}

/// Reads the instance (with its interfaces and their groups), its protection attributes,
/// Auto Scaling membership and target-group registrations.
pub async fn read(ctx: &StepCtx<'_>) -> Result<Facts, StepError> {
    let mut facts = read_instance(ctx).await?;
    facts.membership = read_membership(ctx).await?;
    if let Some(vpc) = facts.instance.vpc_id.clone() {
        facts.registrations = read_registrations(ctx, &vpc).await?;
    }
    facts.classic = read_classic(ctx).await?;
    Ok(facts)
}

/// Reads the target again after a step changed it, for verification: everything `read`
/// reads, except that only the Auto Scaling group and target groups it was in are asked
/// about (a step never adds it to one).
pub async fn read_back(ctx: &StepCtx<'_>, before: &Facts) -> Result<Facts, StepError> {
    let mut facts = read_instance(ctx).await?;
    if before.membership.is_some() {
        facts.membership = read_membership(ctx).await?;
    }
    // Collected first: a `map` iterator held across the awaits in `read_health` trips a
    // compiler limitation (its closure's lifetimes) when `Action::execute` proves the
    // step's future `Send`.
    let groups: Vec<TargetGroupInfo> = before
        .registrations
        .iter()
        .map(|(group, _)| group.clone())
        .collect();
    facts.registrations = read_health(ctx, groups).await?;
    if !before.classic.is_empty() {
        facts.classic = read_classic(ctx).await?;
    }
    Ok(facts)
}

/// The instance, its termination protection and its shutdown behaviour (membership and
/// registrations not read yet).
async fn read_instance(ctx: &StepCtx<'_>) -> Result<Facts, StepError> {
    let ec2 = ctx.ec2();
    let id = ctx.instance_id();
    let instance = crate::playbook::actions::tag::read_target(ctx).await?;
    let attribute = |name: &'static str, attribute| {
        ctx.read(
            &DESCRIBE_INSTANCE_ATTRIBUTE,
            json!({ "instance_id": id, "attribute": name }),
            ec2.describe_attribute(id, attribute),
        )
    };
    let termination_protected = attribute(
        "disableApiTermination",
        InstanceAttribute::DisableApiTermination,
    )
    .await?
        == "true";
    let shutdown_behavior = attribute(
        "instanceInitiatedShutdownBehavior",
        InstanceAttribute::InstanceInitiatedShutdownBehavior,
    )
    .await?;
    Ok(Facts {
        instance,
        termination_protected,
        shutdown_behavior,
        membership: None,
        registrations: Vec::new(),
        classic: Vec::new(),
    })
}

pub async fn read_membership(ctx: &StepCtx<'_>) -> Result<Option<AsgMembership>, StepError> {
    let id = ctx.instance_id();
    ctx.read(
        &DESCRIBE_AUTO_SCALING_INSTANCES,
        json!({ "instance_ids": [id] }),
        ctx.autoscaling().describe_membership(id),
    )
    .await
}

/// The Classic Load Balancers the instance is registered with.
pub async fn read_classic(ctx: &StepCtx<'_>) -> Result<Vec<String>, StepError> {
    let id = ctx.instance_id();
    ctx.read(
        &DESCRIBE_LOAD_BALANCERS,
        json!({ "instance_id": id }),
        ctx.elb_classic().load_balancers_of(id),
    )
    .await
}

/// The target groups of `vpc` the instance is registered in (any port, any state).
pub async fn read_registrations(
    ctx: &StepCtx<'_>,
    vpc: &str,
) -> Result<Vec<(TargetGroupInfo, Vec<Target>)>, StepError> {
    let groups = ctx
        .read(
            &DESCRIBE_TARGET_GROUPS,
            json!({ "vpc_id": vpc }),
            ctx.elbv2().describe_vpc_target_groups(vpc),
        )
        .await?;
    read_health(ctx, groups).await
}

/// The instance's registrations in each of `groups` (those it is in).
async fn read_health(
    ctx: &StepCtx<'_>,
    groups: impl IntoIterator<Item = TargetGroupInfo>,
) -> Result<Vec<(TargetGroupInfo, Vec<Target>)>, StepError> {
    let elb = ctx.elbv2();
    let id = ctx.instance_id();
    let mut registrations = Vec::new();
    for group in groups {
        let targets = ctx
            .read(
                &DESCRIBE_TARGET_HEALTH,
                json!({ "target_group_arn": group.arn }),
                elb.describe_instance_health(&group.arn, id),
            )
            .await?;
        if !targets.is_empty() {
            registrations.push((group, targets));
        }
    }
    Ok(registrations)
}
