//! The escalation that cuts every flow without stopping the instance: `deny-subnet` moves
//! each subnet of the target to a new network ACL with no entries (EC2 then denies every
//! packet in and out; network ACLs are stateless, so tracked connections end too), and
//! `lift-subnet-deny` gives the subnet its original ACL back and deletes the new one. A
//! network ACL rule matches only the remote address, so it cannot single out one instance
//! of its subnet: every other instance there is cut as well — the blast radius, listed
//! before anything changes. The new ACL's tags hold the original ACL and the instances that
//! asked for the deny; it is lifted when the last of them is released (`release` lifts it
//! too).

use std::collections::BTreeMap;

use serde_json::json;

use super::contain::ROLE_TAG;
use super::{Access, ActionInfo, ApiCall, NoArgsAction, Resource, Service};
use crate::aws::{Ec2AclApi, Ec2Api, Ec2Filter, NetworkInterface, SubnetAcl};
use crate::inventory::{INCIDENT_TAG, RUN_TAG, Server};
use crate::playbook::exec::{StepCtx, StepError, StepResult, StepStatus};
use crate::playbook::plan::PlannedCall;

/// `breakglass:role` of the ACLs breakglass creates.
pub const ROLE: &str = "subnet-deny";
/// Tag naming the ACL the subnet had before.
pub const ORIGINAL_TAG: &str = "breakglass:original-acl";
/// Tag listing the instances (space-separated) whose isolation needs the deny.
pub const INSTANCES_TAG: &str = "breakglass:instances";

const DESCRIBE_INSTANCES: ApiCall = super::tag::DESCRIBE_INSTANCES;
pub(crate) const DESCRIBE_NETWORK_ACLS: ApiCall = ApiCall::new(
    Service::Ec2,
    "DescribeNetworkAcls",
    Access::Read,
    Resource::Any,
);
const CREATE_NETWORK_ACL: ApiCall = ApiCall::new(
    Service::Ec2,
    "CreateNetworkAcl",
    Access::Write,
    Resource::NetworkAcl,
);
pub(crate) const REPLACE_ASSOCIATION: ApiCall = ApiCall::new(
    Service::Ec2,
    "ReplaceNetworkAclAssociation",
    Access::Write,
    Resource::NetworkAcl,
);
pub(crate) const DELETE_NETWORK_ACL: ApiCall = ApiCall::new(
    Service::Ec2,
    "DeleteNetworkAcl",
    Access::Write,
    Resource::NetworkAcl,
);
pub(crate) const TAG_NETWORK_ACL: ApiCall = ApiCall::new(
    Service::Ec2,
    "CreateTags",
    Access::Write,
    Resource::NetworkAcl,
);

pub static DENY: ActionInfo = ActionInfo {
    name: "deny-subnet",
    summary: "Deny every packet in and out of the target's subnets with a new network ACL: \
              ends tracked connections too, and cuts every other instance in those subnets",
    calls: &[
        DESCRIBE_INSTANCES,
        DESCRIBE_NETWORK_ACLS,
        CREATE_NETWORK_ACL,
        REPLACE_ASSOCIATION,
        TAG_NETWORK_ACL,
    ],
    confirm_by_default: true,
    needs: &[],
    cuts: &[super::Capability::SsmAgent],
};

pub static LIFT: ActionInfo = ActionInfo {
    name: "lift-subnet-deny",
    summary: "Give the target's subnets their original network ACL back and delete the \
              deny-everything one (once no other isolated instance needs it)",
    calls: &[
        DESCRIBE_INSTANCES,
        DESCRIBE_NETWORK_ACLS,
        REPLACE_ASSOCIATION,
        DELETE_NETWORK_ACL,
        TAG_NETWORK_ACL,
    ],
    confirm_by_default: true,
    needs: &[],
    cuts: &[],
};

/// The distinct subnets of some interfaces (and the instance's own subnet, when given).
fn distinct_subnets(interfaces: &[NetworkInterface], own: Option<&String>) -> Vec<String> {
    let mut subnets: Vec<String> = interfaces
        .iter()
        .filter_map(|e| e.subnet_id.clone())
        .chain(own.cloned())
        .collect();
    subnets.sort();
    subnets.dedup();
    subnets
}

/// The subnets of the server's interfaces, as discovery saw them.
fn planned_subnets(server: &Server) -> Vec<String> {
    distinct_subnets(&server.network_interfaces, None)
}

/// The subnets of an instance's interfaces.
pub(crate) fn subnet_ids(instance: &crate::aws::Instance) -> Vec<String> {
    distinct_subnets(&instance.network_interfaces, instance.subnet_id.as_ref())
}

/// The instance's VPC and the subnets of its interfaces, read now.
async fn subnets(ctx: &StepCtx<'_>) -> Result<(String, Vec<String>), StepError> {
    let id = ctx.instance_id();
    let instance = super::tag::read_target(ctx).await?;
    let subnets = subnet_ids(&instance);
    let vpc = instance
        .vpc_id
        .ok_or_else(|| StepError::Failed(format!("instance {id} is not in a VPC")))?;
    Ok((vpc, subnets))
}

async fn subnet_acl(ctx: &StepCtx<'_>, subnet: &str) -> Result<SubnetAcl, StepError> {
    ctx.read(
        &DESCRIBE_NETWORK_ACLS,
        json!({ "filters": { "association.subnet-id": [subnet] } }),
        ctx.ec2().subnet_acl(subnet),
    )
    .await?
    .ok_or_else(|| StepError::Failed(format!("subnet {subnet} has no network ACL association")))
}

fn is_ours(acl: &SubnetAcl) -> bool {
    acl.tags.get(ROLE_TAG).map(String::as_str) == Some(ROLE)
}

fn listed(acl: &SubnetAcl) -> Vec<String> {
    acl.tags
        .get(INSTANCES_TAG)
        .map(|v| {
            v.split_whitespace()
                .filter(|id| crate::ids::is_instance_id(id))
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// Rewrites the list of instances that need the deny.
async fn set_listed(ctx: &StepCtx<'_>, acl: &str, ids: &[String]) -> Result<(), StepError> {
    let tags = BTreeMap::from([(INSTANCES_TAG.to_owned(), ids.join(" "))]);
    ctx.mutate(
        &TAG_NETWORK_ACL,
        json!({ "resources": [acl], "tags": tags }),
        ctx.ec2().create_tags(acl, &tags, ctx.dry_run()),
    )
    .await?;
    Ok(())
}

/// Every other instance in `subnet`: the blast radius.
async fn neighbours(ctx: &StepCtx<'_>, subnet: &str) -> Result<Vec<String>, StepError> {
    let filters = [Ec2Filter {
        name: "subnet-id".into(),
        values: vec![subnet.to_owned()],
    }];
    let found = ctx
        .read(
            &DESCRIBE_INSTANCES,
            json!({ "filters": { "subnet-id": [subnet] } }),
            ctx.ec2().find_instances(&filters),
        )
        .await?;
    Ok(found
        .into_iter()
        .filter(|i| i.id != ctx.instance_id() && i.state != "terminated")
        .map(|i| match i.tags.get("Name") {
            Some(name) => format!("{} ({})", i.id, crate::text::printable(name)),
            None => i.id,
        })
        .collect())
}

/// The `deny-subnet` action (no arguments).
pub struct DenySubnet;

impl NoArgsAction for DenySubnet {
    const INFO: &'static ActionInfo = &DENY;

    fn plan(server: &Server) -> (Vec<PlannedCall>, Vec<String>) {
        let id = &server.instance_id;
        let subnets = planned_subnets(server);
        let mut calls = vec![PlannedCall::new(
            &DESCRIBE_INSTANCES,
            id,
            "read its subnets",
        )];
        for subnet in &subnets {
            calls.extend([
                PlannedCall::new(
                    &DESCRIBE_NETWORK_ACLS,
                    subnet,
                    "find the subnet's network ACL",
                ),
                PlannedCall::new(
                    &DESCRIBE_INSTANCES,
                    subnet,
                    "list every other instance in it: the blast radius",
                ),
                PlannedCall::new(
                    &CREATE_NETWORK_ACL,
                    subnet,
                    "a network ACL with no entries: denies every packet both ways",
                ),
                PlannedCall::new(&REPLACE_ASSOCIATION, subnet, "the subnet uses it"),
            ]);
        }
        let notes = vec![format!(
            "warning: blast radius: every instance in {} loses every connection that enters or \
             leaves the subnet (a network ACL cannot single out one instance); the step lists \
             them before it changes anything",
            if subnets.is_empty() {
                "its subnets".to_owned()
            } else {
                subnets.join(", ")
            }
        )];
        (calls, notes)
    }

    async fn execute(ctx: &StepCtx<'_>) -> Result<StepResult, StepError> {
        let id = ctx.instance_id().to_owned();
        let (vpc, subnets) = subnets(ctx).await?;
        let mut done = Vec::new();
        let mut kept = Vec::new();
        for subnet in &subnets {
            let acl = subnet_acl(ctx, subnet).await?;
            if is_ours(&acl) && acl.entries > 0 {
                return Err(StepError::Failed(format!(
                    "network ACL {} of {subnet} is tagged as breakglass's deny but has {} \
                     entries of its own, so it may allow traffic: someone changed it. Check it \
                     (`aws ec2 describe-network-acls --network-acl-ids {}`), remove its \
                     `{ROLE_TAG}` tag, then run again",
                    acl.acl_id, acl.entries, acl.acl_id
                )));
            }
            if is_ours(&acl) {
                let mut ids = listed(&acl);
                if ids.contains(&id) {
                    kept.push(format!("{subnet} denied ({})", acl.acl_id));
                } else {
                    ids.push(id.clone());
                    set_listed(ctx, &acl.acl_id, &ids).await?;
                    done.push(format!(
                        "{subnet} already denied ({}); this instance added",
                        acl.acl_id
                    ));
                }
                continue;
            }
            let others = neighbours(ctx, subnet).await?;
            ctx.note(
                "warning",
                if others.is_empty() {
                    format!("blast radius of denying {subnet}: no other instance is in it")
                } else {
                    format!(
                        "blast radius of denying {subnet}: {} other instance(s) lose every \
                         connection in or out of the subnet: {}",
                        others.len(),
                        others.join(", ")
                    )
                },
            )?;
            let mut tags = BTreeMap::from([
                (ROLE_TAG.to_owned(), ROLE.to_owned()),
                (ORIGINAL_TAG.to_owned(), acl.acl_id.clone()),
                ("breakglass:subnet".to_owned(), subnet.clone()),
                (INSTANCES_TAG.to_owned(), id.clone()),
                (RUN_TAG.to_owned(), ctx.run_id().to_owned()),
                ("Name".to_owned(), format!("breakglass-deny-{subnet}")),
            ]);
            if let Some(incident) = ctx.incident() {
                tags.insert(INCIDENT_TAG.to_owned(), incident.to_owned());
            }
            let params = json!({ "vpc_id": vpc, "tags": tags, "original_acl": acl.acl_id });
            let created = ctx
                .mutate(
                    &CREATE_NETWORK_ACL,
                    params,
                    ctx.ec2().create_acl(&vpc, &tags, ctx.dry_run()),
                )
                .await?;
            // A dry run has no new ACL: the association change is checked with the
            // current one, which proves the permission on the subnet's association.
            let new = created.id.clone().unwrap_or_else(|| acl.acl_id.clone());
            let params = json!({
                "association_id": acl.association_id,
                "network_acl_id": new,
                "subnet_id": subnet,
                "original_acl": acl.acl_id,
            });
            ctx.mutate(
                &REPLACE_ASSOCIATION,
                params,
                ctx.ec2()
                    .replace_association(&acl.association_id, &new, ctx.dry_run()),
            )
            .await?;
            done.push(format!(
                "{subnet}: network ACL {} → {new} (denies everything)",
                acl.acl_id
            ));
        }
        finish(ctx, &subnets, done, kept, true).await
    }
}

/// The `lift-subnet-deny` action (no arguments).
pub struct LiftSubnetDeny;

impl NoArgsAction for LiftSubnetDeny {
    const INFO: &'static ActionInfo = &LIFT;

    fn plan(server: &Server) -> (Vec<PlannedCall>, Vec<String>) {
        let id = &server.instance_id;
        let mut calls = vec![PlannedCall::new(
            &DESCRIBE_INSTANCES,
            id,
            "read its subnets",
        )];
        calls.extend(lift_plan(server));
        (calls, Vec::new())
    }

    async fn execute(ctx: &StepCtx<'_>) -> Result<StepResult, StepError> {
        let (_, subnets) = subnets(ctx).await?;
        let (done, mut kept) = lift(ctx, &subnets).await?;
        if kept.is_empty() {
            kept = subnets.iter().map(|s| format!("{s} not denied")).collect();
        }
        finish(ctx, &subnets, done, kept, false).await
    }
}

/// The calls of [`lift`] for the server's subnets, as discovery saw them.
pub(crate) fn lift_plan(server: &Server) -> Vec<PlannedCall> {
    planned_subnets(server)
        .iter()
        .flat_map(|subnet| {
            [
                PlannedCall::new(
                    &DESCRIBE_NETWORK_ACLS,
                    subnet,
                    "find the subnet's network ACL",
                ),
                PlannedCall::new(
                    &REPLACE_ASSOCIATION,
                    subnet,
                    "if breakglass denied it (deny-subnet) and no other isolated instance \
                     needs it: the original ACL again",
                ),
                PlannedCall::new(&DELETE_NETWORK_ACL, subnet, "delete the deny ACL"),
            ]
        })
        .collect()
}

/// Takes the target off the deny of each of `subnets` breakglass denied; a subnet nobody
/// else needs denied gets its original ACL back and the deny ACL is deleted. Returns what
/// changed and, of the denied subnets, what was already so (subnets breakglass did not deny
/// are in neither). Also the last part of `release`.
pub(crate) async fn lift(
    ctx: &StepCtx<'_>,
    subnets: &[String],
) -> Result<(Vec<String>, Vec<String>), StepError> {
    let id = ctx.instance_id().to_owned();
    let mut done = Vec::new();
    let mut kept = Vec::new();
    for subnet in subnets {
        let acl = subnet_acl(ctx, subnet).await?;
        if !is_ours(&acl) {
            continue;
        }
        let listed = listed(&acl);
        if !listed.contains(&id) {
            kept.push(format!("{subnet} denied for others, not for this instance"));
            continue;
        }
        let others: Vec<String> = listed.into_iter().filter(|i| *i != id).collect();
        if !others.is_empty() {
            set_listed(ctx, &acl.acl_id, &others).await?;
            done.push(format!(
                "{subnet} stays denied for {}; this instance taken off",
                others.join(", ")
            ));
            continue;
        }
        let original = acl.tags.get(ORIGINAL_TAG).cloned();
        let Some(original) = original.filter(|id| crate::ids::is_network_acl_id(id)) else {
            return Err(StepError::Failed(format!(
                "network ACL {} of {subnet} names no original ACL (tag {ORIGINAL_TAG} is \
                 missing or not an ACL id); associate the subnet with its ACL by hand, from the \
                 `ReplaceNetworkAclAssociation` of deny-subnet in the audit log",
                acl.acl_id
            )));
        };
        let params = json!({
            "association_id": acl.association_id,
            "network_acl_id": original,
            "subnet_id": subnet,
        });
        ctx.mutate(
            &REPLACE_ASSOCIATION,
            params,
            ctx.ec2()
                .replace_association(&acl.association_id, &original, ctx.dry_run()),
        )
        .await?;
        ctx.mutate(
            &DELETE_NETWORK_ACL,
            json!({ "network_acl_id": acl.acl_id }),
            ctx.ec2().delete_acl(&acl.acl_id, ctx.dry_run()),
        )
        .await?;
        if !ctx.dry_run() {
            let now = subnet_acl(ctx, subnet).await?;
            if now.acl_id != original {
                return Err(StepError::Failed(format!(
                    "post-condition failed: {subnet} uses network ACL {}, not {original}",
                    now.acl_id
                )));
            }
        }
        done.push(format!(
            "{subnet}: network ACL {} → {original} again; {} deleted",
            acl.acl_id, acl.acl_id
        ));
    }
    Ok((done, kept))
}

/// Verifies each subnet's ACL and folds the step's result.
async fn finish(
    ctx: &StepCtx<'_>,
    subnets: &[String],
    done: Vec<String>,
    kept: Vec<String>,
    denied: bool,
) -> Result<StepResult, StepError> {
    if done.is_empty() {
        return Ok(StepResult::new(StepStatus::AlreadyDone, kept.join("; ")));
    }
    if ctx.dry_run() {
        return Ok(StepResult::new(
            StepStatus::WouldSucceed,
            format!("would: {}", done.join("; ")),
        ));
    }
    let id = ctx.instance_id().to_owned();
    for subnet in subnets {
        let acl = subnet_acl(ctx, subnet).await?;
        let wrong = if denied {
            !(is_ours(&acl) && listed(&acl).contains(&id))
        } else {
            is_ours(&acl) && listed(&acl).contains(&id)
        };
        if wrong {
            return Err(StepError::Failed(format!(
                "post-condition failed: {subnet} uses network ACL {}",
                acl.acl_id
            )));
        }
    }
    Ok(StepResult::new(StepStatus::Succeeded, done.join("; ")))
}
